#!/usr/bin/env python3
"""Kasi vs Redis 7: pub/sub fan-out, each server in turn in one run, started
fresh on a free loopback port (Kasi with its default worker threads, one per
core, and with one; client-output-buffer-limit's pubsub class off on all, so
that a subscriber that falls behind is measured, not dropped).

  fanout   one publisher (redis-benchmark -c 1 -P 16, PUBLISH of a 64-byte
           message) and 50 subscribers (bench/subscribers.c, one C process
           with a connection each, reading raw bytes): messages delivered per second (50 x published, over the
           time until the last subscriber has them all), and server CPU per
           delivered message.        goals: >= Redis's rate, CPU <= 0.5x
  latency  the same 50 subscribers, one publisher sending 2,000 messages a
           second carrying the system-wide monotonic time they were sent at:
           published-to-received p50/p99/max over every subscriber.
                                     goal: p99 no worse than Redis's

Three rounds of each, servers alternating; medians are quoted.

    /usr/bin/python3 bench/pubsub.py            # 200,000 messages per round
    /usr/bin/python3 bench/pubsub.py --quick    # 40,000
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import collib as cl  # noqa: E402

NSUBS = 50
SIZE = 64
CHANNEL = b"bench"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_subscribers(tmp):
    """bench/subscribers.c: the 50 subscribers, in one C process, so that the
    readers cost little next to the server on a small machine."""
    return bl.build_c_tool("subscribers", tmp)


def start_subscribers(tool, port, n, mode):
    p = subprocess.Popen([tool, str(port), str(NSUBS), CHANNEL.decode(), str(SIZE), str(n), mode, "300"],
                         stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        p.kill()
        raise RuntimeError("the subscribers did not start")
    return p


def collect(p, timeout=330):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    r = json.loads(out.strip().splitlines()[-1])
    if r["got_min"] < r["want"]:
        raise RuntimeError("a subscriber got %d of %d bytes" % (r["got_min"], r["want"]))
    return r


def fanout(srv, rb, tool, n):
    p = start_subscribers(tool, srv.port, n, "count")
    cpu0 = srv.cpu_seconds()
    t0 = time.monotonic()
    argv = [rb, "-p", str(srv.port), "-c", "1", "-n", str(n), "-P", "16", "-q",
            "PUBLISH", CHANNEL.decode(), "x" * SIZE]
    out, err, rc, terr, _ = bl.run_redis_benchmark(argv, 300)
    if terr or rc != 0:
        p.kill()
        raise RuntimeError("redis-benchmark failed: %s %s" % (terr or rc, (err or "")[-200:]))
    r = collect(p)
    cpu1 = srv.cpu_seconds()
    wall = r["done"] - t0
    delivered = n * NSUBS
    return dict(delivered_per_s=delivered / wall, cpu_us_per_msg=(cpu1 - cpu0) * 1e6 / delivered,
                wall_s=round(wall, 2))


def latency(srv, tool, n, rate=2000.0):
    p = start_subscribers(tool, srv.port, n, "latency")
    with cl.FastConn(srv.port, timeout=30) as c:
        nxt = time.monotonic()
        for _ in range(n):
            d = nxt - time.monotonic()
            if d > 0:
                time.sleep(d)
            stamp = (b"%.6f" % time.monotonic()).ljust(SIZE)
            r = c.call("PUBLISH", CHANNEL, stamp)
            if r != NSUBS:
                p.kill()
                raise RuntimeError("PUBLISH counted %r" % (r,))
            nxt += 1.0 / rate
    r = collect(p)
    return dict(p50_ms=r["p50"] * 1000.0, p99_ms=r["p99"] * 1000.0, max_ms=r["max"] * 1000.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="40,000 messages per round")
    ap.add_argument("--rounds", type=int, default=3)
    bl.add_server_args(ap, "latest-pubsub.json")
    args = ap.parse_args()
    kasi, redis = bl.find_servers(args)
    rb = bl.find_tool("redis-benchmark")
    bl.raise_nofile(4096)
    n = 40000 if args.quick else 200000
    tmp = tempfile.mkdtemp(prefix="kasi-bench-pubsub-")
    off = ["--client-output-buffer-limit", "pubsub 0 0 0"]
    servers = [("Kasi", "kasi", ["--threads", "0"] + off), ("Kasi-1", "kasi", ["--threads", "1"] + off),
               ("Redis", "redis", off)]
    res = {label: {"fanout": [], "latency": []} for label, _, _ in servers}
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        tool = build_subscribers(tmp)
        for rnd in range(args.rounds):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for label, kind, extra in order:
                binary = kasi if kind == "kasi" else redis
                for name, fn in [("fanout", lambda s: fanout(s, rb, tool, n)),
                                 ("latency", lambda s: latency(s, tool, n // 20))]:
                    r = bl.on_fresh_server(kind, binary, extra, label, tmp, fn)
                    res[label][name].append(r)
                    log("  round %d %-7s %-7s %s" % (rnd, name, label, r))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(label, name, k):
        return bl.median([r.get(k) for r in res[label][name]])

    rows = []
    for name, k, text, goal, le in [
            ("fanout", "delivered_per_s", "messages delivered per second, 1 publisher, 50 subscribers", 1.0, False),
            ("fanout", "cpu_us_per_msg", "server CPU per delivered message (us)", 0.5, True),
            ("latency", "p50_ms", "published-to-received p50 at 2,000 msg/s (ms)", None, True),
            ("latency", "p99_ms", "published-to-received p99 (ms)", 1.0, True),
            ("latency", "max_ms", "published-to-received max (ms)", None, True)]:
        kv, k1, rv = med("Kasi", name, k), med("Kasi-1", name, k), med("Redis", name, k)
        rat = bl.ratio(kv, rv)
        gtxt = ("%s %.1fx" % ("<=" if le else ">=", goal)) if goal else ""
        rows.append([text, bl.fmt_num(kv, 2), bl.fmt_num(k1, 2), bl.fmt_num(rv, 2), bl.fmt_ratio(rat),
                     bl.fmt_ratio(bl.ratio(k1, rv)), gtxt, cl.goal_cell(rat, goal, le) if goal else ""])
    print(bl.markdown_table(["measure (median of %d rounds)" % args.rounds, "Kasi", "Kasi 1 thread", "Redis",
                             "Kasi/Redis", "1 thread/Redis", "goal", ""], rows))
    bl.write_json(args.json, dict(env=bl.environment(), n=n, results=res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
