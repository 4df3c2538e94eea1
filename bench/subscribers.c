/* subscribers.c - many pub/sub subscribers in one process, for
 * bench/pubsub.py: cheap enough that the server, not the readers, is what a
 * fan-out benchmark measures on a small machine.
 *
 *     subscribers PORT NSUBS CHANNEL PAYLOAD_BYTES MESSAGES MODE MAX_SECONDS
 *
 * It opens NSUBS connections to 127.0.0.1:PORT, SUBSCRIBEs each to CHANNEL,
 * prints "ready" once every confirmation is in, then reads until every
 * connection has MESSAGES messages of PAYLOAD_BYTES (or MAX_SECONDS pass).
 * MODE count only counts bytes; MODE latency also reads, from each payload,
 * the CLOCK_MONOTONIC time it was published at (seconds, "%.6f", padded with
 * spaces) and takes the delay to its arrival. It prints one JSON line: when
 * the last byte arrived (CLOCK_MONOTONIC seconds), the fewest bytes any
 * connection got, and in latency mode the delays' p50, p99 and max (s).
 *
 *     cc -O2 -o subscribers bench/subscribers.c */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct sub {
    int fd;
    long long got;        /* bytes of messages received */
    char part[256];       /* latency mode: a message cut by a read */
    size_t partlen;
} sub;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: %s PORT NSUBS CHANNEL PAYLOAD_BYTES MESSAGES MODE MAX_SECONDS\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    const char *ch = argv[3];
    size_t plen = (size_t)atol(argv[4]), chlen = strlen(ch);
    long long msgs = atoll(argv[5]);
    int latency = strcmp(argv[6], "latency") == 0;
    double max_s = atof(argv[7]);
    char req[512], confirm[512], head[512];
    int reqlen = snprintf(req, sizeof req, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n", chlen, ch);
    int conflen = snprintf(confirm, sizeof confirm, "*3\r\n$9\r\nsubscribe\r\n$%zu\r\n%s\r\n:1\r\n", chlen, ch);
    int headlen = snprintf(head, sizeof head, "*3\r\n$7\r\nmessage\r\n$%zu\r\n%s\r\n$%zu\r\n", chlen, ch, plen);
    size_t one = (size_t)headlen + plen + 2;
    long long want = msgs * (long long)one;
    sub *subs = calloc((size_t)n, sizeof *subs);
    double *lats = latency ? malloc(sizeof(double) * (size_t)(msgs * n + 1)) : NULL;
    long long nlat = 0;
    int ep = epoll_create1(0), left = n;
    double last = 0, deadline;
    static char rbuf[1 << 20];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (one > sizeof subs[0].part) {
        fprintf(stderr, "messages too long for latency mode\n");
        return 2;
    }
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        int fd = socket(AF_INET, SOCK_STREAM, 0), got = 0;
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || write(fd, req, (size_t)reqlen) != reqlen) {
            perror("subscriber");
            return 1;
        }
        while (got < conflen) {   /* the confirmation, alone: nothing is published yet */
            ssize_t k = read(fd, rbuf + got, (size_t)(conflen - got));
            if (k <= 0 || memcmp(rbuf, confirm, (size_t)(got + k)) != 0) {
                fprintf(stderr, "bad SUBSCRIBE confirmation\n");
                return 1;
            }
            got += (int)k;
        }
        subs[i].fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    printf("ready\n");
    fflush(stdout);
    deadline = now_s() + max_s;
    while (left > 0 && now_s() < deadline) {
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, 100);
        for (int e = 0; e < k; e++) {
            sub *s = &subs[evs[e].data.u32];
            ssize_t r = read(s->fd, rbuf, sizeof rbuf);
            double t;
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                left--;
                continue;
            }
            t = now_s();
            last = t;
            if (latency) {
                size_t off = 0;
                while (off < (size_t)r) {   /* whole messages, carrying a cut one over */
                    size_t take = one - s->partlen < (size_t)r - off ? one - s->partlen : (size_t)r - off;
                    memcpy(s->part + s->partlen, rbuf + off, take);
                    s->partlen += take;
                    off += take;
                    if (s->partlen == one) {
                        char stamp[64];
                        size_t sl = plen < sizeof stamp - 1 ? plen : sizeof stamp - 1;
                        memcpy(stamp, s->part + headlen, sl);
                        stamp[sl] = '\0';
                        lats[nlat++] = t - atof(stamp);
                        s->partlen = 0;
                    }
                }
            }
            s->got += r;
            if (s->got >= want) {
                epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
                left--;
            }
        }
    }
    long long least = want;
    for (int i = 0; i < n; i++) {
        if (subs[i].got < least) least = subs[i].got;
        close(subs[i].fd);
    }
    printf("{\"done\": %.6f, \"got_min\": %lld, \"want\": %lld", last, least, want);
    if (latency && nlat) {
        qsort(lats, (size_t)nlat, sizeof *lats, cmp_double);
        printf(", \"count\": %lld, \"p50\": %.6f, \"p99\": %.6f, \"max\": %.6f", nlat, lats[nlat / 2],
               lats[(long long)((double)nlat * 0.99)], lats[nlat - 1]);
    }
    printf("}\n");
    free(lats);
    free(subs);
    return 0;
}
