/* watch.c - WATCH: which sessions watch which keys, kept per shard.
 *
 * Each shard has a small hash table of the keys watched in it (a wkey per
 * key), each with the list of its watchers (a wnode per session and key).
 * A session keeps its own list of wnodes, so UNWATCH and disconnecting cost
 * O(keys watched), and a write to a key nobody watches in its shard costs
 * one test of a count. Everything here is guarded by the shard's lock; the
 * dirty flag a wnode points to belongs to its session and is set from any
 * thread, hence atomic.
 *
 * As in Redis 7, a key that had logically expired when it was watched is
 * not changed by its deletion (the deletion merely makes official what the
 * client saw), and a key that expires after it was watched makes EXEC fail
 * even if nobody touched it (ks_watch_check). */
#include <stdlib.h>
#include <string.h>

#include "store/keyspace_int.h"
#include "lib/util.h"

typedef struct wkey {
    struct wkey *next;      /* in the shard's bucket */
    struct wnode *nodes;    /* its watchers */
    uint64_t h;
    size_t klen;
    char key[];
} wkey;

struct wnode {
    wkey *k;
    domain *d;              /* referenced while the watch lasts */
    shard *s;
    atomic_int *dirty;      /* the watching session's flag */
    struct wnode *kprev, *knext;   /* k's watchers */
    struct wnode *snext;           /* the session's watches */
    int expired;            /* the key had expired when it was watched */
};

static size_t bucket(const ks_wtab *wt, uint64_t h) { return (size_t)(h ^ (h >> 29)) & wt->mask; }

static wkey *find_key(ks_wtab *wt, uint64_t h, const char *key, size_t klen)
{
    if (!wt->n) return NULL;
    for (wkey *k = wt->b[bucket(wt, h)]; k; k = k->next)
        if (k->h == h && k->klen == klen && memcmp(k->key, key, klen) == 0) return k;
    return NULL;
}

static void grow(ks_wtab *wt)
{
    size_t cap = wt->b ? (wt->mask + 1) * 2 : 8;
    wkey **nb = xcalloc(cap, sizeof *nb);
    for (size_t i = 0; wt->b && i <= wt->mask; i++) {
        wkey *k = wt->b[i], *next;
        for (; k; k = next) {
            size_t j = (size_t)(k->h ^ (k->h >> 29)) & (cap - 1);
            next = k->next;
            k->next = nb[j];
            nb[j] = k;
        }
    }
    free(wt->b);
    wt->b = nb;
    wt->mask = cap - 1;
}

static void remove_key(ks_wtab *wt, wkey *k)
{
    wkey **pp = &wt->b[bucket(wt, k->h)];
    while (*pp != k) pp = &(*pp)->next;
    *pp = k->next;
    free(k);
    if (--wt->n == 0) {
        free(wt->b);
        wt->b = NULL;
        wt->mask = 0;
    }
}

/* A change to k's key (gone: it was deleted): mark its watchers, except
 * those that saw it expired, when it is now gone (no logical change; the
 * flag is spent). */
static void touch_key(wkey *k, int gone)
{
    for (struct wnode *n = k->nodes; n; n = n->knext) {
        if (n->expired && gone) {
            n->expired = 0;
            continue;
        }
        atomic_store_explicit(n->dirty, 1, memory_order_relaxed);
    }
}

void ks__watch_touch_slow(shard *s, uint64_t h, const char *key, size_t klen, int gone)
{
    wkey *k = find_key(&s->watch, h, key, klen);
    if (k) touch_key(k, gone);
}

void ks__watch_flush(shard *s)
{
    for (size_t i = 0; s->watch.n && i <= s->watch.mask; i++)
        for (wkey *k = s->watch.b[i]; k; k = k->next) {
            table_pos pos;
            /* a watched key that did not exist is not changed by emptying */
            if (table_find(&s->t, k->h, k->key, k->klen, &pos)) touch_key(k, 1);
        }
}

int ks_watch(keyspace *ks, domain *d, const char *key, size_t klen, uint64_t h,
             ks_watcher *w, int64_t now)
{
    kref r;
    wkey *k;
    struct wnode *n;
    item *it;
    /* A watch keeps its domain alive, so it takes a max-domains slot as a
     * write would: a client cannot pile up domains by watching in them. */
    if (ks_domain_claim(ks, d) < 0) return -1;
    ks_ref_hashed(ks, d, key, klen, h, &r);
    n = xcalloc(1, sizeof *n);
    ks_lock(&r);
    k = find_key(&r.s->watch, h, key, klen);
    if (!k) {
        ks_wtab *wt = &r.s->watch;
        if (wt->n >= (wt->b ? wt->mask + 1 : 0)) grow(wt);
        k = xmalloc(sizeof *k + klen);
        k->h = h;
        k->klen = klen;
        memcpy(k->key, key, klen);
        k->nodes = NULL;
        k->next = wt->b[bucket(wt, h)];
        wt->b[bucket(wt, h)] = k;
        wt->n++;
    }
    it = table_find(&r.s->t, h, key, klen, &r.pos);
    n->expired = it && item_has_ttl(it) && item_expire(it) <= now;
    n->k = k;
    n->s = r.s;
    n->d = d;
    ks_domain_hold(d);
    n->dirty = &w->dirty;
    n->knext = k->nodes;
    if (k->nodes) k->nodes->kprev = n;
    k->nodes = n;
    ks_unlock(&r);
    n->snext = w->nodes;
    w->nodes = n;
    w->count++;
    return 0;
}

void ks_unwatch_all(keyspace *ks, ks_watcher *w)
{
    struct wnode *n = w->nodes, *next;
    for (; n; n = next) {
        shard *s = n->s;
        wkey *k = n->k;
        next = n->snext;
        pthread_mutex_lock(&s->lock);
        if (n->kprev) n->kprev->knext = n->knext;
        else k->nodes = n->knext;
        if (n->knext) n->knext->kprev = n->kprev;
        if (!k->nodes) remove_key(&s->watch, k);
        pthread_mutex_unlock(&s->lock);
        ks_domain_put(ks, n->d);
        free(n);
    }
    w->nodes = NULL;
    w->count = 0;
    atomic_store(&w->dirty, 0);
}

int ks_watch_check(keyspace *ks, ks_watcher *w, int64_t now)
{
    (void)ks;
    for (struct wnode *n = w->nodes; n && !atomic_load(&w->dirty); n = n->snext) {
        table_pos pos;
        item *it;
        if (n->expired) continue;   /* already expired when watched: no change */
        pthread_mutex_lock(&n->s->lock);
        it = table_find(&n->s->t, n->k->h, n->k->key, n->k->klen, &pos);
        if (it && item_has_ttl(it) && item_expire(it) <= now) atomic_store(&w->dirty, 1);
        pthread_mutex_unlock(&n->s->lock);
    }
    return atomic_load(&w->dirty);
}

void ks__watch_free(shard *s)
{
    /* Only at exit: watchers hold references to their domains, so a shard
     * with watches is never freed while they last. */
    for (size_t i = 0; s->watch.n && i <= s->watch.mask; i++) {
        wkey *k = s->watch.b[i], *next;
        for (; k; k = next) {
            next = k->next;
            free(k);
        }
    }
    free(s->watch.b);
    memset(&s->watch, 0, sizeof s->watch);
}
