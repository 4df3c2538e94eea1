/* server.c - see server.h. */
#include "server/server.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/conn.h"
#include "server/metrics.h"
#include "cmd/cmdstats.h"
#include "cmd/notify.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/util.h"
#include "persist/load.h"
#include "pubsub/tracking.h"
#include "types/stream.h"
#include "types/types.h"

void server_release_set(server *srv, listen_set *ls)
{
    int last;
    if (!ls) return;
    pthread_mutex_lock(&srv->lset_mu);
    last = --ls->refs == 0;
    pthread_mutex_unlock(&srv->lset_mu);
    if (!last) return;
    for (int i = 0; i < ls->n; i++) close(ls->fds[i]);
    free(ls->fds);
    free(ls);
}

listen_set *server_listen(server *srv, long long port, int unix_fd)
{
    char err[256], *list = config_str(&srv->cfg, &srv->cfg.bind), *save = NULL;
    int backlog = (int)srv->cfg.tcp_backlog, ok = 1;
    listen_set *ls = xcalloc(1, sizeof *ls);
    ls->fds = xcalloc(64, sizeof(int));
    ls->refs = 1;
    ls->port = port;
    if (port > 0) {
        for (char *a = strtok_r(list, " ", &save); a && ls->n < 63; a = strtok_r(NULL, " ", &save)) {
            int optional = a[0] == '-';
            int fd = net_listen_tcp(a + optional, (int)port, backlog, err, sizeof err);
            if (fd < 0) {
                if (optional && (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT || fd == -EINVAL))
                    continue;
                log_warn("Could not listen on %s:%lld: %s", a + optional, port, err);
                ok = 0;
                break;
            }
            ls->fds[ls->n++] = fd;
            log_notice("Listening on %s:%lld", a + optional, port);
        }
    }
    free(list);
    if (ok && unix_fd >= 0) {
        int fd = dup(unix_fd);   /* each set owns its descriptors */
        if (fd < 0) {
            log_warn("Could not dup the unix socket: %s", strerror(errno));
            ok = 0;
        } else {
            ls->fds[ls->n++] = fd;
        }
    }
    if (ok && ls->n == 0) {
        log_warn("Configured to listen on nothing: set port (or metrics-port) and bind, or unixsocket");
        ok = 0;
    }
    if (!ok) {
        server_release_set(srv, ls);
        return NULL;
    }
    return ls;
}

static int listen_all(server *srv)
{
    char err[256];
    srv->unix_fd = -1;
    if (srv->cfg.unixsocket[0]) {
        unsigned perm = (unsigned)srv->cfg.unixsocketperm;
        int fd = net_listen_unix(srv->cfg.unixsocket, perm, (int)srv->cfg.tcp_backlog, err, sizeof err);
        if (fd < 0) {
            log_warn("Could not listen on unix socket %s: %s", srv->cfg.unixsocket, err);
            return -1;
        }
        srv->unix_fd = fd;
        log_notice("Listening on unix socket %s", srv->cfg.unixsocket);
    }
    srv->lset = server_listen(srv, srv->cfg.port, srv->unix_fd);
    return srv->lset ? 0 : -1;
}

int server_protected_refuses(server *srv, int fd)
{
    return cfg_ll(&srv->cfg.protected_mode) && !atomic_load(&srv->auth_required) &&
           !net_peer_is_local(fd);
}

static void on_accept(ev_loop *loop, ev_handle *h, unsigned events);

/* Move w's listeners to the server's current set. */
static int worker_relisten(worker *w)
{
    server *srv = w->srv;
    listen_set *ls, *old = w->lset;
    pthread_mutex_lock(&srv->lset_mu);
    ls = atomic_load(&srv->lset);
    ls->refs++;
    pthread_mutex_unlock(&srv->lset_mu);
    for (int i = 0; old && i < old->n; i++) ev_del(w->loop, &w->listeners[i].h);
    free(w->listeners);
    w->lset = ls;
    w->listeners = xcalloc((size_t)ls->n, sizeof(listener));
    for (int i = 0; i < ls->n; i++) {
        w->listeners[i].fd = ls->fds[i];
        w->listeners[i].w = w;
        if (ev_add(w->loop, &w->listeners[i].h, ls->fds[i],
                   EV_READ | (srv->nworkers > 1 ? EV_EXCLUSIVE : 0), on_accept) < 0)
            return -1;
    }
    server_release_set(srv, old);
    return 0;
}

int server_rebind(server *srv, char *err, size_t errlen)
{
    listen_set *ls, *old;
    uint64_t one = 1;
    int same;
    pthread_mutex_lock(&srv->lset_mu);
    same = atomic_load(&srv->lset)->port == cfg_ll(&srv->cfg.port);   /* e.g. restored */
    pthread_mutex_unlock(&srv->lset_mu);
    if (same) return 0;
    ls = server_listen(srv, cfg_ll(&srv->cfg.port), srv->unix_fd);
    if (!ls) {
        snprintf(err, errlen, "Unable to listen on this port. Check server logs.");
        return -1;
    }
    pthread_mutex_lock(&srv->lset_mu);
    old = atomic_exchange(&srv->lset, ls);
    pthread_mutex_unlock(&srv->lset_mu);
    server_release_set(srv, old);
    for (int i = 0; i < srv->nworkers; i++)
        if (write(srv->workers[i].wakefd, &one, sizeof one) < 0) { /* already awake */ }
    return 0;
}

/* Connections go to the worker with the fewest. EPOLLEXCLUSIVE wakes one
 * worker per new connection, and when they are all idle it is the same one
 * each time: the connections a client pool opens at start-up would all land
 * there. So the worker that accepts a socket hands it to the least loaded
 * (itself on a tie), through that worker's inbox and eventfd. */
static worker *least_loaded(server *srv, worker *self)
{
    worker *best = self;
    int low = atomic_load_explicit(&self->load, memory_order_relaxed);
    /* not to one running a long script: its clients wait for it to end */
    int busy = atomic_load_explicit(&command_busy, memory_order_relaxed)
                   ? atomic_load_explicit(&command_busy_worker, memory_order_relaxed)
                   : -1;
    if (self->id == busy) low = INT_MAX;
    for (int i = 0; i < srv->nworkers; i++) {
        int l = atomic_load_explicit(&srv->workers[i].load, memory_order_relaxed);
        if (l < low && i != busy) {
            low = l;
            best = &srv->workers[i];
        }
    }
    return best;
}

static void hand_over(worker *to, int fd)
{
    uint64_t one = 1;
    pthread_mutex_lock(&to->inbox_mu);
    if (to->inbox_n == to->inbox_cap) {
        to->inbox_cap = to->inbox_cap ? to->inbox_cap * 2 : 16;
        to->inbox = xrealloc(to->inbox, sizeof *to->inbox * (size_t)to->inbox_cap);
    }
    to->inbox[to->inbox_n++] = fd;
    pthread_mutex_unlock(&to->inbox_mu);
    if (write(to->wakefd, &one, sizeof one) < 0) { /* already awake */ }
}

static void on_accept(ev_loop *loop, ev_handle *h, unsigned events)
{
    listener *l = (listener *)h;
    (void)loop;
    (void)events;
    for (int i = 0; i < 64; i++) {
        int fd = net_accept(l->fd);
        if (fd < 0) {
            if (fd != -EAGAIN && fd != -EINTR && fd != -ECONNABORTED)
                log_warn("accept: %s", strerror(-fd));
            return;
        }
        worker *to = least_loaded(l->w->srv, l->w);
        atomic_fetch_add_explicit(&to->load, 1, memory_order_relaxed);
        if (to == l->w) conn_accept(to, fd);
        else hand_over(to, fd);
    }
}

/* The connections other workers accepted for this one. */
static void take_inbox(worker *w)
{
    for (;;) {
        int fds[64], n;
        pthread_mutex_lock(&w->inbox_mu);
        n = w->inbox_n < 64 ? w->inbox_n : 64;
        w->inbox_n -= n;
        if (n) memcpy(fds, w->inbox + w->inbox_n, sizeof *fds * (size_t)n);   /* inbox may be NULL */
        pthread_mutex_unlock(&w->inbox_mu);
        if (n == 0) break;
        for (int i = 0; i < n; i++) conn_accept(w, fds[i]);
    }
}

/* Messages from other workers, delivered inside the gate as everywhere
 * else: they change sessions (tracking's broken redirection), which CLIENT
 * LIST reads from other workers. While a script runs long they wait for
 * its end (the loop looks again): the worker answers BUSY meanwhile. */
static void drain_mailbox(worker *w)
{
    w->drain_later = !gates_enter_unless(w->srv->g, w->id, &command_busy);
    if (w->drain_later) return;
    ps_drain(w->srv->bus, w->id);
    gates_leave(w->srv->g, w->id);
}

static void on_wake(ev_loop *loop, ev_handle *h, unsigned events)
{
    worker *w = (worker *)((char *)h - offsetof(worker, wake));
    uint64_t v;
    (void)loop;
    (void)events;
    if (read(h->fd, &v, sizeof v) < 0) { /* spurious */ }
    take_inbox(w);
    drain_mailbox(w);
}

/* A worker's mailbox has messages: wake its loop to deliver them. */
static void wake_worker(void *ctx, int id)
{
    server *srv = ctx;
    uint64_t one = 1;
    if (write(srv->workers[id].wakefd, &one, sizeof one) < 0) { /* already awake */ }
}

static int worker_init(server *srv, worker *w, int id)
{
    w->id = id;
    w->srv = srv;
    w->env = (cmd_env){.ks = srv->ks, .cfg = &srv->cfg, .ps = srv->ps, .bus = srv->bus, .trk = srv->trk,
                       .g = srv->g, .self = id, .st = &w->st, .host = &srv->host};
    w->loop = ev_create();
    if (!w->loop) return -1;
    pthread_mutex_init(&w->inbox_mu, NULL);
    w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wakefd < 0 || ev_add(w->loop, &w->wake, w->wakefd, EV_READ, on_wake) < 0) return -1;
    return worker_relisten(w);
}

/* ---- what a CONFIG SET must do besides storing the value ---- */

static int apply_port(void *owner, void *caller, char *err, size_t errlen)
{
    (void)caller;
    return server_rebind(owner, err, errlen);
}

static int apply_metrics_port(void *owner, void *caller, char *err, size_t errlen)
{
    (void)caller;
    return metrics_rebind(((server *)owner)->metrics, err, errlen);
}

static int apply_tracking(void *owner, void *caller, char *err, size_t errlen)
{
    server *srv = owner;
    (void)caller;
    (void)err;
    (void)errlen;
    if (srv->trk) tracking_set_max_keys(srv->trk, cfg_ll(&srv->cfg.tracking_table_max_keys));
    return 0;
}

static int apply_requirepass(void *owner, void *caller, char *err, size_t errlen)
{
    server *srv = owner;
    char *pass = config_str(&srv->cfg, &srv->cfg.requirepass);
    (void)caller;
    (void)err;
    (void)errlen;
    atomic_store(&srv->auth_required, pass[0] != '\0');
    free(pass);
    return 0;
}

static int apply_obuf(void *owner, void *caller, char *err, size_t errlen)
{
    server *srv = owner;
    char *v = config_str(&srv->cfg, &srv->cfg.client_output_buffer_limit);
    cfg_obuf c[CFG_OBUF_CLASSES];
    (void)caller;
    (void)err;
    (void)errlen;
    config_obuf_parse(v, c);
    free(v);
    for (int i = 0; i < CFG_OBUF_CLASSES; i++) {
        atomic_store(&srv->obuf[i][0], c[i].hard);
        atomic_store(&srv->obuf[i][1], c[i].soft);
        atomic_store(&srv->obuf[i][2], c[i].soft_secs);
    }
    return 0;
}

static int apply_loglevel(void *owner, void *caller, char *err, size_t errlen)
{
    server *srv = owner;
    (void)caller;
    (void)err;
    (void)errlen;
    log_set_level((int)cfg_ll(&srv->cfg.loglevel));
    return 0;
}

/* caller: the environment of the worker running CONFIG SET. */
static int apply_appendonly(void *owner, void *caller, char *err, size_t errlen)
{
    server *srv = owner;
    cmd_env *env = caller;
    char msg[256];
    if (persist_set_appendonly(srv->ps, env ? env->self : -1, (int)cfg_ll(&srv->cfg.appendonly), msg,
                               sizeof msg) == 0)
        return 0;
    snprintf(err, errlen, "%s", strncmp(msg, "ERR ", 4) == 0 ? msg + 4 : msg);
    return -1;
}

/* What the command counters read on the request path (and the latency
 * monitor's threshold, which the lower layers read too). */
static int apply_cmdstats(void *owner, void *caller, char *err, size_t errlen)
{
    config *cfg = &((server *)owner)->cfg;
    (void)caller;
    (void)err;
    (void)errlen;
    cmdstats_configure(cfg_ll(&cfg->slowlog_log_slower_than), cfg_ll(&cfg->latency_monitor_threshold));
    return 0;
}

/* The encoding thresholds the value kinds read. */
static int apply_limits(void *owner, void *caller, char *err, size_t errlen)
{
    config *cfg = &((server *)owner)->cfg;
    (void)caller;
    (void)err;
    (void)errlen;
    types_set_limit(&types_lim.hash_entries, cfg_ll(&cfg->hash_max_listpack_entries));
    types_set_limit(&types_lim.hash_value, cfg_ll(&cfg->hash_max_listpack_value));
    types_set_limit(&types_lim.list_size, cfg_ll(&cfg->list_max_listpack_size));
    types_set_limit(&types_lim.set_ints, cfg_ll(&cfg->set_max_intset_entries));
    types_set_limit(&types_lim.zset_entries, cfg_ll(&cfg->zset_max_listpack_entries));
    types_set_limit(&types_lim.zset_value, cfg_ll(&cfg->zset_max_listpack_value));
    stream_set_limits(cfg_ll(&cfg->stream_node_max_entries), cfg_ll(&cfg->stream_node_max_bytes));
    return 0;
}

/* ---- what commands may ask of the server (cmd_host) ---- */

static long host_clients(void *ctx) { return atomic_load(&((server *)ctx)->nclients); }

static void host_worker_stats(void *ctx, int id, cmd_stats *st, long *clients)
{
    worker *w = &((server *)ctx)->workers[id];
#define X(f, name, metric, help) atomic_init(&st->f, atomic_load_explicit(&w->st.f, memory_order_relaxed));
    CMD_STATS(X)
#undef X
    *clients = atomic_load_explicit(&w->load, memory_order_relaxed);
}

static void host_stats(void *ctx, cmd_stats *sum)
{
    server *srv = ctx;
    long clients;
#define X(f, name, metric, help) atomic_init(&sum->f, 0);
    CMD_STATS(X)
#undef X
    for (int i = 0; i < srv->nworkers; i++) {
        cmd_stats st;
        host_worker_stats(srv, i, &st, &clients);
#define X(f, name, metric, help) atomic_fetch_add(&sum->f, atomic_load(&st.f));
        CMD_STATS(X)
#undef X
    }
}

/* SHUTDOWN was accepted (its save is done): the loops stop. */
static void host_shutdown(void *ctx)
{
    server *srv = ctx;
    atomic_store(&srv->exiting, 1);
    server_stop(srv);
}

/* A script past busy-reply-threshold on worker id: its clients are
 * answered from inside the script. */
static void host_serve_busy(void *ctx, int id)
{
    server *srv = ctx;
    worker *w = &srv->workers[id];
    /* a lone worker is the only one to accept: new clients get BUSY too */
    for (int i = 0; w->lset && i < w->lset->n; i++) on_accept(w->loop, &w->listeners[i].h, EV_READ);
    take_inbox(w);
    conn_serve_busy(w);
}

/* How the loader replays a collection write logged in the AOF: run as a
 * command, with no client. */
static int replay_write(void *ctx, domain *d, int argc, const slice *argv, int64_t now)
{
    server *srv = ctx;
    cmd_stats st;
    cmd_env env;
    memset(&st, 0, sizeof st);
    memset(&env, 0, sizeof env);
    env.ks = srv->ks;
    env.cfg = &srv->cfg;
    env.self = -1;
    env.st = &st;
    return command_replay(&env, d, argc, argv, now);
}

int server_init(server *srv)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n = (int)srv->cfg.threads;
    srv->unix_fd = -1;
    pthread_mutex_init(&srv->lset_mu, NULL);
    apply_requirepass(srv, NULL, NULL, 0);
    apply_obuf(srv, NULL, NULL, 0);
    config_on_change(&srv->cfg, CFG_client_output_buffer_limit, apply_obuf, srv);
    config_on_change(&srv->cfg, CFG_port, apply_port, srv);
    config_on_change(&srv->cfg, CFG_requirepass, apply_requirepass, srv);
    config_on_change(&srv->cfg, CFG_tracking_table_max_keys, apply_tracking, srv);
    config_on_change(&srv->cfg, CFG_loglevel, apply_loglevel, srv);
    config_on_change(&srv->cfg, CFG_appendonly, apply_appendonly, srv);
    apply_limits(srv, NULL, NULL, 0);
    apply_cmdstats(srv, NULL, NULL, 0);
    config_on_change(&srv->cfg, CFG_slowlog_log_slower_than, apply_cmdstats, srv);
    config_on_change(&srv->cfg, CFG_latency_monitor_threshold, apply_cmdstats, srv);
    {
        static const int limits[] = {CFG_hash_max_listpack_entries, CFG_hash_max_listpack_value,
                                     CFG_list_max_listpack_size, CFG_set_max_intset_entries,
                                     CFG_zset_max_listpack_entries, CFG_zset_max_listpack_value,
                                     CFG_stream_node_max_bytes, CFG_stream_node_max_entries};
        for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
            config_on_change(&srv->cfg, limits[i], apply_limits, srv);
    }
    if (n == 0) n = ncpu > 0 ? (int)(ncpu < 64 ? ncpu : 64) : 1;
    srv->nworkers = n;
    srv->start_ms = util_now_ms();
    srv->ks = ks_create(n > 1 ? 16 * n : 16, &srv->cfg.max_domains);
    ks_set_single_writer(srv->ks, n == 1);
    srv->rss_base = util_rss_bytes();   /* before any key is loaded */
    srv->g = gates_create(n);
    {
        /* Load before listening: a client that comes early is refused and
         * retries, instead of waiting on an open connection. */
        char err[512];
        load_set_replay(replay_write, srv);
        srv->ps = persist_init(srv->ks, &srv->cfg, srv->g, &srv->shutdown, err, sizeof err);
        if (!srv->ps) {
            log_warn("Can't load the data: %s", err);
            return -1;
        }
    }
    srv->host = (cmd_host){srv, srv->start_ms, "", "", n, &srv->auth_required, host_clients,
                           host_stats, host_worker_stats, host_shutdown, host_serve_busy,
                           srv->git_sha, srv->git_dirty};
    util_random_hex(srv->host.run_id, sizeof srv->host.run_id - 1);
    util_random_hex(srv->host.replid, sizeof srv->host.replid - 1);
    if (listen_all(srv) < 0) return -1;
    srv->workers = xcalloc((size_t)n, sizeof(worker));
    {
        const ps_ops bus_ops = {conn_deliver, conn_retry, wake_worker, srv};
        srv->bus = pubsub_create(n, &bus_ops);
    }
    srv->trk = tracking_create(srv->bus);
    tracking_attach(srv->ks, srv->trk);
    apply_tracking(srv, NULL, NULL, 0);
    notify_init(&srv->cfg, srv->ks, srv->bus);
    for (int i = 0; i < n; i++) {
        if (worker_init(srv, &srv->workers[i], i) < 0) {
            log_warn("Could not create worker %d: %s", i, strerror(errno));
            return -1;
        }
    }
    srv->metrics = metrics_create(srv, &srv->workers[0]);
    if (!srv->metrics) return -1;
    config_on_change(&srv->cfg, CFG_metrics_port, apply_metrics_port, srv);
    return 0;
}

/* Background work: expiry, resizes and idle timeouts. */
static void worker_cron(worker *w, int64_t now_us)
{
    server *srv = w->srv;
    long long hz = cfg_ll(&srv->cfg.hz), timeout = cfg_ll(&srv->cfg.timeout);
    int64_t period;
    hz = hz < 1 ? 1 : hz > 500 ? 500 : hz;   /* as Redis clamps it */
    period = 1000000 / hz;
    if (now_us < w->next_cron_us) return;
    w->next_cron_us = now_us + period;
    /* A quarter of this worker's time at most, like Redis's slow cycle
     * (what expires is counted by the keyspace, which INFO reads). In the
     * gate, as a command: an EXEC or a script sees no key expire under it
     * (while one runs long, the sweep waits). Nothing expires during a
     * CLIENT PAUSE, as in Redis. */
    if (atomic_load_explicit(&command_active_expire, memory_order_relaxed) && !command_paused(util_now_ms()) &&
        gates_enter_unless(srv->g, w->id, &command_busy)) {
        int64_t t0 = util_mono_us();
        ks_cron(srv->ks, w->id, srv->nworkers, period / 4);
        gates_leave(srv->g, w->id);
        atomic_fetch_add_explicit(&command_expire_us, (unsigned long long)(util_mono_us() - t0),
                                  memory_order_relaxed);
    }
    if (w->id == 0 && now_us >= w->next_sample_us) {   /* INFO's instantaneous figures */
        w->next_sample_us = now_us + 100000;
        info_sample(&w->env, util_now_ms());
    }
    if (w->id == 0 && now_us >= w->next_trim_us) {
        /* Hand freed pages back to the kernel, so RSS follows used memory,
         * and learn what the allocator holds beyond what we track. */
        struct mallinfo2 mi;
        size_t in_use, rss;
        /* often while evicting, when memory churns; once a second otherwise */
        w->next_trim_us = now_us + (cfg_ll(&srv->cfg.maxmemory) ? period : 1000000);
        malloc_trim(0);
        mi = mallinfo2();
        in_use = mi.uordblks + mi.hblkhd;
        /* Fragmentation counts against maxmemory too: what the process
         * holds resident beyond its start-up footprint, if that is more. */
        rss = util_rss_bytes();
        if (rss > srv->rss_base && rss - srv->rss_base > in_use) in_use = rss - srv->rss_base;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        in_use = 0;   /* a sanitizer's allocator: its shadow and quarantine are not ours */
#endif
        ks_set_overhead(srv->ks, in_use);
    }
    if (w->id == 0) persist_cron(srv->ps, w->id, &command_busy);
    if (timeout > 0 && now_us >= w->next_timeout_check_us) {
        w->next_timeout_check_us = now_us + 1000000;
        conn_check_timeouts(w, timeout, util_now_ms());
    }
}

static void *worker_main(void *opaque)
{
    worker *w = opaque;
    server *srv = w->srv;
    notify_thread(w->id);
    cmdstats_attach(w->id);
    while (!atomic_load(&srv->shutdown)) {
        int64_t now = util_mono_us(), wait_ms;
        if (atomic_load_explicit(&srv->lset, memory_order_acquire) != w->lset &&
            worker_relisten(w) < 0)
            log_warn("Worker %d could not listen on the new sockets: %s", w->id, strerror(errno));
        if (w->id == 0) metrics_tick(srv->metrics, now / 1000);
        tracking_set_origin(0);   /* the sweep's and eviction's changes are nobody's */
        worker_cron(w, now);
        /* what the last turn's commands changed, to BCAST clients, before
         * this turn writes anything out (Redis's beforeSleep) */
        if (tracking_changed) tracking_bcast_flush(srv->trk);
        int waiting = ps_any_waiter(srv->bus) || atomic_load_explicit(&command_postponed, memory_order_relaxed);
        if (waiting && now >= w->next_block_check_us) {
            /* blocked clients time out within 10 ms of their deadline, and
             * those a pause held run within 10 ms of its end */
            w->next_block_check_us = now + 10000;
            conn_block_timeouts(w, util_now_ms());
        }
        if (w->drain_later) drain_mailbox(w);
        conn_flush_pending(w);
        conn_reap(w);
        wait_ms = w->pending ? 0 : (w->next_cron_us - now) / 1000 + 1;
        /* what waits for a long script's end is looked at again soon, not in a spin */
        if ((w->pending || w->drain_later) && atomic_load_explicit(&command_busy, memory_order_relaxed))
            wait_ms = 1;
        if (waiting && wait_ms > 10) wait_ms = 10;
        if (wait_ms < 0) wait_ms = 0;
        ev_wait(w->loop, (int)wait_ms);
    }
    conn_flush_pending(w);
    tracking_thread_done();
    return NULL;
}

void server_run(server *srv)
{
    for (int i = 1; i < srv->nworkers; i++)
        pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]);
    log_notice("Ready to accept connections (%d worker thread%s)", srv->nworkers,
               srv->nworkers > 1 ? "s" : "");
    worker_main(&srv->workers[0]);
    for (int i = 1; i < srv->nworkers; i++) pthread_join(srv->workers[i].thread, NULL);
}

void server_stop(server *srv)
{
    /* async-signal-safe (it runs in the signal handler): atomics and write() only */
    uint64_t one = 1;
    atomic_store(&srv->shutdown, 1);
    for (int i = 0; i < srv->nworkers; i++)
        if (write(srv->workers[i].wakefd, &one, sizeof one) < 0) { /* already awake */ }
}

void server_cleanup(server *srv)
{
    metrics_free(&srv->metrics);
    for (int i = 0; i < srv->nworkers; i++) {
        worker *w = &srv->workers[i];
        while (w->conns) conn_close(w->conns);
        conn_reap(w);
        ev_destroy(&w->loop);
        close(w->wakefd);
        for (int k = 0; k < w->inbox_n; k++) close(w->inbox[k]);   /* handed over, never taken */
        free(w->inbox);
        pthread_mutex_destroy(&w->inbox_mu);
        free(w->listeners);
        server_release_set(srv, w->lset);
        free(w->flushv);
    }
    server_release_set(srv, atomic_load(&srv->lset));
    if (srv->unix_fd >= 0) {
        close(srv->unix_fd);
        unlink(srv->cfg.unixsocket);
    }
    free(srv->workers);
    tracking_destroy(srv->trk);
    srv->trk = NULL;
    pubsub_destroy(srv->bus);
    srv->bus = NULL;
    gates_destroy(&srv->g);
    ks_destroy(&srv->ks);
}
