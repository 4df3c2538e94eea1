/* metrics.h - the HTTP endpoint of metrics-port: GET /metrics (Prometheus's
 * text format) and GET / (a status page), rendered by cmd/exposition.h.
 *
 * One worker's loop serves it (worker 0's), as it serves its RESP
 * clients: nothing here blocks, and no thread is added. It listens on the
 * bind addresses, and refuses what protected mode refuses on the RESP port.
 *
 * HTTP/1.0 and 1.1, one request per connection: the answer says
 * Connection: close (what Prometheus needs, and the simplest that is
 * correct). A request line and headers longer than METRICS_REQ_MAX, or
 * malformed, get 400; anything but GET or HEAD 405; a path other than
 * /metrics and / 404. A client has METRICS_TIMEOUT_MS for the whole
 * exchange, and at most METRICS_MAX_CONNS are served at once (the others
 * are closed as they come): a slow or stalled client costs one fixed
 * buffer, never the loop's time. */
#ifndef KASI_SERVER_METRICS_H
#define KASI_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "server/server.h"

#define METRICS_REQ_MAX 8192
#define METRICS_TIMEOUT_MS 5000
#define METRICS_MAX_CONNS 32

typedef struct metrics metrics;

/* The endpoint, served by w's loop, listening at metrics-port unless it is
 * 0. Returns it, or NULL when the port cannot be bound (logged). Before
 * the workers run. */
metrics *metrics_create(server *srv, worker *w);
/* CONFIG SET metrics-port (any thread): listen at the new port; the
 * serving worker moves to it at its next turn. Returns 0, or -1. */
int metrics_rebind(metrics *m, char *err, size_t errlen);
/* On the serving worker, each loop turn: take up a rebind, and close the
 * clients past their time. */
void metrics_tick(metrics *m, int64_t now_ms);
/* Close everything, free m and set *m to NULL. */
void metrics_free(metrics **m);

#endif
