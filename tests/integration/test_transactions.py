"""MULTI / EXEC / DISCARD / WATCH / UNWATCH semantics."""
import redis

from kasi_harness import ARITY, E, NIL, OK, bulk

QUEUED = b"+QUEUED\r\n"


def test_multi_exec(raw):
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("SET", "a", "1") == QUEUED
    assert raw.cmd_raw("INCR", "a") == QUEUED
    assert raw.cmd_raw("GET", "a") == QUEUED
    assert raw.cmd_raw("EXEC") == b"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n"


def test_empty_multi_exec(raw):
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("EXEC") == b"*0\r\n"


def test_exec_discard_without_multi(raw):
    assert raw.cmd_raw("EXEC") == E("ERR EXEC without MULTI")
    assert raw.cmd_raw("DISCARD") == E("ERR DISCARD without MULTI")


def test_nested_multi(raw):
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("MULTI") == E("ERR MULTI calls can not be nested")
    assert raw.cmd_raw("SET", "a", "1") == QUEUED
    # nested MULTI does not abort the transaction
    assert raw.cmd_raw("EXEC") == b"*1\r\n+OK\r\n"


def test_discard(raw):
    raw.cmd_raw("SET", "a", "orig")
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("SET", "a", "new") == QUEUED
    assert raw.cmd_raw("DISCARD") == OK
    assert raw.cmd_raw("GET", "a") == bulk("orig")
    assert raw.cmd_raw("EXEC") == E("ERR EXEC without MULTI")


def test_execabort_after_queue_error(raw):
    raw.cmd_raw("SET", "a", "orig")
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("SET", "a", "new") == QUEUED
    assert raw.cmd_raw("GET") == ARITY("get")
    assert raw.cmd_raw("NOSUCHCMD", "x") == E("ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' ")
    assert raw.cmd_raw("EXEC") == E("EXECABORT Transaction discarded because of previous errors.")
    assert raw.cmd_raw("GET", "a") == bulk("orig")
    # no longer in MULTI
    assert raw.cmd_raw("EXEC") == E("ERR EXEC without MULTI")


def test_runtime_error_inside_exec_does_not_abort(raw):
    raw.cmd_raw("SET", "s", "notanumber")
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("INCR", "s") == QUEUED
    assert raw.cmd_raw("SET", "b", "2") == QUEUED
    assert raw.cmd_raw("EXEC") == b"*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n"
    assert raw.cmd_raw("GET", "b") == bulk("2")


def test_watch_inside_multi(raw):
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("WATCH", "a") == E("ERR WATCH inside MULTI is not allowed")
    assert raw.cmd_raw("EXEC") == b"*0\r\n"


def test_watch_arity(raw):
    assert raw.cmd_raw("WATCH") == ARITY("watch")
    assert raw.cmd_raw("UNWATCH") == OK
    assert raw.cmd_raw("UNWATCH", "x") == ARITY("unwatch")


def test_watch_conflict_aborts(srv, raw):
    raw.cmd_raw("SET", "w", "1")
    assert raw.cmd_raw("WATCH", "w") == OK
    with srv.raw() as other:
        other.cmd_raw("SET", "w", "2")
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("SET", "w", "3") == QUEUED
    assert raw.cmd_raw("EXEC") == b"*-1\r\n"
    assert raw.cmd_raw("GET", "w") == bulk("2")


def test_watch_no_conflict(srv, raw):
    raw.cmd_raw("SET", "w", "1")
    assert raw.cmd_raw("WATCH", "w", "other") == OK
    with srv.raw() as c:
        c.cmd_raw("SET", "unrelated", "x")
    assert raw.cmd_raw("MULTI") == OK
    assert raw.cmd_raw("INCR", "w") == QUEUED
    assert raw.cmd_raw("EXEC") == b"*1\r\n:2\r\n"


def test_watch_missing_key_then_created(srv, raw):
    assert raw.cmd_raw("WATCH", "nokey") == OK
    with srv.raw() as c:
        c.cmd_raw("SET", "nokey", "x")
    raw.cmd_raw("MULTI")
    raw.cmd_raw("GET", "nokey")
    assert raw.cmd_raw("EXEC") == b"*-1\r\n"


def test_watch_delete_and_expire_touch(srv, raw):
    raw.cmd_raw("SET", "w", "1")
    raw.cmd_raw("WATCH", "w")
    with srv.raw() as c:
        c.cmd_raw("DEL", "w")
    raw.cmd_raw("MULTI")
    raw.cmd_raw("PING")
    assert raw.cmd_raw("EXEC") == b"*-1\r\n"
    raw.cmd_raw("SET", "w", "1")
    raw.cmd_raw("WATCH", "w")
    with srv.raw() as c:
        c.cmd_raw("EXPIRE", "w", "100")
    raw.cmd_raw("MULTI")
    raw.cmd_raw("PING")
    assert raw.cmd_raw("EXEC") == b"*-1\r\n"


def test_watch_flushall_invalidates(srv, raw):
    raw.cmd_raw("SET", "w", "1")
    raw.cmd_raw("WATCH", "w")
    with srv.raw() as c:
        c.cmd_raw("FLUSHALL")
    raw.cmd_raw("MULTI")
    raw.cmd_raw("PING")
    assert raw.cmd_raw("EXEC") == b"*-1\r\n"


def test_unwatch(srv, raw):
    raw.cmd_raw("SET", "w", "1")
    raw.cmd_raw("WATCH", "w")
    with srv.raw() as c:
        c.cmd_raw("SET", "w", "2")
    assert raw.cmd_raw("UNWATCH") == OK
    raw.cmd_raw("MULTI")
    raw.cmd_raw("INCR", "w")
    assert raw.cmd_raw("EXEC") == b"*1\r\n:3\r\n"


def test_watch_cleared_after_exec_and_discard(srv, raw):
    raw.cmd_raw("SET", "w", "1")
    raw.cmd_raw("WATCH", "w")
    raw.cmd_raw("MULTI")
    raw.cmd_raw("DISCARD")
    with srv.raw() as c:
        c.cmd_raw("SET", "w", "2")
    raw.cmd_raw("MULTI")
    raw.cmd_raw("GET", "w")
    assert raw.cmd_raw("EXEC") == b"*1\r\n$1\r\n2\r\n"


def test_own_write_after_watch_aborts(raw):
    raw.cmd_raw("SET", "w", "1")
    raw.cmd_raw("WATCH", "w")
    raw.cmd_raw("SET", "w", "2")  # own modification also counts
    raw.cmd_raw("MULTI")
    raw.cmd_raw("GET", "w")
    assert raw.cmd_raw("EXEC") == b"*-1\r\n"


def test_transaction_isolated_from_other_clients(srv, raw):
    raw.cmd_raw("MULTI")
    raw.cmd_raw("SET", "t", "1")
    with srv.raw() as c:
        assert c.cmd_raw("GET", "t") == NIL  # queued, not executed
    raw.cmd_raw("EXEC")
    with srv.raw() as c:
        assert c.cmd_raw("GET", "t") == bulk("1")


def test_select_inside_multi(raw):
    raw.cmd_raw("MULTI")
    raw.cmd_raw("SELECT", "1")
    raw.cmd_raw("SET", "k", "in1")
    assert raw.cmd_raw("EXEC") == b"*2\r\n+OK\r\n+OK\r\n"
    assert raw.cmd_raw("GET", "k") == bulk("in1")  # select persisted
    raw.cmd_raw("SELECT", "0")
    assert raw.cmd_raw("GET", "k") == NIL


def test_redis_py_pipeline_transaction(r):
    with r.pipeline(transaction=True) as p:
        p.set("a", 1).incr("a").incrby("a", 10).get("a").mget("a", "nokey")
        assert p.execute() == [True, 2, 12, b"12", [b"12", None]]


def test_redis_py_watch_retry(srv, r):
    r.set("counter", 0)
    other = srv.client()
    attempts = 0
    with r.pipeline(transaction=True) as p:
        for _ in range(5):
            attempts += 1
            try:
                p.watch("counter")
                v = int(p.get("counter"))
                if attempts == 1:
                    other.incr("counter")  # conflict on first attempt
                p.multi()
                p.set("counter", v + 100)
                p.execute()
                break
            except redis.WatchError:
                continue
    other.close()
    assert attempts == 2
    assert r.get("counter") == b"101"


def test_redis_py_pipeline_no_transaction(r):
    p = r.pipeline(transaction=False)
    for i in range(100):
        p.set("k%d" % i, i)
    for i in range(100):
        p.get("k%d" % i)
    res = p.execute()
    assert res[:100] == [True] * 100
    assert res[100:] == [str(i).encode() for i in range(100)]
