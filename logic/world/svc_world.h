/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_SVC_WORLD_H
#define WG_SVC_WORLD_H

#include <stdint.h>
#include <stdio.h>

#include "entity-t.h"
#include "lfw-t.h"
#include "svc_world-t.h"

struct wg_world;

/* The world service on fw: SESSION_ATTACH spawns the player's avatar (and
 * sends it ENTITY_STATE{its EntityEnter}), SESSION_DETACH despawns it;
 * MOVE{MoveInput} is validated (finite, in bounds, speed, max_moves per
 * tick; refused moves change nothing and get an Error); SNAPSHOT_ACK moves
 * the client's sync baseline; every tick runs the NPCs, AOI and one
 * STATE_DELTA per avatar. Tables are sized from conf and fw's
 * max_sessions. Registers with fw; destroy after fw. NULL + errno
 * (EINVAL bad conf, ENOMEM, EEXIST types taken). */
struct wg_world_svc *wg_world_svc_create(struct wg_lfw *fw, const struct wg_world_svc_conf *conf);
void wg_world_svc_destroy(struct wg_world_svc *s);

/* The avatar of an attached session, or 0. */
wg_eid_t wg_world_svc_avatar(const struct wg_world_svc *s, uint64_t session_id);
/* The NPC i < conf.npcs. */
wg_eid_t wg_world_svc_npc(const struct wg_world_svc *s, uint32_t i);
struct wg_world *wg_world_svc_world(struct wg_world_svc *s);
void wg_world_svc_stats(const struct wg_world_svc *s, struct wg_world_svc_stats *st);
void wg_world_svc_dump(FILE *f, const struct wg_world_svc *s);

#endif /* WG_SVC_WORLD_H */
