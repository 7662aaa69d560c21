/* SPDX-License-Identifier: BSD-3-Clause
 * Entity store: slots with generation-tagged handles, a dense list of live
 * slots for iteration, a free stack, and a limbo list that delays reuse of
 * a despawned slot until the tick that freed it is committed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "entity.h"

struct wg_entity_store *
wg_entity_store_create(uint32_t cap, uint32_t nfields)
{
	struct wg_entity_store *s;
	uint32_t i;

	if (cap == 0 || cap > WG_ENT_MAX || nfields > WG_ENT_MAX_FIELDS) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->cap = cap;
	s->nfields = nfields;
	s->x = calloc(cap, sizeof(float));
	s->y = calloc(cap, sizeof(float));
	s->vx = calloc(cap, sizeof(float));
	s->vy = calloc(cap, sizeof(float));
	s->yaw = calloc(cap, sizeof(float));
	s->field = calloc((size_t)cap * (nfields ? nfields : 1), sizeof(int32_t));
	s->dirty = calloc(cap, sizeof(uint32_t));
	s->gen = calloc(cap, sizeof(uint32_t));
	s->tag = calloc(cap, sizeof(uint64_t));
	s->dense = calloc(cap, sizeof(uint32_t));
	s->dense_pos = malloc((size_t)cap * sizeof(uint32_t));
	s->free_slots = malloc((size_t)cap * sizeof(uint32_t));
	s->limbo = malloc((size_t)cap * sizeof(uint32_t));
	if (!s->x || !s->y || !s->vx || !s->vy || !s->yaw || !s->field || !s->dirty ||
	    !s->gen || !s->tag || !s->dense || !s->dense_pos || !s->free_slots || !s->limbo)
		goto err;
	/* pop order low slot first: small worlds stay in low, dense slots */
	for (i = 0; i < cap; i++) {
		s->dense_pos[i] = WG_ENT_NO_SLOT;
		s->free_slots[i] = cap - 1 - i;
	}
	s->nfree = cap;
	return s;
err:
	wg_entity_store_destroy(s);
	errno = ENOMEM;
	return NULL;
}

void
wg_entity_store_destroy(struct wg_entity_store *s)
{
	if (s == NULL)
		return;
	free(s->x);
	free(s->y);
	free(s->vx);
	free(s->vy);
	free(s->yaw);
	free(s->field);
	free(s->dirty);
	free(s->gen);
	free(s->tag);
	free(s->dense);
	free(s->dense_pos);
	free(s->free_slots);
	free(s->limbo);
	free(s);
}

int
wg_entity_spawn(struct wg_entity_store *s, uint64_t tag, wg_eid_t *out)
{
	uint32_t slot, f;

	if (s->nfree == 0)
		return -ENOSPC;
	slot = s->free_slots[--s->nfree];
	/* generations cycle 1..GEN_MAX: 0 would make handle 0 valid */
	s->gen[slot] = s->gen[slot] % WG_ENT_GEN_MAX + 1;
	s->dense_pos[slot] = s->count;
	s->dense[s->count++] = slot;
	s->x[slot] = s->y[slot] = 0.0f;
	s->vx[slot] = s->vy[slot] = 0.0f;
	s->yaw[slot] = 0.0f;
	for (f = 0; f < s->nfields; f++)
		s->field[(size_t)f * s->cap + slot] = 0;
	s->tag[slot] = tag;
	s->dirty[slot] = WG_ENT_D_SPAWN | WG_ENT_D_POS | WG_ENT_D_VEL | WG_ENT_D_YAW |
			 (WG_ENT_D_FIELDS & (((1u << s->nfields) - 1) << 8));
	*out = wg_entity_eid(s, slot);
	return 0;
}

int
wg_entity_despawn(struct wg_entity_store *s, wg_eid_t eid)
{
	uint32_t slot = wg_entity_slot(s, eid);
	uint32_t pos, last;

	if (slot == WG_ENT_NO_SLOT)
		return -ENOENT;
	pos = s->dense_pos[slot];
	last = s->dense[--s->count];
	s->dense[pos] = last;
	s->dense_pos[last] = pos;
	s->dense_pos[slot] = WG_ENT_NO_SLOT;
	s->dirty[slot] = 0;
	s->tag[slot] = 0;
	s->limbo[s->nlimbo++] = slot;
	return 0;
}

void
wg_entity_commit(struct wg_entity_store *s)
{
	uint32_t i;

	for (i = 0; i < s->count; i++)
		s->dirty[s->dense[i]] = 0;
	for (i = 0; i < s->nlimbo; i++)
		s->free_slots[s->nfree++] = s->limbo[i];
	s->nlimbo = 0;
}

void
wg_entity_store_dump(FILE *f, const struct wg_entity_store *s)
{
	fprintf(f, "entity store: cap %u fields %u live %u free %u limbo %u\n",
		s->cap, s->nfields, s->count, s->nfree, s->nlimbo);
}
