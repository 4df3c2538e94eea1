"""Pub/sub across worker threads: publishers and subscribers on different
workers, per-publisher order, PUBLISH's count against what subscribers
really get (also while they unsubscribe or leave), and slow subscribers
bounded by client-output-buffer-limit's pubsub class. Replies and message
formats are compared with redis-server in tests/diff/test_diff_pubsub.py."""
import socket
import threading
import time

import pytest

import kasi_harness as H

kasi_only = pytest.mark.kasi_only


def subscribe(s, *channels, rcvbuf=None):
    c = H.RawConn(s.port, timeout=10)
    if rcvbuf:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    c.send_command("SUBSCRIBE", *channels)
    for _ in channels:
        c.read()
    return c


def numsub(s, ch):
    with s.raw() as c:
        return c.cmd("PUBSUB", "NUMSUB", ch)[1]


@kasi_only
def test_publishers_and_subscribers_on_every_worker(server_factory):
    """Four workers; eight subscribers and three publishers, all at once. Each
    subscriber gets every message, each publisher's in the order it sent them,
    and every PUBLISH counts all eight."""
    s = server_factory({"threads": "4"})
    subs = [subscribe(s, "ch") for _ in range(8)]
    n = 300
    counts = {}

    def publish(p):
        with s.raw(timeout=20) as c:
            got = []
            for i in range(n):
                c.send_command("PUBLISH", "ch", "%d:%d" % (p, i))
                if i % 50 == 49:
                    got += [c.read() for _ in range(50)]
            counts[p] = got

    ts = [threading.Thread(target=publish, args=(p,)) for p in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    for p in range(3):
        assert counts[p] == [8] * n
    for c in subs:
        last = {0: -1, 1: -1, 2: -1}
        for _ in range(3 * n):
            kind, ch, msg = c.read()
            assert (kind, ch) == (b"message", b"ch")
            p, i = map(int, msg.split(b":"))
            assert i == last[p] + 1, "publisher %d's message %d came after %d" % (p, i, last[p])
            last[p] = i
        c.send_command("PING")
        assert c.read() == [b"pong", b""]
        c.close()


@kasi_only
@pytest.mark.parametrize("how", ["unsubscribe", "punsubscribe", "reset"])
def test_subscriber_gets_exactly_what_publish_counted(server_factory, how):
    """While a publisher on another worker publishes without pause, the
    subscriber leaves: it must have received exactly the messages whose
    PUBLISH counted it, all before its confirmation."""
    s = server_factory({"threads": "2"})
    for rnd in range(5):
        sub = H.RawConn(s.port, timeout=10)
        if how == "punsubscribe":
            sub.send_command("PSUBSCRIBE", "c*")
        else:
            sub.send_command("SUBSCRIBE", "chan")
        sub.read()
        stop = threading.Event()
        counted = []

        def publish():
            with s.raw(timeout=20) as c:
                i = 0
                while not stop.is_set() and i < 200000:
                    c.send_command("PUBLISH", "chan", str(i))
                    if c.read() == 1:
                        counted.append(str(i).encode())
                    i += 1

        t = threading.Thread(target=publish)
        t.start()
        H.wait_for(lambda: len(counted) > 200, 10)
        sub.send_command({"unsubscribe": "UNSUBSCRIBE", "punsubscribe": "PUNSUBSCRIBE",
                          "reset": "RESET"}[how])
        got = []
        while True:
            r = sub.read()
            if r == b"RESET" or (isinstance(r, list) and r[0] in (b"unsubscribe", b"punsubscribe")):
                break
            got.append(r[-1])
        time.sleep(0.05)
        stop.set()
        t.join(30)
        assert got == counted, "round %d: got %d messages, PUBLISH counted %d" % (
            rnd, len(got), len(counted))
        sub.send_command("PING")
        assert sub.read() == b"PONG"
        sub.close()


@kasi_only
def test_leaving_subscribers_stop_being_counted(server_factory):
    """Subscribers connect and drop (some without reading) while two publishers
    run: PUBLISH never counts a closed client for long, and nothing leaks or
    races (this runs under ASan and TSan in make test)."""
    s = server_factory({"threads": "4"})
    stop = threading.Event()
    errors = []

    def publish(p):
        try:
            with s.raw(timeout=20) as c:
                i = 0
                while not stop.is_set() and i < 50000:
                    c.send_command("PUBLISH", "churn" if i % 2 else "other", b"x" * 100)
                    c.read()
                    i += 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=publish, args=(p,)) for p in range(2)]
    for t in ts:
        t.start()
    try:
        for rnd in range(60):
            cs = [subscribe(s, "churn", "other") for _ in range(4)]
            cs[0].send_command("PSUBSCRIBE", "ch*")
            if rnd % 2:
                for c in cs:
                    c.send_command("UNSUBSCRIBE", "other")
            for c in cs:
                c.close()
    finally:
        stop.set()
        for t in ts:
            t.join(30)
    assert not errors, errors
    assert H.wait_for(lambda: numsub(s, "churn") == 0 and numsub(s, "other") == 0, 5)
    with s.raw() as c:
        assert c.cmd("PUBSUB", "NUMPAT") == 0
        assert c.cmd("PUBLISH", "churn", "x") == 0


def _flood(s, ch, size, total, deadline_s=20, behind=None):
    """Publish `total` bytes in messages of `size` from one pipelining client
    (waiting, after each batch, while behind(sent) says a reader lags);
    returns the replies (subscriber counts)."""
    counts = []
    with s.raw(timeout=30) as p:
        msg = b"m" * size
        deadline = time.monotonic() + deadline_s
        sent = 0
        while sent < total and time.monotonic() < deadline:
            for _ in range(64):
                p.send_command("PUBLISH", ch, msg)
            counts += [p.read() for _ in range(64)]
            sent += 64 * size
            while behind and behind(sent) and time.monotonic() < deadline:
                time.sleep(0.001)
    return counts


@kasi_only
def test_slow_subscriber_closed_at_the_pubsub_hard_limit(server_factory):
    """A subscriber that stops reading is closed once its unsent messages pass
    the pubsub class's hard limit; a reading subscriber and other clients go on."""
    s = server_factory({"threads": "2", "client-output-buffer-limit": "pubsub 8mb 0 0"})
    slow = subscribe(s, "flood", rcvbuf=4096)
    fast = subscribe(s, "flood")
    got = [0]
    stop = threading.Event()

    def reader():
        fast.settimeout(1)
        while not stop.is_set():
            try:
                chunk = fast.sock.recv(1 << 20)
            except socket.timeout:
                continue
            if not chunk:
                break
            got[0] += len(chunk)

    t = threading.Thread(target=reader)
    t.start()
    try:
        # the reader (a thread of this process) is kept within 2 MB
        counts = _flood(s, "flood", 4096, 96 << 20, behind=lambda sent: sent - got[0] > 2 << 20)
        assert counts[0] == 2 and counts[-1] == 1, (counts[0], counts[-1])
    finally:
        stop.set()
        t.join(10)
    assert numsub(s, "flood") == 1   # the slow one is gone (what the kernel holds still trickles to it)
    slow.close()
    assert got[0] > 64 << 20   # the reader got what was published meanwhile
    assert "output buffer limit" in s.log_text()
    fast.close()
    with s.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


@kasi_only
def test_slow_subscriber_closed_after_the_soft_limits_seconds(server_factory):
    """Past the soft limit a subscriber is closed only once it stayed there for
    longer than the seconds; under it, it is left alone."""
    s = server_factory({"client-output-buffer-limit": "pubsub 0 256kb 1"})
    slow = subscribe(s, "soft", rcvbuf=4096)
    t0 = time.monotonic()
    # enough to fill the socket buffers and pass 256 KB, then a trickle
    _flood(s, "soft", 4096, 16 << 20, deadline_s=5)
    assert numsub(s, "soft") == 1   # over the soft limit, not yet for a second
    closed_after = None
    while time.monotonic() - t0 < 10:
        with s.raw() as c:
            c.cmd("PUBLISH", "soft", "tick")
        if numsub(s, "soft") == 0:
            closed_after = time.monotonic() - t0
            break
        time.sleep(0.1)
    assert closed_after is not None and closed_after > 1.0, closed_after
    slow.close()


def test_client_output_buffer_limit_config(r):
    """Redis's syntax: classes given are changed, the others kept; CONFIG GET
    shows all three in bytes."""
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    try:
        assert r.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 5 replica 2gb 1gb 3")
        assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == (
            "normal 0 0 0 slave 2147483648 1073741824 3 pubsub 1048576 524288 5")
        for bad, why in [("master 1 2 3", "Invalid client class"), ("normal 1 2", "Wrong number"),
                         ("normal 1 x 3", "Error in hard, soft")]:
            with pytest.raises(Exception, match=why):
                r.config_set("client-output-buffer-limit", bad)
    finally:
        r.config_set("client-output-buffer-limit", old)


@kasi_only
def test_monitor_sees_every_worker_in_order(server_factory):
    """Monitors on four workers see every command of every client, each
    client's in the order it ran them; a monitor that leaves stops costing."""
    s = server_factory({"threads": "4"})
    mons = []
    for _ in range(3):
        m = H.RawConn(s.port, timeout=10)
        m.send_command("MONITOR")
        assert m.read() == b"OK"
        mons.append(m)

    def work(p):
        with s.raw(timeout=20) as c:
            for i in range(200):
                c.send_command("SET", "k%d" % p, i)
                if i % 50 == 49:
                    for _ in range(50):
                        c.read()

    ts = [threading.Thread(target=work, args=(p,)) for p in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    for m in mons:
        last = {p: -1 for p in range(4)}
        for _ in range(800):
            line = m.read()
            parts = line.split(b" ")
            assert parts[3] == b'"SET"' and parts[4].startswith(b'"k'), line
            p, i = int(parts[4][2:-1]), int(parts[5][1:-1])
            assert i == last[p] + 1, line
            last[p] = i
        m.close()
    with s.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
