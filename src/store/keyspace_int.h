/* keyspace_int.h - the keyspace's insides, shared by the store's files:
 * keyspace.c (domains and keys), evict.c (compaction and eviction),
 * expire.c (the expiry sweep), watch.c and pit.c. Nothing outside the store
 * includes it; names shared between them carry the ks__ prefix. */
#ifndef KASI_KEYSPACE_INT_H
#define KASI_KEYSPACE_INT_H

#include "store/hooks.h"
#include "store/kind.h"
#include "store/keyspace.h"
#include "store/pit.h"

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
    domain *hnext;        /* in the registry's name index */
    int idx;              /* in ks->domains */
    atomic_long refs;
    atomic_int counted;   /* holds a max-domains slot (see ks_domain_claim) */
    int nshards;
    shard *shards;
};

struct keyspace {
    uint64_t sipkey[2];
    int nshards;
    int shard_shift;
    const long long *max_domains;   /* the config field; read atomically */
    pthread_rwlock_t reg_lock;      /* guards the registry: the fields up to dflt */
    domain **domains;               /* [0] is "default" */
    int ndomains, cap;
    domain **dtab;                  /* name index: chains by hnext */
    size_t dmask;
    int sweep_at;                   /* recycle unused domains once ndomains gets here */
    int ncounted;                   /* domains holding a max-domains slot */
    unsigned released_seen;         /* `released` when slots were last given back */
    int64_t reclaim_us;             /* and when */
    atomic_uint released;           /* bumped when a domain's last reference goes */
    domain *dflt;                   /* "default": never moves or goes away */
    atomic_llong mem;               /* bytes of segments and tables, all shards */
    atomic_llong overhead;          /* allocator in-use bytes beyond mem */
    atomic_size_t peak;             /* the most ks_used_memory has returned */
    atomic_ullong evict_cursor;     /* round robin over (domain, shard) */
    /* The hooks. These change only while no command runs anywhere (the
     * server's exclusive section), and commands are all that writes; the
     * background sweep reads them too, hence atomics. */
    _Atomic(ks_pit *) pit;          /* the point-in-time read running, or NULL */
    atomic_uint snap_mark;          /* the ITEM_SNAP mark new items get */
    _Atomic(const ks_effects *) fx; /* who hears of each write, or NULL */
    int single_writer;              /* see ks_set_single_writer */
    ks_touch_fn touch_fn;           /* see ks_set_touch_hook */
    void *touch_ctx;
    atomic_int touch_on;
    ks_key_event_fn *key_event;     /* set before the workers start */
    void *key_event_ctx;
    atomic_int want_new;            /* key_event hears of new keys */
    atomic_int want_miss;           /* ... and of reads that missed */
    _Atomic int64_t keep_expired_until;   /* see ks_keep_expired */
};

static inline ks_pit *ks__pit(keyspace *ks)
{
    return atomic_load_explicit(&ks->pit, memory_order_acquire);
}
static inline unsigned ks__mark(keyspace *ks)
{
    return atomic_load_explicit(&ks->snap_mark, memory_order_relaxed);
}
static inline const ks_effects *ks__fx(keyspace *ks)
{
    return atomic_load_explicit(&ks->fx, memory_order_acquire);
}

/* pit.c: mark it read and hand it to the running point-in-time read. */
void ks__pit_save(ks_pit *p, shard *s, domain *d, item *it);

/* Before an item is changed or dropped: a running snapshot that still
 * needs its current version saves it first (copy-on-write, per item). */
static inline void ks__pre_change(shard *s, domain *d, item *it)
{
    ks_pit *p = ks__pit(d->ks);
    if (p && item_snap(it) != ks__mark(d->ks)) ks__pit_save(p, s, d, it);
}

/* Free what a value holds outside its segment (it is going away). */

/* Whether any registered kind can hold memory outside the segments (then
 * emptying a shard must look at each item). */
static inline int ks__kinds_hold_outside(void)
{
    for (unsigned k = 0; k < KIND_MAX; k++) {
        const kind_ops *ops = kind_ops_of(k);
        if (ops && ops->release) return 1;
    }
    return 0;
}

/* Account for a change in a shard's memory. */
static inline void ks__mem_add(shard *s, keyspace *ks, long long delta)
{
    s->mem += (size_t)delta;
    atomic_fetch_add_explicit(&ks->mem, delta, memory_order_relaxed);
}

/* What an item holds outside its segment, in bytes (0 for most). */
static inline size_t ks__outside(const item *it)
{
    const kind_ops *ops = item_typed(it) ? kind_ops_of(item_kind(it)) : NULL;
    return ops && ops->outside ? ops->outside(it) : 0;
}

/* Free what an item holds outside its segment, and stop counting it. */
static inline void ks__release(shard *s, keyspace *ks, item *it)
{
    const kind_ops *ops = item_typed(it) ? kind_ops_of(item_kind(it)) : NULL;
    if (ops && ops->release) {
        ks__mem_add(s, ks, -(long long)(ops->outside ? ops->outside(it) : 0));
        ops->release(it);
    }
}

static inline long long ks__table_bytes(const shard *s) { return (long long)table_mem(&s->t); }

/* The one way a key goes away: its item it, found at r->pos (current),
 * whose key r->key names (r->h its hash, needed only if someone watches in
 * the shard). A snapshot saves it first, WATCH and the effects hook hear of
 * it (with its reason), it leaves the table and its counts, what it holds
 * outside its segment is freed, and its bytes are left for recycling.
 * Flags: KS_DROP_RECYCLED, it is in a segment that compaction or eviction
 * took out of the store and frees itself; KS_DROP_MOVED, what it holds
 * outside its segment now belongs to another item (RENAME, MOVE). */
#define KS_DROP_RECYCLED 1
#define KS_DROP_MOVED 2
void ks__drop(kref *r, item *it, int reason, int flags);
/* watch.c: tell WATCH that a key of s (h: its hash) changed, gone: by
 * being deleted. O(1) when nobody watches a key in s. The shard is locked. */
void ks__watch_touch_slow(shard *s, uint64_t h, const char *key, size_t klen, int gone);
static inline void ks__watch_touch(shard *s, uint64_t h, const char *key, size_t klen, int gone)
{
    if (s->watch.n) ks__watch_touch_slow(s, h, key, klen, gone);
}
/* A key of r changed (gone: by going): WATCH and the touch hook hear.
 * Whether any keyspace has its hook on is one global flag, so that a write
 * pays one load for it. */
extern atomic_int ks__touch_any;
void ks__touch_slow(const kref *r);
static inline void ks__touched(const kref *r, int gone)
{
    ks__watch_touch(r->s, r->h, r->key, r->klen, gone);
    if (__builtin_expect(atomic_load_explicit(&ks__touch_any, memory_order_relaxed), 0)) ks__touch_slow(r);
}
/* A kref for the item it at pos of s, for ks__drop: its key is the item's,
 * and its hash is computed only if someone watches in the shard. */
static inline void ks__ref_item(kref *r, shard *s, domain *d, item *it, const table_pos *pos)
{
    r->d = d;
    r->s = s;
    r->key = item_key(it);
    r->klen = item_klen(it);
    r->h = s->watch.n ? ks_hash(d->ks, r->key, r->klen) : 0;
    r->pos = *pos;
    r->it = it;
    r->quiet = 0;
}
/* s is being emptied: mark the watchers of the keys in it. */
void ks__watch_flush(shard *s);
/* Free s's watch table (at exit). */
void ks__watch_free(shard *s);

/* evict.c */
void ks__ghost_add(shard *s, keyspace *ks, uint64_t h);
int ks__ghost_take(shard *s, uint64_t h);
int ks__needs_compaction(const shard *s);
/* Note a shard to compact once the current command is done. */
void ks__want_compaction(domain *d, shard *s);
/* Recycle a shard's oldest segments while a quarter of it is dead. */
void ks__compact(shard *s, domain *d, int64_t now);

#endif
