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

void buf_append_repr(buf *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, n + 2);
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        char e[4] = {'\\', 0, 0, 0};
        size_t k = 2;
        switch (c) {
        case '\\': case '"': e[1] = (char)c; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\a': e[1] = 'a'; break;
        case '\b': e[1] = 'b'; break;
        default:
            if (c >= 32 && c < 127) {   /* isprint in the C locale */
                e[0] = (char)c;
                k = 1;
            } else {
                e[1] = 'x';
                e[2] = hex[c >> 4];
                e[3] = hex[c & 15];
                k = 4;
            }
        }
        buf_append(b, e, k);
    }
    buf_append(b, "\"", 1);
}
