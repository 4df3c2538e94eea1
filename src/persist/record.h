/* record.h - the unit of persistence, shared by snapshots and the AOF.
 *
 * A file is a sequence of records. Each record is
 *   u32 length   bytes of type and body that follow the 8-byte header
 *   u32 crc      CRC-32C of the length field, the type and the body
 *   u8  type
 *   body         fields of the type (varints are LEB128, times are i64 LE)
 * so every byte of a file is checksummed and a reader can say exactly
 * where the first bad byte is. A domain is written by name ("default" as
 * the empty name); times are absolute Unix milliseconds, so replaying a
 * record tomorrow gives today's state.
 *
 * Snapshots are HEADER, PUT..., END (END holds the PUT count). Log files
 * are HEADER followed by any records. */
#ifndef KASI_RECORD_H
#define KASI_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/slice.h"
#include "store/item.h"

#define REC_HDR 8
#define REC_VERSION 1
#define REC_MAX_LEN ((1u << 30) + (1u << 20))   /* longest body a writer can produce */

enum rec_type {
    REC_HEADER = 1,   /* magic "KASI", u8 version, u8 kind, i64 created */
    REC_END = 2,      /* varint count of PUT records */
    REC_PUT = 3,      /* domain, key, value (no expiry) */
    REC_DEL = 4,      /* domain, key */
    REC_EXPIRE = 5,   /* domain, key, i64 expire (-1: persist) */
    REC_SPLICE = 6,   /* domain, key, varint new length, varint offset, bytes */
    REC_FLUSH = 7,    /* domain */
    REC_PUT_TTL = 8,  /* domain, i64 expire, key, value; decoded as REC_PUT */
    REC_PUT_KIND = 9, /* domain, i64 expire (-1: none), key, value of another kind than
                       * string: its kind byte, then its bytes (see kind.h); decoded as
                       * REC_PUT with vkind set */
    REC_CMD = 10,     /* domain, varint argc, argc strings: a collection write as the command
                       * that replays it; val/vlen hold the strings (rec_cmd_arg) */
};

enum rec_kind { REC_KIND_SNAPSHOT = 1, REC_KIND_LOG = 2 };

typedef struct rec {
    int type;
    const char *dom, *key, *val;
    size_t dlen, klen, vlen;
    int64_t expire;       /* PUT, EXPIRE; HEADER: creation time */
    uint64_t total, off;  /* SPLICE */
    uint64_t count;       /* END */
    int kind;             /* HEADER */
    unsigned vkind;       /* PUT: the value's kind (KIND_STRING, or val[0] >> 4) */
    int argc;             /* CMD */
} rec;

/* ---- writing: records are built in a buf ---- */

size_t rec_begin(buf *b, int type);
/* Fill in the header of the record begun at start. tail (may be NULL) is
 * counted and checksummed as the record's last bytes but not copied: the
 * caller writes it right after the buf's bytes. */
void rec_finish(buf *b, size_t start, const char *tail, size_t tail_len);
void rec_put_varint(buf *b, uint64_t v);
void rec_put_i64(buf *b, int64_t v);
void rec_put_str(buf *b, const char *p, size_t n);   /* varint length, bytes */

void rec_header(buf *b, int kind, int64_t created_ms);
void rec_end(buf *b, uint64_t count);
/* A PUT of it, of any kind; with split (strings only), the value is left
 * out of b for the caller to write after it (see rec_finish). */
/* A value of another kind than string, persisted bytes given (kind byte
 * first). */
void rec_put_kind(buf *b, const char *dom, size_t dlen, const char *key, size_t klen,
                  const char *val, size_t vlen, int64_t expire);
void rec_item(buf *b, const char *dom, size_t dlen, const item *it, int64_t expire, int split);
void rec_put(buf *b, const char *dom, size_t dlen, const char *key, size_t klen, const char *val,
             size_t vlen, int64_t expire, int split);
void rec_del(buf *b, const char *dom, size_t dlen, const char *key, size_t klen);
void rec_expire(buf *b, const char *dom, size_t dlen, const char *key, size_t klen, int64_t when);
void rec_splice(buf *b, const char *dom, size_t dlen, const char *key, size_t klen,
                uint64_t total, uint64_t off, const char *p, size_t n);
void rec_flush(buf *b, const char *dom, size_t dlen);
void rec_cmd(buf *b, const char *dom, size_t dlen, int argc, const slice *argv);

/* ---- reading ---- */

/* The next argument of a CMD record: start with *p = r->val; returns 0, or
 * -1 at the end (the record was checked whole when it was decoded). */
int rec_cmd_arg(const rec *r, const char **p, const char **arg, size_t *n);

enum { REC_OK = 1, REC_SHORT = 0, REC_BAD = -1 };
/* Decode the record at p (avail bytes); fills r (pointing into p) and
 * *used. Returns REC_OK, REC_SHORT (incomplete) or REC_BAD. */
int rec_decode(const char *p, size_t avail, rec *r, size_t *used);

enum rec_status { REC_FILE_OK, REC_FILE_TORN, REC_FILE_CORRUPT, REC_FILE_IOERR, REC_FILE_ABORT };

typedef struct rec_file_info {
    int status;
    size_t size;          /* bytes in the file */
    size_t good;          /* bytes of whole, valid records from the start */
    uint64_t records;
    int kind;             /* from the HEADER */
    char err[256];
} rec_file_info;

/* Read every record of a file in order, calling fn (return -1 to stop:
 * status REC_FILE_ABORT). A torn tail (the end of the file is an
 * incomplete or unfinished record, or zero bytes) stops with
 * REC_FILE_TORN; a bad record with more data after it is
 * REC_FILE_CORRUPT. info->good is where the valid prefix ends. */
int rec_read_file(const char *path, int (*fn)(const rec *r, void *opaque), void *opaque,
                  rec_file_info *info);

#endif
