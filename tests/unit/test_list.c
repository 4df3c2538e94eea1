/* Unit tests for lists: the big structure (qlist) driven by seeded random
 * streams of pushes, pops, reads, replacements, insertions, removals and
 * range deletions across node splits and merges, checked against a plain
 * array after every step, with its invariants (counts, start positions,
 * both walks of every node, node fill, the memory count), and again with
 * allocations failing now and then (a write that fails changes nothing);
 * frozen views taken while such streams go on, several at once, each still
 * showing its instant after every step, the list freed before them, copies
 * for them failing (the list as it was), and views read and let go of by
 * another thread while this one writes; then the list kind: a random
 * stream through the writer, small and big and back, under changing
 * list-max-listpack-size; serialize/restore round trips in either
 * encoding, corrupt bytes rejected, copies independent of their original,
 * the kind's views serializing to their instant while the list changes,
 * turns small and is deleted, and what a big list holds outside charged
 * and given back to the byte (the copies made for a view too). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "lib/bgfree.h"
#include "lib/util.h"
#include "lib/varint.h"
#include "store/keyspace.h"
#include "store/kind.h"
#include "types/list.h"
#include "types/qlist.h"
#include "types/types.h"

/* ---- the model: an array of strings ---- */

typedef struct elem {
    char *p;
    size_t n;
} elem;

typedef struct model {
    elem *a;
    size_t n, cap;
} model;

static void m_insert(model *m, size_t i, const char *p, size_t n)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->a = xrealloc(m->a, m->cap * sizeof *m->a);
    }
    memmove(m->a + i + 1, m->a + i, (m->n - i) * sizeof *m->a);
    m->a[i].p = xmemdup(p, n ? n : 1);
    m->a[i].n = n;
    m->n++;
}

static void m_delete(model *m, size_t i, size_t k)
{
    if (!k) return;
    for (size_t j = i; j < i + k; j++) free(m->a[j].p);
    memmove(m->a + i, m->a + i + k, (m->n - i - k) * sizeof *m->a);
    m->n -= k;
}

static void m_set(model *m, size_t i, const char *p, size_t n)
{
    free(m->a[i].p);
    m->a[i].p = xmemdup(p, n ? n : 1);
    m->a[i].n = n;
}

static int m_eq(const elem *e, const char *p, size_t n)
{
    return e->n == n && (n == 0 || memcmp(e->p, p, n) == 0);
}

static void m_free(model *m)
{
    m_delete(m, 0, m->n);
    free(m->a);
    memset(m, 0, sizeof *m);
}

static void m_copy(model *dst, const model *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++) m_insert(dst, i, src->a[i].p, src->a[i].n);
}

/* ---- random elements ---- */

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* A value: mostly short and from a small alphabet (so removals find
 * matches), now and then longer, rarely bigger than a node. */
static size_t make_value(char *buf, size_t big)
{
    size_t r = below(100), n;
    if (r < 70) {
        n = below(3);
        for (size_t i = 0; i < n; i++) buf[i] = (char)('a' + below(3));
        return n;
    }
    n = r < 95 ? 3 + below(60) : r < 99 ? 100 + below(300) : big + below(big);
    for (size_t i = 0; i < n; i++) buf[i] = (char)rnd();
    return n;
}

/* ---- qlist against the model ---- */

static int same(const qlist *q, const model *m)
{
    qiter it;
    const char *s;
    size_t n, i = 0;
    if (qlist_len(q) != m->n) return 0;
    qiter_init(&it, q, 0, 0);
    while (qiter_next(&it, &s, &n))
        if (i >= m->n || !m_eq(&m->a[i++], s, n)) return 0;
    return i == m->n;
}

static void count_call(void *ctx) { ++*(int *)ctx; }

static int failed_check(const qlist *q, int fill, const char *what, unsigned long step)
{
    char why[256];
    if (qlist_check(q, fill, why, sizeof why) == 0) return 0;
    fprintf(stderr, "qlist invariant broken after %s (step %lu): %s\n", what, step, why);
    return 1;
}

/* A qlist driven by random steps, and the model it must match. */
typedef struct stream {
    qlist *q;
    model m;
    size_t max_bytes;
    unsigned long wrong, failed;
} stream;

/* One random step on st: a write (the model follows it unless it failed)
 * or a read checked against the model; grow: pushes and insertions more
 * often than pops and deletions. Returns what it was. */
static const char *random_step(stream *st, int grow)
{
    static char val[70000];
    qlist *q = st->q;
    model *mp = &st->m;
    size_t r = below(100), n, i, k, sn;
    const char *s;
    if (r < (grow ? 30u : 15u)) {
        int tail = (int)below(2);
        n = make_value(val, st->max_bytes);
        if (qlist_push(q, tail, val, n) == 0) m_insert(mp, tail ? mp->n : 0, val, n);
        else st->failed++;
        return "push";
    }
    if (r < (grow ? 40u : 45u)) {
        int tail = (int)below(2);
        k = below(grow ? 3 : 30);
        if (k > mp->n) k = mp->n;
        qlist_delete(q, tail ? mp->n - k : 0, k);
        m_delete(mp, tail ? mp->n - k : 0, k);
        return "pop";
    }
    if (r < 55) {
        if (mp->n) {
            i = below(mp->n);
            qlist_get(q, i, &s, &sn);
            if (!m_eq(&mp->a[i], s, sn)) st->wrong++;
        }
        return "get";
    }
    if (r < 65) {
        if (mp->n) {
            i = below(mp->n);
            n = make_value(val, st->max_bytes);
            if (qlist_set(q, i, val, n) == 0) m_set(mp, i, val, n);
            else st->failed++;
        }
        return "set";
    }
    if (r < (grow ? 80u : 72u)) {
        i = below(mp->n + 1);
        n = make_value(val, st->max_bytes);
        if (qlist_insert(q, i, val, n) == 0) m_insert(mp, i, val, n);
        else st->failed++;
        return "insert";
    }
    if (r < 85) {
        if (mp->n) {
            i = below(mp->n);
            k = below(grow ? 4 : 60);
            if (k > mp->n - i) k = mp->n - i;
            qlist_delete(q, i, k);
            m_delete(mp, i, k);
        }
        return "delete";
    }
    if (r < 90) {
        int back = (int)below(2), before = 0;
        size_t limit = below(grow ? 40 : 4), gone, want = 0;
        if (limit > 3) limit = 1 + limit % 3;   /* all of them (0) now and then */
        n = make_value(val, st->max_bytes);
        for (size_t j = 0; j < mp->n; j++) want += m_eq(&mp->a[j], val, n);
        if (limit && want > limit) want = limit;
        gone = qlist_remove(q, val, n, back, limit, count_call, &before);
        if (gone != want || before != (want > 0)) st->wrong++;
        /* the model: the first (or last) `want` matches */
        for (size_t c = 0, j = back ? mp->n : 0; c < want;) {
            if (back) {
                j--;
                if (m_eq(&mp->a[j], val, n)) {
                    m_delete(mp, j, 1);
                    c++;
                }
            } else if (m_eq(&mp->a[j], val, n)) {
                m_delete(mp, j, 1);
                c++;
            } else {
                j++;
            }
        }
        return "remove";
    }
    /* walk a stretch from a random index, either way */
    int back = (int)below(2);
    qiter it;
    i = below(mp->n + 1);
    qiter_init(&it, q, i, back);
    for (size_t c = 0; c < 50 && qiter_next(&it, &s, &sn); c++) {
        size_t at = back ? i - c : i + c;
        if (at >= mp->n || !m_eq(&mp->a[at], s, sn)) {
            st->wrong++;
            break;
        }
    }
    return "walk";
}

/* oom: allocations fail now and then; from the first failure on, nodes
 * may be left that could have been merged. */
static void qlist_stream(size_t max_bytes, size_t max_count, unsigned long steps, uint64_t seed,
                         int oom)
{
    stream st = {qlist_new(max_bytes, max_count), {0}, max_bytes, 0, 0};
    unsigned long bad = 0, last_failed = 0, fails0 = qlist_fail_alloc(0);
    size_t peak = 0;
    rng = seed;
    for (unsigned long step = 0; step < steps && !bad; step++) {
        /* grow for a while, then shrink, then grow again */
        int grow = (step / 10000) % 2 == 0;
        const char *what;
        /* now and then memory runs out within the step: a write that fails
         * must leave the list as it was */
        qlist_fail_alloc(oom && below(8) == 0 ? 1 + below(3) : 0);
        what = random_step(&st, grow);
        if (failed_check(st.q, qlist_fail_alloc(0) == fails0, what, step)) bad++;
        if ((step % 97 == 0 || st.failed != last_failed) && !same(st.q, &st.m)) {
            fprintf(stderr, "qlist differs from the model after %s (step %lu)\n", what, step);
            bad++;
        }
        if (st.m.n > peak) peak = st.m.n;
        last_failed = st.failed;
    }
    CHECK(bad == 0);
    CHECK(st.wrong == 0);
    CHECK(same(st.q, &st.m));
    if (oom) CHECK(st.failed > 5);   /* out of memory did strike */
    else CHECK(peak > 1000);         /* the stream did reach many nodes */
    printf("qlist %zu/%zu: peak %zu elements, %zu at the end in %zu nodes, %lu writes out of "
           "memory\n", max_bytes, max_count, peak, qlist_len(st.q), st.q->nodes, st.failed);
    {
        qlist *c = qlist_dup(st.q);
        char why[256];
        CHECK(c && same(c, &st.m) && qlist_check(c, !oom, why, sizeof why) == 0);
        qlist_free(&c);
        CHECK(c == NULL);
    }
    qlist_free(&st.q);
    m_free(&st.m);
}

/* Pushing at both ends keeps the nodes full and the memory near the
 * payload; one big element gets a node of its own. */
static void qlist_fill(void)
{
    qlist *q = qlist_new(8192, (size_t)-1);
    char v[16], why[256];
    size_t i;
    memset(v, 'x', sizeof v);
    for (i = 0; i < 200000; i++) qlist_push(q, (int)(i % 2), v, sizeof v);
    CHECK(qlist_check(q, 1, why, sizeof why) == 0);
    /* 18 bytes an element, a few bytes of node and ring overhead */
    CHECK(qlist_mem(q) < 200000 * 18.3);
    qlist_delete(q, 0, 100000);
    qlist_delete(q, qlist_len(q) - 99999, 99999);
    CHECK(qlist_len(q) == 1 && qlist_check(q, 1, why, sizeof why) == 0);
    CHECK(qlist_mem(q) < 512);
    char *big = xmalloc(100000);
    memset(big, 'b', 100000);
    CHECK(qlist_insert(q, 1, big, 100000) == 0);
    CHECK(qlist_push(q, 1, v, 1) == 0);
    CHECK(qlist_set(q, 0, big, 50000) == 0);
    CHECK(qlist_check(q, 1, why, sizeof why) == 0);
    const char *s;
    size_t n;
    qlist_get(q, 1, &s, &n);
    CHECK(n == 100000 && s[0] == 'b');
    qlist_get(q, 0, &s, &n);
    CHECK(n == 50000);
    qlist_get(q, 2, &s, &n);
    CHECK(n == 1 && s[0] == 'x');
    free(big);
    qlist_free(&q);
}

/* ---- frozen views ---- */

/* Whether v shows m's elements, in order. */
static int view_holds(const qview *v, const model *m)
{
    qview_iter it;
    const char *s;
    size_t n, i = 0;
    if (v->len != m->n) return 0;
    qview_iter_init(&it, v);
    while (qview_next(&it, &s, &n))
        if (i >= m->n || !m_eq(&m->a[i++], s, n)) return 0;
    return i == m->n;
}

static qnode *node_at(const qlist *q, size_t k)
{
    return q->ring[(q->head + k) & (q->rcap - 1)].nd;
}

/* Nodes of q that a view holds too. */
static size_t shared_nodes(const qlist *q)
{
    size_t c = 0;
    for (size_t k = 0; k < q->nodes; k++) c += atomic_load(&node_at(q, k)->refs) > 1;
    return c;
}

/* Whether q holds just the nodes v holds. */
static int same_nodes(const qlist *q, const qview *v)
{
    if (q->nodes != v->nodes) return 0;
    for (size_t k = 0; k < q->nodes; k++)
        if (node_at(q, k) != v->nd[k]) return 0;
    return 1;
}

#define MAX_VIEWS 3

typedef struct frozen {
    qview *v;
    model m;   /* what it must show */
} frozen;

/* Views taken now and then of a list that random writes keep changing, up
 * to three at once, let go of in any order: after every step each one
 * still shows exactly its instant, and the list keeps every invariant (its
 * memory count too, with the nodes it copied and let go of). At the end
 * the list is freed first, and the views still read. oom: allocations fail
 * now and then, the copies for the views too. */
static void view_stream(size_t max_bytes, size_t max_count, unsigned long steps, uint64_t seed,
                        int oom)
{
    stream st = {qlist_new(max_bytes, max_count), {0}, max_bytes, 0, 0};
    frozen fz[MAX_VIEWS];
    size_t live = 0, taken = 0, copied = 0, most = 0;
    unsigned long bad = 0, last_failed = 0, fails0 = qlist_fail_alloc(0);
    rng = seed;
    for (unsigned long step = 0; step < steps && !bad; step++) {
        int grow = (step / 3000) % 2 == 0;
        const char *what;
        size_t shared;
        if (live < MAX_VIEWS && below(100) == 0) {
            fz[live].v = qlist_freeze(st.q);
            CHECK(fz[live].v != NULL);
            m_copy(&fz[live].m, &st.m);
            live++;
            taken++;
        }
        if (live && below(150) == 0) {
            size_t i = below(live);
            qview_release(fz[i].v);
            m_free(&fz[i].m);
            fz[i] = fz[--live];
        }
        if (live > most) most = live;
        shared = shared_nodes(st.q);
        qlist_fail_alloc(oom && below(8) == 0 ? 1 + below(3) : 0);
        what = random_step(&st, grow);
        if (failed_check(st.q, qlist_fail_alloc(0) == fails0, what, step)) bad++;
        if (shared_nodes(st.q) < shared) copied++;   /* copied, or let go of */
        if ((step % 97 == 0 || st.failed != last_failed) && !same(st.q, &st.m)) {
            fprintf(stderr, "qlist differs from the model after %s (step %lu)\n", what, step);
            bad++;
        }
        last_failed = st.failed;
        for (size_t i = 0; i < live; i++)
            if (!view_holds(fz[i].v, &fz[i].m)) {
                fprintf(stderr, "view %zu changed after %s (step %lu)\n", i, what, step);
                bad++;
            }
    }
    CHECK(bad == 0);
    CHECK(st.wrong == 0);
    CHECK(same(st.q, &st.m));
    CHECK(taken > 20 && most == MAX_VIEWS && copied > 100);
    if (oom) CHECK(st.failed > 5);
    printf("views %zu/%zu: %zu taken, %zu steps let go of shared nodes, %lu writes out of "
           "memory\n", max_bytes, max_count, taken, copied, st.failed);
    qlist_free(&st.q);   /* the owner first */
    for (size_t i = 0; i < live; i++) {
        CHECK(view_holds(fz[i].v, &fz[i].m));
        qview_release(fz[i].v);
        m_free(&fz[i].m);
    }
    m_free(&st.m);
}

/* A write that must copy a node a view holds, and cannot have the memory:
 * when the copy (the first allocation) fails, the list is exactly as it
 * was (the same nodes, the same memory count); when a later allocation
 * fails, its elements are as they were; the view is untouched either way,
 * and the write done again succeeds. */
static void cow_failures(void)
{
    static char val[3000];
    stream st = {qlist_new(512, (size_t)-1), {0}, 512, 0, 0};
    unsigned long first = 0, later = 0, copies = 0, bad = 0;
    char why[256];
    rng = 99;
    for (int i = 0; i < 3000; i++) {
        size_t n = 1 + below(20);
        memset(val, 'a' + i % 26, n);
        CHECK(qlist_push(st.q, 1, val, n) == 0);
        m_insert(&st.m, st.m.n, val, n);
    }
    for (int t = 0; t < 800; t++) {
        qview *v = qlist_freeze(st.q);
        model fm;
        size_t mem = qlist_mem(st.q), i = below(st.m.n), n = make_value(val, 512), shared;
        unsigned long nth = 1 + below(3);
        int op = (int)below(4), rc = -1;
        m_copy(&fm, &st.m);
        shared = shared_nodes(st.q);
        for (int again = 0; again < 2 && rc < 0; again++) {
            qlist_fail_alloc(again ? 0 : nth);
            rc = op == 0 ? qlist_push(st.q, 0, val, n)
               : op == 1 ? qlist_push(st.q, 1, val, n)
               : op == 2 ? qlist_insert(st.q, i, val, n)
                         : qlist_set(st.q, i, val, n);
            qlist_fail_alloc(0);
            if (rc == 0) break;
            if (!same(st.q, &st.m) || qlist_check(st.q, 0, why, sizeof why) < 0) bad++;
            if (nth == 1 && (qlist_mem(st.q) != mem || !same_nodes(st.q, v))) bad++;
            if (nth == 1) first++;
            else later++;
        }
        if (rc < 0) bad++;
        else if (op == 3) m_set(&st.m, i, val, n);
        else m_insert(&st.m, op == 0 ? 0 : op == 1 ? st.m.n : i, val, n);
        copies += shared_nodes(st.q) < shared;
        if (!same(st.q, &st.m) || qlist_check(st.q, 0, why, sizeof why) < 0 || !view_holds(v, &fm))
            bad++;
        qview_release(v);
        m_free(&fm);
    }
    CHECK(bad == 0);
    CHECK(first > 100 && later > 20 && copies > 400);
    CHECK(qlist_check(st.q, 0, why, sizeof why) == 0 && shared_nodes(st.q) == 0);
    qlist_free(&st.q);
    m_free(&st.m);
}

/* A reader thread freezes the list under its lock, as a snapshot does, and
 * reads the view and lets go of it without the lock, again and again while
 * this thread writes; now and then this thread frees the list (views may still hold
 * its nodes) and builds it again. A race or a read after free shows under
 * the sanitizers. */
typedef struct shared_list {
    pthread_mutex_t mu;
    stream st;
    atomic_int done;
    unsigned long bad;
    atomic_ulong rounds;
} shared_list;

static void *view_reader(void *arg)
{
    shared_list *sl = arg;
    for (; !atomic_load(&sl->done); atomic_fetch_add(&sl->rounds, 1)) {
        model fm;
        qview *v;
        pthread_mutex_lock(&sl->mu);
        v = qlist_freeze(sl->st.q);
        m_copy(&fm, &sl->st.m);
        pthread_mutex_unlock(&sl->mu);
        if (!v || !view_holds(v, &fm)) sl->bad++;
        qview_release(v);
        m_free(&fm);
    }
    return NULL;
}

static void threaded_views(void)
{
    shared_list sl = {.st = {qlist_new(256, (size_t)-1), {0}, 256, 0, 0}, };
    pthread_t t;
    unsigned long steps = 0, rebuilt = 0;
    char why[256];
    rng = 4242;
    pthread_mutex_init(&sl.mu, NULL);
    while (sl.st.m.n < 1500) random_step(&sl.st, 1);
    pthread_create(&t, NULL, view_reader, &sl);
    /* 8000 writes, and on until the reader has had 20 rounds: on a busy
     * machine it may get few turns (within 30 s) */
    time_t give_up = time(NULL) + 30;
    for (; steps < 8000 || (atomic_load(&sl.rounds) <= 20 && time(NULL) < give_up); steps++) {
        pthread_mutex_lock(&sl.mu);
        random_step(&sl.st, sl.st.m.n < 1500);
        if (below(300) == 0) {   /* the owner goes while views may live */
            qlist_free(&sl.st.q);
            sl.st.q = qlist_new(256, (size_t)-1);
            for (size_t i = 0; i < sl.st.m.n; i++)
                sl.st.wrong += qlist_push(sl.st.q, 1, sl.st.m.a[i].p, sl.st.m.a[i].n) < 0;
            rebuilt++;
        }
        pthread_mutex_unlock(&sl.mu);
        if (steps % 8 == 0) sched_yield();   /* the reader gets the lock now and then */
    }
    atomic_store(&sl.done, 1);
    pthread_join(t, NULL);
    CHECK(atomic_load(&sl.rounds) > 20);
    CHECK(sl.bad == 0 && sl.st.wrong == 0 && same(sl.st.q, &sl.st.m));
    CHECK(qlist_check(sl.st.q, 1, why, sizeof why) == 0);
    printf("views from another thread: %lu views, %lu writes, the list rebuilt %lu times\n",
           (unsigned long)atomic_load(&sl.rounds), steps, rebuilt);
    qlist_free(&sl.st.q);
    m_free(&sl.st.m);
    pthread_mutex_destroy(&sl.mu);
}

/* ---- the list kind ---- */

static long long max_domains = 16;

static void lock_key(keyspace *ks, const char *k, kref *r)
{
    ks_ref(ks, ks_default(ks), k, strlen(k), r);
    ks_lock(r);
    ks_find(r, util_now_ms());
}

/* Whether key k holds the model's elements, read every way. */
static int holds(keyspace *ks, const char *k, const model *m)
{
    kref r;
    list_iter li;
    const char *s;
    size_t n, i;
    int ok = 1;
    lock_key(ks, k, &r);
    if (!r.it) {
        ks_unlock(&r);
        return m->n == 0;
    }
    ok = item_kind(r.it) == KIND_LIST && list_len(r.it) == m->n && m->n > 0;
    list_iter_init(&li, r.it, 0, 0);
    for (i = 0; ok && list_next(&li, &s, &n); i++) ok = i < m->n && m_eq(&m->a[i], s, n);
    ok = ok && i == m->n;
    list_iter_init(&li, r.it, m->n - 1, 1);
    for (i = m->n; ok && list_next(&li, &s, &n);) ok = i > 0 && m_eq(&m->a[--i], s, n);
    ok = ok && i == 0;
    for (int t = 0; ok && t < 10; t++) {
        i = below(m->n);
        list_get(r.it, i, &s, &n);
        ok = m_eq(&m->a[i], s, n);
    }
    ks_unlock(&r);
    return ok;
}

static unsigned encoding_of(keyspace *ks, const char *k)
{
    kref r;
    unsigned e;
    lock_key(ks, k, &r);
    e = r.it ? item_encoding(r.it) : 99;
    ks_unlock(&r);
    return e;
}

/* Random writes through list_w, the list going from small to big and
 * back, with list-max-listpack-size changing now and then and memory
 * running out now and then. */
static void kind_stream(keyspace *ks, unsigned long steps, uint64_t seed)
{
    static char val[20000];
    static const long long fills[] = {-2, -1, -5, 3, 1, 100, 0};
    model m = {0};
    unsigned long bad = 0, small = 0, big = 0, fails0 = qlist_fail_alloc(0);
    rng = seed;
    for (unsigned long step = 0; step < steps && !bad; step++) {
        list_w w;
        kref r;
        size_t r100 = below(100), n, i, k;
        int grow = (step / 400) % 2 == 0;
        if (step % 1000 == 0) types_set_limit(&types_lim.list_size, fills[below(7)]);
        lock_key(ks, "k", &r);
        list_w_open(&w, &r);
        /* now and then memory runs out: a write that fails changes nothing */
        qlist_fail_alloc(below(10) == 0 ? 1 + below(3) : 0);
        if (r100 < (grow ? 50u : 20u)) {
            int tail = (int)below(2);
            for (k = 1 + below(5); k; k--) {
                n = make_value(val, 3000);
                if (list_w_push(&w, tail, val, n) == 0) m_insert(&m, tail ? m.n : 0, val, n);
            }
        } else if (r100 < 70) {
            int tail = (int)below(2);
            k = below(grow ? 4 : 20);
            if (k > m.n) k = m.n;
            list_w_pop(&w, tail, k);
            m_delete(&m, tail ? m.n - k : 0, k);
        } else if (r100 < 80) {
            if (m.n) {
                i = below(m.n);
                n = make_value(val, 3000);
                if (list_w_set(&w, i, val, n) == 0) m_set(&m, i, val, n);
            }
        } else if (r100 < 90) {
            i = below(m.n + 1);
            n = make_value(val, 3000);
            if (list_w_insert(&w, i, val, n) == 0) m_insert(&m, i, val, n);
        } else {
            int back = (int)below(2);
            size_t limit = below(3), gone, want = 0;
            n = make_value(val, 3000);
            for (size_t j = 0; j < m.n; j++) want += m_eq(&m.a[j], val, n);
            if (limit && want > limit) want = limit;
            gone = list_w_remove(&w, val, n, back, limit);
            if (gone != want) bad++;
            for (size_t c = 0, j = back ? m.n : 0; c < want;) {
                if (back) {
                    if (m_eq(&m.a[--j], val, n)) m_delete(&m, j, 1), c++;
                } else if (m_eq(&m.a[j], val, n)) {
                    m_delete(&m, j, 1), c++;
                } else {
                    j++;
                }
            }
        }
        qlist_fail_alloc(0);
        if (list_w_len(&w) != m.n) bad++;
        list_w_close(&w, util_now_ms());
        ks_unlock(&r);
        if (!holds(ks, "k", &m)) {
            fprintf(stderr, "list kind differs from the model at step %lu\n", step);
            bad++;
        }
        if (m.n) {
            if (encoding_of(ks, "k") == LIST_PACKED) small++;
            else big++;
        }
    }
    CHECK(bad == 0);
    CHECK(small > 100 && big > 100);   /* both encodings, back and forth */
    CHECK(qlist_fail_alloc(0) > fails0 + 50);
    types_set_limit(&types_lim.list_size, -2);
    m_free(&m);
}

/* Key k gets the model's elements, pushed one by one. */
static void make_list(keyspace *ks, const char *k, const model *m)
{
    kref r;
    list_w w;
    lock_key(ks, k, &r);
    ks_delete(&r, util_now_ms());
    list_w_open(&w, &r);
    for (size_t i = 0; i < m->n; i++) list_w_push(&w, 1, m->a[i].p, m->a[i].n);
    list_w_close(&w, util_now_ms());
    ks_unlock(&r);
}

/* Serialize key k's value. */
static void serialize_key(keyspace *ks, const char *k, buf *out)
{
    kref r;
    lock_key(ks, k, &r);
    list_kind_ops.serialize(r.it, out);
    ks_unlock(&r);
}

/* Restore the bytes p into key k: 0, or -1 when they are refused. */
static int restore_key(keyspace *ks, const char *k, const char *p, size_t n)
{
    kref r;
    item *it;
    lock_key(ks, k, &r);
    it = list_kind_ops.restore(&r, p, n, -1);
    if (it) ks_store(&r, it);
    ks_unlock(&r);
    return it ? 0 : -1;
}

static void round_trips(keyspace *ks)
{
    static char val[5000];
    size_t sizes[] = {1, 5, 100, 1000, 20000};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        model m = {0};
        buf b = {0}, b2 = {0};
        for (size_t i = 0; i < sizes[t]; i++) {
            size_t n = make_value(val, 2000);
            m_insert(&m, m.n, val, n);
        }
        make_list(ks, "src", &m);
        CHECK(encoding_of(ks, "src") == (sizes[t] <= 5 ? LIST_PACKED : LIST_NODES) ||
              sizes[t] == 100);
        serialize_key(ks, "src", &b);
        CHECK(b.len > 1 && (unsigned char)b.data[0] == (KIND_LIST << 4 | LIST_PACKED));
        CHECK(restore_key(ks, "dst", b.data, b.len) == 0);
        CHECK(holds(ks, "dst", &m));
        serialize_key(ks, "dst", &b2);
        CHECK(b2.len == b.len && memcmp(b.data, b2.data, b.len) == 0);
        /* the same bytes under a tiny node bound: restored big */
        types_set_limit(&types_lim.list_size, 1);
        CHECK(restore_key(ks, "dst2", b.data, b.len) == 0);
        CHECK(holds(ks, "dst2", &m));
        CHECK(sizes[t] == 1 || encoding_of(ks, "dst2") == LIST_NODES);
        types_set_limit(&types_lim.list_size, -2);
        /* a copy is its own: changing it leaves the original */
        {
            kref a, c;
            list_w w;
            ks_lockset ls;
            lock_key(ks, "src", &a);
            ks_unlock(&a);
            ks_ref(ks, ks_default(ks), "copy", 4, &c);
            ks_lockset_init(&ls);
            ks_lockset_add(&ls, &a);
            ks_lockset_add(&ls, &c);
            ks_lockset_lock(&ls);
            ks_find(&a, util_now_ms());
            ks_find(&c, util_now_ms());
            ks_store(&c, ks_new_copy(&c, a.it, -1));
            ks_lockset_unlock(&ls);
            lock_key(ks, "copy", &c);
            list_w_open(&w, &c);
            list_w_pop(&w, 0, 1);
            list_w_push(&w, 1, "new", 3);
            list_w_close(&w, util_now_ms());
            ks_unlock(&c);
            CHECK(holds(ks, "src", &m));
        }
        buf_free(&b);
        buf_free(&b2);
        m_free(&m);
    }
}

/* Restoring refuses anything but a well-formed packed list, and random
 * damage either is refused or restores exactly what the bytes say. */
static void corrupt(keyspace *ks)
{
    char good[64], bad[64];
    size_t n = 0;
    good[n++] = (char)(KIND_LIST << 4 | LIST_PACKED);
    good[n++] = 3;
    good[n++] = 1, good[n++] = 'a';
    good[n++] = 0;
    good[n++] = 2, good[n++] = 'b', good[n++] = 'c';
    CHECK(restore_key(ks, "c", good, n) == 0);
    memcpy(bad, good, n);
    CHECK(restore_key(ks, "c", bad, 0) < 0);                  /* nothing */
    CHECK(restore_key(ks, "c", bad, 1) < 0);                  /* no count */
    CHECK(restore_key(ks, "c", bad, n - 1) < 0);              /* cut short */
    bad[1] = 4;
    CHECK(restore_key(ks, "c", bad, n) < 0);                  /* count too big */
    bad[1] = 2;
    CHECK(restore_key(ks, "c", bad, n) < 0);                  /* bytes left over */
    bad[1] = 0;
    CHECK(restore_key(ks, "c", bad, 2) < 0);                  /* an empty list */
    memcpy(bad, good, n);
    bad[0] = (char)(KIND_LIST << 4 | LIST_NODES);
    CHECK(restore_key(ks, "c", bad, n) < 0);                  /* a pointer from a file */
    memcpy(bad, good, n);
    bad[2] = (char)0x80;
    CHECK(restore_key(ks, "c", bad, n) < 0);                  /* an unfinished varint */
    memcpy(bad, good, n);
    bad[5] = 100;
    CHECK(restore_key(ks, "c", bad, n) < 0);                  /* a length past the end */
    /* random damage: refused, or what it restores serializes back to it */
    unsigned long refused = 0, taken = 0, wrong = 0;
    for (int t = 0; t < 20000; t++) {
        size_t len = n;
        memcpy(bad, good, n);
        for (int f = 1 + (int)below(3); f; f--) bad[1 + below(n - 1)] = (char)rnd();
        if (below(4) == 0) len = 1 + below(n + 3);
        if (restore_key(ks, "c", bad, len) < 0) {
            refused++;
        } else {
            buf b = {0};
            serialize_key(ks, "c", &b);
            if (b.len != len || memcmp(b.data, bad, len)) wrong++;
            buf_free(&b);
            taken++;
        }
    }
    CHECK(wrong == 0 && refused > 1000 && taken > 10);
}

/* Take a view of key k's list (the kind's operation), with what the list
 * serializes to now in want. */
static void *view_key(keyspace *ks, const char *k, buf *want)
{
    kref r;
    void *v;
    lock_key(ks, k, &r);
    list_kind_ops.serialize(r.it, want);
    v = list_kind_ops.view(r.it);
    ks_unlock(&r);
    return v;
}

/* Whether view v serializes to want. */
static int view_serializes(void *v, const buf *want)
{
    buf got = {0};
    int ok;
    list_kind_ops.view_serialize(v, &got);
    ok = got.len == want->len && memcmp(got.data, want->data, got.len) == 0;
    buf_free(&got);
    return ok;
}

/* The kind's views: taken of a big list, several at once, each serializes
 * to what the list serialized to at its instant while every write goes on
 * (the list turning small at the end), and after the key is deleted (a big
 * list freed by the background thread). A small list has no view. */
static void kind_views(keyspace *ks)
{
    static char val[4096];
    model m = {0};
    buf want[3] = {{0}, {0}, {0}}, b = {0};
    void *views[3];
    size_t nv = 0;
    unsigned long bad = 0;
    kref r;
    rng = 321;
    for (size_t i = 0; i < 8000; i++) {
        size_t n = (size_t)snprintf(val, sizeof val, "%016zu", i);
        m_insert(&m, m.n, val, n);
    }
    make_list(ks, "views", &m);
    CHECK(encoding_of(ks, "views") == LIST_NODES);
    for (int step = 0; step < 600; step++) {
        list_w w;
        size_t n, i, k;
        if (step % 100 == 0 && nv < 3) {
            views[nv] = view_key(ks, "views", &want[nv]);
            CHECK(views[nv] != NULL);
            nv++;
        }
        lock_key(ks, "views", &r);
        list_w_open(&w, &r);
        n = make_value(val, 2000);
        i = below(m.n);
        /* pops, the last steps only pops: the list turns small */
        switch (step < 500 ? below(5) : 0) {
        case 0:
            k = step < 500 ? below(30) : m.n / 8 + 1;
            if (k > m.n - 1) k = m.n - 1;
            if (step == 599) {   /* one short element left */
                list_w_set(&w, 0, "a", 1);
                m_set(&m, 0, "a", 1);
            }
            list_w_pop(&w, (int)(step % 2), k);
            m_delete(&m, step % 2 ? m.n - k : 0, k);
            break;
        case 1:
            if (list_w_set(&w, i, val, n) == 0) m_set(&m, i, val, n);
            break;
        case 2:
            k = below(2);
            if (list_w_push(&w, (int)k, val, n) == 0) m_insert(&m, k ? m.n : 0, val, n);
            break;
        case 3:
            if (list_w_insert(&w, i, val, n) == 0) m_insert(&m, i, val, n);
            break;
        default:
            for (size_t j = i; j < m.n && j < i + 3; j++) m_set(&m, j, "x", 1);
            for (size_t j = i; j < m.n && j < i + 3; j++) list_w_set(&w, j, "x", 1);
            list_w_remove(&w, "x", 1, 0, 0);
            for (size_t j = m.n; j-- > 0;)
                if (m_eq(&m.a[j], "x", 1)) m_delete(&m, j, 1);
            break;
        }
        list_w_close(&w, util_now_ms());
        ks_unlock(&r);
        for (size_t v = 0; v < nv; v++) bad += !view_serializes(views[v], &want[v]);
    }
    CHECK(bad == 0);
    CHECK(holds(ks, "views", &m));
    CHECK(nv == 3 && encoding_of(ks, "views") == LIST_PACKED);
    lock_key(ks, "views", &r);
    CHECK(list_kind_ops.view(r.it) == NULL);   /* small: copied by its bytes */
    ks_delete(&r, util_now_ms());
    ks_unlock(&r);
    /* a big list deleted while viewed: freed in the background first */
    make_list(ks, "gone", &m);
    m_free(&m);
    for (size_t i = 0; i < 30000; i++) m_insert(&m, m.n, "0123456789abcdef", 16);
    make_list(ks, "gone", &m);
    {
        void *v = view_key(ks, "gone", &b);
        lock_key(ks, "gone", &r);
        ks_delete(&r, util_now_ms());
        ks_unlock(&r);
        bgfree_drain();
        CHECK(view_serializes(v, &b));
        list_kind_ops.view_release(v);
    }
    for (size_t v = 0; v < nv; v++) {
        CHECK(view_serializes(views[v], &want[v]));
        list_kind_ops.view_release(views[v]);
        buf_free(&want[v]);
    }
    buf_free(&b);
    m_free(&m);
}

/* A big list's bytes outside the segment are charged and given back. */
static void accounting(keyspace *ks)
{
    ks_stats st0, st1, st2;
    model m = {0};
    char v[16];
    kref r;
    list_w w;
    memset(v, 'v', sizeof v);
    /* strings first, so the segment the list's items go to has room to spare */
    for (int i = 0; i < 300; i++) {
        char k[16], big[60] = {0};
        snprintf(k, sizeof k, "f%d", i);
        lock_key(ks, k, &r);
        ks_set(&r, big, sizeof big, -1);
        ks_set(&r, big, sizeof big - 8, -1);   /* overwritten: in the main queue, as "acct" */
        ks_unlock(&r);
    }
    m_insert(&m, 0, v, 1);
    make_list(ks, "acct", &m);   /* its segment exists from now on */
    m_delete(&m, 0, 1);
    for (int i = 0; i < 100000; i++) m_insert(&m, m.n, v, sizeof v);
    ks_domain_stats(ks_default(ks), &st0);
    make_list(ks, "acct", &m);
    ks_domain_stats(ks_default(ks), &st1);
    lock_key(ks, "acct", &r);
    size_t out = list_kind_ops.outside(r.it);
    ks_unlock(&r);
    CHECK(out > 100000 * 18 && out < 100000 * 18.3);
    CHECK(st1.mem == st0.mem + out);   /* the item fit in its segment */
    /* viewed, then every node changed: the list holds copies as big as the
     * nodes it let go of (the view's now), and is charged for them alone */
    {
        buf want = {0};
        void *v = view_key(ks, "acct", &want);
        char u[16];
        memset(u, 'u', sizeof u);
        lock_key(ks, "acct", &r);
        list_w_open(&w, &r);
        for (size_t i = 0; i < 100000; i += 100) CHECK(list_w_set(&w, i, u, sizeof u) == 0);
        list_w_close(&w, util_now_ms());
        CHECK(list_kind_ops.outside(r.it) == out);
        ks_unlock(&r);
        ks_domain_stats(ks_default(ks), &st2);
        CHECK(st2.mem == st1.mem);
        CHECK(view_serializes(v, &want));
        list_kind_ops.view_release(v);
        buf_free(&want);
        ks_domain_stats(ks_default(ks), &st2);
        CHECK(st2.mem == st1.mem);
    }
    /* shrunk to a few elements: small again, nothing outside */
    lock_key(ks, "acct", &r);
    list_w_open(&w, &r);
    list_w_pop(&w, 1, 99997);
    list_w_close(&w, util_now_ms());
    CHECK(r.it && item_encoding(r.it) == LIST_PACKED && list_len(r.it) == 3);
    CHECK(list_kind_ops.outside(r.it) == 0);
    ks_unlock(&r);
    ks_domain_stats(ks_default(ks), &st2);
    CHECK(st2.mem == st0.mem);   /* the same item bytes, nothing outside */
    m_free(&m);
}

static void kind_tests(void)
{
    keyspace *ks = ks_create(4, &max_domains);
    types_init();
    kind_stream(ks, 20000, 7);
    round_trips(ks);
    corrupt(ks);
    kind_views(ks);
    ks_destroy(&ks);
    ks = ks_create(1, &max_domains);   /* alone in its keyspace: exact counts */
    accounting(ks);
    ks_destroy(&ks);
}

int main(void)
{
    qlist_fill();
    qlist_stream(8192, (size_t)-1, 30000, 1, 0);
    qlist_stream(512, (size_t)-1, 30000, 2, 0);
    qlist_stream(256, (size_t)-1, 30000, 3, 0);
    qlist_stream(8192, 5, 30000, 4, 0);
    qlist_stream(8192, 1, 20000, 5, 0);
    qlist_stream(4096, 128, 30000, 6, 0);
    qlist_stream(512, (size_t)-1, 20000, 7, 1);
    qlist_stream(8192, 3, 20000, 8, 1);
    view_stream(512, (size_t)-1, 20000, 11, 0);
    view_stream(256, 7, 20000, 12, 0);
    view_stream(8192, (size_t)-1, 20000, 13, 0);
    view_stream(512, (size_t)-1, 20000, 14, 1);
    cow_failures();
    threaded_views();
    kind_tests();
    return check_done("list");
}
