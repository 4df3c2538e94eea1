/* notify.h - keyspace notifications (notify-keyspace-events), as Redis 7.0
 * sends them.
 *
 * A write command that changed a key calls notify_key() with the event's
 * class (CFG_NOTIFY_*) and name, in Redis's order; keys that expire or are
 * evicted, new keys (n) and reads that missed (m) are reported by the
 * keyspace's key-event hook, which notify_init() installs. An event whose
 * class is on is published, through the pub/sub registry as PUBLISH would,
 * to __keyspace@<db>__:<key> (the message is the event's name) when K is on
 * and to __keyevent@<db>__:<event> (the message is the key) when E is on;
 * <db> is 0 for the domain "default" and the domain's name otherwise
 * (SELECT 3 is the domain "3", Redis's db 3).
 *
 * With notifications off (the default) an event costs one relaxed load of
 * the classes word and a branch, inline. */
#ifndef KASI_CMD_NOTIFY_H
#define KASI_CMD_NOTIFY_H

#include <stdatomic.h>

#include "cmd/command.h"

/* The classes on now (notify-keyspace-events), written by the directive's
 * apply hook; a plain word so the check needs no pointer. */
extern atomic_int notify__classes;

void notify__publish(cmd_env *env, const domain *d, int cls, const char *event, const char *key,
                     size_t klen);

/* Whether events of class cls would go anywhere. */
static inline int notify_wants(int cls)
{
    return atomic_load_explicit(&notify__classes, memory_order_relaxed) & cls;
}

/* An event of class cls on key (klen bytes) of domain d. */
static inline void notify_in(cmd_call *x, const domain *d, int cls, const char *event,
                             const char *key, size_t klen)
{
    if (__builtin_expect(notify_wants(cls) != 0, 0))
        notify__publish(x->env, d, cls, event, key, klen);
}

/* An event of class cls on argument i, in the selected domain. */
static inline void notify_key(cmd_call *x, int cls, const char *event, int i)
{
    notify_in(x, call_domain(x), cls, event, x->argv[i].p, x->argv[i].n);
}

/* An event of class cls on the key of r. */
static inline void notify_ref(cmd_call *x, const kref *r, int cls, const char *event)
{
    notify_in(x, r->d, cls, event, r->key, r->klen);
}

/* An event on the key of r, then "del" when the write emptied it. */
static inline void notify_ref_del(cmd_call *x, const kref *r, int cls, const char *event,
                                  int emptied)
{
    if (__builtin_expect(notify_wants(cls | CFG_NOTIFY_GENERIC) != 0, 0)) {
        notify_ref(x, r, cls, event);
        if (emptied) notify_ref(x, r, CFG_NOTIFY_GENERIC, "del");
    }
}

/* Read notify-keyspace-events now and after every CONFIG SET of it, and
 * publish the keys ks expires or evicts through bus. Before the workers
 * start. */
void notify_init(config *cfg, keyspace *ks, pubsub *bus);
/* While on, new keys this thread makes are not "new" events: a write that
 * deletes a key and makes it again where Redis overwrites it (the STOREs). */
void notify_quiet_new(int on);
/* This thread is worker self (its own subscribers get events at once). */
void notify_thread(int self);

#endif
