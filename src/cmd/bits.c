/* bits.c - the bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
 * BITFIELD_RO), with Redis 7.0's semantics and error texts. A bitmap is a
 * string: bit 0 is the top bit of its first byte, and a string reads as if
 * it went on with zero bytes. Writes go through ks_splice, ks_store or
 * ks_delete, so WATCH, snapshots and the AOF hear of them as of any string
 * write: SETBIT and BITFIELD as byte splices, BITOP as the whole value. The
 * bit arithmetic is lib/bits. */
#include <stdlib.h>
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "lib/bits.h"

#define ERR_OFFSET "ERR bit offset is not an integer or out of range"
/* The longest string Kasi stores (see store/item.h). */
#define BITS_MAX_LEN ((size_t)ITEM_TYPED)

/* Redis's getBitOffsetFromArgument: argv[i] as a bit offset, or with hash
 * and "#n" the offset of the n-th field of `bits` bits; within
 * proto-max-bulk-len bytes. On failure replies and returns -1. */
static int arg_bit_offset(cmd_call *x, int i, int hash, unsigned bits, uint64_t *off)
{
    const karg *a = &x->argv[i];
    int usehash = hash && bits > 0 && a->n > 0 && a->p[0] == '#';
    long long v;
    if (util_str2ll(a->p + usehash, a->n - (size_t)usehash, &v) < 0) goto bad;
    if (usehash) v = (long long)((unsigned long long)v * bits);   /* wraps, as Redis's does */
    if (v < 0 || (v >> 3) >= cfg_ll(&x->env->cfg->proto_max_bulk_len)) goto bad;
    *off = (uint64_t)v;
    return 0;
bad:
    reply_err(x, ERR_OFFSET);
    return -1;
}

/* The string value at `it` as bytes (NULL when missing). */
static const unsigned char *bytes_of(const item *it, size_t *len)
{
    *len = it ? item_vlen(it) : 0;
    return it ? (const unsigned char *)item_cval(it) : NULL;
}

/* Copy the up to 9 bytes a field at bit `off` can cover into b, zero past
 * the string's end; returns the byte they start at. */
static uint64_t field_window(const item *it, uint64_t off, unsigned char b[9])
{
    size_t len;
    const unsigned char *p = bytes_of(it, &len);
    uint64_t byte = off >> 3;
    memset(b, 0, 9);
    for (int i = 0; i < 9 && byte + (uint64_t)i < len; i++) b[i] = p[byte + (uint64_t)i];
    return byte;
}

static void cmd_setbit(cmd_call *x)
{
    uint64_t off;
    long long on;
    kref r;
    int bad;
    if (arg_bit_offset(x, 2, 0, 0, &off) < 0) return;
    if (util_str2ll(x->argv[3].p, x->argv[3].n, &on) < 0 || (on & ~1LL)) {
        reply_err(x, "ERR bit is not an integer or out of range");
        return;
    }
    size_t byte = (size_t)(off >> 3);
    unsigned char mask = (unsigned char)(1u << (7 - (off & 7)));
    item *it = coll_lock_write(x, 1, &r, KIND_STRING, &bad);
    if (bad) goto out;
    size_t len = it ? item_vlen(it) : 0;
    unsigned char old = byte < len ? (unsigned char)item_cval(it)[byte] : 0;
    unsigned char now = on ? (unsigned char)(old | mask) : (unsigned char)(old & ~mask);
    if (!it) {
        it = ks_new(&r, NULL, byte + 1, -1);
        memset(item_val(it), 0, byte);
        item_val(it)[byte] = (char)now;
        ks_store(&r, it);
        notify_key(x, CFG_NOTIFY_STRING, "setbit", 1);
    } else if (byte >= len || now != old) {   /* Redis writes only a change */
        ks_splice(&r, byte >= len ? byte + 1 : len, byte, (const char *)&now, 1);
        notify_key(x, CFG_NOTIFY_STRING, "setbit", 1);
    }
    resp_int(x->out, (old & mask) != 0);
out:
    ks_unlock(&r);
}

static void cmd_getbit(cmd_call *x)
{
    uint64_t off;
    kref r;
    int bad;
    size_t len;
    if (arg_bit_offset(x, 2, 0, 0, &off) < 0) return;
    item *it = coll_lock_read(x, 1, &r, KIND_STRING, &bad);
    const unsigned char *p = bytes_of(it, &len);
    if (!bad) resp_int(x->out, (off >> 3) < len && ((p[off >> 3] >> (7 - (off & 7))) & 1));
    ks_unlock(&r);
}

/* BITCOUNT's and BITPOS's range: argv[si] and argv[ei] (ei 0: not given)
 * over a string of len bytes, in bytes or, with isbit, in bits, made
 * absolute and clamped as Redis does. A bit range becomes the bytes that
 * hold it, with masks of the bits of its first and last byte that lie
 * outside it. Returns 0, or -1 (replied) when an index is no integer. */
typedef struct bit_range {
    long long start, end;
    unsigned char first_out, last_out;   /* bits outside the range, in its edge bytes */
} bit_range;

static void range_clamp(bit_range *g, long long totlen, int isbit)
{
    if (isbit) totlen <<= 3;
    if (g->start < 0) g->start += totlen;
    if (g->end < 0) g->end += totlen;
    if (g->start < 0) g->start = 0;
    if (g->end < 0) g->end = 0;
    if (g->end >= totlen) g->end = totlen - 1;
    g->first_out = g->last_out = 0;
    if (isbit && g->start <= g->end) {
        g->first_out = (unsigned char)(~((1u << (8 - (g->start & 7))) - 1) & 0xff);
        g->last_out = (unsigned char)((1u << (7 - (g->end & 7))) - 1);
        g->start >>= 3;
        g->end >>= 3;
    }
}

/* argv[i], if given, as BYTE (0) or BIT (1); -1 (replied) otherwise. */
static int arg_unit(cmd_call *x, int i)
{
    if (i >= x->argc || arg_is(x, i, "byte")) return 0;
    if (arg_is(x, i, "bit")) return 1;
    reply_syntax(x);
    return -1;
}

static void cmd_bitcount(cmd_call *x)
{
    kref r;
    int bad, isbit = 0;
    size_t len;
    bit_range g = {0, 0, 0, 0};
    item *it = coll_lock_read(x, 1, &r, KIND_STRING, &bad);
    const unsigned char *p = bytes_of(it, &len);
    if (bad) goto out;
    if (!it) {
        resp_int(x->out, 0);
        goto out;
    }
    if (x->argc == 4 || x->argc == 5) {
        if (arg_ll(x, 2, &g.start) < 0 || arg_ll(x, 3, &g.end) < 0) goto out;
        if (g.start < 0 && g.end < 0 && g.start > g.end) {
            resp_int(x->out, 0);
            goto out;
        }
        if ((isbit = arg_unit(x, 4)) < 0) goto out;
        range_clamp(&g, (long long)len, isbit);
    } else if (x->argc == 2) {
        g.end = (long long)len - 1;
    } else {
        reply_syntax(x);
        goto out;
    }
    if (g.start > g.end) {
        resp_int(x->out, 0);
        goto out;
    }
    {
        uint64_t n = bits_count(p + g.start, (size_t)(g.end - g.start + 1));
        n -= (uint64_t)__builtin_popcount(p[g.start] & g.first_out);
        n -= (uint64_t)__builtin_popcount(p[g.end] & g.last_out);
        resp_int(x->out, (long long)n);
    }
out:
    ks_unlock(&r);
}

/* The first bit equal to bit in p[s..e], the edge bytes' bits outside the
 * range read as the opposite of bit; in bits from byte s, and when there is
 * none, -1 for a 1 and the bits of the range for a 0 (Redis's bitpos). */
static long long bitpos_range(const unsigned char *p, long long s, long long e, int bit,
                              unsigned char first_out, unsigned char last_out)
{
    unsigned char edge[1];
    long long pos, skipped = 0, bytes = e - s + 1;
    if (first_out) {
        edge[0] = bit ? (unsigned char)(p[s] & ~first_out) : (unsigned char)(p[s] | first_out);
        if (last_out && bytes == 1)
            edge[0] = bit ? (unsigned char)(edge[0] & ~last_out) : (unsigned char)(edge[0] | last_out);
        pos = bits_pos(edge, 1, bit);
        if (bytes == 1 || (pos != -1 && pos != 8)) return pos;
        s++;
        bytes--;
        skipped = 8;
    }
    long long mid = bytes - (last_out ? 1 : 0);
    if (mid > 0) {
        pos = bits_pos(p + s, (size_t)mid, bit);
        if (bytes == mid || (pos != -1 && pos != mid * 8)) return pos == -1 ? -1 : pos + skipped;
        skipped += mid * 8;
    }
    edge[0] = bit ? (unsigned char)(p[e] & ~last_out) : (unsigned char)(p[e] | last_out);
    pos = bits_pos(edge, 1, bit);
    return pos == -1 ? -1 : pos + skipped;
}

static void cmd_bitpos(cmd_call *x)
{
    long long bit, pos;
    kref r;
    int bad, isbit = 0, end_given = x->argc >= 5;
    size_t len;
    bit_range g = {0, 0, 0, 0};
    if (arg_ll(x, 2, &bit) < 0) return;
    if (bit != 0 && bit != 1) {
        reply_err(x, "ERR The bit argument must be 1 or 0.");
        return;
    }
    item *it = coll_lock_read(x, 1, &r, KIND_STRING, &bad);
    const unsigned char *p = bytes_of(it, &len);
    if (!it) {
        if (!bad) resp_int(x->out, bit ? -1 : 0);   /* a missing key is all zeros */
        goto out;
    }
    if (x->argc >= 4 && x->argc <= 6) {
        if (arg_ll(x, 3, &g.start) < 0) goto out;
        if ((isbit = arg_unit(x, 5)) < 0) goto out;
        if (end_given) {
            if (arg_ll(x, 4, &g.end) < 0) goto out;
        } else {
            g.end = (long long)len - 1;
        }
        range_clamp(&g, (long long)len, isbit);
    } else if (x->argc == 3) {
        g.end = (long long)len - 1;
    } else {
        reply_syntax(x);
        goto out;
    }
    if (g.start > g.end) {
        resp_int(x->out, -1);   /* an empty range holds neither a 0 nor a 1 */
        goto out;
    }
    pos = bitpos_range(p, g.start, g.end, (int)bit, g.first_out, g.last_out);
    /* Past an explicit end there are no zeros to find. */
    if (end_given && bit == 0 && pos == (g.end - g.start + 1) * 8) pos = -1;
    resp_int(x->out, pos == -1 ? -1 : pos + g.start * 8);
out:
    ks_unlock(&r);
}

enum { OP_AND, OP_OR, OP_XOR, OP_NOT };

static void cmd_bitop(cmd_call *x)
{
    static const char *const names[] = {"and", "or", "xor", "not"};
    int op = -1, n = x->argc - 3;
    for (int i = 0; i < 4 && op < 0; i++)
        if (x->argv[1].n == strlen(names[i]) && strncasecmp(x->argv[1].p, names[i], x->argv[1].n) == 0)
            op = i;
    if (op < 0) {
        reply_syntax(x);
        return;
    }
    if (op == OP_NOT && x->argc != 4) {
        reply_err(x, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    ks_lockset ls;
    kref *refs = arg_lock_keys(x, 2, 1, &ls);   /* the destination, then the sources */
    const unsigned char **src = xmalloc(sizeof(*src) * (size_t)n);
    size_t *lens = xmalloc(sizeof(*lens) * (size_t)n), maxlen = 0;
    for (int k = 0; k < n; k++) {
        /* finding one source (maybe dropping it, expired) never moves another */
        item *it = ks_read(&refs[k + 1], x->now);
        if (it && item_typed(it)) {
            reply_wrongtype(x);
            goto out;
        }
        src[k] = bytes_of(it, &lens[k]);
        if (lens[k] > maxlen) maxlen = lens[k];
    }
    kref *dst = &refs[0];
    dst->gen = (uint64_t)-1;   /* the reads may have moved table entries */
    ks_find(dst, x->now);
    if (!maxlen) {
        if (ks_delete(dst, x->now)) notify_key(x, CFG_NOTIFY_GENERIC, "del", 2);
        resp_int(x->out, 0);
        goto out;
    }
    {
        /* a new item never moves the sources, so it is filled from them */
        item *it = ks_new(dst, NULL, maxlen, -1);
        unsigned char *res = (unsigned char *)item_val(it);
        for (size_t j = 0; j < maxlen; j++) {
            unsigned char v = j < lens[0] ? src[0][j] : 0;
            if (op == OP_NOT) v = (unsigned char)~v;
            for (int k = 1; k < n; k++) {
                unsigned char b = j < lens[k] ? src[k][j] : 0;
                if (op == OP_AND) v &= b;
                else if (op == OP_OR) v |= b;
                else v ^= b;
            }
            res[j] = v;
        }
        ks_store(dst, it);
        notify_key(x, CFG_NOTIFY_STRING, "set", 2);
    }
    resp_int(x->out, (long long)maxlen);
out:
    ks_lockset_unlock(&ls);
    free(src);
    free(lens);
    free(refs);
}

/* ---- BITFIELD ---- */

enum { BF_GET, BF_SET, BF_INCRBY };

typedef struct bf_op {
    uint64_t off;
    int64_t v;                 /* SET's value, INCRBY's increment */
    unsigned char code, mode, bits, sign;
} bf_op;

/* Redis's getBitfieldTypeFromArgument: i1..i64 or u1..u63. The digits end
 * at a NUL byte, as Redis's C string does. */
static int arg_bf_type(cmd_call *x, int i, bf_op *o)
{
    const karg *a = &x->argv[i];
    long long bits;
    if (a->n > 0 && a->p[0] == 'i') o->sign = 1;   /* lower case only, as in Redis 7.0 */
    else if (a->n > 0 && a->p[0] == 'u') o->sign = 0;
    else goto bad;
    if (util_str2ll(a->p + 1, strnlen(a->p + 1, a->n - 1), &bits) < 0 || bits < 1 ||
        bits > (o->sign ? 64 : 63))
        goto bad;
    o->bits = (unsigned char)bits;
    return 0;
bad:
    reply_err(x, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
                 "supported but i64 is.");
    return -1;
}

/* Parse BITFIELD's operations from argv[2] on into ops; returns how many,
 * or -1 (replied). *top is the highest bit a write reaches (-1: none). */
static int bf_parse(cmd_call *x, bf_op *ops, long long *top)
{
    int n = 0, mode = BITS_WRAP;
    *top = -1;
    for (int j = 2; j < x->argc; j++) {
        int rem = x->argc - j - 1;
        bf_op *o = &ops[n];
        if (arg_is(x, j, "get") && rem >= 2) o->code = BF_GET;
        else if (arg_is(x, j, "set") && rem >= 3) o->code = BF_SET;
        else if (arg_is(x, j, "incrby") && rem >= 3) o->code = BF_INCRBY;
        else if (arg_is(x, j, "overflow") && rem >= 1) {
            j++;
            if (arg_is(x, j, "wrap")) mode = BITS_WRAP;
            else if (arg_is(x, j, "sat")) mode = BITS_SAT;
            else if (arg_is(x, j, "fail")) mode = BITS_FAIL;
            else {
                reply_err(x, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            continue;
        } else {
            reply_syntax(x);
            return -1;
        }
        if (arg_bf_type(x, j + 1, o) < 0 || arg_bit_offset(x, j + 2, 1, o->bits, &o->off) < 0)
            return -1;
        o->mode = (unsigned char)mode;
        o->v = 0;
        if (o->code != BF_GET) {
            long long last = (long long)(o->off + o->bits - 1);
            if (last > *top) *top = last;
            long long v;
            if (arg_ll(x, j + 3, &v) < 0) return -1;
            o->v = v;
        }
        n++;
        j += o->code == BF_GET ? 2 : 3;
    }
    return n;
}

/* One SET or INCRBY on the field window b (at bit `off` in it): the reply
 * value in *out; returns 1 when it writes (b changed or not), 0 when it
 * fails under OVERFLOW FAIL. */
static int bf_write(const bf_op *o, unsigned char *b, uint64_t off, long long *out)
{
    int over;
    if (o->sign) {
        int64_t old = bits_get_signed(b, off, o->bits), nv, lim = 0;
        if (o->code == BF_INCRBY) {
            over = bits_overflow_s(old, o->v, o->bits, o->mode, &lim);
            nv = over ? lim : (int64_t)((uint64_t)old + (uint64_t)o->v);
            *out = nv;
        } else {
            over = bits_overflow_s(o->v, 0, o->bits, o->mode, &lim);
            nv = over ? lim : o->v;
            *out = old;
        }
        if (over && o->mode == BITS_FAIL) return 0;
        bits_set(b, off, o->bits, (uint64_t)nv);
    } else {
        uint64_t old = bits_get(b, off, o->bits), nv, lim = 0;
        if (o->code == BF_INCRBY) {
            over = bits_overflow_u(old, o->v, o->bits, o->mode, &lim);
            nv = over ? lim : old + (uint64_t)o->v;
            *out = (long long)nv;
        } else {
            over = bits_overflow_u((uint64_t)o->v, 0, o->bits, o->mode, &lim);
            nv = over ? lim : (uint64_t)o->v;
            *out = (long long)old;
        }
        if (over && o->mode == BITS_FAIL) return 0;
        bits_set(b, off, o->bits, nv);
    }
    return 1;
}

static void bitfield_generic(cmd_call *x, int ro)
{
    bf_op *ops = xmalloc(sizeof(bf_op) * (size_t)(x->argc / 2 + 1));
    long long top;
    int n = bf_parse(x, ops, &top), bad, changes = 0, grew = 0;
    kref r;
    item *it;
    if (n < 0) {
        free(ops);
        return;
    }
    if (top < 0) {
        it = coll_lock_read(x, 1, &r, KIND_STRING, &bad);
    } else {
        if (ro) {
            free(ops);
            reply_err(x, "ERR BITFIELD_RO only supports the GET subcommand");
            return;
        }
        it = coll_lock_write(x, 1, &r, KIND_STRING, &bad);
        size_t need = (size_t)(top >> 3) + 1;
        if (!bad && need > BITS_MAX_LEN) {
            /* Redis would grow the string up to 8 bytes past 512 MB */
            reply_err(x, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
            bad = 1;
        } else if (!bad && !it) {
            /* the string grows to hold every field written, as in Redis,
             * even when OVERFLOW FAIL then writes none of them */
            it = ks_new(&r, NULL, need, -1);
            memset(item_val(it), 0, need);
            ks_store(&r, it);
            grew = 1;
        } else if (!bad && item_vlen(it) < need) {
            ks_splice(&r, need, 0, NULL, 0);
            grew = 1;
        }
    }
    if (bad) goto out;
    resp_array(x->out, n);
    for (int j = 0; j < n; j++) {
        const bf_op *o = &ops[j];
        unsigned char b[9], was[9];
        uint64_t byte = field_window(r.it, o->off, b), off = o->off - byte * 8;
        long long v;
        if (o->code == BF_GET) {
            if (o->sign) resp_int(x->out, bits_get_signed(b, off, o->bits));
            else resp_int(x->out, (long long)bits_get(b, off, o->bits));
            continue;
        }
        memcpy(was, b, 9);
        if (!bf_write(o, b, off, &v)) {
            reply_null(x);
            continue;
        }
        resp_int(x->out, v);
        size_t nb = (size_t)((off + o->bits + 7) >> 3);   /* the bytes the field covers */
        changes += grew;   /* for Redis, a write that made or grew the string changed it */
        if (memcmp(was, b, nb) != 0) {
            changes++;
            item *cur = ks_find(&r, x->now);   /* a store or splice before left r's position stale */
            ks_splice(&r, item_vlen(cur), (size_t)byte, (const char *)b, nb);
        }
    }
    if (changes) notify_key(x, CFG_NOTIFY_STRING, "setbit", 1);
out:
    ks_unlock(&r);
    free(ops);
}

static void cmd_bitfield(cmd_call *x) { bitfield_generic(x, 0); }
static void cmd_bitfield_ro(cmd_call *x) { bitfield_generic(x, 1); }

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define BM CAT_BITMAP

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"setbit", cmd_setbit, 4, W | M, BM, KEY1("RW access update"), "bitmap", "2.2.0", "O(1)", NULL,
     NULL},
    {"getbit", cmd_getbit, 3, R | F, BM, KEY1("RO access"), "bitmap", "2.2.0", "O(1)", NULL, NULL},
    {"bitcount", cmd_bitcount, -2, R, BM, KEY1("RO access"), "bitmap", "2.6.0", "O(N)", NULL, NULL},
    {"bitpos", cmd_bitpos, -3, R, BM, KEY1("RO access"), "bitmap", "2.8.7", "O(N)", NULL, NULL},
    {"bitop", cmd_bitop, -4, W | M, BM, {KSPEC(2, 0, 1, "OW update"), KSPEC(3, -1, 1, "RO access")},
     "bitmap", "2.6.0", "O(N)", NULL, NULL},
    {"bitfield", cmd_bitfield, -2, W | M, BM, KEY1("RW access update variable_flags"), "bitmap",
     "3.2.0", "O(1) for each subcommand specified", NULL, NULL},
    {"bitfield_ro", cmd_bitfield_ro, -2, R | F, BM, KEY1("RO access"), "bitmap", "6.0.0",
     "O(1) for each subcommand specified", NULL, NULL},
};

const cmd_family cmd_family_bits = CMD_FAMILY(rows);
