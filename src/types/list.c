/* list.c - the list kind. See list.h; the big structure is qlist.c. */
#include "types/list.h"

#include <stdlib.h>
#include <string.h>

#include "lib/bgfree.h"
#include "lib/util.h"
#include "types/coll.h"
#include "types/types.h"

/* The bounds list-max-listpack-size sets now (CONFIG SET may change it
 * while commands run): a node's bytes and elements, and a small list's. */
typedef struct limits {
    size_t node_bytes, node_count, small_bytes, small_count;
} limits;

static limits limits_now(void)
{
    /* -1 .. -5: 4 to 64 KB a node; a positive count keeps Redis's 8 KB
     * safety bound, and Redis's largest count */
    static const size_t level[] = {4096, 8192, 16384, 32768, 65536};
    long long fill = types_limit(&types_lim.list_size);
    limits l;
    if (fill < 0) {
        l.node_bytes = level[fill < -5 ? 4 : -fill - 1];
        l.node_count = SIZE_MAX;
    } else {
        l.node_bytes = 8192;
        l.node_count = fill == 0 ? 1 : fill > 32768 ? 32768 : (size_t)fill;
    }
    l.small_bytes = l.node_bytes < LIST_INLINE_MAX ? l.node_bytes : LIST_INLINE_MAX;
    l.small_count = l.node_count;
    return l;
}

/* Big lists are freed by the background thread (bgfree.h): freeing ten
 * million elements would stall the worker. */
#define BG_FREE_BYTES (64 * 1024)

static qlist *qlist_of(const item *it)
{
    qlist *q;
    memcpy(&q, item_cval(it) + 1, sizeof q);
    return q;
}

static int is_packed(const item *it) { return item_encoding(it) == LIST_PACKED; }

static const char *packed_entries(const item *it, uint64_t *n)
{
    const char *p = item_cval(it) + 1, *e = p;
    pack_header(p, p + item_payload_len(it), n, &e);
    return e;
}

/* Past k packed strings from p. */
static const char *skip(const char *p, size_t k)
{
    size_t n, size;
    while (k--) {
        pack_str_get(p, &n, &size);
        p += size;
    }
    return p;
}

size_t list_len(const item *it)
{
    uint64_t n;
    if (!is_packed(it)) return qlist_len(qlist_of(it));
    packed_entries(it, &n);
    return (size_t)n;
}

void list_get(const item *it, size_t i, const char **s, size_t *n)
{
    uint64_t c;
    size_t size;
    if (!is_packed(it)) {
        qlist_get(qlist_of(it), i, s, n);
        return;
    }
    *s = pack_str_get(skip(packed_entries(it, &c), i), n, &size);
}

/* The offsets of a small list's elements, for walking it back. */
static __thread uint16_t back_offs[LIST_INLINE_MAX + 1];

void list_iter_init(list_iter *li, const item *it, size_t i, int back)
{
    uint64_t c;
    memset(li, 0, sizeof *li);
    li->back = back;
    li->big = !is_packed(it);
    if (li->big) {
        qiter_init(&li->q, qlist_of(it), i, back);
        return;
    }
    li->p = packed_entries(it, &c);
    if (i >= c) return;
    if (!back) {
        li->p = skip(li->p, i);
        li->left = (size_t)c - i;
        return;
    }
    li->base = li->p;
    for (size_t k = 0; k <= i; k++) {
        back_offs[k] = (uint16_t)(li->p - li->base);
        li->p = skip(li->p, 1);
    }
    li->offs = back_offs;
    li->left = i + 1;
}

int list_next(list_iter *li, const char **s, size_t *n)
{
    size_t size;
    if (li->big) return qiter_next(&li->q, s, n);
    if (!li->left) return 0;
    li->left--;
    if (li->back) {
        *s = pack_str_get(li->base + li->offs[li->left], n, &size);
    } else {
        *s = pack_str_get(li->p, n, &size);
        li->p += size;
    }
    return 1;
}

/* ---- writing ---- */

void list_w_open(list_w *w, kref *r)
{
    item *it = r->it;
    memset(w, 0, sizeof *w);
    w->r = r;
    w->expire = it ? item_expire(it) : -1;
    if (it && !is_packed(it)) {
        limits l = limits_now();
        w->q = qlist_of(it);
        qlist_set_limits(w->q, l.node_bytes, l.node_count);
        w->mem0 = qlist_mem(w->q);
    } else {
        pack_edit_open(&w->pk, it ? item_cval(it) + 1 : NULL, it ? item_payload_len(it) : 0);
    }
}

size_t list_w_len(const list_w *w) { return w->q ? qlist_len(w->q) : w->pk.n; }

/* Before the first change to a qlist the item already holds. */
static void touch(list_w *w)
{
    if (!w->changed && w->mem0) ks_modify(w->r);
    w->changed = 1;
}

static void touch_cb(void *w) { touch(w); }

void list_w_touch(list_w *w)
{
    if (w->r->it) ks_modify(w->r);
}

/* Whether the small list stays small with `more` bytes and `add` elements
 * more. */
static int small_fits(const list_w *w, size_t more, size_t add)
{
    limits l = limits_now();
    return pack_edit_bytes(&w->pk) + more <= l.small_bytes && w->pk.n + add <= l.small_count;
}

/* The small list, being written, becomes a qlist. -1 when memory ran out
 * (still small). */
static int to_big(list_w *w)
{
    limits l = limits_now();
    qlist *q = qlist_new(l.node_bytes, l.node_count);
    const char *p = pack_edit_begin(&w->pk), *end = pack_edit_end(&w->pk), *s;
    size_t n, size;
    if (!q) return -1;
    for (; p < end; p += size) {
        s = pack_str_get(p, &n, &size);
        if (qlist_push(q, 1, s, n) < 0) {
            qlist_free(&q);
            return -1;
        }
    }
    pack_edit_close(&w->pk);
    w->q = q;
    w->mem0 = 0;   /* the item holds none of it yet */
    return 0;
}

/* The offset of a small list's element i from the entries' start. */
static size_t small_off(const list_w *w, size_t i)
{
    const char *b = pack_edit_begin(&w->pk);
    return (size_t)(skip(b, i) - b);
}

static void small_put(list_w *w, size_t off, size_t old, const char *s, size_t n)
{
    pack_str_put(pack_edit_splice(&w->pk, off, old, pack_str_size(n)), s, n);
    w->changed = 1;
}

int list_w_push(list_w *w, int tail, const char *s, size_t n)
{
    if (!w->q) {
        if (small_fits(w, pack_str_size(n), 1)) {
            small_put(w, tail ? pack_edit_bytes(&w->pk) : 0, 0, s, n);
            w->pk.n++;
            return 0;
        }
        if (to_big(w) < 0) return -1;
    }
    touch(w);
    return qlist_push(w->q, tail, s, n);
}

void list_w_pop(list_w *w, int tail, size_t k)
{
    if (!k) return;
    if (w->q) {
        touch(w);
        qlist_delete(w->q, tail ? qlist_len(w->q) - k : 0, k);
        return;
    }
    if (tail) {
        size_t off = small_off(w, w->pk.n - k);
        pack_edit_splice(&w->pk, off, pack_edit_bytes(&w->pk) - off, 0);
    } else {
        pack_edit_splice(&w->pk, 0, small_off(w, k), 0);
    }
    w->pk.n -= k;
    w->changed = 1;
}

int list_w_set(list_w *w, size_t i, const char *s, size_t n)
{
    if (!w->q) {
        size_t off = small_off(w, i), len, old;
        pack_str_get(pack_edit_begin(&w->pk) + off, &len, &old);
        if (pack_str_size(n) <= old || small_fits(w, pack_str_size(n) - old, 0)) {
            small_put(w, off, old, s, n);
            return 0;
        }
        if (to_big(w) < 0) return -1;
    }
    touch(w);
    return qlist_set(w->q, i, s, n);
}

int list_w_insert(list_w *w, size_t i, const char *s, size_t n)
{
    if (!w->q) {
        if (small_fits(w, pack_str_size(n), 1)) {
            small_put(w, small_off(w, i), 0, s, n);
            w->pk.n++;
            return 0;
        }
        if (to_big(w) < 0) return -1;
    }
    touch(w);
    return qlist_insert(w->q, i, s, n);
}

static int str_eq(const char *p, size_t *size, const char *s, size_t n)
{
    size_t len;
    const char *e = pack_str_get(p, &len, size);
    return len == n && (n == 0 || memcmp(e, s, n) == 0);
}

size_t list_w_remove(list_w *w, const char *s, size_t n, int from_tail, size_t limit)
{
    char *b, *end;
    size_t size, seen = 0, skip_n = 0, gone = 0, wr = 0, max = limit ? limit : SIZE_MAX;
    if (w->q) return qlist_remove(w->q, s, n, from_tail, limit, touch_cb, w);
    b = pack_edit_begin(&w->pk);
    end = pack_edit_end(&w->pk);
    if (from_tail) {   /* the last `max` matches */
        size_t m = 0;
        for (const char *p = b; p < end; p += size) m += str_eq(p, &size, s, n);
        skip_n = m > max ? m - max : 0;
    }
    for (char *p = b; p < end; p += size) {
        int eq = str_eq(p, &size, s, n);
        if (eq && seen++ >= skip_n && gone < max) {
            gone++;
            continue;
        }
        if (b + wr != p) memmove(b + wr, p, size);
        wr += size;
    }
    if (gone) {
        w->pk.b->len = PACK_HEAD + wr;
        w->pk.n -= gone;
        w->changed = 1;
    }
    return gone;
}

/* A qlist that shrank to half the small bound becomes small again: the
 * item lets go of it (it is freed here, not by the store) and takes its
 * elements inline. */
static void to_small(list_w *w)
{
    limits l = limits_now();
    kref *r = w->r;
    pack_edit pk;
    qiter it;
    const char *s, *p;
    size_t n;
    if (qlist_len(w->q) > l.small_count / 2 ||
        qlist_bytes(w->q, l.small_bytes / 2) > l.small_bytes / 2)
        return;
    pack_edit_open(&pk, NULL, 0);
    qiter_init(&it, w->q, 0, 0);
    while (qiter_next(&it, &s, &n)) {
        pack_str_put(pack_edit_splice(&pk, pack_edit_bytes(&pk), 0, pack_str_size(n)), s, n);
        pk.n++;
    }
    ks_charge(r, -(long long)qlist_mem(w->q));
    qlist_free(&w->q);
    memcpy(item_payload(r->it), &w->q, sizeof w->q);   /* NULL: nothing outside now */
    p = pack_edit_payload(&pk, &n);
    ks_put_typed(r, KIND_LIST, LIST_PACKED, p, n, w->expire);
    pack_edit_close(&pk);
}

int list_w_close(list_w *w, int64_t now)
{
    kref *r = w->r;
    int changed = w->changed;
    if (!w->q) {
        const char *p = NULL;
        size_t n = 0;
        if (changed && w->pk.n) p = pack_edit_payload(&w->pk, &n);
        coll_close_packed(r, KIND_LIST, LIST_PACKED, changed, w->pk.n, p, n, w->expire, now);
        pack_edit_close(&w->pk);
        return changed;
    }
    if (!w->mem0) {   /* a qlist made by this write: the item gets it now */
        if (!changed || !qlist_len(w->q)) {
            qlist_free(&w->q);
            if (changed && r->it) ks_delete(r, now);
            return changed;
        }
        ks_put_typed(r, KIND_LIST, LIST_NODES, (const char *)&w->q, sizeof w->q, w->expire);
        ks_charge(r, (long long)qlist_mem(w->q));
        w->q = NULL;
        return 1;
    }
    if (changed) {
        ks_charge(r, (long long)qlist_mem(w->q) - (long long)w->mem0);
        if (!qlist_len(w->q)) ks_delete(r, now);
        else to_small(w);
    }
    w->q = NULL;
    return changed;
}

/* ---- the kind's operations ---- */

static const char *list_encoding(const item *it)
{
    (void)it;
    return "quicklist";   /* Redis 7.0 has no other */
}

static size_t list_outside(const item *it)
{
    qlist *q = is_packed(it) ? NULL : qlist_of(it);
    return q ? qlist_mem(q) : 0;
}

static void put_qlist(void *q)
{
    qlist *p = q;
    qlist_free(&p);
}

static void list_release(item *it)
{
    qlist *q = is_packed(it) ? NULL : qlist_of(it);
    if (q && qlist_mem(q) >= BG_FREE_BYTES) bgfree_submit(put_qlist, q);
    else qlist_free(&q);
}

static int list_copy(item *dst, const item *src)
{
    qlist *q;
    if (is_packed(src)) return 0;
    if (!(q = qlist_dup(qlist_of(src)))) return -1;
    memcpy(item_payload(dst), &q, sizeof q);
    return 0;
}

/* The persisted form's kind byte, and its count when count is not NULL. */
static void put_header(buf *out, const size_t *count)
{
    char hdr[1 + VARINT_MAX];
    hdr[0] = (char)(KIND_LIST << 4 | LIST_PACKED);
    buf_append(out, hdr, 1 + (count ? varint_put(hdr + 1, *count) : 0));
}

static void put_elem(buf *out, const char *s, size_t n)
{
    buf_reserve(out, pack_str_size(n));
    out->len += pack_str_put(out->data + out->len, s, n);
}

/* Persisted as the packed encoding, whatever the encoding in memory. */
static void list_serialize(const item *it, buf *out)
{
    qiter qi;
    const char *s;
    size_t n;
    if (is_packed(it)) {
        put_header(out, NULL);
        buf_append(out, item_cval(it) + 1, item_payload_len(it));
        return;
    }
    n = qlist_len(qlist_of(it));
    put_header(out, &n);
    qiter_init(&qi, qlist_of(it), 0, 0);
    while (qiter_next(&qi, &s, &n)) put_elem(out, s, n);
}

/* A big list's frozen view: its nodes, each copied by the list before it
 * changes while the view holds it (qlist.h). */
static void *list_view(const item *it)
{
    if (is_packed(it)) return NULL;
    return qlist_freeze(qlist_of(it));   /* NULL (out of memory): serialized under the lock */
}

static void list_view_serialize(void *view, buf *out)
{
    qview *v = view;
    qview_iter vi;
    const char *s;
    size_t n;
    put_header(out, &v->len);
    qview_iter_init(&vi, v);
    while (qview_next(&vi, &s, &n)) put_elem(out, s, n);
}

static void list_view_release(void *view) { qview_release(view); }

/* Check persisted elements: a count, that many well-formed strings and
 * nothing after; a list is never empty. */
static int check_packed(const char *p, const char *end, uint64_t *count, const char **entries)
{
    uint64_t n = 0;
    const char *q;
    if (pack_header(p, end, count, entries) < 0) return -1;
    for (q = *entries; q < end; n++) {
        size_t a = pack_str_check(q, end);
        if (!a) return -1;
        q += a;
    }
    return n == *count && n > 0 ? 0 : -1;
}

static item *list_restore(kref *r, const char *p, size_t n, int64_t expire)
{
    limits l = limits_now();
    uint64_t count;
    const char *entries, *end = p + n, *s;
    size_t len, size;
    item *it;
    qlist *q;
    if (n < 1 || ((unsigned char)p[0] & 15u) != LIST_PACKED ||
        check_packed(p + 1, end, &count, &entries) < 0)
        return NULL;
    /* the same rule as writes: inline while small */
    if ((size_t)(end - entries) <= l.small_bytes && count <= l.small_count) {
        it = ks_new(r, NULL, n, expire);
        item_set_kind(it, KIND_LIST, LIST_PACKED, n - 1);
        memcpy(item_payload(it), p + 1, n - 1);
        return it;
    }
    if (!(q = qlist_new(l.node_bytes, l.node_count))) abort();
    for (; entries < end; entries += size) {
        s = pack_str_get(entries, &len, &size);
        if (qlist_push(q, 1, s, len) < 0) abort();
    }
    it = ks_new(r, NULL, 1 + sizeof q, expire);
    item_set_kind(it, KIND_LIST, LIST_NODES, sizeof q);
    memcpy(item_payload(it), &q, sizeof q);
    ks_charge(r, (long long)qlist_mem(q));
    return it;
}

const kind_ops list_kind_ops = {
    .name = "list",
    .encoding = list_encoding,
    .outside = list_outside,
    .release = list_release,
    .copy = list_copy,
    .serialize = list_serialize,
    .restore = list_restore,
    .view = list_view,
    .view_serialize = list_view_serialize,
    .view_release = list_view_release,
};
