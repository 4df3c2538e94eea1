/* pubsub.h - channels, patterns and shard channels, and the delivery of
 * published messages across worker threads.
 *
 * Who is subscribed to what lives in one registry for the server. Channels
 * (and shard channels, a second namespace with no patterns) are spread over
 * PS_STRIPES hash tables, each under its own read-write lock; patterns are
 * one list under one lock. A PUBLISH takes the read lock of its channel's
 * stripe, and the patterns' lock only when some pattern is subscribed: with
 * nobody subscribed it takes no lock at all, and publishers on different
 * channels do not meet. It matches the channel against each subscribed
 * pattern, so its cost grows with the patterns, never with the channels.
 *
 * A subscriber (ps_client, one per subscribed session) belongs to one
 * worker, and only that worker touches its connection. A message for a
 * subscriber on the publisher's own worker is written to its connection at
 * once (through the ops' deliver); one for another worker goes to that
 * worker's mailbox, to be delivered when it drains it. The message is
 * formatted once and shared by reference. Mailboxes are filled before the
 * publisher lets go of the channel's lock, and an unsubscribe takes that
 * lock for writing, then drains its own worker's mailbox: so whatever
 * message PUBLISH counted for a subscriber reaches it before it hears that
 * it unsubscribed, as in Redis. A mailbox is a FIFO per worker, so each
 * publisher's messages arrive in the order it published them. */
#ifndef KASI_PUBSUB_H
#define KASI_PUBSUB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"

#define PS_STRIPES 64

/* What a subscription is to: a channel, a pattern, a shard channel,
 * (MONITOR) the feed of every command run, whose one name is "", or (a
 * blocked client) a key it waits on, named by its domain and its bytes. */
enum { PS_CHANNEL, PS_PATTERN, PS_SHARD, PS_MONITOR, PS_KEY, PS_KINDS };

typedef struct pubsub pubsub;
typedef struct ps_client ps_client;

/* What every command asks of the registry, first in it: so that with no
 * monitor and no blocked client the answer costs one load, inline. */
typedef struct ps_hot {
    atomic_long monitors;    /* clients in MONITOR mode */
    atomic_long key_links;   /* keys blocked clients wait on */
} ps_hot;

/* A message as delivered: the elements of the push (its array header,
 * which depends on the receiver's protocol, is the receiver's to write),
 * or a whole reply, sent as it is (nelem 0: MONITOR's lines), or (nelem
 * one of PS_MSG_*) a message to one client by its id, which its owner
 * reads: origin is the client whose command caused it (0: none). */
typedef struct ps_msg {
    atomic_int refs;
    int nelem;               /* 3 or 4, 0, or PS_MSG_* */
    uint64_t origin;
    size_t len;
    char body[];
} ps_msg;

enum {
    PS_MSG_INVALIDATE = -1,    /* tracked keys changed: body is their array, or empty for all */
    PS_MSG_REDIRECTED = -2,    /* the same, redirected to this client */
    PS_MSG_REDIR_BROKEN = -3,  /* the redirection's client has gone */
    PS_MSG_UNBLOCK = -4,       /* CLIENT UNBLOCK: as a timeout (body "") or with an error (body) */
    PS_MSG_BROADCAST = -5,     /* keys with a BCAST prefix changed: body is their array */
    PS_MSG_KILL = -6,          /* CLIENT KILL: close the connection */
};
/* A new message of one of those kinds (one reference); with body NULL,
 * its n bytes are the caller's to fill. */
ps_msg *ps_msg_new(int kind, uint64_t origin, const void *body, size_t n);
void ps_msg_release(ps_msg *m);

typedef struct ps_ops {
    /* Append m to the subscriber's connection; owner is what
     * ps_client_new was given. Runs on the subscriber's worker. */
    void (*deliver)(void *owner, const ps_msg *m);
    /* A key the client waits on (PS_KEY) was written: try its command
     * again. Runs on the client's worker. */
    void (*retry)(void *owner);
    /* Worker w's mailbox was empty and now is not: wake it. Any thread. */
    void (*wake)(void *ctx, int w);
    void *ctx;
} ps_ops;

pubsub *pubsub_create(int nworkers, const ps_ops *ops);
/* After every client is gone. */
void pubsub_destroy(pubsub *ps);

/* A subscriber on worker w, delivered to through owner. */
ps_client *ps_client_new(pubsub *ps, int w, void *owner);

/* Clients by id. A registered client can be sent messages by its client
 * id from any thread (ps_post): they go through its worker's mailbox, so
 * they reach it after the command running now has replied. Its state is a
 * word of bits its owner sets (PS_ST_*), which others may read. */
enum { PS_ST_BLOCKED = 1, PS_ST_TRACKING = 2, PS_ST_KILLED = 4, PS_ST_TIMED = 8 };   /* TIMED: blocked with a timeout */
void ps_client_register(pubsub *ps, ps_client *c, uint64_t id);
void ps_client_set_state(pubsub *ps, ps_client *c, unsigned bit, int on);
/* The state of client id, or -1 when there is no such client. */
long ps_state_of(pubsub *ps, uint64_t id);
/* Send m to client id: 1, or 0 when there is none. Takes the reference. */
int ps_post(pubsub *ps, uint64_t id, ps_msg *m);
/* Send m to every client with the state bit. Takes the reference. */
void ps_post_all(pubsub *ps, unsigned bit, ps_msg *m);
/* Clients with the bit set. */
long ps_count_state(pubsub *ps, unsigned bit);
/* Every registered client, by ascending id (CLIENT LIST/KILL), into *out,
 * a new array ps_clients_end frees; returns how many. They stay valid only
 * while none can go: the caller must run where their owners cannot free
 * them (for connections: an exclusive section, see server/conn.c). */
typedef struct ps_client_ref {
    uint64_t id;
    void *owner;
    ps_client *c;
    unsigned state;          /* PS_ST_* when listed */
} ps_client_ref;
size_t ps_clients_begin(pubsub *ps, ps_client_ref **out);
void ps_clients_end(ps_client_ref **refs);
/* Mark a client killed (PS_ST_KILLED: CLIENT KILL has asked it to go); the
 * caller then posts it PS_MSG_KILL. 0 when it already was. */
int ps_client_mark_killed(ps_client *c);
/* The session is going: drop every subscription and the owner. */
void ps_client_free(pubsub *ps, ps_client *c);
/* How many subscriptions of one kind it holds. */
size_t ps_client_count(const ps_client *c, int kind);
/* Copy the names of its subscriptions of one kind (in no particular
 * order) to out, each as its length (a size_t) then its bytes; returns
 * how many. ps_name_next walks them. */
size_t ps_client_names(const ps_client *c, int kind, buf *out);
static inline const char *ps_name_next(const buf *names, size_t *off, size_t *n)
{
    const char *p;
    memcpy(n, names->data + *off, sizeof *n);
    p = names->data + *off + sizeof *n;
    *off += sizeof *n + *n;
    return p;
}

/* 1 when subscribed now, 0 when it already was. */
int ps_subscribe(pubsub *ps, ps_client *c, int kind, const char *name, size_t n);
/* 1 when unsubscribed now, 0 when it was not subscribed. */
int ps_unsubscribe(pubsub *ps, ps_client *c, int kind, const char *name, size_t n);
/* Drop every subscription of one kind. */
void ps_unsubscribe_all(pubsub *ps, ps_client *c, int kind);

/* Blocked clients. A client waiting on keys subscribes to them (PS_KEY);
 * the waiters of a key are kept in the order they came. A write to a key
 * signals it: the first waiter is asked (ops.retry, on its worker) to try
 * its command again, once until ps_woken_clear; served, it leaves the
 * keys and signals them again for the next one. */
void ps_signal(pubsub *ps, const char *name, size_t n);
/* Whether any client waits on a key (a hint: no lock). */
static inline int ps_any_waiter(pubsub *ps)
{
    return atomic_load_explicit(&((ps_hot *)ps)->key_links, memory_order_relaxed) > 0;
}
/* The retry asked of c is being run: the next signal may ask again. */
void ps_woken_clear(ps_client *c);

/* Publish to a channel (shard: a shard channel) from worker self (-1: not
 * a worker's thread); returns how many subscribers it was sent to. */
long long ps_publish(pubsub *ps, int self, int shard, const char *ch, size_t chn,
                     const char *msg, size_t msgn);

/* Whether some client is in MONITOR mode (a hint: no lock). */
static inline int ps_monitored(pubsub *ps)
{
    return atomic_load_explicit(&((ps_hot *)ps)->monitors, memory_order_relaxed) > 0;
}
/* Send a MONITOR line (a whole reply) to every monitor. */
void ps_feed_monitors(pubsub *ps, int self, const char *line, size_t n);

/* Deliver what waits in worker w's mailbox. */
void ps_drain(pubsub *ps, int w);
/* Whether something waits there (a hint: no lock). */
int ps_waiting(pubsub *ps, int w);

/* PUBSUB CHANNELS / SHARDCHANNELS: the channels with subscribers matching
 * pat (NULL: all) as RESP bulk strings appended to out; returns how many. */
size_t ps_channels(pubsub *ps, int shard, const char *pat, size_t plen, buf *out);
/* PUBSUB NUMSUB / SHARDNUMSUB for one channel. */
long long ps_numsub(pubsub *ps, int shard, const char *ch, size_t n);
/* PUBSUB NUMPAT: the patterns with at least one subscriber. */
long long ps_numpat(pubsub *ps);
/* INFO's counts: channels (shard: shard channels) with subscribers, and
 * clients waiting on keys. */
long long ps_nchannels(pubsub *ps, int shard);
long long ps_nblocked(pubsub *ps);

#endif
