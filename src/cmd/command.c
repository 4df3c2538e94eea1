/* command.c - the command table and the pre-execution checks. */
#include "cmd/command.h"

#include <ctype.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM

static const cmd_def client_subs[] = {
    {"setname", cmd_client_setname, 3, 0, 0, 0, 0, NULL},
    {"getname", cmd_client_getname, 2, 0, 0, 0, 0, NULL},
    {"id", cmd_client_id, 2, 0, 0, 0, 0, NULL},
    {"info", cmd_client_info, 2, 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

static const cmd_def command_subs[] = {
    {"count", cmd_command_count, 2, 0, 0, 0, 0, NULL},
    {"info", cmd_command_info, -2, 0, 0, 0, 0, NULL},
    {"docs", cmd_command_docs, -2, 0, 0, 0, 0, NULL},
    {"list", cmd_command_list, -2, 0, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

static const cmd_def config_subs[] = {
    {"get", cmd_config_get, -3, CMD_ADMIN, 0, 0, 0, NULL},
    {"set", cmd_config_set, -4, CMD_ADMIN, 0, 0, 0, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

static const cmd_def memory_subs[] = {
    {"usage", cmd_memory_usage, -3, R, 2, 2, 1, NULL},
    {NULL, NULL, 0, 0, 0, 0, 0, NULL},
};

/* name, handler, arity, flags, first key, last key, key step, subcommands */
static const cmd_def commands[] = {
    /* strings */
    {"get", cmd_get, 2, R | F, 1, 1, 1, NULL},
    {"set", cmd_set, -3, W | M, 1, 1, 1, NULL},
    {"setnx", cmd_setnx, 3, W | M | F, 1, 1, 1, NULL},
    {"setex", cmd_setex, 4, W | M, 1, 1, 1, NULL},
    {"psetex", cmd_psetex, 4, W | M, 1, 1, 1, NULL},
    {"getset", cmd_getset, 3, W | M | F, 1, 1, 1, NULL},
    {"getdel", cmd_getdel, 2, W | F, 1, 1, 1, NULL},
    {"getex", cmd_getex, -2, W | F, 1, 1, 1, NULL},
    {"append", cmd_append, 3, W | M, 1, 1, 1, NULL},
    {"strlen", cmd_strlen, 2, R | F, 1, 1, 1, NULL},
    {"getrange", cmd_getrange, 4, R, 1, 1, 1, NULL},
    {"substr", cmd_getrange, 4, R, 1, 1, 1, NULL},
    {"setrange", cmd_setrange, 4, W | M, 1, 1, 1, NULL},
    {"incr", cmd_incr, 2, W | M | F, 1, 1, 1, NULL},
    {"decr", cmd_decr, 2, W | M | F, 1, 1, 1, NULL},
    {"incrby", cmd_incrby, 3, W | M | F, 1, 1, 1, NULL},
    {"decrby", cmd_decrby, 3, W | M | F, 1, 1, 1, NULL},
    {"incrbyfloat", cmd_incrbyfloat, 3, W | M | F, 1, 1, 1, NULL},
    {"mget", cmd_mget, -2, R | F, 1, -1, 1, NULL},
    {"mset", cmd_mset, -3, W | M, 1, -1, 2, NULL},
    {"msetnx", cmd_msetnx, -3, W | M, 1, -1, 2, NULL},
    {"lcs", cmd_lcs, -3, R, 1, 2, 1, NULL},
    /* keys */
    {"del", cmd_del, -2, W, 1, -1, 1, NULL},
    {"unlink", cmd_del, -2, W | F, 1, -1, 1, NULL},
    {"exists", cmd_exists, -2, R | F, 1, -1, 1, NULL},
    {"touch", cmd_touch, -2, R | F, 1, -1, 1, NULL},
    {"type", cmd_type, 2, R | F, 1, 1, 1, NULL},
    {"expire", cmd_expire, -3, W | F, 1, 1, 1, NULL},
    {"pexpire", cmd_pexpire, -3, W | F, 1, 1, 1, NULL},
    {"expireat", cmd_expireat, -3, W | F, 1, 1, 1, NULL},
    {"pexpireat", cmd_pexpireat, -3, W | F, 1, 1, 1, NULL},
    {"ttl", cmd_ttl, 2, R | F, 1, 1, 1, NULL},
    {"pttl", cmd_pttl, 2, R | F, 1, 1, 1, NULL},
    {"expiretime", cmd_expiretime, 2, R | F, 1, 1, 1, NULL},
    {"pexpiretime", cmd_pexpiretime, 2, R | F, 1, 1, 1, NULL},
    {"persist", cmd_persist, 2, W | F, 1, 1, 1, NULL},
    {"keys", cmd_keys, 2, R, 0, 0, 0, NULL},
    {"scan", cmd_scan, -2, R, 0, 0, 0, NULL},
    {"randomkey", cmd_randomkey, 1, R, 0, 0, 0, NULL},
    {"rename", cmd_rename, 3, W, 1, 2, 1, NULL},
    {"renamenx", cmd_renamenx, 3, W | F, 1, 2, 1, NULL},
    {"copy", cmd_copy, -3, W | M, 1, 2, 1, NULL},
    {"move", cmd_move, 3, W | F, 1, 1, 1, NULL},
    {"dbsize", cmd_dbsize, 1, R | F, 0, 0, 0, NULL},
    /* server and connection */
    {"ping", cmd_ping, -1, F, 0, 0, 0, NULL},
    {"echo", cmd_echo, 2, F, 0, 0, 0, NULL},
    {"select", cmd_select, 2, F, 0, 0, 0, NULL},
    {"flushdb", cmd_flushdb, -1, W, 0, 0, 0, NULL},
    {"flushall", cmd_flushall, -1, W | CMD_EXCLUSIVE, 0, 0, 0, NULL},
    {"info", cmd_info, -1, 0, 0, 0, 0, NULL},
    {"time", cmd_time, 1, F, 0, 0, 0, NULL},
    {"shutdown", cmd_shutdown, -1, CMD_ADMIN | CMD_EXCLUSIVE | CMD_NOMULTI, 0, 0, 0, NULL},
    {"save", cmd_save, 1, CMD_ADMIN | CMD_NOMULTI, 0, 0, 0, NULL},
    {"bgsave", cmd_bgsave, -1, CMD_ADMIN, 0, 0, 0, NULL},
    {"bgrewriteaof", cmd_bgrewriteaof, 1, CMD_ADMIN, 0, 0, 0, NULL},
    {"auth", cmd_auth, -2, CMD_NOAUTH | F, 0, 0, 0, NULL},
    {"hello", cmd_hello, -1, CMD_NOAUTH | F, 0, 0, 0, NULL},
    {"multi", cmd_multi, 1, F | CMD_NOQUEUE, 0, 0, 0, NULL},
    {"exec", cmd_exec, 1, CMD_NOQUEUE, 0, 0, 0, NULL},
    {"discard", cmd_discard, 1, F | CMD_NOQUEUE, 0, 0, 0, NULL},
    {"watch", cmd_watch, -2, F | CMD_NOQUEUE, 1, -1, 1, NULL},
    {"unwatch", cmd_unwatch, 1, F, 0, 0, 0, NULL},
    {"client", NULL, -2, 0, 0, 0, 0, client_subs},
    {"command", cmd_command, -1, 0, 0, 0, 0, command_subs},
    {"config", NULL, -2, 0, 0, 0, 0, config_subs},
    {"memory", NULL, -2, 0, 0, 0, 0, memory_subs},
    {"reset", cmd_reset, 1, CMD_NOAUTH | F | CMD_NOQUEUE, 0, 0, 0, NULL},
    {"lastsave", cmd_lastsave, 1, F, 0, 0, 0, NULL},
};
#define NCMDS (sizeof commands / sizeof commands[0])

/* Open-addressed lookup by lower-cased name. A name of up to NAME_MAX_LEN
 * bytes is held as three words: its bytes, zero padding, and its length in
 * the top byte of the last, so one comparison of three words decides a
 * match (a NUL inside a name cannot fake a shorter one). */
#define LOOKUP_SLOTS 256
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
    return (unsigned)(h >> 56);   /* 256 slots */
}

void command_init(void)
{
    for (size_t i = 0; i < NCMDS; i++) {
        cmd_key k;
        unsigned h;
        if (make_key(&k, commands[i].name, strlen(commands[i].name)) < 0) abort();   /* a table bug */
        for (h = key_slot(&k); lookup_slots[h].d; h = (h + 1) % LOOKUP_SLOTS) {}
        lookup_slots[h].k = k;
        lookup_slots[h].d = &commands[i];
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

const cmd_def *command_at(size_t i) { return i < NCMDS ? &commands[i] : NULL; }
size_t command_count(void) { return NCMDS; }

static const cmd_def *find_sub(const cmd_def *subs, const karg *a)
{
    for (const cmd_def *s = subs; s->name; s++)
        if (util_eqi(a->p, a->n, s->name)) return s;
    return NULL;
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
static void reject(conn *c, const cmd_def *def, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reject(conn *c, const cmd_def *def, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (def && def->fn == cmd_exec) {
        const char *why = strncmp(msg, "ERR ", 4) == 0 ? msg + 4 : msg;
        conn_discard_multi(c);
        resp_errorf(&c->out, "EXECABORT Transaction discarded because of: %s", why);
        return;
    }
    if (c->flags & CONN_MULTI) c->flags |= CONN_EXECABORT;
    resp_error(&c->out, msg);
}

static void reply_unknown(conn *c, int argc, const karg *argv)
{
    char args[256];
    size_t len = 0;
    for (int i = 1; i < argc && len < 128; i++) {
        int n = cstr_len(&argv[i], 128 - len);
        len += (size_t)snprintf(args + len, sizeof args - len, "'%.*s' ", n, argv[i].p);
    }
    args[len] = '\0';
    reject(c, NULL, "ERR unknown command '%.*s', with args beginning with: %s",
           cstr_len(&argv[0], 128), argv[0].p, args);
}

void reply_value(cmd_call *x, item *it)
{
    size_t n = item_vlen(it);
    if (!item_solo(it) || n < CONN_ZC_MIN) {
        resp_bulk(x->out, item_cval(it), n);
        return;
    }
    /* Big values go out straight from their segment, which the reply
     * keeps alive (even if the key is deleted meanwhile). */
    resp_bulk_header(x->out, n);
    conn_add_slice(x->c, item_cval(it), n, seg_unref, seg_ref(it));
    buf_append(x->out, "\r\n", 2);
}

void reply_domains_full(cmd_call *x)
{
    resp_errorf(x->out, "ERR too many domains in use (max-domains is %lld)",
                cfg_ll(&x->srv->cfg.max_domains));
}

void reply_arity(cmd_call *x)
{
    resp_errorf(x->out, "ERR wrong number of arguments for '%s' command", x->def->name);
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

static void queue(conn *c, const cmd_def *def, int argc, const karg *argv)
{
    size_t bytes = sizeof(karg) * (size_t)argc;
    queued_cmd *q;
    char *mem, *p;
    for (int i = 0; i < argc; i++) bytes += argv[i].n;
    mem = xmalloc(bytes);
    p = mem + sizeof(karg) * (size_t)argc;
    for (int i = 0; i < argc; i++) {
        karg *a = (karg *)mem + i;
        if (argv[i].n) memcpy(p, argv[i].p, argv[i].n);
        a->p = p;
        a->n = argv[i].n;
        p += argv[i].n;
    }
    if (c->mq_len == c->mq_cap) {
        c->mq_cap = c->mq_cap ? c->mq_cap * 2 : 8;
        c->mq = xrealloc(c->mq, sizeof(queued_cmd) * (size_t)c->mq_cap);
    }
    q = &c->mq[c->mq_len++];
    q->def = def;
    q->argc = argc;
    q->argv = (karg *)mem;
    resp_simple(&c->out, "QUEUED");
}

void command_call(conn *c, const cmd_def *def, int argc, const karg *argv, int64_t now)
{
    cmd_call x = {
        .c = c, .srv = c->w->srv, .ks = c->w->srv->ks, .def = def,
        .argc = argc, .argv = argv, .out = &c->out, .now = now,
    };
    def->fn(&x);
    ks_after_command(x.ks);
    stat_add(&c->w->st.commands, 1);
}

/* Like Redis, evict before running a command when memory is over the
 * limit; returns 1 if it is still over (nothing left to evict). */
static int over_maxmemory(server *srv)
{
    static atomic_llong freed_since_trim;
    long long limit = cfg_ll(&srv->cfg.maxmemory), freed;
    if (limit == 0 || ks_used_memory(srv->ks) <= (size_t)limit) return 0;
    freed = ks_evict(srv->ks, (size_t)limit, (int)cfg_ll(&srv->cfg.maxmemory_policy));
    if (freed < 0) return 1;
    /* Give what eviction freed back to the kernel soon, not at the next
     * tick: under a write flood RSS would otherwise run ahead. */
    if (atomic_fetch_add(&freed_since_trim, freed) + freed > limit / 16) {
        atomic_store(&freed_since_trim, 0);
        malloc_trim(0);
    }
    return 0;
}

void command_exec(conn *c, int argc, const karg *argv, int64_t now_ms)
{
    server *srv = c->w->srv;
    const cmd_def *def;
    char fullname[64];

    if (argc == 0) return;
    if (argv[0].n == 4 && util_eqi(argv[0].p, argv[0].n, "quit")) {
        resp_simple(&c->out, "OK");
        c->flags |= CONN_CLOSING;
        return;
    }
    def = command_lookup(argv[0].p, argv[0].n);
    if (!def) {
        reply_unknown(c, argc, argv);
        return;
    }
    if (def->subs && !(argc == 1 && def->fn)) {
        const cmd_def *sub;
        if (argc < 2) {
            reject(c, def, "ERR wrong number of arguments for '%s' command", def->name);
            return;
        }
        sub = find_sub(def->subs, &argv[1]);
        if (!sub) {
            char up[32];
            size_t i;
            for (i = 0; def->name[i] && i < sizeof up - 1; i++)
                up[i] = (char)toupper((unsigned char)def->name[i]);
            up[i] = '\0';
            reject(c, def, "ERR unknown subcommand '%.*s'. Try %s HELP.",
                   cstr_len(&argv[1], 128), argv[1].p, up);
            return;
        }
        if (!arity_ok(sub->arity, argc)) {
            snprintf(fullname, sizeof fullname, "%s|%s", def->name, sub->name);
            reject(c, sub, "ERR wrong number of arguments for '%s' command", fullname);
            return;
        }
        def = sub;
    } else if (!arity_ok(def->arity, argc)) {
        reject(c, def, "ERR wrong number of arguments for '%s' command", def->name);
        return;
    }
    if (!(c->flags & CONN_AUTHED) && !(def->flags & CMD_NOAUTH) && atomic_load(&srv->auth_required)) {
        reject(c, def, "NOAUTH Authentication required.");
        return;
    }
    if ((c->flags & CONN_MULTI) && (def->flags & CMD_NOMULTI)) {
        reject(c, def, "ERR Command not allowed inside a transaction");
        return;
    }
    if ((def->flags & CMD_DENYOOM) && ks_domain_claim(srv->ks, c->db) < 0) {
        reject(c, def, "ERR too many domains in use (max-domains is %lld)",
               cfg_ll(&srv->cfg.max_domains));
        return;
    }
    /* Inside MULTI, queueing takes memory too: like Redis, only EXEC,
     * DISCARD and RESET pass when memory is full. */
    if (over_maxmemory(srv) &&
        ((def->flags & CMD_DENYOOM) || ((c->flags & CONN_MULTI) && def->fn != cmd_exec &&
                                        def->fn != cmd_discard && def->fn != cmd_reset))) {
        reject(c, def, "OOM command not allowed when used memory > 'maxmemory'.");
        return;
    }
    if ((def->flags & CMD_WRITE) || def->fn == cmd_ping) {   /* Redis refuses PING too */
        const char *why = persist_write_denied(srv);
        if (why) {
            reject(c, def, "%s", why);
            return;
        }
    }
    if ((c->flags & CONN_MULTI) && !(def->flags & CMD_NOQUEUE)) {
        queue(c, def, argc, argv);
        return;
    }
    if (def->flags & CMD_EXCLUSIVE) {
        server_exclusive_begin(c->w);
        command_call(c, def, argc, argv, util_now_ms());   /* the pause may have taken a while */
        server_exclusive_end(c->w);
    } else {
        command_call(c, def, argc, argv, now_ms);
    }
}
