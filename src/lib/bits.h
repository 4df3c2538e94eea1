/* bits.h - bitmaps over byte arrays, in Redis's bit order: bit 0 is the most
 * significant bit of byte 0. Pure functions, no allocation: counting, finding
 * the first set or clear bit, and reading and writing the bit fields of
 * BITFIELD with its overflow rules (WRAP, SAT, FAIL). */
#ifndef KASI_BITS_H
#define KASI_BITS_H

#include <stddef.h>
#include <stdint.h>

/* The number of set bits in p[0..n). */
uint64_t bits_count(const unsigned char *p, size_t n);

/* The position of the first bit equal to bit (0 or 1) in p[0..n): -1 when
 * looking for a 1 that is not there, n * 8 (the first bit past the end, as
 * if the bytes went on with zeros) when looking for a 0 that is not. */
long long bits_pos(const unsigned char *p, size_t n, int bit);

/* The field of `bits` bits (1..64) starting at bit `off` of p, which holds
 * all of it: unsigned, or sign-extended from its top bit. */
uint64_t bits_get(const unsigned char *p, uint64_t off, unsigned bits);
int64_t bits_get_signed(const unsigned char *p, uint64_t off, unsigned bits);
/* Write the low `bits` bits of v there. */
void bits_set(unsigned char *p, uint64_t off, unsigned bits, uint64_t v);

/* BITFIELD's OVERFLOW modes. */
enum { BITS_WRAP, BITS_SAT, BITS_FAIL };

/* Whether value + incr leaves the range of a field of `bits` bits
 * (unsigned: up to 63, signed: up to 64): 1 above it, -1 below it, 0 not
 * at all. When it does and the mode is WRAP or SAT, *limit is what the
 * field then holds (the wrapped sum, or the bound). Redis's
 * check{Unsigned,Signed}BitfieldOverflow. */
int bits_overflow_u(uint64_t value, int64_t incr, unsigned bits, int mode, uint64_t *limit);
int bits_overflow_s(int64_t value, int64_t incr, unsigned bits, int mode, int64_t *limit);

#endif
