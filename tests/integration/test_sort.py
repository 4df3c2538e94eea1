"""SORT beyond what the differential test shows: a STORE's list comes back
through a snapshot, the AOF (a clean stop and kill -9 under appendfsync
always) and a rewrite, small and big; and a SORT whose BY and GET patterns read
other keys sees them all at one instant while other clients, on other worker
threads, rewrite them (Redis's single thread gives that for free; Kasi locks
the domain's shards for such a SORT). Replies are compared with Redis's in
tests/diff/test_diff_sort.py."""
import random
import threading
import time

import pytest

import kasi_harness as H
from test_persistence import RESTARTS, TF, restart_trial

pytestmark = pytest.mark.kasi_only


def load(c):
    c.cmd("RPUSH", "l", *[str((i * 37) % 101) for i in range(101)])
    c.cmd("MSET", *[x for i in range(101) for x in ("w_%d" % i, str(-i))])
    c.cmd("HSET", "h_5", "name", "five")
    assert c.cmd("SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->name", "STORE", "byw") == 202
    assert c.cmd("SORT", "l", "DESC", "LIMIT", "3", "4", "STORE", "small") == 4
    big = [str(i) for i in range(5000, 0, -1)]
    for k in range(0, len(big), 1000):
        c.cmd("RPUSH", "biglist", *big[k:k + 1000])
    assert c.cmd("SORT", "biglist", "STORE", "bigsorted") == 5000
    c.cmd("SET", "gone", "x")
    assert c.cmd("SORT", "nokey", "STORE", "gone") == 0
    c.cmd("SADD", "s", "b", "a", "c")
    assert c.cmd("SORT", "s", "BY", "nosort", "STORE", "fromset") == 3


def state(c):
    return {k: c.cmd("LRANGE", k, 0, -1) for k in (b"byw", b"small", b"bigsorted", b"fromset")} | {
        b"gone": c.cmd("EXISTS", "gone")}


@pytest.mark.parametrize("how", RESTARTS)
def test_sort_store_survives_restart(server_factory, tmp_path, how):
    want, got, _ = restart_trial(server_factory, tmp_path / "data", how, load, state,
                              lambda c: c.cmd("SORT", "l", "LIMIT", "0", "2", "STORE", "small"))
    assert want[b"bigsorted"] == [str(i).encode() for i in range(1, 5001)]
    assert want[b"fromset"] == [b"a", b"b", b"c"]
    assert want[b"gone"] == 0
    assert want[b"byw"][:4] == [b"100", b"", b"99", b""]   # GET of nothing stores ""
    assert want[b"small"] == ([b"0", b"1"] if how == "rewrite" else [b"97", b"96", b"95", b"94"])
    assert got == want


def test_sort_patterns_read_one_instant(server_factory):
    """Writers on other connections (and so, some of them, on the other
    worker thread) keep setting pairs of keys, w_k and w_k+500, to one new
    value with one MSET each (which locks just those two keys' shards); a
    SORT ... GET w_* reads the first of each pair early and the second late,
    yet at one instant, so it never sees the two differ."""
    s = server_factory([("threads", "2")])
    n = 1000
    with s.raw() as c:
        c.cmd("RPUSH", "l", *[str(i) for i in range(n)])
        c.cmd("MSET", *[x for i in range(n) for x in ("w_%d" % i, "0")])
    stop = time.monotonic() + 3 * TF
    errors, counts = [], []

    def writer(seed):
        rng, v = random.Random(seed), seed * 10 ** 9
        try:
            with s.raw() as w:
                while time.monotonic() < stop:
                    batch = []
                    for _ in range(50):
                        k, v = rng.randrange(n // 2), v + 1
                        batch.append(H.encode_command("MSET", "w_%d" % k, v, "w_%d" % (k + n // 2), v))
                    w.send(b"".join(batch))
                    for _ in batch:
                        assert w.read_raw() == b"+OK\r\n"
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)

    def reader():
        sorts = 0
        try:
            with s.raw() as r:
                while time.monotonic() < stop:
                    got = r.cmd("SORT", "l", "BY", "nosort", "GET", "w_*")
                    torn = [k for k in range(n // 2) if got[k] != got[k + n // 2]]
                    assert not torn, "one SORT saw pairs torn: %r" % [(got[k], got[k + n // 2]) for k in torn[:3]]
                    sorts += 1
            counts.append(sorts)
        except Exception as e:
            errors.append(e)

    # the server spreads the connections over its worker threads
    threads = [threading.Thread(target=writer, args=(p,)) for p in range(1, 4)] + \
              [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(counts) == 3 and min(counts) > 2, counts
    assert s.alive()
