/* geohash.c - encoding, decoding, neighbours, search boxes and distances
 * (see geohash.h). The floating-point steps are done in the order Redis's
 * do them: a score, a distance or a box edge that differs in its last bit
 * would change which points a search finds. */
#include "lib/geohash.h"

#include <math.h>

const geo_range geo_lon_range = {GEO_LON_MIN, GEO_LON_MAX};
const geo_range geo_lat_range = {GEO_LAT_MIN, GEO_LAT_MAX};

/* Degrees per radian's inverse, as one constant (Redis multiplies by it to
 * get radians and divides by it to get degrees). */
static const double DEG_TO_RAD = M_PI / 180.0;

static double rad_of(double deg) { return deg * DEG_TO_RAD; }
static double deg_of(double rad) { return rad / DEG_TO_RAD; }

/* The 32 bits of v spread to the even bit positions of a 64-bit word. */
static uint64_t spread(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of x gathered into 32 bits (spread's inverse). */
static uint32_t gather(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

uint64_t geo_d2u64(double d)
{
    /* cvttsd2si gives 2^63 for what it cannot represent; values from 2^63
     * on are converted less 2^63, as gcc emits it */
    const double two63 = 9223372036854775808.0;
    if (d < two63) return (uint64_t)geo_d2i64(d);
    return (uint64_t)geo_d2i64(d - two63) ^ (1ULL << 63);
}

int64_t geo_d2i64(double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return (int64_t)d;
    return INT64_MIN;
}

int geo_encode(geo_range lon_r, geo_range lat_r, double lon, double lat, unsigned step,
               geo_hash *h)
{
    h->bits = 0;
    h->step = 0;
    if (step == 0 || step > 32) return 0;
    if (lon > GEO_LON_MAX || lon < GEO_LON_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN)
        return 0;
    h->step = step;
    if (lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max) return 0;
    double lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min);
    double lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    h->bits = spread((uint32_t)lat_off) | (spread((uint32_t)lon_off) << 1);
    return 1;
}

uint64_t geo_score(double lon, double lat)
{
    geo_hash h;
    geo_encode(geo_lon_range, geo_lat_range, lon, lat, GEO_STEP_MAX, &h);
    return h.bits << (52 - h.step * 2);
}

int geo_decode(geo_range lon_r, geo_range lat_r, geo_hash h, geo_area *a)
{
    if (h.bits == 0 && h.step == 0) return 0;
    uint32_t ilat = gather(h.bits), ilon = gather(h.bits >> 1);
    double cells = (double)(1ULL << h.step);
    double lat_scale = lat_r.max - lat_r.min, lon_scale = lon_r.max - lon_r.min;
    a->lat.min = lat_r.min + ((double)ilat * 1.0 / cells) * lat_scale;
    a->lat.max = lat_r.min + ((double)(uint32_t)(ilat + 1) * 1.0 / cells) * lat_scale;
    a->lon.min = lon_r.min + ((double)ilon * 1.0 / cells) * lon_scale;
    a->lon.max = lon_r.min + ((double)(uint32_t)(ilon + 1) * 1.0 / cells) * lon_scale;
    return 1;
}

void geo_decode_score(double score, double *lon, double *lat)
{
    geo_hash h = {geo_d2u64(score), GEO_STEP_MAX};
    geo_area a;
    geo_decode(geo_lon_range, geo_lat_range, h, &a);
    double x = (a.lon.min + a.lon.max) / 2, y = (a.lat.min + a.lat.max) / 2;
    if (x > GEO_LON_MAX) x = GEO_LON_MAX;
    if (x < GEO_LON_MIN) x = GEO_LON_MIN;
    if (y > GEO_LAT_MAX) y = GEO_LAT_MAX;
    if (y < GEO_LAT_MIN) y = GEO_LAT_MIN;
    *lon = x;
    *lat = y;
}

/* Move a box one cell along the longitude (odd bits, lane 1) or the
 * latitude (even bits, lane 0), wrapping: the bits of the lane are
 * incremented or decremented with the other lane's bits filled in so that
 * carries and borrows cross them. */
static void move(geo_hash *h, int lane, int d)
{
    const uint64_t odd = 0xaaaaaaaaaaaaaaaaULL, even = 0x5555555555555555ULL;
    uint64_t mine = lane ? odd : even, other = lane ? even : odd;
    uint64_t v = h->bits & mine, keep = h->bits & other;
    unsigned sh = 64 - h->step * 2;
    uint64_t fill = other >> sh;
    if (d > 0) {
        v = v + (fill + 1);
    } else {
        v = v | fill;
        v = v - (fill + 1);
    }
    v &= mine >> sh;
    h->bits = v | keep;
}

void geo_neighbours(geo_hash h, geo_hash n[8])
{
    /* dx, dy of north, south, east, west, NE, NW, SE, SW */
    static const int dir[8][2] = {{0, 1},  {0, -1}, {1, 0},  {-1, 0},
                                  {1, 1},  {-1, 1}, {1, -1}, {-1, -1}};
    for (int i = 0; i < 8; i++) {
        n[i] = h;
        if (dir[i][0]) move(&n[i], 1, dir[i][0]);
        if (dir[i][1]) move(&n[i], 0, dir[i][1]);
    }
}

/* Mercator's half circumference, in metres. */
#define GEO_MERCATOR_MAX 20037726.37

unsigned geo_steps_for_radius(double metres, double lat)
{
    if (metres == 0) return GEO_STEP_MAX;
    int step = 1;
    while (metres < GEO_MERCATOR_MAX) {
        metres *= 2;
        step++;
    }
    step -= 2;   /* a margin for most cases */
    /* boxes narrow towards the poles */
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > GEO_STEP_MAX) step = GEO_STEP_MAX;
    return (unsigned)step;
}

void geo_bounds(const geo_shape *s, double b[4])
{
    int circle = s->type == GEO_CIRCLE;
    double height = s->conversion * (circle ? s->radius : s->height / 2);
    double width = s->conversion * (circle ? s->radius : s->width / 2);
    double dlat = deg_of(height / GEO_EARTH_RADIUS);
    double dlon_top = deg_of(width / GEO_EARTH_RADIUS / cos(rad_of(s->lat + dlat)));
    double dlon_bottom = deg_of(width / GEO_EARTH_RADIUS / cos(rad_of(s->lat - dlat)));
    /* the wider edge is the one nearer the equator */
    double dlon = s->lat < 0 ? dlon_bottom : dlon_top;
    b[0] = s->lon - dlon;
    b[2] = s->lon + dlon;
    b[1] = s->lat - dlat;
    b[3] = s->lat + dlat;
}

enum { N_, S_, E_, W_, NE_, NW_, SE_, SW_ };

/* The centre's box at a step, its neighbours and its area. */
static void boxes_at(const geo_shape *s, unsigned step, geo_hash *h, geo_hash n[8], geo_area *a)
{
    geo_encode(geo_lon_range, geo_lat_range, s->lon, s->lat, step, h);
    geo_neighbours(*h, n);
    geo_decode(geo_lon_range, geo_lat_range, *h, a);
}

void geo_search_boxes(const geo_shape *s, geo_hash boxes[9])
{
    double b[4];
    geo_hash h, n[8];
    geo_area a, ar[4];
    geo_bounds(s, b);
    double radius = s->type == GEO_CIRCLE
                        ? s->radius
                        : sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    radius *= s->conversion;
    unsigned step = geo_steps_for_radius(radius, s->lat);
    boxes_at(s, step, &h, n, &a);
    /* a step too fine for the shape near its box's edge: one coarser */
    geo_decode(geo_lon_range, geo_lat_range, n[N_], &ar[0]);
    geo_decode(geo_lon_range, geo_lat_range, n[S_], &ar[1]);
    geo_decode(geo_lon_range, geo_lat_range, n[E_], &ar[2]);
    geo_decode(geo_lon_range, geo_lat_range, n[W_], &ar[3]);
    int coarser = ar[0].lat.max < b[3] || ar[1].lat.min > b[1] || ar[2].lon.max < b[2] ||
                  ar[3].lon.min > b[0];
    if (step > 1 && coarser) boxes_at(s, --step, &h, n, &a);
    /* neighbours the shape cannot reach */
    if (step >= 2) {
        static const geo_hash none = {0, 0};
        if (a.lat.min < b[1]) n[S_] = n[SW_] = n[SE_] = none;
        if (a.lat.max > b[3]) n[N_] = n[NE_] = n[NW_] = none;
        if (a.lon.min < b[0]) n[W_] = n[SW_] = n[NW_] = none;
        if (a.lon.max > b[2]) n[E_] = n[SE_] = n[NE_] = none;
    }
    boxes[0] = h;
    for (int i = 0; i < 8; i++) boxes[i + 1] = n[i];
}

void geo_box_scores(geo_hash h, uint64_t *min, uint64_t *max)
{
    unsigned sh = 52 - h.step * 2;
    *min = h.bits << sh;
    *max = (h.bits + 1) << sh;
}

/* Distance along a meridian. */
static double lat_distance(double lat1, double lat2)
{
    return GEO_EARTH_RADIUS * fabs(rad_of(lat2) - rad_of(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double v = sin((rad_of(lon2) - rad_of(lon1)) / 2);
    if (v == 0.0) return lat_distance(lat1, lat2);   /* on one meridian */
    double lat1r = rad_of(lat1), lat2r = rad_of(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(a));
}

int geo_within(const geo_shape *s, double lon, double lat, double *dist)
{
    if (s->type == GEO_CIRCLE) {
        double r = s->radius * s->conversion;
        /* no trigonometry for a point whose latitude alone is too far (the
         * distance is at least that along the meridian) */
        if (lat_distance(lat, s->lat) > r * (1 + 1e-6) + 1) return 0;
        *dist = geo_distance(s->lon, s->lat, lon, lat);
        return *dist <= r;
    }
    double w = s->width * s->conversion, hgt = s->height * s->conversion;
    /* the cheaper north-south test first, then east-west at the point's
     * latitude */
    if (lat_distance(lat, s->lat) > hgt / 2) return 0;
    if (geo_distance(lon, lat, s->lon, lat) > w / 2) return 0;
    *dist = geo_distance(s->lon, s->lat, lon, lat);
    return 1;
}

/* The least |x - c| over x in [lo, hi]. */
static double least_gap(double c, double lo, double hi)
{
    return c < lo ? lo - c : c > hi ? c - hi : 0;
}

/* The least |sin(d / 2)| over d = lon - c, lon in [lo, hi] (radians): the
 * haversine's longitude term, which the distance formulas take of the raw
 * difference (|d| up to 2 pi, where the sine comes back to 0). */
static double least_half_sine(double c, double lo, double hi)
{
    double d0 = lo - c, d1 = hi - c;
    if ((d0 <= 0 && d1 >= 0) || d0 <= -2 * M_PI || d1 >= 2 * M_PI) return 0;
    double a = fabs(sin(d0 / 2)), b = fabs(sin(d1 / 2));
    return a < b ? a : b;
}

int geo_area_may_hold(const geo_shape *s, const geo_area *a)
{
    /* the area's points: latitudes in [a->lat.min, a->lat.max] ... */
    double clat = rad_of(s->lat), clon = rad_of(s->lon);
    double lat0 = rad_of(a->lat.min), lat1 = rad_of(a->lat.max);
    double far = fabs(lat0) > fabs(lat1) ? fabs(lat0) : fabs(lat1);
    double cos_least = cos(far);   /* cos of a latitude in the area, at least */
    double dlat = least_gap(clat, lat0, lat1);
    double vs = least_half_sine(clon, rad_of(a->lon.min), rad_of(a->lon.max));
    double slack = 1e-6, m;
    if (cos_least < 0) cos_least = 0;
    if (s->type == GEO_CIRCLE) {
        double u = sin(dlat / 2);
        double h = u * u + cos(clat) * cos_least * vs * vs;
        if (h > 1) h = 1;
        m = 2.0 * GEO_EARTH_RADIUS * asin(sqrt(h));
        return m <= s->radius * s->conversion * (1 + slack) + 1;
    }
    if (GEO_EARTH_RADIUS * dlat > s->height * s->conversion / 2 * (1 + slack) + 1) return 0;
    double x = cos_least * vs;
    m = 2.0 * GEO_EARTH_RADIUS * asin(x > 1 ? 1 : x);
    return m <= s->width * s->conversion / 2 * (1 + slack) + 1;
}

void geo_hash_text(double lon, double lat, char out[11])
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    const geo_range lon_r = {-180, 180}, lat_r = {-90, 90};
    geo_hash h;
    geo_encode(lon_r, lat_r, lon, lat, GEO_STEP_MAX, &h);
    for (int i = 0; i < 10; i++) out[i] = alphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
    out[10] = alphabet[0];   /* 52 bits make 10 characters and 2 bits: the 11th is '0' */
}
