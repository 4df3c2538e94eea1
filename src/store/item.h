/* item.h - the stored key/value pair: an 8-byte header, the expiry time
 * (only when the item has one), the key and the value, contiguous and
 * 8-byte aligned inside a store segment. A 16-byte key with a 32-byte value
 * takes 56 bytes. An item's footprint never changes in place: a new value
 * is written over the old one only when the footprint stays the same (or a
 * solo item's segment has room), and gaining or losing an expiry always
 * makes a new item. */
#ifndef KASI_ITEM_H
#define KASI_ITEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ITEM_HAS_TTL 0x80000000u
#define ITEM_DEAD 0x40000000u   /* deleted; its bytes await recycling */
#define ITEM_KLEN_MASK 0x3fffffffu
#define ITEM_KEY_MAX ITEM_KLEN_MASK

#define ITEM_SOLO 0x80000000u   /* (in vmeta) alone in a segment that may have room to grow */
#define ITEM_SNAP 0x40000000u   /* (in vmeta) snapshot mark: see pit.h */
#define ITEM_VLEN_MASK 0x3fffffffu   /* values are at most 512 MB */

/* Value kinds. A string is plain bytes and pays nothing for its kind; a
 * value of any other kind ("typed") starts with one byte, kind << 4 |
 * encoding, then the kind's own bytes (a compact encoding inline in the
 * segment, or a pointer to a structure outside it: see kind.h). Only a
 * string can be 2^29 bytes long (512 MB, the largest value), and that is
 * the only length with bit 29 set; so bit 29 with any lower bit set marks
 * a typed value, whose length (with its kind byte) is the lower 29 bits. */
enum item_kind { KIND_STRING, KIND_HASH, KIND_LIST, KIND_SET, KIND_ZSET, KIND_STREAM, KIND_MAX = 16 };
#define ITEM_TYPED 0x20000000u
#define ITEM_TYPED_LEN 0x1fffffffu

typedef struct item {
    uint32_t vmeta;   /* value length | ITEM_SOLO | ITEM_SNAP */
    uint32_t kmeta;   /* key length | ITEM_HAS_TTL | ITEM_DEAD */
    char data[];      /* [int64 expire_ms] key value */
} item;

static inline int item_has_ttl(const item *it) { return (it->kmeta & ITEM_HAS_TTL) != 0; }
static inline size_t item_klen(const item *it) { return it->kmeta & ITEM_KLEN_MASK; }
static inline int item_typed(const item *it) { return (it->vmeta & ITEM_VLEN_MASK) > ITEM_TYPED; }
/* Bytes of the value (for a typed one, with its kind byte). */
static inline size_t item_vlen(const item *it)
{
    uint32_t v = it->vmeta & ITEM_VLEN_MASK;
    return v > ITEM_TYPED ? v & ITEM_TYPED_LEN : v;
}
static inline int item_solo(const item *it) { return (it->vmeta & ITEM_SOLO) != 0; }
static inline unsigned item_snap(const item *it) { return (it->vmeta & ITEM_SNAP) != 0; }
static inline void item_set_snap(item *it, unsigned mark)
{
    it->vmeta = (it->vmeta & ~ITEM_SNAP) | (mark ? ITEM_SNAP : 0);
}
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

static inline int item_dead(const item *it) { return (it->kmeta & ITEM_DEAD) != 0; }

static inline unsigned item_kind(const item *it)
{
    return item_typed(it) ? (unsigned char)item_cval(it)[0] >> 4 : KIND_STRING;
}
static inline unsigned item_encoding(const item *it)
{
    return item_typed(it) ? (unsigned char)item_cval(it)[0] & 15u : 0;
}
/* A typed value's own bytes, after its kind byte, and their number. */
static inline char *item_payload(item *it) { return item_val(it) + 1; }
static inline size_t item_payload_len(const item *it) { return item_vlen(it) - 1; }

/* The value-length word of a value of this kind and encoding with n bytes
 * of its own (for a string, its length). */
static inline uint32_t item_vmeta_for(unsigned kind, size_t n)
{
    return kind == KIND_STRING ? (uint32_t)n : ITEM_TYPED | (uint32_t)(n + 1);
}

static inline size_t item_size(size_t klen, size_t vlen, int ttl)
{
    return sizeof(item) + (ttl ? 8 : 0) + klen + vlen;
}

/* Bytes the item occupies in its segment. */
static inline size_t item_footprint(const item *it)
{
    return (item_size(item_klen(it), item_vlen(it), item_has_ttl(it)) + 7) & ~(size_t)7;
}

/* Lay out a string item in mem (item_size bytes); val may be NULL to leave
 * the value uninitialised. expire_ms < 0 means no expiry. For another kind,
 * item_set_kind then gives it its kind byte. */
static inline item *item_init(void *mem, const char *key, size_t klen, const char *val,
                              size_t vlen, int64_t expire_ms)
{
    item *it = mem;
    it->vmeta = (uint32_t)vlen;
    it->kmeta = (uint32_t)klen | (expire_ms >= 0 ? ITEM_HAS_TTL : 0);
    if (expire_ms >= 0) memcpy(it->data, &expire_ms, 8);
    memcpy((char *)item_key(it), key, klen);
    if (val && vlen) memcpy(item_val(it), val, vlen);
    return it;
}

/* Make it (laid out with vlen = n + 1) a value of kind with n bytes of its own. */
static inline void item_set_kind(item *it, unsigned kind, unsigned enc, size_t n)
{
    it->vmeta = (it->vmeta & (ITEM_SOLO | ITEM_SNAP)) | item_vmeta_for(kind, n);
    if (kind != KIND_STRING) item_val(it)[0] = (char)(kind << 4 | enc);
}

#endif
