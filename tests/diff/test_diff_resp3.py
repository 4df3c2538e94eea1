"""RESP3 against Redis 7.0, beyond the scripts (which every diff suite runs in
RESP3 too): HELLO's switch of protocol and its map, with the connection id
blanked; the way back to RESP2 (HELLO 2, RESET); and redis-cli -3, whose
rendering of maps, sets, doubles, nulls and verbatim strings must print the
same text for Kasi as for Redis."""
import os
import re
import subprocess

import pytest

import kasi_harness as H


def _blank_id(raw):
    return re.sub(rb"\$2\r\nid\r\n:\d+\r\n", b"$2\r\nid\r\n:ID\r\n", raw)


STEPS = [
    ("HELLO",),
    ("HELLO", "3"),
    ("HELLO",),                      # stays in RESP3
    ("GET", "missing"),              # _
    ("HGETALL", "h"),                # %0
    ("HSET", "h", "f", "v"),
    ("HGETALL", "h"),
    ("HELLO", "3", "SETNAME", "conn-a"),
    ("CLIENT", "GETNAME"),
    ("HELLO", "3", "SETNAME", "bad name"),
    ("HELLO", "3", "AUTH", "default", "wrong"),
    ("HELLO", "3", "AUTH", "default"),
    ("HELLO", "3", "NOSUCH"),
    ("HELLO", "4"),
    ("HELLO", "1"),
    ("HELLO", "x"),
    ("HELLO", "2"),
    ("HGETALL", "h"),                # a flat array again
    ("HELLO", "3"),
    ("RESET",),                      # back to RESP2
    ("GET", "missing"),
    ("HELLO", "3"),
    ("MULTI",),
    ("ZADD", "z", "1.5", "m"),
    ("ZSCORE", "z", "m"),
    ("ZSCORE", "z", "none"),
    ("EXEC",),
]


def test_hello_and_protocol_switches_match_redis(pair):
    ref, sut = pair
    with ref.raw() as a, sut.raw() as b:
        for c in (a, b):
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for step in STEPS:
            ra, rb = _blank_id(a.cmd_raw(*step)), _blank_id(b.cmd_raw(*step))
            assert ra == rb, "%r\n  redis: %r\n  kasi:  %r" % (step, ra, rb)


def test_watch_abort_is_a_resp3_null(pair):
    ref, sut = pair
    replies = []
    for srv in (ref, sut):
        with srv.raw() as c, srv.raw() as other:
            c.cmd_raw("HELLO", "3")
            c.cmd_raw("DEL", "w")
            got = [c.cmd_raw("WATCH", "w"), other.cmd_raw("SET", "w", "1"), c.cmd_raw("MULTI"),
                   c.cmd_raw("GET", "w"), c.cmd_raw("EXEC")]
            replies.append(got)
    assert replies[0] == replies[1]
    assert replies[1][-1] == b"_\r\n"


CLI_SCRIPT = [
    ["FLUSHALL"],
    ["HSET", "h", "a", "1", "b", "2"],
    ["HGETALL", "h"],
    ["SADD", "s", "x"],
    ["SMEMBERS", "s"],
    ["ZADD", "z", "1.5", "m", "2", "n"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZSCORE", "z", "m"],
    ["ZPOPMIN", "z", "1"],
    ["GET", "none"],
    ["CONFIG", "GET", "timeout"],
    ["XADD", "st", "1-1", "f", "v"],
    ["XREAD", "STREAMS", "st", "0"],
    ["XINFO", "GROUPS", "st"],
    ["GEOADD", "g", "13.361389", "38.115556", "p"],
    ["GEOPOS", "g", "p", "nope"],
    ["LPOP", "nolist", "2"],
]


@pytest.mark.skipif(not os.access(H.REDIS_CLI, os.X_OK), reason="redis-cli is not installed")
def test_redis_cli_resp3_prints_what_it_prints_for_redis(pair):
    outs = []
    for srv in pair:
        text = []
        for argv in CLI_SCRIPT:
            p = subprocess.run([H.REDIS_CLI, "-3", "--no-raw", "-p", str(srv.port)] + argv, capture_output=True,
                               timeout=10 * H.TIME_FACTOR)
            text.append((argv, p.returncode, p.stdout))
        outs.append(text)
    for (argv, rc_a, a), (_, rc_b, b) in zip(*outs):
        assert (rc_a, a) == (rc_b, b), "redis-cli -3 %s\n  redis: %r\n  kasi:  %r" % (" ".join(argv), a, b)
    # the shapes were really RESP3 ones: a map, a set, a double
    printed = b"".join(o for _, _, o in outs[1])
    assert b"1# \"a\" => \"1\"" in printed and b"(double) 1.5" in printed


def test_info_and_client_info_are_verbatim_in_resp3(pair):
    with pair[1].raw() as c:
        c.cmd_raw("HELLO", "3")
        info = c.cmd_raw("INFO", "server")
        ci = c.cmd_raw("CLIENT", "INFO")
    assert info.startswith(b"=") and b"\r\ntxt:# Server\r\n" in info
    assert ci.startswith(b"=") and b"txt:id=" in ci and b" resp=3\n" in ci
