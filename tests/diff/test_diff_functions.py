"""Differential test for Redis 7.0 functions (FUNCTION LOAD / DELETE / LIST /
DUMP / RESTORE / FLUSH / STATS / KILL, FCALL, FCALL_RO): the scripts of
diff_scripts_functions.py, each run with test_diff.run_script on a fresh
connection after FLUSHALL, every reply compared byte for byte with
redis-server's."""
import pytest

from diff_scripts_functions import SCRIPTS
from test_diff_scripting import check_script


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_diff_functions(pair, name, proto):
    check_script(pair, name, SCRIPTS[name], proto)
