/* pit.c - see pit.h. */
#include "store/pit.h"

#include <stdlib.h>

#include "lib/util.h"
#include "store/keyspace_int.h"

struct ks_pit {
    keyspace *ks;
    ks_cow_fn *cow;
    void *ctx;
    int64_t instant;
    domain **doms;        /* the domains at the instant, held */
    int ndoms;
    size_t nshards;
};

ks_pit *ks_pit_begin(keyspace *ks, ks_cow_fn *cow, void *ctx)
{
    ks_pit *p = xcalloc(1, sizeof *p);
    p->ks = ks;
    p->cow = cow;
    p->ctx = ctx;
    /* The instant: no command runs anywhere, so nothing is half-way through
     * a change; the expiry sweep, which may be running, changes nothing a
     * snapshot keeps. */
    p->instant = util_now_ms();
    pthread_rwlock_rdlock(&ks->reg_lock);
    p->ndoms = ks->ndomains;
    p->doms = xmalloc(sizeof(domain *) * (size_t)ks->ndomains);
    for (int i = 0; i < ks->ndomains; i++) {
        p->doms[i] = ks->domains[i];
        ks_domain_hold(ks->domains[i]);
    }
    pthread_rwlock_unlock(&ks->reg_lock);
    p->nshards = (size_t)p->ndoms * (size_t)ks->nshards;
    atomic_store(&ks->snap_mark, ks__mark(ks) ^ 1u);
    atomic_store_explicit(&ks->pit, p, memory_order_release);
    return p;
}

int ks_pit_running(keyspace *ks) { return ks__pit(ks) != NULL; }

int64_t ks_pit_instant(const ks_pit *p) { return p->instant; }
size_t ks_pit_shards(const ks_pit *p) { return p->nshards; }

static shard *shard_at(ks_pit *p, size_t i, domain **d)
{
    *d = p->doms[i / (size_t)p->ks->nshards];
    return &(*d)->shards[i % (size_t)p->ks->nshards];
}

void ks__pit_save(ks_pit *p, shard *s, domain *d, item *it)
{
    item_set_snap(it, ks__mark(p->ks));
    p->cow(p->ctx, &s->cow_slot, d, it);
}

typedef struct read_ctx {
    ks_pit *p;
    shard *s;
    domain *d;
    ks_pit_visit_fn *visit;
} read_ctx;

static void visit_one(void *obj, void *opaque)
{
    read_ctx *rc = opaque;
    item *it = obj;
    if (item_snap(it) == ks__mark(rc->p->ks)) return;   /* read already */
    item_set_snap(it, ks__mark(rc->p->ks));
    rc->visit(rc->p->ctx, rc->d, it);
}

uint64_t ks_pit_read(ks_pit *p, size_t i, uint64_t cursor, int max_buckets, ks_pit_visit_fn *visit,
                     int (*full)(void *ctx), void (*take)(void *ctx, void **slot))
{
    read_ctx rc = {p, NULL, NULL, visit};
    rc.s = shard_at(p, i, &rc.d);
    pthread_mutex_lock(&rc.s->lock);
    for (int n = 0; n < max_buckets && !full(p->ctx); n++) {
        cursor = table_scan(&rc.s->t, cursor, visit_one, &rc);
        if (!cursor) break;
    }
    take(p->ctx, &rc.s->cow_slot);
    pthread_mutex_unlock(&rc.s->lock);
    return cursor;
}

void ks_pit_collect(ks_pit *p, void (*take)(void *ctx, void **slot))
{
    for (size_t i = 0; i < p->nshards; i++) {
        domain *d;
        shard *s = shard_at(p, i, &d);
        pthread_mutex_lock(&s->lock);
        take(p->ctx, &s->cow_slot);
        pthread_mutex_unlock(&s->lock);
    }
}

void ks_pit_end(ks_pit **pp, void (*take)(void *ctx, void **slot))
{
    ks_pit *p = *pp;
    /* Every item carries the new mark now. Once each shard has been locked
     * after this, no writer is still inside the hook. */
    atomic_store(&p->ks->pit, NULL);
    ks_pit_collect(p, take);
    for (int i = 0; i < p->ndoms; i++) ks_domain_put(p->ks, p->doms[i]);
    free(p->doms);
    free(p);
    *pp = NULL;
}
