/* hash.c - the hash kind. See hash.h. */
#include "types/hash.h"

#include <stdlib.h>
#include <string.h>

#include "lib/bgfree.h"
#include "lib/util.h"
#include "types/coll.h"
#include "types/types.h"

#define DICT_HEADER (sizeof(fdict) + 16)   /* the fdict itself, with malloc's overhead */

/* Big dicts are freed by the background thread (bgfree.h): freeing a
 * million fields would stall the worker. */
#define BG_FREE_BYTES (64 * 1024)

static fdict *dict_of(const item *it)
{
    fdict *d;
    memcpy(&d, item_cval(it) + 1, sizeof d);
    return d;
}

int hash_is_packed(const item *it) { return item_encoding(it) == HASH_PACKED; }

/* ---- packed entries ---- */

/* Walk to the pair at p: its field, its value and the bytes it takes. */
static size_t pair_get(const char *p, const char **f, size_t *fl, const char **v, size_t *vl)
{
    size_t a, b;
    *f = pack_str_get(p, fl, &a);
    *v = pack_str_get(p + a, vl, &b);
    return a + b;
}

/* The pair with field f among the packed entries [p, end): its offset
 * from p (or -1), its size and its value. */
static long pair_find(const char *p, const char *end, const char *f, size_t fl, size_t *size,
                      const char **v, size_t *vl)
{
    for (const char *q = p; q < end;) {
        const char *k;
        size_t kl, n = pair_get(q, &k, &kl, v, vl);
        if (kl == fl && memcmp(k, f, fl) == 0) {
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

size_t hash_len(const item *it)
{
    uint64_t n;
    const char *p, *end;
    if (!hash_is_packed(it)) return fdict_count(dict_of(it));
    packed_range(it, &p, &end, &n);
    return (size_t)n;
}

int hash_get(const item *it, const char *f, size_t fl, const char **v, size_t *vl)
{
    if (!hash_is_packed(it)) {
        const char *e = fdict_find(dict_of(it), f, fl);
        if (!e) return 0;
        *v = fentry_val(e, vl);
        return 1;
    }
    uint64_t n;
    const char *p, *end;
    size_t size;
    packed_range(it, &p, &end, &n);
    return pair_find(p, end, f, fl, &size, v, vl) >= 0;
}

void hash_iter_init(hash_iter *i, const item *it)
{
    memset(i, 0, sizeof *i);
    if (hash_is_packed(it)) {
        uint64_t n;
        packed_range(it, &i->p, &i->end, &n);
    } else {
        i->d = dict_of(it);
        i->span = fdict_span(i->d);
    }
}

int hash_next(hash_iter *i, const char **f, size_t *fl, const char **v, size_t *vl)
{
    if (!i->d) {
        if (i->p >= i->end) return 0;
        i->p += pair_get(i->p, f, fl, v, vl);
        return 1;
    }
    while (i->pos < i->span) {
        const char *e = fdict_at(i->d, i->pos++);
        if (!e) continue;
        *f = fentry_key(e, fl);
        *v = fentry_val(e, vl);
        return 1;
    }
    return 0;
}

void hash_random(const item *it, const char **f, size_t *fl, const char **v, size_t *vl)
{
    if (!hash_is_packed(it)) {
        const char *e = fdict_random(dict_of(it));
        *f = fentry_key(e, fl);
        *v = fentry_val(e, vl);
        return;
    }
    uint64_t n;
    const char *p, *end;
    packed_range(it, &p, &end, &n);
    for (uint64_t k = util_rand64() % n; k; k--) p += pair_get(p, f, fl, v, vl);
    pair_get(p, f, fl, v, vl);
}

uint64_t hash_scan(const item *it, uint64_t cursor, void (*fn)(const char *e, void *opaque),
                   void *opaque)
{
    return fdict_scan(dict_of(it), cursor, fn, opaque);
}

/* ---- writing ---- */

void hash_w_open(hash_w *w, kref *r)
{
    item *it = r->it;
    memset(w, 0, sizeof *w);
    w->r = r;
    w->expire = it ? item_expire(it) : -1;
    if (it && !hash_is_packed(it)) {
        w->d = dict_of(it);
        w->mem0 = fdict_mem(w->d) + DICT_HEADER;
    } else {
        pack_edit_open(&w->pk, it ? item_cval(it) + 1 : NULL, it ? item_payload_len(it) : 0);
    }
}

/* Move the packed pairs to a new dict. Returns -1 when memory ran out
 * (still packed). */
static int convert(hash_w *w)
{
    fdict *d = fdict_new();
    if (!d) return -1;
    for (const char *p = pack_edit_begin(&w->pk), *end = pack_edit_end(&w->pk); p < end;) {
        const char *f, *v;
        size_t fl, vl;
        p += pair_get(p, &f, &fl, &v, &vl);
        if (!fdict_add(d, f, fl, v, vl)) {
            fdict_put(d);
            return -1;
        }
    }
    pack_edit_close(&w->pk);
    w->d = d;
    w->mem0 = 0;   /* the item holds none of it yet */
    return 0;
}

/* Before the first change to a dict the item already holds. */
static void touch(hash_w *w)
{
    if (!w->changed && w->mem0) ks_modify(w->r);
    w->changed = 1;
}

size_t hash_w_len(const hash_w *w) { return w->d ? fdict_count(w->d) : w->pk.n; }

int hash_w_get(hash_w *w, const char *f, size_t fl, const char **v, size_t *vl)
{
    size_t size;
    if (w->d) {
        const char *e = fdict_find(w->d, f, fl);
        if (!e) return 0;
        *v = fentry_val(e, vl);
        return 1;
    }
    return pair_find(pack_edit_begin(&w->pk), pack_edit_end(&w->pk), f, fl, &size, v, vl) >= 0;
}

int hash_w_set(hash_w *w, const char *f, size_t fl, const char *v, size_t vl, int nx)
{
    if (!w->d) {
        long long maxv = types_limit(&types_lim.hash_value);
        const char *ov;
        size_t size, ovl;
        long off = pair_find(pack_edit_begin(&w->pk), pack_edit_end(&w->pk), f, fl, &size,
                             &ov, &ovl);
        if (off >= 0 && nx) return 0;
        int fits = (long long)fl <= maxv && (long long)vl <= maxv &&
                   (off >= 0 || (long long)w->pk.n + 1 <= types_limit(&types_lim.hash_entries));
        if (fits) {
            char *p;
            w->changed = 1;
            if (off >= 0) {   /* replace the value, keeping the field */
                size_t vat = (size_t)(ov - pack_edit_begin(&w->pk)) - varint_len(ovl);
                p = pack_edit_splice(&w->pk, vat, pack_str_size(ovl), pack_str_size(vl));
                pack_str_put(p, v, vl);
                return 0;
            }
            p = pack_edit_splice(&w->pk, pack_edit_bytes(&w->pk), 0,
                                 pack_str_size(fl) + pack_str_size(vl));
            p += pack_str_put(p, f, fl);
            pack_str_put(p, v, vl);
            w->pk.n++;
            return 1;
        }
        if (convert(w) < 0) return -1;
    }
    int added;
    if (nx && fdict_find(w->d, f, fl)) return 0;
    touch(w);
    if (!fdict_set(w->d, f, fl, v, vl, &added)) return -1;
    return added;
}

int hash_w_del(hash_w *w, const char *f, size_t fl)
{
    if (!w->d) {
        const char *v;
        size_t size, vl;
        long off = pair_find(pack_edit_begin(&w->pk), pack_edit_end(&w->pk), f, fl, &size, &v,
                             &vl);
        if (off < 0) return 0;
        pack_edit_splice(&w->pk, (size_t)off, size, 0);
        w->pk.n--;
        w->changed = 1;
        return 1;
    }
    const char *e = fdict_find(w->d, f, fl);
    if (!e) return 0;
    touch(w);
    fdict_del_entry(w->d, e);
    return 1;
}

static void put_dict(void *d) { fdict_put(d); }

static void dict_destroy(fdict *d)
{
    if (fdict_mem(d) >= BG_FREE_BYTES) bgfree_submit(put_dict, d);
    else fdict_put(d);
}

static void destroy_dict(void *d) { dict_destroy(d); }

int hash_w_close(hash_w *w, int64_t now)
{
    if (!w->d) {
        const char *p = NULL;
        size_t n = 0;
        if (w->changed && w->pk.n) p = pack_edit_payload(&w->pk, &n);
        coll_close_packed(w->r, KIND_HASH, HASH_PACKED, w->changed, w->pk.n, p, n, w->expire, now);
        pack_edit_close(&w->pk);
        return w->changed;
    }
    return coll_close_big(w->r, KIND_HASH, HASH_DICT, w->d, fdict_count(w->d),
                          fdict_mem(w->d) + DICT_HEADER, w->mem0, w->changed, w->expire, now,
                          destroy_dict);
}

/* ---- the kind's operations ---- */

static const char *hash_encoding(const item *it)
{
    return hash_is_packed(it) ? "listpack" : "hashtable";
}

static size_t hash_outside(const item *it)
{
    return hash_is_packed(it) ? 0 : fdict_mem(dict_of(it)) + DICT_HEADER;
}

static void hash_release(item *it)
{
    if (!hash_is_packed(it)) dict_destroy(dict_of(it));
}

static int hash_copy(item *dst, const item *src)
{
    if (hash_is_packed(src)) return 0;
    fdict *from = dict_of(src), *d = fdict_new();
    if (!d) return -1;
    for (size_t i = 0, span = fdict_span(from); i < span; i++) {
        const char *e = fdict_at(from, i), *f, *v;
        size_t fl, vl;
        if (!e) continue;
        f = fentry_key(e, &fl);
        v = fentry_val(e, &vl);
        if (!fdict_add(d, f, fl, v, vl)) {
            fdict_put(d);
            return -1;
        }
    }
    memcpy(item_payload(dst), &d, sizeof d);
    return 0;
}

static void put_pair(buf *out, const char *e)
{
    size_t fl, vl;
    const char *f = fentry_key(e, &fl), *v = fentry_val(e, &vl);
    char *o;
    buf_reserve(out, pack_str_size(fl) + pack_str_size(vl));
    o = out->data + out->len;
    o += pack_str_put(o, f, fl);
    o += pack_str_put(o, v, vl);
    out->len = (size_t)(o - out->data);
}

static void put_header(buf *out, size_t count)
{
    char hdr[1 + VARINT_MAX];
    hdr[0] = (char)(KIND_HASH << 4 | HASH_PACKED);
    buf_append(out, hdr, 1 + varint_put(hdr + 1, count));
}

/* Persisted as the packed encoding, whatever the encoding in memory. */
static void hash_serialize(const item *it, buf *out)
{
    if (hash_is_packed(it)) {
        buf_append(out, item_cval(it), 1);
        buf_append(out, item_cval(it) + 1, item_payload_len(it));
        return;
    }
    fdict *d = dict_of(it);
    put_header(out, fdict_count(d));
    for (size_t i = 0, span = fdict_span(d); i < span; i++) {
        const char *e = fdict_at(d, i);
        if (e) put_pair(out, e);
    }
}

static void *hash_view(const item *it)
{
    if (hash_is_packed(it)) return NULL;
    return fdict_freeze(dict_of(it));   /* NULL (out of memory): serialized under the lock */
}

static void hash_view_serialize(void *view, buf *out)
{
    fdict_view *v = view;
    put_header(out, v->count);
    for (size_t i = 0; i < v->nslots; i++) {
        const char *e = fdict_view_at(v, i);
        if (e) put_pair(out, e);
    }
}

static void hash_view_release(void *view) { fdict_view_release(view); }

/* Check persisted pairs: count and well-formed strings, no field twice
 * (RESTORE takes them from a client), nothing after. */
static int check_packed(const char *p, const char *end, uint64_t *count)
{
    const char *q;
    uint64_t n = 0;
    fdict seen;
    int rc = 0;
    if (pack_header(p, end, count, &q) < 0) return -1;
    fdict_init(&seen);
    while (q < end && rc == 0) {
        size_t a = pack_str_check(q, end), b, fl;
        if (!a || !(b = pack_str_check(q + a, end))) {
            rc = -1;
            break;
        }
        const char *f = pack_str_get(q, &fl, &a);
        if (fdict_find(&seen, f, fl) || !fdict_add(&seen, f, fl, NULL, 0)) rc = -1;
        q += a + b;
        n++;
    }
    fdict_free(&seen);
    return rc == 0 && n == *count && n > 0 ? 0 : -1;
}

static item *hash_restore(kref *r, const char *p, size_t n, int64_t expire)
{
    uint64_t count;
    if (n < 1 || ((unsigned char)p[0] & 15u) != HASH_PACKED ||
        check_packed(p + 1, p + n, &count) < 0)
        return NULL;
    /* the same rule as writes: packed while small enough */
    int fits = (long long)count <= types_limit(&types_lim.hash_entries);
    long long maxv = types_limit(&types_lim.hash_value);
    const char *q = NULL, *end = p + n;
    uint64_t c;
    pack_header(p + 1, end, &c, &q);
    for (const char *s = q; fits && s < end;) {
        const char *f, *v;
        size_t fl, vl;
        s += pair_get(s, &f, &fl, &v, &vl);
        fits = (long long)fl <= maxv && (long long)vl <= maxv;
    }
    if (fits) {
        item *it = ks_new(r, NULL, n, expire);
        item_set_kind(it, KIND_HASH, HASH_PACKED, n - 1);
        memcpy(item_payload(it), p + 1, n - 1);
        return it;
    }
    fdict *d = fdict_new();
    if (!d) return NULL;
    for (const char *s = q; s < end;) {
        const char *f, *v;
        size_t fl, vl;
        int added;
        s += pair_get(s, &f, &fl, &v, &vl);
        if (!fdict_set(d, f, fl, v, vl, &added)) {
            fdict_put(d);
            return NULL;
        }
    }
    item *it = ks_new(r, NULL, 1 + sizeof d, expire);
    item_set_kind(it, KIND_HASH, HASH_DICT, sizeof d);
    memcpy(item_payload(it), &d, sizeof d);
    ks_charge(r, (long long)(fdict_mem(d) + DICT_HEADER));
    return it;
}

const kind_ops hash_kind_ops = {
    .name = "hash",
    .encoding = hash_encoding,
    .outside = hash_outside,
    .release = hash_release,
    .copy = hash_copy,
    .serialize = hash_serialize,
    .restore = hash_restore,
    .view = hash_view,
    .view_fill = fdict_view_fill,
    .view_serialize = hash_view_serialize,
    .view_release = hash_view_release,
};
