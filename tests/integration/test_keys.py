"""Keyspace commands: DEL EXISTS TYPE EXPIRE* TTL KEYS SCAN RENAME COPY MOVE ..."""
import time

import pytest

from kasi_harness import ARITY, E, INT, NIL, NOTINT, OK, SYNTAX, bulk


def test_del_unlink(raw):
    raw.cmd_raw("MSET", "a", "1", "b", "2", "c", "3")
    assert raw.cmd_raw("DEL", "a", "nokey", "a") == INT(1)
    assert raw.cmd_raw("UNLINK", "b", "c", "d") == INT(2)
    assert raw.cmd_raw("DBSIZE") == INT(0)
    assert raw.cmd_raw("DEL") == ARITY("del")
    assert raw.cmd_raw("UNLINK") == ARITY("unlink")


def test_exists_touch_counts_duplicates(raw):
    raw.cmd_raw("MSET", "a", "1", "b", "2")
    assert raw.cmd_raw("EXISTS", "a", "a", "b", "nokey") == INT(3)
    assert raw.cmd_raw("TOUCH", "a", "a", "nokey") == INT(2)
    assert raw.cmd_raw("EXISTS") == ARITY("exists")
    assert raw.cmd_raw("TOUCH") == ARITY("touch")


def test_type(raw):
    raw.cmd_raw("SET", "s", "x")
    assert raw.cmd_raw("TYPE", "s") == b"+string\r\n"
    assert raw.cmd_raw("TYPE", "nokey") == b"+none\r\n"
    assert raw.cmd_raw("TYPE") == ARITY("type")


def test_dbsize(raw):
    assert raw.cmd_raw("DBSIZE") == INT(0)
    for i in range(50):
        raw.cmd_raw("SET", "k%d" % i, "v")
    assert raw.cmd_raw("DBSIZE") == INT(50)
    assert raw.cmd_raw("DBSIZE", "x") == ARITY("dbsize")


# ---------------------------------------------------------------- EXPIRE family

def test_expire_ttl(r, raw):
    assert raw.cmd_raw("EXPIRE", "nokey", "100") == INT(0)
    assert raw.cmd_raw("TTL", "nokey") == INT(-2)
    assert raw.cmd_raw("PTTL", "nokey") == INT(-2)
    r.set("k", "v")
    assert raw.cmd_raw("TTL", "k") == INT(-1)
    assert raw.cmd_raw("PTTL", "k") == INT(-1)
    assert raw.cmd_raw("EXPIRE", "k", "100") == INT(1)
    assert r.ttl("k") in (99, 100)
    assert raw.cmd_raw("PEXPIRE", "k", "200000") == INT(1)
    assert 199000 <= r.pttl("k") <= 200000
    assert r.ttl("k") in (199, 200)


def test_expireat(r, raw):
    r.set("k", "v")
    now = int(time.time())
    assert raw.cmd_raw("EXPIREAT", "k", str(now + 1000)) == INT(1)
    assert raw.cmd_raw("EXPIRETIME", "k") == INT(now + 1000)
    assert raw.cmd_raw("PEXPIRETIME", "k") == INT((now + 1000) * 1000)
    assert raw.cmd_raw("PEXPIREAT", "k", str(now * 1000 + 123456)) == INT(1)
    assert raw.cmd_raw("PEXPIRETIME", "k") == INT(now * 1000 + 123456)
    assert raw.cmd_raw("EXPIRETIME", "k") == INT(now + 123)  # rounded down (ms/1000)


def test_expiretime_no_ttl(r, raw):
    r.set("k", "v")
    assert raw.cmd_raw("EXPIRETIME", "k") == INT(-1)
    assert raw.cmd_raw("PEXPIRETIME", "k") == INT(-1)
    assert raw.cmd_raw("EXPIRETIME", "nokey") == INT(-2)
    assert raw.cmd_raw("PEXPIRETIME", "nokey") == INT(-2)
    assert raw.cmd_raw("EXPIRETIME") == ARITY("expiretime")


@pytest.mark.parametrize("cmd,val", [("EXPIRE", "0"), ("EXPIRE", "-10"), ("PEXPIRE", "0"),
                                     ("EXPIREAT", "1"), ("PEXPIREAT", "1000")])
def test_expire_non_positive_deletes(r, raw, cmd, val):
    r.set("k", "v")
    assert raw.cmd_raw(cmd, "k", val) == INT(1)
    assert raw.cmd_raw("EXISTS", "k") == INT(0)
    assert raw.cmd_raw("GET", "k") == NIL


def test_expire_errors(r, raw):
    r.set("k", "v")
    assert raw.cmd_raw("EXPIRE", "k", "abc") == NOTINT
    assert raw.cmd_raw("EXPIRE", "k", "1.5") == NOTINT
    assert raw.cmd_raw("EXPIRE", "k") == ARITY("expire")
    assert raw.cmd_raw("PEXPIRE", "k") == ARITY("pexpire")
    assert raw.cmd_raw("EXPIREAT", "k") == ARITY("expireat")
    assert raw.cmd_raw("PEXPIREAT", "k") == ARITY("pexpireat")
    assert raw.cmd_raw("EXPIRE", "k", "9223372036854775807") == E("ERR invalid expire time in 'expire' command")
    assert raw.cmd_raw("PEXPIRE", "k", "9223372036854775807") == E("ERR invalid expire time in 'pexpire' command")
    assert raw.cmd_raw("EXPIREAT", "k", "9223372036854775807") == E("ERR invalid expire time in 'expireat' command")
    assert raw.cmd_raw("TTL", "k") == INT(-1)


def test_expire_options(r, raw):
    r.set("k", "v")
    # NX: only when no expiry
    assert raw.cmd_raw("EXPIRE", "k", "100", "XX") == INT(0)
    assert raw.cmd_raw("EXPIRE", "k", "100", "GT") == INT(0)  # no ttl == infinite
    assert raw.cmd_raw("EXPIRE", "k", "100", "NX") == INT(1)
    assert raw.cmd_raw("EXPIRE", "k", "200", "NX") == INT(0)
    assert r.ttl("k") in (99, 100)
    assert raw.cmd_raw("EXPIRE", "k", "200", "XX") == INT(1)
    assert r.ttl("k") in (199, 200)
    assert raw.cmd_raw("EXPIRE", "k", "100", "GT") == INT(0)
    assert raw.cmd_raw("EXPIRE", "k", "300", "GT") == INT(1)
    assert raw.cmd_raw("EXPIRE", "k", "400", "LT") == INT(0)
    assert raw.cmd_raw("EXPIRE", "k", "50", "LT") == INT(1)
    assert r.ttl("k") in (49, 50)
    assert raw.cmd_raw("EXPIRE", "k", "60", "XX", "GT") == INT(1)
    assert r.ttl("k") in (59, 60)
    r.persist("k")
    assert raw.cmd_raw("EXPIRE", "k", "100", "LT") == INT(1)  # no ttl == infinite, so 100 < inf
    assert r.ttl("k") in (99, 100)
    assert raw.cmd_raw("EXPIRE", "nokey", "100", "NX") == INT(0)


def test_expire_options_case_and_errors(r, raw):
    r.set("k", "v")
    assert raw.cmd_raw("pexpire", "k", "100000", "nx") == INT(1)
    assert raw.cmd_raw("EXPIRE", "k", "100", "NX", "XX") == E(
        "ERR NX and XX, GT or LT options at the same time are not compatible")
    assert raw.cmd_raw("EXPIRE", "k", "100", "NX", "GT") == E(
        "ERR NX and XX, GT or LT options at the same time are not compatible")
    assert raw.cmd_raw("EXPIRE", "k", "100", "GT", "LT") == E(
        "ERR GT and LT options at the same time are not compatible")
    assert raw.cmd_raw("EXPIRE", "k", "100", "FOO") == E("ERR Unsupported option FOO")
    assert raw.cmd_raw("PEXPIREAT", "k", "100", "bar") == E("ERR Unsupported option bar")


def test_persist(r, raw):
    r.set("k", "v", ex=100)
    assert raw.cmd_raw("PERSIST", "k") == INT(1)
    assert raw.cmd_raw("PERSIST", "k") == INT(0)
    assert raw.cmd_raw("PERSIST", "nokey") == INT(0)
    assert r.ttl("k") == -1
    assert raw.cmd_raw("PERSIST") == ARITY("persist")


def test_overwrite_clears_ttl_but_rename_keeps(r):
    r.set("k", "v", ex=100)
    r.rename("k", "k2")
    assert 99 <= r.ttl("k2") <= 100
    r.set("k2", "x")
    assert r.ttl("k2") == -1


# ---------------------------------------------------------------- KEYS / SCAN / RANDOMKEY

def test_keys_patterns(rs):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "hillo", "h*llo", "a?b", "x[y]z", "foo:1", "foo:2"]
    for n in names:
        rs.set(n, "v")
    assert sorted(rs.keys("*")) == sorted(names)
    assert sorted(rs.keys("h?llo")) == ["h*llo", "hallo", "hello", "hillo", "hxllo"]
    assert sorted(rs.keys("h*llo")) == sorted(["hello", "hallo", "hxllo", "hllo", "heeeello", "hillo", "h*llo"])
    assert sorted(rs.keys("h[ae]llo")) == ["hallo", "hello"]
    assert sorted(rs.keys("h[^e]llo")) == ["h*llo", "hallo", "hillo", "hxllo"]
    assert sorted(rs.keys("h[a-e]llo")) == ["hallo", "hello"]
    assert sorted(rs.keys("h\\*llo")) == ["h*llo"]
    assert sorted(rs.keys("foo:*")) == ["foo:1", "foo:2"]
    assert sorted(rs.keys("x\\[y\\]z")) == ["x[y]z"]
    assert rs.keys("nomatch*") == []


def test_keys_arity(raw):
    assert raw.cmd_raw("KEYS") == ARITY("keys")
    assert raw.cmd_raw("KEYS", "*") == b"*0\r\n"


def test_scan_full_iteration(r):
    keys = {("key:%d" % i).encode() for i in range(1000)}
    r.mset({k: b"v" for k in keys})
    seen = set()
    cursor = 0
    for _ in range(10000):
        cursor, batch = r.scan(cursor, count=37)
        seen.update(batch)
        if cursor == 0:
            break
    assert cursor == 0
    assert seen == keys


def test_scan_match_and_type(r):
    for i in range(200):
        r.set("a:%d" % i, "v")
        r.set("b:%d" % i, "v")
    seen = set()
    cursor = 0
    for _ in range(10000):
        cursor, batch = r.scan(cursor, match="a:1*", count=50)
        seen.update(batch)
        if cursor == 0:
            break
    assert seen == {("a:%d" % i).encode() for i in range(200) if str(i).startswith("1")}
    assert set(r.scan_iter(_type="string", count=100)) == set(r.keys("*"))
    assert list(r.scan_iter(_type="list", count=100)) == []


def test_scan_errors(raw):
    assert raw.cmd_raw("SCAN", "abc") == E("ERR invalid cursor")
    assert raw.cmd_raw("SCAN", "0", "COUNT", "0") == SYNTAX
    assert raw.cmd_raw("SCAN", "0", "COUNT", "x") == NOTINT
    assert raw.cmd_raw("SCAN", "0", "FOO", "x") == SYNTAX
    assert raw.cmd_raw("SCAN", "0", "MATCH") == SYNTAX
    assert raw.cmd_raw("SCAN") == ARITY("scan")
    # empty keyspace: iteration ends with no keys (the cursor path may take
    # several calls in a sharded server; Redis answers "0" at once)
    cursor, calls = b"0", 0
    while True:
        cursor, batch = raw.cmd("SCAN", cursor)
        calls += 1
        assert batch == []
        if cursor == b"0" or calls > 10000:
            break
    assert cursor == b"0"


def test_randomkey(r, raw):
    assert raw.cmd_raw("RANDOMKEY") == NIL
    r.set("only", "v")
    assert raw.cmd_raw("RANDOMKEY") == bulk("only")
    for i in range(20):
        r.set("k%d" % i, "v")
    allkeys = set(r.keys("*"))
    for _ in range(20):
        assert r.randomkey() in allkeys
    assert raw.cmd_raw("RANDOMKEY", "x") == ARITY("randomkey")


# ---------------------------------------------------------------- RENAME / RENAMENX

def test_rename(r, raw):
    r.set("a", "1")
    assert raw.cmd_raw("RENAME", "a", "b") == OK
    assert r.get("b") == b"1" and r.exists("a") == 0
    r.set("c", "3", ex=100)
    assert raw.cmd_raw("RENAME", "b", "c") == OK  # overwrites, removes c's TTL
    assert r.get("c") == b"1"
    assert r.ttl("c") == -1
    assert raw.cmd_raw("RENAME", "c", "c") == OK
    assert r.get("c") == b"1"
    assert raw.cmd_raw("RENAME", "nokey", "x") == E("ERR no such key")
    assert raw.cmd_raw("RENAME", "a") == ARITY("rename")


def test_renamenx(r, raw):
    r.mset({"a": "1", "b": "2"})
    assert raw.cmd_raw("RENAMENX", "a", "b") == INT(0)
    assert raw.cmd_raw("RENAMENX", "a", "c") == INT(1)
    assert r.get("c") == b"1"
    assert raw.cmd_raw("RENAMENX", "c", "c") == INT(0)
    assert raw.cmd_raw("RENAMENX", "nokey", "x") == E("ERR no such key")
    assert raw.cmd_raw("RENAMENX", "a") == ARITY("renamenx")


# ---------------------------------------------------------------- COPY / MOVE (numeric dbs)

def test_copy(r, raw):
    r.set("src", "v", ex=100)
    assert raw.cmd_raw("COPY", "src", "dst") == INT(1)
    assert r.get("dst") == b"v"
    assert 99 <= r.ttl("dst") <= 100  # copy keeps TTL
    assert raw.cmd_raw("COPY", "src", "dst") == INT(0)
    r.set("src", "w")
    assert raw.cmd_raw("COPY", "src", "dst", "REPLACE") == INT(1)
    assert r.get("dst") == b"w"
    assert r.ttl("dst") == -1
    assert raw.cmd_raw("COPY", "nokey", "dst") == INT(0)
    assert raw.cmd_raw("COPY", "src", "src") == E("ERR source and destination objects are the same")
    assert raw.cmd_raw("COPY", "src", "dst", "FOO") == SYNTAX
    assert raw.cmd_raw("COPY", "src") == ARITY("copy")


def test_copy_db(r, raw):
    r.set("src", "v")
    assert raw.cmd_raw("COPY", "src", "dst", "DB", "1") == INT(1)
    assert r.exists("dst") == 0
    assert raw.cmd_raw("COPY", "src", "src", "DB", "1") == INT(1)
    assert raw.cmd_raw("COPY", "src", "src", "DB", "1") == INT(0)
    assert raw.cmd_raw("COPY", "src", "src", "DB", "1", "REPLACE") == INT(1)
    assert raw.cmd_raw("SELECT", "1") == OK
    assert raw.cmd_raw("MGET", "src", "dst") == b"*2\r\n$1\r\nv\r\n$1\r\nv\r\n"
    assert raw.cmd_raw("SELECT", "0") == OK
    assert raw.cmd_raw("COPY", "src", "x", "DB") == SYNTAX


def test_move(r, raw):
    r.set("k", "v", ex=100)
    assert raw.cmd_raw("MOVE", "k", "1") == INT(1)
    assert r.exists("k") == 0
    assert raw.cmd_raw("MOVE", "k", "1") == INT(0)
    assert raw.cmd_raw("SELECT", "1") == OK
    assert raw.cmd_raw("GET", "k") == bulk("v")
    ttl = raw.cmd("TTL", "k")
    assert 99 <= ttl <= 100
    assert raw.cmd_raw("SET", "x", "in1") == OK
    assert raw.cmd_raw("SELECT", "0") == OK
    r.set("x", "in0")
    assert raw.cmd_raw("MOVE", "x", "1") == INT(0)  # target exists
    assert r.get("x") == b"in0"
    assert raw.cmd_raw("MOVE", "x", "0") == E("ERR source and destination objects are the same")
    assert raw.cmd_raw("MOVE", "x") == ARITY("move")
