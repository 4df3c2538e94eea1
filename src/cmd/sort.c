/* sort.c - SORT and SORT_RO, as Redis 7.0 runs them.
 *
 * The elements of a list, set or sorted set are copied out, given their
 * sort keys (the element itself, or what a BY pattern names for it: a
 * string key, or a hash field after "->"), sorted, cut to LIMIT, and sent
 * (or stored as a list) with what each GET pattern names. Redis's rules
 * are kept to the letter: BY with no '*' means no sorting at all (a list or
 * sorted set keeps its order, walked from the LIMIT's start; a set stored
 * with STORE is sorted ALPHA all the same, so the result does not depend on
 * its hash order); numeric sort keys are read as strtod reads them, equal
 * ones fall back to comparing the elements' bytes; ALPHA compares bytes,
 * up to a NUL as strcoll does in the C locale unless the result is stored;
 * a missing BY key sorts first. The sort is stable, as glibc's qsort
 * (a merge sort) is for Redis: equal sort keys keep the elements' order.
 *
 * Patterns name keys that only the elements tell, so a SORT that reads
 * them locks every shard of the domain, as Redis's single thread would
 * hold everything; one that reads only its key and STORE's locks those. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "types/hash.h"
#include "types/list.h"
#include "types/set.h"
#include "types/zset.h"

typedef struct sort_opts {
    int desc, alpha, dontsort, readonly;
    long long start, count;   /* LIMIT (0, -1: everything) */
    const karg *by;           /* BY's pattern, or NULL */
    int store;                /* STORE's argument, or 0 */
    const karg **gets;        /* the GET patterns */
    int ngets;
} sort_opts;

typedef struct sort_el {
    size_t off, len;          /* the element, in the bytes buffer */
    size_t coff, clen;        /* ALPHA BY: what the pattern names */
    int has_cmp;
    double score;
} sort_el;

/* The length of p as a C string: up to its first NUL. Redis reads
 * patterns with strchr and strstr, so a NUL ends them there. */
static size_t cstr_len(const char *p, size_t n)
{
    const char *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) : n;
}

static int has_star(const karg *a) { return memchr(a->p, '*', cstr_len(a->p, a->n)) != NULL; }

static int is_hash_self(const karg *a) { return a->n >= 1 && a->p[0] == '#' && (a->n == 1 || !a->p[1]); }

/* Parse the options after the key; on an error reply and return -1. */
static int parse(cmd_call *x, sort_opts *o)
{
    o->count = -1;
    o->gets = xmalloc(sizeof *o->gets * (size_t)x->argc);
    for (int j = 2; j < x->argc; j++) {
        int left = x->argc - j - 1;
        if (arg_is(x, j, "asc")) {
            o->desc = 0;
        } else if (arg_is(x, j, "desc")) {
            o->desc = 1;
        } else if (arg_is(x, j, "alpha")) {
            o->alpha = 1;
        } else if (arg_is(x, j, "limit") && left >= 2) {
            if (arg_ll(x, j + 1, &o->start) < 0 || arg_ll(x, j + 2, &o->count) < 0) return -1;
            j += 2;
        } else if (!o->readonly && arg_is(x, j, "store") && left >= 1) {
            o->store = ++j;
        } else if (arg_is(x, j, "by") && left >= 1) {
            o->by = &x->argv[++j];
            if (!has_star(o->by)) o->dontsort = 1;   /* for good, as in Redis */
        } else if (arg_is(x, j, "get") && left >= 1) {
            o->gets[o->ngets++] = &x->argv[++j];
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    return 0;
}

/* Whether a pattern makes SORT read other keys. */
static int reads_keys(const sort_opts *o)
{
    if (o->by && !o->dontsort) return 1;
    for (int i = 0; i < o->ngets; i++)
        if (!is_hash_self(o->gets[i]) && has_star(o->gets[i])) return 1;
    return 0;
}

/* What pattern names for element e (its shards locked): e itself for "#";
 * else the key made by putting e in place of the pattern's first '*' holds
 * a string, or, when "->field" follows the '*', a hash with that field.
 * Returns 0 with *v, *vl (valid until the next lookup), or -1 for none. */
static int lookup(cmd_call *x, const karg *pat, const char *e, size_t en, buf *key,
                  const char **v, size_t *vl)
{
    if (is_hash_self(pat)) {
        *v = e;
        *vl = en;
        return 0;
    }
    size_t clen = cstr_len(pat->p, pat->n);
    const char *star = memchr(pat->p, '*', clen), *arrow = NULL;
    if (!star) return -1;
    for (const char *q = star + 1; q + 1 < pat->p + clen; q++)
        if (q[0] == '-' && q[1] == '>') {
            arrow = q;
            break;
        }
    if (arrow && arrow + 2 == pat->p + clen) arrow = NULL;   /* "->" and no field */
    const char *post_end = arrow ? arrow : pat->p + pat->n;
    key->len = key->off = 0;
    buf_append(key, pat->p, (size_t)(star - pat->p));
    buf_append(key, e, en);
    buf_append(key, star + 1, (size_t)(post_end - star - 1));
    kref r;
    ks_ref(x->ks, call_domain(x), key->data, key->len, &r);
    item *it = ks_read(&r, x->now);
    if (!it) return -1;
    if (arrow) {
        if (item_kind(it) != KIND_HASH) return -1;
        const char *f = arrow + 2;
        return hash_get(it, f, (size_t)(pat->p + pat->n - f), v, vl) ? 0 : -1;
    }
    if (item_typed(it)) return -1;
    *v = item_cval(it);
    *vl = item_vlen(it);
    return 0;
}

/* strtod's reading of a sort key, as Redis takes it: all of it (up to a
 * NUL) a number, not out of range, not NaN. */
static int score_of(const char *p, size_t n, double *d)
{
    char small[64], *s = n < sizeof small ? small : xmalloc(n + 1), *end;
    memcpy(s, p, n);
    s[n] = 0;
    errno = 0;
    *d = strtod(s, &end);
    int ok = *end == '\0' && errno != ERANGE && !isnan(*d);
    if (s != small) free(s);
    return ok ? 0 : -1;
}

typedef struct sort_ctx {
    const char *bytes;
    int desc, alpha, by, binary;
} sort_ctx;

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* ALPHA's comparison: bytes, up to a NUL unless the result is stored
 * (Redis uses strcoll then; Kasi runs in the C locale). */
static int alpha_cmp(const sort_ctx *c, const char *a, size_t al, const char *b, size_t bl)
{
    if (!c->binary) {
        al = cstr_len(a, al);
        bl = cstr_len(b, bl);
    }
    return bytes_cmp(a, al, b, bl);
}

static int el_cmp(const sort_ctx *c, const sort_el *a, const sort_el *b)
{
    const char *p = c->bytes;
    int r;
    if (!c->alpha) {
        r = a->score > b->score ? 1 : a->score < b->score ? -1
                                                          : bytes_cmp(p + a->off, a->len, p + b->off, b->len);
    } else if (c->by) {
        if (!a->has_cmp || !b->has_cmp) r = a->has_cmp - b->has_cmp;
        else r = alpha_cmp(c, p + a->coff, a->clen, p + b->coff, b->clen);
    } else {
        r = alpha_cmp(c, p + a->off, a->len, p + b->off, b->len);
    }
    return c->desc ? -r : r;
}

/* A stable merge sort of v[0..n), tmp as big. */
static void merge_sort(sort_el *v, sort_el *tmp, size_t n, const sort_ctx *c)
{
    if (n < 2) return;
    size_t h = n / 2, i = 0, j = h, k = 0;
    merge_sort(v, tmp, h, c);
    merge_sort(v + h, tmp, n - h, c);
    if (el_cmp(c, &v[h - 1], &v[h]) <= 0) return;
    while (i < h && j < n) tmp[k++] = el_cmp(c, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    memcpy(v, tmp, sizeof *v * k);
}

typedef struct sort_vec {
    sort_el *v;
    size_t n;
    buf bytes;
} sort_vec;

static void vec_add(sort_vec *sv, const char *s, size_t n)
{
    sort_el *e = &sv->v[sv->n++];
    memset(e, 0, sizeof *e);
    e->off = sv->bytes.len;
    e->len = n;
    buf_append(&sv->bytes, s, n);
}

/* Copy the elements to sort (it holds total): all of them, or (walk) just
 * the range [start, start + len) walked in order, or from the end when
 * desc. */
static void load(sort_vec *sv, const item *it, size_t total, size_t len, int walk, size_t start,
                 int desc)
{
    const char *s;
    size_t n;
    double score;
    unsigned kind = it ? item_kind(it) : KIND_LIST;
    sv->v = xmalloc(sizeof *sv->v * (len ? len : 1));
    if (!len) return;
    if (!walk) start = 0, desc = 0;
    if (kind == KIND_LIST) {
        list_iter li;
        list_iter_init(&li, it, desc ? total - start - 1 : start, desc);
        while (sv->n < len && list_next(&li, &s, &n)) vec_add(sv, s, n);
    } else if (kind == KIND_SET) {
        set_iter si;
        set_iter_init(&si, it);
        while (sv->n < len && set_next(&si, &s, &n)) vec_add(sv, s, n);
    } else {
        zset_iter zi;
        zset_iter_init(&zi, it, desc ? total - start - 1 : start, desc ? -1 : 1, 0);
        while (sv->n < len && zset_next(&zi, &s, &n, &score)) vec_add(sv, s, n);
        zset_iter_done(&zi);
    }
}

/* Give every element its sort key. Returns -1 when one is not a number
 * (numeric sort). */
static int keys_of(cmd_call *x, const sort_opts *o, sort_vec *sv, buf *key)
{
    int bad = 0;
    for (size_t j = 0; j < sv->n; j++) {
        sort_el *e = &sv->v[j];
        const char *v = sv->bytes.data + e->off;
        size_t vl = e->len;
        if (o->by && lookup(x, o->by, sv->bytes.data + e->off, e->len, key, &v, &vl) < 0) continue;
        if (o->alpha) {
            if (o->by) {
                e->has_cmp = 1;
                e->coff = sv->bytes.len;
                e->clen = vl;
                buf_append(&sv->bytes, v, vl);   /* v is not in bytes: a key's value */
            }
        } else if (score_of(v, vl, &e->score) < 0) {
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* Log a stored list as the RPUSHes that rebuild it, 512 elements each (its
 * deletion was logged by the delete). */
static void log_rpush(kref *dst, const char *p, const size_t *lens, size_t count)
{
    enum { CHUNK = 512 };
    slice a[CHUNK + 2] = {{"RPUSH", 5}, {dst->key, dst->klen}};
    for (size_t k = 0; k < count;) {
        int n = 2;
        while (k < count && n < CHUNK + 2) {
            a[n++] = (slice){p, lens[k]};
            p += lens[k++];
        }
        ks_effect(dst, n, a);
    }
}

/* STORE: the elements (or what the GETs name, "" for nothing) as a list at
 * dst, replacing what it held; none deletes it. Returns the count. */
static long long store(cmd_call *x, const sort_opts *o, sort_vec *sv, size_t from, size_t to,
                       kref *dst, buf *key)
{
    buf out = {0};
    buf_reserve(&out, 256);
    size_t *lens = xmalloc(sizeof *lens * ((to - from) * (size_t)(o->ngets ? o->ngets : 1) + 1));
    size_t count = 0;
    for (size_t j = from; j < to; j++) {
        const char *e = sv->bytes.data + sv->v[j].off, *v;
        size_t en = sv->v[j].len, vl;
        if (!o->ngets) {
            buf_append(&out, e, en);
            lens[count++] = en;
        }
        for (int g = 0; g < o->ngets; g++) {
            if (lookup(x, o->gets[g], e, en, key, &v, &vl) < 0) vl = 0;
            buf_append(&out, v, vl);
            lens[count++] = vl;
        }
    }
    dst->gen = (uint64_t)-1;   /* the lookups may have dropped expired keys */
    int existed = ks_find(dst, x->now) != NULL;
    if (existed) ks_delete(dst, x->now);
    if (count) {
        list_w w;
        notify_quiet_new(existed);   /* Redis overwrites the key */
        list_w_open(&w, dst);
        const char *p = out.data;
        for (size_t k = 0; k < count; p += lens[k++]) {
            if (list_w_push(&w, 1, p, lens[k]) < 0) {   /* what is left is the deletion */
                list_w_pop(&w, 1, list_w_len(&w));
                list_w_close(&w, x->now);
                count = (size_t)-1;
                break;
            }
        }
        if (count != (size_t)-1) {
            list_w_close(&w, x->now);
            log_rpush(dst, out.data, lens, count);
            notify_ref(x, dst, CFG_NOTIFY_LIST, "sortstore");
        }
        notify_quiet_new(0);
    } else if (existed) {
        notify_ref(x, dst, CFG_NOTIFY_GENERIC, "del");
    }
    free(lens);
    buf_free(&out);
    return (long long)count;
}

static void reply_range(cmd_call *x, const sort_opts *o, sort_vec *sv, size_t from, size_t to, buf *key)
{
    resp_array(x->out, (long long)((to - from) * (size_t)(o->ngets ? o->ngets : 1)));
    for (size_t j = from; j < to; j++) {
        const char *e = sv->bytes.data + sv->v[j].off, *v;
        size_t en = sv->v[j].len, vl;
        if (!o->ngets) resp_bulk(x->out, e, en);
        for (int g = 0; g < o->ngets; g++) {
            if (lookup(x, o->gets[g], e, en, key, &v, &vl) < 0) reply_null(x);
            else resp_bulk(x->out, v, vl);
        }
    }
}

static void sort_generic(cmd_call *x, int readonly)
{
    sort_opts o = {.readonly = readonly};
    sort_vec sv = {0};
    buf key = {0};
    ks_lockset ls;
    kref src, dst;
    buf_reserve(&sv.bytes, 256);   /* never NULL, even for empty elements */
    buf_reserve(&key, 64);
    if (parse(x, &o) < 0) goto out;
    int lookups = reads_keys(&o);
    arg_ref(x, 1, &src);
    ks_lockset_init(&ls);
    if (lookups) {
        ks_lockset_add_domain(&ls, call_domain(x));
    } else {
        ks_lockset_add(&ls, &src);
        if (o.store) {
            arg_ref(x, o.store, &dst);
            ks_lockset_add(&ls, &dst);
        }
    }
    if (lookups && o.store) arg_ref(x, o.store, &dst);
    ks_lockset_lock(&ls);

    item *it = ks_read(&src, x->now);   /* a read, STORE or not, as Redis looks it up */
    unsigned kind = it ? item_kind(it) : KIND_LIST;
    if (kind != KIND_LIST && kind != KIND_SET && kind != KIND_ZSET) {
        ks_lockset_unlock(&ls);
        reply_wrongtype(x);
        goto out;
    }
    if (o.dontsort && kind == KIND_SET && o.store) {   /* a set's order is its hash's: sort it */
        o.dontsort = 0;
        o.alpha = 1;
        o.by = NULL;
    }

    /* LIMIT, as Redis clamps it */
    long long len = !it ? 0 : kind == KIND_LIST ? (long long)list_len(it)
                            : kind == KIND_SET  ? (long long)set_len(it)
                                                : (long long)zset_len(it);
    long long start = o.start < 0 ? 0 : o.start > len ? len : o.start;
    long long count = o.count < -1 ? -1 : o.count > len ? len : o.count;
    long long end = count < 0 ? len - 1 : start + count - 1;
    if (start >= len) {
        start = len - 1;
        end = len - 2;
    }
    if (end >= len) end = len - 1;
    int walk = kind != KIND_SET && o.dontsort;
    long long want = len;
    if (walk && (start != 0 || end != len - 1)) want = end - start + 1;
    if (walk && end < start) want = 0;
    load(&sv, it, (size_t)len, (size_t)(want > 0 ? want : 0), walk, (size_t)(start > 0 ? start : 0),
         o.desc);
    if (walk) {   /* the walk took the range */
        end -= start;
        start = 0;
    }
    if (!lookups && !o.store) ks_lockset_unlock(&ls);   /* the copy is all it needs */

    int bad = 0;
    if (!o.dontsort) {
        bad = keys_of(x, &o, &sv, &key) < 0;
        sort_ctx c = {.bytes = sv.bytes.data, .desc = o.desc, .alpha = o.alpha, .by = o.by != NULL,
                      .binary = o.store != 0};
        sort_el *tmp = xmalloc(sizeof *tmp * (sv.n ? sv.n : 1));
        merge_sort(sv.v, tmp, sv.n, &c);
        free(tmp);
    }
    size_t from = (size_t)(start > 0 ? start : 0), to = end >= start ? (size_t)(end + 1) : from;
    if (bad) {
        reply_err(x, "ERR One or more scores can't be converted into double");
    } else if (o.store) {
        long long n = store(x, &o, &sv, from, to, &dst, &key);
        if (n < 0) reply_nomem(x);
        else resp_int(x->out, n);
    } else {
        reply_range(x, &o, &sv, from, to, &key);
    }
    if (lookups || o.store) ks_lockset_unlock(&ls);
out:
    free(o.gets);
    free(sv.v);
    buf_free(&sv.bytes);
    buf_free(&key);
}

static void cmd_sort(cmd_call *x) { sort_generic(x, 0); }
static void cmd_sort_ro(cmd_call *x) { sort_generic(x, 1); }

#define SORT_CATS (CAT_SET | CAT_SORTEDSET | CAT_LIST | CAT_DANGEROUS)

static const cmd_def rows[] = {
    {"sort", cmd_sort, -2, CMD_WRITE | CMD_DENYOOM, SORT_CATS,
     {KSPEC(1, 0, 1, "RO access"), KSPEC_UNKNOWN("RO access"), KSPEC_UNKNOWN("OW update")}, "generic",
     "1.0.0",
     "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of "
     "returned elements. When the elements are not sorted, complexity is O(N).",
     NULL, NULL},
    {"sort_ro", cmd_sort_ro, -2, CMD_READONLY, SORT_CATS,
     {KSPEC(1, 0, 1, "RO access"), KSPEC_UNKNOWN("RO access")}, "generic", "7.0.0",
     "O(N+M*log(M)) where N is the number of elements in the list/set to sort, and M the number of "
     "returned elements. When the elements are not sorted, complexity is O(N).",
     NULL, NULL},
};

const cmd_family cmd_family_sort = CMD_FAMILY(rows);
