/* http.c - see http.h. */
#include "proto/http.h"

#include <string.h>

/* One line from p (to its LF, a CR before it dropped): its length, or -1
 * if there is no LF before end. *next: where the next line starts. */
static long line_of(const char *p, const char *end, const char **next)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (!lf) return -1;
    *next = lf + 1;
    return (long)(lf - p) - (lf > p && lf[-1] == '\r');
}

static int is_tchar(unsigned char ch)
{
    return ch > ' ' && ch < 127 && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

long http_parse_head(const char *p, size_t n, http_req *r)
{
    const char *end = p + n, *at = p, *next, *sp1, *sp2;
    long len;
    memset(r, 0, sizeof *r);
    /* empty lines before the request line are skipped (RFC 9112 2.2) */
    while ((len = line_of(at, end, &next)) == 0) at = next;
    if (len < 0) return HTTP_PARTIAL;
    sp1 = memchr(at, ' ', (size_t)len);
    sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(at + len - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == at || sp2 == sp1 + 1 || sp1[1] != '/') return HTTP_BAD;
    if (at + len - sp2 - 1 != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) && memcmp(sp2 + 1, "HTTP/1.1", 8)))
        return HTTP_BAD;
    for (const char *c = at; c < sp1; c++)
        if (!is_tchar((unsigned char)*c)) return HTTP_BAD;
    r->method = at;
    r->mlen = (size_t)(sp1 - at);
    r->path = sp1 + 1;
    for (const char *c = sp1 + 1; c < sp2; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 127) return HTTP_BAD;
    {
        const char *q = memchr(r->path, '?', (size_t)(sp2 - r->path));
        r->plen = (size_t)((q ? q : sp2) - r->path);
    }
    for (at = next;; at = next) {
        const char *colon;
        if ((len = line_of(at, end, &next)) < 0) return HTTP_PARTIAL;
        if (len == 0) return (long)(next - p);
        colon = memchr(at, ':', (size_t)len);
        if (!colon || colon == at) return HTTP_BAD;   /* also a folded line: it starts with a space */
        for (const char *c = at; c < colon; c++)
            if (!is_tchar((unsigned char)*c)) return HTTP_BAD;
        for (const char *c = colon + 1; c < at + len; c++)
            if ((unsigned char)*c < ' ' && *c != '\t') return HTTP_BAD;
    }
}
