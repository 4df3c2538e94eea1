"""Differential test for the blocking commands (Redis 7.0 semantics): BLPOP
BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP, and XREAD and
XREADGROUP with BLOCK, with several clients at once, each
transcript compared byte for byte with redis-server's (see multiclient.py).
Clients land on different workers, so a push on one wakes a client blocked
on another. Between a blocking command and the write meant to wake it, a
scenario waits a little (WAIT_S), so that the client has blocked on both
servers before it."""
import pytest

from multiclient import compare, send_unread as block

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def served_in_the_order_they_blocked(r):
    block(r, "c1", "BLPOP", "q", 0)
    block(r, "c2", "BLPOP", "q", 0)
    block(r, "c3", "BRPOP", "q", "other", 0)
    r.do("p", "RPUSH", "q", "a", "b")
    r.read("c1", 1)
    r.read("c2", 1)
    r.do("p", "LLEN", "q")
    r.do("p", "LPUSH", "q", "c")
    r.read("c3", 1)
    r.do("p", "EXISTS", "q")


@scenario
def first_non_empty_key_and_types(r):
    r.do("p", "RPUSH", "b", "1", "2")
    r.do("c", "BLPOP", "a", "b", "c", 0)          # served at once from b
    r.do("c", "BRPOP", "a", "b", 1)
    r.do("p", "SET", "s", "x")
    r.do("c", "BLPOP", "a", "s", 1)               # WRONGTYPE at once
    block(r, "c", "BLPOP", "w", 0)
    r.do("p", "SET", "w", "str")                  # a string: it waits on
    r.do("p", "DEL", "w")
    r.do("p", "RPUSH", "w", "v")
    r.read("c", 1)


@scenario
def timeouts(r):
    r.do("c", "BLPOP", "none", 0.05)
    r.do("c", "BRPOP", "none", "0.01")
    r.do("c", "BLMOVE", "none", "dst", "LEFT", "RIGHT", 0.05)
    r.do("c", "BRPOPLPUSH", "none", "dst", 0.05)
    r.do("c", "BLMPOP", 0.05, 1, "none", "LEFT")
    for bad in (("BLPOP", "k", -1), ("BLPOP", "k", "abc"), ("BLPOP", "k", "1e400"), ("BLPOP", "k"),
                ("BLPOP", "k", "inf"), ("BLMOVE", "a", "b", "UP", "LEFT", 0), ("BLMOVE", "a", "b", "LEFT", "LEFT", "x"),
                ("BLMPOP", 0, 0, "k", "LEFT"), ("BLMPOP", 0, 2, "k", "LEFT"), ("BLMPOP", 0, 1, "k", "MIDDLE"),
                ("BLMPOP", 0, 1, "k", "LEFT", "COUNT", 0), ("BLMPOP", 0, 1, "k", "LEFT", "COUNT"),
                ("BLMPOP", "x", 1, "k", "LEFT"), ("BRPOPLPUSH", "a", "b", -2), ("BLMPOP", 0, 1, "k")):
        r.do("c", *bad)


@scenario
def moves(r):
    block(r, "c1", "BLMOVE", "src", "dst", "RIGHT", "LEFT", 0)
    block(r, "c2", "BRPOPLPUSH", "src", "dst", 0)
    r.do("p", "RPUSH", "src", "x", "y", "z")
    r.read("c1", 1)
    r.read("c2", 1)
    r.do("p", "LRANGE", "dst", 0, -1)
    r.do("p", "LRANGE", "src", 0, -1)
    r.do("p", "SET", "str", "1")
    block(r, "c1", "BLMOVE", "src2", "str", "LEFT", "LEFT", 0)
    r.do("p", "RPUSH", "src2", "v")               # the destination is no list: WRONGTYPE
    r.read("c1", 1)
    r.do("p", "LRANGE", "src2", 0, -1)
    r.do("c1", "BLMOVE", "src", "src", "LEFT", "RIGHT", 0)   # a rotation, at once


@scenario
def blmpop(r):
    block(r, "c1", "BLMPOP", 0, 2, "a", "b", "LEFT", "COUNT", 3)
    block(r, "c2", "BLMPOP", 0, 1, "b", "RIGHT")
    r.do("p", "RPUSH", "b", "1", "2", "3", "4", "5")
    r.read("c1", 1)
    r.read("c2", 1)
    r.do("p", "LRANGE", "b", 0, -1)


@scenario
def transactions_and_renames(r):
    r.do("c", "MULTI")
    r.do("c", "BLPOP", "empty", 0)
    r.do("c", "BLMOVE", "empty", "d", "LEFT", "LEFT", 0)
    r.do("c", "EXEC")                              # inside EXEC nothing blocks
    block(r, "c", "BLPOP", "target", 0)
    r.do("p", "MULTI")
    r.do("p", "RPUSH", "target", "a")
    r.do("p", "RPUSH", "target", "b")
    r.do("p", "EXEC")
    r.read("c", 1)                                 # after the whole transaction
    r.do("p", "LRANGE", "target", 0, -1)
    block(r, "c", "BLPOP", "renamed", 0)
    r.do("p", "RPUSH", "tmp", "moved")
    r.do("p", "RENAME", "tmp", "renamed")
    r.read("c", 1)


@scenario
def pushx_linsert_and_many_waiters(r):
    waiters = ["w%d" % i for i in range(6)]
    for w in waiters:
        block(r, w, "BLPOP", "many", 0)
    r.do("p", "RPUSH", "many", *range(4))
    for w in waiters[:4]:
        r.read(w, 1)
    r.do("p", "LPUSHX", "many", "x")              # nothing there: no-op
    r.do("p", "RPUSH", "many", "p")
    r.read("w4", 1)
    r.do("p", "RPUSH", "many", "q", "r")
    r.read("w5", 1)
    r.do("p", "LRANGE", "many", 0, -1)


@scenario
def sorted_sets(r):
    r.do("p", "ZADD", "z", 1, "a", 2, "b", 3, "c")
    r.do("c", "BZPOPMIN", "none", "z", 0)            # at once
    r.do("c", "BZPOPMAX", "z", 0)
    r.do("c", "BZMPOP", 0, 2, "none", "z", "MIN", "COUNT", 5)
    block(r, "c1", "BZPOPMIN", "zz", "z2", 0)
    block(r, "c2", "BZPOPMAX", "z2", 0)
    block(r, "c3", "BZMPOP", 0, 1, "z2", "MAX", "COUNT", 2)
    r.do("p", "ZADD", "z2", 5, "five", 1.5, "onehalf", "-inf", "low", 9, "nine")
    r.read("c1", 1)
    r.read("c2", 1)
    r.read("c3", 1)
    r.do("p", "ZRANGE", "z2", 0, -1, "WITHSCORES")
    r.do("c", "BZPOPMIN", "none", 0.05)
    r.do("c", "BZMPOP", 0.05, 1, "none", "MAX")
    r.do("p", "SET", "str", "1")
    r.do("c", "BZPOPMIN", "str", 0)
    block(r, "c1", "BZPOPMAX", "zk", 0)
    r.do("p", "RPUSH", "zk", "a list")             # another kind: it waits on
    r.do("p", "DEL", "zk")
    r.do("p", "ZINCRBY", "zk", 7, "m")
    r.read("c1", 1)
    for bad in (("BZPOPMIN", "k", "x"), ("BZPOPMIN", "k"), ("BZMPOP", 0, 1, "k", "UP"),
                ("BZMPOP", 0, 0, "k", "MIN"), ("BZMPOP", 0, 3, "k", "MIN"), ("BZMPOP", 0, 1, "k", "MIN", "COUNT", -1),
                ("BZMPOP", -1, 1, "k", "MIN")):
        r.do("c", *bad)
    r.do("c", "MULTI")
    r.do("c", "BZPOPMIN", "empty", 0)
    r.do("c", "BZMPOP", 0, 1, "empty", "MIN")
    r.do("c", "EXEC")


@scenario
def streams(r):
    """Explicit IDs only where an entry is added: `*` would read the clock."""
    r.do("p", "XADD", "s", "1-1", "a", "1")
    r.do("c", "XREAD", "BLOCK", 0, "STREAMS", "s", "0")             # at once
    r.do("c", "XREAD", "BLOCK", 50, "STREAMS", "s", "$")            # times out
    block(r, "c1", "XREAD", "BLOCK", 0, "STREAMS", "s", "$")
    block(r, "c2", "XREAD", "COUNT", 1, "BLOCK", 0, "STREAMS", "other", "s", "$", "1-1")
    r.do("p", "XADD", "s", "2-1", "b", "2")
    r.read("c1", 1)
    r.read("c2", 1)
    block(r, "c1", "XREAD", "BLOCK", 0, "STREAMS", "gone", "$")
    r.do("p", "SET", "gone", "x")                                   # XREAD waits on
    r.do("p", "DEL", "gone")
    r.do("p", "XADD", "gone", "5-5", "f", "v")
    r.read("c1", 1)
    r.do("p", "XGROUP", "CREATE", "s", "g", "$")
    block(r, "g1", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", ">")
    block(r, "g2", "XREADGROUP", "GROUP", "g", "bob", "COUNT", 5, "BLOCK", 0, "STREAMS", "s", ">")
    r.do("p", "XADD", "s", "3-1", "c", "3")
    r.read("g1", 1)
    r.do("p", "XADD", "s", "4-1", "d", "4")
    r.read("g2", 1)
    r.do("p", "XPENDING", "s", "g")
    r.do("g1", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", "0")   # history: at once
    r.do("g1", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 30, "STREAMS", "s", ">")  # times out
    block(r, "g1", "XREADGROUP", "GROUP", "g", "alice", "NOACK", "BLOCK", 0, "STREAMS", "s", ">")
    r.do("p", "XADD", "s", "5-1", "e", "5")
    r.read("g1", 1)
    r.do("p", "XPENDING", "s", "g")
    block(r, "g1", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", 0, "STREAMS", "s", ">")
    r.do("p", "XGROUP", "DESTROY", "s", "g")                         # NOGROUP
    r.read("g1", 1)
    r.do("p", "XGROUP", "CREATE", "s", "g", "$")
    block(r, "g2", "XREADGROUP", "GROUP", "g", "bob", "BLOCK", 0, "STREAMS", "s", ">")
    r.do("p", "DEL", "s")                                            # UNBLOCKED
    r.read("g2", 1)
    r.do("c", "MULTI")
    r.do("c", "XREAD", "BLOCK", 0, "STREAMS", "none", "$")
    r.do("c", "EXEC")
    for bad in (("XREAD", "BLOCK", -1, "STREAMS", "s", "$"), ("XREAD", "BLOCK", "x", "STREAMS", "s", "$"),
                ("XREAD", "BLOCK", "1.5", "STREAMS", "s", "$")):
        r.do("c", *bad)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_diff_blocking(pair, name, proto):
    compare(pair, name, SCENARIOS[name], proto)
