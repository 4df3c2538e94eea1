/* cmdstats.h - what INFO commandstats, errorstats and latencystats and the
 * SLOWLOG and LATENCY read: each command's calls, microseconds, refusals
 * and failures, the error replies by their first word, a latency histogram
 * per command, the log of the slow commands, and their latency events.
 *
 * The counters are per worker: each worker thread attaches once
 * (cmdstats_attach) and then writes only its own block, with relaxed
 * loads and stores, so the request path shares no cache line with another
 * thread; INFO sums the blocks. CONFIG RESETSTAT does not write another
 * worker's block: it moves a global epoch on, a block of an older epoch
 * reads as zero, and its worker clears it before it next counts.
 *
 * Commands are counted as Redis 7.0's call() counts them: a refused one
 * (arity, NOAUTH, OOM ...: command.c's reject) adds to rejected_calls of
 * the command looked up (none for an unknown command or subcommand); one
 * that ran adds a call and its time, and failed_calls if its reply is an
 * error; a blocking command that waits is a call when it begins to wait,
 * and a slow log entry when it is served. Every error reply is counted
 * under its first word. */
#ifndef KASI_CMD_CMDSTATS_H
#define KASI_CMD_CMDSTATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "cmd/command.h"

/* Give each command and subcommand its counter slot; after command_init. */
void cmdstats_init(void);
/* The calling thread is worker `id` from now on: its commands are counted
 * (a thread that never attaches, such as the AOF loader's, counts none). */
void cmdstats_attach(int id);
/* slowlog-log-slower-than (us) or latency-monitor-threshold (ms)
 * changed. */
void cmdstats_configure(long long slower_than_us, long long latency_ms);

/* The clock commands are timed with, in ticks: the processor's
 * time-stamp counter where it runs at a constant rate (one instruction,
 * where clock_gettime costs some twenty even through the vDSO; durations
 * only, so its epoch does not matter), else the monotonic clock's ns.
 * cmdstats_init measures the tick against the monotonic clock. */
extern int cmdstats__tsc;
static inline uint64_t cmdstats__clock(int tsc)
{
    struct timespec ts;
#if defined(__x86_64__)
    if (__builtin_expect(tsc, 1)) return __rdtsc();
#endif
    (void)tsc;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}
static inline uint64_t cmdstats_clock(void) { return cmdstats__clock(cmdstats__tsc); }
/* Ticks in ns. */
uint64_t cmdstats_ns(uint64_t ticks);
/* INFO's monotonic_clock: the clock above, as Redis names its own. */
const char *cmdstats_clock_name(void);
/* Ticks in a microsecond (read-only once cmdstats_init returned). */
extern uint64_t cmdstats_ticks_per_us;

/* ---- the request path (inline: a few loads and stores per command) ---- */

/* Latency histograms, in ticks, laid out as HDR histograms are: bucket b
 * holds 64 slots of width 2^b (b = 0 holds 128 of width 1), so a value is
 * known to within 1.6%, over the whole range of a 64-bit count (the top
 * half, a negative duration, is read as 0). They count the calls too, so
 * they are kept whatever latency-tracking says (it only hides them). */
#define CS_HIST_SUB 64
#define CS_HIST_SLOTS ((64 - 6) * CS_HIST_SUB + CS_HIST_SUB)

/* One command's counters in one worker (time in ticks; the calls are
 * its histogram's total). */
typedef struct cs_cmd {
    atomic_ullong ticks, rejected, failed;
    _Atomic(atomic_ullong *) hist;   /* CS_HIST_SLOTS counts, made at the first call */
} cs_cmd;

/* Error replies by their first word: Redis keeps at most 128 kinds. */
#define CS_ERR_KINDS 128
#define CS_ERR_NAME 32
typedef struct cs_err {
    char name[CS_ERR_NAME + 1];
    atomic_ullong count;
} cs_err;

/* One worker's block; only its worker writes its counters. RESETSTAT
 * swaps the counters for the spare set, zeroed (the worker loads them at
 * each command anyway), and moves the epoch on for the error counts,
 * which the worker clears itself when it next counts one. */
typedef struct cs_worker {
    uint64_t mark;                /* when the last command ended, or the worker began reading */
    int tsc;                      /* cmdstats__tsc, at hand */
    atomic_uintptr_t cmds;        /* the counters' address, less cmdstats__base slots */
    cs_cmd *spare;                /* the other set; RESETSTAT's, under its lock */
    cs_cmd *sets[2];              /* both sets, as allocated (cmds is biased) */
    atomic_uint epoch;            /* the RESETSTAT its error counts are of */
    atomic_ullong errors;         /* error replies (total_error_replies) */
    atomic_int nerr;              /* kinds in err[], each published once named */
    cs_err err[CS_ERR_KINDS];
} cs_worker;
/* The calling thread's block: a worker's, or (a thread that never
 * attached, such as the AOF loader's) one that nothing reads. */
extern _Thread_local cs_worker *cmdstats__self;
extern cs_worker cmdstats__none;
extern atomic_uint cmdstats__epoch;
/* The shorter of slowlog-log-slower-than and latency-monitor-threshold,
 * in ticks (off: past every duration), as cmdstats_configure last set it:
 * a command under both costs this one comparison. */
extern atomic_ullong cmdstats__slow_at;
/* Counter slot of a row, by its address: rows are at least
 * sizeof(cmd_def) apart, so their addresses shifted by CS_SHIFT differ;
 * a worker's counters are a table over the span of the rows (a part of
 * this binary's data), indexed so, from cmdstats__base. */
#define CS_SHIFT (63 - __builtin_clzll(sizeof(cmd_def)))
extern uintptr_t cmdstats__base;

void cmdstats__failed(cs_cmd *c, const buf *out, size_t mark);
void cmdstats__slow(const cmd_call *x, uint64_t ticks);
/* Log x, which ran for ticks, in the slow log (slowlog.c). */
void slowlog__push(const cmd_call *x, uint64_t ticks);
atomic_ullong *cmdstats__hist(cs_cmd *c);

static inline uintptr_t cmdstats__id(const cmd_def *d)
{
    return ((uintptr_t)d >> CS_SHIFT) - cmdstats__base;
}

static inline cs_cmd *cmdstats__counter(cs_worker *w, const cmd_def *def)
{
    return (cs_cmd *)(atomic_load_explicit(&w->cmds, memory_order_relaxed) +
                      ((uintptr_t)def >> CS_SHIFT) * sizeof(cs_cmd));
}

/* The histogram slot of a duration. */
static inline uint64_t cmdstats_hist_slot(uint64_t t)
{
    uint64_t b = (uint64_t)(63 - __builtin_clzll(t | (2 * CS_HIST_SUB - 1))) - 6;
    return b * CS_HIST_SUB + (t >> b);
}

/* One call of t ticks to c. */
static inline void cmdstats__call(cs_cmd *c, uint64_t t)
{
    atomic_ullong *h = atomic_load_explicit(&c->hist, memory_order_relaxed);
    if (__builtin_expect(!h, 0)) h = cmdstats__hist(c);
    stat_add(&h[cmdstats_hist_slot(t)], 1);
}

/* A command's time runs from the end of the one before it on the same
 * worker to its own end: one clock read per command. The worker marks
 * the start of each run of commands it reads (and of a retried one), so
 * the time spent waiting for input is nobody's; what a command's time
 * holds beyond its handler is its parse and checks. Returns the clock. */
static inline uint64_t cmdstats_mark(void)
{
    cs_worker *w = cmdstats__self;
    return w->mark = cmdstats__clock(w->tsc);
}

/* Before a handler runs: its start (pass it to cmdstats_after). */
static inline uint64_t cmdstats_begin(void) { return cmdstats__self->mark; }

/* After a handler ran for x, begun at t0 (cmdstats_begin), its reply
 * written from out->len == mark on; for a session not waiting on a
 * blocking command (else cmdstats_waiting). */
static inline void cmdstats_after(const cmd_call *x, uint64_t t0, size_t mark)
{
    cs_worker *w = cmdstats__self;
    /* (another core's counter may be a little behind: t wraps, and the sum
     * of ticks with it; the histogram reads it as 0, the log leaves it) */
    uint64_t now = cmdstats__clock(w->tsc), t = now - t0;
    cs_cmd *c = cmdstats__counter(w, x->def);
    w->mark = now;
    stat_add(&c->ticks, t);
    if (x->out->len > mark && x->out->data[mark] == '-') cmdstats__failed(c, x->out, mark);
    if (t >= atomic_load_explicit(&cmdstats__slow_at, memory_order_relaxed)) cmdstats__slow(x, t);
    cmdstats__call(c, t);
}

/* The same for a session that waits (SESS_BLOCKED) or was retried
 * (SESS_RETRY), as Redis 7.0 counts a blocking command: a call when it
 * begins to wait, its slow log entry when it is served. */
void cmdstats_waiting(const cmd_call *x, uint64_t t0, size_t mark);

/* ---- the rest, off the request path ---- */

/* A command refused before it ran, for a session whose last_cmd is the
 * command looked up (NULL: none), with the error text (no '-'). */
void cmdstats_rejected(const session *s, const char *msg);
/* A blocked command of def stopped waiting with no data (err: the error
 * it got, or NULL). */
void cmdstats_timed_out(const cmd_def *def, const char *err);
/* CONFIG RESETSTAT: every command's and error's counters start again. */
void cmdstats_reset(void);
/* Error replies counted since the last reset (INFO's total_error_replies). */
unsigned long long cmdstats_total_errors(void);
/* The latency histogram of def, summed over the workers, into h
 * (CS_HIST_SLOTS counts, the negative durations counted in slot 0);
 * returns its calls. */
unsigned long long cmdstats_histogram(const cmd_def *def, unsigned long long *h);
/* The duration in ns of a histogram slot's lowest value. */
uint64_t cmdstats_slot_ns(int slot);
/* INFO's commandstats, errorstats and latencystats lines. */
void cmdstats_info_commands(buf *out);
void cmdstats_info_errors(buf *out);
void cmdstats_info_latency(cmd_env *env, buf *out);

/* One command's counters summed over the workers (what INFO commandstats
 * shows, and the histogram latencystats reads), for the metrics endpoint. */
typedef struct cs_total {
    const char *name;                   /* its full name, "config|get" */
    unsigned long long calls, rejected, failed;
    uint64_t ns;                        /* time spent in all its calls */
    const unsigned long long *hist;     /* CS_HIST_SLOTS counts, summing to calls */
} cs_total;
/* Call fn for each command that was called, refused or failed (t and its
 * histogram are valid during the call only). */
void cmdstats_foreach(void (*fn)(const cs_total *t, void *ctx), void *ctx);
/* The longest duration, in ns, histogram slot idx holds. */
uint64_t cmdstats_slot_max_ns(int idx);

extern const cmd_family cmd_family_slowlog;
extern const cmd_family cmd_family_latency;

#endif
