/* collection.h - what the hash, list, set and sorted-set commands share:
 * finding a key of the right kind (or replying WRONGTYPE), reporting a
 * write's effect, the *SCAN options, counts and Redis's error texts. */
#ifndef KASI_CMD_COLLECTION_H
#define KASI_CMD_COLLECTION_H

#include "cmd/command.h"
#include "types/types.h"

#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

static inline void reply_wrongtype(cmd_call *x) { reply_err(x, ERR_WRONGTYPE); }
/* Memory for the write could not be had: what was done so far stays, and
 * is what was logged. */

/* argv[i]'s key, its shard locked by the caller (arg_ref + ks_lock), looked
 * up to read (a keyspace hit or miss) or to write: the item, or NULL when
 * there is none. When the key holds another kind, replies WRONGTYPE and
 * sets *bad. */
static inline item *coll_of_kind(cmd_call *x, item *it, unsigned kind, int *bad)
{
    *bad = it && item_kind(it) != kind;
    if (__builtin_expect(*bad, 0)) {
        reply_wrongtype(x);
        return NULL;
    }
    return it;
}
static inline item *coll_read(cmd_call *x, kref *r, unsigned kind, int *bad)
{
    return coll_of_kind(x, ks_read(r, x->now), kind, bad);
}
static inline item *coll_write(cmd_call *x, kref *r, unsigned kind, int *bad)
{
    return coll_of_kind(x, ks_find(r, x->now), kind, bad);
}
/* The same for argv[i], taking its shard's lock (the caller unlocks r,
 * whatever the outcome). */
item *coll_lock_read(cmd_call *x, int i, kref *r, unsigned kind, int *bad);
item *coll_lock_write(cmd_call *x, int i, kref *r, unsigned kind, int *bad);

/* Report the command, as it was given, as the effect of a write to r. */
static inline void coll_effect(cmd_call *x, kref *r) { ks_effect(r, x->argc, x->argv); }

/* HSCAN/SSCAN/ZSCAN: the cursor at argv[2] ("ERR invalid cursor"). */
int coll_scan_cursor(cmd_call *x, uint64_t *cursor);
/* Their MATCH and COUNT options from argv[3] on (TYPE is SCAN's alone). */
typedef struct coll_scan {
    uint64_t cursor;
    long count;
    const char *pat;
    size_t plen;
} coll_scan;
int coll_scan_opts(cmd_call *x, coll_scan *sc);
/* Whether s matches the MATCH pattern (always, without one). */
static inline int coll_scan_match(const coll_scan *sc, const char *s, size_t n)
{
    return !sc->pat || util_glob_match(sc->pat, sc->plen, s, n, 0);
}
/* The reply's head: the next cursor, then an array of n. */
void coll_scan_reply(cmd_call *x, uint64_t cursor, long long n);

/* The whole of HSCAN, SSCAN and ZSCAN, given how the kind hands out its
 * elements: a small collection all at once (cursor 0, as Redis's compact
 * encodings answer), a big one a bucket of its index at a time. The kind's
 * callbacks call coll_scan_take for each element and, when it says yes and
 * the command gives pairs, write the element's value after it. */
typedef struct coll_scan_out {
    cmd_call *x;
    const coll_scan *sc;
    long long n;              /* replies written */
    int per;                  /* replies per element: 1, or 2 for pairs */
    int whole;                /* the collection is being sent all at once */
} coll_scan_out;
typedef struct coll_scanner {
    unsigned kind;
    int per;
    int (*whole)(const item *it);
    void (*all)(const item *it, coll_scan_out *o);
    uint64_t (*step)(const item *it, uint64_t cursor, coll_scan_out *o);
} coll_scanner;
void coll_scan_run(cmd_call *x, const coll_scanner *k);
static inline int coll_scan_take(coll_scan_out *o, const char *s, size_t n)
{
    if (!coll_scan_match(o->sc, s, n)) return 0;
    resp_bulk(o->x->out, s, n);
    o->n += o->per;
    return 1;
}

/* HRANDFIELD and ZRANDMEMBER: Redis's argument checks and cases (one
 * element, a count with repeats, the whole collection, or distinct ones),
 * given the kind's ways to reply. */
typedef struct coll_sampler {
    unsigned kind;
    const char *with;         /* "withvalues", "withscores" */
    size_t (*len)(const item *it);
    void (*one)(cmd_call *x, const item *it);   /* a random element's name, as a bulk */
    void (*repeat)(cmd_call *x, const item *it, unsigned long long n, int with);
    void (*all)(cmd_call *x, const item *it, int with);
    void (*distinct)(cmd_call *x, const item *it, size_t n, int with);
} coll_sampler;
void coll_randmember(cmd_call *x, const coll_sampler *k);

/* A double as Redis 7.0 writes it (%.17g, integers plainly, inf/-inf):
 * returns its length; buf of at least 32 bytes. */
int coll_d2str(char *buf, size_t cap, double d);
void reply_double(cmd_call *x, double d);
/* Parse argv[i] as a double as Redis does (strtod, no NaN); on failure
 * replies "ERR value is not a valid float" (or msg) and returns -1. */
int arg_double(cmd_call *x, int i, double *d);
int str_double(const char *s, size_t n, double *d);

/* A count within [min, max] ("ERR value is out of range" beyond it, or
 * Redis's message for non-integers). */
int arg_range(cmd_call *x, int i, long long min, long long max, long long *v);

/* The largest reply a negative count (sampling with repetition) may ask
 * for: Redis would build it whatever its size; Kasi refuses what could
 * never be sent (see README). */
#define COLL_SAMPLE_MAX (1LL << 25)

#endif
