"""Scripting as its users rely on it: atomicity across worker threads,
redis-py's Lock, django-redis's incr, and what survives a restart (a
script's effects do, the script cache does not). The replies and error
texts are compared with redis-server in tests/diff/test_diff_scripting.py."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import redis

RMW = ("local v = tonumber(redis.call('get', KEYS[1]) or '0') "
       "redis.call('set', KEYS[1], v + 1) return v + 1")


def run_threads(n, fn):
    errors = []

    def wrap(i):
        try:
            fn(i)
        except Exception as e:  # reported below, with the thread's number
            errors.append((i, repr(e)))

    ts = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not any(t.is_alive() for t in ts), "a thread did not finish"
    assert not errors, errors


def test_read_modify_write_scripts_lose_no_update(srv):
    """8 clients (spread over the workers) each run a GET-then-SET script
    300 times: without atomicity updates are lost."""
    n, per = 8, 300

    def work(i):
        c = srv.client()
        sha = c.script_load(RMW)
        for _ in range(per):
            c.evalsha(sha, 1, "ctr")
        c.close()

    run_threads(n, work)
    with srv.client() as c:
        assert int(c.get("ctr")) == n * per


def test_no_command_runs_inside_a_script(srv):
    """A reader polling a key never sees the value a script sets and then
    overwrites before it ends."""
    script = ("redis.call('set', KEYS[1], 'inside') local x = 0 "
              "for i = 1, 300000 do x = x + i end "
              "redis.call('set', KEYS[1], 'after') return x")
    seen = set()
    stop = threading.Event()

    def reader(i):
        c = srv.client()
        deadline = time.time() + 30
        while not stop.is_set() and time.time() < deadline:
            seen.add(c.get("k"))
        c.close()

    t = threading.Thread(target=reader, args=(0,))
    t.start()
    with srv.client() as c:
        for _ in range(20):
            c.eval(script, 1, "k")
            c.set("k", "between")
    stop.set()
    t.join(60)
    assert b"inside" not in seen, seen
    assert b"after" in seen or b"between" in seen


def test_scripts_see_their_own_writes_and_the_callers_domain(srv):
    with srv.client() as c:
        c.execute_command("SELECT", "3")
        assert c.eval("redis.call('set', 'a', '1') redis.call('incr', 'a') "
                      "redis.call('select', 0) redis.call('set', 'a', 'zero') "
                      "return redis.call('get', 'a')", 0) == b"zero"
        # SELECT stayed inside the script
        assert c.get("a") == b"2"
        c.execute_command("SELECT", "0")
        assert c.get("a") == b"zero"


def test_redis_py_lock(srv):
    c = srv.client()
    lock = c.lock("res", timeout=5)
    assert lock.acquire(blocking=False)
    assert not c.lock("res", timeout=5).acquire(blocking=False)
    assert 0 < c.pttl("res") <= 5000
    assert lock.extend(10)
    assert 5000 < c.pttl("res") <= 15000
    assert lock.reacquire()
    assert c.pttl("res") > 4000
    lock.release()
    assert not c.exists("res")
    # a lock that expired and was taken by someone else: ours neither
    # releases nor extends it
    assert lock.acquire(blocking=False)
    c.set("res", "someone-else")
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        lock.extend(5)
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        lock.release()
    assert c.get("res") == b"someone-else"
    c.close()


def test_redis_py_lock_contention(srv):
    """4 threads increment a plain counter under the lock: exact."""
    n, per = 4, 40

    def work(i):
        c = srv.client()
        for _ in range(per):
            with c.lock("mutex", timeout=10, sleep=0.001, blocking_timeout=60):
                v = int(c.get("n") or 0)
                c.set("n", v + 1)
        c.close()

    run_threads(n, work)
    with srv.client() as c:
        assert int(c.get("n")) == n * per
        assert not c.exists("mutex")


DJANGO_INCR = r"""
import sys, threading
import django
from django.conf import settings
settings.configure(CACHES={"default": {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:%s/0" % sys.argv[1],
    "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"}}})
django.setup()
from django.core.cache import cache
cache.set("hits", 0, timeout=None)
def work():
    for _ in range(100):
        cache.incr("hits")
ts = [threading.Thread(target=work) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(cache.get("hits"))
"""


def test_django_redis_incr_is_exact(srv):
    """django-redis's incr runs a script; were EVAL to fail it would fall
    back to separate reads and writes and lose updates."""
    out = subprocess.run([sys.executable if sys.executable.startswith("/usr/bin/") else "/usr/bin/python3",
                          "-c", DJANGO_INCR, str(srv.port)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "400", (out.stdout, out.stderr)


def test_effects_survive_restart_and_the_cache_does_not(server_factory):
    s = server_factory({"appendonly": "yes", "appendfsync": "always", "save": ""})
    with s.client() as c:
        sha = c.script_load("redis.call('set', KEYS[1], ARGV[1]) "
                            "redis.call('rpush', KEYS[2], ARGV[1], ARGV[1]) return 1")
        assert c.evalsha(sha, 2, "s", "l", "v") == 1
        assert c.eval("return redis.call('incrby', KEYS[1], 5)", 1, "n") == 5
    s.stop(signal.SIGKILL)   # what the AOF holds, not a snapshot at exit
    s.start()
    with s.client() as c:
        assert c.get("s") == b"v"
        assert c.lrange("l", 0, -1) == [b"v", b"v"]
        assert c.get("n") == b"5"
        assert c.script_exists(sha) == [False]
        with pytest.raises(redis.exceptions.NoScriptError):
            c.evalsha(sha, 2, "s", "l", "v")


def test_script_flush_frees_the_lua_heap(srv):
    with srv.client() as c:
        c.script_flush()
        base = int(c.info("memory")["used_memory_lua"])
        for i in range(300):
            c.script_load("return %d .. string.rep('x', 100)" % i)
        grown = c.info("memory")
        assert int(grown["used_memory_lua"]) > base + 30000
        assert int(grown["number_of_cached_scripts"]) == 300
        assert c.script_flush()
        after = c.info("memory")
        assert int(after["used_memory_lua"]) < base + 10000
        assert int(after["number_of_cached_scripts"]) == 0


LIB = ("#!lua name=counters\n"
       "redis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n"
       "redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end,"
       " flags={'no-writes'}}")
LIB2 = "#!lua name=other\nredis.register_function('twice', function(keys, args) return args[1] .. args[1] end)"


def libraries(c):
    return sorted(lib[b"library_name"] if isinstance(lib, dict) else dict(zip(lib[::2], lib[1::2]))[b"library_name"]
                  for lib in c.execute_command("FUNCTION", "LIST"))


def test_functions_survive_restart_through_the_aof(server_factory):
    s = server_factory({"appendonly": "yes", "appendfsync": "always", "save": ""})
    with s.client() as c:
        assert c.execute_command("FUNCTION", "LOAD", LIB) == b"counters"
        assert c.execute_command("FUNCTION", "LOAD", LIB2) == b"other"
        assert c.execute_command("FCALL", "bump", 1, "n", 5) == 5
        assert c.execute_command("FUNCTION", "DELETE", "other") == b"OK"
        assert c.execute_command("FUNCTION", "LOAD", "REPLACE", LIB.replace("incrby", "decrby")) == b"counters"
    s.stop(signal.SIGKILL)
    s.start()
    with s.client() as c:
        assert libraries(c) == [b"counters"]
        assert c.execute_command("FCALL", "bump", 1, "n", 2) == 3   # the replaced code
        assert c.execute_command("FCALL_RO", "peek", 1, "n") == b"3"
        c.execute_command("BGREWRITEAOF")
        for _ in range(100):
            if c.info("persistence")["aof_rewrite_in_progress"] == 0:
                break
            time.sleep(0.05)
    s.stop(signal.SIGKILL)
    s.start()
    with s.client() as c:   # the rewritten file holds the library too
        assert libraries(c) == [b"counters"]
        assert c.execute_command("FCALL", "bump", 1, "n", 1) == 2


def test_functions_survive_restart_through_a_snapshot(server_factory):
    s = server_factory({"appendonly": "no"})
    with s.client() as c:
        c.execute_command("FUNCTION", "LOAD", LIB)
        c.execute_command("FUNCTION", "LOAD", LIB2)
        c.set("n", 10)
        assert c.save()
        c.execute_command("FUNCTION", "DELETE", "other")   # after the snapshot: not in it
    s.stop(signal.SIGKILL)
    s.start()
    with s.client() as c:
        assert libraries(c) == [b"counters", b"other"]
        assert c.execute_command("FCALL", "twice", 0, "ab") == b"abab"
        assert c.execute_command("FCALL", "bump", 1, "n", 1) == 11


def test_the_lua_heap_is_bounded(server_factory):
    """A script that allocates without end fails with Lua's memory error
    and the server goes on; ever new EVAL bodies do not grow the heap past
    its bound either."""
    s = server_factory({"script-memory-max": "8mb"})
    with s.client() as c:
        with pytest.raises(redis.exceptions.ResponseError, match="not enough memory"):
            c.eval("local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end return #t", 0)
        assert c.eval("return 1 + 1", 0) == 2
        for i in range(4000):   # each body's own 1.5 KB constant: 6 MB of code kept
            assert c.eval("return '%d' .. '%s'" % (i, ("%06d" % i) * 250), 0).startswith(b"%d" % i)
        mem = c.info("memory")
        assert int(mem["used_memory_lua"]) < 8 * 1024 * 1024
        assert int(mem["number_of_cached_scripts"]) < 4000
        assert c.ping()


SPIN = ("local t = redis.call('time') local s = t[1] * 1000000 + t[2] "
        "while true do local n = redis.call('time') if n[1] * 1000000 + n[2] - s > %d then break end end "
        "return 'done'")


def test_shutdown_nosave_stops_a_busy_script_and_the_server(server_factory):
    """A script that wrote cannot be killed; SHUTDOWN NOSAVE still stops it,
    and the server, at once and without saving; plain SHUTDOWN is refused
    meanwhile."""
    s = server_factory({"busy-reply-threshold": "100", "appendonly": "no"})
    errors = []

    def run():
        c = s.client(socket_timeout=30)
        try:
            c.eval("redis.call('set', 'w', '1') " + SPIN % 20000000, 0)
        except Exception as e:  # the connection goes with the server
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.5)
    with s.client(socket_timeout=5) as c:
        with pytest.raises(redis.exceptions.ResponseError, match="UNKILLABLE"):
            c.script_kill()
        with pytest.raises(redis.exceptions.ResponseError, match="^BUSY Redis is busy running a script"):
            c.execute_command("SHUTDOWN")
        began = time.time()
        with pytest.raises(redis.exceptions.ConnectionError):
            c.execute_command("SHUTDOWN", "NOSAVE")
    assert s.proc.wait(10) == 0
    assert time.time() - began < 5   # not the script's 20 s
    t.join(10)
    assert errors
    assert not os.path.exists(os.path.join(s.workdir, "dump.kasi"))
