"""Differential test of CLIENT LIST, CLIENT KILL and CLIENT HELP against
redis-server 7.0: several named clients of one server (see multiclient.py),
each transcript compared with Redis's. Ids, ports, ages and buffer sizes
differ between the servers, so a CLIENT LIST reply is compared as its lines'
field names, in order, and their parsable values with those blanked (the
clients listed are those of the scenario, by name: a connection another test
left may still be going). Kasi runs two workers here, so the clients of a
scenario are spread over them: LIST reads, and KILL closes, clients of other
workers. A killed client's socket must really close."""
import os
import time

import pytest

import kasi_harness as H
from diff_pairs import checked_pair, server_pair
from multiclient import compare

SCENARIOS = {}
# values that differ between the servers (or runs): blanked
VARYING = {"id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free", "argv-mem", "multi-mem",
           "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events"}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


@pytest.fixture(scope="module")
def pair():
    """A pair of its own: CLIENT KILL counts every client of a server."""
    yield from checked_pair("kasi-diff-clients-", kasi_directives=[("threads", "2")])


def text(raw):
    """The text of a bulk ($) or verbatim (=) reply."""
    head, _, rest = raw.partition(b"\r\n")
    assert head[:1] in (b"$", b"="), raw
    body = rest[:int(head[1:])]
    return body[4:] if head[:1] == b"=" else body


def parse(raw):
    """A CLIENT LIST/INFO reply as (type, lines), each line its fields in
    order with the varying values blanked, keyed by the client's name."""
    lines = {}
    for line in text(raw).decode().split("\n"):
        if not line:
            continue
        fields = [f.split("=", 1) for f in line.split(" ")]
        assert all(len(f) == 2 for f in fields), line
        d = dict(fields)
        lines[d["name"]] = [(k, "*" if k in VARYING else v) for k, v in fields]
    return raw[:1], lines


def name(r, who):
    """Client `who`, named after itself (CLIENT LIST tells them apart so)."""
    r.do(who, "CLIENT", "SETNAME", who)


def listing(r, who, *args):
    """CLIENT LIST as `who` (args with ids or addresses r knows shown as
    "ID"): the scenario's clients' lines, parsed, or the error."""
    c = r.c(who)
    c.send_command("CLIENT", "LIST", *args)
    raw = c.read_raw()
    what = ("CLIENT", "LIST") + tuple("ID" if a in r.ids else a for a in args)
    if raw[:1] == b"-":
        r.log.append((who, what, raw))
        return
    kind, lines = parse(raw)
    r.log.append((who, what, kind, [(n, v) for n, v in lines.items() if n in r.conns]))


def info(r, who, what):
    """A field of `who`'s CLIENT INFO (not logged: it differs)."""
    raw = r.c(who).cmd_raw("CLIENT", "INFO")
    value = dict(f.split("=", 1) for f in text(raw).decode().strip().split(" "))[what]
    r.ids.add(value)
    return value


def settle(r, who, n):
    """Wait until the server lists n clients (those of an earlier scenario
    may still be closing); not logged."""
    deadline = time.monotonic() + 5 * H.TIME_FACTOR
    while time.monotonic() < deadline:
        got = text(r.c(who).cmd_raw("CLIENT", "LIST")).count(b"\n")
        if got == n:
            return
        time.sleep(0.02)
    raise AssertionError("%d clients listed, not %d" % (got, n))


def block(r, who, observer, *cmd):
    """Send a blocking command as `who`, and wait until `observer` sees it
    blocked (flags b) in CLIENT LIST; the wait is not logged."""
    r.c(who).send_command(*cmd)
    deadline = time.monotonic() + 5 * H.TIME_FACTOR
    while True:
        _, lines = parse(r.c(observer).cmd_raw("CLIENT", "LIST"))
        if who in lines and "b" in dict(lines[who])["flags"]:
            return
        assert time.monotonic() < deadline, "%s never blocked" % who
        time.sleep(0.01)


def closed(r, who):
    """Client `who`'s connection was closed by the server: what it read
    before the end is logged."""
    c = r.conns.pop(who)
    data, gone = c.read_until_closed(timeout=5 * H.TIME_FACTOR)
    c.close()
    r.log.append((who, "closed", data, gone))


def clients(r, *names):
    for n in names:
        name(r, n)
    settle(r, names[0], len(names))


@scenario
def list_fields_and_cmd(r):
    clients(r, "a", "b", "c", "d")
    r.do("b", "SET", "k", "v")
    r.do("b", "GET", "k")
    r.do("c", "NOSUCHCOMMAND")
    r.do("d", "GET")                     # arity: cmd is still get
    listing(r, "a")
    r.do("c", "CLIENT", "NOSUCH")        # unknown subcommand: NULL
    r.id("d")
    listing(r, "a")
    listing(r, "b", "TYPE", "normal")
    listing(r, "b", "TYPE", "NORMAL")
    for t in ("pubsub", "master", "replica", "slave"):
        listing(r, "b", "TYPE", t)


@scenario
def list_flags(r):
    clients(r, "a", "sub", "multi", "blocked", "trk")
    r.do("sub", "SUBSCRIBE", "ch")
    r.do("multi", "MULTI")
    r.do("multi", "SET", "x", "1")
    r.do("trk", "CLIENT", "TRACKING", "ON")
    r.do("trk", "SELECT", "3")
    block(r, "blocked", "a", "BLPOP", "q", 0)
    listing(r, "a")
    listing(r, "a", "TYPE", "pubsub")
    listing(r, "a", "TYPE", "normal")
    r.do("a", "RPUSH", "q", "v")
    r.read("blocked", 1)
    r.do("multi", "EXEC")
    r.do("sub", "UNSUBSCRIBE", "ch")
    listing(r, "a")
    listing(r, "a", "TYPE", "pubsub")


@scenario
def list_by_id(r):
    clients(r, "a", "b", "c")
    ib, ic = r.id("b"), r.id("c")
    listing(r, "a", "ID", ib)
    listing(r, "a", "ID", ic, ib)
    listing(r, "a", "ID", ib, 999999, ic)
    listing(r, "a", "ID", 0)
    listing(r, "a", "ID", -3)
    listing(r, "a", "ID", 999999)


@scenario
def list_errors(r):
    clients(r, "a")
    for args in (("TYPE", "foo"), ("TYPE", ""), ("ID", "abc"), ("ID", "1", "x"), ("ID", "1.5"), ("ID",),
                 ("TYPE",), ("foo",), ("TYPE", "normal", "ID", "3"), ("ID", "+1"), ("TYPE", "normal", "x"),
                 ("type", "normal")):
        listing(r, "a", *args)
    r.do("a", "CLIENT", "LIST", "ID", " 1")


@scenario
def cmd_in_multi_and_info(r):
    clients(r, "a", "b")
    ib = r.id("b")
    r.do("b", "MULTI")
    r.do("b", "GET", "k")
    listing(r, "a", "ID", ib, ib)                # queued: its cmd; the same id twice
    r.do("b", "CLIENT", "LIST", "ID", "x")
    r.do("b", "EXEC")                            # the queued error, as Redis queues it
    r.do("b", "MULTI")
    r.c("b").send_command("CLIENT", "INFO")
    r.read("b", 1)
    r.c("b").send_command("EXEC")
    raw = r.c("b").read_raw()
    r.log.append(("b", "EXEC", parse(raw[raw.index(b"\r\n") + 2:])))
    listing(r, "a", "ID", ib)


@scenario
def help_text(r):
    r.do("a", "CLIENT", "HELP")
    r.do("a", "CLIENT", "HELP", "x")
    r.do("a", "CLIENT", "help")


@scenario
def kill_errors(r):
    clients(r, "a", "b")
    for args in (("ID", "abc"), ("ID", "0"), ("ID", "-1"), ("ID", "1.5"), ("TYPE", "foo"),
                 ("SKIPME", "maybe"), ("USER", "nobody"), ("USER", "DEFAULT"), ("MAXAGE", "10"),
                 ("ID", "1", "SKIPME"), ("ID",), ("foo", "bar"), ("1.2.3.4:5",), ("nosuch",),
                 ("SKIPME", "yes", "ID"), ("TYPE", "normal", "TYPE", "foo"), ()):
        r.do("a", "CLIENT", "KILL", *args)
    listing(r, "a")


@scenario
def kill_by_id(r):
    clients(r, "a", "b", "c", "d")
    ib = r.id("b")
    r.do("a", "CLIENT", "KILL", "ID", ib)
    closed(r, "b")
    listing(r, "a")
    r.do("a", "CLIENT", "KILL", "ID", ib)    # gone already: 0
    r.do("a", "CLIENT", "KILL", "ID", 999999)
    ic, idd = r.id("c"), r.id("d")
    r.do("a", "CLIENT", "KILL", "ID", ic, "ID", idd)    # the last ID counts
    closed(r, "d")
    listing(r, "a")


@scenario
def kill_by_type(r):
    clients(r, "a", "s1", "s2", "n")
    r.do("s1", "SUBSCRIBE", "x")
    r.do("s2", "PSUBSCRIBE", "p*")
    r.do("a", "CLIENT", "KILL", "TYPE", "master")
    r.do("a", "CLIENT", "KILL", "TYPE", "replica")
    r.do("a", "CLIENT", "KILL", "TYPE", "pubsub")
    closed(r, "s1")
    closed(r, "s2")
    listing(r, "a")
    r.do("a", "CLIENT", "KILL", "TYPE", "normal")    # SKIPME yes: the others
    closed(r, "n")
    listing(r, "a")


@scenario
def kill_by_addr_and_user(r):
    clients(r, "a", "b", "c", "d")
    addr_b = info(r, "b", "addr")
    laddr = info(r, "a", "laddr")
    r.do("a", "CLIENT", "KILL", "ADDR", addr_b)
    closed(r, "b")
    r.do("a", "CLIENT", "KILL", "ADDR", addr_b)
    r.do("a", "CLIENT", "KILL", "ADDR", "1.2.3.4:5")
    r.do("a", "CLIENT", "KILL", "LADDR", "1.2.3.4:5")
    r.do("a", "CLIENT", "KILL", "USER", "default", "ID", r.id("c"))
    closed(r, "c")
    r.do("a", "CLIENT", "KILL", "LADDR", laddr)    # every other client
    closed(r, "d")
    listing(r, "a")


@scenario
def kill_old_form(r):
    clients(r, "a", "b")
    addr_b = info(r, "b", "addr")
    r.do("a", "CLIENT", "KILL", addr_b)
    closed(r, "b")
    r.do("a", "CLIENT", "KILL", addr_b)            # no such client
    addr_a = info(r, "a", "addr")
    r.do("a", "CLIENT", "KILL", addr_a)            # itself: +OK, then it closes
    closed(r, "a")


@scenario
def kill_skipme(r):
    clients(r, "a", "b", "c")
    ia = r.id("a")
    r.do("a", "CLIENT", "KILL", "ID", ia)          # SKIPME yes: 0
    r.do("a", "CLIENT", "KILL", "ID", ia, "SKIPME", "yes")
    r.do("b", "SET", "k", "v")
    r.do("a", "CLIENT", "KILL", "ID", ia, "SKIPME", "no")   # 1, then it closes
    closed(r, "a")
    r.do("b", "GET", "k")
    r.do("c", "CLIENT", "KILL", "SKIPME", "NO")    # every client, itself too
    closed(r, "b")
    closed(r, "c")


@scenario
def kill_in_multi(r):
    clients(r, "a", "b")
    r.do("a", "MULTI")
    r.do("a", "CLIENT", "KILL", "ID", r.id("b"))
    r.do("a", "CLIENT", "LIST", "TYPE", "foo")
    r.do("a", "EXEC")
    closed(r, "b")


@scenario
def kill_blocked_and_busy(r):
    clients(r, "a", "blocked", "writer")
    ib = r.id("blocked")
    block(r, "blocked", "a", "BLPOP", "q", 0)
    r.do("a", "CLIENT", "KILL", "ID", ib)
    closed(r, "blocked")
    r.do("writer", "RPUSH", "q", "v")
    r.do("writer", "LLEN", "q")
    listing(r, "a")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_diff_clients(pair, name, proto):
    compare(pair, name, SCENARIOS[name], proto)


def test_kill_closes_clients_on_every_worker(pair):
    """Many clients, spread over Kasi's workers: KILL TYPE normal closes
    every one of them (each socket reaches EOF), and LIST shows only the
    killer afterwards."""
    _, sut = pair
    conns = [H.RawConn(sut.port, timeout=5) for _ in range(12)]
    try:
        for i, c in enumerate(conns):
            assert c.cmd("CLIENT", "SETNAME", "w%d" % i) == b"OK"
        killer = conns[0]
        deadline = time.monotonic() + 5 * H.TIME_FACTOR
        while text(killer.cmd_raw("CLIENT", "LIST")).count(b"\n") != 12:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert killer.cmd("CLIENT", "KILL", "TYPE", "normal") == 11
        for c in conns[1:]:
            data, gone = c.read_until_closed(timeout=5 * H.TIME_FACTOR)
            assert gone and data == b""
        assert text(killer.cmd_raw("CLIENT", "LIST")).count(b"\n") == 1
        assert killer.cmd("PING") == b"PONG"
    finally:
        for c in conns:
            c.close()


@pytest.fixture(scope="module")
def unix_pair():
    """Both servers on a unix socket too (the same relative path, in each
    one's own directory)."""
    yield from server_pair("kasi-diff-unix-", [("unixsocket", "s.sock"), ("unixsocketperm", "700")])


def test_unix_socket_clients(unix_pair):
    """A unix socket client: addr and laddr are the socket's path and ":0",
    flags U, and KILL finds it by that address."""
    got = []
    for srv in unix_pair:
        path = os.path.join(srv.workdir, "s.sock")
        a, b = H.RawConn(unix_path=path), H.RawConn(unix_path=path)
        try:
            assert a.cmd("CLIENT", "SETNAME", "a") == b"OK" and b.cmd("PING") == b"PONG"
            _, lines = parse(a.cmd_raw("CLIENT", "INFO"))
            info = dict(f.split("=", 1) for f in text(a.cmd_raw("CLIENT", "INFO")).decode().split())
            run = [lines, info["addr"], info["laddr"],
                   a.cmd_raw("CLIENT", "KILL", "LADDR", "s.sock:0"),
                   a.cmd_raw("CLIENT", "KILL", "ADDR", "s.sock:0", "SKIPME", "yes"),
                   a.cmd_raw("CLIENT", "KILL", "s.sock:0")]
            got.append(run + [b.read_until_closed(timeout=5 * H.TIME_FACTOR)])
            data, gone = a.read_until_closed(timeout=5 * H.TIME_FACTOR)
            assert gone, srv.kind
        finally:
            a.close()
            b.close()
    assert got[0] == got[1]
    assert ("flags", "U") in got[0][0]["a"]
    assert got[0][1] == "s.sock:0" and got[0][6] == (b"", True)


def test_kill_closes_a_client_that_reads_nothing(pair):
    """A subscriber that reads nothing, with megabytes of messages waiting
    for it: CLIENT KILL closes it at once, as Redis frees it (what it has
    not read is dropped), on both servers."""
    for srv in pair:
        sub, pub = H.RawConn(srv.port, timeout=5), H.RawConn(srv.port, timeout=5)
        try:
            sub.cmd("CLIENT", "SETNAME", "stuck")
            sub.send_command("SUBSCRIBE", "ch")
            sub.read_raw()   # then it reads nothing more
            body = "x" * 100000
            for _ in range(60):
                assert pub.cmd("PUBLISH", "ch", body) == 1
            victim = [line for line in text(pub.cmd_raw("CLIENT", "LIST")).decode().split("\n")
                      if " name=stuck " in line]
            assert len(victim) == 1 and " flags=P " in victim[0], (srv.kind, victim)
            vid = victim[0].split(" ", 1)[0][3:]
            assert pub.cmd("CLIENT", "KILL", "ID", vid) == 1, srv.kind
            deadline = time.monotonic() + 5 * H.TIME_FACTOR
            while b"name=stuck" in text(pub.cmd_raw("CLIENT", "LIST")):
                assert time.monotonic() < deadline, "%s: the killed client is still listed" % srv.kind
                time.sleep(0.02)
            deadline = time.monotonic() + 5 * H.TIME_FACTOR
            while int(pub.cmd("INFO", "clients").split(b"connected_clients:")[1].split(b"\r\n")[0]) != 1:
                assert time.monotonic() < deadline, "%s: the killed client is still connected" % srv.kind
                time.sleep(0.02)
            data, gone = sub.read_until_closed(timeout=5 * H.TIME_FACTOR)
            assert gone and len(data) < 60 * len(body), srv.kind
        finally:
            sub.close()
            pub.close()
