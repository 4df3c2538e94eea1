"""Differential test for Lua scripting (Redis 7.0 semantics): the scripts of
diff_scripts_lua.py (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT; the Lua to
RESP conversions and back, in RESP2 and RESP3; call and pcall errors and
their texts; the sandbox and the libraries), each run with
test_diff.run_script on a fresh connection after FLUSHALL, every reply
compared byte for byte with redis-server's."""
import pytest

from diff_pairs import server_pair
from diff_scripts_lua import SCRIPTS
from test_diff import run_script

@pytest.fixture
def lua_pair(pair):
    return pair


def check_script(pair, name, text, proto):
    """Run one script on the pair; the server under test must live on."""
    ref, sut = pair
    assert run_script(name, text, ref, sut, proto=proto) > 0
    assert sut.alive(), "server under test died during script %r" % name
    with sut.raw(timeout=5) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_scripting(lua_pair, name, proto):
    check_script(lua_pair, name, SCRIPTS[name], proto)


@pytest.fixture
def fresh_pair():
    """A pair started for one test: no script has run on either yet."""
    yield from server_pair("kasi-diff-lua-")


RANDOM_SCRIPT = """
@py ["EVAL", "return {math.random(100), math.random(100), math.random(100)}", "0"]
@py ["EVAL", "return {math.random(100), math.random(1000000), math.random(5, 9)}", "0"]
@py ["EVAL", "return math.floor(math.random() * 1000000)", "0"]
@py ["EVAL", "math.randomseed(9); return math.random(1000)", "0"]
@py ["EVAL", "return math.random(1000)", "0"]
"""


def test_diff_random_from_a_fresh_server(fresh_pair):
    """Redis 7.0 seeds math.random once, when the server starts, and not
    again per script: on two fresh servers the same scripts draw the same
    numbers, and a script sees where the one before left off (including
    after math.randomseed). The shared pair cannot show this, since which
    scripts ran before depends on the tests selected."""
    check_script(fresh_pair, "random_from_a_fresh_server", RANDOM_SCRIPT, 2)
