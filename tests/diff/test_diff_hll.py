"""Differential test for the HyperLogLog commands (Redis 7.0 semantics): the
scripts of diff_scripts_hll.py; sets of 10, 1k, 100k and 1M elements added
with pipelined PFADDs of many elements, their PFCOUNTs, unions and GET bytes;
then a seeded random stream of PF commands mixed with GET, SET, SETRANGE,
APPEND and DEL on a few keys (SETRANGE and APPEND corrupt HLLs at random
places, CONFIG SET moves hll-sparse-max-bytes), every reply compared byte for
byte with redis-server's, and the values of every key compared at the end.

Env: KASI_HLL_FUZZ_STEPS (default 1500 per seed),
     KASI_HLL_FUZZ_SEEDS (default 31,32,33),
     KASI_HLL_BIG (default 1000000: the largest set).
"""
import os
import random
import time

import pytest

import kasi_harness as H
from diff_scripts_hll import SCRIPTS, HDR_SPARSE, HDR_DENSE
from test_diff import run_script, run_stream

FUZZ_STEPS = int(os.environ.get("KASI_HLL_FUZZ_STEPS", "1500"))
FUZZ_SEEDS = [int(s) for s in os.environ.get("KASI_HLL_FUZZ_SEEDS", "31,32,33").split(",") if s.strip()]
BIG = int(os.environ.get("KASI_HLL_BIG", "1000000"))


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_hll(pair, name, proto):
    ref, sut = pair
    assert run_script(name, SCRIPTS[name], ref, sut, timeout=10 * H.TIME_FACTOR, proto=proto) > 0
    assert sut.alive(), "server under test died during script %r" % name
    with sut.raw(timeout=5) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def _pipeline(conn, cmds, timeout):
    """Send every command, then read every reply (raw bytes)."""
    conn.send(b"".join(H.encode_command(*c) for c in cmds))
    conn.settimeout(timeout)
    return [conn.read_raw() for _ in cmds]


def _add_set(conn, key, prefix, n, per_call=2000, depth=20):
    cmds = [["PFADD", key] + ["%s%d" % (prefix, i) for i in range(s, min(n, s + per_call))]
            for s in range(0, n, per_call)]
    out = []
    for i in range(0, len(cmds), depth):
        out += _pipeline(conn, cmds[i:i + depth], 30 * H.TIME_FACTOR)
    return out


def test_hll_big_sets_count_as_redis(pair):
    """PFCOUNT of sets of 10 to 1M elements equals Redis's exactly, and so do
    the bytes of the HLLs, the union counts and PFMERGE's result."""
    ref, sut = pair
    sizes = [s for s in (10, 1000, 100000, BIG) if s <= BIG]
    t0 = time.time()
    with ref.raw(timeout=30) as a, sut.raw(timeout=30) as b:
        for c in (a, b):
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for n in sizes:
            key = "set%d" % n
            ra, rb = _add_set(a, key, "el:", n), _add_set(b, key, "el:", n)
            assert ra == rb, "PFADD replies differ for %s" % key
            for cmd in (["GET", key], ["PFCOUNT", key], ["GET", key], ["PFDEBUG", "ENCODING", key]):
                xa, xb = a.cmd_raw(*cmd), b.cmd_raw(*cmd)
                assert xa == xb, "%r\n  redis: %r\n  kasi:  %r" % (cmd, xa[:200], xb[:200])
        # disjoint and overlapping sets for the unions
        for c in (a, b):
            _add_set(c, "other", "el:", 5000)
            _add_set(c, "other", "zz:", 20000)
        keys = ["set%d" % n for n in sizes]
        for cmd in (["PFCOUNT"] + keys, ["PFCOUNT", "other"] + keys + ["missing"],
                    ["PFCOUNT", "set10", "other"], ["PFMERGE", "m"] + keys + ["other"], ["GET", "m"],
                    ["PFCOUNT", "m"], ["PFMERGE", "m2", "set10", "set1000"], ["GET", "m2"],
                    ["PFCOUNT", "m2"]):
            xa, xb = a.cmd_raw(*cmd), b.cmd_raw(*cmd)
            assert xa == xb, "%r\n  redis: %r\n  kasi:  %r" % (cmd, xa[:200], xb[:200])
    assert time.time() - t0 < 120 * H.TIME_FACTOR
    assert sut.alive()


KEYS = ["a", "b", "c", "d"]
LIMITS = ["0", "30", "100", "300", "3000"]


class HllGen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def key(self):
        return self.r.choice(KEYS + ["l", "s"] if self.r.random() < 0.05 else KEYS)

    def elements(self):
        r = self.r
        n = r.choice([0, 1, 1, 1, 2, 3, 5, 8]) if r.random() < 0.9 else r.randrange(50, 400)
        return [str(r.randrange(20000 if r.random() < 0.8 else 200)) for _ in range(n)]

    def value(self):
        r = self.r
        x = r.random()
        if x < 0.3:
            return HDR_SPARSE + b"\x7f\xff"
        if x < 0.45:
            return HDR_DENSE + bytes(r.randrange(64) if r.random() < 0.01 else 0 for _ in range(12288))
        if x < 0.75:   # random opcodes, often not adding up to 16384
            return HDR_SPARSE + bytes(r.randrange(256) for _ in range(r.randrange(0, 30))) + b"\x7f\xc0"
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 20)))

    def command(self):
        r = self.r
        x = r.random()
        k = self.key()
        if x < 0.35:
            return ["PFADD", k] + self.elements()
        if x < 0.45:
            return ["PFCOUNT", k]
        if x < 0.52:
            return ["PFCOUNT"] + [self.key() for _ in range(r.randrange(2, 4))]
        if x < 0.59:
            return ["PFMERGE", k] + [self.key() for _ in range(r.randrange(0, 3))]
        if x < 0.66:
            return ["GET", k]
        if x < 0.70:
            return ["SET", k, self.value()]
        if x < 0.77:   # damage a byte of the header or the first opcodes
            return ["SETRANGE", k, str(r.randrange(0, 40)), bytes([r.randrange(256)])]
        if x < 0.79:
            return ["APPEND", k, bytes(r.randrange(256) for _ in range(r.randrange(1, 4)))]
        if x < 0.85:
            return ["PFDEBUG", r.choice(["ENCODING", "DECODE", "TODENSE", "GETREG"]), k]
        if x < 0.87:
            return ["CONFIG", "SET", "hll-sparse-max-bytes", r.choice(LIMITS)]
        if x < 0.90:
            return ["STRLEN", k]
        return ["DEL", k] if r.random() < 0.5 else ["PFADD", k]


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_hll_random_stream(pair, seed):
    ref, sut = pair
    gen = HllGen(seed)
    try:
        run_stream(ref, sut, seed, FUZZ_STEPS, gen.command, [["RPUSH", "l", "x"], ["SET", "s", "plain"]],
                   KEYS + ["s"])
    finally:
        for srv in (ref, sut):
            with srv.raw() as c:
                c.cmd_raw("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    assert sut.alive()
