/* zbtree.c - the order-statistic B+ tree of a big sorted set. See zbtree.h. */
#include "types/zbtree.h"

#include <stdlib.h>

#define LEAF_CAP 126   /* a node is 1016 bytes: one 1 KB malloc block */
#define INNER_CAP 42
#define LEAF_MIN (LEAF_CAP / 4)     /* a deletion below this rebalances */
#define INNER_MIN (INNER_CAP / 4)
#define NODE_BLOCK 1024             /* what malloc gives a node, with its header */

struct zbt_node {
    uint16_t n;
    uint16_t leaf;
    uint32_t unused;
    union {
        const char *e[LEAF_CAP];
        struct {
            zbt_node *child[INNER_CAP];
            const char *key[INNER_CAP];   /* the first entry under each child */
            size_t cnt[INNER_CAP];        /* the entries under each child */
        } in;
    } u;
};

#define E(x) ((x)->u.e)
#define CH(x) ((x)->u.in.child)
#define KEY(x) ((x)->u.in.key)
#define CNT(x) ((x)->u.in.cnt)

static int cmp_entry(const char *e, const zbt_key *k)
{
    zbt_key a;
    zbt_entry_key(e, &a);
    return zbt_keycmp(&a, k);
}

void zbt_init(zbtree *t) { memset(t, 0, sizeof *t); }

static void free_node(zbt_node *x)
{
    if (!x->leaf)
        for (int i = 0; i < x->n; i++) free_node(CH(x)[i]);
    free(x);
}

void zbt_free(zbtree *t)
{
    if (t->root) free_node(t->root);
    for (int i = 0; i < t->nspare; i++) free(t->spare[i]);
    memset(t, 0, sizeof *t);
}

size_t zbt_mem(const zbtree *t) { return t->nodes * NODE_BLOCK; }

int zbt_reserve(zbtree *t)
{
    while (t->nspare < t->height + 2) {
        zbt_node *x = malloc(sizeof *x);
        if (!x) return -1;
        t->spare[t->nspare++] = x;
        t->nodes++;
    }
    return 0;
}

static zbt_node *take(zbtree *t, int leaf)
{
    zbt_node *x = t->spare[--t->nspare];   /* zbt_reserve made sure of it */
    x->n = 0;
    x->leaf = (uint16_t)leaf;
    x->unused = 0;
    return x;
}

static void give_back(zbtree *t, zbt_node *x)
{
    if (t->nspare < (int)(sizeof t->spare / sizeof t->spare[0])) {
        t->spare[t->nspare++] = x;
    } else {
        free(x);
        t->nodes--;
    }
}

static const char *first_of(const zbt_node *x) { return x->leaf ? E(x)[0] : KEY(x)[0]; }

static size_t count_of(const zbt_node *x)
{
    size_t c = 0;
    if (x->leaf) return x->n;
    for (int i = 0; i < x->n; i++) c += CNT(x)[i];
    return c;
}

/* The first position in a leaf whose entry is not before k. */
static int leaf_lower(const zbt_node *x, const zbt_key *k)
{
    int lo = 0, hi = x->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cmp_entry(E(x)[mid], k) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The child of an inner node whose subtree holds (or would hold) k: the
 * last whose first entry is not after k, or the first. */
static int inner_child(const zbt_node *x, const zbt_key *k)
{
    int lo = 1, hi = x->n;   /* find the first child after k, from 1 */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cmp_entry(KEY(x)[mid], k) <= 0) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

static void leaf_put(zbt_node *x, int pos, const char *e)
{
    memmove(&E(x)[pos + 1], &E(x)[pos], sizeof(E(x)[0]) * (size_t)(x->n - pos));
    E(x)[pos] = e;
    x->n++;
}

static void inner_put(zbt_node *x, int pos, zbt_node *c, size_t cnt)
{
    size_t m = (size_t)(x->n - pos);
    memmove(&CH(x)[pos + 1], &CH(x)[pos], sizeof(CH(x)[0]) * m);
    memmove(&KEY(x)[pos + 1], &KEY(x)[pos], sizeof(KEY(x)[0]) * m);
    memmove(&CNT(x)[pos + 1], &CNT(x)[pos], sizeof(CNT(x)[0]) * m);
    CH(x)[pos] = c;
    KEY(x)[pos] = first_of(c);
    CNT(x)[pos] = cnt;
    x->n++;
}

static void inner_cut(zbt_node *x, int pos)
{
    size_t m = (size_t)(x->n - pos - 1);
    memmove(&CH(x)[pos], &CH(x)[pos + 1], sizeof(CH(x)[0]) * m);
    memmove(&KEY(x)[pos], &KEY(x)[pos + 1], sizeof(KEY(x)[0]) * m);
    memmove(&CNT(x)[pos], &CNT(x)[pos + 1], sizeof(CNT(x)[0]) * m);
    x->n--;
}

/* Move the last `m` slots of a to the front of b (same level). */
static void shift_right(zbt_node *a, zbt_node *b, int m)
{
    if (a->leaf) {
        memmove(&E(b)[m], &E(b)[0], sizeof(E(b)[0]) * b->n);
        memcpy(&E(b)[0], &E(a)[a->n - m], sizeof(E(a)[0]) * (size_t)m);
    } else {
        memmove(&CH(b)[m], &CH(b)[0], sizeof(CH(b)[0]) * b->n);
        memmove(&KEY(b)[m], &KEY(b)[0], sizeof(KEY(b)[0]) * b->n);
        memmove(&CNT(b)[m], &CNT(b)[0], sizeof(CNT(b)[0]) * b->n);
        memcpy(&CH(b)[0], &CH(a)[a->n - m], sizeof(CH(a)[0]) * (size_t)m);
        memcpy(&KEY(b)[0], &KEY(a)[a->n - m], sizeof(KEY(a)[0]) * (size_t)m);
        memcpy(&CNT(b)[0], &CNT(a)[a->n - m], sizeof(CNT(a)[0]) * (size_t)m);
    }
    a->n = (uint16_t)(a->n - m);
    b->n = (uint16_t)(b->n + m);
}

/* Move the first `m` slots of b to the end of a (same level). */
static void shift_left(zbt_node *a, zbt_node *b, int m)
{
    size_t rest = (size_t)(b->n - m);
    if (a->leaf) {
        memcpy(&E(a)[a->n], &E(b)[0], sizeof(E(b)[0]) * (size_t)m);
        memmove(&E(b)[0], &E(b)[m], sizeof(E(b)[0]) * rest);
    } else {
        memcpy(&CH(a)[a->n], &CH(b)[0], sizeof(CH(b)[0]) * (size_t)m);
        memcpy(&KEY(a)[a->n], &KEY(b)[0], sizeof(KEY(b)[0]) * (size_t)m);
        memcpy(&CNT(a)[a->n], &CNT(b)[0], sizeof(CNT(b)[0]) * (size_t)m);
        memmove(&CH(b)[0], &CH(b)[m], sizeof(CH(b)[0]) * rest);
        memmove(&KEY(b)[0], &KEY(b)[m], sizeof(KEY(b)[0]) * rest);
        memmove(&CNT(b)[0], &CNT(b)[m], sizeof(CNT(b)[0]) * rest);
    }
    a->n = (uint16_t)(a->n + m);
    b->n = (uint16_t)(b->n - m);
}

/* The entries moved between two neighbours: what the slots [from, to) of a
 * node count. */
static size_t slots_count(const zbt_node *x, int from, int to)
{
    size_t c = 0;
    if (x->leaf) return (size_t)(to - from);
    for (int i = from; i < to; i++) c += CNT(x)[i];
    return c;
}

/* A full leaf child i of x is about to take an entry with key k: hand one
 * of its entries to a neighbour with room. Returns 1 if e itself went to
 * the right neighbour (done), else 0 (child i now has room, or no
 * neighbour had). */
static int leaf_share(zbt_node *x, int i, const char *e, const zbt_key *k, int *room)
{
    zbt_node *c = CH(x)[i];
    *room = 0;
    if (i > 0 && CH(x)[i - 1]->n < LEAF_CAP) {
        /* its first entry goes left; e sorts after it (key[i] <= k) */
        shift_left(CH(x)[i - 1], c, 1);
        CNT(x)[i - 1]++;
        CNT(x)[i]--;
        KEY(x)[i] = E(c)[0];
        *room = 1;
        return 0;
    }
    if (i + 1 < x->n && CH(x)[i + 1]->n < LEAF_CAP) {
        zbt_node *r = CH(x)[i + 1];
        if (cmp_entry(E(c)[c->n - 1], k) < 0) {   /* e is next: it starts r */
            leaf_put(r, 0, e);
        } else {
            shift_right(c, r, 1);
            CNT(x)[i]--;
            *room = 1;
        }
        CNT(x)[i + 1]++;
        KEY(x)[i + 1] = E(r)[0];
        return !*room;
    }
    return 0;
}

/* Full leaf child i of x, with a full neighbour, takes e: the two become
 * three leaves two-thirds full (a B*-tree split), so leaves filled at random
 * stay over 80% full. Returns the new middle leaf, to go at *at with *yc
 * entries; the two old leaves' slots in x are updated. */
static zbt_node *split3(zbtree *t, zbt_node *x, int i, const char *e, const zbt_key *k, int *at,
                        size_t *yc)
{
    const char *tmp[2 * LEAF_CAP + 1];
    int a = i + 1 < x->n ? i : i - 1, b = a + 1, total = 2 * LEAF_CAP + 1;
    zbt_node *l = CH(x)[a], *r = CH(x)[b], *y = take(t, 1);
    int pos = leaf_lower(CH(x)[i], k) + (i == b ? LEAF_CAP : 0);
    memcpy(tmp, E(l), sizeof(tmp[0]) * LEAF_CAP);
    memcpy(tmp + LEAF_CAP, E(r), sizeof(tmp[0]) * LEAF_CAP);
    memmove(&tmp[pos + 1], &tmp[pos], sizeof(tmp[0]) * (size_t)(2 * LEAF_CAP - pos));
    tmp[pos] = e;
    int n1 = total / 3, n2 = total / 3, n3 = total - n1 - n2;
    memcpy(E(l), tmp, sizeof(tmp[0]) * (size_t)n1);
    memcpy(E(y), tmp + n1, sizeof(tmp[0]) * (size_t)n2);
    memcpy(E(r), tmp + n1 + n2, sizeof(tmp[0]) * (size_t)n3);
    l->n = (uint16_t)n1;
    y->n = (uint16_t)n2;
    r->n = (uint16_t)n3;
    CNT(x)[a] = (size_t)n1;
    KEY(x)[a] = E(l)[0];
    CNT(x)[b] = (size_t)n3;
    KEY(x)[b] = E(r)[0];
    *at = b;
    *yc = (size_t)n2;
    return y;
}

/* Insert e under x; returns the new right sibling when x split. */
static zbt_node *ins(zbtree *t, zbt_node *x, const char *e, const zbt_key *k)
{
    if (x->leaf) {
        int pos = leaf_lower(x, k);
        if (x->n < LEAF_CAP) {
            leaf_put(x, pos, e);
            return NULL;
        }
        zbt_node *y = take(t, 1);
        if (pos == x->n) {   /* appending: the new leaf starts with e alone */
            leaf_put(y, 0, e);
        } else if (pos == 0) {   /* prepending: x keeps e alone */
            memcpy(E(y), E(x), sizeof(E(x)[0]) * x->n);
            y->n = x->n;
            x->n = 0;
            leaf_put(x, 0, e);
        } else {
            int half = LEAF_CAP / 2;
            shift_right(x, y, LEAF_CAP - half);
            if (pos <= half) leaf_put(x, pos, e);
            else leaf_put(y, pos - half, e);
        }
        return y;
    }
    int i = inner_child(x, k), at = i + 1;
    zbt_node *c = CH(x)[i], *y;
    size_t yc;
    if (c->leaf && c->n == LEAF_CAP) {
        int room;
        if (leaf_share(x, i, e, k, &room)) return NULL;
        /* an append (or prepend) to the leaf splits off e alone instead:
         * ascending runs then fill leaves completely */
        int edge = cmp_entry(E(c)[c->n - 1], k) < 0 || cmp_entry(E(c)[0], k) > 0;
        if (!room && x->n >= 2 && !edge) {
            y = split3(t, x, i, e, k, &at, &yc);
            goto place;
        }
    }
    y = ins(t, c, e, k);
    CNT(x)[i]++;
    KEY(x)[i] = first_of(c);
    if (!y) return NULL;
    yc = count_of(y);
    CNT(x)[i] -= yc;
place:
    if (x->n < INNER_CAP) {
        inner_put(x, at, y, yc);
        return NULL;
    }
    zbt_node *z = take(t, 0);   /* x splits in two halves */
    int half = INNER_CAP / 2;
    shift_right(x, z, INNER_CAP - half);
    if (at <= half) inner_put(x, at, y, yc);
    else inner_put(z, at - half, y, yc);
    return z;
}

void zbt_insert(zbtree *t, const char *e)
{
    zbt_key k;
    zbt_entry_key(e, &k);
    if (!t->root) {
        t->root = take(t, 1);
        t->height = 0;
    }
    zbt_node *y = ins(t, t->root, e, &k);
    if (y) {
        zbt_node *r = take(t, 0), *old = t->root;
        size_t yc = count_of(y);
        inner_put(r, 0, old, t->count + 1 - yc);
        inner_put(r, 1, y, yc);
        t->root = r;
        t->height++;
    }
    t->count++;
}

/* Child i of x fell below its minimum: merge it with a neighbour, or even
 * the two out. */
static void rebalance(zbtree *t, zbt_node *x, int i)
{
    if (x->n < 2) return;
    int a = i > 0 ? i - 1 : i, b = a + 1;
    zbt_node *l = CH(x)[a], *r = CH(x)[b];
    int cap = l->leaf ? LEAF_CAP : INNER_CAP;
    if (l->n + r->n <= cap) {
        CNT(x)[a] += CNT(x)[b];
        shift_left(l, r, r->n);
        inner_cut(x, b);
        give_back(t, r);
    } else {
        int want = (l->n + r->n) / 2;
        size_t moved;
        if (l->n < want) {
            moved = slots_count(r, 0, want - l->n);
            shift_left(l, r, want - l->n);
            CNT(x)[a] += moved;
            CNT(x)[b] -= moved;
        } else {
            moved = slots_count(l, want, l->n);
            shift_right(l, r, l->n - want);
            CNT(x)[a] -= moved;
            CNT(x)[b] += moved;
        }
        KEY(x)[b] = first_of(r);
    }
    KEY(x)[a] = first_of(l);
}

static void del(zbtree *t, zbt_node *x, const char *e, const zbt_key *k)
{
    if (x->leaf) {
        int pos = leaf_lower(x, k);
        if (pos >= x->n || E(x)[pos] != e) abort();   /* not in the tree: a caller bug */
        memmove(&E(x)[pos], &E(x)[pos + 1], sizeof(E(x)[0]) * (size_t)(x->n - pos - 1));
        x->n--;
        return;
    }
    int i = inner_child(x, k);
    zbt_node *c = CH(x)[i];
    del(t, c, e, k);
    CNT(x)[i]--;
    if (c->n) KEY(x)[i] = first_of(c);
    if (c->n < (c->leaf ? LEAF_MIN : INNER_MIN)) rebalance(t, x, i);
}

void zbt_delete(zbtree *t, const char *e)
{
    zbt_key k;
    zbt_entry_key(e, &k);
    del(t, t->root, e, &k);
    t->count--;
    while (!t->root->leaf && t->root->n == 1) {
        zbt_node *old = t->root;
        t->root = CH(old)[0];
        t->height--;
        give_back(t, old);
    }
    if (t->count == 0) {
        give_back(t, t->root);
        t->root = NULL;
        t->height = 0;
    }
}

void zbt_moved(zbtree *t, const char *e, const char *to)
{
    zbt_key k;
    zbt_entry_key(e, &k);
    zbt_node *x = t->root;
    while (!x->leaf) {
        int i = inner_child(x, &k);
        if (KEY(x)[i] == e) KEY(x)[i] = to;
        x = CH(x)[i];
    }
    int pos = leaf_lower(x, &k);
    if (pos >= x->n || E(x)[pos] != e) abort();
    E(x)[pos] = to;
}

size_t zbt_count_below(const zbtree *t, zbt_below_fn *below, const void *ctx)
{
    size_t r = 0;
    const zbt_node *x = t->root;
    if (!x) return 0;
    while (!x->leaf) {
        int lo = 1, hi = x->n;   /* the first child whose first entry is not below */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (below(KEY(x)[mid], ctx)) lo = mid + 1;
            else hi = mid;
        }
        for (int i = 0; i < lo - 1; i++) r += CNT(x)[i];
        x = CH(x)[lo - 1];
    }
    int lo = 0, hi = x->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (below(E(x)[mid], ctx)) lo = mid + 1;
        else hi = mid;
    }
    return r + (size_t)lo;
}

static int below_key(const char *e, const void *ctx) { return cmp_entry(e, ctx) < 0; }

size_t zbt_rank(const zbtree *t, const zbt_key *k) { return zbt_count_below(t, below_key, k); }

const char *zbt_at(const zbtree *t, size_t r)
{
    const zbt_node *x = t->root;
    while (!x->leaf) {
        int i = 0;
        while (r >= CNT(x)[i]) r -= CNT(x)[i++];
        x = CH(x)[i];
    }
    return E(x)[r];
}

void zbt_seek(zbt_iter *it, const zbtree *t, size_t r)
{
    zbt_node *x = t->root;
    int d = 0;
    if (!x || r >= t->count) {
        it->depth = -1;
        return;
    }
    while (!x->leaf) {
        int i = 0;
        while (r >= CNT(x)[i]) r -= CNT(x)[i++];
        it->path[d] = x;
        it->idx[d++] = i;
        x = CH(x)[i];
    }
    it->path[d] = x;
    it->idx[d] = (int)r;
    it->depth = d;
}

const char *zbt_step(zbt_iter *it, int dir)
{
    int d = it->depth;
    if (d < 0) return NULL;
    const char *e = E(it->path[d])[it->idx[d]];
    it->idx[d] += dir;
    if (it->idx[d] >= 0 && it->idx[d] < it->path[d]->n) return e;
    /* up to the first level with a neighbour that way, then down its edge */
    int l = d - 1;
    while (l >= 0 && (it->idx[l] + dir < 0 || it->idx[l] + dir >= it->path[l]->n)) l--;
    if (l < 0) {
        it->depth = -1;
        return e;
    }
    it->idx[l] += dir;
    for (; l < d; l++) {
        zbt_node *c = CH(it->path[l])[it->idx[l]];
        it->path[l + 1] = c;
        it->idx[l + 1] = dir > 0 ? 0 : c->n - 1;
    }
    return e;
}

/* ---- checks, for the unit tests ---- */

typedef struct check_ctx {
    const char *why;
    const char *prev;   /* the last entry seen, in order */
    int leaf_depth;
    size_t leaves, slots;
} check_ctx;

static size_t check_node(const zbt_node *x, int depth, int is_root, check_ctx *c)
{
    if (x->n > (x->leaf ? LEAF_CAP : INNER_CAP)) c->why = "node over capacity";
    if (!is_root && x->n == 0) c->why = "empty node";
    if (!x->leaf && !is_root && x->n < 2) c->why = "inner node with one child";
    if (is_root && !x->leaf && x->n < 2) c->why = "root with one child";
    if (c->why) return 0;
    if (x->leaf) {
        if (c->leaf_depth < 0) c->leaf_depth = depth;
        else if (c->leaf_depth != depth) c->why = "leaves at different depths";
        for (int i = 0; i < x->n; i++) {
            if (c->prev) {
                zbt_key a, b;
                zbt_entry_key(c->prev, &a);
                zbt_entry_key(E(x)[i], &b);
                if (zbt_keycmp(&a, &b) >= 0) c->why = "entries out of order";
            }
            c->prev = E(x)[i];
        }
        c->leaves++;
        c->slots += x->n;
        return x->n;
    }
    size_t total = 0;
    for (int i = 0; i < x->n && !c->why; i++) {
        size_t n = check_node(CH(x)[i], depth + 1, 0, c);
        if (n != CNT(x)[i]) c->why = "wrong subtree count";
        if (KEY(x)[i] != first_of(CH(x)[i])) c->why = "key is not the child's first entry";
        total += n;
    }
    return total;
}

int zbt_check(const zbtree *t, const char **why)
{
    check_ctx c = {NULL, NULL, -1, 0, 0};
    if (!t->root) {
        *why = t->count ? "count without a root" : NULL;
        return t->count ? -1 : 0;
    }
    size_t n = check_node(t->root, 0, 1, &c);
    if (!c.why && n != t->count) c.why = "wrong count";
    if (!c.why && c.leaf_depth != t->height) c.why = "wrong height";
    *why = c.why;
    return c.why ? -1 : 0;
}

int zbt_leaf_fill(const zbtree *t)
{
    check_ctx c = {NULL, NULL, -1, 0, 0};
    if (!t->root) return 100;
    check_node(t->root, 0, 1, &c);
    return c.leaves ? (int)(c.slots * 100 / (c.leaves * LEAF_CAP)) : 100;
}
