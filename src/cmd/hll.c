/* hll.c - the HyperLogLog commands (PFADD PFCOUNT PFMERGE PFSELFTEST
 * PFDEBUG), with Redis 7.0's semantics and error texts. A HyperLogLog is a
 * string in Redis's HYLL layout (lib/hll), so GET, SET and persistence see
 * its bytes. Writes go through ks_splice or ks_store, as byte splices of
 * what changed (a dense PFADD: the registers touched and the header's
 * cache bit), so WATCH, snapshots and the AOF hear of them as of any
 * string write. PFCOUNT of one key writes the cardinality it computed
 * into the header's cache, as Redis does, and that counts as a write. */
#include <stdlib.h>
#include <string.h>

#include "cmd/collection.h"
#include "cmd/notify.h"
#include "lib/hll.h"

#define ERR_NOT_HLL "WRONGTYPE Key is not a valid HyperLogLog string value."
#define ERR_INVALID "INVALIDOBJ Corrupted HLL object detected"

/* An element's register and the value it offers. */
typedef struct hll_elem {
    uint32_t index;
    unsigned count;
} hll_elem;

/* Checks a key found to read or write: NULL when missing; otherwise its
 * bytes, or NULL with *bad set and a reply (not a string, not an HLL). */
static const unsigned char *hll_of(cmd_call *x, item *it, size_t *len, int *bad)
{
    *bad = 0;
    if (!it) return NULL;
    *len = item_vlen(it);
    const unsigned char *p = (const unsigned char *)item_cval(it);
    if (item_typed(it)) {
        reply_wrongtype(x);
        *bad = 1;
    } else if (!hll_valid(p, *len)) {
        reply_err(x, ERR_NOT_HLL);
        *bad = 1;
    }
    return *bad ? NULL : p;
}

/* Store h as r's key's value: a new key, or a splice of the bytes that
 * differ from the old value (always one splice, so WATCH hears of it even
 * when nothing changed, as Redis signals the key). */
static void hll_store(kref *r, const hll_buf *h)
{
    if (!r->it) {
        ks_store(r, ks_new(r, (const char *)h->p, h->len, -1));
        return;
    }
    const unsigned char *old = (const unsigned char *)item_cval(r->it);
    size_t olen = item_vlen(r->it), lo = 0, hi = h->len;
    size_t common = olen < h->len ? olen : h->len;
    while (lo < common && old[lo] == h->p[lo]) lo++;
    if (olen == h->len) {
        while (hi > lo && old[hi - 1] == h->p[hi - 1]) hi--;
    }
    ks_splice(r, h->len, lo, (const char *)h->p + lo, hi - lo);
}

/* Registers raised in a dense value at `it` (in place): the changed bytes
 * as one splice, the cache bit as another. Returns how many rose. */
static int dense_pfadd(kref *r, const hll_elem *e, int n)
{
    const unsigned char *p = (const unsigned char *)item_cval(r->it), *regs = p + HLL_HDR;
    size_t lo = HLL_REGISTERS, hi = 0;
    for (int j = 0; j < n; j++) {
        if (e[j].count <= hll_dense_get(regs, e[j].index)) continue;
        size_t b = e[j].index * 6 / 8;
        if (b < lo) lo = b;
        if (b + 1 > hi) hi = b + 1;
    }
    if (lo > hi) return 0;
    if (hi >= HLL_REGISTERS * 6 / 8) hi = HLL_REGISTERS * 6 / 8 - 1;
    unsigned char scratch[HLL_REGISTERS * 6 / 8];
    int updated = 0;
    memcpy(scratch + lo, regs + lo, hi - lo + 1);
    for (int j = 0; j < n; j++) {
        /* scratch holds only [lo, hi]: what is not raised is not read there */
        if (e[j].count <= hll_dense_get(regs, e[j].index) ||
            e[j].count <= hll_dense_get(scratch, e[j].index))
            continue;
        hll_dense_set(scratch, e[j].index, e[j].count);
        updated++;
    }
    size_t vlen = item_vlen(r->it);
    ks_splice(r, vlen, HLL_HDR + lo, (const char *)scratch + lo, hi - lo + 1);
    p = (const unsigned char *)item_cval(r->it);
    if (!(p[15] & 0x80)) {
        unsigned char c = p[15] | 0x80;
        ks_splice(r, vlen, 15, (const char *)&c, 1);
    }
    return updated;
}

static void cmd_pfadd(cmd_call *x)
{
    int n = x->argc - 2, bad, updated = 0, err = 0;
    hll_elem stack[32], *e = n <= 32 ? stack : xmalloc(sizeof(*e) * (size_t)n);
    for (int j = 0; j < n; j++)
        e[j].count = hll_pattern(x->argv[j + 2].p, x->argv[j + 2].n, &e[j].index);
    kref r;
    size_t len = 0;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    const unsigned char *p = hll_of(x, ks_find(&r, x->now), &len, &bad);
    if (bad) goto out;
    if (p && p[4] == HLL_DENSE) {
        updated = dense_pfadd(&r, e, n);
    } else {
        hll_buf h;
        if (p) {
            hll_buf_init(&h, p, len);
        } else {
            unsigned char empty[HLL_EMPTY_LEN];
            hll_empty(empty);
            hll_buf_init(&h, empty, sizeof empty);
            updated++;
        }
        size_t max = (size_t)cfg_ll(&x->env->cfg->hll_sparse_max_bytes);
        for (int j = 0; j < n && !err; j++) {
            int rc = hll_add(&h, e[j].index, e[j].count, max);
            if (rc < 0) err = 1;
            else updated += rc;
        }
        if (updated && !err) hll_invalidate(h.p);
        /* Redis keeps what a corrupt HLL took before the error */
        if (updated) hll_store(&r, &h);
        free(h.p);
    }
    if (err) reply_err(x, ERR_INVALID);
    else resp_int(x->out, updated > 0);
    if (updated && !err) notify_key(x, CFG_NOTIFY_STRING, "pfadd", 1);
out:
    ks_unlock(&r);
    if (e != stack) free(e);
}

/* PFCOUNT of several keys: the estimate of their union, writing nothing. */
static void pfcount_many(cmd_call *x)
{
    ks_lockset ls;
    kref *refs = arg_lock_keys(x, 1, 1, &ls);
    unsigned char *max = calloc(1, HLL_REGISTERS);
    int bad, histo[64] = {0};
    size_t len = 0;
    if (!max) abort();
    for (int k = 0; k < x->argc - 1; k++) {
        const unsigned char *p = hll_of(x, ks_read(&refs[k], x->now), &len, &bad);
        if (bad) goto out;
        if (p && hll_merge(max, p, len) < 0) {
            reply_err(x, ERR_INVALID);
            goto out;
        }
    }
    hll_raw_histo(max, histo);
    resp_int(x->out, (long long)hll_estimate(histo));
out:
    ks_lockset_unlock(&ls);
    free(refs);
    free(max);
}

static void cmd_pfcount(cmd_call *x)
{
    if (x->argc > 2) {
        pfcount_many(x);
        return;
    }
    kref r;
    int bad, histo[64] = {0};
    size_t len = 0;
    arg_ref(x, 1, &r);
    ks_lock(&r);
    const unsigned char *p = hll_of(x, ks_read(&r, x->now), &len, &bad);
    if (bad) goto out;
    if (!p) {
        resp_int(x->out, 0);
        goto out;
    }
    int64_t card = hll_cached(p);
    if (card < 0) {
        if (hll_histo(p, len, histo) < 0) {
            reply_err(x, ERR_INVALID);
            goto out;
        }
        unsigned char c[HLL_HDR];
        card = (int64_t)hll_estimate(histo);
        hll_set_cached(c, (uint64_t)card);
        /* the cache is part of the value: a write, as in Redis */
        ks_splice(&r, len, 8, (const char *)c + 8, 8);
    }
    resp_int(x->out, card);
out:
    ks_unlock(&r);
}

static void cmd_pfmerge(cmd_call *x)
{
    ks_lockset ls;
    kref *refs = arg_lock_keys(x, 1, 1, &ls);   /* the destination is a source too */
    unsigned char *max = calloc(1, HLL_REGISTERS);
    int bad, dense = 0;
    size_t len = 0;
    hll_buf h = {NULL, 0, 0};
    if (!max) abort();
    for (int k = 0; k < x->argc - 1; k++) {
        const unsigned char *p = hll_of(x, ks_read(&refs[k], x->now), &len, &bad);
        if (bad) goto out;
        if (!p) continue;
        if (p[4] == HLL_DENSE) dense = 1;
        if (hll_merge(max, p, len) < 0) {
            reply_err(x, ERR_INVALID);
            goto out;
        }
    }
    kref *dst = &refs[0];
    dst->gen = (uint64_t)-1;   /* the reads may have moved table entries */
    item *it = ks_find(dst, x->now);
    if (it) {
        hll_buf_init(&h, (const unsigned char *)item_cval(it), item_vlen(it));
    } else {
        unsigned char empty[HLL_EMPTY_LEN];
        hll_empty(empty);
        hll_buf_init(&h, empty, sizeof empty);
    }
    if (dense && hll_to_dense(&h) < 0) {
        reply_err(x, ERR_INVALID);
        goto out;
    }
    if (dense) {
        /* the destination is one of the sources, so raising each of its
         * registers to the maximum, as Redis does, leaves the maximum */
        hll_pack(h.p + HLL_HDR, max);
    } else {
        size_t maxb = (size_t)cfg_ll(&x->env->cfg->hll_sparse_max_bytes);
        for (uint32_t j = 0; j < HLL_REGISTERS; j++)
            if (max[j]) hll_add(&h, j, max[j], maxb);
    }
    hll_invalidate(h.p);
    hll_store(dst, &h);
    notify_key(x, CFG_NOTIFY_STRING, "pfadd", 1);
    reply_ok(x);
out:
    ks_lockset_unlock(&ls);
    free(refs);
    free(max);
    free(h.p);
}

/* ---- PFSELFTEST ---- */

/* Redis's self test, smaller: dense registers against a plain array, then
 * the same elements added to a sparse and a dense HLL must count alike,
 * within the error HyperLogLog promises. */
static void cmd_pfselftest(cmd_call *x)
{
    unsigned char regs[HLL_REGISTERS * 6 / 8], plain[HLL_REGISTERS];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int cycle = 0; cycle < 50; cycle++) {
        memset(regs, 0, sizeof regs);
        for (uint32_t j = 0; j < HLL_REGISTERS; j++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            plain[j] = (unsigned char)(seed >> 58);
            hll_dense_set(regs, j, plain[j]);
        }
        for (uint32_t j = 0; j < HLL_REGISTERS; j++)
            if (hll_dense_get(regs, j) != plain[j]) {
                resp_errorf(x->out, "TESTFAILED Register error at %u", j);
                return;
            }
    }
    unsigned char empty[HLL_EMPTY_LEN];
    hll_buf s, d;
    hll_empty(empty);
    hll_buf_init(&s, empty, sizeof empty);
    hll_buf_init(&d, empty, sizeof empty);
    hll_to_dense(&d);
    const char *fail = NULL;
    for (uint32_t j = 1; j <= 100000 && !fail; j++) {
        uint32_t idx, ele = j * 2654435761u;
        unsigned c = hll_pattern(&ele, sizeof ele, &idx);
        hll_add(&s, idx, c, 3000);
        hll_add(&d, idx, c, 3000);
        if (j % 1000 && j > 100) continue;
        int hs[64] = {0}, hd[64] = {0};
        hll_histo(s.p, s.len, hs);
        hll_histo(d.p, d.len, hd);
        uint64_t a = hll_estimate(hs), b = hll_estimate(hd);
        double err = (double)(a > j ? a - j : j - a) / j;
        if (a != b) fail = "TESTFAILED Sparse and dense representations diverged";
        else if (err > 0.0325 && j > 100) fail = "TESTFAILED Error too big";
    }
    free(s.p);
    free(d.p);
    if (fail) reply_err(x, fail);
    else reply_ok(x);
}

/* ---- PFDEBUG ---- */

static void decode_one(void *arg, char op, unsigned value, unsigned run)
{
    if (op == 'v') buf_printf(arg, "v:%u,%u ", value, run);
    else buf_printf(arg, "%c:%u ", op, run);
}

static void cmd_pfdebug(cmd_call *x)
{
    kref r;
    int bad;
    size_t len = 0;
    arg_ref(x, 2, &r);
    ks_lock(&r);
    item *it = ks_find(&r, x->now);
    if (!it) {
        reply_err(x, "ERR The specified key does not exist");
        goto out;
    }
    const unsigned char *p = hll_of(x, it, &len, &bad);
    if (bad) goto out;
    if (arg_is(x, 1, "getreg") || arg_is(x, 1, "todense")) {
        int conv = p[4] == HLL_SPARSE;
        hll_buf h;
        hll_buf_init(&h, p, len);
        if (conv) {
            if (hll_to_dense(&h) < 0) {
                reply_err(x, ERR_INVALID);
                free(h.p);
                goto out;
            }
            hll_store(&r, &h);
        }
        if (arg_is(x, 1, "todense")) {
            resp_int(x->out, conv);
        } else {
            resp_array(x->out, HLL_REGISTERS);
            for (uint32_t j = 0; j < HLL_REGISTERS; j++)
                resp_int(x->out, hll_dense_get(h.p + HLL_HDR, j));
        }
        free(h.p);
    } else if (arg_is(x, 1, "decode")) {
        if (p[4] != HLL_SPARSE) {
            reply_err(x, "ERR HLL encoding is not sparse");
            goto out;
        }
        buf s = {0};
        hll_sparse_walk(p, len, decode_one, &s);
        resp_bulk(x->out, s.data, s.len ? s.len - 1 : 0);   /* without the last space */
        buf_free(&s);
    } else if (arg_is(x, 1, "encoding")) {
        resp_simple(x->out, p[4] == HLL_DENSE ? "dense" : "sparse");
    } else {
        const karg *a = &x->argv[1];
        resp_errorf(x->out, "ERR Unknown PFDEBUG subcommand '%.*s'", (int)strnlen(a->p, a->n), a->p);
    }
out:
    ks_unlock(&r);
}

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define A CMD_ADMIN
#define HL CAT_HYPERLOGLOG

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"pfadd", cmd_pfadd, -2, W | M | F, HL, KEY1("RW insert"), "hyperloglog", "2.8.9",
     "O(1) to add every element.", NULL, NULL},
    {"pfcount", cmd_pfcount, -2, R | CMD_MAY_REPLICATE, HL, KEYN("RW access"), "hyperloglog", "2.8.9",
     "O(1) with a very small average constant time when called with a single key. O(N) with N "
     "being the number of keys, and much bigger constant times, when called with multiple keys.",
     NULL, NULL},
    {"pfmerge", cmd_pfmerge, -2, W | M, HL, KEY1N("RW access insert", "RO access"),
     "hyperloglog", "2.8.9", "O(N) to merge N HyperLogLogs, but with high constant times.", NULL,
     NULL},
    {"pfselftest", cmd_pfselftest, 1, A, HL, NOKEYS, "hyperloglog", "2.8.9", "N/A", NULL, NULL},
    {"pfdebug", cmd_pfdebug, 3, W | M | A, HL, {KSPEC(2, 0, 1, "RW access")},
     "hyperloglog", "2.8.9", "N/A", NULL, NULL},
};

const cmd_family cmd_family_hll = CMD_FAMILY(rows);
