/* Unit tests for lib/latency: the threshold decides what is kept; a
 * second's samples keep the worst; a series holds the last LATENCY_TS_LEN
 * seconds, oldest at idx, and its all-time worst; events are found by
 * their exact name and reset ignoring case. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/latency.h"

/* The samples of a series, oldest first, into t and ms; returns how many. */
static int samples(const latency_series *ts, int32_t *t, uint32_t *ms)
{
    int n = 0;
    for (int i = 0; i < LATENCY_TS_LEN; i++) {
        const latency_sample *s = &ts->samples[(ts->idx + i) % LATENCY_TS_LEN];
        if (!s->time) continue;
        t[n] = s->time;
        ms[n++] = s->ms;
    }
    return n;
}

static void threshold(void)
{
    latency_series ts;
    latency_configure(0);
    latency_add_if_needed("off", 1000);
    CHECK(latency_find("off", &ts) < 0);
    latency_configure(10);
    CHECK(latency_begin() != 0);
    latency_add_if_needed("t", 9);
    CHECK(latency_find("t", &ts) < 0);
    latency_add_if_needed("t", 10);
    CHECK(latency_find("t", &ts) == 0 && ts.max == 10);
    latency_configure(0);
    CHECK(latency_begin() == 0);
    CHECK(latency_reset(NULL) == 1);
}

static void ring(void)
{
    latency_series ts;
    int32_t t[LATENCY_TS_LEN];
    uint32_t ms[LATENCY_TS_LEN];
    int n;
    latency__add_at("ev", 5, 1000);
    latency__add_at("ev", 3, 1000);     /* the same second: the worse stays */
    latency__add_at("ev", 7, 1000);
    CHECK(latency_find("ev", &ts) == 0);
    n = samples(&ts, t, ms);
    CHECK(n == 1 && t[0] == 1000 && ms[0] == 7 && ts.max == 7);
    for (int s = 1; s <= LATENCY_TS_LEN + 5; s++) latency__add_at("ev", s == 50 ? 900 : s, 1000 + s);
    CHECK(latency_find("ev", &ts) == 0);
    n = samples(&ts, t, ms);
    CHECK(n == LATENCY_TS_LEN);
    CHECK(t[0] == 1006 && ms[0] == 6);   /* the oldest kept */
    CHECK(t[n - 1] == 1000 + LATENCY_TS_LEN + 5 && ms[n - 1] == LATENCY_TS_LEN + 5);
    CHECK(ts.max == 900);                /* of all time, though its sample is kept */
    latency__add_at("ev", 1, 5000);
    CHECK(latency_find("ev", &ts) == 0 && ts.max == 900);
    CHECK(ts.samples[(ts.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN].time == 5000);
}

static void names(void)
{
    latency_series ts, *all;
    int n;
    latency__add_at("aof-write", 1, 1);
    latency__add_at("command", 2, 1);
    CHECK(latency_find("Command", &ts) < 0);
    CHECK(latency_find("command", &ts) == 0 && strcmp(ts.name, "command") == 0);
    all = latency_copy(&n);
    CHECK(n == 3 && strcmp(all[0].name, "ev") == 0 && strcmp(all[2].name, "command") == 0);
    free(all);
    CHECK(latency_reset("COMMAND") == 1);
    CHECK(latency_reset("command") == 0);
    CHECK(latency_find("aof-write", &ts) == 0);
    CHECK(latency_reset(NULL) == 2);
    all = latency_copy(&n);
    CHECK(n == 0);
    free(all);
}

int main(void)
{
    threshold();
    ring();
    names();
    return check_done("latency");
}
