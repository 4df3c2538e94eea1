/* introspect.c - COMMAND: what the registry's rows say of each command
 * (COMMAND INFO, DOCS, LIST, COUNT), in Redis 7.0's shapes. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"

static int nsubs(const cmd_def *d)
{
    int n = 0;
    for (const cmd_def *s = d->subs; s && s->name; s++) n++;
    return n;
}

static int nspecs(const cmd_def *d)
{
    int n = 0;
    while (n < CMD_KEYSPECS && d->keys[n].flags) n++;
    return n;
}

/* Space-separated words as an array of simple strings or of bulks. */
static void words(cmd_call *x, const char *list, int bulk)
{
    size_t token = reply_agg_defer(x);
    int n = 0;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, " ");
        if (len) {
            if (bulk) resp_bulk(x->out, p, len);
            else {
                buf_append(x->out, "+", 1);
                buf_append(x->out, p, len);
                buf_append(x->out, "\r\n", 2);
            }
            n++;
        }
        p += len;
        while (*p == ' ') p++;
    }
    reply_set_fill(x, token, n);
}

/* A begin_search or find_keys spec's head: its type, then its fields. */
static void spec_head(cmd_call *x, const char *type, int fields)
{
    reply_map(x, 2);
    resp_bulk_cstr(x->out, "type");
    resp_bulk_cstr(x->out, type);
    resp_bulk_cstr(x->out, "spec");
    reply_map(x, fields);
}

static void spec_int(cmd_call *x, const char *name, long long v)
{
    resp_bulk_cstr(x->out, name);
    resp_int(x->out, v);
}

static void keyspec(cmd_call *x, const cmd_keyspec *k)
{
    reply_map(x, 3);
    resp_bulk_cstr(x->out, "flags");
    words(x, k->flags, 0);
    resp_bulk_cstr(x->out, "begin_search");
    if (k->unknown) {
        spec_head(x, "unknown", 0);
        resp_bulk_cstr(x->out, "find_keys");
        spec_head(x, "unknown", 0);
        return;
    }
    if (k->keyword) {
        spec_head(x, "keyword", 2);
        resp_bulk_cstr(x->out, "keyword");
        resp_bulk_cstr(x->out, k->keyword);
        spec_int(x, "startfrom", k->begin);
    } else {
        spec_head(x, "index", 1);
        spec_int(x, "index", k->begin);
    }
    resp_bulk_cstr(x->out, "find_keys");
    if (k->keynum) {
        spec_head(x, "keynum", 3);
        spec_int(x, "keynumidx", 0);
        spec_int(x, "firstkey", 1);
        spec_int(x, "keystep", 1);
        return;
    }
    spec_head(x, "range", 3);
    spec_int(x, "lastkey", k->lastkey);
    spec_int(x, "keystep", k->step);
    spec_int(x, "limit", k->limit);
}

/* Whether a spec's flags name this word. */
static int spec_says(const cmd_keyspec *k, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = k->flags; (p = strstr(p, word)); p += n)
        if ((p == k->flags || p[-1] == ' ') && (p[n] == ' ' || !p[n])) return 1;
    return 0;
}

/* COMMAND INFO's legacy first, last and step, derived from the key specs
 * as Redis does (populateCommandLegacyRangeSpec): one plain range spec is
 * used as it is; otherwise the leading specs that are plain consecutive
 * ranges are merged, and any other spec makes the keys "movable". */
static int legacy_range(const cmd_def *d, int *first, int *last, int *step)
{
    int n = nspecs(d), movable = 0, lo = INT_MAX;
    unsigned hi = 0, prev = 0;
    *first = *last = *step = 0;
    for (int i = 0; i < n; i++) {
        const cmd_keyspec *k = &d->keys[i];
        int plain = !k->unknown && !k->keyword && !k->keynum;
        if (n == 1 && plain) {
            *first = k->begin;
            *last = k->lastkey >= 0 ? k->begin + k->lastkey : k->lastkey;
            *step = k->step;
            return spec_says(k, "incomplete");
        }
        if (!plain || k->step != 1 || (prev && (int)prev != k->begin - 1)) {
            movable = 1;
            continue;
        }
        if (spec_says(k, "incomplete")) movable = 1;
        if (k->begin < lo) lo = k->begin;
        unsigned abs_last = (unsigned)(k->lastkey >= 0 ? k->lastkey + k->begin : k->lastkey);
        if (abs_last > hi) hi = abs_last;
        prev = hi;
    }
    if (lo == INT_MAX) return n > 0;   /* no keys at all: not movable */
    *first = lo;
    *last = (int)hi;
    *step = 1;
    return movable;
}

/* COMMAND INFO of one row: the legacy first/last/step come from the key
 * specs, as Redis derives them. */
static void info_one(cmd_call *x, const cmd_def *parent, const cmd_def *d)
{
    static const char *const flag_names[] = {
#define X(f, name) name,
        CMD_FLAGS(X)
#undef X
    };
    char full[64];
    unsigned cats = command_categories(d);
    int nflags = 0, ncats = 0, first, last, step;
    int movable = legacy_range(d, &first, &last, &step);
    for (int i = 0; i < CMD_NFLAGS; i++) nflags += !!(d->flags & (1u << i));
    nflags += movable;
    for (int i = 0; i < CMD_NCATEGORIES; i++) ncats += !!(cats & (1u << i));
    resp_array(x->out, 10);
    resp_bulk_cstr(x->out, command_fullname(parent, d, full, sizeof full));
    resp_int(x->out, d->arity);
    reply_set(x, nflags);
    for (int i = 0; i < CMD_NFLAGS; i++)
        if (d->flags & (1u << i)) resp_simple(x->out, flag_names[i]);
    if (movable) resp_simple(x->out, "movablekeys");
    resp_int(x->out, first);
    resp_int(x->out, last);
    resp_int(x->out, step);
    reply_set(x, ncats);
    for (int i = 0; i < CMD_NCATEGORIES; i++)
        if (cats & (1u << i)) {
            buf_append(x->out, "+@", 2);
            buf_append(x->out, command_category_name(i), strlen(command_category_name(i)));
            buf_append(x->out, "\r\n", 2);
        }
    words(x, d->tips, 1);
    reply_set(x, nspecs(d));
    for (int i = 0; i < nspecs(d); i++) keyspec(x, &d->keys[i]);
    if (nsubs(d)) resp_array(x->out, nsubs(d));
    else reply_set(x, 0);   /* Redis's reply for none */
    for (const cmd_def *s = d->subs; s && s->name; s++) info_one(x, d, s);
}

static void cmd_command(cmd_call *x)
{
    resp_array(x->out, (long long)command_count());
    for (size_t i = 0; i < command_count(); i++) info_one(x, NULL, command_at(i));
}

static void cmd_command_count(cmd_call *x) { resp_int(x->out, (long long)command_count()); }

static void cmd_command_info(cmd_call *x)
{
    if (x->argc == 2) {
        cmd_command(x);
        return;
    }
    resp_array(x->out, x->argc - 2);
    for (int i = 2; i < x->argc; i++) {
        const cmd_def *parent, *d = command_lookup_full(x->argv[i].p, x->argv[i].n, &parent);
        if (d) info_one(x, parent, d);
        else reply_null_array(x);
    }
}

/* COMMAND DOCS: what the rows know (since, group, complexity); Kasi keeps
 * no summaries or argument descriptions. */
static void docs_one(cmd_call *x, const cmd_def *parent, const cmd_def *d)
{
    char full[64];
    resp_bulk_cstr(x->out, command_fullname(parent, d, full, sizeof full));
    reply_map(x, d->subs ? 4 : 3);
    resp_bulk_cstr(x->out, "since");
    resp_bulk_cstr(x->out, d->since ? d->since : "");
    resp_bulk_cstr(x->out, "group");
    resp_bulk_cstr(x->out, d->group ? d->group : (parent ? parent->group : ""));
    resp_bulk_cstr(x->out, "complexity");
    resp_bulk_cstr(x->out, d->complexity ? d->complexity : "");
    if (d->subs) {
        resp_bulk_cstr(x->out, "subcommands");
        reply_map(x, nsubs(d));
        for (const cmd_def *s = d->subs; s->name; s++) docs_one(x, d, s);
    }
}

static void cmd_command_docs(cmd_call *x)
{
    size_t token = reply_agg_defer(x);
    int n = 0;
    if (x->argc == 2) {
        for (size_t i = 0; i < command_count(); i++, n++) docs_one(x, NULL, command_at(i));
    } else {
        for (int i = 2; i < x->argc; i++) {
            const cmd_def *parent, *d = command_lookup_full(x->argv[i].p, x->argv[i].n, &parent);
            if (!d) continue;   /* Redis leaves unknown names out */
            docs_one(x, parent, d);
            n++;
        }
    }
    reply_map_fill(x, token, n);
}

enum { FILTER_NONE, FILTER_MODULE, FILTER_ACLCAT, FILTER_PATTERN };

static int category_bit(const karg *a)
{
    for (int i = 0; i < CMD_NCATEGORIES; i++)
        if (util_eqi(a->p, a->n, command_category_name(i))) return i;
    return -1;
}

static int list_one(buf *out, const cmd_def *parent, const cmd_def *d, int filter, const karg *arg,
                    int cat)
{
    char full[64];
    const char *name = command_fullname(parent, d, full, sizeof full);
    int n = 0, keep = filter == FILTER_NONE ||
                      (filter == FILTER_ACLCAT && cat >= 0 && (command_categories(d) & (1u << cat))) ||
                      (filter == FILTER_PATTERN &&
                       util_glob_match(arg->p, arg->n, name, strlen(name), 1));
    if (keep) {
        resp_bulk_cstr(out, name);
        n++;
    }
    for (const cmd_def *s = d->subs; s && s->name; s++) n += list_one(out, d, s, filter, arg, cat);
    return n;
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern] */
static void cmd_command_list(cmd_call *x)
{
    int filter = FILTER_NONE, n = 0, cat = -1;
    const karg *arg = NULL;
    size_t token;
    if (x->argc != 2) {
        if (x->argc != 5 || !arg_is(x, 2, "filterby")) {
            reply_syntax(x);
            return;
        }
        arg = &x->argv[4];
        if (arg_is(x, 3, "module")) filter = FILTER_MODULE;
        else if (arg_is(x, 3, "aclcat")) filter = FILTER_ACLCAT;
        else if (arg_is(x, 3, "pattern")) filter = FILTER_PATTERN;
        else {
            reply_syntax(x);
            return;
        }
        if (filter == FILTER_ACLCAT) cat = category_bit(arg);
    }
    token = resp_array_defer(x->out);
    if (filter != FILTER_MODULE)   /* Kasi has no modules */
        for (size_t i = 0; i < command_count(); i++)
            n += list_one(x->out, NULL, command_at(i), filter, arg, cat);
    resp_array_fill(x->out, token, n);
}

/* ---- COMMAND GETKEYS ---- */

#define MAX_FOUND 4096   /* positions kept; a longer command's keys are found in later rounds */

typedef struct found {
    int pos;
    const char *flags;   /* its spec's flags */
} found;

/* Where a spec's keys start, as Redis's getKeysUsingKeySpecs searches:
 * an index, or the argument after the keyword (searching forwards from a
 * positive startfrom, backwards from a negative one). 0: no keys here. */
static int spec_first(const cmd_keyspec *k, int argc, const karg *argv)
{
    int from, to;
    if (!k->keyword) return k->begin;
    from = k->begin > 0 ? k->begin : argc + k->begin;
    to = k->begin > 0 ? argc - 1 : 0;
    for (int i = from; i != to; i = from <= to ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (util_eqi(argv[i].p, argv[i].n, k->keyword)) return i + 1;
    }
    return 0;
}

/* The keys by the specs (not_key ones left out), Redis's way: -1 when a
 * spec cannot say (unknown, incomplete, out of the arguments). */
static int keys_by_specs(const cmd_def *d, int argc, const karg *argv, found *out, int cap)
{
    int n = 0;
    for (int s = 0; s < nspecs(d); s++) {
        const cmd_keyspec *k = &d->keys[s];
        int first, last, step = k->step ? k->step : 1;
        if (spec_says(k, "not_key")) continue;
        if (k->unknown) return -1;
        if (!(first = spec_first(k, argc, argv))) continue;   /* keyword absent */
        if (k->keynum) {
            long long nk;
            if (first >= argc || util_str2ll(argv[first].p, argv[first].n, &nk) < 0 || nk < 0) return -1;
            first++;
            last = first + (int)nk - 1;
        } else if (k->lastkey >= 0) {
            last = first + k->lastkey;
        } else {
            last = k->limit ? first + ((argc - first) / k->limit + k->lastkey) : argc + k->lastkey;
        }
        if (last >= argc || last < first || first >= argc) return -1;
        for (int i = first; i <= last && n < cap; i += step) out[n++] = (found){i, k->flags};
        if (spec_says(k, "incomplete")) return -1;
    }
    return n;
}

/* SORT's keys where its specs cannot say (Redis's sortGetKeys): the key,
 * and the last STORE's destination, stepping over LIMIT's two arguments and
 * BY's and GET's one (and, as there, looking at the destination itself as
 * an option). */
static int sort_keys(int argc, const karg *argv, found *out)
{
    int store = 0;
    out[0] = (found){1, "RO access"};
    for (int i = 2; i < argc; i++) {
        if (util_eqi(argv[i].p, argv[i].n, "limit")) {
            i += 2;
        } else if (util_eqi(argv[i].p, argv[i].n, "get") || util_eqi(argv[i].p, argv[i].n, "by")) {
            i++;
        } else if (util_eqi(argv[i].p, argv[i].n, "store") && i + 1 < argc) {
            out[1] = (found){i + 1, "OW update"};
            store = 1;
        }
    }
    return 1 + store;
}

/* The one key of SET and BITFIELD, whose flags depend on the arguments
 * (their specs say variable_flags): Redis's setGetKeys and
 * bitfieldGetKeys. */
static const char *variable_flags(const cmd_def *d, int argc, const karg *argv)
{
    if (util_eqi(d->name, strlen(d->name), "set")) {
        for (int i = 3; i < argc; i++)
            if (util_eqi(argv[i].p, argv[i].n, "get")) return "RW access update";
        return "OW update";
    }
    for (int i = 2; i < argc; i++) {   /* BITFIELD: read-only while it only GETs */
        int more = argc - i - 1;
        if (util_eqi(argv[i].p, argv[i].n, "get") && more >= 2) i += 2;
        else if (util_eqi(argv[i].p, argv[i].n, "overflow") && more >= 1) i += 1;
        else return "RW access update";   /* SET, INCRBY, or a syntax error: not read-only */
    }
    return "RO access";
}

static void getkeys(cmd_call *x, int with_flags)
{
    int argc = x->argc - 2, n;
    const karg *argv = x->argv + 2;
    const cmd_def *d = command_find(argc, argv);
    found *keys;
    int has_keys = 0;
    if (!d) {
        reply_err(x, "ERR Invalid command specified");
        return;
    }
    for (int s = 0; s < nspecs(d); s++) has_keys |= !spec_says(&d->keys[s], "not_key");
    if (!has_keys) {
        reply_err(x, "ERR The command has no key arguments");
        return;
    }
    if ((d->arity > 0 && d->arity != argc) || argc < -d->arity) {
        reply_err(x, "ERR Invalid number of arguments specified for command");
        return;
    }
    keys = xmalloc(sizeof *keys * (size_t)(argc < MAX_FOUND ? argc + 1 : MAX_FOUND));
    if (spec_says(&d->keys[0], "variable_flags")) {
        keys[0] = (found){1, variable_flags(d, argc, argv)};
        n = 1;
    } else {
        n = keys_by_specs(d, argc, argv, keys, argc < MAX_FOUND ? argc + 1 : MAX_FOUND);
    }
    /* where the specs cannot say, Redis asks the command: SORT finds its
     * keys; a count that is out of range gives none */
    if (n < 0) n = util_eqi(d->name, strlen(d->name), "sort") || util_eqi(d->name, strlen(d->name), "sort_ro")
                       ? sort_keys(argc, argv, keys)
                       : 0;
    if (n == 0 && !(d->flags & CMD_NO_MANDATORY_KEYS)) {
        reply_err(x, "ERR Invalid arguments specified for command");
    } else {
        resp_array(x->out, n);
        for (int i = 0; i < n; i++) {
            if (with_flags) resp_array(x->out, 2);
            resp_bulk(x->out, argv[keys[i].pos].p, argv[keys[i].pos].n);
            if (with_flags) words(x, keys[i].flags, 0);
        }
    }
    free(keys);
}

static void cmd_command_getkeys(cmd_call *x) { getkeys(x, 0); }
static void cmd_command_getkeysandflags(cmd_call *x) { getkeys(x, 1); }

static void cmd_command_help(cmd_call *x)
{
    static const char *const lines[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define LS (CMD_LOADING | CMD_STALE)
#define CN CAT_CONNECTION

static const cmd_def command_subs[] = {
    {"count", cmd_command_count, 2, LS, CN, NOKEYS, "server", "2.8.13", "O(1)", NULL, NULL},
    {"info", cmd_command_info, -2, LS, CN, NOKEYS, "server", "2.8.13",
     "O(N) where N is the number of commands to look up", "nondeterministic_output_order", NULL},
    {"docs", cmd_command_docs, -2, LS, CN, NOKEYS, "server", "7.0.0",
     "O(N) where N is the number of commands to look up", "nondeterministic_output_order", NULL},
    {"list", cmd_command_list, -2, LS, CN, NOKEYS, "server", "7.0.0",
     "O(N) where N is the total number of Redis commands", "nondeterministic_output_order", NULL},
    {"getkeys", cmd_command_getkeys, -4, LS, CN, NOKEYS, "server", "2.8.13",
     "O(N) where N is the number of arguments to the command", NULL, NULL},
    {"getkeysandflags", cmd_command_getkeysandflags, -4, LS, CN, NOKEYS, "server", "7.0.0",
     "O(N) where N is the number of arguments to the command", NULL, NULL},
    {"help", cmd_command_help, 2, LS, CN, NOKEYS, "server", "5.0.0", "O(1)", NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

static const cmd_def rows[] = {
    {"command", cmd_command, -1, LS, CN, NOKEYS, "server", "2.8.13",
     "O(N) where N is the total number of Redis commands", "nondeterministic_output_order",
     command_subs},
};

const cmd_family cmd_family_introspection = CMD_FAMILY(rows);
