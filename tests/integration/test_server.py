"""Connection / server commands: PING ECHO QUIT SELECT FLUSH* INFO ROLE TIME CLIENT COMMAND CONFIG HELLO SHUTDOWN."""
import re
import time

import pytest


import kasi_harness as H
from kasi_harness import ARITY, E, INT, NIL, OK, bulk


def test_ping_echo(raw):
    assert raw.cmd_raw("PING") == b"+PONG\r\n"
    assert raw.cmd_raw("ping", "hello world") == bulk("hello world")
    assert raw.cmd_raw("PING", "a", "b") == ARITY("ping")
    assert raw.cmd_raw("ECHO", "x\r\ny\x00") == bulk(b"x\r\ny\x00")
    assert raw.cmd_raw("ECHO") == ARITY("echo")
    assert raw.cmd_raw("ECHO", "a", "b") == ARITY("echo")


def test_unknown_command(raw):
    assert raw.cmd_raw("FOOBAR") == E("ERR unknown command 'FOOBAR', with args beginning with: ")
    assert raw.cmd_raw("foobar", "a", "b c") == E("ERR unknown command 'foobar', with args beginning with: 'a' 'b c' ")
    # connection still usable
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


def test_command_names_case_insensitive(raw):
    assert raw.cmd_raw("sEt", "k", "v") == OK
    assert raw.cmd_raw("gEt", "k") == bulk("v")


def test_quit(srv):
    c = srv.raw()
    c.send_command("QUIT")
    data, closed = c.read_until_closed(5)
    assert data == b"+OK\r\n"
    assert closed
    c.close()
    # server still fine
    with srv.raw() as c2:
        assert c2.cmd_raw("PING") == b"+PONG\r\n"


def test_quit_pipelined_rest_ignored(srv):
    with srv.raw() as c:
        c.send(H.encode_command("SET", "q", "1") + H.encode_command("QUIT") + H.encode_command("SET", "q", "2"))
        data, closed = c.read_until_closed(5)
        assert data == b"+OK\r\n+OK\r\n"
        assert closed
    with srv.raw() as c2:
        assert c2.cmd_raw("GET", "q") == bulk("1")


def test_select_numeric_isolation(r, raw):
    raw.cmd_raw("SET", "k", "db0")
    assert raw.cmd_raw("SELECT", "1") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    raw.cmd_raw("SET", "k", "db1")
    assert raw.cmd_raw("DBSIZE") == INT(1)
    assert raw.cmd_raw("SELECT", "0") == OK
    assert raw.cmd_raw("GET", "k") == bulk("db0")
    assert r.get("k") == b"db0"  # other connections start in db 0 / "default"
    assert raw.cmd_raw("SELECT") == ARITY("select")


def test_flushdb_vs_flushall(raw):
    raw.cmd_raw("SET", "a", "1")
    raw.cmd_raw("SELECT", "1")
    raw.cmd_raw("SET", "b", "1")
    assert raw.cmd_raw("FLUSHDB") == OK
    assert raw.cmd_raw("DBSIZE") == INT(0)
    raw.cmd_raw("SELECT", "0")
    assert raw.cmd_raw("DBSIZE") == INT(1)
    raw.cmd_raw("SELECT", "1")
    raw.cmd_raw("SET", "b", "1")
    assert raw.cmd_raw("FLUSHALL") == OK
    assert raw.cmd_raw("DBSIZE") == INT(0)
    raw.cmd_raw("SELECT", "0")
    assert raw.cmd_raw("DBSIZE") == INT(0)


def test_flush_options(raw):
    raw.cmd_raw("SET", "a", "1")
    assert raw.cmd_raw("FLUSHDB", "SYNC") == OK
    raw.cmd_raw("SET", "a", "1")
    assert raw.cmd_raw("FLUSHALL", "ASYNC") == OK
    assert raw.cmd_raw("DBSIZE") == INT(0)
    assert raw.cmd_raw("FLUSHALL", "FOO") == E("ERR syntax error")


def test_time(raw):
    reply = raw.cmd("TIME")
    assert isinstance(reply, list) and len(reply) == 2
    secs, usecs = int(reply[0]), int(reply[1])
    assert abs(secs - time.time()) < 5
    assert 0 <= usecs < 1000000


def test_client_name_id(srv):
    with srv.raw() as a, srv.raw() as b:
        assert a.cmd_raw("CLIENT", "GETNAME") == NIL
        assert a.cmd_raw("CLIENT", "SETNAME", "worker-1") == OK
        assert a.cmd_raw("CLIENT", "GETNAME") == bulk("worker-1")
        assert b.cmd_raw("CLIENT", "GETNAME") == NIL
        assert a.cmd_raw("CLIENT", "SETNAME", "bad name") == E(
            "ERR Client names cannot contain spaces, newlines or special characters.")
        assert a.cmd_raw("CLIENT", "SETNAME", "bad\nname") == E(
            "ERR Client names cannot contain spaces, newlines or special characters.")
        assert a.cmd_raw("CLIENT", "GETNAME") == bulk("worker-1")
        assert a.cmd_raw("CLIENT", "SETNAME", "") == OK
        assert a.cmd_raw("CLIENT", "GETNAME") == NIL
        ida = a.cmd("CLIENT", "ID")
        idb = b.cmd("CLIENT", "ID")
        assert isinstance(ida, int) and isinstance(idb, int)
        assert ida > 0 and idb > 0 and ida != idb
        assert a.cmd("CLIENT", "ID") == ida
    with srv.raw() as c:
        assert c.cmd("CLIENT", "ID") > max(ida, idb)


def test_client_info_fields(raw):
    """CLIENT INFO names the fields Redis 7 does, qbuf-free (the query
    buffer's free room) among them; qbuf holds the 26 bytes of the CLIENT
    INFO request itself, in both servers."""
    line = raw.cmd("CLIENT", "INFO").decode().strip()
    f = dict(kv.split("=", 1) for kv in line.split(" "))
    for name in ("id", "addr", "fd", "name", "age", "idle", "flags", "db", "multi", "qbuf", "qbuf-free",
                 "obl", "cmd", "user", "resp"):
        assert name in f, name
    assert f["cmd"] == "client|info" and int(f["qbuf"]) == 26 and int(f["qbuf-free"]) >= 0
    if H.TARGET == "kasi":   # Kasi reads into a buffer of at least 16 KB
        assert 16 * 1024 - 64 <= int(f["qbuf-free"]) <= 64 * 1024


def test_client_errors(raw):
    assert raw.cmd_raw("CLIENT") == ARITY("client")
    assert raw.cmd_raw("CLIENT", "SETNAME") == E("ERR wrong number of arguments for 'client|setname' command")
    reply = raw.cmd_raw("CLIENT", "NOSUCHSUB")
    assert reply.startswith(b"-ERR unknown subcommand 'NOSUCHSUB'"), reply


def test_command_count(raw):
    n = raw.cmd("COMMAND", "COUNT")
    assert isinstance(n, int)
    # at least everything in the supported list
    assert n >= 60


def test_command_list(raw):
    reply = raw.cmd("COMMAND")
    assert isinstance(reply, list)
    names = {entry[0].lower() for entry in reply}
    for c in [b"get", b"set", b"mget", b"lcs", b"expire", b"scan", b"multi", b"exec", b"select", b"info", b"client"]:
        assert c in names, c
    assert len(reply) == raw.cmd("COMMAND", "COUNT")


def test_command_names_any_case(raw):
    """Every command COMMAND lists is found under any mix of cases, and a
    name that differs only by a neighbour of the letters in ASCII ('@', '[',
    '`', '{') or by a byte with the high bit set is unknown."""
    names = sorted(entry[0].decode() for entry in raw.cmd("COMMAND"))
    assert len(names) > 60
    unknown = b"-ERR unknown command"
    # Inside MULTI a known command is queued or refused for its arity or its
    # place, and nothing runs; these act even there, so they are left out.
    acting = {"quit", "shutdown", "multi", "exec", "discard", "reset", "monitor", "sync", "psync"}
    assert raw.cmd_raw("MULTI") == b"+OK\r\n"
    for i, name in enumerate(names):
        if name.lower() in acting:
            continue
        for variant in (name.upper(), name.lower(), "".join(
                ch.upper() if (j + i) % 2 else ch.lower() for j, ch in enumerate(name))):
            assert not raw.cmd_raw(variant, "x", "x").startswith(unknown), variant
    assert raw.cmd_raw("DISCARD") == b"+OK\r\n"
    for bad in (b"G@T", b"GE[", b"g`t", b"ge{", b"G\xc5T", b"\xc7ET", b"SET\x00", b"SETT",
                b"A" * 22, b"A" * 23, b"clientsetname"):
        assert raw.cmd_raw(bad).startswith(unknown), bad


def test_config_get(srv, raw):
    assert raw.cmd("CONFIG", "GET", "port") == [b"port", str(srv.port).encode()]
    assert raw.cmd("CONFIG", "GET", "requirepass") == [b"requirepass", b""]
    name, val = raw.cmd("CONFIG", "GET", "maxclients")
    assert name == b"maxclients" and int(val) > 0
    assert raw.cmd("CONFIG", "GET", "no-such-directive") == []
    assert raw.cmd_raw("CONFIG", "GET") == E("ERR wrong number of arguments for 'config|get' command")


def test_config_get_custom(server_factory):
    s = server_factory({"maxclients": "77", "requirepass": "s3cret"})
    with s.raw() as c:
        assert c.cmd_raw("AUTH", "s3cret") == OK
        assert c.cmd("CONFIG", "GET", "maxclients") == [b"maxclients", b"77"]
        assert c.cmd("CONFIG", "GET", "requirepass") == [b"requirepass", b"s3cret"]


def test_hello(raw):
    reply = raw.cmd("HELLO", "2")
    assert isinstance(reply, list)
    d = dict(zip(reply[::2], reply[1::2]))
    assert d[b"proto"] == 2
    assert d[b"server"] in (b"redis", b"kasi")
    assert d[b"version"] == b"7.0.15"
    assert isinstance(d[b"id"], int)
    # protover 3 may be refused but must answer something sensible, and the
    # connection must keep speaking RESP2 afterwards.
    raw.send_command("HELLO", "3")
    first = raw.sock.recv(1)
    assert first in (b"-", b"%")
    if first == b"%":
        raw.close()
        return
    raw.buf = first
    raw.read_raw()
    assert raw.cmd_raw("PING") == b"+PONG\r\n"
    assert raw.cmd_raw("HELLO", "4").startswith(b"-NOPROTO")


def test_info_sections(srv, raw):
    raw.cmd_raw("SET", "a", "1")
    raw.cmd_raw("SET", "b", "1")
    raw.cmd_raw("SET", "c", "1", "EX", "1000")
    info = raw.cmd("INFO")
    assert isinstance(info, bytes)
    assert b"\r\n" in info
    text = info.decode()
    lines = text.split("\r\n")
    sections = [l[2:].lower() for l in lines if l.startswith("# ")]
    for s in ("server", "clients", "memory", "stats", "keyspace"):
        assert s in sections, (s, sections)
    fields = dict(l.split(":", 1) for l in lines if l and not l.startswith("#"))
    assert fields["redis_version"] == "7.0.15"
    assert fields["arch_bits"] == "64"
    assert int(fields["uptime_in_seconds"]) >= 0
    assert fields["tcp_port"] == str(srv.port)
    assert fields["process_id"] == str(srv.pid)
    assert int(fields["connected_clients"]) >= 1
    assert int(fields["used_memory"]) > 0
    for f in ("total_connections_received", "total_commands_processed", "keyspace_hits",
              "keyspace_misses", "expired_keys"):
        assert int(fields[f]) >= 0, f
    assert fields["db0"].startswith("keys=3,expires=1,avg_ttl="), fields["db0"]


def test_info_single_section(raw):
    text = raw.cmd("INFO", "server").decode()
    assert text.startswith("# Server\r\n")
    assert "redis_version:" in text
    assert "# Clients" not in text
    text = raw.cmd("INFO", "clients", "memory").decode()
    assert "# Clients" in text and "# Memory" in text and "# Server" not in text
    assert raw.cmd("INFO", "nosuchsection") == b""


def test_info_keyspace_only_non_empty(raw):
    raw.cmd_raw("SELECT", "1")
    raw.cmd_raw("SET", "x", "1")
    raw.cmd_raw("DEL", "x")
    raw.cmd_raw("SELECT", "0")
    raw.cmd_raw("SET", "y", "1")
    text = raw.cmd("INFO", "keyspace").decode()
    lines = [l for l in text.split("\r\n") if l and not l.startswith("#")]
    assert lines == ["db0:keys=1,expires=0,avg_ttl=0"]


def test_info_stats_counters(srv, raw):
    def stats():
        text = raw.cmd("INFO", "stats").decode()
        return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)
    s0 = stats()
    raw.cmd_raw("SET", "k", "v")
    raw.cmd_raw("GET", "k")
    raw.cmd_raw("GET", "k")
    raw.cmd_raw("GET", "nokey")
    s1 = stats()
    assert int(s1["keyspace_hits"]) - int(s0["keyspace_hits"]) == 2
    assert int(s1["keyspace_misses"]) - int(s0["keyspace_misses"]) == 1
    assert int(s1["total_commands_processed"]) - int(s0["total_commands_processed"]) >= 5
    c0 = int(s1["total_connections_received"])
    srv.raw().close()
    with srv.raw() as c:
        c.cmd("PING")
    # the first may still wait in another worker's inbox (it sent nothing):
    # counted when that worker takes it
    deadline = time.time() + 10
    while int(stats()["total_connections_received"]) < c0 + 2 and time.time() < deadline:
        time.sleep(0.02)
    assert int(stats()["total_connections_received"]) >= c0 + 2


def test_info_expired_keys(raw):
    def expired():
        text = raw.cmd("INFO", "stats").decode()
        return int(re.search(r"expired_keys:(\d+)", text).group(1))
    e0 = expired()
    raw.cmd_raw("SET", "k", "v", "PX", "1")
    time.sleep(0.01)
    assert raw.cmd_raw("GET", "k") == NIL
    assert expired() == e0 + 1


def test_info_replication_and_role_of_a_master(server_factory):
    """What Sentinel and client libraries read of a master without replicas:
    INFO replication's fields and values as Redis 7.0 gives them (the
    replication ID random), ROLE, and a run_id that changes when the server
    restarts (Sentinel's +reboot)."""
    s = server_factory()

    def run_id():
        with s.raw() as c:
            m = re.search(r"\r\nrun_id:([0-9a-f]{40})\r\n", c.cmd("INFO", "server").decode())
            return m.group(1)
    with s.raw() as c:
        text = c.cmd("INFO", "replication").decode()
        assert c.cmd_raw("ROLE") == b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
    assert re.fullmatch(
        "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
        "master_replid:[0-9a-f]{40}\r\nmaster_replid2:0{40}\r\nmaster_repl_offset:0\r\n"
        "second_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
        "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n", text), text
    first = run_id()
    assert first not in text
    s.stop()
    s.start()
    assert run_id() != first


def test_info_connected_clients(srv, raw):
    def clients():
        text = raw.cmd("INFO", "clients").decode()
        return int(re.search(r"connected_clients:(\d+)", text).group(1))
    base = clients()
    conns = [srv.raw() for _ in range(5)]
    try:
        for c in conns:
            c.cmd("PING")
        assert clients() == base + 5
    finally:
        for c in conns:
            c.close()
    assert H.wait_for(lambda: clients() == base, 3)


def test_shutdown_nosave(server_factory):
    s = server_factory()
    c = s.raw()
    c.send_command("SHUTDOWN", "NOSAVE")
    data, closed = c.read_until_closed(5)
    assert closed
    assert data == b""
    assert s.proc.wait(10) == 0


def test_shutdown_plain(server_factory):
    s = server_factory()
    c = s.raw()
    c.send_command("SHUTDOWN")
    _, closed = c.read_until_closed(5)
    assert closed
    assert s.proc.wait(10) == 0


def test_shutdown_bad_arg(server_factory):
    s = server_factory()
    with s.raw() as c:
        assert c.cmd_raw("SHUTDOWN", "BOGUS") == E("ERR syntax error")
        assert c.cmd_raw("PING") == b"+PONG\r\n"
    assert s.alive()


def test_client_pause_holds_writers_on_every_worker(srv):
    """Writers spread over the workers wait out a CLIENT PAUSE WRITE
    (flag b in CLIENT LIST, counted in blocked_clients), a held client that
    disconnects never runs its command, and CLIENT UNPAUSE lets the others
    run, each once."""
    writers = [srv.raw() for _ in range(8)]
    with srv.raw() as admin, srv.raw() as gone:
        try:
            assert admin.cmd_raw("CLIENT", "PAUSE", "10000", "WRITE") == OK
            for w in writers:
                w.send_command("INCR", "n")
            gone.send_command("SET", "gone", "1")
            time.sleep(0.2 * H.TIME_FACTOR)
            def connected():
                return int(re.search(r"connected_clients:(\d+)", admin.cmd("INFO", "clients").decode())[1])
            before = connected()
            gone.close()
            deadline = time.time() + 5
            while connected() != before - 1:
                assert time.time() < deadline, "the closed client is still counted"
                time.sleep(0.01)
            assert admin.cmd_raw("GET", "n") == NIL
            listing = admin.cmd("CLIENT", "LIST").decode()
            held = [ln for ln in listing.splitlines() if "cmd=incr" in ln]
            assert len(held) == 8 and all("flags=b" in ln for ln in held), listing
            info = admin.cmd("INFO", "clients").decode()
            assert "blocked_clients:8\r\n" in info, info   # not the one gone
            assert admin.cmd_raw("CLIENT", "UNPAUSE") == OK
            assert sorted(w.read_raw() for w in writers) == [b":%d\r\n" % i for i in range(1, 9)]
            assert admin.cmd_raw("MGET", "n", "gone") == b"*2\r\n$1\r\n8\r\n$-1\r\n"
            assert "blocked_clients:0\r\n" in admin.cmd("INFO", "clients").decode()
        finally:
            admin.cmd_raw("CLIENT", "UNPAUSE")
            for w in writers:
                w.close()


def test_client_no_evict_flag(raw):
    assert raw.cmd_raw("CLIENT", "NO-EVICT", "on") == OK
    assert " flags=e " in raw.cmd("CLIENT", "INFO").decode()
    assert raw.cmd_raw("CLIENT", "NO-EVICT", "off") == OK
    assert " flags=N " in raw.cmd("CLIENT", "INFO").decode()


@pytest.mark.skipif(H.TARGET != "kasi", reason="Kasi's own section")
def test_info_kasi_per_worker_lines(srv):
    """INFO kasi has a line per worker; their commands add up to
    total_commands_processed (read in the same INFO, which counts itself
    on both sides once it ran)."""
    with srv.raw() as c:
        for i in range(20):
            c.cmd("SET", "w%d" % i, "v")
        text = c.cmd("INFO", "everything").decode()
    threads = int(re.search(r"executable_threads:(\d+)", text)[1])
    workers = re.findall(r"^worker(\d+):clients=(\d+),commands=(\d+),", text, re.M)
    assert [int(w[0]) for w in workers] == list(range(threads)), text
    total = int(re.search(r"total_commands_processed:(\d+)", text)[1])
    assert abs(sum(int(w[2]) for w in workers) - total) <= 1, (workers, total)
    assert sum(int(w[1]) for w in workers) >= 1


def test_info_blocked_clients_and_timeout_table(srv):
    """INFO clients counts blocked clients, and apart those with a timeout
    (Redis's clients_in_timeout_table)."""
    with srv.raw() as timed, srv.raw() as forever, srv.raw() as admin:
        timed.send_command("BLPOP", "tq1", "30")
        forever.send_command("BLPOP", "tq2", "0")
        deadline = time.time() + 5
        while "blocked_clients:2\r\n" not in admin.cmd("INFO", "clients").decode():
            assert time.time() < deadline
            time.sleep(0.01)
        info = admin.cmd("INFO", "clients").decode()
        assert "clients_in_timeout_table:1\r\n" in info, info
        admin.cmd("RPUSH", "tq1", "x")
        assert timed.read_raw() == b"*2\r\n$3\r\ntq1\r\n$1\r\nx\r\n"
        admin.cmd("RPUSH", "tq2", "y")
        assert forever.read_raw() == b"*2\r\n$3\r\ntq2\r\n$1\r\ny\r\n"
        info = admin.cmd("INFO", "clients").decode()
        assert "blocked_clients:0\r\n" in info and "clients_in_timeout_table:0\r\n" in info, info
