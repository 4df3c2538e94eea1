/* debug.c - DEBUG, for tests and operators, behind enable-debug-command
 * (no by default, yes, or local: from loopback and unix-socket clients
 * only), which the command layer checks before anything else, as Redis 7
 * does for its protected commands (CMD_PROTECTED).
 *
 * Of Redis 7.0's subcommands, those that mean something for Kasi and
 * whose replies can be Redis's: SLEEP, SET-ACTIVE-EXPIRE, LOG, ERROR,
 * PROTOCOL and HELP, which lists these with Redis's words. OBJECT is left
 * out: its lru and lru_seconds_idle need a per-key access clock, which
 * Kasi's items do not keep (nor does OBJECT IDLETIME). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/command.h"
#include "lib/log.h"

atomic_int command_active_expire = 1;

static void debug_help(cmd_call *x)
{
    static const char *const lines[] = {
        "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

/* The argument as C text (at most 1 KB: what strtod and atoi read). */
static void arg_text(const cmd_call *x, int i, char *out, size_t cap)
{
    size_t n = x->argv[i].n < cap - 1 ? x->argv[i].n : cap - 1;
    memcpy(out, x->argv[i].p, n);
    out[n] = '\0';
}

/* DEBUG SLEEP: the whole server stops (the row is exclusive: every worker
 * waits), as Redis's one thread does. The seconds are read as strtod reads
 * them: what is not a number is 0, a negative time no sleep. */
static void debug_sleep(cmd_call *x)
{
    char text[1024];
    arg_text(x, 2, text, sizeof text);
    long long us = (long long)(strtod(text, NULL) * 1000000);
    if (us > 0) {
        struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
        while (nanosleep(&ts, &ts) < 0) { /* interrupted: sleep the rest */ }
    }
    reply_ok(x);
}

/* RESP2 has no push: Redis says so. */
static void debug_protocol(cmd_call *x)
{
    static const char attrib_reply[] = "Some real reply following the attribute";
    static const char push_reply[] = "Some real reply following the push reply";
    static const char bignum[] = "1234567999999999999999999999999999999";
    int r3 = call_resp3(x);
    if (arg_is(x, 2, "string")) {
        resp_bulk_cstr(x->out, "Hello World");
    } else if (arg_is(x, 2, "integer")) {
        resp_int(x->out, 12345);
    } else if (arg_is(x, 2, "double")) {
        if (r3) resp3_double(x->out, "3.141", 5);
        else resp_bulk_cstr(x->out, "3.141");
    } else if (arg_is(x, 2, "bignum")) {
        if (r3) resp_line_safe(x->out, '(', bignum, sizeof bignum - 1);
        else resp_bulk_cstr(x->out, bignum);
    } else if (arg_is(x, 2, "null")) {
        reply_null(x);
    } else if (arg_is(x, 2, "array") || arg_is(x, 2, "set")) {
        if (arg_is(x, 2, "set")) reply_set(x, 3);
        else resp_array(x->out, 3);
        for (int i = 0; i < 3; i++) resp_int(x->out, i);
    } else if (arg_is(x, 2, "map")) {
        reply_map(x, 3);
        for (int i = 0; i < 3; i++) {
            resp_int(x->out, i);
            if (r3) resp3_bool(x->out, i == 1);
            else resp_int(x->out, i == 1);
        }
    } else if (arg_is(x, 2, "attrib")) {
        if (r3) {   /* RESP2 has no attributes: the reply alone */
            resp_agg(x->out, '|', 1);
            resp_bulk_cstr(x->out, "key-popularity");
            resp_array(x->out, 2);
            resp_bulk_cstr(x->out, "key:123");
            resp_int(x->out, 90);
        }
        resp_bulk_cstr(x->out, attrib_reply);
    } else if (arg_is(x, 2, "push")) {
        if (!r3) {
            reply_err(x, "ERR RESP2 is not supported by this command");
            return;
        }
        resp_agg(cmd_push_out(x), '>', 2);
        resp_bulk_cstr(cmd_push_out(x), "server-cpu-usage");
        resp_int(cmd_push_out(x), 42);
        resp_bulk_cstr(x->out, push_reply);
    } else if (arg_is(x, 2, "verbatim")) {
        reply_verbatim(x, "This is a verbatim\nstring", 25);
    } else if (arg_is(x, 2, "true") || arg_is(x, 2, "false")) {
        if (r3) resp3_bool(x->out, arg_is(x, 2, "true"));
        else resp_int(x->out, arg_is(x, 2, "true"));
    } else {
        reply_err(x, "ERR Wrong protocol type name. Please use one of the following: "
                     "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

static void cmd_debug(cmd_call *x)
{
    char text[1024];
    if (x->argc == 2 && arg_is(x, 1, "help")) {
        debug_help(x);
    } else if (x->argc == 3 && arg_is(x, 1, "sleep")) {
        debug_sleep(x);
    } else if (x->argc == 3 && arg_is(x, 1, "set-active-expire")) {
        arg_text(x, 2, text, sizeof text);
        atomic_store(&command_active_expire, atoi(text));   /* Redis's atoi: not a number is 0 */
        reply_ok(x);
    } else if (x->argc == 3 && arg_is(x, 1, "log")) {
        log_warn("DEBUG LOG: %.*s", (int)x->argv[2].n, x->argv[2].p);
        reply_ok(x);
    } else if (x->argc == 3 && arg_is(x, 1, "error")) {
        resp_error_len(x->out, x->argv[2].p, x->argv[2].n);
    } else if (x->argc == 3 && arg_is(x, 1, "protocol")) {
        debug_protocol(x);
    } else {
        reply_subcmd_syntax(x);
    }
}

static const cmd_def rows[] = {
    {"debug", cmd_debug, -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_PROTECTED | CMD_EXCLUSIVE,
     0, NOKEYS, "server", "1.0.0", "Depends on subcommand.", NULL, NULL},
};

const cmd_family cmd_family_debug = CMD_FAMILY(rows);
