#!/usr/bin/env python3
"""Kasi vs Redis 7: user-space instructions per GET, per SET and per EVALSHA
(callgrind).

Each server runs under `valgrind --tool=callgrind`.  For each workload
(GET/SET, unpipelined and pipelined 16 deep, 50 connections, -r keyspace;
EVALSHA of bench/scripting.py's lock release and 5-command scripts, with K / 5
calls, each run from the state that script sets up, outside the count) the
counters are zeroed with `callgrind_control -z`, redis-benchmark sends K
requests, and `callgrind_control -d` dumps the count I(K); then the same with
2K requests.  Per-request instructions = (I(2K) - I(K)) / K, which cancels the
fixed cost of each run (50 connects/closes, CONFIG probe) and the idle baseline.

Only user-space instructions are counted (Ir): the kernel's share of each
request (read/write/epoll syscalls, which dominate unpipelined) is not.
Callgrind serializes threads, so a multi-threaded Kasi is measured as the sum
over its threads.

    /usr/bin/python3 bench/callgrind.py            # K=50000, about a minute
    /usr/bin/python3 bench/callgrind.py --quick    # K=4000
    /usr/bin/python3 bench/callgrind.py --only evalsha
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

WORKLOADS = [
    dict(id="get-p1", label="GET 32 B, unpipelined", test="get", P=1),
    dict(id="set-p1", label="SET 32 B, unpipelined", test="set", P=1),
    dict(id="get-p16", label="GET 32 B, pipeline 16", test="get", P=16),
    dict(id="set-p16", label="SET 32 B, pipeline 16", test="set", P=16),
]
# EVALSHA of bench/scripting.py's two scripts (redis-py's lock release, and
# five commands), in the state it sets up before each run, with K / 5 calls:
# they run last, since that setup flushes the GET/SET keys.
for _name, _what in (("release", "lock release"), ("five", "5-command script")):
    for _P in (1, 16):
        WORKLOADS.append(dict(id="evalsha-%s-p%d" % (_name, _P), script=_name, P=_P,
                              label="EVALSHA %s, %s" % (_what, "unpipelined" if _P == 1 else "pipeline 16")))
KEYS = 10000
VALUE = 32
CLIENTS = 50


class Callgrind:
    def __init__(self, control, pid, outdir, timeout):
        self.control, self.pid, self.outdir, self.timeout = control, pid, outdir, timeout
        self.seen = set(glob.glob(os.path.join(outdir, "cg.out.*")))

    def _ctl(self, *args):
        r = subprocess.run([self.control] + list(args) + [str(self.pid)],
                           capture_output=True, text=True, timeout=self.timeout)
        if r.returncode != 0 or "OK" not in r.stdout:
            raise RuntimeError("callgrind_control %s failed: %s %s" % (" ".join(args), r.stdout, r.stderr))

    def zero(self):
        self._ctl("-z")

    def dump(self):
        """Dump and return the Ir total of the new dump file."""
        self._ctl("-d")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            new = set(glob.glob(os.path.join(self.outdir, "cg.out.*"))) - self.seen
            for path in sorted(new):
                total = read_total(path)
                if total is not None:
                    self.seen.add(path)
                    return total
            time.sleep(0.1)
        raise RuntimeError("no callgrind dump appeared in %s" % self.outdir)


def callgrind_server(valgrind, kind, binary, extra, label, tmp, prefix):
    """A bl.Server (not started) that runs under `valgrind --tool=callgrind`,
    in a fresh work directory (prefix, in tmp) that also holds the dumps
    Callgrind reads (cg.out.<pid>...)."""
    wd = tempfile.mkdtemp(prefix=prefix, dir=tmp)
    wrapper = [valgrind, "--tool=callgrind", "--dump-instr=no", "--dump-line=no",
               "--compress-strings=no", "--callgrind-out-file=" + os.path.join(wd, "cg.out.%p")]
    return bl.Server(kind, binary, extra, label=label, wrapper=wrapper, start_timeout=90, workdir=wd)


def read_total(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r"^(?:totals|summary):\s*(\d+)", text, re.M)
    return int(m.group(1)) if m else None


def setup(port, w, n, timeout):
    """Before a script workload's run of n calls (not counted): the state
    bench/scripting.py runs it in (imported here: it imports this module)."""
    if "script" in w:
        import scripting as sc
        with bl.Client(port, timeout=timeout) as c:
            sc.load_scripts(c, False)
            sc.fill(c, w["script"], n)


def bench_run(bench, port, w, n, timeout):
    """One redis-benchmark run of workload w (n requests): its req/s."""
    if "script" in w:
        import scripting as sc
        argv = sc.bench_argv(bench, port, "evalsha", w["script"], n, w["P"])
        title = "EVALSHA"
    else:
        argv = [bench, "-h", "127.0.0.1", "-p", str(port), "-t", w["test"], "-n", str(n),
                "-c", str(CLIENTS), "-P", str(w["P"]), "-d", str(VALUE), "-r", str(KEYS), "--csv"]
        title = w["test"].upper()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0 or '"%s' % title not in r.stdout:
        raise RuntimeError("redis-benchmark failed rc=%s: %s" % (r.returncode, (r.stderr or r.stdout)[-300:]))
    m = re.search(r'^"%s[^"]*","([\d.]+)"' % title, r.stdout, re.M)
    return float(m.group(1)) if m else None


def measure_server(label, kind, binary, extra, tools, args, tmp):
    srv = callgrind_server(tools["valgrind"], kind, binary, extra, label, tmp, kind + "-")
    out = {}
    try:
        srv.start()
        with srv.client(timeout=300) as c:
            c.call("FLUSHALL")
            c.load_strings(((bl.padded_key(i, 16), b"x" * VALUE) for i in range(KEYS)), batch=500)
            if c.call("DBSIZE") != KEYS:
                raise RuntimeError("DBSIZE mismatch after loading")
            info = c.info()
        out["_threads"] = info.get("executable_threads")
        out["_version"] = info.get("kasi_version") or info.get("redis_version")
        cg = Callgrind(tools["callgrind_control"], srv.pid, srv.workdir, args.ctl_timeout)
        for w in args.workloads:
            K = args.k // 5 if "script" in w else args.k
            t0 = time.monotonic()
            try:
                rps = []
                for n in (K, 2 * K):
                    setup(srv.port, w, n, args.run_timeout)
                    cg.zero()
                    rps.append(bench_run(tools["redis-benchmark"], srv.port, w, n, args.run_timeout))
                    if n == K:
                        i1 = cg.dump()
                i2 = cg.dump()
                per = (i2 - i1) / float(K)
                out[w["id"]] = dict(I_K=i1, I_2K=i2, K=K, per_request=per, naive_per_request=i1 / float(K),
                                    rps_under_valgrind=rps)
                print("  %-6s %-24s I(K)=%12d I(2K)=%12d -> %7.0f instr/request  (%.0f s)"
                      % (label, w["label"], i1, i2, per, time.monotonic() - t0), file=sys.stderr)
            except Exception as e:  # noqa: BLE001
                out[w["id"]] = dict(error=str(e))
                print("  %-6s %-24s ERROR %s" % (label, w["label"], str(e).splitlines()[0]), file=sys.stderr)
                if not srv.alive():
                    raise RuntimeError("server died under valgrind; log tail:\n" + srv.log_tail(40))
        if not srv.alive():
            raise RuntimeError("server died under valgrind; log tail:\n" + srv.log_tail(40))
        return out
    finally:
        srv.stop(timeout=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="K=4000 requests")
    ap.add_argument("-k", type=int, default=None, help="K, requests in the short run (default 50000)")
    ap.add_argument("--threads", type=int, default=None,
                    help="Kasi --threads (default: Kasi's default, one per core)")
    ap.add_argument("--only", default=None, help="substrings of workload ids, e.g. get,evalsha-release")
    ap.add_argument("--kasi", default=None)
    ap.add_argument("--redis-server", default=None)
    ap.add_argument("--run-timeout", type=float, default=300.0, help="seconds per redis-benchmark run")
    ap.add_argument("--ctl-timeout", type=float, default=60.0, help="seconds per callgrind_control call")
    ap.add_argument("--json", default=os.path.join(bl.RESULTS_DIR, "latest-callgrind.json"))
    args = ap.parse_args()
    if args.k is None:
        args.k = 4000 if args.quick else 50000
    if args.k < 500:
        bl.die("-k must be at least 500")
    args.workloads = bl.select_rows(WORKLOADS, args.only) if args.only else WORKLOADS

    bl.install_signal_handlers()
    kasi = bl.find_kasi(args.kasi)
    tools = dict(redis=bl.find_tool("redis-server", args.redis_server),
                 valgrind=bl.find_tool("valgrind"),
                 callgrind_control=bl.find_tool("callgrind_control"))
    tools["redis-benchmark"] = bl.find_tool("redis-benchmark")
    extra = ["--threads", str(args.threads)] if args.threads is not None else []

    tmp = tempfile.mkdtemp(prefix="kasi-bench-cg-")
    kasi = bl.snapshot_binary(kasi, tmp)
    t_start = time.monotonic()
    res = {}
    try:
        for label, kind, binary, ex in (("Kasi", "kasi", kasi, extra), ("Redis", "redis", tools["redis"], [])):
            try:
                res[label] = measure_server(label, kind, binary, ex, tools, args, tmp)
            except Exception as e:  # noqa: BLE001
                res[label] = dict(_error=str(e))
                print("  %s: ERROR %s" % (label, e), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    trows = []
    for w in args.workloads:
        k = (res.get("Kasi") or {}).get(w["id"]) or {}
        r = (res.get("Redis") or {}).get(w["id"]) or {}
        kp, rp = k.get("per_request"), r.get("per_request")
        trows.append([w["label"], bl.fmt_num(kp), bl.fmt_num(rp), bl.fmt_ratio(bl.ratio(kp, rp))])
    kt = (res.get("Kasi") or {}).get("_threads")
    md = ["User-space instructions per request under callgrind, (I(2K) - I(K)) / K with K = %s, "
          "%d connections, %d keys of %d B (EVALSHA: K / 5 calls, set up as bench/scripting.py does); "
          "Kasi with %s worker thread(s); ratio is Kasi/Redis (lower is better). Kernel (syscall) work "
          "is not counted." % ("{:,}".format(args.k), CLIENTS, KEYS, VALUE, kt or "?"), "",
          bl.markdown_table(["Workload", "Kasi instr/req", "Redis instr/req", "ratio"], trows)]
    errors = []
    for lab, d in res.items():
        if "_error" in d:
            errors.append("%s: %s" % (lab, d["_error"].splitlines()[0]))
        for wid, v in d.items():
            if isinstance(v, dict) and "error" in v:
                errors.append("%s %s: %s" % (lab, wid, v["error"].splitlines()[0]))
    for e in errors:
        md.append("Note: " + e)
    print("\n".join(md))
    elapsed = time.monotonic() - t_start
    bl.write_json(args.json, dict(kind="callgrind", environment=bl.environment(),
                                  settings=dict(K=args.k, clients=CLIENTS, keys=KEYS, value=VALUE,
                                                kasi_threads=args.threads, elapsed_s=round(elapsed, 1),
                                                valgrind=bl.tool_version(tools["valgrind"])),
                                  results=res, markdown="\n".join(md)))
    print("\n(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
