"""RESP parsing robustness: protocol errors, split frames, pipelining, big values, slow/huge clients."""
import os
import random
import socket
import threading
import time

import pytest

import kasi_harness as H
from kasi_harness import OK, bulk

PROTO_ERRORS = [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*1x\r\n", "invalid multibulk length"),
    (b"*3000000000\r\n", "invalid multibulk length"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b"*1\r\n$-5\r\n", "invalid bulk length"),
    (b"*1\r\n$600000000\r\n", "invalid bulk length"),  # > proto-max-bulk-len (512mb)
    (b"*1\r\nx3\r\nfoo\r\n", "expected '$', got 'x'"),
    (b"*2\r\n$4\r\nECHO\r\n:5\r\n", "expected '$', got ':'"),
    (b'SET "abc xyz\r\n', "unbalanced quotes in request"),
    (b"SET 'abc\r\n", "unbalanced quotes in request"),
    (b'SET "a"b c\r\n', "unbalanced quotes in request"),
    (b"x" * 70000, "too big inline request"),
    (b"*" + b"1" * 70000, "too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 70000, "too big bulk count string"),
]


@pytest.mark.parametrize("frame,msg", PROTO_ERRORS, ids=[m + "-%d" % i for i, (_, m) in enumerate(PROTO_ERRORS)])
def test_protocol_error(srv, frame, msg):
    with srv.raw() as bystander:
        bystander.cmd_raw("SET", "safe", "1")
        c = srv.raw()
        try:
            # a valid command first, in the same packet, must still be answered
            c.send(H.encode_command("PING") + frame)
            data, closed = c.read_until_closed(5)
        finally:
            c.close()
        assert data == b"+PONG\r\n-ERR Protocol error: " + msg.encode() + b"\r\n"
        assert closed, "connection not closed after protocol error"
        # other clients unaffected
        assert bystander.cmd_raw("GET", "safe") == bulk("1")
        assert bystander.cmd_raw("PING") == b"+PONG\r\n"


def test_bulk_limit_configurable(server_factory):
    s = server_factory({"proto-max-bulk-len": "1mb"})
    with s.raw() as c:
        assert c.cmd_raw("SET", "k", b"x" * (1024 * 1024)) == OK
    c = s.raw()
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (1024 * 1024 + 1))
    data, closed = c.read_until_closed(5)
    c.close()
    assert data == b"-ERR Protocol error: invalid bulk length\r\n"
    assert closed


def test_client_query_buffer_limit(server_factory):
    s = server_factory({"client-query-buffer-limit": "1mb"})
    c = s.raw()
    try:
        c.send(H.encode_command("SET", "qb", b"x" * (3 * 1024 * 1024)))
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = c.read_until_closed(5)
    c.close()
    assert closed, "client exceeding client-query-buffer-limit not closed"
    assert data == b"" or data.startswith(b"-ERR"), data
    with s.raw() as other:
        assert other.cmd_raw("EXISTS", "qb") == b":0\r\n"
        assert other.cmd_raw("SET", "small", b"y" * 100000) == OK


def test_inline_commands(raw):
    raw.send(b"PING\r\n")
    assert raw.read_raw() == b"+PONG\r\n"
    raw.send(b"SET inl  value\n")
    assert raw.read_raw() == OK
    raw.send(b'SET "a key" "v\\x41\\n\\"q"\r\n')
    assert raw.read_raw() == OK
    assert raw.cmd_raw("GET", "a key") == bulk('vA\n"q')
    raw.send(b"SET sq 'it''s'\r\n")
    reply = raw.read_raw()
    assert reply.startswith(b"-ERR Protocol error: unbalanced quotes") or reply == OK
    if reply == OK:
        assert raw.cmd_raw("GET", "sq") is not None


def test_inline_single_quotes_and_empty_lines(raw):
    raw.send(b"\r\n\r\n   \r\nSET k 'a b'\r\nGET k\r\n")
    assert raw.read_raw() == OK
    assert raw.read_raw() == bulk("a b")


def test_empty_multibulk_ignored(raw):
    raw.send(b"*0\r\n*-1\r\n" + H.encode_command("PING"))
    assert raw.read_raw() == b"+PONG\r\n"


def test_split_at_every_byte(srv):
    pipeline = (H.encode_command("SET", "split", "hello\r\nworld") +
                H.encode_command("GET", "split") +
                b"PING\r\n" +
                H.encode_command("APPEND", "split", "!") +
                H.encode_command("MGET", "split", "nokey") +
                b"ECHO inline\r\n" +
                H.encode_command("INCRBY", "n", "-12"))
    expected = (b"+OK\r\n" + bulk("hello\r\nworld") + b"+PONG\r\n" + b":13\r\n" +
                b"*2\r\n" + bulk("hello\r\nworld!") + b"$-1\r\n" + bulk("inline") + b":-12\r\n")
    with srv.raw() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(pipeline)):
            c.send(pipeline[i:i + 1])
            if i % 3 == 0:
                time.sleep(0.0005)
        got = b""
        c.settimeout(5)
        deadline = time.monotonic() + 10
        while len(got) < len(expected) and time.monotonic() < deadline:
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            got += chunk
        assert got == expected


def test_split_at_every_position_two_chunks(srv):
    """Send a pipeline split in two at every possible offset."""
    pipeline = H.encode_command("SET", "k", "v1") + H.encode_command("GET", "k") + b"PING\r\n"
    expected = b"+OK\r\n$2\r\nv1\r\n+PONG\r\n"
    with srv.raw() as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for cut in range(1, len(pipeline)):
            c.send(pipeline[:cut])
            time.sleep(0.001)
            c.send(pipeline[cut:])
            got = b""
            deadline = time.monotonic() + 5
            while len(got) < len(expected) and time.monotonic() < deadline:
                got += c.sock.recv(65536)
            assert got == expected, cut


def test_pipeline_10k(srv):
    n = 10000
    buf = b"".join(H.encode_command("INCR", "ctr") for _ in range(n))
    buf += b"".join(H.encode_command("SET", "p%d" % i, "v%d" % i) for i in range(n))
    with srv.raw() as c:
        c.send(buf)
        for i in range(1, n + 1):
            assert c.read_raw() == b":%d\r\n" % i
        for i in range(n):
            assert c.read_raw() == OK
        assert c.cmd("DBSIZE") == n + 1


def test_redis_py_pipeline_10k(r):
    p = r.pipeline(transaction=False)
    for i in range(10000):
        p.set("rp%d" % i, i)
    assert all(p.execute())
    p = r.pipeline(transaction=False)
    for i in range(10000):
        p.get("rp%d" % i)
    res = p.execute()
    assert res == [str(i).encode() for i in range(10000)]


def test_big_value_10mb(r):
    val = os.urandom(1024) * (10 * 1024)
    assert r.set("big", val)
    assert r.strlen("big") == len(val)
    assert r.get("big") == val
    assert r.getrange("big", 5 * 1024 * 1024, 5 * 1024 * 1024 + 9) == val[5 * 1024 * 1024:5 * 1024 * 1024 + 10]
    assert r.append("big", b"tail") == len(val) + 4
    assert r.get("big")[-4:] == b"tail"


def test_big_value_raw_slow_sender(srv):
    """A 4 MB bulk sent in 64 KB chunks with pauses is assembled correctly."""
    val = bytes(range(256)) * (16 * 1024)
    frame = H.encode_command("SET", "slow", val)
    with srv.raw() as c, srv.raw() as other:
        for i in range(0, len(frame), 65536):
            c.send(frame[i:i + 65536])
            if i % (16 * 65536) == 0:
                assert other.cmd_raw("PING") == b"+PONG\r\n"
        assert c.read_raw() == OK
        assert c.cmd_raw("STRLEN", "slow") == b":%d\r\n" % len(val)


@pytest.mark.slow
def test_promised_huge_bulk_no_allocation(srv):
    """Clients promising 500 MB bulks but sending a few bytes must not blow up RSS."""
    rss0 = H.vmrss_kb(srv.pid)
    liars = []
    try:
        for i in range(4):
            c = srv.raw()
            c.send(b"*3\r\n$3\r\nSET\r\n$4\r\nhuge\r\n$500000000\r\n" + b"x" * 1000)
            liars.append(c)
        time.sleep(0.3)
        with srv.raw() as other:
            for _ in range(20):
                assert other.cmd_raw("PING") == b"+PONG\r\n"
            assert other.cmd_raw("SET", "ok", "1") == OK
        rss1 = H.vmrss_kb(srv.pid)
        assert rss1 - rss0 < 64 * 1024, "RSS grew from %d kB to %d kB" % (rss0, rss1)
    finally:
        for c in liars:
            c.close()
    with srv.raw() as other:
        assert other.cmd_raw("EXISTS", "huge") == b":0\r\n"


def test_client_that_never_reads(srv):
    """A client flooding requests without reading replies must not stall others."""
    with srv.raw() as setup:
        setup.cmd_raw("SET", "blob", b"z" * (256 * 1024))
    hog = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    hog.setblocking(False)
    req = H.encode_command("GET", "blob") * 50
    sent = 0
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and sent < 400 * len(H.encode_command("GET", "blob")):
            try:
                sent += hog.send(req)
            except BlockingIOError:
                time.sleep(0.01)
        with srv.raw(timeout=5) as other:
            for i in range(50):
                t0 = time.monotonic()
                assert other.cmd_raw("SET", "o%d" % i, "v") == OK
                assert other.cmd_raw("GET", "o%d" % i) == bulk("v")
                assert time.monotonic() - t0 < 2.0 * H.TIME_FACTOR
    finally:
        hog.close()
    with srv.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_many_concurrent_clients(srv):
    errors = []

    def worker(n):
        try:
            c = srv.raw()
            for i in range(100):
                assert c.cmd_raw("INCR", "shared") .startswith(b":")
                assert c.cmd_raw("SET", "w%d" % n, str(i)) == OK
            c.close()
        except Exception as e:  # noqa
            errors.append(repr(e))
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not errors
    with srv.raw() as c:
        assert c.cmd_raw("GET", "shared") == bulk("2000")


def test_abrupt_disconnects(srv):
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(H.encode_command("SET", "a%d" % i, "v")[: 5 + i % 20])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST
    with srv.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_nul_where_dollar_expected(srv):
    """Redis scans header lines with strchr(), so it never answers this frame
    (it waits for more input and closes on EOF).  A server that does answer
    must produce a complete error line: "got '\\x00'" with the closing quote,
    not a string cut at the NUL byte."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(b"*2\r\n\x00$1\r\nn\r\n")
        s.shutdown(socket.SHUT_WR)
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    assert data in (b"", b"-ERR Protocol error: expected '$', got '\x00'\r\n"), data


def test_promised_argument_count_is_not_allocated(srv):
    """A multibulk that promises a billion arguments and sends a few must
    not make the server reserve room for all of them."""
    import socket as _socket
    import kasi_harness as _H

    def vmsize_kb():   # reserved address space: overcommit hides a promise from RSS
        with open("/proc/%d/status" % srv.pid) as f:
            return int([l for l in f if l.startswith("VmSize")][0].split()[1])

    rss0, vm0 = _H.vmrss_kb(srv.pid), vmsize_kb()
    s = _socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        s.sendall(b"*1000000000\r\n" + b"$1\r\na\r\n" * 100)
        time.sleep(0.3)
        with srv.raw() as c:
            assert c.cmd_raw("PING") == b"+PONG\r\n"
        assert _H.vmrss_kb(srv.pid) - rss0 < 50 * 1024
        assert vmsize_kb() - vm0 < 1024 * 1024, "reserved %d kB" % (vmsize_kb() - vm0)
    finally:
        s.close()


@pytest.mark.kasi_only   # domains by name
def test_pipelined_keys_land_where_a_lone_request_finds_them(srv):
    """Kasi hashes the keys of the requests queued behind the one it runs
    (to fetch their table slots early) and reuses that hash for the lookup.
    A pipeline mixing domains, commands whose second argument is no key,
    inline requests, a transaction, keys of every length up to 300 bytes and
    requests split across reads must leave every key where a lone request,
    hashed afresh, finds it."""
    rng = random.Random(7)
    expect = {}
    cmds = []
    for i in range(3000):
        dom = ("default", "la1", "la2")[i % 3]
        key = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 7, 8, 15, 16, 40, 300))))
        key += b"%d" % i
        val = b"v%d" % i
        cmds.append(("SELECT", dom))
        kind = i % 7
        if kind == 0:
            cmds += [("ECHO", key), ("SET", key, val)]
        elif kind == 1:
            cmds += [("MULTI",), ("SET", key, b"x"), ("APPEND", key, val[1:]), ("EXEC",)]
            val = b"x" + val[1:]
        elif kind == 2:
            cmds += [("CONFIG", "GET", "maxmemory"), ("MSET", key, val, b"other%d" % i, b"o")]
            expect[(dom, b"other%d" % i)] = b"o"
        elif kind == 3:
            cmds += [("SET", key, b"old"), ("GETSET", key, val)]
        else:
            cmds += [("SET", key, val), ("GET", key)]
        expect[(dom, key)] = val
    wire = b"".join(H.encode_command(*c) for c in cmds)
    # inline requests between multibulk ones
    wire += b"SELECT default\r\nSET inline-key inline-val\r\nGET inline-key\r\n"
    expect[("default", b"inline-key")] = b"inline-val"
    with srv.raw(timeout=30 * H.TIME_FACTOR) as c:
        for off in range(0, len(wire), 7919):   # cut anywhere, requests included
            c.send(wire[off:off + 7919])
        for _ in range(len(cmds) + 3):
            assert not c.read_raw().startswith(b"-")
    with srv.raw() as c:
        for (dom, key), val in sorted(expect.items()):
            c.cmd_raw("SELECT", dom)
            assert c.cmd_raw("GET", key) == H.bulk(val), (dom, key)
        for dom in ("default", "la1", "la2"):
            c.cmd_raw("SELECT", dom)
            assert c.cmd("DBSIZE") == sum(1 for d, _ in expect if d == dom)
