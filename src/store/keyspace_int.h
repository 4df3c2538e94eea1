/* keyspace_int.h - the keyspace's insides, shared by keyspace.c (domains and
 * keys), evict.c (compaction and eviction) and expire.c (the expiry sweep).
 * Nothing outside those three files includes it; names shared between them
 * carry the ks__ prefix. */
#ifndef KASI_KEYSPACE_INT_H
#define KASI_KEYSPACE_INT_H

#include "persist/aof.h"
#include "store/keyspace.h"
#include "persist/snapshot.h"

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
    atomic_ullong evict_cursor;     /* round robin over (domain, shard) */
    /* Persistence. These change only while no command runs anywhere (the
     * server's exclusive section), and commands are all that logs or
     * saves; the background sweep reads them too, hence atomics. */
    _Atomic(snapshot *) snap;       /* the snapshot being taken, or NULL */
    atomic_uint snap_mark;          /* the ITEM_SNAP mark new items get */
    _Atomic(aof *) log;             /* where writes are logged, or NULL */
    int single_writer;              /* see ks_set_single_writer */
};

static inline snapshot *ks__snap(keyspace *ks)
{
    return atomic_load_explicit(&ks->snap, memory_order_acquire);
}
static inline unsigned ks__mark(keyspace *ks)
{
    return atomic_load_explicit(&ks->snap_mark, memory_order_relaxed);
}
static inline aof *ks__log(keyspace *ks)
{
    return atomic_load_explicit(&ks->log, memory_order_acquire);
}

/* Before an item is changed or dropped: a running snapshot that still
 * needs its current version saves it first (copy-on-write, per item). */
static inline void ks__pre_change(shard *s, domain *d, item *it)
{
    snapshot *sn = ks__snap(d->ks);
    if (sn && item_snap(it) != ks__mark(d->ks)) snapshot_save(sn, s, d, it);
}

/* Account for a change in a shard's memory. */
static inline void ks__mem_add(shard *s, keyspace *ks, long long delta)
{
    s->mem += (size_t)delta;
    atomic_fetch_add_explicit(&ks->mem, delta, memory_order_relaxed);
}

static inline long long ks__table_bytes(const shard *s) { return (long long)table_mem(&s->t); }

/* Remove the entry at r->pos (current) and mark its item dead. */
void ks__remove_at(kref *r, item *it);
/* watch.c: tell WATCH that a key of s (h: its hash) changed, gone: by
 * being deleted. O(1) when nobody watches a key in s. The shard is locked. */
void ks__watch_touch_slow(shard *s, uint64_t h, const char *key, size_t klen, int gone);
static inline void ks__watch_touch(shard *s, uint64_t h, const char *key, size_t klen, int gone)
{
    if (s->watch.n) ks__watch_touch_slow(s, h, key, klen, gone);
}
/* The same for an item about to be deleted, hashing its key only if needed. */
static inline void ks__watch_touch_item(shard *s, const keyspace *ks, const item *it)
{
    if (s->watch.n)
        ks__watch_touch_slow(s, ks_hash(ks, item_key(it), item_klen(it)), item_key(it),
                             item_klen(it), 1);
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
