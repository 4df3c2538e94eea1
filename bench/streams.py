#!/usr/bin/env python3
"""Kasi vs Redis 7: streams, each server in turn in one run, started fresh on a
free loopback port with benchlib's settings (Kasi with one worker thread, so
that every client shares the thread that does the work, as on Redis).

  memory   bytes per entry of one stream of 1,000,000 entries of 2 fields of
           8 bytes (field names and values), added with pipelined XADD * :
           (VmRSS after - before) / entries, and INFO used_memory's growth.
           goal <= 0.8 x Redis
  xadd     redis-benchmark -P 16 -c 50: XADD s * field001 value001 field002
           value002, server CPU seconds per million requests.   goal <= 0.5x
  xrange   the same for XRANGE s - + COUNT 10 on a 100,000-entry stream.
                                                                goal <= 0.5x
  groups   a consumer-group round trip: on a stream of 300,000 entries with
           a group, 8 consumers (one connection each, driven in lock step)
           each read XREADGROUP GROUP g cN COUNT k STREAMS s > (k cycling
           1..10), then XACK what they got, until the stream is consumed:
           requests/s and server CPU seconds per million requests (each
           XREADGROUP and each XACK a request).           goal <= 1.0x
  stall    a probe PINGs every 1 ms on its own connection while another
           client, on a stream of 1,000,000 entries, runs XTRIM MAXLEN 1000
           (exact: 999,000 entries go in one call), then DEL of another such
           stream, then DEL of a stream of 200,000 entries all pending in a
           group: the longest probe in each phase.                goal < 10 ms

    /usr/bin/python3 bench/streams.py            # full sizes
    /usr/bin/python3 bench/streams.py --quick    # 1/10 of the sizes and requests
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import collib as cl  # noqa: E402


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fill(port, key, n, batch=2000):
    """n pipelined XADD key * field001 vNNNNNNN field002 wNNNNNNN."""
    with cl.FastConn(port, timeout=120) as c:
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            c.send(b"".join(cl.enc("XADD", key, "*", "field001", b"v%07d" % i, "field002", b"w%07d" % i)
                            for i in range(lo, hi)))
            for _ in range(hi - lo):
                r = c.read_reply()
                if not isinstance(r, bytes):
                    raise RuntimeError("XADD replied %r" % (r,))
        got = c.call("XLEN", key)
        if got != n:
            raise RuntimeError("XLEN %s = %r, expected %d" % (key, got, n))


def measure_memory(srv, n, settle):
    with cl.FastConn(srv.port) as c:
        info0, rss0 = srv.memory_reading(c, settle)
    t0 = time.monotonic()
    fill(srv.port, "mem", n)
    load_s = time.monotonic() - t0
    with cl.FastConn(srv.port) as c:
        first = c.call("XRANGE", "mem", "-", "+", "COUNT", 1)
        if first[0][1] != [b"field001", b"v0000000", b"field002", b"w0000000"]:
            raise RuntimeError("first entry %r" % (first,))
        info1, rss1 = srv.memory_reading(c, settle)
    return dict(bytes_per_entry=(rss1 - rss0) * 1024.0 / n,
                used_memory_per_entry=(int(info1["used_memory"]) - int(info0["used_memory"])) / n,
                load_s=round(load_s, 2))


def bench_cpu(srv, rb, requests, cmd, clients=50, pipe=16, timeout=600):
    """Server CPU seconds per million requests of redis-benchmark running cmd."""
    argv = [rb, "-p", str(srv.port), "-c", str(clients), "-n", str(requests), "-P", str(pipe), "-q"] + cmd
    cpu0 = srv.cpu_seconds()
    out, err, rc, terr, wall = bl.run_redis_benchmark(argv, timeout)
    cpu1 = srv.cpu_seconds()
    if terr or rc != 0:
        raise RuntimeError("redis-benchmark failed: %s %s" % (terr or rc, (err or "")[-200:]))
    m = re.findall(r"([\d.]+) requests per second", out)
    return dict(cpu_s_per_m=(cpu1 - cpu0) * 1e6 / requests, rps=float(m[-1]) if m else None,
                wall_s=round(wall, 2))


def bench_groups(srv, n, consumers=8):
    """XREADGROUP > COUNT 1..10 then XACK of what came, per consumer, until
    the n entries are consumed (see the docstring)."""
    fill(srv.port, "s", n)
    conns = [cl.FastConn(srv.port, timeout=120) for _ in range(consumers)]
    try:
        if conns[0].call("XGROUP", "CREATE", "s", "g", "0") != b"OK":
            raise RuntimeError("XGROUP CREATE failed")
        reqs = acked = 0
        k = 0
        cpu0, t0 = srv.cpu_seconds(), time.monotonic()
        live = list(range(consumers))
        while live:
            for i in live:
                conns[i].send(cl.enc("XREADGROUP", "GROUP", "g", "c%d" % i, "COUNT", str(k % 10 + 1),
                                     "STREAMS", "s", ">"))
                k += 1
            got = {}
            for i in live:
                r = conns[i].read_reply()
                if r:
                    got[i] = [e[0] for e in r[0][1]]
            reqs += len(live)
            for i, ids in got.items():
                conns[i].send(cl.enc("XACK", "s", "g", *ids))
            for i, ids in got.items():
                if conns[i].read_reply() != len(ids):
                    raise RuntimeError("XACK did not acknowledge all of %r" % (ids,))
                acked += len(ids)
            reqs += len(got)
            live = list(got)
        wall, cpu = time.monotonic() - t0, srv.cpu_seconds() - cpu0
        pending = conns[0].call("XPENDING", "s", "g")[0]
    finally:
        for c in conns:
            c.close()
    if acked != n or pending != 0:
        raise RuntimeError("acknowledged %d of %d, %r pending" % (acked, n, pending))
    return dict(cpu_s_per_m=cpu * 1e6 / reqs, rps=reqs / wall, requests=reqs, wall_s=round(wall, 2))


def probe_child(port, max_s=60.0):
    """The probe's process: a PING every 1 ms until SIGTERM (benchlib's
    paced_probe prints its timings as JSON)."""
    ping = cl.enc("PING")
    bl.paced_probe(port, 0.001, max_s, lambda i: (ping, "p"))


def probe_during(port, work):
    """Probe from a process of its own (so this one's work cannot delay it)
    while work() runs; returns (work's seconds, the longest probe that
    overlapped it, in ms)."""
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--probe-child", str(port)],
                         stdout=subprocess.PIPE)
    time.sleep(1.5)
    t0 = time.monotonic()
    work()
    t1 = time.monotonic()
    time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
    d = json.loads(out)
    lats = [lat for t, lat in zip(d["t"], d["lat"]) if t + lat >= t0 and t <= t1]
    return t1 - t0, max(lats) * 1000.0 if lats else None


def measure_stall(srv, n):
    fill(srv.port, "a", n)
    fill(srv.port, "b", n)
    fill(srv.port, "p", n // 5)
    out = {}
    with cl.FastConn(srv.port, timeout=120) as c:
        c.call("XGROUP", "CREATE", "p", "g", "0")
        for _ in range(n // 5 // 10000):
            c.call("XREADGROUP", "GROUP", "g", "c", "COUNT", 10000, "STREAMS", "p", ">")
        if c.call("XPENDING", "p", "g")[0] != n // 5:
            raise RuntimeError("the PEL was not filled")

        def delete_pel():
            if c.call("DEL", "p") != 1:
                raise RuntimeError("DEL failed")

        def trim():
            r = c.call("XTRIM", "a", "MAXLEN", 1000)
            if r != n - 1000:
                raise RuntimeError("XTRIM removed %r" % (r,))

        def delete():
            if c.call("DEL", "b") != 1:
                raise RuntimeError("DEL failed")

        out["xtrim_s"], out["xtrim_max_ms"] = probe_during(srv.port, trim)
        out["del_s"], out["del_max_ms"] = probe_during(srv.port, delete)
        out["del_pel_s"], out["del_pel_max_ms"] = probe_during(srv.port, delete_pel)
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--probe-child":
        probe_child(int(sys.argv[2]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1/10 of the sizes and requests")
    ap.add_argument("--settle", type=float, default=0.5, help="seconds before each RSS reading")
    ap.add_argument("--only", default="memory,xadd,xrange,groups,stall", help="which measures")
    bl.add_server_args(ap, "latest-streams.json")
    args = ap.parse_args()
    kasi, redis = bl.find_servers(args)
    rb = bl.find_tool("redis-benchmark")
    f = 10 if args.quick else 1
    tmp = tempfile.mkdtemp(prefix="kasi-bench-streams-")
    want = set(args.only.split(","))
    res = {"Kasi": {}, "Redis": {}}
    t_start = time.monotonic()
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        servers = [("Kasi", "kasi", kasi, ["--threads", "1"]), ("Redis", "redis", redis, [])]
        steps = [("memory", lambda s: measure_memory(s, 1000000 // f, args.settle)),
                 ("xadd", lambda s: bench_cpu(s, rb, 2000000 // f,
                                              ["XADD", "s", "*", "field001", "value001", "field002", "value002"])),
                 ("xrange", lambda s: (fill(s.port, "r", 100000 // f),
                                       bench_cpu(s, rb, 2000000 // f, ["XRANGE", "r", "-", "+", "COUNT", "10"]))[1]),
                 ("groups", lambda s: bench_groups(s, 300000 // f)),
                 ("stall", lambda s: measure_stall(s, 1000000 // f))]
        for i, (name, fn) in enumerate(steps):
            if name not in want:
                continue
            order = servers if i % 2 == 0 else servers[::-1]
            for label, kind, binary, extra in order:
                srv = bl.Server(kind, binary, extra, label=label, workdir=tempfile.mkdtemp(prefix=kind + "-", dir=tmp))
                try:
                    srv.start()
                    r = fn(srv)
                except Exception as e:  # noqa: BLE001 - report, keep going
                    r = dict(error=str(e))
                finally:
                    srv.stop()
                res[label][name] = r
                log("  %-7s %-5s %s" % (name, label, r))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def g(lab, name, k):
        return (res[lab].get(name) or {}).get(k)

    rows = []
    for name, k, label, goal, le in [
            ("memory", "bytes_per_entry", "bytes per entry (RSS), 1M entries x 2 fields of 8 B", 0.8, True),
            ("memory", "used_memory_per_entry", "bytes per entry (used_memory)", None, True),
            ("xadd", "cpu_s_per_m", "XADD pipelined (-P 16): server CPU s per M requests", 0.5, True),
            ("xrange", "cpu_s_per_m", "XRANGE COUNT 10 pipelined: server CPU s per M requests", 0.5, True),
            ("xadd", "rps", "XADD pipelined: requests/s", None, False),
            ("xrange", "rps", "XRANGE COUNT 10 pipelined: requests/s", None, False),
            ("groups", "cpu_s_per_m", "XREADGROUP > COUNT 1..10 + XACK: server CPU s per M requests", 1.0, True),
            ("groups", "rps", "XREADGROUP + XACK round trips, 8 consumers: requests/s", None, False),
            ("stall", "xtrim_max_ms", "longest probe while XTRIM removes 999k of 1M (ms)", None, True),
            ("stall", "del_max_ms", "longest probe while DEL of a 1M-entry stream (ms)", None, True),
            ("stall", "del_pel_max_ms", "longest probe while DEL of a stream with a 200k-entry PEL (ms)", None,
             True)]:
        if name not in want:
            continue
        kv, rv = g("Kasi", name, k), g("Redis", name, k)
        rat = bl.ratio(kv, rv)
        if goal:
            met = cl.goal_cell(rat, goal)
            gtxt = "<= %.1fx" % goal
        elif name == "stall":
            met = cl.goal_cell(kv, 10.0)
            gtxt = "< 10 ms"
        else:
            met, gtxt = "", ""
        rows.append([label, bl.fmt_num(kv, 2), bl.fmt_num(rv, 2), bl.fmt_ratio(rat), gtxt, met])
    md = bl.markdown_table(["measure", "Kasi", "Redis", "Kasi/Redis", "goal", "met?"], rows)
    print(md)
    bl.write_json(args.json, dict(kind="streams", environment=bl.environment(),
                                  settings=dict(quick=args.quick, elapsed_s=round(time.monotonic() - t_start, 1),
                                                redis=bl.tool_version(redis)),
                                  results=res, markdown=md))
    return 1 if any("error" in r for lab in res.values() for r in lab.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
