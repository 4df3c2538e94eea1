/* resp.h - the RESP codec: RESP2 requests, RESP2 and RESP3 replies.
 *
 * The parser is a pure, resumable function over a byte buffer, in the style
 * of picohttpparser: it never allocates and never touches a socket. Argument
 * tokens are (offset, length) pairs relative to the start of the request, so
 * the caller may move or grow its buffer between calls. Limits are checked
 * against what was received, never against what a client promised: a bulk
 * length is only a promise, so nothing is reserved for it here.
 *
 * Requests are either multibulk ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") or inline
 * ("GET k\r\n", with Redis's quoting rules). Error texts are Redis's.
 *
 * The composer appends replies to a buf. It knows nothing of a client's
 * protocol version: the RESP3 types have composers of their own, and the
 * command layer picks between them and their RESP2 forms. */
#ifndef KASI_RESP_H
#define KASI_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define RESP_INLINE_MAX (64 * 1024)

enum {
    RESP_OK = 0,        /* a whole request was parsed */
    RESP_EPROTO = -1,   /* malformed: reply p->err and close the connection */
    RESP_EUNFIN = -2,   /* need more bytes */
    RESP_EARGV = -3,    /* argv is full: grow it to at least p->argc and call again */
};

typedef struct resp_arg {
    size_t off;
    size_t len;
} resp_arg;

typedef struct resp_limits {
    long long max_bulk;      /* proto-max-bulk-len */
    int unauthenticated;     /* apply Redis's tighter limits before AUTH */
} resp_limits;

typedef struct resp_parser {
    /* progress, private to the parser */
    size_t pos;        /* bytes of the request consumed so far */
    long long bulklen; /* length of the bulk being read, or -1 */
    int multibulk;     /* 1 while reading a multibulk request */
    /* results */
    int argc;          /* number of arguments (announced, for multibulk) */
    int nargs;         /* arguments complete so far */
    resp_arg *argv;    /* caller-owned */
    int argv_cap;
    const char *err;   /* set with RESP_EPROTO; may point into errbuf */
    size_t errlen;     /* its length (it may hold a NUL byte) */
    char errbuf[64];
} resp_parser;

/* Forget any partial progress (call after each complete request). */
void resp_parser_reset(resp_parser *p);

/* Parse one request from buf[0..len). The buffer must begin at the start of
 * the request and stay the same between calls, except for bytes appended at
 * the end. Inline requests are unescaped in place. Returns RESP_OK (p->pos
 * bytes make up the request, p->nargs arguments; nargs may be 0 for an
 * empty line or "*0", which get no reply), or one of the codes above. */
int resp_parse(resp_parser *p, char *buf, size_t len, const resp_limits *lim);

/* A look ahead at the request starting at buf[0], for cache hints only: if
 * it is a whole multibulk request of 2 to RESP_PEEK_MAX_ARGS arguments with
 * canonical lengths, return its length in bytes and point *key at its
 * second argument; otherwise return 0. The cost is bounded by the
 * argument count, not by the bytes. */
#define RESP_PEEK_MAX_ARGS 64
size_t resp_peek(const char *buf, size_t len, const char **key, size_t *klen);

/* Reply composition. */
void resp_simple(buf *b, const char *s);                   /* +s */
void resp_error(buf *b, const char *s);                    /* -s, CR/LF made spaces */
void resp_error_len(buf *b, const char *s, size_t n);
void resp_line_safe(buf *b, char type, const char *s, size_t n);  /* type s, CR/LF made spaces */
void resp_errorf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resp_int(buf *b, long long v);                        /* :v */
void resp_bulk(buf *b, const void *p, size_t n);           /* $n p */
void resp_bulk_cstr(buf *b, const char *s);
void resp_bulk_header(buf *b, size_t n);                    /* $n, body to follow */
void resp_bulk_ll(buf *b, long long v);
void resp_null(buf *b);                                    /* $-1 */
void resp_null_array(buf *b);                              /* *-1 */
void resp_array(buf *b, long long n);                      /* *n */
/* Reserve room for an array header whose count is known later; returns a
 * token for resp_array_fill. */
size_t resp_array_defer(buf *b);
void resp_array_fill(buf *b, size_t token, long long n);
/* The same for any aggregate type ('*', '%', '~', '>'); a map's n is its
 * number of pairs. */
void resp_agg_fill(buf *b, size_t token, char type, long long n);

/* RESP3 types. */
void resp_agg(buf *b, char type, long long n);             /* %n ~n >n |n: map, set, push */
void resp3_null(buf *b);                                    /* _ */
void resp3_bool(buf *b, int v);                             /* #t #f */
void resp3_double(buf *b, const char *s, size_t n);         /* ,s (s already formatted) */
/* A verbatim string: =len, then the 3-letter format ("txt"), ':', p. */
void resp3_verbatim(buf *b, const char *fmt, const void *p, size_t n);

#endif
