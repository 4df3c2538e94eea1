/* event.h - a thin epoll event loop. Each handle carries its callback, so
 * the loop needs no fd-indexed array and has no descriptor limit of its own.
 * Registration changes are made only when interest changes, never per
 * request. Timers are the caller's business: ev_wait takes a timeout. */
#ifndef KASI_EVENT_H
#define KASI_EVENT_H

#include <stdint.h>

#define EV_READ 1u
#define EV_WRITE 2u
#define EV_EXCLUSIVE 4u   /* wake only one of the loops sharing this fd */

typedef struct ev_loop ev_loop;
typedef struct ev_handle ev_handle;
typedef void ev_fn(ev_loop *loop, ev_handle *h, unsigned events);

struct ev_handle {
    ev_fn *fn;
    int fd;
    unsigned mask;   /* registered interest */
};

ev_loop *ev_create(void);
/* Close the loop and set *loop to NULL. */
void ev_destroy(ev_loop **loop);
/* Returns 0 or -errno. */
int ev_add(ev_loop *loop, ev_handle *h, int fd, unsigned mask, ev_fn *fn);
int ev_mod(ev_loop *loop, ev_handle *h, unsigned mask);
int ev_del(ev_loop *loop, ev_handle *h);
/* Wait up to timeout_ms (-1 forever) and dispatch; returns events handled. */
int ev_wait(ev_loop *loop, int timeout_ms);

#endif
