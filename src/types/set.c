/* set.c - the set kind. See set.h. */
#include "types/set.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bgfree.h"
#include "lib/util.h"
#include "types/coll.h"
#include "types/types.h"

#define DICT_HEADER (sizeof(fdict) + 16)   /* the fdict itself, with malloc's overhead */

/* ---- intsets: [width] then sorted little-endian integers ---- */

static inline int64_t ints_get(const char *p, unsigned width, size_t i)
{
    if (width == 2) {
        uint16_t a;
        memcpy(&a, p + i * 2, 2);
        return (int16_t)le16toh(a);
    }
    if (width == 4) {
        uint32_t a;
        memcpy(&a, p + i * 4, 4);
        return (int32_t)le32toh(a);
    }
    uint64_t a;
    memcpy(&a, p + i * 8, 8);
    return (int64_t)le64toh(a);
}

static inline void ints_put(char *p, unsigned width, size_t i, int64_t v)
{
    if (width == 2) {
        uint16_t a = htole16((uint16_t)(int16_t)v);
        memcpy(p + i * 2, &a, 2);
    } else if (width == 4) {
        uint32_t a = htole32((uint32_t)(int32_t)v);
        memcpy(p + i * 4, &a, 4);
    } else {
        uint64_t a = htole64((uint64_t)v);
        memcpy(p + i * 8, &a, 8);
    }
}

static unsigned width_of(int64_t v)
{
    if (v >= INT16_MIN && v <= INT16_MAX) return 2;
    if (v >= INT32_MIN && v <= INT32_MAX) return 4;
    return 8;
}

/* Whether v is among the n integers at p; *pos gets where it is or would
 * go. */
static int ints_find(const char *p, unsigned width, size_t n, int64_t v, size_t *pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = ints_get(p, width, mid);
        if (m == v) {
            *pos = mid;
            return 1;
        }
        if (m < v) lo = mid + 1;
        else hi = mid;
    }
    *pos = lo;
    return 0;
}

/* The most members an intset may have now. */
static size_t ints_max(void)
{
    long long m = types_limit(&types_lim.set_ints);
    return m < SET_INTS_CAP ? (size_t)m : SET_INTS_CAP;
}

static int as_int(const char *s, size_t n, int64_t *v)
{
    long long x;
    if (n > 20 || util_str2ll(s, n, &x) < 0) return 0;
    *v = x;
    return 1;
}

/* ---- packed strings ---- */

/* Where the packed string s is among [p, end), or NULL; *size gets the
 * bytes it takes. */
static const char *packed_find(const char *p, const char *end, const char *s, size_t n,
                               size_t *size)
{
    while (p < end) {
        size_t l, sz;
        const char *m = pack_str_get(p, &l, &sz);
        if (l == n && memcmp(m, s, n) == 0) {
            *size = sz;
            return p;
        }
        p += sz;
    }
    return NULL;
}

/* ---- reading ---- */

static fdict *dict_of(const item *it)
{
    fdict *d;
    memcpy(&d, item_cval(it) + 1, sizeof d);
    return d;
}

/* The view of an inline payload (enc, payload bytes). */
static void view_inline(set_view *v, unsigned enc, const char *pl, size_t len, size_t n)
{
    v->enc = enc;
    v->d = NULL;
    v->end = pl + len;
    if (enc == SET_INTS) {
        v->width = (unsigned char)pl[0];
        v->p = pl + 1;
        v->n = (len - 1) / v->width;
    } else {
        uint64_t c = 0;
        v->width = 0;
        if (n == (size_t)-1) {
            pack_header(pl, pl + len, &c, &v->p);
            v->n = (size_t)c;
        } else {   /* entries only, count known */
            v->p = pl;
            v->n = n;
        }
    }
}

void set_view_of(set_view *v, const item *it)
{
    unsigned enc = item_encoding(it);
    if (enc == SET_DICT) {
        memset(v, 0, sizeof *v);
        v->enc = SET_DICT;
        v->d = dict_of(it);
        v->n = fdict_count(v->d);
        return;
    }
    view_inline(v, enc, item_cval(it) + 1, item_payload_len(it), (size_t)-1);
}

int set_view_has(const set_view *v, const char *s, size_t n)
{
    size_t pos;
    int64_t x;
    if (v->enc == SET_DICT) return fdict_find(v->d, s, n) != NULL;
    if (v->enc == SET_INTS) return as_int(s, n, &x) && ints_find(v->p, v->width, v->n, x, &pos);
    return packed_find(v->p, v->end, s, n, &pos) != NULL;
}

void set_iter_view(set_iter *i, const set_view *v)
{
    i->v = *v;
    i->p = v->p;
    i->pos = 0;
    i->span = v->d ? fdict_span(v->d) : 0;
}

int set_next(set_iter *i, const char **s, size_t *n)
{
    if (i->v.enc == SET_INTS) {
        if (i->p >= i->v.end) return 0;
        *n = (size_t)util_ll2str(i->num, ints_get(i->p, i->v.width, 0));
        *s = i->num;
        i->p += i->v.width;
        return 1;
    }
    if (i->v.enc == SET_PACKED) {
        size_t sz;
        if (i->p >= i->v.end) return 0;
        *s = pack_str_get(i->p, n, &sz);
        i->p += sz;
        return 1;
    }
    while (i->pos < i->span) {
        const char *e = fdict_at(i->v.d, i->pos++);
        if (e) {
            *s = fentry_key(e, n);
            return 1;
        }
    }
    return 0;
}

void set_picker_init(set_picker *pk, const item *it)
{
    set_view_of(&pk->v, it);
    if (pk->v.enc != SET_PACKED) return;
    const char *p = pk->v.p;
    for (size_t k = 0; k < pk->v.n && k < SET_PACKED_ENTRIES; k++) {
        size_t l, sz;
        pk->off[k] = (uint32_t)(p - pk->v.p);
        pack_str_get(p, &l, &sz);
        p += sz;
    }
}

void set_pick(set_picker *pk, const char **s, size_t *n)
{
    size_t sz;
    if (pk->v.enc == SET_DICT) {
        *s = fentry_key(fdict_random(pk->v.d), n);
    } else if (pk->v.enc == SET_INTS) {
        *n = (size_t)util_ll2str(pk->num, ints_get(pk->v.p, pk->v.width, util_rand64() % pk->v.n));
        *s = pk->num;
    } else {
        *s = pack_str_get(pk->v.p + pk->off[util_rand64() % pk->v.n], n, &sz);
    }
}

typedef struct scan_ctx {
    void (*fn)(const char *s, size_t n, void *opaque);
    void *opaque;
} scan_ctx;

static void scan_one(const char *e, void *opaque)
{
    scan_ctx *c = opaque;
    size_t n;
    const char *s = fentry_key(e, &n);
    c->fn(s, n, c->opaque);
}

uint64_t set_scan(const item *it, uint64_t cursor,
                  void (*fn)(const char *s, size_t n, void *opaque), void *opaque)
{
    scan_ctx c = {fn, opaque};
    return fdict_scan(dict_of(it), cursor, scan_one, &c);
}

/* ---- writing ---- */

/* Big dicts are freed by the background thread (bgfree.h). */
#define BG_FREE_BYTES (64 * 1024)

static void put_dict(void *d) { fdict_put(d); }

static void dict_destroy(fdict *d)
{
    if (fdict_mem(d) >= BG_FREE_BYTES) bgfree_submit(put_dict, d);
    else fdict_put(d);
}

/* An empty intset in a fresh scratch buffer. */
static void open_empty(set_w *w)
{
    static const char width = 2;
    pack_edit_open(&w->pk, NULL, 0);
    memcpy(pack_edit_splice(&w->pk, 0, 0, 1), &width, 1);
    w->pk.n = 0;
    w->enc = SET_INTS;
}

void set_w_open_new(set_w *w, kref *r)
{
    memset(w, 0, sizeof *w);
    w->r = r;
    w->expire = -1;
    open_empty(w);
}

void set_w_open(set_w *w, kref *r)
{
    item *it = r->it;
    memset(w, 0, sizeof *w);
    w->r = r;
    w->expire = it ? item_expire(it) : -1;
    if (!it) {
        open_empty(w);
        return;
    }
    w->enc = item_encoding(it);
    if (w->enc == SET_DICT) {
        w->d = dict_of(it);
        w->mem0 = fdict_mem(w->d) + DICT_HEADER;
    } else if (w->enc == SET_PACKED) {
        pack_edit_open(&w->pk, item_cval(it) + 1, item_payload_len(it));
    } else {   /* the intset's bytes, as they are */
        size_t len = item_payload_len(it);
        pack_edit_open(&w->pk, NULL, 0);
        memcpy(pack_edit_splice(&w->pk, 0, 0, len), item_cval(it) + 1, len);
        w->pk.n = (len - 1) / (unsigned char)item_cval(it)[1];
    }
}

void set_w_view(set_view *v, const set_w *w)
{
    if (w->d) {
        memset(v, 0, sizeof *v);
        v->enc = SET_DICT;
        v->d = w->d;
        v->n = fdict_count(w->d);
        return;
    }
    view_inline(v, w->enc, pack_edit_begin(&w->pk), pack_edit_bytes(&w->pk), w->pk.n);
}

/* Move the inline members to a packed buffer (from an intset). */
static void to_packed(set_w *w)
{
    pack_edit pk;
    set_iter i;
    set_view v;
    const char *s;
    size_t n;
    set_w_view(&v, w);
    set_iter_view(&i, &v);
    pack_edit_open(&pk, NULL, 0);
    while (set_next(&i, &s, &n)) {
        char *p = pack_edit_splice(&pk, pack_edit_bytes(&pk), 0, pack_str_size(n));
        pack_str_put(p, s, n);
        pk.n++;
    }
    pack_edit_close(&w->pk);
    w->pk = pk;
    w->enc = SET_PACKED;
}

/* Move the inline members to a new dict. Returns -1 when memory ran out
 * (unchanged). */
static int to_dict(set_w *w)
{
    fdict *d = fdict_new();
    set_iter i;
    set_view v;
    const char *s;
    size_t n;
    if (!d) return -1;
    set_w_view(&v, w);
    set_iter_view(&i, &v);
    while (set_next(&i, &s, &n))
        if (!fdict_add(d, s, n, NULL, 0)) {
            dict_destroy(d);
            return -1;
        }
    pack_edit_close(&w->pk);
    w->d = d;
    w->enc = SET_DICT;
    w->mem0 = 0;   /* the item holds none of it yet */
    return 0;
}

/* Before the first change to a dict the item already holds. */
static void touch(set_w *w)
{
    if (!w->changed && w->mem0) ks_modify(w->r);
    w->changed = 1;
}

static void ints_upgrade(set_w *w, unsigned width)
{
    char *b = pack_edit_begin(&w->pk);
    unsigned old = (unsigned char)b[0];
    size_t n = w->pk.n;
    pack_edit_splice(&w->pk, pack_edit_bytes(&w->pk), 0, n * (width - old));
    b = pack_edit_begin(&w->pk);
    /* from the last, so that no integer is overwritten before it is read */
    for (size_t i = n; i-- > 0;) ints_put(b + 1, width, i, ints_get(b + 1, old, i));
    b[0] = (char)width;
}

/* Add v, absent, to the intset. */
static void ints_add(set_w *w, int64_t v, size_t pos)
{
    unsigned width = (unsigned char)pack_edit_begin(&w->pk)[0];
    if (width_of(v) > width) {
        width = width_of(v);
        ints_upgrade(w, width);
        pos = v < 0 ? 0 : w->pk.n;   /* beyond every member */
    }
    ints_put(pack_edit_splice(&w->pk, 1 + pos * width, 0, width), width, 0, v);
    w->pk.n++;
    w->changed = 1;
}

int set_w_add(set_w *w, const char *s, size_t n)
{
    if (w->enc == SET_INTS) {
        int64_t v;
        size_t pos;
        if (as_int(s, n, &v)) {
            const char *b = pack_edit_begin(&w->pk);
            if (ints_find(b + 1, (unsigned char)b[0], w->pk.n, v, &pos)) return 0;
            if (w->pk.n + 1 <= ints_max()) {
                ints_add(w, v, pos);
                return 1;
            }
        }
        /* s is new, and the set can no longer be an intset */
        if (w->pk.n + 1 <= SET_PACKED_ENTRIES && n <= SET_PACKED_VALUE) to_packed(w);
        else if (to_dict(w) < 0) return -1;
    }
    if (w->enc == SET_PACKED) {
        size_t size;
        if (packed_find(pack_edit_begin(&w->pk), pack_edit_end(&w->pk), s, n, &size)) return 0;
        if (w->pk.n + 1 <= SET_PACKED_ENTRIES && n <= SET_PACKED_VALUE) {
            pack_str_put(pack_edit_splice(&w->pk, pack_edit_bytes(&w->pk), 0, pack_str_size(n)),
                         s, n);
            w->pk.n++;
            w->changed = 1;
            return 1;
        }
        if (to_dict(w) < 0) return -1;
    }
    if (fdict_find(w->d, s, n)) return 0;
    touch(w);
    return fdict_add(w->d, s, n, NULL, 0) ? 1 : -1;
}

int set_w_del(set_w *w, const char *s, size_t n)
{
    if (w->enc == SET_INTS) {
        const char *b = pack_edit_begin(&w->pk);
        unsigned width = (unsigned char)b[0];
        int64_t v;
        size_t pos;
        if (!as_int(s, n, &v) || !ints_find(b + 1, width, w->pk.n, v, &pos)) return 0;
        pack_edit_splice(&w->pk, 1 + pos * width, width, 0);
        w->pk.n--;
        w->changed = 1;
        return 1;
    }
    if (w->enc == SET_PACKED) {
        size_t size;
        const char *b = pack_edit_begin(&w->pk);
        const char *p = packed_find(b, pack_edit_end(&w->pk), s, n, &size);
        if (!p) return 0;
        pack_edit_splice(&w->pk, (size_t)(p - b), size, 0);
        w->pk.n--;
        w->changed = 1;
        return 1;
    }
    const char *e = fdict_find(w->d, s, n);
    if (!e) return 0;
    touch(w);
    fdict_del_entry(w->d, e);
    return 1;
}

/* The inline payload to store and its size. */
static const char *inline_payload(set_w *w, size_t *n)
{
    if (w->enc == SET_PACKED) return pack_edit_payload(&w->pk, n);
    *n = pack_edit_bytes(&w->pk);
    return pack_edit_begin(&w->pk);
}

static void destroy_dict(void *d) { dict_destroy(d); }

int set_w_close(set_w *w, int64_t now)
{
    if (!w->d) {
        const char *p = NULL;
        size_t n = 0;
        if (w->changed && w->pk.n) p = inline_payload(w, &n);
        coll_close_packed(w->r, KIND_SET, w->enc, w->changed, w->pk.n, p, n, w->expire, now);
        pack_edit_close(&w->pk);
        return w->changed;
    }
    size_t count = fdict_count(w->d);
    int changed = coll_close_big(w->r, KIND_SET, SET_DICT, w->d, count,
                                 fdict_mem(w->d) + DICT_HEADER, w->mem0, w->changed, w->expire,
                                 now, destroy_dict);
    if (!w->mem0 && (!changed || count == 0)) w->d = NULL;   /* it was destroyed */
    return changed;
}

/* A new item (not stored) holding what w built, with the expiry given. */
static item *make_item(set_w *w, int64_t expire)
{
    kref *r = w->r;
    item *it;
    if (w->d) {
        it = ks_new(r, NULL, 1 + sizeof w->d, expire);
        item_set_kind(it, KIND_SET, SET_DICT, sizeof w->d);
        memcpy(item_payload(it), &w->d, sizeof w->d);
        ks_charge(r, (long long)(fdict_mem(w->d) + DICT_HEADER));
        w->d = NULL;
        return it;
    }
    size_t n;
    const char *p = inline_payload(w, &n);
    it = ks_new(r, NULL, 1 + n, expire);
    item_set_kind(it, KIND_SET, w->enc, n);
    memcpy(item_payload(it), p, n);
    pack_edit_close(&w->pk);
    return it;
}

size_t set_w_store(set_w *w, int64_t now)
{
    kref *r = w->r;
    size_t n = set_w_len(w);
    if (n == 0) {
        set_w_discard(w);
        ks_delete(r, now);
        return 0;
    }
    ks_find(r, now);
    item *it = make_item(w, -1);
    ks_store(r, it);
    return n;
}

void set_w_discard(set_w *w)
{
    if (w->d && !w->mem0) dict_destroy(w->d);
    w->d = NULL;
    pack_edit_close(&w->pk);
}

/* ---- the kind's operations ---- */

static const char *set_encoding_name(const item *it)
{
    return item_encoding(it) == SET_INTS ? "intset" : "hashtable";
}

static size_t set_outside(const item *it)
{
    return item_encoding(it) == SET_DICT ? fdict_mem(dict_of(it)) + DICT_HEADER : 0;
}

static void set_release(item *it)
{
    if (item_encoding(it) == SET_DICT) dict_destroy(dict_of(it));
}

static int set_copy(item *dst, const item *src)
{
    if (item_encoding(src) != SET_DICT) return 0;
    fdict *from = dict_of(src), *d = fdict_new();
    if (!d) return -1;
    for (size_t i = 0, span = fdict_span(from); i < span; i++) {
        const char *e = fdict_at(from, i), *s;
        size_t n;
        if (!e) continue;
        s = fentry_key(e, &n);
        if (!fdict_add(d, s, n, NULL, 0)) {
            fdict_put(d);
            return -1;
        }
    }
    memcpy(item_payload(dst), &d, sizeof d);
    return 0;
}

/* Persisted inline, whatever the encoding in memory: a dict as packed
 * strings. */
static void set_serialize(const item *it, buf *out)
{
    char hdr[1 + VARINT_MAX];
    if (item_encoding(it) != SET_DICT) {
        buf_append(out, item_cval(it), item_vlen(it));
        return;
    }
    fdict *d = dict_of(it);
    hdr[0] = (char)(KIND_SET << 4 | SET_PACKED);
    buf_append(out, hdr, 1 + varint_put(hdr + 1, fdict_count(d)));
    for (size_t i = 0, span = fdict_span(d); i < span; i++) {
        const char *e = fdict_at(d, i), *s;
        size_t n;
        if (!e) continue;
        s = fentry_key(e, &n);
        buf_reserve(out, pack_str_size(n));
        out->len += pack_str_put(out->data + out->len, s, n);
    }
}

/* A frozen view of a big set (kind.h): its dict's. */
static void *set_kind_view(const item *it)
{
    if (item_encoding(it) != SET_DICT) return NULL;
    return fdict_freeze(dict_of(it));   /* NULL (out of memory): serialized under the lock */
}

static void set_kind_view_serialize(void *view, buf *out)
{
    fdict_view *v = view;
    char hdr[1 + VARINT_MAX];
    hdr[0] = (char)(KIND_SET << 4 | SET_PACKED);
    buf_append(out, hdr, 1 + varint_put(hdr + 1, v->count));
    for (size_t i = 0; i < v->nslots; i++) {
        const char *e = fdict_view_at(v, i), *s;
        size_t n;
        if (!e) continue;
        s = fentry_key(e, &n);
        buf_reserve(out, pack_str_size(n));
        out->len += pack_str_put(out->data + out->len, s, n);
    }
}

static void set_kind_view_release(void *view) { fdict_view_release(view); }

/* Persisted integers: a valid width, whole integers, at least one, in
 * strictly ascending order. */
static int check_ints(const char *p, size_t n)
{
    unsigned width;
    if (n < 1) return -1;
    width = (unsigned char)p[0];
    if ((width != 2 && width != 4 && width != 8) || n - 1 < width || (n - 1) % width) return -1;
    for (size_t i = 1, count = (n - 1) / width; i < count; i++)
        if (ints_get(p + 1, width, i - 1) >= ints_get(p + 1, width, i)) return -1;
    return 0;
}

/* Persisted strings: a count, that many well-formed strings, nothing
 * after (duplicates are found while they are added). */
static int check_packed(const char *p, const char *end)
{
    uint64_t count, n = 0;
    const char *q;
    if (pack_header(p, end, &count, &q) < 0) return -1;
    while (q < end) {
        size_t a = pack_str_check(q, end);
        if (!a) return -1;
        q += a;
        n++;
    }
    return n == count && n > 0 ? 0 : -1;
}

static item *set_restore(kref *r, const char *p, size_t n, int64_t expire)
{
    set_view v;
    set_iter i;
    set_w w;
    const char *s;
    size_t len;
    if (n < 2) return NULL;
    unsigned enc = (unsigned char)p[0] & 15u;
    p++;
    n--;
    if (enc == SET_INTS) {
        if (check_ints(p, n) < 0) return NULL;
        view_inline(&v, SET_INTS, p, n, (size_t)-1);
        if (v.n <= ints_max()) {   /* as it is */
            item *it = ks_new(r, NULL, n + 1, expire);
            item_set_kind(it, KIND_SET, SET_INTS, n);
            memcpy(item_payload(it), p, n);
            return it;
        }
    } else if (enc == SET_PACKED) {
        if (check_packed(p, p + n) < 0) return NULL;
        view_inline(&v, SET_PACKED, p, n, (size_t)-1);
    } else {
        return NULL;
    }
    /* added one by one: the encoding is the one writes would have given */
    set_w_open_new(&w, r);
    set_iter_view(&i, &v);
    while (set_next(&i, &s, &len)) {
        int rc = set_w_add(&w, s, len);
        if (rc < 0) abort();   /* out of memory: as xmalloc */
        if (rc == 0) {         /* a member twice */
            set_w_discard(&w);
            return NULL;
        }
    }
    return make_item(&w, expire);
}

const kind_ops set_kind_ops = {
    .name = "set",
    .encoding = set_encoding_name,
    .outside = set_outside,
    .release = set_release,
    .copy = set_copy,
    .serialize = set_serialize,
    .restore = set_restore,
    .view = set_kind_view,
    .view_fill = fdict_view_fill,
    .view_serialize = set_kind_view_serialize,
    .view_release = set_kind_view_release,
};
