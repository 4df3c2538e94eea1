#!/usr/bin/env python3
"""Kasi vs Redis 7: cache miss ratio at the same maxmemory.

A read-through client (GET k; on a miss, SET k v) replays the same request
sequence (fixed seed) against each server, every one started fresh with the
same --maxmemory (default 8mb):

  * Redis 7 with allkeys-lru and with allkeys-lfu (--save '' --appendonly no);
  * Kasi with its default policy (s3fifo) and, for reference, with
    allkeys-lru and allkeys-lfu.

Workloads:

  zipf   Zipf(alpha=0.99) over 200,000 keys (16-byte keys, 100-byte values).
         A warm-up of 500,000 requests is not counted, then 2,000,000
         requests are measured (--warmup, --requests; --quick: 300k + 300k).
  scan   The same Zipf stream, and after every 10,000 Zipf requests
         (--scan-every) a sequential one-pass scan of 20,000 never-repeated
         cold keys (--scan-keys), also read-through.  Only the Zipf GETs count
         toward the miss ratio: it shows how well the hot set survives scans.

Batching: GETs are sent 64 at a time in one pipeline (--batch); then the SETs
for the distinct keys that missed in that batch go out in a second pipeline.
A key that appears twice in a batch and misses counts two misses (both GETs
really missed) but is SET once.

Miss ratio = Zipf GET misses / Zipf GETs in the measured phase, counted from
the replies; INFO keyspace_hits/keyspace_misses deltas over the measured phase
are checked against the client-side totals (Zipf + scan GETs).  Every hit's
value is compared with the expected bytes, and DBSIZE at the end must equal
DBSIZE at the start of the measured phase + SETs - evicted_keys.

Each (workload, server) pair runs --rounds times (default 3, --quick 1) on a
fresh server with the same request sequence; the median is reported.

    /usr/bin/python3 bench/missratio.py            # 3 rounds, about 5 minutes
    /usr/bin/python3 bench/missratio.py --quick    # 1 round of 300k+300k, about 35 s
    /usr/bin/python3 bench/missratio.py --rate 50000 --workloads zipf --rounds 1   # paced goal check
"""
import argparse
import array
import bisect
import os
import random
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

KEY_SIZE = 16                  # key:%012d, redis-benchmark's key format
SCAN_PREFIX = "scan:"          # scan keys: scan:%011d, also 16 bytes

SERVERS = [
    # id, label, kind, policy (None: the server's default)
    ("redis-lru", "Redis allkeys-lru", "redis", "allkeys-lru"),
    ("redis-lfu", "Redis allkeys-lfu", "redis", "allkeys-lfu"),
    ("kasi", "Kasi s3fifo (default)", "kasi", None),
    ("kasi-lru", "Kasi allkeys-lru", "kasi", "allkeys-lru"),
    ("kasi-lfu", "Kasi allkeys-lfu", "kasi", "allkeys-lfu"),
]
BASELINE = "redis-lru"
GOAL_RATIO = 0.75


def parse_size(s):
    """Redis-style memory size: 8mb = 8*1024*1024, 8m = 8,000,000."""
    s = s.strip().lower()
    units = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 10 ** 9), ("m", 10 ** 6),
             ("k", 1000), ("b", 1)]
    for u, m in units:
        if s.endswith(u):
            return int(float(s[:-len(u)]) * m)
    return int(s)


# ------------------------------------------------------------- workload ---

def zipf_stream(n_keys, alpha, count, seed):
    """`count` key ids drawn from Zipf(alpha) over n_keys ranks.  Rank r (1 is
    the most popular) has probability proportional to 1/r**alpha; ranks are
    mapped to key ids by a seeded random permutation, so popularity is not
    tied to key order.  Sampling: bisect on the precomputed CDF."""
    rng = random.Random(seed)
    cdf = []
    acc = 0.0
    for r in range(1, n_keys + 1):
        acc += 1.0 / (r ** alpha)
        cdf.append(acc)
    total = acc
    cdf = [c / total for c in cdf]
    cdf[-1] = 1.0
    perm = list(range(n_keys))
    rng.shuffle(perm)
    out = array.array("I", bytes(4 * count))
    rnd, bl_ = rng.random, bisect.bisect_left
    for i in range(count):
        out[i] = perm[bl_(cdf, rnd())]
    return out, cdf


def value_for(key, size):
    """Deterministic value of `size` bytes that names its key (so a hit that
    returns another key's value is caught)."""
    unit = key + b"|"
    return (unit * (size // len(unit) + 1))[:size]


def enc_get(key):
    return b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key)


def enc_set(key, val):
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(val), val)


class WorkloadError(Exception):
    pass


class ReadThrough:
    """One raw-socket connection doing batched read-through GET/SET."""

    def __init__(self, port, vsize, timeout=60.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.vsize = vsize
        self.hit_prefix = b"$%d\r\n" % vsize
        self.hit_len = len(self.hit_prefix) + vsize + 2
        self.set_errors = 0
        self.set_error_sample = None
        self.wrong_values = 0
        self.rate = None          # GETs per second to pace to (None: as fast as possible)
        self.sent = 0
        self.t0 = time.monotonic()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _recv(self):
        chunk = self.sock.recv(1 << 18)   # bounded by the socket timeout
        if not chunk:
            raise ConnectionError("server closed the connection")
        return chunk

    def gets(self, cmds, keys_vals):
        """Send the pipelined GETs `cmds`; return the list of indexes that
        missed.  keys_vals[i] is the expected value of the i-th GET."""
        n = len(cmds)
        if self.rate:
            ahead = self.t0 + self.sent / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(min(ahead, 1.0))
        self.sent += n
        self.sock.sendall(b"".join(cmds))
        buf, pos = self.buf, 0
        hp, hl, vs = self.hit_prefix, self.hit_len, self.vsize
        misses = []
        i = 0
        while i < n:
            if buf.startswith(b"$-1\r\n", pos):
                misses.append(i)
                pos += 5
                i += 1
            elif buf.startswith(hp, pos) and len(buf) - pos >= hl:
                s = pos + len(hp)
                if buf[s:s + vs] != keys_vals[i]:
                    self.wrong_values += 1
                pos += hl
                i += 1
            else:
                rest = buf[pos:]
                if rest[:1] == b"-":
                    if b"\r\n" in rest:
                        raise WorkloadError("GET error reply: %r" % rest[:rest.index(b"\r\n")])
                elif not (b"$-1\r\n".startswith(rest) or hp.startswith(rest)
                          or (rest.startswith(hp) and len(rest) < hl)):
                    raise WorkloadError("unexpected GET reply: %r" % rest[:80])
                buf, pos = rest + self._recv(), 0   # incomplete reply: read more
        self.buf = buf[pos:]
        return misses

    def sets(self, cmds):
        """Send pipelined SETs and read their one-line replies; errors (e.g.
        -OOM) are counted, not raised."""
        if not cmds:
            return
        self.sock.sendall(b"".join(cmds))
        n = len(cmds)
        buf = self.buf
        while buf.count(b"\r\n") < n:
            buf += self._recv()
        ok = b"+OK\r\n" * n
        if buf.startswith(ok):
            self.buf = buf[len(ok):]
            return
        pos = 0
        for _ in range(n):
            j = buf.index(b"\r\n", pos)
            line = buf[pos:j]
            if line != b"+OK":
                if not line.startswith(b"-"):
                    raise WorkloadError("unexpected SET reply: %r" % line[:80])
                self.set_errors += 1
                if self.set_error_sample is None:
                    self.set_error_sample = line.decode(errors="replace")
            pos = j + 2
        self.buf = buf[pos:]


def info_fields(client):
    s = client.info("stats")
    m = client.info("memory")
    def num(d, k):
        try:
            return int(d.get(k))
        except (TypeError, ValueError):
            return None
    return dict(hits=num(s, "keyspace_hits"), misses=num(s, "keyspace_misses"),
                evicted=num(s, "evicted_keys"), used_memory=num(m, "used_memory"),
                used_memory_rss=num(m, "used_memory_rss"), maxmemory=num(m, "maxmemory"),
                maxmemory_policy=m.get("maxmemory_policy"))


def run_workload(server, wl, stream, cfg, progress_label):
    """Replay `stream` (Zipf key ids) against a started server, with scans if
    wl == 'scan'.  Returns a result dict."""
    batch, vsize = cfg["batch"], cfg["value_size"]
    warmup, total = cfg["warmup"], len(stream)
    scan_every = cfg["scan_every"] if wl == "scan" else 0
    scan_keys = cfg["scan_keys"]
    keys, vals, get_cmds = cfg["keys"], cfg["vals"], cfg["get_cmds"]
    sample_every = cfg["sample_every"]

    ctl = server.client(timeout=60)
    rt = ReadThrough(server.port, vsize)
    rt.rate = cfg["rate"]
    res = dict(zipf_gets=0, zipf_misses=0, scan_gets=0, scan_misses=0, sets=0, measured_sets=0,
               warmup_zipf_gets=0, warmup_zipf_misses=0, scans=0)
    peak_used, peak_rss, samples = 0, 0, []
    scan_next = 0
    t0 = time.monotonic()
    try:
        info0 = None
        phase_measured = warmup == 0
        if phase_measured:
            info0 = info_fields(ctl)
            res["dbsize_measured_start"] = ctl.call("DBSIZE")
            res["evicted_before_measured"] = info0.get("evicted")
            t_meas = time.monotonic()
        pos = 0
        next_sample = sample_every
        next_progress = time.monotonic() + 15
        since_scan = 0
        while pos < total:
            # the batch ends at the warm-up boundary, at the end, and where a scan is due
            end = min(pos + batch, total)
            if not phase_measured:
                end = min(end, warmup)
            if scan_every:
                end = min(end, pos + (scan_every - since_scan))
            ids = stream[pos:end]
            misses = rt.gets([get_cmds[k] for k in ids], [vals[k] for k in ids])
            if misses:
                seen = set()
                cmds = []
                for j in misses:
                    k = ids[j]
                    if k not in seen:
                        seen.add(k)
                        cmds.append(enc_set(keys[k], vals[k]))
                rt.sets(cmds)
                res["sets"] += len(cmds)
                if phase_measured:
                    res["measured_sets"] += len(cmds)
            n = end - pos
            if phase_measured:
                res["zipf_gets"] += n
                res["zipf_misses"] += len(misses)
            else:
                res["warmup_zipf_gets"] += n
                res["warmup_zipf_misses"] += len(misses)
            pos = end
            since_scan += n
            if scan_every and since_scan >= scan_every:
                since_scan = 0
                done = 0
                while done < scan_keys:
                    m = min(batch, scan_keys - done)
                    skeys = [b"%s%011d" % (SCAN_PREFIX.encode(), scan_next + x) for x in range(m)]
                    svals = [value_for(k, vsize) for k in skeys]
                    smiss = rt.gets([enc_get(k) for k in skeys], svals)
                    rt.sets([enc_set(skeys[j], svals[j]) for j in smiss])
                    res["sets"] += len(smiss)
                    if phase_measured:
                        res["measured_sets"] += len(smiss)
                        res["scan_gets"] += m
                        res["scan_misses"] += len(smiss)
                    scan_next += m
                    done += m
                res["scans"] += 1
            if not phase_measured and pos >= warmup:
                phase_measured = True
                info0 = info_fields(ctl)
                res["dbsize_measured_start"] = ctl.call("DBSIZE")
                res["evicted_before_measured"] = info0.get("evicted")
                t_meas = time.monotonic()
            if pos >= next_sample or pos >= total:
                next_sample += sample_every
                f = info_fields(ctl)
                rss = server.rss_kb()
                peak_used = max(peak_used, f["used_memory"] or 0)
                peak_rss = max(peak_rss, rss or 0)
                samples.append((pos, f["used_memory"], rss))
                now = time.monotonic()
                if now >= next_progress:
                    next_progress = now + 15
                    zg = res["zipf_gets"] or 1
                    print("    %-22s %-4s %5.1f%%  miss %.4f  used_memory %.2f MB  RSS %.1f MB" % (
                        progress_label, wl, 100.0 * pos / total, res["zipf_misses"] / zg,
                        (f["used_memory"] or 0) / 1048576.0, (rss or 0) / 1024.0), file=sys.stderr)
            if cfg["deadline"] and time.monotonic() > cfg["deadline"]:
                raise WorkloadError("run exceeded --run-timeout after %d of %d requests" % (pos, total))
        t_end = time.monotonic()
        info1 = info_fields(ctl)
        dbsize = ctl.call("DBSIZE")
        hwm = bl.proc_status_kb(server.pid, "VmHWM")
        rss_end = server.rss_kb()
    finally:
        rt.close()
        ctl.close()
    if not server.alive():
        raise WorkloadError("server exited; log tail:\n" + server.log_tail())

    def delta(k):
        a, b = info0.get(k), info1.get(k)
        return None if a is None or b is None else b - a
    meas_gets = res["zipf_gets"] + res["scan_gets"]
    meas_misses = res["zipf_misses"] + res["scan_misses"]
    srv_hits, srv_misses = delta("hits"), delta("misses")
    res.update(
        miss_ratio=res["zipf_misses"] / res["zipf_gets"] if res["zipf_gets"] else None,
        scan_miss_ratio=(res["scan_misses"] / res["scan_gets"]) if res["scan_gets"] else None,
        warmup_miss_ratio=(res["warmup_zipf_misses"] / res["warmup_zipf_gets"]) if res["warmup_zipf_gets"] else None,
        measured_gets=meas_gets, measured_misses=meas_misses,
        info_hits_delta=srv_hits, info_misses_delta=srv_misses,
        info_check=(srv_hits == meas_gets - meas_misses and srv_misses == meas_misses),
        # no TTLs and no overwrites: keys at the end = keys at the start + SETs - evictions
        keys_check=(dbsize == res["dbsize_measured_start"] + res["measured_sets"] - (delta("evicted") or 0)),
        evicted_keys_delta=delta("evicted"), evicted_keys_total=info1.get("evicted"),
        set_errors=rt.set_errors, set_error_sample=rt.set_error_sample,
        wrong_values=rt.wrong_values,
        dbsize=dbsize, used_memory=info1["used_memory"], used_memory_rss=info1["used_memory_rss"],
        rss_kb=rss_end, vmhwm_kb=hwm, peak_used_memory=max(peak_used, info1["used_memory"] or 0),
        peak_rss_kb=max(peak_rss, rss_end or 0), maxmemory=info1["maxmemory"],
        maxmemory_policy=info1["maxmemory_policy"],
        elapsed_s=round(t_end - t0, 2), measured_s=round(t_end - t_meas, 2),
        gets_per_s=round((meas_gets + res["warmup_zipf_gets"]) / (t_end - t0)) if t_end > t0 else None,
        memory_samples=samples)
    return res


# ----------------------------------------------------------------- main ---

def fmt_mb(b):
    return "n/a" if b is None else "%.2f MB" % (b / 1048576.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="300k warm-up + 300k measured requests")
    ap.add_argument("--requests", type=int, default=None, help="measured Zipf requests (default 2,000,000)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up Zipf requests (default 500,000)")
    ap.add_argument("--keys", type=int, default=200000, help="Zipf key space (default 200,000)")
    ap.add_argument("--alpha", type=float, default=0.99, help="Zipf exponent (default 0.99)")
    ap.add_argument("--value-size", type=int, default=100, help="value bytes (default 100)")
    ap.add_argument("--maxmemory", default="8mb", help="maxmemory for every server (default 8mb)")
    ap.add_argument("--batch", type=int, default=64, help="GETs per pipeline (default 64)")
    ap.add_argument("--scan-every", type=int, default=10000, help="Zipf requests between scans (default 10,000)")
    ap.add_argument("--scan-keys", type=int, default=20000, help="cold keys per scan (default 20,000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the Zipf stream (default 1)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="runs per server and workload, median reported (default 3; --quick: 1)")
    ap.add_argument("--workloads", default="zipf,scan", help="comma separated: zipf, scan")
    ap.add_argument("--servers", default=",".join(s[0] for s in SERVERS),
                    help="comma separated subset of: " + ", ".join(s[0] for s in SERVERS))
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's default)")
    ap.add_argument("--rate", type=float, default=None,
                    help="pace the client to this many GETs/s (default: as fast as it goes); Redis's LRU clock "
                         "has 1 s resolution, so its LRU miss ratio depends on the request rate")
    ap.add_argument("--sample-every", type=int, default=50000,
                    help="Zipf requests between INFO memory / RSS samples (default 50,000)")
    ap.add_argument("--run-timeout", type=float, default=600, help="seconds allowed per server run (default 600)")
    bl.add_server_args(ap, "latest-missratio.json")
    args = ap.parse_args()

    kasi, redis = bl.find_servers(args)
    requests = args.requests or (300000 if args.quick else 2000000)
    warmup = args.warmup if args.warmup is not None else (300000 if args.quick else 500000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.batch < 1 or args.keys < 1 or requests < 1 or warmup < 0 or args.value_size < 1:
        bl.die("--batch, --keys, --requests and --value-size must be positive, --warmup >= 0")
    if args.scan_every < 1 or args.scan_keys < 0:
        bl.die("--scan-every must be >= 1 and --scan-keys >= 0")
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if not workloads or any(w not in ("zipf", "scan") for w in workloads):
        bl.die("--workloads takes zipf and/or scan")
    want = [s.strip() for s in args.servers.split(",") if s.strip()]
    servers = [s for s in SERVERS if s[0] in want]
    if not servers or len(servers) != len(set(want)):
        bl.die("--servers takes a subset of: " + ", ".join(s[0] for s in SERVERS))
    maxmem = args.maxmemory

    t_start = time.monotonic()
    print("generating %s Zipf(%.2f) requests over %s keys (seed %d)..." % (
        "{:,}".format(warmup + requests), args.alpha, "{:,}".format(args.keys), args.seed), file=sys.stderr)
    stream, cdf = zipf_stream(args.keys, args.alpha, warmup + requests, args.seed)
    keys = [bl.padded_key(i, KEY_SIZE) for i in range(args.keys)]
    vals = [value_for(k, args.value_size) for k in keys]
    get_cmds = [enc_get(k) for k in keys]
    distinct = len(set(stream[warmup:]))
    print("  measured phase: %s distinct keys; top 1%% of keys = %.1f%% of requests (%.1f s)" % (
        "{:,}".format(distinct), 100 * cdf[max(0, args.keys // 100 - 1)], time.monotonic() - t_start),
        file=sys.stderr)
    cfg = dict(batch=args.batch, value_size=args.value_size, warmup=warmup, scan_every=args.scan_every,
               scan_keys=args.scan_keys, keys=keys, vals=vals, get_cmds=get_cmds,
               sample_every=args.sample_every, rate=args.rate)

    tmp = tempfile.mkdtemp(prefix="kasi-bench-missratio-")
    kasi = bl.snapshot_binary(kasi, tmp)
    results = []   # one dict per (workload, round, server)
    try:
        for wl in workloads:
            for rnd in range(args.rounds):
                # rotate the order each round, so no server is always first
                order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
                for sid, label, kind, policy in order:
                    extra = ["--maxmemory", maxmem]
                    if policy:
                        extra += ["--maxmemory-policy", policy]
                    if kind == "kasi" and args.threads is not None:
                        extra += ["--threads", str(args.threads)]
                    srv = bl.Server(kind, redis if kind == "redis" else kasi, extra, label=label,
                                    workdir=tempfile.mkdtemp(prefix=sid + "-", dir=tmp))
                    row = dict(workload=wl, round=rnd + 1, server=sid, label=label, kind=kind, args=extra)
                    cfg["deadline"] = time.monotonic() + args.run_timeout
                    try:
                        srv.start()
                        row.update(run_workload(srv, wl, stream, cfg, label))
                    except Exception as e:  # noqa: BLE001 - report, keep going
                        row["error"] = "%s: %s" % (type(e).__name__, e)
                        if not srv.alive():
                            row["error"] += " (server exited with %r; log tail: %s)" % (
                                srv.proc.returncode if srv.proc else None, srv.log_tail(5))
                    finally:
                        srv.stop()
                    results.append(row)
                    tag = "%s r%d" % (wl, rnd + 1)
                    if "error" in row:
                        print("  %-8s %-22s ERROR %s" % (tag, label, row["error"].splitlines()[0]), file=sys.stderr)
                    else:
                        print("  %-8s %-22s miss ratio %.4f (scan %s, warm-up %.4f)  keys %d  used_memory %s "
                              "(peak %s)  RSS %.1f MB  evicted %s  checks %s/%s  %.0f s, %s GET/s" % (
                                  tag, label, row["miss_ratio"],
                                  "n/a" if row["scan_miss_ratio"] is None else "%.4f" % row["scan_miss_ratio"],
                                  row["warmup_miss_ratio"] or 0, row["dbsize"], fmt_mb(row["used_memory"]),
                                  fmt_mb(row["peak_used_memory"]), (row["rss_kb"] or 0) / 1024.0,
                                  row["evicted_keys_delta"], "ok" if row["info_check"] else "MISMATCH",
                                  "ok" if row["keys_check"] else "MISMATCH",
                                  row["elapsed_s"], "{:,}".format(row["gets_per_s"] or 0)), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # ---- report ----
    limit = parse_size(maxmem)
    wl_desc = {"zipf": "Zipf %.2f" % args.alpha, "scan": "Zipf + scans"}

    # per (workload, server): the round with the median miss ratio represents it
    summary = []
    for wl in workloads:
        for sid, label, kind, policy in servers:
            runs = [r for r in results if r["workload"] == wl and r["server"] == sid]
            ok = sorted((r for r in runs if "error" not in r), key=lambda r: r["miss_ratio"])
            summ = dict(workload=wl, server=sid, label=label, rounds_ok=len(ok), rounds=len(runs),
                        errors=[r["error"] for r in runs if "error" in r])
            if ok:
                med = ok[(len(ok) - 1) // 2]
                summ.update(median_round=med["round"], miss_ratio=bl.median([r["miss_ratio"] for r in ok]),
                            miss_ratio_min=ok[0]["miss_ratio"], miss_ratio_max=ok[-1]["miss_ratio"],
                            rep=med)
            summary.append(summ)
    base = {s_["workload"]: s_.get("miss_ratio") for s_ in summary if s_["server"] == BASELINE}
    for s_ in summary:
        s_["ratio_vs_redis_lru"] = bl.ratio(s_.get("miss_ratio"), base.get(s_["workload"]))

    trows, details, notes = [], [], []
    multi = args.rounds > 1
    for s_ in summary:
        for e in s_["errors"]:
            notes.append("%s on %s failed: %s" % (s_["label"], s_["workload"], e.splitlines()[0]))
        if "rep" not in s_:
            trows.append([wl_desc[s_["workload"]], s_["label"], "error", "", "", "", ""] + ([""] if multi else []))
            continue
        r = s_["rep"]
        cells = [wl_desc[s_["workload"]], s_["label"], "%.4f" % s_["miss_ratio"]]
        if multi:
            cells.append("%.4f-%.4f" % (s_["miss_ratio_min"], s_["miss_ratio_max"]))
        cells += [bl.fmt_ratio(s_["ratio_vs_redis_lru"]), bl.fmt_num(r["dbsize"]), fmt_mb(r["used_memory"]),
                  fmt_mb(None if r["rss_kb"] is None else r["rss_kb"] * 1024)]
        trows.append(cells)
        details.append([wl_desc[r["workload"]], r["label"],
                        "{:,}".format(r["zipf_misses"]) + " / " + "{:,}".format(r["zipf_gets"]),
                        "n/a" if r["scan_miss_ratio"] is None else "%.4f" % r["scan_miss_ratio"],
                        bl.fmt_num(r["dbsize_measured_start"]),
                        bl.fmt_num(r["evicted_keys_delta"]),
                        "%s (%.3f)" % (fmt_mb(r["peak_used_memory"]), r["peak_used_memory"] / limit),
                        fmt_mb(None if r["vmhwm_kb"] is None else r["vmhwm_kb"] * 1024),
                        "%.0f" % r["elapsed_s"], bl.fmt_num(r["gets_per_s"])])
    for r in results:
        if "error" in r:
            continue
        who = "%s/%s round %d" % (r["workload"], r["label"], r["round"])
        if not r["info_check"]:
            notes.append("%s: INFO keyspace deltas (hits %s, misses %s) differ from the client's counts "
                         "(hits %d, misses %d)" % (who, r["info_hits_delta"], r["info_misses_delta"],
                                                    r["measured_gets"] - r["measured_misses"], r["measured_misses"]))
        if not r["keys_check"]:
            notes.append("%s: DBSIZE %s at the end != %s at the start of the measured phase + %s SETs - %s "
                         "evicted_keys" % (who, r["dbsize"], r["dbsize_measured_start"],
                                           r["measured_sets"], r["evicted_keys_delta"]))
        if not r["evicted_before_measured"]:
            notes.append("%s: nothing was evicted during the warm-up (the cache was not full yet when "
                         "the measured phase began); use a longer --warmup" % who)
        if r["set_errors"]:
            notes.append("%s: %d SETs got error replies, e.g. %r" % (who, r["set_errors"], r["set_error_sample"]))
        if r["wrong_values"]:
            notes.append("%s: %d GET hits returned a wrong value" % (who, r["wrong_values"]))
        if r["maxmemory"] is not None and r["maxmemory"] != limit:
            notes.append("%s: INFO maxmemory is %s, expected %d" % (who, r["maxmemory"], limit))
        if r["peak_used_memory"] > limit * 1.01:
            notes.append("%s: used_memory peaked at %s, more than 1%% above maxmemory (%s) "
                         "(sampled every %s Zipf requests)" % (who, "{:,}".format(r["peak_used_memory"]),
                                                               "{:,}".format(limit), "{:,}".format(args.sample_every)))

    scan_desc = ("after every %s Zipf requests, one sequential pass over %s never-repeated cold keys "
                 "(read-through); only the Zipf GETs are counted" % ("{:,}".format(args.scan_every),
                                                                       "{:,}".format(args.scan_keys)))
    md = ["Miss ratio of a read-through client (GET; SET on a miss), %s GETs pipelined per batch, "
          "maxmemory %s on every server. Zipf(%.2f) over %s keys of %d B values (16 B keys); "
          "%s warm-up requests not counted, then %s measured. Zipf + scans: %s. %s%s"
          "Ratio = miss ratio / Redis allkeys-lru's on the same workload (lower is better). "
          "Keys resident = DBSIZE at the end; used_memory is each server's own accounting; RSS from "
          "/proc/<pid>/status at the end." % (
              args.batch, maxmem, args.alpha, "{:,}".format(args.keys), args.value_size,
              "{:,}".format(warmup), "{:,}".format(requests), scan_desc,
              ("Client paced to %s GETs/s. " % "{:,.0f}".format(args.rate)) if args.rate else
              "Client not paced (see the GET/s column: Redis's 1 s LRU clock makes its LRU/LFU results "
              "depend on the request rate). ",
              ("Median of %d rounds (same request sequence each round; range = min-max); the other columns "
               "are from the median round. " % args.rounds) if multi else ""), "",
          bl.markdown_table(["Workload", "Server / policy", "Miss ratio"] + (["Range"] if multi else []) +
                            ["vs Redis LRU", "Keys resident", "used_memory", "RSS"], trows)]
    goal = None
    kz = [s_ for s_ in summary if s_["workload"] == "zipf" and s_["server"] == "kasi"]
    if kz and kz[0].get("ratio_vs_redis_lru") is not None:
        goal = kz[0]["ratio_vs_redis_lru"]
        rl = [s_ for s_ in summary if s_["workload"] == "zipf" and s_["server"] == BASELINE][0]["rep"]
        md += ["", "Goal (Kasi default policy miss ratio <= %.2f x Redis allkeys-lru's on Zipf): %.3f -> %s. "
                   "Redis allkeys-lru ran at %s GETs/s%s; its LRU clock ticks once a second, so the faster the "
                   "requests come the less its LRU can tell keys apart (and the higher its miss ratio): check the "
                   "goal at a realistic rate too, e.g. --rate 50000 --workloads zipf --rounds 1." % (
                       GOAL_RATIO, goal, "met" if goal <= GOAL_RATIO else "NOT met",
                       bl.fmt_num(rl["gets_per_s"]), " (paced)" if args.rate else " (not paced)")]
    md += ["", bl.markdown_table(["Workload", "Server / policy", "Zipf misses / GETs", "Scan miss ratio",
                                  "Keys at measured start", "Evicted (measured)",
                                  "Peak used_memory (/ maxmemory)", "Peak RSS (VmHWM)", "Run s", "GET/s"],
                                 details)]
    nchecks = sum(1 for r in results if "error" not in r)
    md += ["", "Checks on all %d runs: INFO keyspace_hits/misses deltas = client counts; DBSIZE end = start + "
               "SETs - evicted_keys; every hit's value verified; SET error replies counted. Failures are "
               "listed below." % nchecks]
    for n in notes:
        md.append("")
        md.append("Note: " + n)
    print("\n".join(md))
    elapsed = time.monotonic() - t_start
    for s_ in summary:
        s_.pop("rep", None)
    bl.write_json(args.json, dict(
        kind="missratio", environment=bl.environment(),
        settings=dict(quick=args.quick, requests=requests, warmup=warmup, keys=args.keys, alpha=args.alpha,
                      value_size=args.value_size, key_size=KEY_SIZE, maxmemory=maxmem, maxmemory_bytes=limit,
                      batch=args.batch, scan_every=args.scan_every, scan_keys=args.scan_keys, seed=args.seed,
                      rounds=args.rounds, workloads=workloads, servers=[s[0] for s in servers],
                      kasi_threads=args.threads, rate=args.rate, sample_every=args.sample_every, elapsed_s=round(elapsed, 1),
                      redis=bl.tool_version(redis), measured_distinct_keys=distinct),
        goal=dict(target=GOAL_RATIO, kasi_vs_redis_lru_zipf=goal),
        summary=summary, rows=results, markdown="\n".join(md)))
    print("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed), file=sys.stderr)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
