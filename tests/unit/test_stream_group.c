/* Unit tests for consumer groups (types/stream_group.h): a seeded random
 * stream of group, consumer and pending-entry operations (create, destroy,
 * deliveries, moves between consumers, acknowledgements, consumer
 * deletions) checked after every step against a plain model (each pending
 * entry's consumer, time and count, each consumer's count, the walks of a
 * group's and a consumer's PEL in ID order) and against the memory the
 * stream counts, which returns to the bare stream's when everything goes;
 * the persisted form round-tripping through stream_serialize and
 * stream_restore, stream_dup and frozen views byte for byte, and every
 * truncation and many damaged bytes of it refused (or read as a valid
 * stream) without a fault; the read counters of 7.0 at their cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/bgfree.h"
#include "lib/buf.h"
#include "types/stream.h"
#include "types/stream_group.h"

#define NG 3
#define NC 4
#define NID 64

typedef struct mpend {
    int c;                  /* consumer index, -1: not pending */
    int64_t t;
    uint64_t count;
} mpend;

typedef struct mgroup {
    int live;
    int cons[NC];           /* consumer exists */
    mpend p[NID];
} mgroup;

static const char *gname[NG] = {"g", "group-b", ""};
static const char *cname[NC] = {"alice", "bob", "c", "a-very-long-consumer-name"};

static stream_id idn(int i) { return (stream_id){1000 + (uint64_t)i / 3, (uint64_t)i % 3}; }

static buf ser(const stream *s)
{
    buf b = {0};
    stream_serialize(s, &b);
    return b;
}

static int same_bytes(const buf *a, const buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Compare the stream's groups with the model. */
static int matches(const stream *s, const mgroup *m)
{
    for (int gi = 0; gi < NG; gi++) {
        const sgroup *g = sg_find(s, gname[gi], strlen(gname[gi]));
        uint64_t npel = 0;
        if (!m[gi].live != !g) return 0;
        if (!g) continue;
        for (int ci = 0; ci < NC; ci++) {
            const sconsumer *c = sc_find(g, cname[ci], strlen(cname[ci]));
            uint64_t mine = 0;
            int last = -1;
            if (!m[gi].cons[ci] != !c) return 0;
            if (!c) continue;
            for (int i = 0; i < NID; i++) mine += m[gi].p[i].c == ci;
            if (c->npel != mine) return 0;
            for (const snack *k = sn_seek_c(c, (stream_id){0, 0}); k; k = sn_next_c(c, k)) {
                int i = (int)((k->id.ms - 1000) * 3 + k->id.seq);
                if (i <= last || m[gi].p[i].c != ci || k->c != c) return 0;
                last = i;
                mine--;
            }
            if (mine) return 0;
        }
        for (int i = 0; i < NID; i++) {
            const snack *k = sn_find(g, idn(i));
            if ((m[gi].p[i].c >= 0) != (k != NULL)) return 0;
            if (k && (k->delivered != m[gi].p[i].t || k->count != m[gi].p[i].count)) return 0;
            npel += k != NULL;
        }
        if (g->npel != npel) return 0;
    }
    return 1;
}

static size_t groups_mem(const stream *s)
{
    size_t n = 0;
    for (const sgroup *g = sg_first(s); g; g = sg_next(s, g)) n += g->mem;
    return n;
}

static void random_groups(uint64_t seed)
{
    uint64_t st = seed;
    stream *s = stream_new();
    mgroup m[NG];
    size_t bare;
    int bad = 0, roundtrips = 0;
    memset(m, 0, sizeof m);
    for (int gi = 0; gi < NG; gi++)
        for (int i = 0; i < NID; i++) m[gi].p[i].c = -1;
    for (int i = 0; i < NID; i++) {
        slice fv[2] = {{"f", 1}, {"v", 1}};
        stream_append(s, idn(i), 1, fv);
    }
    bare = s->mem;
    for (int step = 0; step < 6000; step++) {
        int gi = (int)(check_rand(&st) % NG), ci = (int)(check_rand(&st) % NC);
        int i = (int)(check_rand(&st) % NID), x = (int)(check_rand(&st) % 100);
        sgroup *g = sg_find(s, gname[gi], strlen(gname[gi]));
        sconsumer *c = g ? sc_find(g, cname[ci], strlen(cname[ci])) : NULL;
        int64_t now = (int64_t)step * 7 - 1000;   /* negative times persist too */
        if (!g) {
            if (x < 30) {
                g = sg_create(s, gname[gi], strlen(gname[gi]), idn(i), (long long)x - 1);
                m[gi].live = 1;
            }
        } else if (x < 2) {
            sg_destroy(s, g);
            memset(&m[gi], 0, sizeof m[gi]);
            for (int k = 0; k < NID; k++) m[gi].p[k].c = -1;
        } else if (!c) {
            sc_create(s, g, cname[ci], strlen(cname[ci]), now);
            m[gi].cons[ci] = 1;
        } else if (x < 6) {
            uint64_t n = sc_delete(s, g, c), want = 0;
            for (int k = 0; k < NID; k++)
                if (m[gi].p[k].c == ci) {
                    m[gi].p[k].c = -1;
                    want++;
                }
            m[gi].cons[ci] = 0;
            if (n != want) bad++;
        } else if (x < 60) {   /* a delivery: new, or taken from whoever had it */
            snack *k = sn_find(g, idn(i));
            if (k) {
                sn_move(k, c);
                k->delivered = now;
                k->count++;
                m[gi].p[i].count++;
            } else {
                sn_add(s, g, c, idn(i), now, 1);
                m[gi].p[i].count = 1;
            }
            m[gi].p[i].c = ci;
            m[gi].p[i].t = now;
        } else {
            snack *k = sn_find(g, idn(i));
            if (k) {
                sn_delete(s, g, k);
                m[gi].p[i].c = -1;
            }
        }
        if (!matches(s, m)) bad++;
        if (step % 97 == 0) {   /* the persisted form, copies and views */
            buf a = ser(s), b, cpy, vw = {0};
            stream *r = stream_restore(a.data, a.len), *d = stream_dup(s);
            void *v = stream_view(s);
            if (!r || !matches(r, m)) bad++;
            b = r ? ser(r) : (buf){0};
            cpy = ser(d);
            stream_view_serialize(v, &vw);
            if (!same_bytes(&a, &b) || !same_bytes(&a, &cpy) || !same_bytes(&a, &vw)) bad++;
            if (r && groups_mem(r) != groups_mem(s)) bad++;   /* counted alike */
            stream_free(r);
            stream_free(d);
            stream_view_release(v);
            buf_free(&a);
            buf_free(&b);
            buf_free(&cpy);
            buf_free(&vw);
            roundtrips++;
        }
    }
    CHECK(bad == 0);
    CHECK(roundtrips > 50);
    for (int gi = 0; gi < NG; gi++) {
        sgroup *g = sg_find(s, gname[gi], strlen(gname[gi]));
        if (g) sg_destroy(s, g);
    }
    /* everything the groups held is given back, but the empty tree's head */
    CHECK(s->mem == bare + sizeof(sgroups) || (s->groups == NULL && s->mem == bare));
    stream_free(s);
}

static void damaged_bytes(void)
{
    stream *s = stream_new();
    slice fv[2] = {{"f", 1}, {"v", 1}};
    buf a;
    int faults = 0, accepted = 0;
    uint64_t st = 77;
    sgroup *g;
    sconsumer *c;
    for (int i = 0; i < 10; i++) stream_append(s, idn(i), 1, fv);
    g = sg_create(s, "g", 1, idn(5), 6);
    c = sc_create(s, g, "c", 1, 12345);
    for (int i = 0; i < 6; i++) sn_add(s, g, c, idn(i), 1000 + i, (uint64_t)i);
    sc_create(s, g, "idle", 4, 99);
    sg_create(s, "other", 5, idn(9), SG_UNKNOWN);
    a = ser(s);
    for (size_t n = 0; n < a.len; n++) {   /* every truncation is refused */
        stream *r = stream_restore(a.data, n);
        if (r) faults++;
        stream_free(r);
    }
    for (int t = 0; t < 3000; t++) {   /* damaged bytes: refused, or a valid stream */
        char *p = malloc(a.len);
        stream *r;
        memcpy(p, a.data, a.len);
        p[check_rand(&st) % a.len] ^= (char)(1 + check_rand(&st) % 255);
        if ((r = stream_restore(p, a.len))) {
            buf b = ser(r);
            stream *again = stream_restore(b.data, b.len);
            if (!again) faults++;
            stream_free(again);
            buf_free(&b);
            accepted++;
        }
        stream_free(r);
        free(p);
    }
    CHECK(faults == 0);
    CHECK(accepted < 3000);
    buf_free(&a);
    stream_free(s);
}

static void read_counters(void)
{
    stream *s = stream_new();
    slice fv[2] = {{"f", 1}, {"v", 1}};
    sgroup *g;
    long long lag;
    CHECK(sg_estimate_read(s, idn(3)) == 0);            /* nothing ever added */
    for (int i = 1; i <= 5; i++) stream_append(s, idn(i), 1, fv);
    CHECK(sg_estimate_read(s, idn(5)) == 5);            /* the last entry */
    CHECK(sg_estimate_read(s, idn(9)) == SG_UNKNOWN);   /* the future */
    CHECK(sg_estimate_read(s, idn(1)) == 1);            /* the first, no tombstones */
    CHECK(sg_estimate_read(s, idn(0)) == 0);            /* before the first */
    CHECK(sg_estimate_read(s, idn(3)) == SG_UNKNOWN);   /* in between */
    g = sg_create(s, "g", 1, idn(2), 2);
    CHECK(sg_lag(s, g, &lag) == 0 && lag == 3);
    stream_delete(s, idn(4));
    s->max_deleted = idn(4);
    CHECK(sg_tombstones_from(s, idn(2)) && !sg_tombstones_from(s, idn(5)));
    CHECK(sg_lag(s, g, &lag) == -1);                    /* a tombstone ahead, in between */
    g->last_id = idn(5);
    CHECK(sg_lag(s, g, &lag) == 0 && lag == 3);         /* its counter, none ahead */
    g->entries_read = SG_UNKNOWN;
    CHECK(sg_lag(s, g, &lag) == 0 && lag == 0);         /* estimated: at the last entry */
    g->entries_read = 9;
    CHECK(sg_lag(s, g, &lag) == 0 && lag == -4);        /* as Redis: it may go negative */
    stream_free(s);
}

int main(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) random_groups(seed * 0x9e3779b97f4a7c15ull);
    damaged_bytes();
    read_counters();
    bgfree_drain();
    return check_done("stream_group");
}
