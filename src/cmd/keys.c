/* cmd_keys.c - generic key commands: deletion, expiry, iteration, renaming
 * and moving keys between domains. Redis 7.0 semantics and error texts. */
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "cmd/notify.h"
#include "store/kind.h"

static void cmd_del(cmd_call *x)
{
    ks_lockset ls;
    kref *refs = arg_lock_keys(x, 1, 1, &ls);
    long long n = 0;
    for (int k = 0; k < x->argc - 1; k++) {
        refs[k].gen = (uint64_t)-1;
        if (ks_delete(&refs[k], x->now)) {
            n++;
            notify_key(x, CFG_NOTIFY_GENERIC, "del", 1 + k);
        }
    }
    ks_lockset_unlock(&ls);
    free(refs);
    resp_int(x->out, n);
}

/* EXISTS and TOUCH: count the keys that exist (repeats count again). */
static void count_existing(cmd_call *x)
{
    ks_lockset ls;
    kref *refs = arg_lock_keys(x, 1, 1, &ls);
    long long n = 0;
    for (int k = 0; k < x->argc - 1; k++) {
        refs[k].gen = (uint64_t)-1;
        n += ks_read(&refs[k], x->now) != NULL;
    }
    ks_lockset_unlock(&ls);
    free(refs);
    resp_int(x->out, n);
}

static void cmd_exists(cmd_call *x) { count_existing(x); }
static void cmd_touch(cmd_call *x) { count_existing(x); }

static void cmd_type(cmd_call *x)
{
    kref r;
    item *it;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    it = ks_read(&r, x->now);
    resp_simple(x->out, it ? kind_name(item_kind(it)) : "none");
    ks_unlock(&r);
}

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

static void expire_generic(cmd_call *x, int64_t base, int secs)
{
    int flags = 0;
    long long when;
    int64_t cur;
    kref r;
    item *it;
    for (int j = 3; j < x->argc; j++) {
        if (arg_is(x, j, "nx")) flags |= EXP_NX;
        else if (arg_is(x, j, "xx")) flags |= EXP_XX;
        else if (arg_is(x, j, "gt")) flags |= EXP_GT;
        else if (arg_is(x, j, "lt")) flags |= EXP_LT;
        else {
            resp_errorf(x->out, "ERR Unsupported option %.*s", (int)x->argv[j].n, x->argv[j].p);
            return;
        }
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT))) {
        reply_err(x, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & EXP_GT) && (flags & EXP_LT)) {
        reply_err(x, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    if (arg_ll(x, 2, &when) < 0) return;
    if (secs) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            reply_bad_expire(x);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - base) {
        reply_bad_expire(x);
        return;
    }
    when += base;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    it = ks_find(&r, x->now);
    if (!it) goto zero;
    cur = item_expire(it);
    if ((flags & EXP_NX) && cur != -1) goto zero;
    if ((flags & EXP_XX) && cur == -1) goto zero;
    if ((flags & EXP_GT) && (when <= cur || cur == -1)) goto zero;
    if ((flags & EXP_LT) && cur != -1 && when >= cur) goto zero;
    int gone = when <= cmd_clock(x);
    if (gone) ks_delete(&r, x->now);
    else ks_set_expire(&r, when);
    ks_unlock(&r);
    notify_key(x, CFG_NOTIFY_GENERIC, gone ? "del" : "expire", 1);
    resp_int(x->out, 1);
    return;
zero:
    ks_unlock(&r);
    resp_int(x->out, 0);
}

static void cmd_expire(cmd_call *x) { expire_generic(x, cmd_clock(x), 1); }
static void cmd_pexpire(cmd_call *x) { expire_generic(x, cmd_clock(x), 0); }
static void cmd_expireat(cmd_call *x) { expire_generic(x, 0, 1); }
static void cmd_pexpireat(cmd_call *x) { expire_generic(x, 0, 0); }

static void ttl_generic(cmd_call *x, int ms, int absolute)
{
    kref r;
    item *it;
    long long ttl = -1;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    it = ks_read(&r, x->now);
    if (it && item_has_ttl(it)) {
        ttl = absolute ? item_expire(it) : item_expire(it) - cmd_clock(x);
        if (ttl < 0) ttl = 0;
    }
    ks_unlock(&r);
    if (!it) resp_int(x->out, -2);
    else if (ttl == -1) resp_int(x->out, -1);
    else resp_int(x->out, ms ? ttl : ttl / 1000 + (ttl % 1000 >= 500));   /* rounded, without overflow */
}

static void cmd_ttl(cmd_call *x) { ttl_generic(x, 0, 0); }
static void cmd_pttl(cmd_call *x) { ttl_generic(x, 1, 0); }
static void cmd_expiretime(cmd_call *x) { ttl_generic(x, 0, 1); }
static void cmd_pexpiretime(cmd_call *x) { ttl_generic(x, 1, 1); }

static void cmd_persist(cmd_call *x)
{
    kref r;
    item *it;
    int done = 0;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    it = ks_find(&r, x->now);
    if (it && item_has_ttl(it)) {
        ks_set_expire(&r, -1);
        done = 1;
    }
    ks_unlock(&r);
    if (done) notify_key(x, CFG_NOTIFY_GENERIC, "persist", 1);
    resp_int(x->out, done);
}

static void cmd_keys(cmd_call *x)
{
    size_t token = resp_array_defer(x->out);
    size_t n = ks_keys(x->s->db, x->argv[1].p, x->argv[1].n, x->now, x->out);
    resp_array_fill(x->out, token, (long long)n);
}

static void cmd_scan(cmd_call *x)
{
    char tmp[32];
    unsigned long long cursor;
    long long count = 10;
    const char *pat = NULL, *type = NULL;
    size_t plen = 0, tlen = 0, nkeys;
    char *end;

    if (x->argv[1].n >= sizeof tmp) goto bad_cursor;
    memcpy(tmp, x->argv[1].p, x->argv[1].n);
    tmp[x->argv[1].n] = '\0';
    errno = 0;
    cursor = strtoull(tmp, &end, 10);
    if (tmp[0] == ' ' || (tmp[0] >= '\t' && tmp[0] <= '\r') || *end != '\0' || errno == ERANGE ||
        strlen(tmp) != x->argv[1].n)
        goto bad_cursor;
    for (int i = 2; i < x->argc;) {
        int left = x->argc - i;
        if (arg_is(x, i, "count") && left >= 2) {
            if (arg_ll(x, i + 1, &count) < 0) return;
            if (count < 1) {
                reply_syntax(x);
                return;
            }
            i += 2;
        } else if (arg_is(x, i, "match") && left >= 2) {
            pat = x->argv[i + 1].p;
            plen = x->argv[i + 1].n;
            i += 2;
        } else if (arg_is(x, i, "type") && left >= 2) {
            type = x->argv[i + 1].p;
            tlen = x->argv[i + 1].n;
            i += 2;
        } else {
            reply_syntax(x);
            return;
        }
    }
    {
        buf keys = {0};
        /* a type no kind has: nothing matches (Redis compares the names) */
        int kind = type ? kind_by_name(type, tlen) : -1;
        if (type && kind < 0) kind = KIND_MAX;
        cursor = ks_scan(x->s->db, cursor, count > 100000 ? 100000 : (long)count, pat, plen, kind,
                         x->now, &keys, &nkeys);
        resp_array(x->out, 2);
        resp_bulk(x->out, tmp, (size_t)snprintf(tmp, sizeof tmp, "%llu", cursor));
        resp_array(x->out, (long long)nkeys);
        if (nkeys) buf_append(x->out, keys.data, keys.len);
        buf_free(&keys);
    }
    return;
bad_cursor:
    reply_err(x, "ERR invalid cursor");
}

static void cmd_randomkey(cmd_call *x)
{
    buf key = {0};
    if (ks_random_key(x->s->db, x->now, &key) == 0) resp_bulk(x->out, key.data, key.len);
    else reply_null(x);
    buf_free(&key);
}

/* A big collection renamed, copied or moved is logged as the command, not
 * written out whole (which would take the locks' time and an AOF record
 * the size of the collection). */
#define LOG_AS_COMMAND (64 * 1024)
static void quiet_if_big(kref *a, kref *b, const item *it)
{
    if (ks_outside(it) < LOG_AS_COMMAND) return;
    a->quiet = b->quiet = 1;
}

static void rename_generic(cmd_call *x, int nx)
{
    kref src, dst;
    ks_lockset ls;
    item *it;
    int same = x->argv[1].n == x->argv[2].n && memcmp(x->argv[1].p, x->argv[2].p, x->argv[1].n) == 0;
    ks_lockset_init(&ls);
    arg_ref(x, 1, &src);
    arg_ref(x, 2, &dst);
    ks_lockset_add(&ls, &src);
    ks_lockset_add(&ls, &dst);
    ks_lockset_lock(&ls);
    it = ks_find(&src, x->now);
    if (!it) {
        ks_lockset_unlock(&ls);
        reply_err(x, "ERR no such key");
        return;
    }
    if (same) {
        ks_lockset_unlock(&ls);
        if (nx) resp_int(x->out, 0);
        else reply_ok(x);
        return;
    }
    if (nx && ks_find(&dst, x->now)) {
        ks_lockset_unlock(&ls);
        resp_int(x->out, 0);
        return;
    }
    quiet_if_big(&src, &dst, it);
    /* Redis deletes the target and adds the key again: "new" either way */
    if (ks_find(&dst, x->now)) notify_key(x, CFG_NOTIFY_NEW, "new", 2);
    ks_move(&dst, &src);
    if (src.quiet) ks_effect(&src, x->argc, x->argv);
    ks_lockset_unlock(&ls);
    notify_key(x, CFG_NOTIFY_GENERIC, "rename_from", 1);
    notify_key(x, CFG_NOTIFY_GENERIC, "rename_to", 2);
    if (nx) resp_int(x->out, 1);
    else reply_ok(x);
}

static void cmd_rename(cmd_call *x) { rename_generic(x, 0); }
static void cmd_renamenx(cmd_call *x) { rename_generic(x, 1); }

/* Copy (or move) argv[1] of the selected domain to key dkey of domain dst:
 * 1 done, 0 not (no source, or a target and no replace), -1 no memory for
 * the copy (nothing changed). */
static int transfer(cmd_call *x, domain *dst, const karg *dkey, int replace, int move)
{
    kref src, to;
    ks_lockset ls;
    item *it;
    int rc = 0;
    ks_lockset_init(&ls);
    arg_ref(x, 1, &src);
    ks_ref(x->ks, dst, dkey->p, dkey->n, &to);
    ks_lockset_add(&ls, &src);
    ks_lockset_add(&ls, &to);
    ks_lockset_lock(&ls);
    it = move ? ks_find(&src, x->now) : ks_read(&src, x->now);   /* COPY reads, as in Redis */
    int had = it && ks_find(&to, x->now);
    if (it && (!had || replace)) {
        quiet_if_big(&src, &to, it);
        if (move) {
            ks_move(&to, &src);
        } else {
            item *cp;
            to.gen = (uint64_t)-1;
            cp = ks_new_copy(&to, it, item_expire(it));
            if (cp) ks_store(&to, cp);
            else rc = -1;
        }
        if (rc == 0) {
            if (src.quiet) ks_effect(&src, x->argc, x->argv);
            rc = 1;
        }
    }
    ks_lockset_unlock(&ls);
    if (rc == 1 && had) notify_in(x, dst, CFG_NOTIFY_NEW, "new", dkey->p, dkey->n);   /* replaced */
    if (rc == 1 && move) notify_key(x, CFG_NOTIFY_GENERIC, "move_from", 1);
    if (rc == 1)
        notify_in(x, dst, CFG_NOTIFY_GENERIC, move ? "move_to" : "copy_to", dkey->p, dkey->n);
    return rc;
}

static domain *target_domain(cmd_call *x, const karg *name)
{
    domain *d;
    if (name->n > KS_DOMAIN_NAME_MAX) {
        reply_err(x, "ERR domain name is longer than 256 bytes");
        return NULL;
    }
    if (name->n == 0) {
        reply_err(x, "ERR the domain name is empty");
        return NULL;
    }
    d = ks_domain_get(x->ks, name->p, name->n);
    if (ks_domain_claim(x->ks, d) < 0) {
        reply_domains_full(x);
        ks_domain_put(x->ks, d);
        return NULL;
    }
    return d;
}

static void cmd_copy(cmd_call *x)
{
    domain *dst = x->s->db;
    int replace = 0, rc;
    const karg *dbname = NULL;
    for (int j = 3; j < x->argc; j++) {
        if (arg_is(x, j, "replace")) {
            replace = 1;
        } else if (arg_is(x, j, "db") && x->argc - j - 1 >= 1) {
            dbname = &x->argv[++j];
        } else {
            reply_syntax(x);
            return;
        }
    }
    if (dbname && !(dst = target_domain(x, dbname))) return;
    if (!dbname) ks_domain_hold(dst);
    if (dst == x->s->db && x->argv[1].n == x->argv[2].n &&
        memcmp(x->argv[1].p, x->argv[2].p, x->argv[1].n) == 0) {
        reply_err(x, "ERR source and destination objects are the same");
    } else {
        rc = transfer(x, dst, &x->argv[2], replace, 0);
        if (rc < 0) reply_nomem(x);
        else resp_int(x->out, rc);
    }
    ks_domain_put(x->ks, dst);
}

static void cmd_move(cmd_call *x)
{
    domain *dst = target_domain(x, &x->argv[2]);
    if (!dst) return;
    if (dst == x->s->db) reply_err(x, "ERR source and destination objects are the same");
    else resp_int(x->out, transfer(x, dst, &x->argv[1], 0, 1));
    ks_domain_put(x->ks, dst);
}

static void cmd_dbsize(cmd_call *x) { resp_int(x->out, (long long)ks_domain_size(x->s->db)); }

/* ---- OBJECT ---- */

static void cmd_object_encoding(cmd_call *x)
{
    kref r;
    item *it;
    arg_ref(x, 2, &r);
    ks_lock(&r);
    it = ks_find(&r, x->now);
    if (it) {
        const kind_ops *ops = kind_ops_of(item_kind(it));
        resp_bulk_cstr(x->out, ops && ops->encoding ? ops->encoding(it) : "raw");
    } else {
        reply_null(x);
    }
    ks_unlock(&r);
}

/* Values are never shared in Kasi; Redis shares the integers 0..9999
 * (unless an LRU or LFU policy needs per-key clocks) and reports them with
 * the largest count, so clients see what they would see there. */
static void cmd_object_refcount(cmd_call *x)
{
    long long v;
    kref r;
    item *it;
    arg_ref(x, 2, &r);
    ks_lock(&r);
    it = ks_find(&r, x->now);
    if (!it) {
        reply_null(x);
    } else {
        long long pol = cfg_ll(&x->env->cfg->maxmemory_policy);
        int clocks = cfg_ll(&x->env->cfg->maxmemory) && pol != KS_NOEVICTION &&
                     pol != KS_ALLKEYS_RANDOM && pol != KS_VOLATILE_RANDOM && pol != KS_VOLATILE_TTL;
        int shared = !item_typed(it) && !clocks && item_vlen(it) <= 4 &&
                     util_str2ll(item_cval(it), item_vlen(it), &v) == 0 && v >= 0 && v < 10000;
        resp_int(x->out, shared ? 2147483647 : 1);
    }
    ks_unlock(&r);
}

static void cmd_object_help(cmd_call *x)
{
    static const char *const lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    The encoding that holds the value of <key>, named as Redis names its own:",
        "    int, embstr or raw for a string; listpack or hashtable for a hash.",
        "REFCOUNT <key>",
        "    How many references the value of <key> has (Kasi never shares values;",
        "    small integers report what Redis reports for its shared ones).",
        "HELP",
        "    Print this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define KS CAT_KEYSPACE

static const cmd_def object_subs[] = {
    {"encoding", cmd_object_encoding, 3, R, KS, {KSPEC(2, 0, 1, "RO")},
     "generic", "2.2.3", "O(1)", "nondeterministic_output", NULL},
    {"refcount", cmd_object_refcount, 3, R, KS, {KSPEC(2, 0, 1, "RO")},
     "generic", "2.2.3", "O(1)", "nondeterministic_output", NULL},
    {"help", cmd_object_help, 2, CMD_LOADING | CMD_STALE, KS, NOKEYS, "generic", "6.2.0", "O(1)",
     NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"del", cmd_del, -2, W, KS, KEYN("RM delete"), "generic", "1.0.0", "O(N)",
     "request_policy:multi_shard response_policy:agg_sum", NULL},
    {"unlink", cmd_del, -2, W | F, KS, KEYN("RM delete"), "generic", "4.0.0", "O(1)",
     "request_policy:multi_shard response_policy:agg_sum", NULL},
    {"exists", cmd_exists, -2, R | F, KS, KEYN("RO"), "generic", "1.0.0", "O(N)",
     "request_policy:multi_shard response_policy:agg_sum", NULL},
    {"touch", cmd_touch, -2, R | F, KS, KEYN("RO"), "generic", "3.2.1", "O(N)",
     "request_policy:multi_shard response_policy:agg_sum", NULL},
    {"type", cmd_type, 2, R | F, KS, KEY1("RO"), "generic", "1.0.0", "O(1)", NULL, NULL},
    {"expire", cmd_expire, -3, W | F, KS, KEY1("RW update"), "generic", "1.0.0", "O(1)", NULL,
     NULL},
    {"pexpire", cmd_pexpire, -3, W | F, KS, KEY1("RW update"), "generic", "2.6.0", "O(1)", NULL,
     NULL},
    {"expireat", cmd_expireat, -3, W | F, KS, KEY1("RW update"), "generic", "1.2.0", "O(1)", NULL,
     NULL},
    {"pexpireat", cmd_pexpireat, -3, W | F, KS, KEY1("RW update"), "generic", "2.6.0", "O(1)",
     NULL, NULL},
    {"ttl", cmd_ttl, 2, R | F, KS, KEY1("RO access"), "generic", "1.0.0", "O(1)",
     "nondeterministic_output", NULL},
    {"pttl", cmd_pttl, 2, R | F, KS, KEY1("RO access"), "generic", "2.6.0", "O(1)",
     "nondeterministic_output", NULL},
    {"expiretime", cmd_expiretime, 2, R | F, KS, KEY1("RO access"), "generic", "7.0.0", "O(1)",
     NULL, NULL},
    {"pexpiretime", cmd_pexpiretime, 2, R | F, KS, KEY1("RO access"), "generic", "7.0.0", "O(1)",
     NULL, NULL},
    {"persist", cmd_persist, 2, W | F, KS, KEY1("RW update"), "generic", "2.2.0", "O(1)", NULL,
     NULL},
    {"keys", cmd_keys, 2, R, KS | CAT_DANGEROUS, NOKEYS, "generic", "1.0.0", "O(N)",
     "request_policy:all_shards nondeterministic_output_order", NULL},
    {"scan", cmd_scan, -2, R, KS, NOKEYS, "generic", "2.8.0", "O(1) for every call. O(N) for a "
     "complete iteration", "nondeterministic_output request_policy:special", NULL},
    {"randomkey", cmd_randomkey, 1, R, KS, NOKEYS, "generic", "1.0.0", "O(1)",
     "request_policy:all_shards nondeterministic_output", NULL},
    {"rename", cmd_rename, 3, W, KS, KEY12("RW access delete", "OW update"), "generic", "1.0.0",
     "O(1)", NULL, NULL},
    {"renamenx", cmd_renamenx, 3, W | F, KS, KEY12("RW access delete", "OW insert"), "generic",
     "1.0.0", "O(1)", NULL, NULL},
    {"copy", cmd_copy, -3, W | M, KS, KEY12("RO access", "OW update"), "generic", "6.2.0",
     "O(N)", NULL, NULL},
    {"move", cmd_move, 3, W | F, KS, KEY1("RW access update"), "generic", "1.0.0", "O(1)", NULL,
     NULL},
    {"dbsize", cmd_dbsize, 1, R | F, KS, NOKEYS, "server", "1.0.0", "O(1)",
     "request_policy:all_shards response_policy:agg_sum", NULL},
    {"object", NULL, -2, 0, 0, NOKEYS, "generic", "2.2.3", "Depends on subcommand.", NULL,
     object_subs},
};

const cmd_family cmd_family_keys = CMD_FAMILY(rows);
