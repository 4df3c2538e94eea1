/* latency.c - the latency monitor's series (see latency.h): a short array
 * of events behind one mutex. Redis has a couple of dozen event names, and
 * a sample is taken only for a spike, so a linear search by name is
 * cheaper than keeping a hash table. */
#include "lib/latency.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

atomic_llong latency__threshold;

static struct {
    pthread_mutex_t mu;
    latency_series *ev;      /* n of them, cap slots */
    int n, cap;
} mon = {.mu = PTHREAD_MUTEX_INITIALIZER};

void latency_configure(long long threshold_ms) { atomic_store(&latency__threshold, threshold_ms); }

static latency_series *do_find(const char *name)
{
    for (int i = 0; i < mon.n; i++)
        if (strcmp(mon.ev[i].name, name) == 0) return &mon.ev[i];
    return NULL;
}

void latency__add(const char *event, long long ms) { latency__add_at(event, ms, (int32_t)time(NULL)); }

void latency__add_at(const char *event, long long ms, int32_t now)
{
    uint32_t v = ms < 0 ? 0 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    latency_series *ts;
    latency_sample *prev;
    pthread_mutex_lock(&mon.mu);
    ts = do_find(event);
    if (!ts) {
        if (mon.n == mon.cap) {
            mon.cap = mon.cap ? mon.cap * 2 : 8;
            mon.ev = xrealloc(mon.ev, sizeof *mon.ev * (size_t)mon.cap);
        }
        ts = &mon.ev[mon.n++];
        memset(ts, 0, sizeof *ts);
        strncpy(ts->name, event, LATENCY_NAME_MAX - 1);
    }
    if (v > ts->max) ts->max = v;
    /* a second sample in the same second keeps the worse of the two */
    prev = &ts->samples[(ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN];
    if (prev->time == now) {
        if (v > prev->ms) prev->ms = v;
    } else {
        ts->samples[ts->idx] = (latency_sample){now, v};
        ts->idx = (ts->idx + 1) % LATENCY_TS_LEN;
    }
    pthread_mutex_unlock(&mon.mu);
}

latency_series *latency_copy(int *n)
{
    latency_series *out;
    pthread_mutex_lock(&mon.mu);
    *n = mon.n;
    out = xmalloc(sizeof *out * (size_t)(mon.n ? mon.n : 1));
    if (mon.n) memcpy(out, mon.ev, sizeof *out * (size_t)mon.n);
    pthread_mutex_unlock(&mon.mu);
    return out;
}

int latency_find(const char *name, latency_series *out)
{
    latency_series *ts;
    pthread_mutex_lock(&mon.mu);
    ts = do_find(name);
    if (ts) *out = *ts;
    pthread_mutex_unlock(&mon.mu);
    return ts ? 0 : -1;
}

int latency_reset(const char *name)
{
    int dropped = 0, k = 0;
    pthread_mutex_lock(&mon.mu);
    for (int i = 0; i < mon.n; i++) {
        if (!name || strcasecmp(mon.ev[i].name, name) == 0) {
            dropped++;
            continue;
        }
        if (k != i) mon.ev[k] = mon.ev[i];
        k++;
    }
    mon.n = k;
    pthread_mutex_unlock(&mon.mu);
    return dropped;
}
