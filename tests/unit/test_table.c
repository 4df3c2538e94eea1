/* Unit tests for the hash table: insert/find/delete against a reference,
 * incremental growth and shrinking, SCAN's guarantee across resizes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/hash.h"
#include "lib/table.h"

typedef struct obj {
    uint32_t key;
    int seen;
} obj;

static const uint64_t hkey[2] = {1, 2};

static uint64_t h_of(uint32_t k) { return hash_siphash13(&k, sizeof k, hkey); }
static uint64_t ohash(const void *o, const void *ctx) { (void)ctx; return h_of(((const obj *)o)->key); }
static int omatch(const void *o, const void *key, size_t klen)
{
    (void)klen;
    return ((const obj *)o)->key == *(const uint32_t *)key;
}
static const table_ops ops = {ohash, omatch};

#define N 20000

static void test_basic(void)
{
    table t;
    obj *objs = calloc(N, sizeof(obj));
    table_pos pos;
    int ok = 1;
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < N; i++) {
        objs[i].key = i;
        table_insert(&t, h_of(i), &objs[i], i & 7);
    }
    CHECK(table_count(&t) == N);
    for (uint32_t i = 0; i < N; i++) ok &= table_find(&t, h_of(i), &i, 4, NULL) == &objs[i];
    CHECK(ok);
    /* delete the odd ones */
    for (uint32_t i = 1; i < N; i += 2) {
        obj *o = table_find(&t, h_of(i), &i, 4, &pos);
        ok &= o == &objs[i];
        if (o) table_delete(&t, &pos);
    }
    CHECK(ok);
    CHECK(table_count(&t) == N / 2);
    for (uint32_t i = 0; i < N; i++) {
        void *o = table_find(&t, h_of(i), &i, 4, NULL);
        ok &= (i & 1) ? o == NULL : o == &objs[i];
    }
    CHECK(ok);
    /* user bits survive and replace works */
    {
        uint32_t k = 10;
        unsigned ub = 0;
        obj other = {10, 0};
        CHECK(table_find(&t, h_of(k), &k, 4, &pos) == &objs[10]);
        table_replace(&t, &pos, &other, 5);
        CHECK(table_find(&t, h_of(k), &k, 4, &pos) == &other);
        CHECK(table_at(&t, (pos.arr == &t.old ? 0 : (t.old.slot ? t.old.mask + 1 : 0)) + pos.idx,
                       NULL, &ub) == &other && ub == 5);
        table_replace(&t, &pos, &objs[10], 2);
    }
    /* drain everything, then shrink */
    for (uint32_t i = 0; i < N; i += 2) {
        if (table_find(&t, h_of(i), &i, 4, &pos)) table_delete(&t, &pos);
    }
    CHECK(table_count(&t) == 0);
    table_maybe_shrink(&t);
    while (table_step(&t, 1024)) {}
    CHECK(table_mem(&t) <= 16 * 8);
    table_destroy(&t);
    free(objs);
}

/* Growth is incremental: no insertion moves more than a bounded number of
 * entries, and lookups work while two arrays are live. */
static void test_incremental(void)
{
    table t;
    obj *objs = calloc(N, sizeof(obj));
    int saw_both = 0, ok = 1;
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < N; i++) {
        objs[i].key = i;
        table_insert(&t, h_of(i), &objs[i], 0);
        if (t.old.slot) {
            saw_both = 1;
            for (uint32_t j = 0; j <= i; j += 97) ok &= table_find(&t, h_of(j), &j, 4, NULL) == &objs[j];
        }
    }
    CHECK(saw_both);
    CHECK(ok);
    table_destroy(&t);
    free(objs);
}

static void mark(void *o, void *opaque)
{
    (void)opaque;
    ((obj *)o)->seen++;
}

/* Every entry present for the whole scan is visited at least once, while
 * the table grows underneath the cursor. */
static void test_scan_across_resize(void)
{
    table t;
    obj *objs = calloc(2 * N, sizeof(obj));
    uint64_t cur = 0;
    uint32_t next = 1000;
    int missing = 0, steps = 0;
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < 2 * N; i++) objs[i].key = i;
    for (uint32_t i = 0; i < 1000; i++) table_insert(&t, h_of(i), &objs[i], 0);
    do {
        cur = table_scan(&t, cur, mark, NULL);
        for (int k = 0; k < 50 && next < 2 * N; k++, next++)
            table_insert(&t, h_of(next), &objs[next], 0);
        steps++;
    } while (cur && steps < 10000000);
    for (uint32_t i = 0; i < 1000; i++) missing += objs[i].seen == 0;
    CHECK(cur == 0);
    CHECK(missing == 0);
    table_destroy(&t);
    free(objs);
}

/* Shrinking a big, nearly empty table and then inserting fast must never
 * overfill the new array (it used to abort on a too-long probe). */
static void test_insert_during_shrink(void)
{
    table t;
    obj *objs = calloc(4 * N, sizeof(obj));
    table_pos pos;
    int ok = 1;
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < 4 * N; i++) {
        objs[i].key = i;
        table_insert(&t, h_of(i), &objs[i], 0);
    }
    for (uint32_t i = 0; i < 4 * N; i++)
        if (i % 64 && table_find(&t, h_of(i), &i, 4, &pos)) table_delete(&t, &pos);
    while (table_step(&t, 1024)) {}
    table_maybe_shrink(&t);
    CHECK(t.old.slot != NULL);   /* a shrink is under way */
    for (uint32_t i = 0; i < 4 * N; i++)
        if (i % 64) table_insert(&t, h_of(i), &objs[i], 0);
    CHECK(table_count(&t) == 4 * N);
    for (uint32_t i = 0; i < 4 * N; i++) ok &= table_find(&t, h_of(i), &i, 4, NULL) == &objs[i];
    CHECK(ok);
    table_destroy(&t);
    free(objs);
}

/* A table that only loses entries (a set being SPOPped empty) finishes
 * each shrink, and a random pick stays cheap all the way down: it used to
 * keep the old, nearly empty array for good, and each pick scanned it. */
static void test_delete_only_shrinks(void)
{
    table t;
    obj *objs = calloc(4 * N, sizeof(obj));
    table_pos pos;
    int ok = 1;
    size_t most = 0;
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < 4 * N; i++) {
        objs[i].key = i;
        table_insert(&t, h_of(i), &objs[i], 0);
    }
    while (table_step(&t, 1024)) {}
    for (uint32_t left = 4 * N; left > 1; left--) {
        obj *o = table_random(&t);
        ok &= o != NULL && !o->seen;
        if (!o || !table_find(&t, h_of(o->key), &o->key, 4, &pos)) break;
        o->seen = 1;
        table_delete(&t, &pos);
        table_maybe_shrink(&t);
        /* slots per entry left: bounded by the shrink rule, once drained */
        if (left < N && !t.old.slot && table_span(&t) / (left - 1) > most)
            most = table_span(&t) / (left - 1);
    }
    CHECK(ok && table_count(&t) == 1);
    CHECK(t.old.slot == NULL);   /* no resize left hanging */
    CHECK(most <= 16);
    table_destroy(&t);
    free(objs);
}

/* A lazy copy (table_snap_begin) ends up equal to the eager copy of the
 * same instant, whatever the table does meanwhile: inserts that grow it
 * (twice, so a resize starts and finishes), deletes that shrink it,
 * replaced entries and user bits, with table_snap_fill's steps between. */
static void test_lazy_copy(void)
{
    table t;
    obj *objs = calloc(8 * N, sizeof(obj));
    table_pos pos;
    uint64_t seed = 42;
    int ok = 1;
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < 8 * N; i++) objs[i].key = i;
    for (int round = 0; round < 4; round++) {
        uint32_t live = round % 2 ? N / 2 : 2 * N;   /* grow, or shrink below */
        for (uint32_t i = 0; i < 8 * N; i++) {
            int in = table_find(&t, h_of(i), &i, 4, &pos) != NULL;
            if (i < live && !in) table_insert(&t, h_of(i), &objs[i], 1);
            else if (i >= live && in) table_delete(&t, &pos);
        }
        size_t n = table_slots(&t), got;
        uint64_t *want = malloc(n * sizeof *want + 1);
        table_copy_slots(&t, want);
        table_snap *s = table_snap_begin(&t);
        CHECK(s != NULL);
        for (uint32_t k = 0; k < 6 * N; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            uint32_t i = (uint32_t)(seed >> 33) % (8 * N);
            if (table_find(&t, h_of(i), &i, 4, &pos)) {
                if (seed & 1) table_delete(&t, &pos), table_maybe_shrink(&t);
                else if (seed & 2) table_set_ubits(&pos, 5);
                else table_replace(&t, &pos, &objs[i], 3);
            } else {
                table_insert(&t, h_of(i), &objs[i], 2);
            }
            if (k % 1000 == 0) table_snap_fill(s, 1);
        }
        while (table_snap_fill(s, 3)) {}
        const uint64_t *slots = table_snap_slots(s, &got);
        ok &= got == n && !memcmp(slots, want, n * sizeof *want);
        CHECK(t.snap == NULL && t.cur.snap == NULL && t.old.snap == NULL);   /* detached */
        table_snap_free(s);
        free(want);
    }
    CHECK(ok);
    /* a copy the table outlives... and one that outlives its table */
    table_snap *s = table_snap_begin(&t), *s2;
    table_destroy(&t);
    CHECK(!table_snap_fill(s, 0));
    table_snap_free(s);
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < N; i++) table_insert(&t, h_of(i), &objs[i], 0);
    s = table_snap_begin(&t);
    s2 = table_snap_begin(&t);   /* completes the first */
    CHECK(!table_snap_fill(s, 0) && t.snap == s2);
    while (table_snap_fill(s2, 8)) {}
    table_snap_free(s);
    table_snap_free(s2);
    table_destroy(&t);
    free(objs);
}

/* A big table past half full writes its next array's pages ahead, a few
 * per insertion, and grows into that array: the growth takes no run of
 * page faults (and table_mem counts the pages written). */
static void test_spare_array(void)
{
    table t;
    uint32_t n = 1u << 19;
    obj *objs = calloc(n, sizeof(obj));
    uint64_t *spare = NULL;
    size_t size = 0, mem_before = 0;
    int ok = 1, grew_into_spare = 0;
    uint32_t inserted = 0;
    table_init(&t, &ops, NULL);
    for (uint32_t i = 0; i < n; i++) {
        objs[i].key = i;
        size_t was = t.cur.slot ? t.cur.mask + 1 : 0;
        if (t.spare) {
            spare = t.spare;
            size = t.spare_slots;
        }
        table_insert(&t, h_of(i), &objs[i], 0);
        inserted++;
        if (was >= (1u << 18) && t.cur.mask + 1 > was) {   /* it grew */
            grew_into_spare = spare != NULL && t.cur.slot == spare && t.cur.mask + 1 == size &&
                              t.spare == NULL;
            break;
        }
        if (t.spare && t.spare_touched * 4096 == t.spare_slots * 8 && !mem_before) {
            mem_before = table_mem(&t);   /* all of it written by now */
            ok &= mem_before == (t.cur.mask + 1 + t.spare_slots) * 8 + (t.old.slot ? (t.old.mask + 1) * 8 : 0);
        }
    }
    CHECK(ok && mem_before && grew_into_spare);
    for (uint32_t i = 0; i < inserted; i++) ok &= table_find(&t, h_of(i), &i, 4, NULL) == &objs[i];
    CHECK(ok && table_count(&t) == inserted);
    table_destroy(&t);
    CHECK(t.spare == NULL);
    free(objs);
}

int main(void)
{
    test_spare_array();
    test_lazy_copy();
    test_delete_only_shrinks();
    test_insert_during_shrink();
    test_basic();
    test_incremental();
    test_scan_across_resize();
    return check_done("table");
}
