/* server.c - the server's commands: FLUSHDB, FLUSHALL, TIME, the
 * persistence commands (SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE), SHUTDOWN,
 * INFO, ROLE, CONFIG GET/SET/RESETSTAT/REWRITE/HELP and MEMORY USAGE.
 * Redis 7.0's replies and texts. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cmd/command.h"
#include "store/kind.h"
#include "cmd/session.h"
#include "lib/log.h"
#include "pubsub/tracking.h"

static int flush_flags_ok(cmd_call *x)
{
    if (x->argc == 1 || (x->argc == 2 && (arg_is(x, 1, "sync") || arg_is(x, 1, "async"))))
        return 1;
    reply_syntax(x);
    return 0;
}

static void cmd_flushdb(cmd_call *x)
{
    if (!flush_flags_ok(x)) return;
    ks_flush(x->ks, x->s->db);
    if (x->env->trk) tracking_flush(x->env->trk);   /* tracked names are global: all invalid */
    reply_ok(x);
}

static void flush_one(domain *d, void *opaque) { ks_flush(((cmd_call *)opaque)->ks, d); }

static void cmd_flushall(cmd_call *x)
{
    if (!flush_flags_ok(x)) return;
    ks_foreach_domain(x->ks, flush_one, x);
    if (x->env->trk) tracking_flush(x->env->trk);
    reply_ok(x);
}

static void cmd_time(cmd_call *x)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    resp_array(x->out, 2);
    resp_bulk_ll(x->out, (long long)tv.tv_sec);
    resp_bulk_ll(x->out, (long long)tv.tv_usec);
}

static void cmd_lastsave(cmd_call *x) { resp_int(x->out, persist_lastsave(x->env->ps)); }

static void cmd_save(cmd_call *x)
{
    char msg[512];
    if (persist_save(x->env->ps, x->env->self, msg, sizeof msg) < 0) reply_err(x, msg);
    else reply_ok(x);
}

static void cmd_bgsave(cmd_call *x)
{
    char msg[512];
    int schedule = 0;
    if (x->argc > 2 || (x->argc == 2 && !(schedule = arg_is(x, 1, "schedule")))) {
        reply_syntax(x);
        return;
    }
    if (persist_bgsave(x->env->ps, x->env->self, schedule, msg, sizeof msg) < 0) reply_err(x, msg);
    else resp_simple(x->out, msg);
}

static void cmd_bgrewriteaof(cmd_call *x)
{
    char msg[512];
    if (persist_bgrewriteaof(x->env->ps, x->env->self, msg, sizeof msg) < 0) reply_err(x, msg);
    else resp_simple(x->out, msg);
}

static void cmd_shutdown(cmd_call *x)
{
    int nosave = 0, save = 0, abort_ = 0, other = 0, force = 0;
    for (int i = 1; i < x->argc; i++) {
        if (arg_is(x, i, "nosave")) nosave = 1;
        else if (arg_is(x, i, "save")) save = 1;
        else if (arg_is(x, i, "now")) other = 1;
        else if (arg_is(x, i, "force")) other = force = 1;
        else if (arg_is(x, i, "abort")) abort_ = 1;
        else {
            reply_syntax(x);
            return;
        }
    }
    if ((abort_ && (nosave || save || other)) || (nosave && save)) {
        reply_err(x, "ERR Illegal combination of options");
        return;
    }
    if (abort_) {
        reply_err(x, "ERR No shutdown in progress.");
        return;
    }
    if (x->s->flags & SESS_BUSY) {   /* a script runs long: only NOSAVE stops it, and the server */
        if (!nosave) {
            reply_err(x, command_busy_text(atomic_load(&command_busy)));
            return;
        }
        log_warn("User requested shutdown while a script runs: stopping it");
        scripting_stop_for_shutdown();
        x->s->flags |= SESS_CLOSE;
        return;
    }
    log_warn("User requested shutdown...");
    /* Every other worker is paused (CMD_EXCLUSIVE): the final save sees
     * every acknowledged write, and none runs after it. */
    if (persist_shutdown(x->env->ps, x->env->self, nosave ? -1 : save ? 1 : force ? 2 : 0) < 0) {
        reply_err(x, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    x->env->host->shutdown(x->env->host->ctx);
    /* Like Redis, a successful SHUTDOWN sends no reply: the connection closes. */
    x->s->flags |= SESS_CLOSE;
}

/* A master without replicas: its role, replication offset and no replica. */
static void cmd_role(cmd_call *x)
{
    resp_array(x->out, 3);
    resp_bulk_cstr(x->out, "master");
    resp_int(x->out, 0);
    resp_array(x->out, 0);
}

static void cmd_info(cmd_call *x)
{
    buf text = {0};
    info_build(x->env, x->argv + 1, x->argc - 1, &text);
    reply_verbatim(x, text.data, text.len);
    buf_free(&text);
}

static void cmd_config_get(cmd_call *x)
{
    size_t token = reply_agg_defer(x);
    int n = x->argc - 2;
    const char **pats = xmalloc(sizeof(char *) * (size_t)n);
    size_t *lens = xmalloc(sizeof(size_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        pats[i] = x->argv[i + 2].p;
        lens[i] = x->argv[i + 2].n;
    }
    reply_map_fill(x, token, config_get(x->env->cfg, pats, lens, n, x->out) / 2);
    free(pats);
    free(lens);
}

static void cmd_config_set(cmd_call *x)
{
    int n = (x->argc - 2) / 2;
    long long prot = cfg_ll(&x->env->cfg->enable_protected_configs);   /* no yes local */
    cfg_pair *pairs;
    char err[600];
    if (x->argc % 2) {
        reply_syntax(x);
        return;
    }
    pairs = xmalloc(sizeof *pairs * (size_t)n);
    for (int i = 0; i < n; i++)
        pairs[i] = (cfg_pair){x->argv[2 + 2 * i].p, x->argv[3 + 2 * i].p, x->argv[2 + 2 * i].n,
                              x->argv[3 + 2 * i].n};
    if (config_set_many(x->env->cfg, pairs, n, prot == 1 || (prot == 2 && (x->s->flags & SESS_LOCAL)),
                        x->env, err, sizeof err) < 0)
        reply_err(x, err);
    else
        reply_ok(x);
    free(pairs);
}

static void cmd_config_resetstat(cmd_call *x)
{
    info_resetstat(x->env);
    reply_ok(x);
}

/* Only to the file the server was started with: no client names a path. */
static void cmd_config_rewrite(cmd_call *x)
{
    int rc;
    char msg[300];
    if (!x->env->cfg->config_file) {
        reply_err(x, "ERR The server is running without a config file");
        return;
    }
    rc = config_rewrite(x->env->cfg);
    if (rc < 0) {
        log_warn("CONFIG REWRITE failed: %s", strerror(-rc));
        snprintf(msg, sizeof msg, "ERR Rewriting config file: %s", strerror(-rc));
        reply_err(x, msg);
        return;
    }
    log_warn("CONFIG REWRITE executed with success.");
    reply_ok(x);
}

static void cmd_config_help(cmd_call *x)
{
    static const char *const lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

static void cmd_memory_help(cmd_call *x)
{
    static const char *const lines[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

/* What Redis built on libc's malloc, as Kasi is, answers. */
static void cmd_memory_malloc_stats(cmd_call *x)
{
    resp_bulk_cstr(x->out, "Stats not supported for the current allocator");
}

/* glibc's malloc_trim gives the free pages of every arena back to the
 * kernel, which is what PURGE asks of jemalloc in Redis. */
static void cmd_memory_purge(cmd_call *x)
{
    malloc_trim(0);
    reply_ok(x);
}

static void cmd_memory_usage(cmd_call *x)
{
    kref r;
    item *it;
    long long n = 0;
    if (x->argc != 3 && !(x->argc == 5 && arg_is(x, 3, "samples"))) {
        reply_syntax(x);
        return;
    }
    arg_ref(x, 2, &r);
    ks_lock(&r);
    it = ks_find(&r, x->now);
    /* the item's bytes in its segment, its table slot at the average load
     * factor, and what its value holds outside the segment */
    if (it) {
        const kind_ops *ops = kind_ops_of(item_kind(it));
        n = (long long)item_footprint(it) + 12 + (long long)(ops && ops->outside ? ops->outside(it) : 0);
    }
    ks_unlock(&r);
    if (it) resp_int(x->out, n);
    else reply_null(x);
}

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define A CMD_ADMIN
#define KS CAT_KEYSPACE
#define LS (CMD_LOADING | CMD_STALE)
#define NS (CMD_NOSCRIPT | LS)

static const cmd_def config_subs[] = {
    {"get", cmd_config_get, -3, A | NS, 0, NOKEYS, "server", "2.0.0",
     "O(N) when N is the number of configuration parameters provided", NULL, NULL},
    {"set", cmd_config_set, -4, A | NS, 0, NOKEYS, "server", "2.0.0",
     "O(N) when N is the number of configuration parameters provided",
     "request_policy:all_nodes response_policy:all_succeeded", NULL},
    {"resetstat", cmd_config_resetstat, 2, A | NS, 0, NOKEYS, "server", "2.0.0", "O(1)", NULL, NULL},
    {"rewrite", cmd_config_rewrite, 2, A | NS, 0, NOKEYS, "server", "2.8.0", "O(1)", NULL, NULL},
    {"help", cmd_config_help, 2, LS, 0, NOKEYS, "server", "5.0.0", "O(1)", NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

static const cmd_def memory_subs[] = {
    {"help", cmd_memory_help, 2, LS, 0, NOKEYS, "server", "4.0.0", "O(1)", NULL, NULL},
    {"malloc-stats", cmd_memory_malloc_stats, 2, 0, 0, NOKEYS, "server", "4.0.0",
     "Depends on how much memory is allocated, could be slow",
     "nondeterministic_output request_policy:all_shards response_policy:special", NULL},
    {"purge", cmd_memory_purge, 2, 0, 0, NOKEYS, "server", "4.0.0",
     "Depends on how much memory is allocated, could be slow",
     "request_policy:all_shards response_policy:all_succeeded", NULL},
    {"usage", cmd_memory_usage, -3, R, 0, {KSPEC(2, 0, 1, "RO")}, "server", "4.0.0",
     "O(N) where N is the number of samples.", NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips, subcommands */
static const cmd_def rows[] = {
    {"flushdb", cmd_flushdb, -1, W, KS | CAT_DANGEROUS, NOKEYS, "server", "1.0.0", "O(N)",
     "request_policy:all_shards response_policy:all_succeeded", NULL},
    {"flushall", cmd_flushall, -1, W | CMD_EXCLUSIVE, KS | CAT_DANGEROUS, NOKEYS, "server",
     "1.0.0", "O(N)", "request_policy:all_shards response_policy:all_succeeded", NULL},
    {"info", cmd_info, -1, LS, CAT_DANGEROUS, NOKEYS, "server", "1.0.0", "O(1)",
     "nondeterministic_output request_policy:all_shards response_policy:special", NULL},
    {"role", cmd_role, 1, NS | F, CAT_ADMIN | CAT_DANGEROUS, NOKEYS, "server", "2.8.12", "O(1)",
     NULL, NULL},
    {"time", cmd_time, 1, LS | F, 0, NOKEYS, "server", "2.6.0", "O(1)", "nondeterministic_output",
     NULL},
    {"shutdown", cmd_shutdown, -1,
     A | NS | CMD_NOMULTI | CMD_ALLOW_BUSY | CMD_EXCLUSIVE, 0, NOKEYS, "server", "1.0.0",
     "O(N) when saving, where N is the total number of keys in all databases when saving data, "
     "otherwise O(1)", NULL, NULL},
    {"save", cmd_save, 1, A | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NOMULTI, 0, NOKEYS,
     "server", "1.0.0", "O(N) where N is the total number of keys in all databases", NULL, NULL},
    {"bgsave", cmd_bgsave, -1, A | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, 0, NOKEYS, "server",
     "1.0.0", "O(1)", NULL, NULL},
    {"bgrewriteaof", cmd_bgrewriteaof, 1, A | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, 0, NOKEYS,
     "server", "1.0.0", "O(1)", NULL, NULL},
    {"lastsave", cmd_lastsave, 1, LS | F, CAT_ADMIN | CAT_DANGEROUS, NOKEYS, "server", "1.0.0",
     "O(1)", "nondeterministic_output", NULL},
    {"config", NULL, -2, 0, 0, NOKEYS, "server", "2.0.0", "Depends on subcommand.", NULL,
     config_subs},
    {"memory", NULL, -2, 0, 0, NOKEYS, "server", "4.0.0", "Depends on subcommand.", NULL,
     memory_subs},
};

const cmd_family cmd_family_server = CMD_FAMILY(rows);
