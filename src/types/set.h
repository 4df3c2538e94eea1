/* set.h - the set kind: distinct members.
 *
 * Encodings, as a set grows (never back, as in Redis 7.0):
 *   SET_INTS    the members are all integers written canonically ("12",
 *               not "012" or "+12") and there are at most
 *               set-max-intset-entries of them: sorted 64-bit integers, each
 *               in the narrowest width that holds them all (2, 4 or 8
 *               bytes), inline in the item: [width] int int ... OBJECT
 *               ENCODING says "intset".
 *   SET_PACKED  at most SET_PACKED_ENTRIES members of at most
 *               SET_PACKED_VALUE bytes: pack.h's strings in insertion
 *               order, inline. Redis 7.0 has no such encoding: OBJECT
 *               ENCODING says "hashtable", as Redis would.
 *   SET_DICT    an fdict (fdict.h) of the members with empty values, held
 *               outside the segment, its pointer inline: "hashtable".
 * A set is persisted in its inline form (a dict as SET_PACKED) and loaded
 * back in the encoding the thresholds give it then.
 *
 * Reads take the item; writes go through a set_w opened on a kref whose
 * shard is locked, and are stored when it is closed. A set_w can also
 * build a set from nothing (the STORE commands) and then replace whatever
 * the key holds with it. */
#ifndef KASI_TYPES_SET_H
#define KASI_TYPES_SET_H

#include <stddef.h>
#include <stdint.h>

#include "store/keyspace.h"
#include "types/fdict.h"
#include "types/pack.h"

enum { SET_INTS, SET_PACKED, SET_DICT };

#define SET_PACKED_ENTRIES 128
#define SET_PACKED_VALUE 64
/* An intset never holds more than this, whatever set-max-intset-entries
 * says: every write copies it whole, and an item holds at most 512 MB. */
#define SET_INTS_CAP (1 << 22)
/* Room a member given as an integer needs when written out. */
#define SET_NUM 24

/* What the encodings share for reading: the item's members, or a
 * writer's. */
typedef struct set_view {
    unsigned enc;
    unsigned width;          /* SET_INTS */
    const char *p, *end;     /* SET_INTS: the integers; SET_PACKED: the strings */
    size_t n;                /* members */
    fdict *d;                /* SET_DICT */
} set_view;

void set_view_of(set_view *v, const item *it);
static inline size_t set_len(const item *it)
{
    set_view v;
    set_view_of(&v, it);
    return v.n;
}
static inline unsigned set_encoding(const item *it) { return item_encoding(it); }
int set_view_has(const set_view *v, const char *s, size_t n);
static inline int set_has(const item *it, const char *s, size_t n)
{
    set_view v;
    set_view_of(&v, it);
    return set_view_has(&v, s, n);
}

/* Iterating over the members, in no particular order (ascending for an
 * intset, insertion order while packed). Nothing may change the set
 * meanwhile. */
typedef struct set_iter {
    set_view v;
    const char *p;          /* the next integer or string */
    size_t pos, span;       /* SET_DICT */
    char num[SET_NUM];      /* an integer member, written out */
} set_iter;
void set_iter_view(set_iter *i, const set_view *v);
static inline void set_iter_init(set_iter *i, const item *it)
{
    set_view v;
    set_view_of(&v, it);
    set_iter_view(i, &v);
}
/* The next member (valid until the next call), or 0 at the end. */
int set_next(set_iter *i, const char **s, size_t *n);

/* Picking random members of a set that is not empty, any number of times,
 * each time uniformly (with repetition); O(1) a pick. */
typedef struct set_picker {
    set_view v;
    uint32_t off[SET_PACKED_ENTRIES];   /* SET_PACKED: where each string starts */
    char num[SET_NUM];
} set_picker;
void set_picker_init(set_picker *pk, const item *it);
void set_pick(set_picker *pk, const char **s, size_t *n);

/* SSCAN's step over a dict-encoded set (inline ones are sent whole): calls
 * fn for the members of the cursor's bucket; returns the next cursor. */
uint64_t set_scan(const item *it, uint64_t cursor,
                  void (*fn)(const char *s, size_t n, void *opaque), void *opaque);

/* ---- writing ---- */

typedef struct set_w {
    kref *r;
    int64_t expire;
    unsigned enc;
    fdict *d;            /* SET_DICT */
    pack_edit pk;        /* inline: the payload being edited (pk.n members) */
    size_t mem0;         /* the dict's bytes when opened (0: made by this writer) */
    int changed;
} set_w;

/* Open r's set for writing (r->it is NULL, to create one, or a set). */
void set_w_open(set_w *w, kref *r);
/* Add s. Returns 1 when it was added, 0 when it was there, -1 when memory
 * ran out (nothing changed). */
int set_w_add(set_w *w, const char *s, size_t n);
/* Remove s; returns 1 when it was there. */
int set_w_del(set_w *w, const char *s, size_t n);
static inline size_t set_w_len(const set_w *w) { return w->d ? fdict_count(w->d) : w->pk.n; }
void set_w_view(set_view *v, const set_w *w);
/* Store what was written; an empty set is deleted. Returns 1 when
 * anything changed. */
int set_w_close(set_w *w, int64_t now);

/* Start building a new set for r's key (r->it is not looked at): fill it
 * with set_w_add, then either store it or discard it. */
void set_w_open_new(set_w *w, kref *r);
/* Make the built set r's value, replacing whatever r holds (of any kind,
 * expiry dropped), reported as a put of the whole value; when it is empty
 * r's key is deleted instead. Returns the number of members. */
size_t set_w_store(set_w *w, int64_t now);
/* Forget what a builder built, storing nothing. */
void set_w_discard(set_w *w);

#endif
