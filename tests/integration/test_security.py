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
