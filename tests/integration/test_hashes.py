"""Hashes kept across restarts: small (packed) and big (dict) hashes, with and
without TTLs, through a snapshot, the AOF (HINCRBYFLOAT's result is what is
logged, so a replay cannot round differently) and an AOF rewrite; kill -9
under appendfsync always loses no acknowledged hash write; memory accounting
of big hashes follows them as they grow and go. Replies are compared with
Redis's in tests/diff (diff_scripts_types.py)."""
import glob
import os
import random
import threading
import time

import pytest

import kasi_harness as H
from test_persistence import (AOF_ALWAYS, NO_SAVE, TF, check_freed_in_background, info, kill9, pserver,
                              shutdown)

pytestmark = pytest.mark.kasi_only


def load(c, rng, small=30, big=3, big_fields=700):
    """Small and big hashes (some with TTLs); returns the model."""
    model = {}
    for i in range(small):
        key = "hs:%d" % i
        fields = {b"f%d" % j: rng.randbytes(rng.randint(0, 20)) for j in range(rng.randint(1, 12))}
        args = [x for kv in fields.items() for x in kv]
        assert c.cmd("HSET", key, *args) == len(fields)
        model[key.encode()] = fields
    for i in range(big):
        key = "hb:%d" % i
        fields = {}
        for base in range(0, big_fields, 100):
            batch = {b"field:%d" % j: rng.randbytes(rng.randint(0, 90)) for j in range(base, base + 100)}
            c.cmd("HSET", key, *[x for kv in batch.items() for x in kv])
            fields.update(batch)
        model[key.encode()] = fields
    # a TTL on some, a float that must not be re-rounded, deletions
    assert c.cmd("EXPIRE", "hs:0", 100000) == 1
    assert c.cmd("EXPIRE", "hb:0", 100000) == 1
    for key in (b"hs:1", b"hb:1"):
        got = c.cmd("HINCRBYFLOAT", key, "flt", "10.1")
        model[key][b"flt"] = got
        got = c.cmd("HINCRBYFLOAT", key, "flt", "0.2")
        model[key][b"flt"] = got
    for key in (b"hs:2", b"hb:2"):
        victims = list(model[key])[:5]
        assert c.cmd("HDEL", key, *victims) == len(victims)
        for f in victims:
            del model[key][f]
    return model


def check(c, model):
    for key, fields in model.items():
        got = c.cmd("HGETALL", key)
        assert isinstance(got, list), (key, got)
        assert dict(zip(got[::2], got[1::2])) == fields, key
    assert c.cmd("OBJECT", "ENCODING", "hs:3") == b"listpack"
    assert c.cmd("OBJECT", "ENCODING", "hb:0") == b"hashtable"
    assert 0 < c.cmd("TTL", "hs:0") <= 100000
    assert 0 < c.cmd("TTL", "hb:0") <= 100000
    assert c.cmd("TTL", "hb:2") == -1


@pytest.mark.parametrize("how", ["snapshot", "aof", "rewrite"])
def test_hashes_survive_restart(server_factory, tmp_path, how):
    data = tmp_path / "data"
    directives = NO_SAVE if how == "snapshot" else AOF_ALWAYS
    s = pserver(server_factory, data, *directives)
    with s.raw(timeout=30 * TF) as c:
        model = load(c, random.Random(5))
        check(c, model)
        if how == "snapshot":
            assert c.cmd("SAVE") == b"OK"
        elif how == "rewrite":
            assert c.cmd_raw("BGREWRITEAOF").startswith(b"+Background append only file rewriting")
            H.wait_for(lambda: info(s, "persistence").get("aof_rewrite_in_progress") == "0", 30 * TF)
            # writes after the rewrite land in the new incremental file
            c.cmd("HSET", "hs:4", "after", "rewrite")
            model[b"hs:4"][b"after"] = b"rewrite"
    assert shutdown(s, "NOSAVE") == 0
    s2 = pserver(server_factory, data, *directives)
    with s2.raw(timeout=30 * TF) as c:
        check(c, model)
        assert c.cmd("DBSIZE") == sum(1 for f in model.values() if f)   # emptied hashes are gone


def test_kill9_always_keeps_acknowledged_hash_writes(server_factory, tmp_path):
    """Writers HSET, HDEL and HINCRBY into a big and two small hashes; kill -9
    while they run; each hash is what its writer had acknowledged, or that
    plus the one write in flight at the kill."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    stop = threading.Event()
    acked = [dict() for _ in range(3)]      # per writer: field -> value
    pending = [None] * 3                    # the write sent, not yet answered

    def writer(w):
        rng = random.Random(w)
        key = "w%d" % w
        state = acked[w]
        try:
            with s.raw(timeout=10 * TF) as c:
                for n in range(200000):
                    if stop.is_set():
                        return
                    f = b"f%d" % rng.randint(0, 900 if w == 0 else 40)
                    op = rng.random()
                    if op < 0.6:
                        pending[w] = (f, b"%d" % n)
                        c.cmd("HSET", key, f, b"%d" % n)
                    elif op < 0.8:
                        pending[w] = (f, None)
                        c.cmd("HDEL", key, f)
                    else:
                        pending[w] = (b"ctr", b"%d" % (int(state.get(b"ctr", b"0")) + 1))
                        assert c.cmd("HINCRBY", key, b"ctr", 1) == int(pending[w][1])
                    f, v = pending[w]
                    if v is None:
                        state.pop(f, None)
                    else:
                        state[f] = v
                    pending[w] = None
        except (OSError, H.ConnectionClosed):
            return

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(3)]
    for t in threads:
        t.start()
    assert H.wait_for(lambda: all(len(a) > 20 for a in acked), 20 * TF), [len(a) for a in acked]
    kill9(s)
    stop.set()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    s2 = pserver(server_factory, data, *AOF_ALWAYS)
    with s2.raw(timeout=30 * TF) as c:
        for w in range(3):
            got = c.cmd("HGETALL", "w%d" % w)
            have = dict(zip(got[::2], got[1::2]))
            want = [dict(acked[w])]
            if pending[w]:
                f, v = pending[w]
                alt = dict(acked[w])
                if v is None:
                    alt.pop(f, None)
                else:
                    alt[f] = v
                want.append(alt)
            assert have in want, "writer %d: %d fields kept, %d acknowledged" % (w, len(have), len(acked[w]))


def test_big_hash_memory_is_counted_and_returned(server_factory):
    """used_memory follows a big hash as it grows, and drops when it goes."""
    s = server_factory([("save", "")])
    with s.raw(timeout=30 * TF) as c:
        before = int(info(s, "memory")["used_memory"])
        for base in range(0, 20000, 500):
            c.cmd("HSET", "big", *[x for j in range(base, base + 500) for x in (b"field:%d" % j, b"v" * 32)])
        grown = int(info(s, "memory")["used_memory"]) - before
        usage = c.cmd("MEMORY", "USAGE", "big")
        # about 50 bytes of field and value each, plus index: counted, not ignored
        assert 20000 * 45 <= grown <= 20000 * 120, grown
        assert 20000 * 45 <= usage <= 20000 * 120, usage
        assert c.cmd("DEL", "big") == 1
        after = int(info(s, "memory")["used_memory"])
        assert after - before < 20000 * 10, (before, after)


@pytest.mark.parametrize("then", ["rewrite", "delete"])
def test_bgsave_of_a_big_hash_is_point_in_time(server_factory, tmp_path, then):
    """BGSAVE, then at once rewrite every field of a 100k-field hash (or
    delete it) while the snapshot runs: the snapshot holds the hash as it was
    at the BGSAVE. The writer's first write hands the hash to the snapshot as
    a frozen view, so it never waits for the hash to be written out."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *NO_SAVE)
    n = 100000
    with s.raw(timeout=60 * TF) as c:
        for base in range(0, n, 1000):
            c.cmd("HSET", "big", *[x for j in range(base, base + 1000)
                                   for x in (b"field:%d" % j, b"old-%07d" % j)])
        c.cmd("HSET", "small", "a", "1")
        assert c.cmd_raw("BGSAVE") == b"+Background saving started\r\n"
        if then == "delete":
            assert c.cmd("DEL", "big") == 1
        else:
            for base in range(0, n, 1000):
                c.cmd("HSET", "big", *[x for j in range(base, base + 1000)
                                       for x in (b"field:%d" % j, b"new-%07d" % j)])
            c.cmd("HDEL", "big", *[b"field:%d" % j for j in range(0, n, 3)])
        c.cmd("HSET", "small", "a", "2")
        H.wait_for(lambda: info(s, "persistence").get("rdb_bgsave_in_progress") == "0", 60 * TF)
        assert info(s, "persistence").get("rdb_last_bgsave_status") == "ok"
    assert shutdown(s, "NOSAVE") == 0
    s2 = pserver(server_factory, data, *NO_SAVE)
    with s2.raw(timeout=60 * TF) as c:
        assert c.cmd("HLEN", "big") == n
        got = c.cmd("HGETALL", "big")
        have = dict(zip(got[::2], got[1::2]))
        assert all(have[b"field:%d" % j] == b"old-%07d" % j for j in range(n))
        assert c.cmd("HGET", "small", "a") == b"1"


def test_big_hash_is_freed_in_the_background(server_factory):
    """DEL, overwrite and expiry of a big hash hand it to the background
    freeing thread (INFO lazyfreed_objects counts it); small ones are freed
    at once."""
    s = server_factory([("save", "")])
    with s.raw(timeout=60 * TF) as c:
        def fill(key, n=20000):
            for base in range(0, n, 1000):
                assert c.cmd("HSET", key, *[x for j in range(base, base + 1000)
                                            for x in (b"f%d" % j, b"v" * 20)]) == 1000

        check_freed_in_background(s, c, fill, ("HSET", "small", "a", "1"))


def test_big_hash_renamed_copied_moved_survives_aof_restart(server_factory, tmp_path):
    """RENAME, COPY (to another domain, with REPLACE) and MOVE of a big hash
    are logged as the commands themselves (not the whole hash); the AOF
    replays them to the same data."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    n = 20000
    with s.raw(timeout=60 * TF) as c:
        for base in range(0, n, 1000):
            c.cmd("HSET", "a", *[x for j in range(base, base + 1000) for x in (b"f%d" % j, b"v%d" % j)])
        c.cmd("HSET", "b", "old", "value")
        assert c.cmd("RENAME", "a", "b") == b"OK"
        assert c.cmd("COPY", "b", "c", "DB", "other", "REPLACE") == 1
        assert c.cmd("COPY", "b", "d") == 1
        assert c.cmd("MOVE", "d", "7") == 1
        c.cmd("HSET", "b", "after", "rename")
        aof = sum(os.path.getsize(p) for p in glob.glob(str(data / "appendonlydir" / "*.incr.aof")))
        # the hash itself was written once (the HSETs), not once more per command
        assert aof < n * 30, aof
    kill9(s)
    s2 = pserver(server_factory, data, *AOF_ALWAYS)
    with s2.raw(timeout=60 * TF) as c:
        assert c.cmd("EXISTS", "a") == 0
        assert c.cmd("HLEN", "b") == n + 1 and c.cmd("HGET", "b", "old") is None
        assert c.cmd("HGET", "b", "f19999") == b"v19999"
        assert c.cmd("SELECT", "other") == b"OK" and c.cmd("HLEN", "c") == n
        assert c.cmd("SELECT", "7") == b"OK" and c.cmd("HLEN", "d") == n


@pytest.mark.parametrize("policy", ["allkeys-lru", "s3fifo"])
def test_maxmemory_evicts_big_hashes(server_factory, policy):
    """Hashes count against maxmemory with what they hold outside their items,
    and eviction evicts them: writing 60 MB of hashes under a 16 MB bound
    keeps used_memory near the bound, evicts whole hashes, and the rest stay
    intact."""
    s = server_factory([("save", ""), ("maxmemory", "16mb"), ("maxmemory-policy", policy)])
    with s.raw(timeout=60 * TF) as c:
        for k in range(60):
            for base in range(0, 10000, 1000):
                r = c.cmd("HSET", "h%d" % k, *[x for j in range(base, base + 1000)
                                               for x in (b"f%d" % j, b"%090d" % j)])
                assert not isinstance(r, H.RespError), r
            used = int(info(s, "memory")["used_memory"])
            assert used <= 16 * 1024 * 1024 * 1.15, (k, used)
        st = info(s, "stats")
        assert int(st["evicted_keys"]) >= 30
        left = [k for k in range(60) if c.cmd("EXISTS", "h%d" % k)]
        assert 3 <= len(left) < 30
        for k in left:
            n = c.cmd("HLEN", "h%d" % k)
            # an HSET is all or nothing: a hash evicted while it was being
            # written starts again from the next batch
            assert n % 1000 == 0 and 0 < n <= 10000, (k, n)


def test_aof_replay_keeps_expiry_of_written_keys(server_factory, tmp_path):
    """Writes logged while a key lived apply to it on replay, expiry
    included: a hash (or string) written before its TTL ran out stays gone
    after a restart once the TTL has passed; one made anew after its old
    self expired is there, without a TTL, holding only the new writes."""
    data = tmp_path / "data"
    s = pserver(server_factory, data, *AOF_ALWAYS)
    with s.raw(timeout=30 * TF) as c:
        c.cmd("HSET", "gone", "a", "1")
        c.cmd("PEXPIRE", "gone", 400)
        c.cmd("HSET", "gone", "b", "2")          # while it lives
        c.cmd("SET", "sgone", "abc", "PX", 400)
        c.cmd("APPEND", "sgone", "d")            # while it lives
        c.cmd("HSET", "again", "old", "1")
        c.cmd("PEXPIRE", "again", 200)
        c.cmd("SET", "sagain", "old", "PX", 200)
        time.sleep(0.5)
        c.cmd("HSET", "again", "new", "2")       # after it expired: a new hash
        c.cmd("APPEND", "sagain", "new")         # a new string
    kill9(s)
    s2 = pserver(server_factory, data, *AOF_ALWAYS)
    with s2.raw(timeout=30 * TF) as c:
        assert c.cmd("EXISTS", "gone", "sgone") == 0
        assert c.cmd("HGETALL", "again") == [b"new", b"2"]
        assert c.cmd("TTL", "again") == -1
        assert c.cmd("GET", "sagain") == b"new"
        assert c.cmd("TTL", "sagain") == -1
