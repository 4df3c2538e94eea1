/* table.h - an open-addressing hash table of object pointers.
 *
 * Each slot is one 64-bit word: 47 bits of pointer, an 8-bit hash tag (so a
 * probe rarely dereferences a non-matching object), the 6-bit distance from
 * the slot's home bucket (so deletion can shift entries back without
 * rehashing them) and 3 bits the user may keep per entry. That is 8 bytes
 * per slot and, at the 0.75 maximum load factor, 10-14 bytes per entry.
 *
 * The table never pauses for a whole rehash: growing allocates the new
 * array and moves whole probe clusters from the old one a few at a time, on
 * each insertion and from table_step(). Lookups check both arrays while that
 * runs. The table knows nothing of keys: the caller supplies the hash and a
 * match callback. It is not thread-safe; its owner locks it. */
#ifndef KASI_TABLE_H
#define KASI_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct table_ops {
    /* Hash of the key of an object stored in the table. */
    uint64_t (*hash)(const void *obj, const void *ctx);
    /* Nonzero when obj's key equals key[0..klen). */
    int (*match)(const void *obj, const void *key, size_t klen);
} table_ops;

typedef struct table_snap table_snap;

typedef struct table_arr {
    uint64_t *slot;   /* NULL when not allocated */
    size_t mask;      /* slots - 1 */
    size_t used;
    table_snap *snap; /* a lazy copy still needs some of these slots */
    int snap_part;    /* which of its two parts they are */
} table_arr;

typedef struct table {
    table_arr cur;     /* receives insertions */
    table_arr old;     /* being drained into cur while resizing */
    size_t mig_pos;    /* next slot of old to drain */
    size_t mig_left;   /* slots of old not yet visited */
    const table_ops *ops;
    const void *ctx;   /* passed to ops->hash */
    table_snap *snap;  /* the lazy copy under way, if any */
    uint64_t *spare;   /* a big table's next array, faulted in ahead */
    size_t spare_slots, spare_touched;   /* its slots, its pages written */
} table;

/* Where an entry was found; valid until the next insertion or step. */
typedef struct table_pos {
    table_arr *arr;
    size_t idx;
} table_pos;

#define TABLE_UBITS_MAX 7u

void table_init(table *t, const table_ops *ops, const void *ctx);
/* Free the slot arrays (not the objects) and reset to empty. */
void table_destroy(table *t);

static inline size_t table_count(const table *t) { return t->cur.used + t->old.used; }
size_t table_mem(const table *t);   /* bytes of slot arrays */

/* Find the object with this key; fills pos when pos is not NULL. */
void *table_find(table *t, uint64_t h, const void *key, size_t klen, table_pos *pos);
/* Insert an object whose key is not in the table. */
void table_insert(table *t, uint64_t h, void *obj, unsigned ubits);
/* Overwrite the entry at pos (same key) with a new object and user bits. */
void table_replace(table *t, const table_pos *pos, void *obj, unsigned ubits);
/* The user bits of the entry at pos, and changing them. */
unsigned table_ubits(const table_pos *pos);
void table_set_ubits(const table_pos *pos, unsigned ubits);
/* Remove the entry at pos. */
void table_delete(table *t, const table_pos *pos);

/* A cache hint ahead of table_find(h), changing nothing: with deep = 0,
 * fetch the cache line of h's home slot; with deep = 1 (once that line
 * has had time to arrive), read the first slots of the probe and fetch the
 * object whose tag matches. Only the current array is looked at. */
void table_prefetch(const table *t, uint64_t h, int deep);

/* Do up to n slots of pending resize work. Returns 1 while work remains. */
int table_step(table *t, size_t n);
/* After deletions: start shrinking when the table is mostly empty, or do
 * a little of a resize under way. */
void table_maybe_shrink(table *t);

/* Positional access for sweeps: virtual positions 0..table_span()-1 cover
 * both arrays. Returns the object at vpos (NULL if empty) and fills pos and
 * the user bits. After table_delete at that position, the same position may
 * hold a shifted entry: look at it again before moving on. */
size_t table_span(const table *t);
void *table_at(table *t, size_t vpos, table_pos *pos, unsigned *ubits);

/* Visit the entries whose home bucket is the cursor's, in both arrays, and
 * return the next cursor (0 when the iteration is complete). Entries present
 * for the whole iteration are visited at least once, even across resizes. */
typedef void table_scan_fn(void *obj, void *opaque);
uint64_t table_scan(table *t, uint64_t cursor, table_scan_fn *fn, void *opaque);

/* A random object, or NULL when empty. */
void *table_random(table *t);

/* A copy of every slot of both arrays (table_slots() of them, memcpy fast),
 * for reading the objects of this instant later, while the table goes on
 * changing; table_slot_obj() gives a copied slot's object (NULL: empty). */
size_t table_slots(const table *t);
void table_copy_slots(const table *t, uint64_t *dst);
static inline void *table_slot_obj(uint64_t s) { return (void *)(uintptr_t)(s & ((1ULL << 47) - 1)); }

/* The same copy, taken lazily, for a big table that must not stall its
 * writers: table_snap_begin costs O(1) (and an allocation not yet touched),
 * and the slots are copied a page (4 KB) at a time by whichever comes
 * first, the table's next write to that page or table_snap_fill. Both run
 * under the lock that guards the table; once table_snap_fill has returned
 * 0 the copy is whole, detached from the table, and readable without it.
 * One lazy copy per table at a time: beginning another one completes the
 * first. NULL: no memory. */
table_snap *table_snap_begin(table *t);
/* Copy up to `pages` pages still missing; 1 while some remain. */
int table_snap_fill(table_snap *s, size_t pages);
/* The copied slots (table_copy_slots' layout) of a whole copy. */
const uint64_t *table_snap_slots(const table_snap *s, size_t *n);
/* Free a whole copy (the table may be gone by then). */
void table_snap_free(table_snap *s);

#endif
