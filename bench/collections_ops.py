#!/usr/bin/env python3
"""Kasi vs Redis 7: collection commands under redis-benchmark, and callgrind
instructions per collection command.

Three parts (--parts, default all):

 a. throughput: redis-benchmark rows LPUSH, RPUSH, LPOP, RPOP, SADD, HSET,
    SPOP, ZADD, ZPOPMIN (redis-benchmark 7.0's own -t tests) and LRANGE_100,
    LRANGE_300, LRANGE_600 (the command redis-benchmark's test sends, LRANGE
    mylist 0 N-1, run as a custom command on a list we fill, so the CPU
    column holds LRANGE alone), 50 connections, unpipelined and -P 16, for
    Kasi and Redis in alternating turns (both started at once, as run.py).
    req/s, p50/p99 latency (redis-benchmark's), server CPU per request
    (utime+stime of the server, all threads, from /proc), ratios Kasi/Redis.
    Goals: req/s no lower than Redis in every row; CPU per request at most
    0.5 x Redis in the -P 16 rows.
 b. defaults: does `redis-benchmark -q` with no -t run its whole default
    list against Kasi without an error (it stops at the first error reply:
    the first failing test is reported), and each default test alone (-t).
 c. callgrind: user-space instructions per request, (I(2K) - I(K)) / K as
    callgrind.py does it, for HSET, HGET, LPUSH, LPOP, SADD, SISMEMBER,
    ZADD, ZSCORE; Kasi with --threads 1.

A row whose commands the Kasi binary does not have (COMMAND INFO) is
reported as "not implemented" and skipped (Redis too, unless --redis-always).

    /usr/bin/python3 bench/collections_ops.py                 # 3 rounds, K = 20,000
    /usr/bin/python3 bench/collections_ops.py --quick         # 1/10 of the requests, 1 round, K = 4,000
    /usr/bin/python3 bench/collections_ops.py --parts a --only zadd,zpopmin --rounds 5
"""
import argparse
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import collib as cl  # noqa: E402
import callgrind as cgmod  # noqa: E402

CLIENTS = 50
KEYSPACE = 100000          # -r for the throughput rows
LRANGE_LIST = 100000       # mylist length for the LRANGE rows (as after redis-benchmark's own LPUSH run)
CG_KEYS = 10000            # collection size and -r for the callgrind workloads
CPU_GOAL = 0.5             # Kasi/Redis CPU per request, pipelined rows

DEFAULT_TESTS = [          # redis-benchmark 7.0's default list, in its order: (-t name, -q title)
    ("ping_inline", "PING_INLINE"), ("ping_mbulk", "PING_MBULK"), ("set", "SET"), ("get", "GET"),
    ("incr", "INCR"), ("lpush", "LPUSH"), ("rpush", "RPUSH"), ("lpop", "LPOP"), ("rpop", "RPOP"),
    ("sadd", "SADD"), ("hset", "HSET"), ("spop", "SPOP"), ("zadd", "ZADD"), ("zpopmin", "ZPOPMIN"),
    (None, "LPUSH (needed to benchmark LRANGE)"), ("lrange_100", "LRANGE_100 (first 100 elements)"),
    ("lrange_300", "LRANGE_300 (first 300 elements)"), ("lrange_500", "LRANGE_500 (first 500 elements)"),
    ("lrange_600", "LRANGE_600 (first 600 elements)"), ("mset", "MSET (10 keys)"),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------ setup/fill ---
# setup specs: ("del", key) | ("list", n) | ("set", n) | ("zset", n) | ("hash", n)
# list elements are -d bytes of 'x' (what redis-benchmark pushes); set, zset and
# hash members are element:%012d (what its __rand_int__ expands to).

def member(i):
    return b"element:%012d" % i


def fill(port, spec, dsize, timeout=300.0):
    kind = spec[0]
    deadline = time.monotonic() + timeout
    with cl.FastConn(port, timeout=120) as c:
        if kind == "del":
            c.call("DEL", spec[1])
            return
        n = spec[1]
        key = {"list": b"mylist", "set": b"myset", "zset": b"myzset", "hash": b"myhash"}[kind]
        c.call("DEL", key)
        val = cl.bulk(b"x" * dsize)
        per = 500

        def gen():
            for lo in range(0, n, per):
                hi = min(n, lo + per)
                if kind == "list":
                    yield cl.cmd_head("RPUSH", 1 + hi - lo) + cl.bulk(key) + val * (hi - lo)
                elif kind == "set":
                    yield cl.cmd_head("SADD", 1 + hi - lo) + cl.bulk(key) + b"".join(
                        cl.bulk(member(i)) for i in range(lo, hi))
                elif kind == "zset":
                    yield cl.cmd_head("ZADD", 1 + 2 * (hi - lo)) + cl.bulk(key) + b"".join(
                        cl.bulk(b"%d" % i) + cl.bulk(member(i)) for i in range(lo, hi))
                else:
                    yield cl.cmd_head("HSET", 1 + 2 * (hi - lo)) + cl.bulk(key) + b"".join(
                        cl.bulk(member(i)) + val for i in range(lo, hi))
        cl.pipeline(c, gen(), deadline=deadline)
        card = c.call({"list": "LLEN", "set": "SCARD", "zset": "ZCARD", "hash": "HLEN"}[kind], key)
        if card != n:
            raise RuntimeError("%s %s holds %r after filling %d" % (kind, key.decode(), card, n))


def card_of(port, kind_key):
    cmd, key = kind_key
    with cl.FastConn(port, timeout=60) as c:
        return c.call(cmd, key)


# ------------------------------------------------------------ throughput ---

def build_rows(quick, dsize):
    f = 10 if quick else 1
    n1, n16 = 100000 // f, 1000000 // f
    spec = [
        # id, redis-benchmark -t (or None), custom command, commands Kasi needs, setup(n, P), post check
        ("lpush", "lpush", None, ["LPUSH"], lambda n, P: ("del", "mylist"), ("LLEN", "mylist", "ge_n")),
        ("rpush", "rpush", None, ["RPUSH"], lambda n, P: ("del", "mylist"), ("LLEN", "mylist", "ge_n")),
        ("lpop", "lpop", None, ["LPOP", "RPUSH"], lambda n, P: ("list", n + CLIENTS * P), ("LLEN", "mylist", "le_extra")),
        ("rpop", "rpop", None, ["RPOP", "RPUSH"], lambda n, P: ("list", n + CLIENTS * P), ("LLEN", "mylist", "le_extra")),
        ("sadd", "sadd", None, ["SADD"], lambda n, P: ("del", "myset"), ("SCARD", "myset", "le_r")),
        ("hset", "hset", None, ["HSET"], lambda n, P: ("del", "myhash"), ("HLEN", "myhash", "le_r")),
        ("spop", "spop", None, ["SPOP", "SADD"], lambda n, P: ("set", n + CLIENTS * P), ("SCARD", "myset", "le_extra")),
        ("zadd", "zadd", None, ["ZADD"], lambda n, P: ("del", "myzset"), ("ZCARD", "myzset", "le_r")),
        ("zpopmin", "zpopmin", None, ["ZPOPMIN", "ZADD"], lambda n, P: ("zset", n + CLIENTS * P),
         ("ZCARD", "myzset", "le_extra")),
    ]
    for N in (100, 300, 600):
        spec.append(("lrange_%d" % N, None, ["LRANGE", "mylist", "0", str(N - 1)], ["LRANGE", "RPUSH"],
                     lambda n, P: ("list", LRANGE_LIST), ("LLEN", "mylist", "eq_list")))
    rows = []
    for P in (1, 16):
        for rid, t, custom, cmds, setup, post in spec:
            n = n1 if P == 1 else n16
            if rid.startswith("lrange"):
                N = int(rid.split("_")[1])
                n = max(1000, n1 * 100 // N)      # an LRANGE_N reply carries N elements
            name = rid.upper()
            rows.append(dict(id="%s-p%d" % (rid, P), name=name, test=t, custom=custom, cmds=cmds, P=P, n=n,
                             setup=setup(n, P), post=post, extra=CLIENTS * P,
                             label="%s, %d conns, %s" % (name, CLIENTS, "unpipelined" if P == 1 else "pipeline 16")))
    return rows


def parse_csv(text, want):
    """The first result row of redis-benchmark --csv output (skipping the
    'LPUSH (needed to benchmark LRANGE)' warm-up row)."""
    for rec in csv.reader(io.StringIO(text)):
        if not rec or rec[0] == "test" or rec[0].startswith("LPUSH (needed"):
            continue
        if want and not rec[0].upper().startswith(want.upper()):
            continue
        if len(rec) >= 8:
            try:
                return dict(title=rec[0], rps=float(rec[1]), avg_ms=float(rec[2]), p50_ms=float(rec[4]),
                            p95_ms=float(rec[5]), p99_ms=float(rec[6]), max_ms=float(rec[7]))
            except ValueError:
                return None
    return None


def bench_argv(bench, port, n, P, dsize, r, test=None, custom=None):
    argv = [bench, "-h", "127.0.0.1", "-p", str(port), "-n", str(n), "-c", str(CLIENTS), "-P", str(P),
            "-d", str(dsize), "-r", str(r), "--csv"]
    return argv + (["-t", test] if test else list(custom))


def measured_run(argv, srv, n, timeout, want=None):
    """One redis-benchmark run (argv, n requests) against srv: its CSV row
    (the one titled `want`, else the first) and the server's CPU over it
    (cpu_s_per_mreq: seconds per million requests, i.e. us per request), or
    an "error"."""
    cnt0 = bl.proc_counters(srv.pid)
    out, errtxt, rc, err, wall = bl.run_redis_benchmark(argv, timeout)
    cnt1 = bl.proc_counters(srv.pid)
    s = dict(wall_s=round(wall, 3))
    res = None if err else parse_csv(out, want)
    if res is None and err is None:
        err = "redis-benchmark rc=%s, no result; %s" % (rc, (errtxt.strip() or out.strip())[-300:])
    if not srv.alive():
        err = "server exited (rc=%s) during the run; log tail:\n%s" % (srv.proc.returncode, srv.log_tail())
    if err:
        s["error"] = err
        return s
    s.update(res)
    if cnt0 and cnt1:
        cpu = (cnt1[0] + cnt1[1]) - (cnt0[0] + cnt0[1])
        s.update(cpu_s=round(cpu, 3), cpu_s_per_mreq=cpu / n * 1e6,
                 utime_s=round(cnt1[0] - cnt0[0], 3), stime_s=round(cnt1[1] - cnt0[1], 3))
    return s


def run_row(bench, srv, row, dsize, timeout):
    """Setup (not measured), one redis-benchmark run, post check."""
    fill(srv.port, row["setup"], dsize)
    argv = bench_argv(bench, srv.port, row["n"], row["P"], dsize, KEYSPACE, row["test"], row["custom"])
    s = measured_run(argv, srv, row["n"], timeout, row["test"] and row["name"])
    if "error" in s:
        return s
    cmd, key, how = row["post"]
    try:
        got = card_of(srv.port, (cmd, key))
        s["post_card"] = got
        ok = {"ge_n": got >= row["n"], "le_extra": got <= row["extra"], "le_r": 0 < got <= KEYSPACE,
              "eq_list": got == LRANGE_LIST}[how]
        if not ok:
            s["check"] = "%s %s = %s after the run (%s, n=%d)" % (cmd, key, got, how, row["n"])
    except (cl.ReplyError, OSError, ConnectionError) as e:
        s["check"] = "%s %s failed: %s" % (cmd, key, e)
    return s


def part_throughput(args, kasi, redis, bench, tmp, have, out, notes):
    rows = build_rows(args.quick, args.data_size)
    if args.only:
        rows = bl.select_rows(rows, args.only)
    kextra = ["--threads", str(args.threads)] if args.threads else []
    targets = []
    try:
        for label, kind, binary, extra in (("Kasi", "kasi", kasi, kextra), ("Redis", "redis", redis, [])):
            s = bl.Server(kind, binary, extra, label=label, workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
            s.start()
            targets.append(s)
        with targets[0].client() as c:
            out["kasi_threads"] = c.info("server").get("executable_threads")
        results = []
        for row in rows:
            miss = cl.missing_commands(have, row["cmds"])
            res = dict(id=row["id"], label=row["label"], params={k: row[k] for k in ("test", "custom", "P", "n")},
                       kasi_missing=miss, samples={"Kasi": [], "Redis": []})
            run_on = [s for s in targets if not miss or (s.kind == "redis" and args.redis_always)]
            if miss:
                log("  %-34s Kasi: not implemented (no %s)" % (row["label"], ", ".join(miss)))
            for rnd in range(args.rounds):
                for s in run_on:
                    if not s.alive():
                        continue
                    try:
                        smp = run_row(bench, s, row, args.data_size, args.run_timeout)
                    except Exception as e:  # noqa: BLE001
                        smp = dict(error="setup: %s" % e)
                    res["samples"][s.label].append(smp)
                    if "error" in smp:
                        log("  %-34s %-5s round %d: ERROR %s" % (row["label"], s.label, rnd + 1,
                                                                 smp["error"].splitlines()[0]))
                    else:
                        log("  %-34s %-5s round %d: %10.0f req/s p50 %.3f p99 %.3f ms cpu %.2f s/Mreq%s"
                            % (row["label"], s.label, rnd + 1, smp["rps"], smp["p50_ms"], smp["p99_ms"],
                               smp.get("cpu_s_per_mreq") or -1,
                               ("  CHECK: " + smp["check"]) if smp.get("check") else ""))
            res["median"] = {lab: summarize(ss) for lab, ss in res["samples"].items()}
            results.append(res)
        for s in targets:
            if not s.alive():
                notes.append("%s exited during the throughput part; log tail: %s" % (s.label, s.log_tail(5)))
    finally:
        for s in targets:
            s.stop()
    out["rows"] = results
    return results


def summarize(samples):
    ok = [s for s in samples if "error" not in s]
    if not ok:
        return None
    return {k: bl.median([s.get(k) for s in ok]) for k in ("rps", "p50_ms", "p99_ms", "cpu_s_per_mreq")}


def report_throughput(results, args, kthreads):
    trows, failed = [], []
    for res in results:
        mk, mr = res["median"].get("Kasi"), res["median"].get("Redis")

        def gv(m, k):
            return m.get(k) if m else None
        rr = bl.ratio(gv(mk, "rps"), gv(mr, "rps"))
        cr = bl.ratio(gv(mk, "cpu_s_per_mreq"), gv(mr, "cpu_s_per_mreq"))
        res["rps_ratio"], res["cpu_ratio"] = rr, cr
        if res["kasi_missing"]:
            trows.append([res["label"], "not implemented", bl.fmt_num(gv(mr, "rps"))] + [""] * 8 + ["n/a"])
            continue
        goals = ["req/s " + cl.goal_cell(rr, 1.0, le=False)]
        if res["params"]["P"] > 1:
            goals.append("CPU " + cl.goal_cell(cr, CPU_GOAL))
        trows.append([res["label"], bl.fmt_num(gv(mk, "rps")), bl.fmt_num(gv(mr, "rps")), bl.fmt_ratio(rr),
                      bl.fmt_num(gv(mk, "p50_ms"), 3), bl.fmt_num(gv(mr, "p50_ms"), 3),
                      bl.fmt_num(gv(mk, "p99_ms"), 3), bl.fmt_num(gv(mr, "p99_ms"), 3),
                      bl.fmt_num(gv(mk, "cpu_s_per_mreq"), 2), bl.fmt_num(gv(mr, "cpu_s_per_mreq"), 2),
                      bl.fmt_ratio(cr), ", ".join(goals)])
        for lab, ss in res["samples"].items():
            for s in ss:
                if "error" in s:
                    failed.append("%s %s: %s" % (lab, res["label"], s["error"].splitlines()[0]))
                elif s.get("check"):
                    failed.append("%s %s: check failed: %s" % (lab, res["label"], s["check"]))
    md = ["### a. Throughput (redis-benchmark, %d connections, -r %s, -d %d)" % (CLIENTS, bl.fmt_num(KEYSPACE),
                                                                              args.data_size), "",
          "Kasi (%s worker threads) vs Redis, medians of %d alternating round%s; ratios Kasi/Redis. CPU is "
          "the server's utime+stime per million requests. Goals: req/s >= Redis in every row; CPU <= %.1fx "
          "Redis in the pipelined rows." % (kthreads or "?", args.rounds, "" if args.rounds == 1 else "s", CPU_GOAL),
          "",
          bl.markdown_table(["Benchmark", "Kasi req/s", "Redis req/s", "ratio", "Kasi p50 ms", "Redis p50 ms",
                             "Kasi p99 ms", "Redis p99 ms", "Kasi CPU s/M", "Redis CPU s/M", "CPU ratio",
                             "goals"], trows)]
    return md, failed


# -------------------------------------------------------------- defaults ---

QLINE = re.compile(r"^(.+?): ([0-9.]+) requests per second")


def run_defaults(bench, srv, n, timeout):
    """`redis-benchmark -q -n n` (whole default list), then each default test
    alone with -t (CSV).  Returns a dict."""
    out = {}
    argv = [bench, "-h", "127.0.0.1", "-p", str(srv.port), "-q", "-n", str(n)]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        text, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired:
        text, err, rc = "", "timed out after %ss" % timeout, None
    done = []
    for ln in re.split(r"[\r\n]+", text):
        m = QLINE.match(ln.strip())
        if m:
            done.append(m.group(1))
    first_fail = None
    for _t, title in DEFAULT_TESTS:
        if title not in done:
            first_fail = title
            break
    errline = next((ln.strip() for ln in (err + "\n" + text).splitlines() if "Error" in ln or "error" in ln), None)
    out["whole_list"] = dict(rc=rc, completed=done, first_failing=first_fail, error=errline,
                             ok=(rc == 0 and first_fail is None))
    per = {}
    for t, title in DEFAULT_TESTS:
        if t is None:
            continue
        a = [bench, "-h", "127.0.0.1", "-p", str(srv.port), "-n", str(n), "--csv", "-t", t]
        try:
            p = subprocess.run(a, capture_output=True, text=True, timeout=timeout)
            res = parse_csv(p.stdout, title.split(" ")[0])
            e = (p.stderr.strip().splitlines() or [""])[-1]
            per[t] = dict(ok=(p.returncode == 0 and res is not None), rps=res and res["rps"],
                          error=None if p.returncode == 0 else e[:200])
        except subprocess.TimeoutExpired:
            per[t] = dict(ok=False, error="timed out after %ss" % timeout)
    out["per_test"] = per
    if not srv.alive():
        out["crashed"] = srv.log_tail(10)
    return out


def part_defaults(args, kasi, redis, bench, tmp, out):
    kextra = ["--threads", str(args.threads)] if args.threads else []
    n = 2000 if args.quick else 20000
    res = {}
    for label, kind, binary, extra in (("Kasi", "kasi", kasi, kextra), ("Redis", "redis", redis, [])):
        s = bl.Server(kind, binary, extra, label=label, workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
        try:
            s.start()
            res[label] = run_defaults(bench, s, n, args.run_timeout)
        except Exception as e:  # noqa: BLE001
            res[label] = dict(error=str(e))
        finally:
            s.stop()
        w = res[label].get("whole_list", {})
        log("  defaults %-5s: %s" % (label, "all %d tests ran" % len(w.get("completed", [])) if w.get("ok")
                                     else "first failing: %s (%s)" % (w.get("first_failing"), w.get("error"))))
    out.update(n=n, results=res)
    md = ["### b. redis-benchmark's default list (`redis-benchmark -q -n %s`, no -t)" % bl.fmt_num(n), ""]
    for label in ("Kasi", "Redis"):
        w = (res.get(label) or {}).get("whole_list")
        if not w:
            md.append("* %s: could not run: %s" % (label, (res.get(label) or {}).get("error")))
        elif w["ok"]:
            md.append("* %s: the whole list ran without errors (%d tests)." % (label, len(w["completed"])))
        else:
            md.append("* %s: **stopped at %s** after %d test%s (rc %s): `%s`"
                      % (label, w["first_failing"], len(w["completed"]), "" if len(w["completed"]) == 1 else "s",
                         w["rc"], w["error"]))
    md.append("")
    rows = []
    for t, title in DEFAULT_TESTS:
        if t is None:
            continue
        cells = [title]
        for label in ("Kasi", "Redis"):
            r = ((res.get(label) or {}).get("per_test") or {}).get(t)
            cells.append("n/a" if r is None else ("ok" if r["ok"] else "**fails**: %s" % (r.get("error") or "")))
        rows.append(cells)
    md.append("Each default test alone (`-t name -n %s`; the LRANGE tests run their LPUSH first):" % bl.fmt_num(n))
    md.append("")
    md.append(bl.markdown_table(["test", "Kasi", "Redis"], rows, align=["l", "l", "l"]))
    kw = (res.get("Kasi") or {}).get("whole_list") or {}
    return md, kw.get("ok")


# ------------------------------------------------------------- callgrind ---

CG_WORKLOADS = [
    dict(id="hset", name="HSET", test="hset", cmds=["HSET", "HLEN"], setup=("hash", CG_KEYS),
         note="overwrites a field of a 10k-field hash"),
    dict(id="hget", name="HGET", custom=["HGET", "myhash", "element:__rand_int__"], cmds=["HGET", "HSET", "HLEN"],
         setup=("hash", CG_KEYS), note="hits in a 10k-field hash"),
    dict(id="lpush", name="LPUSH", test="lpush", cmds=["LPUSH"], setup=("del", "mylist"), note="onto one list"),
    dict(id="lpop", name="LPOP", test="lpop", cmds=["LPOP", "RPUSH", "LLEN"], setup=("list", "3k"),
         note="from a list of 3K+ elements, every pop a hit"),
    dict(id="sadd", name="SADD", test="sadd", cmds=["SADD", "SCARD"], setup=("set", CG_KEYS),
         note="members already in a 10k-member set"),
    dict(id="sismember", name="SISMEMBER", custom=["SISMEMBER", "myset", "element:__rand_int__"],
         cmds=["SISMEMBER", "SADD", "SCARD"], setup=("set", CG_KEYS), note="hits in a 10k-member set"),
    dict(id="zadd", name="ZADD", test="zadd", cmds=["ZADD", "ZCARD"], setup=("zset", CG_KEYS),
         note="new score for a member of a 10k-member zset"),
    dict(id="zscore", name="ZSCORE", custom=["ZSCORE", "myzset", "element:__rand_int__"],
         cmds=["ZSCORE", "ZADD", "ZCARD"], setup=("zset", CG_KEYS), note="hits in a 10k-member zset"),
]


def cg_bench(bench, port, w, n, P, dsize, timeout):
    argv = bench_argv(bench, port, n, P, dsize, CG_KEYS, w.get("test"), w.get("custom"))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    res = parse_csv(r.stdout, w.get("test") and w["name"])
    if r.returncode != 0 or res is None:
        raise RuntimeError("redis-benchmark rc=%s: %s" % (r.returncode, (r.stderr or r.stdout)[-300:]))
    return res["rps"]


def cg_server(label, kind, binary, extra, tools, args, tmp, have, pipelines):
    srv = cgmod.callgrind_server(tools["valgrind"], kind, binary, extra, label, tmp, kind + "-cg-")
    out = {}
    try:
        srv.start()
        with srv.client(timeout=300) as c:
            info = c.info()
        out["_threads"] = info.get("executable_threads")
        cg = cgmod.Callgrind(tools["callgrind_control"], srv.pid, srv.workdir, args.ctl_timeout)
        K = args.k
        for w in CG_WORKLOADS:
            if cl.missing_commands(have, w["cmds"]) and (kind == "kasi" or not args.redis_always):
                continue
            for P in pipelines:
                wid = "%s-p%d" % (w["id"], P)
                t0 = time.monotonic()
                try:
                    setup = w["setup"]
                    if setup[1] == "3k":
                        setup = ("list", 3 * K + CLIENTS * P * 2)
                    fill(srv.port, setup, args.data_size, timeout=args.run_timeout)
                    cg.zero()
                    r1 = cg_bench(tools["redis-benchmark"], srv.port, w, K, P, args.data_size, args.run_timeout)
                    i1 = cg.dump()
                    cg.zero()
                    r2 = cg_bench(tools["redis-benchmark"], srv.port, w, 2 * K, P, args.data_size, args.run_timeout)
                    i2 = cg.dump()
                    per = (i2 - i1) / float(K)
                    out[wid] = dict(I_K=i1, I_2K=i2, K=K, per_request=per, rps_under_valgrind=[r1, r2])
                    log("  %-6s %-10s P%-2d I(K)=%12d I(2K)=%12d -> %7.0f instr/request  (%.0f s)"
                        % (label, w["name"], P, i1, i2, per, time.monotonic() - t0))
                except Exception as e:  # noqa: BLE001
                    out[wid] = dict(error=str(e))
                    log("  %-6s %-10s P%-2d ERROR %s" % (label, w["name"], P, str(e).splitlines()[0]))
                    if not srv.alive():
                        raise RuntimeError("server died under valgrind; log tail:\n" + srv.log_tail(40))
        return out
    finally:
        srv.stop(timeout=120)


def part_callgrind(args, kasi, redis, tmp, have, out):
    tools = dict(valgrind=bl.find_tool("valgrind"), callgrind_control=bl.find_tool("callgrind_control"),
                 **{"redis-benchmark": bl.find_tool("redis-benchmark", args.redis_benchmark)})
    pipelines = [int(x) for x in args.cg_pipelines.split(",") if x.strip()]
    res = {}
    for label, kind, binary, extra in (("Kasi", "kasi", kasi, ["--threads", str(args.cg_threads)]),
                                       ("Redis", "redis", redis, [])):
        try:
            res[label] = cg_server(label, kind, binary, extra, tools, args, tmp, have, pipelines)
        except Exception as e:  # noqa: BLE001
            res[label] = dict(_error=str(e))
            log("  %s: ERROR %s" % (label, e))
    out.update(K=args.k, pipelines=pipelines, kasi_threads=args.cg_threads, results=res)
    rows, notes = [], []
    for w in CG_WORKLOADS:
        miss = cl.missing_commands(have, w["cmds"])
        for P in pipelines:
            wid = "%s-p%d" % (w["id"], P)
            k = (res.get("Kasi") or {}).get(wid) or {}
            r = (res.get("Redis") or {}).get(wid) or {}
            kp, rp = k.get("per_request"), r.get("per_request")
            lab = "%s, %s (%s)" % (w["name"], "unpipelined" if P == 1 else "pipeline %d" % P, w["note"])
            rows.append([lab, "not implemented" if miss else bl.fmt_num(kp), bl.fmt_num(rp),
                         bl.fmt_ratio(bl.ratio(kp, rp))])
            for who, d in (("Kasi", k), ("Redis", r)):
                if "error" in d:
                    notes.append("%s %s: %s" % (who, wid, d["error"].splitlines()[0]))
    for who in ("Kasi", "Redis"):
        if "_error" in (res.get(who) or {}):
            notes.append("%s: %s" % (who, res[who]["_error"].splitlines()[0]))
    md = ["### c. Instructions per request (callgrind)", "",
          "User-space instructions per request, (I(2K) - I(K)) / K with K = %s, %d connections, -r %s, "
          "collections of %s elements filled before each workload; Kasi --threads %d; ratio Kasi/Redis "
          "(lower is better). Kernel work is not counted."
          % (bl.fmt_num(args.k), CLIENTS, bl.fmt_num(CG_KEYS), bl.fmt_num(CG_KEYS), args.cg_threads), "",
          bl.markdown_table(["Workload", "Kasi instr/req", "Redis instr/req", "ratio"], rows)]
    md += ["Note: " + n for n in notes]
    return md, notes


# ------------------------------------------------------------------ main ---

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="1/10 of the requests, 1 round, callgrind K = 4,000")
    ap.add_argument("--parts", default="a,b,c", help="a (throughput), b (default list), c (callgrind)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds per row (default 3; --quick 1)")
    ap.add_argument("--only", default=None, help="substrings of throughput row ids, e.g. zadd,lrange_100-p16")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads in parts a and b (default: Kasi's)")
    ap.add_argument("--data-size", type=int, default=16, help="redis-benchmark -d, and list/hash values (16)")
    ap.add_argument("-k", type=int, default=None, help="callgrind K (default 20,000; --quick 4,000)")
    ap.add_argument("--cg-pipelines", default="1,16", help="callgrind pipeline depths (default 1,16)")
    ap.add_argument("--cg-threads", type=int, default=1, help="Kasi --threads under callgrind (default 1)")
    ap.add_argument("--ctl-timeout", type=float, default=60.0)
    ap.add_argument("--run-timeout", type=float, default=300.0, help="seconds per redis-benchmark run")
    ap.add_argument("--redis-always", action="store_true", help="run Redis also where Kasi lacks the commands")
    ap.add_argument("--kasi", default=None)
    ap.add_argument("--redis-server", default=None)
    ap.add_argument("--redis-benchmark", default=None)
    ap.add_argument("--json", default=os.path.join(bl.RESULTS_DIR, "latest-collections-ops.json"))
    args = ap.parse_args()
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if args.k is None:
        args.k = 4000 if args.quick else 20000
    parts = set(x.strip() for x in args.parts.split(",") if x.strip())
    if not parts <= {"a", "b", "c"} or args.rounds < 1 or args.k < 100:
        bl.die("--parts takes a,b,c; --rounds >= 1; -k >= 100")

    kasi, redis = bl.find_servers(args)
    bench = bl.find_tool("redis-benchmark", args.redis_benchmark)
    tmp = tempfile.mkdtemp(prefix="kasi-bench-cops-")
    doc = dict(kind="collections-ops", parts={})
    md, problems = [], []
    t_start = time.monotonic()
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        names = sorted({c for r in build_rows(False, 16) for c in r["cmds"]} |
                       {c for w in CG_WORKLOADS for c in w["cmds"]})
        have = cl.binary_commands("kasi", kasi, names, tmp)
        doc["kasi_commands"] = have
        log("Kasi lacks: %s" % (", ".join(c for c in names if not have[c]) or "nothing used here"))
        md.append("Kasi (git %s, binary %s) vs %s; %d CPUs. Rows whose commands Kasi lacks (%s) "
                  "read \"not implemented\"."
                  % (bl.git_rev(), bl.BINARY_INFO.get("kasi-server", {}).get("sha256", "?")[:8],
                     " ".join(bl.tool_version(redis).split()[:3]), os.cpu_count(),
                     ", ".join(c for c in names if not have[c]) or "none"))
        md.append("")
        if "a" in parts:
            log("a. throughput")
            d = doc["parts"]["throughput"] = {}
            results = part_throughput(args, kasi, redis, bench, tmp, have, d, problems)
            m, failed = report_throughput(results, args, d.get("kasi_threads"))
            md += m + [""] + ["Note: " + x for x in failed]
            problems += failed
            md.append("")
        if "b" in parts:
            log("b. redis-benchmark default list")
            d = doc["parts"]["defaults"] = {}
            m, ok = part_defaults(args, kasi, redis, bench, tmp, d)
            md += m + [""]
        if "c" in parts:
            log("c. callgrind (K = %d)" % args.k)
            d = doc["parts"]["callgrind"] = {}
            m, notes = part_callgrind(args, kasi, redis, tmp, have, d)
            md += m + [""]
            problems += notes
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(md).rstrip())
    elapsed = time.monotonic() - t_start
    doc.update(environment=bl.environment(),
               settings=dict(quick=args.quick, rounds=args.rounds, parts=sorted(parts), clients=CLIENTS,
                             keyspace=KEYSPACE, data_size=args.data_size, kasi_threads=args.threads,
                             redis_benchmark=bl.tool_version(bench), elapsed_s=round(elapsed, 1)),
               markdown="\n".join(md))
    bl.write_json(args.json, doc)
    log("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
