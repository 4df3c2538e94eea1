/* Unit tests for lists: the big structure (qlist) driven by seeded random
 * streams of pushes, pops, reads, replacements, insertions, removals and
 * range deletions across node splits and merges, checked against a plain
 * array after every step, with its invariants (counts, start positions,
 * both walks of every node, node fill, the memory count). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/util.h"
#include "types/qlist.h"

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

static int failed_check(const qlist *q, const char *what, unsigned long step)
{
    char why[256];
    if (qlist_check(q, why, sizeof why) == 0) return 0;
    fprintf(stderr, "qlist invariant broken after %s (step %lu): %s\n", what, step, why);
    return 1;
}

static void qlist_stream(size_t max_bytes, size_t max_count, unsigned long steps, uint64_t seed)
{
    static char val[70000];
    model m = {0};
    qlist *q = qlist_new(max_bytes, max_count);
    unsigned long bad = 0, wrong = 0;
    size_t peak = 0;
    rng = seed;
    for (unsigned long step = 0; step < steps && !bad; step++) {
        size_t r = below(100), n, i, k;
        const char *what;
        const char *s;
        size_t sn;
        /* grow for a while, then shrink, then grow again */
        int grow = (step / 10000) % 2 == 0;
        if (r < (grow ? 30u : 15u)) {
            int tail = (int)below(2);
            n = make_value(val, max_bytes);
            what = "push";
            if (qlist_push(q, tail, val, n) == 0) m_insert(&m, tail ? m.n : 0, val, n);
            else wrong++;
        } else if (r < (grow ? 40u : 45u)) {
            int tail = (int)below(2);
            k = below(grow ? 3 : 30);
            if (k > m.n) k = m.n;
            what = "pop";
            qlist_delete(q, tail ? m.n - k : 0, k);
            m_delete(&m, tail ? m.n - k : 0, k);
        } else if (r < 55) {
            what = "get";
            if (m.n) {
                i = below(m.n);
                qlist_get(q, i, &s, &sn);
                if (!m_eq(&m.a[i], s, sn)) wrong++;
            }
        } else if (r < 65) {
            what = "set";
            if (m.n) {
                i = below(m.n);
                n = make_value(val, max_bytes);
                if (qlist_set(q, i, val, n) == 0) m_set(&m, i, val, n);
                else wrong++;
            }
        } else if (r < (grow ? 80u : 72u)) {
            what = "insert";
            i = below(m.n + 1);
            n = make_value(val, max_bytes);
            if (qlist_insert(q, i, val, n) == 0) m_insert(&m, i, val, n);
            else wrong++;
        } else if (r < 85) {
            what = "delete";
            if (m.n) {
                i = below(m.n);
                k = below(grow ? 4 : 60);
                if (k > m.n - i) k = m.n - i;
                qlist_delete(q, i, k);
                m_delete(&m, i, k);
            }
        } else if (r < 90) {
            int back = (int)below(2);
            size_t limit = below(grow ? 40 : 4), gone = 0, want = 0;
            if (limit > 3) limit = 1 + limit % 3;   /* all of them (0) now and then */
            what = "remove";
            n = make_value(val, max_bytes);
            for (size_t j = 0; j < m.n; j++) want += m_eq(&m.a[j], val, n);
            if (limit && want > limit) want = limit;
            gone = qlist_remove(q, val, n, back, limit);
            if (gone != want) wrong++;
            /* the model: the first (or last) `want` matches */
            for (size_t c = 0, j = back ? m.n : 0; c < want;) {
                if (back) {
                    j--;
                    if (m_eq(&m.a[j], val, n)) {
                        m_delete(&m, j, 1);
                        c++;
                    }
                } else if (m_eq(&m.a[j], val, n)) {
                    m_delete(&m, j, 1);
                    c++;
                } else {
                    j++;
                }
            }
            int has = 0;
            for (size_t j = 0; j < m.n; j++) has |= m_eq(&m.a[j], val, n);
            if (qlist_contains(q, val, n) != has) wrong++;
        } else {
            /* walk a stretch from a random index, either way */
            int back = (int)below(2);
            qiter it;
            what = "walk";
            i = below(m.n + 1);
            qiter_init(&it, q, i, back);
            for (size_t c = 0; c < 50 && qiter_next(&it, &s, &sn); c++) {
                size_t at = back ? i - c : i + c;
                if (at >= m.n || !m_eq(&m.a[at], s, sn)) {
                    wrong++;
                    break;
                }
            }
        }
        if (failed_check(q, what, step)) bad++;
        if (step % 97 == 0 && !same(q, &m)) {
            fprintf(stderr, "qlist differs from the model after %s (step %lu)\n", what, step);
            bad++;
        }
        if (m.n > peak) peak = m.n;
    }
    CHECK(bad == 0);
    CHECK(wrong == 0);
    CHECK(same(q, &m));
    CHECK(peak > 1000);   /* the stream did reach many nodes */
    printf("qlist %zu/%zu: peak %zu elements, %zu at the end in %zu nodes\n", max_bytes,
           max_count, peak, qlist_len(q), q->nodes);
    {
        qlist *c = qlist_dup(q);
        char why[256];
        CHECK(c && same(c, &m) && qlist_check(c, why, sizeof why) == 0);
        qlist_free(&c);
        CHECK(c == NULL);
    }
    qlist_free(&q);
    m_free(&m);
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
    CHECK(qlist_check(q, why, sizeof why) == 0);
    /* 18 bytes an element, a few bytes of node and ring overhead */
    CHECK(qlist_mem(q) < 200000 * 18.3);
    qlist_delete(q, 0, 100000);
    qlist_delete(q, qlist_len(q) - 99999, 99999);
    CHECK(qlist_len(q) == 1 && qlist_check(q, why, sizeof why) == 0);
    CHECK(qlist_mem(q) < 512);
    char *big = xmalloc(100000);
    memset(big, 'b', 100000);
    CHECK(qlist_insert(q, 1, big, 100000) == 0);
    CHECK(qlist_push(q, 1, v, 1) == 0);
    CHECK(qlist_set(q, 0, big, 50000) == 0);
    CHECK(qlist_check(q, why, sizeof why) == 0);
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

int main(void)
{
    qlist_fill();
    qlist_stream(8192, (size_t)-1, 30000, 1);
    qlist_stream(512, (size_t)-1, 30000, 2);
    qlist_stream(256, (size_t)-1, 30000, 3);
    qlist_stream(8192, 5, 30000, 4);
    qlist_stream(8192, 1, 20000, 5);
    qlist_stream(4096, 128, 30000, 6);
    return check_done("test_list");
}
