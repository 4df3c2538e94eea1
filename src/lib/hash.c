/* hash.c - SipHash-1-3 (one compression round, three finalisation rounds),
 * written from the SipHash paper by Aumasson and Bernstein. */
#include "lib/hash.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define SIPROUND()                                                        \
    do {                                                                  \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);         \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                            \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                            \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);         \
    } while (0)

uint64_t hash_siphash13(const void *data, size_t len, const uint64_t key[2])
{
    const unsigned char *p = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
    uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
    uint64_t v3 = 0x7465646279746573ULL ^ key[1];
    uint64_t m, last = (uint64_t)len << 56;
    size_t blocks = len / 8;

    for (size_t i = 0; i < blocks; i++, p += 8) {
        memcpy(&m, p, 8);   /* little-endian hosts only, like the rest of Kasi */
        v3 ^= m;
        SIPROUND();
        v0 ^= m;
    }
    switch (len & 7) {
    case 7: last |= (uint64_t)p[6] << 48; /* fall through */
    case 6: last |= (uint64_t)p[5] << 40; /* fall through */
    case 5: last |= (uint64_t)p[4] << 32; /* fall through */
    case 4: last |= (uint64_t)p[3] << 24; /* fall through */
    case 3: last |= (uint64_t)p[2] << 16; /* fall through */
    case 2: last |= (uint64_t)p[1] << 8;  /* fall through */
    case 1: last |= (uint64_t)p[0];       /* fall through */
    case 0: break;
    }
    v3 ^= last;
    SIPROUND();
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND();
    SIPROUND();
    SIPROUND();
    return v0 ^ v1 ^ v2 ^ v3;
}
