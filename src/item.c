/* item.c - see item.h. */
#include "item.h"

#include <malloc.h>
#include <stdlib.h>

#include "util.h"

item *item_new(const char *key, size_t klen, const char *val, size_t vlen, int64_t expire_ms)
{
    int ttl = expire_ms >= 0;
    item *it = xmalloc(item_size(klen, vlen, ttl));
    it->vlen = (uint32_t)vlen;
    it->kmeta = (uint32_t)klen | (ttl ? ITEM_HAS_TTL : 0);
    if (ttl) memcpy(it->data, &expire_ms, 8);
    memcpy((char *)item_key(it), key, klen);
    if (val && vlen) memcpy(item_val(it), val, vlen);
    return it;
}

item *item_with_expire(const item *it, int64_t expire_ms)
{
    return item_new(item_key(it), item_klen(it), item_cval(it), item_vlen(it), expire_ms);
}

item *item_resize(const item *it, size_t vlen)
{
    item *n = item_new(item_key(it), item_klen(it), NULL, vlen, item_expire(it));
    size_t keep = vlen < item_vlen(it) ? vlen : item_vlen(it);
    if (keep) memcpy(item_val(n), item_cval(it), keep);
    return n;
}

void item_free(item *it) { free(it); }

size_t item_mem(const item *it) { return malloc_usable_size((void *)it) + sizeof(size_t); }
