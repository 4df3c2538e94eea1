/* varint.h - unsigned LEB128 integers: 7 bits a byte, low bits first, the
 * top bit set on every byte but the last. A length below 128 costs one
 * byte. Decoding is bounded by the end of the buffer, so bytes from a file
 * or a client can be read with it. */
#ifndef KASI_VARINT_H
#define KASI_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10   /* bytes of the longest (a 64-bit value) */

static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Write v at p (room for varint_len(v) bytes); returns the bytes written. */
static inline size_t varint_put(char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (char)v;
    return n;
}

/* Read a varint from p, stopping at end; returns the bytes read, or 0 when
 * it runs past end or past 64 bits. */
static inline size_t varint_get(const char *p, const char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < VARINT_MAX && p + i < end; i++) {
        unsigned char c = (unsigned char)p[i];
        if (i == 9 && c > 1) return 0;
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* The same for bytes already known to be well formed (written by us). */
static inline size_t varint_read(const char *p, uint64_t *v)
{
    unsigned char c = (unsigned char)p[0];
    if (c < 0x80) {
        *v = c;
        return 1;
    }
    uint64_t x = c & 0x7f;
    size_t i = 1;
    do {
        c = (unsigned char)p[i];
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        i++;
    } while (c & 0x80);
    *v = x;
    return i;
}

#endif
