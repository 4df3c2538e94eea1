/* stream_bytes.h - the varints of a stream's persisted form, written and
 * read back (bounded, a failure sticky in the reader), shared by the
 * stream (stream.c) and its groups (stream_group.c). */
#ifndef KASI_TYPES_STREAM_BYTES_H
#define KASI_TYPES_STREAM_BYTES_H

#include "lib/buf.h"
#include "lib/varint.h"
#include "types/stream.h"

static inline uint64_t sb_zig(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t sb_unzig(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static inline void sb_put_u(buf *out, uint64_t v)
{
    char b[VARINT_MAX];
    buf_append(out, b, varint_put(b, v));
}

static inline void sb_put_id(buf *out, stream_id id)
{
    sb_put_u(out, id.ms);
    sb_put_u(out, id.seq);
}

typedef struct sb_reader {
    const char *p, *end;
    int bad;
} sb_reader;

static inline uint64_t sb_get_u(sb_reader *r)
{
    uint64_t v = 0;
    size_t k = r->bad ? 0 : varint_get(r->p, r->end, &v);
    if (!k) r->bad = 1;
    r->p += k;
    return v;
}

static inline stream_id sb_get_id(sb_reader *r)
{
    stream_id id;
    id.ms = sb_get_u(r);
    id.seq = sb_get_u(r);
    return id;
}

#endif
