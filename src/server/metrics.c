/* metrics.c - see metrics.h.
 *
 * A client's states: READ (its request head arrives into a fixed buffer),
 * WRITE (the answer goes out as the socket takes it), DRAIN (answered and
 * shut down for writing; what it still sends is read and dropped until it
 * closes, so that closing with unread input does not reset the connection
 * before the answer is read, as a 400 to an oversized request would be). */
#include "server/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/exposition.h"
#include "lib/log.h"
#include "lib/net.h"
#include "lib/util.h"
#include "proto/http.h"

#define DRAIN_MS 1000
#define DRAIN_MAX (64 * 1024)   /* bytes dropped at most before closing anyway */

enum { M_READ, M_WRITE, M_DRAIN };

typedef struct mconn {
    ev_handle h;
    metrics *m;
    int state;                   /* M_* */
    int64_t deadline_ms;         /* monotonic: closed past it */
    size_t len;                  /* bytes in req (READ), or dropped (DRAIN) */
    buf out;                     /* the answer; out.off: what is written */
    struct mconn *prev, *next;
    char req[METRICS_REQ_MAX];
} mconn;

typedef struct mlistener {
    ev_handle h;
    metrics *m;
} mlistener;

struct metrics {
    server *srv;
    worker *w;                   /* whose loop serves it; the fields below are its own... */
    listen_set *ls;              /* the sockets the listeners are on, or NULL */
    mlistener *lis;
    mconn *conns;
    int nconns;
    pthread_mutex_t mu;          /* ... but these, which a rebind sets from any thread */
    atomic_int moved;            /* next is for w to take up */
    listen_set *next;            /* the set to move to (NULL: stop listening) */
    long long port;              /* the newest set's port (0: none) */
};

/* ---- the clients ---- */

static void client_close(mconn *c)
{
    metrics *m = c->m;
    ev_del(m->w->loop, &c->h);
    close(c->h.fd);
    if (c->prev) c->prev->next = c->next;
    else m->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    m->nconns--;
    buf_free(&c->out);
    free(c);
}

static void respond(mconn *c, int status, const char *reason, const char *type, buf *body,
                    const char *extra, int head_only)
{
    buf_printf(&c->out,
               "HTTP/1.1 %d %s\r\nServer: kasi\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
               status, reason, type, body->len, extra);
    if (!head_only) buf_append(&c->out, body->data, body->len);
    c->state = M_WRITE;
}

/* An error's answer: a line of text (its length only, to a HEAD). */
static void respond_error(mconn *c, int status, const char *reason, const char *extra, int head_only)
{
    buf body = {0};
    buf_printf(&body, "%d %s\n", status, reason);
    respond(c, status, reason, "text/plain; charset=utf-8", &body, extra, head_only);
    buf_free(&body);
}

static void serve(mconn *c, const http_req *r)
{
    metrics *m = c->m;
    worker *w = m->w;
    int head = http_is(r->method, r->mlen, "HEAD");
    int page = http_is(r->path, r->plen, "/") ? 1 : http_is(r->path, r->plen, "/metrics") ? 2 : 0;
    buf body = {0};
    if (!head && !http_is(r->method, r->mlen, "GET")) {
        respond_error(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", 0);
        return;
    }
    if (!page) {
        respond_error(c, 404, "Not Found", "", head);
        return;
    }
    /* read as INFO reads, inside the worker's gate: not while a script
     * runs long holding every gate (then the scrape is to be retried) */
    if (!gates_enter_unless(m->srv->g, w->id, &command_busy)) {
        respond_error(c, 503, "Service Unavailable", "Retry-After: 1\r\n", head);
        return;
    }
    if (page == 2) exposition_metrics(&w->env, &body);
    else exposition_status(&w->env, &body);
    gates_leave(m->srv->g, w->id);
    respond(c, 200, "OK", page == 2 ? EXPOSITION_METRICS_TYPE : "text/html; charset=utf-8", &body, "",
            head);
    buf_free(&body);
}

static void client_write(mconn *c);

/* Read what came; answer once the head is whole (or cannot be). */
static void client_read(mconn *c)
{
    http_req r;
    long n;
    ssize_t got = read(c->h.fd, c->req + c->len, sizeof c->req - c->len);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        client_close(c);
        return;
    }
    if (got < 0) return;
    c->len += (size_t)got;
    n = http_parse_head(c->req, c->len, &r);
    if (n == HTTP_PARTIAL && c->len < sizeof c->req) return;
    if (n < 0) respond_error(c, 400, "Bad Request", "", 0);   /* malformed, or too long */
    else serve(c, &r);
    client_write(c);
}

static void client_write(mconn *c)
{
    ssize_t n = write(c->h.fd, buf_head(&c->out), buf_pending(&c->out));
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        client_close(c);
        return;
    }
    if (n > 0) buf_consume(&c->out, (size_t)n);
    if (buf_pending(&c->out)) {
        ev_mod(c->m->w->loop, &c->h, EV_WRITE);
        return;
    }
    shutdown(c->h.fd, SHUT_WR);
    c->state = M_DRAIN;
    c->len = 0;
    c->deadline_ms = util_mono_us() / 1000 + DRAIN_MS;
    ev_mod(c->m->w->loop, &c->h, EV_READ);
}

static void client_drain(mconn *c)
{
    char junk[4096];
    ssize_t n = read(c->h.fd, junk, sizeof junk);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    c->len += n > 0 ? (size_t)n : 0;
    if (n <= 0 || c->len > DRAIN_MAX) client_close(c);
}

static void on_client(ev_loop *loop, ev_handle *h, unsigned events)
{
    mconn *c = (mconn *)h;
    (void)loop;
    (void)events;
    if (c->state == M_READ) client_read(c);
    else if (c->state == M_DRAIN) client_drain(c);
    else client_write(c);
}

static void refuse(int fd, const char *status, const char *text)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, strlen(text), text);
    if (write(fd, msg, (size_t)n) < 0) { /* closing anyway */ }
    close(fd);
}

static void on_accept(ev_loop *loop, ev_handle *h, unsigned events)
{
    metrics *m = ((mlistener *)h)->m;
    (void)loop;
    (void)events;
    for (int i = 0; i < 16; i++) {
        int fd = net_accept(h->fd);
        mconn *c;
        if (fd < 0) {
            if (fd != -EAGAIN && fd != -EINTR && fd != -ECONNABORTED)
                log_warn("metrics accept: %s", strerror(-fd));
            return;
        }
        if (server_protected_refuses(m->srv, fd)) {
            refuse(fd, "403 Forbidden",
                   "Protected mode: no password is set, so only loopback clients are served "
                   "(set requirepass, or protected-mode no on a trusted network).\n");
            continue;
        }
        if (m->nconns >= METRICS_MAX_CONNS) {
            refuse(fd, "503 Service Unavailable", "Too many metrics clients.\n");
            continue;
        }
        c = xcalloc(1, sizeof *c);
        c->m = m;
        c->state = M_READ;
        c->deadline_ms = util_mono_us() / 1000 + METRICS_TIMEOUT_MS;
        if (ev_add(m->w->loop, &c->h, fd, EV_READ, on_client) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = m->conns;
        if (m->conns) m->conns->prev = c;
        m->conns = c;
        m->nconns++;
    }
}

/* ---- listening ---- */

/* Move the listeners to ls (NULL: none), on the serving worker. */
static void listen_on(metrics *m, listen_set *ls)
{
    for (int i = 0; m->ls && i < m->ls->n; i++) ev_del(m->w->loop, &m->lis[i].h);
    server_release_set(m->srv, m->ls);
    free(m->lis);
    m->lis = NULL;
    m->ls = ls;
    if (!ls) return;
    m->lis = xcalloc((size_t)ls->n, sizeof *m->lis);
    for (int i = 0; i < ls->n; i++) {
        m->lis[i].m = m;
        if (ev_add(m->w->loop, &m->lis[i].h, ls->fds[i], EV_READ, on_accept) < 0)
            log_warn("Could not serve metrics on a socket: %s", strerror(errno));
    }
}

metrics *metrics_create(server *srv, worker *w)
{
    metrics *m = xcalloc(1, sizeof *m);
    long long port = cfg_ll(&srv->cfg.metrics_port);
    m->srv = srv;
    m->w = w;
    pthread_mutex_init(&m->mu, NULL);
    if (port > 0) {
        listen_set *ls = server_listen(srv, port, -1);
        if (!ls) {
            metrics_free(&m);
            return NULL;
        }
        m->port = port;
        listen_on(m, ls);
        log_notice("Serving metrics at http://<bind>:%lld/metrics", port);
    }
    return m;
}

int metrics_rebind(metrics *m, char *err, size_t errlen)
{
    long long port = cfg_ll(&m->srv->cfg.metrics_port);
    listen_set *ls = NULL, *dropped = NULL;
    uint64_t one = 1;
    pthread_mutex_lock(&m->mu);
    if (port == m->port) {   /* e.g. restored after another directive failed */
        pthread_mutex_unlock(&m->mu);
        return 0;
    }
    pthread_mutex_unlock(&m->mu);
    if (port > 0 && !(ls = server_listen(m->srv, port, -1))) {
        snprintf(err, errlen, "Unable to listen on this port. Check server logs.");
        return -1;
    }
    pthread_mutex_lock(&m->mu);
    if (atomic_load(&m->moved)) dropped = m->next;   /* one the worker had not taken up yet */
    m->next = ls;
    atomic_store(&m->moved, 1);
    m->port = port;
    pthread_mutex_unlock(&m->mu);
    server_release_set(m->srv, dropped);
    if (write(m->w->wakefd, &one, sizeof one) < 0) { /* already awake */ }
    return 0;
}

void metrics_tick(metrics *m, int64_t now_ms)
{
    if (!m) return;
    if (atomic_load_explicit(&m->moved, memory_order_relaxed)) {
        listen_set *ls;
        pthread_mutex_lock(&m->mu);
        ls = m->next;
        m->next = NULL;
        atomic_store(&m->moved, 0);
        pthread_mutex_unlock(&m->mu);
        listen_on(m, ls);
    }
    for (mconn *c = m->conns, *next; c; c = next) {
        next = c->next;
        if (now_ms >= c->deadline_ms) client_close(c);
    }
}

void metrics_free(metrics **mp)
{
    metrics *m = *mp;
    if (!m) return;
    while (m->conns) client_close(m->conns);
    listen_on(m, NULL);
    server_release_set(m->srv, m->next);
    pthread_mutex_destroy(&m->mu);
    free(m);
    *mp = NULL;
}
