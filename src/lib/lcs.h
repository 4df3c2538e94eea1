/* lcs.h - the longest common subsequence of two byte strings, for LCS.
 *
 * The command walks Redis's dynamic-programming table back from its far
 * corner, T(i, j) = the length of the LCS of a[0..i) and b[0..j). Filling
 * that table one 32-bit cell at a time, as Redis does, costs up to the
 * 512 MB that proto-max-bulk-len allows and seconds of one core. Here a row
 * of it is a bit vector over the shorter string, computed 64 cells per
 * machine word with the bit-parallel recurrence of Allison and Dix (in
 * Hyyro's form): bit l of row k is clear where T grows between columns l
 * and l + 1. Only every 64th row is kept; lcs_at recomputes the 63 rows
 * after a kept one when the walk reaches them, which it does once each
 * since it only goes back. So the work is two passes of n * m / 64 words
 * and the memory n * m / 4096 words, 256 KB at the largest table Redis
 * accepts by default. */
#ifndef KASI_LCS_H
#define KASI_LCS_H

#include <stddef.h>
#include <stdint.h>

typedef struct lcs {
    const unsigned char *x, *y;   /* x: the bit positions (the shorter string), y: the rows */
    size_t xlen, ylen, words;     /* words per row */
    int swapped;                  /* x is a (rows are b's prefixes) */
    uint64_t *pm;                 /* per byte value, the positions of x holding it */
    uint64_t *kept;               /* rows 0, 64, 128, ... */
    uint64_t *block;              /* rows base + 1 .. base + 63 */
    uint64_t *last;               /* row ylen */
    size_t base;                  /* the block's kept row, or SIZE_MAX */
} lcs;

/* Build the table of a[0..alen) and b[0..blen). 0, or -1 when out of memory. */
int lcs_init(lcs *t, const char *a, size_t alen, const char *b, size_t blen);
/* T(i, j), for i <= alen and j <= blen. */
uint32_t lcs_at(lcs *t, size_t i, size_t j);
/* T(alen, blen): the length of the LCS. */
uint32_t lcs_len(const lcs *t);
void lcs_free(lcs *t);

#endif
