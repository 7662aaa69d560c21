/* SPDX-License-Identifier: BSD-3-Clause
 * Hierarchical timer wheel, one per lcore: intrusive nodes embedded in the
 * objects they time (TCP connections), O(1) add/cancel/re-arm, expiry work
 * proportional to the timers that fire (plus one cascade per slot turn).
 */
#ifndef WG_TIMER_WHEEL_T_H
#define WG_TIMER_WHEEL_T_H

#include <stdint.h>

#define WG_TW_LEVELS     4
#define WG_TW_SLOT_BITS  8
#define WG_TW_SLOTS      (1u << WG_TW_SLOT_BITS)   /* per level */

/* Embedded in the timed object; zero-initialised = not pending. */
struct wg_tw_node {
	struct wg_tw_node *next;
	struct wg_tw_node *prev;    /* NULL when not pending */
	uint64_t expire;            /* absolute tick */
};

struct wg_tw_slot {
	struct wg_tw_node head;     /* circular list sentinel */
};

struct wg_timer_wheel {
	uint64_t now;               /* last tick processed */
	uint32_t pending;           /* timers armed */
	uint32_t pad;
	struct wg_tw_slot slots[WG_TW_LEVELS][WG_TW_SLOTS];
	struct wg_tw_slot overflow; /* beyond the top level's span */
	/* bit s of occupied[l] set iff slots[l][s] is non-empty: finds the
	 * next slot with work in a few word scans instead of 256 probes */
	uint64_t occupied[WG_TW_LEVELS][WG_TW_SLOTS / 64];
};

#endif /* WG_TIMER_WHEEL_T_H */
