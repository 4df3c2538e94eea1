/* slowlog.c - SLOWLOG GET, LEN, RESET and HELP, and the log they read:
 * the commands that ran for at least slowlog-log-slower-than microseconds
 * (0: every one, negative: none), the newest slowlog-max-len of them, each
 * as Redis 7.0 keeps it: an id, the unix time, the duration, the arguments
 * (at most 32, the last of a longer list saying how many more there were;
 * each cut at 128 bytes, saying how many more it had; passwords redacted),
 * and the client's address and name.
 *
 * There is one log for the server, behind one mutex. The request path
 * takes the mutex only for a command slow enough to be logged: a fast one
 * costs the comparison of its duration with the threshold (cmdstats.h,
 * which hands over those that reach it and are not skip_slowlog),
 * and a logged one has already taken longer than the lock will. One log
 * gives Redis's single sequence of ids and its order for free, where logs
 * per worker would have to be merged at every read and trimmed together.
 * An entry is built (allocated and copied) before the lock is taken, and
 * those trimmed off are freed after it is let go. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmdstats.h"
#include "lib/log.h"

#define SL_MAX_ARGC 32
#define SL_MAX_STRING 128

typedef struct sl_entry {
    long long id, time, us;
    int argc;
    karg *argv;              /* in the same allocation, as are their bytes, peer and name */
    const char *peer, *name;
} sl_entry;

static struct {
    pthread_mutex_t mu;
    sl_entry **ring;         /* oldest at head, len of them; cap slots */
    size_t head, len, cap;
    long long next_id;
} slog = {.mu = PTHREAD_MUTEX_INITIALIZER};

static sl_entry *at(size_t i) { return slog.ring[(slog.head + i) % slog.cap]; }

/* Which of the first SL_MAX_ARGC arguments Redis shows as "(redacted)":
 * AUTH's (when there are at most two), HELLO's AUTH pair, a password given
 * to CONFIG SET. */
static void redactions(int argc, const karg *argv, unsigned char *red)
{
    memset(red, 0, SL_MAX_ARGC);
    if (util_eqi(argv[0].p, argv[0].n, "auth") && argc <= 3) {
        memset(red + 1, 1, (size_t)argc - 1);
    } else if (util_eqi(argv[0].p, argv[0].n, "hello")) {
        for (int j = 2; j < argc && j < SL_MAX_ARGC; j++) {   /* as HELLO reads its options */
            int more = argc - 1 - j;
            if (util_eqi(argv[j].p, argv[j].n, "auth") && more >= 2) {
                if (j + 1 < SL_MAX_ARGC) red[j + 1] = 1;
                if (j + 2 < SL_MAX_ARGC) red[j + 2] = 1;
                j += 2;
            } else if (util_eqi(argv[j].p, argv[j].n, "setname") && more >= 1) {
                j++;
            } else {
                break;
            }
        }
    } else if (argc >= 4 && util_eqi(argv[0].p, argv[0].n, "config") &&
               util_eqi(argv[1].p, argv[1].n, "set")) {
        for (int j = 2; j + 1 < argc && j + 1 < SL_MAX_ARGC; j += 2)
            if (util_eqi(argv[j].p, argv[j].n, "requirepass")) red[j + 1] = 1;
    }
}

/* The text shown for argument i of n shown (argc in all), at most 64
 * bytes of it in note (a replacement, or what follows a cut). Returns how
 * many bytes of the argument itself are shown. */
static size_t shown(int i, int n, int argc, const karg *a, const unsigned char *red, char *note)
{
    note[0] = '\0';
    if (n != argc && i == n - 1) {
        snprintf(note, 64, "... (%d more arguments)", argc - n + 1);
        return 0;
    }
    if (red[i]) {
        snprintf(note, 64, "(redacted)");
        return 0;
    }
    if (a->n > SL_MAX_STRING) {
        snprintf(note, 64, "... (%zu more bytes)", a->n - SL_MAX_STRING);
        return SL_MAX_STRING;
    }
    return a->n;
}

/* One allocation holding the entry, its shown arguments, peer and name. */
static sl_entry *entry_new(const cmd_call *x, int64_t us)
{
    int n = x->argc > SL_MAX_ARGC ? SL_MAX_ARGC : x->argc;
    unsigned char red[SL_MAX_ARGC];
    char note[64], addr[300];
    const char *peer = x->s->peer, *name = x->s->name ? x->s->name : "";
    size_t size = sizeof(sl_entry) + sizeof(karg) * (size_t)n, pl, nl;
    sl_entry *e;
    char *p;
    if (peer[0] == '/') {   /* a unix socket's, as Redis shows it */
        snprintf(addr, sizeof addr, "%s:0", x->env->cfg->unixsocket);
        peer = addr;
    }
    pl = strlen(peer) + 1;
    nl = strlen(name) + 1;
    redactions(x->argc, x->argv, red);
    for (int i = 0; i < n; i++) size += shown(i, n, x->argc, &x->argv[i], red, note) + strlen(note);
    e = xmalloc(size + pl + nl);
    e->argv = (karg *)(e + 1);
    p = (char *)(e->argv + n);
    for (int i = 0; i < n; i++) {
        size_t keep = shown(i, n, x->argc, &x->argv[i], red, note), nn = strlen(note);
        memcpy(p, x->argv[i].p, keep);
        memcpy(p + keep, note, nn);
        e->argv[i] = (karg){p, keep + nn};
        p += keep + nn;
    }
    e->peer = memcpy(p, peer, pl);
    e->name = memcpy(p + pl, name, nl);
    e->argc = n;
    e->time = x->now / 1000;
    e->us = us;
    return e;
}

/* Take the oldest entries past max out of the log; the caller frees them
 * (after the lock): *many when they are more than room. */
static size_t trim(size_t max, sl_entry **gone, size_t room, sl_entry ***many)
{
    size_t k = 0, n = slog.len > max ? slog.len - max : 0;
    *many = n > room ? xmalloc(sizeof **many * n) : NULL;
    if (*many) gone = *many;
    for (; k < n; k++) {
        gone[k] = slog.ring[slog.head];
        slog.head = (slog.head + 1) % slog.cap;
    }
    slog.len -= n;
    return n;
}

/* log-slow-commands: the entry as the log shows it (its arguments as
 * SLOWLOG GET gives them: cut, redacted), before it goes in. */
static void log_entry(const sl_entry *e)
{
    buf b = {0};
    for (int i = 0; i < e->argc; i++) {
        if (i) buf_append(&b, " ", 1);
        buf_append_repr(&b, e->argv[i].p, e->argv[i].n);
    }
    log_notice("Slow command: %lld us, addr=%s name=%s: %.*s", e->us, e->peer, e->name, (int)b.len, b.data);
    buf_free(&b);
}

void slowlog__push(const cmd_call *x, uint64_t ticks)
{
    int64_t us = (int64_t)(cmdstats_ns(ticks) / 1000);
    sl_entry *e, *few[16], **gone;
    size_t k, max = (size_t)cfg_ll(&x->env->cfg->slowlog_max_len);
    e = entry_new(x, us);
    if (cfg_ll(&x->env->cfg->log_slow_commands)) log_entry(e);
    pthread_mutex_lock(&slog.mu);
    e->id = slog.next_id++;
    if (slog.len == slog.cap) {   /* grow, the oldest moved to the start */
        size_t cap = slog.cap ? slog.cap * 2 : 16;
        sl_entry **ring = xmalloc(sizeof *ring * cap);
        for (size_t i = 0; i < slog.len; i++) ring[i] = at(i);
        free(slog.ring);
        slog.ring = ring;
        slog.cap = cap;
        slog.head = 0;
    }
    slog.ring[(slog.head + slog.len++) % slog.cap] = e;
    /* a lowered max-len sheds what it no longer allows at the next entry,
     * as Redis's does */
    k = trim(max, few, sizeof few / sizeof few[0], &gone);
    pthread_mutex_unlock(&slog.mu);
    for (size_t i = 0; i < k; i++) free(gone ? gone[i] : few[i]);
    free(gone);
}

static void reply_entry(cmd_call *x, const sl_entry *e)
{
    resp_array(x->out, 6);
    resp_int(x->out, e->id);
    resp_int(x->out, e->time);
    resp_int(x->out, e->us);
    resp_array(x->out, e->argc);
    for (int i = 0; i < e->argc; i++) resp_bulk(x->out, e->argv[i].p, e->argv[i].n);
    resp_bulk(x->out, e->peer, strlen(e->peer));
    resp_bulk(x->out, e->name, strlen(e->name));
}

static void cmd_slowlog_get(cmd_call *x)
{
    long long count = 10;
    if (x->argc > 3) {
        reply_subcmd_syntax(x);
        return;
    }
    if (x->argc == 3 && (util_str2ll(x->argv[2].p, x->argv[2].n, &count) < 0 || count < -1)) {
        reply_err(x, "ERR count should be greater than or equal to -1");
        return;
    }
    pthread_mutex_lock(&slog.mu);
    if (count == -1 || (unsigned long long)count > slog.len) count = (long long)slog.len;
    resp_array(x->out, count);
    for (long long i = 0; i < count; i++) reply_entry(x, at(slog.len - 1 - (size_t)i));
    pthread_mutex_unlock(&slog.mu);
}

static void cmd_slowlog_len(cmd_call *x)
{
    long long n;
    pthread_mutex_lock(&slog.mu);
    n = (long long)slog.len;
    pthread_mutex_unlock(&slog.mu);
    resp_int(x->out, n);
}

static void cmd_slowlog_reset(cmd_call *x)
{
    sl_entry **ring;
    size_t head, len, cap;
    pthread_mutex_lock(&slog.mu);
    ring = slog.ring;
    head = slog.head;
    len = slog.len;
    cap = slog.cap;
    slog.ring = NULL;
    slog.head = slog.len = slog.cap = 0;
    pthread_mutex_unlock(&slog.mu);
    for (size_t i = 0; i < len; i++) free(ring[(head + i) % cap]);
    free(ring);
    reply_ok(x);
}

static void cmd_slowlog_help(cmd_call *x)
{
    static const char *const lines[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define A CMD_ADMIN
#define LS (CMD_LOADING | CMD_STALE)

static const cmd_def slowlog_subs[] = {
    {"get", cmd_slowlog_get, -2, A | LS, 0, NOKEYS, "server", "2.2.12",
     "O(N) where N is the number of entries returned", "request_policy:all_nodes nondeterministic_output",
     NULL},
    {"len", cmd_slowlog_len, 2, A | LS, 0, NOKEYS, "server", "2.2.12", "O(1)",
     "request_policy:all_nodes response_policy:agg_sum nondeterministic_output", NULL},
    {"reset", cmd_slowlog_reset, 2, A | LS, 0, NOKEYS, "server", "2.2.12",
     "O(N) where N is the number of entries in the slowlog",
     "request_policy:all_nodes response_policy:all_succeeded", NULL},
    {"help", cmd_slowlog_help, 2, LS, 0, NOKEYS, "server", "6.2.0", "O(1)", NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

static const cmd_def rows[] = {
    {"slowlog", NULL, -2, 0, 0, NOKEYS, "server", "2.2.12", "Depends on subcommand.", NULL,
     slowlog_subs},
};

const cmd_family cmd_family_slowlog = CMD_FAMILY(rows);
