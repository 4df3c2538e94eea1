/* net.c - see net.h. */
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(int fd, char *err, size_t errlen, const char *what)
{
    int e = errno;
    snprintf(err, errlen, "%s: %s", what, strerror(e));
    if (fd >= 0) close(fd);
    return -e;
}

int net_listen_tcp(const char *addr, int port, int backlog, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t slen;
    int fd, one = 1, v6 = strchr(addr, ':') != NULL;

    memset(&ss, 0, sizeof ss);
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (strcmp(addr, "::*") == 0) s6->sin6_addr = in6addr_any;
        else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) {
            errno = EINVAL;
            return fail(-1, err, errlen, "invalid IPv6 address");
        }
        slen = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (strcmp(addr, "*") == 0) s4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1) {
            errno = EINVAL;
            return fail(-1, err, errlen, "invalid IPv4 address");
        }
        slen = sizeof *s4;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(-1, err, errlen, "socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, slen) < 0) return fail(fd, err, errlen, "bind");
    if (listen(fd, backlog) < 0) return fail(fd, err, errlen, "listen");
    return fd;
}

int net_listen_unix(const char *path, unsigned perm, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un su;
    int fd;
    if (strlen(path) >= sizeof su.sun_path) {
        errno = ENAMETOOLONG;
        return fail(-1, err, errlen, "unix socket path");
    }
    memset(&su, 0, sizeof su);
    su.sun_family = AF_UNIX;
    strcpy(su.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(-1, err, errlen, "socket");
    unlink(path);
    if (bind(fd, (struct sockaddr *)&su, sizeof su) < 0) return fail(fd, err, errlen, "bind");
    if (perm && chmod(path, perm) < 0) return fail(fd, err, errlen, "chmod");
    if (listen(fd, backlog) < 0) return fail(fd, err, errlen, "listen");
    return fd;
}

int net_accept(int lfd)
{
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
    if (fd < 0) return -errno;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* fails harmlessly on unix */
    return fd;
}

static void addr_name(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        snprintf(out, outlen, "%s:%d", ip, ntohs(s->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        snprintf(out, outlen, "%s:%d", ip, ntohs(s->sin6_port));
    } else {
        snprintf(out, outlen, "/unixsocket:0");
    }
}

void net_peer_name(int fd, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) snprintf(out, outlen, "?:0");
    else addr_name(&ss, out, outlen);
}

void net_sock_name(int fd, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) snprintf(out, outlen, "?:0");
    else addr_name(&ss, out, outlen);
}

int net_peer_is_local(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_UNIX) return 1;
    if (ss.ss_family == AF_INET)
        return ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    if (ss.ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
    return 0;
}
