"""Regression tests for the defects of the security and correctness review
(issue 11): each one failed on the code before its fix."""
import socket
import threading
import time

import pytest

import kasi_harness as H
from kasi_harness import E, OK, bulk


def _drain(sock, timeout):
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


@pytest.mark.parametrize("password", [None, "pw"])
def test_batch_cut_then_quit_does_not_reuse_a_freed_connection(server_factory, password):
    """A connection that is put back on the pending list while its batch is cut
    (more than 512 commands in one read), then closed by QUIT once its output
    is written, must leave that list: the next flush walked the freed
    connection (a remote crash before AUTH)."""
    srv = server_factory({"requirepass": password} if password else None)
    for _ in range(10):
        socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(3)]
        for s in socks:
            s.sendall(b"PING\r\n" * 600 + b"QUIT\r\n")
        for s in socks:
            data = _drain(s, 5 * H.TIME_FACTOR)
            s.close()
            reply = b"-NOAUTH Authentication required.\r\n" if password else b"+PONG\r\n"
            assert data == reply * 600 + OK
        assert srv.alive()
    with srv.raw() as c:
        if password:
            assert c.cmd_raw("AUTH", password) == OK
        assert c.cmd_raw("PING") == b"+PONG\r\n"


@pytest.mark.kasi_only   # domains by name
def test_select_of_a_new_domain_queued_by_multi(srv):
    """Arguments queued by MULTI have no NUL after them: creating a domain
    from one read a byte past the allocation (ASan aborted)."""
    with srv.raw() as c:
        assert c.cmd_raw("MULTI") == OK
        assert c.cmd_raw("SELECT", "newdom-queued") == b"+QUEUED\r\n"
        assert c.cmd_raw("SET", "k", "v") == b"+QUEUED\r\n"
        assert c.cmd_raw("EXEC") == b"*2\r\n+OK\r\n+OK\r\n"
        assert c.cmd_raw("GET", "k") == bulk("v")
    with srv.raw() as c:
        assert c.cmd_raw("SELECT", "newdom-queued") == OK
        assert c.cmd_raw("GET", "k") == bulk("v")


@pytest.mark.kasi_only   # Kasi's AOF job life cycle
def test_appendonly_toggle_races_bgrewriteaof(server_factory, tmp_path):
    """CONFIG SET appendonly no let go of its lock while it waited for the other
    workers; a BGREWRITEAOF on another worker started a rewrite in that gap,
    which was later cleaned up with no AOF (a crash). Toggle appendonly while a
    second client keeps asking for rewrites: the server stays up, every reply is
    one Redis gives, and the data survives a restart."""
    data = tmp_path / "data"
    data.mkdir()
    d = {"dir": str(data), "appendonly": "yes", "threads": "2"}
    s = server_factory(d)
    nkeys = 300000
    with s.raw(timeout=60 * H.TIME_FACTOR) as c:
        for i in range(0, nkeys, 10000):
            args = []
            for k in range(i, i + 10000):
                args += [b"key:%d" % k, b"v%d" % k]
            assert c.cmd("MSET", *args) == b"OK"
    stop = threading.Event()
    errors = []

    def rewriter():
        ok_replies = (b"Background append only file rewriting started",
                      b"Background append only file rewriting scheduled")
        with s.raw(timeout=60 * H.TIME_FACTOR) as c:
            while not stop.is_set():
                r = c.cmd("BGREWRITEAOF")
                if not (r in ok_replies or (isinstance(r, H.RespError) and (
                        "already in progress" in str(r) or "append only file is off" in str(r)))):
                    errors.append(r)
                    return

    # several connections, so that some land on the other worker thread
    threads = [threading.Thread(target=rewriter, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20 * H.TIME_FACTOR
        with s.raw(timeout=60 * H.TIME_FACTOR) as c:
            for rnd in range(6):
                assert c.cmd("CONFIG", "SET", "appendonly", "no") == b"OK"
                assert c.cmd("CONFIG", "SET", "appendonly", "yes") == b"OK"
                assert s.alive(), "server died in round %d" % rnd
                if time.monotonic() > deadline:
                    break
    finally:
        stop.set()
        for t in threads:
            t.join(60 * H.TIME_FACTOR)
    assert not errors, errors
    assert s.alive()
    with s.raw(timeout=60 * H.TIME_FACTOR) as c:
        assert H.wait_for(lambda: b"aof_rewrite_in_progress:0" in c.cmd("INFO", "persistence"), 60)
        assert c.cmd("SET", "last", "1") == b"OK"
        assert c.cmd("DBSIZE") == nkeys + 1
    assert s.stop() == 0
    s = server_factory(d)
    with s.raw(timeout=60 * H.TIME_FACTOR) as c:
        assert c.cmd("DBSIZE") == nkeys + 1
        assert c.cmd("GET", "key:%d" % (nkeys - 1)) == b"v%d" % (nkeys - 1)
