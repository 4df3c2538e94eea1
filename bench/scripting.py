#!/usr/bin/env python3
"""Kasi vs Redis 7: Lua scripts under redis-benchmark (EVALSHA, and FCALL of
the same code when both servers have FUNCTION).

Both servers are started at once (Kasi with its default worker threads, one
per core) and each row runs in alternating turns, Kasi first in odd rounds
and Redis first in even ones; the table has the medians. 50 connections,
unpipelined and -P 16. Two scripts:

  release  redis-py's Lock release script (redis/lock.py LUA_RELEASE_SCRIPT):
           GET the lock, compare it with the token, DEL it when it matches.
           `EVALSHA <sha> 1 lock:__rand_int__ <token>` with -r M over M locks
           that all hold the token when the run starts: the first call on a
           lock takes the GET + compare + DEL path, a later one GET + compare
           of a released lock. M = n / 1.594 makes that half and half (the
           expected share of distinct draws among n uniform ones), the same
           mix on both servers; DBSIZE after the run gives the actual share
           of releases, printed next to each sample.
  five     five commands: INCR and GET of a counter, SET, EXPIRE and DEL of a
           second key; `EVALSHA <sha> 2 count:__rand_int__ tmp:__rand_int__ v`,
           -r 10,000 over counters that exist (so every call does the same
           work); afterwards only the counters are left.

FCALL rows call a library holding the same two bodies (register_function
with their KEYS and ARGV as the function's parameters); they run only when
FUNCTION LOAD works on both servers, else the report says they were
skipped. Before the first run each workload's replies are compared between
the servers on a few keys. Every run starts from the state above (refilled,
not measured).

Columns: calls/s and p50/p99 latency are redis-benchmark's; CPU is the
server's utime+stime (all threads, /proc/<pid>/stat before and after the
run) per call, in microseconds. Goals (issue 16): CPU per call at most 0.7 x
Redis's and calls/s at least Redis's.

    /usr/bin/python3 bench/scripting.py            # 3 rounds: about a minute
    /usr/bin/python3 bench/scripting.py --quick    # 1/5 of the calls, 1 round
    /usr/bin/python3 bench/scripting.py --only release --rounds 5
"""
import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import collib as cl  # noqa: E402
from collections_ops import CLIENTS, log, measured_run, summarize  # noqa: E402

# redis-py 4.3's Lock.LUA_RELEASE_SCRIPT, byte for byte (its indentation too)
RELEASE = """
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('del', KEYS[1])
        return 1
    """
FIVE = """
local n = redis.call('incr', KEYS[1])
redis.call('get', KEYS[1])
redis.call('set', KEYS[2], ARGV[1])
redis.call('expire', KEYS[2], 60)
redis.call('del', KEYS[2])
return n
"""
LIBRARY = ("#!lua name=kasibench\n"
           "redis.register_function('release', function(KEYS, ARGV)%send)\n"
           "redis.register_function('five', function(KEYS, ARGV)%send)\n" % (RELEASE, FIVE))
SCRIPTS = {"release": RELEASE, "five": FIVE}
TOKEN = b"a3f1c0de5b7e4d2a9c8b6f4e2d0c1b3a"   # a uuid4().hex, as redis-py's tokens
COUNTERS = 10000
CPU_GOAL = 0.7
HALF = 1.594               # n / M for which half the draws of M locks are a first


def sha(name):
    return hashlib.sha1(SCRIPTS[name].encode()).hexdigest()


def locks_for(n):
    return max(1, int(n / HALF))


def call_args(how, name, key_tail="__rand_int__"):
    """The command of one call (redis-benchmark's placeholders in the keys)."""
    head = ["EVALSHA", sha(name)] if how == "evalsha" else ["FCALL", name]
    if name == "release":
        return head + ["1", "lock:" + key_tail, TOKEN.decode()]
    return head + ["2", "count:" + key_tail, "tmp:" + key_tail, "v"]


def load_scripts(c, functions):
    """SCRIPT LOAD both scripts (checking the sha) and, if asked, FUNCTION
    LOAD REPLACE the library."""
    for name in SCRIPTS:
        got = c.call("SCRIPT", "LOAD", SCRIPTS[name])
        got = got.decode() if isinstance(got, bytes) else got
        if got != sha(name):
            raise RuntimeError("SCRIPT LOAD %s returned %r, not %s" % (name, got, sha(name)))
    if functions:
        c.call("FUNCTION", "LOAD", "REPLACE", LIBRARY)


def functions_work(c):
    """Whether FUNCTION LOAD REPLACE of the library works on this server (and
    then it is loaded), with the reason when it does not."""
    try:
        c.call("FUNCTION", "LOAD", "REPLACE", LIBRARY)
        return True, None
    except bl.RespError as e:
        return False, str(e).split(", with args")[0]


def fill(c, name, n):
    """The state a run starts from: FLUSHALL (the scripts and functions stay),
    then the locks holding the token, or the counters at 0. Returns the
    DBSIZE it leaves."""
    c.call("FLUSHALL")
    if name == "release":
        m = locks_for(n)
        c.load_strings(((bl.padded_key(i, 17, "lock:"), TOKEN) for i in range(m)), batch=1000)
    else:
        m = COUNTERS
        c.load_strings(((bl.padded_key(i, 18, "count:"), b"0") for i in range(m)), batch=1000)
    if c.call("DBSIZE") != m:
        raise RuntimeError("DBSIZE is not %d after filling" % m)
    return m


def check_replies(servers, how, name):
    """The workload's replies on fixed keys, the same on every server: a
    release of a held lock, of a released one, of a lock held by another
    token; five calls on one counter."""
    seen = {}
    for s in servers:
        with s.client() as c:
            c.call("FLUSHALL")
            out = []
            if name == "release":
                c.call("SET", "lock:held", TOKEN)
                c.call("SET", "lock:other", b"someone-else")
                for key in ("held", "held", "other"):
                    out.append(c.call(*call_args(how, name, key)))
                out.append(c.call("EXISTS", "lock:other"))
            else:
                for _ in range(3):
                    out.append(c.call(*call_args(how, name, "x")))
                out += [c.call("GET", "count:x"), c.call("EXISTS", "tmp:x")]
            seen[s.label] = out
    if len(set(map(repr, seen.values()))) != 1:
        raise RuntimeError("%s %s: the servers' replies differ: %r" % (how, name, seen))


def bench_argv(bench, port, how, name, n, P):
    r = locks_for(n) if name == "release" else COUNTERS
    return [bench, "-h", "127.0.0.1", "-p", str(port), "-n", str(n), "-c", str(CLIENTS), "-P", str(P),
            "-r", str(r), "--csv"] + call_args(how, name)


def run_one(bench, srv, row, timeout):
    with srv.client() as c:
        before = fill(c, row["script"], row["n"])
    s = measured_run(bench_argv(bench, srv.port, row["how"], row["script"], row["n"], row["P"]),
                     srv, row["n"], timeout)
    if "error" in s:
        return s
    with srv.client() as c:
        after = c.call("DBSIZE")
    if row["script"] == "release":
        s["released"] = before - after
        s["release_share"] = (before - after) / float(row["n"])
    elif after != before:
        s["error"] = "DBSIZE %d after the run, not %d (a tmp: key left, or a counter more)" % (after, before)
    return s


def build_rows(args, fcall):
    rows = []
    for how in ("evalsha", "fcall") if fcall else ("evalsha",):
        for name, what in (("release", "Lock release (GET, compare, DEL)"),
                           ("five", "5 commands (INCR GET SET EXPIRE DEL)")):
            for P in (1, 16):
                n = args.calls if P == 1 else args.calls_p16
                rows.append(dict(id="%s-%s-p%d" % (how, name, P), how=how, script=name, P=P, n=n,
                                 label="%s %s, %s" % (how.upper(), what, "unpipelined" if P == 1 else "-P 16")))
    return rows


def lua_of(binary):
    """Which Lua a server binary embeds, from the version string it carries."""
    try:
        with open(binary, "rb") as f:
            data = f.read()
    except OSError:
        return "?"
    for tag, text in ((b"LuaJIT 2.", "LuaJIT 2.1 (interpreter)"), (b"Lua 5.1.", "Lua 5.1")):
        if tag in data:
            return text
    return "no Lua"


def report(results, args, notes, kasi_lua):
    rows = []
    for res in results:
        mk, mr = res["median"].get("Kasi") or {}, res["median"].get("Redis") or {}
        rr = bl.ratio(mk.get("rps"), mr.get("rps"))
        cr = bl.ratio(mk.get("cpu_s_per_mreq"), mr.get("cpu_s_per_mreq"))
        res["rps_ratio"], res["cpu_ratio"] = rr, cr
        rows.append([res["label"], bl.fmt_num(mk.get("rps")), bl.fmt_num(mr.get("rps")), bl.fmt_ratio(rr),
                     bl.fmt_num(mk.get("p50_ms"), 3), bl.fmt_num(mr.get("p50_ms"), 3),
                     bl.fmt_num(mk.get("p99_ms"), 3), bl.fmt_num(mr.get("p99_ms"), 3),
                     bl.fmt_num(mk.get("cpu_s_per_mreq"), 2), bl.fmt_num(mr.get("cpu_s_per_mreq"), 2),
                     bl.fmt_ratio(cr), "calls/s %s, CPU %s" % (cl.goal_cell(rr, 1.0, le=False),
                                                               cl.goal_cell(cr, CPU_GOAL))])
    md = ["Kasi (git %s, %s, %s worker threads) vs %s; %d CPUs, %d connections." % (
              bl.git_rev(), kasi_lua, args.threads or "default", args.redis_version, os.cpu_count(), CLIENTS), "",
          "Medians of %d alternating round%s; %s calls unpipelined, %s with -P 16; CPU is the server's "
          "utime+stime per call (us); ratios Kasi/Redis. Goals: calls/s >= Redis's, CPU <= %.1f x Redis's."
          % (args.rounds, "" if args.rounds == 1 else "s", bl.fmt_num(args.calls), bl.fmt_num(args.calls_p16),
             CPU_GOAL), "",
          bl.markdown_table(["Workload", "Kasi calls/s", "Redis calls/s", "ratio", "Kasi p50 ms", "Redis p50 ms",
                             "Kasi p99 ms", "Redis p99 ms", "Kasi CPU us", "Redis CPU us", "CPU ratio", "goals"],
                            rows)]
    shares = ["%s %s %.3f" % (res["id"], lab, bl.median([x.get("release_share") for x in ss]) or 0)
              for res in results if res["script"] == "release"
              for lab, ss in sorted(res["samples"].items())]
    if shares:
        md += ["", "Share of release calls that found the lock held and deleted it (median): " + "; ".join(shares)]
    return md + [""] + ["Note: " + x for x in notes]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1/5 of the calls, 1 round")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3; --quick 1)")
    ap.add_argument("--calls", type=int, default=None, help="calls per unpipelined run (default 50,000)")
    ap.add_argument("--calls-p16", type=int, default=None, help="calls per -P 16 run (default 200,000)")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's)")
    ap.add_argument("--only", default=None, help="substrings of row ids, e.g. release,fcall-five-p16")
    ap.add_argument("--run-timeout", type=float, default=120.0, help="seconds per redis-benchmark run")
    ap.add_argument("--redis-benchmark", default=None)
    bl.add_server_args(ap, "latest-scripting.json")
    args = ap.parse_args()
    q = 5 if args.quick else 1
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    args.calls = args.calls or 50000 // q
    args.calls_p16 = args.calls_p16 or 200000 // q
    if args.rounds < 1 or min(args.calls, args.calls_p16) < 1000:
        bl.die("--rounds >= 1; at least 1,000 calls per run")
    kasi, redis = bl.find_servers(args)
    bench = bl.find_tool("redis-benchmark", args.redis_benchmark)
    args.redis_version = " ".join(bl.tool_version(redis).split()[:3])
    tmp = tempfile.mkdtemp(prefix="kasi-bench-scripting-")
    t0 = time.monotonic()
    kextra = ["--threads", str(args.threads)] if args.threads else []
    servers, results, notes = [], [], []
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        kasi_lua = lua_of(kasi)
        for label, kind, binary, extra in (("Kasi", "kasi", kasi, kextra), ("Redis", "redis", redis, [])):
            s = bl.Server(kind, binary, extra, label=label, workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
            s.start()
            servers.append(s)
        fcall = True
        for s in servers:
            with s.client() as c:
                ok, why = functions_work(c)
                load_scripts(c, ok)
            if not ok:
                fcall = False
                notes.append("FCALL rows skipped: FUNCTION LOAD fails on %s (%s)" % (s.label, why))
        rows = build_rows(args, fcall)
        if args.only:
            rows = bl.select_rows(rows, args.only)
        checked = set()
        for row in rows:
            if (row["how"], row["script"]) not in checked:
                check_replies(servers, row["how"], row["script"])
                checked.add((row["how"], row["script"]))
            row["samples"] = {s.label: [] for s in servers}
            for rnd in range(args.rounds):
                for s in servers if rnd % 2 == 0 else servers[::-1]:
                    smp = run_one(bench, s, row, args.run_timeout)
                    row["samples"][s.label].append(smp)
                    if "error" in smp:
                        notes.append("%s %s round %d: %s" % (s.label, row["label"], rnd + 1,
                                                             smp["error"].splitlines()[0]))
                        log("  %-58s %-5s round %d: ERROR %s" % (row["label"], s.label, rnd + 1,
                                                                 smp["error"].splitlines()[0]))
                    else:
                        log("  %-58s %-5s round %d: %8.0f calls/s p50 %.3f p99 %.3f ms cpu %.2f us/call%s"
                            % (row["label"], s.label, rnd + 1, smp["rps"], smp["p50_ms"], smp["p99_ms"],
                               smp.get("cpu_s_per_mreq") or -1,
                               " released %.3f" % smp["release_share"] if "release_share" in smp else ""))
            row["median"] = {lab: summarize(ss) for lab, ss in row["samples"].items()}
            results.append(row)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    md = report(results, args, notes, kasi_lua)
    print("\n".join(md).rstrip())
    bl.write_json(args.json, dict(kind="scripting", environment=bl.environment(), markdown="\n".join(md),
                                  results=results, notes=notes, kasi_lua=kasi_lua,
                                  settings=dict(rounds=args.rounds, calls=args.calls, calls_p16=args.calls_p16,
                                                clients=CLIENTS, kasi_threads=args.threads, counters=COUNTERS,
                                                elapsed_s=round(time.monotonic() - t0, 1))))
    log("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), time.monotonic() - t0))
    return 1 if any(n for n in notes if not n.startswith("FCALL rows skipped")) else 0


if __name__ == "__main__":
    sys.exit(main())
