/* Unit tests for lib/geohash: scores of known places against the ones a real
 * redis-server 7.0.15 stored for them (the limits of the grid included),
 * decode/encode round trips, GEOHASH's text, neighbours that touch their
 * box and wrap at the antimeridian, the score ranges of boxes, distances
 * against GEODIST's, and what a search's boxes cover. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/geohash.h"

/* GEOADD u <lon> <lat> <name>, then ZRANGE u 0 -1 WITHSCORES and GEOHASH
 * on redis-server 7.0.15. */
static const struct {
    double lon, lat;
    uint64_t score;
    const char *hash;
} known[] = {
    {13.361389, 38.115556, 3479099956230698ULL, "sqc8b49rny0"},
    {15.087269, 37.502669, 3479447370796909ULL, "sqdtr74hyu0"},
    {0, 0, 3377699720527872ULL, "s0000000000"},
    {180, 85.05112878, 13510798882111488ULL, "bp05b5048p0"},   /* past 52 bits, as in Redis */
    {-180, -85.05112878, 0, "00bh0hbj200"},
    {-122.4194, 37.7749, 1367859919124626ULL, "9q8yyk8ytp0"},
    {139.6917, 35.6895, 4171231230197045ULL, "xn774c06kt0"},
    {151.2093, -33.8688, 3252046221964352ULL, "r3gx2f77bj0"},
    {179.9999999, -0.0000001, 3377699720527871ULL, "rzzzzzzzzz0"},
};

/* GEODIST: between the positions stored, in km. */
static double dist_km(int a, int b)
{
    double x1, y1, x2, y2;
    geo_decode_score((double)known[a].score, &x1, &y1);
    geo_decode_score((double)known[b].score, &x2, &y2);
    return geo_distance(x1, y1, x2, y2) / 1000;
}

/* Whether two areas share an edge or a corner (within a rounding error). */
static int touch(const geo_area *a, const geo_area *b)
{
    const double e = 1e-9;
    int lon = fabs(a->lon.max - b->lon.min) < e || fabs(b->lon.max - a->lon.min) < e ||
              (fabs(a->lon.min - b->lon.min) < e);
    int lat = fabs(a->lat.max - b->lat.min) < e || fabs(b->lat.max - a->lat.min) < e ||
              (fabs(a->lat.min - b->lat.min) < e);
    return lon && lat;
}

int main(void)
{
    char text[12] = {0};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint64_t s = geo_score(known[i].lon, known[i].lat);
        CHECK(s == known[i].score);
        double lon, lat;
        geo_decode_score((double)s, &lon, &lat);
        geo_hash_text(lon, lat, text);
        CHECK(strcmp(text, known[i].hash) == 0);
        if (s < (1ULL << 52)) {   /* a decoded point is in its own cell */
            CHECK(geo_score(lon, lat) == s);
            CHECK(fabs(lon - known[i].lon) < 1e-5 && fabs(lat - known[i].lat) < 1e-5);
        }
    }
    /* GEODIST on redis-server 7.0.15: 8273047.4024 m and 16230.6165 km */
    char d[64];
    snprintf(d, sizeof d, "%.4f", dist_km(5, 6) * 1000);
    CHECK(strcmp(d, "8273047.4024") == 0);
    snprintf(d, sizeof d, "%.4f", dist_km(0, 7));
    CHECK(strcmp(d, "16230.6165") == 0);
    CHECK(geo_distance(10, 20, 10, 20) == 0);
    CHECK(fabs(geo_distance(0, 0, 180, 0) - M_PI * GEO_EARTH_RADIUS) < 1e-6);

    /* random round trips: encoding the decoded centre gives the same cell */
    srand(11);
    for (int i = 0; i < 20000; i++) {
        double lon = -180 + 360.0 * rand() / RAND_MAX, lat = GEO_LAT_MIN + 2 * GEO_LAT_MAX * rand() / RAND_MAX;
        uint64_t s = geo_score(lon, lat);
        double lon2, lat2;
        geo_decode_score((double)s, &lon2, &lat2);
        if (s < (1ULL << 52)) CHECK(geo_score(lon2, lat2) == s);
        CHECK(fabs(lon2 - lon) < 1e-5 && fabs(lat2 - lat) < 1e-5);
        /* the box of the point at any step holds its score */
        unsigned step = 1 + (unsigned)(i % GEO_STEP_MAX);
        geo_hash h;
        uint64_t lo, hi;
        if (lat < GEO_LAT_MAX && lon < GEO_LON_MAX) {
            CHECK(geo_encode(geo_lon_range, geo_lat_range, lon, lat, step, &h) == 1);
            geo_box_scores(h, &lo, &hi);
            CHECK(lo <= s && s < hi && hi - lo == 1ULL << (52 - 2 * step));
        }
    }

    /* scores out of the grid decode as Redis's do: truncated, clamped */
    double lon, lat;
    CHECK(geo_d2u64(-1.0) == UINT64_MAX && geo_d2u64(1e30) == 0 && geo_d2u64(INFINITY) == 0);
    CHECK(geo_d2u64(-INFINITY) == 1ULL << 63 && geo_d2u64(1.5) == 1 && geo_d2i64(1e19) == INT64_MIN);
    CHECK(geo_d2u64(1.8e19) == 18000000000000000000ULL);
    geo_decode_score(-1, &lon, &lat);
    CHECK(lon == GEO_LON_MAX && lat == GEO_LAT_MAX);
    geo_decode_score(0, &lon, &lat);
    CHECK(lon < -179.99999 && lat < -85.0511);
    CHECK(geo_encode(geo_lon_range, geo_lat_range, 181, 0, 26, &(geo_hash){0}) == 0);
    CHECK(geo_encode(geo_lon_range, geo_lat_range, 0, 85.06, 26, &(geo_hash){0}) == 0);
    CHECK(geo_encode(geo_lon_range, geo_lat_range, 0, 0, 0, &(geo_hash){0}) == 0);

    /* neighbours touch their box, in the named directions, and wrap */
    for (unsigned step = 2; step <= GEO_STEP_MAX; step += 3) {
        geo_hash h, n[8];
        geo_area a, b;
        geo_encode(geo_lon_range, geo_lat_range, 15, 37, step, &h);
        geo_decode(geo_lon_range, geo_lat_range, h, &a);
        geo_neighbours(h, n);
        for (int i = 0; i < 8; i++) {
            CHECK(geo_decode(geo_lon_range, geo_lat_range, n[i], &b) == 1);
            CHECK(touch(&a, &b));
            CHECK(n[i].bits != h.bits && n[i].step == step);
        }
        geo_decode(geo_lon_range, geo_lat_range, n[0], &b);
        CHECK(b.lat.min > a.lat.min && b.lon.min == a.lon.min);   /* north */
        geo_decode(geo_lon_range, geo_lat_range, n[3], &b);
        CHECK(b.lon.min < a.lon.min && b.lat.min == a.lat.min);   /* west */
        /* east of the last column is the first */
        geo_encode(geo_lon_range, geo_lat_range, 179.99999999, 0, step, &h);
        geo_neighbours(h, n);
        geo_decode(geo_lon_range, geo_lat_range, n[2], &b);
        CHECK(b.lon.min == GEO_LON_MIN);
    }

    /* steps shrink as the radius grows, and near the poles */
    CHECK(geo_steps_for_radius(0, 0) == 26);
    CHECK(geo_steps_for_radius(1, 0) == 24 && geo_steps_for_radius(1000, 0) == 14);
    CHECK(geo_steps_for_radius(1000, 70) == 13 && geo_steps_for_radius(1000, -81) == 12);
    CHECK(geo_steps_for_radius(1e7, 0) == 1 && geo_steps_for_radius(1e12, 0) == 1);

    /* a search's boxes cover the shape's bounding box (away from the poles:
     * near them Redis's one step coarser may not reach its far corners) */
    srand(12);
    for (int i = 0; i < 3000; i++) {
        geo_shape s = {i % 2 ? GEO_BOX : GEO_CIRCLE, -179 + 358.0 * rand() / RAND_MAX,
                       -60 + 120.0 * rand() / RAND_MAX, 1000, 0, 0, 0};
        s.radius = pow(10, -2 + 5.0 * rand() / RAND_MAX);
        s.width = 2 * s.radius;
        s.height = s.radius;
        geo_hash b[9];
        double bb[4];
        geo_search_boxes(&s, b);
        geo_bounds(&s, bb);
        CHECK(b[0].step >= 1 && b[0].step <= 26);
        for (int k = 0; k < 4; k++) {   /* the corners of the bounding box, inside the grid */
            double x = k & 1 ? bb[2] : bb[0], y = k & 2 ? bb[3] : bb[1];
            if (x <= -180 || x >= 180 || y <= GEO_LAT_MIN || y >= GEO_LAT_MAX) continue;
            uint64_t sc = geo_score(x, y), lo, hi;
            int in = 0;
            for (int j = 0; j < 9; j++) {
                if (b[j].bits == 0 && b[j].step == 0) continue;
                geo_box_scores(b[j], &lo, &hi);
                in |= lo <= sc && sc < hi;
            }
            CHECK(in);
        }
    }
    /* an area said to hold no point of a shape holds none: random cells
     * near random shapes, and random points in them */
    srand(13);
    int skipped = 0;
    for (int i = 0; i < 20000; i++) {
        geo_shape s = {i % 2 ? GEO_BOX : GEO_CIRCLE, -180 + 360.0 * rand() / RAND_MAX,
                       -84 + 168.0 * rand() / RAND_MAX, 1, 0, 0, 0};
        s.radius = pow(10, 5.0 * rand() / RAND_MAX);
        s.width = s.radius * 3;
        s.height = s.radius;
        unsigned step = 4 + (unsigned)(rand() % 20);
        double lon = s.lon + (rand() / (double)RAND_MAX - 0.5) * 4, lat = s.lat + (rand() / (double)RAND_MAX - 0.5) * 2;
        if (lon < -180 || lon >= 180 || lat < GEO_LAT_MIN || lat >= GEO_LAT_MAX) continue;
        geo_hash h;
        geo_area a;
        geo_encode(geo_lon_range, geo_lat_range, lon, lat, step, &h);
        geo_decode(geo_lon_range, geo_lat_range, h, &a);
        if (geo_area_may_hold(&s, &a)) continue;
        skipped++;
        for (int k = 0; k < 20; k++) {
            double x = a.lon.min + (a.lon.max - a.lon.min) * rand() / RAND_MAX;
            double y = a.lat.min + (a.lat.max - a.lat.min) * rand() / RAND_MAX;
            double px, py, dd;
            geo_decode_score((double)geo_score(x, y), &px, &py);
            CHECK(!geo_within(&s, px, py, &dd));
        }
    }
    CHECK(skipped > 1000);

    /* a box excludes what is outside it, a circle what is beyond its radius */
    geo_shape box = {GEO_BOX, 15, 37, 1000, 0, 100, 50};
    double dist;
    CHECK(geo_within(&box, 15.5, 37.2, &dist) && fabs(dist - geo_distance(15, 37, 15.5, 37.2)) < 1e-9);
    CHECK(!geo_within(&box, 15, 37.3, &dist));    /* 33 km north: past half the height */
    CHECK(!geo_within(&box, 15.6, 37, &dist));    /* 53 km east: past half the width */
    geo_shape circle = {GEO_CIRCLE, 15, 37, 1, 1000, 0, 0};
    CHECK(geo_within(&circle, 15, 37.008, &dist) && !geo_within(&circle, 15, 37.0091, &dist));
    return check_done("geohash");
}
