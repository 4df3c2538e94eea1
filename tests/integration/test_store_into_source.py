"""Commands that store into a key they also read (ZRANGESTORE z z ..., ZUNIONSTORE
z 2 z y, SINTERSTORE s s t, LMOVE l l, SORT l STORE l, BITOP AND b b c, ...):
what each leaves is what the AOF gives back after a restart (and after a
rewrite). Logging such a command as itself after the deletion of its
destination would replay it against a source already gone."""
import pytest

import kasi_harness as H
from test_persistence import restart_trial

pytestmark = pytest.mark.kasi_only

SETUP = [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZADD", "y", "5", "b", "7", "d"],
    ["SADD", "s", "a", "b", "c"], ["SADD", "t", "b", "c", "d"],
    ["RPUSH", "l", "3", "1", "2"], ["SET", "b", "\xf0\x0f"], ["SET", "c", "\xff"],
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
    ["PFADD", "h", "x", "y"], ["PFADD", "h2", "z"],
]
STORES = [
    ["ZRANGESTORE", "z", "z", "0", "1"],
    ["ZUNIONSTORE", "z", "2", "z", "y"],
    ["ZINTERSTORE", "z", "2", "z", "y", "WEIGHTS", "2", "3"],
    ["ZDIFFSTORE", "z", "2", "z", "y"],
    ["ZADD", "z", "9", "q"],
    ["ZRANGESTORE", "z", "z", "(1", "+inf", "BYSCORE"],
    ["SINTERSTORE", "s", "s", "t"],
    ["SUNIONSTORE", "s", "s", "t"],
    ["SDIFFSTORE", "s", "s", "nokey"],
    ["LMOVE", "l", "l", "LEFT", "RIGHT"],
    ["RPOPLPUSH", "l", "l"],
    ["SORT", "l", "STORE", "l"],
    ["BITOP", "AND", "b", "b", "c"],
    ["GEOSEARCHSTORE", "g", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
    ["PFMERGE", "h", "h", "h2"],
]


def load(c):
    for cmd in SETUP + STORES:
        c.cmd_raw(*cmd)


def state(c):
    return {k: H.read_value(c, k) for k in sorted(c.cmd("KEYS", "*"))}


@pytest.mark.parametrize("how", ["aof", "rewrite"])
def test_store_into_a_source_replays(server_factory, tmp_path, how):
    want, got, _ = restart_trial(server_factory, tmp_path / "data", how, load, state,
                                 lambda c: [c.cmd_raw(*cmd) for cmd in STORES])
    assert want[b"z"][1] and want[b"s"][1] and want[b"l"][1]
    assert got == want
