/* Unit tests for the intrusive AVL tree (lib/avl.h): seeded random streams
 * of inserts and removals of integer keys, checked after every step
 * against a plain presence array (find, seek at and after, first and last,
 * the walk in order) and for the order, heights and balance; the height
 * bound for sorted inserts (the common case: a PEL grows by increasing
 * IDs); a node in two trees at once; destroy visiting every node. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/avl.h"

#define N 512

typedef struct tnode {
    avl_node a, b;          /* in two trees */
    long key;
} tnode;

static int cmp_a(const avl_node *n, const void *key)
{
    long k = ((const tnode *)n)->key, q = *(const long *)key;
    return k < q ? -1 : k > q;
}

static int cmp_b(const avl_node *n, const void *key)
{
    const tnode *t = (const tnode *)((const char *)n - offsetof(tnode, b));
    long q = *(const long *)key;
    return t->key < q ? -1 : t->key > q;
}

static int nodes_a(const avl_node *x, const avl_node *y)
{
    long k = ((const tnode *)y)->key;
    return cmp_a(x, &k);
}

static void count_node(avl_node *n, void *ctx)
{
    (void)n;
    (*(int *)ctx)++;
}

static void random_stream(uint64_t seed)
{
    static tnode nodes[N];
    static int in[N];
    avl_node *root = NULL;
    uint64_t st = seed;
    int bad = 0;
    memset(in, 0, sizeof in);
    for (long i = 0; i < N; i++) nodes[i].key = i;
    for (int step = 0; step < 20000; step++) {
        long k = (long)(check_rand(&st) % N), q;
        avl_node *n;
        if (!in[k]) {
            avl_insert(&root, &nodes[k].a, cmp_a, &nodes[k].key);
            in[k] = 1;
        } else {
            n = avl_remove(&root, cmp_a, &k);
            if (n != &nodes[k].a) bad++;
            in[k] = 0;
        }
        if (avl_check(root, nodes_a) < 0) bad++;
        q = (long)(check_rand(&st) % (N + 2)) - 1;
        n = avl_find(root, cmp_a, &q);
        if ((q >= 0 && q < N && in[q]) != (n != NULL)) bad++;
        for (int after = 0; after < 2; after++) {
            long want = after ? q + 1 : q;
            if (want < 0) want = 0;
            while (want < N && !in[want]) want++;
            n = avl_seek(root, cmp_a, &q, after);
            if (want >= N ? n != NULL : (!n || ((tnode *)n)->key != want)) bad++;
        }
        if (step % 500 == 0) {   /* the whole walk in order */
            long prev = -1;
            int count = 0, total = 0;
            for (n = avl_first(root); n; n = avl_seek(root, cmp_a, &prev, 1)) {
                if (((tnode *)n)->key <= prev) bad++;
                prev = ((tnode *)n)->key;
                count++;
            }
            for (int i = 0; i < N; i++) total += in[i];
            if (count != total) bad++;
            n = avl_last(root);
            if (total && (!n || ((tnode *)n)->key != prev)) bad++;
        }
    }
    CHECK(bad == 0);
}

static void sorted_inserts(void)
{
    enum { M = 1 << 16 };
    tnode *v = malloc(sizeof *v * M);
    avl_node *ra = NULL, *rb = NULL;
    int visited = 0, bad = 0;
    for (long i = 0; i < M; i++) v[i].key = i;
    for (long i = 0; i < M; i++) {
        avl_insert(&ra, &v[i].a, cmp_a, &v[i].key);
        avl_insert(&rb, &v[M - 1 - i].b, cmp_b, &v[M - 1 - i].key);
    }
    CHECK(avl_check(ra, nodes_a) == 0);
    CHECK(ra->h <= 17 + 1);   /* perfectly balanced or one more */
    CHECK(rb->h <= 17 + 1);
    /* removing from one tree leaves the other alone */
    for (long i = 0; i < M; i += 2)
        if (avl_remove(&ra, cmp_a, &i) != &v[i].a) bad++;
    for (long i = 0; i < M; i++)
        if (!avl_find(rb, cmp_b, &i) || (avl_find(ra, cmp_a, &i) != NULL) != (i % 2)) bad++;
    CHECK(bad == 0);
    CHECK(avl_check(ra, nodes_a) == 0);
    avl_destroy(rb, count_node, &visited);
    CHECK(visited == M);
    free(v);
}

int main(void)
{
    for (uint64_t seed = 1; seed <= 4; seed++) random_stream(seed * 0x9e3779b97f4a7c15ull);
    sorted_inserts();
    return check_done("avl");
}
