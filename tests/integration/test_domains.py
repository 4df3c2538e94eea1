"""Kasi domains: named keyspaces selected with SELECT <name>."""
import re

import pytest

from kasi_harness import E, INT, NIL, OK, bulk

kasi_only = pytest.mark.kasi_only


def kasi_info(raw):
    text = raw.cmd("INFO", "kasi").decode()
    return dict(l.split(":", 1) for l in text.split("\r\n") if ":" in l)


def keyspace_lines(raw):
    text = raw.cmd("INFO", "keyspace").decode()
    return sorted(l for l in text.split("\r\n") if l and not l.startswith("#"))


@kasi_only
def test_named_domains_isolated(raw):
    raw.cmd_raw("SET", "k", "default-val")
    assert raw.cmd_raw("SELECT", "users") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    raw.cmd_raw("SET", "k", "users-val")
    assert raw.cmd_raw("SELECT", "sessions") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    assert raw.cmd_raw("SELECT", "users") == OK
    assert raw.cmd_raw("GET", "k") == bulk("users-val")
    assert raw.cmd_raw("SELECT", "default") == OK
    assert raw.cmd_raw("GET", "k") == bulk("default-val")


@kasi_only
def test_select_0_is_default(raw):
    assert raw.cmd_raw("SELECT", "default") == OK
    raw.cmd_raw("SET", "k", "v")
    assert raw.cmd_raw("SELECT", "0") == OK
    assert raw.cmd_raw("GET", "k") == bulk("v")
    assert raw.cmd_raw("SELECT", "1") == OK
    assert raw.cmd_raw("GET", "k") == NIL


@kasi_only
def test_numbers_beyond_16_are_names(raw):
    assert raw.cmd_raw("SELECT", "16") == OK
    raw.cmd_raw("SET", "k", "sixteen")
    assert raw.cmd_raw("SELECT", "99999") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    assert raw.cmd_raw("SELECT", "-1") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    assert raw.cmd_raw("SELECT", "16") == OK
    assert raw.cmd_raw("GET", "k") == bulk("sixteen")


@kasi_only
def test_binary_safe_domain_names(raw):
    name = b"dom\x00ain \r\n\xff"
    assert raw.cmd_raw("SELECT", name) == OK
    raw.cmd_raw("SET", "k", "bin")
    assert raw.cmd_raw("SELECT", b"dom\x00ain \r\n") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    assert raw.cmd_raw("SELECT", name) == OK
    assert raw.cmd_raw("GET", "k") == bulk("bin")


@kasi_only
def test_domain_name_length_limit(raw):
    assert raw.cmd_raw("SELECT", "a" * 256) == OK
    raw.cmd_raw("SET", "k", "v")
    reply = raw.cmd_raw("SELECT", "b" * 257)
    assert reply.startswith(b"-ERR"), reply
    # still in the 256-byte domain after the failed SELECT
    assert raw.cmd_raw("GET", "k") == bulk("v")


@kasi_only
def test_domain_per_connection(srv):
    with srv.raw() as a, srv.raw() as b:
        a.cmd_raw("SELECT", "app")
        a.cmd_raw("SET", "k", "app")
        assert b.cmd_raw("GET", "k") == NIL
        b.cmd_raw("SELECT", "app")
        assert b.cmd_raw("GET", "k") == bulk("app")


@kasi_only
def test_move_between_named_domains(raw):
    raw.cmd_raw("SELECT", "src")
    raw.cmd_raw("SET", "k", "v", "EX", "1000")
    assert raw.cmd_raw("MOVE", "k", "dst") == INT(1)
    assert raw.cmd_raw("EXISTS", "k") == INT(0)
    assert raw.cmd_raw("MOVE", "k", "dst") == INT(0)
    raw.cmd_raw("SELECT", "dst")
    assert raw.cmd_raw("GET", "k") == bulk("v")
    assert 990 <= raw.cmd("TTL", "k") <= 1000
    assert raw.cmd_raw("MOVE", "k", "dst") == E("ERR source and destination objects are the same")
    assert raw.cmd_raw("MOVE", "k", "default") == INT(1)
    raw.cmd_raw("SELECT", "0")
    assert raw.cmd_raw("GET", "k") == bulk("v")
    # MOVE to "0" from default is the same domain
    assert raw.cmd_raw("MOVE", "k", "0") == E("ERR source and destination objects are the same")


@kasi_only
def test_copy_db_between_named_domains(raw):
    raw.cmd_raw("SET", "k", "v")
    assert raw.cmd_raw("COPY", "k", "k", "DB", "other") == INT(1)
    assert raw.cmd_raw("COPY", "k", "k", "DB", "other") == INT(0)
    raw.cmd_raw("SET", "k", "v2")
    assert raw.cmd_raw("COPY", "k", "k", "DB", "other", "REPLACE") == INT(1)
    raw.cmd_raw("SELECT", "other")
    assert raw.cmd_raw("GET", "k") == bulk("v2")
    raw.cmd_raw("SET", "k", "changed")
    raw.cmd_raw("SELECT", "default")
    assert raw.cmd_raw("GET", "k") == bulk("v2")  # a real copy, not shared


@kasi_only
def test_flushdb_only_current_domain(raw):
    for d in ("a", "b", "default"):
        raw.cmd_raw("SELECT", d)
        raw.cmd_raw("SET", "k", d)
    raw.cmd_raw("SELECT", "a")
    assert raw.cmd_raw("FLUSHDB") == OK
    assert raw.cmd_raw("DBSIZE") == INT(0)
    raw.cmd_raw("SELECT", "b")
    assert raw.cmd_raw("GET", "k") == bulk("b")
    assert raw.cmd_raw("FLUSHALL") == OK
    for d in ("a", "b", "default"):
        raw.cmd_raw("SELECT", d)
        assert raw.cmd_raw("DBSIZE") == INT(0)


@kasi_only
def test_info_keyspace_named(raw):
    raw.cmd_raw("MSET", "a", "1", "b", "2", "c", "3")
    raw.cmd_raw("EXPIRE", "a", "1000")
    raw.cmd_raw("SELECT", "users")
    raw.cmd_raw("SET", "u", "1")
    raw.cmd_raw("SELECT", "empty")
    raw.cmd_raw("SET", "e", "1")
    raw.cmd_raw("DEL", "e")
    raw.cmd_raw("SELECT", "12")
    raw.cmd_raw("SET", "n", "1")
    raw.cmd_raw("SELECT", "012")      # a name, not the number 12
    raw.cmd_raw("SET", "n", "1")
    # Redis's dbN lines, which redis-cli --stat and the Prometheus exporter
    # read: "default" is db0, a domain named by a number is that db; the
    # other names are listed in INFO kasi
    assert keyspace_lines(raw) == ["db0:keys=3,expires=1,avg_ttl=0",
                                   "db12:keys=1,expires=0,avg_ttl=0"]
    info = kasi_info(raw)
    assert info["domain_users"].startswith("keys=1,expires=0,")
    assert info["domain_012"].startswith("keys=1,expires=0,")
    assert info["domain_default"].startswith("keys=3,expires=1,")


@kasi_only
def test_info_kasi_section(raw):
    raw.cmd_raw("SELECT", "stats")
    raw.cmd_raw("SET", "a", "1")
    raw.cmd_raw("SET", "b", "1", "EX", "1000")
    raw.cmd_raw("GET", "a")
    raw.cmd_raw("GET", "a")
    raw.cmd_raw("GET", "nokey")
    info = kasi_info(raw)
    assert int(info["domains"]) >= 1
    line = info["domain_stats"]
    m = re.fullmatch(r"keys=(\d+),expires=(\d+),hits=(\d+),misses=(\d+),sets=(\d+)", line)
    assert m, line
    keys, expires, hits, misses, sets = map(int, m.groups())
    assert (keys, expires) == (2, 1)
    assert hits >= 2 and misses >= 1 and sets >= 2


@kasi_only
def test_info_server_kasi_version(raw):
    text = raw.cmd("INFO", "server").decode()
    assert re.search(r"\r\nkasi_version:\S+\r\n", text), text
    assert "redis_version:7.0.15\r\n" in text
    text = raw.cmd("INFO", "cluster").decode()
    assert "cluster_enabled:0" in text


@kasi_only
def test_max_domains(server_factory):
    s = server_factory({"max-domains": "4"})
    with s.raw() as c:
        # "default" counts once it holds keys
        for d in ("default", "d1", "d2", "d3"):
            assert c.cmd_raw("SELECT", d) == OK
            assert c.cmd_raw("SET", "k", "v") == OK
        replies = []
        for d in ("d4", "d5"):
            r1 = c.cmd_raw("SELECT", d)
            r2 = c.cmd_raw("SET", "k", "v")
            replies.append((r1, r2))
        errs = [x for pair in replies for x in pair if x.startswith(b"-")]
        assert errs, replies
        assert all(b"max-domains" in e for e in errs), errs
        # existing domains still work
        assert c.cmd_raw("SELECT", "d2") == OK
        assert c.cmd_raw("GET", "k") == bulk("v")
        # after FLUSHALL the slots are free again
        assert c.cmd_raw("FLUSHALL") == OK
        for d in ("x1", "x2", "x3"):
            assert c.cmd_raw("SELECT", d) == OK
            assert c.cmd_raw("SET", "k", "v") == OK


def test_select_1_separate_keyspace_both_servers(raw):
    raw.cmd_raw("SET", "k", "zero")
    assert raw.cmd_raw("SELECT", "1") == OK
    assert raw.cmd_raw("GET", "k") == NIL
    assert raw.cmd_raw("DBSIZE") == INT(0)


@kasi_only
def test_max_domains_exact_boundary(server_factory):
    """max-domains N allows exactly N distinct non-empty domains."""
    s = server_factory({"max-domains": "3"})
    with s.raw() as c:
        for d in ("a", "b", "c"):
            assert c.cmd_raw("SELECT", d) == OK
            assert c.cmd_raw("SET", "k", "v") == OK
        r1 = c.cmd_raw("SELECT", "d")
        r2 = c.cmd_raw("SET", "k", "v") if r1 == OK else b""
        err = r1 if r1 != OK else r2
        assert err.startswith(b"-ERR") and b"max-domains" in err, (r1, r2)
        # writing into existing domains still works, including new keys
        assert c.cmd_raw("SELECT", "b") == OK
        assert c.cmd_raw("SET", "k2", "v") == OK


@kasi_only
def test_max_domains_move_copy(server_factory):
    s = server_factory({"max-domains": "2"})
    with s.raw() as c:
        assert c.cmd_raw("SET", "k", "v") == OK          # default
        assert c.cmd_raw("COPY", "k", "k", "DB", "one") == INT(1)  # 2nd domain
        mv = c.cmd_raw("MOVE", "k", "two")
        assert mv.startswith(b"-ERR") and b"max-domains" in mv, mv
        cp = c.cmd_raw("COPY", "k", "k", "DB", "three")
        assert cp.startswith(b"-ERR") and b"max-domains" in cp, cp
        assert c.cmd_raw("GET", "k") == bulk("v")  # failed MOVE kept the key
        assert c.cmd_raw("MOVE", "k", "one") == INT(0)  # exists there already


@kasi_only
def test_emptied_domain_frees_slot(server_factory):
    """Only NON-EMPTY domains count: a domain emptied by FLUSHDB/DEL no longer
    occupies a max-domains slot (even if a connection still has it selected)."""
    s = server_factory({"max-domains": "2"})
    with s.raw() as c:
        assert c.cmd_raw("SET", "k", "v") == OK  # default: 1st non-empty
        assert c.cmd_raw("SELECT", "a") == OK
        assert c.cmd_raw("SET", "k", "v") == OK  # a: 2nd non-empty
        assert c.cmd_raw("FLUSHDB") == OK        # a is empty again
        assert c.cmd_raw("SELECT", "b") == OK
        assert c.cmd_raw("SET", "k", "v") == OK
        assert c.cmd_raw("DEL", "k") == INT(1)   # b empty again
        assert c.cmd_raw("SELECT", "c") == OK
        assert c.cmd_raw("SET", "k", "v") == OK


@kasi_only
def test_domain_commands_scoped(raw):
    raw.cmd_raw("SELECT", "s1")
    raw.cmd_raw("MSET", "a", "1", "b", "2", "c", "3")
    raw.cmd_raw("SELECT", "s2")
    raw.cmd_raw("MSET", "x", "1")
    assert raw.cmd_raw("DBSIZE") == INT(1)
    assert raw.cmd("KEYS", "*") == [b"x"]
    assert raw.cmd("SCAN", "0", "COUNT", "100") == [b"0", [b"x"]]
    assert raw.cmd_raw("RANDOMKEY") == bulk("x")
    assert raw.cmd_raw("EXISTS", "a", "b", "x") == INT(1)
    assert raw.cmd_raw("RENAME", "a", "z") == E("ERR no such key")
    raw.cmd_raw("SELECT", "s1")
    assert sorted(raw.cmd("KEYS", "*")) == [b"a", b"b", b"c"]


@kasi_only
def test_selected_but_empty_domains_do_not_count(server_factory):
    """Contract: the limit is on distinct NON-EMPTY domains.  Connections that
    merely SELECT a name (and store nothing) must not use up the slots."""
    s = server_factory({"max-domains": "2"})
    idle = [s.raw() for _ in range(3)]
    try:
        for i, c in enumerate(idle):
            assert c.cmd_raw("SELECT", "idle%d" % i) == OK
        with s.raw() as c:
            for d in ("a", "b"):
                assert c.cmd_raw("SELECT", d) == OK, d
                assert c.cmd_raw("SET", "k", "v") == OK, d
    finally:
        for c in idle:
            c.close()


@kasi_only
def test_info_kasi_domain_counters_exact(raw):
    raw.cmd_raw("SELECT", "cnt")
    raw.cmd_raw("SET", "a", "1")
    raw.cmd_raw("SET", "b", "1", "EX", "1000")
    raw.cmd_raw("GET", "a")
    raw.cmd_raw("GET", "b")
    raw.cmd_raw("GET", "nokey")
    assert kasi_info(raw)["domain_cnt"] == "keys=2,expires=1,hits=2,misses=1,sets=2"


@kasi_only
def test_copy_move_same_domain_by_name(raw):
    raw.cmd_raw("SET", "k", "v")
    same = E("ERR source and destination objects are the same")
    assert raw.cmd_raw("COPY", "k", "k", "DB", "default") == same
    assert raw.cmd_raw("COPY", "k", "k", "DB", "0") == same
    assert raw.cmd_raw("MOVE", "k", "default") == same
    raw.cmd_raw("SELECT", "named")
    raw.cmd_raw("SET", "n", "v")
    assert raw.cmd_raw("MOVE", "n", "named") == same
    assert raw.cmd_raw("COPY", "n", "n2", "DB", "named") == INT(1)
    assert raw.cmd_raw("GET", "n2") == bulk("v")
