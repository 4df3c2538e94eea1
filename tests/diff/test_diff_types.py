"""Differential test for hashes, lists, sets and sorted sets (Redis 7.0
semantics): the scripts of diff_scripts_types.py, then a seeded random command
stream over all four types plus strings and the key commands.

The scripts run through test_diff.run_script.  On top of its directives this
module adds !hscan / !sscan / !zscan KEY [MATCH p] [COUNT n] (full iteration
on both servers, compared as sets, see diff_scripts_types.py): a script is cut
at those lines, the pieces in between go to run_script unchanged (flush=False,
after one FLUSHALL here), and the scans are done here.

Env: KASI_TYPES_FUZZ_STEPS (default 3000 per seed),
     KASI_TYPES_FUZZ_SEEDS (default 11,12,13).
"""
import os
import random
import re
import shlex
import time

import pytest

from kasi_harness import RespError, parse_reply
from test_diff import Mismatch, run_script
from diff_scripts_types import SCRIPTS

FUZZ_STEPS = int(os.environ.get("KASI_TYPES_FUZZ_STEPS", "3000"))
FUZZ_SEEDS = [int(s) for s in os.environ.get("KASI_TYPES_FUZZ_SEEDS", "11,12,13").split(",") if s.strip()]


# ------------------------------------------------------------------ RESP2 reading
# Replies are parsed from the exact bytes each connection returned; an error
# reply parses to an Err (its text without the leading '-').
Err = RespError
parse = parse_reply


# ------------------------------------------------------- HSCAN / SSCAN / ZSCAN

KEY_SCANS = {"hscan": "HSCAN", "sscan": "SSCAN", "zscan": "ZSCAN"}


def key_scan_all(conn, cmd, key, extra):
    """Iterate CMD key to completion; returns a comparable summary."""
    seen = set()
    cursor = b"0"
    for _ in range(100000):
        raw = conn.cmd_raw(cmd, key, cursor, *extra)
        rep = parse(raw)
        if isinstance(rep, Err):
            return ("error", raw)
        if not (isinstance(rep, list) and len(rep) == 2 and isinstance(rep[1], list)):
            return ("bad-reply", raw)
        cursor, batch = rep
        if cmd == "SSCAN":
            seen.update(batch)
        else:
            if len(batch) % 2:
                return ("odd-length-batch", raw)
            seen.update(zip(batch[::2], batch[1::2]))
        if cursor == b"0":
            return ("elements", sorted(seen))
    return ("did-not-finish", sorted(seen))


def split_script(text):
    """[("text", str) | ("keyscan", CMD, key, extra, src)] in script order."""
    parts, buf = [], []
    for line in text.splitlines():
        s = line.strip()
        word = s[1:].partition(" ")[0].lower() if s.startswith("!") else ""
        if word in KEY_SCANS:
            if buf:
                parts.append(("text", "\n".join(buf) + "\n"))
                buf = []
            args = shlex.split(s.partition(" ")[2])
            if not args:
                raise ValueError("%s needs a key: %r" % (word, s))
            parts.append(("keyscan", KEY_SCANS[word], args[0], args[1:], s))
        else:
            buf.append(line)
    if buf:
        parts.append(("text", "\n".join(buf) + "\n"))
    return parts


def run_types_script(name, text, ref_srv, sut_srv, proto=2):
    """Runs a script of diff_scripts_types.py; returns the number of steps."""
    for srv in (ref_srv, sut_srv):
        with srv.raw(timeout=10) as c:
            assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
    steps = 0
    for part in split_script(text):
        if part[0] == "text":
            steps += run_script(name, part[1], ref_srv, sut_srv, flush=False, proto=proto)
            continue
        _, cmd, key, extra, src = part
        with ref_srv.raw(timeout=10) as a, sut_srv.raw(timeout=10) as b:
            ka, kb = key_scan_all(a, cmd, key, extra), key_scan_all(b, cmd, key, extra)
        if ka != kb:
            raise Mismatch("script %r: %s (full %s, compared as sets)\n  redis: %r\n  kasi:  %r" % (
                name, src, cmd, ka, kb))
        steps += 1
    return steps


_KASI_COMMANDS = {}


def missing_commands(sut, names):
    """The commands among names the server under test does not have yet:
    the collection types land one at a time, and a script (or the random
    stream) runs once every command it uses exists."""
    if sut not in _KASI_COMMANDS:
        with sut.raw(timeout=10) as c:
            _KASI_COMMANDS[sut] = {n.decode().lower() for n in c.cmd("COMMAND", "LIST")}
    return sorted({n.lower() for n in names} - _KASI_COMMANDS[sut])


def script_commands(text):
    """The command names a script uses (the first word of each line that is
    not a directive or a comment)."""
    names = set()
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(("#", "!")):
            if s.startswith("!") and s[1:].partition(" ")[0].lower() in KEY_SCANS:
                names.add(KEY_SCANS[s[1:].partition(" ")[0].lower()])
            continue
        if s.startswith("@py "):   # a Python list whose first item names the command
            m = re.match(r"""\s*\[\s*b?["']([^"']+)""", s[4:])
            names.add(m.group(1) if m else "?")
        else:
            names.add(shlex.split(s)[0])
    return names


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_types(pair, name, proto):
    ref, sut = pair
    missing = missing_commands(sut, script_commands(SCRIPTS[name]))
    if missing:
        pytest.skip("Kasi does not have %s yet" % " ".join(missing))
    n = run_types_script(name, SCRIPTS[name], ref, sut, proto)
    assert n > 0
    assert sut.alive(), "server under test died during script %r" % name
    with sut.raw(timeout=5) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


def test_key_scan_helper(pair):
    """Sanity check of the !hscan/!sscan/!zscan machinery itself, on the
    reference server only (so it holds whatever the server under test does)."""
    ref, _ = pair
    parts = split_script("HSET h f v\n!hscan h MATCH f* COUNT 2\n!sscan s\nGET x\n!zscan z\n")
    assert [p[0] for p in parts] == ["text", "keyscan", "keyscan", "text", "keyscan"]
    assert parts[1][1:4] == ("HSCAN", "h", ["MATCH", "f*", "COUNT", "2"])
    with ref.raw() as c:
        assert c.cmd_raw("FLUSHALL") == b"+OK\r\n"
        args = []
        for i in range(700):      # a hashtable: several SCAN rounds
            args += ["f%d" % i, "v%d" % i]
        c.cmd_raw("HSET", "h", *args)
        c.cmd_raw("HSET", "h2", *args[:-2])
        c.cmd_raw("SADD", "s", *["m%d" % i for i in range(700)])
        c.cmd_raw("ZADD", "z", "1.5", "a", "2", "b")
        got = key_scan_all(c, "HSCAN", "h", ["COUNT", "3"])
        assert got == ("elements", sorted((b"f%d" % i, b"v%d" % i) for i in range(700)))
        assert key_scan_all(c, "HSCAN", "h2", []) != got
        assert key_scan_all(c, "HSCAN", "h", ["MATCH", "f69?"]) == (
            "elements", sorted((b"f69%d" % i, b"v69%d" % i) for i in range(10)))
        assert key_scan_all(c, "SSCAN", "s", ["COUNT", "5"]) == ("elements", sorted(b"m%d" % i for i in range(700)))
        assert key_scan_all(c, "ZSCAN", "z", []) == ("elements", [(b"a", b"1.5"), (b"b", b"2")])
        assert key_scan_all(c, "ZSCAN", "nokey", []) == ("elements", [])
        assert key_scan_all(c, "ZSCAN", "h", [])[0] == "error"
        assert key_scan_all(c, "SSCAN", "s", ["COUNT", "0"])[0] == "error"


# ------------------------------------------------------------ random stream

KEYS = ["h", "l", "s", "z", "a", "b"]
HOME = {"hash": "h", "list": "l", "set": "s", "zset": "z"}   # strings: "a" and "b"
FIELDS = ["f1", "f2", "f3", "1", "2", "-3", "", "x y"]
MEMBERS = ["1", "2", "3", "10", "-5", "m", "n", "o", "", "abc", "01", "9223372036854775807"]
POP_ALL = "1000"       # counts >= any collection the generator builds


class TypesGen:
    """Generates (argv, compare-mode): exact | sorted | pairs | shape | encoding.
    shape (for replies that are legitimately random): errors byte for byte,
    otherwise nil-ness / integer / array length; encoding: OBJECT ENCODING,
    exact except that the string encodings (int/embstr/raw) are not told apart.
    Inside MULTI only exact-mode commands are generated (EXEC's array is
    compared byte for byte)."""

    def __init__(self, seed, now):
        self.r = random.Random(seed)
        self.now = now
        self.in_multi = False
        self.home = None

    # -- arguments
    def k(self):
        """Mostly the home key of the type being generated (so that most
        commands meet their own type), else any key (WRONGTYPE paths)."""
        if self.home and self.r.random() < 0.85:
            return self.home
        return self.r.choice(KEYS)

    def f(self):
        return self.r.choice(FIELDS)

    def m(self):
        return self.r.choice(MEMBERS)

    def val(self):
        r = self.r
        return r.choice([lambda: str(r.randint(-100, 100)), lambda: "%.2f" % r.uniform(-10, 10),
                         lambda: r.choice(["", "abc", "0", "-0", "1e3", "0.1", " 1", "9223372036854775807"]),
                         lambda: "v" * r.choice([1, 63, 64, 65, 200])])()

    def score(self):
        r = self.r
        if r.random() < 0.1:
            return r.choice(["nan", "abc", "", "1e400", " 1"])
        return r.choice([str(r.randint(-5, 5)), str(r.randint(-5, 5)), "%.1f" % r.uniform(-5, 5), "0.1", "1e20",
                         "-0", "inf", "-inf", "+inf", "1.5", "1e17"])

    def rng(self):
        r = self.r
        return r.choice([str(r.randint(-8, 8)), "0", "-1", "x"])

    def score_bound(self):
        r = self.r
        return r.choice([str(r.randint(-5, 5)), "(" + str(r.randint(-5, 5)), "-inf", "+inf", "(1.5", "x"])

    def lex_bound(self):
        r = self.r
        return r.choice(["-", "+", "[" + self.m(), "(" + self.m(), "x"])

    def cnt(self):
        r = self.r
        return r.choice([str(r.randint(0, 5)), "-1", "x", POP_ALL])

    def abs_s(self):
        return str(self.now + self.r.randint(1000, 100000))

    # -- commands
    def cmd(self):
        while True:
            c, mode = self._cmd()
            if not self.in_multi or mode == "exact":
                break
        if c[0] == "MULTI":
            self.in_multi = True
        elif c[0] in ("EXEC", "DISCARD"):
            self.in_multi = False
        return c, mode

    def _cmd(self):
        r = self.r
        k, v = self.k, self.val
        if self.in_multi and r.random() < 0.12:
            return [r.choice(["EXEC", "EXEC", "DISCARD"])], "exact"
        t = r.random()
        self.home = None
        if r.random() < 0.04:
            # now and then a home key starts afresh (RENAME, COPY, SET and
            # the STORE commands move types around the key pool)
            return ["DEL", r.choice(KEYS)], "exact"
        if t < 0.22:
            self.home = HOME["hash"]
            return self.hash_cmd()
        if t < 0.44:
            self.home = HOME["list"]
            return self.list_cmd()
        if t < 0.64:
            self.home = HOME["set"]
            return self.set_cmd()
        if t < 0.86:
            self.home = HOME["zset"]
            return self.zset_cmd()
        if r.random() < 0.85:
            self.home = r.choice(["a", "b"])
        c = r.randint(0, 21)
        if c == 0:
            return ["GET", k()], "exact"
        if c == 1:
            return ["SET", k(), v()] + r.choice([[], ["NX"], ["XX"], ["GET"], ["EXAT", self.abs_s()]]), "exact"
        if c == 2:
            return ["APPEND", k(), v()], "exact"
        if c == 3:
            return [r.choice(["INCR", "DECR"]), k()], "exact"
        if c == 4:
            return ["INCRBYFLOAT", k(), r.choice(["1", "0.5", "x"])], "exact"
        if c == 5:
            return ["STRLEN", k()], "exact"
        if c == 6:
            return ["GETRANGE", k(), self.rng(), self.rng()], "exact"
        if c == 7:
            return ["SETRANGE", k(), str(r.randint(0, 5)), v()], "exact"
        if c == 8:
            return ["DEL"] + [k() for _ in range(r.randint(1, 2))], "exact"
        if c == 9:
            return ["EXISTS"] + [k() for _ in range(r.randint(1, 3))], "exact"
        if c in (10, 11):
            return ["TYPE", k()], "exact"
        if c == 12:
            return ["RENAME", k(), k()], "exact"
        if c == 13:
            return ["RENAMENX", k(), k()], "exact"
        if c == 14:
            return ["COPY", k(), k()] + r.choice([[], ["REPLACE"]]), "exact"
        if c == 15:
            return ["EXPIREAT", k(), self.abs_s()] + r.choice([[], ["NX"], ["XX"], ["GT"], ["LT"]]), "exact"
        if c == 16:
            return ["EXPIRETIME", k()], "exact"
        if c == 17:
            return ["PERSIST", k()], "exact"
        if c == 18:
            return ["OBJECT", "ENCODING", k()], "encoding"
        if c == 19:
            return ["MGET"] + [k() for _ in range(3)], "exact"
        if c == 20:
            return (["MULTI"], "exact") if not self.in_multi else (["PING"], "exact")
        return ["GETDEL", k()], "exact"

    def hash_cmd(self):
        r = self.r
        k, f, v = self.k, self.f, self.val
        c = r.randint(0, 19)
        if c in (0, 1):
            a = ["HSET", k()]
            for _ in range(r.randint(1, 3)):
                a += [f(), v()]
            return a, "exact"
        if c == 2:
            return ["HSETNX", k(), f(), v()], "exact"
        if c == 3:
            return ["HGET", k(), f()], "exact"
        if c == 4:
            return ["HMGET", k()] + [f() for _ in range(r.randint(1, 3))], "exact"
        if c == 5:
            return ["HDEL", k()] + [f() for _ in range(r.randint(1, 3))], "exact"
        if c == 6:
            return ["HEXISTS", k(), f()], "exact"
        if c == 7:
            return ["HLEN", k()], "exact"
        if c == 8:
            return ["HSTRLEN", k(), f()], "exact"
        if c == 9:
            return ["HKEYS", k()], "sorted"
        if c == 10:
            return ["HVALS", k()], "sorted"
        if c == 11:
            return ["HGETALL", k()], "pairs"
        if c == 12:
            return ["HINCRBY", k(), f(), r.choice(["1", "-3", "100", "x", "9223372036854775807"])], "exact"
        if c == 13:
            return ["HINCRBYFLOAT", k(), f(), r.choice(["1.5", "0.1", "-2", "x", "inf"])], "exact"
        if c == 14:
            return ["HRANDFIELD", k(), POP_ALL], "sorted"
        if c == 15:
            return ["HRANDFIELD", k(), POP_ALL, "WITHVALUES"], "pairs"
        if c == 16:
            return ["HRANDFIELD", k()] + r.choice([[], [str(r.randint(-3, 3))], [str(r.randint(-3, 3)), "WITHVALUES"]]), "shape"
        if c == 17:
            return ["HMSET", k(), f(), v()], "exact"
        if c == 18:
            # grow a hash past the listpack bound now and then
            if r.random() < 0.1:
                a = ["HSET", k()]
                for i in range(r.choice([100, 520])):
                    a += ["big%d" % i, str(i)]
                return a, "exact"
            return ["HLEN", k()], "exact"
        return r.choice([["HSET", k()], ["HSET", k(), f()], ["HGET", k()], ["HINCRBY", k(), f()]]), "exact"

    def list_cmd(self):
        r = self.r
        k, m, v = self.k, self.m, self.val
        c = r.randint(0, 21)
        if c in (0, 1):
            return [r.choice(["LPUSH", "RPUSH"]), k()] + [m() for _ in range(r.randint(1, 4))], "exact"
        if c == 2:
            return [r.choice(["LPUSHX", "RPUSHX"]), k(), m()], "exact"
        if c in (3, 4):
            return [r.choice(["LPOP", "RPOP"]), k()] + r.choice([[], [self.cnt()]]), "exact"
        if c == 5:
            return ["LLEN", k()], "exact"
        if c == 6:
            return ["LRANGE", k(), self.rng(), self.rng()], "exact"
        if c == 7:
            return ["LINDEX", k(), self.rng()], "exact"
        if c == 8:
            return ["LSET", k(), self.rng(), m()], "exact"
        if c == 9:
            return ["LINSERT", k(), r.choice(["BEFORE", "AFTER", "x"]), m(), m()], "exact"
        if c == 10:
            return ["LREM", k(), str(r.randint(-2, 2)), m()], "exact"
        if c == 11:
            return ["LTRIM", k(), self.rng(), self.rng()], "exact"
        if c == 12:
            a = ["LPOS", k(), m()]
            for o in r.sample(["RANK", "COUNT", "MAXLEN"], r.randint(0, 2)):
                a += [o, r.choice(["1", "2", "-1", "0", "x"]) if o == "RANK" else self.cnt()]
            return a, "exact"
        if c == 13:
            return ["LMOVE", k(), k(), r.choice(["LEFT", "RIGHT"]), r.choice(["LEFT", "RIGHT"])], "exact"
        if c == 14:
            return ["RPOPLPUSH", k(), k()], "exact"
        if c == 15:
            n = r.randint(1, 3)
            a = ["LMPOP", str(n)] + [k() for _ in range(n)] + [r.choice(["LEFT", "RIGHT"])]
            if r.random() < 0.5:
                a += ["COUNT", self.cnt()]
            return a, "exact"
        if c == 16:
            if r.random() < 0.2:
                return ["RPUSH", k()] + ["e%d" % i for i in range(r.choice([50, 200]))], "exact"
            return ["LLEN", k()], "exact"
        if c == 17:
            return ["RPUSH", k(), v()], "exact"
        return r.choice([["LPUSH", k()], ["LRANGE", k(), "0"], ["LMPOP", "0", k(), "LEFT"], ["LPOS", k(), m(), "RANK", "0"],
                         ["LMOVE", k(), k(), "UP", "LEFT"]]), "exact"

    def set_cmd(self):
        r = self.r
        k, m = self.k, self.m
        c = r.randint(0, 21)
        if c in (0, 1, 2):
            return ["SADD", k()] + [m() for _ in range(r.randint(1, 4))], "exact"
        if c == 3:
            return ["SREM", k()] + [m() for _ in range(r.randint(1, 3))], "exact"
        if c == 4:
            return ["SMEMBERS", k()], "sorted"
        if c == 5:
            return ["SISMEMBER", k(), m()], "exact"
        if c == 6:
            return ["SMISMEMBER", k()] + [m() for _ in range(r.randint(1, 3))], "exact"
        if c == 7:
            return ["SCARD", k()], "exact"
        if c == 8:
            return ["SPOP", k(), POP_ALL], "sorted"
        if c == 9:
            return ["SRANDMEMBER", k(), POP_ALL], "sorted"
        if c == 10:
            return ["SRANDMEMBER", k()] + r.choice([[], [str(r.randint(-3, 3))]]), "shape"
        if c == 11:
            return ["SMOVE", k(), k(), m()], "exact"
        if c in (12, 13, 14):
            return [r.choice(["SINTER", "SUNION", "SDIFF"])] + [k() for _ in range(r.randint(1, 3))], "sorted"
        if c == 15:
            n = r.randint(1, 3)
            a = ["SINTERCARD", str(n)] + [k() for _ in range(n)]
            if r.random() < 0.4:
                a += ["LIMIT", r.choice(["0", "1", "2", "-1"])]
            return a, "exact"
        if c in (16, 17):
            return [r.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k()] + [k() for _ in range(r.randint(1, 3))], "exact"
        if c == 18:
            if r.random() < 0.15:
                return ["SADD", k()] + [str(i) for i in range(r.choice([100, 520]))], "exact"
            return ["SCARD", k()], "exact"
        if c == 19:
            return ["OBJECT", "ENCODING", k()], "encoding"
        return r.choice([["SADD", k()], ["SINTERCARD", "0", k()], ["SPOP", k(), "-1"], ["SMOVE", k(), k()]]), "exact"

    def zset_cmd(self):
        r = self.r
        k, m = self.k, self.m
        c = r.randint(0, 29)
        if c in (0, 1, 2):
            a = ["ZADD", k()] + r.sample(["NX", "XX", "GT", "LT", "CH", "INCR"], r.choice([0, 0, 1, 2]))
            for _ in range(r.randint(1, 3)):
                a += [self.score(), m()]
            return a, "exact"
        if c == 3:
            return ["ZINCRBY", k(), self.score(), m()], "exact"
        if c == 4:
            return ["ZREM", k()] + [m() for _ in range(r.randint(1, 3))], "exact"
        if c == 5:
            return ["ZCARD", k()], "exact"
        if c == 6:
            return ["ZSCORE", k(), m()], "exact"
        if c == 7:
            return ["ZMSCORE", k()] + [m() for _ in range(r.randint(1, 3))], "exact"
        if c == 8:
            return [r.choice(["ZRANK", "ZREVRANK"]), k(), m()], "exact"
        if c == 9:
            return ["ZCOUNT", k(), self.score_bound(), self.score_bound()], "exact"
        if c == 10:
            return ["ZLEXCOUNT", k(), self.lex_bound(), self.lex_bound()], "exact"
        if c in (11, 12):
            a = ["ZRANGE", k()]
            form = r.choice(["idx", "score", "lex"])
            if form == "idx":
                a += [self.rng(), self.rng()]
            elif form == "score":
                a += [self.score_bound(), self.score_bound(), "BYSCORE"]
            else:
                a += [self.lex_bound(), self.lex_bound(), "BYLEX"]
            if r.random() < 0.4:
                a.append("REV")
            if r.random() < 0.3:
                a += ["LIMIT", str(r.randint(-1, 3)), str(r.randint(-1, 3))]
            if r.random() < 0.4:
                a.append("WITHSCORES")
            return a, "exact"
        if c == 13:
            return ["ZRANGESTORE", k(), k(), self.rng(), self.rng()] + r.choice([[], ["REV"]]), "exact"
        if c == 14:
            return [r.choice(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k(), self.score_bound(), self.score_bound()] + \
                r.choice([[], ["WITHSCORES"], ["LIMIT", "1", "2"]]), "exact"
        if c == 15:
            return [r.choice(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), k(), self.lex_bound(), self.lex_bound()], "exact"
        if c == 16:
            return ["ZREVRANGE", k(), self.rng(), self.rng()] + r.choice([[], ["WITHSCORES"]]), "exact"
        if c == 17:
            return ["ZREMRANGEBYRANK", k(), self.rng(), self.rng()], "exact"
        if c == 18:
            return ["ZREMRANGEBYSCORE", k(), self.score_bound(), self.score_bound()], "exact"
        if c == 19:
            return ["ZREMRANGEBYLEX", k(), self.lex_bound(), self.lex_bound()], "exact"
        if c == 20:
            return [r.choice(["ZPOPMIN", "ZPOPMAX"]), k()] + r.choice([[], [self.cnt()]]), "exact"
        if c == 21:
            n = r.randint(1, 3)
            a = ["ZMPOP", str(n)] + [k() for _ in range(n)] + [r.choice(["MIN", "MAX"])]
            if r.random() < 0.5:
                a += ["COUNT", self.cnt()]
            return a, "exact"
        if c == 22:
            if r.random() < 0.5:
                return ["ZRANDMEMBER", k(), POP_ALL, "WITHSCORES"], "pairs"
            return ["ZRANDMEMBER", k(), POP_ALL], "sorted"
        if c == 23:
            return ["ZRANDMEMBER", k()] + r.choice([[], [str(r.randint(-3, 3))]]), "shape"
        if c in (24, 25):
            op = r.choice(["ZUNION", "ZINTER", "ZDIFF"])
            n = r.randint(1, 3)
            a = [op, str(n)] + [k() for _ in range(n)]
            if op != "ZDIFF" and r.random() < 0.4:
                a += ["WEIGHTS"] + [r.choice(["1", "2", "0.5", "-1", "0", "inf"]) for _ in range(n)]
            if op != "ZDIFF" and r.random() < 0.4:
                a += ["AGGREGATE", r.choice(["SUM", "MIN", "MAX"])]
            if r.random() < 0.5:
                a.append("WITHSCORES")
            return a, "exact"
        if c == 26:
            op = r.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
            n = r.randint(1, 3)
            return [op, k(), str(n)] + [k() for _ in range(n)], "exact"
        if c == 27:
            n = r.randint(1, 2)
            return ["ZINTERCARD", str(n)] + [k() for _ in range(n)] + r.choice([[], ["LIMIT", "1"]]), "exact"
        if c == 28:
            if r.random() < 0.2:
                a = ["ZADD", k()]
                for i in range(r.choice([60, 140])):
                    a += [str(i % 17), "z%d" % i]
                return a, "exact"
            return ["ZCARD", k()], "exact"
        return r.choice([["ZADD", k(), "NX", "XX", "1", "a"], ["ZADD", k(), "1"], ["ZRANGE", k(), "0", "1", "LIMIT", "0", "1"],
                         ["ZUNION", "0", k()], ["ZINCRBY", k(), "1"]]), "exact"


STRING_ENCODINGS = (b"$3\r\nint\r\n", b"$6\r\nembstr\r\n", b"$3\r\nraw\r\n")


def _normalise(raw, mode):
    v = parse(raw)
    if isinstance(v, Err) or mode == "exact":
        return raw
    if mode == "encoding":
        # a string's OBJECT ENCODING (int/embstr/raw) is Redis' memory layout,
        # not compared; the collections' encodings are
        return "some string encoding" if raw in STRING_ENCODINGS else raw
    if mode == "shape":
        if isinstance(v, list):
            return ("array", len(v))
        return ("nil",) if v is None else (type(v).__name__,)
    if not isinstance(v, list):
        return raw
    if mode == "sorted":
        return sorted(v)
    if mode == "pairs":
        # HGETALL and the WITHVALUES/WITHSCORES forms
        if len(v) % 2:
            return raw
        return sorted(zip(v[::2], v[1::2]))
    raise ValueError("unknown compare mode %r" % mode)


def _state(conn, key):
    """Canonical content of one key, order-insensitive where Redis' is."""
    t = conn.cmd_raw("TYPE", key)
    if t == b"+hash\r\n":
        return t, _normalise(conn.cmd_raw("HGETALL", key), "pairs")
    if t == b"+set\r\n":
        return t, _normalise(conn.cmd_raw("SMEMBERS", key), "sorted")
    if t == b"+list\r\n":
        return t, conn.cmd_raw("LRANGE", key, "0", "-1")
    if t == b"+zset\r\n":
        return t, conn.cmd_raw("ZRANGE", key, "0", "-1", "WITHSCORES")
    if t == b"+string\r\n":
        return t, conn.cmd_raw("GET", key)
    return t, None


LEX_COMMANDS = {"ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"}


def _lex_undefined(conn, cmd):
    """Whether a lex range command meets a skiplist sorted set whose members
    do not all share a score: Redis then answers what its skiplist descent
    finds, which depends on the nodes' random levels (undefined, and not the
    same from one Redis to the next), so the stream leaves it out. Compact
    sets are scanned in order and compared."""
    name = cmd[0].upper()
    if name not in LEX_COMMANDS and not (name == "ZRANGE" and "BYLEX" in (a.upper() for a in cmd)):
        return False
    key = cmd[1]
    if conn.cmd_raw("OBJECT", "ENCODING", key) != b"$8\r\nskiplist\r\n":
        return False
    first = conn.cmd_raw("ZRANGE", key, "0", "0", "WITHSCORES")
    last = conn.cmd_raw("ZRANGE", key, "-1", "-1", "WITHSCORES")
    return first.split(b"\r\n")[-2] != last.split(b"\r\n")[-2]


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_fuzz_types_diff(pair, seed):
    ref, sut = pair
    missing = missing_commands(sut, ["HSET", "LPUSH", "SADD", "ZADD"])
    if missing:
        pytest.skip("the stream mixes all four types; Kasi does not have %s yet" % " ".join(missing))
    gen = TypesGen(seed, int(time.time()))
    history = []
    with ref.raw(timeout=10) as a, sut.raw(timeout=10) as b:
        for conn in (a, b):
            assert conn.cmd_raw("FLUSHALL") == b"+OK\r\n"
        for step in range(1, FUZZ_STEPS + 1):
            cmd, mode = gen.cmd()
            if not gen.in_multi and _lex_undefined(a, cmd):
                continue
            history.append(cmd)
            ra = a.cmd_raw(*cmd)
            try:
                rb = b.cmd_raw(*cmd)
            except OSError as e:
                pytest.fail("seed %d step %d: %r -> server under test failed: %s\n  redis: %r\n  recent: %r" % (
                    seed, step, cmd, e, ra, history[-15:]))
            except Exception as e:  # harness ConnectionClosed
                pytest.fail("seed %d step %d: %r -> server under test failed: %r\n  redis: %r\n  recent: %r" % (
                    seed, step, cmd, e, ra, history[-15:]))
            if ra != rb and _normalise(ra, mode) != _normalise(rb, mode):
                pytest.fail("seed %d step %d: %r (compared %s)\n  redis: %r\n  kasi:  %r\n"
                            "  preceding commands (oldest first):\n    %s" % (
                                seed, step, cmd, mode, ra[:2000], rb[:2000],
                                "\n    ".join(repr(h)[:300] for h in history[-15:-1])))
            if step % 100 == 0 and not gen.in_multi:
                sa = [_state(a, key) for key in KEYS]
                sb = [_state(b, key) for key in KEYS]
                if sa != sb:
                    pytest.fail("seed %d after step %d: key contents differ\n  redis: %r\n  kasi:  %r\n  recent: %r" % (
                        seed, step, sa, sb, history[-15:]))
        if gen.in_multi:
            for conn in (a, b):
                conn.cmd_raw("DISCARD")
        sa = [_state(a, key) for key in KEYS]
        sb = [_state(b, key) for key in KEYS]
        assert sa == sb, "final state differs:\n  redis: %r\n  kasi:  %r" % (sa, sb)
