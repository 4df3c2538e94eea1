/* hash.h - SipHash-1-3, a keyed hash: with a random per-process key nobody
 * can choose keys that collide on purpose and flood one table bucket. */
#ifndef KASI_HASH_H
#define KASI_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_siphash13(const void *data, size_t len, const uint64_t key[2]);

#endif
