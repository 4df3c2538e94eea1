/* crc64.c - see crc64.h. A byte at a time from one table: DUMP payloads are
 * checked once each, so this is not on a hot path. */
#include "lib/crc64.h"

#include <pthread.h>

#define POLY 0x95AC9329AC4BC9B5ULL   /* 0xad93d23594c935a9, reflected */

static uint64_t table[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    for (uint64_t i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
}

uint64_t crc64(uint64_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    pthread_once(&once, init);
    while (n--) crc = table[(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return crc;
}
