/* geo.c - the geo commands (GEOADD GEODIST GEOHASH GEOPOS GEOSEARCH
 * GEOSEARCHSTORE GEORADIUS GEORADIUSBYMEMBER and the _RO forms), with Redis
 * 7.0's replies, error texts and order of checks.
 *
 * A geo key is a sorted set whose scores are 52-bit geohashes (lib/geohash),
 * so ZRANGE and the other sorted-set commands see what Redis shows, and the
 * geo commands read sets that ZADD filled. GEOADD is the ZADD of the
 * scores it computes: it runs zsets.c's ZADD, which is also what it logs.
 * A search scans the score range of each of the (up to 9) boxes that cover
 * its shape, in Redis's order, so unsorted results come out as Redis's do;
 * the STORE forms are logged as the deletion of the destination and the
 * value they stored (zsets__store). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/zsets_int.h"
#include "lib/geohash.h"

#define ERR_MEMBER "ERR could not decode requested zset member"

/* ---- arguments ---- */

/* argv[i], argv[i+1] as a longitude and a latitude within the limits;
 * -1 (replied) otherwise. */
static int arg_lonlat(cmd_call *x, int i, double *lon, double *lat)
{
    if (arg_double(x, i, lon) < 0 || arg_double(x, i + 1, lat) < 0) return -1;
    if (*lon < GEO_LON_MIN || *lon > GEO_LON_MAX || *lat < GEO_LAT_MIN || *lat > GEO_LAT_MAX) {
        char msg[768];   /* %f of the largest double is 316 characters */
        snprintf(msg, sizeof msg, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
        reply_err(x, msg);
        return -1;
    }
    return 0;
}

/* argv[i] as a unit: metres per unit, or -1 (replied). */
static double arg_unit(cmd_call *x, int i)
{
    if (arg_is(x, i, "m")) return 1;
    if (arg_is(x, i, "km")) return 1000;
    if (arg_is(x, i, "ft")) return 0.3048;
    if (arg_is(x, i, "mi")) return 1609.34;
    reply_err(x, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* A non-negative size at argv[i] (what names it in the error), -1 (replied)
 * otherwise. */
static int arg_size(cmd_call *x, int i, const char *what, double *v)
{
    char msg[64];
    snprintf(msg, sizeof msg, "ERR need numeric %s", what);
    if (str_double(x->argv[i].p, x->argv[i].n, v) < 0) {
        reply_err(x, msg);
        return -1;
    }
    return 0;
}

/* "radius unit" at argv[i]. */
static int arg_radius(cmd_call *x, int i, geo_shape *s)
{
    if (arg_size(x, i, "radius", &s->radius) < 0) return -1;
    if (s->radius < 0) {
        reply_err(x, "ERR radius cannot be negative");
        return -1;
    }
    if ((s->conversion = arg_unit(x, i + 1)) < 0) return -1;
    s->type = GEO_CIRCLE;
    return 0;
}

/* "width height unit" at argv[i]. */
static int arg_box(cmd_call *x, int i, geo_shape *s)
{
    if (arg_size(x, i, "width", &s->width) < 0 || arg_size(x, i + 1, "height", &s->height) < 0)
        return -1;
    if (s->height < 0 || s->width < 0) {
        reply_err(x, "ERR height or width cannot be negative");
        return -1;
    }
    if ((s->conversion = arg_unit(x, i + 2)) < 0) return -1;
    s->type = GEO_BOX;
    return 0;
}

/* The position of member m of a set: 0, or -1 when it has none. */
static int member_pos(const item *it, const karg *m, double *lon, double *lat)
{
    double score;
    if (!it || !zset_score(it, m->p, m->n, &score)) return -1;
    geo_decode_score(score, lon, lat);
    return 0;
}

/* ---- replies ---- */

/* A distance as Redis writes it: four decimals. */
static void reply_distance(cmd_call *x, double d)
{
    char tmp[400];
    int n = snprintf(tmp, sizeof tmp, "%.4f", d);
    resp_bulk(x->out, tmp, (size_t)n);
}

/* A coordinate as Redis writes it: 17 decimals of the long double, trailing
 * zeros (and a bare point) dropped. */
static void reply_coord(cmd_call *x, double d)
{
    char tmp[400];
    int n = snprintf(tmp, sizeof tmp, "%.17Lf", (long double)d);
    if (strchr(tmp, '.')) {
        while (tmp[n - 1] == '0') n--;
        if (tmp[n - 1] == '.') n--;
    }
    if (n == 2 && tmp[0] == '-' && tmp[1] == '0') {
        tmp[0] = '0';
        n = 1;
    }
    if (call_resp3(x)) resp3_double(x->out, tmp, (size_t)n);
    else resp_bulk(x->out, tmp, (size_t)n);
}

static void reply_pos(cmd_call *x, double lon, double lat)
{
    resp_array(x->out, 2);
    reply_coord(x, lon);
    reply_coord(x, lat);
}

/* ---- GEOADD GEODIST GEOHASH GEOPOS ---- */

/* GEOADD key [NX|XX] [CH] lon lat member ...: the ZADD of their scores. */
static void cmd_geoadd(cmd_call *x)
{
    int i = 2, nx = 0, xx = 0;
    for (; i < x->argc; i++) {
        if (arg_is(x, i, "nx")) nx = 1;
        else if (arg_is(x, i, "xx")) xx = 1;
        else if (!arg_is(x, i, "ch")) break;
    }
    if ((x->argc - i) % 3 || (nx && xx)) {
        reply_syntax(x);
        return;
    }
    int n = (x->argc - i) / 3, argc = i + 2 * n;
    typedef char score_text[24];
    karg small_v[32];
    score_text small_s[8];
    karg *v = argc <= 32 ? small_v : xmalloc(sizeof *v * (size_t)argc);
    score_text *s = n <= 8 ? small_s : xmalloc(sizeof *s * (size_t)n);
    v[0] = (karg){"ZADD", 4};
    for (int j = 1; j < i; j++) v[j] = x->argv[j];
    for (int k = 0; k < n; k++) {
        double lon, lat;
        const karg *a = &x->argv[i + 3 * k];
        if (arg_lonlat(x, i + 3 * k, &lon, &lat) < 0) goto out;
        int len = snprintf(s[k], sizeof s[k], "%llu", (unsigned long long)geo_score(lon, lat));
        v[i + 2 * k] = (karg){s[k], (size_t)len};
        v[i + 2 * k + 1] = a[2];
    }
    cmd_call z = *x;
    z.argc = argc;
    z.argv = v;
    zsets__zadd(&z);
out:
    if (v != small_v) free(v);
    if (s != small_s) free(s);
}

static void cmd_geodist(cmd_call *x)
{
    double unit = 1, lon1, lat1, lon2, lat2;
    int bad;
    kref r;
    if (x->argc == 5 && (unit = arg_unit(x, 4)) < 0) return;
    if (x->argc > 5) {
        reply_syntax(x);
        return;
    }
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        if (member_pos(it, &x->argv[2], &lon1, &lat1) < 0 ||
            member_pos(it, &x->argv[3], &lon2, &lat2) < 0)
            reply_null(x);
        else reply_distance(x, geo_distance(lon1, lat1, lon2, lat2) / unit);
    }
    ks_unlock(&r);
}

static void reply_hash(cmd_call *x, double lon, double lat)
{
    char text[11];
    geo_hash_text(lon, lat, text);
    resp_bulk(x->out, text, sizeof text);
}

/* GEOHASH and GEOPOS: each member's position as `one` writes it, or `none`
 * for a member that is not there. */
static void per_member(cmd_call *x, void (*one)(cmd_call *, double, double), void (*none)(cmd_call *))
{
    double lon, lat;
    int bad;
    kref r;
    item *it = coll_lock_read(x, 1, &r, KIND_ZSET, &bad);
    if (!bad) {
        resp_array(x->out, x->argc - 2);
        for (int i = 2; i < x->argc; i++) {
            if (member_pos(it, &x->argv[i], &lon, &lat) < 0) none(x);
            else one(x, lon, lat);
        }
    }
    ks_unlock(&r);
}

static void cmd_geohash(cmd_call *x) { per_member(x, reply_hash, reply_null); }
static void cmd_geopos(cmd_call *x) { per_member(x, reply_pos, reply_null_array); }

/* ---- searches ---- */

enum {
    GS_COORDS = 1,       /* GEORADIUS: around lon lat */
    GS_MEMBER = 2,       /* GEORADIUSBYMEMBER: around a member */
    GS_NOSTORE = 4,      /* the _RO forms */
    GS_SEARCH = 8,       /* GEOSEARCH's arguments */
    GS_SEARCHSTORE = 16, /* GEOSEARCHSTORE */
};
enum { SORT_NONE, SORT_ASC, SORT_DESC };

typedef struct geo_req {
    geo_shape shape;
    int withdist, withhash, withcoord, any, sort, storedist;
    long long count;     /* 0: all */
    int store;           /* the argument naming the destination, 0: none */
} geo_req;

/* A point found: its member points into the source set. */
typedef struct geo_point {
    double lon, lat, dist, score;
    const char *m;
    size_t ml, seq;      /* seq: the order found, which ties keep */
} geo_point;

typedef struct geo_found {
    geo_point *v;
    size_t n, cap;
} geo_found;

/* Where GEORADIUS's STORE or STOREDIST names the destination (the last one
 * given), walking the options as the parser will: 0 for none. A malformed
 * option ends the walk; the parser then replies its error. */
static int find_store_arg(cmd_call *x, int base)
{
    int store = 0;
    for (int i = base; i < x->argc; i++) {
        int more = i + 1 < x->argc;
        if (arg_is(x, i, "withdist") || arg_is(x, i, "withhash") || arg_is(x, i, "withcoord") ||
            arg_is(x, i, "any") || arg_is(x, i, "asc") || arg_is(x, i, "desc"))
            continue;
        if (more && arg_is(x, i, "count")) {
            i++;
        } else if (more && (arg_is(x, i, "store") || arg_is(x, i, "storedist"))) {
            store = ++i;
        } else {
            break;
        }
    }
    return store;
}

/* The options from argv[base] on, as Redis's georadiusGeneric reads them,
 * with the source set `it` (NULL when missing) for FROMMEMBER: 0, or -1
 * after replying the error. */
static int parse_options(cmd_call *x, int flags, int base, const item *it, geo_req *q)
{
    int frommember = 0, fromloc = 0, byradius = 0, bybox = 0;
    int search = flags & GS_SEARCH, can_store = !(flags & GS_NOSTORE) && !search;
    for (int i = base; i < x->argc; i++) {
        int left = x->argc - i - 1;
        if (arg_is(x, i, "withdist")) {
            q->withdist = 1;
        } else if (arg_is(x, i, "withhash")) {
            q->withhash = 1;
        } else if (arg_is(x, i, "withcoord")) {
            q->withcoord = 1;
        } else if (arg_is(x, i, "any")) {
            q->any = 1;
        } else if (arg_is(x, i, "asc")) {
            q->sort = SORT_ASC;
        } else if (arg_is(x, i, "desc")) {
            q->sort = SORT_DESC;
        } else if (arg_is(x, i, "count") && left >= 1) {
            if (arg_ll(x, i + 1, &q->count) < 0) return -1;
            if (q->count <= 0) {
                reply_err(x, "ERR COUNT must be > 0");
                return -1;
            }
            i++;
        } else if (can_store && left >= 1 && (arg_is(x, i, "store") || arg_is(x, i, "storedist"))) {
            q->storedist = arg_is(x, i, "storedist");
            q->store = ++i;
        } else if ((flags & GS_SEARCHSTORE) && arg_is(x, i, "storedist")) {
            q->storedist = 1;
        } else if (search && !fromloc && left >= 1 && arg_is(x, i, "frommember")) {
            /* with no source set the parse goes on; the reply is empty */
            if (it && member_pos(it, &x->argv[i + 1], &q->shape.lon, &q->shape.lat) < 0) {
                reply_err(x, ERR_MEMBER);
                return -1;
            }
            frommember = 1;
            i++;
        } else if (search && !frommember && left >= 2 && arg_is(x, i, "fromlonlat")) {
            if (arg_lonlat(x, i + 1, &q->shape.lon, &q->shape.lat) < 0) return -1;
            fromloc = 1;
            i += 2;
        } else if (search && !bybox && left >= 2 && arg_is(x, i, "byradius")) {
            if (arg_radius(x, i + 1, &q->shape) < 0) return -1;
            byradius = 1;
            i += 2;
        } else if (search && !byradius && left >= 3 && arg_is(x, i, "bybox")) {
            if (arg_box(x, i + 1, &q->shape) < 0) return -1;
            bybox = 1;
            i += 3;
        } else {
            reply_syntax(x);
            return -1;
        }
    }
    char msg[256];
    const karg *name = &x->argv[0];
    int nl = name->n > 64 ? 64 : (int)name->n;
    if (q->store && (q->withdist || q->withhash || q->withcoord)) {
        snprintf(msg, sizeof msg, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                 (flags & GS_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        reply_err(x, msg);
        return -1;
    }
    if (search && !(frommember || fromloc)) {
        snprintf(msg, sizeof msg, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                 nl, name->p);
        reply_err(x, msg);
        return -1;
    }
    if (search && !(byradius || bybox)) {
        snprintf(msg, sizeof msg, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s",
                 nl, name->p);
        reply_err(x, msg);
        return -1;
    }
    if (q->any && !q->count) {
        reply_err(x, "ERR the ANY argument requires COUNT argument");
        return -1;
    }
    return 0;
}

/* A crowded box (more than GEO_DIRECT members) is scanned as up to
 * 4^GEO_SPLITS cells, those that may hold points of the shape. */
#define GEO_DIRECT 64
#define GEO_SPLITS 3
#define GEO_SUBCELLS 64

static int below_score(const zbt_key *k, const void *ctx) { return k->score < *(const double *)ctx; }

/* Score ranges [lo, hi) to scan, in order, adjacent ones merged. */
typedef struct geo_ranges {
    uint64_t lo[GEO_SUBCELLS], hi[GEO_SUBCELLS];
    int n;
} geo_ranges;

/* The parts of a box that may hold points of the shape: the box split
 * `depth` times into its 4 quarters, in score order, skipping the cells
 * that hold none. Redis scans the whole box; what it finds there is what
 * these ranges hold, in the same order. A box with bits past its step (a
 * centre on the grid's top or right edge) is taken whole. */
static void box_ranges(const geo_shape *s, geo_hash cell, int depth, geo_ranges *r)
{
    geo_area a;
    int whole = (cell.bits >> (2 * cell.step)) != 0;
    if (!whole) {
        geo_decode(geo_lon_range, geo_lat_range, cell, &a);
        if (!geo_area_may_hold(s, &a)) return;
    }
    if (whole || depth == 0 || cell.step == GEO_STEP_MAX) {
        uint64_t lo, hi;
        geo_box_scores(cell, &lo, &hi);
        if (r->n && r->hi[r->n - 1] == lo) {
            r->hi[r->n - 1] = hi;
        } else {
            r->lo[r->n] = lo;
            r->hi[r->n++] = hi;
        }
        return;
    }
    for (uint64_t q = 0; q < 4; q++)
        box_ranges(s, (geo_hash){(cell.bits << 2) | q, cell.step + 1}, depth - 1, r);
}

/* Walk the members from *rank on while their scores stay below max, for at
 * most `budget` of them (0: no bound), keeping those in the shape. Returns 1
 * when there are `limit` (0: no limit); *rank is where it stopped and *next
 * the score there (infinity past the end). */
static int walk(const item *it, const geo_shape *s, size_t limit, geo_found *f, size_t *rank,
                double max, size_t budget, double *next)
{
    zset_iter i;
    const char *m;
    size_t ml, done = 0;
    double score;
    int full = 0;
    *next = INFINITY;
    zset_iter_init(&i, it, *rank, 1, 0);
    while (zset_next(&i, &m, &ml, &score)) {
        if (score >= max || (budget && done == budget)) {
            *next = score;
            break;
        }
        done++;
        geo_point p;
        geo_decode_score(score, &p.lon, &p.lat);
        if (!geo_within(s, p.lon, p.lat, &p.dist)) continue;
        if (f->n == f->cap) {
            f->cap = f->cap ? f->cap * 2 : 64;
            f->v = xrealloc(f->v, sizeof *f->v * f->cap);
        }
        p.score = score;
        p.m = m;
        p.ml = ml;
        p.seq = f->n;
        f->v[f->n++] = p;
        if (limit && f->n >= limit) {
            full = 1;
            break;
        }
    }
    zset_iter_done(&i);
    *rank += done;
    return full;
}

/* Append the points of the box that lie in the shape, until there are
 * `limit` (0: no limit). The first GEO_DIRECT members are walked; past
 * them, the box is crowded enough for the rest to be read cell by cell. */
static void scan_box(const item *it, geo_hash box, const geo_shape *s, size_t limit,
                     geo_found *f)
{
    uint64_t lo, hi;
    double next, unused;
    geo_box_scores(box, &lo, &hi);
    double min = (double)lo, max = (double)hi;
    size_t rank = zset_count_below(it, below_score, &min);
    if (walk(it, s, limit, f, &rank, max, GEO_DIRECT, &next) || next >= max) return;
    geo_ranges rg;
    rg.n = 0;
    box_ranges(s, box, GEO_SPLITS, &rg);
    for (int k = 0; k < rg.n; k++) {
        double cmin = (double)rg.lo[k], cmax = (double)rg.hi[k];
        if (cmax <= next) continue;   /* walked already */
        size_t r = cmin <= next ? rank : zset_count_below(it, below_score, &cmin);
        if (walk(it, s, limit, f, &r, cmax, 0, &unused)) return;
    }
}

/* Every box of the search, skipping empty ones and one equal to the box
 * scanned before it (huge radii make neighbours coincide), as Redis does. */
static void search(const item *it, const geo_shape *s, size_t limit, geo_found *f)
{
    geo_hash b[9];
    int last = 0;
    geo_search_boxes(s, b);
    for (int i = 0; i < 9; i++) {
        if (b[i].bits == 0 && b[i].step == 0) continue;
        if (last && b[i].bits == b[last].bits && b[i].step == b[last].step) continue;
        if (f->n && limit && f->n >= limit) break;
        scan_box(it, b[i], s, limit, f);
        last = i;
    }
}

/* Nearest first (far first with desc); ties in the order found. */
static int point_before(const geo_point *a, const geo_point *b, int desc)
{
    if (a->dist != b->dist) return desc ? a->dist > b->dist : a->dist < b->dist;
    return a->seq < b->seq;
}

static int cmp_asc(const void *a, const void *b)
{
    return point_before(a, b, 0) ? -1 : point_before(b, a, 0);
}

static int cmp_desc(const void *a, const void *b)
{
    return point_before(a, b, 1) ? -1 : point_before(b, a, 1);
}

/* Distance alone, as Redis's sort compares points: -1, 0, 1. */
static int dist_cmp(const geo_point *a, const geo_point *b, int desc)
{
    int c = a->dist > b->dist ? 1 : a->dist == b->dist ? 0 : -1;
    return desc ? -c : c;
}

static void swap_pts(geo_point *a, geo_point *b)
{
    geo_point t = *a;
    *a = *b;
    *b = t;
}

static void swap_runs(geo_point *a, geo_point *b, size_t n)
{
    for (size_t i = 0; i < n; i++) swap_pts(&a[i], &b[i]);
}

static geo_point *median3(geo_point *a, geo_point *b, geo_point *c, int desc)
{
    if (dist_cmp(a, b, desc) < 0)
        return dist_cmp(b, c, desc) < 0 ? b : dist_cmp(a, c, desc) < 0 ? c : a;
    return dist_cmp(b, c, desc) > 0 ? b : dist_cmp(a, c, desc) < 0 ? a : c;
}

/* Sort what ends up at positions [lo, hi] of v[0..n): Bentley and
 * McIlroy's three-way quicksort ("Engineering a sort function", 1993),
 * recursing only into parts that overlap [lo, hi]. Redis orders a COUNT's
 * nearest points so, and this follows its steps, so points at equal
 * distances come out in the same order. */
static void partial_sort(geo_point *v, size_t n, const geo_point *lo, const geo_point *hi,
                         int desc)
{
    for (;;) {
        if (n < 7) {   /* insertion sort */
            for (geo_point *m = v + 1; m < v + n; m++)
                for (geo_point *l = m; l > v && dist_cmp(l - 1, l, desc) > 0; l--) swap_pts(l, l - 1);
            return;
        }
        geo_point *pm = v + n / 2;
        if (n > 7) {
            geo_point *pl = v, *pn = v + n - 1;
            if (n > 40) {
                size_t d = n / 8;
                pl = median3(pl, pl + d, pl + 2 * d, desc);
                pm = median3(pm - d, pm, pm + d, desc);
                pn = median3(pn - 2 * d, pn - d, pn, desc);
            }
            pm = median3(pl, pm, pn, desc);
        }
        swap_pts(v, pm);
        geo_point *pa = v + 1, *pb = v + 1, *pc = v + n - 1, *pd = v + n - 1;
        for (;;) {
            int c;
            while (pb <= pc && (c = dist_cmp(pb, v, desc)) <= 0) {
                if (c == 0) swap_pts(pa++, pb);
                pb++;
            }
            while (pb <= pc && (c = dist_cmp(pc, v, desc)) >= 0) {
                if (c == 0) swap_pts(pc, pd--);
                pc--;
            }
            if (pb > pc) break;
            swap_pts(pb++, pc--);
        }
        geo_point *pn = v + n;
        size_t r = (size_t)(pa - v) < (size_t)(pb - pa) ? (size_t)(pa - v) : (size_t)(pb - pa);
        swap_runs(v, pb - r, r);
        r = (size_t)(pd - pc) < (size_t)(pn - pd - 1) ? (size_t)(pd - pc) : (size_t)(pn - pd - 1);
        swap_runs(pb, pn - r, r);
        /* the smaller elements, then (iterating) the larger ones */
        if ((r = (size_t)(pb - pa)) > 1 && !(hi < v || lo > v + r - 1))
            partial_sort(v, r, lo, hi, desc);
        if ((r = (size_t)(pd - pc)) <= 1) return;
        v = pn - r;
        n = r;
        if (hi < v || lo > v + r - 1) return;
    }
}

/* Put the first k points of the order in v[0..k), sorted: all of them as
 * glibc's qsort (a merge sort: ties in the order found), the first k of
 * more as Redis's partial quicksort does. */
static void sort_first(geo_point *v, size_t n, size_t k, int desc)
{
    if (k == n && n) qsort(v, n, sizeof *v, desc ? cmp_desc : cmp_asc);
    else if (k) partial_sort(v, n, v, v + k - 1, desc);
}

static void reply_points(cmd_call *x, const geo_req *q, const geo_point *v, size_t n)
{
    int opts = q->withdist + q->withhash + q->withcoord;
    resp_array(x->out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const geo_point *p = &v[i];
        if (opts) resp_array(x->out, opts + 1);
        resp_bulk(x->out, p->m, p->ml);
        if (q->withdist) reply_distance(x, p->dist / q->shape.conversion);
        if (q->withhash) resp_int(x->out, geo_d2i64(p->score));
        if (q->withcoord) reply_pos(x, p->lon, p->lat);
    }
}

static int cmp_pair(const void *a, const void *b, void *base)
{
    const zsets_pair *p = a, *r = b;
    if (p->score != r->score) return p->score < r->score ? -1 : 1;
    const char *d = base;
    size_t n = p->ml < r->ml ? p->ml : r->ml;
    int c = n ? memcmp(d + p->off, d + r->off, n) : 0;
    return c ? c : (p->ml > r->ml) - (p->ml < r->ml);
}

/* Store the points as dst's sorted set (scores: their hashes, or their
 * distances with STOREDIST); none deletes dst. The members are copied
 * first: dst may be the source. Returns 1 when dst changed, 0 when not,
 * -1 when memory ran out (what changed was reported). */
static int store_points(cmd_call *x, const geo_req *q, kref *dst, const geo_point *v, size_t n)
{
    zsets_pair *pairs = n ? xmalloc(sizeof *pairs * n) : NULL;
    buf b = {0};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        pairs[i].off = b.len;
        pairs[i].ml = v[i].ml;
        pairs[i].score = q->storedist ? v[i].dist / q->shape.conversion : v[i].score;
        buf_append(&b, v[i].m, v[i].ml);
    }
    if (n) qsort_r(pairs, n, sizeof *pairs, cmp_pair, b.data);
    for (size_t i = 0; i < n; i++)   /* a member met twice is stored once */
        if (k == 0 || cmp_pair(&pairs[k - 1], &pairs[i], b.data) != 0) pairs[k++] = pairs[i];
    ks_find(dst, x->now);
    int rc = zsets__store(x, dst, pairs, k, &b);   /* reports what it stored */
    free(pairs);
    buf_free(&b);
    return rc;
}

static void search_generic(cmd_call *x, int flags)
{
    geo_req q;
    int src_i = (flags & GS_SEARCHSTORE) ? 2 : 1, bad;
    int base = (flags & GS_COORDS) ? 6 : (flags & GS_MEMBER) ? 5 : src_i + 1;
    kref refs[2];
    ks_lockset ls;
    memset(&q, 0, sizeof q);
    if (flags & GS_SEARCHSTORE) q.store = 1;
    else if (!(flags & (GS_NOSTORE | GS_SEARCH))) q.store = find_store_arg(x, base);
    int dst_i = q.store;
    q.store = 0;
    /* the source, and the destination the options name */
    arg_ref(x, src_i, &refs[0]);
    ks_lockset_init(&ls);
    ks_lockset_add(&ls, &refs[0]);
    if (dst_i) {
        arg_ref(x, dst_i, &refs[1]);
        ks_lockset_add(&ls, &refs[1]);
    }
    ks_lockset_lock(&ls);
    const item *it = coll_read(x, &refs[0], KIND_ZSET, &bad);
    if (bad) goto out;
    if (flags & GS_COORDS) {
        if (arg_lonlat(x, 2, &q.shape.lon, &q.shape.lat) < 0 || arg_radius(x, 4, &q.shape) < 0)
            goto out;
    } else if ((flags & GS_MEMBER) && it) {
        if (member_pos(it, &x->argv[2], &q.shape.lon, &q.shape.lat) < 0) {
            reply_err(x, ERR_MEMBER);
            goto out;
        }
        if (arg_radius(x, 3, &q.shape) < 0) goto out;
    }
    if (flags & GS_SEARCHSTORE) q.store = 1;
    if (parse_options(x, flags, base, it, &q) < 0) goto out;
    if (q.store != dst_i) {   /* find_store_arg walks the options as the parser does */
        reply_syntax(x);
        goto out;
    }

    geo_found f = {0};
    if (it) {
        /* COUNT without ANY means the nearest ones */
        if (q.count && q.sort == SORT_NONE && !q.any) q.sort = SORT_ASC;
        search(it, &q.shape, q.any ? (size_t)q.count : 0, &f);
    }
    size_t n = q.count && (unsigned long long)q.count < f.n ? (size_t)q.count : f.n;
    if (q.sort != SORT_NONE) sort_first(f.v, f.n, n, q.sort == SORT_DESC);
    if (!q.store) {
        reply_points(x, &q, f.v, n);
    } else {
        int rc = store_points(x, &q, &refs[1], f.v, n);
        if (rc < 0) reply_nomem(x);
        else resp_int(x->out, (long long)n);
    }
    free(f.v);
out:
    ks_lockset_unlock(&ls);
}

static void cmd_georadius(cmd_call *x) { search_generic(x, GS_COORDS); }
static void cmd_georadius_ro(cmd_call *x) { search_generic(x, GS_COORDS | GS_NOSTORE); }
static void cmd_georadiusbymember(cmd_call *x) { search_generic(x, GS_MEMBER); }
static void cmd_georadiusbymember_ro(cmd_call *x) { search_generic(x, GS_MEMBER | GS_NOSTORE); }
static void cmd_geosearch(cmd_call *x) { search_generic(x, GS_SEARCH); }
static void cmd_geosearchstore(cmd_call *x) { search_generic(x, GS_SEARCH | GS_SEARCHSTORE); }

#define W CMD_WRITE
#define R CMD_READONLY
#define M CMD_DENYOOM
#define G CAT_GEO
/* GEORADIUS's source, and the destination STORE or STOREDIST name */
#define KEY_RADIUS(from)                                                                     \
    {KSPEC(1, 0, 1, "RO access"), KSPEC_WORD("STORE", (from), 0, 1, "OW update"),                \
     KSPEC_WORD("STOREDIST", (from), 0, 1, "OW update")}

#define RADIUS_CX                                                                            \
    "O(N+log(M)) where N is the number of elements inside the bounding box of the circular " \
    "area delimited by center and radius and M is the number of items inside the index."

/* name, handler, arity, flags, ACL categories, key specs, group, since,
 * complexity, tips */
static const cmd_def rows[] = {
    {"geoadd", cmd_geoadd, -5, W | M, G, KEY1("RW update"), "geo", "3.2.0",
     "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
     NULL, NULL},
    {"geodist", cmd_geodist, -4, R, G, KEY1("RO access"), "geo", "3.2.0", "O(log(N))", NULL,
     NULL},
    {"geohash", cmd_geohash, -2, R, G, KEY1("RO access"), "geo", "3.2.0",
     "O(log(N)) for each member requested, where N is the number of elements in the sorted "
     "set.", NULL, NULL},
    {"geopos", cmd_geopos, -2, R, G, KEY1("RO access"), "geo", "3.2.0",
     "O(N) where N is the number of members requested.", NULL, NULL},
    {"georadius", cmd_georadius, -6, W | M, G, KEY_RADIUS(6), "geo", "3.2.0", RADIUS_CX, NULL,
     NULL},
    {"georadius_ro", cmd_georadius_ro, -6, R, G, KEY1("RO access"), "geo", "3.2.10", RADIUS_CX,
     NULL, NULL},
    {"georadiusbymember", cmd_georadiusbymember, -5, W | M, G, KEY_RADIUS(5), "geo", "3.2.0",
     "O(N+log(M)) where N is the number of elements inside the bounding box of the circular "
     "area delimited by center and radius and M is the number of items inside the index.",
     NULL, NULL},
    {"georadiusbymember_ro", cmd_georadiusbymember_ro, -5, R, G, KEY1("RO access"), "geo",
     "3.2.10",
     "O(N+log(M)) where N is the number of elements inside the bounding box of the circular "
     "area delimited by center and radius and M is the number of items inside the index.",
     NULL, NULL},
    {"geosearch", cmd_geosearch, -7, R, G, KEY1("RO access"), "geo", "6.2.0",
     "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
     "around the shape provided as the filter and M is the number of items inside the shape",
     NULL, NULL},
    {"geosearchstore", cmd_geosearchstore, -8, W | M, G, KEY12("OW update", "RO access"), "geo",
     "6.2.0",
     "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area "
     "around the shape provided as the filter and M is the number of items inside the shape",
     NULL, NULL},
};

const cmd_family cmd_family_geo = CMD_FAMILY(rows);
