/* notify.c - keyspace notifications: the classes word, the channels' names,
 * and the expired and evicted events the keyspace reports (see notify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/notify.h"
#include "store/hooks.h"

atomic_int notify__classes;

/* The worker this thread is, for the events the keyspace reports from
 * inside its sweep or a lookup, where no cmd_env is at hand; and whether
 * its new keys are kept quiet (notify_quiet_new). */
static _Thread_local int thread_self = -1, thread_quiet;
static pubsub *event_bus;
static keyspace *event_ks;

void notify_thread(int self) { thread_self = self; }
void notify_quiet_new(int on) { thread_quiet = on; }

static void publish(pubsub *bus, int self, const domain *d, int classes, const char *event,
                    const char *key, size_t klen)
{
    size_t nlen, elen = strlen(event);
    const char *name = ks_domain_name(d, &nlen);
    buf ch = {0};
    if (nlen == 7 && memcmp(name, "default", 7) == 0) name = "0", nlen = 1;
    if (classes & CFG_NOTIFY_KEYSPACE) {
        buf_append(&ch, "__keyspace@", 11);
        buf_append(&ch, name, nlen);
        buf_append(&ch, "__:", 3);
        buf_append(&ch, key, klen);
        ps_publish(bus, self, 0, ch.data, ch.len, event, elen);
    }
    if (classes & CFG_NOTIFY_KEYEVENT) {
        ch.len = 0;
        buf_append(&ch, "__keyevent@", 11);
        buf_append(&ch, name, nlen);
        buf_append(&ch, "__:", 3);
        buf_append(&ch, event, elen);
        ps_publish(bus, self, 0, ch.data, ch.len, key, klen);
    }
    buf_free(&ch);
}

void notify__publish(cmd_env *env, const domain *d, int cls, const char *event, const char *key,
                     size_t klen)
{
    int classes = atomic_load_explicit(&notify__classes, memory_order_relaxed);
    if (!(classes & cls) || !env->bus) return;   /* no bus: replaying the AOF */
    publish(env->bus, env->self, d, classes, event, key, klen);
}

/* The keyspace's report: a key expired, was evicted, or is new. */
static void on_key_event(void *ctx, const domain *d, const char *key, size_t klen, int what)
{
    static const struct { int cls; const char *name; } ev[] = {
        [KS_DEL_EXPIRED] = {CFG_NOTIFY_EXPIRED, "expired"},
        [KS_DEL_EVICTED] = {CFG_NOTIFY_EVICTED, "evicted"},
        [KS_KEY_NEW] = {CFG_NOTIFY_NEW, "new"},
        [KS_KEY_MISS] = {CFG_NOTIFY_KEY_MISS, "keymiss"},
    };
    int classes = atomic_load_explicit(&notify__classes, memory_order_relaxed);
    (void)ctx;
    if (!(classes & ev[what].cls) || !event_bus || (what == KS_KEY_NEW && thread_quiet)) return;
    publish(event_bus, thread_self, d, classes, ev[what].name, key, klen);
}

static int apply_classes(void *owner, void *caller, char *err, size_t errlen)
{
    config *cfg = owner;
    char *v = config_str(cfg, &cfg->notify_keyspace_events);
    int classes = config_notify_flags(v);
    (void)caller, (void)err, (void)errlen;
    if (classes < 0) classes = 0;
    atomic_store(&notify__classes, classes);
    /* the keyspace reports new keys and misses only while someone would
     * hear of them */
    int where = classes & (CFG_NOTIFY_KEYSPACE | CFG_NOTIFY_KEYEVENT);
    ks_want_events(event_ks, where && (classes & CFG_NOTIFY_NEW),
                   where && (classes & CFG_NOTIFY_KEY_MISS));
    free(v);
    return 0;
}

void notify_init(config *cfg, keyspace *ks, pubsub *bus)
{
    event_bus = bus;
    event_ks = ks;
    ks_set_key_events(ks, on_key_event, NULL);
    apply_classes(cfg, NULL, NULL, 0);
    config_on_change(cfg, CFG_notify_keyspace_events, apply_classes, cfg);
}
