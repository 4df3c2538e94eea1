/* transactions.c - MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis
 * 7.0's semantics and error texts. EXEC runs its queue in the exclusive
 * section, so nothing else runs between the WATCH check and the last
 * queued command. */
#include "cmd/command.h"
#include "cmd/session.h"

static void unwatch(cmd_call *x) { ks_unwatch_all(x->ks, &x->s->watch); }

static void cmd_multi(cmd_call *x)
{
    if (x->s->flags & SESS_MULTI) {
        reply_err(x, "ERR MULTI calls can not be nested");
        return;
    }
    x->s->flags |= SESS_MULTI;
    reply_ok(x);
}

static void cmd_discard(cmd_call *x)
{
    if (!(x->s->flags & SESS_MULTI)) {
        reply_err(x, "ERR DISCARD without MULTI");
        return;
    }
    session_discard_multi(x->s);
    unwatch(x);
    reply_ok(x);
}

static void cmd_exec(cmd_call *x)
{
    session *s = x->s;
    if (!(s->flags & SESS_MULTI)) {
        reply_err(x, "ERR EXEC without MULTI");
        return;
    }
    if (s->flags & SESS_EXECABORT) {
        reply_err(x, "EXECABORT Transaction discarded because of previous errors.");
    } else {
        gates_exclusive_begin(x->env->g, x->env->self);
        if (ks_watch_check(x->ks, &s->watch, util_now_ms())) {
            reply_null_array(x);
        } else {
            int64_t now = util_now_ms();
            s->flags &= ~SESS_MULTI;   /* queued commands must run, not queue */
            s->flags |= SESS_EXEC;
            resp_array(x->out, s->mq_len);
            for (int i = 0; i < s->mq_len; i++)
                command_call(x->env, s, x->sink, s->mq[i].def, s->mq[i].argc, s->mq[i].argv, now);
            s->flags &= ~SESS_EXEC;
        }
        gates_exclusive_end(x->env->g, x->env->self);
    }
    session_discard_multi(s);
    unwatch(x);
}

static void cmd_watch(cmd_call *x)
{
    session *s = x->s;
    if (s->flags & SESS_MULTI) {
        reply_err(x, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < x->argc; i++) {
        const karg *k = &x->argv[i];
        if (ks_watch(x->ks, s->db, k->p, k->n, arg_hash(x->env, k->p, k->n), &s->watch, x->now) < 0) {
            reply_domains_full(x);   /* the first key: they are all in one domain */
            return;
        }
    }
    reply_ok(x);
}

static void cmd_unwatch(cmd_call *x)
{
    unwatch(x);
    reply_ok(x);
}

#define F CMD_FAST
#define TX CAT_TRANSACTION
#define NS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"multi", cmd_multi, 1, NS | F | CMD_ALLOW_BUSY | CMD_NOQUEUE, TX, NOKEYS, "transactions",
     "1.2.0", "O(1)", NULL, NULL},
    {"exec", cmd_exec, 1, NS | CMD_SKIP_SLOWLOG | CMD_NOQUEUE | CMD_OOM_OK | CMD_ENDS_MULTI, TX,
     NOKEYS, "transactions", "1.2.0", "Depends on commands in the transaction", NULL, NULL},
    {"discard", cmd_discard, 1, NS | F | CMD_ALLOW_BUSY | CMD_NOQUEUE | CMD_OOM_OK, TX, NOKEYS,
     "transactions", "2.0.0", "O(N), when N is the number of queued commands", NULL, NULL},
    {"watch", cmd_watch, -2, NS | F | CMD_ALLOW_BUSY | CMD_NOQUEUE, TX, KEYN("RO"),
     "transactions", "2.2.0", "O(1) for every key.", NULL, NULL},
    {"unwatch", cmd_unwatch, 1, NS | F | CMD_ALLOW_BUSY, TX, NOKEYS, "transactions", "2.2.0",
     "O(1)", NULL, NULL},
};

const cmd_family cmd_family_transactions = CMD_FAMILY(rows);
