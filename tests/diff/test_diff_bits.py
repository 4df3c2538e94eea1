"""Differential test for the bitmap commands (Redis 7.0 semantics): the scripts
of diff_scripts_bits.py, then a seeded random stream of bitmap commands mixed
with GET, SET, SETRANGE, APPEND, STRLEN and DEL on a few keys (and a list, for
WRONGTYPE), every reply compared byte for byte with redis-server's, and the
values of every key compared at the end.

Env: KASI_BITS_FUZZ_STEPS (default 2000 per seed),
     KASI_BITS_FUZZ_SEEDS (default 21,22,23).
"""
import os
import random

import pytest

import kasi_harness as H
from diff_scripts_bits import SCRIPTS
from test_diff import run_script, run_stream

FUZZ_STEPS = int(os.environ.get("KASI_BITS_FUZZ_STEPS", "2000"))
FUZZ_SEEDS = [int(s) for s in os.environ.get("KASI_BITS_FUZZ_SEEDS", "21,22,23").split(",") if s.strip()]


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_bits(pair, name, proto):
    ref, sut = pair
    # a 512 MB value takes seconds to write under a sanitizer on a busy machine
    timeout = 60 * H.TIME_FACTOR if "512mb" in name else 10
    assert run_script(name, SCRIPTS[name], ref, sut, timeout=timeout, proto=proto) > 0
    assert sut.alive(), "server under test died during script %r" % name
    with sut.raw(timeout=5) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


KEYS = ["a", "b", "c", "d"]
TYPES = ["u1", "u3", "u8", "u16", "u63", "i1", "i5", "i8", "i32", "i64", "u64", "i65", "x8"]


class BitsGen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def key(self):
        return self.r.choice(KEYS + ["l"] if self.r.random() < 0.05 else KEYS)

    def bit_offset(self):
        x = self.r.random()
        if x < 0.03:
            return self.r.choice(["-1", "x", "4294967296", ""])
        return str(self.r.randrange(0, 300 if x < 0.9 else 2000))

    def index(self):
        x = self.r.random()
        if x < 0.02:
            return "z"
        return str(self.r.randint(-40, 40) if x < 0.8 else self.r.randint(-400, 400))

    def field_offset(self, t):
        if self.r.random() < 0.3:
            return "#%d" % self.r.randrange(0, 40)
        return self.bit_offset()

    def number(self):
        x = self.r.random()
        if x < 0.02:
            return "v"
        if x < 0.15:
            return str(self.r.choice([2 ** 63 - 1, -2 ** 63, 2 ** 62, -(2 ** 31), 255, 256, -129]))
        return str(self.r.randint(-300, 300))

    def value(self):
        n = self.r.randrange(0, 12)
        return bytes(self.r.randrange(256) for _ in range(n))

    def bitfield_ops(self, ro):
        out = []
        for _ in range(self.r.randrange(0, 5)):
            x = self.r.random()
            t = self.r.choice(TYPES[:10]) if self.r.random() < 0.95 else self.r.choice(TYPES)
            if x < 0.15:
                out += ["OVERFLOW", self.r.choice(["WRAP", "SAT", "FAIL", "wrap", "sat", "fail", "bad"])]
            elif x < 0.5 or (ro and x < 0.97):
                out += ["GET", t, self.field_offset(t)]
            elif x < 0.75:
                out += ["SET", t, self.field_offset(t), self.number()]
            else:
                out += ["INCRBY", t, self.field_offset(t), self.number()]
        return out

    def command(self):
        r = self.r
        x = r.random()
        k = self.key()
        if x < 0.18:
            return ["SETBIT", k, self.bit_offset(), r.choice(["0", "1", "1", "0", "2"] if r.random() < 0.1 else "01")]
        if x < 0.26:
            return ["GETBIT", k, self.bit_offset()]
        if x < 0.36:
            args = ["BITCOUNT", k]
            if r.random() < 0.7:
                args += [self.index(), self.index()]
                if r.random() < 0.6:
                    args.append(r.choice(["BIT", "BYTE", "bit"]))
            return args
        if x < 0.46:
            args = ["BITPOS", k, r.choice(["0", "1", "1", "0", "0", "1", "2"])]
            n = r.randrange(0, 4)
            if n >= 1:
                args.append(self.index())
            if n >= 2:
                args.append(self.index())
            if n >= 3:
                args.append(r.choice(["BIT", "BYTE", "bit", "byte"]))
            return args
        if x < 0.54:
            op = r.choice(["AND", "OR", "XOR", "NOT"])
            n = 1 if op == "NOT" and r.random() < 0.95 else r.randrange(1, 4)
            return ["BITOP", op, k] + [self.key() for _ in range(n)]
        if x < 0.68:
            return ["BITFIELD", k] + self.bitfield_ops(False)
        if x < 0.72:
            return ["BITFIELD_RO", k] + self.bitfield_ops(True)
        if x < 0.78:
            return ["GET", k]
        if x < 0.83:
            return ["SET", k, self.value()]
        if x < 0.88:
            return ["SETRANGE", k, str(r.randrange(0, 40)), self.value()]
        if x < 0.93:
            return ["APPEND", k, self.value()]
        if x < 0.97:
            return ["STRLEN", k]
        return ["DEL", k]


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_bits_random_stream(pair, seed):
    ref, sut = pair
    gen = BitsGen(seed)
    run_stream(ref, sut, seed, FUZZ_STEPS, gen.command, [["RPUSH", "l", "x"]], KEYS + ["l"])
    assert sut.alive()
