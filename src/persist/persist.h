/* persist.h - when and how the data reaches the disk: loading at start-up,
 * the save points, SAVE/BGSAVE/BGREWRITEAOF, the AOF's life, the final save
 * at shutdown, INFO persistence, and refusing writes (MISCONF) while the
 * disk fails. The mechanisms are snapshot.c (point-in-time snapshots) and
 * aof.c (the append-only file); this file decides when to use them. One
 * background job (a snapshot or an AOF rewrite) runs at a time, in its own
 * thread. */
#ifndef KASI_PERSIST_H
#define KASI_PERSIST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

typedef struct persist persist;
typedef struct keyspace keyspace;
typedef struct config config;
typedef struct gates gates;

/* Load the data (the AOF with appendonly, else the snapshot) into ks and
 * start the AOF; cfg holds the directives, g the workers' gates, and
 * *stopping turns nonzero once the server stops (no job starts then).
 * Returns the persistence, or NULL with a message in err: the server must
 * not start. */
persist *persist_init(keyspace *ks, config *cfg, gates *g, const atomic_int *stopping,
                      char *err, size_t errlen);
/* Periodic work (one worker, `self`, hz times a second; its gate not held):
 * save points, automatic AOF rewrites, finished jobs. A job waits while
 * *busy (a script runs long, holding every gate). */
void persist_cron(persist *p, int self, const atomic_int *busy);
/* At exit, with no other command running: wait for the job, save unless
 * nosave (mode -1) or saving is off (mode 0 with save ""; mode 1 saves
 * anyway), then stop the AOF. Returns 0, or -1 when the final snapshot
 * failed; the AOF is then left running, unless mode is 2 (exit anyway). */
int persist_shutdown(persist *p, int self, int mode);
/* Free it and set *p to NULL. */
void persist_free(persist **p);

/* Commands, called by worker self (its gate held; -1 when no worker runs).
 * Each returns 0 with a status reply, or -1 with an error text. */
int persist_save(persist *p, int self, char *msg, size_t len);
int persist_bgsave(persist *p, int self, int schedule, char *msg, size_t len);
int persist_bgrewriteaof(persist *p, int self, char *msg, size_t len);
long long persist_lastsave(persist *p);
/* CONFIG SET appendonly took effect: start or stop the AOF. */
int persist_set_appendonly(persist *p, int self, int on, char *msg, size_t len);

/* Why writes are refused now (a -MISCONF error text), or NULL. */
const char *persist_write_denied(persist *p);
/* A script runs (on) or has ended (off): its writes reach the AOF's file
 * together (aof_hold). In the exclusive section. */
void persist_hold(persist *p, int on);
/* appendfsync always: make this thread's logged writes durable before
 * their replies go out. Returns 0, or -1 when that failed. */
int persist_commit(persist *p, uint64_t lsn);
uint64_t persist_thread_lsn(void);

void persist_info(persist *p, buf *out);
/* The used memory over the pause that took the last background job's
 * instant, in GB/s: what LATENCY DOCTOR calls the fork rate (0: none yet). */
double persist_fork_rate(persist *p);

/* The state INFO persistence shows, for a reader that wants numbers (the
 * metrics endpoint). */
typedef struct persist_status {
    unsigned long long changes_since_save, saves, rewrites, aof_size;
    long long last_save_time;         /* Unix seconds of the last good snapshot */
    int bgsave_in_progress, last_bgsave_ok;
    int aof_enabled, rewrite_in_progress, last_rewrite_ok, aof_last_write_ok;
} persist_status;
void persist_get_status(persist *p, persist_status *st);

#endif
