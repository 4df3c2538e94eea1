"""Reconnects and threads."""

import threading
import time

import pytest

from kasi import errors
from conftest import client_class


def test_reconnect_after_restart(spawn):
    sp = spawn()
    port = sp.port
    c = client_class()(host="127.0.0.1", port=port)
    c.set("k", "before", domain="R")
    c.set("k", "before-default")
    assert c.get("k", domain="R") == "before"  # pooled connection now in R
    sp.stop()
    with pytest.raises(errors.KasiConnectionError):
        c.get("k", domain="R")
    spawn(port=port)
    assert c.get("k", domain="R") is None  # fresh server, transparently reconnected
    c.set("after", "r", domain="R")
    c.set("after", "d")
    fresh = client_class()(host="127.0.0.1", port=port)
    assert fresh.get("after", domain="R") == "r"
    assert fresh.get("after") == "d"


def test_reconnect_keeps_domain_correct(spawn):
    # After a restart a pooled connection is back in "default" on the server:
    # the client must re-SELECT instead of trusting its stale domain record.
    sp = spawn()
    port = sp.port
    c = client_class()(host="127.0.0.1", port=port, max_connections=1)
    c.get("x", domain="R")
    sp.stop()
    time.sleep(0.1)
    spawn(port=port)
    c.set("k", "in-R", domain="R")  # retried on a new connection
    fresh = client_class()(host="127.0.0.1", port=port)
    assert fresh.get("k") is None
    assert fresh.get("k", domain="R") == "in-R"


def test_server_closes_idle_connection(spawn):
    sp = spawn(timeout=1)  # the server drops connections idle for 1 s
    c = client_class()(host="127.0.0.1", port=sp.port, max_connections=2)
    c.set("n", 0, domain="Q")
    c.get("n")  # pooled connection now in "default"
    time.sleep(2.5)
    assert c.get("n", domain="Q") == 0
    time.sleep(2.5)
    assert c.incr("n", domain="Q") == 1  # non-idempotent: the pool detects the dead socket
    assert c.get("n", domain="Q") == 1


def test_threads_share_one_client(make_client):
    c = make_client(max_connections=4)
    c.reset()
    nthreads, nops = 8, 200
    domains = ["default", "T1", "T2", "T3"]
    failures = []

    def work(t):
        try:
            for i in range(nops):
                d = domains[(t + i) % len(domains)]
                key = "t%d-%d" % (t, i)
                value = [t, i] if i % 3 == 0 else ("s%d-%d" % (t, i) if i % 3 == 1 else t * 1000 + i)
                c.set(key, value, domain=d)
                got = c.get(key, domain=d)
                if got != value:
                    failures.append((t, i, d, value, got))
                c.incr("counter", domain=domains[t % len(domains)])
        except Exception as exc:  # pragma: no cover
            failures.append(repr(exc))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(nthreads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert failures == []
    total = sum(c.get("counter", domain=d) or 0 for d in domains)
    assert total == nthreads * nops
    for t in range(nthreads):
        for i in range(0, nops, 17):
            d = domains[(t + i) % len(domains)]
            assert c.exists("t%d-%d" % (t, i), domain=d)
            other = domains[(t + i + 1) % len(domains)]
            assert not c.exists("t%d-%d" % (t, i), domain=other)
