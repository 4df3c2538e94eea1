/* Unit tests for how the collection commands read and write doubles: the
 * fast decimal path of str_double gives exactly what strtod gives (random
 * decimals of every shape, compared bit for bit), the slow path keeps
 * Redis's rules (no NaN, no leading space, the whole string), and
 * coll_d2str writes Redis 7.0's forms. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmd/collection.h"

static uint64_t seed = 88172645463325252ULL;
static uint64_t next(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

int main(void)
{
    char buf[64];
    int same = 1, accepted = 1;
    for (int i = 0; i < 1000000; i++) {
        uint64_t r = next();
        size_t len = 0;
        int nd = (int)((r >> 3) % 19), dot = (int)((r >> 8) % (uint64_t)(nd + 2));
        if (r & 1) buf[len++] = (r & 2) ? '-' : '+';
        for (int k = 0; k < nd; k++) {
            if (k == dot) buf[len++] = '.';
            buf[len++] = (char)('0' + (next() % 10));
        }
        if (dot == nd && (r >> 60) & 1) buf[len++] = '.';
        buf[len] = '\0';
        double a, b;
        char *e;
        int ra = str_double(buf, len, &a);
        b = strtod(buf, &e);
        int rb = len && *e == '\0' ? 0 : -1;
        if (ra != rb) accepted = 0;
        if (ra == 0 && rb == 0 && memcmp(&a, &b, sizeof a)) same = 0;
    }
    CHECK(same);
    CHECK(accepted);
    double d;
    CHECK(str_double("nan", 3, &d) < 0 && str_double(" 1", 2, &d) < 0 && str_double("1x", 2, &d) < 0);
    CHECK(str_double("", 0, &d) < 0 && str_double("+", 1, &d) < 0 && str_double(".", 1, &d) < 0);
    CHECK(str_double("1e3", 3, &d) == 0 && d == 1000);
    CHECK(str_double("-0", 2, &d) == 0 && d == 0 && signbit(d));
    CHECK(str_double("0x10", 4, &d) == 0 && d == 16);
    CHECK(str_double("inf", 3, &d) == 0 && isinf(d));
    CHECK(str_double("1e400", 5, &d) < 0);   /* out of range: Redis refuses it as a score */
    CHECK(str_double("1\0", 2, &d) < 0);
    CHECK(coll_d2str(buf, sizeof buf, 0.1) == 19 && !strcmp(buf, "0.10000000000000001"));
    CHECK(coll_d2str(buf, sizeof buf, 1e17) == 5 && !strcmp(buf, "1e+17"));
    CHECK(coll_d2str(buf, sizeof buf, -0.0) == 2 && !strcmp(buf, "-0"));
    CHECK(coll_d2str(buf, sizeof buf, 42) == 2 && !strcmp(buf, "42"));
    CHECK(coll_d2str(buf, sizeof buf, -INFINITY) == 4 && !strcmp(buf, "-inf"));
    return check_done("double");
}
