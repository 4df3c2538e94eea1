/* exposition.c - the metrics and the status page (see exposition.h). */
#include "cmd/exposition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cmd/cmdstats.h"
#include "lib/version.h"
#include "lib/util.h"

/* The families with one unlabelled sample: name, type, help. Filled in by
 * read_scalars, one assignment each. */
#define SCALARS(X)                                                                           \
    X(start_time, "kasi_start_time_seconds", "gauge", "Unix time the server started at")     \
    X(uptime, "kasi_uptime_seconds", "gauge", "Seconds since the server started")            \
    X(workers, "kasi_worker_threads", "gauge", "Worker threads serving clients")             \
    X(errors, "kasi_error_replies_total", "counter",                                         \
      "Error replies sent (reset by CONFIG RESETSTAT)")                                      \
    X(clients, "kasi_connected_clients", "gauge", "Clients connected (RESP)")                \
    X(blocked, "kasi_blocked_clients", "gauge", "Clients waiting in a blocking command")     \
    X(maxclients, "kasi_max_clients", "gauge", "maxclients")                                 \
    X(mem_used, "kasi_memory_used_bytes", "gauge",                                           \
      "Memory used as maxmemory counts it (INFO used_memory)")                               \
    X(mem_peak, "kasi_memory_peak_bytes", "gauge", "Most memory used so far (as sampled)")    \
    X(mem_rss, "kasi_memory_rss_bytes", "gauge", "Resident set size of the process")         \
    X(mem_max, "kasi_memory_max_bytes", "gauge", "maxmemory (0: no limit)")                  \
    X(cpu_user, "kasi_cpu_user_seconds_total", "counter", "CPU time spent in user mode")     \
    X(cpu_sys, "kasi_cpu_system_seconds_total", "counter", "CPU time spent in the kernel")   \
    X(domains, "kasi_domains", "gauge", "Domains in the keyspace")                           \
    X(channels, "kasi_pubsub_channels", "gauge", "Channels with subscribers")                \
    X(patterns, "kasi_pubsub_patterns", "gauge", "Pattern subscriptions")                    \
    X(changes, "kasi_rdb_changes_since_last_save", "gauge",                                  \
      "Writes since the last successful snapshot")                                           \
    X(last_save, "kasi_rdb_last_save_timestamp_seconds", "gauge",                            \
      "Unix time of the last successful snapshot")                                           \
    X(bgsave_ok, "kasi_rdb_last_bgsave_success", "gauge",                                    \
      "1 if the last background snapshot succeeded")                                         \
    X(bgsave_now, "kasi_rdb_bgsave_in_progress", "gauge", "1 while a snapshot is written")   \
    X(saves, "kasi_rdb_saves_total", "counter", "Snapshots written")                         \
    X(aof_on, "kasi_aof_enabled", "gauge", "1 when appendonly is on")                        \
    X(aof_rewriting, "kasi_aof_rewrite_in_progress", "gauge", "1 while the AOF is rewritten") \
    X(aof_rewrite_ok, "kasi_aof_last_rewrite_success", "gauge",                              \
      "1 if the last AOF rewrite succeeded")                                                 \
    X(aof_write_ok, "kasi_aof_last_write_success", "gauge",                                  \
      "1 if the last write to the AOF succeeded")                                            \
    X(aof_rewrites, "kasi_aof_rewrites_total", "counter", "AOF rewrites done")               \
    X(aof_size, "kasi_aof_current_size_bytes", "gauge", "Size of the AOF (0 when off)")

enum {
#define X(id, name, type, help) SC_##id,
    SCALARS(X)
#undef X
    SC_COUNT
};

/* The per-domain families: name, type, help, the ks_stats field. */
#define DOMAIN_FAMILIES(X)                                                                   \
    X("kasi_domain_keys", "gauge", "Keys in the domain", keys)                               \
    X("kasi_domain_expiring_keys", "gauge", "Keys with a time to live", expires)             \
    X("kasi_domain_memory_bytes", "gauge", "Bytes of the domain's keys and tables", mem)     \
    X("kasi_domain_hits_total", "counter", "Lookups that found their key", hits)             \
    X("kasi_domain_misses_total", "counter", "Lookups that did not", misses)                 \
    X("kasi_domain_sets_total", "counter", "Keys written", sets)                             \
    X("kasi_domain_expired_keys_total", "counter", "Keys removed as they expired", expired)  \
    X("kasi_domain_evicted_keys_total", "counter", "Keys evicted at maxmemory", evicted)

/* The latency buckets, in seconds (Prometheus's le), past 1 us. */
static const double le_secs[] = {1e-6,   5e-6,   1e-5,  2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
                                 1e-3,   2.5e-3, 5e-3,  1e-2,   2.5e-2, 5e-2, 0.1, 0.25,
                                 0.5,    1,      2.5,   5,      10};
#define NBUCKETS (sizeof le_secs / sizeof le_secs[0])

static void family(buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: Prometheus escapes only \ " and newline, and wants UTF-8;
 * a domain name is any bytes, so the unprintable ones (and '%') are
 * percent-encoded, %xx, which reads back unambiguously. */
static void label_value(buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\\' || ch == '"') buf_printf(out, "\\%c", ch);
        else if (ch < ' ' || ch >= 127 || ch == '%') buf_printf(out, "%%%02X", ch);
        else buf_append(out, &p[i], 1);
    }
}

/* The domains shown: "default" always, the others with keys or traffic. */
typedef struct dom {
    char name[KS_DOMAIN_NAME_MAX];
    size_t len;
    ks_stats st;
} dom;

typedef struct dom_list {
    keyspace *ks;
    dom *v;
    size_t n, cap;
    ks_stats sum;
} dom_list;

static void collect(domain *d, void *opaque)
{
    dom_list *l = opaque;
    size_t len;
    const char *name = ks_domain_name(d, &len);
    dom *x;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    x = &l->v[l->n];
    ks_domain_stats(d, &x->st);
    l->sum.hits += x->st.hits;
    l->sum.misses += x->st.misses;
    l->sum.keys += x->st.keys;
    if (x->st.keys == 0 && !(x->st.hits || x->st.misses || x->st.sets) && d != ks_default(l->ks))
        return;
    x->len = len < sizeof x->name ? len : sizeof x->name;
    memcpy(x->name, name, x->len);
    l->n++;
}

static void read_scalars(cmd_env *env, double *v)
{
    const cmd_host *h = env->host;
    struct rusage ru;
    persist_status ps;
    int64_t now = util_now_ms();
    v[SC_start_time] = (double)h->start_ms / 1000.0;
    v[SC_uptime] = (double)(now - h->start_ms) / 1000.0;
    v[SC_workers] = h->nworkers;
    v[SC_errors] = (double)cmdstats_total_errors();
    v[SC_clients] = (double)h->clients(h->ctx);
    v[SC_blocked] = env->bus ? (double)ps_nblocked(env->bus) : 0;
    v[SC_maxclients] = (double)cfg_ll(&env->cfg->maxclients);
    v[SC_mem_used] = (double)ks_used_memory(env->ks);
    v[SC_mem_peak] = (double)ks_peak_memory(env->ks);
    v[SC_mem_rss] = (double)util_rss_bytes();
    v[SC_mem_max] = (double)cfg_ll(&env->cfg->maxmemory);
    getrusage(RUSAGE_SELF, &ru);
    v[SC_cpu_user] = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    v[SC_cpu_sys] = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    v[SC_domains] = ks_domain_count(env->ks);
    v[SC_channels] = env->bus ? (double)ps_nchannels(env->bus, 0) : 0;
    v[SC_patterns] = env->bus ? (double)ps_numpat(env->bus) : 0;
    persist_get_status(env->ps, &ps);
    v[SC_changes] = (double)ps.changes_since_save;
    v[SC_last_save] = (double)ps.last_save_time;
    v[SC_bgsave_ok] = ps.last_bgsave_ok;
    v[SC_bgsave_now] = ps.bgsave_in_progress;
    v[SC_saves] = (double)ps.saves;
    v[SC_aof_on] = ps.aof_enabled;
    v[SC_aof_rewriting] = ps.rewrite_in_progress;
    v[SC_aof_rewrite_ok] = ps.last_rewrite_ok;
    v[SC_aof_write_ok] = ps.aof_last_write_ok;
    v[SC_aof_rewrites] = (double)ps.rewrites;
    v[SC_aof_size] = (double)ps.aof_size;
}

/* The commands' families, one command at a time: each family's samples
 * must be contiguous, so each command's lines go to that family's buffer. */
typedef struct cmd_out {
    buf calls, rejected, failed, hist;
    unsigned char *bucket_of;   /* each histogram slot's bucket (NBUCKETS: +Inf) */
} cmd_out;

static void cmd_label(buf *out, const char *metric, const char *cmd)
{
    buf_printf(out, "%s{cmd=\"", metric);
    label_value(out, cmd, strlen(cmd));
    buf_append(out, "\"", 1);
}

static void one_command(const cs_total *t, void *ctx)
{
    cmd_out *o = ctx;
    unsigned long long in[NBUCKETS + 1] = {0}, run = 0;
    cmd_label(&o->calls, "kasi_command_calls_total", t->name);
    buf_printf(&o->calls, "} %llu\n", t->calls);
    cmd_label(&o->rejected, "kasi_command_rejected_calls_total", t->name);
    buf_printf(&o->rejected, "} %llu\n", t->rejected);
    cmd_label(&o->failed, "kasi_command_failed_calls_total", t->name);
    buf_printf(&o->failed, "} %llu\n", t->failed);
    for (int s = 0; s < CS_HIST_SLOTS; s++) in[o->bucket_of[s]] += t->hist[s];
    for (size_t b = 0; b <= NBUCKETS; b++) {
        run += in[b];
        cmd_label(&o->hist, "kasi_command_duration_seconds_bucket", t->name);
        if (b < NBUCKETS) buf_printf(&o->hist, ",le=\"%g\"} %llu\n", le_secs[b], run);
        else buf_printf(&o->hist, ",le=\"+Inf\"} %llu\n", run);
    }
    cmd_label(&o->hist, "kasi_command_duration_seconds_sum", t->name);
    buf_printf(&o->hist, "} %.9f\n", (double)t->ns / 1e9);
    cmd_label(&o->hist, "kasi_command_duration_seconds_count", t->name);
    buf_printf(&o->hist, "} %llu\n", t->calls);
}

static void commands(buf *out)
{
    cmd_out o;
    memset(&o, 0, sizeof o);
    /* a slot counts under the first bound that its longest duration is within */
    o.bucket_of = xmalloc(CS_HIST_SLOTS);
    for (int s = 0; s < CS_HIST_SLOTS; s++) {
        double secs = (double)cmdstats_slot_max_ns(s) / 1e9;
        size_t b = 0;
        while (b < NBUCKETS && secs > le_secs[b]) b++;
        o.bucket_of[s] = (unsigned char)b;
    }
    cmdstats_foreach(one_command, &o);
    family(out, "kasi_command_calls_total", "counter", "Calls of each command (reset by CONFIG RESETSTAT)");
    buf_append(out, o.calls.data, o.calls.len);
    family(out, "kasi_command_rejected_calls_total", "counter",
           "Calls refused before they ran (arity, NOAUTH, OOM ...)");
    buf_append(out, o.rejected.data, o.rejected.len);
    family(out, "kasi_command_failed_calls_total", "counter", "Calls that ran and replied an error");
    buf_append(out, o.failed.data, o.failed.len);
    family(out, "kasi_command_duration_seconds", "histogram", "Time each call of a command took");
    buf_append(out, o.hist.data, o.hist.len);
    buf_free(&o.calls);
    buf_free(&o.rejected);
    buf_free(&o.failed);
    buf_free(&o.hist);
    free(o.bucket_of);
}

static void workers(cmd_env *env, buf *out)
{
    const cmd_host *h = env->host;
    cmd_stats *st = xmalloc(sizeof *st * (size_t)h->nworkers);
    long *conns = xmalloc(sizeof *conns * (size_t)h->nworkers);
    for (int i = 0; i < h->nworkers; i++) h->worker_stats(h->ctx, i, &st[i], &conns[i]);
    family(out, "kasi_worker_commands_processed_total", "counter", "Commands each worker thread ran");
    for (int i = 0; i < h->nworkers; i++)
        buf_printf(out, "kasi_worker_commands_processed_total{worker=\"%d\"} %llu\n", i,
                   (unsigned long long)atomic_load(&st[i].commands));
    family(out, "kasi_worker_connections", "gauge", "Connections each worker thread serves");
    for (int i = 0; i < h->nworkers; i++)
        buf_printf(out, "kasi_worker_connections{worker=\"%d\"} %ld\n", i, conns[i]);
    free(conns);
    free(st);
}

void exposition_metrics(cmd_env *env, buf *out)
{
    static const struct {
        const char *name, *type, *help;
    } sc[] = {
#define X(id, name, type, help) {name, type, help},
        SCALARS(X)
#undef X
    };
    double v[SC_COUNT];
    cmd_stats sum;
    dom_list dl = {.ks = env->ks};
    family(out, "kasi_build_info", "gauge", "Always 1: the version, and the Redis version it speaks");
    buf_printf(out, "kasi_build_info{version=\"%s\",redis_version=\"%s\"} 1\n", KASI_VERSION,
               KASI_REDIS_VERSION);
    read_scalars(env, v);
    for (int i = 0; i < SC_COUNT; i++) {
        family(out, sc[i].name, sc[i].type, sc[i].help);
        buf_printf(out, "%s %.15g\n", sc[i].name, v[i]);
    }
    env->host->stats(env->host->ctx, &sum);
#define X(f, name, metric, help)                                                             \
    family(out, metric, "counter", help);                                                    \
    buf_printf(out, "%s %llu\n", metric, (unsigned long long)atomic_load(&sum.f));
    CMD_STATS(X)
#undef X
    ks_foreach_domain(env->ks, collect, &dl);
#define X(metric, type, help, field)                                                         \
    family(out, metric, type, help);                                                         \
    for (size_t i = 0; i < dl.n; i++) {                                                      \
        buf_printf(out, "%s{domain=\"", metric);                                             \
        label_value(out, dl.v[i].name, dl.v[i].len);                                         \
        buf_printf(out, "\"} %llu\n", (unsigned long long)dl.v[i].st.field);                 \
    }
    DOMAIN_FAMILIES(X)
#undef X
    free(dl.v);
    workers(env, out);
    commands(out);
}

/* HTML text: the markup characters as entities, unprintable bytes as %xx. */
static void html_text(buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '<') buf_append(out, "&lt;", 4);
        else if (ch == '>') buf_append(out, "&gt;", 4);
        else if (ch == '&') buf_append(out, "&amp;", 5);
        else if (ch == '"') buf_append(out, "&quot;", 6);
        else if (ch < ' ' || ch >= 127 || ch == '%') buf_printf(out, "%%%02X", ch);
        else buf_append(out, &p[i], 1);
    }
}

void exposition_status(cmd_env *env, buf *out)
{
    dom_list dl = {.ks = env->ks};
    int64_t up = (util_now_ms() - env->host->start_ms) / 1000;
    unsigned long long lookups;
    char used[32], rss[32];
    ks_foreach_domain(env->ks, collect, &dl);
    lookups = dl.sum.hits + dl.sum.misses;
    util_human_bytes(used, sizeof used, (double)ks_used_memory(env->ks));
    util_human_bytes(rss, sizeof rss, (double)util_rss_bytes());
    buf_printf(out,
               "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Kasi</title></head><body>\n"
               "<h1>Kasi %s</h1>\n<table>\n"
               "<tr><th align=\"left\">Version</th><td>%s (Redis %s)</td></tr>\n"
               "<tr><th align=\"left\">Uptime</th><td>%lld s (%lld d %02lld:%02lld)</td></tr>\n"
               "<tr><th align=\"left\">Memory used</th><td>%s</td></tr>\n"
               "<tr><th align=\"left\">Resident</th><td>%s</td></tr>\n"
               "<tr><th align=\"left\">Keys</th><td>%llu</td></tr>\n",
               KASI_VERSION, KASI_VERSION, KASI_REDIS_VERSION, (long long)up, (long long)up / 86400,
               (long long)up % 86400 / 3600, (long long)up % 3600 / 60, used, rss,
               (unsigned long long)dl.sum.keys);
    if (lookups)
        buf_printf(out, "<tr><th align=\"left\">Hit ratio</th><td>%.2f%% (%llu of %llu lookups)</td></tr>\n",
                   100.0 * (double)dl.sum.hits / (double)lookups, (unsigned long long)dl.sum.hits, lookups);
    else
        buf_printf(out, "<tr><th align=\"left\">Hit ratio</th><td>no lookups yet</td></tr>\n");
    buf_printf(out, "</table>\n<h2>Domains</h2>\n<table>\n"
                    "<tr><th align=\"left\">Domain</th><th>Keys</th><th>Expiring</th>"
                    "<th>Hits</th><th>Misses</th></tr>\n");
    for (size_t i = 0; i < dl.n; i++) {
        buf_printf(out, "<tr><td>");
        html_text(out, dl.v[i].name, dl.v[i].len);
        buf_printf(out, "</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n",
                   (unsigned long long)dl.v[i].st.keys, (unsigned long long)dl.v[i].st.expires,
                   (unsigned long long)dl.v[i].st.hits, (unsigned long long)dl.v[i].st.misses);
    }
    buf_printf(out, "</table>\n<p><a href=\"/metrics\">Metrics</a> (Prometheus)</p>\n</body></html>\n");
    free(dl.v);
}
