/* gates.c - see gates.h. */
#include "lib/gates.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lib/util.h"

static __thread int depth;      /* this thread's nesting of sections */

gates *gates_create(int n)
{
    gates *g = xcalloc(1, sizeof *g);
    g->n = n;
    g->gate = xcalloc((size_t)n, sizeof *g->gate);
    for (int i = 0; i < n; i++) pthread_mutex_init(&g->gate[i], NULL);
    return g;
}

void gates_destroy(gates **gp)
{
    gates *g = *gp;
    if (!g) return;
    for (int i = 0; i < g->n; i++) pthread_mutex_destroy(&g->gate[i]);
    free(g->gate);
    free(g);
    *gp = NULL;
}

int gates_in_exclusive(void) { return depth > 0; }

void gates_exclusive_begin(gates *g, int self)
{
    if (depth++ > 0 || self < 0) return;
    atomic_fetch_add(&g->wanted, 1);
    pthread_mutex_unlock(&g->gate[self]);
    for (int i = 0; i < g->n; i++) pthread_mutex_lock(&g->gate[i]);
    atomic_fetch_sub(&g->wanted, 1);
}

void gates_exclusive_end(gates *g, int self)
{
    if (--depth > 0 || self < 0) return;
    for (int i = g->n - 1; i >= 0; i--)
        if (i != self) pthread_mutex_unlock(&g->gate[i]);
}
