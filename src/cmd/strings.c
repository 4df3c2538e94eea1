/* cmd_string.c - the string commands, with Redis 7.0's semantics and error
 * texts. Values are byte strings; numbers are parsed from them on demand. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "lib/lcs.h"
#include "store/segment.h"

enum {
    SET_NX = 1 << 0, SET_XX = 1 << 1, SET_GET = 1 << 2, SET_KEEPTTL = 1 << 3,
    SET_EX = 1 << 4, SET_PX = 1 << 5, SET_EXAT = 1 << 6, SET_PXAT = 1 << 7,
    SET_PERSIST = 1 << 8,
};
#define SET_EXPIRES (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* Parse SET (is_set) or GETEX options from argv[j]; mirrors Redis's
 * parseExtendedStringArgumentsOrReply, including which combinations clash. */
static int parse_options(cmd_call *x, int j, int is_set, unsigned *flags, int *exp_i)
{
    for (; j < x->argc; j++) {
        unsigned f = *flags;
        int next = j + 1 < x->argc;
        if (arg_is(x, j, "nx") && !(f & SET_XX) && is_set) {
            *flags |= SET_NX;
        } else if (arg_is(x, j, "xx") && !(f & SET_NX) && is_set) {
            *flags |= SET_XX;
        } else if (arg_is(x, j, "get") && is_set) {
            *flags |= SET_GET;
        } else if (arg_is(x, j, "keepttl") && !(f & (SET_PERSIST | SET_EXPIRES)) && is_set) {
            *flags |= SET_KEEPTTL;
        } else if (arg_is(x, j, "persist") && !is_set && !(f & (SET_EXPIRES | SET_KEEPTTL))) {
            *flags |= SET_PERSIST;
        } else if (arg_is(x, j, "ex") && next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EXAT | SET_PX | SET_PXAT))) {
            *flags |= SET_EX;
            *exp_i = ++j;
        } else if (arg_is(x, j, "px") && next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PXAT))) {
            *flags |= SET_PX;
            *exp_i = ++j;
        } else if (arg_is(x, j, "exat") && next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_PX | SET_PXAT))) {
            *flags |= SET_EXAT;
            *exp_i = ++j;
        } else if (arg_is(x, j, "pxat") && next &&
                   !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PX))) {
            *flags |= SET_PXAT;
            *exp_i = ++j;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    return 0;
}

/* The absolute expiry in ms that argv[i] asks for under flags. */
static int expire_arg(cmd_call *x, int i, unsigned flags, int64_t *out)
{
    long long v;
    int secs = (flags & (SET_EX | SET_EXAT)) != 0;
    if (arg_ll(x, i, &v) < 0) return -1;
    if (v <= 0 || (secs && v > LLONG_MAX / 1000)) {
        reply_bad_expire(x);
        return -1;
    }
    if (secs) v *= 1000;
    if ((flags & (SET_EX | SET_PX)) && __builtin_add_overflow(v, cmd_clock(x), &v)) v = -1;
    if (v <= 0) {
        reply_bad_expire(x);
        return -1;
    }
    *out = v;
    return 0;
}

static void reply_item(cmd_call *x, item *it)
{
    if (it) reply_value(x, it);
    else reply_null(x);
}

/* SET's events, off the hot path. */
static __attribute__((noinline, cold)) void notify_set(cmd_call *x, int expire)
{
    notify_key(x, CFG_NOTIFY_STRING, "set", 1);
    if (expire) notify_key(x, CFG_NOTIFY_GENERIC, "expire", 1);
}

/* SET and its variants. ok/abort: the replies for success and for an NX/XX
 * condition that failed (NULL: nil). */
static void set_generic(cmd_call *x, unsigned flags, int exp_i, int val_i, int setnx_replies)
{
    int64_t when = -1;
    const karg *v = &x->argv[val_i];
    kref r;
    item *old;
    if (exp_i && expire_arg(x, exp_i, flags, &when) < 0) return;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    old = (flags & SET_GET) ? ks_read(&r, x->now) : ks_find(&r, x->now);
    if ((flags & SET_GET) && old && item_typed(old)) {   /* SET ... GET reads it first */
        ks_unlock(&r);
        reply_wrongtype(x);
        return;
    }
    if (flags & SET_GET) reply_item(x, old);
    if (((flags & SET_NX) && old) || ((flags & SET_XX) && !old)) {
        ks_unlock(&r);
        if (flags & SET_GET) return;
        if (setnx_replies) resp_int(x->out, 0);
        else reply_null(x);
        return;
    }
    if ((flags & SET_KEEPTTL) && old) when = item_expire(old);
    ks_set(&r, v->p, v->n, when);
    ks_unlock(&r);
    if (__builtin_expect(notify_wants(CFG_NOTIFY_STRING | CFG_NOTIFY_GENERIC) != 0, 0))
        notify_set(x, exp_i);
    if (flags & SET_GET) return;
    if (setnx_replies) resp_int(x->out, 1);
    else reply_ok(x);
}

static void cmd_set(cmd_call *x)
{
    unsigned flags = 0;
    int exp_i = 0;
    if (parse_options(x, 3, 1, &flags, &exp_i) < 0) return;
    set_generic(x, flags, exp_i, 2, 0);
}

static void cmd_setnx(cmd_call *x) { set_generic(x, SET_NX, 0, 2, 1); }
static void cmd_setex(cmd_call *x) { set_generic(x, SET_EX, 2, 3, 0); }
static void cmd_psetex(cmd_call *x) { set_generic(x, SET_PX, 2, 3, 0); }

static void cmd_get(cmd_call *x)
{
    kref r;
    int bad;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    item *it = coll_read(x, &r, KIND_STRING, &bad);
    if (!bad) reply_item(x, it);
    ks_unlock(&r);
}

static void cmd_getset(cmd_call *x)
{
    kref r;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    item *it = coll_read(x, &r, KIND_STRING, &bad);
    if (!bad) {
        reply_item(x, it);
        ks_set(&r, x->argv[2].p, x->argv[2].n, -1);
    }
    ks_unlock(&r);
    if (!bad) notify_key(x, CFG_NOTIFY_STRING, "set", 1);
}

static void cmd_getdel(cmd_call *x)
{
    kref r;
    item *it;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_read(x, &r, KIND_STRING, &bad);
    if (!bad) {
        reply_item(x, it);
        if (it) ks_delete(&r, x->now);
    }
    ks_unlock(&r);
    if (!bad && it) notify_key(x, CFG_NOTIFY_GENERIC, "del", 1);
}

static void cmd_getex(cmd_call *x)
{
    unsigned flags = 0;
    int exp_i = 0;
    int64_t when = -1;
    kref r;
    item *it;
    if (parse_options(x, 2, 0, &flags, &exp_i) < 0) return;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_read(x, &r, KIND_STRING, &bad);
    if (!it) {
        ks_unlock(&r);
        if (!bad) reply_null(x);
        return;
    }
    if (exp_i && expire_arg(x, exp_i, flags, &when) < 0) {
        ks_unlock(&r);
        return;
    }
    reply_item(x, it);
    if ((flags & (SET_EXAT | SET_PXAT)) && when <= cmd_clock(x)) {
        ks_delete(&r, x->now);
        notify_key(x, CFG_NOTIFY_GENERIC, "del", 1);
    } else if (exp_i) {
        ks_set_expire(&r, when);
        notify_key(x, CFG_NOTIFY_GENERIC, "expire", 1);
    } else if ((flags & SET_PERSIST) && item_has_ttl(it)) {
        ks_set_expire(&r, -1);
        notify_key(x, CFG_NOTIFY_GENERIC, "persist", 1);
    }
    ks_unlock(&r);
}

/* Redis's checkStringLength: would offset+append pass proto-max-bulk-len? */
static int too_long(cmd_call *x, long long size, long long append)
{
    long long total = (long long)((unsigned long long)size + (unsigned long long)append);
    if (total > cfg_ll(&x->env->cfg->proto_max_bulk_len) || total < size || total < append) {
        reply_err(x, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return 1;
    }
    return 0;
}

static void cmd_append(cmd_call *x)
{
    const karg *v = &x->argv[2];
    kref r;
    item *it;
    size_t total;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_write(x, &r, KIND_STRING, &bad);
    if (bad) {
        ks_unlock(&r);
        return;
    }
    if (!it) {
        ks_store(&r, ks_new(&r, v->p, v->n, -1));
        total = v->n;
    } else {
        size_t old = item_vlen(it);
        if (too_long(x, (long long)old, (long long)v->n)) {
            ks_unlock(&r);
            return;
        }
        ks_splice(&r, old + v->n, old, v->p, v->n);
        total = old + v->n;
    }
    ks_unlock(&r);
    notify_key(x, CFG_NOTIFY_STRING, "append", 1);
    resp_int(x->out, (long long)total);
}

static void cmd_strlen(cmd_call *x)
{
    kref r;
    item *it;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_read(x, &r, KIND_STRING, &bad);
    if (!bad) resp_int(x->out, it ? (long long)item_vlen(it) : 0);
    ks_unlock(&r);
}

static void cmd_getrange(cmd_call *x)
{
    long long start, end, len;
    kref r;
    item *it;
    if (arg_ll(x, 2, &start) < 0 || arg_ll(x, 3, &end) < 0) return;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_read(x, &r, KIND_STRING, &bad);
    if (!it) {
        ks_unlock(&r);
        if (!bad) resp_bulk(x->out, "", 0);
        return;
    }
    len = (long long)item_vlen(it);
    if (start < 0 && end < 0 && start > end) {
        resp_bulk(x->out, "", 0);
    } else {
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= len) end = len - 1;
        if (start > end || len == 0) resp_bulk(x->out, "", 0);
        else resp_bulk(x->out, item_cval(it) + start, (size_t)(end - start + 1));
    }
    ks_unlock(&r);
}

static void cmd_setrange(cmd_call *x)
{
    long long offset;
    const karg *v = &x->argv[3];
    kref r;
    item *it;
    size_t len;
    if (arg_ll(x, 2, &offset) < 0) return;
    if (offset < 0) {
        reply_err(x, "ERR offset is out of range");
        return;
    }
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_write(x, &r, KIND_STRING, &bad);
    if (bad) {
        ks_unlock(&r);
        return;
    }
    len = it ? item_vlen(it) : 0;
    if (v->n == 0) {
        ks_unlock(&r);
        resp_int(x->out, (long long)len);
        return;
    }
    if (too_long(x, offset, (long long)v->n)) {
        ks_unlock(&r);
        return;
    }
    if (!it) {
        it = ks_new(&r, NULL, (size_t)offset + v->n, -1);
        memset(item_val(it), 0, (size_t)offset);
        memcpy(item_val(it) + offset, v->p, v->n);
        ks_store(&r, it);
    } else {
        size_t need = (size_t)offset + v->n;
        it = ks_splice(&r, need > len ? need : len, (size_t)offset, v->p, v->n);
    }
    len = item_vlen(it);
    ks_unlock(&r);
    notify_key(x, CFG_NOTIFY_STRING, "setrange", 1);
    resp_int(x->out, (long long)len);
}

/* Store the text of a number as the key's new value, keeping its TTL. */
static void store_number(kref *r, item *old, const char *text, size_t n)
{
    if (old) {
        ks_splice(r, n, 0, text, n);
    } else {
        ks_store(r, ks_new(r, text, n, -1));
    }
}

static void incr_by(cmd_call *x, long long incr)
{
    long long v = 0;
    char tmp[24];
    kref r;
    item *it;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_write(x, &r, KIND_STRING, &bad);
    if (bad) {
        ks_unlock(&r);
        return;
    }
    if (it && util_str2ll(item_cval(it), item_vlen(it), &v) < 0) {
        ks_unlock(&r);
        reply_not_int(x);
        return;
    }
    if ((incr < 0 && v < 0 && incr < LLONG_MIN - v) || (incr > 0 && v > 0 && incr > LLONG_MAX - v)) {
        ks_unlock(&r);
        reply_err(x, "ERR increment or decrement would overflow");
        return;
    }
    v += incr;
    store_number(&r, it, tmp, (size_t)util_ll2str(tmp, v));
    ks_unlock(&r);
    notify_key(x, CFG_NOTIFY_STRING, "incrby", 1);
    resp_int(x->out, v);
}

static void cmd_incr(cmd_call *x) { incr_by(x, 1); }
static void cmd_decr(cmd_call *x) { incr_by(x, -1); }

static void cmd_incrby(cmd_call *x)
{
    long long incr;
    if (arg_ll(x, 2, &incr) == 0) incr_by(x, incr);
}

static void cmd_decrby(cmd_call *x)
{
    long long incr;
    if (arg_ll(x, 2, &incr) < 0) return;
    if (incr == LLONG_MIN) {
        reply_err(x, "ERR decrement would overflow");
        return;
    }
    incr_by(x, -incr);
}

static void cmd_incrbyfloat(cmd_call *x)
{
    long double v = 0, incr;
    char tmp[UTIL_LD_MAXCHARS];
    int n;
    kref r;
    item *it;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    int bad;
    it = coll_write(x, &r, KIND_STRING, &bad);
    if (bad) {
        ks_unlock(&r);
        return;
    }
    if ((it && util_str2ld(item_cval(it), item_vlen(it), &v) < 0) ||
        util_str2ld(x->argv[2].p, x->argv[2].n, &incr) < 0) {
        ks_unlock(&r);
        reply_not_float(x);
        return;
    }
    v += incr;
    if (isnan(v) || isinf(v)) {
        ks_unlock(&r);
        reply_err(x, "ERR increment would produce NaN or Infinity");
        return;
    }
    n = util_ld2str(tmp, sizeof tmp, v);
    store_number(&r, it, tmp, (size_t)n);
    ks_unlock(&r);
    notify_key(x, CFG_NOTIFY_STRING, "incrbyfloat", 1);
    resp_bulk(x->out, tmp, (size_t)n);
}

static void cmd_mget(cmd_call *x)
{
    int n = x->argc - 1;
    ks_lockset ls;
    kref *refs = arg_lock_keys(x, 1, 1, &ls);
    resp_array(x->out, n);
    for (int k = 0; k < n; k++) {
        item *it = ks_read(&refs[k], x->now);
        reply_item(x, it && !item_typed(it) ? it : NULL);   /* other kinds read as nil */
    }
    ks_lockset_unlock(&ls);
    free(refs);
}

static void mset_generic(cmd_call *x, int nx)
{
    int n = (x->argc - 1) / 2, blocked = 0;
    kref *refs;
    ks_lockset ls;
    if (x->argc % 2 == 0) {
        reply_arity(x);
        return;
    }
    refs = arg_lock_keys(x, 1, 2, &ls);
    if (nx) {
        for (int k = 0; k < n && !blocked; k++) blocked = ks_find(&refs[k], x->now) != NULL;
    }
    if (!blocked) {
        for (int k = 0; k < n; k++) {
            const karg *v = &x->argv[2 + 2 * k];
            refs[k].gen = (uint64_t)-1;   /* earlier stores may have moved entries */
            ks_set(&refs[k], v->p, v->n, -1);
            notify_key(x, CFG_NOTIFY_STRING, "set", 1 + 2 * k);
        }
    }
    ks_lockset_unlock(&ls);
    free(refs);
    if (nx) resp_int(x->out, !blocked);
    else reply_ok(x);
}

static void cmd_mset(cmd_call *x) { mset_generic(x, 0); }
static void cmd_msetnx(cmd_call *x) { mset_generic(x, 1); }

/* A copy of a key's value (empty when missing). */
static char *copy_value(const item *it, size_t *len)
{
    *len = it ? item_vlen(it) : 0;
    return it ? xmemdup(item_cval(it), *len) : xmalloc(1);
}

static void cmd_lcs(cmd_call *x)
{
    long long minlen = 0;
    int getlen = 0, getidx = 0, withlen = 0;
    kref refs[2];
    ks_lockset ls;
    char *a, *b;
    size_t alen, blen;
    lcs t;

    /* the keys are looked at before the options, as Redis does */
    ks_lockset_init(&ls);
    arg_ref(x, 1, &refs[0]);
    arg_ref(x, 2, &refs[1]);
    ks_lockset_add(&ls, &refs[0]);
    ks_lockset_add(&ls, &refs[1]);
    ks_lockset_lock(&ls);
    {
        item *ia = ks_read(&refs[0], x->now);
        refs[1].gen = (uint64_t)-1;
        item *ib = ks_read(&refs[1], x->now);
        if ((ia && item_typed(ia)) || (ib && item_typed(ib))) {
            ks_lockset_unlock(&ls);
            reply_err(x, "ERR The specified keys must contain string values");
            return;
        }
        /* finding ib (maybe dropping it, expired) never moves ia */
        a = copy_value(ia, &alen);
        b = copy_value(ib, &blen);
    }
    ks_lockset_unlock(&ls);

    for (int j = 3; j < x->argc; j++) {
        int more = x->argc - 1 - j;
        if (arg_is(x, j, "idx")) getidx = 1;
        else if (arg_is(x, j, "len")) getlen = 1;
        else if (arg_is(x, j, "withmatchlen")) withlen = 1;
        else if (arg_is(x, j, "minmatchlen") && more) {
            if (arg_ll(x, j + 1, &minlen) < 0) goto out;
            if (minlen < 0) minlen = 0;
            j++;
        } else {
            reply_syntax(x);
            goto out;
        }
    }

    if (getidx && getlen) {
        reply_err(x, "ERR If you want both the length and indexes, please just use IDX.");
        goto out;
    }
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        reply_err(x, "ERR String too long for LCS");
        goto out;
    }
    if ((unsigned long long)(alen + 1) * (blen + 1) * sizeof(uint32_t) >
        (unsigned long long)cfg_ll(&x->env->cfg->proto_max_bulk_len)) {
        reply_err(x, "ERR Insufficient memory, transient memory for LCS exceeds "
                     "proto-max-bulk-len");
        goto out;
    }
    if (lcs_init(&t, a, alen, b, blen) < 0) {
        reply_err(x, "ERR Insufficient memory, failed allocating transient memory for LCS");
        goto out;
    }
    {
        uint32_t idx = lcs_len(&t), nranges = 0;
        char *result = NULL;
        int compute = getidx || !getlen;
        size_t token = 0;
        uint32_t as = (uint32_t)alen, ae = 0, bs = 0, be = 0;   /* as == alen: no range */
        size_t i = alen, j = blen;
        if (compute) result = xmalloc(idx ? idx : 1);
        if (getidx) {
            reply_map(x, 2);
            resp_bulk_cstr(x->out, "matches");
            token = resp_array_defer(x->out);
        }
        while (compute && i > 0 && j > 0) {
            int emit = 0;
            if (a[i - 1] == b[j - 1]) {
                result[idx - 1] = a[i - 1];
                if (as == alen) {
                    as = ae = (uint32_t)i - 1;
                    bs = be = (uint32_t)j - 1;
                } else if (as == i && bs == j) {
                    as--;
                    bs--;
                } else {
                    emit = 1;
                }
                if (as == 0 || bs == 0) emit = 1;
                idx--; i--; j--;
            } else {
                if (lcs_at(&t, i - 1, j) > lcs_at(&t, i, j - 1)) i--;
                else j--;
                if (as != alen) emit = 1;
            }
            if (emit) {
                uint32_t mlen = ae - as + 1;
                if ((minlen == 0 || mlen >= minlen) && getidx) {
                    resp_array(x->out, 2 + withlen);
                    resp_array(x->out, 2);
                    resp_int(x->out, as);
                    resp_int(x->out, ae);
                    resp_array(x->out, 2);
                    resp_int(x->out, bs);
                    resp_int(x->out, be);
                    if (withlen) resp_int(x->out, mlen);
                    nranges++;
                }
                as = (uint32_t)alen;
            }
        }
        if (getidx) {
            resp_array_fill(x->out, token, nranges);
            resp_bulk_cstr(x->out, "len");
            resp_int(x->out, lcs_len(&t));
        } else if (getlen) {
            resp_int(x->out, idx);
        } else {
            resp_bulk(x->out, result, lcs_len(&t));
        }
        free(result);
    }
    lcs_free(&t);
out:
    free(a);
    free(b);
}

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define STR CAT_STRING

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"get", cmd_get, 2, R | F, STR, KEY1("RO access"), "string", "1.0.0", "O(1)", NULL, NULL},
    {"set", cmd_set, -3, W | M, STR, KEY1("RW access update variable_flags"), "string", "1.0.0",
     "O(1)", NULL, NULL},
    {"setnx", cmd_setnx, 3, W | M | F, STR, KEY1("OW insert"), "string", "1.0.0", "O(1)", NULL,
     NULL},
    {"setex", cmd_setex, 4, W | M, STR, KEY1("OW update"), "string", "2.0.0", "O(1)", NULL, NULL},
    {"psetex", cmd_psetex, 4, W | M, STR, KEY1("OW update"), "string", "2.6.0", "O(1)", NULL,
     NULL},
    {"getset", cmd_getset, 3, W | M | F, STR, KEY1("RW access update"), "string", "1.0.0", "O(1)",
     NULL, NULL},
    {"getdel", cmd_getdel, 2, W | F, STR, KEY1("RW access delete"), "string", "6.2.0", "O(1)",
     NULL, NULL},
    {"getex", cmd_getex, -2, W | F, STR, KEY1("RW access update"), "string", "6.2.0", "O(1)",
     NULL, NULL},
    {"append", cmd_append, 3, W | M | F, STR, KEY1("RW insert"), "string", "2.0.0", "O(1)", NULL,
     NULL},
    {"strlen", cmd_strlen, 2, R | F, STR, KEY1("RO"), "string", "2.2.0", "O(1)", NULL, NULL},
    {"getrange", cmd_getrange, 4, R, STR, KEY1("RO access"), "string", "2.4.0", "O(N)", NULL,
     NULL},
    {"substr", cmd_getrange, 4, R, STR, KEY1("RO access"), "string", "1.0.0", "O(N)", NULL, NULL},
    {"setrange", cmd_setrange, 4, W | M, STR, KEY1("RW update"), "string", "2.2.0", "O(1)", NULL,
     NULL},
    {"incr", cmd_incr, 2, W | M | F, STR, KEY1("RW access update"), "string", "1.0.0", "O(1)",
     NULL, NULL},
    {"decr", cmd_decr, 2, W | M | F, STR, KEY1("RW access update"), "string", "1.0.0", "O(1)",
     NULL, NULL},
    {"incrby", cmd_incrby, 3, W | M | F, STR, KEY1("RW access update"), "string", "1.0.0", "O(1)",
     NULL, NULL},
    {"decrby", cmd_decrby, 3, W | M | F, STR, KEY1("RW access update"), "string", "1.0.0", "O(1)",
     NULL, NULL},
    {"incrbyfloat", cmd_incrbyfloat, 3, W | M | F, STR, KEY1("RW access update"), "string",
     "2.6.0", "O(1)", NULL, NULL},
    {"mget", cmd_mget, -2, R | F, STR, KEYN("RO access"), "string", "1.0.0", "O(N)",
     "request_policy:multi_shard", NULL},
    {"mset", cmd_mset, -3, W | M, STR, KEYN2("OW update"), "string", "1.0.1", "O(N)",
     "request_policy:multi_shard response_policy:all_succeeded", NULL},
    {"msetnx", cmd_msetnx, -3, W | M, STR, KEYN2("OW insert"), "string", "1.0.1", "O(N)",
     "request_policy:multi_shard response_policy:agg_min", NULL},
    {"lcs", cmd_lcs, -3, R, STR, {KSPEC(1, 1, 1, "RO access")}, "string", "7.0.0",
     "O(N*M)", NULL, NULL},
};

const cmd_family cmd_family_strings = CMD_FAMILY(rows);
