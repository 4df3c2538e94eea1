/* Unit tests for lib/bits: counting and bit search against a bit-at-a-time
 * model over random buffers of every length up to 40 (so the word loops meet
 * every tail), bit fields written and read back at every alignment, and
 * BITFIELD's overflow rules at the edges of the types. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/bits.h"

static int bit_at(const unsigned char *p, size_t i) { return (p[i >> 3] >> (7 - (i & 7))) & 1; }

static long long model_pos(const unsigned char *p, size_t n, int bit)
{
    for (size_t i = 0; i < n * 8; i++)
        if (bit_at(p, i) == bit) return (long long)i;
    return bit ? -1 : (long long)n * 8;
}

int main(void)
{
    unsigned char buf[40], f[16];
    srand(7);
    for (int round = 0; round < 400; round++) {
        size_t n = (size_t)(round % 41);
        int dense = round % 3;   /* mostly zeros, random, mostly ones */
        for (size_t i = 0; i < n; i++) {
            int r = rand() & 0xff;
            buf[i] = (unsigned char)(dense == 0 ? (rand() % 17 ? 0 : r) : dense == 1 ? r : (rand() % 17 ? 0xff : r));
        }
        uint64_t count = 0;
        for (size_t i = 0; i < n * 8; i++) count += (uint64_t)bit_at(buf, i);
        CHECK(bits_count(buf, n) == count);
        CHECK(bits_pos(buf, n, 1) == model_pos(buf, n, 1));
        CHECK(bits_pos(buf, n, 0) == model_pos(buf, n, 0));
    }

    for (unsigned bits = 1; bits <= 64; bits++) {
        for (uint64_t off = 0; off < 16; off++) {
            uint64_t v = ((uint64_t)rand() << 40) ^ ((uint64_t)rand() << 20) ^ (uint64_t)rand();
            uint64_t m = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
            memset(f, 0xa5, sizeof f);
            bits_set(f, off, bits, v);
            CHECK(bits_get(f, off, bits) == (v & m));
            /* the bits around the field keep the 0xa5 pattern */
            CHECK(off == 0 || bit_at(f, off - 1) == ((0xa5 >> (7 - ((off - 1) & 7))) & 1));
            CHECK(bit_at(f, off + bits) == ((0xa5 >> (7 - ((off + bits) & 7))) & 1));
            uint64_t want = v & m;
            if (bits < 64 && ((want >> (bits - 1)) & 1)) want |= ~m;
            CHECK((uint64_t)bits_get_signed(f, off, bits) == want);
        }
    }

    uint64_t u;
    int64_t i;
    CHECK(bits_overflow_u(250, 5, 8, BITS_WRAP, &u) == 0);
    CHECK(bits_overflow_u(250, 10, 8, BITS_WRAP, &u) == 1 && u == 4);
    CHECK(bits_overflow_u(250, 10, 8, BITS_SAT, &u) == 1 && u == 255);
    CHECK(bits_overflow_u(5, -6, 8, BITS_SAT, &u) == -1 && u == 0);
    CHECK(bits_overflow_u(5, -6, 8, BITS_WRAP, &u) == 1 && u == 255);
    CHECK(bits_overflow_u(5, -6, 8, BITS_FAIL, &u) == -1);
    CHECK(bits_overflow_u((uint64_t)-1, 0, 8, BITS_SAT, &u) == 1 && u == 255);   /* SET u8 -1 */
    CHECK(bits_overflow_u(INT64_MAX, 1, 63, BITS_WRAP, &u) == 1 && u == 0);
    CHECK(bits_overflow_s(127, 1, 8, BITS_WRAP, &i) == 1 && i == -128);
    CHECK(bits_overflow_s(127, 1, 8, BITS_SAT, &i) == 1 && i == 127);
    CHECK(bits_overflow_s(-128, -1, 8, BITS_SAT, &i) == -1 && i == -128);
    CHECK(bits_overflow_s(-128, -1, 8, BITS_WRAP, &i) == 1 && i == 127);
    CHECK(bits_overflow_s(-100, 227, 8, BITS_FAIL, &i) == 0);
    CHECK(bits_overflow_s(INT64_MAX, 1, 64, BITS_WRAP, &i) == 1 && i == INT64_MIN);
    CHECK(bits_overflow_s(INT64_MIN, -1, 64, BITS_SAT, &i) == -1 && i == INT64_MIN);
    CHECK(bits_overflow_s(INT64_MIN, INT64_MAX, 64, BITS_FAIL, &i) == 0);
    /* Redis's wrapping difference: a SET of INT64_MIN into an i8 counts as
     * an overflow upwards (diff_scripts_bits.py checks it against Redis) */
    CHECK(bits_overflow_s(INT64_MIN, 0, 8, BITS_SAT, &i) == 1 && i == 127);
    return check_done("bits");
}
