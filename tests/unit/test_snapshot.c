/* Unit tests for point-in-time snapshots: while a snapshot is being
 * written, another thread overwrites, grows, re-expires, deletes and
 * flushes keys, and adds new ones; the snapshot must hold exactly the data
 * of its instant. Then the same through the AOF: a rewrite plus the log
 * after it must give the final data. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store/keyspace.h"
#include "persist/load.h"
#include "persist/snapshot.h"
#include "lib/util.h"

#define N 40000
#define BIG 70000   /* past the snapshot's copy-free threshold */

static long long max_domains = 100;
static atomic_int started;
static char bigval[BIG + 1];

static void put(keyspace *ks, domain *d, const char *k, const char *v, size_t vlen, int64_t exp)
{
    kref r;
    ks_ref(ks, d, k, strlen(k), &r);
    ks_lock(&r);
    ks_find(&r, util_now_ms());
    ks_store(&r, ks_new(&r, v, vlen, exp));
    ks_unlock(&r);
}

/* The value of k, or NULL; *exp gets its expiry. */
static char *get(keyspace *ks, domain *d, const char *k, size_t *vlen, int64_t *exp)
{
    kref r;
    item *it;
    char *v = NULL;
    ks_ref(ks, d, k, strlen(k), &r);
    ks_lock(&r);
    it = ks_find(&r, util_now_ms());
    if (it) {
        *vlen = item_vlen(it);
        *exp = item_expire(it);
        v = malloc(*vlen + 1);
        memcpy(v, item_cval(it), *vlen);
        v[*vlen] = '\0';
    }
    ks_unlock(&r);
    return v;
}

static void mark_started(keyspace *ks, void *arg)
{
    (void)ks;
    (void)arg;
    atomic_store(&started, 1);
}

typedef struct job {
    snapshot *sn;
    int rc;
} job;

static void *run_snapshot(void *arg)
{
    job *j = arg;
    snapshot_result res;
    char err[256];
    j->rc = snapshot_finish(j->sn, &res, err, sizeof err);
    if (j->rc) fprintf(stderr, "snapshot: %s\n", err);
    return NULL;
}

static void fill(keyspace *ks, domain *d, domain *e)
{
    char k[32], v[32];
    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "old%d", i);
        put(ks, d, k, v, strlen(v), i % 3 ? -1 : util_now_ms() + 3600000 + i);
    }
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "big%d", i);
        put(ks, d, k, bigval, BIG, -1);
        snprintf(k, sizeof k, "e%d", i);
        put(ks, e, k, "in e", 4, -1);
    }
}

/* Change everything the snapshot is walking over. */
static void churn(keyspace *ks, domain *d, domain *e)
{
    char k[32];
    for (int i = 0; i < N; i++) {
        kref r;
        snprintf(k, sizeof k, "k%d", i);
        ks_ref(ks, d, k, strlen(k), &r);
        ks_lock(&r);
        if (ks_find(&r, util_now_ms())) {
            switch (i % 5) {
            case 0: ks_store(&r, ks_new(&r, "new", 3, -1)); break;
            case 1: ks_delete(&r, util_now_ms()); break;
            case 2: ks_set_expire(&r, util_now_ms() + 999999); break;
            case 3: ks_splice(&r, 20, 10, "xx", 2); break;
            default: break;
            }
        }
        ks_unlock(&r);
        snprintf(k, sizeof k, "fresh%d", i);
        put(ks, d, k, "fresh", 5, -1);
    }
    for (int i = 0; i < 20; i++) {
        kref r;
        snprintf(k, sizeof k, "big%d", i);
        ks_ref(ks, d, k, strlen(k), &r);
        ks_lock(&r);
        if (ks_find(&r, util_now_ms())) ks_splice(&r, BIG + 10, BIG, "appended!!", 10);
        ks_unlock(&r);
    }
    ks_flush(ks, e);
}

static int check_instant(keyspace *ks2, domain *d2, domain *e2)
{
    char k[32], v[32];
    int bad = 0;
    for (int i = 0; i < N; i++) {
        size_t n;
        int64_t exp;
        char *got;
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "old%d", i);
        got = get(ks2, d2, k, &n, &exp);
        if (!got || strcmp(got, v) != 0 || (i % 3 ? exp != -1 : exp <= util_now_ms())) bad++;
        free(got);
        snprintf(k, sizeof k, "fresh%d", i);
        got = get(ks2, d2, k, &n, &exp);
        if (got) bad++;
        free(got);
    }
    for (int i = 0; i < 20; i++) {
        size_t n;
        int64_t exp;
        char *got;
        snprintf(k, sizeof k, "big%d", i);
        got = get(ks2, d2, k, &n, &exp);
        if (!got || n != BIG || memcmp(got, bigval, BIG) != 0) bad++;
        free(got);
        snprintf(k, sizeof k, "e%d", i);
        got = get(ks2, e2, k, &n, &exp);
        if (!got || strcmp(got, "in e") != 0) bad++;
        free(got);
    }
    return bad;
}

int main(void)
{
    keyspace *ks = ks_create(16, &max_domains), *ks2;
    domain *d = ks_default(ks), *e = ks_domain_get(ks, "other", 5);
    char path[] = "/tmp/kasi_test_snapXXXXXX";
    pthread_t t;
    job j;
    int fd = mkstemp(path), found;
    uint64_t keys;
    char err[256];
    close(fd);
    memset(bigval, 'b', BIG);

    fill(ks, d, e);
    /* twice: the second snapshot runs with the mark flipped back */
    for (int round = 0; round < 2; round++) {
        atomic_store(&started, 0);
        /* the instant here (nothing else runs), the writing in a thread
         * while this one changes everything */
        j.sn = snapshot_begin(ks, path, mark_started, NULL, err, sizeof err);
        CHECK(j.sn != NULL && atomic_load(&started));
        pthread_create(&t, NULL, run_snapshot, &j);
        if (round == 0) churn(ks, d, e);
        pthread_join(t, NULL);
        CHECK(j.rc == 0);
        if (round == 0) {
            ks2 = ks_create(16, &max_domains);
            CHECK(load_snapshot(ks2, path, 0, &found, &keys, err, sizeof err) == 0);
            CHECK(found && keys == N + 40);
            CHECK(check_instant(ks2, ks_default(ks2), ks_domain_get(ks2, "other", 5)) == 0);
            ks_destroy(&ks2);
        } else {
            /* nothing changed during it: it must equal the live data */
            ks_stats st;
            ks2 = ks_create(16, &max_domains);
            CHECK(load_snapshot(ks2, path, 0, &found, &keys, err, sizeof err) == 0);
            ks_domain_stats(ks_default(ks2), &st);
            CHECK(st.keys == ks_domain_size(d));
            CHECK(keys == ks_domain_size(d) + ks_domain_size(e));
            ks_destroy(&ks2);
        }
    }
    unlink(path);
    ks_domain_put(ks, e);
    ks_destroy(&ks);
    return check_done("snapshot");
}
