/* qlist.h - a big list: a ring of nodes of packed elements, held outside
 * the segments (Redis's quicklist, with an index).
 *
 * A node holds consecutive elements packed with their length on both
 * sides, [varint n][n bytes][varint n, bytes reversed], so it can be
 * walked, and popped, from either end; a 16-byte element takes 18 bytes.
 * A node is bounded by the list's limits (bytes of elements and elements,
 * from list-max-listpack-size) unless it holds one element that is bigger
 * on its own, and no two neighbours could be merged within them, so nodes
 * are more than half full. A node's bytes sit in a window of its buffer,
 * with room kept at the front for pushes at the head and at the back for
 * pushes at the tail, so a push at either end is O(1) amortised.
 *
 * The nodes are a deque of pointers (a ring buffer). Each node records its
 * element count, and its slot the absolute position of its first element;
 * positions
 * only need to be increasing and consecutive, so a push or a pop at the
 * head moves the first node's start and nothing else, and the node holding
 * index i is found by binary search: an index is reached in O(log nodes +
 * node). A change in the middle renumbers the nodes on its shorter side
 * only, so LINSERT and LREM cost O(node + nodes) rather than O(elements).
 *
 * A frozen view (qlist_freeze) is the list's nodes as they are at an
 * instant: their pointers in order, each with a reference taken. From then
 * on a node is copied before its first change (its bytes or its header),
 * the copy taking its slot and the view keeping the old one, so a view is
 * read and let go by another thread without the list's lock while the list
 * goes on changing. It holds no reference to the list: the list may be
 * freed first. A node's memory is the list's while the list holds it (a
 * node the list let go of but a view holds is nobody's in qlist_mem).
 *
 * Functions that may allocate return 0, or -1 when memory ran out (the
 * list's elements are then as they were: a node it shared with a view may
 * have been copied already); the others cannot fail, and a node shared
 * with a view that one of them changes is copied as xmalloc does (running
 * out of memory aborts). Only qlist.c touches the fields. */
#ifndef KASI_TYPES_QLIST_H
#define KASI_TYPES_QLIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qnode {
    atomic_uint refs;  /* the list's and one per frozen view holding it */
    uint32_t count;    /* elements */
    uint32_t off;      /* where they start in buf */
    uint32_t used;     /* their bytes */
    uint32_t cap;      /* bytes of buf */
    char buf[];
} qnode;

/* A node and the absolute position of its first element: the positions
 * sit in the ring, so finding an index reads one array, and renumbering
 * moves through it without touching the nodes. */
typedef struct qslot {
    qnode *nd;
    int64_t start;
} qslot;

typedef struct qlist {
    qslot *ring;       /* the nodes, from slot head on, wrapping around */
    size_t rcap;       /* slots: a power of two (0 before the first node) */
    size_t head;
    size_t nodes;
    size_t len;        /* elements */
    size_t mem;        /* bytes allocated, with the allocator's overhead */
    size_t max_bytes;  /* the limits new nodes are filled to */
    size_t max_count;
} qlist;

/* A new empty list (NULL when memory ran out), its nodes filled to at most
 * max_bytes of elements and max_count elements. */
qlist *qlist_new(size_t max_bytes, size_t max_count);
/* Free q and its nodes; *q is set to NULL. */
void qlist_free(qlist **q);
/* A copy of q with its nodes packed tight, or NULL. */
qlist *qlist_dup(const qlist *q);
/* Change the limits (they apply to what is written from now on). */
void qlist_set_limits(qlist *q, size_t max_bytes, size_t max_count);

static inline size_t qlist_len(const qlist *q) { return q->len; }
static inline size_t qlist_mem(const qlist *q) { return q->mem; }
/* The bytes its nodes hold, counted up to a little past limit (so it is
 * cheap on a big list). */
size_t qlist_bytes(const qlist *q, size_t limit);

/* The bytes an element of n bytes takes in a node. */
size_t qlist_entry_size(size_t n);

/* Push s at the tail (tail = 1) or the head. */
int qlist_push(qlist *q, int tail, const char *s, size_t n);
/* Insert s before index i (0 <= i <= len). */
int qlist_insert(qlist *q, size_t i, const char *s, size_t n);
/* Replace the element at index i (< len). */
int qlist_set(qlist *q, size_t i, const char *s, size_t n);
/* Delete k elements from index i on (i + k <= len); from either end it
 * costs O(k), in the middle O(k + node + nodes). */
void qlist_delete(qlist *q, size_t i, size_t k);
/* Delete the elements equal to s, at most limit of them (0: all), the
 * first ones (from_tail = 0) or the last ones; returns how many. When one
 * is found, before anything changes, before(ctx) is called (if not NULL). */
size_t qlist_remove(qlist *q, const char *s, size_t n, int from_tail, size_t limit,
                    void (*before)(void *ctx), void *ctx);

/* The element at index i (< len). */
void qlist_get(const qlist *q, size_t i, const char **s, size_t *n);

/* Walking from index i towards the tail, or towards the head (back = 1).
 * Nothing may change the list meanwhile. */
typedef struct qiter {
    const qlist *q;
    size_t k;          /* node; nodes when done */
    size_t o;          /* offset in its data: of the next element, or its end going back */
    int back;
} qiter;
void qiter_init(qiter *it, const qlist *q, size_t i, int back);
int qiter_next(qiter *it, const char **s, size_t *n);

/* ---- frozen views ---- */

typedef struct qview {
    size_t len;        /* elements */
    size_t nodes;
    qnode *nd[];
} qview;

/* A view of q as it is now (NULL when memory ran out): O(nodes), under the
 * lock that guards q. */
qview *qlist_freeze(qlist *q);
/* Let go of v (any thread, no lock): the nodes only it held are freed. */
void qview_release(qview *v);

/* Walking a view from its first element to its last. */
typedef struct qview_iter {
    const qview *v;
    size_t k, o;       /* node, and the next element's offset in its data */
} qview_iter;
void qview_iter_init(qview_iter *it, const qview *v);
int qview_next(qview_iter *it, const char **s, size_t *n);

/* For tests: the nth allocation from now on fails (0: none do); returns
 * how many have failed so far. */
unsigned long qlist_fail_alloc(unsigned long nth);

/* Check every invariant (counts, starts, both walks of every node, the
 * limits, the memory count, references, and with fill that no two neighbours could be
 * merged: merging is skipped when memory runs out); returns 0, or -1 with
 * why. For tests. */
int qlist_check(const qlist *q, int fill, char *why, size_t len);

#endif
