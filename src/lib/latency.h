/* latency.h - the latency monitor LATENCY reads: per event (a name such as
 * "command" or "aof-write"), Redis 7.0's time series of the spikes that
 * reached latency-monitor-threshold milliseconds: one sample a second (the
 * worst of that second), the last LATENCY_TS_LEN of them, and the worst of
 * all time.
 *
 * It is a library so that every layer can record into it: the store (the
 * expiry and eviction cycles), persistence (AOF writes, the snapshot's
 * pause) and the commands. With the monitor off (threshold 0), or a
 * duration under the threshold, recording costs one relaxed load and a
 * comparison; a spike takes one mutex, shared by every thread, which is
 * cheap next to the spike itself. */
#ifndef KASI_LIB_LATENCY_H
#define KASI_LIB_LATENCY_H

#include <stdatomic.h>
#include <stdint.h>

#include "lib/util.h"

#define LATENCY_TS_LEN 160
#define LATENCY_NAME_MAX 48

typedef struct latency_sample {
    int32_t time;            /* unix seconds; 0: the slot is empty */
    uint32_t ms;
} latency_sample;

/* One event's series, copied out (latency_copy, latency_find). */
typedef struct latency_series {
    char name[LATENCY_NAME_MAX];
    int idx;                 /* the slot the next second's sample goes to */
    uint32_t max;            /* the worst of all time */
    latency_sample samples[LATENCY_TS_LEN];
} latency_series;

/* latency-monitor-threshold, in ms (0: off); set by latency_configure. */
extern atomic_llong latency__threshold;

void latency_configure(long long threshold_ms);
/* Record a sample of ms for event (a name of fewer than LATENCY_NAME_MAX
 * bytes), whatever the threshold; latency_add_if_needed is the usual way. */
void latency__add(const char *event, long long ms);
/* The same, as of unix second now (the unit tests' clock). */
void latency__add_at(const char *event, long long ms, int32_t now);

static inline long long latency_threshold(void)
{
    return atomic_load_explicit(&latency__threshold, memory_order_relaxed);
}

/* Redis's latencyAddSampleIfNeeded: the sample is kept when the monitor is
 * on and ms reaches the threshold. */
static inline void latency_add_if_needed(const char *event, long long ms)
{
    long long t = latency_threshold();
    if (__builtin_expect(t != 0, 0) && ms >= t) latency__add(event, ms);
}

/* Timing a stretch of work (Redis's latencyStartMonitor/EndMonitor): the
 * start, 0 when the monitor is off (no clock is read); then the sample, if
 * it was long enough. */
static inline int64_t latency_begin(void) { return latency_threshold() ? util_mono_us() : 0; }
static inline void latency_end(const char *event, int64_t start)
{
    if (start) latency_add_if_needed(event, (util_mono_us() - start) / 1000);
}

/* Every event's series, in the order they first occurred: a new array
 * the caller frees, *n of them. */
latency_series *latency_copy(int *n);
/* The series of the event named exactly so into *out: 0, or -1 if none. */
int latency_find(const char *name, latency_series *out);
/* Drop the series named so, ignoring case (NULL: all of them); returns
 * how many were dropped. */
int latency_reset(const char *name);

#endif
