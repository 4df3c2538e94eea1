/* floor.c - the cheapest RESP server that can pass for a cache in
 * redis-benchmark's SET and GET rows, to measure what the kernel alone costs.
 *
 * It has one value slot: SET copies its value there and answers +OK, GET
 * answers with that value whatever the key, PING answers +PONG. It does
 * what any epoll server must do per request (epoll_wait, one read, parse,
 * one write per ready connection) and nothing else: no hashing, no table,
 * no locks, no expiry, no statistics. Its CPU time per request is therefore
 * a floor under any server built on epoll and the kernel's TCP stack, which
 * bench/floor.py sets next to Kasi's and Redis's.
 *
 *     cc -O2 -o floor bench/floor.c && ./floor PORT
 *
 * It listens on 127.0.0.1 only. Not a server to use: it trusts its client. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_CAP (1 << 20)
#define OUT_CAP (4 << 20)
#define MAX_ARGS 8

typedef struct client {
    int fd;
    size_t len;        /* bytes in in[] */
    char in[IN_CAP];
} client;

static char *slot;           /* the one value */
static size_t slot_len, slot_cap;
static char out[OUT_CAP];

/* One multibulk request at p[0..n): returns its length (0 if incomplete,
 * -1 if malformed) and fills argv/argl. */
static long parse(const char *p, size_t n, int *argc, const char **argv, size_t *argl)
{
    size_t i = 0;
    long count = 0;
    if (n < 1 || p[0] != '*') return n ? -1 : 0;
    for (i = 1; i < n && p[i] != '\r'; i++) count = count * 10 + (p[i] - '0');
    if (i + 1 >= n) return 0;
    i += 2;
    if (count < 1 || count > MAX_ARGS) return -1;
    for (long a = 0; a < count; a++) {
        size_t len = 0;
        if (i >= n) return 0;
        if (p[i] != '$') return -1;
        for (i++; i < n && p[i] != '\r'; i++) len = len * 10 + (size_t)(p[i] - '0');
        if (i + 1 >= n) return 0;
        i += 2;
        if (i + len + 2 > n) return 0;
        argv[a] = p + i;
        argl[a] = len;
        i += len + 2;
    }
    *argc = (int)count;
    return (long)i;
}

static size_t put(size_t o, const char *s, size_t n)
{
    memcpy(out + o, s, n);
    return o + n;
}

static size_t answer(size_t o, int argc, const char **argv, size_t *argl)
{
    char hdr[32];
    if (argl[0] == 3 && (argv[0][0] | 0x20) == 's' && argc == 3) {
        if (argl[2] > slot_cap) {
            slot_cap = argl[2];
            slot = realloc(slot, slot_cap);
        }
        memcpy(slot, argv[2], argl[2]);
        slot_len = argl[2];
        return put(o, "+OK\r\n", 5);
    }
    if (argl[0] == 3 && (argv[0][0] | 0x20) == 'g') {
        int h = snprintf(hdr, sizeof hdr, "$%zu\r\n", slot_len);
        o = put(o, hdr, (size_t)h);
        o = put(o, slot, slot_len);
        return put(o, "\r\n", 2);
    }
    if (argl[0] == 4 && (argv[0][0] | 0x20) == 'p') return put(o, "+PONG\r\n", 7);
    if (argl[0] == 6 && (argv[0][0] | 0x20) == 'c') return put(o, "*0\r\n", 4);
    return put(o, "-ERR floor server knows PING, SET, GET\r\n", 40);
}

/* Read what is there, answer every complete request in one write. Returns
 * -1 when the connection should close. */
static int serve(client *c)
{
    ssize_t r = read(c->fd, c->in + c->len, IN_CAP - c->len);
    size_t at = 0, o = 0;
    const char *argv[MAX_ARGS];
    size_t argl[MAX_ARGS];
    int argc;
    if (r <= 0) return -1;
    c->len += (size_t)r;
    for (;;) {
        long n = parse(c->in + at, c->len - at, &argc, argv, argl);
        if (n < 0) return -1;
        if (n == 0) break;
        if (o + slot_len + 64 > OUT_CAP) return -1;
        o = answer(o, argc, argv, argl);
        at += (size_t)n;
    }
    memmove(c->in, c->in + at, c->len - at);
    c->len -= at;
    if (c->len == IN_CAP) return -1;
    for (size_t w = 0; w < o;) {   /* loopback: blocking only if the client stops reading */
        ssize_t k = write(c->fd, out + w, o - w);
        if (k <= 0) return -1;
        w += (size_t)k;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct epoll_event ev = {.events = EPOLLIN}, evs[256];
    int one = 1, ls, ep;
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        perror("floor: bind/listen");
        return 1;
    }
    ep = epoll_create1(0);
    ev.data.ptr = NULL;   /* NULL: the listener */
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            client *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, 0)) >= 0) {
                    c = malloc(sizeof *c);
                    c->fd = fd;
                    c->len = 0;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (serve(c) < 0) {
                close(c->fd);   /* also leaves the epoll set */
                free(c);
            }
        }
    }
}
