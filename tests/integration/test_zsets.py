"""Sorted sets through persistence: small (listpack) and big (skiplist) sets
survive a snapshot, an AOF replay and an AOF rewrite with their scores byte for
byte (-0, inf, 0.1, 1e17 ...), encodings and TTLs; the AOF logs effects
(ZINCRBY and ZADD INCR as the ZADD of the result, pops as the ZREM of what was
popped), so float increments replay exactly; kill -9 under appendfsync always
loses no acknowledged write."""
import glob
import os
import random

import pytest

import kasi_harness as H
from test_persistence import AOF_ALWAYS, AOF_EVERYSEC, kill9, kill9_trials, pserver, sigterm, wait_info

pytestmark = pytest.mark.kasi_only

TF = H.TIME_FACTOR


def zstate(srv):
    """{key: (encoding, [member, score, ...], has_ttl)} for every sorted set."""
    out = {}
    with srv.raw(timeout=30 * TF) as c:
        for k in c.cmd("KEYS", "*"):
            if c.cmd("TYPE", k) != b"zset":
                continue
            out[k] = (c.cmd("OBJECT", "ENCODING", k), c.cmd("ZRANGE", k, 0, -1, "WITHSCORES"),
                      c.cmd("PTTL", k) > 0)
    return out


def fill(c, rng):
    """Small and big sets with awkward scores, TTLs, and every kind of write."""
    replies = []
    send = lambda *a: replies.append(c.cmd(*a))  # noqa: E731
    send("ZADD", "small", "-0", "negzero", "0.1", "tenth", "1e17", "big", "inf", "pinf",
         "-inf", "ninf", "2.5", "f", "9007199254740993", "odd")
    for i in range(400):
        send("ZADD", "bigz", rng.choice(["%d" % rng.randint(-50, 50), "%.3f" % rng.random(), "-0"]),
             "m%04d" % i)
    send("ZADD", "bigz", "-0", "negzero")
    for _ in range(25):
        send("ZINCRBY", "small", "0.1", "tenth")
        send("ZINCRBY", "bigz", "0.1", "m0001")
        send("ZADD", "bigz", "INCR", "1e-3", "m0002")
    send("ZINCRBY", "inc", "0.30000000000000004", "x")
    send("ZPOPMIN", "bigz", "3")
    send("ZPOPMAX", "bigz")
    send("ZADD", "pops", "1", "a", "2", "b", "3", "c", "4", "d")
    send("ZMPOP", "2", "nokey", "pops", "MAX", "COUNT", "2")
    send("ZREM", "bigz", "m0100", "m0101", "nosuch")
    send("ZREMRANGEBYRANK", "bigz", "10", "19")
    send("ZREMRANGEBYSCORE", "bigz", "(10", "20")
    send("ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d")
    send("ZREMRANGEBYLEX", "lex", "[b", "(d")
    send("ZUNIONSTORE", "u", "2", "small", "bigz", "WEIGHTS", "2", "0.5")
    send("ZINTERSTORE", "i", "2", "bigz", "bigz")
    send("ZRANGESTORE", "r", "bigz", "0", "99")
    send("ZDIFFSTORE", "d", "2", "bigz", "r")
    send("PEXPIRE", "small", "5000000")
    send("PEXPIRE", "bigz", "6000000")
    send("ZADD", "gone", "1", "x")
    send("ZREM", "gone", "x")
    assert not any(isinstance(r, H.RespError) for r in replies), replies
    return replies


def aof_text(data):
    out = b""
    for f in sorted(glob.glob(os.path.join(str(data), "appendonlydir", "*.incr.aof"))):
        with open(f, "rb") as fh:
            out += fh.read()
    return out


def test_snapshot_round_trip(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, ("save", "3600 1"))
    with s.raw() as c:
        fill(c, random.Random(1))
        assert c.cmd("OBJECT", "ENCODING", "bigz") == b"skiplist"
        assert c.cmd("OBJECT", "ENCODING", "small") == b"listpack"
        assert c.cmd("ZSCORE", "bigz", "negzero") == b"-0"
        assert c.cmd("SAVE") == b"OK"
    before = zstate(s)
    assert sigterm(s) == 0
    s = pserver(server_factory, data, ("save", "3600 1"))
    after = zstate(s)
    assert after == before
    assert after[b"small"][2] and after[b"bigz"][2]
    with s.raw() as c:
        assert c.cmd("ZSCORE", "bigz", "negzero") == b"-0"   # still a skiplist: -0 kept
        assert c.cmd("ZSCORE", "small", "negzero") == b"0"
        assert c.cmd("EXISTS", "gone") == 0


def test_aof_replays_effects(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    with s.raw() as c:
        fill(c, random.Random(2))
        tenth = c.cmd("ZSCORE", "small", "tenth")
    before = zstate(s)
    log = aof_text(data)
    # effects, not commands: no ZINCRBY, no INCR, no pops in the log
    for word in (b"ZINCRBY", b"zincrby", b"ZPOPMIN", b"ZPOPMAX", b"ZMPOP", b"INCR\r\n"):
        assert word not in log, word
    assert b"ZREM" in log
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert zstate(s) == before
    with s.raw() as c:
        assert c.cmd("ZSCORE", "small", "tenth") == tenth


def test_aof_rewrite_round_trip(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_EVERYSEC)
    with s.raw() as c:
        fill(c, random.Random(3))
        assert c.cmd_raw("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
    wait_info(s, "persistence", lambda d: d["aof_rewrite_in_progress"] == "0"
              and d["aof_rewrite_scheduled"] == "0" and int(d["aof_rewrites"]) >= 1, 30, "rewrite")
    with s.raw() as c:   # writes after the rewrite land in the new incr file
        c.cmd("ZINCRBY", "bigz", "0.1", "m0003")
        c.cmd("ZPOPMIN", "small")
    before = zstate(s)
    assert sigterm(s) == 0
    s = pserver(server_factory, data, *AOF_EVERYSEC)
    assert zstate(s) == before


class ZWriter:
    """ZADD/ZINCRBY/ZREM/ZPOPMIN on its own keys, one at a time; the model
    (member -> score as the server writes it) follows each acknowledged
    reply, and the write in flight when the kill came is noted."""

    def __init__(self, wid):
        self.wid = wid
        self.model = {}      # key -> {member: score text}
        self.pending = None  # (key, op, member) sent but not acknowledged
        self.acked = 0
        self.errors = []

    def run(self, srv, stop):
        rng = random.Random(self.wid)
        try:
            with srv.raw(timeout=20 * TF) as c:
                while not stop.is_set():
                    key = b"w%d:%d" % (self.wid, rng.randrange(4))
                    z = self.model.setdefault(key, {})
                    m = b"m%d" % rng.randrange(60)
                    op = rng.randrange(10)
                    if op < 4:
                        args, op = ("ZADD", key, rng.randint(0, 1000), m), "add"
                    elif op < 8:
                        args, op = ("ZINCRBY", key, "0.1", m), "incr"
                    elif op < 9:
                        args, op = ("ZREM", key, m), "rem"
                    else:
                        args, op = ("ZPOPMIN", key), "pop"
                    self.pending = (key, op, m)
                    r = c.cmd(*args)
                    if isinstance(r, H.RespError):
                        self.errors.append(r)
                        return
                    if op == "add":
                        z[m] = str(args[2]).encode()
                    elif op == "incr":
                        z[m] = r
                    elif op == "rem":
                        z.pop(m, None)
                    elif r:
                        del z[r[0]]
                    self.pending = None
                    self.acked += 1
        except (H.ConnectionClosed, OSError):
            pass

    def verify(self, c):
        problems = []
        for key, z in self.model.items():
            got = c.cmd("ZRANGE", key, 0, -1, "WITHSCORES")
            have = dict(zip(got[::2], got[1::2]))
            want = dict(z)
            if self.pending and self.pending[0] == key:
                _, op, m = self.pending
                if op == "pop":   # popped or not: the lowest member may be gone
                    if have != want and want:
                        low = min(want.items(), key=lambda kv: (float(kv[1]), kv[0]))[0]
                        want.pop(low)
                else:             # that one member may have its new value
                    have.pop(m, None)
                    want.pop(m, None)
            if have != want:
                problems.append((key, have, want))
        return problems


def test_kill9_always_keeps_acknowledged_zset_writes(server_factory, tmp_path):
    writers = [ZWriter(w) for w in range(3)]
    marks = {}

    def settle(trial):
        marks[trial] = [w.acked for w in writers]
        assert H.wait_for(lambda: all(w.acked >= m + 200 for w, m in zip(writers, marks[trial])), 20 * TF)

    def check(s, trial):
        with s.raw() as c:
            for w in writers:
                assert not w.errors, w.errors[:3]
                problems = w.verify(c)
                assert not problems, "trial %d writer %d: %r" % (trial, w.wid, problems[:3])
                if w.pending:   # the next trial starts from what the server has
                    key = w.pending[0]
                    got = c.cmd("ZRANGE", key, 0, -1, "WITHSCORES")
                    w.model[key] = dict(zip(got[::2], got[1::2]))
                    w.pending = None

    kill9_trials(server_factory, tmp_path / "data", [w.run for w in writers], settle, check, trials=3)
    assert sum(len(z) for w in writers for z in w.model.values()) > 20


@pytest.mark.parametrize("then", ["rescore", "delete"])
def test_bgsave_of_a_big_zset_is_point_in_time(server_factory, tmp_path, then):
    """BGSAVE, then at once rescore every member of a 100k-member sorted set
    (scores are rewritten where they lie unless a snapshot holds a view) or
    delete it: the snapshot holds the set as it was at the BGSAVE, in order."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, ("save", ""))
    n = 100000
    with s.raw(timeout=60 * TF) as c:
        for base in range(0, n, 1000):
            c.cmd("ZADD", "big", *[x for j in range(base, base + 1000) for x in (j, b"m%07d" % j)])
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        if then == "delete":
            assert c.cmd("DEL", "big") == 1
        else:
            for base in range(0, n, 1000):
                c.cmd("ZADD", "big", *[x for j in range(base, base + 1000) for x in (-j, b"m%07d" % j)])
            c.cmd("ZREM", "big", *[b"m%07d" % j for j in range(0, n, 3)])
        wait_info(s, "persistence", lambda d: d.get("rdb_bgsave_in_progress") == "0", 60, "bgsave")
        with s.raw() as c2:
            assert b"rdb_last_bgsave_status:ok" in c2.cmd("INFO", "persistence")
    sigterm(s)
    s2 = pserver(server_factory, data, ("save", ""))
    with s2.raw(timeout=60 * TF) as c:
        assert c.cmd("ZCARD", "big") == n
        got = c.cmd("ZRANGE", "big", 0, -1, "WITHSCORES")
        assert got[::2] == [b"m%07d" % j for j in range(n)]
        assert got[1::2] == [b"%d" % j for j in range(n)]
