/* SPDX-License-Identifier: BSD-3-Clause
 * Idle back-off for poll loops: spin a little, then sleep with exponentially
 * growing naps up to max_us, so an idle appliance leaves the CPUs to others
 * (two-core machines) and wakes within max_us of new work. max_us == 0 is
 * pure busy polling, for benchmarks.
 */
#ifndef WG_BACKOFF_H
#define WG_BACKOFF_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_pause.h>

struct wg_backoff {
	uint32_t idle;       /* consecutive empty polls */
	uint32_t spins;      /* empty polls before the first nap */
	uint32_t max_us;     /* nap ceiling; 0 = never sleep */
	uint32_t cur_us;     /* current nap */
	uint64_t sleeps;     /* naps taken, for stats */
};

static inline void
wg_backoff_init(struct wg_backoff *b, uint32_t spins, uint32_t max_us)
{
	b->idle = 0;
	b->spins = spins;
	b->max_us = max_us;
	b->cur_us = 0;
	b->sleeps = 0;
}

/* Call once per loop iteration with the amount of work it did. */
static inline void
wg_backoff_step(struct wg_backoff *b, unsigned int work)
{
	if (work) {
		b->idle = 0;
		b->cur_us = 0;
		return;
	}
	if (b->max_us == 0)
		return;
	if (++b->idle < b->spins) {
		rte_pause();
		return;
	}
	b->cur_us = b->cur_us ? RTE_MIN(b->cur_us * 2, b->max_us) : 1;
	rte_delay_us_sleep(b->cur_us);
	b->sleeps++;
}

#endif /* WG_BACKOFF_H */
