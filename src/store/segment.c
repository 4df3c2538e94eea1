/* store.c - see store.h. */
#include "store/segment.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static inline size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static seg *seg_new(size_t cap)
{
    seg *g = xmalloc(sizeof(seg) + cap);
    g->next = g->prev = NULL;
    atomic_init(&g->refs, 1);
    g->cap = (uint32_t)cap;
    g->used = 0;
    return g;
}

static void enqueue(segq *sq, seg *g)
{
    g->prev = sq->tail;
    if (sq->tail) sq->tail->next = g;
    else sq->head = g;
    sq->tail = g;
    sq->bytes += g->cap;
    sq->nsegs++;
}

item *seg_alloc(segstore *s, int q, size_t size, size_t room, size_t *grown, int *solo)
{
    segq *sq = &s->q[q];
    seg *g = sq->open;
    size_t need = align8(size);
    *grown = 0;
    *solo = need >= SEG_SOLO_MIN;
    if (*solo) {
        /* A segment of its own; the open segment stays open for small items. */
        g = seg_new(align8(room > size ? room : size));
        g->q = (uint8_t)q;
        enqueue(sq, g);
        *grown = g->cap + sizeof(seg);
    } else if (!g || g->cap - g->used < need) {
        /* Segments grow with the shard, to about a sixteenth of it: a small
         * shard (many domains, or a small maxmemory over many shards) then
         * wastes little in the partly filled segments appends go to. */
        size_t cap = SEG_MIN, want = seg_bytes(s) / 16;
        if (want > SEG_MAX) want = SEG_MAX;
        while (cap < want || cap < need) cap *= 2;
        g = seg_new(cap);
        g->q = (uint8_t)q;
        enqueue(sq, g);
        sq->open = g;
        *grown = cap + sizeof(seg);
    }
    {
        item *it = (item *)(g->data + g->used);
        g->used += (uint32_t)need;
        s->used += need;
        s->live += need;
        return it;
    }
}

int seg_resize_solo(segstore *s, item *it, size_t size)
{
    seg *g = (seg *)((char *)it - offsetof(seg, data));
    size_t need = align8(size);
    if (need > g->cap || atomic_load(&g->refs) > 1) return -1;   /* too small, or being sent */
    s->used += need - g->used;
    s->live += need - g->used;
    g->used = (uint32_t)need;
    return 0;
}

static void unlink_seg(segstore *s, seg *g)
{
    segq *sq = &s->q[g->q];
    if (g->prev) g->prev->next = g->next;
    else sq->head = g->next;
    if (g->next) g->next->prev = g->prev;
    else sq->tail = g->prev;
    if (sq->open == g) sq->open = NULL;
    sq->bytes -= g->cap;
    sq->nsegs--;
    g->next = g->prev = NULL;
}

size_t seg_kill(segstore *s, item *it)
{
    size_t fp = item_footprint(it), freed;
    seg *g;
    it->kmeta |= ITEM_DEAD;
    s->live -= fp;
    if (!item_solo(it)) return 0;
    g = (seg *)((char *)it - offsetof(seg, data));
    unlink_seg(s, g);
    s->used -= g->used;
    freed = g->cap + sizeof(seg);
    seg_unref(g);   /* a reply may still be sending it */
    return freed;
}

seg *seg_pop(segstore *s, int q)
{
    segq *sq = &s->q[q];
    seg *g = sq->head;
    if (g) unlink_seg(s, g);
    return g;
}

void *seg_ref(item *it)
{
    seg *g = (seg *)((char *)it - offsetof(seg, data));
    atomic_fetch_add(&g->refs, 1);
    return g;
}

void seg_unref(void *owner)
{
    seg *g = owner;
    if (atomic_fetch_sub(&g->refs, 1) == 1) free(g);
}

void seg_requeue(segstore *s, int q, seg *g)
{
    item *it = (item *)g->data;
    g->q = (uint8_t)q;
    enqueue(&s->q[q], g);
    s->used += g->used;
    s->live += item_footprint(it);
}

void seg_clear(segstore *s)
{
    for (int q = 0; q < 2; q++) {
        seg *g = s->q[q].head;
        while (g) {
            seg *n = g->next;
            seg_unref(g);
            g = n;
        }
        memset(&s->q[q], 0, sizeof s->q[q]);
    }
    s->used = s->live = 0;
}

item *seg_next(seg *g, uint32_t *off)
{
    item *it;
    if (*off >= g->used) return NULL;
    it = (item *)(g->data + *off);
    *off += (uint32_t)item_footprint(it);
    return it;
}
