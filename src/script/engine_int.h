/* engine_int.h - what the engine's files share (engine.c: the state, the
 * sandbox, the conversions; functions.c: libraries and FCALL). Not for
 * the layers above: they use script.h. */
#ifndef KASI_SCRIPT_ENGINE_INT_H
#define KASI_SCRIPT_ENGINE_INT_H

#ifdef KASI_LUA

#include <lauxlib.h>
#include <lua.h>
#include <stdatomic.h>

#include "script/script.h"

struct script_vm {
    lua_State *L;
    int functions;           /* FUNCTION's state: libraries, no KEYS/ARGV, no EVAL-only helpers */
    atomic_size_t mem;       /* the Lua heap */
    size_t limit;            /* its bound (0: none) */
    int bounded;             /* the bound applies now (Lua can catch the error) */
    atomic_size_t nscripts, body_bytes;   /* INFO reads them from any thread */
    uint64_t rand;           /* math.random's 48 bits: not reset by SCRIPT FLUSH */
    int runs;                /* since the last GC step */
    /* while a script runs */
    const script_host *host;
    int resp;                /* redis.setresp */
    buf reply;               /* a command's reply */
    buf nums;                /* numeric arguments as text */
    slice *argv;
    int argv_cap;
    /* functions */
    script_lib *libs;        /* every library, newest first */
    script_lib *loading;     /* the library whose code runs now (FUNCTION LOAD) */
    int64_t load_deadline;   /* ms: its code must have run by then */
    atomic_size_t nlibs, nfns;
};

/* Registry keys: the real globals, the error handler, the metatable of the
 * globals' proxy (its __index is what code reads). */
extern char sv_key_globals, sv_key_errh, sv_key_gmeta;

script_vm *sv_of(lua_State *L);
void sv_reg_get(lua_State *L, char *key);
/* {err="CODE msg"} from "-CODE msg" or "msg", pushed; raised. */
void sv_push_error(lua_State *L, const char *s, size_t n);
int sv_raise(lua_State *L, const char *msg);
/* The __index that says a global does not exist. */
int sv_no_global(lua_State *L);
/* A read-only proxy of the table at i, pushed. */
void sv_push_proxy(lua_State *L, int i);
void sv_set_fn(lua_State *L, const char *name, lua_CFunction f);
void sv_set_num(lua_State *L, const char *name, lua_Number v);
/* redis.LOG_* and REDIS_VERSION(_NUM), in the table on top. */
void sv_set_constants(lua_State *L);
/* The next space-separated word from *p to end (NULL: none), its length. */
const char *sv_word(const char **p, const char *end, size_t *n);
/* Open the state (the sandbox, the libraries) for vm->functions' kind. */
void sv_open(script_vm *vm);
/* Call the function at base + 2 (the error handler at base + 1) with the
 * nargs values above it; its result, or its error named `name` in the
 * suffix Redis adds, as a reply for protocol resp. */
void sv_run(script_vm *vm, int base, const char *name, int nargs, int resp, const script_host *host, buf *out);
/* The functions' state: the load API (functions.c). */
void sv_functions_open(lua_State *L);
void sv_functions_close(script_vm *vm);

#endif
#endif
