"""Differential scripts for Redis 7.0 functions: FUNCTION LOAD / DELETE /
LIST / DUMP / RESTORE / FLUSH / STATS, FCALL and FCALL_RO (syntax: see the
docstring of test_diff.py), run by test_diff_functions.py in RESP2 and RESP3.

FLUSHALL leaves the libraries alone, so every script begins with FUNCTION
FLUSH. The libraries are Lua code with a "#!lua name=..." first line, written
with lib() below as `@py [...]` lines.

What is deliberately not compared as-is:
  - FUNCTION LIST and FUNCTION DUMP of several libraries, and FUNCTION LIST
    of a library with several functions: both come in Redis's dict order.
    The scripts keep to one library (LIBRARYNAME) with one function there,
    or count the libraries and functions with FUNCTION STATS.
  - FUNCTION KILL of a running function: see test_diff_script_busy.py for
    the BUSY family; here only the idle "NOTBUSY" answer.
"""
from diff_scripts_lua import cmd, script as _script

SCRIPTS = {}


def script(name, *steps):
    _script(name, *steps, table=SCRIPTS)


def lib(code, *opts):
    """FUNCTION LOAD [opts...] code."""
    return cmd("FUNCTION", "LOAD", *(list(opts) + [code]))


def fn(name, body, libname=None, flags=None, description=None):
    """A library `libname` (default: the function's name) holding one
    function, registered by name or, with flags/description, by table."""
    head = "#!lua name=%s\n" % (libname or name)
    if flags is None and description is None:
        return head + "redis.register_function('%s', function(keys, args) %s end)" % (name, body)
    parts = ["function_name='%s'" % name, "callback=function(keys, args) %s end" % body]
    if flags is not None:
        parts.append("flags={%s}" % ", ".join("'%s'" % f for f in flags))
    if description is not None:
        parts.append("description='%s'" % description)
    return head + "redis.register_function{%s}" % ", ".join(parts)


def fcall(name, keys=(), *args, ro=False):
    return cmd("FCALL_RO" if ro else "FCALL", name, str(len(keys)), *(list(keys) + list(args)))


FLUSH = "FUNCTION FLUSH"

# ======================================================== FUNCTION LOAD

script("load_and_call",
       FLUSH, lib(fn("f1", "return {keys[1], args[1], #keys, #args}", libname="mylib")),
       fcall("f1", ["k"], "a"), fcall("f1"), fcall("F1", [], "x"), fcall("f1", ["a", "b"], "c", "d"))
script("load_twice_and_replace",
       FLUSH, lib(fn("f", "return 1", libname="lib1")), lib(fn("f", "return 2", libname="lib1")), fcall("f"),
       lib(fn("f", "return 3", libname="lib1"), "REPLACE"), fcall("f"), lib(fn("f", "return 4", libname="lib1"), "replace"),
       fcall("f"), lib(fn("f", "return 5", libname="other")))
script("load_metadata_errors",
       FLUSH, lib("return 1"), lib("#!lua\nreturn 1"), lib("#!lua name=x\nreturn 1"), lib("#!lua name=x y=z\nreturn 1"),
       lib("#!lua name=a3 name=a4\nredis.register_function('x3', function() end)"),
       lib("#!luax name=a5\nredis.register_function('x', function() end)"),
       lib("#!lua name=bad-name\nredis.register_function('x', function() end)"),
       lib("#!lua name=\nredis.register_function('x', function() end)"), lib(""),
       "FUNCTION LOAD", "FUNCTION LOAD REPLACE", "FUNCTION LOAD BAD code", "FUNCTION STATS")
script("load_registration_errors",
       FLUSH,
       lib("#!lua name=x\nredis.register_function('a b', function() end)"),
       lib("#!lua name=x\nredis.register_function('', function() end)"),
       lib("#!lua name=x\nredis.register_function()"),
       lib("#!lua name=x\nredis.register_function('x', 'y')"),
       lib("#!lua name=x\nredis.register_function('x', function() end, 3)"),
       lib("#!lua name=x\nredis.register_function{function_name='d3'}"),
       lib("#!lua name=x\nredis.register_function{callback=function() end}"),
       lib("#!lua name=x\nredis.register_function{function_name='d3', callback=function() end, bogus=1}"),
       lib("#!lua name=x\nredis.register_function{function_name='q', callback=function() end, flags={'bogus'}}"),
       lib("#!lua name=x\nredis.register_function('x6', function() end)\nredis.register_function('x6', function() end)"),
       "FUNCTION STATS")
script("load_code_errors",
       FLUSH,
       lib("#!lua name=x\nreturn +"), lib("#!lua name=x\nredis.call('ping')"), lib("#!lua name=x\nerror('e')"),
       lib("#!lua name=x\nx = 1"), lib("#!lua name=x\nlocal t = {} for k in pairs(redis) do end"),
       lib("#!lua name=x\nredis.register_function('f', function() end)\nlocal y = nil + 1"),
       "FUNCTION STATS")
script("load_function_name_clash_across_libraries",
       FLUSH, lib(fn("f1", "return 1", libname="l1")), lib(fn("f1", "return 2", libname="l2")), fcall("f1"),
       lib(fn("f1", "return 3", libname="l1"), "REPLACE"), fcall("f1"))
script("load_with_log_at_load_time",
       FLUSH, lib("#!lua name=lg\nredis.log(redis.LOG_NOTICE, 'diff test loading')\n"
                  "redis.register_function('lg', function() return redis.REDIS_VERSION end)"),
       fcall("lg"))

# ================================================================ FCALL

script("fcall_errors",
       FLUSH, lib(fn("f", "return 1")),
       fcall("nofunc"), cmd("FCALL", "f", "-1"), cmd("FCALL", "f", "2", "a"), "FCALL f", "FCALL",
       cmd("FCALL", "f", "x"), fcall("nofunc", ro=True), "FCALL_RO f")
script("fcall_ro_and_flags",
       FLUSH,
       lib(fn("w1", "return redis.call('set', keys[1], args[1])", libname="w")),
       lib(fn("r1", "return redis.call('get', keys[1])", libname="r", flags=["no-writes"])),
       lib(fn("ro2", "return redis.call('set', 'k', 'v')", libname="ro2", flags=["no-writes"])),
       fcall("w1", ["k"], "v", ro=True), fcall("w1", ["k"], "v"), fcall("r1", ["k"], ro=True), fcall("r1", ["k"]),
       fcall("ro2"), fcall("ro2", ro=True), "GET k")
script("fcall_runtime_errors",
       FLUSH,
       lib("#!lua name=z\nredis.register_function('e1', function() error('boom') end)\n"
           "redis.register_function('e2', function() return redis.call('nosuch') end)\n"
           "redis.register_function('e3', function() x = 1 end)\n"
           "redis.register_function('e4', function() return KEYS end)\n"
           "redis.register_function('e5', function() redis.register_function('y', function() end) end)\n"
           "redis.register_function('e6', function() return redis.pcall('nosuch') end)\n"
           "redis.register_function('e7', function() error({err='MINE custom'}) end)"),
       fcall("e1"), fcall("e2"), fcall("e3"), fcall("e4"), fcall("e5"), fcall("e6"), fcall("e7"))
script("fcall_writes_and_reads",
       FLUSH,
       lib(fn("incr2", "redis.call('incr', keys[1]); return redis.call('incr', keys[1])")),
       fcall("incr2", ["c"]), fcall("incr2", ["c"]), "GET c",
       lib(fn("half", "redis.call('set', keys[1], 'a'); error('stop')")), fcall("half", ["h"]), "GET h")
script("fcall_conversions",
       FLUSH,
       lib("#!lua name=conv\n"
           "redis.register_function('c1', function() return {1, 2.9, 'x', true, false, {ok='S'}} end)\n"
           "redis.register_function('c2', function() return {err='E'} end)\n"
           "redis.register_function('c3', function() redis.setresp(3); return redis.call('hgetall', 'h') end)\n"
           "redis.register_function('c4', function() return {double=1.5} end)\n"
           "redis.register_function('c5', function() return redis.call('get', 'nokey') end)"),
       "HSET h a 1", fcall("c1"), fcall("c2"), fcall("c3"), fcall("c4"), fcall("c5"))
script("fcall_redis_api_inside_functions",
       FLUSH,
       lib(fn("api", "local t = {} for k, v in pairs(redis) do t[#t+1] = k end table.sort(t) return t")),
       fcall("api"))
script("fcall_inside_multi_and_eval",
       FLUSH, lib(fn("f", "return redis.call('incr', 'n')")),
       "MULTI", fcall("f"), fcall("f"), fcall("nofunc"), "EXEC",
       cmd("EVAL", "return redis.call('fcall', 'f', '0')", "0"), "GET n")
script("fcall_select_inside",
       FLUSH, lib(fn("sel", "redis.call('select', '1'); redis.call('set', 'k', 'db1'); return redis.call('get', 'k')")),
       "SET k db0", fcall("sel"), "GET k", "SELECT 1", "GET k")

# ============================================== LIST / DELETE / STATS / FLUSH

script("list_one_library",
       FLUSH, "FUNCTION LIST",
       lib(fn("d1", "return 1", libname="a1", flags=["no-writes", "allow-oom"], description="desc here")),
       "FUNCTION LIST", "FUNCTION LIST LIBRARYNAME a1", "FUNCTION LIST LIBRARYNAME a*", "FUNCTION LIST LIBRARYNAME nomatch",
       "FUNCTION LIST WITHCODE", "FUNCTION LIST WITHCODE LIBRARYNAME a1", "FUNCTION LIST LIBRARYNAME a1 WITHCODE",
       "FUNCTION LIST libraryname A1")
script("list_flags_and_description",
       FLUSH,
       lib(fn("d2", "return 1", libname="a2", flags=["allow-stale", "no-cluster", "allow-cross-slot-keys"])),
       "FUNCTION LIST LIBRARYNAME a2",
       lib(fn("d3", "return 1", libname="a2", flags=[], description=""), "REPLACE"),
       "FUNCTION LIST LIBRARYNAME a2")
script("list_errors",
       FLUSH, "FUNCTION LIST BAD", "FUNCTION LIST LIBRARYNAME", "FUNCTION LIST WITHCODE WITHCODE",
       "FUNCTION LIST LIBRARYNAME a LIBRARYNAME b")
script("delete",
       FLUSH, lib(fn("w1", "return 1", libname="w")), "FUNCTION DELETE w", "FUNCTION DELETE w", fcall("w1"),
       "FUNCTION DELETE", "FUNCTION DELETE a b", "FUNCTION DELETE W", "FUNCTION LIST")
script("stats_and_flush",
       FLUSH, "FUNCTION STATS",
       lib(fn("s1", "return 1", libname="l1")),
       lib("#!lua name=l2\nredis.register_function('s2', function() return 2 end)\n"
           "redis.register_function('s3', function() return 3 end)"),
       "FUNCTION STATS", "FUNCTION STATS x",
       "FUNCTION FLUSH ASYNC", "FUNCTION STATS", lib(fn("s1", "return 1")), "FUNCTION FLUSH SYNC", "FUNCTION STATS",
       "FUNCTION FLUSH BAD", "FUNCTION FLUSH SYNC ASYNC", "function flush async", fcall("s1"))
script("function_subcommand_errors",
       FLUSH, "FUNCTION", "FUNCTION FOO", "FUNCTION KILL", "FUNCTION KILL x", "FUNCTION HELP", "FUNCTION help x")
script("function_libraries_survive_flushall",
       FLUSH, lib(fn("keep", "return 'kept'")), "FLUSHALL", fcall("keep"), "SCRIPT FLUSH", fcall("keep"))

# ======================================================= DUMP / RESTORE

SMALL = "#!lua name=lib1\nredis.register_function('f', function() return 'one' end)"
BIG = ("#!lua name=big\nredis.register_function('big', function() return 1 end)\n"
       "-- a long comment that makes the code longer than twenty bytes for compression " + "x" * 40)
# FUNCTION DUMP of SMALL alone as redis-server 7.0.15 gives it: the function
# opcode, the code as an RDB string, the RDB version (10) and the CRC64.
# BIG's code is long enough for the dump to LZF-compress it.
SMALL_DUMP = b"\xf5@I" + SMALL.encode() + b"\n\x00" + b"\x0b\x80\x93\x1aw\xdd\xb2\xa4"

# BIG's dump as redis-server 7.0.15 gives it, its code LZF-compressed.
# Kasi writes codes uncompressed (the payload is opaque: both restore
# either), so BIG's dump itself is not compared; its restore is.
BIG_DUMP = (b"\xf5\xc3@\x99@\xbe\x1f#!lua name=big\nredis.register_fu\x07nction(' \x1c\x02', \xe0\x00\x0f\x1f) "
            b"return 1 end)\n-- a long commen\x0bt that makes \n\x00e \x16\x01de` \x01er \x0f\x04an tw %\x04y "
            b"byt !\x02for !\x05mpress n\x01 x\xe0\x1c\x00\x01xx\n\x002\xc5\xec\xda\x92k\xa7\xc7")

script("dump_one_library",
       FLUSH, "FUNCTION DUMP", lib(SMALL), "FUNCTION DUMP", FLUSH, lib(BIG), "FUNCTION LIST WITHCODE")
script("restore_compressed_payload",
       FLUSH, cmd("FUNCTION", "RESTORE", BIG_DUMP), fcall("big"), "FUNCTION LIST WITHCODE",
       cmd("FUNCTION", "RESTORE", BIG_DUMP[:20] + b"\x00" + BIG_DUMP[21:]), FLUSH,
       cmd("FUNCTION", "RESTORE", BIG_DUMP[:20] + b"\x00" + BIG_DUMP[21:]), "FUNCTION STATS")
script("restore_policies",
       FLUSH, cmd("FUNCTION", "RESTORE", SMALL_DUMP), fcall("f"), "FUNCTION LIST WITHCODE",
       cmd("FUNCTION", "RESTORE", SMALL_DUMP), cmd("FUNCTION", "RESTORE", SMALL_DUMP, "APPEND"),
       cmd("FUNCTION", "RESTORE", SMALL_DUMP, "REPLACE"), fcall("f"),
       lib(fn("other", "return 2")), cmd("FUNCTION", "RESTORE", SMALL_DUMP, "FLUSH"), fcall("other"), fcall("f"),
       cmd("FUNCTION", "RESTORE", SMALL_DUMP, "flush"), "FUNCTION STATS")
script("restore_errors",
       FLUSH, "FUNCTION RESTORE", "FUNCTION RESTORE garbage", cmd("FUNCTION", "RESTORE", SMALL_DUMP, "BADPOLICY"),
       cmd("FUNCTION", "RESTORE", SMALL_DUMP[:-1] + b"\x00"), cmd("FUNCTION", "RESTORE", SMALL_DUMP[:10]),
       cmd("FUNCTION", "RESTORE", b""), cmd("FUNCTION", "RESTORE", SMALL_DUMP, "APPEND", "x"), "FUNCTION STATS")
script("restore_clash_with_existing_function",
       FLUSH, lib(fn("f", "return 'mine'", libname="mine")), cmd("FUNCTION", "RESTORE", SMALL_DUMP),
       cmd("FUNCTION", "RESTORE", SMALL_DUMP, "REPLACE"), fcall("f"), "FUNCTION LIST LIBRARYNAME lib1")
