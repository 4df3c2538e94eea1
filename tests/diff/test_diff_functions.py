"""Differential test for Redis 7.0 functions (FUNCTION LOAD / DELETE / LIST /
DUMP / RESTORE / FLUSH / STATS / KILL, FCALL, FCALL_RO): the scripts of
diff_scripts_functions.py, each run with test_diff.run_script on a fresh
connection after FLUSHALL, every reply compared byte for byte with
redis-server's.

Skipped while the server under test answers FUNCTION with "ERR unknown
command" (probed once)."""
import pytest

from diff_scripts_functions import SCRIPTS
from test_diff_scripting import check_script, skip_unless_known


@pytest.fixture
def function_pair(pair):
    skip_unless_known(pair[1], "FUNCTION", "STATS")
    return pair


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_functions(function_pair, name, proto):
    check_script(function_pair, name, SCRIPTS[name], proto)
