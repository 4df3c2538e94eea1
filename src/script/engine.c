/* engine.c - the Lua state, its sandbox, the redis library, and the
 * conversions between Lua values and RESP replies (see script.h).
 *
 * Read-only globals. Redis 7.0 patches its Lua to mark tables read-only;
 * Kasi uses Debian's unpatched Lua 5.1, so each protected table (the
 * globals, the libraries, the string metatable) is reached through an
 * empty proxy whose metatable reads through to the real table and refuses
 * writes. The proxy is the thread's globals table, so code that loadstring
 * compiles sees it too. rawset, setmetatable, next, pairs and rawget see
 * through proxies as Redis's tables behave. */
#include "script/script.h"

#ifdef KASI_LUA

#include "script/engine_int.h"
#include "script/lua_libs.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sha1.h"
#include "lib/util.h"
#include "proto/resp.h"

int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);

#define HOOK_EVERY 100000            /* instructions between host ticks, as Redis's */
#define GC_EVERY 50                  /* scripts between incremental GC steps */
#define RAND_SEED 0x1234ABCD330EULL  /* rand48's default state: Redis's first numbers */


/* Registry keys (their addresses). */
static char K_SCRIPTS, K_PROXIES;
char sv_key_globals, sv_key_errh, sv_key_gmeta;
#define K_GLOBALS sv_key_globals
#define K_ERRH sv_key_errh

script_vm *sv_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}
#define vm_of sv_of

static void *vm_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    script_vm *vm = ud;
    if (nsize == 0) {
        free(p);
        atomic_fetch_sub_explicit(&vm->mem, osize, memory_order_relaxed);
        return NULL;
    }
    /* past the bound, growth fails: Lua raises "not enough memory" in the
     * script, and the server goes on. Only while Lua can catch it (a
     * script runs, code compiles): elsewhere Lua would panic. */
    if (nsize > osize && vm->bounded && vm->limit &&
        atomic_load_explicit(&vm->mem, memory_order_relaxed) + (nsize - osize) > vm->limit)
        return NULL;
    void *q = realloc(p, nsize);
    if (!q) return NULL;
    atomic_fetch_add_explicit(&vm->mem, nsize - osize, memory_order_relaxed);   /* wraps for a shrink */
    return q;
}

/* An error outside any pcall: a bug, said before stopping. */
static int l_panic(lua_State *L)
{
    log_warn("Lua panic: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    abort();
}

void sv_reg_get(lua_State *L, char *key)
{
    lua_pushlightuserdata(L, key);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

/* ---- errors as Redis's scripts see them ---- */

/* An error table {err="CODE msg"} from "-CODE msg" or "msg" (code ERR),
 * with CR/LF trimmed from the ends, as Redis builds it. */
void sv_push_error(lua_State *L, const char *s, size_t n)
{
    luaL_Buffer b;
    const char *code = "ERR", *msg = s;
    size_t clen = 3, mlen = n;
    if (n && s[0] == '-') {
        const char *sp = memchr(s, ' ', n);
        if (sp) {
            code = s + 1, clen = (size_t)(sp - s - 1);
            msg = sp + 1, mlen = n - (size_t)(sp + 1 - s);
        } else {
            msg = s + 1, mlen = n - 1;
        }
    }
    while (mlen && (*msg == '\r' || *msg == '\n')) msg++, mlen--;
    while (mlen && (msg[mlen - 1] == '\r' || msg[mlen - 1] == '\n')) mlen--;
    lua_newtable(L);
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, code, clen);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, msg, mlen);
    luaL_pushresult(&b);
    lua_setfield(L, -2, "err");
}

int sv_raise(lua_State *L, const char *msg)
{
    sv_push_error(L, msg, strlen(msg));
    return lua_error(L);
}

/* The handler every script runs under: a string error becomes
 * {err="ERR <text>"}; the table gets where it was raised (the first Lua
 * function: a C function such as redis.call or error does not count). */
static int err_handler(lua_State *L)
{
    lua_Debug ar;
    int where = lua_getstack(L, 1, &ar) && lua_getinfo(L, "nSl", &ar);
    if (where && strcmp(ar.what, "C") == 0) where = lua_getstack(L, 2, &ar) && lua_getinfo(L, "nSl", &ar);
    if (!lua_istable(L, 1)) {
        const char *s;
        sv_reg_get(L, &K_GLOBALS);   /* not the globals code sees: a library's load has none */
        lua_getfield(L, -1, "tostring");
        lua_remove(L, -2);
        lua_pushvalue(L, 1);
        lua_call(L, 1, 1);
        s = lua_tostring(L, -1);
        lua_newtable(L);
        lua_pushfstring(L, "ERR %s", s ? s : "nil");
        lua_setfield(L, -2, "err");
        lua_replace(L, 1);
        lua_settop(L, 1);
    }
    if (where) {
        lua_pushstring(L, ar.source);
        lua_setfield(L, 1, "source");
        lua_pushinteger(L, ar.currentline);
        lua_setfield(L, 1, "line");
    }
    lua_settop(L, 1);
    return 1;
}

/* ---- replies to Lua ---- */

static const char *line_end(const char *p) { return strchr(p, '\r'); }

/* One reply at p (our own, whole and well formed) as a Lua value; returns
 * where the next begins. */
static const char *reply_to_lua(lua_State *L, const char *p, int depth)
{
    const char *e = line_end(p + 1);
    const char *next = e + 2;
    long long n;
    char type = *p;
    if (!lua_checkstack(L, 4)) luaL_error(L, "reached lua stack limit");
    switch (type) {
    case '+':
    case '-':
        if (type == '-') {
            sv_push_error(L, p, (size_t)(e - p));
        } else {
            lua_newtable(L);
            lua_pushlstring(L, p + 1, (size_t)(e - p - 1));
            lua_setfield(L, -2, "ok");
        }
        return next;
    case ':':
        util_str2ll(p + 1, (size_t)(e - p - 1), &n);
        lua_pushnumber(L, (lua_Number)n);
        return next;
    case '$':
    case '=':
        util_str2ll(p + 1, (size_t)(e - p - 1), &n);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return next;
        }
        if (type == '=') {   /* verbatim: "fmt:text" */
            lua_newtable(L);
            lua_newtable(L);
            lua_pushlstring(L, next + 4, (size_t)n - 4);
            lua_setfield(L, -2, "string");
            lua_pushlstring(L, next, 3);
            lua_setfield(L, -2, "format");
            lua_setfield(L, -2, "verbatim_string");
        } else {
            lua_pushlstring(L, next, (size_t)n);
        }
        return next + n + 2;
    case '*':
    case '>':
    case '~':
    case '%':
        util_str2ll(p + 1, (size_t)(e - p - 1), &n);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return next;
        }
        lua_newtable(L);
        if (type == '~' || type == '%') {
            lua_newtable(L);
            for (long long i = 0; i < n; i++) {
                next = reply_to_lua(L, next, depth + 1);
                if (type == '%') next = reply_to_lua(L, next, depth + 1);
                else lua_pushboolean(L, 1);
                lua_settable(L, -3);
            }
            lua_setfield(L, -2, type == '%' ? "map" : "set");
        } else {
            for (long long i = 0; i < n; i++) {
                next = reply_to_lua(L, next, depth + 1);
                lua_rawseti(L, -2, (int)i + 1);
            }
        }
        return next;
    case '_':
        lua_pushnil(L);
        return next;
    case '#':
        lua_pushboolean(L, p[1] == 't');
        return next;
    case ',': {
        char tmp[64];
        size_t len = (size_t)(e - p - 1);
        if (len >= sizeof tmp) len = sizeof tmp - 1;
        memcpy(tmp, p + 1, len);
        tmp[len] = '\0';
        lua_newtable(L);
        lua_pushnumber(L, strtod(tmp, NULL));
        lua_setfield(L, -2, "double");
        return next;
    }
    case '(':
        lua_newtable(L);
        lua_pushlstring(L, p + 1, (size_t)(e - p - 1));
        lua_setfield(L, -2, "big_number");
        return next;
    default:   /* not ours to send: nothing sensible to give the script */
        lua_pushboolean(L, 0);
        return next;
    }
}

/* ---- the redis library ---- */

static int redis_command(lua_State *L, int raise)
{
    script_vm *vm = vm_of(L);
    int argc = lua_gettop(L);
    size_t *num_off;
    if (argc == 0) {
        sv_push_error(L, "Please specify at least one argument for this redis lib call", 60);
        return raise ? lua_error(L) : 1;
    }
    if (argc > vm->argv_cap) {
        int cap = argc < 16 ? 16 : argc;
        slice *a = realloc(vm->argv, (size_t)cap * (sizeof *a + sizeof(size_t)));
        if (!a) return luaL_error(L, "not enough memory");
        vm->argv = a, vm->argv_cap = cap;
    }
    num_off = (size_t *)(vm->argv + vm->argv_cap);
    vm->nums.len = 0;
    for (int i = 0; i < argc; i++) {
        int t = lua_type(L, i + 1);
        if (t == LUA_TNUMBER) {
            /* as Redis formats them: 17 significant digits */
            char tmp[64];
            int len = snprintf(tmp, sizeof tmp, "%.17g", (double)lua_tonumber(L, i + 1));
            num_off[i] = vm->nums.len;
            buf_append(&vm->nums, tmp, (size_t)len);
            vm->argv[i].p = NULL;
            vm->argv[i].n = (size_t)len;
        } else if (t == LUA_TSTRING) {
            vm->argv[i].p = lua_tolstring(L, i + 1, &vm->argv[i].n);
        } else {
            sv_push_error(L, "Lua redis lib command arguments must be strings or integers", 59);
            return raise ? lua_error(L) : 1;
        }
    }
    for (int i = 0; i < argc; i++)
        if (!vm->argv[i].p) vm->argv[i].p = vm->nums.data + num_off[i];
    vm->reply.len = vm->reply.off = 0;
    vm->host->call(vm->host->ctx, argc, vm->argv, vm->resp, &vm->reply);
    buf_append(&vm->reply, "", 1);   /* a NUL after the last line ends the scans */
    if (vm->reply.data[0] == '-') {
        sv_push_error(L, vm->reply.data, vm->reply.len - 3);   /* less \r\n and the NUL */
        return raise ? lua_error(L) : 1;
    }
    reply_to_lua(L, vm->reply.data, 0);
    return 1;
}

static int l_call(lua_State *L) { return redis_command(L, 1); }
static int l_pcall(lua_State *L) { return redis_command(L, 0); }

static int l_sha1hex(lua_State *L)
{
    char hex[41];
    size_t n = 0;
    const char *s;
    if (lua_gettop(L) != 1) return sv_raise(L, "wrong number of arguments");
    s = lua_tolstring(L, 1, &n);
    sha1_hex(s ? s : "", s ? n : 0, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* redis.error_reply / status_reply: a table with one field. */
static int one_field_reply(lua_State *L, const char *field)
{
    size_t n;
    const char *s;
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
        sv_push_error(L, "wrong number or type of arguments", 33);
        return 1;
    }
    s = lua_tolstring(L, 1, &n);
    if (field[0] == 'e') {
        luaL_Buffer b;
        /* a missing "-" is added, then the code is taken from the text */
        luaL_buffinit(L, &b);
        if (n == 0 || s[0] != '-') luaL_addchar(&b, '-');
        luaL_addlstring(&b, s, n);
        luaL_pushresult(&b);
        s = lua_tolstring(L, -1, &n);
        sv_push_error(L, s, n);
        return 1;
    }
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, field);
    return 1;
}

static int l_error_reply(lua_State *L) { return one_field_reply(L, "err"); }
static int l_status_reply(lua_State *L) { return one_field_reply(L, "ok"); }

static int l_log(lua_State *L)
{
    script_vm *vm = vm_of(L);
    int argc = lua_gettop(L);
    lua_Number level;
    luaL_Buffer b;
    if (argc < 2) return sv_raise(L, "redis.log() requires two arguments or more.");
    if (!lua_isnumber(L, 1)) return sv_raise(L, "First argument must be a number (log level).");
    level = lua_tonumber(L, 1);
    if (level < 0 || level > 3) return sv_raise(L, "Invalid debug level.");
    luaL_buffinit(L, &b);
    for (int i = 2; i <= argc; i++) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        if (!s) continue;   /* Redis skips what is not a string or a number */
        if (i > 2) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, n);
    }
    luaL_pushresult(&b);
    {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (vm->host && vm->host->log) vm->host->log(vm->host->ctx, (int)level, s, n);
        else log_msg((int)level, "%.*s", (int)n, s);   /* a library being loaded */
    }
    return 0;
}

static int l_setresp(lua_State *L)
{
    lua_Number v;
    if (lua_gettop(L) != 1) return sv_raise(L, "redis.setresp() requires one argument.");
    v = lua_tonumber(L, 1);
    if (v != 2 && v != 3) return sv_raise(L, "RESP version must be 2 or 3.");
    vm_of(L)->resp = (int)v;
    return 0;
}

static int l_set_repl(lua_State *L)
{
    lua_Number v;
    if (lua_gettop(L) != 1) return sv_raise(L, "redis.set_repl() requires two arguments.");
    v = lua_tonumber(L, 1);
    if (v != floor(v) || v < 0 || v > 3)
        return sv_raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    return 0;   /* effects go to the AOF as they are made, whatever is asked */
}

static int l_true(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

static int l_false(lua_State *L)
{
    lua_pushboolean(L, 0);
    return 1;
}

static int l_nothing(lua_State *L) { return 0; }

static int l_acl_check_cmd(lua_State *L)
{
    script_vm *vm = vm_of(L);
    int argc = lua_gettop(L);
    size_t n;
    const char *name;
    if (argc == 0) return sv_raise(L, "Please specify at least one argument for this redis lib call");
    name = lua_tolstring(L, 1, &n);
    if (!name || !vm->host->call) return sv_raise(L, "Invalid command passed to redis.acl_check_cmd()");
    /* With no ACL users every command is allowed: only its existence is
     * checked, by the host (COMMAND INFO answers an empty entry for none). */
    {
        slice argv[3] = {{"COMMAND", 7}, {"INFO", 4}, {name, n}};
        vm->reply.len = vm->reply.off = 0;
        vm->host->call(vm->host->ctx, 3, argv, 2, &vm->reply);
        if (vm->reply.len >= 6 && memcmp(vm->reply.data, "*1\r\n*-1", 7) == 0)
            return sv_raise(L, "Invalid command passed to redis.acl_check_cmd()");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- math.random, as Redis's: rand48, one sequence for the process ---- */

static uint32_t rand48_next(script_vm *vm)
{
    vm->rand = (vm->rand * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
    return (uint32_t)(vm->rand >> 17);
}

static int l_random(lua_State *L)
{
    const uint32_t max = 0x7fffffff;
    lua_Number r = (lua_Number)(rand48_next(vm_of(L)) % max) / (lua_Number)max;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1), u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int l_randomseed(lua_State *L)
{
    vm_of(L)->rand = ((uint64_t)(uint32_t)luaL_checkint(L, 1) << 16) | 0x330E;
    return 0;
}

/* ---- the sandbox ---- */

static int ro_refuse(lua_State *L) { return luaL_error(L, "Attempt to modify a readonly table"); }

int sv_no_global(lua_State *L)
{
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                      lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

/* The real table behind a proxy at index i, pushed; or i's value. */
static void see_through(lua_State *L, int i)
{
    sv_reg_get(L, &K_PROXIES);
    lua_pushvalue(L, i);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushvalue(L, i);
    }
}

static int is_proxy(lua_State *L, int i)
{
    int yes;
    sv_reg_get(L, &K_PROXIES);
    lua_pushvalue(L, i);
    lua_rawget(L, -2);
    yes = !lua_isnil(L, -1);
    lua_pop(L, 2);
    return yes;
}

static int refuse_plain(lua_State *L)
{
    lua_pushstring(L, "Attempt to modify a readonly table");
    return lua_error(L);
}

static int l_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (is_proxy(L, 1)) return refuse_plain(L);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int l_rawget(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    see_through(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int l_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
    if (is_proxy(L, 1)) return refuse_plain(L);
    if (luaL_getmetafield(L, 1, "__metatable")) return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int l_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    see_through(L, 1);
    lua_pushvalue(L, 2);
    if (lua_next(L, -2)) return 2;
    lua_pushnil(L);
    return 1;
}

static int l_pairs(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1));   /* our next */
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* pcall, as Redis's: an error table (as redis.call raises) is caught as
 * its text. */
static int l_lua_pcall(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc == 0) {   /* nothing to call: Redis's answers false */
        lua_pushboolean(L, 0);
        lua_pushstring(L, "attempt to call a nil value");
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1)) lua_replace(L, -2);
            else lua_pop(L, 1);
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

/* loadstring, refusing bytecode as Redis's Lua does: its parser reads the
 * signature byte as text and stops there. */
static int l_loadstring(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *name = luaL_optstring(L, 2, s);
    if (n && s[0] == LUA_SIGNATURE[0]) {
        char id[LUA_IDSIZE];
        /* the chunk's name as Lua prints it: [string "first line..."] */
        const char *nl = strchr(name, '\n');
        size_t len = nl ? (size_t)(nl - name) : strlen(name), room = LUA_IDSIZE - 15;
        if (*name == '=' || *name == '@') {
            snprintf(id, sizeof id, "%s", name + 1);
        } else if (len > room || nl) {
            snprintf(id, sizeof id, "[string \"%.*s...\"]", (int)(len > room ? room : len), name);
        } else {
            snprintf(id, sizeof id, "[string \"%.*s\"]", (int)len, name);
        }
        lua_pushnil(L);
        lua_pushfstring(L, "%s:1: unexpected symbol near 'char(%d)'", id, LUA_SIGNATURE[0]);
        return 2;
    }
    if (luaL_loadbuffer(L, s, n, name) == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

/* Replace the table at index i by a read-only proxy of it (pushed). */
void sv_push_proxy(lua_State *L, int i)
{
    i = i < 0 ? lua_gettop(L) + i + 1 : i;
    lua_newtable(L);                 /* proxy */
    lua_newtable(L);                 /* its metatable */
    lua_pushvalue(L, i);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_refuse);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    sv_reg_get(L, &K_PROXIES);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, i);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void sv_set_fn(lua_State *L, const char *name, lua_CFunction f)
{
    lua_pushcfunction(L, f);
    lua_setfield(L, -2, name);
}

void sv_set_num(lua_State *L, const char *name, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

static void open_lib(lua_State *L, const char *name, lua_CFunction f, int set_global)
{
    int top = lua_gettop(L);
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (set_global && lua_istable(L, -1)) lua_setglobal(L, name);
    lua_settop(L, top);
}

static void build_redis(lua_State *L, int functions)
{
    lua_newtable(L);
    sv_set_fn(L, "call", l_call);
    sv_set_fn(L, "pcall", l_pcall);
    sv_set_fn(L, "log", l_log);
    sv_set_fn(L, "setresp", l_setresp);
    sv_set_fn(L, "sha1hex", l_sha1hex);
    sv_set_fn(L, "error_reply", l_error_reply);
    sv_set_fn(L, "status_reply", l_status_reply);
    sv_set_fn(L, "set_repl", l_set_repl);
    if (!functions) {   /* EVAL's alone */
        sv_set_fn(L, "replicate_commands", l_true);
        sv_set_fn(L, "breakpoint", l_false);
        sv_set_fn(L, "debug", l_nothing);
    }
    sv_set_fn(L, "acl_check_cmd", l_acl_check_cmd);
    sv_set_constants(L);
    sv_set_num(L, "REPL_NONE", 0);
    sv_set_num(L, "REPL_AOF", 1);
    sv_set_num(L, "REPL_SLAVE", 2);
    sv_set_num(L, "REPL_REPLICA", 2);
    sv_set_num(L, "REPL_ALL", 3);
    lua_setglobal(L, "redis");
}

void sv_open(script_vm *vm)
{
    static const char *const gone[] = {"print", "setfenv", "getfenv", "newproxy", "dofile", "loadfile",
                                       "module", "require"};
    static const char *const libs[] = {"string", "table", "math", "coroutine", "redis",
                                       "cjson", "bit", "cmsgpack", "struct"};
    lua_State *L = lua_newstate(vm_alloc, vm);
    if (!L) abort();   /* no memory for a new state at all */
    vm->L = L;
    lua_atpanic(L, l_panic);
    lua_newtable(L);   /* proxy -> real, weak in neither: the proxies live as long as the state */
    lua_pushlightuserdata(L, &K_PROXIES);
    lua_insert(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    open_lib(L, "", luaopen_base, 0);
    open_lib(L, LUA_TABLIBNAME, luaopen_table, 0);
    open_lib(L, LUA_STRLIBNAME, luaopen_string, 0);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math, 0);
    open_lib(L, "cjson", luaopen_cjson, 1);
    open_lib(L, "bit", luaopen_bit, 1);
    open_lib(L, "cmsgpack", luaopen_cmsgpack, 1);
    open_lib(L, "struct", luaopen_struct, 1);
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, gone[i]);
    }
    build_redis(L, vm->functions);
    lua_getglobal(L, "math");
    sv_set_fn(L, "random", l_random);
    sv_set_fn(L, "randomseed", l_randomseed);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_loadstring);
    lua_setglobal(L, "loadstring");
    lua_pushcfunction(L, l_rawset);
    lua_setglobal(L, "rawset");
    lua_pushcfunction(L, l_lua_pcall);
    lua_setglobal(L, "pcall");
    lua_pushcfunction(L, l_rawget);
    lua_setglobal(L, "rawget");
    lua_pushcfunction(L, l_setmetatable);
    lua_setglobal(L, "setmetatable");
    lua_pushcfunction(L, l_next);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "next");
    lua_pushcclosure(L, l_pairs, 1);
    lua_setglobal(L, "pairs");
    lua_pushcfunction(L, err_handler);
    if (!vm->functions) {
        lua_pushvalue(L, -1);
        lua_setglobal(L, "__redis__err__handler");
    }
    lua_pushlightuserdata(L, &K_ERRH);
    lua_insert(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, &K_SCRIPTS);
    lua_newtable(L);
    lua_rawset(L, LUA_REGISTRYINDEX);

    /* The libraries behind proxies, then the globals themselves. */
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        lua_getglobal(L, libs[i]);
        if (!lua_istable(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        sv_push_proxy(L, -1);
        lua_setglobal(L, libs[i]);
        lua_pop(L, 1);
    }
    /* the string metatable: methods through the string proxy, and itself
     * shown as a proxy */
    lua_pushstring(L, "");
    lua_getmetatable(L, -1);
    lua_getglobal(L, "string");
    lua_setfield(L, -2, "__index");
    sv_push_proxy(L, -1);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    lua_pushvalue(L, LUA_GLOBALSINDEX);              /* the real globals */
    lua_newtable(L);                                 /* reading a missing one fails */
    lua_pushcfunction(L, sv_no_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushlightuserdata(L, &K_GLOBALS);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    sv_push_proxy(L, -1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "_G");                       /* real._G is the proxy */
    lua_pushlightuserdata(L, &sv_key_gmeta);         /* its metatable, for FUNCTION LOAD */
    lua_getmetatable(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_replace(L, LUA_GLOBALSINDEX);                /* every function sees the proxy */
    lua_pop(L, 1);
    if (vm->functions) sv_functions_open(L);
}

int script_available(void) { return 1; }

script_vm *script_vm_new(int functions)
{
    script_vm *vm = calloc(1, sizeof *vm);
    if (!vm) return NULL;
    vm->functions = functions;
    vm->rand = RAND_SEED;
    sv_open(vm);
    return vm;
}

void script_vm_free(script_vm *vm)
{
    if (!vm) return;
    if (vm->functions) sv_functions_close(vm);
    lua_close(vm->L);
    buf_free(&vm->reply);
    buf_free(&vm->nums);
    free(vm->argv);
    free(vm);
}

void script_vm_flush(script_vm *vm)
{
    if (vm->functions) sv_functions_close(vm);
    lua_close(vm->L);
    atomic_store(&vm->nscripts, 0);
    atomic_store(&vm->body_bytes, 0);
    sv_open(vm);
}

void script_vm_set_limit(script_vm *vm, size_t bytes) { vm->limit = bytes; }

size_t script_vm_memory(const script_vm *vm) { return atomic_load_explicit(&vm->mem, memory_order_relaxed); }

size_t script_vm_count(const script_vm *vm, size_t *body_bytes)
{
    if (body_bytes) *body_bytes = atomic_load(&vm->body_bytes);
    return atomic_load(&vm->nscripts);
}

/* ---- shebangs ---- */

const char *sv_word(const char **p, const char *end, size_t *n)
{
    const char *w;
    while (*p < end && **p == ' ') (*p)++;
    if (*p == end) return NULL;
    for (w = *p; *p < end && **p != ' '; (*p)++) {}
    *n = (size_t)(*p - w);
    return w;
}

void sv_set_constants(lua_State *L)
{
    sv_set_num(L, "LOG_DEBUG", 0);
    sv_set_num(L, "LOG_VERBOSE", 1);
    sv_set_num(L, "LOG_NOTICE", 2);
    sv_set_num(L, "LOG_WARNING", 3);
    sv_set_num(L, "REDIS_VERSION_NUM", 0x07000F);
    lua_pushstring(L, "7.0.15");
    lua_setfield(L, -2, "REDIS_VERSION");
}

/* "#!lua [flags=a,b] ..." on the first line: its flags, and where the body
 * starts (at the line's end, so line numbers stay). -1 with err set. */
static int shebang(const char *body, size_t n, unsigned *flags, size_t *skip, buf *err)
{
    static const struct { const char *name; unsigned flag; } names[] = {
        {"no-writes", SCRIPT_NO_WRITES},     {"allow-oom", SCRIPT_ALLOW_OOM},
        {"allow-stale", SCRIPT_ALLOW_STALE}, {"no-cluster", SCRIPT_NO_CLUSTER},
        {"allow-cross-slot-keys", SCRIPT_CROSS_SLOT},
    };
    const char *nl, *p, *end;
    *flags = 0, *skip = 0;
    if (n < 2 || body[0] != '#' || body[1] != '!') return 0;
    nl = memchr(body, '\n', n);
    if (!nl) {
        buf_printf(err, "ERR Invalid script shebang");
        return -1;
    }
    end = nl;
    *skip = (size_t)(end - body);
    *flags = SCRIPT_SHEBANG;
    p = body + 2;
    while (p < end && *p != ' ') p++;   /* the engine: up to the first space */
    if (p - body != 5 || memcmp(body + 2, "lua", 3) != 0) {
        buf_printf(err, "ERR Unexpected engine in script shebang: %.*s", (int)(p - body), body);
        return -1;
    }
    for (;;) {
        size_t len;
        const char *w = sv_word(&p, end, &len);
        if (!w) break;
        if (len >= 6 && memcmp(w, "flags=", 6) == 0) {
            const char *f = w + 6, *wend = w + len;
            while (f < wend) {
                const char *c = memchr(f, ',', (size_t)(wend - f));
                size_t flen = c ? (size_t)(c - f) : (size_t)(wend - f), i;
                for (i = 0; i < sizeof names / sizeof names[0]; i++)
                    if (strlen(names[i].name) == flen && memcmp(names[i].name, f, flen) == 0) break;
                if (i == sizeof names / sizeof names[0]) {
                    buf_printf(err, "ERR Unexpected flag in script shebang: %.*s", (int)flen, f);
                    return -1;
                }
                *flags |= names[i].flag;
                f += flen + (c != NULL);
            }
        } else {
            buf_printf(err, "ERR Unknown lua shebang option: %.*s", (int)len, w);
            return -1;
        }
    }
    return 0;
}

/* ---- loading and running ---- */

static void lower_sha(const char *sha, size_t n, char out[41])
{
    for (size_t i = 0; i < 40; i++) out[i] = (char)(i < n && sha[i] >= 'A' && sha[i] <= 'Z' ? sha[i] + 32 : (i < n ? sha[i] : 0));
    out[40] = '\0';
}

int script_vm_has(script_vm *vm, const char *sha, size_t n, unsigned *flags)
{
    lua_State *L = vm->L;
    char key[41];
    int found;
    if (n != 40) return 0;
    lower_sha(sha, n, key);
    sv_reg_get(L, &K_SCRIPTS);
    lua_pushlstring(L, key, 40);
    lua_rawget(L, -2);
    found = lua_istable(L, -1);
    if (found && flags) {
        lua_rawgeti(L, -1, 2);
        *flags = (unsigned)lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return found;
}
int script_vm_has_body(script_vm *vm, const char *body, size_t n)
{
    char sha[41];
    sha1_hex(body, n, sha);
    return script_vm_has(vm, sha, 40, NULL);
}

int script_vm_load(script_vm *vm, const char *body, size_t n, char sha[41], unsigned *flags, buf *err)
{
    lua_State *L = vm->L;
    size_t skip;
    int rc;
    sha1_hex(body, n, sha);
    if (script_vm_has(vm, sha, 40, flags)) return 0;
    if (shebang(body, n, flags, &skip, err) < 0) return -1;
    vm->bounded = 1;
    rc = luaL_loadbuffer(L, body + skip, n - skip, "@user_script");
    vm->bounded = 0;
    if (rc) {
        buf_printf(err, "ERR Error compiling script (new function): %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    /* scripts[sha] = {function, flags}: one lookup finds both */
    lua_createtable(L, 2, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, *flags);
    lua_rawseti(L, -2, 2);
    sv_reg_get(L, &K_SCRIPTS);
    lua_insert(L, -2);
    lua_setfield(L, -2, sha);
    lua_pop(L, 1);
    atomic_fetch_add(&vm->nscripts, 1);
    atomic_fetch_add(&vm->body_bytes, n);
    return 0;
}

static void set_array(lua_State *L, const char *name, const slice *v, int n)
{
    sv_reg_get(L, &K_GLOBALS);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].n);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, name);   /* the real table has no __newindex */
    lua_pop(L, 1);
}

/* A Lua value (the script's result) as a reply: for a client of protocol
 * resp, by the rules of the script's protocol sresp. */
static void lua_to_reply(lua_State *L, int resp, int sresp, buf *out)
{
    int t = lua_type(L, -1);
    if (!lua_checkstack(L, 4)) {
        resp_error(out, "ERR reached lua stack limit");
        return;
    }
    switch (t) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        resp_bulk(out, s, n);
        return;
    }
    case LUA_TBOOLEAN:
        if (sresp == 2) {
            if (lua_toboolean(L, -1)) resp_int(out, 1);
            else if (resp == 3) resp3_null(out);
            else resp_null(out);
        } else if (resp == 3) {
            resp3_bool(out, lua_toboolean(L, -1));
        } else {
            resp_int(out, lua_toboolean(L, -1));
        }
        return;
    case LUA_TNUMBER: {
        double d = lua_tonumber(L, -1);
        /* truncated, as the x86 conversion Redis relies on: out of range
         * (and NaN) is the most negative integer */
        resp_int(out, d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? (long long)d : LLONG_MIN);
        return;
    }
    case LUA_TTABLE: {
        size_t n;
        lua_getfield(L, -1, "err");
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tolstring(L, -1, &n);
            resp_error_len(out, s, n);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "ok");
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tolstring(L, -1, &n);
            resp_line_safe(out, '+', s, n);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "double");
        if (lua_type(L, -1) == LUA_TNUMBER) {
            char tmp[64];
            double d = lua_tonumber(L, -1);
            int len = isinf(d) ? snprintf(tmp, sizeof tmp, d > 0 ? "inf" : "-inf")
                               : snprintf(tmp, sizeof tmp, "%.17g", d);
            if (resp == 3) resp3_double(out, tmp, (size_t)len);
            else resp_bulk(out, tmp, (size_t)len);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "big_number");
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *s = lua_tolstring(L, -1, &n);
            if (resp == 3) resp_line_safe(out, '(', s, n);
            else resp_bulk(out, s, n);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "verbatim_string");
        if (lua_type(L, -1) == LUA_TTABLE) {
            size_t fn;
            const char *fmt, *str;
            lua_getfield(L, -1, "format");
            lua_getfield(L, -2, "string");
            fmt = lua_tolstring(L, -2, &fn);
            str = lua_tolstring(L, -1, &n);
            if (fmt && str && lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                char f[4] = "txt";
                memcpy(f, fmt, fn < 3 ? fn : 3);
                if (resp == 3) resp3_verbatim(out, f, str, n);
                else resp_bulk(out, str, n);
                lua_pop(L, 3);
                return;
            }
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "map");
        if (lua_type(L, -1) == LUA_TTABLE) {
            long long count = 0;
            size_t token = resp_array_defer(out);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                lua_to_reply(L, resp, sresp, out);   /* the key */
                lua_pop(L, 1);
                lua_to_reply(L, resp, sresp, out);   /* the value */
                lua_pop(L, 1);
                count++;
            }
            if (resp == 3) resp_agg_fill(out, token, '%', count);
            else resp_array_fill(out, token, 2 * count);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "set");
        if (lua_type(L, -1) == LUA_TTABLE) {
            long long count = 0;
            size_t token = resp_array_defer(out);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                lua_pushvalue(L, -1);
                lua_to_reply(L, resp, sresp, out);
                lua_pop(L, 1);
                count++;
            }
            resp_agg_fill(out, token, resp == 3 ? '~' : '*', count);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
        {
            long long count = 0;
            size_t token = resp_array_defer(out);
            for (int j = 1;; j++) {
                lua_rawgeti(L, -1, j);
                if (lua_isnil(L, -1)) {
                    lua_pop(L, 1);
                    break;
                }
                lua_to_reply(L, resp, sresp, out);
                lua_pop(L, 1);
                count++;
            }
            resp_array_fill(out, token, count);
        }
        return;
    }
    default:   /* nil, functions, ...: no value */
        if (resp == 3) resp3_null(out);
        else resp_null(out);
    }
}

static void hook(lua_State *L, lua_Debug *ar)
{
    script_vm *vm = vm_of(L);
    const char *stop = vm->host && vm->host->tick ? vm->host->tick(vm->host->ctx) : NULL;
    (void)ar;
    if (stop) {
        /* every instruction from now on fails too, so that a pcall in the
         * script cannot swallow it */
        lua_sethook(L, hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
        lua_pushstring(L, stop);
        lua_error(L);
    }
}

/* The error a script ended with, as its reply. */
static void error_reply(lua_State *L, const char *sha, buf *out)
{
    size_t n = 0;
    const char *msg = NULL;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        msg = lua_tolstring(L, -1, &n);
        lua_pop(L, 1);
    } else {
        msg = lua_tolstring(L, -1, &n);   /* a memory error: no handler ran */
    }
    {
        buf e = {0};
        if (!lua_istable(L, -1)) buf_append(&e, "ERR ", 4);
        buf_append(&e, msg ? msg : "unknown error", msg ? n : 13);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "source");
            lua_getfield(L, -2, "line");
            if (lua_isstring(L, -2) && lua_isnumber(L, -1))
                buf_printf(&e, " script: %s, on %s:%d.", sha, lua_tostring(L, -2), (int)lua_tonumber(L, -1));
            lua_pop(L, 2);
        }
        resp_error_len(out, e.data, e.len);
        buf_free(&e);
    }
}

void sv_run(script_vm *vm, int base, const char *name, int nargs, int resp, const script_host *host, buf *out)
{
    lua_State *L = vm->L;
    vm->host = host;
    vm->resp = 2;
    lua_sethook(L, hook, LUA_MASKCOUNT, HOOK_EVERY);
    vm->bounded = 1;
    if (lua_pcall(L, nargs, 1, base + 1)) error_reply(L, name, out);
    else lua_to_reply(L, resp, vm->resp, out);
    vm->bounded = 0;
    lua_sethook(L, NULL, 0, 0);
    vm->host = NULL;
    lua_settop(L, base);
    if (vm->limit && script_vm_memory(vm) > vm->limit / 4 * 3) {
        lua_gc(L, LUA_GCCOLLECT, 0);   /* what a failed script left is garbage now */
        vm->runs = 0;
    } else if (++vm->runs >= GC_EVERY) {
        lua_gc(L, LUA_GCSTEP, GC_EVERY);
        vm->runs = 0;
    }
}

void script_vm_run(script_vm *vm, const char *sha_in, const slice *keys, int nkeys, const slice *args,
                   int nargs, int resp, const script_host *host, buf *out)
{
    lua_State *L = vm->L;
    char sha[41];
    int base = lua_gettop(L);
    unsigned flags;
    lower_sha(sha_in, 40, sha);
    sv_reg_get(L, &K_ERRH);
    sv_reg_get(L, &K_SCRIPTS);
    lua_pushlstring(L, sha, 40);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (!lua_istable(L, -1)) {
        lua_settop(L, base);
        resp_error(out, "NOSCRIPT No matching script. Please use EVAL.");
        return;
    }
    lua_rawgeti(L, -1, 2);
    flags = (unsigned)lua_tonumber(L, -1);
    lua_pop(L, 1);
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);   /* the function, above the handler */
    if (host->admit && host->admit(host->ctx, flags, sha) < 0) {
        lua_settop(L, base);
        return;
    }
    set_array(L, "KEYS", keys, nkeys);
    set_array(L, "ARGV", args, nargs);
    sv_run(vm, base, sha, 0, resp, host, out);
}
#else /* no Lua */

int script_available(void) { return 0; }
script_vm *script_vm_new(int functions)
{
    (void)functions;
    return NULL;
}
void script_vm_free(script_vm *vm) { (void)vm; }
int script_vm_load(script_vm *vm, const char *body, size_t n, char sha[41], unsigned *flags, buf *err)
{
    (void)vm, (void)body, (void)n, (void)sha, (void)flags, (void)err;
    return -1;
}
int script_vm_has(script_vm *vm, const char *sha, size_t n, unsigned *flags)
{
    (void)vm, (void)sha, (void)n, (void)flags;
    return 0;
}
void script_vm_run(script_vm *vm, const char *sha, const slice *keys, int nkeys, const slice *args,
                   int nargs, int resp, const script_host *host, buf *out)
{
    (void)vm, (void)sha, (void)keys, (void)nkeys, (void)args, (void)nargs, (void)resp, (void)host, (void)out;
}
void script_vm_flush(script_vm *vm) { (void)vm; }
int script_vm_has_body(script_vm *vm, const char *body, size_t n)
{
    (void)vm, (void)body, (void)n;
    return 0;
}
void script_vm_set_limit(script_vm *vm, size_t bytes) { (void)vm, (void)bytes; }

size_t script_vm_memory(const script_vm *vm) { (void)vm; return 0; }
size_t script_vm_count(const script_vm *vm, size_t *body_bytes)
{
    (void)vm;
    if (body_bytes) *body_bytes = 0;
    return 0;
}

#endif
