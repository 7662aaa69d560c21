/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_WORLD_H
#define WG_WORLD_H

#include <stdint.h>
#include <stdio.h>

#include "world-t.h"

struct wg_aoi;
struct wg_entity_store;
struct wg_sync_peer;

/* NULL + errno (EINVAL: bad conf). */
struct wg_world *wg_world_create(const struct wg_world_conf *conf);
void wg_world_destroy(struct wg_world *w);

/* Spawn at (x, y) inside the world. session != 0 makes it a client's avatar
 * (it gets sync messages); radius < 0 takes the configured view radius.
 * -EINVAL non-finite, -EDOM outside the world, -ENOSPC full. */
int wg_world_spawn(struct wg_world *w, float x, float y, float yaw, float radius,
		   uint64_t session, wg_eid_t *out);
int wg_world_despawn(struct wg_world *w, wg_eid_t eid);

/* A movement request. A cheater is rejected and stays where it was:
 * -ENOENT unknown/stale entity, -EINVAL non-finite, -EDOM outside the
 * world, -ERANGE further from the position at the start of this tick than
 * max_speed * (ticks since its last accepted move, at most move_slack). */
int wg_world_move(struct wg_world *w, wg_eid_t eid, float x, float y, float yaw);
/* The same from a packed wg.MoveInput (-EBADMSG if it does not parse). */
int wg_world_move_msg(struct wg_world *w, wg_eid_t eid, const uint8_t *buf, size_t len);
int wg_world_set_field(struct wg_world *w, wg_eid_t eid, uint32_t f, int32_t v);
/* A packed wg.SnapshotAck from the client whose avatar is eid. */
int wg_world_ack(struct wg_world *w, wg_eid_t eid, const uint8_t *buf, size_t len);

/* One tick: AOI, velocities from this tick's moves, one StateDelta per
 * client through conf->out, then the store's commit. Returns 0, or -ENOMEM
 * from the AOI before anything changed (retry later). A client whose
 * message fails counts in out_errors and catches up next tick. */
int wg_world_tick(struct wg_world *w);

uint32_t wg_world_tick_no(const struct wg_world *w);
struct wg_entity_store *wg_world_store(struct wg_world *w);
struct wg_aoi *wg_world_aoi(struct wg_world *w);
/* The sync peer of a client avatar (tests, debugging), or NULL. */
struct wg_sync_peer *wg_world_peer(struct wg_world *w, wg_eid_t eid);
void wg_world_stats(const struct wg_world *w, struct wg_world_stats *st);
void wg_world_dump(FILE *f, const struct wg_world *w);

#endif /* WG_WORLD_H */
