/* util.h - small helpers shared by every module: allocation that aborts on
 * exhaustion, clocks, Redis-compatible number parsing/formatting and glob
 * matching. Nothing here knows about the server. */
#ifndef KASI_UTIL_H
#define KASI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define UTIL_LD_MAXCHARS 5120 /* longest accepted textual long double */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void *xmemdup(const void *p, size_t n);

int64_t util_now_ms(void);    /* wall clock, milliseconds since the epoch */
int64_t util_now_us(void);    /* wall clock, microseconds since the epoch */
int64_t util_mono_us(void);   /* monotonic clock, microseconds */

/* Parse a whole buffer as a signed 64-bit decimal, with Redis's strict
 * rules (no spaces, no '+', no leading zeros). Returns 0 or -1. */
int util_str2ll(const char *s, size_t len, long long *out);
/* Parse as unsigned 64-bit (for SCAN cursors). Returns 0 or -1. */
int util_str2ull(const char *s, size_t len, unsigned long long *out);
/* Parse a long double the way Redis's string2ld does. Returns 0 or -1. */
int util_str2ld(const char *s, size_t len, long double *out);
/* Parse "100", "1k", "2mb", "1gb"... into bytes. Returns 0 or -1. */
int util_parse_memory(const char *s, long long *out);

/* Format into buf (at least 21 bytes); returns the length. */
int util_ll2str(char *buf, long long v);
/* Human long double formatting as Redis's INCRBYFLOAT does; buf needs
 * UTIL_LD_MAXCHARS bytes. Returns the length. */
int util_ld2str(char *buf, size_t cap, long double v);

/* Glob-style match with Redis's semantics (* ? [a-z] [^x] \x).
 * Returns 1 on a match. Runs in O(pattern * string) time. */
int util_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                    int nocase);

/* Case-insensitive comparison of a counted buffer with a C string literal. */
int util_eqi(const char *s, size_t len, const char *lit);

/* Resident set size of this process, from /proc (0 if unknown). */
size_t util_rss_bytes(void);

/* Fill buf with n random bytes from the kernel; returns 0 or -1. */
int util_random_bytes(void *buf, size_t n);

/* Fill out with n random lowercase hex digits and a terminating NUL (as
 * Redis makes its run_id); falls back to util_rand64 if the kernel fails. */
void util_random_hex(char *out, size_t n);

/* A fast per-thread PRNG (xorshift*), seeded from util_random_bytes. */
uint64_t util_rand64(void);

/* At most per_sec events a second (for log lines a client can provoke);
 * safe from any thread. */
typedef struct util_ratelimit {
    int per_sec;
    _Atomic long long second;
    _Atomic int used;
    _Atomic unsigned long long missed;
} util_ratelimit;
#define UTIL_RATELIMIT_INIT(n) {.per_sec = (n)}
/* Whether one more event is allowed now; *missed gets the number refused
 * since the last one allowed. */
int util_ratelimit_take(util_ratelimit *rl, unsigned long long *missed);

/* Bytes as INFO's *_human fields show them: 512B, 1.50K, 2.00M ... */
void util_human_bytes(char *out, size_t len, double v);

#endif
