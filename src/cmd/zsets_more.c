/* zsets_more.c - the sorted-set commands that pop, sample, scan and
 * combine sets: ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER, ZSCAN, and ZUNION,
 * ZINTER, ZDIFF, ZINTERCARD and their STORE forms, with Redis 7.0's
 * replies and order of checks. The rows are in zsets.c. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/notify.h"
#include "cmd/zsets_int.h"

/* ---- pops ---- */

/* How pop_from replies: an array of member, score, member, score ...
 * (ZPOPMIN), of [member, score] pairs (ZMPOP), or the member and score
 * with no array around them (BZPOPMIN's, after the key). */
enum { POP_FLAT, POP_PAIRS, POP_BARE };

/* Pop up to count members of it (r's set, locked) from the low end (max
 * 0) or the high end, replying each member and score in the given shape.
 * Logged as the ZREM of what was popped. */
static void pop_from(cmd_call *x, kref *r, item *it, long long count, int max, int shape)
{
    int nested = shape == POP_PAIRS;
    size_t len = zset_len(it), n = (unsigned long long)count < len ? (size_t)count : len;
    size_t first = max ? len - 1 : 0;
    slice *eff = malloc(sizeof *eff * (n + 2));
    size_t *offs = malloc(sizeof *offs * n);
    buf b = {0};
    zset_iter i;
    const char *m;
    size_t ml, k = 0;
    double s;
    zset_w w;
    if (!eff || !offs) {
        free(eff);
        free(offs);
        reply_nomem(x);
        return;
    }
    if (shape != POP_BARE) resp_array(x->out, (long long)(nested ? n : n * 2));
    zset_iter_init(&i, it, first, max ? -1 : 1, 0);
    while (k < n && zset_next(&i, &m, &ml, &s)) {
        if (nested) resp_array(x->out, 2);
        resp_bulk(x->out, m, ml);
        reply_double(x, s);
        offs[k] = b.len;
        eff[k + 2].n = ml;
        buf_append(&b, m, ml);
        k++;
    }
    zset_iter_done(&i);
    zset_w_open(&w, r);
    zset_w_del_range(&w, max ? len - n : 0, n);
    if (n) notify_ref_del(x, r, CFG_NOTIFY_ZSET, max ? "zpopmax" : "zpopmin", n == len);
    if (zset_w_close(&w, x->now)) {
        eff[0] = (slice){"ZREM", 4};
        eff[1] = (slice){r->key, r->klen};
        for (k = 0; k < n; k++) eff[k + 2].p = b.data + offs[k];
        ks_effect(r, (int)n + 2, eff);
    }
    buf_free(&b);
    free(eff);
    free(offs);
}

/* A count that must be positive: Redis's getPositiveLongFromObjectOrReply
 * with its message for both a non-number and a negative one. */
static int arg_positive(cmd_call *x, int i, long long min, const char *msg, long long *v)
{
    if (util_str2ll(x->argv[i].p, x->argv[i].n, v) < 0 || *v < min) {
        reply_err(x, msg);
        return -1;
    }
    return 0;
}

static void zpop_generic(cmd_call *x, int max)
{
    long long count = -1;
    int bad;
    kref r;
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    if (x->argc == 3 &&
        arg_positive(x, 2, 0, "ERR value is out of range, must be positive", &count) < 0)
        return;
    item *it = coll_lock_write(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        if (!it || count == 0) resp_array(x->out, 0);
        else pop_from(x, &r, it, count < 0 ? 1 : count, max,
                      count >= 0 && call_resp3(x) ? POP_PAIRS : POP_FLAT);
    }
    ks_unlock(&r);
}

void zsets__zpopmin(cmd_call *x) { zpop_generic(x, 0); }
void zsets__zpopmax(cmd_call *x) { zpop_generic(x, 1); }

/* Lock the shards of n keys from argv[first] on (and of argv[extra] when
 * extra > 0, placed first): their krefs, or NULL when memory ran out. */
static kref *lock_keys(cmd_call *x, int extra, int first, long long n, ks_lockset *ls)
{
    size_t total = (size_t)n + (extra > 0);
    kref *refs = malloc(sizeof *refs * total);
    if (!refs) return NULL;
    ks_lockset_init(ls);
    size_t k = 0;
    if (extra > 0) {
        arg_ref(x, extra, &refs[k]);
        ks_lockset_add(ls, &refs[k++]);
    }
    for (long long j = 0; j < n; j++, k++) {
        arg_ref(x, first + (int)j, &refs[k]);
        ks_lockset_add(ls, &refs[k]);
    }
    ks_lockset_lock(ls);
    return refs;
}

/* From the first non-empty set of the n keys at argv[first] (all locked
 * together): ZMPOP's [key, [[member, score] ...]], or with bare BZPOPMIN's
 * [key, member, score]. All empty: a null array, or with block the
 * command parks on the keys. */
static void mpop(cmd_call *x, int first, long long n, long long count, int max, int bare,
                 const int64_t *block)
{
    ks_lockset ls;
    kref *refs = lock_keys(x, 0, first, n, &ls);
    long long j;
    int bad = 0;
    if (!refs) {
        reply_nomem(x);
        return;
    }
    for (j = 0; j < n; j++) {
        item *it = ks_find(&refs[j], x->now);
        /* a blocked client trying again finds another kind as no set */
        if (it && item_kind(it) != KIND_ZSET && (x->s->flags & SESS_RETRY)) continue;
        it = coll_of_kind(x, it, KIND_ZSET, &bad);
        if (bad) break;
        if (!it) continue;
        resp_array(x->out, bare ? 3 : 2);
        resp_bulk(x->out, refs[j].key, refs[j].klen);
        pop_from(x, &refs[j], it, count, max, bare ? POP_BARE : POP_PAIRS);
        break;
    }
    if (j == n && !bad) {
        if (block) cmd_block(x, &x->argv[first], (int)n, *block, 0);   /* under the locks */
        else reply_null_array(x);
    }
    ks_lockset_unlock(&ls);
    free(refs);
}

/* ZMPOP's and BZMPOP's numkeys key ... MIN|MAX [COUNT n], from argv[at]. */
static int mpop_args(cmd_call *x, int at, long long *numkeys, int *max, long long *count)
{
    int where;
    *count = -1;
    if (arg_positive(x, at, 1, "ERR numkeys should be greater than 0", numkeys) < 0) return -1;
    if (*numkeys >= x->argc - at - 1) {
        reply_syntax(x);
        return -1;
    }
    where = at + 1 + (int)*numkeys;
    if (arg_is(x, where, "min")) {
        *max = 0;
    } else if (arg_is(x, where, "max")) {
        *max = 1;
    } else {
        reply_syntax(x);
        return -1;
    }
    for (int j = where + 1; j < x->argc; j++) {
        if (*count == -1 && arg_is(x, j, "count") && j + 1 < x->argc) {
            j++;
            if (arg_positive(x, j, 1, "ERR count should be greater than 0", count) < 0) return -1;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    if (*count == -1) *count = 1;
    return 0;
}

void zsets__zmpop(cmd_call *x)
{
    long long numkeys, count;
    int max;
    if (mpop_args(x, 1, &numkeys, &max, &count) == 0) mpop(x, 2, numkeys, count, max, 0, NULL);
}

/* BZMPOP timeout numkeys key ... MIN|MAX [COUNT n] */
void zsets__bzmpop(cmd_call *x)
{
    long long numkeys, count;
    int max;
    int64_t deadline;
    if (arg_timeout(x, 1, &deadline) < 0 || mpop_args(x, 2, &numkeys, &max, &count) < 0) return;
    mpop(x, 3, numkeys, count, max, 0, &deadline);
}

/* BZPOPMIN and BZPOPMAX key [key ...] timeout */
static void bzpop_generic(cmd_call *x, int max)
{
    int64_t deadline;
    if (arg_timeout(x, x->argc - 1, &deadline) < 0) return;
    mpop(x, 1, x->argc - 2, 1, max, 1, &deadline);
}

void zsets__bzpopmin(cmd_call *x) { bzpop_generic(x, 0); }
void zsets__bzpopmax(cmd_call *x) { bzpop_generic(x, 1); }

/* ---- ZRANDMEMBER ---- */

static void reply_member(cmd_call *x, const char *m, size_t ml, double s, int scores)
{
    if (scores) reply_pair(x);
    resp_bulk(x->out, m, ml);
    if (scores) reply_double(x, s);
}

/* count distinct random members of a set bigger than count, in one pass:
 * each taken with the probability that leaves the right number to pick
 * from the rest (selection sampling). */
static void sample_pass(cmd_call *x, const item *it, size_t count, int scores)
{
    size_t left = zset_len(it), need = count, ml;
    const char *m;
    double s;
    zset_iter i;
    zset_iter_init(&i, it, 0, 1, 0);
    while (need && zset_next(&i, &m, &ml, &s)) {
        if (util_rand64() % left < need) {
            reply_member(x, m, ml, s, scores);
            need--;
        }
        left--;
    }
    zset_iter_done(&i);
}

/* count distinct random members of a set bigger than count: one pass when
 * that is most of it (or it is packed), else random ranks with a small
 * table to skip repeats, O(count log n). */
static void sample_distinct(cmd_call *x, const item *it, size_t count, int scores)
{
    size_t size = zset_len(it), cap = 16, got = 0, ml;
    const char *m;
    double s;
    zset_iter i;
    while (cap < count * 2) cap *= 2;
    size_t *seen = count * 3 > size || zset_is_packed(it) ? NULL : malloc(sizeof *seen * cap);
    if (!seen) {
        sample_pass(x, it, count, scores);
        return;
    }
    memset(seen, 0xff, sizeof *seen * cap);
    zset_iter_init(&i, it, 0, 1, 1);
    while (got < count) {
        size_t rank = (size_t)(util_rand64() % size);
        size_t h = (size_t)((rank * 0x9e3779b97f4a7c15ull) >> 7) & (cap - 1);
        while (seen[h] != (size_t)-1 && seen[h] != rank) h = (h + 1) & (cap - 1);
        if (seen[h] == rank) continue;
        seen[h] = rank;
        zset_iter_seek(&i, rank);
        if (zset_next(&i, &m, &ml, &s)) reply_member(x, m, ml, s, scores);
        got++;
    }
    zset_iter_done(&i);
    free(seen);
}

static void rand_one(cmd_call *x, const item *it)
{
    const char *m;
    size_t ml;
    double s;
    zset_iter i;
    zset_iter_init(&i, it, (size_t)(util_rand64() % zset_len(it)), 1, 0);
    zset_next(&i, &m, &ml, &s);
    zset_iter_done(&i);
    resp_bulk(x->out, m, ml);
}

static void rand_repeat(cmd_call *x, const item *it, unsigned long long n, int scores)
{
    size_t size = zset_len(it), ml;
    const char *m;
    double s;
    zset_iter i;
    zset_iter_init(&i, it, 0, 1, 1);
    while (n--) {
        zset_iter_seek(&i, (size_t)(util_rand64() % size));
        zset_next(&i, &m, &ml, &s);
        reply_member(x, m, ml, s, scores);
    }
    zset_iter_done(&i);
}

static void rand_all(cmd_call *x, const item *it, int scores)
{
    const char *m;
    size_t ml;
    double s;
    zset_iter i;
    zset_iter_init(&i, it, 0, 1, 0);
    while (zset_next(&i, &m, &ml, &s)) reply_member(x, m, ml, s, scores);
    zset_iter_done(&i);
}

static const coll_sampler zset_sampler = {KIND_ZSET, "withscores", zset_len, rand_one,
                                          rand_repeat, rand_all, sample_distinct};

void zsets__zrandmember(cmd_call *x) { coll_randmember(x, &zset_sampler); }

/* ---- ZSCAN ---- */

static void scan_member(const char *m, size_t ml, double s, void *opaque)
{
    coll_scan_out *o = opaque;
    char tmp[40];
    if (!coll_scan_take(o, m, ml)) return;
    /* a packed set's integral scores as its listpack would give them */
    if (o->whole) resp_bulk(o->x->out, tmp, (size_t)zset_packed_score_str(tmp, sizeof tmp, s));
    else resp_bulk(o->x->out, tmp, (size_t)coll_d2str(tmp, sizeof tmp, s));   /* a bulk in RESP3 too */
}

static void scan_all(const item *it, coll_scan_out *o)
{
    const char *m;
    size_t ml;
    double s;
    zset_iter i;
    zset_iter_init(&i, it, 0, 1, 0);
    while (zset_next(&i, &m, &ml, &s)) scan_member(m, ml, s, o);
    zset_iter_done(&i);
}

static uint64_t scan_step(const item *it, uint64_t cursor, coll_scan_out *o)
{
    return zset_scan(it, cursor, scan_member, o);
}

static const coll_scanner zset_scanner = {KIND_ZSET, 2, zset_is_packed, scan_all, scan_step};

void zsets__zscan(cmd_call *x) { coll_scan_run(x, &zset_scanner); }

/* ---- ZUNION, ZINTER, ZDIFF ---- */

enum { OP_UNION, OP_INTER, OP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

typedef struct src {
    const item *it;   /* NULL: missing (empty) */
    int set;          /* a set (scores 1) rather than a sorted set */
    size_t len;
    double weight;
} src;

static void aggregate(double *target, double v, int agg)
{
    if (agg == AGG_SUM) {
        *target += v;
        if (isnan(*target)) *target = 0;   /* inf + -inf, as Redis */
    } else if (agg == AGG_MIN) {
        *target = v < *target ? v : *target;
    } else {
        *target = v > *target ? v : *target;
    }
}

/* The score of m in s (1 for a set member): 1, or 0 when absent. */
static int src_find(const src *s, const char *m, size_t ml, double *score)
{
    if (!s->it) return 0;
    if (s->set) {
        *score = 1.0;
        return zset_set_reader_get()->has(s->it, m, ml);
    }
    return zset_score(s->it, m, ml, score);
}

/* Calling fn for each member of s with its score. */
typedef struct each_ctx {
    int (*fn)(const char *m, size_t ml, double score, void *opaque);
    void *opaque;
    int stop;
} each_ctx;

static void each_set_member(const char *m, size_t ml, void *opaque)
{
    each_ctx *c = opaque;
    if (!c->stop) c->stop = c->fn(m, ml, 1.0, c->opaque);
}

static void src_each(const src *s, int (*fn)(const char *m, size_t ml, double score, void *opaque),
                     void *opaque)
{
    if (!s->it) return;
    if (s->set) {
        each_ctx c = {fn, opaque, 0};
        zset_set_reader_get()->each(s->it, each_set_member, &c);
        return;
    }
    const char *m;
    size_t ml;
    double sc;
    zset_iter i;
    zset_iter_init(&i, s->it, 0, 1, 0);
    while (zset_next(&i, &m, &ml, &sc))
        if (fn(m, ml, sc, opaque)) break;
    zset_iter_done(&i);
}

typedef struct algebra {
    cmd_call *x;
    src *srcs;
    long long n;
    int op, agg, card_only;
    long long limit, card;
    size_t cur;         /* the source being read (union) */
    fdict acc;          /* member -> score: the result */
    int oom;
} algebra;

static const char *acc_add(algebra *a, const char *m, size_t ml, double s)
{
    const char *e = fdict_add(&a->acc, m, ml, (const char *)&s, sizeof s);
    if (!e) a->oom = 1;
    return e;
}

static int union_one(const char *m, size_t ml, double sc, void *opaque)
{
    algebra *a = opaque;
    double v = a->srcs[a->cur].weight * sc;
    const char *e;
    size_t vl;
    if (isnan(v)) v = 0;
    e = fdict_find(&a->acc, m, ml);
    if (!e) return !acc_add(a, m, ml, v);
    char *p = fentry_val_mut(e, &vl);
    double t;
    memcpy(&t, p, sizeof t);
    aggregate(&t, v, a->agg);
    memcpy(p, &t, sizeof t);
    return 0;
}

static int inter_one(const char *m, size_t ml, double sc, void *opaque)
{
    algebra *a = opaque;
    double score = a->srcs[0].weight * sc, v;
    if (isnan(score)) score = 0;
    for (long long j = 1; j < a->n; j++) {
        if (a->srcs[j].it == a->srcs[0].it) v = sc;
        else if (!src_find(&a->srcs[j], m, ml, &v)) return 0;
        aggregate(&score, v * a->srcs[j].weight, a->agg);
    }
    if (a->card_only) {
        a->card++;
        return a->limit && a->card >= a->limit;
    }
    return !acc_add(a, m, ml, score);
}

static int diff_one(const char *m, size_t ml, double sc, void *opaque)
{
    algebra *a = opaque;
    double v;
    for (long long j = 1; j < a->n; j++)
        if (src_find(&a->srcs[j], m, ml, &v)) return 0;
    return !acc_add(a, m, ml, sc);
}

static int pair_cmp(const void *pa, const void *pb)
{
    zbt_key a, b;
    zbt_entry_key(*(const char *const *)pa, &a);
    zbt_entry_key(*(const char *const *)pb, &b);
    return zbt_keycmp(&a, &b);
}

/* The result's entries in order, or NULL when memory ran out (or none). */
static const char **sorted_result(algebra *a, size_t *n)
{
    size_t k = 0;
    *n = fdict_count(&a->acc);
    if (!*n) return NULL;
    const char **v = malloc(sizeof *v * *n);
    if (!v) return NULL;
    for (size_t p = 0, span = fdict_span(&a->acc); p < span; p++) {
        const char *e = fdict_at(&a->acc, p);
        if (e) v[k++] = e;
    }
    qsort(v, k, sizeof *v, pair_cmp);
    return v;
}

/* ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE forms: the keys counted
 * at argv[numidx] are looked up (all shards locked together, dst's too:
 * argv index dst, 0 for none), then the options parsed, as Redis does; the
 * result is built in an fdict of member -> score, sorted, and replied or
 * stored. */
static void algebra_generic(cmd_call *x, int dst, int numidx, int op, int card_only)
{
    long long setnum;
    ks_lockset ls;
    kref *refs;
    algebra a = {.x = x, .op = op, .agg = AGG_SUM, .card_only = card_only};
    int withscores = 0;
    if (arg_ll(x, numidx, &setnum) < 0) return;
    if (setnum < 1) {
        resp_errorf(x->out, "ERR at least 1 input key is needed for '%s' command", x->def->name);
        return;
    }
    if (setnum > x->argc - (numidx + 1)) {
        reply_syntax(x);
        return;
    }
    refs = lock_keys(x, dst, numidx + 1, setnum, &ls);
    src *srcs = refs ? calloc((size_t)setnum, sizeof *srcs) : NULL;
    if (!srcs) {
        if (refs) {
            ks_lockset_unlock(&ls);
            free(refs);
        }
        reply_nomem(x);
        return;
    }
    kref *keys = refs + (dst > 0);
    a.srcs = srcs;
    a.n = setnum;
    fdict_init(&a.acc);
    for (long long i = 0; i < setnum; i++) {
        item *it = ks_read(&keys[i], x->now);
        srcs[i].weight = 1.0;
        if (!it) continue;
        if (item_kind(it) == KIND_SET && zset_set_reader_get()) {
            srcs[i].set = 1;
            srcs[i].len = zset_set_reader_get()->len(it);
        } else if (item_kind(it) == KIND_ZSET) {
            srcs[i].len = zset_len(it);
        } else {
            reply_wrongtype(x);
            goto done;
        }
        srcs[i].it = it;
    }
    for (int j = numidx + 1 + (int)setnum; j < x->argc;) {
        int left = x->argc - j;
        if (op != OP_DIFF && !card_only && left >= setnum + 1 && arg_is(x, j, "weights")) {
            j++;
            for (long long i = 0; i < setnum; i++, j++)
                if (str_double(x->argv[j].p, x->argv[j].n, &srcs[i].weight) < 0) {
                    reply_err(x, "ERR weight value is not a float");
                    goto done;
                }
        } else if (op != OP_DIFF && !card_only && left >= 2 && arg_is(x, j, "aggregate")) {
            j++;
            if (arg_is(x, j, "sum")) a.agg = AGG_SUM;
            else if (arg_is(x, j, "min")) a.agg = AGG_MIN;
            else if (arg_is(x, j, "max")) a.agg = AGG_MAX;
            else {
                reply_syntax(x);
                goto done;
            }
            j++;
        } else if (!dst && !card_only && arg_is(x, j, "withscores")) {
            j++;
            withscores = 1;
        } else if (card_only && left >= 2 && arg_is(x, j, "limit")) {
            if (arg_positive(x, j + 1, 0, "ERR LIMIT can't be negative", &a.limit) < 0) goto done;
            j += 2;
        } else {
            reply_syntax(x);
            goto done;
        }
    }
    if (op != OP_DIFF) {   /* smallest first, as Redis (stable, so ties keep their order) */
        for (long long i = 1; i < setnum; i++) {
            src t = srcs[i];
            long long k = i;
            for (; k > 0 && srcs[k - 1].len > t.len; k--) srcs[k] = srcs[k - 1];
            srcs[k] = t;
        }
    }
    if (op == OP_UNION) {
        for (a.cur = 0; a.cur < (size_t)setnum && !a.oom; a.cur++)
            src_each(&srcs[a.cur], union_one, &a);
    } else if (op == OP_INTER) {
        if (srcs[0].len) src_each(&srcs[0], inter_one, &a);
    } else {
        int same = 0;
        for (long long j = 1; j < setnum; j++) same |= srcs[j].it && srcs[j].it == srcs[0].it;
        if (srcs[0].len && !same) src_each(&srcs[0], diff_one, &a);
    }
    if (a.oom) {
        reply_nomem(x);
        goto done;
    }
    if (card_only) {
        resp_int(x->out, a.card);
        goto done;
    }
    size_t n;
    const char **v = sorted_result(&a, &n);
    if (n && !v) {
        reply_nomem(x);
        goto done;
    }
    if (!dst) {
        if (withscores) reply_pairs(x, (long long)n);
        else resp_array(x->out, (long long)n);
        for (size_t k = 0; k < n; k++) {
            size_t ml;
            const char *m = fentry_key(v[k], &ml);
            if (withscores) reply_pair(x);
            resp_bulk(x->out, m, ml);
            if (withscores) {
                size_t vl;
                double s;
                memcpy(&s, fentry_val(v[k], &vl), sizeof s);
                reply_double(x, s);
            }
        }
    } else {
        zsets_pair *pairs = n ? malloc(sizeof *pairs * n) : NULL;
        buf b = {0};
        int rc = -1;
        if (!n || pairs) {
            for (size_t k = 0; k < n; k++) {
                size_t ml, vl;
                const char *m = fentry_key(v[k], &ml);
                pairs[k].off = b.len;
                pairs[k].ml = ml;
                memcpy(&pairs[k].score, fentry_val(v[k], &vl), sizeof(double));
                buf_append(&b, m, ml);
            }
            ks_find(&refs[0], x->now);
            rc = zsets__store(x, &refs[0], pairs, n, &b);   /* reports what it stored */
        }
        if (rc < 0) reply_nomem(x);
        else resp_int(x->out, (long long)n);
        free(pairs);
        buf_free(&b);
    }
    free(v);
done:
    fdict_free(&a.acc);
    free(srcs);
    ks_lockset_unlock(&ls);
    free(refs);
}

void zsets__zunion(cmd_call *x) { algebra_generic(x, 0, 1, OP_UNION, 0); }
void zsets__zinter(cmd_call *x) { algebra_generic(x, 0, 1, OP_INTER, 0); }
void zsets__zdiff(cmd_call *x) { algebra_generic(x, 0, 1, OP_DIFF, 0); }
void zsets__zintercard(cmd_call *x) { algebra_generic(x, 0, 1, OP_INTER, 1); }
void zsets__zunionstore(cmd_call *x) { algebra_generic(x, 1, 2, OP_UNION, 0); }
void zsets__zinterstore(cmd_call *x) { algebra_generic(x, 1, 2, OP_INTER, 0); }
void zsets__zdiffstore(cmd_call *x) { algebra_generic(x, 1, 2, OP_DIFF, 0); }
