/* session.h - a client's state, apart from its connection.
 *
 * The session holds what commands read and change about a client: the
 * selected domain, whether it authenticated, its MULTI queue, its WATCHes,
 * its name, its protocol version. The connection (server/conn.c) holds the
 * socket, the buffers and the transport and protocol; it embeds a session
 * and tells it how to describe the connection (CLIENT INFO). A session
 * with no connection (a script, replication) describes nothing. */
#ifndef KASI_CMD_SESSION_H
#define KASI_CMD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/slice.h"
#include "store/keyspace.h"

/* One argument of a request; the bytes belong to the caller. */
/* A command argument. */
typedef slice karg;

#define SESS_AUTHED 0x01u      /* authenticated, or no password is needed */
#define SESS_MULTI 0x02u       /* inside MULTI */
#define SESS_EXECABORT 0x04u   /* a command queued in MULTI was rejected */
#define SESS_LOCAL 0x08u       /* from 127.0.0.1, ::1 or a unix socket */
#define SESS_CLOSE 0x10u       /* close once the replies are out (QUIT, SHUTDOWN) */
#define SESS_EXEC 0x20u        /* running EXEC's queued commands: nothing may block */
#define SESS_BLOCKED 0x40u     /* waiting in a blocking command (parked) */
#define SESS_RETRY 0x80u       /* running the parked command again */
#define SESS_REBLOCK 0x100u    /* ... which found nothing again */
#define SESS_SCRIPT 0x200u     /* a script's commands: nothing may block */
#define SESS_BUSY 0x400u       /* running while a script is busy, with no gate held */
#define SESS_POSTPONED 0x800u  /* parked (with SESS_BLOCKED) by CLIENT PAUSE: run from the start once it ends */
#define SESS_REPLY_OFF 0x1000u /* CLIENT REPLY OFF: nothing is sent */
#define SESS_REPLY_SKIP 0x2000u /* the running command's reply is dropped (CLIENT REPLY SKIP before it) */
#define SESS_REPLY_SKIP_NEXT 0x4000u   /* ... and the next one's */
#define SESS_NO_EVICT 0x8000u  /* CLIENT NO-EVICT ON (CLIENT LIST's flag e) */
#define SESS_MUTED (SESS_REPLY_OFF | SESS_REPLY_SKIP)

/* Client-side caching (CLIENT TRACKING): the session's mode. */
#define TRK_ON 0x01u
#define TRK_BCAST 0x02u
#define TRK_OPTIN 0x04u
#define TRK_OPTOUT 0x08u
#define TRK_CACHING 0x10u      /* CLIENT CACHING yes/no given, for the next command */
#define TRK_NOLOOP 0x20u
#define TRK_BROKEN 0x40u       /* the redirection's client has gone */

typedef struct queued_cmd {
    const struct cmd_def *def;
    int argc;
    karg *argv;   /* argv and the bytes are one allocation */
} queued_cmd;

/* What CLIENT INFO tells of the connection under a session. */
typedef struct sess_conn_info {
    int fd;
    char laddr[64];
    size_t qbuf, qbuf_free, rbs, obl, oll, omem, tot_mem;
    const char *events;
} sess_conn_info;

typedef struct session session;
typedef struct session_ops {
    void (*describe)(const session *s, sess_conn_info *out);
} session_ops;

struct session {
    uint64_t id;
    unsigned flags;          /* SESS_* */
    int resp;                /* protocol version */
    domain *db;              /* selected domain; referenced */
    char *name;              /* CLIENT SETNAME */
    int64_t created_ms, last_ms;
    char peer[64];           /* "ip:port" */
    queued_cmd *mq;          /* MULTI queue */
    int mq_len, mq_cap;
    ks_watcher watch;
    struct ps_client *sub;   /* its subscriptions (pubsub.h), once it subscribed */
    struct ps_client *me;    /* a connection's: messages by its id reach it */
    unsigned trk;            /* TRK_* */
    uint64_t trk_redir;      /* REDIRECT's client id, or 0 */
    buf trk_prefixes;        /* BCAST's prefixes: each a size_t length, then the bytes */
    queued_cmd parked;       /* while SESS_BLOCKED: the command waiting */
    int64_t block_deadline;  /* when it times out (ms), 0: never */
    const session_ops *ops;  /* the connection's side, or NULL */
    const struct cmd_def *last_cmd;   /* CLIENT LIST's cmd=: the last one looked up, or NULL */
};

/* A new session in domain d (its reference is taken over). */
void session_init(session *s, uint64_t id, domain *d, unsigned flags, int64_t now_ms);
/* Release what it holds (domain, watches, queue, name). */
void session_free(session *s, keyspace *ks);
/* Switch the selected domain (takes over the reference). */
void session_set_domain(session *s, keyspace *ks, domain *d);
/* Drop the MULTI queue and state. */
void session_discard_multi(session *s);
/* Queue a command inside MULTI (copies the arguments). */
void session_queue(session *s, const struct cmd_def *def, int argc, const karg *argv);
/* A copy of a command (one allocation for the arguments and their bytes). */
void session_copy_cmd(queued_cmd *q, const struct cmd_def *def, int argc, const karg *argv);
/* In subscribed mode: a channel, pattern or shard channel subscribed. */
int session__subscribed(const session *s);
static inline int session_subscribed(const session *s) { return s->sub && session__subscribed(s); }
/* Bytes the MULTI queue holds, as CLIENT INFO's multi-mem counts them. */
size_t session_multi_mem(const session *s);

#endif
