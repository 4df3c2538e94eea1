/* http.h - an HTTP/1.x request head parser, as picohttpparser is: a pure
 * function over a buffer, no allocation, no socket; what it returns points
 * into the buffer. It keeps what the metrics endpoint needs (the method and
 * the path) and checks the rest for form: a request line of a token
 * method, an origin-form target and HTTP/1.0 or 1.1; header lines of a
 * token name, a colon and no control bytes but tab (a folded line is
 * malformed, RFC 9112 5.2). Lines may end in CRLF or a bare LF, and empty
 * lines before the request line are skipped (RFC 9112 2.2). */
#ifndef KASI_PROTO_HTTP_H
#define KASI_PROTO_HTTP_H

#include <stddef.h>
#include <string.h>

#define HTTP_PARTIAL (-2)   /* the head has not ended yet */
#define HTTP_BAD (-1)       /* malformed */

typedef struct http_req {
    const char *method, *path;   /* into the buffer */
    size_t mlen, plen;           /* the path stops before any ?query */
} http_req;

/* Parse the request head in p[0..n): returns its length (through the empty
 * line), HTTP_PARTIAL or HTTP_BAD. */
long http_parse_head(const char *p, size_t n, http_req *r);

/* Whether p[0..n) is the string s. */
static inline int http_is(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

#endif
