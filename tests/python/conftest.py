"""Shared fixtures: spawn a real server on a free loopback port, stop it by pid.

The server is the C binary: $KASI_SERVER, else <repo>/bin/kasi-server (build it
with `make`).  KASI_TEST_BACKEND=redis runs the suite against redis-server
instead (development aid: domains are mapped onto numeric databases and the
Kasi-only checks are skipped).

Servers are started with the package's own launcher, kasi.server.launch(), so
every test that spawns one also tests it; the free port, the wait until it
answers, stopping by pid, its log and the sanitizer scan come from the shared
harness, tests/harness/kasi_harness.py.  The log of a server started by a
failed test is printed; a sanitizer report in a server's log fails the test.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))  # test the source tree
sys.path.insert(0, str(REPO / "tests" / "harness"))

import kasi_harness as H  # noqa: E402
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


free_port = H.free_port


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


class ServerProcess(H.ServerProcess):
    """A server started by kasi.server.launch() on a free loopback port, in
    workdir (default: the current directory)."""

    stop_timeout = 10.0
    ready_on_unixsocket = True  # as kasi.server.wait_until_ready(unix_socket_path=...)

    def __init__(self, binary, port=None, workdir=None, **directives):
        # Each test starts from an empty server: no snapshot saved at exit.
        directives.setdefault("save", "")
        if not IS_KASI:
            directives.setdefault("databases", 1000)
        self.launch_directives = directives
        super().__init__(BACKEND, workdir or os.getcwd(), list(directives.items()),
                         port=port, binary=binary, start=False)

    def build_argv(self):
        """launch() builds the command line itself (start() records it)."""
        return None

    def popen(self, argv):
        """launch() takes no stdout or cwd: the child inherits them."""
        with H.inherited_stdio(self.logf, self.workdir):
            return kserver.launch(host=self.host, port=self.port, binary=self.binary,
                                  **self.launch_directives)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    for when in ("setup", "call"):
        rep = getattr(request.node, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


def _stop_all(procs, show_logs):
    """Stop procs, printing their logs if show_logs; fail on sanitizer reports."""
    sanitizer = H.stop_servers(procs, show_logs)
    if sanitizer:
        pytest.fail("sanitizer reported errors in server output:\n" + sanitizer, pytrace=False)


@pytest.fixture(scope="session")
def binary():
    b = server_binary()
    if not b:
        pytest.skip("no server binary: run `make` to build bin/kasi-server "
                    "(or set KASI_SERVER)")
    return b


@pytest.fixture
def spawn(request, binary, tmp_path):
    """spawn(**directives) -> started ServerProcess; all stopped at teardown."""
    procs = []

    def _spawn(port=None, **directives):
        sp = ServerProcess(binary, port, tmp_path, **directives)
        procs.append(sp)
        return sp.start()

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield _spawn
    finally:
        os.chdir(old)
        _stop_all(procs, _failed(request))


@pytest.fixture(scope="module")
def shared_server(binary, tmp_path_factory):
    sp = ServerProcess(binary, workdir=tmp_path_factory.mktemp("srv")).start()
    yield sp
    _stop_all([sp], False)


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
