#!/usr/bin/env python3
"""Kasi vs Redis 7: the HyperLogLog commands under redis-benchmark, and
callgrind instructions per PF command.

Two parts (--parts, default both):

 a. throughput: redis-benchmark custom commands, 50 connections, unpipelined
    and -P 16, Kasi and Redis started at once and run in alternating turns:
      PFADD into one dense HLL of 100k elements (element:__rand_int__, -r 100k),
      PFADD into 10k sparse HLLs (hll:__rand_int__, a random element each),
      PFCOUNT of the dense HLL (its cached count),
      PFCOUNT of 10 dense HLLs of 20k elements each (their union, never cached),
      PFMERGE of two of them into a third.
    req/s, p50/p99 latency (redis-benchmark's), server CPU per request
    (utime+stime of the server, all threads, from /proc), ratios Kasi/Redis,
    medians over the rounds. Goals: CPU per request at most Redis's for PFADD
    and PFCOUNT (one key and 10 keys).
 c. callgrind: user-space instructions per request, (I(2K) - I(K)) / K as
    callgrind.py measures GET and SET, for the same workloads; Kasi --threads 1.
    (callgrind.py's own set is redis-benchmark's -t tests over string keys;
    the PF workloads need their HLLs filled first, so they live here, with
    callgrind.py's machinery.)

    /usr/bin/python3 bench/hll.py                 # 3 rounds, K = 5,000: about 10 minutes
    /usr/bin/python3 bench/hll.py --quick         # 1/10 of the requests, 1 round, K = 2,000: 3 minutes
    /usr/bin/python3 bench/hll.py --parts a --only pfadd-sparse-p1,pfcount-1-p1 --rounds 5
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import callgrind as cgmod  # noqa: E402
import collib as cl  # noqa: E402
from collections_ops import CLIENTS, log, parse_csv, summarize  # noqa: E402

DENSE_N = 100000           # elements in the dense HLL the single-key rows use
UNION_KEYS = 10            # keys of the PFCOUNT union row
UNION_N = 20000            # elements in each of them
SPARSE_KEYS = 10000        # keys the sparse PFADD row spreads over
UNION = ["hll:u%d" % i for i in range(UNION_KEYS)]

# id, label, command (redis-benchmark placeholders), -r, heavy (fewer requests), goal
WORKLOADS = [
    ("pfadd-dense", "PFADD, one dense HLL", ["PFADD", "hll:dense", "element:__rand_int__"], DENSE_N, False, True),
    ("pfadd-sparse", "PFADD, 10k sparse HLLs", ["PFADD", "hll:__rand_int__", "element:__rand_int__"],
     SPARSE_KEYS, False, True),
    ("pfcount-1", "PFCOUNT, one key (cached)", ["PFCOUNT", "hll:dense"], DENSE_N, False, True),
    ("pfcount-10", "PFCOUNT, 10 dense keys", ["PFCOUNT"] + UNION, DENSE_N, True, True),
    ("pfmerge", "PFMERGE of 2 dense keys", ["PFMERGE", "hll:merged", UNION[0], UNION[1]], DENSE_N, True, False),
]


def fill(port, timeout=300.0):
    """FLUSHALL, then the dense HLL and the union's keys, each by PFADDs of
    1,000 elements; every HLL ends dense (checked)."""
    deadline = time.monotonic() + timeout
    with cl.FastConn(port, timeout=120) as c:
        c.call("FLUSHALL")

        def gen():
            for lo in range(0, DENSE_N, 1000):
                yield cl.multi_cmd("PFADD", b"hll:dense", [cl.bulk(b"element:%d" % i) for i in range(lo, lo + 1000)])
            for k, key in enumerate(UNION):
                for lo in range(0, UNION_N, 1000):
                    yield cl.multi_cmd("PFADD", key.encode(), [cl.bulk(b"u%d:%d" % (k, i))
                                                              for i in range(lo, lo + 1000)])
        cl.pipeline(c, gen(), deadline=deadline)
        for key in ["hll:dense"] + UNION:
            if c.call("STRLEN", key) != 12304:
                raise RuntimeError("%s is not dense after filling" % key)
        c.call("PFCOUNT", "hll:dense")   # its cache, for the cached PFCOUNT row


def requests(w, quick, P):
    # the heavy rows run at a few thousand requests a second
    n = (10000 if P == 1 else 20000) if w[4] else (100000 if P == 1 else 1000000)
    return n // 10 if quick else n


def bench_argv(bench, port, w, n, P):
    return [bench, "-h", "127.0.0.1", "-p", str(port), "-n", str(n), "-c", str(CLIENTS), "-P", str(P),
            "-r", str(w[3]), "--csv"] + w[2]


def run_one(bench, srv, w, n, P, timeout):
    fill(srv.port)
    cnt0 = bl.proc_counters(srv.pid)
    out, errtxt, rc, err, wall = bl.run_redis_benchmark(bench_argv(bench, srv.port, w, n, P), timeout)
    cnt1 = bl.proc_counters(srv.pid)
    s = dict(wall_s=round(wall, 3))
    res = None if err else parse_csv(out, None)
    if res is None and err is None:
        err = "redis-benchmark rc=%s, no result; %s" % (rc, (errtxt.strip() or out.strip())[-300:])
    if not srv.alive():
        err = "server exited during the run; log tail:\n%s" % srv.log_tail()
    if err:
        s["error"] = err
        return s
    s.update(res)
    if cnt0 and cnt1:
        cpu = (cnt1[0] + cnt1[1]) - (cnt0[0] + cnt0[1])
        s.update(cpu_s=round(cpu, 3), cpu_us_per_req=cpu / n * 1e6)
    return s


def part_throughput(args, kasi, redis, bench, tmp):
    kextra = ["--threads", str(args.threads)] if args.threads else []
    targets, results = [], []
    try:
        for label, kind, binary, extra in (("Kasi", "kasi", kasi, kextra), ("Redis", "redis", redis, [])):
            s = bl.Server(kind, binary, extra, label=label, workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
            s.start()
            targets.append(s)
        for P in (1, 16):
            for w in WORKLOADS:
                if args.only and not any(o in "%s-p%d" % (w[0], P) for o in args.only.split(",")):
                    continue
                n = requests(w, args.quick, P)
                res = dict(id="%s-p%d" % (w[0], P), label="%s, %s" % (w[1], "unpipelined" if P == 1 else "-P 16"),
                           P=P, n=n, goal=w[5], samples={"Kasi": [], "Redis": []})
                for rnd in range(args.rounds):
                    for s in targets:
                        smp = run_one(bench, s, w, n, P, args.run_timeout)
                        res["samples"][s.label].append(smp)
                        if "error" in smp:
                            log("  %-40s %-5s round %d: ERROR %s" % (res["label"], s.label, rnd + 1,
                                                                     smp["error"].splitlines()[0]))
                        else:
                            log("  %-40s %-5s round %d: %9.0f req/s p50 %.3f p99 %.3f ms cpu %.2f us/req"
                                % (res["label"], s.label, rnd + 1, smp["rps"], smp["p50_ms"], smp["p99_ms"],
                                   smp.get("cpu_us_per_req") or -1))
                res["median"] = {}
                for lab, ss in res["samples"].items():
                    ok = [x for x in ss if "error" not in x]
                    m = summarize([dict(x, cpu_s_per_mreq=x.get("cpu_us_per_req")) for x in ok])
                    res["median"][lab] = m
                results.append(res)
    finally:
        for s in targets:
            s.stop()
    rows, problems = [], []
    for res in results:
        mk, mr = res["median"].get("Kasi") or {}, res["median"].get("Redis") or {}
        cr = bl.ratio(mk.get("cpu_s_per_mreq"), mr.get("cpu_s_per_mreq"))
        rows.append([res["label"], bl.fmt_num(mk.get("rps")), bl.fmt_num(mr.get("rps")),
                     bl.fmt_ratio(bl.ratio(mk.get("rps"), mr.get("rps"))),
                     bl.fmt_num(mk.get("p50_ms"), 3), bl.fmt_num(mr.get("p50_ms"), 3),
                     bl.fmt_num(mk.get("p99_ms"), 3), bl.fmt_num(mr.get("p99_ms"), 3),
                     bl.fmt_num(mk.get("cpu_s_per_mreq"), 2), bl.fmt_num(mr.get("cpu_s_per_mreq"), 2),
                     bl.fmt_ratio(cr), cl.goal_cell(cr, 1.0) if res["goal"] else ""])
        for lab, ss in res["samples"].items():
            problems += ["%s %s: %s" % (lab, res["label"], x["error"].splitlines()[0]) for x in ss if "error" in x]
    md = ["### a. Throughput (redis-benchmark, %d connections)" % CLIENTS, "",
          "Medians of %d alternating round%s; CPU is the server's utime+stime per request (us); ratios "
          "Kasi/Redis. Goal: CPU per request <= Redis's for PFADD and PFCOUNT."
          % (args.rounds, "" if args.rounds == 1 else "s"), "",
          bl.markdown_table(["Workload", "Kasi req/s", "Redis req/s", "ratio", "Kasi p50 ms", "Redis p50 ms",
                             "Kasi p99 ms", "Redis p99 ms", "Kasi CPU us", "Redis CPU us", "CPU ratio", "goal"],
                            rows)]
    return md, problems, results


def part_callgrind(args, kasi, redis, tmp):
    tools = dict(valgrind=bl.find_tool("valgrind"), callgrind_control=bl.find_tool("callgrind_control"))
    bench = bl.find_tool("redis-benchmark", args.redis_benchmark)
    res = {}
    for label, kind, binary, extra in (("Kasi", "kasi", kasi, ["--threads", "1"]), ("Redis", "redis", redis, [])):
        srv = cgmod.callgrind_server(tools["valgrind"], kind, binary, extra, label, tmp, kind + "-cg-")
        out = res[label] = {}
        try:
            srv.start()
            cg = cgmod.Callgrind(tools["callgrind_control"], srv.pid, srv.workdir, args.ctl_timeout)
            for P in (1, 16):
                for w in WORKLOADS:
                    K = args.k // 10 if w[4] else args.k
                    wid = "%s-p%d" % (w[0], P)
                    try:
                        fill(srv.port, timeout=args.run_timeout)
                        per = []
                        for n in (K, 2 * K):
                            cg.zero()
                            o, e, rc, err, _ = bl.run_redis_benchmark(bench_argv(bench, srv.port, w, n, P),
                                                                      args.run_timeout)
                            if err or rc != 0:
                                raise RuntimeError(err or "redis-benchmark rc=%s %s" % (rc, e[-200:]))
                            per.append(cg.dump())
                        out[wid] = dict(K=K, I_K=per[0], I_2K=per[1], per_request=(per[1] - per[0]) / float(K))
                        log("  %-6s %-28s P%-2d -> %8.0f instr/request" % (label, w[1], P, out[wid]["per_request"]))
                    except Exception as e:  # noqa: BLE001
                        out[wid] = dict(error=str(e))
                        log("  %-6s %-28s P%-2d ERROR %s" % (label, w[1], P, str(e).splitlines()[0]))
                        if not srv.alive():
                            raise
        except Exception as e:  # noqa: BLE001
            out["_error"] = str(e)
        finally:
            srv.stop(timeout=120)
    rows, problems = [], []
    for P in (1, 16):
        for w in WORKLOADS:
            wid = "%s-p%d" % (w[0], P)
            k, r = res["Kasi"].get(wid) or {}, res["Redis"].get(wid) or {}
            kp, rp = k.get("per_request"), r.get("per_request")
            rows.append(["%s, %s" % (w[1], "unpipelined" if P == 1 else "-P 16"), bl.fmt_num(kp), bl.fmt_num(rp),
                         bl.fmt_ratio(bl.ratio(kp, rp))])
            problems += ["%s %s: %s" % (who, wid, d["error"].splitlines()[0])
                         for who, d in (("Kasi", k), ("Redis", r)) if "error" in d]
    md = ["### c. Instructions per request (callgrind)", "",
          "User-space instructions per request, (I(2K) - I(K)) / K with K = %s (%s for the 10-key PFCOUNT and "
          "PFMERGE), %d connections; Kasi --threads 1; ratio Kasi/Redis (lower is better)."
          % (bl.fmt_num(args.k), bl.fmt_num(args.k // 10), CLIENTS), "",
          bl.markdown_table(["Workload", "Kasi instr/req", "Redis instr/req", "ratio"], rows)]
    return md, problems, res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1/10 of the requests, 1 round, K = 2,000")
    ap.add_argument("--parts", default="a,c", help="a (throughput), c (callgrind)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3; --quick 1)")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads in part a (default: Kasi's)")
    ap.add_argument("--only", default=None, help="substrings of part a's row ids, e.g. pfadd-sparse-p1,pfcount-1")
    ap.add_argument("-k", type=int, default=None, help="callgrind K (default 5,000; --quick 2,000)")
    ap.add_argument("--ctl-timeout", type=float, default=60.0)
    ap.add_argument("--run-timeout", type=float, default=300.0, help="seconds per redis-benchmark run")
    ap.add_argument("--redis-benchmark", default=None)
    bl.add_server_args(ap, "latest-hll.json")
    args = ap.parse_args()
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    args.k = args.k if args.k is not None else (2000 if args.quick else 5000)
    parts = set(x.strip() for x in args.parts.split(",") if x.strip())
    if not parts <= {"a", "c"} or args.rounds < 1 or args.k < 100:
        bl.die("--parts takes a,c; --rounds >= 1; -k >= 100")
    kasi, redis = bl.find_servers(args)
    bench = bl.find_tool("redis-benchmark", args.redis_benchmark)
    tmp = tempfile.mkdtemp(prefix="kasi-bench-hll-")
    doc, md, problems = dict(kind="hll", parts={}), [], []
    t0 = time.monotonic()
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        md += ["Kasi (git %s) vs %s; %d CPUs." % (bl.git_rev(), " ".join(bl.tool_version(redis).split()[:3]),
                                                  os.cpu_count()), ""]
        if "a" in parts:
            log("a. throughput")
            m, p, doc["parts"]["throughput"] = part_throughput(args, kasi, redis, bench, tmp)
            md += m + [""] + ["Note: " + x for x in p]
            problems += p
        if "c" in parts:
            log("c. callgrind")
            m, p, doc["parts"]["callgrind"] = part_callgrind(args, kasi, redis, tmp)
            md += m + [""] + ["Note: " + x for x in p]
            problems += p
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(md).rstrip())
    doc.update(environment=bl.environment(), markdown="\n".join(md),
               settings=dict(quick=args.quick, rounds=args.rounds, k=args.k, clients=CLIENTS,
                             kasi_threads=args.threads, elapsed_s=round(time.monotonic() - t0, 1)))
    bl.write_json(args.json, doc)
    log("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), time.monotonic() - t0))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
