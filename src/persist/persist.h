/* persist.h - when and how the data reaches the disk: loading at start-up,
 * the save points, SAVE/BGSAVE/BGREWRITEAOF, the AOF's life, the final save
 * at shutdown, INFO persistence, and refusing writes (MISCONF) while the
 * disk fails. The mechanisms are snapshot.c (point-in-time snapshots) and
 * aof.c (the append-only file); this file decides when to use them. One
 * background job (a snapshot or an AOF rewrite) runs at a time, in its own
 * thread. */
#ifndef KASI_PERSIST_H
#define KASI_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

typedef struct server server;
typedef struct persist persist;
typedef struct worker worker;

/* Load the data (the AOF with appendonly, else the snapshot) and start the
 * AOF. Returns 0, or -1 with a message in err: the server must not start. */
int persist_init(server *srv, char *err, size_t errlen);
/* Periodic work (worker 0, hz times a second): save points, automatic AOF
 * rewrites, finished jobs. */
void persist_cron(worker *w);
/* At exit, with no other command running: wait for the job, save unless
 * nosave (mode -1) or saving is off (mode 0 with save ""; mode 1 saves
 * anyway), then stop the AOF. Returns 0, or -1 when the final snapshot
 * failed; the AOF is then left running, unless mode is 2 (exit anyway). */
int persist_shutdown(server *srv, worker *w, int mode);
void persist_free(server *srv);

/* Commands, called by worker w (its gate held; NULL when no worker runs).
 * Each returns 0 with a status reply, or -1 with an error text. */
int persist_save(server *srv, worker *w, char *msg, size_t len);
int persist_bgsave(server *srv, worker *w, int schedule, char *msg, size_t len);
int persist_bgrewriteaof(server *srv, worker *w, char *msg, size_t len);
long long persist_lastsave(server *srv);
/* CONFIG SET appendonly took effect: start or stop the AOF. */
int persist_set_appendonly(server *srv, worker *w, int on, char *msg, size_t len);

/* Why writes are refused now (a -MISCONF error text), or NULL. */
const char *persist_write_denied(server *srv);
/* appendfsync always: make this thread's logged writes durable before
 * their replies go out. Returns 0, or -1 when that failed. */
int persist_commit(server *srv, uint64_t lsn);
uint64_t persist_thread_lsn(void);

void persist_info(server *srv, buf *out);

#endif
