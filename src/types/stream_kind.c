/* stream_kind.c - the stream kind's operations and its writer. See
 * stream_kind.h. */
#include "types/stream_kind.h"

#include <string.h>

#include "lib/bgfree.h"

/* Big streams are freed by the background thread (bgfree.h). */
#define BG_FREE_BYTES (64 * 1024)

stream *stream_of(const item *it)
{
    stream *s;
    memcpy(&s, item_cval(it) + 1, sizeof s);
    return s;
}

stream *stream_w_open(stream_w *w, kref *r)
{
    memset(w, 0, sizeof *w);
    w->r = r;
    if (r->it) {
        w->s = stream_of(r->it);
        w->mem0 = w->s->mem;
    } else {
        w->s = stream_new();
    }
    return w->s;
}

void stream_w_touch(stream_w *w)
{
    if (!w->changed && w->mem0) ks_modify(w->r);
    w->changed = 1;
}

void stream_w_touch_unwatched(stream_w *w)
{
    if (!w->changed && w->mem0) ks_modify_unwatched(w->r);
    w->changed = 1;
}

int stream_w_close(stream_w *w)
{
    kref *r = w->r;
    if (!w->s) return 0;
    if (!w->mem0) {   /* made by this write: the item gets it now */
        if (!w->changed) {
            stream_free(w->s);
            return 0;
        }
        ks_put_typed(r, KIND_STREAM, STREAM_NODES, (const char *)&w->s, sizeof w->s, -1);
        ks_charge(r, (long long)w->s->mem);
        return 1;
    }
    if (w->changed && w->s->mem != w->mem0) ks_charge(r, (long long)w->s->mem - (long long)w->mem0);
    return w->changed;
}

/* ---- the kind's operations ---- */

static const char *stream_encoding(const item *it)
{
    (void)it;
    return "stream";
}

static size_t stream_outside(const item *it) { return stream_of(it)->mem; }

static void put_stream(void *s) { stream_free(s); }

static void stream_release(item *it)
{
    stream *s = stream_of(it);
    if (s->mem >= BG_FREE_BYTES) bgfree_submit(put_stream, s);
    else stream_free(s);
}

static int stream_copy(item *dst, const item *src)
{
    stream *s = stream_dup(stream_of(src));
    if (!s) return -1;
    memcpy(item_payload(dst), &s, sizeof s);
    return 0;
}

static void put_kind(buf *out)
{
    char k = (char)(KIND_STREAM << 4 | STREAM_NODES);
    buf_append(out, &k, 1);
}

static void stream_kind_serialize(const item *it, buf *out)
{
    put_kind(out);
    stream_serialize(stream_of(it), out);
}

static item *stream_kind_restore(kref *r, const char *p, size_t n, int64_t expire)
{
    stream *s;
    item *it;
    if (n < 1 || ((unsigned char)p[0] & 15u) != STREAM_NODES) return NULL;
    if (!(s = stream_restore(p + 1, n - 1))) return NULL;
    it = ks_new(r, NULL, 1 + sizeof s, expire);
    item_set_kind(it, KIND_STREAM, STREAM_NODES, sizeof s);
    memcpy(item_payload(it), &s, sizeof s);
    ks_charge(r, (long long)s->mem);
    return it;
}

static void *stream_kind_view(const item *it) { return stream_view(stream_of(it)); }

static void stream_kind_view_serialize(void *view, buf *out)
{
    put_kind(out);
    stream_view_serialize(view, out);
}

const kind_ops stream_kind_ops = {
    .name = "stream",
    .encoding = stream_encoding,
    .outside = stream_outside,
    .release = stream_release,
    .copy = stream_copy,
    .serialize = stream_kind_serialize,
    .restore = stream_kind_restore,
    .view = stream_kind_view,
    .view_serialize = stream_kind_view_serialize,
    .view_release = stream_view_release,
};
