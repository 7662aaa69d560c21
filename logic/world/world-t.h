/* SPDX-License-Identifier: BSD-3-Clause
 * A logic instance's world: entity store + AOI + per-client sync, driven by
 * validated inputs and a fixed tick. Transport-free: sync messages leave
 * through an output callback, so the message plane (local rings or gRPC)
 * plugs in without this module knowing about it.
 */
#ifndef WG_WORLD_T_H
#define WG_WORLD_T_H

#include <stddef.h>
#include <stdint.h>

#include "aoi-t.h"
#include "entity-t.h"

/* One StateDelta (packed wg.StateDelta) for the client whose avatar is eid.
 * Return 0, or -errno to have it counted in out_errors (the peer simply
 * sees a lost message; sync recovers). */
typedef int (*wg_world_out_fn)(void *arg, uint64_t session, wg_eid_t eid,
			       const uint8_t *msg, size_t len);

struct wg_world_conf {
	float min_x, min_y;          /* the world is [min, min + size] */
	float width, height;
	float view_radius;           /* radius of a spawn that passes a negative one */
	float max_speed;             /* world units per tick */
	uint32_t move_slack;         /* idle ticks a move may catch up, 0 -> 4 */
	uint32_t capacity;           /* entities */
	uint32_t nfields;            /* synced user fields, <= WG_SYNC_MAX_FIELDS */
	float pos_scale;             /* quantisation steps per world unit, 0 -> 16 */
	uint32_t sync_frames;        /* snapshots kept per client, 0 -> 32 */
	uint32_t sync_budget;        /* bytes per client per tick, 0 = unlimited */
	const struct wg_aoi_ops *aoi;  /* NULL -> wg_aoi_inc_ops */
	uint32_t aoi_flags;          /* WG_AOI_F_* */
	wg_world_out_fn out;
	void *out_arg;
};

struct wg_world_stats {
	uint64_t ticks;
	uint64_t moves;              /* accepted */
	uint64_t rejected_invalid;   /* non-finite coordinates */
	uint64_t rejected_bounds;    /* outside the world */
	uint64_t rejected_speed;     /* faster than max_speed allows */
	uint64_t rejected_unknown;   /* stale or unknown entity */
	uint64_t aoi_events;
	uint64_t sync_msgs;
	uint64_t sync_bytes;
	uint64_t out_errors;         /* output callback refused */
	uint64_t acks, bad_msgs;
	uint32_t entities, clients;
};

struct wg_world;

#endif /* WG_WORLD_T_H */
