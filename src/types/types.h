/* types.h - the value kinds (one file each), their registration, and the
 * thresholds at which a small collection's compact encoding gives way to a
 * big one. */
#ifndef KASI_TYPES_H
#define KASI_TYPES_H

#include "store/kind.h"

/* Register every kind's operations with the store (once, at start-up). */
void types_init(void);

/* The encoding thresholds, as Redis's directives name them (the server
 * keeps them in step with the configuration; CONFIG SET may change them
 * while commands run, so they are read with types_limit). */
typedef struct types_limits {
    long long hash_entries, hash_value;   /* hash-max-listpack-entries, -value */
    long long list_size;                  /* list-max-listpack-size */
    long long set_ints;                   /* set-max-intset-entries */
    long long zset_entries, zset_value;   /* zset-max-listpack-entries, -value */
} types_limits;
extern types_limits types_lim;

static inline long long types_limit(const long long *f)
{
    return __atomic_load_n(f, __ATOMIC_RELAXED);
}
static inline void types_set_limit(long long *f, long long v)
{
    __atomic_store_n(f, v, __ATOMIC_RELAXED);
}

/* The kinds' tables (each kind's file). */
extern const kind_ops string_kind_ops, hash_kind_ops, zset_kind_ops;
extern const kind_ops set_kind_ops;
extern const kind_ops list_kind_ops;

#endif
