/* load.c - see load.h. */
#include "persist/load.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/util.h"
#include "store/kind.h"

void loader_init(loader *l, keyspace *ks)
{
    memset(l, 0, sizeof *l);
    l->ks = ks;
    l->now = util_now_ms();
}

void loader_init_frozen(loader *l, keyspace *ks)
{
    loader_init(l, ks);
    l->now = -1;   /* before every expiry time */
}

static domain *dom_of(loader *l, const rec *r);
static atomic_ullong expired_total;
static load_replay_fn *replay_fn;
static void *replay_ctx;

void load_set_replay(load_replay_fn *fn, void *ctx)
{
    replay_fn = fn;
    replay_ctx = ctx;
}

/* A CMD record: its arguments as arrays, then the installed replay. */
static int replay(loader *l, const rec *r)
{
    const char *p = r->val;
    slice *argv;
    int i = 0, rc;
    if (!replay_fn) return -1;
    argv = xmalloc(sizeof *argv * (size_t)r->argc);
    while (i < r->argc && rec_cmd_arg(r, &p, &argv[i].p, &argv[i].n) == 0) i++;
    rc = i == r->argc ? replay_fn(replay_ctx, dom_of(l, r), r->argc, argv, l->now) : -1;
    free(argv);
    return rc;
}

uint64_t load_expired_keys(void) { return atomic_load(&expired_total); }

void load_sweep_expired(keyspace *ks)
{
    atomic_fetch_add(&expired_total, ks_drop_expired(ks, util_now_ms()));
}

void loader_done(loader *l)
{
    atomic_fetch_add(&expired_total, l->expired);
    if (l->d) ks_domain_put(l->ks, l->d);
    l->d = NULL;
}

static domain *dom_of(loader *l, const rec *r)
{
    size_t n;
    const char *name = l->d ? ks_domain_name(l->d, &n) : NULL;
    if (name && n == r->dlen && memcmp(name, r->dom, n) == 0) return l->d;
    if (l->d) ks_domain_put(l->ks, l->d);
    l->d = ks_domain_get(l->ks, r->dom, r->dlen);
    /* Counted against max-domains, but never refused: loading loses nothing. */
    ks_domain_claim(l->ks, l->d);
    return l->d;
}

int loader_apply(const rec *r, void *opaque)
{
    loader *l = opaque;
    kref k;
    item *it;
    if (r->type == REC_END) {
        l->saw_end = 1;
        l->end_count = r->count;
        return 0;
    }
    if (r->type == REC_FLUSH) {
        ks_flush(l->ks, dom_of(l, r));
        l->applied++;
        return 0;
    }
    if (r->type == REC_CMD) {
        if (replay(l, r) < 0) {
            l->bad_kind = 1;
            return -1;
        }
        l->applied++;
        return 0;
    }
    ks_ref(l->ks, dom_of(l, r), r->key, r->klen, &k);
    ks_lock(&k);
    it = ks_find(&k, l->now);
    switch (r->type) {
    case REC_PUT:
        l->puts++;
        if (r->expire >= 0 && r->expire <= l->now) {
            if (it) ks_delete(&k, l->now);
            l->expired++;
        } else if (r->vkind == KIND_STRING) {
            ks_store(&k, ks_new(&k, r->val, r->vlen, r->expire));
        } else {
            const kind_ops *ops = kind_ops_of(r->vkind);
            item *nit;
            if (!ops) goto bad;   /* a kind this build does not know */
            if (ops->restore) {
                nit = ops->restore(&k, r->val, r->vlen, r->expire);
                if (!nit) goto bad;
            } else {
                nit = ks_new(&k, r->val, r->vlen, r->expire);   /* inline: as stored */
                item_set_kind(nit, r->vkind, (unsigned char)r->val[0] & 15u, r->vlen - 1);
            }
            ks_store(&k, nit);
        }
        break;
    case REC_DEL:
        if (it) ks_delete(&k, l->now);
        break;
    case REC_EXPIRE:
        if (it && r->expire >= 0 && r->expire <= l->now) ks_delete(&k, l->now);
        else if (it) ks_set_expire(&k, r->expire);
        break;
    case REC_SPLICE:
        if (it) {
            ks_splice(&k, (size_t)r->total, (size_t)r->off, r->val, r->vlen);
        } else {
            it = ks_new(&k, NULL, (size_t)r->total, -1);
            memset(item_val(it), 0, (size_t)r->total);
            memcpy(item_val(it) + r->off, r->val, r->vlen);
            ks_store(&k, it);
        }
        break;
    default:
        break;
    }
    ks_unlock(&k);
    l->applied++;
    return 0;
bad:
    ks_unlock(&k);
    l->bad_kind = 1;
    return -1;
}

static int load_snapshot_as(keyspace *ks, const char *path, int missing_ok, int *found,
                            uint64_t *keys, int frozen, char *err, size_t errlen);

int load_snapshot(keyspace *ks, const char *path, int missing_ok, int *found, uint64_t *keys,
                  char *err, size_t errlen)
{
    return load_snapshot_as(ks, path, missing_ok, found, keys, 0, err, errlen);
}

int load_aof_base(keyspace *ks, const char *path, char *err, size_t errlen)
{
    int found;
    uint64_t keys;
    return load_snapshot_as(ks, path, 0, &found, &keys, 1, err, errlen);
}

static int load_snapshot_as(keyspace *ks, const char *path, int missing_ok, int *found,
                            uint64_t *keys, int frozen, char *err, size_t errlen)
{
    struct stat st;
    loader l;
    rec_file_info info;
    *found = 0;
    *keys = 0;
    if (stat(path, &st) < 0 && errno == ENOENT && missing_ok) return 0;
    *found = 1;
    if (frozen) loader_init_frozen(&l, ks);
    else loader_init(&l, ks);
    rec_read_file(path, loader_apply, &l, &info);
    loader_done(&l);
    if (info.status != REC_FILE_OK) {
        if (info.status == REC_FILE_IOERR) snprintf(err, errlen, "%s", info.err);
        else if (l.bad_kind)
            snprintf(err, errlen, "snapshot %s holds a value of an unknown kind, or one that is not "
                     "valid for its kind (written by a newer Kasi?)", path);
        else snprintf(err, errlen, "snapshot %s is damaged: %s", path, info.err);
        return -1;
    }
    if (info.kind != REC_KIND_SNAPSHOT || !l.saw_end || l.end_count != l.puts) {
        snprintf(err, errlen,
                 "snapshot %s is incomplete or not a snapshot (kind %d, end record %s, %llu of "
                 "%llu keys)",
                 path, info.kind, l.saw_end ? "present" : "missing", (unsigned long long)l.puts,
                 (unsigned long long)l.end_count);
        return -1;
    }
    *keys = l.puts - l.expired;
    return 0;
}
