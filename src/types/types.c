/* types.c - registering the kinds, and the encoding thresholds. */
#include "types/types.h"

/* Redis 7.0's defaults; the server sets the configured values. */
types_limits types_lim = {
    .hash_entries = 512,
    .hash_value = 64,
    .list_size = -2,
    .set_ints = 512,
    .zset_entries = 128,
    .zset_value = 64,
};

void types_init(void)
{
    kind_register(KIND_STRING, &string_kind_ops);
    kind_register(KIND_HASH, &hash_kind_ops);
    kind_register(KIND_LIST, &list_kind_ops);
}
