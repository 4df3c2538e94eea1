/* zset.c - the sorted-set kind. See zset.h. */
#include "types/zset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bgfree.h"
#include "lib/util.h"
#include "types/coll.h"
#include "types/types.h"

struct zset_big {
    fdict *d;    /* member -> score (8 bytes, as stored in memory); a snapshot's
                  * frozen view may hold it a while after the set is gone */
    zbtree t;    /* the order, of pointers to d's entries */
};

#define BIG_HEADER (sizeof(zset_big) + 16)   /* with malloc's overhead */

static zset_big *big_of(const item *it)
{
    zset_big *z;
    memcpy(&z, item_cval(it) + 1, sizeof z);
    return z;
}

int zset_is_packed(const item *it) { return item_encoding(it) == ZSET_PACKED; }

static size_t big_mem(const zset_big *z) { return fdict_mem(z->d) + zbt_mem(&z->t) + BIG_HEADER; }

/* Big sorted sets are freed by the background thread (bgfree.h). */
#define BG_FREE_BYTES (64 * 1024)

static void on_moved(void *ctx, const char *from, const char *to)
{
    zset_big *z = ctx;
    zbt_moved(&z->t, from, to);
}

static zset_big *big_new(void)
{
    zset_big *z = malloc(sizeof *z);
    if (!z) return NULL;
    if (!(z->d = fdict_new())) {
        free(z);
        return NULL;
    }
    z->d->moved = on_moved;
    z->d->moved_ctx = z;
    zbt_init(&z->t);
    return z;
}

static void big_free(void *p)
{
    zset_big *z = p;
    zbt_free(&z->t);
    z->d->moved = NULL;   /* a view may outlive the tree */
    fdict_put(z->d);
    free(z);
}

static void big_destroy(zset_big *z)
{
    if (big_mem(z) >= BG_FREE_BYTES) bgfree_submit(big_free, z);
    else big_free(z);
}

/* Add m (absent) with score s: 0, or -1 when memory ran out. */
static int big_add(zset_big *z, const char *m, size_t ml, double s)
{
    const char *e;
    if (zbt_reserve(&z->t) < 0) return -1;
    e = fdict_add(z->d, m, ml, (const char *)&s, sizeof s);
    if (!e) return -1;
    zbt_insert(&z->t, e);
    return 0;
}

static double entry_score(const char *e)
{
    size_t vl;
    double s;
    memcpy(&s, fentry_val(e, &vl), sizeof s);
    return s;
}

static void big_del_entry(zset_big *z, const char *e)
{
    zbt_delete(&z->t, e);
    fdict_del_entry(z->d, e);   /* may move entries: the tree follows */
}

/* ---- packed entries ---- */

/* The entry at p: its member, its score, and the bytes it takes. */
static size_t entry_get(const char *p, const char **m, size_t *ml, double *s)
{
    size_t a;
    *m = pack_str_get(p, ml, &a);
    return a + pack_score_get(p + a, s);
}

static size_t entry_size(const char *p)
{
    const char *m;
    size_t ml;
    double s;
    return entry_get(p, &m, &ml, &s);
}

/* The entry with member m among [p, end): its offset from p (or -1), its
 * size and its score. */
static long entry_find(const char *p, const char *end, const char *m, size_t ml, size_t *size,
                       double *s)
{
    for (const char *q = p; q < end;) {
        const char *k;
        size_t kl, n = entry_get(q, &k, &kl, s);
        if (kl == ml && memcmp(k, m, ml) == 0) {
            *size = n;
            return (long)(q - p);
        }
        q += n;
    }
    return -1;
}

static void packed_range(const item *it, const char **p, const char **end, uint64_t *n)
{
    const char *pl = item_cval(it) + 1;
    size_t len = item_payload_len(it);
    pack_header(pl, pl + len, n, p);
    *end = pl + len;
}

static size_t entry_put(char *p, const char *m, size_t ml, double s)
{
    size_t a = pack_str_put(p, m, ml);
    return a + pack_score_put(p + a, s);
}

/* ---- reading ---- */

size_t zset_len(const item *it)
{
    uint64_t n;
    const char *p, *end;
    if (!zset_is_packed(it)) return fdict_count(big_of(it)->d);
    packed_range(it, &p, &end, &n);
    return (size_t)n;
}

int zset_score(const item *it, const char *m, size_t ml, double *score)
{
    if (!zset_is_packed(it)) {
        const char *e = fdict_find(big_of(it)->d, m, ml);
        if (!e) return 0;
        *score = entry_score(e);
        return 1;
    }
    uint64_t n;
    const char *p, *end;
    size_t size;
    packed_range(it, &p, &end, &n);
    return entry_find(p, end, m, ml, &size, score) >= 0;
}

int zset_rank(const item *it, const char *m, size_t ml, size_t *rank)
{
    if (!zset_is_packed(it)) {
        zset_big *z = big_of(it);
        const char *e = fdict_find(z->d, m, ml);
        zbt_key k;
        if (!e) return 0;
        zbt_entry_key(e, &k);
        *rank = zbt_rank(&z->t, &k);
        return 1;
    }
    uint64_t n;
    const char *p, *end;
    size_t r = 0;
    packed_range(it, &p, &end, &n);
    for (const char *q = p; q < end; r++) {
        const char *k;
        size_t kl;
        double s;
        q += entry_get(q, &k, &kl, &s);
        if (kl == ml && memcmp(k, m, ml) == 0) {
            *rank = r;
            return 1;
        }
    }
    return 0;
}

typedef struct below_ctx {
    zset_below_fn *fn;
    const void *ctx;
} below_ctx;

static int below_entry(const char *e, const void *opaque)
{
    const below_ctx *b = opaque;
    zbt_key k;
    zbt_entry_key(e, &k);
    return b->fn(&k, b->ctx);
}

size_t zset_count_below(const item *it, zset_below_fn *below, const void *ctx)
{
    if (!zset_is_packed(it)) {
        below_ctx b = {below, ctx};
        return zbt_count_below(&big_of(it)->t, below_entry, &b);
    }
    uint64_t n;
    const char *p, *end;
    size_t r = 0;
    packed_range(it, &p, &end, &n);
    for (const char *q = p; q < end; r++) {
        zbt_key k;
        q += entry_get(q, &k.m, &k.ml, &k.score);
        if (!below(&k, ctx)) break;
    }
    return r;
}

void zset_iter_init(zset_iter *i, const item *it, size_t rank, int dir, int indexed)
{
    memset(i, 0, sizeof *i);
    i->dir = dir;
    if (!zset_is_packed(it)) {
        i->tree = 1;
        i->t = &big_of(it)->t;
        zbt_seek(&i->bt, i->t, rank);
        return;
    }
    uint64_t n;
    packed_range(it, &i->base, &i->end, &n);
    i->n = (size_t)n;
    if (dir < 0 || indexed) {
        i->at = n <= 64 ? i->at_small : malloc(sizeof(*i->at) * (size_t)n);
        if (i->at) {
            const char *q = i->base;
            for (size_t k = 0; k < n; k++) {
                i->at[k] = q;
                q += entry_size(q);
            }
        }
    }
    zset_iter_seek(i, rank);
}

void zset_iter_seek(zset_iter *i, size_t rank)
{
    if (i->tree) {
        zbt_seek(&i->bt, i->t, rank);
        return;
    }
    i->pos = rank;
    if (!i->at && i->dir > 0) {   /* upwards: walk there from the start */
        const char *q = i->base;
        while (rank-- && q < i->end) q += entry_size(q);
        i->p = q;
    }
}

int zset_next(zset_iter *i, const char **m, size_t *ml, double *score)
{
    if (i->tree) {
        const char *e = zbt_step(&i->bt, i->dir);
        zbt_key k;
        if (!e) return 0;
        zbt_entry_key(e, &k);
        *m = k.m;
        *ml = k.ml;
        *score = k.score;
        return 1;
    }
    if (i->pos >= i->n) return 0;   /* past either end (downwards it wraps) */
    const char *q;
    if (i->at) {
        q = i->at[i->pos];
    } else if (i->dir > 0) {
        q = i->p;
        i->p += entry_size(q);
    } else {   /* no memory for the index: walk to it */
        q = i->base;
        for (size_t k = 0; k < i->pos; k++) q += entry_size(q);
        i->pos--;
        entry_get(q, m, ml, score);
        return 1;
    }
    i->pos += (size_t)(ptrdiff_t)i->dir;
    entry_get(q, m, ml, score);
    return 1;
}

void zset_iter_done(zset_iter *i)
{
    if (i->at && i->at != i->at_small) free(i->at);
    i->at = NULL;
}

typedef struct scan_ctx {
    void (*fn)(const char *m, size_t ml, double score, void *opaque);
    void *opaque;
} scan_ctx;

static void scan_one(const char *e, void *opaque)
{
    scan_ctx *c = opaque;
    size_t ml;
    const char *m = fentry_key(e, &ml);
    c->fn(m, ml, entry_score(e), c->opaque);
}

uint64_t zset_scan(const item *it, uint64_t cursor,
                   void (*fn)(const char *m, size_t ml, double score, void *opaque), void *opaque)
{
    scan_ctx c = {fn, opaque};
    return fdict_scan(big_of(it)->d, cursor, scan_one, &c);
}

int zset_packed_score_str(char *buf, size_t cap, double d)
{
    /* Redis keeps a score that is an integer within +-LLONG_MAX/2 as one */
    if (d >= -4611686018427387903.0 && d <= 4611686018427387903.0 && d == (double)(long long)d)
        return snprintf(buf, cap, "%lld", (long long)d);
    if (isinf(d)) return snprintf(buf, cap, d > 0 ? "inf" : "-inf");
    return snprintf(buf, cap, "%.17g", d);
}

/* ---- writing ---- */

void zset_w_open(zset_w *w, kref *r)
{
    item *it = r->it;
    memset(w, 0, sizeof *w);
    w->r = r;
    w->expire = it ? item_expire(it) : -1;
    if (it && !zset_is_packed(it)) {
        w->z = big_of(it);
        w->mem0 = big_mem(w->z);
    } else {
        pack_edit_open(&w->pk, it ? item_cval(it) + 1 : NULL, it ? item_payload_len(it) : 0);
    }
}

static int fits_packed(size_t n, size_t maxlen)
{
    return (long long)n <= types_limit(&types_lim.zset_entries) &&
           (long long)maxlen <= types_limit(&types_lim.zset_value);
}

void zset_w_open_new(zset_w *w, kref *r, size_t n, size_t maxlen)
{
    memset(w, 0, sizeof *w);
    w->r = r;
    w->expire = -1;
    if (fits_packed(n, maxlen) || !(w->z = big_new())) {
        w->z = NULL;
        pack_edit_open(&w->pk, NULL, 0);
    }
}

size_t zset_w_len(const zset_w *w) { return w->z ? fdict_count(w->z->d) : w->pk.n; }

/* Before the first change to a tree the item already holds. */
static void touch(zset_w *w)
{
    if (!w->changed && w->mem0) ks_modify(w->r);
    w->changed = 1;
}

/* Move the packed entries to a new tree. Returns -1 when memory ran out
 * (still packed). */
static int convert(zset_w *w)
{
    zset_big *z = big_new();
    if (!z) return -1;
    for (const char *p = pack_edit_begin(&w->pk), *end = pack_edit_end(&w->pk); p < end;) {
        const char *m;
        size_t ml;
        double s;
        p += entry_get(p, &m, &ml, &s);
        if (big_add(z, m, ml, s) < 0) {
            big_destroy(z);
            return -1;
        }
    }
    pack_edit_close(&w->pk);
    w->z = z;
    w->mem0 = 0;   /* the item holds none of it yet */
    return 0;
}

int zset_w_score(zset_w *w, const char *m, size_t ml, double *score)
{
    size_t size;
    if (w->z) {
        const char *e = fdict_find(w->z->d, m, ml);
        w->seen = e;
        w->seen_m = m;
        w->seen_ml = ml;
        if (!e) return 0;
        *score = entry_score(e);
        return 1;
    }
    return entry_find(pack_edit_begin(&w->pk), pack_edit_end(&w->pk), m, ml, &size, score) >= 0;
}

/* Where (m, s) goes among the packed entries: the offset of the first
 * entry after it. */
static size_t packed_insert_at(zset_w *w, const char *m, size_t ml, double s)
{
    zbt_key k = {s, m, ml};
    const char *b = pack_edit_begin(&w->pk), *end = pack_edit_end(&w->pk), *q = b;
    while (q < end) {
        zbt_key e;
        size_t n = entry_get(q, &e.m, &e.ml, &e.score);
        if (zbt_keycmp(&e, &k) > 0) break;
        q += n;
    }
    return (size_t)(q - b);
}

static void packed_insert(zset_w *w, const char *m, size_t ml, double s)
{
    if (s == 0) s = 0;   /* -0 becomes 0, as in Redis's listpack */
    size_t at = packed_insert_at(w, m, ml, s);
    char *p = pack_edit_splice(&w->pk, at, 0, pack_str_size(ml) + pack_score_size(s));
    entry_put(p, m, ml, s);
    w->pk.n++;
    w->changed = 1;
}

int zset_w_set(zset_w *w, const char *m, size_t ml, double s)
{
    if (!w->z) {
        double cur;
        size_t size;
        long off = entry_find(pack_edit_begin(&w->pk), pack_edit_end(&w->pk), m, ml, &size, &cur);
        if (off >= 0) {
            if (cur == s) return 0;
            pack_edit_splice(&w->pk, (size_t)off, size, 0);
            w->pk.n--;
            packed_insert(w, m, ml, s);
            return 0;
        }
        if (fits_packed(w->pk.n + 1, ml)) {
            packed_insert(w, m, ml, s);
            return 1;
        }
        if (convert(w) < 0) return -1;
    }
    zset_big *z = w->z;
    /* right after zset_w_score of the same member, nothing has moved */
    const char *e = w->seen_m == m && w->seen_ml == ml ? w->seen : fdict_find(z->d, m, ml);
    w->seen_m = NULL;
    if (e) {
        size_t vl;
        if (entry_score(e) == s) return 0;
        if (zbt_reserve(&z->t) < 0) return -1;
        touch(w);
        zbt_delete(&z->t, e);
        if (!fdict_frozen(z->d)) {
            memcpy(fentry_val_mut(e, &vl), &s, sizeof s);
        } else {   /* a snapshot's view still reads the old entry: a new one */
            int added;
            const char *n = fdict_set(z->d, m, ml, (const char *)&s, sizeof s, &added);
            if (!n) {
                zbt_insert(&z->t, e);
                return -1;
            }
            e = n;
        }
        zbt_insert(&z->t, e);
        return 0;
    }
    if (zbt_reserve(&z->t) < 0) return -1;
    touch(w);
    return big_add(z, m, ml, s) < 0 ? -1 : 1;
}

int zset_w_append(zset_w *w, const char *m, size_t ml, double s)
{
    if (w->z) {
        touch(w);
        return big_add(w->z, m, ml, s);
    }
    if (s == 0) s = 0;
    char *p = pack_edit_splice(&w->pk, pack_edit_bytes(&w->pk), 0,
                               pack_str_size(ml) + pack_score_size(s));
    entry_put(p, m, ml, s);
    w->pk.n++;
    w->changed = 1;
    return 0;
}

int zset_w_del(zset_w *w, const char *m, size_t ml)
{
    if (!w->z) {
        double s;
        size_t size;
        long off = entry_find(pack_edit_begin(&w->pk), pack_edit_end(&w->pk), m, ml, &size, &s);
        if (off < 0) return 0;
        pack_edit_splice(&w->pk, (size_t)off, size, 0);
        w->pk.n--;
        w->changed = 1;
        return 1;
    }
    const char *e = fdict_find(w->z->d, m, ml);
    if (!e) return 0;
    touch(w);
    big_del_entry(w->z, e);
    return 1;
}

/* The offset of the packed entry at a rank. */
static size_t packed_offset(zset_w *w, size_t rank)
{
    const char *b = pack_edit_begin(&w->pk), *q = b;
    while (rank--) q += entry_size(q);
    return (size_t)(q - b);
}

void zset_w_at(zset_w *w, size_t rank, const char **m, size_t *ml, double *score)
{
    if (w->z) {
        zbt_key k;
        zbt_entry_key(zbt_at(&w->z->t, rank), &k);
        *m = k.m;
        *ml = k.ml;
        *score = k.score;
        return;
    }
    entry_get(pack_edit_begin(&w->pk) + packed_offset(w, rank), m, ml, score);
}

void zset_w_del_range(zset_w *w, size_t start, size_t n)
{
    if (!n) return;
    if (!w->z) {
        size_t a = packed_offset(w, start), b = a;
        const char *base = pack_edit_begin(&w->pk);
        for (size_t k = 0; k < n; k++) b += entry_size(base + b);
        pack_edit_splice(&w->pk, a, b - a, 0);
        w->pk.n -= n;
        w->changed = 1;
        return;
    }
    touch(w);
    while (n--) big_del_entry(w->z, zbt_at(&w->z->t, start));
}

static void destroy_big(void *z) { big_destroy(z); }

int zset_w_close(zset_w *w, int64_t now)
{
    if (!w->z) {
        const char *p = NULL;
        size_t n = 0;
        if (w->changed && w->pk.n) p = pack_edit_payload(&w->pk, &n);
        coll_close_packed(w->r, KIND_ZSET, ZSET_PACKED, w->changed, w->pk.n, p, n, w->expire, now);
        pack_edit_close(&w->pk);
        return w->changed;
    }
    return coll_close_big(w->r, KIND_ZSET, ZSET_TREE, w->z, fdict_count(w->z->d), big_mem(w->z),
                          w->mem0, w->changed, w->expire, now, destroy_big);
}

/* ---- sets as inputs ---- */

static const zset_set_reader *set_reader;

void zset_set_reader_register(const zset_set_reader *r) { set_reader = r; }
const zset_set_reader *zset_set_reader_get(void) { return set_reader; }

/* ---- the kind's operations ---- */

static const char *zset_encoding(const item *it)
{
    return zset_is_packed(it) ? "listpack" : "skiplist";
}

static size_t zset_outside(const item *it) { return zset_is_packed(it) ? 0 : big_mem(big_of(it)); }

static void zset_release(item *it)
{
    if (!zset_is_packed(it)) big_destroy(big_of(it));
}

static int zset_copy(item *dst, const item *src)
{
    if (zset_is_packed(src)) return 0;
    zset_big *from = big_of(src), *z = big_new();
    zbt_iter i;
    const char *e;
    if (!z) return -1;
    zbt_seek(&i, &from->t, 0);
    while ((e = zbt_step(&i, 1))) {
        zbt_key k;
        zbt_entry_key(e, &k);
        if (big_add(z, k.m, k.ml, k.score) < 0) {
            big_destroy(z);
            return -1;
        }
    }
    memcpy(item_payload(dst), &z, sizeof z);
    return 0;
}

/* Persisted as the packed encoding (in order), whatever the encoding in
 * memory; a tree's -0 stays -0 there. */
static void zset_serialize(const item *it, buf *out)
{
    char hdr[1 + VARINT_MAX];
    hdr[0] = (char)(KIND_ZSET << 4 | ZSET_PACKED);
    if (zset_is_packed(it)) {
        buf_append(out, hdr, 1);
        buf_append(out, item_cval(it) + 1, item_payload_len(it));
        return;
    }
    zset_big *z = big_of(it);
    zbt_iter i;
    const char *e;
    buf_append(out, hdr, 1 + varint_put(hdr + 1, fdict_count(z->d)));
    zbt_seek(&i, &z->t, 0);
    while ((e = zbt_step(&i, 1))) {
        zbt_key k;
        zbt_entry_key(e, &k);
        buf_reserve(out, pack_str_size(k.ml) + 9);
        out->len += entry_put(out->data + out->len, k.m, k.ml, k.score);
    }
}

/* A frozen view of a big sorted set is its dict's (member -> score); the
 * order is not kept, the snapshot thread sorts the entries as it writes
 * them (no lock held). */
static void *zset_view(const item *it)
{
    if (zset_is_packed(it)) return NULL;
    return fdict_freeze(big_of(it)->d);   /* NULL (out of memory): serialized under the lock */
}

static int entry_order(const void *a, const void *b)
{
    zbt_key ka, kb;
    zbt_entry_key(*(const char *const *)a, &ka);
    zbt_entry_key(*(const char *const *)b, &kb);
    return zbt_keycmp(&ka, &kb);
}

static void zset_view_serialize(void *view, buf *out)
{
    fdict_view *v = view;
    const char **es = xmalloc((v->count ? v->count : 1) * sizeof *es);
    size_t n = 0;
    char hdr[1 + VARINT_MAX];
    for (size_t i = 0; i < v->nslots; i++) {
        const char *e = fdict_view_at(v, i);
        if (e) es[n++] = e;
    }
    qsort(es, n, sizeof *es, entry_order);
    hdr[0] = (char)(KIND_ZSET << 4 | ZSET_PACKED);
    buf_append(out, hdr, 1 + varint_put(hdr + 1, n));
    for (size_t i = 0; i < n; i++) {
        zbt_key k;
        zbt_entry_key(es[i], &k);
        buf_reserve(out, pack_str_size(k.ml) + 9);
        out->len += entry_put(out->data + out->len, k.m, k.ml, k.score);
    }
    free(es);
}

static void zset_view_release(void *view) { fdict_view_release(view); }

/* Check persisted entries: the count, well-formed members and scores (no
 * NaN), strictly in order, no member twice, nothing after. Sets *maxlen
 * to the longest member. */
static int check_packed(const char *p, const char *end, uint64_t *count, size_t *maxlen)
{
    const char *q;
    uint64_t n = 0;
    zbt_key prev = {0, NULL, 0};
    fdict seen;
    int rc = 0;
    *maxlen = 0;
    if (pack_header(p, end, count, &q) < 0 || *count == 0) return -1;
    fdict_init(&seen);
    while (q < end && rc == 0) {
        zbt_key k;
        size_t a = pack_str_check(q, end), b;
        if (!a) {
            rc = -1;
            break;
        }
        b = pack_score_check(q + a, end);
        if (!b) {
            rc = -1;
            break;
        }
        entry_get(q, &k.m, &k.ml, &k.score);
        if (isnan(k.score) || (n && zbt_keycmp(&prev, &k) >= 0)) rc = -1;
        else if (fdict_find(&seen, k.m, k.ml)) rc = -1;
        else if (!fdict_add(&seen, k.m, k.ml, NULL, 0)) rc = -1;
        if (k.ml > *maxlen) *maxlen = k.ml;
        prev = k;
        q += a + b;
        n++;
    }
    fdict_free(&seen);
    return rc == 0 && n == *count ? 0 : -1;
}

static item *zset_restore(kref *r, const char *p, size_t n, int64_t expire)
{
    uint64_t count, c;
    size_t maxlen;
    const char *q = NULL, *end = p + n;
    if (n < 1 || ((unsigned char)p[0] & 15u) != ZSET_PACKED ||
        check_packed(p + 1, end, &count, &maxlen) < 0)
        return NULL;
    pack_header(p + 1, end, &c, &q);
    if (fits_packed((size_t)count, maxlen)) {
        /* as stored, but a -0 becomes 0 (and so can take fewer bytes) */
        buf b = {0};
        char hdr[VARINT_MAX];
        buf_append(&b, hdr, varint_put(hdr, count));
        for (const char *s = q; s < end;) {
            const char *m;
            size_t ml;
            double d;
            s += entry_get(s, &m, &ml, &d);
            if (d == 0) d = 0;
            buf_reserve(&b, pack_str_size(ml) + 9);
            b.len += entry_put(b.data + b.len, m, ml, d);
        }
        item *it = ks_new(r, NULL, 1 + b.len, expire);
        item_set_kind(it, KIND_ZSET, ZSET_PACKED, b.len);
        memcpy(item_payload(it), b.data, b.len);
        buf_free(&b);
        return it;
    }
    zset_big *z = big_new();
    if (!z) abort();   /* out of memory: as xmalloc */
    for (const char *s = q; s < end;) {
        const char *m;
        size_t ml;
        double d;
        s += entry_get(s, &m, &ml, &d);
        if (big_add(z, m, ml, d) < 0) abort();
    }
    item *it = ks_new(r, NULL, 1 + sizeof z, expire);
    item_set_kind(it, KIND_ZSET, ZSET_TREE, sizeof z);
    memcpy(item_payload(it), &z, sizeof z);
    ks_charge(r, (long long)big_mem(z));
    return it;
}

const kind_ops zset_kind_ops = {
    .name = "zset",
    .encoding = zset_encoding,
    .outside = zset_outside,
    .release = zset_release,
    .copy = zset_copy,
    .serialize = zset_serialize,
    .restore = zset_restore,
    .view = zset_view,
    .view_fill = fdict_view_fill,
    .view_serialize = zset_view_serialize,
    .view_release = zset_view_release,
};
