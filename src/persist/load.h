/* load.h - applying persisted records to the keyspace: loading a snapshot
 * and replaying the AOF. Records are applied through the keyspace's own
 * write functions; keys whose absolute expiry has passed are dropped. */
#ifndef KASI_LOAD_H
#define KASI_LOAD_H

#include <stdint.h>

#include "store/keyspace.h"
#include "persist/record.h"

typedef struct loader {
    keyspace *ks;
    domain *d;            /* the last record's domain (held) */
    int64_t now;
    uint64_t applied, expired, puts;
    int saw_end;          /* an END record was read */
    int bad_kind;         /* a value of an unknown kind, or not valid for its kind */
    uint64_t end_count;
} loader;

void loader_init(loader *l, keyspace *ks);
/* A loader for the files of an AOF: time stands still while they are
 * replayed (a key whose expiry has passed is kept, so the writes logged
 * while it lived apply to it, as they did), and load_sweep_expired then
 * drops what has expired. */
void loader_init_frozen(loader *l, keyspace *ks);
/* Drop every key whose expiry has passed, after a frozen load. */
void load_sweep_expired(keyspace *ks);
/* Apply one record (a rec_read_file callback: opaque is the loader). */
int loader_apply(const rec *r, void *opaque);
void loader_done(loader *l);
/* Records dropped by every loader so far because their key had expired. */
uint64_t load_expired_keys(void);

/* How a CMD record (a collection write) is replayed: run the command in
 * domain d, returning 0, or -1 when it cannot be (the file is then refused).
 * The commands live above persistence, so the server installs this. */
typedef int load_replay_fn(void *ctx, domain *d, int argc, const slice *argv, int64_t now);
void load_set_replay(load_replay_fn *fn, void *ctx);

/* Load a snapshot file; returns 0, or -1 with a message in err. A missing
 * file is not an error when missing_ok (then *found is 0). */
/* The base file of an AOF: a snapshot, loaded frozen (see loader_init_frozen). */
int load_aof_base(keyspace *ks, const char *path, char *err, size_t errlen);
int load_snapshot(keyspace *ks, const char *path, int missing_ok, int *found, uint64_t *keys,
                  char *err, size_t errlen);

#endif
