/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_IMPAIR_H
#define WG_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "impair-t.h"

struct rte_mempool;

/* true if c asks for any impairment at all. */
bool wg_impair_active(const struct wg_impair_conf *c);

/* Set up im for conf; seed 0 is allowed (a fixed non-zero state is derived).
 * pool supplies duplicates. Returns 0 or -EINVAL (im or conf NULL, ppm > 1e6,
 * a time above WG_IMPAIR_US_MAX, tsc_hz 0 or above WG_IMPAIR_TSC_HZ_MAX, or
 * dup_ppm set without a pool). im is large (the heap): not on a small stack.
 * Use a different seed per direction and port, or their losses correlate. */
int wg_impair_init(struct wg_impair *im, const struct wg_impair_conf *conf, uint64_t seed,
		   struct rte_mempool *pool, uint64_t tsc_hz);

/* Pass a burst through: in[0..n) enter the stage (dropped, duplicated,
 * delayed, held back), then every held packet due at now_tsc is written to
 * out (up to max, earliest first; what does not fit stays held, due, and
 * leaves first next time). The caller owns what comes out; the stage owns
 * (and eventually frees or releases) the rest. Returns the number written
 * to out. in and out may be the same array, but must not
 * otherwise overlap. Call it every loop iteration, with n = 0 when nothing
 * arrived, or held packets leave late. */
unsigned int wg_impair_burst(struct wg_impair *im, struct rte_mbuf **in, unsigned int n,
			     struct rte_mbuf **out, unsigned int max, uint64_t now_tsc);

/* Free everything held (port shutdown). */
void wg_impair_flush(struct wg_impair *im);

/* Configuration, counters and queue state, for the CLI and debugging. */
void wg_impair_dump(FILE *f, const struct wg_impair *im);

/* Packets held right now. */
static inline uint32_t
wg_impair_held(const struct wg_impair *im)
{
	return im->n;
}

/* TSC at which the earliest held packet is due, UINT64_MAX if none: an
 * idle loop must not sleep past it. */
static inline uint64_t
wg_impair_next_tsc(const struct wg_impair *im)
{
	return im->n != 0 ? im->heap[0].release_tsc : UINT64_MAX;
}

#endif /* WG_IMPAIR_H */
