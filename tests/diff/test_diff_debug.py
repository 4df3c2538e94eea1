"""Differential test of DEBUG against redis-server 7.0: the
enable-debug-command gate (the default pair refuses it, before
authentication and inside MULTI as a rejected command), and, on a pair with
enable-debug-command yes, the subcommands Kasi has: SLEEP (which stops the
whole server, other clients too), SET-ACTIVE-EXPIRE, LOG, ERROR, PROTOCOL
in both protocols, HELP (each of Kasi's lines is one of Redis's, in order),
and the error for the rest. Replies are compared byte for byte."""
import threading
import time

import pytest

import kasi_harness as H
from diff_pairs import server_pair

PROTOCOL_TYPES = ("string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
                  "push", "verbatim", "true", "false", "nosuch")


@pytest.fixture(scope="module")
def debug_pair():
    for ref, sut in server_pair("kasi-diff-debug-", directives=[("enable-debug-command", "yes")]):
        yield ref, sut
        rep = sut.sanitizer_report()
        assert not rep, "sanitizer reported errors in the server under test:\n" + rep


def both(pair, script, proto=2):
    """Run script (a list of argv tuples) on each server's fresh connection,
    and compare the replies."""
    got = []
    for srv in pair:
        with srv.raw() as c:
            if proto == 3:
                c.cmd_raw("HELLO", "3")
            got.append([c.cmd_raw(*argv) for argv in script])
    for argv, a, b in zip(script, *got):
        assert a == b, "%r\n  redis: %r\n  kasi:  %r" % (argv, a, b)
    return got[1]


def test_debug_refused_by_default(pair):
    both(pair, [("DEBUG", "SLEEP", "0"), ("DEBUG", "HELP"), ("debug", "nosuch"), ("DEBUG",),
                ("MULTI",), ("DEBUG", "SLEEP", "0"), ("EXEC",),
                ("CONFIG", "SET", "enable-debug-command", "yes"), ("CONFIG", "GET", "enable-debug-command")])


def test_debug_before_authentication():
    """With a password, the gate answers first, as Redis's does."""
    for ref, sut in server_pair("kasi-diff-debug-auth-", directives=[("requirepass", "pw")]):
        both((ref, sut), [("DEBUG", "SLEEP", "0"), ("AUTH", "pw"), ("DEBUG", "LOG", "x")])


def test_debug_protocol(debug_pair, proto):
    both(debug_pair, [("DEBUG", "PROTOCOL", t) for t in PROTOCOL_TYPES] +
         [("DEBUG", "PROTOCOL"), ("DEBUG", "PROTOCOL", "string", "x")], proto)


def test_debug_subcommands_and_errors(debug_pair):
    both(debug_pair, [("DEBUG", "SLEEP", "0"), ("DEBUG", "SLEEP", "abc"), ("DEBUG", "SLEEP", "-1"),
                      ("DEBUG", "SLEEP", "0.01"), ("DEBUG", "SLEEP"), ("DEBUG", "LOG", "hello from a test"),
                      ("DEBUG", "LOG"), ("DEBUG", "ERROR", "my error"), ("DEBUG", "ERROR", "-x"),
                      ("DEBUG", "ERROR", ""), ("DEBUG", "ERROR", "WRONGTYPE made up"), ("DEBUG", "nosuch"),
                      ("debug", "Nosuch", "x"), ("DEBUG", "SET-ACTIVE-EXPIRE"), ("DEBUG",),
                      ("EVAL", "return redis.call('debug', 'sleep', '0')", "0"),
                      ("MULTI",), ("DEBUG", "SLEEP", "0"), ("DEBUG", "LOG", "in multi"), ("EXEC",)])


def test_debug_help_lines_are_redis_lines(debug_pair):
    ref, sut = debug_pair
    with ref.raw() as a, sut.raw() as b:
        theirs = a.cmd("DEBUG", "HELP")
        mine = b.cmd("DEBUG", "HELP")
    assert mine[0] == theirs[0] and mine[-2:] == theirs[-2:]
    it = iter(theirs)
    assert all(line in it for line in mine), mine   # a subsequence: Redis's lines, in its order


def test_debug_set_active_expire(debug_pair):
    """With the sweep off, an expired key that is not read stays (DBSIZE
    counts it); reading it removes it; turned on again, the sweep takes the
    rest."""
    script_off = [("FLUSHALL",), ("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ("SET", "a", "1", "PX", "10"),
                  ("SET", "b", "1", "PX", "10")]
    both(debug_pair, script_off)
    time.sleep(0.4)
    both(debug_pair, [("DBSIZE",), ("GET", "a"), ("DBSIZE",), ("DEBUG", "SET-ACTIVE-EXPIRE", "x")])
    time.sleep(0.4)
    both(debug_pair, [("DBSIZE",), ("DEBUG", "SET-ACTIVE-EXPIRE", "1")])
    deadline = time.time() + 5
    for srv in debug_pair:
        with srv.raw() as c:
            while c.cmd("DBSIZE") != 0:
                assert time.time() < deadline, "the sweep did not come back on " + srv.kind
                time.sleep(0.05)


def test_debug_sleep_stops_every_client(debug_pair):
    """While DEBUG SLEEP runs, a client on another connection (another
    worker, in Kasi) waits for it too."""
    for srv in debug_pair:
        with srv.raw() as sleeper, srv.raw() as other:
            other.cmd("PING")
            t = threading.Thread(target=sleeper.cmd, args=("DEBUG", "SLEEP", str(0.5 * H.TIME_FACTOR)))
            t.start()
            time.sleep(0.1 * H.TIME_FACTOR)
            t0 = time.time()
            assert other.cmd_raw("PING") == b"+PONG\r\n"
            waited = time.time() - t0
            t.join()
            assert waited > 0.2 * H.TIME_FACTOR, (srv.kind, waited)
