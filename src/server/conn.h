/* conn.h - a client connection and its states.
 *
 * States (flags):
 *  - normal: input is read, parsed and executed; replies accumulate in
 *    `out` and are written before the worker sleeps again;
 *  - CONN_PAUSED: unsent output passed the soft limit, so input is left
 *    unread until the client catches up (a client that sends but never
 *    reads is disconnected at the hard client-output-buffer-limit);
 *  - CONN_CLOSING: after QUIT or a protocol error, no more input is
 *    processed; the connection closes once its output is written;
 *  - CONN_DEAD: closed, waiting to be freed at the end of the loop turn.
 * A connection handles at most CONN_BATCH commands, or CONN_SLICE_US of
 * work, per wakeup, so one busy client cannot starve the others (a
 * pipeline of big MSETs is cut by time, not by count). */
#ifndef KASI_CONN_H
#define KASI_CONN_H

#include <stdatomic.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/event.h"
#include "store/keyspace.h"
#include "proto/resp.h"
#include "server/server.h"

#define CONN_PAUSED 0x01u
#define CONN_CLOSING 0x02u
#define CONN_DEAD 0x04u
#define CONN_AUTHED 0x08u
#define CONN_MULTI 0x10u
#define CONN_EXECABORT 0x20u   /* a command queued in MULTI was rejected */
#define CONN_PENDING 0x40u     /* on the worker's pending list */
#define CONN_LOCAL 0x80u       /* from 127.0.0.1, ::1 or a unix socket */

#define CONN_BATCH 512
#define CONN_SLICE_US 200
#define CONN_OUT_SOFT (1u << 20)

typedef struct karg {
    const char *p;
    size_t n;
} karg;

/* A value sent straight from where it is stored (no copy into `out`): the
 * slice goes out after `at` bytes of the out stream, and release(owner)
 * is called once it is written or the connection goes away. */
typedef struct zc_slice {
    uint64_t at;
    const char *p;
    size_t n, sent;
    void (*release)(void *owner);
    void *owner;
} zc_slice;

#define CONN_ZC_MIN (2 * 1024)   /* values this big are sent without a copy */

typedef struct queued_cmd {
    const struct cmd_def *def;
    int argc;
    karg *argv;   /* argv and the bytes are one allocation */
} queued_cmd;

struct conn {
    ev_handle h;
    worker *w;
    uint64_t id;
    unsigned flags;
    buf in, out;
    uint64_t out_done;       /* bytes of out's stream already written */
    zc_slice *zc;            /* queued zero-copy slices, in stream order */
    int zc_head, zc_len, zc_cap;
    size_t zc_bytes;         /* their unsent bytes */
    resp_parser p;
    resp_arg *pargv;
    karg *argv;
    int argv_cap;
    domain *db;              /* selected domain; referenced */
    char *name;              /* CLIENT SETNAME */
    int64_t created_ms, last_ms;
    char peer[64];
    queued_cmd *mq;          /* MULTI queue */
    int mq_len, mq_cap;
    ks_watcher watch;        /* WATCH */
    uint64_t log_lsn;        /* AOF position after its last command's records */
    conn *prev, *next;       /* worker->conns, or worker->dead once closed (next only) */
    conn *prev_pending, *next_pending;   /* worker->pending, while CONN_PENDING */
};

/* Take ownership of an accepted fd. */
void conn_accept(worker *w, int fd);
/* Close now (the memory is freed at the end of the loop turn). */
void conn_close(conn *c);
/* Flush pending output and run buffered input of every pending connection. */
void conn_flush_pending(worker *w);
/* Free connections closed during this loop turn. */
void conn_reap(worker *w);
/* Switch the selected domain (takes over the reference). */
void conn_set_domain(conn *c, domain *d);
/* ks_hash of a key among the arguments being run, from the lookahead's
 * hints when it has it. */
uint64_t conn_key_hash(conn *c, const char *key, size_t klen);
/* Bytes of reply not yet written, copied or not. */
static inline size_t conn_out_pending(const conn *c) { return buf_pending(&c->out) + c->zc_bytes; }
/* Queue n bytes at p as the next reply bytes without copying them. */
void conn_add_slice(conn *c, const char *p, size_t n, void (*release)(void *), void *owner);
/* Drop the MULTI queue and state. */
void conn_discard_multi(conn *c);
/* Close connections idle for more than timeout_s. */
void conn_check_timeouts(worker *w, long long timeout_s, int64_t now_ms);

#endif
