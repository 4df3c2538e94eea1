/* session.c - see session.h. */
#include "cmd/session.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "pubsub/pubsub.h"

void session_init(session *s, uint64_t id, domain *d, unsigned flags, int64_t now_ms)
{
    memset(s, 0, sizeof *s);
    s->id = id;
    s->flags = flags;
    s->resp = 2;
    s->db = d;
    s->created_ms = s->last_ms = now_ms;
}

void session_discard_multi(session *s)
{
    for (int i = 0; i < s->mq_len; i++) free(s->mq[i].argv);
    s->mq_len = 0;
    s->flags &= ~(SESS_MULTI | SESS_EXECABORT);
}

void session_free(session *s, keyspace *ks)
{
    ks_unwatch_all(ks, &s->watch);
    session_discard_multi(s);
    free(s->mq);
    s->mq = NULL;
    ks_domain_put(ks, s->db);
    s->db = NULL;
    free(s->name);
    s->name = NULL;
    free(s->parked.argv);
    s->parked.argv = NULL;
}

void session_set_domain(session *s, keyspace *ks, domain *d)
{
    ks_domain_put(ks, s->db);
    s->db = d;
}

void session_copy_cmd(queued_cmd *q, const struct cmd_def *def, int argc, const karg *argv)
{
    size_t bytes = sizeof(karg) * (size_t)argc;
    char *mem, *p;
    for (int i = 0; i < argc; i++) bytes += argv[i].n;
    mem = xmalloc(bytes ? bytes : 1);
    p = mem + sizeof(karg) * (size_t)argc;
    for (int i = 0; i < argc; i++) {
        karg *a = (karg *)mem + i;
        if (argv[i].n) memcpy(p, argv[i].p, argv[i].n);
        a->p = p;
        a->n = argv[i].n;
        p += argv[i].n;
    }
    q->def = def;
    q->argc = argc;
    q->argv = (karg *)mem;
}

void session_queue(session *s, const struct cmd_def *def, int argc, const karg *argv)
{
    if (s->mq_len == s->mq_cap) {
        s->mq_cap = s->mq_cap ? s->mq_cap * 2 : 8;
        s->mq = xrealloc(s->mq, sizeof(queued_cmd) * (size_t)s->mq_cap);
    }
    session_copy_cmd(&s->mq[s->mq_len++], def, argc, argv);
}

size_t session_multi_mem(const session *s)
{
    size_t n = 0;
    for (int i = 0; i < s->mq_len; i++) {
        n += sizeof(queued_cmd) + sizeof(karg) * (size_t)s->mq[i].argc;
        for (int k = 0; k < s->mq[i].argc; k++) n += s->mq[i].argv[k].n;
    }
    return n;
}

int session__subscribed(const session *s)
{
    return (ps_client_count(s->sub, PS_CHANNEL) || ps_client_count(s->sub, PS_PATTERN) ||
                      ps_client_count(s->sub, PS_SHARD));
}
