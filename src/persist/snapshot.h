/* snapshot.h - point-in-time snapshots without fork.
 *
 * A snapshot is the keyspace as it was at one instant, written by a thread
 * while clients keep reading and writing. At the instant (while no command
 * runs anywhere) the keyspace's snapshot mark flips; every item
 * then carries the old mark, and items created afterwards the new one.
 * The snapshot thread walks each shard's table a few buckets at a time and
 * saves the items still carrying the old mark, flipping it. A writer about
 * to change or drop an item that still carries the old mark saves it first
 * (ks__pre_change), so the snapshot sees every item exactly once and as it
 * was at the instant. Memory grows only by what writers saved and the
 * thread has not written yet, and no lock is held for more than a few
 * hundred items. Large values are not copied: the thread holds a
 * reference to their segment and writes from it.
 *
 * The file: records (record.h) HEADER, PUT..., END, written to a temporary
 * file that is fsynced, renamed over the target and whose directory is
 * then fsynced, so a crash never leaves a partial snapshot in place. */
#ifndef KASI_SNAPSHOT_H
#define KASI_SNAPSHOT_H

#include <stdint.h>

#include "store/keyspace.h"

typedef struct snapshot_result {
    uint64_t keys;        /* PUT records written */
    uint64_t bytes;       /* file size */
    int64_t start_ms;     /* the snapshot's instant */
    int64_t took_us;
} snapshot_result;

/* Take the snapshot's instant: call only while no command runs anywhere
 * (the server's exclusive section, or before the workers start). at_start
 * (if not NULL) runs at that instant. Returns NULL with a message in err
 * when the temporary file can't be created. */
snapshot *snapshot_begin(keyspace *ks, const char *path,
                         void (*at_start)(keyspace *ks, void *arg), void *arg, char *err,
                         size_t errlen);
/* Write it out (in any thread, for a while) and free it. Returns 0, or -1
 * with a message in err (the target file is then left untouched). */
int snapshot_finish(snapshot *sn, snapshot_result *res, char *err, size_t errlen);

/* For the keyspace (called with shard s locked): save the current version
 * of it (in s), or of every item of s, if the snapshot still needs it. What
 * is saved waits in the shard, so writers share no lock. */
void snapshot_save(snapshot *sn, shard *s, domain *d, item *it);
void snapshot_save_shard(snapshot *sn, domain *d, shard *s);

#endif
