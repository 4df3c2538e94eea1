/* server.h - the server: its configuration, keyspace, listeners and worker
 * threads.
 *
 * Each worker owns an epoll loop and the connections it accepted; every
 * listening socket is in every worker's loop with EPOLLEXCLUSIVE, so the
 * kernel hands each new connection to one idle worker. Workers share only
 * the keyspace (locked per shard) and a few atomic counters.
 *
 * A few commands (EXEC, FLUSHALL, ...) must run while no other command
 * runs anywhere. Each worker holds its own "gate" mutex while it executes
 * commands; server_exclusive_begin() takes every gate, in index order. */
#ifndef KASI_SERVER_H
#define KASI_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conf/config.h"
#include "lib/event.h"
#include "store/keyspace.h"
#include "persist/persist.h"

typedef struct conn conn;
typedef struct server server;

/* Counters written only by the owning worker, read by INFO from any thread. */
typedef struct worker_stats {
    atomic_ullong commands;
    atomic_ullong connections;
    atomic_ullong rejected;
    atomic_ullong net_in;
    atomic_ullong net_out;
    atomic_ullong expired;
} worker_stats;

static inline void stat_add(atomic_ullong *c, unsigned long long n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

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

/* What the input lookahead learnt of a request further down a connection's
 * buffer (see conn.c); valid while that connection's input is processed. */
typedef struct key_hint {
    const char *req;          /* where the request starts (NULL: unused) */
    const char *end;          /* and ends */
    const char *key;          /* its second argument, as a key */
    size_t klen;
    uint64_t h;               /* ks_hash of the key */
} key_hint;
#define KEY_HINTS 4

typedef struct worker {
    int id;
    server *srv;
    ev_loop *loop;
    pthread_t thread;
    pthread_mutex_t gate;     /* held while this worker runs commands */
    int wakefd;               /* eventfd: wakes the loop for shutdown */
    ev_handle wake;
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
    int64_t next_trim_us;
    worker_stats st;
    key_hint hints[KEY_HINTS];   /* a ring, for the connection being processed */
    unsigned hint_next;
} worker;

struct server {
    config cfg;
    keyspace *ks;
    persist *ps;              /* snapshots and the AOF */
    worker *workers;
    int nworkers;
    pthread_mutex_t lset_mu;  /* guards lset's replacement and every set's refs */
    _Atomic(listen_set *) lset;   /* the current listening sockets */
    int unix_fd;              /* the unix socket (in every set, dup'ed), or -1 */
    atomic_int auth_required; /* requirepass is set */
    atomic_int exclusive_wanted;
    atomic_int shutdown;      /* 1: stop the loops */
    atomic_int exiting;       /* set once SHUTDOWN was accepted (and its save done) */
    atomic_long nclients;
    atomic_ullong next_client_id;
    int64_t start_ms;
    size_t rss_base;          /* resident bytes once started, before any key */
    int sigpipe[2];           /* self-pipe the signal handler writes to */
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

/* Run with every other worker paused. self's gate must be held on entry
 * and is held again on return. */
void server_exclusive_begin(worker *self);
void server_exclusive_end(worker *self);
/* Whether the calling thread is inside an exclusive section. */
int server_in_exclusive(void);
/* Take w's gate before running commands (pthread_mutex_unlock releases it). */
void server_gate_enter(worker *w);

/* CONFIG SET port: listen on the bind addresses with the new port (the
 * old sockets close once every worker moved on). Returns 0, or -1. */
int server_rebind(server *srv, char *err, size_t errlen);

/* Sum a counter over the workers. */
unsigned long long server_stat(server *srv, size_t offset);
#define SERVER_STAT(srv, field) server_stat((srv), offsetof(worker_stats, field))

#endif
