/* fdict.c - a big collection's entries in a log of chunks, behind a hash
 * index. See fdict.h. */
#include "types/fdict.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/util.h"

#define FCHUNK_BYTES 16384                    /* one allocation */
#define ALLOC_OVERHEAD 16                     /* what malloc keeps beside a block */
#define UB_SOLO 1u                            /* the entry has an allocation of its own */

struct fchunk {
    fchunk *next;
    uint32_t used, cap;
    char data[];
};
#define FCHUNK_CAP (FCHUNK_BYTES - sizeof(fchunk))
#define BIG_ENTRY (FCHUNK_CAP / 4)

/* A solo entry's allocation: its size, then the entry. */
typedef struct solo {
    size_t size;
    struct solo *next;   /* on the deferred list */
    char data[];
} solo;

static uint64_t sipkey[2];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void make_key(void)
{
    if (util_random_bytes(sipkey, sizeof sipkey) < 0) {
        sipkey[0] = (uint64_t)util_now_us();
        sipkey[1] = (uint64_t)util_mono_us() * 0x9e3779b97f4a7c15ull;
    }
}

uint64_t fdict_hash(const char *k, size_t kl) { return hash_siphash13(k, kl, sipkey); }

static size_t entry_size(const char *e)
{
    uint64_t k, v;
    size_t a = varint_read(e, &k), b = varint_read(e + a, &v);
    return a + b + (size_t)k + (size_t)v;
}

static uint64_t entry_hash(const void *obj, const void *ctx)
{
    size_t kl;
    const char *k = fentry_key(obj, &kl);
    (void)ctx;
    return fdict_hash(k, kl);
}

static int entry_match(const void *obj, const void *key, size_t klen)
{
    size_t kl;
    const char *k = fentry_key(obj, &kl);
    return kl == klen && memcmp(k, key, klen) == 0;
}

static const table_ops entry_ops = {entry_hash, entry_match};

void fdict_init(fdict *d)
{
    pthread_once(&key_once, make_key);
    memset(d, 0, sizeof *d);
    table_init(&d->t, &entry_ops, NULL);
    atomic_init(&d->refs, 1);
}

fdict *fdict_new(void)
{
    fdict *d = malloc(sizeof *d);
    if (d) fdict_init(d);
    return d;
}

void fdict_put(fdict *d)
{
    if (atomic_fetch_sub(&d->refs, 1) == 1) {
        fdict_free(d);
        free(d);
    }
}

/* Big entries deleted while a view held the dict, now that none does. */
static void free_deferred(fdict *d)
{
    for (solo *s = d->deferred, *n; s; s = n) {
        n = s->next;
        d->store -= sizeof(solo) + s->size + ALLOC_OVERHEAD;
        free(s);
    }
    d->deferred = NULL;
}

void fdict_free(fdict *d)
{
    for (size_t i = 0, span = table_span(&d->t); i < span; i++) {
        unsigned ub;
        char *e = table_at(&d->t, i, NULL, &ub);
        if (e && (ub & UB_SOLO)) free(e - offsetof(solo, data));
    }
    for (fchunk *c = d->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free_deferred(d);
    table_destroy(&d->t);
    memset(d, 0, sizeof *d);
}

/* Room for an entry of n bytes at the end of the log (n < BIG_ENTRY), or
 * NULL when no memory. */
static char *log_room(fdict *d, size_t n)
{
    fchunk *c = d->tail;
    if (!c || c->cap - c->used < n) {
        c = malloc(FCHUNK_BYTES);
        if (!c) return NULL;
        c->next = NULL;
        c->used = 0;
        c->cap = (uint32_t)FCHUNK_CAP;
        if (d->tail) d->tail->next = c;
        else d->head = c;
        d->tail = c;
        d->store += FCHUNK_BYTES + ALLOC_OVERHEAD;
    }
    char *p = c->data + c->used;
    c->used += (uint32_t)n;
    return p;
}

static size_t entry_write(char *p, const char *k, size_t kl, const char *v, size_t vl)
{
    size_t a = varint_put(p, kl);
    a += varint_put(p + a, vl);
    memcpy(p + a, k, kl);
    if (vl) memcpy(p + a + kl, v, vl);
    return a + kl + vl;
}

/* A new entry (not yet indexed); *ub gets its index bits. */
static char *entry_new(fdict *d, const char *k, size_t kl, const char *v, size_t vl,
                       unsigned *ub)
{
    size_t n = varint_len(kl) + varint_len(vl) + kl + vl;
    char *p;
    if (n >= BIG_ENTRY) {
        solo *s = malloc(sizeof(solo) + n);
        if (!s) return NULL;
        s->size = n;
        d->store += sizeof(solo) + n + ALLOC_OVERHEAD;
        *ub = UB_SOLO;
        p = s->data;
    } else {
        p = log_room(d, n);
        if (!p) return NULL;
        d->live += n;
        *ub = 0;
    }
    entry_write(p, k, kl, v, vl);
    return p;
}

/* The entry at pos is no longer indexed: free it or count it dead. */
static void entry_gone(fdict *d, const char *e, unsigned ub)
{
    if (ub & UB_SOLO) {
        solo *s = (solo *)(void *)(e - offsetof(solo, data));
        if (fdict_frozen(d)) {   /* a view may still read it */
            s->next = d->deferred;
            d->deferred = s;
            return;
        }
        d->store -= sizeof(solo) + s->size + ALLOC_OVERHEAD;
        free(s);
    } else {
        size_t n = entry_size(e);
        d->live -= n;
        d->dead += n;
    }
}

/* Clean the oldest chunk: move its live entries to the end of the log and
 * free it. Returns 0 when there was nothing to clean or no memory. */
static int clean_one(fdict *d)
{
    fchunk *c = d->head;
    if (!c || c == d->tail) return 0;
    d->head = c->next;
    for (uint32_t off = 0; off < c->used;) {
        char *e = c->data + off;
        size_t n = entry_size(e), kl;
        const char *k = fentry_key(e, &kl);
        table_pos pos;
        if (table_find(&d->t, fdict_hash(k, kl), k, kl, &pos) == e) {
            char *to = log_room(d, n);
            if (!to) {   /* keep the rest where it is */
                c->next = d->head;
                d->head = c;
                return 0;
            }
            memcpy(to, e, n);
            table_replace(&d->t, &pos, to, table_ubits(&pos));
            if (d->moved) d->moved(d->moved_ctx, e, to);
        } else {
            d->dead -= n;
        }
        off += (uint32_t)n;
    }
    free(c);
    d->store -= FCHUNK_BYTES + ALLOC_OVERHEAD;
    return 1;
}

/* After a write that left dead bytes: keep them in bounds, a chunk or two
 * at a time. */
static void settle(fdict *d)
{
    if (fdict_frozen(d)) return;   /* a view may still read the old entries */
    if (d->deferred) free_deferred(d);
    for (int i = 0; i < 2 && d->dead > d->live / 4 + FCHUNK_CAP; i++)
        if (!clean_one(d)) break;
}

const char *fdict_find(fdict *d, const char *k, size_t kl)
{
    return table_find(&d->t, fdict_hash(k, kl), k, kl, NULL);
}

const char *fdict_add(fdict *d, const char *k, size_t kl, const char *v, size_t vl)
{
    unsigned ub;
    char *e = entry_new(d, k, kl, v, vl, &ub);
    if (e) table_insert(&d->t, fdict_hash(k, kl), e, ub);
    return e;
}

const char *fdict_set(fdict *d, const char *k, size_t kl, const char *v, size_t vl, int *added)
{
    uint64_t h = fdict_hash(k, kl);
    table_pos pos;
    char *old = table_find(&d->t, h, k, kl, &pos), *e;
    unsigned ub;
    *added = 0;
    if (old) {
        size_t ovl;
        char *ov = fentry_val_mut(old, &ovl);
        if (ovl == vl && !fdict_frozen(d)) {
            if (vl) memmove(ov, v, vl);
            return old;
        }
    }
    e = entry_new(d, k, kl, v, vl, &ub);
    if (!e) return NULL;
    if (old) {
        unsigned oub = table_ubits(&pos);
        table_replace(&d->t, &pos, e, ub);
        entry_gone(d, old, oub);
        settle(d);
    } else {
        table_insert(&d->t, h, e, ub);
        *added = 1;
    }
    return e;
}

void fdict_del_entry(fdict *d, const char *e)
{
    size_t kl;
    const char *k = fentry_key(e, &kl);
    table_pos pos;
    if (table_find(&d->t, fdict_hash(k, kl), k, kl, &pos) != e) return;
    unsigned ub = table_ubits(&pos);
    table_delete(&d->t, &pos);
    entry_gone(d, e, ub);
    table_maybe_shrink(&d->t);
    settle(d);
}

int fdict_del(fdict *d, const char *k, size_t kl)
{
    const char *e = fdict_find(d, k, kl);
    if (!e) return 0;
    fdict_del_entry(d, e);
    return 1;
}

const char *fdict_random(fdict *d) { return table_random(&d->t); }

typedef struct scan_ctx {
    void (*fn)(const char *e, void *opaque);
    void *opaque;
} scan_ctx;

static void scan_one(void *obj, void *opaque)
{
    scan_ctx *c = opaque;
    c->fn(obj, c->opaque);
}

uint64_t fdict_scan(fdict *d, uint64_t cursor, void (*fn)(const char *e, void *opaque),
                    void *opaque)
{
    scan_ctx c = {fn, opaque};
    return table_scan(&d->t, cursor, scan_one, &c);
}

fdict_view *fdict_freeze(fdict *d)
{
    fdict_view *v = malloc(sizeof *v);
    if (!v) return NULL;
    if (!(v->snap = table_snap_begin(&d->t))) {
        free(v);
        return NULL;
    }
    v->slots = NULL;
    v->nslots = 0;
    v->count = fdict_count(d);
    v->d = d;
    atomic_fetch_add(&d->refs, 1);
    return v;
}

int fdict_view_fill(void *view, size_t pages)
{
    fdict_view *v = view;
    if (table_snap_fill(v->snap, pages)) return 1;
    v->slots = table_snap_slots(v->snap, &v->nslots);
    return 0;
}

void fdict_view_release(fdict_view *v)
{
    table_snap_free(v->snap);   /* whole by now: it touches no table */
    fdict_put(v->d);
    free(v);
}
