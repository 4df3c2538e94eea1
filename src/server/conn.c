/* conn.c - see conn.h. */
#include "server/conn.h"

#include <errno.h>
#include <stddef.h>
#include <sys/uio.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmdstats.h"
#include "cmd/command.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/util.h"

#define READ_CHUNK (16 * 1024)
#define KEEP_BUF (64 * 1024)
#define OBUF_FREE (16 * 1024)   /* output client-output-buffer-limit does not count */

static void on_event(ev_loop *loop, ev_handle *h, unsigned events);
static void add_slice(void *ctx, const char *p, size_t n, void (*release)(void *), void *owner);
static void describe(const session *s, sess_conn_info *out);
static void process_input(conn *c);
static inline int over_limit(conn *c);

static ssize_t plain_read(conn *c, void *p, size_t n) { return read(c->h.fd, p, n); }
static ssize_t plain_writev(conn *c, const struct iovec *iov, int n)
{
    return writev(c->h.fd, iov, n);
}

static const conn_transport plain = {plain_read, plain_writev};
static const conn_protocol resp2 = {process_input};
static const session_ops conn_session_ops = {describe};

static void mark_pending(conn *c)
{
    worker *w = c->w;
    if (c->flags & (CONN_PENDING | CONN_DEAD)) return;
    c->flags |= CONN_PENDING;
    c->prev_pending = NULL;
    c->next_pending = w->pending;
    if (w->pending) w->pending->prev_pending = c;
    w->pending = c;
}

/* A connection leaves the pending list when it is closed: the list may be
 * walked after the connection is freed (conn_flush_pending runs again
 * after conn_reap). */
static void unmark_pending(conn *c)
{
    worker *w = c->w;
    if (!(c->flags & CONN_PENDING)) return;
    c->flags &= ~CONN_PENDING;
    if (c->prev_pending) c->prev_pending->next_pending = c->next_pending;
    else w->pending = c->next_pending;
    if (c->next_pending) c->next_pending->prev_pending = c->prev_pending;
    c->prev_pending = c->next_pending = NULL;
}

/* Refused by protected mode (server_protected_refuses): the client gets
 * Redis's explanation and is closed. */
static void deny_protected(worker *w, int fd)
{
    static const char msg[] =
        "-DENIED Redis is running in protected mode because protected mode is enabled and no "
        "password is set for the default user. In this mode connections are only accepted from "
        "the loopback interface. If you want to connect from external computers to Redis you "
        "may adopt one of the following solutions: 1) Just disable protected mode sending the "
        "command 'CONFIG SET protected-mode no' from the loopback interface by connecting to "
        "Redis from the same host the server is running, however MAKE SURE Redis is not "
        "publicly accessible from internet if you do so. Use CONFIG REWRITE to make this "
        "change permanent. 2) Alternatively you can just disable the protected mode by editing "
        "the Redis configuration file, and setting the protected mode option to 'no', and then "
        "restarting the server. 3) If you started the server manually just for testing, "
        "restart it with the '--protected-mode no' option. 4) Setup a an authentication "
        "password for the default user. NOTE: You only need to do one of the above things in "
        "order for the server to start accepting connections from the outside.\r\n";
    static util_ratelimit rl = UTIL_RATELIMIT_INIT(10);
    unsigned long long missed;
    char peer[64];
    if (util_ratelimit_take(&rl, &missed)) {
        net_peer_name(fd, peer, sizeof peer);
        log_warn("Protected mode: refused a connection from %s (no password is set; set "
                 "requirepass, or protected-mode no on a trusted network)%s",
                 peer, missed ? "; more refusals were not logged" : "");
    }
    if (write(fd, msg, sizeof msg - 1) < 0) { /* closing anyway */ }
    close(fd);
    stat_add(&w->st.rejected, 1);
}

void conn_accept(worker *w, int fd)
{
    server *srv = w->srv;
    conn *c;
    if (atomic_fetch_add(&srv->nclients, 1) >= cfg_ll(&srv->cfg.maxclients)) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        if (write(fd, msg, sizeof msg - 1) < 0) { /* closing anyway */ }
        close(fd);
        atomic_fetch_sub(&srv->nclients, 1);
        atomic_fetch_sub_explicit(&w->load, 1, memory_order_relaxed);
        stat_add(&w->st.rejected, 1);
        return;
    }
    if (server_protected_refuses(srv, fd)) {
        deny_protected(w, fd);
        atomic_fetch_sub(&srv->nclients, 1);
        atomic_fetch_sub_explicit(&w->load, 1, memory_order_relaxed);
        return;
    }
    c = xcalloc(1, sizeof *c);
    c->w = w;
    ks_domain_hold(ks_default(srv->ks));
    session_init(&c->s, atomic_fetch_add(&srv->next_client_id, 1) + 1, ks_default(srv->ks),
                 (atomic_load(&srv->auth_required) ? 0 : SESS_AUTHED) |
                     (net_peer_is_local(fd) ? SESS_LOCAL : 0),
                 util_now_ms());
    c->s.ops = &conn_session_ops;
    c->sink = (cmd_sink){&c->out, add_slice, c};
    c->tr = &plain;
    c->proto = &resp2;
    resp_parser_reset(&c->p);
    c->h.fd = fd;   /* as ev_add sets it: CLIENT LIST may describe it once registered */
    net_peer_name(fd, c->s.peer, sizeof c->s.peer);
    c->s.me = ps_client_new(srv->bus, w->id, &c->s);   /* reachable by its id */
    ps_client_register(srv->bus, c->s.me, c->s.id);
    if (ev_add(w->loop, &c->h, fd, EV_READ, on_event) < 0) {
        close(fd);
        gates_enter(srv->g, w->id);   /* as conn_close: CLIENT LIST may have it */
        ps_client_free(srv->bus, c->s.me);
        session_free(&c->s, srv->ks);
        gates_leave(srv->g, w->id);
        free(c);
        atomic_fetch_sub(&srv->nclients, 1);
        atomic_fetch_sub_explicit(&w->load, 1, memory_order_relaxed);
        return;
    }
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    stat_add(&w->st.connections, 1);
    log_verbose("Accepted %s", c->s.peer);   /* as Redis logs it */
}

/* The worker's gate, unless a script runs long and holds every gate: then
 * 0, and what needed it waits for a later flush (the loop naps meanwhile:
 * not a spin). */
static int enter_unless_busy(worker *w)
{
    return !gates_in_exclusive() && gates_enter_unless(w->srv->g, w->id, &command_busy);
}

/* Inside the worker's gate: an exclusive section (CLIENT LIST, KILL) reads
 * other workers' sessions, which must not be torn down meanwhile. */

void conn_close(conn *c)
{
    worker *w = c->w;
    if (c->flags & CONN_DEAD) return;
    /* closed once the long script ends */
    if (!enter_unless_busy(w)) {
        c->flags |= CONN_CLOSING;
        mark_pending(c);
        return;
    }
    unmark_pending(c);
    c->flags |= CONN_DEAD;
    log_verbose("Client closed connection id=%llu addr=%s name=%s", (unsigned long long)c->s.id, c->s.peer,
                c->s.name ? c->s.name : "");
    command_unblock(&w->env, &c->s);   /* the next waiter of its keys may be served */
    /* No more messages for it from now: PUBLISH stops counting it. */
    ps_client_free(w->srv->bus, c->s.sub);
    c->s.sub = NULL;
    tracking_session_end(&w->env, &c->s);
    ps_client_free(w->srv->bus, c->s.me);   /* nothing addressed to it waits after this */
    c->s.me = NULL;
    ev_del(w->loop, &c->h);
    close(c->h.fd);
    if (c->prev) c->prev->next = c->next;
    else w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->next = w->dead;
    w->dead = c;
    atomic_fetch_sub(&w->srv->nclients, 1);
    atomic_fetch_sub_explicit(&w->load, 1, memory_order_relaxed);
    gates_leave(w->srv->g, w->id);
}

void conn_deliver(void *owner, const ps_msg *m)
{
    conn *c = (conn *)((char *)owner - offsetof(conn, s));
    char h[4] = {c->s.resp == 3 ? '>' : '*', (char)('0' + m->nelem), '\r', '\n'};
    if (m->nelem == PS_MSG_KILL && !(c->flags & CONN_DEAD)) {
        /* closed by the flush, as Redis frees it: even one that reads nothing */
        c->flags |= CONN_CLOSING | CONN_KILLED;
        mark_pending(c);
        return;
    }
    if (c->flags & (CONN_DEAD | CONN_CLOSING | CONN_OVERLIMIT)) return;
    if (m->nelem == PS_MSG_UNBLOCK) {   /* answered at the flush, as a timeout is */
        if ((c->s.flags & (SESS_BLOCKED | SESS_POSTPONED)) != SESS_BLOCKED) return;
        c->flags |= m->len ? CONN_UNBLOCK_ERR : CONN_UNBLOCK;
        mark_pending(c);
        return;
    }
    if (m->nelem == 0 && (c->s.flags & SESS_REPLY_OFF)) return;   /* MONITOR's lines are replies; pushes go out */
    if (m->nelem < 0) tracking_deliver(&c->w->env, &c->s, &c->out, m);
    if (m->nelem > 0) buf_append(&c->out, h, sizeof h);
    if (m->nelem >= 0) buf_append(&c->out, m->body, m->len);
    /* A subscriber that does not read is closed (by the flush) and gets
     * nothing more meanwhile. */
    if (over_limit(c)) c->flags |= CONN_OVERLIMIT;
    mark_pending(c);
}

/* Run a blocked client's command again (timeout 0), time it out (1), or
 * end it with CLIENT UNBLOCK's error (2), as its worker
 * runs commands: inside its gate, its AOF records tracked for the barrier
 * before the reply. Served, it goes on with the input it has. */
static int run_blocked(conn *c, int timeout)
{
    server *srv = c->w->srv;
    uint64_t before, after;
    int done = 1;
    if (c->flags & (CONN_DEAD | CONN_CLOSING) || !(c->s.flags & SESS_BLOCKED)) return 1;
    if (!enter_unless_busy(c->w)) return 0;
    before = persist_thread_lsn();
    if (timeout)
        command_block_timeout(&c->w->env, &c->s, &c->sink,
                              timeout == 2 ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : NULL);
    else done = command_retry(&c->w->env, &c->s, &c->sink, util_now_ms());
    after = persist_thread_lsn();
    if (after != before) c->log_lsn = after;
    gates_leave(srv->g, c->w->id);
    if (done) mark_pending(c);
    return 1;
}

/* Mailboxes are drained inside commands too (an UNSUBSCRIBE, a closing
 * subscriber), where the worker holds its gate: the retry waits for the
 * flush, which runs it outside. */
void conn_retry(void *owner)
{
    conn *c = (conn *)((char *)owner - offsetof(conn, s));
    c->flags |= CONN_RETRY;
    mark_pending(c);
}

void conn_block_timeouts(worker *w, int64_t now_ms)
{
    for (conn *c = w->conns; c; c = c->next) {
        if (c->s.flags & SESS_POSTPONED) run_blocked(c, 0);   /* runs once the pause lets it */
        else if ((c->s.flags & SESS_BLOCKED) && c->s.block_deadline && now_ms >= c->s.block_deadline)
            run_blocked(c, 1);
    }
}

/* The reply sink's zero-copy path. */
static void add_slice(void *ctx, const char *p, size_t n, void (*release)(void *), void *owner)
{
    conn *c = ctx;
    zc_slice *z;
    if (c->zc_head + c->zc_len == c->zc_cap) {
        if (c->zc_head) {
            memmove(c->zc, c->zc + c->zc_head, sizeof(zc_slice) * (size_t)c->zc_len);
            c->zc_head = 0;
        } else {
            c->zc_cap = c->zc_cap ? c->zc_cap * 2 : 4;
            c->zc = xrealloc(c->zc, sizeof(zc_slice) * (size_t)c->zc_cap);
        }
    }
    z = &c->zc[c->zc_head + c->zc_len++];
    z->at = c->out_done + buf_pending(&c->out);
    z->p = p;
    z->n = n;
    z->sent = 0;
    z->release = release;
    z->owner = owner;
    c->zc_bytes += n;
}

static void release_slices(conn *c)
{
    for (int i = 0; i < c->zc_len; i++) {
        zc_slice *z = &c->zc[c->zc_head + i];
        z->release(z->owner);
    }
    c->zc_head = c->zc_len = 0;
    c->zc_bytes = 0;
}

static void conn_free(conn *c)
{
    release_slices(c);
    free(c->zc);
    session_free(&c->s, c->w->srv->ks);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c->pargv);
    free(c->argv);
    free(c);
}

void conn_reap(worker *w)
{
    while (w->dead) {
        conn *c = w->dead;
        w->dead = c->next;
        conn_free(c);
    }
}

/* CLIENT INFO's and LIST's view of the connection under a session. Its
 * worker changes the buffers outside its gate (reading and writing the
 * socket), so CLIENT LIST on another worker reads these sizes while they
 * may change: statistics, read as whole words, never followed as pointers. */
__attribute__((no_sanitize("thread"))) static void describe_buffers(const conn *c, sess_conn_info *out)
{
    out->fd = c->h.fd;   /* ev_add sets it again, to the same */
    out->qbuf = c->in.len - c->in.off;   /* buf_pending's, here where no_sanitize covers it */
    out->qbuf_free = c->in.cap - c->in.len;
    out->rbs = c->in.cap;
    out->obl = c->out.len - c->out.off;
    out->oll = (size_t)c->zc_len;
    out->omem = c->out.cap + c->zc_bytes;
    out->tot_mem = sizeof *c + c->in.cap + c->out.cap + sizeof(karg) * (size_t)c->argv_cap;
    out->events = (c->h.mask & EV_WRITE) ? "rw" : "r";
}

static void describe(const session *s, sess_conn_info *out)
{
    const conn *c = (const conn *)((const char *)s - offsetof(conn, s));
    describe_buffers(c, out);
    net_sock_name(out->fd, out->laddr, sizeof out->laddr);
}

static void grow_argv(conn *c, int want)
{
    int cap = c->argv_cap ? c->argv_cap : 8;
    while (cap < want) cap *= 2;
    c->pargv = xrealloc(c->pargv, sizeof(resp_arg) * (size_t)cap);
    c->argv = xrealloc(c->argv, sizeof(karg) * (size_t)cap);
    c->argv_cap = cap;
    c->p.argv = c->pargv;
    c->p.argv_cap = cap;
}

/* ---- lookahead ----
 * In a pipeline, most of a small request's time goes to two cache misses:
 * the key's table slot and its item. Before running a request, the
 * requests behind it already in the buffer are peeked at: the slot of the
 * key two ahead and the item of the key one ahead (whose slot came in
 * meanwhile) are fetched, so the misses overlap with useful work. The key's
 * hash, computed here, is kept for the lookup itself (conn_key_hash). The
 * hints live in the worker and are forgotten when the connection's turn
 * ends, since the buffer may then move. */

/* Peek at the request starting at req (end: the end of the buffered
 * input) and keep what it tells as the newest hint; NULL if it has no key
 * to hint at. */
static key_hint *peek_hint(worker *w, const char *req, const char *end)
{
    key_hint *k;
    const char *key;
    size_t klen, len;
    if (req >= end || !(len = resp_peek(req, (size_t)(end - req), &key, &klen))) return NULL;
    k = &w->env.hints[w->env.hint_next++ % KEY_HINTS];
    *k = (key_hint){req, req + len, key, klen, ks_hash(w->srv->ks, key, klen)};
    if (w->env.hint_live < KEY_HINTS) w->env.hint_live++;
    return k;
}

/* next: the request after the one about to run. It was normally peeked
 * at before the previous request ran, and is the newest hint. */
static void look_ahead(conn *c, const char *next, const char *end)
{
    worker *w = c->w;
    keyspace *ks = w->srv->ks;
    key_hint *k1 = &w->env.hints[(w->env.hint_next - 1) % KEY_HINTS], *k2;
    if ((!w->env.hint_live || k1->req != next) && !(k1 = peek_hint(w, next, end))) return;
    ks_hint(ks, c->s.db, k1->h, 1);
    if ((k2 = peek_hint(w, k1->end, end))) ks_hint(ks, c->s.db, k2->h, 0);
}

static void forget_hints(worker *w) { w->env.hint_live = 0; }

/* Parse and run buffered requests, at most CONN_BATCH of them or about
 * CONN_SLICE_US of work. */
static void process_input(conn *c)
{
    server *srv = c->w->srv;
    resp_limits lim;
    int done = 0;
    /* in cmdstats' ticks: the first command's time starts here too */
    uint64_t slice_start = cmdstats_mark();
    /* One clock read serves a run of commands, as Redis's cached time does;
     * it is read again with the slice clock, every 16 commands. */
    int64_t now_ms = util_now_ms();

    int busy = 0;

    lim.max_bulk = cfg_ll(&srv->cfg.proto_max_bulk_len);
    lim.unauthenticated = !(c->s.flags & SESS_AUTHED);
    if (!c->pargv) grow_argv(c, 8);
    /* While a script runs long, run what needs no gate: its own worker
     * comes here from inside it (conn_serve_busy), the others instead of
     * waiting. */
    if (!enter_unless_busy(c->w)) busy = 1;
    else c->w->env.excl_batch = 1;
    c->flags |= CONN_RUNNING;
    c->s.last_ms = now_ms;   /* the idle clock; in the gate, as CLIENT LIST reads it */
    /* What was published to a subscriber before its commands arrived goes
     * out before their replies. */
    if (!busy && c->s.sub && ps_waiting(srv->bus, c->w->id)) ps_drain(srv->bus, c->w->id);
    /* Once shutting down, nothing more runs: a write now could be
     * acknowledged after the final save. */
    while (!(c->flags & (CONN_CLOSING | CONN_DEAD)) && !(c->s.flags & SESS_BLOCKED) &&
           buf_pending(&c->in) && !atomic_load_explicit(&srv->shutdown, memory_order_relaxed)) {
        char *base = buf_head(&c->in);
        int rc;
        if (conn_out_pending(c) > CONN_OUT_SOFT) {
            c->flags |= CONN_PAUSED;
            break;
        }
        if (done && (done & 15) == 0) {
            if (done == CONN_BATCH ||
                cmdstats_clock() - slice_start > CONN_SLICE_US * cmdstats_ticks_per_us) {
                mark_pending(c);   /* finish on the next loop turn */
                break;
            }
            now_ms = util_now_ms();
        }
        rc = resp_parse(&c->p, base, buf_pending(&c->in), &lim);
        if (rc == RESP_EUNFIN) break;
        if (rc == RESP_EARGV) {
            /* Double: the count is only a promise, the arguments so far are real. */
            grow_argv(c, c->argv_cap * 2 < c->p.argc ? c->argv_cap * 2 : c->p.argc);
            continue;
        }
        if (rc == RESP_EPROTO) {
            char msg[160];
            size_t n = c->p.errlen < sizeof msg - 4 ? c->p.errlen : sizeof msg - 4;
            memcpy(msg, "ERR ", 4);
            memcpy(msg + 4, c->p.err, n);
            resp_error_len(&c->out, msg, n + 4);
            log_verbose("Protocol error (%s) from client id=%llu addr=%s", c->p.err,
                        (unsigned long long)c->s.id, c->s.peer);
            c->flags |= CONN_CLOSING;
            break;
        }
        for (int i = 0; i < c->p.nargs; i++) {
            c->argv[i].p = base + c->pargv[i].off;
            c->argv[i].n = c->pargv[i].len;
        }
        if (busy) {
            command_exec_busy(&c->w->env, &c->s, &c->sink, c->p.nargs, c->argv, now_ms);
        } else {
            uint64_t before = persist_thread_lsn(), after;
            look_ahead(c, base + c->p.pos, base + buf_pending(&c->in));
            command_exec(&c->w->env, &c->s, &c->sink, c->p.nargs, c->argv, now_ms);
            after = persist_thread_lsn();
            if (after != before) c->log_lsn = after;   /* it logged */
        }
        buf_consume(&c->in, c->p.pos);
        resp_parser_reset(&c->p);
        if (c->s.flags & SESS_CLOSE) c->flags |= CONN_CLOSING;
        lim.unauthenticated = !(c->s.flags & SESS_AUTHED);
        done++;
    }
    c->flags &= ~CONN_RUNNING;
    if (!busy) {
        command_batch_end(&c->w->env);
        c->w->env.excl_batch = 0;
        gates_leave(srv->g, c->w->id);
    }
    forget_hints(c->w);
    if (buf_pending(&c->in) == 0) buf_trim(&c->in, KEEP_BUF);   /* after a big request */
    else if (c->in.off > c->in.cap / 2) buf_compact(&c->in);
    if (conn_out_pending(c)) mark_pending(c);
    if (c->flags & CONN_CLOSING) mark_pending(c);
}

static void read_input(conn *c)
{
    server *srv = c->w->srv;
    size_t want = READ_CHUNK;
    ssize_t n;

    /* While a big bulk is arriving, read it in larger pieces; the buffer
     * only ever grows by what has actually been received. */
    if (c->p.multibulk && c->p.bulklen > 0) {
        size_t have = buf_pending(&c->in) - c->p.pos;
        size_t missing = (size_t)c->p.bulklen + 2 > have ? (size_t)c->p.bulklen + 2 - have : 0;
        size_t cap = buf_pending(&c->in) > READ_CHUNK ? buf_pending(&c->in) : READ_CHUNK;
        want = missing < cap ? (missing > READ_CHUNK ? missing : READ_CHUNK) : cap;
    }
    if (c->in.cap - c->in.len < want) buf_reserve(&c->in, want);
    n = c->tr->read(c, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (n == 0) {
        conn_close(c);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) conn_close(c);
        return;
    }
    c->in.len += (size_t)n;
    stat_add(&c->w->st.net_in, (unsigned long long)n);
    stat_add(&c->w->st.reads, 1);
    if (buf_pending(&c->in) > (size_t)cfg_ll(&srv->cfg.client_query_buffer_limit)) {
        log_warn("Closing client that reached max query buffer length: id=%llu addr=%s",
                 (unsigned long long)c->s.id, c->s.peer);
        conn_close(c);
        return;
    }
    c->proto->process(c);
}

/* Gather the pending output, copied bytes and zero-copy slices in stream
 * order, into at most IOV_BATCH iovecs. */
#define IOV_BATCH 64
static int gather(conn *c, struct iovec *iov)
{
    uint64_t pos = c->out_done;
    size_t boff = 0;
    int n = 0, i;
    for (i = 0; i < c->zc_len && n < IOV_BATCH - 2; i++) {
        zc_slice *z = &c->zc[c->zc_head + i];
        size_t before = (size_t)(z->at - pos);   /* copied bytes ahead of it */
        if (before) {
            iov[n].iov_base = buf_head(&c->out) + boff;
            iov[n++].iov_len = before;
            boff += before;
            pos += before;
        }
        iov[n].iov_base = (void *)(z->p + z->sent);
        iov[n++].iov_len = z->n - z->sent;
    }
    if (i == c->zc_len && buf_pending(&c->out) > boff) {   /* bytes after the last slice */
        iov[n].iov_base = buf_head(&c->out) + boff;
        iov[n++].iov_len = buf_pending(&c->out) - boff;
    }
    return n;
}

/* Account for n written bytes, in stream order. */
static void advance(conn *c, size_t n)
{
    while (n) {
        zc_slice *z = c->zc_len ? &c->zc[c->zc_head] : NULL;
        if (z && z->at == c->out_done) {
            size_t k = z->n - z->sent < n ? z->n - z->sent : n;
            z->sent += k;
            c->zc_bytes -= k;
            n -= k;
            if (z->sent == z->n) {
                z->release(z->owner);
                c->zc_head++;
                if (--c->zc_len == 0) c->zc_head = 0;
            }
        } else {
            size_t room = z ? (size_t)(z->at - c->out_done) : buf_pending(&c->out);
            size_t k = room < n ? room : n;
            buf_consume(&c->out, k);
            c->out_done += k;
            n -= k;
        }
    }
}

/* Whether c's output passed its class's client-output-buffer-limit: the
 * hard limit, or the soft one for longer than its seconds (Redis's rules;
 * a subscriber is in the pubsub class). Only copied bytes count, beyond
 * the first 16 KB (what Redis's fixed reply buffer holds, which its count
 * leaves out: a limit of a few bytes closes nobody), and before
 * anything is written (as Redis checks when it adds a reply): a value sent
 * from where it is stored costs no memory of its own, and one that was
 * accepted must be readable whatever its size. */
static int over_limit_slow(conn *c);
static inline int over_limit(conn *c)
{
    if (buf_pending(&c->out) > OBUF_FREE) return over_limit_slow(c);
    if (c->soft_since) c->soft_since = 0;   /* the usual case: nothing counts */
    return 0;
}

static __attribute__((noinline)) int over_limit_slow(conn *c)
{
    server *srv = c->w->srv;
    int cls;
    size_t used;
    long long hard, soft;
    int64_t now;
    cls = session_subscribed(&c->s) ? CFG_OBUF_PUBSUB : CFG_OBUF_NORMAL;
    used = buf_pending(&c->out) - OBUF_FREE;
    hard = atomic_load_explicit(&srv->obuf[cls][0], memory_order_relaxed);
    soft = atomic_load_explicit(&srv->obuf[cls][1], memory_order_relaxed);
    if (hard && used > (size_t)hard) return 1;
    if (!soft || used <= (size_t)soft) {
        c->soft_since = 0;
        return 0;
    }
    now = util_now_ms() / 1000;
    if (!c->soft_since) {
        c->soft_since = now;
        return 0;
    }
    return now - c->soft_since > atomic_load_explicit(&srv->obuf[cls][2], memory_order_relaxed);
}

/* Write what we can. Returns 0, or -1 if the connection was closed. */
static int write_output(conn *c)
{
    struct iovec iov[IOV_BATCH];
    if ((c->flags & (CONN_OVERLIMIT | CONN_KILLED)) || over_limit(c)) {
        if (!(c->flags & CONN_KILLED))
            log_warn("Closing client that reached the output buffer limit: id=%llu addr=%s",
                     (unsigned long long)c->s.id, c->s.peer);
        conn_close(c);
        return -1;
    }
    while (conn_out_pending(c)) {
        int cnt = gather(c, iov);
        ssize_t n = c->tr->writev(c, iov, cnt);
        if (n < 0) {
            if (errno == EAGAIN) break;
            if (errno == EINTR) continue;
            conn_close(c);
            return -1;
        }
        advance(c, (size_t)n);
        stat_add(&c->w->st.net_out, (unsigned long long)n);
        stat_add(&c->w->st.writes, 1);
    }
    if (conn_out_pending(c) == 0) {
        buf_trim(&c->out, KEEP_BUF);
        if (c->flags & CONN_CLOSING) {
            conn_close(c);
            return -1;
        }
        ev_mod(c->w->loop, &c->h, EV_READ);
        if (c->flags & CONN_PAUSED) {
            c->flags &= ~CONN_PAUSED;
            c->proto->process(c);
        }
    } else {
        ev_mod(c->w->loop, &c->h, (c->flags & (CONN_PAUSED | CONN_CLOSING)) ? EV_WRITE
                                                                         : EV_READ | EV_WRITE);
    }
    return 0;
}

static void on_event(ev_loop *loop, ev_handle *h, unsigned events)
{
    conn *c = (conn *)h;
    (void)loop;
    if (c->flags & CONN_DEAD) return;
    if (events & EV_WRITE) {
        if (write_output(c) < 0) return;
    }
    if ((events & EV_READ) && !(c->flags & (CONN_PAUSED | CONN_CLOSING))) read_input(c);
}

/* Three phases: run the input of every pending connection; the barrier:
 * what those commands logged is handed to the kernel (with appendfsync
 * always also fsynced: one write and fsync for all of them), so a reply is
 * never sent for a write a process crash could lose; then write the
 * replies. Connections re-marked while this runs (batch limit) wait for
 * the next turn. */
void conn_flush_pending(worker *w)
{
    size_t n = 0;
    int failed = 0;
    uint64_t lsn;
    for (conn *c = w->pending; c; c = c->next_pending) {
        if (n == w->flushv_cap) {
            w->flushv_cap = w->flushv_cap ? w->flushv_cap * 2 : 64;
            w->flushv = xrealloc(w->flushv, w->flushv_cap * sizeof(conn *));
        }
        w->flushv[n++] = c;
        c->flags &= ~CONN_PENDING;
    }
    w->pending = NULL;
    for (size_t i = 0; i < n; i++) {
        conn *c = w->flushv[i];
        /* a flag stays while a script runs long, for the next flush */
        if ((c->flags & CONN_RETRY) && run_blocked(c, 0)) c->flags &= ~CONN_RETRY;
        if ((c->flags & (CONN_UNBLOCK | CONN_UNBLOCK_ERR)) &&
            run_blocked(c, c->flags & CONN_UNBLOCK_ERR ? 2 : 1))
            c->flags &= ~(CONN_UNBLOCK | CONN_UNBLOCK_ERR);
        if (c->flags & (CONN_RETRY | CONN_UNBLOCK | CONN_UNBLOCK_ERR)) mark_pending(c);
        if (!(c->flags & (CONN_DEAD | CONN_PAUSED | CONN_CLOSING)) && buf_pending(&c->in))
            c->proto->process(c);
    }
    lsn = persist_thread_lsn();
    if (lsn > w->committed_lsn) failed = persist_commit(w->srv->ps, lsn) < 0;
    for (size_t i = 0; i < n; i++) {
        conn *c = w->flushv[i];
        if (c->flags & CONN_DEAD) continue;
        if (failed && c->log_lsn > w->committed_lsn) {
            /* Its writes did not reach the log: it must not see them acknowledged. */
            log_warn("Closing client id=%llu addr=%s: the AOF could not be written",
                     (unsigned long long)c->s.id, c->s.peer);
            conn_close(c);
            continue;
        }
        if (conn_out_pending(c) || (c->flags & CONN_CLOSING)) write_output(c);
    }
    /* After a failure the clients concerned are gone; the records stay
     * queued for the AOF's writer to retry. */
    if (lsn > w->committed_lsn) w->committed_lsn = lsn;
}

void conn_serve_busy(worker *w)
{
    for (conn *c = w->conns, *next; c; c = next) {
        next = c->next;   /* c may be closed (its memory stays until the reap) */
        /* not the one running the script, nor one whose replies wait for
         * this turn's AOF barrier, nor a blocked one */
        if (c->flags & (CONN_DEAD | CONN_CLOSING | CONN_PAUSED | CONN_PENDING | CONN_RUNNING) ||
            (c->s.flags & SESS_BLOCKED) || c->log_lsn > w->committed_lsn)
            continue;
        read_input(c);
        if (c->flags & CONN_DEAD) continue;
        if (conn_out_pending(c) && write_output(c) < 0) continue;
        /* all sent: not pending, or the next pass would leave it out */
        if (!(c->flags & CONN_CLOSING) && !conn_out_pending(c)) unmark_pending(c);
    }
}

void conn_check_timeouts(worker *w, long long timeout_s, int64_t now_ms)
{
    conn *c = w->conns, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->s.flags & (SESS_MULTI | SESS_BLOCKED)) continue;   /* as Redis spares them */
        if (now_ms - c->s.last_ms > timeout_s * 1000) {
            log_verbose("Closing idle client id=%llu", (unsigned long long)c->s.id);
            conn_close(c);
        }
    }
}
