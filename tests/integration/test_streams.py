"""Streams kept across restarts: XADD (with "*", "ms-*" and explicit IDs, with
MAXLEN/MINID trimming, exact and approximate, LIMIT), XDEL, XTRIM and XSETID
writes, streams with a TTL, in another domain, emptied ones, under changed node
sizes, come back exactly (every entry, the node layout XINFO shows, the last,
first and max-deleted IDs, entries-added) through a snapshot, through the AOF
under appendfsync always after a clean stop and after kill -9, and through an
AOF rewrite; a BGSAVE is point in time while the stream changes or goes; big
streams are freed in the background; COPY, RENAME and MOVE keep them whole;
maxmemory evicts whole streams and counts what they hold.
Replies are compared with Redis's in tests/diff/test_diff_streams.py."""
import random
import time

import pytest

import kasi_harness as H
from test_persistence import (NO_SAVE, RESTARTS, TF, check_freed_in_background, info, pserver, restart_trial,
                              send_all, shutdown, wait_bgsave)

pytestmark = pytest.mark.kasi_only

KEYS = [b"x%d" % i for i in range(5)]


def load(c, rng):
    """Stream writes of every kind."""
    assert c.cmd("XADD", "auto", "*", "f", "v").count(b"-") == 1      # a generated ID
    for _ in range(300):
        c.cmd("XADD", "auto", "*", "a", rng.randrange(1000), "b", "x" * rng.randrange(30))
    assert c.cmd("XADD", "part", "5-*", "f", "v") == b"5-0"
    assert c.cmd("XADD", "part", "5-*", "f", "v") == b"5-1"
    assert c.cmd("XADD", "ttl", "1-1", "f", "v") == b"1-1"
    assert c.cmd("PEXPIRE", "ttl", 10 ** 9) == 1
    assert c.cmd("XADD", "empty", "7-7", "f", "v") == b"7-7"
    assert c.cmd("XDEL", "empty", "7-7") == 1                         # stays, empty
    assert c.cmd("XSETID", "empty", "9-9", "ENTRIESADDED", 12, "MAXDELETEDID", "8-0") == b"OK"
    for i in range(1, 2000):                                           # approximate trims by XADD
        c.cmd("XADD", "capped", "MAXLEN", "~", 250, "%d-1" % i, "n", i)
    for i in range(1, 600):
        c.cmd("XADD", "bymin", "MINID", "~", max(1, i - 230), "%d-1" % i, "n", i)
    assert c.cmd("XTRIM", "bymin", "MINID", "=", 500) > 0
    assert 0 < c.cmd("XTRIM", "capped", "MAXLEN", "~", 120, "LIMIT", 100) <= 100
    for k in KEYS:
        for i in range(rng.randrange(20, 200)):
            c.cmd("XADD", k, "%d-%d" % (i // 3 + 1, i % 3), *rng.choice(
                [("f", i), ("f", i, "g", "v"), ("other", "x" * rng.randrange(100))]))
    for _ in range(400):                                               # a random mix
        k = rng.choice(KEYS)
        x = rng.random()
        if x < 0.4:
            c.cmd("XADD", k, rng.choice(["*", "%d-*" % rng.randrange(100)]), "f", rng.randrange(99))
        elif x < 0.6:
            c.cmd("XDEL", k, *["%d-%d" % (rng.randrange(80), rng.randrange(3)) for _ in range(3)])
        elif x < 0.7:
            c.cmd("XTRIM", k, rng.choice(["MAXLEN", "MINID"]), rng.choice(["~", "="]), rng.randrange(60))
        elif x < 0.8:
            c.cmd("XADD", k, "MAXLEN", rng.choice(["~", "="]), rng.randrange(40, 90), "*", "t", 1)
        else:
            c.cmd("XSETID", k, "99999999999999-%d" % rng.randrange(10))
    assert c.cmd("SELECT", "streams") == b"OK"
    assert c.cmd("XADD", "other", "3-3", "f", "v") == b"3-3"
    assert c.cmd("SELECT", "0") == b"OK"


def state(c):
    """Every stream, whole (XINFO STREAM FULL: entries, node counts, IDs and
    counters), and whether it has a TTL, in both domains."""
    out = {}
    for db in ("0", "streams"):
        assert c.cmd("SELECT", db) == b"OK"
        for k in sorted(c.cmd("KEYS", "*")):
            assert c.cmd("TYPE", k) == b"stream"
            out[(db, k)] = (c.cmd("XINFO", "STREAM", k, "FULL", "COUNT", 0), c.cmd("TTL", k) > 0)
    assert c.cmd("SELECT", "0") == b"OK"
    return out


def field(st, key, name):
    info = st[("0", key)][0]
    return info[info.index(name) + 1]


@pytest.mark.parametrize("how", RESTARTS)
def test_streams_survive_restart(server_factory, tmp_path, how):
    """Small nodes (7 entries) so that node boundaries and approximate trims
    matter. The AOF replays writes under the node size in force when it is
    loaded, as Redis's does, so the size is a directive, not changed at run
    time."""
    def after_rewrite(c):   # lands in the new incremental file
        c.cmd("XADD", "after", "*", "f", "v")
        c.cmd("XADD", "capped", "MAXLEN", "~", 50, "*", "g", "w")
        c.cmd("XDEL", "part", "5-0")

    want, got, s2 = restart_trial(server_factory, tmp_path / "data", how, lambda c: load(c, random.Random(11)),
                                  state, after_rewrite, extra=(("stream-node-max-entries", "7"),))
    assert field(want, b"empty", b"length") == 0
    assert field(want, b"empty", b"entries-added") == 12
    assert field(want, b"empty", b"max-deleted-entry-id") == b"8-0"
    assert want[("0", b"ttl")][1]
    assert field(want, b"capped", b"radix-tree-keys") > 1
    assert ("streams", b"other") in want
    with s2.raw(timeout=30 * TF) as c:
        # the generated IDs carry on from the restored last ID
        last = field(got, b"auto", b"last-generated-id")
        new = c.cmd("XADD", "auto", "*", "f", "v")
        assert [int(p) for p in new.split(b"-")] > [int(p) for p in last.split(b"-")]
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k


@pytest.mark.parametrize("then", ["write", "delete"])
def test_bgsave_of_a_big_stream_is_point_in_time(server_factory, tmp_path, then):
    """BGSAVE, then at once XADD, XDEL, XTRIM and XSETID across a 200k-entry
    stream (or DEL it) while the snapshot runs: the snapshot holds the stream
    as it was at the BGSAVE. The first write hands the stream to the snapshot
    as a frozen view (its nodes, referenced), and the writes copy the nodes
    they change while the view lives."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    n = 200000
    with s.raw(timeout=60 * TF) as c:
        for base in range(0, n, 2000):
            send_all(c, [("XADD", "big", "%d-1" % (j + 1), "f", "old-%07d" % j) for j in range(base, base + 2000)])
        c.cmd("XADD", "small", "1-1", "a", "b")
        before = c.cmd("XINFO", "STREAM", "big")
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        if then == "delete":
            assert c.cmd("DEL", "big") == 1
        else:
            cmds = [("XDEL", "big", "%d-1" % j) for j in range(1, n, 97)]
            cmds += [("XADD", "big", "*", "new", j) for j in range(500)]
            cmds += [("XTRIM", "big", "MINID", "=", "%d" % (n // 2 + 3)), ("XSETID", "big", "99999999999999-0")]
            replies = send_all(c, cmds)
            errs = [(cmd[:3], r) for cmd, r in zip(cmds, replies) if isinstance(r, H.RespError)]
            assert not errs, errs[:5]
            assert c.cmd("XLEN", "big") < n
        c.cmd("XADD", "small", "2-1", "c", "d")
        assert wait_bgsave(s, 60).get("rdb_last_bgsave_status") == "ok"
    assert shutdown(s, "NOSAVE") == 0
    s2 = pserver(server_factory, data, *NO_SAVE)
    with s2.raw(timeout=60 * TF) as c:
        assert c.cmd("XINFO", "STREAM", "big") == before
        got = c.cmd("XRANGE", "big", "-", "+")
        assert len(got) == n
        assert all(e == [b"%d-1" % (j + 1), [b"f", b"old-%07d" % j]] for j, e in enumerate(got))
        assert c.cmd("XLEN", "small") == 1


def test_big_stream_is_freed_in_the_background(server_factory):
    """DEL, overwrite and expiry of a big stream hand it to the background
    freeing thread (INFO lazyfreed_objects counts it); small ones are freed
    at once."""
    s = server_factory([("save", "")])
    with s.raw(timeout=60 * TF) as c:
        def fill(key, n=20000):
            send_all(c, [("XADD", key, "*", "field", "value-%d" % j) for j in range(n)])
            assert c.cmd("XLEN", key) == n

        check_freed_in_background(s, c, fill, ("XADD", "small", "*", "a", "b"))


def test_copy_rename_move_and_memory(server_factory):
    """COPY makes an independent stream; RENAME and MOVE carry it whole; what
    a stream holds outside its item is counted in used_memory and given back."""
    s = server_factory([("save", "")])
    with s.raw(timeout=60 * TF) as c:
        def used():
            return int(info(s, "memory")["used_memory"])

        # used_memory counts what the process holds resident beyond its
        # start (fragmentation), learnt once a second: a few hundred KB that
        # the stream must dwarf, and that the base must include
        assert c.cmd("SELECT", "1") == b"OK" and c.cmd("SET", "keep", "1") == b"OK"
        assert c.cmd("SELECT", "0") == b"OK"
        time.sleep(1.2)
        base = used()
        send_all(c, [("XADD", "s", "%d-1" % (j + 1), "f", "v%d" % j) for j in range(150000)])
        grown = used() - base
        assert grown > 150000 * 10, grown
        assert c.cmd("COPY", "s", "c") == 1
        assert c.cmd("XDEL", "c", "1-1") == 1
        assert c.cmd("XADD", "c", "999999-1", "g", "w") == b"999999-1"
        assert c.cmd("XLEN", "s") == 150000 and c.cmd("XLEN", "c") == 150000
        assert c.cmd("XRANGE", "s", "-", "+", "COUNT", 1) == [[b"1-1", [b"f", b"v0"]]]
        assert used() - base > grown * 1.8
        info_s = c.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", 0)
        assert c.cmd("RENAME", "s", "r") == b"OK"
        assert c.cmd("MOVE", "r", "1") == 1
        assert c.cmd("SELECT", "1") == b"OK"
        assert c.cmd("XINFO", "STREAM", "r", "FULL", "COUNT", 0) == info_s
        assert c.cmd("DEL", "r") == 1
        assert c.cmd("SELECT", "0") == b"OK"
        assert c.cmd("DEL", "c") == 1
        assert H.wait_for(lambda: used() - base < grown / 4, 10 * TF), (used() - base, grown)


@pytest.mark.parametrize("policy", ["allkeys-lru", "s3fifo"])
def test_maxmemory_evicts_big_streams(server_factory, policy):
    """Streams count against maxmemory with what they hold outside their
    items, and eviction evicts them: 40 streams of 10,000 entries (about
    50 MB) under a 16 MB bound keep used_memory near the bound, whole streams
    go, and the rest stay intact."""
    s = server_factory([("save", ""), ("maxmemory", "16mb"), ("maxmemory-policy", policy)])
    with s.raw(timeout=60 * TF) as c:
        for k in range(40):
            replies = send_all(c, [("XADD", "s%d" % k, "%d-1" % (j + 1), "f", b"%090d" % j) for j in range(10000)])
            errs = [r for r in replies if isinstance(r, H.RespError)]
            assert not errs, errs[:3]
            used = int(info(s, "memory")["used_memory"])
            assert used <= 16 * 1024 * 1024 * 1.15, (k, used)
        assert int(info(s, "stats")["evicted_keys"]) >= 20
        left = [k for k in range(40) if c.cmd("EXISTS", "s%d" % k)]
        assert 1 <= len(left) < 20, left
        for k in left:   # a stream evicted while it was written starts again where it was cut
            # read at one instant: the cron may still evict a stream meanwhile
            key = "s%d" % k
            assert c.cmd("MULTI") == b"OK"
            for cmd in (("XRANGE", key, "-", "+", "COUNT", 1), ("XLEN", key),
                        ("XREVRANGE", key, "+", "-", "COUNT", 1), ("XRANGE", key, "-", "+")):
                assert c.cmd(*cmd) == b"QUEUED"
            head, n, tail, whole = c.cmd("EXEC")
            if not head:
                continue   # evicted since
            first = int(head[0][0].split(b"-")[0])
            assert n == 10000 - first + 1
            assert tail[0][0] == b"10000-1"
            assert len(whole) == n
