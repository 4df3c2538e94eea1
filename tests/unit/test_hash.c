/* Unit tests for the hash kind and the fdict under it: random streams of
 * sets and deletes checked against a simple model, across the conversion
 * from the packed encoding and across index resizes and chunk cleaning;
 * memory accounting; serialize/restore round trips and corrupt bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/util.h"
#include "store/keyspace.h"
#include "types/fdict.h"
#include "types/hash.h"
#include "types/types.h"

static long long max_domains = 4;

/* ---- a model: fields f0..fN-1, each absent or holding a value ---- */
#define NF 3000
static char *model[NF];

static void fname(int i, char *out) { snprintf(out, 32, "f%d", i); }

/* A value whose length varies, so rewrites change entry sizes. */
static size_t vmake(unsigned seed, char *out)
{
    size_t n = (seed * 7u) % 40;
    for (size_t i = 0; i < n; i++) out[i] = (char)('a' + (seed + i) % 26);
    return n;
}

static int fdict_matches_model(fdict *d, int nf)
{
    size_t live = 0, seen = 0;
    char f[32];
    for (int i = 0; i < nf; i++) {
        fname(i, f);
        const char *e = fdict_find(d, f, strlen(f));
        if (!model[i]) {
            if (e) return 0;
            continue;
        }
        live++;
        size_t vl;
        const char *v;
        if (!e) return 0;
        v = fentry_val(e, &vl);
        if (vl != strlen(model[i]) || memcmp(v, model[i], vl)) return 0;
    }
    for (size_t p = 0, span = fdict_span(d); p < span; p++) seen += fdict_at(d, p) != NULL;
    return live == fdict_count(d) && seen == live;
}

static void set_model(int i, const char *v, size_t n)
{
    free(model[i]);
    model[i] = NULL;
    if (v) {
        model[i] = malloc(n + 1);
        memcpy(model[i], v, n);
        model[i][n] = '\0';
    }
}

static char *scan_seen;

static void mark_seen(const char *e, void *opaque)
{
    size_t kl;
    const char *k = fentry_key(e, &kl);
    (void)opaque;
    if (kl > 1 && k[0] == 'f') scan_seen[atoi(k + 1)] = 1;
}

static void test_fdict(void)
{
    fdict d;
    char f[32], v[64];
    int ok = 1;
    fdict_init(&d);
    srand(7);
    for (int step = 0; step < 60000; step++) {
        int i = rand() % NF, op = rand() % 10, added;
        fname(i, f);
        if (op < 6) {
            size_t n = vmake((unsigned)rand(), v);
            const char *e = fdict_set(&d, f, strlen(f), v, n, &added);
            ok &= e != NULL && added == (model[i] == NULL);
            set_model(i, v, n);
        } else {
            ok &= fdict_del(&d, f, strlen(f)) == (model[i] != NULL);
            set_model(i, NULL, 0);
        }
        if (step % 5000 == 0) ok &= fdict_matches_model(&d, NF);
    }
    CHECK(ok);
    CHECK(fdict_matches_model(&d, NF));
    /* dead bytes stay bounded by the cleaning: at most about a quarter of
     * the live ones plus two chunks */
    CHECK(d.dead <= d.live / 4 + 2 * 16384);
    /* big entries get their own allocation and go when deleted */
    {
        size_t before = fdict_mem(&d);
        char *big = calloc(1, 100000);
        int added;
        CHECK(fdict_set(&d, "big", 3, big, 100000, &added) != NULL && added);
        CHECK(fdict_mem(&d) >= before + 100000);
        CHECK(fdict_del(&d, "big", 3) == 1);
        CHECK(fdict_mem(&d) <= before + 64);
        free(big);
    }
    /* a full scan sees every entry at least once, even while it grows */
    {
        uint64_t cur = 0;
        size_t calls = 0, grown = 0;
        char *seen = calloc(NF + 20000, 1);
        scan_seen = seen;
        do {
            cur = fdict_scan(&d, cur, mark_seen, NULL);
            if (grown < 20000 && calls % 3 == 0) {   /* force resizes mid-scan */
                int added;
                for (int k = 0; k < 200; k++, grown++) {
                    fname(NF + (int)grown, f);
                    fdict_set(&d, f, strlen(f), "g", 1, &added);
                }
            }
            calls++;
        } while (cur && calls < 10000000);
        CHECK(cur == 0);
        int all = 1;
        for (int i = 0; i < NF; i++) all &= !model[i] || seen[i];
        CHECK(all);
        free(seen);
    }
    fdict_free(&d);
    for (int i = 0; i < NF; i++) set_model(i, NULL, 0);
}

/* ---- the hash kind through a keyspace ---- */

static void open_key(keyspace *ks, const char *k, kref *r)
{
    ks_ref(ks, ks_default(ks), k, strlen(k), r);
    ks_lock(r);
    ks_find(r, util_now_ms());
}

static int hash_matches_model(keyspace *ks, const char *k, int nf)
{
    kref r;
    char f[32];
    size_t live = 0, iter = 0;
    int ok = 1;
    open_key(ks, k, &r);
    for (int i = 0; i < nf; i++) {
        const char *v;
        size_t vl;
        fname(i, f);
        int got = r.it && hash_get(r.it, f, strlen(f), &v, &vl);
        if (!model[i]) {
            ok &= !got;
            continue;
        }
        live++;
        ok &= got && vl == strlen(model[i]) && !memcmp(v, model[i], vl);
    }
    if (r.it) {
        hash_iter it;
        const char *f2, *v2;
        size_t fl, vl;
        hash_iter_init(&it, r.it);
        while (hash_next(&it, &f2, &fl, &v2, &vl)) iter++;
        ok &= hash_len(r.it) == live && iter == live;
    } else {
        ok &= live == 0;
    }
    ks_unlock(&r);
    return ok;
}

static void hset(keyspace *ks, const char *k, const char *f, const char *v, size_t vl, int *added)
{
    kref r;
    hash_w w;
    open_key(ks, k, &r);
    hash_w_open(&w, &r);
    *added = hash_w_set(&w, f, strlen(f), v, vl, 0);
    hash_w_close(&w, util_now_ms());
    ks_unlock(&r);
}

static int hdel(keyspace *ks, const char *k, const char *f)
{
    kref r;
    hash_w w;
    int n = 0;
    open_key(ks, k, &r);
    if (r.it) {
        hash_w_open(&w, &r);
        n = hash_w_del(&w, f, strlen(f));
        hash_w_close(&w, util_now_ms());
    }
    ks_unlock(&r);
    return n;
}

static const char *encoding(keyspace *ks, const char *k)
{
    kref r;
    const char *e = "none";
    open_key(ks, k, &r);
    if (r.it) e = kind_ops_of(item_kind(r.it))->encoding(r.it);
    ks_unlock(&r);
    return e;
}

static void test_hash_kind(void)
{
    keyspace *ks = ks_create(4, &max_domains);
    char f[32], v[64];
    int ok = 1, added;
    size_t mem0 = ks_used_memory(ks);
    types_set_limit(&types_lim.hash_entries, 16);
    types_set_limit(&types_lim.hash_value, 64);

    /* packed up to 16 fields, a dict from the 17th, never back */
    for (int i = 0; i < 16; i++) {
        fname(i, f);
        size_t n = vmake((unsigned)i, v);
        hset(ks, "h", f, v, n, &added);
        set_model(i, v, n);
        ok &= added == 1;
    }
    CHECK(ok && !strcmp(encoding(ks, "h"), "listpack"));
    CHECK(hash_matches_model(ks, "h", 16));
    fname(16, f);
    hset(ks, "h", f, "x", 1, &added);
    set_model(16, "x", 1);
    CHECK(added == 1 && !strcmp(encoding(ks, "h"), "hashtable"));
    CHECK(hdel(ks, "h", f) == 1);
    set_model(16, NULL, 0);
    CHECK(!strcmp(encoding(ks, "h"), "hashtable"));
    /* a value longer than hash-max-listpack-value converts too */
    {
        char longv[65];
        memset(longv, 'v', sizeof longv);
        hset(ks, "h2", "a", longv, 64, &added);
        CHECK(!strcmp(encoding(ks, "h2"), "listpack"));
        hset(ks, "h2", "b", longv, 65, &added);
        CHECK(!strcmp(encoding(ks, "h2"), "hashtable"));
    }
    /* a random stream over both encodings, checked against the model */
    srand(11);
    for (int step = 0; step < 20000; step++) {
        int i = rand() % 400;
        fname(i, f);
        if (rand() % 3) {
            size_t n = vmake((unsigned)rand(), v);
            hset(ks, "h", f, v, n, &added);
            ok &= added == (model[i] == NULL);
            set_model(i, v, n);
        } else {
            ok &= hdel(ks, "h", f) == (model[i] != NULL);
            set_model(i, NULL, 0);
        }
        if (step % 2000 == 0) ok &= hash_matches_model(ks, "h", 400);
    }
    CHECK(ok && hash_matches_model(ks, "h", 400));

    /* serialize, restore: the same pairs, in the encoding the limits pick */
    {
        kref r, r2;
        buf b = {0};
        const kind_ops *ops = kind_ops_of(KIND_HASH);
        open_key(ks, "h", &r);
        ops->serialize(r.it, &b);
        ks_unlock(&r);
        open_key(ks, "copy", &r2);
        item *it = ops->restore(&r2, b.data, b.len, -1);
        CHECK(it != NULL);
        if (it) ks_store(&r2, it);
        ks_unlock(&r2);
        CHECK(hash_matches_model(ks, "copy", 400));
        CHECK(!strcmp(encoding(ks, "copy"), "hashtable"));
        /* corrupt bytes: every truncation and a bad count are refused */
        int refused = 1;
        open_key(ks, "bad", &r2);
        for (size_t cut = 1; cut < b.len && cut < 300; cut++) {
            item *x = ops->restore(&r2, b.data, cut, -1);
            if (x) refused = 0;
        }
        CHECK(refused);
        {
            char bad[] = {(char)(KIND_HASH << 4), 5, 1, 'a', 1, 'b'};   /* count 5, one pair */
            CHECK(ops->restore(&r2, bad, sizeof bad, -1) == NULL);
        }
        ks_unlock(&r2);
        buf_free(&b);
    }

    /* deleting the last field deletes the key; memory goes back */
    for (int i = 0; i < 400; i++) {
        fname(i, f);
        if (model[i]) hdel(ks, "h", f);
        set_model(i, NULL, 0);
    }
    CHECK(!strcmp(encoding(ks, "h"), "none"));
    {
        kref r;
        open_key(ks, "copy", &r);
        ks_delete(&r, util_now_ms());
        ks_unlock(&r);
        open_key(ks, "h2", &r);
        ks_delete(&r, util_now_ms());
        ks_unlock(&r);
    }
    /* segments may keep their bytes; what was held outside is given back */
    CHECK(ks_used_memory(ks) < mem0 + 4 * 1024 * 1024);
    ks_destroy(&ks);
}

/* A frozen view shows the entries of its instant whatever the writes do
 * after it (same-length rewrites, deletions, big entries, cleaning), and
 * keeps the dict alive after its owner let go. */
static void test_fdict_views(void)
{
    fdict *d = fdict_new();
    char f[32], v[64], *big = calloc(1, 50000);
    int added, ok = 1;
    for (int i = 0; i < 5000; i++) {
        fname(i, f);
        snprintf(v, sizeof v, "value-%06d", i);
        fdict_set(d, f, strlen(f), v, strlen(v), &added);
    }
    memset(big, 'B', 50000);
    fdict_set(d, "big", 3, big, 50000, &added);
    fdict_view *view = fdict_freeze(d);
    CHECK(view && view->count == 5001 && fdict_frozen(d));
    /* rewrite every value with the same length, delete half, drop the big
     * entry, add new ones: enough dead bytes to want cleaning */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5000; i++) {
            if (i % 700 == 0) fdict_view_fill(view, 1);   /* the snapshot's steps between writes */
            fname(i, f);
            if (i % 2) {
                fdict_del(d, f, strlen(f));
            } else {
                snprintf(v, sizeof v, "VALUE-%06d", i + round);
                fdict_set(d, f, strlen(f), v, strlen(v), &added);
            }
        }
    fdict_del(d, "big", 3);
    for (int i = 5000; i < 9000; i++) {
        fname(i, f);
        fdict_set(d, f, strlen(f), "new", 3, &added);
    }
    size_t seen = 0;
    while (fdict_view_fill(view, 2)) {}
    for (size_t i = 0; i < view->nslots; i++) {
        const char *e = fdict_view_at(view, i), *k, *val;
        size_t kl, vl;
        if (!e) continue;
        seen++;
        k = fentry_key(e, &kl);
        val = fentry_val(e, &vl);
        if (kl == 3 && !memcmp(k, "big", 3)) {
            ok &= vl == 50000 && val[0] == 'B' && val[49999] == 'B';
        } else {
            char want[64];
            snprintf(want, sizeof want, "value-%06d", atoi(k + 1));
            ok &= vl == strlen(want) && !memcmp(val, want, vl);
        }
    }
    CHECK(ok && seen == 5001);
    /* the owner goes first; the view still reads, then frees everything */
    fdict_put(d);
    CHECK(view->d->refs == 1);
    fdict_view_release(view);
    /* thawed: writes rewrite in place and clean again */
    d = fdict_new();
    fdict_set(d, "a", 1, "xx", 2, &added);
    view = fdict_freeze(d);
    while (fdict_view_fill(view, 1)) {}
    fdict_view_release(view);
    const char *e1 = fdict_find(d, "a", 1);
    fdict_set(d, "a", 1, "yy", 2, &added);
    CHECK(fdict_find(d, "a", 1) == e1 && !fdict_frozen(d));
    fdict_put(d);
    free(big);
}

int main(void)
{
    types_init();
    test_fdict();
    test_fdict_views();
    test_hash_kind();
    return check_done("hash");
}
