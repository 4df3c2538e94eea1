/* Unit tests for the set kind (types/set.c): random streams of additions
 * and removals against a simple model, through every encoding change and
 * at several set-max-intset-entries thresholds; building a set and storing
 * it over what a key holds; iteration and SSCAN's steps while the set
 * grows and shrinks; random picks; serialize/restore round trips with the
 * encoding the thresholds give; restore rejecting corrupt bytes; a
 * snapshot with a write during it; and what the store is told of the
 * memory a big set holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lib/util.h"
#include "persist/load.h"
#include "persist/snapshot.h"
#include "store/keyspace.h"
#include "store/kind.h"
#include "types/set.h"
#include "types/types.h"

static long long max_domains = 16;
static uint64_t seed = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

/* ---- the model: distinct members, and the encoding they should have ---- */

typedef struct model {
    char **m;
    size_t *len;
    size_t n, cap;
    unsigned enc;
} model;

static long model_find(const model *md, const char *s, size_t n)
{
    for (size_t i = 0; i < md->n; i++)
        if (md->len[i] == n && memcmp(md->m[i], s, n) == 0) return (long)i;
    return -1;
}

/* Written canonically as a signed 64-bit integer, checked without
 * util_str2ll: what the intset may hold. */
static int canonical_int(const char *s, size_t n)
{
    char tmp[32], back[32];
    long long v;
    char *end;
    if (n == 0 || n >= 21) return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (strlen(tmp) != n) return 0;
    errno = 0;
    v = strtoll(tmp, &end, 10);
    if (errno || *end) return 0;
    snprintf(back, sizeof back, "%lld", v);
    return strcmp(back, tmp) == 0;
}

static size_t ints_limit(void)
{
    long long m = types_limit(&types_lim.set_ints);
    return m < SET_INTS_CAP ? (size_t)m : SET_INTS_CAP;
}

/* The rules of set.h, written out again: the encoding after adding s. */
static void model_add(model *md, const char *s, size_t n)
{
    if (model_find(md, s, n) >= 0) return;
    if (md->n == 0) md->enc = SET_INTS;
    if (md->enc == SET_INTS && (!canonical_int(s, n) || md->n + 1 > ints_limit()))
        md->enc = md->n + 1 <= SET_PACKED_ENTRIES && n <= SET_PACKED_VALUE ? SET_PACKED : SET_DICT;
    else if (md->enc == SET_PACKED && (md->n + 1 > SET_PACKED_ENTRIES || n > SET_PACKED_VALUE))
        md->enc = SET_DICT;
    if (md->n == md->cap) {
        md->cap = md->cap ? md->cap * 2 : 16;
        md->m = xrealloc(md->m, sizeof *md->m * md->cap);
        md->len = xrealloc(md->len, sizeof *md->len * md->cap);
    }
    md->m[md->n] = xmemdup(s, n ? n : 1);
    md->len[md->n++] = n;
}

static void model_del(model *md, const char *s, size_t n)
{
    long i = model_find(md, s, n);
    if (i < 0) return;
    free(md->m[i]);
    md->m[i] = md->m[md->n - 1];
    md->len[i] = md->len[md->n - 1];
    md->n--;
}

static void model_clear(model *md)
{
    for (size_t i = 0; i < md->n; i++) free(md->m[i]);
    free(md->m);
    free(md->len);
    memset(md, 0, sizeof *md);
}

/* ---- members ---- */

/* A member of the given variety into mb (at least 300 bytes). */
static size_t member(char *mb, int variety)
{
    static const char *odd[] = {"01", "-0", "+5", " 1", "1.0", "0x10", "", "9223372036854775808",
                                "-9223372036854775809", "00", "1 "};
    switch (variety % 9) {
    case 0: return (size_t)sprintf(mb, "%d", (int)(rnd() % 200) - 100);
    case 1: return (size_t)sprintf(mb, "%d", (int)(rnd() % 80000) - 40000);
    case 2: return (size_t)sprintf(mb, "%lld", (long long)(rnd() % 8000000000ull) - 4000000000ll);
    case 3: {
        static const long long ext[] = {INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1,
                                        32767, 32768, -32768, -32769, 2147483647, -2147483648ll};
        return (size_t)sprintf(mb, "%lld", ext[rnd() % 10]);
    }
    case 4: {
        const char *s = odd[rnd() % (sizeof odd / sizeof odd[0])];
        strcpy(mb, s);
        return strlen(s);
    }
    case 5: return (size_t)sprintf(mb, "m%u", (unsigned)(rnd() % 300));
    case 6: {   /* at and around the packed length bound, binary too */
        size_t n = 60 + rnd() % 8;
        memset(mb, 'a' + (int)(rnd() % 3), n);
        mb[rnd() % n] = '\0';
        return n;
    }
    case 7: return (size_t)sprintf(mb, "%u", (unsigned)(rnd() % 2000));
    default: {
        size_t n = 100 + rnd() % 150;
        memset(mb, 'z', n);
        mb[0] = (char)(rnd() % 4);
        return n;
    }
    }
}

/* ---- the set under test ---- */

static void ref(keyspace *ks, domain *d, const char *k, kref *r)
{
    ks_ref(ks, d, k, strlen(k), r);
    ks_lock(r);
    ks_find(r, util_now_ms());
}

static int w_add(keyspace *ks, domain *d, const char *k, const char *s, size_t n)
{
    kref r;
    set_w w;
    int rc;
    ref(ks, d, k, &r);
    set_w_open(&w, &r);
    rc = set_w_add(&w, s, n);
    set_w_close(&w, util_now_ms());
    ks_unlock(&r);
    return rc;
}

static int w_del(keyspace *ks, domain *d, const char *k, const char *s, size_t n)
{
    kref r;
    set_w w;
    int rc = 0;
    ref(ks, d, k, &r);
    if (r.it) {
        set_w_open(&w, &r);
        rc = set_w_del(&w, s, n);
        set_w_close(&w, util_now_ms());
    }
    ks_unlock(&r);
    return rc;
}

/* Whether the set holds distinct members, as many as it says, each found
 * by set_has, integers in ascending order while an intset. */
static int well_formed(const item *it)
{
    fdict seen;
    set_iter i;
    const char *s;
    size_t n, count = 0;
    long long prev = 0;
    int ok = 1;
    fdict_init(&seen);
    set_iter_init(&i, it);
    while (set_next(&i, &s, &n)) {
        if (fdict_find(&seen, s, n) || !set_has(it, s, n)) ok = 0;
        else fdict_add(&seen, s, n, NULL, 0);
        if (set_encoding(it) == SET_INTS) {
            long long v;
            if (util_str2ll(s, n, &v) < 0 || (count && v <= prev)) ok = 0;
            prev = v;
        }
        count++;
    }
    fdict_free(&seen);
    return ok && count == set_len(it) && count > 0;
}

/* The set equals the model: size, encoding, members both ways. */
static int same(keyspace *ks, domain *d, const char *k, const model *md, int full)
{
    kref r;
    int ok = 1;
    ref(ks, d, k, &r);
    item *it = r.it;
    if (md->n == 0) {
        ok = it == NULL;
    } else if (!it || item_kind(it) != KIND_SET || set_len(it) != md->n ||
               set_encoding(it) != md->enc) {
        ok = 0;
    } else {
        for (size_t j = 0; j < md->n && ok; j++)
            if (!set_has(it, md->m[j], md->len[j])) ok = 0;
        if (ok && full) {
            set_iter i;
            const char *s;
            size_t n;
            set_iter_init(&i, it);
            while (set_next(&i, &s, &n))
                if (model_find(md, s, n) < 0) ok = 0;
            ok = ok && well_formed(it);
        }
    }
    ks_unlock(&r);
    return ok;
}

/* Random additions and removals (add_pct of them additions) of members of
 * the given varieties (a mask), checked against the model as they go. */
static void stream(keyspace *ks, domain *d, const char *k, model *md, int steps, int add_pct,
                   unsigned varieties)
{
    char mb[320];
    int bad = 0;
    for (int t = 0; t < steps && !bad; t++) {
        int v;
        do v = (int)(rnd() % 9);
        while (!(varieties & (1u << v)));
        size_t n = member(mb, v);
        if (md->n && rnd() % 100 >= (uint64_t)add_pct) {
            /* mostly members that are there */
            const char *s = mb;
            if (rnd() % 4) {
                size_t j = rnd() % md->n;
                s = md->m[j];
                n = md->len[j];
            }
            char copy[320];
            memcpy(copy, s, n);
            int want = model_find(md, copy, n) >= 0;
            if (w_del(ks, d, k, copy, n) != want) bad = 1;
            model_del(md, copy, n);
        } else {
            int want = model_find(md, mb, n) < 0;
            if (w_add(ks, d, k, mb, n) != want) bad = 1;
            model_add(md, mb, n);
        }
        if (!same(ks, d, k, md, t % 64 == 0)) bad = 1;
    }
    CHECK(!bad);
    CHECK(same(ks, d, k, md, 1));
}

/* ---- persistence ---- */

static const kind_ops *ops(void) { return kind_ops_of(KIND_SET); }

/* Restore bytes into key k: 1 when taken (and stored), 0 when refused. */
static int restore_into(keyspace *ks, domain *d, const char *k, const char *p, size_t n)
{
    kref r;
    ref(ks, d, k, &r);
    item *it = ops()->restore(&r, p, n, -1);
    if (it) ks_store(&r, it);
    ks_unlock(&r);
    return it != NULL;
}

static void serialize_key(keyspace *ks, domain *d, const char *k, buf *out)
{
    kref r;
    out->len = 0;
    ref(ks, d, k, &r);
    if (r.it) ops()->serialize(r.it, out);
    ks_unlock(&r);
}

static unsigned encoding_of(keyspace *ks, domain *d, const char *k)
{
    kref r;
    unsigned e = 99;
    ref(ks, d, k, &r);
    if (r.it) e = set_encoding(r.it);
    ks_unlock(&r);
    return e;
}

static int key_well_formed(keyspace *ks, domain *d, const char *k)
{
    kref r;
    int ok;
    ref(ks, d, k, &r);
    ok = r.it && item_kind(r.it) == KIND_SET && well_formed(r.it);
    ks_unlock(&r);
    return ok;
}

static void delete_key(keyspace *ks, domain *d, const char *k)
{
    kref r;
    ref(ks, d, k, &r);
    ks_delete(&r, util_now_ms());
    ks_unlock(&r);
}

/* Round trip of key k through its persisted form, compared with md. */
static void round_trip(keyspace *ks, domain *d, const char *k, model *md)
{
    buf b = {0};
    serialize_key(ks, d, k, &b);
    CHECK(b.len > 1 && ((unsigned char)b.data[0] >> 4) == KIND_SET);
    CHECK(((unsigned char)b.data[0] & 15u) != SET_DICT);   /* never a pointer */
    CHECK(restore_into(ks, d, "rt", b.data, b.len));
    /* reloaded: an intset when every member may be one */
    int all_ints = md->n <= ints_limit();
    for (size_t i = 0; i < md->n; i++) all_ints = all_ints && canonical_int(md->m[i], md->len[i]);
    unsigned enc = md->enc;
    if (all_ints) enc = SET_INTS;
    else if (md->enc == SET_DICT && md->n <= SET_PACKED_ENTRIES) {
        enc = SET_PACKED;
        for (size_t i = 0; i < md->n; i++)
            if (md->len[i] > SET_PACKED_VALUE) enc = SET_DICT;
    }
    model m2 = *md;
    m2.enc = enc;
    CHECK(same(ks, d, "rt", &m2, 1));
    delete_key(ks, d, "rt");
    buf_free(&b);
}

/* Bytes that must be refused, and mutations that must be refused or give
 * a well-formed set. */
static void corrupt(keyspace *ks, domain *d)
{
    static const struct {
        const char *b;
        size_t n;
    } bad[] = {
        {"", 0},
        {"\x30", 1},                              /* nothing after the kind byte */
        {"\x30\x03\x01\x00\x02\x00", 6},          /* width 3 */
        {"\x30\x02\x01\x00\x02", 5},              /* a partial integer */
        {"\x30\x02", 2},                          /* no integers */
        {"\x30\x02\x02\x00\x01\x00", 6},          /* descending */
        {"\x30\x02\x01\x00\x01\x00", 6},          /* twice */
        {"\x30\x04\x01\x00\x00\x00\x01\x00\x00\x00", 10},
        {"\x30\x00", 2},                          /* width 0 */
        {"\x31\x00", 2},                          /* no members */
        {"\x31\x02\x01\x61", 4},                  /* one string of two */
        {"\x31\x01\x01\x61\x01\x62", 6},          /* one more than said */
        {"\x31\x02\x01\x61\x01\x61", 6},          /* twice */
        {"\x31\x01\x05\x61", 4},                  /* a string past the end */
        {"\x31\x01\x80", 3},                      /* a length cut short */
        {"\x31\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x01\x61", 13},   /* a count too big */
        {"\x31\x02\x02\x31\x30\x02\x31\x30", 8},  /* "10" twice, all integers */
        {"\x32\x00\x00\x00\x00\x00\x00\x00\x00", 9},   /* a pointer from a file */
        {"\x33\x01\x01\x61", 4},                  /* no such encoding */
        {"\x3f\x01\x01\x61", 4},
    };
    int refused = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (restore_into(ks, d, "bad", bad[i].b, bad[i].n)) {
            fprintf(stderr, "accepted corrupt case %zu\n", i);
            refused = 0;
            delete_key(ks, d, "bad");
        }
    CHECK(refused);
    /* a duplicate found only once a packed set has become a dict */
    for (int dup = 0; dup < 2; dup++) {
        buf b = {0};
        char tmp[16], hdr[VARINT_MAX];
        buf_append(&b, "\x31", 1);
        buf_append(&b, hdr, varint_put(hdr, 301));
        for (int i = 0; i < 301; i++) {
            int n = sprintf(tmp, "x%d", dup && i == 300 ? 7 : i);
            buf_reserve(&b, pack_str_size((size_t)n));
            b.len += pack_str_put(b.data + b.len, tmp, (size_t)n);
        }
        CHECK(restore_into(ks, d, "bad", b.data, b.len) == !dup);
        if (!dup) CHECK(encoding_of(ks, d, "bad") == SET_DICT && key_well_formed(ks, d, "bad"));
        delete_key(ks, d, "bad");
        buf_free(&b);
    }
    /* truncations and flipped bytes of valid sets of each encoding */
    static const char *keys[] = {"ci", "cp", "cd"};
    model md[3] = {{0}};
    char mb[320];
    for (int i = 0; i < 40; i++) {
        size_t n = (size_t)sprintf(mb, "%d", i * 1000 - 7000);
        w_add(ks, d, "ci", mb, n);
        model_add(&md[0], mb, n);
        n = member(mb, 5);
        w_add(ks, d, "cp", mb, n);
        model_add(&md[1], mb, n);
    }
    for (int i = 0; i < 300; i++) {
        size_t n = member(mb, i % 9);
        w_add(ks, d, "cd", mb, n);
        model_add(&md[2], mb, n);
    }
    CHECK(encoding_of(ks, d, "ci") == SET_INTS && encoding_of(ks, d, "cp") == SET_PACKED &&
          encoding_of(ks, d, "cd") == SET_DICT);
    int ok = 1;
    for (int k = 0; k < 3; k++) {
        buf good = {0}, mut = {0};
        serialize_key(ks, d, keys[k], &good);
        for (size_t cut = 0; cut < good.len; cut += (k == 2 ? 7 : 1)) {
            int taken = restore_into(ks, d, "bad", good.data, cut);
            /* an intset cut at an integer's end is a smaller intset */
            if (taken && (k != 0 || !key_well_formed(ks, d, "bad"))) ok = 0;
            if (taken) delete_key(ks, d, "bad");
        }
        for (int t = 0; t < 600; t++) {
            mut.len = 0;
            buf_append(&mut, good.data, good.len);
            for (int f = 0, nf = 1 + (int)(rnd() % 3); f < nf; f++) {
                size_t at = rnd() % mut.len;
                if (rnd() % 2) mut.data[at] ^= (char)(1u << (rnd() % 8));
                else mut.data[at] = (char)rnd();
            }
            if (restore_into(ks, d, "bad", mut.data, mut.len)) {
                if (!key_well_formed(ks, d, "bad")) ok = 0;
                delete_key(ks, d, "bad");
            }
        }
        buf_free(&good);
        buf_free(&mut);
        model_clear(&md[k]);
    }
    CHECK(ok);
    for (int k = 0; k < 3; k++) delete_key(ks, d, keys[k]);
}

/* ---- builders ---- */

static void builders(keyspace *ks, domain *d)
{
    char mb[320];
    kref r;
    set_w w;
    int64_t now = util_now_ms();
    /* over a string with an expiry: replaced, expiry gone */
    ks_ref(ks, d, "dst", 3, &r);
    ks_lock(&r);
    ks_find(&r, now);
    ks_set(&r, "plain", 5, now + 100000);
    set_w_open_new(&w, &r);
    for (int i = 0; i < 10; i++) set_w_add(&w, mb, (size_t)sprintf(mb, "%d", i));
    set_w_add(&w, "3", 1);
    CHECK(set_w_store(&w, now) == 10);
    CHECK(r.it && item_kind(r.it) == KIND_SET && set_encoding(r.it) == SET_INTS &&
          item_expire(r.it) < 0 && set_len(r.it) == 10);
    ks_unlock(&r);
    /* over a dict set it was built from (SUNIONSTORE s s): a dict again */
    model md = {0};
    for (int i = 0; i < 400; i++) {
        size_t n = (size_t)sprintf(mb, "u%d", i);
        w_add(ks, d, "dst", mb, n);
    }
    CHECK(encoding_of(ks, d, "dst") == SET_DICT);
    ref(ks, d, "dst", &r);
    set_w_open_new(&w, &r);
    {
        set_iter i;
        const char *s;
        size_t n;
        set_iter_init(&i, r.it);
        while (set_next(&i, &s, &n))
            if (!(n > 1 && s[1] == '1')) {
                set_w_add(&w, s, n);
                model_add(&md, s, n);
            }
    }
    CHECK(set_w_store(&w, now) == md.n);
    ks_unlock(&r);
    CHECK(same(ks, d, "dst", &md, 1));
    model_clear(&md);
    /* a small result over a dict: the dict is freed (ASan: no leak) */
    ref(ks, d, "dst", &r);
    set_w_open_new(&w, &r);
    set_w_add(&w, "a", 1);
    CHECK(set_w_store(&w, now) == 1);
    CHECK(set_encoding(r.it) == SET_PACKED);
    ks_unlock(&r);
    /* nothing built: the key goes */
    ref(ks, d, "dst", &r);
    set_w_open_new(&w, &r);
    CHECK(set_w_store(&w, now) == 0);
    CHECK(r.it == NULL);
    ks_unlock(&r);
    /* a builder given up */
    ref(ks, d, "dst", &r);
    set_w_open_new(&w, &r);
    for (int i = 0; i < 300; i++) set_w_add(&w, mb, (size_t)sprintf(mb, "q%d", i));
    CHECK(set_w_len(&w) == 300 && w.enc == SET_DICT);
    set_w_discard(&w);
    CHECK(r.it == NULL);
    ks_unlock(&r);
}

/* ---- iteration while the set changes ---- */

typedef struct seen_ctx {
    fdict *seen;
} seen_ctx;

static void note(const char *s, size_t n, void *opaque)
{
    seen_ctx *c = opaque;
    if (!fdict_find(c->seen, s, n)) fdict_add(c->seen, s, n, NULL, 0);
}

static void scans(keyspace *ks, domain *d)
{
    char mb[64];
    for (int pass = 0; pass < 2; pass++) {   /* growing, then shrinking */
        fdict seen;
        seen_ctx c = {&seen};
        uint64_t cursor = 0;
        int extra = 0, steps = 0, ok = 1;
        fdict_init(&seen);
        for (int i = 0; i < 3000; i++) w_add(ks, d, "sc", mb, (size_t)sprintf(mb, "stable%d", i));
        if (pass == 1)
            for (int i = 0; i < 20000; i++) w_add(ks, d, "sc", mb, (size_t)sprintf(mb, "tmp%d", i));
        do {
            kref r;
            ref(ks, d, "sc", &r);
            cursor = set_scan(r.it, cursor, note, &c);
            ks_unlock(&r);
            /* between steps the table grows (pass 0) or shrinks (pass 1),
             * through several resizes */
            for (int j = 0; j < 10 && extra < 20000; j++, extra++) {
                if (pass == 0) w_add(ks, d, "sc", mb, (size_t)sprintf(mb, "new%d", extra));
                else w_del(ks, d, "sc", mb, (size_t)sprintf(mb, "tmp%d", extra));
            }
            steps++;
        } while (cursor && steps < 1000000);
        for (int i = 0; i < 3000; i++)
            if (!fdict_find(&seen, mb, (size_t)sprintf(mb, "stable%d", i))) ok = 0;
        if (!ok || cursor) fprintf(stderr, "scan pass %d: ok %d cursor %llu steps %d\n", pass, ok, (unsigned long long)cursor, steps);
        CHECK(ok && cursor == 0);
        fdict_free(&seen);
        delete_key(ks, d, "sc");
    }
    /* a whole iteration of a set that does not change gives it exactly */
    model md = {0};
    for (int i = 0; i < 5000; i++) {
        size_t n = member(mb, 5 + (i % 2) * 2);
        n += (size_t)sprintf(mb + n, "#%d", i);
        w_add(ks, d, "it", mb, n);
        model_add(&md, mb, n);
    }
    CHECK(same(ks, d, "it", &md, 1));
    model_clear(&md);
    delete_key(ks, d, "it");
}

/* ---- random picks ---- */

static void picks(keyspace *ks, domain *d)
{
    static const char *keys[] = {"pi", "pp", "pd"};
    char mb[64];
    for (int i = 0; i < 100; i++) {
        w_add(ks, d, "pi", mb, (size_t)sprintf(mb, "%d", i * 3));
        w_add(ks, d, "pp", mb, (size_t)sprintf(mb, "p%d", i));
    }
    for (int i = 0; i < 1000; i++) w_add(ks, d, "pd", mb, (size_t)sprintf(mb, "d%d", i));
    for (int k = 0; k < 3; k++) {
        kref r;
        set_picker pk;
        fdict seen;
        int ok = 1;
        ref(ks, d, keys[k], &r);
        fdict_init(&seen);
        set_picker_init(&pk, r.it);
        for (int t = 0; t < 40000; t++) {
            const char *s;
            size_t n;
            set_pick(&pk, &s, &n);
            if (!set_has(r.it, s, n)) ok = 0;
            if (!fdict_find(&seen, s, n)) fdict_add(&seen, s, n, NULL, 0);
        }
        /* 40000 picks of at most 1000 members: each one comes up */
        CHECK(ok && fdict_count(&seen) == set_len(r.it));
        fdict_free(&seen);
        ks_unlock(&r);
        delete_key(ks, d, keys[k]);
    }
}

/* ---- what the store is told ---- */

static void memory(keyspace *ks, domain *d)
{
    char mb[64];
    ks_stats a, b, c;
    kref r;
    ks_domain_stats(d, &a);
    for (int i = 0; i < 20000; i++) w_add(ks, d, "mem", mb, (size_t)sprintf(mb, "member:%010d", i));
    ks_domain_stats(d, &b);
    ref(ks, d, "mem", &r);
    size_t outside = ops()->outside(r.it);
    CHECK(set_encoding(r.it) == SET_DICT && outside > 20000 * 18);
    CHECK(b.mem >= a.mem + outside);
    ks_delete(&r, util_now_ms());
    ks_unlock(&r);
    ks_domain_stats(d, &c);
    CHECK(c.mem + outside <= b.mem);
    /* COPY duplicates a dict; both go (ASan: freed once each) */
    for (int i = 0; i < 300; i++) w_add(ks, d, "c1", mb, (size_t)sprintf(mb, "c%d", i));
    kref x, y;
    ks_lockset ls;
    ks_ref(ks, d, "c1", 2, &x);
    ks_ref(ks, d, "c2", 2, &y);
    ks_lockset_init(&ls);
    ks_lockset_add(&ls, &x);
    ks_lockset_add(&ls, &y);
    ks_lockset_lock(&ls);
    ks_find(&x, util_now_ms());
    ks_find(&y, util_now_ms());
    ks_store(&y, ks_new_copy(&y, x.it, -1));
    ks_lockset_unlock(&ls);
    w_del(ks, d, "c1", "c5", 2);
    ref(ks, d, "c2", &r);
    CHECK(set_len(r.it) == 300 && set_has(r.it, "c5", 2) && set_encoding(r.it) == SET_DICT);
    ks_unlock(&r);
    delete_key(ks, d, "c1");
    delete_key(ks, d, "c2");
}

/* ---- a snapshot, with a write to a big set while it runs ---- */

static void snapshot_round_trip(keyspace *ks, domain *d)
{
    char path[] = "/tmp/kasi-test-set-XXXXXX", err[256], mb[64];
    int fd = mkstemp(path), found;
    uint64_t keys;
    snapshot_result res;
    model mi = {0}, mp = {0}, md = {0};
    for (int i = 0; i < 50; i++) {
        size_t n = (size_t)sprintf(mb, "%d", i * i - 300);
        w_add(ks, d, "si", mb, n);
        model_add(&mi, mb, n);
        n = (size_t)sprintf(mb, "s%d", i);
        w_add(ks, d, "sp", mb, n);
        model_add(&mp, mb, n);
    }
    for (int i = 0; i < 3000; i++) {
        size_t n = (size_t)sprintf(mb, "big%d", i);
        w_add(ks, d, "sd", mb, n);
        model_add(&md, mb, n);
    }
    close(fd);
    snapshot *sn = snapshot_begin(ks, path, NULL, NULL, err, sizeof err);
    CHECK(sn != NULL);
    w_add(ks, d, "sd", "during", 6);   /* the snapshot keeps the set as it was */
    w_del(ks, d, "sd", "big7", 4);
    CHECK(sn && snapshot_finish(sn, &res, err, sizeof err) == 0);
    keyspace *ks2 = ks_create(4, &max_domains);
    CHECK(load_snapshot(ks2, path, 0, &found, &keys, err, sizeof err) == 0);
    domain *d2 = ks_default(ks2);
    CHECK(same(ks2, d2, "si", &mi, 1) && same(ks2, d2, "sp", &mp, 1) && same(ks2, d2, "sd", &md, 1));
    ks_destroy(&ks2);
    unlink(path);
    model_clear(&mi);
    model_clear(&mp);
    model_clear(&md);
    delete_key(ks, d, "si");
    delete_key(ks, d, "sp");
    delete_key(ks, d, "sd");
}

int main(void)
{
    keyspace *ks = ks_create(4, &max_domains);
    domain *d = ks_default(ks);
    static const long long limits[] = {512, 0, 1, 3, 20, 130, 700};
    types_init();
    CHECK(!strcmp(kind_name(KIND_SET), "set"));

    /* random streams at each threshold: grow through every encoding, shrink
     * to nothing, grow again */
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        model md = {0};
        types_set_limit(&types_lim.set_ints, limits[l]);
        stream(ks, d, "s", &md, 1500, 70, 0x081);      /* small integers */
        round_trip(ks, d, "s", &md);
        stream(ks, d, "s", &md, 800, 70, 0x08f);       /* every width */
        round_trip(ks, d, "s", &md);
        stream(ks, d, "s", &md, 600, 60, 0x0b0);       /* odd integers, strings, the bound */
        round_trip(ks, d, "s", &md);
        stream(ks, d, "s", &md, 3000, 75, 0x1ff);      /* everything, past 128 members */
        round_trip(ks, d, "s", &md);
        stream(ks, d, "s", &md, 4000, 20, 0x1ff);      /* shrinking: no way back */
        round_trip(ks, d, "s", &md);
        while (md.n) {   /* to nothing: the key goes */
            char copy[320];
            size_t n = md.len[0];
            memcpy(copy, md.m[0], n);
            CHECK(w_del(ks, d, "s", copy, n) == 1);
            model_del(&md, copy, n);
        }
        CHECK(same(ks, d, "s", &md, 1));
        stream(ks, d, "s", &md, 500, 80, 0x001);       /* an intset again */
        model_clear(&md);
        delete_key(ks, d, "s");
    }
    types_set_limit(&types_lim.set_ints, 512);

    /* reloaded with another threshold: the encoding follows it */
    {
        model md = {0};
        char mb[32];
        buf b = {0};
        for (int i = 0; i < 300; i++) {
            size_t n = (size_t)sprintf(mb, "%d", i);
            w_add(ks, d, "t", mb, n);
            model_add(&md, mb, n);
        }
        serialize_key(ks, d, "t", &b);
        types_set_limit(&types_lim.set_ints, 100);
        CHECK(restore_into(ks, d, "t2", b.data, b.len) && encoding_of(ks, d, "t2") == SET_DICT);
        types_set_limit(&types_lim.set_ints, 512);
        model m2 = md;
        m2.enc = SET_DICT;
        CHECK(same(ks, d, "t2", &m2, 1));
        /* a hashtable of integers only (strings removed) comes back an intset */
        w_add(ks, d, "t3", "x", 1);
        w_add(ks, d, "t3", "5", 1);
        w_del(ks, d, "t3", "x", 1);
        CHECK(encoding_of(ks, d, "t3") == SET_PACKED);
        serialize_key(ks, d, "t3", &b);
        CHECK(restore_into(ks, d, "t4", b.data, b.len) && encoding_of(ks, d, "t4") == SET_INTS);
        buf_free(&b);
        model_clear(&md);
        delete_key(ks, d, "t");
        delete_key(ks, d, "t2");
        delete_key(ks, d, "t3");
        delete_key(ks, d, "t4");
    }

    corrupt(ks, d);
    builders(ks, d);
    scans(ks, d);
    picks(ks, d);
    memory(ks, d);
    snapshot_round_trip(ks, d);
    CHECK(ks_domain_size(d) == 0);
    ks_destroy(&ks);
    return check_done("set");
}
