"""SLOWLOG and INFO commandstats/errorstats with many clients on several
workers: each worker counts on its own and the log is shared, so what
INFO and SLOWLOG report must add up exactly to what the clients sent, and
CONFIG RESETSTAT must clear the counts of every worker (those that have
run nothing since too). The replies' formats are compared with Redis's in
tests/diff/test_diff_slowlog.py."""
import re
import threading
import time

import pytest

import kasi_harness as H

pytestmark = pytest.mark.kasi_only

CLIENTS = 8


def run_clients(target, n=CLIENTS, timeout=60):
    errors = []

    def wrap(i):
        try:
            target(i)
        except Exception as e:  # noqa: BLE001
            errors.append("client %d: %r" % (i, e))
    ts = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + timeout * H.TIME_FACTOR
    for t in ts:
        t.join(max(0.1, deadline - time.monotonic()))
    assert not [t for t in ts if t.is_alive()], "clients still running"
    assert not errors, errors[:5]


def info(c, section):
    text = H.parse_reply(c.cmd_raw("INFO", section)).decode()
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, _, v = line.partition(":")
            out[k] = dict(kv.split("=") for kv in v.split(",")) if "=" in v else v
    return out


def pipeline(c, cmds):
    c.send(b"".join(H.encode_command(*a) for a in cmds))
    return [c.read_raw() for _ in cmds]


@pytest.fixture
def server(server_factory):
    return server_factory({"threads": "4", "slowlog-max-len": "100000"})


def test_counts_add_up_across_workers(server):
    rounds = 200
    with server.raw() as c:
        c.cmd_raw("CONFIG", "RESETSTAT")

    def work(i):
        with server.raw() as c:
            for n in range(rounds):
                got = pipeline(c, [("SET", "k%d" % i, "v%d" % n), ("GET", "k%d" % i), ("INCR", "k%d" % i),
                                   ("SET",), ("NOSUCH",), ("LPUSH", "k%d" % i, "x")])
                assert got[0] == b"+OK\r\n" and got[1] == H.bulk("v%d" % n), got
                assert got[2] == b"-ERR value is not an integer or out of range\r\n", got
                assert got[5].startswith(b"-WRONGTYPE"), got
    run_clients(work)
    total = CLIENTS * rounds
    with server.raw() as c:
        st = info(c, "commandstats")
        assert st["cmdstat_set"]["calls"] == str(total) and st["cmdstat_set"]["rejected_calls"] == str(total)
        assert st["cmdstat_set"]["failed_calls"] == "0"
        assert st["cmdstat_get"]["calls"] == str(total) and st["cmdstat_get"]["failed_calls"] == "0"
        assert st["cmdstat_incr"]["calls"] == str(total) and st["cmdstat_incr"]["failed_calls"] == str(total)
        assert st["cmdstat_lpush"]["failed_calls"] == str(total)
        es = info(c, "errorstats")
        assert es == {"errorstat_ERR": {"count": str(3 * total)}, "errorstat_WRONGTYPE": {"count": str(total)}}
        assert info(c, "stats")["total_error_replies"] == str(4 * total)
        lat = info(c, "latencystats")
        for name in ("set", "get", "incr", "lpush"):
            p = [float(v) for v in lat["latency_percentiles_usec_" + name].values()]
            assert p == sorted(p) and p[0] > 0, lat


def test_slowlog_shared_by_workers(server):
    per = 250
    with server.raw() as c:
        assert c.cmd_raw("CONFIG", "SET", "slowlog-log-slower-than", "0") == b"+OK\r\n"
        c.cmd_raw("SLOWLOG", "RESET")

    def work(i):
        with server.raw() as c:
            c.cmd_raw("CLIENT", "SETNAME", "c%d" % i)
            for base in range(0, per, 50):
                pipeline(c, [("SET", "c%d:%d" % (i, n), "v") for n in range(base, base + 50)])
    run_clients(work)
    with server.raw() as c:
        c.cmd_raw("CONFIG", "SET", "slowlog-log-slower-than", "-1")
        log = c.cmd("SLOWLOG", "GET", "-1")
        assert c.cmd("SLOWLOG", "LEN") == len(log)
    ids = [e[0] for e in log]
    assert ids == list(range(ids[0], ids[0] - len(ids), -1))   # one sequence, newest first
    sets = [e for e in log if e[3][0] == b"SET"]
    assert len(sets) == CLIENTS * per
    for i in range(CLIENTS):
        mine = [e for e in reversed(sets) if e[5] == b"c%d" % i]
        assert [e[3][1] for e in mine] == [b"c%d:%d" % (i, n) for n in range(per)]
        assert len({e[4] for e in mine}) == 1   # one address: the client's


def test_resetstat_clears_every_worker(server):
    def load(i):
        with server.raw() as c:
            for _ in range(20):
                pipeline(c, [("SET", "x", "1"), ("GET", "x"), ("HGET", "x", "f")] * 10)
    run_clients(load)
    with server.raw() as c:
        assert c.cmd_raw("CONFIG", "RESETSTAT") == b"+OK\r\n"
        st = info(c, "commandstats")
        assert set(st) == {"cmdstat_config|resetstat"}, st
        assert info(c, "errorstats") == {}
        stats = info(c, "stats")
        assert stats["total_error_replies"] == "0" and stats["keyspace_hits"] == "0"

    def gets(i):
        with server.raw() as c:
            pipeline(c, [("GET", "x")] * 100)
    run_clients(gets)
    with server.raw() as c:
        st = info(c, "commandstats")
        assert set(st) == {"cmdstat_config|resetstat", "cmdstat_info", "cmdstat_get"}, st
        assert st["cmdstat_get"]["calls"] == str(CLIENTS * 100)
        assert info(c, "stats")["keyspace_hits"] == str(CLIENTS * 100)


def test_fast_commands_stay_out_of_the_log(server):
    with server.raw() as c:
        assert c.cmd("CONFIG", "GET", "slowlog-log-slower-than") == [b"slowlog-log-slower-than", b"10000"]
        # 10 ms by default; more where sanitizers slow every command down
        c.cmd_raw("CONFIG", "SET", "slowlog-log-slower-than", str(int(10000 * H.TIME_FACTOR ** 2)))
        c.cmd_raw("SLOWLOG", "RESET")
        pipeline(c, [("GET", "k")] * 200)
        assert not [e for e in c.cmd("SLOWLOG", "GET", "-1") if e[3][0] == b"GET"]


@pytest.mark.skipif(H.TARGET != "kasi", reason="Kasi's log lines and log-slow-commands")
def test_log_lines_for_clients_and_slow_commands(server_factory):
    """At loglevel verbose a client's connect and disconnect are logged (as
    Redis logs them); with log-slow-commands yes, each command the slow log
    takes is logged at notice, its arguments as SLOWLOG shows them
    (passwords redacted)."""
    srv = server_factory({"loglevel": "verbose", "slowlog-log-slower-than": "0", "log-slow-commands": "yes"})
    with srv.raw() as c:
        c.cmd("CLIENT", "SETNAME", "logged")
        c.cmd("SET", "slowkey", "a value")
        c.cmd_raw("AUTH", "secret-password")
        c.cmd("CONFIG", "SET", "log-slow-commands", "no")
        c.cmd("SET", "quietkey", "v")
    deadline = time.time() + 5
    while "name=logged\n" not in srv.log_text().replace("\r", "") and time.time() < deadline:
        time.sleep(0.05)
    log = srv.log_text()
    assert re.search(r"- Accepted 127\.0\.0\.1:\d+", log), log   # "-": verbose
    assert re.search(r"Client closed connection id=\d+ addr=127\.0\.0\.1:\d+ name=logged", log), log
    assert re.search(r'\* Slow command: \d+ us, addr=127\.0\.0\.1:\d+ name=logged: "SET" "slowkey" "a value"',
                     log), log
    assert '"AUTH" "(redacted)"' in log and "secret-password" not in log, log
    assert "quietkey" not in log, log
