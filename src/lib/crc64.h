/* crc64.h - CRC-64 with the Jones polynomial (reflected, init 0, no final
 * xor), the checksum Redis puts at the end of a DUMP payload; Kasi's DUMP
 * uses it too. */
#ifndef KASI_CRC64_H
#define KASI_CRC64_H

#include <stddef.h>
#include <stdint.h>

uint64_t crc64(uint64_t crc, const void *p, size_t n);

#endif
