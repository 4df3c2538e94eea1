/* struct: the binary pack/unpack library Redis 7.0 gives its Lua scripts
 * (Roberto Ierusalimschy's struct library as Redis ships it), reproduced from
 * its documented format and its observed behaviour, quirks included.
 *
 * A format is read up to its first NUL, one option at a time:
 *   < > !n   little-endian (the default), big-endian, maximum alignment n
 *            (a power of 2; 8 without n; 1, no padding, until the first !)
 *   b B h H l L T   signed/unsigned char, short, long, size_t (1 2 8 8)
 *   i[n] I[n]       signed/unsigned int of n bytes (default 4, at most 32)
 *   f d      float, double          x   one zero byte
 *   s        zero-terminated string c[n]  n bytes (c: 1; c0: the whole
 *            string when packing, the previous result's count unpacking)
 *   space    ignored; anything else is "invalid format option"
 * An option of size k is aligned to min(k, maximum alignment), c never.
 * Integers are held in 64 bits: wider ones pack zero-extended and unpack
 * their low 64 bits, and numbers out of range convert as Redis's x86-64
 * build converts them. struct.size ignores letters and digits it does not
 * know. */
#ifdef KASI_LUA

#include <lua.h>
#include <lauxlib.h>

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "script/lua_libs.h"

#define ST_MAXINTSIZE 32  /* bytes of the widest i[n] */
#define ST_MAXALIGN 8     /* alignment of "!" alone */

typedef struct {
    int big;    /* big-endian */
    int align;  /* maximum alignment */
} st_header;

/* The decimal number at *fmt (advanced past it), or df when none. */
static int st_getnum(lua_State *L, const char **fmt, int df)
{
    int a = 0;
    if (!isdigit((unsigned char)**fmt))
        return df;
    do {
        int d = *(*fmt)++ - '0';
        if (a > INT_MAX / 10 || a * 10 > INT_MAX - d)
            luaL_error(L, "integral size overflow");
        a = a * 10 + d;
    } while (isdigit((unsigned char)**fmt));
    return a;
}

/* The size of option opt (reading its count from *fmt); 0 for the control
 * options, s and anything unknown. */
static size_t st_optsize(lua_State *L, int opt, const char **fmt)
{
    switch (opt) {
    case 'B': case 'b': case 'x': return 1;
    case 'H': case 'h': return 2;
    case 'L': case 'l': return 8;
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'c': return (size_t)st_getnum(L, fmt, 1);
    case 'i': case 'I': {
        int sz = st_getnum(L, fmt, 4);
        if (sz > ST_MAXINTSIZE)
            luaL_error(L, "integral size %d is larger than limit of %d", sz, ST_MAXINTSIZE);
        return (size_t)sz;
    }
    default: return 0;
    }
}

/* Padding before an option of this size at offset len. For a size that is
 * not a power of 2 (i3) this is the library's own arithmetic, kept. */
static size_t st_toalign(size_t len, const st_header *h, int opt, size_t size)
{
    if (size == 0 || opt == 'c')
        return 0;
    if (size > (size_t)h->align)
        size = (size_t)h->align;
    return (size - (len & (size - 1))) & (size - 1);
}

/* Applies a control option (or raises the invalid-option error). */
static void st_control(lua_State *L, int opt, const char **fmt, st_header *h)
{
    switch (opt) {
    case ' ': return;
    case '>': h->big = 1; return;
    case '<': h->big = 0; return;
    case '!': {
        int a = st_getnum(L, fmt, ST_MAXALIGN);
        if (a <= 0 || (a & (a - 1)) != 0)
            luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return;
    }
    default:
        luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
    }
}

static int64_t st_trunc64(double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return (int64_t)d;
    return INT64_MIN;  /* x86-64's answer for NaN and out of range */
}

/* A double cast to a 64-bit unsigned the way gcc compiles it for x86-64
 * (below 2^63 through the signed conversion, above it offset by 2^63). */
static uint64_t st_to_u64(double d)
{
    if (d >= 9223372036854775808.0)
        return (uint64_t)st_trunc64(d - 9223372036854775808.0) ^ ((uint64_t)1 << 63);
    return (uint64_t)st_trunc64(d);
}

/* Reverses n bytes in place when the wanted order is not the machine's. */
static void st_order(unsigned char *p, size_t n, int big)
{
    static const union { int i; char c; } one = {1};
    if ((one.c == 1) == !big)
        return;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned char t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static void st_putint(luaL_Buffer *b, lua_Number n, int big, size_t size)
{
    uint64_t v = n < 0 ? (uint64_t)st_trunc64(n) : st_to_u64(n);
    unsigned char out[ST_MAXINTSIZE];
    for (size_t i = 0; i < size; i++) {
        out[big ? size - 1 - i : i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    luaL_addlstring(b, (const char *)out, size);
}

/* A float (opt 'f') or double ('d') in the wanted byte order. */
static void st_putfloat(luaL_Buffer *b, lua_Number n, int opt, int big)
{
    float f = (float)n;
    double d = n;
    unsigned char *p = opt == 'f' ? (unsigned char *)&f : (unsigned char *)&d;
    size_t size = opt == 'f' ? sizeof f : sizeof d;
    st_order(p, size, big);
    luaL_addlstring(b, (const char *)p, size);
}

static lua_Number st_getfloat(const unsigned char *data, int opt, int big)
{
    float f;
    double d;
    if (opt == 'f') {
        memcpy(&f, data, sizeof f);
        st_order((unsigned char *)&f, sizeof f, big);
        return (lua_Number)f;
    }
    memcpy(&d, data, sizeof d);
    st_order((unsigned char *)&d, sizeof d, big);
    return (lua_Number)d;
}

static int st_pack(lua_State *L)
{
    st_header h = {0, 1};
    const char *fmt = luaL_checkstring(L, 1);
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    lua_pushnil(L);  /* after the arguments: a missing one reads as nil */
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        size_t pad = st_toalign(total, &h, opt, size);
        total += pad;
        while (pad-- > 0)
            luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
        case 'T': case 'i': case 'I':
            st_putint(&b, luaL_checknumber(L, arg++), h.big, size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': case 'd':
            st_putfloat(&b, luaL_checknumber(L, arg++), opt, h.big);
            break;
        case 'c': case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0)
                size = l;
            /* the library names the argument after this one */
            luaL_argcheck(L, l >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            st_control(L, opt, &fmt, &h);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number st_getint(const unsigned char *p, int big, int is_signed, size_t size)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++)
        v = (v << 8) | p[big ? i : size - 1 - i];
    if (!is_signed)
        return (lua_Number)v;
    /* the sign mask's shift as x86-64 performs it: modulo 64 */
    uint64_t mask = ~(uint64_t)0 << ((size * 8 - 1) & 63);
    if (v & mask)
        v |= mask;
    return (lua_Number)(int64_t)v;
}

static int st_unpack(lua_State *L)
{
    st_header h = {0, 1};
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);  /* a negative one wraps, as in Redis */
    int n = 0;
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    while (*fmt) {
        int opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_toalign(pos, &h, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
        case 'T': case 'i': case 'I':
            lua_pushnumber(L, st_getint(data + pos, h.big, islower((unsigned char)opt), size));
            n++;
            break;
        case 'x':
            break;
        case 'f': case 'd':
            lua_pushnumber(L, st_getfloat(data + pos, opt, h.big));
            n++;
            break;
        case 'c':
            if (size == 0) {  /* c0: the count is the previous result */
                if (n == 0 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)st_to_u64(lua_tonumber(L, -1));
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, (const char *)data + pos, size);
            n++;
            break;
        case 's': {
            const unsigned char *e = memchr(data + pos, '\0', ld - pos);
            if (e == NULL)
                luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, (const char *)data + pos, size - 1);
            n++;
            break;
        }
        default:
            st_control(L, opt, &fmt, &h);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return n + 1;
}

static int st_size(lua_State *L)
{
    st_header h = {0, 1};
    const char *fmt = luaL_checkstring(L, 1);
    size_t pos = 0;
    while (*fmt) {
        int opt = *fmt++;
        size_t size = st_optsize(L, opt, &fmt);
        pos += st_toalign(pos, &h, opt, size);
        if (opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum((unsigned char)opt))
            st_control(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int luaopen_struct(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"pack", st_pack},
        {"unpack", st_unpack},
        {"size", st_size},
        {NULL, NULL},
    };
    luaL_register(L, "struct", funcs);
    return 1;
}

#endif /* KASI_LUA */
