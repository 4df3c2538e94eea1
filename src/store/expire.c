/* expire.c - the incremental expiry sweep and the periodic work around it:
 * walks each shard's table, touching only items flagged with a TTL, within
 * a time budget, and keeps resizes and compaction moving. */
#include "store/keyspace_int.h"
#include "lib/latency.h"
#include "lib/util.h"

#define SWEEP_CHUNK 2048

/* Sweep one chunk of a shard; returns the number expired and adds the
 * number of items with a TTL looked at to *seen. */
static size_t sweep(shard *s, domain *d, int64_t now, size_t *seen)
{
    size_t expired = 0, span, pos;
    kref r;
    pthread_mutex_lock(&s->lock);
    {
        long long before = ks__table_bytes(s);
        table_step(&s->t, 256);
        table_maybe_shrink(&s->t);
        ks__mem_add(s, d->ks, ks__table_bytes(s) - before);
    }
    ks__compact(s, d, now);
    span = table_span(&s->t);
    pos = s->sweep_pos;
    if (s->expires == 0) span = 0;
    for (size_t n = 0; n < SWEEP_CHUNK && span; n++) {
        unsigned ub;
        item *it;
        if (pos >= span) pos = 0;
        it = table_at(&s->t, pos, &r.pos, &ub);
        if (!it || !(ub & UB_TTL)) { pos++; continue; }
        (*seen)++;
        if (item_expire(it) > now) { pos++; continue; }
        ks__ref_item(&r, s, d, it, &r.pos);
        ks__drop(&r, it, KS_DEL_EXPIRED, 0);
        expired++;
        span = table_span(&s->t);   /* the entry shifted into pos is looked at next */
    }
    s->sweep_pos = pos;
    pthread_mutex_unlock(&s->lock);
    return expired;
}

size_t ks_cron(keyspace *ks, int part, int nparts, int64_t budget_us)
{
    int64_t start = util_mono_us();
    size_t total = 0;
    pthread_rwlock_rdlock(&ks->reg_lock);
    for (int di = 0; di < ks->ndomains; di++) {
        domain *d = ks->domains[di];
        for (int i = part; i < d->nshards; i += nparts) {
            size_t seen, expired;
            do {
                seen = 0;
                expired = sweep(&d->shards[i], d, util_now_ms(), &seen);
                total += expired;
                /* keep going on this shard while a quarter of what we see is dead */
            } while (expired * 4 > seen && seen > 0 && util_mono_us() - start < budget_us);
        }
        if (util_mono_us() - start >= budget_us) break;
    }
    pthread_rwlock_unlock(&ks->reg_lock);
    /* Redis's "expire-cycle" latency event times its activeExpireCycle */
    if (latency_threshold()) latency_add_if_needed("expire-cycle", (util_mono_us() - start) / 1000);
    return total;
}


size_t ks_drop_expired(keyspace *ks, int64_t now)
{
    size_t total = 0;
    pthread_rwlock_rdlock(&ks->reg_lock);
    for (int di = 0; di < ks->ndomains; di++) {
        domain *d = ks->domains[di];
        for (int i = 0; i < d->nshards; i++) {
            shard *s = &d->shards[i];
            pthread_mutex_lock(&s->lock);
            for (size_t pos = 0; s->expires && pos < table_span(&s->t);) {
                unsigned ub;
                table_pos tp;
                kref r;
                item *it = table_at(&s->t, pos, &tp, &ub);
                if (!it || !(ub & UB_TTL) || item_expire(it) > now) {
                    pos++;
                    continue;
                }
                ks__ref_item(&r, s, d, it, &tp);
                ks__drop(&r, it, KS_DEL_EXPIRED, 0);   /* the entry shifted into pos is next */
                total++;
            }
            pthread_mutex_unlock(&s->lock);
        }
    }
    pthread_rwlock_unlock(&ks->reg_lock);
    return total;
}
