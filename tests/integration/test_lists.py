"""Lists through persistence and under load: small (inline) and big lists, with
and without TTLs, in several domains, survive a snapshot, the AOF (replayed as
the effects the writes logged) and an AOF rewrite; kill -9 under appendfsync
always loses no acknowledged push; a BGSAVE holds a big list as it was at its
instant while writes change it (or DEL it) at once; a big list is freed by the
background thread; redis-benchmark's list tests run clean; a big list costs
about 18 bytes per 16-byte element.

Every test starts its own servers on a data directory of its own and restarts
on it to see what was kept (helpers from test_persistence.py)."""
import random
import threading
import time

import pytest

import kasi_harness as H
from test_persistence import (AOF_ALWAYS, AOF_EVERYSEC, NO_SAVE, TF, check_freed_in_background, info,
                              kill9, now_ms, pserver, scan_all, select, send_all, shutdown, wait_bgsave,
                              wait_info)

pytestmark = pytest.mark.kasi_only

LIST_DOMAINS = ("default", "q", "lists 2")


def list_state(srv, domains=LIST_DOMAINS):
    """{(domain, key): (type, elements or value, pexpiretime)} of every key."""
    state = {}
    with srv.raw(timeout=30 * TF) as c:
        for dom in domains:
            select(c, dom)
            for k in sorted(scan_all(c)):
                t = c.cmd("TYPE", k)
                v = c.cmd("LRANGE", k, 0, -1) if t == b"list" else c.cmd("GET", k)
                state[(dom, k)] = (t, v, c.cmd("PEXPIRETIME", k))
    return state


def assert_same(expected, actual, what):
    diff = [dk for dk in sorted(set(expected) | set(actual)) if expected.get(dk) != actual.get(dk)]
    assert not diff, "%s: %d keys differ, first %r:\n  expected %r\n  found    %r" % (
        what, len(diff), diff[0], str(expected.get(diff[0]))[:300], str(actual.get(diff[0]))[:300])


def elem(rng):
    x = rng.random()
    if x < 0.05:
        return b""
    if x < 0.08:
        return rng.randbytes(rng.randint(3000, 9000))   # bigger than a node
    if x < 0.3:
        return b"e\r\n\x00" + rng.randbytes(rng.randint(0, 40))
    return b"%d" % rng.randint(0, 30)


def list_writes(rng, keys, n, base):
    """n random list writes over keys (every list write command, TTLs too)."""
    cmds = []
    for _ in range(n):
        k, k2 = rng.choice(keys), rng.choice(keys)
        x = rng.randint(0, 15)
        if x <= 3:
            cmds.append((rng.choice(["LPUSH", "RPUSH"]), k) + tuple(elem(rng) for _ in range(rng.randint(1, 20))))
        elif x == 4:
            cmds.append((rng.choice(["LPUSHX", "RPUSHX"]), k, elem(rng)))
        elif x == 5:
            cmds.append((rng.choice(["LPOP", "RPOP"]), k) + rng.choice([(), (str(rng.randint(0, 30)),)]))
        elif x == 6:
            cmds.append(("LSET", k, str(rng.randint(-20, 20)), elem(rng)))
        elif x == 7:
            cmds.append(("LINSERT", k, rng.choice(["BEFORE", "AFTER"]), b"%d" % rng.randint(0, 30), elem(rng)))
        elif x == 8:
            cmds.append(("LREM", k, str(rng.randint(-2, 2)), b"%d" % rng.randint(0, 30)))
        elif x == 9:
            cmds.append(("LTRIM", k, str(rng.randint(-50, 5)), str(rng.randint(-5, 400))))
        elif x == 10:
            cmds.append(("LMOVE", k, k2, rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"])))
        elif x == 11:
            cmds.append(("RPOPLPUSH", k, k2))
        elif x == 12:
            cmds.append(("LMPOP", "2", k, k2, rng.choice(["LEFT", "RIGHT"]), "COUNT", str(rng.randint(1, 9))))
        elif x == 13:
            cmds.append(("PEXPIREAT", k, str(base + 3000000 + rng.randint(0, 99999))))
        elif x == 14:
            cmds.append(("RPUSH", k) + tuple(b"big%d" % i for i in range(rng.choice([50, 700]))))
        else:
            cmds.append(("PERSIST", k))
    return cmds


def populate_lists(srv, seed, n=1500):
    """Small and big lists in every domain; returns the state."""
    rng = random.Random(seed)
    base = now_ms()
    with srv.raw(timeout=60 * TF) as c:
        for dom in LIST_DOMAINS:
            select(c, dom)
            keys = [b"l:%s:%d" % (dom.encode(), i) for i in range(12)]
            cmds = [("RPUSH", b"big:" + dom.encode()) + tuple(b"%08d" % i for i in range(30000)),
                    ("RPUSH", b"ttl-big") + tuple(b"x%d" % i for i in range(5000)),
                    ("PEXPIREAT", b"ttl-big", str(base + 5000000)),
                    ("RPUSH", b"ttl-small", b"a", b"", b"c"),
                    ("PEXPIRE", b"ttl-small", "7000000"),
                    ("SET", b"str", b"plain")]
            cmds += list_writes(rng, keys, n, base)
            replies = send_all(c, cmds)
            errs = [(cmd[:3], r) for cmd, r in zip(cmds, replies)
                    if isinstance(r, H.RespError) and not str(r).startswith(("ERR index out of range",
                                                                            "ERR no such key"))]
            assert not errs, errs[:5]
    return list_state(srv)


def test_lists_survive_snapshot(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data)
    before = populate_lists(s, seed=1)
    assert len(before) > 30
    with s.raw() as c:
        assert c.cmd("OBJECT", "ENCODING", "big:default") == b"quicklist"
        assert c.cmd("SAVE") == b"OK"
    kill9(s)
    s = pserver(server_factory, data)
    assert_same(before, list_state(s), "after SAVE and kill -9")
    with s.raw() as c:
        assert c.cmd("LINDEX", "big:default", 29999) == b"00029999"
        assert c.cmd("OBJECT", "ENCODING", "ttl-small") == b"quicklist"


def more_writes(s, rng, n=300):
    with s.raw(timeout=30 * TF) as c:
        for dom in LIST_DOMAINS:
            select(c, dom)
            send_all(c, list_writes(rng, [b"l:%s:%d" % (dom.encode(), i) for i in range(12)], n, now_ms()))


def kill_and_compare(server_factory, data, conf, s, what):
    """kill -9 s, restart on data: it holds what s held. Returns the new server."""
    before = list_state(s)
    if conf is AOF_EVERYSEC:
        time.sleep(1.2)   # the last second reaches the file (kill -9 loses no page cache)
    kill9(s)
    s = pserver(server_factory, data, *conf)
    assert_same(before, list_state(s), what)
    return s


@pytest.mark.parametrize("conf", [AOF_ALWAYS, AOF_EVERYSEC], ids=["always", "everysec"])
def test_lists_survive_aof_and_rewrite(server_factory, tmp_path, conf):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *conf)
    populate_lists(s, seed=2)
    s = kill_and_compare(server_factory, data, conf, s, "after the AOF replayed")

    # a rewrite while lists keep changing, then more writes on top of it
    n0 = int(info(s, "persistence")["aof_rewrites"])
    with s.raw() as c:
        assert c.cmd_raw("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
    rng = random.Random(3)
    more_writes(s, rng)
    wait_info(s, "persistence", lambda d: d["aof_rewrite_in_progress"] == "0"
              and d["aof_rewrite_scheduled"] == "0" and int(d["aof_rewrites"]) > n0, 30, "rewrite")
    more_writes(s, rng)
    s = kill_and_compare(server_factory, data, conf, s, "after a rewrite and kill -9")
    before = list_state(s)
    assert shutdown(s) == 0
    s = pserver(server_factory, data, *conf)
    assert_same(before, list_state(s), "after a clean restart")


@pytest.mark.parametrize("then", ["write", "delete"])
def test_bgsave_of_a_big_list_is_point_in_time(server_factory, tmp_path, then):
    """BGSAVE, then at once LSET, LPOP, RPUSH, LINSERT and LTRIM across a
    200k-element list (or DEL it) while the snapshot runs: the snapshot
    holds the list as it was at the BGSAVE. The first write hands the list
    to the snapshot as a frozen view (its node pointers), and the writes
    copy the nodes they change while the view lives."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    n = 200000
    old = [b"old-%07d" % j for j in range(n)]
    with s.raw(timeout=60 * TF) as c:
        for base in range(0, n, 5000):
            c.cmd("RPUSH", "big", *old[base:base + 5000])
        c.cmd("RPUSH", "small", "a")
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        if then == "delete":
            assert c.cmd("DEL", "big") == 1
        else:
            cmds = [("LSET", "big", str(j), b"new-%07d" % j) for j in range(0, n, 97)]
            cmds += [("LPOP", "big", "300"), ("RPUSH", "big") + tuple(b"tail%d" % j for j in range(500))]
            cmds += [("LINSERT", "big", "BEFORE", b"old-%07d" % j, b"ins%d" % j) for j in range(1, n, 4999)]
            cmds += [("LSET", "big", str(-j), b"end%d" % j) for j in range(1, 2000, 7)]
            cmds += [("LTRIM", "big", "1000", "-1000"), ("LREM", "big", "0", b"old-0100000")]
            replies = send_all(c, cmds)
            errs = [(cmd[:3], r) for cmd, r in zip(cmds, replies) if isinstance(r, H.RespError)]
            assert not errs, errs[:5]
            assert c.cmd("LLEN", "big") < n
        c.cmd("RPUSH", "small", "b")
        assert wait_bgsave(s, 60).get("rdb_last_bgsave_status") == "ok"
    assert shutdown(s, "NOSAVE") == 0
    s2 = pserver(server_factory, data, *NO_SAVE)
    with s2.raw(timeout=60 * TF) as c:
        assert c.cmd("LLEN", "big") == n
        got = c.cmd("LRANGE", "big", 0, -1)
        assert got == old, next((j, g) for j, (g, o) in enumerate(zip(got, old)) if g != o)
        assert c.cmd("LRANGE", "small", 0, -1) == [b"a"]


def test_big_list_is_freed_in_the_background(server_factory):
    """DEL, overwrite and expiry of a big list hand it to the background
    freeing thread (INFO lazyfreed_objects counts it); small ones are freed
    at once."""
    s = server_factory([("save", "")])
    with s.raw(timeout=60 * TF) as c:
        def fill(key, n=20000):
            for base in range(0, n, 1000):
                assert c.cmd("RPUSH", key, *[b"element-%d" % j for j in range(base, base + 1000)]) == base + 1000

        check_freed_in_background(s, c, fill, ("RPUSH", "small", "a"))


class Pusher:
    """One connection pushing numbered elements to lists of its own, and
    popping now and then; remembers what was acknowledged."""

    def __init__(self, wid):
        self.wid = wid
        self.rng = random.Random(100 + wid)
        self.model = {}          # key -> list of elements acknowledged
        self.pending = None      # (key, list if the write in flight applied)
        self.error = None

    def run(self, srv, stop):
        n = 0
        try:
            with srv.raw(timeout=20 * TF) as c:
                select(c, "q")
                while not stop.is_set():
                    n += 1
                    key = b"w%d:%d" % (self.wid, self.rng.randint(0, 5))
                    cur = self.model.get(key, [])
                    x = self.rng.random()
                    if x < 0.7:
                        v = [b"%d-%d" % (self.wid, n + i) for i in range(self.rng.randint(1, 30))]
                        new, cmd, want = cur + v, ("RPUSH", key) + tuple(v), len(cur) + len(v)
                    elif x < 0.85:
                        k = self.rng.randint(1, 10)
                        new, cmd, want = cur[k:], ("LPOP", key, str(k)), (cur[:k] or None)
                    else:
                        new = cur[:1] + [b"set%d" % n] + cur[2:] if len(cur) >= 2 else cur
                        cmd = ("LSET", key, "1", b"set%d" % n)
                        want = b"OK" if len(cur) >= 2 else None
                    self.pending = (key, new)
                    got = c.cmd(*cmd)
                    if want is None and isinstance(got, H.RespError):
                        got = None
                    if got != want:
                        raise AssertionError("%r replied %r, expected %r" % (cmd[:3], got, want))
                    self.model[key] = new
                    self.pending = None
        except (H.ConnectionClosed, OSError):
            pass
        except Exception as e:  # noqa
            self.error = e


def test_kill9_loses_no_acknowledged_list_write(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    stop = threading.Event()
    pushers = [Pusher(w) for w in range(3)]
    threads = [threading.Thread(target=p.run, args=(s, stop), daemon=True) for p in pushers]
    for t in threads:
        t.start()
    try:
        assert H.wait_for(lambda: all(sum(len(v) for v in p.model.values()) > 3000 for p in pushers), 30 * TF)
        kill9(s)
    finally:
        stop.set()
        for t in threads:
            t.join(20 * TF)
    for p in pushers:
        assert p.error is None, p.error
    s = pserver(server_factory, data, *AOF_ALWAYS)
    with s.raw(timeout=30 * TF) as c:
        select(c, "q")
        for p in pushers:
            for key, want in p.model.items():
                got = c.cmd("LRANGE", key, 0, -1)
                pend = p.pending[1] if p.pending and p.pending[0] == key else None
                assert got == want or got == pend, "%r: %d elements after restart, %d acknowledged" % (
                    key, len(got), len(want))


def test_redis_benchmark_list_tests(srv):
    import os
    import subprocess
    if not os.access(H.REDIS_BENCHMARK, os.X_OK):
        pytest.skip("redis-benchmark not installed")
    p = subprocess.run([H.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(srv.port), "-n", "2000", "-q",
                        "-t", "lpush,rpush,lpop,rpop,lrange_100"],
                       capture_output=True, text=True, timeout=120 * TF)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    for test in ("LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE_100"):
        assert test in out, out
    assert "ERR" not in out and "error" not in out.lower(), out
    with srv.raw() as c:
        assert c.cmd("TYPE", "mylist") == b"list"


def test_big_list_memory(server_factory, tmp_path):
    """1M 16-byte elements: what the list holds outside its segment (MEMORY
    USAGE) is at most Redis 7.0's 18.6 bytes an element."""
    s = server_factory(list(NO_SAVE))
    n, chunk = 1000000, 10000
    with s.raw(timeout=60 * TF) as c:
        for i in range(0, n, chunk):
            c.send(H.encode_command("RPUSH", "big", *[b"%016d" % j for j in range(i, i + chunk)]))
            assert c.read() == i + chunk
        usage = c.cmd("MEMORY", "USAGE", "big")
        assert usage / n <= 18.6, usage / n
        assert c.cmd("LINDEX", "big", 777777) == b"%016d" % 777777
        assert c.cmd("LRANGE", "big", -2, -1) == [b"%016d" % (n - 2), b"%016d" % (n - 1)]
