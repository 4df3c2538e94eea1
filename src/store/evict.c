/* evict.c - reclaiming memory: compaction of dead bytes and eviction at
 * maxmemory, both by recycling a shard's oldest segments, plus S3-FIFO's
 * ghost table. See keyspace.h for the locking rules. */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/latency.h"
#include "store/keyspace_int.h"
#include "lib/util.h"

/* ---- S3-FIFO ghost: fingerprints of keys evicted from the small queue ---- */

static size_t ghost_slot(const shard *s, uint64_t h) { return (size_t)(h >> 20) & s->ghost_mask; }
static uint32_t ghost_fp(uint64_t h) { return (uint32_t)(h >> 32) | 1u; }

void ks__ghost_add(shard *s, keyspace *ks, uint64_t h)
{
    size_t want = 64;
    while (want < table_count(&s->t)) want *= 2;
    if (!s->ghost || s->ghost_mask + 1 < want / 2) {
        ks__mem_add(s, ks, (long long)(want - (s->ghost ? s->ghost_mask + 1 : 0)) * 4);
        free(s->ghost);
        s->ghost = xcalloc(want, sizeof(uint32_t));
        s->ghost_mask = want - 1;
    }
    s->ghost[ghost_slot(s, h)] = ghost_fp(h);
}

/* Was this key evicted recently? Forgets it either way. */
int ks__ghost_take(shard *s, uint64_t h)
{
    size_t i;
    if (!s->ghost) return 0;
    i = ghost_slot(s, h);
    if (s->ghost[i] != ghost_fp(h)) return 0;
    s->ghost[i] = 0;
    return 1;
}

/* ---- compaction keeps pace with writes ----
 * Recycling moves items, so it never runs inside a command, where item
 * pointers are live. A write that opens a new segment in a shard with too
 * much dead space notes the shard here (per thread), and ks_after_command
 * compacts it once the command is done. */

#define GC_PENDING_MAX 8
static _Thread_local struct { domain *d; shard *s; } gc_pending[GC_PENDING_MAX];
static _Thread_local int gc_npending;

int ks__needs_compaction(const shard *s)
{
    size_t bytes = seg_bytes(&s->st);
    return bytes >= 4 * SEG_MIN && seg_dead(&s->st) * 4 > bytes;
}

void ks__want_compaction(domain *d, shard *s)
{
    for (int i = 0; i < gc_npending; i++)
        if (gc_pending[i].s == s) return;
    if (gc_npending == GC_PENDING_MAX) return;   /* the cron sweep catches up */
    ks_domain_hold(d);
    gc_pending[gc_npending].d = d;
    gc_pending[gc_npending].s = s;
    gc_npending++;
}

void ks_after_command(keyspace *ks)
{
    while (gc_npending) {
        gc_npending--;
        domain *d = gc_pending[gc_npending].d;
        shard *s = gc_pending[gc_npending].s;
        pthread_mutex_lock(&s->lock);
        ks__compact(s, d, util_now_ms());
        pthread_mutex_unlock(&s->lock);
        ks_domain_put(ks, d);
    }
}

/* ---- recycling segments: compaction and eviction ----
 *
 * Recycling takes the oldest segment of a queue and decides, for each live
 * item in it, whether it is copied to the tail of a queue or evicted; then
 * the segment is freed. Compaction keeps every live item. Eviction follows
 * the policy:
 *  - S3-FIFO (Yang et al., SOSP'23): new keys enter a small probation queue
 *    (about 10% of the memory). Leaving it, a key read since it came in
 *    moves to the main queue; one that was not is evicted and remembered in
 *    the ghost table, so that if it comes back it goes straight to main. In
 *    main, a key that was read is reinserted with its counter decremented;
 *    one that was not is evicted. One-hit wonders and scans therefore pass
 *    through the small queue without pushing out the working set.
 *  - allkeys-lru is CLOCK over the same FIFO (reinsert if read since the
 *    last pass), allkeys-lfu is the same with the 2-bit counter, so a key
 *    survives as many passes as it has recent reads.
 *  - allkeys-random and the volatile-* policies pick victims by sampling
 *    the table (see evict_sampled); their bytes come back when compaction
 *    recycles the segments they were in. */

enum { MODE_COMPACT, MODE_EVICT };

/* Recycle the oldest segment of queue q. */
static void recycle(shard *s, domain *d, int q, int mode, int policy, int64_t now)
{
    keyspace *ks = d->ks;
    seg *g = seg_pop(&s->st, q);
    long long freed_bytes;
    uint32_t off = 0;
    item *it;
    if (!g) return;
    freed_bytes = (long long)(g->cap + sizeof(seg));
    s->st.used -= g->used;
    while ((it = seg_next(g, &off))) {
        kref r;
        unsigned ub;
        int dest = q, keep = 1, is_small = q == SEG_SMALL, reason = KS_DEL_EVICTED;
        size_t grown, size;
        if (item_dead(it)) continue;
        s->st.live -= item_footprint(it);   /* the segment's bytes go away; copies count anew */
        r.d = d;
        r.s = s;
        r.quiet = 0;
        r.key = item_key(it);
        r.klen = item_klen(it);
        r.h = hash_siphash13(r.key, r.klen, ks->sipkey);
        if (table_find(&s->t, r.h, r.key, r.klen, &r.pos) != it) continue;   /* stale */
        ub = table_ubits(&r.pos);
        if (item_has_ttl(it) && item_expire(it) <= now) {
            keep = 0;
            reason = KS_DEL_EXPIRED;
        } else if (mode == MODE_EVICT) {
            unsigned f = UB_FREQ(ub);
            if (policy == KS_S3FIFO && is_small) {
                keep = f > 0;
                dest = SEG_MAIN;
                ub = UB_WITH_FREQ(ub, 0);
                if (!keep) ks__ghost_add(s, ks, r.h);
            } else if (policy == KS_ALLKEYS_LRU) {
                keep = f > 0;
                ub = UB_WITH_FREQ(ub, 0);
            } else {
                keep = f > 0;
                ub = UB_WITH_FREQ(ub, keep ? f - 1 : 0);
            }
            if (keep && (UB_FREQ(ub) < f || dest != q)) s->aged++;   /* closer to eviction */
        }
        if (!keep) {
            ks__drop(&r, it, reason, KS_DROP_RECYCLED);   /* its bytes go with the segment */
            continue;
        }
        if (item_solo(it)) {
            /* Alone in its segment: requeue the segment rather than copy. */
            seg_requeue(&s->st, dest, g);
            table_set_ubits(&r.pos, ub);
            s->gen++;
            return;
        }
        size = item_size(item_klen(it), item_vlen(it), item_has_ttl(it));
        {
            int solo;
            item *copy = seg_alloc(&s->st, dest, size, size, &grown, &solo);
            memcpy(copy, it, size);
            copy->vmeta = (it->vmeta & ~ITEM_SOLO) | (solo ? ITEM_SOLO : 0);
            table_replace(&s->t, &r.pos, copy, ub);
        }
        ks__mem_add(s, ks, (long long)grown);
    }
    seg_unref(g);
    ks__mem_add(s, ks, -freed_bytes);
    s->gen++;
}

/* Compact when a quarter of the shard's segment bytes are dead (small
 * shards only once nothing in them is live), a few segments at a time:
 * the oldest segments hold the most dead bytes, so each pass frees more
 * than the shard's average. */
void ks__compact(shard *s, domain *d, int64_t now)
{
    if (s->st.live == 0 && seg_bytes(&s->st)) {
        long long bytes = 0;
        for (int q = 0; q < 2; q++)
            for (seg *g = s->st.q[q].head; g; g = g->next) bytes += (long long)(g->cap + sizeof(seg));
        seg_clear(&s->st);
        ks__mem_add(s, d->ks, -bytes);
        return;
    }
    for (int rounds = 0; rounds < 8; rounds++) {
        size_t bytes = seg_bytes(&s->st), dead = seg_dead(&s->st);
        int q;
        if (bytes < 4 * SEG_MIN || dead * 4 <= bytes) return;
        /* Which queue holds the dead bytes is not tracked: take turns. */
        q = (s->gc_turn++ & 1) ? SEG_MAIN : SEG_SMALL;
        if (!s->st.q[q].head) q ^= 1;
        recycle(s, d, q, MODE_COMPACT, KS_NOEVICTION, now);
    }
}

/* Evict one victim chosen by sampling the table, as Redis does for these
 * policies: a random key, or of five keys with an expiry the one expiring
 * first (volatile-ttl) or with the lowest access counter (volatile-lru and
 * volatile-lfu; the sampled survivors age: lru clears their counter, lfu
 * decrements it). Returns 1 if a key was evicted. */
static int evict_sampled(shard *s, domain *d, int policy, int64_t now)
{
    size_t span = table_span(&s->t);
    item *best = NULL;
    table_pos best_pos = {0}, pos, seen[5];
    unsigned ub, best_ub = 0;
    int samples = policy == KS_ALLKEYS_RANDOM || policy == KS_VOLATILE_RANDOM ? 1 : 5, nseen = 0;
    if (span == 0) return 0;
    for (int tries = 0; tries < 64 && nseen < samples; tries++) {
        item *it = table_at(&s->t, util_rand64() % span, &pos, &ub);
        int better;
        if (!it) continue;
        if (policy != KS_ALLKEYS_RANDOM && !(ub & UB_TTL)) continue;
        seen[nseen++] = pos;
        if (policy == KS_VOLATILE_TTL) better = !best || item_expire(it) < item_expire(best);
        else better = !best || UB_FREQ(ub) < UB_FREQ(best_ub);
        if (better) {
            best = it;
            best_pos = pos;
            best_ub = ub;
        }
    }
    if (!best) return 0;
    if (policy == KS_VOLATILE_LRU || policy == KS_VOLATILE_LFU) {
        for (int i = 0; i < nseen; i++) {
            unsigned u = table_ubits(&seen[i]), f = UB_FREQ(u);
            if (f) table_set_ubits(&seen[i], UB_WITH_FREQ(u, policy == KS_VOLATILE_LRU ? 0 : f - 1));
        }
    }
    {
        kref r;
        ks__ref_item(&r, s, d, best, &best_pos);
        ks__drop(&r, best, KS_DEL_EVICTED, 0);
    }
    ks__compact(s, d, now);
    return 1;
}

/* One eviction step on a shard (ks_evict judges the progress). */
static void evict_step(shard *s, domain *d, int policy, int64_t now)
{
    if (policy == KS_ALLKEYS_RANDOM || policy == KS_VOLATILE_RANDOM || policy == KS_VOLATILE_TTL ||
        policy == KS_VOLATILE_LRU || policy == KS_VOLATILE_LFU) {
        /* nothing to sample: dead bytes may still be waiting */
        if (!evict_sampled(s, d, policy, now) && seg_dead(&s->st))
            recycle(s, d, s->st.q[SEG_SMALL].head ? SEG_SMALL : SEG_MAIN, MODE_COMPACT,
                    KS_NOEVICTION, now);
        return;
    }
    if (seg_bytes(&s->st) == 0) return;
    {
        int q = SEG_MAIN;
        size_t small = s->st.q[SEG_SMALL].bytes, total = seg_bytes(&s->st);
        if (!s->st.q[SEG_MAIN].head || (policy == KS_S3FIFO && small * 10 > total) ||
            (policy != KS_S3FIFO && s->st.q[SEG_SMALL].head))
            q = s->st.q[SEG_SMALL].head ? SEG_SMALL : SEG_MAIN;
        recycle(s, d, q, MODE_EVICT, policy, now);
    }
}

/* ks_evict's work, for a policy that evicts. */
static long long evict_until(keyspace *ks, size_t limit, int policy)
{
    long long start = atomic_load(&ks->mem);
    int steps = 0, rounds = 0, progress = 0;
    while (ks_used_memory(ks) > limit) {
        uint64_t c = atomic_fetch_add(&ks->evict_cursor, 1);
        int total;
        pthread_rwlock_rdlock(&ks->reg_lock);
        total = ks->ndomains * ks->nshards;
        {
            domain *d = ks->domains[(c / (uint64_t)ks->nshards) % (uint64_t)ks->ndomains];
            shard *s = &d->shards[c % (uint64_t)ks->nshards];
            uint64_t gone;
            size_t dead;
            pthread_mutex_lock(&s->lock);
            gone = s->evicted + s->expired + s->aged;
            dead = seg_dead(&s->st);
            evict_step(s, d, policy, util_now_ms());
            /* Progress is keys removed or aged, or dead bytes reclaimed;
             * copying untouchable keys around is not. */
            progress |= s->evicted + s->expired + s->aged > gone || seg_dead(&s->st) < dead;
            pthread_mutex_unlock(&s->lock);
        }
        pthread_rwlock_unlock(&ks->reg_lock);
        if (++steps >= 2 * total) {
            if (!progress) return -1;   /* a whole round found nothing to evict */
            progress = steps = 0;
            if (++rounds == 16) break;  /* bounded work per command; the next one goes on */
        }
    }
    start -= atomic_load(&ks->mem);
    return start > 0 ? start : 0;
}

/* Timed as Redis times its performEvictions: the "eviction-cycle" latency
 * event, when there was something to evict. */
long long ks_evict(keyspace *ks, size_t limit, int policy)
{
    int64_t t0;
    long long freed;
    if (policy == KS_NOEVICTION) return ks_used_memory(ks) > limit ? -1 : 0;
    if (ks_used_memory(ks) <= limit) return 0;
    t0 = latency_begin();
    freed = evict_until(ks, limit, policy);
    latency_end("eviction-cycle", t0);
    return freed;
}
