/* SPDX-License-Identifier: BSD-3-Clause
 * What the AOI implementations share: the base object they embed first, the
 * per-key state the wrappers maintain, event emission and grid helpers.
 */
#ifndef WG_AOI_IMPL_H
#define WG_AOI_IMPL_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "aoi.h"

/* per-key state bits (base->st) */
#define AOI_S_LIVE    0x01  /* inserted and not removed */
#define AOI_S_MOVED   0x02  /* moved since the last tick */
#define AOI_S_RADIUS  0x04  /* radius changed since the last tick */
#define AOI_S_NEW     0x08  /* inserted since the last tick */
#define AOI_S_DEAD    0x10  /* removed since the last tick */
#define AOI_S_TOUCHED 0x20  /* listed in base->touched */
/* 0xc0 unused */

/* packed event: observer << 22 | target << 2 | kind, sorts by (o, t) */
#define AOI_EV(o, t, k) ((uint64_t)(o) << 22 | (uint64_t)(t) << 2 | (k))

struct wg_aoi {
	const struct wg_aoi_ops *ops;
	struct wg_aoi_conf conf;
	uint32_t live;
	uint32_t ntouched;
	float *x, *y, *r;        /* per key, current */
	uint8_t *st;             /* AOI_S_* */
	uint32_t *touched;       /* keys with any AOI_S_ bit to reset at tick */
	uint64_t *ev;            /* this tick's events so far */
	uint64_t *ev_tmp;        /* radix sort scratch */
	uint32_t nev, ev_cap;
	struct wg_aoi_event *out;
	uint32_t out_cap;
	int err;                 /* sticky -ENOMEM from aoi_emit, reported by tick */
	struct wg_aoi_stats stats;
};

int aoi_base_init(struct wg_aoi *a, const struct wg_aoi_ops *ops, const struct wg_aoi_conf *conf);
void aoi_base_fini(struct wg_aoi *a);
int aoi_ev_grow(struct wg_aoi *a);

static inline void
aoi_emit(struct wg_aoi *a, uint32_t o, uint32_t t, uint32_t kind)
{
	if (a->nev == a->ev_cap && aoi_ev_grow(a) != 0)
		return;
	a->ev[a->nev++] = AOI_EV(o, t, kind);
}

/* Uniform grid geometry shared by the grid-based implementations. Cell
 * coordinates are clamped, so the edge cells extend to infinity. */
struct aoi_geom {
	double min_x, min_y;
	double cell, inv;
	int ncx, ncy;
};

void aoi_geom_init(struct aoi_geom *g, const struct wg_aoi_conf *conf, double cell);

static inline int
aoi_geom_cx(const struct aoi_geom *g, double x)
{
	double c = floor((x - g->min_x) * g->inv);

	if (!(c >= 0))
		return 0;
	return c >= g->ncx ? g->ncx - 1 : (int)c;
}

static inline int
aoi_geom_cy(const struct aoi_geom *g, double y)
{
	double c = floor((y - g->min_y) * g->inv);

	if (!(c >= 0))
		return 0;
	return c >= g->ncy ? g->ncy - 1 : (int)c;
}

/* Could cell (cx, cy) hold a point within r of (x, y)? Conservative: the
 * cell is widened by a margin that covers rounding in the cell assignment,
 * and edge cells are unbounded outward. */
static inline bool
aoi_geom_cell_near(const struct aoi_geom *g, int cx, int cy, double x, double y, double r)
{
	double m = g->cell * 1e-4 + 1e-4;
	double lo, hi, dx = 0, dy = 0;

	lo = cx == 0 ? -INFINITY : g->min_x + cx * g->cell - m;
	hi = cx == g->ncx - 1 ? INFINITY : g->min_x + (cx + 1) * g->cell + m;
	if (x < lo)
		dx = lo - x;
	else if (x > hi)
		dx = x - hi;
	lo = cy == 0 ? -INFINITY : g->min_y + cy * g->cell - m;
	hi = cy == g->ncy - 1 ? INFINITY : g->min_y + (cy + 1) * g->cell + m;
	if (y < lo)
		dy = lo - y;
	else if (y > hi)
		dy = y - hi;
	return dx * dx + dy * dy <= r * r;
}

/* Cell range covering [x - r, x + r] x [y - r, y + r], widened by the same
 * margin so a point whose cell index rounded across a border is included. */
static inline void
aoi_geom_span(const struct aoi_geom *g, double x0, double y0, double x1, double y1,
	      int *cx0, int *cy0, int *cx1, int *cy1)
{
	double m = g->cell * 1e-4 + 1e-4;

	*cx0 = aoi_geom_cx(g, x0 - m);
	*cy0 = aoi_geom_cy(g, y0 - m);
	*cx1 = aoi_geom_cx(g, x1 + m);
	*cy1 = aoi_geom_cy(g, y1 + m);
}

static inline bool
aoi_in_rect(double x, double y, double x0, double y0, double x1, double y1)
{
	return x >= x0 && x <= x1 && y >= y0 && y <= y1;
}

#endif /* WG_AOI_IMPL_H */
