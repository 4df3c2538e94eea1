/* pubsub.c - the pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE
 * PUNSUBSCRIBE PUBLISH, the shard forms SSUBSCRIBE SUNSUBSCRIBE SPUBLISH,
 * PUBSUB's introspection, and MONITOR, whose feed is delivered the same way,
 * with Redis 7.0's replies. The registry and the delivery across workers
 * are pubsub/pubsub.c's; the feed's lines are written by command_call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "pubsub/pubsub.h"

/* A push's header: an array in RESP2, a push in RESP3. */
static void push_header(cmd_call *x, int n)
{
    resp_agg(x->out, call_resp3(x) ? '>' : '*', n);
}

/* What a subscription count means in the replies: channels and patterns
 * together, or shard channels alone. */
static long long sub_count(const session *s, int kind)
{
    if (kind == PS_SHARD) return (long long)ps_client_count(s->sub, PS_SHARD);
    return (long long)(ps_client_count(s->sub, PS_CHANNEL) + ps_client_count(s->sub, PS_PATTERN));
}

static const char *const sub_word[PS_KINDS] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsub_word[PS_KINDS] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

/* A confirmation is a push: sent even under CLIENT REPLY OFF, as Redis's
 * pushes are. */
static void confirm(cmd_call *x, const char *word, const char *name, size_t n, long long count)
{
    buf *reply = x->out;
    x->out = cmd_push_out(x);
    push_header(x, 3);
    resp_bulk_cstr(x->out, word);
    if (name) resp_bulk(x->out, name, n);
    else reply_null(x);
    resp_int(x->out, count);
    x->out = reply;
}

static void subscribe_generic(cmd_call *x, int kind)
{
    session *s = x->s;
    if (!s->sub) s->sub = ps_client_new(x->env->bus, x->env->self, s);
    for (int j = 1; j < x->argc; j++) {
        ps_subscribe(x->env->bus, s->sub, kind, x->argv[j].p, x->argv[j].n);
        confirm(x, sub_word[kind], x->argv[j].p, x->argv[j].n, sub_count(s, kind));
    }
}

/* Unsubscribe from the arguments (none: from everything of the kind), then
 * deliver what was published to them before (PUBLISH counted this client
 * for it), then confirm each. */
static void unsubscribe_generic(cmd_call *x, int kind)
{
    session *s = x->s;
    long long count = sub_count(s, kind);
    buf all = {0};   /* with no arguments: the names, copied (they go with them) */
    int n = x->argc - 1;
    karg *v;
    char *removed;
    if (n == 0 && s->sub) n = (int)ps_client_names(s->sub, kind, &all);
    v = xmalloc(sizeof *v * (size_t)(n ? n : 1));
    removed = xcalloc((size_t)(n ? n : 1), 1);
    if (x->argc > 1)
        for (int i = 0; i < n; i++) v[i] = x->argv[i + 1];
    else
        for (size_t off = 0, i = 0; off < all.len; i++) v[i].p = ps_name_next(&all, &off, &v[i].n);
    for (int i = 0; s->sub && i < n; i++)
        removed[i] = (char)ps_unsubscribe(x->env->bus, s->sub, kind, v[i].p, v[i].n);
    if (x->env->self >= 0) ps_drain(x->env->bus, x->env->self);
    for (int i = 0; i < n; i++) {
        count -= removed[i];
        confirm(x, unsub_word[kind], v[i].p, v[i].n, count);
    }
    if (n == 0) confirm(x, unsub_word[kind], NULL, 0, count);
    free(removed);
    free(v);
    buf_free(&all);
}

static void cmd_subscribe(cmd_call *x) { subscribe_generic(x, PS_CHANNEL); }
static void cmd_psubscribe(cmd_call *x) { subscribe_generic(x, PS_PATTERN); }
static void cmd_ssubscribe(cmd_call *x)
{
    /* Redis lets old clients SUBSCRIBE inside a transaction, not this */
    if (x->s->flags & SESS_EXEC) reply_err(x, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    else subscribe_generic(x, PS_SHARD);
}
static void cmd_unsubscribe(cmd_call *x) { unsubscribe_generic(x, PS_CHANNEL); }
static void cmd_punsubscribe(cmd_call *x) { unsubscribe_generic(x, PS_PATTERN); }
static void cmd_sunsubscribe(cmd_call *x) { unsubscribe_generic(x, PS_SHARD); }

static void publish_generic(cmd_call *x, int shard)
{
    resp_int(x->out, ps_publish(x->env->bus, x->env->self, shard, x->argv[1].p, x->argv[1].n,
                                x->argv[2].p, x->argv[2].n));
}

static void cmd_publish(cmd_call *x) { publish_generic(x, 0); }
static void cmd_spublish(cmd_call *x) { publish_generic(x, 1); }

/* ---- MONITOR ---- */

static void cmd_monitor(cmd_call *x)
{
    session *s = x->s;
    if (s->flags & SESS_EXEC) {
        reply_err(x, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (!s->sub) s->sub = ps_client_new(x->env->bus, x->env->self, s);
    /* a monitor asking again gets no reply at all, as from Redis */
    if (ps_subscribe(x->env->bus, s->sub, PS_MONITOR, "", 0)) reply_ok(x);
}

/* ---- PUBSUB ---- */

static void channels_generic(cmd_call *x, int shard)
{
    size_t token;
    if (x->argc > 3) {
        reply_subcmd_syntax(x);
        return;
    }
    token = resp_array_defer(x->out);
    resp_array_fill(x->out, token,
                    (long long)ps_channels(x->env->bus, shard, x->argc == 3 ? x->argv[2].p : NULL,
                                           x->argc == 3 ? x->argv[2].n : 0, x->out));
}

static void numsub_generic(cmd_call *x, int shard)
{
    resp_array(x->out, (long long)(x->argc - 2) * 2);
    for (int j = 2; j < x->argc; j++) {
        resp_bulk(x->out, x->argv[j].p, x->argv[j].n);
        resp_int(x->out, ps_numsub(x->env->bus, shard, x->argv[j].p, x->argv[j].n));
    }
}

static void cmd_pubsub_channels(cmd_call *x) { channels_generic(x, 0); }
static void cmd_pubsub_shardchannels(cmd_call *x) { channels_generic(x, 1); }
static void cmd_pubsub_numsub(cmd_call *x) { numsub_generic(x, 0); }
static void cmd_pubsub_shardnumsub(cmd_call *x) { numsub_generic(x, 1); }
static void cmd_pubsub_numpat(cmd_call *x) { resp_int(x->out, ps_numpat(x->env->bus)); }

static void cmd_pubsub_help(cmd_call *x)
{
    static const char *const lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define P (CMD_PUBSUB | CMD_LOADING | CMD_STALE)
#define SUB (P | CMD_NOSCRIPT | CMD_SUBCTX)
#define F CMD_FAST

static const cmd_def pubsub_subs[] = {
    {"channels", cmd_pubsub_channels, -2, P, 0, NOKEYS, "pubsub", "2.8.0",
     "O(N) where N is the number of active channels, and assuming constant time pattern "
     "matching (relatively short channels and patterns)", NULL, NULL},
    {"numsub", cmd_pubsub_numsub, -2, P, 0, NOKEYS, "pubsub", "2.8.0",
     "O(N) for the NUMSUB subcommand, where N is the number of requested channels", NULL, NULL},
    {"numpat", cmd_pubsub_numpat, 2, P, 0, NOKEYS, "pubsub", "2.8.0", "O(1)", NULL, NULL},
    {"shardchannels", cmd_pubsub_shardchannels, -2, P, 0, NOKEYS, "pubsub", "7.0.0",
     "O(N) where N is the number of active shard channels, and assuming constant time pattern "
     "matching (relatively short shard channels).", NULL, NULL},
    {"shardnumsub", cmd_pubsub_shardnumsub, -2, P, 0, NOKEYS, "pubsub", "7.0.0",
     "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
     NULL, NULL},
    {"help", cmd_pubsub_help, 2, CMD_LOADING | CMD_STALE, 0, NOKEYS, "pubsub", "6.2.0", "O(1)",
     NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips, subcommands */
static const cmd_def rows[] = {
    {"subscribe", cmd_subscribe, -2, SUB, 0, NOKEYS, "pubsub", "2.0.0",
     "O(N) where N is the number of channels to subscribe to.", NULL, NULL},
    {"unsubscribe", cmd_unsubscribe, -1, SUB, 0, NOKEYS, "pubsub", "2.0.0",
     "O(N) where N is the number of clients already subscribed to a channel.", NULL, NULL},
    {"psubscribe", cmd_psubscribe, -2, SUB, 0, NOKEYS, "pubsub", "2.0.0",
     "O(N) where N is the number of patterns the client is already subscribed to.", NULL, NULL},
    {"punsubscribe", cmd_punsubscribe, -1, SUB, 0, NOKEYS, "pubsub", "2.0.0",
     "O(N+M) where N is the number of patterns the client is already subscribed and M is the "
     "number of total patterns subscribed in the system (by any client).", NULL, NULL},
    {"publish", cmd_publish, 3, P | F | CMD_MAY_REPLICATE, 0, NOKEYS, "pubsub", "2.0.0",
     "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the "
     "total number of subscribed patterns (by any client).", NULL, NULL},
    {"spublish", cmd_spublish, 3, P | F | CMD_MAY_REPLICATE, 0, {KSPEC(1, 0, 1, "not_key")}, "pubsub", "7.0.0",
     "O(N) where N is the number of clients subscribed to the receiving shard channel.", NULL,
     NULL},
    {"ssubscribe", cmd_ssubscribe, -2, SUB, 0, {KSPEC(1, -1, 1, "not_key")}, "pubsub", "7.0.0",
     "O(N) where N is the number of shard channels to subscribe to.", NULL, NULL},
    {"sunsubscribe", cmd_sunsubscribe, -1, SUB, 0, {KSPEC(1, -1, 1, "not_key")}, "pubsub",
     "7.0.0", "O(N) where N is the number of clients already subscribed to a shard channel.",
     NULL, NULL},
    {"pubsub", NULL, -2, 0, 0, NOKEYS, "pubsub", "2.8.0", "Depends on subcommand.", NULL,
     pubsub_subs},
    {"monitor", cmd_monitor, 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0, NOKEYS,
     "server", "1.0.0", NULL, NULL, NULL},
};

const cmd_family cmd_family_pubsub = CMD_FAMILY(rows);
