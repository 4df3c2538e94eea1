"""Sets through persistence.

* A snapshot (SAVE, restart) keeps small and big sets of every encoding, in
  several domains, with their expiries; a set that expires while the server
  is down is gone; the encodings come back as the thresholds give them (a
  hashtable holding only integers is an intset again, as in Redis).
* The AOF replays set writes to the same data: SPOP's random choice (logged
  as the SREM of what it popped), SMOVE, the STORE commands (logged as the
  value they built, so a replay does not depend on the sources), sets
  emptied and deleted, expiries.
* BGREWRITEAOF: the rewritten base plus later writes give the same data.
* appendfsync always and kill -9 in the middle of writers doing random set
  commands on several connections: every acknowledged write is there after
  the restart (the one in flight may or may not be).
* SRANDMEMBER changes nothing and logs nothing.
* SMOVE, SUNIONSTORE and SINTERCARD over shared keys from several worker
  threads at once: no member is ever lost, doubled or in two sets (a SMOVE
  that let go of its locks between its halves fails it).
* set-max-intset-entries changed while sets exist gives the encodings Redis
  gives (compared with a real redis-server), and a restart with another
  threshold re-encodes the sets it loads.
"""
import random
import threading
import time

import pytest

import kasi_harness as H
from test_persistence import (AOF_ALWAYS, NO_SAVE, TF, aof_files, kill9, kill9_trials, now_ms, pserver,
                              scan_all, select, send_all, short, wait_info)

pytestmark = pytest.mark.kasi_only

DOMAINS = ("default", "sets b")


def set_state(srv, domains=DOMAINS):
    """{(domain, key): (type, members or value, pexpiretime)} of every key."""
    state = {}
    with srv.raw(timeout=30 * TF) as c:
        for dom in domains:
            select(c, dom)
            for k in sorted(scan_all(c)):
                t, pt = send_all(c, [("TYPE", k), ("PEXPIRETIME", k)])
                if t == b"set":
                    members = c.cmd("SMEMBERS", k)
                    assert isinstance(members, list), members
                    v = frozenset(members)
                    assert len(v) == len(members), "SMEMBERS repeats a member of %r" % k
                else:
                    v = c.cmd("GET", k)
                state[(dom, k)] = (t, v, pt)
    return state


def assert_same(before, after, what):
    problems = []
    for dk in sorted(set(before) | set(after)):
        if before.get(dk) != after.get(dk):
            problems.append("%r: %s, expected %s" % (dk, short(after.get(dk), 120), short(before.get(dk), 120)))
    assert not problems, "%s: %d keys expected, %d found:\n  %s" % (
        what, len(before), len(after), "\n  ".join(problems[:15]))


def encoding(c, key):
    return c.cmd("OBJECT", "ENCODING", key)


def populate(srv, seed):
    """Sets of each encoding, with and without expiries, in two domains, and
    the writes whose effects are not the command as given (SPOP, SMOVE, the
    STORE commands, deletion of an emptied set)."""
    rng = random.Random(seed)
    far = now_ms() + 5000000
    with srv.raw(timeout=60 * TF) as c:
        for dom in DOMAINS:
            select(c, dom)
            cmds = [("SADD", "ints", *[str(i * 7 - 300) for i in range(100)]),
                    ("SADD", "wide", "1", "70000", "-5000000000", "9223372036854775807"),
                    ("SADD", "small", *["m%d" % i for i in range(60)]),
                    ("SADD", "bin", b"\x00", b"a\r\nb", b"", b"\xff" * 70),
                    ("SADD", "ttl-ints", "1", "2", "3"), ("PEXPIREAT", "ttl-ints", str(far)),
                    ("SADD", "ttl-big", *["t%d" % i for i in range(3000)]), ("PEXPIREAT", "ttl-big", str(far + 1)),
                    ("SADD", "onlyints", "x", *[str(i) for i in range(20)]), ("SREM", "onlyints", "x")]
            for j in range(0, 20000, 1000):
                cmds.append(("SADD", "big", *[b"member:%012d" % i for i in range(j, j + 1000)]))
            cmds += [("SPOP", "big", "300"), ("SPOP", "big"), ("SPOP", "big", "7000"),
                     ("SPOP", "ints", "10"), ("SPOP", "small", "5"), ("SPOP", "small"), ("SPOP", "ttl-big", "100"),
                     ("SMOVE", "small", "moved", "m1"), ("SMOVE", "small", "moved", "nope"),
                     ("SMOVE", "ints", "moved", "-300"), ("SMOVE", "ints", "ttl-ints", "-293"),
                     ("SINTERSTORE", "inter", "wide", "onlyints"),
                     ("SUNIONSTORE", "union", "small", "ints", "bin"),
                     ("SDIFFSTORE", "diff", "big", "small"),
                     ("SADD", "gone", "a", "b"), ("SREM", "gone", "a", "b"),
                     ("SADD", "popped", "a", "b", "c"), ("SPOP", "popped", "10"),
                     ("SADD", "one", "z"), ("SPOP", "one"),
                     ("SET", "str", "v"), ("SUNIONSTORE", "str", "wide"),
                     ("SADD", "dst", "q"), ("PEXPIREAT", "dst", str(far + 2)), ("SINTERSTORE", "dst", "ints", "big"),
                     ("SADD", "short", "1"), ("PEXPIRE", "short", "300")]
            for _ in range(200):   # random pops of random sizes
                cmds.append(("SPOP", rng.choice(["big", "diff"]), str(rng.randint(1, 40))))
            for r in send_all(c, cmds):
                assert not isinstance(r, H.RespError), r
            assert c.cmd("SRANDMEMBER", "big", "-50") and c.cmd("SRANDMEMBER", "small", "5")
    time.sleep(0.4)   # "short" expires
    state = set_state(srv)
    for dom in DOMAINS:
        assert (dom, b"short") not in state and (dom, b"gone") not in state and (dom, b"popped") not in state
        assert (dom, b"one") not in state and (dom, b"dst") not in state   # SINTERSTORE of nothing in common
        assert state[(dom, b"str")][0] == b"set" and state[(dom, b"ttl-big")][2] == far + 1
    return state


def check_encodings(srv):
    with srv.raw() as c:
        for dom in DOMAINS:
            select(c, dom)
            assert encoding(c, "ints") == b"intset"
            assert encoding(c, "wide") == b"intset"
            assert encoding(c, "small") == b"hashtable"
            assert encoding(c, "big") == b"hashtable"
            assert encoding(c, "inter") == b"intset"


def test_snapshot_round_trip(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    before = populate(s, 1)
    with s.raw() as c:
        select(c, "default")
        assert encoding(c, "onlyints") == b"hashtable"
        c.cmd("SADD", "soon", "a")
        c.cmd("PEXPIRE", "soon", "1500")
        assert c.cmd("SAVE") == b"OK"
    kill9(s)
    time.sleep(1.6)   # "soon" expires while the server is down
    s = pserver(server_factory, data, *NO_SAVE)
    assert_same(before, set_state(s), "after SAVE and restart")
    check_encodings(s)
    with s.raw() as c:
        select(c, "default")
        assert encoding(c, "onlyints") == b"intset"   # re-encoded on load, as Redis does
        assert c.cmd("SISMEMBER", "big", "member:000000019999") in (0, 1)
        assert c.cmd("SADD", "big", "after") == 1   # a restored dict takes writes


def test_aof_replays_set_writes(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    before = populate(s, 2)
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert_same(before, set_state(s), "after the AOF's replay")
    check_encodings(s)
    # and once more, with writes on the replayed data
    with s.raw() as c:
        popped = c.cmd("SPOP", "big", "1000")
        assert len(popped) == 1000
        assert c.cmd("SMOVE", "small", "moved", "m30") in (0, 1)
    before = set_state(s)
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert_same(before, set_state(s), "after a second replay")


def test_aof_rewrite(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    populate(s, 3)
    n0 = int(wait_info(s, "persistence", lambda d: True, 1, "INFO")["aof_rewrites"])
    with s.raw() as c:
        assert c.cmd_raw("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        # writes while it runs, to sets big and small
        for i in range(50):
            assert not isinstance(c.cmd("SPOP", "big", "20"), H.RespError)
            assert c.cmd("SADD", "small", "during%d" % i) == 1
    wait_info(s, "persistence", lambda d: d["aof_rewrite_in_progress"] == "0" and d["aof_rewrite_scheduled"] == "0"
              and int(d["aof_rewrites"]) > n0, 30, "end of rewrite")
    assert any(f.endswith(".base.kasi") for f in aof_files(data)), aof_files(data)
    with s.raw() as c:
        select(c, "sets b")
        assert len(c.cmd("SPOP", "big", "50")) == 50
        assert c.cmd("SUNIONSTORE", "after", "ints", "wide") > 0
        assert c.cmd("PEXPIREAT", "after", str(now_ms() + 7000000)) == 1
    before = set_state(s)
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert_same(before, set_state(s), "after BGREWRITEAOF, more writes and kill -9")
    check_encodings(s)


def test_srandmember_is_read_only(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    with s.raw() as c:
        c.cmd("SADD", "s", *[str(i) for i in range(10)])
        c.cmd("SADD", "b", *["m%d" % i for i in range(1000)])
        size0 = int(wait_info(s, "persistence", lambda d: True, 1, "INFO")["aof_current_size"])
        assert c.cmd_raw("WATCH", "s", "b") == b"+OK\r\n"
        for k, n in (("s", "5"), ("s", "-30"), ("b", "3"), ("b", "900"), ("b", "-5")):
            assert len(c.cmd("SRANDMEMBER", k, n)) == abs(int(n))
        assert c.cmd("SRANDMEMBER", "b") is not None
        # writes that change nothing do not touch WATCH either
        assert c.cmd("SADD", "s", "1") == 0 and c.cmd("SREM", "b", "nope") == 0
        assert c.cmd("SMOVE", "b", "s", "nope") == 0 and c.cmd("SPOP", "s", "0") == []
        assert c.cmd_raw("MULTI") == b"+OK\r\n" and c.cmd_raw("SCARD", "s") == b"+QUEUED\r\n"
        assert c.cmd("EXEC") == [10]
        size1 = int(wait_info(s, "persistence", lambda d: True, 1, "INFO")["aof_current_size"])
        assert size1 == size0, "reads and no-op writes grew the AOF from %d to %d" % (size0, size1)


THRESHOLD_SCRIPT = [
    ("CONFIG", "SET", "set-max-intset-entries", "3"),
    ("SADD", "a", "1", "2", "3"), ("OBJECT", "ENCODING", "a"),
    ("SADD", "a", "3"), ("OBJECT", "ENCODING", "a"),
    ("SADD", "a", "4"), ("OBJECT", "ENCODING", "a"),
    ("SADD", "b", "1", "2", "3", "4"), ("OBJECT", "ENCODING", "b"),
    ("SADD", "c", "1", "2"), ("SMOVE", "b", "c", "3"), ("OBJECT", "ENCODING", "c"),
    ("SMOVE", "b", "c", "4"), ("OBJECT", "ENCODING", "c"),
    ("SINTERSTORE", "i", "a", "c"), ("OBJECT", "ENCODING", "i"),
    ("SUNIONSTORE", "u", "a", "c"), ("OBJECT", "ENCODING", "u"),
    ("SDIFFSTORE", "d", "a", "b"), ("OBJECT", "ENCODING", "d"), ("SMEMBERS", "d"),
    ("CONFIG", "SET", "set-max-intset-entries", "0"),
    ("SADD", "z", "1"), ("OBJECT", "ENCODING", "z"),
    ("SUNIONSTORE", "z2", "i"), ("OBJECT", "ENCODING", "z2"),
    ("SREM", "a", "1"), ("OBJECT", "ENCODING", "a"),
    ("CONFIG", "SET", "set-max-intset-entries", "1000"),
    ("SADD", "big", *[str(i) for i in range(900)]), ("OBJECT", "ENCODING", "big"),
    ("SADD", "big", "900"), ("OBJECT", "ENCODING", "big"), ("SCARD", "big"),
    ("CONFIG", "SET", "set-max-intset-entries", "100"),
    ("SADD", "big", "5"), ("OBJECT", "ENCODING", "big"),
    ("SADD", "big", "901"), ("OBJECT", "ENCODING", "big"),
    ("SPOP", "big", "0"), ("SCARD", "big"),
    ("SINTERSTORE", "bi", "big", "c"), ("OBJECT", "ENCODING", "bi"), ("SMEMBERS", "bi"),
    ("CONFIG", "GET", "set-max-intset-entries"),
    ("CONFIG", "SET", "set-max-intset-entries", "512"),
]


def test_encoding_thresholds_match_redis(server_factory, redis_factory):
    replies = []
    for srv in (redis_factory(), server_factory()):
        with srv.raw() as c:
            replies.append([c.cmd_raw(*cmd) for cmd in THRESHOLD_SCRIPT])
    for cmd, a, b in zip(THRESHOLD_SCRIPT, *replies):
        assert a == b, "%r: redis %r, kasi %r" % (cmd[:4], a, b)


def test_restart_with_another_threshold(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    with s.raw() as c:
        c.cmd("SADD", "ints", *[str(i) for i in range(100)])
        c.cmd("SADD", "few", "1", "2", "3")
        assert encoding(c, "ints") == b"intset" and c.cmd("SAVE") == b"OK"
    kill9(s)
    s = pserver(server_factory, data, ("set-max-intset-entries", "10"), *NO_SAVE)
    with s.raw() as c:
        assert encoding(c, "ints") == b"hashtable" and c.cmd("SCARD", "ints") == 100
        assert encoding(c, "few") == b"intset"
        assert c.cmd("SISMEMBER", "ints", "99") == 1 and c.cmd("SISMEMBER", "ints", "100") == 0


# --------------------------------------------------------------------------
# appendfsync always, kill -9 under random set writers
# --------------------------------------------------------------------------

POOL = [b"%d" % i for i in range(40)] + [b"m%d" % i for i in range(40)] + [b"\x00bin", b""]


class SetWriter:
    """One connection doing random set writes on keys of its own, keeping the
    acknowledged state: {key: (frozenset, pexpiretime or -1)}. `pending` is
    the write in flight: (keys, check(key, got) -> bool for the outcome if
    it was applied)."""

    def __init__(self, wid):
        self.wid = wid
        self.rng = random.Random(700 + wid)
        self.keys = [b"w%d:s%d" % (wid, i) for i in range(8)]
        self.model = {}
        self.pending = None
        self.acked = 0
        self.errors = []

    def run(self, srv, stop):
        try:
            c = srv.raw(timeout=20 * TF)
        except OSError:
            return
        try:
            while not stop.is_set():
                self.step(c)
        except (H.ConnectionClosed, OSError):
            pass
        except Exception as e:  # noqa
            self.errors.append("exception %r" % e)
        finally:
            c.close()

    def members(self, k):
        return self.model.get(k, (frozenset(), -1))[0]

    def put(self, k, members, exp=None):
        if not members:
            self.model.pop(k, None)
        else:
            self.model[k] = (frozenset(members), self.model.get(k, (None, -1))[1] if exp is None else exp)

    def step(self, c):
        rng = self.rng
        k, k2, k3 = (rng.choice(self.keys) for _ in range(3))
        cur = self.members(k)
        x = rng.random()
        exact = {}   # key -> state if applied (None: deleted)
        loose = None
        if x < 0.3:
            add = rng.sample(POOL, rng.randint(1, 4)) if rng.random() < 0.95 else \
                [b"big%d" % i for i in range(rng.randint(100, 600))]
            cmd = ("SADD", k, *add)
            exact[k] = (cur | set(add), self.model.get(k, (None, -1))[1])
        elif x < 0.45:
            rem = rng.sample(POOL, 3) + (list(cur)[:1] if cur else [])
            cmd = ("SREM", k, *rem)
            left = cur - set(rem)
            exact[k] = (left, self.model.get(k, (None, -1))[1]) if left else None
        elif x < 0.65:
            n = rng.choice([None, 1, 3, 50])
            cmd = ("SPOP", k) if n is None else ("SPOP", k, str(n))
            loose = (k, cur, 1 if n is None else n)
        elif x < 0.75:
            m = rng.choice(list(cur)) if cur and rng.random() < 0.8 else rng.choice(POOL)
            cmd = ("SMOVE", k, k2, m)
            if m in cur and k != k2:
                left = cur - {m}
                exact[k] = (left, self.model[k][1]) if left else None
                exact[k2] = (self.members(k2) | {m}, self.model.get(k2, (None, -1))[1])
        elif x < 0.85:
            op = rng.choice(["SUNIONSTORE", "SINTERSTORE", "SDIFFSTORE"])
            cmd = (op, k3, k, k2)
            a, b = cur, self.members(k2)
            res = a | b if op == "SUNIONSTORE" else a & b if op == "SINTERSTORE" else a - b
            exact[k3] = (res, -1) if res else None
        elif x < 0.95:
            at = now_ms() + 3000000 + rng.randint(0, 99999)
            cmd = ("PEXPIREAT", k, str(at))
            if cur:
                exact[k] = (cur, at)
        else:
            cmd = ("DEL", k)
            exact[k] = None
        self.pending = (exact, loose)
        got = c.cmd(*cmd)
        if isinstance(got, H.RespError):
            self.errors.append("%r: %r" % (cmd[:3], got))
        if loose:   # SPOP: the reply says what went
            popped = set([got] if not isinstance(got, list) else got) - {None}
            if not popped <= cur or len(popped) != min(loose[2], len(cur)):
                self.errors.append("%r popped %r of %r" % (cmd, short(popped), short(cur)))
            self.put(k, cur - popped)
        for key, st in exact.items():
            if st is None:
                self.model.pop(key, None)
            else:
                self.put(key, st[0], st[1])
        self.pending = None
        self.acked += 1

    def verify(self, actual):
        problems = []
        exact, loose = self.pending if self.pending else ({}, None)
        for k in self.keys:
            got = actual.get(k)
            want = self.model.get(k)
            if got == want:
                continue
            if k in exact and got == (None if exact[k] is None else (frozenset(exact[k][0]), exact[k][1])):
                continue
            if loose and loose[0] == k:   # a pop in flight: the acknowledged set less some members
                cur, n = loose[1], loose[2]
                left = got[0] if got else frozenset()
                if left <= cur and len(cur) - len(left) == min(n, len(cur)) and \
                        (got is None or (want is not None and got[1] == want[1])):
                    continue
            problems.append("%r: after restart %s, acknowledged %s" % (k, short(got, 100), short(want, 100)))
        if not problems:   # adopt the outcome of the write in flight
            for k in self.keys:
                if k in actual:
                    self.model[k] = actual[k]
                else:
                    self.model.pop(k, None)
        self.pending = None
        return problems


def writer_state(srv):
    out = {}
    for (dom, k), (t, v, pt) in set_state(srv, ("default",)).items():
        assert t == b"set", (k, t)
        out[k] = (v, pt)
    return out


def test_kill9_always_keeps_every_acknowledged_set_write(server_factory, tmp_path):
    rng = random.Random(5)
    writers = [SetWriter(w) for w in range(4)]

    def check(s, trial):
        for w in writers:
            assert not w.errors, w.errors[:5]
        actual = writer_state(s)
        problems = []
        for w in writers:
            problems += w.verify(actual)
        assert not problems, "trial %d: %d problems:\n  %s" % (trial, len(problems), "\n  ".join(problems[:15]))

    kill9_trials(server_factory, tmp_path / "data", [w.run for w in writers],
                 lambda trial: time.sleep(rng.uniform(0.3, 1.0) * min(TF, 2)), check, trials=4)
    total = sum(w.acked for w in writers)
    assert total > 200, "too few acknowledged writes (%d) to mean anything" % total


def test_multi_key_commands_are_atomic_across_workers(server_factory):
    """Members moved between shared sets by SMOVE on several connections (so
    several worker threads) while others take SUNIONSTORE snapshots and
    SINTERCARDs: no member is ever lost, doubled or seen in two places."""
    s = server_factory([("threads", "4")])
    members = [b"%d" % i for i in range(60)] + [b"m%d" % i for i in range(60)]
    keys = [b"{a}", b"b", b"c:3", b"dd"]
    with s.raw() as c:
        c.cmd("SADD", keys[0], *members)
    stop = threading.Event()
    errors = []

    def mover(seed):
        rng = random.Random(seed)
        try:
            with s.raw(timeout=20 * TF) as c:
                while not stop.is_set():
                    a, b = rng.sample(keys, 2)
                    r = c.cmd("SMOVE", a, b, rng.choice(members))
                    if r not in (0, 1):
                        errors.append("SMOVE %r" % (r,))
        except Exception as e:  # noqa
            errors.append(repr(e))

    def checker():
        try:
            with s.raw(timeout=20 * TF) as c:
                while not stop.is_set():
                    n = c.cmd("SUNIONSTORE", "all", *keys)
                    if n != len(members):
                        errors.append("SUNIONSTORE gave %r members" % (n,))
                    for i in range(len(keys)):
                        for j in range(i + 1, len(keys)):
                            if c.cmd("SINTERCARD", "2", keys[i], keys[j]) != 0:
                                errors.append("a member in %r and %r at once" % (keys[i], keys[j]))
        except Exception as e:  # noqa
            errors.append(repr(e))

    threads = [threading.Thread(target=mover, args=(i,), daemon=True) for i in range(4)]
    threads.append(threading.Thread(target=checker, daemon=True))
    for t in threads:
        t.start()
    time.sleep(2.0 * min(TF, 2))
    stop.set()
    for t in threads:
        t.join(20 * TF)
    assert not errors, errors[:5]
    with s.raw() as c:
        total = sum(c.cmd("SCARD", k) for k in keys)
        assert total == len(members)
        assert sorted(c.cmd("SUNION", *keys)) == sorted(members)


def test_bgsave_of_a_big_set_is_point_in_time(server_factory, tmp_path):
    """BGSAVE, then at once remove and add members of a 100k-member set: the
    snapshot (written from a frozen view) holds the set as it was."""
    from test_persistence import NO_SAVE, info, pserver, shutdown
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    n = 100000
    with s.raw(timeout=60 * H.TIME_FACTOR) as c:
        for base in range(0, n, 1000):
            c.cmd("SADD", "big", *[b"m%07d" % j for j in range(base, base + 1000)])
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        c.cmd("SREM", "big", *[b"m%07d" % j for j in range(0, n, 2)])
        c.cmd("SADD", "big", *[b"new%07d" % j for j in range(0, 5000)])
        H.wait_for(lambda: info(s, "persistence").get("rdb_bgsave_in_progress") == "0", 60 * H.TIME_FACTOR)
        assert info(s, "persistence").get("rdb_last_bgsave_status") == "ok"
    assert shutdown(s, "NOSAVE") == 0
    s2 = pserver(server_factory, data, *NO_SAVE)
    with s2.raw(timeout=60 * H.TIME_FACTOR) as c:
        assert c.cmd("SCARD", "big") == n
        assert sorted(c.cmd("SMEMBERS", "big")) == [b"m%07d" % j for j in range(n)]
