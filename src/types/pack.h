/* pack.h - what the compact encodings of small collections share.
 *
 * A small collection lives inline in its item as a count and its entries
 * packed one after another, with no pointers and no alignment:
 *
 *     [varint count] entry entry ...
 *
 * An entry is made of packed strings, [varint length][bytes] each (a hash
 * entry is field then value, a list or set entry one string); a sorted set
 * entry adds a packed score (pack_score_*). A 16-byte string costs 17 bytes.
 *
 * While a collection is written, its entries are edited in a scratch
 * buffer (pack_edit) that leaves room for the count in front, then stored
 * back in one piece. Bytes from a file are checked with pack_str_check
 * before anything trusts them. */
#ifndef KASI_TYPES_PACK_H
#define KASI_TYPES_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/varint.h"

static inline size_t pack_str_size(size_t n) { return varint_len(n) + n; }

static inline size_t pack_str_put(char *p, const char *s, size_t n)
{
    size_t a = varint_put(p, n);
    if (n) memcpy(p + a, s, n);
    return a + n;
}

/* The string at p (well formed): its bytes and length; *size gets the
 * bytes it takes. */
static inline const char *pack_str_get(const char *p, size_t *n, size_t *size)
{
    uint64_t v;
    size_t a = varint_read(p, &v);
    *n = (size_t)v;
    *size = a + (size_t)v;
    return p + a;
}

/* The size of the string at p if it is well formed and ends by end, else 0. */
static inline size_t pack_str_check(const char *p, const char *end)
{
    uint64_t v;
    size_t a = varint_get(p, end, &v);
    if (!a || v > (uint64_t)(end - p - (ptrdiff_t)a)) return 0;
    return a + (size_t)v;
}

/* The count at the front of a packed payload, and where the entries start.
 * Returns 0 and sets *count when well formed (bounded by end). */
static inline int pack_header(const char *p, const char *end, uint64_t *count,
                              const char **entries)
{
    size_t a = varint_get(p, end, count);
    if (!a) return -1;
    *entries = p + a;
    return 0;
}

/* ---- editing ---- */

#define PACK_HEAD VARINT_MAX   /* room kept in front of the entries for the count */

/* A packed collection being edited: b holds PACK_HEAD spare bytes, then
 * the entries; n is their count. */
typedef struct pack_edit {
    buf *b;
    size_t n;
} pack_edit;

/* Start editing a copy of the payload p (count first, n bytes; NULL for
 * an empty collection). The scratch buffer comes from a small per-thread
 * pool. */
void pack_edit_open(pack_edit *e, const char *p, size_t n);
/* The payload to store (count first) and its size, valid until close. */
const char *pack_edit_payload(pack_edit *e, size_t *n);
/* Give the scratch buffer back. */
void pack_edit_close(pack_edit *e);

static inline char *pack_edit_begin(const pack_edit *e) { return e->b->data + PACK_HEAD; }
static inline char *pack_edit_end(const pack_edit *e) { return e->b->data + e->b->len; }
static inline size_t pack_edit_bytes(const pack_edit *e) { return e->b->len - PACK_HEAD; }

/* Replace the `old` bytes at offset off (from the entries' start) with the
 * `n` bytes the caller then writes at the returned pointer. */
char *pack_edit_splice(pack_edit *e, size_t off, size_t old, size_t n);

/* ---- sorted-set scores ----
 * A score is a varint: an integer score i with |i| < 2^52 is zigzag(i) + 1
 * (one byte for -63..63), anything else (-0 too) is the varint 0 followed
 * by the 8 bytes of the double. */
static inline int pack_score_int(double d, uint64_t *v)
{
    if (!(d > -4503599627370496.0 && d < 4503599627370496.0) || d != (double)(int64_t)d ||
        (d == 0 && 1 / d < 0))
        return 0;
    int64_t i = (int64_t)d;
    *v = (((uint64_t)i << 1) ^ (uint64_t)(i >> 63)) + 1;
    return 1;
}

static inline size_t pack_score_size(double d)
{
    uint64_t v;
    return pack_score_int(d, &v) ? varint_len(v) : 9;
}

static inline size_t pack_score_put(char *p, double d)
{
    uint64_t v;
    if (pack_score_int(d, &v)) return varint_put(p, v);
    p[0] = 0;
    memcpy(p + 1, &d, 8);
    return 9;
}

static inline size_t pack_score_get(const char *p, double *d)
{
    uint64_t v;
    size_t a = varint_read(p, &v);
    if (v == 0) {
        memcpy(d, p + 1, 8);
        return 9;
    }
    v--;
    *d = (double)(int64_t)((v >> 1) ^ (uint64_t)-(int64_t)(v & 1));
    return a;
}

/* Checked form: the size, or 0 when not well formed by end. */
static inline size_t pack_score_check(const char *p, const char *end)
{
    uint64_t v;
    size_t a = varint_get(p, end, &v);
    if (!a) return 0;
    if (v == 0) return a == 1 && end - p >= 9 ? 9 : 0;
    return v - 1 < (1ULL << 53) ? a : 0;
}

#endif
