"""Differential scripts for the collection types of Redis 7.0: hashes, lists,
sets and sorted sets (syntax: see the docstring of test_diff.py), run by
test_diff_types.py.

Each script starts on a fresh connection (db 0) after FLUSHALL on both servers.

On top of test_diff.py's directives, test_diff_types.py understands three more
(it cuts the script at them and runs the pieces with test_diff.run_script):
  !hscan key [MATCH p] [COUNT n]   full HSCAN iteration on both servers,
                                   compares the SET of (field, value) pairs
  !sscan key [MATCH p] [COUNT n]   full SSCAN, compares the SET of members
  !zscan key [MATCH p] [COUNT n]   full ZSCAN, compares the SET of
                                   (member, score) pairs, scores byte for byte
(cursors and batch sizes legitimately differ).  Such a directive runs on a
fresh connection in db 0, and the lines after it on fresh connections too: do
not put one inside MULTI or after a SELECT that is still meant to hold.

What is deliberately not compared as-is:
  - unordered replies (SMEMBERS, SINTER/SUNION/SDIFF, HKEYS, HVALS, HGETALL,
    whole-collection SRANDMEMBER/SPOP/HRANDFIELD/ZRANDMEMBER): !sorted/!pairs;
  - random replies: SPOP/SRANDMEMBER/HRANDFIELD/ZRANDMEMBER only appear in
    their deterministic forms (count >= size, 1-element collections, negative
    counts on 1-element collections, empty or missing keys, errors);
  - TTL/PTTL: !approx, or EXPIRETIME/PEXPIRETIME after absolute EXPIREAT.
Deliberately compared although implementation specific in Redis terms:
  - OBJECT ENCODING with the default thresholds of 7.0.15
    (hash-max-listpack-entries 512 / -value 64, set-max-intset-entries 512,
    zset-max-listpack-entries 128 / -value 64; 7.0 has no listpack sets and no
    listpack lists: a set of strings is "hashtable", a list is "quicklist"),
    including that 7.0 never converts back to the small encoding;
  - ZSCAN of a listpack sorted set returns the score as the listpack stores
    it, so an integral score >= 1e17 comes back as "100000000000000000" from
    ZSCAN but as "1e+17" from ZSCORE, and a listpack turns a score of -0 into
    0 while a skiplist keeps -0 (script zset_encoding_dependent_score_format).
"""

SCRIPTS = {}


def script(name, text):
    assert name not in SCRIPTS, name
    SCRIPTS[name] = text


def lines(*parts):
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        else:
            out.extend(p)
    return "\n".join(out) + "\n"


def chunked(prefix, items, per=50):
    """'prefix item item ...' lines, `per` items a line."""
    items = list(items)
    return [prefix + " " + " ".join(items[i:i + per]) for i in range(0, len(items), per)]


LONG64 = "v" * 64
LONG65 = "w" * 65

# ======================================================================= hashes

script("hash_basic", r"""
HSET h f1 v1
HSET h f1 v1
HSET h f1 v2
HSET h f2 v2 f3 v3
HSET h f4 a f4 b
HGET h f4
HGET h f1
HGET h nofield
HGET nokey f1
HLEN h
HLEN nokey
HEXISTS h f2
HEXISTS h nofield
HEXISTS nokey f2
HSTRLEN h f1
HSTRLEN h nofield
HSTRLEN nokey f1
HMGET h f1 nofield f2 f1
HMGET nokey a b
HMSET h f5 v5 f6 v6
HMSET h f5 x
HGET h f5
HSETNX h f1 zz
HSETNX h f7 v7
HGET h f1
HGET h f7
HSETNX newh a 1
TYPE newh
!sorted HKEYS h
!sorted HVALS h
!pairs HGETALL h
HKEYS nokey
HVALS nokey
HGETALL nokey
HDEL h f1 f1 nofield
HDEL h f2 f3
HDEL h nofield
HDEL nokey f
HLEN h
TYPE h
OBJECT ENCODING h
HDEL h f4 f5 f6 f7
EXISTS h
TYPE h
HGET h f1
HLEN h
HGETALL h
OBJECT ENCODING h
""")

script("hash_empty_and_binary", r"""
HSET h "" ""
HGET h ""
HSTRLEN h ""
HEXISTS h ""
HLEN h
HSET h " " "a b c"
HGET h " "
@py ["HSET", "b", b"f\x00\r\n", b"\x00\xff\r\n$-1\r\n", b"", b"\x00"]
@py ["HGET", "b", b"f\x00\r\n"]
@py ["HGET", "b", b""]
@py ["HSTRLEN", "b", b"f\x00\r\n"]
@py ["HMGET", "b", b"f\x00\r\n", b"f\x00", b""]
!pairs HGETALL b
@py ["HDEL", "b", b"f\x00"]
@py ["HDEL", "b", b"f\x00\r\n"]
HLEN b
HSET num 1 10 01 20 -0 30 1.0 40
HGET num 1
HGET num 01
HGET num -0
HGET num 0
HGET num 1.0
HLEN num
HSTRLEN num 01
HSET c F1 upper f1 lower
HGET c F1
HGET c f1
HLEN c
""")

script("hash_arity_errors", r"""
HSET
HSET h
HSET h f
HSET h f v g
HSET h f v g w x
HSETNX h f
HSETNX h f v x
HGET h
HGET h f x
HMGET h
HMSET h
HMSET h f
HMSET h f v g
HDEL h
HEXISTS h
HEXISTS h f x
HLEN
HLEN h x
HSTRLEN h
HSTRLEN h f x
HKEYS
HKEYS h x
HVALS
HVALS h x
HGETALL
HGETALL h x
HINCRBY h f
HINCRBY h f 1 2
HINCRBYFLOAT h f
HINCRBYFLOAT h f 1 2
HRANDFIELD
HSCAN h
EXISTS h
""")

script("hash_wrongtype", r"""
SET s v
HSET s f v
HSETNX s f v
HGET s f
HMGET s f
HMSET s f v
HDEL s f
HEXISTS s f
HLEN s
HSTRLEN s f
HKEYS s
HVALS s
HGETALL s
HINCRBY s f 1
HINCRBYFLOAT s f 1
HRANDFIELD s
HRANDFIELD s 2
HRANDFIELD s 2 WITHVALUES
HSCAN s 0
GET s
RPUSH l a
HSET l f v
HGET l f
HLEN l
SADD set a
HGETALL set
HDEL set a
ZADD z 1 a
HEXISTS z a
HINCRBY z a 1
LLEN l
""")

script("hash_incrby", r"""
HINCRBY h n 1
HINCRBY h n 10
HINCRBY h n -100
HINCRBY h n 0
HGET h n
HINCRBY h m -5
HSET h big 9223372036854775807
HINCRBY h big 1
HINCRBY h big 0
HINCRBY h big -1
HSET h small -9223372036854775808
HINCRBY h small -1
HINCRBY h small 1
HINCRBY h n 9223372036854775807
HINCRBY h n 9223372036854775808
HINCRBY h n -9223372036854775809
HINCRBY h n abc
HINCRBY h n 1.5
HINCRBY h n ""
HINCRBY h n " 1"
HINCRBY h n +1
HINCRBY h n 0x10
HSET h s abc
HINCRBY h s 1
HSET h f 1.5
HINCRBY h f 1
HSET h sp " 1"
HINCRBY h sp 1
HSET h lead 01
HINCRBY h lead 1
HSET h empty ""
HINCRBY h empty 1
HSET h toolong 9223372036854775808
HINCRBY h toolong 1
HGETALL nosuch
!pairs HGETALL h
HINCRBY newkey f 7
TYPE newkey
HGET newkey f
""")

script("hash_incrbyfloat", r"""
HINCRBYFLOAT h f 10.5
HINCRBYFLOAT h f 0.1
HINCRBYFLOAT h f -5
HINCRBYFLOAT h f 1e3
HINCRBYFLOAT h g 5.0e3
HINCRBYFLOAT h g 2.0e2
HINCRBYFLOAT h i 0.1
HINCRBYFLOAT h i 0.2
HINCRBYFLOAT h j 1e20
HINCRBYFLOAT h k 1.23456789012345678
HINCRBYFLOAT h l -1e-10
HINCRBYFLOAT h m 3
HINCRBYFLOAT h m -3
HGET h m
HINCRBYFLOAT h m -0
HINCRBYFLOAT h n .5
HINCRBYFLOAT h n 5.
HINCRBYFLOAT h n +1
HINCRBYFLOAT h n 0x10
HINCRBYFLOAT h n 1e500
HINCRBYFLOAT h n abc
HINCRBYFLOAT h n ""
HINCRBYFLOAT h n " 1"
HINCRBYFLOAT h n "1 "
HINCRBYFLOAT h n nan
HINCRBYFLOAT h n inf
HINCRBYFLOAT h n -inf
HINCRBYFLOAT h n infinity
HGET h n
HSET h int 7
HINCRBYFLOAT h int 1
HINCRBY h int 1
HINCRBYFLOAT h int 0.5
HINCRBY h int 1
HSET h s abc
HINCRBYFLOAT h s 1
HSET h s 1.5abc
HINCRBYFLOAT h s 1
HSET h s " 1.5"
HINCRBYFLOAT h s 1
HSET h huge 1e308
HINCRBYFLOAT h huge 1e308
HGET h huge
!pairs HGETALL h
""")

script("hash_randfield_deterministic", r"""
HRANDFIELD nokey
HRANDFIELD nokey 5
HRANDFIELD nokey -5
HRANDFIELD nokey 5 WITHVALUES
HRANDFIELD nokey 0
HSET one f v
HRANDFIELD one
HRANDFIELD one 1
HRANDFIELD one 5
HRANDFIELD one -1
HRANDFIELD one -4
HRANDFIELD one 1 WITHVALUES
HRANDFIELD one -3 WITHVALUES
HRANDFIELD one 0
HRANDFIELD one 0 WITHVALUES
HRANDFIELD one abc
HRANDFIELD one 1.5
HRANDFIELD one 1 WITHVALUE
HRANDFIELD one 1 WITHVALUES x
HRANDFIELD one WITHVALUES
HRANDFIELD one -9223372036854775808
HRANDFIELD one -9223372036854775808 WITHVALUES
HRANDFIELD one 9223372036854775807
HSET h a 1 b 2 c 3 d 4
!sorted HRANDFIELD h 4
!sorted HRANDFIELD h 100
!pairs HRANDFIELD h 4 WITHVALUES
!pairs HRANDFIELD h 1000 WITHVALUES
HLEN h
""")

script("hash_encoding_thresholds", lines(
    "HSET h f1 v1 f2 v2 f3 v3",
    "OBJECT ENCODING h",
    "HSET h long " + LONG64,
    "OBJECT ENCODING h",
    "HSET h long " + LONG65,
    "OBJECT ENCODING h",
    "HGET h long",
    "HSTRLEN h long",
    "HLEN h",
    "HDEL h long f1 f2",
    "OBJECT ENCODING h",
    "!pairs HGETALL h",
    # a long field name converts too
    "HSET h2 a 1",
    "HSET h2 " + LONG64 + " 1",
    "OBJECT ENCODING h2",
    "HSET h2 " + LONG65 + " 2",
    "OBJECT ENCODING h2",
    "HGET h2 " + LONG65,
    # HSETNX, HMSET and HINCRBYFLOAT with long values
    "HSETNX h3 f " + LONG65,
    "OBJECT ENCODING h3",
    "HMSET h4 a 1 b " + LONG65,
    "OBJECT ENCODING h4",
    "HSET h5 f 1",
    "HINCRBYFLOAT h5 f 1.5",
    "OBJECT ENCODING h5",
    # exactly 512 entries stay listpack, the 513th converts
    chunked("HSET n", ("f%d %d" % (i, i) for i in range(512)), 40),
    "HLEN n",
    "OBJECT ENCODING n",
    "HSET n f0 again",
    "OBJECT ENCODING n",
    "HSETNX n f512 x",
    "OBJECT ENCODING n",
    "HLEN n",
    "HGET n f0",
    "HGET n f511",
    "HGET n f512",
    "HDEL n f512 f511",
    "OBJECT ENCODING n",
    # HMSET / HINCRBY crossing the bound
    chunked("HMSET m", ("f%d x" % i for i in range(510)), 30),
    "HINCRBY m c1 1",
    "HINCRBY m c2 1",
    "OBJECT ENCODING m",
    "HINCRBY m c3 1",
    "OBJECT ENCODING m",
    "HINCRBYFLOAT m c3 0.5",
    "HGET m c3",
    "HLEN m",
))

BIGH = 600
script("hash_big", lines(
    chunked("HSET big", ("field:%d val:%d" % (i, i * 7) for i in range(BIGH)), 60),
    "HLEN big",
    "OBJECT ENCODING big",
    "TYPE big",
    "HGET big field:0",
    "HGET big field:599",
    "HGET big field:600",
    "HMGET big field:1 field:2 nofield field:598",
    "HEXISTS big field:300",
    "HSTRLEN big field:123",
    "HSET big field:1 changed newfield new",
    "HSETNX big field:2 nope",
    "HSETNX big another one",
    "HLEN big",
    "HINCRBY big counter 5",
    "HINCRBY big counter -10",
    "HINCRBY big field:3 1",
    "HINCRBYFLOAT big fl 2.5",
    "HINCRBYFLOAT big fl 0.1",
    "!sorted HKEYS big",
    "!sorted HVALS big",
    "!pairs HGETALL big",
    "!sorted HRANDFIELD big 1000",
    "!pairs HRANDFIELD big 700 WITHVALUES",
    "!hscan big",
    "!hscan big COUNT 3",
    "!hscan big COUNT 1000",
    "!hscan big MATCH field:1*",
    "!hscan big MATCH field:5?? COUNT 20",
    "!hscan big MATCH nomatch*",
    chunked("HDEL big", ("field:%d" % i for i in range(0, BIGH, 2)), 100),
    "HLEN big",
    "OBJECT ENCODING big",
    "!pairs HGETALL big",
    "!hscan big MATCH field:*1",
    chunked("HDEL big", ("field:%d" % i for i in range(BIGH)), 100),
    "HLEN big",
    "!pairs HGETALL big",
    "OBJECT ENCODING big",
    "HDEL big newfield another counter fl",
    "EXISTS big",
    "TYPE big",
))

script("hash_scan", r"""
!hscan nokey
HSCAN nokey 0
HSET h a 1 b 2 c 3 abc 4 "x y" 5
!hscan h
!hscan h COUNT 1
!hscan h MATCH a*
!hscan h MATCH *b*
!hscan h MATCH "x y"
!hscan h MATCH x\ *
!hscan h MATCH nomatch
!hscan h MATCH [ab]
HSCAN h abc
HSCAN nokey -1
HSCAN h 0 COUNT 0
HSCAN h 0 COUNT -1
HSCAN h 0 COUNT x
HSCAN h 0 COUNT
HSCAN h 0 MATCH
HSCAN h 0 FOO bar
HSCAN h 0 TYPE string
HSCAN h 18446744073709551616
SET s v
HSCAN s 0
HSCAN s abc
""")

# ======================================================================== lists

script("list_push_pop", r"""
LPUSH l a
LPUSH l b c
RPUSH l d e
LRANGE l 0 -1
LLEN l
LPUSHX l x
RPUSHX l y z
LRANGE l 0 -1
LPUSHX nokey a
RPUSHX nokey a b
EXISTS nokey
TYPE l
LPOP l
RPOP l
LPOP l 2
RPOP l 2
LPOP l 0
RPOP l 0
LPOP l -1
RPOP l -1
LPOP l abc
LPOP l 1.5
LRANGE l 0 -1
LPOP l 100
EXISTS l
TYPE l
LPOP l
RPOP l
LPOP l 1
RPOP l 0
LLEN l
RPUSH l only
RPOP l 5
EXISTS l
RPUSH e ""
LLEN e
LPOP e
EXISTS e
@py ["RPUSH", "bin", b"\x00", b"a\r\nb", b"", b"\xff" * 10]
LRANGE bin 0 -1
@py ["LPOP", "bin", "9223372036854775807"]
RPUSH n 1 01 -0 1.0 9223372036854775807 -9223372036854775808 9223372036854775808
LRANGE n 0 -1
OBJECT ENCODING n
""")

script("list_arity_errors", r"""
LPUSH
LPUSH l
RPUSH l
LPUSHX l
RPUSHX l
LPOP
LPOP l 1 2
RPOP
RPOP l 1 2
LLEN
LLEN l x
LRANGE l 0
LRANGE l 0 1 2
LINDEX l
LINDEX l 0 1
LSET l 0
LSET l 0 v x
LINSERT l BEFORE p
LINSERT l BEFORE p v x
LREM l 0
LREM l 0 v x
LTRIM l 0
LTRIM l 0 1 2
LPOS l
LMOVE a b LEFT
LMOVE a b LEFT RIGHT x
RPOPLPUSH a
RPOPLPUSH a b c
LMPOP
LMPOP 1
LMPOP 1 a
EXISTS l
""")

script("list_wrongtype", r"""
SET s v
LPUSH s a
RPUSH s a
LPUSHX s a
RPUSHX s a
LPOP s
RPOP s
LPOP s 2
LLEN s
LRANGE s 0 -1
LINDEX s 0
LSET s 0 v
LINSERT s BEFORE a b
LREM s 0 a
LTRIM s 0 1
LPOS s a
LMOVE s dst LEFT RIGHT
RPOPLPUSH s dst
EXISTS dst
RPUSH src a b
LMOVE src s LEFT RIGHT
RPOPLPUSH src s
LRANGE src 0 -1
LMPOP 1 s LEFT
LMPOP 2 nokey s LEFT
LMPOP 2 src s LEFT
LMPOP 2 s src LEFT
GET s
HSET h f v
LPUSH h a
LLEN h
SADD set a
RPOP set
ZADD z 1 a
LRANGE z 0 -1
LMOVE src z LEFT LEFT
LRANGE src 0 -1
""")

script("list_range_index", r"""
RPUSH l a b c d e f g
LRANGE l 0 -1
LRANGE l 0 0
LRANGE l -1 -1
LRANGE l 2 4
LRANGE l -3 -1
LRANGE l -100 2
LRANGE l 5 100
LRANGE l 7 10
LRANGE l 4 2
LRANGE l -1 -3
LRANGE l -100 -50
LRANGE l 0 9223372036854775807
LRANGE l -9223372036854775808 1
LRANGE l 0 9223372036854775808
LRANGE l a 1
LRANGE l 1 b
LRANGE l 1.0 2
LRANGE nokey 0 -1
LINDEX l 0
LINDEX l 6
LINDEX l 7
LINDEX l -1
LINDEX l -7
LINDEX l -8
LINDEX l 9223372036854775807
LINDEX l -9223372036854775808
LINDEX l x
LINDEX l ""
LINDEX nokey 0
LSET l 0 A
LSET l -1 G
LSET l 3 D
LSET l 7 X
LSET l -8 X
LSET l x X
LSET nokey 0 X
EXISTS nokey
LSET l 1 ""
LRANGE l 0 -1
""")

script("list_linsert", r"""
RPUSH l a b c b
LINSERT l BEFORE b x
LINSERT l AFTER b y
LINSERT l before c z
LINSERT l after a w
LINSERT l BEFORE nopivot q
LINSERT l AFTER nopivot q
LINSERT l MIDDLE a q
LINSERT l "" a q
LRANGE l 0 -1
LLEN l
LINSERT nokey BEFORE a b
EXISTS nokey
LINSERT l AFTER "" q
RPUSH l ""
LINSERT l AFTER "" q
LRANGE l -3 -1
LINSERT l AFTER a 
""")

script("list_lrem_ltrim", r"""
RPUSH l a b a c a d a
LREM l 2 a
LRANGE l 0 -1
LREM l -1 a
LRANGE l 0 -1
RPUSH l a a
LREM l 0 a
LRANGE l 0 -1
LREM l 0 nothing
LREM l 1 nothing
LREM l x a
LREM l 1.5 a
LREM nokey 0 a
LREM l -9223372036854775808 b
LRANGE l 0 -1
LREM l 0 c
LREM l 0 d
EXISTS l
RPUSH t 0 1 2 3 4 5 6 7 8 9
LTRIM t 1 -2
LRANGE t 0 -1
LTRIM t -5 -1
LRANGE t 0 -1
LTRIM t 0 100
LRANGE t 0 -1
LTRIM t -100 1
LRANGE t 0 -1
LTRIM t 1 1
LRANGE t 0 -1
LTRIM t x 1
LTRIM t 0 y
LTRIM nokey 0 1
EXISTS nokey
LTRIM t 1 0
EXISTS t
TYPE t
RPUSH t2 a b c
LTRIM t2 5 10
EXISTS t2
RPUSH t3 a b c
LTRIM t3 -1 -2
EXISTS t3
RPUSH t4 a b c
LTRIM t4 -100 -50
EXISTS t4
RPUSH t5 a b c
LTRIM t5 0 -1
LTRIM t5 -9223372036854775808 9223372036854775807
LRANGE t5 0 -1
""")

script("list_lpos", r"""
RPUSH l a b c 1 2 3 c c
LPOS l c
LPOS l nope
LPOS l c RANK 1
LPOS l c RANK 2
LPOS l c RANK 3
LPOS l c RANK 4
LPOS l c RANK -1
LPOS l c RANK -2
LPOS l c RANK -3
LPOS l c RANK -4
LPOS l c RANK 0
LPOS l c RANK x
LPOS l c RANK
LPOS l c RANK -9223372036854775808
LPOS l c RANK 9223372036854775807
LPOS l c COUNT 0
LPOS l c COUNT 1
LPOS l c COUNT 2
LPOS l c COUNT 10
LPOS l c COUNT -1
LPOS l c COUNT x
LPOS l c COUNT
LPOS l nope COUNT 0
LPOS l nope COUNT 2
LPOS l c RANK 2 COUNT 0
LPOS l c RANK -1 COUNT 2
LPOS l c RANK -2 COUNT 0
LPOS l c MAXLEN 0
LPOS l c MAXLEN 1
LPOS l c MAXLEN 3
LPOS l c MAXLEN 7
LPOS l c MAXLEN -1
LPOS l c MAXLEN x
LPOS l c COUNT 0 MAXLEN 7
LPOS l c COUNT 0 MAXLEN 8
LPOS l c RANK -1 MAXLEN 1
LPOS l c RANK -1 MAXLEN 2 COUNT 0
LPOS l c RANK 2 MAXLEN 7 COUNT 5
LPOS l c RANK 1 RANK 2
LPOS l c COUNT 1 COUNT 0
LPOS l c FOO 1
LPOS l c COUNT
LPOS l 1
LPOS l 01
LPOS nokey a
LPOS nokey a COUNT 0
LPOS nokey a RANK 0
LPOS nokey a COUNT -1
""")

script("list_lmove_rpoplpush", r"""
RPUSH src a b c d
LMOVE src dst LEFT LEFT
LMOVE src dst LEFT RIGHT
LMOVE src dst RIGHT LEFT
LRANGE src 0 -1
LRANGE dst 0 -1
LMOVE src dst RIGHT RIGHT
EXISTS src
LRANGE dst 0 -1
LMOVE src dst LEFT LEFT
LMOVE dst dst LEFT RIGHT
LRANGE dst 0 -1
LMOVE dst dst RIGHT LEFT
LRANGE dst 0 -1
LMOVE dst dst left left
LRANGE dst 0 -1
LMOVE dst dst UP LEFT
LMOVE dst dst LEFT DOWN
LMOVE nokey dst LEFT LEFT
LMOVE nokey nokey LEFT LEFT
RPOPLPUSH dst other
RPOPLPUSH dst other
LRANGE other 0 -1
RPOPLPUSH nokey other
RPOPLPUSH dst dst
LRANGE dst 0 -1
RPUSH one x
RPOPLPUSH one one
LRANGE one 0 -1
RPOPLPUSH one two
EXISTS one
LRANGE two 0 -1
SET str v
RPOPLPUSH two str
LMOVE two str LEFT LEFT
LRANGE two 0 -1
RPOPLPUSH str two
""")

script("list_lmpop", r"""
LMPOP 1 nokey LEFT
LMPOP 2 a b RIGHT
RPUSH a 1 2 3
RPUSH b x y z w
LMPOP 1 a LEFT
LMPOP 1 a RIGHT
LMPOP 2 nokey b LEFT
LMPOP 2 b a RIGHT COUNT 2
LMPOP 2 a b LEFT COUNT 10
EXISTS a
LMPOP 2 a b LEFT COUNT 10
EXISTS b
LMPOP 2 a b left count 1
RPUSH c 1 2 3
LMPOP 1 c LEFT COUNT 1
LMPOP 1 c right COUNT 100
EXISTS c
LMPOP 0 c LEFT
LMPOP -1 c LEFT
LMPOP x c LEFT
LMPOP 3 c LEFT
LMPOP 2 c LEFT
LMPOP 1 c MIDDLE
LMPOP 1 c LEFT COUNT 0
LMPOP 1 c LEFT COUNT -1
LMPOP 1 c LEFT COUNT x
LMPOP 1 c LEFT COUNT
LMPOP 1 c LEFT COUNT 1 COUNT 2
LMPOP 1 c LEFT FOO
LMPOP 1 c LEFT 1
LMPOP 9223372036854775807 c LEFT
LMPOP 2147483648 c LEFT
""")

BIGL = 350
script("list_big", lines(
    chunked("RPUSH big", ("e%d" % i for i in range(BIGL)), 50),
    "LLEN big",
    "OBJECT ENCODING big",
    "LINDEX big 0",
    "LINDEX big 175",
    "LINDEX big -1",
    "LINDEX big 349",
    "LINDEX big 350",
    "LRANGE big 100 110",
    "LRANGE big -5 -1",
    "LRANGE big 340 1000",
    "LSET big 200 changed",
    "LINDEX big 200",
    "LINSERT big BEFORE e300 ins1",
    "LINSERT big AFTER e10 ins2",
    "LLEN big",
    "LPOS big e300",
    "LPOS big e300 MAXLEN 100",
    "LPOS big changed RANK -1",
    "RPUSH big e5 e5 e5",
    "LPOS big e5 COUNT 0",
    "LPOS big e5 COUNT 0 RANK -1",
    "LPOS big e5 COUNT 2 RANK -2",
    "LREM big 2 e5",
    "LPOS big e5 COUNT 0",
    "LREM big -1 e5",
    "LPOS big e5 COUNT 0",
    "LLEN big",
    "LPOP big 3",
    "RPOP big 3",
    "LMOVE big small RIGHT LEFT",
    "LRANGE small 0 -1",
    "LTRIM big 50 -50",
    "LLEN big",
    "LRANGE big 0 4",
    "LRANGE big -4 -1",
    "LRANGE big 0 -1",
    "OBJECT ENCODING big",
    "LTRIM big 0 2",
    "LRANGE big 0 -1",
    "OBJECT ENCODING big",
    # elements large enough to make several quicklist nodes
    chunked("RPUSH fat", (("%04d" % i) + "x" * 3000 for i in range(20)), 5),
    "LLEN fat",
    "OBJECT ENCODING fat",
    "LINDEX fat 7",
    "LINSERT fat BEFORE " + "0010" + "x" * 3000 + " mid",
    "LINDEX fat 10",
    "LPOS fat mid",
    "LREM fat 0 mid",
    "LTRIM fat 5 6",
    "LRANGE fat 0 -1",
    "LLEN fat",
    # pushing many at once from the left keeps argument order reversed
    "LPUSH lp " + " ".join(str(i) for i in range(300)),
    "LRANGE lp 0 5",
    "LRANGE lp -5 -1",
    "LINDEX lp 150",
))

# writes that change nothing and WATCH: Redis signals a key when LTRIM keeps
# every element, when LSET writes the same value and when LMOVE rotates a
# one-element list, not when LREM, LINSERT, LPUSHX, LPOP 0 or LMOVE of a
# missing source find nothing to do
script("list_watch_noop_writes", r"""
RPUSH l a b c
WATCH l
LREM l 0 nothing
LINSERT l BEFORE nothing x
LPUSHX nokey a
LPOP l 0
LMOVE nokey l LEFT LEFT
RPOPLPUSH nokey l
LMPOP 1 nokey LEFT
MULTI
LRANGE l 0 -1
EXEC
WATCH l
LTRIM l 0 -1
MULTI
LLEN l
EXEC
WATCH l
LTRIM l 5 10
MULTI
EXISTS l
EXEC
RPUSH l a b
WATCH l
LSET l 0 a
MULTI
LINDEX l 0
EXEC
RPUSH one x
WATCH one
LMOVE one one LEFT RIGHT
MULTI
LRANGE one 0 -1
EXEC
WATCH one
RPOPLPUSH one one
MULTI
LRANGE one 0 -1
EXEC
WATCH other
LMOVE one other RIGHT LEFT
MULTI
LRANGE other 0 -1
EXEC
EXISTS one
""")

# LPOS with RANK LLONG_MIN: Redis negates it into itself, every match then
# ranks and COUNT stops nothing; LMPOP's numkeys past the arguments
script("list_lpos_lmpop_edges", r"""
RPUSH l a b c 1 2 3 c c b c
LPOS l c RANK -9223372036854775808
LPOS l c RANK -9223372036854775808 COUNT 1
LPOS l c RANK -9223372036854775808 COUNT 2
LPOS l c RANK -9223372036854775808 COUNT 0
LPOS l c RANK -9223372036854775808 MAXLEN 3 COUNT 1
LPOS l c RANK -9223372036854775807 COUNT 0
LPOS l c RANK 9223372036854775807 COUNT 0
LPOS l c RANK 3 COUNT 9223372036854775807
LPOS l c MAXLEN 9223372036854775807
LPOS l c rank -2 maxlen 4 count 0
LPOS l "" COUNT 0
LPOS l c COUNT -9223372036854775808
LPOS l c MAXLEN 1.5
LPOS l c RANK 1.5
LMPOP 1 l LEFT COUNT 9223372036854775807
RPUSH l a b c
LMPOP 1 l RIGHT COUNT 9223372036854775808
LMPOP 2 l
LMPOP 2 l LEFT
LMPOP 3 l l l
LMPOP 3 l l l right COUNT 2
LMPOP 1 l LEFT COUNT 1 extra
LMPOP 18446744073709551616 l LEFT
LMPOP "" l LEFT
LMPOP 1 "" LEFT
LPOP l 9223372036854775807
RPOP l 9223372036854775808
RPOP nokey -1
""")

# many nodes: a small list-max-listpack-size makes every operation cross
# node boundaries (put back to the default at the end)
script("list_many_nodes", lines(
    "CONFIG SET list-max-listpack-size 3",
    chunked("RPUSH m", ("v%d" % (i % 17) for i in range(400)), 40),
    "LLEN m",
    "OBJECT ENCODING m",
    "LINDEX m 0", "LINDEX m 1", "LINDEX m 2", "LINDEX m 3", "LINDEX m 199", "LINDEX m -1", "LINDEX m -398",
    "LRANGE m 2 8",
    "LRANGE m -9 -3",
    "LRANGE m 197 203",
    "LSET m 100 changed",
    "LSET m 101 " + "z" * 5000,
    "LINDEX m 101",
    "LRANGE m 99 103",
    "LINSERT m BEFORE v5 first-v5",
    "LINSERT m AFTER v16 after-first-v16",
    "LINSERT m BEFORE changed " + "y" * 3000,
    "LRANGE m 0 20",
    "LPOS m v3 COUNT 0",
    "LPOS m v3 RANK -3 COUNT 4",
    "LPOS m v3 RANK 2 MAXLEN 50 COUNT 0",
    "LREM m 5 v1",
    "LREM m -5 v2",
    "LREM m 0 v4",
    "LPOS m v1 COUNT 0",
    "LPOS m v2 COUNT 0",
    "LLEN m",
    "LRANGE m 0 -1",
    "LPOP m 7",
    "RPOP m 7",
    "LMOVE m m LEFT RIGHT",
    "LMOVE m m RIGHT LEFT",
    "LRANGE m 0 5",
    "LRANGE m -5 -1",
    "LTRIM m 10 -10",
    "LLEN m",
    "LRANGE m 0 -1",
    "LREM m 0 v7",
    "LMPOP 1 m RIGHT COUNT 30",
    "LTRIM m 3 5",
    "LRANGE m 0 -1",
    "LPUSH p " + " ".join("p%d" % i for i in range(50)),
    "LRANGE p 0 -1",
    "RPOPLPUSH p m",
    "LRANGE m 0 -1",
    "CONFIG SET list-max-listpack-size 1",
    "RPUSH one a b c d e",
    "LINSERT one AFTER c c2",
    "LREM one 0 b",
    "LSET one 0 A",
    "LRANGE one 0 -1",
    "CONFIG SET list-max-listpack-size -2",
    "RPUSH one f",
    "LRANGE one 0 -1",
    "LRANGE m 0 -1",
))

# elements bigger than a node, and binary ones, in a list of many nodes
script("list_fat_elements", lines(
    "CONFIG SET list-max-listpack-size -1",
    chunked("RPUSH f", (("%03d" % i) + "f" * 1500 for i in range(30)), 5),
    "RPUSH f " + "g" * 9000,
    "LPUSH f " + "h" * 9000,
    "LLEN f",
    "LINDEX f 0",
    "LINDEX f -1",
    "LINDEX f 15",
    "LSET f 15 short",
    "LSET f 16 " + "i" * 20000,
    "LRANGE f 14 17",
    "LINSERT f AFTER short " + "j" * 5000,
    "LINSERT f BEFORE short mid",
    "LRANGE f 13 19",
    "LREM f 0 " + "g" * 9000,
    "LPOS f mid",
    "LPOS f " + "i" * 20000,
    "LMOVE f f LEFT RIGHT",
    "LRANGE f -2 -1",
    "LTRIM f 1 -2",
    "LLEN f",
    "LPOP f 3",
    "RPOP f 3",
    "LLEN f",
    "CONFIG SET list-max-listpack-size -2",
    '@py ["RPUSH", "b", b"\\x00\\x01", b"\\xff" * 300, b"", b"\\r\\n", b"\\x80\\x80\\x80"]',
    '@py ["LPOS", "b", b"\\xff" * 300]',
    '@py ["LREM", "b", "0", b""]',
    '@py ["LINSERT", "b", "AFTER", b"\\r\\n", b"\\x00"]',
    "LRANGE b 0 -1",
))

# ========================================================================= sets

script("set_basic", r"""
SADD s a
SADD s a b c
SADD s b b d d
SCARD s
!sorted SMEMBERS s
SISMEMBER s a
SISMEMBER s z
SISMEMBER nokey a
SMISMEMBER s a z b
SMISMEMBER s z
SMISMEMBER nokey a b
SMEMBERS nokey
SCARD nokey
SREM s a z
SREM s a
SREM nokey a
SREM s b c c
SCARD s
TYPE s
OBJECT ENCODING s
SREM s d
EXISTS s
TYPE s
SCARD s
SMEMBERS s
SADD e ""
SISMEMBER e ""
SCARD e
@py ["SADD", "bin", b"\x00", b"a\r\nb", b"", b"\x00"]
@py ["SISMEMBER", "bin", b"a\r\nb"]
@py ["SMISMEMBER", "bin", b"\x00", b"\x00\x00", b""]
!sorted SMEMBERS bin
SCARD bin
""")

script("set_intset", r"""
SADD i 3 1 2
OBJECT ENCODING i
SCARD i
!sorted SMEMBERS i
SISMEMBER i 1
SISMEMBER i 01
SISMEMBER i " 1"
SISMEMBER i 1.0
SISMEMBER i +1
SMISMEMBER i 1 01 2 4
SADD i 01
OBJECT ENCODING i
SISMEMBER i 1
SISMEMBER i 01
SCARD i
!sorted SMEMBERS i
SADD j -5 0 9223372036854775807 -9223372036854775808
OBJECT ENCODING j
SISMEMBER j 9223372036854775807
SISMEMBER j -9223372036854775808
!sorted SMEMBERS j
SADD j 9223372036854775808
OBJECT ENCODING j
SISMEMBER j 9223372036854775808
SISMEMBER j -5
SREM j 9223372036854775808
OBJECT ENCODING j
SADD k -0
OBJECT ENCODING k
SADD k2 0
SISMEMBER k2 -0
SISMEMBER k2 0
SADD m 1 2 abc
OBJECT ENCODING m
SISMEMBER m 1
SISMEMBER m abc
SREM m abc
OBJECT ENCODING m
!sorted SMEMBERS m
SADD sp " 1"
OBJECT ENCODING sp
SADD fl 1.5
OBJECT ENCODING fl
SADD hx 0x10
OBJECT ENCODING hx
SADD ord 10 9 8 -1 100 5
!sorted SMEMBERS ord
SREM ord 10 100
!sorted SMEMBERS ord
SREM ord 9 8 -1 5
EXISTS ord
""")

script("set_arity_errors", r"""
SADD
SADD s
SREM s
SMEMBERS
SMEMBERS s x
SISMEMBER s
SISMEMBER s a b
SMISMEMBER s
SCARD
SCARD s x
SPOP
SPOP s 1 2
SRANDMEMBER
SRANDMEMBER s 1 2
SMOVE a b
SMOVE a b c d
SINTER
SINTERCARD
SINTERCARD 1
SINTERSTORE d
SUNION
SUNIONSTORE d
SDIFF
SDIFFSTORE d
SSCAN s
EXISTS s
""")

script("set_wrongtype", r"""
SET str v
SADD str a
SREM str a
SMEMBERS str
SISMEMBER str a
SMISMEMBER str a
SCARD str
SPOP str
SPOP str 2
SRANDMEMBER str
SRANDMEMBER str 2
SMOVE str dst a
SSCAN str 0
SADD s a b
SMOVE s str a
SMEMBERS str
SISMEMBER s a
SINTER s str
SINTER str s
SINTER nokey str
SINTERCARD 2 s str
SINTERCARD 2 nokey str
SUNION s str
SDIFF s str
SDIFF str s
SDIFF nokey str
SINTERSTORE d s str
SUNIONSTORE d s str
SDIFFSTORE d s str
EXISTS d
GET str
HSET h f v
SADD h a
SCARD h
RPUSH l a
SMEMBERS l
SUNION s l
ZADD z 1 a
SISMEMBER z a
SINTER s z
""")

script("set_pop_rand_deterministic", r"""
SPOP nokey
SPOP nokey 3
SPOP nokey 0
SPOP nokey -1
SRANDMEMBER nokey
SRANDMEMBER nokey 3
SRANDMEMBER nokey -3
SRANDMEMBER nokey 0
SADD one x
SRANDMEMBER one
SRANDMEMBER one 1
SRANDMEMBER one 5
SRANDMEMBER one -1
SRANDMEMBER one -5
SRANDMEMBER one 0
SRANDMEMBER one x
SRANDMEMBER one 1.5
SRANDMEMBER one -9223372036854775808
SRANDMEMBER one 9223372036854775807
SPOP one 0
SPOP one -1
SPOP one x
SPOP one -9223372036854775808
SPOP one
EXISTS one
SADD one x
SPOP one 1
EXISTS one
SADD one 7
SPOP one 9223372036854775807
EXISTS one
SADD s a b c 1 2 3
!sorted SRANDMEMBER s 6
!sorted SRANDMEMBER s 100
SCARD s
!sorted SPOP s 6
EXISTS s
SADD i 5 3 1 7
!sorted SRANDMEMBER i 4
!sorted SPOP i 10
EXISTS i
TYPE i
SADD i2 4
SPOP i2
SPOP i2
""")

script("set_smove", r"""
SADD src a b c
SADD dst x
SMOVE src dst a
SMOVE src dst a
SMOVE src dst nope
!sorted SMEMBERS src
!sorted SMEMBERS dst
SMOVE src src b
SMOVE src src nope
SMOVE src newdst b
TYPE newdst
SMEMBERS newdst
SMOVE src dst c
EXISTS src
!sorted SMEMBERS dst
SMOVE nokey dst a
SMOVE nokey nokey a
SMOVE dst dst x
SADD dst b
SMOVE dst newdst b
SCARD dst
SCARD newdst
SADD ints 1 2 3
SMOVE ints target 2
OBJECT ENCODING target
SMOVE dst target a
OBJECT ENCODING target
!sorted SMEMBERS target
SMOVE target ints a
OBJECT ENCODING ints
SET str v
SMOVE ints str 1
SISMEMBER ints 1
SMOVE str ints 1
SMOVE nokey str a
""")

script("set_algebra", r"""
SADD a 1 2 3 4 x
SADD b 3 4 5 x y
SADD c 4 x z
!sorted SINTER a b
!sorted SINTER a b c
SINTER a nokey
SINTER nokey a
!sorted SINTER a
!sorted SUNION a b c
!sorted SUNION a nokey
SUNION nokey nokey2
!sorted SDIFF a b
!sorted SDIFF a b c
!sorted SDIFF a nokey
SDIFF nokey a
SDIFF a a
!sorted SDIFF b a
SINTERCARD 1 a
SINTERCARD 2 a b
SINTERCARD 3 a b c
SINTERCARD 2 a nokey
SINTERCARD 2 a b LIMIT 0
SINTERCARD 2 a b LIMIT 1
SINTERCARD 2 a b LIMIT 2
SINTERCARD 2 a b LIMIT 100
SINTERCARD 2 a b limit 2
SINTERCARD 2 a b LIMIT -1
SINTERCARD 2 a b LIMIT x
SINTERCARD 2 a b LIMIT
SINTERCARD 2 a b LIMIT 1 LIMIT 2
SINTERCARD 2 a b FOO
SINTERCARD 0 a
SINTERCARD -1 a
SINTERCARD x a
SINTERCARD 3 a b
SINTERCARD 2 a
SINTERCARD 1 a b
SINTERSTORE d a b
!sorted SMEMBERS d
OBJECT ENCODING d
SINTERSTORE d a b c
!sorted SMEMBERS d
SINTERSTORE d a nokey
EXISTS d
SADD d q
SINTERSTORE d nokey
EXISTS d
SUNIONSTORE d a b
SCARD d
!sorted SMEMBERS d
SUNIONSTORE d nokey nokey2
EXISTS d
SDIFFSTORE d a b
!sorted SMEMBERS d
OBJECT ENCODING d
SDIFFSTORE d a a
EXISTS d
SADD i1 1 2 3
SADD i2 2 3 4
SINTERSTORE di i1 i2
OBJECT ENCODING di
SUNIONSTORE du i1 i2
OBJECT ENCODING du
SDIFFSTORE dd i1 i2
OBJECT ENCODING dd
SMEMBERS dd
SUNIONSTORE du i1 a
OBJECT ENCODING du
SINTERSTORE a a b
!sorted SMEMBERS a
SUNIONSTORE a a c
!sorted SMEMBERS a
SDIFFSTORE a a a
EXISTS a
SET str v
SUNIONSTORE str b c
TYPE str
!sorted SMEMBERS str
SET str2 v
SINTERSTORE str2 b nokey
EXISTS str2
HSET h f v
SDIFFSTORE h b c
TYPE h
""")

BIGS = 600
script("set_big", lines(
    chunked("SADD ints", (str(i) for i in range(0, 2 * BIGS, 2)), 60),
    "SCARD ints",
    "OBJECT ENCODING ints",
    "SISMEMBER ints 598",
    "SISMEMBER ints 599",
    "SMISMEMBER ints 0 1 2 1198 1199",
    # exactly 512 entries stay an intset, the 513th converts
    chunked("SADD edge", (str(i) for i in range(512)), 64),
    "OBJECT ENCODING edge",
    "SADD edge 100",
    "OBJECT ENCODING edge",
    "SADD edge 512",
    "OBJECT ENCODING edge",
    "SREM edge 512 511 510",
    "OBJECT ENCODING edge",
    "SCARD edge",
    chunked("SADD strs", ("m%d" % i for i in range(BIGS)), 60),
    "SCARD strs",
    "OBJECT ENCODING strs",
    "SISMEMBER strs m0",
    "SISMEMBER strs m600",
    "!sorted SMEMBERS ints",
    "!sorted SMEMBERS strs",
    "!sorted SRANDMEMBER ints 100000",
    "!sorted SRANDMEMBER strs 600",
    "!sscan ints",
    "!sscan ints COUNT 5",
    "!sscan ints MATCH 1?",
    "!sscan strs",
    "!sscan strs COUNT 1000",
    "!sscan strs MATCH m5*",
    "!sscan strs MATCH *7 COUNT 3",
    "SADD mixed " + " ".join("%d m%d" % (i, i) for i in range(0, 40)),
    "!sorted SINTER ints edge",
    "SINTERCARD 2 ints edge",
    "SINTERCARD 2 ints edge LIMIT 10",
    "SINTERCARD 3 ints edge mixed",
    "!sorted SINTER strs mixed",
    "!sorted SDIFF edge ints",
    "SUNIONSTORE u ints strs",
    "SCARD u",
    "SINTERSTORE inter ints edge",
    "SCARD inter",
    "OBJECT ENCODING inter",
    "SDIFFSTORE diff ints edge",
    "SCARD diff",
    "OBJECT ENCODING diff",
    "SDIFFSTORE diff2 mixed strs",
    "!sorted SMEMBERS diff2",
    "OBJECT ENCODING diff2",
    chunked("SREM strs", ("m%d" % i for i in range(0, BIGS, 3)), 100),
    "SCARD strs",
    "!sscan strs",
    "!sorted SPOP strs 1000",
    "EXISTS strs",
    "!sorted SPOP ints 600",
    "EXISTS ints",
))

script("set_scan", r"""
!sscan nokey
SSCAN nokey 0
SADD s a b c abc "x y" 1 2
!sscan s
!sscan s COUNT 1
!sscan s MATCH a*
!sscan s MATCH [12]
!sscan s MATCH *
SADD i 1 2 3 10 20 30
!sscan i
!sscan i MATCH 1*
!sscan i COUNT 2
SSCAN s x
SSCAN s 0 COUNT 0
SSCAN s 0 MATCH
SSCAN s 0 NOVALUES
SSCAN s 0 TYPE set
""")

script("set_wrongtype_strings_hashes", r"""
SET str v
HSET h f v
SADD s a b
SADD i 1 2
SADD str x
SADD h x
SREM str a
SREM h a
SREM nokey a
SMEMBERS str
SISMEMBER h a
SMISMEMBER str a b
SCARD h
SPOP str
SPOP h 2
SPOP str 0
SPOP str -1
SPOP str x
SRANDMEMBER str
SRANDMEMBER h 3
SRANDMEMBER h -3
SRANDMEMBER h 0
SRANDMEMBER h x
SMOVE str s a
SMOVE s str a
SMOVE s h a
SMOVE nokey str a
SMOVE nokey h a
SMOVE s s a
SMOVE h h a
SMOVE str str a
SISMEMBER s a
SINTER s h
SINTER h s
SINTER nokey h
SINTER h nokey
SINTERCARD 2 s h
SINTERCARD 2 nokey h
SINTERCARD 2 h nokey LIMIT 1
SINTERCARD 1 h LIMIT x
SUNION s str
SUNION nokey str
SDIFF s h
SDIFF h s
SDIFF nokey h
SDIFF s s h
SINTERSTORE d s h
SINTERSTORE d nokey h
SUNIONSTORE d s h
SDIFFSTORE d nokey h
SDIFFSTORE d s h
EXISTS d
SSCAN str 0
SSCAN h 0 COUNT 0
SSCAN h x
SUNIONSTORE h s i
TYPE h
!sorted SMEMBERS h
SINTERSTORE str nokey
EXISTS str
GET str
""")

# intsets answer in ascending order in Redis (SMEMBERS, the algebra over
# intsets, SSCAN, whole-set SRANDMEMBER/SPOP): compared exactly here
script("set_intset_order_widths", r"""
SADD w 5 -1 3
SMEMBERS w
SADD w 40000
SMEMBERS w
OBJECT ENCODING w
SADD w -40000 3000000000 -3000000000
SMEMBERS w
SREM w 3000000000 -3000000000 40000 -40000
SMEMBERS w
SADD w 2 4
SMEMBERS w
SADD w 9223372036854775807 -9223372036854775808 0
SMEMBERS w
SMISMEMBER w 0 -0 9223372036854775807 9223372036854775808 abc ""
SINTER w w
SADD v 3 4 5 6 -9223372036854775808
SINTER w v
SINTER v w
SUNION w v
SDIFF w v
SDIFF v w
SINTERSTORE dv w v
SMEMBERS dv
SSCAN w 0
SSCAN w 0 MATCH *5*
SSCAN w 0 COUNT 1
SRANDMEMBER w 100
SRANDMEMBER w 10
SPOP v 5
EXISTS v
SADD h x 1 2 3
SREM h x
OBJECT ENCODING h
SUNIONSTORE hu h
OBJECT ENCODING hu
SMEMBERS hu
SDIFFSTORE hd h w
OBJECT ENCODING hd
SMEMBERS hd
""")

script("set_packed_bounds", lines(
    chunked("SADD p", ("p%d" % i for i in range(128)), 64),
    "SCARD p",
    "OBJECT ENCODING p",
    "SISMEMBER p p127",
    "SADD p p0",
    "SADD p p128",
    "SCARD p",
    "SISMEMBER p p128",
    "SMISMEMBER p p0 p64 p128 p129",
    "SREM p p0 p128 nope",
    "SCARD p",
    "!sorted SMEMBERS p",
    "!sscan p",
    "!sscan p MATCH p1*",
    "!sorted SPOP p 1000",
    "EXISTS p",
    "SADD l a",
    "SADD l " + LONG64,
    "SISMEMBER l " + LONG64,
    "SADD l " + LONG65,
    "SISMEMBER l " + LONG65,
    "SISMEMBER l " + LONG64,
    "SREM l " + LONG64,
    "SCARD l",
    "!sorted SMEMBERS l",
    "OBJECT ENCODING l",
    chunked("SADD mix", (str(i) for i in range(100)), 50),
    "OBJECT ENCODING mix",
    "SADD mix s0",
    "OBJECT ENCODING mix",
    "SISMEMBER mix 99",
    "SISMEMBER mix s0",
    chunked("SADD mix", ("s%d" % i for i in range(40)), 40),
    "SCARD mix",
    "SISMEMBER mix 0",
    "SISMEMBER mix s39",
    "!sorted SINTER mix p l",
    "!sorted SUNION l mix",
    "SINTERCARD 2 mix mix LIMIT 150",
    "!sorted SDIFF mix l",
    "!sorted SRANDMEMBER mix 140",
    "SREM mix " + " ".join(str(i) for i in range(100)),
    "SCARD mix",
    "OBJECT ENCODING mix",
    "!sorted SMEMBERS mix",
    "@py [\"SADD\", \"e\", \"\", b\"\\x00\" * 64, b\"\\x00\" * 65, b\"\\x00\"]",
    "SCARD e",
    "@py [\"SISMEMBER\", \"e\", b\"\\x00\" * 65]",
    "!sorted SMEMBERS e",
))

# SDIFF: Redis picks one of two algorithms by an estimate of their work, and
# the one that adds the whole first set and then removes makes the result a
# hashtable even when what is left would be an intset
script("set_sdiff_algorithms", lines(
    "SADD f " + " ".join(str(i) for i in range(1, 21)) + " x",
    "SADD g x",
    "SADD h 5",
    "SDIFFSTORE d1 f g h",
    "OBJECT ENCODING d1",
    "!sorted SMEMBERS d1",
    "SDIFFSTORE d2 f g",
    "OBJECT ENCODING d2",
    "SMEMBERS d2",
    "!sorted SDIFF f g h",
    chunked("SADD big", (str(i) for i in range(520)), 65),
    "SADD ten " + " ".join(str(i) for i in range(10)),
    "SADD one 10",
    "SDIFFSTORE d3 big ten",
    "OBJECT ENCODING d3",
    "SCARD d3",
    "SDIFFSTORE d4 big ten one",
    "OBJECT ENCODING d4",
    "SCARD d4",
    "SDIFFSTORE d5 ten big",
    "EXISTS d5",
    "SDIFF f f g",
    "SDIFF f g f",
    "SDIFFSTORE d6 f nokey g f",
    "EXISTS d6",
    "!sorted SDIFF f nokey g",
    "SDIFF nokey f",
    "SDIFFSTORE f f g h",
    "OBJECT ENCODING f",
    "SCARD f",
))

script("set_store_ttl_and_counts", r"""
SADD a 1 2 3
SADD b 3 4
EXPIREAT a {NOW+1000}
SADD a 9
EXPIRETIME a
SREM a 9
EXPIRETIME a
SMOVE b a 4
EXPIRETIME a
SMEMBERS a
EXPIREAT b {NOW+2000}
SINTERSTORE b a b
EXPIRETIME b
SMEMBERS b
SET s v EX 1000
SUNIONSTORE s a
EXPIRETIME s
TYPE s
SADD t z
EXPIREAT t {NOW+3000}
SDIFFSTORE t a
EXPIRETIME t
SADD c x
EXPIREAT c {NOW+4000}
SMOVE c a x
EXISTS c
EXPIRETIME a
SADD LIMIT 3
SINTERCARD 3 a b LIMIT
SINTERCARD 2 a LIMIT
SINTERCARD 2 a LIMIT LIMIT 1
SINTERCARD 1 a LIMIT 0
SINTERCARD 1 a LIMIT 9223372036854775807
SINTERCARD 1 a LIMIT 9223372036854775808
SINTERCARD 1 a LIMIT 1 FOO 2
SINTERCARD 01 a
SINTERCARD " 1" a
SINTERCARD 9223372036854775807 a
SINTERCARD 2 nokey nokey
SINTERSTORE a a
!sorted SMEMBERS a
SUNIONSTORE a nokey
EXISTS a
SADD ci 1 2 3
SSCAN ci ""
SSCAN ci +0
SSCAN ci -1
SSCAN ci 00000000000000000000000000000000000000000000000000000000000000000000001
SSCAN ci 18446744073709551615
SSCAN ci 18446744073709551616
@py ["SSCAN", "ci", b"1\x00abc"]
@py ["SSCAN", "ci", b"\x000"]
SSCAN ci " 0"
SSCAN ci "0 "
SSCAN ci -
SSCAN ci 0x10
SSCAN nokey ""
""")

# ================================================================= sorted sets

script("zset_zadd_basic", r"""
ZADD z 1 a
ZADD z 2 b 3 c
ZADD z 1 a
ZADD z 5 a
ZADD z 1 a 1 a 2 a
ZSCORE z a
ZCARD z
ZCARD nokey
ZRANGE z 0 -1 WITHSCORES
ZADD z CH 1 a 2 b 4 d
ZADD z CH 1 a 2 b 4 d
ZADD z NX 10 a 10 e
ZADD z XX 20 a 20 f
ZADD z XX CH 21 a 20 f
ZSCORE z f
ZADD z GT 5 a
ZADD z GT CH 5 a
ZADD z GT CH 50 a
ZADD z LT CH 50 a
ZADD z LT CH 0 a
ZADD z GT 100 newmember
ZADD z LT 100 newmember2
ZADD z GT XX CH 1 a 100 b 7 nope
ZADD z LT XX CH 7 b 1000 c
ZRANGE z 0 -1 WITHSCORES
ZADD z INCR 5 a
ZADD z INCR -5 a
ZADD z INCR 1 brandnew
ZADD z NX INCR 1 a
ZADD z NX INCR 1 incnew
ZADD z XX INCR 1 a
ZADD z XX INCR 1 nothere
ZADD z GT INCR -1 a
ZADD z GT INCR 1 a
ZADD z LT INCR 1 a
ZADD z LT INCR -1 a
ZADD z INCR CH 1 a
ZADD z ch incr 0 a
ZSCORE z nothere
ZRANGE z 0 -1 WITHSCORES
ZADD z nx 1 lower
ZADD z Xx 1 lower
ZADD z gt lt 1 a
TYPE z
OBJECT ENCODING z
""")

script("zset_arity_errors", r"""
ZINCRBY
ZINCRBY z 1
ZINCRBY z 1 a b
ZREM
ZREM z
ZCARD
ZSCORE z
ZMSCORE z
ZRANK z
ZRANK z a b
ZREVRANK z a b
ZCOUNT z 0
ZCOUNT z 0 1 2
ZLEXCOUNT z -
ZLEXCOUNT z - + x
ZRANGE z 0
ZRANGESTORE d z 0
ZRANGEBYSCORE z 0
ZREVRANGEBYSCORE z 0
ZRANGEBYLEX z -
ZREVRANGEBYLEX z +
ZREVRANGE z 0
ZREMRANGEBYRANK z 0
ZREMRANGEBYRANK z 0 1 2
ZREMRANGEBYSCORE z 0
ZREMRANGEBYLEX z -
ZPOPMIN
ZPOPMAX
ZPOPMAX z 1 2
ZMPOP 1 z
ZRANDMEMBER
ZUNION
ZUNION 1
ZUNIONSTORE d
ZUNIONSTORE d 1
ZINTER 1
ZINTERSTORE d 1
ZINTERCARD 1
ZDIFF 1
ZDIFFSTORE d 1
ZSCAN z
EXISTS z d
""")

script("zset_zadd_errors", r"""
ZADD
ZADD z
ZADD z 1
ZADD z 1 a 2
ZADD z NX
ZADD z NX 1
ZADD z CH
ZADD z INCR
ZADD z NX XX 1 a
ZADD z XX NX 1 a
ZADD z GT LT 1 a
ZADD z GT NX 1 a
ZADD z LT NX 1 a
ZADD z NX GT LT 1 a
ZADD z XX GT LT 1 a
ZADD z INCR 1 a 2 b
ZADD z INCR NX XX 1 a
ZADD z INCR
ZADD z FOO 1 a
ZADD z 1 a FOO
ZADD z 1 a NX
ZADD z abc a
ZADD z "" a
ZADD z nan a
ZADD z NaN a
ZADD z -nan a
ZADD z 1e400 a
ZADD z -1e400 a
ZADD z " 1" a
ZADD z "1 " a
ZADD z 1x a
ZADD z 1 a x b
ZADD z 1 a 2 b abc c
EXISTS z
ZADD z INCR nan a
ZADD z 1 a
ZADD z INCR abc a
ZADD z 1 a 2 b abc c
ZCARD z
SET str v
ZADD str 1 a
ZADD str NX 1 a
ZADD str INCR 1 a
ZADD str XX 1 a
GET str
""")

script("zset_scores_format", r"""
ZADD z 1.5 a 0.1 b 1e20 c -0 d inf e -inf f +inf g 1e-5 h 123456789.123 i 3.0 j 1e17 k 9007199254740993 l 0x10 m infinity n -infinity o 1e16 p 0.5e1 q 1E2 r 100000000000000000000000 s 4.9e-324 t -1.5 u 1.7976931348623157e308 v 2.5e-5 w 12345678901234567 x .5 y 5. z
ZRANGE z 0 -1 WITHSCORES
ZSCORE z a
ZSCORE z b
ZSCORE z c
ZSCORE z d
ZSCORE z e
ZSCORE z f
ZSCORE z g
ZSCORE z h
ZSCORE z k
ZSCORE z l
ZSCORE z m
ZSCORE z p
ZSCORE z s
ZSCORE z t
ZSCORE z v
ZSCORE z x
ZSCORE z nosuch
ZSCORE nokey a
ZMSCORE z a b c nosuch d e f
ZMSCORE nokey a b
ZMSCORE z nosuch
ZINCRBY z 0.2 b
ZINCRBY z 1 e
ZINCRBY z -1 f
ZINCRBY z 1e308 v
ZINCRBY z 0 d
ZINCRBY z -0.0 d
ZSCORE z d
ZINCRBY z 3 newm
ZINCRBY z 2.5 newm
ZINCRBY z -inf e
ZINCRBY z inf f
ZINCRBY z nan a
ZINCRBY z abc a
ZINCRBY z 1e400 a
ZINCRBY z "" a
ZSCORE z e
ZSCORE z f
ZRANGE z 0 -1 WITHSCORES
ZRANGEBYSCORE z -inf inf WITHSCORES
ZREVRANGE z 0 3 WITHSCORES
ZPOPMIN z 2
ZPOPMAX z 2
""")

script("zset_zincrby_zrem_card", r"""
ZINCRBY z 1 a
ZINCRBY z 1 a
ZINCRBY z -5 a
TYPE z
ZINCRBY z x a
ZINCRBY z 1
ZINCRBY z 1 a b
ZREM z a
ZREM z a
EXISTS z
ZADD z 1 a 2 b 3 c
ZREM z a nosuch b b
ZCARD z
ZREM nokey a
ZREM z
ZREM z c
EXISTS z
TYPE z
ZCARD z
ZSCORE z c
ZADD z 1 a
ZSCORE z
ZSCORE z a b
ZMSCORE z
ZCARD
ZCARD z x
SET str v
ZINCRBY str 1 a
ZREM str a
ZCARD str
ZSCORE str a
ZMSCORE str a
""")

script("zset_rank_count", r"""
ZADD z 1 a 2 b 2 c 3 d 5 e inf f -inf g
ZRANK z a
ZRANK z g
ZRANK z f
ZRANK z c
ZRANK z nosuch
ZRANK nokey a
ZREVRANK z a
ZREVRANK z f
ZREVRANK z b
ZREVRANK z nosuch
ZREVRANK nokey a
ZRANK z a WITHSCORE
ZRANK z
ZREVRANK z
ZCOUNT z -inf +inf
ZCOUNT z 2 2
ZCOUNT z (2 3
ZCOUNT z 2 (3
ZCOUNT z (2 (3
ZCOUNT z (1 (2
ZCOUNT z 5 1
ZCOUNT z -inf -inf
ZCOUNT z inf inf
ZCOUNT z (-inf (inf
ZCOUNT z 1.5 2.5
ZCOUNT z -1e400 1
ZCOUNT z a 1
ZCOUNT z 1 b
ZCOUNT z ( 1
ZCOUNT z (a 1
ZCOUNT z "" 1
ZCOUNT z nan 1
ZCOUNT z 1
ZCOUNT nokey 0 1
ZCOUNT nokey a b
ZCOUNT z [1 2
SET str v
ZRANK str a
ZREVRANK str a
ZCOUNT str 0 1
""")

script("zset_lex", r"""
ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g 0 aa 0 ab 0 "" 0 A
ZRANGE l 0 -1
ZLEXCOUNT l - +
ZLEXCOUNT l + -
ZLEXCOUNT l [a [c
ZLEXCOUNT l (a [c
ZLEXCOUNT l (a (c
ZLEXCOUNT l [a (aa
ZLEXCOUNT l - [b
ZLEXCOUNT l (b +
ZLEXCOUNT l [ [a
ZLEXCOUNT l ( +
ZLEXCOUNT l - (
ZLEXCOUNT l a c
ZLEXCOUNT l [a c
ZLEXCOUNT l "" +
ZLEXCOUNT l -a +
ZLEXCOUNT l [z [a
ZLEXCOUNT nokey - +
ZLEXCOUNT nokey a b
ZLEXCOUNT l -
ZRANGEBYLEX l - +
ZRANGEBYLEX l [b [e
ZRANGEBYLEX l (b (e
ZRANGEBYLEX l [a (b
ZRANGEBYLEX l - + LIMIT 2 3
ZRANGEBYLEX l - + LIMIT 0 -1
ZRANGEBYLEX l - + LIMIT -1 2
ZRANGEBYLEX l - + LIMIT 20 2
ZRANGEBYLEX l - + LIMIT 1
ZRANGEBYLEX l - + LIMIT x 1
ZRANGEBYLEX l - + WITHSCORES
ZRANGEBYLEX l - + FOO
ZRANGEBYLEX l a +
ZRANGEBYLEX l [ +
ZRANGEBYLEX nokey - +
ZREVRANGEBYLEX l + -
ZREVRANGEBYLEX l [e [b
ZREVRANGEBYLEX l (e (b
ZREVRANGEBYLEX l [b [e
ZREVRANGEBYLEX l + - LIMIT 1 3
ZREVRANGEBYLEX l + - LIMIT 0 0
ZREVRANGEBYLEX l b a
ZRANGE l [b [d BYLEX
ZRANGE l [d [b BYLEX REV
ZRANGE l - + BYLEX LIMIT 1 2
ZRANGE l + - BYLEX REV LIMIT 1 2
ZRANGE l [b [d BYLEX WITHSCORES
ZRANGE l b d BYLEX
ZREMRANGEBYLEX l [aa [ab
ZRANGE l 0 -1
ZREMRANGEBYLEX l ( +
ZREMRANGEBYLEX l a b
ZREMRANGEBYLEX l (f +
ZREMRANGEBYLEX nokey - +
ZREMRANGEBYLEX l - +
EXISTS l
ZADD m 1 a 2 b 3 c
ZRANGEBYLEX m - +
ZLEXCOUNT m [b +
SET str v
ZLEXCOUNT str - +
ZRANGEBYLEX str - +
ZREMRANGEBYLEX str - +
""")

script("zset_zrange_forms", r"""
ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 6 g
ZRANGE z 0 -1
ZRANGE z 0 -1 WITHSCORES
ZRANGE z 2 3 withscores
ZRANGE z -2 -1
ZRANGE z -100 1
ZRANGE z 5 100
ZRANGE z 7 10
ZRANGE z 3 2
ZRANGE z 0 -1 REV
ZRANGE z 0 1 REV WITHSCORES
ZRANGE z 0 9223372036854775807
ZRANGE z -9223372036854775808 0
ZRANGE z a 1
ZRANGE z 0 1.5
ZRANGE z 0 1 LIMIT 0 1
ZRANGE z 0 1 REV LIMIT 0 1
ZRANGE z 2 5 BYSCORE
ZRANGE z (2 5 BYSCORE
ZRANGE z 2 (5 BYSCORE
ZRANGE z (2 (5 BYSCORE WITHSCORES
ZRANGE z -inf +inf BYSCORE
ZRANGE z -inf +inf BYSCORE LIMIT 1 3
ZRANGE z -inf +inf BYSCORE LIMIT 1 -1
ZRANGE z -inf +inf BYSCORE LIMIT -1 3
ZRANGE z -inf +inf BYSCORE LIMIT 10 3
ZRANGE z -inf +inf BYSCORE LIMIT 0 0
ZRANGE z 5 2 BYSCORE
ZRANGE z 5 2 BYSCORE REV
ZRANGE z (5 2 BYSCORE REV WITHSCORES
ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES
ZRANGE z 2 5 BYSCORE REV
ZRANGE z a b BYSCORE
ZRANGE z ( 1 BYSCORE
ZRANGE z 1 2 BYSCORE BYLEX
ZRANGE z - + BYLEX BYSCORE
ZRANGE z - + BYLEX WITHSCORES
ZRANGE z 0 -1 BYSCORE LIMIT 1
ZRANGE z 0 -1 BYSCORE LIMIT x 1
ZRANGE z 0 -1 BYSCORE LIMIT 1 y
ZRANGE z 0 -1 FOO
ZRANGE z 0 -1 WITHSCORES WITHSCORES
ZRANGE z 0 -1 REV REV
ZRANGE z 0 -1 BYSCORE BYSCORE
ZRANGE z 0 10 BYSCORE LIMIT 0 2 LIMIT 1 2
ZRANGE z 0
ZRANGE z
ZRANGE nokey 0 -1
ZRANGE nokey 0 -1 BYSCORE
ZRANGE nokey a b BYSCORE
ZRANGE nokey - + BYLEX
ZRANGE nokey a b BYLEX
ZREVRANGE z 0 -1
ZREVRANGE z 0 2 WITHSCORES
ZREVRANGE z -2 -1
ZREVRANGE z 0 -1 BYSCORE
ZREVRANGE z 0 -1 WITHSCORES x
ZREVRANGE z 0
ZREVRANGE nokey 0 -1
SET str v
ZRANGE str 0 -1
ZREVRANGE str 0 -1
ZRANGE str 0 -1 BYSCORE
""")

script("zset_rangebyscore_legacy", r"""
ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 6 g -inf ninf inf pinf
ZRANGEBYSCORE z -inf +inf
ZRANGEBYSCORE z -inf +inf WITHSCORES
ZRANGEBYSCORE z 2 5
ZRANGEBYSCORE z (2 5
ZRANGEBYSCORE z (2 (5 WITHSCORES
ZRANGEBYSCORE z 5 2
ZRANGEBYSCORE z -inf -inf
ZRANGEBYSCORE z (-inf (+inf
ZRANGEBYSCORE z 0 10 LIMIT 1 2
ZRANGEBYSCORE z 0 10 LIMIT 1 -1
ZRANGEBYSCORE z 0 10 LIMIT -1 2
ZRANGEBYSCORE z 0 10 LIMIT 0 0
ZRANGEBYSCORE z 0 10 WITHSCORES LIMIT 2 2
ZRANGEBYSCORE z 0 10 LIMIT 2 2 WITHSCORES
ZRANGEBYSCORE z 0 10 LIMIT 2
ZRANGEBYSCORE z 0 10 LIMIT a 2
ZRANGEBYSCORE z 0 10 FOO
ZRANGEBYSCORE z 0 10 REV
ZRANGEBYSCORE z a 10
ZRANGEBYSCORE z 0 nan
ZRANGEBYSCORE z 0
ZRANGEBYSCORE nokey 0 1
ZREVRANGEBYSCORE z +inf -inf
ZREVRANGEBYSCORE z +inf -inf WITHSCORES
ZREVRANGEBYSCORE z 5 2
ZREVRANGEBYSCORE z (5 (2
ZREVRANGEBYSCORE z 2 5
ZREVRANGEBYSCORE z 10 0 LIMIT 1 3 WITHSCORES
ZREVRANGEBYSCORE z 10 0 LIMIT 0 -5
ZREVRANGEBYSCORE z 10 x
ZREVRANGEBYSCORE z 10
ZREVRANGEBYSCORE nokey 1 0
SET str v
ZRANGEBYSCORE str 0 1
ZREVRANGEBYSCORE str 1 0
ZRANGEBYLEX str - +
ZREVRANGEBYLEX str + -
""")

script("zset_zrangestore", r"""
ZADD src 1 a 2 b 3 c 4 d 5 e
ZRANGESTORE dst src 0 -1
ZRANGE dst 0 -1 WITHSCORES
OBJECT ENCODING dst
ZRANGESTORE dst src 1 2
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src 0 1 REV
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src (1 4 BYSCORE
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src 4 (1 BYSCORE REV LIMIT 1 1
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src [b (d BYLEX
ZRANGE dst 0 -1
ZRANGESTORE dst src 5 10
EXISTS dst
ZRANGESTORE dst src 0 -1
ZRANGESTORE dst nokey 0 -1
EXISTS dst
ZRANGESTORE dst src 0 -1 WITHSCORES
ZRANGESTORE dst src 0 -1 LIMIT 0 1
ZRANGESTORE dst src a b BYSCORE
ZRANGESTORE dst src 0
ZRANGESTORE src src 1 3
ZRANGE src 0 -1 WITHSCORES
SET str v
ZRANGESTORE str src 0 -1
TYPE str
ZRANGESTORE dst str 0 -1
SADD set a b
ZRANGESTORE dst set 0 -1
""")

script("zset_remrange", r"""
ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
ZREMRANGEBYRANK z 0 0
ZRANGE z 0 -1
ZREMRANGEBYRANK z -1 -1
ZRANGE z 0 -1
ZREMRANGEBYRANK z 5 10
ZREMRANGEBYRANK z 2 1
ZREMRANGEBYRANK z a 1
ZREMRANGEBYRANK z 1 1.5
ZREMRANGEBYRANK z 0
ZREMRANGEBYRANK nokey 0 -1
ZREMRANGEBYRANK z -100 1
ZRANGE z 0 -1
ZREMRANGEBYRANK z 0 -1
EXISTS z
ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
ZREMRANGEBYSCORE z 2 3
ZRANGE z 0 -1
ZREMRANGEBYSCORE z (4 (6
ZRANGE z 0 -1
ZREMRANGEBYSCORE z 10 20
ZREMRANGEBYSCORE z 6 1
ZREMRANGEBYSCORE z x 1
ZREMRANGEBYSCORE z 1
ZREMRANGEBYSCORE nokey -inf inf
ZREMRANGEBYSCORE z -inf inf
EXISTS z
TYPE z
SET str v
ZREMRANGEBYRANK str 0 -1
ZREMRANGEBYSCORE str 0 1
""")

script("zset_pop_mpop", r"""
ZPOPMIN nokey
ZPOPMIN nokey 3
ZPOPMAX nokey
ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
ZPOPMIN z
ZPOPMAX z
ZPOPMIN z 2
ZPOPMAX z 1
ZPOPMIN z 0
ZPOPMAX z 0
ZPOPMIN z -1
ZPOPMAX z -1
ZPOPMIN z x
ZPOPMIN z 1.5
ZPOPMIN z 1 2
ZPOPMIN
ZRANGE z 0 -1 WITHSCORES
ZPOPMAX z 100
EXISTS z
ZADD z 1.5 x 0.1 y
ZPOPMIN z 9223372036854775807
EXISTS z
ZMPOP 1 nokey MIN
ZMPOP 2 nokey nokey2 MAX COUNT 5
ZADD a 1 x 2 y 3 z
ZADD b 10 p 20 q
ZMPOP 1 a MIN
ZMPOP 1 a MAX
ZMPOP 2 nokey b MAX COUNT 1
ZMPOP 2 b a MIN COUNT 10
EXISTS b
ZMPOP 2 a b min count 1
EXISTS a
ZADD c 1 m 2 n 3 o
ZMPOP 1 c max COUNT 2
ZMPOP 1 c MIN COUNT 1
ZMPOP 0 c MIN
ZMPOP -1 c MIN
ZMPOP x c MIN
ZMPOP 2 c MIN
ZMPOP 1 c
ZMPOP 1 c LEFT
ZMPOP 1 c MIN COUNT 0
ZMPOP 1 c MIN COUNT -1
ZMPOP 1 c MIN COUNT x
ZMPOP 1 c MIN COUNT
ZMPOP 1 c MIN COUNT 1 COUNT 2
ZMPOP 1 c MIN FOO
ZMPOP
ZMPOP 1
SET str v
ZPOPMIN str
ZPOPMAX str 2
ZMPOP 1 str MIN
ZMPOP 2 nokey str MAX
ZADD d 1 a
ZMPOP 2 d str MAX
ZMPOP 2 str d MAX
""")

script("zset_randmember_deterministic", r"""
ZRANDMEMBER nokey
ZRANDMEMBER nokey 3
ZRANDMEMBER nokey -3 WITHSCORES
ZRANDMEMBER nokey 0
ZADD one 1.5 x
ZRANDMEMBER one
ZRANDMEMBER one 1
ZRANDMEMBER one 10
ZRANDMEMBER one -1
ZRANDMEMBER one -4
ZRANDMEMBER one 1 WITHSCORES
ZRANDMEMBER one -3 WITHSCORES
ZRANDMEMBER one 0
ZRANDMEMBER one 0 WITHSCORES
ZRANDMEMBER one x
ZRANDMEMBER one 1.5
ZRANDMEMBER one 1 WITHSCORE
ZRANDMEMBER one 1 WITHSCORES x
ZRANDMEMBER one WITHSCORES
ZRANDMEMBER one -9223372036854775808
ZRANDMEMBER one -9223372036854775808 WITHSCORES
ZRANDMEMBER one 9223372036854775807
ZRANDMEMBER
ZADD z 1 a 2 b 3 c 0.1 d inf e
!sorted ZRANDMEMBER z 5
!sorted ZRANDMEMBER z 100
!pairs ZRANDMEMBER z 5 WITHSCORES
!pairs ZRANDMEMBER z 1000 WITHSCORES
ZCARD z
SET str v
ZRANDMEMBER str
ZRANDMEMBER str 2
""")

script("zset_algebra", r"""
ZADD a 1 x 2 y 3 z
ZADD b 10 y 20 z 30 w
SADD s y w v
ZUNION 2 a b
ZUNION 2 a b WITHSCORES
ZUNION 2 a b WEIGHTS 2 3 WITHSCORES
ZUNION 2 a b AGGREGATE MIN WITHSCORES
ZUNION 2 a b AGGREGATE MAX WITHSCORES
ZUNION 2 a b AGGREGATE sum WITHSCORES
ZUNION 2 a b WEIGHTS 1 -1 AGGREGATE MAX WITHSCORES
ZUNION 3 a b s WITHSCORES
ZUNION 2 a s WEIGHTS 1 0.5 WITHSCORES
ZUNION 2 a nokey WITHSCORES
ZUNION 1 nokey
ZINTER 2 a b
ZINTER 2 a b WITHSCORES
ZINTER 2 a b WEIGHTS 0.5 0.1 WITHSCORES
ZINTER 2 a b AGGREGATE MIN WITHSCORES
ZINTER 2 a b AGGREGATE MAX WITHSCORES
ZINTER 3 a b s WITHSCORES
ZINTER 2 a nokey
ZINTER 2 b s WITHSCORES
ZDIFF 2 a b
ZDIFF 2 a b WITHSCORES
ZDIFF 2 b a WITHSCORES
ZDIFF 1 a WITHSCORES
ZDIFF 2 b s WITHSCORES
ZDIFF 2 nokey a
ZDIFF 2 a nokey WITHSCORES
ZDIFF 2 a a
ZUNIONSTORE out 2 a b
ZRANGE out 0 -1 WITHSCORES
OBJECT ENCODING out
ZUNIONSTORE out 2 a b WEIGHTS 2 3 AGGREGATE MAX
ZRANGE out 0 -1 WITHSCORES
ZUNIONSTORE out 3 a b s
ZRANGE out 0 -1 WITHSCORES
ZUNIONSTORE out 1 s
ZRANGE out 0 -1 WITHSCORES
TYPE out
ZUNIONSTORE out 1 nokey
EXISTS out
ZINTERSTORE out 2 a b
ZRANGE out 0 -1 WITHSCORES
ZINTERSTORE out 2 a b AGGREGATE MIN
ZRANGE out 0 -1 WITHSCORES
ZINTERSTORE out 2 a s WEIGHTS 1 5
ZRANGE out 0 -1 WITHSCORES
ZINTERSTORE out 2 a nokey
EXISTS out
ZDIFFSTORE out 2 b a
ZRANGE out 0 -1 WITHSCORES
ZDIFFSTORE out 2 a a
EXISTS out
ZDIFFSTORE out 1 s
ZRANGE out 0 -1 WITHSCORES
ZUNIONSTORE a 2 a b
ZRANGE a 0 -1 WITHSCORES
ZINTERSTORE b 2 b a
ZRANGE b 0 -1 WITHSCORES
ZINTERCARD 2 a b
ZINTERCARD 2 a b LIMIT 1
ZINTERCARD 2 a b LIMIT 0
ZINTERCARD 2 a s
ZINTERCARD 1 s
ZINTERCARD 2 a nokey
ZINTERCARD 2 a b LIMIT -1
ZINTERCARD 2 a b LIMIT x
ZINTERCARD 2 a b FOO
ZINTERCARD 0 a
ZINTERCARD 3 a b
ZINTERCARD 1
ZINTERCARD
""")

script("zset_algebra_scores", r"""
ZADD a inf x -inf y 1 z 0.1 w
ZADD b -inf x inf y 2 z 0.2 w
ZUNION 2 a b WITHSCORES
ZINTER 2 a b WITHSCORES
ZUNION 2 a b AGGREGATE MIN WITHSCORES
ZUNION 2 a b AGGREGATE MAX WITHSCORES
ZUNION 1 a WEIGHTS 0 WITHSCORES
ZUNION 2 a b WEIGHTS 0 0 WITHSCORES
ZUNION 2 a b WEIGHTS -1 1 WITHSCORES
ZUNION 1 a WEIGHTS inf WITHSCORES
ZUNION 1 a WEIGHTS -inf WITHSCORES
ZUNION 1 a WEIGHTS 1e308 WITHSCORES
ZINTER 2 a b WEIGHTS 1e308 1e308 WITHSCORES
ZUNIONSTORE out 2 a b
ZRANGE out 0 -1 WITHSCORES
ZUNIONSTORE out 1 a WEIGHTS 0
ZRANGE out 0 -1 WITHSCORES
ZADD c 1 m
ZUNION 1 c WEIGHTS 0.1 WITHSCORES
ZUNION 1 c WEIGHTS 3 WITHSCORES
ZUNION 1 c WEIGHTS 1e20 WITHSCORES
ZUNION 1 c WEIGHTS -0 WITHSCORES
SADD s1 m n
ZUNION 2 c s1 WEIGHTS 0.1 0.2 WITHSCORES
""")

script("zset_algebra_errors", r"""
ZADD a 1 x
ZUNION 0 a
ZUNION -1 a
ZUNION x a
ZUNION 2 a
ZUNION 1 a b
ZUNION 1 a WEIGHTS
ZUNION 1 a WEIGHTS 1 2
ZUNION 1 a WEIGHTS x
ZUNION 1 a WEIGHTS nan
ZUNION 1 a WEIGHTS " 1"
ZUNION 1 a AGGREGATE
ZUNION 1 a AGGREGATE AVG
ZUNION 1 a AGGREGATE SUM AGGREGATE MAX WITHSCORES
ZUNION 1 a WEIGHTS 2 WEIGHTS 3 WITHSCORES
ZUNION 1 a FOO
ZUNION 1 a WITHSCORES WITHSCORES
ZUNION 1
ZUNION
ZINTER 0 a
ZINTER 1 a WEIGHTS
ZINTER 2 a
ZDIFF 0 a
ZDIFF 1 a WEIGHTS 1
ZDIFF 1 a AGGREGATE MAX
ZDIFF 2 a
ZDIFF 1
ZUNIONSTORE out 0 a
ZUNIONSTORE out -1 a
ZUNIONSTORE out 2 a
ZUNIONSTORE out 1 a WITHSCORES
ZUNIONSTORE out 1 a WEIGHTS 1 2
ZUNIONSTORE out 1
ZUNIONSTORE out
ZINTERSTORE out 0 a
ZINTERSTORE out 1 a WITHSCORES
ZINTERSTORE out 1 a AGGREGATE x
ZDIFFSTORE out 0 a
ZDIFFSTORE out 1 a WEIGHTS 1
ZDIFFSTORE out 1 a WITHSCORES
ZDIFFSTORE out 2 a
ZDIFFSTORE out
EXISTS out
SET str v
HSET h f v
RPUSH l a
ZUNION 2 a str
ZUNION 2 a h
ZUNION 2 a l
ZINTER 2 a str
ZINTER 2 nokey str
ZDIFF 2 a str
ZDIFF 2 str a
ZDIFF 2 nokey str
ZUNIONSTORE out 2 a str
ZINTERSTORE out 2 a l
ZDIFFSTORE out 2 a h
ZINTERCARD 2 a str
EXISTS out
ZUNIONSTORE str 1 a
TYPE str
ZRANGE str 0 -1 WITHSCORES
ZINTERSTORE h 1 nokey
EXISTS h
""")

BIGZ = 300
script("zset_big", lines(
    chunked("ZADD big", ("%d m%03d" % (i, i) for i in range(BIGZ)), 50),
    "ZCARD big",
    "OBJECT ENCODING big",
    "ZSCORE big m150",
    "ZRANK big m150",
    "ZREVRANK big m150",
    "ZRANGE big 0 4 WITHSCORES",
    "ZRANGE big -3 -1 WITHSCORES",
    "ZRANGE big 100 200 BYSCORE LIMIT 10 5 WITHSCORES",
    "ZRANGE big (250 +inf BYSCORE",
    "ZRANGE big 260 250 BYSCORE REV WITHSCORES",
    "ZRANGEBYSCORE big 10 20",
    "ZREVRANGEBYSCORE big 20 10 LIMIT 2 3",
    "ZCOUNT big 100 (200",
    "ZADD big 0.5 m000",
    "ZADD big XX CH 1000 m001 1000 nosuch",
    "ZINCRBY big 0.25 m002",
    "ZADD big INCR 1e3 m003",
    "ZRANGE big -5 -1 WITHSCORES",
    "ZRANGE big 0 4 WITHSCORES",
    "ZMSCORE big m000 m001 m002 m003 m299 nosuch",
    "!zscan big",
    "!zscan big COUNT 7",
    "!zscan big MATCH m1*",
    "!zscan big MATCH m2?5 COUNT 50",
    "!sorted ZRANDMEMBER big 500",
    "!pairs ZRANDMEMBER big 300 WITHSCORES",
    "ZREMRANGEBYRANK big 0 9",
    "ZREMRANGEBYSCORE big 100 149",
    "ZCARD big",
    "ZRANGE big 80 95",
    "ZPOPMIN big 3",
    "ZPOPMAX big 3",
    "ZMPOP 1 big MIN COUNT 2",
    "ZCARD big",
    "OBJECT ENCODING big",
    "ZRANGE big 0 -1 WITHSCORES",
    # same-score members in lex order, big enough for the skiplist
    chunked("ZADD lexbig", ("0 k%03d" % i for i in range(BIGZ)), 75),
    "OBJECT ENCODING lexbig",
    "ZLEXCOUNT lexbig [k100 (k200",
    "ZRANGE lexbig [k295 + BYLEX",
    "ZRANGE lexbig (k010 - BYLEX REV LIMIT 0 3",
    "ZRANGEBYLEX lexbig - + LIMIT 150 4",
    "ZREVRANGEBYLEX lexbig + - LIMIT 150 4",
    "ZREMRANGEBYLEX lexbig - (k290",
    "ZRANGE lexbig 0 -1",
    "OBJECT ENCODING lexbig",
    # set operations with big inputs; result encodings follow the result size
    "ZUNIONSTORE u 2 big lexbig",
    "ZCARD u",
    "OBJECT ENCODING u",
    "ZRANGE u 0 20 WITHSCORES",
    "ZINTERSTORE i 2 big big WEIGHTS 1 2",
    "ZCARD i",
    "OBJECT ENCODING i",
    "ZRANGE i 0 5 WITHSCORES",
    "ZRANGESTORE r big 0 9",
    "OBJECT ENCODING r",
    "ZRANGESTORE r2 big 0 200",
    "OBJECT ENCODING r2",
    "ZDIFFSTORE d 2 big r2",
    "OBJECT ENCODING d",
    "ZRANGE d 0 -1 WITHSCORES",
    "ZINTERCARD 2 big r2",
    "ZINTERCARD 2 big r2 LIMIT 50",
    "ZREMRANGEBYRANK big 0 -1",
    "EXISTS big",
))

script("zset_encoding_thresholds", lines(
    "ZADD z 1 a 2 b",
    "OBJECT ENCODING z",
    "ZADD z 3 " + LONG64,
    "OBJECT ENCODING z",
    "ZADD z 4 " + LONG65,
    "OBJECT ENCODING z",
    "ZSCORE z " + LONG65,
    "ZRANGE z 0 -1 WITHSCORES",
    "ZREM z " + LONG65 + " " + LONG64,
    "OBJECT ENCODING z",
    "ZRANGE z 0 -1 WITHSCORES",
    # exactly 128 entries stay listpack, the 129th converts
    chunked("ZADD n", ("%d e%d" % (i, i) for i in range(128)), 64),
    "OBJECT ENCODING n",
    "ZADD n 5 e0",
    "ZADD n NX 5 e1",
    "OBJECT ENCODING n",
    "ZINCRBY n 1 e128",
    "OBJECT ENCODING n",
    "ZRANGE n 0 3 WITHSCORES",
    "ZREM n e128 e127 e126",
    "OBJECT ENCODING n",
    "ZCARD n",
    "ZADD m INCR 1 " + LONG65,
    "OBJECT ENCODING m",
    # ZADD with 129 pairs at once on a new key
    "ZADD w " + " ".join("%d x%d" % (i, i) for i in range(129)),
    "OBJECT ENCODING w",
    "ZADD w2 " + " ".join("%d x%d" % (i, i) for i in range(128)),
    "OBJECT ENCODING w2",
    "ZUNIONSTORE w3 2 w w2",
    "OBJECT ENCODING w3",
    "ZINTERSTORE w4 2 w w2",
    "OBJECT ENCODING w4",
    "ZCARD w4",
    "ZUNIONSTORE w5 1 z",
    "OBJECT ENCODING w5",
    "ZADD w6 1 " + LONG65,
    "ZUNIONSTORE w7 1 w6",
    "OBJECT ENCODING w7",
))

script("zset_scan", r"""
!zscan nokey
ZSCAN nokey 0
ZADD z 1 a 2 b 1.5 c 0.1 d inf e -inf f -0 g 3 abc 1e-7 h
!zscan z
!zscan z COUNT 1
!zscan z MATCH a*
!zscan z MATCH [a-c]
!zscan z MATCH nomatch
ZSCAN z x
ZSCAN z 0 COUNT 0
ZSCAN z 0 COUNT
ZSCAN z 0 MATCH
ZSCAN z 0 TYPE zset
SET str v
ZSCAN str 0
""")

script("zset_encoding_dependent_score_format", lines(
    # a listpack keeps an integral score as an integer: ZSCAN of a listpack
    # replies "100000000000000000" where ZSCORE replies "1e+17", and a listpack
    # cannot hold -0 (it becomes 0); a skiplist keeps the double, so its ZSCAN
    # formats like ZSCORE and -0 stays -0
    "ZADD z 1e17 a 1e15 b 123456789012 c -1e16 d 9007199254740993 e 2.5 f -0 g 0.1 h",
    "OBJECT ENCODING z",
    "!zscan z",
    "ZSCORE z a",
    "ZSCORE z d",
    "ZSCORE z g",
    "ZRANGE z 0 -1 WITHSCORES",
    "ZADD s 1 " + LONG65,
    "ZADD s 1e17 a 1e15 b -0 g 0.1 h",
    "OBJECT ENCODING s",
    "!zscan s",
    "ZSCORE s a",
    "ZSCORE s g",
    "ZRANGE s 0 -1 WITHSCORES",
    "ZINCRBY s 0 g",
    "ZINCRBY s -1 " + LONG65,
    "ZINCRBY s 1 newzero",
    "ZINCRBY s -1 newzero",
    "ZSCORE s newzero",
    # converting keeps what the listpack held
    "ZADD z 1 " + LONG65,
    "OBJECT ENCODING z",
    "ZSCORE z g",
    "!zscan z",
))

script("zset_quirks", r"""
ZADD z 1 a 2 b 3 c
ZRANGE z 0 1 LIMIT 0 -1
ZRANGE z 0 1 LIMIT 0 -2
ZINCRBY z nx a
ZINCRBY z incr a
ZINCRBY z CH a
ZPOPMIN z x
ZPOPMIN z -1
ZPOPMAX z 1.5
ZMPOP x z MIN
ZMPOP 0 z MIN
ZMPOP 9223372036854775807 z MIN
ZMPOP 1 z MIN COUNT x
ZINTERCARD 1 z LIMIT x
ZINTERCARD 1 z LIMIT -1
ZINTERCARD 1 z LIMIT 2 LIMIT 1
ZUNION 9223372036854775807 z
ZUNION 1 z WEIGHTS 1 WITHSCORES AGGREGATE MIN
ZRANGEBYSCORE z " 1" "3 "
ZRANGEBYSCORE z " 1" 3
ZRANGEBYSCORE z "" 3 WITHSCORES
ZRANGEBYSCORE z (0x1 0x3
ZRANGEBYSCORE z -1e400 1e400
ZRANGEBYSCORE z -nan 1
ZRANGEBYLEX z "+" "-"
ZRANGEBYLEX z "[" "+"
ZRANGEBYLEX z "(" "+"
ZRANGEBYLEX z "+x" "-"
ZRANGE z (1 3 BYSCORE LIMIT 1 1 WITHSCORES
ZRANGE z 3 (1 BYSCORE REV LIMIT 0 1 WITHSCORES
ZRANGE z 0 -1 WITHSCORES LIMIT 1 1
ZRANGESTORE d z 0 -1 REV
ZRANGE d 0 -1 WITHSCORES
ZADD k 5e18 a 4611686018427387904 b 4611686018427387903 c 1e19 d -5e18 e 123.0 f
!zscan k
ZRANGE k 0 -1 WITHSCORES
ZADD g 1 x
ZADD g GT 1 x
ZADD g LT 1 x
ZADD g GT CH 0 x
ZADD g XX CH 1 nosuch
ZADD g NX XX 1 x
ZADD g INCR GT 0 x
ZADD g INCR LT 0 x
ZADD g INCR XX 0 x
ZADD nosuch XX 1 x
ZADD nosuch XX INCR 1 x
EXISTS nosuch
ZADD g inf x
ZINCRBY g -inf x
ZSCORE g x
ZINCRBY g inf x
ZADD g INCR -inf x
""")

script("zset_watch_touch", r"""
ZADD z 1 a 2 b
WATCH z
ZADD z 1 a
ZADD z NX 5 a
ZADD z XX 1 nosuch
ZINCRBY z 0 a
ZREM z nosuch
ZREMRANGEBYSCORE z 10 20
ZREMRANGEBYRANK z 5 9
ZRANGESTORE z nokey 0 -1
ZPOPMIN z 0
MULTI
PING
EXEC
WATCH z
ZADD z 2 a
MULTI
PING
EXEC
WATCH z
ZINCRBY z 1 b
MULTI
PING
EXEC
WATCH nokey
ZUNIONSTORE nokey 1 nokey2
ZINTERSTORE nokey 1 z nokey2
MULTI
PING
EXEC
""")

BIGQ = 200
script("zset_big_writes", lines(
    chunked("ZADD b", ("%d x%03d" % (i % 17, i) for i in range(BIGQ)), 50),
    "OBJECT ENCODING b",
    "ZADD b GT CH 100 x000 0 x001 5 x002",
    "ZADD b LT CH 100 x003 -1 x004",
    "ZADD b XX CH 3 x005 3 nosuch",
    "ZADD b NX 9 x006 9 newone",
    "ZADD b INCR 0.5 x007",
    "ZADD b -0 negz",
    "ZINCRBY b 0 negz",
    "ZSCORE b negz",
    "ZRANK b negz",
    "ZREVRANK b x000",
    "ZRANGE b 0 9 WITHSCORES",
    "ZRANGE b -10 -1 WITHSCORES",
    "ZRANGE b 5 7 BYSCORE LIMIT 3 4 WITHSCORES",
    "ZRANGE b (7 5 BYSCORE REV LIMIT 2 30 WITHSCORES",
    "ZRANGEBYSCORE b -inf +inf LIMIT 150 100",
    "ZREVRANGEBYSCORE b +inf -inf LIMIT 190 100",
    "ZCOUNT b 3 (9",
    "ZREM b x010 x011 x012 nosuch",
    "ZREMRANGEBYSCORE b (15 +inf",
    "ZREMRANGEBYRANK b 50 60",
    "ZCARD b",
    "ZPOPMAX b 5",
    "ZPOPMIN b 5",
    "ZRANGESTORE bs b 10 150",
    "OBJECT ENCODING bs",
    "ZRANGE bs 0 -1 WITHSCORES",
    "ZRANGESTORE bs2 b 3 (5 BYSCORE",
    "OBJECT ENCODING bs2",
    "ZRANGESTORE b b 0 9",
    "OBJECT ENCODING b",
    "ZRANGE b 0 -1 WITHSCORES",
    "!sorted ZRANDMEMBER bs 1000",
    "ZUNIONSTORE u 2 bs bs2 AGGREGATE MAX",
    "ZRANGE u 0 -1 WITHSCORES",
    "ZINTER 2 bs bs2 WITHSCORES",
    "ZDIFF 2 bs bs2 WITHSCORES",
    "ZINTERCARD 2 bs bs2",
))

# ======================================================================= types

COLLECTION_SETUP = r"""
HSET h f 1
RPUSH l 1
SADD s 1
ZADD z 1 m
"""

STRING_CMDS_ON = r"""
GET {k}
APPEND {k} x
INCR {k}
DECR {k}
INCRBY {k} 1
DECRBY {k} 1
INCRBYFLOAT {k} 1
SETRANGE {k} 0 x
SETRANGE {k} 0 ""
GETRANGE {k} 0 -1
SUBSTR {k} 0 -1
STRLEN {k}
GETSET {k} x
GETDEL {k}
GETEX {k}
GETEX {k} PERSIST
SET {k} x GET
SET {k} x NX GET
SET {k} x NX
SETNX {k} x
MSETNX {k} x other y
EXISTS other
MGET {k} nokey
LCS {k} {k}
LCS {k} nokey
TYPE {k}
"""

script("types_string_commands_on_collections", lines(
    COLLECTION_SETUP,
    *[STRING_CMDS_ON.format(k=k) for k in ("h", "l", "s", "z")],
    "TYPE h", "TYPE l", "TYPE s", "TYPE z",
    "!pairs HGETALL h", "LRANGE l 0 -1", "SMEMBERS s", "ZRANGE z 0 -1 WITHSCORES",
    # plain SET and MSET overwrite any type
    "SET h plain", "TYPE h", "GET h", "HGET h f",
    "MSET l m1 s m2", "TYPE l", "TYPE s", "GET s",
    "SET z v EX 1000", "TYPE z", "!approx 1 TTL z",
    "SETEX h 100 v", "TYPE h",
))

CROSS = {
    "h": ["HGET {k} f", "HSET {k} f v", "HLEN {k}", "HDEL {k} f", "HINCRBY {k} f 1", "HGETALL {k}", "HSCAN {k} 0",
          "HRANDFIELD {k}", "HMGET {k} f", "HEXISTS {k} f", "HSTRLEN {k} f", "HKEYS {k}", "HVALS {k}"],
    "l": ["LPUSH {k} a", "RPUSH {k} a", "LPUSHX {k} a", "RPUSHX {k} a", "LPOP {k}", "RPOP {k} 2", "LLEN {k}",
          "LRANGE {k} 0 -1", "LINDEX {k} 0", "LSET {k} 0 a", "LINSERT {k} BEFORE a b", "LREM {k} 0 a",
          "LTRIM {k} 0 1", "LPOS {k} a", "LMOVE {k} {k} LEFT LEFT", "RPOPLPUSH {k} {k}", "LMPOP 1 {k} LEFT"],
    "s": ["SADD {k} a", "SREM {k} a", "SMEMBERS {k}", "SISMEMBER {k} a", "SMISMEMBER {k} a", "SCARD {k}",
          "SPOP {k}", "SRANDMEMBER {k}", "SMOVE {k} {k} a", "SINTER {k}", "SINTERCARD 1 {k}", "SUNION {k}",
          "SDIFF {k}", "SINTERSTORE dst {k}", "SUNIONSTORE dst {k}", "SDIFFSTORE dst {k}", "SSCAN {k} 0"],
    "z": ["ZADD {k} 1 a", "ZINCRBY {k} 1 a", "ZREM {k} a", "ZCARD {k}", "ZSCORE {k} a", "ZMSCORE {k} a",
          "ZRANK {k} a", "ZREVRANK {k} a", "ZCOUNT {k} 0 1", "ZLEXCOUNT {k} - +", "ZRANGE {k} 0 -1",
          "ZRANGESTORE dst {k} 0 -1", "ZRANGEBYSCORE {k} 0 1", "ZREVRANGEBYSCORE {k} 1 0",
          "ZRANGEBYLEX {k} - +", "ZREVRANGEBYLEX {k} + -", "ZREVRANGE {k} 0 -1", "ZREMRANGEBYRANK {k} 0 0",
          "ZREMRANGEBYSCORE {k} 0 1", "ZREMRANGEBYLEX {k} - +", "ZPOPMIN {k}", "ZPOPMAX {k}",
          "ZMPOP 1 {k} MIN", "ZRANDMEMBER {k}", "ZUNION 1 {k}", "ZINTER 1 {k}", "ZDIFF 1 {k}",
          "ZUNIONSTORE dst 1 {k}", "ZINTERSTORE dst 1 {k}", "ZDIFFSTORE dst 1 {k}", "ZINTERCARD 1 {k}",
          "ZSCAN {k} 0"],
}
script("types_collection_commands_on_other_types", lines(
    "SET str v",
    COLLECTION_SETUP,
    *[[c.format(k=k) for c in cmds] for t, cmds in sorted(CROSS.items())
      for k in ("str", "h", "l", "s", "z") if k != t],
    "EXISTS dst",
    "GET str", "!pairs HGETALL h", "LRANGE l 0 -1", "SMEMBERS s", "ZRANGE z 0 -1 WITHSCORES",
))

script("types_type_exists_del", r"""
HSET h f v
RPUSH l a
SADD s a
SADD si 1
ZADD z 1 a
SET str v
TYPE h
TYPE l
TYPE s
TYPE si
TYPE z
TYPE str
TYPE nokey
OBJECT ENCODING h
OBJECT ENCODING l
OBJECT ENCODING s
OBJECT ENCODING si
OBJECT ENCODING z
OBJECT ENCODING nokey
EXISTS h l s si z str nokey
EXISTS h h
DBSIZE
!sorted KEYS *
!scan
!scan TYPE hash
!scan TYPE list
!scan TYPE set
!scan TYPE zset
!scan TYPE string
!scan TYPE stream
!scan TYPE HASH
!scan MATCH s* TYPE set
TOUCH h l s z nokey
DEL h l nokey
EXISTS h l
UNLINK s si z
EXISTS s si z
DBSIZE
!sorted KEYS *
""")

script("types_rename_copy_move", r"""
HSET h f v g w
RPUSH l a b c
SADD s a b 1
ZADD z 1 a 2 b
RENAME h h2
EXISTS h
TYPE h2
!pairs HGETALL h2
RENAME l s
TYPE s
LRANGE s 0 -1
EXISTS l
RENAMENX s z
RENAMENX s l
TYPE l
RENAME z z
ZRANGE z 0 -1 WITHSCORES
RENAME nokey x
COPY h2 h3
!pairs HGETALL h3
HSET h3 f changed
HGET h2 f
HGET h3 f
COPY h2 h3
COPY h2 h3 REPLACE
HGET h3 f
COPY l l2
LPUSH l2 new
LRANGE l 0 -1
LRANGE l2 0 -1
COPY z zc
ZINCRBY zc 10 a
ZRANGE z 0 -1 WITHSCORES
ZRANGE zc 0 -1 WITHSCORES
SADD set 1 2 3
COPY set setc
OBJECT ENCODING setc
SADD setc x
OBJECT ENCODING set
OBJECT ENCODING setc
!sorted SMEMBERS set
!sorted SMEMBERS setc
SET str v
COPY h2 str
COPY h2 str REPLACE
TYPE str
COPY str h2 REPLACE
COPY h2 h2
COPY z zdb DB 1
MOVE l2 1
EXISTS l2
SELECT 1
TYPE zdb
ZRANGE zdb 0 -1 WITHSCORES
TYPE l2
LRANGE l2 0 -1
RPUSH l2 other
SELECT 0
RPUSH l2 again
MOVE l2 1
LRANGE l2 0 -1
SELECT 1
LRANGE l2 0 -1
FLUSHDB
SELECT 0
RENAME setc str
TYPE str
!sorted SMEMBERS str
OBJECT ENCODING str
""")

script("types_move_persist_big", lines(
    chunked("HSET bh", ("f%d %d" % (i, i) for i in range(600)), 100),
    chunked("SADD bs", (str(i) for i in range(600)), 100),
    chunked("SADD bss", ("m%d" % i for i in range(600)), 100),
    chunked("ZADD bz", ("%d m%d" % (i, i) for i in range(200)), 100),
    chunked("RPUSH bl", ("e%d" % i for i in range(400)), 100),
    "HSET sh f v",
    "SADD ss 1 2",
    "ZADD sz 1 a",
    "RPUSH sl a",
    "OBJECT ENCODING bh", "OBJECT ENCODING bs", "OBJECT ENCODING bss", "OBJECT ENCODING bz",
    "OBJECT ENCODING bl",
    # copies and renames keep the encoding
    "COPY bh bh2", "OBJECT ENCODING bh2", "HLEN bh2", "HGET bh2 f599",
    "COPY bs bs2", "OBJECT ENCODING bs2", "SCARD bs2", "SISMEMBER bs2 599",
    "COPY bss bss2", "OBJECT ENCODING bss2", "SCARD bss2",
    "COPY bz bz2", "OBJECT ENCODING bz2", "ZRANGE bz2 -3 -1 WITHSCORES",
    "COPY bl bl2", "LINDEX bl2 399",
    "HDEL bh2 f0", "HLEN bh", "HLEN bh2",
    "SREM bs2 0", "SCARD bs", "SCARD bs2",
    "ZREM bz2 m0", "ZCARD bz", "ZCARD bz2",
    "LPOP bl2", "LLEN bl", "LLEN bl2",
    "RENAME bz bz3", "OBJECT ENCODING bz3", "ZSCORE bz3 m150", "EXISTS bz",
    "RENAME sz bz3", "OBJECT ENCODING bz3", "ZRANGE bz3 0 -1 WITHSCORES",
    "COPY sh bh2 REPLACE", "OBJECT ENCODING bh2", "HLEN bh2",
    # MOVE each type to db 1 and back
    "MOVE bh 1", "MOVE bs 1", "MOVE bz3 1", "MOVE sl 1", "MOVE ss 1", "MOVE nokey 1",
    "EXISTS bh bs sl ss",
    "SELECT 1",
    "TYPE bh", "HLEN bh", "OBJECT ENCODING bh",
    "TYPE bs", "SCARD bs", "OBJECT ENCODING bs",
    "TYPE sl", "LRANGE sl 0 -1",
    "TYPE bz3", "ZRANGE bz3 0 -1 WITHSCORES",
    "TYPE ss", "OBJECT ENCODING ss",
    "SADD ss 3",
    "MOVE ss 0",
    "MOVE bs 0",
    "EXISTS bs",
    "SELECT 0",
    "!sorted SMEMBERS ss",
    "SCARD bs",
    # TTL / PERSIST / DEL on each type, small and big
    "EXPIREAT bh2 {NOW+5000}", "EXPIREAT bss {NOW+5000}", "EXPIREAT bz2 {NOW+5000}", "EXPIREAT bl {NOW+5000}",
    "EXPIREAT sh {NOW+5000}",
    "EXPIRETIME bh2", "EXPIRETIME bss", "EXPIRETIME bz2", "EXPIRETIME bl", "EXPIRETIME sh",
    "PERSIST bh2", "PERSIST bss", "PERSIST bz2", "PERSIST bl", "PERSIST sh", "PERSIST sh",
    "TTL bh2", "TTL bss", "TTL bz2", "TTL bl", "TTL sh",
    "EXPIRE bl 100", "!approx 1 TTL bl", "!approx 1000 PTTL bl",
    "PEXPIRE bss 0", "EXISTS bss",
    "DEL bh2 bs bs2 bss2 bz2 bz3 bl bl2 sh ss nokey",
    "DBSIZE",
    "!sorted KEYS *",
))

script("types_expire", r"""
HSET h f v
RPUSH l a
SADD s a
ZADD z 1 a
EXPIRE h 1000
!approx 1 TTL h
PEXPIRE l 1000000
!approx 100 PTTL l
EXPIREAT s {NOW+5000}
EXPIRETIME s
PEXPIREAT z {NOWMS+6000123}
PEXPIRETIME z
EXPIRETIME z
TTL nokey
HSET h g w
!approx 1 TTL h
HDEL h g
!approx 1 TTL h
RPUSH l b
LPOP l
!approx 100 PTTL l
SADD s b
SREM s b
EXPIRETIME s
ZINCRBY z 1 a
PEXPIRETIME z
PERSIST h
TTL h
PERSIST h
EXPIREAT l {NOW+5000} NX
EXPIREAT l {NOW+9000} XX
EXPIRETIME l
EXPIREAT l {NOW+8000} GT
EXPIREAT l {NOW+8000} LT
EXPIRETIME l
RENAME l l2
EXPIRETIME l2
COPY l2 l3
EXPIRETIME l3
LPOP l2
EXISTS l2
RPUSH l2 fresh
TTL l2
HDEL h f
EXISTS h
HSET h f v
TTL h
EXPIRE z 0
EXISTS z
PEXPIREAT s 1
EXISTS s
SMEMBERS s
RPUSH short a b
HSET shorth f v
SADD shorts a
ZADD shortz 1 a
PEXPIRE short 50
PEXPIRE shorth 50
PEXPIRE shorts 50
PEXPIRE shortz 50
!sleep 200
LLEN short
HLEN shorth
SCARD shorts
ZCARD shortz
EXISTS short shorth shorts shortz
RPUSH short c
LRANGE short 0 -1
TTL short
""")

script("types_reuse_key_name", r"""
HSET k f v
TYPE k
RPUSH k x
DEL k
RPUSH k x y
TYPE k
LRANGE k 0 -1
SADD k a
LPOP k 2
TYPE k
EXISTS k
SADD k a 1
TYPE k
OBJECT ENCODING k
ZADD k 1 a
!sorted SPOP k 5
EXISTS k
SADD k 5
SREM k 5
ZADD k 1 a
TYPE k
HSET k f v
ZPOPMIN k
HSET k f v
TYPE k
HSET k f2 v2
HDEL k f f2
SET k str
TYPE k
APPEND k more
GET k
RPUSH k a
DEL k
ZADD k 2 b
ZRANGE k 0 -1 WITHSCORES
SET k s
ZADD k 1 a
TYPE k
LMOVE k k LEFT LEFT
DEL k
LMOVE src k LEFT LEFT
EXISTS k
RPUSH src e
LMOVE src k LEFT LEFT
TYPE k
EXISTS src
SMOVE nokey k e
SADD ss e
SMOVE ss k e
SISMEMBER ss e
EXISTS ss
""")

script("types_watch_multi", r"""
HSET h f v
WATCH h
HSET h f v
MULTI
HGET h f
EXEC
WATCH h
HSETNX h f other
MULTI
HGET h f
EXEC
WATCH h
HDEL h nosuch
MULTI
HGET h f
EXEC
WATCH h
HDEL h f
MULTI
EXISTS h
EXEC
RPUSH l a b
WATCH l
LPUSHX nokey a
RPUSH l c
MULTI
LLEN l
EXEC
WATCH l
LREM l 0 nosuch
MULTI
LLEN l
EXEC
WATCH l
LPOP l
MULTI
LLEN l
EXEC
WATCH l
LMOVE l l LEFT RIGHT
MULTI
LRANGE l 0 -1
EXEC
SADD s a
WATCH s
SADD s a
SREM s nosuch
SMOVE nokey s a
MULTI
SCARD s
EXEC
WATCH s
SADD s b
MULTI
SCARD s
EXEC
WATCH s
SINTERSTORE s s
MULTI
SCARD s
EXEC
ZADD z 1 a
WATCH z
ZADD z 1 a
MULTI
ZCARD z
EXEC
WATCH z
ZADD z XX 2 nosuch
ZREM z nosuch
ZREMRANGEBYSCORE z 100 200
MULTI
ZCARD z
EXEC
WATCH z
ZADD z 2 a
MULTI
ZSCORE z a
EXEC
WATCH z
ZINCRBY z 0 a
MULTI
ZSCORE z a
EXEC
WATCH nokey2
SUNIONSTORE nokey2 nokey3
MULTI
EXISTS nokey2
EXEC
WATCH h l s z
EXPIRE s 1000
MULTI
PING
EXEC
MULTI
HSET h a 1
RPUSH l x
SADD s x
ZADD z 5 x
HGET h a
LRANGE l 0 -1
SISMEMBER s x
ZRANGE z 0 -1 WITHSCORES
EXEC
MULTI
HSET h a 1
LPUSH h x
ZADD z nan x
ZINCRBY z 1 x
INCR h
EXEC
MULTI
HSET h a
ZADD z 1 y
EXEC
ZSCORE z y
MULTI
LPOS l x RANK 0
LMPOP 0 l LEFT
ZRANGE z 0 -1 LIMIT 0 1
EXEC
""")

# a few longer mixed scenarios

script("mixed_inventory", r"""
HSET item:1 name apple price 10 stock 5
HSET item:2 name pear price 7 stock 0
HINCRBY item:1 stock -2
HINCRBYFLOAT item:2 price 0.5
ZADD byprice 10 item:1 7.5 item:2
SADD instock item:1
RPUSH log "buy item:1" "restock item:2"
SADD instock item:2
HINCRBY item:2 stock 3
ZRANGE byprice 0 -1 WITHSCORES
ZRANGEBYSCORE byprice 8 +inf
!sorted SMEMBERS instock
LRANGE log 0 -1
HMGET item:2 name price stock
ZINCRBY byprice -3 item:1
ZRANGE byprice 0 -1 WITHSCORES
ZREVRANK byprice item:1
SREM instock item:1
HDEL item:1 stock
!pairs HGETALL item:1
LPUSH log "sell item:1"
LTRIM log 0 1
LRANGE log 0 -1
!scan MATCH item:*
!scan TYPE zset
ZUNIONSTORE tmp 2 byprice instock WEIGHTS 1 100
ZRANGE tmp 0 -1 WITHSCORES
DEL item:1 item:2 byprice instock log tmp
DBSIZE
""")

script("mixed_queue_and_leaderboard", lines(
    chunked("RPUSH q", ("job%d" % i for i in range(200)), 50),
    "LMPOP 1 q LEFT COUNT 5",
    "RPOPLPUSH q processing",
    "LMOVE q processing LEFT LEFT",
    "LRANGE processing 0 -1",
    "LLEN q",
    "LREM processing 1 job199",
    "LRANGE processing 0 -1",
    chunked("ZADD board", ("%d p%d" % ((i * 37) % 101, i) for i in range(150)), 50),
    "ZCARD board",
    "OBJECT ENCODING board",
    "ZREVRANGE board 0 9 WITHSCORES",
    "ZRANGE board 0 9 WITHSCORES",
    "ZRANK board p77",
    "ZREVRANK board p77",
    "ZCOUNT board 50 60",
    "ZRANGE board 50 60 BYSCORE LIMIT 0 5",
    "ZADD board GT 1000 p77 1 p78",
    "ZREVRANGE board 0 2 WITHSCORES",
    "ZPOPMAX board 2",
    "ZMPOP 1 board MAX COUNT 2",
    "ZCARD board",
))
