/* util.c - see util.h. */
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
    char msg[96];
    int len = snprintf(msg, sizeof msg, "kasi: out of memory allocating %zu bytes\n", n);
    if (write(STDERR_FILENO, msg, (size_t)len) < 0) { /* nothing left to do */ }
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) oom(n * m);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

void *xmemdup(const void *p, size_t n)
{
    void *q = xmalloc(n);
    if (n) memcpy(q, p, n);
    return q;
}

int64_t util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int util_str2ull(const char *s, size_t len, unsigned long long *out)
{
    unsigned long long v = 0;
    if (len == 0 || len > 20) return -1;
    if (len > 1 && s[0] == '0') return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) return -1;
        if (v > (ULLONG_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int util_str2ll(const char *s, size_t len, long long *out)
{
    unsigned long long v;
    int neg = 0;
    if (len == 0) return -1;
    if (len == 1 && s[0] == '0') { *out = 0; return 0; }
    if (s[0] == '-') { neg = 1; s++; len--; }
    if (len == 0 || s[0] < '1' || s[0] > '9') return -1;
    if (util_str2ull(s, len, &v) < 0) return -1;
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return -1;
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return -1;
        *out = (long long)v;
    }
    return 0;
}

int util_str2ld(const char *s, size_t len, long double *out)
{
    char buf[UTIL_LD_MAXCHARS];
    char *end;
    long double v;
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end != buf + len || isnan(v) ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        errno == EINVAL)
        return -1;
    *out = v;
    return 0;
}

int util_parse_memory(const char *s, long long *out)
{
    static const struct { const char *suffix; long long mul; } units[] = {
        {"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000000},
        {"mb", 1024 * 1024}, {"g", 1000000000LL}, {"gb", 1024LL * 1024 * 1024},
    };
    size_t n = 0, len = strlen(s);
    long long v;
    while (n < len && isdigit((unsigned char)s[n])) n++;
    /* as Redis's memtoull: decimal digits, leading zeros allowed, and no
     * digits at all ("", "kb") read as 0 */
    v = 0;
    for (size_t i = 0; i < n; i++) {
        if (v > (LLONG_MAX - (s[i] - '0')) / 10) return -1;
        v = v * 10 + (s[i] - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(s + n, units[i].suffix) == 0) {
            if (v > LLONG_MAX / units[i].mul) return -1;
            *out = v * units[i].mul;
            return 0;
        }
    }
    return -1;
}

int util_ll2str(char *buf, long long v)
{
    char tmp[24];
    int n = 0, len = 0;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

int util_ld2str(char *buf, size_t cap, long double v)
{
    int len;
    if (isinf(v)) return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    len = snprintf(buf, cap, "%.17Lf", v);
    if (len < 0 || (size_t)len >= cap) return 0;
    if (strchr(buf, '.')) {
        while (buf[len - 1] == '0') len--;
        if (buf[len - 1] == '.') len--;
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; len = 1; }
    buf[len] = '\0';
    return len;
}

static int lower(int c) { return tolower((unsigned char)c); }

/* Match one character of the string against the pattern element at *pi;
 * advances *pi past the element. Returns 1 on a match. */
static int glob_one(const char *pat, size_t plen, size_t *pi, char c, int nocase)
{
    size_t i = *pi;
    if (pat[i] == '?') { *pi = i + 1; return 1; }
    if (pat[i] == '\\' && i + 1 < plen) {
        *pi = i + 2;
        return nocase ? lower(pat[i + 1]) == lower(c) : pat[i + 1] == c;
    }
    if (pat[i] == '[') {
        int neg = 0, match = 0;
        i++;
        if (i < plen && pat[i] == '^') { neg = 1; i++; }
        for (;;) {
            if (i >= plen) break;   /* unclosed class: the pattern end closes it */
            if (pat[i] == '\\' && i + 1 < plen) {
                if (pat[i + 1] == c) match = 1;
                i += 2;
            } else if (pat[i] == ']') {
                i++;
                break;
            } else if (i + 2 < plen && pat[i + 1] == '-') {
                int a = (unsigned char)pat[i], b = (unsigned char)pat[i + 2], x = (unsigned char)c;
                if (a > b) { int t = a; a = b; b = t; }
                if (nocase) { a = lower(a); b = lower(b); x = lower(x); }
                if (x >= a && x <= b) match = 1;
                i += 3;
            } else {
                if (nocase ? lower(pat[i]) == lower(c) : pat[i] == c) match = 1;
                i++;
            }
        }
        *pi = i;
        return neg ? !match : match;
    }
    *pi = i + 1;
    return nocase ? lower(pat[i]) == lower(c) : pat[i] == c;
}

int util_glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase)
{
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*') pi++;
            if (pi == plen) return 1;
            star_p = pi;
            star_s = si;
            continue;
        }
        if (pi < plen) {
            size_t next = pi;
            if (glob_one(pat, plen, &next, s[si], nocase)) {
                pi = next;
                si++;
                continue;
            }
        }
        if (star_p == (size_t)-1) return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && pat[pi] == '*') pi++;
    return pi == plen;
}

int util_eqi(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return n == len && strncasecmp(s, lit, len) == 0;
}

size_t util_rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

int util_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

void util_random_hex(char *out, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char r[64];
    for (size_t i = 0; i < n; i++) {
        if (i % sizeof r == 0 && util_random_bytes(r, sizeof r) < 0)
            for (size_t j = 0; j < sizeof r; j++) r[j] = (unsigned char)util_rand64();
        out[i] = digits[r[i % sizeof r] & 15];
    }
    out[n] = '\0';
}

uint64_t util_rand64(void)
{
    static _Thread_local uint64_t state;
    if (state == 0) {
        if (util_random_bytes(&state, sizeof state) < 0 || state == 0)
            state = (uint64_t)util_mono_us() | 1;
    }
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

int util_ratelimit_take(util_ratelimit *rl, unsigned long long *missed)
{
    long long sec = util_now_ms() / 1000, seen = atomic_load(&rl->second);
    if (seen != sec && atomic_compare_exchange_strong(&rl->second, &seen, sec))
        atomic_store(&rl->used, 0);
    if (atomic_fetch_add(&rl->used, 1) >= rl->per_sec) {
        atomic_fetch_add(&rl->missed, 1);
        return 0;
    }
    *missed = atomic_exchange(&rl->missed, 0);
    return 1;
}

void util_human_bytes(char *out, size_t len, double v)
{
    const char *u = "BKMGT";
    while (v >= 1024 && u[1]) {
        v /= 1024;
        u++;
    }
    if (*u == 'B') snprintf(out, len, "%.0fB", v);
    else snprintf(out, len, "%.2f%c", v, *u);
}
