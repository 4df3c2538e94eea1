/* slice.h - a counted run of bytes that someone else owns: a command's
 * argument, a key, a member. It may hold any byte, NUL included. */
#ifndef KASI_SLICE_H
#define KASI_SLICE_H

#include <stddef.h>

typedef struct slice {
    const char *p;
    size_t n;
} slice;

#endif
