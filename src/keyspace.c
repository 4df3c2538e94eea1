/* keyspace.c - see keyspace.h. */
#include "keyspace.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "resp.h"
#include "util.h"

/* Table user bits: one marks items with an expiry (so the sweep can skip
 * the others without touching them), two hold an access counter (0-3) that
 * eviction reads. */
#define UB_TTL 1u
#define UB_FREQ(ub) (((ub) >> 1) & 3u)
#define UB_WITH_FREQ(ub, f) (((ub) & UB_TTL) | ((unsigned)(f) << 1))

struct domain {
    keyspace *ks;
    char *name;
    size_t nlen;
    atomic_long refs;
    atomic_int counted;   /* holds a max-domains slot (see ks_domain_claim) */
    int nshards;
    shard *shards;
};

typedef struct watch {
    domain *d;
    char *key;
    size_t klen;
    atomic_int *dirty;
    void *owner;
    struct watch *next;
} watch;

struct keyspace {
    uint64_t sipkey[2];
    int nshards;
    int shard_shift;
    const long long *max_domains;   /* the config field; read atomically */
    pthread_rwlock_t reg_lock;      /* guards domains/ndomains/ncounted */
    domain **domains;               /* [0] is "default" */
    int ndomains, cap;
    int ncounted;                   /* domains holding a max-domains slot */
    pthread_mutex_t watch_lock;     /* guards watches */
    watch *watches;
    atomic_long nwatches;
    domain *dflt;                   /* "default": never moves or goes away */
    atomic_llong mem;               /* bytes of segments and tables, all shards */
    atomic_llong overhead;          /* allocator in-use bytes beyond mem */
    atomic_ullong evict_cursor;     /* round robin over (domain, shard) */
};

/* Account for a change in a shard's memory. */
static void mem_add(shard *s, keyspace *ks, long long delta)
{
    s->mem += (size_t)delta;
    atomic_fetch_add_explicit(&ks->mem, delta, memory_order_relaxed);
}

static inline long long table_bytes(const shard *s) { return (long long)table_mem(&s->t); }

static uint64_t item_hash(const void *obj, const void *ctx)
{
    const item *it = obj;
    return hash_siphash13(item_key(it), item_klen(it), ctx);
}

static int item_match(const void *obj, const void *key, size_t klen)
{
    const item *it = obj;
    return item_klen(it) == klen && memcmp(item_key(it), key, klen) == 0;
}

static const table_ops item_table_ops = {item_hash, item_match};

static domain *domain_new(keyspace *ks, const char *name, size_t len)
{
    domain *d = xcalloc(1, sizeof *d);
    d->ks = ks;
    d->name = xmemdup(name, len + 1);
    d->name[len] = '\0';
    d->nlen = len;
    d->nshards = ks->nshards;
    if (posix_memalign((void **)&d->shards, 64, sizeof(shard) * (size_t)ks->nshards)) abort();
    memset(d->shards, 0, sizeof(shard) * (size_t)ks->nshards);
    for (int i = 0; i < ks->nshards; i++) {
        pthread_mutex_init(&d->shards[i].lock, NULL);
        table_init(&d->shards[i].t, &item_table_ops, ks->sipkey);
    }
    return d;
}

static void free_items(shard *s, keyspace *ks)
{
    table_destroy(&s->t);
    store_clear(&s->st);
    free(s->ghost);
    s->ghost = NULL;
    s->ghost_mask = 0;
    mem_add(s, ks, -(long long)s->mem);
    s->expires = 0;
    s->gen++;
}

static void domain_free(domain *d)
{
    for (int i = 0; i < d->nshards; i++) {
        free_items(&d->shards[i], d->ks);
        pthread_mutex_destroy(&d->shards[i].lock);
    }
    free(d->shards);
    free(d->name);
    free(d);
}

keyspace *ks_create(int nshards, const long long *max_domains)
{
    keyspace *ks = xcalloc(1, sizeof *ks);
    int n = 1, shift = 0;
    while (n < nshards && n < KS_MAX_SHARDS) { n *= 2; shift++; }
    ks->nshards = n;
    ks->shard_shift = 64 - shift;
    ks->max_domains = max_domains;
    if (util_random_bytes(ks->sipkey, sizeof ks->sipkey) < 0) {
        ks->sipkey[0] = (uint64_t)util_mono_us();
        ks->sipkey[1] = (uint64_t)util_now_us() * 0x9E3779B97F4A7C15ULL;
    }
    pthread_rwlock_init(&ks->reg_lock, NULL);
    pthread_mutex_init(&ks->watch_lock, NULL);
    ks->cap = 16;
    ks->domains = xcalloc((size_t)ks->cap, sizeof(domain *));
    ks->domains[0] = ks->dflt = domain_new(ks, "default", 7);
    ks->ndomains = 1;
    return ks;
}

void ks_destroy(keyspace **ksp)
{
    keyspace *ks = *ksp;
    if (!ks) return;
    for (int i = 0; i < ks->ndomains; i++) domain_free(ks->domains[i]);
    free(ks->domains);
    while (ks->watches) {
        watch *w = ks->watches;
        ks->watches = w->next;
        free(w->key);
        free(w);
    }
    pthread_rwlock_destroy(&ks->reg_lock);
    pthread_mutex_destroy(&ks->watch_lock);
    free(ks);
    *ksp = NULL;
}

/* ---- domains ---- */

static int cfg_max_domains(keyspace *ks)
{
    return (int)__atomic_load_n(ks->max_domains, __ATOMIC_RELAXED);
}

static domain *find_domain(keyspace *ks, const char *name, size_t len)
{
    for (int i = 0; i < ks->ndomains; i++) {
        domain *d = ks->domains[i];
        if (d->nlen == len && memcmp(d->name, name, len) == 0) return d;
    }
    return NULL;
}

static int domain_empty(domain *d)
{
    int empty = 1;
    for (int i = 0; i < d->nshards && empty; i++) {
        pthread_mutex_lock(&d->shards[i].lock);
        empty = table_count(&d->shards[i].t) == 0;
        pthread_mutex_unlock(&d->shards[i].lock);
    }
    return empty;
}

domain *ks_domain_get(keyspace *ks, const char *name, size_t len)
{
    domain *d;
    if (len == 1 && name[0] == '0') { name = "default"; len = 7; }
    pthread_rwlock_rdlock(&ks->reg_lock);
    d = find_domain(ks, name, len);
    if (d) atomic_fetch_add(&d->refs, 1);
    pthread_rwlock_unlock(&ks->reg_lock);
    if (d) return d;

    pthread_rwlock_wrlock(&ks->reg_lock);
    d = find_domain(ks, name, len);
    if (!d) {
        /* Free the domains nobody uses or fills, so selecting many names
         * costs nothing lasting. */
        for (int i = 1; i < ks->ndomains;) {
            domain *x = ks->domains[i];
            if (atomic_load(&x->refs) == 0 && domain_empty(x)) {
                if (atomic_load(&x->counted)) ks->ncounted--;
                ks->domains[i] = ks->domains[--ks->ndomains];
                domain_free(x);
                continue;
            }
            i++;
        }
        if (ks->ndomains == ks->cap) {
            ks->cap *= 2;
            ks->domains = xrealloc(ks->domains, sizeof(domain *) * (size_t)ks->cap);
        }
        d = domain_new(ks, name, len);
        ks->domains[ks->ndomains++] = d;
    }
    if (d) atomic_fetch_add(&d->refs, 1);
    pthread_rwlock_unlock(&ks->reg_lock);
    return d;
}

int ks_domain_claim(keyspace *ks, domain *d)
{
    int rc = 0;
    if (atomic_load_explicit(&d->counted, memory_order_acquire)) return 0;
    pthread_rwlock_wrlock(&ks->reg_lock);
    if (!atomic_load(&d->counted)) {
        if (ks->ncounted >= cfg_max_domains(ks)) {
            /* Give back the slots of domains that emptied and that no
             * connection has selected (one that has may be about to write). */
            for (int i = 0; i < ks->ndomains; i++) {
                domain *x = ks->domains[i];
                if (x != d && atomic_load(&x->counted) && atomic_load(&x->refs) == 0 &&
                    domain_empty(x)) {
                    atomic_store(&x->counted, 0);
                    ks->ncounted--;
                }
            }
        }
        if (ks->ncounted < cfg_max_domains(ks)) {
            atomic_store_explicit(&d->counted, 1, memory_order_release);
            ks->ncounted++;
        } else {
            rc = -1;
        }
    }
    pthread_rwlock_unlock(&ks->reg_lock);
    return rc;
}

void ks_domain_put(keyspace *ks, domain *d)
{
    (void)ks;
    if (d) atomic_fetch_sub(&d->refs, 1);
}

void ks_domain_hold(domain *d) { atomic_fetch_add(&d->refs, 1); }

domain *ks_default(keyspace *ks) { return ks->dflt; }

const char *ks_domain_name(const domain *d, size_t *len)
{
    *len = d->nlen;
    return d->name;
}

int ks_domain_count(keyspace *ks)
{
    int n;
    pthread_rwlock_rdlock(&ks->reg_lock);
    n = ks->ndomains;
    pthread_rwlock_unlock(&ks->reg_lock);
    return n;
}

void ks_foreach_domain(keyspace *ks, void (*fn)(domain *d, void *opaque), void *opaque)
{
    pthread_rwlock_rdlock(&ks->reg_lock);
    for (int i = 0; i < ks->ndomains; i++) fn(ks->domains[i], opaque);
    pthread_rwlock_unlock(&ks->reg_lock);
}

/* ---- keys ---- */

void ks_ref(keyspace *ks, domain *d, const char *key, size_t klen, kref *r)
{
    r->d = d;
    r->h = hash_siphash13(key, klen, ks->sipkey);
    r->s = &d->shards[ks->nshards > 1 ? r->h >> ks->shard_shift : 0];
    r->key = key;
    r->klen = klen;
    r->it = NULL;
    r->gen = (uint64_t)-1;
}

void ks_lock(kref *r) { pthread_mutex_lock(&r->s->lock); }
void ks_unlock(kref *r) { pthread_mutex_unlock(&r->s->lock); }

static void watch_touch(keyspace *ks, domain *d, const char *key, size_t klen);

/* Remove the entry at r->pos (which must be current); the item's bytes
 * are left for segment recycling. */
static void remove_at(kref *r, item *it)
{
    shard *s = r->s;
    table_delete(&s->t, &r->pos);
    if (item_has_ttl(it)) s->expires--;
    mem_add(s, r->d->ks, -(long long)store_kill(&s->st, it));
    s->gen++;
}

/* ---- S3-FIFO ghost: fingerprints of keys evicted from the small queue ---- */

static size_t ghost_slot(const shard *s, uint64_t h) { return (size_t)(h >> 20) & s->ghost_mask; }
static uint32_t ghost_fp(uint64_t h) { return (uint32_t)(h >> 32) | 1u; }

static void ghost_add(shard *s, keyspace *ks, uint64_t h)
{
    size_t want = 64;
    while (want < table_count(&s->t)) want *= 2;
    if (!s->ghost || s->ghost_mask + 1 < want / 2) {
        mem_add(s, ks, (long long)(want - (s->ghost ? s->ghost_mask + 1 : 0)) * 4);
        free(s->ghost);
        s->ghost = xcalloc(want, sizeof(uint32_t));
        s->ghost_mask = want - 1;
    }
    s->ghost[ghost_slot(s, h)] = ghost_fp(h);
}

/* Was this key evicted recently? Forgets it either way. */
static int ghost_take(shard *s, uint64_t h)
{
    size_t i;
    if (!s->ghost) return 0;
    i = ghost_slot(s, h);
    if (s->ghost[i] != ghost_fp(h)) return 0;
    s->ghost[i] = 0;
    return 1;
}

/* ---- compaction keeps pace with writes ----
 * Recycling moves items, so it never runs inside a command, where item
 * pointers are live. A write that opens a new segment in a shard with too
 * much dead space notes the shard here (per thread), and ks_after_command
 * compacts it once the command is done. */

#define GC_PENDING_MAX 8
static _Thread_local struct { domain *d; shard *s; } gc_pending[GC_PENDING_MAX];
static _Thread_local int gc_npending;

static int needs_compaction(const shard *s)
{
    size_t bytes = store_bytes(&s->st);
    return bytes >= 4 * STORE_SEG_MIN && store_dead(&s->st) * 4 > bytes;
}

static void want_compaction(domain *d, shard *s)
{
    for (int i = 0; i < gc_npending; i++)
        if (gc_pending[i].s == s) return;
    if (gc_npending == GC_PENDING_MAX) return;   /* the cron sweep catches up */
    ks_domain_hold(d);
    gc_pending[gc_npending].d = d;
    gc_pending[gc_npending].s = s;
    gc_npending++;
}

static void compact(shard *s, domain *d, int64_t now);

void ks_after_command(keyspace *ks)
{
    while (gc_npending) {
        gc_npending--;
        domain *d = gc_pending[gc_npending].d;
        shard *s = gc_pending[gc_npending].s;
        pthread_mutex_lock(&s->lock);
        compact(s, d, util_now_ms());
        pthread_mutex_unlock(&s->lock);
        ks_domain_put(ks, d);
    }
}

/* ks_new, leaving room to grow to `room` value bytes if the item gets a
 * segment of its own. */
static item *new_item(kref *r, const char *val, size_t vlen, int64_t expire, size_t room)
{
    shard *s = r->s;
    size_t grown;
    int solo;
    /* Overwritten keys and keys evicted early have shown they are reused:
     * they skip S3-FIFO's small (probation) queue. */
    int q = (r->it || ghost_take(s, r->h)) ? STORE_MAIN : STORE_SMALL;
    item *it = store_alloc(&s->st, q, item_size(r->klen, vlen, expire >= 0),
                           item_size(r->klen, room, expire >= 0), &grown, &solo);
    if (grown) {
        mem_add(s, r->d->ks, (long long)grown);
        if (needs_compaction(s)) want_compaction(r->d, s);
    }
    item_init(it, r->key, r->klen, val, vlen, expire);
    if (solo) it->vmeta |= ITEM_SOLO;
    return it;
}

item *ks_new(kref *r, const char *val, size_t vlen, int64_t expire)
{
    return new_item(r, val, vlen, expire, vlen);
}

item *ks_find(kref *r, int64_t now)
{
    shard *s = r->s;
    item *it = table_find(&s->t, r->h, r->key, r->klen, &r->pos);
    r->gen = s->gen;
    if (it && item_has_ttl(it) && item_expire(it) <= now) {
        remove_at(r, it);
        s->expired++;
        watch_touch(r->d->ks, r->d, r->key, r->klen);
        it = NULL;
        r->gen = s->gen;
    }
    r->it = it;
    return it;
}

item *ks_read(kref *r, int64_t now)
{
    item *it = ks_find(r, now);
    if (it) {
        unsigned ub = table_ubits(&r->pos);
        if (UB_FREQ(ub) < 3) table_set_ubits(&r->pos, UB_WITH_FREQ(ub, UB_FREQ(ub) + 1));
        r->s->hits++;
    } else {
        r->s->misses++;
    }
    return it;
}

void ks_store(kref *r, item *it)
{
    shard *s = r->s;
    item *old;
    if (r->gen != s->gen) {
        old = table_find(&s->t, r->h, r->key, r->klen, &r->pos);
    } else {
        old = r->it;   /* ks_find's answer and position are still current */
    }
    if (old) {
        unsigned ub = table_ubits(&r->pos);
        if (item_has_ttl(old)) s->expires--;
        table_replace(&s->t, &r->pos, it, UB_WITH_FREQ(item_has_ttl(it) ? UB_TTL : 0, UB_FREQ(ub)));
        mem_add(s, r->d->ks, -(long long)store_kill(&s->st, old));
    } else {
        long long before = table_bytes(s);
        table_insert(&s->t, r->h, it, item_has_ttl(it) ? UB_TTL : 0);
        mem_add(s, r->d->ks, table_bytes(s) - before);
        s->gen++;
    }
    if (item_has_ttl(it)) s->expires++;
    s->sets++;
    r->it = it;
    r->gen = (uint64_t)-1;   /* an insertion may have moved entries */
    watch_touch(r->d->ks, r->d, r->key, r->klen);
}

item *ks_resize_value(kref *r, size_t vlen)
{
    item *old = r->it, *it;
    size_t keep = vlen < item_vlen(old) ? vlen : item_vlen(old);
    if (item_solo(old) &&
        store_resize_solo(&r->s->st, old, item_size(r->klen, vlen, item_has_ttl(old))) == 0) {
        old->vmeta = (uint32_t)vlen | ITEM_SOLO;   /* grew into its segment's spare room */
        r->s->sets++;
        watch_touch(r->d->ks, r->d, r->key, r->klen);
        return old;
    }
    /* A value that keeps growing (APPEND, SETRANGE) gets room to double, so
     * growing it to n bytes copies O(n) bytes in all. */
    it = new_item(r, NULL, vlen, item_expire(old), vlen > item_vlen(old) ? vlen * 2 : vlen);
    memcpy(item_val(it), item_cval(old), keep);
    ks_store(r, it);
    return it;
}

void ks_set_expire(kref *r, int64_t when)
{
    item *it = r->it;
    if (when >= 0 && item_has_ttl(it)) {
        memcpy(it->data, &when, 8);   /* same layout: update in place */
        watch_touch(r->d->ks, r->d, r->key, r->klen);
        return;
    }
    if (when < 0 && !item_has_ttl(it)) return;
    ks_store(r, ks_new(r, item_cval(it), item_vlen(it), when));
    r->s->sets--;   /* not a value write */
}

int ks_delete(kref *r, int64_t now)
{
    item *it = ks_find(r, now);
    if (!it) return 0;
    remove_at(r, it);
    r->it = NULL;
    r->gen = r->s->gen;
    watch_touch(r->d->ks, r->d, r->key, r->klen);
    return 1;
}

void ks_touch(kref *r) { watch_touch(r->d->ks, r->d, r->key, r->klen); }

/* ---- lock sets ---- */

void ks_lockset_init(ks_lockset *ls)
{
    ls->n = 0;
    ls->many = NULL;
    ls->cap = 64;
}

void ks_lockset_add(ks_lockset *ls, kref *r)
{
    shard **arr = ls->many ? ls->many : ls->s;
    for (int i = 0; i < ls->n; i++)
        if (arr[i] == r->s) return;
    if (ls->n == ls->cap) {
        ls->cap *= 2;
        if (!ls->many) {
            ls->many = xmalloc(sizeof(shard *) * (size_t)ls->cap);
            memcpy(ls->many, ls->s, sizeof ls->s);
        } else {
            ls->many = xrealloc(ls->many, sizeof(shard *) * (size_t)ls->cap);
        }
        arr = ls->many;
    }
    arr[ls->n++] = r->s;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (shard *const *)a, y = (uintptr_t) * (shard *const *)b;
    return x < y ? -1 : x > y;
}

void ks_lockset_lock(ks_lockset *ls)
{
    shard **arr = ls->many ? ls->many : ls->s;
    qsort(arr, (size_t)ls->n, sizeof(shard *), cmp_ptr);
    for (int i = 0; i < ls->n; i++) pthread_mutex_lock(&arr[i]->lock);
}

void ks_lockset_unlock(ks_lockset *ls)
{
    shard **arr = ls->many ? ls->many : ls->s;
    for (int i = ls->n - 1; i >= 0; i--) pthread_mutex_unlock(&arr[i]->lock);
    free(ls->many);
    ks_lockset_init(ls);
}

/* ---- whole-domain operations ---- */

void ks_domain_stats(domain *d, ks_stats *st)
{
    memset(st, 0, sizeof *st);
    for (int i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        pthread_mutex_lock(&s->lock);
        st->keys += table_count(&s->t);
        st->expires += s->expires;
        st->mem += s->mem;
        st->hits += s->hits;
        st->misses += s->misses;
        st->sets += s->sets;
        st->expired += s->expired;
        st->evicted += s->evicted;
        pthread_mutex_unlock(&s->lock);
    }
}

size_t ks_domain_size(domain *d)
{
    size_t n = 0;
    for (int i = 0; i < d->nshards; i++) {
        pthread_mutex_lock(&d->shards[i].lock);
        n += table_count(&d->shards[i].t);
        pthread_mutex_unlock(&d->shards[i].lock);
    }
    return n;
}

static void watch_touch_domain(keyspace *ks, domain *d);

size_t ks_flush(keyspace *ks, domain *d)
{
    size_t n = 0;
    watch_touch_domain(ks, d);
    for (int i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        pthread_mutex_lock(&s->lock);
        n += table_count(&s->t);
        free_items(s, ks);
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

size_t ks_keys(domain *d, const char *pat, size_t plen, int64_t now, buf *out)
{
    size_t n = 0;
    int all = plen == 1 && pat[0] == '*';
    for (int i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        pthread_mutex_lock(&s->lock);
        size_t span = table_span(&s->t);
        for (size_t p = 0; p < span; p++) {
            item *it = table_at(&s->t, p, NULL, NULL);
            if (!it || (item_has_ttl(it) && item_expire(it) <= now)) continue;
            if (!all && !util_glob_match(pat, plen, item_key(it), item_klen(it), 0)) continue;
            resp_bulk(out, item_key(it), item_klen(it));
            n++;
        }
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

typedef struct scan_ctx {
    const char *pat;
    size_t plen;
    int64_t now;
    buf *out;
    size_t n;
} scan_ctx;

static void scan_one(void *obj, void *opaque)
{
    scan_ctx *c = opaque;
    item *it = obj;
    if (item_has_ttl(it) && item_expire(it) <= c->now) return;
    if (c->pat && !util_glob_match(c->pat, c->plen, item_key(it), item_klen(it), 0)) return;
    resp_bulk(c->out, item_key(it), item_klen(it));
    c->n++;
}

/* Cursor layout: bucket cursor << 8 | shard index. */
uint64_t ks_scan(domain *d, uint64_t cursor, long count, const char *pat, size_t plen,
                 int64_t now, buf *out, size_t *nout)
{
    scan_ctx c = {pat, plen, now, out, 0};
    int si = (int)(cursor & 0xff);
    uint64_t bc = cursor >> 8;
    long visits = 0, maxvisits = count * 10;
    if (plen == 1 && pat && pat[0] == '*') c.pat = NULL;
    if (si >= d->nshards) { *nout = 0; return 0; }
    while (si < d->nshards && (long)c.n < count && visits < maxvisits) {
        shard *s = &d->shards[si];
        pthread_mutex_lock(&s->lock);
        do {
            bc = table_scan(&s->t, bc, scan_one, &c);
            visits++;
        } while (bc && (long)c.n < count && visits < maxvisits);
        pthread_mutex_unlock(&s->lock);
        if (bc == 0) si++;
    }
    *nout = c.n;
    if (si >= d->nshards) return 0;
    return bc << 8 | (uint64_t)si;
}

int ks_random_key(domain *d, int64_t now, buf *out)
{
    for (int tries = 0; tries < 100; tries++) {
        int start = (int)(util_rand64() % (uint64_t)d->nshards);
        for (int k = 0; k < d->nshards; k++) {
            shard *s = &d->shards[(start + k) % d->nshards];
            pthread_mutex_lock(&s->lock);
            item *it = table_random(&s->t);
            if (it && !(item_has_ttl(it) && item_expire(it) <= now)) {
                buf_append(out, item_key(it), item_klen(it));
                pthread_mutex_unlock(&s->lock);
                return 0;
            }
            pthread_mutex_unlock(&s->lock);
            if (it) break;   /* an expired pick: draw again */
        }
    }
    return -1;
}

/* ---- WATCH ---- */

void ks_watch(keyspace *ks, domain *d, const char *key, size_t klen, atomic_int *dirty,
              void *owner)
{
    watch *w = xcalloc(1, sizeof *w);
    w->d = d;
    ks_domain_hold(d);
    w->key = xmemdup(key, klen);
    w->klen = klen;
    w->dirty = dirty;
    w->owner = owner;
    pthread_mutex_lock(&ks->watch_lock);
    w->next = ks->watches;
    ks->watches = w;
    atomic_fetch_add(&ks->nwatches, 1);
    pthread_mutex_unlock(&ks->watch_lock);
}

void ks_unwatch_all(keyspace *ks, void *owner)
{
    watch **pp, *w;
    if (atomic_load(&ks->nwatches) == 0) return;
    pthread_mutex_lock(&ks->watch_lock);
    for (pp = &ks->watches; (w = *pp);) {
        if (w->owner == owner) {
            *pp = w->next;
            ks_domain_put(ks, w->d);
            free(w->key);
            free(w);
            atomic_fetch_sub(&ks->nwatches, 1);
        } else {
            pp = &w->next;
        }
    }
    pthread_mutex_unlock(&ks->watch_lock);
}

static void watch_touch(keyspace *ks, domain *d, const char *key, size_t klen)
{
    if (atomic_load_explicit(&ks->nwatches, memory_order_relaxed) == 0) return;
    pthread_mutex_lock(&ks->watch_lock);
    for (watch *w = ks->watches; w; w = w->next)
        if (w->d == d && w->klen == klen && memcmp(w->key, key, klen) == 0)
            atomic_store(w->dirty, 1);
    pthread_mutex_unlock(&ks->watch_lock);
}

static void watch_touch_domain(keyspace *ks, domain *d)
{
    if (atomic_load(&ks->nwatches) == 0) return;
    pthread_mutex_lock(&ks->watch_lock);
    for (watch *w = ks->watches; w; w = w->next)
        if (w->d == d) atomic_store(w->dirty, 1);
    pthread_mutex_unlock(&ks->watch_lock);
}

/* ---- background work ---- */

/* ---- recycling segments: compaction and eviction ----
 *
 * Recycling takes the oldest segment of a queue and decides, for each live
 * item in it, whether it is copied to the tail of a queue or evicted; then
 * the segment is freed. Compaction keeps every live item. Eviction follows
 * the policy:
 *  - S3-FIFO (Yang et al., SOSP'23): new keys enter a small probation queue
 *    (about 10% of the memory). Leaving it, a key read since it came in
 *    moves to the main queue; one that was not is evicted and remembered in
 *    the ghost table, so that if it comes back it goes straight to main. In
 *    main, a key that was read is reinserted with its counter decremented;
 *    one that was not is evicted. One-hit wonders and scans therefore pass
 *    through the small queue without pushing out the working set.
 *  - allkeys-lru is CLOCK over the same FIFO (reinsert if read since the
 *    last pass), allkeys-lfu is the same with the 2-bit counter, so a key
 *    survives as many passes as it has recent reads.
 *  - allkeys-random and the volatile-* policies pick victims by sampling
 *    the table (see evict_sampled); their bytes come back when compaction
 *    recycles the segments they were in. */

enum { MODE_COMPACT, MODE_EVICT };

/* Recycle the oldest segment of queue q. Returns the bytes freed by the
 * segment minus those taken by items copied out (may be negative). */
static long long recycle(shard *s, domain *d, int q, int mode, int policy, int64_t now)
{
    keyspace *ks = d->ks;
    seg *g = store_pop(&s->st, q);
    long long freed, seg_bytes;
    uint32_t off = 0;
    item *it;
    if (!g) return 0;
    seg_bytes = (long long)(g->cap + sizeof(seg));
    freed = seg_bytes;
    s->st.used -= g->used;
    while ((it = store_next(g, &off))) {
        kref r;
        unsigned ub;
        int dest = q, keep = 1, is_small = q == STORE_SMALL;
        size_t grown, size;
        if (item_dead(it)) continue;
        s->st.live -= item_footprint(it);   /* the segment's bytes go away; copies count anew */
        r.d = d;
        r.s = s;
        r.key = item_key(it);
        r.klen = item_klen(it);
        r.h = hash_siphash13(r.key, r.klen, ks->sipkey);
        if (table_find(&s->t, r.h, r.key, r.klen, &r.pos) != it) continue;   /* stale */
        ub = table_ubits(&r.pos);
        if (item_has_ttl(it) && item_expire(it) <= now) {
            keep = 0;
            s->expired++;
        } else if (mode == MODE_EVICT) {
            unsigned f = UB_FREQ(ub);
            if (policy == KS_S3FIFO && is_small) {
                keep = f > 0;
                dest = STORE_MAIN;
                ub = UB_WITH_FREQ(ub, 0);
                if (!keep) ghost_add(s, ks, r.h);
            } else if (policy == KS_ALLKEYS_LRU) {
                keep = f > 0;
                ub = UB_WITH_FREQ(ub, 0);
            } else {
                keep = f > 0;
                ub = UB_WITH_FREQ(ub, keep ? f - 1 : 0);
            }
            if (!keep) s->evicted++;
            else if (UB_FREQ(ub) < f || dest != q) s->aged++;   /* closer to eviction */
        }
        if (!keep) {
            table_delete(&s->t, &r.pos);
            if (item_has_ttl(it)) s->expires--;
            watch_touch(ks, d, r.key, r.klen);
            continue;
        }
        if (item_solo(it)) {
            /* Alone in its segment: requeue the segment rather than copy. */
            store_requeue(&s->st, dest, g);
            table_set_ubits(&r.pos, ub);
            s->gen++;
            return freed - seg_bytes;
        }
        size = item_size(item_klen(it), item_vlen(it), item_has_ttl(it));
        {
            int solo;
            item *copy = store_alloc(&s->st, dest, size, size, &grown, &solo);
            memcpy(copy, it, size);
            copy->vmeta = (uint32_t)item_vlen(it) | (solo ? ITEM_SOLO : 0);
            table_replace(&s->t, &r.pos, copy, ub);
        }
        freed -= (long long)grown;
        mem_add(s, ks, (long long)grown);
    }
    store_free_seg(g);
    mem_add(s, ks, -seg_bytes);
    s->gen++;
    return freed;
}

/* Compact when a quarter of the shard's segment bytes are dead (small
 * shards only once nothing in them is live), a few segments at a time:
 * the oldest segments hold the most dead bytes, so each pass frees more
 * than the shard's average. */
static void compact(shard *s, domain *d, int64_t now)
{
    if (s->st.live == 0 && store_bytes(&s->st)) {
        long long bytes = 0;
        for (int q = 0; q < 2; q++)
            for (seg *g = s->st.q[q].head; g; g = g->next) bytes += (long long)(g->cap + sizeof(seg));
        store_clear(&s->st);
        mem_add(s, d->ks, -bytes);
        return;
    }
    for (int rounds = 0; rounds < 8; rounds++) {
        size_t bytes = store_bytes(&s->st), dead = store_dead(&s->st);
        int q;
        if (bytes < 4 * STORE_SEG_MIN || dead * 4 <= bytes) return;
        /* Which queue holds the dead bytes is not tracked: take turns. */
        q = (s->gc_turn++ & 1) ? STORE_MAIN : STORE_SMALL;
        if (!s->st.q[q].head) q ^= 1;
        recycle(s, d, q, MODE_COMPACT, KS_NOEVICTION, now);
    }
}

/* Evict one victim chosen by sampling the table, as Redis does for these
 * policies: a random key, or of five keys with an expiry the one expiring
 * first (volatile-ttl) or with the lowest access counter (volatile-lru and
 * volatile-lfu; the sampled survivors age: lru clears their counter, lfu
 * decrements it). Returns 1 if a key was evicted. */
static int evict_sampled(shard *s, domain *d, int policy, int64_t now)
{
    size_t span = table_span(&s->t);
    item *best = NULL;
    table_pos best_pos = {0}, pos, seen[5];
    unsigned ub, best_ub = 0;
    int samples = policy == KS_ALLKEYS_RANDOM || policy == KS_VOLATILE_RANDOM ? 1 : 5, nseen = 0;
    if (span == 0) return 0;
    for (int tries = 0; tries < 64 && nseen < samples; tries++) {
        item *it = table_at(&s->t, util_rand64() % span, &pos, &ub);
        int better;
        if (!it) continue;
        if (policy != KS_ALLKEYS_RANDOM && !(ub & UB_TTL)) continue;
        seen[nseen++] = pos;
        if (policy == KS_VOLATILE_TTL) better = !best || item_expire(it) < item_expire(best);
        else better = !best || UB_FREQ(ub) < UB_FREQ(best_ub);
        if (better) {
            best = it;
            best_pos = pos;
            best_ub = ub;
        }
    }
    if (!best) return 0;
    if (policy == KS_VOLATILE_LRU || policy == KS_VOLATILE_LFU) {
        for (int i = 0; i < nseen; i++) {
            unsigned u = table_ubits(&seen[i]), f = UB_FREQ(u);
            if (f) table_set_ubits(&seen[i], UB_WITH_FREQ(u, policy == KS_VOLATILE_LRU ? 0 : f - 1));
        }
    }
    {
        kref r = {.d = d, .s = s, .pos = best_pos};
        watch_touch(d->ks, d, item_key(best), item_klen(best));
        remove_at(&r, best);
    }
    s->evicted++;
    compact(s, d, now);
    return 1;
}

/* One eviction step on a shard; returns 1 if it made progress. */
static int evict_step(shard *s, domain *d, int policy, int64_t now)
{
    if (policy == KS_ALLKEYS_RANDOM || policy == KS_VOLATILE_RANDOM || policy == KS_VOLATILE_TTL ||
        policy == KS_VOLATILE_LRU || policy == KS_VOLATILE_LFU) {
        if (evict_sampled(s, d, policy, now)) return 1;
        /* nothing to sample: dead bytes may still be waiting */
        if (store_dead(&s->st)) {
            recycle(s, d, s->st.q[STORE_SMALL].head ? STORE_SMALL : STORE_MAIN, MODE_COMPACT,
                    KS_NOEVICTION, now);
            return 1;
        }
        return 0;
    }
    {
        int q = STORE_MAIN;
        size_t small = s->st.q[STORE_SMALL].bytes, total = store_bytes(&s->st);
        uint64_t before = s->evicted + s->expired;
        long long freed;
        if (total == 0) return 0;
        if (!s->st.q[STORE_MAIN].head || (policy == KS_S3FIFO && small * 10 > total) ||
            (policy != KS_S3FIFO && s->st.q[STORE_SMALL].head))
            q = s->st.q[STORE_SMALL].head ? STORE_SMALL : STORE_MAIN;
        freed = recycle(s, d, q, MODE_EVICT, policy, now);
        return freed > 0 || s->evicted + s->expired > before;
    }
}

long long ks_evict(keyspace *ks, size_t limit, int policy)
{
    long long start = atomic_load(&ks->mem);
    int steps = 0, rounds = 0, progress = 0;
    if (policy == KS_NOEVICTION) return ks_used_memory(ks) > limit ? -1 : 0;
    while (ks_used_memory(ks) > limit) {
        uint64_t c = atomic_fetch_add(&ks->evict_cursor, 1);
        int total;
        pthread_rwlock_rdlock(&ks->reg_lock);
        total = ks->ndomains * ks->nshards;
        {
            domain *d = ks->domains[(c / (uint64_t)ks->nshards) % (uint64_t)ks->ndomains];
            shard *s = &d->shards[c % (uint64_t)ks->nshards];
            uint64_t gone;
            size_t dead;
            pthread_mutex_lock(&s->lock);
            gone = s->evicted + s->expired + s->aged;
            dead = store_dead(&s->st);
            evict_step(s, d, policy, util_now_ms());
            /* Progress is keys removed or aged, or dead bytes reclaimed;
             * copying untouchable keys around is not. */
            progress |= s->evicted + s->expired + s->aged > gone || store_dead(&s->st) < dead;
            pthread_mutex_unlock(&s->lock);
        }
        pthread_rwlock_unlock(&ks->reg_lock);
        if (++steps >= 2 * total) {
            if (!progress) return -1;   /* a whole round found nothing to evict */
            progress = steps = 0;
            if (++rounds == 16) break;  /* bounded work per command; the next one goes on */
        }
    }
    start -= atomic_load(&ks->mem);
    return start > 0 ? start : 0;
}

#define SWEEP_CHUNK 2048

/* Sweep one chunk of a shard; returns the number expired and adds the
 * number of items with a TTL looked at to *seen. */
static size_t sweep(shard *s, domain *d, int64_t now, size_t *seen)
{
    size_t expired = 0, span, pos;
    kref r;
    pthread_mutex_lock(&s->lock);
    {
        long long before = table_bytes(s);
        table_step(&s->t, 256);
        table_maybe_shrink(&s->t);
        mem_add(s, d->ks, table_bytes(s) - before);
    }
    compact(s, d, now);
    span = table_span(&s->t);
    pos = s->sweep_pos;
    if (s->expires == 0) span = 0;
    for (size_t n = 0; n < SWEEP_CHUNK && span; n++) {
        unsigned ub;
        item *it;
        if (pos >= span) pos = 0;
        it = table_at(&s->t, pos, &r.pos, &ub);
        if (!it || !(ub & UB_TTL)) { pos++; continue; }
        (*seen)++;
        if (item_expire(it) > now) { pos++; continue; }
        r.s = s;
        r.d = d;
        watch_touch(d->ks, d, item_key(it), item_klen(it));
        remove_at(&r, it);
        s->expired++;
        expired++;
        span = table_span(&s->t);   /* the entry shifted into pos is looked at next */
    }
    s->sweep_pos = pos;
    pthread_mutex_unlock(&s->lock);
    return expired;
}

size_t ks_cron(keyspace *ks, int part, int nparts, int64_t budget_us)
{
    int64_t start = util_mono_us();
    size_t total = 0;
    pthread_rwlock_rdlock(&ks->reg_lock);
    for (int di = 0; di < ks->ndomains; di++) {
        domain *d = ks->domains[di];
        for (int i = part; i < d->nshards; i += nparts) {
            size_t seen, expired;
            do {
                seen = 0;
                expired = sweep(&d->shards[i], d, util_now_ms(), &seen);
                total += expired;
                /* keep going on this shard while a quarter of what we see is dead */
            } while (expired * 4 > seen && seen > 0 && util_mono_us() - start < budget_us);
        }
        if (util_mono_us() - start >= budget_us) break;
    }
    pthread_rwlock_unlock(&ks->reg_lock);
    return total;
}

size_t ks_used_memory(keyspace *ks)
{
    long long m = atomic_load_explicit(&ks->mem, memory_order_relaxed) +
                  atomic_load_explicit(&ks->overhead, memory_order_relaxed);
    return m > 0 ? (size_t)m : 0;
}

void ks_set_overhead(keyspace *ks, size_t in_use)
{
    long long extra = (long long)in_use - atomic_load(&ks->mem);
    atomic_store(&ks->overhead, extra > 0 ? extra : 0);
}
