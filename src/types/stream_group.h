/* stream_group.h - a stream's consumer groups (Redis 5's XGROUP family,
 * with 7.0's entries-read and lag).
 *
 * The groups hang off stream->groups, by name. A group has its
 * last-delivered ID, its entries-read counter (SG_UNKNOWN when it cannot
 * be known), its PEL (the entries delivered and not yet acknowledged, by
 * ID) and its consumers by name. Each pending entry (snack) sits in two
 * trees at once, its group's PEL and its consumer's, so a consumer's
 * history and the group's XPENDING are each one ordered walk, and an
 * insert, a removal or a move to another consumer is O(log n) (lib/avl.h).
 * Groups and consumers are ordered by name as Redis's radix trees order
 * them (bytes, then length), which is the order XINFO lists them in.
 *
 * Every allocation here is counted in stream->mem. Not thread-safe: the
 * item's shard lock guards it. */
#ifndef KASI_TYPES_STREAM_GROUP_H
#define KASI_TYPES_STREAM_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/avl.h"
#include "lib/buf.h"
#include "types/stream.h"

/* entries-read unknown (Redis's SCG_INVALID_ENTRIES_READ) */
#define SG_UNKNOWN (-1LL)

typedef struct sconsumer {
    avl_node node;          /* in the group's consumers, by name */
    avl_node *pel;          /* its pending entries (snack.cnode), by ID */
    uint64_t npel;
    int64_t seen;           /* ms: the last time it was named */
    size_t nlen;
    char name[];
} sconsumer;

typedef struct snack {
    avl_node gnode, cnode;  /* in the group's PEL and in its consumer's */
    stream_id id;
    int64_t delivered;      /* ms: the last delivery */
    uint64_t count;         /* deliveries */
    sconsumer *c;
} snack;

typedef struct sgroup {
    avl_node node;          /* in the stream's groups, by name */
    stream_id last_id;
    long long entries_read;
    avl_node *pel;          /* snack.gnode, by ID */
    uint64_t npel;
    avl_node *consumers;
    uint64_t nconsumers;
    size_t mem;             /* bytes this group holds (its consumers and PEL too) */
    size_t nlen;
    char name[];
} sgroup;

typedef struct sgroups {
    avl_node *root;
    uint64_t n;
} sgroups;

/* ---- groups ---- */
sgroup *sg_find(const stream *s, const char *name, size_t n);
/* A new group (NULL when one has that name). */
sgroup *sg_create(stream *s, const char *name, size_t n, stream_id last, long long entries_read);
/* Remove the group and free it (a big one on the background thread). */
void sg_destroy(stream *s, sgroup *g);
/* The first group, and the one after g by name (NULL past the last). */
sgroup *sg_first(const stream *s);
sgroup *sg_next(const stream *s, const sgroup *g);
uint64_t sg_count(const stream *s);

/* ---- consumers ---- */
sconsumer *sc_find(const sgroup *g, const char *name, size_t n);
sconsumer *sc_create(stream *s, sgroup *g, const char *name, size_t n, int64_t now);
/* Delete the consumer and its pending entries; returns how many it had. */
uint64_t sc_delete(stream *s, sgroup *g, sconsumer *c);
sconsumer *sc_first(const sgroup *g);
sconsumer *sc_next(const sgroup *g, const sconsumer *c);

/* ---- pending entries ---- */
snack *sn_find(const sgroup *g, stream_id id);
/* A new pending entry of consumer c (id not pending yet). */
snack *sn_add(stream *s, sgroup *g, sconsumer *c, stream_id id, int64_t delivered, uint64_t count);
/* Give the pending entry to consumer c. */
void sn_move(snack *e, sconsumer *c);
/* Acknowledge it: out of both PELs, freed. */
void sn_delete(stream *s, sgroup *g, snack *e);
/* The group's (or a consumer's) first pending entry at or after id, and
 * the one after e; NULL past the end. */
snack *sn_seek(const sgroup *g, stream_id id);
snack *sn_next(const sgroup *g, const snack *e);
snack *sn_seek_c(const sconsumer *c, stream_id id);
snack *sn_next_c(const sconsumer *c, const snack *e);
snack *sn_last(const sgroup *g);

/* ---- 7.0's read counters ---- */
/* Redis's streamEstimateDistanceFromFirstEverEntry: the entries-read a
 * group whose last ID is id has, or SG_UNKNOWN. */
long long sg_estimate_read(const stream *s, stream_id id);
/* Whether a deleted entry may lie from start on (Redis's
 * streamRangeHasTombstones with no end). */
int sg_tombstones_from(const stream *s, stream_id start);
/* The group's lag in *lag: 0, or -1 when it cannot be known (a nil
 * reply). */
int sg_lag(const stream *s, const sgroup *g, long long *lag);

/* ---- the persisted form (see stream.c) ---- */
/* Every group, after its count. */
void sg_serialize(const stream *s, buf *out);
/* Read the groups (the count included) from *p into s, which has none;
 * 0, or -1 when the bytes are not valid groups (s then holds what was
 * read, for stream_free). */
int sg_restore(stream *s, const char **p, const char *end);
/* Free every group (stream_free). */
void sg_free_all(stream *s);

#endif
