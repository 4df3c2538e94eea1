"""RESTORE kept across restarts: values of every kind and encoding restored
from DUMP payloads (with and without a TTL, replacing a key of another type)
come back through a snapshot, the AOF under appendfsync always (a clean stop
and kill -9) and an AOF rewrite. Replies are compared with Redis's in
tests/diff/test_diff_dump.py."""
import pytest

import kasi_harness as H
from test_persistence import RESTARTS, restart_trial

pytestmark = pytest.mark.kasi_only

BUILD = [
    ["SET", "s", "text"],
    ["HSET", "h", "a", "1", "b", "2"],
    ["HSET", "hb"] + ["f%d" % i for i in range(400)],
    ["RPUSH", "l", "x", "y", "z"],
    ["RPUSH", "lb"] + ["e%d" % i for i in range(3000)],
    ["SADD", "si", "1", "2", "3"],
    ["SADD", "sb"] + ["m%d" % i for i in range(700)],
    ["ZADD", "z", "1", "a", "2", "b"],
    ["ZADD", "zb"] + [x for i in range(300) for x in (str(i), "m%d" % i)],
]
KEYS = [b[1] for b in BUILD]


def load(c):
    for cmd in BUILD:
        c.cmd(*cmd)
    for k in KEYS:
        p = c.cmd("DUMP", k)
        assert c.cmd("RESTORE", "r_" + k, 0, p) == b"OK"
        assert c.cmd("RESTORE", "t_" + k, 1000000, p) == b"OK"
    c.cmd("SET", "replaced", "a string")
    assert c.cmd("RESTORE", "replaced", 0, c.cmd("DUMP", "zb"), "REPLACE") == b"OK"


def state(c):
    """Each key's type, contents (a big set's DUMP follows its hash order, so
    not the payload) and whether it has a TTL."""
    return {k: H.read_value(c, k) + (c.cmd("TTL", k) > 0,) for k in sorted(c.cmd("KEYS", "*"))}


@pytest.mark.parametrize("how", RESTARTS)
def test_restored_values_survive_restart(server_factory, tmp_path, how):
    want, got, _ = restart_trial(server_factory, tmp_path / "data", how, load, state,
                              lambda c: c.cmd("RESTORE", "after", 0, c.cmd("DUMP", "h")))
    for k in KEYS:
        assert want[b"r_" + k.encode()][:2] == want[k.encode()][:2]
        assert want[b"t_" + k.encode()][2]
    assert want[b"replaced"][0] == b"zset"
    assert got == want
