"""Stream consumer groups kept across restarts and copies: groups (with
entries-read known and unknown, lag), consumers (seen-times), and pending
entries (their consumer, delivery time and count) come back exactly, XINFO
STREAM FULL and XINFO GROUPS compared whole, seen-times and delivery times
included, through a snapshot, the AOF under appendfsync always after a clean
stop and after kill -9, an AOF rewrite, DUMP/RESTORE, COPY and a BGSAVE taken
while the groups change; the AOF replays XREADGROUP's deliveries and the
claims' counts and times as they were (the log carries them: replaying reads
no clock); kill -9 while consumers read and acknowledge loses no
acknowledged write; a big PEL is freed in the background and counted in the
key's memory; XREADGROUP BLOCK answers as XREAD BLOCK does until blocking
commands come. Replies are compared with Redis's in
tests/diff/test_diff_streams.py (diff_scripts_groups.py)."""
import random
import time

import pytest

import kasi_harness as H
from test_persistence import (NO_SAVE, RESTARTS, TF, check_freed_in_background, info, kill9_trials, pserver,
                              restart_trial, send_all, shutdown, wait_bgsave)

pytestmark = pytest.mark.kasi_only


def load(c, rng):
    """Groups in every state; times read the clock (XREADGROUP, XAUTOCLAIM,
    CREATECONSUMER) or are given (XCLAIM TIME, IDLE)."""
    for i in range(1, 400):
        c.cmd("XADD", "s", "%d-1" % i, "f", i, "g", "x" * rng.randrange(20))
    assert c.cmd("XGROUP", "CREATE", "s", "g1", "0") == b"OK"
    assert c.cmd("XGROUP", "CREATE", "s", "g2", "$") == b"OK"
    assert c.cmd("XGROUP", "CREATE", "s", "g3", "100-1", "ENTRIESREAD", 100) == b"OK"
    assert c.cmd("XGROUP", "CREATE", "s", "unknown", "50-1") == b"OK"
    assert c.cmd("XGROUP", "CREATE", "made", "g", "$", "MKSTREAM") == b"OK"
    for _ in range(60):
        who = rng.choice(["alice", "bob", "carol", "a" * 40])
        c.cmd("XREADGROUP", "GROUP", "g1", who, "COUNT", rng.randrange(1, 9), "STREAMS", "s", ">")
        time.sleep(0.001)
    c.cmd("XREADGROUP", "GROUP", "g3", "dave", "NOACK", "COUNT", 7, "STREAMS", "s", ">")
    c.cmd("XREADGROUP", "GROUP", "g3", "dave", "COUNT", 3, "STREAMS", "s", ">")
    c.cmd("XREADGROUP", "GROUP", "g1", "alice", "COUNT", 4, "STREAMS", "s", "0")   # history: count + 1
    pending = [e[0] for e in c.cmd("XPENDING", "s", "g1", "-", "+", 1000)]
    assert len(pending) > 100
    assert c.cmd("XACK", "s", "g1", *rng.sample(pending, 40)) == 40
    c.cmd("XCLAIM", "s", "g1", "erin", 0, *rng.sample(pending, 10), "TIME", 123456, "RETRYCOUNT", 5)
    c.cmd("XCLAIM", "s", "g1", "erin", 0, "399-1", "FORCE", "TIME", 777, "JUSTID", "LASTID", "399-1")
    c.cmd("XCLAIM", "s", "g1", "frank", 0, *rng.sample(pending, 5), "IDLE", 5000, "JUSTID")
    c.cmd("XAUTOCLAIM", "s", "g1", "gina", 0, "0", "COUNT", 7)
    assert c.cmd("XGROUP", "CREATECONSUMER", "s", "g2", "lurker") == 1
    assert c.cmd("XGROUP", "DELCONSUMER", "s", "g1", "carol") >= 0
    assert c.cmd("XDEL", "s", *pending[:3]) >= 1                     # pending, then deleted
    c.cmd("XAUTOCLAIM", "s", "g1", "gina", 0, "0", "COUNT", 2)        # drops deleted ones
    assert c.cmd("XGROUP", "SETID", "s", "unknown", "60-1", "ENTRIESREAD", -1) == b"OK"
    assert c.cmd("SELECT", "streams") == b"OK"
    c.cmd("XADD", "other", "3-3", "f", "v")
    assert c.cmd("XGROUP", "CREATE", "other", "og", "0") == b"OK"
    c.cmd("XREADGROUP", "GROUP", "og", "oc", "STREAMS", "other", ">")
    assert c.cmd("SELECT", "0") == b"OK"


def state(c):
    """Every stream whole, its groups included (XINFO STREAM FULL: pending
    entries with their delivery times and counts, consumers with their
    seen-times), and XINFO GROUPS (entries-read, lag), in both domains."""
    out = {}
    for db in ("0", "streams"):
        assert c.cmd("SELECT", db) == b"OK"
        for k in sorted(c.cmd("KEYS", "*")):
            out[(db, k)] = (c.cmd("XINFO", "STREAM", k, "FULL", "COUNT", 0), c.cmd("XINFO", "GROUPS", k))
    assert c.cmd("SELECT", "0") == b"OK"
    return out


def groups_of(full):
    return full[full.index(b"groups") + 1]


@pytest.mark.parametrize("how", RESTARTS)
def test_groups_survive_restart(server_factory, tmp_path, how):
    def after_rewrite(c):   # lands in the new incremental file
        c.cmd("XREADGROUP", "GROUP", "g1", "zed", "COUNT", 3, "STREAMS", "s", ">")
        c.cmd("XCLAIM", "s", "g1", "zed", 0, "398-1", "TIME", 999, "FORCE", "JUSTID")
        c.cmd("XGROUP", "DESTROY", "s", "g2")

    want, got, s2 = restart_trial(server_factory, tmp_path / "data", how, lambda c: load(c, random.Random(5)),
                                  state, after_rewrite)
    full = want[("0", b"s")][0]
    g1 = groups_of(full)[0]
    assert g1[1] == b"g1" and g1[g1.index(b"pel-count") + 1] > 50
    assert any(e[2] == 123456 and e[3] == 5 for e in g1[g1.index(b"pending") + 1])
    assert ("streams", b"other") in want
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k
    with s2.raw(timeout=30 * TF) as c:   # still a working group
        n = len(c.cmd("XREADGROUP", "GROUP", "g1", "new", "STREAMS", "s", ">") or [])
        assert n <= 1


def test_dump_restore_and_copy_keep_groups(server_factory):
    s = server_factory([("save", "")])
    with s.raw(timeout=30 * TF) as c:
        load(c, random.Random(6))
        want = c.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", 0)
        payload = c.cmd("DUMP", "s")
        assert c.cmd("RESTORE", "r", 0, payload) == b"OK"
        assert c.cmd("COPY", "s", "cp") == 1
        for k in ("r", "cp"):
            assert c.cmd("XINFO", "STREAM", k, "FULL", "COUNT", 0) == want
            assert c.cmd("XINFO", "GROUPS", k) == c.cmd("XINFO", "GROUPS", "s")
        # each is a stream of its own
        c.cmd("XACK", "cp", "g1", *[e[0] for e in c.cmd("XPENDING", "cp", "g1", "-", "+", 5)])
        assert c.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", 0) == want
        assert c.cmd("XINFO", "STREAM", "r", "FULL", "COUNT", 0) == want
        assert c.cmd("XPENDING", "cp", "g1")[0] == c.cmd("XPENDING", "s", "g1")[0] - 5


def test_bgsave_while_groups_change_is_point_in_time(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    with s.raw(timeout=60 * TF) as c:
        send_all(c, [("XADD", "s", "%d-1" % j, "f", j) for j in range(1, 30001)])
        c.cmd("XGROUP", "CREATE", "s", "g", "0")
        c.cmd("XREADGROUP", "GROUP", "g", "a", "COUNT", 20000, "STREAMS", "s", ">")
        want = (c.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", 0), c.cmd("XINFO", "GROUPS", "s"))
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        send_all(c, [("XACK", "s", "g", "%d-1" % j) for j in range(1, 20001, 3)] +
                 [("XREADGROUP", "GROUP", "g", "b", "COUNT", 100, "STREAMS", "s", ">")] +
                 [("XGROUP", "CREATE", "s", "late", "0")])
        assert wait_bgsave(s, 60).get("rdb_last_bgsave_status") == "ok"
    assert shutdown(s, "NOSAVE") == 0
    s2 = pserver(server_factory, data, *NO_SAVE)
    with s2.raw(timeout=60 * TF) as c:
        assert (c.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", 0), c.cmd("XINFO", "GROUPS", "s")) == want


def test_kill9_keeps_acknowledged_consumer_writes(server_factory, tmp_path):
    """Under appendfsync always a reply means the write is on disk: every
    XACK answered 1 stays acknowledged, every delivery answered stays
    pending (or acknowledged only if its XACK was sent), and the group's
    last ID is at least the last ID delivered."""
    seen = {}

    def runner(name):
        def run(srv, stop):
            delivered, acked, sent = seen.setdefault(name, (set(), set(), set()))
            try:
                with srv.raw(timeout=10 * TF) as c:
                    while not stop.is_set():
                        r = c.cmd("XREADGROUP", "GROUP", "g", name, "COUNT", 3, "STREAMS", "s", ">")
                        if not r:
                            c.cmd("XADD", "s", "*", "f", "more")
                            continue
                        ids = [e[0] for e in r[0][1]]
                        delivered.update(ids)
                        sent.add(ids[0])
                        if c.cmd("XACK", "s", "g", ids[0]) == 1:
                            acked.add(ids[0])
            except (OSError, H.ConnectionClosed):
                pass
        return run

    def settle(trial):
        time.sleep(0.4 * TF)

    def check(srv, trial):
        with srv.raw(timeout=10 * TF) as c:
            pel = {e[0]: e[1] for e in c.cmd("XPENDING", "s", "g", "-", "+", 10 ** 6)}
            last = c.cmd("XINFO", "GROUPS", "s")[0][7]
            for name, (delivered, acked, sent) in seen.items():
                assert not (acked & set(pel)), name
                for i in delivered - sent:
                    assert pel.get(i) == name.encode(), (name, i)
                if delivered:
                    top = max(delivered, key=lambda v: [int(p) for p in v.split(b"-")])
                    assert [int(p) for p in last.split(b"-")] >= [int(p) for p in top.split(b"-")]
            for _, (delivered, acked, sent) in seen.items():
                delivered.clear(), acked.clear(), sent.clear()

    data = tmp_path / "data"
    s = pserver(server_factory, data, ("appendonly", "yes"), ("appendfsync", "always"))
    with s.raw(timeout=30 * TF) as c:
        send_all(c, [("XADD", "s", "*", "f", j) for j in range(2000)])
        assert c.cmd("XGROUP", "CREATE", "s", "g", "0") == b"OK"
    assert shutdown(s, "NOSAVE") == 0
    kill9_trials(server_factory, data, [runner("c1"), runner("c2")], settle, check, trials=2)


def test_big_pel_is_freed_in_the_background_and_counted(server_factory):
    s = server_factory([("save", "")])
    with s.raw(timeout=60 * TF) as c:
        def fill(key, n=20000):
            send_all(c, [("XADD", key, "%d-1" % (j + 1), "f", "v") for j in range(n)])
            c.cmd("XGROUP", "CREATE", key, "g", "0")
            assert len(c.cmd("XREADGROUP", "GROUP", "g", "c", "STREAMS", key, ">")[0][1]) == n

        send_all(c, [("XADD", "plain", "%d-1" % (j + 1), "f", "v") for j in range(20000)])
        fill("grouped")
        plain, grouped = c.cmd("MEMORY", "USAGE", "plain"), c.cmd("MEMORY", "USAGE", "grouped")
        assert grouped > plain + 20000 * 60, (plain, grouped)   # a pending entry holds ~90 bytes
        c.cmd("XACK", "grouped", "g", *["%d-1" % (j + 1) for j in range(20000)])
        assert c.cmd("MEMORY", "USAGE", "grouped") < plain + 4096
        before = int(info(s, "memory")["lazyfreed_objects"])
        assert c.cmd("DEL", "plain", "grouped") == 2
        assert H.wait_for(lambda: int(info(s, "memory")["lazyfreed_objects"]) == before + 2, 10 * TF)
        check_freed_in_background(s, c, fill, ("XADD", "small", "*", "a", "b"))
        # a big group destroyed goes to the background thread too
        fill("big")
        before = c.cmd("MEMORY", "USAGE", "big")
        assert c.cmd("XGROUP", "DESTROY", "big", "g") == 1
        assert c.cmd("MEMORY", "USAGE", "big") < before - 20000 * 60


def test_xreadgroup_block_waits_and_is_woken(server_factory):
    s = server_factory([("save", "")])
    with s.raw(timeout=10 * TF) as c:
        c.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        assert c.cmd_raw("XREADGROUP", "GROUP", "g", "c", "BLOCK", 100, "STREAMS", "s", ">") == b"*-1\r\n"
        c.send_command("XREADGROUP", "GROUP", "g", "c", "BLOCK", 0, "STREAMS", "s", ">")
        time.sleep(0.1)
        with s.raw() as p:
            p.cmd("XADD", "s", "1-1", "f", "v")
        assert c.read() == [[b"s", [[b"1-1", [b"f", b"v"]]]]]
        with s.raw() as p:
            assert p.cmd("XPENDING", "s", "g")[0] == 1
