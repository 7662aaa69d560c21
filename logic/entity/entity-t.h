/* SPDX-License-Identifier: BSD-3-Clause
 * Logic-side entity store: struct-of-arrays so a tick that walks positions
 * touches only the position arrays. No DPDK: it also runs in remote logic
 * hosts and in the tools.
 */
#ifndef WG_ENTITY_T_H
#define WG_ENTITY_T_H

#include <stdint.h>

/* A handle is gen << WG_ENT_IDX_BITS | slot. The generation changes on every
 * despawn, so a stale handle never reaches the slot's next occupant; a
 * generation is never 0, so handle 0 is never valid. */
typedef uint32_t wg_eid_t;

#define WG_ENT_IDX_BITS   20
#define WG_ENT_IDX_MASK   ((1u << WG_ENT_IDX_BITS) - 1)
#define WG_ENT_MAX        (1u << WG_ENT_IDX_BITS)     /* slots per store */
#define WG_ENT_GEN_MAX    ((1u << (32 - WG_ENT_IDX_BITS)) - 1)
#define WG_ENT_MAX_FIELDS 16
#define WG_ENT_NO_SLOT    UINT32_MAX

/* dirty bits, cleared by wg_entity_commit() */
#define WG_ENT_D_POS      0x00000001  /* x or y written */
#define WG_ENT_D_VEL      0x00000002  /* vx or vy written */
#define WG_ENT_D_YAW      0x00000004  /* orientation written */
#define WG_ENT_D_SPAWN    0x00000008  /* spawned since the last commit */
/* 0x00f0 unused */
#define WG_ENT_D_FIELD(i) (0x00000100u << (i))  /* user field i, i < 16 */
#define WG_ENT_D_FIELDS   0x00ffff00
/* 0xff000000 unused */

/* Slot arrays are indexed by slot (handle & WG_ENT_IDX_MASK). field is
 * field-major: field[f * cap + slot], so one field of all entities is one
 * contiguous run. Despawned slots wait in limbo until the next commit so a
 * slot is never reused inside the tick that freed it (AOI and sync still
 * name it in that tick's leave events). */
struct wg_entity_store {
	uint32_t cap;
	uint32_t nfields;
	uint32_t count;          /* live entities */
	uint32_t nfree;
	uint32_t nlimbo;
	uint32_t pad;
	float *x, *y;            /* position, world units */
	float *vx, *vy;          /* velocity, world units per tick */
	float *yaw;              /* orientation, radians */
	int32_t *field;          /* nfields user-defined synced fields */
	uint32_t *dirty;         /* WG_ENT_D_* */
	uint32_t *gen;           /* current (or last) occupant's generation */
	uint64_t *tag;           /* owner's tag, e.g. the client session id */
	uint32_t *dense;         /* live slots, in no particular order */
	uint32_t *dense_pos;     /* slot -> index in dense, WG_ENT_NO_SLOT if free */
	uint32_t *free_slots;    /* stack of reusable slots */
	uint32_t *limbo;         /* despawned since the last commit */
};

#endif /* WG_ENTITY_T_H */
