/* command.h - the command table and the machinery every command uses.
 *
 * A command is one row of the table in command.c: its name, handler,
 * arity (Redis's convention: N exactly, -N at least N), flags and key
 * positions. command_exec() does what Redis's processCommand does before a
 * handler runs (lookup, arity, AUTH, MULTI queueing), in Redis's order, so
 * the error replies match. Handlers live in cmd_*.c, one file per family. */
#ifndef KASI_COMMAND_H
#define KASI_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "server/conn.h"
#include "store/keyspace.h"
#include "proto/resp.h"
#include "server/server.h"
#include "lib/util.h"

#define CMD_WRITE 0x01u
#define CMD_READONLY 0x02u
#define CMD_NOAUTH 0x04u      /* allowed before AUTH */
#define CMD_NOQUEUE 0x08u     /* runs immediately even inside MULTI */
#define CMD_EXCLUSIVE 0x10u   /* runs with every other worker paused */
#define CMD_FAST 0x20u
#define CMD_ADMIN 0x40u
#define CMD_DENYOOM 0x80u    /* refused when memory is full and nothing can be evicted */
#define CMD_NOMULTI 0x100u   /* refused inside MULTI (SAVE, SHUTDOWN) */

typedef struct cmd_call {
    conn *c;
    server *srv;
    keyspace *ks;
    const struct cmd_def *def;
    int argc;
    const karg *argv;
    buf *out;
    int64_t now;   /* ms; one snapshot per command */
} cmd_call;

typedef void cmd_fn(cmd_call *x);

typedef struct cmd_def {
    const char *name;   /* lower case, as shown in errors */
    cmd_fn *fn;
    int arity;
    unsigned flags;
    int first_key, last_key, key_step;   /* as COMMAND reports them */
    const struct cmd_def *subs;          /* container commands: subcommands */
} cmd_def;

/* Build the lookup table; call once at start-up. */
void command_init(void);
/* Execute (or queue, inside MULTI) one parsed request. */
void command_exec(conn *c, int argc, const karg *argv, int64_t now_ms);
/* Run a command that has already passed the checks (used by EXEC). */
void command_call(conn *c, const cmd_def *def, int argc, const karg *argv, int64_t now);
const cmd_def *command_lookup(const char *name, size_t len);
/* Iterate the table: returns NULL past the end. */
const cmd_def *command_at(size_t i);
size_t command_count(void);

/* ---- helpers for handlers ---- */

static inline void reply_ok(cmd_call *x) { buf_append(x->out, "+OK\r\n", 5); }
static inline void reply_err(cmd_call *x, const char *msg) { resp_error(x->out, msg); }
static inline void reply_syntax(cmd_call *x) { resp_error(x->out, "ERR syntax error"); }
static inline void reply_not_int(cmd_call *x)
{
    resp_error(x->out, "ERR value is not an integer or out of range");
}
static inline void reply_not_float(cmd_call *x)
{
    resp_error(x->out, "ERR value is not a valid float");
}
void reply_arity(cmd_call *x);
/* A value as a bulk string; 2 KB+ values are sent without a copy. Call
 * under the item's shard lock. */
void reply_value(cmd_call *x, item *it);
void reply_domains_full(cmd_call *x);
/* "ERR invalid expire time in '<cmd>' command" */
void reply_bad_expire(cmd_call *x);

/* Parse argv[i] as a long long; on failure reply and return -1. */
int arg_ll(cmd_call *x, int i, long long *v);
/* Case-insensitive comparison of argv[i] with a literal. */
static inline int arg_is(cmd_call *x, int i, const char *lit)
{
    return util_eqi(x->argv[i].p, x->argv[i].n, lit);
}
/* A kref for argv[i] in the selected domain. */
static inline void arg_ref(cmd_call *x, int i, kref *r)
{
    const karg *a = &x->argv[i];
    ks_ref_hashed(x->ks, x->c->db, a->p, a->n, conn_key_hash(x->c, a->p, a->n), r);
}

/* Lock the shards of the keys argv[first], argv[first+step], ... together
 * and return their krefs, in argument order (the caller frees the array
 * after ks_lockset_unlock). */
kref *arg_lock_keys(cmd_call *x, int first, int step, ks_lockset *ls);

/* Handlers, by family. */
#define CMD_STRING_HANDLERS(X)                                                              \
    X(get) X(set) X(setnx) X(setex) X(psetex) X(getset) X(getdel) X(getex) X(append)       \
    X(strlen) X(getrange) X(setrange) X(incr) X(decr) X(incrby) X(decrby) X(incrbyfloat)   \
    X(mget) X(mset) X(msetnx) X(lcs)
#define CMD_KEYS_HANDLERS(X)                                                                \
    X(del) X(exists) X(touch) X(type) X(expire) X(pexpire) X(expireat) X(pexpireat) X(ttl)  \
    X(pttl) X(expiretime) X(pexpiretime) X(persist) X(keys) X(scan) X(randomkey)           \
    X(rename) X(renamenx) X(copy) X(move) X(dbsize)
#define CMD_SERVER_HANDLERS(X)                                                              \
    X(ping) X(echo) X(select) X(flushdb) X(flushall) X(info) X(time) X(shutdown) X(auth)    \
    X(hello) X(multi) X(exec) X(discard) X(watch) X(unwatch) X(command)                     \
    X(reset) X(lastsave) X(client_setname) X(client_getname) X(client_id) X(client_info)   \
    X(command_count) X(command_info) X(command_docs) X(command_list) X(config_get)         \
    X(config_set) X(memory_usage) X(save) X(bgsave) X(bgrewriteaof)

#define X(n) cmd_fn cmd_##n;
CMD_STRING_HANDLERS(X)
CMD_KEYS_HANDLERS(X)
CMD_SERVER_HANDLERS(X)
#undef X

/* INFO text for the given sections ("" or "default" = the usual ones). */
void info_build(server *srv, conn *c, const karg *sections, int nsections, buf *out);

#endif
