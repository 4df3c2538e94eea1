/* types.c - registering the kinds, and the encoding thresholds. */
#include "types/types.h"

#include "types/set.h"
#include "types/stream_kind.h"
#include "types/zset.h"

/* Redis 7.0's defaults; the server sets the configured values. */
types_limits types_lim = {
    .hash_entries = 512,
    .hash_value = 64,
    .list_size = -2,
    .set_ints = 512,
    .zset_entries = 128,
    .zset_value = 64,
};

/* Sets read as sorted-set inputs (ZUNION, ZINTER, ZDIFF): members with
 * score 1. */
static void set_each(const item *it, void (*fn)(const char *m, size_t ml, void *opaque),
                     void *opaque)
{
    set_iter i;
    const char *s;
    size_t n;
    set_iter_init(&i, it);
    while (set_next(&i, &s, &n)) fn(s, n, opaque);
}

static const zset_set_reader set_as_zset = {set_len, set_each, set_has};

void types_init(void)
{
    kind_register(KIND_STRING, &string_kind_ops);
    kind_register(KIND_HASH, &hash_kind_ops);
    kind_register(KIND_ZSET, &zset_kind_ops);
    kind_register(KIND_SET, &set_kind_ops);
    zset_set_reader_register(&set_as_zset);
    kind_register(KIND_LIST, &list_kind_ops);
    kind_register(KIND_STREAM, &stream_kind_ops);
}
