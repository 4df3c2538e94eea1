"""SORT beyond what the differential test shows: a STORE's list comes back
through a snapshot, the AOF (a clean stop and kill -9 under appendfsync
always) and a rewrite, small and big; and a SORT whose BY and GET patterns read
other keys sees them all at one instant while other clients, on other worker
threads, rewrite them (Redis's single thread gives that for free; Kasi locks
the domain's shards for such a SORT). Replies are compared with Redis's in
tests/diff/test_diff_sort.py."""
import threading
import time

import pytest

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
    want, got = restart_trial(server_factory, tmp_path / "data", how, load, state,
                              lambda c: c.cmd("SORT", "l", "LIMIT", "0", "2", "STORE", "small"))
    assert want[b"bigsorted"] == [str(i).encode() for i in range(1, 5001)]
    assert want[b"fromset"] == [b"a", b"b", b"c"]
    assert want[b"gone"] == 0
    assert want[b"byw"][:4] == [b"100", b"", b"99", b""]   # GET of nothing stores ""
    assert want[b"small"] == ([b"0", b"1"] if how == "rewrite" else [b"97", b"96", b"95", b"94"])
    assert got == want


def test_sort_patterns_read_one_instant(server_factory):
    """Three writers set every w_* key to one generation with one MSET, over and
    over, from other connections (other worker threads); a SORT ... GET w_*
    must never see two generations in one reply, nor a BY w_* order that
    mixes them."""
    s = server_factory([("threads", "2")])
    n = 1000
    with s.raw() as c:
        c.cmd("RPUSH", "l", *[str(i) for i in range(n)])
        c.cmd("MSET", *[x for i in range(n) for x in ("w_%d" % i, "0")])
    stop = time.monotonic() + 3 * TF
    errors = []

    def writer(parity):
        g = parity
        try:
            with s.raw() as w:
                while time.monotonic() < stop:
                    g += 3
                    # generation g, and a weight order that flips with it
                    args = [x for i in range(n) for x in ("w_%d" % i, "%d.%04d" % (g, i if g % 4 < 2 else n - i))]
                    assert w.cmd("MSET", *args) == b"OK"
        except Exception as e:   # pragma: no cover - reported below
            errors.append(e)

    def reader():
        sorts = 0
        try:
            with s.raw() as r:
                while time.monotonic() < stop:
                    got = r.cmd("SORT", "l", "BY", "w_*", "GET", "w_*", "GET", "#")
                    vals, elems = got[0::2], got[1::2]
                    gens = {v.split(b".")[0] for v in vals}
                    assert len(gens) == 1, "one SORT saw generations %r" % sorted(gens)
                    assert vals == sorted(vals, key=float), "BY order and GET values disagree"
                    order = [int(e) for e in elems]
                    assert order in (list(range(n)), list(range(n - 1, -1, -1))), order[:10]
                    sorts += 1
            counts.append(sorts)
        except Exception as e:
            errors.append(e)

    # a dozen connections at once, so that both worker threads take some
    counts = []
    threads = [threading.Thread(target=writer, args=(p,)) for p in range(3)] + \
              [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(counts) == 6 and min(counts) > 2, counts
    assert s.alive()
