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
 * With "uring" it does the same through io_uring instead of epoll: one
 * receive kept posted per connection, sends queued in the same ring, and
 * one io_uring_enter per loop turn that submits everything and waits, with
 * task work deferred to that call. That is the floor of the other way a
 * Linux server can do its I/O.
 *
 *     cc -O2 -o floor bench/floor.c && ./floor PORT [uring]
 *
 * It listens on 127.0.0.1 only. Not a server to use: it trusts its client. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define IN_CAP (1 << 20)
#define OUT_CAP (4 << 20)
#define MAX_ARGS 8

typedef struct client {
    int fd;
    size_t len;        /* bytes in in[] */
    size_t olen, osent;   /* io_uring: replies queued in out[], and sent */
    int sending;       /* io_uring: a send is posted */
    char in[IN_CAP];
    char out[OUT_CAP / 4];
} client;

static char *slot;           /* the one value */
static size_t slot_len, slot_cap;
static char out[OUT_CAP];
static char *dst = out;          /* where replies go: out[], or a client's queue */
static size_t dst_cap = OUT_CAP;

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
    memcpy(dst + o, s, n);
    return o + n;
}

static size_t answer(size_t o, int argc, const char **argv, size_t *argl)
{
    char hdr[32];
    if (argl[0] == 3 && (argv[0][0] | 0x20) == 's' && argc == 3) {
        if (argl[2] > slot_cap) {
            char *bigger = realloc(slot, argl[2]);
            if (!bigger) return put(o, "-ERR out of memory\r\n", 20);
            slot = bigger;
            slot_cap = argl[2];
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

/* Answer every complete request in c->in into out[]; returns the bytes of
 * replies, or -1 when the connection should close. */
static long answer_all(client *c)
{
    size_t at = 0, o = 0;
    const char *argv[MAX_ARGS];
    size_t argl[MAX_ARGS];
    int argc;
    for (;;) {
        long n = parse(c->in + at, c->len - at, &argc, argv, argl);
        if (n < 0) return -1;
        if (n == 0) break;
        if (o + slot_len + 64 > dst_cap) return -1;
        o = answer(o, argc, argv, argl);
        at += (size_t)n;
    }
    memmove(c->in, c->in + at, c->len - at);
    c->len -= at;
    return c->len == IN_CAP ? -1 : (long)o;
}

/* Read what is there, answer every complete request in one write. Returns
 * -1 when the connection should close. */
static int serve(client *c)
{
    ssize_t r = read(c->fd, c->in + c->len, IN_CAP - c->len);
    long o;
    if (r <= 0) return -1;
    c->len += (size_t)r;
    if ((o = answer_all(c)) < 0) return -1;
    for (size_t w = 0; w < (size_t)o;) {   /* loopback: blocking only if the client stops reading */
        ssize_t k = write(c->fd, out + w, (size_t)o - w);
        if (k <= 0) return -1;
        w += (size_t)k;
    }
    return 0;
}

static client *new_client(int fd)
{
    int one = 1;
    client *c = malloc(sizeof *c);
    if (!c) abort();
    c->fd = fd;
    c->len = c->olen = c->osent = 0;
    c->sending = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
}

/* ---- io_uring, through the raw system calls (no liburing) ---- */

static struct {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    unsigned pending;   /* SQEs queued since the last enter */
} ring;

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };

static int uring_init(unsigned entries)
{
    struct io_uring_params p;
    void *sq, *cq;
    memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    ring.fd = (int)syscall(__NR_io_uring_setup, entries, &p);
    if (ring.fd < 0) {
        memset(&p, 0, sizeof p);   /* an older kernel: no deferred task work */
        ring.fd = (int)syscall(__NR_io_uring_setup, entries, &p);
        if (ring.fd < 0) return -1;
    }
    sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQ_RING);
    cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_CQ_RING);
    ring.sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || ring.sqes == MAP_FAILED) return -1;
    ring.sq_head = (unsigned *)((char *)sq + p.sq_off.head);
    ring.sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
    ring.sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
    ring.sq_array = (unsigned *)((char *)sq + p.sq_off.array);
    ring.cq_head = (unsigned *)((char *)cq + p.cq_off.head);
    ring.cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
    ring.cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
    ring.cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
    return 0;
}

static int uring_enter(unsigned wait)
{
    int r;
    do {
        r = (int)syscall(__NR_io_uring_enter, ring.fd, ring.pending, wait,
                         wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
    } while (r < 0 && errno == EINTR);
    if (r >= 0) ring.pending -= (unsigned)r < ring.pending ? (unsigned)r : ring.pending;
    return r;
}

static void post(int op, int fd, void *addr, size_t len, client *c)
{
    unsigned tail = *ring.sq_tail, idx;
    struct io_uring_sqe *sqe;
    if (tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE) > *ring.sq_mask) uring_enter(0);   /* full */
    idx = tail & *ring.sq_mask;
    sqe = &ring.sqes[idx];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = (uint8_t)(op == OP_ACCEPT ? IORING_OP_ACCEPT : op == OP_RECV ? IORING_OP_RECV : IORING_OP_SEND);
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)addr;
    sqe->len = (uint32_t)len;
    sqe->user_data = (uint64_t)(uintptr_t)c | (uint64_t)op;   /* clients are 8-byte aligned */
    ring.sq_array[idx] = idx;
    __atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
    ring.pending++;
}

static void send_more(client *c)
{
    if (c->sending || c->osent == c->olen) return;
    c->sending = 1;
    post(OP_SEND, c->fd, c->out + c->osent, c->olen - c->osent, c);
}

static void complete(uint64_t ud, int res, int ls)
{
    client *c = (client *)(uintptr_t)(ud & ~(uint64_t)7);
    long o;
    switch ((int)(ud & 7)) {
    case OP_ACCEPT:
        post(OP_ACCEPT, ls, NULL, 0, NULL);
        if (res >= 0) {
            c = new_client(res);
            post(OP_RECV, c->fd, c->in, IN_CAP, c);
        }
        return;
    case OP_RECV:
        if (res > 0 && c->fd >= 0) {
            c->len += (size_t)res;
            dst = c->out + c->olen;   /* replies queue behind any still being sent */
            dst_cap = sizeof c->out - c->olen;
            o = answer_all(c);
            dst = out;
            dst_cap = OUT_CAP;
            if (o >= 0) {
                c->olen += (size_t)o;
                send_more(c);
                post(OP_RECV, c->fd, c->in + c->len, IN_CAP - c->len, c);
                return;
            }
        }
        /* the end of this connection: no receive is posted any more */
        if (c->fd >= 0) close(c->fd);
        c->fd = -1;
        if (!c->sending) free(c);
        return;
    case OP_SEND:
        c->sending = 0;
        if (c->fd < 0) {   /* its receive has ended */
            free(c);
            return;
        }
        if (res < 0) {   /* the posted receive ends it */
            shutdown(c->fd, SHUT_RDWR);
            return;
        }
        c->osent += (size_t)res;
        if (c->osent == c->olen) c->osent = c->olen = 0;
        send_more(c);
        return;
    }
}

static int run_uring(int ls)
{
    if (uring_init(4096) < 0) {
        perror("floor: io_uring_setup");
        return 1;
    }
    post(OP_ACCEPT, ls, NULL, 0, NULL);
    for (;;) {
        unsigned head, tail;
        if (uring_enter(1) < 0 && errno != EBUSY) {
            perror("floor: io_uring_enter");
            return 1;
        }
        head = *ring.cq_head;
        tail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
        for (; head != tail; head++) {
            struct io_uring_cqe *cqe = &ring.cqes[head & *ring.cq_mask];
            uint64_t ud = cqe->user_data;
            int res = cqe->res;
            __atomic_store_n(ring.cq_head, head + 1, __ATOMIC_RELEASE);
            complete(ud, res, ls);
        }
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct epoll_event ev = {.events = EPOLLIN}, evs[256];
    int one = 1, ls, ep;
    int uring = argc == 3 && strcmp(argv[2], "uring") == 0;
    if (argc != 2 && !uring) {
        fprintf(stderr, "usage: %s PORT [uring]\n", argv[0]);
        return 2;
    }
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ls = socket(AF_INET, SOCK_STREAM | (uring ? 0 : SOCK_NONBLOCK), 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        perror("floor: bind/listen");
        return 1;
    }
    if (uring) return run_uring(ls);
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
                    c = new_client(fd);
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
