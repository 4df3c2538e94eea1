"""Process-level behaviour: CLI, config, startup errors, daemon, signals, unix socket, timeout."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import kasi_harness as H
from kasi_harness import OK, bulk

kasi_only = pytest.mark.kasi_only


def server_exe():
    return H.REDIS_SERVER if H.TARGET == "redis" else H.KASI_SERVER


def run_server(args, timeout=10):
    return subprocess.run([server_exe()] + args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


@pytest.fixture
def shortdir():
    """A short directory (unix socket paths must be < 108 bytes)."""
    d = tempfile.mkdtemp(prefix="kt", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- CLI

@kasi_only
def test_version_flag():
    p = run_server(["--version"])
    assert p.returncode == 0, p
    assert b"kasi" in (p.stdout + p.stderr).lower()


@kasi_only
def test_help_flag():
    p = run_server(["--help"])
    assert p.returncode == 0, p
    out = (p.stdout + p.stderr).lower()
    assert b"usage" in out or b"kasi-server" in out


@pytest.mark.parametrize("args,needle", [
    (["--no-such-directive", "1"], "no-such-directive"),
    (["--port", "abc"], "port"),
    (["--port", "70000"], "port"),
    (["--daemonize", "maybe"], "daemonize"),
    (["--loglevel", "loud"], "loglevel"),
    (["--maxclients", "-5"], "maxclients"),
    (["--timeout", "x"], "timeout"),
])
def test_startup_errors(args, needle):
    p = run_server(["--port", "0"] + args if args[0] != "--port" else args)
    assert p.returncode != 0, (args, p)
    err = (p.stderr + p.stdout).decode("utf-8", "replace")
    assert needle in err, err


@kasi_only
@pytest.mark.parametrize("args,needle", [
    (["--max-domains", "abc"], "max-domains"),
    (["--threads", "many"], "threads"),
    (["--proto-max-bulk-len", "huge"], "proto-max-bulk-len"),
])
def test_startup_errors_kasi_directives(args, needle):
    p = run_server(["--port", "0"] + args)
    assert p.returncode != 0, (args, p)
    err = (p.stderr + p.stdout).decode("utf-8", "replace")
    assert needle in err, err


def test_bad_config_file_directive(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("port 0\nthis-is-not-a-directive yes\n")
    p = run_server([str(conf)])
    assert p.returncode != 0
    assert "this-is-not-a-directive" in (p.stderr + p.stdout).decode("utf-8", "replace")


def test_missing_config_file(tmp_path):
    p = run_server([str(tmp_path / "does-not-exist.conf")])
    assert p.returncode != 0


def test_port_in_use(server_factory):
    a = server_factory()
    p = run_server(["--port", str(a.port), "--bind", "127.0.0.1"])
    assert p.returncode != 0
    assert a.alive()


def test_config_file_and_flag_override(server_factory):
    port = H.free_port()
    s = server_factory([("maxclients", "60")],
                       config_text="# comment\nport %d\nmaxclients 50\ntimeout 0\n\nloglevel notice\n" % port,
                       use_port=False, port=port)
    assert s.port == port
    with s.raw() as c:
        assert c.cmd("CONFIG", "GET", "maxclients") == [b"maxclients", b"60"]
        assert c.cmd("CONFIG", "GET", "port") == [b"port", str(port).encode()]


def test_config_file_requirepass(server_factory):
    port = H.free_port()
    s = server_factory(None, config_text="port %d\nrequirepass \"from file\"\n" % port, use_port=False, port=port)
    with s.raw() as c:
        assert c.cmd_raw("GET", "x").startswith(b"-NOAUTH")
        assert c.cmd_raw("AUTH", "from file") == OK


# ---------------------------------------------------------------- logging

LOGLINE = re.compile(r"^(\d+):([A-Z]) \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] .+$")


def test_logfile_format(server_factory, tmp_path):
    log = tmp_path / "server.log"
    s = server_factory({"logfile": str(log), "loglevel": "notice"})
    with s.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
    # the line may be written just after the listener starts answering: poll
    assert H.wait_for(lambda: log.exists() and "Ready to accept connections" in log.read_text(), 3), \
        log.read_text() if log.exists() else "no log file"
    lines = [l for l in log.read_text().splitlines() if l.strip()]
    matched = [LOGLINE.match(l) for l in lines]
    good = [m for m in matched if m]
    assert good, lines
    assert all(int(m.group(1)) == s.pid for m in good)
    assert any("Ready to accept connections" in l for l in lines), lines


# ---------------------------------------------------------------- signals / shutdown

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_clean_shutdown(server_factory, sig):
    s = server_factory()
    with s.raw() as c:
        c.cmd_raw("SET", "k", "v")
    s.proc.send_signal(sig)
    assert s.proc.wait(10) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", s.port), timeout=1).close()


def test_unix_socket(server_factory, shortdir):
    path = os.path.join(shortdir, "k.sock")
    s = server_factory([("port", "0"), ("unixsocket", path)])
    assert os.path.exists(path)
    with H.RawConn(unix_path=path) as c:
        assert c.cmd_raw("SET", "k", "v") == OK
        assert c.cmd_raw("GET", "k") == bulk("v")
    cl = s.client()
    assert cl.get("k") == b"v"
    cl.close()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert not os.path.exists(path), "unix socket not removed on shutdown"


def test_unix_socket_and_tcp(server_factory, shortdir):
    path = os.path.join(shortdir, "k.sock")
    s = server_factory([("unixsocket", path)])
    with H.RawConn(unix_path=path) as u, s.raw() as t:
        u.cmd_raw("SET", "shared", "1")
        assert t.cmd_raw("GET", "shared") == bulk("1")


def test_bind_ipv6_and_ipv4(server_factory):
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback")
    s = server_factory({"bind": "127.0.0.1 ::1"})
    with H.RawConn(s.port, host="::1") as c6, H.RawConn(s.port, host="127.0.0.1") as c4:
        c6.cmd_raw("SET", "v6", "yes")
        assert c4.cmd_raw("GET", "v6") == bulk("yes")


def _read_pid(path):
    try:
        with open(path) as f:
            txt = f.read().strip()
        return int(txt) if txt else None
    except (OSError, ValueError):
        return None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_daemonize_pidfile_signal(tmp_path, shortdir, sig):
    pidfile = os.path.join(shortdir, "kasi.pid")
    sock = os.path.join(shortdir, "d.sock")
    log = str(tmp_path / "daemon.log")
    port = H.free_port()
    argv = [server_exe(), "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
            "--pidfile", pidfile, "--logfile", log, "--unixsocket", sock]
    argv += ["--dir", shortdir]   # where a final snapshot goes
    if H.TARGET == "redis":
        argv += ["--save", "", "--appendonly", "no"]
    pid = None
    try:
        t0 = time.monotonic()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        assert p.returncode == 0, p
        assert time.monotonic() - t0 < 5
        pid = H.wait_for(lambda: _read_pid(pidfile), 5)
        assert pid, "pidfile not written"
        assert pid != p.returncode and H.pid_alive(pid)

        def pong():
            try:
                with H.RawConn(port, timeout=1) as c:
                    return c.cmd_raw("PING") == b"+PONG\r\n"
            except OSError:
                return False
        assert H.wait_for(pong, 5), open(log).read() if os.path.exists(log) else "no log"
        with H.RawConn(port) as c:
            assert c.cmd_raw("SET", "d", "1") == OK
        with H.RawConn(unix_path=sock) as c:
            assert c.cmd_raw("GET", "d") == bulk("1")
            assert c.cmd("INFO", "server").decode().find("process_id:%d\r\n" % pid) >= 0
        os.kill(pid, sig)
        assert H.wait_for(lambda: not H.pid_alive(pid), 10), "daemon did not exit on %s" % sig.name
        assert H.wait_for(lambda: not os.path.exists(pidfile), 2), "pidfile not removed"
        assert not os.path.exists(sock), "unix socket not removed"
        pid = None
    finally:
        if pid and H.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_pidfile_foreground(server_factory, shortdir):
    pidfile = os.path.join(shortdir, "fg.pid")
    s = server_factory({"pidfile": pidfile})
    assert H.wait_for(lambda: _read_pid(pidfile), 3) == s.pid
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert not os.path.exists(pidfile)


# ---------------------------------------------------------------- client limits

def test_idle_timeout(server_factory):
    s = server_factory({"timeout": "1"})
    idle = s.raw()
    busy = s.raw()
    assert idle.cmd_raw("PING") == b"+PONG\r\n"
    t0 = time.monotonic()
    # keep `busy` active, expect `idle` to be closed within ~1 s + cron slack
    closed = False
    for _ in range(60):
        assert busy.cmd_raw("PING") == b"+PONG\r\n"
        idle.settimeout(0.1)
        try:
            data = idle.sock.recv(100)
            if data == b"":
                closed = True
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
            break
        if time.monotonic() - t0 > 5:
            break
    elapsed = time.monotonic() - t0
    assert closed, "idle client not closed after %.1fs" % elapsed
    assert elapsed >= 0.9, "closed too early (%.2fs)" % elapsed
    assert busy.cmd_raw("PING") == b"+PONG\r\n"
    idle.close()
    busy.close()


def test_timeout_zero_keeps_clients(server_factory):
    s = server_factory({"timeout": "0"})
    c = s.raw()
    c.cmd_raw("PING")
    time.sleep(1.5)
    assert c.cmd_raw("PING") == b"+PONG\r\n"
    c.close()


def test_maxclients(server_factory):
    s = server_factory({"maxclients": "3"})
    first = s.raw()

    def only_me():
        txt = first.cmd("INFO", "clients").decode()
        return "connected_clients:1\r\n" in txt
    # the startup probe's connection may not be reaped yet: wait until it is
    assert H.wait_for(only_me, 3, 0.02)
    conns = [first, s.raw(), s.raw()]
    for c in conns:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
    extra = s.raw()
    data, closed = extra.read_until_closed(3)
    assert closed
    assert data == b"-ERR max number of clients reached\r\n"
    extra.close()
    conns[0].close()

    def can_connect():
        c = s.raw()
        try:
            return c.cmd_raw("PING") == b"+PONG\r\n"
        except (OSError, H.ConnectionClosed):
            return False
        finally:
            c.close()
    assert H.wait_for(can_connect, 3, 0.05)
    for c in conns[1:]:
        c.close()


@kasi_only
def test_threads_directive(server_factory):
    s = server_factory({"threads": "4"})
    import threading
    errors = []

    def worker(n):
        try:
            c = s.client()
            for i in range(300):
                c.set("t%d:%d" % (n, i), i)
            for i in range(300):
                assert c.get("t%d:%d" % (n, i)) == str(i).encode()
            c.close()
        except Exception as e:  # noqa
            errors.append(e)
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not errors, errors
    c = s.client()
    assert c.dbsize() == 2400
    c.close()


def test_loglevel_warning_runs(server_factory):
    s = server_factory({"loglevel": "warning", "hz": "50"})
    with s.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def _listening_tcp_ports(pid):
    return {H.socket_port(parts[1]) for parts in H.tcp_sockets(pid) if parts[3] == "0A"}


def test_port_zero_disables_tcp(server_factory, shortdir):
    path = os.path.join(shortdir, "p0.sock")
    s = server_factory([("port", "0"), ("unixsocket", path)])
    assert _listening_tcp_ports(s.pid) == set()
    with H.RawConn(unix_path=path) as c:
        assert c.cmd("CONFIG", "GET", "port") == [b"port", b"0"]


def test_listens_only_on_requested_port(server_factory):
    s = server_factory()
    assert _listening_tcp_ports(s.pid) == {s.port}


def test_bind_unavailable_address_fails():
    # 192.0.2.1 is TEST-NET-1: never configured locally, so bind() must fail.
    p = run_server(["--port", str(H.free_port()), "--bind", "192.0.2.1"])
    assert p.returncode != 0


def test_shutdown_save(server_factory):
    s = server_factory()
    c = s.raw()
    c.send_command("SHUTDOWN", "SAVE")
    _, closed = c.read_until_closed(5)
    c.close()
    assert closed
    assert s.proc.wait(10) == 0


def test_daemon_shutdown_needs_auth(tmp_path, shortdir):
    pidfile = os.path.join(shortdir, "auth.pid")
    port = H.free_port()
    argv = [server_exe(), "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
            "--pidfile", pidfile, "--requirepass", "dpw", "--logfile", str(tmp_path / "d.log")]
    argv += ["--dir", shortdir]   # where a final snapshot goes
    if H.TARGET == "redis":
        argv += ["--save", "", "--appendonly", "no"]
    pid = None
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        assert p.returncode == 0, p
        pid = H.wait_for(lambda: _read_pid(pidfile), 5)
        assert pid

        def up():
            try:
                with H.RawConn(port, timeout=1) as c:
                    return c.cmd_raw("PING").startswith(b"-NOAUTH")
            except OSError:
                return False
        assert H.wait_for(up, 5)
        with H.RawConn(port) as c:
            assert c.cmd_raw("SHUTDOWN").startswith(b"-NOAUTH")
        assert H.pid_alive(pid)
        with H.RawConn(port) as c:
            assert c.cmd_raw("AUTH", "dpw") == OK
            c.send_command("SHUTDOWN", "NOSAVE")
            _, closed = c.read_until_closed(5)
            assert closed
        assert H.wait_for(lambda: not H.pid_alive(pid), 10)
        assert H.wait_for(lambda: not os.path.exists(pidfile), 2)
        pid = None
    finally:
        if pid and H.pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
