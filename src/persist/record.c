/* record.c - see record.h. */
#include "persist/record.h"
#include "store/kind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crc32c.h"

static void put_u32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (char)(v >> (8 * i));
}

static uint32_t get_u32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

size_t rec_begin(buf *b, int type)
{
    size_t start = b->len;
    char h[REC_HDR + 1] = {0};
    h[REC_HDR] = (char)type;
    buf_append(b, h, sizeof h);
    return start;
}

void rec_finish(buf *b, size_t start, const char *tail, size_t tail_len)
{
    char *h = b->data + start;
    uint32_t crc;
    put_u32(h, (uint32_t)(b->len - start - REC_HDR + tail_len));
    crc = crc32c(0, h, 4);
    crc = crc32c(crc, h + REC_HDR, b->len - start - REC_HDR);
    if (tail_len) crc = crc32c(crc, tail, tail_len);
    put_u32(h + 4, crc);
}

void rec_put_varint(buf *b, uint64_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    buf_append(b, tmp, n);
}

void rec_put_i64(buf *b, int64_t v)
{
    char tmp[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) tmp[i] = (char)(u >> (8 * i));
    buf_append(b, tmp, 8);
}

void rec_put_str(buf *b, const char *p, size_t n)
{
    rec_put_varint(b, n);
    buf_append(b, p, n);
}

static void put_dom(buf *b, const char *dom, size_t dlen)
{
    if (dlen == 7 && memcmp(dom, "default", 7) == 0) dlen = 0;
    rec_put_str(b, dom, dlen);
}

void rec_header(buf *b, int kind, int64_t created_ms)
{
    size_t s = rec_begin(b, REC_HEADER);
    char v[6] = {'K', 'A', 'S', 'I', REC_VERSION, (char)kind};
    buf_append(b, v, sizeof v);
    rec_put_i64(b, created_ms);
    rec_finish(b, s, NULL, 0);
}

void rec_end(buf *b, uint64_t count)
{
    size_t s = rec_begin(b, REC_END);
    rec_put_varint(b, count);
    rec_finish(b, s, NULL, 0);
}

void rec_put(buf *b, const char *dom, size_t dlen, const char *key, size_t klen, const char *val,
             size_t vlen, int64_t expire, int split)
{
    size_t s = rec_begin(b, expire >= 0 ? REC_PUT_TTL : REC_PUT);
    put_dom(b, dom, dlen);
    if (expire >= 0) rec_put_i64(b, expire);
    rec_put_str(b, key, klen);
    rec_put_varint(b, vlen);
    if (split) {
        rec_finish(b, s, val, vlen);
    } else {
        buf_append(b, val, vlen);
        rec_finish(b, s, NULL, 0);
    }
}

void rec_item(buf *b, const char *dom, size_t dlen, const item *it, int64_t expire, int split)
{
    const kind_ops *ops;
    if (!item_typed(it)) {
        rec_put(b, dom, dlen, item_key(it), item_klen(it), item_cval(it), item_vlen(it), expire, split);
        return;
    }
    /* another kind: its kind byte and its bytes, as the kind serializes
     * them (as stored, for an inline encoding) */
    ops = kind_ops_of(item_kind(it));
    if (ops && ops->serialize) {
        buf v = {0};
        ops->serialize(it, &v);
        rec_put_kind(b, dom, dlen, item_key(it), item_klen(it), v.data, v.len, expire);
        buf_free(&v);
    } else {
        rec_put_kind(b, dom, dlen, item_key(it), item_klen(it), item_cval(it), item_vlen(it),
                     expire);
    }
}

void rec_put_kind(buf *b, const char *dom, size_t dlen, const char *key, size_t klen,
                  const char *val, size_t vlen, int64_t expire)
{
    size_t s = rec_begin(b, REC_PUT_KIND);
    put_dom(b, dom, dlen);
    rec_put_i64(b, expire);
    rec_put_str(b, key, klen);
    rec_put_str(b, val, vlen);
    rec_finish(b, s, NULL, 0);
}

void rec_del(buf *b, const char *dom, size_t dlen, const char *key, size_t klen)
{
    size_t s = rec_begin(b, REC_DEL);
    put_dom(b, dom, dlen);
    rec_put_str(b, key, klen);
    rec_finish(b, s, NULL, 0);
}

void rec_expire(buf *b, const char *dom, size_t dlen, const char *key, size_t klen, int64_t when)
{
    size_t s = rec_begin(b, REC_EXPIRE);
    put_dom(b, dom, dlen);
    rec_put_str(b, key, klen);
    rec_put_i64(b, when);
    rec_finish(b, s, NULL, 0);
}

void rec_splice(buf *b, const char *dom, size_t dlen, const char *key, size_t klen,
                uint64_t total, uint64_t off, const char *p, size_t n)
{
    size_t s = rec_begin(b, REC_SPLICE);
    put_dom(b, dom, dlen);
    rec_put_str(b, key, klen);
    rec_put_varint(b, total);
    rec_put_varint(b, off);
    rec_put_str(b, p, n);
    rec_finish(b, s, NULL, 0);
}

void rec_flush(buf *b, const char *dom, size_t dlen)
{
    size_t s = rec_begin(b, REC_FLUSH);
    put_dom(b, dom, dlen);
    rec_finish(b, s, NULL, 0);
}

void rec_cmd(buf *b, const char *dom, size_t dlen, int argc, const slice *argv)
{
    size_t s = rec_begin(b, REC_CMD);
    put_dom(b, dom, dlen);
    rec_put_varint(b, (uint64_t)argc);
    for (int i = 0; i < argc; i++) rec_put_str(b, argv[i].p, argv[i].n);
    rec_finish(b, s, NULL, 0);
}

/* ---- reading ---- */

typedef struct cursor {
    const char *p, *end;
    int bad;
} cursor;

static uint64_t get_varint(cursor *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned char x;
        if (c->p >= c->end) break;
        x = (unsigned char)*c->p++;
        v |= (uint64_t)(x & 0x7f) << shift;
        if (!(x & 0x80)) return v;
    }
    c->bad = 1;
    return 0;
}

static int64_t get_i64(cursor *c)
{
    uint64_t u = 0;
    if (c->end - c->p < 8) {
        c->bad = 1;
        return 0;
    }
    for (int i = 0; i < 8; i++) u |= (uint64_t)(unsigned char)c->p[i] << (8 * i);
    c->p += 8;
    return (int64_t)u;
}

static const char *get_bytes(cursor *c, size_t n)
{
    const char *p = c->p;
    if ((size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return NULL;
    }
    c->p += n;
    return p;
}

static const char *get_str(cursor *c, size_t *n)
{
    *n = (size_t)get_varint(c);
    return c->bad ? NULL : get_bytes(c, *n);
}

static void get_dom(cursor *c, rec *r)
{
    r->dom = get_str(c, &r->dlen);
    if (!c->bad && r->dlen == 0) {
        r->dom = "default";
        r->dlen = 7;
    }
}

int rec_decode(const char *p, size_t avail, rec *r, size_t *used)
{
    uint32_t len, crc;
    cursor c;
    if (avail < REC_HDR + 1) return REC_SHORT;
    len = get_u32(p);
    if (len < 1 || len > REC_MAX_LEN) return REC_BAD;
    if (avail - REC_HDR < len) return REC_SHORT;
    crc = crc32c(crc32c(0, p, 4), p + REC_HDR, len);
    if (crc != get_u32(p + 4)) return REC_BAD;
    memset(r, 0, sizeof *r);
    r->type = (unsigned char)p[REC_HDR];
    c.p = p + REC_HDR + 1;
    c.end = p + REC_HDR + len;
    c.bad = 0;
    switch (r->type) {
    case REC_HEADER: {
        const char *m = get_bytes(&c, 6);
        if (!m || memcmp(m, "KASI", 4) != 0 || m[4] != REC_VERSION) return REC_BAD;
        r->kind = m[5];
        r->expire = get_i64(&c);
        break;
    }
    case REC_END:
        r->count = get_varint(&c);
        break;
    case REC_PUT:
    case REC_PUT_TTL:
        get_dom(&c, r);
        r->expire = r->type == REC_PUT_TTL ? get_i64(&c) : -1;
        if (!c.bad && r->type == REC_PUT_TTL && r->expire < 0) c.bad = 1;
        r->type = REC_PUT;
        r->key = get_str(&c, &r->klen);
        r->val = get_str(&c, &r->vlen);
        break;
    case REC_PUT_KIND:
        get_dom(&c, r);
        r->expire = get_i64(&c);
        r->type = REC_PUT;
        r->key = get_str(&c, &r->klen);
        r->val = get_str(&c, &r->vlen);
        /* a kind byte of a kind other than string, and room for its bytes */
        if (!c.bad && (r->vlen < 1 || (unsigned char)r->val[0] >> 4 == KIND_STRING ||
                       r->vlen > ITEM_TYPED_LEN))
            c.bad = 1;
        if (!c.bad) r->vkind = (unsigned char)r->val[0] >> 4;
        break;
    case REC_DEL:
        get_dom(&c, r);
        r->key = get_str(&c, &r->klen);
        break;
    case REC_EXPIRE:
        get_dom(&c, r);
        r->key = get_str(&c, &r->klen);
        r->expire = get_i64(&c);
        break;
    case REC_SPLICE:
        get_dom(&c, r);
        r->key = get_str(&c, &r->klen);
        r->total = get_varint(&c);
        r->off = get_varint(&c);
        r->val = get_str(&c, &r->vlen);
        if (!c.bad && (r->off > r->total || r->vlen > r->total - r->off)) c.bad = 1;
        break;
    case REC_FLUSH:
        get_dom(&c, r);
        break;
    case REC_CMD: {
        uint64_t argc;
        get_dom(&c, r);
        argc = get_varint(&c);
        if (c.bad || argc == 0 || argc > (uint64_t)(c.end - c.p)) return REC_BAD;
        r->argc = (int)argc;
        r->val = c.p;
        for (uint64_t i = 0; i < argc && !c.bad; i++) {
            size_t n;
            get_str(&c, &n);
        }
        r->vlen = (size_t)(c.p - r->val);
        break;
    }
    default:
        return REC_BAD;
    }
    if (c.bad || c.p != c.end) return REC_BAD;
    if ((r->klen > ITEM_KEY_MAX) || r->vlen > ITEM_VLEN_MASK || r->total > ITEM_VLEN_MASK)
        return REC_BAD;
    *used = REC_HDR + len;
    return REC_OK;
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

int rec_read_file(const char *path, int (*fn)(const rec *r, void *opaque), void *opaque,
                  rec_file_info *info)
{
    struct stat st;
    const char *map = NULL;
    size_t pos = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    memset(info, 0, sizeof *info);
    if (fd < 0 || fstat(fd, &st) < 0) {
        info->status = REC_FILE_IOERR;
        snprintf(info->err, sizeof info->err, "can't open %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return info->status;
    }
    info->size = (size_t)st.st_size;
    if (info->size) {
        map = mmap(NULL, info->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            info->status = REC_FILE_IOERR;
            snprintf(info->err, sizeof info->err, "can't map %s: %s", path, strerror(errno));
            close(fd);
            return info->status;
        }
        madvise((void *)map, info->size, MADV_SEQUENTIAL);
    }
    close(fd);
    info->status = REC_FILE_OK;
    while (pos < info->size) {
        rec r;
        size_t used, left = info->size - pos;
        int rc = rec_decode(map + pos, left, &r, &used);
        if (rc == REC_OK && pos == 0 && r.type != REC_HEADER) rc = REC_BAD;
        if (rc == REC_OK) {
            if (r.type == REC_HEADER) {
                if (pos != 0) rc = REC_BAD;
                else info->kind = r.kind;
            }
        }
        if (rc != REC_OK) {
            /* A torn tail is what a crash while appending leaves: an
             * incomplete last record, or a last record whose bytes did
             * not all reach the disk, or zeros. Anything else is damage. */
            uint32_t len = left >= 4 ? get_u32(map + pos) : 0;
            int torn = rc == REC_SHORT || all_zero(map + pos, left) ||
                       (len >= 1 && len <= REC_MAX_LEN && (size_t)len + REC_HDR >= left);
            info->status = torn ? REC_FILE_TORN : REC_FILE_CORRUPT;
            snprintf(info->err, sizeof info->err, "%s record at offset %zu of %s (%zu bytes after it)",
                     torn ? "incomplete" : "corrupt", pos, path, left);
            break;
        }
        if (r.type != REC_HEADER && fn && fn(&r, opaque) < 0) {
            info->status = REC_FILE_ABORT;
            break;
        }
        pos += used;
        info->good = pos;
        info->records++;
    }
    if (map) munmap((void *)map, info->size);
    return info->status;
}

int rec_cmd_arg(const rec *r, const char **p, const char **arg, size_t *n)
{
    cursor c = {*p, r->val + r->vlen, 0};
    if (c.p >= c.end) return -1;
    *arg = get_str(&c, n);
    if (c.bad) return -1;
    *p = c.p;
    return 0;
}
