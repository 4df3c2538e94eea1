"""A fresh redis-server and server-under-test pair for a fixture of its own
(conftest.py's auth_pair, test_diff_clients.py's): in a module of its own,
so test modules can import it whatever other conftest is loaded."""
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
