/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_TIMER_WHEEL_H
#define WG_TIMER_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#include "timer_wheel-t.h"

/* Called for each expired node; the node is already unlinked and may be
 * re-armed or freed inside the callback. */
typedef void (*wg_tw_fn)(struct wg_tw_node *node, void *arg);

/* Set up an empty wheel whose clock starts at now (ticks, e.g. ms). */
void wg_tw_init(struct wg_timer_wheel *tw, uint64_t now);

/* Arm (or re-arm) node to fire at absolute tick expire; an expire <= now
 * fires on the next wg_tw_advance(). O(1). */
void wg_tw_arm(struct wg_timer_wheel *tw, struct wg_tw_node *node, uint64_t expire);

/* Disarm; harmless on a node that is not pending. O(1). */
void wg_tw_cancel(struct wg_timer_wheel *tw, struct wg_tw_node *node);

static inline bool
wg_tw_pending(const struct wg_tw_node *node)
{
	return node->prev != NULL;
}

/* Move the clock to now, firing every timer with expire <= now in expiry
 * order (ties in any order). Returns the number fired. A clock that jumps
 * far ahead costs O(slots crossed), bounded by one turn of each level. */
unsigned int wg_tw_advance(struct wg_timer_wheel *tw, uint64_t now, wg_tw_fn fn, void *arg);

/* Earliest tick at which something may fire, or UINT64_MAX if none; lets an
 * idle loop sleep exactly as long as it can. May be early, never late. */
uint64_t wg_tw_next(const struct wg_timer_wheel *tw);

#endif /* WG_TIMER_WHEEL_H */
