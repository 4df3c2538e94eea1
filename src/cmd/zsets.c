/* zsets.c - the sorted-set commands, with Redis 7.0's replies, error texts
 * and order of checks: adds, reads, ranges by rank, score and lex, and
 * the rows of the whole family (the rest is in zsets_more.c). The values
 * live in types/zset.c; this file parses, looks keys up, replies and
 * reports each write's effect. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/notify.h"
#include "cmd/zsets_int.h"

#define ERR_NAN "ERR resulting score is not a number (NaN)"

/* ---- ZADD, ZINCRBY ---- */

enum { ZA_NX = 1, ZA_XX = 2, ZA_INCR = 4, ZA_GT = 8, ZA_LT = 16, ZA_CH = 32 };

/* ZADD and ZINCRBY (which is ZADD INCR, options parsing included, as in
 * Redis: ZINCRBY z nx m is a syntax error). */
static void zadd_generic(cmd_call *x, int flags)
{
    int i = 2, bad, rc = 0;
    while (i < x->argc) {
        if (arg_is(x, i, "nx")) flags |= ZA_NX;
        else if (arg_is(x, i, "xx")) flags |= ZA_XX;
        else if (arg_is(x, i, "ch")) flags |= ZA_CH;
        else if (arg_is(x, i, "incr")) flags |= ZA_INCR;
        else if (arg_is(x, i, "gt")) flags |= ZA_GT;
        else if (arg_is(x, i, "lt")) flags |= ZA_LT;
        else break;
        i++;
    }
    int first = i, elements = x->argc - first;
    int nx = flags & ZA_NX, xx = flags & ZA_XX, gt = flags & ZA_GT, lt = flags & ZA_LT;
    int incr = flags & ZA_INCR;
    if (elements % 2 || !elements) {
        reply_syntax(x);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        reply_err(x, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        reply_err(x, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        reply_err(x, "ERR INCR option supports a single increment-element pair");
        return;
    }
    /* every score is checked before anything changes, and read once */
    double small[8], *scores = elements <= 8 ? small : xmalloc(sizeof *scores * (size_t)elements);
    for (int j = 0; j < elements; j++)
        if (arg_double(x, first + 2 * j, &scores[j]) < 0) {
            if (scores != small) free(scores);
            return;
        }

    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    zset_w w;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_ZSET, &bad);
    if (bad) goto out;
    if (!it && xx) goto reply;
    zset_w_open(&w, &r);
    int j;
    for (j = 0; j < elements; j++) {
        const karg *m = &x->argv[first + 2 * j + 1];
        double s = scores[j], cur;
        if (zset_w_score(&w, m->p, m->n, &cur)) {
            if (nx) continue;
            if (incr) {
                s += cur;
                if (isnan(s)) {
                    zset_w_close(&w, x->now);
                    reply_err(x, ERR_NAN);
                    goto out;
                }
            }
            if ((lt && s >= cur) || (gt && s <= cur)) continue;
            processed++;
            score = s;
            if (s != cur) {
                rc = zset_w_set(&w, m->p, m->n, s);
                if (rc < 0) break;
                updated++;
            }
        } else if (!xx) {
            rc = zset_w_set(&w, m->p, m->n, s);
            if (rc < 0) break;
            added++;
            processed++;
            score = s;
        }
    }
    if (zset_w_close(&w, x->now)) {
        if (incr) {
            /* logged as the ZADD of the result, which replays exactly */
            char tmp[40];
            slice eff[4] = {{"ZADD", 4}, x->argv[1], {tmp, 0}, x->argv[first + 1]};
            eff[2].n = (size_t)coll_d2str(tmp, sizeof tmp, score);
            ks_effect(&r, 4, eff);
        } else {
            ks_effect(&r, first + 2 * j, x->argv);   /* the pairs that were done */
        }
    }
    if (added || updated) notify_ref(x, &r, CFG_NOTIFY_ZSET, incr ? "zincr" : "zadd");
    if (rc < 0) {
        reply_nomem(x);
        goto out;
    }
reply:
    if (incr) {
        if (processed) reply_double(x, score);
        else reply_null(x);
    } else {
        resp_int(x->out, (flags & ZA_CH) ? added + updated : added);
    }
out:
    ks_unlock(&r);
    if (scores != small) free(scores);
}

void zsets__zadd(cmd_call *x) { zadd_generic(x, 0); }
static void cmd_zincrby(cmd_call *x) { zadd_generic(x, ZA_INCR); }

static void cmd_zrem(cmd_call *x)
{
    long long n = 0;
    int bad;
    zset_w w;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        if (it) {
            zset_w_open(&w, &r);
            for (int i = 2; i < x->argc && zset_w_len(&w); i++)
                n += zset_w_del(&w, x->argv[i].p, x->argv[i].n);
            if (n) notify_ref_del(x, &r, CFG_NOTIFY_ZSET, "zrem", zset_w_len(&w) == 0);
            if (zset_w_close(&w, x->now)) coll_effect(x, &r);
        }
        resp_int(x->out, n);
    }
    ks_unlock(&r);
}

/* ---- reads ---- */

static void cmd_zcard(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) resp_int(x->out, it ? (long long)zset_len(it) : 0);
    ks_unlock(&r);
}

static void reply_score_of(cmd_call *x, const item *it, const karg *m)
{
    double s;
    if (it && zset_score(it, m->p, m->n, &s)) reply_double(x, s);
    else reply_null(x);
}

static void cmd_zscore(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) reply_score_of(x, it, &x->argv[2]);
    ks_unlock(&r);
}

static void cmd_zmscore(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        resp_array(x->out, x->argc - 2);
        for (int i = 2; i < x->argc; i++) reply_score_of(x, it, &x->argv[i]);
    }
    ks_unlock(&r);
}

static void zrank_generic(cmd_call *x, int rev)
{
    int bad;
    size_t rank;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        if (it && zset_rank(it, x->argv[2].p, x->argv[2].n, &rank))
            resp_int(x->out, (long long)(rev ? zset_len(it) - 1 - rank : rank));
        else reply_null(x);
    }
    ks_unlock(&r);
}

static void cmd_zrank(cmd_call *x) { zrank_generic(x, 0); }
static void cmd_zrevrank(cmd_call *x) { zrank_generic(x, 1); }

/* ---- ranges: bounds become ranks ---- */

/* A score range, as Redis's zslParseRange reads it: strtod, an optional
 * "(" for an open end, anything strtod accepts (leading blanks, "", hex)
 * but NaN. */
typedef struct score_range {
    double min, max;
    int minex, maxex;
} score_range;

static int parse_score_bound(const karg *a, double *v, int *ex)
{
    char tmp[128], *z = tmp, *end;
    const char *s = a->p;
    size_t n = a->n;
    int ok;
    *ex = 0;
    if (n && s[0] == '(') {
        *ex = 1;
        s++;
        n--;
    }
    if (n >= sizeof tmp && !(z = malloc(n + 1))) return -1;
    memcpy(z, s, n);
    z[n] = '\0';
    *v = strtod(z, &end);
    ok = *end == '\0' && !isnan(*v);   /* a NUL inside ends the number, as in Redis */
    if (z != tmp) free(z);
    return ok ? 0 : -1;
}

static int parse_score_range(cmd_call *x, int imin, int imax, score_range *sr)
{
    if (parse_score_bound(&x->argv[imin], &sr->min, &sr->minex) == 0 &&
        parse_score_bound(&x->argv[imax], &sr->max, &sr->maxex) == 0)
        return 0;
    reply_err(x, "ERR min or max is not a float");
    return -1;
}

static int below_min_score(const zbt_key *k, const void *ctx)
{
    const score_range *sr = ctx;
    return sr->minex ? k->score <= sr->min : k->score < sr->min;
}

static int below_max_score(const zbt_key *k, const void *ctx)
{
    const score_range *sr = ctx;
    return sr->maxex ? k->score < sr->max : k->score <= sr->max;
}

/* A lex range: "-", "+", "(member" or "[member". */
typedef struct lex_bound {
    int inf;   /* -1: "-", 1: "+", 0: a member */
    int ex;
    const char *p;
    size_t n;
} lex_bound;
typedef struct lex_range {
    lex_bound min, max;
} lex_range;

static int parse_lex_bound(const karg *a, lex_bound *b)
{
    b->inf = 0;
    b->p = a->p + 1;
    b->n = a->n ? a->n - 1 : 0;
    if (a->n == 0) return -1;
    switch (a->p[0]) {
    case '+':
    case '-':
        if (a->n > 1 && a->p[1] != '\0') return -1;   /* Redis reads up to a NUL */
        b->inf = a->p[0] == '+' ? 1 : -1;
        b->ex = 1;
        return 0;
    case '(': b->ex = 1; return 0;
    case '[': b->ex = 0; return 0;
    default: return -1;
    }
}

static int parse_lex_range(cmd_call *x, int imin, int imax, lex_range *lr)
{
    if (parse_lex_bound(&x->argv[imin], &lr->min) == 0 &&
        parse_lex_bound(&x->argv[imax], &lr->max) == 0)
        return 0;
    reply_err(x, "ERR min or max not valid string range item");
    return -1;
}

/* A member against a bound: <0, 0, >0. */
static int lex_cmp(const char *m, size_t ml, const lex_bound *b)
{
    if (b->inf) return -b->inf;
    size_t n = ml < b->n ? ml : b->n;
    int c = n ? memcmp(m, b->p, n) : 0;
    if (c) return c;
    return ml < b->n ? -1 : ml > b->n;
}

static int below_min_lex(const zbt_key *k, const void *ctx)
{
    const lex_range *lr = ctx;
    int c = lex_cmp(k->m, k->ml, &lr->min);
    return lr->min.ex ? c <= 0 : c < 0;
}

static int below_max_lex(const zbt_key *k, const void *ctx)
{
    const lex_range *lr = ctx;
    int c = lex_cmp(k->m, k->ml, &lr->max);
    return lr->max.ex ? c < 0 : c <= 0;
}

/* The ranks [*lo, *hi) a score or lex range covers. */
static void score_ranks(const item *it, const score_range *sr, size_t *lo, size_t *hi)
{
    *lo = zset_count_below(it, below_min_score, sr);
    *hi = zset_count_below(it, below_max_score, sr);
    if (*hi < *lo) *hi = *lo;
}

/* Lex ranges assume every member has the same score. When they do not,
 * Redis's answer for a compact set is what its scan of the listpack finds,
 * and Kasi's is the same: forwards, from the first member not below min
 * while members stay within max; backwards (rev), from the last member
 * within max while members stay not below min. A big set is searched (Redis
 * descends its skiplist, whose answer then depends on its random levels). */
/* Bounds against each other: "-" below every member, "+" above. */
static int bound_cmp(const lex_bound *a, const lex_bound *b)
{
    if (a->inf || b->inf) return a->inf == b->inf ? 0 : a->inf < b->inf ? -1 : 1;
    return slice_cmp(a->p, a->n, b->p, b->n);
}

/* Redis's early test, whatever the encoding: the range can hold nothing,
 * or the last member is below min, or the first above max. */
static int lex_may_hold(const item *it, const lex_range *lr)
{
    int c = bound_cmp(&lr->min, &lr->max);
    const char *m;
    size_t ml, len = zset_len(it);
    double s;
    zset_iter i;
    if (c > 0 || (c == 0 && (lr->min.ex || lr->max.ex)) || len == 0) return 0;
    zset_iter_init(&i, it, len - 1, -1, 0);
    zset_next(&i, &m, &ml, &s);
    zset_iter_done(&i);
    zbt_key last = {s, m, ml};
    if (below_min_lex(&last, lr)) return 0;
    zset_iter_init(&i, it, 0, 1, 0);
    zset_next(&i, &m, &ml, &s);
    zset_iter_done(&i);
    zbt_key first = {s, m, ml};
    return below_max_lex(&first, lr);
}

static void lex_ranks(const item *it, const lex_range *lr, int rev, size_t *lo, size_t *hi)
{
    size_t len = zset_len(it), r, ml;
    const char *m;
    double s;
    zset_iter i;
    *lo = *hi = 0;
    if (!lex_may_hold(it, lr)) return;
    if (!zset_is_packed(it)) {
        *lo = zset_count_below(it, below_min_lex, lr);
        *hi = zset_count_below(it, below_max_lex, lr);
        if (*hi < *lo) *hi = *lo;
        return;
    }
    *lo = *hi = 0;
    zset_iter_init(&i, it, rev ? len - 1 : 0, rev ? -1 : 1, 0);
    for (r = 0; zset_next(&i, &m, &ml, &s); r++) {   /* r: members walked */
        zbt_key k = {s, m, ml};
        int in = rev ? below_max_lex(&k, lr) : !below_min_lex(&k, lr);
        if (in) break;
    }
    if (r < len) {
        zbt_key k = {s, m, ml};
        int ok = rev ? !below_min_lex(&k, lr) : below_max_lex(&k, lr);
        size_t first = r, n = 0;
        while (ok) {
            n++;
            if (!zset_next(&i, &m, &ml, &s)) break;
            zbt_key k2 = {s, m, ml};
            ok = rev ? !below_min_lex(&k2, lr) : below_max_lex(&k2, lr);
        }
        /* as ranks from the head */
        *lo = rev ? len - first - n : first;
        *hi = *lo + n;
    }
    zset_iter_done(&i);
}

/* ZCOUNT and ZLEXCOUNT: the members within a range. */
static void zcount_generic(cmd_call *x, int lex)
{
    score_range sr;
    lex_range lr;
    size_t lo = 0, hi = 0;
    int bad;
    kref r;
    if (lex ? parse_lex_range(x, 2, 3, &lr) < 0 : parse_score_range(x, 2, 3, &sr) < 0) return;
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        if (it && lex) lex_ranks(it, &lr, 0, &lo, &hi);
        else if (it) score_ranks(it, &sr, &lo, &hi);
        resp_int(x->out, (long long)(hi - lo));
    }
    ks_unlock(&r);
}

static void cmd_zcount(cmd_call *x) { zcount_generic(x, 0); }
static void cmd_zlexcount(cmd_call *x) { zcount_generic(x, 1); }

/* ---- ZRANGE and its forms ---- */

enum { BY_AUTO, BY_RANK, BY_SCORE, BY_LEX };
enum { DIR_AUTO, DIR_FWD, DIR_REV };

typedef struct zrange_req {
    int by, dir, withscores;
    long long start, end;        /* BY_RANK */
    long long offset, limit;     /* LIMIT (limit -1: none) */
    score_range sr;
    lex_range lr;
} zrange_req;

/* Options and range from argv[src+3] on, as Redis's zrangeGenericCommand
 * checks them: 0, or -1 after replying the error. */
static int zrange_parse(cmd_call *x, int src, int store, zrange_req *q)
{
    int imin = src + 1, imax = src + 2;
    q->withscores = 0;
    q->offset = 0;
    q->limit = -1;
    for (int j = src + 3; j < x->argc; j++) {
        int left = x->argc - j - 1;
        if (!store && arg_is(x, j, "withscores")) {
            q->withscores = 1;
        } else if (arg_is(x, j, "limit") && left >= 2) {
            if (arg_ll(x, j + 1, &q->offset) < 0 || arg_ll(x, j + 2, &q->limit) < 0) return -1;
            j += 2;
        } else if (q->dir == DIR_AUTO && arg_is(x, j, "rev")) {
            q->dir = DIR_REV;
        } else if (q->by == BY_AUTO && arg_is(x, j, "bylex")) {
            q->by = BY_LEX;
        } else if (q->by == BY_AUTO && arg_is(x, j, "byscore")) {
            q->by = BY_SCORE;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    if (q->dir == DIR_AUTO) q->dir = DIR_FWD;
    if (q->by == BY_AUTO) q->by = BY_RANK;
    if (q->limit != -1 && q->by == BY_RANK) {
        reply_err(x, "ERR syntax error, LIMIT is only supported in combination with either "
                     "BYSCORE or BYLEX");
        return -1;
    }
    if (q->withscores && q->by == BY_LEX) {
        reply_err(x, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return -1;
    }
    if (q->dir == DIR_REV && q->by != BY_RANK) {   /* given as max, min */
        int t = imin;
        imin = imax;
        imax = t;
    }
    if (q->by == BY_RANK) {
        if (arg_ll(x, imin, &q->start) < 0 || arg_ll(x, imax, &q->end) < 0) return -1;
        return 0;
    }
    if (q->by == BY_SCORE) return parse_score_range(x, imin, imax, &q->sr);
    return parse_lex_range(x, imin, imax, &q->lr);
}

/* The ranks a request covers in it: *n members from rank *first, walked
 * upwards or downwards (dir). */
static void zrange_span(const item *it, const zrange_req *q, size_t *first, size_t *n, int *dir)
{
    long long len = (long long)zset_len(it);
    *dir = q->dir == DIR_REV ? -1 : 1;
    *n = 0;
    *first = 0;
    if (q->by == BY_RANK) {
        long long start = q->start, end = q->end;
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        if (start > end || start >= len) return;
        if (end >= len) end = len - 1;
        *n = (size_t)(end - start + 1);
        *first = *dir > 0 ? (size_t)start : (size_t)(len - 1 - start);
        return;
    }
    size_t lo, hi, avail;
    if (q->by == BY_SCORE) score_ranks(it, &q->sr, &lo, &hi);
    else lex_ranks(it, &q->lr, q->dir == DIR_REV, &lo, &hi);
    avail = hi - lo;
    /* a negative offset skips everything, a negative count takes all */
    if (q->offset < 0 || (unsigned long long)q->offset >= avail) return;
    avail -= (size_t)q->offset;
    if (q->limit >= 0 && (unsigned long long)q->limit < avail) avail = (size_t)q->limit;
    *n = avail;
    *first = *dir > 0 ? lo + (size_t)q->offset : hi - 1 - (size_t)q->offset;
}

static void zrange_reply(cmd_call *x, const item *it, const zrange_req *q)
{
    size_t first, n;
    int dir;
    zset_iter i;
    const char *m;
    size_t ml;
    double s;
    zrange_span(it, q, &first, &n, &dir);
    if (q->withscores) reply_pairs(x, (long long)n);
    else resp_array(x->out, (long long)n);
    if (!n) return;
    zset_iter_init(&i, it, first, dir, 0);
    while (n-- && zset_next(&i, &m, &ml, &s)) {
        if (q->withscores) reply_pair(x);
        resp_bulk(x->out, m, ml);
        if (q->withscores) reply_double(x, s);
    }
    zset_iter_done(&i);
}

/* ZRANGE, ZREVRANGE, Z[REV]RANGEBY{SCORE,LEX}: by and dir fixed by the
 * command, or BY_AUTO/DIR_AUTO for ZRANGE's options. */
static void zrange_generic(cmd_call *x, int by, int dir)
{
    zrange_req q = {.by = by, .dir = dir};
    int bad;
    kref r;
    if (zrange_parse(x, 1, 0, &q) < 0) return;
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        if (it) zrange_reply(x, it, &q);
        else resp_array(x->out, 0);
    }
    ks_unlock(&r);
}

static void cmd_zrange(cmd_call *x) { zrange_generic(x, BY_AUTO, DIR_AUTO); }
static void cmd_zrevrange(cmd_call *x) { zrange_generic(x, BY_RANK, DIR_REV); }
static void cmd_zrangebyscore(cmd_call *x) { zrange_generic(x, BY_SCORE, DIR_FWD); }
static void cmd_zrevrangebyscore(cmd_call *x) { zrange_generic(x, BY_SCORE, DIR_REV); }
static void cmd_zrangebylex(cmd_call *x) { zrange_generic(x, BY_LEX, DIR_FWD); }
static void cmd_zrevrangebylex(cmd_call *x) { zrange_generic(x, BY_LEX, DIR_REV); }

int zsets__store(cmd_call *x, kref *dst, const zsets_pair *v, size_t n, const buf *b)
{
    size_t maxlen = 0;
    int existed = dst->it != NULL;
    zset_w w;
    /* GEORADIUS[BYMEMBER] ... STORE: georadiusstore, else the command's name */
    const char *event = strncmp(x->def->name, "georadius", 9) ? x->def->name : "georadiusstore";
    if (existed) ks_delete(dst, x->now);
    if (n == 0 && existed) notify_ref(x, dst, CFG_NOTIFY_GENERIC, "del");
    if (n == 0) return existed;
    for (size_t k = 0; k < n; k++)
        if (v[k].ml > maxlen) maxlen = v[k].ml;
    notify_quiet_new(existed);   /* Redis overwrites the key */
    zset_w_open_new(&w, dst, n, maxlen);
    for (size_t k = 0; k < n; k++)
        if (zset_w_append(&w, b->data + v[k].off, v[k].ml, v[k].score) < 0) {
            zset_w_del_range(&w, 0, zset_w_len(&w));   /* what is left is the deletion */
            zset_w_close(&w, x->now);
            notify_quiet_new(0);
            return -1;
        }
    zset_w_close(&w, x->now);
    notify_quiet_new(0);
    /* logged as the value stored (after the deletion of what dst held,
     * which the delete reported): the command would replay against a
     * source that dst may have been (ZRANGESTORE z z, ZUNIONSTORE z 2 z y,
     * GEOSEARCHSTORE g g ...), and ZADDs would make a -0 that a big set
     * keeps into the 0 of a small one */
    ks_find(dst, x->now);
    ks_effect_put(dst);
    notify_ref(x, dst, CFG_NOTIFY_ZSET, event);
    return 1;
}

/* Copy what a request covers in it into pairs (the result's size only). */
static int zrange_collect(const item *it, const zrange_req *q, zsets_pair **out, size_t *count,
                          buf *b)
{
    size_t first, n, k = 0;
    int dir;
    zset_iter i;
    const char *m;
    size_t ml;
    double s;
    zsets_pair *v;
    zrange_span(it, q, &first, &n, &dir);
    *count = 0;
    *out = NULL;
    if (!n) return 0;
    v = malloc(sizeof *v * n);
    if (!v) return -1;
    zset_iter_init(&i, it, first, dir, 0);
    while (k < n && zset_next(&i, &m, &ml, &s)) {
        v[k].off = b->len;
        v[k].ml = ml;
        v[k].score = s;
        buf_append(b, m, ml);
        k++;
    }
    zset_iter_done(&i);
    if (dir < 0) {   /* stored in order */
        for (size_t a = 0, z = k - 1; a < z; a++, z--) {
            zsets_pair t = v[a];
            v[a] = v[z];
            v[z] = t;
        }
    }
    *out = v;
    *count = k;
    return 0;
}

static void cmd_zrangestore(cmd_call *x)
{
    zrange_req q = {.by = BY_AUTO, .dir = DIR_AUTO};
    ks_lockset ls;
    kref refs[2];
    if (zrange_parse(x, 2, 1, &q) < 0) return;
    arg_ref(x, 1, &refs[0]);
    arg_ref(x, 2, &refs[1]);
    ks_lockset_init(&ls);
    ks_lockset_add(&ls, &refs[0]);
    ks_lockset_add(&ls, &refs[1]);
    ks_lockset_lock(&ls);
    int bad;
    item *src = coll_read(x, &refs[1], KIND_ZSET, &bad);
    if (!bad) {
        zsets_pair *v = NULL;
        size_t n = 0;
        buf b = {0};
        int rc = 0;
        if (src && zrange_collect(src, &q, &v, &n, &b) < 0) rc = -1;
        if (rc == 0) {
            ks_find(&refs[0], x->now);
            rc = zsets__store(x, &refs[0], v, n, &b);   /* reports what it stored */
        }
        if (rc < 0) reply_nomem(x);
        else resp_int(x->out, (long long)n);
        free(v);
        buf_free(&b);
    }
    ks_lockset_unlock(&ls);
}

/* ---- ZREMRANGEBY* ---- */

static void zremrange_generic(cmd_call *x, int by)
{
    zrange_req q = {.by = by, .dir = DIR_FWD};
    int bad;
    size_t first = 0, n = 0;
    zset_w w;
    kref r;
    if (by == BY_RANK) {
        if (arg_ll(x, 2, &q.start) < 0 || arg_ll(x, 3, &q.end) < 0) return;
    } else if (by == BY_SCORE) {
        if (parse_score_range(x, 2, 3, &q.sr) < 0) return;
    } else if (parse_lex_range(x, 2, 3, &q.lr) < 0) {
        return;
    }
    q.limit = -1;
    item *it = coll_lock_write(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        if (it) {
            int dir;
            zrange_span(it, &q, &first, &n, &dir);
            if (n) {
                zset_w_open(&w, &r);
                zset_w_del_range(&w, first, n);
                notify_ref_del(x, &r, CFG_NOTIFY_ZSET, by == BY_RANK ? "zremrangebyrank" :
                               by == BY_SCORE ? "zremrangebyscore" : "zremrangebylex",
                               zset_w_len(&w) == 0);
                if (zset_w_close(&w, x->now)) coll_effect(x, &r);
            }
        }
        resp_int(x->out, (long long)n);
    }
    ks_unlock(&r);
}

static void cmd_zremrangebyrank(cmd_call *x) { zremrange_generic(x, BY_RANK); }
static void cmd_zremrangebyscore(cmd_call *x) { zremrange_generic(x, BY_SCORE); }
static void cmd_zremrangebylex(cmd_call *x) { zremrange_generic(x, BY_LEX); }

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define Z CAT_SORTEDSET

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"zadd", zsets__zadd, -4, W | M | F, Z, KEY1("RW update"), "sorted-set", "1.2.0",
     "O(log(N)) for each item added, where N is the number of elements in the sorted "
     "set.", NULL, NULL},
    {"zincrby", cmd_zincrby, 4, W | M | F, Z, KEY1("RW access update"), "sorted-set", "1.2.0",
     "O(log(N)) where N is the number of elements in the sorted set.", NULL, NULL},
    {"zrem", cmd_zrem, -3, W | F, Z, KEY1("RW delete"), "sorted-set", "1.2.0",
     "O(M*log(N)) with N being the number of elements in the sorted set and M the number "
     "of elements to be removed.", NULL, NULL},
    {"zcard", cmd_zcard, 2, R | F, Z, KEY1("RO"), "sorted-set", "1.2.0",
     "O(1)", NULL, NULL},
    {"zscore", cmd_zscore, 3, R | F, Z, KEY1("RO access"), "sorted-set", "1.2.0",
     "O(1)", NULL, NULL},
    {"zmscore", cmd_zmscore, -3, R | F, Z, KEY1("RO access"), "sorted-set", "6.2.0",
     "O(N) where N is the number of members being requested.", NULL, NULL},
    {"zrank", cmd_zrank, 3, R | F, Z, KEY1("RO access"), "sorted-set", "2.0.0",
     "O(log(N))", NULL, NULL},
    {"zrevrank", cmd_zrevrank, 3, R | F, Z, KEY1("RO access"), "sorted-set", "2.0.0",
     "O(log(N))", NULL, NULL},
    {"zcount", cmd_zcount, 4, R | F, Z, KEY1("RO access"), "sorted-set", "2.0.0",
     "O(log(N)) with N being the number of elements in the sorted set.", NULL, NULL},
    {"zlexcount", cmd_zlexcount, 4, R | F, Z, KEY1("RO access"), "sorted-set", "2.8.9",
     "O(log(N)) with N being the number of elements in the sorted set.", NULL, NULL},
    {"zrange", cmd_zrange, -4, R, Z, KEY1("RO access"), "sorted-set", "1.2.0",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements returned.", NULL, NULL},
    {"zrangestore", cmd_zrangestore, -5, W | M, Z, KEY12("OW update", "RO access"), 
     "sorted-set", "6.2.0",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements stored into the destination key.", NULL, NULL},
    {"zrangebyscore", cmd_zrangebyscore, -4, R, Z, KEY1("RO access"), "sorted-set", "1.0.5",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements being returned. If M is constant (e.g. always asking for the first 10 "
     "elements with LIMIT), you can consider it O(log(N)).", NULL, NULL},
    {"zrevrangebyscore", cmd_zrevrangebyscore, -4, R, Z, KEY1("RO access"), "sorted-set", "2.2.0",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements being returned. If M is constant (e.g. always asking for the first 10 "
     "elements with LIMIT), you can consider it O(log(N)).", NULL, NULL},
    {"zrangebylex", cmd_zrangebylex, -4, R, Z, KEY1("RO access"), "sorted-set", "2.8.9",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements being returned. If M is constant (e.g. always asking for the first 10 "
     "elements with LIMIT), you can consider it O(log(N)).", NULL, NULL},
    {"zrevrangebylex", cmd_zrevrangebylex, -4, R, Z, KEY1("RO access"), "sorted-set", "2.8.9",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements being returned. If M is constant (e.g. always asking for the first 10 "
     "elements with LIMIT), you can consider it O(log(N)).", NULL, NULL},
    {"zrevrange", cmd_zrevrange, -4, R, Z, KEY1("RO access"), "sorted-set", "1.2.0",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements returned.", NULL, NULL},
    {"zremrangebyrank", cmd_zremrangebyrank, 4, W, Z, KEY1("RW delete"), "sorted-set", "2.0.0",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements removed by the operation.", NULL, NULL},
    {"zremrangebyscore", cmd_zremrangebyscore, 4, W, Z, KEY1("RW delete"), "sorted-set", "1.2.0",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements removed by the operation.", NULL, NULL},
    {"zremrangebylex", cmd_zremrangebylex, 4, W, Z, KEY1("RW delete"), "sorted-set", "2.8.9",
     "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
     "of elements removed by the operation.", NULL, NULL},
    {"zpopmin", zsets__zpopmin, -2, W | F, Z, KEY1("RW access delete"), "sorted-set", "5.0.0",
     "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
     "number of elements popped.", NULL, NULL},
    {"zpopmax", zsets__zpopmax, -2, W | F, Z, KEY1("RW access delete"), "sorted-set", "5.0.0",
     "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
     "number of elements popped.", NULL, NULL},
    {"zmpop", zsets__zmpop, -4, W, Z, KEYNUM(1, "RW access delete"), "sorted-set", "7.0.0",
     "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
     "elements in the sorted set, and M being the number of elements popped.", NULL, NULL},
    {"bzpopmin", zsets__bzpopmin, -3, W | F | CMD_NOSCRIPT | CMD_BLOCKING, Z | CAT_BLOCKING,
     {KSPEC(1, -2, 1, "RW access delete")}, "sorted-set", "5.0.0",
     "O(log(N)) with N being the number of elements in the sorted set.", NULL, NULL},
    {"bzpopmax", zsets__bzpopmax, -3, W | F | CMD_NOSCRIPT | CMD_BLOCKING, Z | CAT_BLOCKING,
     {KSPEC(1, -2, 1, "RW access delete")}, "sorted-set", "5.0.0",
     "O(log(N)) with N being the number of elements in the sorted set.", NULL, NULL},
    {"bzmpop", zsets__bzmpop, -5, W | CMD_BLOCKING, Z | CAT_BLOCKING, KEYNUM(2, "RW access delete"),
     "sorted-set", "7.0.0",
     "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
     "elements in the sorted set, and M being the number of elements popped.", NULL, NULL},
    {"zrandmember", zsets__zrandmember, -2, R, Z, KEY1("RO access"), "sorted-set", "6.2.0",
     "O(N) where N is the number of elements returned", "nondeterministic_output", NULL},
    {"zunion", zsets__zunion, -3, R, Z, KEYNUM(1, "RO access"), "sorted-set", "6.2.0",
     "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M "
     "being the number of elements in the resulting sorted set.", NULL, NULL},
    {"zunionstore", zsets__zunionstore, -4, W | M, Z, KEY1NUM("OW update", "RO access"), 
     "sorted-set", "2.0.0",
     "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M "
     "being the number of elements in the resulting sorted set.", NULL, NULL},
    {"zinter", zsets__zinter, -3, R, Z, KEYNUM(1, "RO access"), "sorted-set", "6.2.0",
     "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being "
     "the number of input sorted sets and M being the number of elements in the "
     "resulting sorted set.", NULL, NULL},
    {"zinterstore", zsets__zinterstore, -4, W | M, Z, KEY1NUM("OW update", "RO access"), 
     "sorted-set", "2.0.0",
     "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being "
     "the number of input sorted sets and M being the number of elements in the "
     "resulting sorted set.", NULL, NULL},
    {"zintercard", zsets__zintercard, -3, R, Z, KEYNUM(1, "RO access"), "sorted-set", "7.0.0",
     "O(N*K) worst case with N being the smallest input sorted set, K being the number "
     "of input sorted sets.", NULL, NULL},
    {"zdiff", zsets__zdiff, -3, R, Z, KEYNUM(1, "RO access"), "sorted-set", "6.2.0",
     "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the "
     "sets, N is the size of the first set, and K is the size of the result set.", NULL, NULL},
    {"zdiffstore", zsets__zdiffstore, -4, W | M, Z, KEY1NUM("OW update", "RO access"), 
     "sorted-set", "6.2.0",
     "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the "
     "sets, N is the size of the first set, and K is the size of the result set.", NULL, NULL},
    {"zscan", zsets__zscan, -3, R, Z, KEY1("RO access"), "sorted-set", "2.8.0",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls "
     "for the cursor to return back to 0. N is the number of elements inside the "
     "collection..", "nondeterministic_output", NULL},
};

const cmd_family cmd_family_zsets = CMD_FAMILY(rows);
