/* SPDX-License-Identifier: BSD-3-Clause
 * Seeded impairment stage of the port layer (netem in the dataplane): loss,
 * duplication, reordering and delay with jitter, per direction. Off unless
 * configured; deterministic for a given seed and packet sequence.
 */
#ifndef WG_IMPAIR_T_H
#define WG_IMPAIR_T_H

#include <stdint.h>

struct rte_mbuf;

#define WG_IMPAIR_QLEN  4096          /* packets held for delay/reorder */
#define WG_IMPAIR_PPM   1000000u      /* probability 1 in the *_ppm fields */
#define WG_IMPAIR_US_MAX 10000000u    /* bound of delay_us, jitter_us, reorder_us (10 s) */
#define WG_IMPAIR_TSC_HZ_MAX 1000000000000ull /* bound of tsc_hz; keeps us->tsc in 64 bits */

struct wg_impair_conf {
	uint32_t loss_ppm;            /* parts per million dropped */
	uint32_t dup_ppm;             /* duplicated (the copy right after) */
	uint32_t reorder_ppm;         /* held back past the packets that follow */
	uint32_t delay_us;            /* added to every packet */
	uint32_t jitter_us;           /* uniform +- on top of delay (may reorder, as netem) */
	uint32_t reorder_us;          /* extra hold of a reordered packet; 0 = 2 * jitter_us
	                               * + 1000 (overtaken by everything in the next ms) */
};

struct wg_impair_stats {
	uint64_t in;
	uint64_t out;
	uint64_t lost;
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t delayed;
	uint64_t overflow;            /* queue full: dropped, counted apart from loss */
	uint64_t dup_nomem;           /* no mbuf for a duplicate */
	uint64_t flushed;             /* freed by wg_impair_flush */
};

struct wg_impair_held {
	uint64_t release_tsc;
	uint64_t order;               /* tie-break: arrival order */
	struct rte_mbuf *m;
};

struct wg_impair {
	struct wg_impair_conf conf;
	uint64_t rng[2];              /* xorshift128+ state from the seed */
	uint64_t tsc_per_us;          /* tsc_hz / 1e6 ... */
	uint64_t tsc_hz;              /* ... and tsc_hz % 1e6 from here: exact for any rate */
	uint64_t seq;                 /* next order of a held packet */
	struct rte_mempool *pool;     /* for duplicates */
	uint32_t n;                   /* held packets: a binary min-heap on (release_tsc, order) */
	struct wg_impair_stats st;
	struct wg_impair_held heap[WG_IMPAIR_QLEN];
};

#endif /* WG_IMPAIR_T_H */
