#!/usr/bin/env python3
"""Kasi vs Redis 7: request latency while the keyspace grows from empty to N keys.

Goal (Kasi): while the table grows from empty to 10M keys under load, no
request waits more than 5 ms.

For each server in turn (Kasi, then Redis; one server at a time, each started
fresh and empty on a free loopback port with persistence off, the settings of
benchlib.Server):

 1. A probe process (nice -10 when allowed) sends one GET every 2 ms over its
    own connection and times each request; it runs for the whole test.
 2. Idle: 0.5 s of probes with no load.
 3. Growth: --loaders loader processes insert N distinct new keys
    (key:%012d, 16 B; values val:%028d, 32 B) with pipelined MSET
    (--mset-keys 20 keys per command, --chunk 10 commands per write of about
    12 KB, at most two writes in flight per connection). Loader j of L writes the contiguous
    index range [j*N/L, (j+1)*N/L), so every key is new and DBSIZE must end
    at exactly N. Meanwhile the parent samples DBSIZE and the server's VmRSS
    every 20 ms, so each probe can be placed at the table size it ran at.
 4. Baseline: the same loaders, same batching, overwrite their own keys
    (values new:%028d) for as long as the growth took: the same load with
    no growth, to show this machine's own noise. DBSIZE is checked again.

    /usr/bin/python3 bench/growth.py               # 10,000,000 keys, 1 round: ~1-2 min
    /usr/bin/python3 bench/growth.py --quick       # 1,000,000 keys: ~10 s
    /usr/bin/python3 bench/growth.py --keys 3000000 --rounds 3 --threads 1

Prints a Markdown report, then one line of JSON; the full JSON (every probe
and every DBSIZE/RSS sample) goes to bench/results/latest-growth.json.
"""
import argparse
import bisect
import json
import os
import signal
import subprocess
import sys
import tempfile
import shutil
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

GOAL_MS = 5.0
KEY_FMT = b"key:%012d"          # 16 bytes: redis-benchmark's -r names
KV_NEW = b"$16\r\nkey:%012d\r\n$32\r\nval:%028d\r\n"
KV_OVER = b"$16\r\nkey:%012d\r\n$32\r\nnew:%028d\r\n"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[:3]
    except OSError:
        return None


def proc_threads(pid):
    return bl.proc_status_kb(pid, "Threads")     # the field is a plain number


# ------------------------------------------------------------ probe child ---

def probe_main(port, interval_s, cmd, nkeys, max_s):
    """GET (or PING, or both in turn with cmd "alt") every interval_s: see
    benchlib.paced_probe."""
    get_head = b"*2\r\n$3\r\nGET\r\n$16\r\n"
    ping = b"*1\r\n$4\r\nPING\r\n"

    def request(i):
        if cmd == "get" or (cmd == "alt" and i % 2 == 0):
            return get_head + (KEY_FMT % ((i * 7919) % nkeys)) + b"\r\n", "g"
        return ping, "p"
    bl.paced_probe(port, interval_s, max_s, request, timeout=60)


# ----------------------------------------------------------- loader child ---

def build_chunk(lo, hi, per_cmd, kv):
    """Pipelined MSET (or SET when per_cmd == 1) of indices [lo, hi)."""
    parts = []
    n = 0
    for s in range(lo, hi, per_cmd):
        e = min(hi, s + per_cmd)
        if per_cmd == 1:
            parts.append(b"*3\r\n$3\r\nSET\r\n")
        else:
            parts.append(b"*%d\r\n$4\r\nMSET\r\n" % (1 + 2 * (e - s)))
        parts.append(b"".join([kv % (i, i) for i in range(s, e)]))
        n += 1
    return b"".join(parts), n


def loader_main(port, lo, hi, mode, per_cmd, chunk_cmds, deadline):
    """Write keys [lo, hi): mode 'new' once; mode 'over' round and round until
    `deadline` (a time.monotonic() value, shared clock with the parent).
    At most two chunks in flight: send chunk k+1, then read chunk k's replies.
    Prints JSON: first send, last reply, keys and commands written."""
    kv = KV_NEW if mode == "new" else KV_OVER
    c = bl.Client(port, timeout=120)
    step = per_cmd * chunk_cmds
    keys = cmds = 0
    err = None
    inflight = []                  # [(ncmds, nkeys)]

    def drain_one():
        ncmd, nk = inflight.pop(0)
        while c.buf.count(b"\r\n") < ncmd:
            c._fill()
        ok = b"+OK\r\n" * ncmd
        if not c.buf.startswith(ok):
            raise RuntimeError("unexpected reply: %r" % c.buf[:160])
        c.buf = c.buf[len(ok):]
        return ncmd, nk

    pos = lo
    t0 = time.monotonic()
    try:
        while True:
            if mode == "new":
                if pos >= hi:
                    break
            else:
                if time.monotonic() >= deadline:
                    break
                if pos >= hi:
                    pos = lo
            if mode == "new" and time.monotonic() >= deadline:
                err = "deadline passed at index %d of [%d, %d)" % (pos, lo, hi)
                break
            end = min(hi, pos + step)
            payload, ncmd = build_chunk(pos, end, per_cmd, kv)
            c.sock.sendall(payload)
            inflight.append((ncmd, end - pos))
            pos = end
            if len(inflight) >= 2:
                a, b = drain_one()
                cmds += a
                keys += b
        while inflight:
            a, b = drain_one()
            cmds += a
            keys += b
    except (OSError, ConnectionError, RuntimeError) as e:
        err = str(e)
    t1 = time.monotonic()
    c.close()
    sys.stdout.write(json.dumps(dict(t0=t0, t1=t1, keys=keys, cmds=cmds, error=err)))
    sys.stdout.flush()


# ---------------------------------------------------------------- helpers ---

def stop_child(p, timeout=30.0):
    """SIGTERM one child we started (by its pid), then SIGKILL; returns stdout."""
    if p is None:
        return b""
    out, _, _ = bl.collect_child(p, timeout)
    return out or b""


def pct(sorted_xs, q):
    if not sorted_xs:
        return None
    return sorted_xs[min(len(sorted_xs) - 1, int(q * len(sorted_xs)))]


def lat_stats(lats_s):
    """p50/p99/p99.9/max in ms and the count over the goal."""
    xs = sorted(lats_s)
    if not xs:
        return dict(n=0, p50_ms=None, p99_ms=None, p999_ms=None, max_ms=None, over_goal=None)
    return dict(n=len(xs), p50_ms=pct(xs, 0.50) * 1e3, p99_ms=pct(xs, 0.99) * 1e3,
                p999_ms=pct(xs, 0.999) * 1e3, max_ms=xs[-1] * 1e3,
                over_goal=sum(1 for x in xs if x * 1e3 > GOAL_MS))


class Trace:
    """(t, dbsize, rss kB) samples; DBSIZE at any t by linear interpolation."""

    def __init__(self, samples):
        self.s = sorted(samples)
        self.t = [x[0] for x in self.s]

    def at(self, t):
        if not self.s:
            return None, None
        i = bisect.bisect_left(self.t, t)
        if i <= 0:
            return self.s[0][1], self.s[0][2]
        if i >= len(self.s):
            return self.s[-1][1], self.s[-1][2]
        (ta, da, ra), (tb, db, rb) = self.s[i - 1], self.s[i]
        if da is None or db is None or tb <= ta:
            return da if da is not None else db, ra
        return int(round(da + (db - da) * (t - ta) / (tb - ta))), ra


# -------------------------------------------------------------- one server ---

def spawn_loaders(script, port, n, mode, args, deadline):
    procs = []
    L = args.loaders
    for j in range(L):
        lo, hi = j * n // L, (j + 1) * n // L
        spec = "%d,%d,%d,%s,%d,%d,%f" % (port, lo, hi, mode, args.mset_keys, args.chunk, deadline)
        procs.append(subprocess.Popen([sys.executable, script, "--loader-child", spec,
                                       "--loader-nice", str(args.loader_nice)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL))
    return procs


def watch_loaders(procs, server, c, samples, deadline, every=0.02):
    """Sample (t, DBSIZE, RSS) until every loader has exited or `deadline`;
    returns (loader reports, timed_out)."""
    timed_out = False
    while any(p.poll() is None for p in procs):
        t = time.monotonic()
        if t > deadline:
            timed_out = True
            break
        try:
            db = c.call("DBSIZE")
        except (OSError, ConnectionError, bl.RespError):
            db = None
        samples.append((t, db, server.rss_kb()))
        time.sleep(every)
    reps = []
    for p in procs:
        out = stop_child(p, timeout=10)
        try:
            reps.append(json.loads(out or b"{}"))
        except ValueError:
            reps.append(dict(error="no report: %r" % out[:200]))
    return reps, timed_out


def run_server(kind, binary, label, args, tmp):
    """One full measurement on a fresh server: idle, growth, baseline."""
    script = os.path.abspath(__file__)
    extra = ["--threads", str(args.threads)] if (kind == "kasi" and args.threads) else []
    wd = tempfile.mkdtemp(prefix="%s-" % kind, dir=tmp)
    s = bl.Server(kind, binary, extra, label=label, workdir=wd)
    res = dict(label=label, errors=[])
    probe = None
    loaders = []
    samples = []
    t_begin = time.monotonic()
    hard_deadline = t_begin + args.run_timeout
    n = args.keys
    g0 = g1 = b0 = b1 = t_idle0 = t_idle1 = None
    pout = b""
    try:
        s.start()
        with s.client(timeout=60) as c0:
            info = c0.info("server")
            res["version"] = info.get("kasi_version") or info.get("redis_version")
            res["threads_config"] = int(info["executable_threads"]) if info.get("executable_threads") else None
            if c0.call("DBSIZE") != 0:
                raise RuntimeError("server not empty at start")
        res["os_threads"] = proc_threads(s.pid)
        res["rss_kb_start"] = s.rss_kb()
        probe = bl.spawn_probe(script, s.port, args.probe_interval_ms / 1000.0, args.probe_cmd, n,
                               args.run_timeout)
        c = s.client(timeout=60)
        t_idle0 = time.monotonic()
        while time.monotonic() - t_idle0 < args.idle:
            samples.append((time.monotonic(), c.call("DBSIZE"), s.rss_kb()))
            time.sleep(0.02)
        t_idle1 = time.monotonic()

        # ---- growth
        log("  %s: growth to %s keys (%d loaders, MSET %d keys x %d per write)"
            % (label, "{:,}".format(n), args.loaders, args.mset_keys, args.chunk))
        cpu0 = s.cpu_seconds()
        loaders = spawn_loaders(script, s.port, n, "new", args, hard_deadline)
        reps, to = watch_loaders(loaders, s, c, samples, hard_deadline)
        loaders = []
        cpu1 = s.cpu_seconds()
        if to:
            raise RuntimeError("growth did not finish within --run-timeout %.0f s" % args.run_timeout)
        errs = [r.get("error") for r in reps if r.get("error")]
        if errs:
            raise RuntimeError("loader error: %s" % errs[0])
        g0 = min(r["t0"] for r in reps)
        g1 = max(r["t1"] for r in reps)
        res["growth_s"] = g1 - g0
        res["keys_written"] = sum(r["keys"] for r in reps)
        res["mset_cmds"] = sum(r["cmds"] for r in reps)
        res["keys_per_s"] = n / res["growth_s"]
        if res["keys_written"] != n:
            res["errors"].append("loaders wrote %d keys, expected %d" % (res["keys_written"], n))
        res["server_cpu_s_growth"] = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
        res["dbsize"] = c.call("DBSIZE")
        samples.append((time.monotonic(), res["dbsize"], s.rss_kb()))
        res["rss_kb_end"] = s.rss_kb()
        res["hwm_kb_end"] = bl.proc_status_kb(s.pid, "VmHWM")
        try:
            res["used_memory_end"] = int(c.info("memory").get("used_memory"))
        except (TypeError, ValueError):
            res["used_memory_end"] = None
        if res["dbsize"] != n:
            res["errors"].append("DBSIZE %s after growth, expected %d" % (res["dbsize"], n))
        for i in (0, n // 2, n - 1):
            v = c.call("GET", KEY_FMT % i)
            if v != b"val:%028d" % i:
                res["errors"].append("GET key %d = %r after growth" % (i, v))
        log("  %s: %s keys in %.2f s = %s keys/s, DBSIZE %s, RSS %.0f MB"
            % (label, "{:,}".format(n), res["growth_s"], bl.fmt_num(res["keys_per_s"]), res["dbsize"],
               (res["rss_kb_end"] or 0) / 1024))

        # ---- baseline: same load, no growth
        time.sleep(args.gap)
        dur = res["growth_s"] if args.baseline_s is None else args.baseline_s
        b_deadline = time.monotonic() + dur
        if b_deadline > hard_deadline:
            res["errors"].append("baseline cut short by --run-timeout")
            b_deadline = hard_deadline
        loaders = spawn_loaders(script, s.port, n, "over", args, b_deadline)
        reps_b, to = watch_loaders(loaders, s, c, samples, b_deadline + 60)
        loaders = []
        errs = [r.get("error") for r in reps_b if r.get("error")]
        if to or errs:
            res["errors"].append("baseline: %s" % (errs[0] if errs else "timed out"))
        if reps_b and all("t0" in r for r in reps_b):
            b0 = min(r["t0"] for r in reps_b)
            b1 = max(r["t1"] for r in reps_b)
            res["baseline_s"] = b1 - b0
            res["baseline_keys_per_s"] = sum(r["keys"] for r in reps_b) / (b1 - b0) if b1 > b0 else None
        else:
            b0 = b1 = None
        res["dbsize_after_baseline"] = c.call("DBSIZE")
        if res["dbsize_after_baseline"] != n:
            res["errors"].append("DBSIZE %s after the overwrite baseline, expected %d"
                                 % (res["dbsize_after_baseline"], n))
        res["rss_kb_after_baseline"] = s.rss_kb()
        time.sleep(0.1)
        c.close()
    except Exception as e:  # noqa: BLE001
        res["errors"].append(str(e).splitlines()[0] if str(e) else repr(e))
    finally:
        for p in loaders:
            stop_child(p, timeout=10)
        pout = stop_child(probe, timeout=30)
        if s.alive():
            s.stop()
        else:
            res["errors"].append("server exited during the run; log tail: %s" % s.log_tail(5))
        shutil.rmtree(wd, ignore_errors=True)

    try:
        pr = json.loads(pout or b"{}")
    except ValueError:
        pr = {}
    ts, lats = pr.get("t", []), pr.get("lat", [])
    res["probe_nice"] = pr.get("nice")
    res["probe_errors"] = pr.get("errors")
    if pr.get("error"):
        res["errors"].append("probe: %s" % pr["error"])
    tr = Trace(samples)

    def window(a, b):
        """Probes in flight at any moment of [a, b]."""
        if a is None or b is None:
            return []
        return [(t, lat) for t, lat in zip(ts, lats) if t <= b and t + lat >= a]

    grow = window(g0, g1)
    base = window(b0, b1)
    idle = window(t_idle0, t_idle1)
    res["growth_probes"] = lat_stats([x for _, x in grow])
    res["baseline_probes"] = lat_stats([x for _, x in base])
    res["idle_probes"] = lat_stats([x for _, x in idle])
    sends = [t for t, _ in grow]
    res["probe_send_gap_max_ms"] = max((b - a for a, b in zip(sends, sends[1:])), default=0) * 1e3 or None
    if grow:
        res["probe_interval_mean_ms"] = (sends[-1] - sends[0]) / max(1, len(sends) - 1) * 1e3
    worst = sorted(grow, key=lambda x: -x[1])[:args.worst]
    res["worst"] = []
    for t, lat in worst:
        db, rss = tr.at(t)
        res["worst"].append(dict(lat_ms=round(lat * 1e3, 3), elapsed_s=round(t - g0, 3), dbsize=db,
                                 rss_mb=round(rss / 1024, 1) if rss else None))
    worst_b = sorted(base, key=lambda x: -x[1])[:3]
    res["worst_baseline"] = [dict(lat_ms=round(lat * 1e3, 3), elapsed_s=round(t - b0, 3)) for t, lat in worst_b]
    # max probe per tenth of the key count
    nb = 10
    buckets = [[] for _ in range(nb)]
    for t, lat in grow:
        db, _ = tr.at(t)
        if db is None:
            continue
        buckets[min(nb - 1, max(0, db * nb // n))].append(lat)
    # insert rate through each tenth: when DBSIZE first reached its bounds
    gs = [(t, d) for t, d, _ in tr.s if d is not None and g0 is not None and g0 <= t <= g1 + 0.05]
    if g0 is not None:
        gs = [(g0, 0)] + gs

    def reached(k):
        for t, d in gs:
            if d >= k:
                return t
        return None
    res["by_size"] = []
    for i, b in enumerate(buckets):
        lo, hi = i * n // nb, (i + 1) * n // nb
        ta, tb = reached(lo), reached(hi)
        res["by_size"].append(dict(lo=lo, hi=hi, probes=len(b), max_ms=max(b) * 1e3 if b else None,
                                   over_goal=sum(1 for x in b if x * 1e3 > GOAL_MS),
                                   keys_per_s=(hi - lo) / (tb - ta) if ta is not None and tb and tb > ta
                                   else None))
    res["elapsed_s"] = time.monotonic() - t_begin
    if g0 is not None:
        res["samples"] = [(round(t - g0, 4), d, r) for t, d, r in samples]
        res["probe_trace"] = [(round(t - g0, 5), round(lat * 1e3, 3)) for t, lat in zip(ts, lats)]
    return res


# ----------------------------------------------------------------- report ---

SCALARS = [
    # (key path, label, digits, ratio?)
    (("os_threads",), "server threads (OS, at start)", 0, False),
    (("growth_s",), "time to reach N keys (s)", 2, True),
    (("keys_per_s",), "keys/s while growing", 0, True),
    (("dbsize",), "DBSIZE at the end", 0, False),
    (("rss_mb_end",), "RSS at the end (MB)", 0, True),
    (("server_cpu_s_growth",), "server CPU during growth (s)", 2, True),
    (("growth_probes", "n"), "probes during growth", 0, False),
    (("growth_probes", "p50_ms"), "probe p50 (ms)", 3, True),
    (("growth_probes", "p99_ms"), "probe p99 (ms)", 3, True),
    (("growth_probes", "p999_ms"), "probe p99.9 (ms)", 3, True),
    (("growth_probes", "max_ms"), "**probe max (ms)**", 3, True),
    (("growth_probes", "over_goal"), "probes over 5 ms", 0, False),
    (("probe_send_gap_max_ms",), "longest gap between probe sends (ms)", 1, False),
    (("baseline_s",), "baseline (overwrite, no growth) length (s)", 2, False),
    (("baseline_keys_per_s",), "baseline keys/s (overwrites)", 0, True),
    (("baseline_probes", "n"), "baseline probes", 0, False),
    (("baseline_probes", "p99_ms"), "baseline probe p99 (ms)", 3, True),
    (("baseline_probes", "max_ms"), "**baseline probe max (ms)**", 3, True),
    (("baseline_probes", "over_goal"), "baseline probes over 5 ms", 0, False),
    (("idle_probes", "max_ms"), "idle probe max (ms), no load", 3, True),
    (("rss_mb_after_baseline",), "RSS after the baseline (MB)", 0, True),
]


def g(d, path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def med(xs):
    """Median; a whole number stays an int."""
    v = bl.median(xs)
    return int(v) if isinstance(v, float) and v.is_integer() else v


def summarize(runs):
    """Median of each scalar over the rounds of one server."""
    out = {}
    for path, _, _, _ in SCALARS:
        out[path] = med([g(r, path) for r in runs])
    return out


def pooled_worst(runs, k):
    allw = []
    for ri, r in enumerate(runs):
        for w in r.get("worst", []):
            allw.append(dict(w, round=ri + 1))
    allw.sort(key=lambda w: -w["lat_ms"])
    return allw[:k]


def fmt(x, digits):
    return bl.fmt_num(x, digits)


def report(results, args, versions, env_end):
    K, R = results.get("Kasi", []), results.get("Redis", [])
    for runs in (K, R):
        for r in runs:
            r["rss_mb_end"] = r["rss_kb_end"] / 1024 if r.get("rss_kb_end") else None
            r["rss_mb_after_baseline"] = (r["rss_kb_after_baseline"] / 1024
                                          if r.get("rss_kb_after_baseline") else None)
    sk, sr = summarize(K), summarize(R)
    md = []
    kth = med([r.get("threads_config") for r in K])
    md.append("## Growth from empty to %s keys under load: Kasi vs Redis" % "{:,}".format(args.keys))
    md.append("")
    md.append("Kasi %s (%s worker threads%s), Redis %s; %d round%s%s. Load: %d loader processes, pipelined "
              "MSET of %d keys per command, %d commands per write, at most 2 writes in flight per loader; "
              "keys `key:%%012d` (16 B), values 32 B. Probe: one %s every %.1f ms (nice %s). "
              "Load average at start %s, at end %s."
              % (versions.get("Kasi", "?"), bl.fmt_num(kth), "" if args.threads else ", its default",
                 versions.get("Redis", "?"), args.rounds, "" if args.rounds == 1 else "s",
                 "" if args.rounds == 1 else " (medians)", args.loaders, args.mset_keys, args.chunk,
                 {"get": "GET", "ping": "PING", "alt": "PING/GET alternately"}[args.probe_cmd],
                 args.probe_interval_ms, med([r.get("probe_nice") for r in K + R]),
                 " ".join(args.loadavg_start or []), " ".join(env_end or [])))
    md.append("")
    rows = []
    for path, label, digits, rat in SCALARS:
        k, r = sk[path], sr[path]
        rows.append([label, fmt(k, digits), fmt(r, digits), bl.fmt_ratio(bl.ratio(k, r)) if rat else ""])
    kmax_all = max((g(r, ("growth_probes", "max_ms")) or 0 for r in K), default=None) if K else None
    met = None if not K or kmax_all is None else kmax_all <= GOAL_MS
    rows.append(["goal: no probe over 5 ms while growing (Kasi, worst round)",
                 "%s: %s" % (fmt(kmax_all, 3), "met" if met else "**missed**") if met is not None else "n/a",
                 "", ""])
    md.append(bl.markdown_table(["", "Kasi", "Redis", "Kasi/Redis"], rows))
    md.append("")

    # max probe per tenth of N
    md.append("Longest probe (ms), probes over 5 ms and insert rate by table size while growing%s "
              "(keys/s: the tenth's keys over the time DBSIZE took to cross it):"
              % ("" if args.rounds == 1 else " (worst over rounds; keys/s: median)"))
    md.append("")
    rows = []
    nb = 10
    for i in range(nb):
        cells = ["%s - %s" % (bl.fmt_num(i * args.keys // nb), bl.fmt_num((i + 1) * args.keys // nb))]
        for runs in (K, R):
            mx = [r["by_size"][i]["max_ms"] for r in runs if r.get("by_size") and r["by_size"][i]["max_ms"]]
            ov = sum(r["by_size"][i]["over_goal"] for r in runs if r.get("by_size"))
            rate = med([r["by_size"][i].get("keys_per_s") for r in runs if r.get("by_size")])
            cells += [fmt(max(mx), 2) if mx else "n/a", str(ov), fmt(rate, 0)]
        rows.append(cells)
    md.append(bl.markdown_table(["DBSIZE", "Kasi max", "Kasi >5 ms", "Kasi keys/s",
                                 "Redis max", "Redis >5 ms", "Redis keys/s"], rows))
    md.append("")

    for lab, runs in (("Kasi", K), ("Redis", R)):
        allw = pooled_worst(runs, args.worst)
        md.append("Worst %d probes while growing, %s%s:" % (args.worst, lab,
                                                            "" if args.rounds == 1 else " (all rounds)"))
        md.append("")
        rows = []
        for w in allw[:args.worst]:
            row = ["%.2f" % w["lat_ms"], "%.3f" % w["elapsed_s"], bl.fmt_num(w["dbsize"]),
                   bl.fmt_num(w["rss_mb"])]
            if args.rounds > 1:
                row.append(str(w["round"]))
            rows.append(row)
        hdr = ["latency (ms)", "elapsed (s)", "DBSIZE then", "RSS then (MB)"] + (["round"] if args.rounds > 1 else [])
        md.append(bl.markdown_table(hdr, rows, align=["r"] * len(hdr)))
        md.append("")
    for lab, runs in (("Kasi", K), ("Redis", R)):
        wb = sorted((dict(w, round=ri + 1) for ri, r in enumerate(runs) for w in r.get("worst_baseline", [])),
                    key=lambda w: -w["lat_ms"])[:3]
        if wb:
            md.append("Worst baseline probes, %s: %s." % (lab, ", ".join(
                "%.2f ms at %.2f s%s" % (w["lat_ms"], w["elapsed_s"],
                                         "" if args.rounds == 1 else " (round %d)" % w["round"]) for w in wb)))
    md.append("")
    notes = []
    for lab, runs in (("Kasi", K), ("Redis", R)):
        for ri, r in enumerate(runs):
            for e in r.get("errors", []):
                notes.append("%s round %d: %s" % (lab, ri + 1, e))
    if notes:
        md.append("Notes:")
        md.append("")
        md += ["* " + x for x in notes]
        md.append("")
    md.append("Elapsed times are from the first loader's first write; DBSIZE at a probe is interpolated "
              "from DBSIZE samples taken every 20 ms. A probe counts for a phase if it was in flight at any "
              "moment of it. The baseline overwrites the same keys with the same loaders for as long as the "
              "growth took, so its max is this machine's noise under that load.")
    return "\n".join(md), sk, sr, met, kmax_all


def summary_line(sk, sr, met, kmax_all, args, K, R):
    def m(s, path):
        v = s.get(path)
        return round(v, 4) if isinstance(v, float) else v
    out = dict(kind="growth", keys=args.keys, rounds=args.rounds, kasi_git=bl.git_rev())
    for lab, s, runs in (("kasi", sk, K), ("redis", sr, R)):
        out[lab] = dict(
            threads=med([r.get("threads_config") for r in runs]),
            os_threads=med([r.get("os_threads") for r in runs]),
            growth_s=m(s, ("growth_s",)), keys_per_s=m(s, ("keys_per_s",)), dbsize=m(s, ("dbsize",)),
            rss_mb=m(s, ("rss_mb_end",)),
            probes=m(s, ("growth_probes", "n")), p50_ms=m(s, ("growth_probes", "p50_ms")),
            p99_ms=m(s, ("growth_probes", "p99_ms")), p999_ms=m(s, ("growth_probes", "p999_ms")),
            max_ms=m(s, ("growth_probes", "max_ms")), over_5ms=m(s, ("growth_probes", "over_goal")),
            baseline_max_ms=m(s, ("baseline_probes", "max_ms")),
            baseline_over_5ms=m(s, ("baseline_probes", "over_goal")),
            worst_ms_dbsize=[(w["lat_ms"], w["dbsize"]) for w in pooled_worst(runs, 10)])
    out["kasi_goal_5ms_met"] = met
    out["kasi_max_ms_worst_round"] = round(kmax_all, 3) if kmax_all is not None else None
    return out


# ------------------------------------------------------------------- main ---

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=None, help="keys to insert (default 10,000,000; --quick 1,000,000)")
    ap.add_argument("--quick", action="store_true", help="1,000,000 keys")
    ap.add_argument("--rounds", type=int, default=1, help="repeats per server, alternating (medians)")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's default)")
    ap.add_argument("--loaders", type=int, default=2, help="loader processes (default 2)")
    ap.add_argument("--mset-keys", type=int, default=20, help="keys per MSET command (1 = SET; default 20)")
    ap.add_argument("--chunk", type=int, default=10,
                    help="commands per pipelined write (default 10: 200 keys, about 12 KB)")
    ap.add_argument("--loader-nice", type=int, default=0,
                    help="niceness added to the loader processes (default 0: same as the server)")
    ap.add_argument("--probe-interval-ms", type=float, default=2.0)
    ap.add_argument("--probe-cmd", choices=("get", "ping", "alt"), default="get")
    ap.add_argument("--idle", type=float, default=0.5, help="seconds of probing before the load starts")
    ap.add_argument("--gap", type=float, default=0.5, help="pause between growth and baseline (s)")
    ap.add_argument("--baseline-s", type=float, default=None, help="baseline length (default: the growth time)")
    ap.add_argument("--worst", type=int, default=10, help="worst probes listed per server")
    ap.add_argument("--servers", default="kasi,redis")
    ap.add_argument("--kasi", default=None, help="path to kasi-server (default bin/kasi-server)")
    ap.add_argument("--redis-server", default=None)
    ap.add_argument("--run-timeout", type=float, default=None,
                    help="bound on one server's whole run, s (default 900; --quick 300)")
    ap.add_argument("--json", default=os.path.join(bl.RESULTS_DIR, "latest-growth.json"))
    ap.add_argument("--probe-child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--loader-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe_child:
        probe_main(*bl.probe_child_args(args.probe_child))
        return 0
    if args.loader_child:
        port, lo, hi, mode, per, chunk, dl = args.loader_child.split(",")
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
        if args.loader_nice:
            try:
                os.nice(args.loader_nice)
            except OSError:
                pass
        loader_main(int(port), int(lo), int(hi), mode, int(per), int(chunk), float(dl))
        return 0
    if args.keys is None:
        args.keys = 1000000 if args.quick else 10000000
    if args.run_timeout is None:
        args.run_timeout = 300.0 if args.quick else 900.0
    if args.keys < 10000 or args.rounds < 1 or args.loaders < 1 or args.mset_keys < 1 or args.chunk < 1:
        bl.die("--keys >= 10000, --rounds, --loaders, --mset-keys, --chunk >= 1")
    if args.keys >= 10 ** 12:
        bl.die("--keys must fit key:%012d")
    servers = [x.strip() for x in args.servers.split(",") if x.strip()]

    args.loadavg_start = loadavg()
    bl.install_signal_handlers()
    bl.raise_nofile(4096)
    kasi = bl.find_kasi(args.kasi)
    redis = bl.find_tool("redis-server", args.redis_server)
    tmp = tempfile.mkdtemp(prefix="kasi-bench-growth-")
    env = None
    results = {"Kasi": [], "Redis": []}
    versions = {}
    t_start = time.monotonic()
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        env = bl.environment()
        log("growth: %s keys, load average %s" % ("{:,}".format(args.keys), " ".join(args.loadavg_start or [])))
        for rnd in range(args.rounds):
            for kind, binary, label in (("kasi", kasi, "Kasi"), ("redis", redis, "Redis")):
                if kind not in servers:
                    continue
                log("round %d, %s" % (rnd + 1, label))
                r = run_server(kind, binary, label, args, tmp)
                if r.get("version"):
                    versions[label] = r["version"]
                results[label].append(r)
                gp = r.get("growth_probes", {})
                log("  %s: probes %s, p99 %s ms, max %s ms, >5 ms %s; baseline max %s ms; errors %s"
                    % (label, gp.get("n"), fmt(gp.get("p99_ms"), 3), fmt(gp.get("max_ms"), 3),
                       gp.get("over_goal"), fmt(g(r, ("baseline_probes", "max_ms")), 3), r.get("errors")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    env_end = loadavg()
    elapsed = time.monotonic() - t_start
    md, sk, sr, met, kmax_all = report(results, args, versions, env_end)
    print(md)
    summ = summary_line(sk, sr, met, kmax_all, args, results["Kasi"], results["Redis"])
    summ["loadavg_start"] = args.loadavg_start
    summ["loadavg_end"] = env_end
    summ["elapsed_s"] = round(elapsed, 1)
    print(json.dumps(summ, separators=(",", ":")))
    if env is not None:
        env["loadavg_at_end"] = env_end
    doc = dict(kind="growth", environment=env,
               settings=dict(keys=args.keys, rounds=args.rounds, quick=args.quick, kasi_threads=args.threads,
                             loaders=args.loaders, mset_keys=args.mset_keys, chunk=args.chunk,
                             probe_cmd=args.probe_cmd, probe_interval_ms=args.probe_interval_ms,
                             idle_s=args.idle, baseline_s=args.baseline_s, run_timeout=args.run_timeout,
                             elapsed_s=round(elapsed, 1)),
               versions=versions, results=results, summary=summ, markdown=md)
    bl.write_json(args.json, doc)
    log("(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed))
    failed = any(r.get("errors") for rs in results.values() for r in rs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
