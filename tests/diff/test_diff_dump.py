"""DUMP and RESTORE against Redis 7.0. A payload's inside is each server's own
(Kasi's format is its own, and each refuses the other's), so every round trip
sends a server its own DUMP; the replies of RESTORE (with every option, and
every error path) and what the restored key then holds (type, encoding,
contents, TTL) are compared byte for byte. Then a RESTORE fuzzer, on Kasi
alone: valid payloads of every kind and encoding, mutated (bytes flipped,
cut, inserted, lengths and counts changed) and given a correct checksum, must
each be refused with "Bad data format" or restored into a value every read
command can walk, and the server must stay up.

Env: KASI_RESTORE_FUZZ (default 3000 payloads), KASI_RESTORE_FUZZ_SECONDS
(default 20, a bound only).
"""
import os
import random
import time

import pytest

import kasi_harness as H
from test_diff import Mismatch

FUZZ = int(os.environ.get("KASI_RESTORE_FUZZ", "3000"))
FUZZ_SECONDS = float(os.environ.get("KASI_RESTORE_FUZZ_SECONDS", "20")) * H.TIME_FACTOR

_POLY = 0x95AC9329AC4BC9B5
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc64(data, crc=0):
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def reseal(body, version):
    """A payload of body (kind byte first) with version and a right checksum."""
    head = body + version.to_bytes(2, "little")
    return head + crc64(head).to_bytes(8, "little")


@pytest.fixture
def sut(pair):
    return pair[1]


def test_crc64_is_redis_s():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


# (name, commands that build key "src")
VALUES = [
    ("string", [["SET", "src", "hello world"]]),
    ("empty-string", [["SET", "src", ""]]),
    ("int-string", [["SET", "src", "12345"]]),
    ("binary", [["SET", "src", bytes(range(256)) * 3]]),
    ("big-string", [["SET", "src", "x" * 100000]]),
    ("hash-small", [["HSET", "src", "a", "1", "b", "2", "", "empty"]]),
    ("hash-big", [["HSET", "src"] + [x for i in range(300) for x in ("f%d" % i, "v" * (i % 7))]]),
    ("hash-long-value", [["HSET", "src", "f", "v" * 100]]),
    ("list-small", [["RPUSH", "src", "a", "b", "", "12", "-5"]]),
    ("list-big", [["RPUSH", "src"] + ["e%d" % i for i in range(2000)]]),
    ("set-ints", [["SADD", "src", "1", "5", "-3", "100000000000"]]),
    ("set-strings", [["SADD", "src", "a", "b", "c"]]),
    ("set-big", [["SADD", "src"] + ["m%d" % i for i in range(1000)]]),
    ("set-big-ints", [["SADD", "src"] + [str(i * 3) for i in range(1000)]]),
    ("zset-small", [["ZADD", "src", "1", "a", "2.5", "b", "-inf", "c", "inf", "d"]]),
    ("zset-big", [["ZADD", "src"] + [x for i in range(500) for x in (str(i % 13), "m%d" % i)]]),
    ("zset-long-member", [["ZADD", "src", "1", "m" * 100]]),
    ("with-ttl", [["SET", "src", "v"], ["PEXPIRE", "src", "100000"]]),
    ("stream-small", [["XADD", "src", "1-1", "a", "1", "b", "2"], ["XADD", "src", "1-2", "a", "3", "b", "4"],
                      ["XADD", "src", "5-0", "c", "x"]]),
    ("stream-deleted", [["XADD", "src", "%d-0" % i, "f", "v%d" % i] for i in range(1, 300)] +
                       [["XDEL", "src", "7-0", "150-0"], ["XTRIM", "src", "MAXLEN", "250"]]),
    ("stream-empty", [["XADD", "src", "3-3", "f", "v"], ["XDEL", "src", "3-3"]]),
    # groups, consumers and pending entries (delivery times far in the past:
    # deterministic; seen-times are each server's clock, which the
    # comparison does not read)
    ("stream-groups", [["XADD", "src", "%d-1" % i, "f", "v%d" % i] for i in range(1, 40)] +
                      [["XGROUP", "CREATE", "src", "g1", "0"], ["XGROUP", "CREATE", "src", "g2", "$"],
                       ["XGROUP", "CREATE", "src", "g3", "5-1", "ENTRIESREAD", "5"],
                       ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "src", ">"],
                       ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "5", "STREAMS", "src", ">"],
                       ["XCLAIM", "src", "g1", "bob", "0", "3-1", "4-1", "TIME", "1000", "RETRYCOUNT", "3", "JUSTID"],
                       ["XCLAIM", "src", "g1", "alice", "0", "1-1", "TIME", "2000", "JUSTID"],
                       ["XCLAIM", "src", "g1", "alice", "0", "2-1", "5-1", "6-1", "7-1", "8-1", "9-1", "10-1",
                        "11-1", "12-1", "13-1", "14-1", "15-1", "TIME", "3000", "JUSTID"],
                       ["XACK", "src", "g1", "2-1", "12-1"], ["XGROUP", "CREATECONSUMER", "src", "g2", "idle"],
                       ["XDEL", "src", "6-1"]]),
]


def contents(c, key):
    """What a key holds, read with the commands of its type, and its encoding."""
    t, body = H.read_value(c, key)
    enc = c.cmd("OBJECT", "ENCODING", key) if t != b"none" else None
    return t, enc, body


PAYLOAD = object()   # stands for each server's own payload


def _pair_cmd(a, b, *args):
    ra, rb = a.cmd_raw(*args), b.cmd_raw(*args)
    if ra != rb:
        raise Mismatch("%r\n  redis: %r\n  kasi:  %r" % (args, ra, rb))
    return ra


@pytest.mark.parametrize("name", [v[0] for v in VALUES])
def test_dump_restore_round_trip(pair, name):
    ref, sut = pair
    build = dict(VALUES)[name]
    with ref.raw(timeout=30) as a, sut.raw(timeout=30) as b:
        for c in (a, b):
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for cmd in build:
            _pair_cmd(a, b, *cmd)
        pa, pb = a.cmd("DUMP", "src"), b.cmd("DUMP", "src")
        assert isinstance(pa, bytes) and isinstance(pb, bytes)
        want = contents(b, "src")
        assert want == contents(a, "src")

        def both(*args):
            ra = a.cmd_raw(*[pa if x is PAYLOAD else x for x in args])
            rb = b.cmd_raw(*[pb if x is PAYLOAD else x for x in args])
            if ra != rb:
                raise Mismatch("%s: %r\n  redis: %r\n  kasi:  %r" % (name, args, ra, rb))
            return rb

        assert both("RESTORE", "dst", "0", PAYLOAD) == b"+OK\r\n"
        assert contents(b, "dst") == want and contents(a, "dst") == contents(b, "dst")
        both("TTL", "dst")
        both("RESTORE", "dst", "0", PAYLOAD)                       # BUSYKEY
        both("RESTORE", "dst", "0", PAYLOAD, "REPLACE")
        both("RESTORE", "dst", "100000", PAYLOAD, "REPLACE")
        assert 0 < b.cmd("PTTL", "dst") <= 100000
        both("RESTORE", "dst", "1", PAYLOAD, "REPLACE", "ABSTTL")  # in the past: only a deletion
        both("EXISTS", "dst")
        both("RESTORE", "dst", str(int(time.time() * 1000) + 500000), PAYLOAD, "ABSTTL")
        assert 400000 < b.cmd("PTTL", "dst") <= 500000
        both("RESTORE", "dst2", "0", PAYLOAD, "IDLETIME", "1000")
        both("RESTORE", "dst3", "0", PAYLOAD, "FREQ", "100")
        both("RESTORE", "dst4", "9223372036854775807", PAYLOAD)    # wraps around to the past
        both("EXISTS", "dst4")
        for k in ("dst2", "dst3"):
            assert contents(b, k) == want and contents(a, k) == contents(b, k)
        both("DEL", "src")
        both("RESTORE", "src", "0", PAYLOAD, "replace", "absttl", "idletime", "5")
        assert contents(b, "src") == want


ERROR_SCRIPT = [
    ["RESTORE", "k", "0", "garbage"],
    ["RESTORE", "k", "0", ""],
    ["RESTORE", "k", "0", b"\x01" * 10],
    ["RESTORE", "k", "-1", "garbage"],
    ["RESTORE", "k", "x", "garbage"],
    ["RESTORE", "k", "0", "garbage", "REPLACE", "FOO"],
    ["RESTORE", "k", "0", "garbage", "IDLETIME"],
    ["RESTORE", "k", "0", "garbage", "IDLETIME", "-1"],
    ["RESTORE", "k", "0", "garbage", "IDLETIME", "x"],
    ["RESTORE", "k", "0", "garbage", "FREQ", "256"],
    ["RESTORE", "k", "0", "garbage", "FREQ", "-1"],
    ["RESTORE", "k", "0", "garbage", "FREQ", "1", "IDLETIME", "1"],
    ["RESTORE", "k", "0", "garbage", "IDLETIME", "1", "FREQ", "1"],
    ["RESTORE", "k", "0"],
    ["RESTORE", "k"],
    ["SET", "k", "v"],
    ["RESTORE", "k", "0", "garbage"],
    ["RESTORE", "k", "-1", "garbage"],
    ["RESTORE", "k", "-1", "garbage", "REPLACE"],
    ["RESTORE", "k", "0", "garbage", "REPLACE"],
    ["DUMP", "nokey"],
    ["DUMP"],
    ["DUMP", "a", "b"],
]


def test_restore_errors_match_redis(pair):
    ref, sut = pair
    with ref.raw() as a, sut.raw() as b:
        for c in (a, b):
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for cmd in ERROR_SCRIPT:
            _pair_cmd(a, b, *cmd)
        # each server's own payload, damaged: a byte of the value, of the
        # version, of the checksum; cut short; one byte longer
        _pair_cmd(a, b, "RPUSH", "l", "a", "b", "c")
        pa, pb = a.cmd("DUMP", "l"), b.cmd("DUMP", "l")
        for damage in (lambda p: p[:1] + bytes([p[1] ^ 1]) + p[2:],
                       lambda p: p[:-10] + bytes([p[-10] ^ 1]) + p[-9:],
                       lambda p: p[:-1] + bytes([p[-1] ^ 0x80]),
                       lambda p: p[:-1], lambda p: p + b"\x00", lambda p: p[5:]):
            ra, rb = a.cmd_raw("RESTORE", "new", "0", damage(pa)), b.cmd_raw("RESTORE", "new", "0", damage(pb))
            assert ra == rb == b"-ERR DUMP payload version or checksum are wrong\r\n", (ra, rb)
        # a payload of the other server is refused, never misread
        assert b.cmd_raw("RESTORE", "new", "0", pa) == b"-ERR DUMP payload version or checksum are wrong\r\n"
        assert a.cmd_raw("RESTORE", "new", "0", pb) == b"-ERR DUMP payload version or checksum are wrong\r\n"


def test_restore_bad_data_format(sut):
    """Right version and checksum, wrong inside: "Bad data format", and the
    key is left as it was."""
    bad = [b"\x10", b"\x11\x05", b"\x30\x03\x01ab", b"\x40", b"\xf0abc", b"\x50junk", b"\x21\x02\x01a\x01a",
           b"\x20\x02\x01a\x01b\x01a\x01c"]   # (a hash with field a twice)
    with sut.raw() as c:
        p = c.cmd("DUMP", "nokey")
        assert p is None
        c.cmd("SET", "k", "v")
        good = c.cmd("DUMP", "k")
        version = int.from_bytes(good[-10:-8], "little")
        for body in bad:
            assert c.cmd_raw("RESTORE", "k", "0", reseal(body, version), "REPLACE") == b"-ERR Bad data format\r\n", body
            assert c.cmd("GET", "k") == b"v"
        assert c.cmd_raw("RESTORE", "k2", "0", reseal(b"\x00raw", version)) == b"+OK\r\n"
        assert c.cmd("GET", "k2") == b"raw"


def _walk(c, key):
    """Every read of the key's type: none may fail or hang."""
    t = c.cmd("TYPE", key)
    reads = {
        b"string": [["GET", key], ["STRLEN", key], ["GETRANGE", key, 0, 5]],
        b"hash": [["HGETALL", key], ["HLEN", key], ["HSCAN", key, 0], ["HRANDFIELD", key, -5],
                  ["HGET", key, "a"], ["HSET", key, "zz", "1"], ["HDEL", key, "zz", "a"]],
        b"list": [["LRANGE", key, 0, -1], ["LLEN", key], ["LINDEX", key, -1], ["LPOS", key, "a"],
                  ["RPUSH", key, "zz"], ["LPOP", key], ["LINSERT", key, "BEFORE", "zz", "y"]],
        b"set": [["SMEMBERS", key], ["SCARD", key], ["SISMEMBER", key, "a"], ["SRANDMEMBER", key, -5],
                 ["SADD", key, "zz", "7"], ["SREM", key, "zz"], ["SSCAN", key, 0]],
        b"zset": [["ZRANGE", key, 0, -1, "WITHSCORES"], ["ZCARD", key], ["ZRANK", key, "a"],
                  ["ZRANGEBYSCORE", key, "-inf", "+inf"], ["ZADD", key, "1.5", "zz"], ["ZREM", key, "zz"],
                  ["ZRANGEBYLEX", key, "-", "+"], ["ZSCAN", key, 0]],
        b"stream": [["XRANGE", key, "-", "+"], ["XREVRANGE", key, "+", "-", "COUNT", 3], ["XLEN", key],
                    ["XINFO", "STREAM", key, "FULL"], ["XADD", key, "*", "f", "v"], ["XTRIM", key, "MAXLEN", "~", 5],
                    ["XDEL", key, "1-1"], ["XREAD", "COUNT", 2, "STREAMS", key, "0"]],
    }
    for cmd in reads.get(t, []):
        r = c.cmd_raw(*cmd)
        assert not r.startswith(b"-ERR") or b"WRONGTYPE" in r, (cmd, r)
    c.cmd("OBJECT", "ENCODING", key)
    c.cmd("DUMP", key)


def _mutate(r, p):
    p = bytearray(p)
    for _ in range(r.choice((1, 1, 2, 3))):
        x = r.random()
        if not p:
            p = bytearray(b"\x00")
        i = r.randrange(len(p))
        if x < 0.4:
            p[i] ^= 1 << r.randrange(8)
        elif x < 0.55:
            p[i] = r.choice((0, 1, 0x7F, 0x80, 0xFF, r.randrange(256)))
        elif x < 0.7:
            del p[i:i + r.randrange(1, 4)]
        elif x < 0.85:
            p[i:i] = bytes(r.randrange(256) for _ in range(r.randrange(1, 4)))
        else:
            p = p[:i]
    return bytes(p)


def test_restore_fuzz(sut):
    r = random.Random(20261202)
    seeds = []
    with sut.raw(timeout=30) as c:
        assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for name, build in VALUES:
            for cmd in build:
                c.cmd(*[name if x == "src" else x for x in cmd])
            seeds.append(c.cmd("DUMP", name))
        version = int.from_bytes(seeds[0][-10:-8], "little")
        deadline = time.monotonic() + FUZZ_SECONDS
        restored = refused = 0
        for i in range(FUZZ):
            if time.monotonic() > deadline:
                break
            body = _mutate(r, r.choice(seeds)[:-10])
            rep = c.cmd_raw("RESTORE", "fz", "0", reseal(body, version), "REPLACE")
            if rep == b"+OK\r\n":
                restored += 1
                _walk(c, "fz")
            elif body:
                assert rep == b"-ERR Bad data format\r\n", (body, rep)
                refused += 1
            else:   # nothing before the footer: not a payload at all
                assert rep == b"-ERR DUMP payload version or checksum are wrong\r\n", rep
        assert c.cmd_raw("PING") == b"+PONG\r\n"
    assert restored > 50 and refused > 50, (restored, refused)
    assert sut.alive()
