"""Stock Redis tools against the server: redis-cli and redis-benchmark."""
import os
import re
import subprocess
import time

import pytest

import kasi_harness as H


def cli(srv, *args, timeout=15, stdin=None):
    if not os.access(H.REDIS_CLI, os.X_OK):
        pytest.skip("redis-cli not installed")
    p = subprocess.run([H.REDIS_CLI, "-h", "127.0.0.1", "-p", str(srv.port)] + list(args),
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p


def test_redis_cli_basic(srv):
    p = cli(srv, "ping")
    assert p.returncode == 0 and p.stdout == b"PONG\n", p
    p = cli(srv, "set", "clikey", "hello world")
    assert p.stdout == b"OK\n", p
    p = cli(srv, "get", "clikey")
    assert p.stdout == b"hello world\n", p
    p = cli(srv, "--raw", "get", "clikey")
    assert p.stdout == b"hello world\n", p
    p = cli(srv, "incr", "clictr")
    assert p.stdout == b"1\n", p  # non-tty output is raw-ish
    p = cli(srv, "--no-raw", "incr", "clictr")
    assert p.stdout == b"(integer) 2\n", p
    p = cli(srv, "--no-raw", "get", "nokey")
    assert p.stdout == b"(nil)\n", p
    p = cli(srv, "--no-raw", "mget", "clikey", "nokey")
    assert p.stdout == b'1) "hello world"\n2) (nil)\n', p


def test_redis_cli_errors_and_db(srv):
    p = cli(srv, "--no-raw", "incr", "notthere", "extra")
    assert b"ERR wrong number of arguments for 'incr' command" in p.stdout + p.stderr
    p = cli(srv, "-n", "1", "set", "dbkey", "one")
    assert p.stdout == b"OK\n", p
    p = cli(srv, "get", "dbkey")
    assert p.stdout == b"\n", p  # raw mode prints nil as empty line
    p = cli(srv, "-n", "1", "get", "dbkey")
    assert p.stdout == b"one\n", p


def test_redis_cli_stdin_pipe_mode(srv):
    cmds = b"".join(H.encode_command("SET", "pm%d" % i, i) for i in range(1000))
    p = cli(srv, "--pipe", stdin=cmds)
    assert p.returncode == 0, p
    assert b"errors: 0, replies: 1000" in p.stdout, p.stdout
    with srv.raw() as c:
        assert c.cmd("DBSIZE") == 1000


def test_redis_cli_auth(server_factory):
    s = server_factory({"requirepass": "clipw"})
    p = cli(s, "ping")
    assert b"NOAUTH" in p.stdout + p.stderr
    p = cli(s, "-a", "clipw", "--no-auth-warning", "ping")
    assert p.stdout == b"PONG\n", p


def test_redis_cli_info(srv):
    p = cli(srv, "info", "server")
    assert p.returncode == 0
    assert b"redis_version:7.0.15" in p.stdout


@pytest.mark.slow
def test_redis_benchmark(srv):
    if not os.access(H.REDIS_BENCHMARK, os.X_OK):
        pytest.skip("redis-benchmark not installed")
    p = subprocess.run([H.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(srv.port), "-n", "2000", "-q",
                        "-t", "ping,set,get,incr,mset", "-c", "20"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p
    out = p.stdout.decode("utf-8", "replace")
    for name in ("PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"):
        assert any(line.strip().split(":")[0].split(" (")[0] == name and "requests per second" in line
                   for line in out.replace("\r", "\n").splitlines()), (name, out)


@pytest.mark.slow
def test_redis_benchmark_pipelined(srv):
    if not os.access(H.REDIS_BENCHMARK, os.X_OK):
        pytest.skip("redis-benchmark not installed")
    p = subprocess.run([H.REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(srv.port), "-n", "20000", "-q",
                        "-t", "set,get", "-P", "16", "-d", "100"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p
    assert b"requests per second" in p.stdout
    with srv.raw() as c:
        assert c.cmd("STRLEN", "key:__rand_int__") == 100


def _mixed_keys(srv):
    """A key of each type, one of them the biggest of its type by far."""
    c = srv.client()
    c.set("s:small", "x")
    c.set("s:big", "y" * 5000)
    c.rpush("l:big", *range(300))
    c.rpush("l:small", 1)
    c.sadd("set:big", *range(200))
    c.hset("h:big", mapping={"f%d" % i: i for i in range(100)})
    c.zadd("z:big", {"m%d" % i: i for i in range(50)})
    c.xadd("x:big", {"f": "v"})
    c.close()


def test_redis_cli_bigkeys(srv):
    """--bigkeys scans with SCAN, asks TYPE and each type's length, and
    names the biggest key of each type."""
    _mixed_keys(srv)
    p = cli(srv, "--bigkeys", timeout=30)
    out = p.stdout.decode()
    assert p.returncode == 0 and "ERR" not in out + p.stderr.decode(), out + p.stderr.decode()
    for line in ('Biggest string found \'"s:big"\' has 5000 bytes', 'Biggest   list found \'"l:big"\' has 300 items',
                 'Biggest    set found \'"set:big"\' has 200 members',
                 'Biggest   hash found \'"h:big"\' has 100 fields',
                 'Biggest   zset found \'"z:big"\' has 50 members',
                 'Biggest stream found \'"x:big"\' has 1 entries'):
        assert line in out, (line, out)
    assert "Sampled 8 keys in the keyspace!" in out, out


def test_redis_cli_memkeys(srv):
    """--memkeys asks MEMORY USAGE of each key: the big string is the
    biggest string by bytes."""
    _mixed_keys(srv)
    p = cli(srv, "--memkeys", timeout=30)
    out = p.stdout.decode()
    assert p.returncode == 0 and "ERR" not in out + p.stderr.decode(), out + p.stderr.decode()
    assert "Biggest string found '\"s:big\"' has" in out and "Sampled 8 keys in the keyspace!" in out, out


def _run_for(srv, seconds, *args):
    """redis-cli in a mode that runs until stopped: its output once stopped."""
    if not os.access(H.REDIS_CLI, os.X_OK):
        pytest.skip("redis-cli not installed")
    # unbuffered: what it printed before it is stopped is not lost (by
    # SIGTERM: a job started in the background, as CI's may be, ignores SIGINT)
    p = subprocess.Popen(["stdbuf", "-o0", H.REDIS_CLI, "-h", "127.0.0.1", "-p", str(srv.port)] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.terminate()
        out, err = p.communicate(timeout=10)
    return out.decode(), err.decode()


def test_redis_cli_stat(srv):
    """--stat reads INFO every interval: its rows show the keys, memory,
    clients and requests."""
    _mixed_keys(srv)
    out, err = _run_for(srv, 1.5, "--stat", "-i", "0.2")
    assert "------- data ------" in out and "keys       mem      clients blocked requests" in out, out + err
    rows = [ln.split() for ln in out.splitlines() if ln[:1].isdigit()]
    assert len(rows) >= 3 and all(r[0] == "8" for r in rows), out
    assert int(rows[-1][4]) > int(rows[0][4]), out   # requests: each INFO counts


def test_redis_cli_latency(srv):
    out, err = _run_for(srv, 1.5, "--latency", "-i", "0.1")
    # not on a terminal, it prints "min max avg samples" bare
    assert re.search(r"^(min: )?\d+,? (max: )?\d+,? (avg: )?[\d.]+ \(?\d+( samples\))?$", out.strip(), re.M), out + err


def test_redis_cli_monitor(srv):
    """MONITOR through redis-cli: OK, then the commands another client
    runs, in Redis's line format."""
    if not os.access(H.REDIS_CLI, os.X_OK):
        pytest.skip("redis-cli not installed")
    p = subprocess.Popen(["stdbuf", "-o0", H.REDIS_CLI, "-h", "127.0.0.1", "-p", str(srv.port), "monitor"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3 * H.TIME_FACTOR)
        c = srv.client()
        c.set("mon:key", "a b")
        c.get("mon:key")
        c.close()
        time.sleep(0.3 * H.TIME_FACTOR)
    finally:
        p.terminate()
        out, err = p.communicate(timeout=10)
    out = out.decode()
    assert out.startswith("OK\n"), out + err.decode()
    assert re.search(r'^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "mon:key" "a b"$', out, re.M), out
    assert re.search(r'^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "GET" "mon:key"$', out, re.M), out
