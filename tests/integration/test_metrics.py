"""metrics-port: GET /metrics (Prometheus text format 0.0.4) and the status
page at /, against a real server: the exposition is parsed strictly, the
counters must grow by exactly what the test ran, and the HTTP side must
refuse what it should without ever holding up RESP clients or scrapes."""
import math
import re
import socket
import time

import pytest

import kasi_harness as H
from kasi_harness import OK

pytestmark = pytest.mark.kasi_only

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


# --------------------------------------------------------------------------
# a strict reader of the text exposition format 0.0.4
# --------------------------------------------------------------------------

def _labels(text, pos):
    """Parse {a="x",b="y"} from text[pos] == '{'; returns (dict, end)."""
    labels = {}
    pos += 1
    while text[pos] != "}":
        eq = text.index("=", pos)
        name = text[pos:eq]
        assert LABEL_NAME.match(name), name
        assert text[eq + 1] == '"', text
        pos, val = eq + 2, []
        while text[pos] != '"':
            if text[pos] == "\\":
                esc = text[pos + 1]
                assert esc in '\\"n', "bad escape in %r" % text
                val.append("\n" if esc == "n" else esc)
                pos += 2
            else:
                assert text[pos] != "\n"
                val.append(text[pos])
                pos += 1
        assert name not in labels, text
        labels[name] = "".join(val)
        pos += 1
        if text[pos] == ",":
            pos += 1
    return labels, pos + 1


def parse_exposition(body):
    """Families by name: {"type", "help", "samples": [(name, labels, value)]}.
    Fails on anything the format does not allow: a sample before its
    family's HELP and TYPE, a family split in two, a duplicate series, a
    bad name, escape or value, a counter not ending in _total, a histogram
    whose buckets are not cumulative or whose +Inf bucket is not _count."""
    assert body.endswith("\n")
    fams, current, seen_series = {}, None, set()
    for line in body[:-1].split("\n"):
        assert line, "empty line in the exposition"
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            assert METRIC_NAME.match(name) and help_, line
            assert name not in fams, "family %s given twice" % name
            fams[name] = {"help": help_, "type": None, "samples": []}
            current = name
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            assert name == current and fams[name]["type"] is None, line
            assert typ in TYPES, line
            fams[name]["type"] = typ
            continue
        assert not line.startswith("#"), line
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)", line)
        name = m.group(1)
        pos = m.end()
        labels = {}
        if line[pos] == "{":
            labels, pos = _labels(line, pos)
        assert line[pos] == " ", line
        value = line[pos + 1:].split(" ")
        assert len(value) == 1, "no timestamps expected: %r" % line
        v = float(value[0])   # also +Inf, NaN
        fam = fams.get(current)
        assert fam and fam["type"], "sample before HELP/TYPE: %r" % line
        typ = fam["type"]
        allowed = {current} if typ != "histogram" else {current + s for s in ("_bucket", "_sum", "_count")}
        assert name in allowed, "sample %s outside its family %s" % (name, current)
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_series, "duplicate series %r" % (key,)
        seen_series.add(key)
        if typ == "counter":
            assert name.endswith("_total") and v >= 0, line
        fam["samples"].append((name, labels, v))
    for name, fam in fams.items():
        assert fam["type"], name
        if fam["type"] == "histogram":
            check_histogram(name, fam)
    return fams


def check_histogram(name, fam):
    series = {}
    for sname, labels, v in fam["samples"]:
        rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sname.endswith("_bucket"):
            s["buckets"].append((float(labels["le"]), v))
        elif sname.endswith("_sum"):
            s["sum"] = v
        else:
            s["count"] = v
    for rest, s in series.items():
        les = [le for le, _ in s["buckets"]]
        assert les == sorted(les) and les[-1] == math.inf, (name, rest, les)
        counts = [c for _, c in s["buckets"]]
        assert counts == sorted(counts), "buckets not cumulative: %r %r" % (rest, counts)
        assert counts[-1] == s["count"], "+Inf bucket != _count for %r" % (rest,)
        assert s["sum"] is not None and s["sum"] >= 0


def value(fams, name, **labels):
    """The value of the sample name{labels}, or None if there is none."""
    fam_name = re.sub(r"_(bucket|sum|count)$", "", name) if name not in fams else name
    for sname, l, v in fams.get(fam_name, {"samples": []})["samples"]:
        if sname == name and all(l.get(k) == x for k, x in labels.items()):
            return v
    return None


# --------------------------------------------------------------------------
# HTTP, over a plain socket: every byte the test sends is its own
# --------------------------------------------------------------------------

def http(port, request, host="127.0.0.1", source=None, timeout=10.0):
    """Send request (bytes) and read until the server closes; returns
    (status, headers dict (lower-case names), body bytes, raw)."""
    s = socket.socket()
    s.settimeout(timeout * H.TIME_FACTOR)
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    try:
        s.sendall(request)
    except OSError:
        pass
    raw = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
    except ConnectionResetError:
        pass
    s.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines[0].startswith("HTTP/1.1 ") else None
    headers = dict((k.strip().lower(), v.strip()) for k, _, v in (l.partition(":") for l in lines[1:]))
    return status, headers, body, raw


def get(port, path="/metrics", version="1.1", extra=b""):
    req = ("GET %s HTTP/%s\r\nHost: 127.0.0.1\r\n" % (path, version)).encode() + extra + b"\r\n"
    return http(port, req)


def scrape(port):
    status, headers, body, _ = get(port)
    assert status == 200, body
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    assert headers["connection"] == "close"
    return parse_exposition(body.decode("utf-8"))


@pytest.fixture
def msrv(server_factory):
    port = H.free_port()
    srv = server_factory([("metrics-port", str(port)), ("threads", "2")])
    srv.metrics_port = port
    return srv


# --------------------------------------------------------------------------
# the metrics
# --------------------------------------------------------------------------

def test_counters_grow_by_exactly_what_ran(msrv):
    port = msrv.metrics_port
    before = scrape(port)
    with msrv.raw() as c:
        for i in range(7):
            assert c.cmd_raw("SET", "k%d" % i, "v") == OK
        for i in range(5):
            c.cmd("GET", "k%d" % i)            # 5 hits
        for i in range(3):
            c.cmd("GET", "missing%d" % i)      # 3 misses
        c.cmd("INCR", "k0")                    # fails: not an integer
        c.cmd("GET")                           # refused: arity
        assert c.cmd_raw("SELECT", "users") == OK
        assert c.cmd_raw("SET", "u1", "x") == OK
        assert c.cmd_raw("SET", "u2", "y", "EX", "100") == OK
        c.cmd("GET", "u1")
    after = scrape(port)

    def delta(name, **labels):
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert delta("kasi_command_calls_total", cmd="set") == 9
    assert delta("kasi_command_calls_total", cmd="get") == 9
    assert delta("kasi_command_rejected_calls_total", cmd="get") == 1
    assert delta("kasi_command_failed_calls_total", cmd="incr") == 1
    assert delta("kasi_command_calls_total", cmd="incr") == 1
    # the histogram counts each call, and its time
    assert value(after, "kasi_command_duration_seconds_count", cmd="get") == \
        value(after, "kasi_command_calls_total", cmd="get")
    assert delta("kasi_command_duration_seconds_count", cmd="set") == 9
    assert value(after, "kasi_command_duration_seconds_sum", cmd="set") > 0
    assert value(after, "kasi_command_duration_seconds_bucket", cmd="set", le="+Inf") == \
        value(after, "kasi_command_duration_seconds_count", cmd="set")
    # per domain
    assert value(after, "kasi_domain_keys", domain="default") == 7
    assert value(after, "kasi_domain_keys", domain="users") == 2
    assert value(after, "kasi_domain_expiring_keys", domain="users") == 1
    assert delta("kasi_domain_hits_total", domain="default") == 5
    assert delta("kasi_domain_misses_total", domain="default") == 3
    assert delta("kasi_domain_hits_total", domain="users") == 1
    assert after["kasi_domain_keys"]["type"] == "gauge"
    assert after["kasi_domain_hits_total"]["type"] == "counter"
    # the total and the per-worker counts agree (no command ran in between)
    total = value(after, "kasi_commands_processed_total")
    per_worker = [v for n, l, v in after["kasi_worker_commands_processed_total"]["samples"]]
    assert len(per_worker) == 2 and sum(per_worker) == total
    assert delta("kasi_commands_processed_total") == 20   # the refused GET is not one
    assert value(after, "kasi_connected_clients") == 0
    assert value(after, "kasi_memory_used_bytes") > 0
    assert value(after, "kasi_memory_peak_bytes") >= value(after, "kasi_memory_used_bytes")
    assert value(after, "kasi_memory_rss_bytes") > 0
    assert value(after, "kasi_rdb_changes_since_last_save") >= 9
    assert value(after, "kasi_aof_enabled") == 0
    assert value(after, "kasi_worker_threads") == 2
    assert after["kasi_build_info"]["samples"][0][1]["redis_version"] == "7.0.15"


def test_every_family_documented_in_readme(msrv):
    """README's operations section names every family the server exposes."""
    fams = scrape(msrv.metrics_port)
    with open(H.REPO + "/README.md") as f:
        readme = f.read()
    missing = [n for n in fams if "`%s`" % n not in readme]
    assert not missing, missing


def test_domain_names_are_escaped(msrv):
    with msrv.raw() as c:
        assert c.cmd_raw("SELECT", 'we"ird\\dom\n%') == OK
        assert c.cmd_raw("SET", "k", "v") == OK
    fams = scrape(msrv.metrics_port)
    assert value(fams, "kasi_domain_keys", domain='we"ird\\dom%0A%25') == 1


def test_latency_buckets_place_a_slow_command(msrv):
    """A DEBUG SLEEP-like slow call lands past the 10 ms bucket: the
    buckets are in seconds, built from cmdstats' histogram."""
    with msrv.raw() as c:
        r = c.cmd("EVAL", "local t = redis.call('TIME') "
                          "local s = t[1] * 1000000 + t[2] "
                          "while true do local n = redis.call('TIME') "
                          "if n[1] * 1000000 + n[2] - s > 30000 then break end end return 1", "0")
        if isinstance(r, H.RespError):
            pytest.skip("no scripting in this build: %s" % r)
    fams = scrape(msrv.metrics_port)
    assert value(fams, "kasi_command_duration_seconds_bucket", cmd="eval", le="0.01") == 0
    assert value(fams, "kasi_command_duration_seconds_bucket", cmd="eval", le="0.05") == 1
    assert value(fams, "kasi_command_duration_seconds_sum", cmd="eval") >= 0.03


# --------------------------------------------------------------------------
# the HTTP side
# --------------------------------------------------------------------------

def test_status_page(msrv):
    with msrv.raw() as c:
        assert c.cmd_raw("SET", "a", "1") == OK
        c.cmd("GET", "a")
        c.cmd("GET", "b")
        assert c.cmd_raw("SELECT", "<b>x</b>") == OK
        assert c.cmd_raw("SET", "a", "1") == OK
    status, headers, body, _ = get(msrv.metrics_port, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    assert "Kasi 0." in page and "Uptime" in page and "Memory used" in page
    assert "50.00% (1 of 2 lookups)" in page
    assert "<tr><td>default</td><td>1</td>" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_not_found_method_and_malformed(msrv):
    port = msrv.metrics_port
    assert get(port, "/nope")[0] == 404
    assert get(port, "/metrics/x")[0] == 404
    status, headers, _, _ = http(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert http(port, b"DELETE / HTTP/1.1\r\n\r\n")[0] == 405
    for bad in (b"GARBAGE\r\n\r\n", b"GET /metrics\r\n\r\n", b"GET /metrics HTTP/2.0\r\n\r\n",
                b"GET metrics HTTP/1.1\r\n\r\n", b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
                b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
                b"G\x01T /metrics HTTP/1.1\r\n\r\n"):
        status, headers, _, raw = http(port, bad)
        assert status == 400, (bad, raw)
        assert headers["connection"] == "close"
    # HTTP/1.0, a query string, HEAD, bare LF line ends
    assert get(port, "/metrics", version="1.0")[0] == 200
    assert get(port, "/metrics?name[]=x")[0] == 200
    status, headers, body, _ = http(port, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    status, headers, body, _ = http(port, b"HEAD /nope HTTP/1.1\r\n\r\n")
    assert status == 404 and body == b"" and int(headers["content-length"]) > 0
    assert http(port, b"GET / HTTP/1.0\n\n")[0] == 200
    with msrv.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_oversized_request_gets_400_and_resp_keeps_serving(msrv):
    port = msrv.metrics_port
    big = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 20000 + b"\r\n\r\n"
    status, headers, body, raw = http(port, big)
    assert status == 400, raw[:200]
    # a head that never ends is cut at the bound too
    status, _, _, _ = http(port, b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 3000)
    assert status == 400
    with msrv.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
    scrape(port)


def test_stalled_client_does_not_stop_scrapes(msrv):
    port = msrv.metrics_port
    stalled = []
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /metr")
        stalled.append(s)
    t0 = time.monotonic()
    scrape(port)
    with msrv.raw() as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
    assert time.monotonic() - t0 < 2 * H.TIME_FACTOR
    # ... and the stalled ones are closed once their time (5 s) is up
    for s in stalled:
        s.settimeout(15 * H.TIME_FACTOR)
        t1 = time.monotonic()
        assert s.recv(100) == b""
        s.close()
    assert time.monotonic() - t0 >= 4.5


def test_slow_reader_does_not_stop_scrapes(msrv):
    """A client that asks and never reads: the answer waits in the socket,
    the loop goes on."""
    port = msrv.metrics_port
    with msrv.raw() as c:
        for i in range(200):
            c.cmd("SELECT", "domain%03d" % i)
            c.cmd("SET", "k", "v")
    slow = []
    for _ in range(4):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
        slow.append(s)
    time.sleep(0.2)
    scrape(port)
    for s in slow:
        s.close()


def test_off_by_default(server_factory):
    srv = server_factory()
    with srv.raw() as c:
        assert c.cmd("CONFIG", "GET", "metrics-port") == [b"metrics-port", b"0"]
    assert "Serving metrics" not in srv.log_text()
    assert all(H.socket_port(row[1]) == srv.port for row in H.tcp_sockets(srv.pid) if row[3] == "0A")


def test_config_set_rebinds(msrv):
    old = msrv.metrics_port
    new = H.free_port()
    with msrv.raw() as c:
        assert c.cmd("CONFIG", "GET", "metrics-port") == [b"metrics-port", str(old).encode()]
        assert c.cmd_raw("CONFIG", "SET", "metrics-port", str(new)) == OK
        H.wait_for(lambda: _listening(msrv, new) and not _listening(msrv, old), 5)
        scrape(new)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", old), timeout=2)
        # a port that is taken: refused, the endpoint stays where it was
        r = c.cmd("CONFIG", "SET", "metrics-port", str(msrv.port))
        assert isinstance(r, H.RespError) and "Unable to listen" in str(r)
        assert c.cmd("CONFIG", "GET", "metrics-port") == [b"metrics-port", str(new).encode()]
        scrape(new)
        assert c.cmd_raw("CONFIG", "SET", "metrics-port", "0") == OK
        H.wait_for(lambda: not _listening(msrv, new), 5)
        assert not _listening(msrv, new)
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def _listening(srv, port):
    return any(H.socket_port(r[1]) == port and r[3] == "0A" for r in H.tcp_sockets(srv.pid))


def test_protected_mode_refuses_non_loopback(msrv):
    """Connecting from 127.0.0.2 is not local as protected mode counts it
    (as test_security's check of the RESP port)."""
    port = msrv.metrics_port
    status, _, body, _ = http(port, b"GET /metrics HTTP/1.1\r\n\r\n", source="127.0.0.2")
    assert status == 403 and b"Protected mode" in body
    assert get(port)[0] == 200   # loopback is served
    with msrv.raw() as c:
        assert c.cmd_raw("CONFIG", "SET", "protected-mode", "no") == OK
    assert http(port, b"GET /metrics HTTP/1.1\r\n\r\n", source="127.0.0.2")[0] == 200
    with msrv.raw() as c:
        assert c.cmd_raw("CONFIG", "SET", "protected-mode", "yes") == OK
        assert c.cmd_raw("CONFIG", "SET", "requirepass", "pw") == OK
    assert http(port, b"GET /metrics HTTP/1.1\r\n\r\n", source="127.0.0.2")[0] == 200


def test_scrapes_during_load(msrv):
    """Scrapes while clients on both workers write: a TSan build checks
    that reading every worker's counters races with nothing."""
    import threading
    stop = threading.Event()
    errors = []

    def load(n):
        try:
            with msrv.raw() as c:
                i = 0
                while not stop.is_set():
                    c.cmd("SET", "k%d-%d" % (n, i % 100), "v")
                    c.cmd("GET", "k%d-%d" % (n, i % 50))
                    i += 1
        except Exception as e:   # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        last = 0
        for _ in range(10):
            fams = scrape(msrv.metrics_port)
            calls = value(fams, "kasi_command_calls_total", cmd="set") or 0
            assert calls >= last
            last = calls
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
