"""Concurrency: atomicity and isolation with many simultaneous clients
(Kasi runs worker threads, so these target races), SCAN guarantees under
mutation, many connections, slow/partial clients, output buffer limits."""
import os
import socket
import threading
import time

import pytest

import kasi_harness as H
from kasi_harness import OK, bulk

kasi_only = pytest.mark.kasi_only


def run_threads(target, n, timeout=40):
    errors = []

    def wrap(i):
        try:
            target(i)
        except Exception as e:  # noqa
            errors.append("thread %d: %r" % (i, e))
    ts = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + timeout
    for t in ts:
        t.join(max(0.1, deadline - time.monotonic()))
    alive = [t for t in ts if t.is_alive()]
    assert not alive, "%d threads still running after %ss" % (len(alive), timeout)
    assert not errors, errors[:5]


def test_incr_atomic_many_clients(srv):
    per, nthreads = 1000, 16

    def work(i):
        with srv.raw() as c:
            for _ in range(per // 100):
                c.send(H.encode_command("INCR", "ctr") * 100 + H.encode_command("INCRBYFLOAT", "fl", "1") * 10)
                for _ in range(110):
                    c.read_raw()
    run_threads(work, nthreads)
    with srv.raw() as c:
        assert c.cmd_raw("GET", "ctr") == bulk(str(per * nthreads))
        assert c.cmd_raw("GET", "fl") == bulk(str(nthreads * 100))


def test_mset_mget_atomic(srv):
    stop = threading.Event()
    bad = []

    def writer(i):
        with srv.raw() as c:
            for n in range(3000):
                c.cmd_raw("MSET", "x", str(n), "y", str(n), "z", str(n))
        stop.set()

    def reader(i):
        with srv.raw() as c:
            for _ in range(20000):
                if stop.is_set():
                    break
                v = c.cmd("MGET", "x", "y", "z")
                if not (v[0] == v[1] == v[2]):
                    bad.append(v)
                    break

    def work(i):
        (writer if i == 0 else reader)(i)
    run_threads(work, 5)
    assert not bad, "MGET saw a torn MSET: %r" % bad[:3]


def test_multi_exec_atomic(srv):
    stop = threading.Event()
    bad = []

    def writer(i):
        with srv.raw() as c:
            for _ in range(1500):
                c.send(H.encode_command("MULTI") + H.encode_command("INCR", "a") +
                       H.encode_command("INCR", "b") + H.encode_command("EXEC"))
                for _ in range(4):
                    c.read_raw()
        stop.set()

    def reader(i):
        with srv.raw() as c:
            for _ in range(20000):
                if stop.is_set():
                    break
                a, b = c.cmd("MGET", "a", "b")
                if a != b:
                    bad.append((a, b))
                    break

    run_threads(lambda i: (writer if i == 0 else reader)(i), 4)
    assert not bad, "reader saw a half-applied transaction: %r" % bad[:3]
    with srv.raw() as c:
        assert c.cmd("MGET", "a", "b") == [b"1500", b"1500"]


def test_watch_optimistic_increments(srv):
    nthreads, per = 8, 40
    successes = [0] * nthreads

    def work(i):
        with srv.raw() as c:
            for _ in range(5000):
                if successes[i] >= per:
                    return
                c.cmd_raw("WATCH", "cas")
                v = c.cmd("GET", "cas")
                n = int(v) if v is not None else 0
                c.send(H.encode_command("MULTI") + H.encode_command("SET", "cas", str(n + 1)) +
                       H.encode_command("EXEC"))
                c.read_raw()
                c.read_raw()
                res = c.read_raw()
                if res != b"*-1\r\n":
                    assert res == b"*1\r\n+OK\r\n", res
                    successes[i] += 1
            raise AssertionError("too many retries")
    run_threads(work, nthreads, timeout=50)
    with srv.raw() as c:
        assert c.cmd_raw("GET", "cas") == bulk(str(nthreads * per))


def test_setnx_race_single_winner(srv):
    for rnd in range(20):
        winners = []
        barrier = threading.Barrier(10)

        def work(i):
            with srv.raw() as c:
                barrier.wait(10)
                if c.cmd("SETNX", "lock%d" % rnd, str(i)) == 1:
                    winners.append(i)
        run_threads(work, 10)
        assert len(winners) == 1, (rnd, winners)
        with srv.raw() as c:
            assert c.cmd("GET", "lock%d" % rnd) == str(winners[0]).encode()


def test_scan_guarantee_under_mutation(srv):
    """Keys present for the whole iteration are returned, while the table
    grows (rehashing) and shrinks around them."""
    stable = {("stable:%d" % i).encode() for i in range(3000)}
    with srv.raw() as w:
        w.send(b"".join(H.encode_command("SET", k, "v") for k in stable))
        for _ in stable:
            w.read_raw()
        seen = set()
        cursor = b"0"
        tmp = 0
        with srv.raw() as c:
            for step in range(200000):
                cursor, batch = c.cmd("SCAN", cursor, "COUNT", "20")
                seen.update(batch)
                if cursor == b"0":
                    break
                # grow by 200 temp keys per step, delete older ones now and then
                w.send(b"".join(H.encode_command("SET", "tmp:%d" % (tmp + j), "v") for j in range(200)))
                for _ in range(200):
                    w.read_raw()
                tmp += 200
                if step % 5 == 4:
                    w.send(b"".join(H.encode_command("DEL", "tmp:%d" % j) for j in range(tmp - 1000, tmp - 500)))
                    for _ in range(500):
                        w.read_raw()
            assert cursor == b"0", "SCAN did not finish"
    missing = stable - seen
    assert not missing, "%d stable keys never returned by SCAN, e.g. %r" % (len(missing), sorted(missing)[:5])


def test_flushall_under_load(srv):
    stop = threading.Event()

    def work(i):
        with srv.raw() as c:
            if i == 0:
                for _ in range(50):
                    assert c.cmd_raw("FLUSHALL") == OK
                    time.sleep(0.005)
                stop.set()
                return
            n = 0
            while not stop.is_set() and n < 100000:
                c.send(H.encode_command("SET", "k%d:%d" % (i, n), "v") + H.encode_command("SELECT", str(n % 3)) +
                       H.encode_command("INCR", "c"))
                assert c.read_raw() == OK
                assert c.read_raw() == OK
                assert c.read_raw().startswith(b":")
                n += 1
    run_threads(work, 6)
    with srv.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
        assert c.cmd_raw("FLUSHALL") == OK
        assert c.cmd_raw("DBSIZE") == b":0\r\n"


def test_many_connections(srv):
    conns = []
    try:
        for i in range(500):
            conns.append(srv.raw())
        for i, c in enumerate(conns):
            c.send(H.encode_command("SET", "conn%d" % i, str(i)))
        for c in conns:
            assert c.read_raw() == OK
        for i, c in enumerate(conns):
            c.send(H.encode_command("GET", "conn%d" % ((i + 1) % 500)))
        for i, c in enumerate(conns):
            assert c.read_raw() == bulk(str((i + 1) % 500))
    finally:
        for c in conns:
            c.close()


def test_many_partial_commands(srv):
    """Hundreds of clients each holding half a command do not block anyone."""
    frame = H.encode_command("SET", "partial", "x" * 1000)
    conns = []
    try:
        for i in range(200):
            c = srv.raw()
            c.send(frame[: 10 + i * 5])
            conns.append(c)
        with srv.raw() as other:
            for _ in range(10):
                assert other.cmd_raw("PING") == b"+PONG\r\n"
        for i, c in enumerate(conns):
            c.send(frame[10 + i * 5:])
        for c in conns:
            assert c.read_raw() == OK
    finally:
        for c in conns:
            c.close()


def test_pipeline_100k(srv):
    n = 100000
    with srv.raw(timeout=30) as c:
        chunk = b"".join(H.encode_command("INCR", "big-pipe") for _ in range(10000))
        for _ in range(n // 10000):
            c.send(chunk)
        for i in range(1, n + 1):
            r = c.read_raw()
            if r != b":%d\r\n" % i:
                pytest.fail("reply %d was %r" % (i, r))


def test_big_replies_many_clients(srv):
    val = b"q" * (2 * 1024 * 1024)
    with srv.raw() as c:
        assert c.cmd_raw("SET", "bigv", val) == OK

    def work(i):
        with srv.raw(timeout=30) as c:
            c.send(H.encode_command("MGET", "bigv", "nokey", "bigv"))
            assert c.read_raw() == b"*3\r\n" + bulk(val) + b"$-1\r\n" + bulk(val)
    run_threads(work, 8)


@kasi_only
def test_output_buffer_hog_bounded(server_factory):
    """A client pipelining ~500 MB worth of GET replies without reading must
    neither blow up server memory (backpressure or disconnect are both fine)
    nor delay other clients."""
    s = server_factory({"client-output-buffer-limit": "normal 4mb 0 0"})
    with s.raw() as c:
        assert c.cmd_raw("SET", "blob", b"z" * (256 * 1024)) == OK
    rss0 = H.vmrss_kb(s.pid)
    hog = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    hog.setblocking(False)
    req = H.encode_command("GET", "blob") * 100
    deadline = time.monotonic() + 3
    sent = 0
    while time.monotonic() < deadline and sent < 2000 * 23:
        try:
            sent += hog.send(req)
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            break
    try:
        time.sleep(0.3)
        with s.raw(timeout=5) as c:
            for i in range(20):
                t0 = time.monotonic()
                assert c.cmd_raw("PING") == b"+PONG\r\n"
                assert time.monotonic() - t0 < 1.0 * H.TIME_FACTOR
        rss1 = H.vmrss_kb(s.pid)
        assert rss1 - rss0 < 100 * 1024, "RSS grew by %d kB" % (rss1 - rss0)
    finally:
        hog.close()


@kasi_only
def test_output_buffer_limit_single_big_reply(server_factory):
    """One reply whose copied bytes pass client-output-buffer-limit: the client is
    closed (like Redis' hard limit); smaller replies and other clients are fine.
    Values sent straight from where they are stored (2 KB and more) do not count:
    a reply of them is served whole."""
    s = server_factory({"client-output-buffer-limit": "normal 4mb 0 0"})
    with s.raw() as c:
        assert c.cmd_raw("SET", "small", b"s" * 1000) == OK
        assert c.cmd_raw("SET", "blob", b"z" * (256 * 1024)) == OK
        assert c.cmd_raw("MGET", *["small"] * 8) == b"*8\r\n" + bulk(b"s" * 1000) * 8
        # 16 MB of stored values: served whole
        assert c.cmd_raw("MGET", *["blob"] * 64) == b"*64\r\n" + bulk(b"z" * (256 * 1024)) * 64
    big = s.raw()
    big.send(H.encode_command("MGET", *["small"] * 16000))  # 16 MB of copied reply
    data, closed = big.read_until_closed(5)
    big.close()
    assert closed
    assert len(data) < 16 * 1000 * 1000
    with s.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


@kasi_only
def test_max_domains_concurrent_creation(server_factory):
    s = server_factory({"max-domains": "10"})
    ok = []

    def work(i):
        with s.raw() as c:
            a = c.cmd_raw("SELECT", "dom%d" % i)
            if a != OK:
                assert b"max-domains" in a, a
                return
            b = c.cmd_raw("SET", "k", "v")
            if b == OK:
                ok.append(i)
            else:
                assert b"max-domains" in b, b
    run_threads(work, 30)
    assert 1 <= len(ok) <= 10, ok
    with s.raw() as c:
        text = c.cmd("INFO", "kasi").decode()
        lines = [l for l in text.split("\r\n") if l.startswith("domain_dom")]
        assert len(lines) == len(ok), lines


@kasi_only
def test_active_expiry_named_domains(srv):
    with srv.raw() as c:
        for d in ("e1", "e2", "e3"):
            c.cmd_raw("SELECT", d)
            c.send(b"".join(H.encode_command("SET", "k%d" % i, "v", "PX", "100") for i in range(2000)))
            for _ in range(2000):
                assert c.read_raw() == OK
            c.cmd_raw("SET", "keep", "v")
        time.sleep(0.1)

        def all_gone():
            text = c.cmd("INFO", "kasi").decode()
            return all("domain_%s:keys=1," % d in text for d in ("e1", "e2", "e3"))
        assert H.wait_for(all_gone, 2.5, 0.05), c.cmd("INFO", "kasi")


def _fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test_no_fd_leak_on_disconnects(server_factory):
    """Connections ending every which way (close, QUIT, RST, protocol error,
    mid-command, idle timeout) give their file descriptors back."""
    s = server_factory({"timeout": "1"})
    with s.raw() as c:
        c.cmd_raw("PING")

    def settled():
        return _fd_count(s.pid)
    time.sleep(0.2)
    base = settled()
    conns_idle = []
    for i in range(300):
        kind = i % 6
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        if kind == 0:
            c.close()
        elif kind == 1:
            c.sendall(H.encode_command("QUIT"))
            c.recv(100)
            c.close()
        elif kind == 2:
            c.sendall(H.encode_command("SET", "a", "b")[:9])
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
        elif kind == 3:
            c.sendall(b"*abc\r\n")
            c.recv(100)
            c.close()
        elif kind == 4:
            c.sendall(H.encode_command("GET", "a") * 50)
            c.close()  # replies unread
        else:
            conns_idle.append(c)  # left idle: closed by the server's timeout
    assert H.wait_for(lambda: settled() <= base + 1, 5, 0.1), \
        "fd count %d, baseline %d" % (settled(), base)
    for c in conns_idle:
        c.close()



def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_idle_server_does_not_spin(server_factory):
    """With idle, half-sent and never-reading clients connected, the server
    must sleep, not busy-loop."""
    s = server_factory()
    conns = []
    try:
        with s.raw() as c:
            c.cmd_raw("SET", "blob", b"z" * (256 * 1024))
        for i in range(50):
            c = s.raw()
            if i % 3 == 1:
                c.send(H.encode_command("SET", "half", "x" * 100)[:20])
            elif i % 3 == 2:
                c.send(H.encode_command("GET", "blob") * 40)  # replies never read
            conns.append(c)
        time.sleep(0.5)
        cpu0 = _cpu_seconds(s.pid)
        time.sleep(1.5)
        used = _cpu_seconds(s.pid) - cpu0
        assert used < 0.15 * H.TIME_FACTOR, "server used %.2fs CPU in 1.5s while idle" % used
    finally:
        for c in conns:
            c.close()


def test_info_all_and_case(srv, raw):
    raw.cmd_raw("SET", "k", "v")
    text = raw.cmd("INFO", "all").decode()
    for sec in ("# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"):
        assert sec in text, sec
    assert raw.cmd("INFO", "SERVER").decode().startswith("# Server\r\n")
    assert "# Keyspace" in raw.cmd("INFO", "everything").decode()
    assert "# Server" in raw.cmd("INFO", "default").decode()


def test_scan_guarantee_while_shrinking(srv):
    """Keys present for the whole iteration are returned while the table
    shrinks from 20000 to 1000 keys under the cursor."""
    stable = {("keep:%d" % i).encode() for i in range(1000)}
    with srv.raw(timeout=30) as w:
        frames = [H.encode_command("SET", k, "v") for k in stable]
        frames += [H.encode_command("SET", "junk:%d" % i, "v") for i in range(19000)]
        w.send(b"".join(frames))
        for _ in frames:
            w.read_raw()
        seen = set()
        cursor = b"0"
        deleted = 0
        with srv.raw() as c:
            for step in range(100000):
                cursor, batch = c.cmd("SCAN", cursor, "COUNT", "10")
                seen.update(batch)
                if cursor == b"0":
                    break
                if deleted < 19000:
                    n = min(400, 19000 - deleted)
                    w.send(b"".join(H.encode_command("DEL", "junk:%d" % j) for j in range(deleted, deleted + n)))
                    for _ in range(n):
                        w.read_raw()
                    deleted += n
            assert cursor == b"0"
    missing = stable - seen
    assert not missing, "%d stable keys never returned, e.g. %r" % (len(missing), sorted(missing)[:5])


def _thread_cpu(pid):
    """CPU ticks (user + system) of each thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out[tid] = int(fields[11]) + int(fields[12])
    return out


@kasi_only
def test_connections_spread_over_workers(server_factory):
    """Connections opened one after another on an idle server (as a client
    pool opens them) are spread over the worker threads: each of four
    connections then runs a burst of work that costs the server much and
    the client little (BITCOUNT of its own 8 MB string), and both workers do
    a share of it. (EPOLLEXCLUSIVE alone wakes the same idle worker every
    time.)"""
    s = server_factory([("threads", "2"), ("save", "")])
    conns = [s.raw(timeout=60 * H.TIME_FACTOR) for _ in range(4)]
    try:
        for i, c in enumerate(conns):
            assert c.cmd_raw("SETBIT", "big%d" % i, 8 * 8 * 1024 * 1024 - 1, 1) == b":0\r\n"
        before = _thread_cpu(s.pid)
        for i, c in enumerate(conns):
            c.send(H.encode_command("BITCOUNT", "big%d" % i) * 40)
        for c in conns:
            for _ in range(40):
                assert c.read_raw() == b":1\r\n"
        used = sorted((t - before.get(tid, 0) for tid, t in _thread_cpu(s.pid).items()), reverse=True)
        assert used[0] >= 5, "too little work to tell: CPU ticks per thread %r" % used
        assert used[1] >= used[0] * 0.25, "one worker did it all: CPU ticks per thread %r" % used
    finally:
        for c in conns:
            c.close()
