"""Client-side caching against Redis 7.0: CLIENT TRACKING in its modes
(default, OPTIN, OPTOUT, BCAST with prefixes, NOLOOP, REDIRECT), CLIENT
CACHING, GETREDIR and TRACKINGINFO, and the invalidation messages several
clients receive, in order: RESP3 pushes, and __redis__:invalidate messages
for a RESP2 redirection. The transcripts of redis-server and Kasi must be
equal byte for byte (client ids, which differ, blanked). The clients of a
scenario are spread over Kasi's workers, so invalidations cross threads."""
import time

import pytest

import kasi_harness as H
from multiclient import compare

WAIT_S = 0.05 * H.TIME_FACTOR


def default_mode(r):
    r.hello3("t")
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("t", "CLIENT", "GETREDIR")
    r.do("t", "CLIENT", "TRACKING", "ON")
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("t", "CLIENT", "GETREDIR")
    r.do("w", "MSET", "a", "1", "b", "1", "c", "1")
    r.do("t", "GET", "a")
    r.do("t", "MGET", "a", "b")
    r.do("w", "SET", "a", "2")
    r.read("t", 1)                       # invalidate [a]
    r.do("w", "SET", "a", "3")           # forgotten since: nothing
    r.do("w", "SET", "nobody-read-this", "x")
    r.do("w", "SET", "b", "1", "NX")     # no change: nothing
    r.do("w", "DEL", "missing")
    r.do("w", "DEL", "b")
    r.read("t", 1)                       # invalidate [b]
    r.do("t", "GET", "c")
    r.do("t", "SET", "c", "2")           # its own change: the reply, then the push
    r.read("t", 1)
    r.do("t", "HGET", "h", "f")          # a missing key is tracked too
    r.do("w", "HSET", "h", "f", "v")
    r.read("t", 1)
    r.do("t", "SELECT", "1")
    r.do("t", "GET", "x")                # names are global: a change in any db
    r.do("w", "SET", "x", "1")
    r.read("t", 1)
    r.do("t", "SELECT", "0")
    r.do("t", "EXISTS", "e")
    r.do("w", "SET", "e", "1", "PX", "30")
    r.read("t", 1)
    r.do("t", "GET", "e")
    time.sleep(0.2)
    r.do("w", "GET", "e")                # expired: gone, and told of
    r.read("t", 1)
    r.do("t", "GET", "m")
    r.do("w", "MULTI")
    r.do("w", "SET", "m", "1")
    r.do("w", "SET", "m", "2")
    r.do("w", "EXEC")
    r.read("t", 1)
    r.do("t", "GET", "f1")
    r.do("w", "FLUSHALL")
    r.read("t", 1)                       # invalidate null: everything
    r.do("t", "CLIENT", "TRACKING", "OFF")
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("t", "GET", "z")
    r.do("w", "SET", "z", "1")


def noloop(r):
    r.hello3("t")
    r.do("t", "CLIENT", "TRACKING", "ON", "NOLOOP")
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("t", "GET", "k")
    r.do("t", "SET", "k", "1")           # its own change: no push, and k is forgotten
    r.do("w", "SET", "k", "2")
    r.do("t", "GET", "k")
    r.do("w", "SET", "k", "3")
    r.read("t", 1)
    r.do("t", "GET", "j")
    r.do("t", "FLUSHDB")                 # a flush is told even to NOLOOP
    r.read("t", 1)


def redirect_resp2(r):
    rid = r.id("r")
    r.do("r", "SUBSCRIBE", "__redis__:invalidate")
    r.do("t", "CLIENT", "TRACKING", "ON", "REDIRECT", rid)
    r.do("t", "CLIENT", "GETREDIR", blank=[b":%d\r\n" % rid])
    r.do("t", "CLIENT", "TRACKINGINFO", blank=[b":%d\r\n" % rid])
    r.do("t", "GET", "a")
    r.do("w", "SET", "a", "1")
    r.read("r", 1)                       # message __redis__:invalidate [a]
    r.do("t", "GET", "b")
    r.do("w", "FLUSHALL")
    r.read("r", 1)                       # with a RESP2 null
    r.do("t", "GET", "c")
    r.do("r", "QUIT")
    time.sleep(WAIT_S)
    r.do("w", "SET", "c", "1")           # the redirection has gone: RESP2 hears nothing
    time.sleep(WAIT_S)
    r.do("t", "CLIENT", "TRACKINGINFO", blank=[b":%d\r\n" % rid])


def redirect_resp3(r):
    rid = r.id("r")
    r.hello3("r")
    r.hello3("t")
    r.do("t", "CLIENT", "TRACKING", "ON", "REDIRECT", rid)
    r.do("t", "GET", "a")
    r.do("w", "SET", "a", "1")
    r.read("r", 1)                       # a push on the redirection
    r.do("t", "GET", "a")
    r.do("r", "QUIT")
    time.sleep(WAIT_S)
    r.do("w", "SET", "a", "2")
    r.read("t", 1, blank=[b":%d\r\n" % rid])   # tracking-redir-broken
    r.do("t", "CLIENT", "TRACKINGINFO", blank=[b":%d\r\n" % rid])


def optin_optout(r):
    r.hello3("t")
    r.do("t", "CLIENT", "CACHING", "YES")
    r.do("t", "CLIENT", "TRACKING", "ON", "OPTIN")
    r.do("t", "GET", "a")                # not tracked
    r.do("w", "SET", "a", "1")
    r.do("t", "CLIENT", "CACHING", "NO")
    r.do("t", "CLIENT", "CACHING", "MAYBE")
    r.do("t", "CLIENT", "CACHING", "YES")
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("t", "GET", "a")                # tracked
    r.do("t", "GET", "b")                # the word held for one command
    r.do("w", "MSET", "a", "2", "b", "2")
    r.read("t", 1)
    r.do("t", "CLIENT", "CACHING", "YES")
    r.do("t", "CLIENT", "GETREDIR")      # another CLIENT command keeps the word
    r.do("t", "GET", "c")
    r.do("w", "SET", "c", "1")
    r.read("t", 1)
    r.do("t", "CLIENT", "CACHING", "YES")
    r.do("t", "MULTI")
    r.do("t", "GET", "d")
    r.do("t", "GET", "e")
    r.do("t", "EXEC")                    # all of a MULTI
    r.do("w", "MSET", "d", "1", "e", "1")
    r.read("t", 2)
    r.do("t", "CLIENT", "TRACKING", "ON", "OPTOUT")
    r.do("t", "CLIENT", "TRACKING", "OFF")
    r.do("t", "CLIENT", "TRACKING", "ON", "OPTOUT")
    r.do("t", "CLIENT", "CACHING", "YES")
    r.do("t", "GET", "f")                # tracked
    r.do("t", "CLIENT", "CACHING", "NO")
    r.do("t", "GET", "g")                # not
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("w", "MSET", "f", "1", "g", "1")
    r.read("t", 1)


def bcast(r):
    r.hello3("t")
    r.hello3("t2")
    r.do("t", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:")
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("t2", "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")
    r.do("w", "SET", "user:1", "x")
    r.read("t", 1)
    r.read("t2", 1)
    r.do("w", "MSET", "user:2", "a", "obj:1", "b", "other", "c", "user:0", "d")
    r.read("t", 2)                       # one message per prefix, in prefix order, keys sorted
    r.read("t2", 1)
    r.do("t2", "SET", "user:3", "y")     # its own: t2 hears nothing
    r.read("t", 1)
    r.do("w", "MULTI")
    r.do("w", "SET", "user:5", "a")
    r.do("w", "SET", "obj:5", "b")
    r.do("w", "DEL", "user:5")
    r.do("w", "EXEC")                    # one turn: each prefix's keys at once
    r.read("t", 2)
    r.read("t2", 1)
    r.do("t", "GET", "user:1")           # a read tracks nothing in BCAST
    r.do("t", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "obj:x")
    r.do("t", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "abc")
    r.do("t", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "new:")
    r.do("t", "CLIENT", "TRACKINGINFO")
    r.do("t", "CLIENT", "TRACKING", "ON")
    r.do("t", "CLIENT", "TRACKING", "ON", "BCAST", "OPTIN")
    r.do("w", "FLUSHALL")
    r.read("t", 1)
    r.read("t2", 1)
    r.do("t", "CLIENT", "TRACKING", "OFF")
    r.do("w", "SET", "user:9", "z")
    r.read("t2", 1)


def errors(r):
    for args in (("ON", "REDIRECT", "999999"), ("ON", "REDIRECT", "x"), ("ON", "PREFIX", "a"),
                 ("ON", "OPTIN", "OPTOUT"), ("ON", "BCAST", "OPTIN"), ("ON", "BCAST", "OPTOUT"),
                 ("MAYBE",), ("ON", "NOSUCH"), ("ON", "REDIRECT"), ("ON", "PREFIX"), ()):
        r.do("c", "CLIENT", "TRACKING", *args)
    rid = r.id("other")
    r.do("c", "CLIENT", "TRACKING", "ON", "REDIRECT", rid, "REDIRECT", rid)
    r.do("c", "CLIENT", "CACHING", "YES")
    r.do("c", "CLIENT", "CACHING")
    r.do("c", "CLIENT", "GETREDIR", "x")
    r.do("c", "CLIENT", "TRACKINGINFO", "x")
    r.do("c", "CLIENT", "TRACKING", "ON", "BCAST")
    r.do("c", "CLIENT", "TRACKING", "ON")
    r.do("c", "CLIENT", "TRACKING", "ON", "BCAST")
    r.do("c", "CLIENT", "TRACKING", "OFF")
    r.do("c", "CLIENT", "TRACKING", "ON", "OPTIN")
    r.do("c", "CLIENT", "TRACKING", "ON", "OPTOUT")
    r.do("c", "RESET")                   # RESET turns tracking off
    r.do("c", "CLIENT", "TRACKINGINFO")


def unblock(r):
    bid = r.id("b")
    r.do("b", "BLPOP", "q", 0, n=0)
    time.sleep(WAIT_S)
    r.do("c", "CLIENT", "UNBLOCK", bid)
    r.read("b", 1)                       # as a timeout
    r.do("b", "BRPOP", "q", "q2", 0, n=0)
    time.sleep(WAIT_S)
    r.do("c", "CLIENT", "UNBLOCK", bid, "ERROR")
    r.read("b", 1)
    r.do("c", "CLIENT", "UNBLOCK", bid)  # not blocked now
    r.do("b", "XREAD", "BLOCK", 0, "STREAMS", "s", "$", n=0)
    time.sleep(WAIT_S)
    r.do("c", "CLIENT", "UNBLOCK", bid, "TIMEOUT")
    r.read("b", 1)
    r.do("b", "BZPOPMIN", "z", 0, n=0)
    time.sleep(WAIT_S)
    r.do("c", "CLIENT", "UNBLOCK", bid, "NOSUCH")
    r.do("c", "CLIENT", "UNBLOCK", "x")
    r.do("c", "CLIENT", "UNBLOCK", bid, "ERROR", "extra")
    r.do("c", "CLIENT", "UNBLOCK", 999999)
    r.do("c", "CLIENT", "UNBLOCK", r.id("c"))
    r.do("c", "ZADD", "z", 1, "m")
    r.read("b", 1)                       # still blocked after the refusals: served
    r.do("c", "CLIENT", "UNBLOCK", bid)


SCENARIOS = {f.__name__: f for f in (default_mode, noloop, redirect_resp2, redirect_resp3, optin_optout, bcast,
                                     errors, unblock)}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_diff_tracking(pair, name):
    compare(pair, name, SCENARIOS[name])
