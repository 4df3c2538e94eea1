"""Differential test for Lua scripting (Redis 7.0 semantics): the scripts of
diff_scripts_lua.py (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT; the Lua to
RESP conversions and back, in RESP2 and RESP3; call and pcall errors and
their texts; the sandbox and the libraries), each run with
test_diff.run_script on a fresh connection after FLUSHALL, every reply
compared byte for byte with redis-server's.

The whole module is skipped while the server under test answers EVAL with
"ERR unknown command" (probed once)."""
import pytest

from diff_scripts_lua import SCRIPTS
from test_diff import run_script

_HAS_EVAL = {}


def has_eval(srv):
    """Whether srv knows EVAL (probed once per server)."""
    if srv not in _HAS_EVAL:
        with srv.raw(timeout=10) as c:
            rep = c.cmd_raw("EVAL", "return 1", "0")
        _HAS_EVAL[srv] = not rep.startswith(b"-ERR unknown command")
    return _HAS_EVAL[srv]


@pytest.fixture
def lua_pair(pair):
    if not has_eval(pair[1]):
        pytest.skip("the server under test has no EVAL yet")
    return pair


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_scripting(lua_pair, name, proto):
    ref, sut = lua_pair
    assert run_script(name, SCRIPTS[name], ref, sut, proto=proto) > 0
    assert sut.alive(), "server under test died during script %r" % name
    with sut.raw(timeout=5) as c:
        assert c.cmd_raw("PING") == b"+PONG\r\n"
