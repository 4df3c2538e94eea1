"""HyperLogLogs kept across restarts: PFADD (new keys, sparse keys that grow
and get promoted to dense, dense keys, keys with a TTL), PFCOUNT's write of
the cached cardinality, PFMERGE and PFDEBUG TODENSE come back byte for byte
through a snapshot, through the AOF under appendfsync always after a clean
stop and after kill -9, and through an AOF rewrite. Then HLLs under maxmemory
are accounted and evicted as strings are. Replies are compared with Redis's in
tests/diff/test_diff_hll.py."""
import random

import pytest

from test_persistence import TF, info, strings_survive_restart

pytestmark = pytest.mark.kasi_only

KEYS = [b"h%d" % i for i in range(6)]


def load(c, rng):
    """HyperLogLog writes of every kind."""
    assert c.cmd("PFADD", "fresh") == 1                          # an empty HLL
    assert c.cmd("PFADD", "sparse", "a", "b", "c") == 1
    assert c.cmd("PFCOUNT", "sparse") == 3                       # writes the cache
    assert c.cmd("PFADD", "ttl", "x", "y") == 1
    assert c.cmd("EXPIRE", "ttl", 100000) == 1
    assert c.cmd("PFADD", "ttl", "z") == 1                       # keeps its TTL
    for i in range(0, 3000, 500):                                # promoted on the way
        assert c.cmd("PFADD", "dense", *["d%d" % j for j in range(i, i + 500)]) == 1
    assert c.cmd("PFADD", "dense", "one-more") in (0, 1)         # a splice of a register
    assert c.cmd("PFCOUNT", "dense") > 2900
    assert c.cmd("PFMERGE", "merged", "sparse", "ttl", "nokey") == b"OK"
    assert c.cmd("PFADD", "conv", "q") == 1
    assert c.cmd("PFDEBUG", "TODENSE", "conv") == 1
    for _ in range(300):                                         # a random mix
        k = rng.choice(KEYS)
        x = rng.random()
        if x < 0.6:
            c.cmd("PFADD", k, *[str(rng.randrange(100000)) for _ in range(rng.randrange(1, 40))])
        elif x < 0.8:
            c.cmd("PFCOUNT", k)
        else:
            c.cmd("PFMERGE", k, rng.choice(KEYS), rng.choice(KEYS))
    assert c.cmd("CONFIG", "SET", "hll-sparse-max-bytes", "40") == b"OK"
    assert c.cmd("PFADD", "small", *["s%d" % j for j in range(20)]) == 1   # promoted early
    assert c.cmd("SELECT", "hll") == b"OK"
    assert c.cmd("PFADD", "other", "o") == 1
    assert c.cmd("SELECT", "0") == b"OK"


@pytest.mark.parametrize("how", ["snapshot", "aof", "aof-kill9", "rewrite"])
def test_hlls_survive_restart(server_factory, tmp_path, how):
    def after_rewrite(c):
        c.cmd("PFADD", "after", "1", "2")
        c.cmd("PFADD", "dense", "after-rewrite")
        c.cmd("PFCOUNT", "after")

    want, s2 = strings_survive_restart(server_factory, tmp_path / "data", how,
                                       lambda c: load(c, random.Random(11)), after_rewrite, ("0", "hll"))
    fresh = want[("0", b"fresh")][0]
    assert fresh == b"HYLL\x01" + b"\x00" * 10 + b"\x80\x7f\xff"   # created: the cache is invalid
    assert want[("0", b"sparse")][0][8:16] == b"\x03" + b"\x00" * 7   # the cached count, valid
    assert len(want[("0", b"dense")][0]) == 12304 and want[("0", b"dense")][0][4] == 0
    assert len(want[("0", b"small")][0]) == 12304
    assert want[("0", b"ttl")][1] and want[("0", b"merged")][0][15] & 0x80
    with s2.raw(timeout=30 * TF) as c:
        assert c.cmd("PFCOUNT", "sparse") == 3


def test_hlls_accounted_and_evicted_as_strings(server_factory):
    """Dense HLLs (promoted at once: hll-sparse-max-bytes 0), each then raised
    in place, under maxmemory: used memory stays near the bound and keys are
    evicted, as for strings of 12 KB."""
    s = server_factory([("maxmemory", "4mb"), ("maxmemory-policy", "allkeys-lru"),
                        ("hll-sparse-max-bytes", "0")])
    with s.raw(timeout=30 * TF) as c:
        for i in range(1000):                                    # 1000 x 12 KB: 12 MB of HLLs
            assert c.cmd("PFADD", "k%d" % i, "first") == 1
            c.cmd("PFADD", "k%d" % i, *["e%d" % j for j in range(i, i + 300)])
        used = int(info(s, "memory")["used_memory"])
        assert used <= 4 * 1024 * 1024 + 512 * 1024, used
        n = c.cmd("DBSIZE")
        assert 100 < n < 1000, n
        live = [k for k in c.cmd("KEYS", "*")]
        assert c.cmd("STRLEN", live[0]) == 12304
        assert c.cmd("MEMORY", "USAGE", live[0]) >= 12304
        assert int(info(s, "stats")["evicted_keys"]) >= 1000 - n   # some were made again
