/* lists.c - the list commands, with Redis 7.0's replies, error texts and
 * order of checks. The values live in types/list.c; this file parses,
 * looks keys up, replies and reports each write's effect: pushes and most
 * writes as they were given (they replay to the same data), LMPOP as the
 * LPOP or RPOP of what it popped, as Redis propagates it. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "types/list.h"

#define ERR_POSITIVE "ERR value is out of range, must be positive"

/* LEFT or RIGHT at argv[i]: 0 or 1 (tail), or -1 with a syntax error. */
static int arg_end(cmd_call *x, int i)
{
    if (arg_is(x, i, "left")) return 0;
    if (arg_is(x, i, "right")) return 1;
    reply_syntax(x);
    return -1;
}

/* A long long at argv[i] of at least min, or -1 after replying msg
 * (Redis's getRangeLongFromObjectOrReply with a message: the same text
 * whether the argument is no number or too small). */
static int arg_at_least(cmd_call *x, int i, long long min, const char *msg, long long *v)
{
    if (util_str2ll(x->argv[i].p, x->argv[i].n, v) == 0 && *v >= min) return 0;
    reply_err(x, msg);
    return -1;
}

/* Redis's index conventions: a negative index counts from the end. */
static long long from_end(long long i, long long len) { return i < 0 ? len + i : i; }

/* LRANGE's and LTRIM's start and end made a range within [0, len), as
 * Redis clamps them: 0 when it is empty. */
static int clamp_range(long long *start, long long *end, long long len)
{
    *start = from_end(*start, len);
    *end = from_end(*end, len);
    if (*start < 0) *start = 0;
    if (*start > *end || *start >= len) return 0;
    if (*end >= len) *end = len - 1;
    return 1;
}

/* ---- pushing ---- */

/* Push argv[first..] to r's list (the caller holds its shard and found it
 * a list or nothing), reply its length and report the effect. (Every list
 * write, pushes included, ends in list_w_close: where a key that now holds
 * elements will wake the clients blocked on it.) */
static void push_args(cmd_call *x, kref *r, int tail, int first)
{
    list_w w;
    int i, rc = 0;
    size_t len;
    list_w_open(&w, r);
    for (i = first; i < x->argc; i++)
        if ((rc = list_w_push(&w, tail, x->argv[i].p, x->argv[i].n)) < 0) break;
    len = list_w_len(&w);
    if (list_w_close(&w, x->now)) ks_effect(r, i, x->argv);   /* the elements that were pushed */
    if (i > first) notify_ref(x, r, CFG_NOTIFY_LIST, tail ? "rpush" : "lpush");
    if (rc < 0) reply_nomem(x);
    else resp_int(x->out, (long long)len);
}

static void push_generic(cmd_call *x, int tail, int only_if_exists)
{
    int bad;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_LIST, &bad);
    if (!bad) {
        if (!it && only_if_exists) resp_int(x->out, 0);
        else push_args(x, &r, tail, 2);
    }
    ks_unlock(&r);
}

static void cmd_lpush(cmd_call *x) { push_generic(x, 0, 0); }
static void cmd_rpush(cmd_call *x) { push_generic(x, 1, 0); }
static void cmd_lpushx(cmd_call *x) { push_generic(x, 0, 1); }
static void cmd_rpushx(cmd_call *x) { push_generic(x, 1, 1); }

/* ---- popping ---- */

/* Reply the k elements at one end of it (from the end inwards). */
static void reply_end(cmd_call *x, const item *it, int tail, size_t k)
{
    list_iter li;
    const char *s;
    size_t n, len = list_len(it);
    list_iter_init(&li, it, tail ? len - 1 : 0, tail);
    while (k-- && list_next(&li, &s, &n)) resp_bulk(x->out, s, n);
}

/* Pop k elements (k <= length) from r's list it, replied as an array
 * (bare: one element as a bulk string). Returns 1 when the list changed. */
static int pop_reply(cmd_call *x, kref *r, const item *it, int tail, size_t k, int bare)
{
    list_w w;
    int emptied = k == list_len(it);
    if (!bare) resp_array(x->out, (long long)k);
    reply_end(x, it, tail, k);
    list_w_open(&w, r);
    list_w_pop(&w, tail, k);
    notify_ref_del(x, r, CFG_NOTIFY_LIST, tail ? "rpop" : "lpop", emptied);
    return list_w_close(&w, x->now);
}

static void pop_generic(cmd_call *x, int tail)
{
    long long count = 1;
    int bad, bare = x->argc == 2;
    kref r;
    item *it;
    if (x->argc > 3) {
        reply_arity(x);
        return;
    }
    if (!bare && arg_at_least(x, 2, 0, ERR_POSITIVE, &count) < 0) return;
    it = coll_lock_write(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    if (!it) {
        if (bare) reply_null(x);
        else reply_null_array(x);
    } else if (count == 0) {
        resp_array(x->out, 0);
    } else {
        size_t len = list_len(it), k = (unsigned long long)count < len ? (size_t)count : len;
        if (pop_reply(x, &r, it, tail, k, bare)) coll_effect(x, &r);
    }
out:
    ks_unlock(&r);
}

static void cmd_lpop(cmd_call *x) { pop_generic(x, 0); }
static void cmd_rpop(cmd_call *x) { pop_generic(x, 1); }

/* ---- reading ---- */

static void cmd_llen(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_LIST, &bad);
    if (!bad) resp_int(x->out, it ? (long long)list_len(it) : 0);
    ks_unlock(&r);
}

static void cmd_lrange(cmd_call *x)
{
    long long start, end, len;
    int bad;
    kref r;
    item *it;
    if (arg_ll(x, 2, &start) < 0 || arg_ll(x, 3, &end) < 0) return;
    it = coll_lock_read(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    len = it ? (long long)list_len(it) : 0;
    if (!clamp_range(&start, &end, len)) {
        resp_array(x->out, 0);
    } else {
        list_iter li;
        const char *s;
        size_t n;
        resp_array(x->out, end - start + 1);
        list_iter_init(&li, it, (size_t)start, 0);
        for (long long i = start; i <= end && list_next(&li, &s, &n); i++) resp_bulk(x->out, s, n);
    }
out:
    ks_unlock(&r);
}

static void cmd_lindex(cmd_call *x)
{
    long long i;
    const char *s;
    size_t n;
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    if (!it) {
        reply_null(x);
    } else if (arg_ll(x, 2, &i) == 0) {
        long long len = (long long)list_len(it);
        i = from_end(i, len);
        if (i < 0 || i >= len) {
            reply_null(x);
        } else {
            list_get(it, (size_t)i, &s, &n);
            resp_bulk(x->out, s, n);
        }
    }
out:
    ks_unlock(&r);
}

/* LPOS's scan: the matches of argv[2] from the head (or from the tail when
 * rank < 0), as Redis counts them, wrapping arithmetic and all (a RANK of
 * LLONG_MIN is negated into itself, and then every match ranks). */
static void cmd_lpos(cmd_call *x)
{
    long long rank = 1, count = -1, maxlen = 0;
    int bad, back = 0;
    kref r;
    item *it;
    for (int j = 3; j < x->argc; j++) {
        int more = x->argc - 1 - j;
        if (arg_is(x, j, "rank") && more) {
            if (arg_ll(x, ++j, &rank) < 0) return;
            if (rank == 0) {
                reply_err(x, "ERR RANK can't be zero: use 1 to start from the first match, 2 "
                             "from the second ... or use negative to start from the end of "
                             "the list");
                return;
            }
        } else if (arg_is(x, j, "count") && more) {
            if (arg_at_least(x, ++j, 0, "ERR COUNT can't be negative", &count) < 0) return;
        } else if (arg_is(x, j, "maxlen") && more) {
            if (arg_at_least(x, ++j, 0, "ERR MAXLEN can't be negative", &maxlen) < 0) return;
        } else {
            reply_syntax(x);
            return;
        }
    }
    if (rank < 0) {
        rank = (long long)(0 - (unsigned long long)rank);
        back = 1;
    }
    it = coll_lock_read(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    if (!it) {
        if (count != -1) resp_array(x->out, 0);
        else reply_null(x);
        goto out;
    }
    {
        const char *want = x->argv[2].p, *s;
        size_t wn = x->argv[2].n, n, len = list_len(it), token = 0;
        long long index = 0, matches = 0, found = -1, nfound = 0;
        list_iter li;
        if (count != -1) token = resp_array_defer(x->out);
        list_iter_init(&li, it, back ? len - 1 : 0, back);
        while ((maxlen == 0 || index < maxlen) && list_next(&li, &s, &n)) {
            if (n == wn && (n == 0 || memcmp(s, want, n) == 0)) {
                matches++;
                found = back ? (long long)len - index - 1 : index;
                if (matches >= rank) {
                    if (count == -1) break;
                    nfound++;
                    resp_int(x->out, found);
                    /* matches - rank + 1, as Redis's longs wrap */
                    if (count && (long long)((unsigned long long)matches - (unsigned long long)rank +
                                             1) >= count)
                        break;
                }
            }
            index++;
            found = -1;
        }
        if (count != -1) resp_array_fill(x->out, token, nfound);
        else if (found != -1) resp_int(x->out, found);
        else reply_null(x);
    }
out:
    ks_unlock(&r);
}

/* ---- changing elements ---- */

static void cmd_lset(cmd_call *x)
{
    long long i;
    int bad;
    list_w w;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    if (!it) {
        reply_err(x, "ERR no such key");
    } else if (arg_ll(x, 2, &i) == 0) {
        long long len = (long long)list_len(it);
        i = from_end(i, len);
        if (i < 0 || i >= len) {
            reply_err(x, "ERR index out of range");
        } else {
            int rc;
            list_w_open(&w, &r);
            rc = list_w_set(&w, (size_t)i, x->argv[3].p, x->argv[3].n);
            if (list_w_close(&w, x->now) && rc == 0) coll_effect(x, &r);
            if (rc == 0) notify_ref(x, &r, CFG_NOTIFY_LIST, "lset");
            if (rc < 0) reply_nomem(x);
            else reply_ok(x);
        }
    }
out:
    ks_unlock(&r);
}

static void cmd_linsert(cmd_call *x)
{
    int after, bad;
    list_w w;
    kref r;
    item *it;
    if (arg_is(x, 2, "after")) {
        after = 1;
    } else if (arg_is(x, 2, "before")) {
        after = 0;
    } else {
        reply_syntax(x);
        return;
    }
    it = coll_lock_write(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    if (!it) {
        resp_int(x->out, 0);
    } else {
        const char *want = x->argv[3].p, *s;
        size_t wn = x->argv[3].n, n, i = 0;
        list_iter li;
        int found = 0, rc;
        list_iter_init(&li, it, 0, 0);
        for (; list_next(&li, &s, &n); i++)
            if (n == wn && (n == 0 || memcmp(s, want, n) == 0)) {
                found = 1;
                break;
            }
        if (!found) {
            resp_int(x->out, -1);
            goto out;
        }
        list_w_open(&w, &r);
        rc = list_w_insert(&w, i + (size_t)after, x->argv[4].p, x->argv[4].n);
        i = list_w_len(&w);
        if (list_w_close(&w, x->now) && rc == 0) coll_effect(x, &r);
        if (rc == 0) notify_ref(x, &r, CFG_NOTIFY_LIST, "linsert");
        if (rc < 0) reply_nomem(x);
        else resp_int(x->out, (long long)i);
    }
out:
    ks_unlock(&r);
}

static void cmd_lrem(cmd_call *x)
{
    long long count;
    size_t gone = 0;
    int bad;
    list_w w;
    kref r;
    item *it;
    if (arg_ll(x, 2, &count) < 0) return;
    it = coll_lock_write(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    if (it) {
        /* LLONG_MIN, negated as Redis does, stays negative: all, from the tail */
        size_t limit = count == LLONG_MIN ? 0 : (size_t)(count < 0 ? -count : count);
        list_w_open(&w, &r);
        gone = list_w_remove(&w, x->argv[3].p, x->argv[3].n, count < 0, limit);
        if (gone) notify_ref_del(x, &r, CFG_NOTIFY_LIST, "lrem", list_w_len(&w) == 0);
        if (list_w_close(&w, x->now)) coll_effect(x, &r);
    }
    resp_int(x->out, (long long)gone);
out:
    ks_unlock(&r);
}

static void cmd_ltrim(cmd_call *x)
{
    long long start, end, len, ltrim, rtrim;
    int bad;
    list_w w;
    kref r;
    item *it;
    if (arg_ll(x, 2, &start) < 0 || arg_ll(x, 3, &end) < 0) return;
    it = coll_lock_write(x, 1, &r, KIND_LIST, &bad);
    if (bad) goto out;
    if (it) {
        len = (long long)list_len(it);
        if (!clamp_range(&start, &end, len)) {
            ltrim = len;   /* nothing kept */
            rtrim = 0;
        } else {
            ltrim = start;
            rtrim = len - end - 1;
        }
        list_w_open(&w, &r);
        if (ltrim + rtrim == 0) list_w_touch(&w);   /* Redis signals the key all the same */
        list_w_pop(&w, 0, (size_t)ltrim);
        list_w_pop(&w, 1, (size_t)rtrim);
        notify_ref_del(x, &r, CFG_NOTIFY_LIST, "ltrim", list_w_len(&w) == 0);
        if (list_w_close(&w, x->now)) coll_effect(x, &r);
    }
    reply_ok(x);
out:
    ks_unlock(&r);
}

/* ---- moving between lists ---- */

/* The list at r to pop from (NULL if none, or WRONGTYPE replied and *bad
 * set). A blocked client trying again finds a key of another kind as no
 * list at all: it waits on, as on Redis. */
static item *blocked_source(cmd_call *x, kref *r, int *bad)
{
    item *it = ks_find(r, x->now);
    *bad = 0;
    if (it && item_kind(it) != KIND_LIST && (x->s->flags & SESS_RETRY)) return NULL;
    return coll_of_kind(x, it, KIND_LIST, bad);
}

/* LMOVE and RPOPLPUSH: one element from an end of argv[1] to an end of
 * argv[2], both keys locked together (they may be one: a rotation), logged
 * as eff (LMOVE's or RPOPLPUSH's arguments). With block, BLMOVE and
 * BRPOPLPUSH: an empty source parks the command until deadline. */
static void move_generic(cmd_call *x, int from_tail, int to_tail, const slice *eff, int neff,
                         const int64_t *block)
{
    ks_lockset ls;
    kref src, dst;
    item *it;
    int bad, same = x->argv[1].n == x->argv[2].n &&
                    memcmp(x->argv[1].p, x->argv[2].p, x->argv[1].n) == 0;
    const char *s;
    size_t n;
    list_w ws, wd;
    arg_ref(x, 1, &src);
    arg_ref(x, 2, &dst);
    ks_lockset_init(&ls);
    ks_lockset_add(&ls, &src);
    ks_lockset_add(&ls, &dst);
    ks_lockset_lock(&ls);
    it = blocked_source(x, &src, &bad);
    if (bad) goto out;
    if (!it) {
        if (block) cmd_block(x, &x->argv[1], 1, *block, 1);   /* under the lock: no push slips by */
        else reply_null(x);
        goto out;
    }
    if (!same && (coll_write(x, &dst, KIND_LIST, &bad), bad)) goto out;
    list_get(it, from_tail ? list_len(it) - 1 : 0, &s, &n);
    if (same) {
        /* a rotation: the element is copied (the push may move where it
         * lies), pushed, then popped from where it was (when both ends are
         * one, the copy just pushed goes: a change all the same) */
        char *copy = malloc(n ? n : 1);
        int rc;
        if (!copy) {
            reply_nomem(x);
            goto out;
        }
        if (n) memcpy(copy, s, n);
        list_w_open(&ws, &src);
        rc = list_w_push(&ws, to_tail, copy, n);
        if (rc < 0) {
            reply_nomem(x);
        } else {
            list_w_pop(&ws, from_tail, 1);
            resp_bulk(x->out, copy, n);
            notify_ref(x, &src, CFG_NOTIFY_LIST, to_tail ? "rpush" : "lpush");
            notify_ref(x, &src, CFG_NOTIFY_LIST, from_tail ? "rpop" : "lpop");
        }
        if (list_w_close(&ws, x->now) && rc == 0) ks_effect(&src, neff, eff);
        free(copy);
        goto out;
    }
    /* the push first, while the element still lies in the source */
    list_w_open(&wd, &dst);
    if (list_w_push(&wd, to_tail, s, n) < 0) {
        list_w_close(&wd, x->now);
        reply_nomem(x);
        goto out;
    }
    resp_bulk(x->out, s, n);
    list_w_close(&wd, x->now);
    notify_ref(x, &dst, CFG_NOTIFY_LIST, to_tail ? "rpush" : "lpush");
    /* logged before the source closes: emptied, it logs its deletion,
     * which must come after the move that empties it */
    ks_effect(&src, neff, eff);
    list_w_open(&ws, &src);
    list_w_pop(&ws, from_tail, 1);
    notify_ref_del(x, &src, CFG_NOTIFY_LIST, from_tail ? "rpop" : "lpop", list_w_len(&ws) == 0);
    list_w_close(&ws, x->now);
out:
    ks_lockset_unlock(&ls);
}

static void cmd_lmove(cmd_call *x)
{
    int from, to;
    if ((from = arg_end(x, 3)) < 0 || (to = arg_end(x, 4)) < 0) return;
    move_generic(x, from, to, x->argv, x->argc, NULL);
}

static void cmd_rpoplpush(cmd_call *x) { move_generic(x, 1, 0, x->argv, x->argc, NULL); }

/* BLMOVE src dst LEFT|RIGHT LEFT|RIGHT timeout: logged as LMOVE. */
static void cmd_blmove(cmd_call *x)
{
    int from, to;
    int64_t deadline;
    slice eff[5] = {{"LMOVE", 5}, x->argv[1], x->argv[2], x->argv[3], x->argv[4]};
    if ((from = arg_end(x, 3)) < 0 || (to = arg_end(x, 4)) < 0 || arg_timeout(x, 5, &deadline) < 0)
        return;
    move_generic(x, from, to, eff, 5, &deadline);
}

/* BRPOPLPUSH src dst timeout: logged as RPOPLPUSH. */
static void cmd_brpoplpush(cmd_call *x)
{
    int64_t deadline;
    slice eff[3] = {{"RPOPLPUSH", 9}, x->argv[1], x->argv[2]};
    if (arg_timeout(x, 3, &deadline) < 0) return;
    move_generic(x, 1, 0, eff, 3, &deadline);
}

/* Pop from the first non-empty list of the nkeys keys at argv[first],
 * all locked together: LMPOP's reply [key, [elements]] (count of them),
 * or with bare BLPOP's [key, element]; logged as LPOP/RPOP key count. When
 * all are empty: a null array, or with block the command parks. */
static void mpop(cmd_call *x, int first, int nkeys, int tail, long long count, int bare,
                 const int64_t *block)
{
    int bad = 0, done = 0;
    ks_lockset ls;
    kref *refs = xmalloc(sizeof *refs * (size_t)nkeys);
    ks_lockset_init(&ls);
    for (int k = 0; k < nkeys; k++) {
        arg_ref(x, first + k, &refs[k]);
        ks_lockset_add(&ls, &refs[k]);
    }
    ks_lockset_lock(&ls);
    for (int k = 0; k < nkeys && !bad && !done; k++) {
        item *it = blocked_source(x, &refs[k], &bad);
        size_t len, m;
        if (!it || bad) continue;
        len = list_len(it);
        m = (unsigned long long)count < len ? (size_t)count : len;
        resp_array(x->out, 2);
        resp_bulk(x->out, x->argv[first + k].p, x->argv[first + k].n);
        if (pop_reply(x, &refs[k], it, tail, m, bare)) {
            char tmp[24];
            slice eff[3] = {{tail ? "RPOP" : "LPOP", 4}, x->argv[first + k], {tmp, 0}};
            eff[2].n = (size_t)util_ll2str(tmp, (long long)m);
            ks_effect(&refs[k], 3, eff);
        }
        done = 1;
    }
    if (!bad && !done) {
        if (block) cmd_block(x, &x->argv[first], nkeys, *block, 0);   /* under the locks */
        else reply_null_array(x);
    }
    ks_lockset_unlock(&ls);
    free(refs);
}

/* LMPOP's and BLMPOP's numkeys key ... LEFT|RIGHT [COUNT n], from argv[at]. */
static int mpop_args(cmd_call *x, int at, long long *numkeys, int *tail, long long *count)
{
    int where;
    *count = -1;
    if (arg_at_least(x, at, 1, "ERR numkeys should be greater than 0", numkeys) < 0) return -1;
    if (*numkeys > x->argc - at - 2) {
        reply_syntax(x);
        return -1;
    }
    where = at + 1 + (int)*numkeys;
    if ((*tail = arg_end(x, where)) < 0) return -1;
    for (int j = where + 1; j < x->argc; j++) {
        if (*count == -1 && arg_is(x, j, "count") && x->argc - 1 - j > 0) {
            if (arg_at_least(x, ++j, 1, "ERR count should be greater than 0", count) < 0) return -1;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    if (*count == -1) *count = 1;
    return 0;
}

static void cmd_lmpop(cmd_call *x)
{
    long long numkeys, count;
    int tail;
    if (mpop_args(x, 1, &numkeys, &tail, &count) == 0) mpop(x, 2, (int)numkeys, tail, count, 0, NULL);
}

/* BLMPOP timeout numkeys key ... LEFT|RIGHT [COUNT n] */
static void cmd_blmpop(cmd_call *x)
{
    long long numkeys, count;
    int tail;
    int64_t deadline;
    if (arg_timeout(x, 1, &deadline) < 0 || mpop_args(x, 2, &numkeys, &tail, &count) < 0) return;
    mpop(x, 3, (int)numkeys, tail, count, 0, &deadline);
}

/* BLPOP and BRPOP key [key ...] timeout */
static void bpop_generic(cmd_call *x, int tail)
{
    int64_t deadline;
    if (arg_timeout(x, x->argc - 1, &deadline) < 0) return;
    mpop(x, 1, x->argc - 2, tail, 1, 1, &deadline);
}

static void cmd_blpop(cmd_call *x) { bpop_generic(x, 0); }
static void cmd_brpop(cmd_call *x) { bpop_generic(x, 1); }

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define L CAT_LIST
#define B (CMD_NOSCRIPT | CMD_BLOCKING)

#define PUSH_COMPLEXITY                                                                      \
    "O(1) for each element added, so O(N) to add N elements when the command is called "     \
    "with multiple arguments."

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"lpush", cmd_lpush, -3, W | M | F, L, KEY1("RW insert"), "list", "1.0.0", PUSH_COMPLEXITY,
     NULL, NULL},
    {"rpush", cmd_rpush, -3, W | M | F, L, KEY1("RW insert"), "list", "1.0.0", PUSH_COMPLEXITY,
     NULL, NULL},
    {"lpushx", cmd_lpushx, -3, W | M | F, L, KEY1("RW insert"), "list", "2.2.0",
     PUSH_COMPLEXITY, NULL, NULL},
    {"rpushx", cmd_rpushx, -3, W | M | F, L, KEY1("RW insert"), "list", "2.2.0",
     PUSH_COMPLEXITY, NULL, NULL},
    {"lpop", cmd_lpop, -2, W | F, L, KEY1("RW access delete"), "list", "1.0.0",
     "O(N) where N is the number of elements returned", NULL, NULL},
    {"rpop", cmd_rpop, -2, W | F, L, KEY1("RW access delete"), "list", "1.0.0",
     "O(N) where N is the number of elements returned", NULL, NULL},
    {"llen", cmd_llen, 2, R | F, L, KEY1("RO"), "list", "1.0.0", "O(1)", NULL, NULL},
    {"lrange", cmd_lrange, 4, R, L, KEY1("RO access"), "list", "1.0.0",
     "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest "
     "end (HEAD or TAIL) for large lists; and N is the number of elements in the specified "
     "range.", NULL, NULL},
    {"lindex", cmd_lindex, 3, R, L, KEY1("RO access"), "list", "1.0.0",
     "O(N) where N is the number of elements to traverse to get to the element at index. "
     "This makes asking for the first or the last element of the list O(1).", NULL, NULL},
    {"lset", cmd_lset, 4, W | M, L, KEY1("RW update"), "list", "1.0.0",
     "O(N) where N is the length of the list. Setting either the first or the last element "
     "of the list is O(1).", NULL, NULL},
    {"linsert", cmd_linsert, 5, W | M, L, KEY1("RW insert"), "list", "2.2.0",
     "O(N) where N is the number of elements to traverse before seeing the value pivot. "
     "This means that inserting somewhere on the left end on the list (head) can be "
     "considered O(1) and inserting somewhere on the right end (tail) is O(N).", NULL, NULL},
    {"lrem", cmd_lrem, 4, W, L, KEY1("RW delete"), "list", "1.0.0",
     "O(N+M) where N is the length of the list and M is the number of elements removed.",
     NULL, NULL},
    {"ltrim", cmd_ltrim, 4, W, L, KEY1("RW delete"), "list", "1.0.0",
     "O(N) where N is the number of elements to be removed by the operation.", NULL, NULL},
    {"lpos", cmd_lpos, -3, R, L, KEY1("RO access"), "list", "6.0.6",
     "O(N) where N is the number of elements in the list, for the average case. When "
     "searching for elements near the head or the tail of the list, or when the MAXLEN "
     "option is provided, the command may run in constant time.", NULL, NULL},
    {"lmove", cmd_lmove, 5, W | M, L, KEY12("RW access delete", "RW insert"), "list", "6.2.0",
     "O(1)", NULL, NULL},
    {"rpoplpush", cmd_rpoplpush, 3, W | M, L, KEY12("RW access delete", "RW insert"), "list",
     "1.2.0", "O(1)", NULL, NULL},
    {"lmpop", cmd_lmpop, -4, W, L, KEYNUM(1, "RW access delete"), "list", "7.0.0",
     "O(N+M) where N is the number of provided keys and M is the number of elements "
     "returned.", NULL, NULL},
    {"blpop", cmd_blpop, -3, W | B, L | CAT_BLOCKING, {KSPEC(1, -2, 1, "RW access delete")},
     "list", "2.0.0", "O(N) where N is the number of provided keys.", NULL, NULL},
    {"brpop", cmd_brpop, -3, W | B, L | CAT_BLOCKING, {KSPEC(1, -2, 1, "RW access delete")},
     "list", "2.0.0", "O(N) where N is the number of provided keys.", NULL, NULL},
    {"blmove", cmd_blmove, 6, W | M | B, L | CAT_BLOCKING,
     KEY12("RW access delete", "RW insert"), "list", "6.2.0", "O(1)", NULL, NULL},
    {"brpoplpush", cmd_brpoplpush, 4, W | M | B, L | CAT_BLOCKING,
     KEY12("RW access delete", "RW insert"), "list", "2.2.0", "O(1)", NULL, NULL},
    {"blmpop", cmd_blmpop, -5, W | CMD_BLOCKING, L | CAT_BLOCKING, KEYNUM(2, "RW access delete"),
     "list", "7.0.0",
     "O(N+M) where N is the number of provided keys and M is the number of elements "
     "returned.", NULL, NULL},
};

const cmd_family cmd_family_lists = CMD_FAMILY(rows);
