/* buf.h - a growable byte buffer with a read offset: used for connection
 * input and output and for building replies. Growth aborts on OOM. */
#ifndef KASI_BUF_H
#define KASI_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t off;   /* bytes before off are consumed */
    size_t len;   /* bytes in use, including consumed ones */
    size_t cap;
} buf;

/* Make room for at least extra more bytes after len. */
void buf_reserve(buf *b, size_t extra);
/* Drop consumed bytes, moving the rest to the front. */
void buf_compact(buf *b);
/* Free the storage and zero the struct. */
void buf_free(buf *b);
/* Shrink a large, empty buffer back to nothing. */
void buf_trim(buf *b, size_t keep_cap);
/* Append p[0..n) quoted and escaped as Redis shows arguments (MONITOR,
 * SLOWLOG): "\\" "\"" \n \r \t \a \b as such, other unprintable bytes as \xhh. */
void buf_append_repr(buf *b, const char *p, size_t n);
/* Append printf-style text, however long. */
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline size_t buf_pending(const buf *b) { return b->len - b->off; }
static inline char *buf_head(const buf *b) { return b->data + b->off; }

static inline void buf_append(buf *b, const void *p, size_t n)
{
    if (n == 0) return;   /* p may be NULL then */
    if (b->cap - b->len < n) buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void buf_consume(buf *b, size_t n)
{
    b->off += n;
    if (b->off == b->len) b->off = b->len = 0;
}

#endif
