/* check.h - a minimal unit-test harness: CHECK records a failure and goes on;
 * check_done() prints "N passed, N failed" and returns the exit status. */
#ifndef KASI_CHECK_H
#define KASI_CHECK_H
#include <stdint.h>
#include <stdio.h>

static int check_pass, check_fail;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (cond) check_pass++;                                                           \
        else {                                                                            \
            check_fail++;                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
        }                                                                                 \
    } while (0)

/* xorshift64: a seeded stream of test data (the state must not be 0). */
static inline uint64_t check_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static inline int check_done(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, check_pass, check_fail);
    return check_fail ? 1 : 0;
}
#endif
