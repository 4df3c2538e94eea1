/* snapshot.c - see snapshot.h. */
#include "persist/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/durable.h"
#include "store/kind.h"
#include "store/pit.h"
#include "store/segment.h"
#include "persist/record.h"
#include "lib/util.h"

#define BIG_VALUE (64 * 1024)       /* written from its segment, not copied */
#define CHUNK_BYTES (256 * 1024)    /* saved per shard-lock hold, at most (about) */
#define CHUNK_BUCKETS 64
#define OUT_FLUSH (1024 * 1024)
#define SWEEP_EVERY 16

typedef struct bigref {
    const domain *d;
    const char *key, *val;   /* in the referenced segment, which no one changes now */
    size_t klen, vlen;
    void *owner;
    int64_t expire;
} bigref;

/* A big collection's frozen view (kind.h), with its key copied. */
typedef struct viewref {
    const domain *d;
    const kind_ops *ops;
    void *view;
    char *key;
    size_t klen;
    int64_t expire;
} viewref;

/* Saved items waiting to be written. */
typedef struct outq outq;
struct outq {
    buf b;
    bigref *refs;
    size_t nrefs, cap;
    viewref *views;
    size_t nviews, vcap;
    uint64_t count;
};

typedef struct fout {
    int fd;
    buf b;
    int err;              /* errno of the first failure */
    uint64_t bytes;
} fout;

#define SPARES 16

static void (*extras_fn)(buf *records);

struct snapshot {
    keyspace *ks;
    ks_pit *pit;
    char *path, *tmp;
    fout f;
    int64_t start_ms, t0;
    outq walk;                  /* what the walk read, not written yet */
    outq **taken;               /* writers' queues taken from their shards */
    size_t ntaken, taken_cap;
    outq *spare[SPARES];        /* drained queues, given back to shards */
    size_t nspare;
    unsigned chunks;            /* walk steps since the last sweep of the shards */
    uint64_t pend_written;      /* records writers saved, written so far */
    buf extras;                 /* the records snapshot_set_extras's function gave at the instant */
};

/* Save it into q (its shard is locked; the store has marked it read). */
static void save_into(snapshot *sn, outq *q, const domain *d, item *it)
{
    int64_t e = item_expire(it);
    size_t dlen;
    const char *dname = ks_domain_name(d, &dlen);
    if (e >= 0 && e <= sn->start_ms) return;   /* already expired at the instant */
    const kind_ops *ops = item_typed(it) ? kind_ops_of(item_kind(it)) : NULL;
    void *view = ops && ops->view ? ops->view(it) : NULL;
    if (view) {
        /* a big collection: its view is written once the lock is let go */
        if (q->nviews == q->vcap) {
            q->vcap = q->vcap ? q->vcap * 2 : 8;
            q->views = xrealloc(q->views, q->vcap * sizeof *q->views);
        }
        q->views[q->nviews++] = (viewref){d, ops, view, xmemdup(item_key(it), item_klen(it)),
                                          item_klen(it), e};
    } else if (item_solo(it) && item_vlen(it) >= BIG_VALUE) {
        if (q->nrefs == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 16;
            q->refs = xrealloc(q->refs, q->cap * sizeof *q->refs);
        }
        /* The reference keeps the bytes; a segment that is referenced is
         * never changed in place (seg_resize_solo), and the expiry, which
         * may be, is taken now. */
        q->refs[q->nrefs++] = (bigref){d, item_key(it), item_cval(it), item_klen(it),
                                       item_vlen(it), seg_ref(it), e};
    } else {
        rec_item(&q->b, dname, dlen, it, e, 0);
    }
    q->count++;
}

/* The copy-on-write hook: a writer's item goes to the shard's queue. */
static void cow_save(void *ctx, void **slot, const domain *d, item *it)
{
    if (!*slot) *slot = xcalloc(1, sizeof(outq));
    save_into(ctx, *slot, d, it);
}

/* ---- output ---- */

static void out_flush(fout *f)
{
    if (f->b.len && !f->err && durable_write(f->fd, f->b.data, f->b.len) < 0) f->err = errno;
    f->bytes += f->b.len;
    f->b.len = f->b.off = 0;
}

static void out_append(fout *f, const char *p, size_t n)
{
    buf_append(&f->b, p, n);
    if (f->b.len >= OUT_FLUSH) out_flush(f);
}

/* Pages of a view's index copied per hold of its shard's lock (128 KB:
 * well under a millisecond, page faults included). */
#define FILL_PAGES 32

/* Complete a lazily taken view, a few pages per hold of its key's shard
 * lock, while writers go on (each of their writes copies what it changes
 * first). */
static void fill_view(snapshot *sn, viewref *v)
{
    kref r;
    int more = 1;
    if (!v->ops->view_fill) return;
    /* the snapshot holds the domain; ks_ref only locates the shard */
    ks_ref(sn->ks, (domain *)(uintptr_t)v->d, v->key, v->klen, &r);
    while (more) {
        ks_lock(&r);
        more = v->ops->view_fill(v->view, FILL_PAGES);
        ks_unlock(&r);
        /* a mutex lets its holder take it straight back: give a writer
         * woken by the unlock the time to get it first */
        if (more) nanosleep(&(struct timespec){0, 20000}, NULL);
    }
}

/* Write what q holds and empty it. */
static void drain(snapshot *sn, outq *q)
{
    fout *f = &sn->f;
    if (q->b.len) out_append(f, q->b.data, q->b.len);
    q->b.len = q->b.off = 0;
    for (size_t i = 0; i < q->nrefs; i++) {
        bigref *r = &q->refs[i];
        size_t dlen;
        const char *dname = ks_domain_name(r->d, &dlen);
        rec_put(&f->b, dname, dlen, r->key, r->klen, r->val, r->vlen, r->expire, 1);
        out_flush(f);
        if (!f->err && durable_write(f->fd, r->val, r->vlen) < 0) f->err = errno;
        f->bytes += r->vlen;
        seg_unref(r->owner);
    }
    q->nrefs = 0;
    for (size_t i = 0; i < q->nviews; i++) {
        viewref *v = &q->views[i];
        size_t dlen;
        const char *dname = ks_domain_name(v->d, &dlen);
        buf val = {0};
        fill_view(sn, v);
        v->ops->view_serialize(v->view, &val);
        v->ops->view_release(v->view);
        rec_put_kind(&f->b, dname, dlen, v->key, v->klen, val.data, val.len, v->expire);
        buf_free(&val);
        free(v->key);
        if (f->b.len >= OUT_FLUSH) out_flush(f);
    }
    q->nviews = 0;
}

/* The walk's items go to the walk's own queue. */
static void walk_visit(void *ctx, const domain *d, item *it)
{
    snapshot *sn = ctx;
    save_into(sn, &sn->walk, d, it);
}

static int walk_full(void *ctx)
{
    snapshot *sn = ctx;
    return sn->walk.b.len >= CHUNK_BYTES || sn->walk.nrefs >= 64 || sn->walk.nviews >= 16;
}

/* take(): what writers saved in the shard (locked) is set aside to be
 * written once the lock is let go; the shard gets a drained queue back, so
 * no buffer is freed and made again. */
static void take_pending(void *ctx, void **slot)
{
    snapshot *sn = ctx;
    outq *q = *slot;
    if (!q || q->count == 0) return;
    if (sn->ntaken == sn->taken_cap) {
        sn->taken_cap = sn->taken_cap ? sn->taken_cap * 2 : 16;
        sn->taken = xrealloc(sn->taken, sn->taken_cap * sizeof *sn->taken);
    }
    sn->taken[sn->ntaken++] = q;
    *slot = sn->nspare ? sn->spare[--sn->nspare] : NULL;
}

static void free_queue(outq *q)
{
    buf_free(&q->b);
    free(q->refs);
    free(q->views);
    free(q);
}

/* take() at the end: the shard's queue is set aside for good. */
static void take_last(void *ctx, void **slot)
{
    snapshot *sn = ctx;
    take_pending(ctx, slot);
    if (*slot) {   /* an empty queue: keep it with the spares, or free it */
        if (sn->nspare < SPARES) sn->spare[sn->nspare++] = *slot;
        else free_queue(*slot);
        *slot = NULL;
    }
}

/* Write the queues set aside; they become spares (up to SPARES). */
static void drain_taken(snapshot *sn)
{
    for (size_t i = 0; i < sn->ntaken; i++) {
        outq *q = sn->taken[i];
        sn->pend_written += q->count;
        q->count = 0;
        drain(sn, q);
        if (sn->nspare < SPARES) sn->spare[sn->nspare++] = q;
        else free_queue(q);
    }
    sn->ntaken = 0;
}

snapshot *snapshot_begin(keyspace *ks, const char *path,
                         void (*at_start)(keyspace *ks, void *arg), void *arg, char *err,
                         size_t errlen)
{
    snapshot *sn = xcalloc(1, sizeof *sn);
    size_t tlen = strlen(path) + 32;
    sn->path = xstrdup(path);
    sn->tmp = xmalloc(tlen);
    snprintf(sn->tmp, tlen, "%s.tmp-%d", path, (int)getpid());
    sn->f.fd = open(sn->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (sn->f.fd < 0) {
        snprintf(err, errlen, "can't create %s: %s", sn->tmp, strerror(errno));
        free(sn->tmp);
        free(sn->path);
        free(sn);
        return NULL;
    }
    sn->ks = ks;
    sn->t0 = util_mono_us();
    sn->pit = ks_pit_begin(ks, cow_save, sn);
    sn->start_ms = ks_pit_instant(sn->pit);
    if (extras_fn) extras_fn(&sn->extras);
    if (at_start) at_start(ks, arg);
    return sn;
}

void snapshot_set_extras(void (*extras)(buf *records)) { extras_fn = extras; }

int snapshot_finish(snapshot *sn, snapshot_result *res, char *err, size_t errlen)
{
    fout *f = &sn->f;
    uint64_t count;
    int rc;

    memset(res, 0, sizeof *res);
    rec_header(&f->b, REC_KIND_SNAPSHOT, sn->start_ms);
    out_append(f, sn->extras.data, sn->extras.len);
    buf_free(&sn->extras);
    /* Even when writing failed, the walk goes on to the end: every item
     * must carry the new mark before the next snapshot flips it again.
     * What writers saved is collected from every shard every SWEEP_EVERY
     * steps (a counter writers would share costs them more). */
    for (size_t i = 0; i < ks_pit_shards(sn->pit); i++) {
        uint64_t cursor = 0;
        do {
            cursor = ks_pit_read(sn->pit, i, cursor, CHUNK_BUCKETS, walk_visit, walk_full,
                                 take_pending);
            drain(sn, &sn->walk);
            drain_taken(sn);
            if (++sn->chunks >= SWEEP_EVERY) {
                sn->chunks = 0;
                ks_pit_collect(sn->pit, take_pending);
                drain_taken(sn);
            }
        } while (cursor);
    }
    ks_pit_end(&sn->pit, take_last);
    drain_taken(sn);

    count = sn->walk.count + sn->pend_written;
    rec_end(&f->b, count);
    out_flush(f);
    if (!f->err && fsync(f->fd) < 0) f->err = errno;
    if (close(f->fd) < 0 && !f->err) f->err = errno;
    if (!f->err && durable_replace(sn->tmp, sn->path) < 0) f->err = errno;
    if (f->err) {
        snprintf(err, errlen, "writing %s: %s", sn->tmp, strerror(f->err));
        unlink(sn->tmp);
    }
    rc = f->err ? -1 : 0;

    res->keys = count;
    res->bytes = f->bytes;
    res->start_ms = sn->start_ms;
    res->took_us = util_mono_us() - sn->t0;
    buf_free(&f->b);
    buf_free(&sn->walk.b);
    free(sn->walk.refs);
    free(sn->walk.views);
    for (size_t i = 0; i < sn->nspare; i++) free_queue(sn->spare[i]);
    free(sn->taken);
    free(sn->tmp);
    free(sn->path);
    free(sn);
    return rc;
}
