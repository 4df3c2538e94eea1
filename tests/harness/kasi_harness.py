"""The one harness that starts Kasi (or redis-server) for tests and benchmarks.

Used by tests/integration, tests/diff, tests/python and bench (each puts
tests/harness on sys.path).  Starts real server processes (kasi-server,
redis-server or any RESP server) on free loopback ports, waits until they
answer PING, stops them by pid (SIGTERM, then SIGKILL), keeps their output in
a log file and scans it for sanitizer reports; provides a tiny raw RESP
client that returns the exact reply bytes, and the expected-reply helpers.

Nothing here mocks anything: every helper talks to a real process over a real
socket.  All waits are bounded by explicit deadlines.  Standard library only
(redis-py is imported by ServerProcess.client() alone).
"""
import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KASI_SERVER = os.environ.get("KASI_SERVER", os.path.join(REPO, "bin", "kasi-server"))
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
KILL_TIMEOUT = 10.0


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


def stop_process(proc, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
    """Stop one child by its pid: send sig, then SIGKILL if it is still running
    after timeout seconds.  Returns its exit code (None if it could not be
    reaped even KILL_TIMEOUT seconds after the SIGKILL)."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            try:
                proc.wait(KILL_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
    return proc.returncode


@contextlib.contextmanager
def inherited_stdio(logf, cwd=None):
    """For a launcher that takes no stdout= or cwd= (such as the Python
    package's kasi.server.launch): while inside, this process's fds 1 and 2
    point at logf and its working directory is cwd, so that a child started
    inside inherits them.  Both are restored on the way out."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    old_cwd = os.getcwd()
    try:
        os.dup2(logf.fileno(), 1)
        os.dup2(logf.fileno(), 2)
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(old_cwd)
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def tcp_sockets(pid):
    """pid's TCP sockets: their rows of /proc/net/tcp and tcp6, split into
    fields (1 local address:port, 2 remote address:port, 3 state: 0A
    listening, 01 established; ports in hex)."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                rows += [parts for parts in (line.split() for line in f) if parts[9] in inodes]
        except OSError:
            pass
    return rows


def socket_port(field):
    """The port of a /proc/net/tcp address field."""
    return int(field.rsplit(":", 1)[1], 16)


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


# RESP type bytes: one line; a length and that many bytes; an aggregate of
# that many replies (a map or attribute: that many pairs).
RESP_LINE_TYPES = (b"+", b"-", b":", b"_", b",", b"#", b"(")
RESP_BLOB_TYPES = (b"$", b"!", b"=")
RESP_AGG_TYPES = (b"*", b"%", b"~", b">", b"|")


class ConnectionClosed(Exception):
    pass


class RawConn:
    """Minimal RESP client that keeps exact reply bytes (RESP2, and RESP3
    after HELLO 3)."""

    def __init__(self, port=None, host="127.0.0.1", unix_path=None, timeout=10.0):
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address = unix_path
        else:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            address = (host, port)
        try:
            self.sock.settimeout(timeout)
            self.sock.connect(address)
        except BaseException:
            self.sock.close()  # a refused connect leaves no socket behind
            raise
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
        """Return end offset of the complete reply starting at pos (RESP2 or
        RESP3; an attribute is read with the reply it precedes)."""
        while len(self.buf) <= pos:
            self._fill()
        t = self.buf[pos:pos + 1]
        eol = self._readline(pos)
        if t in RESP_LINE_TYPES:
            return eol + 2
        if t in RESP_BLOB_TYPES:
            n = int(self.buf[pos + 1:eol])
            if n < 0:
                return eol + 2
            end = eol + 2 + n + 2
            while len(self.buf) < end:
                self._fill()
            return end
        if t in RESP_AGG_TYPES:
            n = int(self.buf[pos + 1:eol]) * (2 if t in b"%|" else 1)
            p = eol + 2
            for _ in range(max(n, 0)):
                p = self._reply_end(p)
            return self._reply_end(p) if t == b"|" else p
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


class RespMap(list):
    """A RESP3 map, as its flat list of keys and values."""


class RespSet(list):
    """A RESP3 set."""


class RespPush(list):
    """A RESP3 push message."""


def _parse(raw, pos):
    t = raw[pos:pos + 1]
    eol = raw.index(b"\r\n", pos)
    line = raw[pos + 1:eol]
    if t == b"+":
        return line, eol + 2
    if t == b"-":
        return RespError(line.decode("utf-8", "replace")), eol + 2
    if t in (b":", b"("):
        return int(line), eol + 2
    if t == b"_":
        return None, eol + 2
    if t == b",":
        return float(line), eol + 2
    if t == b"#":
        return line == b"t", eol + 2
    if t in (b"$", b"!", b"="):
        n = int(line)
        if n < 0:
            return None, eol + 2
        body = raw[eol + 2:eol + 2 + n]
        if t == b"!":
            body = RespError(body.decode("utf-8", "replace"))
        elif t == b"=":
            body = body[4:]   # "txt:"
        return body, eol + 2 + n + 2
    if t in (b"*", b"%", b"~", b">", b"|"):
        n = int(line)
        if n < 0:
            return None, eol + 2
        out = {b"*": list, b"%": RespMap, b"~": RespSet, b">": RespPush, b"|": RespMap}[t]()
        p = eol + 2
        for _ in range(n * (2 if t in (b"%", b"|") else 1)):
            v, p = _parse(raw, p)
            out.append(v)
        if t == b"|":   # an attribute: the reply it annotates follows
            return _parse(raw, p)
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
    """One real server process (kasi, redis or another RESP server) started
    by a test suite or a benchmark.

    directives: list of (name, value) pairs, passed as --name value.  binary:
    the executable (default $KASI_SERVER, or $REDIS_SERVER for kind "redis");
    extra_args: words appended to the command line; preexec_fn: run in the
    child before exec; log_name: the log's file name in workdir (default a
    fresh <kind>-*.out).  With start=False the caller starts it later with
    start().  A subclass can change the command line (build_argv), how the
    process is started (popen), the readiness timeout (start_timeout) and
    the grace time of stop() (stop_timeout)."""

    start_timeout = START_TIMEOUT
    stop_timeout = STOP_TIMEOUT
    ready_on_unixsocket = False  # readiness PING over the unix socket, when there is one

    def __init__(self, kind, workdir, directives=None, config_text=None,
                 port=None, use_port=True, wait=True, binary=None, extra_args=(),
                 preexec_fn=None, log_name=None, start=True):
        self.kind = kind
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.binary = binary or (REDIS_SERVER if kind == "redis" else KASI_SERVER)
        self.extra_args = list(extra_args)
        self.preexec_fn = preexec_fn
        self.host = "127.0.0.1"
        self.directives = list(directives or [])
        d = dict((k, v) for k, v in self.directives)
        self.port_picked = use_port and "port" not in d and not port   # free_port's: another may be taken
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
        if log_name:
            self.log_path = os.path.join(self.workdir, log_name)
        else:
            fd, self.log_path = tempfile.mkstemp(prefix="%s-" % kind, suffix=".out", dir=self.workdir)
            os.close(fd)
        self.argv = None
        self.logf = None
        self.proc = None
        self.pid = None
        self.last_error = None
        if start:
            self.start(wait=wait)

    def build_argv(self):
        """The command line for this kind of server."""
        if self.kind == "redis":
            argv = [self.binary]
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
            return argv + self.extra_args
        argv = [self.binary]
        if self.config_path:
            argv.append(self.config_path)
        # extra flags for every Kasi instance, e.g. KASI_SERVER_ARGS="--threads 8";
        # placed before the test's own directives, which therefore win.
        argv += shlex.split(os.environ.get("KASI_SERVER_ARGS", ""))
        for k, v in self.directives:
            argv += ["--" + k] + ([v] if v is not None else [])
        return argv + self.extra_args

    def popen(self, argv):
        """Start argv in workdir, its output going to the log; returns the
        Popen.  The hook for a caller that starts the server differently."""
        return subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=self.workdir,
                                preexec_fn=self.preexec_fn)

    def start(self, wait=True):
        """Start the process (again after stop(): same command line, same
        port) and, if wait, wait until it answers PING.  Returns self."""
        for attempt in range(3):
            self.logf = open(self.log_path, "ab")
            self.proc = self.popen(self.build_argv())
            self.pid = self.proc.pid
            self.argv = list(self.proc.args)  # the command line actually run
            if not wait:
                return self
            try:
                self.wait_ready()
                return self
            except ServerStartError:
                self.stop()  # never leak a half-started server
                # A port free_port found may be taken before the server binds
                # it (by another test run's server): another one, then.
                if not (self.port_picked and attempt < 2 and "in use" in self.log_text()):
                    raise
                old = str(self.port)
                self.port = free_port()
                self.directives = [(k, str(self.port) if k == "port" and v == old else v)
                                   for k, v in self.directives]
                with open(self.log_path, "wb"):
                    pass   # the next try's log alone
            except BaseException:
                self.stop()
                raise
        return self

    def _answered_by_me(self):
        """Whether the server on our port is our process (and not one that
        took the port first): its INFO's process_id, where it can be read."""
        try:
            c = self.raw(unix=self.ready_on_unixsocket)
            try:
                c.settimeout(1.0)
                info = c.cmd("INFO", "server")
            finally:
                c.close()
        except (OSError, ConnectionClosed):
            return False
        if not isinstance(info, bytes):   # NOAUTH: cannot tell; the PING was enough before
            return True
        m = re.search(rb"process_id:(\d+)", info)
        return m is None or int(m.group(1)) == self.pid

    def wait_ready(self, timeout=None):
        """Poll PING until +PONG (or -NOAUTH) within timeout (default
        start_timeout); raise ServerStartError if the process exits first or
        the time runs out (the last error seen is kept in last_error)."""
        timeout = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.last_error = last
                raise ServerStartError("%s exited with %s during startup: %s\n--- log ---\n%s" % (
                    self.kind, self.proc.returncode, shlex.join(self.argv), self.log_text()))
            try:
                c = self.raw(unix=self.ready_on_unixsocket)
                try:
                    c.settimeout(1.0)
                    r = c.cmd("PING")
                finally:
                    c.close()
                if r == b"PONG" or (isinstance(r, RespError) and "NOAUTH" in str(r)):
                    if self._answered_by_me():
                        return
                    r = "answered by another process on port %d" % self.port
                last = r
            except (OSError, ConnectionClosed) as e:
                last = e
            time.sleep(0.02)
        self.last_error = last
        self.stop()
        raise ServerStartError("%s did not answer PING within %.0fs (%r): %s\n--- log ---\n%s" % (
            self.kind, timeout, last, shlex.join(self.argv), self.log_text()))

    def raw(self, timeout=10.0, unix=False):
        """A RawConn: over TCP if there is a port (unless unix and there is
        a unix socket), else over the unix socket."""
        if self.port and not (unix and self.unixsocket):
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

    def _log_bytes(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def log_text(self, limit=20000):
        """The log, its last limit bytes if it is longer."""
        data = self._log_bytes()
        if len(data) > limit:
            data = b"...[truncated]...\n" + data[-limit:]
        return data.decode("utf-8", "replace")

    def log_tail(self, lines=20):
        """The last lines of the log."""
        return b"\n".join(self._log_bytes().splitlines()[-lines:]).decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Stop by pid: sig (SIGTERM), then SIGKILL after timeout (default
        stop_timeout).  Returns the exit code."""
        if self.proc is None:
            return None
        rc = stop_process(self.proc, sig, self.stop_timeout if timeout is None else timeout)
        try:
            self.logf.close()
        except Exception:
            pass
        return rc


def read_value(c, key):
    """A key's type and what it holds, read with the commands of its type
    (a hash's and a set's contents sorted: their order is the server's own;
    a stream's entries, length and XINFO STREAM's counters and IDs)."""
    t = c.cmd("TYPE", key)
    readers = {
        b"string": lambda: c.cmd("GET", key),
        b"hash": lambda: sorted(c.cmd("HGETALL", key)),
        b"list": lambda: c.cmd("LRANGE", key, 0, -1),
        b"set": lambda: sorted(c.cmd("SMEMBERS", key)),
        b"zset": lambda: c.cmd("ZRANGE", key, 0, -1, "WITHSCORES"),
        b"stream": lambda: [c.cmd("XRANGE", key, "-", "+"), c.cmd("XLEN", key)] +
                           c.cmd("XINFO", "STREAM", key)[:16],
    }
    return t, readers[t]() if t in readers else None


def stop_servers(servers, show_logs=False):
    """Stop each server; with show_logs (a failed test) write each one's log
    to stderr.  Returns their sanitizer reports, joined ('' if none)."""
    reports = []
    for srv in servers:
        srv.stop()
        if show_logs:
            sys.stderr.write("\n===== %s log (pid %s) %s =====\n%s\n" % (
                srv.kind, srv.pid, " ".join(srv.argv or []), srv.log_text()))
        rep = srv.sanitizer_report()
        if rep:
            reports.append(rep)
    return "\n".join(reports)


def make_server(kind, workdir, directives=None, **kw):
    """directives: dict or list of (name, value) pairs."""
    if isinstance(directives, dict):
        directives = list(directives.items())
    return ServerProcess(kind, workdir, directives, **kw)
