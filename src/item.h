/* item.h - the stored key/value pair: one allocation holding an 8-byte
 * header, the expiry time (only when the item has one), the key and the
 * value. A 16-byte key with a 32-byte value takes 56 bytes, which glibc
 * serves from a 64-byte chunk. Items are immutable once in the table except
 * for their value bytes; changing the length or the expiry makes a new one. */
#ifndef KASI_ITEM_H
#define KASI_ITEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ITEM_HAS_TTL 0x80000000u
#define ITEM_KLEN_MASK 0x3fffffffu
#define ITEM_KEY_MAX ITEM_KLEN_MASK

typedef struct item {
    uint32_t vlen;
    uint32_t kmeta;   /* key length | ITEM_HAS_TTL */
    char data[];      /* [int64 expire_ms] key value */
} item;

static inline int item_has_ttl(const item *it) { return (it->kmeta & ITEM_HAS_TTL) != 0; }
static inline size_t item_klen(const item *it) { return it->kmeta & ITEM_KLEN_MASK; }
static inline size_t item_vlen(const item *it) { return it->vlen; }
static inline const char *item_key(const item *it)
{
    return it->data + (item_has_ttl(it) ? 8 : 0);
}
static inline char *item_val(item *it) { return (char *)item_key(it) + item_klen(it); }
static inline const char *item_cval(const item *it) { return item_key(it) + item_klen(it); }

/* Absolute expiry in ms, or -1 when the item has none. */
static inline int64_t item_expire(const item *it)
{
    int64_t e;
    if (!item_has_ttl(it)) return -1;
    memcpy(&e, it->data, 8);
    return e;
}

static inline size_t item_size(size_t klen, size_t vlen, int ttl)
{
    return sizeof(item) + (ttl ? 8 : 0) + klen + vlen;
}

/* Allocate an item; val may be NULL to leave the value bytes uninitialised.
 * expire_ms < 0 means no expiry. */
item *item_new(const char *key, size_t klen, const char *val, size_t vlen, int64_t expire_ms);
/* A copy of it with a new expiry (<0: none); it is not freed. */
item *item_with_expire(const item *it, int64_t expire_ms);
/* A copy of it with the same key and expiry and a value of vlen bytes whose
 * first min(vlen, old vlen) bytes are copied; it is not freed. */
item *item_resize(const item *it, size_t vlen);
void item_free(item *it);
/* Bytes the allocator really spends on it. */
size_t item_mem(const item *it);

#endif
