/* avl.h - an intrusive AVL tree: the caller embeds an avl_node in its
 * struct and orders the nodes with a comparison against a key, so one
 * struct can sit in several trees (a stream's pending entry is in its
 * group's list and in its consumer's). Insert, remove and the searches
 * are O(log n), and nothing here allocates, so no operation can fail
 * halfway. No parent links: walks go by key (avl_next), which costs a
 * descent a step and lets the tree change between steps. */
#ifndef KASI_AVL_H
#define KASI_AVL_H

#include <stddef.h>

typedef struct avl_node {
    struct avl_node *l, *r;
    int h;                  /* height of the subtree (a leaf: 1) */
} avl_node;

/* <0, 0, >0 as the node orders before, with, after the key. */
typedef int avl_cmp_fn(const avl_node *n, const void *key);

/* The node with the key, or NULL. */
avl_node *avl_find(avl_node *root, avl_cmp_fn *cmp, const void *key);
/* The first node at or after the key (strictly after with after != 0),
 * or NULL. */
avl_node *avl_seek(avl_node *root, avl_cmp_fn *cmp, const void *key, int after);
avl_node *avl_first(avl_node *root);
avl_node *avl_last(avl_node *root);
/* Insert n (its key, not in the tree yet). */
void avl_insert(avl_node **root, avl_node *n, avl_cmp_fn *cmp, const void *key);
/* Remove the node with the key and return it (NULL: none). */
avl_node *avl_remove(avl_node **root, avl_cmp_fn *cmp, const void *key);
/* Call fn on every node, children before their parent, so fn may free it. */
void avl_destroy(avl_node *root, void (*fn)(avl_node *n, void *ctx), void *ctx);
/* Check the order (through cmp_nodes) and the heights and balance: 0, or
 * -1. For tests. */
int avl_check(const avl_node *root, int (*cmp_nodes)(const avl_node *a, const avl_node *b));

#endif
