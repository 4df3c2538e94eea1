"""HMAC-signed pickles through a real server."""

import pickle

import pytest
import redis

from kasi import errors


class Evil:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pwned')",))


@pytest.fixture
def raw(shared_server):
    r = redis.Redis(host="127.0.0.1", port=shared_server.port)
    yield r
    r.close()


def test_signed_round_trip(make_client):
    a = make_client(secret=b"k1")
    a.reset()
    a.set("obj", {"list": [1, 2]})
    assert make_client(secret=b"k1").get("obj") == {"list": [1, 2]}


def test_tampered_value_rejected(make_client, raw):
    c = make_client(secret=b"k1")
    c.set("obj", ["a", "d"])
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
    make_client(secret=b"k1").set("obj", [1])
    with pytest.raises(errors.SignatureError):
        make_client(secret=b"k2").get("obj")
    with pytest.raises(errors.SignatureError):
        make_client().get("obj")  # no secret: cannot verify, refuses


def test_plain_types_need_no_pickle(make_client):
    c = make_client(allow_unsigned_pickle=False)
    for v in ("s", b"b", 1, 2.5, True, None):
        c.set("v", v)
        assert c.get("v") == v
    with pytest.raises(errors.UnsafePickleError):
        c.set("v", [1])
