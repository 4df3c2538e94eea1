/* keyspace.h - domains, shards and the keys in them.
 *
 * A domain is a named keyspace (Redis's "database", but named). Each domain
 * is split into a fixed number of shards; a key's shard is chosen by the top
 * bits of its keyed hash. Each shard has its own lock, table and counters,
 * so worker threads only contend when they touch the same shard, and a
 * shard could later be owned by one thread outright.
 *
 * Locking: ks_lock()/ks_unlock() guard one key's shard; multi-key commands
 * lock a ks_lockset, which takes its shards in address order so that no two
 * threads can deadlock. Every ks_* call that takes a kref expects its shard
 * to be held. The domain registry has its own rwlock, taken only to create,
 * find or list domains, never while a shard lock is held.
 *
 * Every write goes through ks_store(), ks_set(), ks_splice(), ks_set_expire(),
 * ks_delete() or ks_flush(), which also signal WATCH, keep the counters,
 * let a running snapshot save what it still needs, and report the write's
 * effect through the effects hook (see hooks.h). Expired keys are deleted
 * when they are found and by ks_cron()'s incremental sweep. */
#ifndef KASI_KEYSPACE_H
#define KASI_KEYSPACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/slice.h"
#include "store/item.h"
#include "store/segment.h"
#include "lib/table.h"

#define KS_DOMAIN_NAME_MAX 256
#define KS_MAX_SHARDS 256

typedef struct keyspace keyspace;
typedef struct domain domain;
typedef struct ks_effects ks_effects;

/* The keys watched in a shard (see watch.c). */
typedef struct ks_wtab {
    struct wkey **b;
    size_t mask, n;      /* n: keys watched; 0 means a write checks nothing more */
} ks_wtab;

/* A session's watches: its dirty flag (set by any thread when a watched key
 * changes) and its list of watched keys. */
typedef struct ks_watcher {
    atomic_int dirty;
    struct wnode *nodes;
    size_t count;
} ks_watcher;

typedef struct shard {
    pthread_mutex_t lock;
    table t;             /* all fields below are guarded by lock */
    segstore st;            /* where the items live */
    uint64_t gen;        /* bumped by every insertion, deletion and move */
    size_t expires;      /* items with an expiry */
    size_t mem;          /* bytes of segments and table */
    uint64_t hits, misses, sets, expired, evicted;
    uint64_t aged;       /* keys eviction kept but moved closer to eviction */
    uint64_t changes;    /* writes, for the save points */
    size_t sweep_pos;    /* the expiry sweep's position */
    unsigned gc_turn;    /* which queue compaction recycles next */
    uint32_t *ghost;     /* S3-FIFO ghost: fingerprints of keys evicted early */
    void *cow_slot;      /* the running point-in-time read's (see pit.h) */
    size_t ghost_mask;
    ks_wtab watch;       /* keys watched in this shard */
} __attribute__((aligned(64))) shard;

/* Eviction policies and their maxmemory-policy names, defined once: the
 * directive's words are made from this list (conf/config.h). */
#define KS_POLICIES(X)                                                                       \
    X(KS_NOEVICTION, "noeviction") X(KS_ALLKEYS_LRU, "allkeys-lru")                         \
    X(KS_ALLKEYS_LFU, "allkeys-lfu") X(KS_ALLKEYS_RANDOM, "allkeys-random")                 \
    X(KS_VOLATILE_LRU, "volatile-lru") X(KS_VOLATILE_LFU, "volatile-lfu")                   \
    X(KS_VOLATILE_RANDOM, "volatile-random") X(KS_VOLATILE_TTL, "volatile-ttl")             \
    X(KS_S3FIFO, "s3fifo")
enum ks_policy {
#define X(id, name) id,
    KS_POLICIES(X)
#undef X
};
/* "noeviction allkeys-lru ...": the words, in the enum's order. */
#define KS_POLICY_WORD(id, name) name " "
#define KS_POLICY_WORDS KS_POLICIES(KS_POLICY_WORD)

/* A key being worked on: its domain, shard, hash and the position found by
 * the last ks_find (valid while gen is unchanged). */
typedef struct kref {
    domain *d;
    shard *s;
    uint64_t h;
    const char *key;
    size_t klen;
    table_pos pos;
    uint64_t gen;
    item *it;            /* what ks_find found, or NULL */
    unsigned char quiet; /* writes through r report no effect: the command
                          * reports itself (ks_effect), as RENAME does for a
                          * big collection instead of logging it whole */
} kref;

typedef struct ks_stats {
    uint64_t keys, expires, mem, hits, misses, sets, expired, evicted;
} ks_stats;

/* nshards is rounded up to a power of two, at most KS_MAX_SHARDS. */
keyspace *ks_create(int nshards, const long long *max_domains);
/* Free every domain and key and set *ks to NULL. */
void ks_destroy(keyspace **ks);

/* ---- domains ---- */

/* The domain called name ("0" means "default"), created if needed; the
 * caller holds a reference until ks_domain_put. Selecting costs no
 * max-domains slot: writing does (ks_domain_claim). */
domain *ks_domain_get(keyspace *ks, const char *name, size_t len);
/* Make sure d holds one of the max-domains slots before a write to it.
 * Slots of domains that emptied and are not selected are given back first.
 * Returns 0, or -1 when every slot is taken. */
int ks_domain_claim(keyspace *ks, domain *d);
void ks_domain_put(keyspace *ks, domain *d);
void ks_domain_hold(domain *d);   /* one more reference to a held domain */
domain *ks_default(keyspace *ks); /* always exists; no reference needed */
const char *ks_domain_name(const domain *d, size_t *len);
/* The Redis database number a domain stands for: 0 for "default", N for a
 * name that is N written canonically (SELECT 5), else -1. */
long long ks_domain_db_index(const domain *d);
int ks_domain_count(keyspace *ks);
/* Call fn for every domain (registry read-locked, no shard locks held). */
void ks_foreach_domain(keyspace *ks, void (*fn)(domain *d, void *opaque), void *opaque);

/* ---- keys ---- */

void ks_ref(keyspace *ks, domain *d, const char *key, size_t klen, kref *r);
/* The same, with the key's hash (ks_hash) already known. */
void ks_ref_hashed(keyspace *ks, domain *d, const char *key, size_t klen, uint64_t h, kref *r);
uint64_t ks_hash(const keyspace *ks, const char *key, size_t klen);
/* A cache hint for a key about to be looked up in d (no lock needed, and
 * nothing changes): deep = 0 fetches its table slot, deep = 1, a little
 * later, its item (see table_prefetch). With more than one writer thread
 * the shard is only looked at if its lock is free. */
void ks_hint(keyspace *ks, domain *d, uint64_t h, int deep);
/* Declare that one thread alone changes the keyspace (one worker): ks_hint
 * may then read tables without their locks. */
void ks_set_single_writer(keyspace *ks, int on);
/* A function told of every change to a key (its name; in any domain),
 * under the key's shard lock: client-side caching's invalidations. Set
 * before commands run; it is called once enabled, and from then on. */
typedef void (*ks_touch_fn)(void *ctx, const char *key, size_t klen);
void ks_set_touch_hook(keyspace *ks, ks_touch_fn fn, void *ctx);
void ks_touch_enable(keyspace *ks);
void ks_lock(kref *r);
void ks_unlock(kref *r);

/* Find the live item (deleting it if it has expired); fills r->it. */
item *ks_find(kref *r, int64_t now);
/* ks_find, counting a keyspace hit or miss. */
item *ks_read(kref *r, int64_t now);
/* A new item for r's key in r's shard, with vlen value bytes copied from
 * val (left uninitialised if val is NULL). Never moves other items, so
 * pointers found under the same lock stay valid. Call ks_find on r first:
 * keys that are being overwritten go straight to the main queue. */
item *ks_new(kref *r, const char *val, size_t vlen, int64_t expire);
/* A new item for r's key holding a copy of src's value, of src's kind
 * (COPY, RENAME, MOVE), with the expiry given. Call ks_find on r first.
 * NULL: no memory for what the value holds outside its segment (the kind's
 * copy failed); nothing is left allocated. */
item *ks_new_copy(kref *r, const item *src, int64_t expire);
/* Give up an item made for r's key (ks_new, a kind's restore) and never
 * stored: what it holds outside its segment is freed and uncharged. */
void ks_discard(kref *r, item *it);
/* Give r's key (ks_find done) a value of the kind given (not a string):
 * the encoding enc and the n bytes at p after its kind byte, with the
 * expiry given. Written in place when the item keeps its layout and room,
 * else a new item replaces the old one (freeing what the old one held
 * outside its segment). No effect is reported: the caller reports the
 * command's (ks_effect). Returns the item, also in r->it. */
item *ks_put_typed(kref *r, unsigned kind, unsigned enc, const char *p, size_t n, int64_t expire);
/* r->it, a value held outside its segment, is about to change there: a
 * running snapshot saves it first, WATCH hears of it, it counts as a write. */
void ks_modify(kref *r);
/* The same, but WATCH does not hear of it (Redis's XSETID signals no
 * watcher). */
void ks_modify_unwatched(kref *r);
/* r's value now holds delta more bytes outside its segment (for maxmemory). */
void ks_charge(kref *r, long long delta);
/* Bytes an item's value holds outside its segment (a big collection's). */
size_t ks_outside(const item *it);
/* Report a write of r's key as the command that replays it (see hooks.h). */
void ks_effect(kref *r, int argc, const slice *argv);
/* The same for a write to no key (FUNCTION LOAD), in domain d. */
void ks_effect_keyless(keyspace *ks, domain *d, int argc, const slice *argv);
/* Report r's value (ks_find done) as a whole value, as a store reports a
 * new item: for a writer that built it in place and whose command would
 * not replay to the same value. */
void ks_effect_put(kref *r);
/* Move src's value, kind and expiry to dst's key and delete src's key
 * (RENAME, MOVE): what the value holds outside its segment changes owner
 * instead of being copied. Both shards locked; ks_find on both first, and
 * src's key must exist. */
void ks_move(kref *dst, kref *src);
/* Insert or replace the key with it (made by ks_new for the same key);
 * the previous item is dropped. */
void ks_store(kref *r, item *it);
/* Set r's key to a copy of val, with the expiry given (<0: none), and
 * return its item. When the key exists with the same expiry layout and a
 * value that fits where it lies, the value is rewritten in place (no
 * allocation, nothing left to compact); otherwise as ks_new + ks_store.
 * Call ks_find on r first. */
item *ks_set(kref *r, const char *val, size_t vlen, int64_t expire);
/* Change the value of the item ks_find just found (r->it), keeping its key
 * and expiry: resize it to vlen bytes (bytes added are zero), then copy n
 * bytes from p to offset off (off + n <= vlen). Returns the (maybe moved)
 * item, also left in r->it. */
item *ks_splice(kref *r, size_t vlen, size_t off, const char *p, size_t n);
/* Give the item ks_find just found (r->it) a new expiry (<0: none). */
void ks_set_expire(kref *r, int64_t when);
/* Delete the key if present. Returns 1 if a live key was deleted. */
int ks_delete(kref *r, int64_t now);

/* A set of shards locked together, in address order. */
typedef struct ks_lockset {
    shard *s[64];
    shard **many;    /* used when more than 64 */
    int n, cap;
} ks_lockset;
void ks_lockset_init(ks_lockset *ls);
void ks_lockset_add(ks_lockset *ls, kref *r);
/* Every shard of d: for a command that reads keys it cannot name in advance
 * (SORT BY and GET patterns). */
void ks_lockset_add_domain(ks_lockset *ls, domain *d);
void ks_lockset_lock(ks_lockset *ls);
void ks_lockset_unlock(ks_lockset *ls);   /* also frees */

/* ---- whole-domain operations (each takes the shard locks itself) ---- */

void ks_domain_stats(domain *d, ks_stats *st);
size_t ks_domain_size(domain *d);
/* Delete every key, atomically (all its shards locked); returns the
 * number deleted. */
size_t ks_flush(keyspace *ks, domain *d);
/* KEYS: append matching live keys as bulk strings; returns the count. */
size_t ks_keys(domain *d, const char *pat, size_t plen, int64_t now, buf *out);
/* One SCAN step of about count buckets; appends the live keys matching pat
 * (NULL: any) and of the kind given (-1: any) to out, as bulk strings, and
 * returns the next cursor, 0 when done. */
uint64_t ks_scan(domain *d, uint64_t cursor, long count, const char *pat, size_t plen, int kind,
                 int64_t now, buf *out, size_t *nout);
/* A random live key's bytes copied to out, or -1 when there is none. */
int ks_random_key(domain *d, int64_t now, buf *out);

/* ---- WATCH ---- */

/* Watch this key of d (h: its ks_hash) for w: w->dirty is set when it
 * changes. A watch holds d and takes one of the max-domains slots, as a
 * write does: returns 0, or -1 when every slot is taken. */
int ks_watch(keyspace *ks, domain *d, const char *key, size_t klen, uint64_t h,
             ks_watcher *w, int64_t now);
/* Drop every watch of w and clear its flag. */
void ks_unwatch_all(keyspace *ks, ks_watcher *w);
/* At EXEC: whether w is dirty, counting a watched key that has expired
 * since it was watched as changed. Takes the shard locks itself. */
int ks_watch_check(keyspace *ks, ks_watcher *w, int64_t now);

/* Finish work a command left for after it (compaction of shards it
 * filled with dead bytes). Call with no shard lock held. */
void ks_after_command(keyspace *ks);

/* Writes since start (all domains), for the save points. */
uint64_t ks_changes(keyspace *ks);

/* Report every write's effect to fx from now on (NULL: to nobody). Call
 * only while no command runs anywhere (the server's exclusive section), so
 * that the reports start at a clean instant. */
void ks_set_effects(keyspace *ks, const ks_effects *fx);
const ks_effects *ks_effects_of(keyspace *ks);
/* Tell fn of every key that expires or is evicted, of new keys while
 * want_new is on and of missed reads while want_miss is (see hooks.h).
 * Call before any worker runs. */
void ks_set_key_events(keyspace *ks, void (*fn)(void *, const domain *, const char *, size_t, int),
                       void *ctx);
void ks_want_events(keyspace *ks, int want_new, int want_miss);
/* Until until_ms (0: no more), a read (ks_read) that finds its key expired
 * misses but leaves it in place, as Redis does during CLIENT PAUSE, which
 * holds every write meanwhile: set it while no command runs (the exclusive
 * section), so that no write is under way to find the key stale. */
void ks_keep_expired(keyspace *ks, int64_t until_ms);

/* ---- background work ---- */

/* Expire keys and advance resizes in the shards that belong to worker
 * `part` of `nparts`, spending about budget_us. Returns keys expired. */
size_t ks_cron(keyspace *ks, int part, int nparts, int64_t budget_us);
/* Drop every key of every domain whose expiry is at or before now (after a
 * load that kept them); returns how many. */
size_t ks_drop_expired(keyspace *ks, int64_t now);

/* Memory maxmemory bounds: segments and tables, plus what the allocator
 * held beyond them (buffers, bookkeeping) when last measured. */
size_t ks_used_memory(keyspace *ks);
/* The most it was when measured (each ks_used_memory, and each
 * ks_set_overhead: the server's once a second at least), as Redis samples
 * its peak. */
size_t ks_peak_memory(keyspace *ks);
/* Report the allocator's in-use bytes, measured now. */
void ks_set_overhead(keyspace *ks, size_t allocator_in_use);

/* Evict until used memory is at most limit, a segment or a key at a time.
 * Returns the bytes freed, or -1 when nothing more can be evicted under the
 * policy. Takes the shard locks itself: call it with none held. */
long long ks_evict(keyspace *ks, size_t limit, int policy);

#endif
