/* coll.h - what the collection kinds' writers share when they close: how
 * an edited compact value or a changed big structure is stored back, an
 * emptied collection deleted, and the memory it holds outside its segment
 * charged. */
#ifndef KASI_TYPES_COLL_H
#define KASI_TYPES_COLL_H

#include <stddef.h>
#include <stdint.h>

#include "store/keyspace.h"

/* A compact (inline) value edited by a writer: when changed, store the
 * payload p (n bytes, its count first) as r's value of this kind and
 * encoding, or delete r's key when count is 0. Returns changed. */
int coll_close_packed(kref *r, unsigned kind, unsigned enc, int changed, size_t count,
                      const char *p, size_t n, int64_t expire, int64_t now);

/* A big structure written through: ptr, now holding count elements in mem
 * bytes. mem0 is what r's item held when the writer opened it, 0 when the
 * structure was made by this write (the item then gets its pointer, or it
 * is destroyed when nothing came of it). The charge follows the change; an
 * emptied collection is deleted. Returns changed. */
int coll_close_big(kref *r, unsigned kind, unsigned enc, void *ptr, size_t count, size_t mem,
                   size_t mem0, int changed, int64_t expire, int64_t now,
                   void (*destroy)(void *ptr));

#endif
