/* command.h - the command registry and what every command sees.
 *
 * A command is one row (cmd_def): its name, handler, arity (Redis's
 * convention: N exactly, -N at least N), flags, ACL categories, key specs
 * and the facts COMMAND DOCS tells. Each family file (strings.c, keys.c,
 * ...) owns its rows and its handlers, and exports them as a cmd_family;
 * lookup, arity checks, COMMAND INFO/DOCS/LIST and ACL categories all read
 * the rows. command_exec() does what Redis's processCommand does before a
 * handler runs (lookup, arity, AUTH, MULTI queueing, OOM, MISCONF), in
 * Redis's order, so the error replies match.
 *
 * A handler sees a cmd_call: the session it runs for (session.h), the
 * worker's environment (the keyspace, the directives, persistence and what
 * the server offers), the arguments, and a reply sink. It never sees a
 * connection: MULTI/EXEC, scripts and replication can run commands with no
 * socket. */
#ifndef KASI_CMD_COMMAND_H
#define KASI_CMD_COMMAND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "cmd/session.h"
#include "conf/config.h"
#include "lib/buf.h"
#include "lib/gates.h"
#include "lib/util.h"
#include "persist/persist.h"
#include "proto/resp.h"
#include "pubsub/pubsub.h"
#include "store/keyspace.h"

typedef struct cmd_def cmd_def;
typedef struct cmd_call cmd_call;
typedef void cmd_fn(cmd_call *x);

/* Flags, as COMMAND INFO shows them (Redis's names, in its order) ... */
#define CMD_FLAGS(X)                                                                         \
    X(CMD_WRITE, "write") X(CMD_READONLY, "readonly") X(CMD_DENYOOM, "denyoom")              \
    X(CMD_ADMIN, "admin") X(CMD_PUBSUB, "pubsub") X(CMD_NOSCRIPT, "noscript") X(CMD_BLOCKING, "blocking")            \
    X(CMD_LOADING, "loading")             \
    X(CMD_STALE, "stale") X(CMD_SKIP_MONITOR, "skip_monitor")                                \
    X(CMD_SKIP_SLOWLOG, "skip_slowlog") X(CMD_FAST, "fast")                                 \
    X(CMD_NOAUTH, "no_auth") X(CMD_NO_MANDATORY_KEYS, "no_mandatory_keys")                  \
    X(CMD_NO_ASYNC_LOADING, "no_async_loading")                                             \
    X(CMD_NOMULTI, "no_multi") X(CMD_ALLOW_BUSY, "allow_busy")
enum {
#define X(f, name) f##_BIT,
    CMD_FLAGS(X)
#undef X
    CMD_NFLAGS
};
enum {
#define X(f, name) f = 1u << f##_BIT,
    CMD_FLAGS(X)
#undef X
};
/* ... and Kasi's own, which COMMAND does not show. */
#define CMD_NOQUEUE (1u << 20)     /* runs at once even inside MULTI (EXEC, WATCH ...) */
#define CMD_EXCLUSIVE (1u << 21)   /* runs with every other worker paused */
#define CMD_OOM_OK (1u << 22)      /* not refused inside MULTI when memory is full */
#define CMD_ENDS_MULTI (1u << 23)  /* EXEC: refusing it ends the transaction */
#define CMD_MISCONF (1u << 24)     /* refused while the disk fails, as writes are (PING) */
#define CMD_SUBCTX (1u << 25)      /* allowed to a RESP2 client in subscribed mode */
#define CMD_MAY_REPLICATE (1u << 26)   /* not a write, but paused with them (EVAL, PUBLISH, PFCOUNT) */
#define CMD_PROTECTED (1u << 27)   /* DEBUG: only as enable-debug-command allows */

/* ACL categories, in Redis's order. A row names the ones its flags do not
 * imply: write, readonly, admin and fast imply @write, @read, @admin and
 * @dangerous, @fast, and a command that is not @fast is @slow. */
#define CMD_CATEGORIES(X)                                                                    \
    X(CAT_KEYSPACE, "keyspace") X(CAT_READ, "read") X(CAT_WRITE, "write") X(CAT_SET, "set")  \
    X(CAT_SORTEDSET, "sortedset") X(CAT_LIST, "list") X(CAT_HASH, "hash")                   \
    X(CAT_STRING, "string") X(CAT_BITMAP, "bitmap") X(CAT_HYPERLOGLOG, "hyperloglog")       \
    X(CAT_GEO, "geo") X(CAT_STREAM, "stream") X(CAT_PUBSUB, "pubsub") X(CAT_ADMIN, "admin") \
    X(CAT_FAST, "fast") X(CAT_SLOW, "slow") X(CAT_BLOCKING, "blocking")                     \
    X(CAT_DANGEROUS, "dangerous") X(CAT_CONNECTION, "connection")                           \
    X(CAT_TRANSACTION, "transaction") X(CAT_SCRIPTING, "scripting")
enum {
#define X(c, name) c##_BIT,
    CMD_CATEGORIES(X)
#undef X
    CMD_NCATEGORIES
};
enum {
#define X(c, name) c = 1u << c##_BIT,
    CMD_CATEGORIES(X)
#undef X
};

/* A key spec (Redis 7), as COMMAND INFO prints it. begin_search: the key
 * (or the first) is argument `begin`, or, with a keyword, the first
 * argument after `keyword` searching from argument `begin` on (a negative
 * begin counts from the end, as Redis's startfrom does). find_keys: keys
 * from there to `lastkey` (0: just that one, -1: the last argument, -2 the
 * one before ...) every `step` arguments, `limit` as Redis's range limit;
 * or (keynum) the argument there counts the keys that follow it
 * (keynumidx 0, firstkey 1, keystep 1: LMPOP, ZUNIONSTORE ...). Or both
 * searches unknown (SORT's BY/GET and STORE). flags as COMMAND INFO prints
 * them ("RW access update"). */
typedef struct cmd_keyspec {
    int begin, lastkey, step;
    const char *flags;       /* NULL: no spec */
    int keynum;
    const char *keyword;     /* begin_search by this keyword */
    int unknown;             /* begin_search and find_keys unknown */
    int limit;
} cmd_keyspec;
#define CMD_KEYSPECS 4

struct cmd_def {
    const char *name;        /* lower case, as shown in errors */
    cmd_fn *fn;
    int arity;
    unsigned flags;          /* CMD_* */
    unsigned acl;            /* CAT_* besides those the flags imply */
    cmd_keyspec keys[CMD_KEYSPECS];
    const char *group, *since, *complexity;   /* COMMAND DOCS */
    const char *tips;        /* COMMAND INFO tips, space separated, or NULL */
    const cmd_def *subs;     /* a container's subcommands, ended by a row with no name */
};

/* One family's rows (strings.c, keys.c, ...). */
typedef struct cmd_family {
    const cmd_def *rows;
    size_t n;
} cmd_family;
#define CMD_FAMILY(rows_) {(rows_), sizeof(rows_) / sizeof((rows_)[0])}

/* One key spec: keys from argument b to l every s; counted keys from
 * argument b; after a keyword searched from argument from on; unknown. */
#define KSPEC(b, l, s, fl) {.begin = (b), .lastkey = (l), .step = (s), .flags = (fl)}
#define KSPEC_NUM(b, fl) {.begin = (b), .step = 1, .flags = (fl), .keynum = 1}
#define KSPEC_WORD(w, from, l, s, fl) \
    {.begin = (from), .lastkey = (l), .step = (s), .flags = (fl), .keyword = (w)}
#define KSPEC_UNKNOWN(fl) {.flags = (fl), .unknown = 1}

/* Row helpers for the usual key specs. */
#define KEY1(fl) {KSPEC(1, 0, 1, fl)}                           /* the first argument */
#define KEYN(fl) {KSPEC(1, -1, 1, fl)}                          /* every argument */
#define KEYN2(fl) {KSPEC(1, -1, 2, fl)}                         /* every other one (MSET) */
#define KEY12(f1, f2) {KSPEC(1, 0, 1, f1), KSPEC(2, 0, 1, f2)}   /* two, as RENAME's */
#define KEY1N(f1, f2) {KSPEC(1, 0, 1, f1), KSPEC(2, -1, 1, f2)}  /* one, then the rest (SINTERSTORE) */
#define KEYNUM(b, fl) {KSPEC_NUM(b, fl)}                        /* counted (LMPOP) */
#define KEY1NUM(f1, f2) {KSPEC(1, 0, 1, f1), KSPEC_NUM(2, f2)}   /* ZUNIONSTORE's */
#define NOKEYS {KSPEC(0, 0, 0, NULL)}

/* The worker counters INFO and the metrics endpoint read, one row each:
 * field, INFO name, metric name (a counter), its help. */
#define CMD_STATS(X)                                                                         \
    X(connections, "total_connections_received", "kasi_connections_received_total",          \
      "Client connections accepted")                                                         \
    X(commands, "total_commands_processed", "kasi_commands_processed_total",                 \
      "Commands processed")                                                                  \
    X(net_in, "total_net_input_bytes", "kasi_net_input_bytes_total",                         \
      "Bytes read from clients")                                                             \
    X(net_out, "total_net_output_bytes", "kasi_net_output_bytes_total",                      \
      "Bytes written to clients")                                                            \
    X(rejected, "rejected_connections", "kasi_rejected_connections_total",                   \
      "Connections refused (maxclients, protected mode)")                                    \
    X(reads, "total_reads_processed", "kasi_reads_processed_total",                          \
      "Reads from client sockets that brought input")                                        \
    X(writes, "total_writes_processed", "kasi_writes_processed_total",                       \
      "Writes to client sockets that sent output")
typedef struct cmd_stats {
#define X(f, name, metric, help) atomic_ullong f;
    CMD_STATS(X)
#undef X
} cmd_stats;

/* Add to a counter only its worker writes (INFO reads it from any thread). */
static inline void stat_add(atomic_ullong *c, unsigned long long n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* What the server offers commands. */
typedef struct cmd_host {
    void *ctx;
    int64_t start_ms;        /* when it started */
    char run_id[41];         /* random at each start: INFO's run_id, Sentinel's reboot check */
    char replid[41];         /* INFO replication's master_replid */
    int nworkers;
    const atomic_int *auth_required;   /* a password is set */
    long (*clients)(void *ctx);                      /* connected clients */
    void (*stats)(void *ctx, cmd_stats *sum);        /* counters over every worker */
    /* Worker w's counters, and the connections it has (*clients). */
    void (*worker_stats)(void *ctx, int w, cmd_stats *st, long *clients);
    void (*shutdown)(void *ctx);                     /* SHUTDOWN was accepted: stop */
    /* From inside a long script on worker w: answer its other clients
     * (with command_exec_busy) and send what they are owed. */
    void (*serve_busy)(void *ctx, int w);
    const char *git_sha;     /* of the build (INFO's redis_git_sha1), and whether its tree was dirty */
    int git_dirty;
} cmd_host;

/* What the pipeline lookahead learnt of a request further down the input
 * buffer; its key's hash is reused by the command (see server/conn.c). */
typedef struct key_hint {
    const char *req;          /* where the request starts (NULL: unused) */
    const char *end;          /* and ends */
    const char *key;          /* its second argument, as a key */
    size_t klen;
    uint64_t h;               /* ks_hash of the key */
} key_hint;
#define KEY_HINTS 4

/* A worker's environment: what its commands run with. */
typedef struct cmd_env {
    keyspace *ks;
    config *cfg;
    persist *ps;
    pubsub *bus;              /* channels and subscribers */
    struct tracking *trk;     /* client-side caching's table */
    gates *g;
    int self;                 /* this worker's gate */
    cmd_stats *st;            /* this worker's counters */
    const cmd_host *host;
    key_hint hints[KEY_HINTS];   /* a ring, for the input being run */
    unsigned hint_next;          /* where the next hint goes */
    unsigned hint_live;          /* hints written for this input (the newest ones count) */
    int excl_batch;              /* running a batch of input: an exclusive section may stay taken */
    int excl_held;               /* ... and is (command_batch_end lets it go) */
} cmd_env;

/* Where replies go: bytes are appended to out; a big value may instead be
 * sent from where it is stored, if the sink can (slice is not NULL): it
 * goes out after what out holds now, and release(owner) is called once it
 * is sent or dropped. */
typedef struct cmd_sink {
    buf *out;
    void (*slice)(void *ctx, const char *p, size_t n, void (*release)(void *), void *owner);
    void *ctx;
} cmd_sink;

struct cmd_call {
    session *s;
    cmd_env *env;
    keyspace *ks;
    const cmd_def *def;
    int argc;
    const karg *argv;
    buf *out;                 /* sink->out */
    cmd_sink *sink;
    int64_t now;              /* ms; one snapshot per command */
};

/* Redis 7.0's mstime(), which TTLs are reckoned from: x->now, but in a
 * script the real clock, the script's snapshot deciding only what has
 * expired (so a PTTL there counts down while EXISTS still sees the key). */
int64_t cmd_clock(const cmd_call *x);

/* Where a push goes (pub/sub's confirmations): the client's output, even
 * while CLIENT REPLY drops the command's replies. */
buf *cmd_push_out(cmd_call *x);

/* CLIENT PAUSE: until end_ms (wall clock), clients' commands of the kind
 * paused wait, parked as blocked ones are, and then run from the start,
 * checks and all. PAUSE_WRITE holds writes, what may replicate, and an
 * EXEC that queued either; PAUSE_ALL holds every command. A new pause only
 * widens the one in force (the later end, the wider kind); CLIENT UNPAUSE
 * ends it. Meanwhile the sweep expires nothing. */
#define PAUSE_WRITE 1
#define PAUSE_ALL 2
/* (returns the end of the pause in force) */
int64_t command_pause(int kind, int64_t end_ms, int64_t now_ms);
void command_unpause(void);
int command_paused(int64_t now_ms);
extern atomic_int command_postponed;   /* sessions parked by a pause, on every worker */

/* DEBUG SET-ACTIVE-EXPIRE: 0 stops the sweep (keys then expire when read). */
extern atomic_int command_active_expire;

/* Build the lookup table; call once at start-up. */
void command_init(void);
/* Run (or queue, inside MULTI) one parsed request for session s. */
void command_exec(cmd_env *env, session *s, cmd_sink *sink, int argc, const karg *argv,
                  int64_t now_ms);
/* A script has run past busy-reply-threshold (COMMAND_BUSY_SCRIPT, or
 * _FUNCTION for FCALL), 0 otherwise: workers then stop waiting for their
 * gate and run input with command_exec_busy, which answers -BUSY to all
 * but what Redis allows then (SCRIPT KILL, SHUTDOWN NOSAVE, MULTI ...). */
#define COMMAND_BUSY_SCRIPT 1
#define COMMAND_BUSY_FUNCTION 2
extern atomic_int command_busy;
extern atomic_int command_busy_worker;   /* the worker running it */
/* The -BUSY text for a command refused meanwhile (kind: command_busy). */
const char *command_busy_text(int kind);
void command_exec_busy(cmd_env *env, session *s, cmd_sink *sink, int argc, const karg *argv,
                       int64_t now_ms);
/* The end of a batch of input (excl_batch): an exclusive section its
 * commands left taken is let go. */
void command_batch_end(cmd_env *env);
/* Run a command that has already passed the checks (used by EXEC). */
void command_call(cmd_env *env, session *s, cmd_sink *sink, const cmd_def *def, int argc,
                  const karg *argv, int64_t now);
/* Replay a write read back from the AOF (a collection write's effect) in
 * domain d, with no client: returns 0, or -1 when it is no such write or
 * it fails (the file is then not trusted). */
int command_replay(cmd_env *env, domain *d, int argc, const karg *argv, int64_t now);

/* Memory is over maxmemory even after evicting what can be (Redis's
 * check before a command that may grow it). */
int command_over_maxmemory(cmd_env *env);

/* Blocking commands. A blocking command that finds nothing calls
 * cmd_block, which parks it on its keys (inside EXEC, or with no bus, it
 * answers at once: a null bulk with null_bulk, else a null array; a
 * timeout is always a null array). A write to one of them asks the
 * session's worker to run it again (command_retry): served, it leaves the
 * keys (and signals them for the next waiter); else it waits on. */
void cmd_block(cmd_call *x, const karg *keys, int nkeys, int64_t deadline, int null_bulk);
/* The same, parking argv instead of the call's own (XREAD's "$" made the ID
 * it stood for when the client blocked). */
void cmd_block_argv(cmd_call *x, const karg *keys, int nkeys, int64_t deadline, int null_bulk,
                    int argc, const karg *argv);
/* Run the parked command again; 1 when it was served (or the session is
 * not blocked), 0 when it waits on. */
int command_retry(cmd_env *env, session *s, cmd_sink *sink, int64_t now);
/* Its timeout passed (or CLIENT UNBLOCK): the null reply, or err as the
 * error, and it stops waiting. */
void command_block_timeout(cmd_env *env, session *s, cmd_sink *sink, const char *err);
/* It stops waiting with no reply (the connection goes). */
void command_unblock(cmd_env *env, session *s);
/* A blocking command's timeout argument, in seconds as a double (Redis's
 * checks and texts): the deadline in ms, 0 for none. -1 after replying. */
int arg_timeout(cmd_call *x, int i, int64_t *deadline);
const cmd_def *command_lookup(const char *name, size_t len);
/* A row by name, "container|sub" for a subcommand (case-insensitive);
 * *parent gets the container of a subcommand (else NULL). */
const cmd_def *command_lookup_full(const char *name, size_t len, const cmd_def **parent);
/* The row a request names: its subcommand's for a container (NULL for an
 * unknown one), the container's when it has no subcommand argument. */
const cmd_def *command_find(int argc, const karg *argv);
/* Iterate the commands: NULL past the end. */
const cmd_def *command_at(size_t i);
size_t command_count(void);
/* "container|sub" for a subcommand (buf of 64 bytes), else the name. */
const char *command_fullname(const cmd_def *parent, const cmd_def *d, char *buf, size_t len);
/* The container a subcommand's row belongs to, or NULL (not fast). */
const cmd_def *command_parent(const cmd_def *d);
/* The ACL categories of a row, with those its flags imply. */
unsigned command_categories(const cmd_def *d);
/* The name of category bit i, or NULL. */
const char *command_category_name(int i);

/* ---- helpers for handlers ---- */

static inline void reply_ok(cmd_call *x) { buf_append(x->out, "+OK\r\n", 5); }
static inline void reply_err(cmd_call *x, const char *msg) { resp_error(x->out, msg); }
static inline void reply_syntax(cmd_call *x) { resp_error(x->out, "ERR syntax error"); }
/* A write that found no memory for what it builds outside the segments; it
 * changed nothing. */
static inline void reply_nomem(cmd_call *x) { resp_error(x->out, "OOM out of memory while writing"); }
static inline void reply_not_int(cmd_call *x)
{
    resp_error(x->out, "ERR value is not an integer or out of range");
}
static inline void reply_not_float(cmd_call *x)
{
    resp_error(x->out, "ERR value is not a valid float");
}
void reply_arity(cmd_call *x);

/* Replies in the client's protocol: RESP3's types, or their RESP2 forms. */
static inline int call_resp3(const cmd_call *x) { return x->s->resp == 3; }
/* No value: $-1 (RESP2), _ (RESP3). */
static inline void reply_null(cmd_call *x)
{
    if (call_resp3(x)) resp3_null(x->out);
    else resp_null(x->out);
}
/* No array: *-1 (RESP2), _ (RESP3). */
static inline void reply_null_array(cmd_call *x)
{
    if (call_resp3(x)) resp3_null(x->out);
    else resp_null_array(x->out);
}
/* A map of n pairs: a flat array of 2n elements in RESP2. */
static inline void reply_map(cmd_call *x, long long n)
{
    if (call_resp3(x)) resp_agg(x->out, '%', n);
    else resp_array(x->out, 2 * n);
}
/* A set of n members: an array in RESP2. */
static inline void reply_set(cmd_call *x, long long n)
{
    if (call_resp3(x)) resp_agg(x->out, '~', n);
    else resp_array(x->out, n);
}
/* An array of n pairs (WITHSCORES, WITHVALUES): flat in RESP2, each pair a
 * two-element array in RESP3 (reply_pair before each). */
static inline void reply_pairs(cmd_call *x, long long n) { resp_array(x->out, call_resp3(x) ? n : 2 * n); }
static inline void reply_pair(cmd_call *x)
{
    if (call_resp3(x)) resp_array(x->out, 2);
}
/* A map or set whose size is known once written: reply_agg_defer, then
 * reply_map_fill(pairs) or reply_set_fill. */
static inline size_t reply_agg_defer(cmd_call *x) { return resp_array_defer(x->out); }
static inline void reply_map_fill(cmd_call *x, size_t token, long long n)
{
    if (call_resp3(x)) resp_agg_fill(x->out, token, '%', n);
    else resp_array_fill(x->out, token, 2 * n);
}
static inline void reply_set_fill(cmd_call *x, size_t token, long long n)
{
    resp_agg_fill(x->out, token, call_resp3(x) ? '~' : '*', n);
}
/* Text for people (INFO, CLIENT INFO): a bulk, a verbatim "txt" in RESP3. */
static inline void reply_verbatim(cmd_call *x, const char *p, size_t n)
{
    if (call_resp3(x)) resp3_verbatim(x->out, "txt", p, n);
    else resp_bulk(x->out, p, n);
}
/* "ERR unknown subcommand or wrong number of arguments for '<sub>'. Try
 * <CMD> HELP." */
void reply_subcmd_syntax(cmd_call *x);
/* A value as a bulk string; 2 KB+ values are sent without a copy when the
 * sink can. Call under the item's shard lock. */
void reply_value(cmd_call *x, item *it);
void reply_domains_full(cmd_call *x);
/* A HELP reply: the lines as an array of simple strings. */
void reply_lines(cmd_call *x, const char *const *lines, size_t n);
/* "ERR invalid expire time in '<cmd>' command" */
void reply_bad_expire(cmd_call *x);

/* Parse argv[i] as a long long; on failure reply and return -1. */
int arg_ll(cmd_call *x, int i, long long *v);
/* Case-insensitive comparison of argv[i] with a literal. */
static inline int arg_is(cmd_call *x, int i, const char *lit)
{
    size_t n = __builtin_strlen(lit);   /* a constant: most arguments fail here */
    return x->argv[i].n == n && strncasecmp(x->argv[i].p, lit, n) == 0;
}
/* ks_hash of a key among the arguments, from the lookahead's hints when it
 * has it. */
static inline uint64_t arg_hash(cmd_env *env, const char *key, size_t klen)
{
    /* newest first: the request running was peeked at one or two steps ago */
    for (unsigned j = 1; j <= env->hint_live; j++) {
        const key_hint *k = &env->hints[(env->hint_next - j) % KEY_HINTS];
        if (k->key == key && k->klen == klen) return k->h;
    }
    return ks_hash(env->ks, key, klen);
}
/* The selected domain of the call's session. */
static inline domain *call_domain(const cmd_call *x) { return x->s->db; }
/* A kref for argv[i] in the selected domain. */
static inline void arg_ref(cmd_call *x, int i, kref *r)
{
    const karg *a = &x->argv[i];
    ks_ref_hashed(x->ks, call_domain(x), a->p, a->n, arg_hash(x->env, a->p, a->n), r);
}

/* Lock the shards of the keys argv[first], argv[first+step], ... together
 * and return their krefs, in argument order (the caller frees the array
 * after ks_lockset_unlock). */
kref *arg_lock_keys(cmd_call *x, int first, int step, ks_lockset *ls);

/* The arguments a key spec names: first..last by step; -1 when it names
 * none here (or cannot say without running the command). */
int cmd_keyspec_range(const cmd_keyspec *k, int argc, const karg *argv, int *first, int *last, int *step);

/* Client-side caching (tracking.c): CLIENT's subcommands; what a tracking
 * client read, remembered after the command; a message for a session; the
 * session going; the store's changes told to the table. */
void client__tracking(cmd_call *x);
void client__caching(cmd_call *x);
void client__getredir(cmd_call *x);
void client__trackinginfo(cmd_call *x);
/* CLIENT INFO, LIST, KILL and HELP (clients.c). */
void client__info(cmd_call *x);
void client__list(cmd_call *x);
void client__kill(cmd_call *x);
void client__help(cmd_call *x);
void tracking_after(cmd_call *x);
void tracking_deliver(cmd_env *env, session *s, buf *out, const struct ps_msg *m);
void tracking_session_end(cmd_env *env, session *s);
void tracking_attach(keyspace *ks, struct tracking *t);

/* The families (each file's rows). */
extern const cmd_family cmd_family_strings, cmd_family_keys, cmd_family_server,
    cmd_family_connection, cmd_family_transactions, cmd_family_introspection,
    cmd_family_hashes, cmd_family_zsets;
extern const cmd_family cmd_family_sets;
extern const cmd_family cmd_family_lists;
extern const cmd_family cmd_family_bits;
extern const cmd_family cmd_family_sort;
extern const cmd_family cmd_family_dump;
extern const cmd_family cmd_family_debug;
extern const cmd_family cmd_family_hll;
extern const cmd_family cmd_family_streams;
extern const cmd_family cmd_family_geo;
extern const cmd_family cmd_family_pubsub;
extern const cmd_family cmd_family_scripting;
extern const cmd_family cmd_family_functions;

/* FUNCTION's libraries as records for a snapshot (functions.c). */
void functions_snapshot(buf *records);
/* INFO memory's lines on scripting (scripting.c). */
void scripting_info(buf *out);
/* SHUTDOWN NOSAVE while a script is busy: the script stops at once, and
 * its worker shuts the server down without saving. */
void scripting_stop_for_shutdown(void);
/* INFO text for the given sections ("" or "default" = the usual ones). */
void info_build(cmd_env *env, const karg *sections, int nsections, buf *out);
/* INFO's instantaneous figures (ops/s, input and output kbps): worker 0
 * samples the counters every 100 ms, INFO shows the mean of the last 16. */
void info_sample(cmd_env *env, int64_t now_ms);
/* Time the expiry sweep has taken, in microseconds (its workers add it). */
extern atomic_ullong command_expire_us;
/* CONFIG RESETSTAT: INFO's counters start again from zero. */
void info_resetstat(cmd_env *env);

#endif
