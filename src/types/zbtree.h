/* zbtree.h - the order of a big sorted set: an order-statistic B+ tree of
 * pointers to the set's fdict entries ([klen][vlen][member][8-byte score],
 * fdict.h), ordered by (score, member) read through the pointer.
 *
 * Leaves hold up to ZBT_LEAF_CAP entry pointers and nothing else; an inner
 * node holds, for each child, its pointer, the first entry of its subtree
 * (the key searches compare with) and the number of entries under it, so
 * a rank, the entry at a rank and the number of entries before a bound
 * each cost one descent. A full leaf first hands an entry to a neighbour
 * with room, and one filled at its end splits off just the new entry, so
 * leaves stay 80-100% full and the order costs about 9-10 bytes a member.
 *
 * Entry pointers are the tree's only references to the entries: when the
 * fdict moves one (chunk cleaning), zbt_moved follows it. Nothing here
 * allocates except zbt_reserve, so an insertion that has its reserve
 * cannot fail halfway. Not thread-safe: the item's shard lock guards it. */
#ifndef KASI_TYPES_ZBTREE_H
#define KASI_TYPES_ZBTREE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "types/fdict.h"

#define ZBT_MAX_HEIGHT 24

typedef struct zbt_node zbt_node;

typedef struct zbtree {
    zbt_node *root;      /* NULL when empty */
    size_t count;
    size_t nodes;        /* allocated, spares included */
    int height;          /* levels of inner nodes above the leaves */
    int nspare;
    zbt_node *spare[ZBT_MAX_HEIGHT + 2];
} zbtree;

/* What the tree orders by: a score, then the member's bytes. */
typedef struct zbt_key {
    double score;
    const char *m;
    size_t ml;
} zbt_key;

/* An entry's score and member. */
static inline void zbt_entry_key(const char *e, zbt_key *k)
{
    size_t vl;
    const char *v;
    k->m = fentry_key(e, &k->ml);
    v = fentry_val(e, &vl);
    memcpy(&k->score, v, sizeof k->score);
}

/* <0, 0, >0 as (a) orders before, with, after (b). */
static inline int zbt_keycmp(const zbt_key *a, const zbt_key *b)
{
    if (a->score < b->score) return -1;
    if (a->score > b->score) return 1;
    size_t n = a->ml < b->ml ? a->ml : b->ml;
    int c = n ? memcmp(a->m, b->m, n) : 0;
    if (c) return c;
    return a->ml < b->ml ? -1 : a->ml > b->ml;
}

void zbt_init(zbtree *t);
void zbt_free(zbtree *t);
/* Bytes held by the nodes. */
size_t zbt_mem(const zbtree *t);

/* Make sure the next zbt_insert can allocate every node it needs: 0, or -1
 * when memory ran out (nothing changed). */
int zbt_reserve(zbtree *t);
/* Insert the entry e (its key not in the tree yet); zbt_reserve first. */
void zbt_insert(zbtree *t, const char *e);
/* Remove the entry e (in the tree, with the key it was inserted with). */
void zbt_delete(zbtree *t, const char *e);
/* The entry e, with the same key, now lives at to. */
void zbt_moved(zbtree *t, const char *e, const char *to);

/* How many entries from the first on satisfy below (which must hold for a
 * prefix of the order and not after it). */
typedef int zbt_below_fn(const char *e, const void *ctx);
size_t zbt_count_below(const zbtree *t, zbt_below_fn *below, const void *ctx);
/* The rank (0-based) the key k has or would have. */
size_t zbt_rank(const zbtree *t, const zbt_key *k);
/* The entry at rank r (< count). */
const char *zbt_at(const zbtree *t, size_t r);

/* Walking from a rank, forwards or backwards; the tree must not change
 * meanwhile. */
typedef struct zbt_iter {
    zbt_node *path[ZBT_MAX_HEIGHT + 1];
    int idx[ZBT_MAX_HEIGHT + 1];
    int depth;           /* the leaf's level in path; -1 when done */
} zbt_iter;
void zbt_seek(zbt_iter *it, const zbtree *t, size_t r);
/* The current entry, then a step (dir 1 forwards, -1 backwards); NULL past
 * either end. */
const char *zbt_step(zbt_iter *it, int dir);

/* Check every invariant (order, counts, keys, fill bounds, equal depth):
 * 0, or -1 with the first broken one in *why. For tests. */
int zbt_check(const zbtree *t, const char **why);
/* Average leaf fill in percent (for tests and MEMORY reports). */
int zbt_leaf_fill(const zbtree *t);

#endif
