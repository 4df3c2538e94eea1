/* gates.h - running one thing while nothing else runs.
 *
 * Each worker thread holds its own gate (a mutex) while it runs commands,
 * so workers never wait for each other on the request path. A few things
 * must happen while no command runs anywhere (EXEC, FLUSHALL, a snapshot's
 * instant, switching the AOF): the exclusive section takes every gate, in
 * index order, so two sections cannot deadlock. A worker about to take its
 * gate first lets a waiting section in, so a busy worker cannot starve one.
 * Sections nest: an inner one changes nothing. */
#ifndef KASI_LIB_GATES_H
#define KASI_LIB_GATES_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

/* Visible for the inline enter/leave on the request path; use the
 * functions. */
typedef struct gates {
    int n;
    atomic_int wanted;          /* sections waiting to begin */
    pthread_mutex_t *gate;
} gates;

gates *gates_create(int n);
/* Free and set *g to NULL. */
void gates_destroy(gates **g);
/* Worker i is about to run commands / has run them. A waiting section is
 * let in before the gate is taken again: mutexes are not fair, and a busy
 * worker could otherwise starve it. */
static inline void gates_enter(gates *g, int i)
{
    while (atomic_load_explicit(&g->wanted, memory_order_relaxed)) sched_yield();
    pthread_mutex_lock(&g->gate[i]);
}
static inline void gates_leave(gates *g, int i) { pthread_mutex_unlock(&g->gate[i]); }
/* gates_enter, unless *busy is (or becomes) non-zero while it waits: a
 * section that runs long (a slow script) lets workers answer what needs
 * no gate. 1 when the gate was taken, 0 when busy. */
int gates_enter_slow(gates *g, int i, const atomic_int *busy);
static inline int gates_enter_unless(gates *g, int i, const atomic_int *busy)
{
    if (!atomic_load_explicit(&g->wanted, memory_order_relaxed) && pthread_mutex_trylock(&g->gate[i]) == 0)
        return 1;
    return gates_enter_slow(g, i, busy);
}
/* Begin a section in which no other worker runs a command. self is the
 * calling worker, which holds its gate (it is held again on return), or
 * -1 for a thread that runs no commands while no worker runs either
 * (start-up, shutdown), for which nothing needs taking. */
void gates_exclusive_begin(gates *g, int self);
void gates_exclusive_end(gates *g, int self);
/* Whether the calling thread is inside a section. */
int gates_in_exclusive(void);

#endif
