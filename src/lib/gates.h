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

typedef struct gates gates;

gates *gates_create(int n);
/* Free and set *g to NULL. */
void gates_destroy(gates **g);
/* Worker i is about to run commands / has run them. */
void gates_enter(gates *g, int i);
void gates_leave(gates *g, int i);
/* Begin a section in which no other worker runs a command. self is the
 * calling worker, which holds its gate (it is held again on return), or
 * -1 for a thread that runs no commands while no worker runs either
 * (start-up, shutdown), for which nothing needs taking. */
void gates_exclusive_begin(gates *g, int self);
void gates_exclusive_end(gates *g, int self);
/* Whether the calling thread is inside a section. */
int gates_in_exclusive(void);

#endif
