"""Fixtures for the Kasi black-box integration tests.

Target selection (env KASI_TEST_TARGET):
  kasi  (default) run against KASI_SERVER (default <repo>/bin/kasi-server)
  redis           run the pure Redis-compatible tests against /usr/bin/redis-server;
                  tests marked ``kasi_only`` are skipped.  Use this to validate
                  the tests themselves.

Per-test timeout: KASI_TEST_TIMEOUT seconds (default 60), enforced with SIGALRM
so that a hung server fails a test instead of hanging the suite.
"""
import os
import shutil
import signal
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))  # the shared harness

import kasi_harness as H  # noqa: E402

TEST_TIMEOUT = int(float(os.environ.get("KASI_TEST_TIMEOUT", "60")) * H.TIME_FACTOR)


def pytest_configure(config):
    config.addinivalue_line("markers", "kasi_only: Kasi-specific behaviour; skipped when KASI_TEST_TARGET=redis")
    config.addinivalue_line("markers", "slow: takes more than a couple of seconds")
    config.addinivalue_line("markers", "needs_tool(name): needs an external binary such as redis-cli")


def pytest_report_header(config):
    exe = H.REDIS_SERVER if H.TARGET == "redis" else H.KASI_SERVER
    return "kasi integration target: %s (%s), time factor %g" % (H.TARGET, exe, H.TIME_FACTOR)


def pytest_collection_modifyitems(config, items):
    if H.TARGET == "redis":
        skip = pytest.mark.skip(reason="kasi_only test skipped with KASI_TEST_TARGET=redis")
        for item in items:
            if "kasi_only" in item.keywords:
                item.add_marker(skip)
    elif not os.access(H.KASI_SERVER, os.X_OK):
        # Fail loudly rather than skip: a missing binary must not look green.
        pass


class TestTimeout(BaseException):
    """Raised by SIGALRM.  Deliberately NOT an Exception/TimeoutError subclass,
    so test code catching socket.timeout (== TimeoutError) can't swallow it."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    def on_alarm(signum, frame):
        raise TestTimeout("test exceeded %ds (KASI_TEST_TIMEOUT)" % TEST_TIMEOUT)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


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


@pytest.fixture(scope="session")
def target():
    return H.TARGET


@pytest.fixture(scope="session")
def is_redis():
    return H.TARGET == "redis"


def _kind():
    return "redis" if H.TARGET == "redis" else "kasi"


@pytest.fixture
def server_factory(request, tmp_path):
    """Factory: server_factory(directives=None, config_text=None, kind=None, wait=True).

    directives: dict or list of (name, value).  Each server gets a free
    loopback port unless 'port' is given (or use_port=False).  Servers are
    stopped (SIGTERM, then SIGKILL) at teardown; their output is printed if
    the test failed.
    """
    started = []
    counter = [0]

    def factory(directives=None, kind=None, **kw):
        counter[0] += 1
        workdir = tmp_path / ("srv%d" % counter[0])
        srv = H.make_server(kind or _kind(), workdir, directives, **kw)
        started.append(srv)
        return srv

    yield factory
    sanitizer = H.stop_servers(started, _failed(request))
    if sanitizer:
        pytest.fail("sanitizer reported errors in server output:\n" + sanitizer, pytrace=False)


@pytest.fixture
def redis_factory(request, tmp_path):
    """Factory for real redis-server instances (for differential checks)."""
    started = []

    def factory(directives=None, **kw):
        srv = H.make_server("redis", tmp_path / ("redis%d" % (len(started) + 1)), directives, **kw)
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()


class _Shared:
    srv = None
    dir = None


def _shared_server():
    if _Shared.srv is None or not _Shared.srv.alive():
        if _Shared.srv is not None:
            sys.stderr.write("\n===== shared %s server died (rc=%s); log:\n%s\n" % (
                _Shared.srv.kind, _Shared.srv.proc.returncode, _Shared.srv.log_text()))
        if _Shared.dir is None:
            _Shared.dir = tempfile.mkdtemp(prefix="kasi-shared-")
        _Shared.srv = H.make_server(_kind(), os.path.join(_Shared.dir, "s%d" % os.getpid()), None)
    return _Shared.srv


@pytest.fixture(scope="session", autouse=False)
def _shared_cleanup():
    yield
    if _Shared.srv is not None:
        _Shared.srv.stop()
        rep = _Shared.srv.sanitizer_report()
        if rep:
            sys.stderr.write("\n===== sanitizer output at shared server exit =====\n%s\n" % rep)
    if _Shared.dir:
        shutil.rmtree(_Shared.dir, ignore_errors=True)


@pytest.fixture
def srv(request, _shared_cleanup):
    """A shared server (restarted if it died) with all data flushed."""
    s = _shared_server()
    c = s.client()
    c.flushall()
    c.close()
    yield s
    if _failed(request):
        sys.stderr.write("\n===== shared server log tail (pid %s) =====\n%s\n" % (s.pid, s.log_text(4000)))
    rep = s.sanitizer_report()
    if rep:
        pytest.fail("sanitizer reported errors in shared server output:\n" + rep, pytrace=False)


@pytest.fixture
def r(srv):
    """redis-py client (bytes replies) on the shared server, fresh data."""
    c = srv.client()
    yield c
    c.close()


@pytest.fixture
def rs(srv):
    """redis-py client with decode_responses=True."""
    c = srv.client(decode_responses=True)
    yield c
    c.close()


@pytest.fixture
def raw(srv):
    """Raw RESP connection to the shared server."""
    c = srv.raw()
    yield c
    c.close()
