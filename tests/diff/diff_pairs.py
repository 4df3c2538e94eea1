"""A fresh redis-server and server-under-test pair for a fixture of its own
(conftest.py's auth_pair, test_diff_clients.py's), and a scenario's named
clients on one of them: in a module of its own, so test modules can import
it whatever other conftest is loaded."""
import os
import shutil
import tempfile

import kasi_harness as H

SELFTEST = os.environ.get("KASI_DIFF_SELFTEST", "") not in ("", "0", "no", "false")


def server_pair(prefix, directives=None, kasi_directives=()):
    """A fresh pair, both with directives, Kasi also with kasi_directives
    (for a fixture to yield from); stopped at the end."""
    d = tempfile.mkdtemp(prefix=prefix)
    ref = sut = None
    try:
        ref = H.make_server("redis", os.path.join(d, "ref"), directives)
        sut = H.make_server("redis", os.path.join(d, "sut"), directives) if SELFTEST else \
            H.make_server("kasi", os.path.join(d, "sut"), list(directives or ()) + list(kasi_directives))
        yield ref, sut
    finally:
        for s in (ref, sut):
            if s is not None:
                s.stop()
        shutil.rmtree(d, ignore_errors=True)


def checked_pair(prefix, kasi_directives=()):
    """server_pair, for a module's fixture, with the server under test's
    sanitizer report checked once the module is done."""
    for ref, sut in server_pair(prefix, kasi_directives=kasi_directives):
        yield ref, sut
        rep = sut.sanitizer_report()
        assert not rep, "sanitizer reported errors in the server under test:\n" + rep


class Run:
    """One server's run of a scenario: named clients, connected on first
    use in the scenario's protocol, and the log of what they read."""

    def __init__(self, srv, proto):
        self.srv, self.proto, self.conns, self.log = srv, proto, {}, []

    def c(self, who):
        if who not in self.conns:
            c = self.conns[who] = H.RawConn(self.srv.port, timeout=10 * H.TIME_FACTOR)
            if self.proto == 3:
                assert c.cmd_raw("HELLO", "3").startswith(b"%7\r\n")
        return self.conns[who]

    def do(self, who, *args):
        raw = self.c(who).cmd_raw(*args)
        self.log.append((who, args, raw))
        return raw

    def close(self):
        for c in self.conns.values():
            c.close()


def compare(pair, proto, scenario, run=Run, setup=(), teardown=()):
    """Run scenario(run(srv, proto)) on each server of the pair, after the
    setup commands (each must not fail) and before the teardown ones, both
    sent by a client "setup"; the two logs must be equal, step by step."""
    logs = []
    for srv in pair:
        r = run(srv, proto)
        try:
            for cmd in setup:
                raw = r.c("setup").cmd_raw(*cmd)
                assert not raw.startswith(b"-"), (cmd, raw)
            scenario(r)
        except Exception as e:
            raise AssertionError("%s on %s (%s)" % (scenario.__name__, srv.kind, e)) from e
        finally:
            if "setup" in r.conns:
                for cmd in teardown:
                    r.conns["setup"].cmd_raw(*cmd)
            r.close()
        logs.append(r.log)
    want, got = logs
    for i, (a, b) in enumerate(zip(want, got)):
        assert a == b, "step %d of %s differs:\n  redis: %r\n  kasi:  %r" % (i, scenario.__name__, a, b)
    assert len(want) == len(got)
