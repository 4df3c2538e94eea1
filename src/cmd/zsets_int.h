/* zsets_int.h - what the two sorted-set command files share: zsets.c (adds,
 * reads, ranges and the rows) and zsets_more.c (pops, random members,
 * ZSCAN and the ZUNION/ZINTER/ZDIFF family). */
#ifndef KASI_CMD_ZSETS_INT_H
#define KASI_CMD_ZSETS_INT_H

#include "cmd/collection.h"
#include "types/zset.h"

/* A member and its score, copied out of a set: the member's bytes are at
 * offset off of a buf the caller owns. */
typedef struct zsets_pair {
    size_t off, ml;
    double score;
} zsets_pair;

/* Store n pairs (sorted, distinct), their bytes in b, as the value of dst
 * (locked, ks_find done), replacing whatever it holds; n == 0 deletes it.
 * Reported as the deletion and the value stored, never as the command,
 * whose source dst may have been. Returns 1 when the key changed,
 * 0 when not, -1 when memory ran out (dst is then deleted). */
int zsets__store(cmd_call *x, kref *dst, const zsets_pair *v, size_t n, const buf *b);

/* ZADD itself, also run by GEOADD with the arguments it builds (and so
 * logged as that ZADD). */
void zsets__zadd(cmd_call *x);
void zsets__zpopmin(cmd_call *x);
void zsets__zpopmax(cmd_call *x);
void zsets__zmpop(cmd_call *x);
void zsets__bzmpop(cmd_call *x);
void zsets__bzpopmin(cmd_call *x);
void zsets__bzpopmax(cmd_call *x);
void zsets__zrandmember(cmd_call *x);
void zsets__zscan(cmd_call *x);
void zsets__zunion(cmd_call *x);
void zsets__zinter(cmd_call *x);
void zsets__zdiff(cmd_call *x);
void zsets__zintercard(cmd_call *x);
void zsets__zunionstore(cmd_call *x);
void zsets__zinterstore(cmd_call *x);
void zsets__zdiffstore(cmd_call *x);

#endif
