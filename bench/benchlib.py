"""Shared helpers for the Kasi benchmark scripts (run.py, memory.py,
callgrind.py, persist.py, floor.py, growth.py, missratio.py).

Standard library only.  Servers are started, awaited and stopped by the
harness the tests use, tests/harness/kasi_harness.py (``Server`` is its
ServerProcess with the benchmarks' command lines).  Every wait is bounded in
count and time; every server this module starts is tracked by pid and stopped
by ``Server.stop()`` (callers use try/finally, and ``atexit`` is a last resort).
"""
import atexit
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
DEFAULT_KASI = os.path.join(REPO_DIR, "bin", "kasi-server")

sys.path.insert(0, os.path.join(REPO_DIR, "tests", "harness"))
import kasi_harness as H  # noqa: E402

_live_servers = []


def die(msg, code=2):
    print("error: " + msg, file=sys.stderr)
    sys.exit(code)


def find_tool(name, explicit=None):
    """Absolute path of an executable or a clear error."""
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return os.path.abspath(explicit)
        die("%s not found or not executable: %s" % (name, explicit))
    p = shutil.which(name) or (os.path.join("/usr/bin", name)
                               if os.access(os.path.join("/usr/bin", name), os.X_OK) else None)
    if not p:
        die("%s not found in PATH (Debian: apt-get install redis-server redis-tools)" % name)
    return p


def find_kasi(explicit=None):
    p = explicit or DEFAULT_KASI
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        die("Kasi binary not found at %s (run `make` in %s first)" % (p, REPO_DIR))
    return os.path.abspath(p)


BINARY_INFO = {}


def snapshot_binary(path, tmpdir):
    """Copy the server binary into tmpdir so a concurrent `make` cannot swap
    it mid-run; remember its sha256 and mtime for the JSON report."""
    import hashlib
    st = os.stat(path)
    dst = os.path.join(tmpdir, os.path.basename(path))
    shutil.copy2(path, dst)
    h = hashlib.sha256()
    with open(dst, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    BINARY_INFO[os.path.basename(path)] = dict(
        path=path, sha256=h.hexdigest()[:16],
        mtime=datetime.datetime.fromtimestamp(st.st_mtime).astimezone().isoformat(timespec="seconds"))
    return dst


def raise_nofile(want):
    """Raise RLIMIT_NOFILE's soft limit toward `want` (capped at the hard limit).
    Returns the resulting soft limit.  Children (servers, redis-benchmark)
    inherit it."""
    try:
        import resource
    except ImportError:
        return 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


# ---------------------------------------------------------------- /proc ---

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_counters(pid):
    """(utime s, stime s, minor faults, major faults) of a whole process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # the comm field may hold spaces/parens: split after the last ')'
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK, int(fields[7]), int(fields[9]))


def proc_cpu_seconds(pid):
    """utime+stime of a whole process (all threads) in seconds, or None."""
    c = proc_counters(pid)
    return None if c is None else c[0] + c[1]


def proc_status_kb(pid, key="VmRSS"):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_smaps_rollup_kb(pid):
    """{'Rss': kB, 'Pss': kB, ...} from /proc/<pid>/smaps_rollup, or None.
    Pss splits pages shared with other processes (e.g. a fork child's
    copy-on-write pages) among them, so summing Pss never double counts."""
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[0].endswith(":") and parts[2] == "kB":
                    out[parts[0][:-1]] = int(parts[1])
    except (OSError, ValueError):
        return None
    return out or None


def proc_children(pid):
    """Pids of the direct children of `pid` (all its threads), from
    /proc/<pid>/task/*/children, falling back to a scan of /proc/*/stat."""
    kids = set()
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return []
    found_file = False
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                found_file = True
                kids.update(int(x) for x in f.read().split())
        except (OSError, ValueError):
            pass
    if not found_file:
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    data = f.read()
                if int(data[data.rindex(")") + 2:].split()[1]) == pid:
                    kids.add(int(d))
            except (OSError, ValueError):
                pass
    return sorted(kids)


# ----------------------------------------------------------- tiny RESP ---

RespError = H.RespError


class Client(H.RawConn):
    """A minimal blocking RESP2 client (enough for setup and checks): the
    harness's RawConn with TCP_NODELAY, replies parsed as they are read
    (simple strings as str), and call() raising error replies."""

    encode = staticmethod(H.encode_command)

    def __init__(self, port, host="127.0.0.1", timeout=30.0):
        super().__init__(port, host=host, timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            val, self.buf = self.buf[:n], self.buf[n + 2:]
            return val
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise ConnectionError("bad RESP reply: %r" % line[:80])

    def call(self, *args):
        self.sock.sendall(self.encode(*args))
        r = self.read_reply()
        if isinstance(r, RespError):
            raise r
        return r

    def info(self, section=None):
        raw = self.call("INFO", section) if section else self.call("INFO")
        out = {}
        for line in raw.decode(errors="replace").splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def load_strings(self, keys_and_values, batch=1000, extra=()):
        """Pipelined SETs; `keys_and_values` yields (key bytes, value bytes).
        `extra` is appended to each SET (e.g. (b"EX", b"3600")).  Checks every
        reply is +OK; returns the number of keys written."""
        enc_extra = b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in extra)
        head = b"*%d\r\n$3\r\nSET\r\n" % (3 + len(extra))
        total = 0
        pending = []
        it = iter(keys_and_values)
        while True:
            pending.clear()
            for kv in it:
                k, v = kv
                pending.append(b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n%s" % (head, len(k), k, len(v), v, enc_extra))
                if len(pending) >= batch:
                    break
            if not pending:
                return total
            self.sock.sendall(b"".join(pending))
            n = len(pending)
            # every SET reply is one line; read exactly n of them
            while self.buf.count(b"\r\n") < n:
                self._fill()
            ok = b"+OK\r\n" * n
            if not self.buf.startswith(ok):
                bad = self.buf[:200]
                raise RespError("unexpected reply while loading: %r" % bad)
            self.buf = self.buf[len(ok):]
            total += n


def spawn_probe(script, port, interval_s, cmd, nkeys, max_s):
    """Start `script --probe-child ...` in a process of its own, so the
    parent's sampling cannot delay the probe; the script hands the option to
    probe_child_args and runs its own probe_main with the result."""
    return subprocess.Popen([sys.executable, script, "--probe-child",
                             "%d,%f,%s,%d,%f" % (port, interval_s, cmd, nkeys, max_s)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def probe_child_args(spec):
    """(port, interval_s, cmd, nkeys, max_s) from spawn_probe's --probe-child."""
    port, iv, cmd, nkeys, mx = spec.split(",")
    return int(port), float(iv), cmd, int(nkeys), float(mx)


def collect_child(p, timeout, terminate=True):
    """Collect a child process we started (by its pid, stdout and stderr
    piped): SIGTERM it first if `terminate` and it is still running, SIGKILL
    it if it overruns `timeout`.  Returns (stdout, stderr, overran)."""
    if terminate and p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        out, err = p.communicate(timeout=timeout)
        return out, err, False
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return out, err, True


def run_redis_benchmark(argv, timeout):
    """One redis-benchmark run: (stdout, stderr, rc, error, wall seconds).
    error is None unless it timed out; then stdout is what it printed so
    far, stderr says so and rc is None."""
    t0 = time.monotonic()
    err = None
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        out, errtxt, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        errtxt, rc = "timeout after %ss" % timeout, None
        err = "redis-benchmark timed out after %ss" % timeout
    return out, errtxt, rc, err, time.monotonic() - t0


def paced_probe(port, interval_s, max_s, request, timeout=30.0):
    """The body of a probe process: one request every interval_s on one
    connection, each timed with the system-wide monotonic clock (a parent
    can compare its own timestamps with these), until SIGTERM or max_s. A
    late probe is followed at once by the next, without a burst to catch up.
    request(i) gives (the encoded request, a one-letter kind). Prints JSON
    on stdout: send times, latencies, kinds, error count, last error, nice."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    try:
        os.nice(-10)          # if allowed: less of the probe's own scheduling delay in its figures
    except OSError:
        pass
    niceness = os.nice(0)
    c = Client(port, timeout=timeout)
    ts, lats, kinds = [], [], []
    errors, err_text = 0, None
    i = 0
    nxt = time.monotonic()
    deadline = nxt + max_s
    while not stop and time.monotonic() < deadline:
        msg, kind = request(i)
        t = time.monotonic()
        try:
            c.sock.sendall(msg)
            r = c.read_reply()
            if isinstance(r, RespError):
                errors += 1
                err_text = str(r)
        except (OSError, ConnectionError) as e:
            errors += 1
            err_text = str(e)
            break
        lats.append(round(time.monotonic() - t, 7))
        ts.append(round(t, 6))
        kinds.append(kind)
        i += 1
        nxt += interval_s
        d = nxt - time.monotonic()
        if d > 0:
            time.sleep(d)
        else:
            nxt = time.monotonic()
    c.close()
    sys.stdout.write(json.dumps(dict(t=ts, lat=lats, kind=kinds, errors=errors, error=err_text,
                                     nice=niceness)))
    sys.stdout.flush()


def select_rows(rows, only):
    """The rows an --only list of comma separated substrings picks (an exact
    id selects just that row); dies when it picks none."""
    pats = [p.strip() for p in only.split(",") if p.strip()]
    ids = {r["id"] for r in rows}
    rows = [r for r in rows if any((p == r["id"]) if p in ids else (p in r["id"]) for p in pats)]
    if not rows:
        die("--only matched no rows")
    return rows


def padded_key(i, key_size, prefix="key:"):
    """Deterministic key of exactly key_size bytes: 'key:' + zero padded i.
    With key_size=16 this is the redis-benchmark `key:%012d` format."""
    digits = key_size - len(prefix)
    if digits < 7:
        raise ValueError("key_size too small for prefix+index")
    return b"%s%0*d" % (prefix.encode(), digits, i)


# ------------------------------------------------------------- servers ---

class Server(H.ServerProcess):
    """One server process (Kasi, redis-server or bench/floor.c) on a free
    loopback port: the harness's ServerProcess with the benchmarks' command
    lines, its output in <workdir>/server.log, and a fresh port at each start."""

    stop_timeout = 30.0

    def __init__(self, kind, binary, extra_args=(), label=None, wrapper=(),
                 start_timeout=20.0, workdir=None):
        self.label = label or kind            # kind: "kasi", "redis" or "floor" (bench/floor.c)
        self.wrapper = list(wrapper)          # e.g. valgrind command prefix
        self.start_timeout = start_timeout
        super().__init__(kind, workdir or tempfile.mkdtemp(prefix="kasi-bench-%s-" % kind),
                         binary=binary, extra_args=extra_args, use_port=False,
                         log_name="server.log", start=False)

    def build_argv(self):
        if self.kind == "redis":
            base = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--daemonize", "no",
                    "--protected-mode", "no", "--dir", self.workdir, "--logfile", ""]
        elif self.kind == "floor":
            base = [self.binary, str(self.port)]
        else:
            base = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", self.workdir]
        return self.wrapper + base + self.extra_args

    def popen(self, argv):
        proc = super().popen(argv)
        _live_servers.append(self)
        return proc

    def start(self, wait=True):
        """Start on a free port and, if wait, wait for PONG; tries up to three
        ports (in case the free one got taken).  Returns self."""
        for _attempt in range(3):
            self.port = H.free_port()
            try:
                return super().start(wait)
            except H.ServerStartError:
                pass
            if self.proc.returncode not in (None, 0) and "Address already in use" not in self.log_tail():
                break
        raise RuntimeError("%s did not start (last error %r); log tail:\n%s"
                           % (self.label, self.last_error, self.log_tail()))

    def cpu_seconds(self):
        return proc_cpu_seconds(self.pid)

    def rss_kb(self):
        return proc_status_kb(self.pid, "VmRSS")

    def client(self, timeout=60.0):
        return Client(self.port, timeout=timeout)

    def memory_reading(self, c, settle):
        """After `settle` seconds: (INFO memory as a dict, VmRSS kB); c is a
        connection to this server."""
        time.sleep(settle)
        return c.info("memory"), self.rss_kb()

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """SIGTERM, wait, then SIGKILL (only this server's own pid); returns
        the exit code."""
        rc = super().stop(sig, timeout)
        if self in _live_servers:
            _live_servers.remove(self)
        return rc


@atexit.register
def _stop_all():
    for s in list(_live_servers):
        try:
            s.stop(timeout=5)
        except Exception:
            pass


def install_signal_handlers():
    """Turn SIGTERM/SIGHUP into SystemExit so finally blocks run."""
    def h(signum, frame):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(s, h)
        except (ValueError, OSError):
            pass


def add_server_args(ap, json_name):
    """The --kasi, --redis-server and --json options (--json defaults to
    bench/results/<json_name>)."""
    ap.add_argument("--kasi", default=None)
    ap.add_argument("--redis-server", default=None)
    ap.add_argument("--json", default=os.path.join(RESULTS_DIR, json_name))


def find_servers(args):
    """Install the signal handlers; (kasi-server, redis-server) from the
    --kasi and --redis-server options (dies if either is missing)."""
    install_signal_handlers()
    return find_kasi(args.kasi), find_tool("redis-server", args.redis_server)


def build_c_tool(name, tmpdir):
    """Compile bench/<name>.c with -O2 into tmpdir; returns the binary's path."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        die("no C compiler (cc) to build bench/%s.c" % name)
    out = os.path.join(tmpdir, name)
    subprocess.run([cc, "-O2", "-o", out, os.path.join(BENCH_DIR, name + ".c")], check=True)
    return out


def on_fresh_server(kind, binary, extra, label, tmpdir, fn):
    """Start a fresh server, return fn(server) (or {"error": ...} if it
    raised), and stop it whatever happened."""
    srv = Server(kind, binary, extra, label=label, workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmpdir))
    try:
        srv.start()
        return fn(srv)
    except Exception as e:  # noqa: BLE001 - reported in the results, the run goes on
        return dict(error=str(e))
    finally:
        srv.stop()


# ---------------------------------------------------------------- misc ---

def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def dig(d, *path):
    """d[path[0]][path[1]]...; None where a level is missing or not a dict."""
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def git_rev():
    try:
        r = subprocess.run(["git", "-C", REPO_DIR, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10)
        rev = r.stdout.strip()
        d = subprocess.run(["git", "-C", REPO_DIR, "status", "--porcelain", "--", "src"],
                           capture_output=True, text=True, timeout=10)
        return rev + ("-dirty" if d.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def tool_version(path, args=("--version",)):
    try:
        r = subprocess.run([path] + list(args), capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unknown"


def environment():
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = []
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load,
        "python": platform.python_version(),
        "kasi_git": git_rev(),
        "binaries": dict(BINARY_INFO),
    }


def fmt_num(x, digits=0, none="n/a"):
    if x is None:
        return none
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{d}f}".format(x, d=digits)


def fmt_ratio(x):
    return "n/a" if x is None else "%.2f" % x


def markdown_table(headers, rows, align=None):
    align = align or (["l"] + ["r"] * (len(headers) - 1))
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def write_json(path, obj):
    import json
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)

