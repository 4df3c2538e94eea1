#!/usr/bin/env python3
"""Kasi vs Redis 7: throughput, latency and server CPU per request.

Starts bin/kasi-server and Debian's redis-server with equivalent settings on
free loopback ports, runs redis-benchmark against them in alternating turns
(Kasi, Redis, Kasi, Redis, ... for --rounds rounds per row) and prints a
Markdown table of medians with Kasi/Redis ratios.  Raw samples and medians
are also written to bench/results/latest-throughput.json.

    /usr/bin/python3 bench/run.py                 # full run, a few minutes
    /usr/bin/python3 bench/run.py --quick         # smoke run, well under a minute
    /usr/bin/python3 bench/run.py --kasi-threads-list 1,2
    /usr/bin/python3 bench/run.py --only get --rounds 5

Server CPU is utime+stime of the server process (all threads) from
/proc/<pid>/stat, read right before and after each redis-benchmark run.
"""
import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

KB = 1024


def build_rows(quick):
    """Benchmark rows.  n is the request count per run."""
    f = 10 if quick else 1
    n1 = 100000 // f          # unpipelined
    n16 = 1000000 // f        # pipelined 16 deep, small values
    n16big = 300000 // f      # pipelined 16 deep, 4 KB values
    nhuge = 10000 // f        # 100 KB values
    r = 100000 // f           # keyspace for -r (and pre-populated key count)
    rows = []
    for d, dname in ((32, "32 B"), (4 * KB, "4 KB")):
        for P in (1, 16):
            for test in ("set", "get"):
                rows.append(dict(
                    id="%s-%s-p%d" % (test, "32b" if d == 32 else "4kb", P),
                    label="%s %s, 50 conns, %s" % (test.upper(), dname,
                                                   "unpipelined" if P == 1 else "pipeline 16"),
                    test=test, c=50, P=P, d=d, r=r,
                    n=n1 if P == 1 else (n16 if d == 32 else n16big),
                    data=(r, d)))
    rows.append(dict(id="mset-32b-p1", label="MSET (10 keys) 32 B, 50 conns, unpipelined",
                     test="mset", c=50, P=1, d=32, r=r, n=n1, data=(r, 32)))
    rows.append(dict(id="incr-p1", label="INCR, 50 conns, unpipelined",
                     test="incr", c=50, P=1, d=3, r=r, n=n1, data=None))
    for c in (1000, 5000):
        rows.append(dict(id="get-32b-c%d" % c, label="GET 32 B, %s conns, unpipelined" % "{:,}".format(c),
                         test="get", c=c, P=1, d=32, r=r, n=n1 * (2 if c <= 1000 else 3), data=(r, 32)))
    rows.append(dict(id="get-100kb-p1", label="GET 100 KB, 50 conns, unpipelined",
                     test="get", c=50, P=1, d=100 * KB, r=100, n=nhuge, data=(100, 100 * KB),
                     mbps=True))
    return rows


def parse_csv(text, test):
    """redis-benchmark 7.0 --csv: "test","rps","avg_latency_ms","min_latency_ms",
    "p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"."""
    want = test.upper()
    for rec in csv.reader(io.StringIO(text)):
        if not rec or rec[0] == "test":
            continue
        if rec[0].upper().startswith(want) and len(rec) >= 8:
            try:
                return dict(rps=float(rec[1]), avg_ms=float(rec[2]), min_ms=float(rec[3]),
                            p50_ms=float(rec[4]), p95_ms=float(rec[5]), p99_ms=float(rec[6]),
                            max_ms=float(rec[7]))
            except ValueError:
                return None
    return None


class Target:
    """A server under test plus bookkeeping."""

    def __init__(self, server, label):
        self.server = server
        self.label = label
        self.dataset = None
        self.dead = False
        self.version = ""
        self.threads = None


def ensure_dataset(t, data):
    """FLUSHALL and load `nkeys` keys key:%012d with `size`-byte values, unless
    that is already the dataset (SET rows of the same size keep it)."""
    if data is None or t.dataset == data:
        return
    nkeys, size = data
    val = b"x" * size
    with t.server.client(timeout=120) as c:
        c.call("FLUSHALL")
        c.load_strings(((bl.padded_key(i, 16), val) for i in range(nkeys)),
                       batch=max(1, min(1000, (256 << 10) // (size + 64))))
        got = c.call("DBSIZE")
        if got != nkeys:
            raise RuntimeError("%s: DBSIZE %r after loading %d keys" % (t.label, got, nkeys))
        v = c.call("GET", bl.padded_key(nkeys // 2, 16))
        if v != val:
            raise RuntimeError("%s: GET returned %r... (len %s) instead of the loaded value"
                               % (t.label, (v or b"")[:20], None if v is None else len(v)))
    t.dataset = data


def run_one(bench, t, row, timeout):
    """One redis-benchmark run against one target; returns a sample dict."""
    srv = t.server
    argv = [bench, "-h", "127.0.0.1", "-p", str(srv.port), "-t", row["test"],
            "-n", str(row["n"]), "-c", str(row["c"]), "-P", str(row["P"]),
            "-d", str(row["d"]), "--csv"]
    if row.get("r"):
        argv += ["-r", str(row["r"])]
    cpu0 = srv.cpu_seconds()
    cnt0 = bl.proc_counters(srv.pid)
    out, errtxt, rc, err, wall = bl.run_redis_benchmark(argv, timeout)
    cpu1 = srv.cpu_seconds()
    cnt1 = bl.proc_counters(srv.pid)
    sample = dict(wall_s=round(wall, 3))
    res = parse_csv(out, row["test"]) if err is None else None
    if res is None and err is None:
        err = "redis-benchmark rc=%s, no CSV result; stderr: %s" % (rc, errtxt.strip()[-300:])
    if not srv.alive():
        err = "server exited (rc=%s) during the run; log tail:\n%s" % (srv.proc.returncode, srv.log_tail())
        t.dead = True
    # stderr noise other than redis-benchmark's warning when CONFIG GET fails
    warn = [ln for ln in errtxt.splitlines()
            if ln.strip() and "Could not fetch server CONFIG" not in ln]
    if warn:
        sample["stderr"] = warn[:5]
    if err:
        sample["error"] = err
        return sample
    sample.update(res)
    if cpu0 is not None and cpu1 is not None:
        sample["cpu_s"] = round(cpu1 - cpu0, 3)
        sample["cpu_s_per_mreq"] = (cpu1 - cpu0) / row["n"] * 1e6
    if cnt0 and cnt1:
        sample["utime_s"] = round(cnt1[0] - cnt0[0], 3)
        sample["stime_s"] = round(cnt1[1] - cnt0[1], 3)
        sample["minflt"] = cnt1[2] - cnt0[2]
        sample["rss_kb_after"] = srv.rss_kb()
    if row.get("mbps"):
        sample["mb_per_s"] = res["rps"] * row["d"] / 1e6
    return sample


def summarize(samples):
    ok = [s for s in samples if "error" not in s]
    keys = ("rps", "p50_ms", "p99_ms", "cpu_s_per_mreq", "mb_per_s", "avg_ms", "utime_s", "stime_s", "minflt")
    return {k: bl.median([s.get(k) for s in ok]) for k in keys} if ok else None


def add_common_args(ap, json_name):
    """Options shared by run.py and floor.py."""
    ap.add_argument("--rounds", type=int, default=None,
                    help="alternating rounds per row (default 3; --quick: 1)")
    ap.add_argument("--quick", action="store_true", help="1/10 of the requests; 1 round unless --rounds")
    ap.add_argument("--only", default=None,
                    help="comma separated substrings; run only rows whose id contains one (e.g. get,incr)")
    ap.add_argument("--kasi", default=None, help="path to kasi-server (default bin/kasi-server)")
    ap.add_argument("--redis-server", default=None, help="path to redis-server")
    ap.add_argument("--redis-benchmark", default=None, help="path to redis-benchmark")
    ap.add_argument("--run-timeout", type=float, default=300.0, help="seconds per redis-benchmark run")
    ap.add_argument("--json", default=os.path.join(bl.RESULTS_DIR, json_name))


def resolve_common(args):
    """(rounds, kasi, redis-server, redis-benchmark) from the shared options."""
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if rounds < 1:
        bl.die("--rounds must be >= 1")
    bl.install_signal_handlers()
    return (rounds, bl.find_kasi(args.kasi), bl.find_tool("redis-server", args.redis_server),
            bl.find_tool("redis-benchmark", args.redis_benchmark))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, "latest-throughput.json")
    ap.add_argument("--threads", type=int, default=None,
                    help="Kasi --threads (default: Kasi's own default, one per core)")
    ap.add_argument("--kasi-threads-list", default=None,
                    help='comma separated Kasi thread counts to run side by side, e.g. "1,2"')
    ap.add_argument("--keep-logs", action="store_true", help="keep server logs in the temp dir")
    args = ap.parse_args()
    rounds, kasi, redis, bench = resolve_common(args)

    rows = build_rows(args.quick)
    if args.only:
        rows = bl.select_rows(rows, args.only)

    notes = []
    # File descriptors: redis-benchmark and each server need one per connection.
    max_c = max(r["c"] for r in rows)
    soft = bl.raise_nofile(max(65536, max_c + 1024))
    kept = []
    for r in rows:
        if r["c"] + 128 > soft:
            notes.append("skipped %s: RLIMIT_NOFILE soft limit %d is too low for %d connections "
                         "(raise the hard limit: ulimit -Hn)" % (r["label"], soft, r["c"]))
        else:
            kept.append(r)
    rows = kept

    if args.kasi_threads_list:
        try:
            tlist = [int(x) for x in args.kasi_threads_list.split(",") if x.strip()]
        except ValueError:
            bl.die("--kasi-threads-list wants integers, e.g. 1,2")
    else:
        tlist = [args.threads]

    tmp = tempfile.mkdtemp(prefix="kasi-bench-run-")
    kasi = bl.snapshot_binary(kasi, tmp)
    targets = []
    results = []
    t_start = time.monotonic()
    try:
        for th in tlist:
            extra = ["--threads", str(th)] if th is not None else []
            wd = tempfile.mkdtemp(prefix="kasi-", dir=tmp)
            s = bl.Server("kasi", kasi, extra, label="Kasi", workdir=wd)
            targets.append(Target(s, "Kasi"))
        wd = tempfile.mkdtemp(prefix="redis-", dir=tmp)
        targets.append(Target(bl.Server("redis", redis, [], label="Redis", workdir=wd), "Redis"))
        for t in targets:
            try:
                t.server.start()
            except RuntimeError as e:
                raise SystemExit("error: %s" % e)
            with t.server.client() as c:
                info = c.info()
            t.version = info.get("kasi_version") or info.get("redis_version", "?")
            t.threads = info.get("executable_threads")
            if t.server.kind == "kasi":
                t.label = "Kasi t=%s" % (t.threads or "?") if len(tlist) > 1 else "Kasi"
            t.server.label = t.label
            print("started %s %s pid %d port %d%s" % (t.label, t.version, t.server.pid, t.server.port,
                  (" threads %s" % t.threads) if t.threads else ""), file=sys.stderr)
        labels = [t.label for t in targets]
        if len(set(labels)) != len(labels):
            bl.die("duplicate Kasi thread counts in --kasi-threads-list")

        for row in rows:
            samples = {t.label: [] for t in targets}
            for t in targets:
                if t.dead:
                    continue
                try:
                    ensure_dataset(t, row["data"])
                except Exception as e:  # noqa: BLE001 - report and carry on
                    samples[t.label].append(dict(error="pre-populate failed: %s" % e))
                    if not t.server.alive():
                        t.dead = True
            for rnd in range(rounds):
                for t in targets:
                    if t.dead or (samples[t.label] and "pre-populate" in samples[t.label][0].get("error", "")):
                        continue
                    smp = run_one(bench, t, row, args.run_timeout)
                    samples[t.label].append(smp)
                    if "error" in smp:
                        print("  %-45s %-9s round %d: ERROR %s" % (row["label"], t.label, rnd + 1,
                                                                   smp["error"].splitlines()[0]), file=sys.stderr)
                    else:
                        print("  %-45s %-9s round %d: %10.0f req/s p50 %.3f p99 %.3f ms cpu %.2f s/Mreq"
                              % (row["label"], t.label, rnd + 1, smp["rps"], smp["p50_ms"], smp["p99_ms"],
                                 smp.get("cpu_s_per_mreq") or -1), file=sys.stderr)
            med = {lab: summarize(s) for lab, s in samples.items()}
            results.append(dict(id=row["id"], label=row["label"],
                                params={k: row[k] for k in ("test", "c", "P", "d", "r", "n")},
                                samples=samples, median=med))
        for t in targets:
            if t.dead:
                notes.append("%s CRASHED / exited during the run; see errors in the JSON" % t.label)
            else:
                t.server_rss_kb_end = t.server.rss_kb()
    finally:
        for t in targets:
            rc = t.server.stop()
            if rc not in (0, None, -15) and not t.dead:
                notes.append("%s exited with rc=%s on SIGTERM" % (t.label, rc))
        if not args.keep_logs:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("server logs kept in %s" % tmp, file=sys.stderr)

    elapsed = time.monotonic() - t_start
    redis_t = targets[-1]
    kasi_ts = targets[:-1]

    def cell(m, key, digits):
        return bl.fmt_num(m.get(key) if m else None, digits)

    md = []
    binfo = bl.BINARY_INFO.get("kasi-server", {})
    md.append("Kasi %s (git %s, binary %s) vs Redis %s; %d CPUs; redis-benchmark, medians of %d alternating "
              "round%s; ratios are Kasi/Redis (req/s: higher is better; latency, CPU: lower is better)."
              % (kasi_ts[0].version, bl.git_rev(), binfo.get("sha256", "?")[:8], redis_t.version,
                 os.cpu_count(), rounds, "" if rounds == 1 else "s"))
    md.append("")
    for kt in kasi_ts:
        K, R = kt.label, redis_t.label
        if len(kasi_ts) > 1 or kt.threads:
            md.append("**%s** (%s worker thread%s) vs **Redis** (single-threaded)"
                      % (K, kt.threads or "?", "" if kt.threads == "1" else "s"))
            md.append("")
        trows = []
        for res in results:
            mk, mr = res["median"].get(K), res["median"].get(R)
            if res["params"]["d"] >= 100 * KB:
                rps_k = "%s (%s MB/s)" % (cell(mk, "rps", 0), cell(mk, "mb_per_s", 0))
                rps_r = "%s (%s MB/s)" % (cell(mr, "rps", 0), cell(mr, "mb_per_s", 0))
            else:
                rps_k, rps_r = cell(mk, "rps", 0), cell(mr, "rps", 0)
            g = lambda m, k: m.get(k) if m else None  # noqa: E731
            trows.append([res["label"], rps_k, rps_r, bl.fmt_ratio(bl.ratio(g(mk, "rps"), g(mr, "rps"))),
                          cell(mk, "p50_ms", 3), cell(mr, "p50_ms", 3),
                          cell(mk, "p99_ms", 3), cell(mr, "p99_ms", 3),
                          bl.fmt_ratio(bl.ratio(g(mk, "p99_ms"), g(mr, "p99_ms"))),
                          cell(mk, "cpu_s_per_mreq", 2), cell(mr, "cpu_s_per_mreq", 2),
                          bl.fmt_ratio(bl.ratio(g(mk, "cpu_s_per_mreq"), g(mr, "cpu_s_per_mreq")))])
        md.append(bl.markdown_table(
            ["Benchmark", "Kasi req/s", "Redis req/s", "ratio", "Kasi p50 ms", "Redis p50 ms",
             "Kasi p99 ms", "Redis p99 ms", "p99 ratio", "Kasi CPU s/M req", "Redis CPU s/M req",
             "CPU ratio"], trows))
        md.append("")
    if len(kasi_ts) > 1:
        md.append("Server CPU seconds per million requests (lower is better):")
        md.append("")
        hdr = ["Benchmark"] + [t.label for t in targets]
        trows = []
        for res in results:
            trows.append([res["label"]] + [cell(res["median"].get(t.label), "cpu_s_per_mreq", 2)
                                           for t in targets])
        md.append(bl.markdown_table(hdr, trows))
        md.append("")
    errs = sum(1 for res in results for s in res["samples"].values() for x in s if "error" in x)
    if errs:
        notes.append("%d run(s) failed; see 'error' entries in %s" % (errs, args.json))
    for n in notes:
        md.append("Note: " + n)
    print("\n".join(md).rstrip())

    doc = dict(
        kind="throughput",
        environment=bl.environment(),
        settings=dict(rounds=rounds, quick=args.quick, kasi_threads=tlist,
                      redis_args="--save '' --appendonly no --bind 127.0.0.1",
                      redis_benchmark=bl.tool_version(bench), elapsed_s=round(elapsed, 1)),
        servers=[dict(label=t.label, kind=t.server.kind, version=t.version, threads=t.threads,
                      rss_kb_at_end=getattr(t, "server_rss_kb_end", None), crashed=t.dead)
                 for t in targets],
        rows=results, notes=notes, markdown="\n".join(md))
    bl.write_json(args.json, doc)
    print("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed), file=sys.stderr)
    return 1 if any(t.dead for t in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
