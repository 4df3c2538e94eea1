/* script.h - the Lua engine: Redis 7.0's scripting environment.
 *
 * One Lua 5.1 state holds the compiled scripts (by SHA-1), the sandbox and
 * the `redis` library. Its globals are read-only, as Redis 7.0's are: a
 * script cannot create a global, change a library or reach the file
 * system, the network or the process. Scripts see KEYS and ARGV, and run
 * commands through redis.call and redis.pcall; their replies become Lua
 * values, and the script's result becomes a reply, by Redis's conversion
 * rules in RESP2 and RESP3.
 *
 * The engine knows Lua and RESP, not commands: a command a script runs is
 * handed to the host's call(), which answers with the reply's bytes. The
 * caller makes sure only one thread uses the engine at a time (scripts run
 * while no other command runs anywhere).
 *
 * Built without Lua (no KASI_LUA), every function here reports that
 * scripting is not available. */
#ifndef KASI_SCRIPT_SCRIPT_H
#define KASI_SCRIPT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/slice.h"

/* A script's shebang flags (#!lua flags=...), and whether it had one. */
#define SCRIPT_SHEBANG 0x01u        /* "#!lua" was given: the flags are declared */
#define SCRIPT_NO_WRITES 0x02u
#define SCRIPT_ALLOW_OOM 0x04u
#define SCRIPT_ALLOW_STALE 0x08u
#define SCRIPT_NO_CLUSTER 0x10u
#define SCRIPT_CROSS_SLOT 0x20u

typedef struct script_vm script_vm;

/* FUNCTION's libraries: a library is Lua code that registers functions
 * (redis.register_function) when it is loaded. */
typedef struct script_lib script_lib;
typedef struct script_fn {
    char *name;
    char *desc;              /* NULL: none given */
    unsigned flags;          /* SCRIPT_* (SCRIPT_SHEBANG always: flags are declared) */
    int ref;                 /* the callback, in the Lua registry */
    script_lib *lib;
} script_fn;
struct script_lib {
    char *name;
    char *code;
    size_t len;
    script_fn *fns;
    int nfns;
    script_lib *next;
};

/* What a running script asks of the server. */
typedef struct script_host {
    void *ctx;
    /* Run a command (argv[0] is its name) for the script; its reply, in
     * protocol resp (2 or 3), is appended to out. */
    void (*call)(void *ctx, int argc, const slice *argv, int resp, buf *out);
    /* redis.log: level 0 (debug) .. 3 (warning). */
    void (*log)(void *ctx, int level, const char *msg, size_t n);
    /* Called every so many Lua instructions: non-zero stops the script
     * with that error text (SCRIPT KILL). */
    const char *(*tick)(void *ctx);
    /* script_vm_run found the script, of these flags, named name: 0 runs
     * it, -1 does not (the host replied). */
    int (*admit)(void *ctx, unsigned flags, const char *name);
} script_host;

/* 1 when the server was built with Lua. */
int script_available(void);
/* EVAL's state (functions 0), or FUNCTION's (1). */
script_vm *script_vm_new(int functions);
void script_vm_free(script_vm *vm);

/* Compile a script and keep it under its SHA-1 (sha, 40 hex digits and a
 * NUL, is set either way); its flags in *flags. 0, or -1 with the error
 * reply's text (no leading '-') in err. */
int script_vm_load(script_vm *vm, const char *body, size_t n, char sha[41], unsigned *flags, buf *err);
/* Whether a script of that SHA-1 (any case) is kept; its flags. */
int script_vm_has(script_vm *vm, const char *sha, size_t n, unsigned *flags);
/* Whether the script with that body is kept. */
int script_vm_has_body(script_vm *vm, const char *body, size_t n);
/* Run a kept script; its result, as a reply for a client of protocol
 * resp, goes to out (an error reply when it failed). */
void script_vm_run(script_vm *vm, const char *sha, const slice *keys, int nkeys, const slice *args,
                   int nargs, int resp, const script_host *host, buf *out);
/* Forget every script (SCRIPT FLUSH): a new Lua state. */
void script_vm_flush(script_vm *vm);
/* ---- FUNCTION's state ---- */

/* Load a library (its first line "#!lua name=<name>"): its code runs once
 * and must register at least one function. With replace, a library of the
 * same name is replaced, else that is an error (in RESTORE's words with
 * restore). 0, or -1 with the error reply's text in err (no leading '-'). */
int script_lib_load(script_vm *vm, const char *code, size_t n, int replace, int restore, buf *err);
int script_lib_delete(script_vm *vm, const char *name, size_t n);   /* -1: no such library */
script_lib *script_lib_find(script_vm *vm, const char *name, size_t n);
script_lib *script_lib_first(script_vm *vm);   /* then ->next */
void script_lib_counts(const script_vm *vm, size_t *libs, size_t *fns);   /* any thread */
const script_fn *script_fn_find(script_vm *vm, const char *name, size_t n);
/* Run a function as FCALL does (see script_vm_run). */
void script_fn_call(script_vm *vm, const script_fn *fn, const slice *keys, int nkeys, const slice *args,
                    int nargs, int resp, const script_host *host, buf *out);

/* Bound the Lua heap: past it, what a script allocates fails with Lua's
 * "not enough memory" (0: no bound). */
void script_vm_set_limit(script_vm *vm, size_t bytes);
/* Bytes the Lua heap holds; scripts kept and the bytes of their bodies. */
size_t script_vm_memory(const script_vm *vm);
size_t script_vm_count(const script_vm *vm, size_t *body_bytes);

#endif
