/* geohash.h - the geohash arithmetic behind the geo commands, as Redis 7.0
 * does it, so that scores, distances and search results agree to the bit.
 *
 * A position is a 52-bit integer: 26 steps of halving the longitude range
 * [-180, 180] and the latitude range [-85.05112878, 85.05112878] (Web
 * Mercator's limits), the latitude's bits at the even positions and the
 * longitude's at the odd ones. Stored as a sorted-set score (exact in a
 * double), nearby points have nearby scores, and a box of the grid at any
 * step is one range of scores. A search covers its shape with the box of
 * the centre at a step chosen from the radius and that box's 8 neighbours,
 * scans each box's score range and keeps the points inside the shape.
 * Distances are haversine on a sphere of Redis's radius. Pure functions,
 * no allocation. */
#ifndef KASI_GEOHASH_H
#define KASI_GEOHASH_H

#include <stdint.h>

#define GEO_STEP_MAX 26
#define GEO_LON_MIN -180.0
#define GEO_LON_MAX 180.0
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_EARTH_RADIUS 6372797.560856

/* A box of the grid: its bits at a step (step 0 and bits 0: no box). */
typedef struct geo_hash {
    uint64_t bits;
    unsigned step;
} geo_hash;

typedef struct geo_range {
    double min, max;
} geo_range;

typedef struct geo_area {
    geo_range lon, lat;
} geo_area;

/* What a search covers: a circle of radius, or a box of width x height
 * (east-west x north-south), around (lon, lat); sizes are in units of
 * `conversion` metres. */
enum { GEO_CIRCLE, GEO_BOX };
typedef struct geo_shape {
    int type;
    double lon, lat;
    double conversion;
    double radius;
    double width, height;
} geo_shape;

/* The ranges positions are encoded against. */
extern const geo_range geo_lon_range, geo_lat_range;

/* Encode (lon, lat) against the given ranges at a step (1..32): 0 when the
 * point is outside Mercator's limits or the ranges (h is then zero), else
 * 1. As in Redis, a point on a range's upper edge gets the offset 2^step. */
int geo_encode(geo_range lon_r, geo_range lat_r, double lon, double lat, unsigned step,
               geo_hash *h);
/* The 52-bit score of a valid position. */
uint64_t geo_score(double lon, double lat);
/* The area a box covers (0 for the empty box). */
int geo_decode(geo_range lon_r, geo_range lat_r, geo_hash h, geo_area *a);
/* A score (any double) as Redis decodes it: truncated to 64 bits as x86
 * does, the centre of its box, clamped to the limits. */
void geo_decode_score(double score, double *lon, double *lat);
/* A double as x86-64's truncating conversion gives it as an integer (what
 * Redis's casts of out-of-range scores produce). */
uint64_t geo_d2u64(double d);
int64_t geo_d2i64(double d);

/* The box's 8 neighbours, wrapping around the grid: north, south, east,
 * west, north-east, north-west, south-east, south-west. */
void geo_neighbours(geo_hash h, geo_hash n[8]);
/* The step whose boxes are about as big as a radius around latitude lat. */
unsigned geo_steps_for_radius(double metres, double lat);
/* The shape's bounding box: min lon, min lat, max lon, max lat. */
void geo_bounds(const geo_shape *s, double b[4]);
/* The boxes a search scans, in Redis's order (the centre's, then north,
 * south, east, west, north-east, north-west, south-east, south-west); the
 * useless ones are zeroed. */
void geo_search_boxes(const geo_shape *s, geo_hash boxes[9]);
/* The scores [*min, *max) of a box. */
void geo_box_scores(geo_hash h, uint64_t *min, uint64_t *max);

/* Whether a point decoded inside area a may lie in the shape: 0 only when
 * none can (with a margin far above rounding errors), so a search may skip
 * the area's scores and still find what Redis's scan of the whole box
 * finds. */
int geo_area_may_hold(const geo_shape *s, const geo_area *a);

/* Great-circle distance in metres. */
double geo_distance(double lon1, double lat1, double lon2, double lat2);
/* Whether (lon, lat) is inside the shape, with its distance from the
 * centre in metres. */
int geo_within(const geo_shape *s, double lon, double lat, double *dist);

/* GEOHASH's 11 characters for a position (re-encoded against the standard
 * latitude range -90..90; the 11th character is always '0'). */
void geo_hash_text(double lon, double lat, char out[11]);

#endif
