/* avl.c - the intrusive AVL tree. See avl.h. */
#include "lib/avl.h"

static int height(const avl_node *n) { return n ? n->h : 0; }

static void fix(avl_node *n)
{
    int a = height(n->l), b = height(n->r);
    n->h = (a > b ? a : b) + 1;
}

static avl_node *rot_right(avl_node *n)
{
    avl_node *l = n->l;
    n->l = l->r;
    l->r = n;
    fix(n);
    fix(l);
    return l;
}

static avl_node *rot_left(avl_node *n)
{
    avl_node *r = n->r;
    n->r = r->l;
    r->l = n;
    fix(n);
    fix(r);
    return r;
}

/* n with its subtrees' heights differing by at most one again. */
static avl_node *balance(avl_node *n)
{
    int d = height(n->l) - height(n->r);
    fix(n);
    if (d > 1) {
        if (height(n->l->l) < height(n->l->r)) n->l = rot_left(n->l);
        return rot_right(n);
    }
    if (d < -1) {
        if (height(n->r->r) < height(n->r->l)) n->r = rot_right(n->r);
        return rot_left(n);
    }
    return n;
}

avl_node *avl_find(avl_node *root, avl_cmp_fn *cmp, const void *key)
{
    while (root) {
        int c = cmp(root, key);
        if (!c) return root;
        root = c > 0 ? root->l : root->r;
    }
    return NULL;
}

avl_node *avl_seek(avl_node *root, avl_cmp_fn *cmp, const void *key, int after)
{
    avl_node *best = NULL;
    while (root) {
        int c = cmp(root, key);
        if (c > 0 || (c == 0 && !after)) {
            best = root;
            if (c == 0) break;
            root = root->l;
        } else {
            root = root->r;
        }
    }
    return best;
}

avl_node *avl_first(avl_node *root)
{
    while (root && root->l) root = root->l;
    return root;
}

avl_node *avl_last(avl_node *root)
{
    while (root && root->r) root = root->r;
    return root;
}

static avl_node *insert(avl_node *t, avl_node *n, avl_cmp_fn *cmp, const void *key)
{
    if (!t) {
        n->l = n->r = NULL;
        n->h = 1;
        return n;
    }
    if (cmp(t, key) > 0) t->l = insert(t->l, n, cmp, key);
    else t->r = insert(t->r, n, cmp, key);
    return balance(t);
}

void avl_insert(avl_node **root, avl_node *n, avl_cmp_fn *cmp, const void *key)
{
    *root = insert(*root, n, cmp, key);
}

/* t without its first node, which goes to *min. */
static avl_node *remove_min(avl_node *t, avl_node **min)
{
    if (!t->l) {
        *min = t;
        return t->r;
    }
    t->l = remove_min(t->l, min);
    return balance(t);
}

static avl_node *remove_key(avl_node *t, avl_cmp_fn *cmp, const void *key, avl_node **out)
{
    int c;
    avl_node *m;
    if (!t) return NULL;
    c = cmp(t, key);
    if (c > 0) {
        t->l = remove_key(t->l, cmp, key, out);
    } else if (c < 0) {
        t->r = remove_key(t->r, cmp, key, out);
    } else {
        *out = t;
        if (!t->r) return t->l;
        t->r = remove_min(t->r, &m);
        m->l = t->l;
        m->r = t->r;
        return balance(m);
    }
    return balance(t);
}

avl_node *avl_remove(avl_node **root, avl_cmp_fn *cmp, const void *key)
{
    avl_node *out = NULL;
    *root = remove_key(*root, cmp, key, &out);
    return out;
}

void avl_destroy(avl_node *root, void (*fn)(avl_node *n, void *ctx), void *ctx)
{
    /* the depth is O(log n): recursion is bounded */
    if (!root) return;
    avl_destroy(root->l, fn, ctx);
    avl_destroy(root->r, fn, ctx);
    fn(root, ctx);
}

static int check(const avl_node *n, const avl_node **prev,
                 int (*cmp_nodes)(const avl_node *, const avl_node *))
{
    int a, b;
    if (!n) return 0;
    if ((a = check(n->l, prev, cmp_nodes)) < 0) return -1;
    if (*prev && cmp_nodes(*prev, n) >= 0) return -1;
    *prev = n;
    if ((b = check(n->r, prev, cmp_nodes)) < 0) return -1;
    if (a - b > 1 || b - a > 1 || n->h != (a > b ? a : b) + 1) return -1;
    return n->h;
}

int avl_check(const avl_node *root, int (*cmp_nodes)(const avl_node *a, const avl_node *b))
{
    const avl_node *prev = NULL;
    return check(root, &prev, cmp_nodes) < 0 ? -1 : 0;
}
