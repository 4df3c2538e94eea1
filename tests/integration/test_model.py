"""Model-based stress: random SET/APPEND/SETRANGE/DEL/INCR/GETDEL/RENAME/COPY
traffic with varied value sizes, checked against an in-test Python model.
Targets storage internals (item store, compaction, rehashing) that
single-command tests do not reach.  Seeded and bounded."""
import os
import random
import threading


import kasi_harness as H

OPS = int(os.environ.get("KASI_MODEL_OPS", "60000"))


def rand_value(rng):
    size = rng.choice([0, 1, 7, 64, 500, 4096, 20000, rng.randint(0, 70000)])
    return bytes([rng.randrange(256)]) * size if rng.random() < 0.5 else os.urandom(size)


def run_model(conn, rng, keys, ops, prefix=""):
    model = {}
    batch = []

    def flush():
        conn.send(b"".join(H.encode_command(*c) for c, _ in batch))
        for cmd, expected in batch:
            got = conn.read_raw()
            if expected is not None and got != expected:
                raise AssertionError("%r -> %r, model expected %r" % (cmd[:3], got[:80], expected[:80]))
        batch.clear()

    for _ in range(ops):
        k = prefix + rng.choice(keys)
        op = rng.randint(0, 9)
        if op <= 2:
            v = rand_value(rng)
            model[k] = v
            batch.append((["SET", k, v], b"+OK\r\n"))
        elif op == 3:
            v = rand_value(rng)[:3000]
            model[k] = model.get(k, b"") + v
            batch.append((["APPEND", k, v], b":%d\r\n" % len(model[k])))
        elif op == 4:
            off = rng.randint(0, 30000)
            v = os.urandom(rng.randint(1, 2000))
            cur = model.get(k, b"")
            if len(cur) < off:
                cur = cur + b"\x00" * (off - len(cur))
            cur = cur[:off] + v + cur[off + len(v):]
            model[k] = cur
            batch.append((["SETRANGE", k, str(off), v], b":%d\r\n" % len(cur)))
        elif op == 5:
            existed = k in model
            model.pop(k, None)
            batch.append((["DEL", k], b":%d\r\n" % existed))
        elif op == 6:
            cur = model.get(k)
            if cur is None or cur.isdigit() and len(cur) < 15:
                n = int(cur or b"0") + 1
                model[k] = str(n).encode()
                batch.append((["INCR", k], b":%d\r\n" % n))
            else:
                batch.append((["GET", k], H.bulk(cur)))
        elif op == 7:
            cur = model.pop(k, None)
            batch.append((["GETDEL", k], H.bulk(cur) if cur is not None else H.NIL))
        elif op == 8:
            k2 = prefix + rng.choice(keys)
            if k in model:
                model[k2] = model.pop(k) if k != k2 else model[k]
                batch.append((["RENAME", k, k2], b"+OK\r\n"))
            else:
                batch.append((["RENAME", k, k2], H.E("ERR no such key")))
        else:
            cur = model.get(k)
            batch.append((["GET", k], H.bulk(cur) if cur is not None else H.NIL))
        if len(batch) >= 50:
            flush()
    flush()
    return model


def verify(conn, model, keys, prefix=""):
    names = [prefix + k for k in keys]
    for i in range(0, len(names), 100):
        chunk = names[i:i + 100]
        got = conn.cmd("MGET", *chunk)
        for name, g in zip(chunk, got):
            assert g == model.get(name), "key %r: server %r... model %r..." % (
                name, (g or b"")[:40], (model.get(name) or b"")[:40])


def test_model_single_client(srv):
    rng = random.Random(12345)
    keys = ["k%d" % i for i in range(300)]
    with srv.raw(timeout=30) as c:
        model = run_model(c, rng, keys, OPS)
        verify(c, model, keys)
        assert c.cmd("DBSIZE") == len(model)


def test_model_concurrent_clients(srv):
    """Several clients on disjoint key prefixes, in parallel."""
    errors = []
    results = {}

    def work(i):
        try:
            rng = random.Random(1000 + i)
            keys = ["k%d" % j for j in range(100)]
            with srv.raw(timeout=30) as c:
                model = run_model(c, rng, keys, OPS // 4, prefix="t%d:" % i)
                verify(c, model, keys, prefix="t%d:" % i)
                results[i] = model
        except Exception as e:  # noqa
            errors.append("client %d: %r" % (i, e))
    ts = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(50)
    assert not any(t.is_alive() for t in ts), "clients still running"
    assert not errors, errors
    with srv.raw() as c:
        assert c.cmd("DBSIZE") == sum(len(m) for m in results.values())


def test_no_eviction_without_maxmemory(srv):
    """Without maxmemory nothing may be evicted: 300 MB of values all stay."""
    val = os.urandom(1024) * 100  # 100 KB
    with srv.raw(timeout=30) as c:
        for b in range(0, 3000, 100):
            c.send(b"".join(H.encode_command("SET", "ev%d" % i, val) for i in range(b, b + 100)))
            for _ in range(100):
                assert c.read_raw() == H.OK
        assert c.cmd("DBSIZE") == 3000
        for i in range(0, 3000, 97):
            assert c.cmd("GET", "ev%d" % i) == val
        c.cmd("FLUSHALL")
