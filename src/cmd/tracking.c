/* tracking.c - client-side caching: CLIENT TRACKING, CACHING, GETREDIR and
 * TRACKINGINFO with Redis 7.0's options, replies and error texts; the keys
 * a tracking client reads, remembered in the tracking table
 * (pubsub/tracking.c); and the invalidations it sends, written for the
 * client that receives them: a RESP3 push, or through a redirection (a
 * message on __redis__:invalidate for a RESP2 subscriber). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "pubsub/tracking.h"

static void on_touch(void *ctx, const char *key, size_t n) { tracking_invalidate(ctx, key, n); }

void tracking_attach(keyspace *ks, tracking *t) { ks_set_touch_hook(ks, on_touch, t); }

/* ---- the session's prefixes (BCAST) ---- */

/* The session's prefixes, one after another (as ps_name_next reads them):
 * NULL past the last. */
static const char *prefix_next(const buf *b, size_t *off, size_t *n)
{
    return *off < b->len ? ps_name_next(b, off, n) : NULL;
}

static int has_prefix(const buf *b, const char *p, size_t n)
{
    size_t off = 0, len;
    const char *q;
    while ((q = prefix_next(b, &off, &len)))
        if (len == n && memcmp(q, p, n) == 0) return 1;
    return 0;
}

/* Two prefixes collide when one starts the other: a key would be told of
 * twice. */
static int overlaps(const char *a, size_t an, const char *b, size_t bn)
{
    return memcmp(a, b, an < bn ? an : bn) == 0;
}

static void tracking_off(cmd_env *env, session *s)
{
    size_t off = 0, n;
    const char *p;
    while ((p = prefix_next(&s->trk_prefixes, &off, &n))) tracking_bcast_remove(env->trk, s->id, p, n);
    buf_free(&s->trk_prefixes);
    if (s->trk & TRK_ON) ps_client_set_state(env->bus, s->me, PS_ST_TRACKING, 0);
    s->trk = 0;
    s->trk_redir = 0;
}

void tracking_session_end(cmd_env *env, session *s)
{
    if (s->trk || s->trk_prefixes.len) tracking_off(env, s);
}

/* ---- CLIENT TRACKING ---- */

void client__tracking(cmd_call *x)
{
    session *s = x->s;
    long long redir = 0;
    unsigned opts = 0;
    int npre = 0, on;
    const karg **pre = xmalloc(sizeof *pre * (size_t)x->argc);
    for (int j = 3; j < x->argc; j++) {
        int more = x->argc - 1 - j;
        if (arg_is(x, j, "redirect") && more) {
            j++;
            if (redir) {
                reply_err(x, "ERR A client can only redirect to a single other client");
                goto out;
            }
            if (arg_ll(x, j, &redir) < 0) goto out;
            if (!x->env->bus || ps_state_of(x->env->bus, (uint64_t)redir) < 0) {
                reply_err(x, "ERR The client ID you want redirect to does not exist");
                goto out;
            }
        } else if (arg_is(x, j, "bcast")) {
            opts |= TRK_BCAST;
        } else if (arg_is(x, j, "optin")) {
            opts |= TRK_OPTIN;
        } else if (arg_is(x, j, "optout")) {
            opts |= TRK_OPTOUT;
        } else if (arg_is(x, j, "noloop")) {
            opts |= TRK_NOLOOP;
        } else if (arg_is(x, j, "prefix") && more) {
            pre[npre++] = &x->argv[++j];
        } else {
            reply_syntax(x);
            goto out;
        }
    }
    on = arg_is(x, 2, "on");
    if (!on && !arg_is(x, 2, "off")) {
        reply_syntax(x);
        goto out;
    }
    if (!on) {
        tracking_off(x->env, s);
        reply_ok(x);
        goto out;
    }
    if (!(opts & TRK_BCAST) && npre) {
        reply_err(x, "ERR PREFIX option requires BCAST mode to be enabled");
        goto out;
    }
    if ((s->trk & TRK_ON) && !!(s->trk & TRK_BCAST) != !!(opts & TRK_BCAST)) {
        reply_err(x, "ERR You can't switch BCAST mode on/off before disabling tracking for this "
                     "client, and then re-enabling it with a different mode.");
        goto out;
    }
    if ((opts & TRK_BCAST) && (opts & (TRK_OPTIN | TRK_OPTOUT))) {
        reply_err(x, "ERR OPTIN and OPTOUT are not compatible with BCAST");
        goto out;
    }
    if ((opts & TRK_OPTIN) && (opts & TRK_OPTOUT)) {
        reply_err(x, "ERR You can't specify both OPTIN mode and OPTOUT mode");
        goto out;
    }
    if (((opts & TRK_OPTIN) && (s->trk & TRK_OPTOUT)) || ((opts & TRK_OPTOUT) && (s->trk & TRK_OPTIN))) {
        reply_err(x, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                     "client, and then re-enabling it with a different mode.");
        goto out;
    }
    if (opts & TRK_BCAST) {
        for (int i = 0; i < npre; i++) {
            size_t off = 0, n;
            const char *p;
            while ((p = prefix_next(&s->trk_prefixes, &off, &n)))
                if (overlaps(p, n, pre[i]->p, pre[i]->n)) {
                    resp_errorf(x->out,
                                "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. Prefixes for a "
                                "single client must not overlap.",
                                (int)strnlen(pre[i]->p, pre[i]->n), pre[i]->p, (int)strnlen(p, n), p);
                    goto out;
                }
            for (int k = i + 1; k < npre; k++)
                if (overlaps(pre[i]->p, pre[i]->n, pre[k]->p, pre[k]->n)) {
                    resp_errorf(x->out,
                                "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. Prefixes "
                                "for a single client must not overlap.",
                                (int)strnlen(pre[i]->p, pre[i]->n), pre[i]->p,
                                (int)strnlen(pre[k]->p, pre[k]->n), pre[k]->p);
                    goto out;
                }
        }
    }
    if (!(s->trk & TRK_ON)) ps_client_set_state(x->env->bus, s->me, PS_ST_TRACKING, 1);
    s->trk = (s->trk & TRK_CACHING) | TRK_ON | opts;
    s->trk_redir = (uint64_t)redir;
    if (opts & TRK_BCAST) {
        static const karg all = {"", 0};
        int noloop = !!(opts & TRK_NOLOOP);
        size_t off = 0, n;
        const char *p;
        if (!npre) pre[npre++] = &all;
        while ((p = prefix_next(&s->trk_prefixes, &off, &n)))   /* the mode now */
            tracking_bcast_add(x->env->trk, s->id, p, n, noloop);
        for (int i = 0; i < npre; i++) {
            if (has_prefix(&s->trk_prefixes, pre[i]->p, pre[i]->n)) continue;
            buf_append(&s->trk_prefixes, &pre[i]->n, sizeof pre[i]->n);
            buf_append(&s->trk_prefixes, pre[i]->p, pre[i]->n);
            tracking_bcast_add(x->env->trk, s->id, pre[i]->p, pre[i]->n, noloop);
        }
    }
    ks_touch_enable(x->ks);   /* from now on, changes are told of */
    reply_ok(x);
out:
    free(pre);
}

void client__caching(cmd_call *x)
{
    session *s = x->s;
    if (!(s->trk & TRK_ON)) {
        reply_err(x, "ERR CLIENT CACHING can be called only when the client is in tracking mode with "
                     "OPTIN or OPTOUT mode enabled");
    } else if (arg_is(x, 2, "yes") || arg_is(x, 2, "no")) {
        /* YES picks the keys OPTIN would leave out, NO those OPTOUT would keep */
        int yes = arg_is(x, 2, "yes");
        if (!(s->trk & (yes ? TRK_OPTIN : TRK_OPTOUT))) {
            reply_err(x, yes ? "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                             : "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
        s->trk |= TRK_CACHING;
        reply_ok(x);
    } else {
        reply_syntax(x);
    }
}

static long long redirect_of(const session *s) { return s->trk & TRK_ON ? (long long)s->trk_redir : -1; }

void client__getredir(cmd_call *x) { resp_int(x->out, redirect_of(x->s)); }

static int by_bytes(const void *a, const void *b)
{
    const karg *x = a, *y = b;
    return slice_cmp(x->p, x->n, y->p, y->n);
}

void client__trackinginfo(cmd_call *x)
{
    session *s = x->s;
    static const struct {
        unsigned need, also;
        const char *word;
    } words[] = {
        {TRK_BCAST, 0, "bcast"},       {TRK_OPTIN, 0, "optin"},
        {TRK_OPTIN, TRK_CACHING, "caching-yes"}, {TRK_OPTOUT, 0, "optout"},
        {TRK_OPTOUT, TRK_CACHING, "caching-no"}, {TRK_NOLOOP, 0, "noloop"},
        {TRK_BROKEN, 0, "broken_redirect"},
    };
    size_t token, off = 0, n, np = 0;
    int nflags = 1;
    const char *p;
    karg *v;
    reply_map(x, 3);
    resp_bulk_cstr(x->out, "flags");
    token = reply_agg_defer(x);
    resp_bulk_cstr(x->out, s->trk & TRK_ON ? "on" : "off");
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if ((s->trk & words[i].need) && (s->trk & words[i].also) == words[i].also) {
            resp_bulk_cstr(x->out, words[i].word);
            nflags++;
        }
    reply_set_fill(x, token, nflags);
    resp_bulk_cstr(x->out, "redirect");
    resp_int(x->out, redirect_of(s));
    resp_bulk_cstr(x->out, "prefixes");
    v = xmalloc(sizeof *v * (s->trk_prefixes.len / sizeof(size_t) + 1));
    while ((p = prefix_next(&s->trk_prefixes, &off, &n))) v[np++] = (karg){p, n};
    qsort(v, np, sizeof *v, by_bytes);
    resp_array(x->out, (long long)np);
    for (size_t i = 0; i < np; i++) resp_bulk(x->out, v[i].p, v[i].n);
    free(v);
}

/* ---- remembering and telling ---- */

static void remember_keys(cmd_call *x, unsigned t);

/* After a command of a tracking client: a read-only one (not in BCAST)
 * has the keys its key specs name remembered, unless OPTIN/OPTOUT say
 * otherwise; then CLIENT CACHING's word is used up, unless the command was
 * another CLIENT one or it is queued for (or run by) EXEC, as in Redis. */
void tracking_after(cmd_call *x)
{
    session *s = x->s;
    unsigned t = s->trk;
    if ((t & TRK_ON) && !(t & TRK_BCAST)) remember_keys(x, t);
    if ((t & TRK_CACHING) && !(s->flags & (SESS_MULTI | SESS_EXEC)) &&
        !(x->argc > 0 && util_eqi(x->argv[0].p, x->argv[0].n, "client")))
        s->trk &= ~TRK_CACHING;
}

static void remember_keys(cmd_call *x, unsigned t)
{
    const cmd_def *def = x->def;
    session *s = x->s;
    if (!(def->flags & CMD_READONLY) || (def->flags & CMD_PUBSUB)) return;
    if (((t & TRK_OPTIN) && !(t & TRK_CACHING)) || ((t & TRK_OPTOUT) && (t & TRK_CACHING))) return;
    for (int i = 0; i < CMD_KEYSPECS && def->keys[i].flags; i++) {
        int first, last, step;
        if (cmd_keyspec_range(&def->keys[i], x->argc, x->argv, &first, &last, &step) < 0) continue;
        for (int j = first; j <= last && j < x->argc; j += step)
            tracking_remember(x->env->trk, s->id, x->argv[j].p, x->argv[j].n);
    }
}

static void push_head(buf *out, int resp, int n, const char *word)
{
    resp_agg(out, resp == 3 ? '>' : '*', n);
    resp_bulk_cstr(out, word);
}

/* An invalidation's value for a client: its keys, or a null (all keys) in
 * the tracking client's protocol. */
static void value_of(buf *out, const session *t, const ps_msg *m)
{
    if (m->len) buf_append(out, m->body, m->len);
    else if (t->resp == 3) resp3_null(out);
    else resp_null(out);
}

void tracking_deliver(cmd_env *env, session *s, buf *out, const ps_msg *m)
{
    if (m->nelem == PS_MSG_REDIRECTED) {   /* s is the redirection's client */
        if (s->resp == 3) {
            push_head(out, 3, 2, "invalidate");
        } else if (session_subscribed(s)) {
            push_head(out, 2, 3, "message");
            resp_bulk_cstr(out, "__redis__:invalidate");
        } else {
            return;   /* RESP2 has no way to tell it */
        }
        buf_append(out, m->body, m->len);
        return;
    }
    /* s is the tracking client */
    if (!(s->trk & TRK_ON)) return;
    if (m->len && (m->nelem == PS_MSG_BROADCAST) != !!(s->trk & TRK_BCAST)) return;
    /* (a broadcast left out a NOLOOP client's own changes already) */
    if (m->nelem == PS_MSG_INVALIDATE && m->len && (s->trk & TRK_NOLOOP) && m->origin == s->id) return;
    if (s->trk_redir) {
        buf v = {0};
        value_of(&v, s, m);
        ps_msg *r = ps_msg_new(PS_MSG_REDIRECTED, m->origin, v.data, v.len);
        buf_free(&v);
        if (!ps_post(env->bus, s->trk_redir, r)) {
            s->trk |= TRK_BROKEN;
            if (s->resp == 3) {
                push_head(out, 3, 2, "tracking-redir-broken");
                resp_int(out, (long long)s->trk_redir);
            }
        }
        return;
    }
    if (s->resp != 3) return;
    push_head(out, 3, 2, "invalidate");
    value_of(out, s, m);
}
