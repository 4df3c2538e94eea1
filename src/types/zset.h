/* zset.h - the sorted-set kind: members with scores, in (score, member)
 * order.
 *
 * Encodings: ZSET_PACKED (pack.h: [count] then member, score, member,
 * score ..., sorted, inline in the item; a score in the compact form, one
 * byte for a small integer) while the set has at most
 * zset-max-listpack-entries members and none longer than
 * zset-max-listpack-value bytes; then, once and for good, ZSET_TREE: an
 * fdict (fdict.h) of member -> 8-byte score for lookups, and a B+ tree
 * (zbtree.h) of pointers to its entries for the order, both held outside
 * the segment behind one pointer. OBJECT ENCODING calls them listpack and
 * skiplist, as Redis does. Like Redis's listpack, the packed form turns a
 * score of -0 into 0; the tree keeps it.
 *
 * Ranges are ranks: a score or lex bound is turned into the number of
 * members before it (zset_count_below), and then walked from a rank
 * (zset_iter). Reads take the item; writes go through a zset_w opened on a
 * kref whose shard is locked, and are stored when it is closed. */
#ifndef KASI_TYPES_ZSET_H
#define KASI_TYPES_ZSET_H

#include <stddef.h>
#include <stdint.h>

#include "store/keyspace.h"
#include "types/fdict.h"
#include "types/pack.h"
#include "types/zbtree.h"

enum { ZSET_PACKED, ZSET_TREE };

typedef struct zset_big zset_big;

int zset_is_packed(const item *it);
size_t zset_len(const item *it);
/* The score of member m: 1 (with *score), or 0 when there is none. */
int zset_score(const item *it, const char *m, size_t ml, double *score);
/* The rank of member m from the lowest (0-based): 1, or 0 when absent. */
int zset_rank(const item *it, const char *m, size_t ml, size_t *rank);
/* How many members from the first satisfy below, a predicate that holds for
 * a prefix of the order (score < min, member <= max ...). */
typedef int zset_below_fn(const zbt_key *k, const void *ctx);
size_t zset_count_below(const item *it, zset_below_fn *below, const void *ctx);

/* Walking the members from a rank, upwards (dir 1) or downwards (-1). A
 * downward or indexed walk of a packed set first notes where each entry
 * starts; zset_iter_done frees that. Nothing may change the set meanwhile. */
typedef struct zset_iter {
    const char *base, *p, *end; /* packed: the entries, and where an upward walk is */
    const char **at;            /* packed, indexed: where each entry starts */
    const char *at_small[64];
    size_t pos, n;
    int dir, tree;
    zbt_iter bt;
    const zbtree *t;
} zset_iter;
void zset_iter_init(zset_iter *i, const item *it, size_t rank, int dir, int indexed);
/* Jump to a rank (cheap when indexed or a tree). */
void zset_iter_seek(zset_iter *i, size_t rank);
int zset_next(zset_iter *i, const char **m, size_t *ml, double *score);
void zset_iter_done(zset_iter *i);

/* ZSCAN's step over a tree-encoded set (packed ones are sent whole). */
uint64_t zset_scan(const item *it, uint64_t cursor,
                   void (*fn)(const char *m, size_t ml, double score, void *opaque),
                   void *opaque);

/* ---- writing ---- */

typedef struct zset_w {
    kref *r;
    int64_t expire;
    zset_big *z;         /* NULL while packed */
    pack_edit pk;        /* while packed */
    size_t mem0;         /* the tree's bytes when opened */
    int changed;
    const char *seen;    /* the entry zset_w_score last found (big sets), */
    const char *seen_m;  /* for the member at seen_m: zset_w_set needs no */
    size_t seen_ml;      /* second lookup */
} zset_w;

/* Open r's sorted set for writing (r->it is NULL, to create one, or a
 * sorted set). */
void zset_w_open(zset_w *w, kref *r);
/* Open for a new value built in order by zset_w_append (ZRANGESTORE, the
 * STORE commands): r's key has been deleted; n members, the longest maxlen
 * bytes, decide the encoding as Redis's conversion does. */
void zset_w_open_new(zset_w *w, kref *r, size_t n, size_t maxlen);
size_t zset_w_len(const zset_w *w);
/* The score of m as it now is (1) or 0. */
int zset_w_score(zset_w *w, const char *m, size_t ml, double *score);
/* Give m the score s, adding it if absent: 1 when added, 0 when it existed
 * (a score equal to the current one, -0 and 0 alike, changes nothing), -1
 * when memory ran out (nothing changed). */
int zset_w_set(zset_w *w, const char *m, size_t ml, double s);
/* Add m after every member so far (the caller keeps the order and
 * uniqueness): 0, or -1 when memory ran out. */
int zset_w_append(zset_w *w, const char *m, size_t ml, double s);
/* Delete m; returns 1 when it was there. */
int zset_w_del(zset_w *w, const char *m, size_t ml);
/* The member at a rank (< len), valid until the next change. */
void zset_w_at(zset_w *w, size_t rank, const char **m, size_t *ml, double *score);
/* Delete the n members from rank start on (start + n <= len). */
void zset_w_del_range(zset_w *w, size_t start, size_t n);
/* Store what was written; an empty set is deleted. Returns 1 when anything
 * changed. */
int zset_w_close(zset_w *w, int64_t now);

/* ZSCAN writes a packed set's integral scores as integers, as Redis's
 * listpack stores them ("100000000000000000" where ZSCORE says 1e+17):
 * the text for a score read from a packed set (buf of 40 bytes). */
int zset_packed_score_str(char *buf, size_t cap, double d);

/* How a set (another kind) is read as an input of ZUNION, ZINTER and
 * ZDIFF, each member with score 1: the set kind registers it. Until it
 * does, a set input is refused with WRONGTYPE. */
typedef struct zset_set_reader {
    size_t (*len)(const item *it);
    /* calls fn for every member, in any order */
    void (*each)(const item *it, void (*fn)(const char *m, size_t ml, void *opaque),
                 void *opaque);
    int (*has)(const item *it, const char *m, size_t ml);
} zset_set_reader;
void zset_set_reader_register(const zset_set_reader *r);
const zset_set_reader *zset_set_reader_get(void);

#endif
