/* stream_kind.h - streams as values of the keyspace: the kind's table, and
 * how commands read and write the stream an item holds (the structure is
 * stream.h). A stream is always held outside its item's segment, and,
 * unlike the collections, an empty stream stays (as in Redis: XDEL or
 * XTRIM of every entry keeps the key). */
#ifndef KASI_TYPES_STREAM_KIND_H
#define KASI_TYPES_STREAM_KIND_H

#include "store/keyspace.h"
#include "store/kind.h"
#include "types/stream.h"

enum { STREAM_NODES };

extern const kind_ops stream_kind_ops;

/* The stream an item of this kind holds. */
stream *stream_of(const item *it);

/* A write to r's stream: open it (r's shard locked; r->it a stream, or
 * NULL to make one), call stream_w_touch before the first change, and
 * stream_w_close at the end, which stores a new stream in the key and
 * charges what the stream holds now. */
typedef struct stream_w {
    kref *r;
    stream *s;
    size_t mem0;        /* the stream's bytes when opened (0: made by this write) */
    int changed;
} stream_w;
/* NULL when memory ran out for a new stream. */
stream *stream_w_open(stream_w *w, kref *r);
void stream_w_touch(stream_w *w);
/* The same for a change WATCH does not hear of (XSETID, as in Redis). */
void stream_w_touch_unwatched(stream_w *w);
/* Returns whether anything changed (a new stream that got nothing is dropped). */
int stream_w_close(stream_w *w);

#endif
