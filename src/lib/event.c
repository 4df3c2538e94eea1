/* event.c - see event.h. */
#include "lib/event.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/util.h"

#define EV_BATCH 256

struct ev_loop {
    int epfd;
    struct epoll_event events[EV_BATCH];
};

ev_loop *ev_create(void)
{
    ev_loop *l = xcalloc(1, sizeof *l);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void ev_destroy(ev_loop **loop)
{
    if (!*loop) return;
    close((*loop)->epfd);
    free(*loop);
    *loop = NULL;
}

static uint32_t to_epoll(unsigned mask)
{
    return (mask & EV_READ ? EPOLLIN : 0) | (mask & EV_WRITE ? EPOLLOUT : 0) |
           (mask & EV_EXCLUSIVE ? EPOLLEXCLUSIVE : 0);
}

int ev_add(ev_loop *loop, ev_handle *h, int fd, unsigned mask, ev_fn *fn)
{
    struct epoll_event ev = {.events = to_epoll(mask), .data.ptr = h};
    h->fn = fn;
    h->fd = fd;
    h->mask = mask;
    return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int ev_mod(ev_loop *loop, ev_handle *h, unsigned mask)
{
    struct epoll_event ev = {.events = to_epoll(mask), .data.ptr = h};
    if (mask == h->mask) return 0;
    h->mask = mask;
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0 ? -errno : 0;
}

int ev_del(ev_loop *loop, ev_handle *h)
{
    struct epoll_event ev = {0};
    return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, h->fd, &ev) < 0 ? -errno : 0;
}

int ev_wait(ev_loop *loop, int timeout_ms)
{
    int n = epoll_wait(loop->epfd, loop->events, EV_BATCH, timeout_ms);
    for (int i = 0; i < n; i++) {
        ev_handle *h = loop->events[i].data.ptr;
        uint32_t e = loop->events[i].events;
        unsigned m = 0;
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) m |= EV_READ;
        if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) m |= EV_WRITE;
        h->fn(loop, h, m);
    }
    return n < 0 ? 0 : n;
}
