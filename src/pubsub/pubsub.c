/* pubsub.c - see pubsub.h. */
#include "pubsub/pubsub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/table.h"
#include "lib/util.h"
#include "proto/resp.h"

typedef struct ps_link ps_link;

/* A channel or pattern with subscribers; it goes with its last one. */
typedef struct ps_chan {
    uint64_t h;
    ps_link **subs;          /* unordered: a link knows its place */
    size_t n, cap;
    size_t pidx;             /* a pattern's place in the pattern list */
    size_t nlen;
    char name[];
} ps_chan;

/* One subscription: in the client's table by name, and in the channel's
 * list. */
struct ps_link {
    ps_client *c;
    ps_chan *ch;
    size_t idx;              /* in ch->subs */
};

typedef struct stripe {
    pthread_rwlock_t lock;
    table t;                 /* name -> ps_chan */
} stripe;

/* Channels, or shard channels. */
typedef struct space {
    stripe s[PS_STRIPES];
    atomic_long links;       /* subscriptions, all stripes */
    atomic_long chans;       /* names with subscribers, all stripes */
} space;

typedef struct mail {
    ps_client *c;
    ps_msg *m;
} mail;

typedef struct mailvec {
    mail *v;
    size_t n, cap;
} mailvec;

/* What other workers sent to this one's subscribers. */
typedef struct mailbox {
    pthread_mutex_t mu;
    mailvec q, spare;        /* spare: the drained array, reused */
    atomic_int waiting;
    char pad[64];            /* publishers on other cores write here */
} mailbox;

/* One publisher's messages for other workers, gathered while it walks the
 * subscribers and posted once per worker. */
typedef struct stage {
    mailvec *to;             /* per worker */
} stage;

/* Registered clients, by id. */
typedef struct idstripe {
    pthread_rwlock_t lock;
    table t;                 /* id -> ps_client */
} idstripe;

struct pubsub {
    ps_hot hot;              /* first: see pubsub.h */
    idstripe ids[PS_STRIPES];
    atomic_long nstate[PS_ST_TIMED + 1];   /* clients per counted state bit (1, 2, 8) */
    uint64_t key[2];
    int nworkers;
    ps_ops ops;
    space chans, shards, keys;
    pthread_rwlock_t plock;  /* guards the patterns: */
    table pats;              /* pattern -> ps_chan */
    ps_chan **pv;            /* the same, as a list to match against */
    size_t pn, pcap;
    atomic_long plinks;      /* pattern subscriptions */
    pthread_rwlock_t mlock;  /* guards the monitors, a table of one entry: */
    table mons;              /* "" -> the ps_chan of every monitor */
    atomic_long nblocked;    /* clients waiting on keys */
    mailbox *mb;             /* one per worker */
    stage *st;               /* one per worker, then one for other threads: */
    pthread_mutex_t st_mu;   /* which guards that last one */
};

struct ps_client {
    int w;
    void *owner;
    uint64_t id;             /* its client id, once registered */
    int registered;
    atomic_uint state;       /* PS_ST_* */
    atomic_int woken;        /* a retry was asked and has not run yet */
    int gone;                /* being freed: no more retries */
    table subs[PS_KINDS];    /* name -> ps_link; the owner's worker only */
    atomic_long count[PS_KINDS];
};

static uint64_t chan_hash(const void *obj, const void *ctx)
{
    (void)ctx;
    return ((const ps_chan *)obj)->h;
}

static int chan_match(const void *obj, const void *key, size_t klen)
{
    const ps_chan *ch = obj;
    return ch->nlen == klen && memcmp(ch->name, key, klen) == 0;
}

static uint64_t link_hash(const void *obj, const void *ctx) { return chan_hash(((const ps_link *)obj)->ch, ctx); }

static int link_match(const void *obj, const void *key, size_t klen)
{
    return chan_match(((const ps_link *)obj)->ch, key, klen);
}

static const table_ops chan_ops = {chan_hash, chan_match};
static const table_ops link_ops = {link_hash, link_match};

/* A client id's hash: splitmix64's finaliser, so that the stripe bits and
 * the table's bits all vary with consecutive ids. */
static uint64_t id_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t client_hash(const void *obj, const void *ctx)
{
    (void)ctx;
    return id_mix(((const ps_client *)obj)->id);
}

static int client_match(const void *obj, const void *key, size_t klen)
{
    return klen == sizeof(uint64_t) && memcmp(&((const ps_client *)obj)->id, key, klen) == 0;
}

static const table_ops client_ops = {client_hash, client_match};

static void space_init(space *sp)
{
    for (int i = 0; i < PS_STRIPES; i++) {
        pthread_rwlock_init(&sp->s[i].lock, NULL);
        table_init(&sp->s[i].t, &chan_ops, NULL);
    }
    atomic_init(&sp->links, 0);
    atomic_init(&sp->chans, 0);
}

static void space_destroy(space *sp)
{
    for (int i = 0; i < PS_STRIPES; i++) {
        table_destroy(&sp->s[i].t);   /* empty: every client has gone */
        pthread_rwlock_destroy(&sp->s[i].lock);
    }
}

pubsub *pubsub_create(int nworkers, const ps_ops *ops)
{
    pubsub *ps = xcalloc(1, sizeof *ps);
    if (util_random_bytes(ps->key, sizeof ps->key) < 0) {
        ps->key[0] = (uint64_t)util_now_us();
        ps->key[1] = (uint64_t)util_mono_us() * 0x9e3779b97f4a7c15ull;
    }
    ps->nworkers = nworkers;
    ps->ops = *ops;
    for (int i = 0; i < PS_STRIPES; i++) {
        pthread_rwlock_init(&ps->ids[i].lock, NULL);
        table_init(&ps->ids[i].t, &client_ops, NULL);
    }
    space_init(&ps->chans);
    space_init(&ps->shards);
    space_init(&ps->keys);
    pthread_rwlock_init(&ps->plock, NULL);
    table_init(&ps->pats, &chan_ops, NULL);
    pthread_rwlock_init(&ps->mlock, NULL);
    table_init(&ps->mons, &chan_ops, NULL);
    ps->mb = xcalloc((size_t)nworkers, sizeof *ps->mb);
    for (int i = 0; i < nworkers; i++) pthread_mutex_init(&ps->mb[i].mu, NULL);
    ps->st = xcalloc((size_t)nworkers + 1, sizeof *ps->st);
    for (int i = 0; i <= nworkers; i++) ps->st[i].to = xcalloc((size_t)nworkers, sizeof(mailvec));
    pthread_mutex_init(&ps->st_mu, NULL);
    return ps;
}

static void msg_put(ps_msg *m)
{
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) free(m);
}

void pubsub_destroy(pubsub *ps)
{
    if (!ps) return;
    for (int i = 0; i < ps->nworkers; i++) {
        mailbox *mb = &ps->mb[i];
        for (size_t k = 0; k < mb->q.n; k++)
            if (mb->q.v[k].m) msg_put(mb->q.v[k].m);
        free(mb->q.v);
        free(mb->spare.v);
        pthread_mutex_destroy(&mb->mu);
    }
    for (int i = 0; i <= ps->nworkers; i++) {
        for (int w = 0; w < ps->nworkers; w++) free(ps->st[i].to[w].v);
        free(ps->st[i].to);
    }
    free(ps->st);
    free(ps->mb);
    pthread_mutex_destroy(&ps->st_mu);
    for (int i = 0; i < PS_STRIPES; i++) {
        table_destroy(&ps->ids[i].t);
        pthread_rwlock_destroy(&ps->ids[i].lock);
    }
    space_destroy(&ps->chans);
    space_destroy(&ps->shards);
    space_destroy(&ps->keys);
    table_destroy(&ps->pats);
    free(ps->pv);
    pthread_rwlock_destroy(&ps->plock);
    table_destroy(&ps->mons);
    pthread_rwlock_destroy(&ps->mlock);
    free(ps);
}

static uint64_t name_hash(const pubsub *ps, const char *p, size_t n)
{
    return hash_siphash13(p, n, ps->key);
}

/* The stripe of a hash: bits the tables use for neither slot nor tag. */
static stripe *stripe_of(space *sp, uint64_t h) { return &sp->s[(h >> 40) % PS_STRIPES]; }

/* Where a subscription of this kind lives: its lock, table and counters
 * (of subscriptions, and of names with subscribers, or NULL). */
typedef struct where {
    pthread_rwlock_t *lock;
    table *t;
    atomic_long *links, *names;
} where;

static where where_of(pubsub *ps, int kind, uint64_t h)
{
    if (kind == PS_PATTERN) return (where){&ps->plock, &ps->pats, &ps->plinks, NULL};
    if (kind == PS_MONITOR) return (where){&ps->mlock, &ps->mons, &ps->hot.monitors, NULL};
    space *sp = kind == PS_SHARD ? &ps->shards : kind == PS_KEY ? &ps->keys : &ps->chans;
    stripe *s = stripe_of(sp, h);
    return (where){&s->lock, &s->t, kind == PS_KEY ? &ps->hot.key_links : &sp->links, &sp->chans};
}

/* ---- subscribers ---- */

ps_client *ps_client_new(pubsub *ps, int w, void *owner)
{
    ps_client *c = xcalloc(1, sizeof *c);
    (void)ps;
    c->w = w;
    c->owner = owner;
    for (int k = 0; k < PS_KINDS; k++) {
        table_init(&c->subs[k], &link_ops, NULL);
        atomic_init(&c->count[k], 0);
    }
    return c;
}

size_t ps_client_count(const ps_client *c, int kind)
{
    return c ? (size_t)atomic_load_explicit(&c->count[kind], memory_order_relaxed) : 0;
}

int ps_subscribe(pubsub *ps, ps_client *c, int kind, const char *name, size_t n)
{
    uint64_t h = name_hash(ps, name, n);
    ps_link *l;
    ps_chan *ch;
    where wh;
    if (table_find(&c->subs[kind], h, name, n, NULL)) return 0;
    wh = where_of(ps, kind, h);
    l = xmalloc(sizeof *l);
    pthread_rwlock_wrlock(wh.lock);
    ch = table_find(wh.t, h, name, n, NULL);
    if (!ch) {
        ch = xcalloc(1, sizeof *ch + n);
        ch->h = h;
        ch->nlen = n;
        memcpy(ch->name, name, n);
        table_insert(wh.t, h, ch, 0);
        if (wh.names) atomic_fetch_add(wh.names, 1);
        if (kind == PS_PATTERN) {
            if (ps->pn == ps->pcap) {
                ps->pcap = ps->pcap ? ps->pcap * 2 : 16;
                ps->pv = xrealloc(ps->pv, sizeof *ps->pv * ps->pcap);
            }
            ch->pidx = ps->pn;
            ps->pv[ps->pn++] = ch;
        }
    }
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? ch->cap * 2 : 4;
        ch->subs = xrealloc(ch->subs, sizeof *ch->subs * ch->cap);
    }
    *l = (ps_link){c, ch, ch->n};
    ch->subs[ch->n++] = l;
    atomic_fetch_add(wh.links, 1);
    pthread_rwlock_unlock(wh.lock);
    table_insert(&c->subs[kind], h, l, 0);
    if (atomic_fetch_add_explicit(&c->count[kind], 1, memory_order_relaxed) == 0 && kind == PS_KEY)
        atomic_fetch_add(&ps->nblocked, 1);
    return 1;
}

/* Take a link out of its channel (which goes if it was the last) and free
 * it; the client's table is the caller's. */
static void unlink_sub(pubsub *ps, int kind, ps_link *l)
{
    ps_chan *ch = l->ch, *gone = NULL;
    where wh = where_of(ps, kind, ch->h);
    pthread_rwlock_wrlock(wh.lock);
    if (kind == PS_KEY) {
        /* waiters keep their order: the first is served first */
        memmove(ch->subs + l->idx, ch->subs + l->idx + 1, sizeof *ch->subs * (ch->n - l->idx - 1));
        for (size_t i = l->idx; i < ch->n - 1; i++) ch->subs[i]->idx = i;
        ch->n--;
    } else {
        ch->subs[l->idx] = ch->subs[--ch->n];
        ch->subs[l->idx]->idx = l->idx;
    }
    atomic_fetch_sub(wh.links, 1);
    if (ch->n == 0) {
        table_pos pos;
        table_find(wh.t, ch->h, ch->name, ch->nlen, &pos);
        table_delete(wh.t, &pos);
        table_maybe_shrink(wh.t);
        if (wh.names) atomic_fetch_sub(wh.names, 1);
        if (kind == PS_PATTERN) {
            ps->pv[ch->pidx] = ps->pv[--ps->pn];
            ps->pv[ch->pidx]->pidx = ch->pidx;
        }
        gone = ch;
    }
    pthread_rwlock_unlock(wh.lock);
    if (gone) {
        free(gone->subs);
        free(gone);
    }
    if (atomic_fetch_sub_explicit(&l->c->count[kind], 1, memory_order_relaxed) == 1 && kind == PS_KEY)
        atomic_fetch_sub(&ps->nblocked, 1);
    free(l);
}

int ps_unsubscribe(pubsub *ps, ps_client *c, int kind, const char *name, size_t n)
{
    table_pos pos;
    ps_link *l = table_find(&c->subs[kind], name_hash(ps, name, n), name, n, &pos);
    if (!l) return 0;
    table_delete(&c->subs[kind], &pos);
    table_maybe_shrink(&c->subs[kind]);
    unlink_sub(ps, kind, l);
    return 1;
}

void ps_unsubscribe_all(pubsub *ps, ps_client *c, int kind)
{
    table *t = &c->subs[kind];
    for (size_t i = 0, span = table_span(t); i < span; i++) {
        unsigned ub;
        ps_link *l = table_at(t, i, NULL, &ub);
        if (l) unlink_sub(ps, kind, l);
    }
    table_destroy(t);
    table_init(t, &link_ops, NULL);
}

size_t ps_client_names(const ps_client *c, int kind, buf *out)
{
    table *t = (table *)&c->subs[kind];   /* table_at changes nothing */
    size_t count = 0;
    for (size_t i = 0, span = table_span(t); i < span; i++) {
        unsigned ub;
        ps_link *l = table_at(t, i, NULL, &ub);
        if (!l) continue;
        buf_append(out, &l->ch->nlen, sizeof l->ch->nlen);
        buf_append(out, l->ch->name, l->ch->nlen);
        count++;
    }
    return count;
}

void ps_client_free(pubsub *ps, ps_client *c)
{
    if (!c) return;
    if (c->registered) {   /* no message can be addressed to it from now on */
        idstripe *is = &ps->ids[(id_mix(c->id) >> 40) % PS_STRIPES];
        table_pos pos;
        pthread_rwlock_wrlock(&is->lock);
        if (table_find(&is->t, id_mix(c->id), &c->id, sizeof c->id, &pos)) table_delete(&is->t, &pos);
        table_maybe_shrink(&is->t);
        pthread_rwlock_unlock(&is->lock);
        for (unsigned b = 1; b <= PS_ST_TIMED; b <<= 1)
            if (b != PS_ST_KILLED && (atomic_load(&c->state) & b)) atomic_fetch_sub(&ps->nstate[b], 1);
    }
    for (int k = 0; k < PS_KINDS; k++) {
        ps_unsubscribe_all(ps, c, k);
        table_destroy(&c->subs[k]);
    }
    c->gone = 1;
    /* No publisher can reach it now; what they sent before waits in this
     * worker's mailbox, which is drained here: it still gets what PUBLISH
     * counted for it (before RESET's reply; a closing connection drops
     * it), and nothing there refers to it any more. */
    if (c->w >= 0 && c->w < ps->nworkers) ps_drain(ps, c->w);
    free(c);
}

/* ---- clients by id ---- */

static idstripe *id_stripe(pubsub *ps, uint64_t id) { return &ps->ids[(id_mix(id) >> 40) % PS_STRIPES]; }

void ps_client_register(pubsub *ps, ps_client *c, uint64_t id)
{
    idstripe *is = id_stripe(ps, id);
    c->id = id;
    c->registered = 1;
    pthread_rwlock_wrlock(&is->lock);
    table_insert(&is->t, id_mix(id), c, 0);
    pthread_rwlock_unlock(&is->lock);
}

void ps_client_set_state(pubsub *ps, ps_client *c, unsigned bit, int on)
{
    unsigned old = on ? atomic_fetch_or(&c->state, bit) : atomic_fetch_and(&c->state, ~bit);
    if (!c->registered || !!(old & bit) == !!on) return;
    atomic_fetch_add(&ps->nstate[bit], on ? 1 : -1);
}

long ps_count_state(pubsub *ps, unsigned bit) { return atomic_load(&ps->nstate[bit]); }

long ps_state_of(pubsub *ps, uint64_t id)
{
    idstripe *is = id_stripe(ps, id);
    ps_client *c;
    long st;
    pthread_rwlock_rdlock(&is->lock);
    c = table_find(&is->t, id_mix(id), &id, sizeof id, NULL);
    st = c ? (long)atomic_load(&c->state) : -1;
    pthread_rwlock_unlock(&is->lock);
    return st;
}

static int ref_by_id(const void *a, const void *b)
{
    uint64_t x = ((const ps_client_ref *)a)->id, y = ((const ps_client_ref *)b)->id;
    return x < y ? -1 : x > y;
}

size_t ps_clients_begin(pubsub *ps, ps_client_ref **out)
{
    size_t n = 0, cap = 0;
    ps_client_ref *refs = NULL;
    for (int i = 0; i < PS_STRIPES; i++) {
        table *t = &ps->ids[i].t;
        pthread_rwlock_rdlock(&ps->ids[i].lock);
        for (size_t k = 0, span = table_span(t); k < span; k++) {
            unsigned ub;
            ps_client *c = table_at(t, k, NULL, &ub);
            if (!c) continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                refs = xrealloc(refs, cap * sizeof *refs);
            }
            refs[n++] = (ps_client_ref){c->id, c->owner, c, atomic_load(&c->state)};
        }
        pthread_rwlock_unlock(&ps->ids[i].lock);
    }
    if (n) qsort(refs, n, sizeof *refs, ref_by_id);
    *out = refs;
    return n;
}

void ps_clients_end(ps_client_ref **refs)
{
    free(*refs);
    *refs = NULL;
}

int ps_client_mark_killed(ps_client *c) { return !(atomic_fetch_or(&c->state, PS_ST_KILLED) & PS_ST_KILLED); }

ps_msg *ps_msg_new(int kind, uint64_t origin, const void *body, size_t n)
{
    ps_msg *m = xmalloc(sizeof *m + n);
    atomic_init(&m->refs, 1);
    m->nelem = kind;
    m->origin = origin;
    m->len = n;
    if (n && body) memcpy(m->body, body, n);   /* else the caller fills it */
    return m;
}

static void mailbox_put(pubsub *ps, int w, const mail *v, size_t n);
static void msg_put(ps_msg *m);

void ps_msg_release(ps_msg *m) { msg_put(m); }

int ps_post(pubsub *ps, uint64_t id, ps_msg *m)
{
    idstripe *is = id_stripe(ps, id);
    ps_client *c;
    /* under the lock: the client cannot go before the mail is in its box,
     * and once it is, its free drains the box first */
    pthread_rwlock_rdlock(&is->lock);
    c = table_find(&is->t, id_mix(id), &id, sizeof id, NULL);
    if (c) {
        mail ml = {c, m};
        mailbox_put(ps, c->w, &ml, 1);
    }
    pthread_rwlock_unlock(&is->lock);
    if (!c) msg_put(m);
    return c != NULL;
}

void ps_post_all(pubsub *ps, unsigned bit, ps_msg *m)
{
    for (int i = 0; i < PS_STRIPES; i++) {
        idstripe *is = &ps->ids[i];
        pthread_rwlock_rdlock(&is->lock);
        for (size_t k = 0, span = table_span(&is->t); k < span; k++) {
            unsigned ub;
            ps_client *c = table_at(&is->t, k, NULL, &ub);
            if (!c || !(atomic_load(&c->state) & bit)) continue;
            atomic_fetch_add(&m->refs, 1);
            mailbox_put(ps, c->w, &(mail){c, m}, 1);
        }
        pthread_rwlock_unlock(&is->lock);
    }
    msg_put(m);
}

/* ---- publishing ---- */

static size_t bulk_size(size_t n)
{
    char d[24];
    return 1 + (size_t)util_ll2str(d, (long long)n) + 2 + n + 2;
}

static char *put_bulk(char *p, const char *s, size_t n)
{
    *p++ = '$';
    p += util_ll2str(p, (long long)n);
    *p++ = '\r';
    *p++ = '\n';
    if (n) memcpy(p, s, n);
    p += n;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

/* kind word, [pattern], channel, payload: the elements of one push. */
static ps_msg *msg_new(const char *word, const ps_chan *pat, const char *ch, size_t chn,
                       const char *msg, size_t msgn)
{
    size_t wn = strlen(word);
    size_t len = bulk_size(wn) + (pat ? bulk_size(pat->nlen) : 0) + bulk_size(chn) + bulk_size(msgn);
    ps_msg *m = xmalloc(sizeof *m + len);
    char *p = m->body;
    atomic_init(&m->refs, 1);
    m->nelem = pat ? 4 : 3;
    m->origin = 0;
    m->len = len;
    p = put_bulk(p, word, wn);
    if (pat) p = put_bulk(p, pat->name, pat->nlen);
    p = put_bulk(p, ch, chn);
    put_bulk(p, msg, msgn);
    return m;
}

static void vec_push(mailvec *v, ps_client *c, ps_msg *m)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = xrealloc(v->v, sizeof *v->v * v->cap);
    }
    v->v[v->n++] = (mail){c, m};
}

/* Send m to every subscriber of ch: at once on this worker, staged for the
 * others. Takes over the caller's reference. */
static size_t send_all(pubsub *ps, int self, stage *st, const ps_chan *ch, ps_msg *m)
{
    int remote = 0;
    for (size_t i = 0; i < ch->n; i++) {
        ps_client *c = ch->subs[i]->c;
        if (c->w == self) {
            ps->ops.deliver(c->owner, m);
        } else {
            vec_push(&st->to[c->w], c, m);
            remote++;
        }
    }
    /* nobody else has seen m yet: one add for all the staged copies */
    if (remote) atomic_fetch_add_explicit(&m->refs, remote, memory_order_relaxed);
    msg_put(m);
    return ch->n;
}

/* Append n mails to worker w's mailbox, waking it if it was empty. */
static void mailbox_put(pubsub *ps, int w, const mail *v, size_t n)
{
    mailbox *mb = &ps->mb[w];
    int was_empty;
    pthread_mutex_lock(&mb->mu);
    was_empty = mb->q.n == 0;
    if (mb->q.cap - mb->q.n < n) {
        size_t cap = mb->q.cap ? mb->q.cap : 16;
        while (cap - mb->q.n < n) cap *= 2;
        mb->q.v = xrealloc(mb->q.v, sizeof *mb->q.v * cap);
        mb->q.cap = cap;
    }
    memcpy(mb->q.v + mb->q.n, v, sizeof *v * n);
    mb->q.n += n;
    atomic_store_explicit(&mb->waiting, 1, memory_order_release);
    pthread_mutex_unlock(&mb->mu);
    if (was_empty) ps->ops.wake(ps->ops.ctx, w);
}

/* Hand the staged messages to their workers' mailboxes. */
static void post(pubsub *ps, stage *st)
{
    for (int w = 0; w < ps->nworkers; w++) {
        mailvec *v = &st->to[w];
        if (!v->n) continue;
        mailbox_put(ps, w, v->v, v->n);
        v->n = 0;
    }
}

/* The publisher's stage: its worker's, or (self becoming -1) the one for
 * other threads, which is locked until stage_give. */
static stage *stage_take(pubsub *ps, int *self)
{
    if (*self >= 0 && *self < ps->nworkers) return &ps->st[*self];
    *self = -1;
    pthread_mutex_lock(&ps->st_mu);
    return &ps->st[ps->nworkers];
}

static void stage_give(pubsub *ps, int self)
{
    if (self < 0) pthread_mutex_unlock(&ps->st_mu);
}

long long ps_publish(pubsub *ps, int self, int shard, const char *ch, size_t chn,
                     const char *msg, size_t msgn)
{
    space *sp = shard ? &ps->shards : &ps->chans;
    int pats = !shard && atomic_load(&ps->plinks) > 0;
    long long n = 0;
    uint64_t h;
    stripe *s;
    stage *st;
    ps_chan *c;
    if (atomic_load(&sp->links) == 0 && !pats) return 0;   /* nobody listens: no lock */
    h = name_hash(ps, ch, chn);
    s = stripe_of(sp, h);
    st = stage_take(ps, &self);
    pthread_rwlock_rdlock(&s->lock);
    c = table_find(&s->t, h, ch, chn, NULL);
    if (c) n += (long long)send_all(ps, self, st, c, msg_new(shard ? "smessage" : "message", NULL, ch, chn, msg, msgn));
    if (pats) {
        pthread_rwlock_rdlock(&ps->plock);
        for (size_t i = 0; i < ps->pn; i++) {
            const ps_chan *p = ps->pv[i];
            if (util_glob_match(p->name, p->nlen, ch, chn, 0))
                n += (long long)send_all(ps, self, st, p, msg_new("pmessage", p, ch, chn, msg, msgn));
        }
    }
    post(ps, st);   /* before the locks go: see pubsub.h */
    if (pats) pthread_rwlock_unlock(&ps->plock);
    pthread_rwlock_unlock(&s->lock);
    stage_give(ps, self);
    return n;
}

void ps_feed_monitors(pubsub *ps, int self, const char *line, size_t n)
{
    uint64_t h = name_hash(ps, "", 0);
    stage *st = stage_take(ps, &self);
    ps_chan *ch;
    pthread_rwlock_rdlock(&ps->mlock);
    ch = table_find(&ps->mons, h, "", 0, NULL);
    if (ch) {
        send_all(ps, self, st, ch, ps_msg_new(0, 0, line, n));
    }
    post(ps, st);
    pthread_rwlock_unlock(&ps->mlock);
    stage_give(ps, self);
}

void ps_woken_clear(ps_client *c) { atomic_store(&c->woken, 0); }

void ps_signal(pubsub *ps, const char *name, size_t n)
{
    uint64_t h;
    stripe *s;
    ps_chan *ch;
    if (!ps_any_waiter(ps)) return;
    h = name_hash(ps, name, n);
    s = stripe_of(&ps->keys, h);
    pthread_rwlock_rdlock(&s->lock);
    ch = table_find(&s->t, h, name, n, NULL);
    if (ch && ch->n) {
        ps_client *c = ch->subs[0]->c;
        if (!atomic_exchange(&c->woken, 1)) {
            mail m = {c, NULL};
            mailbox_put(ps, c->w, &m, 1);
        }
    }
    pthread_rwlock_unlock(&s->lock);
}

int ps_waiting(pubsub *ps, int w)
{
    return atomic_load_explicit(&ps->mb[w].waiting, memory_order_relaxed);
}

void ps_drain(pubsub *ps, int w)
{
    mailbox *mb = &ps->mb[w];
    mailvec got;
    if (!atomic_load_explicit(&mb->waiting, memory_order_acquire)) return;
    pthread_mutex_lock(&mb->mu);
    got = mb->q;
    mb->q = mb->spare;
    mb->q.n = 0;
    atomic_store_explicit(&mb->waiting, 0, memory_order_relaxed);
    pthread_mutex_unlock(&mb->mu);
    for (size_t i = 0; i < got.n; i++) {
        ps_client *c = got.v[i].c;
        if (!got.v[i].m) {   /* a signal for a waiter */
            if (!c->gone) ps->ops.retry(c->owner);
            continue;
        }
        ps->ops.deliver(c->owner, got.v[i].m);
        msg_put(got.v[i].m);
    }
    got.n = 0;
    /* Keep the larger array for next time; a huge one once is let go. */
    pthread_mutex_lock(&mb->mu);
    if (got.cap > 4096) {
        free(got.v);
        got = (mailvec){0};
    }
    mb->spare = got;
    pthread_mutex_unlock(&mb->mu);
}

/* ---- introspection ---- */

size_t ps_channels(pubsub *ps, int shard, const char *pat, size_t plen, buf *out)
{
    space *sp = shard ? &ps->shards : &ps->chans;
    size_t n = 0;
    for (int i = 0; i < PS_STRIPES; i++) {
        stripe *s = &sp->s[i];
        pthread_rwlock_rdlock(&s->lock);
        for (size_t k = 0, span = table_span(&s->t); k < span; k++) {
            unsigned ub;
            ps_chan *ch = table_at(&s->t, k, NULL, &ub);
            if (!ch || (pat && !util_glob_match(pat, plen, ch->name, ch->nlen, 0))) continue;
            resp_bulk(out, ch->name, ch->nlen);
            n++;
        }
        pthread_rwlock_unlock(&s->lock);
    }
    return n;
}

long long ps_numsub(pubsub *ps, int shard, const char *ch, size_t n)
{
    uint64_t h = name_hash(ps, ch, n);
    stripe *s = stripe_of(shard ? &ps->shards : &ps->chans, h);
    ps_chan *c;
    long long count;
    pthread_rwlock_rdlock(&s->lock);
    c = table_find(&s->t, h, ch, n, NULL);
    count = c ? (long long)c->n : 0;
    pthread_rwlock_unlock(&s->lock);
    return count;
}

long long ps_numpat(pubsub *ps)
{
    long long n;
    pthread_rwlock_rdlock(&ps->plock);
    n = (long long)ps->pn;
    pthread_rwlock_unlock(&ps->plock);
    return n;
}

long long ps_nchannels(pubsub *ps, int shard) { return atomic_load(shard ? &ps->shards.chans : &ps->chans.chans); }

long long ps_nblocked(pubsub *ps) { return atomic_load(&ps->nblocked); }
