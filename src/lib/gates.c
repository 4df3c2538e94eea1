/* gates.c - see gates.h. */
#include "lib/gates.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

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

int gates_enter_slow(gates *g, int i, const atomic_int *busy)
{
    for (;;) {
        struct timespec ts;
        if (atomic_load_explicit(busy, memory_order_acquire)) return 0;
        if (atomic_load_explicit(&g->wanted, memory_order_relaxed)) {
            sched_yield();
            continue;
        }
        /* wake now and then to look at busy: the holder may run long */
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 2 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        if (pthread_mutex_timedlock(&g->gate[i], &ts) == 0) return 1;
    }
}

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
