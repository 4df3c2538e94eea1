/* lcs.c - bit-parallel LCS table (see lcs.h).
 *
 * Row k holds, for the prefixes y[0..k) and x[0..l), the vector V with
 * T(k, l) = l - popcount(V & the low l bits). V starts all ones (T = 0) and
 * a byte c of y turns it into (V + U) | (V - U) where U = V & the positions
 * of c in x; V - U never borrows since U is a subset of V, so only the
 * addition carries from word to word. Carries only go up, so the low l
 * bits of a row depend on x[0..l) alone, as the table's row prefix does. */
#include "lib/lcs.h"

#include <stdlib.h>
#include <string.h>

#define KEEP 64   /* rows per kept row */

static void step(const lcs *t, const uint64_t *v, uint64_t *out, unsigned char c)
{
    const uint64_t *m = t->pm + (size_t)c * t->words;
    uint64_t carry = 0;
    for (size_t w = 0; w < t->words; w++) {
        uint64_t u = v[w] & m[w], s = v[w] + u, sum = s + carry;
        carry = (s < u) | (sum < s);
        out[w] = sum | (v[w] & ~u);
    }
}

int lcs_init(lcs *t, const char *a, size_t alen, const char *b, size_t blen)
{
    memset(t, 0, sizeof *t);
    t->swapped = alen < blen;
    t->x = (const unsigned char *)(t->swapped ? a : b);
    t->xlen = t->swapped ? alen : blen;
    t->y = (const unsigned char *)(t->swapped ? b : a);
    t->ylen = t->swapped ? blen : alen;
    t->words = t->xlen / 64 + 1;
    t->base = SIZE_MAX;
    size_t nkept = t->ylen / KEEP + 1;
    t->pm = calloc(256 * t->words, sizeof(uint64_t));
    t->kept = malloc(nkept * t->words * sizeof(uint64_t));
    t->block = malloc((KEEP - 1) * t->words * sizeof(uint64_t));
    t->last = malloc(t->words * sizeof(uint64_t));
    if (!t->pm || !t->kept || !t->block || !t->last) {
        lcs_free(t);
        return -1;
    }
    for (size_t l = 0; l < t->xlen; l++) t->pm[t->x[l] * t->words + l / 64] |= 1ULL << (l % 64);
    uint64_t *v = t->kept;
    memset(v, 0xff, t->words * sizeof(uint64_t));
    for (size_t k = 1; k <= t->ylen; k++) {
        uint64_t *out = k % KEEP ? t->last : t->kept + k / KEEP * t->words;
        step(t, v, out, t->y[k - 1]);
        v = out;
    }
    if (v != t->last) memcpy(t->last, v, t->words * sizeof(uint64_t));
    return 0;
}

static const uint64_t *row(lcs *t, size_t k)
{
    size_t base = k - k % KEEP;
    if (base == k) return t->kept + k / KEEP * t->words;
    if (t->base != base) {
        const uint64_t *v = t->kept + base / KEEP * t->words;
        for (size_t r = 1; r < KEEP && base + r <= t->ylen; r++) {
            uint64_t *out = t->block + (r - 1) * t->words;
            step(t, v, out, t->y[base + r - 1]);
            v = out;
        }
        t->base = base;
    }
    return t->block + (k - base - 1) * t->words;
}

static uint32_t count(const lcs *t, const uint64_t *v, size_t l)
{
    size_t ones = 0, w = 0;
    for (; w < l / 64; w++) ones += (size_t)__builtin_popcountll(v[w]);
    if (l % 64) ones += (size_t)__builtin_popcountll(v[w] & ((1ULL << (l % 64)) - 1));
    return (uint32_t)(l - ones);
}

uint32_t lcs_at(lcs *t, size_t i, size_t j)
{
    size_t k = t->swapped ? j : i, l = t->swapped ? i : j;
    return count(t, k == t->ylen ? t->last : row(t, k), l);
}

uint32_t lcs_len(const lcs *t)
{
    return count(t, t->last, t->xlen);
}

void lcs_free(lcs *t)
{
    free(t->pm);
    free(t->kept);
    free(t->block);
    free(t->last);
    memset(t, 0, sizeof *t);
}
