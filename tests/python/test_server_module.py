"""kasi.Server / python -m kasi.server, and the seed README demo end to end."""

import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kasi import server as kserver
from kasi import errors
from conftest import REPO, IS_KASI, REDIS_COMPAT_PRELUDE, free_port

SERVER_DEMO = """\
from kasi import Server
Server.start_server(host='0.0.0.0', port=5000)
"""

CLIENT_DEMO = """\
from kasi import Client
from datetime import datetime, timedelta
client = Client.Client(host='localhost', port=5000)
client.reset()
client.set("D1", "test1", domain="X")
print(str(client.get("D1", domain="X")))
client.set("list", ['a', 'd'], timedelta(seconds=1))
client.set("text", 'hello', timedelta(hours=1), domain="default")
client.set("unicode1", u'2H₂ + O₂ ⇌ 2H₂O, R = 4.7 kΩ, ⌀ 200 mm')
client.set("unicode2", u'ก ข ฃ ค ฅ ฆ ง จ ฉ ช ซ ฌ ญ ฎ ฏ ')
print(str(client.get("list")))
print(str(client.get("text")))
print(str(client.get("unicode1")))
print(str(client.get("unicode2")))
print(str(client.get("not-existing")))
client.delete("D1", domain="X")
print(str(client.stats()))
client.shutdown()
"""

EXPECTED = [
    "test1",
    "['a', 'd']",
    "hello",
    "2H₂ + O₂ ⇌ 2H₂O, R = 4.7 kΩ, ⌀ 200 mm",
    "ก ข ฃ ค ฅ ฆ ง จ ฉ ช ซ ฌ ญ ฎ ฏ ",
    "None",
]


def demo_env(binary):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "python")
    env["PYTHONIOENCODING"] = "utf-8"
    if Path(binary).resolve() != (REPO / "bin" / "kasi-server").resolve():
        env["KASI_SERVER"] = binary  # else: found as the checkout's bin/kasi-server
    else:
        env.pop("KASI_SERVER", None)
    return env


def localize(script, port):
    # Same demo text; only the port (and, for the listener, loopback) differ.
    return script.replace("host='0.0.0.0'", "host='127.0.0.1'").replace(
        "port=5000", "port=%d" % port)


def run_demo(python, env, cwd, timeout=60):
    """Seed README demo as two processes; returns (client stdout lines, server rc)."""
    port = free_port()
    server_src = localize(SERVER_DEMO, port)
    client_src = localize(CLIENT_DEMO, port)
    if not IS_KASI:
        client_src = REDIS_COMPAT_PRELUDE + client_src
    srv = subprocess.Popen([python, "-c", server_src], env=env, cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        kserver.wait_until_ready("127.0.0.1", port, timeout=20, proc=srv)
        cl = subprocess.run([python, "-c", client_src], env=env, cwd=cwd,
                            capture_output=True, timeout=timeout)
        assert cl.returncode == 0, cl.stderr.decode(errors="replace")
        rc = srv.wait(15)
        return cl.stdout.decode("utf-8").splitlines(), rc, srv.stderr.read().decode(errors="replace")
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def check_demo_output(lines):
    assert lines[:6] == EXPECTED
    assert len(lines) == 7
    stats = eval(lines[6], {})  # the printed dict
    assert isinstance(stats, dict)
    assert {"uptime", "hits", "misses", "sets", "domains"} <= set(stats)
    assert stats["hits"] >= 5 and stats["misses"] >= 1
    if IS_KASI:
        assert stats["domains"]["default"]["keys"] == 4
        assert stats["sets"] >= 5


def test_seed_demo(binary, tmp_path):
    lines, rc, err = run_demo(sys.executable, demo_env(binary), tmp_path)
    check_demo_output(lines)
    assert rc == 0
    assert "Traceback" not in err


def _start_foreground(binary, tmp_path, code):
    port = free_port()
    extra = "" if IS_KASI else ", save=''"
    src = ("import sys\nfrom kasi import Server\n"
           "rc = Server.start_server(host='127.0.0.1', port=%d%s)\n%s\n" % (port, extra, code))
    p = subprocess.Popen([sys.executable, "-c", src], env=demo_env(binary), cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    kserver.wait_until_ready("127.0.0.1", port, timeout=20, proc=p)
    return p, port


def _port_closed(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("sig,group", [(signal.SIGINT, False), (signal.SIGTERM, False),
                                       (signal.SIGINT, True)],
                         ids=["SIGINT", "SIGTERM", "ctrl-c-to-process-group"])
def test_start_server_forwards_signals(binary, tmp_path, sig, group):
    p, port = _start_foreground(binary, tmp_path, "print('returned', rc)")
    if group:  # what a terminal does on Ctrl+C: signal the foreground group
        os.killpg(p.pid, sig)
    else:
        os.kill(p.pid, sig)
    out, err = p.communicate(timeout=15)
    assert p.returncode == 0, err
    assert b"returned 0" in out
    assert b"Traceback" not in err
    assert _port_closed(port)


def test_python_m_kasi_server(binary, tmp_path):
    port = free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1"] + ([] if IS_KASI else ["--save", ""])
    p = subprocess.Popen([sys.executable, "-m", "kasi.server"] + args, env=demo_env(binary),
                         cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        kserver.wait_until_ready("127.0.0.1", port, timeout=20, proc=p)
    finally:
        os.kill(p.pid, signal.SIGTERM)
        out, err = p.communicate(timeout=15)
    assert p.returncode == 0, err
    assert b"RuntimeWarning" not in err
    assert _port_closed(port)


def test_python_m_kasi_server_which(binary):
    r = subprocess.run([sys.executable, "-m", "kasi.server", "--which"], env=demo_env(binary),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).resolve() == Path(binary).resolve()


def test_daemonize(binary, tmp_path):
    port = free_port()
    pidfile = tmp_path / "kasi.pid"
    extra = {"save": "", "dir": str(tmp_path)}   # nothing left behind in the cwd
    t0 = time.monotonic()
    rc = kserver.start_server(host="127.0.0.1", port=port, binary=binary,
                              daemonize=True, pidfile=str(pidfile), **extra)
    assert rc == 0 and time.monotonic() - t0 < 10
    kserver.wait_until_ready("127.0.0.1", port, timeout=10)
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGTERM)
    for _ in range(200):
        if _port_closed(port):
            break
        time.sleep(0.05)
    assert _port_closed(port)


def test_start_server_unknown_directive_fails_fast(binary, tmp_path):
    rc = kserver.start_server(host="127.0.0.1", port=free_port(), binary=binary,
                              no_such_directive="1")
    assert rc != 0


@pytest.mark.skipif(not IS_KASI, reason="kasi-server directive")
def test_maxmemory_directive(spawn):
    from conftest import client_class
    sp = spawn(maxmemory="2mb")  # -> --maxmemory 2mb; default policy evicts
    c = client_class()(host="127.0.0.1", port=sp.port)
    for i in range(50):
        c.set("k%d" % i, os.urandom(100000), domain="D%d" % (i % 3))
    st = c.stats()
    assert 0 < st["keys"] < 50
    assert c.get("k49", domain="D1") is not None
    assert c.info("memory")["memory"]["used_memory"] <= 2 * 1024 * 1024 * 1.1


def test_directives_to_args():
    assert kserver.directives_to_args(
        {"maxmemory": "100mb", "requirepass": "pw", "daemonize": True,
         "max_domains": 8, "protected_mode": False, "skip": None, "save": ""}
    ) == ["--maxmemory", "100mb", "--requirepass", "pw", "--daemonize", "yes",
          "--max-domains", "8", "--protected-mode", "no", "--save", ""]
    assert kserver.directives_to_args({"client_output_buffer_limit": ["normal", 0, 0, 0]}) == \
        ["--client-output-buffer-limit", "normal", "0", "0", "0"]


def _exe(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_find_server_binary_order(tmp_path, monkeypatch):
    pkg = tmp_path / "repo" / "python" / "kasi"
    pkg.mkdir(parents=True)
    monkeypatch.setattr(kserver, "_PKG_DIR", str(pkg))
    monkeypatch.delenv("KASI_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(errors.ServerNotFound):
        kserver.find_server_binary()
    dev = _exe(tmp_path / "repo" / "bin" / "kasi-server")
    assert kserver.find_server_binary() == dev
    on_path = _exe(tmp_path / "pathdir" / "kasi-server")
    monkeypatch.setenv("PATH", str(tmp_path / "pathdir"))
    assert kserver.find_server_binary() == on_path
    env = _exe(tmp_path / "env" / "kasi-server")
    monkeypatch.setenv("KASI_SERVER", env)
    assert kserver.find_server_binary() == env
    bundled = _exe(pkg / "bin" / "kasi-server")
    assert kserver.find_server_binary() == bundled
    (pkg / "bin" / "kasi-server").unlink()
    monkeypatch.setenv("KASI_SERVER", str(tmp_path / "nope"))
    with pytest.raises(errors.ServerNotFound):
        kserver.find_server_binary()


def test_directives_to_args_protected_mode():
    assert kserver.directives_to_args({"protected_mode": "no"}) == ["--protected-mode", "no"]
    assert kserver.directives_to_args({"protected_mode": True}) == ["--protected-mode", "yes"]


# ------------------------------------------------------ protected-mode warning
PROTECTED_WORDS = ("protected mode", "-DENIED", "127.0.0.1", "::1", "unix socket",
                   "requirepass='...'", "protected_mode='no'")


@pytest.mark.parametrize("host,directives", [
    ("0.0.0.0", {}), ("::", {}), ("10.1.2.3", {}), ("example.org", {}),
    ("127.0.0.1 192.168.0.5", {}), ("127.0.0.1", {"bind": "0.0.0.0"}),
    ("0.0.0.0", {"requirepass": ""}), ("0.0.0.0", {"protected_mode": "yes"}),
])
def test_exposure_warning_says_what_protected_mode_does(host, directives):
    msg = kserver.exposure_warning(host, 5000, **directives)
    assert msg is not None
    for word in PROTECTED_WORDS:
        assert word in msg, word


@pytest.mark.parametrize("host,directives", [
    ("127.0.0.1", {}), ("127.9.8.7", {}), ("::1", {}), ("localhost", {}),
    ("127.0.0.1 -::1", {}), ("::ffff:127.0.0.1", {}), (None, {}),
    ("0.0.0.0", {"requirepass": "s3cret"}),
])
def test_no_exposure_warning(host, directives):
    assert kserver.exposure_warning(host, 5000, **directives) is None


def test_exposure_warning_protected_mode_off():
    msg = kserver.exposure_warning("0.0.0.0", 5000, protected_mode="no")
    assert "protected_mode='no'" in msg and "anyone" in msg and "requirepass" in msg
    assert kserver.exposure_warning("0.0.0.0", 5000, protected_mode=False) == msg


@pytest.fixture
def exits_at_once(tmp_path):
    """A stand-in server binary that exits at once (nothing is bound)."""
    path = tmp_path / "fake-kasi-server"
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def test_start_server_warns_on_public_bind(exits_at_once, caplog):
    with caplog.at_level(logging.WARNING, logger="kasi.server"):
        assert kserver.start_server(host="0.0.0.0", port=5000, binary=exits_at_once) == 0
    recs = [r for r in caplog.records if r.name == "kasi.server"]
    assert len(recs) == 1 and recs[0].levelno == logging.WARNING
    for word in PROTECTED_WORDS:
        assert word in recs[0].getMessage()
    assert kserver.start_server(binary=exits_at_once) == 0  # the default host too
    assert len([r for r in caplog.records if r.name == "kasi.server"]) == 2


@pytest.mark.parametrize("kw", [dict(host="127.0.0.1"), dict(host="::1"),
                                dict(host="0.0.0.0", requirepass="pw")])
def test_start_server_quiet_when_safe(exits_at_once, caplog, kw):
    with caplog.at_level(logging.DEBUG, logger="kasi.server"):
        assert kserver.start_server(port=5000, binary=exits_at_once, **kw) == 0
    assert [r for r in caplog.records if r.name == "kasi.server"] == []


def test_warning_on_stderr_when_logging_unconfigured(exits_at_once, tmp_path):
    """The seed demo's start_server(host='0.0.0.0') prints the warning with no
    logging setup at all (logging's lastResort handler)."""
    src = SERVER_DEMO.replace("port=5000)", "port=5000, binary=%r)" % exits_at_once)
    r = subprocess.run([sys.executable, "-c", src], env=demo_env(exits_at_once), cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "protected mode" in r.stderr and "-DENIED" in r.stderr
    assert "Traceback" not in r.stderr
