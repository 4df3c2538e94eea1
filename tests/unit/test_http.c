/* Unit tests for the HTTP request head parser: what it keeps, what it
 * refuses, and that a head cut anywhere reads as partial, never as done. */
#include <string.h>

#include "check.h"
#include "proto/http.h"

static long parse(const char *s, http_req *r) { return http_parse_head(s, strlen(s), r); }

int main(void)
{
    http_req r;
    static const char ok[] = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept:\t*/*\r\n\r\n";
    static const char *const bad[] = {
        "GARBAGE\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
        "GET metrics HTTP/1.1\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.1 \r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon\r\n\r\n", "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\x7f\x01\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
    };

    CHECK(parse(ok, &r) == (long)strlen(ok));
    CHECK(http_is(r.method, r.mlen, "GET") && http_is(r.path, r.plen, "/metrics"));
    /* every cut of a good head is partial */
    for (size_t n = 0; n < strlen(ok); n++) CHECK(http_parse_head(ok, n, &r) == HTTP_PARTIAL);
    /* what follows the head is not the parser's */
    CHECK(parse("HEAD / HTTP/1.0\r\n\r\nbody", &r) == 19 && http_is(r.method, r.mlen, "HEAD") &&
          http_is(r.path, r.plen, "/"));
    /* bare LF line ends, and empty lines before the request line */
    CHECK(parse("\r\n\nGET / HTTP/1.0\n\n", &r) == 19 && http_is(r.path, r.plen, "/"));
    CHECK(parse("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", &r) > 0 &&
          http_is(r.method, r.mlen, "POST"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(parse(bad[i], &r) == HTTP_BAD);
    /* a head with no end stays partial, however long (the caller bounds it) */
    CHECK(parse("GET / HTTP/1.1\r\nX: y\r\nX: y\r\n", &r) == HTTP_PARTIAL);
    CHECK(!http_is("GET", 3, "GETX") && !http_is("GETX", 4, "GET"));
    return check_done("http");
}
