#!/usr/bin/env python3
"""Kasi vs Redis 7: memory per key.

For each row a fresh server is started, its RSS (VmRSS from /proc/<pid>/status)
is read, exactly N string keys are loaded with a pipelined raw-socket loader
(keys 'key:' + zero padded index, padded to the key size: 16 bytes gives
redis-benchmark's key:%012d), RSS is read again, and

    bytes/key = (RSS after - RSS before) / N

INFO used_memory (the server's own allocator accounting) is reported too.

    /usr/bin/python3 bench/memory.py            # 1M keys main row, 200k others
    /usr/bin/python3 bench/memory.py --quick    # 100k / 20k keys
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

TTL_SECONDS = 86400  # long enough that nothing expires during the measurement


def build_rows(n_main, n_other):
    return [
        dict(id="k16-v32-1m", key=16, val=32, ttl=False, n=n_main),
        dict(id="k16-v32", key=16, val=32, ttl=False, n=n_other),
        dict(id="k16-v32-ttl", key=16, val=32, ttl=True, n=n_other),
        dict(id="k64-v32", key=64, val=32, ttl=False, n=n_other),
        dict(id="k16-v128", key=16, val=128, ttl=False, n=n_other),
        dict(id="k16-v1k", key=16, val=1024, ttl=False, n=n_other),
        dict(id="k16-v1k-ttl", key=16, val=1024, ttl=True, n=n_other),
        dict(id="k16-v4k", key=16, val=4096, ttl=False, n=n_other),
        # the same keys written 3 times (values overwritten twice), then 2 s idle:
        # shows space held by overwritten values that is not yet reclaimed
        dict(id="k16-v1k-overwrite", key=16, val=1024, ttl=False, n=n_other, passes=3, idle=2.0),
    ]


def measure(server, row, settle):
    """Start `server`, load the row's keys, return a result dict.  Stops it."""
    try:
        server.start()
        with server.client(timeout=120) as c:
            c.call("PING")
            info0, rss0 = server.memory_reading(c, settle)
            val = b"x" * row["val"]
            extra = (b"EX", str(TTL_SECONDS).encode()) if row["ttl"] else ()
        # load on a separate connection, closed before measuring, so its
        # query/reply buffers are not counted
        with server.client(timeout=120) as lc:
            t0 = time.monotonic()
            for p in range(row.get("passes", 1)):
                pval = val if p == row.get("passes", 1) - 1 else bytes([ord("a") + p]) * row["val"]
                lc.load_strings(((bl.padded_key(i, row["key"]), pval) for i in range(row["n"])),
                                batch=max(1, min(2000, (256 << 10) // (row["val"] + row["key"] + 64))),
                                extra=extra)
            load_s = time.monotonic() - t0
        with server.client(timeout=120) as c:
            dbsize = c.call("DBSIZE")
            if dbsize != row["n"]:
                raise RuntimeError("DBSIZE %r after loading %d keys" % (dbsize, row["n"]))
            probe = bl.padded_key(row["n"] - 1, row["key"])
            if c.call("GET", probe) != val:
                raise RuntimeError("GET %s returned a wrong value" % probe.decode())
            ttl = c.call("TTL", probe)
            if row["ttl"] and not (0 < ttl <= TTL_SECONDS):
                raise RuntimeError("TTL %s = %r, expected 1..%d" % (probe.decode(), ttl, TTL_SECONDS))
            if not row["ttl"] and ttl != -1:
                raise RuntimeError("TTL %s = %r, expected -1" % (probe.decode(), ttl))
            info1, rss1 = server.memory_reading(c, max(settle, row.get("idle", 0)))
        if not server.alive():
            raise RuntimeError("server exited; log tail:\n" + server.log_tail())
        n = row["n"]
        um0, um1 = int(info0.get("used_memory", 0)), int(info1.get("used_memory", 0))
        return dict(rss_before_kb=rss0, rss_after_kb=rss1,
                    rss_bytes_per_key=(rss1 - rss0) * 1024.0 / n,
                    used_memory_before=um0, used_memory_after=um1,
                    used_memory_bytes_per_key=(um1 - um0) / n,
                    load_s=round(load_s, 2), load_keys_per_s=round(n / load_s) if load_s > 0 else None)
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k keys main row, 20k for the others")
    ap.add_argument("-n", "--keys", type=int, default=None, help="keys for the main row (default 1,000,000)")
    ap.add_argument("--keys-other", type=int, default=None, help="keys for the other rows (default 200,000)")
    ap.add_argument("--only", default=None, help="comma separated substrings of row ids")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's default)")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds to wait before each RSS reading")
    bl.add_server_args(ap, "latest-memory.json")
    args = ap.parse_args()

    kasi, redis = bl.find_servers(args)
    n_main = args.keys or (100000 if args.quick else 1000000)
    n_other = args.keys_other or (20000 if args.quick else 200000)
    rows = build_rows(n_main, n_other)
    if args.only:
        rows = bl.select_rows(rows, args.only)

    kasi_extra = ["--threads", str(args.threads)] if args.threads is not None else []
    tmp = tempfile.mkdtemp(prefix="kasi-bench-mem-")
    kasi = bl.snapshot_binary(kasi, tmp)
    results = []
    t_start = time.monotonic()
    try:
        for row in rows:
            res = {}
            # alternate which server goes first, so slow drift hits both
            order = (("Kasi", "kasi", kasi, kasi_extra), ("Redis", "redis", redis, []))
            if len(results) % 2:
                order = order[::-1]
            for label, kind, binary, extra in order:
                srv = bl.Server(kind, binary, extra, label=label,
                                workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
                try:
                    res[label] = measure(srv, row, args.settle)
                except Exception as e:  # noqa: BLE001 - report, keep going
                    res[label] = dict(error=str(e))
                r = res[label]
                if "error" in r:
                    print("  %-14s %-5s ERROR %s" % (row["id"], label, r["error"].splitlines()[0]), file=sys.stderr)
                else:
                    print("  %-14s %-5s %8d keys: RSS %7.1f -> %7.1f MB = %6.1f B/key; used_memory %6.1f B/key; "
                          "load %.1f s" % (row["id"], label, row["n"], r["rss_before_kb"] / 1024.0,
                                          r["rss_after_kb"] / 1024.0, r["rss_bytes_per_key"],
                                          r["used_memory_bytes_per_key"], r["load_s"]), file=sys.stderr)
            results.append(dict(row, results=res))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def g(res, lab, k):
        r = res["results"].get(lab) or {}
        return r.get(k)

    trows = []
    for res in results:
        desc = "%s keys, %d B key, %s value%s" % (
            "{:,}".format(res["n"]), res["key"],
            ("%d KB" % (res["val"] // 1024)) if res["val"] >= 1024 else "%d B" % res["val"],
            ", TTL" if res["ttl"] else "")
        if res.get("passes", 1) > 1:
            desc += ", written %dx, %g s idle" % (res["passes"], res.get("idle", 0))
        kr, rr = g(res, "Kasi", "rss_bytes_per_key"), g(res, "Redis", "rss_bytes_per_key")
        ku, ru = g(res, "Kasi", "used_memory_bytes_per_key"), g(res, "Redis", "used_memory_bytes_per_key")
        payload = res["key"] + res["val"]
        trows.append([desc, bl.fmt_num(kr, 1), bl.fmt_num(rr, 1), bl.fmt_ratio(bl.ratio(kr, rr)),
                      bl.fmt_num(None if kr is None else kr - payload, 1),
                      bl.fmt_num(None if rr is None else rr - payload, 1),
                      bl.fmt_num(ku, 1), bl.fmt_num(ru, 1)])
    md = ["Bytes per key from the RSS growth of a fresh server (VmRSS after loading minus before, / keys); "
          "overhead = bytes/key minus key+value payload; ratio is Kasi/Redis (lower is better). "
          "Redis 7 uses jemalloc; used_memory is each server's own accounting.", "",
          bl.markdown_table(["Load", "Kasi B/key", "Redis B/key", "ratio", "Kasi overhead",
                             "Redis overhead", "Kasi used_memory B/key", "Redis used_memory B/key"], trows)]
    errs = [(res["id"], lab, r["error"]) for res in results for lab, r in res["results"].items() if "error" in r]
    for rid, lab, e in errs:
        md.append("Note: %s on %s failed: %s" % (lab, rid, e.splitlines()[0]))
    print("\n".join(md))
    elapsed = time.monotonic() - t_start
    bl.write_json(args.json, dict(kind="memory", environment=bl.environment(),
                                  settings=dict(quick=args.quick, n_main=n_main, n_other=n_other,
                                                kasi_threads=args.threads, ttl_seconds=TTL_SECONDS,
                                                elapsed_s=round(elapsed, 1),
                                                redis=bl.tool_version(redis)),
                                  rows=results, markdown="\n".join(md)))
    print("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed), file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
