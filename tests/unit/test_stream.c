/* Unit tests for streams: the node encoding (IDs delta-encoded against the
 * master ID at every delta width, negative sequence deltas, entries sharing
 * the master's fields or not, deletion flags, Redis's listpack byte count
 * against hand-computed sizes), node boundaries at stream-node-max-entries
 * (deleted entries counted) and -max-bytes, then seeded random streams of
 * appends, deletions and trims (exact, approximate, LIMIT) checked against a
 * plain array after every step, walks both ways over random ranges, the
 * persisted form round-tripping and rejecting damaged bytes, copies
 * independent of their original, frozen views showing their instant while
 * the stream changes and is freed, and the radix-tree node count for key
 * sets whose tree is known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/bgfree.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "types/stream.h"

/* ---- the model ---- */

typedef struct mentry {
    stream_id id;
    int nf;
    char f[3][8], v[3][16];
    int live;
} mentry;

typedef struct model {
    mentry *a;
    size_t n, cap, live;
} model;

static unsigned long long rng = 88172645463325252ull;
static unsigned long long rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fv_of(const mentry *e, slice *fv)
{
    for (int i = 0; i < e->nf; i++) {
        fv[2 * i] = (slice){e->f[i], strlen(e->f[i])};
        fv[2 * i + 1] = (slice){e->v[i], strlen(e->v[i])};
    }
}

static void random_entry(mentry *e, stream_id id)
{
    static const char *names[] = {"f", "g", "123", "", "field"};
    memset(e, 0, sizeof *e);
    e->id = id;
    e->live = 1;
    if (rnd() % 4) {
        e->nf = 2;
        strcpy(e->f[0], "f");
        strcpy(e->f[1], "g");
    } else {
        e->nf = 1 + (int)(rnd() % 3);
        for (int i = 0; i < e->nf; i++) strcpy(e->f[i], names[rnd() % 5]);
    }
    for (int i = 0; i < e->nf; i++)
        snprintf(e->v[i], sizeof e->v[i], rnd() % 2 ? "%llu" : "v%llu", rnd() % 100000);
}

/* Whether entry e, as read, is the model's m. */
static int same_entry(const sentry *e, const mentry *m)
{
    sfield f;
    const char *fp, *vp;
    size_t fl, vl;
    if (sid_cmp(e->id, m->id) != 0 || (int)e->nf != m->nf) return 0;
    sfield_init(&f, e);
    for (int i = 0; i < m->nf; i++) {
        sfield_next(&f, &fp, &fl, &vp, &vl);
        if (fl != strlen(m->f[i]) || memcmp(fp, m->f[i], fl)) return 0;
        if (vl != strlen(m->v[i]) || memcmp(vp, m->v[i], vl)) return 0;
    }
    return 1;
}

/* The stream's live entries from lo to hi, both ways, are the model's. */
static int matches(const stream *s, const model *m, stream_id lo, stream_id hi)
{
    for (int rev = 0; rev < 2; rev++) {
        stream_iter it;
        sentry e;
        size_t i = rev ? m->n : 0;
        int ok = 1;
        stream_iter_init(&it, s, lo, hi, rev);
        for (;;) {
            const mentry *want = NULL;
            while (rev ? i > 0 : i < m->n) {
                const mentry *c = &m->a[rev ? i - 1 : i];
                rev ? i-- : i++;
                if (c->live && sid_cmp(c->id, lo) >= 0 && sid_cmp(c->id, hi) <= 0) {
                    want = c;
                    break;
                }
            }
            int got = stream_iter_next(&it, &e);
            if (!want || !got) {
                ok = !want && !got;
                break;
            }
            if (!same_entry(&e, want)) {
                ok = 0;
                break;
            }
        }
        stream_iter_done(&it);
        if (!ok) return 0;
    }
    return 1;
}

static const stream_id LO = {0, 0}, HI = {UINT64_MAX, UINT64_MAX};

/* ---- nodes ---- */

static void test_node_encoding(void)
{
    slice fv[2] = {{"f", 1}, {"v", 1}}, other[2] = {{"g", 1}, {"v", 1}};
    stream_id ids[] = {{1000, 5}, {1000, 6}, {1000, 7}, {1062, 0}, {1063, 0}, {1063, 1},
                       {1000000, 3}, {UINT64_MAX - 1, 0}, {UINT64_MAX, UINT64_MAX}};
    snode *n = snode_new(ids[0], 1, fv);
    sentry e;
    const char *p;
    int k = 0;
    CHECK(n != NULL);
    /* Redis's listpack for one entry f=v: header 6 + end 1; the master's
     * count, deleted, num-fields (2 bytes each: a small integer and its back
     * length), "f" (3: a header byte, the byte, a back length), the 0
     * terminator (2); the entry's flags, ms delta, seq delta (2 each), "v"
     * (3), lp-count (2) */
    CHECK(snode_redis_bytes(n) == 29);
    for (size_t i = 1; i < sizeof ids / sizeof ids[0]; i++)
        CHECK(snode_append(&n, ids[i], 1, i == 5 ? other : fv) == 0);
    CHECK(n->count == 9 && n->live == 9);
    for (p = snode_first(n); p < snode_end(n); k++) {
        p = snode_entry(n, p, &e);
        CHECK(sid_cmp(e.id, ids[k]) == 0);
        CHECK(((e.flags & SNODE_SAME) != 0) == (k != 5));   /* shared fields but for "g" */
        CHECK(e.nf == 1);
    }
    CHECK(k == 9 && p == snode_end(n));
    /* a seq below the master's (a later ms) is a negative delta: 1062-0 */
    CHECK(sid_cmp(n->last, ids[8]) == 0);
    /* deletion flags: the entry stays, flagged */
    p = snode_first(n);
    snode_entry(n, p, &e);
    uint64_t rb = snode_redis_bytes(n);
    snode_mark_deleted(n, e.at);
    snode_entry(n, p, &e);
    CHECK(e.flags & SNODE_DELETED);
    CHECK(n->live == 8 && n->count == 9);
    CHECK(snode_redis_bytes(n) == rb);   /* counters 9/0 -> 8/1: same listpack sizes */
    /* snode_check recomputes what the node knows of itself */
    {
        snode *c = malloc(sizeof *c + n->len);
        memcpy(c, n, sizeof *c + n->len);
        c->count = c->live = 0;
        c->rfixed = 0;
        CHECK(snode_check(c) == 0);
        CHECK(c->count == 9 && c->live == 8 && c->rfixed == n->rfixed && sid_cmp(c->last, n->last) == 0);
        c->data[c->entries] ^= 0x40;   /* the first entry's ms delta changes: out of order */
        CHECK(snode_check(c) < 0);
        free(c);
    }
    free(n);
}

/* Integer-looking strings take listpack integer sizes. */
static void test_id_format(void)
{
    char b[48], want[48];
    stream_id ids[] = {{0, 0}, {9, 10}, {99, 100}, {UINT64_MAX, UINT64_MAX}, {1234567890123ull, 42}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(want, sizeof want, "%llu-%llu", (unsigned long long)ids[i].ms, (unsigned long long)ids[i].seq);
        CHECK(sid_fmt(b, ids[i]) == strlen(want) && strcmp(b, want) == 0);
    }
    for (int i = 0; i < 100000; i++) {
        stream_id id = {rnd() >> (rnd() % 64), rnd() % 1000};
        snprintf(want, sizeof want, "%llu-%llu", (unsigned long long)id.ms, (unsigned long long)id.seq);
        CHECK(sid_fmt(b, id) == strlen(want) && strcmp(b, want) == 0);
    }
}

static void test_listpack_sizes(void)
{
    slice a[2] = {{"f", 1}, {"127", 3}}, b[2] = {{"f", 1}, {"128", 3}}, c[2] = {{"f", 1}, {"0128", 4}};
    stream_id id = {1, 1};
    snode *x = snode_new(id, 1, a), *y = snode_new(id, 1, b), *z = snode_new(id, 1, c);
    CHECK(snode_redis_bytes(x) == 28);        /* 127: a 7-bit integer, 2 bytes */
    CHECK(snode_redis_bytes(y) == 29);        /* 128: a 13-bit integer, 3 bytes */
    CHECK(snode_redis_bytes(z) == 32);        /* "0128" is no integer: a 4-byte string, 6 bytes */
    free(x);
    free(y);
    free(z);
}

static void test_boundaries(void)
{
    slice fv[2] = {{"f", 1}, {"v", 1}};
    stream *s = stream_new();
    stream_set_limits(3, 0);
    for (uint64_t i = 1; i <= 7; i++) CHECK(stream_append(s, (stream_id){i, 0}, 1, fv) == 0);
    CHECK(s->nn == 3 && s->length == 7);   /* 3 + 3 + 1 */
    CHECK(stream_delete(s, (stream_id){7, 0}) == 1);   /* the tail node's only entry: it goes */
    CHECK(s->nn == 2);
    CHECK(stream_delete(s, (stream_id){6, 0}) == 1);   /* flagged: the node keeps 3 entries */
    CHECK(stream_append(s, (stream_id){8, 0}, 1, fv) == 0);
    CHECK(s->nn == 3);                                  /* deleted ones count toward the bound */
    stream_free(s);
    /* bytes: a node takes no entry that brings Redis's listpack to the bound */
    s = stream_new();
    stream_set_limits(0, 32);
    CHECK(stream_append(s, (stream_id){1, 0}, 1, fv) == 0);
    CHECK(stream_append(s, (stream_id){1, 1}, 1, fv) == 0);   /* 29 + 2 raw bytes < 32: appended */
    CHECK(s->nn == 1);
    CHECK(stream_append(s, (stream_id){1, 2}, 1, fv) == 0);   /* 40 + 2 >= 32: a new node */
    CHECK(s->nn == 2);
    stream_free(s);
    stream_set_limits(100, 4096);
}

static void test_rax_nodes(void)
{
    slice fv[2] = {{"f", 1}, {"v", 1}};
    stream *s = stream_new();
    stream_set_limits(1, 4096);
    CHECK(stream_rax_nodes(s) == 1);                      /* the empty root */
    stream_append(s, (stream_id){1, 1}, 1, fv);
    CHECK(stream_rax_nodes(s) == 2);                      /* a compressed root and the key */
    stream_append(s, (stream_id){1, 2}, 1, fv);
    CHECK(stream_rax_nodes(s) == 4);                      /* root, a branch at byte 15, two keys */
    stream_append(s, (stream_id){2, 0}, 1, fv);
    /* root (7 bytes) -> branch {1,2} at byte 7; 1 -> run (7) -> branch at 15 -> 2 keys;
     * 2 -> run (8) -> key */
    CHECK(stream_rax_nodes(s) == 8);
    stream_free(s);
    stream_set_limits(100, 4096);
}

/* ---- random streams against the model ---- */

static void m_push(model *m, const mentry *e)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->a = xrealloc(m->a, m->cap * sizeof *m->a);
    }
    m->a[m->n++] = *e;
    m->live++;
}

/* The model trimmed as Redis trims: whole nodes need the stream's node
 * layout, so the model takes what the stream removed (checked to be a
 * prefix of the live entries of the right length). */
static int m_trim_prefix(model *m, int64_t k)
{
    for (size_t i = 0; i < m->n && k > 0; i++)
        if (m->a[i].live) {
            m->a[i].live = 0;
            m->live--;
            k--;
        }
    return k == 0;
}

static stream_id random_id_near(const model *m)
{
    if (!m->n || rnd() % 5 == 0) return (stream_id){rnd() % 4000, rnd() % 3};
    stream_id id = m->a[rnd() % m->n].id;
    if (rnd() % 3 == 0) id.seq += rnd() % 2;
    return id;
}

static void random_stream(unsigned seed, long long max_e, long long max_b)
{
    stream *s = stream_new();
    model m = {0};
    uint64_t ms = 1;
    int ok = 1;
    rng = 88172645463325252ull ^ seed;
    stream_set_limits(max_e, max_b);
    for (int step = 0; step < 4000 && ok; step++) {
        unsigned x = (unsigned)(rnd() % 100);
        if (x < 55) {
            mentry e;
            slice fv[6];
            uint64_t gap = rnd() % 10 == 0 ? rnd() % 100000 : rnd() % 3;
            stream_id id = {ms + gap, gap ? rnd() % 3 : (m.n ? m.a[m.n - 1].id.seq + 1 + rnd() % 2 : 0)};
            if (m.n && sid_cmp(id, m.a[m.n - 1].id) <= 0) id = (stream_id){m.a[m.n - 1].id.ms + 1, 0};
            ms = id.ms;
            random_entry(&e, id);
            fv_of(&e, fv);
            CHECK(stream_append(s, id, (uint32_t)e.nf, fv) == 0);
            m_push(&m, &e);
        } else if (x < 75) {
            stream_id id = random_id_near(&m);
            int had = 0;
            for (size_t i = 0; i < m.n; i++)
                if (m.a[i].live && sid_cmp(m.a[i].id, id) == 0) {
                    had = 1;
                    m.a[i].live = 0;
                    m.live--;
                }
            CHECK(stream_has(s, id) == had);
            CHECK(stream_delete(s, id) == had);
        } else if (x < 85) {
            stream_trim_args a = {0};
            int64_t dry, got;
            a.strategy = rnd() % 2 ? STREAM_TRIM_MAXLEN : STREAM_TRIM_MINID;
            a.approx = (int)(rnd() % 2);
            a.limit = a.approx && rnd() % 2 ? (long long)(rnd() % 30) : 0;
            a.maxlen = (long long)(m.live > 5 ? m.live - rnd() % (m.live / 2 + 1) : 0);
            a.minid = random_id_near(&m);
            dry = stream_trim(s, &a, 1);
            got = stream_trim(s, &a, 0);
            CHECK((dry > 0) == (got > 0));
            CHECK(m_trim_prefix(&m, got));
            if (!a.approx && !a.limit && a.strategy == STREAM_TRIM_MAXLEN)
                CHECK(s->length == (m.live < (size_t)a.maxlen ? m.live : (size_t)a.maxlen));
            if (!a.approx && a.strategy == STREAM_TRIM_MINID)
                for (size_t i = 0; i < m.n; i++)
                    if (m.a[i].live) CHECK(sid_cmp(m.a[i].id, a.minid) >= 0);
        } else {
            stream_id lo = random_id_near(&m), hi = random_id_near(&m);
            if (rnd() % 4 == 0) lo = LO;
            if (rnd() % 4 == 0) hi = HI;
            ok = matches(s, &m, lo, hi);
            CHECK(ok);
        }
        CHECK(s->length == m.live);
        if (max_e) {
            for (size_t i = 0; i < s->nn; i++) CHECK(s->v[s->head + i].n->count <= (uint64_t)max_e);
        }
    }
    CHECK(matches(s, &m, LO, HI));
    /* the persisted form round-trips, and damage is refused or harmless */
    {
        buf b = {0};
        stream *r, *d;
        stream_serialize(s, &b);
        r = stream_restore(b.data, b.len);
        CHECK(r != NULL);
        if (r) {
            CHECK(r->nn == s->nn && r->length == s->length && r->mem <= s->mem);
            CHECK(matches(r, &m, LO, HI));
            CHECK(stream_rax_nodes(r) == stream_rax_nodes(s));
            for (size_t i = 0; i < s->nn; i++)
                CHECK(snode_redis_bytes(r->v[i].n) == snode_redis_bytes(s->v[s->head + i].n));
            stream_free(r);
        }
        for (int t = 0; t < 300; t++) {
            buf c = {0};
            buf_append(&c, b.data, b.len);
            if (c.len) c.data[rnd() % c.len] ^= (char)(1 + rnd() % 255);
            if (t % 7 == 0 && c.len) c.len = rnd() % c.len;
            r = stream_restore(c.data, c.len);
            if (r) {   /* still a valid stream: walk it all */
                stream_iter it;
                sentry e;
                stream_iter_init(&it, r, LO, HI, (int)(t % 2));
                while (stream_iter_next(&it, &e)) (void)e;
                stream_iter_done(&it);
                stream_free(r);
            }
            buf_free(&c);
        }
        /* a copy is independent, and a view keeps its instant */
        d = stream_dup(s);
        CHECK(d != NULL);
        {
            void *v = stream_view(s);
            buf vb = {0};
            slice fv[2] = {{"late", 4}, {"x", 1}};
            stream_trim_args a = {STREAM_TRIM_MAXLEN, 0, 0, 3, {0, 0}};
            CHECK(v != NULL);
            if (s->length) {
                stream_id first;
                stream_edge(s, 0, &first);
                stream_delete(s, first);
            }
            stream_append(s, (stream_id){UINT64_MAX - 5, 0}, 1, fv);
            stream_trim(s, &a, 0);
            stream_free(s);   /* the view outlives the stream */
            s = NULL;
            stream_view_serialize(v, &vb);
            CHECK(vb.len == b.len && memcmp(vb.data, b.data, b.len) == 0);
            stream_view_release(v);
            buf_free(&vb);
        }
        CHECK(matches(d, &m, LO, HI));
        stream_free(d);
        buf_free(&b);
    }
    free(m.a);
    stream_free(s);
    stream_set_limits(100, 4096);
}

int main(void)
{
    test_node_encoding();
    test_id_format();
    test_listpack_sizes();
    test_boundaries();
    test_rax_nodes();
    random_stream(1, 100, 4096);
    random_stream(2, 5, 4096);
    random_stream(3, 0, 200);
    random_stream(4, 3, 0);
    random_stream(5, 1, 4096);
    bgfree_drain();
    return check_done("stream");
}
