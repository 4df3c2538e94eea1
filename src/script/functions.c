/* functions.c - FUNCTION's libraries in their own Lua state (see
 * script.h), as Redis 7.0 keeps them apart from EVAL's scripts.
 *
 * A library's code runs once, when it is loaded, with other globals than
 * its functions get later: only `redis` with register_function, log and
 * the version and log-level constants (reading anything else fails as a
 * missing global, writing fails as the read-only globals do). The globals'
 * proxy is switched to that table for the load and back after it, so the
 * functions it registered, which share the proxy, see the usual globals
 * when they run. The load has 500 ms: an endless loop in a library fails
 * it rather than the server. */
#include "script/script.h"

#ifdef KASI_LUA

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "script/engine_int.h"

#define LOAD_TIMEOUT_MS 500

static char K_LOADAPI, K_FNINDEX;

static const struct { const char *name; unsigned flag; } fn_flags[] = {
    {"no-writes", SCRIPT_NO_WRITES},     {"allow-oom", SCRIPT_ALLOW_OOM},
    {"allow-stale", SCRIPT_ALLOW_STALE}, {"no-cluster", SCRIPT_NO_CLUSTER},
    {"allow-cross-slot-keys", SCRIPT_CROSS_SLOT},
};

#define BAD_NAME "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

static int name_ok(const char *p, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
              p[i] == '_'))
            return 0;
    return 1;
}

static char *dup_n(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void lib_free(lua_State *L, script_lib *lib)
{
    for (int i = 0; i < lib->nfns; i++) {
        if (L) luaL_unref(L, LUA_REGISTRYINDEX, lib->fns[i].ref);
        free(lib->fns[i].name);
        free(lib->fns[i].desc);
    }
    free(lib->fns);
    free(lib->name);
    free(lib->code);
    free(lib);
}

/* ---- redis.register_function, at load time ---- */

static int read_flags(lua_State *L, int idx, unsigned *flags)
{
    if (!lua_istable(L, idx)) return sv_raise(L, "flags argument to redis.register_function must be a table representing function flags");
    for (int j = 1;; j++) {
        size_t n, i;
        const char *f;
        lua_rawgeti(L, idx, j);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        f = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        for (i = 0; f && i < sizeof fn_flags / sizeof fn_flags[0]; i++)
            if (strlen(fn_flags[i].name) == n && memcmp(fn_flags[i].name, f, n) == 0) break;
        if (!f || i == sizeof fn_flags / sizeof fn_flags[0]) return sv_raise(L, "unknown flag given");
        *flags |= fn_flags[i].flag;
        lua_pop(L, 1);
    }
}

static int l_register_function(lua_State *L)
{
    script_vm *vm = sv_of(L);
    script_lib *lib = vm->loading;
    int argc = lua_gettop(L), cb;
    const char *name = NULL, *desc = NULL;
    size_t nlen = 0, dlen = 0;
    unsigned flags = SCRIPT_SHEBANG;
    script_fn *f;
    if (!lib) return sv_raise(L, "redis.register_function can only be called on FUNCTION LOAD command");
    if (argc == 1) {
        if (!lua_istable(L, 1))
            return sv_raise(L, "calling redis.register_function with a single argument is only applicable to "
                               "Lua table (representing named arguments).");
        cb = 0;
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            if (!strcmp(k, "function_name")) {
                if (lua_type(L, -1) != LUA_TSTRING)
                    return sv_raise(L, "function_name argument given to redis.register_function must be a string");
                name = lua_tolstring(L, -1, &nlen);
            } else if (!strcmp(k, "description")) {
                if (lua_type(L, -1) != LUA_TSTRING)
                    return sv_raise(L, "description argument given to redis.register_function must be a string");
                desc = lua_tolstring(L, -1, &dlen);
            } else if (!strcmp(k, "callback")) {
                if (!lua_isfunction(L, -1))
                    return sv_raise(L, "callback argument given to redis.register_function must be a function");
                cb = lua_gettop(L);
                lua_pushvalue(L, -2);   /* keep the value where it is: next needs the key on top */
                continue;
            } else if (!strcmp(k, "flags")) {
                read_flags(L, lua_gettop(L), &flags);
            } else {
                return sv_raise(L, "unknown argument given to redis.register_function");
            }
            lua_pop(L, 1);
        }
        if (!name) return sv_raise(L, "redis.register_function must get a function name argument");
        if (!cb) return sv_raise(L, "redis.register_function must get a callback argument");
    } else if (argc == 2) {
        if (lua_type(L, 1) != LUA_TSTRING) return sv_raise(L, "first argument to redis.register_function must be a string");
        if (!lua_isfunction(L, 2)) return sv_raise(L, "second argument to redis.register_function must be a function");
        name = lua_tolstring(L, 1, &nlen);
        cb = 2;
    } else {
        return sv_raise(L, "wrong number of arguments to redis.register_function");
    }
    if (!name_ok(name, nlen)) return sv_raise(L, BAD_NAME);
    for (int i = 0; i < lib->nfns; i++)
        if (strlen(lib->fns[i].name) == nlen && strncasecmp(lib->fns[i].name, name, nlen) == 0)
            return sv_raise(L, "Function already exists in the library");
    lib->fns = xrealloc(lib->fns, sizeof *lib->fns * (size_t)(lib->nfns + 1));
    f = &lib->fns[lib->nfns++];
    f->name = dup_n(name, nlen);
    f->desc = desc ? dup_n(desc, dlen) : NULL;
    f->flags = flags;
    f->lib = lib;
    lua_pushvalue(L, cb);
    f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int l_load_log(lua_State *L)
{
    /* the runtime redis.log, reached through the real globals */
    sv_reg_get(L, &sv_key_globals);
    lua_getfield(L, -1, "redis");
    lua_getfield(L, -1, "log");
    lua_insert(L, 1);
    lua_settop(L, lua_gettop(L) - 2);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

void sv_functions_open(lua_State *L)
{
    int api, redis;
    lua_pushlightuserdata(L, &K_FNINDEX);
    lua_newtable(L);   /* function name -> its script_fn */
    lua_rawset(L, LUA_REGISTRYINDEX);
    /* the load's globals: redis alone; anything else missing */
    lua_newtable(L);
    api = lua_gettop(L);
    lua_newtable(L);
    redis = lua_gettop(L);
    sv_set_fn(L, "register_function", l_register_function);
    sv_set_fn(L, "log", l_load_log);
    sv_set_constants(L);
    lua_newtable(L);
    lua_pushcfunction(L, sv_no_global);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    lua_setmetatable(L, redis);
    lua_setmetatable(L, api);
    sv_push_proxy(L, redis);
    lua_setfield(L, api, "redis");
    lua_pop(L, 1);   /* redis */
    lua_pushlightuserdata(L, &K_LOADAPI);
    lua_insert(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

void sv_functions_close(script_vm *vm)
{
    while (vm->libs) {
        script_lib *next = vm->libs->next;
        lib_free(NULL, vm->libs);   /* the state goes with its references */
        vm->libs = next;
    }
    atomic_store(&vm->nlibs, 0);
    atomic_store(&vm->nfns, 0);
}

/* ---- loading ---- */

/* The metadata line: "#!lua name=<name>". */
static int metadata(const char *code, size_t n, const char **name, size_t *nlen, size_t *skip, buf *err)
{
    const char *nl, *p, *end;
    *name = NULL;
    if (n < 2 || code[0] != '#' || code[1] != '!') {
        buf_printf(err, "ERR Missing library metadata");
        return -1;
    }
    nl = memchr(code, '\n', n);
    end = nl ? nl : code + n;
    *skip = (size_t)(end - code);
    p = code + 2;
    while (p < end && *p != ' ') p++;   /* the engine: up to the first space */
    if (p - code != 5 || memcmp(code + 2, "lua", 3) != 0) {
        buf_printf(err, "ERR Engine '%.*s' not found", (int)(p - code - 2), code + 2);
        return -1;
    }
    for (;;) {
        size_t len;
        const char *w = sv_word(&p, end, &len);
        if (!w) break;
        if (len >= 5 && memcmp(w, "name=", 5) == 0) {
            if (*name) {
                buf_printf(err, "ERR Invalid metadata value, name argument was given multiple times");
                return -1;
            }
            *name = w + 5;
            *nlen = len - 5;
        } else {
            buf_printf(err, "ERR Invalid metadata value given: %.*s", (int)len, w);
            return -1;
        }
    }
    if (!*name) {
        buf_printf(err, "ERR Library name was not given");
        return -1;
    }
    if (!name_ok(*name, *nlen)) {
        buf_printf(err, "ERR " BAD_NAME);
        return -1;
    }
    return 0;
}

static void load_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (util_now_ms() > sv_of(L)->load_deadline) {
        lua_sethook(L, load_hook, LUA_MASKLINE | LUA_MASKCOUNT, 1);
        lua_pushstring(L, "FUNCTION LOAD timeout");
        lua_error(L);
    }
}

/* Point the globals' proxy at the table under key (the load's API), or at
 * the real globals. */
static void globals_read(lua_State *L, char *key)
{
    sv_reg_get(L, &sv_key_gmeta);
    sv_reg_get(L, key);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* Function names are found whatever their case, as Redis's. */
static void push_lower(lua_State *L, const char *p, size_t n)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) luaL_addchar(&b, (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]));
    luaL_pushresult(&b);
}

static void index_set(lua_State *L, const script_fn *f, int on)
{
    sv_reg_get(L, &K_FNINDEX);
    push_lower(L, f->name, strlen(f->name));
    if (on) lua_pushlightuserdata(L, (void *)f);
    else lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

int script_lib_load(script_vm *vm, const char *code, size_t n, int replace, int restore, buf *err)
{
    lua_State *L = vm->L;
    const char *name;
    size_t nlen = 0, skip;
    int base = lua_gettop(L), rc;
    script_lib *old, *lib;
    if (metadata(code, n, &name, &nlen, &skip, err) < 0) return -1;
    old = script_lib_find(vm, name, nlen);
    if (old && !replace) {
        if (restore) buf_printf(err, "ERR Library %.*s already exists", (int)nlen, name);
        else buf_printf(err, "ERR Library '%.*s' already exists", (int)nlen, name);
        return -1;
    }
    sv_reg_get(L, &sv_key_errh);
    vm->bounded = 1;
    rc = luaL_loadbuffer(L, code + skip, n - skip, "@user_function");
    vm->bounded = 0;
    if (rc) {
        buf_printf(err, "ERR Error compiling function: %s", lua_tostring(L, -1));
        lua_settop(L, base);
        return -1;
    }
    lib = xcalloc(1, sizeof *lib);
    lib->name = dup_n(name, nlen);
    lib->code = dup_n(code, n);
    lib->len = n;
    vm->loading = lib;
    vm->load_deadline = util_now_ms() + LOAD_TIMEOUT_MS;
    globals_read(L, &K_LOADAPI);
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 10000);
    vm->bounded = 1;
    rc = lua_pcall(L, 0, 0, base + 1);
    vm->bounded = 0;
    lua_sethook(L, NULL, 0, 0);
    globals_read(L, &sv_key_globals);
    vm->loading = NULL;
    if (rc) {
        const char *msg = NULL;
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            msg = lua_tostring(L, -1);
        }
        buf_printf(err, "ERR Error registering functions: %s", msg ? msg : "unknown error");
        goto fail;
    }
    if (lib->nfns == 0) {
        buf_printf(err, "ERR No functions registered");
        goto fail;
    }
    for (int i = 0; i < lib->nfns; i++) {
        const script_fn *other = script_fn_find(vm, lib->fns[i].name, strlen(lib->fns[i].name));
        if (other && other->lib != old) {
            buf_printf(err, "ERR Function %s already exists", lib->fns[i].name);
            goto fail;
        }
    }
    if (old) script_lib_delete(vm, old->name, strlen(old->name));
    for (int i = 0; i < lib->nfns; i++) index_set(L, &lib->fns[i], 1);
    lib->next = vm->libs;
    vm->libs = lib;
    atomic_fetch_add(&vm->nlibs, 1);
    atomic_fetch_add(&vm->nfns, (size_t)lib->nfns);
    lua_settop(L, base);
    return 0;
fail:
    lua_settop(L, base);
    lib_free(L, lib);
    return -1;
}

script_lib *script_lib_find(script_vm *vm, const char *name, size_t n)
{
    for (script_lib *l = vm->libs; l; l = l->next)
        if (strlen(l->name) == n && memcmp(l->name, name, n) == 0) return l;
    return NULL;
}

script_lib *script_lib_first(script_vm *vm) { return vm->libs; }

int script_lib_delete(script_vm *vm, const char *name, size_t n)
{
    for (script_lib **pp = &vm->libs; *pp; pp = &(*pp)->next) {
        script_lib *l = *pp;
        if (strlen(l->name) != n || memcmp(l->name, name, n) != 0) continue;
        *pp = l->next;
        for (int i = 0; i < l->nfns; i++) index_set(vm->L, &l->fns[i], 0);
        atomic_fetch_sub(&vm->nlibs, 1);
        atomic_fetch_sub(&vm->nfns, (size_t)l->nfns);
        lib_free(vm->L, l);
        return 0;
    }
    return -1;
}

void script_lib_counts(const script_vm *vm, size_t *libs, size_t *fns)
{
    *libs = atomic_load(&vm->nlibs);
    *fns = atomic_load(&vm->nfns);
}

const script_fn *script_fn_find(script_vm *vm, const char *name, size_t n)
{
    lua_State *L = vm->L;
    const script_fn *f;
    sv_reg_get(L, &K_FNINDEX);
    push_lower(L, name, n);
    lua_rawget(L, -2);
    f = lua_touserdata(L, -1);
    lua_pop(L, 2);
    return f;
}

static void push_array(lua_State *L, const slice *v, int n)
{
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushlstring(L, v[i].p, v[i].n);
        lua_rawseti(L, -2, i + 1);
    }
}

void script_fn_call(script_vm *vm, const script_fn *fn, const slice *keys, int nkeys, const slice *args,
                    int nargs, int resp, const script_host *host, buf *out)
{
    lua_State *L = vm->L;
    int base = lua_gettop(L);
    sv_reg_get(L, &sv_key_errh);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fn->ref);
    push_array(L, keys, nkeys);
    push_array(L, args, nargs);
    sv_run(vm, base, fn->name, 2, resp, host, out);
}

#else /* no Lua */

int script_lib_load(script_vm *vm, const char *code, size_t n, int replace, int restore, buf *err)
{
    (void)vm, (void)code, (void)n, (void)replace, (void)restore, (void)err;
    return -1;
}
int script_lib_delete(script_vm *vm, const char *name, size_t n)
{
    (void)vm, (void)name, (void)n;
    return -1;
}
script_lib *script_lib_find(script_vm *vm, const char *name, size_t n)
{
    (void)vm, (void)name, (void)n;
    return NULL;
}
script_lib *script_lib_first(script_vm *vm)
{
    (void)vm;
    return NULL;
}
void script_lib_counts(const script_vm *vm, size_t *libs, size_t *fns)
{
    (void)vm;
    *libs = *fns = 0;
}
const script_fn *script_fn_find(script_vm *vm, const char *name, size_t n)
{
    (void)vm, (void)name, (void)n;
    return NULL;
}
void script_fn_call(script_vm *vm, const script_fn *fn, const slice *keys, int nkeys, const slice *args,
                    int nargs, int resp, const script_host *host, buf *out)
{
    (void)vm, (void)fn, (void)keys, (void)nkeys, (void)args, (void)nargs, (void)resp, (void)host, (void)out;
}

#endif
