/* SPDX-License-Identifier: BSD-3-Clause
 * Area of interest (interest management). An observer o sees a target t
 * (t != o) when |t - o| <= radius(o): per-observer radius, so the relation
 * is not symmetric. Keys are dense slots 0..capacity-1 (the entity store's
 * slots). Every implementation yields the same events in the same order,
 * which is what lets tests compare them to the naive reference exactly.
 */
#ifndef WG_AOI_T_H
#define WG_AOI_T_H

#include <stdint.h>

#define WG_AOI_MAX_KEYS (1u << 20)  /* keys and events pack into 20 bits */

/* conf flags */
#define WG_AOI_F_MOVE_EVENTS 0x0001  /* emit MOVE for (o, t) when t moved and stays seen */
#define WG_AOI_F_MASK        0x0001
/* 0xfffe unused */

enum wg_aoi_ev_kind {
	WG_AOI_ENTER = 1,
	WG_AOI_LEAVE = 2,
	WG_AOI_MOVE = 3,
};

/* A tick's events come sorted by (observer, target); a pair appears at most
 * once per tick. */
struct wg_aoi_event {
	uint32_t observer;
	uint32_t target;
	uint32_t kind;     /* enum wg_aoi_ev_kind */
};

/* The grid covers [min, min + size); positions outside are legal (they land
 * in the edge cells, correct but slower). */
struct wg_aoi_conf {
	float min_x, min_y;
	float width, height;
	float view_radius;   /* typical radius: sizes cells, splits off "large" observers */
	float cell;          /* cell edge; 0 = the implementation's tuned default */
	uint32_t capacity;   /* keys are 0..capacity-1, capacity <= WG_AOI_MAX_KEYS */
	uint32_t flags;      /* WG_AOI_F_* */
};

struct wg_aoi_stats {
	uint64_t ticks;
	uint64_t enters;
	uint64_t leaves;
	uint64_t moves;
	uint64_t pair_checks;  /* distance tests done (implementation's work) */
	uint32_t live;
};

struct wg_aoi;

/* Implementation table. Callers use the wg_aoi_* wrappers, which validate
 * arguments and keep the shared per-key state (position, radius, flags) in
 * the base before/after calling these. */
struct wg_aoi_ops {
	const char *name;
	struct wg_aoi *(*create)(const struct wg_aoi_conf *conf);
	void (*destroy)(struct wg_aoi *a);
	/* key is already live in the base with its position and radius */
	int (*insert)(struct wg_aoi *a, uint32_t key);
	/* key is still live in the base (old position readable) */
	int (*remove)(struct wg_aoi *a, uint32_t key);
	/* the base still holds the old position */
	int (*move)(struct wg_aoi *a, uint32_t key, float x, float y);
	/* the base still holds the old radius */
	int (*set_radius)(struct wg_aoi *a, uint32_t key, float r);
	/* append this tick's events with aoi_emit(); the base sorts them */
	int (*tick)(struct wg_aoi *a);
	/* these three return the full count and fill at most cap, any order */
	int (*visible)(struct wg_aoi *a, uint32_t key, uint32_t *out, uint32_t cap);
	int (*query_radius)(struct wg_aoi *a, float x, float y, float r,
			    uint32_t *out, uint32_t cap);
	int (*query_rect)(struct wg_aoi *a, float x0, float y0, float x1, float y1,
			  uint32_t *out, uint32_t cap);
};

#endif /* WG_AOI_T_H */
