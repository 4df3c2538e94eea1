"""The Lua libraries scripts get besides the standard ones: cmsgpack and
struct (Kasi's own C, src/script/lua_cmsgpack.c and lua_struct.c) and their
exact Redis 7.0 behaviour. Each snippet is sent as EVAL to redis-server and
to Kasi and the replies are compared byte for byte (an error's text names
the script's SHA1, the same on both): the encoding of every MessagePack type
at each size boundary, the array-or-map choice, the nesting limit, unpack's
offsets and limits, malformed and truncated input, stack limits, and
struct's formats, alignment, conversions and errors. Then seeded random
byte strings for cmsgpack.unpack and random formats for struct.

Skipped while Kasi answers EVAL with "unknown command" (probed once).
Env: KASI_LUA_FUZZ (default 300 random cases per kind).
"""
import os
import random

import pytest

from test_diff import Mismatch, connect

FUZZ = int(os.environ.get("KASI_LUA_FUZZ", "300"))



# A snippet that starts with "all(" or "ser(" gets this prelude: ser() writes
# any value as text (table entries sorted, numbers with 17 digits), all()
# writes a call's results with their count, so unpacked values compare
# exactly.
PRELUDE = r'''local function ser(v)
  local t = type(v)
  if t == "table" then
    local items = {}
    for k, x in pairs(v) do items[#items+1] = ser(k) .. "=" .. ser(x) end
    table.sort(items)
    return "{" .. table.concat(items, ",") .. "}"
  elseif t == "string" then return string.format("%q", v)
  elseif t == "number" then return string.format("%.17g", v)
  else return tostring(v) end
end
local function all(...)
  local out = {}
  for i = 1, select('#', ...) do out[i] = ser((select(i, ...))) end
  return select('#', ...) .. ":" .. table.concat(out, " ")
end
'''


def _nest(kind, depth, leaf="{}"):
    """Lua building `depth` tables nested through t[1] ("array") or t.a."""
    step = "c[1] = {} c = c[1]" if kind == "array" else "c.a = {} c = c.a"
    return ("(function() local t = {} local c = t for i = 1, %d do %s end c[1] = %s return t end)()"
            % (depth - 1, step, leaf))


SNIPPETS = [
    # the module tables
    ("cm-fields", "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}"),
    ("cm-members", "local t = {} for k, v in pairs(cmsgpack) do t[#t+1] = k .. '=' .. type(v) end return t"),
    ("st-members", "local t = {} for k, v in pairs(struct) do t[#t+1] = k .. '=' .. type(v) end return t"),
    # integers: every width at its boundaries, positive and negative
    ("pack-fixint", "return cmsgpack.pack(0, 1, 127)"),
    ("pack-uint8", "return cmsgpack.pack(128, 255)"),
    ("pack-uint16", "return cmsgpack.pack(256, 65535)"),
    ("pack-uint32", "return cmsgpack.pack(65536, 4294967295)"),
    ("pack-uint64", "return cmsgpack.pack(4294967296, 2^53, 2^63 - 1024)"),
    ("pack-negfixint", "return cmsgpack.pack(-1, -32)"),
    ("pack-int8", "return cmsgpack.pack(-33, -128)"),
    ("pack-int16", "return cmsgpack.pack(-129, -32768)"),
    ("pack-int32", "return cmsgpack.pack(-32769, -2^31)"),
    ("pack-int64", "return cmsgpack.pack(-2^31 - 1, -2^53, -2^63)"),
    ("pack-zero-signs", "return cmsgpack.pack(0.0, -0.0)"),
    # floats: float32 when exact, else float64; out of int64 range is a float
    ("pack-float32", "return cmsgpack.pack(1.5, -0.25, 0.5, 2^63, 2^64, -2^64, 3.4028234663852886e38)"),
    ("pack-float64", "return cmsgpack.pack(0.1, 1e300, 1e-300, 3.5e38, 1e19, -1e19, -2^63 - 2048, 4294967295.5)"),
    ("pack-denormals", "return cmsgpack.pack(2^-149, 2^-150, 1e-45)"),
    ("pack-inf-nan", "return cmsgpack.pack(1/0, -1/0, 0/0, -(0/0))"),
    ("pack-almost-int", "return cmsgpack.pack(2^52 + 0.5, 123456789.5, -2^31 - 0.5)"),
    # strings at the fixstr/str8/str16/str32 boundaries
    ("pack-str-small", "return cmsgpack.pack('', 'a', '\\0\\255')"),
    ("pack-str-31-32", "return cmsgpack.pack(string.rep('a', 31), string.rep('b', 32))"),
    ("pack-str-255", "return cmsgpack.pack(string.rep('c', 255))"),
    ("pack-str-256", "return cmsgpack.pack(string.rep('d', 256))"),
    ("pack-str-65535", "return cmsgpack.pack(string.rep('e', 65535))"),
    ("pack-str-65536", "return cmsgpack.pack(string.rep('f', 65536))"),
    ("pack-number-as-is", "return cmsgpack.pack('12', 12)"),
    # nil, booleans, what has no MessagePack form
    ("pack-nil-bool", "return cmsgpack.pack(nil, true, false, nil)"),
    ("pack-functions", "return cmsgpack.pack(type, function() end, coroutine.create(function() end))"),
    ("pack-function-fields", "return cmsgpack.pack({f = type}, {type}, {[type] = 1})"),
    # tables: array only for keys exactly 1..n
    ("pack-empty-table", "return cmsgpack.pack({}, {{}}, {{}, {{}}})"),
    ("pack-array", "return cmsgpack.pack({1, 2, 3}, {[3] = 3, [2] = 2, [1] = 1})"),
    ("pack-hole", "return cmsgpack.pack({1, 2, nil, 4}, {[1] = 1, [3] = 3})"),
    ("pack-removed", "local t = {1, 2, 3} t[2] = nil local u = {1, 2, 3} u[3] = nil return cmsgpack.pack(t, u)"),
    ("pack-key-zero", "return cmsgpack.pack({[0] = 1}, {[-1] = 1}, {[-0.0] = 1})"),
    ("pack-key-float", "return cmsgpack.pack({[1.5] = 1}, {[1] = 1, [2] = 2, [2.5] = 3})"),
    ("pack-key-big", "return cmsgpack.pack({[2^53] = 1}, {[1] = 1, [2^63] = 2}, {[1] = 1, [1/0] = 2})"),
    ("pack-key-string", "return cmsgpack.pack({['1'] = 1}, {n = 1}, {1, 2, a = 3})"),
    ("pack-key-bool", "return cmsgpack.pack({[true] = 1}, {[false] = 0})"),
    ("pack-key-table", "return cmsgpack.pack({[{}] = 1}, {[{1, {2}}] = {3}})"),
    ("pack-array-15", "local t = {} for i = 1, 15 do t[i] = i end return cmsgpack.pack(t)"),
    ("pack-array-16", "local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t)"),
    ("pack-array-65535", "local t = {} for i = 1, 65535 do t[i] = i % 3 end return cmsgpack.pack(t)"),
    ("pack-array-65536", "local t = {} for i = 1, 65536 do t[i] = i % 3 end return cmsgpack.pack(t)"),
    ("pack-map-15", "local t = {} for i = 1, 15 do t['k' .. i] = i end return cmsgpack.pack(t)"),
    ("pack-map-16", "local t = {} for i = 1, 16 do t['k' .. i] = i end return cmsgpack.pack(t)"),
    ("pack-map-65535", "local t = {} for i = 1, 65535 do t['k' .. i] = 1 end return cmsgpack.pack(t)"),
    ("pack-map-65536", "local t = {} for i = 1, 65536 do t['k' .. i] = 1 end return cmsgpack.pack(t)"),
    # nesting: 16 levels, the 17th table is nil (keys count as a level)
    ("pack-nest-16", "return cmsgpack.pack(%s)" % _nest("array", 16)),
    ("pack-nest-17", "return cmsgpack.pack(%s)" % _nest("array", 17)),
    ("pack-nest-16-leaf", "return cmsgpack.pack(%s)" % _nest("array", 16, "5")),
    ("pack-nest-map-20", "return cmsgpack.pack(%s)" % _nest("map", 20)),
    ("pack-nest-keys", "local t = {} local c = t for i = 1, 20 do local n = {} c[n] = 1 c = n end return cmsgpack.pack(t)"),
    ("pack-cycle", "local t = {} t[1] = t return cmsgpack.pack(t)"),
    # pack's argument errors and stack limits
    ("pack-no-args", "return cmsgpack.pack()"),
    ("pack-4000-args", "local t = {} for i = 1, 4000 do t[i] = i end return #cmsgpack.pack(unpack(t))"),
    ("pack-4001-args", "local t = {} for i = 1, 4001 do t[i] = i end return #cmsgpack.pack(unpack(t))"),
    ("pack-3999-tables", "local t = {} for i = 1, 3999 do t[i] = {} end return #cmsgpack.pack(unpack(t))"),
    ("pack-4000-tables", "local t = {} for i = 1, 4000 do t[i] = {} end return #cmsgpack.pack(unpack(t))"),
    ("pack-stack-map", "local t = {} for i = 1, 4000 do t[i] = 1 end t[3998] = {a = 1} return #cmsgpack.pack(unpack(t))"),
    ("pack-stack-key", "local t = {} for i = 1, 4000 do t[i] = 1 end t[3996] = {[{}] = 1} return #cmsgpack.pack(unpack(t))"),
    # round trips
    ("rt-mixed", "all(cmsgpack.unpack(cmsgpack.pack(nil, true, false, 1, -1, 1.5, 0.1, 'abc', {}, {1, 2}, {a = 1})))"),
    ("rt-numbers", "all(cmsgpack.unpack(cmsgpack.pack(2^63, -2^63, 2^64, 2^53 + 2, 1e300, 3.4e38, 1/0, -1/0)))"),
    ("rt-nested", "all(cmsgpack.unpack(cmsgpack.pack({a = {b = {c = {1, 2, {d = 'e'}}}}}, {[1.5] = true})))"),
    ("rt-big-string", "local s = string.rep('xyz', 30000) return cmsgpack.unpack(cmsgpack.pack(s)) == s"),
    ("rt-big-array", "local t = {} for i = 1, 70000 do t[i] = i end local u = cmsgpack.unpack(cmsgpack.pack(t)) return {#u, u[1], u[70000]}"),
    # decoding every code
    ("unpack-ints", "all(cmsgpack.unpack('\\0\\127\\224\\255\\204\\255\\205\\255\\255\\206\\255\\255\\255\\255'))"),
    ("unpack-signed", "all(cmsgpack.unpack('\\208\\252\\209\\255\\253\\210\\255\\255\\255\\254\\211\\128\\0\\0\\0\\0\\0\\0\\1'))"),
    ("unpack-uint64-as-int64", "all(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255\\207\\0\\32\\0\\0\\0\\0\\0\\1'))"),
    ("unpack-floats", "all(cmsgpack.unpack('\\202\\63\\192\\0\\0\\203\\63\\185\\153\\153\\153\\153\\153\\154'))"),
    ("unpack-nan", "all(cmsgpack.unpack('\\202\\127\\192\\0\\0\\203\\127\\248\\0\\0\\0\\0\\0\\1'))"),
    ("unpack-strings", "all(cmsgpack.unpack('\\160\\161a\\217\\3abc\\218\\0\\2de\\219\\0\\0\\0\\1f'))"),
    ("unpack-nil-bool", "all(cmsgpack.unpack('\\192\\194\\195'))"),
    ("unpack-arrays", "all(cmsgpack.unpack('\\147\\1\\2\\3\\220\\0\\2\\1\\2\\221\\0\\0\\0\\1\\144'))"),
    ("unpack-maps", "all(cmsgpack.unpack('\\130\\161a\\1\\161b\\2\\222\\0\\1\\1\\2\\223\\0\\0\\0\\1\\128\\128'))"),
    ("unpack-nil-in-array", "all(cmsgpack.unpack('\\147\\192\\1\\192'))"),
    ("unpack-nil-value", "all(cmsgpack.unpack('\\129\\1\\192'))"),
    ("unpack-dup-key", "all(cmsgpack.unpack('\\130\\1\\2\\1\\3'))"),
    ("unpack-table-key", "all(cmsgpack.unpack('\\129\\145\\1\\2'))"),
    ("unpack-number-arg", "all(cmsgpack.unpack(12))"),
    ("unpack-empty", "all(cmsgpack.unpack(''))"),
    ("unpack-extra-args", "all(cmsgpack.unpack('\\1', 1, 2, 3))"),
    # malformed and truncated input
    ("bad-c1", "all(cmsgpack.unpack('\\1\\193'))"),
    ("bad-bin8", "all(cmsgpack.unpack('\\196\\3abc'))"),
    ("bad-bin16", "all(cmsgpack.unpack('\\197\\0\\3abc'))"),
    ("bad-bin32", "all(cmsgpack.unpack('\\198\\0\\0\\0\\3abc'))"),
    ("bad-ext", "all(cmsgpack.unpack('\\199\\1\\5a'))"),
    ("bad-fixext", "all(cmsgpack.unpack('\\212\\5a'))"),
    ("bad-fixext16", "all(cmsgpack.unpack('\\216\\5abcdefghabcdefgh'))"),
    ("cut-uint8", "all(cmsgpack.unpack('\\1\\204'))"),
    ("cut-float", "all(cmsgpack.unpack('\\202\\63\\192\\0'))"),
    ("cut-double", "all(cmsgpack.unpack('\\203\\63\\192\\0'))"),
    ("cut-fixstr", "all(cmsgpack.unpack('\\191xx'))"),
    ("cut-str32-claims-4g", "all(cmsgpack.unpack('\\219\\255\\255\\255\\255abc'))"),
    ("cut-array", "all(cmsgpack.unpack('\\147\\1\\2'))"),
    ("cut-array32-claims-4g", "all(cmsgpack.unpack('\\221\\255\\255\\255\\255\\1\\2'))"),
    ("cut-map32-claims-4g", "all(cmsgpack.unpack('\\223\\255\\255\\255\\255\\1\\2'))"),
    ("cut-after-bad", "all(cmsgpack.unpack('\\146\\193\\204'))"),
    ("cut-value-of-nil-key", "all(cmsgpack.unpack('\\130\\192\\204'))"),
    ("nil-key", "all(cmsgpack.unpack('\\129\\192\\1'))"),
    ("nan-key", "all(cmsgpack.unpack('\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1'))"),
    ("unpack-no-arg", "all(cmsgpack.unpack())"),
    ("unpack-table-arg", "all(cmsgpack.unpack({}))"),
    # stack limits while decoding
    ("unpack-7999-values", "return select('#', cmsgpack.unpack(string.rep('\\1', 7999)))"),
    ("unpack-8000-values", "return select('#', cmsgpack.unpack(string.rep('\\1', 8000)))"),
    ("unpack-deep-3999", "return #ser(cmsgpack.unpack(string.rep('\\145', 3999) .. '\\1'))"),
    ("unpack-deep-4000", "return #ser(cmsgpack.unpack(string.rep('\\145', 4000) .. '\\1'))"),
    ("unpack-deep-maps", "local x = cmsgpack.unpack(string.rep('\\129\\1', 4000) .. '\\1') return 1"),
    ("unpack-deep-keys", "local x = cmsgpack.unpack(string.rep('\\129', 7998) .. '\\1' .. string.rep('\\1', 7998)) return 1"),
    ("unpack-limit-7998", "return select('#', cmsgpack.unpack_limit(string.rep('\\1', 9000), 7998, 0, 1, 2))"),
    ("unpack-limit-7999", "return select('#', cmsgpack.unpack_limit(string.rep('\\1', 9000), 7999))"),
    # unpack_one and unpack_limit: the next offset first, -1 at the end
    ("one-walk", "all(cmsgpack.unpack_one('\\1\\2\\3'), cmsgpack.unpack_one('\\1\\2\\3', 1), cmsgpack.unpack_one('\\1\\2\\3', 2))"),
    ("one-at-end", "all(cmsgpack.unpack_one('\\1\\2\\3', 3))"),
    ("one-empty", "all(cmsgpack.unpack_one(''))"),
    ("one-past-end", "all(cmsgpack.unpack_one('\\1\\2\\3', 4))"),
    ("one-negative", "all(cmsgpack.unpack_one('\\1\\2\\3', -1))"),
    ("one-float-offset", "all(cmsgpack.unpack_one('\\1\\2\\3', 1.7))"),
    ("one-string-offset", "all(cmsgpack.unpack_one('\\1\\2\\3', '1'))"),
    ("one-bad-offset", "all(cmsgpack.unpack_one('\\1\\2\\3', 'x'))"),
    ("one-nil-offset", "all(cmsgpack.unpack_one('\\1\\2\\3', nil, 5))"),
    ("one-no-arg", "all(cmsgpack.unpack_one())"),
    ("one-table-arg", "all(cmsgpack.unpack_one({}, -1))"),
    ("one-stops-before-bad", "all(cmsgpack.unpack_one('\\1\\204'), cmsgpack.unpack_one('\\1\\193'))"),
    ("one-cut", "all(cmsgpack.unpack_one('\\147\\1\\2', 0))"),
    ("one-huge-offsets", "all(pcall(cmsgpack.unpack_one, '\\1\\2\\3', 2^31), pcall(cmsgpack.unpack_one, '\\1\\2\\3', -2^31 - 1))"),
    ("one-wrapped-offset", "all(pcall(cmsgpack.unpack_one, '\\1\\2\\3', 2^32 + 2), pcall(cmsgpack.unpack_one, '\\1\\2\\3', 1e300))"),
    ("limit-walk", "all(cmsgpack.unpack_limit('\\1\\2\\3', 2), cmsgpack.unpack_limit('\\1\\2\\3', 2, 2))"),
    ("limit-more", "all(cmsgpack.unpack_limit('\\1\\2\\3', 4), cmsgpack.unpack_limit('\\1\\2\\3', 2^32 + 1))"),
    ("limit-zero", "all(cmsgpack.unpack_limit('\\1\\2\\3', 0))"),
    ("limit-zero-offset", "all(cmsgpack.unpack_limit('\\1\\2\\3', 0, 1))"),
    ("limit-zero-offset-end", "all(cmsgpack.unpack_limit('\\1\\2\\3', 0, 3))"),
    ("limit-negative", "all(cmsgpack.unpack_limit('\\1\\2\\3', -1))"),
    ("limit-negative-offset", "all(cmsgpack.unpack_limit('\\1\\2\\3', 2, -2))"),
    ("limit-missing", "all(cmsgpack.unpack_limit('\\1\\2\\3'))"),
    ("limit-bad-first", "all(cmsgpack.unpack_limit({}, 'x'))"),
    ("limit-offsets-of-values", "local s = cmsgpack.pack(1, {2, 3}, 'x', {a = {}}) "
                                "return all(cmsgpack.unpack_limit(s, 2, 0), cmsgpack.unpack_limit(s, 2, 4), cmsgpack.unpack_limit(s, 2, 6))"),
    ("limit-empty", "all(cmsgpack.unpack_limit('', 1), cmsgpack.unpack_limit('', 0))"),
    ("limit-cut", "all(cmsgpack.unpack_limit('\\1\\2\\204', 5))"),
    # struct.pack
    ("st-ints-le", "return struct.pack('<hHlLTiIfd', -2, 65535, -3, 4, 5, -6, 7, 1.5, 2.25)"),
    ("st-ints-be", "return struct.pack('>hHlLTiIfd', -2, 65535, -3, 4, 5, -6, 7, 1.5, 2.25)"),
    ("st-aligned", "return struct.pack('!hHlLTiIfd', -2, 65535, -3, 4, 5, -6, 7, 1.5, 2.25)"),
    ("st-align-n", "return struct.pack('!2bi', 1, 2) .. struct.pack('!4bd', 1, 2) .. struct.pack('!16bi16', 1, 2)"),
    ("st-align-odd-size", "return struct.pack('!bi3', 1, 2)"),
    ("st-no-align-default", "return struct.pack('bd', 1, 2) .. struct.pack('bh', 1, 2)"),
    ("st-wide-ints", "return struct.pack('i9', -2) .. struct.pack('>i16', -1) .. struct.pack('i32', -1)"),
    ("st-i0", "return struct.pack('i0i', 5, 6) .. struct.pack('I0', 5)"),
    ("st-wrap", "return struct.pack('B', 300) .. struct.pack('B', -1) .. struct.pack('b', 200)"),
    ("st-out-of-range", "return struct.pack('LlL', 1e300, 1e300, -1e300) .. struct.pack('L', 2^64)"),
    ("st-nan-int", "return struct.pack('LiI', 0/0, 0/0, -(0/0))"),
    ("st-unsigned-high", "return struct.pack('lL', 1.5e19, 9.3e18) .. struct.pack('lL', -2.5, 2.7)"),
    ("st-floats", "return struct.pack('<f>fd', 1e300, 0.1, 0/0)"),
    ("st-strings", "return struct.pack('s', 'ab\\0c') .. struct.pack('s', 12) .. struct.pack('c', 'ab') .. struct.pack('c0', 'abc')"),
    ("st-c-extra-args", "return struct.pack('c3', 'abc', 1)"),
    ("st-padding", "return struct.pack('xxb', 3) .. struct.pack('!xi', 3)"),
    ("st-number-string", "return struct.pack('i', '12')"),
    ("st-nul-ends-format", "return struct.pack('i\\0i', 1, 2)"),
    ("st-empty", "return struct.pack('')"),
    ("st-c-short", "return struct.pack('c5', 'abc')"),
    ("st-bad-number", "return struct.pack('i', 'x')"),
    ("st-missing-number", "return struct.pack('i')"),
    ("st-missing-after-mark", "return struct.pack('iii', 1)"),
    ("st-no-format", "return struct.pack()"),
    ("st-digit-option", "return struct.pack(1)"),
    ("st-equals", "return struct.pack('=i', 1)"),
    ("st-X", "return struct.pack('bXi', 1, 2)"),
    ("st-high-byte-option", "return struct.pack('\\200')"),
    ("st-align-not-p2", "return struct.pack('!3b', 1)"),
    ("st-align-zero", "return struct.pack('!0b', 1)"),
    ("st-int-too-wide", "return struct.pack('i33', 1)"),
    ("st-size-overflow", "return struct.pack('i2147483648', 1)"),
    ("st-c-max", "return struct.pack('c2147483647', 'a')"),
    ("st-big-alignment", "return struct.pack('!1073741824b', 1)"),
    # struct.unpack
    ("stu-ints", "all(struct.unpack('<bBhH', '\\255\\255\\255\\254\\255\\254'))"),
    ("stu-be", "all(struct.unpack('>hH', '\\255\\254\\255\\254'))"),
    ("stu-long", "all(struct.unpack('lL', string.rep('\\255', 16)))"),
    ("stu-wide", "all(struct.unpack('i9I9', string.rep('\\255', 18)))"),
    ("stu-wide-sign", "all(struct.unpack('<i9', '\\1\\0\\0\\0\\0\\0\\0\\0\\128'), struct.unpack('>i9', '\\1\\0\\0\\0\\0\\0\\0\\0\\128'))"),
    ("stu-i3", "all(struct.unpack('i3i3', '\\255\\255\\127\\255\\255\\128'))"),
    ("stu-i0", "all(struct.unpack('i0b', '\\5'))"),
    ("stu-floats", "all(struct.unpack('<f>d', struct.pack('<f>d', 0.1, 0.1)))"),
    ("stu-offset", "all(struct.unpack('i', '\\1\\0\\0\\0\\2\\0\\0\\0', 5))"),
    ("stu-offset-float-string", "all(struct.unpack('i', '\\1\\0\\0\\0\\2\\0\\0\\0', 1.9), struct.unpack('i', '\\1\\0\\0\\0\\2\\0\\0\\0', '2'))"),
    ("stu-offset-zero", "all(struct.unpack('i', '\\1\\0\\0\\0', 0))"),
    ("stu-offset-negative", "all(struct.unpack('i', '\\1\\0\\0\\0', -1))"),
    ("stu-offset-wraps", "all(struct.unpack('', '', -5), struct.unpack('', '', 1e300), struct.unpack('', '', 2))"),
    ("stu-short", "all(struct.unpack('i', '\\1\\0\\0'))"),
    ("stu-short-at-offset", "all(struct.unpack('i', '\\1\\0\\0\\0\\2\\0\\0\\0', 6))"),
    ("stu-aligned", "all(struct.unpack('!bd', '\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0@'), struct.unpack('!bi', '\\1\\0\\0\\0\\2\\0\\0\\0', 2))"),
    ("stu-strings", "all(struct.unpack('ss', 'ab\\0cd\\0'))"),
    ("stu-unfinished", "all(struct.unpack('sss', 'ab\\0cd\\0'))"),
    ("stu-s-at-end", "all(struct.unpack('s', 'abc', 4))"),
    ("stu-c0", "all(struct.unpack('bc0', '\\3abcd'), struct.unpack('sc0', '3\\0abcd'), struct.unpack('bxc0', '\\2\\9abc'))"),
    ("stu-c0-too-long", "all(struct.unpack('bc0', '\\5abcd'))"),
    ("stu-c0-negative", "all(struct.unpack('bc0', '\\255abcd'))"),
    ("stu-c0-first", "all(struct.unpack('c0', 'abcd'))"),
    ("stu-c0-not-number", "all(struct.unpack('sc0', 'x\\0abcd'))"),
    ("stu-c0-odd-counts", "local r = {} for _, n in ipairs({1e300, 2.5, -1e300, 2^63, 2^64, 1/0, -0.5}) do "
                          "r[#r+1] = all(pcall(struct.unpack, 'dc0', struct.pack('d', n) .. 'abc')) end return r"),
    ("stu-cn", "all(struct.unpack('c3', 'abcd'), struct.unpack('xxc1', 'abcd'))"),
    ("stu-number-data", "all(struct.unpack('i', 12345))"),
    ("stu-missing", "all(struct.unpack('i'))"),
    ("stu-bad-option", "all(struct.unpack('z', '\\1\\0\\0\\0'))"),
    ("stu-7997-results", "return select('#', struct.unpack(string.rep('b', 7997), string.rep('a', 9000)))"),
    ("stu-7998-results", "return select('#', struct.unpack(string.rep('b', 7998), string.rep('a', 9000)))"),
    ("stu-stack-x", "return select('#', struct.unpack(string.rep('b', 7997) .. 'x', string.rep('a', 9000)))"),
    # struct.size
    ("sts-basic", "return {struct.size('i'), struct.size('!bd'), struct.size('c5'), struct.size('!bi3'), struct.size('!bc3'), struct.size('<b>i')}"),
    ("sts-ignores-letters", "return {struct.size('z'), struct.size('bXi'), struct.size('12'), struct.size(''), struct.size('>< !')}"),
    ("sts-big", "return struct.size('c2147483647c2147483647c2147483647')"),
    ("sts-s", "return struct.size('!bs')"),
    ("sts-c0", "return struct.size('bc0')"),
    ("sts-equals", "return struct.size('=i')"),
    ("sts-high-byte-option", "return struct.size('b\\233i')"),
    ("sts-align", "return struct.size('!3')"),
    ("sts-wide", "return struct.size('i33')"),
    ("sts-no-format", "return struct.size()"),
]


def _script(lua):
    if lua.startswith(("all(", "ser(")):
        return PRELUDE + "return " + lua
    if "ser(" in lua or "all(" in lua:
        return PRELUDE + lua
    return lua


def _eval_both(pair, proto, scripts):
    ref, sut = pair
    with connect(ref, proto) as a, connect(sut, proto) as b:
        for name, lua in scripts:
            ra, rb = a.cmd_raw("EVAL", lua, "0"), b.cmd_raw("EVAL", lua, "0")
            if ra != rb:
                raise Mismatch("snippet %r: %s\n  redis: %r\n  kasi:  %r" % (
                    name, lua[-300:], ra[:400], rb[:400]))


def test_snippet_names_unique():
    names = [n for n, _ in SNIPPETS]
    assert len(names) == len(set(names))
    assert len(names) >= 60


@pytest.mark.parametrize("name", [n for n, _ in SNIPPETS])
def test_lua_libs(pair, name, proto):
    _eval_both(pair, proto, [(name, _script(dict(SNIPPETS)[name]))])


def _lua_bytes(b):
    return "'" + "".join("\\%d" % c for c in b) + "'"


_CODES = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcd,
          0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff]


def _random_msgpack(rnd):
    out = bytearray()
    for _ in range(rnd.randint(0, 24)):
        k = rnd.random()
        if k < 0.5:
            out.append(rnd.choice(_CODES) if rnd.random() < 0.6 else rnd.randrange(256))
        elif k < 0.8:
            out += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 4)))
        else:
            out += bytes([rnd.choice([0, 0xff, 1, 2, 0x80])]) * rnd.randint(1, 4)
    return bytes(out)


def test_unpack_random_bytes(pair, proto):
    """cmsgpack.unpack, unpack_one and unpack_limit of seeded random bytes
    built from MessagePack codes: values or the same error."""
    rnd = random.Random(7100 + proto)
    scripts = []
    for i in range(FUZZ):
        s = _lua_bytes(_random_msgpack(rnd))
        call = rnd.choice(["cmsgpack.unpack(%s)" % s,
                           "cmsgpack.unpack_one(%s, %d)" % (s, rnd.choice([0, 1, 2, 5])),
                           "cmsgpack.unpack_limit(%s, %d, %d)" % (s, rnd.choice([0, 1, 2, 3]), rnd.choice([0, 1, 3]))])
        scripts.append(("random-%d" % i, PRELUDE + "return all(%s)" % call))
    _eval_both(pair, proto, scripts)


_OPTIONS = list("<>! bBhHlLTiIfdsxcXz=0123456789") + ["i3", "I9", "i16", "c0", "c3", "!2", "!4", "i32", "i33", "!3"]
_ARGS = ["0", "1", "-1", "255", "-129", "65536", "2^31", "-2^31", "2^53", "2^63", "2^64", "1.5", "0.1", "1/0",
         "0/0", "1e300", "'abc'", "'12'", "''", "'a\\0b'", "string.rep('z', 20)", "nil", "{}"]


def test_struct_random_formats(pair, proto):
    """struct.pack of seeded random formats and arguments, unpacked again;
    struct.unpack of random bytes; struct.size: results or the same error."""
    rnd = random.Random(7200 + proto)
    scripts = []
    for i in range(FUZZ):
        fmt = _lua_bytes("".join(rnd.choice(_OPTIONS) for _ in range(rnd.randint(0, 8))).encode())
        k = rnd.random()
        if k < 0.5:
            args = "".join(", " + rnd.choice(_ARGS) for _ in range(rnd.randint(0, 6)))
            lua = "local s = struct.pack(%s%s) return {s, all(struct.unpack(%s, s))}" % (fmt, args, fmt)
        elif k < 0.85:
            data = _lua_bytes(bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 20))))
            lua = "return all(struct.unpack(%s, %s, %s))" % (fmt, data, rnd.choice(["1", "2", "nil", "0", "-1", "5"]))
        else:
            lua = "return all(struct.size(%s))" % fmt
        scripts.append(("random-%d" % i, PRELUDE + lua))
    _eval_both(pair, proto, scripts)
