/* hll.h - HyperLogLog in Redis's own byte layout, as pure functions.
 *
 * A HyperLogLog is a string: a 16-byte header ("HYLL", an encoding byte,
 * three unused bytes, then the cached cardinality as 8 little-endian bytes
 * whose top bit set means "not valid") and 16384 registers, either dense
 * (6 bits each, the low bits first, 12288 bytes) or sparse, as opcodes:
 *   ZERO  00xxxxxx            xxxxxx+1 zero registers (1..64)
 *   XZERO 01xxxxxx yyyyyyyy   14-bit length + 1 zero registers (1..16384)
 *   VAL   1vvvvvxx            xx+1 registers (1..4) holding vvvvv+1 (1..32)
 * An element's register is the low 14 bits of its MurmurHash64A (seed
 * 0xadc83b19); its value is one more than the number of zero bits above
 * them before the first 1 (at most 51). The count is Ertl's improved
 * estimator over the histogram of register values, as Redis 7 computes it,
 * so the same elements give Redis's numbers byte for byte.
 *
 * A sparse string may be corrupt (a client can SET any bytes): every walk
 * over opcodes stops at the string's end, reading a missing second byte of
 * an XZERO as 0 (what Redis finds there, the string's terminator), and
 * reports a run that does not add up to 16384 registers. */
#ifndef KASI_HLL_H
#define KASI_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_P 14
#define HLL_REGISTERS (1u << HLL_P)
#define HLL_Q (64 - HLL_P)
#define HLL_HDR 16
#define HLL_DENSE_SIZE (HLL_HDR + (HLL_REGISTERS * 6 + 7) / 8)
#define HLL_DENSE 0
#define HLL_SPARSE 1
#define HLL_SPARSE_VAL_MAX 32
#define HLL_EMPTY_LEN (HLL_HDR + 2)   /* a new HLL: one XZERO of 16384 */

/* Redis's MurmurHash64A (little-endian words). */
uint64_t hll_murmur64a(const void *key, size_t len, uint64_t seed);
/* An element's register (*index) and the value it offers (1..51). */
unsigned hll_pattern(const void *ele, size_t len, uint32_t *index);

/* Dense register i of regs (the 12288 bytes after the header). */
static inline unsigned hll_dense_get(const unsigned char *regs, uint32_t i)
{
    uint32_t byte = i * 6 / 8, fb = i * 6 & 7;
    unsigned b1 = byte + 1 < HLL_REGISTERS * 6 / 8 ? regs[byte + 1] : 0;
    return ((regs[byte] >> fb) | (b1 << (8 - fb))) & 63;
}
void hll_dense_set(unsigned char *regs, uint32_t i, unsigned v);

/* Whether p[0..len) is a HyperLogLog's string: the magic, an encoding of 0
 * or 1 and, dense, exactly HLL_DENSE_SIZE bytes (Redis's isHLLObject). */
int hll_valid(const unsigned char *p, size_t len);
/* The bytes of a new, empty HLL (sparse, cached cardinality 0). */
void hll_empty(unsigned char out[HLL_EMPTY_LEN]);
/* The cached cardinality, or -1 when it is marked invalid. */
int64_t hll_cached(const unsigned char *p);
static inline void hll_invalidate(unsigned char *p) { p[15] |= 0x80; }
void hll_set_cached(unsigned char *p, uint64_t card);

/* A HyperLogLog being changed: len bytes at p, with room for cap (which
 * always leaves a zero byte after the last one, as Redis's strings do). */
typedef struct hll_buf {
    unsigned char *p;
    size_t len, cap;
} hll_buf;
/* Copy n bytes into a new buffer (free h->p). */
void hll_buf_init(hll_buf *h, const unsigned char *p, size_t n);

/* Raise register `index` to `count` if it is lower. Sparse, as Redis's
 * hllSparseSet: rewrites the opcode in place, merges equal neighbours, and
 * converts to dense when count exceeds 32 or the string would pass
 * max_bytes; it then marks the cached count invalid (dense: the caller
 * does). Returns 1 when the register changed, 0 when not, -1 when the
 * sparse form is corrupt (h may hold earlier changes). */
int hll_add(hll_buf *h, uint32_t index, unsigned count, size_t max_bytes);
/* Convert a sparse h to dense (the header kept, encoding 0); a dense one
 * is left as it is. Returns 0, or -1 (h unchanged) when corrupt. */
int hll_to_dense(hll_buf *h);

/* max[i] = MAX(max[i], register i) over the HLL at p (already hll_valid).
 * Returns 0, or -1 when its sparse form is corrupt. */
int hll_merge(unsigned char max[HLL_REGISTERS], const unsigned char *p, size_t len);
/* Histograms of register values (histo[64], zeroed by the caller): of a
 * valid HLL (-1 when its sparse form is corrupt), or of raw registers. */
int hll_histo(const unsigned char *p, size_t len, int histo[64]);
void hll_raw_histo(const unsigned char regs[HLL_REGISTERS], int histo[64]);
/* Dense registers (12288 bytes) holding raw[i] (each below 64). */
void hll_pack(unsigned char *regs, const unsigned char raw[HLL_REGISTERS]);
/* The cardinality estimate for a histogram (Redis 7's hllCount). */
uint64_t hll_estimate(const int histo[64]);

/* Walk a sparse form: calls fn(arg, op, value, runlen) for each opcode
 * (op 'z' ZERO, 'Z' XZERO, 'v' VAL, value 0 for the zero runs), as PFDEBUG
 * DECODE prints them. */
void hll_sparse_walk(const unsigned char *p, size_t len,
                     void (*fn)(void *arg, char op, unsigned value, unsigned runlen), void *arg);

#endif
