"""Differential test for the stream commands (Redis 7.0 semantics): the scripts
of diff_scripts_streams.py, then seeded random streams of XADD (explicit, partial
`ms-*` and `*` IDs after a future explicit one, so every generated ID is
deterministic), XDEL, XTRIM and XADD trimming (MAXLEN/MINID, `=`/`~`, LIMIT),
XRANGE/XREVRANGE, XREAD, XSETID and XINFO STREAM [FULL], and consumer group
operations (XGROUP CREATE/SETID/DESTROY/CREATECONSUMER/DELCONSUMER,
XREADGROUP `>` and history with COUNT and NOACK, XACK, XCLAIM with TIME far in
the past and RETRYCOUNT/FORCE/JUSTID/LASTID, XAUTOCLAIM, XPENDING, XINFO
GROUPS/CONSUMERS), under small and default node sizes
(stream-node-max-entries / -bytes), every reply compared byte for byte with
redis-server's, but for the replies that hold clock readings (XINFO STREAM
FULL, XINFO CONSUMERS and XPENDING's extended form), equal but that each
delivery time, seen-time and idle time may differ by 2 s. Min-idle times and
XPENDING IDLE are 0 or far beyond any idle time, so what they select is
deterministic. XINFO STREAM's radix-tree-keys and
radix-tree-nodes are compared too: Kasi closes its nodes where Redis closes
its listpacks and computes the radix tree Redis would have over their keys.

Env: KASI_STREAMS_FUZZ_STEPS (default 1500 per seed),
     KASI_STREAMS_FUZZ_SEEDS (default 31,32,33,34).
"""
import os
import random

import pytest

import kasi_harness as H
from diff_scripts_groups import SCRIPTS as GROUP_SCRIPTS
from diff_scripts_streams import SCRIPTS
from test_diff import Mismatch, run_script

FUZZ_STEPS = int(os.environ.get("KASI_STREAMS_FUZZ_STEPS", "1500"))
FUZZ_SEEDS = [int(s) for s in os.environ.get("KASI_STREAMS_FUZZ_SEEDS", "31,32,33,34").split(",") if s.strip()]

FUTURE = 4102444800000   # 2100-01-01 in ms: "*" after it never reads the clock


@pytest.mark.parametrize("name", list(GROUP_SCRIPTS))
def test_diff_groups(pair, name, proto):
    ref, sut = pair
    assert run_script(name, GROUP_SCRIPTS[name], ref, sut, timeout=20, proto=proto) > 0
    assert sut.alive(), "server under test died during script %r" % name


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_streams(pair, name, proto):
    ref, sut = pair
    try:
        assert run_script(name, SCRIPTS[name], ref, sut, timeout=20, proto=proto) > 0
    finally:
        for srv in (ref, sut):   # scripts may change the node sizes
            with srv.raw(timeout=5) as c:
                c.cmd_raw("CONFIG", "SET", "stream-node-max-entries", "100")
                c.cmd_raw("CONFIG", "SET", "stream-node-max-bytes", "4096")
    assert sut.alive(), "server under test died during script %r" % name


KEYS = ["s1", "s2", "s3"]
GROUPS = ["g1", "g2"]
CONSUMERS = ["c1", "c2", "c3"]
FAR = "9000000000000"   # ms: beyond any idle time


def _is_id(v):
    return isinstance(v, bytes) and b"-" in v


def _clock_eq(a, b, tol):
    """a and b (parsed replies) are equal but for their clock readings, each
    within tol: a value after "idle" or "seen-time", the idle or delivery
    time of a pending entry ([id, consumer, time, count] or [id, time,
    count])."""
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        clock = set()
        for i, v in enumerate(a[:-1]):
            if v in (b"idle", b"seen-time"):
                clock.add(i + 1)
        if len(a) == 4 and _is_id(a[0]) and isinstance(a[1], bytes) and isinstance(a[2], int):
            clock.add(2)
        if len(a) == 3 and _is_id(a[0]) and isinstance(a[1], int) and isinstance(a[2], int):
            clock.add(1)
        return all((isinstance(x, int) and isinstance(y, int) and abs(x - y) <= tol) if i in clock
                   else _clock_eq(x, y, tol) for i, (x, y) in enumerate(zip(a, b)))
    return type(a) is type(b) and a == b


def _same(argv, ra, rb):
    """Byte for byte, but for the replies that read the clock."""
    if ra == rb:
        return True
    a = [v.upper() for v in argv[:4]]
    clocked = (a[:2] == ["XINFO", "CONSUMERS"] or (a[:2] == ["XINFO", "STREAM"] and len(argv) > 3)
               or (a[0] == "XPENDING" and len(argv) > 3))
    return clocked and _clock_eq(H.parse_reply(ra), H.parse_reply(rb), 2000)


class StreamGen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.ms = {k: FUTURE for k in KEYS + ["str"]}   # a high-water mark of IDs per key
        self.full = {}   # the ms whose last sequence number was given

    def key(self):
        r = self.r.random()
        if r < 0.03:
            return "str"
        return self.r.choice(KEYS)

    def field(self):
        return self.r.choice(["f", "g", "h", "1", "22", "-3", "f" * 70, ""])

    def value(self):
        x = self.r.random()
        if x < 0.5:
            return "v%d" % self.r.randrange(100)
        if x < 0.7:
            return str(self.r.randint(-10 ** 6, 10 ** 12))
        if x < 0.9:
            return "x" * self.r.choice([0, 1, 63, 64, 200, 4095, 4096])
        return bytes(self.r.randrange(256) for _ in range(self.r.randrange(0, 20)))

    def fields(self):
        r = self.r
        if r.random() < 0.7:
            names = ["f", "g"]
        else:
            names = [self.field() for _ in range(r.randrange(1, 4))]
        out = []
        for n in names:
            out += [n, self.value()]
        return out

    def some_id(self, k):
        """An ID near the key's entries (existing or not)."""
        base = self.ms.get(k, FUTURE)
        return "%d-%d" % (base - self.r.randrange(0, 40), self.r.randrange(0, 4))

    def new_id(self, k):
        r = self.r
        x = r.random()
        if x < 0.45:
            self.ms[k] += r.randrange(1, 3) if r.random() < 0.5 else 0
            if self.ms[k] == self.full.get(k):
                self.ms[k] += 1   # ms-* after ms-<max seq> is excluded (see above)
            return "%d-*" % self.ms[k] if r.random() < 0.5 else "*"
        if x < 0.85:
            self.ms[k] += r.randrange(1, 4)
            return "%d-%d" % (self.ms[k], r.randrange(0, 3))
        if x < 0.95:
            return self.some_id(k)   # usually too small: the ID error
        if r.random() < 0.5:
            return r.choice(["0-0", "0", "x", "-1", "1-"])
        # a full sequence: the next ID is in the next ms (ms-* there is excluded:
        # see diff_scripts_streams.py)
        self.ms[k] += 1
        self.full[k] = self.ms[k]
        return "%d-18446744073709551615" % self.ms[k]

    def trim(self, k):
        r = self.r
        out = []
        if r.random() < 0.5:
            out += ["MAXLEN"]
            if r.random() < 0.7:
                out += [r.choice(["~", "=", "~", "~"])]
            out += [str(r.choice([0, 1, 5, 50, 99, 100, 101, 150, 250, 400, 1000]))]
        else:
            out += ["MINID"]
            if r.random() < 0.7:
                out += [r.choice(["~", "=", "~"])]
            out += [self.some_id(k) if r.random() < 0.8 else "%d" % (self.ms[k] - r.randrange(0, 300))]
        if r.random() < 0.3:
            out += ["LIMIT", str(r.choice([0, 1, 10, 99, 100, 101, 250]))]
        return out

    def range_end(self, k, hi):
        r = self.r
        x = r.random()
        if x < 0.25:
            return "+" if hi else "-"
        v = self.some_id(k)
        if x < 0.45:
            v = v.split("-")[0]
        if r.random() < 0.2:
            v = "(" + v
        return v

    def group_command(self, k):
        r = self.r
        g, c = r.choice(GROUPS), r.choice(CONSUMERS)
        x = r.random()
        if x < 0.10:
            args = ["XGROUP", "CREATE", k, g, r.choice(["$", "0", self.some_id(k)])]
            if r.random() < 0.3:
                args.append("MKSTREAM")
            if r.random() < 0.2:
                args += ["ENTRIESREAD", str(r.choice([-1, 0, 3, 1000]))]
            return [args]
        if x < 0.14:
            args = ["XGROUP", "SETID", k, g, r.choice(["$", "0", self.some_id(k)])]
            if r.random() < 0.3:
                args += ["ENTRIESREAD", str(r.choice([-1, 0, 3, 1000]))]
            return [args]
        if x < 0.16:
            return [["XGROUP", "DESTROY", k, g]]
        if x < 0.19:
            return [["XGROUP", r.choice(["CREATECONSUMER", "DELCONSUMER"]), k, g, c]]
        if x < 0.45:
            args = ["XREADGROUP", "GROUP", g, c]
            if r.random() < 0.6:
                args += ["COUNT", str(r.choice([1, 2, 3, 10, 0]))]
            if r.random() < 0.1:
                args.append("NOACK")
            ks = [k] if r.random() < 0.8 else r.sample(KEYS, 2)
            return [args + ["STREAMS"] + ks + [">" if r.random() < 0.7 else r.choice(["0", self.some_id(q)]) for q in ks]]
        if x < 0.58:
            return [["XACK", k, g] + [self.some_id(k) for _ in range(r.randrange(1, 4))]]
        if x < 0.70:
            args = ["XCLAIM", k, g, c, r.choice(["0", "0", FAR])] + [self.some_id(k) for _ in range(r.randrange(1, 4))]
            args += ["TIME", str(r.choice([1000, 2000]))]
            for opt in (["RETRYCOUNT", str(r.randrange(0, 5))], ["FORCE"], ["JUSTID"], ["LASTID", self.some_id(k)]):
                if r.random() < 0.25:
                    args += opt
            return [args]
        if x < 0.78:
            args = ["XAUTOCLAIM", k, g, c, r.choice(["0", "0", FAR]), r.choice(["0", "-", self.some_id(k)])]
            if r.random() < 0.5:
                args += ["COUNT", str(r.choice([1, 2, 5]))]
            if r.random() < 0.3:
                args.append("JUSTID")
            return [args]
        if x < 0.86:
            if r.random() < 0.4:
                return [["XPENDING", k, g]]
            args = ["XPENDING", k, g]
            if r.random() < 0.3:
                args += ["IDLE", r.choice(["0", FAR])]
            args += [self.range_end(k, False), self.range_end(k, True), str(r.choice([1, 3, 10]))]
            if r.random() < 0.4:
                args.append(c)
            return [args]
        if x < 0.94:
            return [["XINFO", "GROUPS", k]]
        return [["XINFO", "CONSUMERS", k, g]]

    def command(self):
        r = self.r
        x = r.random()
        k = self.key()
        if r.random() < 0.3:
            return self.group_command(k)
        if x < 0.40:
            args = ["XADD", k]
            if r.random() < 0.05:
                args.append("NOMKSTREAM")
            if r.random() < 0.25:
                args += self.trim(k)
            n = r.randrange(1, 20) if r.random() < 0.3 else 1
            return [args + [self.new_id(k)] + self.fields() for _ in range(n)]
        if x < 0.50:
            return [["XDEL", k] + [self.some_id(k) for _ in range(r.randrange(1, 5))]]
        if x < 0.58:
            return [["XTRIM", k] + self.trim(k)]
        if x < 0.70:
            rev = r.random() < 0.4
            a, b = self.range_end(k, False), self.range_end(k, True)
            args = ["XREVRANGE", k, b, a] if rev else ["XRANGE", k, a, b]
            if r.random() < 0.5:
                args += ["COUNT", str(r.choice([0, 1, 2, 10, -1]))]
            return [args]
        if x < 0.76:
            args = ["XREAD"]
            if r.random() < 0.5:
                args += ["COUNT", str(r.choice([1, 3, 0]))]
            ks = r.sample(KEYS, r.randrange(1, 3))
            return [args + ["STREAMS"] + ks + [r.choice(["$", self.some_id(q), "0"]) for q in ks]]
        if x < 0.80:
            args = ["XSETID", k, self.some_id(k) if r.random() < 0.5 else "%d-9" % (self.ms[k] + 1)]
            if r.random() < 0.3:
                args += ["ENTRIESADDED", str(r.randrange(0, 500))]
            if r.random() < 0.3:
                args += ["MAXDELETEDID", self.some_id(k)]
            return [args]
        if x < 0.90:
            return [["XINFO", "STREAM", k]]
        if x < 0.93:
            return [["XINFO", "STREAM", k, "FULL", "COUNT", str(r.choice([0, 1, 5]))]]
        if x < 0.97:
            return [["XLEN", k]]
        if x < 0.985:
            return [["DEL", k]]
        return [["TYPE", k]]


def _behind_clock(conn, key):
    """Whether the stream at key is missing, or has a last ID before the
    clock (XGROUP CREATE ... MKSTREAM makes one at 0-0)."""
    info = H.parse_reply(conn.cmd_raw("XINFO", "STREAM", key))
    if not isinstance(info, list):
        return True
    last = dict(zip(info[::2], info[1::2]))[b"last-generated-id"]
    return int(last.split(b"-")[0]) < FUTURE


def _run_stream(ref, sut, seed, entries, nbytes, steps):
    gen = StreamGen(seed)
    with ref.raw(timeout=20) as a, sut.raw(timeout=20) as b:
        for c in (a, b):
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
            assert c.cmd_raw("CONFIG", "SET", "stream-node-max-entries", str(entries)) == b"+OK\r\n"
            assert c.cmd_raw("CONFIG", "SET", "stream-node-max-bytes", str(nbytes)) == b"+OK\r\n"
            assert c.cmd_raw("SET", "str", "x") == b"+OK\r\n"
        try:
            for step in range(steps):
                for argv in gen.command():
                    if argv[0] == "XADD" and "*" in argv and _behind_clock(a, argv[1]):
                        # "*" would read the clock: give it an ID
                        argv[argv.index("*")] = "%d-1" % (gen.ms[argv[1]] + 1)
                    ra, rb = a.cmd_raw(*argv), b.cmd_raw(*argv)
                    if not _same(argv, ra, rb):
                        raise Mismatch("seed %d step %d: %r\n  redis: %r\n  kasi:  %r" % (seed, step, argv, ra, rb))
            for k in KEYS:
                for argv in (["XRANGE", k, "-", "+"], ["XINFO", "STREAM", k, "FULL", "COUNT", "0"],
                             ["XINFO", "GROUPS", k]):
                    ra, rb = a.cmd_raw(*argv), b.cmd_raw(*argv)
                    assert _same(argv, ra, rb), \
                        "seed %d: final %r\n  redis: %r\n  kasi:  %r" % (seed, argv, ra, rb)
        finally:
            for c in (a, b):
                c.cmd_raw("CONFIG", "SET", "stream-node-max-entries", "100")
                c.cmd_raw("CONFIG", "SET", "stream-node-max-bytes", "4096")
    assert sut.alive()


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_streams_random_stream(pair, seed):
    ref, sut = pair
    _run_stream(ref, sut, seed, 100, 4096, FUZZ_STEPS)


@pytest.mark.parametrize("seed,entries,nbytes", [(41, 5, 4096), (42, 0, 300), (43, 3, 0), (44, 7, 200)])
def test_streams_random_small_nodes(pair, seed, entries, nbytes):
    """Small nodes: many node boundaries, whole-node trims and partial ones."""
    ref, sut = pair
    _run_stream(ref, sut, seed, entries, nbytes, FUZZ_STEPS // 2)
