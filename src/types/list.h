/* list.h - the list kind: a sequence of strings.
 *
 * Encodings: LIST_PACKED (pack.h: [count] then the elements, inline in the
 * item) while the list is small: its packed bytes within list-max-listpack-
 * size's node bound, but never more than LIST_INLINE_MAX, and for a
 * positive list-max-listpack-size at most that many elements; beyond,
 * LIST_NODES: a qlist (qlist.h) held outside the segment, its pointer
 * inline, until it shrinks to half the small bound again. OBJECT ENCODING
 * calls both quicklist, as Redis 7.0 does.
 *
 * Reads take the item; writes go through a list_w opened on a kref whose
 * shard is locked, and are stored when it is closed. A snapshot takes a
 * big list as a frozen view (qlist_freeze: its node pointers), and writes
 * copy the nodes they change while it lives. A big list is freed by the
 * background thread. */
#ifndef KASI_TYPES_LIST_H
#define KASI_TYPES_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "store/keyspace.h"
#include "types/pack.h"
#include "types/qlist.h"

enum { LIST_PACKED, LIST_NODES };

#define LIST_INLINE_MAX 2048   /* packed bytes a small list holds at most */

size_t list_len(const item *it);
/* The element at index i (< list_len). */
void list_get(const item *it, size_t i, const char **s, size_t *n);

/* Walking from index i towards the tail, or towards the head (back = 1).
 * Nothing may change the list meanwhile; going back through a small list
 * uses a per-thread table, so one such walk at a time per thread. */
typedef struct list_iter {
    const char *p;           /* small, forward: the next element */
    const char *base;        /* small, back: the elements ... */
    const uint16_t *offs;    /* ... and their offsets */
    size_t left;             /* small: elements still to come */
    qiter q;                 /* big */
    int big, back;
} list_iter;
void list_iter_init(list_iter *li, const item *it, size_t i, int back);
int list_next(list_iter *li, const char **s, size_t *n);

/* ---- writing ---- */

typedef struct list_w {
    kref *r;
    int64_t expire;
    qlist *q;            /* NULL while small */
    pack_edit pk;        /* while small */
    size_t mem0;         /* the qlist's bytes when opened (0: made by this write) */
    int changed;
} list_w;

/* Open r's list for writing (r->it is NULL, to create one, or a list). */
void list_w_open(list_w *w, kref *r);
size_t list_w_len(const list_w *w);
/* Push s at the tail (tail = 1) or the head. Returns 0, or -1 when memory
 * ran out (nothing changed). */
int list_w_push(list_w *w, int tail, const char *s, size_t n);
/* Drop k (<= len) elements from the tail or the head. */
void list_w_pop(list_w *w, int tail, size_t k);
/* Replace the element at index i (< len); insert s before index i (<=
 * len). 0, or -1 when memory ran out (nothing changed). */
int list_w_set(list_w *w, size_t i, const char *s, size_t n);
int list_w_insert(list_w *w, size_t i, const char *s, size_t n);
/* Delete the elements equal to s, at most limit (0: all), the first ones
 * or (from_tail) the last ones; returns how many. */
size_t list_w_remove(list_w *w, const char *s, size_t n, int from_tail, size_t limit);
/* Tell WATCH and the snapshot of a write that changes nothing (Redis's
 * LTRIM signals its key whatever it trims). */
void list_w_touch(list_w *w);
/* Store what was written; an empty list is deleted. Returns 1 when
 * anything changed. Every list write ends here: the place where a key
 * that now holds elements will wake the clients blocked on it. */
int list_w_close(list_w *w, int64_t now);

#endif
