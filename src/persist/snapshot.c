/* snapshot.c - see snapshot.h. */
#include "persist/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/durable.h"
#include "store/keyspace_int.h"
#include "persist/record.h"
#include "lib/util.h"

#define BIG_VALUE (64 * 1024)       /* written from its segment, not copied */
#define CHUNK_BYTES (256 * 1024)    /* saved per shard-lock hold, at most (about) */
#define CHUNK_BUCKETS 64
#define OUT_FLUSH (1024 * 1024)
#define SWEEP_EVERY 16

typedef struct bigref {
    domain *d;
    const char *key, *val;   /* in the referenced segment, which no one changes now */
    size_t klen, vlen;
    void *owner;
    int64_t expire;
} bigref;

/* Saved items waiting to be written. */
typedef struct outq outq;
struct outq {
    buf b;
    bigref *refs;
    size_t nrefs, cap;
    uint64_t count;
};

typedef struct fout {
    int fd;
    buf b;
    int err;              /* errno of the first failure */
    uint64_t bytes;
} fout;

struct snapshot {
    keyspace *ks;
    char *path, *tmp;
    fout f;
    int64_t start_ms, t0;
    unsigned chunks;            /* walk steps since the last sweep of the shards */
    uint64_t pend_written;      /* records writers saved, written so far */
    domain **doms;        /* the domains at the instant, held */
    int ndoms;
};

/* Save it into q and give it the current mark. Its shard is locked. */
static void save_into(snapshot *sn, outq *q, domain *d, item *it)
{
    int64_t e = item_expire(it);
    item_set_snap(it, ks__mark(sn->ks));
    if (e >= 0 && e <= sn->start_ms) return;   /* already expired at the instant */
    if (item_solo(it) && item_vlen(it) >= BIG_VALUE) {
        if (q->nrefs == q->cap) {
            q->cap = q->cap ? q->cap * 2 : 16;
            q->refs = xrealloc(q->refs, q->cap * sizeof *q->refs);
        }
        /* The reference keeps the bytes; a segment that is referenced is
         * never changed in place (store_resize_solo), and the expiry, which
         * may be, is taken now. */
        q->refs[q->nrefs++] = (bigref){d, item_key(it), item_cval(it), item_klen(it),
                                       item_vlen(it), store_ref(it), e};
    } else {
        rec_item(&q->b, d->name, d->nlen, it, e, 0);
    }
    q->count++;
}

static outq *pend_of(shard *s)
{
    if (!s->snap_pend) s->snap_pend = xcalloc(1, sizeof(outq));
    return s->snap_pend;
}

void snapshot_save(snapshot *sn, shard *s, domain *d, item *it)
{
    save_into(sn, pend_of(s), d, it);
}

void snapshot_save_shard(snapshot *sn, domain *d, shard *s)
{
    size_t span = table_span(&s->t);
    outq *q = pend_of(s);
    for (size_t p = 0; p < span; p++) {
        item *it = table_at(&s->t, p, NULL, NULL);
        if (it && item_snap(it) != ks__mark(sn->ks)) save_into(sn, q, d, it);
    }
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

/* Write what q holds and empty it. */
static void drain(fout *f, outq *q)
{
    if (q->b.len) out_append(f, q->b.data, q->b.len);
    q->b.len = q->b.off = 0;
    for (size_t i = 0; i < q->nrefs; i++) {
        bigref *r = &q->refs[i];
        rec_put(&f->b, r->d->name, r->d->nlen, r->key, r->klen, r->val, r->vlen, r->expire, 1);
        out_flush(f);
        if (!f->err && durable_write(f->fd, r->val, r->vlen) < 0) f->err = errno;
        f->bytes += r->vlen;
        store_unref(r->owner);
    }
    q->nrefs = 0;
}

/* Move what writers saved in shard s (locked) into spare, swapping their
 * buffers, so none is freed and made again; spare was drained. */
static void take_pending(snapshot *sn, shard *s, outq *spare)
{
    outq *q = s->snap_pend, t;
    if (!q || (q->b.len == 0 && q->nrefs == 0)) return;
    t = *q;
    *q = *spare;
    *spare = t;
    sn->pend_written += spare->count;
    spare->count = 0;
}

/* Collect what writers saved in every shard, every SWEEP_EVERY steps of
 * the walk (a counter writers would share costs them more). */
static void drain_pending(snapshot *sn, fout *f, outq *spare, int all)
{
    if (!all && ++sn->chunks < SWEEP_EVERY) return;
    sn->chunks = 0;
    for (int i = 0; i < sn->ndoms; i++)
        for (int k = 0; k < sn->doms[i]->nshards; k++) {
            shard *s = &sn->doms[i]->shards[k];
            pthread_mutex_lock(&s->lock);
            take_pending(sn, s, spare);
            pthread_mutex_unlock(&s->lock);
            drain(f, spare);
        }
}

/* ---- the walk ---- */

typedef struct visit_ctx {
    snapshot *sn;
    domain *d;
    outq *q;
} visit_ctx;

static void visit(void *obj, void *opaque)
{
    visit_ctx *v = opaque;
    item *it = obj;
    if (item_snap(it) != ks__mark(v->sn->ks)) save_into(v->sn, v->q, v->d, it);
}

static void walk_shard(snapshot *sn, domain *d, shard *s, fout *f, outq *q, outq *spare)
{
    uint64_t cursor = 0;
    visit_ctx v = {sn, d, q};
    do {
        pthread_mutex_lock(&s->lock);
        for (int n = 0; n < CHUNK_BUCKETS && q->b.len < CHUNK_BYTES && q->nrefs < 64; n++) {
            cursor = table_scan(&s->t, cursor, visit, &v);
            if (!cursor) break;
        }
        take_pending(sn, s, spare);   /* this shard's, while it is locked anyway */
        pthread_mutex_unlock(&s->lock);
        drain(f, q);
        drain(f, spare);
        drain_pending(sn, f, spare, 0);
    } while (cursor);
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
    /* The instant: no command runs anywhere (the caller's exclusive
     * section), so every item now carries the old mark and nothing is
     * half-way through a change; the expiry sweep, which may be running,
     * changes nothing a snapshot keeps. */
    sn->start_ms = util_now_ms();
    pthread_rwlock_rdlock(&ks->reg_lock);
    sn->ndoms = ks->ndomains;
    sn->doms = xmalloc(sizeof(domain *) * (size_t)ks->ndomains);
    for (int i = 0; i < ks->ndomains; i++) {
        sn->doms[i] = ks->domains[i];
        ks_domain_hold(ks->domains[i]);
    }
    pthread_rwlock_unlock(&ks->reg_lock);
    atomic_store(&ks->snap_mark, ks__mark(ks) ^ 1u);
    atomic_store_explicit(&ks->snap, sn, memory_order_release);
    if (at_start) at_start(ks, arg);
    return sn;
}

int snapshot_finish(snapshot *sn, snapshot_result *res, char *err, size_t errlen)
{
    keyspace *ks = sn->ks;
    fout *f = &sn->f;
    outq q, spare;
    uint64_t count;
    int rc;

    memset(&q, 0, sizeof q);
    memset(&spare, 0, sizeof spare);
    memset(res, 0, sizeof *res);
    rec_header(&f->b, REC_KIND_SNAPSHOT, sn->start_ms);
    /* Even when writing failed, the walk goes on to the end: every item
     * must carry the new mark before the next snapshot flips it again. */
    for (int i = 0; i < sn->ndoms; i++)
        for (int k = 0; k < sn->doms[i]->nshards; k++)
            walk_shard(sn, sn->doms[i], &sn->doms[i]->shards[k], f, &q, &spare);
    /* Done: every item carries the new mark. Once each shard has been
     * locked after this, no writer is still inside snapshot_save, and what
     * writers saved is collected (and their queues freed). */
    atomic_store(&ks->snap, NULL);
    for (int i = 0; i < sn->ndoms; i++)
        for (int k = 0; k < sn->doms[i]->nshards; k++) {
            shard *s = &sn->doms[i]->shards[k];
            outq *pq;
            pthread_mutex_lock(&s->lock);
            pq = s->snap_pend;
            s->snap_pend = NULL;
            pthread_mutex_unlock(&s->lock);
            if (!pq) continue;
            sn->pend_written += pq->count;
            drain(f, pq);
            buf_free(&pq->b);
            free(pq->refs);
            free(pq);
        }

    count = q.count + sn->pend_written;
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
    for (int i = 0; i < sn->ndoms; i++) ks_domain_put(ks, sn->doms[i]);
    free(sn->doms);
    buf_free(&f->b);
    buf_free(&q.b);
    free(q.refs);
    buf_free(&spare.b);
    free(spare.refs);
    free(sn->tmp);
    free(sn->path);
    free(sn);
    return rc;
}
