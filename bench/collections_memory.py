#!/usr/bin/env python3
"""Kasi vs Redis 7: memory per element of hashes, sets, sorted sets, lists.

For each load and server in turn (one server at a time, each started fresh
and empty on a free loopback port with benchlib's settings), as memory.py
does for strings:

    bytes/element = (VmRSS after loading - VmRSS before) / elements

and the same from INFO used_memory (each server's own accounting).  Loads go
over a separate connection with pipelined writes of about 256 KB (many
elements per HSET/SADD/ZADD/RPUSH), every reply checked; that connection is
closed before the second reading, so its buffers are not counted.  Then
DBSIZE, the cardinality of the first and last key and one element are
checked.

Loads (elements are fields / members / list elements):
  hashes-10f   200,000 hashes of 10 fields (8 B field, 16 B value)    goal <= 0.8 x Redis
  hash-big     one hash of 1,000,000 fields (8 B field, 16 B value)   goal <= 0.6 x Redis
  set-big      one set of 1,000,000 16 B members                      goal <= 0.6 x Redis
  sets-int20   100,000 sets of 20 small integers (0..999)             goal <= 0.8 x Redis
  zset-big     one sorted set of 1,000,000 16 B members               goal <= 0.5 x Redis
  zsets-20     100,000 sorted sets of 20 16 B members                 goal <= 0.8 x Redis
  list-1m      one list of 1,000,000 16 B elements                    goal <= 1.0 x Redis
  list-10m     one list of 10,000,000 16 B elements                   goal <= 1.0 x Redis

A load whose commands the Kasi binary does not have (COMMAND INFO) is
reported as "not implemented" and skipped (Redis too, unless --redis-always).

    /usr/bin/python3 bench/collections_memory.py            # full sizes
    /usr/bin/python3 bench/collections_memory.py --quick    # 1/10 of every size
    /usr/bin/python3 bench/collections_memory.py --only hash
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import collib as cl  # noqa: E402


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ loads ---
# Each generator yields encoded commands; the loader checks the sum (or the
# last) of the integer replies against `expect`.

FIELD8 = [cl.bulk(b"fld:%04d" % j) for j in range(10)]        # 8-byte fields of the small hashes


def gen_hashes(nkeys, nfields):
    head = cl.cmd_head("HSET", 1 + 2 * nfields)
    for i in range(nkeys):
        parts = [head, cl.bulk(b"hash:%011d" % i)]
        base = i * nfields
        for j in range(nfields):
            parts.append(FIELD8[j] if j < 10 else cl.bulk(b"fl:%05d" % j))
            parts.append(b"$16\r\nval:%012d\r\n" % (base + j))
        yield b"".join(parts)


def gen_big(cmd, key, n, per_cmd, item):
    """cmd key item(lo) ... item(hi-1), per_cmd items per command; item(i)
    returns the encoded argument(s) of element i."""
    for lo in range(0, n, per_cmd):
        hi = min(n, lo + per_cmd)
        items = [item(i) for i in range(lo, hi)]
        nargs = sum(x.count(b"\r\n") // 2 for x in items)   # each bulk is "$len\r\ndata\r\n"
        yield cl.cmd_head(cmd, 1 + nargs) + cl.bulk(key) + b"".join(items)


def big_field(i):
    return b"$8\r\nf%07d\r\n$16\r\nval:%012d\r\n" % (i, i)


def big_member(i):
    return b"$16\r\nmem:%012d\r\n" % i


def zscore_of(i, n):
    """A deterministic score that scatters insertion order over the score
    order: i * 7919 mod n (7919 is prime, so a permutation when n is not a
    multiple of it)."""
    return (i * 7919) % max(1, n)


def gen_zset_big(n, per_cmd=100):
    def item(i):
        s = b"%d" % zscore_of(i, n)
        return cl.bulk(s) + big_member(i)
    return gen_big("ZADD", b"bigzset", n, per_cmd, item)


def gen_int_sets(nkeys, nmembers):
    head = cl.cmd_head("SADD", 1 + nmembers)
    for i in range(nkeys):
        # distinct small integers 0..999 (13 is coprime with 1000)
        yield head + cl.bulk(b"set:%012d" % i) + b"".join(
            cl.bulk(b"%d" % ((i * 7 + j * 13) % 1000)) for j in range(nmembers))


def gen_small_zsets(nkeys, nmembers):
    head = cl.cmd_head("ZADD", 1 + 2 * nmembers)
    for i in range(nkeys):
        base = i * nmembers
        yield head + cl.bulk(b"zset:%011d" % i) + b"".join(
            cl.bulk(b"%d" % (j * 3 + 1)) + b"$16\r\nm:%014d\r\n" % (base + j) for j in range(nmembers))


def gen_list(n, per_cmd=500):
    return gen_big("RPUSH", b"biglist", n, per_cmd, lambda i: b"$16\r\nelem:%011d\r\n" % i)


def build_loads(f):
    """f = 1 (full) or 10 (--quick: every size / 10)."""
    H = 200000 // f
    B = 1000000 // f
    S = 100000 // f
    L10 = 10000000 // f
    return [
        dict(id="hashes-10f", label="%s hashes x 10 fields (8 B field, 16 B value)" % bl.fmt_num(H),
             cmds=["HSET", "HLEN", "HGET"], keys=H, elements=H * 10, per_key=10, goal=0.8, ref=39.9,
             gen=lambda: gen_hashes(H, 10), expect=("sum", H * 10), payload=24,
             check=[("HLEN", b"hash:%011d" % 0, 10), ("HLEN", b"hash:%011d" % (H - 1), 10),
                    ("HGET", b"hash:%011d" % (H - 1), b"fld:0009", b"val:%012d" % (H * 10 - 1))]),
        dict(id="hash-big", label="1 hash x %s fields (8 B field, 16 B value)" % bl.fmt_num(B),
             cmds=["HSET", "HLEN", "HGET"], keys=1, elements=B, goal=0.6, ref=None,
             gen=lambda: gen_big("HSET", b"bighash", B, 100, big_field), expect=("sum", B), payload=24,
             check=[("HLEN", b"bighash", B), ("HGET", b"bighash", b"f%07d" % (B - 1), b"val:%012d" % (B - 1))]),
        dict(id="set-big", label="1 set x %s members (16 B)" % bl.fmt_num(B),
             cmds=["SADD", "SCARD", "SISMEMBER"], keys=1, elements=B, goal=0.6, ref=82.1,
             gen=lambda: gen_big("SADD", b"bigset", B, 100, big_member), expect=("sum", B), payload=16,
             check=[("SCARD", b"bigset", B), ("SISMEMBER", b"bigset", b"mem:%012d" % (B - 1), 1)]),
        dict(id="sets-int20", label="%s sets x 20 small integers" % bl.fmt_num(S),
             cmds=["SADD", "SCARD", "SISMEMBER"], keys=S, elements=S * 20, goal=0.8, ref=None,
             gen=lambda: gen_int_sets(S, 20), expect=("sum", S * 20), payload=None,
             check=[("SCARD", b"set:%012d" % 0, 20), ("SCARD", b"set:%012d" % (S - 1), 20),
                    ("SISMEMBER", b"set:%012d" % (S - 1), b"%d" % (((S - 1) * 7 + 19 * 13) % 1000), 1)]),
        dict(id="zset-big", label="1 sorted set x %s members (16 B)" % bl.fmt_num(B),
             cmds=["ZADD", "ZCARD", "ZSCORE"], keys=1, elements=B, goal=0.5, ref=133.1,
             gen=lambda: gen_zset_big(B), expect=("sum", B), payload=16,
             check=[("ZCARD", b"bigzset", B),
                    ("ZSCORE", b"bigzset", b"mem:%012d" % (B - 1), b"%d" % zscore_of(B - 1, B))]),
        dict(id="zsets-20", label="%s sorted sets x 20 members (16 B)" % bl.fmt_num(S),
             cmds=["ZADD", "ZCARD", "ZSCORE"], keys=S, elements=S * 20, goal=0.8, ref=None,
             gen=lambda: gen_small_zsets(S, 20), expect=("sum", S * 20), payload=16,
             check=[("ZCARD", b"zset:%011d" % 0, 20), ("ZCARD", b"zset:%011d" % (S - 1), 20),
                    ("ZSCORE", b"zset:%011d" % (S - 1), b"m:%014d" % (S * 20 - 1), b"%d" % (19 * 3 + 1))]),
        dict(id="list-1m", label="1 list x %s elements (16 B)" % bl.fmt_num(B),
             cmds=["RPUSH", "LLEN", "LINDEX"], keys=1, elements=B, goal=1.0, ref=18.6,
             gen=lambda: gen_list(B), expect=("last", B), payload=16,
             check=[("LLEN", b"biglist", B), ("LINDEX", b"biglist", b"%d" % (B - 1), b"elem:%011d" % (B - 1))]),
        dict(id="list-10m", label="1 list x %s elements (16 B)" % bl.fmt_num(L10),
             cmds=["RPUSH", "LLEN", "LINDEX"], keys=1, elements=L10, goal=1.0, ref=None,
             gen=lambda: gen_list(L10), expect=("last", L10), payload=16,
             check=[("LLEN", b"biglist", L10),
                    ("LINDEX", b"biglist", b"%d" % (L10 // 2), b"elem:%011d" % (L10 // 2))]),
    ]


# ---------------------------------------------------------------- measure ---

def measure(server, load, settle, timeout):
    """Start `server`, load, verify, return a result dict.  Stops it."""
    try:
        server.start()
        with cl.FastConn(server.port, timeout=120) as c:
            c.call("PING")
            info0, rss0 = server.memory_reading(c, settle)
        deadline = time.monotonic() + timeout
        with cl.FastConn(server.port, timeout=120) as lc:
            t0 = time.monotonic()
            replies, ncmd = cl.pipeline(lc, load["gen"](), deadline=deadline)
            load_s = time.monotonic() - t0
        how, want = load["expect"]
        got = sum(replies) if how == "sum" else (replies[-1] if replies else None)
        if got != want:
            raise RuntimeError("the %d load commands' replies %s to %r, expected %d"
                               % (ncmd, "add up" if how == "sum" else "end", got, want))
        with cl.FastConn(server.port, timeout=120) as c:
            dbsize = c.call("DBSIZE")
            if dbsize != load["keys"]:
                raise RuntimeError("DBSIZE %r after loading %d keys" % (dbsize, load["keys"]))
            for chk in load["check"]:
                args, expected = chk[:-1], chk[-1]
                r = c.call(*args)
                if r != expected:
                    raise RuntimeError("%s = %r, expected %r" % (b" ".join(args).decode(), r, expected))
            info1, rss1 = server.memory_reading(c, settle)
        if not server.alive():
            raise RuntimeError("server exited; log tail:\n" + server.log_tail())
        n = load["elements"]
        um0, um1 = int(info0.get("used_memory", 0)), int(info1.get("used_memory", 0))
        return dict(rss_before_kb=rss0, rss_after_kb=rss1, rss_bytes_per_elem=(rss1 - rss0) * 1024.0 / n,
                    used_memory_before=um0, used_memory_after=um1, used_memory_bytes_per_elem=(um1 - um0) / n,
                    load_s=round(load_s, 2), load_cmds=ncmd,
                    elements_per_s=round(n / load_s) if load_s > 0 else None)
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every load at 1/10 of its size")
    ap.add_argument("--only", default=None, help="comma separated substrings of load ids")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's default)")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds to wait before each RSS reading")
    ap.add_argument("--redis-always", action="store_true",
                    help="measure Redis also for loads Kasi cannot run yet")
    ap.add_argument("--load-timeout", type=float, default=600.0, help="bound on one load, s")
    bl.add_server_args(ap, "latest-collections-memory.json")
    args = ap.parse_args()

    kasi, redis = bl.find_servers(args)
    loads = build_loads(10 if args.quick else 1)
    if args.only:
        loads = bl.select_rows(loads, args.only)
    kasi_extra = ["--threads", str(args.threads)] if args.threads is not None else []
    tmp = tempfile.mkdtemp(prefix="kasi-bench-cmem-")
    results = []
    t_start = time.monotonic()
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        allcmds = sorted({c for ld in loads for c in ld["cmds"]} | {"DBSIZE"})
        have = cl.binary_commands("kasi", kasi, allcmds, tmp, kasi_extra)
        log("Kasi lacks: %s" % (", ".join(c for c in allcmds if not have[c]) or "nothing used here"))
        for ld in loads:
            miss = cl.missing_commands(have, ld["cmds"])
            res = dict(id=ld["id"], label=ld["label"], keys=ld["keys"], elements=ld["elements"],
                       goal=ld["goal"], redis_ref=ld["ref"], payload=ld["payload"], results={},
                       kasi_missing=miss)
            order = [("Kasi", "kasi", kasi, kasi_extra), ("Redis", "redis", redis, [])]
            if len(results) % 2:
                order.reverse()
            for label, kind, binary, extra in order:
                if miss and (kind == "kasi" or not args.redis_always):
                    continue
                srv = bl.Server(kind, binary, extra, label=label,
                                workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
                try:
                    r = measure(srv, ld, args.settle, args.load_timeout)
                except Exception as e:  # noqa: BLE001 - report, keep going
                    r = dict(error=str(e))
                res["results"][label] = r
                if "error" in r:
                    log("  %-11s %-5s ERROR %s" % (ld["id"], label, r["error"].splitlines()[0]))
                else:
                    log("  %-11s %-5s %10s elements: RSS %7.1f -> %7.1f MB = %6.1f B/elem; used_memory "
                        "%6.1f B/elem; load %.1f s" % (ld["id"], label, bl.fmt_num(ld["elements"]),
                                                     r["rss_before_kb"] / 1024.0, r["rss_after_kb"] / 1024.0,
                                                     r["rss_bytes_per_elem"], r["used_memory_bytes_per_elem"],
                                                     r["load_s"]))
            if miss:
                log("  %-11s Kasi: not implemented (no %s)" % (ld["id"], ", ".join(miss)))
            results.append(res)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def g(res, lab, k):
        return (res["results"].get(lab) or {}).get(k)

    trows, notes = [], []
    for res in results:
        kr, rr = g(res, "Kasi", "rss_bytes_per_elem"), g(res, "Redis", "rss_bytes_per_elem")
        ku, ru = g(res, "Kasi", "used_memory_bytes_per_elem"), g(res, "Redis", "used_memory_bytes_per_elem")
        rat = bl.ratio(kr, rr)
        res["ratio"] = rat
        goal = "<= %.1fx" % res["goal"] if res["goal"] != 1.0 else "<= Redis"
        if res["kasi_missing"]:
            kcell, met = "not implemented", "n/a"
        elif kr is None:
            kcell, met = "error", "n/a"
        else:
            kcell, met = bl.fmt_num(kr, 1), cl.goal_cell(rat, res["goal"])
        res["goal_met"] = None if met == "n/a" else (met == "met")
        trows.append([res["label"], bl.fmt_num(rr, 1), kcell, bl.fmt_ratio(rat), goal, met,
                      bl.fmt_num(ru, 1), bl.fmt_num(ku, 1),
                      "%.1f" % res["redis_ref"] if res["redis_ref"] else ""])
        for lab, r in res["results"].items():
            if "error" in r:
                notes.append("%s on %s failed: %s" % (lab, res["id"], r["error"].splitlines()[0]))
        if res["kasi_missing"]:
            notes.append("%s: Kasi has no %s yet; skipped%s" % (res["id"], ", ".join(res["kasi_missing"]),
                                                                "" if args.redis_always else " (Redis too)"))
    md = ["Bytes per element from the RSS growth of a fresh server (VmRSS after loading minus before, "
          "/ elements: fields, members or list elements); ratio is Kasi/Redis (lower is better); the goal "
          "is on the RSS ratio. used_memory is each server's own accounting (Redis: jemalloc allocations). "
          "%s." % ("--quick: every load at 1/10 of its size" if args.quick else "Full sizes"), "",
          bl.markdown_table(["Load", "Redis B/elem", "Kasi B/elem", "ratio", "goal", "met?",
                             "Redis used_memory B/elem", "Kasi used_memory B/elem", "Redis earlier"], trows)]
    if notes:
        md.append("")
        md += ["Note: " + n for n in notes]
    print("\n".join(md))
    elapsed = time.monotonic() - t_start
    for res in results:
        res.pop("gen", None)
    bl.write_json(args.json, dict(kind="collections-memory", environment=bl.environment(),
                                  settings=dict(quick=args.quick, kasi_threads=args.threads,
                                                settle_s=args.settle, elapsed_s=round(elapsed, 1),
                                                redis=bl.tool_version(redis), kasi_commands=have),
                                  rows=results, markdown="\n".join(md)))
    log("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed))
    return 1 if any("error" in r for res in results for r in res["results"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
