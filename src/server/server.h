/* server.h - the server: its configuration, keyspace, listeners and worker
 * threads.
 *
 * Each worker owns an epoll loop and the connections it accepted; every
 * listening socket is in every worker's loop with EPOLLEXCLUSIVE, so the
 * kernel hands each new connection to one idle worker. Workers share only
 * the keyspace (locked per shard) and a few atomic counters.
 *
 * A few commands (EXEC, FLUSHALL, ...) must run while no other command
 * runs anywhere: each worker holds its gate (lib/gates.h) while it runs
 * commands, and an exclusive section takes them all. Commands see the
 * server only through their worker's environment (cmd_env) and the host
 * table the server fills in (cmd_host). */
#ifndef KASI_SERVER_H
#define KASI_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cmd/command.h"
#include "conf/config.h"
#include "lib/event.h"
#include "lib/gates.h"
#include "persist/persist.h"
#include "pubsub/pubsub.h"
#include "store/keyspace.h"

typedef struct conn conn;
typedef struct server server;

typedef struct listener {
    ev_handle h;
    int fd;
    struct worker *w;
} listener;

/* The sockets the server listens on. CONFIG SET port publishes a new set;
 * each worker moves to it at the top of its loop, and the last one to let
 * go of the old set closes its sockets. */
typedef struct listen_set {
    int *fds;
    int n;
    long long port;           /* the TCP port they are bound to */
    int refs;                 /* the server's, plus one per worker on it; under lset_mu */
} listen_set;

typedef struct worker {
    int id;
    server *srv;
    ev_loop *loop;
    pthread_t thread;
    int wakefd;               /* eventfd: wakes the loop (shutdown, new listeners, inbox) */
    ev_handle wake;
    atomic_int load;          /* the connections it has, or has been handed */
    pthread_mutex_t inbox_mu; /* guards the inbox: sockets another worker accepted for it */
    int *inbox;
    int inbox_n, inbox_cap;
    int drain_later;          /* its mailbox waits for a long script to end */
    int64_t next_sample_us;   /* worker 0: when INFO's instantaneous figures are sampled next */
    listen_set *lset;         /* the sockets listeners[] are for */
    listener *listeners;      /* one per socket of lset */
    conn *conns;              /* all connections of this worker */
    conn *pending;            /* connections with output to flush or input to process */
    conn *dead;               /* closed, freed at the end of the loop turn */
    conn **flushv;            /* conn_flush_pending's work list */
    size_t flushv_cap;
    uint64_t committed_lsn;   /* AOF position this worker made durable */
    int64_t next_cron_us;
    int64_t next_timeout_check_us;
    int64_t next_block_check_us;
    int64_t next_trim_us;
    cmd_stats st;             /* written by this worker only */
    cmd_env env;              /* what its commands run with */
} worker;

struct server {
    config cfg;
    keyspace *ks;
    persist *ps;              /* snapshots and the AOF */
    pubsub *bus;              /* channels, subscribers, the workers' mailboxes */
    struct tracking *trk;     /* client-side caching's table */
    gates *g;                 /* one per worker */
    cmd_host host;            /* what the server offers commands */
    worker *workers;
    int nworkers;
    pthread_mutex_t lset_mu;  /* guards lset's replacement and every set's refs */
    _Atomic(listen_set *) lset;   /* the current listening sockets */
    int unix_fd;              /* the unix socket (in every set, dup'ed), or -1 */
    atomic_int auth_required; /* requirepass is set */
    /* client-output-buffer-limit, parsed: hard, soft and seconds per class */
    atomic_llong obuf[CFG_OBUF_CLASSES][3];
    atomic_int shutdown;      /* 1: stop the loops */
    atomic_int exiting;       /* set once SHUTDOWN was accepted (and its save done) */
    atomic_long nclients;
    atomic_ullong next_client_id;
    int64_t start_ms;
    const char *git_sha;      /* the build's, for INFO (set before server_init) */
    int git_dirty;
    size_t rss_base;          /* resident bytes once started, before any key */
    int sigpipe[2];           /* self-pipe the signal handler writes to */
    struct metrics *metrics;  /* metrics-port's endpoint, on worker 0 */
};

/* Open the listeners and create the keyspace and workers. Returns 0 or -1
 * (logged). */
int server_init(server *srv);
/* Run until shutdown; the calling thread runs worker 0. */
void server_run(server *srv);
/* Release everything (listeners closed, unix socket and pidfile removed). */
void server_cleanup(server *srv);
/* Ask every loop to stop (safe from any thread and from a signal handler). */
void server_stop(server *srv);

/* Listen on the bind addresses at port (none if 0), plus a dup of the unix
 * socket unix_fd unless -1. Returns the set (one reference: the caller's),
 * or NULL (logged). */
listen_set *server_listen(server *srv, long long port, int unix_fd);
/* Drop a reference to ls (NULL: none); the last closes its sockets. */
void server_release_set(server *srv, listen_set *ls);
/* Protected mode (as Redis 7): with no password set, only local clients
 * are served. Whether the client on fd is refused so. */
int server_protected_refuses(server *srv, int fd);

/* CONFIG SET port: listen on the bind addresses with the new port (the
 * old sockets close once every worker moved on). Returns 0, or -1. */
int server_rebind(server *srv, char *err, size_t errlen);

#endif
