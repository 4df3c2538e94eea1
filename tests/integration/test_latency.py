"""The latency events the store and persistence record, which a diff test
cannot make happen on Redis the same way: a 32 MB value logged with
appendfsync always (its write and fsync take a millisecond on any disk),
the expiry of many keys at once (the sweep runs for a millisecond and
more), and a maxmemory lowered under 20 MB of keys (the eviction that
follows). With the monitor off, nothing is recorded. The replies' formats are
compared with Redis's in tests/diff/test_diff_latency.py."""
import time

import pytest

import kasi_harness as H

pytestmark = pytest.mark.kasi_only


def latest(c):
    """LATENCY LATEST as {event: (time, latest, max)}, each checked."""
    out, now = {}, time.time()
    for name, when, last, worst in H.parse_reply(c.cmd_raw("LATENCY", "LATEST")):
        assert abs(when - now) < 60 and 1 <= last <= worst, (name, when, last, worst)
        out[name] = (when, last, worst)
    return out


def wait_for(c, event, timeout=10):
    deadline = time.monotonic() + timeout * H.TIME_FACTOR
    while event not in latest(c):
        assert time.monotonic() < deadline, "no %r event: %r" % (event, latest(c))
        time.sleep(0.05)


def test_aof_write_and_fsync(server_factory):
    srv = server_factory({"appendonly": "yes", "appendfsync": "always", "auto-aof-rewrite-percentage": "0",
                          "threads": "2"})
    with srv.raw() as c:
        big = b"x" * (32 << 20)
        assert c.cmd_raw("SET", "off", big) == H.OK          # the monitor is off
        assert latest(c) == {}
        assert c.cmd_raw("CONFIG", "SET", "latency-monitor-threshold", "1") == H.OK
        assert c.cmd_raw("SET", "big", big) == H.OK
        got = latest(c)
        assert {b"aof-write", b"aof-fsync-always", b"command"} <= set(got), got
        assert set(got) & {b"aof-write-alone", b"aof-write-pending-fsync"}, got   # no job runs
        assert b"aof-write-active-child" not in got, got
        hist = H.parse_reply(c.cmd_raw("LATENCY", "HISTORY", "aof-write"))
        assert len(hist) == 1 and hist[0][1] == got[b"aof-write"][1], hist
        assert c.cmd_raw("LATENCY", "RESET", "aof-write", "AOF-FSYNC-ALWAYS") == H.INT(2)


def test_expire_cycle(server_factory):
    srv = server_factory({"threads": "2", "hz": "10"})
    with srv.raw() as c:
        n = 200000
        assert c.cmd_raw("EVAL", "for i = 1, %d do redis.call('set', 'k' .. i, 'v', 'px', 2000) end" % n,
                         "0") == H.NIL
        assert c.cmd_raw("CONFIG", "SET", "latency-monitor-threshold", "1") == H.OK
        wait_for(c, b"expire-cycle")
        assert set(latest(c)) <= {b"expire-cycle", b"command", b"fast-command"}, latest(c)


def test_eviction_cycle(server_factory):
    srv = server_factory({"threads": "2", "maxmemory-policy": "allkeys-lru"})
    with srv.raw() as c:
        assert c.cmd_raw("EVAL", "for i = 1, 200000 do redis.call('set', 'k' .. i, string.rep('v', 100)) end",
                         "0") == H.NIL
        assert c.cmd_raw("CONFIG", "SET", "latency-monitor-threshold", "1") == H.OK
        assert c.cmd_raw("CONFIG", "SET", "maxmemory", "5mb") == H.OK
        assert c.cmd_raw("SET", "x", "y") == H.OK        # evicts some 20 MB of keys
        assert b"eviction-cycle" in latest(c), latest(c)
