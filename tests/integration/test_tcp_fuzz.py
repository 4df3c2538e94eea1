"""Randomised TCP robustness fuzz: several clients at once send Kasi valid,
corrupted, hostile and split frames; the server must stay up and responsive.

Not differential (tests/diff/test_proto_fuzz.py compares error texts with
Redis, one short connection at a time): this only checks that Kasi survives
a long, concurrent, seeded stream of abuse.  THREADS fuzz threads, each with
its own random.Random derived from the global seed, send batches of frames:

  * valid commands from Kasi's command table (strings, bitmaps, hashes,
    lists, sets, sorted sets, keys, connection and server commands) with
    random arguments (scores, ranges, counts and bit offsets at their
    edges): keys from a small pool so that
    they collide, values that are empty, binary (NUL, CR, LF), numeric,
    overflowing, 'inf'/'nan'/'1e400', now and then up to 64 KB; random option
    words, wrong arities, odd letter case; as RESP multibulk or inline;
  * corrupted frames: a valid frame with bytes flipped, inserted, deleted or
    duplicated, '*N'/'$N' counts replaced by huge, negative or non-numeric
    ones, CRLFs dropped;
  * hostile frames: '*999999999', '$2147483647', a promised 512 MB bulk,
    negative lengths, missing CRLFs, unbalanced quotes, over-long inline
    lines, RESP3 type bytes, NULs, random garbage;
  * pipelines cut at random byte positions into several send() calls with
    tiny sleeps between them (TCP_NODELAY).

Replies are read without parsing (the server is never waited on forever).
The server may close a connection after a protocol error: the thread
reconnects.  After a frame that may be incomplete the thread closes the
connection itself (sometimes with a RST, sometimes after a half-close, in
which case the server must close its side within a bound).

Excluded, because they would stop or reconfigure the server: SHUTDOWN,
SAVE, BGSAVE, BGREWRITEAOF and CONFIG SET (CONFIG frames are never mutated,
so a flipped byte cannot turn GET into SET).  Automatic snapshots are off.
LCS, whose cost is the product of its inputs' lengths as in Redis, only
compares keys of its own pool that hold short values.  The server runs with
maxmemory 256mb / allkeys-lru so that big values cannot grow it without end.
Runs once without and once with requirepass; with a password, some threads
AUTH on every connection and the others never do, so the NOAUTH paths and
the pre-auth '*'/'$' limits are fuzzed as well.

Throughout, a control connection sends PING every 50 ms and must get +PONG
within 2 s x TIME_FACTOR.  At the end the server must be alive, answer a
fresh PING and a SET/GET round trip, have dropped every fuzz connection, and
have logged no sanitizer report; and connections holding huge '*'/'$'
promises must not make it reserve memory for them (Redis does: Kasi only).

Each parametrized run sends KASI_TCP_FUZZ_FRAMES frames (default 100000,
AUTHs not counted; about 10 s under ASan or TSan here) and fails if that
takes longer than KASI_TCP_FUZZ_SECONDS (default 150 on sanitizer builds,
60 otherwise): the bound only keeps a hang from lasting.  Seed: KASI_TCP_FUZZ_SEED (default
20261201); KASI_TCP_FUZZ_THREADS (default 6).  On failure the last batches
each thread sent are written to fuzz-history.txt in the test's tmp_path.
"""
import collections
import os
import random
import select
import socket
import struct
import sys
import threading
import time
import traceback

import pytest

import kasi_harness as H

SEED = int(os.environ.get("KASI_TCP_FUZZ_SEED", "20261201"))
FRAMES = int(os.environ.get("KASI_TCP_FUZZ_FRAMES", "100000"))
SECONDS = float(os.environ.get("KASI_TCP_FUZZ_SECONDS", "150" if H.SANITIZED else "60"))
THREADS = int(os.environ.get("KASI_TCP_FUZZ_THREADS", "6"))

PASSWORD = "fuzz pw"
PING_EVERY = 0.05
PING_BOUND = 2.0 * H.TIME_FACTOR           # control PING must answer within this
REPLY_WAIT = 1.0 * H.TIME_FACTOR           # wait for the first reply to a valid batch
QUIET = 0.002                              # then read until quiet this long
BROKEN_WAIT = 0.01                         # read briefly after a broken frame, then close
SEND_BOUND = 10.0 * H.TIME_FACTOR          # one batch must be accepted within this
EOF_BOUND = 3.0 * H.TIME_FACTOR            # after our half-close the server must close
CONNECT_TIMEOUT = 5.0 * H.TIME_FACTOR

# --------------------------------------------------------------------------
# Random arguments
# --------------------------------------------------------------------------

KEYS = (["k%d" % i for i in range(12)] +
        ["", "n", "f", "big", "\x00", "a\r\nb", "{t}x", "{t}y", " sp ", "k" * 300, "\xe9", "*"])
DOMAINS = ["0", "1", "2", "15", "16", "-1", "dom", "d\x00x", "a b", "", "x" * 200, "9999999999999"]
WORDS = ["EX", "PX", "EXAT", "PXAT", "NX", "XX", "GT", "LT", "KEEPTTL", "GET", "PERSIST", "MATCH",
         "COUNT", "TYPE", "string", "IDX", "LEN", "WITHMATCHLEN", "MINMATCHLEN", "REPLACE", "DB",
         "ASYNC", "SYNC", "SAMPLES", "AUTH", "SETNAME", "default", "ex", "pX", "", "\x00", "-"]
NUMBERS = ["0", "1", "-1", "2", "42", "-0", "+1", " 1", "1 ", "007", "1000000",
           "9223372036854775807", "9223372036854775808", "-9223372036854775808",
           "-9223372036854775809", "18446744073709551616", "99999999999999999999999",
           "4611686018427387904", "2147483647", "2147483648", "0x1f", "1e3", "1\x00", "abc", ""]
FLOATS = ["3.14", "-2.5", "0.1", "1e10", "inf", "-inf", "+inf", "Infinity", "nan", "-nan", "NaN",
          "1e400", "-1e400", "1e-400", "1.7976931348623157e308", "5e-324", "1.", ".5", "1e", "--1"]
TIME_EDGES = ["9223372036854775807", "9223372036854775806", "9223372036854775500", "9223372036854775307",
              "9223372036854775000", "9223372036854775", "9223372036854776", "9223372036854775808",
              "-9223372036854775808", "4611686018427387903"]
PATTERNS = ["*", "k*", "k?", "k[0-5]", "k[^0-5]", "[", "\\", "*\\", "[a-", "{t}*", "*a*a*a*a*a*a*b",
            "k" * 50 + "*", "\x00*", "?", "", "[]]", "[\\]"]


class Gen:
    """Random values for one thread; every draw comes from its own rng."""

    def __init__(self, rng, password):
        self.r = rng
        self.password = password          # None: this thread never learns it
        self.blob = rng.randbytes(1 << 16)

    def key(self):
        return self.r.choice(KEYS)

    def keys(self, lo=1, hi=6):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def bin(self, n):
        i = self.r.randrange(len(self.blob) - n + 1)
        return self.blob[i:i + n]

    def val(self):
        r = self.r
        x = r.random()
        if x < 0.2:
            return "".join(r.choice("abcxyz01") for _ in range(r.randint(0, 12)))
        if x < 0.4:
            return r.choice(NUMBERS)
        if x < 0.5:
            return str(r.randint(-10 ** 6, 10 ** 6))
        if x < 0.6:
            return r.choice(FLOATS) if r.random() < 0.6 else repr(r.uniform(-1e6, 1e6))
        if x < 0.8:
            v = bytearray(self.bin(r.randint(0, 40)))
            for _ in range(r.randint(0, 3)):
                v[r.randint(0, len(v)):0] = r.choice((b"\x00", b"\r", b"\n", b"\r\n", b"\xff"))
            return bytes(v)
        if x < 0.9:
            return b""
        if x < 0.985:
            return self.bin(r.randint(100, 4000))
        return self.bin(r.randint(16000, 65536))

    def num(self):
        r = self.r
        x = r.random()
        if x < 0.5:
            return str(r.randint(-20, 200))
        if x < 0.8:
            return r.choice(NUMBERS)
        return r.choice(FLOATS)

    def word(self):
        return self.r.choice(WORDS)

    def ttl(self, unit):
        r = self.r
        x = r.random()
        if x < 0.2:
            return r.choice(NUMBERS + FLOATS)
        if x < 0.3:     # around the largest expiry times, in seconds and in ms
            return r.choice(TIME_EDGES)
        if unit in ("EX", "EXPIRE", "SETEX", "EXAT", "EXPIREAT"):
            if unit in ("EXAT", "EXPIREAT") and x < 0.7:
                return str(r.randint(1600000000, 2000000000))
            return str(r.choice((1, 2, 10, 100, 100000, 0, -1)))
        if unit in ("PXAT", "PEXPIREAT") and x < 0.7:
            return str(r.randint(1600000000000, 2000000000000))
        return str(r.choice((1, 5, 50, 300, 2000, 100000, 0, -5)))

    def domain(self):
        if self.r.random() < 0.03:
            return "r%x" % self.r.getrandbits(12)
        return self.r.choice(DOMAINS)

    def secret(self):
        """A password to try: the right one only for threads that know it."""
        if self.password and self.r.random() < 0.5:
            return self.password
        return self.r.choice(("wrong", "", "fuzz", "fuzz pw ", "\x00"))


def _timed_opts(g, words):
    out = []
    for _ in range(g.r.choice((0, 0, 0, 1, 1, 2, 3))):
        w = g.r.choice(words)
        out.append(w if g.r.random() < 0.85 else w.lower())
        if w in ("EX", "PX", "EXAT", "PXAT") and g.r.random() < 0.9:
            out.append(g.ttl(w))
    return out


def _scan(g):
    a = ["SCAN", g.r.choice(("0", "0", "1", "17", "-1", "18446744073709551615", "abc", str(g.r.getrandbits(20))))]
    for _ in range(g.r.randint(0, 3)):
        w = g.r.choice(("MATCH", "COUNT", "TYPE", "NOVALUES"))
        a.append(w)
        if w == "MATCH":
            a.append(g.r.choice(PATTERNS))
        elif w == "COUNT":
            a.append(g.r.choice(("1", "10", "1000", "0", "-1", "abc", "9223372036854775807")))
        elif w == "TYPE":
            a.append(g.r.choice(("string", "list", "", "STRING")))
    return a


# LCS costs the product of its inputs' lengths (as in Redis: 4 KB x 32 KB takes
# 1.6 s optimised, 15 s under TSan), so it only compares keys of its own pool,
# which hold short values: the fuzz is after parser and state bugs, not LCS's
# known complexity.
LCS_KEYS = ["lcs:a", "lcs:b", "{t}lcs", "lcs:missing"]


def _lcs_set(g):
    v = g.val()
    return [g.r.choice(("SET", "SETNX", "GETSET")), g.r.choice(LCS_KEYS[:3]), v[:64]]


def _lcs(g):
    a = ["LCS", g.r.choice(LCS_KEYS), g.r.choice(LCS_KEYS)]
    for _ in range(g.r.randint(0, 3)):
        w = g.r.choice(("LEN", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "BOGUS"))
        a.append(w)
        if w == "MINMATCHLEN" and g.r.random() < 0.8:
            a.append(g.num())
    return a


def _copy(g):
    a = ["COPY", g.key(), g.key()]
    if g.r.random() < 0.4:
        a += ["DB", g.domain()]
    if g.r.random() < 0.4:
        a.append("REPLACE")
    return a


def _client(g):
    sub = g.r.choice(("SETNAME", "GETNAME", "ID", "INFO", "LIST", "KILL", "NO-EVICT", "setname"))
    a = ["CLIENT", sub]
    if sub.upper() == "SETNAME":
        a.append(g.r.choice(("fuzz", "", "a b", "x" * 100, "\x00")))
    return a


def _config_get(g):
    # patterns only: a mutated byte must never be able to make this a CONFIG SET
    return ["CONFIG", "GET"] + [g.r.choice(("*", "max*", "port", "requirepass", "save", "*e*", "nope", ""))
                                for _ in range(g.r.randint(1, 3))]


def _command(g):
    return g.r.choice((["COMMAND"], ["COMMAND", "COUNT"], ["COMMAND", "INFO"] + g.r.sample(
        ["get", "set", "nope", "client", "config|get", ""], 2), ["COMMAND", "DOCS", "get"],
        ["COMMAND", "LIST"], ["COMMAND", "LIST", "FILTERBY", "PATTERN", "g*"], ["COMMAND", "GETKEYS", "GET", "k"]))


def _hello(g):
    a = ["HELLO"]
    if g.r.random() < 0.8:
        a.append(g.r.choice(("2", "3", "1", "4", "abc", "-1")))
        if g.r.random() < 0.3:
            a += ["AUTH", "default", g.secret()]
        if g.r.random() < 0.2:
            a += ["SETNAME", "h"]
    return a


def _expire(g, name):
    # NX XX GT LT, up to two of them (two are often an error)
    return [name, g.key(), g.ttl(name)] + g.r.sample(["NX", "XX", "GT", "LT"], g.r.choice((0, 0, 1, 2)))


def _select(g):
    return ["SELECT", g.domain()]


# ---- collections and bitmaps: members from a small pool (so that writes
# meet), scores, ranges and counts at their edges; keys from the same pool
# as the strings', so WRONGTYPE paths run too.

def _m(g):
    return g.val() if g.r.random() < 0.25 else "m%d" % g.r.randint(0, 30)


def _ms(g, lo=1, hi=6):
    return [_m(g) for _ in range(g.r.randint(lo, hi))]


def _score(g):
    x = g.r.random()
    if x < 0.5:
        return str(g.r.randint(-50, 50))
    if x < 0.7:
        return g.r.choice(("inf", "-inf", "+inf", "(1", "(-5", "nan", "1e400", "0.5", "-0", "(", "abc"))
    return g.r.choice(FLOATS + NUMBERS)


def _lex(g):
    return g.r.choice(("-", "+", "[m1", "(m2", "[", "(", "m3", "[m9\x00", "(" + "m" * 40))


def _count(g):
    return g.r.choice(("0", "1", "3", "10", "-1", "-5", "-100", "100000", "-100000", "33554433",
                       "-33554433", "9223372036854775807", "-9223372036854775808", "abc", ""))


def _bitoff(g):
    # valid offsets stay at 8M bits or less: a valid 2^32-1 makes a 512 MB value
    return g.r.choice(("0", "1", "7", "8", "63", "100", "4095", "65536", "8388607", "-1", "4294967296",
                       "9223372036854775807", "abc", "", "#3"))


def _zadd(g):
    opts = g.r.sample(["NX", "XX", "GT", "LT", "CH", "INCR"], g.r.choice((0, 0, 1, 2)))
    return ["ZADD", g.key()] + opts + [x for _ in range(g.r.randint(1, 4)) for x in (_score(g), _m(g))]


def _zrange(g):
    a = ["ZRANGE", g.key()]
    by = g.r.choice(("", "", "BYSCORE", "BYLEX"))
    if by == "BYLEX":
        a += [_lex(g), _lex(g), by]
    elif by:
        a += [_score(g), _score(g), by]
    else:
        a += [g.num(), g.num()]
    if g.r.random() < 0.3:
        a.append("REV")
    if g.r.random() < 0.3:
        a += ["LIMIT", g.num(), _count(g)]
    if g.r.random() < 0.3:
        a.append("WITHSCORES")
    return a


def _zalgebra(g):
    name = g.r.choice(("ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD"))
    keys = g.keys(1, 3)
    a = [name] + ([g.key()] if name.endswith("STORE") else [])
    a += [g.r.choice((str(len(keys)), str(len(keys)), "0", "-1", "5", "abc"))] + keys
    if g.r.random() < 0.3:
        a += ["WEIGHTS"] + [_score(g) for _ in keys]
    if g.r.random() < 0.3:
        a += ["AGGREGATE", g.r.choice(("SUM", "MIN", "MAX", "avg"))]
    if g.r.random() < 0.2:
        a.append(g.r.choice(("WITHSCORES", "LIMIT", "LIMIT 5")))
    return a


def _collscan(g, name):
    a = [name, g.key(), g.r.choice(("0", "1", "17", "-1", "abc", str(g.r.getrandbits(20))))]
    if g.r.random() < 0.4:
        a += ["MATCH", g.r.choice(PATTERNS + ["m*"])]
    if g.r.random() < 0.4:
        a += ["COUNT", _count(g)]
    return a


def _bitfield(g, name):
    a = [name, g.key()]
    for _ in range(g.r.randint(1, 3)):
        op = g.r.choice(("GET", "SET", "INCRBY", "OVERFLOW") if name == "BITFIELD" else ("GET", "GET", "SET"))
        typ = g.r.choice(("u8", "i8", "u1", "i64", "u63", "u64", "i0", "U8", "x8", "i16"))
        if op == "OVERFLOW":
            a += [op, g.r.choice(("WRAP", "SAT", "FAIL", "NONE"))]
        elif op == "GET":
            a += [op, typ, _bitoff(g)]
        else:
            a += [op, typ, _bitoff(g), g.num()]
    return a


COLLECTIONS = {
    "HSET": (3, lambda g: [g.r.choice(("HSET", "HMSET")), g.key()] + [x for _ in range(g.r.randint(1, 4))
                                                                   for x in (_m(g), g.val())]),
    "HGET": (2, lambda g: [g.r.choice(("HGET", "HEXISTS", "HSTRLEN")), g.key(), _m(g)]),
    "HMGET": (1, lambda g: [g.r.choice(("HMGET", "HDEL")), g.key()] + _ms(g)),
    "HSETNX": (1, lambda g: ["HSETNX", g.key(), _m(g), g.val()]),
    "HINCRBY": (1.5, lambda g: [g.r.choice(("HINCRBY", "HINCRBYFLOAT")), g.key(), _m(g), g.num()]),
    "HALL": (1, lambda g: [g.r.choice(("HGETALL", "HKEYS", "HVALS", "HLEN")), g.key()]),
    "HRANDFIELD": (1, lambda g: ["HRANDFIELD", g.key()] + ([_count(g)] if g.r.random() < 0.7 else []) +
                   (["WITHVALUES"] if g.r.random() < 0.3 else [])),
    "HSCAN": (0.5, lambda g: _collscan(g, "HSCAN")),
    "PUSH": (3, lambda g: [g.r.choice(("LPUSH", "RPUSH", "LPUSHX", "RPUSHX")), g.key()] + _ms(g)),
    "POP": (2, lambda g: [g.r.choice(("LPOP", "RPOP")), g.key()] + ([_count(g)] if g.r.random() < 0.4 else [])),
    "LRANGE": (1.5, lambda g: [g.r.choice(("LRANGE", "LTRIM")), g.key(), g.num(), g.num()]),
    "LINDEX": (1, lambda g: ["LINDEX", g.key(), g.num()]),
    "LSET": (1, lambda g: ["LSET", g.key(), g.num(), _m(g)]),
    "LINSERT": (1, lambda g: ["LINSERT", g.key(), g.r.choice(("BEFORE", "AFTER", "after", "MID")), _m(g), _m(g)]),
    "LREM": (1, lambda g: ["LREM", g.key(), g.num(), _m(g)]),
    "LPOS": (1, lambda g: ["LPOS", g.key(), _m(g)] + [x for w in g.r.sample(["RANK", "COUNT", "MAXLEN"],
                                                                       g.r.randint(0, 3)) for x in (w, _count(g))]),
    "LMOVE": (1, lambda g: g.r.choice((["LMOVE", g.key(), g.key(), g.r.choice(("LEFT", "RIGHT", "UP")),
                                         g.r.choice(("LEFT", "RIGHT"))], ["RPOPLPUSH", g.key(), g.key()]))),
    "LMPOP": (0.7, lambda g: ["LMPOP", g.r.choice(("1", "2", "0", "-1")), g.key(), g.key(),
                              g.r.choice(("LEFT", "RIGHT", "MID"))] + (["COUNT", _count(g)] if g.r.random() < 0.5 else [])),
    "LLEN": (0.5, lambda g: ["LLEN", g.key()]),
    "SADD": (3, lambda g: [g.r.choice(("SADD", "SREM", "SMISMEMBER")), g.key()] + _ms(g)),
    "SISMEMBER": (1, lambda g: ["SISMEMBER", g.key(), _m(g)]),
    "SALL": (1, lambda g: [g.r.choice(("SMEMBERS", "SCARD")), g.key()]),
    "SPOP": (1.5, lambda g: [g.r.choice(("SPOP", "SRANDMEMBER")), g.key()] +
             ([_count(g)] if g.r.random() < 0.6 else [])),
    "SMOVE": (1, lambda g: ["SMOVE", g.key(), g.key(), _m(g)]),
    "SALGEBRA": (1.5, lambda g: [g.r.choice(("SINTER", "SUNION", "SDIFF"))] + g.keys(1, 3)),
    "SSTORE": (1, lambda g: [g.r.choice(("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"))] + g.keys(2, 4)),
    "SINTERCARD": (0.5, lambda g: ["SINTERCARD", g.r.choice(("1", "2", "0", "-1")), g.key(), g.key()] +
                   (["LIMIT", _count(g)] if g.r.random() < 0.5 else [])),
    "SSCAN": (0.5, lambda g: _collscan(g, "SSCAN")),
    "ZADD": (3, _zadd),
    "ZINCRBY": (1, lambda g: ["ZINCRBY", g.key(), _score(g), _m(g)]),
    "ZREM": (1, lambda g: [g.r.choice(("ZREM", "ZMSCORE")), g.key()] + _ms(g)),
    "ZSCORE": (1.5, lambda g: [g.r.choice(("ZSCORE", "ZRANK", "ZREVRANK")), g.key(), _m(g)]),
    "ZCOUNT": (1, lambda g: g.r.choice((["ZCOUNT", g.key(), _score(g), _score(g)],
                                         ["ZLEXCOUNT", g.key(), _lex(g), _lex(g)], ["ZCARD", g.key()]))),
    "ZRANGE": (2, _zrange),
    "ZRANGEBY": (1, lambda g: g.r.choice((
        [g.r.choice(("ZRANGEBYSCORE", "ZREVRANGEBYSCORE")), g.key(), _score(g), _score(g)] +
        (["WITHSCORES"] if g.r.random() < 0.3 else []) + (["LIMIT", g.num(), _count(g)] if g.r.random() < 0.3 else []),
        [g.r.choice(("ZRANGEBYLEX", "ZREVRANGEBYLEX")), g.key(), _lex(g), _lex(g)],
        ["ZREVRANGE", g.key(), g.num(), g.num()]))),
    "ZRANGESTORE": (0.7, lambda g: ["ZRANGESTORE", g.key()] + _zrange(g)[1:]),
    "ZREMRANGE": (1, lambda g: g.r.choice((["ZREMRANGEBYRANK", g.key(), g.num(), g.num()],
                                            ["ZREMRANGEBYSCORE", g.key(), _score(g), _score(g)],
                                            ["ZREMRANGEBYLEX", g.key(), _lex(g), _lex(g)]))),
    "ZPOP": (1, lambda g: [g.r.choice(("ZPOPMIN", "ZPOPMAX")), g.key()] + ([_count(g)] if g.r.random() < 0.5 else [])),
    "ZMPOP": (0.5, lambda g: ["ZMPOP", g.r.choice(("1", "2", "0")), g.key(), g.key(),
                              g.r.choice(("MIN", "MAX", "MID"))] + (["COUNT", _count(g)] if g.r.random() < 0.5 else [])),
    "ZRANDMEMBER": (1, lambda g: ["ZRANDMEMBER", g.key()] + ([_count(g)] if g.r.random() < 0.7 else []) +
                    (["WITHSCORES"] if g.r.random() < 0.3 else [])),
    "ZALGEBRA": (1.5, _zalgebra),
    "ZSCAN": (0.5, lambda g: _collscan(g, "ZSCAN")),
    "OBJECT": (0.5, lambda g: ["OBJECT", g.r.choice(("ENCODING", "REFCOUNT", "FREQ", "HELP")), g.key()]),
    "SETBIT": (2, lambda g: ["SETBIT", g.key(), _bitoff(g), g.r.choice(("0", "1", "1", "2", "-1", "a"))]),
    "GETBIT": (1, lambda g: ["GETBIT", g.key(), _bitoff(g)]),
    "BITCOUNT": (1, lambda g: ["BITCOUNT", g.key()] + ([g.num(), g.num()] if g.r.random() < 0.6 else []) +
                 ([g.r.choice(("BYTE", "BIT", "byte", "WORD"))] if g.r.random() < 0.4 else [])),
    "BITPOS": (1, lambda g: ["BITPOS", g.key(), g.r.choice(("0", "1", "2"))] +
               [g.num() for _ in range(g.r.choice((0, 1, 2)))] +
               ([g.r.choice(("BYTE", "BIT"))] if g.r.random() < 0.3 else [])),
    "BITOP": (1, lambda g: ["BITOP", g.r.choice(("AND", "OR", "XOR", "NOT", "nand")), g.key()] + g.keys(1, 3)),
    "BITFIELD": (1, lambda g: _bitfield(g, g.r.choice(("BITFIELD", "BITFIELD_RO")))),
}

# label (mostly the command's name) -> (weight, generator of an argument list)
COMMANDS = {
    "GET": (8, lambda g: ["GET", g.key()]),
    "SET": (10, lambda g: ["SET", g.key(), g.val()] + _timed_opts(
        g, ("EX", "PX", "EXAT", "PXAT", "NX", "XX", "KEEPTTL", "GET"))),
    "SETNX": (2, lambda g: ["SETNX", g.key(), g.val()]),
    "SETEX": (2, lambda g: ["SETEX", g.key(), g.ttl("EX"), g.val()]),
    "PSETEX": (2, lambda g: ["PSETEX", g.key(), g.ttl("PX"), g.val()]),
    "GETSET": (2, lambda g: ["GETSET", g.key(), g.val()]),
    "GETDEL": (2, lambda g: ["GETDEL", g.key()]),
    "GETEX": (2, lambda g: ["GETEX", g.key()] + _timed_opts(g, ("EX", "PX", "EXAT", "PXAT", "PERSIST"))),
    "APPEND": (4, lambda g: ["APPEND", g.key(), g.val()]),
    "STRLEN": (2, lambda g: ["STRLEN", g.key()]),
    "GETRANGE": (2, lambda g: ["GETRANGE", g.key(), g.num(), g.num()]),
    "SUBSTR": (1, lambda g: ["SUBSTR", g.key(), g.num(), g.num()]),
    # offsets stay far below 512 MB unless they are invalid: a valid huge
    # offset would make a value of that size
    "SETRANGE": (2, lambda g: ["SETRANGE", g.key(), g.r.choice(
        ("0", "1", "5", "100", "4096", "65536", "1000000", "-1", "536870912", "9223372036854775807",
         "abc", "")), g.val()]),
    "INCR": (3, lambda g: ["INCR", g.key()]),
    "DECR": (2, lambda g: ["DECR", g.key()]),
    "INCRBY": (3, lambda g: ["INCRBY", g.key(), g.num()]),
    "DECRBY": (2, lambda g: ["DECRBY", g.key(), g.num()]),
    "INCRBYFLOAT": (3, lambda g: ["INCRBYFLOAT", g.key(), g.r.choice((g.num(), g.r.choice(FLOATS)))]),
    "MGET": (3, lambda g: ["MGET"] + g.keys(1, 12)),
    "MSET": (3, lambda g: ["MSET"] + [x for k in g.keys(1, 6) for x in (k, g.val())]),
    "MSETNX": (2, lambda g: ["MSETNX"] + [x for k in g.keys(1, 6) for x in (k, g.val())]),
    "LCS": (1, _lcs),
    "LCSSET": (1, _lcs_set),
    "DEL": (4, lambda g: ["DEL"] + g.keys()),
    "UNLINK": (2, lambda g: ["UNLINK"] + g.keys()),
    "EXISTS": (3, lambda g: ["EXISTS"] + g.keys()),
    "TOUCH": (1, lambda g: ["TOUCH"] + g.keys()),
    "TYPE": (2, lambda g: ["TYPE", g.key()]),
    "EXPIRE": (3, lambda g: _expire(g, "EXPIRE")),
    "PEXPIRE": (3, lambda g: _expire(g, "PEXPIRE")),
    "EXPIREAT": (2, lambda g: _expire(g, "EXPIREAT")),
    "PEXPIREAT": (2, lambda g: _expire(g, "PEXPIREAT")),
    "TTL": (2, lambda g: ["TTL", g.key()]),
    "PTTL": (2, lambda g: ["PTTL", g.key()]),
    "EXPIRETIME": (1, lambda g: ["EXPIRETIME", g.key()]),
    "PEXPIRETIME": (1, lambda g: ["PEXPIRETIME", g.key()]),
    "PERSIST": (2, lambda g: ["PERSIST", g.key()]),
    "KEYS": (1, lambda g: ["KEYS", g.r.choice(PATTERNS)]),
    "SCAN": (2, _scan),
    "RANDOMKEY": (1, lambda g: ["RANDOMKEY"]),
    "RENAME": (2, lambda g: ["RENAME", g.key(), g.key()]),
    "RENAMENX": (1, lambda g: ["RENAMENX", g.key(), g.key()]),
    "COPY": (2, _copy),
    "MOVE": (1, lambda g: ["MOVE", g.key(), g.domain()]),
    "DBSIZE": (1, lambda g: ["DBSIZE"]),
    "FLUSHDB": (0.3, lambda g: ["FLUSHDB"] + g.r.sample(["ASYNC", "SYNC"], g.r.choice((0, 0, 1)))),
    "FLUSHALL": (0.2, lambda g: ["FLUSHALL"] + g.r.sample(["ASYNC", "SYNC"], g.r.choice((0, 0, 1)))),
    "PING": (2, lambda g: ["PING"] + ([g.val()] if g.r.random() < 0.5 else [])),
    "ECHO": (2, lambda g: ["ECHO", g.val()]),
    "SELECT": (2, _select),
    "MULTI": (2, lambda g: ["MULTI"]),
    "EXEC": (2, lambda g: ["EXEC"]),
    "DISCARD": (1, lambda g: ["DISCARD"]),
    "WATCH": (1.5, lambda g: ["WATCH"] + g.keys(1, 3)),
    "UNWATCH": (1, lambda g: ["UNWATCH"]),
    "CLIENT": (1, _client),
    "CONFIG": (0.5, _config_get),
    "COMMAND": (0.3, _command),
    "INFO": (0.5, lambda g: ["INFO"] + g.r.sample(["server", "memory", "keyspace", "all", "everything",
                                                   "clients", "stats", "kasi", "bogus"], g.r.choice((0, 1, 2)))),
    "MEMORY": (1, lambda g: ["MEMORY", g.r.choice(("USAGE", "USAGE", "STATS", "DOCTOR")), g.key()] +
               (["SAMPLES", g.num()] if g.r.random() < 0.3 else [])),
    "TIME": (0.5, lambda g: ["TIME"]),
    "LASTSAVE": (0.5, lambda g: ["LASTSAVE"]),
    "AUTH": (1, lambda g: ["AUTH"] + (["default"] if g.r.random() < 0.3 else []) + [g.secret()]),
    "HELLO": (0.5, _hello),
    "RESET": (0.3, lambda g: ["RESET"]),
    "QUIT": (0.2, lambda g: ["QUIT"]),
    "UNKNOWN": (0.5, lambda g: [g.r.choice(("FOO", "GETT", "", "get\x00", "SET ", "SETT", "x" * 40))] + g.keys(0, 2)),
}
COMMANDS.update(COLLECTIONS)
FORBIDDEN = {"SHUTDOWN", "SAVE", "BGSAVE", "BGREWRITEAOF"}
_NAMES = sorted(COMMANDS)
_WEIGHTS = [COMMANDS[n][0] for n in _NAMES]


def random_command(g):
    """A list of arguments: a known command, sometimes with a wrong arity or odd case."""
    r = g.r
    name = r.choices(_NAMES, _WEIGHTS)[0]
    args = COMMANDS[name][1](g)
    x = r.random()
    if x < 0.05 and len(args) > 1:
        args = args[:r.randrange(1, len(args))]          # too few
    elif x < 0.1:
        args = args + [g.r.choice((g.val(), g.word(), g.num()))
                       for _ in range(r.randint(1, 3))]  # too many (or extra options)
    if r.random() < 0.15 and isinstance(args[0], str):
        args[0] = "".join(c.lower() if r.random() < 0.5 else c for c in args[0])
    return args


def _bytes(a):
    return a if isinstance(a, bytes) else a.encode("utf-8", "surrogatepass")


_PLAIN = set(range(33, 127)) - set(b"\"'\\")


def encode_inline(r, args):
    """A valid inline request: bare words, or double quotes with escapes."""
    parts = []
    for a in map(_bytes, args):
        if a and all(c in _PLAIN for c in a) and r.random() < 0.8:
            parts.append(a)
        else:
            esc = {0x22: b'\\"', 0x5c: b"\\\\", 0x0a: b"\\n", 0x0d: b"\\r", 0x09: b"\\t"}
            parts.append(b'"' + b"".join(
                esc.get(c) or (bytes([c]) if 32 <= c < 127 else b"\\x%02x" % c) for c in a) + b'"')
    return r.choice((b" ", b"  ", b"\t")).join(parts) + r.choice((b"\r\n", b"\r\n", b"\n"))


# --------------------------------------------------------------------------
# Corrupted and hostile frames
# --------------------------------------------------------------------------

INSERTS = (b"\r", b"\n", b"\r\n", b" ", b'"', b"'", b"\\", b"\x00", b"*", b"$", b"-1", b"-",
           b"99999999999", b"*2\r\n", b"$3\r\n", b"*999999999\r\n", b"$2147483647\r\n", b"\xff")
HUGE = (b"999999999", b"2147483647", b"2147483648", b"4294967296", b"9223372036854775807",
        b"9223372036854775808", b"99999999999999999999", b"536870912", b"536870913", b"1048577",
        b"-1", b"-2", b"-2147483649", b"0", b"00", b"-0", b"+3", b" 3", b"3 ", b"x", b"", b"1e3", b"0x10")


def corrupt(r, frame):
    """Damage a valid frame with one to three random edits."""
    data = bytearray(frame)
    for _ in range(r.randint(1, 3)):
        if not data:
            data = bytearray(r.choice(INSERTS))
        op = r.randrange(9)
        i = r.randrange(len(data))
        if op == 0:
            data[i] = r.randrange(256)
        elif op == 1:
            data[i:i] = r.choice(INSERTS)
        elif op == 2:
            del data[i]
        elif op == 3:
            del data[i:]
        elif op == 4:                               # replace the number of a '*' or '$' header
            heads = [j for j, c in enumerate(data) if c in b"*$"]
            if heads:
                j = r.choice(heads)
                end = j + 1
                while end < len(data) and data[end] not in b"\r\n":
                    end += 1
                data[j + 1:end] = r.choice(HUGE)
        elif op == 5:                               # swap a type byte
            heads = [j for j, c in enumerate(data) if c in b"*$"]
            if heads:
                data[r.choice(heads)] = r.choice(b"*$:+-%~>#_x\x00 ")
        elif op == 6:                               # duplicate a slice
            j = r.randrange(i, len(data)) + 1
            data[j:j] = data[i:j]
        elif op == 7:                               # drop or damage a CRLF
            crlfs = [j for j in range(len(data) - 1) if data[j:j + 2] == b"\r\n"]
            if crlfs:
                j = r.choice(crlfs)
                data[j:j + 2] = r.choice((b"", b"\n", b"\r", b"\n\r", b"\r\r\n"))
        else:
            data[i:i + r.randint(1, 8)] = b""
    return bytes(data)


def hostile(g):
    """A frame aimed at the parser's limits; it may leave the request incomplete."""
    r = g.r
    k = r.randrange(16)
    if k == 0:      # huge argument count, then some real arguments
        return (b"*%d\r\n" % r.choice((999999999, 2147483647, 1048576, 100000, 1025, 11)) +
                b"$1\r\na\r\n" * r.choice((0, 1, 5, 300, 3000)))
    if k == 1:      # invalid argument counts
        return b"*" + r.choice(HUGE) + b"\r\n" + H.encode_command("PING")[4:] * r.randint(0, 2)
    if k == 2:      # huge or invalid bulk length, then part of a body
        return (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + r.choice(HUGE) + b"\r\n" +
                g.bin(r.choice((0, 10, 1000, 20000, 65536))))
    if k == 3:      # a big bulk that is announced correctly but never finished
        n = r.choice((16385, 100000, 5000000, 536870912))
        return b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % n + g.bin(r.randint(0, min(n - 1, 65536)))
    if k == 4:      # count strings longer than any buffer the parser keeps for them
        return r.choice((b"*", b"*1\r\n$")) + b"1" * r.choice((20, 100, 65535, 65536, 70000))
    if k == 5:
        return r.choice((b'SET "abc\r\n', b"SET 'abc\r\n", b'SET "a"b c\r\n', b"ECHO 'a\\'\r\n",
                         b'ECHO "\\x4"\r\n', b'ECHO "\\xzz" "\r\n', b'"\r\n', b"'\r\n", b'"""\r\n'))
    if k == 6:      # over-long inline lines (with or without an end)
        n = r.choice((1000, 65535, 65536, 65537, 70000, 200000))
        body = b"x" * n if r.random() < 0.5 else b"ECHO " + b"a" * n
        return body + r.choice((b"", b"\r\n", b"\n"))
    if k == 7:      # empty lines and whitespace-only requests
        return r.choice((b"\r\n", b"\n", b" \r\n", b"\t\n", b"\r")) * r.randint(1, 200)
    if k == 8:
        return r.choice((b"\x00" * r.randint(1, 5000), b"PING\x00\r\n", b"\x00\r\n", b"*1\r\n$4\r\nPI\x00G\r\n"))
    if k == 9:      # a non-'$' where an argument header must be
        return r.choice((b"*2\r\n$4\r\nECHO\r\n:5\r\n", b"*1\r\nx3\r\nfoo\r\n", b"*1\r\n\r\n",
                         b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n", b"*1\r\n$\r\n", b"*1\r\n$-\r\n"))
    if k == 10:     # CRLFs missing or partial
        return r.choice((b"*1\r\n$4\r\nPING", b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", b"*1\r",
                         b"*1\n$4\nPING\n", b"*1\r\n$4\r\nPING\n\r", b"*1\r\n$4\rPING\r\n", b"*", b"$"))
    if k == 11:     # RESP3 and reply type bytes sent as requests
        return r.choice((b"%1\r\n$1\r\na\r\n$1\r\nb\r\n", b"~2\r\n", b">3\r\n", b"#t\r\n", b"_\r\n",
                         b"+PING\r\n", b"-ERR x\r\n", b":1\r\n", b"$4\r\nPING\r\n", b",1.5\r\n"))
    if k == 12:     # negative / zero lengths that are valid or not
        return r.choice((b"*0\r\n", b"*-1\r\n", b"*-1\r\n*0\r\n", b"*1\r\n$-1\r\n", b"*1\r\n$0\r\n\r\n",
                         b"*2\r\n$3\r\nGET\r\n$-5\r\n"))
    if k == 13:     # a lot of arguments, all present (argv growth), possibly unfinished
        n = r.choice((11, 100, 1000, 5000))
        return b"*%d\r\n$6\r\nEXISTS\r\n" % (n + 1) + b"$1\r\nk\r\n" * (n - r.choice((0, 0, 1, 7)))
    if k == 14:     # random garbage
        return g.bin(r.randint(1, 4096))
    return corrupt(r, encode_frame(r, command_to_corrupt(g)))


def command_to_corrupt(g):
    """A random command other than CONFIG: one flipped byte could make CONFIG GET a CONFIG SET."""
    args = random_command(g)
    while args[0].upper() == "CONFIG":
        args = random_command(g)
    return args


def encode_frame(r, args):
    if r.random() < 0.12 and sum(len(_bytes(a)) for a in args) < 2000:
        return encode_inline(r, args)
    return H.encode_command(*args)


def make_batch(g):
    """(frames, broken): a pipeline; broken if it may end in an incomplete or
    rejected request, after which the connection is not used again."""
    r = g.r
    frames = []
    for _ in range(r.choice((1, 1, 2, 3, 5, 8, 12, 20, 30, 40))):
        x = r.random()
        if x < 0.035:
            frames.append(corrupt(r, encode_frame(r, command_to_corrupt(g))))
        elif x < 0.05:
            frames.append(hostile(g))
        else:
            frames.append(encode_frame(r, random_command(g)))
            continue
        # broken: maybe some valid frames after it (no CONFIG, which the
        # broken one could run into), then stop
        for _ in range(r.choice((0, 0, 0, 1, 3))):
            frames.append(encode_frame(r, command_to_corrupt(g)))
        return frames, True
    return frames, False


def split(r, payload):
    """Cut payload at random byte positions (a few chunks, or byte by byte)."""
    if len(payload) <= 48 and r.random() < 0.2:
        return [payload[i:i + 1] for i in range(len(payload))]
    cuts = sorted(set(r.randrange(1, len(payload)) for _ in range(r.randint(1, 6)))) if len(payload) > 1 else []
    edges = [0] + cuts + [len(payload)]
    return [payload[a:b] for a, b in zip(edges, edges[1:])]


# --------------------------------------------------------------------------
# Fuzz threads and the control connection
# --------------------------------------------------------------------------

class ServerClosed(Exception):
    pass


class Stall(Exception):
    pass


class Fuzzer(threading.Thread):
    """One client: sends random batches until its quota, the deadline or stop."""

    def __init__(self, port, idx, mode, quota, deadline, stop, password, authed):
        super().__init__(name="fuzz-%d" % idx, daemon=True)
        self.port, self.idx, self.quota, self.deadline, self.stop = port, idx, quota, deadline, stop
        self.password, self.authed = password, authed
        self.rng = random.Random("%d/%s/%d" % (SEED, mode, idx))
        self.gen = Gen(self.rng, password if authed else None)
        self.sock = None
        self.frames = self.batches = self.conns = self.server_closed = 0
        self.no_reply = self.bytes_in = 0
        self.error = None
        self.problems = []                          # server-side misbehaviour seen by this thread
        self.history = collections.deque(maxlen=48)

    # -- connection --
    def _connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=CONNECT_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        self.sock = s
        self.conns += 1
        self.fresh = True

    def _close(self, abort=False):
        if self.sock is not None:
            if abort:       # RST instead of FIN
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
            self.sock = None

    # -- I/O, never blocking for longer than a bound --
    def _recv_available(self):
        while True:
            try:
                data = self.sock.recv(1 << 18)
            except (BlockingIOError, InterruptedError):
                return
            except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
                raise ServerClosed()
            if not data:
                raise ServerClosed()
            self.bytes_in += len(data)
            if len(data) < (1 << 18):
                return

    def _send(self, chunks, gap):
        deadline = time.monotonic() + SEND_BOUND
        for n, chunk in enumerate(chunks):
            view = memoryview(chunk)
            while view:
                if time.monotonic() > deadline:
                    raise Stall("could not send a batch within %.0fs (%d bytes left)" % (SEND_BOUND, len(view)))
                rd, wr, _ = select.select([self.sock], [self.sock], [], 0.05)
                if rd:
                    self._recv_available()
                if wr:
                    try:
                        view = view[self.sock.send(view):]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                        raise ServerClosed()
            if gap and n + 1 < len(chunks):
                time.sleep(gap)

    def _drain(self, first_wait, quiet, cap=2.0 * H.TIME_FACTOR):
        """Read until nothing came for `quiet` s (first_wait for the first bytes).
        Returns whether anything arrived."""
        end = time.monotonic() + cap
        wait, got = first_wait, False
        while time.monotonic() < end:
            if not select.select([self.sock], [], [], wait)[0]:
                return got
            self._recv_available()
            got, wait = True, quiet
        return got

    def _await_close(self):
        """After our half-close the server must close its side."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:             # already reset by the server
            raise ServerClosed()
        end = time.monotonic() + EOF_BOUND
        while time.monotonic() < end:
            if select.select([self.sock], [], [], 0.05)[0]:
                self._recv_available()      # raises ServerClosed at EOF
        return False

    # -- one batch --
    def _batch(self):
        r = self.rng
        frames, broken = make_batch(self.gen)
        # every random decision is drawn before any I/O, so the frames a
        # thread sends depend only on the seed, never on replies or timing
        do_split = r.random() < 0.3
        gap = r.choice((0, 0, 0.0002, 0.001, 0.002))
        ending = r.choice(("close", "close", "close", "abort", "abort", "halfclose"))
        payload = b"".join(frames)
        if self.sock is None:
            self._connect()
        if self.fresh and self.authed:
            payload = H.encode_command("AUTH", self.password) + payload
        self.fresh = False
        chunks = split(r, payload) if do_split else [payload]
        self.history.append((self.conns, broken, ending if broken else "-", len(chunks), payload))
        self.frames += len(frames)
        self.batches += 1
        try:
            self._send(chunks, gap if do_split else 0)
            if not broken:
                if not self._drain(REPLY_WAIT, QUIET):
                    self.no_reply += 1
                return
            if ending == "halfclose":
                if not self._await_close():
                    self.problems.append("server kept a half-closed connection open for %.0fs after: %r"
                                         % (EOF_BOUND, payload[-300:]))
            else:
                self._drain(BROKEN_WAIT, QUIET, cap=0.5)
            self._close(abort=ending == "abort")
        except ServerClosed:
            self.server_closed += 1
            self._close()

    def run(self):
        try:
            while (self.frames < self.quota and time.monotonic() < self.deadline
                   and not self.stop.is_set() and not self.problems):
                self._batch()
        except BaseException:
            self.error = traceback.format_exc()
        finally:
            self._close()
            if self.error or self.problems:
                self.stop.set()


class Control(threading.Thread):
    """PING every PING_EVERY s on one connection; +PONG must come within PING_BOUND."""

    def __init__(self, port, password, stop):
        super().__init__(name="control", daemon=True)
        self.port, self.password, self.stop = port, password, stop
        self.pings = 0
        self.worst = 0.0
        self.failure = None

    def run(self):
        try:
            c = H.RawConn(self.port, timeout=PING_BOUND)
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.password:
                assert c.cmd_raw("AUTH", self.password) == H.OK
            while not self.stop.is_set():
                t0 = time.monotonic()
                try:
                    reply = c.cmd_raw("PING")
                except socket.timeout:
                    reply = "no reply within %.1fs" % PING_BOUND
                lat = time.monotonic() - t0
                self.pings += 1
                self.worst = max(self.worst, lat)
                if reply != b"+PONG\r\n":
                    self.failure = "control PING #%d got %r after %.3fs" % (self.pings, reply, lat)
                    return
                self.stop.wait(max(0.0, PING_EVERY - lat))
            c.close()
        except BaseException:
            self.failure = "control connection failed:\n" + traceback.format_exc()
        finally:
            if self.failure:
                self.stop.set()


# --------------------------------------------------------------------------
# Checks after the fuzz
# --------------------------------------------------------------------------

def connect(srv, password):
    c = srv.raw(timeout=5 * H.TIME_FACTOR)
    if password:
        assert c.cmd_raw("AUTH", password) == H.OK
    return c


def connected_clients(srv, password):
    with connect(srv, password) as c:
        info = c.cmd("INFO", "clients")
    for line in info.split(b"\r\n"):
        if line.startswith(b"connected_clients:"):
            return int(line.split(b":")[1])
    raise AssertionError("no connected_clients in INFO: %r" % info)


def vm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1])
    return None


def check_promises_reserve_nothing(srv, password):
    """Connections that announce '*999999999' or a 512 MB bulk and send almost
    nothing after it must not make the server reserve that memory."""
    promises = [b"*3\r\n$3\r\nSET\r\n$7\r\npromise\r\n$536870000\r\n" + b"x" * 4096,
                b"*999999999\r\n" + b"$1\r\na\r\n" * 100,
                b"*2\r\n$4\r\nECHO\r\n$536870912\r\n" + b"y" * 100]
    before = vm_kb(srv.pid)
    held = []
    try:
        for i in range(12):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=CONNECT_TIMEOUT)
            held.append(s)
            s.sendall((H.encode_command("AUTH", password) if password else b"") + promises[i % 3])
        # the server has read every promise once a later PING is answered on each connection's worker
        with connect(srv, password) as c:
            for _ in range(20):
                assert c.cmd_raw("PING") == b"+PONG\r\n"
        time.sleep(0.2 * H.TIME_FACTOR)
        grown_mb = (vm_kb(srv.pid) - before) / 1024.0
    finally:
        for s in held:
            s.close()
    # 8 of the 12 promise 512 MB: reserving them would add 4 GB
    assert grown_mb < 1024, "12 connections holding huge '*'/'$' promises grew the server by %.0f MB" % grown_mb


def check_after_fuzz(srv, password):
    # the server still works, for a fresh connection
    with connect(srv, password) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
        assert c.cmd_raw("SELECT", "0") == H.OK
        value = b"after\x00fuzz\r\n" * 100
        assert c.cmd_raw("SET", "fuzz:final", value) == H.OK
        assert c.cmd_raw("GET", "fuzz:final") == H.bulk(value)
    if password:
        with srv.raw() as c:
            assert c.cmd_raw("GET", "fuzz:final").startswith(b"-NOAUTH")
    # it let go of every fuzz connection
    assert H.wait_for(lambda: connected_clients(srv, password) <= 2, 5), \
        "%d clients still connected" % connected_clients(srv, password)
    check_promises_reserve_nothing(srv, password)
    with connect(srv, password) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
    assert srv.alive(), "server died (exit code %s)" % srv.proc.returncode
    report = srv.sanitizer_report()
    assert not report, "sanitizer report in the server log:\n" + report


def write_history(path, fuzzers):
    with open(path, "w") as f:
        for fz in fuzzers:
            f.write("===== thread %d (authed=%s): last %d batches, oldest first; "
                    "(connection no, broken, ending, chunks, payload)\n" % (fz.idx, fz.authed, len(fz.history)))
            for conn_no, broken, ending, nchunks, payload in fz.history:
                f.write("conn %d broken=%s ending=%s chunks=%d len=%d\n%r\n" % (
                    conn_no, broken, ending, nchunks, len(payload), payload))


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.kasi_only
@pytest.mark.skipif(not H.SANITIZED and not os.environ.get("KASI_TCP_FUZZ_ALWAYS"),
                    reason="runs on the sanitizer builds, where it finds more (make test runs them); "
                           "KASI_TCP_FUZZ_ALWAYS=1 runs it here too")
@pytest.mark.parametrize("password", [None, PASSWORD], ids=["open", "requirepass"])
def test_tcp_fuzz(server_factory, tmp_path, password):
    assert not FORBIDDEN & set(COMMANDS)
    directives = {"maxmemory": "256mb", "maxmemory-policy": "allkeys-lru", "save": "", "appendonly": "no"}
    if password:
        directives["requirepass"] = password
    srv = server_factory(directives)
    mode = "pw" if password else "open"
    start = time.monotonic()
    deadline = start + SECONDS
    stop = threading.Event()
    quota = -(-FRAMES // THREADS)
    # with a password, every third thread never authenticates
    fuzzers = [Fuzzer(srv.port, i, mode, quota, deadline, stop, password,
                      authed=bool(password) and i % 3 != 2) for i in range(THREADS)]
    control = Control(srv.port, password, stop)
    control.start()
    for fz in fuzzers:
        fz.start()
    hard = deadline + SEND_BOUND + EOF_BOUND + 10
    for fz in fuzzers:
        fz.join(max(0.1, hard - time.monotonic()))
    stop.set()
    control.join(PING_BOUND + 5)
    elapsed = time.monotonic() - start

    frames = sum(fz.frames for fz in fuzzers)
    sys.stderr.write(
        "\ntcp fuzz [%s, seed %d, %d threads]: %d frames in %d batches, %.1fs; %d connections opened, "
        "%d closed by the server; %d batches without a reply; %d control PINGs, worst latency %.1f ms\n" % (
            mode, SEED, THREADS, frames, sum(fz.batches for fz in fuzzers), elapsed,
            sum(fz.conns for fz in fuzzers), sum(fz.server_closed for fz in fuzzers),
            sum(fz.no_reply for fz in fuzzers), control.pings, control.worst * 1000))

    failures = []
    hung = [fz.name for fz in fuzzers if fz.is_alive()]
    if hung:
        failures.append("fuzz threads still running: %s" % hung)
    if control.is_alive():
        failures.append("control thread still running")
    if not srv.alive():
        failures.append("server died (exit code %s)" % srv.proc.returncode)
    if control.failure:
        failures.append(control.failure)
    for fz in fuzzers:
        if fz.error:
            failures.append("thread %d: %s" % (fz.idx, fz.error))
        failures += ["thread %d: %s" % (fz.idx, p) for p in fz.problems]
    report = srv.sanitizer_report()
    if report:
        failures.append("sanitizer report in the server log:\n" + report)
    history = tmp_path / "fuzz-history.txt"
    if failures:
        write_history(history, fuzzers)
        pytest.fail("tcp fuzz (seed %d, %s) failed; last batches in %s:\n%s" % (
            SEED, mode, history, "\n".join(failures)), pytrace=False)

    assert frames >= FRAMES, "only %d of %d frames sent in %.1fs" % (frames, FRAMES, elapsed)
    try:
        check_after_fuzz(srv, password)
    except Exception:
        write_history(history, fuzzers)
        sys.stderr.write("\ntcp fuzz (seed %d, %s): last batches in %s\n" % (SEED, mode, history))
        raise
