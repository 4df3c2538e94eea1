/* conn.h - a client connection: the socket, its buffers, its transport and
 * protocol, and the session (cmd/session.h) it carries.
 *
 * The transport moves bytes (plain sockets now, TLS later); the protocol
 * turns input into commands and runs them (RESP now, memcached later).
 * Commands see only the session and a reply sink that appends to `out` or
 * queues a zero-copy slice.
 *
 * States (flags):
 *  - normal: input is read, parsed and executed; replies accumulate in
 *    `out` and are written before the worker sleeps again;
 *  - CONN_PAUSED: unsent output passed the soft limit, so input is left
 *    unread until the client catches up (a client that sends but never
 *    reads is bounded by the pause, and by client-output-buffer-limit);
 *  - CONN_CLOSING: after QUIT, SHUTDOWN or a protocol error, no more input
 *    is processed; the connection closes once its output is written;
 *  - CONN_DEAD: closed, waiting to be freed at the end of the loop turn.
 * A connection handles at most CONN_BATCH commands, or CONN_SLICE_US of
 * work, per wakeup, so one busy client cannot starve the others (a
 * pipeline of big MSETs is cut by time, not by count). */
#ifndef KASI_SERVER_CONN_H
#define KASI_SERVER_CONN_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "cmd/command.h"
#include "cmd/session.h"
#include "lib/buf.h"
#include "lib/event.h"
#include "proto/resp.h"
#include "server/server.h"

#define CONN_PAUSED 0x01u
#define CONN_CLOSING 0x02u
#define CONN_DEAD 0x04u
#define CONN_PENDING 0x08u     /* on the worker's pending list */
#define CONN_OVERLIMIT 0x10u   /* past client-output-buffer-limit: closed at the flush */
#define CONN_RETRY 0x20u       /* blocked, and a key it waits on was written: retry at the flush */
#define CONN_UNBLOCK 0x40u     /* CLIENT UNBLOCK (TIMEOUT): time it out at the flush */
#define CONN_UNBLOCK_ERR 0x80u /* CLIENT UNBLOCK ERROR */
#define CONN_KILLED 0x100u     /* CLIENT KILL: closed at the flush, what it has not read dropped */
#define CONN_RUNNING 0x200u    /* its input is being run (a script may be in it) */

#define CONN_BATCH 512
#define CONN_SLICE_US 200
#define CONN_OUT_SOFT (1u << 20)

/* How bytes move: plain sockets now, TLS later. Both return what read(2)
 * and writev(2) return. */
typedef struct conn_transport {
    ssize_t (*read)(conn *c, void *p, size_t n);
    ssize_t (*writev)(conn *c, const struct iovec *iov, int n);
} conn_transport;

/* How input becomes commands: run what is buffered (RESP now). */
typedef struct conn_protocol {
    void (*process)(conn *c);
} conn_protocol;

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

struct conn {
    ev_handle h;
    worker *w;
    unsigned flags;          /* CONN_* */
    session s;               /* what commands see */
    cmd_sink sink;           /* replies: into out, or zero-copy slices */
    const conn_transport *tr;
    const conn_protocol *proto;
    buf in, out;
    uint64_t out_done;       /* bytes of out's stream already written */
    zc_slice *zc;            /* queued zero-copy slices, in stream order */
    int zc_head, zc_len, zc_cap;
    size_t zc_bytes;         /* their unsent bytes */
    resp_parser p;
    resp_arg *pargv;
    karg *argv;
    int argv_cap;
    uint64_t log_lsn;        /* AOF position after its last command's records */
    int64_t soft_since;      /* when output passed the soft limit (s), or 0 */
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
/* Bytes of reply not yet written, copied or not. */
static inline size_t conn_out_pending(const conn *c) { return buf_pending(&c->out) + c->zc_bytes; }
/* The registry's deliver (pubsub.h): append a published message to the
 * connection of a session (owner), on its worker. */
void conn_deliver(void *owner, const ps_msg *m);
/* The registry's retry: a key the session (owner) waits on was written. */
void conn_retry(void *owner);
/* Time out the blocked clients whose deadline passed. */
void conn_block_timeouts(worker *w, int64_t now_ms);
/* Close connections idle for more than timeout_s. */
void conn_check_timeouts(worker *w, long long timeout_s, int64_t now_ms);
/* From inside a script past busy-reply-threshold on worker w: read and
 * answer its other clients (-BUSY, SCRIPT KILL ...) and send the replies. */
void conn_serve_busy(worker *w);

#endif
