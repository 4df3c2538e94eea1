"""Differential test for a Lua script that runs long (Redis 7.0 semantics):
the BUSY replies other clients get once it has run past
busy-reply-threshold, which commands still go through (MULTI, DISCARD,
SCRIPT KILL), SCRIPT KILL of a script that has not written (OK, and the
script's client gets the kill error) and of one that has (UNKILLABLE, and the
script ends on its own), each transcript compared byte for byte with
redis-server's (see multiclient.py).

Every script here stops on its own: it loops on redis.call('time') until
ARGV[1] microseconds have passed (or for 10 million turns at most), so a
server that cannot kill it is not left spinning. Each scenario sets busy-reply-threshold to 100 ms and puts
back the default (5000) at the end: the pair is shared by the whole
session. The probes wait BUSY_WAIT_S after the script starts, well past the
threshold and well before the script's end.

The same for a long FCALL (FUNCTION KILL, and the BUSY text that names it).

Skipped while the server under test answers EVAL with "ERR unknown
command"; the FUNCTION scenarios also while it has no FUNCTION."""
import re
import time

import pytest

import kasi_harness as H
from multiclient import compare
from test_diff_scripting import lua_pair  # noqa: F401 (a fixture)

BUSY_WAIT_S = min(0.3 * H.TIME_FACTOR, 0.6)
SCENARIOS = {}

# Loops until ARGV[1] microseconds have passed since it began, then returns
# 'done'; the second form writes a key first, so it cannot be killed. The
# loop also stops after 10 million turns (redis-server makes about 1.3
# million a second), should a server's TIME stand still inside a script.
SPIN = ("local t = redis.call('time'); local s = t[1] * 1000000 + t[2]; "
        "for i = 1, 10000000 do local n = redis.call('time'); "
        "if (n[1] * 1000000 + n[2]) - s > tonumber(ARGV[1]) then break end end return 'done'")
SPIN_AFTER_WRITE = "redis.call('set', KEYS[1], 'written'); " + SPIN
BUSY_ERR = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


def start_spin(r, who, code, micros, keys=()):
    """Set the threshold low, start code as client who (its reply is read
    later with r.read) and wait until other clients should see BUSY."""
    r.do("admin", "CONFIG", "SET", "busy-reply-threshold", "100")
    r.c(who).send_command("EVAL", code, len(keys), *keys, micros)
    time.sleep(BUSY_WAIT_S)


def expect(r, who, want, *cmd):
    """r.do, then check the reply read is want: the transcripts would also
    agree if both servers missed the point (never BUSY, say)."""
    r.do(who, *cmd)
    got = r.log[-1][2][0]
    assert got.startswith(want), "%r: %r, expected %r" % (cmd, got, want)


def end_spin(r):
    r.do("admin", "CONFIG", "SET", "busy-reply-threshold", "5000")


@scenario
def busy_then_script_kill(r):
    start_spin(r, "s", SPIN, 1000000)
    expect(r, "o", BUSY_ERR, "PING")
    r.do("o", "GET", "k")
    r.do("o", "SET", "k", "v")
    r.do("o", "EVAL", "return 1", "0")
    r.do("o", "SCRIPT", "EXISTS", "ffffffffffffffffffffffffffffffffffffffff")
    expect(r, "o", b"+OK\r\n", "SCRIPT", "KILL")
    r.read("s", 1)                     # "ERR Script killed by user with SCRIPT KILL..."
    assert r.log[-1][2][0].startswith(b"-ERR Script killed by user with SCRIPT KILL... script: ")
    r.do("o", "SCRIPT", "KILL")        # NOTBUSY again
    r.do("o", "PING")
    r.do("s", "GET", "k")
    end_spin(r)


@scenario
def busy_multi(r):
    r.do("m", "MULTI")
    start_spin(r, "s", SPIN, 1000000)
    expect(r, "m", BUSY_ERR, "SET", "k", "v")   # BUSY inside a transaction: it is flagged
    r.do("o", "MULTI")                 # MULTI and DISCARD still go through
    r.do("o", "GET", "k")
    r.do("o", "DISCARD")
    r.do("o", "MULTI")
    r.do("o", "EXEC")
    r.do("o", "SCRIPT", "KILL")
    r.read("s", 1)
    r.do("m", "EXEC")                  # EXECABORT: the BUSY above
    r.do("o", "GET", "k")
    end_spin(r)


@scenario
def unkillable_after_write(r):
    start_spin(r, "s", SPIN_AFTER_WRITE, 1500000, keys=("k",))
    r.do("o", "PING")
    expect(r, "o", b"-UNKILLABLE ", "SCRIPT", "KILL")
    r.do("o", "SCRIPT", "KILL")
    r.do("o", "GET", "k")
    r.read("s", 1)                     # 'done', on its own
    assert r.log[-1][2][0] == b"$4\r\ndone\r\n"
    r.do("o", "GET", "k")
    r.do("o", "SCRIPT", "KILL")        # NOTBUSY
    end_spin(r)


@scenario
def busy_in_resp3_and_resp2_clients(r):
    r.hello3("three")
    start_spin(r, "s", SPIN, 1000000)
    r.do("three", "PING")
    r.do("three", "HGETALL", "h")
    r.do("o", "PING")
    r.do("three", "SCRIPT", "KILL")
    r.read("s", 1)
    r.do("three", "PING")
    end_spin(r)


@scenario
def short_script_is_not_busy(r):
    r.do("admin", "CONFIG", "SET", "busy-reply-threshold", "100")
    r.c("s").send_command("EVAL", SPIN, "0", 50000)
    r.read("s", 1)
    r.do("o", "PING")
    r.do("o", "SCRIPT", "KILL")
    end_spin(r)


@scenario
def function_kill_of_an_eval(r):
    start_spin(r, "s", SPIN, 1000000)
    r.do("o", "FUNCTION", "KILL")      # an EVAL is running, not a function: BUSY
    r.do("o", "SCRIPT", "KILL")
    r.read("s", 1)
    start_spin(r, "s", SPIN_AFTER_WRITE, 1500000, keys=("k",))
    r.do("o", "FUNCTION", "KILL")      # UNKILLABLE comes first
    r.read("s", 1)
    r.do("o", "FUNCTION", "KILL")      # NOTBUSY
    end_spin(r)



# The same loops as a library: spin(args[1] microseconds) and wspin, which
# writes keys[1] first.
SPIN_LIBRARY = ("#!lua name=spinlib\n"
                "redis.register_function('spin', function(keys, args) %s end)\n"
                "redis.register_function('wspin', function(keys, args) redis.call('set', keys[1], 'w'); %s end)"
                % (SPIN.replace("ARGV", "args"), SPIN.replace("ARGV", "args")))
FUNCTION_BUSY_ERR = b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"


def start_fcall(r, who, name, micros, keys=()):
    r.do("admin", "FUNCTION", "LOAD", "REPLACE", SPIN_LIBRARY)
    r.do("admin", "CONFIG", "SET", "busy-reply-threshold", "100")
    r.c(who).send_command("FCALL", name, len(keys), *keys, micros)
    time.sleep(BUSY_WAIT_S)


def function_stats(r, who):
    """FUNCTION STATS, its running script's duration_ms (a clock reading)
    made "D"."""
    c = r.c(who)
    c.send_command("FUNCTION", "STATS")
    raw = re.sub(rb"\$11\r\nduration_ms\r\n:\d+\r\n", b"$11\r\nduration_ms\r\n:D\r\n", c.read_raw())
    r.log.append((who, "FUNCTION STATS", [raw]))


@scenario
def busy_function_then_function_kill(r):
    start_fcall(r, "s", "spin", 1000000)
    expect(r, "o", FUNCTION_BUSY_ERR, "PING")   # the function form of the BUSY text
    r.do("o", "GET", "k")
    r.do("o", "SCRIPT", "KILL")         # a function is running: BUSY
    function_stats(r, "o")              # names the running function and its command
    expect(r, "o", b"+OK\r\n", "FUNCTION", "KILL")
    r.read("s", 1)
    r.do("o", "FUNCTION", "KILL")       # NOTBUSY
    function_stats(r, "o")
    r.do("o", "FUNCTION", "DELETE", "spinlib")
    end_spin(r)


@scenario
def busy_function_after_write(r):
    start_fcall(r, "s", "wspin", 1500000, keys=("k",))
    r.do("o", "FUNCTION", "KILL")       # UNKILLABLE
    r.do("o", "SCRIPT", "KILL")         # UNKILLABLE comes first here too
    r.read("s", 1)
    assert r.log[-1][2][0] == b"$4\r\ndone\r\n"
    r.do("o", "GET", "k")
    r.do("o", "FUNCTION", "DELETE", "spinlib")
    end_spin(r)




@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_diff_script_busy(lua_pair, name, proto):
    compare(lua_pair, name, SCENARIOS[name], proto)
