/* functions.c - FUNCTION LOAD, DELETE, LIST, DUMP, RESTORE, FLUSH, STATS,
 * KILL and HELP, FCALL and FCALL_RO, with Redis 7.0's semantics and texts.
 *
 * The libraries live in FUNCTION's own Lua state (script/script.h); every
 * subcommand that reads or changes them runs in the exclusive section, as
 * a function call does. A change is a write: it reaches the AOF as the
 * command it was (store/hooks.h), and snapshots hold the libraries too
 * (functions_snapshot). FUNCTION DUMP's payload is Redis's: each library
 * as an RDB function record (its code, uncompressed), the RDB version and
 * the CRC-64, so Redis's payloads restore here, LZF-compressed ones too,
 * and Kasi's restore on Redis. */
#include <stdlib.h>
#include <string.h>

#include "cmd/command.h"
#include "cmd/scripting.h"
#include "lib/crc64.h"
#include "lib/util.h"
#include "persist/record.h"

#define RDB_OPCODE_FUNCTION2 245
#define RDB_OPCODE_FUNCTION_PRE_GA 246
#define RDB_VERSION 10
#define RDB_ENC_LZF 3

static script_vm *fns(cmd_call *x) { return scripting_vm(x, 1); }

/* The change as the AOF will replay it. */
static void logged(cmd_call *x) { ks_effect_keyless(x->ks, call_domain(x), x->argc, x->argv); }

/* ---- FCALL ---- */

static void fcall(cmd_call *x, int is_ro)
{
    const script_fn *fn;
    int nkeys;
    script_vm *vm = fns(x);
    if (!vm) return;
    fn = script_fn_find(vm, x->argv[1].p, x->argv[1].n);
    if (!fn) {
        reply_err(x, "ERR Function not found");
        return;
    }
    if (scripting_numkeys(x, &nkeys, "ERR Bad number of keys provided") < 0) return;
    scripting_run(x, NULL, is_ro, nkeys, fn);
}

static void cmd_fcall(cmd_call *x) { fcall(x, 0); }
static void cmd_fcall_ro(cmd_call *x) { fcall(x, 1); }

/* ---- LOAD, DELETE, FLUSH ---- */

static void fn_load(cmd_call *x)
{
    int replace = 0;
    buf err = {0};
    script_vm *vm;
    for (int i = 2; i < x->argc - 1; i++) {
        if (!arg_is(x, i, "replace")) {
            resp_errorf(x->out, "ERR Unknown option given: %.*s", (int)x->argv[i].n, x->argv[i].p);
            return;
        }
        replace = 1;
    }
    if (!(vm = fns(x))) return;
    if (script_lib_load(vm, x->argv[x->argc - 1].p, x->argv[x->argc - 1].n, replace, 0, &err) < 0) {
        resp_error_len(x->out, err.data, err.len);
    } else {
        resp_bulk_cstr(x->out, script_lib_first(vm)->name);   /* the newest comes first */
        logged(x);
    }
    buf_free(&err);
}

static void fn_delete(cmd_call *x)
{
    script_vm *vm = fns(x);
    if (!vm) return;
    if (script_lib_delete(vm, x->argv[2].p, x->argv[2].n) < 0) {
        reply_err(x, "ERR Library not found");
        return;
    }
    logged(x);
    reply_ok(x);
}

static void flush_all(script_vm *vm)
{
    while (script_lib_first(vm)) {
        script_lib *l = script_lib_first(vm);
        script_lib_delete(vm, l->name, strlen(l->name));
    }
}

static void fn_flush(cmd_call *x)
{
    script_vm *vm;
    if (x->argc > 3) {
        reply_subcmd_syntax(x);
        return;
    }
    if (x->argc == 3 && !arg_is(x, 2, "sync") && !arg_is(x, 2, "async")) {
        reply_err(x, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    if (!(vm = fns(x))) return;
    flush_all(vm);
    logged(x);
    reply_ok(x);
}

/* ---- LIST, STATS ---- */

static void list_one(cmd_call *x, const script_lib *l, int code)
{
    static const struct { unsigned flag; const char *name; } names[] = {
        {SCRIPT_NO_WRITES, "no-writes"},     {SCRIPT_ALLOW_OOM, "allow-oom"},
        {SCRIPT_ALLOW_STALE, "allow-stale"}, {SCRIPT_NO_CLUSTER, "no-cluster"},
        {SCRIPT_CROSS_SLOT, "allow-cross-slot-keys"},
    };
    reply_map(x, code ? 4 : 3);
    resp_bulk_cstr(x->out, "library_name");
    resp_bulk_cstr(x->out, l->name);
    resp_bulk_cstr(x->out, "engine");
    resp_bulk_cstr(x->out, "LUA");
    resp_bulk_cstr(x->out, "functions");
    resp_array(x->out, l->nfns);
    for (int i = 0; i < l->nfns; i++) {
        const script_fn *f = &l->fns[i];
        int n = 0;
        reply_map(x, 3);
        resp_bulk_cstr(x->out, "name");
        resp_bulk_cstr(x->out, f->name);
        resp_bulk_cstr(x->out, "description");
        if (f->desc) resp_bulk_cstr(x->out, f->desc);
        else reply_null(x);
        resp_bulk_cstr(x->out, "flags");
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) n += !!(f->flags & names[j].flag);
        reply_set(x, n);
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++)
            if (f->flags & names[j].flag) resp_simple(x->out, names[j].name);
    }
    if (code) {
        resp_bulk_cstr(x->out, "library_code");
        resp_bulk(x->out, l->code, l->len);
    }
}

static void fn_list(cmd_call *x)
{
    const karg *pattern = NULL;
    int code = 0;
    long long n = 0;
    size_t token;
    script_vm *vm;
    for (int i = 2; i < x->argc; i++) {
        if (!code && arg_is(x, i, "withcode")) {
            code = 1;
        } else if (!pattern && arg_is(x, i, "libraryname")) {
            if (i + 1 >= x->argc) {
                reply_err(x, "ERR library name argument was not given");
                return;
            }
            pattern = &x->argv[++i];
        } else {
            resp_errorf(x->out, "ERR Unknown argument %.*s", (int)x->argv[i].n, x->argv[i].p);
            return;
        }
    }
    if (!(vm = fns(x))) return;
    token = resp_array_defer(x->out);
    for (const script_lib *l = script_lib_first(vm); l; l = l->next) {
        if (pattern && !util_glob_match(pattern->p, pattern->n, l->name, strlen(l->name), 1)) continue;
        list_one(x, l, code);
        n++;
    }
    resp_array_fill(x->out, token, n);
}

static void fn_stats(cmd_call *x)
{
    size_t libs = 0, nfns = 0;
    script_vm *vm = scripting_vm_if_made(1);
    if (vm) script_lib_counts(vm, &libs, &nfns);
    reply_map(x, 2);
    resp_bulk_cstr(x->out, "running_script");
    scripting_running(x);
    resp_bulk_cstr(x->out, "engines");
    reply_map(x, 1);
    resp_bulk_cstr(x->out, "LUA");
    reply_map(x, 2);
    resp_bulk_cstr(x->out, "libraries_count");
    resp_int(x->out, (long long)libs);
    resp_bulk_cstr(x->out, "functions_count");
    resp_int(x->out, (long long)nfns);
}

static void fn_kill(cmd_call *x) { scripting_kill(x, 1); }

/* ---- DUMP, RESTORE ---- */

/* An RDB string: its length (6, 14, 32 or 64 bits), then the bytes. */
static void rdb_string(buf *b, const char *p, size_t n)
{
    unsigned char h[9];
    size_t hn;
    if (n < 64) {
        h[0] = (unsigned char)n, hn = 1;
    } else if (n < 16384) {
        h[0] = (unsigned char)(0x40 | (n >> 8)), h[1] = (unsigned char)n, hn = 2;
    } else if (n <= 0xffffffffu) {
        h[0] = 0x80, hn = 5;
        for (int i = 0; i < 4; i++) h[1 + i] = (unsigned char)(n >> (24 - 8 * i));
    } else {
        h[0] = 0x81, hn = 9;
        for (int i = 0; i < 8; i++) h[1 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    }
    buf_append(b, h, hn);
    buf_append(b, p, n);
}

static void functions_payload(script_vm *vm, buf *out)
{
    unsigned char foot[10];
    uint64_t crc;
    for (const script_lib *l = vm ? script_lib_first(vm) : NULL; l; l = l->next) {
        buf_append(out, "\xf5", 1);
        rdb_string(out, l->code, l->len);
    }
    foot[0] = RDB_VERSION, foot[1] = 0;
    buf_append(out, foot, 2);
    crc = crc64(0, out->data, out->len);
    for (int i = 0; i < 8; i++) foot[i] = (unsigned char)(crc >> (8 * i));
    buf_append(out, foot, 8);
}

void functions_snapshot(buf *records)
{
    script_vm *vm = scripting_vm_if_made(1);
    buf payload = {0};
    slice argv[4] = {{"FUNCTION", 8}, {"RESTORE", 7}, {NULL, 0}, {"REPLACE", 7}};
    if (!vm || !script_lib_first(vm)) return;
    functions_payload(vm, &payload);
    argv[2].p = payload.data, argv[2].n = payload.len;
    rec_cmd(records, "", 0, 4, argv);   /* replayed in the default domain, which it ignores */
    buf_free(&payload);
}

static void fn_dump(cmd_call *x)
{
    buf out = {0};
    script_vm *vm = fns(x);
    if (!vm) return;
    functions_payload(vm, &out);
    resp_bulk(x->out, out.data, out.len);
    buf_free(&out);
}

/* A length as RDB writes it; -1 when bad or past end. enc: a special
 * encoding's number (0xC0 | n), else -1. */
static int rdb_len(const unsigned char **p, const unsigned char *end, uint64_t *len, int *enc)
{
    unsigned t;
    *enc = -1;
    if (*p >= end) return -1;
    t = **p >> 6;
    if (t == 0) {
        *len = *(*p)++ & 0x3f;
    } else if (t == 1) {
        if (end - *p < 2) return -1;
        *len = (uint64_t)((*p)[0] & 0x3f) << 8 | (*p)[1];
        *p += 2;
    } else if (t == 3) {
        *enc = *(*p)++ & 0x3f;
        *len = 0;
    } else if (**p == 0x80 || **p == 0x81) {
        int k = **p == 0x80 ? 4 : 8;
        if (end - *p < 1 + k) return -1;
        *len = 0;
        for (int i = 1; i <= k; i++) *len = *len << 8 | (*p)[i];
        *p += 1 + k;
    } else {
        return -1;
    }
    return 0;
}

/* LZF, as Redis compresses long strings: literal runs and back
 * references. 0, or -1 when the data does not decode to exactly n bytes. */
static int lzf_decode(const unsigned char *in, size_t inlen, char *out, size_t n)
{
    size_t i = 0, o = 0;
    while (i < inlen) {
        unsigned ctrl = in[i++];
        if (ctrl < 32) {
            size_t run = ctrl + 1;
            if (i + run > inlen || o + run > n) return -1;
            memcpy(out + o, in + i, run);
            i += run, o += run;
        } else {
            size_t len = ctrl >> 5, back;
            if (len == 7) {
                if (i >= inlen) return -1;
                len += in[i++];
            }
            len += 2;
            if (i >= inlen) return -1;
            back = ((size_t)(ctrl & 0x1f) << 8) + in[i++] + 1;
            if (back > o || o + len > n) return -1;
            for (size_t k = 0; k < len; k++, o++) out[o] = out[o - back];   /* may overlap */
        }
    }
    return o == n ? 0 : -1;
}

/* The libraries' codes in a payload (checked), one after the other in
 * codes (each a size_t length, then the bytes); NULL or an error text. */
static const char *payload_codes(const char *data, size_t n, buf *codes)
{
    const unsigned char *p = (const unsigned char *)data, *end;
    uint64_t crc = 0;
    if (n < 10) return "ERR DUMP payload version or checksum are wrong";
    end = p + n - 10;
    for (int i = 0; i < 8; i++) crc |= (uint64_t)end[2 + i] << (8 * i);
    if ((end[0] | end[1] << 8) > RDB_VERSION || crc64(0, data, n - 8) != crc)
        return "ERR DUMP payload version or checksum are wrong";
    while (p < end) {
        uint64_t len, clen;
        int enc;
        if (*p != RDB_OPCODE_FUNCTION2) return "ERR given type is not a function";
        p++;
        if (rdb_len(&p, end, &len, &enc) < 0) return "ERR payload is not valid";
        if (enc == RDB_ENC_LZF) {
            char *plain;
            if (rdb_len(&p, end, &clen, &enc) < 0 || enc >= 0 || rdb_len(&p, end, &len, &enc) < 0 || enc >= 0 ||
                clen > (uint64_t)(end - p) || len > 512u * 1024 * 1024)
                return "ERR payload is not valid";
            /* the length was only claimed: at most 255 bytes out per byte in */
            if (len / 255 > clen) return "ERR payload is not valid";
            plain = xmalloc(len ? len : 1);
            if (lzf_decode(p, clen, plain, len) < 0) {
                free(plain);
                return "ERR payload is not valid";
            }
            buf_append(codes, &len, sizeof(size_t));
            buf_append(codes, plain, len);
            free(plain);
            p += clen;
        } else if (enc < 0 && len <= (uint64_t)(end - p)) {
            size_t l = (size_t)len;
            buf_append(codes, &l, sizeof l);
            buf_append(codes, p, l);
            p += l;
        } else {
            return "ERR payload is not valid";
        }
    }
    return NULL;
}

/* Load every code of codes (see payload_codes); -1 at the first failure. */
static int load_all(script_vm *vm, const buf *codes, int replace, int restore, buf *err)
{
    for (size_t off = 0; off < codes->len;) {
        size_t len;
        memcpy(&len, codes->data + off, sizeof len);
        off += sizeof len;
        if (script_lib_load(vm, codes->data + off, len, replace, restore, err) < 0) return -1;
        off += len;
    }
    return 0;
}

static void fn_restore(cmd_call *x)
{
    enum { APPEND, REPLACE, FLUSH } policy = APPEND;
    buf codes = {0}, before = {0}, err = {0};
    const char *why;
    script_vm *vm;
    if (x->argc > 4) {
        reply_subcmd_syntax(x);
        return;
    }
    if (x->argc == 4) {
        if (arg_is(x, 3, "append")) policy = APPEND;
        else if (arg_is(x, 3, "replace")) policy = REPLACE;
        else if (arg_is(x, 3, "flush")) policy = FLUSH;
        else {
            reply_err(x, "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
            return;
        }
    }
    if (!(vm = fns(x))) return;
    if ((why = payload_codes(x->argv[2].p, x->argv[2].n, &codes))) {
        reply_err(x, why);
        buf_free(&codes);
        return;
    }
    /* all or nothing: what there was comes back if a library fails */
    for (const script_lib *l = script_lib_first(vm); l; l = l->next) {
        buf_append(&before, &l->len, sizeof l->len);
        buf_append(&before, l->code, l->len);
    }
    if (policy == FLUSH) flush_all(vm);
    if (load_all(vm, &codes, policy == REPLACE, 1, &err) < 0) {
        buf ignored = {0};
        flush_all(vm);
        load_all(vm, &before, 1, 1, &ignored);
        buf_free(&ignored);
        resp_error_len(x->out, err.data, err.len);
    } else {
        logged(x);
        reply_ok(x);
    }
    buf_free(&codes);
    buf_free(&before);
    buf_free(&err);
}

static void fn_help(cmd_call *x)
{
    static const char *const lines[] = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
        "RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define NS CMD_NOSCRIPT
#define EX CMD_EXCLUSIVE
#define SC CAT_SCRIPTING
#define W CMD_WRITE
#define M CMD_DENYOOM
#define ALL_SHARDS "request_policy:all_shards response_policy:all_succeeded"
#define DEPENDS "Depends on the function that is executed."

static const cmd_def function_subs[] = {
    {"delete", fn_delete, 3, W | NS | EX, SC, NOKEYS, "scripting", "7.0.0", "O(1)", ALL_SHARDS, NULL},
    {"dump", fn_dump, 2, NS | EX, SC, NOKEYS, "scripting", "7.0.0", "O(N) where N is the number of functions",
     NULL, NULL},
    {"flush", fn_flush, -2, W | NS | EX, SC, NOKEYS, "scripting", "7.0.0",
     "O(N) where N is the number of functions deleted", ALL_SHARDS, NULL},
    {"help", fn_help, 2, CMD_LOADING | CMD_STALE, SC, NOKEYS, "scripting", "7.0.0", "O(1)", NULL, NULL},
    {"kill", fn_kill, 2, NS | CMD_ALLOW_BUSY, SC, NOKEYS, "scripting", "7.0.0", "O(1)",
     "request_policy:all_shards response_policy:one_succeeded", NULL},
    {"list", fn_list, -2, NS | EX, SC, NOKEYS, "scripting", "7.0.0", "O(N) where N is the number of functions",
     "nondeterministic_output_order", NULL},
    {"load", fn_load, -3, W | M | NS | EX, SC, NOKEYS, "scripting", "7.0.0",
     "O(1) (considering compilation time is redundant)", ALL_SHARDS, NULL},
    {"restore", fn_restore, -3, W | M | NS | EX, SC, NOKEYS, "scripting", "7.0.0",
     "O(N) where N is the number of functions on the payload", ALL_SHARDS, NULL},
    {"stats", fn_stats, 2, NS | CMD_ALLOW_BUSY, SC, NOKEYS, "scripting", "7.0.0", "O(1)",
     "nondeterministic_output request_policy:all_shards response_policy:special", NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips, subcommands */
static const cmd_def rows[] = {
    {"fcall", cmd_fcall, -3, SCRIPTING_RUN_FLAGS | CMD_MAY_REPLICATE, SC, KEYNUM(2, "RW access update"), "scripting", "7.0.0", DEPENDS,
     NULL, NULL},
    {"fcall_ro", cmd_fcall_ro, -3, CMD_READONLY | SCRIPTING_RUN_FLAGS, SC, KEYNUM(2, "RO access"), "scripting",
     "7.0.0", DEPENDS, NULL, NULL},
    {"function", NULL, -2, 0, 0, NOKEYS, "scripting", "7.0.0", "Depends on subcommand.", NULL, function_subs},
};

const cmd_family cmd_family_functions = CMD_FAMILY(rows);
