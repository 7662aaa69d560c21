/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_AOI_H
#define WG_AOI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aoi-t.h"

/* The implementations. inc is the one to use; the others are baselines. */
extern const struct wg_aoi_ops wg_aoi_naive_ops;     /* O(n^2) reference */
extern const struct wg_aoi_ops wg_aoi_ninegrid_ops;  /* classic 3x3 cells of the radius */
extern const struct wg_aoi_ops wg_aoi_grid_ops;      /* tuned cells, culled, full recompute */
extern const struct wg_aoi_ops wg_aoi_inc_ops;       /* grid + incremental pair diffs */

/* Look an implementation up by name ("naive", "ninegrid", "grid", "inc"). */
const struct wg_aoi_ops *wg_aoi_ops_by_name(const char *name);

/* NULL + errno (EINVAL for a bad conf, ENOMEM). */
struct wg_aoi *wg_aoi_create(const struct wg_aoi_ops *ops, const struct wg_aoi_conf *conf);
void wg_aoi_destroy(struct wg_aoi *a);
const char *wg_aoi_name(const struct wg_aoi *a);

/* Mutations take effect in events at the next wg_aoi_tick(). Errors:
 * -EINVAL key out of range, non-finite coordinate, negative or non-finite
 * radius; -EEXIST insert of a live key; -EBUSY insert of a key removed in
 * this tick (the slot's leave events are still pending); -ENOENT not live. */
int wg_aoi_insert(struct wg_aoi *a, uint32_t key, float x, float y, float radius);
int wg_aoi_remove(struct wg_aoi *a, uint32_t key);
int wg_aoi_move(struct wg_aoi *a, uint32_t key, float x, float y);
int wg_aoi_set_radius(struct wg_aoi *a, uint32_t key, float radius);

/* Compute the events since the previous tick: for every pair (o, t) of
 * which o is live now, ENTER if o sees t now and did not then, LEAVE if it
 * did and does not (or t was removed), MOVE (with WG_AOI_F_MOVE_EVENTS) if
 * it sees t in both and t moved. Removed observers get no events. Returns
 * the count and points *ev at them (valid until the next call), or -errno. */
int wg_aoi_tick(struct wg_aoi *a, const struct wg_aoi_event **ev);

/* Who key sees, as of the last tick, ascending. Returns the total count; out
 * is complete and sorted only when the count <= cap. */
int wg_aoi_visible(struct wg_aoi *a, uint32_t key, uint32_t *out, uint32_t cap);

/* Live keys within r of (x, y) / inside [x0,x1]x[y0,y1] (inclusive) at their
 * current positions; same return convention as wg_aoi_visible. */
int wg_aoi_query_radius(struct wg_aoi *a, float x, float y, float r,
			uint32_t *out, uint32_t cap);
int wg_aoi_query_rect(struct wg_aoi *a, float x0, float y0, float x1, float y1,
		      uint32_t *out, uint32_t cap);

void wg_aoi_stats(const struct wg_aoi *a, struct wg_aoi_stats *st);
void wg_aoi_dump(FILE *f, const struct wg_aoi *a);

/* The one visibility predicate every implementation uses. In double, so the
 * squares of float differences are exact and a fused multiply-add cannot
 * change the answer between implementations or compilers. */
static inline bool
wg_aoi_in_range(double ox, double oy, double r, double tx, double ty)
{
	double dx = tx - ox, dy = ty - oy;

	return dx * dx + dy * dy <= r * r;
}

#endif /* WG_AOI_H */
