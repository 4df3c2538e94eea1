/* strings.c - the string kind: a value is its bytes, stored as they are,
 * with nothing outside its segment. OBJECT ENCODING names what Redis would
 * use for the same bytes (int, embstr, raw); Kasi stores all three alike. */
#include "types/types.h"

#include "lib/util.h"

static const char *string_encoding(const item *it)
{
    long long v;
    size_t n = item_vlen(it);
    if (n <= 20 && util_str2ll(item_cval(it), n, &v) == 0) return "int";
    return n <= 44 ? "embstr" : "raw";
}

static size_t string_outside(const item *it)
{
    (void)it;
    return 0;
}

const kind_ops string_kind_ops = {
    .name = "string",
    .encoding = string_encoding,
    .outside = string_outside,
    .release = NULL,
    .copy = NULL,
    .serialize = NULL,
    .restore = NULL,
};
