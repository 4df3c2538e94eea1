/* latency.c - LATENCY LATEST, HISTORY, RESET, GRAPH, DOCTOR, HISTOGRAM and
 * HELP, as Redis 7.0 answers them: the first five read the latency
 * monitor's series (lib/latency.h), HISTOGRAM the per-command histograms
 * of INFO latencystats (cmdstats.h), re-binned as Redis reports its own.
 *
 * The events recorded, by the layer that sees them: "command" and
 * "fast-command" (cmdstats.c, for a command that reached the threshold;
 * "command-unblocking" for a blocked one when it is served),
 * "expire-cycle" and "eviction-cycle" (the store), "aof-write" (and one
 * of "aof-write-alone", "-pending-fsync" and "-active-child" with it) and
 * "aof-fsync-always" (aof.c), and "fork" (persist.c: the pause that takes
 * a background save's or rewrite's instant, which is what Redis's fork
 * costs its clients; Kasi does not fork). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/cmdstats.h"
#include "lib/latency.h"
#include "persist/persist.h"

/* Argument i as an event name (NUL-terminated in name); 0, or -1 when it
 * cannot name one (too long, or holding a NUL). */
static int event_arg(const cmd_call *x, int i, char name[LATENCY_NAME_MAX])
{
    const karg *a = &x->argv[i];
    if (a->n >= LATENCY_NAME_MAX || memchr(a->p, '\0', a->n)) return -1;
    memcpy(name, a->p, a->n);
    name[a->n] = '\0';
    return 0;
}

/* The i-th sample of ts, oldest first (time 0: an empty slot). */
static const latency_sample *nth(const latency_series *ts, int i)
{
    return &ts->samples[(ts->idx + i) % LATENCY_TS_LEN];
}

static void cmd_latency_latest(cmd_call *x)
{
    int n;
    latency_series *all = latency_copy(&n);
    resp_array(x->out, n);
    for (int i = 0; i < n; i++) {
        const latency_sample *last = nth(&all[i], LATENCY_TS_LEN - 1);
        resp_array(x->out, 4);
        resp_bulk(x->out, all[i].name, strlen(all[i].name));
        resp_int(x->out, last->time);
        resp_int(x->out, last->ms);
        resp_int(x->out, all[i].max);
    }
    free(all);
}

static void cmd_latency_history(cmd_call *x)
{
    char name[LATENCY_NAME_MAX];
    latency_series ts;
    size_t token;
    int n = 0;
    if (event_arg(x, 2, name) < 0 || latency_find(name, &ts) < 0) {
        resp_array(x->out, 0);
        return;
    }
    token = resp_array_defer(x->out);
    for (int i = 0; i < LATENCY_TS_LEN; i++) {
        const latency_sample *s = nth(&ts, i);
        if (!s->time) continue;
        resp_array(x->out, 2);
        resp_int(x->out, s->time);
        resp_int(x->out, s->ms);
        n++;
    }
    resp_array_fill(x->out, token, n);
}

static void cmd_latency_reset(cmd_call *x)
{
    char name[LATENCY_NAME_MAX];
    int n = 0;
    if (x->argc == 2) n = latency_reset(NULL);
    for (int i = 2; i < x->argc; i++)
        if (event_arg(x, i, name) == 0) n += latency_reset(name);
    resp_int(x->out, n);
}

/* ---- GRAPH: Redis's sparkline of the samples, 80 columns by 4 rows,
 * filled, with each sample's age written downwards under it ---- */

#define GRAPH_COLS 80
#define GRAPH_ROWS 4

typedef struct spark {
    double v[LATENCY_TS_LEN], min, max;
    char label[LATENCY_TS_LEN][24];
    int n;
} spark;

/* Rows for samples [off, off + len) of sp. */
static void spark_range(buf *out, const spark *sp, int off, int len)
{
    static const char fill[] = "_o#";
    const int levels = 3, steps = levels * GRAPH_ROWS;
    double range = sp->max - sp->min;
    char line[GRAPH_COLS + 1];
    if (range == 0) range = 1;
    for (int row = 0;; row++) {
        int more = 0;
        memset(line, ' ', (size_t)len);
        for (int j = 0; j < len && row != GRAPH_ROWS; j++) {
            int step = (int)((int)((sp->v[off + j] - sp->min) * steps) / range), k;
            if (step < 0) step = 0;
            if (step >= steps) step = steps - 1;
            if (row < GRAPH_ROWS) {
                k = step - (GRAPH_ROWS - row - 1) * levels;
                more = 1;
                if (k >= 0 && k < levels) line[j] = fill[k];
                else if (k >= levels) line[j] = '|';
            } else if ((int)strlen(sp->label[off + j]) > row - GRAPH_ROWS - 1) {
                more = 1;
                line[j] = sp->label[off + j][row - GRAPH_ROWS - 1];
            }
        }
        if (row == GRAPH_ROWS) more = 1;   /* a blank line above the labels */
        if (!more) return;
        buf_append(out, line, (size_t)len);
        buf_append(out, "\n", 1);
    }
}

static void cmd_latency_graph(cmd_call *x)
{
    char name[LATENCY_NAME_MAX];
    latency_series ts;
    spark *sp;
    buf out = {0};
    time_t now = time(NULL);
    if (event_arg(x, 2, name) < 0 || latency_find(name, &ts) < 0) {
        resp_errorf(x->out, "ERR No samples available for event '%.*s'", (int)x->argv[2].n, x->argv[2].p);
        return;
    }
    sp = xcalloc(1, sizeof *sp);
    for (int i = 0; i < LATENCY_TS_LEN; i++) {
        const latency_sample *s = nth(&ts, i);
        long age;
        if (!s->time) continue;
        if (sp->n == 0 || s->ms < sp->min) sp->min = s->ms;
        if (sp->n == 0 || s->ms > sp->max) sp->max = s->ms;
        age = (long)(now - s->time);
        if (age < 60) snprintf(sp->label[sp->n], 24, "%lds", age);
        else if (age < 3600) snprintf(sp->label[sp->n], 24, "%ldm", age / 60);
        else if (age < 86400) snprintf(sp->label[sp->n], 24, "%ldh", age / 3600);
        else snprintf(sp->label[sp->n], 24, "%ldd", age / 86400);
        sp->v[sp->n++] = s->ms;
    }
    buf_printf(&out, "%s - high %lu ms, low %lu ms (all time high %lu ms)\n", ts.name, (unsigned long)sp->max,
               (unsigned long)sp->min, (unsigned long)ts.max);
    for (int j = 0; j < GRAPH_COLS; j++) buf_append(&out, "-", 1);
    buf_append(&out, "\n", 1);
    for (int j = 0; j < sp->n; j += GRAPH_COLS) {
        if (j) buf_append(&out, "\n", 1);
        spark_range(&out, sp, j, sp->n - j < GRAPH_COLS ? sp->n - j : GRAPH_COLS);
    }
    reply_verbatim(x, out.data, out.len);
    buf_free(&out);
    free(sp);
}

/* ---- DOCTOR ---- */

/* Bytes of anonymous huge pages the process uses (0 if unknown). */
static long long anon_huge_pages(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long long kb = 0, v;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %lld kB", &v) == 1) kb += v;
    fclose(f);
    return kb * 1024;
}

/* The advice, in the order Redis gives it; each event sets some. */
enum {
    ADV_BETTER_VM, ADV_SLOWLOG_ENABLED, ADV_SLOWLOG_TUNING, ADV_SLOWLOG_INSPECT, ADV_SCHEDULER,
    ADV_LOCAL_DISK, ADV_SSD, ADV_DATA_WRITEBACK, ADV_DISK_CONTENTION, ADV_NO_APPENDFSYNC,
    ADV_RELAX_FSYNC, ADV_WRITE_LOAD, ADV_HZ, ADV_LARGE_OBJECTS, ADV_MASS_EVICTION, ADV_THP, ADV_N
};

/* What each event asks for. */
static const struct {
    const char *event;
    unsigned advice;
} event_advice[] = {
    {"fast-command", 1u << ADV_SCHEDULER},
    {"aof-write-pending-fsync", 1u << ADV_LOCAL_DISK | 1u << ADV_DISK_CONTENTION | 1u << ADV_SSD |
                                    1u << ADV_DATA_WRITEBACK},
    {"aof-write-active-child", 1u << ADV_NO_APPENDFSYNC | 1u << ADV_DATA_WRITEBACK | 1u << ADV_SSD},
    {"aof-write-alone", 1u << ADV_LOCAL_DISK | 1u << ADV_DATA_WRITEBACK | 1u << ADV_SSD},
    {"aof-fsync-always", 1u << ADV_RELAX_FSYNC},
    {"aof-fstat", 1u << ADV_DISK_CONTENTION | 1u << ADV_LOCAL_DISK},
    {"rdb-unlink-temp-file", 1u << ADV_DISK_CONTENTION | 1u << ADV_LOCAL_DISK},
    {"aof-rewrite-diff-write", 1u << ADV_WRITE_LOAD | 1u << ADV_DATA_WRITEBACK | 1u << ADV_SSD |
                                   1u << ADV_LOCAL_DISK},
    {"aof-rename", 1u << ADV_WRITE_LOAD | 1u << ADV_DATA_WRITEBACK | 1u << ADV_SSD | 1u << ADV_LOCAL_DISK},
    {"expire-cycle", 1u << ADV_HZ | 1u << ADV_LARGE_OBJECTS},
    {"eviction-del", 1u << ADV_LARGE_OBJECTS},
    {"eviction-cycle", 1u << ADV_MASS_EVICTION},
};

static const char *const advice_text[ADV_N] = {
    [ADV_BETTER_VM] = "- If you are using a virtual machine, consider upgrading it with a faster one using a "
                      "hypervisior that provides less latency during fork() calls. Xen is known to have poor "
                      "fork() performance. Even in the context of the same VM provider, certain kinds of "
                      "instances can execute fork faster than others.\n",
    [ADV_SLOWLOG_ENABLED] = "- There are latency issues with potentially slow commands you are using. Try to "
                            "enable the Slow Log Redis feature using the command 'CONFIG SET "
                            "slowlog-log-slower-than %llu'. If the Slow log is disabled Redis is not able to "
                            "log slow commands execution for you.\n",
    [ADV_SLOWLOG_TUNING] = "- Your current Slow Log configuration only logs events that are slower than your "
                           "configured latency monitor threshold. Please use 'CONFIG SET "
                           "slowlog-log-slower-than %llu'.\n",
    [ADV_SLOWLOG_INSPECT] = "- Check your Slow Log to understand what are the commands you are running which are "
                            "too slow to execute. Please check https://redis.io/commands/slowlog for more "
                            "information.\n",
    [ADV_SCHEDULER] = "- The system is slow to execute Redis code paths not containing system calls. This "
                      "usually means the system does not provide Redis CPU time to run for long periods. You "
                      "should try to:\n"
                      "  1) Lower the system load.\n"
                      "  2) Use a computer / VM just for Redis if you are running other software in the same "
                      "system.\n"
                      "  3) Check if you have a \"noisy neighbour\" problem.\n"
                      "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
                      "your system.\n"
                      "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if "
                      "you are using Jemalloc. However this may create fragmentation problems.\n",
    [ADV_LOCAL_DISK] = "- It is strongly advised to use local disks for persistence, especially if you are "
                       "using AOF. Remote disks provided by platform-as-a-service providers are known to be "
                       "slow.\n",
    [ADV_SSD] = "- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF "
                "log rewriting (resulting in smaller memory usage and smaller final AOF rewrite buffer "
                "flushes). With extremely high write load SSD disks can be a good option. However Redis should "
                "perform reasonably with high load using normal disks. Use this advice as a last resort.\n",
    [ADV_DATA_WRITEBACK] = "- Mounting ext3/4 filesystems with data=writeback can provide a performance boost "
                           "compared to data=ordered, however this mode of operation provides less guarantees, "
                           "and sometimes it can happen that after a hard crash the AOF file will have a "
                           "half-written command at the end and will require to be repaired before Redis "
                           "restarts.\n",
    [ADV_DISK_CONTENTION] = "- Try to lower the disk contention. This is often caused by other disk intensive "
                            "processes running in the same computer (including other Redis instances).\n",
    [ADV_NO_APPENDFSYNC] = "- Assuming from the point of view of data safety this is viable in your "
                           "environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so "
                           "that fsync will not be performed while there is a child rewriting the AOF file or "
                           "producing an RDB file (the moment where there is high disk contention).\n",
    [ADV_RELAX_FSYNC] = "- Your fsync policy is set to 'always'. It is very hard to get good performances with "
                        "such a setup, if possible try to relax the fsync policy to 'onesec'.\n",
    [ADV_WRITE_LOAD] = "- Latency during the AOF atomic rename operation or when the final difference is "
                       "flushed to the AOF file at the end of the rewrite, sometimes is caused by very high "
                       "write load, causing the AOF buffer to get very large. If possible try to send less "
                       "commands to accomplish the same work, or use Lua scripts to group multiple operations "
                       "into a single EVALSHA call.\n",
    [ADV_HZ] = "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' "
               "configuration parameter to 100 using 'CONFIG SET hz 100'.\n",
    [ADV_LARGE_OBJECTS] = "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
                          "blocking operation. If you have very large objects that are often deleted, expired, "
                          "or evicted, try to fragment those objects into multiple smaller objects.\n",
    [ADV_MASS_EVICTION] = "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large "
                          "objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster "
                          "large keys migrations (RESTORE command), may create sudden memory pressure forcing "
                          "the server to block trying to evict keys. \n",
    [ADV_THP] = "- I detected a non zero amount of anonymous huge pages used by your process. This creates very "
                "serious latency events in different conditions, especially when Redis is persisting on disk. "
                "To disable THP support use the command 'echo never > "
                "/sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so "
                "that the command will be executed again after a reboot. Note that even if you have already "
                "disabled THP, you still need to restart the Redis process to get rid of the huge pages "
                "already created.\n",
};

/* One event's line: its spikes' count, average, mean deviation, period
 * and worst, as Redis's analyzeLatencyForEvent reckons them. */
static void doctor_event(buf *out, int num, const latency_series *ts, time_t now)
{
    unsigned long long sum = 0, dev = 0;
    uint32_t avg = 0;
    int n = 0;
    int32_t oldest = 0;
    long long period = 0;
    for (int i = 0; i < LATENCY_TS_LEN; i++) {
        const latency_sample *s = &ts->samples[i];
        if (!s->time) continue;
        n++;
        sum += s->ms;
        if (!oldest || s->time < oldest) oldest = s->time;
    }
    if (n) {
        avg = (uint32_t)(sum / (unsigned long long)n);
        period = (long long)now - oldest;
        if (period == 0) period = 1;
        for (int i = 0; i < LATENCY_TS_LEN; i++)
            if (ts->samples[i].time)
                dev += (unsigned long long)llabs((long long)avg - (long long)ts->samples[i].ms);
        dev /= (unsigned long long)n;
    }
    buf_printf(out,
               "%d. %s: %d latency spikes (average %lums, mean deviation %lums, period %.2f sec). Worst all "
               "time event %lums.",
               num, ts->name, n, (unsigned long)avg, (unsigned long)dev, (double)period / n,
               (unsigned long)ts->max);
}

static void cmd_latency_doctor(cmd_call *x)
{
    const config *cfg = x->env->cfg;
    long long threshold = cfg_ll(&cfg->latency_monitor_threshold),
              slower = cfg_ll(&cfg->slowlog_log_slower_than);
    unsigned advice = 0;
    int n, advices = 0;
    latency_series *all = latency_copy(&n);
    time_t now = time(NULL);
    buf out = {0};
    if (n == 0 && threshold == 0) {
        buf_printf(&out, "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
                         "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
                         "order to enable it. If we weren't in a deep space mission I'd suggest to take a look "
                         "at https://redis.io/topics/latency-monitor.\n");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const char *ev = all[i].name;
        if (i == 0)
            buf_printf(&out, "Dave, I have observed latency spikes in this Redis instance. You don't mind "
                             "talking about it, do you Dave?\n\n");
        doctor_event(&out, i + 1, &all[i], now);
        if (strcasecmp(ev, "fork") == 0) {
            double rate = persist_fork_rate(x->env->ps);
            const char *q = rate < 10 ? "terrible" : rate < 25 ? "poor" : rate < 100 ? "good" : "excellent";
            if (rate < 25) {
                advice |= 1u << ADV_BETTER_VM;
                advices++;
            }
            buf_printf(&out, " Fork rate is %.2f GB/sec (%s).", rate, q);
        }
        if (strcasecmp(ev, "command") == 0) {
            if (slower < 0) advice |= 1u << ADV_SLOWLOG_ENABLED;
            else if (slower / 1000 > threshold) advice |= 1u << ADV_SLOWLOG_TUNING;
            advices += 2 + (slower < 0 || slower / 1000 > threshold);
            advice |= 1u << ADV_SLOWLOG_INSPECT | 1u << ADV_LARGE_OBJECTS;
        }
        for (size_t k = 0; k < sizeof event_advice / sizeof event_advice[0]; k++)
            if (strcasecmp(ev, event_advice[k].event) == 0) {
                advice |= event_advice[k].advice;
                advices += __builtin_popcount(event_advice[k].advice);
            }
        buf_append(&out, "\n", 1);
    }
    if (anon_huge_pages() > 0) {
        advice |= 1u << ADV_THP;
        advices++;
    }
    if (n == 0 && advices == 0) {
        buf_printf(&out, "Dave, no latency spike was observed during the lifetime of this Redis instance, not "
                         "in the slightest bit. I honestly think you ought to sit down calmly, take a stress "
                         "pill, and think things over.\n");
    } else if (advices == 0) {
        buf_printf(&out, "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please "
                         "use the Redis community to get some help, providing this report in your help "
                         "request.\n");
    } else {
        /* (Redis gives these two only under its settings; it counts them anyway) */
        if (cfg_ll(&cfg->appendfsync) != CFG_FSYNC_ALWAYS) advice &= ~(1u << ADV_RELAX_FSYNC);
        if (cfg_ll(&cfg->hz) >= 100) advice &= ~(1u << ADV_HZ);
        buf_printf(&out, "\nI have a few advices for you:\n\n");
        for (int a = 0; a < ADV_N; a++)
            if (advice & (1u << a)) {
                if (a == ADV_SLOWLOG_ENABLED || a == ADV_SLOWLOG_TUNING)
                    buf_printf(&out, advice_text[a], (unsigned long long)threshold * 1000);
                else
                    buf_append(&out, advice_text[a], strlen(advice_text[a]));
            }
    }
done:
    reply_verbatim(x, out.data, out.len);
    buf_free(&out);
    free(all);
}

/* ---- HISTOGRAM ----
 *
 * Redis records each call as its microseconds in ns (at least 1 ns, at
 * most 1 s) into an HDR histogram of 2 significant digits, and reports it
 * at the levels 1024 ns << k, each counting the calls up to the top of
 * the level's HDR bucket (1/128 of the level wide), keyed by that top in
 * whole us, the levels that add nothing left out. Kasi's histograms are
 * finer (cmdstats.h), so each of its slots falls in one level. */

#define HIST_LEVELS 21   /* 1024 ns << 20 is past 1 s */

static int level_of(uint64_t ns)
{
    uint64_t v = ns / 1000 * 1000;
    int k = 0;
    if (v < 1) v = 1;
    if (v > 1000000000) v = 1000000000;
    while (k < HIST_LEVELS - 1 && v >= (1024ull << k) + (8ull << k)) k++;
    return k;
}

static void reply_histogram(cmd_call *x, const cmd_def *parent, const cmd_def *d, unsigned long long *h,
                            unsigned long long calls)
{
    unsigned long long per[HIST_LEVELS] = {0}, run = 0;
    char buf[64];
    const char *name = command_fullname(parent, d, buf, sizeof buf);
    int used = 0;
    for (int s = 0; s < CS_HIST_SLOTS; s++)
        if (h[s]) per[level_of(cmdstats_slot_ns(s))] += h[s];
    for (int k = 0; k < HIST_LEVELS; k++) used += per[k] != 0;
    resp_bulk(x->out, name, strlen(name));
    reply_map(x, 2);
    resp_bulk(x->out, "calls", 5);
    resp_int(x->out, (long long)calls);
    resp_bulk(x->out, "histogram_usec", 14);
    reply_map(x, used);
    for (int k = 0; k < HIST_LEVELS; k++) {
        if (!per[k]) continue;
        run += per[k];
        resp_int(x->out, (long long)(((1024ull << k) + (8ull << k) - 1) / 1000));
        resp_int(x->out, (long long)run);
    }
}

/* d's histogram (and, for a container, its subcommands'), if it has
 * calls; returns how many were written. */
static int histogram_of(cmd_call *x, const cmd_def *parent, const cmd_def *d, unsigned long long *h, int subs)
{
    unsigned long long calls = cmdstats_histogram(d, h);
    int n = 0;
    if (calls) {
        reply_histogram(x, parent, d, h, calls);
        n++;
    }
    for (const cmd_def *s = subs ? d->subs : NULL; s && s->name; s++) n += histogram_of(x, d, s, h, 0);
    return n;
}

static void cmd_latency_histogram(cmd_call *x)
{
    unsigned long long *h = xmalloc(sizeof *h * CS_HIST_SLOTS);
    size_t token = reply_agg_defer(x);
    int n = 0;
    if (x->argc == 2)
        for (size_t i = 0; i < command_count(); i++) n += histogram_of(x, NULL, command_at(i), h, 1);
    for (int i = 2; i < x->argc; i++) {
        const cmd_def *parent, *d = command_lookup_full(x->argv[i].p, x->argv[i].n, &parent);
        if (d) n += histogram_of(x, parent, d, h, 1);   /* an unknown name adds nothing */
    }
    reply_map_fill(x, token, n);
    free(h);
}

static void cmd_latency_help(cmd_call *x)
{
    static const char *const lines[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified "
        "command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define A (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define TIPS_SPECIAL "nondeterministic_output request_policy:all_nodes response_policy:special"

static const cmd_def latency_subs[] = {
    {"reset", cmd_latency_reset, -2, A, 0, NOKEYS, "server", "2.8.13", "O(1)",
     "request_policy:all_nodes response_policy:all_succeeded", NULL},
    {"doctor", cmd_latency_doctor, 2, A, 0, NOKEYS, "server", "2.8.13", "O(1)", TIPS_SPECIAL, NULL},
    {"graph", cmd_latency_graph, 3, A, 0, NOKEYS, "server", "2.8.13", "O(1)", TIPS_SPECIAL, NULL},
    {"latest", cmd_latency_latest, 2, A, 0, NOKEYS, "server", "2.8.13", "O(1)", TIPS_SPECIAL, NULL},
    {"history", cmd_latency_history, 3, A, 0, NOKEYS, "server", "2.8.13", "O(1)", TIPS_SPECIAL, NULL},
    {"help", cmd_latency_help, 2, CMD_LOADING | CMD_STALE, 0, NOKEYS, "server", "2.8.13", "O(1)", NULL, NULL},
    {"histogram", cmd_latency_histogram, -2, A, 0, NOKEYS, "server", "7.0.0",
     "O(N) where N is the number of commands with latency information being retrieved.", TIPS_SPECIAL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

static const cmd_def rows[] = {
    {"latency", NULL, -2, 0, 0, NOKEYS, "server", "2.8.13", "Depends on subcommand.", NULL, latency_subs},
};

const cmd_family cmd_family_latency = CMD_FAMILY(rows);
