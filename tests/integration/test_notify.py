"""Keyspace notifications where the differential test cannot reach: keys that
expire (found on access, or by the active sweep) and keys evicted under
maxmemory, each published when the key really goes, and events from several
connections (on several worker threads) reaching one subscriber, each
writer's in its order. The expiry checks run against redis-server too."""
import socket
import threading
import time

import pytest
import redis

import kasi_harness as H


def subscriber(srv, pattern="*"):
    c = H.RawConn(srv.port, timeout=5)
    c.send_command("PSUBSCRIBE", pattern)
    assert c.read()[0] == b"psubscribe"
    return c


def messages_until(c, marker, limit=100000):
    """(channel, message) of each pmessage up to the PUBLISH of marker."""
    got = []
    for _ in range(limit):
        m = c.read()
        assert m[0] == b"pmessage", m
        if m[2] == b"mark" and m[3] == marker:
            return got
        got.append((m[2], m[3]))
    raise AssertionError("no marker")


def both(server_factory, redis_factory, directives):
    return [("kasi", server_factory(directives)), ("redis", redis_factory(directives))]


def test_expired_found_on_access(server_factory, redis_factory):
    # hz 1: the sweep seldom runs, so the GET mostly finds the key expired
    # itself; either way the event comes before anything the GET causes
    for name, srv in both(server_factory, redis_factory, {"hz": "1"}):
        w = redis.Redis(port=srv.port)
        w.config_set("notify-keyspace-events", "KEA")
        s = subscriber(srv)
        for i in range(5):
            w.set("k%d" % i, "v", px=20)
            time.sleep(0.05)
            assert w.get("k%d" % i) is None
            w.publish("mark", "m%d" % i)
            got = messages_until(s, b"m%d" % i)
            key = b"k%d" % i
            assert got == [(b"__keyspace@0__:" + key, b"set"), (b"__keyevent@0__:set", key),
                           (b"__keyspace@0__:" + key, b"expire"), (b"__keyevent@0__:expire", key),
                           (b"__keyspace@0__:" + key, b"expired"), (b"__keyevent@0__:expired", key)], name
        s.close()


def test_expired_by_the_sweep(server_factory, redis_factory):
    for name, srv in both(server_factory, redis_factory, {"hz": "50"}):
        w = redis.Redis(port=srv.port, db=7)
        w.config_set("notify-keyspace-events", "Ex")
        s = subscriber(srv)
        keys = ["t%d" % i for i in range(50)]
        for k in keys:
            w.set(k, "v", px=30)
        seen = set()
        deadline = time.monotonic() + 10 * H.TIME_FACTOR
        while len(seen) < len(keys) and time.monotonic() < deadline:
            m = s.read()
            assert m[2] == b"__keyevent@7__:expired", (name, m)
            seen.add(m[3].decode())
        assert seen == set(keys), name
        assert w.dbsize() == 0   # gone, not only reported
        w.publish("mark", "end")
        assert messages_until(s, b"end") == []   # each once
        s.close()


def test_flag_letters_gate_expired(server_factory):
    srv = server_factory({"notify-keyspace-events": "KEg$"})   # no x: no expired events
    w = redis.Redis(port=srv.port)
    assert w.config_get("notify-keyspace-events") == {"notify-keyspace-events": "g$KE"}
    s = subscriber(srv)
    w.set("a", "v", px=10)
    time.sleep(0.05)
    assert w.get("a") is None
    w.publish("mark", "end")
    assert messages_until(s, b"end") == [(b"__keyspace@0__:a", b"set"), (b"__keyevent@0__:set", b"a"),
                                         (b"__keyspace@0__:a", b"expire"),
                                         (b"__keyevent@0__:expire", b"a")]


@pytest.mark.parametrize("policy", ["s3fifo", "allkeys-lru", "allkeys-random", "volatile-ttl"])
def test_evicted(server_factory, policy):
    srv = server_factory({"maxmemory": "4mb", "maxmemory-policy": policy,
                          "notify-keyspace-events": "Ee"})
    w = redis.Redis(port=srv.port)
    s = subscriber(srv, "__keyevent@0__:evicted")
    value = "x" * 1000
    with w.pipeline(transaction=False) as p:
        for i in range(20000):
            p.set("key:%d" % i, value, ex=1000)
        p.execute()
    got = []
    s.settimeout(0.5)
    try:
        while True:
            m = s.read()
            assert m[0] == b"pmessage" and m[2] == b"__keyevent@0__:evicted", m
            got.append(m[3])
    except socket.timeout:
        pass
    s.settimeout(5)
    evicted = int(w.info("stats")["evicted_keys"])
    assert evicted > 1000
    while len(got) < evicted:   # INFO itself may have evicted a few more
        got.append(s.read()[3])
    assert len(set(got)) == len(got) == evicted
    # every key reported is gone
    with w.pipeline(transaction=False) as p:
        for k in got:
            p.exists(k)
        assert sum(p.execute()) == 0
    assert w.dbsize() <= 20000 - evicted
    s.close()


def test_events_from_every_worker(server_factory):
    """Writers on several connections (spread over 4 workers) and one
    subscriber: every event arrives once, each writer's in its order."""
    srv = server_factory({"threads": "4", "notify-keyspace-events": "K$"})
    s = subscriber(srv, "__keyspace@0__:w*")
    writers, n = 6, 300

    def write(j):
        c = redis.Redis(port=srv.port)
        for i in range(n):
            c.set("w%d:%d" % (j, i), "v")
        c.close()

    ts = [threading.Thread(target=write, args=(j,)) for j in range(writers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    per = {j: [] for j in range(writers)}
    for _ in range(writers * n):
        m = s.read()
        j, i = m[2][len(b"__keyspace@0__:w"):].split(b":")
        assert m[3] == b"set"
        per[int(j)].append(int(i))
    for j in range(writers):
        assert per[j] == list(range(n))
    s.send_command("PING")   # nothing more was waiting
    assert s.read() == [b"pong", b""]
    s.close()
