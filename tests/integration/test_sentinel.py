"""Debian's redis-sentinel 7.0 monitoring the server: two sentinels see the
master up, discover each other through the `__sentinel__:hello` channel on
it, and each keeps one command and one pub/sub connection to it, without a
reconnection, for longer than Sentinel's pub/sub idle limit (3 hello
periods, 6 s). What the sentinels send (seen through MONITOR) is replayed to
check that the server answers every one of those commands without an error.

The same test runs against redis-server (param "redis") to show that it is
valid. It is skipped only when redis-sentinel is not installed
(tests/install-deps.sh installs Debian's package redis-sentinel)."""
import os
import re
import shutil
import time

import pytest

import kasi_harness as H

SENTINEL = os.environ.get("REDIS_SENTINEL") or shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
NSENTINELS = 2
# Sentinel closes a link whose PING waits for more than half of this, and
# flags the master s_down after all of it without a valid reply.
DOWN_AFTER_MS = int(2000 * H.TIME_FACTOR)
# Longer than Sentinel's limit for a silent pub/sub link (3 x the 2 s hello
# period), after which it would drop and reconnect it; deliberately not
# scaled, so that the limit is crossed whatever the build.
WATCH_SECONDS = 7.0
# Sentinel's own events that mean the master or a link went down, or the
# server restarted, or a failover started; debug level logs the two
# link reconnections.
BAD_EVENTS = ("+sdown", "-sdown", "+odown", "-odown", "+reboot", "+failover", "+try-failover",
              "-cmd-link-reconnection", "-pubsub-link-reconnection", "+switch-master")
# Everything Sentinel sends to a master it monitors and does not fail over.
MONITOR_COMMANDS = {"PING", "INFO", "CLIENT SETNAME", "SUBSCRIBE", "PUBLISH"}


class SentinelProcess(H.ServerProcess):
    """redis-sentinel with its own config file (Sentinel rewrites it)."""

    def build_argv(self):
        return [self.binary, self.config_path]


def sentinel_config(port, workdir, master_port):
    return "\n".join([
        "port %d" % port,
        "bind 127.0.0.1",
        "daemonize no",
        'logfile ""',
        "loglevel debug",
        "dir %s" % workdir,
        "sentinel monitor mymaster 127.0.0.1 %d 2" % master_port,
        "sentinel down-after-milliseconds mymaster %d" % DOWN_AFTER_MS,
        "sentinel failover-timeout mymaster 60000",
        ""])


def pairs(reply):
    """A flat [name, value, ...] reply as a dict of str."""
    it = iter(x.decode() if isinstance(x, bytes) else x for x in reply)
    return dict(zip(it, it))


def info_fields(text):
    return dict(line.split(":", 1) for line in text.decode().split("\r\n") if ":" in line)


def links_to(pid, port):
    """The local ports of pid's established TCP connections to 127.0.0.1:port,
    from /proc (the sentinel's sockets, whichever server it talks to)."""
    return {H.socket_port(parts[1]) for parts in H.tcp_sockets(pid)
            if parts[3] == "01" and parts[2] == "0100007F:%04X" % port}


MONITOR_LINE = re.compile(r'^\+?\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$')
MONITOR_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unquote(s):
    out, i = bytearray(), 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b"}.get(nxt, nxt.encode())
            i += 2
            continue
        out += ch.encode()
        i += 1
    return bytes(out)


def monitor_commands(data):
    """MONITOR's lines as (client address, [args as bytes])."""
    out = []
    for line in data.decode("utf-8", "replace").split("\r\n"):
        m = MONITOR_LINE.match(line)
        if m:
            out.append((m.group(1), [unquote(a) for a in MONITOR_ARG.findall(m.group(2))]))
    return out


def command_name(args):
    name = args[0].decode().upper()
    if name == "CLIENT" and len(args) > 1:
        name += " " + args[1].decode().upper()
    return name


def read_available(conn, seconds):
    """Everything conn received until it is silent for `seconds`."""
    conn.settimeout(seconds)
    data = conn.buf
    conn.buf = b""
    while True:
        try:
            chunk = conn.sock.recv(65536)
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["kasi", "redis"])
def test_sentinels_monitor_discover_each_other_and_keep_their_links(kind, server_factory, tmp_path):
    if not os.access(SENTINEL, os.X_OK):
        pytest.skip("redis-sentinel is not installed (sh tests/install-deps.sh)")
    if kind == "kasi" and H.TARGET == "redis":
        pytest.skip("KASI_TEST_TARGET=redis: the redis param covers it")
    if kind == "redis" and (H.SANITIZED or os.environ.get("KASI_SERVER_ARGS")):
        pytest.skip("the reference run belongs to the plain pass: it is the same run in every other")
    srv = server_factory({"bind": "127.0.0.1"}, kind=kind)
    c = srv.raw()
    mon = srv.raw()
    mon.send_command("MONITOR")
    assert mon.read() == b"OK"

    sentinels = []
    failed = True
    try:
        for i in range(NSENTINELS):
            port = H.free_port()
            wd = tmp_path / ("sentinel%d" % i)
            wd.mkdir()
            sentinels.append(SentinelProcess("sentinel", wd, binary=SENTINEL, port=port,
                                             config_text=sentinel_config(port, wd, srv.port)))
        run_sentinels(srv, c, mon, sentinels)
        failed = False
    finally:
        H.stop_servers(sentinels, failed)
        c.close()
        mon.close()


def master_state(sentinel):
    with sentinel.raw(timeout=5 * H.TIME_FACTOR) as sc:
        return pairs(sc.cmd("SENTINEL", "MASTER", "mymaster")), sc.cmd("SENTINEL", "SENTINELS", "mymaster")


def run_sentinels(srv, c, mon, sentinels):
    n = len(sentinels)
    info = info_fields(c.cmd("INFO"))
    # What Sentinel reads in INFO from a master.
    assert info["role"] == "master"
    assert info["connected_slaves"] == "0"
    assert re.fullmatch(r"[0-9a-f]{40}", info.get("run_id", "")), "INFO has no run_id"
    assert info["master_repl_offset"] == "0"
    run_id = info["run_id"]

    # Each sentinel sees the master up and, through the hello channel, all
    # the others.
    def discovered():
        for s in sentinels:
            m, others = master_state(s)
            if m["flags"] != "master" or m["num-other-sentinels"] != str(n - 1):
                return False
            others = [pairs(o) for o in others]
            if sorted(int(o["port"]) for o in others) != sorted(t.port for t in sentinels if t is not s):
                return False
            if any(o["flags"] != "sentinel" for o in others):   # not yet connected to it
                return False
        return True
    assert H.wait_for(discovered, 15, interval=0.2), [master_state(s) for s in sentinels]
    for s in sentinels:
        m, others = master_state(s)
        assert m["runid"] == run_id
        assert m["role-reported"] == "master"
        assert m["ip"] == "127.0.0.1" and m["port"] == str(srv.port)
        for o in others:
            o = pairs(o)
            assert o["flags"] == "sentinel" and o["ip"] == "127.0.0.1"
    assert c.cmd("PUBSUB", "NUMSUB", "__sentinel__:hello") == [b"__sentinel__:hello", n]

    # Watch for longer than Sentinel tolerates a silent pub/sub link: the
    # master stays up, each sentinel keeps its two connections (the same
    # local ports), and the server accepts no new connection.
    links = {s.pid: links_to(s.pid, srv.port) for s in sentinels}
    assert all(len(v) == 2 for v in links.values()), links
    accepted = info_fields(c.cmd("INFO", "stats"))["total_connections_received"]
    deadline = time.monotonic() + WATCH_SECONDS
    samples = 0
    while time.monotonic() < deadline:
        for s in sentinels:
            m, _ = master_state(s)
            assert m["flags"] == "master", m
            assert m["num-other-sentinels"] == str(n - 1), m
            assert int(m["last-ok-ping-reply"]) < DOWN_AFTER_MS, m
            assert links_to(s.pid, srv.port) == links[s.pid]
        assert c.cmd("PUBSUB", "NUMSUB", "__sentinel__:hello") == [b"__sentinel__:hello", n]
        assert info_fields(c.cmd("INFO", "stats"))["total_connections_received"] == accepted
        samples += 1
        time.sleep(0.25)
    assert samples >= 10
    check_client_list(c, sentinels)

    for s in sentinels:
        log = s.log_text(200000)
        bad = [line for line in log.splitlines() if any(" %s " % e in line for e in BAD_EVENTS)]
        assert not bad, bad
        assert log.count("+sentinel sentinel ") == n - 1, log

    # What the sentinels sent: only the monitoring commands, all of them,
    # and the server answers each without an error.
    seen = monitor_commands(read_available(mon, 0.5))
    addrs = {a for a, args in seen if command_name(args) == "CLIENT SETNAME"
             and args[2].startswith(b"sentinel-")}
    assert len(addrs) == 2 * n, seen
    sent = [args for a, args in seen if a in addrs]
    assert {command_name(a) for a in sent} == MONITOR_COMMANDS, sent
    replayed = set()
    for args in sent:
        key = tuple(args)
        if key in replayed:
            continue
        replayed.add(key)
        with srv.raw() as r:
            reply = r.cmd(*args)
            assert not isinstance(reply, H.RespError), (args, reply)
            if command_name(args) == "SUBSCRIBE":
                assert reply == [b"subscribe", args[1], 1]


def check_client_list(c, sentinels):
    """Where the server has CLIENT LIST (redis-server; not Kasi yet): one
    pub/sub connection per sentinel, named as Sentinel names it, with its
    one subscription."""
    reply = c.cmd("CLIENT", "LIST")
    if isinstance(reply, H.RespError):
        return
    clients = [dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
               for line in reply.decode().splitlines()]
    names = [cl["name"] for cl in clients if cl["name"].startswith("sentinel-")]
    assert len(names) == 2 * len(sentinels), clients
    pubsub = [cl for cl in clients if cl["name"].endswith("-pubsub")]
    assert len(pubsub) == len(sentinels)
    assert all(cl["sub"] == "1" and "P" in cl["flags"] for cl in pubsub), pubsub
