/* info.c - the INFO command's text: Redis's "# Section" and "field:value"
 * lines, plus a Kasi section with per-domain counters. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/cmdstats.h"
#include "cmd/command.h"
#include "pubsub/tracking.h"
#include "lib/bgfree.h"
#include "lib/version.h"

typedef void section_fn(cmd_env *env, buf *out);

/* What the counters INFO shows read at the last CONFIG RESETSTAT: it
 * shows them less these (the counters themselves are their workers' and
 * the domains' to write). */
static struct {
    pthread_mutex_t mu;
#define X(f, name, metric, help) unsigned long long f;
    CMD_STATS(X)
#undef X
    unsigned long long expired, evicted, hits, misses, lazyfreed;
} base = {.mu = PTHREAD_MUTEX_INITIALIZER};

static unsigned long long since(unsigned long long now, unsigned long long then)
{
    return now > then ? now - then : 0;   /* a domain dropped since takes its counts along */
}

atomic_ullong command_expire_us;

/* Redis's instantaneous metrics: each sample is the rate since the one
 * before (per second), and INFO shows the mean of the last INST_SAMPLES. */
#define INST_SAMPLES 16
enum { INST_OPS, INST_NET_IN, INST_NET_OUT, INST_KINDS };
static struct {
    pthread_mutex_t mu;
    int64_t last_ms;
    unsigned long long last[INST_KINDS];
    double rate[INST_KINDS][INST_SAMPLES];
    int next;
} inst = {.mu = PTHREAD_MUTEX_INITIALIZER};

void info_sample(cmd_env *env, int64_t now_ms)
{
    cmd_stats sum;
    unsigned long long cur[INST_KINDS];
    env->host->stats(env->host->ctx, &sum);
    cur[INST_OPS] = atomic_load(&sum.commands);
    cur[INST_NET_IN] = atomic_load(&sum.net_in);
    cur[INST_NET_OUT] = atomic_load(&sum.net_out);
    pthread_mutex_lock(&inst.mu);
    if (inst.last_ms && now_ms > inst.last_ms) {
        for (int k = 0; k < INST_KINDS; k++)
            inst.rate[k][inst.next] = (double)since(cur[k], inst.last[k]) * 1000 / (double)(now_ms - inst.last_ms);
        inst.next = (inst.next + 1) % INST_SAMPLES;
    }
    inst.last_ms = now_ms;
    memcpy(inst.last, cur, sizeof cur);
    pthread_mutex_unlock(&inst.mu);
}

static double inst_mean(int kind)
{
    double total = 0;
    for (int i = 0; i < INST_SAMPLES; i++) total += inst.rate[kind][i];
    return total / INST_SAMPLES;
}

static size_t system_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : 0;
}



static void sec_server(cmd_env *env, buf *out)
{
    struct utsname u;
    int64_t up = (util_now_ms() - env->host->start_ms) / 1000;
    uname(&u);
    buf_printf(out, "redis_version:%s\r\nkasi_version:%s\r\nredis_mode:standalone\r\n",
        KASI_REDIS_VERSION, KASI_VERSION);
    buf_printf(out, "os:%s %s %s\r\narch_bits:%d\r\nmultiplexing_api:epoll\r\n", u.sysname, u.release,
        u.machine, (int)sizeof(void *) * 8);
    buf_printf(out, "process_id:%d\r\nrun_id:%s\r\n", (int)getpid(), env->host->run_id);
    buf_printf(out, "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\n", (long long)up,
        (long long)up / 86400);
    buf_printf(out, "executable_threads:%d\r\n", env->host->nworkers);
    buf_printf(out, "redis_git_sha1:%s\r\nredis_git_dirty:%d\r\n",
               env->host->git_sha ? env->host->git_sha : "00000000", env->host->git_dirty);
    {
        /* the build's id: its version and tree, hashed (FNV-1a) */
        char what[128];
        uint64_t h = 1469598103934665603ULL;
        int n = snprintf(what, sizeof what, "%s %s %d", KASI_VERSION,
                         env->host->git_sha ? env->host->git_sha : "", env->host->git_dirty);
        for (int i = 0; i < n && i < (int)sizeof what; i++) h = (h ^ (unsigned char)what[i]) * 1099511628211ULL;
        buf_printf(out, "redis_build_id:%016llx\r\n", (unsigned long long)h);
    }
    buf_printf(out, "monotonic_clock:%s\r\natomicvar_api:c11-builtin\r\n", cmdstats_clock_name());
#ifdef __GNUC__
    buf_printf(out, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
    buf_printf(out, "gcc_version:0.0.0\r\n");
#endif
    buf_printf(out, "process_supervised:no\r\nserver_time_usec:%lld\r\nconfigured_hz:%lld\r\n",
               (long long)util_now_us(), cfg_ll(&env->cfg->hz));
    {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        buf_printf(out, "executable:%s\r\n", exe);
    }
    config_info(env->cfg, "server", out);
    buf_printf(out, "config_file:%s\r\n", env->cfg->config_file ? env->cfg->config_file : "");
}

static void sec_clients(cmd_env *env, buf *out)
{
    buf_printf(out, "connected_clients:%ld\r\n", env->host->clients(env->host->ctx));
    config_info(env->cfg, "clients", out);
    buf_printf(out, "blocked_clients:%lld\r\n",
               (env->bus ? ps_nblocked(env->bus) : 0) + atomic_load(&command_postponed));
    buf_printf(out, "tracking_clients:%ld\r\n", env->bus ? ps_count_state(env->bus, PS_ST_TRACKING) : 0);
    buf_printf(out, "clients_in_timeout_table:%ld\r\n", env->bus ? ps_count_state(env->bus, PS_ST_TIMED) : 0);
}


static void sec_memory(cmd_env *env, buf *out)
{
    size_t used = ks_used_memory(env->ks), rss = util_rss_bytes(), peak = ks_peak_memory(env->ks);
    char h1[32], h2[32];
    util_human_bytes(h1, sizeof h1, (double)used);
    util_human_bytes(h2, sizeof h2, (double)rss);
    buf_printf(out, "used_memory:%zu\r\nused_memory_human:%s\r\n", used, h1);
    util_human_bytes(h1, sizeof h1, (double)peak);
    buf_printf(out, "used_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n", peak, h1);
    buf_printf(out, "used_memory_peak_perc:%.2f%%\r\n", peak ? (double)used * 100 / (double)peak : 0.0);
    size_t total = system_memory();
    util_human_bytes(h1, sizeof h1, (double)total);
    buf_printf(out, "total_system_memory:%zu\r\ntotal_system_memory_human:%s\r\n", total, h1);
    buf_printf(out, "used_memory_rss:%zu\r\nused_memory_rss_human:%s\r\n", rss, h2);
    scripting_info(out);
    util_human_bytes(h1, sizeof h1, (double)cfg_ll(&env->cfg->maxmemory));
    config_info(env->cfg, "memory", out);
    buf_printf(out, "maxmemory_human:%s\r\n", h1);
    buf_printf(out, "mem_fragmentation_ratio:%.2f\r\nmem_fragmentation_bytes:%lld\r\nmem_allocator:libc\r\n",
        used ? (double)rss / (double)used : 0.0, (long long)rss - (long long)used);
    /* no replica has an output buffer, and nothing defragments: Redis's
     * fields, exact (tools such as the Prometheus exporter read them) */
    buf_printf(out, "mem_clients_slaves:0\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\n"
                    "mem_cluster_links:0\r\nactive_defrag_running:0\r\n");
    pthread_mutex_lock(&base.mu);
    buf_printf(out, "lazyfree_pending_objects:%zu\r\nlazyfreed_objects:%llu\r\n", bgfree_pending(),
               since(bgfree_done(), base.lazyfreed));
    pthread_mutex_unlock(&base.mu);
}

static void sec_persistence(cmd_env *env, buf *out) { persist_info(env->ps, out); }

static void add_stats(domain *d, void *opaque)
{
    ks_stats st;
    ks_stats *sum = opaque;
    ks_domain_stats(d, &st);
    sum->keys += st.keys;
    sum->expires += st.expires;
    sum->hits += st.hits;
    sum->misses += st.misses;
    sum->sets += st.sets;
    sum->expired += st.expired;
    sum->evicted += st.evicted;
}

static void sec_stats(cmd_env *env, buf *out)
{
    ks_stats t = {0};
    cmd_stats sum;
    env->host->stats(env->host->ctx, &sum);
    ks_foreach_domain(env->ks, add_stats, &t);
    pthread_mutex_lock(&base.mu);
#define X(f, name, metric, help) buf_printf(out, "%s:%llu\r\n", name, since(atomic_load(&sum.f), base.f));
    CMD_STATS(X)
#undef X
    buf_printf(out, "expired_keys:%llu\r\nevicted_keys:%llu\r\n", since(t.expired, base.expired),
               since(t.evicted, base.evicted));
    buf_printf(out, "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n", since(t.hits, base.hits),
               since(t.misses, base.misses));
    pthread_mutex_unlock(&base.mu);
    buf_printf(out, "total_error_replies:%llu\r\n", cmdstats_total_errors());
    pthread_mutex_lock(&inst.mu);
    buf_printf(out, "instantaneous_ops_per_sec:%lld\r\ninstantaneous_input_kbps:%.2f\r\n"
                    "instantaneous_output_kbps:%.2f\r\n",
               (long long)inst_mean(INST_OPS), inst_mean(INST_NET_IN) / 1024, inst_mean(INST_NET_OUT) / 1024);
    pthread_mutex_unlock(&inst.mu);
    buf_printf(out, "expire_cycle_cpu_milliseconds:%llu\r\n", atomic_load(&command_expire_us) / 1000);
    /* no replication, forks, client eviction, I/O threads apart from the
     * workers or replies from a master: these are 0 */
    buf_printf(out, "total_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\n"
                    "instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\n"
                    "evicted_clients:0\r\ntotal_forks:0\r\ntotal_active_defrag_time:0\r\n"
                    "current_active_defrag_time:0\r\nunexpected_error_replies:0\r\n"
                    "io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\n");
    /* no replicas, forks, defragmentation, cluster or MIGRATE: these are 0 */
    buf_printf(out, "sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nlatest_fork_usec:0\r\n"
                    "active_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\n"
                    "active_defrag_key_misses:0\r\nslave_expires_tracked_keys:0\r\n"
                    "migrate_cached_sockets:0\r\ncluster_connections:0\r\n");
    if (env->bus)
        buf_printf(out, "pubsub_channels:%lld\r\npubsub_patterns:%lld\r\npubsubshard_channels:%lld\r\n",
                   ps_nchannels(env->bus, 0), ps_numpat(env->bus), ps_nchannels(env->bus, 1));
    if (env->trk)
        buf_printf(out, "tracking_total_keys:%lld\r\ntracking_total_items:%lld\r\ntracking_total_prefixes:%lld\r\n",
                   tracking_keys(env->trk), tracking_items(env->trk), tracking_prefixes(env->trk));
}

/* A master without replicas, as Redis 7.0 shows one that never had any
 * (Sentinel reads role and run_id, and each replica's slaveN line). */
static void sec_replication(cmd_env *env, buf *out)
{
    buf_printf(out,
               "role:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
               "master_replid:%s\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
               "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n"
               "repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\n"
               "repl_backlog_histlen:0\r\n",
               env->host->replid);
}

static void sec_cpu(cmd_env *env, buf *out)
{
    struct rusage ru;
    (void)env;
    getrusage(RUSAGE_SELF, &ru);
    buf_printf(out, "used_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n", (long)ru.ru_stime.tv_sec,
        (long)ru.ru_stime.tv_usec, (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
    getrusage(RUSAGE_CHILDREN, &ru);   /* none: snapshots are threads, not forks */
    buf_printf(out, "used_cpu_sys_children:%ld.%06ld\r\nused_cpu_user_children:%ld.%06ld\r\n",
        (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, (long)ru.ru_utime.tv_sec,
        (long)ru.ru_utime.tv_usec);
}

static void sec_commandstats(cmd_env *env, buf *out) { cmdstats_info_commands(out); }
static void sec_errorstats(cmd_env *env, buf *out) { cmdstats_info_errors(out); }
static void sec_latencystats(cmd_env *env, buf *out) { cmdstats_info_latency(env, out); }

void info_resetstat(cmd_env *env)
{
    ks_stats t = {0};
    cmd_stats sum;
    env->host->stats(env->host->ctx, &sum);
    ks_foreach_domain(env->ks, add_stats, &t);
    pthread_mutex_lock(&base.mu);
#define X(f, name, metric, help) base.f = atomic_load(&sum.f);
    CMD_STATS(X)
#undef X
    base.expired = t.expired;
    base.evicted = t.evicted;
    base.hits = t.hits;
    base.misses = t.misses;
    base.lazyfreed = bgfree_done();
    pthread_mutex_unlock(&base.mu);
    cmdstats_reset();
}

static void sec_cluster(cmd_env *env, buf *out)
{
    (void)env;
    buf_printf(out, "cluster_enabled:0\r\n");
}

/* Domain names are binary-safe; INFO lines are not. */
static void safe_name(const char *name, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < outlen; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch > ' ' && ch < 127 && ch != ':' && ch != ',' && ch != '=' && ch != '\\')
            out[o++] = (char)ch;
        else o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
    }
    out[o] = '\0';
}

typedef struct dom_line {
    long long db;
    ks_stats st;
} dom_line;

typedef struct dom_ctx {
    buf *out;
    dom_line *lines;   /* keyspace: the numbered domains, sorted afterwards */
    size_t n, cap;
} dom_ctx;

/* INFO kasi: every domain with keys or traffic, by name. */
static void kasi_line(domain *d, void *opaque)
{
    dom_ctx *c = opaque;
    ks_stats st;
    size_t len;
    const char *name = ks_domain_name(d, &len);
    char safe[KS_DOMAIN_NAME_MAX * 4 + 8];
    ks_domain_stats(d, &st);
    if (st.keys == 0 && !(st.hits || st.misses || st.sets)) return;
    safe_name(name, len, safe, sizeof safe);
    buf_printf(c->out, "domain_%s:keys=%llu,expires=%llu,hits=%llu,misses=%llu,sets=%llu\r\n",
               safe, (unsigned long long)st.keys, (unsigned long long)st.expires,
               (unsigned long long)st.hits, (unsigned long long)st.misses,
               (unsigned long long)st.sets);
}

/* INFO keyspace: Redis's dbN lines, for "default" (db0) and the domains
 * named by a number; tools such as redis-cli --stat and the Prometheus
 * exporter read only these. */
static void keyspace_line(domain *d, void *opaque)
{
    dom_ctx *c = opaque;
    long long db = ks_domain_db_index(d);
    ks_stats st;
    if (db < 0) return;
    ks_domain_stats(d, &st);
    if (st.keys == 0) return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->lines = xrealloc(c->lines, c->cap * sizeof *c->lines);
    }
    c->lines[c->n++] = (dom_line){db, st};
}

static int by_db(const void *a, const void *b)
{
    long long x = ((const dom_line *)a)->db, y = ((const dom_line *)b)->db;
    return x < y ? -1 : x > y;
}

static void sec_keyspace(cmd_env *env, buf *out)
{
    dom_ctx c = {out, NULL, 0, 0};
    ks_foreach_domain(env->ks, keyspace_line, &c);
    if (c.n) qsort(c.lines, c.n, sizeof *c.lines, by_db);
    for (size_t i = 0; i < c.n; i++)
        buf_printf(out, "db%lld:keys=%llu,expires=%llu,avg_ttl=0\r\n", c.lines[i].db,
                   (unsigned long long)c.lines[i].st.keys, (unsigned long long)c.lines[i].st.expires);
    free(c.lines);
}

static void sec_kasi(cmd_env *env, buf *out)
{
    ks_stats t = {0};
    dom_ctx c = {out, NULL, 0, 0};
    ks_foreach_domain(env->ks, add_stats, &t);
    buf_printf(out, "domains:%d\r\ntotal_sets:%llu\r\n", ks_domain_count(env->ks),
               (unsigned long long)t.sets);
    config_info(env->cfg, "kasi", out);
    /* each worker's share of the load */
    for (int w = 0; w < env->host->nworkers && env->host->worker_stats; w++) {
        cmd_stats st;
        long clients = 0;
        env->host->worker_stats(env->host->ctx, w, &st, &clients);
        buf_printf(out, "worker%d:clients=%ld,commands=%llu,connections=%llu,net_input_bytes=%llu,"
                        "net_output_bytes=%llu,reads=%llu,writes=%llu\r\n",
                   w, clients, atomic_load(&st.commands), atomic_load(&st.connections), atomic_load(&st.net_in),
                   atomic_load(&st.net_out), atomic_load(&st.reads), atomic_load(&st.writes));
    }
    ks_foreach_domain(env->ks, kasi_line, &c);
}

static const struct {
    const char *name, *title;
    section_fn *fn;
    int in_default;
} sections[] = {
    {"server", "Server", sec_server, 1},
    {"clients", "Clients", sec_clients, 1},
    {"memory", "Memory", sec_memory, 1},
    {"persistence", "Persistence", sec_persistence, 1},
    {"stats", "Stats", sec_stats, 1},
    {"replication", "Replication", sec_replication, 1},
    {"cpu", "CPU", sec_cpu, 1},
    {"commandstats", "Commandstats", sec_commandstats, 0},
    {"errorstats", "Errorstats", sec_errorstats, 1},
    {"latencystats", "Latencystats", sec_latencystats, 0},
    {"cluster", "Cluster", sec_cluster, 1},
    {"keyspace", "Keyspace", sec_keyspace, 1},
    {"kasi", "Kasi", sec_kasi, 1},
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

void info_build(cmd_env *env, const karg *want, int nwant, buf *out)
{
    int pick[NSECTIONS] = {0}, all = nwant == 0, every = 0, first = 1;
    for (int i = 0; i < nwant; i++) {
        if (util_eqi(want[i].p, want[i].n, "all") || util_eqi(want[i].p, want[i].n, "everything"))
            every = 1;
        if (util_eqi(want[i].p, want[i].n, "default")) all = 1;
        for (size_t s = 0; s < NSECTIONS; s++)
            if (util_eqi(want[i].p, want[i].n, sections[s].name)) pick[s] = 1;
    }
    for (size_t s = 0; s < NSECTIONS; s++) {
        if (!pick[s] && !every && !(all && sections[s].in_default)) continue;
        if (!first) buf_append(out, "\r\n", 2);
        first = 0;
        buf_printf(out, "# %s\r\n", sections[s].title);
        sections[s].fn(env, out);
    }
}
