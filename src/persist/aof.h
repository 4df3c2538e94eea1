/* aof.h - the append-only file: every write's effect, logged.
 *
 * Writers append records (record.h) to one in-memory log while they hold
 * the key's shard lock, so the log's order is the order in which each key
 * changed. A record's position in the log (its LSN, bytes logged before
 * it) is one number that only grows for the life of the process: a new
 * AOF starts where the previous one ended. Before a worker sends the
 * replies of a loop turn, it calls aof_commit() for the position after
 * its last record: the log is written to the kernel up to there (so a
 * process crash loses no acknowledged write), and with appendfsync always
 * also fsynced (the first worker to get there does it for every worker:
 * group commit). A writer thread writes what is left about every 20 ms
 * and, with everysec, fsyncs once a second, off the request path.
 *
 * On disk (in dir/appenddirname), as in Redis 7: a base file (a snapshot),
 * one or more incremental log files, and a manifest naming them in order.
 * A rewrite cuts the log at a snapshot's instant: records after the cut go
 * to a new incremental file, the snapshot becomes the new base, and the
 * manifest then names just those two; the old files are deleted. */
#ifndef KASI_AOF_H
#define KASI_AOF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "store/item.h"

typedef struct keyspace keyspace;
typedef struct aof aof;


/* An AOF in dir/dirname with files named after filename; policy points at
 * the appendfsync directive (read atomically). Its first record gets LSN
 * start_lsn. Touches no file. */
aof *aof_create(const char *dir, const char *dirname, const char *filename,
                const long long *policy, uint64_t start_lsn);
void aof_destroy(aof *a);

/* Load the files the manifest names into ks. *found is 0 when there is no
 * manifest. A torn tail of the last file is cut off, with a warning.
 * Returns 0, or -1 with a message in err. */
int aof_load(aof *a, keyspace *ks, int *found, char *err, size_t errlen);
/* The functions that start or stop logging, and aof_rewrite_begin, must be
 * called while no command runs anywhere (the server's exclusive section,
 * or before the workers start), so the log starts or is cut at an instant
 * between commands. */

/* Start logging ks's writes (after aof_load): creates the files with a
 * rewrite when there are none, starts the writer thread. */
int aof_start(aof *a, keyspace *ks, char *err, size_t errlen);
/* Stop logging (ks no longer logs to it), write and fsync what is logged. */
void aof_stop(aof *a, keyspace *ks);

/* A rewrite: a snapshot of ks becomes the new base. begin takes the
 * instant (and starts logging if it was not); finish writes it out, in any
 * thread, for a while. */
typedef struct aof_rewrite aof_rewrite;
aof_rewrite *aof_rewrite_begin(aof *a, keyspace *ks, char *err, size_t errlen);
int aof_rewrite_finish(aof_rewrite *rw, char *err, size_t errlen);
/* Start an AOF while running (CONFIG SET appendonly yes): the files a
 * manifest names are replaced by this rewrite; finish it as above. */
aof_rewrite *aof_enable(aof *a, keyspace *ks, char *err, size_t errlen);

/* The LSN just after the calling thread's last record (in any AOF). */
uint64_t aof_thread_lsn(void);
/* Write the log to the kernel up to lsn, and with durable also fsync it.
 * Returns 0, or -1 when that failed (what was not written stays queued
 * and the writer thread retries it). */
int aof_commit(aof *a, uint64_t lsn, int durable);
/* Whether the appendfsync policy is always. */
int aof_is_always(aof *a);
/* A script's writes are all in the file or none are, as Redis's MULTI/EXEC
 * around a script's effects make them: while held (on), what is logged
 * from now stays in memory, so a crash or SHUTDOWN NOSAVE in the middle
 * loses it whole; let go (off), it is written as any other. Called in the
 * exclusive section, where nothing else logs. */
void aof_hold(aof *a, int on);
/* The LSN the next record would get: where a successor AOF starts. */
uint64_t aof_end_lsn(aof *a);

typedef struct aof_status {
    int running;
    int write_err;        /* errno of the failing write or fsync, 0 when fine */
    uint64_t current_size, base_size, pending;
    uint64_t fsync_lag_ms;
} aof_status;
void aof_get_status(aof *a, aof_status *st);
/* errno of the failing write or fsync, 0 when writing works. */
int aof_write_error(aof *a);

/* Check one AOF or snapshot file (--check-aof): print what is wrong and,
 * with fix, truncate a log file at its first bad record. Returns the exit
 * status. */
int aof_check_file(const char *path, int fix);

#endif
