/* Unit tests for lib/hll: MurmurHash64A and the register an element picks
 * against values recorded from redis-server 7.0.15 (PFDEBUG GETREG after one
 * PFADD), dense registers written and read back at every alignment, the same
 * elements added to a sparse and a dense HLL giving the same registers and
 * the counts Redis gave for sets of 1 to 1M elements, promotion by size and
 * by value, and corrupt sparse forms refused by every reader (each held in a
 * buffer of its exact size, so a read past the end trips ASan). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/hll.h"

/* max[] of a whole HLL, as PFCOUNT of several keys builds it. */
static int regs_of(const hll_buf *h, unsigned char max[HLL_REGISTERS])
{
    memset(max, 0, HLL_REGISTERS);
    return hll_merge(max, h->p, h->len);
}

static uint64_t count_of(const hll_buf *h)
{
    int histo[64] = {0};
    if (hll_histo(h->p, h->len, histo) < 0) return (uint64_t)-1;
    return hll_estimate(histo);
}

static void new_hll(hll_buf *h)
{
    unsigned char e[HLL_EMPTY_LEN];
    hll_empty(e);
    hll_buf_init(h, e, sizeof e);
}

/* A corrupt sparse form refused by the readers: it sits in a malloc of its
 * exact size. */
static void check_corrupt(const unsigned char *ops, size_t n, int add_fails)
{
    unsigned char *p = malloc(HLL_HDR + n), max[HLL_REGISTERS] = {0};
    int histo[64] = {0};
    memcpy(p, "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80", HLL_HDR);
    memcpy(p + HLL_HDR, ops, n);
    CHECK(hll_valid(p, HLL_HDR + n));
    CHECK(hll_histo(p, HLL_HDR + n, histo) == -1);
    CHECK(hll_merge(max, p, HLL_HDR + n) == -1);
    hll_buf h;
    hll_buf_init(&h, p, HLL_HDR + n);
    CHECK(hll_to_dense(&h) == -1 && h.p[4] == HLL_SPARSE);
    if (add_fails) CHECK(hll_add(&h, HLL_REGISTERS - 1, 3, 3000) == -1);
    free(h.p);
    free(p);
}

int main(void)
{
    /* the hash, and the register and value Redis showed for each element */
    static const struct {
        const char *e;
        size_t n;
        uint64_t hash;
        uint32_t index;
        unsigned count;
    } known[] = {
        {"a", 1, 0x53d2470a9b43b1a7ULL, 12711, 2},
        {"b", 1, 0xf10cdf96c004fda4ULL, 15780, 1},
        {"hello", 5, 0x0f656f01eecfe400ULL, 9216, 1},
        {"", 0, 0xd8dfea6585bc9732ULL, 5938, 2},
        {"12345678", 8, 0x95ebb86389132953ULL, 10579, 3},
        {"123456789", 9, 0x217532cb09f2a44dULL, 9293, 2},
        {"\x00\xff", 2, 0x1113fe8e7e23cf61ULL, 3937, 1},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint32_t idx;
        CHECK(hll_murmur64a(known[i].e, known[i].n, 0xadc83b19ULL) == known[i].hash);
        CHECK(hll_pattern(known[i].e, known[i].n, &idx) == known[i].count && idx == known[i].index);
    }
    {
        char x[100];
        uint32_t idx;
        memset(x, 'x', sizeof x);
        CHECK(hll_murmur64a(x, sizeof x, 0xadc83b19ULL) == 0x2c4d1fddabbffbb8ULL);
        CHECK(hll_pattern(x, sizeof x, &idx) == 1 && idx == 15288);
    }

    /* dense registers: every alignment, neighbours untouched */
    {
        static unsigned char regs[HLL_REGISTERS * 6 / 8], model[HLL_REGISTERS];
        srand(3);
        for (int round = 0; round < 3; round++) {
            for (uint32_t i = 0; i < HLL_REGISTERS; i++) {
                model[i] = (unsigned char)(round == 2 ? 63u - (i % 64) : (unsigned)rand() % 64);
                hll_dense_set(regs, i, model[i]);
            }
            int bad = 0;
            for (uint32_t i = 0; i < HLL_REGISTERS; i++) bad += hll_dense_get(regs, i) != model[i];
            CHECK(bad == 0);
            for (uint32_t i = 0; i < 64; i++) {   /* one register rewritten: only it changes */
                uint32_t r = i < 8 ? i : HLL_REGISTERS - 1 - (i % 8) - 8 * (i > 56);
                hll_dense_set(regs, r, 63 - model[r]);
                CHECK(hll_dense_get(regs, r) == 63u - model[r]);
                CHECK(r == 0 || hll_dense_get(regs, r - 1) == model[r - 1]);
                CHECK(r == HLL_REGISTERS - 1 || hll_dense_get(regs, r + 1) == model[r + 1]);
                hll_dense_set(regs, r, model[r]);
            }
        }
    }

    /* the counts Redis gave for "el:0" .. "el:<n-1>" */
    static const struct {
        uint32_t n;
        uint64_t count;
    } counts[] = {{1, 1}, {10, 10}, {100, 100}, {1000, 999}, {10000, 10019}, {100000, 98893},
                  {1000000, 995821}};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        hll_buf s, d;
        static unsigned char ms[HLL_REGISTERS], md[HLL_REGISTERS];
        char e[32];
        new_hll(&s);
        new_hll(&d);
        CHECK(hll_to_dense(&d) == 0 && d.len == HLL_DENSE_SIZE && d.p[4] == HLL_DENSE);
        int changed_s = 0, changed_d = 0, differ = 0;
        for (uint32_t i = 0; i < counts[c].n; i++) {
            uint32_t idx;
            int n = snprintf(e, sizeof e, "el:%u", i);
            unsigned v = hll_pattern(e, (size_t)n, &idx);
            /* up to 10k elements the sparse one stays sparse (past that each
             * add would walk some 10 KB of opcodes) */
            int rs = hll_add(&s, idx, v, counts[c].n <= 10000 ? (size_t)1 << 30 : 3000);
            int rd = hll_add(&d, idx, v, 3000);
            differ += rs < 0 || rs != rd;
            changed_s += rs;
            changed_d += rd;
        }
        CHECK(differ == 0 && changed_s == changed_d);
        CHECK(s.p[4] == (counts[c].n <= 10000 ? HLL_SPARSE : HLL_DENSE));
        CHECK(regs_of(&s, ms) == 0 && regs_of(&d, md) == 0 && memcmp(ms, md, HLL_REGISTERS) == 0);
        CHECK(count_of(&s) == counts[c].count);
        CHECK(count_of(&d) == counts[c].count);
        int histo[64] = {0};
        hll_raw_histo(md, histo);
        CHECK(hll_estimate(histo) == counts[c].count);
        CHECK(hll_to_dense(&s) == 0 && s.len == d.len && memcmp(s.p + HLL_HDR, d.p + HLL_HDR,
                                                                 d.len - HLL_HDR) == 0);
        free(s.p);
        free(d.p);
    }

    /* promotion: by size at the limit, and by a value above 32 */
    {
        hll_buf h;
        new_hll(&h);
        CHECK(hll_add(&h, 100, 5, 19) == 1 && h.p[4] == HLL_DENSE);   /* 18 + 3 > 19 */
        CHECK(hll_dense_get(h.p + HLL_HDR, 100) == 5 && count_of(&h) == 1);
        free(h.p);
        new_hll(&h);
        CHECK(hll_add(&h, 0, 5, 19) == 1 && h.p[4] == HLL_SPARSE && h.len == 19);   /* VAL XZERO */
        CHECK(hll_add(&h, 1, 5, 20) == 1 && h.len == 19);   /* split to 20 bytes, then merged */
        CHECK(h.p[HLL_HDR] == 0x91 && (h.p[15] & 0x80));
        CHECK(hll_add(&h, 1, 5, 19) == 0 && hll_add(&h, 1, 4, 19) == 0);
        CHECK(hll_add(&h, 200, 33, 3000) == 1 && h.p[4] == HLL_DENSE);
        CHECK(hll_dense_get(h.p + HLL_HDR, 200) == 33 && hll_dense_get(h.p + HLL_HDR, 1) == 5);
        free(h.p);
    }

    /* cache bytes */
    {
        unsigned char p[HLL_EMPTY_LEN];
        hll_empty(p);
        CHECK(hll_cached(p) == 0);
        hll_set_cached(p, 0x0102030405060708ULL);
        CHECK(hll_cached(p) == 0x0102030405060708LL && p[8] == 8 && p[15] == 1);
        hll_invalidate(p);
        CHECK(hll_cached(p) == -1);
        CHECK(hll_valid(p, sizeof p) && !hll_valid(p, 15));
        p[4] = 2;
        CHECK(!hll_valid(p, sizeof p));
        p[4] = HLL_DENSE;
        CHECK(!hll_valid(p, sizeof p));
    }

    /* corrupt sparse forms */
    static const unsigned char trunc[] = {0x7f}, trunc2[] = {0x7f, 0xfe, 0x40},
                               over[] = {0x7f, 0xff, 0x00}, under[] = {0x7f, 0xfe},
                               val_over[] = {0x7f, 0xfc, 0xff, 0xff}, none[] = {0};
    check_corrupt(trunc, sizeof trunc, 1);
    {
        /* an XZERO cut after its first byte reads its second as 0, as Redis
         * reads the terminator there: 16383 + 1 registers, a valid HLL */
        unsigned char *p = malloc(HLL_HDR + sizeof trunc2), max[HLL_REGISTERS] = {0};
        int histo[64] = {0};
        memcpy(p, "HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80", HLL_HDR);
        memcpy(p + HLL_HDR, trunc2, sizeof trunc2);
        CHECK(hll_histo(p, HLL_HDR + sizeof trunc2, histo) == 0 && hll_estimate(histo) == 0);
        CHECK(hll_merge(max, p, HLL_HDR + sizeof trunc2) == 0);
        free(p);
    }
    check_corrupt(over, sizeof over, 0);
    check_corrupt(under, sizeof under, 1);
    check_corrupt(val_over, sizeof val_over, 0);
    check_corrupt(none, 0, 1);
    {
        static unsigned char fill[4097];   /* 4097 VALs of 4: past the last register */
        memset(fill, 0xff, sizeof fill);
        check_corrupt(fill, sizeof fill, 0);
    }
    return check_done("hll");
}
