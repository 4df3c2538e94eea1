/* version.h - Kasi's version and the Redis version whose behaviour it matches. */
#ifndef KASI_VERSION_H
#define KASI_VERSION_H
#define KASI_VERSION "0.1.0"
#define KASI_REDIS_VERSION "7.0.15"
#endif
