/* sets.c - the set commands, with Redis 7.0's replies, error texts and
 * order of checks. The members live in types/set.c; this file parses,
 * looks keys up, replies and reports each write's effect (SPOP's random
 * choice as the SREM of what it popped, a STORE's result as the value it
 * put). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "types/set.h"

/* Effects name at most this many members a record (SPOP of many). */
#define EFFECT_BATCH 1024

/* The members of v: a set in RESP3 (as_set), else an array. */
static void reply_view(cmd_call *x, const set_view *v, int as_set)
{
    const char *s;
    size_t n;
    set_iter i;
    if (as_set) reply_set(x, (long long)v->n);
    else resp_array(x->out, (long long)v->n);
    set_iter_view(&i, v);
    while (set_next(&i, &s, &n)) resp_bulk(x->out, s, n);
}

static void reply_members(cmd_call *x, const item *it, int as_set)
{
    set_view v;
    set_view_of(&v, it);
    reply_view(x, &v, as_set);
}

/* ---- one key ---- */

static void cmd_sadd(cmd_call *x)
{
    long long added = 0;
    int bad, i, rc = 0;
    set_w w;
    kref r;
    coll_lock_write(x, 1, &r, KIND_SET, &bad);
    if (bad) goto out;
    set_w_open(&w, &r);
    for (i = 2; i < x->argc; i++) {
        rc = set_w_add(&w, x->argv[i].p, x->argv[i].n);
        if (rc < 0) break;
        added += rc;
    }
    if (set_w_close(&w, x->now)) ks_effect(&r, i, x->argv);   /* the members that were added */
    if (added) notify_key(x, CFG_NOTIFY_SET, "sadd", 1);
    if (rc < 0) reply_nomem(x);
    else resp_int(x->out, added);
out:
    ks_unlock(&r);
}

static void cmd_srem(cmd_call *x)
{
    long long n = 0;
    int bad;
    set_w w;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_SET, &bad);
    if (!bad) {
        if (it) {
            set_w_open(&w, &r);
            for (int i = 2; i < x->argc && set_w_len(&w); i++)
                n += set_w_del(&w, x->argv[i].p, x->argv[i].n);
            if (n) notify_ref_del(x, &r, CFG_NOTIFY_SET, "srem", set_w_len(&w) == 0);
            /* a set left empty was deleted, and that was logged */
            if (set_w_close(&w, x->now) && r.it) coll_effect(x, &r);
        }
        resp_int(x->out, n);
    }
    ks_unlock(&r);
}

static void cmd_smembers(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_SET, &bad);
    if (!bad) {
        if (it) reply_members(x, it, 1);
        else reply_set(x, 0);
    }
    ks_unlock(&r);
}

static void cmd_sismember(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_SET, &bad);
    if (!bad) resp_int(x->out, it && set_has(it, x->argv[2].p, x->argv[2].n));
    ks_unlock(&r);
}

static void cmd_smismember(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_SET, &bad);
    if (!bad) {
        set_view v;
        if (it) set_view_of(&v, it);
        resp_array(x->out, x->argc - 2);
        for (int i = 2; i < x->argc; i++)
            resp_int(x->out, it && set_view_has(&v, x->argv[i].p, x->argv[i].n));
    }
    ks_unlock(&r);
}

static void cmd_scard(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_SET, &bad);
    if (!bad) resp_int(x->out, it ? (long long)set_len(it) : 0);
    ks_unlock(&r);
}

/* ---- random members ---- */

static void put_member(buf *b, const char *s, size_t n)
{
    buf_reserve(b, pack_str_size(n));
    b->len += pack_str_put(b->data + b->len, s, n);
}

/* count distinct random members of it, fewer than it has, appended to out
 * as packed strings. Returns 0, or -1 when memory ran out. Costs O(count):
 * a pass over the set when count is a good part of it (each member taken
 * with the probability that leaves the right number to pick from the
 * rest), else random picks, repeats dropped. */
static int sample_distinct(const item *it, size_t count, buf *out)
{
    size_t left = set_len(it), need = count;
    const char *s;
    size_t n;
    if (count * 3 > left) {
        set_iter i;
        set_iter_init(&i, it);
        while (need && set_next(&i, &s, &n)) {
            if (util_rand64() % left < need) {
                put_member(out, s, n);
                need--;
            }
            left--;
        }
        return 0;
    }
    set_picker *pk = malloc(sizeof *pk);
    fdict seen;   /* the members picked so far */
    int rc = 0;
    if (!pk) return -1;
    set_picker_init(pk, it);
    fdict_init(&seen);
    while (need) {
        set_pick(pk, &s, &n);
        if (fdict_find(&seen, s, n)) continue;
        if (!fdict_add(&seen, s, n, NULL, 0)) {
            rc = -1;
            break;
        }
        put_member(out, s, n);
        need--;
    }
    fdict_free(&seen);
    free(pk);
    return rc;
}

static void reply_picked(cmd_call *x, const buf *b, size_t count, int as_set)
{
    size_t n, sz;
    if (as_set) reply_set(x, (long long)count);
    else resp_array(x->out, (long long)count);
    for (const char *p = b->data, *end = b->data + b->len; p < end; p += sz) {
        const char *s = pack_str_get(p, &n, &sz);
        resp_bulk(x->out, s, n);
    }
}

/* Log the removal of the packed members in b from r's key, as SREMs. */
static void log_srem(kref *r, const karg *key, const buf *b)
{
    slice *argv = xmalloc(sizeof *argv * (2 + EFFECT_BATCH));
    const char *p = b->data, *end = b->data + b->len;
    argv[0] = (slice){"SREM", 4};
    argv[1] = *key;
    while (p < end) {
        int k = 2;
        for (size_t sz; p < end && k < 2 + EFFECT_BATCH; p += sz, k++)
            argv[k].p = pack_str_get(p, &argv[k].n, &sz);
        ks_effect(r, k, argv);
    }
    free(argv);
}

/* Remove the packed members in b (all in the set) and log it. */
static void pop_members(cmd_call *x, kref *r, const buf *b)
{
    size_t n, sz;
    set_w w;
    set_w_open(&w, r);
    for (const char *p = b->data, *end = b->data + b->len; p < end; p += sz) {
        const char *s = pack_str_get(p, &n, &sz);
        set_w_del(&w, s, n);
    }
    notify_ref_del(x, r, CFG_NOTIFY_SET, "spop", set_w_len(&w) == 0);
    set_w_close(&w, x->now);
    if (r->it) log_srem(r, &x->argv[1], b);   /* emptied: its deletion was logged */
}

static void cmd_spop(cmd_call *x)
{
    long long l = 1;
    int bad;
    buf b = {0};
    kref r;
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    if (x->argc == 3 && (util_str2ll(x->argv[2].p, x->argv[2].n, &l) < 0 || l < 0)) {
        reply_err(x, "ERR value is out of range, must be positive");
        return;
    }
    item *it = coll_lock_write(x, 1, &r, KIND_SET, &bad);
    if (bad) goto out;
    if (!it) {
        if (x->argc == 3) reply_set(x, 0);
        else reply_null(x);
        goto out;
    }
    if (x->argc == 2) {   /* one member, as a bulk string */
        set_picker *pk = xmalloc(sizeof *pk);
        const char *s;
        size_t n;
        set_picker_init(pk, it);
        set_pick(pk, &s, &n);
        put_member(&b, s, n);
        free(pk);
        s = pack_str_get(b.data, &n, &(size_t){0});
        resp_bulk(x->out, s, n);
        pop_members(x, &r, &b);
        goto out;
    }
    size_t size = set_len(it);
    if (l == 0) {
        reply_set(x, 0);
    } else if ((unsigned long long)l >= size) {   /* the whole set */
        reply_members(x, it, 1);
        ks_delete(&r, x->now);
        notify_ref_del(x, &r, CFG_NOTIFY_SET, "spop", 1);
    } else if (sample_distinct(it, (size_t)l, &b) < 0) {
        reply_nomem(x);
    } else {
        reply_picked(x, &b, (size_t)l, 1);
        pop_members(x, &r, &b);
    }
out:
    buf_free(&b);
    ks_unlock(&r);
}

static void cmd_srandmember(cmd_call *x)
{
    long long l = 0;
    int bad;
    const char *s;
    size_t n;
    kref r;
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    if (x->argc == 3 && arg_range(x, 2, -LLONG_MAX, LLONG_MAX, &l) < 0) return;
    item *it = coll_lock_read(x, 1, &r, KIND_SET, &bad);
    if (bad) goto out;
    if (!it) {
        if (x->argc == 3) resp_array(x->out, 0);
        else reply_null(x);
        goto out;
    }
    if (x->argc == 2 || l < 0 || l == 1) {   /* with repetition */
        unsigned long long count = x->argc == 2 ? 1 : l < 0 ? (unsigned long long)-l : 1;
        if (count > COLL_SAMPLE_MAX) {
            reply_err(x, "ERR value is out of range");
            goto out;
        }
        set_picker *pk = xmalloc(sizeof *pk);
        set_picker_init(pk, it);
        if (x->argc == 3) resp_array(x->out, (long long)count);
        while (count--) {
            set_pick(pk, &s, &n);
            resp_bulk(x->out, s, n);
        }
        free(pk);
        goto out;
    }
    size_t size = set_len(it);
    buf b = {0};
    if (l == 0) {
        resp_array(x->out, 0);
    } else if ((unsigned long long)l >= size) {
        reply_members(x, it, 0);
    } else if (sample_distinct(it, (size_t)l, &b) < 0) {
        reply_nomem(x);
    } else {
        reply_picked(x, &b, (size_t)l, 0);
    }
    buf_free(&b);
out:
    ks_unlock(&r);
}

/* Lock the shards of the n keys from argv[first] on and return their
 * krefs (the caller frees them after ks_lockset_unlock). */
static kref *lock_keys(cmd_call *x, int first, int n, ks_lockset *ls)
{
    kref *refs = xmalloc(sizeof *refs * (size_t)n);
    ks_lockset_init(ls);
    for (int k = 0; k < n; k++) {
        arg_ref(x, first + k, &refs[k]);
        ks_lockset_add(ls, &refs[k]);
    }
    ks_lockset_lock(ls);
    return refs;
}

/* ---- two keys ---- */

static void cmd_smove(cmd_call *x)
{
    const karg *m = &x->argv[3];
    int same = x->argv[1].n == x->argv[2].n && memcmp(x->argv[1].p, x->argv[2].p, x->argv[1].n) == 0;
    ks_lockset ls;
    kref *refs = lock_keys(x, 1, 2, &ls), *src = &refs[0], *dst = &refs[1];
    item *from = ks_find(src, x->now), *to = ks_find(dst, x->now);
    set_w w;
    if (!from) {
        resp_int(x->out, 0);
        goto out;
    }
    if (item_kind(from) != KIND_SET || (to && item_kind(to) != KIND_SET)) {
        reply_wrongtype(x);
        goto out;
    }
    from = ks_find(src, x->now);   /* dst's lookup may have moved table entries */
    if (same || !set_has(from, m->p, m->n)) {
        resp_int(x->out, same && set_has(from, m->p, m->n));
        goto out;
    }
    /* added first, so that running out of memory loses nothing */
    ks_find(dst, x->now);
    notify_quiet_new(1);   /* Redis makes dst after the srem: "new" comes then */
    set_w_open(&w, dst);
    int rc = set_w_add(&w, m->p, m->n);
    set_w_close(&w, x->now);
    notify_quiet_new(0);
    if (rc < 0) {
        reply_nomem(x);
        goto out;
    }
    if (rc > 0) {
        slice eff[3] = {{"SADD", 4}, x->argv[2], *m};
        ks_effect(dst, 3, eff);
    }
    ks_find(src, x->now);
    set_w_open(&w, src);
    set_w_del(&w, m->p, m->n);
    set_w_close(&w, x->now);
    if (src->it) {   /* else its deletion was logged */
        slice eff[3] = {{"SREM", 4}, x->argv[1], *m};
        ks_effect(src, 3, eff);
    }
    notify_ref_del(x, src, CFG_NOTIFY_SET, "srem", src->it == NULL);
    if (!to) notify_ref(x, dst, CFG_NOTIFY_NEW, "new");
    if (rc > 0) notify_ref(x, dst, CFG_NOTIFY_SET, "sadd");
    resp_int(x->out, 1);
out:
    ks_lockset_unlock(&ls);
    free(refs);
}

/* ---- algebra: SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD ---- */

enum { OP_INTER, OP_UNION, OP_DIFF };

/* The n keys at refs (locked), looked up in order, as reads (a STORE's
 * too, as Redis counts them and reports their misses): their items (NULL
 * for a missing key) and views. Replies WRONGTYPE and returns -1 when one
 * holds another kind. */
static int lookup_sets(cmd_call *x, kref *refs, int n, int store, item **sets, set_view *views)
{
    (void)store;
    for (int k = 0; k < n; k++) {
        item *it = ks_read(&refs[k], x->now);
        if (it && item_kind(it) != KIND_SET) {
            reply_wrongtype(x);
            return -1;
        }
        sets[k] = it;
    }
    /* the views last: a lookup may delete an expired key, but items never
     * move while their shards stay locked */
    for (int k = 0; k < n; k++)
        if (sets[k]) set_view_of(&views[k], sets[k]);
    return 0;
}

static int by_size(const void *a, const void *b)
{
    const set_view *x = a, *y = b;
    return x->n < y->n ? -1 : x->n > y->n;
}

static int by_size_desc(const void *a, const void *b) { return by_size(b, a); }

/* Reply (or store in dst) the result built in w: an array of it, or its
 * size once stored. */
static void finish(cmd_call *x, set_w *w, kref *dst)
{
    if (dst) {
        resp_int(x->out, (long long)set_w_store(w, x->now));
        return;
    }
    set_view v;
    set_w_view(&v, w);
    reply_view(x, &v, 1);
    set_w_discard(w);
}

/* The intersection of the n sets with views v (all present), sorted by
 * size: emitted (reply), added to w (store), or counted up to limit. */
static long long intersect(cmd_call *x, set_view *v, int n, set_w *w, long long limit, int *oom)
{
    long long count = 0;
    const char *s;
    size_t len;
    set_iter i;
    set_iter_view(&i, &v[0]);
    while (set_next(&i, &s, &len)) {
        int j = 1;
        while (j < n && set_view_has(&v[j], s, len)) j++;
        if (j < n) continue;
        count++;
        if (w) {
            if (set_w_add(w, s, len) < 0) {
                *oom = 1;
                break;
            }
        } else if (limit >= 0) {
            if (limit && count >= limit) break;
        } else {
            resp_bulk(x->out, s, len);
        }
    }
    return count;
}

/* SINTER, SINTERSTORE (dst: refs[0], the sets after it) and SINTERCARD
 * (limit >= 0: count only). */
static void sinter_generic(cmd_call *x, kref *refs, int nkeys, kref *dst, long long limit)
{
    item **sets = xmalloc(sizeof *sets * (size_t)nkeys);
    set_view *v = xmalloc(sizeof *v * (size_t)nkeys);
    int present = 0, oom = 0;
    set_w w;
    if (lookup_sets(x, refs, nkeys, dst != NULL, sets, v) < 0) goto out;
    for (int k = 0; k < nkeys; k++) present += sets[k] != NULL;
    if (present < nkeys) {   /* with an empty set, the intersection is empty */
        if (dst) ks_delete(dst, x->now);
        if (dst || limit >= 0) resp_int(x->out, 0);
        else reply_set(x, 0);
        goto out;
    }
    qsort(v, (size_t)nkeys, sizeof *v, by_size);
    if (dst) {
        set_w_open_new(&w, dst);
        intersect(x, v, nkeys, &w, -1, &oom);
        if (oom) {
            set_w_discard(&w);
            reply_nomem(x);
        } else {
            finish(x, &w, dst);
        }
    } else if (limit >= 0) {
        resp_int(x->out, intersect(x, v, nkeys, NULL, limit, &oom));
    } else {
        size_t token = reply_agg_defer(x);
        reply_set_fill(x, token, intersect(x, v, nkeys, NULL, -1, &oom));
    }
out:
    free(v);
    free(sets);
}

/* SUNION, SDIFF and their STORE forms, as sinter_generic. */
static void sunion_diff_generic(cmd_call *x, kref *refs, int nkeys, kref *dst, int op)
{
    item **sets = xmalloc(sizeof *sets * (size_t)nkeys);
    set_view *v = xmalloc(sizeof *v * (size_t)nkeys);
    const char *s;
    size_t len;
    set_iter i;
    set_w w;
    int rc = 0, sameset = 0;
    if (lookup_sets(x, refs, nkeys, dst != NULL, sets, v) < 0) goto out;
    for (int k = 1; k < nkeys; k++) sameset |= sets[k] && sets[k] == sets[0];
    set_w_open_new(&w, dst ? dst : &refs[0]);
    if (op == OP_UNION) {
        for (int k = 0; k < nkeys && rc >= 0; k++) {
            if (!sets[k]) continue;
            set_iter_view(&i, &v[k]);
            while (rc >= 0 && set_next(&i, &s, &len)) rc = set_w_add(&w, s, len);
        }
    } else if (sets[0] && !sameset) {
        /* Redis's choice of algorithm, which decides when the result
         * stops being an intset: each member of the first set looked up
         * in the others, or the whole first set less the others */
        long long one = 0, two = 0;
        int nv = 0;
        set_view *rest = v + 1;
        for (int k = 0; k < nkeys; k++) {
            if (!sets[k]) continue;
            one += (long long)v[0].n;
            two += (long long)v[k].n;
            if (k) rest[nv++] = v[k];
        }
        if (one / 2 <= two) {
            qsort(rest, (size_t)nv, sizeof *rest, by_size_desc);
            set_iter_view(&i, &v[0]);
            while (rc >= 0 && set_next(&i, &s, &len)) {
                int j = 0;
                while (j < nv && !set_view_has(&rest[j], s, len)) j++;
                if (j == nv) rc = set_w_add(&w, s, len);
            }
        } else {
            set_iter_view(&i, &v[0]);
            while (rc >= 0 && set_next(&i, &s, &len)) rc = set_w_add(&w, s, len);
            for (int j = 0; rc >= 0 && j < nv && set_w_len(&w); j++) {
                set_iter_view(&i, &rest[j]);
                while (set_next(&i, &s, &len)) set_w_del(&w, s, len);
            }
        }
    }
    if (rc < 0) {
        set_w_discard(&w);
        reply_nomem(x);
    } else {
        finish(x, &w, dst);
    }
out:
    free(v);
    free(sets);
}

/* The sets named from argv[first] on, with dst first when there is one
 * (a STORE). */
static void algebra(cmd_call *x, int op, int store)
{
    ks_lockset ls;
    kref *refs = arg_lock_keys(x, 1, 1, &ls);
    kref *dst = store ? &refs[0] : NULL, *from = refs + store;
    int n = x->argc - 1 - store;
    size_t at = x->out->len;
    int had = store && ks_find(dst, x->now);
    static const char *const stored[] = {"sinterstore", "sunionstore", "sdiffstore"};
    if (op == OP_INTER) sinter_generic(x, from, n, dst, -1);
    else sunion_diff_generic(x, from, n, dst, op);
    if (store && x->out->data[at] != '-') {
        if (ks_find(dst, x->now)) notify_ref(x, dst, CFG_NOTIFY_SET, stored[op]);
        else if (had) notify_ref(x, dst, CFG_NOTIFY_GENERIC, "del");
    }
    ks_lockset_unlock(&ls);
    free(refs);
}

static void cmd_sinter(cmd_call *x) { algebra(x, OP_INTER, 0); }
static void cmd_sinterstore(cmd_call *x) { algebra(x, OP_INTER, 1); }
static void cmd_sunion(cmd_call *x) { algebra(x, OP_UNION, 0); }
static void cmd_sunionstore(cmd_call *x) { algebra(x, OP_UNION, 1); }
static void cmd_sdiff(cmd_call *x) { algebra(x, OP_DIFF, 0); }
static void cmd_sdiffstore(cmd_call *x) { algebra(x, OP_DIFF, 1); }

static void cmd_sintercard(cmd_call *x)
{
    long long numkeys, limit = 0;
    if (util_str2ll(x->argv[1].p, x->argv[1].n, &numkeys) < 0 || numkeys < 1) {
        reply_err(x, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > x->argc - 2) {
        reply_err(x, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < x->argc; j++) {
        if (arg_is(x, j, "limit") && j + 1 < x->argc) {
            j++;
            if (util_str2ll(x->argv[j].p, x->argv[j].n, &limit) < 0 || limit < 0) {
                reply_err(x, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            reply_syntax(x);
            return;
        }
    }
    ks_lockset ls;
    kref *refs = lock_keys(x, 2, (int)numkeys, &ls);
    sinter_generic(x, refs, (int)numkeys, NULL, limit);
    ks_lockset_unlock(&ls);
    free(refs);
}

/* ---- SSCAN ---- */

static void scan_member(const char *s, size_t n, void *opaque) { coll_scan_take(opaque, s, n); }

static int scan_whole(const item *it) { return set_encoding(it) != SET_DICT; }

static void scan_all(const item *it, coll_scan_out *o)
{
    const char *s;
    size_t n;
    set_iter i;
    set_iter_init(&i, it);
    while (set_next(&i, &s, &n)) coll_scan_take(o, s, n);
}

static uint64_t scan_step(const item *it, uint64_t cursor, coll_scan_out *o)
{
    return set_scan(it, cursor, scan_member, o);
}

static const coll_scanner set_scanner = {KIND_SET, 1, scan_whole, scan_all, scan_step};

static void cmd_sscan(cmd_call *x) { coll_scan_run(x, &set_scanner); }

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define S CAT_SET

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"sadd", cmd_sadd, -3, W | M | F, S, KEY1("RW insert"), "set", "1.0.0",
     "O(1) for each element added, so O(N) to add N elements when the command is called with "
     "multiple arguments.", NULL, NULL},
    {"srem", cmd_srem, -3, W | F, S, KEY1("RW delete"), "set", "1.0.0",
     "O(N) where N is the number of members to be removed.", NULL, NULL},
    {"smembers", cmd_smembers, 2, R, S, KEY1("RO access"), "set", "1.0.0",
     "O(N) where N is the set cardinality.", "nondeterministic_output_order", NULL},
    {"sismember", cmd_sismember, 3, R | F, S, KEY1("RO"), "set", "1.0.0", "O(1)", NULL, NULL},
    {"smismember", cmd_smismember, -3, R | F, S, KEY1("RO access"), "set", "6.2.0",
     "O(N) where N is the number of elements being checked for membership", NULL, NULL},
    {"scard", cmd_scard, 2, R | F, S, KEY1("RO"), "set", "1.0.0", "O(1)", NULL, NULL},
    {"spop", cmd_spop, -2, W | F, S, KEY1("RW access delete"), "set", "1.0.0",
     "Without the count argument O(1), otherwise O(N) where N is the value of the passed "
     "count.", "nondeterministic_output", NULL},
    {"srandmember", cmd_srandmember, -2, R, S, KEY1("RO access"), "set", "1.0.0",
     "Without the count argument O(1), otherwise O(N) where N is the absolute value of the "
     "passed count.", "nondeterministic_output", NULL},
    {"smove", cmd_smove, 4, W | F, S, KEY12("RW access delete", "RW insert"), "set", "1.0.0",
     "O(1)", NULL, NULL},
    {"sinter", cmd_sinter, -2, R, S, KEYN("RO access"), "set", "1.0.0",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number "
     "of sets.", "nondeterministic_output_order", NULL},
    {"sintercard", cmd_sintercard, -3, R, S, KEYNUM(1, "RO access"), "set", "7.0.0",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number "
     "of sets.", NULL, NULL},
    {"sinterstore", cmd_sinterstore, -3, W | M, S, KEY1N("RW update", "RO access"), "set",
     "1.0.0",
     "O(N*M) worst case where N is the cardinality of the smallest set and M is the number "
     "of sets.", NULL, NULL},
    {"sunion", cmd_sunion, -2, R, S, KEYN("RO access"), "set", "1.0.0",
     "O(N) where N is the total number of elements in all given sets.",
     "nondeterministic_output_order", NULL},
    {"sunionstore", cmd_sunionstore, -3, W | M, S, KEY1N("OW update", "RO access"), "set",
     "1.0.0", "O(N) where N is the total number of elements in all given sets.", NULL, NULL},
    {"sdiff", cmd_sdiff, -2, R, S, KEYN("RO access"), "set", "1.0.0",
     "O(N) where N is the total number of elements in all given sets.",
     "nondeterministic_output_order", NULL},
    {"sdiffstore", cmd_sdiffstore, -3, W | M, S, KEY1N("OW update", "RO access"), "set",
     "1.0.0", "O(N) where N is the total number of elements in all given sets.", NULL, NULL},
    {"sscan", cmd_sscan, -3, R, S, KEY1("RO access"), "set", "2.8.0",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls "
     "for the cursor to return back to 0. N is the number of elements inside the "
     "collection..", "nondeterministic_output", NULL},
};

const cmd_family cmd_family_sets = CMD_FAMILY(rows);
