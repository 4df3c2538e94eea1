/* snapshot.h - point-in-time snapshots without fork.
 *
 * A snapshot is the keyspace as it was at one instant, written by a thread
 * while clients keep reading and writing. It is a point-in-time read of the
 * store (store/pit.h): the store hands it every item of the instant once,
 * either as the walk reaches it or, copy-on-write, just before a writer
 * changes or drops it. What writers hand over waits in a queue per shard,
 * so writers share no lock; memory grows only by what writers saved and the
 * thread has not written yet. Large values are not copied: the thread holds
 * a reference to their segment and writes from it.
 *
 * The file: records (record.h) HEADER, PUT..., END, written to a temporary
 * file that is fsynced, renamed over the target and whose directory is
 * then fsynced, so a crash never leaves a partial snapshot in place. */
#ifndef KASI_SNAPSHOT_H
#define KASI_SNAPSHOT_H

#include <stdint.h>

#include "store/keyspace.h"

typedef struct snapshot snapshot;

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
/* What snapshots hold besides the keys (FUNCTION's libraries): records the
 * layer above writes at each snapshot's instant, replayed when loaded
 * (REC_CMD). Set once at start-up. */
void snapshot_set_extras(void (*extras)(buf *records));
/* Write it out (in any thread, for a while) and free it. Returns 0, or -1
 * with a message in err (the target file is then left untouched). */
int snapshot_finish(snapshot *sn, snapshot_result *res, char *err, size_t errlen);


#endif
