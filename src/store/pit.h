/* pit.h - point-in-time reads of the keyspace, for fork-less snapshots.
 *
 * At the instant (taken while no command runs anywhere) the keyspace's
 * mark flips: every item then carries the old mark, and items made
 * afterwards the new one. The reader walks each shard a few buckets at a
 * time and is handed every item still carrying the old mark, which flips
 * it; a writer about to change or drop an item that still carries the old
 * mark hands it to the reader first (the copy-on-write hook, ks_cow_fn).
 * So the reader sees every item exactly once, as it was at the instant, and
 * no lock is held for more than a few hundred items. What the hook is
 * handed between two reads waits in a per-shard slot of the reader's. */
#ifndef KASI_STORE_PIT_H
#define KASI_STORE_PIT_H

#include <stddef.h>
#include <stdint.h>

#include "store/hooks.h"
#include "store/keyspace.h"

typedef struct ks_pit ks_pit;

/* Take the instant (no command may run anywhere): cow(ctx, ...) is called
 * for every item of the instant, once, from here until ks_pit_end. Holds
 * the domains that exist now. One point-in-time read runs at a time. */
ks_pit *ks_pit_begin(keyspace *ks, ks_cow_fn *cow, void *ctx);
/* Whether a point-in-time read (a background save or rewrite) runs. */
int ks_pit_running(keyspace *ks);
/* The instant, in Unix ms. */
int64_t ks_pit_instant(const ks_pit *p);
/* Shards to read, over all the domains of the instant. */
size_t ks_pit_shards(const ks_pit *p);
/* What the walk hands over: an unread item of domain d (now marked read). */
typedef void ks_pit_visit_fn(void *ctx, const domain *d, item *it);
/* Read shard i from cursor (start at 0): with the shard locked, hand the
 * unread items of up to max_buckets buckets to visit, stopping early when
 * full(ctx) says so, then call take(ctx, slot) on the shard's slot.
 * Returns the next cursor, 0 when the shard is done. */
uint64_t ks_pit_read(ks_pit *p, size_t i, uint64_t cursor, int max_buckets, ks_pit_visit_fn *visit,
                     int (*full)(void *ctx), void (*take)(void *ctx, void **slot));
/* Call take(ctx, slot) on every shard's slot, each under its lock. */
void ks_pit_collect(ks_pit *p, void (*take)(void *ctx, void **slot));
/* After the last read: no more items are handed over; take gets each slot
 * a last time (and must leave it NULL). Frees *p and sets it to NULL. */
void ks_pit_end(ks_pit **p, void (*take)(void *ctx, void **slot));

#endif
