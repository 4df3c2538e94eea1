"""Fixtures for the differential test: a reference redis-server 7.0 and the
server under test (Kasi), both fresh, on free loopback ports.

Env:
  KASI_SERVER          path of kasi-server (default <repo>/bin/kasi-server)
  KASI_DIFF_SELFTEST=1 compare redis-server against a second redis-server
                       (validates the harness and the scripts themselves)
"""
import os
import shutil
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))  # the shared harness

import kasi_harness as H  # noqa: E402
from diff_pairs import SELFTEST, server_pair  # noqa: E402

# The protocols the scripts run in (KASI_DIFF_PROTOS=2 for RESP2 alone).
PROTOS = [int(p) for p in os.environ.get("KASI_DIFF_PROTOS", "2,3").split(",")]


def pytest_generate_tests(metafunc):
    """A test that takes `proto` runs once per protocol: RESP2 and RESP3."""
    if "proto" in metafunc.fixturenames:
        metafunc.parametrize("proto", PROTOS, ids=["resp%d" % p for p in PROTOS])


def pytest_report_header(config):
    if SELFTEST:
        return "kasi diff: SELFTEST redis-server vs redis-server"
    return "kasi diff: redis-server (%s) vs kasi (%s)" % (H.REDIS_SERVER, H.KASI_SERVER)


@pytest.fixture(scope="session")
def diff_pair():
    d = tempfile.mkdtemp(prefix="kasi-diff-")
    ref = sut = None
    try:
        ref = H.make_server("redis", os.path.join(d, "ref"))
        sut = H.make_server("redis" if SELFTEST else "kasi", os.path.join(d, "sut"))
        yield ref, sut
    finally:
        for s in (ref, sut):
            if s is not None:
                s.stop()
        if sut is not None and (sut.proc.returncode not in (0, None) and sut.proc.returncode != -15):
            sys.stderr.write("\n===== server under test exited %s; log:\n%s\n" % (
                sut.proc.returncode, sut.log_text()))
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def pair(diff_pair):
    """The running pair; the server under test is restarted if it crashed."""
    ref, sut = diff_pair
    if not sut.alive():
        sys.stderr.write("\n===== server under test died (rc=%s); restarting. log tail:\n%s\n" % (
            sut.proc.returncode, sut.log_text(4000)))
        sut.start()
    if not ref.alive():
        ref.start()
    yield ref, sut
    rep = sut.sanitizer_report()
    if rep:
        pytest.fail("sanitizer reported errors in the server under test:\n" + rep, pytrace=False)


@pytest.fixture(scope="session")
def auth_pair():
    """Like diff_pair, both servers started with requirepass "pw"."""
    yield from server_pair("kasi-diff-auth-", [("requirepass", "pw")])
