#!/usr/bin/env python3
"""What the kernel alone costs: Kasi and Redis 7 next to a do-nothing server.

bench/floor.c is the cheapest server that redis-benchmark's SET and GET rows
accept: one read and one write per ready connection, one value slot, nothing
else.  It runs twice, once waiting with epoll and once doing all its I/O
through io_uring.  Its CPU time per request is a floor under any server that
does its I/O that way over the kernel's TCP stack on this machine, and
floor/Redis is the lowest CPU ratio such a server could show against Redis.
Its req/s shows how the load generator fares against a server that is idle
most of the time.

The rows are run.py's SET and GET rows (32 B and 4 KB values, 50 connections,
unpipelined and pipelined 16 deep), run in alternating turns (Kasi, Redis,
epoll floor, io_uring floor) for --rounds rounds; the table has medians.
Kasi runs with one worker thread unless --threads says otherwise, so all
four servers use one thread.

    /usr/bin/python3 bench/floor.py              # about 2 minutes
    /usr/bin/python3 bench/floor.py --quick      # 1/10 of the requests, 1 round
    /usr/bin/python3 bench/floor.py --only p1 --rounds 5
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import run  # noqa: E402


def build_floor(tmp):
    return bl.build_c_tool("floor", tmp)


def prepare(t, row):
    """Kasi and Redis get run.py's key set; the floor server its one value."""
    if t.server.kind != "floor":
        run.ensure_dataset(t, row["data"])
        return
    val = b"x" * row["d"]
    with t.server.client() as c:
        c.call("SET", "key", val)
        if c.call("GET", "key") != val:
            raise RuntimeError("floor server: GET does not return the value SET")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_common_args(ap, "latest-floor.json")
    ap.add_argument("--threads", type=int, default=1, help="Kasi --threads (default 1)")
    args = ap.parse_args()
    rounds, kasi, redis, bench = run.resolve_common(args)
    rows = [r for r in run.build_rows(args.quick) if r["id"].startswith(("set-", "get-")) and r["c"] == 50
            and r["d"] <= 4096]
    if args.only:
        rows = bl.select_rows(rows, args.only)

    tmp = tempfile.mkdtemp(prefix="kasi-bench-floor-")
    targets, results = [], []
    t_start = time.monotonic()
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        floor = build_floor(tmp)
        for kind, binary, extra, label in (("kasi", kasi, ["--threads", str(args.threads)], "Kasi"),
                                           ("redis", redis, [], "Redis"), ("floor", floor, [], "epoll floor"),
                                           ("floor", floor, ["uring"], "io_uring floor")):
            wd = tempfile.mkdtemp(prefix=kind + "-", dir=tmp)
            t = run.Target(bl.Server(kind, binary, extra, label=label, workdir=wd), label)
            t.server.start()
            if kind != "floor":
                with t.server.client() as c:
                    info = c.info()
                t.version = info.get("kasi_version") or info.get("redis_version", "?")
            targets.append(t)
            print("started %s pid %d port %d" % (label, t.server.pid, t.server.port), file=sys.stderr)
        for row in rows:
            samples = {t.label: [] for t in targets}
            for t in targets:
                prepare(t, row)
            for rnd in range(rounds):
                for t in targets:
                    smp = run.run_one(bench, t, row, args.run_timeout)
                    samples[t.label].append(smp)
                    if "error" in smp:
                        raise SystemExit("error: %s, %s: %s" % (row["label"], t.label, smp["error"]))
                    print("  %-40s %-14s round %d: %10.0f req/s p99 %.3f ms cpu %.2f s/Mreq"
                          % (row["label"], t.label, rnd + 1, smp["rps"], smp["p99_ms"],
                             smp.get("cpu_s_per_mreq") or -1), file=sys.stderr)
            results.append(dict(id=row["id"], label=row["label"],
                                params={k: row[k] for k in ("test", "c", "P", "d", "r", "n")},
                                samples=samples, median={lab: run.summarize(s) for lab, s in samples.items()}))
    finally:
        for t in targets:
            t.server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def g(res, label, key):
        m = res["median"].get(label)
        return m.get(key) if m else None

    labels = ("Kasi", "Redis", "epoll floor", "io_uring floor")
    trows = []
    for res in results:
        cpu = [g(res, lab, "cpu_s_per_mreq") for lab in labels]
        rps = [g(res, lab, "rps") for lab in labels]
        trows.append([res["label"]] + [bl.fmt_num(x, 2) for x in cpu] +
                     [bl.fmt_ratio(bl.ratio(x, cpu[1])) for x in (cpu[0], cpu[2], cpu[3])] +
                     [bl.fmt_num(rps[1], 0)] + [bl.fmt_ratio(bl.ratio(x, rps[1])) for x in (rps[0], rps[2], rps[3])])
    md = ["Kasi (%d worker thread%s, git %s) and Redis %s next to bench/floor.c, a server that does nothing "
          "but wait for sockets, read and write (with epoll, and with io_uring); %d CPUs; medians of %d "
          "alternating round%s. CPU is server CPU seconds per million requests; a floor's ratio to Redis is the "
          "lowest CPU ratio a server doing its I/O that way could reach here."
          % (args.threads, "" if args.threads == 1 else "s", bl.git_rev(), targets[1].version,
             os.cpu_count(), rounds, "" if rounds == 1 else "s"), ""]
    md.append(bl.markdown_table(
        ["Benchmark", "Kasi CPU", "Redis CPU", "epoll floor CPU", "io_uring floor CPU", "Kasi/Redis CPU",
         "epoll floor/Redis CPU", "io_uring floor/Redis CPU", "Redis req/s", "Kasi/Redis req/s",
         "epoll floor/Redis req/s", "io_uring floor/Redis req/s"], trows))
    print("\n".join(md))
    elapsed = time.monotonic() - t_start
    bl.write_json(args.json, dict(kind="floor", environment=bl.environment(),
                                  settings=dict(rounds=rounds, quick=args.quick, kasi_threads=args.threads,
                                                elapsed_s=round(elapsed, 1)),
                                  rows=results, markdown="\n".join(md)))
    print("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
