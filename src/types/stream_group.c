/* stream_group.c - consumer groups, consumers and pending entries, 7.0's
 * read counters, and the groups' persisted form. See stream_group.h. */
#include "types/stream_group.h"

#include <stdlib.h>
#include <string.h>

#include "lib/bgfree.h"
#include "lib/slice.h"
#include "lib/util.h"
#include "types/stream_bytes.h"

/* Big groups are freed by the background thread (bgfree.h). */
#define BG_FREE_BYTES (64 * 1024)

#define NACK(n, f) ((snack *)((char *)(n) - offsetof(snack, f)))

typedef struct name_key {
    const char *p;
    size_t n;
} name_key;

/* Redis's radix tree order: bytes, then the shorter first. */
static int name_cmp(const char *a, size_t an, const name_key *k)
{
    return slice_cmp(a, an, k->p, k->n);
}

static int group_cmp(const avl_node *n, const void *key)
{
    const sgroup *g = (const sgroup *)n;
    return name_cmp(g->name, g->nlen, key);
}

static int consumer_cmp(const avl_node *n, const void *key)
{
    const sconsumer *c = (const sconsumer *)n;
    return name_cmp(c->name, c->nlen, key);
}

static int gnack_cmp(const avl_node *n, const void *key)
{
    return sid_cmp(NACK(n, gnode)->id, *(const stream_id *)key);
}

static int cnack_cmp(const avl_node *n, const void *key)
{
    return sid_cmp(NACK(n, cnode)->id, *(const stream_id *)key);
}

static sgroups *groups_of(stream *s)
{
    if (!s->groups) {
        s->groups = xmalloc(sizeof *s->groups);
        memset(s->groups, 0, sizeof *s->groups);
        s->mem += sizeof *s->groups;
    }
    return s->groups;
}

static void charge(stream *s, sgroup *g, long long delta)
{
    s->mem += (size_t)delta;
    g->mem += (size_t)delta;
}

/* ---- groups ---- */

sgroup *sg_find(const stream *s, const char *name, size_t n)
{
    name_key k = {name, n};
    return s->groups ? (sgroup *)avl_find(s->groups->root, group_cmp, &k) : NULL;
}

sgroup *sg_create(stream *s, const char *name, size_t n, stream_id last, long long entries_read)
{
    name_key k = {name, n};
    sgroups *gs;
    sgroup *g;
    if (sg_find(s, name, n)) return NULL;
    gs = groups_of(s);
    g = xmalloc(sizeof *g + n);
    memset(g, 0, sizeof *g);
    g->last_id = last;
    g->entries_read = entries_read;
    g->nlen = n;
    memcpy(g->name, name, n);
    avl_insert(&gs->root, &g->node, group_cmp, &k);
    gs->n++;
    charge(s, g, (long long)(sizeof *g + n));
    return g;
}

static void free_nack(avl_node *n, void *ctx)
{
    (void)ctx;
    free(NACK(n, gnode));
}

static void free_consumer(avl_node *n, void *ctx)
{
    (void)ctx;
    free(n);
}

static void free_group(void *p)
{
    sgroup *g = p;
    avl_destroy(g->pel, free_nack, NULL);
    avl_destroy(g->consumers, free_consumer, NULL);
    free(g);
}

void sg_destroy(stream *s, sgroup *g)
{
    name_key k = {g->name, g->nlen};
    avl_remove(&s->groups->root, group_cmp, &k);
    s->groups->n--;
    s->mem -= g->mem;
    if (g->mem >= BG_FREE_BYTES) bgfree_submit(free_group, g);
    else free_group(g);
}

sgroup *sg_first(const stream *s) { return s->groups ? (sgroup *)avl_first(s->groups->root) : NULL; }

sgroup *sg_next(const stream *s, const sgroup *g)
{
    name_key k = {g->name, g->nlen};
    return (sgroup *)avl_seek(s->groups->root, group_cmp, &k, 1);
}

uint64_t sg_count(const stream *s) { return s->groups ? s->groups->n : 0; }

static void free_group_node(avl_node *n, void *ctx)
{
    (void)ctx;
    free_group(n);
}

void sg_free_all(stream *s)
{
    if (!s->groups) return;
    avl_destroy(s->groups->root, free_group_node, NULL);
    free(s->groups);
    s->groups = NULL;
}

/* ---- consumers ---- */

sconsumer *sc_find(const sgroup *g, const char *name, size_t n)
{
    name_key k = {name, n};
    return (sconsumer *)avl_find(g->consumers, consumer_cmp, &k);
}

sconsumer *sc_create(stream *s, sgroup *g, const char *name, size_t n, int64_t now)
{
    name_key k = {name, n};
    sconsumer *c = xmalloc(sizeof *c + n);
    memset(c, 0, sizeof *c);
    c->seen = now;
    c->nlen = n;
    memcpy(c->name, name, n);
    avl_insert(&g->consumers, &c->node, consumer_cmp, &k);
    g->nconsumers++;
    charge(s, g, (long long)(sizeof *c + n));
    return c;
}

uint64_t sc_delete(stream *s, sgroup *g, sconsumer *c)
{
    name_key k = {c->name, c->nlen};
    uint64_t n = c->npel;
    snack *e;
    while ((e = c->pel ? NACK(avl_first(c->pel), cnode) : NULL)) sn_delete(s, g, e);
    avl_remove(&g->consumers, consumer_cmp, &k);
    g->nconsumers--;
    charge(s, g, -(long long)(sizeof *c + c->nlen));
    free(c);
    return n;
}

sconsumer *sc_first(const sgroup *g) { return (sconsumer *)avl_first(g->consumers); }

sconsumer *sc_next(const sgroup *g, const sconsumer *c)
{
    name_key k = {c->name, c->nlen};
    return (sconsumer *)avl_seek(g->consumers, consumer_cmp, &k, 1);
}

/* ---- pending entries ---- */

snack *sn_find(const sgroup *g, stream_id id)
{
    avl_node *n = avl_find(g->pel, gnack_cmp, &id);
    return n ? NACK(n, gnode) : NULL;
}

snack *sn_add(stream *s, sgroup *g, sconsumer *c, stream_id id, int64_t delivered, uint64_t count)
{
    snack *e = xmalloc(sizeof *e);
    e->id = id;
    e->delivered = delivered;
    e->count = count;
    e->c = c;
    avl_insert(&g->pel, &e->gnode, gnack_cmp, &id);
    avl_insert(&c->pel, &e->cnode, cnack_cmp, &id);
    g->npel++;
    c->npel++;
    charge(s, g, (long long)sizeof *e);
    return e;
}

void sn_move(snack *e, sconsumer *c)
{
    if (e->c == c) return;
    avl_remove(&e->c->pel, cnack_cmp, &e->id);
    e->c->npel--;
    avl_insert(&c->pel, &e->cnode, cnack_cmp, &e->id);
    c->npel++;
    e->c = c;
}

void sn_delete(stream *s, sgroup *g, snack *e)
{
    avl_remove(&g->pel, gnack_cmp, &e->id);
    avl_remove(&e->c->pel, cnack_cmp, &e->id);
    g->npel--;
    e->c->npel--;
    charge(s, g, -(long long)sizeof *e);
    free(e);
}

snack *sn_seek(const sgroup *g, stream_id id)
{
    avl_node *n = avl_seek(g->pel, gnack_cmp, &id, 0);
    return n ? NACK(n, gnode) : NULL;
}

snack *sn_next(const sgroup *g, const snack *e)
{
    avl_node *n = avl_seek(g->pel, gnack_cmp, &e->id, 1);
    return n ? NACK(n, gnode) : NULL;
}

snack *sn_seek_c(const sconsumer *c, stream_id id)
{
    avl_node *n = avl_seek(c->pel, cnack_cmp, &id, 0);
    return n ? NACK(n, cnode) : NULL;
}

snack *sn_next_c(const sconsumer *c, const snack *e)
{
    avl_node *n = avl_seek(c->pel, cnack_cmp, &e->id, 1);
    return n ? NACK(n, cnode) : NULL;
}

snack *sn_last(const sgroup *g)
{
    avl_node *n = avl_last(g->pel);
    return n ? NACK(n, gnode) : NULL;
}

/* ---- read counters ---- */

static int id_zero(stream_id id) { return !id.ms && !id.seq; }

long long sg_estimate_read(const stream *s, stream_id id)
{
    int cl;
    if (!s->entries_added) return 0;
    if (!s->length && sid_cmp(id, s->last_id) <= 0) return (long long)s->entries_added;
    cl = sid_cmp(id, s->last_id);
    if (cl == 0) return (long long)s->entries_added;
    if (cl > 0) return SG_UNKNOWN;
    if (id_zero(s->max_deleted) || sid_cmp(s->max_deleted, s->first_id) < 0) {
        int cf = sid_cmp(id, s->first_id);
        if (cf < 0) return (long long)(s->entries_added - s->length);
        if (cf == 0) return (long long)(s->entries_added - s->length + 1);
    }
    return SG_UNKNOWN;
}

int sg_tombstones_from(const stream *s, stream_id start)
{
    if (!s->length || id_zero(s->max_deleted)) return 0;
    if (sid_cmp(s->first_id, s->max_deleted) > 0) return 0;
    return sid_cmp(start, s->max_deleted) <= 0;
}

int sg_lag(const stream *s, const sgroup *g, long long *lag)
{
    long long read;
    *lag = 0;
    if (!s->entries_added) return 0;
    if (g->entries_read != SG_UNKNOWN && !sg_tombstones_from(s, g->last_id)) {
        *lag = (long long)s->entries_added - g->entries_read;   /* may be negative, as Redis's */
        return 0;
    }
    read = sg_estimate_read(s, g->last_id);
    if (read == SG_UNKNOWN) return -1;
    *lag = (long long)s->entries_added - read;
    return 0;
}

/* ---- the persisted form ----
 * varints: the group count; per group its name (length, bytes), last ID,
 * entries-read + 1 (0: unknown), its PEL's count and each entry (ID,
 * zigzagged delivery time, delivery count) by ID, its consumer count and
 * per consumer its name, zigzagged seen-time, its PEL's count and their
 * IDs (each pending in the group and no other consumer's). */

static void put_name(buf *out, const char *p, size_t n)
{
    sb_put_u(out, n);
    buf_append(out, p, n);
}

void sg_serialize(const stream *s, buf *out)
{
    sb_put_u(out, sg_count(s));
    for (const sgroup *g = sg_first(s); g; g = sg_next(s, g)) {
        put_name(out, g->name, g->nlen);
        sb_put_id(out, g->last_id);
        sb_put_u(out, (uint64_t)(g->entries_read + 1));
        sb_put_u(out, g->npel);
        for (const snack *e = sn_seek(g, (stream_id){0, 0}); e; e = sn_next(g, e)) {
            sb_put_id(out, e->id);
            sb_put_u(out, sb_zig(e->delivered));
            sb_put_u(out, e->count);
        }
        sb_put_u(out, g->nconsumers);
        for (const sconsumer *c = sc_first(g); c; c = sc_next(g, c)) {
            put_name(out, c->name, c->nlen);
            sb_put_u(out, sb_zig(c->seen));
            sb_put_u(out, c->npel);
            for (const snack *e = sn_seek_c(c, (stream_id){0, 0}); e; e = sn_next_c(c, e)) {
                sb_put_id(out, e->id);
            }
        }
    }
}

static const char *get_name(sb_reader *r, size_t *n)
{
    uint64_t len = sb_get_u(r);
    const char *p = r->p;
    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        return NULL;
    }
    r->p += len;
    *n = (size_t)len;
    return p;
}

/* A pending entry read before its consumer: parked on this placeholder
 * until a consumer claims it. */
static sconsumer orphan;

int sg_restore(stream *s, const char **p, const char *end)
{
    sb_reader r = {*p, end, 0};
    uint64_t ng = sb_get_u(&r);
    if (r.bad || ng > (uint64_t)(end - r.p)) return -1;
    for (uint64_t i = 0; i < ng; i++) {
        size_t nl;
        const char *name = get_name(&r, &nl);
        stream_id last, prev = {0, 0};
        uint64_t er, np, nc, owned = 0;
        sgroup *g;
        if (r.bad) return -1;
        last = sb_get_id(&r);
        er = sb_get_u(&r);
        np = sb_get_u(&r);
        if (r.bad || er > (uint64_t)INT64_MAX || np > (uint64_t)(end - r.p)) return -1;
        if (!(g = sg_create(s, name, nl, last, (long long)er - 1))) return -1;
        for (uint64_t j = 0; j < np; j++) {
            stream_id id = sb_get_id(&r);
            int64_t t = sb_unzig(sb_get_u(&r));
            uint64_t cnt = sb_get_u(&r);
            snack *e;
            if (r.bad || (j && sid_cmp(id, prev) <= 0)) return -1;
            /* into the group's PEL alone for now */
            e = xmalloc(sizeof *e);
            *e = (snack){.id = id, .delivered = t, .count = cnt, .c = &orphan};
            avl_insert(&g->pel, &e->gnode, gnack_cmp, &id);
            g->npel++;
            charge(s, g, (long long)sizeof *e);
            prev = id;
        }
        nc = sb_get_u(&r);
        if (r.bad || nc > (uint64_t)(end - r.p)) return -1;
        for (uint64_t j = 0; j < nc; j++) {
            size_t cl;
            const char *cname = get_name(&r, &cl);
            int64_t seen;
            uint64_t cp;
            sconsumer *c;
            if (r.bad) return -1;
            seen = sb_unzig(sb_get_u(&r));
            cp = sb_get_u(&r);
            if (r.bad || sc_find(g, cname, cl) || cp > (uint64_t)(end - r.p)) return -1;
            c = sc_create(s, g, cname, cl, seen);
            for (uint64_t k = 0; k < cp; k++) {
                stream_id id = sb_get_id(&r);
                snack *e;
                if (r.bad || !(e = sn_find(g, id)) || e->c != &orphan) return -1;
                e->c = c;
                avl_insert(&c->pel, &e->cnode, cnack_cmp, &id);
                c->npel++;
                owned++;
            }
        }
        if (owned != g->npel) return -1;   /* an entry nobody has */
    }
    *p = r.p;
    return 0;
}
