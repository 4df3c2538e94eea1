/* cmd_server.c - server and connection-level commands: PING, SELECT,
 * AUTH/HELLO, FLUSH*, SHUTDOWN, TIME, INFO, CONFIG, COMMAND, MEMORY. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cmd/command.h"
#include "lib/log.h"
#include "lib/version.h"

int client_set_name(cmd_call *x, const karg *name);   /* cmd_conn.c */

void cmd_ping(cmd_call *x)
{
    if (x->argc > 2) reply_arity(x);
    else if (x->argc == 2) resp_bulk(x->out, x->argv[1].p, x->argv[1].n);
    else resp_simple(x->out, "PONG");
}

void cmd_echo(cmd_call *x) { resp_bulk(x->out, x->argv[1].p, x->argv[1].n); }

void cmd_select(cmd_call *x)
{
    domain *d;
    if (x->argv[1].n > KS_DOMAIN_NAME_MAX) {
        reply_err(x, "ERR domain name is longer than 256 bytes");
        return;
    }
    if (x->argv[1].n == 0) {
        reply_err(x, "ERR the domain name is empty");
        return;
    }
    d = ks_domain_get(x->ks, x->argv[1].p, x->argv[1].n);
    conn_set_domain(x->c, d);
    reply_ok(x);
}

static int flush_flags_ok(cmd_call *x)
{
    if (x->argc == 1 || (x->argc == 2 && (arg_is(x, 1, "sync") || arg_is(x, 1, "async"))))
        return 1;
    reply_syntax(x);
    return 0;
}

void cmd_flushdb(cmd_call *x)
{
    if (!flush_flags_ok(x)) return;
    ks_flush(x->ks, x->c->db);
    reply_ok(x);
}

static void flush_one(domain *d, void *opaque) { ks_flush(((cmd_call *)opaque)->ks, d); }

void cmd_flushall(cmd_call *x)
{
    if (!flush_flags_ok(x)) return;
    ks_foreach_domain(x->ks, flush_one, x);
    reply_ok(x);
}

void cmd_time(cmd_call *x)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    resp_array(x->out, 2);
    resp_bulk_ll(x->out, (long long)tv.tv_sec);
    resp_bulk_ll(x->out, (long long)tv.tv_usec);
}

void cmd_lastsave(cmd_call *x) { resp_int(x->out, persist_lastsave(x->srv)); }

void cmd_save(cmd_call *x)
{
    char msg[512];
    if (persist_save(x->srv, x->c->w, msg, sizeof msg) < 0) reply_err(x, msg);
    else reply_ok(x);
}

void cmd_bgsave(cmd_call *x)
{
    char msg[512];
    int schedule = 0;
    if (x->argc > 2 || (x->argc == 2 && !(schedule = arg_is(x, 1, "schedule")))) {
        reply_syntax(x);
        return;
    }
    if (persist_bgsave(x->srv, x->c->w, schedule, msg, sizeof msg) < 0) reply_err(x, msg);
    else resp_simple(x->out, msg);
}

void cmd_bgrewriteaof(cmd_call *x)
{
    char msg[512];
    if (persist_bgrewriteaof(x->srv, x->c->w, msg, sizeof msg) < 0) reply_err(x, msg);
    else resp_simple(x->out, msg);
}

void cmd_shutdown(cmd_call *x)
{
    int nosave = 0, save = 0, abort_ = 0, other = 0, force = 0;
    for (int i = 1; i < x->argc; i++) {
        if (arg_is(x, i, "nosave")) nosave = 1;
        else if (arg_is(x, i, "save")) save = 1;
        else if (arg_is(x, i, "now")) other = 1;
        else if (arg_is(x, i, "force")) other = force = 1;
        else if (arg_is(x, i, "abort")) abort_ = 1;
        else {
            reply_syntax(x);
            return;
        }
    }
    if ((abort_ && (nosave || save || other)) || (nosave && save)) {
        reply_err(x, "ERR Illegal combination of options");
        return;
    }
    if (abort_) {
        reply_err(x, "ERR No shutdown in progress.");
        return;
    }
    log_warn("User requested shutdown...");
    /* Every other worker is paused (CMD_EXCLUSIVE): the final save sees
     * every acknowledged write, and none runs after it. */
    if (persist_shutdown(x->srv, x->c->w, nosave ? -1 : save ? 1 : force ? 2 : 0) < 0) {
        reply_err(x, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    atomic_store(&x->srv->exiting, 1);
    server_stop(x->srv);
    /* Like Redis, a successful SHUTDOWN sends no reply: the connection closes. */
    x->c->flags |= CONN_CLOSING;
}

/* Compare without leaking where the first difference is. */
static int secret_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = alen != blen;
    for (size_t i = 0; i < alen; i++) diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0;
}

/* Check a user/password pair against requirepass; 0 on success. A
 * failure is logged, at most a few times a second. */
static int check_auth(cmd_call *x, const karg *user, const karg *pass)
{
    static util_ratelimit rl = UTIL_RATELIMIT_INIT(10);
    char *rp = config_str(&x->srv->cfg, &x->srv->cfg.requirepass);
    int ok = !(user && !(user->n == 7 && memcmp(user->p, "default", 7) == 0)) &&
             (!rp[0] /* the default user has no password */ ||
              secret_eq(pass->p, pass->n, rp, strlen(rp)));
    free(rp);
    if (!ok) {
        unsigned long long missed;
        if (util_ratelimit_take(&rl, &missed))
            log_warn("Failed AUTH from client id=%llu addr=%s%s", (unsigned long long)x->c->id,
                     x->c->peer, missed ? " (more failures were not logged)" : "");
    }
    return ok ? 0 : -1;
}

void cmd_auth(cmd_call *x)
{
    const karg *user = NULL, *pass;
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    if (x->argc == 2) {
        if (!atomic_load(&x->srv->auth_required)) {
            reply_err(x, "ERR AUTH <password> called without any password configured for the "
                         "default user. Are you sure your configuration is correct?");
            return;
        }
        pass = &x->argv[1];
    } else {
        user = &x->argv[1];
        pass = &x->argv[2];
    }
    if (check_auth(x, user, pass) == 0) {
        x->c->flags |= CONN_AUTHED;
        reply_ok(x);
    } else {
        reply_err(x, "WRONGPASS invalid username-password pair or user is disabled.");
    }
}

void cmd_hello(cmd_call *x)
{
    long long ver = 0;
    int j = 1;
    const karg *user = NULL, *pass = NULL, *name = NULL;
    if (x->argc >= 2) {
        if (util_str2ll(x->argv[1].p, x->argv[1].n, &ver) < 0) {
            reply_err(x, "ERR Protocol version is not an integer or out of range");
            return;
        }
        j = 2;
        if (ver < 2 || ver > 3) {
            reply_err(x, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (; j < x->argc; j++) {
        int more = x->argc - 1 - j;
        if (arg_is(x, j, "auth") && more >= 2) {
            user = &x->argv[j + 1];
            pass = &x->argv[j + 2];
            j += 2;
        } else if (arg_is(x, j, "setname") && more) {
            name = &x->argv[++j];
        } else {
            resp_errorf(x->out, "ERR Syntax error in HELLO option '%.*s'", (int)x->argv[j].n,
                        x->argv[j].p);
            return;
        }
    }
    /* The password is checked first, but takes effect only once nothing
     * else can fail: a refused HELLO changes nothing. */
    if (user && check_auth(x, user, pass) < 0) {
        reply_err(x, "WRONGPASS invalid username-password pair or user is disabled.");
        return;
    }
    if (!user && !(x->c->flags & CONN_AUTHED)) {
        reply_err(x, "NOAUTH HELLO must be called with the client already authenticated, "
                     "otherwise the HELLO AUTH <user> <pass> option can be used to "
                     "authenticate the client and select the RESP protocol version at the same "
                     "time");
        return;
    }
    if (ver == 3) {
        /* Kasi speaks RESP2 only; clients fall back to it on this error. */
        reply_err(x, "NOPROTO sorry, this protocol version is not supported.");
        return;
    }
    if (user) x->c->flags |= CONN_AUTHED;
    if (name && client_set_name(x, name) < 0) return;
    resp_array(x->out, 14);
    resp_bulk_cstr(x->out, "server");
    resp_bulk_cstr(x->out, "redis");
    resp_bulk_cstr(x->out, "version");
    resp_bulk_cstr(x->out, KASI_REDIS_VERSION);
    resp_bulk_cstr(x->out, "proto");
    resp_int(x->out, 2);
    resp_bulk_cstr(x->out, "id");
    resp_int(x->out, (long long)x->c->id);
    resp_bulk_cstr(x->out, "mode");
    resp_bulk_cstr(x->out, "standalone");
    resp_bulk_cstr(x->out, "role");
    resp_bulk_cstr(x->out, "master");
    resp_bulk_cstr(x->out, "modules");
    resp_array(x->out, 0);
}

void cmd_info(cmd_call *x)
{
    buf text = {0};
    info_build(x->srv, x->c, x->argv + 1, x->argc - 1, &text);
    resp_bulk(x->out, text.data, text.len);
    buf_free(&text);
}

void cmd_config_get(cmd_call *x)
{
    size_t token = resp_array_defer(x->out);
    int n = x->argc - 2;
    const char **pats = xmalloc(sizeof(char *) * (size_t)n);
    size_t *lens = xmalloc(sizeof(size_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        pats[i] = x->argv[i + 2].p;
        lens[i] = x->argv[i + 2].n;
    }
    resp_array_fill(x->out, token, config_get(&x->srv->cfg, pats, lens, n, x->out));
    free(pats);
    free(lens);
}

void cmd_config_set(cmd_call *x)
{
    int n = (x->argc - 2) / 2;
    long long prot = cfg_ll(&x->srv->cfg.enable_protected_configs);   /* no yes local */
    cfg_pair *pairs;
    char err[600];
    if (x->argc % 2) {
        reply_syntax(x);
        return;
    }
    pairs = xmalloc(sizeof *pairs * (size_t)n);
    for (int i = 0; i < n; i++)
        pairs[i] = (cfg_pair){x->argv[2 + 2 * i].p, x->argv[3 + 2 * i].p, x->argv[2 + 2 * i].n,
                              x->argv[3 + 2 * i].n};
    if (config_set_many(&x->srv->cfg, pairs, n, prot == 1 || (prot == 2 && (x->c->flags & CONN_LOCAL)),
                        x->c->w, err, sizeof err) < 0)
        reply_err(x, err);
    else
        reply_ok(x);
    free(pairs);
}

static void command_info_one(cmd_call *x, const cmd_def *d)
{
    static const struct { unsigned flag; const char *name; } names[] = {
        {CMD_WRITE, "write"}, {CMD_READONLY, "readonly"}, {CMD_ADMIN, "admin"},
        {CMD_NOAUTH, "no_auth"}, {CMD_FAST, "fast"},
    };
    int nflags = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) nflags += !!(d->flags & names[i].flag);
    resp_array(x->out, 10);
    resp_bulk_cstr(x->out, d->name);
    resp_int(x->out, d->arity);
    resp_array(x->out, nflags);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (d->flags & names[i].flag) resp_simple(x->out, names[i].name);
    resp_int(x->out, d->first_key);
    resp_int(x->out, d->last_key);
    resp_int(x->out, d->key_step);
    for (int i = 0; i < 4; i++) resp_array(x->out, 0);   /* acl, tips, key specs, subcommands */
}

void cmd_command(cmd_call *x)
{
    resp_array(x->out, (long long)command_count());
    for (size_t i = 0; i < command_count(); i++) command_info_one(x, command_at(i));
}

void cmd_command_count(cmd_call *x) { resp_int(x->out, (long long)command_count()); }

void cmd_command_info(cmd_call *x)
{
    resp_array(x->out, x->argc - 2);
    for (int i = 2; i < x->argc; i++) {
        const cmd_def *d = command_lookup(x->argv[i].p, x->argv[i].n);
        if (d) command_info_one(x, d);
        else resp_null_array(x->out);
    }
}

/* Kasi keeps no command documentation; an empty map tells redis-cli to
 * use its built-in hints. */
void cmd_command_docs(cmd_call *x) { resp_array(x->out, 0); }

void cmd_command_list(cmd_call *x)
{
    resp_array(x->out, (long long)command_count());
    for (size_t i = 0; i < command_count(); i++) resp_bulk_cstr(x->out, command_at(i)->name);
}

void cmd_memory_usage(cmd_call *x)
{
    kref r;
    item *it;
    long long n = 0;
    if (x->argc != 3 && !(x->argc == 5 && arg_is(x, 3, "samples"))) {
        reply_syntax(x);
        return;
    }
    arg_ref(x, 2, &r);
    ks_lock(&r);
    it = ks_find(&r, x->now);
    /* the item's allocation plus its table slot at the average load factor */
    if (it) n = (long long)item_footprint(it) + 12;
    ks_unlock(&r);
    if (it) resp_int(x->out, n);
    else resp_null(x->out);
}
