/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_ENTITY_H
#define WG_ENTITY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "entity-t.h"

/* A store for at most cap entities (cap <= WG_ENT_MAX) with nfields user
 * fields each (<= WG_ENT_MAX_FIELDS). NULL + errno on failure. */
struct wg_entity_store *wg_entity_store_create(uint32_t cap, uint32_t nfields);
void wg_entity_store_destroy(struct wg_entity_store *s);

/* Take a slot (zeroed state, dirty = SPAWN|POS|VEL|YAW|all fields). O(1).
 * -ENOSPC when every slot is live or in limbo. */
int wg_entity_spawn(struct wg_entity_store *s, uint64_t tag, wg_eid_t *out);

/* Release a live entity; its slot is reusable after the next commit. O(1).
 * -ENOENT for a stale or unknown handle. */
int wg_entity_despawn(struct wg_entity_store *s, wg_eid_t eid);

/* End of tick: clear dirty bits and recycle the slots in limbo. O(live). */
void wg_entity_commit(struct wg_entity_store *s);

void wg_entity_store_dump(FILE *f, const struct wg_entity_store *s);

static inline wg_eid_t
wg_entity_eid(const struct wg_entity_store *s, uint32_t slot)
{
	return s->gen[slot] << WG_ENT_IDX_BITS | slot;
}

/* Slot of a live entity, or WG_ENT_NO_SLOT. */
static inline uint32_t
wg_entity_slot(const struct wg_entity_store *s, wg_eid_t eid)
{
	uint32_t slot = eid & WG_ENT_IDX_MASK;

	if (slot >= s->cap || s->dense_pos[slot] == WG_ENT_NO_SLOT ||
	    s->gen[slot] != eid >> WG_ENT_IDX_BITS)
		return WG_ENT_NO_SLOT;
	return slot;
}

static inline void
wg_entity_set_pos(struct wg_entity_store *s, uint32_t slot, float x, float y)
{
	s->x[slot] = x;
	s->y[slot] = y;
	s->dirty[slot] |= WG_ENT_D_POS;
}

static inline void
wg_entity_set_vel(struct wg_entity_store *s, uint32_t slot, float vx, float vy)
{
	s->vx[slot] = vx;
	s->vy[slot] = vy;
	s->dirty[slot] |= WG_ENT_D_VEL;
}

static inline void
wg_entity_set_yaw(struct wg_entity_store *s, uint32_t slot, float yaw)
{
	s->yaw[slot] = yaw;
	s->dirty[slot] |= WG_ENT_D_YAW;
}

/* Field writes that do not change the value leave the dirty bit alone, so
 * a handler may write unconditionally. */
static inline void
wg_entity_set_field(struct wg_entity_store *s, uint32_t slot, uint32_t f, int32_t v)
{
	int32_t *p = &s->field[(size_t)f * s->cap + slot];

	if (*p != v) {
		*p = v;
		s->dirty[slot] |= WG_ENT_D_FIELD(f);
	}
}

static inline int32_t
wg_entity_field(const struct wg_entity_store *s, uint32_t slot, uint32_t f)
{
	return s->field[(size_t)f * s->cap + slot];
}

#endif /* WG_ENTITY_H */
