"""Differential scripts for SORT and SORT_RO (syntax: see the docstring of
test_diff.py), run by test_diff_sort.py. Each script starts after FLUSHALL on
both servers. Every reply is compared byte for byte, except where a set's own
order shows (SORT ... BY nosort of a set of strings, without STORE), which is
compared sorted: Redis walks its hash table there.

Redis 7.0 reads numeric sort keys with strtod and never clears errno first,
so after a key out of range (1e400), every numeric SORT fails until some
other command clears errno: the scripts send such a command (ZADD ... XX,
which parses its score with errno cleared) after each, as the random stream
does. Kasi judges each SORT on its own keys.

Not compared: ties under ALPHA with a BY pattern and a LIMIT, where Redis's
partial quicksort leaves equal keys in an order of its own (Kasi keeps them in
the elements' order, as Redis does without LIMIT).
"""

SCRIPTS = {}


def script(name, text):
    assert name not in SCRIPTS, name
    SCRIPTS[name] = text


script("sort_numeric_list", r"""
RPUSH l 3 1 2 10 -5 2.5 0 1e2 -0 +4 0x10 " 7"
SORT l
SORT l DESC
SORT l ASC
SORT l LIMIT 0 3
SORT l LIMIT 2 4
SORT l LIMIT 2 4 DESC
SORT l LIMIT 10 100
SORT l LIMIT 12 1
SORT l LIMIT 100 1
SORT l LIMIT -5 3
SORT l LIMIT 0 0
SORT l LIMIT 0 -1
SORT l LIMIT 0 -7
SORT l LIMIT 3 -1
SORT l LIMIT 1 9223372036854775807
SORT l LIMIT x 1
SORT l LIMIT 1 y
SORT l LIMIT 1
SORT l LIMIT 1.5 2
SORT_RO l
SORT_RO l DESC LIMIT 1 2
SORT l desc asc
SORT l asc desc
""")

script("sort_numeric_errors", r"""
RPUSH l 1 a 2
SORT l
SORT l DESC
SORT l LIMIT 0 1
SORT l ALPHA
RPUSH m 1 inf -inf 3
SORT m
SORT m DESC
RPUSH n 1 nan
SORT n
RPUSH o 1 1e400
SORT o
ZADD nokey XX 0 m
RPUSH p 1 1e-400
SORT p
ZADD nokey XX 0 m
RPUSH q 1 "5 "
SORT q
RPUSH r 1 ""
SORT r
@py ["RPUSH", "s", "3", b"2\x00zz", "1"]
SORT s
RPUSH t 1 infinity -Infinity 0X1P3
SORT t
SORT l STORE dst
EXISTS dst
SET dst keep
SORT l STORE dst
GET dst
""")

script("sort_ties_numeric", r"""
RPUSH l b a c 1 1.0 01 1e0 +1 a1 10 2 02
SORT l ALPHA
RPUSH k 1 1.0 01 1e0 +1 3 03 3.0 -0 0 0.0
SORT k
SORT k DESC
SORT k LIMIT 1 4
SORT k DESC LIMIT 2 5
""")

script("sort_alpha", r"""
RPUSH l banana apple Cherry date 10 9 "" a aa ab b
SORT l ALPHA
SORT l ALPHA DESC
SORT l ALPHA LIMIT 2 3
SORT l ALPHA DESC LIMIT 0 4
SORT l alpha desc limit 1 1
SORT_RO l ALPHA
SORT l ALPHA STORE out
LRANGE out 0 -1
TYPE out
""")

script("sort_alpha_nul", r"""
@py ["RPUSH", "l", b"a\x00c", b"a\x00b", b"a", b"b\x00", b"\x00z", b"\x00a"]
SORT l ALPHA
SORT l ALPHA DESC
SORT l ALPHA STORE s
LRANGE s 0 -1
SORT l ALPHA DESC STORE s
LRANGE s 0 -1
@py ["RPUSH", "u", b"\xc3\xa9", b"e", b"f", b"\xff", b"\x80", b"E", b"\xe2\x82\xac", b"z", b"\x7f"]
SORT u ALPHA
SORT u ALPHA DESC
""")

script("sort_sets_and_zsets", r"""
SADD ints 5 3 9 1 100 -2 7
SORT ints
SORT ints DESC LIMIT 1 3
SORT ints BY nosort
SORT ints BY nosort LIMIT 1 2
SORT ints BY nosort DESC
SORT ints BY nosort STORE out
LRANGE out 0 -1
SORT ints BY nosort DESC STORE out
LRANGE out 0 -1
SORT ints ALPHA
SADD words pear fig apple kiwi
SORT words ALPHA
SORT words ALPHA DESC LIMIT 0 2
SORT words
!sorted SORT words BY nosort
SORT words BY nosort STORE out
LRANGE out 0 -1
SORT words BY nosort DESC STORE out
LRANGE out 0 -1
SORT words BY nosort LIMIT 1 2 STORE out
LRANGE out 0 -1
ZADD z 3 c 1 a 2 b 5 e 4 d 0 10
SORT z ALPHA
SORT z BY nosort
SORT z BY nosort DESC
SORT z BY nosort LIMIT 1 2
SORT z BY nosort DESC LIMIT 1 3
SORT z BY nosort LIMIT 5 10
SORT z BY nosort LIMIT 6 10
SORT z BY nosort DESC LIMIT 0 0
SORT z BY nosort STORE out
LRANGE out 0 -1
SORT z
ZADD zn 1 30 2 10 3 20
SORT zn
SORT zn BY nosort
SORT zn BY nosort DESC GET #
""")

script("sort_by_patterns", r"""
RPUSH l 1 2 3 4 5
MSET w_1 50 w_2 10 w_3 40 w_4 x w_5 20
SORT l BY w_*
SET w_4 30
SORT l BY w_*
SORT l BY w_* DESC
SORT l BY w_* LIMIT 1 2
SORT l BY w_* DESC LIMIT 0 3
SORT l BY w_* ALPHA
DEL w_3
SORT l BY w_*
SORT l BY w_* DESC
SORT l BY w_* ALPHA
SORT l BY w_* ALPHA DESC
SORT l BY w_*_suffix
MSET w_1_suffix 3 w_2_suffix 1
SORT l BY w_*_suffix
SORT l BY *
SORT l BY **
SORT l BY nosort
SORT l BY nosort DESC
SORT l BY nosort LIMIT 1 2
SORT l BY nosort DESC LIMIT 1 2
SORT l BY w_* BY nosort
SORT l BY nosort BY w_*
SORT l BY w_* BY w_*_suffix
SORT_RO l BY w_*
RPUSH wl 9
SET w_2 notanumber
SORT l BY w_*
SORT l BY w_* ALPHA
SET w_2 1e400
SORT l BY w_*
SET w_2 5
LPUSH w_5 listnow
SORT l BY w_*
""")

script("sort_by_hash_fields", r"""
RPUSH l a b c d
HSET h_a age 30 name alice
HSET h_b age 20 name bob
HSET h_c age 40
SET h_d age
SORT l BY h_*->age
SORT l BY h_*->age DESC
SORT l BY h_*->name ALPHA
SORT l BY h_*->name ALPHA DESC
SORT l BY h_*->nofield
SORT l BY h_*-> ALPHA
SORT l BY h_*->age GET # GET h_*->name GET h_*->age
SORT l BY h_*->age GET h_*->name STORE out
LRANGE out 0 -1
SORT l BY h_*->ag*e
HSET "h_a->x" y 1
SORT l BY h_*->x->y
SORT l GET h_*->name GET h_*->nofield GET nostar GET #
SORT l GET h_*->
""")

script("sort_get_patterns", r"""
RPUSH l 3 1 2
MSET o_1 one o_2 two o_3 three p_1 uno
SORT l GET o_*
SORT l GET # GET o_* GET p_*
SORT l GET p_* GET #
SORT l DESC GET o_* LIMIT 1 1
SORT l GET nostar
SORT l GET #x
SORT l GET *
SORT l GET o_* STORE out
LRANGE out 0 -1
SORT l GET p_* STORE out
LRANGE out 0 -1
LLEN out
SORT l BY nosort GET o_*
SORT l BY nosort GET o_* DESC LIMIT 0 2
SADD s 1 2
SORT s GET o_* GET #
SORT s BY nosort GET o_* STORE out
LRANGE out 0 -1
LPUSH o_1 l
SORT l GET o_*
HSET o_2 f v
SORT l GET o_*
SORT l GET
SORT l GET o_* GET
""")

script("sort_store", r"""
RPUSH l 3 1 2
SORT l STORE dst
LRANGE dst 0 -1
TYPE dst
SET dst str
EXPIRE dst 1000
SORT l DESC STORE dst
LRANGE dst 0 -1
TTL dst
SADD aset x
SORT l STORE aset
TYPE aset
LRANGE aset 0 -1
SORT l LIMIT 5 5 STORE dst
EXISTS dst
SORT l LIMIT 5 5 STORE dst
SORT nokey STORE dst2
EXISTS dst2
SET dst2 x
SORT nokey STORE dst2
EXISTS dst2
SORT l STORE l
LRANGE l 0 -1
SORT l STORE d1 STORE d2
EXISTS d1 d2
SORT l STORE
SORT_RO l STORE dst
SORT_RO l STORE
""")

script("sort_missing_wrongtype_syntax", r"""
SORT nokey
SORT nokey DESC LIMIT 0 5
SORT nokey BY w_* GET #
SORT_RO nokey
SET str x
SORT str
SORT str BY nosort
SORT_RO str
HSET h f v
SORT h
SORT h LIMIT a b
SORT str FOO
SORT nokey FOO
SORT nokey LIMIT
SORT nokey LIMIT 1
SORT nokey BY
SORT nokey GET
SORT nokey ALPHA ALPHA DESC
SORT
SORT_RO
SORT_RO str FOO
""")

script("sort_expired_and_watch", r"""
RPUSH l 1 2 3
SET w_1 3
SET w_2 2
SET w_3 1
PEXPIRE w_2 1
!sleep 20
SORT l BY w_*
EXISTS w_2
WATCH dst
SORT l STORE dst
MULTI
PING
EXEC
WATCH l
SORT l
MULTI
PING
EXEC
MULTI
SORT l DESC
SORT l BY w_* STORE dst
LRANGE dst 0 -1
EXEC
""")

script("sort_big_list", r"""
@py %r
SORT l LIMIT 0 20
SORT l DESC LIMIT 100 10
SORT l ALPHA LIMIT 500 10
SORT l BY nosort LIMIT 990 20
SORT l BY nosort DESC LIMIT 0 5
SORT l STORE s
LLEN s
LRANGE s 0 4
LRANGE s -5 -1
OBJECT ENCODING s
@py %r
SORT z BY nosort LIMIT 100 5
SORT z BY nosort DESC LIMIT 3 4
SORT z ALPHA LIMIT 0 5
""" % (["RPUSH", "l"] + [str((i * 7919) % 1000) for i in range(1000)],
       ["ZADD", "z"] + [x for i in range(300) for x in (str(i % 17), "m%03d" % i)]))
