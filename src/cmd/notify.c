/* notify.c - keyspace notifications: the classes word, the channels' names,
 * and the expired and evicted events the keyspace reports (see notify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/notify.h"
#include "store/hooks.h"

atomic_int notify__classes;

/* The worker this thread is, for the events the keyspace reports from
 * inside its sweep or a lookup, where no cmd_env is at hand. */
static _Thread_local int thread_self = -1;
static pubsub *gone_bus;

void notify_thread(int self) { thread_self = self; }

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

static void on_gone(void *ctx, const domain *d, const char *key, size_t klen, int reason)
{
    int cls = reason == KS_DEL_EXPIRED ? CFG_NOTIFY_EXPIRED : CFG_NOTIFY_EVICTED;
    int classes = atomic_load_explicit(&notify__classes, memory_order_relaxed);
    (void)ctx;
    if (!(classes & cls) || !gone_bus) return;
    publish(gone_bus, thread_self, d, classes, reason == KS_DEL_EXPIRED ? "expired" : "evicted",
            key, klen);
}

static int apply_classes(void *owner, void *caller, char *err, size_t errlen)
{
    config *cfg = owner;
    char *v = config_str(cfg, &cfg->notify_keyspace_events);
    int classes = config_notify_flags(v);
    (void)caller, (void)err, (void)errlen;
    atomic_store(&notify__classes, classes < 0 ? 0 : classes);
    free(v);
    return 0;
}

void notify_init(config *cfg, keyspace *ks, pubsub *bus)
{
    gone_bus = bus;
    apply_classes(cfg, NULL, NULL, 0);
    config_on_change(cfg, CFG_notify_keyspace_events, apply_classes, cfg);
    ks_set_gone(ks, on_gone, NULL);
}
