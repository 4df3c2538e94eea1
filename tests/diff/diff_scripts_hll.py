"""Differential scripts for Redis 7.0's HyperLogLog commands: PFADD PFCOUNT
PFMERGE PFSELFTEST PFDEBUG and hll-sparse-max-bytes (syntax: see the
docstring of test_diff.py), run by test_diff_hll.py. Each script starts after
FLUSHALL on both servers.

A HyperLogLog is a string, so GET after each write shows the bytes a command
left (the header's cached cardinality and its invalid bit, the sparse opcodes,
the dense registers) and they are compared byte for byte; WATCH/MULTI/EXEC
shows whether a command counted as a write (PFCOUNT's cache update does).
Corrupt HLLs are written with SET: Redis's checks decide the reply.
"""

SCRIPTS = {}

HDR_SPARSE = b"HYLL\x01\x00\x00\x00" + b"\x00" * 8
HDR_DENSE = b"HYLL\x00\x00\x00\x00" + b"\x00" * 8


def script(name, text):
    assert name not in SCRIPTS, name
    SCRIPTS[name] = text


def py(*argv):
    """An @py line for argv (bytes allowed)."""
    return "@py " + repr(list(argv))


# What every corrupt or odd value is put through: each read and write path.
PROBES = """
PFCOUNT {k}
GET {k}
PFCOUNT {k} nokey
PFCOUNT nokey {k}
PFMERGE d{k} {k}
GET d{k}
PFADD {k} a b c zzz q
GET {k}
PFADD {k} 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
GET {k}
PFCOUNT {k}
PFDEBUG DECODE {k}
PFDEBUG ENCODING {k}
PFMERGE {k} {k}
GET {k}
PFDEBUG TODENSE {k}
GET {k}
"""


def probe(name, value):
    return "\n".join([py("SET", name, value)] + [l.format(k=name) for l in PROBES.strip().split("\n")])


script("pfadd_basic", r"""
PFADD h a
GET h
STRLEN h
PFADD h a
PFADD h b c
GET h
PFADD h
PFADD new
GET new
PFCOUNT new
PFADD new
PFADD h a b c
PFCOUNT h
GET h
PFCOUNT h
PFADD h d
GET h
PFCOUNT h
GET h
PFADD h ""
PFADD h "a b" "\x00" 12345678901234567890
GET h
PFCOUNT h
PFDEBUG ENCODING h
@py ["PFADD", "bin", b"\x00\xff\x01", b"\x80" * 7, b"x" * 8, b"y" * 9, b"z" * 15, b"w" * 16, b"v" * 17]
GET bin
PFCOUNT bin
PFCOUNT nokey
PFCOUNT nokey other
EXISTS nokey other
""")

script("pfadd_errors", r"""
PFADD
PFCOUNT
PFMERGE
PFDEBUG
PFDEBUG GETREG
PFDEBUG GETREG a b
PFSELFTEST x
RPUSH l x
PFADD l a
PFADD l
PFCOUNT l
PFCOUNT l nokey
PFCOUNT nokey l
PFMERGE l
PFMERGE d l
PFMERGE l nokey
EXISTS d
SET s foobar
PFADD s a
PFADD s
PFCOUNT s
PFCOUNT s nokey
PFMERGE s
PFMERGE d s
PFMERGE s l
GET s
SET num 12345
PFADD num a
PFCOUNT num
SET empty ""
PFADD empty a
PFCOUNT empty
HSET hs f v
PFDEBUG GETREG hs
PFDEBUG GETREG s
PFDEBUG GETREG nokey
PFDEBUG nosuch nokey
PFADD h a
PFDEBUG nosuch h
PFDEBUG "" h
@py ["PFDEBUG", b"get\x00reg", "h"]
@py ["PFDEBUG", b"bad\r\nline", "h"]
PFDEBUG getreg2 h
PFDEBUG decode2 h
""")

script("pfcount_cache", r"""
PFADD h a b c
GET h
PFCOUNT h
GET h
PFCOUNT h
PFADD h a
GET h
PFADD h x
GET h
PFADD h y
GET h
PFCOUNT h
GET h
@py ["SET", "c", b"HYLL\x01\x00\x00\x00\x39\x05\x00\x00\x00\x00\x00\x00\x7f\xff"]
PFCOUNT c
@py ["SET", "c", b"HYLL\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x7f\xff"]
PFCOUNT c
@py ["SET", "c", b"HYLL\x01\x00\x00\x00\x39\x05\x00\x00\x00\x00\x00\x80\x7f\xff"]
PFCOUNT c
GET c
PFADD c a
GET c
@py ["SET", "c", b"HYLL\x01\x00\x00\x00\x39\x05\x00\x00\x00\x00\x00\x00\x7f\xff"]
PFADD c a
GET c
PFCOUNT c
PFCOUNT c other
""")

script("watch_and_writes", r"""
PFADD h a b c
WATCH h
PFCOUNT h
MULTI
PING
EXEC
WATCH h
PFCOUNT h
MULTI
PING
EXEC
WATCH h
PFADD h a
MULTI
PING
EXEC
WATCH h
PFADD h newone
MULTI
PING
EXEC
WATCH h
PFCOUNT h other
MULTI
PING
EXEC
WATCH h
PFMERGE h
MULTI
PING
EXEC
WATCH h
PFMERGE other h
MULTI
PING
EXEC
GET other
WATCH h
PFDEBUG ENCODING h
MULTI
PING
EXEC
MULTI
PFADD m a
PFCOUNT m
PFADD m b
PFCOUNT m m
GET m
EXEC
""")

script("pfadd_ttl_kept", r"""
PFADD h a
EXPIREAT h {NOW+1000}
PFADD h b
EXPIRETIME h
PFCOUNT h
EXPIRETIME h
PFMERGE h x
EXPIRETIME h
PFDEBUG TODENSE h
EXPIRETIME h
PFADD h c
EXPIRETIME h
PFMERGE n h
EXPIRETIME n
""")


def _elements(prefix, n):
    return " ".join("%s%d" % (prefix, i) for i in range(n))


def _promotion(limit, steps):
    lines = ["CONFIG SET hll-sparse-max-bytes %s" % limit]
    for i in range(steps):
        lines += ["PFADD p%s e%d" % (limit, i), "STRLEN p%s" % limit, "PFDEBUG ENCODING p%s" % limit]
    lines += ["GET p%s" % limit, "PFCOUNT p%s" % limit, "GET p%s" % limit]
    return "\n".join(lines)


# The sparse form grows a few bytes per element: stepping one element at a
# time across each limit meets the promotion exactly where Redis makes it.
script("promotion_boundary", "\n".join([
    _promotion("0", 3), _promotion("18", 4), _promotion("19", 4), _promotion("20", 6),
    _promotion("21", 6), _promotion("64", 40), _promotion("100", 60),
    "CONFIG SET hll-sparse-max-bytes 3000",
]))

script("promotion_default", "\n".join(
    ["CONFIG GET hll-sparse-max-bytes"] +
    ["PFADD big %s\nSTRLEN big\nPFDEBUG ENCODING big" % _elements("x%d_" % i, 50) for i in range(60)] +
    ["GET big", "PFCOUNT big", "GET big"]))

script("sparse_many_sizes", "\n".join(
    "PFADD s%d %s\nGET s%d\nPFCOUNT s%d\nGET s%d\nPFDEBUG DECODE s%d" % (n, _elements("m", n), n, n, n, n)
    for n in (1, 2, 5, 10, 50, 100, 300)))

script("config_hll_sparse_max_bytes", r"""
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes -1
CONFIG SET hll-sparse-max-bytes abc
CONFIG SET hll-sparse-max-bytes 1.5
CONFIG SET hll-sparse-max-bytes 1kb
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes 1K
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes 2MB
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes 9223372036854775807
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes 9223372036854775808
CONFIG SET hll-sparse-max-bytes 99999999999999999999
CONFIG SET hll-sparse-max-bytes 1xb
CONFIG SET hll-sparse-max-bytes "1 kb"
CONFIG SET hll-sparse-max-bytes " 1"
CONFIG SET hll-sparse-max-bytes +1
CONFIG SET hll-sparse-max-bytes 0x10
CONFIG SET hll-sparse-max-bytes 1.5kb
CONFIG SET hll-sparse-max-bytes 1B
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes 010
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes ""
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes 5
CONFIG SET hll-sparse-max-bytes kb
CONFIG GET hll-sparse-max-bytes
CONFIG SET hll-sparse-max-bytes 5
CONFIG SET hll-sparse-max-bytes b
CONFIG GET hll-sparse-max-bytes
CONFIG SET zset-max-listpack-value ""
CONFIG GET zset-max-listpack-value
CONFIG SET zset-max-listpack-value 064
CONFIG GET zset-max-listpack-value
CONFIG SET hll-sparse-max-bytes 0
CONFIG GET hll-sparse-max-bytes
!pairs CONFIG GET hll-*
CONFIG SET hll-sparse-max-bytes 3000
CONFIG GET hll-sparse-max-bytes
""")

script("pfmerge_basic", r"""
PFADD a 1 2 3
PFADD b 3 4 5
PFMERGE d a b
GET d
PFCOUNT d
GET d
PFMERGE d
GET d
PFMERGE d a
GET d
PFMERGE e
GET e
PFCOUNT e
PFMERGE f nokey1 nokey2
GET f
PFMERGE a a
GET a
PFMERGE a a b
GET a
PFMERGE a b a b
GET a
PFCOUNT a b d
PFDEBUG TODENSE b
PFDEBUG ENCODING b
PFMERGE g a
PFDEBUG ENCODING g
PFMERGE g b
GET g
PFDEBUG ENCODING g
PFMERGE b2 b
GET b2
PFMERGE a b
PFDEBUG ENCODING a
GET a
PFCOUNT a
PFCOUNT a b g nokey
""")

script("pfmerge_sparse_limit", "\n".join([
    "PFADD x %s" % _elements("x", 120),
    "PFADD y %s" % _elements("y", 120),
    "PFDEBUG ENCODING x",
    "CONFIG SET hll-sparse-max-bytes 200",
    "PFMERGE z x y",
    "PFDEBUG ENCODING z",
    "GET z",
    "CONFIG SET hll-sparse-max-bytes 3000",
    "PFMERGE w x y",
    "PFDEBUG ENCODING w",
    "GET w",
    "PFCOUNT w",
    "PFCOUNT x y",
]))

script("pfdebug", r"""
PFADD h a b c d e f g
PFDEBUG ENCODING h
PFDEBUG DECODE h
PFDEBUG decode h
PFDEBUG GETREG h
GET h
PFDEBUG ENCODING h
PFDEBUG DECODE h
PFDEBUG TODENSE h
PFADD s a
PFDEBUG TODENSE s
PFDEBUG TODENSE s
GET s
PFADD e
PFDEBUG DECODE e
PFDEBUG GETREG e
PFDEBUG ENCODING e
PFCOUNT e
PFSELFTEST
""")

# Corrupt and odd values, each through every path.
_CORRUPT = {
    "badmagic": b"HYLX\x01" + b"\x00" * 11 + b"\x7f\xff",
    "badenc": b"HYLL\x02" + b"\x00" * 11 + b"\x7f\xff",
    "enc255": b"HYLL\xff" + b"\x00" * 11 + b"\x7f\xff",
    "hdronly15": b"HYLL\x01" + b"\x00" * 10,
    "hdronly": HDR_SPARSE,
    "dense_short": HDR_DENSE + b"\x00" * 100,
    "dense_long": HDR_DENSE + b"\x00" * 12289,
    "dense_max": HDR_DENSE + b"\xff" * 12288,
    "dense_ok": HDR_DENSE + bytes((i * 37) & 0xff for i in range(12288)),
    "trunc_xzero": HDR_SPARSE + b"\x7f",
    "trunc_xzero2": HDR_SPARSE + b"\x40",
    "trunc_xzero3": HDR_SPARSE + b"\x7f\xfe\x40",
    "one_over": HDR_SPARSE + b"\x7f\xff\x00",
    "one_under": HDR_SPARSE + b"\x7f\xfe",
    "val_over": HDR_SPARSE + b"\x7f\xfc\xff\xff",
    "val_fill": HDR_SPARSE + b"\xff" * 4096,
    "val_fill_over": HDR_SPARSE + b"\xff" * 4097,
    "zero_fill": HDR_SPARSE + b"\x3f" * 256,
    "zero_fill_more": HDR_SPARSE + b"\x3f" * 255 + b"\x00" * 64,
    "xzero_ones": HDR_SPARSE + b"\x40\x00" * 16384,
    "xzero_many": HDR_SPARSE + b"\x7f\xff" * 1000,
    "xzero_split": HDR_SPARSE + b"\x7f\xf0\xc0" + b"\x00" * 20,
    "xzero_small": HDR_SPARSE + b"\x40\x05\x40\x03" + b"\x7f\xf6",
    "mixed": HDR_SPARSE + b"\x80\x84\x88\x8c\x90\x94" + b"\x7f\xf9",
    "val32": HDR_SPARSE + b"\xfc\x7f\xfe",
    "vals_equal": HDR_SPARSE + b"\x80\x80\x80\x80" + b"\x7f\xfb",
    "cache_valid": b"HYLL\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x7f\xff",
    "unused_bytes": b"HYLL\x01\xaa\xbb\xcc" + b"\x00" * 8 + b"\x7f\xff",
}
for _name, _value in _CORRUPT.items():
    script("corrupt_" + _name, probe("k", _value) + "\n" + probe("k2", _value).replace("PFMERGE dk2 k2", "PFMERGE k2 k"))
