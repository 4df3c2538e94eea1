#!/usr/bin/env python3
"""Kasi vs Redis 7: persistence (snapshots, AOF) side by side.

Both servers run with the same settings in one run, on free loopback ports, in
temporary directories.  Five measurements (numbers as in the report):

 1. Snapshot: load N keys (16 B keys, 32 B random base64 values, pipelined
    MSET), time SAVE and BGSAVE (BGSAVE polled with INFO persistence until
    rdb_bgsave_in_progress:0), size of the snapshot file.
 2. Load: restart on that snapshot; time from process start until the server
    answers PING with +PONG and INFO persistence says loading:0.
 3. AOF replay: appendonly yes, appendfsync everysec, redis-benchmark writes
    N SETs (-t set -n N -r N -P 16 -d 32); clean shutdown; time the restart.
    Both get auto-aof-rewrite-percentage 0 so that all writes stay in the
    incr AOF (otherwise the default 64 MB trigger rewrites it mid-run); the
    AOF files and INFO aof_rewrites are reported.
 4. Throughput: SET 32 B, 50 clients, unpipelined and pipeline 16, with
    persistence off (save "" appendonly no), appendonly yes + everysec, and
    appendonly yes + always: req/s, p50/p99, server CPU s per million requests.
    All six servers run at once and every row goes round them in turn.
 5. Smooth BGSAVE: with N keys loaded, redis-benchmark writes at full speed
    (SET -r N -P 16) while a probe process sends one GET every ~2 ms; BGSAVE,
    sampling memory every ~10 ms until it is done.  Memory is summed over the
    server and its children (Redis's fork child): Pss from
    /proc/<pid>/smaps_rollup (COW-shared pages not double counted) and Rss.

    /usr/bin/python3 bench/persist.py                 # 1,000,000 keys, 3 rounds: a few minutes
    /usr/bin/python3 bench/persist.py --quick         # 200,000 keys, 1 round
    /usr/bin/python3 bench/persist.py --keys 500000 --tests 1,2,5

Prints a Markdown report, then one line of JSON; the full JSON (every sample)
goes to bench/results/latest-persist.json.
"""
import argparse
import base64
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import run as runmod  # noqa: E402  (redis-benchmark runner and CSV parser)

KEY_SIZE = 16
VAL_SIZE = 32
MB = 1e6

GOALS = dict(load_s=1.0, aof_load_s=2.0, everysec_ratio=0.90, growth_pct=20.0, stall_ms=10.0)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------- probe child ---

def probe_main(port, interval_s, cmd, nkeys, max_s):
    """Runs in its own process (so the parent's sampling cannot delay it):
    a PING, SET or GET every interval_s; see benchlib.paced_probe."""
    def request(i):
        if cmd == "ping":
            return bl.Client.encode("PING"), "p"
        key = bl.padded_key((i * 7919) % nkeys, KEY_SIZE)
        if cmd == "set":
            return bl.Client.encode("SET", key, b"p" * VAL_SIZE), "s"
        return bl.Client.encode("GET", key), "g"
    bl.paced_probe(port, interval_s, max_s, request, timeout=30)


# ----------------------------------------------------------------- dataset ---

class Dataset:
    """N keys key:%012d (redis-benchmark's -r names) with 32-byte values:
    base64 of seeded random bytes, so neither server can compress them much."""

    def __init__(self, n, seed=1):
        self.n = n
        raw = random.Random(seed).randbytes(VAL_SIZE * 3 // 4 * n)
        self.vals = base64.b64encode(raw)            # 24 raw bytes -> 32 characters each
        self._chunks = None

    def key(self, i):
        return bl.padded_key(i, KEY_SIZE)

    def value(self, i):
        return self.vals[VAL_SIZE * i:VAL_SIZE * (i + 1)]

    def chunks(self, per_cmd=100, cmds_per_chunk=100):
        """[(payload bytes, number of MSET commands)], built once."""
        if self._chunks is None:
            out = []
            step = per_cmd * cmds_per_chunk
            for base in range(0, self.n, step):
                cmds = []
                for start in range(base, min(self.n, base + step), per_cmd):
                    end = min(self.n, start + per_cmd)
                    parts = [b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * (end - start))]
                    for i in range(start, end):
                        parts.append(b"$16\r\n%s\r\n$32\r\n%s\r\n" % (self.key(i), self.value(i)))
                    cmds.append(b"".join(parts))
                out.append((b"".join(cmds), len(cmds)))
            self._chunks = out
        return self._chunks


def load_dataset(server, ds):
    """Pipelined MSET of the whole dataset; returns seconds."""
    chunks = ds.chunks()
    with server.client(timeout=120) as c:
        t0 = time.monotonic()
        for payload, ncmd in chunks:
            c.sock.sendall(payload)
            while c.buf.count(b"\r\n") < ncmd:
                c._fill()
            ok = b"+OK\r\n" * ncmd
            if not c.buf.startswith(ok):
                raise RuntimeError("%s: unexpected MSET reply %r" % (server.label, c.buf[:120]))
            c.buf = c.buf[len(ok):]
        secs = time.monotonic() - t0
    check_dataset(server, ds)
    return secs


def check_dataset(server, ds, samples=25):
    with server.client(timeout=60) as c:
        n = c.call("DBSIZE")
        if n != ds.n:
            raise RuntimeError("%s: DBSIZE %r, expected %d" % (server.label, n, ds.n))
        rnd = random.Random(7)
        for i in [0, ds.n - 1] + [rnd.randrange(ds.n) for _ in range(samples)]:
            v = c.call("GET", ds.key(i))
            if v != ds.value(i):
                raise RuntimeError("%s: GET %s = %r, expected %r" % (server.label, ds.key(i).decode(),
                                                                    v, ds.value(i)))


# ----------------------------------------------------------------- servers ---

def mode_args(kind, mode, workdir, threads):
    """Command-line settings for one persistence mode; the same for both
    servers except where noted (Redis's own --dir is added by benchlib)."""
    a = ["--save", ""]
    if kind == "kasi":
        a += ["--dir", workdir]
        if threads:
            a += ["--threads", str(threads)]
    if mode in ("off", "snapshot"):
        a += ["--appendonly", "no"]
    else:
        # keep every write in the incr AOF: no automatic rewrite (both default to 100% / 64 MB)
        a += ["--appendonly", "yes", "--appendfsync", mode.split("-")[1],
              "--auto-aof-rewrite-percentage", "0"]
    return a


class PServer(bl.Server):
    """bl.Server plus a start that times readiness finely (restart on a file)."""

    def popen(self, argv):
        self.t_popen = time.monotonic()       # start_timed's time zero
        return super().popen(argv)

    def start_timed(self, timeout=120.0, poll=0.002):
        self.start(wait=False)
        t0 = self.t_popen
        res = dict(listen_s=None, pong_s=None, ready_s=None, loading_replies=0)
        c = None
        deadline = t0 + timeout
        try:
            while True:
                now = time.monotonic()
                if now > deadline:
                    raise RuntimeError("%s not ready after %.0f s" % (self.label, timeout))
                if self.proc.poll() is not None:
                    raise RuntimeError("%s exited with rc=%s while starting; log tail:\n%s"
                                       % (self.label, self.proc.returncode, self.log_tail()))
                if c is None:
                    try:
                        c = bl.Client(self.port, timeout=60)
                    except OSError:
                        time.sleep(poll)
                        continue
                    res["listen_s"] = time.monotonic() - t0
                try:
                    r = c.call("PING")
                except bl.RespError:          # -LOADING ...
                    res["loading_replies"] += 1
                    time.sleep(poll)
                    continue
                except (OSError, ConnectionError):
                    c.close()
                    c = None
                    time.sleep(poll)
                    continue
                t = time.monotonic() - t0
                if r == "PONG" and res["pong_s"] is None:
                    res["pong_s"] = t
                try:
                    loading = c.info("persistence").get("loading", "0")
                except bl.RespError:
                    loading = "1"
                if r == "PONG" and loading == "0":
                    res["ready_s"] = time.monotonic() - t0
                    return res
                time.sleep(poll)
        except BaseException:
            if c:
                c.close()
            self.stop()
            raise
        finally:
            if c:
                c.close()

    def config(self, name, default=None):
        try:
            with self.client(timeout=10) as c:
                r = c.call("CONFIG", "GET", name)
            return r[1].decode() if r and len(r) >= 2 else default
        except (bl.RespError, OSError, ConnectionError):
            return default

    def load_log_line(self):
        """The server's own 'loaded' log line, if any (last one)."""
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return None
        hits = [ln for ln in lines if "loaded" in ln.lower() or "loading" in ln.lower()]
        return hits[-1].strip()[-200:] if hits else None


def new_server(kind, binary, mode, tmp, args, label):
    wd = tempfile.mkdtemp(prefix="%s-%s-" % (kind, mode), dir=tmp)
    s = PServer(kind, binary, mode_args(kind, mode, wd, args.threads), label=label, workdir=wd)
    return s


def server_version(s):
    with s.client() as c:
        info = c.info("server")
    return info.get("kasi_version") or info.get("redis_version", "?"), info.get("executable_threads")


def file_list(d):
    out = {}
    try:
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if os.path.isfile(p):
                out[name] = os.path.getsize(p)
    except OSError:
        pass
    return out


def info_int(info, key):
    try:
        return int(info[key])
    except (KeyError, ValueError):
        return None


def bgsave_wait(c, timeout, poll=0.005, on_tick=None):
    """BGSAVE, then poll INFO persistence until the save is over.
    Returns dict(seconds, reply_s, status, info)."""
    before = c.info("persistence")
    saves0 = info_int(before, "rdb_saves")
    last0 = before.get("rdb_last_save_time")
    t0 = time.monotonic()
    r = c.call("BGSAVE")
    t_reply = time.monotonic() - t0
    seen_busy = False
    while True:
        if on_tick:
            on_tick()
        info = c.info("persistence")
        busy = info.get("rdb_bgsave_in_progress") == "1"
        seen_busy = seen_busy or busy
        saves = info_int(info, "rdb_saves")
        if not busy:
            if saves is not None and saves0 is not None and saves > saves0:
                break
            if info.get("rdb_last_bgsave_status") == "err" and seen_busy:
                break
            if saves is None and (seen_busy or info.get("rdb_last_save_time") != last0):
                break
        if time.monotonic() - t0 > timeout:
            raise RuntimeError("BGSAVE not finished after %.0f s" % timeout)
        time.sleep(poll)
    secs = time.monotonic() - t0
    return dict(seconds=secs, reply=str(r), reply_s=t_reply, status=info.get("rdb_last_bgsave_status"),
                info={k: info.get(k) for k in ("rdb_last_bgsave_time_sec", "rdb_last_cow_size", "rdb_saves")})


# -------------------------------------------------------- 1 + 2: snapshot ---

def test_snapshot_and_load(servers, ds, args, res, notes):
    """1 (SAVE/BGSAVE/file size) then 2 (restart on the file).  Leaves the
    last restarted servers running (returned) for test 5."""
    live = []
    r1 = res.setdefault("snapshot", {})
    r2 = res.setdefault("load", {})
    for s in servers:
        d = r1.setdefault(s.label, dict(save_s=[], bgsave_s=[]))
        try:
            s.start()
            log("  %s: loading %s keys" % (s.label, "{:,}".format(ds.n)))
            d["fill_s"] = load_dataset(s, ds)
            d["rss_kb_loaded"] = s.rss_kb()
            live.append(s)
        except Exception as e:  # noqa: BLE001
            d["error"] = "start/load failed: %s" % e
            notes.append("%s: snapshot test skipped: %s" % (s.label, str(e).splitlines()[0]))
            s.stop()
    for rnd in range(args.rounds):
        for s in live:
            d = r1[s.label]
            try:
                with s.client(timeout=args.run_timeout) as c:
                    t0 = time.monotonic()
                    c.call("SAVE")
                    d["save_s"].append(time.monotonic() - t0)
                log("  %s SAVE round %d: %.3f s" % (s.label, rnd + 1, d["save_s"][-1]))
            except Exception as e:  # noqa: BLE001
                d.setdefault("errors", []).append("SAVE: %s" % e)
    for rnd in range(args.rounds):
        for s in live:
            d = r1[s.label]
            try:
                with s.client(timeout=args.run_timeout) as c:
                    b = bgsave_wait(c, args.run_timeout)
                d["bgsave_s"].append(b["seconds"])
                d.setdefault("bgsave_detail", []).append(b)
                log("  %s BGSAVE round %d: %.3f s (%s)" % (s.label, rnd + 1, b["seconds"], b["status"]))
            except Exception as e:  # noqa: BLE001
                d.setdefault("errors", []).append("BGSAVE: %s" % e)
    loadable = []
    for s in live:
        d = r1[s.label]
        dirn = s.config("dir", s.workdir)
        fn = s.config("dbfilename", "dump.kasi" if s.kind == "kasi" else "dump.rdb")
        path = os.path.join(dirn if os.path.isabs(dirn) else os.path.join(s.workdir, dirn), fn)
        d["file"] = fn
        d["file_bytes"] = os.path.getsize(path) if os.path.exists(path) else None
        d["save_median_s"] = bl.median(d["save_s"])
        d["bgsave_median_s"] = bl.median(d["bgsave_s"])
        try:
            check_dataset(s, ds, samples=5)
        except Exception as e:  # noqa: BLE001
            d.setdefault("errors", []).append(str(e))
        s.stop()
        if d["file_bytes"] is None:
            notes.append("%s: no snapshot file %s after SAVE" % (s.label, path))
            continue
        st = os.stat(path)
        loadable.append((s, path, (st.st_size, st.st_mtime_ns)))
        d["files_in_dir"] = file_list(os.path.dirname(path))

    # 2. restart on the file
    running = {}
    for rnd in range(args.rounds):
        for s, path, sig in loadable:
            d = r2.setdefault(s.label, dict(samples=[]))
            try:
                st = os.stat(path)
                if (st.st_size, st.st_mtime_ns) != sig:
                    notes.append("%s: snapshot file changed between restarts (shutdown wrote it?)" % s.label)
                t = s.start_timed(timeout=args.run_timeout)
                t["rss_kb"] = s.rss_kb()
                t["log"] = s.load_log_line()
                check_dataset(s, ds)
                d["samples"].append(t)
                log("  %s restart on %s round %d: ready %.3f s (listening %.3f s)"
                    % (s.label, os.path.basename(path), rnd + 1, t["ready_s"], t["listen_s"] or -1))
            except Exception as e:  # noqa: BLE001
                d.setdefault("errors", []).append(str(e))
                notes.append("%s: restart on snapshot failed: %s" % (s.label, str(e).splitlines()[0]))
            if rnd == args.rounds - 1 and s.alive():
                running[s.label] = s
            else:
                s.stop()
    for lab, d in r2.items():
        d["ready_median_s"] = bl.median([x["ready_s"] for x in d["samples"]])
        d["listen_median_s"] = bl.median([x["listen_s"] for x in d["samples"]])
    return running


# ---------------------------------------------------------- 3: AOF replay ---

def test_aof_replay(kasi, redis, bench, tmp, args, res, notes):
    r3 = res.setdefault("aof", {})
    n = args.aof_writes
    made = []
    for kind, binary, label in (("kasi", kasi, "Kasi"), ("redis", redis, "Redis")):
        d = r3.setdefault(label, dict(samples=[]))
        s = new_server(kind, binary, "aof-everysec", tmp, args, label)
        try:
            s.start()
            argv = [bench, "-h", "127.0.0.1", "-p", str(s.port), "-t", "set", "-n", str(n), "-r", str(n),
                    "-c", "50", "-P", "16", "-d", str(VAL_SIZE), "--csv"]
            t0 = time.monotonic()
            p = subprocess.run(argv, capture_output=True, text=True, timeout=args.run_timeout)
            d["write_s"] = time.monotonic() - t0
            parsed = runmod.parse_csv(p.stdout, "set")
            d["write_rps"] = parsed["rps"] if parsed else None
            time.sleep(1.2)                       # let everysec flush
            with s.client() as c:
                info = c.info("persistence")
                d["dbsize"] = c.call("DBSIZE")
            d["info_after_writes"] = {k: info.get(k) for k in (
                "aof_enabled", "aof_rewrites", "aof_current_size", "aof_base_size",
                "aof_last_write_status", "aof_rewrite_in_progress", "aof_last_bgrewrite_status")}
            adir = s.config("appenddirname", "appendonlydir")
            d["aof_dir"] = adir
            s.stop()
            adir = os.path.join(s.workdir, adir)
            d["files_after_shutdown"] = file_list(adir)
            mf = [f for f in d["files_after_shutdown"] if f.endswith(".manifest")]
            if mf:
                with open(os.path.join(adir, mf[0])) as f:
                    d["manifest"] = f.read().strip().splitlines()
            incr = sum(v for k, v in d["files_after_shutdown"].items() if ".incr." in k)
            d["incr_bytes"] = incr
            d["aof_total_bytes"] = sum(d["files_after_shutdown"].values())
            d["incr_bytes_per_write"] = incr / n if n else None
            if str(d["info_after_writes"].get("aof_rewrites")) not in ("0", "None"):
                notes.append("%s rewrote its AOF during the %d writes (aof_rewrites=%s)"
                             % (label, n, d["info_after_writes"]["aof_rewrites"]))
            made.append((s, adir))
            log("  %s: %s SETs at %s req/s; AOF files %s" % (label, "{:,}".format(n),
                bl.fmt_num(d["write_rps"]), d["files_after_shutdown"]))
        except Exception as e:  # noqa: BLE001
            s.stop()
            d["error"] = str(e)
            notes.append("%s: AOF test failed: %s" % (label, str(e).splitlines()[0]))
    for rnd in range(args.rounds):
        for s, adir in made:
            d = r3[s.label]
            try:
                before = file_list(adir)
                t = s.start_timed(timeout=args.run_timeout)
                t["rss_kb"] = s.rss_kb()
                t["log"] = s.load_log_line()
                with s.client() as c:
                    t["dbsize"] = c.call("DBSIZE")
                if t["dbsize"] != d.get("dbsize"):
                    notes.append("%s: DBSIZE %s after AOF replay, %s before shutdown"
                                 % (s.label, t["dbsize"], d.get("dbsize")))
                d["samples"].append(t)
                log("  %s restart on AOF round %d: ready %.3f s (listening %.3f s), %s keys"
                    % (s.label, rnd + 1, t["ready_s"], t["listen_s"] or -1, t["dbsize"]))
            except Exception as e:  # noqa: BLE001
                d.setdefault("errors", []).append(str(e))
                notes.append("%s: restart on AOF failed: %s" % (s.label, str(e).splitlines()[0]))
            s.stop()
            after = file_list(adir)
            if after != before:
                d.setdefault("files_changed_by_restart", []).append(dict(before=before, after=after))
    for lab, d in r3.items():
        d["ready_median_s"] = bl.median([x["ready_s"] for x in d["samples"]])
        d["listen_median_s"] = bl.median([x["listen_s"] for x in d["samples"]])
        if d.get("files_changed_by_restart"):
            notes.append("%s: the AOF files changed across a restart (see JSON)" % lab)
    for s, _ in made:
        shutil.rmtree(s.workdir, ignore_errors=True)


# ----------------------------------------------------------- 4: throughput ---

MODES = ("off", "aof-everysec", "aof-always")
MODE_LABEL = {"off": "in-memory", "aof-everysec": "AOF everysec", "aof-always": "AOF always"}


def test_throughput(kasi, redis, bench, tmp, args, res, notes):
    r4 = res.setdefault("throughput", {})
    f = 5 if args.quick else 1
    rows = [dict(id="set-32b-p1", label="SET 32 B, 50 conns, unpipelined", test="set", c=50, P=1,
                 d=VAL_SIZE, r=100000, n=100000 // f),
            dict(id="set-32b-p16", label="SET 32 B, 50 conns, pipeline 16", test="set", c=50, P=16,
                 d=VAL_SIZE, r=100000, n=1000000 // f)]
    targets = []
    try:
        for mode in MODES:
            for kind, binary, label in (("kasi", kasi, "Kasi"), ("redis", redis, "Redis")):
                s = new_server(kind, binary, mode, tmp, args, "%s %s" % (label, mode))
                t = runmod.Target(s, s.label)
                t.mode, t.name = mode, label
                try:
                    s.start()
                    targets.append(t)
                except Exception as e:  # noqa: BLE001
                    notes.append("%s (%s) did not start: %s" % (label, MODE_LABEL[mode], str(e).splitlines()[0]))
        for row in rows:
            samples = {t.label: [] for t in targets}
            for rnd in range(args.tp_rounds):
                for t in targets:
                    if t.dead:
                        continue
                    smp = runmod.run_one(bench, t, row, args.run_timeout)
                    samples[t.label].append(smp)
                    if "error" in smp:
                        log("  %-34s %-20s round %d: ERROR %s" % (row["label"], t.label, rnd + 1,
                                                                 smp["error"].splitlines()[0]))
                    else:
                        log("  %-34s %-20s round %d: %9.0f req/s p50 %.3f p99 %.3f ms cpu %.2f s/M"
                            % (row["label"], t.label, rnd + 1, smp["rps"], smp["p50_ms"], smp["p99_ms"],
                               smp.get("cpu_s_per_mreq") or -1))
            r4[row["id"]] = dict(label=row["label"], params={k: row[k] for k in ("test", "c", "P", "d", "r", "n")},
                                 samples=samples,
                                 median={lab: runmod.summarize(x) for lab, x in samples.items()})
        srv = r4.setdefault("servers", {})
        for t in targets:
            info = {}
            try:
                with t.server.client() as c:
                    info = c.info("persistence")
            except Exception:  # noqa: BLE001
                pass
            srv[t.label] = dict(mode=t.mode, crashed=t.dead, persistence={k: info.get(k) for k in (
                "aof_enabled", "aof_rewrites", "aof_current_size", "aof_last_write_status",
                "aof_delayed_fsync", "rdb_saves")})
            if info.get("aof_rewrites") not in (None, "0"):
                notes.append("%s rewrote its AOF during the throughput runs (aof_rewrites=%s)"
                             % (t.label, info.get("aof_rewrites")))
            if t.dead:
                notes.append("%s exited during the throughput runs" % t.label)
    finally:
        for t in targets:
            t.server.stop()
            shutil.rmtree(t.server.workdir, ignore_errors=True)


# ------------------------------------------------------ 5: smooth BGSAVE ---

def tree_mem_kb(pid):
    """(Pss sum, Rss sum, number of processes) over pid and its children."""
    pss = rss = n = 0
    for p in [pid] + bl.proc_children(pid):
        m = bl.proc_smaps_rollup_kb(p)
        if m:
            pss += m.get("Pss", 0)
            rss += m.get("Rss", 0)
            n += 1
    return pss, rss, n


def test_bgsave_smooth(running, ds, bench, args, res, notes):
    r5 = res.setdefault("bgsave_under_load", {})
    order = [running[k] for k in ("Kasi", "Redis") if k in running]
    for rnd in range(args.bg_rounds):
        for s in order:
            d = r5.setdefault(s.label, dict(samples=[]))
            try:
                smp = bgsave_round(s, ds, bench, args)
                d["samples"].append(smp)
                log("  %s BGSAVE under load round %d: %.3f s, Pss +%.1f%%, Rss sum +%.1f%%, max probe %.2f ms "
                    "(pre-save max %.2f ms), %s probes in the save"
                    % (s.label, rnd + 1, smp["bgsave_s"], smp["growth_pss_pct"], smp["growth_rss_pct"],
                       smp["probe_max_ms"], smp["probe_pre_max_ms"], smp["probes_in_save"]))
            except Exception as e:  # noqa: BLE001
                d.setdefault("errors", []).append(str(e))
                notes.append("%s: BGSAVE-under-load round failed: %s" % (s.label, str(e).splitlines()[0]))
    for lab, d in r5.items():
        ss = d["samples"]
        for k in ("bgsave_s", "growth_pss_pct", "growth_rss_pct", "pre_range_pss_pct", "probe_max_ms", "probe_pre_max_ms",
                  "probe_p99_ms", "probe_pre_p99_ms", "bgsave_reply_ms", "fork_usec", "writes_per_s_during",
                  "writes_per_s_pre", "probe_gap_max_ms", "probe_over_goal_pct", "probe_pre_over_goal_pct"):
            d[k + "_median"] = bl.median([x.get(k) for x in ss])
        for k in ("growth_pss_pct", "growth_rss_pct", "probe_max_ms"):
            vals = [x.get(k) for x in ss if x.get(k) is not None]
            d[k + "_worst"] = max(vals) if vals else None


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bgsave_round(s, ds, bench, args):
    pid = s.pid
    load = probe = None
    samples = []                                   # (t, pss, rss, nproc)
    try:
        load = subprocess.Popen([bench, "-h", "127.0.0.1", "-p", str(s.port), "-t", "set", "-r", str(ds.n),
                                 "-n", "2000000000", "-c", "50", "-P", str(args.bg_pipeline),
                                 "-d", str(VAL_SIZE), "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        probe = bl.spawn_probe(os.path.abspath(__file__), s.port, args.probe_interval_ms / 1000.0,
                               args.probe_cmd, ds.n, args.run_timeout)
        time.sleep(args.bg_warmup)
        iv = args.sample_interval_ms / 1000.0
        c = s.client(timeout=args.run_timeout)
        cmds0 = info_int(c.info("stats"), "total_commands_processed")

        def sample():
            pss, rss, n = tree_mem_kb(pid)
            samples.append((time.monotonic(), pss, rss, n))

        t_pre0 = time.monotonic()
        while time.monotonic() - t_pre0 < args.bg_pre:
            sample()
            time.sleep(iv)
        cmds1 = info_int(c.info("stats"), "total_commands_processed")
        t_pre1 = time.monotonic()
        last = [0.0]

        def tick():
            now = time.monotonic()
            if now - last[0] >= iv * 0.9:
                last[0] = now
                sample()
        t_cmd = time.monotonic()
        b = bgsave_wait(c, args.run_timeout, poll=iv, on_tick=tick)
        t_done = time.monotonic()
        sample()
        cmds2 = info_int(c.info("stats"), "total_commands_processed")
        stats = c.info("stats")
        pinfo = c.info("persistence")
        t_post = time.monotonic()
        while time.monotonic() - t_post < 0.3:
            sample()
            time.sleep(iv)
        c.close()
    finally:
        out = b""
        if probe is not None:
            if probe.poll() is None:
                probe.send_signal(signal.SIGTERM)
            try:
                out, _ = probe.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                probe.kill()
                probe.communicate()
        if load is not None:
            if load.poll() is None:
                load.send_signal(signal.SIGTERM)
            try:
                load.wait(timeout=20)
            except subprocess.TimeoutExpired:
                load.kill()
                load.wait()
    if not s.alive():
        raise RuntimeError("server exited during the BGSAVE-under-load round; log tail:\n" + s.log_tail())
    pr = json.loads(out or b"{}")
    ts, lats = pr.get("t", []), pr.get("lat", [])
    pre = [(t, p, r) for (t, p, r, n) in samples if t_pre0 <= t <= t_pre1]
    during = [(t, p, r, n) for (t, p, r, n) in samples if t_cmd <= t <= t_done]
    pre_pss = bl.median([p for _, p, _ in pre])
    pre_rss = bl.median([r for _, _, r in pre])
    peak_pss = max(p for _, p, _, _ in during) if during else None
    peak_rss = max(r for _, _, r, _ in during) if during else None
    # a probe belongs to the save if it was in flight at any moment of [t_cmd, t_done]
    in_save = [lat for t, lat in zip(ts, lats) if t <= t_done and t + lat >= t_cmd]
    in_pre = [lat for t, lat in zip(ts, lats) if t_pre0 <= t and t + lat <= t_pre1]
    sends_in_save = [t for t in ts if t_cmd <= t <= t_done]
    gaps = [b2 - a for a, b2 in zip(sends_in_save, sends_in_save[1:])]
    return dict(
        bgsave_s=b["seconds"], bgsave_status=b["status"], bgsave_reply_ms=b["reply_s"] * 1e3,
        pre_pss_kb=pre_pss, pre_rss_kb=pre_rss, peak_pss_kb=peak_pss, peak_rss_kb=peak_rss,
        max_procs=max((n for *_, n in during), default=None),
        growth_pss_pct=(peak_pss - pre_pss) / pre_pss * 100 if pre_pss and peak_pss else None,
        growth_rss_pct=(peak_rss - pre_rss) / pre_rss * 100 if pre_rss and peak_rss else None,
        pre_range_pss_pct=((max(p for _, p, _ in pre) - min(p for _, p, _ in pre)) / pre_pss * 100
                           if pre and pre_pss else None),
        mem_samples_in_save=len(during),
        probes_in_save=len(in_save), probe_errors=pr.get("errors"), probe_nice=pr.get("nice"),
        probe_over_goal_pct=(100.0 * sum(1 for x in in_save if x * 1e3 > GOALS["stall_ms"]) / len(in_save)
                             if in_save else None),
        probe_pre_over_goal_pct=(100.0 * sum(1 for x in in_pre if x * 1e3 > GOALS["stall_ms"]) / len(in_pre)
                                 if in_pre else None),
        probe_max_ms=max(in_save) * 1e3 if in_save else None,
        probe_p99_ms=pct(in_save, 0.99) * 1e3 if in_save else None,
        probe_pre_max_ms=max(in_pre) * 1e3 if in_pre else None,
        probe_pre_p99_ms=pct(in_pre, 0.99) * 1e3 if in_pre else None,
        probe_gap_max_ms=max(gaps) * 1e3 if gaps else None,
        writes_per_s_pre=(cmds1 - cmds0) / (t_pre1 - t_pre0) if cmds0 is not None and cmds1 else None,
        writes_per_s_during=(cmds2 - cmds1) / (t_done - t_pre1) if cmds1 is not None and cmds2 else None,
        fork_usec=info_int(stats, "latest_fork_usec") if s.kind == "redis" else None,
        rdb_last_cow_size=info_int(pinfo, "rdb_last_cow_size"),
        mem_trace=[(round(t - t_cmd, 4), p, r, n) for (t, p, r, n) in samples],
        probe_trace_in_save=[(round(t - t_cmd, 4), round(lat * 1e3, 3)) for t, lat in zip(ts, lats)
                             if t <= t_done and t + lat >= t_cmd])


# ---------------------------------------------------------------- report ---

g = bl.dig


def fmt(x, digits=3):
    return bl.fmt_num(x, digits)


def goal_cell(val, goal, le=True, unit=""):
    if goal is None:
        return ""
    txt = ("<= %s%s" if le else ">= %s%s") % (goal, unit)
    if val is None:
        return txt
    ok = val <= goal if le else val >= goal
    return "%s: %s" % (txt, "met" if ok else "**missed**")


def report(res, args, versions, notes):
    K, R = "Kasi", "Redis"
    rows = []

    def add(label, k, r, digits=3, goal=None, le=True, unit="", ratio=True):
        rows.append([label, fmt(k, digits), fmt(r, digits),
                     bl.fmt_ratio(bl.ratio(k, r)) if ratio else "",
                     goal_cell(k, goal, le, unit)])

    n = args.keys
    nk = "{:,}".format(n)
    s1 = res.get("snapshot", {})
    if s1:
        add("1. fill %s keys, pipelined MSET (s)" % nk, g(s1, K, "fill_s"), g(s1, R, "fill_s"), 2)
        add("1. SAVE (s)", g(s1, K, "save_median_s"), g(s1, R, "save_median_s"))
        add("1. BGSAVE until done (s)", g(s1, K, "bgsave_median_s"), g(s1, R, "bgsave_median_s"))
        fk, fr = g(s1, K, "file_bytes"), g(s1, R, "file_bytes")
        add("1. snapshot file (MB)", fk and fk / MB, fr and fr / MB, 1)
        add("1. snapshot bytes per key", fk and fk / n, fr and fr / n, 1)
    s2 = res.get("load", {})
    if s2:
        add("2. restart on snapshot: ready, PONG + loading:0 (s)", g(s2, K, "ready_median_s"),
            g(s2, R, "ready_median_s"), goal=GOALS["load_s"] if n >= 1000000 else None, unit=" s")
        add("2. restart on snapshot: port accepts connections (s)", g(s2, K, "listen_median_s"),
            g(s2, R, "listen_median_s"))
    s3 = res.get("aof", {})
    if s3:
        na = "{:,}".format(args.aof_writes)
        add("3. write %s SETs, -P 16, everysec (req/s)" % na, g(s3, K, "write_rps"), g(s3, R, "write_rps"), 0)
        ak, ar = g(s3, K, "aof_total_bytes"), g(s3, R, "aof_total_bytes")
        add("3. AOF files after shutdown (MB)", ak and ak / MB, ar and ar / MB, 1)
        add("3. incr AOF bytes per SET", g(s3, K, "incr_bytes_per_write"), g(s3, R, "incr_bytes_per_write"), 1)
        add("3. AOF rewrites during the writes", _int(g(s3, K, "info_after_writes", "aof_rewrites")),
            _int(g(s3, R, "info_after_writes", "aof_rewrites")), 0, ratio=False)
        add("3. restart on AOF: ready (s)", g(s3, K, "ready_median_s"), g(s3, R, "ready_median_s"),
            goal=GOALS["aof_load_s"] if args.aof_writes >= 1000000 else None, unit=" s")
    s4 = res.get("throughput", {})
    for rid, rlab in (("set-32b-p1", "unpipelined"), ("set-32b-p16", "pipeline 16")):
        row = s4.get(rid)
        if not row:
            continue
        m = row["median"]
        for mode in ("aof-everysec", "aof-always"):
            rk = bl.ratio(g(m, "Kasi " + mode, "rps"), g(m, "Kasi off", "rps"))
            rr = bl.ratio(g(m, "Redis " + mode, "rps"), g(m, "Redis off", "rps"))
            add("4. SET %s: %s / in-memory req/s" % (rlab, MODE_LABEL[mode]), rk, rr, 2,
                goal=GOALS["everysec_ratio"] if mode == "aof-everysec" else None, le=False)
    s5 = res.get("bgsave_under_load", {})
    if s5:
        add("5. BGSAVE under write load (s)", g(s5, K, "bgsave_s_median"), g(s5, R, "bgsave_s_median"))
        add("5. peak memory growth, Pss sum (%)", g(s5, K, "growth_pss_pct_median"),
            g(s5, R, "growth_pss_pct_median"), 1, goal=GOALS["growth_pct"], unit="%")
        add("5. peak memory growth, Rss sum (%)", g(s5, K, "growth_rss_pct_median"),
            g(s5, R, "growth_rss_pct_median"), 1)
        add("5. Pss range in the 1 s before the save, same load (%)", g(s5, K, "pre_range_pss_pct_median"),
            g(s5, R, "pre_range_pss_pct_median"), 1)
        add("5. longest probe during the save (ms)", g(s5, K, "probe_max_ms_median"),
            g(s5, R, "probe_max_ms_median"), 2, goal=GOALS["stall_ms"], unit=" ms")
        add("5. p99 probe during the save (ms)", g(s5, K, "probe_p99_ms_median"), g(s5, R, "probe_p99_ms_median"), 2)
        add("5. longest probe before the save, same load (ms)", g(s5, K, "probe_pre_max_ms_median"),
            g(s5, R, "probe_pre_max_ms_median"), 2)
        add("5. probes over %g ms during / before the save (%%)" % GOALS["stall_ms"], None, None)
        for col, lab in ((1, K), (2, R)):
            rows[-1][col] = "%s / %s" % (fmt(g(s5, lab, "probe_over_goal_pct_median"), 1),
                                         fmt(g(s5, lab, "probe_pre_over_goal_pct_median"), 1))
        rows[-1][3] = ""
        add("5. BGSAVE reply latency (ms)", g(s5, K, "bgsave_reply_ms_median"), g(s5, R, "bgsave_reply_ms_median"), 2)
        add("5. writes/s before / during the save", None, None)
        rows[-1][1] = "%s / %s" % (fmt(g(s5, K, "writes_per_s_pre_median"), 0), fmt(g(s5, K, "writes_per_s_during_median"), 0))
        rows[-1][2] = "%s / %s" % (fmt(g(s5, R, "writes_per_s_pre_median"), 0), fmt(g(s5, R, "writes_per_s_during_median"), 0))
        rows[-1][3] = ""

    md = []
    md.append("Kasi %s (git %s) vs Redis %s, same settings, %s keys of %d B + %d B values (random base64); "
              "%d CPUs; medians of %d round%s; Kasi/Redis ratios (times, sizes, memory, latency: lower is better)."
              % (versions.get(K, "?"), bl.git_rev(), versions.get(R, "?"), nk, KEY_SIZE, VAL_SIZE,
                 os.cpu_count(), args.rounds, "" if args.rounds == 1 else "s"))
    md.append("")
    md.append(bl.markdown_table(["measure", "Kasi", "Redis 7", "Kasi/Redis", "Kasi goal"], rows))
    md.append("")
    if s4:
        trows = []
        for rid in ("set-32b-p1", "set-32b-p16"):
            row = s4.get(rid)
            if not row:
                continue
            m = row["median"]
            for mode in MODES:
                mk, mr = m.get("Kasi " + mode), m.get("Redis " + mode)
                trows.append([row["label"], MODE_LABEL[mode],
                              fmt(g(mk, "rps"), 0), fmt(g(mr, "rps"), 0),
                              bl.fmt_ratio(bl.ratio(g(mk, "rps"), g(mr, "rps"))),
                              fmt(g(mk, "p50_ms")), fmt(g(mr, "p50_ms")),
                              fmt(g(mk, "p99_ms")), fmt(g(mr, "p99_ms")),
                              fmt(g(mk, "cpu_s_per_mreq"), 2), fmt(g(mr, "cpu_s_per_mreq"), 2),
                              bl.fmt_ratio(bl.ratio(g(mk, "cpu_s_per_mreq"), g(mr, "cpu_s_per_mreq")))])
        md.append("4. Throughput with persistence (redis-benchmark -t set -d 32 -r 100000, 50 conns; medians of %d "
                  "rounds):" % args.tp_rounds)
        md.append("")
        md.append(bl.markdown_table(["benchmark", "persistence", "Kasi req/s", "Redis req/s", "ratio",
                                     "Kasi p50 ms", "Redis p50 ms", "Kasi p99 ms", "Redis p99 ms",
                                     "Kasi CPU s/M", "Redis CPU s/M", "CPU ratio"], trows,
                                    align=["l", "l"] + ["r"] * 10))
        md.append("")
    for x in notes:
        md.append("Note: " + x)
    return "\n".join(md).rstrip(), rows


def _int(x):
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def summary_line(res, args):
    def m(*p):
        v = g(res, *p)
        return round(v, 4) if isinstance(v, float) else v
    out = dict(kind="persist", keys=args.keys, kasi_git=bl.git_rev())
    for lab in ("Kasi", "Redis"):
        k = lab.lower()
        out[k] = dict(
            save_s=m("snapshot", lab, "save_median_s"), bgsave_s=m("snapshot", lab, "bgsave_median_s"),
            snapshot_bytes=m("snapshot", lab, "file_bytes"),
            load_ready_s=m("load", lab, "ready_median_s"),
            aof_write_rps=m("aof", lab, "write_rps"), aof_bytes=m("aof", lab, "aof_total_bytes"),
            aof_rewrites=_int(m("aof", lab, "info_after_writes", "aof_rewrites")),
            aof_load_ready_s=m("aof", lab, "ready_median_s"),
            bgsave_load_s=m("bgsave_under_load", lab, "bgsave_s_median"),
            growth_pss_pct=m("bgsave_under_load", lab, "growth_pss_pct_median"),
            growth_rss_pct=m("bgsave_under_load", lab, "growth_rss_pct_median"),
            probe_max_ms=m("bgsave_under_load", lab, "probe_max_ms_median"))
        for rid in ("set-32b-p1", "set-32b-p16"):
            for mode in MODES:
                v = g(res, "throughput", rid, "median", "%s %s" % (lab, mode), "rps")
                out[k]["%s_%s_rps" % (rid, mode)] = round(v) if v else None
            out[k]["%s_everysec_ratio" % rid] = (
                round(bl.ratio(g(res, "throughput", rid, "median", lab + " aof-everysec", "rps"),
                               g(res, "throughput", rid, "median", lab + " off", "rps")) or 0, 3) or None)
    k = out["kasi"]

    def goal(v, lim, le=True):
        return None if v is None else (v <= lim if le else v >= lim)
    out["kasi_goals_met"] = dict(
        load_lt_1s=goal(k["load_ready_s"], GOALS["load_s"]) if args.keys >= 1000000 else None,
        aof_load_lt_2s=goal(k["aof_load_ready_s"], GOALS["aof_load_s"]) if args.aof_writes >= 1000000 else None,
        everysec_p1=goal(k["set-32b-p1_everysec_ratio"], GOALS["everysec_ratio"], False),
        everysec_p16=goal(k["set-32b-p16_everysec_ratio"], GOALS["everysec_ratio"], False),
        bgsave_growth=goal(k["growth_pss_pct"], GOALS["growth_pct"]),
        bgsave_stall=goal(k["probe_max_ms"], GOALS["stall_ms"]))
    return out


# ------------------------------------------------------------------ main ---

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=None, help="keys to load (default 1,000,000; --quick 200,000)")
    ap.add_argument("--quick", action="store_true", help="200k keys, 1 round, 1/5 of the throughput requests")
    ap.add_argument("--rounds", type=int, default=None, help="repeats of each timing (default 3; --quick 1)")
    ap.add_argument("--bg-rounds", type=int, default=None, help="BGSAVE-under-load rounds (default --rounds)")
    ap.add_argument("--tp-rounds", type=int, default=None, help="throughput rounds (default 5; --quick 1)")
    ap.add_argument("--aof-writes", type=int, default=None, help="SETs written for the AOF test (default --keys)")
    ap.add_argument("--tests", default="1,2,3,4,5", help="which measurements, e.g. 1,2,5 (5 needs 2, 2 needs 1)")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's default)")
    ap.add_argument("--bg-pipeline", type=int, default=16, help="pipeline depth of the write load in 5")
    ap.add_argument("--bg-warmup", type=float, default=1.0, help="seconds of write load before sampling (5)")
    ap.add_argument("--bg-pre", type=float, default=1.0, help="seconds of pre-save sampling (5)")
    ap.add_argument("--probe-interval-ms", type=float, default=2.0)
    ap.add_argument("--probe-cmd", choices=("get", "ping", "set"), default="get")
    ap.add_argument("--sample-interval-ms", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kasi", default=None, help="path to kasi-server (default bin/kasi-server)")
    ap.add_argument("--redis-server", default=None)
    ap.add_argument("--redis-benchmark", default=None)
    ap.add_argument("--run-timeout", type=float, default=300.0, help="bound on any single step, seconds")
    ap.add_argument("--json", default=os.path.join(bl.RESULTS_DIR, "latest-persist.json"))
    ap.add_argument("--keep-logs", action="store_true", help="keep the temp dir (server logs, files)")
    ap.add_argument("--probe-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe_child:
        probe_main(*bl.probe_child_args(args.probe_child))
        return 0
    if args.keys is None:
        args.keys = 200000 if args.quick else 1000000
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.bg_rounds is None:
        args.bg_rounds = args.rounds
    if args.tp_rounds is None:
        args.tp_rounds = 1 if args.quick else 5
    if args.aof_writes is None:
        args.aof_writes = args.keys
    if args.keys < 1000 or args.rounds < 1:
        bl.die("--keys must be >= 1000 and --rounds >= 1")
    tests = {int(x) for x in args.tests.split(",") if x.strip()}
    if 5 in tests or 2 in tests:
        tests |= {1, 2}

    bl.install_signal_handlers()
    bl.raise_nofile(4096)
    kasi = bl.find_kasi(args.kasi)
    redis = bl.find_tool("redis-server", args.redis_server)
    bench = bl.find_tool("redis-benchmark", args.redis_benchmark)
    tmp = tempfile.mkdtemp(prefix="kasi-bench-persist-")
    kasi = bl.snapshot_binary(kasi, tmp)
    res, notes, versions = {}, [], {}
    t_start = time.monotonic()
    running = {}
    try:
        # versions (and whether Kasi takes the persistence directives at all)
        for kind, binary, label in (("kasi", kasi, "Kasi"), ("redis", redis, "Redis")):
            s = new_server(kind, binary, "off", tmp, args, label)
            try:
                s.start()
                versions[label], th = server_version(s)
                if th:
                    versions[label + "_threads"] = th
            except Exception as e:  # noqa: BLE001
                notes.append("%s does not start with the persistence settings (%s): %s"
                             % (label, " ".join(shlex.quote(a) for a in mode_args(kind, "off", "DIR", args.threads)),
                                str(e).splitlines()[-1]))
            finally:
                s.stop()
        log("Kasi %s, Redis %s; %s keys" % (versions.get("Kasi", "?"), versions.get("Redis", "?"),
                                            "{:,}".format(args.keys)))
        ds = Dataset(args.keys, args.seed)
        if 1 in tests:
            log("1+2. snapshot, SAVE/BGSAVE, restart on it")
            servers = [new_server("kasi", kasi, "snapshot", tmp, args, "Kasi"),
                       new_server("redis", redis, "snapshot", tmp, args, "Redis")]
            running = test_snapshot_and_load(servers, ds, args, res, notes)
        if 5 in tests:
            log("5. BGSAVE under write load")
            test_bgsave_smooth(running, ds, bench, args, res, notes)
        for s in running.values():
            s.stop()
            shutil.rmtree(s.workdir, ignore_errors=True)
        running = {}
        ds = None
        if 3 in tests:
            log("3. AOF replay")
            test_aof_replay(kasi, redis, bench, tmp, args, res, notes)
        if 4 in tests:
            log("4. throughput with AOF")
            test_throughput(kasi, redis, bench, tmp, args, res, notes)
    finally:
        for s in running.values():
            s.stop()
        if args.keep_logs:
            log("temp dir kept: %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - t_start
    md, _ = report(res, args, versions, notes)
    print(md)
    summ = summary_line(res, args)
    summ["elapsed_s"] = round(elapsed, 1)
    print(json.dumps(summ, separators=(",", ":")))
    doc = dict(kind="persist", environment=bl.environment(),
               settings=dict(keys=args.keys, rounds=args.rounds, bg_rounds=args.bg_rounds, tp_rounds=args.tp_rounds,
                             quick=args.quick,
                             aof_writes=args.aof_writes, tests=sorted(tests), kasi_threads=args.threads,
                             bg_pipeline=args.bg_pipeline, probe_cmd=args.probe_cmd,
                             probe_interval_ms=args.probe_interval_ms,
                             sample_interval_ms=args.sample_interval_ms,
                             mode_args={m: dict(kasi=mode_args("kasi", m, "DIR", args.threads),
                                                redis=mode_args("redis", m, "DIR", None)) for m in
                                        ("snapshot",) + MODES},
                             thp=_read("/sys/kernel/mm/transparent_hugepage/enabled"),
                             redis_benchmark=bl.tool_version(bench), elapsed_s=round(elapsed, 1)),
               versions=versions, results=res, summary=summ, notes=notes, markdown=md)
    bl.write_json(args.json, doc)
    log("(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed))
    return 0


def _read(p):
    try:
        with open(p) as f:
            return f.read().strip()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
