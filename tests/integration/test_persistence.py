"""Persistence: snapshots (dump.kasi), SAVE/BGSAVE/LASTSAVE/INFO persistence, clean
restarts (SHUTDOWN, SIGTERM, NOSAVE, save ""), point-in-time BGSAVE, BGREWRITEAOF,
keys that expire while the server is down, and switching from snapshot to AOF.

Crash durability (kill -9 with appendfsync always/everysec) and disk-full behaviour
are in test_persistence_crash.py; torn/corrupt files and the check tools in
test_persistence_corrupt.py.  Both import the helpers defined here.

Every test starts its own servers on a data directory of its own (`dir`), stops
them by pid, and restarts on the same directory to see what was kept.
"""
import glob
import os
import random
import re
import shutil
import signal
import threading
import time

import pytest

import kasi_harness as H
from kasi_harness import OK

pytestmark = pytest.mark.kasi_only

TF = H.TIME_FACTOR
AOF_DIRNAME = "appendonlydir"
AOF_ALWAYS = (("appendonly", "yes"), ("appendfsync", "always"), ("save", ""))
AOF_EVERYSEC = (("appendonly", "yes"), ("appendfsync", "everysec"), ("save", ""))
NO_SAVE = (("save", ""),)
DOMAINS = ("default", "users", "sess:eu", "cache 2", "7")
SNAP = "dump.kasi"  # default dbfilename


# --------------------------------------------------------------------------
# helpers shared by the test_persistence*.py files
# --------------------------------------------------------------------------

def now_ms():
    return int(time.time() * 1000)


def pserver(factory, datadir, *directives, **kw):
    """A server whose data directory is datadir (its log lives elsewhere)."""
    os.makedirs(str(datadir), exist_ok=True)
    return factory([("dir", str(datadir))] + [tuple(d) for d in directives], **kw)


def kill9(srv):
    """SIGKILL by pid: no shutdown code runs."""
    assert srv.alive(), "server died before kill -9 (rc %s)" % srv.proc.returncode
    os.kill(srv.pid, signal.SIGKILL)
    srv.proc.wait(10)
    srv.stop()  # only closes the log file now
    assert srv.proc.returncode == -signal.SIGKILL


def shutdown(srv, *args):
    """SHUTDOWN [args]; returns the exit status (the reply must be the closed connection)."""
    with srv.raw(timeout=30 * TF) as c:
        c.send_command("SHUTDOWN", *args)
        data, closed = c.read_until_closed(timeout=30 * TF)
    assert closed and not data, "SHUTDOWN %s answered %r (closed=%s)" % (" ".join(args), data, closed)
    rc = srv.proc.wait(30 * TF)
    srv.stop()
    return rc




def sigterm(srv):
    os.kill(srv.pid, signal.SIGTERM)
    try:
        rc = srv.proc.wait(30 * TF)
    finally:
        srv.stop()
    return rc


def kill9_trials(factory, datadir, runners, settle, check, trials=1):
    """kill -9 under appendfsync always while writers run, `trials` times:
    the runners (run(srv, stop) each) start on threads, settle(trial) waits
    (a sleep, or until they have done enough), the server is killed, the
    writers stop (none may hang), the server starts again on the same data
    and check(srv, trial) looks at what it kept. Returns the last server."""
    s = pserver(factory, datadir, *AOF_ALWAYS)
    for trial in range(trials):
        stop = threading.Event()
        threads = [threading.Thread(target=run, args=(s, stop), daemon=True) for run in runners]
        for t in threads:
            t.start()
        try:
            settle(trial)
            kill9(s)
        finally:
            stop.set()
            for t in threads:
                t.join(20 * TF)
        assert not any(t.is_alive() for t in threads), "writers hung after kill -9"
        s = pserver(factory, datadir, *AOF_ALWAYS)
        check(s, trial)
    return s


RESTARTS = ("snapshot", "aof", "aof-kill9", "rewrite")


def restart_trial(factory, datadir, how, load, state, after_rewrite=None, extra=()):
    """One of RESTARTS: a server keeping its data in a snapshot (SAVE) or in
    the AOF under appendfsync always (stopped cleanly, killed with -9, or
    rewritten first, after_rewrite(c) then landing in the new incremental
    file) runs load(c), is stopped and started again (both times with the
    extra directives too). Returns state(c) before the stop and after the
    start, and the restarted server."""
    directives = (NO_SAVE if how == "snapshot" else AOF_ALWAYS) + tuple(extra)
    s = pserver(factory, datadir, *directives)
    with s.raw(timeout=30 * TF) as c:
        load(c)
        if how == "rewrite":
            assert c.cmd_raw("BGREWRITEAOF").startswith(b"+Background append only file rewriting")
            H.wait_for(lambda: info(s, "persistence").get("aof_rewrite_in_progress") == "0", 30 * TF)
            if after_rewrite:
                after_rewrite(c)
        if how == "snapshot":
            assert c.cmd("SAVE") == b"OK"
        want = state(c)
    if how == "aof-kill9":
        kill9(s)
    else:
        assert shutdown(s, "NOSAVE") == 0
    s2 = pserver(factory, datadir, *directives)
    with s2.raw(timeout=30 * TF) as c:
        got = state(c)
    return want, got, s2


def info(srv, section):
    """INFO section as a dict of str -> str."""
    with srv.raw() as c:
        txt = c.cmd("INFO", section)
    assert isinstance(txt, bytes), txt
    out = {}
    for line in txt.decode("utf-8", "surrogateescape").split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, _, v = line.partition(":")
            out[k] = v
    return out


def keyspace(c):
    """{domain name: key count} of the domains holding keys, from INFO kasi.  INFO
    writes the bytes of a name that are not printable or are one of ' :,=\\' as
    \\xHH."""
    txt = c.cmd("INFO", "kasi")
    assert isinstance(txt, bytes), txt
    out = {}
    for line in txt.split(b"\r\n"):
        if line.startswith(b"domain_") and b":keys=" in line:
            name, _, rest = line[len(b"domain_"):].rpartition(b":keys=")
            if rest.startswith(b"0,"):
                continue   # INFO kasi also lists emptied domains that saw traffic
            name = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), name)
            out[name.decode("utf-8", "surrogateescape")] = int(rest.split(b",")[0])
    return out


def select(c, dom):
    r = c.cmd("SELECT", dom.encode("utf-8", "surrogateescape") if isinstance(dom, str) else dom)
    assert r == b"OK", (dom, r)


def scan_all(c):
    keys = set()
    cursor = b"0"
    for _ in range(200000):
        r = c.cmd("SCAN", cursor, "COUNT", 1000)
        assert isinstance(r, list), r
        cursor, ks = r
        keys.update(ks)
        if cursor == b"0":
            return keys
    raise AssertionError("SCAN did not finish")


def read_keys(c, keys, chunk=500):
    """{key: (value, pexpiretime)} for the keys of the current domain that exist."""
    out = {}
    keys = list(keys)
    for i in range(0, len(keys), chunk):
        part = keys[i:i + chunk]
        c.send(b"".join(H.encode_command("GET", k) + H.encode_command("PEXPIRETIME", k) for k in part))
        for k in part:
            v, t = c.read(), c.read()
            assert not isinstance(v, H.RespError) and not isinstance(t, H.RespError), (k, v, t)
            if v is not None:
                out[k] = (v, t)
    return out


def dump_state(srv):
    """Everything the server holds: {(domain, key): (value, pexpiretime or -1)}."""
    state = {}
    with srv.raw(timeout=30 * TF) as c:
        for dom in keyspace(c):
            select(c, dom)
            for k, vt in read_keys(c, sorted(scan_all(c))).items():
                state[(dom, k)] = vt
    return state


def diff_states(expected, actual, ttl_tol_ms=0, limit=15):
    """Human-readable differences between two dump_state() results."""
    problems = []
    for dk in sorted(set(expected) | set(actual)):
        e, a = expected.get(dk), actual.get(dk)
        if e is None:
            problems.append("%r: unexpected key %r" % (dk, short(a)))
        elif a is None:
            problems.append("%r: missing (expected %r)" % (dk, short(e)))
        elif e[0] != a[0]:
            problems.append("%r: value %r, expected %r" % (dk, short(a[0]), short(e[0])))
        elif (e[1] == -1) != (a[1] == -1) or abs(e[1] - a[1]) > ttl_tol_ms:
            problems.append("%r: pexpiretime %r, expected %r (tolerance %d ms)" % (dk, a[1], e[1], ttl_tol_ms))
        if len(problems) >= limit:
            problems.append("...")
            break
    return problems


def short(v, n=60):
    r = repr(v)
    return r if len(r) <= n else r[:n] + "...(%d chars)" % len(r)


def assert_same_state(expected, actual, ttl_tol_ms=0, what=""):
    problems = diff_states(expected, actual, ttl_tol_ms)
    assert not problems, "%s: %d keys expected, %d found; differences:\n  %s" % (
        what or "state after restart", len(expected), len(actual), "\n  ".join(problems))


def send_all(c, cmds):
    """Pipeline commands on a RawConn; return the parsed replies."""
    c.send(b"".join(H.encode_command(*cmd) for cmd in cmds))
    return [c.read() for _ in cmds]


def rand_value(rng, big=True):
    x = rng.random()
    if big and x < 0.01:
        n = rng.randint(17000, 40000)      # zero-copy (solo segment) sized
    elif big and x < 0.05:
        n = rng.randint(2048, 5000)        # own segment
    elif x < 0.08:
        n = 0
    else:
        n = rng.randint(1, 80)
    v = rng.randbytes(n)
    if n > 4 and rng.random() < 0.5:
        v = v[:2] + b"\r\n\x00$*" + v[2:]
    return v


def populate(srv, seed=1, per_domain=300, domains=DOMAINS):
    """Mixed data in several domains: plain, EX/PX/PXAT keys, binary keys and values,
    empty and large values.  Returns the number of keys written."""
    rng = random.Random(seed)
    base = now_ms()
    n = 0
    with srv.raw(timeout=30 * TF) as c:
        for dom in domains:
            select(c, dom)
            cmds = []
            for i in range(per_domain):
                key = b"k:%s:%d" % (dom.encode(), i)
                v = rand_value(rng)
                kind = i % 5
                if kind == 0:
                    cmds.append(("SET", key, v, "EX", str(1000 + i)))
                elif kind == 1:
                    cmds.append(("SET", key, v, "PX", str(500000 + 7 * i)))
                elif kind == 2:
                    cmds.append(("SET", key, v, "PXAT", str(base + 3000000 + i)))
                else:
                    cmds.append(("SET", key, v))
            cmds.append(("SET", b"bin\x00key\r\n" + dom.encode(), b"\x00\xff\r\n"))
            cmds.append(("SET", b"empty", b""))
            cmds.append(("SET", b"large", rng.randbytes(100000)))
            cmds.append(("SET", b"ctr", b"41"))
            cmds.append(("INCR", b"ctr"))
            cmds.append(("APPEND", b"ctr", b"x"))
            cmds.append(("SET", b"later-ttl", b"v"))
            cmds.append(("EXPIRE", b"later-ttl", "5000"))
            cmds.append(("SET", b"gone", b"v"))
            cmds.append(("DEL", b"gone"))
            for r in send_all(c, cmds):
                assert not isinstance(r, H.RespError), r
            n += per_domain + 6
    return n


def string_state(c, domains):
    """Every key's value (GET) and whether it has a TTL, in the domains given."""
    out = {}
    for db in domains:
        assert c.cmd("SELECT", db) == b"OK"
        for k in sorted(c.cmd("KEYS", "*")):
            out[(db, k)] = (c.cmd("GET", k), c.cmd("TTL", k) > 0)
    assert c.cmd("SELECT", "0") == b"OK"
    return out


def strings_survive_restart(factory, datadir, how, load, after_rewrite, domains):
    """restart_trial for strings: every string in the domains comes back the
    same; returns the state before the restart and the restarted server."""
    want, got, s2 = restart_trial(factory, datadir, how, load, lambda c: string_state(c, domains), after_rewrite)
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == want[k], k
    return want, s2


def wait_info(srv, section, pred, timeout, what):
    """Poll INFO section until pred(dict) holds; returns the dict."""
    deadline = time.monotonic() + timeout * TF
    d = info(srv, section)
    while not pred(d):
        assert time.monotonic() < deadline, "timed out waiting for %s; INFO %s: %r" % (what, section, d)
        time.sleep(0.02)
        d = info(srv, section)
    return d


def wait_bgsave(srv, timeout=20):
    return wait_info(srv, "persistence", lambda d: d.get("rdb_bgsave_in_progress") == "0",
                     timeout, "rdb_bgsave_in_progress:0")


def check_freed_in_background(srv, c, fill, small_cmd):
    """DEL, overwrite and expiry of a big collection (fill(key) makes one)
    hand it to the background freeing thread (INFO lazyfreed_objects counts
    each); a small one (small_cmd makes it at key "small") is freed at once.
    c: a connection to srv."""
    def freed():
        return int(info(srv, "memory")["lazyfreed_objects"])

    start = freed()
    c.cmd(*small_cmd)
    c.cmd("DEL", "small")
    assert freed() == start
    fill("big")
    assert c.cmd("DEL", "big") == 1
    assert H.wait_for(lambda: freed() == start + 1, 10 * TF)
    fill("big")
    assert c.cmd("SET", "big", "now a string") == b"OK"
    assert H.wait_for(lambda: freed() == start + 2, 10 * TF)
    assert c.cmd("DEL", "big") == 1   # the string
    fill("big")
    assert c.cmd("PEXPIRE", "big", 50) == 1
    assert H.wait_for(lambda: c.cmd("EXISTS", "big") == 0 and freed() == start + 3, 10 * TF)
    assert int(info(srv, "memory")["lazyfree_pending_objects"]) == 0


def aof_files(datadir, dirname=AOF_DIRNAME):
    d = os.path.join(str(datadir), dirname)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def incr_files(datadir, dirname=AOF_DIRNAME, fname="appendonly.aof"):
    """The incr AOF files, oldest first (by sequence number)."""
    files = glob.glob(os.path.join(str(datadir), dirname, glob.escape(fname) + ".*.incr.aof"))

    def seq(p):
        m = re.search(r"\.(\d+)\.incr\.aof$", p)
        return int(m.group(1)) if m else -1
    return sorted(files, key=seq)


def log_lines(srv, level_mark=None):
    lines = srv.log_text(limit=1 << 22).splitlines()
    if level_mark is None:
        return lines
    return [ln for ln in lines if (" %s " % level_mark) in ln]


def wait_file_stable(path, timeout=5):
    deadline = time.monotonic() + timeout * TF
    while not os.path.exists(path):
        assert time.monotonic() < deadline, "%s was not created" % path
        time.sleep(0.02)


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def test_config_defaults(server_factory):
    s = server_factory()
    with s.raw() as c:
        def get(name):
            r = c.cmd("CONFIG", "GET", name)
            assert isinstance(r, list) and len(r) == 2 and r[0] == name.encode(), (name, r)
            return r[1]
        assert get("dbfilename") == b"dump.kasi"
        assert get("save") == b"3600 1 300 100 60 10000"
        assert get("appendonly") == b"no"
        assert get("appendfsync") == b"everysec"
        assert get("appenddirname") == b"appendonlydir"
        assert get("appendfilename") == b"appendonly.aof"
        assert get("stop-writes-on-bgsave-error") == b"yes"
        assert get("dir")


@pytest.mark.parametrize("args,needle", [
    (["--appendonly", "maybe"], "appendonly"),
    (["--appendfsync", "sometimes"], "appendfsync"),
    (["--save", "abc 1"], "save"),
])
def test_bad_persistence_directives(tmp_path, args, needle):
    import subprocess
    p = subprocess.run([H.KASI_SERVER, "--port", "0", "--dir", str(tmp_path)] + args,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10 * TF)
    assert p.returncode == 1, (args, p)
    assert needle in (p.stdout + p.stderr).decode("utf-8", "replace")


def test_custom_dbfilename(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, ("dbfilename", "my.snap"))
    with s.raw() as c:
        assert c.cmd("SET", "a", "1") == b"OK"
        assert c.cmd("SAVE") == b"OK"
    assert os.path.isfile(data / "my.snap")
    assert not os.path.exists(data / SNAP)
    assert shutdown(s, "NOSAVE") == 0
    s = pserver(server_factory, data, ("dbfilename", "my.snap"))
    with s.raw() as c:
        assert c.cmd("GET", "a") == b"1"


# --------------------------------------------------------------------------
# clean restarts
# --------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["shutdown", "sigterm"])
def test_clean_restart_defaults_keeps_everything(server_factory, how):
    """Default directives (dir ".", no AOF, default save points): a clean stop writes a
    snapshot and a restart in the same place restores every key, domain and TTL."""
    s = server_factory()
    populate(s, seed=3)
    before = dump_state(s)
    with s.raw() as c:
        domains_before = keyspace(c)
    assert set(domains_before) == set(DOMAINS)
    rc = shutdown(s) if how == "shutdown" else sigterm(s)
    assert rc == 0
    assert os.path.isfile(os.path.join(s.workdir, SNAP)), os.listdir(s.workdir)
    s.start()  # same argv, same working directory
    with s.raw() as c:
        assert keyspace(c) == domains_before
    after = dump_state(s)
    assert_same_state(before, after, ttl_tol_ms=1000)
    for (dom, k), (v, t) in after.items():
        if t != -1:
            assert t > now_ms(), (dom, k, t)


def test_shutdown_nosave_loses_unsaved_writes(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data)
    populate(s, seed=4, per_domain=100)
    with s.raw() as c:
        assert c.cmd("SAVE") == b"OK"
    saved = dump_state(s)
    snap = (data / SNAP).read_bytes()
    with s.raw() as c:
        assert c.cmd("SET", "after-save", "x") == b"OK"
        select(c, "users")
        assert c.cmd("DEL", b"k:users:3") == 1
        assert c.cmd("SET", b"k:users:4", "overwritten") == b"OK"
        select(c, "new-domain")
        assert c.cmd("SET", "n", "1") == b"OK"
    assert shutdown(s, "NOSAVE") == 0
    assert (data / SNAP).read_bytes() == snap, "SHUTDOWN NOSAVE rewrote the snapshot"
    s = pserver(server_factory, data)
    assert_same_state(saved, dump_state(s), what="after SHUTDOWN NOSAVE")


@pytest.mark.parametrize("how", ["shutdown", "sigterm"])
def test_save_empty_writes_nothing(server_factory, tmp_path, how):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    populate(s, seed=5, per_domain=50)
    rc = shutdown(s) if how == "shutdown" else sigterm(s)
    assert rc == 0
    assert not os.path.exists(data / SNAP), os.listdir(data)
    assert aof_files(data) == []
    s = pserver(server_factory, data, *NO_SAVE)
    with s.raw() as c:
        assert c.cmd("DBSIZE") == 0
        assert keyspace(c) == {}


def test_shutdown_save_forces_snapshot(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    populate(s, seed=6, per_domain=50)
    before = dump_state(s)
    assert shutdown(s, "SAVE") == 0
    assert os.path.isfile(data / SNAP)
    s = pserver(server_factory, data, *NO_SAVE)
    assert_same_state(before, dump_state(s), ttl_tol_ms=1000)


# --------------------------------------------------------------------------
# SAVE / BGSAVE / LASTSAVE / INFO persistence
# --------------------------------------------------------------------------

PERSISTENCE_FIELDS = (
    "loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
    "rdb_last_bgsave_status", "rdb_last_bgsave_time_sec", "rdb_saves", "aof_enabled",
    "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec",
    "aof_last_bgrewrite_status", "aof_last_write_status", "aof_rewrites")
AOF_FIELDS = ("aof_current_size", "aof_base_size")  # Redis shows these only with appendonly yes


def wait_next_second(after):
    """Sleep until the wall clock (seconds) is past `after` (LASTSAVE has 1 s resolution)."""
    for _ in range(300):
        if int(time.time()) > after:
            return
        time.sleep(0.01)
    raise AssertionError("clock did not advance")


def test_save_lastsave_info_fields(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data)
    d = info(s, "persistence")
    missing = [f for f in PERSISTENCE_FIELDS if f not in d]
    assert not missing, "INFO persistence lacks %s: %r" % (missing, d)
    assert d["loading"] == "0" and d["aof_enabled"] == "0" and d["rdb_bgsave_in_progress"] == "0"
    saves0 = int(d["rdb_saves"])
    with s.raw() as c:
        for i in range(10):
            assert c.cmd("SET", "k%d" % i, "v%d" % i) == b"OK"
        assert int(info(s, "persistence")["rdb_changes_since_last_save"]) >= 10
        t0 = int(time.time())
        assert c.cmd_raw("SAVE") == OK
        t1 = int(time.time())
        last = c.cmd("LASTSAVE")
        assert isinstance(last, int) and t0 <= last <= t1, (t0, last, t1)
        d = info(s, "persistence")
        assert d["rdb_changes_since_last_save"] == "0", d
        assert int(d["rdb_saves"]) == saves0 + 1, d
        assert int(d["rdb_last_save_time"]) == last, d
        assert os.path.isfile(data / SNAP)

        # BGSAVE: started reply, then in_progress back to 0, status ok, counters reset
        wait_next_second(last)
        for i in range(5):
            assert c.cmd("SET", "b%d" % i, "w%d" % i) == b"OK"
        assert int(info(s, "persistence")["rdb_changes_since_last_save"]) >= 5
        mtime0 = os.stat(data / SNAP).st_mtime_ns
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        d = wait_bgsave(s)
        assert d["rdb_last_bgsave_status"] == "ok", d
        assert d["rdb_changes_since_last_save"] == "0", d
        assert int(d["rdb_saves"]) == saves0 + 2, d
        last2 = c.cmd("LASTSAVE")
        assert last2 > last, (last, last2)
        assert int(d["rdb_last_save_time"]) == last2
        assert int(d["rdb_last_bgsave_time_sec"]) >= 0
        assert os.stat(data / SNAP).st_mtime_ns != mtime0
        assert c.cmd("SET", "not-saved", "x") == b"OK"
    expected = dump_state(s)
    del expected[("default", b"not-saved")]
    kill9(s)
    s = pserver(server_factory, data)
    assert_same_state(expected, dump_state(s), what="after BGSAVE and kill -9")


def test_save_points_trigger_background_save(server_factory, tmp_path):
    """`save "1 3"`: three changes make a snapshot within a few seconds."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, ("save", "1 3"))
    with s.raw() as c:
        for i in range(3):
            assert c.cmd("SET", "p%d" % i, "x") == b"OK"
    assert H.wait_for(lambda: info(s, "persistence")["rdb_changes_since_last_save"] == "0"
                      and os.path.isfile(data / SNAP), 5), info(s, "persistence")
    wait_bgsave(s)
    kill9(s)
    s = pserver(server_factory, data, ("save", "1 3"))
    with s.raw() as c:
        assert c.cmd("MGET", "p0", "p1", "p2") == [b"x", b"x", b"x"]


class PairWriter:
    """Writes pairs that must always be equal: MSET a b (one command) in mode
    "mset", MULTI SET a ... SET b EXEC in mode "multi"; value = a growing counter."""

    def __init__(self, wid, npairs, mode):
        self.wid, self.npairs, self.mode = wid, npairs, mode
        self.sent = 0       # highest counter sent
        self.acked = 0      # highest counter acknowledged
        self.error = None

    def keys(self, p):
        return b"pa:%d:%d" % (self.wid, p), b"pb:{%d}:%d:x" % (self.wid, p)

    def run(self, srv, stop):
        try:
            with srv.raw(timeout=30 * TF) as c:
                select(c, "pairs")
                n = 0
                for _ in range(2000000):
                    if stop.is_set():
                        return
                    batch = []
                    for _ in range(20 if self.mode == "mset" else 4):
                        n += 1
                        a, b = self.keys(n % self.npairs)
                        if self.mode == "mset":
                            batch.append(("MSET", a, n, b, n))
                        else:
                            # a transaction that takes a while between the pair's two
                            # writes (LCS of two 1 KB values), so that a snapshot's
                            # instant often falls inside it
                            batch += [("MULTI",), ("SET", a, n), ("SET", b"pad:%d" % self.wid, n),
                                      ("LCS", "lcs:x", "lcs:y", "LEN"), ("SET", b, n), ("EXEC",)]
                    self.sent = n
                    for r in send_all(c, batch):
                        if isinstance(r, H.RespError):
                            raise AssertionError("reply %r" % r)
                    self.acked = n
        except Exception as e:  # noqa
            self.error = e

    def value_floor(self, p, acked):
        """Value pair p had once counter `acked` was acknowledged."""
        n = acked - ((acked - p) % self.npairs)
        return max(n, 0)


@pytest.mark.parametrize("mode", ["mset", "multi"])
def test_bgsave_point_in_time(server_factory, tmp_path, mode):
    """BGSAVE while clients write pairs that are always equal (one MSET, or a MULTI/EXEC
    transaction): every snapshot holds equal pairs, each no older than what was
    acknowledged before BGSAVE and no newer than what was sent before it finished."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    npairs, nwriters, rounds = 300, 4, 8
    writers = [PairWriter(w, npairs, mode) for w in range(nwriters)]
    rng = random.Random(7)
    with s.raw(timeout=30 * TF) as c:
        for dom in ("filler1", "filler2"):
            select(c, dom)
            for i in range(0, 10000, 500):
                assert send_all(c, [("SET", "f:%d" % j, rng.randbytes(150)) for j in range(i, i + 500)]) == [b"OK"] * 500
        select(c, "pairs")
        assert c.cmd("MSET", "lcs:x", rng.randbytes(1000), "lcs:y", rng.randbytes(1000)) == b"OK"
        for w in writers:
            for p in range(npairs):
                a, b = w.keys(p)
                assert c.cmd("MSET", a, 0, b, 0) == b"OK"
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(s, stop), daemon=True) for w in writers]
    for t in threads:
        t.start()
    snaps = []
    try:
        assert H.wait_for(lambda: all(w.acked >= 50 for w in writers), 60 * TF), [w.acked for w in writers]
        with s.raw() as c:
            for rnd in range(rounds):
                floors = [w.acked for w in writers]
                assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
                d = wait_bgsave(s)
                ceilings = [w.sent for w in writers]
                assert d["rdb_last_bgsave_status"] == "ok", d
                dst = tmp_path / ("snap%d" % rnd)
                os.makedirs(dst)
                shutil.copy(data / SNAP, dst / SNAP)
                snaps.append((dst, floors, ceilings))
                time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(20 * TF)
    for w in writers:
        assert w.error is None, "writer %d: %r" % (w.wid, w.error)
    # every writer kept going while the saves ran (slowly, on sanitizer builds)
    assert all(w.acked > f for w, f in zip(writers, snaps[0][1])), \
        ([w.acked for w in writers], snaps[0][1])
    with s.raw() as c:  # the live data is consistent (so only a snapshot can be wrong)
        select(c, "pairs")
        for w in writers:
            vals = c.cmd("MGET", *[k for p in range(npairs) for k in w.keys(p)])
            assert vals[0::2] == vals[1::2], "live pairs differ for writer %d" % w.wid
    kill9(s)
    for dst, floors, ceilings in snaps:
        r = pserver(server_factory, dst, *NO_SAVE)
        with r.raw() as c:
            select(c, "pairs")
            bad = []
            for w in writers:
                keys = [k for p in range(npairs) for k in w.keys(p)]
                vals = []
                for i in range(0, len(keys), 400):
                    vals += c.cmd("MGET", *keys[i:i + 400])
                for p in range(npairs):
                    va, vb = vals[2 * p], vals[2 * p + 1]
                    lo, hi = w.value_floor(p, floors[w.wid]), ceilings[w.wid]
                    if va != vb or va is None or not (lo <= int(va) <= hi):
                        bad.append((w.wid, p, va, vb, lo, hi))
            assert not bad, "%s: pairs not point-in-time consistent (writer, pair, a, b, min, max): %r" % (
                dst.name, bad[:10])
            select(c, "filler2")
            assert c.cmd("DBSIZE") == 10000
        r.stop()


# --------------------------------------------------------------------------
# BGREWRITEAOF
# --------------------------------------------------------------------------

def manifest_names(datadir):
    path = os.path.join(str(datadir), AOF_DIRNAME, "appendonly.aof.manifest")
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    return set(re.findall(r"appendonly\.aof\.\d+\.(?:base\.kasi|incr\.aof)", text))


class CounterWriter:
    """SET w:<n> n and INCR w:ctr, acknowledged one by one."""

    def __init__(self, wid):
        self.wid, self.acked, self.error = wid, 0, None

    def run(self, srv, stop, dom):
        try:
            with srv.raw(timeout=30 * TF) as c:
                select(c, dom)
                for n in range(1, 1000000):
                    if stop.is_set():
                        return
                    r = send_all(c, [("SET", "w%d:%d" % (self.wid, n), n), ("INCR", "w%d:ctr" % self.wid)])
                    if r != [b"OK", n]:
                        raise AssertionError("n=%d replies %r" % (n, r))
                    self.acked = n
        except Exception as e:  # noqa
            self.error = e


def test_bgrewriteaof_restart(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_EVERYSEC)
    d = info(s, "persistence")
    assert d["aof_enabled"] == "1", d
    missing = [f for f in PERSISTENCE_FIELDS + AOF_FIELDS if f not in d]
    assert not missing, "INFO persistence lacks %s: %r" % (missing, d)
    rng = random.Random(8)
    with s.raw(timeout=30 * TF) as c:
        for rnd in range(3):  # overwrites: the rewrite has garbage to drop
            for dom in ("default", "rw-a", "rw b"):
                select(c, dom)
                cmds = [("SET", "k%d" % i, rng.randbytes(rng.randint(0, 100))) for i in range(1000)]
                cmds += [("PEXPIREAT", "k%d" % i, now_ms() + 4000000 + i) for i in range(0, 1000, 7)]
                cmds += [("DEL", "k%d" % i) for i in range(5, 1000, 11)]
                assert not any(isinstance(r, H.RespError) for r in send_all(c, cmds))
    old = set(aof_files(data)) - {"appendonly.aof.manifest"}
    assert old and any(f.endswith(".incr.aof") for f in old), aof_files(data)
    d0 = info(s, "persistence")
    assert int(d0["aof_current_size"]) > 0, d0

    stop = threading.Event()
    writers = [CounterWriter(w) for w in range(2)]
    threads = [threading.Thread(target=w.run, args=(s, stop, "live"), daemon=True) for w in writers]
    for t in threads:
        t.start()
    try:
        assert H.wait_for(lambda: all(w.acked >= 50 for w in writers), 60 * TF)
        with s.raw() as c:
            assert c.cmd_raw("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        d = wait_info(s, "persistence", lambda d: d["aof_rewrite_in_progress"] == "0"
                      and d["aof_rewrite_scheduled"] == "0"
                      and int(d["aof_rewrites"]) > int(d0["aof_rewrites"]), 30, "end of rewrite")
        assert d["aof_last_bgrewrite_status"] == "ok", d
        marks = [w.acked for w in writers]
        assert H.wait_for(lambda: all(w.acked >= m + 50 for w, m in zip(writers, marks)), 10)
    finally:
        stop.set()
        for t in threads:
            t.join(20 * TF)
    for w in writers:
        assert w.error is None, w.error

    # old files go away; what remains is the manifest, one base, incr file(s) it lists
    def settled():
        files = set(aof_files(data))
        return not (files & old) and files
    assert H.wait_for(settled, 5), "old AOF files still present: %r (old were %r)" % (aof_files(data), old)
    files = set(aof_files(data))
    assert "appendonly.aof.manifest" in files, files
    bases = [f for f in files if f.endswith(".base.kasi")]
    incrs = [f for f in files if f.endswith(".incr.aof")]
    assert len(bases) == 1 and incrs, files
    assert manifest_names(data) == set(bases) | set(incrs), (manifest_names(data), files)
    d = info(s, "persistence")
    assert int(d["aof_base_size"]) > 0, d

    before = dump_state(s)
    with s.raw() as c:
        select(c, "live")
        for w in writers:
            assert c.cmd("GET", "w%d:ctr" % w.wid) == str(w.acked).encode()
    time.sleep(1.2)  # everysec: let the last second reach the file (kill -9 loses no page cache)
    kill9(s)
    s = pserver(server_factory, data, *AOF_EVERYSEC)
    assert_same_state(before, dump_state(s), what="after BGREWRITEAOF and kill -9")


def test_bgrewriteaof_then_clean_restart_twice(server_factory, tmp_path):
    """Two rewrites in a row, then SIGTERM and restart: nothing lost, no stale files."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    populate(s, seed=9, per_domain=200)
    for i in range(2):
        n0 = int(info(s, "persistence")["aof_rewrites"])
        with s.raw() as c:
            assert c.cmd_raw("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        wait_info(s, "persistence", lambda d: d["aof_rewrite_in_progress"] == "0"
                  and d["aof_rewrite_scheduled"] == "0" and int(d["aof_rewrites"]) > n0, 30, "rewrite")
        with s.raw() as c:
            select(c, "users")
            assert c.cmd("SET", "after-rewrite-%d" % i, "v") == b"OK"
    before = dump_state(s)
    assert sigterm(s) == 0
    assert H.wait_for(lambda: len([f for f in aof_files(data) if f.endswith(".base.kasi")]) == 1, 5), aof_files(data)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert_same_state(before, dump_state(s), what="after two rewrites and SIGTERM")


# --------------------------------------------------------------------------
# snapshot <-> AOF
# --------------------------------------------------------------------------

def test_enable_aof_on_snapshot_data(server_factory, tmp_path):
    """A snapshot is loaded when appendonly is turned on and no AOF exists yet; that data
    must then be part of the AOF (a kill -9 and restart keeps it)."""
    data = tmp_path / "data"
    s = pserver(server_factory, data)
    populate(s, seed=10, per_domain=100)
    assert shutdown(s) == 0
    s = pserver(server_factory, data, *AOF_ALWAYS)
    from_snapshot = dump_state(s)
    assert len(from_snapshot) > 400
    with s.raw() as c:
        assert c.cmd("SET", "aof-only", "1") == b"OK"
    expected = dump_state(s)
    kill9(s)
    os.unlink(data / SNAP)  # only the AOF can bring the data back now
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert_same_state(expected, dump_state(s), what="AOF started on snapshot data, after kill -9")


def test_aof_preferred_over_snapshot(server_factory, tmp_path):
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    with s.raw() as c:
        assert c.cmd("SET", "k", "aof") == b"OK"
        assert c.cmd("SAVE") == b"OK"
        assert c.cmd("SET", "k", "newer") == b"OK"
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    with s.raw() as c:
        assert c.cmd("GET", "k") == b"newer"
    kill9(s)
    s = pserver(server_factory, data, *NO_SAVE)  # appendonly no: the snapshot
    with s.raw() as c:
        assert c.cmd("GET", "k") == b"aof"


# --------------------------------------------------------------------------
# expiry while the server is down
# --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["snapshot", "aof"])
def test_keys_expired_while_down_are_gone(server_factory, tmp_path, path):
    data = tmp_path / "data"
    directives = () if path == "snapshot" else AOF_ALWAYS
    s = pserver(server_factory, data, *directives)
    short_ms = int(2000 * min(TF, 2))
    doms = ("default", "exp-a", "exp b")
    t_set = now_ms()
    with s.raw(timeout=30 * TF) as c:
        for dom in doms:
            select(c, dom)
            cmds = []
            for i in range(200):
                cmds.append(("SET", "short:%d" % i, "s", "PX", short_ms))
                cmds.append(("SET", "shortat:%d" % i, "s"))
                cmds.append(("PEXPIREAT", "shortat:%d" % i, t_set + short_ms))
                cmds.append(("SET", "exp-then-ex:%d" % i, "s", "EX", 1000))
                cmds.append(("EXPIRE", "exp-then-ex:%d" % i, max(1, short_ms // 1000)))
                cmds.append(("SET", "long:%d" % i, "l%d" % i, "EX", 1000))
                cmds.append(("SET", "plain:%d" % i, "p%d" % i))
            assert not any(isinstance(r, H.RespError) for r in send_all(c, cmds))
        # the short keys must still exist when the data reaches the disk
        if path == "snapshot":
            assert c.cmd("SAVE") == b"OK"
        for dom in doms:
            select(c, dom)
            ttls = send_all(c, [("PTTL", "short:%d" % i) for i in range(200)])
            assert all(t > 0 for t in ttls), "setup too slow: short keys expired before the save"
        select(c, "default")
        long_exp = c.cmd("PEXPIRETIME", "long:0")
    kill9(s)  # snapshot: only the SAVE above is on disk; aof: only the log
    # wait until every short key is past its expiry
    while now_ms() < t_set + short_ms + 300:
        time.sleep(0.05)
    s = pserver(server_factory, data, *directives)
    with s.raw(timeout=30 * TF) as c:
        ks = keyspace(c)
        assert ks == {dom: 400 for dom in doms}, ks
        for dom in doms:
            select(c, dom)
            assert c.cmd("DBSIZE") == 400
            for prefix in ("short", "shortat", "exp-then-ex"):
                ex = send_all(c, [("EXISTS", "%s:%d" % (prefix, i)) for i in range(200)])
                assert sum(ex) == 0, "%s: %d %s keys back after restart" % (dom, sum(ex), prefix)
            vals = c.cmd("MGET", *["long:%d" % i for i in range(200)])
            assert vals == [b"l%d" % i for i in range(200)]
            vals = c.cmd("MGET", *["plain:%d" % i for i in range(200)])
            assert vals == [b"p%d" % i for i in range(200)]
            ttls = send_all(c, [("PTTL", "plain:%d" % i) for i in range(200)])
            assert ttls == [-1] * 200
            left = now_ms() - t_set
            ttls = send_all(c, [("PTTL", "long:%d" % i) for i in range(200)])
            assert all(1000000 - left - 2000 <= t <= 1000000 for t in ttls), (left, ttls[:5])
        select(c, "default")
        assert abs(c.cmd("PEXPIRETIME", "long:0") - long_exp) <= 1000


# --------------------------------------------------------------------------
# every write command's effect survives (AOF replay, snapshot, rewrite)
# --------------------------------------------------------------------------

REPLAY_DOMAINS = ("default", "r1", "r 2")


def random_write_commands(rng, n):
    """A seeded mix of every write command Kasi has, over a small key space (so keys
    collide, move, get renamed and overwritten).  Only long TTLs or past times, so
    nothing expires by itself while the test runs."""
    ks = ["k%d" % i for i in range(30)]
    cs = ["c%d" % i for i in range(8)]
    fs = ["f%d" % i for i in range(4)]
    out = []
    base = now_ms()

    def v():
        return rand_value(rng, big=rng.random() < 0.3)

    for i in range(n):
        k, k2 = rng.choice(ks), rng.choice(ks)
        c, f = rng.choice(cs), rng.choice(fs)
        dom = rng.choice(REPLAY_DOMAINS)
        ttl_s = str(rng.randint(1000, 5000))
        at_ms = str(base + rng.randint(2000000, 3000000))
        x = rng.randrange(44)
        cmd = [
            ("SET", k, v()), ("SET", k, v(), "EX", ttl_s), ("SET", k, v(), "PX", ttl_s + "000"),
            ("SET", k, v(), "KEEPTTL"), ("SET", k, v(), "NX"), ("SET", k, v(), "XX", "GET"),
            ("SET", k, v(), "PXAT", at_ms), ("SETEX", k, ttl_s, v()), ("PSETEX", k, ttl_s + "123", v()),
            ("SETNX", k, v()), ("GETSET", k, v()), ("GETDEL", k), ("GETEX", k, "PX", ttl_s + "777"),
            ("GETEX", k, "PERSIST"), ("GETEX", k, "EXAT", str(int(at_ms) // 1000)), ("APPEND", k, v()),
            ("SETRANGE", k, str(rng.randint(0, 60)), v()), ("INCR", c), ("DECR", c),
            ("INCRBY", c, str(rng.randint(-1000, 1000))), ("DECRBY", c, str(rng.randint(0, 99))),
            ("INCRBYFLOAT", f, "%.3f" % rng.uniform(-10, 10)), ("MSET", k, v(), k2, v()),
            ("MSETNX", k, v(), k2, v()), ("DEL", k, k2), ("UNLINK", k), ("EXPIRE", k, ttl_s),
            ("EXPIRE", k, ttl_s, rng.choice(["NX", "XX", "GT", "LT"])), ("PEXPIRE", c, ttl_s + "000"),
            ("EXPIREAT", k, str(int(at_ms) // 1000)), ("PEXPIREAT", k, at_ms),
            ("PEXPIREAT", k, str(base - 1000)), ("PERSIST", k), ("RENAME", k, k2), ("RENAMENX", k, k2),
            ("COPY", k, k2), ("COPY", k, k2, "DB", dom, "REPLACE"), ("MOVE", k, dom), ("SELECT", dom),
            ("SELECT", dom), ("SELECT", dom), ("INCR", c), ("SET", c, str(rng.randint(0, 100))),
            ("FLUSHDB",) if rng.random() < 0.05 else ("PING",),
        ][x]
        out.append(cmd)
    return out


def run_commands(srv, cmds, batch=50):
    with srv.raw(timeout=30 * TF) as c:
        for i in range(0, len(cmds), batch):
            send_all(c, cmds[i:i + batch])  # error replies (e.g. RENAME of a missing key) are fine


@pytest.mark.parametrize("path", ["aof-always", "aof-everysec", "snapshot", "rewrite"])
def test_every_write_command_survives_restart(server_factory, tmp_path, path):
    """A seeded mix of all write commands; then what the server holds (values and
    exact PEXPIRETIME, in every domain) must be what a restart on the same directory
    holds.  Each path: AOF replay after kill -9 (always; everysec after a second),
    a snapshot written by SHUTDOWN, and a rewritten AOF (base + incr) after kill -9."""
    data = tmp_path / "data"
    directives = {"aof-always": AOF_ALWAYS, "aof-everysec": AOF_EVERYSEC, "snapshot": NO_SAVE,
                  "rewrite": AOF_ALWAYS}[path]
    s = pserver(server_factory, data, *directives)
    rng = random.Random("replay-" + path)
    run_commands(s, random_write_commands(rng, 2500))
    run_commands(s, [("FLUSHALL",)])
    run_commands(s, random_write_commands(rng, 2500))
    if path == "rewrite":
        n0 = int(info(s, "persistence")["aof_rewrites"])
        with s.raw() as c:
            assert c.cmd_raw("BGREWRITEAOF") == b"+Background append only file rewriting started\r\n"
        run_commands(s, random_write_commands(rng, 1500))   # during and after the rewrite
        wait_info(s, "persistence", lambda d: d["aof_rewrite_in_progress"] == "0"
                  and int(d["aof_rewrites"]) > n0, 30, "rewrite")
        run_commands(s, random_write_commands(rng, 500))
    before = dump_state(s)
    assert len(before) > 30, before
    assert len({dom for dom, _ in before}) == len(REPLAY_DOMAINS), sorted({dom for dom, _ in before})
    if path == "snapshot":
        assert shutdown(s, "SAVE") == 0
    else:
        if path == "aof-everysec":
            time.sleep(1.2)
        kill9(s)
    s = pserver(server_factory, data, *directives)
    assert_same_state(before, dump_state(s), what="%s: state after restart" % path)


# --------------------------------------------------------------------------
# turning the AOF on at run time; evictions
# --------------------------------------------------------------------------

def test_config_set_appendonly_at_runtime(server_factory, tmp_path):
    """CONFIG SET appendonly yes writes a first base holding the current data; later
    writes are logged; a kill -9 and a restart with appendonly yes keep all of it."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    populate(s, seed=11, per_domain=100)
    assert aof_files(data) == []
    with s.raw() as c:
        assert c.cmd("CONFIG", "SET", "appendfsync", "always") == b"OK"
        assert c.cmd("CONFIG", "SET", "appendonly", "yes") == b"OK"
    wait_info(s, "persistence", lambda d: d["aof_enabled"] == "1" and d["aof_rewrite_in_progress"] == "0"
              and d["aof_rewrite_scheduled"] == "0", 30, "AOF on")
    with s.raw() as c:
        select(c, "users")
        assert c.cmd("SET", "after-aof-on", "1") == b"OK"
        assert c.cmd("DEL", b"k:users:7") == 1
    assert "appendonly.aof.manifest" in aof_files(data), aof_files(data)
    before = dump_state(s)
    kill9(s)
    s = pserver(server_factory, data, *AOF_ALWAYS)
    assert_same_state(before, dump_state(s), what="after CONFIG SET appendonly yes and kill -9")


def test_evictions_are_logged(server_factory, tmp_path):
    """Keys evicted at maxmemory must not come back from the AOF after a restart."""
    data = tmp_path / "data"
    directives = AOF_ALWAYS + (("maxmemory", "4mb"), ("maxmemory-policy", "allkeys-lru"))
    s = pserver(server_factory, data, *directives)
    rng = random.Random(12)
    with s.raw(timeout=30 * TF) as c:
        for i in range(0, 12000, 200):
            r = send_all(c, [("SET", "e:%d" % j, rng.randbytes(1000)) for j in range(i, i + 200)])
            assert all(x == b"OK" for x in r), [x for x in r if x != b"OK"][:3]
    assert int(info(s, "stats")["evicted_keys"]) > 0
    before = dump_state(s)
    assert 0 < len(before) < 12000
    kill9(s)
    s = pserver(server_factory, data, *(AOF_ALWAYS + (("maxmemory", "0"),)))
    after = dump_state(s)
    assert set(after) == set(before), "%d keys before the kill, %d after restart; evicted keys back: %r" % (
        len(before), len(after), sorted(set(after) - set(before))[:5])
    assert_same_state(before, after, what="after evictions and kill -9")


@pytest.mark.parametrize("how", ["after-reply", "pipelined", "flushdb"])
def test_bgsave_holds_the_instant_despite_changes(server_factory, tmp_path, how):
    """BGSAVE, then overwrite, delete, append to, expire, move and flush what is being
    saved (big values too): the snapshot holds exactly the data of the instant BGSAVE
    ran, as Redis's fork gives.  The changes are sent after BGSAVE's reply, or
    pipelined right behind BGSAVE, or start with a FLUSHDB pipelined behind it.
    (Not FLUSHALL: Redis cancels a running BGSAVE on FLUSHALL.)"""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    rng = random.Random(13)
    doms = ("default", "b1", "b2")
    sizes = {}
    with s.raw(timeout=30 * TF) as c:
        for dom in doms:
            select(c, dom)
            for i in range(0, 6000, 500):
                cmds = [("SET", "k%d" % j, rng.randbytes(rng.choice((10, 100, 3000))), "PX", 3000000 + j)
                        if j % 3 == 0 else ("SET", "k%d" % j, rng.randbytes(rng.choice((10, 100))))
                        for j in range(i, i + 500)]
                sizes.update(((dom, cmd[1]), len(cmd[2])) for cmd in cmds)
                assert send_all(c, cmds) == [b"OK"] * 500
            assert send_all(c, [("SET", "big%d" % j, rng.randbytes(100000)) for j in range(20)]) == [b"OK"] * 20
    before = dump_state(s)
    cmds = [("SELECT", "b1")]
    if how == "flushdb":
        cmds.append(("FLUSHDB",))
    # Values of the same length (and expiry layout) are rewritten in place.
    for j in range(1, 6000, 6):
        cmds.append(("SET", "k%d" % j, rng.randbytes(sizes[("b1", "k%d" % j)]), "KEEPTTL"))
    cmds += [("SET", "big%d" % j, rng.randbytes(100000)) for j in range(15, 20)]
    for j in range(0, 6000, 2):
        cmds.append(("SET", "k%d" % j, "new"))
    for j in range(1, 6000, 4):
        cmds.append(("DEL", "k%d" % j))
    for j in range(3, 6000, 8):
        cmds.append(("APPEND", "k%d" % j, "tail"))
        cmds.append(("EXPIRE", "k%d" % j, "10"))
    cmds += [("SET", "big%d" % j, "small") for j in range(10)]
    cmds += [("APPEND", "big%d" % j, "x") for j in range(10, 20)]
    cmds += [("MOVE", "k5", "b2"), ("SELECT", "b2"), ("FLUSHDB",), ("SELECT", "default")]
    cmds += [("SET", "k%d" % j, "after") for j in range(0, 6000, 3)]
    with s.raw(timeout=30 * TF) as c:
        if how == "after-reply":
            assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
            send_all(c, cmds[:200])
        else:
            r = send_all(c, [("BGSAVE",)] + cmds[:200])
            assert r[0] == b"Background saving started", r[0]
        for i in range(200, len(cmds), 200):
            send_all(c, cmds[i:i + 200])
    d = wait_bgsave(s)
    assert d["rdb_last_bgsave_status"] == "ok", d
    assert diff_states(before, dump_state(s)), "the changes changed nothing?"
    kill9(s)
    s = pserver(server_factory, data, *NO_SAVE)
    assert_same_state(before, dump_state(s), what="snapshot of the instant BGSAVE ran (%s)" % how)
