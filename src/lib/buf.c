/* buf.c - see buf.h. */
#include "lib/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/util.h"

void buf_reserve(buf *b, size_t extra)
{
    size_t need = b->len + extra, cap;
    if (need <= b->cap) return;
    if (b->off && buf_pending(b) + extra <= b->cap / 2 + extra / 2) {
        buf_compact(b);
        if (b->len + extra <= b->cap) return;
        need = b->len + extra;
    }
    cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap < (64u << 20) ? cap * 2 : cap + (64u << 20);
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_compact(buf *b)
{
    if (b->off == 0) return;
    memmove(b->data, b->data + b->off, b->len - b->off);
    b->len -= b->off;
    b->off = 0;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

void buf_trim(buf *b, size_t keep_cap)
{
    if (b->len == 0 && b->cap > keep_cap) buf_free(b);
}

void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    buf_reserve(b, 256);
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= b->cap - b->len) {   /* it did not fit: again, with room */
        buf_reserve(b, (size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}
