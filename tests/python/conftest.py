"""Shared fixtures: spawn a real server on a free loopback port, stop it by pid.

The server is the C binary: $KASI_SERVER, else <repo>/bin/kasi-server (build it
with `make`).  KASI_TEST_BACKEND=redis runs the suite against redis-server
instead (development aid: domains are mapped onto numeric databases and the
Kasi-only checks are skipped).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))  # test the source tree

from kasi import client as kclient  # noqa: E402
from kasi import server as kserver  # noqa: E402

BACKEND = os.environ.get("KASI_TEST_BACKEND", "kasi")
IS_KASI = BACKEND == "kasi"


def server_binary():
    if not IS_KASI:
        return shutil.which("redis-server")
    env = os.environ.get("KASI_SERVER")
    if env:
        return env
    p = REPO / "bin" / "kasi-server"
    return str(p) if p.exists() else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisCompatClient(kclient.Client):
    """Maps domain names to numeric databases (redis-server only)."""
    _dbs = {}

    def _select_arg(self, domain):
        if domain == "default":
            return "0"
        return str(self._dbs.setdefault(domain, len(self._dbs) + 1))


def client_class():
    return kclient.Client if IS_KASI else RedisCompatClient


# Source prepended to subprocess client scripts under the redis backend.
REDIS_COMPAT_PRELUDE = (
    "import kasi.client as _kc\n"
    "_m = {}\n"
    "_kc.Client._select_arg = lambda self, d: '0' if d == 'default' else "
    "str(_m.setdefault(d, len(_m) + 1))\n"
)


class ServerProcess:
    def __init__(self, binary, port=None, **directives):
        self.binary = binary
        self.port = port or free_port()
        self.directives = directives
        # Each test starts from an empty server: no snapshot saved at exit.
        self.directives.setdefault("save", "")
        if not IS_KASI:
            self.directives.setdefault("databases", 1000)
        self.proc = None

    def start(self, timeout=10):
        self.proc = kserver.launch(host="127.0.0.1", port=self.port,
                                   binary=self.binary, **self.directives)
        kserver.wait_until_ready("127.0.0.1", self.port, timeout=timeout,
                                 proc=self.proc,
                                 unix_socket_path=self.directives.get("unixsocket"))
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="session")
def binary():
    b = server_binary()
    if not b:
        pytest.skip("no server binary: run `make` to build bin/kasi-server "
                    "(or set KASI_SERVER)")
    return b


@pytest.fixture
def spawn(binary, tmp_path):
    """spawn(**directives) -> started ServerProcess; all stopped at teardown."""
    procs = []

    def _spawn(port=None, **directives):
        sp = ServerProcess(binary, port, **directives)
        procs.append(sp)
        return sp.start()

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield _spawn
    finally:
        os.chdir(old)
        for sp in procs:
            sp.stop()


@pytest.fixture(scope="module")
def shared_server(binary, tmp_path_factory):
    sp = ServerProcess(binary)
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("srv"))
    try:
        sp.start()
    finally:
        os.chdir(old)
    yield sp
    sp.stop()


@pytest.fixture
def make_client(shared_server):
    made = []

    def _make(**kw):
        kw.setdefault("port", shared_server.port)
        kw.setdefault("host", "127.0.0.1")
        c = client_class()(**kw)
        made.append(c)
        return c

    yield _make
    for c in made:
        c.close()


@pytest.fixture
def client(make_client):
    c = make_client()
    c.reset()
    return c


kasi_only = pytest.mark.skipif(not IS_KASI, reason="needs kasi-server (named domains, kasi INFO)")
