/* store.c - see store.h. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static inline size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static seg *seg_new(size_t cap)
{
    seg *g = xmalloc(sizeof(seg) + cap);
    g->next = NULL;
    g->cap = (uint32_t)cap;
    g->used = 0;
    return g;
}

item *store_alloc(store *s, int q, size_t size, size_t *grown)
{
    segq *sq = &s->q[q];
    seg *g = sq->tail;
    size_t need = align8(size);
    item *it;
    *grown = 0;
    if (!g || g->cap - g->used < need) {
        size_t cap;
        if (need > STORE_SEG_MAX / 2) {
            cap = need;   /* a segment of its own */
        } else {
            if (s->next_cap < STORE_SEG_MIN) s->next_cap = STORE_SEG_MIN;
            cap = s->next_cap;
            while (cap < need) cap *= 2;
            if (s->next_cap < STORE_SEG_MAX) s->next_cap = cap * 2;
            if (s->next_cap > STORE_SEG_MAX) s->next_cap = STORE_SEG_MAX;
        }
        g = seg_new(cap);
        if (sq->tail) sq->tail->next = g;
        else sq->head = g;
        sq->tail = g;
        sq->bytes += cap;
        sq->nsegs++;
        *grown = cap + sizeof(seg);
    }
    it = (item *)(g->data + g->used);
    g->used += (uint32_t)need;
    s->used += need;
    s->live += need;
    return it;
}

void store_kill(store *s, item *it)
{
    it->kmeta |= ITEM_DEAD;
    s->live -= item_footprint(it);
}

seg *store_pop(store *s, int q)
{
    segq *sq = &s->q[q];
    seg *g = sq->head;
    if (!g) return NULL;
    sq->head = g->next;
    if (!sq->head) sq->tail = NULL;
    sq->bytes -= g->cap;
    sq->nsegs--;
    g->next = NULL;
    return g;
}

void store_free_seg(seg *g) { free(g); }

void store_clear(store *s)
{
    for (int q = 0; q < 2; q++) {
        seg *g = s->q[q].head;
        while (g) {
            seg *n = g->next;
            free(g);
            g = n;
        }
        memset(&s->q[q], 0, sizeof s->q[q]);
    }
    s->used = s->live = 0;
    s->next_cap = 0;
}

item *store_next(seg *g, uint32_t *off)
{
    item *it;
    if (*off >= g->used) return NULL;
    it = (item *)(g->data + *off);
    *off += (uint32_t)item_footprint(it);
    return it;
}
