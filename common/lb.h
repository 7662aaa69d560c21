/* SPDX-License-Identifier: BSD-3-Clause
 * Load-balancing strategies behind one interface. A set holds up to
 * max_backends slots; a backend keeps its slot from wg_lb_add() to
 * wg_lb_remove(), so callers may cache slot numbers. Picks never allocate:
 * the consistent-hash ring is rebuilt (sorted) into preallocated memory when
 * membership or weights change, not when a backend goes up or down, so a
 * dead backend's keys fall to the next ring points and come back with it.
 *
 * A backend is eligible when it is alive and, with prefer_zone, in the local
 * zone (unless no local backend is alive). Every pick skips the rest and
 * returns -EHOSTUNREACH when nothing is eligible.
 *
 * Not thread-safe: one set per thread, or a lock around it.
 */
#ifndef WG_LB_H
#define WG_LB_H

#include <stdio.h>

#include "lb-t.h"

struct wg_lb;

/* NULL + errno (EINVAL, ENOMEM). */
struct wg_lb *wg_lb_create(const struct wg_lb_conf *conf);
void wg_lb_destroy(struct wg_lb *lb);

/* Returns the slot (>= 0), -EEXIST (id present), -ENOSPC (no free slot or
 * ring_max exceeded), -EINVAL (weight 0 or above WG_LB_MAX_WEIGHT). New
 * backends start alive with nothing outstanding. */
int wg_lb_add(struct wg_lb *lb, uint64_t id, uint32_t weight, uint32_t zone);
int wg_lb_remove(struct wg_lb *lb, uint64_t id);
/* Slot of id, or -ENOENT. O(max_backends). */
int wg_lb_find(const struct wg_lb *lb, uint64_t id);
int wg_lb_set_alive(struct wg_lb *lb, int slot, bool alive);
int wg_lb_set_weight(struct wg_lb *lb, int slot, uint32_t weight);
int wg_lb_set_load(struct wg_lb *lb, int slot, uint32_t load);
/* Track work given to / returned by a backend (least-outstanding, bounded
 * load). Releasing below zero is -ERANGE. */
int wg_lb_acquire(struct wg_lb *lb, int slot);
int wg_lb_release(struct wg_lb *lb, int slot);
const struct wg_lb_backend *wg_lb_backend(const struct wg_lb *lb, int slot);
unsigned int wg_lb_count(const struct wg_lb *lb);        /* backends in the set */
unsigned int wg_lb_eligible(const struct wg_lb *lb);     /* of those, eligible now */

/* The configured strategy; key is used by WG_LB_HASH only. */
int wg_lb_pick(struct wg_lb *lb, uint64_t key);
/* Each strategy on its own (a set may serve several). */
int wg_lb_pick_random(struct wg_lb *lb);
int wg_lb_pick_rr(struct wg_lb *lb);
int wg_lb_pick_swrr(struct wg_lb *lb);
int wg_lb_pick_least_outstanding(struct wg_lb *lb);
int wg_lb_pick_least_loaded(struct wg_lb *lb);
/* Consistent hash with bounded load: the first eligible backend clockwise
 * from hash(key) whose outstanding count is under its capacity. The pick
 * does not count the key; wg_lb_acquire() the slot when it is assigned. */
int wg_lb_pick_hash(struct wg_lb *lb, uint64_t key);
/* The same walk without the load bound (the key's "home" backend). */
int wg_lb_pick_hash_unbounded(const struct wg_lb *lb, uint64_t key);
/* Capacity of slot under the bound with one more key assigned in total. */
uint32_t wg_lb_hash_capacity(const struct wg_lb *lb, int slot);

/* "random", "round-robin", "weighted", "least-outstanding",
 * "least-loaded", "hash" (config values). -EINVAL if unknown. */
int wg_lb_strategy_parse(const char *s, enum wg_lb_strategy *out);
const char *wg_lb_strategy_name(enum wg_lb_strategy s);

void wg_lb_dump(FILE *f, const struct wg_lb *lb);

#endif /* WG_LB_H */
