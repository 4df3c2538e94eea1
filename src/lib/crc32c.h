/* crc32c.h - CRC-32C (Castagnoli), the checksum of every persisted record.
 * Uses the SSE4.2 instruction when the CPU has it, else tables. */
#ifndef KASI_CRC32C_H
#define KASI_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
