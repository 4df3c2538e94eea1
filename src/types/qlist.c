/* qlist.c - big lists: a ring of nodes of packed elements. See qlist.h. */
#include "types/qlist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "lib/varint.h"

#define HDR sizeof(qnode)
#define FIRST_ROOM 256   /* a new end node's room, unless its element needs more */
#define SLACK 64         /* spare bytes a node keeps without being shrunk */
#define MAX_ENTRY (UINT32_MAX / 4)

/* Tests make an allocation fail (qlist_fail_alloc); never set otherwise. */
static unsigned long fail_in, failed;

static int failing(void) { return fail_in && --fail_in == 0 && ++failed; }

unsigned long qlist_fail_alloc(unsigned long nth)
{
    fail_in = nth;
    return failed;
}

/* What the allocator takes for a request of n bytes (glibc: a header word,
 * 16-byte steps, 32 bytes at least). Nodes are sized to use all of it. */
static size_t alloc_size(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

/* The room of a node allocated for at least want bytes of elements. */
static size_t room_for(size_t want) { return alloc_size(HDR + want) - 8 - HDR; }

/* ---- elements: [varint n][n bytes][varint n, reversed] ---- */

size_t qlist_entry_size(size_t n) { return 2 * varint_len(n) + n; }

static size_t ent_put(char *p, const char *s, size_t n)
{
    char tmp[VARINT_MAX];
    size_t a = varint_put(p, n);
    if (n) memcpy(p + a, s, n);
    varint_put(tmp, n);
    for (size_t i = 0; i < a; i++) p[a + n + i] = tmp[a - 1 - i];
    return 2 * a + n;
}

/* The element starting at p: its bytes, *n and the bytes it takes. */
static inline const char *ent_get(const char *p, size_t *n, size_t *size)
{
    uint64_t v;
    size_t a = varint_read(p, &v);
    *n = (size_t)v;
    *size = 2 * a + (size_t)v;
    return p + a;
}

/* The element ending at end. */
static inline const char *ent_get_back(const char *end, size_t *n, size_t *size)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned char c;
    do {
        c = (unsigned char)end[-1 - (ptrdiff_t)i];
        v |= (uint64_t)(c & 0x7f) << (7 * i);
        i++;
    } while (c & 0x80);
    *n = (size_t)v;
    *size = 2 * i + (size_t)v;
    return end - i - (size_t)v;
}

static inline int ent_eq(const char *p, size_t *size, const char *s, size_t n)
{
    size_t len;
    const char *e = ent_get(p, &len, size);
    return len == n && (n == 0 || memcmp(e, s, n) == 0);
}

/* ---- the ring ---- */

static inline qslot *slot(const qlist *q, size_t k)
{
    return &q->ring[(q->head + k) & (q->rcap - 1)];
}
static inline qnode *node(const qlist *q, size_t k) { return slot(q, k)->nd; }
static inline int64_t start(const qlist *q, size_t k) { return slot(q, k)->start; }
static inline char *data(qnode *nd) { return nd->buf + nd->off; }

static int ring_resize(qlist *q, size_t cap)
{
    qslot *r = failing() ? NULL : malloc(cap * sizeof *r);
    if (!r) return -1;
    for (size_t k = 0; k < q->nodes; k++) r[k] = *slot(q, k);
    if (q->rcap) q->mem -= alloc_size(q->rcap * sizeof *r);
    q->mem += alloc_size(cap * sizeof *r);
    free(q->ring);
    q->ring = r;
    q->rcap = cap;
    q->head = 0;
    return 0;
}

/* Room in the ring for `more` more nodes. */
static int ring_reserve(qlist *q, size_t more)
{
    size_t cap = q->rcap ? q->rcap : 4;
    while (cap < q->nodes + more) cap *= 2;
    return cap == q->rcap ? 0 : ring_resize(q, cap);
}

/* Put nd at slot k (room reserved), moving the shorter side; its start
 * is the caller's to set. */
static void ring_insert(qlist *q, size_t k, qnode *nd)
{
    if (k < q->nodes - k) {
        q->head = (q->head - 1) & (q->rcap - 1);
        for (size_t i = 0; i < k; i++) *slot(q, i) = *slot(q, i + 1);
    } else {
        for (size_t i = q->nodes; i > k; i--) *slot(q, i) = *slot(q, i - 1);
    }
    slot(q, k)->nd = nd;
    q->nodes++;
}

/* Take the m slots from k out (their nodes are someone else's business). */
static void ring_remove(qlist *q, size_t k, size_t m)
{
    if (k < q->nodes - k - m) {
        for (size_t i = k; i-- > 0;) *slot(q, i + m) = *slot(q, i);
        q->head = (q->head + m) & (q->rcap - 1);
    } else {
        for (size_t i = k; i + m < q->nodes; i++) *slot(q, i) = *slot(q, i + m);
    }
    q->nodes -= m;
    if (!q->nodes) q->head = 0;
    if (q->rcap >= 16 && q->nodes < q->rcap / 8) ring_resize(q, q->rcap / 4);   /* may fail: kept */
}

/* ---- nodes ---- */

static qnode *node_alloc(qlist *q, size_t want)
{
    size_t cap = room_for(want);
    qnode *nd = failing() ? NULL : malloc(HDR + cap);
    if (!nd) return NULL;
    memset(nd, 0, HDR);
    atomic_init(&nd->refs, 1);
    nd->cap = (uint32_t)cap;
    q->mem += alloc_size(HDR + cap);
    return nd;
}

/* Let go of a reference to nd (NULL: none), the list's (q: its memory no
 * longer counts nd) or a view's (q NULL); the last one frees it. Every node
 * is freed here. acq_rel: what this holder read or wrote of nd comes before
 * the free, whichever holder frees it. */
static void node_put(qlist *q, qnode *nd)
{
    if (!nd) return;
    if (q) q->mem -= alloc_size(HDR + nd->cap);
    if (atomic_fetch_sub_explicit(&nd->refs, 1, memory_order_acq_rel) == 1) free(nd);
}

/* Whether nd is the list's alone. Views take references only under the
 * lock the caller holds, so the count cannot grow meanwhile; acquire: a
 * view lets go with a release, so once the count reads 1, every read of nd
 * by a view that held it came before what the caller writes next. */
static inline int alone(qnode *nd)
{
    return atomic_load_explicit(&nd->refs, memory_order_acquire) == 1;
}

/* Node k, about to change, made the list's alone: when a view holds it
 * too, it is copied (the same bytes where they were), the copy takes its
 * slot and the view keeps the old one. Returns the node, or NULL when
 * memory ran out (nothing changed); must (a change that cannot fail)
 * allocates as xmalloc does. */
static qnode *own(qlist *q, size_t k, int must)
{
    qnode *nd = node(q, k), *cp;
    size_t size = HDR + nd->cap;
    if (alone(nd)) return nd;
    if (must) cp = xmalloc(size);
    else if (!(cp = failing() ? NULL : malloc(size))) return NULL;
    atomic_init(&cp->refs, 1);
    cp->count = nd->count;
    cp->off = nd->off;
    cp->used = nd->used;
    cp->cap = nd->cap;
    memcpy(cp->buf + cp->off, data(nd), nd->used);
    q->mem += alloc_size(size);
    slot(q, k)->nd = cp;
    node_put(q, nd);
    return cp;
}

/* Give node k (the list's alone) room for want bytes, its bytes left where
 * they are (want >= off + used). Returns the node, or NULL (unchanged). */
static qnode *node_realloc(qlist *q, size_t k, size_t want)
{
    qnode *nd = node(q, k);
    size_t was = alloc_size(HDR + nd->cap), cap = room_for(want);
    nd = failing() ? NULL : realloc(nd, HDR + cap);
    if (!nd) return NULL;
    nd->cap = (uint32_t)cap;
    q->mem += alloc_size(HDR + cap) - was;
    slot(q, k)->nd = nd;
    return nd;
}

/* Node k holds much more room than its bytes: give the spare back (not
 * while a view holds it: it is not worth a copy). */
static void node_fit(qlist *q, size_t k)
{
    qnode *nd = node(q, k);
    size_t room = room_for(nd->used);
    if (nd->cap <= room + SLACK || nd->cap <= 2 * room || !alone(nd)) return;
    memmove(nd->buf, data(nd), nd->used);
    nd->off = 0;
    node_realloc(q, k, nd->used);   /* shrinking: a failure keeps the node as it is */
}

/* Node k is done growing (a new one follows it): no spare beyond SLACK. */
static void node_done(qlist *q, size_t k)
{
    qnode *nd = node(q, k);
    if (nd->cap <= room_for(nd->used) + SLACK || !alone(nd)) return;
    memmove(nd->buf, data(nd), nd->used);
    nd->off = 0;
    node_realloc(q, k, nd->used);
}

static int fits(const qlist *q, const qnode *nd, size_t e)
{
    return nd->count < q->max_count && nd->used + e <= q->max_bytes;
}

static int mergeable(const qlist *q, const qnode *a, const qnode *b)
{
    return a->count + b->count <= q->max_count && a->used + b->used <= q->max_bytes;
}

/* Open a gap of e bytes at offset at (<= used) of node k's bytes, moving
 * the shorter side or growing the node; returns where the gap starts (the
 * caller fills it and counts what it holds), or NULL (unchanged). */
static char *gap(qlist *q, size_t k, size_t at, size_t e)
{
    qnode *nd = own(q, k, 0);
    size_t back;
    if (!nd) return NULL;
    back = nd->cap - nd->off - nd->used;
    if (back < e && nd->off < e) {
        size_t to;
        if (nd->cap - nd->used < e) {
            size_t want = (size_t)nd->cap * 2;
            if (want > q->max_bytes) want = q->max_bytes;
            if (want < nd->used + e) want = nd->used + e;
            if (!(nd = node_realloc(q, k, want))) return NULL;
        }
        /* room enough, but not on one side: where this write wants it
         * (in front for pushes at the head, behind for the tail) */
        if (at == 0) to = nd->cap - nd->used;
        else if (at == nd->used) to = 0;
        else to = at <= nd->used / 2 ? nd->cap - nd->used : 0;
        memmove(nd->buf + to, data(nd), nd->used);
        nd->off = (uint32_t)to;
        back = nd->cap - nd->off - nd->used;
    }
    char *d = data(nd);
    if (nd->off >= e && (at == 0 || back < e || at <= nd->used - at)) {
        memmove(d - e, d, at);
        nd->off -= (uint32_t)e;
    } else {
        memmove(d + at + e, d + at, nd->used - at);
    }
    nd->used += (uint32_t)e;
    return data(nd) + at;
}

/* Take the len bytes at offset o out of nd (the list's alone), moving the
 * shorter side. */
static void cut_bytes(qnode *nd, size_t o, size_t len)
{
    char *d = data(nd);
    if (o < nd->used - o - len) {
        memmove(d + len, d, o);
        nd->off += (uint32_t)len;
    } else {
        memmove(d + o, d + o + len, nd->used - o - len);
    }
    nd->used -= (uint32_t)len;
}

/* The offset of element j (<= count) of nd, walked from the nearer end. */
static size_t seek(qnode *nd, size_t j)
{
    const char *d = data(nd);
    size_t o, n, size;
    if (j <= nd->count / 2) {
        for (o = 0; j; j--) {
            ent_get(d + o, &n, &size);
            o += size;
        }
    } else {
        for (o = nd->used, j = nd->count - j; j; j--) {
            ent_get_back(d + o, &n, &size);
            o -= size;
        }
    }
    return o;
}

/* The node holding index i (< len), and i's place in it. */
static size_t find(const qlist *q, size_t i, size_t *j)
{
    int64_t pos = start(q, 0) + (int64_t)i;
    size_t lo = 0, hi = q->nodes - 1;
    if (pos >= start(q, hi)) lo = hi;
    else if (pos < start(q, 0) + (int64_t)node(q, 0)->count) hi = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (start(q, mid) <= pos) lo = mid;
        else hi = mid - 1;
    }
    *j = (size_t)(pos - start(q, lo));
    return lo;
}

/* Node k's elements: 0 for a slot whose node a deletion let go of (until
 * tidy takes the slot out). */
static inline int64_t count_at(const qlist *q, size_t k)
{
    qnode *nd = node(q, k);
    return nd ? (int64_t)nd->count : 0;
}

static int64_t end_pos(const qlist *q)
{
    return start(q, q->nodes - 1) + (int64_t)node(q, q->nodes - 1)->count;
}

/* Nodes t0..t1 changed their counts (or are new, or gone: NULL): make the
 * starts consecutive again on the shorter side, the nodes from t0 on (the first
 * element keeping position p0) or those up to t1 (the end keeping pend).
 * Past the changed nodes every start moves by the same amount: only the
 * ring is walked there. */
static void renumber(qlist *q, size_t t0, size_t t1, int64_t p0, int64_t pend)
{
    int64_t s, delta;
    if (q->nodes - t0 <= t1 + 1) {
        s = t0 ? start(q, t0 - 1) + (int64_t)node(q, t0 - 1)->count : p0;
        for (size_t k = t0; k <= t1; k++) {
            slot(q, k)->start = s;
            s += count_at(q, k);
        }
        if (t1 + 1 < q->nodes && (delta = s - start(q, t1 + 1)) != 0)
            for (size_t k = t1 + 1; k < q->nodes; k++) slot(q, k)->start += delta;
    } else {
        s = t1 + 1 < q->nodes ? start(q, t1 + 1) : pend;
        for (size_t k = t1 + 1; k-- > t0;) {
            s -= count_at(q, k);
            slot(q, k)->start = s;
        }
        if (t0 && (delta = s - (start(q, t0 - 1) + (int64_t)node(q, t0 - 1)->count)) != 0)
            for (size_t k = 0; k < t0; k++) slot(q, k)->start += delta;
    }
}

/* Merge the node at slot r into the kept node at slot a (a < r), or the
 * other way round, whichever copies less; the result is left at slot a. */
static int merge(qlist *q, size_t a, size_t r)
{
    qnode *left = node(q, a), *right = node(q, r);
    char *p;
    if (left->used >= right->used) {
        if (!(p = gap(q, a, left->used, right->used))) return -1;
        memcpy(p, data(right), right->used);
        node(q, a)->count += right->count;
        node_put(q, right);
    } else {
        if (!(p = gap(q, r, 0, left->used))) return -1;
        memcpy(p, data(left), left->used);
        right = node(q, r);
        right->count += left->count;
        node_put(q, left);
        slot(q, a)->nd = right;   /* at a's start */
    }
    return 0;
}

/* After a change to nodes lo..hi (their starts consecutive again): drop
 * the empty ones (and the slots a deletion emptied), merge neighbours that
 * fit in one node, shrink nodes left with much spare room; one pass, and
 * the ring moved once. */
static void tidy(qlist *q, size_t lo, size_t hi)
{
    size_t o = lo;
    if (!q->nodes) return;
    if (hi >= q->nodes) hi = q->nodes - 1;
    for (size_t r = lo; r <= hi; r++) {
        qnode *nd = node(q, r);
        if (!nd || !nd->count) {
            node_put(q, nd);
            continue;
        }
        if (o > lo && mergeable(q, node(q, o - 1), nd) && merge(q, o - 1, r) == 0) continue;
        *slot(q, o++) = *slot(q, r);
    }
    if (o <= hi) ring_remove(q, o, hi + 1 - o);
    for (size_t k = lo; k < o && k < q->nodes; k++) node_fit(q, k);
}

/* ---- the list ---- */

qlist *qlist_new(size_t max_bytes, size_t max_count)
{
    qlist *q = failing() ? NULL : calloc(1, sizeof *q);
    if (!q) return NULL;
    q->mem = alloc_size(sizeof *q);
    qlist_set_limits(q, max_bytes, max_count);
    return q;
}

void qlist_set_limits(qlist *q, size_t max_bytes, size_t max_count)
{
    q->max_bytes = max_bytes < 64 ? 64 : max_bytes;
    q->max_count = max_count < 1 ? 1 : max_count;
}

void qlist_free(qlist **qp)
{
    qlist *q = *qp;
    if (!q) return;
    for (size_t k = 0; k < q->nodes; k++) node_put(q, node(q, k));
    free(q->ring);
    free(q);
    *qp = NULL;
}

qlist *qlist_dup(const qlist *q)
{
    qlist *c = qlist_new(q->max_bytes, q->max_count);
    if (!c || ring_reserve(c, q->nodes) < 0) goto fail;
    for (size_t k = 0; k < q->nodes; k++) {
        qnode *nd = node(q, k), *cp = node_alloc(c, nd->used);
        if (!cp) goto fail;
        memcpy(cp->buf, data(nd), nd->used);
        cp->count = nd->count;
        cp->used = nd->used;
        c->ring[k].nd = cp;
        c->ring[k].start = start(q, k);
        c->nodes++;
    }
    c->len = q->len;
    return c;
fail:
    qlist_free(&c);
    return NULL;
}

size_t qlist_bytes(const qlist *q, size_t limit)
{
    size_t b = 0;
    for (size_t k = 0; k < q->nodes && b <= limit; k++) b += node(q, k)->used;
    return b;
}

int qlist_push(qlist *q, int tail, const char *s, size_t n)
{
    size_t e = qlist_entry_size(n), k = tail ? q->nodes - 1 : 0;
    qnode *nd;
    if (e > MAX_ENTRY) return -1;
    if (q->nodes && fits(q, node(q, k), e)) {
        char *p = gap(q, k, tail ? node(q, k)->used : 0, e);
        if (!p) return -1;
        ent_put(p, s, n);
        node(q, k)->count++;
        if (!tail) slot(q, k)->start--;
    } else {
        size_t want = q->max_count < 8 ? e * q->max_count : FIRST_ROOM;
        if (ring_reserve(q, 1) < 0 || !(nd = node_alloc(q, want > e ? want : e))) return -1;
        nd->off = tail ? 0 : nd->cap - (uint32_t)e;
        ent_put(data(nd), s, n);
        nd->count = 1;
        nd->used = (uint32_t)e;
        int64_t at = 0;
        if (q->nodes) {
            node_done(q, k);
            at = tail ? end_pos(q) : start(q, 0) - 1;
        }
        ring_insert(q, tail ? q->nodes : 0, nd);
        slot(q, tail ? q->nodes - 1 : 0)->start = at;
    }
    q->len++;
    return 0;
}

/* Delete k elements from the head or the tail: O(k). */
static void drop_end(qlist *q, int tail, size_t k)
{
    q->len -= k;
    while (k) {
        size_t at = tail ? q->nodes - 1 : 0;
        qnode *nd = node(q, at);
        if (k >= nd->count) {
            k -= nd->count;
            node_put(q, nd);
            ring_remove(q, at, 1);
            continue;
        }
        nd = own(q, at, 1);
        if (tail) {
            nd->used = (uint32_t)seek(nd, nd->count - k);
        } else {
            size_t o = seek(nd, k);
            nd->off += (uint32_t)o;
            nd->used -= (uint32_t)o;
            slot(q, 0)->start += (int64_t)k;
        }
        nd->count -= (uint32_t)k;
        k = 0;
    }
    if (q->nodes >= 2) tidy(q, tail ? q->nodes - 2 : 0, tail ? q->nodes - 1 : 1);
    else if (q->nodes) node_fit(q, 0);
}

void qlist_delete(qlist *q, size_t i, size_t k)
{
    size_t j, t0, t;
    int64_t p0, pend;
    if (!k) return;
    if (i == 0 || i + k == q->len) {
        drop_end(q, i != 0, k);
        return;
    }
    p0 = start(q, 0);
    pend = end_pos(q);
    t0 = t = find(q, i, &j);
    q->len -= k;
    for (; k; t++, j = 0) {
        qnode *nd = node(q, t);
        size_t d = nd->count - j < k ? nd->count - j : k, o;
        k -= d;
        if (d == nd->count) {   /* all of it: let go of the node (no copy if shared) */
            node_put(q, nd);
            slot(q, t)->nd = NULL;
            continue;
        }
        nd = own(q, t, 1);
        o = seek(nd, j);
        cut_bytes(nd, o, seek(nd, j + d) - o);
        nd->count -= (uint32_t)d;
    }
    renumber(q, t0, t - 1, p0, pend);
    tidy(q, t0 ? t0 - 1 : 0, t);
}

/* Insert s as element j of node k, splitting the node there (it is full):
 * s goes to whichever half has room, or to a node of its own. */
static int split_insert(qlist *q, size_t k, size_t j, const char *s, size_t n, size_t e,
                        int64_t p0, int64_t pend)
{
    qnode *nd = node(q, k), *right = NULL, *solo = NULL;
    size_t o = seek(nd, j), rbytes = nd->used - o, rcount = nd->count - j, last;
    if (j == 0) {   /* before a full node, after one that is full too: a node of its own */
        if (ring_reserve(q, 1) < 0 || !(solo = node_alloc(q, e))) return -1;
        ent_put(solo->buf, s, n);
        solo->used = (uint32_t)e;
        solo->count = 1;
        ring_insert(q, k, solo);
        q->len++;
        renumber(q, k, k, p0, pend);
        tidy(q, k ? k - 1 : 0, k + 1);
        return 0;
    }
    if (!(nd = own(q, k, 0))) return -1;   /* the same bytes where they were */
    int to_left = o + e <= q->max_bytes && j + 1 <= q->max_count &&
                  nd->cap - nd->off - o >= e;
    int to_right = !to_left && rbytes + e <= q->max_bytes && rcount + 1 <= q->max_count;
    if (ring_reserve(q, 2) < 0) return -1;
    if (!(right = node_alloc(q, rbytes + (to_right ? e : 0)))) return -1;
    if (!to_left && !to_right && !(solo = node_alloc(q, e))) {
        node_put(q, right);
        return -1;
    }
    memcpy(right->buf + (to_right ? e : 0), data(nd) + o, rbytes);
    right->used = (uint32_t)(rbytes + (to_right ? e : 0));
    right->count = (uint32_t)(rcount + (to_right ? 1 : 0));
    if (to_right) ent_put(right->buf, s, n);
    nd->used = (uint32_t)o;
    nd->count = (uint32_t)j;
    if (to_left) {
        ent_put(data(nd) + o, s, n);
        nd->used += (uint32_t)e;
        nd->count++;
    }
    ring_insert(q, k + 1, right);
    if (solo) {
        ent_put(solo->buf, s, n);
        solo->used = (uint32_t)e;
        solo->count = 1;
        ring_insert(q, k + 1, solo);
    }
    q->len++;
    last = k + (solo ? 2 : 1);
    renumber(q, k, last, p0, pend);
    tidy(q, k ? k - 1 : 0, last + 1);
    return 0;
}

int qlist_insert(qlist *q, size_t i, const char *s, size_t n)
{
    size_t e = qlist_entry_size(n), j, k;
    int64_t p0, pend;
    char *p;
    if (i == 0 || i >= q->len) return qlist_push(q, i != 0, s, n);
    if (e > MAX_ENTRY) return -1;
    k = find(q, i, &j);
    p0 = start(q, 0);
    pend = end_pos(q);
    if (!fits(q, node(q, k), e) && j == 0 && fits(q, node(q, k - 1), e)) {
        k--;   /* at the front of a full node: at the end of the one before */
        j = node(q, k)->count;
    }
    if (!fits(q, node(q, k), e)) return split_insert(q, k, j, s, n, e, p0, pend);
    if (!(p = gap(q, k, seek(node(q, k), j), e))) return -1;
    ent_put(p, s, n);
    node(q, k)->count++;
    q->len++;
    renumber(q, k, k, p0, pend);
    return 0;
}

int qlist_set(qlist *q, size_t i, const char *s, size_t n)
{
    size_t j, k = find(q, i, &j), e = qlist_entry_size(n), o, old, len;
    qnode *nd = node(q, k);
    if (e > MAX_ENTRY) return -1;
    o = seek(nd, j);
    ent_get(data(nd) + o, &len, &old);
    if (e > old && nd->used - old + e > q->max_bytes && nd->count > 1) {
        /* too big for its node: as a new element after it, then the old goes */
        if (qlist_insert(q, i + 1, s, n) < 0) return -1;
        qlist_delete(q, i, 1);
        return 0;
    }
    if (!(nd = own(q, k, 0))) return -1;
    if (e > old) {
        if (!gap(q, k, o + old, e - old)) return -1;
        nd = node(q, k);
    } else if (e < old) {
        cut_bytes(nd, o, old - e);
    }
    ent_put(data(nd) + o, s, n);
    if (e < old) tidy(q, k ? k - 1 : 0, k + 1);
    return 0;
}

/* How many elements of nd equal s. */
static size_t node_matches(qnode *nd, const char *s, size_t n)
{
    const char *d = data(nd);
    size_t m = 0, size;
    for (size_t o = 0; o < nd->used; o += size) m += ent_eq(d + o, &size, s, n);
    return m;
}

/* Delete the elements of nd (the list's alone) equal to s from the skip-th
 * match on, at most max of them, compacting in one pass; returns how many. */
static size_t node_filter(qnode *nd, const char *s, size_t n, size_t skip, size_t max)
{
    char *d = data(nd);
    size_t w = 0, r = 0, size, seen = 0, gone = 0;
    while (r < nd->used) {
        int eq = ent_eq(d + r, &size, s, n);
        if (eq && seen++ >= skip && gone < max) {
            gone++;
        } else {
            if (w != r) memmove(d + w, d + r, size);
            w += size;
        }
        r += size;
    }
    nd->used = (uint32_t)w;
    nd->count -= (uint32_t)gone;
    return gone;
}

size_t qlist_remove(qlist *q, const char *s, size_t n, int from_tail, size_t limit,
                    void (*before)(void *ctx), void *ctx)
{
    size_t gone = 0, left = limit ? limit : SIZE_MAX, t0 = SIZE_MAX, t1 = 0;
    int64_t p0, pend;
    if (!q->nodes) return 0;
    p0 = start(q, 0);
    pend = end_pos(q);
    for (size_t c = 0; c < q->nodes && left; c++) {
        size_t k = from_tail ? q->nodes - 1 - c : c, m = node_matches(node(q, k), s, n);
        if (!m) continue;
        if (!gone && before) before(ctx);   /* it may freeze the list */
        m = node_filter(own(q, k, 1), s, n, from_tail && m > left ? m - left : 0, left);
        gone += m;
        left -= m;
        if (k < t0) t0 = k;
        if (k > t1) t1 = k;
    }
    if (!gone) return 0;
    q->len -= gone;
    renumber(q, t0, t1, p0, pend);
    tidy(q, t0 ? t0 - 1 : 0, t1 + 1);
    return gone;
}

void qlist_get(const qlist *q, size_t i, const char **s, size_t *n)
{
    size_t j, size, k = find(q, i, &j);
    qnode *nd = node(q, k);
    *s = ent_get(data(nd) + seek(nd, j), n, &size);
}

void qiter_init(qiter *it, const qlist *q, size_t i, int back)
{
    size_t j;
    it->q = q;
    it->back = back;
    it->o = 0;
    if (i >= q->len) {
        it->k = q->nodes;
        return;
    }
    it->k = find(q, i, &j);
    it->o = seek(node(q, it->k), back ? j + 1 : j);
}

/* Forwards: the element at offset *o of node *k's data (nd), both moved
 * past it. */
static void step(qnode *nd, size_t *k, size_t *o, const char **s, size_t *n)
{
    size_t size;
    *s = ent_get(data(nd) + *o, n, &size);
    *o += size;
    if (*o == nd->used) {
        ++*k;
        *o = 0;
    }
}

int qiter_next(qiter *it, const char **s, size_t *n)
{
    const qlist *q = it->q;
    qnode *nd;
    size_t size;
    if (it->k >= q->nodes) return 0;
    nd = node(q, it->k);
    if (!it->back) {
        step(nd, &it->k, &it->o, s, n);
    } else {
        *s = ent_get_back(data(nd) + it->o, n, &size);
        it->o -= size;
        if (it->o == 0) {
            if (it->k == 0) {
                it->k = q->nodes;
            } else {
                it->k--;
                it->o = node(q, it->k)->used;
            }
        }
    }
    return 1;
}

/* ---- frozen views ---- */

qview *qlist_freeze(qlist *q)
{
    qview *v = failing() ? NULL : malloc(sizeof *v + q->nodes * sizeof v->nd[0]);
    if (!v) return NULL;
    v->len = q->len;
    v->nodes = q->nodes;
    /* relaxed: the list holds each node already; the view reaches the
     * thread that reads it through that thread's own synchronisation (the
     * lock, or whatever hands it over), which orders the nodes' bytes too */
    for (size_t k = 0; k < q->nodes; k++) {
        qnode *nd = node(q, k);
        atomic_fetch_add_explicit(&nd->refs, 1, memory_order_relaxed);
        v->nd[k] = nd;
    }
    return v;
}

void qview_release(qview *v)
{
    if (!v) return;
    for (size_t k = 0; k < v->nodes; k++) node_put(NULL, v->nd[k]);
    free(v);
}

void qview_iter_init(qview_iter *it, const qview *v)
{
    it->v = v;
    it->k = 0;
    it->o = 0;
}

int qview_next(qview_iter *it, const char **s, size_t *n)
{
    if (it->k >= it->v->nodes) return 0;
    step(it->v->nd[it->k], &it->k, &it->o, s, n);
    return 1;
}

#define FAIL(...)                                                                            \
    do {                                                                                     \
        snprintf(why, len, __VA_ARGS__);                                                     \
        return -1;                                                                           \
    } while (0)

int qlist_check(const qlist *q, int fill, char *why, size_t len)
{
    size_t total = 0, mem = alloc_size(sizeof *q);
    if (q->rcap) mem += alloc_size(q->rcap * sizeof(qslot));
    if (q->nodes > q->rcap || (q->rcap & (q->rcap - 1))) FAIL("ring of %zu in %zu", q->nodes, q->rcap);
    if (!q->len != !q->nodes) FAIL("%zu elements in %zu nodes", q->len, q->nodes);
    for (size_t k = 0; k < q->nodes; k++) {
        qnode *nd = node(q, k), *prev = k ? node(q, k - 1) : NULL;
        const char *d = data(nd);
        size_t o, c, size, n, bn, bsize;
        if (!nd->count) FAIL("node %zu is empty", k);
        if (atomic_load_explicit(&nd->refs, memory_order_relaxed) < 1) FAIL("node %zu unheld", k);
        if ((size_t)nd->off + nd->used > nd->cap) FAIL("node %zu overflows", k);
        if (prev && start(q, k) != start(q, k - 1) + (int64_t)prev->count)
            FAIL("node %zu starts at %lld, after %lld+%u", k, (long long)start(q, k),
                 (long long)start(q, k - 1), prev->count);
        for (o = 0, c = 0; o < nd->used; o += size, c++) {
            ent_get(d + o, &n, &size);
            if (o + size > nd->used) FAIL("node %zu: element %zu runs over", k, c);
            ent_get_back(d + o + size, &bn, &bsize);
            if (bn != n || bsize != size) FAIL("node %zu: element %zu lengths differ", k, c);
        }
        if (c != nd->count) FAIL("node %zu counts %u, holds %zu", k, nd->count, c);
        for (o = nd->used, c = 0; o > 0; o -= size, c++) ent_get_back(d + o, &n, &size);
        if (c != nd->count) FAIL("node %zu walked back holds %zu", k, c);
        if (nd->count > q->max_count) FAIL("node %zu: %u elements", k, nd->count);
        if (nd->used > q->max_bytes && nd->count > 1) FAIL("node %zu: %u bytes", k, nd->used);
        if (fill && prev && mergeable(q, prev, nd))
            FAIL("nodes %zu and %zu would fit in one (%u+%u bytes, %u+%u elements)", k - 1, k,
                 prev->used, nd->used, prev->count, nd->count);
        total += nd->count;
        mem += alloc_size(HDR + nd->cap);
    }
    if (total != q->len) FAIL("nodes hold %zu, list says %zu", total, q->len);
    if (mem != q->mem) FAIL("memory counted %zu, allocated %zu", q->mem, mem);
    return 0;
}
