/* test_sizes.c - the sizes every key pays for, printed and checked (as
 * memcached's sizes does), so that a new field never grows every key by
 * accident; and the value-kind encoding of the item header. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/table.h"
#include "store/item.h"
#include "store/keyspace.h"
#include "store/segment.h"

int main(void)
{
    char mem[256] __attribute__((aligned(8)));
    item *it;
    printf("item header %zu B, table slot %zu B, segment header %zu B, shard %zu B, kref %zu B\n",
           sizeof(item), sizeof(uint64_t), sizeof(seg), sizeof(shard), sizeof(kref));
    printf("16 B key, 32 B value: %zu B in its segment (%zu with an expiry)\n",
           (item_size(16, 32, 0) + 7) & ~(size_t)7, (item_size(16, 32, 1) + 7) & ~(size_t)7);
    CHECK(sizeof(item) == 8);
    CHECK(((item_size(16, 32, 0) + 7) & ~(size_t)7) == 56);
    CHECK(((item_size(16, 32, 1) + 7) & ~(size_t)7) == 64);
    CHECK(sizeof(shard) % 64 == 0);   /* shards do not share cache lines */

    /* a string pays nothing for its kind */
    it = item_init(mem, "key", 3, "value", 5, -1);
    CHECK(item_kind(it) == KIND_STRING && !item_typed(it) && item_vlen(it) == 5);
    CHECK(item_encoding(it) == 0);
    /* the largest string (2^29 bytes) is not mistaken for a typed value */
    it->vmeta = ITEM_TYPED;
    CHECK(!item_typed(it) && item_vlen(it) == ITEM_TYPED && item_kind(it) == KIND_STRING);
    it->vmeta |= ITEM_SOLO | ITEM_SNAP;
    CHECK(!item_typed(it) && item_vlen(it) == ITEM_TYPED && item_solo(it) && item_snap(it));
    /* a typed value: its kind byte, then its own bytes */
    it = item_init(mem, "key", 3, NULL, 1 + 7, 1234);
    it->vmeta |= ITEM_SOLO;
    item_set_kind(it, KIND_ZSET, 3, 7);
    memcpy(item_payload(it), "payload", 7);
    CHECK(item_typed(it) && item_kind(it) == KIND_ZSET && item_encoding(it) == 3);
    CHECK(item_vlen(it) == 8 && item_payload_len(it) == 7 && item_solo(it));
    CHECK(memcmp(item_payload(it), "payload", 7) == 0 && item_expire(it) == 1234);
    CHECK(item_footprint(it) == ((item_size(3, 8, 1) + 7) & ~(size_t)7));
    item_set_kind(it, KIND_STRING, 0, 8);
    CHECK(!item_typed(it) && item_vlen(it) == 8 && item_solo(it));
    return check_done("sizes");
}
