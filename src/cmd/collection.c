/* collection.c - see collection.h. */
#include "cmd/collection.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

item *coll_lock_read(cmd_call *x, int i, kref *r, unsigned kind, int *bad)
{
    arg_ref(x, i, r);
    ks_lock(r);
    return coll_read(x, r, kind, bad);
}

item *coll_lock_write(cmd_call *x, int i, kref *r, unsigned kind, int *bad)
{
    arg_ref(x, i, r);
    ks_lock(r);
    return coll_write(x, r, kind, bad);
}

int coll_scan_cursor(cmd_call *x, uint64_t *cursor)
{
    /* as Redis's strtoul over the argument: its bytes up to a NUL, no
     * leading space, nothing after the digits ("" is 0, "-1" wraps) */
    const karg *a = &x->argv[2];
    const char *nul = memchr(a->p, '\0', a->n);
    size_t n = nul ? (size_t)(nul - a->p) : a->n;
    char tmp[64], *s = n < sizeof tmp ? tmp : xmalloc(n + 1), *end;
    int bad;
    memcpy(s, a->p, n);
    s[n] = '\0';
    errno = 0;
    *cursor = strtoull(s, &end, 10);
    bad = s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r') || *end != '\0' || errno == ERANGE;
    if (s != tmp) free(s);
    if (!bad) return 0;
    reply_err(x, "ERR invalid cursor");
    return -1;
}

int coll_scan_opts(cmd_call *x, coll_scan *sc)
{
    long long count = 10;
    sc->pat = NULL;
    sc->plen = 0;
    for (int i = 3; i < x->argc;) {
        int left = x->argc - i;
        if (arg_is(x, i, "count") && left >= 2) {
            if (arg_ll(x, i + 1, &count) < 0) return -1;
            if (count < 1) {
                reply_syntax(x);
                return -1;
            }
            i += 2;
        } else if (arg_is(x, i, "match") && left >= 2) {
            sc->pat = x->argv[i + 1].p;
            sc->plen = x->argv[i + 1].n;
            /* "*" matches everything: skip the matching */
            if (sc->plen == 1 && sc->pat[0] == '*') sc->pat = NULL;
            i += 2;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    sc->count = count > 100000 ? 100000 : (long)count;
    return 0;
}

void coll_scan_reply(cmd_call *x, uint64_t cursor, long long n)
{
    char tmp[32];
    resp_array(x->out, 2);
    resp_bulk(x->out, tmp, (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)cursor));
    resp_array(x->out, n);
}

int coll_d2str(char *buf, size_t cap, double d)
{
    if (isnan(d)) return snprintf(buf, cap, "nan");
    if (isinf(d)) return snprintf(buf, cap, d > 0 ? "inf" : "-inf");
    if (d == 0) return snprintf(buf, cap, 1 / d < 0 ? "-0" : "0");
    if (d > -4503599627370495.0 && d < 4503599627370496.0 && d == (double)(long long)d)
        return snprintf(buf, cap, "%lld", (long long)d);
    return snprintf(buf, cap, "%.17g", d);
}

void reply_double(cmd_call *x, double d)
{
    char tmp[40];
    size_t n = (size_t)coll_d2str(tmp, sizeof tmp, d);
    if (call_resp3(x)) resp3_double(x->out, tmp, n);
    else resp_bulk(x->out, tmp, n);
}

/* [+-]digits[.digits] with at most 15 digits: the mantissa is exact in a
 * double and so is 10^k for k <= 15, so one division rounds correctly and
 * gives what strtod gives (Clinger's fast path), for a fraction of its
 * cost. 1 when s was such a number. */
static int fast_double(const char *s, size_t n, double *d)
{
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    uint64_t m = 0;   /* at most 18 digits: no overflow */
    size_t i = 0, frac = 0, digits;
    int neg = 0;
    if (n > 18 || n == 0) return 0;
    if (s[0] == '-' || s[0] == '+') neg = s[i++] == '-';
    size_t start = i;
    for (; i < n && (unsigned char)(s[i] - '0') < 10; i++) m = m * 10 + (uint64_t)(s[i] - '0');
    digits = i - start;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        for (; i < n && (unsigned char)(s[i] - '0') < 10; i++) m = m * 10 + (uint64_t)(s[i] - '0');
        frac = i - f;
        digits += frac;
    }
    if (i != n || digits == 0 || digits > 15) return 0;
    double v = (double)m;
    if (frac) v /= p10[frac];
    *d = neg ? -v : v;
    return 1;
}

int str_double(const char *s, size_t n, double *d)
{
    char tmp[128], *z = tmp, *end;
    int ok;
    if (fast_double(s, n, d)) return 0;
    if (n == 0 || s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r') || memchr(s, '\0', n)) return -1;
    if (n >= sizeof tmp) z = xmalloc(n + 1);
    memcpy(z, s, n);
    z[n] = '\0';
    errno = 0;
    *d = strtod(z, &end);
    ok = *end == '\0' && !isnan(*d) &&
         !(errno == ERANGE && (*d == HUGE_VAL || *d == -HUGE_VAL || fpclassify(*d) == FP_ZERO));
    if (z != tmp) free(z);
    return ok ? 0 : -1;
}

int arg_double(cmd_call *x, int i, double *d)
{
    if (str_double(x->argv[i].p, x->argv[i].n, d) == 0) return 0;
    reply_not_float(x);
    return -1;
}

int arg_range(cmd_call *x, int i, long long min, long long max, long long *v)
{
    if (arg_ll(x, i, v) < 0) return -1;
    if (*v < min || *v > max) {
        resp_errorf(x->out, "ERR value is out of range, value must between %lld and %lld", min, max);
        return -1;
    }
    return 0;
}

void coll_scan_run(cmd_call *x, const coll_scanner *k)
{
    coll_scan sc;
    int bad;
    kref r;
    if (coll_scan_cursor(x, &sc.cursor) < 0) return;
    item *it = coll_lock_read(x, 1, &r, k->kind, &bad);
    if (bad) goto out;
    if (!it) {
        coll_scan_reply(x, 0, 0);
        goto out;
    }
    if (coll_scan_opts(x, &sc) < 0) goto out;
    buf body = {0};
    buf *reply = x->out;
    coll_scan_out o = {x, &sc, 0, k->per, k->whole(it)};
    uint64_t next = 0;
    x->out = &body;   /* the count comes first: build the elements aside */
    if (o.whole) {
        k->all(it, &o);
    } else {
        long budget = sc.count * 10;
        next = sc.cursor;
        do {
            next = k->step(it, next, &o);
        } while (next && budget-- && o.n < sc.count * k->per);
    }
    x->out = reply;
    coll_scan_reply(x, next, o.n);
    buf_append(x->out, body.data, body.len);
    buf_free(&body);
out:
    ks_unlock(&r);
}

void coll_randmember(cmd_call *x, const coll_sampler *k)
{
    long long l = 0;
    int with = 0, bad;
    kref r;
    if (x->argc >= 3) {
        if (arg_range(x, 2, -LLONG_MAX, LLONG_MAX, &l) < 0) return;
        if (x->argc > 4 || (x->argc == 4 && !arg_is(x, 3, k->with))) {
            reply_syntax(x);
            return;
        }
        with = x->argc == 4;
        if (with && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            reply_err(x, "ERR value is out of range");
            return;
        }
    }
    item *it = coll_lock_read(x, 1, &r, k->kind, &bad);
    if (bad) goto out;
    if (x->argc < 3) {   /* one element, as a bulk string */
        if (it) k->one(x, it);
        else reply_null(x);
        goto out;
    }
    if (!it || l == 0) {
        resp_array(x->out, 0);
        goto out;
    }
    size_t size = k->len(it);
    if (l < 0 || l == 1) {   /* with repetition */
        unsigned long long n = l < 0 ? (unsigned long long)-l : 1;
        if (n > COLL_SAMPLE_MAX) {
            reply_err(x, "ERR value is out of range");
            goto out;
        }
        resp_array(x->out, (long long)(with && !call_resp3(x) ? n * 2 : n));
        k->repeat(x, it, n, with);
    } else if ((size_t)l >= size) {   /* the whole collection */
        resp_array(x->out, (long long)(with && !call_resp3(x) ? size * 2 : size));
        k->all(x, it, with);
    } else {
        resp_array(x->out, with && !call_resp3(x) ? l * 2 : l);
        k->distinct(x, it, (size_t)l, with);
    }
out:
    ks_unlock(&r);
}
