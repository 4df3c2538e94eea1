/* Unit tests for the keyspace: store/find/delete, lazy and active expiry,
 * domain limits and recycling, WATCH signals, SCAN over shards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "store/keyspace.h"
#include "lib/util.h"

static long long max_domains = 4;

static void put(keyspace *ks, domain *d, const char *k, const char *v, int64_t exp)
{
    kref r;
    ks_ref(ks, d, k, strlen(k), &r);
    ks_lock(&r);
    ks_find(&r, util_now_ms());
    ks_store(&r, ks_new(&r, v, strlen(v), exp));
    ks_unlock(&r);
}

static int has(keyspace *ks, domain *d, const char *k)
{
    kref r;
    item *it;
    ks_ref(ks, d, k, strlen(k), &r);
    ks_lock(&r);
    it = ks_read(&r, util_now_ms());
    ks_unlock(&r);
    return it != NULL;
}

static void test_basic_and_lazy_expiry(keyspace *ks)
{
    domain *d = ks_default(ks);
    int64_t now = util_now_ms();
    ks_stats st;
    put(ks, d, "a", "1", -1);
    put(ks, d, "b", "2", now - 1);   /* already expired */
    put(ks, d, "c", "3", now + 100000);
    CHECK(has(ks, d, "a") && !has(ks, d, "b") && has(ks, d, "c"));
    ks_domain_stats(d, &st);
    CHECK(st.keys == 2 && st.expires == 1 && st.expired == 1);
    CHECK(st.hits == 2 && st.misses == 1);
    ks_flush(ks, d);
    CHECK(ks_domain_size(d) == 0);
}

/* Keys that expire with nobody reading them are reclaimed by the sweep. */
static void test_active_expiry(keyspace *ks)
{
    domain *d = ks_default(ks);
    char k[32];
    int64_t past = util_now_ms() - 1;
    for (int i = 0; i < 10000; i++) {
        snprintf(k, sizeof k, "key:%d", i);
        put(ks, d, k, "v", i % 2 ? past : -1);
    }
    CHECK(ks_domain_size(d) == 10000);
    for (int round = 0; round < 100 && ks_domain_size(d) > 5000; round++) ks_cron(ks, 0, 1, 5000);
    CHECK(ks_domain_size(d) == 5000);
    ks_flush(ks, d);
}

/* max-domains counts domains that were written to (claimed); selecting is
 * free, and slots of emptied, unselected domains come back. */
static void test_domains(keyspace *ks)
{
    domain *a = ks_domain_get(ks, "a", 1), *b = ks_domain_get(ks, "b", 1);
    domain *c = ks_domain_get(ks, "c", 1), *z = ks_domain_get(ks, "0", 1);
    domain *d = ks_domain_get(ks, "d", 1), *e = ks_domain_get(ks, "e", 1);
    CHECK(a && b && c && d && e && z == ks_default(ks));
    CHECK(ks_domain_claim(ks, a) == 0 && ks_domain_claim(ks, b) == 0);
    CHECK(ks_domain_claim(ks, c) == 0 && ks_domain_claim(ks, d) == 0);
    CHECK(ks_domain_claim(ks, e) == -1);   /* a fifth writer is refused */
    put(ks, a, "k", "v", -1);
    CHECK(has(ks, a, "k") && !has(ks, b, "k"));
    CHECK(ks_domain_claim(ks, e) == -1);   /* b, c, d are empty but still selected */
    ks_domain_put(ks, b);
    CHECK(ks_domain_claim(ks, e) == 0);    /* b gave its slot back */
    ks_domain_put(ks, a);
    ks_domain_put(ks, c);
    ks_domain_put(ks, d);
    ks_domain_put(ks, e);
    ks_domain_put(ks, z);
    ks_flush(ks, a);
}

static void watch(keyspace *ks, domain *d, const char *key, ks_watcher *w)
{
    CHECK(ks_watch(ks, d, key, strlen(key), ks_hash(ks, key, strlen(key)), w, util_now_ms()) == 0);
}

static void test_watch(keyspace *ks)
{
    domain *d = ks_default(ks), *other = ks_domain_get(ks, "wother", 6);
    ks_watcher w = {0}, w2 = {0};
    watch(ks, d, "w", &w);
    watch(ks, d, "w", &w);             /* twice: one change still marks it once */
    watch(ks, other, "w", &w2);
    put(ks, d, "other", "x", -1);
    CHECK(atomic_load(&w.dirty) == 0);
    put(ks, d, "w", "x", -1);
    CHECK(atomic_load(&w.dirty) == 1);
    CHECK(atomic_load(&w2.dirty) == 0);   /* same key, another domain */
    ks_unwatch_all(ks, &w);
    CHECK(atomic_load(&w.dirty) == 0 && w.count == 0);
    put(ks, d, "w", "y", -1);
    CHECK(atomic_load(&w.dirty) == 0);    /* no longer watched */

    /* FLUSHDB marks only watched keys that existed */
    watch(ks, d, "w", &w);
    watch(ks, d, "absent", &w2);
    ks_flush(ks, other);
    CHECK(atomic_load(&w2.dirty) == 0);
    ks_flush(ks, d);
    CHECK(atomic_load(&w.dirty) == 1);
    ks_unwatch_all(ks, &w);
    ks_unwatch_all(ks, &w2);

    /* a key that had expired when watched: its deletion is no change; one
     * that expires after the WATCH makes the check fail */
    put(ks, d, "gone", "v", util_now_ms() - 1);
    watch(ks, d, "gone", &w);
    put(ks, d, "soon", "v", util_now_ms() + 30);
    watch(ks, d, "soon", &w2);
    CHECK(ks_watch_check(ks, &w, util_now_ms()) == 0);
    {
        kref r;
        ks_ref(ks, d, "gone", 4, &r);
        ks_lock(&r);
        CHECK(ks_find(&r, util_now_ms()) == NULL);   /* deletes it */
        ks_unlock(&r);
    }
    CHECK(atomic_load(&w.dirty) == 0);
    CHECK(ks_watch_check(ks, &w2, util_now_ms() + 100) == 1);
    ks_unwatch_all(ks, &w);
    ks_unwatch_all(ks, &w2);
    ks_domain_put(ks, other);
    ks_flush(ks, d);
}

static void test_scan(keyspace *ks)
{
    domain *d = ks_default(ks);
    char k[32];
    uint64_t cur = 0;
    size_t total = 0, n;
    buf out = {0};
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "s:%d", i);
        put(ks, d, k, "v", -1);
    }
    do {
        cur = ks_scan(d, cur, 100, NULL, 0, -1, util_now_ms(), &out, &n);
        total += n;
    } while (cur);
    CHECK(total >= 3000 && total < 3100);
    buf_free(&out);
    ks_flush(ks, d);
}

int main(void)
{
    keyspace *ks = ks_create(16, &max_domains);
    test_basic_and_lazy_expiry(ks);
    test_active_expiry(ks);
    test_domains(ks);
    test_watch(ks);
    test_scan(ks);
    ks_destroy(&ks);
    CHECK(ks == NULL);
    return check_done("keyspace");
}
