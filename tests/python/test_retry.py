"""Retry policy, against a scripted fake server (no kasi-server needed)."""

import socket
import threading

import pytest

from kasi import errors
from kasi.client import Client


class FakeServer:
    """Accepts connections; for connection number i, behaviour[i] is either
    'drop' (read one request, then close) or a bytes reply sent after each
    request."""

    def __init__(self, behaviour):
        self.behaviour = list(behaviour)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            i = self.connections
            self.connections += 1
            how = self.behaviour[i] if i < len(self.behaviour) else "drop"
            threading.Thread(target=self.serve, args=(conn, how), daemon=True).start()

    def serve(self, conn, how):
        conn.settimeout(2)
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                self.requests.append(data)
                if how == "drop":
                    return
                conn.sendall(how)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def fake():
    made = []

    def _make(*behaviour):
        f = FakeServer(behaviour)
        made.append(f)
        return f

    yield _make
    for f in made:
        f.close()


def test_idempotent_call_retried_once(fake):
    f = fake("drop", b"$-1\r\n")
    c = Client(host="127.0.0.1", port=f.port)
    assert c.get("x") is None
    assert f.connections == 2


def test_retry_gives_up_after_one_retry(fake):
    f = fake("drop", "drop", b"$-1\r\n")
    c = Client(host="127.0.0.1", port=f.port)
    with pytest.raises(errors.KasiConnectionError):
        c.get("x")
    assert f.connections == 2


@pytest.mark.parametrize("call", ["incr", "decr", "add"])
def test_non_idempotent_call_not_retried_after_send(fake, call):
    f = fake("drop", b":1\r\n")
    c = Client(host="127.0.0.1", port=f.port)
    with pytest.raises(errors.KasiConnectionError):
        if call == "add":
            c.add("n", "v")
        else:
            getattr(c, call)("n")
    assert f.connections == 1
    assert len(f.requests) == 1


def test_select_and_command_in_one_write(fake):
    f = fake(b"+OK\r\n$-1\r\n")
    c = Client(host="127.0.0.1", port=f.port)
    assert c.get("k", domain="shop") is None
    assert f.requests[0] == (b"*2\r\n$6\r\nSELECT\r\n$4\r\nshop\r\n"
                             b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")


def test_select_error_reported(fake):
    f = fake(b"-ERR too many domains (max-domains is 2)\r\n$-1\r\n")
    c = Client(host="127.0.0.1", port=f.port)
    with pytest.raises(errors.KasiResponseError) as ei:
        c.get("k", domain="shop")
    assert "too many domains" in str(ei.value)


def test_error_reply_keeps_full_message(fake):
    f = fake(b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
    c = Client(host="127.0.0.1", port=f.port)
    with pytest.raises(errors.KasiResponseError) as ei:
        c.get("k")
    assert str(ei.value) == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert not isinstance(ei.value, errors.KasiAuthError)
