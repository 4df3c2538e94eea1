/* hooks.h - what the keyspace tells the layers above it, without knowing them.
 *
 * Effects: every write's effect, in a deterministic form (whole values or
 * byte splices, absolute expiry times), reported while the key's shard is
 * locked, so the order of the reports is the order in which each key
 * changed. Persistence installs a table of them to log writes to the AOF;
 * replication will install the same table. A deletion carries its reason:
 * an expiry needs no record (the absolute time already is one), the others
 * do.
 *
 * Copy-on-write: while a point-in-time reader (a snapshot) runs, an item it
 * has not read yet is handed to it just before it changes or goes away,
 * so the reader sees each item as it was at its instant (see pit.h). */
#ifndef KASI_STORE_SEGMENT_HOOKS_H
#define KASI_STORE_SEGMENT_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/slice.h"
#include "store/item.h"

typedef struct domain domain;

enum ks_del_reason {
    KS_DEL_USER,      /* DEL, RENAME's source, MOVE, an expiry in the past ... */
    KS_DEL_EXPIRED,   /* found expired, or by the expiry sweep */
    KS_DEL_EVICTED,   /* maxmemory */
};

typedef struct ks_effects {
    void *ctx;
    /* A key now holds it (value and expiry as they are now). */
    void (*put)(void *ctx, const domain *d, const item *it);
    /* Bytes of a key's value were replaced: it is now total bytes long, with
     * n bytes from p at off (bytes beyond the old end are zero). */
    void (*splice)(void *ctx, const domain *d, const char *key, size_t klen, uint64_t total,
                   uint64_t off, const char *p, size_t n);
    /* A key's expiry changed (when < 0: it has none now). */
    void (*expire)(void *ctx, const domain *d, const char *key, size_t klen, int64_t when);
    void (*del)(void *ctx, const domain *d, const char *key, size_t klen, int reason);
    /* Every key of d was deleted. */
    void (*flush)(void *ctx, const domain *d);
    /* A write to a collection, as a command that replays it exactly (the
     * members SPOP chose, the score ZINCRBY gave), run in domain d. */
    void (*command)(void *ctx, const domain *d, int argc, const slice *argv);
} ks_effects;

/* Key events, for keyspace notifications: a key went by itself (what is
 * KS_DEL_EXPIRED or KS_DEL_EVICTED) or, while asked for (ks_want_events),
 * a key that was not there was added (KS_KEY_NEW) or a read (ks_read)
 * missed (KS_KEY_MISS); in domain d, on this thread, with its shard locked.
 * The hook must not touch the keyspace. */
enum { KS_KEY_NEW = 16, KS_KEY_MISS = 17 };
typedef void ks_key_event_fn(void *ctx, const domain *d, const char *key, size_t klen, int what);

/* The copy-on-write hook: it is about to change or be dropped, in domain
 * d; *slot is state the reader keeps per shard (guarded by the shard lock,
 * NULL at first). */
typedef void ks_cow_fn(void *ctx, void **slot, const domain *d, item *it);

#endif
