/* keyspace.c - see keyspace.h. */
#include "store/keyspace_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "store/kind.h"
#include "proto/resp.h"
#include "lib/util.h"

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
    d->name = xmalloc(len + 1);   /* name need not be NUL-terminated */
    memcpy(d->name, name, len);
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

static void free_items(shard *s, domain *d)
{
    keyspace *ks = d->ks;
    ks_pit *p = ks__pit(ks);
    for (size_t i = 0, span = p || ks__kinds_hold_outside() ? table_span(&s->t) : 0; i < span; i++) {
        item *it = table_at(&s->t, i, NULL, NULL);
        if (!it) continue;
        if (p && item_snap(it) != ks__mark(ks)) ks__pit_save(p, s, d, it);   /* the snapshot keeps it */
        ks__release(s, ks, it);
    }
    table_destroy(&s->t);
    seg_clear(&s->st);
    free(s->ghost);
    s->ghost = NULL;
    s->ghost_mask = 0;
    ks__mem_add(s, ks, -(long long)s->mem);
    s->expires = 0;
    s->gen++;
}

static void domain_free(domain *d)
{
    for (int i = 0; i < d->nshards; i++) {
        free_items(&d->shards[i], d);
        ks__watch_free(&d->shards[i]);
        pthread_mutex_destroy(&d->shards[i].lock);
    }
    free(d->shards);
    free(d->name);
    free(d);
}

static void add_domain(keyspace *ks, domain *d);

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
    ks->cap = 16;
    ks->domains = xcalloc((size_t)ks->cap, sizeof(domain *));
    ks->dmask = 15;
    ks->dtab = xcalloc(ks->dmask + 1, sizeof(domain *));
    ks->sweep_at = 16;
    ks->dflt = domain_new(ks, "default", 7);
    add_domain(ks, ks->dflt);
    return ks;
}

void ks_destroy(keyspace **ksp)
{
    keyspace *ks = *ksp;
    if (!ks) return;
    for (int i = 0; i < ks->ndomains; i++) domain_free(ks->domains[i]);
    free(ks->domains);
    free(ks->dtab);
    pthread_rwlock_destroy(&ks->reg_lock);
    free(ks);
    *ksp = NULL;
}

/* ---- domains ---- */

static int cfg_max_domains(keyspace *ks)
{
    return (int)__atomic_load_n(ks->max_domains, __ATOMIC_RELAXED);
}

static size_t name_slot(const keyspace *ks, const char *name, size_t len)
{
    return (size_t)hash_siphash13(name, len, ks->sipkey) & ks->dmask;
}

static domain *find_domain(keyspace *ks, const char *name, size_t len)
{
    for (domain *d = ks->dtab[name_slot(ks, name, len)]; d; d = d->hnext)
        if (d->nlen == len && memcmp(d->name, name, len) == 0) return d;
    return NULL;
}

/* Register d (registry write-locked), growing the name index at load 1. */
static void add_domain(keyspace *ks, domain *d)
{
    size_t slot;
    if (ks->ndomains == ks->cap) {
        ks->cap *= 2;
        ks->domains = xrealloc(ks->domains, sizeof(domain *) * (size_t)ks->cap);
    }
    d->idx = ks->ndomains;
    ks->domains[ks->ndomains++] = d;
    if ((size_t)ks->ndomains > ks->dmask + 1) {
        free(ks->dtab);
        ks->dmask = ks->dmask * 2 + 1;
        ks->dtab = xcalloc(ks->dmask + 1, sizeof(domain *));
        for (int i = 0; i < ks->ndomains - 1; i++) {
            domain *x = ks->domains[i];
            slot = name_slot(ks, x->name, x->nlen);
            x->hnext = ks->dtab[slot];
            ks->dtab[slot] = x;
        }
    }
    slot = name_slot(ks, d->name, d->nlen);
    d->hnext = ks->dtab[slot];
    ks->dtab[slot] = d;
}

/* Unregister and free d (registry write-locked). */
static void drop_domain(keyspace *ks, domain *d)
{
    domain **pp = &ks->dtab[name_slot(ks, d->name, d->nlen)];
    while (*pp != d) pp = &(*pp)->hnext;
    *pp = d->hnext;
    ks->domains[d->idx] = ks->domains[--ks->ndomains];
    ks->domains[d->idx]->idx = d->idx;
    if (atomic_load(&d->counted)) ks->ncounted--;
    domain_free(d);
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

/* Free the domains nobody uses or fills (registry write-locked), so that
 * selecting many names costs nothing lasting. Done when the registry has
 * doubled since the last time, so a creation costs O(shards) amortised. */
static void recycle_domains(keyspace *ks)
{
    if (ks->ndomains < ks->sweep_at) return;
    for (int i = ks->ndomains - 1; i >= 1; i--) {   /* [0] is "default" */
        domain *x = ks->domains[i];
        if (atomic_load(&x->refs) == 0 && domain_empty(x)) drop_domain(ks, x);
    }
    ks->sweep_at = ks->ndomains * 2 > 16 ? ks->ndomains * 2 : 16;
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
        recycle_domains(ks);
        d = domain_new(ks, name, len);
        add_domain(ks, d);
    }
    atomic_fetch_add(&d->refs, 1);
    pthread_rwlock_unlock(&ks->reg_lock);
    return d;
}

int ks_domain_claim(keyspace *ks, domain *d)
{
    int rc = 0;
    if (atomic_load_explicit(&d->counted, memory_order_acquire)) return 0;
    pthread_rwlock_wrlock(&ks->reg_lock);
    if (!atomic_load(&d->counted)) {
        unsigned released = atomic_load(&ks->released);
        int64_t now = util_mono_us();
        /* Give back the slots of domains that emptied and that nothing
         * holds (a connection that selected one may be about to write) -
         * when a domain was let go since the last look, or a second went
         * by (keys may have expired), not on every refused write. */
        if (ks->ncounted >= cfg_max_domains(ks) &&
            (released != ks->released_seen || now - ks->reclaim_us >= 1000000)) {
            ks->released_seen = released;
            ks->reclaim_us = now;
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
    if (d && atomic_fetch_sub(&d->refs, 1) == 1) atomic_fetch_add(&ks->released, 1);
}

void ks_domain_hold(domain *d) { atomic_fetch_add(&d->refs, 1); }

domain *ks_default(keyspace *ks) { return ks->dflt; }

const char *ks_domain_name(const domain *d, size_t *len)
{
    *len = d->nlen;
    return d->name;
}

long long ks_domain_db_index(const domain *d)
{
    long long n;
    if (d == d->ks->dflt) return 0;
    if (util_str2ll(d->name, d->nlen, &n) < 0 || n < 0) return -1;
    return n;
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

uint64_t ks_hash(const keyspace *ks, const char *key, size_t klen)
{
    return hash_siphash13(key, klen, ks->sipkey);
}

static shard *shard_of(keyspace *ks, domain *d, uint64_t h)
{
    return &d->shards[ks->nshards > 1 ? h >> ks->shard_shift : 0];
}

void ks_ref(keyspace *ks, domain *d, const char *key, size_t klen, kref *r)
{
    ks_ref_hashed(ks, d, key, klen, ks_hash(ks, key, klen), r);
}

/* The effects hook for a write to r's key (none while r is quiet). */
static inline const ks_effects *ks__rfx(const kref *r)
{
    return r->quiet ? NULL : ks__fx(r->d->ks);
}

void ks_ref_hashed(keyspace *ks, domain *d, const char *key, size_t klen, uint64_t h, kref *r)
{
    r->d = d;
    r->h = h;
    r->s = shard_of(ks, d, h);
    r->key = key;
    r->klen = klen;
    r->it = NULL;
    r->gen = (uint64_t)-1;
    r->quiet = 0;
}

void ks_set_single_writer(keyspace *ks, int on) { ks->single_writer = on; }

void ks_hint(keyspace *ks, domain *d, uint64_t h, int deep)
{
    shard *s = shard_of(ks, d, h);
    /* A lone writer is this thread: other threads only read tables. */
    if (ks->single_writer) {
        table_prefetch(&s->t, h, deep);
    } else if (pthread_mutex_trylock(&s->lock) == 0) {
        table_prefetch(&s->t, h, deep);
        pthread_mutex_unlock(&s->lock);
    }
}

void ks_lock(kref *r) { pthread_mutex_lock(&r->s->lock); }
void ks_unlock(kref *r) { pthread_mutex_unlock(&r->s->lock); }

void ks__drop(kref *r, item *it, int reason, int flags)
{
    shard *s = r->s;
    const ks_effects *fx = ks__rfx(r);
    ks__pre_change(s, r->d, it);
    ks__touched(r, 1);
    /* an expiry is reported too (Redis propagates a DEL): a write after it
     * starts a new key, and the AOF's replay must know that */
    if (fx) fx->del(fx->ctx, r->d, r->key, r->klen, reason);
    if (reason != KS_DEL_USER && r->d->ks->key_event)
        r->d->ks->key_event(r->d->ks->key_event_ctx, r->d, r->key, r->klen, reason);
    table_delete(&s->t, &r->pos);
    if (!(flags & KS_DROP_MOVED)) ks__release(s, r->d->ks, it);
    if (item_has_ttl(it)) s->expires--;
    if (reason == KS_DEL_EXPIRED) s->expired++;
    else if (reason == KS_DEL_EVICTED) s->evicted++;
    else s->changes++;
    if (!(flags & KS_DROP_RECYCLED)) ks__mem_add(s, r->d->ks, -(long long)seg_kill(&s->st, it));
    s->gen++;
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
    int q = (r->it || ks__ghost_take(s, r->h)) ? SEG_MAIN : SEG_SMALL;
    item *it = seg_alloc(&s->st, q, item_size(r->klen, vlen, expire >= 0),
                           item_size(r->klen, room, expire >= 0), &grown, &solo);
    if (grown) {
        ks__mem_add(s, r->d->ks, (long long)grown);
        if (ks__needs_compaction(s)) ks__want_compaction(r->d, s);
    }
    item_init(it, r->key, r->klen, val, vlen, expire);
    if (solo) it->vmeta |= ITEM_SOLO;
    item_set_snap(it, ks__mark(r->d->ks));   /* newer than any running snapshot */
    return it;
}

item *ks_new(kref *r, const char *val, size_t vlen, int64_t expire)
{
    return new_item(r, val, vlen, expire, vlen);
}

/* A new item for r's key with src's value bytes and kind, as they are. */
static item *new_like(kref *r, const item *src, int64_t expire)
{
    item *it = new_item(r, item_cval(src), item_vlen(src), expire, item_vlen(src));
    it->vmeta = (it->vmeta & (ITEM_SOLO | ITEM_SNAP)) | (src->vmeta & ITEM_VLEN_MASK);
    return it;
}

item *ks_new_copy(kref *r, const item *src, int64_t expire)
{
    const kind_ops *ops = kind_ops_of(item_kind(src));
    item *it = new_like(r, src, expire);
    if (ops && ops->copy) {
        if (ops->copy(it, src) < 0) {   /* out of memory: it holds src's pointer, never released */
            ks__mem_add(r->s, r->d->ks, -(long long)seg_kill(&r->s->st, it));
            return NULL;
        }
        ks__mem_add(r->s, r->d->ks, (long long)ks__outside(it));
    }
    return it;
}


/* An expired item is dropped, unless a read finds it while
 * ks_keep_expired says to leave it. */
static inline __attribute__((always_inline)) item *find(kref *r, int64_t now, int reading)
{
    shard *s = r->s;
    item *it = table_find(&s->t, r->h, r->key, r->klen, &r->pos);
    r->gen = s->gen;
    if (it && item_has_ttl(it) && item_expire(it) <= now) {
        if (!reading || now >= atomic_load(&r->d->ks->keep_expired_until)) {
            ks__drop(r, it, KS_DEL_EXPIRED, 0);
            r->gen = s->gen;
        }
        it = NULL;
    }
    r->it = it;
    return it;
}

item *ks_find(kref *r, int64_t now) { return find(r, now, 0); }

void ks_keep_expired(keyspace *ks, int64_t until_ms)
{
    atomic_store(&ks->keep_expired_until, until_ms);
}

item *ks_read(kref *r, int64_t now)
{
    item *it = find(r, now, 1);
    if (it) {
        unsigned ub = table_ubits(&r->pos);
        if (UB_FREQ(ub) < 3) table_set_ubits(&r->pos, UB_WITH_FREQ(ub, UB_FREQ(ub) + 1));
        r->s->hits++;
    } else {
        r->s->misses++;
        if (atomic_load_explicit(&r->d->ks->want_miss, memory_order_relaxed))
            r->d->ks->key_event(r->d->ks->key_event_ctx, r->d, r->key, r->klen, KS_KEY_MISS);
    }
    return it;
}

/* The item now at r's key (NULL: none), with r->pos current: ks_find's
 * answer while nothing has moved entries since, else found again (then it
 * may be an expired item that ks_find would have dropped). */
static item *current_item(kref *r)
{
    if (r->gen != r->s->gen) {
        r->it = table_find(&r->s->t, r->h, r->key, r->klen, &r->pos);
        r->gen = r->s->gen;
    }
    return r->it;
}

/* ks_store without logging. */
/* ks_store without the effect. moved: it took over what the old item held
 * outside its segment (a new layout of the same value), so that is not
 * freed. */
static void put_item_moved(kref *r, item *it, int moved)
{
    shard *s = r->s;
    item *old = current_item(r);
    if (old) {
        unsigned ub = table_ubits(&r->pos);
        ks__pre_change(r->s, r->d, old);
        if (item_has_ttl(old)) s->expires--;
        if (!moved) ks__release(s, r->d->ks, old);
        table_replace(&s->t, &r->pos, it, UB_WITH_FREQ(item_has_ttl(it) ? UB_TTL : 0, UB_FREQ(ub)));
        ks__mem_add(s, r->d->ks, -(long long)seg_kill(&s->st, old));
    } else {
        long long before = ks__table_bytes(s);
        table_insert(&s->t, r->h, it, item_has_ttl(it) ? UB_TTL : 0);
        ks__mem_add(s, r->d->ks, ks__table_bytes(s) - before);
        s->gen++;
        if (atomic_load_explicit(&r->d->ks->want_new, memory_order_relaxed))
            r->d->ks->key_event(r->d->ks->key_event_ctx, r->d, r->key, r->klen, KS_KEY_NEW);
    }
    if (item_has_ttl(it)) s->expires++;
    s->sets++;
    s->changes++;
    r->it = it;
    r->gen = (uint64_t)-1;   /* an insertion may have moved entries */
    ks__touched(r, 0);
}

static void put_item(kref *r, item *it) { put_item_moved(r, it, 0); }

void ks_store(kref *r, item *it)
{
    const ks_effects *fx = ks__rfx(r);
    put_item(r, it);
    if (fx) fx->put(fx->ctx, r->d, it);
}

/* Can old, r's live item, hold an item of `size` bytes where it lies? A
 * regular item can if its footprint stays the same (so walking the
 * segment still works); a solo item can if its segment has the room and no
 * reply or snapshot is sending from it. Call after ks__pre_change, which may
 * take such a reference. */
static int fits_in_place(kref *r, item *old, size_t size)
{
    if (item_solo(old)) return seg_resize_solo(&r->s->st, old, size) == 0;
    return item_footprint(old) == ((size + 7) & ~(size_t)7);
}

/* Give it, r's item, a value of vlen bytes where it lies (fits_in_place
 * said it fits; the caller writes the bytes), with the bookkeeping: a write
 * is a use, as far as eviction goes, and WATCH must hear of it. */
static void resize_in_place(kref *r, item *it, size_t vlen)
{
    unsigned ub = table_ubits(&r->pos);
    it->vmeta = (uint32_t)vlen | (it->vmeta & (ITEM_SOLO | ITEM_SNAP));
    if (UB_FREQ(ub) < 3) table_set_ubits(&r->pos, UB_WITH_FREQ(ub, UB_FREQ(ub) + 1));
    r->s->sets++;
    r->s->changes++;
    ks__touched(r, 0);
}

item *ks_set(kref *r, const char *val, size_t vlen, int64_t expire)
{
    item *old = current_item(r);
    /* a value of another kind is replaced, never written over */
    if (old && item_has_ttl(old) == (expire >= 0) && !item_typed(old)) {
        ks__pre_change(r->s, r->d, old);
        if (fits_in_place(r, old, item_size(r->klen, vlen, expire >= 0))) {
            const ks_effects *fx = ks__rfx(r);
            resize_in_place(r, old, vlen);
            if (expire >= 0) memcpy(old->data, &expire, 8);
            memmove(item_val(old), val, vlen);
            if (fx) fx->put(fx->ctx, r->d, old);
            return old;
        }
    }
    ks_store(r, ks_new(r, val, vlen, expire));
    return r->it;
}

item *ks_splice(kref *r, size_t vlen, size_t off, const char *p, size_t n)
{
    item *old = r->it, *it;
    size_t len = item_vlen(old), keep = vlen < len ? vlen : len;
    const ks_effects *fx = ks__rfx(r);
    ks__pre_change(r->s, r->d, old);
    if (fits_in_place(r, old, item_size(r->klen, vlen, item_has_ttl(old)))) {
        resize_in_place(r, old, vlen);
        it = old;
    } else {
        /* A value that keeps growing (APPEND, SETRANGE) gets room to
         * double, so growing it to n bytes copies O(n) bytes in all. */
        it = new_item(r, NULL, vlen, item_expire(old), vlen > len ? vlen * 2 : vlen);
        memcpy(item_val(it), item_cval(old), keep);
        put_item(r, it);
    }
    if (vlen > len) memset(item_val(it) + len, 0, vlen - len);
    if (n) memcpy(item_val(it) + off, p, n);
    if (fx) fx->splice(fx->ctx, r->d, r->key, r->klen, vlen, off, p, n);
    return it;
}

void ks_set_expire(kref *r, int64_t when)
{
    item *it = r->it;
    const ks_effects *fx = ks__rfx(r);
    if (when < 0 && !item_has_ttl(it)) return;
    if (when >= 0 && item_has_ttl(it)) {
        ks__pre_change(r->s, r->d, it);
        memcpy(it->data, &when, 8);   /* same layout: update in place */
        r->s->changes++;
        ks__touched(r, 0);
    } else {
        put_item_moved(r, new_like(r, it, when), 1);   /* the same value, another layout */
        r->s->sets--;   /* not a value write */
    }
    if (fx) fx->expire(fx->ctx, r->d, r->key, r->klen, when);
}

int ks_delete(kref *r, int64_t now)
{
    item *it = ks_find(r, now);
    if (!it) return 0;
    ks__drop(r, it, KS_DEL_USER, 0);
    r->it = NULL;
    r->gen = r->s->gen;
    return 1;
}

item *ks_put_typed(kref *r, unsigned kind, unsigned enc, const char *p, size_t n, int64_t expire)
{
    item *old = current_item(r), *it;
    size_t vlen = n + 1;
    if (old && item_has_ttl(old) == (expire >= 0) && item_kind(old) == kind &&
        item_typed(old)) {
        ks__pre_change(r->s, r->d, old);
        if (fits_in_place(r, old, item_size(r->klen, vlen, expire >= 0))) {
            resize_in_place(r, old, vlen);
            item_set_kind(old, kind, enc, n);
            if (expire >= 0) memcpy(old->data, &expire, 8);
            memmove(item_payload(old), p, n);
            return old;
        }
    }
    /* room to double, as a growing string gets: inserting into a small
     * collection one element at a time then copies O(n) bytes in all */
    it = new_item(r, NULL, vlen, expire, old && vlen > item_vlen(old) ? vlen * 2 : vlen);
    item_set_kind(it, kind, enc, n);
    memcpy(item_payload(it), p, n);
    put_item(r, it);
    return it;
}

void ks_modify(kref *r)
{
    ks__pre_change(r->s, r->d, r->it);
    r->s->sets++;
    r->s->changes++;
    ks__touched(r, 0);
}

void ks_modify_unwatched(kref *r)
{
    ks__pre_change(r->s, r->d, r->it);
    r->s->sets++;
    r->s->changes++;
}

void ks_charge(kref *r, long long delta) { ks__mem_add(r->s, r->d->ks, delta); }

size_t ks_outside(const item *it) { return ks__outside(it); }

void ks_discard(kref *r, item *it)
{
    const kind_ops *ops = kind_ops_of(item_kind(it));
    size_t out = ks__outside(it);
    if (out) ks__mem_add(r->s, r->d->ks, -(long long)out);
    if (ops && ops->release) ops->release(it);
    ks__mem_add(r->s, r->d->ks, -(long long)seg_kill(&r->s->st, it));
}

void ks_effect(kref *r, int argc, const slice *argv)
{
    const ks_effects *fx = ks__fx(r->d->ks);   /* quiet or not: this is the report */
    if (fx && fx->command) fx->command(fx->ctx, r->d, argc, argv);
}

void ks_effect_keyless(keyspace *ks, domain *d, int argc, const slice *argv)
{
    const ks_effects *fx = ks__fx(ks);
    if (fx && fx->command) fx->command(fx->ctx, d, argc, argv);
}

void ks_effect_put(kref *r)
{
    const ks_effects *fx = ks__rfx(r);
    if (fx && r->it) fx->put(fx->ctx, r->d, r->it);
}

void ks_move(kref *dst, kref *src)
{
    item *it = src->it;
    long long outside = (long long)ks__outside(it);
    dst->gen = (uint64_t)-1;
    ks__mem_add(src->s, src->d->ks, -outside);   /* it changes shards */
    ks__mem_add(dst->s, dst->d->ks, outside);
    ks_store(dst, new_like(dst, it, item_expire(it)));
    /* the store may have moved entries: find src's again */
    src->it = table_find(&src->s->t, src->h, src->key, src->klen, &src->pos);
    src->gen = src->s->gen;
    ks__drop(src, src->it, KS_DEL_USER, KS_DROP_MOVED);
    src->it = NULL;
}

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

void ks_lockset_add_domain(ks_lockset *ls, domain *d)
{
    for (int i = 0; i < d->nshards; i++) {
        kref r = {.d = d, .s = &d->shards[i]};
        ks_lockset_add(ls, &r);
    }
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

size_t ks_flush(keyspace *ks, domain *d)
{
    size_t n = 0;
    /* in index order, which is address order: see ks_lockset */
    for (int i = 0; i < d->nshards; i++) pthread_mutex_lock(&d->shards[i].lock);
    for (int i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        ks__watch_flush(s);
        n += table_count(&s->t);
        s->changes += table_count(&s->t);
        free_items(s, d);
    }
    if (ks__fx(ks)) ks__fx(ks)->flush(ks__fx(ks)->ctx, d);
    for (int i = d->nshards - 1; i >= 0; i--) pthread_mutex_unlock(&d->shards[i].lock);
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
    int kind;
    int64_t now;
    buf *out;
    size_t n;
} scan_ctx;

static void scan_one(void *obj, void *opaque)
{
    scan_ctx *c = opaque;
    item *it = obj;
    if (item_has_ttl(it) && item_expire(it) <= c->now) return;
    if (c->kind >= 0 && item_kind(it) != (unsigned)c->kind) return;
    if (c->pat && !util_glob_match(c->pat, c->plen, item_key(it), item_klen(it), 0)) return;
    resp_bulk(c->out, item_key(it), item_klen(it));
    c->n++;
}

/* Cursor layout: bucket cursor << 8 | shard index. */
uint64_t ks_scan(domain *d, uint64_t cursor, long count, const char *pat, size_t plen, int kind,
                 int64_t now, buf *out, size_t *nout)
{
    scan_ctx c = {pat, plen, kind, now, out, 0};
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

uint64_t ks_changes(keyspace *ks)
{
    uint64_t n = 0;
    pthread_rwlock_rdlock(&ks->reg_lock);
    for (int i = 0; i < ks->ndomains; i++) {
        domain *d = ks->domains[i];
        for (int k = 0; k < d->nshards; k++) {
            pthread_mutex_lock(&d->shards[k].lock);
            n += d->shards[k].changes;
            pthread_mutex_unlock(&d->shards[k].lock);
        }
    }
    pthread_rwlock_unlock(&ks->reg_lock);
    return n;
}

void ks_set_effects(keyspace *ks, const ks_effects *fx)
{
    atomic_store_explicit(&ks->fx, fx, memory_order_release);
}

const ks_effects *ks_effects_of(keyspace *ks) { return ks__fx(ks); }

void ks_set_key_events(keyspace *ks, ks_key_event_fn *fn, void *ctx)
{
    ks->key_event = fn;
    ks->key_event_ctx = ctx;
}

void ks_want_events(keyspace *ks, int want_new, int want_miss)
{
    atomic_store(&ks->want_new, want_new);
    atomic_store(&ks->want_miss, want_miss);
}


size_t ks_used_memory(keyspace *ks)
{
    long long m = atomic_load_explicit(&ks->mem, memory_order_relaxed) +
                  atomic_load_explicit(&ks->overhead, memory_order_relaxed);
    size_t used = m > 0 ? (size_t)m : 0, peak = atomic_load_explicit(&ks->peak, memory_order_relaxed);
    /* a store only when it is a new high: the write path reads this too */
    while (used > peak &&
           !atomic_compare_exchange_weak_explicit(&ks->peak, &peak, used, memory_order_relaxed,
                                                  memory_order_relaxed)) {}
    return used;
}

size_t ks_peak_memory(keyspace *ks)
{
    ks_used_memory(ks);
    return atomic_load_explicit(&ks->peak, memory_order_relaxed);
}

void ks_set_touch_hook(keyspace *ks, ks_touch_fn fn, void *ctx)
{
    ks->touch_fn = fn;
    ks->touch_ctx = ctx;
}

atomic_int ks__touch_any;

void ks__touch_slow(const kref *r)
{
    keyspace *ks = r->d->ks;
    if (atomic_load_explicit(&ks->touch_on, memory_order_relaxed)) ks->touch_fn(ks->touch_ctx, r->key, r->klen);
}

void ks_touch_enable(keyspace *ks)
{
    if (!ks->touch_fn) return;
    atomic_store(&ks->touch_on, 1);
    atomic_store(&ks__touch_any, 1);
}

void ks_set_overhead(keyspace *ks, size_t in_use)
{
    long long extra = (long long)in_use - atomic_load(&ks->mem);
    atomic_store(&ks->overhead, extra > 0 ? extra : 0);
    ks_used_memory(ks);   /* the peak, measured at least this often */
}
