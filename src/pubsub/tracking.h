/* tracking.h - client-side caching's tracking table: which clients may
 * hold which keys, and the invalidation messages when those keys change.
 *
 * As in Redis, the table maps a key's name (in any domain: names are
 * global) to the ids of the clients that read it; a change to the key sends
 * each of them an invalidation (a PS_MSG_INVALIDATE to its id, through its
 * worker's mailbox) and forgets the key, until it is read again. A client
 * that goes leaves its ids behind, to be dropped when their keys change, so
 * its going costs nothing. The table is spread over stripes, each under its
 * own lock, and holds at most a set number of keys: past it, the oldest keys
 * of a stripe are invalidated to make room (origin 0).
 *
 * The origin of a change is the client whose command made it, a thread's
 * current one (tracking_set_origin), so that a client in NOLOOP mode can
 * leave out its own changes. */
#ifndef KASI_TRACKING_H
#define KASI_TRACKING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "pubsub/pubsub.h"

typedef struct tracking tracking;

tracking *tracking_create(pubsub *bus);
void tracking_destroy(tracking *t);

/* tracking-table-max-keys (0: no limit). */
void tracking_set_max_keys(tracking *t, long long max);

/* Client id read key. */
void tracking_remember(tracking *t, uint64_t id, const char *key, size_t n);
/* key changed (origin: the thread's current client). */
void tracking_invalidate(tracking *t, const char *key, size_t n);
/* Every key changed (a flush): each tracking client is told so (a
 * PS_MSG_INVALIDATE with no keys) and the table is emptied. */
void tracking_flush(tracking *t);

/* Broadcasting (BCAST): client id hears of every change to a key with
 * one of its prefixes (noloop: but its own). The changes a thread makes
 * are gathered, each with its origin (by tracking_invalidate), and sent by
 * tracking_bcast_flush, once per turn of the thread's event loop, as Redis
 * sends them: one message per prefix, prefixes and keys in byte order. */
void tracking_bcast_add(tracking *t, uint64_t id, const char *prefix, size_t n, int noloop);
void tracking_bcast_remove(tracking *t, uint64_t id, const char *prefix, size_t n);
long long tracking_prefixes(tracking *t);
void tracking_bcast_flush(tracking *t);
/* A thread that changed keys ends: what it gathered goes. */
void tracking_thread_done(void);

extern _Thread_local uint64_t tracking_origin;
extern _Thread_local size_t tracking_changed;   /* keys gathered for broadcasting */
static inline void tracking_set_origin(uint64_t id) { tracking_origin = id; }

/* INFO's counts: keys in the table, and (key, client) pairs. */
long long tracking_keys(tracking *t);
long long tracking_items(tracking *t);

#endif
