"""Value encoding (no server needed)."""

import datetime
import decimal
import fractions
import hashlib
import hmac
import math
import pickle

import pytest

from kasi.codec import Codec
from kasi import errors

ROUND_TRIP = [
    "", "hello", "5", "-12", "0", "007", "-0", "+5", " 5", "5.0", "1e3",
    "9223372036854775807", "9223372036854775808", "2H₂ + O₂ ⇌ 2H₂O, R = 4.7 kΩ",
    "ก ข ฃ ค ฅ ฆ ง จ ฉ ช ซ ฌ ญ ฎ ฏ ", "\x00nul", "\ud800 lone surrogate", "🙂",
    b"", b"abc", b"5", b"\xff\xfe\x00", b"\xc1", b"\xc1b", b"\xc1p\x80",
    0, 1, -1, 5, 2 ** 63 - 1, -(2 ** 63), 2 ** 63, -(2 ** 63) - 1, 10 ** 40,
    0.0, -0.0, 1.5, 0.1, 1e300, -2.5e-300, float("inf"), float("-inf"),
    True, False, None,
    ["a", "d"], ("t", 1), {"k": [1, 2.0, None]}, {1, 2}, frozenset({3}),
    datetime.datetime(2024, 1, 2, 3, 4, 5), decimal.Decimal("1.10"),
    fractions.Fraction(1, 3), bytearray(b"xy"), 3 + 4j,
]


@pytest.mark.parametrize("value", ROUND_TRIP, ids=repr)
@pytest.mark.parametrize("secret", [None, b"k3y"])
def test_round_trip_keeps_value_and_type(value, secret):
    c = Codec(secret)
    out = c.decode(c.encode(value))
    assert type(out) is type(value)
    assert out == value or (isinstance(value, float) and math.isnan(value))
    if isinstance(value, float):
        assert math.copysign(1, out) == math.copysign(1, value)


def test_nan_round_trip():
    out = Codec().decode(Codec().encode(float("nan")))
    assert type(out) is float and math.isnan(out)


def test_plain_formats():
    c = Codec()
    assert c.encode("hello") == b"hello"
    assert c.encode("kΩ") == "kΩ".encode("utf-8")
    assert c.encode(5) == b"5"
    assert c.encode(-42) == b"-42"
    assert c.encode(b"\xff\x00") == b"\xff\x00"          # not UTF-8: raw
    assert c.encode(b"abc") == b"\xc1babc"                # UTF-8: marked
    assert c.encode(b"\xc1zz") == b"\xc1b\xc1zz"          # starts with marker
    assert c.encode("5") == b"\xc1s5"                     # looks like an int
    assert c.encode("05") == b"05"
    assert c.encode(2 ** 63) == b"\xc1i9223372036854775808"
    assert c.encode(1.5) == b"\xc1f1.5"
    assert c.encode(True) == b"\xc1T"
    assert c.encode(False) == b"\xc1F"
    assert c.encode(None) == b"\xc1N"
    assert c.encode([1]).startswith(b"\xc1p")


def test_foreign_values():
    c = Codec()
    assert c.decode(b"hello") == "hello"
    assert c.decode("é".encode()) == "é"
    assert c.decode(b"\xff\xd8\xff") == b"\xff\xd8\xff"
    assert c.decode(b"42") == 42
    assert c.decode(b"-0") == "-0"
    assert c.decode(b"042") == "042"
    assert c.decode(b"9223372036854775808") == "9223372036854775808"
    assert c.decode(b"\xc1") == b"\xc1"
    assert c.decode(b"\xc1Zpayload") == b"\xc1Zpayload"  # unknown type code
    assert c.decode(None) is None


def test_marker_never_starts_valid_utf8():
    with pytest.raises(UnicodeDecodeError):
        b"\xc1\x80".decode("utf-8")
    for cp in range(0, 0x110000, 97):
        if 0xD800 <= cp < 0xE000:
            continue
        assert not chr(cp).encode("utf-8").startswith(b"\xc1")


def test_corrupt_typed_values():
    c = Codec()
    for bad in (b"\xc1fxyz", b"\xc1iabc", b"\xc1Tjunk", b"\xc1s\xff", b"\xc1pnot a pickle"):
        with pytest.raises(errors.KasiDecodeError):
            c.decode(bad)


def test_signed_pickle_layout_and_verification():
    secret = b"s3cret"
    c = Codec(secret)
    data = c.encode(["a", "d"])
    assert data[:2] == b"\xc1h"
    body = pickle.dumps(["a", "d"], protocol=5)
    assert data[2:34] == hmac.new(secret, body, hashlib.sha256).digest()
    assert data[34:] == body
    assert c.decode(data) == ["a", "d"]


def test_tampered_signed_pickle_refused():
    c = Codec(b"s3cret")
    data = bytearray(c.encode({"x": 1}))
    data[-3] ^= 1
    with pytest.raises(errors.SignatureError):
        c.decode(bytes(data))
    with pytest.raises(errors.SignatureError):
        Codec(b"other").decode(c.encode({"x": 1}))
    with pytest.raises(errors.SignatureError):
        c.decode(b"\xc1h" + b"short")


def test_unsigned_pickle_refused_with_secret():
    unsigned = Codec().encode(["a"])
    with pytest.raises(errors.UnsafePickleError):
        Codec(b"s3cret").decode(unsigned)
    assert Codec(b"s3cret", allow_unsigned_pickle=True).decode(unsigned) == ["a"]


def test_signed_value_without_secret():
    with pytest.raises(errors.SignatureError):
        Codec().decode(Codec(b"k").encode(["a"]))


def test_no_pickle_at_all():
    c = Codec(allow_unsigned_pickle=False)
    with pytest.raises(errors.UnsafePickleError):
        c.encode(["a"])
    with pytest.raises(errors.UnsafePickleError):
        c.decode(Codec().encode(["a"]))
    assert c.decode(c.encode("still fine")) == "still fine"


def test_secret_types():
    assert Codec("text-secret").secret == b"text-secret"
    with pytest.raises(ValueError):
        Codec(b"")
    with pytest.raises(TypeError):
        Codec(123)
