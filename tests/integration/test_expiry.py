"""Expiry: millisecond precision, lazy + active expiry."""
import time


import kasi_harness as H


def test_px_millisecond_precision(r):
    r.set("k", "v", px=150)
    t0 = time.monotonic()
    assert r.get("k") == b"v"
    # still there well before the deadline
    time.sleep(0.05)
    if time.monotonic() - t0 < 0.12:
        assert r.get("k") == b"v"
    # gone shortly after the deadline: poll with a bounded deadline
    assert H.wait_for(lambda: r.get("k") is None, 2.0, 0.005)
    elapsed = time.monotonic() - t0
    assert 0.14 <= elapsed < 1.0 * H.TIME_FACTOR, elapsed
    assert r.exists("k") == 0
    assert r.ttl("k") == -2


def test_pexpire_precision(r):
    r.set("k", "v")
    r.pexpire("k", 100)
    pt = r.pttl("k")
    assert 50 < pt <= 100
    time.sleep(0.12)
    assert r.get("k") is None


def test_expired_key_never_returned_by_any_command(r):
    r.mset({"a": "1", "b": "2"})
    r.pexpire("a", 20)
    time.sleep(0.05)
    assert r.get("a") is None
    assert r.mget("a", "b") == [None, b"2"]
    assert r.exists("a") == 0
    assert r.ttl("a") == -2
    assert r.pttl("a") == -2
    assert r.strlen("a") == 0
    assert r.type("a") == b"none"
    assert b"a" not in r.keys("*")
    assert r.setnx("a", "new") is True
    assert r.get("a") == b"new"
    assert r.ttl("a") == -1


def test_expired_key_not_in_scan_keys_dbsize(r):
    for i in range(100):
        r.set("e%d" % i, "v", px=30)
    for i in range(10):
        r.set("p%d" % i, "v")
    time.sleep(0.06)
    assert sorted(r.keys("*")) == sorted(("p%d" % i).encode() for i in range(10))
    assert set(r.scan_iter(count=1000)) == {("p%d" % i).encode() for i in range(10)}
    # DBSIZE may lag behind lazy expiry a little, but must converge quickly
    assert H.wait_for(lambda: r.dbsize() == 10, 2.0)


def test_incr_on_expired_key_starts_fresh(r):
    r.set("n", "100", px=20)
    time.sleep(0.05)
    assert r.incr("n") == 1
    assert r.ttl("n") == -1


def test_append_on_expired_key(r):
    r.set("s", "old", px=20)
    time.sleep(0.05)
    assert r.append("s", "new") == 3
    assert r.get("s") == b"new"


def test_active_expiry_10k_keys(r):
    """10k keys expiring together disappear from DBSIZE within 2 s with nobody reading them."""
    # All 10k expire at one absolute moment, set once they are all written:
    # loading them is slow under the sanitizers.
    keys = ["act:%d" % i for i in range(10000)]
    t0 = time.monotonic()
    p = r.pipeline(transaction=False)
    for k in keys:
        p.set(k, "v", px=600000)
    p.set("keep", "v")
    p.execute()
    assert r.dbsize() == 10001
    expire_at = H.expire_together(r, keys, time.monotonic() - t0)
    time.sleep(max(0.0, expire_at / 1000.0 - time.time()))
    deadline_start = time.monotonic()
    ok = H.wait_for(lambda: r.dbsize() == 1, 2.0, 0.05)
    assert ok, "dbsize still %d %.2fs after expiry" % (r.dbsize(), time.monotonic() - deadline_start)
    assert r.get("keep") == b"v"


def test_active_expiry_in_other_db(srv, r):
    c = srv.client(db=1)
    try:
        p = c.pipeline(transaction=False)
        for i in range(2000):
            p.set("x%d" % i, "v", px=100)
        p.execute()
        assert c.dbsize() == 2000
        time.sleep(0.1)
        assert H.wait_for(lambda: c.dbsize() == 0, 2.0, 0.05)
    finally:
        c.close()


def test_ttl_countdown(r):
    r.set("k", "v", ex=3)
    t1 = r.pttl("k")
    time.sleep(0.3)
    t2 = r.pttl("k")
    assert 0 < t2 < t1
    assert 200 <= t1 - t2 <= 1000


def test_expired_keys_stat_counts_active_expiry(r):
    def expired():
        return int(r.info("stats")["expired_keys"])
    e0 = expired()
    p = r.pipeline(transaction=False)
    for i in range(3000):
        p.set("st:%d" % i, "v", px=50)
    p.execute()
    time.sleep(0.05)
    assert H.wait_for(lambda: r.dbsize() == 0, 2.5, 0.05)
    assert expired() - e0 == 3000


def test_get_on_expired_counts_as_miss(r):
    r.set("m", "v", px=10)
    time.sleep(0.03)
    m0 = int(r.info("stats")["keyspace_misses"])
    assert r.get("m") is None
    assert int(r.info("stats")["keyspace_misses"]) == m0 + 1


def test_no_stale_expiry_after_overwrite_persist_extend(srv, r):
    """Expiry bookkeeping must follow the key's current TTL: keys whose TTL
    was removed, extended or that were re-created must survive the old
    deadline, both for lazy (read) and active (no read) expiry."""
    setups = {
        "overwrite": lambda k: (r.set(k, "old", px=100), r.set(k, "new")),
        "persist": lambda k: (r.set(k, "new", px=100), r.persist(k)),
        "extend": lambda k: (r.set(k, "new", px=100), r.pexpire(k, 100000)),
        "getex_persist": lambda k: (r.set(k, "new", px=100), r.getex(k, persist=True)),
        "set_keepttl_then_persist": lambda k: (r.set(k, "x", px=100), r.set(k, "new", keepttl=True), r.persist(k)),
        "del_recreate": lambda k: (r.set(k, "old", px=100), r.delete(k), r.set(k, "new")),
        "rename_away": lambda k: (r.set(k, "old", px=100), r.rename(k, k + ":moved"), r.set(k, "new")),
        "move_away": lambda k: (r.set(k, "old", px=100), r.move(k, 1), r.set(k, "new")),
        "getset": lambda k: (r.set(k, "old", px=100), r.getset(k, "new")),
        "copy_replace": lambda k: (r.set(k, "old", px=100), r.set(k + ":src", "new"),
                                   r.copy(k + ":src", k, replace=True)),
        "msetnx_after_del": lambda k: (r.set(k, "old", px=100), r.delete(k), r.msetnx({k: "new"})),
        "expireat_gt": lambda k: (r.set(k, "new", px=100), r.execute_command("PEXPIRE", k, 100000, "GT")),
    }
    for name, fn in setups.items():
        fn("lazy:" + name)
        fn("active:" + name)
    time.sleep(0.25)
    for name in setups:
        assert r.get("lazy:" + name) == b"new", name
    time.sleep(0.6)  # let active expiry cycles run over the stale deadlines
    for name in setups:
        assert r.get("active:" + name) == b"new", name
        assert r.ttl("active:" + name) in (-1,) or r.ttl("active:" + name) > 90, name


def test_renamed_key_keeps_its_deadline(r):
    r.set("src", "v", px=150)
    r.rename("src", "dst")
    r.set("src", "fresh")
    time.sleep(0.3)
    assert r.get("dst") is None
    assert r.get("src") == b"fresh"


def test_moved_key_keeps_its_deadline(srv, r):
    r.set("mv", "v", px=150)
    assert r.move("mv", 1)
    c1 = srv.client(db=1)
    try:
        assert 0 < c1.pttl("mv") <= 150
        assert H.wait_for(lambda: c1.dbsize() == 0, 2.0, 0.05)  # active expiry in the target db
        assert c1.get("mv") is None
    finally:
        c1.close()
