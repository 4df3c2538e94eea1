/* sha1.h - SHA-1, as scripts are named by it (EVALSHA, redis.sha1hex).
 * Not for security: Redis uses it to name scripts, and so does Kasi. */
#ifndef KASI_LIB_SHA1_H
#define KASI_LIB_SHA1_H

#include <stddef.h>
#include <stdint.h>

/* The digest of n bytes as 40 lower-case hex digits and a NUL. */
void sha1_hex(const void *p, size_t n, char hex[41]);

#endif
