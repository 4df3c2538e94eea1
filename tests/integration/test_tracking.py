"""Client-side caching beyond what the differential test compares with Redis:
tracking-table-max-keys (Redis drops random keys when the table is full; Kasi
drops the oldest, telling their clients as of a change), INFO's tracking
counts, a tracking client that goes (its entries are dropped when their keys
change, and nothing is sent to it), and invalidations crossing worker threads
under concurrent writers (run under TSan too)."""
import threading

import pytest

import kasi_harness as H

TF = H.TIME_FACTOR


def _push(c):
    v = c.read()
    assert isinstance(v, H.RespPush), v
    return v


def _info(c, section):
    text = c.cmd("INFO", section).decode()
    return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)


@pytest.mark.kasi_only   # Redis drops random keys
def test_full_table_invalidates_the_oldest_keys(server_factory):
    srv = server_factory([("tracking-table-max-keys", "3")])
    with srv.raw() as t, srv.raw() as w:
        t.cmd_raw("HELLO", "3")
        assert t.cmd("CLIENT", "TRACKING", "ON") == b"OK"
        for k in ("k1", "k2", "k3"):
            assert t.cmd("GET", k) is None
        assert _info(w, "stats")["tracking_total_keys"] == "3"
        assert t.cmd("GET", "k4") is None       # k1, the oldest, makes room
        assert _push(t) == [b"invalidate", [b"k1"]]
        assert t.cmd("CONFIG", "SET", "tracking-table-max-keys", "1") == b"OK"
        assert t.cmd("GET", "k5") is None       # k2, k3, k4 go, oldest first
        assert [_push(t)[1] for _ in range(3)] == [[b"k2"], [b"k3"], [b"k4"]]
        assert _info(w, "stats")["tracking_total_keys"] == "1"
        assert w.cmd("SET", "k1", "x") == b"OK"   # no longer tracked: nothing
        assert w.cmd("SET", "k5", "x") == b"OK"
        assert _push(t) == [b"invalidate", [b"k5"]]
        assert t.cmd("CONFIG", "GET", "tracking-table-max-keys") == [b"tracking-table-max-keys", b"1"]
        assert t.cmd("PING") == b"PONG"


def test_info_counts_and_a_client_that_goes(server_factory):
    srv = server_factory()
    with srv.raw() as w:
        with srv.raw() as t1, srv.raw() as t2:
            for t in (t1, t2):
                t.cmd_raw("HELLO", "3")
                assert t.cmd("CLIENT", "TRACKING", "ON") == b"OK"
                assert t.cmd("MGET", "a", "b") == [None, None]
            st, cl = _info(w, "stats"), _info(w, "clients")
            assert (st["tracking_total_keys"], st["tracking_total_items"], cl["tracking_clients"]) == ("2", "4", "2")
            t2.close()
            H.wait_for(lambda: _info(w, "clients")["tracking_clients"] == "1", 5 * TF)
            assert _info(w, "stats")["tracking_total_items"] == "4"   # dropped lazily, as in Redis
            assert w.cmd("SET", "a", "1") == b"OK"
            assert _push(t1) == [b"invalidate", [b"a"]]
            st = _info(w, "stats")
            assert (st["tracking_total_keys"], st["tracking_total_items"]) == ("1", "2")
            assert t1.cmd_raw("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:").startswith(
                b"-ERR You can't switch BCAST mode on/off")
        H.wait_for(lambda: _info(w, "clients")["tracking_clients"] == "0", 5 * TF)
        assert w.cmd("FLUSHALL") == b"OK"
        assert _info(w, "stats")["tracking_total_keys"] == "0"


@pytest.mark.kasi_only   # worker threads
def test_invalidations_cross_workers_under_concurrent_writers(server_factory):
    """Readers on every worker track 200 keys each; four writers change them
    all at once from other connections. Every reader hears of each of its
    keys exactly once (each key is read once, so it is told once)."""
    srv = server_factory([("threads", "4")])
    keys = ["key:%d" % i for i in range(200)]
    readers = [srv.raw(timeout=30 * TF) for _ in range(6)]
    try:
        for r in readers:
            r.cmd_raw("HELLO", "3")
            assert r.cmd("CLIENT", "TRACKING", "ON") == b"OK"
            assert r.cmd("MGET", *keys) == [None] * len(keys)

        def write(part):
            with srv.raw(timeout=30 * TF) as w:
                for k in part:
                    w.send_command("SET", k, "v")
                for _ in part:
                    assert w.read() == b"OK"

        threads = [threading.Thread(target=write, args=(keys[i::4],)) for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        for r in readers:
            got = [_push(r) for _ in keys]
            assert sorted(k for p in got for k in p[1]) == sorted(k.encode() for k in keys)
            assert r.cmd("PING") == b"PONG"   # and nothing more came
    finally:
        for r in readers:
            r.close()
