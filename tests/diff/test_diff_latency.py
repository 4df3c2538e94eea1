"""Differential test of LATENCY and latency-monitor-threshold against
redis-server 7.0.

Both servers run the same scenario. A "command" latency event is made on
both the same way: a script that spins on redis.call('time') for 30 ms,
with a threshold of 20 ms (well above what a command takes by accident on
a loaded machine, well below the spin). What differs between the servers
is masked: unix times (checked to be now), durations (checked to reach the
threshold) and the digits of GRAPH's and DOCTOR's texts. HELP, the errors
and every other reply are compared byte for byte. LATEST is compared for
the events the scenario makes; any other (a background cycle that reached
the threshold) must be one of Redis's event names. HISTOGRAM is compared as
its shape: the commands it lists, their calls, the RESP types, and bucket
keys that are Redis's, counts that add up, the last equal to the calls."""
import re
import time

import pytest

import kasi_harness as H
import diff_pairs
from diff_pairs import checked_pair

THRESHOLD = 20
SPIN_MS = 30
SPIN = ("local function now() local t = redis.call('time') return t[1] * 1000000 + t[2] end "
        "local s = now() while now() - s < %d do end return 1" % (SPIN_MS * 1000))

# The events the scenarios make, and the others Redis (or Kasi, which uses
# Redis's names) may record on its own.
MADE = {b"command"}
BACKGROUND = {b"fast-command", b"expire-cycle", b"eviction-cycle", b"eviction-del", b"aof-write",
              b"aof-write-alone", b"aof-write-pending-fsync", b"aof-write-active-child",
              b"aof-fsync-always", b"aof-fstat", b"fork", b"while-blocked-cron", b"command-unblocking"}

# HISTOGRAM's bucket keys: the tops of HDR's buckets at 1024 ns << k, in us.
LEVELS = {((1024 << k) + (8 << k) - 1) // 1000 for k in range(21)}


@pytest.fixture(scope="module")
def pair():
    """A pair of its own: the scenarios reset the events and the stats."""
    yield from checked_pair("kasi-diff-latency-", kasi_directives=[("threads", "2")])


class Run(diff_pairs.Run):
    """A run that also reads LATENCY's replies, masked."""

    def get(self, who, *args):
        return H.parse_reply(self.c(who).cmd_raw(*args))

    def spin(self, who):
        assert self.c(who).cmd_raw("EVAL", SPIN, "0") == b":1\r\n"

    def latest(self, who):
        """LATENCY LATEST: the made events, with their times and durations
        checked and masked."""
        got, now, made = self.get(who, "LATENCY", "LATEST"), time.time(), []
        assert type(got) is list, got
        for e in got:
            assert type(e) is list and len(e) == 4, e
            name, when, last, worst = e
            assert name in MADE | BACKGROUND, e
            assert abs(when - now) < 30 and THRESHOLD <= last <= worst, e
            if name in MADE:
                made.append(name)
        self.log.append((who, "latest", sorted(made)))

    def history(self, who, event):
        got, now = self.get(who, "LATENCY", "HISTORY", event), time.time()
        assert type(got) is list, got
        times = [s[0] for s in got]
        assert times == sorted(set(times)), got    # one a second, oldest first
        for s in got:
            assert len(s) == 2 and abs(s[0] - now) < 30 and s[1] >= THRESHOLD, s
        self.log.append((who, "history", event, len(got)))

    def text(self, who, *args):
        """A reply of text (GRAPH, DOCTOR), its digits masked; an error as it is."""
        raw = self.c(who).cmd_raw(*args)
        got = H.parse_reply(raw)
        if isinstance(got, H.RespError):
            self.log.append((who, args, raw))
            return
        self.log.append((who, args, raw[:1], re.sub(rb"\d+", b"#", got)))

    def histogram(self, who, *names):
        """LATENCY HISTOGRAM: each command's calls, checked against its
        buckets; the RESP types of the maps. The spin's TIME calls, as many
        as it took, are not compared."""
        got = self.get(who, "LATENCY", "HISTOGRAM", *names)
        out = []
        assert len(got) % 2 == 0, got
        for name, h in zip(got[::2], got[1::2]):
            assert len(h) == 4 and h[0] == b"calls" and h[2] == b"histogram_usec", h
            calls, buckets = h[1], h[3]
            keys, counts = buckets[::2], buckets[1::2]
            assert keys == sorted(keys) and set(keys) <= LEVELS, buckets
            assert counts == sorted(counts) and len(set(counts)) == len(counts), buckets
            assert counts and counts[-1] == calls, h
            out.append((name, None if name == b"time" else calls, type(h).__name__, type(buckets).__name__))
        self.log.append((who, "histogram", names, type(got).__name__, sorted(out)))


def compare(pair, proto, scenario):
    off = ("CONFIG", "SET", "latency-monitor-threshold", "0")
    diff_pairs.compare(pair, proto, scenario, Run, setup=[off, ("CONFIG", "RESETSTAT"), ("LATENCY", "RESET")],
                       teardown=[off])


def errors(r):
    """HELP, the arity and unknown-subcommand errors, CONFIG's checks, and
    what an empty monitor answers (DOCTOR's text whole)."""
    for args in (("LATENCY", "HELP"), ("latency", "help"), ("LATENCY",), ("LATENCY", "FOO"),
                 ("LATENCY", "FOO", "bar"), ("LATENCY", "HELP", "x"), ("LATENCY", "LATEST", "x"),
                 ("LATENCY", "HISTORY"), ("LATENCY", "HISTORY", "a", "b"), ("LATENCY", "GRAPH"),
                 ("LATENCY", "GRAPH", "a", "b"), ("LATENCY", "DOCTOR", "x"),
                 ("LATENCY", "GRAPH", "command"), ("LATENCY", "GRAPH", "nosuch event"),
                 ("LATENCY", "HISTORY", "command"), ("LATENCY", "LATEST"), ("LATENCY", "RESET"),
                 ("LATENCY", "RESET", "a", "b"), ("LATENCY", "DOCTOR"), ("LATENCY", "HISTOGRAM", "nosuch"),
                 ("LATENCY", "HISTOGRAM", "get|x"), ("LATENCY", "HISTOGRAM", "a|b|c"),
                 ("CONFIG", "GET", "latency-monitor-threshold"),
                 ("CONFIG", "SET", "latency-monitor-threshold", "-1"),
                 ("CONFIG", "SET", "latency-monitor-threshold", "abc"),
                 ("CONFIG", "SET", "latency-monitor-threshold", "1.5"),
                 ("CONFIG", "SET", "latency-monitor-threshold", ""),
                 ("CONFIG", "SET", "latency-monitor-threshold", "9223372036854775808"),
                 ("CONFIG", "SET", "latency-monitor-threshold", "250"),
                 ("CONFIG", "GET", "latency-monitor-threshold"),
                 ("LATENCY", "DOCTOR"),   # on, nothing seen yet
                 ("CONFIG", "SET", "latency-monitor-threshold", "0")):
        r.do("a", *args)


def command_event(r):
    """A slow command: LATEST, HISTORY, GRAPH and DOCTOR, then RESET."""
    r.do("a", "CONFIG", "SET", "latency-monitor-threshold", str(THRESHOLD))
    r.spin("a")
    r.latest("b")
    r.history("b", "command")
    r.history("b", "COMMAND")                   # HISTORY's name is exact
    r.text("b", "LATENCY", "GRAPH", "command")
    r.text("b", "LATENCY", "GRAPH", "Command")
    r.text("b", "LATENCY", "DOCTOR")
    r.do("a", "CONFIG", "SET", "slowlog-log-slower-than", "-1")   # DOCTOR's other advice
    r.text("b", "LATENCY", "DOCTOR")
    r.do("a", "CONFIG", "SET", "slowlog-log-slower-than", "100000")
    r.text("b", "LATENCY", "DOCTOR")
    r.do("a", "CONFIG", "SET", "slowlog-log-slower-than", "10000")
    r.do("b", "LATENCY", "RESET", "nosuch")
    r.do("b", "LATENCY", "RESET", "Command", "command", "nosuch")   # RESET's is not; one reset
    r.latest("b")
    r.history("b", "command")
    r.do("b", "LATENCY", "GRAPH", "command")


def threshold(r):
    """Nothing is recorded with the monitor off, or under its threshold;
    a spike in the same second keeps the worse one."""
    r.spin("a")
    r.latest("b")
    r.do("a", "CONFIG", "SET", "latency-monitor-threshold", "1000")
    r.spin("a")
    r.latest("b")
    r.do("a", "CONFIG", "SET", "latency-monitor-threshold", str(THRESHOLD))
    r.spin("a")
    r.spin("b")
    r.latest("a")
    got = r.get("a", "LATENCY", "HISTORY", "command")
    assert 1 <= len(got) <= 2, got
    r.do("a", "CONFIG", "SET", "latency-monitor-threshold", "0")
    r.do("a", "LATENCY", "RESET", "command")   # (all: a background event would count)
    r.latest("a")


def histogram(r):
    """The histograms of the commands called since RESETSTAT: all of them,
    some by name (a container's, its subcommands'), unknown names skipped."""
    r.do("a", "SET", "k", "v")
    for _ in range(5):
        r.do("b", "GET", "k")
    r.do("a", "CONFIG", "GET", "maxmemory")
    r.do("a", "CONFIG", "SET", "maxmemory", "0")
    r.spin("a")
    r.histogram("a")
    r.histogram("a", "get", "SET", "nosuch")
    r.histogram("a", "config")
    r.histogram("a", "CONFIG|GET", "config|set", "config|nosuch", "get|x")
    r.histogram("a", "eval", "eval")
    r.do("a", "CONFIG", "RESETSTAT")
    r.histogram("b")
    r.histogram("b", "get")


@pytest.mark.parametrize("scenario", [errors, command_event, threshold, histogram], ids=lambda f: f.__name__)
def test_latency_matches_redis(pair, proto, scenario):
    compare(pair, proto, scenario)
