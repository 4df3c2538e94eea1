"""Differential test for pub/sub (Redis 7.0 semantics): SUBSCRIBE UNSUBSCRIBE
PSUBSCRIBE PUNSUBSCRIBE PUBLISH SSUBSCRIBE SUNSUBSCRIBE SPUBLISH and PUBSUB's
subcommands, with several clients at once. Each scenario runs against
redis-server and Kasi in turn; every reply and every pushed message each client
reads is recorded, in order, and the two transcripts must be equal byte for
byte (see multiclient.py). Kasi runs a worker per core, so clients land on
different workers and messages cross threads.
"""
import pytest

import kasi_harness as H
from multiclient import compare


SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def basic(r):
    r.do("s", "SUBSCRIBE", "a", "b", n=2)
    r.do("s", "SUBSCRIBE", "a", "c", "a", n=3)   # again, and twice in one command
    r.do("p", "PUBLISH", "a", "hello")
    r.read("s", 1)
    r.do("p", "PUBLISH", "nobody", "x")
    r.do("p", "PUBLISH", "b", "")
    r.read("s", 1)
    r.do("p", "PUBLISH", "c", b"bin\r\n\x00ary")
    r.read("s", 1)
    r.do("s", "UNSUBSCRIBE", "a", "zzz", "a", n=3)
    r.do("p", "PUBLISH", "a", "gone")
    r.do("s", "UNSUBSCRIBE", n=2, unordered=True)   # b and c, in hash order
    r.do("s", "UNSUBSCRIBE")                       # none left: a nil channel
    r.do("s", "GET", "k")                          # back to normal mode
    r.do("s", "PING")


@scenario
def empty_and_binary_names(r):
    r.do("s", "SUBSCRIBE", "", b"\x00\xff", "with space", n=3)
    r.do("p", "PUBLISH", "", "to empty")
    r.read("s", 1)
    r.do("p", "PUBLISH", b"\x00\xff", b"\r\n")
    r.read("s", 1)
    r.do("p", "PUBLISH", "with space", "x" * 70000)
    r.read("s", 1)
    r.do("s", "UNSUBSCRIBE", "", b"\x00\xff", "with space", n=3)


@scenario
def patterns(r):
    r.do("s", "PSUBSCRIBE", "news.*", "h?llo", "h[ae]llo", "x\\*y", n=4)
    r.do("s", "PSUBSCRIBE", "news.*", n=1)
    r.do("s", "SUBSCRIBE", "news.tech", n=1)
    r.do("p", "PUBLISH", "news.tech", "m1")          # message, then pmessage
    r.read("s", 2)
    r.do("p", "PUBLISH", "hello", "m2")              # two patterns match, in hash order
    r.read("s", 2, "sorted")
    r.do("p", "PUBLISH", "hallo", "m3")
    r.read("s", 2, "sorted")
    r.do("p", "PUBLISH", "x*y", "m4")
    r.read("s", 1)
    r.do("p", "PUBLISH", "xzy", "m5")
    r.do("p", "PUBSUB", "NUMPAT")
    r.do("t", "PSUBSCRIBE", "news.*", "other", n=2)
    r.do("p", "PUBSUB", "NUMPAT")
    r.do("p", "PUBLISH", "news.x", "m6")
    r.read("s", 1)
    r.read("t", 1)
    r.do("s", "PUNSUBSCRIBE", "h?llo", "nope", n=2)
    r.do("p", "PUBLISH", "hello", "m7")
    r.read("s", 1)
    r.do("s", "PUNSUBSCRIBE", n=3, unordered=True)
    r.do("s", "PUNSUBSCRIBE")
    r.do("p", "PUBSUB", "NUMPAT")
    r.do("s", "UNSUBSCRIBE", "news.tech")
    r.do("t", "PUNSUBSCRIBE", n=2, unordered=True)
    r.do("p", "PUBSUB", "NUMPAT")


@scenario
def subscribed_mode(r):
    r.do("s", "SUBSCRIBE", "a")
    for cmd in (("GET", "k"), ("SET", "k", "v"), ("MULTI",), ("CLIENT", "ID"), ("PUBLISH", "a", "x"),
                ("PUBSUB", "NUMPAT"), ("ECHO", "x"), ("SELECT", "0"), ("HELLO",), ("PING", "a", "b"),
                ("NOSUCHCMD", "x"), ("GET",), ("CLIENT", "NOSUCH"), ("SUBSCRIBE",)):
        r.do("s", *cmd)
    r.do("s", "PING")
    r.do("s", "PING", "hi")
    r.do("s", "PSUBSCRIBE", "p*")
    r.do("s", "UNSUBSCRIBE", "a")
    r.do("s", "GET", "k")                 # still subscribed to a pattern
    r.do("s", "SSUBSCRIBE", "sh")
    r.do("s", "PUNSUBSCRIBE", "p*")
    r.do("s", "GET", "k")                 # still subscribed to a shard channel
    r.do("s", "SUNSUBSCRIBE", "sh")
    r.do("s", "GET", "k")
    r.do("s", "PING", "x")


@scenario
def reset_leaves_subscribed_mode(r):
    r.do("s", "SUBSCRIBE", "a", "b", n=2)
    r.do("s", "PSUBSCRIBE", "*")
    r.do("s", "RESET")
    r.do("p", "PUBLISH", "a", "x")
    r.do("p", "PUBSUB", "NUMSUB", "a", "b")
    r.do("p", "PUBSUB", "NUMPAT")
    r.do("s", "GET", "k")
    r.do("s", "SUBSCRIBE", "a")
    r.do("s", "QUIT")


@scenario
def introspection(r):
    r.do("s1", "SUBSCRIBE", "chan:1", "chan:2", "other", n=3)
    r.do("s2", "SUBSCRIBE", "chan:1", n=1)
    r.do("s2", "SSUBSCRIBE", "shard:1", "shard:2", n=2)
    r.raw_reply("p", "PUBSUB", "CHANNELS")
    r.raw_reply("p", "PUBSUB", "CHANNELS", "chan:*")
    r.do("p", "PUBSUB", "CHANNELS", "nomatch*")
    r.do("p", "PUBSUB", "NUMSUB", "chan:1", "chan:2", "none", "shard:1")
    r.do("p", "PUBSUB", "NUMSUB")
    r.raw_reply("p", "PUBSUB", "SHARDCHANNELS")
    r.do("p", "PUBSUB", "SHARDCHANNELS", "*2")
    r.do("p", "PUBSUB", "SHARDNUMSUB", "shard:1", "chan:1")
    r.do("p", "PUBSUB", "SHARDNUMSUB")
    r.do("p", "PUBSUB", "NUMPAT")
    r.do("p", "PUBSUB", "HELP")
    info = r.c("p").cmd("INFO", "stats")
    r.log.append(("p", "INFO stats", [l for l in info.split(b"\r\n") if l.startswith(b"pubsub")]))
    for bad in (("PUBSUB",), ("PUBSUB", "NOSUCH"), ("PUBSUB", "CHANNELS", "a", "b"),
                ("PUBSUB", "NUMPAT", "x"), ("PUBSUB", "SHARDCHANNELS", "a", "b"), ("PUBSUB", "HELP", "x"),
                ("PUBLISH", "a"), ("PUBLISH", "a", "b", "c"), ("SPUBLISH", "a"), ("PSUBSCRIBE",),
                ("SSUBSCRIBE",)):
        r.do("p", *bad)
    r.do("s1", "UNSUBSCRIBE", n=3, unordered=True)
    r.do("s2", "SUNSUBSCRIBE", n=2, unordered=True)
    r.do("p", "PUBSUB", "CHANNELS")
    r.do("p", "PUBSUB", "SHARDCHANNELS")


@scenario
def shard_channels(r):
    r.do("s", "SSUBSCRIBE", "a", "b", "a", n=3)
    r.do("t", "SUBSCRIBE", "a")
    r.do("t", "PSUBSCRIBE", "*")
    r.do("p", "SPUBLISH", "a", "to shard")     # only the shard subscriber
    r.read("s", 1)
    r.do("p", "PUBLISH", "a", "to channel")    # only the others
    r.read("t", 2)
    r.do("s", "SUBSCRIBE", "x")                # counts are separate
    r.do("s", "PSUBSCRIBE", "y*")
    r.do("s", "SUNSUBSCRIBE", "a", "zz", n=2)
    r.do("s", "UNSUBSCRIBE", "x")
    r.do("s", "PUNSUBSCRIBE", "y*")
    r.do("s", "SUNSUBSCRIBE", "b")
    r.do("s", "SUNSUBSCRIBE")
    r.do("p", "SPUBLISH", "b", "nobody")
    r.do("t", "UNSUBSCRIBE")
    r.do("t", "PUNSUBSCRIBE")


@scenario
def transactions(r):
    """SUBSCRIBE and PSUBSCRIBE run inside EXEC (for the sake of old
    clients); SSUBSCRIBE, new in 7.0, is refused there."""
    r.do("s", "MULTI")
    r.do("s", "SUBSCRIBE", "a")
    r.do("s", "PUBLISH", "a", "self")
    r.do("s", "EXEC")   # an array: the subscribe push, then PUBLISH's count
    r.do("p", "MULTI")
    r.do("p", "PUBLISH", "a", "one")
    r.do("p", "PUBLISH", "a", "two")
    r.do("p", "EXEC")
    r.read("s", 2)
    r.do("s", "UNSUBSCRIBE")
    r.do("s", "MULTI")
    r.do("s", "SSUBSCRIBE", "sh")
    r.do("s", "PSUBSCRIBE", "p*")
    r.do("s", "EXEC")
    r.do("s", "SUNSUBSCRIBE")
    r.do("s", "PUNSUBSCRIBE")


@scenario
def many_subscribers_in_order(r):
    subs = ["s%02d" % i for i in range(12)]
    for s in subs:
        r.do(s, "SUBSCRIBE", "fan", "fan2", n=2)
    r.do("q", "PSUBSCRIBE", "fan*")
    for i in range(40):
        r.do("p", "PUBLISH", "fan" if i % 3 else "fan2", "m%d" % i)
    for s in subs:
        r.read(s, 40)
    r.read("q", 40)
    r.do("p", "PUBSUB", "NUMSUB", "fan", "fan2")
    for s in subs[::2]:
        r.do(s, "QUIT")
    H.wait_for(lambda: r.c("x").cmd("PUBSUB", "NUMSUB", "fan")[1] == 6, 5)
    r.do("p", "PUBLISH", "fan", "after")
    for s in subs[1::2]:
        r.read(s, 1)
    r.read("q", 1)


@scenario
def monitor(r):
    """MONITOR: every command that ran, from every client, after it ran
    (rejected ones and administrative ones are not shown); AUTH's and
    HELLO's passwords redacted; a monitor sees its own commands too."""
    r.do("m", "MONITOR")
    r.do("m2", "MONITOR")
    r.do("m2", "MONITOR", n=0)        # again: no reply at all
    for cmd in (("SET", "k", b"v\r\n\x01\"\\\t\x7f\xff"), ("GET", "k"), ("SET", "n", "12"),
                ("AUTH", "pw"), ("AUTH", "user", "pass"), ("HELLO", "2", "AUTH", "nouser", "pw"),
                ("HELLO", "4"), ("CONFIG", "GET", "maxclients"), ("MULTI",), ("INCR", "n"),
                ("NOSUCH",), ("EXEC",), ("SELECT", "3"), ("PING",), ("NOSUCH", "x"), ("GET",),
                ("CLIENT", "GETNAME"), ("PUBLISH", "a", "b"), ("SAVE",), ("DISCARD",), ("SELECT", "0"),
                ("ECHO", "END")):
        r.do("c", *cmd)
    r.read_feed("m", b"END")
    r.read_feed("m2", b"END")
    r.do("m", "PING")                 # its reply, then its own line
    r.read_feed("m", b"PING")
    r.read_feed("m2", b"PING")        # the other monitor sees it too
    r.do("m2", "RESET")
    r.do("c", "ECHO", "END2")
    r.read_feed("m", b"END2")
    r.do("m2", "PING")                # no longer a monitor: nothing came before this
    r.do("t", "MULTI")
    r.do("t", "MONITOR")
    r.do("t", "EXEC")
    r.do("t", "SUBSCRIBE", "x")
    r.do("t", "MONITOR")
    r.read_feed("m", b"SUBSCRIBE")
    r.do("m", "RESET")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_diff_pubsub(pair, name, proto):
    compare(pair, name, SCENARIOS[name], proto)
