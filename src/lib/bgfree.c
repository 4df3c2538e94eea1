/* bgfree.c - see bgfree.h. One thread, a FIFO of jobs under a mutex. */
#include "lib/bgfree.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;
} job;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, idle = PTHREAD_COND_INITIALIZER;
static job *head, *tail;
static size_t pending, done;
static int started = -1;   /* -1: not tried, 0: no thread, 1: running */

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!head) pthread_cond_wait(&work, &mu);
        job *j = head;
        head = j->next;
        if (!head) tail = NULL;
        pthread_mutex_unlock(&mu);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&mu);
        pending--;
        done++;
        if (!pending) pthread_cond_broadcast(&idle);
    }
    return NULL;
}

/* Under mu. */
static int start(void)
{
    pthread_t t;
    pthread_attr_t a;
    if (started >= 0) return started;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    started = pthread_create(&t, &a, worker, NULL) == 0;
    pthread_attr_destroy(&a);
    return started;
}

void bgfree_submit(void (*fn)(void *), void *arg)
{
    job *j = malloc(sizeof *j);
    pthread_mutex_lock(&mu);
    if (!j || !start()) {
        pthread_mutex_unlock(&mu);
        free(j);
        fn(arg);
        return;
    }
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    if (tail) tail->next = j;
    else head = j;
    tail = j;
    pending++;
    pthread_cond_signal(&work);
    pthread_mutex_unlock(&mu);
}

void bgfree_drain(void)
{
    pthread_mutex_lock(&mu);
    while (pending) pthread_cond_wait(&idle, &mu);
    pthread_mutex_unlock(&mu);
}

size_t bgfree_pending(void)
{
    pthread_mutex_lock(&mu);
    size_t n = pending;
    pthread_mutex_unlock(&mu);
    return n;
}

size_t bgfree_done(void)
{
    pthread_mutex_lock(&mu);
    size_t n = done;
    pthread_mutex_unlock(&mu);
    return n;
}
