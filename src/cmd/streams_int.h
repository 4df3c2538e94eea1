/* streams_int.h - what the stream commands (streams.c) and the consumer
 * group commands (stream_groups.c) share: Redis's ID parsing and C-string
 * reading of options, and the replies of entries. Private to the two. */
#ifndef KASI_CMD_STREAMS_INT_H
#define KASI_CMD_STREAMS_INT_H

#include "cmd/collection.h"
#include "types/stream_kind.h"

#define ERR_ID "ERR Invalid stream ID specified as stream command argument"

static const stream_id ID_MIN = {0, 0}, ID_MAX = {UINT64_MAX, UINT64_MAX};

/* argv's bytes up to its first NUL, as Redis's C-string view of it. */
size_t xs_cstr_n(const karg *a);
/* Whether argv[i] reads as lit (any case) as a C string. */
int xs_opt_is(cmd_call *x, int i, const char *lit);
/* Whether argv[i] reads as the one-character C string c. */
int xs_opt_ch(cmd_call *x, int i, char c);
/* Redis's stream ID parsing: "-" and "+" (unless strict), "ms" (seq is
 * missing_seq), "ms-seq", and with seq_given "ms-*" (*seq_given = 0).
 * 0, or -1 (the caller replies ERR_ID). */
int xs_parse_id(const karg *a, stream_id *id, uint64_t missing_seq, int strict, int *seq_given);
/* The same for argv[i], replying ERR_ID on failure. */
int xs_arg_id(cmd_call *x, int i, stream_id *id, uint64_t missing_seq, int strict);
/* An interval's start or end (end != 0) at argv[i], "(" making it
 * exclusive; -1 after replying. */
int xs_interval(cmd_call *x, int i, stream_id *id, int end);
void xs_reply_id(cmd_call *x, stream_id id);
/* One entry: [id, [field, value, ...]]. */
void xs_reply_entry(cmd_call *x, const sentry *e);
/* The entries from start to end as an array, at most count (0: all);
 * returns how many. */
long long xs_reply_range(cmd_call *x, const stream *s, stream_id start, stream_id end,
                         long long count, int rev);
/* The stream at argv[2] for XINFO (replies "no such key" or WRONGTYPE when
 * there is none): NULL then. r is locked either way. */
const stream *xs_info_stream(cmd_call *x, kref *r);

/* XREAD's and XREADGROUP's options (group: XREADGROUP's), and the keys
 * locked together: 0, or -1 after replying (nothing locked). Then
 * xs_read_end with the streams served (their array's token; -1 after an
 * error reply): it ends the reply, or, when none was served, answers as a BLOCK would (the one place
 * a wake-up goes), and unlocks. */
typedef struct xs_read_args {
    long long timeout;      /* BLOCK's (-1: none) */
    long long count;        /* 0: all */
    int sarg, nstreams;     /* the first key, how many */
    int garg;               /* the group's name (the consumer's follows) */
    int noack;
    stream_id *ids;         /* per stream: its ID argument */
    kref *refs;
    ks_lockset ls;
} xs_read_args;
int xs_read_opts(cmd_call *x, int group, xs_read_args *o);
void xs_read_end(cmd_call *x, xs_read_args *o, int served, size_t token);
/* One stream served, ahead of its entries: the first opens the reply (a
 * map of the streams in RESP3, an array of [name, entries] in RESP2). */
void xs_read_stream(cmd_call *x, int served, size_t *token, const karg *key);

/* The consumer group commands (stream_groups.c). */
void cmd_xgroup_create(cmd_call *x);
void cmd_xgroup_setid(cmd_call *x);
void cmd_xgroup_destroy(cmd_call *x);
void cmd_xgroup_createconsumer(cmd_call *x);
void cmd_xgroup_delconsumer(cmd_call *x);
void cmd_xgroup_help(cmd_call *x);
void cmd_xreadgroup(cmd_call *x);
void cmd_xack(cmd_call *x);
void cmd_xpending(cmd_call *x);
void cmd_xclaim(cmd_call *x);
void cmd_xautoclaim(cmd_call *x);
void cmd_xinfo_groups(cmd_call *x);
void cmd_xinfo_consumers(cmd_call *x);
/* XINFO STREAM's groups: their count, or (full) each in full, at most
 * count pending entries each (0: all). */
void xs_reply_groups_full(cmd_call *x, const stream *s, long long count);

#endif
