/* stream.c - the stream structure: nodes, the node array, appending,
 * deleting, trimming, walking, and the persisted form. See stream.h; the
 * kind's table is stream_kind.c. */
#include "types/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bgfree.h"
#include "lib/util.h"
#include "lib/varint.h"
#include "types/stream_bytes.h"
#include "types/stream_group.h"

/* Redis caps a listpack at 1 GB whatever stream-node-max-bytes says. */
#define LISTPACK_MAX ((uint64_t)1 << 30)

static long long lim_entries = 100, lim_bytes = 4096;

void stream_set_limits(long long max_entries, long long max_bytes)
{
    __atomic_store_n(&lim_entries, max_entries, __ATOMIC_RELAXED);
    __atomic_store_n(&lim_bytes, max_bytes, __ATOMIC_RELAXED);
}

long long stream_max_entries(void) { return __atomic_load_n(&lim_entries, __ATOMIC_RELAXED); }

/* ---- IDs ---- */

int sid_incr(stream_id *id)
{
    if (id->seq != UINT64_MAX) {
        id->seq++;
        return 0;
    }
    if (id->ms == UINT64_MAX) return -1;
    id->ms++;
    id->seq = 0;
    return 0;
}

int sid_decr(stream_id *id)
{
    if (id->seq != 0) {
        id->seq--;
        return 0;
    }
    if (id->ms == 0) return -1;
    id->ms--;
    id->seq = UINT64_MAX;
    return 0;
}

/* v in decimal at p; returns the digits written. Two digits a division. */
static size_t put_u64(char *p, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536"
                                "37383940414243444546474849505152535455565758596061626364656667686970717273"
                                "74757677787980818283848586878889909192939495969798" "99";
    char t[20];
    size_t n = 20, len;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        t[--n] = pairs[d + 1];
        t[--n] = pairs[d];
    }
    if (v >= 10) {
        t[--n] = pairs[v * 2 + 1];
        t[--n] = pairs[v * 2];
    } else {
        t[--n] = (char)('0' + v);
    }
    len = 20 - n;
    memcpy(p, t + n, len);
    return len;
}

size_t sid_fmt(char *buf, stream_id id)
{
    size_t n = put_u64(buf, id.ms);
    buf[n++] = '-';
    n += put_u64(buf + n, id.seq);
    buf[n] = '\0';
    return n;
}

/* ---- what Redis's listpack would take ---- */

/* Bytes of a listpack integer element (encoding and back length). */
static unsigned lp_int_size(int64_t v)
{
    if (v >= 0 && v <= 127) return 2;
    if (v >= -4096 && v <= 4095) return 3;
    if (v >= -32768 && v <= 32767) return 4;
    if (v >= -8388608 && v <= 8388607) return 5;
    if (v >= INT32_MIN && v <= INT32_MAX) return 6;
    return 10;
}

/* Bytes of a listpack element holding the string s (an integer when it
 * reads as one, as listpack stores it). */
static uint64_t lp_str_size(const char *s, size_t n)
{
    long long v;
    uint64_t enc;
    if (n > 0 && n < 21 && util_str2ll(s, n, &v) == 0) return lp_int_size(v);
    enc = (n < 64 ? 1 : n < 4096 ? 2 : 5) + (uint64_t)n;
    return enc + (enc <= 127 ? 1 : enc < 16383 ? 2 : enc < 2097151 ? 3 : enc < 268435455 ? 4 : 5);
}

/* ---- nodes ---- */


static size_t str_size(size_t n) { return varint_len(n) + n; }

static char *put_str(char *p, const char *s, size_t n)
{
    p += varint_put(p, n);
    memcpy(p, s, n);
    return p + n;
}

/* Read a string at p (bounded by end): its bytes and length, and what
 * follows; NULL when it runs past end. */
static const char *get_str(const char *p, const char *end, const char **s, size_t *n)
{
    uint64_t len;
    size_t k = varint_get(p, end, &len);
    if (!k || len > (uint64_t)(end - p - (ptrdiff_t)k)) return NULL;
    *s = p + k;
    *n = (size_t)len;
    return p + k + len;
}

/* Whether the fields of fv are the node's master fields, in order. */
static int same_fields(const snode *n, uint32_t nf, const slice *fv)
{
    const char *p = n->data, *end = n->data + n->entries, *s = NULL;
    size_t len = 0;
    if (nf != n->nfields) return 0;
    for (uint32_t i = 0; i < nf; i++) {
        p = get_str(p, end, &s, &len);
        if (len != fv[2 * i].n || (len && memcmp(s, fv[2 * i].p, len))) return 0;
    }
    return 1;
}

/* The entry's bytes in our encoding and in Redis's listpack. */
static size_t entry_size(const snode *n, stream_id id, uint32_t nf, const slice *fv, int same,
                         uint64_t *rbytes)
{
    uint64_t msd = id.ms - n->master.ms;
    int64_t seqd = (int64_t)(id.seq - n->master.seq);
    size_t b = 1 + (msd >= 63 ? varint_len(msd - 63) : 0) + varint_len(sb_zig(seqd));
    uint64_t r = 2 + lp_int_size((int64_t)msd) + lp_int_size(seqd);
    if (!same) {
        b += varint_len(nf);
        r += lp_int_size(nf);
    }
    for (uint32_t i = 0; i < nf; i++) {
        if (!same) {
            b += str_size(fv[2 * i].n);
            r += lp_str_size(fv[2 * i].p, fv[2 * i].n);
        }
        b += str_size(fv[2 * i + 1].n);
        r += lp_str_size(fv[2 * i + 1].p, fv[2 * i + 1].n);
    }
    r += lp_int_size((int64_t)nf + 3 + (same ? 0 : (int64_t)nf + 1));   /* lp-count */
    *rbytes = r;
    return b;
}

static char *put_entry(char *p, const snode *n, stream_id id, uint32_t nf, const slice *fv,
                       int same)
{
    uint64_t msd = id.ms - n->master.ms;
    *p++ = (char)((same ? SNODE_SAME : 0) | (msd >= 63 ? 63u : (unsigned)msd) << 2);
    if (msd >= 63) p += varint_put(p, msd - 63);
    p += varint_put(p, sb_zig((int64_t)(id.seq - n->master.seq)));
    if (!same) p += varint_put(p, nf);
    for (uint32_t i = 0; i < nf; i++) {
        if (!same) p = put_str(p, fv[2 * i].p, fv[2 * i].n);
        p = put_str(p, fv[2 * i + 1].p, fv[2 * i + 1].n);
    }
    return p;
}

size_t snode_mem(const snode *n) { return sizeof *n + n->cap; }

snode *snode_new(stream_id id, uint32_t nf, const slice *fv) { return snode_new_sized(id, nf, fv, 0); }

snode *snode_new_sized(stream_id id, uint32_t nf, const slice *fv, size_t hint)
{
    size_t mf = 0, cap;
    uint64_t r = 7 + lp_int_size(nf) + 2;   /* header, end, num-fields, the 0 terminator */
    snode *n;
    for (uint32_t i = 0; i < nf; i++) {
        mf += str_size(fv[2 * i].n);
        r += lp_str_size(fv[2 * i].p, fv[2 * i].n);
    }
    cap = mf + 64 > hint ? mf + 64 : hint;
    if (!(n = malloc(sizeof *n + cap))) return NULL;
    memset(n, 0, sizeof *n);
    n->cap = cap;
    n->nfields = nf;
    n->refs = 1;
    n->master = n->last = id;
    for (uint32_t i = 0; i < nf; i++)
        n->len = (size_t)(put_str(n->data + n->len, fv[2 * i].p, fv[2 * i].n) - n->data);
    n->entries = n->len;
    n->rfixed = r;
    if (snode_append(&n, id, nf, fv) < 0) {
        free(n);
        return NULL;
    }
    return n;
}

int snode_append(snode **np, stream_id id, uint32_t nf, const slice *fv)
{
    snode *n = *np;
    int same = same_fields(n, nf, fv);
    uint64_t r;
    size_t b = entry_size(n, id, nf, fv, same, &r);
    if (n->len + b > n->cap) {
        size_t cap = n->cap * 2 > n->len + b ? n->cap * 2 : n->len + b;
        snode *m;
        if (cap > 8192 && n->len + b <= 8192) cap = 8192;
        if (!(m = realloc(n, sizeof *n + cap))) return -1;
        n = *np = m;
        n->cap = cap;
    }
    put_entry(n->data + n->len, n, id, nf, fv, same);
    n->len += b;
    n->count++;
    n->live++;
    n->rfixed += r;
    n->last = id;
    return 0;
}

/* Give back what a node closed to appends does not use. */
static snode *snode_seal(snode *n)
{
    snode *m;
    if (n->cap == n->len || !(m = realloc(n, sizeof *n + n->len))) return n;
    m->cap = m->len;
    return m;
}

uint64_t snode_redis_bytes(const snode *n)
{
    return n->rfixed + lp_int_size(n->live) + lp_int_size((int64_t)n->count - n->live);
}

const char *snode_entry(const snode *n, const char *p, sentry *e)
{
    uint64_t v = 0;
    const char *end = n->data + n->len, *s;
    size_t len;
    unsigned b = (unsigned char)*p;
    e->at = p++;
    e->n = n;
    e->flags = b & 3u;
    e->id.ms = n->master.ms + (b >> 2);
    if ((b >> 2) == 63) {
        p += varint_get(p, end, &v);
        e->id.ms += v;
    }
    p += varint_get(p, end, &v);
    e->id.seq = n->master.seq + (uint64_t)sb_unzig(v);
    if (e->flags & SNODE_SAME) {
        e->nf = n->nfields;
    } else {
        p += varint_get(p, end, &v);
        e->nf = (uint32_t)v;
    }
    e->fv = p;
    for (uint64_t i = 0; i < (e->flags & SNODE_SAME ? e->nf : 2ull * e->nf); i++)
        p = get_str(p, end, &s, &len);
    e->end = p;
    return p;
}

void sfield_init(sfield *f, const sentry *e)
{
    f->same = (e->flags & SNODE_SAME) != 0;
    f->mf = e->n->data;
    f->p = e->fv;
    f->end = snode_end(e->n);
}

void sfield_next(sfield *f, const char **fp, size_t *fl, const char **vp, size_t *vl)
{
    if (f->same) f->mf = get_str(f->mf, f->end, fp, fl);
    else f->p = get_str(f->p, f->end, fp, fl);
    f->p = get_str(f->p, f->end, vp, vl);
}

void snode_mark_deleted(snode *n, const char *at)
{
    n->data[at - n->data] |= (char)SNODE_DELETED;
    n->live--;
}

int snode_check(snode *n)
{
    const char *p = n->data, *end = n->data + n->len, *s;
    size_t len;
    uint64_t v, r = 7 + lp_int_size(n->nfields) + 2;
    stream_id prev = {0, 0};
    if (n->nfields == 0) return -1;
    for (uint32_t i = 0; i < n->nfields; i++) {
        if (!(p = get_str(p, end, &s, &len))) return -1;
        r += lp_str_size(s, len);
    }
    n->entries = (size_t)(p - n->data);
    n->count = n->live = 0;
    while (p < end) {
        unsigned b = (unsigned char)*p++;
        stream_id id = {n->master.ms + (b >> 2), 0};
        uint64_t nf, msd;
        size_t k;
        int same = (b & SNODE_SAME) != 0;
        if (b >> 2 == 63) {
            if (!(k = varint_get(p, end, &v)) || v > UINT64_MAX - id.ms) return -1;
            id.ms += v;
            p += k;
        }
        if (!(k = varint_get(p, end, &v))) return -1;
        p += k;
        id.seq = n->master.seq + (uint64_t)sb_unzig(v);
        if (same) {
            nf = n->nfields;
        } else {
            if (!(k = varint_get(p, end, &nf)) || nf > (uint64_t)(end - p)) return -1;
            p += k;
        }
        if (nf == 0) return -1;
        msd = id.ms - n->master.ms;
        r += 2 + lp_int_size((int64_t)msd) + lp_int_size((int64_t)(id.seq - n->master.seq)) +
             (same ? 0 : lp_int_size((int64_t)nf)) +
             lp_int_size((int64_t)nf + 3 + (same ? 0 : (int64_t)nf + 1));
        for (uint64_t i = 0; i < (same ? nf : 2 * nf); i++) {
            if (!(p = get_str(p, end, &s, &len))) return -1;
            r += lp_str_size(s, len);
        }
        if (n->count ? sid_cmp(id, prev) <= 0 : sid_cmp(id, n->master) != 0) return -1;
        if (b & ~(0xfcu | SNODE_DELETED | SNODE_SAME)) return -1;
        prev = id;
        n->count++;
        if (!(b & SNODE_DELETED)) n->live++;
    }
    if (!n->count) return -1;
    n->last = prev;
    n->rfixed = r;
    return 0;
}

/* A copy of n with room for cap bytes (NULL when memory ran out). Its
 * fields one by one: refs may be changing under a view's thread. */
static snode *snode_clone(const snode *n, size_t cap)
{
    snode *m = malloc(sizeof *m + cap);
    if (!m) return NULL;
    m->len = n->len;
    m->cap = cap;
    m->count = n->count;
    m->live = n->live;
    m->nfields = n->nfields;
    m->refs = 1;
    m->entries = n->entries;
    m->rfixed = n->rfixed;
    m->master = n->master;
    m->last = n->last;
    memcpy(m->data, n->data, n->len);
    return m;
}

static void snode_put(snode *n)
{
    if (__atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) == 0) free(n);
}

/* ---- the node array ---- */

static sslot *slot(const stream *s, size_t i) { return &s->v[s->head + i]; }

static size_t base_mem(const stream *s) { return sizeof *s + s->cap * sizeof(sslot); }

stream *stream_new(void)
{
    stream *s = calloc(1, sizeof *s);
    if (s) s->mem = base_mem(s);
    return s;
}

void stream_free(stream *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nn; i++) snode_put(slot(s, i)->n);
    sg_free_all(s);
    free(s->v);
    free(s);
}

stream *stream_dup(const stream *s)
{
    stream *d = malloc(sizeof *d);
    if (!d) return NULL;
    *d = *s;
    d->groups = NULL;
    d->head = 0;
    d->cap = s->nn;
    d->v = s->nn ? malloc(s->nn * sizeof *d->v) : NULL;
    if (s->nn && !d->v) {
        free(d);
        return NULL;
    }
    for (size_t i = 0; i < s->nn; i++) {
        const snode *n = slot(s, i)->n;
        snode *m = snode_clone(n, n->len);
        if (!m) {
            d->nn = i;
            stream_free(d);
            return NULL;
        }
        d->v[i] = (sslot){n->master, m};
    }
    d->nn = s->nn;
    d->mem = base_mem(d);
    for (size_t i = 0; i < d->nn; i++) d->mem += snode_mem(d->v[i].n);
    if (s->groups) {   /* through their persisted form: one way to build them */
        buf b;
        const char *p;
        memset(&b, 0, sizeof b);
        sg_serialize(s, &b);
        p = b.data;
        sg_restore(d, &p, b.data + b.len);
        buf_free(&b);
    }
    return d;
}

/* The node at i, made the stream's alone (copied when a view shares it)
 * before it changes; NULL when memory ran out. */
static snode *own(stream *s, size_t i)
{
    snode *n = slot(s, i)->n, *m;
    if (__atomic_load_n(&n->refs, __ATOMIC_ACQUIRE) == 1) return n;
    if (!(m = snode_clone(n, n->cap))) return NULL;
    slot(s, i)->n = m;
    snode_put(n);
    return m;
}

/* Room for one more slot at the end. */
static int grow(stream *s)
{
    sslot *v;
    size_t cap;
    if (s->head + s->nn < s->cap) return 0;
    if (s->head > s->nn) {   /* slide back over what trimming left */
        memmove(s->v, s->v + s->head, s->nn * sizeof *s->v);
        s->head = 0;
        return 0;
    }
    cap = s->cap ? s->cap * 2 : 4;
    if (!(v = realloc(s->v, cap * sizeof *v))) return -1;
    s->mem += (cap - s->cap) * sizeof *v;
    s->v = v;
    s->cap = cap;
    return 0;
}

int stream_append(stream *s, stream_id id, uint32_t nf, const slice *fv)
{
    uint64_t tot = 0;
    size_t hint = 0;
    long long max_e = __atomic_load_n(&lim_entries, __ATOMIC_RELAXED);
    uint64_t max_b = (uint64_t)__atomic_load_n(&lim_bytes, __ATOMIC_RELAXED);
    snode *n;
    if (max_b == 0 || max_b > LISTPACK_MAX) max_b = LISTPACK_MAX;
    for (uint32_t i = 0; i < 2 * nf; i++) tot += fv[i].n;
    if (s->nn) {
        sslot *t = slot(s, s->nn - 1);
        n = t->n;
        hint = n->len + n->len / 8;   /* nodes of a stream tend to fill alike */
        if (snode_redis_bytes(n) + tot < max_b && !(max_e && n->count >= (uint64_t)max_e)) {
            size_t before;
            if (!(n = own(s, s->nn - 1))) return -1;
            before = snode_mem(n);
            if (snode_append(&t->n, id, nf, fv) < 0) return -1;
            s->mem += snode_mem(t->n) - before;
            goto added;
        }
        /* the tail is closed: give back its slack */
        if (__atomic_load_n(&n->refs, __ATOMIC_ACQUIRE) == 1) {
            size_t before = snode_mem(n);
            t->n = snode_seal(n);
            s->mem -= before - snode_mem(t->n);
        }
    }
    if (grow(s) < 0 || !(n = snode_new_sized(id, nf, fv, hint))) return -1;
    *slot(s, s->nn++) = (sslot){id, n};
    s->mem += snode_mem(n);
added:
    s->length++;
    s->entries_added++;
    s->last_id = id;
    if (s->length == 1) s->first_id = id;
    return 0;
}

/* Drop the node at i from the array. */
static void remove_node(stream *s, size_t i)
{
    snode *n = slot(s, i)->n;
    s->mem -= snode_mem(n);
    snode_put(n);
    if (i == 0) {
        s->head++;
    } else {
        memmove(slot(s, i), slot(s, i + 1), (s->nn - i - 1) * sizeof *s->v);
    }
    if (--s->nn == 0) s->head = 0;
}

/* The last node whose master ID is at most id, or -1. */
static ptrdiff_t find_node(const stream *s, stream_id id)
{
    size_t lo = 0, hi = s->nn;   /* answer in [lo-1, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sid_cmp(slot(s, mid)->master, id) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

int stream_delete(stream *s, stream_id id)
{
    ptrdiff_t i = find_node(s, id);
    const char *p;
    snode *n;
    sentry e;
    if (i < 0 || sid_cmp(id, slot(s, (size_t)i)->n->last) > 0) return 0;
    n = slot(s, (size_t)i)->n;
    for (p = snode_first(n); p < snode_end(n);) {
        p = snode_entry(n, p, &e);
        if (sid_cmp(e.id, id) < 0) continue;
        if (sid_cmp(e.id, id) > 0 || (e.flags & SNODE_DELETED)) return 0;
        if (n->live == 1) {
            remove_node(s, (size_t)i);
        } else {
            size_t off = (size_t)(e.at - n->data);
            if (!(n = own(s, (size_t)i))) return 0;   /* no memory: nothing deleted */
            snode_mark_deleted(n, n->data + off);
        }
        s->length--;
        return 1;
    }
    return 0;
}

/* Free nodes trimmed off the head: many of them on the background thread. */
typedef struct node_batch {
    size_t n;
    snode *v[];
} node_batch;

static void put_batch(void *p)
{
    node_batch *b = p;
    for (size_t i = 0; i < b->n; i++) snode_put(b->v[i]);
    free(b);
}

/* Drop the first k nodes. */
static void remove_head(stream *s, size_t k)
{
    node_batch *b = k >= 64 ? malloc(sizeof *b + k * sizeof(snode *)) : NULL;
    for (size_t i = 0; i < k; i++) {
        snode *n = slot(s, i)->n;
        s->mem -= snode_mem(n);
        if (b) b->v[i] = n;
        else snode_put(n);
    }
    if (b) {
        b->n = k;
        bgfree_submit(put_batch, b);
    }
    s->head += k;
    s->nn -= k;
    if (s->nn == 0) s->head = 0;
}

int64_t stream_trim(stream *s, const stream_trim_args *a, int dry)
{
    int64_t deleted = 0;
    uint64_t len = s->length;
    size_t i = 0;
    if (a->strategy == STREAM_TRIM_NONE) return 0;
    for (; i < s->nn; i++) {
        snode *n = slot(s, i)->n;
        int remove;
        if (a->strategy == STREAM_TRIM_MAXLEN && len <= (uint64_t)a->maxlen) break;
        if (a->limit && deleted + n->live > a->limit) break;
        if (a->strategy == STREAM_TRIM_MAXLEN) remove = len - n->live >= (uint64_t)a->maxlen;
        else remove = sid_cmp(n->last, a->minid) < 0;
        if (remove) {
            len -= n->live;
            deleted += n->live;
            if (dry && deleted) return deleted;   /* a dry run only tells whether */
            continue;
        }
        if (a->approx || (!dry && !(n = own(s, i)))) break;
        for (const char *p = snode_first(n); p < snode_end(n);) {
            sentry e;
            const char *next = snode_entry(n, p, &e);
            int stop;
            if (a->strategy == STREAM_TRIM_MAXLEN) {
                stop = len <= (uint64_t)a->maxlen;
            } else {
                /* Redis reads the deltas into an int */
                stream_id cur = {n->master.ms + (uint64_t)(int64_t)(int)(e.id.ms - n->master.ms),
                                 n->master.seq + (uint64_t)(int64_t)(int)(e.id.seq - n->master.seq)};
                stop = sid_cmp(cur, a->minid) >= 0;
            }
            if (stop) break;
            if (!(e.flags & SNODE_DELETED)) {
                if (dry) return 1;
                snode_mark_deleted(n, e.at);
                len--;
                deleted++;
            }
            p = next;
        }
        break;
    }
    if (!dry) {
        remove_head(s, i);
        s->length = len;
        if (deleted && stream_edge(s, 0, &s->first_id) < 0) s->first_id = (stream_id){0, 0};
    }
    return deleted;
}

int stream_has(const stream *s, stream_id id)
{
    ptrdiff_t i = find_node(s, id);
    const snode *n;
    sentry e;
    if (i < 0 || sid_cmp(id, slot(s, (size_t)i)->n->last) > 0) return 0;
    n = slot(s, (size_t)i)->n;
    for (const char *p = snode_first(n); p < snode_end(n);) {
        p = snode_entry(n, p, &e);
        if (sid_cmp(e.id, id) >= 0) return sid_cmp(e.id, id) == 0 && !(e.flags & SNODE_DELETED);
    }
    return 0;
}

int stream_edge(const stream *s, int last, stream_id *id)
{
    stream_iter it;
    sentry e;
    stream_id lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    int found;
    stream_iter_init(&it, s, lo, hi, last);
    found = stream_iter_next(&it, &e);
    stream_iter_done(&it);
    if (found) *id = e.id;
    return found ? 0 : -1;
}

/* ---- Redis's radix tree ---- */

static size_t key_lcp(stream_id a, stream_id b)
{
    unsigned char x[16], y[16];
    size_t i = 0;
    for (int k = 0; k < 8; k++) {
        x[k] = (unsigned char)(a.ms >> (56 - 8 * k));
        x[8 + k] = (unsigned char)(a.seq >> (56 - 8 * k));
        y[k] = (unsigned char)(b.ms >> (56 - 8 * k));
        y[8 + k] = (unsigned char)(b.seq >> (56 - 8 * k));
    }
    while (i < 16 && x[i] == y[i]) i++;
    return i;
}

/* The nodes of a radix tree with path compression over the 16-byte
 * big-endian keys: one per branching prefix and per key, one per
 * compressed run between them, and the root. Built from the keys' common
 * prefixes, as a stack of the branching depths on the rightmost path. */
uint64_t stream_rax_nodes(const stream *s)
{
    size_t stack[17], sp = 0;
    uint64_t nodes = s->nn, extra = 0;
    size_t last = 0;
    if (s->nn == 0) return 1;
    for (size_t i = 0; i < s->nn; i++) {
        long l = i + 1 < s->nn ? (long)key_lcp(slot(s, i)->master, slot(s, i + 1)->master) : -1;
        last = 16;
        while (sp && (long)stack[sp - 1] > l) {
            size_t top = stack[--sp];
            if (last - top > 1) extra++;
            last = top;
        }
        if (l < 0) break;
        if (!(sp && stack[sp - 1] == (size_t)l)) {
            stack[sp++] = (size_t)l;
            nodes++;
        }
        if (last - (size_t)l > 1) extra++;
    }
    return nodes + extra + (last > 0 ? 1 : 0);
}

/* ---- walking ---- */

/* Set up the walk of node `slot` (the entries' offsets when going back). */
static void iter_node(stream_iter *it)
{
    const snode *n = slot(it->s, it->slot)->n;
    if (!it->rev) {
        it->p = snode_first(n);
        return;
    }
    it->noffs = 0;
    for (const char *p = snode_first(n); p < snode_end(n);) {
        sentry e;
        if (it->noffs == it->cap) {
            it->cap = it->cap ? it->cap * 2 : 128;
            it->offs = xrealloc(it->offs, it->cap * sizeof *it->offs);
        }
        it->offs[it->noffs++] = p;
        p = snode_entry(n, p, &e);
    }
    it->k = it->noffs;
}

void stream_iter_init(stream_iter *it, const stream *s, stream_id start, stream_id end, int rev)
{
    ptrdiff_t i;
    memset(it, 0, sizeof *it);
    it->s = s;
    it->start = start;
    it->end = end;
    it->rev = rev;
    if (!s->nn || sid_cmp(start, end) > 0) {
        it->done = 1;
        return;
    }
    i = find_node(s, rev ? end : start);
    if (i < 0) {
        if (rev) {
            it->done = 1;
            return;
        }
        i = 0;
    }
    it->slot = (size_t)i;
    iter_node(it);
}

int stream_iter_next(stream_iter *it, sentry *e)
{
    while (!it->done) {
        const snode *n = slot(it->s, it->slot)->n;
        if (!it->rev) {
            if (it->p < snode_end(n)) {
                it->p = snode_entry(n, it->p, e);
                if (sid_cmp(e->id, it->start) < 0 || (e->flags & SNODE_DELETED)) continue;
                if (sid_cmp(e->id, it->end) > 0) break;
                return 1;
            }
            if (++it->slot == it->s->nn) break;
        } else {
            if (it->k) {
                snode_entry(n, it->offs[--it->k], e);
                if (sid_cmp(e->id, it->end) > 0 || (e->flags & SNODE_DELETED)) continue;
                if (sid_cmp(e->id, it->start) < 0) break;
                return 1;
            }
            if (it->slot-- == 0) break;
        }
        iter_node(it);
    }
    it->done = 1;
    return 0;
}

void stream_iter_done(stream_iter *it)
{
    free(it->offs);
    it->offs = NULL;
}

/* ---- the persisted form ----
 * varints: length, entries-added, last-id, first-id, max-deleted-id (ms,
 * seq each), the node count; per node its master ID, field count and byte
 * count, then its bytes; then the consumer groups (stream_group.c). */

static void put_head(buf *out, const stream *s, size_t nn)
{
    sb_put_u(out, s->length);
    sb_put_u(out, s->entries_added);
    sb_put_id(out, s->last_id);
    sb_put_id(out, s->first_id);
    sb_put_id(out, s->max_deleted);
    sb_put_u(out, nn);
}

static void put_node(buf *out, const snode *n)
{
    sb_put_id(out, n->master);
    sb_put_u(out, n->nfields);
    sb_put_u(out, n->len);
    buf_append(out, n->data, n->len);
}

void stream_serialize(const stream *s, buf *out)
{
    put_head(out, s, s->nn);
    for (size_t i = 0; i < s->nn; i++) put_node(out, slot(s, i)->n);
    sg_serialize(s, out);
}

stream *stream_restore(const char *p, size_t len)
{
    sb_reader r = {p, p + len, 0};
    stream *s = stream_new();
    uint64_t nn, total = 0;
    stream_id prev = {0, 0};
    if (!s) return NULL;
    s->length = sb_get_u(&r);
    s->entries_added = sb_get_u(&r);
    s->last_id = sb_get_id(&r);
    s->first_id = sb_get_id(&r);
    s->max_deleted = sb_get_id(&r);
    nn = sb_get_u(&r);
    if (r.bad || nn > len) goto bad;
    if (nn) {
        if (!(s->v = malloc(nn * sizeof *s->v))) goto bad;
        s->cap = nn;
    }
    for (uint64_t i = 0; i < nn; i++) {
        stream_id m = sb_get_id(&r);
        uint64_t nf = sb_get_u(&r), bytes = sb_get_u(&r);
        snode *n;
        if (r.bad || bytes > (uint64_t)(r.end - r.p) || nf > bytes) goto bad;
        if (!(n = malloc(sizeof *n + bytes))) goto bad;
        memset(n, 0, sizeof *n);
        n->len = n->cap = bytes;
        n->nfields = (uint32_t)nf;
        n->refs = 1;
        n->master = m;
        memcpy(n->data, r.p, bytes);
        r.p += bytes;
        s->v[s->nn++] = (sslot){m, n};
        if (snode_check(n) < 0 || (i && sid_cmp(m, prev) <= 0)) goto bad;
        prev = n->last;
        total += n->live;
    }
    if (r.bad || sg_restore(s, &r.p, r.end) < 0 || r.p != r.end || total != s->length) goto bad;
    if (s->nn && sid_cmp(prev, s->last_id) > 0) goto bad;
    s->mem += base_mem(s) - sizeof *s;   /* the groups are counted already */
    for (size_t i = 0; i < s->nn; i++) s->mem += snode_mem(s->v[i].n);
    return s;
bad:
    stream_free(s);
    return NULL;
}

/* ---- frozen views ---- */

typedef struct sview {
    stream head;            /* the counters as they were (v unused) */
    size_t nn;
    snode **nodes;
    buf groups;             /* their persisted form */
} sview;

void *stream_view(const stream *s)
{
    sview *v = malloc(sizeof *v);
    if (!v) return NULL;
    v->head = *s;
    v->nn = s->nn;
    memset(&v->groups, 0, sizeof v->groups);
    sg_serialize(s, &v->groups);
    v->nodes = s->nn ? malloc(s->nn * sizeof *v->nodes) : NULL;
    if (s->nn && !v->nodes) {
        buf_free(&v->groups);
        free(v);
        return NULL;
    }
    for (size_t i = 0; i < s->nn; i++) {
        v->nodes[i] = slot(s, i)->n;
        __atomic_add_fetch(&v->nodes[i]->refs, 1, __ATOMIC_RELAXED);
    }
    return v;
}

void stream_view_serialize(void *view, buf *out)
{
    sview *v = view;
    put_head(out, &v->head, v->nn);
    for (size_t i = 0; i < v->nn; i++) put_node(out, v->nodes[i]);
    buf_append(out, v->groups.data, v->groups.len);
}

void stream_view_release(void *view)
{
    sview *v = view;
    for (size_t i = 0; i < v->nn; i++) snode_put(v->nodes[i]);
    buf_free(&v->groups);
    free(v->nodes);
    free(v);
}
