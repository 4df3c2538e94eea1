"""Differential test for the geo commands (Redis 7.0 semantics): the scripts
of diff_scripts_geo.py, then a seeded random stream of geo commands (GEOADD
with its options, GEOPOS, GEOHASH, GEODIST, GEOSEARCH[STORE] and GEORADIUS
[BYMEMBER][_RO] with random centres, shapes, units, orders, counts and
WITH* options) mixed with ZADD (scores in and out of the geohash range),
ZREM and ZRANGE WITHSCORES on a few keys (one of them big enough to be a
skiplist), every reply compared byte for byte with redis-server's, unsorted
search results included, and every key compared at the end.

Some points coincide, and ZADD puts members at the same corner, so distances
tie: the order of ties (the order found; with COUNT, what Redis's partial
quicksort leaves) is compared too.

Env: KASI_GEO_FUZZ_STEPS (default 3000 per seed),
     KASI_GEO_FUZZ_SEEDS (default 31,32,33,34).
"""
import math
import os
import random

import pytest

from diff_scripts_geo import SCRIPTS
from test_diff import Mismatch, run_script

FUZZ_STEPS = int(os.environ.get("KASI_GEO_FUZZ_STEPS", "3000"))
FUZZ_SEEDS = [int(s) for s in os.environ.get("KASI_GEO_FUZZ_SEEDS", "31,32,33,34").split(",") if s.strip()]

LAT_MAX = 85.05112878


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_geo(pair, name, proto):
    ref, sut = pair
    assert run_script(name, SCRIPTS[name], ref, sut, proto=proto) > 0
    assert sut.alive(), "server under test died during script %r" % name
    with sut.raw(timeout=5) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


KEYS = ["g1", "g2", "big"]
UNITS = ["m", "km", "ft", "mi", "KM", "M"]
# where points cluster: Sicily, near both latitude limits, the antimeridian,
# the equator and Greenwich
CENTRES = [(15.0, 37.5), (0.0, 0.0), (179.9, 10.0), (-179.9, -10.0), (20.0, 84.9), (-60.0, -84.9),
           (100.0, 70.0), (-0.001, 51.5)]


class GeoGen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.members = ["m%d" % i for i in range(60)]

    def key(self):
        x = self.r.random()
        if x < 0.03:
            return "s"          # a string: WRONGTYPE
        if x < 0.06:
            return "nokey"
        return self.r.choice(KEYS)

    def point(self):
        r = self.r
        x = r.random()
        if x < 0.7:
            cx, cy = r.choice(CENTRES)
            spread = 10 ** r.uniform(-4, 1)
            lon = cx + r.uniform(-spread, spread)
            lat = cy + r.uniform(-spread, spread)
            lon = max(-180.0, min(180.0, lon))
            lat = max(-LAT_MAX, min(LAT_MAX, lat))
            return lon, lat
        if x < 0.95:
            return r.uniform(-180, 180), r.uniform(-LAT_MAX, LAT_MAX)
        if x < 0.97:   # on the limits
            return r.choice([(180.0, r.uniform(-80, 80)), (-180.0, r.uniform(-80, 80)),
                             (r.uniform(-180, 180), LAT_MAX), (r.uniform(-180, 180), -LAT_MAX)])
        # points that coincide (ties in distance)
        return r.choice([(180.0, 0.5), (-180.0, -0.5), (15.0, 37.5), (180.0, LAT_MAX), (-180.0, -LAT_MAX)])

    def coord_args(self):
        r = self.r
        if r.random() < 0.03:
            return r.choice([["181", "0"], ["0", "85.06"], ["x", "1"], ["1", "nan"], ["-180.0001", "0"],
                             ["inf", "0"], ["0", "-85.052"]])
        lon, lat = self.point()
        return [repr(lon), repr(lat)]

    def member(self):
        if self.r.random() < 0.05:
            return "nosuch"
        return self.r.choice(self.members)

    def size(self):
        r = self.r
        x = r.random()
        if x < 0.02:
            return r.choice(["-1", "x", "0", "nan"])
        return "%.6g" % (10 ** r.uniform(-1, 7.2))   # 0.1 m .. ~16,000 km

    def unit(self):
        if self.r.random() < 0.02:
            return "yd"
        return self.r.choice(UNITS)

    def options(self, store_ok, with_ok=True):
        r = self.r
        out = []
        if with_ok:
            for w in ("WITHDIST", "WITHHASH", "WITHCOORD"):
                if r.random() < 0.3:
                    out.append(w)
        x = r.random()
        if x < 0.25:
            out.append("ASC")
        elif x < 0.45:
            out.append("DESC")
        x = r.random()
        if x < 0.35:
            out += ["COUNT", str(r.choice([1, 2, 3, 5, 10, 50]) if r.random() < 0.97 else r.choice([0, -1, "z"]))]
            if r.random() < 0.4:
                out.append("ANY")
        elif x < 0.37:
            out.append("ANY")
        r.shuffle(out)
        return out

    def shape_args(self):
        r = self.r
        if r.random() < 0.6:
            return ["BYRADIUS", self.size(), self.unit()]
        return ["BYBOX", self.size(), self.size(), self.unit()]

    def from_args(self):
        if self.r.random() < 0.4:
            return ["FROMMEMBER", self.member()]
        return ["FROMLONLAT"] + self.coord_args()

    def command(self):
        r = self.r
        x = r.random()
        k = self.key()
        if x < 0.2:
            args = ["GEOADD", k]
            o = r.random()
            if o < 0.1:
                args.append("NX")
            elif o < 0.2:
                args.append("XX")
            if r.random() < 0.2:
                args.append("CH")
            for _ in range(r.randrange(1, 5)):
                args += self.coord_args() + [self.member()]
            return args
        if x < 0.25:
            s = r.random()
            if s < 0.7:
                score = str(r.randrange(0, 2 ** 52))
            elif s < 0.8:
                score = repr(r.uniform(0, 2 ** 52))
            else:
                score = r.choice(["-1", "-5e20", "4503599627370496", "1e30", "9.3e18", "1.9e19", "0", "inf",
                                  "-inf", "123.75"])
            return ["ZADD", k, score, self.member()]
        if x < 0.28:
            return ["ZREM", k, self.member(), self.member()]
        if x < 0.31:
            return ["ZRANGE", k, "0", "-1", "WITHSCORES"]
        if x < 0.35:
            return ["GEOPOS", k] + [self.member() for _ in range(r.randrange(0, 4))]
        if x < 0.39:
            return ["GEOHASH", k] + [self.member() for _ in range(r.randrange(0, 4))]
        if x < 0.44:
            args = ["GEODIST", k, self.member(), self.member()]
            if r.random() < 0.6:
                args.append(self.unit())
            return args
        if x < 0.68:
            cmd = "GEOSEARCH" if r.random() < 0.8 else "GEOSEARCHSTORE"
            args = [cmd] + (["dst"] if cmd == "GEOSEARCHSTORE" else []) + [k]
            parts = [self.from_args(), self.shape_args(), self.options(False, cmd == "GEOSEARCH")]
            if cmd == "GEOSEARCHSTORE" and r.random() < 0.5:
                parts.append(["STOREDIST"])
            if r.random() < 0.1:
                r.shuffle(parts)
            for p in parts:
                args += p
            return args
        if x < 0.84:
            ro = r.random() < 0.3
            cmd = "GEORADIUS_RO" if ro else "GEORADIUS"
            args = [cmd, k] + self.coord_args() + [self.size(), self.unit()]
        elif x < 0.94:
            ro = r.random() < 0.3
            cmd = "GEORADIUSBYMEMBER_RO" if ro else "GEORADIUSBYMEMBER"
            args = [cmd, k, self.member(), self.size(), self.unit()]
        else:
            return ["ZRANGE", "dst", "0", "-1", "WITHSCORES"]
        store = not ro and r.random() < 0.3
        args += self.options(False, not store)
        if store:
            args += [r.choice(["STORE", "STOREDIST"]), "dst"]
        return args


def big_fill(gen):
    args = ["GEOADD", "big"]
    for i in range(300):
        lon, lat = gen.point()
        args += [repr(lon), repr(lat), "b%d" % i]
    return args


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_geo_random_stream(pair, seed):
    ref, sut = pair
    gen = GeoGen(seed)
    with ref.raw(timeout=10) as a, sut.raw(timeout=10) as b:
        fill = big_fill(gen)
        gen.members += ["b%d" % i for i in range(0, 300, 7)]
        for c in (a, b):
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
            assert c.cmd_raw("SET", "s", "x") == b"+OK\r\n"
            assert c.cmd_raw(*fill) == b":300\r\n"
        for step in range(FUZZ_STEPS):
            argv = gen.command()
            ra, rb = a.cmd_raw(*argv), b.cmd_raw(*argv)
            if ra != rb:
                raise Mismatch("seed %d step %d: %r\n  redis: %r\n  kasi:  %r" % (seed, step, argv, ra, rb))
        for k in KEYS + ["dst"]:
            ra, rb = a.cmd_raw("ZRANGE", k, "0", "-1", "WITHSCORES"), b.cmd_raw("ZRANGE", k, "0", "-1", "WITHSCORES")
            assert ra == rb, "seed %d: final value of %s\n  redis: %r\n  kasi:  %r" % (seed, k, ra, rb)
        ra, rb = a.cmd_raw("OBJECT", "ENCODING", "big"), b.cmd_raw("OBJECT", "ENCODING", "big")
        assert ra == rb == b"$8\r\nskiplist\r\n", (ra, rb)
    assert sut.alive()


def test_geo_dense_searches(pair):
    """5,000 points in a square degree, searched around random centres with
    radii and boxes from 50 m to 200 km: the cells a search skips inside
    each box must never hold a point Redis finds, nor change their order."""
    ref, sut = pair
    r = random.Random(71)
    fill = ["GEOADD", "dense"]
    for i in range(5000):
        fill += [repr(r.uniform(14.5, 15.5)), repr(r.uniform(36.5, 37.5)), "d%d" % i]
    with ref.raw(timeout=10) as a, sut.raw(timeout=10) as b:
        for c in (a, b):
            assert c.cmd_raw("DEL", "dense") in (b":0\r\n", b":1\r\n")
            assert c.cmd_raw(*fill) == b":5000\r\n"
        for step in range(400):
            lon, lat = r.uniform(14.3, 15.7), r.uniform(36.3, 37.7)
            size = "%.4g" % (10 ** r.uniform(-1.3, 2.3))
            if r.random() < 0.6:
                shape = ["BYRADIUS", size, "km"]
            else:
                shape = ["BYBOX", size, "%.4g" % (float(size) * r.uniform(0.2, 5)), "km"]
            opts = [r.choice(["WITHDIST", "WITHCOORD", "WITHHASH"])]
            x = r.random()
            if x < 0.3:
                opts += ["COUNT", str(r.choice([1, 5, 30]))] + (["ANY"] if r.random() < 0.5 else [])
            elif x < 0.5:
                opts.append(r.choice(["ASC", "DESC"]))
            argv = ["GEOSEARCH", "dense", "FROMLONLAT", repr(lon), repr(lat)] + shape + opts
            ra, rb = a.cmd_raw(*argv), b.cmd_raw(*argv)
            if ra != rb:
                raise Mismatch("step %d: %r\n  redis: %r\n  kasi:  %r" % (step, argv, ra[:400], rb[:400]))
