#!/usr/bin/env python3
"""Kasi vs Redis 7: request latency next to work on big collections.

Goals (Kasi): no probe over 5 ms in any phase; during a BGSAVE the writer
of a 1M-member hash (and sorted set) never waits 10 ms or more, and the
snapshot finishes.

For each server in turn (Kasi, then Redis; one at a time, each started
fresh with benchlib's settings on a free loopback port), 1,000 string keys
are loaded, and a probe process (nice -10 when allowed) sends one GET every
2 ms to one of them over its own connection and times each, for the whole
run. Meanwhile a worker process (a second client) goes through the phases
below, one after the other; each probe counts for a phase if it was in
flight at any moment of it. N = --elements (default 1,000,000; --quick
100,000), T = --phase-s (default 2 s; --quick 1 s).

  idle          nothing, 1 s: the probe alone
  baseline      pipelined MSET of string keys for T s (100 keys per command,
                10 commands per write, two writes in flight): the same
                pipelining as the loads, nothing big; this machine's noise
  zset-grow     ZADD into one sorted set until it holds N members (100 per
                command, 10 commands per write, two writes in flight)
  zrange-100    ZRANGEBYSCORE over 100-score windows of it, one at a time, T s
  zrange-all    ZRANGEBYSCORE key -inf +inf (all N members) x 3
  list-grow     RPUSH into one list until N elements (as zset-grow)
  lindex        LINDEX at random indexes, one at a time, T s (every reply checked)
  list-del      DEL of the N-element list (window: DEL, then 0.5 s)
  set-grow      SADD into one set until N members
  set-del       DEL of it
  hash-grow     HSET into one hash until N fields
  bgsave        a writer process keeps overwriting random fields of the hash
                with single HSETs (alternating with ZADDs that rescore random
                members of the sorted set, when there is one), each timed;
                after 1 s, BGSAVE, polled until INFO persistence shows it
                done, then 0.3 s more. Reported: the writer's longest
                request during the save (and before it, as a baseline),
                the probe's, the save time, its status and file.
  zset-del      DEL of the N-member sorted set
  hash-del      DEL of the N-field hash

A phase whose commands the Kasi binary does not have (COMMAND INFO) is
reported as "not implemented" and skipped (Redis too, unless --redis-always).

    /usr/bin/python3 bench/collections_latency.py            # N = 1M: about 1 minute per server
    /usr/bin/python3 bench/collections_latency.py --quick    # N = 100k
    /usr/bin/python3 bench/collections_latency.py --rounds 3 --threads 1
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import collib as cl  # noqa: E402

GOAL_MS = 5.0            # probe, every phase
REFERENCE_PHASES = ("idle", "baseline")   # noise references: shown, not judged
STALL_GOAL_MS = 10.0     # writer during BGSAVE
PROBE_KEYS = 1000
PER_CMD = 100            # elements per load command
CHUNK = 10               # commands per write


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# -------------------------------------------------------------- elements ---

def zscore_of(i, n):
    return (i * 7919) % n          # a permutation of 0..n-1 unless 7919 divides n


def grow_payloads(what, n, key):
    """[(bytes, commands)] that insert elements 0..n-1 of `what` into `key`."""
    out = []
    cmds = []
    k = cl.bulk(key)
    for lo in range(0, n, PER_CMD):
        hi = min(n, lo + PER_CMD)
        m = hi - lo
        if what == "zset":
            body = b"".join(cl.bulk(b"%d" % zscore_of(i, n)) + b"$16\r\nmem:%012d\r\n" % i for i in range(lo, hi))
            cmds.append(cl.cmd_head("ZADD", 1 + 2 * m) + k + body)
        elif what == "list":
            cmds.append(cl.cmd_head("RPUSH", 1 + m) + k
                        + b"".join(b"$16\r\nelem:%011d\r\n" % i for i in range(lo, hi)))
        elif what == "set":
            cmds.append(cl.cmd_head("SADD", 1 + m) + k + b"".join(b"$16\r\nmem:%012d\r\n" % i for i in range(lo, hi)))
        elif what == "hash":
            cmds.append(cl.cmd_head("HSET", 1 + 2 * m) + k
                        + b"".join(b"$8\r\nf%07d\r\n$16\r\nval:%012d\r\n" % (i, i) for i in range(lo, hi)))
        elif what == "mset":          # string keys base:%011d, overwritten round and round
            cmds.append(cl.cmd_head("MSET", 2 * m)
                        + b"".join(b"$16\r\nbase:%011d\r\n$32\r\nval:%028d\r\n" % (i, i) for i in range(lo, hi)))
        if len(cmds) >= CHUNK or hi >= n:
            out.append((b"".join(cmds), len(cmds)))
            cmds = []
    return out


# ----------------------------------------------------------- child: probe ---

def probe_main(port, interval_s, cmd, nkeys, max_s):
    head = b"*2\r\n$3\r\nGET\r\n$16\r\n"

    def request(i):
        return head + bl.padded_key((i * 7919) % nkeys, 16) + b"\r\n", "g"
    bl.paced_probe(port, interval_s, max_s, request, timeout=60)


# ---------------------------------------------------------- child: worker ---

def worker_main(spec):
    """One phase's client work, in its own process.  Prints a JSON report
    with its own monotonic timestamps (the clock is system-wide)."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    port, mode = spec["port"], spec["mode"]
    hard = time.monotonic() + spec["max_s"]
    rep = dict(error=None)
    c = cl.FastConn(port, timeout=max(30.0, spec["max_s"]))
    try:
        if mode == "grow":
            payloads = grow_payloads(spec["what"], spec["n"], spec["key"].encode())
            repeat_s = spec.get("repeat_s")
            inflight = []
            total = last = cmds = elems = 0
            max_wait = 0.0
            rounds = 0

            def drain():
                nonlocal total, last, cmds, max_wait
                ncmd, ts = inflight.pop(0)
                for _ in range(ncmd):
                    r = c.read_reply()
                    if isinstance(r, cl.ReplyError):
                        raise r
                    if isinstance(r, int):
                        total += r
                        last = r
                max_wait = max(max_wait, time.monotonic() - ts)
                cmds += ncmd
            t0 = time.monotonic()
            while True:
                for payload, ncmd in payloads:
                    now = time.monotonic()
                    if now > hard:
                        raise RuntimeError("phase bound of %.0f s passed" % spec["max_s"])
                    if repeat_s is not None and now - t0 >= repeat_s:
                        break
                    c.send(payload)
                    inflight.append((ncmd, time.monotonic()))
                    if len(inflight) >= 2:
                        drain()
                rounds += 1
                if repeat_s is None or time.monotonic() - t0 >= repeat_s or stop:
                    break
            while inflight:
                drain()
            t1 = time.monotonic()
            elems = cmds * PER_CMD if spec["what"] == "mset" else spec["n"]
            rep.update(t0=t0, t1=t1, cmds=cmds, elements=elems, reply_sum=total, reply_last=last,
                       max_wait_ms=max_wait * 1e3, rounds=rounds)
        elif mode in ("loop", "single"):
            rng = random.Random(spec.get("seed", 1))
            n = spec.get("n", 1)
            key = spec.get("key", "")
            ts, lats = [], []
            leaves_min = leaves_max = None
            bad = 0
            op = spec["op"]
            zkey = spec.get("zkey")
            i = 0
            t0 = time.monotonic()
            dur = spec.get("duration_s")
            count = spec.get("count", 10 ** 9)
            while not stop and i < count and (dur is None or time.monotonic() - t0 < dur):
                if time.monotonic() > hard:
                    raise RuntimeError("phase bound of %.0f s passed" % spec["max_s"])
                check = None
                if op == "zrange100":
                    a = rng.randrange(max(1, n - 100))
                    msg = cl.enc("ZRANGEBYSCORE", key, a, a + 99)
                elif op == "zrangeall":
                    msg = cl.enc("ZRANGEBYSCORE", key, "-inf", "+inf")
                elif op == "lindex":
                    j = rng.randrange(n)
                    msg = cl.enc("LINDEX", key, j)
                    check = b"elem:%011d" % j
                elif op == "del":
                    msg = cl.enc("DEL", key)
                elif op == "bgwrite":
                    j = rng.randrange(n)
                    if zkey and i % 2:
                        msg = cl.enc("ZADD", zkey, rng.randrange(n), b"mem:%012d" % j)
                    else:
                        msg = cl.enc("HSET", key, b"f%07d" % j, b"new:%012d" % i)
                else:
                    raise RuntimeError("unknown op %r" % op)
                t = time.monotonic()
                c.send(msg)
                if check is not None:
                    r = c.read_reply()
                    leaves = 1
                    if r != check:
                        bad += 1
                else:
                    leaves = c.skip_reply()
                lats.append(time.monotonic() - t)
                ts.append(t)
                leaves_min = leaves if leaves_min is None else min(leaves_min, leaves)
                leaves_max = leaves if leaves_max is None else max(leaves_max, leaves)
                i += 1
            t1 = time.monotonic()
            if spec.get("after_s"):
                time.sleep(spec["after_s"])
            rep.update(t0=t0, t1=t1, ops=i, t=[round(x, 6) for x in ts], lat=[round(x, 7) for x in lats],
                       leaves_min=leaves_min, leaves_max=leaves_max, wrong_replies=bad,
                       after_s=spec.get("after_s", 0))
    except (OSError, ConnectionError, cl.ReplyError, RuntimeError) as e:
        rep["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        c.close()
    sys.stdout.write(json.dumps(rep))
    sys.stdout.flush()


# ---------------------------------------------------------------- parent ---

def spawn_worker(spec):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker-child", json.dumps(spec)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def finish_child(p, timeout, terminate=False):
    """Collect a child we started (by pid): optionally SIGTERM it first;
    SIGKILL if it overruns `timeout`.  Returns its JSON report."""
    out, err, overran = bl.collect_child(p, timeout, terminate)
    if overran:
        return dict(error="worker overran %.0f s and was killed" % timeout)
    try:
        return json.loads(out or b"{}") or dict(error="no report; stderr: %s" % err[-300:])
    except ValueError:
        return dict(error="bad report %r; stderr: %s" % (out[:200], err[-300:]))


def run_worker(spec, timeout):
    return finish_child(spawn_worker(spec), timeout)


def phase_list(n, T, zall):
    """(id, label, needs, spec-maker or special) in order."""
    return [
        dict(id="idle", label="idle (probe only)", needs=[], special="idle"),
        dict(id="baseline", label="baseline: pipelined MSET of strings, %g s" % T, needs=["MSET"],
             spec=dict(mode="grow", what="mset", n=100000, key="", repeat_s=T)),
        dict(id="zset-grow", label="ZADD: grow a sorted set to %s" % bl.fmt_num(n), needs=["ZADD", "ZCARD"],
             spec=dict(mode="grow", what="zset", n=n, key="bigzset"), card=("ZCARD", "bigzset", n)),
        dict(id="zrange-100", label="ZRANGEBYSCORE, 100-member windows, %g s" % T,
             needs=["ZADD", "ZRANGEBYSCORE"], requires="zset-grow",
             spec=dict(mode="loop", op="zrange100", key="bigzset", n=n, duration_s=T), leaves=(100, 100)),
        dict(id="zrange-all", label="ZRANGEBYSCORE -inf +inf (%s members) x %d" % (bl.fmt_num(n), zall),
             needs=["ZADD", "ZRANGEBYSCORE"], requires="zset-grow",
             spec=dict(mode="single", op="zrangeall", key="bigzset", n=n, count=zall), leaves=(n, n)),
        dict(id="list-grow", label="RPUSH: grow a list to %s" % bl.fmt_num(n), needs=["RPUSH", "LLEN"],
             spec=dict(mode="grow", what="list", n=n, key="biglist"), card=("LLEN", "biglist", n)),
        dict(id="lindex", label="LINDEX at random indexes, %g s" % T, needs=["RPUSH", "LINDEX"],
             requires="list-grow", spec=dict(mode="loop", op="lindex", key="biglist", n=n, duration_s=T)),
        dict(id="list-del", label="DEL of the %s-element list" % bl.fmt_num(n), needs=["RPUSH", "DEL"],
             requires="list-grow", spec=dict(mode="single", op="del", key="biglist", count=1, after_s=0.5),
             gone="biglist"),
        dict(id="set-grow", label="SADD: grow a set to %s" % bl.fmt_num(n), needs=["SADD", "SCARD"],
             spec=dict(mode="grow", what="set", n=n, key="bigset"), card=("SCARD", "bigset", n)),
        dict(id="set-del", label="DEL of the %s-member set" % bl.fmt_num(n), needs=["SADD", "DEL"],
             requires="set-grow", spec=dict(mode="single", op="del", key="bigset", count=1, after_s=0.5),
             gone="bigset"),
        dict(id="hash-grow", label="HSET: grow a hash to %s fields" % bl.fmt_num(n), needs=["HSET", "HLEN"],
             spec=dict(mode="grow", what="hash", n=n, key="bighash"), card=("HLEN", "bighash", n)),
        dict(id="bgsave", label="BGSAVE while a writer modifies the hash (and sorted set)",
             needs=["HSET", "BGSAVE"], requires="hash-grow", special="bgsave"),
        dict(id="zset-del", label="DEL of the %s-member sorted set" % bl.fmt_num(n), needs=["ZADD", "DEL"],
             requires="zset-grow", spec=dict(mode="single", op="del", key="bigzset", count=1, after_s=0.5),
             gone="bigzset"),
        dict(id="hash-del", label="DEL of the %s-field hash" % bl.fmt_num(n), needs=["HSET", "DEL"],
             requires="hash-grow", spec=dict(mode="single", op="del", key="bighash", count=1, after_s=0.5),
             gone="bighash"),
    ]


def info_int(info, k):
    try:
        return int(info[k])
    except (KeyError, ValueError, TypeError):
        return None


def bgsave_phase(s, c, n, zset_present, args):
    """The BGSAVE phase on server s (c: a FastConn for control)."""
    r = dict(zset=zset_present)
    spec = dict(port=s.port, mode="loop", op="bgwrite", key="bighash", zkey="bigzset" if zset_present else None,
                n=n, duration_s=args.run_timeout, max_s=args.run_timeout)
    w = spawn_worker(spec)
    try:
        time.sleep(0.5)                       # the writer starts
        t_pre0 = time.monotonic()
        time.sleep(args.bg_pre)
        t_pre1 = time.monotonic()
        before = c.info("persistence")
        saves0 = info_int(before, "rdb_saves")
        wall0 = time.time()
        t_cmd = time.monotonic()
        reply = c.call("BGSAVE")
        r["bgsave_reply_ms"] = (time.monotonic() - t_cmd) * 1e3
        r["bgsave_reply"] = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        seen_busy = False
        info = before
        while True:
            info = c.info("persistence")
            busy = info.get("rdb_bgsave_in_progress") == "1"
            seen_busy = seen_busy or busy
            saves = info_int(info, "rdb_saves")
            if not busy and ((saves is not None and saves0 is not None and saves > saves0)
                             or (info.get("rdb_last_bgsave_status") == "err" and seen_busy)
                             or (saves is None and seen_busy)):
                break
            if time.monotonic() - t_cmd > args.run_timeout:
                raise RuntimeError("BGSAVE not finished after %.0f s" % args.run_timeout)
            time.sleep(0.005)
        t_done = time.monotonic()
        time.sleep(0.3)
    finally:
        rep = finish_child(w, timeout=60, terminate=True)
    r.update(t_pre0=t_pre0, t_pre1=t_pre1, t_cmd=t_cmd, t_done=t_done, bgsave_s=t_done - t_cmd,
             status=info.get("rdb_last_bgsave_status"), saves_before=saves0, saves_after=info_int(info, "rdb_saves"),
             cow_size=info_int(info, "rdb_last_cow_size"))
    try:
        d = c.call("CONFIG", "GET", "dir")[1].decode()
        f = c.call("CONFIG", "GET", "dbfilename")[1].decode()
        st = os.stat(os.path.join(d, f))
        r.update(file=f, file_bytes=st.st_size, file_fresh=st.st_mtime >= wall0 - 1)
    except (cl.ReplyError, OSError, IndexError, TypeError, AttributeError) as e:
        r.update(file=None, file_error=str(e))
    r["finished"] = bool(r["status"] == "ok" and r.get("saves_after") is not None and saves0 is not None
                         and r["saves_after"] > saves0 and r.get("file_fresh"))
    r["writer_error"] = rep.get("error")
    ts, lats = rep.get("t", []), rep.get("lat", [])
    during = [lat for t, lat in zip(ts, lats) if t <= t_done and t + lat >= t_cmd]
    pre = [lat for t, lat in zip(ts, lats) if t >= t_pre0 and t + lat <= t_pre1]
    r["writer"] = cl.lat_stats_ms(during, STALL_GOAL_MS)
    r["writer_pre"] = cl.lat_stats_ms(pre, STALL_GOAL_MS)
    r["writer_ops"] = rep.get("ops")
    worst = sorted(((lat, t) for t, lat in zip(ts, lats) if t <= t_done and t + lat >= t_cmd), reverse=True)[:5]
    r["writer_worst"] = [dict(lat_ms=round(lat * 1e3, 3), at_s=round(t - t_cmd, 4)) for lat, t in worst]
    r["window"] = (t_cmd, t_done)
    r["pre_window"] = (t_pre0, t_pre1)
    return r


def run_server(kind, binary, label, args, have, tmp):
    extra = ["--threads", str(args.threads)] if (kind == "kasi" and args.threads) else []
    wd = tempfile.mkdtemp(prefix=kind + "-", dir=tmp)
    s = bl.Server(kind, binary, extra, label=label, workdir=wd)
    res = dict(label=label, phases={}, errors=[])
    probe = None
    pout = {}
    n, T = args.elements, args.phase_s
    phases = phase_list(n, T, args.zrange_all)
    done = set()
    t_begin = time.monotonic()
    try:
        s.start()
        with s.client(timeout=60) as bc:
            info = bc.info("server")
            res["version"] = info.get("kasi_version") or info.get("redis_version")
            res["threads"] = info.get("executable_threads")
            bc.load_strings(((bl.padded_key(i, 16), b"v" * 32) for i in range(PROBE_KEYS)))
        probe = bl.spawn_probe(os.path.abspath(__file__), s.port, args.probe_interval_ms / 1000.0, "get",
                               PROBE_KEYS, args.run_timeout)
        time.sleep(0.3)
        c = cl.FastConn(s.port, timeout=args.run_timeout)
        for ph in phases:
            pid = ph["id"]
            if pid not in args.phases:
                continue
            miss = cl.missing_commands(have, ph["needs"])
            if miss and (kind == "kasi" or not args.redis_always):
                res["phases"][pid] = dict(skipped="not implemented (no %s)" % ", ".join(miss))
                continue
            if ph.get("requires") and ph["requires"] not in done:
                res["phases"][pid] = dict(skipped="needs %s" % ph["requires"])
                continue
            if time.monotonic() - t_begin > args.run_timeout:
                res["phases"][pid] = dict(skipped="--run-timeout reached")
                continue
            pr = dict()
            if ph.get("special") == "idle":
                t0 = time.monotonic()
                time.sleep(1.0)
                pr.update(window=(t0, time.monotonic()))
            elif ph.get("special") == "bgsave":
                try:
                    pr = bgsave_phase(s, c, n, "zset-grow" in done and c.call("EXISTS", "bigzset") == 1, args)
                    if c.call("HLEN", "bighash") != n:
                        pr.setdefault("errors", []).append("HLEN changed during the BGSAVE phase")
                except Exception as e:  # noqa: BLE001
                    pr = dict(error=str(e).splitlines()[0])
            else:
                spec = dict(ph["spec"], port=s.port, max_s=args.phase_timeout)
                rep = run_worker(spec, args.phase_timeout + 30)
                pr = dict(worker={k: v for k, v in rep.items() if k not in ("t", "lat")})
                if rep.get("error"):
                    pr["error"] = rep["error"]
                elif "t0" in rep:
                    pr["window"] = (rep["t0"], rep["t1"] + rep.get("after_s", 0))
                    pr["duration_s"] = rep["t1"] - rep["t0"]
                    if "lat" in rep:
                        pr["op"] = cl.lat_stats_ms(rep["lat"])
                        pr["ops_per_s"] = rep["ops"] / pr["duration_s"] if pr["duration_s"] > 0 else None
                    else:
                        pr["op"] = dict(max_ms=rep.get("max_wait_ms"))
                        pr["elements_per_s"] = rep["elements"] / pr["duration_s"] if pr["duration_s"] > 0 else None
                    errs = []
                    if ph.get("card"):
                        cmd, key, want = ph["card"]
                        got = c.call(cmd, key)
                        if got != want:
                            errs.append("%s %s = %r, expected %d" % (cmd, key, got, want))
                        if spec["what"] in ("zset", "set", "hash") and rep.get("reply_sum") != want:
                            errs.append("replies add up to %r, expected %d" % (rep.get("reply_sum"), want))
                        if spec["what"] == "list" and rep.get("reply_last") != want:
                            errs.append("last RPUSH reply %r, expected %d" % (rep.get("reply_last"), want))
                    if ph.get("leaves"):
                        lo, hi = ph["leaves"]
                        if rep.get("leaves_min") != lo or rep.get("leaves_max") != hi:
                            errs.append("replies had %s..%s elements, expected %d" % (rep.get("leaves_min"),
                                                                                     rep.get("leaves_max"), lo))
                    if rep.get("wrong_replies"):
                        errs.append("%d wrong LINDEX replies" % rep["wrong_replies"])
                    if ph.get("gone") and c.call("EXISTS", ph["gone"]) != 0:
                        errs.append("%s still exists after DEL" % ph["gone"])
                    if errs:
                        pr["error"] = "; ".join(errs)
            if not s.alive():
                pr["error"] = "server exited; log tail: %s" % s.log_tail(5)
            if not pr.get("error"):
                done.add(pid)
            res["phases"][pid] = pr
            log("  %s %-11s %s" % (label, pid, pr.get("error") or "done (%.2f s)" % (
                (pr["window"][1] - pr["window"][0]) if pr.get("window") else 0)))
            if not s.alive():
                break
        c.close()
    except Exception as e:  # noqa: BLE001
        res["errors"].append(str(e).splitlines()[0] if str(e) else repr(e))
    finally:
        if probe is not None:
            pout = finish_child(probe, timeout=30, terminate=True)
        if s.alive():
            s.stop()
        else:
            res["errors"].append("server exited during the run; log tail: %s" % s.log_tail(5))
        shutil.rmtree(wd, ignore_errors=True)
    ts, lats = pout.get("t", []), pout.get("lat", [])
    res["probe_nice"], res["probe_errors"] = pout.get("nice"), pout.get("errors")
    if pout.get("error"):
        res["errors"].append("probe: %s" % pout["error"])
    for pid, pr in res["phases"].items():
        for wkey, out in (("window", "probe"), ("pre_window", "probe_pre")):
            w = pr.get(wkey)
            if not w:
                continue
            inw = [(t, lat) for t, lat in zip(ts, lats) if t <= w[1] and t + lat >= w[0]]
            pr[out] = cl.lat_stats_ms([lat for _, lat in inw], GOAL_MS)
            if out == "probe":
                pr["probe_worst"] = [dict(lat_ms=round(lat * 1e3, 3), at_s=round(t - w[0], 4))
                                     for t, lat in sorted(inw, key=lambda x: -x[1])[:3]]
        pr.pop("window", None)
        pr.pop("pre_window", None)
    res["elapsed_s"] = time.monotonic() - t_begin
    return res


# ---------------------------------------------------------------- report ---

g = bl.dig


def agg(runs, pid, *path, how="median"):
    vals = [g(r, "phases", pid, *path) for r in runs]
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return max(vals) if how == "max" else bl.median(vals)


def report(results, args, versions):
    K, R = results.get("Kasi", []), results.get("Redis", [])
    phases = [p for p in phase_list(args.elements, args.phase_s, args.zrange_all) if p["id"] in args.phases]
    md = ["## Latency next to big collections: Kasi vs Redis", "",
          "Kasi %s (%s worker threads), Redis %s; N = %s, T = %g s, %d round%s%s. Probe: one GET every %.1f ms "
          "(nice %s) on its own connection; a probe counts for a phase if it was in flight during it. "
          "\"op max\" is the worker's own longest request (for the pipelined loads: the longest wait for a "
          "write's replies, two writes in flight; for BGSAVE: the writer's longest request during the save). "
          "Goal: no probe over %g ms on Kasi in the collection phases (idle and baseline are this machine's "
          "noise, for reference)."
          % (versions.get("Kasi", "?"), bl.fmt_num(bl.median([int(r["threads"]) for r in K if r.get("threads")]), none="?"),
             versions.get("Redis", "?"), bl.fmt_num(args.elements), args.phase_s, args.rounds,
             "" if args.rounds == 1 else "s", "" if args.rounds == 1 else " (medians; probe max: worst round)",
             args.probe_interval_ms, bl.fmt_num(bl.median([r.get("probe_nice") for r in K + R])), GOAL_MS), ""]
    rows = []
    summary = {}
    for ph in phases:
        pid = ph["id"]
        ks = [g(r, "phases", pid, "skipped") for r in K]
        ke = [g(r, "phases", pid, "error") for r in K]
        kmax = agg(K, pid, "probe", "max_ms", how="max")
        rmax = agg(R, pid, "probe", "max_ms", how="max")
        if any(ks):
            kcells = [next(x for x in ks if x)] + [""] * 3
            met = "n/a"
        else:
            kcells = [bl.fmt_num(agg(K, pid, "probe", "n"), 0), bl.fmt_num(agg(K, pid, "probe", "p99_ms"), 2),
                      bl.fmt_num(kmax, 2), bl.fmt_num(agg(K, pid, "op", "max_ms"), 2)]
            met = cl.goal_cell(kmax, GOAL_MS) if not any(ke) else "error"
            if pid in REFERENCE_PHASES:
                met = "(reference)"
        rs = [g(r, "phases", pid, "skipped") for r in R]
        if any(rs):
            rcells = [next(x for x in rs if x)] + [""] * 2
        else:
            rcells = [bl.fmt_num(agg(R, pid, "probe", "p99_ms"), 2), bl.fmt_num(rmax, 2),
                      bl.fmt_num(agg(R, pid, "op", "max_ms"), 2)]
        if pid == "bgsave":
            kcells[3] = bl.fmt_num(agg(K, pid, "writer", "max_ms", how="max"), 2) if not any(ks) else ""
            if not any(rs):
                rcells[2] = bl.fmt_num(agg(R, pid, "writer", "max_ms", how="max"), 2)
        rows.append([ph["label"]] + kcells + rcells + [met])
        summary[pid] = dict(kasi_probe_max_ms=kmax, redis_probe_max_ms=rmax, kasi_goal=met,
                            reference=pid in REFERENCE_PHASES)
    md.append(bl.markdown_table(["Phase", "Kasi probes", "Kasi p99 ms", "Kasi max ms", "Kasi op max ms",
                                 "Redis p99 ms", "Redis max ms", "Redis op max ms", "Kasi goal (5 ms)"], rows))
    md.append("")
    # throughput of each phase
    rows = []
    for ph in phases:
        pid = ph["id"]
        if pid in ("idle", "bgsave"):
            continue
        cells = [ph["label"]]
        for runs in (K, R):
            d = agg(runs, pid, "duration_s")
            rate = None if pid.endswith("-del") else (agg(runs, pid, "elements_per_s") or agg(runs, pid, "ops_per_s"))
            cells += [bl.fmt_num(d, 3), bl.fmt_num(rate)]
        rows.append(cells)
    md.append("Worker time and rate per phase (elements/s for the loads, requests/s for the loops; "
              "for a DEL its own latency):")
    md.append("")
    md.append(bl.markdown_table(["Phase", "Kasi s", "Kasi rate", "Redis s", "Redis rate"], rows))
    md.append("")
    # BGSAVE
    if "bgsave" in args.phases:
        rows = []
        items = [("snapshot finished (status ok, rdb_saves + 1, fresh file)", ("finished",), None),
                 ("writer also rescored sorted set members", ("zset",), None),
                 ("BGSAVE until done (s)", ("bgsave_s",), 3), ("BGSAVE reply (ms)", ("bgsave_reply_ms",), 2),
                 ("snapshot file (MB)", ("file_mb",), 1),
                 ("writer requests during the save", ("writer", "n"), 0),
                 ("**writer longest request during the save (ms)**", ("writer", "max_ms"), 2),
                 ("writer p99 during the save (ms)", ("writer", "p99_ms"), 3),
                 ("writer requests over 10 ms", ("writer", "over_goal"), 0),
                 ("writer longest request before the save (ms)", ("writer_pre", "max_ms"), 2),
                 ("probe max during the save (ms)", ("probe", "max_ms"), 2),
                 ("probe max before the save (ms)", ("probe_pre", "max_ms"), 2)]
        for runs in (K, R):
            for r in runs:
                b = g(r, "phases", "bgsave") or {}
                if b.get("file_bytes") is not None:
                    b["file_mb"] = b["file_bytes"] / 1e6
        for lab, path, digits in items:
            cells = [lab]
            for runs in (K, R):
                vals = [g(r, "phases", "bgsave", *path) for r in runs]
                vals = [v for v in vals if v is not None]
                if digits is None:
                    cells.append(("yes" if all(vals) else "**no**") if vals else "n/a")
                else:
                    v = max(vals) if path[-1] in ("max_ms", "over_goal") and vals else bl.median(vals)
                    cells.append(bl.fmt_num(v, digits))
            rows.append(cells)
        kstall = max([g(r, "phases", "bgsave", "writer", "max_ms") or 0 for r in K], default=None) if K else None
        kfin = [g(r, "phases", "bgsave", "finished") for r in K]
        kb_skip = any(g(r, "phases", "bgsave", "skipped") for r in K)
        if kb_skip or not K or kstall is None or not any(x is not None for x in kfin):
            goal = "n/a"
        else:
            goal = "%s: %s" % (bl.fmt_num(kstall, 2), "met" if kstall < STALL_GOAL_MS and all(kfin) else "**missed**")
        rows.append(["goal: writer never waits 10 ms during the save, and the save finishes (Kasi)", goal, ""])
        summary["bgsave"] = dict(summary.get("bgsave", {}), kasi_writer_max_ms=kstall, kasi_finished=kfin, goal=goal)
        md.append("BGSAVE while a writer modifies the %s-field hash%s:" % (
            bl.fmt_num(args.elements), " and the sorted set" if any(g(r, "phases", "bgsave", "zset") for r in K + R)
            else ""))
        md.append("")
        md.append(bl.markdown_table(["", "Kasi", "Redis"], rows))
        md.append("")
    notes = []
    for lab, runs in (("Kasi", K), ("Redis", R)):
        for i, r in enumerate(runs):
            for e in r.get("errors", []):
                notes.append("%s round %d: %s" % (lab, i + 1, e))
            for pid, pr in r.get("phases", {}).items():
                if pr.get("error"):
                    notes.append("%s round %d, %s: %s" % (lab, i + 1, pid, pr["error"]))
                for e in pr.get("errors", []):
                    notes.append("%s round %d, %s: %s" % (lab, i + 1, pid, e))
                if pr.get("writer_error"):
                    notes.append("%s round %d, %s writer: %s" % (lab, i + 1, pid, pr["writer_error"]))
    skipped = sorted({"%s (%s)" % (pid, pr["skipped"]) for r in K for pid, pr in r.get("phases", {}).items()
                      if pr.get("skipped")})
    if skipped:
        notes.append("Kasi skipped: " + "; ".join(skipped))
    md += ["Note: " + x for x in notes]
    kvals = [v["kasi_probe_max_ms"] for pid, v in summary.items()
             if v.get("kasi_probe_max_ms") is not None and pid not in REFERENCE_PHASES]
    return "\n".join(md).rstrip(), summary, notes, (max(kvals) if kvals else None)


# ------------------------------------------------------------------ main ---

ALL_PHASES = [p["id"] for p in phase_list(1, 1, 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N = 100,000, T = 1 s, 2 full-range ZRANGEBYSCOREs")
    ap.add_argument("--elements", type=int, default=None, help="N (default 1,000,000)")
    ap.add_argument("--phase-s", type=float, default=None, help="T, length of the timed loops (default 2 s)")
    ap.add_argument("--zrange-all", type=int, default=None, help="full-range ZRANGEBYSCOREs (default 3)")
    ap.add_argument("--bg-pre", type=float, default=1.0, help="seconds of writes before BGSAVE")
    ap.add_argument("--phases", default=",".join(ALL_PHASES), help="comma separated phase ids")
    ap.add_argument("--rounds", type=int, default=1, help="repeats per server, alternating")
    ap.add_argument("--threads", type=int, default=None, help="Kasi --threads (default: Kasi's default)")
    ap.add_argument("--probe-interval-ms", type=float, default=2.0)
    ap.add_argument("--servers", default="kasi,redis")
    ap.add_argument("--redis-always", action="store_true", help="run Redis also where Kasi lacks the commands")
    ap.add_argument("--phase-timeout", type=float, default=300.0, help="bound on one phase, s")
    ap.add_argument("--run-timeout", type=float, default=None, help="bound on one server's run (default 900 s)")
    bl.add_server_args(ap, "latest-collections-latency.json")
    ap.add_argument("--probe-child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--worker-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe_child:
        probe_main(*bl.probe_child_args(args.probe_child))
        return 0
    if args.worker_child:
        worker_main(json.loads(args.worker_child))
        return 0
    args.elements = args.elements or (100000 if args.quick else 1000000)
    args.phase_s = args.phase_s or (1.0 if args.quick else 2.0)
    args.zrange_all = args.zrange_all or (2 if args.quick else 3)
    args.run_timeout = args.run_timeout or (300.0 if args.quick else 900.0)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    bad = [p for p in args.phases if p not in ALL_PHASES]
    if bad or args.elements < 1000 or args.elements > 10 ** 7 or args.rounds < 1:
        bl.die("unknown phase %s (known: %s); --elements 1000..10,000,000; --rounds >= 1"
               % (bad, ", ".join(ALL_PHASES)))
    servers = [x.strip() for x in args.servers.split(",") if x.strip()]

    kasi, redis = bl.find_servers(args)
    bl.raise_nofile(4096)
    tmp = tempfile.mkdtemp(prefix="kasi-bench-clat-")
    results = {"Kasi": [], "Redis": []}
    versions = {}
    env = None
    t_start = time.monotonic()
    try:
        kasi = bl.snapshot_binary(kasi, tmp)
        env = bl.environment()
        names = sorted({c for p in phase_list(1, 1, 1) for c in p["needs"]} | {"EXISTS", "CONFIG"})
        have = cl.binary_commands("kasi", kasi, names, tmp)
        log("Kasi lacks: %s" % (", ".join(c for c in names if not have[c]) or "nothing used here"))
        for rnd in range(args.rounds):
            for kind, binary, label in (("kasi", kasi, "Kasi"), ("redis", redis, "Redis")):
                if kind not in servers:
                    continue
                log("round %d, %s" % (rnd + 1, label))
                r = run_server(kind, binary, label, args, have, tmp)
                versions[label] = r.get("version") or versions.get(label)
                results[label].append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    md, summary, notes, kmax = report(results, args, versions)
    print(md)
    elapsed = time.monotonic() - t_start
    summ = dict(kind="collections-latency", elements=args.elements, rounds=args.rounds, kasi_git=bl.git_rev(),
                kasi_probe_max_ms=round(kmax, 3) if kmax is not None else None,
                kasi_goal_5ms_met=None if kmax is None else kmax <= GOAL_MS,
                bgsave=summary.get("bgsave"), elapsed_s=round(elapsed, 1))
    print(json.dumps(summ, separators=(",", ":")))
    bl.write_json(args.json, dict(kind="collections-latency", environment=env,
                                  settings=dict(elements=args.elements, phase_s=args.phase_s,
                                                zrange_all=args.zrange_all, rounds=args.rounds, quick=args.quick,
                                                kasi_threads=args.threads, probe_interval_ms=args.probe_interval_ms,
                                                phases=args.phases, elapsed_s=round(elapsed, 1)),
                                  versions=versions, results=results, summary=summary, markdown=md))
    log("(JSON: %s; %.0f s)" % (os.path.relpath(args.json), elapsed))
    return 1 if notes and any("skipped" not in n for n in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
