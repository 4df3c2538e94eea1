/* net.h - socket helpers: listening on TCP and unix sockets, accepting. */
#ifndef KASI_NET_H
#define KASI_NET_H

#include <stddef.h>

/* Listen on addr:port (IPv4 or IPv6 literal, or "*" / "::*"). Returns the fd
 * or -errno; err gets a description. */
int net_listen_tcp(const char *addr, int port, int backlog, char *err, size_t errlen);
/* Listen on a unix socket path with the given permissions (0 = default). */
int net_listen_unix(const char *path, unsigned perm, int backlog, char *err, size_t errlen);
/* Accept one connection, non-blocking and close-on-exec. Returns fd or -errno. */
int net_accept(int lfd);
/* Write a peer description ("127.0.0.1:1234") of a connected socket. */
void net_peer_name(int fd, char *out, size_t outlen);
/* The same for the socket's own address (Redis's laddr). */
void net_sock_name(int fd, char *out, size_t outlen);
/* Whether the peer is local as Redis 7 counts it: 127.0.0.1, ::1 or a
 * unix socket. */
int net_peer_is_local(int fd);

#endif
