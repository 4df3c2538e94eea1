"""Crash durability and disk errors.

* appendfsync always: kill -9 in the middle of a stream of acknowledged writes from
  several connections (SET, INCR, APPEND, EXPIRE, PEXPIREAT, DEL, named domains);
  after restart every acknowledged write is there, with the right value and expiry.
* appendfsync everysec: kill -9; every acknowledged write is there (the log reaches
  the kernel before the reply goes out; only a machine crash may lose the last
  second), and what is there is a prefix of each connection's writes.
* Disk full / unwritable (RLIMIT_FSIZE on the server, a small tmpfs when root, a
  read-only directory when not root): writes answer -MISCONF..., reads work,
  writes come back when the disk does, nothing acknowledged is lost.
"""
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import kasi_harness as H
from test_persistence import (AOF_ALWAYS, AOF_EVERYSEC, TF, dump_state, info, kill9, kill9_trials, now_ms,
                              pserver, select, send_all, short, shutdown, wait_bgsave, SNAP)

pytestmark = pytest.mark.kasi_only


# --------------------------------------------------------------------------
# appendfsync always: model-checked writers, kill -9, restart, compare
# --------------------------------------------------------------------------

CRASH_DOMAINS = ("default", "users", "sess:eu", "q 4")
REL_SLACK_MS = int(200 * TF)


class ModelWriter:
    """One connection doing random writes on keys of its own (prefix w<id>:), keeping
    a model of the acknowledged state: {(domain, key): (value, expiry)} where expiry
    is None, ('abs', ms) or ('rel', lo_ms, hi_ms).  The one write in flight when the
    server dies is `pending` = ((domain, key), state-if-applied)."""

    select_arg = staticmethod(lambda dom: dom)

    def __init__(self, wid, nkeys=60):
        self.wid = wid
        self.rng = random.Random(9000 + wid)
        self.skeys = [b"w%d:s:%d" % (wid, i) for i in range(nkeys)]
        self.ckeys = [b"w%d:c:%d" % (wid, i) for i in range(nkeys // 3)]
        self.model = {}
        self.pending = None
        self.acked = 0
        self.errors = []
        self.conn_error = None

    def run(self, srv, stop, max_ops=100000):
        self.dom = "default"
        self.conn_error = None
        try:
            c = srv.raw(timeout=20 * TF)
        except OSError as e:
            self.conn_error = e
            return
        try:
            for _ in range(max_ops):
                if stop.is_set():
                    break
                self.step(c)
        except (H.ConnectionClosed, OSError) as e:
            self.conn_error = e
        except Exception as e:  # noqa
            self.errors.append("exception %r" % e)
        finally:
            c.close()

    def check(self, what, got, want):
        if got != want:
            self.errors.append("%s: reply %r, expected %r" % (what, short(got), short(want)))

    def step(self, c):
        rng = self.rng
        x = rng.random()
        if x < 0.05:
            dom = rng.choice(CRASH_DOMAINS)
            self.check("SELECT", c.cmd("SELECT", self.select_arg(dom)), b"OK")
            self.dom = dom
            return
        counter = x < 0.35
        key = rng.choice(self.ckeys if counter else self.skeys)
        dk = (self.dom, key)
        old = self.model.get(dk)
        t0 = now_ms()
        y = rng.random()
        if counter and y < 0.6:
            new = (b"%d" % (int(old[0]) + 1) if old else b"1", old[1] if old else None)
            cmd, want = ("INCR", key), int(new[0])
        elif not counter and y < 0.35:
            v = self.value()
            cmd, want, new = ("SET", key, v), b"OK", (v, None)
        elif not counter and y < 0.42:
            v = self.value()
            cmd, want, new = ("SET", key, v, "PX", "900000"), b"OK", (v, ("rel", t0 + 900000, None))
        elif not counter and y < 0.6:
            s = self.value(big=False)
            nv = (old[0] if old else b"") + s
            cmd, want, new = ("APPEND", key, s), len(nv), (nv, old[1] if old else None)
        elif y < 0.7:
            cmd = ("EXPIRE", key, "1000")
            want, new = (1, (old[0], ("rel", t0 + 1000000, None))) if old else (0, None)
        elif y < 0.8:
            at = t0 + 2000000 + rng.randint(0, 99999)
            cmd = ("PEXPIREAT", key, str(at))
            want, new = (1, (old[0], ("abs", at))) if old else (0, None)
        elif y < 0.85:
            cmd, want, new = ("PEXPIREAT", key, str(t0 - 5000)), (1 if old else 0), None
        else:
            cmd, want, new = ("DEL", key), (1 if old else 0), None
        self.pending = (dk, new)
        got = c.cmd(*cmd)
        t1 = now_ms()
        self.check(cmd[0], got, want)
        if new is not None and new[1] and new[1][0] == "rel":  # applied between t0 and t1
            lo = new[1][1]
            new = (new[0], ("rel", lo, lo + (t1 - t0)))
        if new is None:
            self.model.pop(dk, None)
        else:
            self.model[dk] = new
        self.pending = None
        self.acked += 1

    def value(self, big=True):
        rng = self.rng
        x = rng.random()
        n = rng.randint(2048, 4000) if big and x < 0.03 else rng.randint(0, 40)
        v = rng.randbytes(n)
        return v[:1] + b"\r\n\x00" + v[1:] if n and x < 0.3 else v

    @staticmethod
    def matches(state, actual):
        if state is None:
            return actual is None
        if actual is None or actual[0] != state[0]:
            return False
        exp, t = state[1], actual[1]
        if exp is None:
            return t == -1
        if exp[0] == "abs":
            return t == exp[1]
        hi = exp[2] if exp[2] is not None else exp[1] + 60000
        return exp[1] - REL_SLACK_MS <= t <= hi + REL_SLACK_MS

    def verify(self, actual):
        """Compare with dump_state(); resolve the pending write; return problems."""
        problems = []
        prefix = b"w%d:" % self.wid
        seen = {dk for dk in actual if dk[1].startswith(prefix)}
        pend_dk = self.pending[0] if self.pending else None
        for dk in sorted(seen | set(self.model) | ({pend_dk} if pend_dk else set())):
            want, got = self.model.get(dk), actual.get(dk)
            if self.matches(want, got):
                continue
            if dk == pend_dk and self.matches(self.pending[1], got):
                continue
            problems.append("%r: after restart %r, acknowledged state %r%s" % (
                dk, short(got, 90), short(want, 90),
                " (in-flight write would give %r)" % (short(self.pending[1], 90),) if dk == pend_dk else ""))
        # adopt what the server has for the in-flight key (either outcome is allowed)
        if pend_dk and not problems:
            got = actual.get(pend_dk)
            if got is None:
                self.model.pop(pend_dk, None)
            else:
                self.model[pend_dk] = (got[0], None if got[1] == -1 else ("abs", got[1]))
        self.pending = None
        return problems


def test_kill9_always_keeps_every_acknowledged_write(server_factory, tmp_path):
    rng = random.Random(1)
    writers = [ModelWriter(w) for w in range(4)]
    acked = {"before": 0, "total": 0}

    def settle(trial):
        acked["before"] = sum(w.acked for w in writers)
        time.sleep(rng.uniform(0.3, 1.0) * min(TF, 2))

    def check(s, trial):
        done = sum(w.acked for w in writers) - acked["before"]
        acked["total"] += done
        for w in writers:
            assert not w.errors, "trial %d writer %d: wrong replies: %s" % (trial, w.wid, w.errors[:5])
        assert done >= 20, "trial %d: only %d writes acknowledged before the kill" % (trial, done)
        actual = dump_state(s)
        problems = []
        for w in writers:
            problems += w.verify(actual)
        stray = [dk for dk in actual if not dk[1].startswith(b"w")]
        assert not stray, stray[:5]
        assert not problems, "trial %d (%d writes acknowledged in it, %d in all): %d keys differ:\n  %s" % (
            trial, done, acked["total"], len(problems), "\n  ".join(problems[:15]))

    kill9_trials(server_factory, tmp_path / "data", [w.run for w in writers], settle, check, trials=5)
    assert sum(len(w.model) for w in writers) > 50


# --------------------------------------------------------------------------
# appendfsync everysec
# --------------------------------------------------------------------------

class SeqWriter:
    """SET ev:<wid>:<seq> v<seq>... one at a time; records when each was acknowledged."""

    def __init__(self, wid):
        self.wid = wid
        self.dom = "ev%d" % wid
        self.acks = []
        self.errors = []

    def key(self, seq):
        return b"ev:%d:%08d" % (self.wid, seq)

    def val(self, seq):
        return b"v%d-%08d-" % (self.wid, seq) + b"x" * (seq % 50)

    def run(self, srv, stop, max_ops=400000):
        try:
            with srv.raw(timeout=20 * TF) as c:
                select(c, self.dom)
                for seq in range(max_ops):
                    if stop.is_set():
                        return
                    c.send_command("SET", self.key(seq), self.val(seq))
                    r = c.read()
                    t = time.monotonic()
                    if r != b"OK":
                        self.errors.append((seq, r))
                        return
                    self.acks.append(t)
        except (H.ConnectionClosed, OSError):
            pass


def test_kill9_everysec_keeps_every_acknowledged_write(server_factory, tmp_path):
    """A process crash under everysec loses no acknowledged write: the log is
    written to the kernel before the replies (it used to be written every 20 ms,
    after them, and a kill lost hundreds of acknowledged writes)."""
    data = tmp_path / "data"
    for trial in range(2):
        s = pserver(server_factory, data, *AOF_EVERYSEC)
        if trial:
            with s.raw() as c:
                c.cmd("FLUSHALL")
        writers = [SeqWriter(w) for w in range(3)]
        stop = threading.Event()
        threads = [threading.Thread(target=w.run, args=(s, stop), daemon=True) for w in writers]
        for t in threads:
            t.start()
        time.sleep(1.5)
        kill9(s)
        stop.set()
        for t in threads:
            t.join(20 * TF)
        for w in writers:
            assert not w.errors, w.errors[:3]
            assert len(w.acks) > 100, "writer %d: only %d writes" % (w.wid, len(w.acks))
        s = pserver(server_factory, data, *AOF_EVERYSEC)
        with s.raw(timeout=30 * TF) as c:
            for w in writers:
                select(c, w.dom)
                n = len(w.acks) + 1  # the one in flight may or may not be there
                vals = []
                for i in range(0, n, 1000):
                    vals += c.cmd("MGET", *[w.key(q) for q in range(i, min(n, i + 1000))])
                present = [v is not None for v in vals]
                m = present.index(False) if False in present else n
                assert not any(present[m:]), "writer %d: not a prefix: seq %d missing but later ones present" % (
                    w.wid, m)
                wrong = [q for q in range(m) if vals[q] != w.val(q)]
                assert not wrong, "writer %d: wrong values at %r" % (w.wid, wrong[:5])
                assert c.cmd("DBSIZE") == m
                assert m >= len(w.acks), "trial %d writer %d: %d of %d acknowledged writes lost by kill -9" % (
                    trial, w.wid, len(w.acks) - m, len(w.acks))
        s.stop()


# --------------------------------------------------------------------------
# disk full / unwritable
# --------------------------------------------------------------------------

class FsizeServer(H.ServerProcess):
    """A kasi-server whose RLIMIT_FSIZE (soft) is `fsize` bytes: writes that would
    grow any file past it fail with EFBIG (SIGXFSZ is left at its default: the server
    has to ignore it itself)."""

    def __init__(self, fsize, *a, **kw):
        self.fsize = fsize
        super().__init__(*a, preexec_fn=self._limit_fsize, **kw)

    def _limit_fsize(self):
        """Runs in the child before exec."""
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.fsize, hard))

    def set_fsize(self, soft):
        hard = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (soft, hard))


@pytest.fixture
def fsize_factory(request, tmp_path):
    started = []

    def factory(datadir, directives, fsize):
        os.makedirs(str(datadir), exist_ok=True)
        workdir = tmp_path / ("fsize%d" % (len(started) + 1))
        srv = FsizeServer(fsize, "kasi", workdir, [("dir", str(datadir))] + list(directives))
        started.append(srv)
        return srv

    yield factory
    failed = any(getattr(request.node, "rep_" + w, None) is not None and getattr(request.node, "rep_" + w).failed
                 for w in ("setup", "call"))
    reports = []
    for srv in started:
        srv.stop()
        if failed:
            sys.stderr.write("\n===== kasi (RLIMIT_FSIZE %d) log (pid %s) =====\n%s\n" % (
                srv.fsize, srv.pid, srv.log_text()))
        rep = srv.sanitizer_report()
        if rep:
            reports.append(rep)
    if reports:
        pytest.fail("sanitizer reported errors in server output:\n" + "\n".join(reports), pytrace=False)


def fill_until_misconf(srv, acked, rejected, max_writes, value_len=1024, time_limit=20):
    """SET fill:<i> sequentially until a write is refused.  Fills `acked` (keys whose
    SET got +OK) and `rejected` (keys whose SET got -MISCONF); returns the first
    error reply, or 'closed' if the server closed the connection instead."""
    deadline = time.monotonic() + time_limit * TF
    c = srv.raw(timeout=20 * TF)
    try:
        for i in range(max_writes):
            assert time.monotonic() < deadline, "no write error after %d writes of %d bytes" % (i, value_len)
            key = b"fill:%06d" % i
            try:
                r = c.cmd("SET", key, fill_value(i, value_len))
            except (H.ConnectionClosed, OSError):
                return "closed"
            if r == b"OK":
                acked.append(key)
                continue
            assert isinstance(r, H.RespError), r
            rejected.append(key)
            return str(r)
        raise AssertionError("no write error after %d writes of %d bytes" % (max_writes, value_len))
    finally:
        c.close()


def fill_value(i, n=1024):
    """Incompressible, and a function of i alone."""
    return b"%06d:" % i + random.Random(i).randbytes(n - 7)


def check_misconf_state(srv, acked, rejected, aof):
    """The server is alive, refuses writes with -MISCONF, answers reads."""
    assert srv.alive(), "server died on the write error (rc %s; SIGXFSZ is %d)" % (
        srv.proc.returncode, signal.SIGXFSZ)
    with srv.raw() as c:
        for j in range(3):
            key = b"refused:%d" % j
            r = c.cmd("SET", key, "x")
            assert isinstance(r, H.RespError) and str(r).startswith("MISCONF"), \
                "a write while the disk is failing answered %r" % (r,)
            if aof:
                assert "AOF" in str(r), r
            rejected.append(key)
        assert c.cmd("GET", acked[0]) == fill_value(int(acked[0][5:]), 1024)
        assert c.cmd("GET", acked[-1]) == fill_value(int(acked[-1][5:]), 1024)
        assert c.cmd("EXISTS", *acked[:100]) == min(100, len(acked))
        assert c.cmd("GET", "refused:0") is None
        assert isinstance(c.cmd("DBSIZE"), int)
        assert isinstance(c.cmd("TTL", acked[0]), int)


def check_after_restart(srv, acked, rejected):
    with srv.raw(timeout=30 * TF) as c:
        missing = []
        for i in range(0, len(acked), 500):
            part = acked[i:i + 500]
            vals = c.cmd("MGET", *part)
            missing += [k for k, v in zip(part, vals) if v != fill_value(int(k[5:]), 1024)]
        assert not missing, "%d of %d acknowledged writes lost or wrong after restart: %r" % (
            len(missing), len(acked), missing[:5])
        back = [k for k in rejected if c.cmd("EXISTS", k)]
        assert not back, "writes refused with MISCONF are present after restart: %r" % back


def test_disk_full_aof_always(fsize_factory, server_factory, tmp_path):
    """appendfsync always with the AOF hitting RLIMIT_FSIZE: the failing write is not
    acknowledged, later writes get -MISCONF, reads work; kill -9 and restart with no
    limit: every acknowledged write is there."""
    data = tmp_path / "data"
    s = fsize_factory(data, AOF_ALWAYS, 256 * 1024)
    acked, rejected = [], []
    first = fill_until_misconf(s, acked, rejected, 2000)
    assert first == "closed" or first.startswith("MISCONF"), first
    assert len(acked) > 50, acked[-3:]
    check_misconf_state(s, acked, rejected, aof=True)
    d = info(s, "persistence")
    assert d["aof_last_write_status"] == "err", d
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    check_after_restart(s, acked, rejected)


def test_disk_full_aof_everysec_recovers(fsize_factory, server_factory, tmp_path):
    """everysec: once the log cannot be written, the client whose write did not
    reach it is closed unacknowledged and later writes get -MISCONF; after the
    limit is lifted writes are accepted again and a clean restart has every
    acknowledged write."""
    data = tmp_path / "data"
    s = fsize_factory(data, AOF_EVERYSEC, 256 * 1024)
    acked, rejected = [], []
    first = fill_until_misconf(s, acked, rejected, 40000)
    assert first == "closed" or first.startswith("MISCONF Errors writing to the AOF file"), first
    check_misconf_state(s, acked, rejected, aof=True)
    assert info(s, "persistence")["aof_last_write_status"] == "err"
    s.set_fsize(resource.RLIM_INFINITY)
    deadline = time.monotonic() + 10 * TF
    with s.raw() as c:
        while True:
            r = c.cmd("SET", "probe", "1")
            if r == b"OK":
                break
            assert isinstance(r, H.RespError) and str(r).startswith("MISCONF"), r
            assert time.monotonic() < deadline, "writes still refused %ds after the disk came back: %r" % (
                10 * TF, r)
            time.sleep(0.05)
        for i in range(100):
            key = b"fill:%06d" % (900000 + i)
            assert c.cmd("SET", key, fill_value(900000 + i, 1024)) == b"OK"
            acked.append(key)
    assert H.wait_for(lambda: info(s, "persistence")["aof_last_write_status"] == "ok", 5)
    assert shutdown(s) == 0
    s = pserver(server_factory, data, *AOF_EVERYSEC)
    check_after_restart(s, acked, rejected)


def test_disk_full_aof_everysec_kill9(fsize_factory, server_factory, tmp_path):
    """everysec on a full disk, then kill -9: no acknowledged write is lost (a
    write whose record could not be handed to the kernel is not acknowledged)."""
    data = tmp_path / "data"
    s = fsize_factory(data, AOF_EVERYSEC, 256 * 1024)
    acked, rejected = [], []
    first = fill_until_misconf(s, acked, rejected, 40000)
    assert first == "closed" or first.startswith("MISCONF"), first
    assert len(acked) > 50, acked[-3:]
    check_misconf_state(s, acked, rejected, aof=True)
    kill9(s)
    s = pserver(server_factory, data, *AOF_EVERYSEC)
    check_after_restart(s, acked, rejected)


def test_disk_full_bgsave_misconf(fsize_factory, server_factory, tmp_path):
    """A failing BGSAVE (snapshot bigger than RLIMIT_FSIZE) with save points and
    stop-writes-on-bgsave-error yes: writes get -MISCONF, reads work; once a BGSAVE
    succeeds writes are accepted again."""
    data = tmp_path / "data"
    s = fsize_factory(data, [("save", "3600 1")], 64 * 1024)
    acked = []
    with s.raw(timeout=30 * TF) as c:
        for i in range(0, 600, 100):
            keys = [b"fill:%06d" % j for j in range(i, i + 100)]
            assert send_all(c, [("SET", k, fill_value(int(k[5:]), 1024)) for k in keys]) == [b"OK"] * 100
            acked += keys
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
    d = wait_bgsave(s)
    assert d["rdb_last_bgsave_status"] == "err", d
    rejected = []
    check_misconf_state(s, acked, rejected, aof=False)
    with s.raw() as c:
        r = c.cmd("SET", "x", "y")
        assert "unable to persist to disk" in str(r), r
    assert not os.path.exists(data / SNAP) or os.path.getsize(data / SNAP) < 64 * 1024
    s.set_fsize(resource.RLIM_INFINITY)
    with s.raw() as c:
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
    d = wait_bgsave(s)
    assert d["rdb_last_bgsave_status"] == "ok", d
    with s.raw() as c:
        assert c.cmd("SET", "after", "ok") == b"OK"
    assert shutdown(s) == 0
    s = pserver(server_factory, data)
    check_after_restart(s, acked, rejected)
    with s.raw() as c:
        assert c.cmd("GET", "after") == b"ok"


@pytest.fixture
def small_tmpfs():
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    d = tempfile.mkdtemp(prefix="kasi-tmpfs-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    if p.returncode != 0:
        os.rmdir(d)
        pytest.skip("cannot mount a tmpfs here: %s" % p.stdout.decode("utf-8", "replace").strip())
    yield d
    # the servers on it are stopped by now (server_factory is torn down first)
    if subprocess.run(["umount", d], timeout=20).returncode != 0:
        subprocess.run(["umount", "-l", d], timeout=20)
    os.rmdir(d)


def test_disk_full_tmpfs_aof_always(small_tmpfs, server_factory, tmp_path):
    """The real thing: ENOSPC on a 512 KB tmpfs.  After growing the filesystem,
    a restart on the same directory has every acknowledged write."""
    data = os.path.join(small_tmpfs, "data")
    s = pserver(server_factory, data, *AOF_ALWAYS)
    acked, rejected = [], []
    first = fill_until_misconf(s, acked, rejected, 2000)
    assert first == "closed" or first.startswith("MISCONF"), first
    check_misconf_state(s, acked, rejected, aof=True)
    kill9(s)
    p = subprocess.run(["mount", "-o", "remount,size=16m", small_tmpfs], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    assert p.returncode == 0, p.stdout
    s = pserver(server_factory, data, *AOF_ALWAYS)
    check_after_restart(s, acked, rejected)
    s.stop()


def test_unwritable_dir_bgsave_misconf(server_factory, tmp_path):
    """Not root: a read-only data directory makes BGSAVE fail -> -MISCONF on writes;
    making it writable again and a BGSAVE that succeeds lets writes in again."""
    if os.geteuid() == 0:
        pytest.skip("root writes to a 0555 directory anyway (RLIMIT_FSIZE tests cover this)")
    data = tmp_path / "data"
    s = pserver(server_factory, data, ("save", "3600 1"))
    acked = []
    with s.raw() as c:
        keys = [b"fill:%06d" % j for j in range(100)]
        assert send_all(c, [("SET", k, fill_value(int(k[5:]), 1024)) for k in keys]) == [b"OK"] * 100
        acked += keys
    os.chmod(data, 0o555)
    try:
        with s.raw() as c:
            assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        d = wait_bgsave(s)
        assert d["rdb_last_bgsave_status"] == "err", d
        check_misconf_state(s, acked, [], aof=False)
    finally:
        os.chmod(data, 0o755)
    with s.raw() as c:
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
    assert wait_bgsave(s)["rdb_last_bgsave_status"] == "ok"
    with s.raw() as c:
        assert c.cmd("SET", "after", "ok") == b"OK"
    assert shutdown(s) == 0
    s = pserver(server_factory, data)
    check_after_restart(s, acked, [])


# --------------------------------------------------------------------------
# appendfsync always: the reply goes out only after the fsync (system-call order)
# --------------------------------------------------------------------------

def trace_sets(s, c, tmp_path, n=5):
    """SET k<i> MARK<i> n times on c while strace watches server s; returns, as
    trace line indexes, the first AOF write carrying each mark, the completed
    fsyncs of the incr AOF, and the +OK replies to TCP clients."""
    strace = shutil.which("strace")
    if not strace:
        pytest.skip("needs strace")
    trace = tmp_path / "trace.txt"
    st = subprocess.Popen([strace, "-f", "-qq", "-yy", "-s", "256", "-o", str(trace),
                           "-e", "trace=write,writev,pwrite64,pwritev,sendto,sendmsg,fsync,fdatasync",
                           "-p", str(s.pid)], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0 * TF)  # attaching to every thread
        if st.poll() is not None:
            pytest.skip("strace cannot attach: %s" % st.stderr.read().decode("utf-8", "replace"))
        for i in range(n):
            assert c.cmd("SET", "k%d" % i, "MARK%04d" % i) == b"OK"
            time.sleep(0.05)
    finally:
        st.send_signal(signal.SIGINT)  # detaches; the server goes on
        try:
            st.wait(20 * TF)
        except subprocess.TimeoutExpired:
            st.kill()
            st.wait(5)
    assert c.cmd("GET", "k0") == b"MARK0000", "server unwell after strace detached"
    lines = open(trace, "r", errors="replace").read().splitlines()
    synced = []   # line indexes at which an fsync of the incr AOF completed
    writes = {}   # marker -> first line index of the AOF write() carrying it
    replies = []  # line indexes at which a +OK reply to a TCP client starts
    pending = {}  # pid -> syscall unfinished
    for idx, ln in enumerate(lines):
        pid, _, rest = ln.partition(" ")
        rest = rest.lstrip()  # strace pads short pids
        if "<unfinished ...>" in rest:
            pending[pid] = rest
        if rest.startswith("<..."):
            start = pending.pop(pid, "")
            if ("fdatasync(" in start or "fsync(" in start) and ".incr.aof" in start and "= 0" in rest:
                synced.append(idx)
            elif start.startswith(("write(", "writev(", "pwrite64(", "pwritev(")) and ".incr.aof" in start:
                for i in range(n):
                    if "MARK%04d" % i in start:
                        writes.setdefault(i, idx)
            continue
        if (rest.startswith("fdatasync(") or rest.startswith("fsync(")) and ".incr.aof" in rest \
                and "<unfinished" not in rest and rest.rstrip().endswith("= 0"):
            synced.append(idx)
        elif rest.startswith(("write(", "writev(", "pwrite64(", "pwritev(")) and ".incr.aof" in rest \
                and "<unfinished" not in rest:
            for i in range(n):
                if "MARK%04d" % i in rest:
                    writes.setdefault(i, idx)
        elif rest.startswith(("write(", "writev(", "sendto(", "sendmsg(")) and "TCP" in rest and "+OK\\r\\n" in rest:
            replies.append(idx)
    assert len(replies) == n and len(writes) == n, (
        "could not find the %d AOF writes (%r) and %d replies (%r) in the trace:\n%s" % (
            n, writes, n, replies, "\n".join(lines[-60:])))
    return lines, writes, synced, replies


def toggle_appendonly(s, c):
    """CONFIG SET appendonly no, then yes, and wait for the new AOF's first rewrite."""
    assert c.cmd("CONFIG", "SET", "appendonly", "no") == b"OK"
    assert c.cmd("SET", "while-off", "1") == b"OK"
    assert c.cmd("CONFIG", "SET", "appendonly", "yes") == b"OK"
    assert H.wait_for(lambda: info(s, "persistence")["aof_rewrite_in_progress"] == "0", 10)


@pytest.mark.parametrize("toggled", [False, True], ids=["fresh", "after-toggle"])
def test_always_reply_follows_fsync(server_factory, tmp_path, toggled):
    """kill -9 cannot tell a write() from an fsync (the page cache survives it), so
    watch the system calls: for each SET, the record is written to the incr AOF, the
    file is fdatasync'ed/fsync'ed, and only then does the +OK reply start. The same
    after appendonly was switched off and on at run time (the log position used to
    start again at 0 with the new AOF, and replies then went out first)."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    with s.raw() as c:
        assert c.cmd("SET", "warmup", "1") == b"OK"
        if toggled:
            for _ in range(50):   # the old AOF's log position runs ahead of the new one's
                assert c.cmd("SET", "pad", "x" * 200) == b"OK"
            toggle_appendonly(s, c)
        n = 5
        lines, writes, synced, replies = trace_sets(s, c, tmp_path, n)
    for i in range(n):
        ok = [j for j in synced if writes[i] < j < replies[i]]
        assert ok, "SET %d: reply at trace line %d, AOF write at line %d, but no fsync of the AOF between:\n%s" % (
            i, replies[i], writes[i], "\n".join(lines[max(0, writes[i] - 3):replies[i] + 2]))


@pytest.mark.parametrize("toggled", [False, True], ids=["fresh", "after-toggle"])
def test_everysec_reply_follows_write(server_factory, tmp_path, toggled):
    """everysec: each SET's record is written to the incr AOF before its +OK reply
    starts (a process crash then loses nothing), and the fsync is not on the
    request path."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_EVERYSEC)
    with s.raw() as c:
        assert c.cmd("SET", "warmup", "1") == b"OK"
        if toggled:
            toggle_appendonly(s, c)
        n = 5
        lines, writes, synced, replies = trace_sets(s, c, tmp_path, n)
    for i in range(n):
        assert writes[i] < replies[i], "SET %d: reply at trace line %d before its AOF write at line %d:\n%s" % (
            i, replies[i], writes[i], "\n".join(lines[max(0, replies[i] - 3):writes[i] + 2]))


# --------------------------------------------------------------------------
# A script's writes reach the AOF together: kill -9 or SHUTDOWN NOSAVE in
# the middle of one leaves none of them (Redis wraps them in MULTI/EXEC)
# --------------------------------------------------------------------------

SPIN_WRITER = ("redis.call('set', 'inside', '1'); redis.call('incr', 'n'); "
               "local t = redis.call('time'); local s = t[1] * 1000000 + t[2]; "
               "for i = 1, 100000000 do local u = redis.call('time'); "
               "if (u[1] * 1000000 + u[2]) - s > tonumber(ARGV[1]) then break end end return 'done'")


def _script_cut_short(server_factory, datadir, cut):
    s = pserver(server_factory, datadir, *AOF_ALWAYS, ("busy-reply-threshold", "100"))
    with s.raw() as c:
        if c.cmd_raw("EVAL", "return 1", "0").startswith(b"-ERR scripting is not available"):
            pytest.skip("built without Lua")
        assert c.cmd_raw("SET", "before", "1") == b"+OK\r\n"
        assert c.cmd_raw("EVAL", SPIN_WRITER, "0", "1000") == b"$4\r\ndone\r\n"   # a whole one
    with s.raw() as runner:
        runner.send_command("EVAL", SPIN_WRITER, "0", str(int(5000000 * TF)))
        time.sleep(0.5 * TF)   # the AOF's writer runs every 20 ms meanwhile
        cut(s)
    s = pserver(server_factory, datadir, *AOF_ALWAYS)
    with s.raw() as c:
        assert c.cmd_raw("MGET", "before", "inside", "n") == b"*3\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n1\r\n"
    return s


def test_kill9_in_a_script_keeps_none_of_its_writes(server_factory, tmp_path):
    """The first, whole script is there (inside=1, n=1); the second, killed
    while it spins after its writes, left none (n is still 1)."""
    _script_cut_short(server_factory, tmp_path / "data", kill9)


def test_shutdown_nosave_in_a_script_keeps_none_of_its_writes(server_factory, tmp_path):
    def nosave(s):
        with s.raw() as admin:
            admin.send_command("SHUTDOWN", "NOSAVE")
            s.proc.wait(10 * TF)
        s.stop()
    _script_cut_short(server_factory, tmp_path / "data", nosave)
