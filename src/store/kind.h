/* kind.h - what the store and the layers above need of a value kind.
 *
 * Each kind (types/: strings now; hashes, lists, sets, sorted sets and
 * streams next) registers one table of operations, so that eviction,
 * expiry, snapshots, the AOF, MEMORY USAGE, COPY, RENAME, MOVE, TYPE and
 * SCAN TYPE never switch on the kind.
 *
 * How a value is held: a string is the item's value bytes. A value of
 * another kind is its kind byte (item.h) followed by the kind's bytes: a
 * compact encoding that lives inline in the segment while the value is
 * small, or, once it is too big to be moved around by compaction, an
 * 8-byte pointer to a structure outside the segment, which the item owns
 * (release frees it, outside counts it, copy duplicates it).
 *
 * Snapshots copy on write per item (store/pit.h): a writer about to change
 * an item the running snapshot has not read hands it over first. For an
 * inline value the snapshot copies its bytes, as for a string. For a value
 * held outside the segment it takes a frozen view (view): the structure's
 * index is copied (lazily, a page at a time, for the dicts: view_fill), its
 * entries are left alone while the view lives, and the snapshot serializes
 * the view later, without the lock; so a writer waits for a page of an
 * index at most, never for the whole value to be written. */
#ifndef KASI_STORE_KIND_H
#define KASI_STORE_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/item.h"
#include "store/keyspace.h"

typedef struct kind_ops {
    const char *name;                          /* TYPE and SCAN TYPE */
    const char *(*encoding)(const item *it);   /* OBJECT ENCODING */
    /* Bytes held outside the item's segment (0 when none). */
    size_t (*outside)(const item *it);
    /* Free what the value holds outside its segment (the item goes away);
     * NULL when the kind never holds anything there. */
    void (*release)(item *it);
    /* Fill dst's value from src's, dst laid out with src's value length
     * and kind byte: the inline bytes are copied already, so only what is
     * held outside needs duplicating (NULL: nothing to do). -1: out of
     * memory, nothing was kept. */
    int (*copy)(item *dst, const item *src);
    /* The value in its persisted form (snapshot records, AOF puts), kind
     * byte first (it may name another encoding than the item's: a big
     * structure is written in its compact form), appended to out. NULL: as
     * stored (an inline encoding). Strings are always written as stored. */
    void (*serialize)(const item *it, buf *out);
    /* A new item for r's key (made with ks_new, not stored yet) from the
     * persisted bytes p (kind byte first), or NULL when they are not a
     * value of this kind; it charges what it holds outside its segment
     * (ks_charge). NULL: the bytes are kept as they are. */
    item *(*restore)(kref *r, const char *p, size_t n, int64_t expire);
    /* A frozen view of a value held outside its segment, as it is now
     * (NULL: the value is inline, or there was no memory for a view:
     * serialize it now, under the lock): later writes leave what
     * it shows untouched. Taken under the item's shard lock in O(1) (a
     * list: O(nodes)), completed by view_fill, then serialized (as
     * serialize does) and released by another thread without the lock.
     * NULL: no views. */
    void *(*view)(const item *it);
    /* Bounded work that completes a view taken lazily (up to `pages` 4 KB
     * pages of its index copied), under the item's shard lock; 1 while
     * some remains. Called until 0 before view_serialize. NULL: views are
     * whole when taken. */
    int (*view_fill)(void *view, size_t pages);
    void (*view_serialize)(void *view, buf *out);
    void (*view_release)(void *view);
} kind_ops;

/* Register a kind's table (at start-up, once per kind). */
void kind_register(unsigned kind, const kind_ops *ops);
/* The kind's table, or NULL if none is registered. */
const kind_ops *kind_ops_of(unsigned kind);
/* The kind called name (TYPE's word, any case), or -1. */
int kind_by_name(const char *name, size_t len);
/* TYPE's word for a kind ("none" for an unregistered one). */
const char *kind_name(unsigned kind);

#endif
