/* streams.c - the stream commands (XADD XRANGE XREVRANGE XLEN XDEL XTRIM
 * XREAD XSETID XINFO, and the rows of the consumer group commands, which
 * are stream_groups.c), with Redis 7.0's replies, error texts and order of
 * checks. The stream lives in types/stream.c; this file parses, looks keys
 * up, replies and reports each write's effect as what replays it exactly:
 * XADD with the ID it generated, and any trimming as an exact one to the
 * length or first ID it left (Redis rewrites its arguments the same way),
 * XTRIM likewise, XDEL and XSETID as given.
 *
 * Where Redis reads an argument as a C string (its options, the IDs), so
 * does this file: the bytes before a NUL are what counts. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/notify.h"
#include "cmd/streams_int.h"
#include "types/stream_group.h"

#define ERR_NOKEY "ERR no such key"

/* argv[i]'s bytes up to its first NUL, as Redis's C-string view of it. */
size_t xs_cstr_n(const karg *a)
{
    const char *z = memchr(a->p, '\0', a->n);
    return z ? (size_t)(z - a->p) : a->n;
}

/* Whether argv[i] reads as lit (any case) as a C string. */
int xs_opt_is(cmd_call *x, int i, const char *lit)
{
    size_t n = strlen(lit);
    return xs_cstr_n(&x->argv[i]) == n && strncasecmp(x->argv[i].p, lit, n) == 0;
}

/* Whether argv[i] reads as the one-character C string c. */
int xs_opt_ch(cmd_call *x, int i, char c)
{
    return x->argv[i].n >= 1 && x->argv[i].p[0] == c && (x->argv[i].n == 1 || x->argv[i].p[1] == 0);
}

/* Redis's string2ull: a canonical non-negative long long, or what
 * strtoull takes whole (spaces, a sign and leading zeros allowed). */
static int str2ull(const char *s, unsigned long long *v)
{
    long long ll;
    char *end = NULL;
    if (util_str2ll(s, strlen(s), &ll) == 0) {
        if (ll < 0) return -1;
        *v = (unsigned long long)ll;
        return 0;
    }
    errno = 0;
    *v = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return -1;
    return 0;
}

/* Redis's stream ID parsing: "-" and "+" (unless strict), "ms" (seq is
 * missing_seq), "ms-seq", and with seq_given "ms-*" (*seq_given = 0).
 * 0, or -1 (the caller replies ERR_ID). */
int xs_parse_id(const karg *a, stream_id *id, uint64_t missing_seq, int strict, int *seq_given)
{
    char buf[128], *dash;
    unsigned long long ms, seq;
    if (a->n > sizeof buf - 1) return -1;
    memcpy(buf, a->p, a->n);
    buf[a->n] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') return -1;
    if (seq_given) *seq_given = 1;
    if (buf[0] == '-' && buf[1] == '\0') {
        *id = ID_MIN;
        return 0;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        *id = ID_MAX;
        return 0;
    }
    if ((dash = strchr(buf, '-'))) *dash = '\0';
    if (str2ull(buf, &ms) < 0) return -1;
    if (!dash) {
        seq = missing_seq;
    } else if (seq_given && dash[1] == '*' && dash[2] == '\0') {
        seq = 0;
        *seq_given = 0;
    } else if (str2ull(dash + 1, &seq) < 0) {
        return -1;
    }
    id->ms = ms;
    id->seq = seq;
    return 0;
}

int xs_arg_id(cmd_call *x, int i, stream_id *id, uint64_t missing_seq, int strict)
{
    if (xs_parse_id(&x->argv[i], id, missing_seq, strict, NULL) == 0) return 0;
    reply_err(x, ERR_ID);
    return -1;
}

void xs_reply_id(cmd_call *x, stream_id id)
{
    char b[48];
    resp_bulk(x->out, b, sid_fmt(b, id));
}

/* One entry: [id, [field, value, ...]]. */
void xs_reply_entry(cmd_call *x, const sentry *e)
{
    sfield f;
    const char *fp, *vp;
    size_t fl, vl;
    resp_array(x->out, 2);
    xs_reply_id(x, e->id);
    resp_array(x->out, 2 * (long long)e->nf);
    sfield_init(&f, e);
    for (uint32_t i = 0; i < e->nf; i++) {
        sfield_next(&f, &fp, &fl, &vp, &vl);
        resp_bulk(x->out, fp, fl);
        resp_bulk(x->out, vp, vl);
    }
}

/* The entries from start to end as an array, at most count (0: all);
 * returns how many. */
long long xs_reply_range(cmd_call *x, const stream *s, stream_id start, stream_id end,
                             long long count, int rev)
{
    stream_iter it;
    sentry e;
    long long n = 0;
    size_t token = resp_array_defer(x->out);
    stream_iter_init(&it, s, start, end, rev);
    while ((!count || n < count) && stream_iter_next(&it, &e)) {
        xs_reply_entry(x, &e);
        n++;
    }
    stream_iter_done(&it);
    resp_array_fill(x->out, token, n);
    return n;
}

/* ---- trimming options (XADD, XTRIM) ---- */

typedef struct trim_opts {
    stream_trim_args t;
    int arg;                /* the threshold's argument (0: none) */
    int id_given, seq_given, no_mkstream;
    stream_id id;
} trim_opts;

/* Redis's streamParseAddOrTrimArgsOrReply: returns the ID's position for
 * XADD (argc when there is none), or -1 after replying. */
static int parse_trim(cmd_call *x, trim_opts *o, int xadd)
{
    int i = 2, limit_given = 0;
    memset(o, 0, sizeof *o);
    for (; i < x->argc; i++) {
        int more = x->argc - 1 - i;
        if (xadd && xs_opt_ch(x, i, '*')) break;
        if ((xs_opt_is(x, i, "maxlen") || xs_opt_is(x, i, "minid")) && more) {
            int minid = xs_opt_is(x, i, "minid");
            if (o->t.strategy != STREAM_TRIM_NONE) {
                reply_err(x, "ERR syntax error, MAXLEN and MINID options at the same time are "
                             "not compatible");
                return -1;
            }
            o->t.approx = 0;
            if (more >= 2 && xs_opt_ch(x, i + 1, '~')) {
                o->t.approx = 1;
                i++;
            } else if (more >= 2 && xs_opt_ch(x, i + 1, '=')) {
                i++;
            }
            if (minid) {
                if (xs_arg_id(x, i + 1, &o->t.minid, 0, 1) < 0) return -1;
            } else {
                if (arg_ll(x, i + 1, &o->t.maxlen) < 0) return -1;
                if (o->t.maxlen < 0) {
                    reply_err(x, "ERR The MAXLEN argument must be >= 0.");
                    return -1;
                }
            }
            i++;
            o->t.strategy = minid ? STREAM_TRIM_MINID : STREAM_TRIM_MAXLEN;
            o->arg = i;
        } else if (xs_opt_is(x, i, "limit") && more) {
            if (arg_ll(x, i + 1, &o->t.limit) < 0) return -1;
            if (o->t.limit < 0) {
                reply_err(x, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd && xs_opt_is(x, i, "nomkstream")) {
            o->no_mkstream = 1;
        } else if (xadd) {
            if (xs_parse_id(&x->argv[i], &o->id, 0, 1, &o->seq_given) < 0) {
                reply_err(x, ERR_ID);
                return -1;
            }
            o->id_given = 1;
            break;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    if (o->t.limit && o->t.strategy == STREAM_TRIM_NONE) {
        reply_err(x, "ERR syntax error, LIMIT cannot be used without specifying a trimming "
                     "strategy");
        return -1;
    }
    if (!xadd && o->t.strategy == STREAM_TRIM_NONE) {
        reply_err(x, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (limit_given) {
        if (!o->t.approx) {
            reply_err(x, "ERR syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else {
        /* approximate trimming does at most 100 nodes' worth of work */
        o->t.limit = o->t.approx ? 100 * stream_max_entries() : 0;
    }
    return i;
}

/* The trimming as an effect that replays it exactly: what an approximate
 * trim left (the length, or the first entry's ID; MAXLEN 0 once empty),
 * an exact one as given. Fills v[0..2] with strings kept in num. */
static void trim_effect(const stream *s, const trim_opts *o, slice *v, char *num)
{
    stream_id first;
    size_t n;
    int maxlen = o->t.strategy == STREAM_TRIM_MAXLEN;
    if (o->t.approx) {
        if (!maxlen && stream_edge(s, 0, &first) < 0) maxlen = 1;
        n = maxlen ? (size_t)util_ll2str(num, (long long)s->length) : sid_fmt(num, first);
    } else {
        n = maxlen ? (size_t)util_ll2str(num, o->t.maxlen) : sid_fmt(num, o->t.minid);
    }
    v[0] = (slice){maxlen ? "MAXLEN" : "MINID", maxlen ? 6u : 5u};
    v[1] = (slice){"=", 1};
    v[2] = (slice){num, n};
}

/* ---- XADD ---- */

/* Redis's next ID after last for "*": the clock's ms with seq 0, or
 * last's successor when the clock is not ahead of it. */
static stream_id next_id(stream_id last, int64_t now)
{
    stream_id id = {(uint64_t)now, 0};
    if (now < 0 || id.ms <= last.ms) {
        id = last;
        sid_incr(&id);
    }
    return id;
}

static void cmd_xadd(cmd_call *x)
{
    trim_opts o;
    int idpos = parse_trim(x, &o, 1), fpos, bad;
    uint32_t nf;
    uint64_t tot = 0;
    stream_id id;
    stream_w w;
    stream *s;
    kref r;
    item *it;
    if (idpos < 0) return;
    fpos = idpos + 1;
    if (x->argc - fpos < 2 || (x->argc - fpos) % 2) {
        reply_arity(x);
        return;
    }
    if (o.id_given && o.seq_given && o.id.ms == 0 && o.id.seq == 0) {
        reply_err(x, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    nf = (uint32_t)((x->argc - fpos) / 2);
    it = coll_lock_write(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it && o.no_mkstream) {
        reply_null(x);
        goto out;
    }
    if (!(s = stream_w_open(&w, &r))) {
        reply_nomem(x);
        goto out;
    }
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_err(x, "ERR The stream has exhausted the last possible ID, unable to add more items");
        goto close;
    }
    if (!o.id_given) {
        id = next_id(s->last_id, x->now);
    } else if (o.seq_given) {
        id = o.id;
    } else if (s->last_id.ms == o.id.ms) {
        /* Redis returns here without setting errno, so its reply depends on
         * whatever errno a libc call last left (often "Elements are too
         * large"); the text meant is this one */
        if (s->last_id.seq == UINT64_MAX) goto edom;
        id = s->last_id;
        id.seq++;
    } else {
        id = o.id;
    }
    if (sid_cmp(id, s->last_id) <= 0) goto edom;
    for (int i = fpos; i < x->argc; i++) tot += x->argv[i].n;
    if (tot > ((uint64_t)1 << 30)) goto erange;
    stream_w_touch(&w);
    if (stream_append(s, id, nf, x->argv + fpos) < 0) {
        reply_nomem(x);
        goto close;
    }
    {
        /* XADD key [MAXLEN|MINID = n] id field value ... */
        slice small[38], *v = x->argc - fpos <= 32 ? small : xmalloc(sizeof *v * (size_t)(6 + x->argc - fpos));
        char num[48], idb[48];
        size_t idn = sid_fmt(idb, id);
        int k = 0;
        resp_bulk(x->out, idb, idn);
        int64_t trimmed = stream_trim(s, &o.t, 0);
        v[k++] = x->argv[0];
        v[k++] = x->argv[1];
        if (o.t.strategy != STREAM_TRIM_NONE) {
            trim_effect(s, &o, v + k, num);
            k += 3;
        }
        v[k++] = (slice){idb, idn};
        for (int i = fpos; i < x->argc; i++) v[k++] = x->argv[i];
        stream_w_close(&w);
        ks_effect(&r, k, v);
        if (v != small) free(v);
        notify_key(x, CFG_NOTIFY_STREAM, "xadd", 1);
        if (trimmed) notify_key(x, CFG_NOTIFY_STREAM, "xtrim", 1);
    }
    goto out;
edom:
    reply_err(x, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
    goto close;
erange:
    reply_err(x, "ERR Elements are too large to be stored");
close:
    stream_w_close(&w);
out:
    ks_unlock(&r);
}

/* ---- reading ---- */

int xs_interval(cmd_call *x, int i, stream_id *id, int end)
{
    const karg *a = &x->argv[i];
    /* "(" makes an end exclusive (a strict ID then, "-" and "+" refused) */
    int ex = a->n > 1 && a->p[0] == '(';
    uint64_t missing = end ? UINT64_MAX : 0;
    if (ex ? xs_parse_id(&(karg){a->p + 1, a->n - 1}, id, missing, 1, NULL)
           : xs_parse_id(a, id, missing, 0, NULL)) {
        reply_err(x, ERR_ID);
        return -1;
    }
    if (ex && (end ? sid_decr(id) : sid_incr(id)) < 0) {
        reply_err(x, end ? "ERR invalid end ID for the interval" : "ERR invalid start ID for the interval");
        return -1;
    }
    return 0;
}

static void range_generic(cmd_call *x, int rev)
{
    int bad;
    stream_id start, end;
    long long count = -1;
    kref r;
    item *it;
    if (xs_interval(x, rev ? 3 : 2, &start, 0) < 0 || xs_interval(x, rev ? 2 : 3, &end, 1) < 0) return;
    for (int j = 4; j < x->argc; j++) {
        if (xs_opt_is(x, j, "count") && x->argc - j - 1 >= 1) {
            if (arg_ll(x, j + 1, &count) < 0) return;
            if (count < 0) count = 0;
            j++;
        } else {
            reply_syntax(x);
            return;
        }
    }
    it = coll_lock_read(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it) resp_array(x->out, 0);
    else if (count == 0) reply_null_array(x);
    else xs_reply_range(x, stream_of(it), start, end, count < 0 ? 0 : count, rev);
out:
    ks_unlock(&r);
}

static void cmd_xrange(cmd_call *x) { range_generic(x, 0); }
static void cmd_xrevrange(cmd_call *x) { range_generic(x, 1); }

static void cmd_xlen(cmd_call *x)
{
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_STREAM, &bad);
    if (!bad) resp_int(x->out, it ? (long long)stream_of(it)->length : 0);
    ks_unlock(&r);
}

/* ---- deleting ---- */

static void cmd_xdel(cmd_call *x)
{
    int bad, deleted = 0, first = 0;
    stream_id *ids = NULL;
    stream_w w;
    stream *s;
    kref r;
    item *it = coll_lock_write(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it) {
        resp_int(x->out, 0);
        goto out;
    }
    /* every ID is checked before anything is deleted */
    ids = xmalloc(sizeof *ids * (size_t)(x->argc - 2));
    for (int j = 2; j < x->argc; j++)
        if (xs_arg_id(x, j, &ids[j - 2], 0, 1) < 0) goto out;
    s = stream_w_open(&w, &r);
    for (int j = 0; j < x->argc - 2; j++) {
        if (!stream_has(s, ids[j])) continue;
        stream_w_touch(&w);
        if (!stream_delete(s, ids[j])) continue;
        if (sid_cmp(ids[j], s->first_id) == 0) first = 1;
        if (sid_cmp(ids[j], s->max_deleted) > 0) s->max_deleted = ids[j];
        deleted++;
    }
    if (deleted) {
        if (s->length == 0) s->first_id = ID_MIN;
        else if (first) stream_edge(s, 0, &s->first_id);
    }
    if (stream_w_close(&w) && deleted) coll_effect(x, &r);
    if (deleted) notify_key(x, CFG_NOTIFY_STREAM, "xdel", 1);
    resp_int(x->out, deleted);
out:
    ks_unlock(&r);
    free(ids);
}

static void cmd_xtrim(cmd_call *x)
{
    trim_opts o;
    int bad;
    int64_t deleted;
    stream_w w;
    kref r;
    item *it;
    if (parse_trim(x, &o, 0) < 0) return;
    it = coll_lock_write(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it) {
        resp_int(x->out, 0);
        goto out;
    }
    stream_w_open(&w, &r);
    deleted = stream_trim(w.s, &o.t, 1);   /* no write (nor WATCH signal) when nothing goes */
    if (deleted) {
        stream_w_touch(&w);
        deleted = stream_trim(w.s, &o.t, 0);
        slice v[5];
        char num[48];
        v[0] = x->argv[0];
        v[1] = x->argv[1];
        trim_effect(w.s, &o, v + 2, num);
        stream_w_close(&w);
        ks_effect(&r, 5, v);
        notify_key(x, CFG_NOTIFY_STREAM, "xtrim", 1);
    } else {
        stream_w_close(&w);
    }
    resp_int(x->out, (long long)deleted);
out:
    ks_unlock(&r);
}

/* ---- XSETID ---- */

static void cmd_xsetid(cmd_call *x)
{
    stream_id id, maxdel = ID_MIN;
    long long added = -1;
    int bad;
    stream_w w;
    stream *s;
    kref r;
    item *it;
    if (xs_arg_id(x, 2, &id, 0, 1) < 0) return;
    for (int i = 3; i < x->argc; i += 2) {
        int more = x->argc - 1 - i;
        if (xs_opt_is(x, i, "entriesadded") && more) {
            if (arg_ll(x, i + 1, &added) < 0) return;
            if (added < 0) {
                reply_err(x, "ERR entries_added must be positive");
                return;
            }
        } else if (xs_opt_is(x, i, "maxdeletedid") && more) {
            if (xs_arg_id(x, i + 1, &maxdel, 0, 1) < 0) return;
            if (sid_cmp(id, maxdel) < 0) {
                reply_err(x, "ERR The ID specified in XSETID is smaller than the provided "
                             "max_deleted_entry_id");
                return;
            }
        } else {
            reply_syntax(x);
            return;
        }
    }
    it = coll_lock_write(x, 1, &r, KIND_STREAM, &bad);
    if (bad) goto out;
    if (!it) {
        reply_err(x, ERR_NOKEY);
        goto out;
    }
    s = stream_of(it);
    if (s->length > 0) {
        stream_id top;
        stream_edge(s, 1, &top);
        if (sid_cmp(id, top) < 0) {
            reply_err(x, "ERR The ID specified in XSETID is smaller than the target stream top item");
            goto out;
        }
        if (added != -1 && s->length > (uint64_t)added) {
            reply_err(x, "ERR The entries_added specified in XSETID is smaller than the target "
                         "stream length");
            goto out;
        }
    }
    stream_w_open(&w, &r);
    stream_w_touch_unwatched(&w);   /* Redis 7.0's XSETID leaves WATCH alone */
    s->last_id = id;
    if (added != -1) s->entries_added = (uint64_t)added;
    if (maxdel.ms || maxdel.seq) s->max_deleted = maxdel;
    stream_w_close(&w);
    coll_effect(x, &r);
    notify_key(x, CFG_NOTIFY_STREAM, "xsetid", 1);
    reply_ok(x);
out:
    ks_unlock(&r);
}

/* ---- XREAD ---- */

int xs_read_opts(cmd_call *x, int group, xs_read_args *o)
{
    memset(o, 0, sizeof *o);
    o->timeout = -1;
    for (int i = 1; i < x->argc; i++) {
        int more = x->argc - i - 1;
        if (xs_opt_is(x, i, "block") && more) {
            if (x->s->flags & SESS_SCRIPT) {
                resp_errorf(x->out, "ERR %s command is not allowed with BLOCK option from scripts", x->def->name);
                return -1;
            }
            i++;
            if (util_str2ll(x->argv[i].p, x->argv[i].n, &o->timeout) < 0) {
                reply_err(x, "ERR timeout is not an integer or out of range");
                return -1;
            }
            if (o->timeout < 0) {
                reply_err(x, "ERR timeout is negative");
                return -1;
            }
        } else if (xs_opt_is(x, i, "count") && more) {
            i++;
            if (arg_ll(x, i, &o->count) < 0) return -1;
            if (o->count < 0) o->count = 0;
        } else if (xs_opt_is(x, i, "streams") && more) {
            o->sarg = i + 1;
            o->nstreams = x->argc - o->sarg;
            if (o->nstreams % 2) {
                /* Redis 7.0 names XREAD here whichever was called */
                reply_err(x, "ERR Unbalanced XREAD list of streams: for each stream key an ID "
                             "or '$' must be specified.");
                return -1;
            }
            o->nstreams /= 2;
            break;
        } else if (xs_opt_is(x, i, "group") && more >= 2) {
            if (!group) {
                reply_err(x, "ERR The GROUP option is only supported by XREADGROUP. You called "
                             "XREAD instead.");
                return -1;
            }
            o->garg = i + 1;
            i += 2;
        } else if (xs_opt_is(x, i, "noack")) {
            if (!group) {
                reply_err(x, "ERR The NOACK option is only supported by XREADGROUP. You called "
                             "XREAD instead.");
                return -1;
            }
            o->noack = 1;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    if (!o->sarg) {
        reply_syntax(x);
        return -1;
    }
    if (group && !o->garg) {
        reply_err(x, "ERR Missing GROUP option for XREADGROUP");
        return -1;
    }
    o->ids = xmalloc(sizeof *o->ids * (size_t)o->nstreams);
    o->refs = xmalloc(sizeof *o->refs * (size_t)o->nstreams);
    ks_lockset_init(&o->ls);
    for (int k = 0; k < o->nstreams; k++) {
        arg_ref(x, o->sarg + k, &o->refs[k]);
        ks_lockset_add(&o->ls, &o->refs[k]);
    }
    ks_lockset_lock(&o->ls);   /* all the streams are read at one instant */
    return 0;
}

void xs_read_stream(cmd_call *x, int served, size_t *token, const karg *key)
{
    if (!served) *token = reply_agg_defer(x);
    if (!call_resp3(x)) resp_array(x->out, 2);
    resp_bulk(x->out, key->p, key->n);
}

void xs_read_end(cmd_call *x, xs_read_args *o, int served, size_t token)
{
    if (served > 0) {
        /* RESP2: an array of [name, entries] pairs */
        resp_agg_fill(x->out, token, call_resp3(x) ? '%' : '*', served);
    } else if (served < 0) {
        /* an error was the reply */
    } else if (o->timeout != -1) {
        /* Wait (inside EXEC: the null reply at once) until one of the
         * streams gets an entry above its ID, or for a group past its last
         * ID, with the keys still locked; XREAD's "$" waits for what comes
         * after the last entry now, so the command is parked with that ID. */
        int64_t deadline = o->timeout ? x->now + o->timeout : 0;
        const karg *keys = &x->argv[o->sarg];
        if (o->garg) {
            cmd_block(x, keys, o->nstreams, deadline, 0);
        } else {
            karg *argv = xmalloc(sizeof *argv * (size_t)x->argc);
            char *ids = xmalloc(42 * (size_t)o->nstreams);
            memcpy(argv, x->argv, sizeof *argv * (size_t)x->argc);
            for (int k = 0; k < o->nstreams; k++) {
                int ia = o->sarg + o->nstreams + k;
                if (!xs_opt_ch(x, ia, '$')) continue;
                argv[ia] = (karg){ids + 42 * k, sid_fmt(ids + 42 * k, o->ids[k])};
            }
            cmd_block_argv(x, keys, o->nstreams, deadline, 0, x->argc, argv);
            free(ids);
            free(argv);
        }
    } else {
        reply_null_array(x);   /* nothing to read */
    }
    ks_lockset_unlock(&o->ls);
    free(o->ids);
    free(o->refs);
}

static void cmd_xread(cmd_call *x)
{
    xs_read_args o;
    int served = 0;
    size_t token = 0;
    if (xs_read_opts(x, 0, &o) < 0) return;
    for (int k = 0; k < o.nstreams; k++) {
        int ia = o.sarg + o.nstreams + k, bad;
        item *it = ks_read(&o.refs[k], x->now);
        /* a blocked XREAD trying again finds another kind as no stream */
        if (it && item_kind(it) != KIND_STREAM && (x->s->flags & SESS_RETRY)) it = NULL;
        it = coll_of_kind(x, it, KIND_STREAM, &bad);
        if (bad) goto fail;
        if (xs_opt_ch(x, ia, '$')) {
            o.ids[k] = it ? stream_of(it)->last_id : ID_MIN;
            continue;
        }
        if (xs_opt_ch(x, ia, '>')) {
            reply_err(x, "ERR The > ID can be specified only when calling XREADGROUP using the "
                         "GROUP <group> <consumer> option.");
            goto fail;
        }
        if (xs_arg_id(x, ia, &o.ids[k], 0, 1) < 0) goto fail;
    }
    for (int k = 0; k < o.nstreams; k++) {
        item *it = ks_read(&o.refs[k], x->now);   /* Redis looks each key up twice */
        stream_id top, start;
        const stream *s;
        if (!it || item_kind(it) != KIND_STREAM || !(s = stream_of(it))->length) continue;
        stream_edge(s, 1, &top);
        if (sid_cmp(top, o.ids[k]) <= 0) continue;
        xs_read_stream(x, served++, &token, &x->argv[o.sarg + k]);
        start = o.ids[k];
        sid_incr(&start);
        xs_reply_range(x, s, start, ID_MAX, o.count, 0);
    }
    goto out;
fail:
    served = -1;   /* replied already */
out:
    xs_read_end(x, &o, served, token);
}

/* ---- XINFO ---- */

const stream *xs_info_stream(cmd_call *x, kref *r)
{
    int bad;
    item *it = coll_lock_read(x, 2, r, KIND_STREAM, &bad);
    if (bad) return NULL;
    if (!it) {
        reply_err(x, ERR_NOKEY);
        return NULL;
    }
    return stream_of(it);
}

static void cmd_xinfo_stream(cmd_call *x)
{
    int full = x->argc > 3;
    long long count = 10;
    const stream *s;
    kref r;
    if (!(s = xs_info_stream(x, &r))) goto out;
    if (full && ((x->argc != 4 && x->argc != 6) || !xs_opt_is(x, 3, "full") ||
                 (x->argc == 6 && !xs_opt_is(x, 4, "count")))) {
        reply_subcmd_syntax(x);
        goto out;
    }
    if (x->argc == 6) {
        if (arg_ll(x, 5, &count) < 0) goto out;
        if (count < 0) count = 10;
    }
    reply_map(x, full ? 9 : 10);
    resp_bulk_cstr(x->out, "length");
    resp_int(x->out, (long long)s->length);
    resp_bulk_cstr(x->out, "radix-tree-keys");
    resp_int(x->out, (long long)s->nn);
    resp_bulk_cstr(x->out, "radix-tree-nodes");
    resp_int(x->out, (long long)stream_rax_nodes(s));
    resp_bulk_cstr(x->out, "last-generated-id");
    xs_reply_id(x, s->last_id);
    resp_bulk_cstr(x->out, "max-deleted-entry-id");
    xs_reply_id(x, s->max_deleted);
    resp_bulk_cstr(x->out, "entries-added");
    resp_int(x->out, (long long)s->entries_added);
    resp_bulk_cstr(x->out, "recorded-first-entry-id");
    xs_reply_id(x, s->first_id);
    if (!full) {
        resp_bulk_cstr(x->out, "groups");
        resp_int(x->out, (long long)sg_count(s));
        for (int last = 0; last < 2; last++) {
            stream_iter it;
            sentry e;
            resp_bulk_cstr(x->out, last ? "last-entry" : "first-entry");
            stream_iter_init(&it, s, ID_MIN, ID_MAX, last);
            if (stream_iter_next(&it, &e)) xs_reply_entry(x, &e);
            else reply_null(x);
            stream_iter_done(&it);
        }
    } else {
        resp_bulk_cstr(x->out, "entries");
        xs_reply_range(x, s, ID_MIN, ID_MAX, count, 0);
        resp_bulk_cstr(x->out, "groups");
        xs_reply_groups_full(x, s, count);
    }
out:
    ks_unlock(&r);
}

static void cmd_xinfo_help(cmd_call *x)
{
    static const char *const lines[] = {
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    };
    reply_lines(x, lines, sizeof lines / sizeof lines[0]);
}

#define W CMD_WRITE
#define R CMD_READONLY
#define F CMD_FAST
#define M CMD_DENYOOM
#define ST CAT_STREAM
#define KEY2RO {KSPEC(2, 0, 1, "RO access")}
#define KEY2(fl) {KSPEC(2, 0, 1, fl)}

static const cmd_def xgroup_subs[] = {
    {"help", cmd_xgroup_help, 2, CMD_LOADING | CMD_STALE, ST, NOKEYS, "stream", "5.0.0", "O(1)",
     NULL, NULL},
    {"create", cmd_xgroup_create, -5, W | M, ST, KEY2("RW insert"), "stream", "5.0.0", "O(1)",
     NULL, NULL},
    {"setid", cmd_xgroup_setid, -5, W, ST, KEY2("RW update"), "stream", "5.0.0", "O(1)", NULL,
     NULL},
    {"destroy", cmd_xgroup_destroy, 4, W, ST, KEY2("RW delete"), "stream", "5.0.0",
     "O(N) where N is the number of entries in the group's pending entries list (PEL).", NULL,
     NULL},
    {"createconsumer", cmd_xgroup_createconsumer, 5, W | M, ST, KEY2("RW insert"), "stream",
     "6.2.0", "O(1)", NULL, NULL},
    {"delconsumer", cmd_xgroup_delconsumer, 5, W, ST, KEY2("RW delete"), "stream", "5.0.0", "O(1)",
     NULL, NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

static const cmd_def xinfo_subs[] = {
    {"help", cmd_xinfo_help, 2, CMD_LOADING | CMD_STALE, ST, NOKEYS, "stream", "5.0.0", "O(1)",
     NULL, NULL},
    {"groups", cmd_xinfo_groups, 3, R, ST, KEY2RO, "stream", "5.0.0", "O(1)", NULL, NULL},
    {"stream", cmd_xinfo_stream, -3, R, ST, KEY2RO, "stream", "5.0.0", "O(1)", NULL, NULL},
    {"consumers", cmd_xinfo_consumers, 4, R, ST, KEY2RO, "stream", "5.0.0", "O(1)",
     "nondeterministic_output", NULL},
    {NULL, NULL, 0, 0, 0, NOKEYS, NULL, NULL, NULL, NULL, NULL},
};

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"xadd", cmd_xadd, -5, W | M | F, ST, KEY1("RW update"), "stream", "5.0.0",
     "O(1) when adding a new entry, O(N) when trimming where N being the number of entries "
     "evicted.", "nondeterministic_output", NULL},
    {"xrange", cmd_xrange, -4, R, ST, KEY1("RO access"), "stream", "5.0.0",
     "O(N) with N being the number of elements being returned. If N is constant (e.g. always "
     "asking for the first 10 elements with COUNT), you can consider it O(1).", NULL, NULL},
    {"xrevrange", cmd_xrevrange, -4, R, ST, KEY1("RO access"), "stream", "5.0.0",
     "O(N) with N being the number of elements returned. If N is constant (e.g. always asking "
     "for the first 10 elements with COUNT), you can consider it O(1).", NULL, NULL},
    {"xlen", cmd_xlen, 2, R | F, ST, KEY1("RO"), "stream", "5.0.0", "O(1)", NULL, NULL},
    {"xdel", cmd_xdel, -3, W | F, ST, KEY1("RW delete"), "stream", "5.0.0",
     "O(1) for each single item to delete in the stream, regardless of the stream size.", NULL,
     NULL},
    {"xtrim", cmd_xtrim, -4, W, ST, KEY1("RW delete"), "stream", "5.0.0",
     "O(N), with N being the number of evicted entries. Constant times are very small however, "
     "since entries are organized in macro nodes containing multiple entries that can be "
     "released with a single deallocation.", "nondeterministic_output", NULL},
    {"xread", cmd_xread, -4, R | CMD_BLOCKING, ST | CAT_BLOCKING,
     {{.begin = 1, .lastkey = -1, .step = 1, .flags = "RO access", .keyword = "STREAMS", .limit = 2}}, "stream", "5.0.0",
     "For each stream mentioned: O(N) with N being the number of elements being returned, it "
     "means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, "
     "XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new "
     "data.", NULL, NULL},
    {"xsetid", cmd_xsetid, -3, W | M | F, ST, KEY1("RW update"), "stream", "5.0.0", "O(1)", NULL,
     NULL},
    {"xinfo", NULL, -2, 0, 0, NOKEYS, "stream", "5.0.0", "Depends on subcommand.", NULL,
     xinfo_subs},
    {"xgroup", NULL, -2, 0, 0, NOKEYS, "stream", "5.0.0", "Depends on subcommand.", NULL,
     xgroup_subs},
    {"xreadgroup", cmd_xreadgroup, -7, W | CMD_BLOCKING, ST | CAT_BLOCKING,
     {{.begin = 4, .lastkey = -1, .step = 1, .flags = "RO access", .keyword = "STREAMS", .limit = 2}},
     "stream", "5.0.0",
     "For each stream mentioned: O(M) with M being the number of elements returned. If M is "
     "constant (e.g. always asking for the first 10 elements with COUNT), you can consider it "
     "O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to "
     "serve the N clients blocked on the stream getting new data.", NULL, NULL},
    {"xack", cmd_xack, -4, W | F, ST, KEY1("RW update"), "stream", "5.0.0",
     "O(1) for each message ID processed.", NULL, NULL},
    {"xpending", cmd_xpending, -3, R, ST, KEY1("RO access"), "stream", "5.0.0",
     "O(N) with N being the number of elements returned, so asking for a small fixed number of "
     "entries per call is O(1). O(M), where M is the total number of entries scanned when used "
     "with the IDLE filter. When the command returns just the summary and the list of consumers "
     "is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every "
     "consumer.", "nondeterministic_output", NULL},
    {"xclaim", cmd_xclaim, -6, W | F, ST, KEY1("RW update"), "stream", "5.0.0",
     "O(log N) with N being the number of messages in the PEL of the consumer group.",
     "nondeterministic_output", NULL},
    {"xautoclaim", cmd_xautoclaim, -6, W | F, ST, KEY1("RW delete"), "stream", "6.2.0",
     "O(1) if COUNT is small.", "nondeterministic_output", NULL},
};

const cmd_family cmd_family_streams = CMD_FAMILY(rows);
