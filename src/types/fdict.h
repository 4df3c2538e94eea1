/* fdict.h - the members of a big hash, set or sorted set: entries packed
 * one after another in a log of 16 KB chunks, found through a hash index
 * (lib/table.h) of pointers to them.
 *
 * An entry is [varint klen][varint vlen][key][value], with no alignment and
 * no pointers: a 16-byte set member takes 18 bytes, plus 10-14 bytes of
 * index. Redis spends about 80 (a dictEntry, an sds and a bucket). A value
 * rewritten with the same length is written in place; otherwise, and on
 * deletion, the old entry becomes dead bytes in its chunk. When dead bytes
 * pass a quarter of the live ones, each write also cleans the oldest chunk:
 * its live entries move to the newest chunk and it is freed. So space is
 * reclaimed a chunk at a time, never in a pause proportional to the size.
 * An entry bigger than a quarter chunk gets an allocation of its own.
 *
 * Entries move only when a chunk is cleaned; the owner can hear of it
 * (fdict.moved) to update pointers it keeps (a sorted set's order). Not
 * thread-safe: the item's shard lock guards it. */
#ifndef KASI_TYPES_FDICT_H
#define KASI_TYPES_FDICT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/table.h"
#include "lib/varint.h"

typedef struct fchunk fchunk;

typedef struct fdict {
    table t;
    fchunk *head, *tail;   /* oldest (cleaned next) ... newest (appended to) */
    size_t live, dead;     /* bytes of live and dead entries in chunks */
    size_t store;          /* bytes allocated for chunks and big entries */
    /* called when cleaning moves an entry (NULL: nobody cares) */
    void (*moved)(void *ctx, const char *from, const char *to);
    void *moved_ctx;
    atomic_int refs;       /* the owner's, and one per frozen view */
    struct solo *deferred; /* big entries deleted while frozen, freed once thawed */
} fdict;

/* A dict of one's own: fdict_new, then fdict_put to let go of it (it is
 * freed once no frozen view holds it either). NULL when no memory. */
fdict *fdict_new(void);
void fdict_put(fdict *d);
/* An embedded dict (never frozen): init and free. */
void fdict_init(fdict *d);
void fdict_free(fdict *d);

/* ---- frozen views (point-in-time snapshots) ----
 * A view is the dict's entries as they are when it is taken, under the
 * owner's lock: a lazy copy of the index (8 bytes a slot, copied 4 KB at a
 * time: a writer never waits for more than a page, however big the dict)
 * and a reference. While a view lives the dict's
 * writes leave every entry the view can see untouched (values are not
 * rewritten in place, chunks are not cleaned, big entries are not freed),
 * so the view is read and released later by another thread, without the
 * lock. */
typedef struct fdict_view {
    fdict *d;
    table_snap *snap;       /* the index as it was, copied lazily */
    const uint64_t *slots;  /* once whole (fdict_view_fill returned 0) */
    size_t nslots, count;
} fdict_view;
/* O(1) (the index is copied a page at a time, by the dict's next writes
 * or by fdict_view_fill); NULL: no memory. */
fdict_view *fdict_freeze(fdict *d);
/* Under the lock that guards d: copy up to `pages` more pages of the
 * index; 1 while some remain. Call until 0 before reading the view
 * (fdict_view_at) or releasing it. */
int fdict_view_fill(void *view, size_t pages);   /* an fdict_view (kind.h's view_fill) */
/* The entry at position i (0 .. nslots-1), or NULL. */
static inline const char *fdict_view_at(const fdict_view *v, size_t i)
{
    return table_slot_obj(v->slots[i]);
}
void fdict_view_release(fdict_view *v);
/* Whether a view holds d now (writers then leave old entries alone). */
static inline int fdict_frozen(fdict *d) { return atomic_load(&d->refs) > 1; }
static inline size_t fdict_count(const fdict *d) { return table_count(&d->t); }
/* Bytes allocated: chunks, big entries and the index. */
static inline size_t fdict_mem(const fdict *d) { return d->store + table_mem(&d->t); }

/* Hash of a key, as the index uses it. */
uint64_t fdict_hash(const char *k, size_t kl);

/* The entry with key k, or NULL. */
const char *fdict_find(fdict *d, const char *k, size_t kl);
/* Insert k with value v, or give an existing k the value v. Returns the
 * entry, setting *added to 1 when k is new; NULL (nothing changed) when
 * memory cannot be had. */
const char *fdict_set(fdict *d, const char *k, size_t kl, const char *v, size_t vl, int *added);
/* Insert k, known to be absent, with value v: fdict_set without the lookup. */
const char *fdict_add(fdict *d, const char *k, size_t kl, const char *v, size_t vl);
/* Delete k; returns 1 when it was there. */
int fdict_del(fdict *d, const char *k, size_t kl);
/* Delete the entry e (found by fdict_find or an iteration). */
void fdict_del_entry(fdict *d, const char *e);
/* A random entry, or NULL when empty. */
const char *fdict_random(fdict *d);

/* Entries, for iteration: positions 0 .. fdict_span()-1, some empty (NULL). */
static inline size_t fdict_span(const fdict *d) { return table_span(&d->t); }
static inline const char *fdict_at(fdict *d, size_t pos)
{
    return table_at(&d->t, pos, NULL, NULL);
}
/* HSCAN/SSCAN/ZSCAN's step: calls fn for the entries of the cursor's
 * bucket; returns the next cursor (0: done). */
uint64_t fdict_scan(fdict *d, uint64_t cursor, void (*fn)(const char *e, void *opaque),
                    void *opaque);

/* An entry's parts. */
static inline const char *fentry_key(const char *e, size_t *kl)
{
    uint64_t k, v;
    size_t a = varint_read(e, &k), b = varint_read(e + a, &v);
    *kl = (size_t)k;
    return e + a + b;
}
static inline const char *fentry_val(const char *e, size_t *vl)
{
    uint64_t k, v;
    size_t a = varint_read(e, &k), b = varint_read(e + a, &v);
    *vl = (size_t)v;
    return e + a + b + k;
}
/* An entry's value bytes may be rewritten in place (same length), unless
 * the dict is frozen (fdict_frozen). */
static inline char *fentry_val_mut(const char *e, size_t *vl)
{
    return (char *)fentry_val(e, vl);
}

#endif
