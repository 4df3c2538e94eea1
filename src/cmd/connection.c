/* connection.c - the commands of a client's own state: PING, ECHO, SELECT,
 * AUTH, HELLO, QUIT, RESET and CLIENT (whose INFO, LIST, KILL and HELP are
 * in clients.c). Redis 7.0's replies and error texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "cmd/session.h"
#include "lib/log.h"
#include "lib/version.h"

static int client_set_name(cmd_call *x, const karg *name);

static void cmd_ping(cmd_call *x)
{
    if (x->argc > 2) {
        reply_arity(x);
    } else if (x->s->resp == 2 && session_subscribed(x->s)) {
        /* a reply a subscriber tells from the pushes around it */
        resp_array(x->out, 2);
        resp_bulk(x->out, "pong", 4);
        resp_bulk(x->out, x->argc == 2 ? x->argv[1].p : "", x->argc == 2 ? x->argv[1].n : 0);
    } else if (x->argc == 2) resp_bulk(x->out, x->argv[1].p, x->argv[1].n);
    else resp_simple(x->out, "PONG");
}

static void cmd_echo(cmd_call *x) { resp_bulk(x->out, x->argv[1].p, x->argv[1].n); }

static void cmd_select(cmd_call *x)
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
    session_set_domain(x->s, x->ks, d);
    reply_ok(x);
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
    char *rp = config_str(x->env->cfg, &x->env->cfg->requirepass);
    int ok = !(user && !(user->n == 7 && memcmp(user->p, "default", 7) == 0)) &&
             (!rp[0] /* the default user has no password */ ||
              secret_eq(pass->p, pass->n, rp, strlen(rp)));
    free(rp);
    if (!ok) {
        unsigned long long missed;
        if (util_ratelimit_take(&rl, &missed))
            log_warn("Failed AUTH from client id=%llu addr=%s%s", (unsigned long long)x->s->id,
                     x->s->peer, missed ? " (more failures were not logged)" : "");
    }
    return ok ? 0 : -1;
}

static void cmd_auth(cmd_call *x)
{
    const karg *user = NULL, *pass;
    if (x->argc > 3) {
        reply_syntax(x);
        return;
    }
    if (x->argc == 2) {
        if (!atomic_load(x->env->host->auth_required)) {
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
        x->s->flags |= SESS_AUTHED;
        reply_ok(x);
    } else {
        reply_err(x, "WRONGPASS invalid username-password pair or user is disabled.");
    }
}

static void cmd_hello(cmd_call *x)
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
    if (!user && !(x->s->flags & SESS_AUTHED)) {
        reply_err(x, "NOAUTH HELLO must be called with the client already authenticated, "
                     "otherwise the HELLO AUTH <user> <pass> option can be used to "
                     "authenticate the client and select the RESP protocol version at the same "
                     "time");
        return;
    }
    if (user) x->s->flags |= SESS_AUTHED;
    if (name && client_set_name(x, name) < 0) return;
    if (ver) x->s->resp = (int)ver;
    reply_map(x, 7);
    resp_bulk_cstr(x->out, "server");
    resp_bulk_cstr(x->out, "redis");
    resp_bulk_cstr(x->out, "version");
    resp_bulk_cstr(x->out, KASI_REDIS_VERSION);
    resp_bulk_cstr(x->out, "proto");
    resp_int(x->out, x->s->resp);
    resp_bulk_cstr(x->out, "id");
    resp_int(x->out, (long long)x->s->id);
    resp_bulk_cstr(x->out, "mode");
    resp_bulk_cstr(x->out, "standalone");
    resp_bulk_cstr(x->out, "role");
    resp_bulk_cstr(x->out, "master");
    resp_bulk_cstr(x->out, "modules");
    resp_array(x->out, 0);
}

static void cmd_quit(cmd_call *x)
{
    reply_ok(x);
    x->s->flags |= SESS_CLOSE;
}

static void cmd_reset(cmd_call *x)
{
    session *c = x->s;
    session_discard_multi(c);
    ks_unwatch_all(x->ks, &c->watch);
    ps_client_free(x->env->bus, c->sub);
    c->sub = NULL;
    session_set_domain(c, x->ks, ks_default(x->ks));
    ks_domain_hold(c->db);
    free(c->name);
    c->name = NULL;
    c->resp = 2;
    c->flags &= ~(SESS_REPLY_OFF | SESS_REPLY_SKIP_NEXT);   /* as Redis: a running SKIP stays */
    tracking_session_end(x->env, c);
    if (atomic_load(x->env->host->auth_required)) c->flags &= ~SESS_AUTHED;
    resp_simple(x->out, "RESET");
}

/* Redis's rule: names are printable ASCII without spaces. */
static int valid_name(const karg *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->p[i] < '!' || a->p[i] > '~') return 0;
    return 1;
}

static int client_set_name(cmd_call *x, const karg *name)
{
    session *c = x->s;
    if (!valid_name(name)) {
        reply_err(x, "ERR Client names cannot contain spaces, newlines or special characters.");
        return -1;
    }
    free(c->name);
    c->name = NULL;
    if (name->n) {
        c->name = xmalloc(name->n + 1);
        memcpy(c->name, name->p, name->n);
        c->name[name->n] = '\0';
    }
    return 0;
}

static void cmd_client_setname(cmd_call *x)
{
    if (client_set_name(x, &x->argv[2]) == 0) reply_ok(x);
}

static void cmd_client_getname(cmd_call *x)
{
    if (x->s->name) resp_bulk_cstr(x->out, x->s->name);
    else reply_null(x);
}

static void cmd_client_id(cmd_call *x) { resp_int(x->out, (long long)x->s->id); }

/* CLIENT UNBLOCK id [TIMEOUT|ERROR]: a client blocked on any worker is
 * sent the word; its worker answers for it, as the timeout would (or with
 * Redis's error). 1 when it was blocked. */
static void cmd_client_unblock(cmd_call *x)
{
    static const char unblocked[] = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
    long long id;
    int error = 0;
    long st;
    if (x->argc > 4) {
        reply_subcmd_syntax(x);
        return;
    }
    if (x->argc == 4) {
        if (arg_is(x, 3, "error")) {
            error = 1;
        } else if (!arg_is(x, 3, "timeout")) {
            reply_err(x, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    if (arg_ll(x, 2, &id) < 0) return;
    st = x->env->bus ? ps_state_of(x->env->bus, (uint64_t)id) : -1;
    if (st < 0 || !(st & PS_ST_BLOCKED)) {
        resp_int(x->out, 0);
        return;
    }
    ps_post(x->env->bus, (uint64_t)id,
            ps_msg_new(PS_MSG_UNBLOCK, x->s->id, error ? unblocked : "", error ? sizeof unblocked - 1 : 0));
    resp_int(x->out, 1);
}

/* CLIENT PAUSE timeout [WRITE|ALL]: the mode is read first, as Redis does. */
static void cmd_client_pause(cmd_call *x)
{
    long long ms;
    int kind = PAUSE_ALL;
    if (x->argc > 4) {
        reply_subcmd_syntax(x);
        return;
    }
    if (x->argc == 4) {
        if (arg_is(x, 3, "write")) {
            kind = PAUSE_WRITE;
        } else if (!arg_is(x, 3, "all")) {
            reply_err(x, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    if (util_str2ll(x->argv[2].p, x->argv[2].n, &ms) < 0) {
        reply_err(x, "ERR timeout is not an integer or out of range");
        return;
    }
    if (ms < 0) {
        reply_err(x, "ERR timeout is negative");
        return;
    }
    /* Redis adds the clock unchecked: a huge timeout wraps around to the
     * past, and pauses nothing */
    int64_t now = cmd_clock(x);
    /* exclusive: no write is under way when reads start to leave expired
     * keys in place (ks_keep_expired) */
    ks_keep_expired(x->ks, command_pause(kind, ms ? (int64_t)((uint64_t)ms + (uint64_t)now) : 0, now));
    reply_ok(x);
}

static void cmd_client_unpause(cmd_call *x)
{
    command_unpause();
    ks_keep_expired(x->ks, 0);
    reply_ok(x);
}

/* CLIENT REPLY ON|OFF|SKIP: OFF and SKIP reply nothing (the command layer
 * drops what a muted command writes); SKIP under OFF changes nothing. */
static void cmd_client_reply(cmd_call *x)
{
    session *s = x->s;
    if (arg_is(x, 2, "on")) {
        s->flags &= ~(SESS_REPLY_OFF | SESS_REPLY_SKIP);
        reply_ok(x);
    } else if (arg_is(x, 2, "off")) {
        s->flags |= SESS_REPLY_OFF;
    } else if (arg_is(x, 2, "skip")) {
        if (!(s->flags & SESS_REPLY_OFF)) s->flags |= SESS_REPLY_SKIP_NEXT;
    } else {
        reply_syntax(x);
    }
}

/* CLIENT NO-EVICT ON|OFF: Kasi evicts keys, never clients
 * (maxmemory-clients), so it is the flag CLIENT LIST shows. */
static void cmd_client_no_evict(cmd_call *x)
{
    if (arg_is(x, 2, "on")) x->s->flags |= SESS_NO_EVICT;
    else if (arg_is(x, 2, "off")) x->s->flags &= ~SESS_NO_EVICT;
    else {
        reply_syntax(x);
        return;
    }
    reply_ok(x);
}

#define F CMD_FAST
#define CN CAT_CONNECTION
/* loading and stale, which Redis shows for commands it serves while it
 * loads data or serves stale data as a replica */
#define LS (CMD_LOADING | CMD_STALE)
#define NS (CMD_NOSCRIPT | LS)

static const cmd_def client_subs[] = {
    {"setname", cmd_client_setname, 3, NS, CN, NOKEYS, "connection", "2.6.9", "O(1)", NULL, NULL},
    {"getname", cmd_client_getname, 2, NS, CN, NOKEYS, "connection", "2.6.9", "O(1)", NULL, NULL},
    {"id", cmd_client_id, 2, NS, CN, NOKEYS, "connection", "5.0.0", "O(1)", NULL, NULL},
    {"info", client__info, 2, NS, CN, NOKEYS, "connection", "6.2.0", "O(1)",
     "nondeterministic_output", NULL},
    {"tracking", client__tracking, -3, NS, CN, NOKEYS, "connection", "6.0.0",
     "O(1). Some options may introduce additional complexity.", NULL, NULL},
    {"caching", client__caching, 3, NS, CN, NOKEYS, "connection", "6.0.0", "O(1)", NULL, NULL},
    {"getredir", client__getredir, 2, NS, CN, NOKEYS, "connection", "6.0.0", "O(1)", NULL, NULL},
    {"trackinginfo", client__trackinginfo, 2, NS, CN, NOKEYS, "connection", "6.2.0", "O(1)", NULL, NULL},
    {"unblock", cmd_client_unblock, -3, NS | CMD_ADMIN, CN | CAT_DANGEROUS, NOKEYS, "connection", "5.0.0",
     "O(log N) where N is the number of client connections", NULL, NULL},
    {"list", client__list, -2, NS | CMD_ADMIN | CMD_EXCLUSIVE, CN | CAT_DANGEROUS, NOKEYS, "connection",
     "2.4.0", "O(N) where N is the number of client connections", "nondeterministic_output", NULL},
    {"kill", client__kill, -3, NS | CMD_ADMIN | CMD_EXCLUSIVE, CN | CAT_DANGEROUS, NOKEYS, "connection",
     "2.4.0", "O(N) where N is the number of client connections", NULL, NULL},
    {"help", client__help, 2, LS, CN, NOKEYS, "connection", "5.0.0", "O(1)", NULL, NULL},
    {"pause", cmd_client_pause, -3, NS | CMD_ADMIN | CMD_EXCLUSIVE, CN | CAT_DANGEROUS, NOKEYS, "connection", "2.9.50",
     "O(1)", NULL, NULL},
    {"unpause", cmd_client_unpause, 2, NS | CMD_ADMIN | CMD_EXCLUSIVE, CN | CAT_DANGEROUS, NOKEYS, "connection", "6.2.0",
     "O(N) Where N is the number of paused clients", NULL, NULL},
    {"reply", cmd_client_reply, 3, NS, CN, NOKEYS, "connection", "3.2.0", "O(1)", NULL, NULL},
    {"no-evict", cmd_client_no_evict, 3, NS | CMD_ADMIN, CN | CAT_DANGEROUS, NOKEYS, "connection",
     "7.0.0", "O(1)", NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips, subcommands */
static const cmd_def rows[] = {
    {"ping", cmd_ping, -1, F | CMD_MISCONF | CMD_SUBCTX, CN, NOKEYS, "connection", "1.0.0", "O(1)",
     "request_policy:all_shards response_policy:all_succeeded", NULL},
    {"echo", cmd_echo, 2, LS | F, CN, NOKEYS, "connection", "1.0.0", "O(1)", NULL, NULL},
    {"select", cmd_select, 2, LS | F, CN, NOKEYS, "connection", "1.0.0", "O(1)", NULL, NULL},
    {"auth", cmd_auth, -2, NS | F | CMD_NOAUTH | CMD_ALLOW_BUSY, CN, NOKEYS, "connection",
     "1.0.0", "O(N)", NULL, NULL},
    {"hello", cmd_hello, -1, NS | F | CMD_NOAUTH | CMD_ALLOW_BUSY, CN, NOKEYS, "connection",
     "6.0.0", "O(1)", NULL, NULL},
    {"quit", cmd_quit, -1, NS | F | CMD_SUBCTX | CMD_NOAUTH | CMD_ALLOW_BUSY | CMD_NOQUEUE | CMD_OOM_OK, CN,
     NOKEYS, "connection", "1.0.0", "O(1)", NULL, NULL},
    {"reset", cmd_reset, 1, NS | F | CMD_SUBCTX | CMD_NOAUTH | CMD_ALLOW_BUSY | CMD_NOQUEUE | CMD_OOM_OK, CN,
     NOKEYS, "connection", "6.2.0", "O(1)", NULL, NULL},
    {"client", NULL, -2, 0, 0, NOKEYS, "connection", "2.4.0", "Depends on subcommand.", NULL,
     client_subs},
};

const cmd_family cmd_family_connection = CMD_FAMILY(rows);
