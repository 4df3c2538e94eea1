/* tracking.c - see tracking.h. */
#include "pubsub/tracking.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/slice.h"
#include "lib/table.h"
#include "lib/util.h"
#include "proto/resp.h"

_Thread_local uint64_t tracking_origin;
_Thread_local size_t tracking_changed;
/* The keys this thread changed since its last broadcast, each its origin
 * (a uint64_t), a size_t length, then the bytes. */
static _Thread_local buf changed;

/* A BCAST prefix and its clients. */
typedef struct tprefix {
    uint64_t *ids;           /* sorted */
    size_t n, cap;
    uint64_t *nl;            /* those of them in NOLOOP mode, sorted */
    size_t nln, nlcap;
    size_t plen;
    char p[];
} tprefix;

/* A key some clients read; in its stripe's table and in its age list. */
typedef struct tkey {
    uint64_t h;
    uint64_t seq;            /* when it came into the table: the oldest go first */
    struct tkey *older, *newer;
    uint64_t *ids;           /* sorted, no repeats */
    size_t n, cap;
    size_t klen;
    char key[];
} tkey;

typedef struct tstripe {
    pthread_mutex_t mu;
    table t;                 /* name -> tkey */
    tkey *oldest, *newest;
} tstripe;

struct tracking {
    pubsub *bus;
    uint64_t sip[2];
    atomic_llong max_keys;
    atomic_llong keys, items;
    atomic_ullong seq;
    tstripe s[PS_STRIPES];
    pthread_rwlock_t plock;  /* guards the prefixes: */
    tprefix **pv;
    size_t pn, pcap;
    atomic_long npref;
};

static uint64_t tkey_hash(const void *obj, const void *ctx)
{
    (void)ctx;
    return ((const tkey *)obj)->h;
}

static int tkey_match(const void *obj, const void *key, size_t klen)
{
    const tkey *k = obj;
    return k->klen == klen && memcmp(k->key, key, klen) == 0;
}

static const table_ops tkey_ops = {tkey_hash, tkey_match};

tracking *tracking_create(pubsub *bus)
{
    tracking *t = xcalloc(1, sizeof *t);
    t->bus = bus;
    if (util_random_bytes(t->sip, sizeof t->sip) < 0) t->sip[0] = (uint64_t)util_now_us();
    atomic_init(&t->max_keys, 1000000);
    pthread_rwlock_init(&t->plock, NULL);
    for (int i = 0; i < PS_STRIPES; i++) {
        pthread_mutex_init(&t->s[i].mu, NULL);
        table_init(&t->s[i].t, &tkey_ops, NULL);
    }
    return t;
}

/* Take k out of its stripe (locked); the caller frees it. */
static void unlink_key(tracking *t, tstripe *s, tkey *k, table_pos *pos)
{
    table_delete(&s->t, pos);
    if (k->older) k->older->newer = k->newer;
    else s->oldest = k->newer;
    if (k->newer) k->newer->older = k->older;
    else s->newest = k->older;
    atomic_fetch_sub(&t->keys, 1);
    atomic_fetch_sub(&t->items, (long long)k->n);
}

static void free_keys(tkey *k)
{
    while (k) {
        tkey *next = k->newer;
        free(k->ids);
        free(k);
        k = next;
    }
}

void tracking_destroy(tracking *t)
{
    if (!t) return;
    for (int i = 0; i < PS_STRIPES; i++) {
        free_keys(t->s[i].oldest);
        table_destroy(&t->s[i].t);
        pthread_mutex_destroy(&t->s[i].mu);
    }
    for (size_t i = 0; i < t->pn; i++) {
        free(t->pv[i]->ids);
        free(t->pv[i]->nl);
        free(t->pv[i]);
    }
    free(t->pv);
    pthread_rwlock_destroy(&t->plock);
    free(t);
}

void tracking_set_max_keys(tracking *t, long long max) { atomic_store(&t->max_keys, max); }

/* Where id is or goes in a sorted array of n. */
static size_t ids_find(const uint64_t *ids, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Add id to a sorted array: 1, or 0 when it was there. */
static int ids_add(uint64_t **ids, size_t *n, size_t *cap, uint64_t id)
{
    size_t at = ids_find(*ids, *n, id);
    if (at < *n && (*ids)[at] == id) return 0;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 2;
        *ids = xrealloc(*ids, sizeof **ids * *cap);
    }
    memmove(*ids + at + 1, *ids + at, sizeof **ids * (*n - at));
    (*ids)[at] = id;
    (*n)++;
    return 1;
}

static tstripe *stripe_for(tracking *t, uint64_t h) { return &t->s[(h >> 40) % PS_STRIPES]; }

/* Send m to each of n client ids, one message for all; takes the
 * reference. */
static void post_shared(tracking *t, const uint64_t *ids, size_t n, ps_msg *m)
{
    for (size_t i = 0; i < n; i++) {
        atomic_fetch_add(&m->refs, 1);
        ps_post(t->bus, ids[i], m);
    }
    ps_msg_release(m);
}

/* Tell each client of k (unlinked) that it changed, and free it. */
static void send_invalidation(tracking *t, tkey *k, uint64_t origin)
{
    char hdr[48];
    int hl = snprintf(hdr, sizeof hdr, "*1\r\n$%zu\r\n", k->klen);
    ps_msg *m = ps_msg_new(PS_MSG_INVALIDATE, origin, NULL, (size_t)hl + k->klen + 2);
    memcpy(m->body, hdr, (size_t)hl);
    memcpy(m->body + hl, k->key, k->klen);
    memcpy(m->body + hl + k->klen, "\r\n", 2);
    post_shared(t, k->ids, k->n, m);
    free(k->ids);
    free(k);
}

/* Invalidate the oldest key of the table (for room): 0 when it is empty. */
static int evict_oldest(tracking *t)
{
    tstripe *best = NULL;
    uint64_t oldest = UINT64_MAX;
    tkey *k;
    table_pos pos;
    for (int i = 0; i < PS_STRIPES; i++) {   /* only when full: a look at each stripe's oldest */
        tstripe *s = &t->s[i];
        pthread_mutex_lock(&s->mu);
        if (s->oldest && s->oldest->seq < oldest) {
            oldest = s->oldest->seq;
            best = s;
        }
        pthread_mutex_unlock(&s->mu);
    }
    if (!best) return 0;
    pthread_mutex_lock(&best->mu);
    k = best->oldest;   /* (or a key that came meanwhile, if that went) */
    if (k) {
        table_find(&best->t, k->h, k->key, k->klen, &pos);
        unlink_key(t, best, k, &pos);
    }
    pthread_mutex_unlock(&best->mu);
    if (k) send_invalidation(t, k, 0);
    return 1;
}

void tracking_remember(tracking *t, uint64_t id, const char *key, size_t n)
{
    uint64_t h = hash_siphash13(key, n, t->sip);
    tstripe *s = stripe_for(t, h);
    tkey *k;
    int added = 0;
    long long max = atomic_load_explicit(&t->max_keys, memory_order_relaxed);
    pthread_mutex_lock(&s->mu);
    k = table_find(&s->t, h, key, n, NULL);
    if (!k) {
        k = xcalloc(1, sizeof *k + n);
        k->h = h;
        k->seq = atomic_fetch_add(&t->seq, 1);
        k->klen = n;
        memcpy(k->key, key, n);
        table_insert(&s->t, h, k, 0);
        k->older = s->newest;
        if (s->newest) s->newest->newer = k;
        else s->oldest = k;
        s->newest = k;
        atomic_fetch_add(&t->keys, 1);
        added = 1;
    }
    if (ids_add(&k->ids, &k->n, &k->cap, id)) atomic_fetch_add(&t->items, 1);
    pthread_mutex_unlock(&s->mu);
    /* Full: the oldest keys make room, their clients told as of a change. */
    while (added && max > 0 && atomic_load(&t->keys) > max && evict_oldest(t)) {
    }
}

void tracking_invalidate(tracking *t, const char *key, size_t n)
{
    uint64_t h;
    tstripe *s;
    tkey *k;
    table_pos pos;
    if (atomic_load_explicit(&t->npref, memory_order_relaxed)) {   /* for the broadcast */
        buf_append(&changed, &tracking_origin, sizeof tracking_origin);
        buf_append(&changed, &n, sizeof n);
        buf_append(&changed, key, n);
        tracking_changed++;
    }
    if (atomic_load_explicit(&t->keys, memory_order_relaxed) == 0) return;
    h = hash_siphash13(key, n, t->sip);
    s = stripe_for(t, h);
    pthread_mutex_lock(&s->mu);
    k = table_find(&s->t, h, key, n, &pos);
    if (k) unlink_key(t, s, k, &pos);
    pthread_mutex_unlock(&s->mu);
    if (k) send_invalidation(t, k, tracking_origin);
}

void tracking_flush(tracking *t)
{
    if (ps_count_state(t->bus, PS_ST_TRACKING))
        ps_post_all(t->bus, PS_ST_TRACKING, ps_msg_new(PS_MSG_INVALIDATE, tracking_origin, NULL, 0));
    for (int i = 0; i < PS_STRIPES; i++) {
        tstripe *s = &t->s[i];
        tkey *all;
        pthread_mutex_lock(&s->mu);
        all = s->oldest;
        for (tkey *k = all; k; k = k->newer) {
            atomic_fetch_sub(&t->keys, 1);
            atomic_fetch_sub(&t->items, (long long)k->n);
        }
        s->oldest = s->newest = NULL;
        table_destroy(&s->t);
        table_init(&s->t, &tkey_ops, NULL);
        pthread_mutex_unlock(&s->mu);
        free_keys(all);
    }
}

long long tracking_keys(tracking *t) { return atomic_load(&t->keys); }
long long tracking_items(tracking *t) { return atomic_load(&t->items); }

/* ---- broadcasting ---- */


static tprefix *prefix_find(tracking *t, const char *p, size_t n, size_t *at)
{
    for (size_t i = 0; i < t->pn; i++)
        if (t->pv[i]->plen == n && memcmp(t->pv[i]->p, p, n) == 0) {
            if (at) *at = i;
            return t->pv[i];
        }
    return NULL;
}

/* Take id out of a sorted array: 1 when it was there. */
static int ids_del(uint64_t *ids, size_t *n, uint64_t id)
{
    size_t i = ids_find(ids, *n, id);
    if (i == *n || ids[i] != id) return 0;
    memmove(ids + i, ids + i + 1, sizeof *ids * (*n - i - 1));
    (*n)--;
    return 1;
}

void tracking_bcast_add(tracking *t, uint64_t id, const char *prefix, size_t n, int noloop)
{
    tprefix *p;
    pthread_rwlock_wrlock(&t->plock);
    p = prefix_find(t, prefix, n, NULL);
    if (!p) {
        p = xcalloc(1, sizeof *p + n);
        p->plen = n;
        memcpy(p->p, prefix, n);
        size_t at = 0;
        if (t->pn == t->pcap) {
            t->pcap = t->pcap ? t->pcap * 2 : 8;
            t->pv = xrealloc(t->pv, sizeof *t->pv * t->pcap);
        }
        /* kept in byte order: a change is told of prefix by prefix in
         * that order, as Redis walks its radix tree */
        while (at < t->pn && slice_cmp(t->pv[at]->p, t->pv[at]->plen, prefix, n) < 0) at++;
        memmove(t->pv + at + 1, t->pv + at, sizeof *t->pv * (t->pn - at));
        t->pv[at] = p;
        t->pn++;
        atomic_fetch_add(&t->npref, 1);
    }
    ids_add(&p->ids, &p->n, &p->cap, id);
    if (noloop) ids_add(&p->nl, &p->nln, &p->nlcap, id);
    else ids_del(p->nl, &p->nln, id);
    pthread_rwlock_unlock(&t->plock);
}

void tracking_bcast_remove(tracking *t, uint64_t id, const char *prefix, size_t n)
{
    size_t at;
    tprefix *p;
    pthread_rwlock_wrlock(&t->plock);
    p = prefix_find(t, prefix, n, &at);
    if (p && ids_del(p->ids, &p->n, id)) {
        ids_del(p->nl, &p->nln, id);
        if (p->n == 0) {
            memmove(t->pv + at, t->pv + at + 1, sizeof *t->pv * (--t->pn - at));
            free(p->ids);
            free(p->nl);
            free(p);
            atomic_fetch_sub(&t->npref, 1);
        }
    }
    pthread_rwlock_unlock(&t->plock);
}

long long tracking_prefixes(tracking *t) { return atomic_load(&t->npref); }


typedef struct kv {
    const char *p;
    size_t n;
    uint64_t origin;
    size_t seq;              /* the order of the changes: the last origin counts */
} kv;

static int kv_cmp(const void *a, const void *b)
{
    const kv *x = a, *y = b;
    int c = slice_cmp(x->p, x->n, y->p, y->n);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The keys of k[0..nk) under prefix p as a RESP array, leaving out those
 * last changed by skip (0: none): 0 when there are none. */
static size_t prefix_body(const tprefix *p, const kv *k, size_t nk, uint64_t skip, buf *out)
{
    size_t count = 0;
    buf body = {0};
    for (size_t i = 0; i < nk; i++) {
        if (k[i].n < p->plen || memcmp(k[i].p, p->p, p->plen) != 0) continue;
        if (skip && k[i].origin == skip) continue;
        resp_bulk(&body, k[i].p, k[i].n);
        count++;
    }
    if (count) {
        resp_array(out, (long long)count);
        buf_append(out, body.data, body.len);
    }
    buf_free(&body);
    return count;
}

static ps_msg *bcast_msg(const buf *b) { return ps_msg_new(PS_MSG_BROADCAST, 0, b->data, b->len); }

void tracking_bcast_flush(tracking *t)
{
    size_t nk = 0, off = 0, w = 0;
    kv *keys;
    if (!tracking_changed) return;
    keys = xmalloc(sizeof *keys * tracking_changed);
    while (off < changed.len) {
        kv *k = &keys[nk];
        memcpy(&k->origin, changed.data + off, sizeof k->origin);
        memcpy(&k->n, changed.data + off + sizeof k->origin, sizeof k->n);
        k->p = changed.data + off + sizeof k->origin + sizeof k->n;
        k->seq = nk++;
        off += sizeof k->origin + sizeof k->n + k->n;
    }
    /* sorted as Redis's radix tree gives them; a key changed twice once,
     * with the origin of its last change */
    qsort(keys, nk, sizeof *keys, kv_cmp);
    for (size_t i = 0; i < nk; i++) {
        if (w && keys[w - 1].n == keys[i].n && memcmp(keys[w - 1].p, keys[i].p, keys[i].n) == 0) w--;
        keys[w++] = keys[i];
    }
    nk = w;
    pthread_rwlock_rdlock(&t->plock);
    for (size_t i = 0; i < t->pn; i++) {
        const tprefix *p = t->pv[i];
        buf common = {0};
        uint64_t *plain;
        size_t np = 0;
        if (!prefix_body(p, keys, nk, 0, &common)) continue;
        plain = xmalloc(sizeof *plain * p->n);
        for (size_t j = 0; j < p->n; j++) {
            uint64_t id = p->ids[j];
            size_t at = ids_find(p->nl, p->nln, id);
            if (at < p->nln && p->nl[at] == id) {   /* NOLOOP: not its own changes */
                buf own = {0};
                if (prefix_body(p, keys, nk, id, &own)) ps_post(t->bus, id, bcast_msg(&own));
                buf_free(&own);
            } else {
                plain[np++] = id;
            }
        }
        post_shared(t, plain, np, bcast_msg(&common));   /* one message for all the others */
        free(plain);
        buf_free(&common);
    }
    pthread_rwlock_unlock(&t->plock);
    free(keys);
    changed.len = 0;
    if (changed.cap > (1u << 20)) buf_free(&changed);   /* a huge batch once is let go */
    tracking_changed = 0;
}

void tracking_thread_done(void)
{
    buf_free(&changed);
    tracking_changed = 0;
}
