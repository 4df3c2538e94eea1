/* command.c - the command registry and the checks before a command runs. */
#include "cmd/command.h"
#include "persist/snapshot.h"

#include <ctype.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <sys/time.h>

#include "cmd/cmdstats.h"
#include "cmd/session.h"
#include "pubsub/tracking.h"
#include "store/segment.h"

static const cmd_family *const families[] = {
    &cmd_family_strings,    &cmd_family_keys,         &cmd_family_server,
    &cmd_family_connection, &cmd_family_transactions, &cmd_family_introspection, &cmd_family_hashes,
    &cmd_family_zsets,      &cmd_family_sets,         &cmd_family_lists,        &cmd_family_bits,
    &cmd_family_sort,        &cmd_family_dump,        &cmd_family_hll,
    &cmd_family_streams,
    &cmd_family_geo,        &cmd_family_pubsub,     &cmd_family_scripting,
    &cmd_family_functions,  &cmd_family_slowlog,      &cmd_family_debug,
    &cmd_family_latency,
};

#define MAX_COMMANDS 400
static const cmd_def *all[MAX_COMMANDS];   /* every row, family by family */
static size_t ncommands;

/* Open-addressed lookup by lower-cased name. A name of up to NAME_MAX_LEN
 * bytes is held as three words: its bytes, zero padding, and its length in
 * the top byte of the last, so one comparison of three words decides a
 * match (a NUL inside a name cannot fake a shorter one). */
#define LOOKUP_SLOTS 512
#define NAME_MAX_LEN 22
typedef struct cmd_key {
    uint64_t w[3];
} cmd_key;
static struct {
    cmd_key k;
    const cmd_def *d;
} lookup_slots[LOOKUP_SLOTS];

/* n (0-8) bytes at p in the low bytes of a word, the rest zero, without
 * reading outside them: two overlapping loads, or three bytes. */
static inline uint64_t load_upto8(const char *p, size_t n)
{
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return a | ((uint64_t)b << ((n - 4) * 8));
    }
    if (n == 0) return 0;
    return (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << (n / 2 * 8) |
           (uint64_t)(unsigned char)p[n - 1] << ((n - 1) * 8);
}

/* ASCII upper-case letters of the word made lower-case, eight at a time. */
static inline uint64_t lower8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull;
    uint64_t seven = w & 0x7f * ones;   /* each byte < 0x80: no carries below */
    uint64_t ge_a = seven + (0x80 - 'A') * ones, gt_z = seven + (0x80 - 'Z' - 1) * ones;
    uint64_t upper = (ge_a ^ gt_z) & ~w & 0x80 * ones;
    return w | upper >> 2;
}

/* Lower-case name into k; returns -1 if it is too long to be a command. */
static int make_key(cmd_key *k, const char *name, size_t len)
{
    uint64_t w0, w1 = 0, w2 = 0;
    if (len == 0 || len > NAME_MAX_LEN) return -1;
    if (len <= 8) {
        w0 = load_upto8(name, len);
    } else {
        memcpy(&w0, name, 8);
        if (len <= 16) {
            w1 = load_upto8(name + 8, len - 8);
        } else {
            memcpy(&w1, name + 8, 8);
            w2 = load_upto8(name + 16, len - 16);
        }
    }
    k->w[0] = lower8(w0);
    k->w[1] = lower8(w1);
    k->w[2] = lower8(w2) | (uint64_t)len << 56;
    return 0;
}

static unsigned key_slot(const cmd_key *k)
{
    uint64_t h = (k->w[0] ^ (k->w[1] * 0x9e3779b97f4a7c15ull) ^ (k->w[2] * 0xc2b2ae3d27d4eb4full)) *
                 0xff51afd7ed558ccdull;
    return (unsigned)(h >> 55);   /* 512 slots */
}

static void add_lookup(const cmd_def *d)
{
    cmd_key k;
    unsigned h;
    if (make_key(&k, d->name, strlen(d->name)) < 0) abort();   /* a table bug */
    for (h = key_slot(&k); lookup_slots[h].d; h = (h + 1) % LOOKUP_SLOTS)
        if (!strcmp(lookup_slots[h].d->name, d->name)) abort();   /* a name twice */
    lookup_slots[h].k = k;
    lookup_slots[h].d = d;
}

void command_init(void)
{
    if (ncommands) return;
    snapshot_set_extras(functions_snapshot);
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (size_t i = 0; i < families[f]->n; i++) {
            if (ncommands == MAX_COMMANDS || ncommands >= LOOKUP_SLOTS / 2) abort();
            all[ncommands++] = &families[f]->rows[i];
            add_lookup(&families[f]->rows[i]);
        }
}

const cmd_def *command_lookup(const char *name, size_t len)
{
    cmd_key k;
    if (make_key(&k, name, len) < 0) return NULL;
    for (unsigned h = key_slot(&k); lookup_slots[h].d; h = (h + 1) % LOOKUP_SLOTS) {
        const cmd_key *s = &lookup_slots[h].k;
        if (s->w[0] == k.w[0] && s->w[1] == k.w[1] && s->w[2] == k.w[2]) return lookup_slots[h].d;
    }
    return NULL;
}

const cmd_def *command_lookup_full(const char *name, size_t len, const cmd_def **parent)
{
    const char *bar = memchr(name, '|', len);
    const cmd_def *d;
    *parent = NULL;
    if (!bar) return command_lookup(name, len);
    d = command_lookup(name, (size_t)(bar - name));
    if (!d || !d->subs) return NULL;
    for (const cmd_def *s = d->subs; s->name; s++)
        if (util_eqi(bar + 1, len - (size_t)(bar + 1 - name), s->name)) {
            *parent = d;
            return s;
        }
    return NULL;
}

const cmd_def *command_at(size_t i) { return i < ncommands ? all[i] : NULL; }
size_t command_count(void) { return ncommands; }

const char *command_fullname(const cmd_def *parent, const cmd_def *d, char *buf, size_t len)
{
    if (!parent) return d->name;
    snprintf(buf, len, "%s|%s", parent->name, d->name);
    return buf;
}

const cmd_def *command_parent(const cmd_def *d)
{
    for (size_t i = 0; i < ncommands; i++)
        for (const cmd_def *sub = all[i]->subs; sub && sub->name; sub++)
            if (sub == d) return all[i];
    return NULL;
}

unsigned command_categories(const cmd_def *d)
{
    unsigned c = d->acl;
    if (d->flags & CMD_WRITE) c |= CAT_WRITE;
    if ((d->flags & CMD_READONLY) && !(c & CAT_SCRIPTING)) c |= CAT_READ;   /* as Redis: not EVAL_RO */
    if (d->flags & CMD_ADMIN) c |= CAT_ADMIN | CAT_DANGEROUS;
    if (d->flags & CMD_FAST) c |= CAT_FAST;
    if (d->flags & CMD_PUBSUB) c |= CAT_PUBSUB;
    if (!(c & CAT_FAST)) c |= CAT_SLOW;
    return c;
}

const char *command_category_name(int i)
{
    static const char *const names[] = {
#define X(c, name) name,
        CMD_CATEGORIES(X)
#undef X
    };
    return i >= 0 && i < CMD_NCATEGORIES ? names[i] : NULL;
}

static const cmd_def *find_sub(const cmd_def *subs, const karg *a)
{
    for (const cmd_def *s = subs; s->name; s++)
        if (util_eqi(a->p, a->n, s->name)) return s;
    return NULL;
}

const cmd_def *command_find(int argc, const karg *argv)
{
    const cmd_def *def = argc > 0 ? command_lookup(argv[0].p, argv[0].n) : NULL;
    if (def && def->subs && argc >= 2) return find_sub(def->subs, &argv[1]);
    return def;
}

/* The printable prefix of an argument, as C's %.*s would print it. */
static int cstr_len(const karg *a, size_t max)
{
    size_t n = a->n < max ? a->n : max;
    const char *z = memchr(a->p, '\0', n);
    return (int)(z ? (size_t)(z - a->p) : n);
}

/* Refuse a command before it runs, as Redis's rejectCommand does: inside
 * MULTI the transaction is marked to fail, and a refused EXEC itself ends
 * the transaction with the reason. msg has no leading '-'. */
static void reject(session *s, buf *out, const cmd_def *def, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reject(session *s, buf *out, const cmd_def *def, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (def && (def->flags & CMD_ENDS_MULTI)) {
        const char *why = strncmp(msg, "ERR ", 4) == 0 ? msg + 4 : msg;
        char abort[1100];
        session_discard_multi(s);
        snprintf(abort, sizeof abort, "EXECABORT Transaction discarded because of: %s", why);
        cmdstats_rejected(s, abort);
        resp_error(out, abort);
        return;
    }
    if (s->flags & SESS_MULTI) s->flags |= SESS_EXECABORT;
    /* a refused command uses up CLIENT CACHING's word too (see tracking_after) */
    if ((s->trk & TRK_CACHING) && !(s->flags & SESS_MULTI) && !(def && !strcmp(def->name, "client")))
        s->trk &= ~TRK_CACHING;
    cmdstats_rejected(s, msg);
    resp_error(out, msg);
}

static void reply_unknown(session *s, buf *out, int argc, const karg *argv)
{
    char args[256];
    size_t len = 0;
    for (int i = 1; i < argc && len < 128; i++) {
        int n = cstr_len(&argv[i], 128 - len);
        len += (size_t)snprintf(args + len, sizeof args - len, "'%.*s' ", n, argv[i].p);
    }
    args[len] = '\0';
    reject(s, out, NULL, "ERR unknown command '%.*s', with args beginning with: %s",
           cstr_len(&argv[0], 128), argv[0].p, args);
}

void reply_value(cmd_call *x, item *it)
{
    size_t n = item_vlen(it);
    if (!x->sink->slice || !item_solo(it) || n < SEG_SOLO_MIN) {
        resp_bulk(x->out, item_cval(it), n);
        return;
    }
    /* Big values go out straight from their segment, which the reply
     * keeps alive (even if the key is deleted meanwhile). */
    resp_bulk_header(x->out, n);
    x->sink->slice(x->sink->ctx, item_cval(it), n, seg_unref, seg_ref(it));
    buf_append(x->out, "\r\n", 2);
}

void reply_domains_full(cmd_call *x)
{
    resp_errorf(x->out, "ERR too many domains in use (max-domains is %lld)",
                cfg_ll(&x->env->cfg->max_domains));
}

void reply_arity(cmd_call *x)
{
    resp_errorf(x->out, "ERR wrong number of arguments for '%s' command", x->def->name);
}

void reply_subcmd_syntax(cmd_call *x)
{
    char up[32];
    size_t i;
    for (i = 0; i < x->argv[0].n && x->argv[0].p[i] && i < sizeof up - 1; i++)
        up[i] = (char)toupper((unsigned char)x->argv[0].p[i]);
    up[i] = '\0';
    resp_errorf(x->out, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                cstr_len(&x->argv[1], 128), x->argv[1].p, up);
}

void reply_lines(cmd_call *x, const char *const *lines, size_t n)
{
    resp_array(x->out, (long long)n);
    for (size_t i = 0; i < n; i++) resp_simple(x->out, lines[i]);
}

void reply_bad_expire(cmd_call *x)
{
    resp_errorf(x->out, "ERR invalid expire time in '%s' command", x->def->name);
}

kref *arg_lock_keys(cmd_call *x, int first, int step, ks_lockset *ls)
{
    kref *refs = xmalloc(sizeof(kref) * (size_t)((x->argc - first + step - 1) / step));
    ks_lockset_init(ls);
    for (int i = first, k = 0; i < x->argc; i += step, k++) {
        arg_ref(x, i, &refs[k]);
        ks_lockset_add(ls, &refs[k]);
    }
    ks_lockset_lock(ls);
    return refs;
}

int arg_ll(cmd_call *x, int i, long long *v)
{
    if (util_str2ll(x->argv[i].p, x->argv[i].n, v) == 0) return 0;
    reply_not_int(x);
    return -1;
}

static int arity_ok(int arity, int argc)
{
    return arity > 0 ? argc == arity : argc >= -arity;
}

/* Off the hot path: with no monitor and no waiter these never run, and
 * inlined they would cost every command a heavier prologue. */
#define COLD __attribute__((noinline, cold))
static COLD void signal_keys(cmd_env *env, const domain *d, const cmd_def *def, int argc,
                             const karg *argv);

/* MONITOR's line for a command that ran: Redis's format, with AUTH's
 * arguments and HELLO's AUTH pair redacted. */
static COLD void feed_monitors(cmd_env *env, const session *s, int argc, const karg *argv)
{
    struct timeval tv;
    buf b = {0};
    int hello = argc > 0 && util_eqi(argv[0].p, argv[0].n, "hello");
    int auth = argc > 0 && util_eqi(argv[0].p, argv[0].n, "auth"), redact = 0;
    gettimeofday(&tv, NULL);
    buf_printf(&b, "+%ld.%06ld [%lld ", (long)tv.tv_sec, (long)tv.tv_usec, ks_domain_db_index(s->db));
    if (s->peer[0] == '/') buf_printf(&b, "unix:%s]", env->cfg->unixsocket);
    else buf_printf(&b, "%s]", s->peer);
    for (int i = 0; i < argc; i++) {
        buf_append(&b, " ", 1);
        if (redact > 0 || (auth && i > 0)) {
            buf_append(&b, "\"(redacted)\"", 12);
            redact--;
            continue;
        }
        buf_append_repr(&b, argv[i].p, argv[i].n);
        if (hello && i >= 2 && util_eqi(argv[i].p, argv[i].n, "auth")) redact = 2;
    }
    buf_append(&b, "\r\n", 2);
    ps_feed_monitors(env->bus, env->self, b.data, b.len);
    buf_free(&b);
}

void command_call(cmd_env *env, session *s, cmd_sink *sink, const cmd_def *def, int argc,
                  const karg *argv, int64_t now)
{
    cmd_call x = {
        .s = s, .env = env, .ks = env->ks, .def = def, .argc = argc, .argv = argv,
        .out = sink->out, .sink = sink, .now = now,
    };
    size_t mark = sink->out->len;           /* where its reply starts (cmdstats) */
    uint64_t t0 = cmdstats_begin();
    tracking_set_origin(s->id);   /* whose changes these are (NOLOOP) */
    /* a script is shown before the commands it runs */
    if ((def->flags & CMD_SKIP_MONITOR) && env->bus && ps_monitored(env->bus)) feed_monitors(env, s, argc, argv);
    def->fn(&x);
    /* From here on x's fields, which the handler may have seen, are read
     * back from memory: nothing needs keeping in registers across it. */
    ks_after_command(x.ks);
    if (__builtin_expect(x.s->flags & (SESS_RETRY | SESS_BLOCKED), 0)) {
        cmdstats_waiting(&x, t0, mark);
        if (x.s->flags & SESS_RETRY) return;   /* counted, shown and signalled when first run */
    } else {
        cmdstats_after(&x, t0, mark);
    }
    stat_add(&x.env->st->commands, 1);
    if (!x.env->bus) return;
    /* after it ran, as Redis feeds them; administrative commands are not shown */
    if (!(x.def->flags & (CMD_ADMIN | CMD_SKIP_MONITOR)) && ps_monitored(x.env->bus))
        feed_monitors(x.env, x.s, x.argc, x.argv);
    if ((x.def->flags & CMD_WRITE) && ps_any_waiter(x.env->bus))
        signal_keys(x.env, x.s->db, x.def, x.argc, x.argv);
    if (x.s->trk) tracking_after(&x);
}

/* ---- blocking ---- */

/* A key's name among the waiters: its domain, then its bytes. */
static void waiter_name(buf *b, const domain *d, const char *key, size_t n)
{
    b->len = b->off = 0;
    buf_append(b, &d, sizeof d);
    buf_append(b, key, n);
}

static void signal_key(cmd_env *env, const domain *d, const char *key, size_t n)
{
    buf b = {0};
    waiter_name(&b, d, key, n);
    ps_signal(env->bus, b.data, b.len);
    buf_free(&b);
}

/* A write may have given a waiter what it waits for: signal the keys its
 * key specs name (a key a waiter finds empty again costs it one retry). */
int cmd_keyspec_range(const cmd_keyspec *k, int argc, const karg *argv, int *first, int *last, int *step)
{
    *first = k->begin;
    *step = k->step ? k->step : 1;
    if (k->unknown || k->keyword || *first <= 0 || *first >= argc) return -1;
    if (k->keynum) {
        long long nk;
        if (util_str2ll(argv[*first].p, argv[*first].n, &nk) < 0 || nk < 0 || nk > argc - *first - 1)
            return -1;
        *last = *first + (int)nk;
        (*first)++;
    } else {
        *last = k->lastkey >= 0 ? *first + k->lastkey : argc + k->lastkey;
    }
    return 0;
}

static COLD void signal_keys(cmd_env *env, const domain *d, const cmd_def *def, int argc,
                             const karg *argv)
{
    for (int i = 0; i < CMD_KEYSPECS && def->keys[i].flags; i++) {
        int first, last, step;
        if (cmd_keyspec_range(&def->keys[i], argc, argv, &first, &last, &step) < 0) continue;
        for (int j = first; j <= last && j < argc; j += step) signal_key(env, d, argv[j].p, argv[j].n);
    }
}

int arg_timeout(cmd_call *x, int i, int64_t *deadline)
{
    long double t;
    long long ms;
    if (util_str2ld(x->argv[i].p, x->argv[i].n, &t) < 0) {
        reply_err(x, "ERR timeout is not a float or out of range");
        return -1;
    }
    t = ceill(t * 1000.0L);
    /* Redis 7.0 converts without a range check: past a long long (inf
     * too), x86 gives the most negative one */
    ms = t >= -9223372036854775808.0L && t < 9223372036854775808.0L ? (long long)t : LLONG_MIN;
    if (ms < 0) {
        reply_err(x, "ERR timeout is negative");
        return -1;
    }
    *deadline = ms == 0 ? 0 : ms > LLONG_MAX - x->now ? LLONG_MAX : x->now + ms;
    return 0;
}

void cmd_block(cmd_call *x, const karg *keys, int nkeys, int64_t deadline, int null_bulk)
{
    cmd_block_argv(x, keys, nkeys, deadline, null_bulk, x->argc, x->argv);
}

void cmd_block_argv(cmd_call *x, const karg *keys, int nkeys, int64_t deadline, int null_bulk,
                    int argc, const karg *argv)
{
    session *s = x->s;
    buf b = {0};
    if (s->flags & SESS_RETRY) {   /* still nothing: it waits on where it was */
        s->flags |= SESS_REBLOCK;
        return;
    }
    if ((s->flags & (SESS_EXEC | SESS_SCRIPT)) || !x->env->bus || x->env->self < 0) {
        if (null_bulk) reply_null(x);
        else reply_null_array(x);
        return;
    }
    if (!s->sub) s->sub = ps_client_new(x->env->bus, x->env->self, s);
    /* A new wait: a signal that came while the last one was ending (its
     * retry already running) must not stand for this one's. */
    ps_woken_clear(s->sub);
    for (int i = 0; i < nkeys; i++) {
        waiter_name(&b, s->db, keys[i].p, keys[i].n);
        ps_subscribe(x->env->bus, s->sub, PS_KEY, b.data, b.len);
    }
    buf_free(&b);
    session_copy_cmd(&s->parked, x->def, argc, argv);
    s->block_deadline = deadline;
    s->flags |= SESS_BLOCKED;
    if (s->me) {
        ps_client_set_state(x->env->bus, s->me, PS_ST_BLOCKED, 1);   /* CLIENT UNBLOCK's to see */
        if (deadline) ps_client_set_state(x->env->bus, s->me, PS_ST_TIMED, 1);   /* INFO's timeout table */
    }
}

/* ---- CLIENT PAUSE ---- */

/* The pause in force: its kind (0 once none) and its end. Set under a lock,
 * read without one: a command reads the kind (one load when there is no
 * pause), then the end. */
static pthread_mutex_t pause_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int pause_kind;
static _Atomic int64_t pause_end;
atomic_int command_postponed;

int command_paused(int64_t now_ms)
{
    return atomic_load(&pause_kind) && now_ms < atomic_load(&pause_end);
}

int64_t command_pause(int kind, int64_t end_ms, int64_t now_ms)
{
    pthread_mutex_lock(&pause_mu);
    if (!command_paused(now_ms)) {   /* one that is over is gone (Redis's cron ends it) */
        atomic_store(&pause_kind, kind);
        atomic_store(&pause_end, end_ms);
    } else {
        if (end_ms > atomic_load(&pause_end)) atomic_store(&pause_end, end_ms);
        if (kind > atomic_load(&pause_kind)) atomic_store(&pause_kind, kind);
    }
    end_ms = atomic_load(&pause_end);
    pthread_mutex_unlock(&pause_mu);
    return end_ms;
}

void command_unpause(void)
{
    pthread_mutex_lock(&pause_mu);
    atomic_store(&pause_kind, 0);
    atomic_store(&pause_end, 0);
    pthread_mutex_unlock(&pause_mu);
}

/* Whether the pause holds s's def: PAUSE_WRITE holds what writes or may
 * replicate, and an EXEC whose queue has either. */
static int pause_holds(const session *s, const cmd_def *def, int64_t now_ms)
{
    const unsigned held = CMD_WRITE | CMD_MAY_REPLICATE;
    int kind = atomic_load(&pause_kind);
    if (!kind) return 0;
    if (!command_paused(now_ms)) {   /* over: the next commands take the fast path */
        pthread_mutex_lock(&pause_mu);
        if (!command_paused(now_ms)) atomic_store(&pause_kind, 0);
        pthread_mutex_unlock(&pause_mu);
        return 0;
    }
    if (kind == PAUSE_ALL || (def->flags & held)) return 1;
    if ((def->flags & CMD_ENDS_MULTI) && (s->flags & SESS_MULTI))
        for (int i = 0; i < s->mq_len; i++)
            if (s->mq[i].def->flags & held) return 1;
    return 0;
}

/* Parked as a blocked command is, with no keys and no deadline: the
 * worker looks at it again every few ms (conn_block_timeouts). */
static void postpone(session *s, const cmd_def *def, int argc, const karg *argv)
{
    session_copy_cmd(&s->parked, def, argc, argv);
    s->block_deadline = 0;
    s->flags |= SESS_BLOCKED | SESS_POSTPONED;
    atomic_fetch_add(&command_postponed, 1);
}

static void unpostpone(session *s)
{
    free(s->parked.argv);
    s->parked.argv = NULL;
    s->flags &= ~(SESS_BLOCKED | SESS_POSTPONED);
    atomic_fetch_sub(&command_postponed, 1);
}

/* ---- CLIENT REPLY ---- */

/* While OFF or SKIP, what a command writes goes to a scratch sink and is
 * dropped, unless the command turned replies back on (CLIENT REPLY ON:
 * its OK is the client's), but for pushes (cmd_push_out). SKIP is for one command, the one after CLIENT
 * REPLY SKIP (SKIP_NEXT until it starts), through to its end should it
 * block. */
typedef struct mute {
    cmd_sink sink, *to;
    buf out;
} mute;

static void drop_slice(void *ctx, const char *p, size_t n, void (*release)(void *), void *owner)
{
    (void)ctx;
    (void)p;
    (void)n;
    if (release) release(owner);
}

buf *cmd_push_out(cmd_call *x)
{
    return x->sink->slice == drop_slice ? ((mute *)x->sink->ctx)->to->out : x->out;
}

static cmd_sink *mute_begin(session *s, cmd_sink *sink, mute *m)
{
    if (s->flags & SESS_REPLY_SKIP_NEXT) s->flags = (s->flags | SESS_REPLY_SKIP) & ~SESS_REPLY_SKIP_NEXT;
    m->to = sink;
    if (!(s->flags & SESS_MUTED)) return sink;
    memset(&m->out, 0, sizeof m->out);
    m->sink = (cmd_sink){.out = &m->out, .slice = drop_slice, .ctx = m};
    return &m->sink;
}

static void mute_end(session *s, const cmd_sink *used, mute *m)
{
    if (used != m->to) {
        if (!(s->flags & SESS_MUTED)) buf_append(m->to->out, m->out.data, m->out.len);
        buf_free(&m->out);
    }
    if (!(s->flags & SESS_BLOCKED)) s->flags &= ~SESS_REPLY_SKIP;
}

static void exec_client(cmd_env *env, session *s, cmd_sink *sink, int argc, const karg *argv,
                        int64_t now_ms);

void command_unblock(cmd_env *env, session *s)
{
    buf names = {0};
    if (!(s->flags & SESS_BLOCKED)) return;
    if (s->flags & SESS_POSTPONED) {   /* no keys, no state for CLIENT UNBLOCK */
        unpostpone(s);
        return;
    }
    /* Leave the keys, then signal them: a write this client was asked to
     * try may be for the next waiter now. */
    ps_client_names(s->sub, PS_KEY, &names);
    ps_unsubscribe_all(env->bus, s->sub, PS_KEY);
    for (size_t off = 0, n; off < names.len;) {
        const char *p = ps_name_next(&names, &off, &n);
        ps_signal(env->bus, p, n);
    }
    buf_free(&names);
    free(s->parked.argv);
    s->parked.argv = NULL;
    s->flags &= ~SESS_BLOCKED;
    if (s->me) {
        ps_client_set_state(env->bus, s->me, PS_ST_BLOCKED, 0);
        ps_client_set_state(env->bus, s->me, PS_ST_TIMED, 0);
    }
}

/* A command held by a pause runs from the start once the pause lets it,
 * as Redis processes it again: it may be refused, queued, or block. */
static int run_postponed(cmd_env *env, session *s, cmd_sink *sink, int64_t now)
{
    queued_cmd q = s->parked;
    if (pause_holds(s, q.def, now)) return 0;
    s->parked.argv = NULL;
    unpostpone(s);
    exec_client(env, s, sink, q.argc, q.argv, now);
    command_batch_end(env);
    free(q.argv);
    return 1;
}

static int retry(cmd_env *env, session *s, cmd_sink *sink, int64_t now)
{
    if (s->flags & SESS_POSTPONED) return run_postponed(env, s, sink, now);
    ps_woken_clear(s->sub);
    s->flags = (s->flags | SESS_RETRY) & ~SESS_REBLOCK;
    cmdstats_mark();   /* its time starts now */
    command_call(env, s, sink, s->parked.def, s->parked.argc, s->parked.argv, now);
    s->flags &= ~SESS_RETRY;
    if (s->flags & SESS_REBLOCK) {
        s->flags &= ~SESS_REBLOCK;
        return 0;
    }
    command_unblock(env, s);
    return 1;
}

int command_retry(cmd_env *env, session *s, cmd_sink *sink, int64_t now)
{
    mute m;
    int done;
    if (!(s->flags & SESS_BLOCKED)) return 1;
    sink = mute_begin(s, sink, &m);
    done = retry(env, s, sink, now);
    mute_end(s, sink, &m);
    return done;
}

void command_block_timeout(cmd_env *env, session *s, cmd_sink *sink, const char *err)
{
    mute m;
    if (!(s->flags & SESS_BLOCKED) || (s->flags & SESS_POSTPONED)) return;
    sink = mute_begin(s, sink, &m);
    cmdstats_timed_out(s->parked.def, err);
    /* whatever the command, as Redis times them out */
    if (err) resp_error(sink->out, err);
    else if (s->resp == 3) resp3_null(sink->out);
    else resp_null_array(sink->out);
    command_unblock(env, s);
    mute_end(s, sink, &m);
}

int command_replay(cmd_env *env, domain *d, int argc, const karg *argv, int64_t now)
{
    const cmd_def *def = command_find(argc, argv);   /* FUNCTION LOAD's too */
    buf out = {0};
    cmd_sink sink = {&out, NULL, NULL};
    session s;
    int rc;
    if (!def || !(def->flags & CMD_WRITE) || !arity_ok(def->arity, argc)) return -1;
    ks_domain_hold(d);
    session_init(&s, 0, d, SESS_AUTHED, now);
    command_call(env, &s, &sink, def, argc, argv, now);
    /* a logged write succeeded when it ran: an error now means the file
     * does not match the data it was logged against */
    rc = out.len && out.data[0] == '-' ? -1 : 0;
    session_free(&s, env->ks);
    buf_free(&out);
    return rc;
}

/* Like Redis, evict before running a command when memory is over the
 * limit; returns 1 if it is still over (nothing left to evict). */
int command_over_maxmemory(cmd_env *env)
{
    static atomic_llong freed_since_trim;
    long long limit = cfg_ll(&env->cfg->maxmemory), freed;
    if (limit == 0 || ks_used_memory(env->ks) <= (size_t)limit) return 0;
    freed = ks_evict(env->ks, (size_t)limit, (int)cfg_ll(&env->cfg->maxmemory_policy));
    if (freed < 0) return 1;
    /* Give what eviction freed back to the kernel soon, not at the next
     * tick: under a write flood RSS would otherwise run ahead. */
    if (atomic_fetch_add(&freed_since_trim, freed) + freed > limit / 16) {
        atomic_store(&freed_since_trim, 0);
        malloc_trim(0);
    }
    return 0;
}

atomic_int command_busy, command_busy_worker;

const char *command_busy_text(int kind)
{
    return kind == COMMAND_BUSY_FUNCTION
               ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
               : "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
}

/* busy: the worker holds no gate (a script runs long): only what Redis
 * allows then (CMD_ALLOW_BUSY) runs, and nothing that evicts or claims. */
static inline __attribute__((always_inline)) void exec_checked(cmd_env *env, session *s, cmd_sink *sink, int argc, const karg *argv,
                         int64_t now_ms, int busy)
{
    buf *out = sink->out;
    const cmd_def *def, *parent = NULL;
    char fullname[64];

    if (argc == 0) return;
    def = command_lookup(argv[0].p, argv[0].n);
    if (!def) {
        s->last_cmd = NULL;
        reply_unknown(s, out, argc, argv);
        return;
    }
    if (def->subs && !(argc == 1 && def->fn)) {
        const cmd_def *sub;
        if (argc < 2) {
            s->last_cmd = def;
            reject(s, out, def, "ERR wrong number of arguments for '%s' command", def->name);
            return;
        }
        sub = find_sub(def->subs, &argv[1]);
        if (!sub) {
            char up[32];
            size_t i;
            s->last_cmd = NULL;   /* as Redis's lookup finds nothing */
            for (i = 0; def->name[i] && i < sizeof up - 1; i++)
                up[i] = (char)toupper((unsigned char)def->name[i]);
            up[i] = '\0';
            reject(s, out, def, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                   cstr_len(&argv[1], 128), argv[1].p, up);
            return;
        }
        parent = def;
        def = sub;
    }
    s->last_cmd = def;   /* as Redis sets lastcmd once the lookup found it */
    if (!arity_ok(def->arity, argc)) {
        reject(s, out, def, "ERR wrong number of arguments for '%s' command",
               command_fullname(parent, def, fullname, sizeof fullname));
        return;
    }
    /* before authentication, as Redis checks its protected commands */
    if (__builtin_expect(def->flags & CMD_PROTECTED, 0)) {
        long long allow = cfg_ll(&env->cfg->enable_debug_command);   /* no yes local */
        if (!(allow == 1 || (allow == 2 && (s->flags & SESS_LOCAL)))) {
            reject(s, out, def,
                   "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "
                   "you can run it from a local connection, otherwise you need to set this option in the "
                   "configuration file, and then restart the server.");
            return;
        }
    }
    if (!(s->flags & SESS_AUTHED) && !(def->flags & CMD_NOAUTH) &&
        atomic_load(env->host->auth_required)) {
        reject(s, out, def, "NOAUTH Authentication required.");
        return;
    }
    if ((s->flags & SESS_MULTI) && (def->flags & CMD_NOMULTI)) {
        reject(s, out, def, "ERR Command not allowed inside a transaction");
        return;
    }
    if (!busy && (def->flags & CMD_DENYOOM) && ks_domain_claim(env->ks, s->db) < 0) {
        reject(s, out, def, "ERR too many domains in use (max-domains is %lld)",
               cfg_ll(&env->cfg->max_domains));
        return;
    }
    /* Inside MULTI, queueing takes memory too: like Redis, only EXEC,
     * DISCARD, RESET and QUIT pass when memory is full. */
    if (!busy && command_over_maxmemory(env) &&
        ((def->flags & CMD_DENYOOM) || ((s->flags & SESS_MULTI) && !(def->flags & CMD_OOM_OK)))) {
        reject(s, out, def, "OOM command not allowed when used memory > 'maxmemory'.");
        return;
    }
    if (def->flags & (CMD_WRITE | CMD_MISCONF)) {
        const char *why = persist_write_denied(env->ps);
        if (why) {
            reject(s, out, def, "%s", why);
            return;
        }
    }
    /* A RESP2 client in subscribed mode reads pushes: only what cannot be
     * confused with one runs. */
    if (s->sub && s->resp == 2 && !(def->flags & CMD_SUBCTX) && session__subscribed(s)) {
        reject(s, out, def,
               "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
               "RESET are allowed in this context",
               command_fullname(parent, def, fullname, sizeof fullname));
        return;
    }
    if (busy && !(def->flags & CMD_ALLOW_BUSY)) {
        reject(s, out, def, "%s", command_busy_text(busy));
        return;
    }
    /* held by CLIENT PAUSE: before MULTI's queue, as in Redis */
    if (__builtin_expect(atomic_load_explicit(&pause_kind, memory_order_relaxed), 0) && !busy &&
        pause_holds(s, def, now_ms)) {
        postpone(s, def, argc, argv);
        return;
    }
    if ((s->flags & SESS_MULTI) && !(def->flags & CMD_NOQUEUE)) {
        session_queue(s, def, argc, argv);
        resp_simple(out, "QUEUED");
        return;
    }
    if (busy) {   /* no section: the script holds every gate (SHUTDOWN knows) */
        s->flags |= SESS_BUSY;
        command_call(env, s, sink, def, argc, argv, now_ms);
        s->flags &= ~SESS_BUSY;
    } else if (def->flags & CMD_EXCLUSIVE) {
        /* In a run of input (command_batch_end ends it), the section stays
         * taken for the commands after: pipelined scripts pause the other
         * workers once, not once each. */
        if (!env->excl_held) {
            gates_exclusive_begin(env->g, env->self);
            env->excl_held = 1;
        }
        command_call(env, s, sink, def, argc, argv, util_now_ms());   /* the pause may have taken a while */
        if (!env->excl_batch || (def->flags & CMD_NOMULTI)) command_batch_end(env);   /* SHUTDOWN, SAVE */
    } else {
        command_call(env, s, sink, def, argc, argv, now_ms);
    }
}

int64_t cmd_clock(const cmd_call *x)
{
    return x->s->flags & SESS_SCRIPT ? util_now_ms() : x->now;
}

void command_batch_end(cmd_env *env)
{
    if (!env->excl_held) return;
    env->excl_held = 0;
    gates_exclusive_end(env->g, env->self);
}

static void exec_client(cmd_env *env, session *s, cmd_sink *sink, int argc, const karg *argv,
                        int64_t now_ms)
{
    exec_checked(env, s, sink, argc, argv, now_ms, 0);
}

void command_exec(cmd_env *env, session *s, cmd_sink *sink, int argc, const karg *argv, int64_t now_ms)
{
    mute m;
    if (__builtin_expect(!(s->flags & (SESS_MUTED | SESS_REPLY_SKIP_NEXT)), 1)) {
        exec_checked(env, s, sink, argc, argv, now_ms, 0);
        return;
    }
    sink = mute_begin(s, sink, &m);
    exec_checked(env, s, sink, argc, argv, now_ms, 0);
    mute_end(s, sink, &m);
}

void command_exec_busy(cmd_env *env, session *s, cmd_sink *sink, int argc, const karg *argv, int64_t now_ms)
{
    int busy = atomic_load(&command_busy);
    exec_checked(env, s, sink, argc, argv, now_ms, busy ? busy : COMMAND_BUSY_SCRIPT);
}
