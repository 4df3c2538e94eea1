"""COMMAND against Redis 7.0: for every command Kasi has, COMMAND INFO gives the
same arity, flags, key positions, ACL categories, tips and key specs as Redis's
(a container's subcommand list is compared for the subcommands Kasi has); COMMAND
LIST with and without FILTERBY lists what Redis lists, restricted to Kasi's
commands (the bitmap and HyperLogLog families by ACL category and by pattern
too); COMMAND DOCS gives Redis's since, group and complexity. COMMAND INFO and
DOCS are compared in RESP3 too, where Redis's replies use sets and maps."""
import kasi_harness as H
from test_diff import connect


def _list(srv, *args):
    with srv.raw() as c:
        r = c.cmd("COMMAND", "LIST", *args)
    assert isinstance(r, list), r
    return set(r)


def _info(srv, *names, proto=2):
    with connect(srv, proto) as c:
        return c.cmd("COMMAND", "INFO", *names)


def _no_notes(info):
    """Redis's key specs may carry a prose "notes" field, which Kasi leaves out."""
    out = list(info)
    out[8] = type(info[8])(type(ks)(v for i, v in enumerate(ks) if not (ks[i - (i % 2)] == b"notes"))
                           for ks in info[8])
    out[9] = type(info[9])(_no_notes(s) for s in info[9])
    return out


def _typed(v):
    """A parsed reply with the RESP3 type of each aggregate kept (a set and
    an array of the same elements differ)."""
    if isinstance(v, list):
        return type(v).__name__, [_typed(e) for e in v]
    return v


def test_command_info_matches_redis(pair, proto):
    ref, sut = pair
    names = sorted(_list(sut))
    assert len(names) > 70
    mine = _info(sut, *names, proto=proto)
    theirs = [_no_notes(b) if b else b for b in _info(ref, *names, proto=proto)]
    for name, a, b in zip(names, mine, theirs):
        assert b is not None, "Redis has no command %r" % name
        assert _typed(a[:9]) == _typed(b[:9]), "COMMAND INFO %s:\n  kasi:  %r\n  redis: %r" % (
            name, _typed(a[:9]), _typed(b[:9]))
        assert type(a[9]) is type(b[9]) or not b[9], name
        subs = {s[0]: s for s in b[9]}
        for s in a[9]:
            assert _typed(s) == _typed(subs.get(s[0])), (
                "COMMAND INFO %s subcommand %s:\n  kasi:  %r\n  redis: %r" % (name, s[0], s, subs.get(s[0])))


def test_command_list_filterby_matches_redis(pair):
    ref, sut = pair
    mine = _list(sut)
    assert b"client|info" in mine and b"get" in mine
    for args in [(), ("FILTERBY", "PATTERN", "get*"), ("FILTERBY", "PATTERN", "*|*"),
                 ("FILTERBY", "PATTERN", "C?IENT*"), ("FILTERBY", "ACLCAT", "string"),
                 ("FILTERBY", "ACLCAT", "CONNECTION"), ("FILTERBY", "ACLCAT", "dangerous"),
                 ("FILTERBY", "ACLCAT", "bitmap"), ("FILTERBY", "PATTERN", "*bit*"),
                 ("FILTERBY", "ACLCAT", "hyperloglog"), ("FILTERBY", "PATTERN", "pf*"),
                 ("FILTERBY", "ACLCAT", "geo"), ("FILTERBY", "PATTERN", "geo*"),
                 ("FILTERBY", "ACLCAT", "nosuch"), ("FILTERBY", "MODULE", "x")]:
        got = _list(sut, *args)
        want = _list(ref, *args) & mine
        assert got == want, "COMMAND LIST %r:\n  only kasi: %r\n  only redis: %r" % (
            args, sorted(got - want), sorted(want - got))
    for bad in [("FILTERBY",), ("bad",), ("FILTERBY", "PATTERN", "a", "b"), ("FILTERBY", "ZZZ", "a"),
                ("FILTERBY", "PATTERN")]:
        with ref.raw() as a, sut.raw() as b:
            assert a.cmd_raw("COMMAND", "LIST", *bad) == b.cmd_raw("COMMAND", "LIST", *bad), bad


def test_command_docs_facts_match_redis(pair, proto):
    ref, sut = pair
    names = ["get", "set", "mset", "del", "client|info", "config", "ping", "bitfield", "bitpos", "pfadd",
             "pfcount", "pfmerge", "pfselftest", "pfdebug", "geoadd", "georadius", "georadius_ro",
             "georadiusbymember", "geosearch", "geosearchstore", "sort", "sort_ro", "dump", "restore", "xadd",
             "xread", "xinfo", "nosuch"]
    with connect(ref, proto) as a, connect(sut, proto) as b:
        theirs = a.cmd("COMMAND", "DOCS", *names)
        mine = b.cmd("COMMAND", "DOCS", *names)
    assert type(mine) is type(theirs)
    assert {type(v) for v in mine[1::2]} == {type(v) for v in theirs[1::2]}
    t = {theirs[i]: dict(zip(theirs[i + 1][::2], theirs[i + 1][1::2])) for i in range(0, len(theirs), 2)}
    m = {mine[i]: dict(zip(mine[i + 1][::2], mine[i + 1][1::2])) for i in range(0, len(mine), 2)}
    assert set(m) == set(t) == {n.encode() for n in names if n != "nosuch"}
    for name, d in m.items():
        for field in (b"since", b"group"):
            assert d[field] == t[name][field], (name, field, d[field], t[name][field])
        assert t[name][b"complexity"].startswith(d[b"complexity"][:4]), (name, d[b"complexity"])


# COMMAND GETKEYS and GETKEYSANDFLAGS: a full command per kind of key spec
# (one key, ranges, every other one, counted, a keyword, a keyword searched
# from the end, not_key, none), the fallbacks where the specs cannot say
# (SORT's STORE, an out-of-range count), and every error.
GETKEYS_CASES = [
    ("GET", "k"), ("SET", "k", "v", "EX", "10"), ("MSET", "a", "1", "b", "2"), ("MGET", "a", "b", "c"),
    ("DEL", "a"), ("RENAME", "a", "b"), ("COPY", "a", "b", "REPLACE"), ("SINTERSTORE", "d", "a", "b"),
    ("LMOVE", "a", "b", "LEFT", "RIGHT"), ("BLPOP", "a", "b", "0"), ("BLMPOP", "0", "2", "a", "b", "LEFT"),
    ("LMPOP", "2", "a", "b", "LEFT"), ("LMPOP", "0", "a", "LEFT"), ("LMPOP", "5", "a", "LEFT"),
    ("LMPOP", "x", "a", "LEFT"), ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
    ("ZUNIONSTORE", "d", "3", "a", "b"), ("ZINTERCARD", "2", "a", "b"), ("SINTERCARD", "1", "a"),
    ("ZMPOP", "1", "a", "MIN"), ("EVAL", "return 1", "2", "a", "b", "x"), ("EVAL", "return 1", "0"),
    ("EVAL", "return 1", "3", "a"), ("EVALSHA", "abc", "1", "k"), ("EVAL_RO", "return 1", "1", "k"),
    ("FCALL", "f", "1", "k"), ("FCALL_RO", "f", "0"),
    ("XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"), ("XREAD", "STREAMS", "a", "b", "0"),
    ("XREAD", "COUNT", "2", "a"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"),
    ("XADD", "s", "*", "f", "v"), ("GEORADIUS", "g", "0", "0", "10", "km", "STORE", "d"),
    ("GEORADIUS", "g", "0", "0", "10", "km"), ("GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"),
    ("SORT", "k"), ("SORT", "k", "STORE", "d"), ("SORT", "k", "LIMIT", "0", "1", "BY", "w_*", "GET", "#", "STORE", "d"),
    ("SORT", "k", "STORE", "d1", "STORE", "d2"), ("SORT", "k", "GET", "store"), ("SORT_RO", "k", "BY", "x"),
    ("SPUBLISH", "ch", "m"), ("OBJECT", "ENCODING", "k"), ("MEMORY", "USAGE", "k"), ("PFCOUNT", "a", "b"),
    ("BITOP", "AND", "d", "a", "b"), ("BITFIELD", "k", "GET", "u8", "0"), ("SMOVE", "a", "b", "m"),
    ("BZMPOP", "1", "1", "a", "MAX"), ("LCS", "a", "b"), ("TOUCH", "a", "b"), ("WATCH", "a", "b"),
    ("ZRANGESTORE", "d", "s", "0", "-1"), ("RESTORE", "k", "0", "x"), ("GETEX", "k"), ("HSET", "h", "f", "v"),
    ("SET", "k", "v", "GET"), ("SET", "k", "v", "nx", "get"), ("BITFIELD", "k", "GET", "u8", "0", "OVERFLOW", "WRAP"),
    ("BITFIELD", "k", "SET", "u8", "0", "1"), ("BITFIELD", "k", "GET", "u8"), ("BITFIELD_RO", "k", "GET", "u8", "0"),
    # errors
    ("NOSUCH", "k"), ("PING",), ("CONFIG", "GET", "x"), ("CONFIG",), ("OBJECT",), ("GET",), ("GET", "a", "b"),
    ("SET", "k"), ("MSET", "a"), ("PUBLISH", "ch", "m"), ("OBJECT", "NOSUCH", "k"), ("object", "encoding", "k"),
]


def test_command_getkeys_matches_redis(pair, proto):
    ref, sut = pair
    for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
        with connect(ref, proto) as a, connect(sut, proto) as b:
            for case in GETKEYS_CASES:
                theirs = a.cmd_raw("COMMAND", sub, *case)
                mine = b.cmd_raw("COMMAND", sub, *case)
                assert mine == theirs, "COMMAND %s %r\n  redis: %r\n  kasi:  %r" % (sub, case, theirs, mine)
            for bad in (("COMMAND", sub), ("COMMAND", sub, "GET"), ("COMMAND", "HELP"), ("COMMAND", "HELP", "x")):
                assert b.cmd_raw(*bad) == a.cmd_raw(*bad), bad
