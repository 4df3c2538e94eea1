"""Geo keys kept across restarts: GEOADD (with NX, XX and CH, on new keys, on
a key with a TTL, on a set big enough to be a skiplist), GEOSEARCHSTORE and
GEORADIUS[BYMEMBER] STORE/STOREDIST (including a destination that was the
source, and an empty result that deletes its destination), writes in another
domain, come back with the same members and scores (ZRANGE WITHSCORES, GEOPOS
and a search) through a snapshot, through the AOF under appendfsync always
after a clean stop and after kill -9, and through an AOF rewrite. Replies are
compared with Redis's in tests/diff/test_diff_geo.py."""
import random

import pytest

from test_persistence import RESTARTS, restart_trial

pytestmark = pytest.mark.kasi_only

KEYS = [b"g%d" % i for i in range(4)]


def point(rng):
    return "%.6f" % rng.uniform(12, 16), "%.6f" % rng.uniform(36, 39)


def load(c, rng):
    """Geo writes of every kind."""
    assert c.cmd("GEOADD", "sicily", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania") == 2
    assert c.cmd("GEOADD", "sicily", "CH", 13.5, 38.1, "Palermo", 12.43, 37.8, "Marsala") == 2
    assert c.cmd("GEOADD", "sicily", "NX", 1, 1, "Palermo") == 0
    assert c.cmd("GEOADD", "sicily", "XX", 2, 2, "Nowhere") == 0
    assert c.cmd("GEOADD", "ttl", 1, 1, "a") == 1
    assert c.cmd("EXPIRE", "ttl", 100000) == 1
    assert c.cmd("GEOADD", "ttl", 2, 2, "b") == 1              # keeps its TTL
    big = ["GEOADD", "big"]
    for i in range(500):
        big += list(point(rng)) + ["p%d" % i]
    assert c.cmd(*big) == 500
    assert c.cmd("GEOSEARCHSTORE", "near", "big", "FROMLONLAT", 14, 37.5, "BYRADIUS", 60, "km") > 0
    assert c.cmd("GEOSEARCHSTORE", "dist", "big", "FROMMEMBER", "p1", "BYBOX", 90, 90, "km",
                 "STOREDIST", "COUNT", 20) == 20
    assert c.cmd("GEORADIUS", "big", 14, 37.5, 30, "km", "STORE", "r1") > 0
    assert c.cmd("GEORADIUSBYMEMBER", "big", "p2", 40, "km", "STOREDIST", "r2", "DESC", "COUNT", 5) == 5
    assert c.cmd("SET", "gone", "x") == b"OK"
    assert c.cmd("GEOSEARCHSTORE", "gone", "big", "FROMLONLAT", -100, 0, "BYRADIUS", 1, "km") == 0
    assert c.cmd("GEOADD", "self", 14, 37.5, "a", 14.001, 37.5, "b", 15, 38, "c") == 3
    assert c.cmd("GEOSEARCHSTORE", "self", "self", "FROMMEMBER", "a", "BYRADIUS", 1, "km", "STOREDIST") == 2
    for _ in range(300):                                        # a random mix
        k = rng.choice(KEYS)
        x = rng.random()
        if x < 0.5:
            c.cmd("GEOADD", k, *(list(point(rng)) + ["m%d" % rng.randrange(40)]))
        elif x < 0.6:
            c.cmd("ZREM", k, "m%d" % rng.randrange(40))
        elif x < 0.8:
            lon, lat = point(rng)
            c.cmd("GEOSEARCHSTORE", rng.choice(KEYS), k, "FROMLONLAT", lon, lat, "BYRADIUS",
                  rng.choice([5, 50, 500]), "km", *(["STOREDIST"] if rng.random() < 0.5 else []))
        else:
            lon, lat = point(rng)
            c.cmd("GEORADIUS", k, lon, lat, rng.choice([10, 100]), "km",
                  rng.choice(["STORE", "STOREDIST"]), rng.choice(KEYS))
    assert c.cmd("SELECT", "geo") == b"OK"
    assert c.cmd("GEOADD", "other", 0, 0, "origin") == 1
    assert c.cmd("SELECT", "0") == b"OK"


def state(c):
    """Every key's members and scores, positions and TTL, in both domains."""
    out = {}
    for db in ("0", "geo"):
        assert c.cmd("SELECT", db) == b"OK"
        for k in sorted(c.cmd("KEYS", "*")):
            if c.cmd("TYPE", k) != b"zset":
                out[(db, k)] = c.cmd("GET", k)
                continue
            members = c.cmd("ZRANGE", k, 0, -1)
            out[(db, k)] = (c.cmd_raw("ZRANGE", k, 0, -1, "WITHSCORES"), c.cmd_raw("GEOPOS", k, *members),
                            c.cmd("OBJECT", "ENCODING", k), c.cmd("TTL", k) > 0)
    assert c.cmd("SELECT", "0") == b"OK"
    out["search"] = c.cmd_raw("GEOSEARCH", "big", "FROMLONLAT", 14, 37.5, "BYRADIUS", 50, "km", "WITHDIST")
    return out


def after_rewrite(c):
    assert c.cmd("GEOADD", "after", 3, 3, "x") == 1
    assert c.cmd("GEORADIUS", "big", 14, 37.5, 20, "km", "STOREDIST", "after2") > 0


@pytest.mark.parametrize("how", RESTARTS)
def test_geo_keys_survive_restart(server_factory, tmp_path, how):
    want, got, _ = restart_trial(server_factory, tmp_path / "data", how, lambda c: load(c, random.Random(9)),
                                 state, after_rewrite)
    assert want[("0", b"sicily")][0] == (b"*6\r\n$7\r\nMarsala\r\n$16\r\n3478920873320366\r\n"
                                         b"$7\r\nPalermo\r\n$16\r\n3479100566894653\r\n"
                                         b"$7\r\nCatania\r\n$16\r\n3479447370796909\r\n")
    assert want[("0", b"big")][2] == b"skiplist"
    assert want[("0", b"ttl")][3]
    assert ("0", b"gone") not in want
    assert want[("0", b"self")][0].startswith(b"*4\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\nb\r\n")
    assert want[("geo", b"other")][0] == b"*2\r\n$6\r\norigin\r\n$16\r\n3377699720527872\r\n"
    if how == "rewrite":
        assert ("0", b"after2") in want
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k
