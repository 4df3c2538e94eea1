"""requirepass / AUTH / NOAUTH behaviour (Redis 7.0 texts)."""
import pytest
import redis

from kasi_harness import E, OK, bulk

NOAUTH = E("NOAUTH Authentication required.")
WRONGPASS = E("WRONGPASS invalid username-password pair or user is disabled.")


@pytest.fixture
def authsrv(server_factory):
    return server_factory({"requirepass": "p@ss word"})


def test_noauth_for_commands(authsrv):
    with authsrv.raw() as c:
        for cmd in (["PING"], ["GET", "k"], ["SET", "k", "v"], ["SELECT", "1"], ["INFO"],
                    ["DBSIZE"], ["MULTI"], ["CONFIG", "GET", "port"], ["CLIENT", "ID"]):
            assert c.cmd_raw(*cmd) == NOAUTH, cmd


def test_wrong_then_right_password(authsrv):
    with authsrv.raw() as c:
        assert c.cmd_raw("AUTH", "nope") == WRONGPASS
        assert c.cmd_raw("GET", "k") == NOAUTH
        assert c.cmd_raw("AUTH", "p@ss word") == OK
        assert c.cmd_raw("SET", "k", "v") == OK
        assert c.cmd_raw("GET", "k") == bulk("v")
        # a later wrong AUTH answers WRONGPASS (connection stays authenticated in Redis)
        assert c.cmd_raw("AUTH", "nope") == WRONGPASS


def test_auth_with_username(authsrv):
    with authsrv.raw() as c:
        assert c.cmd_raw("AUTH", "default", "wrong") == WRONGPASS
        assert c.cmd_raw("AUTH", "someone", "p@ss word") == WRONGPASS
        assert c.cmd_raw("AUTH", "default", "p@ss word") == OK
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_auth_arity(authsrv):
    with authsrv.raw() as c:
        assert c.cmd_raw("AUTH") == E("ERR wrong number of arguments for 'auth' command")
        assert c.cmd_raw("AUTH", "a", "b", "c") == E("ERR syntax error")


def test_auth_per_connection(authsrv):
    with authsrv.raw() as a, authsrv.raw() as b:
        assert a.cmd_raw("AUTH", "p@ss word") == OK
        assert a.cmd_raw("PING") == b"+PONG\r\n"
        assert b.cmd_raw("PING") == NOAUTH


def test_quit_allowed_without_auth(authsrv):
    with authsrv.raw() as c:
        c.send_command("QUIT")
        data, closed = c.read_until_closed(5)
        assert data == OK and closed


def test_hello_with_auth(authsrv):
    with authsrv.raw() as c:
        reply = c.cmd_raw("HELLO", "2", "AUTH", "default", "wrong")
        assert reply == WRONGPASS
        reply = c.cmd("HELLO", "2", "AUTH", "default", "p@ss word")
        assert isinstance(reply, list)
        d = dict(zip(reply[::2], reply[1::2]))
        assert d[b"proto"] == 2
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_hello_without_auth_is_noauth(authsrv):
    with authsrv.raw() as c:
        reply = c.cmd_raw("HELLO", "2")
        assert reply.startswith(b"-NOAUTH"), reply


def test_redis_py_password(authsrv):
    c = authsrv.client(password="p@ss word")
    assert c.set("a", "1")
    assert c.get("a") == b"1"
    c.close()
    bad = authsrv.client(password="bad")
    with pytest.raises((redis.AuthenticationError, redis.ResponseError), match="WRONGPASS|invalid"):
        bad.ping()
    bad.close()


def test_shutdown_requires_auth(authsrv):
    with authsrv.raw() as c:
        assert c.cmd_raw("SHUTDOWN", "NOSAVE") == NOAUTH
    assert authsrv.alive()
    with authsrv.raw() as c:
        assert c.cmd_raw("AUTH", "p@ss word") == OK
        c.send_command("SHUTDOWN", "NOSAVE")
        _, closed = c.read_until_closed(5)
        assert closed
    assert authsrv.proc.wait(10) == 0


def test_auth_without_password_configured(raw):
    assert raw.cmd_raw("AUTH", "foo") == E(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    assert raw.cmd_raw("PING") == b"+PONG\r\n"


def test_auth_default_user_nopass(raw):
    # With no requirepass, AUTH default <anything> succeeds in Redis 7 (nopass user).
    assert raw.cmd_raw("AUTH", "default", "whatever") == OK
