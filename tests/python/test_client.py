"""Every client method against a real server."""

import datetime
import decimal
import fractions
import socket
import uuid
import threading
import time
from datetime import timedelta

import pytest

from kasi import errors
from kasi import client as kclient
from conftest import IS_KASI, kasi_only, free_port, client_class

VALUES = [
    "hello", "", "5", "-3", "2H₂ + O₂ ⇌ 2H₂O, R = 4.7 kΩ, ⌀ 200 mm",
    "ก ข ฃ ค ฅ ฆ ง จ ฉ ช ซ ฌ ญ ฎ ฏ ", "\ud800", b"", b"raw", b"\xff\x00\xc1",
    b"\xc1", 0, 7, -(2 ** 63), 2 ** 63 - 1, 2 ** 64, 1.25, -0.0, float("inf"),
    True, False, None, ["a", "d"], ("t", 1), {"k": {"n": [1, None]}}, {1, 2},
    datetime.datetime(2020, 5, 6, 7, 8, 9), b"x" * 300000, "y" * 100000,
    # the safe structured codec: no secret, no pickle
    frozenset({"f"}), bytearray(b"\x00ba"), 1 - 2j, fractions.Fraction(-5, 7),
    decimal.Decimal("1.10"), decimal.Decimal("-Infinity"), datetime.date(2024, 2, 29),
    datetime.time(12, 30, tzinfo=datetime.timezone.utc),
    datetime.datetime(2024, 3, 31, 2, 30, fold=1,
                      tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    datetime.timedelta(days=3, microseconds=1), uuid.UUID(int=2 ** 100),
    [{"id": i, "tags": ("x", i)} for i in range(2000)], ["z" * 100000, b"\xc1"],
    {(1, 2): {3: [4.5, None]}}, 2 ** 200000,
]


def test_seed_methods(client):
    assert client.set("D1", "test1", domain="X") is True
    assert client.get("D1", domain="X") == "test1"
    assert client.get("D1") is None
    assert client.delete("D1", domain="X") is True
    assert client.delete("D1", domain="X") is False
    assert client.get("D1", domain="X") is None
    assert client.get("not-existing") is None
    assert client.reset() is True


def _id(value):
    try:
        return repr(value)[:40]
    except ValueError:  # an int too long for str()
        return type(value).__name__


@pytest.mark.parametrize("value", VALUES, ids=_id)
def test_value_round_trip(client, value):
    """Every value round-trips with the default client (no secret, no
    pickle allowed)."""
    client.set("v", value, domain="types")
    out = client.get("v", domain="types")
    assert type(out) is type(value)
    assert out == value
    if isinstance(value, (decimal.Decimal, datetime.datetime)):
        assert repr(out) == repr(value)


def test_expiry_timedelta(client):
    client.set("a", "x", timedelta(milliseconds=300))
    assert client.get("a") == "x"
    assert 0 < client.ttl("a") <= 0.3
    time.sleep(0.45)
    assert client.get("a") is None
    assert client.exists("a") is False


@pytest.mark.parametrize("expiry", [1, 0.3, 0.25])
def test_expiry_seconds(client, expiry):
    client.set("s", "x", expiry)
    t = client.ttl("s")
    assert 0 < t <= expiry
    if expiry < 1:
        time.sleep(expiry + 0.15)
        assert client.get("s") is None


def test_expiry_validation(client):
    for bad in (0, -1, timedelta(0), timedelta(seconds=-1), 0.0, float("nan")):
        with pytest.raises(ValueError):
            client.set("k", "v", bad)
    with pytest.raises(TypeError):
        client.set("k", "v", "10")
    with pytest.raises(TypeError):
        client.set("k", "v", True)
    # sub-millisecond rounds up, never to "no expiry"
    client.set("k", "v", 0.0001)
    time.sleep(0.05)
    assert client.get("k") is None


def test_ttl_expire_persist_touch(client):
    assert client.ttl("none") is None
    client.set("k", "v")
    assert client.ttl("k") is None
    assert client.expire("k", timedelta(seconds=10)) is True
    assert 9 < client.ttl("k") <= 10
    assert client.expire("missing", 10) is False
    assert client.persist("k") is True
    assert client.persist("k") is False
    assert client.ttl("k") is None
    assert client.touch("k") is True
    assert client.touch("missing") is False
    assert client.touch("k", 5) is True
    assert 4 < client.ttl("k") <= 5
    assert client.touch("missing", 5) is False


def test_exists(client):
    assert client.exists("e") is False
    client.set("e", None)
    assert client.exists("e") is True
    assert client.get("e") is None


def test_incr_decr(client):
    assert client.incr("n") == 1
    assert client.incr("n", 10) == 11
    assert client.decr("n") == 10
    assert client.decr("n", 20) == -10
    assert client.get("n") == -10
    client.set("m", 41)
    assert client.incr("m") == 42
    assert client.get("m") == 42
    client.set("s", "41")  # a str stays a str, so it is not a counter
    with pytest.raises(errors.KasiResponseError) as ei:
        client.incr("s")
    assert "integer" in str(ei.value)
    assert client.get("s") == "41"
    with pytest.raises(TypeError):
        client.incr("n", 1.5)
    assert client.incr("n", domain="other") == 1


def test_add(client):
    assert client.add("a", "first") is True
    assert client.add("a", "second") is False
    assert client.get("a") == "first"
    assert client.add("b", [1], timedelta(seconds=5), domain="D") is True
    assert 4 < client.ttl("b", domain="D") <= 5


def test_get_many_set_many(client):
    assert client.get_many([]) == {}
    assert client.set_many({}) is True
    data = {"a": "x", "b": 2, "c": ["l"], "d": b"\x00\xff", "e": "5"}
    assert client.set_many(data, domain="M") is True
    got = client.get_many(list(data) + ["missing"], domain="M")
    assert got == data
    assert [type(v) for v in got.values()] == [type(v) for v in data.values()]
    assert client.get_many(["a"]) == {}
    client.set_many({"t1": 1, "t2": 2}, timedelta(seconds=3), domain="M")
    assert 2 < client.ttl("t1", domain="M") <= 3
    assert 2 < client.ttl("t2", domain="M") <= 3


def test_keys(client):
    names = {"user:%d" % i for i in range(1200)}
    client.set_many({n: 1 for n in names}, domain="K")
    client.set("other", 1, domain="K")
    client.set("user:elsewhere", 1)
    assert set(client.keys("user:*", domain="K")) == names
    assert len(list(client.keys(domain="K"))) == 1201
    assert list(client.keys("nomatch*", domain="K")) == []
    client.set(b"\xff\xfe", 1, domain="K")
    assert b"\xff\xfe" in set(client.keys(domain="K"))


def test_key_types(client):
    client.set(b"bk", "1")
    assert client.get("bk") == "1"
    client.set("ключ", "v")
    assert client.get("ключ".encode()) == "v"
    client.set(12, "twelve")
    assert client.get("12") == "twelve"
    with pytest.raises(TypeError):
        client.get(1.5)


def test_domains_are_separate(client):
    for d in ("default", "X", "Y", "with:colon"):
        client.set("k", d, domain=d)
    for d in ("default", "X", "Y", "with:colon"):
        assert client.get("k", domain=d) == d
    assert client.get("k", domain=None) == "default"  # None means default


def test_domain_validation(client):
    for bad in ("", "two words", "tab\t", "x" * 257):
        with pytest.raises(ValueError):
            client.get("k", domain=bad)
    with pytest.raises(TypeError):
        client.get("k", domain=1)
    with pytest.raises(ValueError):
        client.keys(domain="")  # checked at call time, not at first next()


def test_reset_one_domain(client):
    client.set("k", 1, domain="A")
    client.set("k", 2, domain="B")
    client.set("k", 3)
    assert client.reset(domain="A") is True
    assert client.get("k", domain="A") is None
    assert client.get("k", domain="B") == 2
    assert client.get("k") == 3
    client.reset()
    assert client.get("k", domain="B") is None
    assert client.get("k") is None


def test_stats(client):
    client.set("a", 1)
    client.set("b", 1, 100, domain="S")
    client.set("c", 1, domain="S")
    client.get("a")
    client.get("zz")
    st = client.stats()
    assert set(st) >= {"uptime", "hits", "misses", "sets", "keys", "domains"}
    assert isinstance(st["uptime"], int)
    assert st["hits"] >= 1 and st["misses"] >= 1
    assert st["keys"] == 3
    if IS_KASI:
        assert st["sets"] >= 3
        assert st["domains"]["S"]["keys"] == 2
        assert st["domains"]["S"]["expires"] == 1
        assert st["domains"]["default"]["keys"] == 1
        assert st["domains"]["S"]["sets"] >= 2


def test_no_status_strings(client):
    results = [client.set("k", "v"), client.reset(domain="x"), client.delete("k"),
               client.set_many({"a": 1}), client.add("a", 1), client.ping()]
    assert all(isinstance(r, bool) for r in results)


def test_server_error_carries_message(client):
    client.set("k", "not a number")
    with pytest.raises(errors.KasiResponseError) as ei:
        client.incr("k")
    assert "ERR" in str(ei.value) and "integer" in ei.value.message


def test_select_sent_only_on_domain_change_same_write(client, monkeypatch):
    writes = []
    orig = kclient.Connection.send_packed_command

    def spy(self, command, check_health=True):
        writes.append(b"".join(bytes(c) for c in command))
        return orig(self, command, check_health)

    monkeypatch.setattr(kclient.Connection, "send_packed_command", spy)
    client.get("k", domain="P")
    client.get("k", domain="P")
    client.get("k")
    assert len(writes) == 3
    assert b"SELECT" in writes[0] and b"GET" in writes[0]   # one write
    assert b"SELECT" not in writes[1]
    assert b"SELECT" in writes[2] and b"\r\n0\r\n" in writes[2]


def test_context_manager_and_close(make_client):
    with make_client() as c:
        c.set("cm", "v")
        assert c.get("cm") == "v"
    assert c.get("cm") == "v"  # usable again after close: reconnects


def test_connection_refused():
    c = client_class()(host="127.0.0.1", port=free_port())
    with pytest.raises(errors.ConnectionRefused):
        c.get("x")
    with pytest.raises(errors.KasiConnectionError):
        c.set("x", 1)
    with pytest.raises(ConnectionError):
        c.stats()


def test_timeout():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    port = srv.getsockname()[1]
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        c = client_class()(host="127.0.0.1", port=port, socket_timeout=0.3)
        t0 = time.monotonic()
        with pytest.raises(errors.KasiTimeout):
            c.get("x")
        assert time.monotonic() - t0 < 2
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
        srv.close()


def test_password(spawn):
    sp = spawn(requirepass="pa ss")
    cls = client_class()
    with pytest.raises(errors.KasiAuthError):
        cls(host="127.0.0.1", port=sp.port).get("k")
    with pytest.raises(errors.KasiAuthError):
        cls(host="127.0.0.1", port=sp.port, password="wrong").get("k")
    c = cls(host="127.0.0.1", port=sp.port, password="pa ss")
    c.set("k", "v", domain="Z")
    assert c.get("k", domain="Z") == "v"


def test_unix_socket(spawn, tmp_path):
    path = str(tmp_path / "kasi.sock")
    spawn(unixsocket=path)
    c = client_class()(unix_socket_path=path)
    c.set("u", ["x"], domain="U")
    assert c.get("u", domain="U") == ["x"]


def test_shutdown(spawn):
    sp = spawn()
    c = client_class()(host="127.0.0.1", port=sp.port)
    c.set("k", 1)
    assert c.shutdown() is True
    assert sp.proc.wait(10) == 0
    with pytest.raises(errors.ConnectionRefused):
        c.get("k")


def test_first_write_to_new_domain_selects_first(client, monkeypatch):
    writes = []
    orig = kclient.Connection.send_packed_command

    def spy(self, command, check_health=True):
        writes.append(b"".join(bytes(c) for c in command))
        return orig(self, command, check_health)

    monkeypatch.setattr(kclient.Connection, "send_packed_command", spy)
    client.set("k", 1, domain="W")   # unknown domain: SELECT alone, then SET
    client.set("k", 1)               # default: pipelined
    client.set("k", 2, domain="W")   # known now: pipelined
    sel = [w for w in writes if b"SELECT" in w]
    assert b"SET" not in sel[0]
    assert len(writes) == 4
    assert b"SELECT" in writes[3] and b"SET" in writes[3]


@kasi_only
def test_domain_limit_never_misplaces_writes(spawn):
    sp = spawn(max_domains=3)
    c = client_class()(host="127.0.0.1", port=sp.port, max_connections=1)
    filled = []
    for i in range(10):  # fill domains until the server refuses a new one
        try:
            c.set("k", i, domain="D%d" % i)
        except errors.KasiResponseError as exc:
            assert "domain" in str(exc)
            full = "D%d" % i
            break
        filled.append("D%d" % i)
    else:
        pytest.fail("max-domains=3 never refused a domain")
    # Selecting a domain is free; adding data to a new one past the limit
    # is refused, and reads of it just find nothing.
    for op in (lambda: c.set("k", "x", domain=full), lambda: c.incr("n", domain=full),
               lambda: c.set_many({"k": 1}, domain=full), lambda: c.add("k", 1, domain=full)):
        with pytest.raises(errors.KasiResponseError) as ei:
            op()
        assert "domain" in str(ei.value)
    assert c.get("k", domain=full) is None
    assert not c.delete("k", domain=full)
    assert not c.expire("k", 5, domain=full)
    c.reset(domain=full)
    for i, d in enumerate(filled):  # nothing landed in the previous domains
        assert c.get("k", domain=d) == i
        assert c.ttl("k", domain=d) is None
        assert c.get("n", domain=d) is None
    assert c.get("k") is None and c.get("n") is None


@kasi_only
def test_stats_escaped_domain_names(client):
    names = ["with:colon", "ключ", "a=b,c", "back\\slash"]
    for n in names:
        client.set("k", 1, domain=n)
    doms = client.stats()["domains"]
    for n in names:
        assert doms[n]["keys"] == 1, doms
