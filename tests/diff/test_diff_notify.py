"""Differential test for keyspace notifications (notify-keyspace-events, Redis
7.0): a subscriber does PSUBSCRIBE '*' while a writer runs scripts covering
every event class; after each command the writer publishes a marker, and the
subscriber's messages up to the marker are that command's events. The two
transcripts (replies and messages, in order) must be equal byte for byte
between redis-server and Kasi. CONFIG SET/GET of the directive is compared
too, errors included.
"""
import time

import pytest

from multiclient import compare


def events(r, script, classes="KEA"):
    """Run the script as client w, with s subscribed to everything; record
    each command's reply and the messages it caused."""
    r.do("w", "CONFIG", "SET", "notify-keyspace-events", classes)
    r.do("s", "PSUBSCRIBE", "*")
    multi = False
    for i, cmd in enumerate(script):
        if cmd[0] == "DUMP+RESTORE":   # each server restores its own payload
            payload = r.c("w").cmd("DUMP", cmd[1])
            r.c("w").send_command("RESTORE", cmd[2], cmd[3], payload, *cmd[4:])
            cmd = ("RESTORE", cmd[2], cmd[3]) + cmd[4:]
            r.read("w", 1, what=cmd)
        elif cmd[0] == "~":   # a random reply: only its shape is compared
            c = r.c("w")
            c.send_command(*cmd[1:])
            r.log.append(("w", cmd, c.read_raw()[:1]))
        else:
            r.do("w", *cmd)
        multi = cmd[0] == "MULTI" or (multi and cmd[0] != "EXEC")
        if multi:   # queued: the marker would be too
            continue
        marker = b"mark-%d" % i
        r.do("w", "PUBLISH", "mark", marker)
        s = r.c("s")
        got = []
        for _ in range(200):
            m = s.read_raw()
            if m.endswith(marker + b"\r\n") and b"\r\nmark\r\n" in m:
                break
            got.append(m)
        else:
            raise AssertionError("no marker after %r" % (cmd,))
        r.log.append(("s", cmd, got))
    r.do("s", "PUNSUBSCRIBE")
    r.do("w", "CONFIG", "SET", "notify-keyspace-events", "")


STRINGS = [
    ("SET", "s1", "v"), ("SET", "s1", "v2", "EX", "100"), ("SET", "s1", "v3", "KEEPTTL"),
    ("SET", "s1", "x", "NX"), ("SET", "s2", "x", "XX"), ("SET", "s1", "y", "XX", "GET"),
    ("SETNX", "s3", "a"), ("SETNX", "s3", "b"), ("SETEX", "s4", "100", "v"),
    ("PSETEX", "s5", "100000", "v"), ("GETSET", "s1", "z"), ("GETDEL", "s3"), ("GETDEL", "s3"),
    ("GETEX", "s1", "EX", "50"), ("GETEX", "s1", "PERSIST"), ("GETEX", "s1"), ("GETEX", "nokey", "EX", "5"),
    ("APPEND", "s6", "abc"), ("APPEND", "s6", "def"), ("SETRANGE", "s6", "1", "XY"),
    ("SETRANGE", "s7", "0", ""), ("SETRANGE", "s7", "2", "q"),
    ("INCR", "n"), ("DECR", "n"), ("INCRBY", "n", "5"), ("DECRBY", "n", "2"),
    ("INCRBYFLOAT", "f", "1.5"), ("INCR", "s1"),
    ("MSET", "m1", "1", "m2", "2"), ("MSETNX", "m3", "3", "m4", "4"), ("MSETNX", "m3", "3", "m5", "4"),
    ("GETEX", "s1", "PXAT", "1"), ("SET", "s8", "v", "PX", "100000", "GET"),
    ("GET", "s8"), ("STRLEN", "s8"),
]

KEYS = [
    ("SET", "k1", "v"), ("SET", "k2", "v"), ("DEL", "k1", "k2", "k3"), ("SET", "k1", "v"),
    ("UNLINK", "k1", "nokey"), ("SET", "k1", "v"), ("EXPIRE", "k1", "100"), ("PEXPIRE", "k1", "100000"),
    ("EXPIREAT", "k1", "4000000000"), ("PEXPIREAT", "k1", "4000000000000"), ("EXPIRE", "k1", "10", "NX"),
    ("EXPIRE", "k1", "10", "GT"), ("PERSIST", "k1"), ("PERSIST", "k1"), ("EXPIRE", "nokey", "10"),
    ("EXPIRE", "k1", "-1"), ("SET", "k1", "v"), ("PEXPIREAT", "k1", "1"),
    ("SET", "a", "1"), ("RENAME", "a", "b"), ("SET", "c", "1"), ("RENAME", "b", "c"),
    ("RENAMENX", "c", "d"), ("SET", "e", "1"), ("RENAMENX", "d", "e"), ("RENAME", "e", "e"),
    ("COPY", "d", "f"), ("COPY", "d", "f"), ("COPY", "d", "f", "REPLACE"),
    ("COPY", "d", "g", "DB", "3"), ("MOVE", "d", "4"), ("MOVE", "nokey", "4"),
    ("SELECT", "4"), ("DEL", "d"), ("SET", "x", "1"), ("SELECT", "0"),
    ("TOUCH", "f"), ("FLUSHDB",),
]

LISTS = [
    ("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPUSHX", "l", "z"), ("RPUSHX", "l", "y"),
    ("LPUSHX", "nol", "z"), ("RPUSHX", "nol", "z"), ("LINSERT", "l", "BEFORE", "a", "q"),
    ("LINSERT", "l", "AFTER", "nope", "q"), ("LSET", "l", "0", "w"), ("LREM", "l", "0", "q"),
    ("LREM", "l", "0", "nope"), ("LTRIM", "l", "0", "10"), ("LTRIM", "l", "1", "-2"),
    ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "2"), ("RPUSH", "l", "1", "2", "3"),
    ("LMOVE", "l", "l2", "LEFT", "RIGHT"), ("LMOVE", "l", "l2", "RIGHT", "LEFT"),
    ("RPOPLPUSH", "l", "l2"), ("RPOPLPUSH", "l", "l2"), ("LMOVE", "l2", "l2", "LEFT", "LEFT"),
    ("LMPOP", "2", "nol", "l2", "LEFT", "COUNT", "2"), ("LMPOP", "1", "l2", "RIGHT", "COUNT", "5"),
    ("RPUSH", "l3", "x"), ("LTRIM", "l3", "1", "0"), ("RPUSH", "l3", "x", "x"), ("LREM", "l3", "0", "x"),
    ("RPUSH", "l3", "x"), ("BLPOP", "l3", "0"), ("RPUSH", "l3", "x"), ("BRPOP", "l3", "0"),
    ("RPUSH", "l3", "x"), ("BLMOVE", "l3", "l4", "LEFT", "LEFT", "0"), ("BRPOPLPUSH", "l4", "l5", "0"),
    ("BLMPOP", "0", "1", "l5", "LEFT"),
]

HASHES = [
    ("HSET", "h", "a", "1", "b", "2"), ("HSET", "h", "a", "1"), ("HMSET", "h", "c", "3"),
    ("HSETNX", "h", "a", "9"), ("HSETNX", "h", "d", "4"), ("HINCRBY", "h", "n", "3"),
    ("HINCRBYFLOAT", "h", "f", "1.5"), ("HDEL", "h", "a", "zz"), ("HDEL", "h", "zz"),
    ("HDEL", "h", "b", "c", "d", "n", "f"), ("HGET", "h", "a"),
]

SETS = [
    ("SADD", "s", "a", "b", "c"), ("SADD", "s", "a"), ("SREM", "s", "a", "zz"), ("SREM", "s", "zz"),
    ("SMOVE", "s", "t", "b"), ("SMOVE", "s", "t", "zz"), ("SMOVE", "s", "t", "c"),
    ("SADD", "s", "1", "2", "3", "4"), ("~", "SPOP", "s"), ("SPOP", "s", "0"), ("~", "SPOP", "s", "1"),
    ("SCARD", "s"), ("~", "SPOP", "s", "10"), ("SPOP", "s"), ("SADD", "s", "1"), ("SPOP", "s"),
    ("SADD", "s", "1"), ("SPOP", "s", "1"), ("SADD", "s", "x", "y"), ("SADD", "u", "y", "z"),
    ("SINTERSTORE", "d", "s", "u"), ("SUNIONSTORE", "d", "s", "u"), ("SDIFFSTORE", "d", "s", "u"),
    ("SINTERSTORE", "d", "s", "nos"), ("SINTERSTORE", "d", "s", "nos"), ("SUNIONSTORE", "d2", "nos"),
    ("SADD", "v", "1"), ("SMOVE", "v", "v", "1"), ("SREM", "v", "1"),
]

ZSETS = [
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZADD", "z", "1", "a"), ("ZADD", "z", "XX", "5", "zz"),
    ("ZADD", "z", "INCR", "2", "a"), ("ZADD", "z", "NX", "INCR", "2", "a"), ("ZINCRBY", "z", "1", "b"),
    ("ZREM", "z", "a", "zz"), ("ZREM", "z", "zz"), ("ZADD", "z", "4", "d", "5", "e", "6", "f"),
    ("ZREMRANGEBYSCORE", "z", "0", "3"), ("ZREMRANGEBYSCORE", "z", "100", "200"),
    ("ZREMRANGEBYRANK", "z", "0", "0"), ("ZADD", "z", "0", "p", "0", "q"),
    ("ZREMRANGEBYLEX", "z", "[p", "[p"), ("ZPOPMIN", "z"), ("ZPOPMAX", "z", "2"), ("ZPOPMIN", "z", "0"),
    ("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "y", "1", "b", "2", "c"),
    ("ZUNIONSTORE", "d", "2", "z", "y"), ("ZINTERSTORE", "d", "2", "z", "y"),
    ("ZDIFFSTORE", "d", "2", "z", "y"), ("ZINTERSTORE", "d", "2", "z", "noz"),
    ("ZINTERSTORE", "d", "2", "z", "noz"), ("ZRANGESTORE", "d", "z", "0", "-1"),
    ("ZRANGESTORE", "d", "z", "5", "10"), ("ZMPOP", "1", "z", "MIN", "COUNT", "5"),
    ("ZPOPMAX", "y", "5"), ("ZADD", "y", "1", "b"), ("BZPOPMIN", "y", "0"), ("ZADD", "y", "1", "b"),
    ("BZMPOP", "0", "1", "y", "MAX"), ("ZREMRANGEBYRANK", "nokey", "0", "1"),
    ("ZADD", "y", "1", "b"), ("ZREMRANGEBYRANK", "y", "0", "-1"),
]

STREAMS = [
    ("XADD", "x", "1-1", "f", "v"), ("XADD", "x", "2-1", "f", "v"), ("XADD", "x", "MAXLEN", "1", "3-1", "f", "v"),
    ("XADD", "nox", "NOMKSTREAM", "*", "f", "v"), ("XTRIM", "x", "MAXLEN", "0"), ("XTRIM", "x", "MAXLEN", "0"),
    ("XADD", "x", "4-1", "f", "v"), ("XDEL", "x", "4-1", "9-9"), ("XDEL", "x", "9-9"),
    ("XGROUP", "CREATE", "x", "g", "$"), ("XGROUP", "CREATE", "x2", "g", "$", "MKSTREAM"),
    ("XGROUP", "SETID", "x", "g", "0"), ("XGROUP", "CREATECONSUMER", "x", "g", "c1"),
    ("XGROUP", "CREATECONSUMER", "x", "g", "c1"), ("XADD", "x", "5-1", "f", "v"),
    ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "x", ">"), ("XREADGROUP", "GROUP", "g", "c2", "STREAMS", "x", ">"),
    ("XREADGROUP", "GROUP", "g", "c5", "STREAMS", "x", ">"), ("XREADGROUP", "GROUP", "g", "c6", "STREAMS", "x", "0"),
    ("XCLAIM", "x", "g", "c3", "0", "5-1"), ("XCLAIM", "x", "g", "c3", "0", "5-1"),
    ("XCLAIM", "x", "g", "c7", "0", "9-9"), ("XAUTOCLAIM", "x", "g", "c4", "0", "0"),
    ("XAUTOCLAIM", "x", "g", "c8", "0", "9"), ("XACK", "x", "g", "5-1"), ("XDEL", "x", "5-1"),
    ("XAUTOCLAIM", "x", "g", "c9", "0", "0"),
    ("XGROUP", "DELCONSUMER", "x", "g", "c1"), ("XGROUP", "DELCONSUMER", "x", "g", "c1"),
    ("XGROUP", "DESTROY", "x", "g"), ("XGROUP", "DESTROY", "x", "g"), ("XSETID", "x", "10-1"),
    ("XADD", "x", "MINID", "11", "11-1", "f", "v"), ("DEL", "x", "x2"),
]

OTHER = [
    ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "1"), ("BITFIELD", "b", "SET", "u8", "0", "255"),
    ("BITFIELD", "b", "GET", "u8", "0"), ("BITOP", "AND", "bd", "b", "b"), ("BITOP", "AND", "bd", "nob"),
    ("PFADD", "hl", "a"), ("PFADD", "hl", "a"), ("PFADD", "hl2", "b"), ("PFMERGE", "hl3", "hl", "hl2"),
    ("PFCOUNT", "hl"), ("RPUSH", "sl", "3", "1", "2"), ("SORT", "sl", "STORE", "so"),
    ("SORT", "nosl", "STORE", "so"), ("SORT", "nosl", "STORE", "so"),
    ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
    ("GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "gd2"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "gd3"),
    ("GEOSEARCHSTORE", "gd", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("SET", "dumped", "v"), ("DUMP+RESTORE", "dumped", "r1", "0"), ("DUMP+RESTORE", "dumped", "r1", "0"),
    ("DUMP+RESTORE", "dumped", "r1", "0", "REPLACE"), ("RPUSH", "dl", "a"), ("DUMP+RESTORE", "dl", "r2", "0"), ("DUMP+RESTORE", "dl", "r2", "0", "REPLACE", "ABSTTL"),
    ("DUMP+RESTORE", "dl", "r3", "0", "ABSTTL"), ("SET", "r3", "x"), ("DUMP+RESTORE", "dl", "r3", "1", "ABSTTL", "REPLACE"),
    ("DUMP+RESTORE", "dl", "r3", "1", "ABSTTL", "REPLACE"), ("DUMP+RESTORE", "dl", "r4", "100000"),
    ("MULTI",), ("SET", "t1", "1"), ("INCR", "t1"), ("EXEC",),
    ("FLUSHALL",),
]

# Reads, mostly of missing keys (keymiss, the m class).
READS = [
    ("SET", "str", "v"), ("RPUSH", "li", "a"), ("HSET", "ha", "f", "v"), ("SADD", "se", "m"),
    ("ZADD", "zs", "1", "m"), ("XADD", "st", "1-1", "f", "v"),
    ("GET", "no"), ("GET", "str"), ("MGET", "no", "str", "no2"), ("EXISTS", "no", "str"), ("TTL", "no"),
    ("PTTL", "str"), ("EXPIRETIME", "no"), ("TYPE", "no"), ("TYPE", "li"), ("STRLEN", "no"),
    ("GETRANGE", "no", "0", "1"), ("SUBSTR", "no", "0", "1"), ("GETBIT", "no", "1"),
    ("BITCOUNT", "no"), ("BITPOS", "no", "1"), ("BITFIELD_RO", "no", "GET", "u8", "0"),
    ("HGET", "no", "f"), ("HGET", "ha", "nof"), ("HMGET", "no", "f"), ("HGETALL", "no"), ("HKEYS", "no"),
    ("HVALS", "no"), ("HLEN", "no"), ("HEXISTS", "no", "f"), ("HSTRLEN", "no", "f"),
    ("HRANDFIELD", "no"), ("HSCAN", "no", "0"), ("LRANGE", "no", "0", "-1"), ("LLEN", "no"),
    ("LINDEX", "no", "0"), ("LPOS", "no", "a"), ("SMEMBERS", "no"), ("SISMEMBER", "no", "m"),
    ("SMISMEMBER", "no", "m"), ("SCARD", "no"), ("SRANDMEMBER", "no"), ("SSCAN", "no", "0"),
    ("SINTER", "se", "no"), ("SUNION", "no", "se"), ("SDIFF", "no", "se"), ("SINTERCARD", "2", "no", "se"),
    ("ZRANGE", "no", "0", "-1"), ("ZSCORE", "no", "m"), ("ZMSCORE", "no", "m"), ("ZRANK", "no", "m"),
    ("ZCARD", "no"), ("ZCOUNT", "no", "0", "1"), ("ZLEXCOUNT", "no", "-", "+"),
    ("ZRANGEBYSCORE", "no", "0", "1"), ("ZRANDMEMBER", "no"), ("ZSCAN", "no", "0"),
    ("ZUNION", "2", "no", "zs"), ("ZINTER", "2", "zs", "no"), ("ZDIFF", "2", "no", "zs"),
    ("ZINTERCARD", "2", "no", "zs"), ("XRANGE", "no", "-", "+"), ("XREVRANGE", "no", "+", "-"),
    ("XLEN", "no"), ("XREAD", "STREAMS", "no", "st", "0", "0"), ("XINFO", "STREAM", "no"),
    ("XPENDING", "no", "g"), ("PFCOUNT", "no"), ("PFCOUNT", "no", "no2"), ("GEOPOS", "no", "m"),
    ("GEODIST", "no", "a", "b"), ("GEOHASH", "no", "m"), ("GEOSEARCH", "no", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEORADIUS_RO", "no", "0", "0", "1", "km"), ("SORT", "no"), ("SORT", "li", "BY", "w_*", "GET", "o_*"),
    ("SORT_RO", "no"), ("LCS", "no", "str"), ("DUMP", "no"), ("OBJECT", "ENCODING", "no"),
    ("OBJECT", "REFCOUNT", "no"), ("MEMORY", "USAGE", "no"), ("TOUCH", "no"), ("GETEX", "no"),
    ("GETDEL", "no"), ("COPY", "no", "x"), ("RENAME", "no", "x"), ("MOVE", "no", "5"),
    ("DEL", "no"), ("EXPIRE", "no", "5"), ("PERSIST", "no"), ("LPOP", "no"), ("SPOP", "no"),
    ("ZPOPMIN", "no"), ("HDEL", "no", "f"), ("SREM", "no", "m"), ("APPEND", "str", "x"),
    ("LMOVE", "no", "li", "LEFT", "LEFT"), ("SMOVE", "no", "se", "m"), ("XDEL", "no", "1-1"),
    ("PFMERGE", "pm", "no"), ("BITOP", "OR", "bo", "no"), ("SUNIONSTORE", "su", "no"),
    ("ZUNIONSTORE", "zu", "1", "no"), ("ZRANGESTORE", "zr", "no", "0", "-1"),
    ("GEOSEARCHSTORE", "gs", "no", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    ("GEORADIUS", "no", "0", "0", "1", "km", "STORE", "gr"), ("SORT", "no", "STORE", "so"),
    ("SET", "no", "v", "GET"), ("GETSET", "no2", "v"), ("LMPOP", "1", "no3", "LEFT"), ("ZMPOP", "1", "no3", "MIN"),
    ("BLPOP", "no3", "0.01"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "no3", ">"),
    ("WATCH", "no4"), ("UNWATCH",), ("~", "RANDOMKEY"), ("KEYS", "nomatch*"),
    ("DBSIZE",), ("FLUSHALL",),
]

EDGES = [
    # A key set with a time already past is gone when the next command looks
    # (lazily, in the same EXEC): its "expired" must not wait for the active
    # expiry, whose moment on either server would make the order a race.
    ("MULTI",), ("SET", "e1", "v", "PXAT", "1"), ("GET", "e1"), ("EXEC",), ("SET", "e1", "v"),
    ("MULTI",), ("SET", "e1", "w", "EXAT", "1", "GET"), ("EXISTS", "e1"), ("EXEC",),
    ("SET", "e2", "v", "EX", "0"), ("SETEX", "e2", "-1", "v"), ("GETEX", "nokey", "PXAT", "1"),
    ("SET", "e3", "v"), ("GETEX", "e3", "EXAT", "1"), ("APPEND", "e4", ""), ("SETRANGE", "e4", "5", "x"),
    ("INCRBYFLOAT", "e5", "0"), ("INCRBY", "e5", "0"), ("SET", "e6", "v", "KEEPTTL", "NX"),
    ("EXPIRE", "e6", "100"), ("EXPIRE", "e6", "200", "LT"), ("EXPIRE", "e6", "50", "GT"),
    ("EXPIRE", "e6", "50", "XX"), ("PEXPIREAT", "nokey", "1"), ("SET", "e7", "v"), ("PERSIST", "e7"),
    ("ZADD", "ez", "GT", "1", "a"), ("ZADD", "ez", "GT", "0", "a"), ("ZADD", "ez", "LT", "CH", "0", "a"),
    ("ZADD", "ez", "XX", "CH", "0", "a"), ("ZINCRBY", "ez", "0", "a"), ("ZADD", "ez", "NX", "5", "a"),
    ("LINSERT", "nol", "BEFORE", "a", "b"), ("HINCRBY", "eh", "f", "0"), ("HINCRBYFLOAT", "eh", "g", "0"),
    ("HSET", "eh", "f", "0"), ("HSETNX", "eh", "f", "1"), ("SADD", "es", "a"), ("SADD", "es", "a"),
    ("SINTERSTORE", "es", "es"), ("SUNIONSTORE", "es", "es", "nos"), ("SDIFFSTORE", "es", "es", "es"),
    ("ZUNIONSTORE", "ez", "1", "ez"), ("ZDIFFSTORE", "ez", "2", "ez", "ez"),
    ("XADD", "ex", "1-1", "f", "v"), ("XADD", "ex", "MINID", "5", "5-1", "f", "v"),
    ("XADD", "ex", "MAXLEN", "~", "1", "6-1", "f", "v"), ("XTRIM", "ex", "MINID", "100"),
    ("XGROUP", "CREATE", "ex", "g", "0"), ("XGROUP", "CREATE", "ex", "g", "0"),
    ("XGROUP", "SETID", "ex", "nog", "0"), ("XGROUP", "CREATECONSUMER", "ex", "nog", "c"),
    ("XSETID", "ex", "1-1"), ("XSETID", "nox", "1-1"), ("LPUSH", "el", "a"), ("LSET", "el", "5", "x"),
    ("LTRIM", "el", "0", "-1"), ("LMOVE", "el", "el", "RIGHT", "LEFT"), ("RENAME", "el", "el2"),
    ("RENAMENX", "el2", "el2"), ("RPUSH", "el", "b"), ("RENAME", "el", "el2"), ("COPY", "el2", "el2"),
    ("MOVE", "el2", "0"), ("SET", "7", "x"), ("MOVE", "7", "7"), ("SELECT", "7"), ("LPUSH", "l7", "v"),
    ("RENAME", "l7", "l8"), ("COPY", "l8", "l9", "DB", "0"), ("FLUSHDB",), ("SELECT", "0"),
    ("SETBIT", "eb", "0", "0"), ("SETBIT", "eb", "0", "0"), ("BITFIELD", "eb", "SET", "u8", "0", "0"),
    ("BITFIELD", "eb", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5"), ("BITFIELD", "eb", "INCRBY", "u8", "0", "0"),
    ("BITFIELD", "eb2", "SET", "u8", "0", "0"), ("SETBIT", "eb3", "0", "0"), ("BITFIELD", "eb4", "GET", "u8", "0"),
    ("BITFIELD", "eb5", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "5"), ("SET", "eb6", "a"),
    ("BITFIELD", "eb6", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5"), ("BITFIELD", "eb6", "SET", "u8", "200", "0"),
    ("SET", "eb7", "a"), ("SETBIT", "eb7", "100", "0"),
    ("PFADD", "ep"), ("PFADD", "ep"), ("PFMERGE", "ep"), ("PFMERGE", "ep2"), ("FLUSHALL",),
]

SCRIPTS = {"reads": READS, "edges": EDGES, "strings": STRINGS, "keys": KEYS, "lists": LISTS, "hashes": HASHES, "sets": SETS,
           "zsets": ZSETS, "streams": STREAMS, "other": OTHER}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_events(pair, name, proto):
    compare(pair, name, lambda r: events(r, SCRIPTS[name]), proto)


# Each class alone, K or E alone, and n and m (not part of A).
@pytest.mark.parametrize("classes", ["K$", "Eg", "Kl", "Es", "Kh", "Ez", "Kt", "KE", "g", "KEg$",
                                     "AK", "AE", "KEAn", "Egn", "KEm"])
def test_classes(pair, classes):
    script = [c for n in sorted(SCRIPTS) for c in SCRIPTS[n] ]
    compare(pair, "classes " + classes, lambda r: events(r, script, classes))


def config_steps(r):
    for v in ["", "KEA", "AKE", "A", "K", "E", "g$lshzxetd", "g$lshzxetdn", "g$lshzxet", "Kn", "KEn",
              "ExKgA$nm", "m", "d", "dt", "nm", "KKK", "A$", "xe", "KA", "Az", "q", "KEq", "a", "k",
              "e", "Ag$lshzxeKEtmdn", " ", "K E"]:
        r.do("w", "CONFIG", "SET", "notify-keyspace-events", v)
        r.do("w", "CONFIG", "GET", "notify-keyspace-events")
    r.do("w", "CONFIG", "SET", "notify-keyspace-events", "KEA", "maxmemory", "bad")
    r.do("w", "CONFIG", "GET", "notify-keyspace-events")
    r.do("w", "CONFIG", "SET", "notify-keyspace-events")
    r.do("w", "CONFIG", "GET", "notify-*")
    r.do("w", "CONFIG", "SET", "notify-keyspace-events", "")


def test_config(pair):
    compare(pair, "config", config_steps)


def served_waiters(r):
    """Blocked clients served by a push (on other workers): the push's events,
    then the pop the waiter's command made, then del when it emptied the key."""
    r.do("w", "CONFIG", "SET", "notify-keyspace-events", "KEA")
    r.do("s", "PSUBSCRIBE", "*")
    steps = [
        (("BLPOP", "bl", "0"), ("RPUSH", "bl", "a")),
        (("BLMOVE", "bl", "bd", "LEFT", "RIGHT", "0"), ("LPUSH", "bl", "x", "y")),
        (("BZPOPMIN", "bz", "0"), ("ZADD", "bz", "1", "m")),
        (("BLMPOP", "0", "2", "bq", "bq2", "RIGHT", "COUNT", "5"), ("RPUSH", "bq2", "1", "2")),
        (("XREAD", "BLOCK", "0", "STREAMS", "bx", "$"), ("XADD", "bx", "1-1", "f", "v")),
    ]
    for i, (block, push) in enumerate(steps):
        r.c("b").send_command(*block)
        for _ in range(500):   # parked before the push (not logged: a wait)
            if b"blocked_clients:1\r\n" in r.c("w").cmd("INFO", "clients"):
                break
            time.sleep(0.002)
        else:
            raise AssertionError("%r did not block" % (block,))
        r.do("w", *push)
        r.read("b", 1, what=block)
        r.do("w", "PUBLISH", "mark", "m%d" % i)
        s, got = r.c("s"), []
        while True:
            m = s.read_raw()
            if m.endswith(b"m%d\r\n" % i) and b"\r\nmark\r\n" in m:
                break
            got.append(m)
        r.log.append(("s", block, got))
    r.do("s", "PUNSUBSCRIBE")
    r.do("w", "CONFIG", "SET", "notify-keyspace-events", "")


def test_served_waiters(pair):
    compare(pair, "served waiters", served_waiters)
