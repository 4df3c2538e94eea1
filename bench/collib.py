"""Helpers shared by the collection benchmarks (collections_memory.py,
collections_ops.py, collections_latency.py).

Standard library only, on top of benchlib.  What is here:

* which commands a server binary has (COMMAND INFO on a short-lived
  instance), so a benchmark skips what Kasi cannot do yet and reports it as
  "not implemented" instead of failing;
* a fast RESP reader (FastConn) that reads a socket into one bytearray and
  walks it with an offset, so a reply of a million elements (ZRANGEBYSCORE
  -inf +inf) or a pipeline of 100,000 integer replies is parsed in linear
  time;
* encoders for pipelined collection loads (HSET/SADD/ZADD/RPUSH with many
  elements per command), and pipelined sending with every reply checked.

Every loop is bounded in count and time; every connection goes to 127.0.0.1.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


# ------------------------------------------------------- command support ---

def server_commands(server, names):
    """{NAME: bool}: whether a running server knows each command, from
    COMMAND INFO (an unknown command gives a nil entry)."""
    names = [n.upper() for n in names]
    with server.client(timeout=30) as c:
        r = c.call("COMMAND", "INFO", *names)
    if not isinstance(r, list) or len(r) != len(names):
        raise RuntimeError("COMMAND INFO returned %r" % (r,))
    return {n: (x is not None) for n, x in zip(names, r)}


def binary_commands(kind, binary, names, tmp, extra=()):
    """Start `binary` once (fresh, empty, on a free port), ask COMMAND INFO
    about `names`, stop it.  Returns {NAME: bool}."""
    wd = tempfile.mkdtemp(prefix="%s-cmdinfo-" % kind, dir=tmp)
    s = bl.Server(kind, binary, list(extra), label=kind, workdir=wd)
    try:
        s.start()
        return server_commands(s, names)
    finally:
        s.stop()


def missing_commands(supported, needed):
    """The commands of `needed` that `supported` ({NAME: bool}) lacks, in order."""
    return [c for c in needed if not supported.get(c.upper(), False)]


# ------------------------------------------------------------- encoding ---

def enc(*args):
    """One RESP command from bytes/str/int arguments."""
    return bl.Client.encode(*args)


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def cmd_head(name, nargs):
    """'*<nargs+1>' and the command name: prepend to nargs pre-encoded arguments."""
    name = name.encode() if isinstance(name, str) else name
    return b"*%d\r\n$%d\r\n%s\r\n" % (nargs + 1, len(name), name)


def multi_cmd(name, key, items):
    """NAME key item item ... with pre-encoded items (each already bulk()-ed);
    `items` is a list of encoded arguments (for ZADD: score and member
    encoded separately, two entries)."""
    return cmd_head(name, 1 + len(items)) + bulk(key) + b"".join(items)


# ------------------------------------------------------------ fast RESP ---

class ReplyError(bl.RespError):
    pass


class FastConn(bl.Client):
    """A blocking RESP2 connection to 127.0.0.1 with an offset-walking reader:
    benchlib's Client (connection, TCP_NODELAY, send, call, info, close) with
    its buffer a bytearray read from an offset.

    read_reply() returns ints, bytes, None, lists (of the same), or a
    ReplyError instance for an error reply (call() raises it);
    skip_reply() consumes one reply and returns how many bulk/integer leaves
    it had, without building it (for large array replies).  The harness's
    raw-bytes readers (read_raw, cmd, ...) and Client.load_strings are not
    for this buffer."""

    def __init__(self, port, timeout=60.0):
        super().__init__(port, timeout=timeout)
        self.buf = bytearray()
        self.pos = 0

    def _fill(self):
        if self.pos > (1 << 20) and self.pos * 2 > len(self.buf):
            del self.buf[:self.pos]
            self.pos = 0
        super()._fill()

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _bytes(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        v = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n + 2
        return v

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b":":
            return int(rest)
        if t == b"+":
            return rest
        if t == b"-":
            return ReplyError(rest.decode(errors="replace"))
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._bytes(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise ConnectionError("bad RESP reply: %r" % line[:80])

    def skip_reply(self):
        """Consume one reply; returns its number of leaves (1 for a scalar).
        Raises ReplyError on an error reply."""
        line = self._line()
        t = line[:1]
        if t in (b":", b"+"):
            return 1
        if t == b"-":
            raise ReplyError(line[1:].decode(errors="replace"))
        if t == b"$":
            n = int(line[1:])
            if n >= 0:
                while len(self.buf) - self.pos < n + 2:
                    self._fill()
                self.pos += n + 2
            return 1
        if t == b"*":
            n = int(line[1:])
            leaves = 0
            for _ in range(max(n, 0)):
                leaves += self.skip_reply()
            return leaves
        raise ConnectionError("bad RESP reply: %r" % line[:80])

    def int_replies(self, n):
        """Read n replies that must all be integers; returns them as a list.
        Raises ReplyError on the first error reply (after reading all n, so
        the connection stays in step)."""
        out = []
        err = None
        for _ in range(n):
            r = self.read_reply()
            if isinstance(r, int):
                out.append(r)
            elif isinstance(r, ReplyError):
                err = err or r
            else:
                err = err or ReplyError("expected an integer reply, got %r" % (r,))
        if err is not None:
            raise err
        return out


def pipeline(conn, commands, batch_bytes=256 << 10, deadline=None):
    """Send encoded commands (an iterable of bytes) in writes of about
    batch_bytes, reading each write's integer replies before the next write.
    Returns (list of integer replies, commands sent).  Stops with an error
    when `deadline` (time.monotonic()) passes."""
    replies = []
    sent = 0
    pending, size = [], 0
    for cmd in commands:
        pending.append(cmd)
        size += len(cmd)
        if size >= batch_bytes:
            conn.send(b"".join(pending))
            replies += conn.int_replies(len(pending))
            sent += len(pending)
            pending, size = [], 0
            if deadline is not None and time.monotonic() > deadline:
                raise RuntimeError("load did not finish in time (%d commands sent)" % sent)
    if pending:
        conn.send(b"".join(pending))
        replies += conn.int_replies(len(pending))
        sent += len(pending)
    return replies, sent


# --------------------------------------------------------------- reports ---

def pct(sorted_xs, q):
    if not sorted_xs:
        return None
    return sorted_xs[min(len(sorted_xs) - 1, int(q * len(sorted_xs)))]


def lat_stats_ms(lats_s, goal_ms=None):
    """n, p50, p99, p99.9, max (ms) and, with goal_ms, the count over it."""
    xs = sorted(lats_s)
    if not xs:
        return dict(n=0, p50_ms=None, p99_ms=None, p999_ms=None, max_ms=None, over_goal=None)
    out = dict(n=len(xs), p50_ms=pct(xs, 0.50) * 1e3, p99_ms=pct(xs, 0.99) * 1e3,
               p999_ms=pct(xs, 0.999) * 1e3, max_ms=xs[-1] * 1e3)
    if goal_ms is not None:
        out["over_goal"] = sum(1 for x in xs if x * 1e3 > goal_ms)
    return out


def goal_cell(value, limit, le=True):
    """'met' / '**missed**' / 'n/a' for value <= limit (or >= with le=False)."""
    if value is None:
        return "n/a"
    ok = value <= limit if le else value >= limit
    return "met" if ok else "**missed**"
