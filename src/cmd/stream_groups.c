/* stream_groups.c - the consumer group commands (XGROUP XREADGROUP XACK
 * XPENDING XCLAIM XAUTOCLAIM, XINFO GROUPS and CONSUMERS), with Redis
 * 7.0's replies, error texts and order of checks. The groups live in
 * types/stream_group.c; the rows are streams.c's.
 *
 * Every write is reported as what replays it exactly, with no clock: a
 * delivery or a claim as XCLAIM key group consumer 0 id... TIME t
 * RETRYCOUNT n FORCE JUSTID [LASTID id ENTRIESREAD n] SEENTIME t (as Redis
 * propagates XREADGROUP, plus the group's read counter and the consumer's
 * seen-time), XACK as given, and the XGROUP subcommands (rare, and a
 * container the replay does not descend into) as the whole value. The
 * clock is the command's (x->now); a replayed write (a session with no
 * client) has none, so there XCLAIM takes TIME as logged, and ENTRIESREAD
 * and SEENTIME, which clients cannot give. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/notify.h"
#include "cmd/streams_int.h"
#include "types/stream_group.h"

#define ERR_NEEDKEY                                                                            \
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to " \
    "use the MKSTREAM option to create an empty stream automatically."

/* Beyond it, XAUTOCLAIM's COUNT would have Redis allocate more than 64 GB. */
#define XAUTOCLAIM_COUNT_MAX ((1LL << 36) / 16)

/* A logged write being replayed: no client, and its times are as logged. */
static int replaying(const cmd_call *x) { return x->s->id == 0; }

static int cn(const karg *a) { return (int)xs_cstr_n(a); }

/* "NOGROUP No such key 'k' or consumer group 'g'<tail>" */
static void reply_nogroup(cmd_call *x, int key, int group, const char *tail)
{
    resp_errorf(x->out, "NOGROUP No such key '%.*s' or consumer group '%.*s'%s", cn(&x->argv[key]),
                x->argv[key].p, cn(&x->argv[group]), x->argv[group].p, tail);
}

static sgroup *group_of(const stream *s, const karg *a) { return sg_find(s, a->p, a->n); }

/* The consumer named a, made when missing (an event on r's key for x);
 * its seen-time is now. */
static sconsumer *consumer_touch(cmd_call *x, const kref *r, stream *s, sgroup *g, const karg *a,
                                 int64_t now)
{
    sconsumer *c = sc_find(g, a->p, a->n);
    if (!c) {
        notify_ref(x, r, CFG_NOTIFY_STREAM, "xgroup-createconsumer");
        return sc_create(s, g, a->p, a->n, now);
    }
    c->seen = now;
    return c;
}

/* ---- effects ---- */

/* An effect's arguments, numbers formatted in place. */
typedef struct eff {
    slice *v;
    char (*num)[48];
    int n, k;
    slice small_v[24];
    char small_num[24][48];
} eff;

static void eff_init(eff *e, int cap)
{
    e->n = e->k = 0;
    if (cap <= 24) {
        e->v = e->small_v;
        e->num = e->small_num;
    } else {
        e->v = xmalloc(sizeof *e->v * (size_t)cap);
        e->num = xmalloc(sizeof *e->num * (size_t)cap);
    }
}

static void eff_done(eff *e)
{
    if (e->v != e->small_v) {
        free(e->v);
        free(e->num);
    }
}

static void eff_arg(eff *e, const char *p, size_t n) { e->v[e->n++] = (slice){p, n}; }
static void eff_lit(eff *e, const char *s) { eff_arg(e, s, strlen(s)); }

static void eff_id(eff *e, stream_id id)
{
    char *b = e->num[e->k++];
    eff_arg(e, b, sid_fmt(b, id));
}

static void eff_ll(eff *e, long long v)
{
    char *b = e->num[e->k++];
    eff_arg(e, b, (size_t)util_ll2str(b, v));
}

/* XCLAIM key group consumer 0 ids... [TIME t RETRYCOUNT n FORCE JUSTID]
 * [LASTID id ENTRIESREAD n] SEENTIME seen: the n pending entries made (or
 * left) the consumer's with that delivery time and count, with last the
 * group's last ID and entries-read moved on, and the consumer's seen-time.
 * With n = 0, the consumer alone (made when missing). */
static void claim_effect(kref *r, const karg *key, const sgroup *g, const sconsumer *c,
                         const stream_id *ids, int n, int64_t t, uint64_t cnt, int last)
{
    eff e;
    eff_init(&e, n + 18);
    eff_lit(&e, "XCLAIM");
    eff_arg(&e, key->p, key->n);
    eff_arg(&e, g->name, g->nlen);
    eff_arg(&e, c->name, c->nlen);
    eff_lit(&e, "0");
    for (int i = 0; i < n; i++) eff_id(&e, ids[i]);
    if (n) {
        eff_lit(&e, "TIME");
        eff_ll(&e, t);
        eff_lit(&e, "RETRYCOUNT");
        eff_ll(&e, (long long)cnt);
        eff_lit(&e, "FORCE");
        eff_lit(&e, "JUSTID");
    }
    if (last) {
        eff_lit(&e, "LASTID");
        eff_id(&e, g->last_id);
        eff_lit(&e, "ENTRIESREAD");
        eff_ll(&e, g->entries_read);
    }
    eff_lit(&e, "SEENTIME");
    eff_ll(&e, c->seen);
    ks_effect(r, e.n, e.v);
    eff_done(&e);
}

/* XCLAIM key group consumer 0 id: the entry id, gone from the stream,
 * dropped from the PEL (as the replay finds it missing). */
static void drop_effect(kref *r, const karg *key, const sgroup *g, const karg *consumer, stream_id id)
{
    eff e;
    eff_init(&e, 6);
    eff_lit(&e, "XCLAIM");
    eff_arg(&e, key->p, key->n);
    eff_arg(&e, g->name, g->nlen);
    eff_arg(&e, consumer->p, consumer->n);
    eff_lit(&e, "0");
    eff_id(&e, id);
    ks_effect(r, e.n, e.v);
    eff_done(&e);
}

/* ---- XGROUP ---- */

/* The stream and group the subcommands at argv[2], argv[3] name, under
 * r's lock: NULL after replying (no key, WRONGTYPE, no group when
 * need_group). */
static stream *xgroup_stream(cmd_call *x, kref *r, int need_group, sgroup **g)
{
    int bad;
    item *it = coll_lock_write(x, 2, r, KIND_STREAM, &bad);
    stream *s;
    *g = NULL;
    if (bad) return NULL;
    if (!it) {
        reply_err(x, ERR_NEEDKEY);
        return NULL;
    }
    s = stream_of(it);
    *g = group_of(s, &x->argv[3]);
    if (!*g && need_group) {
        resp_errorf(x->out, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                    cn(&x->argv[3]), x->argv[3].p, cn(&x->argv[2]), x->argv[2].p);
        return NULL;
    }
    return s;
}

/* ENTRIESREAD's value at argv[i]: -1 after replying. */
static int arg_entries_read(cmd_call *x, int i, long long *v)
{
    if (arg_ll(x, i, v) < 0) return -1;
    if (*v < 0 && *v != SG_UNKNOWN) {
        reply_err(x, "ERR value for ENTRIESREAD must be positive or -1");
        return -1;
    }
    return 0;
}

void cmd_xgroup_create(cmd_call *x)
{
    int mkstream = 0, bad;
    long long entries_read = SG_UNKNOWN;
    stream_id id;
    stream_w w;
    stream *s;
    kref r;
    item *it;
    int made = 0;
    for (int i = 5; i < x->argc;) {
        if (xs_opt_is(x, i, "mkstream")) {
            mkstream = 1;
            i++;
        } else if (xs_opt_is(x, i, "entriesread") && i + 1 < x->argc) {
            if (arg_entries_read(x, i + 1, &entries_read) < 0) return;
            i += 2;
        } else {
            reply_subcmd_syntax(x);
            return;
        }
    }
    it = coll_lock_write(x, 2, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it && !mkstream) {
        reply_err(x, ERR_NEEDKEY);
        goto out;
    }
    if (x->argc > 8) {
        reply_subcmd_syntax(x);
        goto out;
    }
    if (xs_opt_ch(x, 4, '$')) id = it ? stream_of(it)->last_id : ID_MIN;
    else if (xs_arg_id(x, 4, &id, 0, 1) < 0) goto out;
    if (!(s = stream_w_open(&w, &r))) {
        reply_nomem(x);
        goto out;
    }
    if (sg_find(s, x->argv[3].p, x->argv[3].n)) {
        reply_err(x, "BUSYGROUP Consumer Group name already exists");
    } else {
        if (w.mem0) stream_w_touch_unwatched(&w);
        else stream_w_touch(&w);   /* MKSTREAM: a new key */
        sg_create(s, x->argv[3].p, x->argv[3].n, id, entries_read);
        reply_ok(x);
        made = 1;
    }
    if (stream_w_close(&w)) ks_effect_put(&r);
    if (made) notify_key(x, CFG_NOTIFY_STREAM, "xgroup-create", 2);   /* after MKSTREAM's "new" */
out:
    ks_unlock(&r);
}

void cmd_xgroup_setid(cmd_call *x)
{
    long long entries_read = SG_UNKNOWN;
    stream_id id;
    stream_w w;
    sgroup *g;
    stream *s;
    kref r;
    if (!(s = xgroup_stream(x, &r, 1, &g))) goto out;
    if (x->argc != 5 && x->argc != 7) {
        reply_subcmd_syntax(x);
        goto out;
    }
    if (xs_opt_ch(x, 4, '$')) id = s->last_id;
    else if (xs_arg_id(x, 4, &id, 0, 0) < 0) goto out;
    if (x->argc == 7) {
        if (!xs_opt_is(x, 5, "entriesread")) {
            reply_subcmd_syntax(x);
            goto out;
        }
        if (arg_entries_read(x, 6, &entries_read) < 0) goto out;
    }
    stream_w_open(&w, &r);
    stream_w_touch_unwatched(&w);
    g->last_id = id;
    g->entries_read = entries_read;
    stream_w_close(&w);
    ks_effect_put(&r);
    notify_key(x, CFG_NOTIFY_STREAM, "xgroup-setid", 2);
    reply_ok(x);
out:
    ks_unlock(&r);
}

void cmd_xgroup_destroy(cmd_call *x)
{
    stream_w w;
    sgroup *g;
    stream *s;
    kref r;
    if (!(s = xgroup_stream(x, &r, 0, &g))) goto out;
    if (!g) {
        resp_int(x->out, 0);
        goto out;
    }
    /* Here a client blocked in XREADGROUP on the group would get NOGROUP. */
    stream_w_open(&w, &r);
    stream_w_touch_unwatched(&w);
    sg_destroy(s, g);
    stream_w_close(&w);
    ks_effect_put(&r);
    notify_key(x, CFG_NOTIFY_STREAM, "xgroup-destroy", 2);
    resp_int(x->out, 1);
out:
    ks_unlock(&r);
}

void cmd_xgroup_createconsumer(cmd_call *x)
{
    stream_w w;
    sgroup *g;
    stream *s;
    sconsumer *c;
    kref r;
    if (!(s = xgroup_stream(x, &r, 1, &g))) goto out;
    if (sc_find(g, x->argv[4].p, x->argv[4].n)) {
        resp_int(x->out, 0);
        goto out;
    }
    stream_w_open(&w, &r);
    stream_w_touch_unwatched(&w);
    c = sc_create(s, g, x->argv[4].p, x->argv[4].n, x->now);
    stream_w_close(&w);
    notify_key(x, CFG_NOTIFY_STREAM, "xgroup-createconsumer", 2);
    claim_effect(&r, &x->argv[2], g, c, NULL, 0, 0, 0, 0);
    resp_int(x->out, 1);
out:
    ks_unlock(&r);
}

void cmd_xgroup_delconsumer(cmd_call *x)
{
    uint64_t pending = 0;
    stream_w w;
    sgroup *g;
    stream *s;
    sconsumer *c;
    kref r;
    if (!(s = xgroup_stream(x, &r, 1, &g))) goto out;
    if ((c = sc_find(g, x->argv[4].p, x->argv[4].n))) {
        stream_w_open(&w, &r);
        stream_w_touch_unwatched(&w);
        pending = sc_delete(s, g, c);
        stream_w_close(&w);
        ks_effect_put(&r);
        notify_key(x, CFG_NOTIFY_STREAM, "xgroup-delconsumer", 2);
    }
    resp_int(x->out, (long long)pending);
out:
    ks_unlock(&r);
}

void cmd_xgroup_help(cmd_call *x)
{
    static const char *const lines[] = {
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

/* ---- XREADGROUP ---- */

/* Deliver what the group has past its last ID to consumer c, at most
 * count (0: all): the reply's array of entries, the group's last ID and
 * entries-read moved on, and (without noack) each entry pending for c,
 * delivered now once (taken from another consumer if it had it). Returns
 * how many; ids gets those made pending. */
static long long deliver_new(cmd_call *x, stream *s, sgroup *g, sconsumer *c, long long count,
                             int noack, stream_id **ids, int *nids)
{
    stream_iter it;
    sentry e;
    long long n = 0;
    stream_id start = g->last_id;
    size_t token = resp_array_defer(x->out);
    int cap = 0;
    sid_incr(&start);
    stream_iter_init(&it, s, start, ID_MAX, 0);
    while ((!count || n < count) && stream_iter_next(&it, &e)) {
        if (sid_cmp(e.id, g->last_id) > 0) {
            if (g->entries_read != SG_UNKNOWN && !sg_tombstones_from(s, e.id)) g->entries_read++;
            else if (s->entries_added) g->entries_read = sg_estimate_read(s, e.id);
            g->last_id = e.id;
        }
        xs_reply_entry(x, &e);
        n++;
        if (noack) continue;
        snack *k = sn_find(g, e.id);
        if (k) {   /* XGROUP SETID went back: the entry changes hands */
            sn_move(k, c);
            k->delivered = x->now;
            k->count = 1;
        } else {
            sn_add(s, g, c, e.id, x->now, 1);
        }
        if (*nids == cap) {
            cap = cap ? cap * 2 : 16;
            *ids = xrealloc(*ids, sizeof **ids * (size_t)cap);
        }
        (*ids)[(*nids)++] = e.id;
    }
    stream_iter_done(&it);
    resp_array_fill(x->out, token, n);
    return n;
}

/* Consumer c's history from start on, at most count (0: all): each entry
 * still in the stream delivered once more now (a deleted one as its ID
 * and a nil), each logged as its own claim. Returns the claims logged. */
static int deliver_history(cmd_call *x, kref *r, const karg *key, stream *s, sgroup *g,
                            sconsumer *c, stream_id start, long long count)
{
    long long n = 0;
    int logged = 0;
    size_t token = resp_array_defer(x->out);
    for (snack *k = sn_seek_c(c, start); k && (!count || n < count); k = sn_next_c(c, k)) {
        stream_iter it;
        sentry e;
        stream_iter_init(&it, s, k->id, k->id, 0);
        if (stream_iter_next(&it, &e)) {
            xs_reply_entry(x, &e);
            k->delivered = x->now;
            k->count++;
            claim_effect(r, key, g, c, &k->id, 1, k->delivered, k->count, 0);
            logged++;
        } else {
            resp_array(x->out, 2);
            xs_reply_id(x, k->id);
            reply_null_array(x);
        }
        stream_iter_done(&it);
        n++;
    }
    resp_array_fill(x->out, token, n);
    return logged;
}

void cmd_xreadgroup(cmd_call *x)
{
    xs_read_args o;
    int served = 0, npend = 0;
    stream_id *pend = NULL;
    size_t token = 0;
    if (xs_read_opts(x, 1, &o) < 0) return;
    for (int k = 0; k < o.nstreams; k++) {
        int ia = o.sarg + o.nstreams + k, bad;
        item *it = ks_read(&o.refs[k], x->now);
        if (x->s->flags & SESS_RETRY) {
            /* blocked, and the stream or its group went meanwhile: Redis
             * 7.0's errors for a client it unblocks so */
            if (!it || item_kind(it) != KIND_STREAM) {
                reply_err(x, "UNBLOCKED the stream key no longer exists");
                goto fail;
            }
            if (!group_of(stream_of(it), &x->argv[o.garg])) {
                reply_err(x, "NOGROUP the consumer group this client was blocked on no longer exists");
                goto fail;
            }
        }
        it = coll_of_kind(x, it, KIND_STREAM, &bad);
        if (bad) goto fail;
        if (!it || !group_of(stream_of(it), &x->argv[o.garg])) {
            reply_nogroup(x, o.sarg + k, o.garg, " in XREADGROUP with GROUP option");
            goto fail;
        }
        if (xs_opt_ch(x, ia, '$')) {
            reply_err(x, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to "
                         "read the history of this consumer by specifying a proper ID, or use "
                         "the > ID to get new messages. The $ ID would just return an empty "
                         "result set.");
            goto fail;
        }
        if (xs_opt_ch(x, ia, '>')) {
            o.ids[k] = ID_MAX;   /* new entries (as Redis marks them) */
            continue;
        }
        if (xs_arg_id(x, ia, &o.ids[k], 0, 1) < 0) goto fail;
    }
    for (int k = 0; k < o.nstreams; k++) {
        const karg *key = &x->argv[o.sarg + k];
        stream *s = stream_of(o.refs[k].it);
        sgroup *g = group_of(s, &x->argv[o.garg]);
        int history = sid_cmp(o.ids[k], ID_MAX) != 0, fresh = 0, logged = 0;
        stream_id top;
        stream_w w;
        sconsumer *c;
        if (!history && s->length && stream_edge(s, 1, &top) == 0 && sid_cmp(top, g->last_id) > 0)
            fresh = 1;
        if (!history && !fresh) continue;   /* here a BLOCK would wait (the consumer is not named yet) */
        stream_w_open(&w, &o.refs[k]);
        stream_w_touch_unwatched(&w);
        c = consumer_touch(x, &o.refs[k], s, g, &x->argv[o.garg + 1], x->now);
        xs_read_stream(x, served++, &token, key);
        if (history) {
            stream_id start = o.ids[k];
            sid_incr(&start);
            logged = deliver_history(x, &o.refs[k], key, s, g, c, start, o.count);
        } else {
            stream_id last = g->last_id;
            long long er = g->entries_read;
            npend = 0;
            deliver_new(x, s, g, c, o.count, o.noack, &pend, &npend);
            logged = npend || sid_cmp(last, g->last_id) || er != g->entries_read;
            if (logged) claim_effect(&o.refs[k], key, g, c, pend, npend, x->now, 1, 1);
        }
        if (!logged) claim_effect(&o.refs[k], key, g, c, NULL, 0, 0, 0, 0);   /* its seen-time */
        stream_w_close(&w);
    }
    goto out;
fail:
    served = -1;   /* replied already */
out:
    xs_read_end(x, &o, served, token);
    free(pend);
}

/* ---- XACK ---- */

void cmd_xack(cmd_call *x)
{
    int bad, acked = 0;
    stream_id *ids = NULL;
    stream_w w;
    sgroup *g;
    stream *s;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it || !(g = group_of(stream_of(it), &x->argv[2]))) {
        resp_int(x->out, 0);
        goto out;
    }
    /* every ID is checked before anything is acknowledged */
    ids = xmalloc(sizeof *ids * (size_t)(x->argc - 3));
    for (int j = 3; j < x->argc; j++)
        if (xs_arg_id(x, j, &ids[j - 3], 0, 1) < 0) goto out;
    s = stream_w_open(&w, &r);
    for (int j = 0; j < x->argc - 3; j++) {
        snack *k = sn_find(g, ids[j]);
        if (!k) continue;
        stream_w_touch_unwatched(&w);
        sn_delete(s, g, k);
        acked++;
    }
    if (stream_w_close(&w)) coll_effect(x, &r);
    resp_int(x->out, acked);
out:
    ks_unlock(&r);
    free(ids);
}

/* ---- XPENDING ---- */

static void pending_summary(cmd_call *x, const sgroup *g)
{
    char b[48];
    size_t token;
    long long n = 0;
    resp_array(x->out, 4);
    resp_int(x->out, (long long)g->npel);
    if (!g->npel) {
        reply_null(x);
        reply_null(x);
        reply_null_array(x);
        return;
    }
    xs_reply_id(x, sn_seek(g, ID_MIN)->id);
    xs_reply_id(x, sn_last(g)->id);
    token = resp_array_defer(x->out);
    for (const sconsumer *c = sc_first(g); c; c = sc_next(g, c)) {
        if (!c->npel) continue;
        resp_array(x->out, 2);
        resp_bulk(x->out, c->name, c->nlen);
        resp_bulk(x->out, b, (size_t)util_ll2str(b, (long long)c->npel));
        n++;
    }
    resp_array_fill(x->out, token, n);
}

void cmd_xpending(cmd_call *x)
{
    long long count = 0, minidle = 0, n = 0;
    stream_id start = ID_MIN, end = ID_MAX;
    int consumer_arg = 0, bad;
    const sgroup *g;
    const sconsumer *c = NULL;
    kref r;
    item *it;
    if (x->argc != 3 && (x->argc < 6 || x->argc > 9)) {
        reply_syntax(x);
        return;
    }
    if (x->argc >= 6) {
        int a = 3;
        if (xs_opt_is(x, 3, "idle")) {
            if (arg_ll(x, 4, &minidle) < 0) return;
            if (x->argc < 8) {
                reply_syntax(x);
                return;
            }
            a += 2;
        }
        if (arg_ll(x, a + 2, &count) < 0) return;
        if (count < 0) count = 0;
        if (xs_interval(x, a, &start, 0) < 0 || xs_interval(x, a + 1, &end, 1) < 0) return;
        if (a + 3 < x->argc) consumer_arg = a + 3;
    }
    it = coll_lock_read(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it || !(g = group_of(stream_of(it), &x->argv[2]))) {
        reply_nogroup(x, 1, 2, "");
        goto out;
    }
    if (x->argc == 3) {
        pending_summary(x, g);
        goto out;
    }
    if (consumer_arg && !(c = sc_find(g, x->argv[consumer_arg].p, x->argv[consumer_arg].n))) {
        resp_array(x->out, 0);
        goto out;
    }
    size_t token = resp_array_defer(x->out);
    for (const snack *k = c ? sn_seek_c(c, start) : sn_seek(g, start);
         count && k && sid_cmp(k->id, end) <= 0; k = c ? sn_next_c(c, k) : sn_next(g, k)) {
        int64_t idle = x->now - k->delivered;
        if (minidle && idle < minidle) continue;
        n++;
        count--;
        resp_array(x->out, 4);
        xs_reply_id(x, k->id);
        resp_bulk(x->out, k->c->name, k->c->nlen);
        resp_int(x->out, idle < 0 ? 0 : idle);
        resp_int(x->out, (long long)k->count);
    }
    resp_array_fill(x->out, token, n);
out:
    ks_unlock(&r);
}

/* ---- XCLAIM, XAUTOCLAIM ---- */

/* The entry id (in the stream) as a claim replies it. */
static void reply_claimed(cmd_call *x, const stream *s, stream_id id, int justid)
{
    stream_iter it;
    sentry e;
    if (justid) {
        xs_reply_id(x, id);
        return;
    }
    stream_iter_init(&it, s, id, id, 0);
    if (stream_iter_next(&it, &e)) xs_reply_entry(x, &e);
    else reply_null(x);
    stream_iter_done(&it);
}

/* Give the pending entry k to c, delivered at t, its count as given (-1:
 * one more, unless justid). */
static void claim(snack *k, sconsumer *c, int64_t t, long long retry, int justid)
{
    sn_move(k, c);
    k->delivered = t;
    if (retry >= 0) k->count = (uint64_t)retry;
    else if (!justid) k->count++;
}

static int arg_ll_msg(cmd_call *x, int i, long long *v, const char *msg)
{
    if (util_str2ll(x->argv[i].p, x->argv[i].n, v) == 0) return 0;
    reply_err(x, msg);
    return -1;
}

void cmd_xclaim(cmd_call *x)
{
    long long minidle, retry = -1, t = -1, seen = -1, n = 0, er = 0;
    int force = 0, justid = 0, j, last_arg, bad, last_moved = 0, er_given = 0;
    stream_id lastid = ID_MIN, *ids = NULL;
    sconsumer *c = NULL;
    const karg *cname = &x->argv[3];
    stream_w w;
    sgroup *g;
    stream *s;
    kref r;
    size_t token;
    item *it = coll_lock_write(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it || !(g = group_of(stream_of(it), &x->argv[2]))) {
        reply_nogroup(x, 1, 2, "");
        goto out;
    }
    s = stream_of(it);
    if (arg_ll_msg(x, 4, &minidle, "ERR Invalid min-idle-time argument for XCLAIM") < 0) goto out;
    if (minidle < 0) minidle = 0;
    ids = xmalloc(sizeof *ids * (size_t)x->argc);
    for (j = 5; j < x->argc; j++)
        if (xs_parse_id(&x->argv[j], &ids[j - 5], 0, 1, NULL) < 0) break;
    last_arg = j - 1;
    for (; j < x->argc; j++) {
        int more = x->argc - 1 - j;
        if (xs_opt_is(x, j, "force")) {
            force = 1;
        } else if (xs_opt_is(x, j, "justid")) {
            justid = 1;
        } else if (xs_opt_is(x, j, "idle") && more) {
            j++;
            if (arg_ll_msg(x, j, &t, "ERR Invalid IDLE option argument for XCLAIM") < 0) goto out;
            t = x->now - t;
        } else if (xs_opt_is(x, j, "time") && more) {
            j++;
            if (arg_ll_msg(x, j, &t, "ERR Invalid TIME option argument for XCLAIM") < 0) goto out;
        } else if (xs_opt_is(x, j, "retrycount") && more) {
            j++;
            if (arg_ll_msg(x, j, &retry, "ERR Invalid RETRYCOUNT option argument for XCLAIM") < 0)
                goto out;
        } else if (xs_opt_is(x, j, "lastid") && more) {
            j++;
            if (xs_arg_id(x, j, &lastid, 0, 1) < 0) goto out;
        } else if (replaying(x) && xs_opt_is(x, j, "seentime") && more) {
            j++;
            if (arg_ll(x, j, &seen) < 0) goto out;
        } else if (replaying(x) && xs_opt_is(x, j, "entriesread") && more) {
            j++;
            if (arg_ll(x, j, &er) < 0) goto out;
            er_given = 1;
        } else {
            resp_errorf(x->out, "ERR Unrecognized XCLAIM option '%.*s'", cn(&x->argv[j]),
                        x->argv[j].p);
            goto out;
        }
    }
    stream_w_open(&w, &r);
    if (sid_cmp(lastid, g->last_id) > 0) {
        stream_w_touch_unwatched(&w);
        g->last_id = lastid;
        last_moved = 1;
    }
    if (er_given) {   /* a replayed XREADGROUP's */
        stream_w_touch_unwatched(&w);
        g->entries_read = er;
    }
    /* a delivery time in the future or before the epoch is taken as now
     * (a replayed one stands as logged) */
    if (t == -1 || (!replaying(x) && (t < 0 || t > x->now))) t = x->now;
    token = resp_array_defer(x->out);
    for (j = 5; j <= last_arg; j++) {
        stream_id id = ids[j - 5];
        snack *k = sn_find(g, id);
        if (!stream_has(s, id)) {   /* gone from the stream: gone from the PEL */
            if (k) {
                stream_w_touch_unwatched(&w);
                sn_delete(s, g, k);
                drop_effect(&r, &x->argv[1], g, cname, id);
            }
            continue;
        }
        if (!k && !force) continue;
        if (k && minidle && x->now - k->delivered < minidle) continue;
        stream_w_touch_unwatched(&w);
        if (!c) c = consumer_touch(x, &r, s, g, cname, x->now);
        if (!k) k = sn_add(s, g, c, id, t, 1);   /* as Redis makes one: delivered once */
        claim(k, c, t, retry, justid);
        reply_claimed(x, s, id, justid);
        n++;
        claim_effect(&r, &x->argv[1], g, c, &id, 1, k->delivered, k->count, 0);
    }
    if (seen >= 0) {   /* a replayed consumer's seen-time */
        stream_w_touch_unwatched(&w);
        if (!c) c = consumer_touch(x, &r, s, g, cname, seen);
        c->seen = seen;
    }
    if (last_moved) {   /* XCLAIM key group consumer 0 LASTID id */
        slice v[7] = {x->argv[0], x->argv[1], x->argv[2], *cname, {"0", 1}, {"LASTID", 6}, {0, 0}};
        char b[48];
        v[6] = (slice){b, sid_fmt(b, g->last_id)};
        ks_effect(&r, 7, v);
    }
    stream_w_close(&w);
    resp_array_fill(x->out, token, n);
out:
    ks_unlock(&r);
    free(ids);
}

void cmd_xautoclaim(cmd_call *x)
{
    long long minidle, count = 100, attempts, n = 0;
    int justid = 0, bad, ndel = 0, delcap = 0;
    stream_id start, *del = NULL;
    sconsumer *c = NULL;
    stream_w w;
    sgroup *g;
    stream *s;
    snack *k;
    kref r;
    size_t token;
    item *it;
    if (arg_ll_msg(x, 4, &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM") < 0) return;
    if (minidle < 0) minidle = 0;
    if (xs_interval(x, 5, &start, 0) < 0) return;
    for (int j = 6; j < x->argc; j++) {
        if (xs_opt_is(x, j, "count") && x->argc - 1 - j > 0) {
            /* Redis caps it so count * 16 bytes cannot overflow */
            if (util_str2ll(x->argv[j + 1].p, x->argv[j + 1].n, &count) < 0 || count < 1 ||
                count > INT64_MAX / 16) {
                reply_err(x, "ERR COUNT must be > 0");
                return;
            }
            /* Redis allocates count IDs up front and fails when it cannot
             * have them; Kasi grows as it goes, and refuses where the
             * allocation could never succeed */
            if (count > XAUTOCLAIM_COUNT_MAX) {
                reply_err(x, "ERR Insufficient memory, failed allocating transient memory, COUNT "
                             "too high.");
                return;
            }
            j++;
        } else if (xs_opt_is(x, j, "justid")) {
            justid = 1;
        } else {
            reply_syntax(x);
            return;
        }
    }
    it = coll_lock_write(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it || !(g = group_of(stream_of(it), &x->argv[2]))) {
        reply_nogroup(x, 1, 2, "");
        goto out;
    }
    s = stream_w_open(&w, &r);
    attempts = count * 10;
    resp_array(x->out, 3);
    {
        /* the cursor goes first: the claims are written after it */
        buf *out = x->out, body = {0};
        x->out = &body;
        token = resp_array_defer(x->out);
        k = sn_seek(g, start);
        while (attempts-- && count && k) {
            stream_id id = k->id;
            snack *next = sn_next(g, k);
            if (!stream_has(s, id)) {
                stream_w_touch_unwatched(&w);
                sn_delete(s, g, k);
                drop_effect(&r, &x->argv[1], g, &x->argv[3], id);
                if (ndel == delcap) {
                    delcap = delcap ? delcap * 2 : 16;
                    del = xrealloc(del, sizeof *del * (size_t)delcap);
                }
                del[ndel++] = id;
                count--;
                k = next;
                continue;
            }
            if (minidle && x->now - k->delivered < minidle) {
                k = next;
                continue;
            }
            stream_w_touch_unwatched(&w);
            if (!c) c = consumer_touch(x, &r, s, g, &x->argv[3], x->now);
            claim(k, c, x->now, -1, justid);
            reply_claimed(x, s, id, justid);
            claim_effect(&r, &x->argv[1], g, c, &id, 1, k->delivered, k->count, 0);
            n++;
            count--;
            k = next;
        }
        resp_array_fill(x->out, token, n);
        x->out = out;
        xs_reply_id(x, k ? k->id : ID_MIN);
        buf_append(out, body.data, body.len);
        buf_free(&body);
    }
    resp_array(x->out, ndel);
    for (int i = 0; i < ndel; i++) xs_reply_id(x, del[i]);
    stream_w_close(&w);
out:
    ks_unlock(&r);
    free(del);
}

/* ---- XINFO ---- */

static void reply_entries_read(cmd_call *x, const sgroup *g)
{
    if (g->entries_read != SG_UNKNOWN) resp_int(x->out, g->entries_read);
    else reply_null(x);
}

static void reply_lag(cmd_call *x, const stream *s, const sgroup *g)
{
    long long lag;
    if (sg_lag(s, g, &lag) == 0) resp_int(x->out, lag);
    else reply_null(x);
}

void cmd_xinfo_groups(cmd_call *x)
{
    const stream *s;
    kref r;
    if (!(s = xs_info_stream(x, &r))) goto out;
    resp_array(x->out, (long long)sg_count(s));
    for (const sgroup *g = sg_first(s); g; g = sg_next(s, g)) {
        reply_map(x, 6);
        resp_bulk_cstr(x->out, "name");
        resp_bulk(x->out, g->name, g->nlen);
        resp_bulk_cstr(x->out, "consumers");
        resp_int(x->out, (long long)g->nconsumers);
        resp_bulk_cstr(x->out, "pending");
        resp_int(x->out, (long long)g->npel);
        resp_bulk_cstr(x->out, "last-delivered-id");
        xs_reply_id(x, g->last_id);
        resp_bulk_cstr(x->out, "entries-read");
        reply_entries_read(x, g);
        resp_bulk_cstr(x->out, "lag");
        reply_lag(x, s, g);
    }
out:
    ks_unlock(&r);
}

void cmd_xinfo_consumers(cmd_call *x)
{
    const stream *s;
    const sgroup *g;
    kref r;
    if (!(s = xs_info_stream(x, &r))) goto out;
    if (!(g = group_of(s, &x->argv[3]))) {
        resp_errorf(x->out, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                    cn(&x->argv[3]), x->argv[3].p, cn(&x->argv[2]), x->argv[2].p);
        goto out;
    }
    resp_array(x->out, (long long)g->nconsumers);
    for (const sconsumer *c = sc_first(g); c; c = sc_next(g, c)) {
        int64_t idle = x->now - c->seen;
        if (idle < 0) idle = 0;
        reply_map(x, 3);
        resp_bulk_cstr(x->out, "name");
        resp_bulk(x->out, c->name, c->nlen);
        resp_bulk_cstr(x->out, "pending");
        resp_int(x->out, (long long)c->npel);
        resp_bulk_cstr(x->out, "idle");
        resp_int(x->out, idle);
    }
out:
    ks_unlock(&r);
}

void xs_reply_groups_full(cmd_call *x, const stream *s, long long count)
{
    resp_array(x->out, (long long)sg_count(s));
    for (const sgroup *g = sg_first(s); g; g = sg_next(s, g)) {
        long long n = 0;
        size_t token;
        reply_map(x, 7);
        resp_bulk_cstr(x->out, "name");
        resp_bulk(x->out, g->name, g->nlen);
        resp_bulk_cstr(x->out, "last-delivered-id");
        xs_reply_id(x, g->last_id);
        resp_bulk_cstr(x->out, "entries-read");
        reply_entries_read(x, g);
        resp_bulk_cstr(x->out, "lag");
        reply_lag(x, s, g);
        resp_bulk_cstr(x->out, "pel-count");
        resp_int(x->out, (long long)g->npel);
        resp_bulk_cstr(x->out, "pending");
        token = resp_array_defer(x->out);
        for (const snack *k = sn_seek(g, ID_MIN); k && (!count || n < count); k = sn_next(g, k), n++) {
            resp_array(x->out, 4);
            xs_reply_id(x, k->id);
            resp_bulk(x->out, k->c->name, k->c->nlen);
            resp_int(x->out, k->delivered);
            resp_int(x->out, (long long)k->count);
        }
        resp_array_fill(x->out, token, n);
        resp_bulk_cstr(x->out, "consumers");
        resp_array(x->out, (long long)g->nconsumers);
        for (const sconsumer *c = sc_first(g); c; c = sc_next(g, c)) {
            reply_map(x, 4);
            resp_bulk_cstr(x->out, "name");
            resp_bulk(x->out, c->name, c->nlen);
            resp_bulk_cstr(x->out, "seen-time");
            resp_int(x->out, c->seen);
            resp_bulk_cstr(x->out, "pel-count");
            resp_int(x->out, (long long)c->npel);
            resp_bulk_cstr(x->out, "pending");
            n = 0;
            token = resp_array_defer(x->out);
            for (const snack *k = sn_seek_c(c, ID_MIN); k && (!count || n < count);
                 k = sn_next_c(c, k), n++) {
                resp_array(x->out, 3);
                xs_reply_id(x, k->id);
                resp_int(x->out, k->delivered);
                resp_int(x->out, (long long)k->count);
            }
            resp_array_fill(x->out, token, n);
        }
    }
}
