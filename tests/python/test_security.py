"""Pickle safety through a real server: unsigned pickles are never read by
default, HMAC-signed pickles are verified, and the common value types need
no pickle at all."""

import collections
import datetime
import decimal
import fractions
import pickle
import uuid

import pytest
import redis

from kasi import errors


class Evil:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pwned')",))


class WritesMarker:
    """Unpickling this creates a file: the stand-in for an attacker's code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class Opaque:
    """A plain class: only pickle can store it."""

    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return type(other) is Opaque and other.x == self.x


SIGNED = collections.OrderedDict(list=[1, 2])  # a dict subclass: needs pickle


@pytest.fixture
def raw(shared_server):
    r = redis.Redis(host="127.0.0.1", port=shared_server.port)
    yield r
    r.close()


def test_default_client_never_unpickles(make_client, raw, tmp_path):
    """Anyone who can write a key must not be able to run code in a reader."""
    marker = tmp_path / "pwned"
    raw.set("evil", b"\xc1p" + pickle.dumps(WritesMarker(marker)))
    c = make_client()
    with pytest.raises(errors.UnsafePickleError) as ei:
        c.get("evil")
    msg = str(ei.value)
    assert "secret=" in msg and "allow_unsigned_pickle=True" in msg
    with pytest.raises(errors.UnsafePickleError):
        c.get_many(["evil"])
    with pytest.raises(errors.UnsafePickleError):
        make_client(secret=b"k1").get("evil")
    assert not marker.exists()
    # the payload is live: only an explicit opt-in runs it
    make_client(allow_unsigned_pickle=True).get("evil").close()
    assert marker.exists()


def test_default_client_refuses_code_execution_pickle(make_client, raw):
    raw.set("evil", b"\xc1p" + pickle.dumps(Evil()))
    with pytest.raises(errors.UnsafePickleError):
        make_client().get("evil")  # would raise SystemExit if unpickled


def test_seed_demo_values_need_no_pickle(make_client, raw):
    """The seed README's values round-trip with no secret, and the list is
    stored in the safe format, not as a pickle."""
    c = make_client()
    c.reset()
    values = {"list": ["a", "d"], "text": "hello",
              "unicode1": "2H₂ + O₂ ⇌ 2H₂O, R = 4.7 kΩ, ⌀ 200 mm",
              "unicode2": "ก ข ฃ ค ฅ ฆ ง จ ฉ ช ซ ฌ ญ ฎ ฏ "}
    for k, v in values.items():
        c.set(k, v, datetime.timedelta(hours=1))
    c.set("D1", "test1", domain="X")
    assert raw.get("list") == b"\xc1vl\x02s\x01as\x01d"
    assert raw.get("text") == b"hello"
    fresh = make_client()
    for k, v in values.items():
        assert fresh.get(k) == v and type(fresh.get(k)) is type(v)
    assert fresh.get("D1", domain="X") == "test1"
    assert fresh.get_many(list(values)) == values


SAFE_VALUES = [
    ["a", "d"], ("t", 1), {"k": [1, (2.0, None), {frozenset({1}), b"x"}]},
    {1, 2}, frozenset({3}), bytearray(b"xy"), 3 + 4j, fractions.Fraction(1, 3),
    decimal.Decimal("1.10"), decimal.Decimal("sNaN"),
    datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(
        datetime.timedelta(hours=-3, seconds=30))),
    datetime.date(2024, 2, 29), datetime.time(1, 2, fold=1), datetime.timedelta(days=-2),
    uuid.UUID(int=12345), {uuid.UUID(int=1): decimal.Decimal("-0")},
]


@pytest.mark.parametrize("value", SAFE_VALUES, ids=lambda v: repr(v)[:40])
@pytest.mark.parametrize("secret", [None, b"k1"])
def test_safe_values_round_trip_without_pickle(make_client, raw, value, secret):
    c = make_client(secret=secret)
    c.set("safe", value)
    stored = raw.get("safe")
    assert stored.startswith(b"\xc1v")
    for reader in (make_client(), make_client(secret=b"other")):
        out = reader.get("safe")
        assert type(out) is type(value)
        assert repr(out) == repr(value)


def test_default_client_cannot_store_pickle_only_values(make_client):
    c = make_client()
    c.delete("obj")
    with pytest.raises(errors.UnsafePickleError) as ei:
        c.set("obj", Opaque(1))
    assert "uuid.UUID" in str(ei.value) and "secret" in str(ei.value)
    assert not c.exists("obj")  # nothing was written
    with pytest.raises(errors.UnsafePickleError):
        c.set_many({"a": 1, "obj": [Opaque(1)]})
    with pytest.raises(errors.UnsafePickleError):
        c.add("obj", SIGNED)


def test_opt_in_unsigned_pickle(make_client, raw):
    c = make_client(allow_unsigned_pickle=True)
    c.set("obj", Opaque(5))
    assert raw.get("obj").startswith(b"\xc1p")
    assert make_client(allow_unsigned_pickle=True).get("obj") == Opaque(5)
    with pytest.raises(errors.UnsafePickleError):
        make_client().get("obj")


def test_migrate_old_unsigned_list(make_client, raw):
    """A list stored as an unsigned pickle by an older client: readable with
    the opt-in, and writing it back stores it in the safe format."""
    raw.set("old", b"\xc1p" + pickle.dumps(["a", "d"], protocol=5))
    with pytest.raises(errors.UnsafePickleError):
        make_client().get("old")
    legacy = make_client(allow_unsigned_pickle=True)
    legacy.set("old", legacy.get("old"))
    assert raw.get("old").startswith(b"\xc1v")
    assert make_client().get("old") == ["a", "d"]


def test_signed_round_trip(make_client, raw):
    a = make_client(secret=b"k1")
    a.reset()
    a.set("obj", SIGNED)
    assert raw.get("obj")[:2] == b"\xc1h"
    out = make_client(secret=b"k1").get("obj")
    assert out == SIGNED and type(out) is collections.OrderedDict


def test_tampered_value_rejected(make_client, raw):
    c = make_client(secret=b"k1")
    c.set("obj", SIGNED)
    data = bytearray(raw.get("obj"))
    assert data[:2] == b"\xc1h"
    data[-2] ^= 0x01
    raw.set("obj", bytes(data))
    with pytest.raises(errors.SignatureError):
        c.get("obj")


def test_forged_unsigned_pickle_rejected(make_client, raw):
    c = make_client(secret=b"k1")
    raw.set("evil", b"\xc1p" + pickle.dumps(Evil()))
    with pytest.raises(errors.UnsafePickleError):
        c.get("evil")
    with pytest.raises(errors.KasiSecurityError):
        c.get_many(["evil"])


def test_forged_signature_rejected(make_client, raw):
    c = make_client(secret=b"k1")
    raw.set("evil", b"\xc1h" + b"\x00" * 32 + pickle.dumps(Evil()))
    with pytest.raises(errors.SignatureError):
        c.get("evil")


def test_wrong_secret_rejected(make_client):
    make_client(secret=b"k1").set("obj", Opaque([1]))
    with pytest.raises(errors.SignatureError):
        make_client(secret=b"k2").get("obj")
    with pytest.raises(errors.SignatureError):
        make_client().get("obj")  # no secret: cannot verify, refuses


def test_hostile_structured_value_is_a_decode_error(make_client, raw):
    c = make_client()
    for bad in (b"\xc1vl" + b"\xff" * 8 + b"\x7f", b"\xc1v" + b"l\x01" * 5000 + b"N",
                b"\xc1vd\x01l\x00N", b"\xc1vD\x07\xe8\x02\x1e"):
        raw.set("bad", bad)
        with pytest.raises(errors.KasiDecodeError):
            c.get("bad")


def test_plain_types_need_no_pickle(make_client):
    c = make_client(allow_unsigned_pickle=False)
    for v in ("s", b"b", 1, 2.5, True, None, [1], {"a": (1,)}):
        c.set("v", v)
        assert c.get("v") == v
    with pytest.raises(errors.UnsafePickleError):
        c.set("v", Opaque(1))
