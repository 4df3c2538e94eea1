/* scripting.c - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with Redis
 * 7.0's semantics and error texts.
 *
 * A script runs in the exclusive section (the rows say CMD_EXCLUSIVE):
 * no other command runs on any worker until it ends, so it is atomic, and
 * the one Lua state (script/script.h) is only ever used by one thread.
 * The commands it calls run through command_call with a session of the
 * script's own (the caller's domain, SELECT stays inside the script, the
 * protocol redis.setresp chose) and a reply buffer: no socket. Their
 * effects reach the AOF as they are made, as Redis 7 logs effects rather
 * than scripts; the script cache is not persisted, as in Redis. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmdstats.h"
#include "cmd/command.h"
#include "cmd/scripting.h"
#include "cmd/session.h"
#include "lib/log.h"
#include "lib/util.h"
#include "script/script.h"

/* EVAL's state and FUNCTION's: made on first use, in the exclusive
 * section; INFO reads them anywhere. */
static script_vm *_Atomic vm, *_Atomic fvm;

/* What other threads see of the script running: SCRIPT KILL and SHUTDOWN
 * NOSAVE come from workers that hold no gate (command_busy is set). */
enum { KILL_NONE, KILL_ASKED, KILL_SHUTDOWN };
static atomic_int kill_req;     /* KILL_* */
static atomic_int run_wrote;    /* the script running has written: SCRIPT KILL may not stop it */

#define SERVE_EVERY_MS 5       /* while busy, the script's own worker answers its clients this often */

/* The script running, for its commands and for SCRIPT KILL. */
typedef struct script_run {
    cmd_call *x;          /* the EVAL */
    session ss;           /* its commands' session */
    unsigned flags;       /* SCRIPT_* */
    int read_only;        /* EVAL_RO, or no-writes */
    int oom;              /* memory was full when it started: no first write */
    int wrote;            /* a write command ran */
    int64_t start_ms;
    int64_t served_ms;    /* when the busy script's worker last answered its clients */
    const char *sha;      /* the script's name: its SHA-1, or the function's name */
    const script_fn *fn;  /* FCALL's, or NULL */
    int admitted;         /* it passed its checks and has its session */
    int killed;
    int held;             /* its writes are held back from the AOF's file until it ends */
} script_run;

/* FUNCTION STATS's running_script: the function's name, its command and
 * when it began, under a lock (read by workers serving while busy). */
static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static queued_cmd running_cmd;
static char *running_name;
static int64_t running_start;

script_vm *scripting_vm(cmd_call *x, int functions)
{
    script_vm *_Atomic *slot = functions ? &fvm : &vm;
    if (!*slot) *slot = script_vm_new(functions);
    if (!*slot)
        reply_err(x, "ERR scripting is not available: this Kasi was built without Lua "
                     "(install liblua5.1-0-dev, lua-cjson-dev and lua-bitop-dev, then rebuild)");
    else script_vm_set_limit(*slot, (size_t)cfg_ll(&x->env->cfg->script_memory_max));
    return *slot;
}

script_vm *scripting_vm_if_made(int functions) { return functions ? fvm : vm; }

static script_vm *the_vm(cmd_call *x) { return scripting_vm(x, 0); }

/* redis.call: a command for the script, with Redis's checks first. */
static void run_call(void *ctx, int argc, const slice *argv, int resp, buf *out)
{
    script_run *r = ctx;
    cmd_env *env = r->x->env;
    const cmd_def *def = command_find(argc, argv);
    cmd_sink sink = {out, NULL, NULL};
    const char *why;
    if (!def) {
        resp_error(out, "ERR Unknown Redis command called from script");
        return;
    }
    if (def->arity > 0 ? argc != def->arity : argc < -def->arity) {
        resp_error(out, "ERR Wrong number of args calling Redis command from script");
        return;
    }
    if (def->flags & CMD_NOSCRIPT) {
        resp_error(out, "ERR This Redis command is not allowed from script");
        return;
    }
    if (def->flags & CMD_WRITE) {
        if (r->read_only) {
            resp_error(out, "ERR Write commands are not allowed from read-only scripts.");
            return;
        }
        if ((why = persist_write_denied(env->ps))) {
            resp_error(out, why);
            return;
        }
    }
    if ((def->flags & CMD_DENYOOM) && r->oom && !r->wrote) {
        resp_error(out, "OOM command not allowed when used memory > 'maxmemory'.");
        return;
    }
    if ((def->flags & CMD_DENYOOM) && ks_domain_claim(env->ks, r->ss.db) < 0) {
        resp_errorf(out, "ERR too many domains in use (max-domains is %lld)", cfg_ll(&env->cfg->max_domains));
        return;
    }
    r->ss.resp = resp;
    /* its time is its own, as Redis times it: not the Lua code run since
     * the command before it (nor, for the first, the wait for the script's
     * exclusive section), which would make a fast command look slow */
    cmdstats_mark();
    command_call(env, &r->ss, &sink, def, argc, argv, r->x->now);
    if ((def->flags & CMD_WRITE) && !r->wrote) {
        r->wrote = 1;
        atomic_store(&run_wrote, 1);
    }
}

static void run_log(void *ctx, int level, const char *msg, size_t n)
{
    static const int levels[] = {LOG_DEBUG, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING};
    (void)ctx;
    log_msg(levels[level], "%.*s", (int)n, msg);
}

/* Every so many instructions: past busy-reply-threshold other clients are
 * answered -BUSY (and the script's own worker answers its clients from
 * here); SCRIPT KILL or SHUTDOWN NOSAVE stop it. */
static const char *run_tick(void *ctx)
{
    script_run *r = ctx;
    cmd_env *env = r->x->env;
    int64_t now = util_now_ms();
    long long limit = cfg_ll(&env->cfg->busy_reply_threshold);
    if (!atomic_load(&command_busy)) {
        if (limit <= 0 || now - r->start_ms < limit) return NULL;
        log_warn("Slow script detected: still in execution after %lld milliseconds. You can try killing "
                 "the script using the SCRIPT KILL command. Script name is: %s.",
                 (long long)(now - r->start_ms), r->sha);
        atomic_store(&command_busy_worker, env->self);
        atomic_store(&command_busy, r->fn ? COMMAND_BUSY_FUNCTION : COMMAND_BUSY_SCRIPT);
    }
    if (now - r->served_ms >= SERVE_EVERY_MS && env->host->serve_busy && env->self >= 0) {
        r->served_ms = now;
        env->host->serve_busy(env->host->ctx, env->self);
    }
    if (atomic_load(&kill_req) != KILL_NONE) {
        if (!r->killed) log_warn("Lua script killed by user with SCRIPT KILL.");
        r->killed = 1;
        return "Script killed by user with SCRIPT KILL...";
    }
    return NULL;
}

void scripting_stop_for_shutdown(void) { atomic_store(&kill_req, KILL_SHUTDOWN); }

/* The script is found, its flags known: Redis's checks of its declared
 * flags, then the session its commands run in. -1 after replying. */
static int run_admit(void *ctx, unsigned flags, const char *name)
{
    script_run *r = ctx;
    cmd_call *x = r->x;
    if (flags & SCRIPT_SHEBANG) {
        if (!(flags & SCRIPT_NO_WRITES)) {
            const char *why = persist_write_denied(x->env->ps);
            if (why) {
                reply_err(x, why);
                return -1;
            }
            if (r->read_only) {
                reply_err(x, "ERR Can not execute a script with write flag using *_ro command.");
                return -1;
            }
            if (!(flags & SCRIPT_ALLOW_OOM) && command_over_maxmemory(x->env)) {
                reply_err(x, "OOM allow-oom flag is not set on the script, can not run it when used "
                             "memory > 'maxmemory'");
                return -1;
            }
        }
    } else {
        r->oom = command_over_maxmemory(x->env);
    }
    if (flags & SCRIPT_ALLOW_OOM) r->oom = 0;
    if (flags & SCRIPT_NO_WRITES) r->read_only = 1;
    r->flags = flags;
    r->sha = name;
    ks_domain_hold(x->s->db);
    session_init(&r->ss, x->s->id, x->s->db, SESS_AUTHED | SESS_SCRIPT, x->now);
    snprintf(r->ss.peer, sizeof r->ss.peer, "lua");
    r->admitted = 1;
    /* all its writes in the AOF's file, or none (Redis wraps them in
     * MULTI/EXEC): a crash in the middle leaves the data as before it */
    if (!r->read_only) {
        persist_hold(x->env->ps, 1);
        r->held = 1;
    }
    atomic_store(&kill_req, KILL_NONE);
    atomic_store(&run_wrote, 0);
    return 0;
}

void scripting_run(cmd_call *x, const char *sha, int is_ro, int nkeys, const script_fn *fn)
{
    script_host host = {.call = run_call, .log = run_log, .tick = run_tick, .admit = run_admit};
    script_run r = {.x = x, .start_ms = util_now_ms(), .fn = fn, .read_only = is_ro};
    const slice *keys = x->argv + 3, *args = x->argv + 3 + nkeys;
    int nargs = x->argc - 3 - nkeys;
    host.ctx = &r;
    if (fn) {
        if (run_admit(&r, fn->flags, fn->name) < 0) return;
        pthread_mutex_lock(&running_mu);
        session_copy_cmd(&running_cmd, x->def, x->argc, x->argv);
        running_name = xstrdup(fn->name);
        running_start = r.start_ms;
        pthread_mutex_unlock(&running_mu);
        script_fn_call(fvm, fn, keys, nkeys, args, nargs, x->s->resp, &host, x->out);
        pthread_mutex_lock(&running_mu);
        free(running_cmd.argv);
        running_cmd.argv = NULL;
        free(running_name);
        running_name = NULL;
        pthread_mutex_unlock(&running_mu);
    } else {
        script_vm_run(vm, sha, keys, nkeys, args, nargs, x->s->resp, &host, x->out);   /* admits it */
    }
    if (!r.admitted) return;
    session_free(&r.ss, x->ks);
    atomic_store(&command_busy, 0);
    if (atomic_exchange(&kill_req, KILL_NONE) == KILL_SHUTDOWN) {
        /* in the section still: nothing runs between the script and the
         * end, and what it wrote stays out of the AOF, as in Redis */
        persist_shutdown(x->env->ps, x->env->self, -1);
        x->env->host->shutdown(x->env->host->ctx);
        return;
    }
    if (r.held) persist_hold(x->env->ps, 0);
}

int scripting_numkeys(cmd_call *x, int *n, const char *not_int)
{
    long long v;
    if (util_str2ll(x->argv[2].p, x->argv[2].n, &v) < 0) {
        reply_err(x, not_int);
        return -1;
    }
    if (v > x->argc - 3) {
        reply_err(x, "ERR Number of keys can't be greater than number of args");
        return -1;
    }
    if (v < 0) {
        reply_err(x, "ERR Number of keys can't be negative");
        return -1;
    }
    *n = (int)v;
    return 0;
}

static void eval_generic(cmd_call *x, int by_sha, int is_ro)
{
    char sha[41];
    unsigned flags = 0;
    int nkeys;
    if (scripting_numkeys(x, &nkeys, "ERR value is not an integer or out of range") < 0 || !the_vm(x)) return;
    if (by_sha) {
        if (x->argv[1].n != 40) {   /* found (or not), and its flags checked, as it runs */
            reply_err(x, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
        memcpy(sha, x->argv[1].p, 40);
        sha[40] = '\0';
    } else {
        buf err = {0};
        size_t limit = (size_t)cfg_ll(&x->env->cfg->script_memory_max);
        if (script_vm_memory(vm) > limit / 2 && !script_vm_has_body(vm, x->argv[1].p, x->argv[1].n)) {
            /* every EVAL of a new body is kept: a client sending ever new
             * ones must not grow the heap without end */
            log_warn("The Lua heap passed half of script-memory-max (%zu bytes): emptying the script cache",
                     script_vm_memory(vm));
            script_vm_flush(vm);
        }
        if (script_vm_load(vm, x->argv[1].p, x->argv[1].n, sha, &flags, &err) < 0) {
            resp_error_len(x->out, err.data, err.len);
            buf_free(&err);
            return;
        }
    }
    scripting_run(x, sha, is_ro, nkeys, NULL);
}

void scripting_info(buf *out)
{
    char h[32];
    script_vm *v = vm;
    size_t bodies = 0, n = v ? script_vm_count(v, &bodies) : 0, heap = v ? script_vm_memory(v) : 0;
    util_human_bytes(h, sizeof h, (double)heap);
    buf_printf(out, "used_memory_lua:%zu\r\nused_memory_vm_eval:%zu\r\nused_memory_lua_human:%s\r\n", heap,
               heap, h);
    buf_printf(out, "used_memory_scripts_eval:%zu\r\nnumber_of_cached_scripts:%zu\r\n", bodies, n);
    {
        script_vm *f = fvm;
        size_t libs = 0, fns = 0, fheap = f ? script_vm_memory(f) : 0;
        if (f) script_lib_counts(f, &libs, &fns);
        buf_printf(out, "number_of_functions:%zu\r\nnumber_of_libraries:%zu\r\n", fns, libs);
        buf_printf(out, "used_memory_vm_functions:%zu\r\n", fheap);
        heap += fheap;
    }
    util_human_bytes(h, sizeof h, (double)heap);
    buf_printf(out, "used_memory_vm_total:%zu\r\nused_memory_vm_total_human:%s\r\n", heap, h);
    util_human_bytes(h, sizeof h, (double)bodies);
    buf_printf(out, "used_memory_scripts:%zu\r\nused_memory_scripts_human:%s\r\n", bodies, h);
}

static void cmd_eval(cmd_call *x) { eval_generic(x, 0, 0); }
static void cmd_evalsha(cmd_call *x) { eval_generic(x, 1, 0); }
static void cmd_eval_ro(cmd_call *x) { eval_generic(x, 0, 1); }
static void cmd_evalsha_ro(cmd_call *x) { eval_generic(x, 1, 1); }

/* ---- SCRIPT ---- */

static void script_load(cmd_call *x)
{
    char sha[41];
    unsigned flags;
    buf err = {0};
    if (!the_vm(x)) return;
    if (script_vm_load(vm, x->argv[2].p, x->argv[2].n, sha, &flags, &err) < 0) resp_error_len(x->out, err.data, err.len);
    else resp_bulk(x->out, sha, 40);
    buf_free(&err);
}

static void script_exists(cmd_call *x)
{
    resp_array(x->out, x->argc - 2);
    for (int i = 2; i < x->argc; i++)
        resp_int(x->out, vm && script_vm_has(vm, x->argv[i].p, x->argv[i].n, NULL));
}

static void script_flush(cmd_call *x)
{
    if (x->argc > 3 || (x->argc == 3 && !arg_is(x, 2, "sync") && !arg_is(x, 2, "async"))) {
        reply_err(x, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
        return;
    }
    if (vm) script_vm_flush(vm);   /* ASYNC too: a Lua state closes quickly */
    reply_ok(x);
}

void scripting_kill(cmd_call *x, int functions)
{
    int busy = atomic_load(&command_busy);
    if (busy == 0 || !(x->s->flags & SESS_BUSY)) {
        reply_err(x, "NOTBUSY No scripts in execution right now.");
    } else if (atomic_load(&run_wrote)) {
        reply_err(x, "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
                     "can either wait the script termination or kill the server in a hard way using the "
                     "SHUTDOWN NOSAVE command.");
    } else if ((busy == COMMAND_BUSY_FUNCTION) != functions) {
        reply_err(x, command_busy_text(busy));
    } else {
        int none = KILL_NONE;
        atomic_compare_exchange_strong(&kill_req, &none, KILL_ASKED);
        reply_ok(x);
    }
}

void scripting_running(cmd_call *x)
{
    pthread_mutex_lock(&running_mu);
    if (!running_name || !atomic_load(&command_busy)) {
        reply_null(x);
    } else {
        reply_map(x, 3);
        resp_bulk_cstr(x->out, "name");
        resp_bulk_cstr(x->out, running_name);
        resp_bulk_cstr(x->out, "command");
        resp_array(x->out, running_cmd.argc);
        for (int i = 0; i < running_cmd.argc; i++) resp_bulk(x->out, running_cmd.argv[i].p, running_cmd.argv[i].n);
        resp_bulk_cstr(x->out, "duration_ms");
        resp_int(x->out, util_now_ms() - running_start);
    }
    pthread_mutex_unlock(&running_mu);
}

static void script_kill(cmd_call *x) { scripting_kill(x, 0); }

static void script_debug(cmd_call *x)
{
    if (arg_is(x, 2, "no")) reply_ok(x);
    else if (arg_is(x, 2, "yes") || arg_is(x, 2, "sync"))
        reply_err(x, "ERR SCRIPT DEBUG is not supported: Kasi has no Lua debugger");
    else reply_err(x, "ERR Use SCRIPT DEBUG YES/SYNC/NO");
}

static void script_help(cmd_call *x)
{
    static const char *const lines[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define NS CMD_NOSCRIPT
#define EX CMD_EXCLUSIVE
#define SC CAT_SCRIPTING
#define DEPENDS "Depends on the script that is executed."

static const cmd_def script_subs[] = {
    {"debug", script_debug, 3, NS, SC, NOKEYS, "scripting", "3.2.0", "O(1)", NULL, NULL},
    {"exists", script_exists, -3, NS | EX, SC, NOKEYS, "scripting", "2.6.0",
     "O(N) with N being the number of scripts to check (so checking a single script is an O(1) "
     "operation).",
     "request_policy:all_shards response_policy:agg_logical_and", NULL},
    {"flush", script_flush, -2, NS | EX, SC, NOKEYS, "scripting", "2.6.0",
     "O(N) with N being the number of scripts in cache",
     "request_policy:all_nodes response_policy:all_succeeded", NULL},
    {"help", script_help, 2, CMD_LOADING | CMD_STALE, SC, NOKEYS, "scripting", "5.0.0", "O(1)", NULL,
     NULL},
    {"kill", script_kill, 2, NS | CMD_ALLOW_BUSY, SC, NOKEYS, "scripting", "2.6.0", "O(1)",
     "request_policy:all_shards response_policy:one_succeeded", NULL},
    {"load", script_load, 3, NS | CMD_STALE | EX, SC, NOKEYS, "scripting", "2.6.0",
     "O(N) with N being the length in bytes of the script body.",
     "request_policy:all_nodes response_policy:all_succeeded", NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips, subcommands */
static const cmd_def rows[] = {
    {"eval", cmd_eval, -3, SCRIPTING_RUN_FLAGS | CMD_MAY_REPLICATE, SC, KEYNUM(2, "RW access update"), "scripting", "2.6.0", DEPENDS,
     NULL, NULL},
    {"evalsha", cmd_evalsha, -3, SCRIPTING_RUN_FLAGS | CMD_MAY_REPLICATE, SC, KEYNUM(2, "RW access update"), "scripting", "2.6.0",
     DEPENDS, NULL, NULL},
    {"eval_ro", cmd_eval_ro, -3, CMD_READONLY | SCRIPTING_RUN_FLAGS, SC, KEYNUM(2, "RO access"), "scripting",
     "7.0.0", DEPENDS, NULL, NULL},
    {"evalsha_ro", cmd_evalsha_ro, -3, CMD_READONLY | SCRIPTING_RUN_FLAGS, SC, KEYNUM(2, "RO access"),
     "scripting", "7.0.0", DEPENDS, NULL, NULL},
    {"script", NULL, -2, 0, 0, NOKEYS, "scripting", "2.6.0", "Depends on subcommand.", NULL,
     script_subs},
};

const cmd_family cmd_family_scripting = CMD_FAMILY(rows);
