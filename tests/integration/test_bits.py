"""Bitmaps kept across restarts: SETBIT, BITFIELD and BITOP writes (new keys,
keys that grow, keys with a TTL, a BITOP that deletes its destination, writes
in another domain) come back byte for byte through a snapshot, through the AOF
under appendfsync always after a clean stop and after kill -9, and through an
AOF rewrite. Replies are compared with Redis's in tests/diff/test_diff_bits.py."""
import random

import pytest

from test_persistence import RESTARTS, TF, across_restart

pytestmark = pytest.mark.kasi_only

KEYS = [b"b%d" % i for i in range(8)]


def load(c, rng):
    """Bitmap writes of every kind; returns the keys written, per domain."""
    assert c.cmd("SETBIT", "fresh", 7, 1) == 0                 # a new key
    assert c.cmd("SET", "grow", "abc", "EX", 100000) == b"OK"
    assert c.cmd("SETBIT", "grow", 100000, 1) == 0             # grows, keeps its TTL
    assert c.cmd("SETBIT", "grow", 3, 1) == 0                  # a splice in place
    assert c.cmd("BITFIELD", "bf", "SET", "u8", 0, 200, "INCRBY", "i16", "#3", -7,
                 "OVERFLOW", "SAT", "INCRBY", "u4", 2, 100) == [0, -7, 15]
    assert c.cmd("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u2", 400, 9) == [None]   # grows only
    assert c.cmd("SET", "src", b"\x0f\xf0\xaa") == b"OK"
    assert c.cmd("SET", "dst", "old", "EX", 100000) == b"OK"
    assert c.cmd("BITOP", "NOT", "dst", "src") == 3           # no TTL left
    assert c.cmd("SET", "gone", "x") == b"OK"
    assert c.cmd("BITOP", "AND", "gone", "nokey") == 0        # deletes it
    for _ in range(400):                                       # a random mix
        k = rng.choice(KEYS)
        x = rng.random()
        if x < 0.4:
            c.cmd("SETBIT", k, rng.randrange(0, 5000), rng.randrange(2))
        elif x < 0.7:
            c.cmd("BITFIELD", k, "OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"]),
                  "INCRBY", rng.choice(["u5", "i7", "i64", "u63"]), rng.randrange(0, 3000),
                  rng.randint(-1000, 1000), "SET", "u8", "#%d" % rng.randrange(0, 200), rng.randrange(256))
        elif x < 0.85:
            c.cmd("BITOP", rng.choice(["AND", "OR", "XOR"]), k, rng.choice(KEYS), rng.choice(KEYS))
        elif x < 0.9:
            c.cmd("BITOP", "NOT", k, rng.choice(KEYS))
        else:
            c.cmd("APPEND", k, rng.randbytes(rng.randrange(1, 9)))
    assert c.cmd("SELECT", "bits") == b"OK"
    assert c.cmd("SETBIT", "other", 9, 1) == 0
    assert c.cmd("SELECT", "0") == b"OK"


def state(c):
    """Every key's value and whether it has a TTL, in both domains."""
    out = {}
    for db in ("0", "bits"):
        assert c.cmd("SELECT", db) == b"OK"
        for k in sorted(c.cmd("KEYS", "*")):
            out[(db, k)] = (c.cmd("GET", k), c.cmd("TTL", k) > 0)
    assert c.cmd("SELECT", "0") == b"OK"
    return out


def after_rewrite(c):
    c.cmd("SETBIT", "after", 12, 1)                    # lands in the new incremental file
    c.cmd("BITFIELD", "grow", "SET", "u16", 8, 4242)


@pytest.mark.parametrize("how", RESTARTS)
def test_bitmaps_survive_restart(server_factory, tmp_path, how):
    want, got = across_restart(server_factory, tmp_path / "data", how, lambda c: load(c, random.Random(7)),
                               state, after_rewrite)
    assert want[("0", b"fresh")] == (b"\x01", False)
    assert want[("0", b"dst")] == (b"\xf0\x0f\x55", False)
    assert ("0", b"gone") not in want
    assert len(want[("0", b"grow")][0]) == 100000 // 8 + 1 and want[("0", b"grow")][1]
    assert len(want[("0", b"bf")][0]) == 51
    assert want[("bits", b"other")] == (b"\x00\x40", False)
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k


def test_bitfield_past_512mb_is_refused_before_allocating(server_factory):
    """Redis lets a BITFIELD write reach 8 bytes past 512 MB; Kasi's strings
    stop at 512 MB, so such a write is refused and changes nothing."""
    s = server_factory([])
    err = b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    with s.raw(timeout=30 * TF) as c:
        assert c.cmd_raw("BITFIELD", "k", "SET", "u8", 4294967295, 1) == err
        assert c.cmd("EXISTS", "k") == 0
        assert c.cmd("SET", "k", "abc") == b"OK"
        assert c.cmd_raw("BITFIELD", "k", "GET", "u8", 0, "INCRBY", "i64", 4294967233, 1) == err
        assert c.cmd("GET", "k") == b"abc"
        assert c.cmd("BITFIELD", "k", "GET", "i64", "#67108863") == [0]   # reads past the end are zeros
        assert c.cmd("BITFIELD_RO", "k", "GET", "u8", 4294967295) == [0]
