/* Unit tests for the persisted record format: round trips of every type,
 * CRC-32C against its published check value, and how a damaged file is
 * judged (a torn tail is loadable, damage in the middle is not). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lib/crc32c.h"
#include "persist/record.h"

static int collect(const rec *r, void *opaque)
{
    int *n = opaque;
    (*n)++;
    (void)r;
    return 0;
}

static void write_file(const char *path, const char *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n) abort();
    close(fd);
}

static int read_status(const char *path, rec_file_info *info)
{
    int n = 0;
    return rec_read_file(path, collect, &n, info);
}

int main(void)
{
    buf b = {0};
    rec r;
    size_t used, off = 0, rec_starts[9];
    char item_mem[64], path[] = "/tmp/kasi_test_recordXXXXXX";
    item *it;
    rec_file_info info;
    int fd = mkstemp(path);
    close(fd);

    /* the CRC-32C check value from RFC 3720 */
    CHECK(crc32c(0, "123456789", 9) == 0xE3069283u);
    CHECK(crc32c(crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u);

    rec_starts[0] = b.len;
    rec_header(&b, REC_KIND_LOG, 1234);
    it = item_init(item_mem, "key", 3, "val\0ue", 6, 99999);
    rec_starts[1] = b.len;
    rec_item(&b, "default", 7, it, item_expire(it), 0);
    rec_starts[2] = b.len;
    rec_del(&b, "dom\n", 4, "k", 1);
    rec_starts[7] = b.len;
    rec_item(&b, "x", 1, item_init(item_mem, "nk", 2, "v", 1, -1), -1, 0);
    rec_starts[3] = b.len;
    rec_expire(&b, "d", 1, "k", 1, -1);
    rec_starts[4] = b.len;
    rec_splice(&b, "d", 1, "k", 1, 10, 2, "ab", 2);
    rec_starts[5] = b.len;
    rec_flush(&b, "d", 1);
    rec_starts[6] = b.len;

    CHECK(rec_decode(b.data, b.len, &r, &used) == REC_OK && r.type == REC_HEADER &&
          r.kind == REC_KIND_LOG && r.expire == 1234);
    off += used;
    CHECK(rec_decode(b.data + off, b.len - off, &r, &used) == REC_OK && r.type == REC_PUT);
    CHECK(r.dlen == 7 && memcmp(r.dom, "default", 7) == 0 && r.klen == 3 && r.vlen == 6 &&
          memcmp(r.val, "val\0ue", 6) == 0 && r.expire == 99999);
    off += used;
    CHECK(rec_decode(b.data + off, b.len - off, &r, &used) == REC_OK && r.type == REC_DEL &&
          r.dlen == 4 && memcmp(r.dom, "dom\n", 4) == 0);
    off += used;
    CHECK(rec_decode(b.data + off, b.len - off, &r, &used) == REC_OK && r.type == REC_PUT &&
          r.expire == -1 && r.klen == 2 && r.vlen == 1 && used == rec_starts[3] - rec_starts[7]);
    off += used;
    CHECK(rec_decode(b.data + off, b.len - off, &r, &used) == REC_OK && r.type == REC_EXPIRE &&
          r.expire == -1);
    off += used;
    CHECK(rec_decode(b.data + off, b.len - off, &r, &used) == REC_OK && r.type == REC_SPLICE &&
          r.total == 10 && r.off == 2 && r.vlen == 2);
    off += used;
    CHECK(rec_decode(b.data + off, b.len - off, &r, &used) == REC_OK && r.type == REC_FLUSH);
    off += used;
    CHECK(off == b.len);

    /* every prefix of a record is "incomplete", never "bad" */
    for (size_t n = 0; n < rec_starts[2] - rec_starts[1]; n++)
        CHECK(rec_decode(b.data + rec_starts[1], n, &r, &used) == REC_SHORT);

    /* a whole, valid file */
    write_file(path, b.data, b.len);
    CHECK(read_status(path, &info) == REC_FILE_OK && info.records == 7 && info.good == b.len);

    /* torn tails: cut anywhere inside the last record, or zeros appended */
    for (size_t cut = rec_starts[5] + 1; cut < rec_starts[6]; cut++) {
        write_file(path, b.data, cut);
        CHECK(read_status(path, &info) == REC_FILE_TORN && info.good == rec_starts[5]);
    }
    {
        buf z = {0};
        buf_append(&z, b.data, b.len);
        for (int i = 0; i < 100; i++) buf_append(&z, "\0", 1);
        write_file(path, z.data, z.len);
        CHECK(read_status(path, &info) == REC_FILE_TORN && info.good == b.len);
        buf_free(&z);
    }
    /* the last record's bytes damaged: torn; a middle record's: corrupt */
    {
        char *copy = malloc(b.len);
        memcpy(copy, b.data, b.len);
        copy[rec_starts[5] + REC_HDR + 1] ^= 0x40;
        write_file(path, copy, b.len);
        CHECK(read_status(path, &info) == REC_FILE_TORN && info.good == rec_starts[5]);
        memcpy(copy, b.data, b.len);
        copy[rec_starts[2] + REC_HDR + 2] ^= 0x01;
        write_file(path, copy, b.len);
        CHECK(read_status(path, &info) == REC_FILE_CORRUPT && info.good == rec_starts[2]);
        /* a damaged length in the middle is damage too, not a torn tail */
        memcpy(copy, b.data, b.len);
        copy[rec_starts[1]] ^= 0x7f;
        write_file(path, copy, b.len);
        CHECK(read_status(path, &info) == REC_FILE_CORRUPT || info.status == REC_FILE_TORN);
        CHECK(info.good == rec_starts[1]);
        /* no header: not a Kasi file */
        write_file(path, b.data + rec_starts[1], b.len - rec_starts[1]);
        CHECK(read_status(path, &info) == REC_FILE_CORRUPT && info.good == 0);
        free(copy);
    }
    unlink(path);
    buf_free(&b);
    return check_done("record");
}
