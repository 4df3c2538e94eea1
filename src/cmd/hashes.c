/* hashes.c - the hash commands, with Redis 7.0's replies and error texts.
 * The values live in types/hash.c; this file parses, looks keys up, replies
 * and reports each write's effect. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "types/hash.h"

/* HSET and HMSET: field/value pairs from argv[2]. */
static void hset_generic(cmd_call *x, int ok_reply)
{
    long long added = 0;
    int bad, i, rc = 0;
    hash_w w;
    kref r;
    if (x->argc % 2) {
        reply_arity(x);
        return;
    }
    coll_lock_write(x, 1, &r, KIND_HASH, &bad);
    if (bad) goto out;
    hash_w_open(&w, &r);
    for (i = 2; i < x->argc; i += 2) {
        rc = hash_w_set(&w, x->argv[i].p, x->argv[i].n, x->argv[i + 1].p, x->argv[i + 1].n, 0);
        if (rc < 0) break;
        added += rc;
    }
    if (hash_w_close(&w, x->now)) ks_effect(&r, i, x->argv);   /* the pairs that were set */
    if (rc >= 0) notify_key(x, CFG_NOTIFY_HASH, "hset", 1);
    if (rc < 0) reply_nomem(x);
    else if (ok_reply) reply_ok(x);
    else resp_int(x->out, added);
out:
    ks_unlock(&r);
}

static void cmd_hset(cmd_call *x) { hset_generic(x, 0); }
static void cmd_hmset(cmd_call *x) { hset_generic(x, 1); }

static void cmd_hsetnx(cmd_call *x)
{
    int bad, rc;
    hash_w w;
    kref r;
    coll_lock_write(x, 1, &r, KIND_HASH, &bad);
    if (!bad) {
        hash_w_open(&w, &r);
        rc = hash_w_set(&w, x->argv[2].p, x->argv[2].n, x->argv[3].p, x->argv[3].n, 1);
        if (hash_w_close(&w, x->now)) coll_effect(x, &r);
        if (rc > 0) notify_key(x, CFG_NOTIFY_HASH, "hset", 1);
        if (rc < 0) reply_nomem(x);
        else resp_int(x->out, rc);
    }
    ks_unlock(&r);
}

/* The value of the field argv[i] of hash it (NULL: none), or nil. */
static void reply_field(cmd_call *x, const item *it, int i)
{
    const char *v;
    size_t vl;
    if (it && hash_get(it, x->argv[i].p, x->argv[i].n, &v, &vl)) resp_bulk(x->out, v, vl);
    else reply_null(x);
}

static void cmd_hget(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_HASH, &bad);
    if (!bad) reply_field(x, it, 2);
    ks_unlock(&r);
}

static void cmd_hmget(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_HASH, &bad);
    if (!bad) {
        resp_array(x->out, x->argc - 2);
        for (int i = 2; i < x->argc; i++) reply_field(x, it, i);
    }
    ks_unlock(&r);
}

static void cmd_hdel(cmd_call *x)
{
    long long n = 0;
    int bad;
    hash_w w;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_HASH, &bad);
    if (!bad) {
        if (it) {
            hash_w_open(&w, &r);
            for (int i = 2; i < x->argc && hash_w_len(&w); i++)
                n += hash_w_del(&w, x->argv[i].p, x->argv[i].n);
            if (n) notify_ref_del(x, &r, CFG_NOTIFY_HASH, "hdel", hash_w_len(&w) == 0);
            if (hash_w_close(&w, x->now)) coll_effect(x, &r);
        }
        resp_int(x->out, n);
    }
    ks_unlock(&r);
}

/* HLEN, HEXISTS, HSTRLEN: a number from the hash (0 when there is none). */
enum { Q_LEN, Q_EXISTS, Q_STRLEN };
static void hash_query(cmd_call *x, int q)
{
    const char *v;
    size_t vl = 0;
    long long n = 0;
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_HASH, &bad);
    if (!bad) {
        if (it && q == Q_LEN) n = (long long)hash_len(it);
        else if (it && hash_get(it, x->argv[2].p, x->argv[2].n, &v, &vl))
            n = q == Q_EXISTS ? 1 : (long long)vl;
        resp_int(x->out, n);
    }
    ks_unlock(&r);
}

static void cmd_hlen(cmd_call *x) { hash_query(x, Q_LEN); }
static void cmd_hexists(cmd_call *x) { hash_query(x, Q_EXISTS); }
static void cmd_hstrlen(cmd_call *x) { hash_query(x, Q_STRLEN); }

/* HKEYS, HVALS, HGETALL. */
enum { G_KEYS = 1, G_VALS = 2 };
static void hash_getall(cmd_call *x, int what)
{
    const char *f, *v;
    size_t fl, vl;
    int bad;
    hash_iter i;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_HASH, &bad);
    if (!bad) {
        long long n = it ? (long long)hash_len(it) : 0;
        if (what == (G_KEYS | G_VALS)) reply_map(x, n);
        else resp_array(x->out, n);
        if (it) {
            hash_iter_init(&i, it);
            while (hash_next(&i, &f, &fl, &v, &vl)) {
                if (what & G_KEYS) resp_bulk(x->out, f, fl);
                if (what & G_VALS) resp_bulk(x->out, v, vl);
            }
        }
    }
    ks_unlock(&r);
}

static void cmd_hkeys(cmd_call *x) { hash_getall(x, G_KEYS); }
static void cmd_hvals(cmd_call *x) { hash_getall(x, G_VALS); }
static void cmd_hgetall(cmd_call *x) { hash_getall(x, G_KEYS | G_VALS); }

static void cmd_hincrby(cmd_call *x)
{
    long long incr, cur = 0;
    const char *v;
    size_t vl;
    int bad, rc = 0, done = 0;
    hash_w w;
    kref r;
    if (arg_ll(x, 3, &incr) < 0) return;
    coll_lock_write(x, 1, &r, KIND_HASH, &bad);
    if (bad) goto out;
    hash_w_open(&w, &r);
    if (hash_w_get(&w, x->argv[2].p, x->argv[2].n, &v, &vl) && util_str2ll(v, vl, &cur) < 0) {
        reply_err(x, "ERR hash value is not an integer");
    } else if ((incr < 0 && cur < 0 && incr < LLONG_MIN - cur) ||
               (incr > 0 && cur > 0 && incr > LLONG_MAX - cur)) {
        reply_err(x, "ERR increment or decrement would overflow");
    } else {
        char tmp[24];
        cur += incr;
        rc = hash_w_set(&w, x->argv[2].p, x->argv[2].n, tmp, (size_t)util_ll2str(tmp, cur), 0);
        if (rc < 0) reply_nomem(x);
        else resp_int(x->out, cur);
        done = rc >= 0;
    }
    if (hash_w_close(&w, x->now)) coll_effect(x, &r);
    if (done) notify_key(x, CFG_NOTIFY_HASH, "hincrby", 1);   /* after a new key's "new" */
out:
    ks_unlock(&r);
}

static void cmd_hincrbyfloat(cmd_call *x)
{
    long double incr, cur = 0;
    const char *v;
    size_t vl;
    int bad;
    hash_w w;
    kref r;
    if (util_str2ld(x->argv[3].p, x->argv[3].n, &incr) < 0) {
        reply_not_float(x);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        reply_err(x, "ERR value is NaN or Infinity");
        return;
    }
    coll_lock_write(x, 1, &r, KIND_HASH, &bad);
    if (bad) goto out;
    hash_w_open(&w, &r);
    if (hash_w_get(&w, x->argv[2].p, x->argv[2].n, &v, &vl) && util_str2ld(v, vl, &cur) < 0) {
        reply_err(x, "ERR hash value is not a float");
    } else if (cur += incr, isnan(cur) || isinf(cur)) {
        reply_err(x, "ERR increment would produce NaN or Infinity");
    } else {
        char tmp[UTIL_LD_MAXCHARS];
        size_t n = (size_t)util_ld2str(tmp, sizeof tmp, cur);
        if (hash_w_set(&w, x->argv[2].p, x->argv[2].n, tmp, n, 0) < 0) {
            reply_nomem(x);
        } else {
            /* logged as the HSET of the result, so a replay cannot round
             * differently */
            slice eff[4] = {{"HSET", 4}, x->argv[1], x->argv[2], {tmp, n}};
            resp_bulk(x->out, tmp, n);
            if (hash_w_close(&w, x->now)) ks_effect(&r, 4, eff);
            notify_key(x, CFG_NOTIFY_HASH, "hincrbyfloat", 1);
            goto out;
        }
    }
    hash_w_close(&w, x->now);
out:
    ks_unlock(&r);
}

/* ---- HRANDFIELD ---- */

static void rand_pair(cmd_call *x, const char *f, size_t fl, const char *v, size_t vl, int vals)
{
    if (vals) reply_pair(x);
    resp_bulk(x->out, f, fl);
    if (vals) resp_bulk(x->out, v, vl);
}

static void rand_one(cmd_call *x, const item *it)
{
    const char *f, *v;
    size_t fl, vl;
    hash_random(it, &f, &fl, &v, &vl);
    resp_bulk(x->out, f, fl);
}

static void rand_repeat(cmd_call *x, const item *it, unsigned long long n, int vals)
{
    const char *f, *v;
    size_t fl, vl;
    while (n--) {
        hash_random(it, &f, &fl, &v, &vl);
        rand_pair(x, f, fl, v, vl, vals);
    }
}

static void rand_all(cmd_call *x, const item *it, int vals)
{
    const char *f, *v;
    size_t fl, vl;
    hash_iter i;
    hash_iter_init(&i, it);
    while (hash_next(&i, &f, &fl, &v, &vl)) rand_pair(x, f, fl, v, vl, vals);
}

/* count distinct random pairs of a hash bigger than count: each pair is
 * taken with the probability that leaves the right number to pick from
 * the rest (selection sampling), so one pass, no bookkeeping. */
static void rand_distinct(cmd_call *x, const item *it, size_t count, int vals)
{
    size_t left = hash_len(it), need = count;
    const char *f, *v;
    size_t fl, vl;
    hash_iter i;
    hash_iter_init(&i, it);
    while (need && hash_next(&i, &f, &fl, &v, &vl)) {
        if (util_rand64() % left < need) {
            rand_pair(x, f, fl, v, vl, vals);
            need--;
        }
        left--;
    }
}

static const coll_sampler hash_sampler = {KIND_HASH, "withvalues", hash_len, rand_one,
                                          rand_repeat, rand_all, rand_distinct};

static void cmd_hrandfield(cmd_call *x) { coll_randmember(x, &hash_sampler); }

/* ---- HSCAN ---- */

static void scan_pair(coll_scan_out *o, const char *f, size_t fl, const char *v, size_t vl)
{
    if (coll_scan_take(o, f, fl)) resp_bulk(o->x->out, v, vl);
}

static void scan_entry(const char *e, void *opaque)
{
    size_t fl, vl;
    const char *f = fentry_key(e, &fl), *v = fentry_val(e, &vl);
    scan_pair(opaque, f, fl, v, vl);
}

static void scan_all(const item *it, coll_scan_out *o)
{
    const char *f, *v;
    size_t fl, vl;
    hash_iter i;
    hash_iter_init(&i, it);
    while (hash_next(&i, &f, &fl, &v, &vl)) scan_pair(o, f, fl, v, vl);
}

static uint64_t scan_step(const item *it, uint64_t cursor, coll_scan_out *o)
{
    return hash_scan(it, cursor, scan_entry, o);
}

static const coll_scanner hash_scanner = {KIND_HASH, 2, hash_is_packed, scan_all, scan_step};

static void cmd_hscan(cmd_call *x) { coll_scan_run(x, &hash_scanner); }

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define H CAT_HASH

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"hset", cmd_hset, -4, W | M | F, H, KEY1("RW update"), "hash", "2.0.0",
     "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the "
     "command is called with multiple field/value pairs.", NULL, NULL},
    {"hsetnx", cmd_hsetnx, 4, W | M | F, H, KEY1("RW insert"), "hash", "2.0.0", "O(1)", NULL,
     NULL},
    {"hget", cmd_hget, 3, R | F, H, KEY1("RO access"), "hash", "2.0.0", "O(1)", NULL, NULL},
    {"hmget", cmd_hmget, -3, R | F, H, KEY1("RO access"), "hash", "2.0.0",
     "O(N) where N is the number of fields being requested.", NULL, NULL},
    {"hmset", cmd_hmset, -4, W | M | F, H, KEY1("RW update"), "hash", "2.0.0",
     "O(N) where N is the number of fields being set.", NULL, NULL},
    {"hdel", cmd_hdel, -3, W | F, H, KEY1("RW delete"), "hash", "2.0.0",
     "O(N) where N is the number of fields to be removed.", NULL, NULL},
    {"hexists", cmd_hexists, 3, R | F, H, KEY1("RO"), "hash", "2.0.0", "O(1)", NULL, NULL},
    {"hlen", cmd_hlen, 2, R | F, H, KEY1("RO"), "hash", "2.0.0", "O(1)", NULL, NULL},
    {"hstrlen", cmd_hstrlen, 3, R | F, H, KEY1("RO"), "hash", "3.2.0", "O(1)", NULL, NULL},
    {"hkeys", cmd_hkeys, 2, R, H, KEY1("RO access"), "hash", "2.0.0",
     "O(N) where N is the size of the hash.", "nondeterministic_output_order", NULL},
    {"hvals", cmd_hvals, 2, R, H, KEY1("RO access"), "hash", "2.0.0",
     "O(N) where N is the size of the hash.", "nondeterministic_output_order", NULL},
    {"hgetall", cmd_hgetall, 2, R, H, KEY1("RO access"), "hash", "2.0.0",
     "O(N) where N is the size of the hash.", "nondeterministic_output_order", NULL},
    {"hincrby", cmd_hincrby, 4, W | M | F, H, KEY1("RW access update"), "hash", "2.0.0",
     "O(1)", NULL, NULL},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, W | M | F, H, KEY1("RW access update"), "hash",
     "2.6.0", "O(1)", NULL, NULL},
    {"hrandfield", cmd_hrandfield, -2, R, H, KEY1("RO access"), "hash", "6.2.0",
     "O(N) where N is the number of fields returned", "nondeterministic_output", NULL},
    {"hscan", cmd_hscan, -3, R, H, KEY1("RO access"), "hash", "2.8.0",
     "O(1) for every call. O(N) for a complete iteration, including enough command calls "
     "for the cursor to return back to 0. N is the number of elements inside the "
     "collection..", "nondeterministic_output", NULL},
};

const cmd_family cmd_family_hashes = CMD_FAMILY(rows);
