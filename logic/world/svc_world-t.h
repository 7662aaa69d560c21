/* SPDX-License-Identifier: BSD-3-Clause
 * The world service: the logic framework (logic/framework) driving a
 * wg_world (entity store + AOI + delta sync) for the players attached to
 * this instance. Types only; the API is in svc_world.h.
 */
#ifndef WG_SVC_WORLD_T_H
#define WG_SVC_WORLD_T_H

#include <stdint.h>

#include "aoi-t.h"

/* Routing service number (Route.service): wg.MsgType block 0x04xx. */
#define WG_SVC_WORLD_ID      4

/* The world is [0, width] x [0, height] in world units. */
struct wg_world_svc_conf {
	uint32_t width, height;
	uint32_t view_radius;          /* AOI radius of avatars and NPCs */
	uint32_t max_speed;            /* world units per second */
	uint32_t tick_hz;              /* the framework's: turns max_speed into units per tick */
	uint32_t move_slack;           /* idle ticks a move may catch up, >= 1 */
	uint32_t max_moves;            /* MOVE messages per session per tick, >= 1 */
	uint32_t pos_scale;            /* quantisation steps per world unit, >= 1 */
	uint32_t sync_frames;          /* snapshots kept per client, 2..1024 */
	uint32_t budget;               /* StateDelta bytes per client per tick, 64..3900 */
	uint32_t spawn_x, spawn_y;     /* avatars appear here, inside the world ... */
	uint32_t spawn_spread;         /* ... offset by up to this on each axis (seeded) */
	uint32_t npcs;                 /* server-driven entities on seeded paths */
	uint32_t seed;
	const struct wg_aoi_ops *aoi;  /* NULL: wg_aoi_inc_ops */
};

struct wg_world_svc_stats {
	uint64_t spawns;               /* avatars spawned on SESSION_ATTACH */
	uint64_t spawn_failed;         /* no avatar: world full (or out of memory) */
	uint64_t despawns;             /* avatars removed on SESSION_DETACH */
	uint64_t moves;                /* MOVE accepted */
	uint64_t refused;              /* MOVE answered with an Error (any reason) */
	uint64_t rate_limited;         /* of which over max_moves in one tick */
	uint64_t no_avatar;            /* MOVE / SNAPSHOT_ACK from a session without avatar */
	uint64_t bad_msgs;             /* payload did not parse */
	uint64_t acks;                 /* SNAPSHOT_ACK that moved a client's baseline */
	uint64_t acks_ignored;         /* old, duplicate or unknown tick (harmless) */
	uint64_t deltas;               /* STATE_DELTA queued to the dataplane */
	uint64_t delta_bytes;          /* their payload bytes */
	uint64_t delta_failed;         /* could not be queued: the client sees a loss */
	uint64_t ticks;
	uint64_t tick_errors;          /* world tick failed (out of memory): retried next tick */
	uint64_t npc_moves;
	uint32_t avatars;              /* attached sessions with an avatar now */
	uint32_t npcs;
};

struct wg_world_svc;

#endif /* WG_SVC_WORLD_T_H */
