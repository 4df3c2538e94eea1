/* Unit tests for the value-kind layer with two test kinds (the real kinds
 * beyond strings come later): one stored inline, one holding memory
 * outside its segment. Through the kind operations: TYPE's names, COPY
 * duplicates what is outside, RENAME/MOVE hand it over, deletion, expiry,
 * flush and eviction free it, and a snapshot writes and loads typed values
 * (as stored, and serialized/restored). */
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
#include "types/types.h"

static long long max_domains = 16;
static int outside_live;   /* structures held outside segments, alive */
static int copy_fails;     /* out_copy runs out of memory */

/* "inline" kind (KIND_SET here): its bytes in the segment, nothing outside. */
static const kind_ops inline_ops = {.name = "set"};

/* "outside" kind (KIND_HASH here): the payload is a pointer to a malloc'ed
 * NUL-terminated string; serialized as that string. */
static char *ptr_of(const item *it)
{
    char *p;
    memcpy(&p, item_cval(it) + 1, sizeof p);
    return p;
}
static size_t out_outside(const item *it) { return strlen(ptr_of(it)) + 1; }
static void out_release(item *it)
{
    free(ptr_of(it));
    outside_live--;
}
static int out_copy(item *dst, const item *src)
{
    if (copy_fails) return -1;
    char *p = xstrdup(ptr_of(src));
    memcpy(item_val(dst) + 1, &p, sizeof p);
    outside_live++;
    return 0;
}
static void out_serialize(const item *it, buf *out)
{
    buf_append(out, item_cval(it), 1);   /* the kind byte, then the string */
    buf_append(out, ptr_of(it), strlen(ptr_of(it)));
}

static item *make_outside(kref *r, const char *s, int64_t expire)
{
    item *it = ks_new(r, NULL, 1 + sizeof(char *), expire);
    char *p = xstrdup(s);
    item_set_kind(it, KIND_HASH, 1, sizeof(char *));
    memcpy(item_payload(it), &p, sizeof p);
    outside_live++;
    ks_charge(r, (long long)strlen(s) + 1);   /* what release will uncount */
    return it;
}
static item *out_restore(kref *r, const char *p, size_t n, int64_t expire)
{
    char tmp[256];
    if (n < 1 || n - 1 >= sizeof tmp) return NULL;
    memcpy(tmp, p + 1, n - 1);
    tmp[n - 1] = '\0';
    return make_outside(r, tmp, expire);
}
static const kind_ops outside_ops = {.name = "hash", .outside = out_outside, .release = out_release,
                                     .copy = out_copy, .serialize = out_serialize,
                                     .restore = out_restore};

/* Two keys locked together and looked up (as COPY and MOVE do). */
static void lock_two(keyspace *ks, domain *d1, const char *k1, domain *d2, const char *k2, kref *a,
                     kref *b, ks_lockset *ls)
{
    ks_ref(ks, d1, k1, strlen(k1), a);
    ks_ref(ks, d2, k2, strlen(k2), b);
    ks_lockset_init(ls);
    ks_lockset_add(ls, a);
    ks_lockset_add(ls, b);
    ks_lockset_lock(ls);
    ks_find(a, util_now_ms());
    ks_find(b, util_now_ms());
}

static void ref(keyspace *ks, domain *d, const char *k, kref *r)
{
    ks_ref(ks, d, k, strlen(k), r);
    ks_lock(r);
    ks_find(r, util_now_ms());
}

static void put_inline(keyspace *ks, domain *d, const char *k, const char *bytes)
{
    kref r;
    item *it;
    ref(ks, d, k, &r);
    it = ks_new(&r, NULL, 1 + strlen(bytes), -1);
    item_set_kind(it, KIND_SET, 2, strlen(bytes));
    memcpy(item_payload(it), bytes, strlen(bytes));
    ks_store(&r, it);
    ks_unlock(&r);
}

static void put_outside(keyspace *ks, domain *d, const char *k, const char *s, int64_t expire)
{
    kref r;
    ref(ks, d, k, &r);
    ks_store(&r, make_outside(&r, s, expire));
    ks_unlock(&r);
}

/* kind name and, for the outside kind, its string ("" when absent) */
static const char *look(keyspace *ks, domain *d, const char *k, char *out, size_t n)
{
    kref r;
    item *it;
    const char *name = "none";
    out[0] = '\0';
    ref(ks, d, k, &r);
    it = r.it;
    if (it) {
        name = kind_name(item_kind(it));
        if (item_kind(it) == KIND_HASH) snprintf(out, n, "%s", ptr_of(it));
        else if (item_kind(it) == KIND_SET)
            snprintf(out, n, "%.*s/%u", (int)item_payload_len(it), item_cval(it) + 1,
                     item_encoding(it));
    }
    ks_unlock(&r);
    return name;
}

int main(void)
{
    keyspace *ks = ks_create(4, &max_domains), *ks2;
    domain *d = ks_default(ks), *e = ks_domain_get(ks, "other", 5);
    char v[256], path[] = "/tmp/kasi-test-kinds-XXXXXX", err[256];
    int fd = mkstemp(path), found;
    uint64_t keys;
    kref a, b;
    snapshot_result res;
    snapshot *sn;

    types_init();
    kind_register(KIND_SET, &inline_ops);
    kind_register(KIND_HASH, &outside_ops);
    CHECK(kind_by_name("STRING", 6) == KIND_STRING && kind_by_name("hash", 4) == KIND_HASH);
    CHECK(kind_by_name("stream", 6) == KIND_STREAM && kind_by_name("nosuch", 6) == -1);

    put_inline(ks, d, "s", "abc");
    put_outside(ks, d, "h", "hello", -1);
    CHECK(!strcmp(look(ks, d, "s", v, sizeof v), "set") && !strcmp(v, "abc/2"));
    CHECK(!strcmp(look(ks, d, "h", v, sizeof v), "hash") && !strcmp(v, "hello"));
    CHECK(outside_live == 1);

    /* COPY duplicates; RENAME and MOVE hand over */
    ks_lockset ls;
    lock_two(ks, d, "h", d, "h2", &a, &b, &ls);
    ks_store(&b, ks_new_copy(&b, a.it, -1));
    ks_lockset_unlock(&ls);
    CHECK(outside_live == 2);
    CHECK(!strcmp(look(ks, d, "h2", v, sizeof v), "hash") && !strcmp(v, "hello"));
    /* a copy that finds no memory leaves nothing behind */
    {
        copy_fails = 1;
        lock_two(ks, d, "h", d, "hx", &a, &b, &ls);
        CHECK(ks_new_copy(&b, a.it, -1) == NULL);
        ks_lockset_unlock(&ls);
        copy_fails = 0;
        CHECK(outside_live == 2);
        CHECK(!strcmp(look(ks, d, "hx", v, sizeof v), "none"));
    }
    lock_two(ks, d, "h2", e, "h3", &a, &b, &ls);
    ks_move(&b, &a);
    ks_lockset_unlock(&ls);
    CHECK(outside_live == 2);   /* moved, not copied nor freed */
    CHECK(!strcmp(look(ks, d, "h2", v, sizeof v), "none"));
    CHECK(!strcmp(look(ks, e, "h3", v, sizeof v), "hash") && !strcmp(v, "hello"));

    /* deleting, overwriting with a string, expiring and flushing free it */
    ref(ks, e, "h3", &a);
    CHECK(ks_delete(&a, util_now_ms()) == 1);
    ks_unlock(&a);
    CHECK(outside_live == 1);
    put_outside(ks, d, "h4", "x", -1);
    ref(ks, d, "h4", &a);
    ks_set(&a, "plain", 5, -1);
    ks_unlock(&a);
    CHECK(outside_live == 1 && !strcmp(look(ks, d, "h4", v, sizeof v), "string"));
    put_outside(ks, d, "h5", "soon", util_now_ms() + 5);
    CHECK(outside_live == 2);
    usleep(20000);
    CHECK(!strcmp(look(ks, d, "h5", v, sizeof v), "none") && outside_live == 1);
    put_outside(ks, e, "h6", "y", -1);
    ks_flush(ks, e);
    CHECK(outside_live == 1);

    /* a snapshot keeps them: as stored (inline) and serialized (outside) */
    put_outside(ks, e, "h7", "world", util_now_ms() + 3600000);
    close(fd);
    sn = snapshot_begin(ks, path, NULL, NULL, err, sizeof err);
    CHECK(sn != NULL);
    /* a write during the snapshot: the snapshot keeps what was there */
    put_outside(ks, d, "h", "changed", -1);
    CHECK(sn && snapshot_finish(sn, &res, err, sizeof err) == 0);
    CHECK(res.keys == 4);
    ks2 = ks_create(4, &max_domains);
    CHECK(load_snapshot(ks2, path, 0, &found, &keys, err, sizeof err) == 0);
    CHECK(keys == 4);
    CHECK(!strcmp(look(ks2, ks_default(ks2), "s", v, sizeof v), "set") && !strcmp(v, "abc/2"));
    CHECK(!strcmp(look(ks2, ks_default(ks2), "h", v, sizeof v), "hash") && !strcmp(v, "hello"));
    {
        domain *e2 = ks_domain_get(ks2, "other", 5);
        CHECK(!strcmp(look(ks2, e2, "h7", v, sizeof v), "hash") && !strcmp(v, "world"));
        ks_domain_put(ks2, e2);
    }
    ks_destroy(&ks2);
    unlink(path);
    ks_domain_put(ks, e);
    ks_destroy(&ks);
    CHECK(outside_live == 0);   /* each one freed exactly once */
    return check_done("kinds");
}
