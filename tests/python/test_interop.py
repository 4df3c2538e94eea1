"""Values shared with redis-cli and plain redis-py."""

import shutil
import subprocess

import pytest
import redis

from conftest import kasi_only

need_cli = pytest.mark.skipif(not shutil.which("redis-cli"), reason="redis-cli not installed")


def cli(port, *args, stdin=None):
    r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--raw"] + list(args),
                       input=stdin, capture_output=True, timeout=10)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def raw(shared_server):
    r = redis.Redis(host="127.0.0.1", port=shared_server.port)
    yield r
    r.close()


@need_cli
def test_redis_cli_writes_str(client, shared_server):
    cli(shared_server.port, "SET", "greet", "héllo wörld ⇌")
    assert client.get("greet") == "héllo wörld ⇌"


@need_cli
def test_kasi_writes_str_redis_cli_reads(client, shared_server):
    client.set("greet", "2H₂ + O₂ ⇌ 2H₂O")
    assert cli(shared_server.port, "GET", "greet").decode() == "2H₂ + O₂ ⇌ 2H₂O\n"


@need_cli
def test_counters_shared(client, shared_server):
    cli(shared_server.port, "SET", "n", "10")
    assert client.get("n") == 10
    assert client.incr("n") == 11
    client.set("m", 42)
    assert cli(shared_server.port, "GET", "m") == b"42\n"
    assert cli(shared_server.port, "INCR", "m") == b"43\n"
    assert client.get("m") == 43


@need_cli
@kasi_only
def test_redis_cli_named_domain(client, shared_server):
    cli(shared_server.port, stdin=b"SELECT shop\nSET item lamp\n")
    assert client.get("item", domain="shop") == "lamp"
    client.set("item2", "chair", domain="shop")
    out = cli(shared_server.port, stdin=b"SELECT shop\nGET item2\n")
    assert out.splitlines()[-1] == b"chair"


def test_redis_py_bytes(client, raw):
    raw.set("bin", b"\x00\xff\xfe binary")
    assert client.get("bin") == b"\x00\xff\xfe binary"
    raw.set("txt", "plain text".encode())
    assert client.get("txt") == "plain text"
    client.set("b2", b"\x80\x81")
    assert raw.get("b2") == b"\x80\x81"  # non-UTF-8 bytes are stored raw
    client.set("s", "ünïcode")
    assert raw.get("s") == "ünïcode".encode()


def test_redis_py_mget_sees_kasi_values(client, raw):
    client.set_many({"a": "1x", "b": "two"})
    assert raw.mget(["a", "b"]) == [b"1x", b"two"]
