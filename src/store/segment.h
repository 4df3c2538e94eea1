/* store.h - log-structured item storage, one per shard.
 *
 * Items are appended to segments: blocks of up to SEG_MAX bytes kept in
 * two FIFO queues, "small" (new items) and "main" (items that proved
 * themselves), which is the layout S3-FIFO eviction needs. There is no
 * per-item allocator header, so a 16-byte key with a 32-byte value costs 56
 * bytes, and memory is freed a whole segment at a time, which keeps the
 * allocator's fragmentation low. Deleting an item only marks it dead; the
 * keyspace reclaims dead space by recycling the oldest segments, copying
 * the items that are still live to the tail (see keyspace.c).
 *
 * Items of 2 KB or more get a segment of their own, so segment tails
 * waste little. A shard that
 * holds little data gets small segments (from SEG_MIN, doubling), so
 * many small domains stay cheap. The store does no locking: its shard's
 * lock guards it. */
#ifndef KASI_STORE_SEGMENT_H
#define KASI_STORE_SEGMENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "store/item.h"

#define SEG_MIN 512
#define SEG_MAX (32 * 1024)
#define SEG_SOLO_MIN (2 * 1024)   /* items this big get a segment of their own */

typedef struct seg {
    struct seg *next;   /* towards the newest */
    struct seg *prev;   /* towards the oldest */
    uint8_t q;          /* the queue it is in */
    atomic_int refs;    /* 1 for the store, +1 per reply still sending from it */
    uint32_t cap;       /* bytes of data[] */
    uint32_t used;      /* bytes appended */
    char data[];
} seg;

typedef struct segq {
    seg *head;          /* oldest */
    seg *tail;          /* newest */
    seg *open;          /* the regular segment appends go to (NULL: none) */
    size_t bytes;       /* sum of caps */
    size_t nsegs;
} segq;

enum { SEG_SMALL = 0, SEG_MAIN = 1 };

typedef struct segstore {
    segq q[2];
    size_t used;        /* bytes appended to the segments, live or dead */
    size_t live;        /* bytes of live items */
} segstore;

static inline size_t seg_bytes(const segstore *s) { return s->q[0].bytes + s->q[1].bytes; }
static inline size_t seg_dead(const segstore *s) { return s->used - s->live; }

/* Room for an item of `size` bytes at the tail of queue q. *grown gets the
 * bytes of any segment that had to be allocated (0 if none). An item too
 * big to share a segment gets one of its own with room for `room` bytes
 * (>= size), and *solo is set. */
item *seg_alloc(segstore *s, int q, size_t size, size_t room, size_t *grown, int *solo);
/* Resize a solo item in place to `size` bytes if its segment has room;
 * returns 0, or -1 if it does not fit. */
int seg_resize_solo(segstore *s, item *it, size_t size);
/* Mark an item dead. A solo item's segment is freed at once; returns the
 * bytes that freed (0 otherwise). */
size_t seg_kill(segstore *s, item *it);
/* Unlink the oldest segment of queue q (NULL if empty); its items are the
 * caller's to move or drop (adjusting used and live), then it drops the
 * store's reference with seg_unref. */
seg *seg_pop(segstore *s, int q);
/* Put a popped segment holding one live solo item back at the tail of
 * queue q. */
void seg_requeue(segstore *s, int q, seg *g);
/* Free every segment. */
void seg_clear(segstore *s);

/* Keep a solo item's segment alive while a reply sends from it; returns
 * the owner to pass to seg_unref. Call under the shard's lock. */
void *seg_ref(item *it);
/* Drop a reference (from any thread); the last one frees the segment. */
void seg_unref(void *owner);

/* Walk a segment's items: start with *off = 0. Returns NULL at the end. */
item *seg_next(seg *g, uint32_t *off);

#endif
