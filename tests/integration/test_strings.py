"""String commands: exact replies and error texts (Redis 7.0 compatible)."""
import time

import pytest
import redis

import kasi_harness as H


from kasi_harness import ARITY, E, INT, NIL, NOTFLOAT, NOTINT, OK, SYNTAX, bulk


# ---------------------------------------------------------------- GET / SET

def test_get_set_basic(r):
    assert r.get("k") is None
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "v2") is True
    assert r.get("k") == b"v2"


@pytest.mark.parametrize("size", [1, 5, 8, 100, 2040, 3000])
def test_overwrite_same_length_in_place(r, size):
    """A value of the same length (or the same 8-byte footprint) is written
    over the old one where it lies; the expiry, WATCH and every other reader
    must see exactly what a fresh item would give."""
    a, b, c, d = (bytes([x]) * size for x in b"abcd")
    r.set("k", a, px=100000)
    r.set("k", b, px=5000)
    assert r.get("k") == b
    assert 4000 < r.pttl("k") <= 5000
    r.set("k", c, keepttl=True)
    assert r.get("k") == c and 4000 < r.pttl("k") <= 5000
    r.set("k", d)
    assert r.get("k") == d and r.pttl("k") == -1
    assert r.getset("k", a) == d and r.get("k") == a
    # one byte shorter: the same footprint for most sizes
    r.set("k", b[:-1])
    assert r.get("k") == b[:-1] and r.strlen("k") == size - 1
    r.mset({"k": c})
    r.execute_command("MSET", "k", a, "k", b)
    assert r.get("k") == b
    w = r.pipeline(transaction=True)
    w.watch("k")
    r.set("k", c)
    w.multi()
    w.get("k")
    with pytest.raises(redis.WatchError):
        w.execute()
    assert r.get("k") == c


def test_incr_rewrites_in_place(r):
    r.set("n", "8")
    assert [r.incr("n") for _ in range(3)] == [9, 10, 11]
    assert r.get("n") == b"11"
    r.set("n", "99999999", px=60000)
    assert r.incr("n") == 100000000
    assert r.get("n") == b"100000000" and 0 < r.pttl("n") <= 60000
    assert r.decrby("n", 100000000) == 0 and r.get("n") == b"0"


def test_set_binary_safe(r):
    val = bytes(range(256)) * 4 + b"\r\n\x00$*-+:"
    key = b"\x00k\r\ney\xff"
    r.set(key, val)
    assert r.get(key) == val
    assert r.strlen(key) == len(val)


def test_set_empty_value_and_key(raw):
    assert raw.cmd_raw("SET", "", "") == OK
    assert raw.cmd_raw("GET", "") == b"$0\r\n\r\n"
    assert raw.cmd_raw("EXISTS", "") == INT(1)


def test_get_set_arity(raw):
    assert raw.cmd_raw("GET") == ARITY("get")
    assert raw.cmd_raw("GET", "a", "b") == ARITY("get")
    assert raw.cmd_raw("SET", "a") == ARITY("set")
    assert raw.cmd_raw("SET") == ARITY("set")


def test_set_nx_xx(raw):
    assert raw.cmd_raw("SET", "k", "1", "XX") == NIL
    assert raw.cmd_raw("EXISTS", "k") == INT(0)
    assert raw.cmd_raw("SET", "k", "1", "NX") == OK
    assert raw.cmd_raw("SET", "k", "2", "NX") == NIL
    assert raw.cmd_raw("GET", "k") == bulk("1")
    assert raw.cmd_raw("SET", "k", "3", "XX") == OK
    assert raw.cmd_raw("GET", "k") == bulk("3")
    assert raw.cmd_raw("SET", "k", "3", "NX", "XX") == SYNTAX
    assert raw.cmd_raw("SET", "k", "3", "xx", "nx") == SYNTAX


def test_set_options_case_insensitive(raw):
    assert raw.cmd_raw("set", "k", "1", "nx", "ex", "100") == OK
    assert raw.cmd_raw("ttl", "k") in (INT(100), INT(99))


def test_set_ex_px(r, raw):
    assert raw.cmd_raw("SET", "k", "v", "EX", "100") == OK
    assert 99 <= r.ttl("k") <= 100
    assert raw.cmd_raw("SET", "k", "v", "PX", "100000") == OK
    assert 99000 <= r.pttl("k") <= 100000
    # Plain SET clears the TTL.
    assert raw.cmd_raw("SET", "k", "v") == OK
    assert r.ttl("k") == -1


def test_set_exat_pxat(r, raw):
    now = int(time.time())
    assert raw.cmd_raw("SET", "k", "v", "EXAT", str(now + 1000)) == OK
    assert r.expiretime("k") == now + 1000
    assert raw.cmd_raw("SET", "k", "v", "PXAT", str(now * 1000 + 500123)) == OK
    assert r.pexpiretime("k") == now * 1000 + 500123
    # an absolute time in the past deletes the key
    assert raw.cmd_raw("SET", "k", "v", "EXAT", "1") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    assert raw.cmd_raw("EXISTS", "k") == INT(0)


@pytest.mark.parametrize("opt", ["EX", "PX", "EXAT", "PXAT"])
def test_set_invalid_expire(raw, opt):
    assert raw.cmd_raw("SET", "k", "v", opt, "0") == E("ERR invalid expire time in 'set' command")
    assert raw.cmd_raw("SET", "k", "v", opt, "-5") == E("ERR invalid expire time in 'set' command")
    assert raw.cmd_raw("SET", "k", "v", opt, "abc") == NOTINT
    assert raw.cmd_raw("SET", "k", "v", opt) == SYNTAX
    assert raw.cmd_raw("EXISTS", "k") == INT(0)


def test_set_expire_overflow(raw):
    assert raw.cmd_raw("SET", "k", "v", "EX", "9223372036854775807") == E("ERR invalid expire time in 'set' command")
    assert raw.cmd_raw("SET", "k", "v", "PX", "9223372036854775807") == E("ERR invalid expire time in 'set' command")
    assert raw.cmd_raw("SET", "k", "v", "EX", "9223372036854775808") == NOTINT


def test_set_conflicting_expire_options(raw):
    for a, b in [("EX", "PX"), ("EX", "EXAT"), ("PX", "PXAT"), ("EXAT", "PXAT")]:
        assert raw.cmd_raw("SET", "k", "v", a, "100", b, "100") == SYNTAX
    assert raw.cmd_raw("SET", "k", "v", "EX", "100", "KEEPTTL") == SYNTAX
    assert raw.cmd_raw("SET", "k", "v", "KEEPTTL", "PX", "100") == SYNTAX
    assert raw.cmd_raw("SET", "k", "v", "BOGUS") == SYNTAX


def test_set_keepttl(r, raw):
    r.set("k", "v", ex=1000)
    assert raw.cmd_raw("SET", "k", "v2", "KEEPTTL") == OK
    assert r.get("k") == b"v2"
    assert 990 <= r.ttl("k") <= 1000
    assert raw.cmd_raw("SET", "nokey", "v", "KEEPTTL") == OK
    assert r.ttl("nokey") == -1


def test_set_get_option(r, raw):
    assert raw.cmd_raw("SET", "k", "a", "GET") == NIL
    assert raw.cmd_raw("SET", "k", "b", "GET") == bulk("a")
    assert r.get("k") == b"b"
    # NX + GET is allowed since 7.0: returns old value, doesn't set
    assert raw.cmd_raw("SET", "k", "c", "NX", "GET") == bulk("b")
    assert r.get("k") == b"b"
    assert raw.cmd_raw("SET", "new", "c", "NX", "GET") == NIL
    assert r.get("new") == b"c"
    # XX + GET on missing key
    assert raw.cmd_raw("SET", "missing", "x", "XX", "GET") == NIL
    assert r.exists("missing") == 0
    assert raw.cmd_raw("SET", "k", "d", "XX", "GET") == bulk("b")
    assert r.get("k") == b"d"


def test_set_get_with_keepttl_and_ex(r, raw):
    r.set("k", "v", ex=500)
    assert raw.cmd_raw("SET", "k", "w", "GET", "KEEPTTL") == bulk("v")
    assert 490 <= r.ttl("k") <= 500
    assert raw.cmd_raw("SET", "k", "x", "GET", "EX", "50") == bulk("w")
    assert 45 <= r.ttl("k") <= 50


# ---------------------------------------------------------------- SETNX / SETEX / PSETEX / GETSET

def test_setnx(raw):
    assert raw.cmd_raw("SETNX", "k", "1") == INT(1)
    assert raw.cmd_raw("SETNX", "k", "2") == INT(0)
    assert raw.cmd_raw("GET", "k") == bulk("1")
    assert raw.cmd_raw("SETNX", "k") == ARITY("setnx")


def test_setex_psetex(r, raw):
    assert raw.cmd_raw("SETEX", "k", "100", "v") == OK
    assert r.get("k") == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert raw.cmd_raw("PSETEX", "p", "100000", "v") == OK
    assert 99000 <= r.pttl("p") <= 100000
    assert raw.cmd_raw("SETEX", "k", "0", "v") == E("ERR invalid expire time in 'setex' command")
    assert raw.cmd_raw("SETEX", "k", "-1", "v") == E("ERR invalid expire time in 'setex' command")
    assert raw.cmd_raw("PSETEX", "k", "0", "v") == E("ERR invalid expire time in 'psetex' command")
    assert raw.cmd_raw("SETEX", "k", "x", "v") == NOTINT
    assert raw.cmd_raw("SETEX", "k", "10") == ARITY("setex")
    assert raw.cmd_raw("PSETEX", "k", "10") == ARITY("psetex")


def test_getset(r, raw):
    assert raw.cmd_raw("GETSET", "k", "a") == NIL
    assert raw.cmd_raw("GETSET", "k", "b") == bulk("a")
    assert r.get("k") == b"b"
    r.set("t", "v", ex=100)
    raw.cmd_raw("GETSET", "t", "w")
    assert r.ttl("t") == -1  # GETSET discards the TTL
    assert raw.cmd_raw("GETSET", "k") == ARITY("getset")


def test_getdel(r, raw):
    r.set("k", "v")
    assert raw.cmd_raw("GETDEL", "k") == bulk("v")
    assert raw.cmd_raw("GETDEL", "k") == NIL
    assert r.exists("k") == 0
    assert raw.cmd_raw("GETDEL") == ARITY("getdel")


def test_getex(r, raw):
    assert raw.cmd_raw("GETEX", "nokey") == NIL
    assert raw.cmd_raw("GETEX", "nokey", "EX", "10") == NIL
    assert r.exists("nokey") == 0
    r.set("k", "v")
    assert raw.cmd_raw("GETEX", "k") == bulk("v")
    assert r.ttl("k") == -1
    assert raw.cmd_raw("GETEX", "k", "EX", "100") == bulk("v")
    assert 99 <= r.ttl("k") <= 100
    assert raw.cmd_raw("GETEX", "k", "PX", "50000") == bulk("v")
    assert 49000 <= r.pttl("k") <= 50000
    now = int(time.time())
    assert raw.cmd_raw("GETEX", "k", "EXAT", str(now + 777)) == bulk("v")
    assert r.expiretime("k") == now + 777
    assert raw.cmd_raw("GETEX", "k", "PXAT", str(now * 1000 + 888888)) == bulk("v")
    assert r.pexpiretime("k") == now * 1000 + 888888
    assert raw.cmd_raw("GETEX", "k", "PERSIST") == bulk("v")
    assert r.ttl("k") == -1


def test_getex_errors(r, raw):
    r.set("k", "v")
    assert raw.cmd_raw("GETEX", "k", "EX", "0") == E("ERR invalid expire time in 'getex' command")
    assert raw.cmd_raw("GETEX", "k", "EX", "-1") == E("ERR invalid expire time in 'getex' command")
    assert raw.cmd_raw("GETEX", "k", "EX", "abc") == NOTINT
    assert raw.cmd_raw("GETEX", "k", "EX") == SYNTAX
    assert raw.cmd_raw("GETEX", "k", "EX", "10", "PX", "10") == SYNTAX
    assert raw.cmd_raw("GETEX", "k", "PERSIST", "EX", "10") == SYNTAX
    assert raw.cmd_raw("GETEX", "k", "KEEPTTL") == SYNTAX
    assert raw.cmd_raw("GETEX") == ARITY("getex")
    assert r.ttl("k") == -1


def test_getex_past_time_deletes(r, raw):
    r.set("k", "v")
    assert raw.cmd_raw("GETEX", "k", "EXAT", "1") == bulk("v")
    assert r.exists("k") == 0


# ---------------------------------------------------------------- APPEND / STRLEN

def test_append_strlen(raw):
    assert raw.cmd_raw("STRLEN", "k") == INT(0)
    assert raw.cmd_raw("APPEND", "k", "hello") == INT(5)
    assert raw.cmd_raw("APPEND", "k", " world") == INT(11)
    assert raw.cmd_raw("GET", "k") == bulk("hello world")
    assert raw.cmd_raw("STRLEN", "k") == INT(11)
    assert raw.cmd_raw("APPEND", "k", "") == INT(11)
    assert raw.cmd_raw("APPEND", "k") == ARITY("append")
    assert raw.cmd_raw("STRLEN") == ARITY("strlen")


def test_append_to_integer(raw):
    raw.cmd_raw("SET", "n", "10")
    assert raw.cmd_raw("INCR", "n") == INT(11)
    assert raw.cmd_raw("APPEND", "n", "5") == INT(3)
    assert raw.cmd_raw("GET", "n") == bulk("115")
    assert raw.cmd_raw("INCR", "n") == INT(116)


def test_append_keeps_ttl(r):
    r.set("k", "a", ex=100)
    r.append("k", "b")
    assert 99 <= r.ttl("k") <= 100


# ---------------------------------------------------------------- GETRANGE / SUBSTR / SETRANGE

@pytest.mark.parametrize("start,end,expected", [
    (0, 3, "This"), (-3, -1, "ing"), (0, -1, "This is a string"),
    (10, 100, "string"), (5, 3, ""), (-100, 3, "This"), (-1, -5, ""),
    (100, 200, ""), (0, 0, "T"), (-1, -1, "g"), (15, 15, "g"), (16, 16, ""),
])
def test_getrange(raw, start, end, expected):
    raw.cmd_raw("SET", "k", "This is a string")
    assert raw.cmd_raw("GETRANGE", "k", str(start), str(end)) == bulk(expected)
    assert raw.cmd_raw("SUBSTR", "k", str(start), str(end)) == bulk(expected)


def test_getrange_errors(raw):
    assert raw.cmd_raw("GETRANGE", "nokey", "0", "-1") == bulk("")
    raw.cmd_raw("SET", "k", "abc")
    assert raw.cmd_raw("GETRANGE", "k", "a", "1") == NOTINT
    assert raw.cmd_raw("GETRANGE", "k", "0") == ARITY("getrange")
    assert raw.cmd_raw("SUBSTR", "k", "0") == ARITY("substr")


def test_setrange(raw):
    raw.cmd_raw("SET", "k", "Hello World")
    assert raw.cmd_raw("SETRANGE", "k", "6", "Redis") == INT(11)
    assert raw.cmd_raw("GET", "k") == bulk("Hello Redis")
    assert raw.cmd_raw("SETRANGE", "k", "11", "!!") == INT(13)
    assert raw.cmd_raw("GET", "k") == bulk("Hello Redis!!")


def test_setrange_padding(raw):
    assert raw.cmd_raw("SETRANGE", "p", "5", "x") == INT(6)
    assert raw.cmd_raw("GET", "p") == bulk(b"\x00\x00\x00\x00\x00x")
    # empty value on missing key does not create it
    assert raw.cmd_raw("SETRANGE", "q", "10", "") == INT(0)
    assert raw.cmd_raw("EXISTS", "q") == INT(0)
    # empty value on existing key returns length, no change
    assert raw.cmd_raw("SETRANGE", "p", "100", "") == INT(6)


def test_setrange_errors(raw):
    assert raw.cmd_raw("SETRANGE", "k", "-1", "x") == E("ERR offset is out of range")
    assert raw.cmd_raw("SETRANGE", "k", "abc", "x") == NOTINT
    assert raw.cmd_raw("SETRANGE", "k", "536870912", "x") == E(
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    assert raw.cmd_raw("SETRANGE", "k", "0") == ARITY("setrange")
    assert raw.cmd_raw("EXISTS", "k") == INT(0)


# ---------------------------------------------------------------- INCR family

def test_incr_decr(raw):
    assert raw.cmd_raw("INCR", "n") == INT(1)
    assert raw.cmd_raw("INCR", "n") == INT(2)
    assert raw.cmd_raw("DECR", "n") == INT(1)
    assert raw.cmd_raw("DECR", "m") == INT(-1)
    assert raw.cmd_raw("INCRBY", "n", "100") == INT(101)
    assert raw.cmd_raw("INCRBY", "n", "-200") == INT(-99)
    assert raw.cmd_raw("DECRBY", "n", "1") == INT(-100)
    assert raw.cmd_raw("DECRBY", "n", "-1000") == INT(900)
    assert raw.cmd_raw("GET", "n") == bulk("900")


def test_incr_errors(raw):
    raw.cmd_raw("SET", "s", "abc")
    assert raw.cmd_raw("INCR", "s") == NOTINT
    raw.cmd_raw("SET", "s", "1.5")
    assert raw.cmd_raw("INCR", "s") == NOTINT
    raw.cmd_raw("SET", "s", " 1")
    assert raw.cmd_raw("INCR", "s") == NOTINT
    raw.cmd_raw("SET", "s", "01")
    assert raw.cmd_raw("INCR", "s") == NOTINT
    raw.cmd_raw("SET", "s", "")
    assert raw.cmd_raw("INCR", "s") == NOTINT
    assert raw.cmd_raw("INCRBY", "n", "x") == NOTINT
    assert raw.cmd_raw("INCRBY", "n", "1.0") == NOTINT
    assert raw.cmd_raw("DECRBY", "n", "") == NOTINT
    assert raw.cmd_raw("INCR") == ARITY("incr")
    assert raw.cmd_raw("INCRBY", "n") == ARITY("incrby")
    assert raw.cmd_raw("DECRBY", "n") == ARITY("decrby")
    assert raw.cmd_raw("DECR", "a", "b") == ARITY("decr")


def test_incr_overflow(raw):
    raw.cmd_raw("SET", "n", "9223372036854775807")
    assert raw.cmd_raw("INCR", "n") == E("ERR increment or decrement would overflow")
    assert raw.cmd_raw("GET", "n") == bulk("9223372036854775807")
    raw.cmd_raw("SET", "n", "-9223372036854775808")
    assert raw.cmd_raw("DECR", "n") == E("ERR increment or decrement would overflow")
    assert raw.cmd_raw("INCRBY", "n", "-1") == E("ERR increment or decrement would overflow")
    raw.cmd_raw("SET", "n", "9223372036854775808")
    assert raw.cmd_raw("INCR", "n") == NOTINT
    raw.cmd_raw("SET", "z", "0")
    assert raw.cmd_raw("DECRBY", "z", "-9223372036854775808") == E("ERR decrement would overflow")
    assert raw.cmd_raw("INCRBY", "z", "9223372036854775807") == INT(9223372036854775807)


def test_incr_keeps_ttl(r):
    r.set("n", "1", ex=100)
    r.incr("n")
    assert 99 <= r.ttl("n") <= 100


@pytest.mark.parametrize("init,incr,expected", [
    ("10.50", "0.1", "10.6"),
    ("10", "0.5", "10.5"),
    ("5.0e3", "2.0e2", "5200"),
    ("0", "3.0e3", "3000"),
    ("1", "-1", "0"),
    ("3", "1.5", "4.5"),
    ("0", "0.1", "0.1"),
    ("-1", "-0.25", "-1.25"),
    ("1e10", "1", "10000000001"),
    ("0", "1e-5", "0.00001"),
    ("0", "17179869184", "17179869184"),
])
def test_incrbyfloat_formatting(raw, init, incr, expected):
    raw.cmd_raw("SET", "f", init)
    assert raw.cmd_raw("INCRBYFLOAT", "f", incr) == bulk(expected)
    assert raw.cmd_raw("GET", "f") == bulk(expected)


def test_incrbyfloat_missing_key(raw):
    assert raw.cmd_raw("INCRBYFLOAT", "f", "2.5") == bulk("2.5")
    assert raw.cmd_raw("INCRBYFLOAT", "f", "2.5") == bulk("5")


def test_incrbyfloat_errors(raw):
    raw.cmd_raw("SET", "s", "abc")
    assert raw.cmd_raw("INCRBYFLOAT", "s", "1") == NOTFLOAT
    assert raw.cmd_raw("INCRBYFLOAT", "f", "abc") == NOTFLOAT
    assert raw.cmd_raw("INCRBYFLOAT", "f", "") == NOTFLOAT
    assert raw.cmd_raw("INCRBYFLOAT", "f", "1.5 ") == NOTFLOAT
    assert raw.cmd_raw("INCRBYFLOAT", "f", "nan") == NOTFLOAT
    assert raw.cmd_raw("INCRBYFLOAT", "f", "inf") == E("ERR increment would produce NaN or Infinity")
    assert raw.cmd_raw("INCRBYFLOAT", "f", "-inf") == E("ERR increment would produce NaN or Infinity")
    assert raw.cmd_raw("INCRBYFLOAT", "f") == ARITY("incrbyfloat")
    assert raw.cmd_raw("EXISTS", "f") == INT(0)


# ---------------------------------------------------------------- MGET / MSET / MSETNX

def test_mget_mset(raw):
    assert raw.cmd_raw("MSET", "a", "1", "b", "2", "c", "3") == OK
    assert raw.cmd_raw("MGET", "a", "b", "nokey", "c") == (
        b"*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n")
    assert raw.cmd_raw("MSET", "a", "x", "a", "y") == OK
    assert raw.cmd_raw("GET", "a") == bulk("y")
    assert raw.cmd_raw("MSET", "a") == ARITY("mset")
    assert raw.cmd_raw("MSET", "a", "1", "b") == ARITY("mset")
    assert raw.cmd_raw("MSET") == ARITY("mset")
    assert raw.cmd_raw("MGET") == ARITY("mget")


def test_mset_clears_ttl(r):
    r.set("a", "1", ex=100)
    r.mset({"a": "2"})
    assert r.ttl("a") == -1


def test_msetnx(raw):
    assert raw.cmd_raw("MSETNX", "a", "1", "b", "2") == INT(1)
    assert raw.cmd_raw("MSETNX", "b", "x", "c", "3") == INT(0)
    assert raw.cmd_raw("EXISTS", "c") == INT(0)
    assert raw.cmd_raw("GET", "b") == bulk("2")
    assert raw.cmd_raw("MSETNX", "a") == ARITY("msetnx")
    assert raw.cmd_raw("MSETNX", "a", "1", "b") == ARITY("msetnx")


def test_mget_many(r):
    kv = {("key:%d" % i).encode(): ("val:%d" % i).encode() for i in range(1000)}
    r.mset(kv)
    keys = list(kv)
    assert r.mget(keys) == [kv[k] for k in keys]


# ---------------------------------------------------------------- LCS

def test_lcs_basic(raw):
    raw.cmd_raw("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert raw.cmd_raw("LCS", "key1", "key2") == bulk("mytext")
    assert raw.cmd_raw("LCS", "key1", "key2", "LEN") == INT(6)
    assert raw.cmd_raw("LCS", "key1", "nokey") == bulk("")
    assert raw.cmd_raw("LCS", "nokey", "nokey2", "LEN") == INT(0)


def test_lcs_idx(raw):
    raw.cmd_raw("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert raw.cmd_raw("LCS", "key1", "key2", "IDX") == (
        b"*4\r\n$7\r\nmatches\r\n*2\r\n"
        b"*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
        b"*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
        b"$3\r\nlen\r\n:6\r\n")
    assert raw.cmd_raw("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4") == (
        b"*4\r\n$7\r\nmatches\r\n*1\r\n"
        b"*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
        b"$3\r\nlen\r\n:6\r\n")
    assert raw.cmd_raw("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == (
        b"*4\r\n$7\r\nmatches\r\n*1\r\n"
        b"*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
        b"$3\r\nlen\r\n:6\r\n")


def test_lcs_errors(raw):
    raw.cmd_raw("MSET", "a", "x", "b", "y")
    assert raw.cmd_raw("LCS", "a", "b", "LEN", "IDX") == E(
        "ERR If you want both the length and indexes, please just use IDX.")
    assert raw.cmd_raw("LCS", "a", "b", "FOO") == SYNTAX
    assert raw.cmd_raw("LCS", "a", "b", "MINMATCHLEN") == SYNTAX
    assert raw.cmd_raw("LCS", "a", "b", "MINMATCHLEN", "x") == NOTINT
    assert raw.cmd_raw("LCS", "a") == ARITY("lcs")


def test_lcs_larger(r):
    a = b"ACCGGTCGAGTGCGCGGAAGCCGGCCGAA" * 20
    b = b"GTCGTTCGGAATGCCGTTGCTCTGTAAA" * 20
    r.mset({"a": a, "b": b})
    n = r.execute_command("LCS", "a", "b", "LEN")
    s = r.execute_command("LCS", "a", "b")
    assert len(s) == n
    # s must be a subsequence of both
    for src in (a, b):
        it = iter(src)
        assert all(ch in it for ch in s)


def test_value_100mb(r):
    val = b"0123456789abcdef" * (100 * 1024 * 1024 // 16)
    assert r.set("huge", val)
    assert r.strlen("huge") == len(val)
    got = r.get("huge")
    assert got == val
    del got
    assert r.getrange("huge", -5, -1) == b"bcdef"
    assert r.delete("huge") == 1


def test_setrange_large_offset(r):
    off = 64 * 1024 * 1024
    assert r.setrange("sr", off, "end") == off + 3
    assert r.strlen("sr") == off + 3
    assert r.getrange("sr", off - 2, -1) == b"\x00\x00end"
    assert r.getrange("sr", 0, 3) == b"\x00\x00\x00\x00"


def _used_memory(r):
    return int(r.info("memory")["used_memory"])


def _rss_kb(srv):
    return H.vmrss_kb(srv.pid)


def test_many_appends_memory_and_time(srv, r):
    """2000 x 1 KB APPENDs to one key build a 2 MB value; the server must not
    keep every intermediate copy (memory) nor take quadratic time."""
    rss0 = _rss_kb(srv)
    chunk = b"x" * 1024
    t0 = time.monotonic()
    p = r.pipeline(transaction=False)
    for _ in range(2000):
        p.append("grow", chunk)
    res = p.execute()
    elapsed = time.monotonic() - t0
    assert res[:3] == [1024, 2048, 3072]
    assert res[-1] == 2000 * 1024
    assert r.strlen("grow") == 2000 * 1024
    grew = _rss_kb(srv) - rss0
    assert grew < 100 * 1024, "RSS grew by %d MB for a 2 MB value" % (grew // 1024)
    assert elapsed < 5 * H.TIME_FACTOR, "2000 APPENDs took %.1fs" % elapsed


def test_setrange_growth_memory(srv, r):
    rss0 = _rss_kb(srv)
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.setrange("sgrow", i * 1024, b"q" * 1024)
    assert p.execute()[-1] == 2000 * 1024
    grew = _rss_kb(srv) - rss0
    assert grew < 100 * 1024, "RSS grew by %d MB for a 2 MB value" % (grew // 1024)


def test_memory_released_after_del(srv, r):
    base = _used_memory(r)
    for i in range(4):
        r.set("blob%d" % i, b"b" * (32 * 1024 * 1024))
    assert _used_memory(r) >= base + 100 * 1024 * 1024
    assert r.delete(*["blob%d" % i for i in range(4)]) == 4
    assert H.wait_for(lambda: _used_memory(r) < base + 16 * 1024 * 1024, 3, 0.05), \
        "used_memory %d still high after DEL (base %d)" % (_used_memory(r), base)


def test_overwrite_same_key_memory(srv, r):
    """1000 overwrites of one 1 MB key (a 1 MB dataset, ~1 GB written):
    memory must track the live data, not the write volume, even while the
    writer is going fast (no maxmemory configured)."""
    base = _used_memory(r)
    rss0 = _rss_kb(srv)
    val = b"o" * (1024 * 1024)
    peak_used, peak_rss = 0, 0
    for i in range(1000):
        r.set("ow", val)
        if i % 100 == 99:
            peak_used = max(peak_used, _used_memory(r) - base)
            peak_rss = max(peak_rss, _rss_kb(srv) - rss0)
    assert peak_used < 256 * 1024 * 1024, "used_memory peaked %d MB above base" % (peak_used >> 20)
    assert peak_rss < 384 * 1024, "RSS peaked %d MB above start" % (peak_rss >> 10)
    assert H.wait_for(lambda: _used_memory(r) < base + 32 * 1024 * 1024, 3, 0.05), \
        "used_memory still %d MB above base" % ((_used_memory(r) - base) >> 20)


def test_mset_100k_pairs_one_command(r):
    args = []
    for i in range(100000):
        args += ["m%d" % i, "v%d" % i]
    assert r.execute_command("MSET", *args) is True
    assert r.dbsize() == 100000
    assert r.mget("m0", "m99999", "m100000") == [b"v0", b"v99999", None]
    assert r.execute_command("DEL", *["m%d" % i for i in range(0, 100000, 2)]) == 50000
