/* stream.h - the stream kind: an append-only log of entries, each an ID
 * (ms-seq, two 64-bit numbers, strictly increasing) and field/value pairs.
 *
 * Storage, in the spirit of Redis's listpacks in a radix tree: entries are
 * grouped in nodes (snode) held in a sorted array keyed by each node's
 * master ID (its first entry's ID). In a node every entry's ID is
 * delta-encoded against the master ID, an entry whose field names are the
 * node's master fields (the first entry's) stores only its values, and a
 * deleted entry keeps its bytes with a flag until its whole node goes. A
 * node is closed to appends exactly where Redis closes its listpack
 * (stream-node-max-entries, and stream-node-max-bytes counted in Redis's
 * listpack bytes, which each node tracks), so approximate trimming, which
 * only drops whole nodes, removes what Redis's would.
 *
 * Entry layout in a node's bytes: one byte, flags (bit 0 deleted, bit 1
 * same fields) | min(ms - master.ms, 63) << 2, then a varint of the rest of
 * the ms delta when that is 63, a varint of the zigzagged (int64)(seq -
 * master.seq), then, without the same-fields flag, a varint count of
 * fields and the fields and values alternating, else the values alone;
 * every string a varint length and its bytes. The master fields (their
 * count is in the node) come first in the node's bytes.
 *
 * The stream is always held outside its item's segment (an 8-byte pointer
 * inline). A snapshot takes a frozen view: a copy of the node array, each
 * node referenced; a writer copies a node the view shares before changing
 * it, so a view costs O(nodes) under the lock and nothing more.
 *
 * Consumer groups hang off `groups` (NULL: none; stream_group.h). The
 * persisted form ends with them (their count first); a copy (stream_dup)
 * copies them, and a frozen view keeps their persisted form, made under
 * the lock (O(pending entries), as Redis's fork would copy them). */
#ifndef KASI_TYPES_STREAM_H
#define KASI_TYPES_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/slice.h"

typedef struct stream_id {
    uint64_t ms, seq;
} stream_id;

static inline int sid_cmp(stream_id a, stream_id b)
{
    if (a.ms != b.ms) return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
    return 0;
}
/* The next and the previous ID; -1 past the ends (id unchanged). */
int sid_incr(stream_id *id);
int sid_decr(stream_id *id);
/* "ms-seq" into buf (at least 42 bytes); returns its length. */
size_t sid_fmt(char *buf, stream_id id);

#define SNODE_DELETED 1u
#define SNODE_SAME 2u

typedef struct snode {
    size_t len, cap;        /* bytes of data used, allocated */
    uint32_t count, live;   /* entries (deleted ones too), entries not deleted */
    uint32_t nfields;       /* the master entry's fields */
    uint32_t refs;          /* owners: the stream and frozen views (atomic) */
    size_t entries;         /* offset of the first entry in data */
    uint64_t rfixed;        /* Redis's listpack bytes, but for the two counters */
    stream_id master, last; /* the first entry's ID (the node's key), the last's */
    char data[];
} snode;

/* One entry as read from a node. */
typedef struct sentry {
    stream_id id;
    unsigned flags;         /* SNODE_* */
    uint32_t nf;            /* its fields */
    const char *at;         /* its first byte (the flags) */
    const char *fv;         /* its fields and values (values only with SNODE_SAME) */
    const char *end;        /* past it */
    const snode *n;
} sentry;

/* A new node whose master entry and first entry are id with the nf fields
 * and values fv (2 * nf slices, field then value); NULL when memory ran out. */
snode *snode_new(stream_id id, uint32_t nf, const slice *fv);
/* The same with room for about hint bytes of entries from the start. */
snode *snode_new_sized(stream_id id, uint32_t nf, const slice *fv, size_t hint);
/* Append an entry (id above the node's last); *np may move. 0, or -1 when
 * memory ran out (nothing changed). */
int snode_append(snode **np, stream_id id, uint32_t nf, const slice *fv);
/* Redis's listpack bytes for the node as it is now. */
uint64_t snode_redis_bytes(const snode *n);
/* The bytes it takes in memory. */
size_t snode_mem(const snode *n);
/* Decode the entry at p (within the node's entries); returns p's next. */
const char *snode_entry(const snode *n, const char *p, sentry *e);
static inline const char *snode_first(const snode *n) { return n->data + n->entries; }
static inline const char *snode_end(const snode *n) { return n->data + n->len; }
/* Walk an entry's fields and values: call sfield_init, then sfield_next
 * e->nf times. */
typedef struct sfield {
    const char *mf, *p, *end;
    int same;
} sfield;
void sfield_init(sfield *f, const sentry *e);
void sfield_next(sfield *f, const char **fp, size_t *fl, const char **vp, size_t *vl);
/* Flag the entry at `at` deleted (it was live). */
void snode_mark_deleted(snode *n, const char *at);
/* Check a node's bytes (from a file): master fields, entries in bounds and
 * increasing from master, and fill in count, live, last and rfixed.
 * 0, or -1 when they are not a valid node. */
int snode_check(snode *n);

/* ---- the stream ---- */

typedef struct sslot {
    stream_id master;
    snode *n;
} sslot;

typedef struct stream {
    sslot *v;               /* nodes v[head .. head + nn), by master ID */
    size_t head, nn, cap;
    uint64_t length;        /* live entries */
    uint64_t entries_added;
    stream_id last_id, first_id, max_deleted;
    size_t mem;             /* bytes held, this struct included */
    struct sgroups *groups; /* consumer groups (NULL: none; stream_group.h) */
} stream;

/* The node limits (stream-node-max-entries, stream-node-max-bytes); the
 * server keeps them in step with the configuration. */
void stream_set_limits(long long max_entries, long long max_bytes);
long long stream_max_entries(void);

stream *stream_new(void);
/* Free it and its nodes (those a view still holds live on with the view). */
void stream_free(stream *s);
/* A deep copy, or NULL when memory ran out. */
stream *stream_dup(const stream *s);
/* Append an entry with id (above last_id) and its nf fields and values.
 * 0, or -1 when memory ran out (nothing changed). */
int stream_append(stream *s, stream_id id, uint32_t nf, const slice *fv);
/* Delete the entry id; 1 when it was there. */
int stream_delete(stream *s, stream_id id);

enum { STREAM_TRIM_NONE, STREAM_TRIM_MAXLEN, STREAM_TRIM_MINID };
typedef struct stream_trim_args {
    int strategy;
    int approx;
    long long limit;        /* at most this many entries (0: no bound) */
    long long maxlen;
    stream_id minid;
} stream_trim_args;
/* Redis's trimming (whole nodes from the head; with approx nothing more;
 * else entries flagged in the next node); returns the entries removed
 * (with dry, changing nothing, more than 0 when it would remove any). */
int64_t stream_trim(stream *s, const stream_trim_args *a, int dry);
/* Whether the live entry id is there. */
int stream_has(const stream *s, stream_id id);

/* The first or last live entry's ID; -1 when the stream is empty. */
int stream_edge(const stream *s, int last, stream_id *id);
/* Redis's radix-tree-nodes for the nodes' keys as they are now. */
uint64_t stream_rax_nodes(const stream *s);

/* Walking the live entries from start to end (inclusive), forward or back. */
typedef struct stream_iter {
    const stream *s;
    stream_id start, end;
    size_t slot;            /* the node being walked (index into v from head) */
    const char *p;          /* forward: the next entry */
    const char **offs;      /* back: the node's entries ... */
    size_t noffs, cap, k;   /* ... and how many are left */
    int rev, done;
} stream_iter;
void stream_iter_init(stream_iter *it, const stream *s, stream_id start, stream_id end, int rev);
int stream_iter_next(stream_iter *it, sentry *e);
void stream_iter_done(stream_iter *it);

/* The persisted form (after the kind byte) appended to out, and read back
 * (NULL when the bytes are not a valid stream). */
void stream_serialize(const stream *s, buf *out);
stream *stream_restore(const char *p, size_t n);

/* A frozen view (NULL when memory ran out), its persisted form, release. */
void *stream_view(const stream *s);
void stream_view_serialize(void *view, buf *out);
void stream_view_release(void *view);

#endif
