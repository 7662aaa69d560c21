/* SPDX-License-Identifier: BSD-3-Clause
 * Delta state sync, server and client side. Everything here is quantised
 * integers: the world quantises once, the encoder only compares and packs.
 *
 * Model (Quake 3's, with a per-client budget): the server remembers, per
 * client, the last `frames` snapshots it sent, each as "what the client
 * knows if it got this one". Every tick it encodes the difference between
 * the newest snapshot the client acknowledged and the entities the client
 * should see now, highest priority first until the byte budget is spent;
 * what does not fit stays as it was in the baseline and gains priority.
 * Loss never needs a resend: the next delta is against the acked baseline.
 */
#ifndef WG_SYNC_T_H
#define WG_SYNC_T_H

#include <stdint.h>

#define WG_SYNC_MAX_FIELDS 8

/* EntityUpdate.mask bits */
#define WG_SYNC_M_POS      0x00000001  /* dx, dy */
#define WG_SYNC_M_VEL      0x00000002  /* vx, vy */
#define WG_SYNC_M_YAW      0x00000004  /* yaw */
/* 0x00f8 unused */
#define WG_SYNC_M_FIELD(i) (0x00000100u << (i))
#define WG_SYNC_M_FIELDS   0x0000ff00
#define WG_SYNC_M_ALL      0x0000ff07
/* 0xffff0000 unused */

#define WG_SYNC_YAW_ONE_TURN 65536u

/* One entity's synced state, quantised (see proto/wg_sync.proto). */
struct wg_sync_state {
	int32_t x, y;
	int32_t vx, vy;
	uint32_t yaw;
	int32_t field[WG_SYNC_MAX_FIELDS];
};

/* An entity as a client knows it in one snapshot. */
struct wg_sync_entry {
	uint32_t id;
	uint32_t sent_tick;          /* server side: when this value was sent */
	struct wg_sync_state s;
};
_Static_assert(sizeof(struct wg_sync_entry) == 60, "snapshot entries are packed arrays");

/* Encoder input: an entity the client should see now. */
struct wg_sync_item {
	uint32_t id;
	float dist;                  /* to the client's avatar, for priority */
	struct wg_sync_state s;
};

struct wg_sync_conf {
	uint32_t frames;             /* snapshots remembered, >= 2; client's must be >= */
	uint32_t nfields;            /* user fields, <= WG_SYNC_MAX_FIELDS */
	uint32_t budget;             /* bytes per StateDelta, 0 = unlimited */
	uint32_t max_entities;       /* per snapshot (decoder bound), 0 = 65536 */
	float view_radius;           /* distance scale of the priority */
};

struct wg_sync_frame {
	uint32_t tick;               /* 0 = slot unused */
	uint32_t n, cap;
	struct wg_sync_entry *e;     /* ascending id */
};

struct wg_sync_peer_stats {
	uint64_t frames;             /* StateDeltas encoded */
	uint64_t full_frames;        /* of which against the empty baseline */
	uint64_t bytes;
	uint64_t enters, leaves, updates;
	uint64_t deferred;           /* changes left for a later tick by the budget */
	uint64_t acks, acks_ignored;
};

struct wg_sync_decoder_stats {
	uint64_t applied;
	uint64_t stale;              /* not newer than the current snapshot */
	uint64_t no_baseline;        /* baseline not held (too old) */
	uint64_t bad;                /* malformed or inconsistent */
};

struct wg_sync_peer;
struct wg_sync_decoder;

#endif /* WG_SYNC_T_H */
