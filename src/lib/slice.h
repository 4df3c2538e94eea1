/* slice.h - a counted run of bytes that someone else owns: a command's
 * argument, a key, a member. It may hold any byte, NUL included. */
#ifndef KASI_SLICE_H
#define KASI_SLICE_H

#include <stddef.h>
#include <string.h>

typedef struct slice {
    const char *p;
    size_t n;
} slice;

/* Byte order, the shorter first on a tie (a radix tree's order). */
static inline int slice_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t m = an < bn ? an : bn;
    int c = m ? memcmp(a, b, m) : 0;
    return c ? c : (an > bn) - (an < bn);
}

#endif
