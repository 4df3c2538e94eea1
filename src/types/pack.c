/* pack.c - scratch buffers for editing packed collections. See pack.h. */
#include "types/pack.h"

#include <pthread.h>
#include <stdlib.h>

#include "lib/util.h"

/* A command edits at most a few collections at once (SMOVE: two). */
#define POOL 4
#define KEEP_BYTES (64 * 1024)   /* a buffer bigger than this is freed when given back */

static __thread buf pool[POOL];
static __thread unsigned char taken[POOL];
static __thread int pool_kept;   /* this thread frees its pool when it exits */
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* A thread's pool goes with it (its buffers would be lost with its TLS). */
static void pool_free(void *unused)
{
    (void)unused;
    for (int i = 0; i < POOL; i++) buf_free(&pool[i]);
}

static void pool_key_make(void) { pthread_key_create(&pool_key, pool_free); }

static buf *scratch_get(void)
{
    if (!pool_kept) {
        pthread_once(&pool_once, pool_key_make);
        pthread_setspecific(pool_key, (void *)1);
        pool_kept = 1;
    }
    for (int i = 0; i < POOL; i++)
        if (!taken[i]) {
            taken[i] = 1;
            pool[i].off = pool[i].len = 0;
            return &pool[i];
        }
    buf *b = xcalloc(1, sizeof *b);   /* more at once than the pool holds */
    return b;
}

static void scratch_put(buf *b)
{
    for (int i = 0; i < POOL; i++)
        if (b == &pool[i]) {
            taken[i] = 0;
            if (b->cap > KEEP_BYTES) buf_free(b);
            return;
        }
    buf_free(b);
    free(b);
}

void pack_edit_open(pack_edit *e, const char *p, size_t n)
{
    static const char zeros[PACK_HEAD];
    uint64_t count = 0;
    const char *entries = p;
    e->b = scratch_get();
    buf_append(e->b, zeros, PACK_HEAD);
    if (p && n) {
        pack_header(p, p + n, &count, &entries);
        buf_append(e->b, entries, n - (size_t)(entries - p));
    }
    e->n = (size_t)count;
}

const char *pack_edit_payload(pack_edit *e, size_t *n)
{
    size_t h = varint_len(e->n);
    char *p = e->b->data + PACK_HEAD - h;
    varint_put(p, e->n);
    *n = h + pack_edit_bytes(e);
    return p;
}

void pack_edit_close(pack_edit *e)
{
    if (e->b) scratch_put(e->b);
    e->b = NULL;
}

char *pack_edit_splice(pack_edit *e, size_t off, size_t old, size_t n)
{
    buf *b = e->b;
    size_t at = PACK_HEAD + off, tail = b->len - at - old;
    if (n > old) buf_reserve(b, n - old);
    memmove(b->data + at + n, b->data + at + old, tail);
    b->len = b->len - old + n;
    return b->data + at;
}
