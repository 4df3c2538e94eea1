/* Unit tests for number parsing/formatting and glob matching, against the
 * behaviour Redis documents for them. */
#include <string.h>

#include "check.h"
#include "lib/util.h"

static int ll(const char *s, long long *v) { return util_str2ll(s, strlen(s), v); }
static int glob(const char *p, const char *s) { return util_glob_match(p, strlen(p), s, strlen(s), 0); }

int main(void)
{
    long long v;
    long double d;
    char buf[UTIL_LD_MAXCHARS];

    CHECK(ll("0", &v) == 0 && v == 0);
    CHECK(ll("-9223372036854775808", &v) == 0 && v == (-9223372036854775807LL - 1));
    CHECK(ll("9223372036854775807", &v) == 0);
    CHECK(ll("9223372036854775808", &v) < 0);
    CHECK(ll("01", &v) < 0 && ll("-0", &v) < 0 && ll("+1", &v) < 0 && ll(" 1", &v) < 0);
    CHECK(ll("", &v) < 0 && ll("1a", &v) < 0);

    CHECK(util_str2ld("10.5", 4, &d) == 0 && d == 10.5L);
    CHECK(util_str2ld(" 1", 2, &d) < 0 && util_str2ld("nan", 3, &d) < 0);
    CHECK(util_str2ld("1\0", 2, &d) < 0);
    util_ld2str(buf, sizeof buf, 3.0e3L);
    CHECK(strcmp(buf, "3000") == 0);
    util_ld2str(buf, sizeof buf, 10.5L);
    CHECK(strcmp(buf, "10.5") == 0);
    util_ld2str(buf, sizeof buf, -0.0L);
    CHECK(strcmp(buf, "0") == 0);

    CHECK(util_parse_memory("1gb", &v) == 0 && v == 1024LL * 1024 * 1024);
    CHECK(util_parse_memory("10k", &v) == 0 && v == 10000);
    CHECK(util_parse_memory("10x", &v) < 0 && util_parse_memory("+1", &v) < 0);
    /* Redis's memtoull: leading zeros, and a unit with no digits is 0 */
    CHECK(util_parse_memory("010", &v) == 0 && v == 10);
    CHECK(util_parse_memory("mb", &v) == 0 && v == 0 && util_parse_memory("", &v) == 0 && v == 0);
    CHECK(util_parse_memory("9223372036854775808", &v) < 0 && util_parse_memory("9007199254740992kb", &v) < 0);

    CHECK(glob("*", "anything") && glob("h?llo", "hello") && !glob("h?llo", "hllo"));
    CHECK(glob("h[ae]llo", "hallo") && !glob("h[ae]llo", "hillo"));
    CHECK(glob("h[^e]llo", "hallo") && !glob("h[^e]llo", "hello"));
    CHECK(glob("h[a-b]llo", "hbllo") && glob("h[b-a]llo", "hallo"));
    CHECK(glob("a\\*b", "a*b") && !glob("a\\*b", "axb"));
    CHECK(glob("*a*b*c*", "xxaxxbxxcxx") && !glob("*a*b*c*", "xxaxxcxxbxx"));
    CHECK(util_glob_match("HeLLo", 5, "hello", 5, 1));
    /* pathological pattern stays fast: linear backtracking */
    {
        char s[4001], p[41];
        memset(s, 'a', 4000);
        s[4000] = 0;
        for (int i = 0; i < 40; i += 2) { p[i] = 'a'; p[i + 1] = '*'; }
        p[40] = 0;
        p[39] = 'b';
        CHECK(!glob(p, s));
    }
    return check_done("util");
}
