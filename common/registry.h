/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_REGISTRY_H
#define WG_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "registry-t.h"

/* Lay out a zeroed registry (primary). Returns 0 or -EINVAL. The memory may
 * be a memzone or, in tests, any suitably aligned buffer. */
int wg_registry_init(struct wg_registry *reg, uint32_t n_slots, uint32_t n_workers,
		     uint32_t ring_size, uint64_t tsc_hz, uint32_t heartbeat_ms,
		     uint32_t dead_after_ms, uint32_t primary_pid);

/* Check a registry found in shared memory (secondary). 0, -EPROTO, -EINVAL. */
int wg_registry_check(const struct wg_registry *reg);

/* Secondary: take the slot for (kind, index). Reuses the VACANT/DEAD-by-pid
 * slot with the same identity, else the first FREE one. Returns the slot
 * number, -EEXIST when a live process already holds that identity, -ENOSPC
 * when no slot is free, -EINVAL for bad arguments. */
int wg_registry_claim(struct wg_registry *reg, uint32_t kind, uint32_t index,
		      uint32_t lcore_id, uint32_t pid);

/* Secondary: clean detach; the monitor then reclaims the rings. */
void wg_registry_leave(struct wg_registry *reg, unsigned int slot, uint32_t generation);

/* Slot number of (kind, index) currently ALIVE, or -ENOENT. */
int wg_registry_find(const struct wg_registry *reg, uint32_t kind, uint32_t index);

static inline uint32_t
wg_slot_state(const struct wg_slot *s)
{
	return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
}

static inline void
wg_slot_set_state(struct wg_slot *s, uint32_t state)
{
	__atomic_store_n(&s->state, state, __ATOMIC_RELEASE);
}

static inline bool
wg_slot_alive(const struct wg_slot *s)
{
	return wg_slot_state(s) == WG_SLOT_ALIVE;
}

/* true if pid names a running process (kill(pid, 0) semantics; EPERM counts
 * as alive). */
bool wg_pid_alive(uint32_t pid);

/* Ring names: "wg_dp_i<slot>_<worker>" (dataplane -> instance) and
 * "wg_i<slot>_dp_<worker>" (instance -> dataplane). Returns snprintf's result. */
int wg_ring_name(char *buf, size_t len, bool to_dataplane, unsigned int slot,
		 unsigned int worker);

const char *wg_slot_state_name(uint32_t state);
const char *wg_kind_name(uint32_t kind);
void wg_registry_dump(FILE *f, const struct wg_registry *reg);

#endif /* WG_REGISTRY_H */
