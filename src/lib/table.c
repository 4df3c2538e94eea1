/* table.c - see table.h. */
#include "lib/table.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define PTR_BITS 47
#define PTR_MASK ((1ULL << PTR_BITS) - 1)
#define TAG_SHIFT 47
#define DIST_SHIFT 55
#define DIST_MAX 63u
#define UBITS_SHIFT 61
#define MIN_SLOTS 16

static inline void *slot_obj(uint64_t s) { return table_slot_obj(s); }
static inline unsigned slot_tag(uint64_t s) { return (unsigned)(s >> TAG_SHIFT) & 0xff; }
static inline unsigned slot_dist(uint64_t s) { return (unsigned)(s >> DIST_SHIFT) & DIST_MAX; }
static inline unsigned slot_ubits(uint64_t s) { return (unsigned)(s >> UBITS_SHIFT); }
static inline unsigned hash_tag(uint64_t h) { return (unsigned)(h >> 40) & 0xff; }

static inline uint64_t make_slot(void *obj, unsigned tag, unsigned dist, unsigned ubits)
{
    uint64_t p = (uint64_t)(uintptr_t)obj;
    if (p & ~PTR_MASK) abort();   /* user-space pointers fit 47 bits on x86-64 */
    return p | (uint64_t)tag << TAG_SHIFT | (uint64_t)dist << DIST_SHIFT |
           (uint64_t)ubits << UBITS_SHIFT;
}

static inline size_t arr_size(const table_arr *a) { return a->slot ? a->mask + 1 : 0; }

/* ---- lazy copies (table_snap_begin) ---- */

#define PAGE_SHIFT 9   /* 512 slots: 4 KB */
#define PAGE_SLOTS ((size_t)1 << PAGE_SHIFT)

struct table_snap {
    table *t;            /* NULL once detached */
    uint64_t *dst;       /* the copy: part 0 (cur as it was), then part 1 (old) */
    size_t n;            /* slots in it */
    uint64_t *done;      /* a bit per page copied */
    size_t pages, left, next;
    struct { size_t base, page0, size; } part[2];
};

static void snap_detach(table_snap *s)
{
    table *t = s->t;
    if (!t) return;
    if (t->cur.snap == s) t->cur.snap = NULL;
    if (t->old.snap == s) t->old.snap = NULL;
    if (t->snap == s) t->snap = NULL;
    s->t = NULL;
}

/* Page p of a's part, copied before its first change. */
static void snap_page(table_arr *a, size_t p)
{
    table_snap *s = a->snap;
    size_t g = s->part[a->snap_part].page0 + p, from = p << PAGE_SHIFT;
    size_t size = s->part[a->snap_part].size;
    if (s->done[g / 64] & (1ULL << (g % 64))) return;
    s->done[g / 64] |= 1ULL << (g % 64);
    memcpy(s->dst + s->part[a->snap_part].base + from, a->slot + from,
           (size - from < PAGE_SLOTS ? size - from : PAGE_SLOTS) * sizeof(uint64_t));
    if (--s->left == 0) snap_detach(s);
}

/* Before a write to slot i of a. */
static inline void cow(table_arr *a, size_t i)
{
    if (a->snap) snap_page(a, i >> PAGE_SHIFT);
}

/* Before a's slots are freed or wholly rewritten: whatever a lazy copy
 * still needs of them is copied now. */
static void arr_release(table_arr *a)
{
    for (size_t p = 0, n = (arr_size(a) + PAGE_SLOTS - 1) >> PAGE_SHIFT; a->snap && p < n; p++)
        snap_page(a, p);
    a->snap = NULL;
}

static void arr_free(table_arr *a)
{
    arr_release(a);
    free(a->slot);
    memset(a, 0, sizeof *a);
}

table_snap *table_snap_begin(table *t)
{
    table_snap *s = calloc(1, sizeof *s);
    table_arr *parts[2] = {&t->cur, &t->old};
    if (!s) return NULL;
    s->n = table_slots(t);
    for (int k = 0; k < 2; k++) {
        size_t size = arr_size(parts[k]);
        s->part[k].base = k ? s->part[0].size : 0;
        s->part[k].page0 = s->pages;
        s->part[k].size = size;
        s->pages += (size + PAGE_SLOTS - 1) >> PAGE_SHIFT;
    }
    s->dst = malloc(s->n ? s->n * sizeof(uint64_t) : 1);
    s->done = calloc((s->pages + 63) / 64 + 1, sizeof(uint64_t));
    if (!s->dst || !s->done) {
        table_snap_free(s);
        return NULL;
    }
    if (t->snap) table_snap_fill(t->snap, (size_t)-1);   /* one at a time */
    s->left = s->pages;
    if (!s->left) return s;
    s->t = t;
    t->snap = s;
    for (int k = 0; k < 2; k++) {
        parts[k]->snap = arr_size(parts[k]) ? s : NULL;
        parts[k]->snap_part = k;
    }
    return s;
}

int table_snap_fill(table_snap *s, size_t pages)
{
    while (s->left && pages) {
        table *t = s->t;
        size_t g = s->next++;
        int k = g >= s->part[1].page0 && s->part[1].size;
        table_arr *a = &t->cur;
        if (s->done[g / 64] & (1ULL << (g % 64))) continue;   /* (all of a freed array) */
        if (a->snap != s || a->snap_part != k) a = &t->old;
        if (a->snap != s || a->snap_part != k) abort();        /* a page lost: a bug */
        snap_page(a, g - s->part[k].page0);
        pages--;
    }
    return s->left != 0;
}

const uint64_t *table_snap_slots(const table_snap *s, size_t *n)
{
    *n = s->n;
    return s->dst;
}

void table_snap_free(table_snap *s)
{
    if (!s) return;
    snap_detach(s);
    free(s->dst);
    free(s->done);
    free(s);
}

void table_init(table *t, const table_ops *ops, const void *ctx)
{
    memset(t, 0, sizeof *t);
    t->ops = ops;
    t->ctx = ctx;
}

static void spare_free(table *t)
{
    free(t->spare);
    t->spare = NULL;
    t->spare_slots = t->spare_touched = 0;
}

void table_destroy(table *t)
{
    arr_free(&t->cur);
    arr_free(&t->old);
    spare_free(t);
    table_init(t, t->ops, t->ctx);
}

size_t table_mem(const table *t)
{
    /* a spare array takes memory as its pages are written */
    return (arr_size(&t->cur) + arr_size(&t->old)) * sizeof(uint64_t) + t->spare_touched * 4096;
}

static void *arr_find(table_arr *a, uint64_t h, const void *key, size_t klen,
                      const table_ops *ops, table_pos *pos)
{
    size_t i;
    unsigned tag = hash_tag(h), d = 0;
    if (!a->slot || a->used == 0) return NULL;
    for (i = h & a->mask;; i = (i + 1) & a->mask, d++) {
        uint64_t s = a->slot[i];
        if (s == 0 || d > DIST_MAX) return NULL;
        if (slot_tag(s) == tag && slot_dist(s) == d && ops->match(slot_obj(s), key, klen)) {
            if (pos) { pos->arr = a; pos->idx = i; }
            return slot_obj(s);
        }
    }
}

void table_prefetch(const table *t, uint64_t h, int deep)
{
    const table_arr *a = &t->cur;
    size_t i = h & a->mask;
    if (!a->slot) return;
    if (!deep) {
        __builtin_prefetch(&a->slot[i]);
        return;
    }
    for (unsigned d = 0; d < 3; d++, i = (i + 1) & a->mask) {
        uint64_t s = a->slot[i];
        if (s == 0) return;
        if (slot_tag(s) == hash_tag(h) && slot_dist(s) == d) {
            __builtin_prefetch(slot_obj(s));
            return;
        }
    }
}

void *table_find(table *t, uint64_t h, const void *key, size_t klen, table_pos *pos)
{
    void *o = arr_find(&t->cur, h, key, klen, t->ops, pos);
    if (!o && t->old.slot) o = arr_find(&t->old, h, key, klen, t->ops, pos);
    return o;
}

/* Place into an array with room; returns -1 if the probe got too long. */
static int arr_place(table_arr *a, uint64_t h, void *obj, unsigned tag, unsigned ubits)
{
    size_t i = h & a->mask;
    unsigned d = 0;
    while (a->slot[i]) {
        i = (i + 1) & a->mask;
        if (++d > DIST_MAX) return -1;
    }
    cow(a, i);
    a->slot[i] = make_slot(obj, tag, d, ubits);
    a->used++;
    return 0;
}

static void arr_alloc(table_arr *a, size_t slots)
{
    a->slot = xcalloc(slots, sizeof(uint64_t));
    a->mask = slots - 1;
    a->used = 0;
    a->snap = NULL;
}

static void rebuild(table *t, size_t slots);

/* Move one entry of old into cur. Returns -1 if that took a full rebuild
 * (which also emptied old). */
static int migrate_one(table *t, size_t i)
{
    uint64_t s = t->old.slot[i];
    void *o = slot_obj(s);
    uint64_t h = t->ops->hash(o, t->ctx);
    if (arr_place(&t->cur, h, o, slot_tag(s), slot_ubits(s)) < 0) {
        rebuild(t, (t->cur.mask + 1) * 2);   /* an absurdly long probe: start over bigger */
        return -1;
    }
    cow(&t->old, i);
    t->old.slot[i] = 0;
    t->old.used--;
    return 0;
}

int table_step(table *t, size_t n)
{
    table_arr *o = &t->old;
    if (!o->slot) return 0;
    while (o->slot && o->used && t->mig_left && n) {
        if (!o->slot[t->mig_pos]) {
            /* empty slots are cheap to pass: they cost a sixteenth */
            for (int k = 0; k < 16 && t->mig_left && !o->slot[t->mig_pos]; k++) {
                t->mig_pos = (t->mig_pos + 1) & o->mask;
                t->mig_left--;
            }
            n--;
            continue;
        }
        /* Move a whole cluster so that no probe chain left behind has a hole. */
        while (o->slot && o->slot[t->mig_pos] && t->mig_left) {
            if (migrate_one(t, t->mig_pos) < 0) return 0;
            t->mig_pos = (t->mig_pos + 1) & o->mask;
            t->mig_left--;
            if (n) n--;
        }
    }
    if (o->slot && o->used == 0) arr_free(o);
    return o->slot != NULL;
}

/* Move every entry of both arrays into a new one, at once. Only for the
 * rare cases incremental resizing cannot absorb. */
static void rebuild(table *t, size_t slots)
{
    table_arr n;
    for (;;) {
        int ok = 1;
        arr_alloc(&n, slots);
        for (int a = 0; a < 2 && ok; a++) {
            table_arr *src = a ? &t->old : &t->cur;
            for (size_t i = 0; src->slot && i <= src->mask && ok; i++) {
                uint64_t s = src->slot[i];
                if (!s) continue;
                ok = arr_place(&n, t->ops->hash(slot_obj(s), t->ctx), slot_obj(s), slot_tag(s),
                               slot_ubits(s)) == 0;
            }
        }
        if (ok) break;
        free(n.slot);
        slots *= 2;
    }
    arr_free(&t->cur);
    arr_free(&t->old);
    t->cur = n;
    t->mig_left = 0;
}

static void resize(table *t, size_t slots)
{
    if (t->old.slot) {
        /* Still draining the last resize: finish it, or if the entries
         * left would overfill cur, rebuild at the new size right away. */
        if ((t->cur.used + t->old.used) * 4 > (t->cur.mask + 1) * 3) {
            rebuild(t, slots);
            return;
        }
        table_step(t, (size_t)-1);
    }
    if (!t->cur.slot || t->cur.used == 0) {
        arr_free(&t->cur);
        arr_alloc(&t->cur, slots);
        return;
    }
    t->old = t->cur;
    if (t->spare && t->spare_slots == slots) {
        t->cur = (table_arr){t->spare, slots - 1, 0, NULL, 0};
        t->spare = NULL;
        t->spare_slots = t->spare_touched = 0;
    } else {
        spare_free(t);
        arr_alloc(&t->cur, slots);
    }
    /* Start draining right after an empty slot: clusters are then whole. */
    t->mig_pos = 0;
    while (t->old.slot[t->mig_pos]) t->mig_pos++;
    t->mig_left = t->old.mask + 1;
}

/* Arrays of this many slots (2 MB) and more are faulted in ahead. */
#define SPARE_MIN ((size_t)1 << 18)
#define PAGE_BYTES 4096

/* A big table nearing its next growth (from half full) allocates the next
 * array early and writes to its pages a few per insertion, all of them by
 * 0.6 full (long probes often make it grow soon after): otherwise the
 * growth's first insertions take a page fault each, thousands of them in a
 * row (16 MB of array cost 55 ms of faults on the VM this was built on). */
static void spare_step(table *t, size_t size)
{
    size_t count = table_count(t), want = size * 2, pages = want * sizeof(uint64_t) / PAGE_BYTES;
    size_t from = size / 2, by = size / 5 * 3, goal;
    if (t->old.slot || count * 2 < size) return;
    if (t->spare && t->spare_slots != want) spare_free(t);   /* from before a shrink */
    if (t->spare && t->spare_touched == pages) return;
    if (!t->spare) {
        t->spare = calloc(want, sizeof(uint64_t));   /* mmap'ed: its pages come on first write */
        if (!t->spare) return;
        t->spare_slots = want;
        t->spare_touched = 0;
    }
    /* in step with the insertions from half full to 0.6 */
    goal = count >= by ? pages : (size_t)((double)pages * (double)(count - from) / (double)(by - from)) + 1;
    for (; t->spare_touched < goal && t->spare_touched < pages; t->spare_touched++)
        ((volatile char *)t->spare)[t->spare_touched * PAGE_BYTES] = 0;
}

void table_insert(table *t, uint64_t h, void *obj, unsigned ubits)
{
    size_t size = arr_size(&t->cur);
    table_step(t, 8);   /* a little per insertion: no insertion pays for much */
    if (size >= SPARE_MIN) spare_step(t, size);
    if (size == 0) {
        arr_alloc(&t->cur, MIN_SLOTS);
    } else if ((table_count(t) + 1) * 4 > size * 3) {
        resize(t, size * 2);
    }
    while (arr_place(&t->cur, h, obj, hash_tag(h), ubits) < 0)
        resize(t, arr_size(&t->cur) * 2);   /* absurdly long probe: grow now */
}

void table_replace(table *t, const table_pos *pos, void *obj, unsigned ubits)
{
    uint64_t s = pos->arr->slot[pos->idx];
    (void)t;
    cow(pos->arr, pos->idx);
    pos->arr->slot[pos->idx] = make_slot(obj, slot_tag(s), slot_dist(s), ubits);
}

unsigned table_ubits(const table_pos *pos) { return slot_ubits(pos->arr->slot[pos->idx]); }

void table_set_ubits(const table_pos *pos, unsigned ubits)
{
    uint64_t s = pos->arr->slot[pos->idx];
    cow(pos->arr, pos->idx);
    pos->arr->slot[pos->idx] = make_slot(slot_obj(s), slot_tag(s), slot_dist(s), ubits);
}

void table_delete(table *t, const table_pos *pos)
{
    table_arr *a = pos->arr;
    size_t hole = pos->idx, j = (hole + 1) & a->mask;
    (void)t;
    /* Backward-shift: pull later entries of the cluster into the hole when
     * that brings them no further than their home bucket. */
    while (a->slot[j]) {
        uint64_t s = a->slot[j];
        size_t gap = (j - hole) & a->mask;
        if (slot_dist(s) >= gap) {
            cow(a, hole);
            cow(a, j);
            a->slot[hole] = make_slot(slot_obj(s), slot_tag(s), slot_dist(s) - (unsigned)gap,
                                      slot_ubits(s));
            a->slot[j] = 0;
            hole = j;
        }
        j = (j + 1) & a->mask;
    }
    cow(a, hole);
    a->slot[hole] = 0;
    a->used--;
}

void table_maybe_shrink(table *t)
{
    size_t size = arr_size(&t->cur), want = MIN_SLOTS;
    if (t->old.slot) {
        /* deletions drain a resize too, as insertions do: a table that only
         * shrinks must not keep its big old array (and random picks in it) */
        table_step(t, 8);
        return;
    }
    if (size <= MIN_SLOTS || t->cur.used * 8 >= size) return;
    while (want < t->cur.used * 2) want *= 2;
    if (t->cur.used == 0) {
        arr_free(&t->cur);
        return;
    }
    resize(t, want);
}

size_t table_span(const table *t) { return arr_size(&t->old) + arr_size(&t->cur); }

void *table_at(table *t, size_t vpos, table_pos *pos, unsigned *ubits)
{
    table_arr *a = &t->old;
    uint64_t s;
    if (vpos >= arr_size(a)) {
        vpos -= arr_size(a);
        a = &t->cur;
        if (vpos >= arr_size(a)) return NULL;
    }
    s = a->slot[vpos];
    if (!s) return NULL;
    if (pos) { pos->arr = a; pos->idx = vpos; }
    if (ubits) *ubits = slot_ubits(s);
    return slot_obj(s);
}

/* Visit the entries of a whose home bucket is b. */
static void scan_bucket(table_arr *a, size_t b, table_scan_fn *fn, void *opaque)
{
    for (size_t i = b, d = 0; d <= DIST_MAX; i = (i + 1) & a->mask, d++) {
        uint64_t s = a->slot[i];
        if (!s) return;
        if (slot_dist(s) == d) fn(slot_obj(s), opaque);
    }
}

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
    return (v >> 32) | (v << 32);
}

/* Reverse-binary cursor increment over the bits of mask, as in Redis's dict
 * scan: it visits every bucket of every table size without repeating a
 * small table's bucket range after a resize. */
static uint64_t next_cursor(uint64_t v, uint64_t mask)
{
    v |= ~mask;
    v = rev64(v);
    v++;
    return rev64(v);
}

uint64_t table_scan(table *t, uint64_t v, table_scan_fn *fn, void *opaque)
{
    table_arr *small = &t->cur, *large = &t->old;
    if (!t->cur.slot) return 0;
    if (!t->old.slot) {
        scan_bucket(small, v & small->mask, fn, opaque);
        return next_cursor(v, small->mask);
    }
    if (arr_size(small) > arr_size(large)) { table_arr *x = small; small = large; large = x; }
    scan_bucket(small, v & small->mask, fn, opaque);
    /* and every bucket of the large array that expands that small bucket */
    do {
        scan_bucket(large, v & large->mask, fn, opaque);
        v = next_cursor(v, large->mask);
    } while (v & (small->mask ^ large->mask));
    return v;
}

void *table_random(table *t)
{
    size_t span = table_span(t), n = table_count(t);
    if (n == 0) return NULL;
    /* Each array in proportion to the entries it holds; in the old one,
     * only the part a resize has not drained yet (where its entries are):
     * a try then finds an entry about as often as the load factor says. */
    for (int tries = 0; tries < 64; tries++) {
        table_arr *a = &t->cur;
        size_t i;
        if (t->old.used && util_rand64() % n < t->old.used) {
            a = &t->old;
            i = t->mig_left ? (t->mig_pos + util_rand64() % t->mig_left) & a->mask
                            : util_rand64() % arr_size(a);
        } else {
            i = util_rand64() % arr_size(a);
        }
        if (a->slot[i]) return slot_obj(a->slot[i]);
    }
    for (size_t i = util_rand64() % span, n = 0; n < span; n++, i = (i + 1) % span) {
        void *o = table_at(t, i, NULL, NULL);
        if (o) return o;
    }
    return NULL;
}

size_t table_slots(const table *t) { return arr_size(&t->cur) + arr_size(&t->old); }

void table_copy_slots(const table *t, uint64_t *dst)
{
    if (t->cur.slot) memcpy(dst, t->cur.slot, arr_size(&t->cur) * sizeof(uint64_t));
    if (t->old.slot)
        memcpy(dst + arr_size(&t->cur), t->old.slot, arr_size(&t->old) * sizeof(uint64_t));
}
