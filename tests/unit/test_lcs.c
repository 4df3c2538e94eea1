/* Unit tests for lib/lcs: every cell of the bit-row table equals the cell of
 * the plain dynamic-programming table, for strings of many lengths (around
 * the 64-bit words and the 64-row blocks, either string the shorter one)
 * and alphabets, read in the order LCS's walk reads them (rows going back)
 * and in random order (blocks recomputed again and again). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/lcs.h"

static uint64_t seed = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) { return check_rand(&seed); }

static void fill(char *s, size_t n, unsigned alphabet)
{
    for (size_t i = 0; i < n; i++) s[i] = (char)(alphabet == 256 ? next() & 0xff : 'a' + next() % alphabet);
}

/* The plain table, (alen + 1) x (blen + 1) cells. */
static uint32_t *plain(const char *a, size_t alen, const char *b, size_t blen)
{
    uint32_t *t = calloc((alen + 1) * (blen + 1), sizeof *t);
    for (size_t i = 1; i <= alen; i++) {
        for (size_t j = 1; j <= blen; j++) {
            uint32_t up = t[(i - 1) * (blen + 1) + j], left = t[i * (blen + 1) + j - 1];
            t[i * (blen + 1) + j] = a[i - 1] == b[j - 1] ? t[(i - 1) * (blen + 1) + j - 1] + 1
                                                         : (up > left ? up : left);
        }
    }
    return t;
}

static void one(size_t alen, size_t blen, unsigned alphabet)
{
    char *a = malloc(alen + 1), *b = malloc(blen + 1);
    fill(a, alen, alphabet);
    fill(b, blen, alphabet);
    uint32_t *want = plain(a, alen, b, blen);
    lcs t;
    CHECK(lcs_init(&t, a, alen, b, blen) == 0);
    CHECK(lcs_len(&t) == want[alen * (blen + 1) + blen]);
    int backward = 1, scattered = 1;
    for (size_t i = alen + 1; i-- > 0;) {
        for (size_t j = 0; j <= blen; j++) backward &= lcs_at(&t, i, j) == want[i * (blen + 1) + j];
    }
    for (int k = 0; k < 2000; k++) {
        size_t i = next() % (alen + 1), j = next() % (blen + 1);
        scattered &= lcs_at(&t, i, j) == want[i * (blen + 1) + j];
    }
    if (!backward || !scattered) fprintf(stderr, "  table %zu x %zu, alphabet %u\n", alen, blen, alphabet);
    CHECK(backward);
    CHECK(scattered);
    lcs_free(&t);
    free(want);
    free(a);
    free(b);
}

int main(void)
{
    static const size_t lens[] = {0, 1, 2, 63, 64, 65, 127, 128, 129, 191, 200, 640, 1000};
    static const unsigned alphabets[] = {1, 2, 4, 26, 256};
    size_t n = sizeof lens / sizeof *lens;
    for (size_t x = 0; x < n; x++) {
        for (size_t y = 0; y < n; y++) {
            for (size_t k = 0; k < sizeof alphabets / sizeof *alphabets; k++) {
                if (lens[x] * lens[y] <= 200000) one(lens[x], lens[y], alphabets[k]);
            }
        }
    }
    one(5000, 3, 2);
    one(3, 5000, 2);
    one(3000, 300, 4);
    {
        /* the whole table at once: the same string both ways */
        lcs t;
        const char *s = "ohmytext";
        CHECK(lcs_init(&t, s, 8, s, 8) == 0);
        CHECK(lcs_len(&t) == 8);
        CHECK(lcs_at(&t, 3, 8) == 3);
        lcs_free(&t);
    }
    return check_done("lcs");
}
