"""Shared helpers for the Kasi black-box test suites.

Starts real server processes (kasi-server or redis-server) on free loopback
ports, and provides a tiny raw RESP client that returns the exact reply bytes.

Nothing here mocks anything: every helper talks to a real process over a real
socket.  All waits are bounded by explicit deadlines.
"""
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time

KASI_SERVER = os.environ.get("KASI_SERVER", "/work/main/bin/kasi-server")
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")
REDIS_CLI = os.environ.get("REDIS_CLI", "/usr/bin/redis-cli")
REDIS_BENCHMARK = os.environ.get("REDIS_BENCHMARK", "/usr/bin/redis-benchmark")

# "kasi" (default) or "redis": which server the integration tests target.
TARGET = os.environ.get("KASI_TEST_TARGET", "kasi").strip().lower() or "kasi"

# Sanitizer builds (KASI_ASAN=1, or a binary named *asan*/*tsan*) are several
# times slower: every deadline in the suite is multiplied by TIME_FACTOR
# (override with KASI_TIME_FACTOR).  Contract timings such as "active expiry
# within 2 s" are therefore enforced strictly only on optimised builds.
SANITIZED = (os.environ.get("KASI_ASAN", "") not in ("", "0")
             or any(t in os.path.basename(KASI_SERVER) for t in ("asan", "tsan")))
TIME_FACTOR = float(os.environ.get("KASI_TIME_FACTOR", "4" if SANITIZED and TARGET == "kasi" else "1"))

START_TIMEOUT = float(os.environ.get("KASI_START_TIMEOUT", "10")) * TIME_FACTOR
STOP_TIMEOUT = 5.0


def free_port(host="127.0.0.1"):
    """Bind port 0 on loopback, read the port the kernel chose, release it."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists"; treat it as dead.
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def wait_for(pred, timeout, interval=0.01):
    """Poll pred() until truthy or timeout (scaled by TIME_FACTOR); returns the last value."""
    deadline = time.monotonic() + timeout * TIME_FACTOR
    val = pred()
    while not val and time.monotonic() < deadline:
        time.sleep(interval)
        val = pred()
    return val


def expire_together(c, keys, load_seconds):
    """Give every key in keys one shared absolute expiry (PEXPIREAT) and return it in ms.

    The moment lies twice load_seconds (how long the caller took to write
    those keys) plus 0.3 s ahead, so that sending the PEXPIREATs, which is
    slow under the sanitizers, finishes before any key expires."""
    at = int(time.time() * 1000) + int(1000 * (2 * load_seconds + 0.3))
    p = c.pipeline(transaction=False)
    for i, k in enumerate(keys):
        p.pexpireat(k, at)
        if i % 2000 == 1999:
            p.execute()
            p = c.pipeline(transaction=False)
    p.execute()
    return at


def vmrss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


# --------------------------------------------------------------------------
# Raw RESP connection
# --------------------------------------------------------------------------

def encode_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        elif isinstance(a, float):
            a = repr(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class ConnectionClosed(Exception):
    pass


class RawConn:
    """Minimal RESP2 client that keeps exact reply bytes."""

    def __init__(self, port=None, host="127.0.0.1", unix_path=None, timeout=10.0):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix_path)
        else:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        self.sock.sendall(data)

    def send_command(self, *args):
        self.sock.sendall(encode_command(*args))

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionClosed("server closed the connection; buffered=%r" % self.buf[:200])
        self.buf += chunk

    def _readline(self, pos):
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            self._fill()

    def _reply_end(self, pos):
        """Return end offset of the complete reply starting at pos."""
        while len(self.buf) <= pos:
            self._fill()
        t = self.buf[pos:pos + 1]
        eol = self._readline(pos)
        if t in (b"+", b"-", b":"):
            return eol + 2
        if t == b"$":
            n = int(self.buf[pos + 1:eol])
            if n < 0:
                return eol + 2
            end = eol + 2 + n + 2
            while len(self.buf) < end:
                self._fill()
            return end
        if t == b"*":
            n = int(self.buf[pos + 1:eol])
            p = eol + 2
            for _ in range(max(n, 0)):
                p = self._reply_end(p)
            return p
        raise ValueError("bad RESP type byte %r in %r" % (t, self.buf[pos:pos + 80]))

    def read_raw(self):
        """Read one complete reply and return its exact bytes."""
        end = self._reply_end(0)
        raw, self.buf = self.buf[:end], self.buf[end:]
        return raw

    def read(self):
        return parse_reply(self.read_raw())

    def cmd_raw(self, *args):
        self.send_command(*args)
        return self.read_raw()

    def cmd(self, *args):
        self.send_command(*args)
        return self.read()

    def read_until_closed(self, timeout=5.0):
        """Read everything until EOF; returns (data, closed)."""
        self.sock.settimeout(0.2)
        deadline = time.monotonic() + timeout
        data = self.buf
        self.buf = b""
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return data, True
            if not chunk:
                return data, True
            data += chunk
        return data, False

    def is_closed(self, timeout=3.0):
        _, closed = self.read_until_closed(timeout)
        return closed


class RespError(Exception):
    pass


def parse_reply(raw):
    val, pos = _parse(raw, 0)
    assert pos == len(raw)
    return val


def _parse(raw, pos):
    t = raw[pos:pos + 1]
    eol = raw.index(b"\r\n", pos)
    line = raw[pos + 1:eol]
    if t == b"+":
        return line, eol + 2
    if t == b"-":
        return RespError(line.decode("utf-8", "replace")), eol + 2
    if t == b":":
        return int(line), eol + 2
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, eol + 2
        return raw[eol + 2:eol + 2 + n], eol + 2 + n + 2
    if t == b"*":
        n = int(line)
        if n < 0:
            return None, eol + 2
        out = []
        p = eol + 2
        for _ in range(n):
            v, p = _parse(raw, p)
            out.append(v)
        return out, p
    raise ValueError("bad type %r" % t)


# --------------------------------------------------------------------------
# Expected-reply helpers (exact RESP bytes)
# --------------------------------------------------------------------------

def E(msg):
    return b"-" + msg.encode() + b"\r\n"


def ARITY(cmd):
    return E("ERR wrong number of arguments for '%s' command" % cmd)


NOTINT = E("ERR value is not an integer or out of range")
NOTFLOAT = E("ERR value is not a valid float")
SYNTAX = E("ERR syntax error")
OK = b"+OK\r\n"
NIL = b"$-1\r\n"


def bulk(v):
    if isinstance(v, str):
        v = v.encode()
    return b"$%d\r\n%s\r\n" % (len(v), v)


def INT(n):
    return b":%d\r\n" % n


# --------------------------------------------------------------------------
# Server processes
# --------------------------------------------------------------------------

class ServerStartError(Exception):
    pass


class ServerProcess:
    """One real server process (kasi or redis) started by the test suite."""

    def __init__(self, kind, workdir, directives=None, config_text=None,
                 port=None, use_port=True, wait=True):
        self.kind = kind
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.host = "127.0.0.1"
        self.directives = list(directives or [])
        d = dict((k, v) for k, v in self.directives)
        if use_port and "port" not in d:
            self.port = port or free_port()
            self.directives.insert(0, ("port", str(self.port)))
        else:
            self.port = int(d["port"]) if "port" in d else port
        if "bind" in d:
            self.host = d["bind"].split()[0]
            if self.host.startswith("-"):
                self.host = self.host[1:]
        self.unixsocket = d.get("unixsocket")
        self.password = d.get("requirepass")
        self.config_path = None
        if config_text is not None:
            fd, self.config_path = tempfile.mkstemp(prefix="kasi-", suffix=".conf", dir=self.workdir)
            with os.fdopen(fd, "w") as f:
                f.write(config_text)
        fd, self.log_path = tempfile.mkstemp(prefix="%s-" % kind, suffix=".out", dir=self.workdir)
        os.close(fd)
        self.argv = self.build_argv()
        self.proc = None
        self.pid = None
        self.start(wait=wait)

    def build_argv(self):
        if self.kind == "redis":
            argv = [REDIS_SERVER]
            if self.config_path:
                argv.append(self.config_path)
            base = [("save", ""), ("appendonly", "no"), ("daemonize", "no"),
                    ("dir", self.workdir)]
            present = set(k for k, _ in self.directives)
            for k, v in base:
                if k not in present:
                    argv += ["--" + k, v]
            for k, v in self.directives:
                argv += ["--" + k] + ([v] if v is not None else [])
            return argv
        argv = [KASI_SERVER]
        if self.config_path:
            argv.append(self.config_path)
        # extra flags for every Kasi instance, e.g. KASI_SERVER_ARGS="--threads 8";
        # placed before the test's own directives, which therefore win.
        argv += shlex.split(os.environ.get("KASI_SERVER_ARGS", ""))
        for k, v in self.directives:
            argv += ["--" + k] + ([v] if v is not None else [])
        return argv

    def start(self, wait=True):
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        self.pid = self.proc.pid
        if wait:
            try:
                self.wait_ready()
            except BaseException:
                self.stop()  # never leak a half-started server
                raise

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError("%s exited with %s during startup: %s\n--- log ---\n%s" % (
                    self.kind, self.proc.returncode, shlex.join(self.argv), self.log_text()))
            try:
                c = self.raw()
                try:
                    c.settimeout(1.0)
                    r = c.cmd("PING")
                finally:
                    c.close()
                if r == b"PONG" or (isinstance(r, RespError) and "NOAUTH" in str(r)):
                    return
                last = r
            except (OSError, ConnectionClosed) as e:
                last = e
            time.sleep(0.02)
        self.stop()
        raise ServerStartError("%s did not answer PING within %.0fs (%r): %s\n--- log ---\n%s" % (
            self.kind, timeout, last, shlex.join(self.argv), self.log_text()))

    def raw(self, timeout=10.0):
        if self.port:
            return RawConn(self.port, host=self.host, timeout=timeout)
        return RawConn(unix_path=self.unixsocket, timeout=timeout)

    def client(self, **kw):
        import redis
        kw.setdefault("socket_timeout", 10)
        kw.setdefault("socket_connect_timeout", 5)
        if self.password and "password" not in kw:
            kw["password"] = self.password
        if self.port:
            return redis.Redis(host=self.host, port=self.port, **kw)
        return redis.Redis(unix_socket_path=self.unixsocket, **kw)

    SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:",
                         b"WARNING: ThreadSanitizer", b"ERROR: ThreadSanitizer")

    def sanitizer_report(self):
        """Sanitizer findings logged since the previous call ('' if none)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(getattr(self, "_san_offset", 0))
                data = f.read()
        except OSError:
            return ""
        self._san_offset = getattr(self, "_san_offset", 0) + len(data)
        if any(m in data for m in self.SANITIZER_MARKERS):
            return data.decode("utf-8", "replace")[-8000:]
        return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self, limit=20000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        if len(data) > limit:
            data = b"...[truncated]...\n" + data[-limit:]
        return data.decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Stop by pid: SIGTERM, then SIGKILL after timeout. Returns exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        try:
            self.logf.close()
        except Exception:
            pass
        return self.proc.returncode


def make_server(kind, workdir, directives=None, **kw):
    """directives: dict or list of (name, value) pairs."""
    if isinstance(directives, dict):
        directives = list(directives.items())
    return ServerProcess(kind, workdir, directives, **kw)
