/* cmd_conn.c - connection state commands: transactions (MULTI/EXEC/WATCH),
 * CLIENT and RESET. */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "cmd/command.h"
#include "lib/net.h"

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
    if (atomic_load(&x->srv->auth_required)) c->flags &= ~CONN_AUTHED;
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
    char laddr[64];
    size_t argv_mem = 0, multi_mem = 0;
    buf line = {0};
    for (int i = 0; i < x->argc; i++) argv_mem += x->argv[i].n;
    for (int i = 0; i < c->mq_len; i++) {
        multi_mem += sizeof(queued_cmd) + sizeof(karg) * (size_t)c->mq[i].argc;
        for (int k = 0; k < c->mq[i].argc; k++) multi_mem += c->mq[i].argv[k].n;
    }
    net_sock_name(c->h.fd, laddr, sizeof laddr);
    /* Redis 7.0's fields, in its order; db is the domain's number, or -1
     * for a domain named by something other than a number. */
    buf_printf(&line,
               "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%lld sub=0 "
               "psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu rbs=%zu "
               "rbp=%zu obl=%zu oll=%d omem=%zu tot-mem=%zu events=%s cmd=client|info "
               "user=default redir=-1 resp=2\n",
               (unsigned long long)c->id, c->peer, laddr, c->h.fd, c->name ? c->name : "",
               (long long)(x->now - c->created_ms) / 1000, (long long)(x->now - c->last_ms) / 1000,
               (c->flags & CONN_MULTI) ? "x" : "N", ks_domain_db_index(c->db),
               (c->flags & CONN_MULTI) ? c->mq_len : -1, buf_pending(&c->in), c->in.cap - c->in.len,
               argv_mem, multi_mem, c->in.cap, c->in.cap, buf_pending(&c->out), c->zc_len,
               c->out.cap + c->zc_bytes,
               sizeof *c + c->in.cap + c->out.cap + multi_mem + sizeof(karg) * (size_t)c->argv_cap,
               (c->h.mask & EV_WRITE) ? "rw" : "r");
    resp_bulk(x->out, line.data, line.len);
    buf_free(&line);
}
