/* cmdstats.c - the per-worker counters of every command and error reply,
 * the latency histograms, and INFO's commandstats, errorstats and
 * latencystats read from their sum (see cmdstats.h). */
#include "cmd/cmdstats.h"
#include "cmd/session.h"
#include "lib/latency.h"

#include <limits.h>
#include <pthread.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CS_MAX_WORKERS 257   /* threads go up to 256, and worker 0 may be the main thread */

cs_worker cmdstats__none;
_Thread_local cs_worker *cmdstats__self = &cmdstats__none;
atomic_uint cmdstats__epoch;
atomic_ullong cmdstats__slow_at = UINT64_MAX;
static atomic_ullong slowlog_at = UINT64_MAX;   /* slowlog-log-slower-than's part of it */
uint64_t cmdstats_ticks_per_us = 1000;
static pthread_mutex_t reset_mu = PTHREAD_MUTEX_INITIALIZER;
uintptr_t cmdstats__base;
int cmdstats__tsc;
static uint64_t tick_ns;      /* ns per tick, in 32.32 fixed point (with the TSC) */
static size_t nslots;         /* a worker's counters: the span of the rows */

#define CS_MAX_IDS 1024
static const cmd_def *by_id[CS_MAX_IDS];   /* and back, with the container of a subcommand */
static const cmd_def *parent_of[CS_MAX_IDS];
static unsigned nids;
static _Atomic(cs_worker *) workers[CS_MAX_WORKERS];

static void add_row(const cmd_def *d, const cmd_def *parent)
{
    if (nids == CS_MAX_IDS) abort();
    by_id[nids] = d;
    parent_of[nids++] = parent;
}

/* A worker's counters as its cmds holds them, and back. */
static uintptr_t biased(cs_cmd *cmds) { return (uintptr_t)cmds - cmdstats__base * sizeof(cs_cmd); }
static cs_cmd *unbiased(uintptr_t v) { return (cs_cmd *)(v + cmdstats__base * sizeof(cs_cmd)); }

/* Use the TSC if it runs at a constant rate whatever the core's state
 * (CPUID's invariant TSC), measured against the monotonic clock over a
 * few ms. */
static char clock_name[48] = "POSIX clock_gettime";   /* pick_clock's choice */

static void pick_clock(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    struct timespec t0, t1, pause = {0, 5000000};
    uint64_t k0, k1, ns;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8))) return;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    k0 = __rdtsc();
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    k1 = __rdtsc();
    ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
    if (k1 <= k0 || ns == 0 || (k1 - k0) / ns > 64) return;   /* not a counter to trust */
    tick_ns = (uint64_t)(((unsigned __int128)ns << 32) / (k1 - k0));
    if (tick_ns == 0) return;
    cmdstats__tsc = 1;
    cmdstats_ticks_per_us = (k1 - k0) * 1000 / ns;
    if (cmdstats_ticks_per_us == 0) cmdstats_ticks_per_us = 1;
    snprintf(clock_name, sizeof clock_name, "X86 TSC @ %llu ticks/us", (unsigned long long)cmdstats_ticks_per_us);
#endif
}

const char *cmdstats_clock_name(void) { return clock_name; }

uint64_t cmdstats_ns(uint64_t ticks)
{
    return cmdstats__tsc ? (uint64_t)(((unsigned __int128)ticks * tick_ns) >> 32) : ticks;
}

/* ns in ticks, saturated. */
static uint64_t ticks_of(unsigned long long ns)
{
    unsigned __int128 t;
    if (!cmdstats__tsc) return ns;
    t = ((unsigned __int128)ns << 32) / tick_ns;
    return t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

void cmdstats_init(void)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    pick_clock();
    for (size_t i = 0; i < command_count(); i++) {
        const cmd_def *d = command_at(i);
        add_row(d, NULL);
        for (const cmd_def *s = d->subs; s && s->name; s++) add_row(s, d);
    }
    for (unsigned i = 0; i < nids; i++) {
        uintptr_t a = (uintptr_t)by_id[i] >> CS_SHIFT;
        lo = a < lo ? a : lo;
        hi = a > hi ? a : hi;
    }
    cmdstats__base = lo;
    nslots = hi - lo + 1;
    cmdstats__none.sets[0] = xcalloc(nslots, sizeof(cs_cmd));
    cmdstats__none.cmds = biased(cmdstats__none.sets[0]);
    cmdstats__none.tsc = cmdstats__tsc;
}

/* A threshold in us as ticks; off (negative) past every duration. */
static uint64_t threshold_ticks(long long us)
{
    return us < 0 || (unsigned long long)us > UINT64_MAX / 1000 ? UINT64_MAX
                                                                : ticks_of((unsigned long long)us * 1000);
}

void cmdstats_configure(long long slower_than_us, long long latency_ms)
{
    uint64_t slow = threshold_ticks(slower_than_us),
             lat = threshold_ticks(latency_ms <= 0 || latency_ms > LLONG_MAX / 1000 ? -1 : latency_ms * 1000);
    atomic_store(&slowlog_at, slow);
    latency_configure(latency_ms);
    atomic_store(&cmdstats__slow_at, slow < lat ? slow : lat);
}

/* A command that reached one of the thresholds: a latency sample, as
 * Redis 7.0's call() takes it ("command-unblocking" for a blocked one
 * when it is served), and a slow log entry. */
void cmdstats__slow(const cmd_call *x, uint64_t ticks)
{
    if (cmdstats__self == &cmdstats__none || (int64_t)ticks < 0) return;
    latency_add_if_needed((x->s->flags & SESS_RETRY) ? "command-unblocking"
                          : (x->def->flags & CMD_FAST) ? "fast-command" : "command",
                          (long long)(cmdstats_ns(ticks) / 1000000));
    if (ticks >= atomic_load_explicit(&slowlog_at, memory_order_relaxed) && !(x->def->flags & CMD_SKIP_SLOWLOG))
        slowlog__push(x, ticks);
}

void cmdstats_attach(int id)
{
    cs_worker *w;
    if (id < 0 || id >= CS_MAX_WORKERS) return;
    w = xcalloc(1, sizeof *w);
    w->tsc = cmdstats__tsc;
    w->mark = cmdstats_clock();
    w->sets[0] = xcalloc(nslots, sizeof(cs_cmd));
    w->sets[1] = w->spare = xcalloc(nslots, sizeof(cs_cmd));
    atomic_init(&w->cmds, biased(w->sets[0]));
    atomic_init(&w->epoch, atomic_load(&cmdstats__epoch));
    atomic_store_explicit(&workers[id], w, memory_order_release);
    cmdstats__self = w;
}

static void zero_hist(atomic_ullong *h)
{
    for (int i = 0; i < CS_HIST_SLOTS; i++) atomic_store_explicit(&h[i], 0, memory_order_relaxed);
}

/* A set of counters made zero (its worker has moved off it). */
static void zero_cmds(cs_cmd *cmds)
{
    for (unsigned i = 0; i < nids; i++) {
        cs_cmd *c = &cmds[cmdstats__id(by_id[i])];
        atomic_ullong *h = atomic_load_explicit(&c->hist, memory_order_acquire);
        atomic_store_explicit(&c->ticks, 0, memory_order_relaxed);
        atomic_store_explicit(&c->rejected, 0, memory_order_relaxed);
        atomic_store_explicit(&c->failed, 0, memory_order_relaxed);
        if (h) zero_hist(h);
    }
}

/* The worker's error counts, cleared for the RESETSTAT since it last
 * counted one. */
static void errors_catch_up(cs_worker *w)
{
    if (atomic_load_explicit(&cmdstats__epoch, memory_order_relaxed) ==
        atomic_load_explicit(&w->epoch, memory_order_relaxed))
        return;
    for (int i = 0; i < atomic_load_explicit(&w->nerr, memory_order_relaxed); i++)
        atomic_store_explicit(&w->err[i].count, 0, memory_order_relaxed);
    atomic_store_explicit(&w->errors, 0, memory_order_relaxed);
    /* readers take the counts as zero until this store */
    atomic_store_explicit(&w->epoch, atomic_load(&cmdstats__epoch), memory_order_release);
}

atomic_ullong *cmdstats__hist(cs_cmd *c)
{
    atomic_ullong *h = xcalloc(CS_HIST_SLOTS, sizeof *h);
    atomic_store_explicit(&c->hist, h, memory_order_release);
    return h;
}

/* An error reply's kind, as Redis names it: its first word, if a space
 * ends it within 32 bytes of the '-', else ERR. */
static size_t error_kind(const char *msg, size_t len, const char **name)
{
    const char *sp = memchr(msg, ' ', len < CS_ERR_NAME - 1 ? len : CS_ERR_NAME - 1);
    if (!sp) {
        *name = "ERR";
        return 3;
    }
    *name = msg;
    return (size_t)(sp - msg);
}

static void count_error(cs_worker *w, const char *msg, size_t len)
{
    const char *name;
    size_t n = error_kind(msg, len, &name);
    int k = atomic_load_explicit(&w->nerr, memory_order_relaxed);
    errors_catch_up(w);
    stat_add(&w->errors, 1);
    for (int i = 0; i < k; i++)
        if (strlen(w->err[i].name) == n && memcmp(w->err[i].name, name, n) == 0) {
            stat_add(&w->err[i].count, 1);
            return;
        }
    if (k == CS_ERR_KINDS) return;   /* counted in the total only */
    memcpy(w->err[k].name, name, n);
    w->err[k].name[n] = '\0';
    atomic_store_explicit(&w->err[k].count, 1, memory_order_relaxed);
    atomic_store_explicit(&w->nerr, k + 1, memory_order_release);
}

void cmdstats__failed(cs_cmd *c, const buf *out, size_t mark)
{
    const char *p = out->data + mark + 1, *end = memchr(p, '\r', out->len - mark - 1);
    stat_add(&c->failed, 1);
    count_error(cmdstats__self, p, end ? (size_t)(end - p) : out->len - mark - 1);
}

void cmdstats_waiting(const cmd_call *x, uint64_t t0, size_t mark)
{
    cs_worker *w = cmdstats__self;
    uint64_t now = cmdstats__clock(w->tsc), t = now - t0;
    cs_cmd *c = cmdstats__counter(w, x->def);
    w->mark = now;
    if (!(x->s->flags & SESS_RETRY)) {   /* it waits: a call now, as Redis counts it */
        stat_add(&c->ticks, t);
        cmdstats__call(c, t);
        return;
    }
    if (x->s->flags & SESS_REBLOCK) return;
    /* served: its time, and the slow log, as Redis logs it when it is served */
    stat_add(&c->ticks, t);
    if (x->out->len > mark && x->out->data[mark] == '-') cmdstats__failed(c, x->out, mark);
    if (t >= atomic_load_explicit(&cmdstats__slow_at, memory_order_relaxed)) cmdstats__slow(x, t);
}

void cmdstats_rejected(const session *s, const char *msg)
{
    cs_worker *w = cmdstats__self;
    if (s->last_cmd) stat_add(&cmdstats__counter(w, s->last_cmd)->rejected, 1);
    count_error(w, msg, strlen(msg));
}

void cmdstats_timed_out(const cmd_def *def, const char *err)
{
    (void)def;   /* counted when it began to wait; not logged */
    if (err) count_error(cmdstats__self, err, strlen(err));
}

void cmdstats_reset(void)
{
    pthread_mutex_lock(&reset_mu);
    for (int i = 0; i < CS_MAX_WORKERS; i++) {
        cs_worker *w = atomic_load_explicit(&workers[i], memory_order_acquire);
        cs_cmd *fresh;
        if (!w) continue;
        fresh = w->spare;
        zero_cmds(fresh);
        w->spare = unbiased(atomic_exchange(&w->cmds, biased(fresh)));
    }
    atomic_fetch_add(&cmdstats__epoch, 1);
    pthread_mutex_unlock(&reset_mu);
}

/* ---- reading: the sum over the workers whose block is of this epoch ---- */

/* The next worker block from *i on (NULL past the last); with errors,
 * one whose error counts are of this epoch. */
static const cs_worker *next_block(int *i, int errors)
{
    unsigned epoch = atomic_load(&cmdstats__epoch);
    for (; *i < CS_MAX_WORKERS; (*i)++) {
        const cs_worker *w = atomic_load_explicit(&workers[*i], memory_order_acquire);
        if (w && (!errors || atomic_load_explicit(&w->epoch, memory_order_acquire) == epoch)) {
            (*i)++;
            return w;
        }
    }
    return NULL;
}

static unsigned long long rd(const atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

unsigned long long cmdstats_total_errors(void)
{
    unsigned long long n = 0;
    const cs_worker *w;
    for (int i = 0; (w = next_block(&i, 1));) n += rd(&w->errors);
    return n;
}

static const char *full_name(unsigned id, char *b, size_t n)
{
    return command_fullname(parent_of[id], by_id[id], b, n);
}

/* The first slot of the durations that were negative (2^63 ticks on). */
#define NEGATIVE ((63 - 6) * CS_HIST_SUB + CS_HIST_SUB)

/* Command id's counters summed over the workers into t, its histogram into
 * h (CS_HIST_SLOTS counts; a negative duration counts as 0). */
static void sum_def(const cmd_def *def, cs_total *t, unsigned long long *h)
{
    const cs_worker *w;
    unsigned long long ticks = 0;
    memset(t, 0, sizeof *t);
    memset(h, 0, sizeof *h * CS_HIST_SLOTS);
    for (int i = 0; (w = next_block(&i, 0));) {
        const cs_cmd *c = &unbiased(atomic_load_explicit(&w->cmds, memory_order_acquire))[cmdstats__id(def)];
        const atomic_ullong *wh = atomic_load_explicit(&c->hist, memory_order_acquire);
        ticks += rd(&c->ticks);
        t->rejected += rd(&c->rejected);
        t->failed += rd(&c->failed);
        for (int s = 0; wh && s < CS_HIST_SLOTS; s++) {
            unsigned long long v = rd(&wh[s]);
            h[s < NEGATIVE ? s : 0] += v;
            t->calls += v;
        }
    }
    t->ns = cmdstats_ns(ticks);
    t->hist = h;
}

static void sum_cmd(unsigned id, cs_total *t, unsigned long long *h) { sum_def(by_id[id], t, h); }

unsigned long long cmdstats_histogram(const cmd_def *def, unsigned long long *h)
{
    cs_total t;
    sum_def(def, &t, h);
    return t.calls;
}

void cmdstats_foreach(void (*fn)(const cs_total *t, void *ctx), void *ctx)
{
    unsigned long long *h = xmalloc(sizeof *h * CS_HIST_SLOTS);
    for (unsigned id = 0; id < nids; id++) {
        cs_total t;
        char name[64];
        sum_cmd(id, &t, h);
        if (!t.calls && !t.rejected && !t.failed) continue;
        t.name = full_name(id, name, sizeof name);
        fn(&t, ctx);
    }
    free(h);
}

void cmdstats_info_commands(buf *out)
{
    unsigned long long *h = xmalloc(sizeof *h * CS_HIST_SLOTS);
    for (unsigned id = 0; id < nids; id++) {
        cs_total t;
        unsigned long long usec;
        char name[64];
        sum_cmd(id, &t, h);
        if (!t.calls && !t.rejected && !t.failed) continue;
        usec = t.ns / 1000;
        buf_printf(out, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,"
                        "failed_calls=%llu\r\n",
                   full_name(id, name, sizeof name), t.calls, usec,
                   t.calls ? (double)usec / (double)t.calls : 0.0, t.rejected, t.failed);
    }
    free(h);
}

typedef struct err_sum {
    const char *name;
    unsigned long long count;
} err_sum;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const err_sum *)a)->name, ((const err_sum *)b)->name);
}

/* In Redis's order: by name, bytewise. */
void cmdstats_info_errors(buf *out)
{
    err_sum sums[CS_ERR_KINDS * 2];
    size_t n = 0;
    const cs_worker *w;
    for (int i = 0; (w = next_block(&i, 1));) {
        int k = atomic_load_explicit(&w->nerr, memory_order_acquire);
        for (int e = 0; e < k; e++) {
            size_t j;
            for (j = 0; j < n && strcmp(sums[j].name, w->err[e].name); j++) {}
            if (j == n) {
                if (n == sizeof sums / sizeof sums[0]) continue;
                sums[n++] = (err_sum){w->err[e].name, 0};
            }
            sums[j].count += rd(&w->err[e].count);
        }
    }
    qsort(sums, n, sizeof sums[0], by_name);
    for (size_t j = 0; j < n; j++)
        if (sums[j].count) buf_printf(out, "errorstat_%s:count=%llu\r\n", sums[j].name, sums[j].count);
}

/* The lowest duration (ticks) slot idx holds, and the log2 of its width. */
static uint64_t slot_low(int idx, unsigned *width_log2)
{
    unsigned b = idx < 2 * CS_HIST_SUB ? 0 : (unsigned)(idx / CS_HIST_SUB) - 1;
    *width_log2 = b;
    return (uint64_t)(idx - (int)b * CS_HIST_SUB) << b;
}

uint64_t cmdstats_slot_max_ns(int idx)
{
    unsigned b;
    uint64_t low = slot_low(idx, &b);
    return cmdstats_ns(low + (1ull << b) - 1);
}

/* The value HDR reports for a percentile of the counts: the highest value
 * of the slot where the running count reaches it (the lowest for 0). */
static double percentile_us(const unsigned long long *h, unsigned long long total, double pct)
{
    long long want = (long long)((pct < 100.0 ? pct : 100.0) / 100 * (double)total + 0.5);
    unsigned long long run = 0;
    int idx;
    unsigned b;
    if (want < 1) want = 1;
    for (idx = 0; idx < CS_HIST_SLOTS; idx++)
        if ((run += h[idx]) >= (unsigned long long)want) break;
    if (idx == CS_HIST_SLOTS) return 0;
    if (pct == 0.0) return (double)cmdstats_ns(slot_low(idx, &b)) / 1000.0;
    return (double)cmdstats_slot_max_ns(idx) / 1000.0;
}

uint64_t cmdstats_slot_ns(int slot)
{
    unsigned b;
    return cmdstats_ns(slot_low(slot, &b));
}

void cmdstats_info_latency(cmd_env *env, buf *out)
{
    char *spec, *save = NULL;
    double pcts[64];
    int np = 0;
    unsigned long long *h;
    if (!cfg_ll(&env->cfg->latency_tracking)) return;   /* kept, not shown */
    spec = config_str(env->cfg, &env->cfg->latency_tracking_info_percentiles);
    h = xmalloc(sizeof *h * CS_HIST_SLOTS);
    for (char *tok = strtok_r(spec, " ", &save); tok && np < 64; tok = strtok_r(NULL, " ", &save))
        pcts[np++] = strtod(tok, NULL);
    for (unsigned id = 0; id < nids; id++) {
        cs_total t;
        char name[64];
        sum_cmd(id, &t, h);
        if (!t.calls) continue;
        buf_printf(out, "latency_percentiles_usec_%s:", full_name(id, name, sizeof name));
        for (int p = 0; p < np; p++)
            buf_printf(out, "%sp%g=%.3f", p ? "," : "", pcts[p], percentile_us(h, t.calls, pcts[p]));
        buf_append(out, "\r\n", 2);
    }
    free(h);
    free(spec);
}
