"""Differential test: the same scripts go, as raw RESP, to a fresh redis-server
7.0 and to Kasi; the raw reply bytes must be identical, command by command.
The first mismatch of each script is reported with both byte strings.

Script syntax (one command per line; '#' starts a comment line):
  SET k "a b"              shlex-split argv (quotes allowed, "" = empty arg)
  @py ["SET", b"k\\x00", "v"]   Python literal argv list (for binary data)
  !sorted KEYS *           array reply compared as a sorted multiset
  !pairs CONFIG GET a b    flat name/value array compared as a multiset of
                           pairs (Redis emits CONFIG GET results in its
                           internal dict order, not request order)
  !scan [MATCH p] [COUNT n] [TYPE t]
                           full SCAN iteration on both; compares the SET of
                           keys (cursor values legitimately differ)
  !approx N TTL k          integer replies may differ by at most N (TTL/PTTL:
                           the clock moves between the two servers)
  !near N XPENDING k g - + 9  the same reply, but that an integer that is a clock
                           reading (both at least 10**12: a time in ms, or an
                           idle time since one far in the past) or follows the
                           name "idle" may differ by at most N (stream consumers'
                           seen-times and idle times read each server's clock)
  !sleep MS                sleep (both servers already got the previous cmd)
  !raw b"..."              send raw bytes (Python literal), read ONE reply
  !rawclose b"..."         send raw bytes, read until the server closes;
                           compares all bytes and that both closed
  !quit                    QUIT: compares reply and that both closed
Placeholders in lines: {NOW+N} (unix seconds) and {NOWMS+N} (unix ms), fixed
once per script so that both servers receive identical arguments.

Legitimate differences, deliberately EXCLUDED from byte comparison:
  - INFO: contents differ (versions, pids, memory, kasi section, domain names).
  - CLIENT ID: ids are allocation-order dependent.
  - CLIENT LIST / CLIENT INFO: contain addresses, fds, ages.
  - COMMAND / COMMAND INFO / COMMAND DOCS: Kasi implements a subset of Redis'
    command table, so the table differs (COMMAND COUNT too).
  - TIME: wall clock.
  - HELLO: reply carries server name and connection id.
  - CONFIG GET port / dir / pidfile etc.: per-instance values.
  - RANDOMKEY with more than one key: random by definition (only 0/1 keys here).
  - SCAN cursors: implementation specific (compared as key sets, see !scan).
  - KEYS ordering: hash-table order (compared sorted, see !sorted).
  - TTL/PTTL: depend on when each server received the command (!approx, or
    EXPIRETIME/PEXPIRETIME with absolute EXAT/PXAT times, which are exact).
  - SELECT / MOVE / COPY ... DB with a non-numeric, >= 16, negative or
    non-canonical ("01", "-0") db: Redis answers "ERR DB index is out of range"
    or "ERR value is not an integer or out of range"; in Kasi these are valid
    domain names (covered by tests/integration/test_domains.py instead).
  - WRONGTYPE: unreachable, Kasi only has strings.
  - SHUTDOWN / DEBUG / persistence commands: would stop or alter the reference.
"""
import random
import shlex
import time

import pytest

import kasi_harness as H
from diff_scripts import AUTH_SCRIPTS, SCRIPTS


class Mismatch(AssertionError):
    pass


def _subst(line, now):
    out = line
    for _ in range(50):
        i = out.find("{NOW")
        if i < 0:
            break
        j = out.index("}", i)
        expr = out[i + 1:j]
        if expr.startswith("NOWMS"):
            base, rest = now * 1000, expr[5:]
        else:
            base, rest = now, expr[3:]
        val = base + (int(rest) if rest else 0)
        out = out[:i] + str(val) + out[j + 1:]
    return out


def _lit(src):
    """Evaluate a Python expression from our own script table (literals and
    simple arithmetic such as b"x" * 70000); no names are available."""
    return eval(compile(src, "<script>", "eval"), {"__builtins__": {}, "range": range}, {})


def parse_script(text, now):
    steps = []
    for lineno, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        s = _subst(s, now)
        if s.startswith("@py "):
            steps.append(("cmd", _lit(s[4:]), s))
        elif s.startswith("!"):
            word, _, rest = s[1:].partition(" ")
            if word == "sorted":
                steps.append(("sorted", shlex.split(rest), s))
            elif word == "pairs":
                steps.append(("pairs", shlex.split(rest), s))
            elif word == "scan":
                steps.append(("scan", shlex.split(rest), s))
            elif word == "approx":
                tol, _, cmd = rest.partition(" ")
                steps.append(("approx", (int(tol), shlex.split(cmd)), s))
            elif word == "near":
                tol, _, cmd = rest.partition(" ")
                steps.append(("near", (int(tol), shlex.split(cmd)), s))
            elif word == "sleep":
                steps.append(("sleep", int(rest), s))
            elif word == "raw":
                steps.append(("raw", _lit(rest), s))
            elif word == "rawclose":
                steps.append(("rawclose", _lit(rest), s))
            elif word == "quit":
                steps.append(("quit", None, s))
            else:
                raise ValueError("line %d: unknown directive %r" % (lineno, word))
        else:
            steps.append(("cmd", shlex.split(s), s))
    return steps


def _scan_all(conn, extra):
    keys = set()
    cursor = b"0"
    for _ in range(100000):
        rep = conn.cmd("SCAN", cursor, *extra)
        if isinstance(rep, H.RespError):
            return ("error", str(rep))
        cursor, batch = rep
        keys.update(batch)
        if cursor == b"0":
            return ("keys", sorted(keys))
    return ("did-not-finish", sorted(keys))


def _resp_tokens(raw):
    """A reply's RESP tokens in order: (type byte, line or bulk bytes)."""
    out, pos = [], 0
    while pos < len(raw):
        t = raw[pos:pos + 1]
        eol = raw.index(b"\r\n", pos)
        line = raw[pos + 1:eol]
        pos = eol + 2
        if t in H.RESP_BLOB_TYPES and int(line) >= 0:
            line = raw[pos:pos + int(line)]
            pos += len(line) + 2
        out.append((t, line))
    return out


def _near(ra, rb, tol):
    ta, tb = _resp_tokens(ra), _resp_tokens(rb)
    if len(ta) != len(tb):
        return False
    for i, (x, y) in enumerate(zip(ta, tb)):
        if x == y:
            continue
        if x[0] != b":" or y[0] != b":":
            return False
        u, v = int(x[1]), int(y[1])
        clock = (u >= 10 ** 12 and v >= 10 ** 12) or (i and ta[i - 1] == (b"$", b"idle"))
        if not clock or abs(u - v) > tol:
            return False
    return True


def _sorted_reply(raw):
    v = H.parse_reply(raw)
    if isinstance(v, list):
        return type(v).__name__, sorted(v)
    return raw


def _pairs_reply(raw):
    v = H.parse_reply(raw)
    if isinstance(v, list) and v and all(isinstance(e, list) and len(e) == 2 for e in v):
        return "pairs", sorted(tuple(e) for e in v)   # RESP3's nested pairs
    if isinstance(v, list) and len(v) % 2 == 0:
        return type(v).__name__, sorted(zip(v[::2], v[1::2]))
    return raw


def connect(srv, proto=2, timeout=10):
    """A raw connection to srv speaking RESP `proto` (HELLO 3 for RESP3)."""
    c = srv.raw(timeout=timeout)
    if proto == 3:
        rep = c.cmd_raw("HELLO", "3")
        assert rep.startswith(b"%7\r\n$6\r\nserver\r\n"), rep
    return c


def run_script(name, text, ref_srv, sut_srv, flush=True, timeout=10, proto=2):
    now = int(time.time())
    steps = parse_script(text, now)
    a = connect(ref_srv, proto, timeout)
    b = connect(sut_srv, proto, timeout)
    i, src = 0, "(start)"
    try:
        for conn in (a, b) if flush else ():
            assert conn.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for i, (kind, arg, src) in enumerate(steps, 1):
            where = "script %r step %d: %s" % (name, i, src)
            if kind == "sleep":
                time.sleep(arg / 1000.0)
                continue
            if kind == "cmd":
                ra, rb = a.cmd_raw(*arg), b.cmd_raw(*arg)
                if ra != rb:
                    raise Mismatch("%s\n  redis: %r\n  kasi:  %r" % (where, ra, rb))
            elif kind == "sorted":
                ra, rb = a.cmd_raw(*arg), b.cmd_raw(*arg)
                if _sorted_reply(ra) != _sorted_reply(rb):
                    raise Mismatch("%s (compared sorted)\n  redis: %r\n  kasi:  %r" % (where, ra, rb))
            elif kind == "pairs":
                ra, rb = a.cmd_raw(*arg), b.cmd_raw(*arg)
                if _pairs_reply(ra) != _pairs_reply(rb):
                    raise Mismatch("%s (compared as a multiset of name/value pairs)\n  redis: %r\n  kasi:  %r" % (
                        where, ra, rb))
            elif kind == "scan":
                ka, kb = _scan_all(a, arg), _scan_all(b, arg)
                if ka != kb:
                    raise Mismatch("%s (full SCAN key sets)\n  redis: %r\n  kasi:  %r" % (where, ka, kb))
            elif kind == "approx":
                tol, cmd = arg
                ra, rb = a.cmd_raw(*cmd), b.cmd_raw(*cmd)
                va, vb = H.parse_reply(ra), H.parse_reply(rb)
                ok = (isinstance(va, int) and isinstance(vb, int) and abs(va - vb) <= tol) or ra == rb
                if not ok:
                    raise Mismatch("%s (tolerance %d)\n  redis: %r\n  kasi:  %r" % (where, tol, ra, rb))
            elif kind == "near":
                tol, cmd = arg
                ra, rb = a.cmd_raw(*cmd), b.cmd_raw(*cmd)
                if not _near(ra, rb, tol):
                    raise Mismatch("%s (integers within %d)\n  redis: %r\n  kasi:  %r" % (where, tol, ra, rb))
            elif kind == "raw":
                a.send(arg)
                b.send(arg)
                ra, rb = a.read_raw(), b.read_raw()
                if ra != rb:
                    raise Mismatch("%s\n  redis: %r\n  kasi:  %r" % (where, ra, rb))
            elif kind in ("rawclose", "quit"):
                payload = arg if kind == "rawclose" else H.encode_command("QUIT")
                a.send(payload)
                b.send(payload)
                ra, ca = a.read_until_closed(5)
                rb, cb = b.read_until_closed(5)
                if (ra, ca) != (rb, cb):
                    raise Mismatch("%s\n  redis: %r closed=%s\n  kasi:  %r closed=%s" % (where, ra, ca, rb, cb))
                # following steps (if any) use fresh connections
                a.close()
                b.close()
                a = connect(ref_srv, proto)
                b = connect(sut_srv, proto)
    except H.ConnectionClosed as e:
        raise Mismatch("script %r: a server closed the connection unexpectedly at step %d (%s): %s" % (
            name, i, src, e))
    finally:
        a.close()
        b.close()
    return len(steps)


def run_stream(ref_srv, sut_srv, seed, steps, command, setup=(), keys=(), proto=2):
    """A seeded random stream: `setup` commands (each must answer the same),
    then `steps` commands from command(), every reply compared byte for byte,
    then GET of each of `keys`. Raises Mismatch at the first difference."""
    with connect(ref_srv, proto) as a, connect(sut_srv, proto) as b:
        for argv in [["FLUSHALL"]] + list(setup):
            ra, rb = a.cmd_raw(*argv), b.cmd_raw(*argv)
            assert ra == rb, "setup %r: %r / %r" % (argv, ra, rb)
        for step in range(steps):
            argv = command()
            ra, rb = a.cmd_raw(*argv), b.cmd_raw(*argv)
            if ra != rb:
                raise Mismatch("seed %d step %d: %r\n  redis: %r\n  kasi:  %r" % (
                    seed, step, [v[:60] for v in argv], ra[:300], rb[:300]))
        for k in keys:
            ra, rb = a.cmd_raw("GET", k), b.cmd_raw("GET", k)
            assert ra == rb, "seed %d: final value of %s\n  redis: %r\n  kasi:  %r" % (seed, k, ra, rb)


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff(pair, name, proto):
    ref, sut = pair
    n = run_script(name, SCRIPTS[name], ref, sut, proto=proto)
    assert n > 0
    # the server under test must still be alive and responsive
    assert sut.alive(), "server under test died during script %r" % name
    with sut.raw(timeout=5) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


@pytest.mark.parametrize("name", list(AUTH_SCRIPTS))
def test_diff_auth(auth_pair, name):
    """Scripts run against both servers started with requirepass "pw"; each
    script starts unauthenticated on a fresh connection."""
    ref, sut = auth_pair
    for srv in (ref, sut):
        with srv.raw() as c:
            assert c.cmd_raw("AUTH", "pw") == b"+OK\r\n"
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
    run_script(name, AUTH_SCRIPTS[name], ref, sut, flush=False)
    assert sut.alive()
    rep = sut.sanitizer_report()
    assert not rep, "sanitizer reported errors:\n" + rep


def test_harness_detects_mismatch(pair):
    """Sanity check of the harness itself: different data must be reported."""
    ref, sut = pair
    with ref.raw() as a, sut.raw() as b:
        assert a.cmd_raw("FLUSHALL") == b"+OK\r\n"
        assert b.cmd_raw("FLUSHALL") == b"+OK\r\n"
        a.cmd_raw("SET", "onlyref", "x")
    with pytest.raises(Mismatch, match="onlyref"):
        _compare_no_flush("GET onlyref\n", ref, sut)


def _compare_no_flush(text, ref_srv, sut_srv):
    with ref_srv.raw() as a, sut_srv.raw() as b:
        for kind, arg, src in parse_script(text, int(time.time())):
            ra, rb = a.cmd_raw(*arg), b.cmd_raw(*arg)
            if ra != rb:
                raise Mismatch("%s\n  redis: %r\n  kasi:  %r" % (src, ra, rb))


def _lcs_cases():
    r = random.Random(20261202)
    cases = []
    # (len a, len b, alphabet): both orientations of the bit rows, lengths at
    # and around the 64-bit words and the 64-row blocks, repeats (many equal
    # ways back through the table, where the tie-break rule decides)
    shapes = [(0, 5, "ab"), (1, 1, "a"), (63, 64, "ab"), (64, 65, "abc"), (65, 63, "ab"), (127, 129, "acgt"),
              (200, 3, "ab"), (3, 200, "ab"), (1000, 1000, "acgt"), (2500, 700, "ab"), (700, 2500, "xyz"),
              (4000, 4000, "abcdefghijklmnopqrstuvwxyz"), (300, 300, "a"), (5000, 40, "ab")]
    for alen, blen, abc in shapes:
        cases.append(("".join(r.choice(abc) for _ in range(alen)),
                      "".join(r.choice(abc) for _ in range(blen))))
    return cases


def test_diff_lcs_seeded(pair):
    """LCS of seeded random strings of many shapes, in every reply form, byte
    for byte with Redis (whose table of 32-bit cells Kasi replaces with bit
    rows, so the way back through it must take the same turns)."""
    ref, sut = pair
    forms = [(), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", "3", "WITHMATCHLEN")]
    with ref.raw(timeout=30) as a, sut.raw(timeout=30) as b:
        for n, (x, y) in enumerate(_lcs_cases()):
            for c in (a, b):
                assert c.cmd_raw("MSET", "x", x, "y", y) == b"+OK\r\n"
            for form in forms:
                for keys in (("x", "y"), ("y", "x")):
                    cmd = ("LCS",) + keys + form
                    ra, rb = a.cmd_raw(*cmd), b.cmd_raw(*cmd)
                    if ra != rb:
                        raise Mismatch("case %d (%d x %d) %s\n  redis: %r\n  kasi:  %r" % (
                            n, len(x), len(y), " ".join(cmd), ra[:300], rb[:300]))


def test_lcs_big_strings_answer_fast(pair):
    """The largest LCS Redis allows by default (a 1 MB string against 120
    bytes: 480 MB of table cells in Redis) costs Kasi a few MB and a pass of
    words, so the server answers it, and a PING on another connection, well
    within the time a table of cells would take (seconds, or tens of seconds
    under a sanitizer)."""
    ref, sut = pair
    with sut.raw(timeout=30) as b, sut.raw(timeout=30) as other:
        assert b.cmd_raw("SETBIT", "big", str(8 * 1024 * 1024 - 1), "1") == b":0\r\n"
        assert b.cmd_raw("SET", "small", "x" * 119 + "\x01") == b"+OK\r\n"
        t0 = time.monotonic()
        assert b.cmd_raw("LCS", "big", "small", "LEN") == b":1\r\n"
        assert b.cmd_raw("LCS", "big", "small") == b"$1\r\n\x01\r\n"
        assert b.cmd_raw("LCS", "big", "small", "IDX") == (
            b"*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:1048575\r\n:1048575\r\n*2\r\n:119\r\n:119\r\n"
            b"$3\r\nlen\r\n:1\r\n")
        assert other.cmd_raw("PING") == b"+PONG\r\n"
        took = time.monotonic() - t0
    assert took < 2.0 * H.TIME_FACTOR, "three LCS of 1 MB x 120 B took %.2fs" % took
