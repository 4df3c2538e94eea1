"""Differential test for CLIENT PAUSE and UNPAUSE, CLIENT REPLY and
CLIENT NO-EVICT (Redis 7.0 semantics), several clients at once, each
transcript compared byte for byte with redis-server's (see multiclient.py).

A paused command is sent and its reply read only after the pause is over;
meanwhile other clients show that it has not run (the key it writes is
unchanged), and the end-of-scenario PING of every client shows that nothing
came early. A scenario that pauses ends with CLIENT UNPAUSE (or with a
pause short enough to be over), and the test unpauses both servers whatever
happens: the pair is shared by the whole session.

Left out: CLIENT UNBLOCK of a paused client (redis-server 7.0.15 crashes
on it; Kasi answers 0, as 7.2 does), and CLIENT REPLY inside MULTI (Redis
cuts EXEC's array short on the wire)."""
import time

import pytest

from multiclient import compare, send_unread as send

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def write_pause_holds_what_writes_or_may_replicate(r):
    r.do("c", "SET", "k", "1")
    r.do("admin", "CLIENT", "PAUSE", 10000, "WRITE")
    r.do("c", "GET", "k")                       # reads go on
    send(r, "w", "SET", "k", "2")
    send(r, "p", "PUBLISH", "ch", "m")
    send(r, "e", "EVAL", "return redis.call('incr', 'n')", 0)
    send(r, "h", "PFCOUNT", "hll")
    r.do("c", "EVAL_RO", "return redis.call('get', 'k')", 0)
    r.do("c", "GET", "k")                       # still 1: the SET waits
    r.do("c", "EXISTS", "n")
    r.do("c", "CLIENT", "PAUSE", 20000, "WRITE")   # widens it: not a write
    r.do("admin", "CLIENT", "UNPAUSE")
    for who in ("w", "p", "e", "h"):
        r.read(who, 1)
    r.do("c", "MGET", "k", "n")


@scenario
def transactions_under_a_write_pause(r):
    r.do("c", "MULTI")
    r.do("c", "SET", "a", "1")
    r.do("admin", "CLIENT", "PAUSE", 10000, "WRITE")
    r.do("ro", "MULTI")
    r.do("ro", "GET", "a")
    r.do("ro", "EXEC")                          # reads only: it runs
    send(r, "c", "EXEC")                        # a write queued: it waits
    r.do("q", "MULTI")
    send(r, "q", "SET", "b", "1")               # waits before it is queued
    r.do("admin", "EXISTS", "a", "b")
    r.do("admin", "CLIENT", "UNPAUSE")
    r.read("c", 1)
    r.read("q", 1)
    r.do("q", "EXEC")
    r.do("admin", "MGET", "a", "b")


@scenario
def pause_all_holds_every_command(r):
    r.do("c", "SET", "k", "v")
    r.do("admin", "CLIENT", "PAUSE", 300, "ALL")
    send(r, "c", "GET", "k")
    send(r, "c", "PING")                        # after the GET, in order
    send(r, "other", "CLIENT", "UNPAUSE")       # held as well
    r.read("c", 2)
    r.read("other", 1)


@scenario
def a_write_pause_widened_to_all(r):
    r.do("admin", "CLIENT", "PAUSE", 500, "WRITE")
    r.do("admin", "CLIENT", "PAUSE", 100, "ALL")   # ALL, until the later end
    time.sleep(0.2)
    send(r, "c", "GET", "k")                    # held all the same
    send(r, "admin", "CLIENT", "UNPAUSE")       # held too
    r.read("admin", 1)
    r.read("c", 1)


@scenario
def keys_that_expire_during_a_pause_stay_until_it_ends(r):
    r.do("c", "SET", "x", "1", "PX", 100)
    r.do("c", "SET", "y", "1")
    r.do("admin", "CLIENT", "PAUSE", 10000, "WRITE")
    time.sleep(0.3)
    r.do("c", "GET", "x")                       # expired: missing
    r.do("c", "DBSIZE")                         # but still there
    r.do("c", "EXISTS", "x")
    r.do("c", "TTL", "x")
    r.do("c", "DBSIZE")
    r.do("admin", "CLIENT", "UNPAUSE")
    r.do("c", "GET", "x")
    r.do("c", "DBSIZE")


@scenario
def pause_errors_and_edges(r):
    for bad in (("PAUSE",), ("PAUSE", "x"), ("PAUSE", "-1"), ("PAUSE", "1.5"), ("PAUSE", "10", "foo"),
                ("PAUSE", "x", "foo"), ("PAUSE", "10", "all", "x"), ("PAUSE", "99999999999999999999"),
                ("UNPAUSE", "x"), ("REPLY",), ("REPLY", "maybe"), ("REPLY", "on", "x"),
                ("NO-EVICT",), ("NO-EVICT", "maybe"), ("NO-EVICT", "on", "x")):
        r.do("c", "CLIENT", *bad)
    r.do("c", "CLIENT", "PAUSE", "9223372036854775807")   # wraps to the past: no pause
    r.do("c", "SET", "k", "v")
    r.do("c", "CLIENT", "PAUSE", 0, "WRITE")
    r.do("c", "CLIENT", "UNPAUSE")
    r.do("c", "CLIENT", "UNPAUSE")
    r.do("c", "SET", "k", "w")
    r.do("c", "CLIENT", "NO-EVICT", "on")
    r.do("c", "CLIENT", "NO-EVICT", "OFF")
    r.do("c", "EVAL", "return redis.call('client', 'pause', '10')", 0)
    r.do("c", "EVAL", "return redis.call('client', 'reply', 'off')", 0)


@scenario
def reply_off_skip_on(r):
    r.do("c", "CLIENT", "REPLY", "OFF", n=0)
    r.do("c", "SET", "a", "1", n=0)
    r.do("c", "GET", "a", n=0)
    r.do("c", "NOSUCH", n=0)                    # errors are dropped too
    r.do("c", "CLIENT", "REPLY", "ON")          # its OK is sent
    r.do("c", "GET", "a")
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)
    r.do("c", "GET", "a", n=0)
    r.do("c", "PING")
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)   # skipped, and skips the next
    r.do("c", "GET", "a", n=0)
    r.do("c", "PING")
    r.do("c", "CLIENT", "REPLY", "OFF", n=0)
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)   # nothing to skip under OFF
    r.do("c", "PING", n=0)
    r.do("c", "CLIENT", "REPLY", "ON")
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)
    r.do("c", "CLIENT", "REPLY", "ON")          # ends the skip: its OK is sent
    r.do("c", "PING")
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)
    r.do("c", "NOSUCH", n=0)
    r.do("c", "PING")


@scenario
def reply_skip_of_a_blocking_command(r):
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)
    r.do("c", "BLPOP", "none", "0.1", n=0)      # its timeout is not sent
    r.do("c", "PING")
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)
    send(r, "c", "BLPOP", "q", 0)
    r.do("p", "RPUSH", "q", "x")                # served, reply dropped
    r.do("c", "LLEN", "q")


@scenario
def reply_off_sends_pushes_and_reset_ends_it(r):
    r.do("c", "CLIENT", "REPLY", "OFF", n=0)
    r.do("c", "SUBSCRIBE", "ch")                # its confirmation is a push
    r.do("p", "PUBLISH", "ch", "m")
    r.read("c", 1)                              # and so is the message
    r.do("c", "RESET")                          # turns replies back on
    r.do("c", "CLIENT", "REPLY", "SKIP", n=0)
    r.do("c", "RESET", n=0)                     # skipped: SKIP was running
    r.do("c", "PING")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_diff_client_pause(pair, name, proto):
    try:
        compare(pair, name, SCENARIOS[name], proto)
    finally:
        for srv in pair:
            with srv.raw() as c:
                c.cmd("CLIENT", "UNPAUSE")
