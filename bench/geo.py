#!/usr/bin/env python3
"""Kasi vs Redis 7: the geo commands under redis-benchmark.

Both servers are started at once and get the same 1,000,000 points (seeded,
uniform over longitude 0..4 and latitude 0..4, about 445 x 445 km, so about
5 points a km^2), loaded by pipelined GEOADDs of 500 points (not measured).
Then, for each row and in alternating turns, one redis-benchmark run (50
connections, unpipelined unless the row says otherwise):

  - GEOSEARCH ... FROMLONLAT around one of 16 centres (__rand_int__.5 with
    -r 4: 0.5 .. 3.5 degrees), BYRADIUS 1 km, 10 km and 100 km, with and
    without ASC and COUNT (COUNT n ANY), and a BYBOX; the 100 km rows
    without COUNT would send 160,000 members a reply and are left out;
  - GEOADD of one point (random member out of 1M, longitude and latitude
    0.000000xxxxxx) to a growing key, unpipelined and -P 16.

req/s, p50/p99 latency (redis-benchmark's), server CPU per request
(utime+stime of the server, all threads, from /proc), ratios Kasi/Redis,
medians of the rounds. Goal (issue 14): GEOSEARCH BYRADIUS in 1M points at
least as fast as Redis (req/s ratio >= 1).

    /usr/bin/python3 bench/geo.py                  # 3 rounds
    /usr/bin/python3 bench/geo.py --quick          # 1/5 of the requests, 1 round
    /usr/bin/python3 bench/geo.py --only r1km,add --rounds 5
"""
import argparse
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import collib as cl  # noqa: E402
from collections_ops import measured_run  # noqa: E402

CLIENTS = 50
POINTS = 1000000
KEY = "geo:1m"
CENTRE = ["FROMLONLAT", "__rand_int__.5", "__rand_int__.5"]

# id, command after the key (GEOSEARCH rows), requests, pipeline
ROWS = [
    ("r1km", CENTRE + ["BYRADIUS", "1", "km"], 100000, 1),
    ("r1km-asc", CENTRE + ["BYRADIUS", "1", "km", "ASC"], 100000, 1),
    ("r1km-p16", CENTRE + ["BYRADIUS", "1", "km"], 200000, 16),
    ("r10km", CENTRE + ["BYRADIUS", "10", "km"], 5000, 1),
    ("r10km-asc-count10", CENTRE + ["BYRADIUS", "10", "km", "ASC", "COUNT", "10"], 10000, 1),
    ("r10km-count10-any", CENTRE + ["BYRADIUS", "10", "km", "COUNT", "10", "ANY"], 20000, 1),
    ("r100km-count10", CENTRE + ["BYRADIUS", "100", "km", "COUNT", "10"], 200, 1),
    ("r100km-count10-any", CENTRE + ["BYRADIUS", "100", "km", "COUNT", "10", "ANY"], 3000, 1),
    ("box10km", CENTRE + ["BYBOX", "10", "10", "km"], 10000, 1),
]
ADD_ROWS = [("add", 100000, 1), ("add-p16", 1000000, 16)]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def load_points(port, seed=14, timeout=600.0):
    """GEOADD the POINTS points to KEY; returns the seconds it took."""
    rng = random.Random(seed)
    t0 = time.monotonic()
    per = 500
    with cl.FastConn(port, timeout=120) as c:
        c.call("DEL", KEY)

        def gen():
            for lo in range(0, POINTS, per):
                args = [KEY]
                for i in range(lo, min(POINTS, lo + per)):
                    args += ["%.6f" % rng.uniform(0, 4), "%.6f" % rng.uniform(0, 4), "p%d" % i]
                yield cl.enc("GEOADD", *args)
        cl.pipeline(c, gen(), deadline=t0 + timeout)
        n = c.call("ZCARD", KEY)
    if n != POINTS:
        raise RuntimeError("%s holds %r members after loading %d" % (KEY, n, POINTS))
    return time.monotonic() - t0


def run_one(bench, srv, argv_tail, n, P, r, timeout):
    argv = [bench, "-h", "127.0.0.1", "-p", str(srv.port), "-n", str(n), "-c", str(CLIENTS), "-P", str(P),
            "-r", str(r), "--csv"] + argv_tail
    return measured_run(argv, srv, n, timeout)


def check_same(targets, row):
    """Both servers answer the row's search (at one centre) alike."""
    argv = ["GEOSEARCH", KEY] + [a.replace("__rand_int__", "1") for a in row[1]] + ["WITHDIST"]
    replies = []
    for s in targets:
        with s.client(timeout=120) as c:
            replies.append(c.call(*argv))
    if replies[0] != replies[1]:
        return "replies differ for %s" % " ".join(argv)
    return None


def summarize(samples):
    ok = [s for s in samples if "error" not in s]
    if not ok:
        return None
    return {k: bl.median([s.get(k) for s in ok]) for k in ("rps", "p50_ms", "p99_ms", "cpu_s_per_mreq")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1/5 of the requests, 1 round")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds per row (default 3; --quick 1)")
    ap.add_argument("--only", default=None, help="substrings of row ids, e.g. r1km,add")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's)")
    ap.add_argument("--run-timeout", type=float, default=300.0)
    ap.add_argument("--redis-benchmark", default=None)
    bl.add_server_args(ap, "latest-geo.json")
    args = ap.parse_args()
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    kasi, redis = bl.find_servers(args)
    bench = bl.find_tool("redis-benchmark", args.redis_benchmark)
    f = 5 if args.quick else 1
    rows = [dict(id=i, argv=["GEOSEARCH", KEY] + a, n=max(100, n // f), P=P, r=4, search=(i, a))
            for i, a, n, P in ROWS]
    rows += [dict(id=i, argv=["GEOADD", "geo:add", "0.__rand_int__", "0.__rand_int__", "m:__rand_int__"],
                  n=max(1000, n // f), P=P, r=1000000, search=None) for i, n, P in ADD_ROWS]
    if args.only:
        rows = bl.select_rows(rows, args.only)
    tmp = tempfile.mkdtemp(prefix="kasi-bench-geo-")
    doc = dict(kind="geo", rows=[])
    problems = []
    t_start = time.monotonic()
    targets = []
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        kextra = ["--threads", str(args.threads)] if args.threads else []
        for label, kind, binary, extra in (("Kasi", "kasi", kasi, kextra), ("Redis", "redis", redis, [])):
            s = bl.Server(kind, binary, extra, label=label, workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
            s.start()
            targets.append(s)
            log("%s: loading %d points ..." % (label, POINTS))
            doc["load_s_" + label.lower()] = round(load_points(s.port), 1)
            log("%s: loaded in %.1f s" % (label, doc["load_s_" + label.lower()]))
        with targets[0].client() as c:
            kthreads = c.info("server").get("executable_threads")
        for row in rows:
            res = dict(id=row["id"], argv=row["argv"], n=row["n"], P=row["P"], samples={"Kasi": [], "Redis": []})
            if row["search"]:
                bad = check_same(targets, row["search"])
                if bad:
                    problems.append(bad)
            for rnd in range(args.rounds):
                for s in targets:
                    smp = run_one(bench, s, row["argv"], row["n"], row["P"], row["r"], args.run_timeout)
                    res["samples"][s.label].append(smp)
                    if "error" in smp:
                        log("  %-20s %-5s round %d: ERROR %s" % (row["id"], s.label, rnd + 1,
                                                                 smp["error"].splitlines()[0]))
                        problems.append("%s %s: %s" % (s.label, row["id"], smp["error"].splitlines()[0]))
                    else:
                        log("  %-20s %-5s round %d: %10.0f req/s p50 %.3f p99 %.3f ms cpu %.1f us/req"
                            % (row["id"], s.label, rnd + 1, smp["rps"], smp["p50_ms"], smp["p99_ms"],
                               smp.get("cpu_s_per_mreq") or -1))
            res["median"] = {lab: summarize(ss) for lab, ss in res["samples"].items()}
            doc["rows"].append(res)
    finally:
        for s in targets:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    trows = []
    for res in doc["rows"]:
        mk, mr = res["median"].get("Kasi") or {}, res["median"].get("Redis") or {}
        rr = bl.ratio(mk.get("rps"), mr.get("rps"))
        cr = bl.ratio(mk.get("cpu_s_per_mreq"), mr.get("cpu_s_per_mreq"))
        res["rps_ratio"], res["cpu_ratio"] = rr, cr
        goal = cl.goal_cell(rr, 1.0, le=False) if res["argv"][0] == "GEOSEARCH" else ""
        trows.append([" ".join(res["argv"][2:]) if res["argv"][0] == "GEOSEARCH" else
                      "GEOADD (one point)" + (", -P %d" % res["P"] if res["P"] > 1 else ""),
                      ("-P %d" % res["P"]) if res["P"] > 1 else "", bl.fmt_num(mk.get("rps")),
                      bl.fmt_num(mr.get("rps")), bl.fmt_ratio(rr),
                      bl.fmt_num(mk.get("p50_ms"), 3), bl.fmt_num(mr.get("p50_ms"), 3),
                      bl.fmt_num(mk.get("p99_ms"), 3), bl.fmt_num(mr.get("p99_ms"), 3),
                      bl.fmt_num(mk.get("cpu_s_per_mreq"), 1), bl.fmt_num(mr.get("cpu_s_per_mreq"), 1),
                      bl.fmt_ratio(cr), goal])
    md = ["### Geo (redis-benchmark, %d connections, %s points in %s)" % (CLIENTS, bl.fmt_num(POINTS), KEY), "",
          "Kasi (git %s, %s worker threads) vs %s, medians of %d alternating round%s; ratios Kasi/Redis. CPU is "
          "the server's utime+stime per request. Goal: GEOSEARCH req/s >= Redis."
          % (bl.git_rev(), kthreads or "?", " ".join(bl.tool_version(redis).split()[:3]), args.rounds,
             "" if args.rounds == 1 else "s"), "",
          bl.markdown_table(["Search (GEOSEARCH geo:1m ...) / write", "pipeline", "Kasi req/s", "Redis req/s",
                             "ratio", "Kasi p50 ms", "Redis p50 ms", "Kasi p99 ms", "Redis p99 ms",
                             "Kasi CPU us/req", "Redis CPU us/req", "CPU ratio", "goal"], trows)]
    if problems:
        md += [""] + ["Note: " + p for p in problems]
    print("\n".join(md))
    elapsed = time.monotonic() - t_start
    doc.update(environment=bl.environment(), markdown="\n".join(md),
               settings=dict(quick=args.quick, rounds=args.rounds, clients=CLIENTS, points=POINTS,
                             kasi_threads=args.threads, redis_benchmark=bl.tool_version(bench),
                             elapsed_s=round(elapsed, 1)))
    bl.write_json(args.json, doc)
    log("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
