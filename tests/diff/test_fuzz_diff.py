"""Seeded random differential test: random (but deterministic) command
streams over a tiny key space go to redis-server 7.0 and to Kasi; the raw
reply bytes must be identical.  On the first mismatch the seed, the step and
the preceding commands are reported so it can be replayed.

Only commands whose replies are deterministic are generated:
  - expiry is set with absolute times (EXPIREAT/PEXPIREAT/SET EXAT/PXAT,
    GETEX EXAT) far in the future, and read back with EXPIRETIME/PEXPIRETIME
    (exact); relative TTL reads are not generated (clock-dependent);
  - no RANDOMKEY/SCAN/KEYS (ordering is implementation specific);
  - SELECT / MOVE / COPY DB use 0, 1, 2 only (valid in both servers).
Env: KASI_FUZZ_STEPS (default 3000 per seed), KASI_FUZZ_SEEDS (default 1,2,3,4,5,6).
"""
import os
import random
import time

import pytest

import kasi_harness as H

STEPS = int(os.environ.get("KASI_FUZZ_STEPS", "3000"))
SEEDS = [int(s) for s in os.environ.get("KASI_FUZZ_SEEDS", "1,2,3,4,5,6").split(",") if s.strip()]

KEYS = ["a", "b", "c", "num", "f"]


class Gen:
    def __init__(self, seed, now):
        self.r = random.Random(seed)
        self.now = now
        self.in_multi = False

    def key(self):
        return self.r.choice(KEYS)

    def value(self):
        r = self.r
        return r.choice([
            lambda: str(r.randint(-1000, 1000)),
            lambda: str(r.randint(-2 ** 63, 2 ** 63 - 1)),
            lambda: "%.3f" % r.uniform(-100, 100),
            lambda: r.choice(["", "abc", "hello world", "0", "-0", "1e3", "5.0e3", "9223372036854775807",
                              "-9223372036854775808", "3.0e3", "0.1", "10.50", " 1", "x\r\ny"]),
            lambda: "".join(r.choice("abcxyz") for _ in range(r.randint(1, 12))),
        ])()

    def int_arg(self):
        r = self.r
        return r.choice([str(r.randint(-100, 100)), str(r.randint(-2 ** 63, 2 ** 63 - 1)), "abc", "1.5", "",
                         "9223372036854775807", "-9223372036854775808"])

    def float_arg(self):
        r = self.r
        return r.choice(["%.2f" % r.uniform(-50, 50), str(r.randint(-10, 10)), "0.1", "-0.1", "1e3", "5.0e3",
                         "3.0e3", "abc", "1e-3", ".5", "2.", "inf", ""])

    def abs_s(self):
        return str(self.now + self.r.randint(1000, 100000))

    def abs_ms(self):
        return str((self.now + self.r.randint(1000, 100000)) * 1000 + self.r.randint(0, 999))

    def cmd(self):
        r = self.r
        k = self.key
        v = self.value
        if self.in_multi and r.random() < 0.15:
            self.in_multi = False
            return [r.choice(["EXEC", "EXEC", "DISCARD"])]
        c = r.randint(0, 41)
        if c == 0:
            return ["GET", k()]
        if c == 1:
            a = ["SET", k(), v()]
            opts = r.sample(["NX", "XX", "GET", "KEEPTTL", "EXAT", "PXAT"], r.randint(0, 2))
            for o in opts:
                a.append(o)
                if o == "EXAT":
                    a.append(self.abs_s())
                elif o == "PXAT":
                    a.append(self.abs_ms())
            return a
        if c == 2:
            return ["SETNX", k(), v()]
        if c == 3:
            return ["GETSET", k(), v()]
        if c == 4:
            return ["GETDEL", k()]
        if c == 5:
            return ["GETEX", k()] + r.choice([[], ["PERSIST"], ["EXAT", self.abs_s()], ["PXAT", self.abs_ms()]])
        if c == 6:
            return ["APPEND", k(), v()]
        if c == 7:
            return ["STRLEN", k()]
        if c == 8:
            return ["GETRANGE", k(), str(r.randint(-20, 20)), str(r.randint(-20, 20))]
        if c == 9:
            return ["SETRANGE", k(), str(r.randint(0, 20)), v()]
        if c == 10:
            return ["INCR", k()]
        if c == 11:
            return ["DECR", k()]
        if c == 12:
            return ["INCRBY", k(), self.int_arg()]
        if c == 13:
            return ["DECRBY", k(), self.int_arg()]
        if c in (14, 15):
            return ["INCRBYFLOAT", r.choice(["f", "num", k()]), self.float_arg()]
        if c == 16:
            return ["MGET"] + [k() for _ in range(r.randint(1, 4))]
        if c == 17:
            a = ["MSET"]
            for _ in range(r.randint(1, 3)):
                a += [k(), v()]
            return a
        if c == 18:
            a = ["MSETNX"]
            for _ in range(r.randint(1, 3)):
                a += [k(), v()]
            return a
        if c == 19:
            return ["DEL"] + [k() for _ in range(r.randint(1, 3))]
        if c == 20:
            return ["EXISTS"] + [k() for _ in range(r.randint(1, 3))]
        if c == 21:
            return ["TYPE", k()]
        if c == 22:
            return ["RENAME", k(), k()]
        if c == 23:
            return ["RENAMENX", k(), k()]
        if c == 24:
            a = ["COPY", k(), k()]
            if r.random() < 0.4:
                a += ["DB", r.choice(["0", "1", "2"])]
            if r.random() < 0.5:
                a.append("REPLACE")
            return a
        if c == 25:
            return ["PERSIST", k()]
        if c == 26:
            a = ["EXPIREAT", k(), self.abs_s()]
            if r.random() < 0.6:
                a.append(r.choice(["NX", "XX", "GT", "LT"]))
            return a
        if c == 27:
            a = ["PEXPIREAT", k(), self.abs_ms()]
            if r.random() < 0.6:
                a.append(r.choice(["NX", "XX", "GT", "LT"]))
            return a
        if c == 28:
            return ["EXPIRETIME", k()]
        if c == 29:
            return ["PEXPIRETIME", k()]
        if c == 30:
            return ["LCS", k(), k()] + r.choice([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"],
                                                 ["IDX", "MINMATCHLEN", str(r.randint(0, 3))]])
        if c == 31:
            return ["DBSIZE"]
        if c == 32:
            return ["SELECT", r.choice(["0", "1", "2"])]
        if c == 33:
            return ["MOVE", k(), r.choice(["0", "1", "2"])]
        if c == 34:
            if r.random() < 0.3:
                self.in_multi = True  # (nested MULTI is an error but keeps the transaction)
                return ["MULTI"]
            return ["GET", k()]
        if c == 35:
            self.in_multi = False
            return [r.choice(["EXEC", "DISCARD"])]
        if c == 36:
            return ["SUBSTR", k(), str(r.randint(-5, 5)), str(r.randint(-5, 5))]
        if c == 37:
            return ["TOUCH", k(), k()]
        if c == 38:
            return ["UNLINK", k()]
        if c == 39:
            return [r.choice(["SETEX", "PSETEX"]), k(), r.choice(["0", "-1", "x", ""]), v()]  # valid ones are relative (clock-dependent)
        if c == 40:
            return ["ECHO", v()]
        # occasionally a wrong-arity or bad-syntax command
        return r.choice([["GET"], ["SET", k()], ["INCRBY", k()], ["SET", k(), v(), "BOGUS"],
                         ["EXPIREAT", k(), self.abs_s(), "NX", "XX"], ["GETEX", k(), "EX"],
                         ["MSET", k()], ["LCS", k(), k(), "LEN", "IDX"]])


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzz_diff(pair, seed):
    ref, sut = pair
    now = int(time.time())
    gen = Gen(seed, now)
    a, b = ref.raw(), sut.raw()
    history = []
    try:
        for conn in (a, b):
            assert conn.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for step in range(1, STEPS + 1):
            cmd = gen.cmd()
            history.append(cmd)
            ra = a.cmd_raw(*cmd)
            try:
                rb = b.cmd_raw(*cmd)
            except (H.ConnectionClosed, OSError) as e:
                pytest.fail("seed %d step %d: %r -> server under test failed: %s\nredis: %r\nrecent: %r" % (
                    seed, step, cmd, e, ra, history[-15:]))
            if ra != rb:
                pytest.fail("seed %d step %d: %r\n  redis: %r\n  kasi:  %r\n  preceding commands (oldest first):\n    %s" % (
                    seed, step, cmd, ra, rb, "\n    ".join(repr(h) for h in history[-15:-1])))
            if step % 100 == 0 and not gen.in_multi:
                # periodic whole-keyspace check (KEYS order differs: compare sorted)
                ka = sorted(a.cmd("KEYS", "*"))
                kb = sorted(b.cmd("KEYS", "*"))
                if ka != kb:
                    pytest.fail("seed %d after step %d: KEYS * differ\n  redis: %r\n  kasi:  %r\n  recent: %r" % (
                        seed, step, ka, kb, history[-15:]))
        # final state comparison across the three dbs
        for db in ("0", "1", "2"):
            for conn in (a, b):
                if gen.in_multi:
                    conn.cmd_raw("DISCARD")
                conn.cmd_raw("SELECT", db)
            ra = a.cmd_raw("MGET", *KEYS)
            rb = b.cmd_raw("MGET", *KEYS)
            assert ra == rb, "final state db %s differs:\n  redis: %r\n  kasi:  %r" % (db, ra, rb)
            gen.in_multi = False
    finally:
        a.close()
        b.close()
