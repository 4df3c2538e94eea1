"""Differential test of SLOWLOG, INFO commandstats, errorstats and
latencystats and CONFIG RESETSTAT against redis-server 7.0.

Both servers run the same scenario, with slowlog-log-slower-than 0, from
several clients (Kasi runs two workers, so they are spread over both). A
SLOWLOG GET reply is compared with what differs between the servers
masked: ids (checked to count down by one), unix times (checked to be
now), durations, and each entry's address (replaced by the name of the
scenario's client with that port). The arguments, truncated and redacted
as Redis does, and the client names are compared byte for byte, as are
every error and every other reply. INFO commandstats is compared as each
command's calls, rejected_calls and failed_calls; errorstats line for
line; latencystats as the commands it lists and its fields' format."""
import re
import time

import pytest

import kasi_harness as H
import diff_pairs
from diff_pairs import checked_pair


@pytest.fixture(scope="module")
def pair():
    """A pair of its own: the scenarios reset the stats and the log."""
    yield from checked_pair("kasi-diff-slowlog-", kasi_directives=[("threads", "2")])


class Run(diff_pairs.Run):
    """A run that also reads the slow log and INFO's statistics."""

    def hide(self, who, *args):
        """A command whose reply holds what differs (HELLO's id): its type alone."""
        self.log.append((who, args, self.c(who).cmd_raw(*args)[:1]))

    def send(self, who, *args):
        self.c(who).send_command(*args)

    def read(self, who):
        self.log.append((who, "read", self.c(who).read_raw()))

    def whose(self, addr):
        for who, c in self.conns.items():
            if addr == ("%s:%d" % c.sock.getsockname()[:2]).encode():
                return who
        return addr   # not one of ours: compared as it is (and differs)

    def slowlog(self, who, *count):
        """SLOWLOG GET, masked."""
        raw = self.c(who).cmd_raw("SLOWLOG", "GET", *count)
        got = H.parse_reply(raw)
        if isinstance(got, H.RespError):
            self.log.append((who, "slowlog", raw))
            return
        now = time.time()
        ids = [e[0] for e in got]
        assert ids == list(range(ids[0], ids[0] - len(ids), -1)) if ids else True, ids
        for e in got:
            assert len(e) == 6 and abs(e[1] - now) < 30 and e[2] >= 0, e
        self.log.append((who, "slowlog", raw[:1], [(e[3], self.whose(e[4]), e[5]) for e in got]))

    def info(self, who, *sections):
        text = H.parse_reply(self.c(who).cmd_raw("INFO", *sections))
        return text.decode() if isinstance(text, bytes) else text

    def commandstats(self, who, skip=()):
        """INFO commandstats: command -> (calls, rejected, failed), but
        those of `skip` (sent a number of times that differs)."""
        out = {}
        for line in self.info(who, "commandstats").splitlines():
            if line.startswith("cmdstat_"):
                name, _, fields = line[len("cmdstat_"):].partition(":")
                f = dict(kv.split("=") for kv in fields.split(","))
                assert set(f) == {"calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"}, line
                assert re.fullmatch(r"\d+\.\d\d", f["usec_per_call"]), line
                if name not in skip:
                    out[name] = (int(f["calls"]), int(f["rejected_calls"]), int(f["failed_calls"]))
        self.log.append((who, "commandstats", sorted(out.items())))

    def errorstats(self, who):
        lines = [l for l in self.info(who, "errorstats").splitlines() if l and not l.startswith("#")]
        total = [l for l in self.info(who, "stats").splitlines() if l.startswith("total_error_replies:")]
        self.log.append((who, "errorstats", lines, total))

    def latencystats(self, who):
        names = set()
        for line in self.info(who, "latencystats").splitlines():
            if line.startswith("latency_percentiles_usec_"):
                name, _, fields = line[len("latency_percentiles_usec_"):].partition(":")
                assert re.fullmatch(r"p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", fields), line
                vals = [float(v.split("=")[1]) for v in fields.split(",")]
                assert vals == sorted(vals), line
                names.add(name)
        self.log.append((who, "latencystats", sorted(names)))


def compare(pair, proto, scenario):
    diff_pairs.compare(pair, proto, scenario, Run,
                       setup=[("FLUSHALL",), ("CONFIG", "SET", "slowlog-log-slower-than", "0"),
                              ("CONFIG", "SET", "slowlog-max-len", "128"), ("SLOWLOG", "RESET"),
                              ("CONFIG", "RESETSTAT")],
                       teardown=[("CONFIG", "SET", "slowlog-log-slower-than", "10000")])


def entries(r):
    r.do("a", "CLIENT", "SETNAME", "alice")
    r.do("a", "SET", "k", "v")
    r.do("b", "GET", "k")
    for n in (127, 128, 129, 200, 1000):
        r.do("a", "SET", "long%d" % n, "x" * n)
    for n in (30, 31, 32, 33, 40):
        r.do("b", "RPUSH", "l%d" % n, *[str(i) for i in range(n - 2)])
    r.do("b", "RPUSH", "big", *["y" * 300 for _ in range(40)])
    r.do("a", "AUTH", "secret")
    r.do("a", "AUTH", "user", "secret")
    r.do("a", "AUTH", "u", "p", "x")             # a syntax error: not redacted
    r.hide("a", "HELLO", str(r.proto), "AUTH", "default", "pw")
    r.hide("a", "HELLO", str(r.proto), "SETNAME", "alice", "AUTH", "default", "pw")
    r.do("a", "HELLO", str(r.proto), "FOO", "AUTH", "default", "pw")
    r.do("a", "CONFIG", "SET", "requirepass", "")
    r.do("a", "NOSUCHCOMMAND", "x")              # unknown: not logged
    r.do("a", "GET")                             # refused: not logged
    r.do("a", "LPUSH", "k", "x")                 # failed: logged
    r.do("a", "MULTI")
    r.do("a", "SET", "m", "1")
    r.do("a", "INCR", "m")
    r.do("a", "EXEC")                            # its commands are logged, not EXEC
    r.do("a", "MULTI")
    r.do("a", "SET", "m")
    r.do("a", "EXEC")
    r.slowlog("a")
    r.slowlog("b", "-1")
    r.slowlog("b", "0")
    r.slowlog("b", "3")
    r.do("b", "SLOWLOG", "LEN")


def wait_blocked(r, who, cmd):
    """Until `who`'s BLPOP waits (the CLIENT LISTs, as many as it took, are
    then wiped from the log and the stats)."""
    r.send(who, *cmd)
    deadline = time.monotonic() + 5 * H.TIME_FACTOR
    while b"cmd=blpop" not in r.c("b").cmd_raw("CLIENT", "LIST"):
        assert time.monotonic() < deadline
        time.sleep(0.01)


def blocking(r):
    """Redis counts a blocking command's call when it begins to wait (a
    RESETSTAT meanwhile forgets it), and logs it when it is served."""
    r.do("a", "CLIENT", "SETNAME", "waiter")
    wait_blocked(r, "a", ("BLPOP", "q", "0"))
    r.do("b", "SLOWLOG", "RESET")
    r.do("b", "CONFIG", "RESETSTAT")
    r.do("b", "RPUSH", "q", "v")
    r.read("a")                                  # served: logged, as the waiter
    r.do("a", "BLPOP", "none", "0.05")           # timed out: counted, not logged
    r.slowlog("b", "-1")
    r.commandstats("b")
    wait_blocked(r, "a", ("BLPOP", "q2", "0"))
    r.do("b", "SLOWLOG", "RESET")
    r.do("b", "RPUSH", "q2", "v")
    r.read("a")
    r.slowlog("b", "-1")
    r.commandstats("b", skip=("client|list",))


def errors(r):
    for args in (("SLOWLOG",), ("SLOWLOG", "foo"), ("SLOWLOG", "GET", "1", "2"), ("SLOWLOG", "GET", "-2"),
                 ("SLOWLOG", "GET", "abc"), ("SLOWLOG", "GET", ""), ("SLOWLOG", "GET", " 1"),
                 ("SLOWLOG", "GET", "1.5"), ("SLOWLOG", "GET", "99999999999999999999"),
                 ("SLOWLOG", "LEN", "x"), ("SLOWLOG", "RESET", "x"), ("SLOWLOG", "HELP", "x"),
                 ("SLOWLOG", "HELP"), ("slowlog", "help"), ("SLOWLOG", "get", "0"),
                 ("CONFIG", "SET", "slowlog-log-slower-than", "-2"),
                 ("CONFIG", "SET", "slowlog-log-slower-than", "x"),
                 ("CONFIG", "SET", "slowlog-max-len", "-1"),
                 ("CONFIG", "GET", "slowlog-log-slower-than"), ("CONFIG", "GET", "slowlog-max-len"),
                 ("CONFIG", "GET", "latency-tracking"), ("CONFIG", "GET", "latency-tracking-info-percentiles"),
                 ("CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"),
                 ("CONFIG", "SET", "latency-tracking-info-percentiles", "abc"),
                 ("CONFIG", "RESETSTAT", "x"), ("CONFIG", "resetstat")):
        r.do("a", *args)
    r.slowlog("a", "-1")
    r.commandstats("a")
    r.errorstats("a")


def max_len(r):
    for i in range(10):
        r.do("a", "SET", "k%d" % i, "v")
    r.do("a", "SLOWLOG", "LEN")
    r.do("a", "CONFIG", "SET", "slowlog-max-len", "3")   # itself logged, then the log trimmed
    r.do("a", "SLOWLOG", "LEN")
    r.slowlog("a", "-1")
    r.do("a", "CONFIG", "SET", "slowlog-max-len", "0")
    r.do("a", "PING")
    r.do("a", "SLOWLOG", "LEN")
    r.do("a", "CONFIG", "SET", "slowlog-max-len", "128")
    r.do("a", "CONFIG", "SET", "slowlog-log-slower-than", "-1")
    r.do("a", "PING")
    r.do("a", "SLOWLOG", "LEN")
    r.do("a", "CONFIG", "SET", "slowlog-log-slower-than", "100000000")   # 100 s: nothing this fast
    r.do("a", "PING")
    r.do("a", "SLOWLOG", "LEN")
    r.do("a", "SLOWLOG", "RESET")
    r.do("a", "SLOWLOG", "LEN")


def stats(r):
    """Calls, refusals and failures as Redis counts them, on two clients."""
    r.do("a", "SET", "s", "1")
    r.do("b", "GET", "s")
    r.do("b", "GET", "nokey")
    r.do("a", "LPUSH", "s", "x")                 # WRONGTYPE: failed
    r.do("a", "INCR", "s")
    r.do("a", "SET")                             # arity: rejected
    r.do("b", "CONFIG")                          # a container alone: rejected
    r.do("b", "CONFIG", "NOSUCH")                # unknown subcommand: no command
    r.do("b", "CONFIG", "GET")                   # subcommand arity: rejected
    r.do("b", "NOSUCH")
    r.do("a", "MULTI")
    r.do("a", "SET", "t")                        # rejected, and the EXEC aborts
    r.do("a", "GET", "s")
    r.do("a", "EXEC")
    r.do("a", "MULTI")
    r.do("a", "SET", "t", "1")
    r.do("a", "LPUSH", "t", "1")                 # fails inside EXEC
    r.do("a", "EXEC")
    r.do("a", "EXEC")                            # without MULTI
    r.do("a", "MULTI")
    r.do("a", "EXEC", "x")                       # EXEC refused inside MULTI
    r.do("b", "INCR", "nonint")
    r.do("b", "SET", "nonint", "abc")
    r.do("b", "INCR", "nonint")
    r.do("b", "XADD", "st", "0-0", "f", "v")     # ERR The ID specified ...
    r.do("b", "OBJECT", "x")
    r.commandstats("a")
    r.errorstats("a")
    r.latencystats("b")
    r.do("b", "CONFIG", "RESETSTAT")
    r.commandstats("a")
    r.errorstats("b")
    for line in r.info("a", "stats").splitlines():
        if line.split(":")[0] in ("total_commands_processed", "keyspace_hits", "keyspace_misses",
                                  "total_error_replies", "expired_keys", "evicted_keys"):
            r.log.append(("a", "stats", line))


def sections(r):
    """Which INFO sections hold the new ones."""
    for arg in ((), ("default",), ("all",), ("everything",), ("commandstats", "errorstats")):
        heads = [l for l in r.info("a", *arg).splitlines() if l.startswith("#")]
        r.log.append(("a", arg, [h for h in heads if h in ("# Commandstats", "# Errorstats",
                                                            "# Latencystats")]))
    r.latencystats("a")
    r.do("a", "CONFIG", "SET", "latency-tracking", "no")   # the section is empty
    r.latencystats("a")
    r.do("a", "CONFIG", "SET", "latency-tracking", "yes")


@pytest.mark.parametrize("scenario", [entries, blocking, errors, max_len, stats, sections],
                         ids=lambda f: f.__name__)
def test_slowlog_and_stats_match_redis(pair, proto, scenario):
    compare(pair, proto, scenario)
