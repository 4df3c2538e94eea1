/* hash.h - the hash kind: field/value pairs.
 *
 * Encodings: HASH_PACKED (pack.h: [count] then field, value, field, value
 * ..., in insertion order, inline in the item) while the hash has at most
 * hash-max-listpack-entries fields and no field or value longer than
 * hash-max-listpack-value bytes; then, once and for good, HASH_DICT: an
 * fdict (fdict.h) held outside the segment, its pointer inline. OBJECT
 * ENCODING calls them listpack and hashtable, as Redis does.
 *
 * Reads take the item; writes go through a hash_w opened on a kref whose
 * shard is locked, and are stored when it is closed. */
#ifndef KASI_TYPES_HASH_H
#define KASI_TYPES_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "store/keyspace.h"
#include "types/fdict.h"
#include "types/pack.h"

enum { HASH_PACKED, HASH_DICT };

size_t hash_len(const item *it);
/* The value of field f: 1 (with *v, *vl), or 0 when there is none. */
int hash_get(const item *it, const char *f, size_t fl, const char **v, size_t *vl);

/* Iterating over the pairs, in no particular order (insertion order while
 * packed). Nothing may change the hash meanwhile. */
typedef struct hash_iter {
    const char *p, *end;    /* packed */
    fdict *d;               /* dict */
    size_t pos, span;
} hash_iter;
void hash_iter_init(hash_iter *i, const item *it);
int hash_next(hash_iter *i, const char **f, size_t *fl, const char **v, size_t *vl);

/* A random pair (the hash is not empty). */
void hash_random(const item *it, const char **f, size_t *fl, const char **v, size_t *vl);
/* The pair at position i (0 .. hash_len-1) of a packed hash, or of the
 * dict's iteration order: used to pick distinct random pairs. */
int hash_is_packed(const item *it);

/* HSCAN's step over a dict-encoded hash (packed ones are sent whole). */
uint64_t hash_scan(const item *it, uint64_t cursor, void (*fn)(const char *e, void *opaque),
                   void *opaque);

/* ---- writing ---- */

typedef struct hash_w {
    kref *r;
    int64_t expire;
    fdict *d;            /* NULL while packed */
    pack_edit pk;        /* while packed */
    size_t mem0;         /* the dict's bytes when opened */
    int changed, oom;
} hash_w;

/* Open r's hash for writing (r->it is NULL, to create one, or a hash). */
void hash_w_open(hash_w *w, kref *r);
/* The value of f as it now is (1) or 0. */
int hash_w_get(hash_w *w, const char *f, size_t fl, const char **v, size_t *vl);
/* Set f to v (unless nx and f exists). Returns 1 when f was added, 0 when
 * it existed, -1 when memory ran out (nothing changed). */
int hash_w_set(hash_w *w, const char *f, size_t fl, const char *v, size_t vl, int nx);
/* Delete f; returns 1 when it was there. */
int hash_w_del(hash_w *w, const char *f, size_t fl);
size_t hash_w_len(const hash_w *w);
/* Store what was written; an empty hash is deleted. Returns 1 when
 * anything changed. */
int hash_w_close(hash_w *w, int64_t now);

#endif
