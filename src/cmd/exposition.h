/* exposition.h - what the metrics endpoint (server/metrics.c) serves,
 * rendered from the counters INFO reads: Prometheus's text exposition
 * format 0.0.4 for GET /metrics, and a plain HTML status page for GET /.
 *
 * Every family has its # HELP and # TYPE lines, names are kasi_..., in base
 * units (seconds, bytes), counters end in _total; README.md lists them.
 * Both read only what is safe from any worker (atomics, and structures
 * that take their own locks), as INFO does. */
#ifndef KASI_CMD_EXPOSITION_H
#define KASI_CMD_EXPOSITION_H

#include "cmd/command.h"
#include "lib/buf.h"

/* The Content-Type of what exposition_metrics renders. */
#define EXPOSITION_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Append the metrics, from the environment of the worker serving them. */
void exposition_metrics(cmd_env *env, buf *out);
/* Append the status page (an HTML document). */
void exposition_status(cmd_env *env, buf *out);

#endif
