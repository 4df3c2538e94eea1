/* hll.c - HyperLogLog arithmetic over Redis's HYLL layout (see hll.h): the
 * hash, dense registers, the sparse opcodes and their in-place rewrite,
 * conversion, merging and the estimator. The sparse rewrite reproduces
 * Redis's choices exactly (how an opcode splits, which neighbours merge),
 * since the bytes it leaves are what GET returns. */
#include "lib/hll.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define SEED 0xadc83b19ULL
#define ZERO_MAX 64
#define XZERO_MAX 16384
#define VAL_MAX_LEN 4

uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    /* Redis passes the length as an int */
    uint64_t h = seed ^ ((uint64_t)(int64_t)(int)len * m);
    const unsigned char *data = key, *end = data + (len - (len & 7));
    while (data != end) {
        uint64_t k;
        memcpy(&k, data, 8);   /* little-endian, as on the machines Redis runs on */
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
        data += 8;
    }
    switch (len & 7) {
    case 7: h ^= (uint64_t)data[6] << 48; /* fall through */
    case 6: h ^= (uint64_t)data[5] << 40; /* fall through */
    case 5: h ^= (uint64_t)data[4] << 32; /* fall through */
    case 4: h ^= (uint64_t)data[3] << 24; /* fall through */
    case 3: h ^= (uint64_t)data[2] << 16; /* fall through */
    case 2: h ^= (uint64_t)data[1] << 8;  /* fall through */
    case 1:
        h ^= (uint64_t)data[0];
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

unsigned hll_pattern(const void *ele, size_t len, uint32_t *index)
{
    uint64_t h = hll_murmur64a(ele, len, SEED);
    *index = (uint32_t)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= 1ULL << HLL_Q;   /* the count stops at Q + 1 */
    return (unsigned)__builtin_ctzll(h) + 1;
}

void hll_dense_set(unsigned char *regs, uint32_t i, unsigned v)
{
    uint32_t byte = i * 6 / 8, fb = i * 6 & 7;
    regs[byte] = (unsigned char)((regs[byte] & ~(63u << fb)) | (v << fb));
    if (byte + 1 < HLL_REGISTERS * 6 / 8)
        regs[byte + 1] = (unsigned char)((regs[byte + 1] & ~(63u >> (8 - fb))) | (v >> (8 - fb)));
}

int hll_valid(const unsigned char *p, size_t len)
{
    if (len < HLL_HDR || memcmp(p, "HYLL", 4) != 0 || p[4] > HLL_SPARSE) return 0;
    return p[4] != HLL_DENSE || len == HLL_DENSE_SIZE;
}

void hll_empty(unsigned char out[HLL_EMPTY_LEN])
{
    memset(out, 0, HLL_HDR);
    memcpy(out, "HYLL", 4);
    out[4] = HLL_SPARSE;
    out[HLL_HDR] = 0x40 | ((XZERO_MAX - 1) >> 8);
    out[HLL_HDR + 1] = (XZERO_MAX - 1) & 0xff;
}

int64_t hll_cached(const unsigned char *p)
{
    if (p[15] & 0x80) return -1;
    uint64_t c = 0;
    for (int i = 7; i >= 0; i--) c = c << 8 | p[8 + i];
    return (int64_t)c;
}

void hll_set_cached(unsigned char *p, uint64_t card)
{
    for (int i = 0; i < 8; i++) p[8 + i] = (unsigned char)(card >> (8 * i));
}

/* ---- sparse opcodes ---- */

static inline int is_zero(const unsigned char *p) { return (*p & 0xc0) == 0; }
static inline int is_xzero(const unsigned char *p) { return (*p & 0xc0) == 0x40; }
static inline int is_val(const unsigned char *p) { return (*p & 0x80) != 0; }
static inline unsigned zero_len(const unsigned char *p) { return (*p & 0x3f) + 1u; }
/* The second byte past the end reads as the terminator Redis has there. */
static inline unsigned xzero_len(const unsigned char *p, const unsigned char *end)
{
    return ((unsigned)(*p & 0x3f) << 8 | (p + 1 < end ? p[1] : 0)) + 1u;
}
static inline unsigned val_value(const unsigned char *p) { return ((*p >> 2) & 0x1f) + 1u; }
static inline unsigned val_len(const unsigned char *p) { return (*p & 3) + 1u; }
static inline unsigned char val_op(unsigned v, unsigned len)
{
    return (unsigned char)(0x80 | (v - 1) << 2 | (len - 1));
}
/* Write a run of `len` zeros at n as ZERO or XZERO; returns the bytes. */
static int put_zeros(unsigned char *n, unsigned len)
{
    if (len > ZERO_MAX) {
        n[0] = (unsigned char)(0x40 | (len - 1) >> 8);
        n[1] = (unsigned char)((len - 1) & 0xff);
        return 2;
    }
    n[0] = (unsigned char)(len - 1);
    return 1;
}

void hll_buf_init(hll_buf *h, const unsigned char *p, size_t n)
{
    h->cap = n + 8;
    h->p = xmalloc(h->cap);
    memcpy(h->p, p, n);
    memset(h->p + n, 0, h->cap - n);
    h->len = n;
}

static void buf_room(hll_buf *h, size_t more)
{
    if (h->len + more + 1 <= h->cap) return;
    size_t cap = (h->len + more + 1) * 2;
    h->p = xrealloc(h->p, cap);
    memset(h->p + h->cap, 0, cap - h->cap);
    h->cap = cap;
}

static void buf_setlen(hll_buf *h, size_t len)
{
    h->len = len;
    h->p[len] = 0;
}

int hll_to_dense(hll_buf *h)
{
    if (h->p[4] == HLL_DENSE) return 0;
    unsigned char *d = calloc(1, HLL_DENSE_SIZE + 1);
    if (!d) abort();
    const unsigned char *p = h->p + HLL_HDR, *end = h->p + h->len;
    uint32_t idx = 0;
    while (p < end) {
        unsigned run = is_zero(p) ? zero_len(p) : is_xzero(p) ? xzero_len(p, end) : val_len(p);
        if (run + idx > HLL_REGISTERS) break;   /* too many registers: corrupt */
        if (is_val(p))
            for (unsigned v = val_value(p); run; run--) hll_dense_set(d + HLL_HDR, idx++, v);
        else
            idx += run;
        p += is_xzero(p) ? 2 : 1;
    }
    if (p < end) idx = 0;
    if (idx != HLL_REGISTERS) {
        free(d);
        return -1;
    }
    memcpy(d, h->p, HLL_HDR);   /* the magic and the cached count */
    d[4] = HLL_DENSE;
    free(h->p);
    h->p = d;
    h->len = HLL_DENSE_SIZE;
    h->cap = HLL_DENSE_SIZE + 1;
    return 0;
}

static int dense_add(unsigned char *regs, uint32_t index, unsigned count)
{
    if (count <= hll_dense_get(regs, index)) return 0;
    hll_dense_set(regs, index, count);
    return 1;
}

/* Merge equal adjacent VALs in up to 5 opcodes from p, as Redis does after
 * a change. */
static void sparse_merge_near(hll_buf *h, unsigned char *p)
{
    unsigned char *end = h->p + h->len;
    int scan = 5;
    while (p < end && scan--) {
        if (is_xzero(p)) {
            p += 2;
            continue;
        }
        if (is_zero(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && is_val(p + 1) && val_value(p) == val_value(p + 1)) {
            unsigned len = val_len(p) + val_len(p + 1);
            if (len <= VAL_MAX_LEN) {
                p[1] = val_op(val_value(p), len);
                memmove(p, p + 1, (size_t)(end - p));   /* with the terminator */
                buf_setlen(h, h->len - 1);
                end--;
                continue;   /* it may merge with the next one too */
            }
        }
        p++;
    }
}

int hll_add(hll_buf *h, uint32_t index, unsigned count, size_t max_bytes)
{
    if (h->p[4] == HLL_DENSE) return dense_add(h->p + HLL_HDR, index, count);
    if (h->p[4] != HLL_SPARSE) return -1;
    if (count > HLL_SPARSE_VAL_MAX) goto promote;
    buf_room(h, 3);
    unsigned char *sparse = h->p + HLL_HDR, *p = sparse, *end = h->p + h->len, *prev = NULL, *next;
    uint32_t first = 0, span = 0;
    while (p < end) {
        size_t oplen = 1;
        if (is_zero(p)) {
            span = zero_len(p);
        } else if (is_val(p)) {
            span = val_len(p);
        } else {
            span = xzero_len(p, end);
            oplen = 2;
        }
        if (index <= first + span - 1) break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1;
    next = is_xzero(p) ? p + 2 : p + 1;
    if (next >= end) next = NULL;
    int xz = is_xzero(p), z = is_zero(p);
    uint32_t run = xz ? xzero_len(p, end) : z ? zero_len(p) : val_len(p);
    if (!z && !xz) {
        if (val_value(p) >= count) return 0;
        if (run == 1) {
            *p = val_op(count, 1);
            goto updated;
        }
    }
    if (z && run == 1) {
        *p = val_op(count, 1);
        goto updated;
    }
    /* split the opcode: [zeros or old values] VAL(count) [the same] */
    {
        unsigned char seq[5], *n = seq;
        uint32_t last = first + span - 1;
        if (z || xz) {
            if (index != first) n += put_zeros(n, index - first);
            *n++ = val_op(count, 1);
            if (index != last) n += put_zeros(n, last - index);
        } else {
            unsigned cur = val_value(p);
            if (index != first) *n++ = val_op(cur, index - first);
            *n++ = val_op(count, 1);
            if (index != last) *n++ = val_op(cur, last - index);
        }
        long seqlen = n - seq, oldlen = xz ? 2 : 1, delta = seqlen - oldlen;
        if (delta > 0 && h->len + (size_t)delta > max_bytes) goto promote;
        if (delta && next) memmove(next + delta, next, (size_t)(end - next));
        buf_setlen(h, (size_t)((long)h->len + delta));
        memcpy(p, seq, (size_t)seqlen);
    }
updated:
    sparse_merge_near(h, prev ? prev : sparse);
    hll_invalidate(h->p);
    return 1;
promote:
    if (hll_to_dense(h) < 0) return -1;
    return dense_add(h->p + HLL_HDR, index, count);
}

int hll_merge(unsigned char max[HLL_REGISTERS], const unsigned char *p, size_t len)
{
    if (p[4] == HLL_DENSE) {
        const unsigned char *r = p + HLL_HDR;
        /* four registers in every three bytes; written so that it vectorises */
        for (uint32_t j = 0, i = 0; j < HLL_REGISTERS * 6 / 8; j += 3, i += 4) {
            unsigned w = r[j] | (unsigned)r[j + 1] << 8 | (unsigned)r[j + 2] << 16;
            unsigned char v[4] = {(unsigned char)(w & 63), (unsigned char)((w >> 6) & 63),
                                  (unsigned char)((w >> 12) & 63), (unsigned char)(w >> 18)};
            for (int k = 0; k < 4; k++) max[i + k] = v[k] > max[i + k] ? v[k] : max[i + k];
        }
        return 0;
    }
    const unsigned char *end = p + len;
    uint32_t i = 0;
    p += HLL_HDR;
    /* Redis 7.0.15 (with the fix for CVE-2025-32023) refuses any run past
     * the last register */
    while (p < end) {
        unsigned run = is_zero(p) ? zero_len(p) : is_xzero(p) ? xzero_len(p, end) : val_len(p);
        if (run + i > HLL_REGISTERS) return -1;
        if (is_val(p)) {
            for (unsigned v = val_value(p); run; run--, i++)
                if (v > max[i]) max[i] = (unsigned char)v;
        } else {
            i += run;
        }
        p += is_xzero(p) ? 2 : 1;
    }
    return i == HLL_REGISTERS ? 0 : -1;
}

int hll_histo(const unsigned char *p, size_t len, int histo[64])
{
    if (p[4] == HLL_DENSE) {
        const unsigned char *r = p + HLL_HDR;
        /* four registers in every three bytes */
        for (uint32_t j = 0; j < HLL_REGISTERS * 6 / 8; j += 3) {
            unsigned w = r[j] | (unsigned)r[j + 1] << 8 | (unsigned)r[j + 2] << 16;
            histo[w & 63]++;
            histo[(w >> 6) & 63]++;
            histo[(w >> 12) & 63]++;
            histo[(w >> 18) & 63]++;
        }
        return 0;
    }
    const unsigned char *end = p + len;
    uint32_t idx = 0;
    p += HLL_HDR;
    /* Redis counts first and checks the total after: stopping once past
     * the last register answers the same, and idx cannot wrap */
    while (p < end) {
        if (is_zero(p)) {
            idx += zero_len(p);
            histo[0] += (int)zero_len(p);
            p++;
        } else if (is_xzero(p)) {
            unsigned run = xzero_len(p, end);
            idx += run;
            histo[0] += (int)run;
            p += 2;
        } else {
            idx += val_len(p);
            histo[val_value(p)] += (int)val_len(p);
            p++;
        }
        if (idx > HLL_REGISTERS) return -1;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

void hll_raw_histo(const unsigned char regs[HLL_REGISTERS], int histo[64])
{
    /* four partial histograms, so that increments of one bucket in a row do
     * not wait for each other */
    int part[4][64] = {{0}};
    for (uint32_t j = 0; j < HLL_REGISTERS; j += 4)
        for (int k = 0; k < 4; k++) part[k][regs[j + k] & 63]++;
    for (int v = 0; v < 64; v++) histo[v] += part[0][v] + part[1][v] + part[2][v] + part[3][v];
}

void hll_pack(unsigned char *regs, const unsigned char raw[HLL_REGISTERS])
{
    for (uint32_t j = 0, i = 0; j < HLL_REGISTERS * 6 / 8; j += 3, i += 4) {
        unsigned w = (raw[i] & 63u) | (raw[i + 1] & 63u) << 6 | (raw[i + 2] & 63u) << 12 |
                     (raw[i + 3] & 63u) << 18;
        regs[j] = (unsigned char)w;
        regs[j + 1] = (unsigned char)(w >> 8);
        regs[j + 2] = (unsigned char)(w >> 16);
    }
}

static double sigma(double x)
{
    if (x == 1.) return INFINITY;
    double zp, y = 1, z = x;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double tau(double x)
{
    if (x == 0. || x == 1.) return 0.;
    double zp, y = 1.0, z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zp != z);
    return z / 3;
}

uint64_t hll_estimate(const int histo[64])
{
    double m = HLL_REGISTERS;
    double z = m * tau((m - histo[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += histo[j];
        z *= 0.5;
    }
    z += m * sigma(histo[0] / m);
    return (uint64_t)llroundl(0.721347520444481703680 * m * m / z);
}

void hll_sparse_walk(const unsigned char *p, size_t len,
                     void (*fn)(void *arg, char op, unsigned value, unsigned runlen), void *arg)
{
    const unsigned char *end = p + len;
    p += HLL_HDR;
    while (p < end) {
        if (is_zero(p)) {
            fn(arg, 'z', 0, zero_len(p));
            p++;
        } else if (is_xzero(p)) {
            fn(arg, 'Z', 0, xzero_len(p, end));
            p += 2;
        } else {
            fn(arg, 'v', val_value(p), val_len(p));
            p++;
        }
    }
}
