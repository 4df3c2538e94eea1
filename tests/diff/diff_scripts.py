"""Scripts for the differential test (syntax: see test_diff.py docstring).

Each script starts on a fresh connection (db 0 / domain "default") after
FLUSHALL on both servers.
"""

SCRIPTS = {}
AUTH_SCRIPTS = {}   # run against servers with requirepass "pw", unauthenticated start


def script(name, text):
    assert name not in SCRIPTS, name
    SCRIPTS[name] = text


# ====================================================================== strings

script("get_set_basic", r"""
GET k
SET k v
GET k
SET k ""
GET k
STRLEN k
SET "" emptykey
GET ""
@py ["SET", b"bin\x00key\r\n", b"\x00\x01\xff\r\n$-1\r\n"]
@py ["GET", b"bin\x00key\r\n"]
SET k 123456789012345678901234567890
GET k
SET k -0
GET k
SET k 1.50
GET k
""")

script("arity_errors", r"""
GET
GET a b
SET
SET a
SETNX a
SETEX a 10
PSETEX a 10
GETSET a
GETDEL
GETEX
APPEND a
STRLEN
GETRANGE a 0
SUBSTR a 0
SETRANGE a 0
INCR
DECR
INCRBY a
DECRBY a
INCRBYFLOAT a
MGET
MSET
MSET a
MSET a 1 b
MSETNX a
MSETNX a 1 b
LCS a
DEL
UNLINK
EXISTS
TOUCH
TYPE
EXPIRE a
PEXPIRE a
EXPIREAT a
PEXPIREAT a
TTL
PTTL
EXPIRETIME
PEXPIRETIME
PERSIST
KEYS
SCAN
RANDOMKEY x
RENAME a
RENAMENX a
COPY a
MOVE a
DBSIZE x
PING a b
ECHO
ECHO a b
SELECT
FLUSHDB a b
AUTH
WATCH
UNWATCH x
MULTI x
EXEC x
DISCARD x
CLIENT
CLIENT SETNAME
CLIENT GETNAME x
CONFIG GET
TIME x
""")

script("unknown_commands", r"""
NOSUCHCOMMAND
nosuchcommand a b
FOO "with space" ""
@py ["X" * 200, "a" * 200]
GETT k
""")

script("set_options", r"""
SET k 1 NX
SET k 2 NX
GET k
SET k 3 XX
GET k
SET missing 1 XX
GET missing
SET k 1 NX XX
SET k 1 XX NX
SET k 1 nx
SET k 1 ex 100 px 100
SET k 1 EX 100 EXAT 100
SET k 1 PX 100 PXAT 100
SET k 1 EX 100 KEEPTTL
SET k 1 KEEPTTL EX 100
SET k 1 EX
SET k 1 EX 0
SET k 1 EX -1
SET k 1 PX 0
SET k 1 EXAT 0
SET k 1 PXAT -5
SET k 1 EX abc
SET k 1 EX 1.5
SET k 1 EX 9223372036854775807
SET k 1 PX 9223372036854775807
SET k 1 EX 9223372036854775808
SET k 1 EX 4611686018427387
SET k 1 BADOPT
SET k 1 NX NX
SET k 1 EX 10 EX 10
SET k 1 GET GET
GET k
""")

script("set_get_keepttl_combos", r"""
SET k a GET
SET k b GET
SET k c NX GET
SET new c NX GET
GET new
SET missing x XX GET
EXISTS missing
SET k d XX GET
SET k e EX 1000 GET
!approx 1 TTL k
SET k f KEEPTTL GET
!approx 1 TTL k
SET k g GET KEEPTTL
!approx 1 TTL k
SET k h GET
TTL k
SET k i KEEPTTL
TTL k
SET t v EXAT {NOW+5000}
EXPIRETIME t
SET t v2 KEEPTTL GET
EXPIRETIME t
SET t v3 PXAT {NOWMS+7000123}
PEXPIRETIME t
EXPIRETIME t
SET t v4 EXAT 1
GET t
EXISTS t
""")

script("setnx_setex_psetex_getset", r"""
SETNX k 1
SETNX k 2
GET k
SETEX s 100 v
GET s
!approx 1 TTL s
SETEX s 0 v
SETEX s -10 v
SETEX s abc v
SETEX s 9223372036854775807 v
PSETEX p 100000 v
!approx 50 PTTL p
PSETEX p 0 v
PSETEX p -1 v
PSETEX p 1.5 v
GETSET g 1
GETSET g 2
GET g
SETEX g 100 x
GETSET g y
TTL g
""")

script("getdel_getex", r"""
GETDEL k
SET k v
GETDEL k
GETDEL k
EXISTS k
GETEX nokey
GETEX nokey EX 10
EXISTS nokey
SET k v
GETEX k
TTL k
GETEX k EXAT {NOW+3000}
EXPIRETIME k
GETEX k PXAT {NOWMS+4000555}
PEXPIRETIME k
GETEX k PERSIST
TTL k
GETEX k EX 0
GETEX k EX -1
GETEX k PX 0
GETEX k EX abc
GETEX k EX
GETEX k EX 10 PX 10
GETEX k EX 10 PERSIST
GETEX k PERSIST PERSIST
GETEX k KEEPTTL
GETEX k NX
GETEX k BLAH
GETEX k EX 9223372036854775807
TTL k
GETEX k EXAT 1
EXISTS k
""")

script("append_strlen", r"""
STRLEN k
APPEND k hello
APPEND k " world"
APPEND k ""
GET k
STRLEN k
SET n 10
INCR n
APPEND n 5
GET n
INCR n
STRLEN n
SET n 12345
STRLEN n
@py ["APPEND", "bin", b"\x00\xff"]
STRLEN bin
""")

script("getrange_substr", r"""
SET k "This is a string"
GETRANGE k 0 3
GETRANGE k -3 -1
GETRANGE k 0 -1
GETRANGE k 10 100
GETRANGE k 5 3
GETRANGE k -100 3
GETRANGE k -100 -50
GETRANGE k -1 -5
GETRANGE k 100 200
GETRANGE k 0 0
GETRANGE k -1 -1
GETRANGE k 15 15
GETRANGE k 16 16
GETRANGE k 0 9223372036854775807
GETRANGE k -9223372036854775808 2
GETRANGE k 0 9223372036854775808
GETRANGE k a 1
GETRANGE k 1 b
GETRANGE nokey 0 -1
GETRANGE nokey 0 10
SET e ""
GETRANGE e 0 -1
GETRANGE e 0 0
GETRANGE e -1 -1
SUBSTR k 0 3
SUBSTR k -3 -1
SUBSTR k 5 3
SUBSTR nokey 0 1
SET n 1234
INCR n
GETRANGE n 1 2
GETRANGE n -2 -1
""")

script("setrange", r"""
SET k "Hello World"
SETRANGE k 6 Redis
GET k
SETRANGE k 11 !!
GET k
SETRANGE k 0 ""
SETRANGE p 5 x
GET p
SETRANGE q 10 ""
EXISTS q
SETRANGE p 100 ""
STRLEN p
SETRANGE k -1 x
SETRANGE k abc x
SETRANGE k 536870912 x
SETRANGE k 536870911 ""
SETRANGE new 536870912 ""
SETRANGE k 9223372036854775807 x
SET n 100
INCR n
SETRANGE n 1 9
GET n
INCR n
SETRANGE z 0 abc
GET z
""")

script("incr_decr", r"""
INCR n
INCR n
DECR n
DECR m
INCRBY n 100
INCRBY n -200
DECRBY n 1
DECRBY n -1000
GET n
SET s abc
INCR s
SET s 1.5
INCR s
SET s " 1"
INCR s
SET s "1 "
INCR s
SET s 01
INCR s
SET s ""
INCR s
SET s +1
INCR s
SET s -0
INCR s
SET s 0x10
INCR s
INCRBY n x
INCRBY n 1.0
INCRBY n ""
DECRBY n 9223372036854775808
SET big 9223372036854775807
INCR big
GET big
INCRBY big 0
DECR big
SET small -9223372036854775808
DECR small
INCRBY small -1
DECRBY small 1
INCR small
SET z 0
DECRBY z -9223372036854775808
DECRBY z 9223372036854775807
INCRBY z 9223372036854775807
SET toolong 9223372036854775808
INCR toolong
SET t 5
EXPIRE t 1000
INCR t
!approx 1 TTL t
""")

script("incrbyfloat", r"""
SET f 10.50
INCRBYFLOAT f 0.1
SET f 10
INCRBYFLOAT f 0.5
SET f 5.0e3
INCRBYFLOAT f 2.0e2
GET f
INCRBYFLOAT g 3.0e3
INCRBYFLOAT g 5.0e3
GET g
INCRBYFLOAT h 1
INCRBYFLOAT h -1
INCRBYFLOAT h 3
INCRBYFLOAT h 1.5
INCRBYFLOAT h -0.25
INCRBYFLOAT h 0.1
INCRBYFLOAT i 0.1
INCRBYFLOAT i 0.2
INCRBYFLOAT j 1e10
INCRBYFLOAT j 1
INCRBYFLOAT k 1e-5
INCRBYFLOAT l 17179869184
INCRBYFLOAT m 1.23456789012345678
INCRBYFLOAT m 100000000000000000000
INCRBYFLOAT o -1e-10
INCRBYFLOAT p 5.0E3
INCRBYFLOAT p .5
INCRBYFLOAT p 5.
INCRBYFLOAT p +1
INCRBYFLOAT p -0
INCRBYFLOAT p 0x10
INCRBYFLOAT p 1e500
INCRBYFLOAT p abc
INCRBYFLOAT p ""
INCRBYFLOAT p "1.5 "
INCRBYFLOAT p " 1.5"
INCRBYFLOAT p nan
INCRBYFLOAT p inf
INCRBYFLOAT p -inf
INCRBYFLOAT p infinity
GET p
SET s abc
INCRBYFLOAT s 1
SET s 1.5abc
INCRBYFLOAT s 1
SET s "1 "
INCRBYFLOAT s 1
SET big 1.7e308
INCRBYFLOAT big 1.7e308
SET n 7
INCRBYFLOAT n 3
SET t 5
EXPIRE t 1000
INCRBYFLOAT t 1.5
!approx 1 TTL t
SET n2 100
INCR n2
INCRBYFLOAT n2 0.5
""")

script("mget_mset_msetnx", r"""
MSET a 1 b 2 c 3
MGET a b nokey c
MGET nokey
MSET a x a y
GET a
MSETNX a 1 z 2
EXISTS z
MSETNX z 1 y 2
MGET z y
MSETNX w 1 w 2
GET w
SET t v EX 1000
MSET t v2
TTL t
@py ["MSET", "bin", b"\x00\r\n", "e", ""]
MGET bin e
""")

script("lcs", r"""
MSET key1 ohmytext key2 mynewtext
LCS key1 key2
LCS key1 key2 LEN
LCS key1 key2 IDX
LCS key1 key2 IDX MINMATCHLEN 4
LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN
LCS key1 key2 IDX WITHMATCHLEN
LCS key1 key2 IDX MINMATCHLEN 0
LCS key1 key2 IDX MINMATCHLEN -1
LCS key1 key2 IDX MINMATCHLEN 100
LCS key1 key2 LEN MINMATCHLEN 2
LCS key1 key2 WITHMATCHLEN
LCS key1 key2 len
LCS key1 key2 idx withmatchlen
LCS key1 key2 LEN IDX
LCS key1 key2 IDX LEN
LCS key1 key2 FOO
LCS key1 key2 MINMATCHLEN
LCS key1 key2 MINMATCHLEN x
LCS key1 nokey
LCS nokey key2 IDX
LCS nokey nokey2 LEN
LCS key1 key1
LCS key1 key1 IDX WITHMATCHLEN
MSET a ACCGGTCGAGTGCGCGGAAGCCGGCCGAA b GTCGTTCGGAATGCCGTTGCTCTGTAAA
LCS a b
LCS a b LEN
LCS a b IDX
LCS a b IDX WITHMATCHLEN MINMATCHLEN 2
MSET x "" y abc
LCS x y
LCS x y IDX
""")

# ====================================================================== keys

script("del_exists_touch_type", r"""
MSET a 1 b 2 c 3
DEL a nokey a
EXISTS a b c b nokey
TOUCH a b b nokey
UNLINK b c d
DBSIZE
TYPE a
SET s x
TYPE s
TYPE nokey
DEL s s s
""")

script("expire_family", r"""
EXPIRE nokey 100
PEXPIRE nokey 100
EXPIREAT nokey 100
TTL nokey
PTTL nokey
EXPIRETIME nokey
PEXPIRETIME nokey
SET k v
TTL k
PTTL k
EXPIRETIME k
PEXPIRETIME k
EXPIRE k 100
!approx 1 TTL k
PEXPIRE k 200000
!approx 50 PTTL k
EXPIREAT k {NOW+1000}
EXPIRETIME k
PEXPIRETIME k
PEXPIREAT k {NOWMS+123456}
PEXPIRETIME k
EXPIRETIME k
EXPIRE k abc
EXPIRE k 1.5
EXPIRE k ""
EXPIRE k 9223372036854775807
PEXPIRE k 9223372036854775807
EXPIREAT k 9223372036854775807
PEXPIREAT k 9223372036854775807
EXPIRE k 9223372036854775
EXPIRE k -9223372036854775808
PERSIST k
PERSIST k
TTL k
PERSIST nokey
EXPIRE k 0
EXISTS k
SET k v
EXPIRE k -10
GET k
SET k v
PEXPIREAT k 1000
GET k
SET k v
EXPIREAT k 1
TTL k
""")

script("expire_nx_xx_gt_lt", r"""
SET k v
EXPIRE k 100 XX
EXPIRE k 100 GT
EXPIRE k 100 NX
EXPIRE k 200 NX
EXPIRE k 200 XX
EXPIRE k 100 GT
EXPIRE k 300 GT
EXPIRE k 400 LT
EXPIRE k 50 LT
EXPIRE k 60 XX GT
EXPIRE k 10 XX LT
!approx 1 TTL k
PERSIST k
EXPIRE k 100 LT
!approx 1 TTL k
PERSIST k
PEXPIRE k 100000 GT
PEXPIRE k 100000 nx
PEXPIREAT k {NOWMS+999999} xx
PEXPIRETIME k
EXPIREAT k {NOW+100} LT
EXPIRETIME k
EXPIREAT k {NOW+50} GT
EXPIRETIME k
EXPIRE k 100 NX XX
EXPIRE k 100 NX GT
EXPIRE k 100 NX LT
EXPIRE k 100 XX NX
EXPIRE k 100 GT LT
EXPIRE k 100 LT GT
EXPIRE k 100 FOO
EXPIRE k 100 NX FOO
PEXPIREAT k 100 bar
EXPIRE k 100 NX NX
EXPIRE nokey 100 NX
EXPIRE nokey 100 XX
EXPIRE k 0 GT
EXISTS k
EXPIRE k -1 LT
EXISTS k
""")

script("keys_patterns", r"""
MSET hello 1 hallo 1 hxllo 1 hllo 1 heeeello 1 hillo 1 h*llo 1 a?b 1 x[y]z 1 foo:1 1 foo:2 1 'back\slash' 1
!sorted KEYS *
!sorted KEYS h?llo
!sorted KEYS h*llo
!sorted KEYS h[ae]llo
!sorted KEYS h[^e]llo
!sorted KEYS h[a-e]llo
!sorted KEYS h[e-a]llo
!sorted KEYS 'h\*llo'
!sorted KEYS foo:*
!sorted KEYS 'x\[y\]z'
!sorted KEYS *[
!sorted KEYS [
!sorted KEYS 'back\\slash'
!sorted KEYS 'a\?b'
!sorted KEYS ???
!sorted KEYS *o*
!sorted KEYS nomatch*
!sorted KEYS ""
!sorted KEYS **llo
!sorted KEYS h[!a]llo
""")

script("scan", r"""
# (cursor values legitimately differ, even on an empty db: compare key sets)
!scan
MSET a:1 1 a:2 1 a:10 1 a:11 1 a:100 1 b:1 1 b:2 1 c 1
!scan
!scan COUNT 1
!scan COUNT 2
!scan COUNT 1000
!scan MATCH a:1*
!scan MATCH a:1* COUNT 1
!scan MATCH b:* COUNT 3
!scan MATCH nomatch*
!scan TYPE string
!scan TYPE list
!scan TYPE hash COUNT 5
!scan MATCH a* TYPE string COUNT 2
SCAN abc
SCAN 0 COUNT 0
SCAN 0 COUNT -1
SCAN 0 COUNT x
SCAN 0 FOO x
SCAN 0 MATCH
SCAN 0 COUNT
SCAN 0 TYPE
SCAN 18446744073709551616
""")

script("scan_many", "\n".join(
    ["MSET " + " ".join("key:%d %d" % (i, i) for i in range(b, b + 100)) for b in range(0, 1500, 100)] +
    ["!scan", "!scan COUNT 7", "!scan MATCH key:1?? COUNT 50", "!scan MATCH *9", "DBSIZE"]))

script("randomkey", r"""
RANDOMKEY
SET only v
RANDOMKEY
DEL only
RANDOMKEY
SET k v
EXPIRE k 1000
RANDOMKEY
""")

script("rename_renamenx", r"""
SET a 1
RENAME a b
GET b
EXISTS a
SET c 3 EX 100
RENAME b c
GET c
TTL c
RENAME c c
GET c
RENAME nokey x
RENAME nokey nokey
SET t v EX 1000
RENAME t t2
!approx 1 TTL t2
MSET x 1 y 2
RENAMENX x y
RENAMENX x z
GET z
RENAMENX z z
RENAMENX nokey q
RENAMENX nokey nokey
""")

script("copy_move_numeric_db", r"""
SET src v
EXPIRE src 1000
COPY src dst
GET dst
!approx 1 TTL dst
COPY src dst
SET src w
COPY src dst REPLACE
GET dst
TTL dst
COPY nokey dst
COPY src src
COPY src dst FOO
COPY src dst DB
COPY src dst REPLACE REPLACE
COPY src dst DB 1
COPY src src DB 1
COPY src src DB 1
COPY src src DB 1 REPLACE
COPY src src DB 0
COPY src dst2 DB 0
COPY src src db 2 replace
SELECT 1
MGET src dst
DBSIZE
SELECT 2
GET src
SELECT 0
SET m mv
EXPIRE m 1000
MOVE m 1
EXISTS m
MOVE m 1
SELECT 1
GET m
!approx 1 TTL m
SET x in1
SELECT 0
SET x in0
MOVE x 1
GET x
MOVE x 0
MOVE nokey 1
MOVE x 2
SELECT 2
GET x
""")

script("dbsize_flush_select", r"""
DBSIZE
MSET a 1 b 2
DBSIZE
SELECT 1
DBSIZE
SET c 3
DBSIZE
FLUSHDB
DBSIZE
SELECT 0
DBSIZE
SELECT 1
SET c 3
FLUSHALL
DBSIZE
SELECT 0
DBSIZE
SET a 1
FLUSHDB SYNC
FLUSHDB ASYNC
FLUSHALL SYNC
FLUSHALL ASYNC
FLUSHALL FOO
FLUSHDB FOO
SELECT 0
SELECT 1
SELECT 15
""")

# ====================================================================== server / connection

# ROLE: a master without replicas (what Sentinel and client libraries read);
# inside MULTI, and refused while subscribed in RESP2.
script("role", r"""
ROLE
role
ROLE x
MULTI
ROLE
EXEC
SUBSCRIBE ch
ROLE
RESET
ROLE
""")

script("ping_echo", r"""
PING
PING hello
PING ""
ping "a b"
ECHO hello
ECHO ""
@py ["ECHO", b"\x00\r\n\xff"]
""")

script("client_name", r"""
CLIENT GETNAME
CLIENT SETNAME worker-1
CLIENT GETNAME
CLIENT SETNAME "bad name"
CLIENT SETNAME "bad\nname"
@py ["CLIENT", "SETNAME", "bad\nname"]
CLIENT GETNAME
CLIENT SETNAME ""
CLIENT GETNAME
CLIENT SETNAME a b
CLIENT NOSUCHSUB
client getname
""")

script("config_get", r"""
CONFIG GET requirepass
CONFIG GET maxclients
CONFIG GET timeout
CONFIG GET no-such-directive
CONFIG GET
CONFIG FOO
""")

script("auth_without_password", r"""
AUTH foo
AUTH default foo
AUTH a b c
PING
""")

script("multi_exec", r"""
MULTI
SET a 1
INCR a
GET a
MGET a nokey
EXEC
MULTI
EXEC
EXEC
DISCARD
MULTI
MULTI
SET b 2
EXEC
GET b
MULTI
SET b 3
DISCARD
GET b
EXEC
""")

script("multi_execabort", r"""
SET a orig
MULTI
SET a new
GET
NOSUCHCMD x
EXEC
GET a
EXEC
MULTI
SET a new
SET a
EXEC
GET a
""")

script("multi_runtime_errors", r"""
SET s notanumber
MULTI
INCR s
SET b 2
INCRBYFLOAT s 1
RENAME nokey x
EXEC
GET b
""")

script("multi_watch_errors", r"""
MULTI
WATCH a
EXEC
WATCH a b
UNWATCH
WATCH a
SET a 1
MULTI
GET a
EXEC
WATCH a
MULTI
GET a
EXEC
MULTI
SELECT 1
SET k in1
EXEC
GET k
SELECT 0
GET k
MULTI
PING
ECHO x
QUIT
""")

script("watch_flush_and_expiry", r"""
DEL x
WATCH x
FLUSHALL
MULTI
PING
EXEC
SET y 1
WATCH y
FLUSHDB
MULTI
PING
EXEC
WATCH nothere
SET other 1
FLUSHDB
MULTI
PING
EXEC
SET z 1 PX 1
!sleep 20
WATCH z
GET z
MULTI
PING
EXEC
SET q 1 PX 60
WATCH q
!sleep 150
MULTI
PING
EXEC
SET r 1
WATCH r
DEL r
MULTI
PING
EXEC
""")

script("expiretime_near_the_largest_time", r"""
SET k v PXAT 9223372036854775807
EXPIRETIME k
PEXPIRETIME k
SET k v PXAT 9223372036854775308
EXPIRETIME k
SET k v PXAT 9223372036854775307
EXPIRETIME k
PEXPIREAT k 9223372036854775807
EXPIRETIME k
""")

script("multi_empty_and_discard_watch", r"""
SET w 1
WATCH w
MULTI
DISCARD
SET w 2
MULTI
GET w
EXEC
""")

script("quit", r"""
SET q 1
!quit
GET q
""")

script("inline_commands", r"""
!raw b"PING\r\n"
!raw b"SET inl  value\n"
!raw b"GET inl\r\n"
!raw b'SET "a key" "v\\x41\\n\\"q"\r\n'
!raw b'GET "a key"\r\n'
!raw b"SET sq 'a b'\r\n"
!raw b"GET sq\r\n"
!raw b"\r\n\r\nPING\r\n"
!raw b"*0\r\n*-1\r\nPING\r\n"
!raw b"ECHO  \"\"  \r\n"
!raw b"NOSUCH  a  b\r\n"
""")

script("protocol_error_multibulk_len", r"""
!rawclose b"*abc\r\n"
""")
script("protocol_error_multibulk_len2", r"""
!rawclose b"PING\r\n*3000000000\r\n"
""")
script("protocol_error_bulk_len", r"""
!rawclose b"*1\r\n$abc\r\n"
""")
script("protocol_error_bulk_negative", r"""
!rawclose b"*1\r\n$-5\r\n"
""")
script("protocol_error_bulk_too_big", r"""
!rawclose b"*1\r\n$600000000\r\n"
""")
script("protocol_error_expected_dollar", r"""
!rawclose b"*1\r\nx3\r\nfoo\r\n"
""")
script("protocol_error_expected_dollar_colon", r"""
!rawclose b"*2\r\n$4\r\nECHO\r\n:5\r\n"
""")
script("protocol_error_unbalanced", r"""
!rawclose b'PING\r\nSET "abc xyz\r\nPING\r\n'
""")
script("protocol_error_unbalanced_single", r"""
!rawclose b"SET 'abc\r\n"
""")
script("protocol_error_quote_followed_by_char", r"""
!rawclose b'SET "a"b c\r\n'
""")
script("protocol_error_big_inline", """
!rawclose b"x" * 70000
""")
script("protocol_error_big_mbulk_count", """
!rawclose b"*" + b"1" * 70000
""")
script("protocol_error_big_bulk_count", """
!rawclose b"*1\\r\\n$" + b"1" * 70000
""")

# ====================================================================== more edge cases

script("arity_too_many", r"""
TTL a b
PTTL a b
TYPE a b
PERSIST a b
STRLEN a b
GETDEL a b
INCR a b
DECR a b
SETNX a b c
GETSET a b c
RENAME a b c
RENAMENX a b c
EXPIRETIME a b
INCRBY a 1 2
INCRBYFLOAT a 1 2
GETRANGE a 0 1 2
SETRANGE a 0 b c
SETEX a 10 v x
MOVE a 1 2
""")

script("expired_keys_lazy", r"""
SET k v PX 1
SET n 5 PX 1
SET s abc PX 1
MSET keep 1
!sleep 20
GET k
EXISTS k n s keep
TTL k
PTTL k
EXPIRETIME k
TYPE k
STRLEN s
MGET k n s keep
INCR n
TTL n
APPEND s def
GET s
SETNX k new
GET k
EXPIRE k 100 XX
PERSIST k
SET e v PX 1
!sleep 20
EXPIRE e 100
RENAME e e2
GETDEL e
COPY e e3
SET e v PX 1
!sleep 20
SET e v2 XX
SET e v3 NX GET
GETEX e
""")

script("case_insensitive", r"""
set k v ex 1000 nx
Get k
sEt k v2 Xx Get
expire k 100 Gt
Expire k 100 lt
pexpire k 5000 XX
getex k persist
ttl k
lcs k k len
Lcs k k Idx WithMatchLen MinMatchLen 1
incrbyfloat n 1.5
mset A 1 a 2
mget A a
""")

script("unknown_command_sanitize", r"""
@py ["FOO\r\nBAR", "a\nb", "c\rd"]
@py ["", "x"]
@py [" ", "x"]
""")
# Not "GET\x00": Redis hashes a command's name over all its bytes but
# compares names with strcasecmp, which stops at the NUL, so whether it runs
# GET or answers "unknown command" depends on its random hash seed.

script("big_values", "\n".join([
    '@py ["SET", "big", b"a" * 100000]',
    "STRLEN big",
    "GETRANGE big 99990 100010",
    "APPEND big tail",
    "GETRANGE big -10 -1",
    "SETRANGE pad 1048576 x",
    "STRLEN pad",
    "GETRANGE pad 1048570 1048580",
    '@py ["MSET", "b1", b"x" * 70000, "b2", b"y" * 70000]',
    "LCS b1 b2 LEN",
    '@py ["GET", "b2"]',
]))

script("many_keys", "\n".join([
    "MSET " + " ".join("k%d v%d" % (i, i) for i in range(1000)),
    "DBSIZE",
    "MGET " + " ".join("k%d" % i for i in range(0, 1200, 3)),
    "EXISTS " + " ".join("k%d" % i for i in range(0, 1200, 7)),
    "DEL " + " ".join("k%d" % i for i in range(0, 1200, 2)),
    "DBSIZE",
    "!sorted KEYS k1*",
    "!scan MATCH k?5 COUNT 20",
    "MSETNX k1 x nonexist y",
    "MSETNX k0 x nonexist y",
    "MGET k0 k1 nonexist",
]))

script("hello_errors", r"""
HELLO 4
HELLO 1
HELLO abc
HELLO 2 AUTH
HELLO 2 AUTH default
HELLO 2 SETNAME
HELLO 2 FOO
""")

script("incrbyfloat_precision", r"""
INCRBYFLOAT a 0.1
INCRBYFLOAT a 0.2
INCRBYFLOAT a 0.3
INCRBYFLOAT b 1e17
INCRBYFLOAT b 1
INCRBYFLOAT c 123456789.123456789
INCRBYFLOAT d -5e-7
INCRBYFLOAT e 1e20
INCRBYFLOAT e -1e20
INCRBYFLOAT f 3.0e3
INCRBYFLOAT f -3000
INCRBYFLOAT g 1.7e308
INCRBYFLOAT g 1.7e308
SET h 1.7976931348623157e308
INCRBYFLOAT h 0
SET i 0.0
INCRBYFLOAT i 0
SET j 00012.5000
INCRBYFLOAT j 0
SET k 5.0e3
INCRBYFLOAT k 0
INCRBYFLOAT l 2.5E-3
INCRBYFLOAT m 100
INCR m
INCRBY m 5
""")

# Pathological glob patterns must not take exponential time (Redis 7.0 bails
# out early); the raw connection times out after 10 s otherwise.
script("glob_pathological", "\n".join([
    "SET " + "a" * 100 + " v",
    "SET " + "ab" * 40 + " v",
    "!sorted KEYS " + "*a" * 30 + "b",
    "!sorted KEYS " + "*a" * 50 + "*b",
    "!sorted KEYS " + "*?" * 40 + "c",
    "!sorted KEYS " + "*ab" * 20 + "*",
    "!scan MATCH " + "*a" * 30 + "b COUNT 100",
    "!sorted KEYS 'a*\\'",
    "!sorted KEYS [a-",
    "!sorted KEYS '[\\]]*'",
    "!sorted KEYS [a-]*",
    "!sorted KEYS [z-a]*",
    "!sorted KEYS [^b]*",
    "!sorted KEYS *[",
    "!sorted KEYS a[a-b]*b",
]))


# ====================================================================== requirepass "pw"
# HELLO 2 AUTH default pw (success) is excluded: the reply carries the client id.

def auth_script(name, text):
    assert name not in AUTH_SCRIPTS, name
    AUTH_SCRIPTS[name] = text


auth_script("noauth_everything", r"""
PING
GET k
SET k v
SELECT 1
MULTI
EXEC
DISCARD
WATCH k
UNWATCH
INFO
DBSIZE
FLUSHALL
CLIENT SETNAME x
CONFIG GET port
COMMAND COUNT
SHUTDOWN NOSAVE
NOSUCHCOMMAND
ECHO hi
AUTH
AUTH wrong
AUTH default wrong
AUTH nobody pw
AUTH a b c
HELLO 2 AUTH default wrong
HELLO 2 AUTH nobody pw
""")

auth_script("noauth_hello2", r"""
HELLO 2
HELLO
""")

auth_script("noauth_hello3", r"""
HELLO 3
""")

auth_script("auth_then_use", r"""
GET k
AUTH pw
SET k v
GET k
AUTH wrong
GET k
AUTH default pw
PING
""")

auth_script("noauth_inside_multi", r"""
MULTI
AUTH pw
MULTI
SET k v
EXEC
GET k
""")

auth_script("auth_inline", r"""
!raw b"PING\r\n"
!raw b"AUTH pw\r\n"
!raw b"PING\r\n"
""")

auth_script("unauth_multibulk_limit", r"""
!rawclose b"*11\r\n"
""")
auth_script("unauth_bulk_limit", r"""
!rawclose b"*2\r\n$20000\r\n"
""")
auth_script("unauth_bulk_limit_later_arg", r"""
!rawclose b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16385\r\n"
""")
auth_script("unauth_small_ok", r"""
@py ["SET", "k", "x" * 16384]
@py ["ECHO"] + ["a"] * 9
""")
auth_script("auth_lifts_limits", r"""
AUTH pw
@py ["MSET"] + ["k%d" % (i // 2) if i % 2 == 0 else "v" for i in range(40)]
@py ["SET", "big", "x" * 100000]
STRLEN big
""")

script("ttl_rounding", r"""
# Redis rounds TTL to the nearest second: (ms + 500) / 1000
SET a v PX 1700
TTL a
SET b v PX 1200
TTL b
SET c v PX 999000
TTL c
SET d v PX 2600
TTL d
PSETEX e 1800 v
TTL e
""")

script("option_orders_and_duplicates", r"""
SET k v GET NX
SET k v NX GET
SET k2 v GET XX
SET k v EX 100 GET KEEPTTL
SET k v KEEPTTL GET
SET k v PX 100000 NX
SET k v XX PX 100000 GET
COPY k d1 REPLACE DB 1
COPY k d1 DB 1 REPLACE
COPY k d1 DB 1 DB 2
LCS k k2 MINMATCHLEN 2 MINMATCHLEN 3
LCS k k IDX IDX
LCS k k LEN LEN
EXPIRE k 100 XX XX
# (never compare equal relative TTLs with GT/LT: the clock moves in between)
EXPIRE k 50 GT GT
EXPIRE k 200 GT GT
EXPIRE k 100 LT LT
GETEX k PERSIST PERSIST
GETEX k EX 100 EX 200
GETEX k EXAT {NOW+100} PXAT {NOWMS+100}
FLUSHALL SYNC extra
FLUSHDB ASYNC SYNC
CLIENT ID extra
CLIENT GETNAME extra
CLIENT SETNAME a b
@py ["CLIENT", "SETNAME", "caf\xc3\xa9"]
@py ["CLIENT", "SETNAME", "tab\tname"]
CLIENT SETNAME ~!@#$%^&*()_+
CLIENT GETNAME
!pairs CONFIG GET requirepass maxclients
""")

script("config_get_name_case", r"""
CONFIG get MAXCLIENTS
CONFIG GET RequirePass
""")

script("config_get_duplicate_param", r"""
!pairs CONFIG GET maxclients maxclients
!pairs CONFIG GET maxclients MAXCLIENTS requirepass
""")

script("scan_option_duplicates", r"""
MSET a1 1 a2 2 b1 3
!scan MATCH b* MATCH a*
!scan COUNT 1 COUNT 100
!scan TYPE list TYPE string
!scan MATCH a* COUNT 1 TYPE string
!scan TYPE STRING
!scan TYPE nosuchtype
""")

script("memory_and_command_help", r"""
MEMORY HELP
MEMORY help extra
MEMORY PURGE
MEMORY PURGE x
MEMORY MALLOC-STATS x
MEMORY NOSUCH
MEMORY
COMMAND HELP
COMMAND help x
""")
