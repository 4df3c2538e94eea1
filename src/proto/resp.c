/* resp.c - see resp.h. */
#include "proto/resp.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

void resp_parser_reset(resp_parser *p)
{
    p->pos = 0;
    p->bulklen = -1;
    p->multibulk = 0;
    p->argc = 0;
    p->nargs = 0;
    p->err = NULL;
}

static int fail(resp_parser *p, const char *msg)
{
    p->err = msg;
    p->errlen = strlen(msg);
    return RESP_EPROTO;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Split an inline line into arguments in place, following sdssplitargs.
 * Returns the argument count, or -1 on unbalanced quotes, or -2 when argv
 * is too small (p->argc then holds a sufficient size). */
static int split_inline(resp_parser *p, char *line, size_t len)
{
    size_t i = 0;
    int n = 0;
    while (1) {
        while (i < len && is_space(line[i])) i++;
        if (i >= len || line[i] == '\0') return n;   /* like a C string, NUL ends the line */
        size_t out = i, start = i;
        int inq = 0, insq = 0, done = 0;
        while (!done) {
            if (inq) {
                if (i >= len) return -1;
                if (line[i] == '\\' && i + 3 < len && line[i + 1] == 'x' &&
                    hexval(line[i + 2]) >= 0 && hexval(line[i + 3]) >= 0) {
                    line[out++] = (char)(hexval(line[i + 2]) * 16 + hexval(line[i + 3]));
                    i += 4;
                } else if (line[i] == '\\' && i + 1 < len) {
                    char c;
                    i++;
                    switch (line[i]) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = line[i]; break;
                    }
                    line[out++] = c;
                    i++;
                } else if (line[i] == '"') {
                    /* closing quote must be followed by a space or nothing */
                    if (i + 1 < len && !is_space(line[i + 1])) return -1;
                    done = 1;
                    i++;
                } else {
                    line[out++] = line[i++];
                }
            } else if (insq) {
                if (i >= len) return -1;
                if (line[i] == '\\' && i + 1 < len && line[i + 1] == '\'') {
                    line[out++] = '\'';
                    i += 2;
                } else if (line[i] == '\'') {
                    if (i + 1 < len && !is_space(line[i + 1])) return -1;
                    done = 1;
                    i++;
                } else {
                    line[out++] = line[i++];
                }
            } else {
                if (i >= len) { done = 1; break; }
                switch (line[i]) {
                case ' ': case '\n': case '\r': case '\t': case '\0':
                    done = 1;
                    break;
                case '"': inq = 1; i++; break;
                case '\'': insq = 1; i++; break;
                default: line[out++] = line[i++]; break;
                }
            }
        }
        if (n == p->argv_cap) {
            p->argc = n + 1;
            return -2;
        }
        p->argv[n].off = start;
        p->argv[n].len = out - start;
        n++;
    }
}

static int parse_inline(resp_parser *p, char *buf, size_t len)
{
    char *nl = memchr(buf, '\n', len);
    size_t linelen;
    int n;
    if (!nl) {
        if (len > RESP_INLINE_MAX) return fail(p, "Protocol error: too big inline request");
        return RESP_EUNFIN;
    }
    linelen = (size_t)(nl - buf);
    if (linelen > RESP_INLINE_MAX) return fail(p, "Protocol error: too big inline request");
    if (linelen && buf[linelen - 1] == '\r') linelen--;
    /* Inline splitting rewrites the line; only do it once argv is big enough,
     * which we find by counting the words of the untouched line first. */
    if (p->argc == 0) {
        /* Quoting only ever merges words, so this is an upper bound. */
        int words = 0, inword = 0;
        for (size_t i = 0; i < linelen && buf[i] != '\0'; i++) {
            int sp = is_space(buf[i]);
            if (!sp && !inword) words++;
            inword = !sp;
        }
        p->argc = words;
    }
    if (p->argc > p->argv_cap) return RESP_EARGV;
    n = split_inline(p, buf, linelen);
    if (n == -2) return fail(p, "Protocol error: unbalanced quotes in request"); /* unreachable */
    if (n < 0) return fail(p, "Protocol error: unbalanced quotes in request");
    p->argc = p->nargs = n;
    p->pos = (size_t)(nl - buf) + 1;
    return RESP_OK;
}

/* The common case of a header: a canonical decimal of at most 9 digits
 * right after buf[pos] and the CRLF after it. Returns the value and sets
 * *next past the CRLF, or returns -1 for anything else (the general path
 * then parses it, with the same result for what this accepts). */
static inline long long quick_num(const char *buf, size_t len, size_t pos, size_t *next)
{
    size_t i = pos + 1, end = len < pos + 12 ? len : pos + 12;
    long long v = 0;
    if (i >= end || buf[i] < '0' || buf[i] > '9' || (buf[i] == '0' && i + 1 < len && buf[i + 1] != '\r'))
        return -1;
    while (i < end && buf[i] >= '0' && buf[i] <= '9') v = v * 10 + (buf[i++] - '0');
    if (i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n' || i - pos - 1 > 9) return -1;
    *next = i + 2;
    return v;
}

/* Find "\r\n"-terminated header at buf+pos. Returns the offset of '\r', or
 * -1 when incomplete, or -2 when it is longer than the inline limit. */
static long find_crlf(const char *buf, size_t len, size_t pos)
{
    const char *cr = memchr(buf + pos, '\r', len - pos);
    if (!cr) return len - pos > RESP_INLINE_MAX ? -2 : -1;
    if ((size_t)(cr - buf) + 1 >= len) return -1;   /* the '\n' has not arrived */
    return cr - buf;
}

/* The header of a bulk argument at s, "$<n>\r\n", in the forms quick_num
 * accepts (one or two digits without a leading zero are read inline).
 * Returns where its bytes start, with *n set, or NULL. */
static inline const char *bulk_header(const char *buf, size_t len, const char *s, size_t *n)
{
    unsigned d0, d1;
    size_t next;
    long long v;
    if (buf + len - s < 6 || s[0] != '$') return NULL;   /* the shortest argument: "$0\r\n\r\n" */
    d0 = (unsigned)(unsigned char)s[1] - '0';
    d1 = (unsigned)(unsigned char)s[2] - '0';
    if (d0 <= 9 && s[2] == '\r' && s[3] == '\n') {                   /* one digit */
        *n = d0;
        return s + 4;
    }
    if (d0 - 1 <= 8 && d1 <= 9 && s[3] == '\r' && s[4] == '\n') {     /* two, no leading 0 */
        *n = d0 * 10 + d1;
        return s + 5;
    }
    if ((v = quick_num(buf, len, (size_t)(s - buf), &next)) < 0) return NULL;
    *n = (size_t)v;
    return buf + next;
}

/* The common case in one pass: a whole request of at most 9 arguments,
 * every length canonical and within the limits, already in the buffer.
 * Returns 1 with the request parsed, or 0 (nothing kept) to leave it to
 * the general, resumable path, which gives the same result for what this
 * accepts. */
static int parse_whole(resp_parser *p, const char *buf, size_t len, const resp_limits *lim)
{
    const char *s = buf + 4, *end = buf + len;
    unsigned argc;
    long long max = lim->unauthenticated && lim->max_bulk > 16384 ? 16384 : lim->max_bulk;
    if (len < 4) return 0;
    argc = (unsigned)(unsigned char)buf[1] - '0';
    if (argc - 1 > 8 || buf[2] != '\r' || buf[3] != '\n' || (int)argc > p->argv_cap) return 0;
    for (unsigned i = 0; i < argc; i++) {
        size_t n;
        if (!(s = bulk_header(buf, len, s, &n)) || (size_t)(end - s) < n + 2 || (long long)n > max)
            return 0;
        p->argv[i].off = (size_t)(s - buf);
        p->argv[i].len = n;
        s += n + 2;   /* like Redis, the CRLF is not checked */
    }
    p->argc = p->nargs = (int)argc;
    p->pos = (size_t)(s - buf);
    return 1;
}

size_t resp_peek(const char *buf, size_t len, const char **key, size_t *klen)
{
    const char *s, *end = buf + len;
    size_t pos;
    long long argc;
    if (len < 4 || buf[0] != '*') return 0;
    if (buf[1] >= '2' && buf[1] <= '9' && buf[2] == '\r' && buf[3] == '\n') {
        argc = buf[1] - '0';
        pos = 4;
    } else {
        argc = quick_num(buf, len, 0, &pos);
    }
    if (argc < 2 || argc > RESP_PEEK_MAX_ARGS) return 0;
    s = buf + pos;
    for (long long i = 0; i < argc; i++) {
        size_t n;
        if (!(s = bulk_header(buf, len, s, &n)) || (size_t)(end - s) < n + 2) return 0;
        if (i == 1) {
            *key = s;
            *klen = n;
        }
        s += n + 2;
    }
    return (size_t)(s - buf);
}

int resp_parse(resp_parser *p, char *buf, size_t len, const resp_limits *lim)
{
    long long ll;
    long cr;

    if (len == 0) return RESP_EUNFIN;
    if (!p->multibulk) {
        size_t next;
        if (buf[0] != '*') return parse_inline(p, buf, len);
        if (parse_whole(p, buf, len, lim)) return RESP_OK;
        ll = quick_num(buf, len, 0, &next);
        if (ll >= 0) {
            cr = (long)next - 2;
            goto have_count;
        }
        cr = find_crlf(buf, len, 0);
        if (cr == -2) return fail(p, "Protocol error: too big mbulk count string");
        if (cr < 0) return RESP_EUNFIN;
        if (util_str2ll(buf + 1, (size_t)cr - 1, &ll) < 0 || ll > INT_MAX)
            return fail(p, "Protocol error: invalid multibulk length");
    have_count:
        if (ll > 10 && lim->unauthenticated)
            return fail(p, "Protocol error: unauthenticated multibulk length");
        p->pos = (size_t)cr + 2;
        if (ll <= 0) {
            p->argc = p->nargs = 0;
            return RESP_OK;
        }
        p->multibulk = 1;
        p->argc = (int)ll;
        p->nargs = 0;
        p->bulklen = -1;
    }
    while (p->nargs < p->argc) {
        if (p->bulklen < 0) {
            size_t next;
            if (p->pos < len && buf[p->pos] == '$' && (ll = quick_num(buf, len, p->pos, &next)) >= 0 &&
                ll <= lim->max_bulk && (ll <= 16384 || !lim->unauthenticated)) {
                p->bulklen = ll;
                p->pos = next;
                goto have_len;
            }
            cr = find_crlf(buf, len, p->pos);
            if (cr == -2) return fail(p, "Protocol error: too big bulk count string");
            if (cr < 0) return RESP_EUNFIN;
            if (buf[p->pos] != '$') {
                /* built by hand: the byte may be a NUL */
                int n = snprintf(p->errbuf, sizeof p->errbuf, "Protocol error: expected '$', got '");
                p->errbuf[n++] = buf[p->pos];
                p->errbuf[n++] = '\'';
                p->err = p->errbuf;
                p->errlen = (size_t)n;
                return RESP_EPROTO;
            }
            if (util_str2ll(buf + p->pos + 1, (size_t)cr - p->pos - 1, &ll) < 0 || ll < 0 ||
                ll > lim->max_bulk)
                return fail(p, "Protocol error: invalid bulk length");
            if (ll > 16384 && lim->unauthenticated)
                return fail(p, "Protocol error: unauthenticated bulk length");
            p->bulklen = ll;
            p->pos = (size_t)cr + 2;
        }
    have_len:
        if (p->nargs == p->argv_cap) return RESP_EARGV;
        if (len - p->pos < (size_t)p->bulklen + 2) return RESP_EUNFIN;
        p->argv[p->nargs].off = p->pos;
        p->argv[p->nargs].len = (size_t)p->bulklen;
        p->nargs++;
        p->pos += (size_t)p->bulklen + 2;   /* like Redis, the CRLF is not checked */
        p->bulklen = -1;
    }
    return RESP_OK;
}

/* ---- composition ---- */

static void line(buf *b, char type, const char *s, size_t n)
{
    buf_reserve(b, n + 3);
    b->data[b->len++] = type;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

static void prefixed_num(buf *b, char type, long long v)
{
    char tmp[24];
    if (v >= 0 && v < 10) {   /* counts and flags, most replies: ":1\r\n" */
        char *o;
        if (b->cap - b->len < 4) buf_reserve(b, 4);
        o = b->data + b->len;
        o[0] = type;
        o[1] = (char)('0' + v);
        o[2] = '\r';
        o[3] = '\n';
        b->len += 4;
        return;
    }
    int n = util_ll2str(tmp, v);
    line(b, type, tmp, (size_t)n);
}

void resp_simple(buf *b, const char *s) { line(b, '+', s, strlen(s)); }

void resp_error(buf *b, const char *s) { resp_error_len(b, s, strlen(s)); }

void resp_line_safe(buf *b, char type, const char *s, size_t n)
{
    size_t start = b->len + 1;
    line(b, type, s, n);
    for (size_t i = 0; i < n; i++)
        if (b->data[start + i] == '\r' || b->data[start + i] == '\n') b->data[start + i] = ' ';
}

void resp_error_len(buf *b, const char *s, size_t n) { resp_line_safe(b, '-', s, n); }

void resp_errorf(buf *b, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp_error(b, msg);
}

void resp_int(buf *b, long long v) { prefixed_num(b, ':', v); }
void resp_array(buf *b, long long n) { prefixed_num(b, '*', n); }
void resp_null(buf *b) { buf_append(b, "$-1\r\n", 5); }
void resp_null_array(buf *b) { buf_append(b, "*-1\r\n", 5); }

void resp_bulk(buf *b, const void *p, size_t n)
{
    char *o;
    if (b->cap - b->len < n + 26) buf_reserve(b, n + 26);   /* "$", 20 digits and a NUL, 2 CRLFs */
    o = b->data + b->len;
    *o++ = '$';
    if (n < 10) {   /* most values: no division loop */
        *o++ = (char)('0' + n);
    } else if (n < 100) {
        *o++ = (char)('0' + n / 10);
        *o++ = (char)('0' + n % 10);
    } else {
        o += util_ll2str(o, (long long)n);
    }
    memcpy(o, "\r\n", 2);
    if (n) memcpy(o + 2, p, n);
    memcpy(o + 2 + n, "\r\n", 2);
    b->len = (size_t)(o + 4 + n - b->data);
}

void resp_bulk_header(buf *b, size_t n) { prefixed_num(b, '$', (long long)n); }

void resp_bulk_cstr(buf *b, const char *s) { resp_bulk(b, s, strlen(s)); }

void resp_bulk_ll(buf *b, long long v)
{
    char tmp[24];
    int n = util_ll2str(tmp, v);
    resp_bulk(b, tmp, (size_t)n);
}

/* RESP has no padded form of a count, so a deferred header reserves the
 * widest header and the body is moved back once the count is known. */
#define DEFER_WIDTH 24
size_t resp_array_defer(buf *b)
{
    size_t token = b->len;
    buf_reserve(b, DEFER_WIDTH);
    b->len += DEFER_WIDTH;
    return token;
}

void resp_array_fill(buf *b, size_t token, long long n) { resp_agg_fill(b, token, '*', n); }

void resp_agg_fill(buf *b, size_t token, char type, long long n)
{
    char hdr[DEFER_WIDTH + 4];
    int hl = snprintf(hdr, sizeof hdr, "%c%lld\r\n", type, n);
    size_t body = token + DEFER_WIDTH;
    memmove(b->data + token + (size_t)hl, b->data + body, b->len - body);
    memcpy(b->data + token, hdr, (size_t)hl);
    b->len -= DEFER_WIDTH - (size_t)hl;
}

/* ---- RESP3 ---- */

void resp_agg(buf *b, char type, long long n) { prefixed_num(b, type, n); }
void resp3_null(buf *b) { buf_append(b, "_\r\n", 3); }
void resp3_bool(buf *b, int v) { buf_append(b, v ? "#t\r\n" : "#f\r\n", 4); }
void resp3_double(buf *b, const char *s, size_t n) { line(b, ',', s, n); }

void resp3_verbatim(buf *b, const char *fmt, const void *p, size_t n)
{
    prefixed_num(b, '=', (long long)n + 4);
    buf_reserve(b, n + 6);
    memcpy(b->data + b->len, fmt, 3);
    b->data[b->len + 3] = ':';
    memcpy(b->data + b->len + 4, p, n);
    memcpy(b->data + b->len + 4 + n, "\r\n", 2);
    b->len += n + 6;
}
