/* Unit tests for the sorted-set kind: the B+ tree (zbtree.c) under random
 * insert/delete/update/rank/range streams checked against a sorted array,
 * with its invariants checked after every step and its entry pointers
 * checked against the fdict as chunk cleaning moves entries; leaf fill;
 * the encodings' thresholds; serialize/restore round trips; corrupt
 * persisted bytes rejected. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/util.h"
#include "store/keyspace.h"
#include "store/kind.h"
#include "types/types.h"
#include "types/zbtree.h"
#include "types/zset.h"

static long long max_domains = 16;
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- the tree against a model ---- */

typedef struct mel {
    double score;
    char m[24];
    size_t ml;
} mel;

static mel model[8192];
static size_t nmodel;

static int mel_cmp(const void *a, const void *b)
{
    const mel *x = a, *y = b;
    zbt_key p = {x->score, x->m, x->ml}, q = {y->score, y->m, y->ml};
    return zbt_keycmp(&p, &q);
}

static size_t model_find(const char *m, size_t ml)
{
    for (size_t i = 0; i < nmodel; i++)
        if (model[i].ml == ml && !memcmp(model[i].m, m, ml)) return i;
    return (size_t)-1;
}

static void model_sort(void) { qsort(model, nmodel, sizeof model[0], mel_cmp); }

typedef struct tset {
    fdict d;
    zbtree t;
    int moves;
} tset;

static void on_moved(void *ctx, const char *from, const char *to)
{
    tset *s = ctx;
    zbt_moved(&s->t, from, to);
    s->moves++;
}

static void t_add(tset *s, const char *m, size_t ml, double score)
{
    CHECK(zbt_reserve(&s->t) == 0);
    const char *e = fdict_add(&s->d, m, ml, (const char *)&score, sizeof score);
    zbt_insert(&s->t, e);
}

static void t_del(tset *s, const char *m, size_t ml)
{
    const char *e = fdict_find(&s->d, m, ml);
    zbt_delete(&s->t, e);
    fdict_del_entry(&s->d, e);
}

static int below_score(const char *e, const void *ctx)
{
    zbt_key k;
    zbt_entry_key(e, &k);
    return k.score < *(const double *)ctx;
}

/* The whole order matches the model, and every pointer is the fdict's. */
static int same_as_model(tset *s)
{
    zbt_iter it;
    const char *e;
    size_t i = 0;
    zbt_seek(&it, &s->t, 0);
    while ((e = zbt_step(&it, 1))) {
        zbt_key k;
        zbt_entry_key(e, &k);
        if (i >= nmodel || k.score != model[i].score || k.ml != model[i].ml ||
            memcmp(k.m, model[i].m, k.ml) || fdict_find(&s->d, k.m, k.ml) != e)
            return 0;
        i++;
    }
    return i == nmodel && s->t.count == nmodel;
}

static void test_tree_stream(unsigned steps, int score_range)
{
    tset s;
    const char *why = NULL;
    int broken = 0, bad_rank = 0, bad_at = 0, bad_below = 0, bad_walk = 0, mismatch = 0;
    fdict_init(&s.d);
    s.d.moved = on_moved;
    s.d.moved_ctx = &s;
    s.moves = 0;
    zbt_init(&s.t);
    nmodel = 0;
    for (unsigned step = 0; step < steps; step++) {
        unsigned op = (unsigned)(rnd() % 100);
        /* grow to a few thousand, then shrink and grow again */
        int grow = (step / 4000) % 2 == 0;
        if (nmodel == 0 || (op < (grow ? 55u : 30u) && nmodel < 6000)) {
            mel e;
            e.score = (double)(long long)(rnd() % (unsigned)score_range) - score_range / 2;
            e.ml = (size_t)snprintf(e.m, sizeof e.m, "m%llu", (unsigned long long)(rnd() % 100000));
            if (model_find(e.m, e.ml) != (size_t)-1) continue;
            t_add(&s, e.m, e.ml, e.score);
            model[nmodel++] = e;
            model_sort();
        } else if (op < 75) {
            size_t i = (size_t)(rnd() % nmodel);
            t_del(&s, model[i].m, model[i].ml);
            model[i] = model[--nmodel];
            model_sort();
        } else if (op < 85) {   /* a score update: out of the order and back */
            size_t i = (size_t)(rnd() % nmodel), vl;
            double ns = model[i].score + (double)(long long)(rnd() % 7) - 3;
            const char *e = fdict_find(&s.d, model[i].m, model[i].ml);
            CHECK(zbt_reserve(&s.t) == 0);
            zbt_delete(&s.t, e);
            memcpy(fentry_val_mut(e, &vl), &ns, sizeof ns);
            zbt_insert(&s.t, e);
            model[i].score = ns;
            model_sort();
        } else if (op < 90) {
            size_t i = (size_t)(rnd() % nmodel);
            zbt_key k = {model[i].score, model[i].m, model[i].ml};
            if (zbt_rank(&s.t, &k) != i) bad_rank++;
            zbt_key a;
            zbt_entry_key(zbt_at(&s.t, i), &a);
            if (zbt_keycmp(&a, &k) != 0) bad_at++;
        } else if (op < 95) {
            double bound = (double)(long long)(rnd() % (unsigned)score_range) - score_range / 2;
            size_t want = 0;
            while (want < nmodel && model[want].score < bound) want++;
            if (zbt_count_below(&s.t, below_score, &bound) != want) bad_below++;
        } else {   /* a walk from a rank, either way */
            size_t i = (size_t)(rnd() % nmodel), n = (size_t)(rnd() % 300);
            int dir = rnd() % 2 ? 1 : -1;
            zbt_iter it;
            const char *e;
            zbt_seek(&it, &s.t, i);
            for (size_t k = 0; k < n && (e = zbt_step(&it, dir)); k++) {
                zbt_key a;
                zbt_entry_key(e, &a);
                size_t at = i + (size_t)((long)k * dir);
                if (at >= nmodel || a.score != model[at].score || a.ml != model[at].ml) bad_walk++;
            }
        }
        if (zbt_check(&s.t, &why) < 0) {
            if (!broken++) fprintf(stderr, "tree broken at step %u: %s\n", step, why);
        }
        if (step % 97 == 0 && !same_as_model(&s)) mismatch++;
    }
    CHECK(broken == 0);
    CHECK(bad_rank == 0 && bad_at == 0 && bad_below == 0 && bad_walk == 0);
    CHECK(mismatch == 0);
    CHECK(same_as_model(&s));
    CHECK(s.moves > 0);   /* chunk cleaning moved entries and the tree followed */
    while (nmodel) {
        t_del(&s, model[nmodel - 1].m, model[nmodel - 1].ml);
        nmodel--;
        if (zbt_check(&s.t, &why) < 0) broken++;
    }
    CHECK(broken == 0 && s.t.count == 0 && s.t.root == NULL);
    zbt_free(&s.t);
    fdict_free(&s.d);
}

/* Leaves stay full: appended in order nearly 100%, at random over 70%. */
static void test_tree_fill(void)
{
    tset s;
    char m[32];
    const char *why;
    fdict_init(&s.d);
    s.d.moved = on_moved;
    s.d.moved_ctx = &s;
    zbt_init(&s.t);
    for (int i = 0; i < 50000; i++) t_add(&s, m, (size_t)snprintf(m, sizeof m, "s%08d", i), i);
    CHECK(zbt_check(&s.t, &why) == 0);
    CHECK(zbt_leaf_fill(&s.t) >= 95);
    for (int i = 0; i < 50000; i++) {
        double sc = (double)(rnd() % 1000000);
        t_add(&s, m, (size_t)snprintf(m, sizeof m, "r%08d", i), sc);
    }
    CHECK(zbt_check(&s.t, &why) == 0);
    CHECK(zbt_leaf_fill(&s.t) >= 70);
    /* the order costs about 10 bytes a member */
    CHECK(zbt_mem(&s.t) / s.t.count <= 12);
    fprintf(stderr, "tree: %d%% leaf fill, %.1f bytes a member\n", zbt_leaf_fill(&s.t),
            (double)zbt_mem(&s.t) / (double)s.t.count);
    zbt_free(&s.t);
    fdict_free(&s.d);
}

/* ---- the kind ---- */

static void ref(keyspace *ks, const char *k, kref *r)
{
    ks_ref(ks, ks_default(ks), k, strlen(k), r);
    ks_lock(r);
    ks_find(r, util_now_ms());
}

static const char *enc_of(keyspace *ks, const char *k)
{
    kref r;
    const char *e = "none";
    ref(ks, k, &r);
    if (r.it) e = kind_ops_of(item_kind(r.it))->encoding(r.it);
    ks_unlock(&r);
    return e;
}

static void zadd(keyspace *ks, const char *k, const char *m, size_t ml, double s)
{
    kref r;
    zset_w w;
    ref(ks, k, &r);
    zset_w_open(&w, &r);
    CHECK(zset_w_set(&w, m, ml, s) >= 0);
    zset_w_close(&w, util_now_ms());
    ks_unlock(&r);
}

static void test_thresholds(keyspace *ks)
{
    char m[80];
    for (int i = 0; i < 128; i++) zadd(ks, "n", m, (size_t)snprintf(m, sizeof m, "e%d", i), i);
    CHECK(!strcmp(enc_of(ks, "n"), "listpack"));
    zadd(ks, "n", "e5", 2, 77);   /* an update does not convert */
    CHECK(!strcmp(enc_of(ks, "n"), "listpack"));
    zadd(ks, "n", "e128", 4, 128);
    CHECK(!strcmp(enc_of(ks, "n"), "skiplist"));
    memset(m, 'x', 65);
    zadd(ks, "v", m, 64, 1);
    CHECK(!strcmp(enc_of(ks, "v"), "listpack"));
    zadd(ks, "v", m, 65, 1);
    CHECK(!strcmp(enc_of(ks, "v"), "skiplist"));
    /* never back, even when emptied to one member */
    kref r;
    zset_w w;
    ref(ks, "n", &r);
    zset_w_open(&w, &r);
    zset_w_del_range(&w, 0, 128);
    zset_w_close(&w, util_now_ms());
    CHECK(r.it && zset_len(r.it) == 1);
    ks_unlock(&r);
    CHECK(!strcmp(enc_of(ks, "n"), "skiplist"));
    /* -0 becomes 0 when packed, stays -0 in a tree */
    zadd(ks, "z0", "a", 1, -0.0);
    ref(ks, "z0", &r);
    double s = 1;
    CHECK(zset_score(r.it, "a", 1, &s) && s == 0 && !signbit(s));
    ks_unlock(&r);
    zadd(ks, "v", "neg", 3, -0.0);
    ref(ks, "v", &r);
    CHECK(zset_score(r.it, "neg", 3, &s) && s == 0 && signbit(s));
    ks_unlock(&r);
}

/* The members and scores of k, as text, in order. */
static void dump(keyspace *ks, const char *k, buf *out)
{
    kref r;
    zset_iter i;
    const char *m;
    size_t ml;
    double s;
    char tmp[64];
    out->len = 0;
    ref(ks, k, &r);
    if (r.it && item_kind(r.it) == KIND_ZSET) {
        zset_iter_init(&i, r.it, 0, 1, 0);
        while (zset_next(&i, &m, &ml, &s)) {
            buf_append(out, m, ml);
            buf_append(out, tmp, (size_t)snprintf(tmp, sizeof tmp, "=%.17g;", s));
        }
        zset_iter_done(&i);
    }
    ks_unlock(&r);
}

static void serialize(keyspace *ks, const char *k, buf *out)
{
    kref r;
    out->len = 0;
    ref(ks, k, &r);
    kind_ops_of(KIND_ZSET)->serialize(r.it, out);
    ks_unlock(&r);
}

/* Restore bytes into key k: 1 when accepted. */
static int restore(keyspace *ks, const char *k, const char *p, size_t n)
{
    kref r;
    ref(ks, k, &r);
    item *it = kind_ops_of(KIND_ZSET)->restore(&r, p, n, -1);
    if (it) ks_store(&r, it);
    ks_unlock(&r);
    return it != NULL;
}

static void test_round_trips(keyspace *ks)
{
    buf a = {0}, b = {0}, ser = {0};
    char m[40];
    const char *keys[] = {"n", "v", "z0"};
    for (int i = 0; i < 500; i++)
        zadd(ks, "big", m, (size_t)snprintf(m, sizeof m, "b%d", i), (double)(rnd() % 50) / 4);
    zadd(ks, "big", "negzero", 7, -0.0);
    zadd(ks, "big", "inf", 3, INFINITY);
    zadd(ks, "big", "ninf", 4, -INFINITY);
    for (size_t k = 0; k < 3; k++) {
        serialize(ks, keys[k], &ser);
        CHECK(restore(ks, "copy", ser.data, ser.len));
        dump(ks, keys[k], &a);
        dump(ks, "copy", &b);
        CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
    }
    serialize(ks, "big", &ser);
    CHECK(restore(ks, "copy", ser.data, ser.len));
    CHECK(!strcmp(enc_of(ks, "copy"), "skiplist"));
    dump(ks, "big", &a);
    dump(ks, "copy", &b);
    CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));   /* -0 kept */
    /* a tree shrunk below the thresholds comes back packed, -0 as 0 */
    kref r;
    zset_w w;
    ref(ks, "big", &r);
    zset_w_open(&w, &r);
    zset_w_del_range(&w, 0, zset_len(r.it) - 3);
    zset_w_close(&w, util_now_ms());
    ks_unlock(&r);
    zadd(ks, "big", "negzero", 7, -0.0);
    serialize(ks, "big", &ser);
    CHECK(restore(ks, "copy", ser.data, ser.len));
    CHECK(!strcmp(enc_of(ks, "copy"), "listpack"));
    ref(ks, "copy", &r);
    double s = 1;
    CHECK(zset_score(r.it, "negzero", 7, &s) && s == 0 && !signbit(s));
    ks_unlock(&r);

    /* corrupt bytes: every truncation, a wrong count, disorder, a member
     * twice, NaN, another encoding; random flips never crash and what is
     * accepted is in order */
    serialize(ks, "v", &ser);
    int accepted = 0;
    for (size_t n = 0; n < ser.len; n++) accepted += restore(ks, "bad", ser.data, n);
    CHECK(accepted == 0);
    buf t = {0};
    char hdr = (char)(KIND_ZSET << 4 | ZSET_PACKED), e[64];
    size_t el;
    /* [hdr][count] then "b" 2, "a" 1: out of order */
    buf_append(&t, &hdr, 1);
    buf_append(&t, "\x02", 1);
    el = 0;
    e[el++] = 1; e[el++] = 'b'; el += pack_score_put(e + el, 2);
    e[el++] = 1; e[el++] = 'a'; el += pack_score_put(e + el, 1);
    buf_append(&t, e, el);
    CHECK(!restore(ks, "bad", t.data, t.len));
    t.len = 2;   /* "a" 1 twice... as a then a with 2 */
    el = 0;
    e[el++] = 1; e[el++] = 'a'; el += pack_score_put(e + el, 1);
    e[el++] = 1; e[el++] = 'a'; el += pack_score_put(e + el, 2);
    buf_append(&t, e, el);
    CHECK(!restore(ks, "bad", t.data, t.len));
    t.len = 2;   /* NaN */
    el = 0;
    e[el++] = 1; e[el++] = 'a'; el += pack_score_put(e + el, 1);
    e[el++] = 1; e[el++] = 'b'; el += pack_score_put(e + el, NAN);
    buf_append(&t, e, el);
    CHECK(!restore(ks, "bad", t.data, t.len));
    t.len = 2;   /* well formed: accepted */
    el = 0;
    e[el++] = 1; e[el++] = 'a'; el += pack_score_put(e + el, 1);
    e[el++] = 1; e[el++] = 'b'; el += pack_score_put(e + el, 1);
    buf_append(&t, e, el);
    CHECK(restore(ks, "good", t.data, t.len));
    t.data[1] = 3;   /* the count says three */
    CHECK(!restore(ks, "bad", t.data, t.len));
    t.data[1] = 2;
    t.data[0] = (char)(KIND_ZSET << 4 | ZSET_TREE);
    CHECK(!restore(ks, "bad", t.data, t.len));
    t.data[0] = hdr;
    buf_append(&t, "x", 1);   /* something after */
    CHECK(!restore(ks, "bad", t.data, t.len));
    int disorder = 0;
    for (int k = 0; k < 3000; k++) {
        buf f = {0};
        serialize(ks, k % 2 ? "v" : "n", &f);
        for (int flips = 1 + (int)(rnd() % 3); flips--;)
            f.data[rnd() % f.len] ^= (char)(1u << (rnd() % 8));
        if (restore(ks, "flip", f.data, f.len)) {
            /* whatever was accepted reads back in order */
            kref q;
            zset_iter i;
            const char *mm;
            size_t ml;
            zbt_key prev = {0, NULL, 0}, cur;
            size_t cnt = 0;
            ref(ks, "flip", &q);
            zset_iter_init(&i, q.it, 0, 1, 0);
            while (zset_next(&i, &mm, &ml, &cur.score)) {
                cur.m = mm;
                cur.ml = ml;
                if (cnt++ && zbt_keycmp(&prev, &cur) >= 0) disorder++;
                prev = cur;
            }
            zset_iter_done(&i);
            if (cnt != zset_len(q.it)) disorder++;
            ks_unlock(&q);
        }
        buf_free(&f);
    }
    CHECK(disorder == 0);
    buf_free(&t);
    buf_free(&a);
    buf_free(&b);
    buf_free(&ser);
}

int main(void)
{
    test_tree_stream(24000, 40);      /* many ties: members break them */
    test_tree_stream(12000, 1 << 20); /* few ties */
    test_tree_fill();
    keyspace *ks = ks_create(4, &max_domains);
    types_init();
    test_thresholds(ks);
    test_round_trips(ks);
    ks_destroy(&ks);
    return check_done("test_zset");
}
