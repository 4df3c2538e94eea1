/* dump.c - DUMP and RESTORE.
 *
 * A payload is a value in the form snapshots persist it (a kind byte, then
 * the kind's compact bytes; a string is a 0 byte and its bytes), then a
 * 2-byte version and Redis's CRC-64 of everything before it, little endian,
 * as Redis lays out its own. The format inside is Kasi's: the version
 * (DUMP_VERSION) is one Redis refuses, and Kasi refuses any other, so a
 * payload never crosses between them unread. RESTORE checks the version
 * and checksum ("ERR DUMP payload version or checksum are wrong"), then the
 * kind's restore checks every byte of the value (counts, lengths, order,
 * duplicates) before anything is stored ("ERR Bad data format"): a payload
 * comes from a client. */
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "lib/crc64.h"

#define DUMP_VERSION 0x4B01   /* 'K', 1: above any RDB version Redis reads */
#define FOOTER 10

static void put_le(char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (char)(v >> (8 * i));
}

static uint64_t get_le(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | (unsigned char)p[i];
    return v;
}

static void cmd_dump(cmd_call *x)
{
    kref r;
    buf out = {0};
    arg_ref(x, 1, &r);
    ks_lock(&r);
    item *it = ks_read(&r, x->now);
    if (!it) {
        ks_unlock(&r);
        reply_null(x);
        return;
    }
    if (!item_typed(it)) {
        buf_reserve(&out, item_vlen(it) + 1 + FOOTER);
        buf_append(&out, "", 1);   /* KIND_STRING */
        buf_append(&out, item_cval(it), item_vlen(it));
    } else {
        const kind_ops *ops = kind_ops_of(item_kind(it));
        if (ops->serialize) ops->serialize(it, &out);
        else buf_append(&out, item_cval(it), item_vlen(it));
    }
    ks_unlock(&r);
    char foot[FOOTER];
    put_le(foot, DUMP_VERSION, 2);
    buf_append(&out, foot, 2);
    put_le(foot, crc64(0, out.data, out.len), 8);
    buf_append(&out, foot, 8);
    resp_bulk(x->out, out.data, out.len);
    buf_free(&out);
}

/* Whether a payload's footer holds Kasi's version and the right checksum. */
static int payload_ok(const char *p, size_t n)
{
    if (n < FOOTER + 1) return 0;
    if (get_le(p + n - FOOTER, 2) != DUMP_VERSION) return 0;
    return get_le(p + n - 8, 8) == crc64(0, p, n - 8);
}

/* The item the payload's value (its footer cut off) makes for r's key, or
 * NULL when it is not a well-formed value. */
static item *payload_item(kref *r, const char *p, size_t n, int64_t expire)
{
    unsigned kind = (unsigned char)p[0] >> 4;
    if (p[0] == 0) return ks_new(r, p + 1, n - 1, expire);
    if (kind == KIND_STRING) return NULL;
    const kind_ops *ops = kind_ops_of(kind);
    if (!ops || !ops->restore) return NULL;   /* never kept unchecked */
    return ops->restore(r, p, n, expire);
}

static void cmd_restore(cmd_call *x)
{
    int replace = 0, absttl = 0, idle = 0, freq = 0;
    long long ttl, v;
    for (int j = 4; j < x->argc; j++) {
        int more = x->argc - j - 1;
        if (arg_is(x, j, "replace")) {
            replace = 1;
        } else if (arg_is(x, j, "absttl")) {
            absttl = 1;
        } else if (arg_is(x, j, "idletime") && more && !freq) {
            if (arg_ll(x, ++j, &v) < 0) return;
            if (v < 0) {
                reply_err(x, "ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = 1;
        } else if (arg_is(x, j, "freq") && more && !idle) {
            if (arg_ll(x, ++j, &v) < 0) return;
            if (v < 0 || v > 255) {
                reply_err(x, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = 1;
        } else {
            reply_syntax(x);
            return;
        }
    }
    kref r;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    if (!replace && ks_find(&r, x->now)) {
        ks_unlock(&r);
        reply_err(x, "BUSYKEY Target key name already exists.");
        return;
    }
    if (arg_ll(x, 2, &ttl) < 0) goto out;
    if (ttl < 0) {
        reply_err(x, "ERR Invalid TTL value, must be >= 0");
        goto out;
    }
    const karg *pl = &x->argv[3];
    if (!payload_ok(pl->p, pl->n)) {
        reply_err(x, "ERR DUMP payload version or checksum are wrong");
        goto out;
    }
    /* Redis adds the TTL to the clock unchecked: a huge one wraps around
     * to the past, so the key is expired at once, as there */
    int64_t clock = cmd_clock(x);
    int64_t when = !ttl ? -1 : absttl ? ttl : (int64_t)((uint64_t)ttl + (uint64_t)clock);
    int had = ks_find(&r, x->now) != NULL;
    item *it = payload_item(&r, pl->p, pl->n - FOOTER, ttl && when > clock ? when : -1);
    if (!it) {
        reply_err(x, "ERR Bad data format");
        goto out;
    }
    if (ttl && when <= clock) {   /* already expired: only the deletion is left */
        ks_discard(&r, it);
        if (replace && ks_delete(&r, x->now)) notify_key(x, CFG_NOTIFY_GENERIC, "del", 1);
        reply_ok(x);
        goto out;
    }
    ks_store(&r, it);
    if (had) notify_key(x, CFG_NOTIFY_NEW, "new", 1);   /* Redis deletes, then adds */
    notify_key(x, CFG_NOTIFY_GENERIC, "restore", 1);
    reply_ok(x);
out:
    ks_unlock(&r);
}

#define KS CAT_KEYSPACE

static const cmd_def rows[] = {
    {"dump", cmd_dump, 2, CMD_READONLY, KS, KEY1("RO access"), "generic", "2.6.0",
     "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis "
     "objects composing the value and M their average size. For small string values the time "
     "complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
     "nondeterministic_output", NULL},
    {"restore", cmd_restore, -4, CMD_WRITE | CMD_DENYOOM, KS | CAT_DANGEROUS, KEY1("OW update"),
     "generic", "2.6.0",
     "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N "
     "is the number of Redis objects composing the value and M their average size. For small string "
     "values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for "
     "sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets "
     "is O(log(N)).",
     NULL, NULL},
};

const cmd_family cmd_family_dump = CMD_FAMILY(rows);
