/* clients.c - CLIENT INFO, LIST, KILL and HELP: every connection seen
 * from one, with Redis 7.0's fields, filters, replies and error texts.
 *
 * Connections live on several workers. LIST and KILL run exclusive: no
 * other worker runs a command, and a worker closes a connection only
 * inside its gate, so every session the registry of clients by id lists
 * stays as it is meanwhile. A killed client on another worker is
 * sent PS_MSG_KILL and closed by its own worker; one killing itself gets
 * its reply, then the connection closes, as in Redis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "cmd/session.h"

/* Redis's client types, as TYPE names them. Kasi serves no replicas and
 * follows no master: those types match no client. */
enum { CT_NORMAL, CT_REPLICA, CT_PUBSUB, CT_MASTER };

static int type_by_name(const karg *a)
{
    static const struct { const char *name; int type; } names[] = {
        {"normal", CT_NORMAL}, {"slave", CT_REPLICA}, {"replica", CT_REPLICA},
        {"pubsub", CT_PUBSUB}, {"master", CT_MASTER},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (util_eqi(a->p, a->n, names[i].name)) return names[i].type;
    return -1;
}

static int type_of(const session *s) { return session_subscribed(s) ? CT_PUBSUB : CT_NORMAL; }

/* The printable prefix of an argument, as Redis's %s prints it. */
static int cstr_len(const karg *a)
{
    const char *z = memchr(a->p, '\0', a->n);
    return (int)(z ? (size_t)(z - a->p) : a->n);
}

static int type_arg(cmd_call *x, int i)
{
    int t = type_by_name(&x->argv[i]);
    if (t < 0) resp_errorf(x->out, "ERR Unknown client type '%.*s'", cstr_len(&x->argv[i]), x->argv[i].p);
    return t;
}

/* An address as Redis shows it: a unix socket's as its path and ":0". */
static const char *shown_addr(cmd_call *x, const char *a, char *out, size_t n)
{
    if (a[0] != '/') return a;
    snprintf(out, n, "%s:0", x->env->cfg->unixsocket);
    return out;
}

/* One client's line, Redis 7.0's fields in its order (catClientInfoString),
 * for session s as seen by the caller x. db is the domain's number, or -1
 * for a domain named by something other than a number. */
static void client_line(cmd_call *x, const session *s, buf *line)
{
    sess_conn_info ci = {.fd = -1, .laddr = "", .events = "r"};
    size_t argv_mem = 0, multi_mem = session_multi_mem(s);
    char flags[12], *f = flags, name[64], addr[300], laddr[300];
    const cmd_def *last = s->last_cmd;
    int multi = !!(s->flags & (SESS_MULTI | SESS_EXEC));   /* EXEC's commands see it as Redis's do */
    if (s == x->s)   /* the others' arguments are gone once their command ran */
        for (int i = 0; i < x->argc; i++) argv_mem += x->argv[i].n;
    if (s->ops) s->ops->describe(s, &ci);
    if (ps_client_count(s->sub, PS_MONITOR)) *f++ = 'O';
    if (session_subscribed(s)) *f++ = 'P';
    if (multi) *f++ = 'x';
    if (s->flags & SESS_BLOCKED) *f++ = 'b';
    if (s->trk & TRK_ON) *f++ = 't';
    if (s->trk & TRK_BROKEN) *f++ = 'R';
    if (s->trk & TRK_BCAST) *f++ = 'B';
    if (s->peer[0] == '/') *f++ = 'U';
    if (s->flags & SESS_NO_EVICT) *f++ = 'e';
    if (f == flags) *f++ = 'N';
    *f = '\0';
    buf_printf(line,
               "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%lld sub=%zu "
               "psub=%zu ssub=%zu multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu rbs=%zu "
               "rbp=%zu obl=%zu oll=%zu omem=%zu tot-mem=%zu events=%s cmd=%s "
               "user=default redir=%lld resp=%d\n",
               (unsigned long long)s->id, shown_addr(x, s->peer, addr, sizeof addr),
               shown_addr(x, ci.laddr, laddr, sizeof laddr), ci.fd, s->name ? s->name : "",
               (long long)(x->now - s->created_ms) / 1000, (long long)(x->now - s->last_ms) / 1000,
               flags, ks_domain_db_index(s->db), ps_client_count(s->sub, PS_CHANNEL),
               ps_client_count(s->sub, PS_PATTERN), ps_client_count(s->sub, PS_SHARD),
               multi ? s->mq_len : -1, ci.qbuf, ci.qbuf_free, argv_mem, multi_mem,
               ci.rbs, ci.rbs, ci.obl, ci.oll, ci.omem, ci.tot_mem + multi_mem, ci.events,
               last ? command_fullname(command_parent(last), last, name, sizeof name) : "NULL",
               s->trk & TRK_ON ? (long long)s->trk_redir : -1LL, s->resp);
}

void client__info(cmd_call *x)
{
    buf line = {0};
    client_line(x, x->s, &line);
    reply_verbatim(x, line.data, line.len);
    buf_free(&line);
}

/* Every client, by ascending id (the order Redis lists them in), those
 * already killed left out. With no registry (no connections) there is
 * only the caller. */
typedef struct clients {
    ps_client_ref *refs, self;
    size_t n;
} clients;

static void clients_begin(cmd_call *x, clients *cs)
{
    size_t k = 0;
    if (!x->env->bus) {
        cs->self = (ps_client_ref){x->s->id, x->s, NULL, 0};
        cs->refs = &cs->self;
        cs->n = 1;
        return;
    }
    cs->n = ps_clients_begin(x->env->bus, &cs->refs);
    for (size_t i = 0; i < cs->n; i++)
        if (!(cs->refs[i].state & PS_ST_KILLED)) cs->refs[k++] = cs->refs[i];
    cs->n = k;
}

static void clients_end(clients *cs)
{
    if (cs->refs != &cs->self) ps_clients_end(&cs->refs);
}

static const session *clients_find(const clients *cs, uint64_t id)
{
    size_t lo = 0, hi = cs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cs->refs[mid].id == id) return cs->refs[mid].owner;
        if (cs->refs[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* CLIENT LIST [TYPE type | ID id [id ...]]: as Redis, the IDs in the order
 * given (each time it is given), and one of TYPE or ID only. */
void client__list(cmd_call *x)
{
    int type = -1, by_id = 0;
    clients cs;
    buf out = {0};
    if (x->argc == 4 && arg_is(x, 2, "type")) {
        if ((type = type_arg(x, 3)) < 0) return;
    } else if (x->argc > 3 && arg_is(x, 2, "id")) {
        by_id = 1;
        for (int j = 3; j < x->argc; j++) {
            long long id;
            if (util_str2ll(x->argv[j].p, x->argv[j].n, &id) < 0) {
                reply_err(x, "ERR Invalid client ID");
                return;
            }
        }
    } else if (x->argc != 2) {
        reply_syntax(x);
        return;
    }
    clients_begin(x, &cs);
    if (by_id) {
        for (int j = 3; j < x->argc; j++) {
            long long id = 0;
            const session *s;
            util_str2ll(x->argv[j].p, x->argv[j].n, &id);
            if ((s = clients_find(&cs, (uint64_t)id))) client_line(x, s, &out);
        }
    } else {
        for (size_t i = 0; i < cs.n; i++)
            if (type < 0 || type_of(cs.refs[i].owner) == type) client_line(x, cs.refs[i].owner, &out);
    }
    clients_end(&cs);
    reply_verbatim(x, out.data ? out.data : "", out.len);
    buf_free(&out);
}

static int arg_eq(const karg *a, const char *z) { return a->n == strlen(z) && memcmp(a->p, z, a->n) == 0; }

/* CLIENT KILL's filters; a NULL or negative one matches every client. */
typedef struct kill_filter {
    const karg *addr, *laddr;
    long long id;
    int type, skipme;
} kill_filter;

/* The new form's options, or -1 after replying (Redis's checks, in order). */
static int kill_options(cmd_call *x, kill_filter *k)
{
    for (int i = 2; i < x->argc; i += 2) {
        int more = x->argc > i + 1;
        const karg *v = more ? &x->argv[i + 1] : NULL;
        if (more && arg_is(x, i, "id")) {
            if (util_str2ll(v->p, v->n, &k->id) < 0 || k->id < 1) {
                reply_err(x, "ERR client-id should be greater than 0");
                return -1;
            }
        } else if (more && arg_is(x, i, "type")) {
            if ((k->type = type_arg(x, i + 1)) < 0) return -1;
        } else if (more && arg_is(x, i, "addr")) {
            k->addr = v;
        } else if (more && arg_is(x, i, "laddr")) {
            k->laddr = v;
        } else if (more && arg_is(x, i, "user")) {
            if (!arg_eq(v, "default")) {   /* the only user, which every client is */
                resp_errorf(x->out, "ERR No such user '%.*s'", cstr_len(v), v->p);
                return -1;
            }
        } else if (more && arg_is(x, i, "skipme")) {
            if (arg_is(x, i + 1, "yes")) {
                k->skipme = 1;
            } else if (arg_is(x, i + 1, "no")) {
                k->skipme = 0;
            } else {
                reply_syntax(x);
                return -1;
            }
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    return 0;
}

static int kill_matches(cmd_call *x, const kill_filter *k, const session *s)
{
    char a[300];
    if (k->addr && !arg_eq(k->addr, shown_addr(x, s->peer, a, sizeof a))) return 0;
    if (k->laddr) {
        sess_conn_info ci = {.fd = -1, .laddr = ""};
        if (s->ops) s->ops->describe(s, &ci);
        if (!arg_eq(k->laddr, shown_addr(x, ci.laddr, a, sizeof a))) return 0;
    }
    if (k->type >= 0 && type_of(s) != k->type) return 0;
    if (k->id && s->id != (uint64_t)k->id) return 0;
    return !(s == x->s && k->skipme);
}

/* CLIENT KILL ip:port (+OK or an error; it may kill the caller) or CLIENT
 * KILL <filter> <value> ... (how many it killed; SKIPME yes by default). */
void client__kill(cmd_call *x)
{
    kill_filter k = {.type = -1, .skipme = 1};
    clients cs;
    uint64_t *gone = NULL;
    size_t killed = 0, ngone = 0;
    if (x->argc == 3) {
        k.addr = &x->argv[2];
        k.skipme = 0;   /* the old form may kill the caller */
    } else if (kill_options(x, &k) < 0) {
        return;
    }
    clients_begin(x, &cs);
    for (size_t i = 0; i < cs.n; i++) {
        const session *s = cs.refs[i].owner;
        if (!kill_matches(x, &k, s)) continue;
        killed++;
        if (s == x->s) {
            x->s->flags |= SESS_CLOSE;   /* once the reply is out */
        } else if (ps_client_mark_killed(cs.refs[i].c)) {
            if (!gone) gone = xmalloc(cs.n * sizeof *gone);
            gone[ngone++] = s->id;
        }
    }
    clients_end(&cs);
    /* each closed by its own worker, once this section ends */
    for (size_t i = 0; i < ngone; i++)
        ps_post(x->env->bus, gone[i], ps_msg_new(PS_MSG_KILL, x->s->id, NULL, 0));
    free(gone);
    if (x->argc != 3) resp_int(x->out, (long long)killed);
    else if (killed) reply_ok(x);
    else reply_err(x, "ERR No such client");
}

/* Redis 7.0.15's text as it prints it, subcommands Kasi lacks included. */
void client__help(cmd_call *x)
{
    static const char *const lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}
