/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_IMPAIR_H
#define WG_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "impair-t.h"

struct rte_mempool;

/* true if c asks for any impairment at all. */
bool wg_impair_active(const struct wg_impair_conf *c);

/* Set up im for conf; seed 0 is allowed (a fixed non-zero state is derived).
 * pool supplies duplicates. Returns 0 or -EINVAL (ppm > 1e6). */
int wg_impair_init(struct wg_impair *im, const struct wg_impair_conf *conf, uint64_t seed,
		   struct rte_mempool *pool, uint64_t tsc_hz);

/* Pass a burst through: in[0..n) enter the stage (dropped, duplicated,
 * delayed, held back), then every held packet due at now_tsc is written to
 * out (up to max, earliest first). The caller owns what comes out; the
 * stage owns (and eventually frees or releases) the rest. Returns the
 * number written to out. in and out may be the same array. */
unsigned int wg_impair_burst(struct wg_impair *im, struct rte_mbuf **in, unsigned int n,
			     struct rte_mbuf **out, unsigned int max, uint64_t now_tsc);

/* Free everything held (port shutdown). */
void wg_impair_flush(struct wg_impair *im);

#endif /* WG_IMPAIR_H */
