/* Unit tests for the RESP parser and composer: whole requests, every split
 * point, inline quoting, limits and compose/parse round trips. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto/resp.h"

static resp_arg argv[64];
static const resp_limits lim = {.max_bulk = 512LL << 20, .unauthenticated = 0};

static int parse(char *buf, size_t len, resp_parser *p)
{
    memset(p, 0, sizeof *p);
    resp_parser_reset(p);
    p->argv = argv;
    p->argv_cap = 64;
    return resp_parse(p, buf, len, &lim);
}

static int arg_eq(const char *base, int i, const char *want)
{
    return argv[i].len == strlen(want) && memcmp(base + argv[i].off, want, argv[i].len) == 0;
}

static void test_multibulk(void)
{
    char req[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
    resp_parser p;
    CHECK(parse(req, strlen(req), &p) == RESP_OK);
    CHECK(p.nargs == 3 && p.pos == strlen(req));
    CHECK(arg_eq(req, 0, "SET") && arg_eq(req, 1, "k") && arg_eq(req, 2, "hello"));
}

/* A buffer that ends exactly where an argument's header would start: the
 * parser must ask for more without reading past the end (the ASan build
 * checks that: the buffer is allocated to the exact size). */
static void test_ends_at_header(void)
{
    static const char req[] = "*2\r\n$3\r\nGET\r\n";
    char *buf = malloc(sizeof req - 1);
    resp_parser p;
    memcpy(buf, req, sizeof req - 1);
    CHECK(parse(buf, sizeof req - 1, &p) == RESP_EUNFIN);
    CHECK(p.nargs == 1);
    /* and the count alone, then a count and a partial length */
    CHECK(parse(buf, 4, &p) == RESP_EUNFIN);
    CHECK(parse(buf, 6, &p) == RESP_EUNFIN);
    free(buf);
}

/* Feeding a request one more byte at a time must give EUNFIN until the
 * last byte, and then the same result as all at once. */
static void test_every_split(void)
{
    char req[] = "*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n";
    size_t n = strlen(req);
    resp_parser p;
    memset(&p, 0, sizeof p);
    resp_parser_reset(&p);
    p.argv = argv;
    p.argv_cap = 64;
    for (size_t i = 1; i < n; i++) CHECK(resp_parse(&p, req, i, &lim) == RESP_EUNFIN);
    CHECK(resp_parse(&p, req, n, &lim) == RESP_OK);
    CHECK(p.nargs == 2 && arg_eq(req, 1, "0123456789") && p.pos == n);
}

static void test_inline(void)
{
    char a[] = "set key \"a b\\x41\\n\" 'it\\'s'\r\n";
    char b[] = "\r\n";
    char c[] = "get \"unbalanced\r\n";
    resp_parser p;
    CHECK(parse(a, strlen(a), &p) == RESP_OK);
    CHECK(p.nargs == 4 && arg_eq(a, 2, "a bA\n") && arg_eq(a, 3, "it's"));
    CHECK(parse(b, strlen(b), &p) == RESP_OK && p.nargs == 0 && p.pos == 2);
    CHECK(parse(c, strlen(c), &p) == RESP_EPROTO);
    CHECK(strcmp(p.err, "Protocol error: unbalanced quotes in request") == 0);
}

static void test_errors(void)
{
    struct { const char *in; const char *err; } cases[] = {
        {"*x\r\n", "Protocol error: invalid multibulk length"},
        {"*1\r\n$-2\r\n", "Protocol error: invalid bulk length"},
        {"*1\r\n$600000000\r\n", "Protocol error: invalid bulk length"},
        {"*1\r\n+OK\r\n", "Protocol error: expected '$', got '+'"},
        {"*3000000000\r\n", "Protocol error: invalid multibulk length"},
    };
    resp_parser p;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = strdup(cases[i].in);
        CHECK(parse(b, strlen(b), &p) == RESP_EPROTO);
        CHECK(p.err && strcmp(p.err, cases[i].err) == 0);
        free(b);
    }
}

static void test_limits(void)
{
    size_t n = RESP_INLINE_MAX + 10;
    char *big = malloc(n);
    resp_parser p;
    resp_limits unauth = {.max_bulk = 512LL << 20, .unauthenticated = 1};
    char many[] = "*20\r\n";
    char bulk[] = "*1\r\n$20000\r\n";
    memset(big, 'a', n);
    CHECK(parse(big, n, &p) == RESP_EPROTO);
    CHECK(strcmp(p.err, "Protocol error: too big inline request") == 0);
    big[0] = '*';
    CHECK(parse(big, n, &p) == RESP_EPROTO);
    CHECK(strcmp(p.err, "Protocol error: too big mbulk count string") == 0);
    free(big);
    memset(&p, 0, sizeof p);
    resp_parser_reset(&p);
    p.argv = argv;
    p.argv_cap = 64;
    CHECK(resp_parse(&p, many, strlen(many), &unauth) == RESP_EPROTO);
    resp_parser_reset(&p);
    CHECK(resp_parse(&p, bulk, strlen(bulk), &unauth) == RESP_EPROTO);
    /* A promised bulk that has not arrived is only a promise. */
    resp_parser_reset(&p);
    CHECK(resp_parse(&p, bulk, strlen(bulk), &lim) == RESP_EUNFIN);
}

static void test_argv_growth(void)
{
    char req[] = "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";
    resp_arg small[2], big[8];
    resp_parser p;
    memset(&p, 0, sizeof p);
    resp_parser_reset(&p);
    p.argv = small;
    p.argv_cap = 2;
    CHECK(resp_parse(&p, req, strlen(req), &lim) == RESP_EARGV);
    memcpy(big, small, sizeof small);
    p.argv = big;
    p.argv_cap = 8;
    CHECK(resp_parse(&p, req, strlen(req), &lim) == RESP_OK && p.nargs == 3);
}

/* Compose replies, then check the bytes, including deferred arrays. */
static void test_compose(void)
{
    buf b = {0};
    size_t tok;
    resp_simple(&b, "OK");
    resp_error(&b, "ERR bad\r\nthing");
    resp_int(&b, -42);
    resp_bulk(&b, "hi", 2);
    resp_null(&b);
    tok = resp_array_defer(&b);
    resp_int(&b, 1);
    resp_int(&b, 2);
    resp_array_fill(&b, tok, 2);
    resp_int(&b, LLONG_MIN);
    const char *want = "+OK\r\n-ERR bad  thing\r\n:-42\r\n$2\r\nhi\r\n$-1\r\n*2\r\n:1\r\n:2\r\n"
                       ":-9223372036854775808\r\n";
    CHECK(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
    buf_free(&b);
}

/* The RESP3 types, and deferred maps and sets (a map counts its pairs). */
static void test_compose_resp3(void)
{
    buf b = {0};
    size_t tok;
    resp_agg(&b, '%', 1);
    resp_bulk(&b, "k", 1);
    resp3_null(&b);
    resp3_bool(&b, 1);
    resp3_bool(&b, 0);
    resp3_double(&b, "1.5", 3);
    resp3_verbatim(&b, "txt", "a\r\nb", 4);
    tok = resp_array_defer(&b);
    for (int i = 0; i < 12; i++) resp_int(&b, i);
    resp_agg_fill(&b, tok, '~', 12);
    resp_agg(&b, '>', 0);
    const char *want = "%1\r\n$1\r\nk\r\n_\r\n#t\r\n#f\r\n,1.5\r\n=8\r\ntxt:a\r\nb\r\n"
                       "~12\r\n:0\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n:8\r\n:9\r\n:10\r\n:11\r\n"
                       ">0\r\n";
    CHECK(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
    buf_free(&b);
}

/* Bulk strings with every byte value survive compose then parse. */
static void test_roundtrip(void)
{
    buf b = {0};
    char val[256];
    resp_parser p;
    for (int i = 0; i < 256; i++) val[i] = (char)i;
    resp_array(&b, 2);
    resp_bulk(&b, "SET", 3);
    resp_bulk(&b, val, sizeof val);
    CHECK(parse(b.data, b.len, &p) == RESP_OK);
    CHECK(p.nargs == 2 && argv[1].len == 256 && memcmp(b.data + argv[1].off, val, 256) == 0);
    buf_free(&b);
    /* every header width, each bulk composed into a fresh buffer (no spare room) */
    for (size_t n = 0; n <= 1000; n += n < 12 ? 1 : n < 110 ? 7 : 97) {
        char want[1100];
        buf one = {0};
        int hl = snprintf(want, sizeof want, "$%zu\r\n", n);
        memset(want + hl, 'v', n);
        memcpy(want + hl + n, "\r\n", 2);
        resp_bulk(&one, want + hl, n);
        CHECK(one.len == (size_t)hl + n + 2 && memcmp(one.data, want, one.len) == 0);
        buf_free(&one);
    }
}

/* A request parsed from a whole buffer (the one-pass path) and the same
 * request fed a byte at a time (the resumable path) must agree: result,
 * arguments, length consumed and error text. Every buffer is allocated to
 * its exact length, so the ASan build catches a read past the end. */
static void agree(const char *req, size_t n, const resp_limits *l)
{
    static resp_arg a1[16], a2[16];
    resp_parser p1, p2;
    char *buf = malloc(n ? n : 1);
    int r1, r2 = RESP_EUNFIN;
    memcpy(buf, req, n);
    memset(&p1, 0, sizeof p1);
    resp_parser_reset(&p1);
    p1.argv = a1;
    p1.argv_cap = 16;
    p2 = p1;
    p2.argv = a2;
    r1 = resp_parse(&p1, buf, n, l);
    for (size_t i = 1; i <= n && r2 == RESP_EUNFIN; i++) {
        char *prefix = malloc(i);
        memcpy(prefix, req, i);
        r2 = resp_parse(&p2, prefix, i, l);
        free(prefix);
    }
    CHECK(r1 == r2);
    if (r1 == RESP_OK) {
        CHECK(p1.nargs == p2.nargs && p1.pos == p2.pos);
        for (int i = 0; i < p1.nargs && i < p2.nargs; i++)
            CHECK(a1[i].off == a2[i].off && a1[i].len == a2[i].len);
    }
    if (r1 == RESP_EPROTO && r2 == RESP_EPROTO)
        CHECK(p1.errlen == p2.errlen && memcmp(p1.err, p2.err, p1.errlen) == 0);
    {
        /* whatever the lookahead accepts, the parser reads the same way */
        const char *key = NULL;
        size_t klen = 0, pl = resp_peek(buf, n, &key, &klen);
        if (pl && l->max_bulk >= (long long)n && !l->unauthenticated)   /* limits aside */
            CHECK(r1 == RESP_OK && pl == p1.pos && p1.nargs >= 2 && key == buf + a1[1].off &&
                  klen == a1[1].len);
    }
    free(buf);
}

/* resp_peek walks a pipeline request by request, as the parser does. */
static void test_peek(void)
{
    static const char pipe[] = "*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n"
                               "*3\r\n$3\r\nSET\r\n$10\r\n0123456789\r\n$0\r\n\r\n"
                               "*1\r\n$4\r\nPING\r\n"
                               "*2\r\n$3\r\nGET\r\n$1\r\nz\r\n";
    size_t len = sizeof pipe - 1, off = 0, lens[4] = {22, 36, 14, 20};
    const char *keys[4] = {"abc", "0123456789", NULL, "z"};
    char *many;
    const char *key;
    size_t klen, at;
    for (int i = 0; i < 4; i++) {
        size_t pl = resp_peek(pipe + off, len - off, &key, &klen);
        CHECK(pl == (keys[i] ? lens[i] : 0));   /* PING has no key */
        if (pl) CHECK(klen == strlen(keys[i]) && memcmp(key, keys[i], klen) == 0);
        for (size_t cut = 0; keys[i] && cut < lens[i]; cut++)   /* incomplete */
            CHECK(resp_peek(pipe + off, cut, &key, &klen) == 0);
        off += lens[i];
    }
    CHECK(resp_peek("GET k\r\n", 7, &key, &klen) == 0);   /* inline */
    CHECK(resp_peek("*2\r\n$3\r\nGET\r\n$01\r\nk\r\n", 23, &key, &klen) == 0);
    /* at most RESP_PEEK_MAX_ARGS arguments */
    many = malloc(8 * (RESP_PEEK_MAX_ARGS + 2) + 16);
    for (int argc = RESP_PEEK_MAX_ARGS; argc <= RESP_PEEK_MAX_ARGS + 1; argc++) {
        at = (size_t)sprintf(many, "*%d\r\n", argc);
        for (int i = 0; i < argc; i++) at += (size_t)sprintf(many + at, "$1\r\n%c\r\n", 'a' + i % 26);
        CHECK(resp_peek(many, at, &key, &klen) == (argc <= RESP_PEEK_MAX_ARGS ? at : 0));
    }
    free(many);
}

static void test_whole_matches_split(void)
{
    static const char *reqs[] = {
        "*1\r\n$4\r\nPING\r\n",
        "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1\r\nv\r\n",
        "*2\r\n$3\r\nGET\r\n$03\r\nabc\r\n",          /* leading zero */
        "*2\r\n$3\r\nGET\r\n$00\r\n\r\n",
        "*2\r\n$3\r\nGET\r\n$+3\r\nabc\r\n",
        "*2\r\n$3\r\nGET\r\n$-1\r\n",
        "*2\r\n$3\r\nGET\r\n$3 \r\nabc\r\n",
        "*2\r\n$3\r\nGET\r\n$3\rXabc\r\n",
        "*2\r\n$3\r\nGETxy$1\r\nk\r\n",                /* CRLF after a bulk is not checked */
        "*2\r\n$3\r\nGET\r\n:1\r\n",
        "*02\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        "*0\r\n",
        "*-1\r\n",
        "*9\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
        "$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n",
        "*10\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"
        "$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n",
        "*1\r\n$999999999\r\n",                           /* incomplete: a promise */
        "*1\r\n$1000000000\r\n",
        "*1\r\n$20000\r\n",
        "*2\r\n$3\r\nGET\r\n$5\r\nab",                 /* incomplete */
        "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n",
        "*2\r\n$3\r\nGET\r\n$10\r\n012345678",        /* one byte short */
        "*2\r\n$3\r\nGET\r\n$1",
        "*2\r\n$3\r\nGET\r\n$12",
        "*2\r\n$3\r\nGET\r\n$12\r",
        "*2\r\n$3\r\nGET\r\n$1x\r\nab\r\n",
        "*2\r\n$3\r\nGET\r\n$1\r\r\nab\r\n",
        "*2\r\n$3\r\nGET\r\n$123\n\nab\r\n",
        "*1\r\n$0100\r\n",
        "*1\r\n$0000000001\r\n",
        "*1\r\n$\r\n\r\n",
    };
    resp_limits unauth = {.max_bulk = 512LL << 20, .unauthenticated = 1};
    resp_limits small = {.max_bulk = 2, .unauthenticated = 0};
    char *big;
    size_t hl;
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        agree(reqs[i], strlen(reqs[i]), &lim);
        agree(reqs[i], strlen(reqs[i]), &unauth);
        agree(reqs[i], strlen(reqs[i]), &small);
    }
    /* every length from 0 to 130 and a few big ones, whole and split */
    for (size_t n = 0; n < 20000; n += n < 130 ? 1 : 4999) {
        char *r = malloc(n + 64);
        size_t rl = (size_t)snprintf(r, 64, "*2\r\n$3\r\nSET\r\n$%zu\r\n", n);
        memset(r + rl, 'q', n);
        memcpy(r + rl + n, "\r\n", 2);
        agree(r, rl + n + 2, &lim);
        agree(r, rl + n + 2, &small);
        agree(r, rl + n + 1, &lim);
        free(r);
    }
    /* a bulk just over the unauthenticated limit, whole */
    big = malloc(16400);
    hl = (size_t)snprintf(big, 32, "*1\r\n$16385\r\n");
    memset(big + hl, 'x', 16385);
    memcpy(big + hl + 16385, "\r\n", 2);
    agree(big, hl + 16387, &unauth);
    agree(big, hl + 16387, &lim);
    free(big);
}

int main(void)
{
    test_multibulk();
    test_every_split();
    test_inline();
    test_errors();
    test_limits();
    test_argv_growth();
    test_compose();
    test_compose_resp3();
    test_roundtrip();
    test_ends_at_header();
    test_whole_matches_split();
    test_peek();
    return check_done("resp");
}
