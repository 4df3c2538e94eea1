/* cmd_conn.c - connection state commands: transactions (MULTI/EXEC/WATCH),
 * CLIENT and RESET. */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "command.h"

static void unwatch(cmd_call *x) { ks_unwatch_all(x->ks, &x->c->watch); }

void cmd_multi(cmd_call *x)
{
    if (x->c->flags & CONN_MULTI) {
        reply_err(x, "ERR MULTI calls can not be nested");
        return;
    }
    x->c->flags |= CONN_MULTI;
    reply_ok(x);
}

void cmd_discard(cmd_call *x)
{
    if (!(x->c->flags & CONN_MULTI)) {
        reply_err(x, "ERR DISCARD without MULTI");
        return;
    }
    conn_discard_multi(x->c);
    unwatch(x);
    reply_ok(x);
}

void cmd_exec(cmd_call *x)
{
    conn *c = x->c;
    if (!(c->flags & CONN_MULTI)) {
        reply_err(x, "ERR EXEC without MULTI");
        return;
    }
    if (c->flags & CONN_EXECABORT) {
        reply_err(x, "EXECABORT Transaction discarded because of previous errors.");
    } else {
        /* Nothing else runs while the queue executes, so it is atomic; the
         * WATCH check is inside the same section, so no write can slip in
         * between the check and the commands. */
        server_exclusive_begin(c->w);
        if (ks_watch_check(x->ks, &c->watch, util_now_ms())) {
            resp_null_array(x->out);
        } else {
            int64_t now = util_now_ms();
            c->flags &= ~CONN_MULTI;   /* queued commands must run, not queue */
            resp_array(x->out, c->mq_len);
            for (int i = 0; i < c->mq_len; i++)
                command_call(c, c->mq[i].def, c->mq[i].argc, c->mq[i].argv, now);
        }
        server_exclusive_end(c->w);
    }
    conn_discard_multi(c);
    unwatch(x);
}

void cmd_watch(cmd_call *x)
{
    conn *c = x->c;
    if (c->flags & CONN_MULTI) {
        reply_err(x, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < x->argc; i++) {
        const karg *k = &x->argv[i];
        if (ks_watch(x->ks, c->db, k->p, k->n, conn_key_hash(c, k->p, k->n), &c->watch, x->now) < 0) {
            reply_domains_full(x);   /* the first key: they are all in one domain */
            return;
        }
    }
    reply_ok(x);
}

void cmd_unwatch(cmd_call *x)
{
    unwatch(x);
    reply_ok(x);
}

void cmd_reset(cmd_call *x)
{
    conn *c = x->c;
    conn_discard_multi(c);
    unwatch(x);
    conn_set_domain(c, ks_default(x->ks));
    ks_domain_hold(c->db);
    free(c->name);
    c->name = NULL;
    if (x->srv->cfg.requirepass[0]) c->flags &= ~CONN_AUTHED;
    resp_simple(x->out, "RESET");
}

/* Redis's rule: names are printable ASCII without spaces. */
static int valid_name(const karg *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->p[i] < '!' || a->p[i] > '~') return 0;
    return 1;
}

int client_set_name(cmd_call *x, const karg *name)
{
    conn *c = x->c;
    if (!valid_name(name)) {
        reply_err(x, "ERR Client names cannot contain spaces, newlines or special characters.");
        return -1;
    }
    free(c->name);
    c->name = NULL;
    if (name->n) {
        c->name = xmalloc(name->n + 1);
        memcpy(c->name, name->p, name->n);
        c->name[name->n] = '\0';
    }
    return 0;
}

void cmd_client_setname(cmd_call *x)
{
    if (client_set_name(x, &x->argv[2]) == 0) reply_ok(x);
}

void cmd_client_getname(cmd_call *x)
{
    if (x->c->name) resp_bulk_cstr(x->out, x->c->name);
    else resp_null(x->out);
}

void cmd_client_id(cmd_call *x) { resp_int(x->out, (long long)x->c->id); }

void cmd_client_info(cmd_call *x)
{
    conn *c = x->c;
    char line[1024];
    size_t dlen;
    const char *dname = ks_domain_name(c->db, &dlen);
    int n = snprintf(line, sizeof line,
                     "id=%llu addr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%.*s "
                     "multi=%d qbuf=%zu qbuf-free=%zu obl=%zu cmd=client|info user=default resp=2\n",
                     (unsigned long long)c->id, c->peer, c->h.fd, c->name ? c->name : "",
                     (long long)(x->now - c->created_ms) / 1000,
                     (long long)(x->now - c->last_ms) / 1000,
                     (c->flags & CONN_MULTI) ? "x" : "N", (int)(dlen > 64 ? 64 : dlen), dname,
                     (c->flags & CONN_MULTI) ? c->mq_len : -1, buf_pending(&c->in),
                     c->in.cap - c->in.len, conn_out_pending(c));
    resp_bulk(x->out, line, (size_t)n);
}
