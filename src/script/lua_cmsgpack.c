/* cmsgpack: the MessagePack library Redis 7.0 gives its Lua scripts, with its
 * exact choices. A Lua number that is an int64 becomes the smallest integer
 * code (fixint, uint8..64 when not negative, int8..64 when negative); any
 * other number a float32 when the float holds it exactly, else a float64.
 * A string takes fixstr, str8, str16 or str32 (never bin). A table is an
 * array when its keys are exactly 1..n, else a map in lua_next order; tables
 * deeper than 16 levels, and functions, threads and userdata, become nil.
 * Decoding takes every code but bin and ext ("Bad data format in input."),
 * stops at the first error, and never allocates what a header only claims.
 *
 * The Lua stack is used as Redis's library uses it (a copy of each value
 * being packed, one string per packed argument, two slots per array level
 * being decoded), with the same luaL_checkstack amounts and messages, so the
 * same deep or wide input fails the same way in both. */
#ifdef KASI_LUA

#include <lua.h>
#include <lauxlib.h>

#include <stdint.h>
#include <string.h>

#include "script/lua_libs.h"

#define MP_MAX_NESTING 16  /* a table this deep is packed as nil */

/* The packer's output: a growable byte array owned by a userdata that is an
 * upvalue of pack, so an error thrown mid-pack leaks nothing (the next call
 * reuses it, __gc frees it). Allocated with the state's own allocator.
 * pinned is set while its bytes are being copied into a Lua string: that
 * copy may run the collector, and a finalizer calling pack then must not
 * touch this buffer. */
typedef struct {
    unsigned char *b;
    size_t len, cap;
    int pinned;
} mp_buf;

#define MP_BUF_KEEP 65536  /* capacity kept between calls */

static void mp_buf_resize(lua_State *L, mp_buf *buf, size_t cap)
{
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    void *p = f(ud, buf->b, buf->cap, cap);
    if (p == NULL && cap > 0)
        luaL_error(L, "not enough memory");
    buf->b = p;
    buf->cap = cap;
}

static void mp_buf_add(lua_State *L, mp_buf *buf, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (buf->cap - buf->len < n) {
        size_t cap = buf->cap ? buf->cap : 64;
        while (cap - buf->len < n) {
            if (cap > SIZE_MAX / 2)
                luaL_error(L, "not enough memory");
            cap *= 2;
        }
        mp_buf_resize(L, buf, cap);
    }
    memcpy(buf->b + buf->len, p, n);
    buf->len += n;
}

static int mp_buf_gc(lua_State *L)
{
    mp_buf *buf = lua_touserdata(L, 1);
    mp_buf_resize(L, buf, 0);
    return 0;
}

/* A code byte followed by the low `bytes` bytes of v, big-endian. */
static void mp_put(lua_State *L, mp_buf *buf, unsigned code, uint64_t v, int bytes)
{
    unsigned char out[9];
    out[0] = (unsigned char)code;
    for (int i = 0; i < bytes; i++)
        out[bytes - i] = (unsigned char)(v >> (8 * i));
    mp_buf_add(L, buf, out, (size_t)bytes + 1);
}

/* A header: the fix form below fix_max (code fix|n), else 8-bit (when
 * code8 is not 0), 16-bit or 32-bit length after code16/code16+1. */
static void mp_put_len(lua_State *L, mp_buf *buf, size_t n, unsigned fix,
                       size_t fix_max, unsigned code8, unsigned code16)
{
    if (n <= fix_max)
        mp_put(L, buf, fix | (unsigned)n, 0, 0);
    else if (code8 && n <= 0xff)
        mp_put(L, buf, code8, n, 1);
    else if (n <= 0xffff)
        mp_put(L, buf, code16, n, 2);
    else
        mp_put(L, buf, code16 + 1, n, 4);
}

/* x86-64's cvttsd2si, which is what Redis's casts of a double to int64
 * compile to: out of range and NaN give INT64_MIN. Defined here for all
 * inputs (the C cast is not). */
static int64_t mp_trunc64(double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return (int64_t)d;
    return INT64_MIN;
}

/* True (and *out set) when n is exactly an int64, as Redis decides. */
static int mp_int_equivalent(lua_Number n, int64_t *out)
{
    int64_t i = mp_trunc64(n);
    *out = i;
    return (lua_Number)i == n;
}

static void mp_encode_int(lua_State *L, mp_buf *buf, int64_t v)
{
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u <= 127)
            mp_put(L, buf, (unsigned)u, 0, 0);
        else if (u <= 0xff)
            mp_put(L, buf, 0xcc, u, 1);
        else if (u <= 0xffff)
            mp_put(L, buf, 0xcd, u, 2);
        else if (u <= 0xffffffffu)
            mp_put(L, buf, 0xce, u, 4);
        else
            mp_put(L, buf, 0xcf, u, 8);
    } else if (v >= -32) {
        mp_put(L, buf, (unsigned)(v & 0xff), 0, 0);
    } else if (v >= -128) {
        mp_put(L, buf, 0xd0, (uint64_t)v, 1);
    } else if (v >= -32768) {
        mp_put(L, buf, 0xd1, (uint64_t)v, 2);
    } else if (v >= -2147483647 - 1) {
        mp_put(L, buf, 0xd2, (uint64_t)v, 4);
    } else {
        mp_put(L, buf, 0xd3, (uint64_t)v, 8);
    }
}

static void mp_encode_number(lua_State *L, mp_buf *buf, lua_Number n)
{
    int64_t i;
    if (mp_int_equivalent(n, &i)) {
        mp_encode_int(L, buf, i);
    } else if ((lua_Number)(float)n == n) {
        float f = (float)n;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        mp_put(L, buf, 0xca, bits, 4);
    } else {
        double d = n;
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        mp_put(L, buf, 0xcb, bits, 8);
    }
}

/* True when the table on top has exactly the keys 1..n (no hole). */
static int mp_table_is_array(lua_State *L)
{
    long long count = 0, max = 0;
    int top = lua_gettop(L);
    luaL_checkstack(L, 2, "in function table_is_an_array");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        int64_t i;
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) <= 0 ||
            !mp_int_equivalent(lua_tonumber(L, -1), &i)) {
            lua_settop(L, top);
            return 0;
        }
        if (i > max)
            max = i;
        count++;
    }
    lua_settop(L, top);
    return max == count;
}

static void mp_encode_value(lua_State *L, mp_buf *buf, int level);

static void mp_encode_array(lua_State *L, mp_buf *buf, int level)
{
    size_t n = lua_objlen(L, -1);
    mp_put_len(L, buf, n, 0x90, 15, 0, 0xdc);
    for (size_t j = 1; j <= n; j++) {
        lua_rawgeti(L, -1, (int)j);
        mp_encode_value(L, buf, level + 1);
    }
}

static void mp_encode_map(lua_State *L, mp_buf *buf, int level)
{
    size_t n = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    mp_put_len(L, buf, n, 0x80, 15, 0, 0xde);
    lua_pushnil(L);
    while (lua_next(L, -2)) {          /* ... table key value */
        lua_pushvalue(L, -2);          /* ... table key value key */
        mp_encode_value(L, buf, level + 1);
        mp_encode_value(L, buf, level + 1);
    }
}

/* Appends the value on top of the stack, and pops it. */
static void mp_encode_value(lua_State *L, mp_buf *buf, int level)
{
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        mp_put_len(L, buf, len, 0xa0, 31, 0xd9, 0xda);
        mp_buf_add(L, buf, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        mp_put(L, buf, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0);
        break;
    case LUA_TNUMBER:
        mp_encode_number(L, buf, lua_tonumber(L, -1));
        break;
    case LUA_TTABLE:
        if (level >= MP_MAX_NESTING)
            mp_put(L, buf, 0xc0, 0, 0);
        else if (mp_table_is_array(L))
            mp_encode_array(L, buf, level);
        else
            mp_encode_map(L, buf, level);
        break;
    default:
        mp_put(L, buf, 0xc0, 0, 0);
        break;
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    mp_buf *shared = lua_touserdata(L, lua_upvalueindex(1));
    mp_buf *buf = shared;
    if (nargs == 0)
        return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs))
        return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    if (shared->pinned) {  /* from a finalizer: a buffer of its own */
        luaL_checkstack(L, 1, "in function mp_pack");
        buf = lua_newuserdata(L, sizeof *buf);
        memset(buf, 0, sizeof *buf);
        lua_getmetatable(L, lua_upvalueindex(1));
        lua_setmetatable(L, -2);
    }
    for (int i = 1; i <= nargs; i++) {
        buf->len = 0;
        lua_pushvalue(L, i);
        mp_encode_value(L, buf, 0);
        buf->pinned = 1;
        lua_pushlstring(L, (const char *)buf->b, buf->len);
        buf->pinned = 0;
    }
    buf->len = 0;
    if (buf != shared || buf->cap > MP_BUF_KEEP)
        mp_buf_resize(L, buf, 0);
    lua_concat(L, nargs);
    return 1;
}

/* The decoder's cursor. err is 0, MP_EOF or MP_BAD; once set, decoding
 * stops and what was pushed is left for the error to discard. */
typedef struct {
    const unsigned char *p;
    size_t left;
    int err;
} mp_cur;

enum { MP_EOF = 1, MP_BAD = 2 };

/* Takes n bytes (NULL, with err set, when fewer are left). */
static const unsigned char *mp_take(mp_cur *c, size_t n)
{
    const unsigned char *p = c->p;
    if (c->left < n) {
        c->err = MP_EOF;
        return NULL;
    }
    c->p += n;
    c->left -= n;
    return p;
}

/* The n-byte big-endian unsigned after the code byte (0, err set, if cut). */
static uint64_t mp_uint(mp_cur *c, int n)
{
    const unsigned char *p = mp_take(c, (size_t)n);
    uint64_t v = 0;
    if (p == NULL)
        return 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The same value as signed: n-byte two's complement. */
static int64_t mp_int(mp_cur *c, int n)
{
    uint64_t v = mp_uint(c, n);
    if (n < 8 && (v >> (8 * n - 1)) & 1)
        v |= ~(uint64_t)0 << (8 * n);
    return (int64_t)v;
}

static void mp_decode_value(lua_State *L, mp_cur *c);

static void mp_decode_string(lua_State *L, mp_cur *c, uint64_t len)
{
    const unsigned char *p;
    if (c->err)
        return;
    if (len > c->left) {
        c->err = MP_EOF;
        return;
    }
    p = mp_take(c, (size_t)len);
    lua_pushlstring(L, (const char *)p, (size_t)len);
}

/* An array of n claimed elements: each is decoded before a slot exists for
 * the next, so a claim beyond the input costs nothing but the EOF. */
static void mp_decode_array(lua_State *L, mp_cur *c, uint64_t n)
{
    if (c->err)
        return;
    luaL_checkstack(L, 2, "in function mp_decode_to_lua_array");
    lua_newtable(L);
    for (uint64_t i = 1; i <= n; i++) {
        lua_pushnumber(L, (lua_Number)i);
        mp_decode_value(L, c);
        if (c->err)
            return;
        lua_rawset(L, -3);
    }
}

static void mp_decode_map(lua_State *L, mp_cur *c, uint64_t n)
{
    if (c->err)
        return;
    lua_newtable(L);
    for (uint64_t i = 0; i < n; i++) {
        mp_decode_value(L, c);
        if (c->err)
            return;
        mp_decode_value(L, c);
        if (c->err)
            return;
        lua_settable(L, -3);  /* a nil or NaN key raises Lua's own error */
    }
}

/* Pushes the next value (nothing, with c->err set, on bad or cut input). */
static void mp_decode_value(lua_State *L, mp_cur *c)
{
    const unsigned char *p;
    unsigned code;
    luaL_checkstack(L, 1,
        "too many return values at once; use unpack_one or unpack_limit instead.");
    p = mp_take(c, 1);
    if (p == NULL)
        return;
    code = *p;
    if (code <= 0x7f) {
        lua_pushnumber(L, (lua_Number)code);
    } else if (code >= 0xe0) {
        lua_pushnumber(L, (lua_Number)((int)code - 256));
    } else if (code >= 0xa0 && code <= 0xbf) {
        mp_decode_string(L, c, code & 0x1f);
    } else if (code >= 0x90 && code <= 0x9f) {
        mp_decode_array(L, c, code & 0x0f);
    } else if (code <= 0x8f) {
        mp_decode_map(L, c, code & 0x0f);
    } else {
        switch (code) {
        case 0xc0: lua_pushnil(L); break;
        case 0xc2: lua_pushboolean(L, 0); break;
        case 0xc3: lua_pushboolean(L, 1); break;
        case 0xca: {
            uint32_t bits = (uint32_t)mp_uint(c, 4);
            float f;
            memcpy(&f, &bits, sizeof f);
            if (!c->err)
                lua_pushnumber(L, (lua_Number)f);
            break;
        }
        case 0xcb: {
            uint64_t bits = mp_uint(c, 8);
            double d;
            memcpy(&d, &bits, sizeof d);
            if (!c->err)
                lua_pushnumber(L, (lua_Number)d);
            break;
        }
        case 0xcc: case 0xcd: case 0xce: case 0xcf: {
            /* uint64 is read as int64, as Redis does: 2^64-1 is -1 */
            int64_t v = (int64_t)mp_uint(c, 1 << (code - 0xcc));
            if (!c->err)
                lua_pushnumber(L, (lua_Number)v);
            break;
        }
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
            int64_t v = mp_int(c, 1 << (code - 0xd0));
            if (!c->err)
                lua_pushnumber(L, (lua_Number)v);
            break;
        }
        case 0xd9: mp_decode_string(L, c, mp_uint(c, 1)); break;
        case 0xda: mp_decode_string(L, c, mp_uint(c, 2)); break;
        case 0xdb: mp_decode_string(L, c, mp_uint(c, 4)); break;
        case 0xdc: mp_decode_array(L, c, mp_uint(c, 2)); break;
        case 0xdd: mp_decode_array(L, c, mp_uint(c, 4)); break;
        case 0xde: mp_decode_map(L, c, mp_uint(c, 2)); break;
        case 0xdf: mp_decode_map(L, c, mp_uint(c, 4)); break;
        default: c->err = MP_BAD; break;  /* 0xc1, bin, ext, fixext */
        }
    }
}

/* A 64-bit count as C's %d receives it (its low 32 bits), as Redis prints. */
static int mp_low32(long long v)
{
    return (int)(int32_t)(uint32_t)(unsigned long long)v;
}

/* The string at index 1 from byte offset: with limit and offset both 0,
 * all its values; else at most limit values (none when limit is 0, as in
 * Redis) after the offset of the rest (-1 when the input is used up). */
static int mp_unpack_full(lua_State *L, lua_Integer limit, lua_Integer offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    mp_cur c;
    lua_Integer count = 0;
    int all = limit == 0 && offset == 0;
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          mp_low32(offset), mp_low32((long long)len));
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.",
                          mp_low32(offset), mp_low32((long long)len));
    c.p = (const unsigned char *)s + offset;
    c.left = len - (size_t)offset;
    c.err = 0;
    while (c.left > 0 && (all || count < limit)) {
        mp_decode_value(L, &c);
        if (c.err == MP_EOF)
            return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_BAD)
            return luaL_error(L, "Bad data format in input.");
        count++;
    }
    if (all)
        return (int)count;
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, 2);
    return (int)count + 1;
}

/* Leaves only the string (if any: a missing one is still "no value"), so
 * the whole stack is there for the results, as in Redis. */
static void mp_drop_args(lua_State *L)
{
    if (lua_gettop(L) > 1)
        lua_settop(L, 1);
}

static int mp_unpack(lua_State *L)
{
    return mp_unpack_full(L, 0, 0);
}

static int mp_unpack_one(lua_State *L)
{
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    mp_drop_args(L);
    return mp_unpack_full(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    mp_drop_args(L);
    return mp_unpack_full(L, limit, offset);
}

int luaopen_cmsgpack(lua_State *L)
{
    /* Redis's order of insertion, so pairs(cmsgpack) walks the same way */
    static const luaL_Reg funcs[] = {
        {"pack", mp_pack},
        {"unpack", mp_unpack},
        {"unpack_one", mp_unpack_one},
        {"unpack_limit", mp_unpack_limit},
        {NULL, NULL},
    };
    mp_buf *buf = lua_newuserdata(L, sizeof *buf);
    memset(buf, 0, sizeof *buf);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, mp_buf_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    luaI_openlib(L, "cmsgpack", funcs, 1);  /* the buffer: every function's upvalue */
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}

#endif /* KASI_LUA */
