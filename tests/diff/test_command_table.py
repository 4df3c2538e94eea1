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
