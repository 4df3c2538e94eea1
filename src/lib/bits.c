/* bits.c - bitmaps over byte arrays (see bits.h). The word loops read 8 bytes
 * at a time through memcpy, so they need no alignment; the bit fields are
 * read and written a bit at a time, as Redis does, since a field is at most
 * 64 bits. */
#include "lib/bits.h"

#include <string.h>

uint64_t bits_count(const unsigned char *p, size_t n)
{
    uint64_t count = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        count += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++) count += (uint64_t)__builtin_popcount(p[i]);
    return count;
}

long long bits_pos(const unsigned char *p, size_t n, int bit)
{
    unsigned char skip = bit ? 0x00 : 0xff;
    uint64_t skipw = bit ? 0 : UINT64_MAX, w;
    size_t i = 0;
    while (i + 8 <= n && (memcpy(&w, p + i, 8), w == skipw)) i += 8;
    while (i < n && p[i] == skip) i++;
    if (i == n) return bit ? -1 : (long long)n * 8;
    for (int b = 0; b < 8; b++)
        if (((p[i] >> (7 - b)) & 1) == bit) return (long long)i * 8 + b;
    return -1;   /* not reached: p[i] != skip has such a bit */
}

uint64_t bits_get(const unsigned char *p, uint64_t off, unsigned bits)
{
    uint64_t v = 0;
    for (unsigned j = 0; j < bits; j++, off++) v = (v << 1) | ((p[off >> 3] >> (7 - (off & 7))) & 1);
    return v;
}

int64_t bits_get_signed(const unsigned char *p, uint64_t off, unsigned bits)
{
    uint64_t v = bits_get(p, off, bits);
    if (bits < 64 && (v & ((uint64_t)1 << (bits - 1)))) v |= UINT64_MAX << bits;
    return (int64_t)v;
}

void bits_set(unsigned char *p, uint64_t off, unsigned bits, uint64_t v)
{
    for (unsigned j = 0; j < bits; j++, off++) {
        unsigned char m = (unsigned char)(1u << (7 - (off & 7)));
        if (v & ((uint64_t)1 << (bits - 1 - j))) p[off >> 3] |= m;
        else p[off >> 3] &= (unsigned char)~m;
    }
}

/* Both checks follow Redis's arithmetic exactly, overflowing differences
 * included (done here in unsigned arithmetic, which wraps as Redis's build
 * does): a SET of a value far outside a field's range may count as an
 * overflow upwards, and Kasi must say the same. */
int bits_overflow_u(uint64_t value, int64_t incr, unsigned bits, int mode, uint64_t *limit)
{
    uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
    int64_t maxincr = (int64_t)(max - value), minincr = (int64_t)(0 - value);
    int dir;
    if (value > max || (incr > 0 && incr > maxincr)) dir = 1;
    else if (incr < 0 && incr < minincr) dir = -1;
    else return 0;
    if (mode == BITS_WRAP) {
        uint64_t res = value + (uint64_t)incr;
        *limit = bits == 64 ? res : res & ~(UINT64_MAX << bits);
        return 1;
    }
    if (mode == BITS_SAT) *limit = dir > 0 ? max : 0;
    return dir;
}

int bits_overflow_s(int64_t value, int64_t incr, unsigned bits, int mode, int64_t *limit)
{
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
    int dir;
    if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr))
        dir = 1;
    else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr))
        dir = -1;
    else
        return 0;
    if (mode == BITS_WRAP) {
        uint64_t c = (uint64_t)value + (uint64_t)incr, msb = (uint64_t)1 << (bits - 1);
        if (bits < 64) c = (c & msb) ? c | (UINT64_MAX << bits) : c & ~(UINT64_MAX << bits);
        *limit = (int64_t)c;
        return 1;
    }
    if (mode == BITS_SAT) *limit = dir > 0 ? max : min;
    return dir;
}
