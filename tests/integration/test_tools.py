"""Stock Redis tools against the server: redis-cli and redis-benchmark."""
import os
import subprocess

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
