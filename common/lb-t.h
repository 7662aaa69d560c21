/* SPDX-License-Identifier: BSD-3-Clause
 * Load balancing over a small set of backends (logic instances for control's
 * router, RPC endpoints later): types only.
 */
#ifndef WG_LB_T_H
#define WG_LB_T_H

#include <stdbool.h>
#include <stdint.h>

#define WG_LB_MAX_BACKENDS      1024    /* slots per set, hard ceiling */
#define WG_LB_MAX_WEIGHT        1000    /* per backend */
#define WG_LB_VNODES_DEFAULT    160     /* ring points per unit of weight */
#define WG_LB_BOUND_DEFAULT     1250    /* bounded-load c, in thousandths */

enum wg_lb_strategy {
	WG_LB_RANDOM = 0,          /* weighted random, per-set PRNG */
	WG_LB_RR,                  /* round-robin, weights ignored */
	WG_LB_SWRR,                /* smooth weighted round-robin (nginx) */
	WG_LB_LEAST_OUTSTANDING,   /* fewest in flight per weight, ties RR */
	WG_LB_LEAST_LOADED,        /* lowest reported load per weight, ties RR */
	WG_LB_HASH,                /* consistent hash by key, bounded load */
	WG_LB_N_STRATEGIES,
};

struct wg_lb_conf {
	enum wg_lb_strategy strategy;  /* what wg_lb_pick() does */
	uint16_t max_backends;         /* slots, 1..WG_LB_MAX_BACKENDS */
	uint16_t vnodes;               /* ring points per unit of weight; 0 = default */
	uint32_t ring_max;             /* ring points in all; 0 = max_backends * vnodes * 4 */
	/* Bounded load: a backend takes a key only while its outstanding count
	 * is below ceil(c * (total + 1) * weight / total_weight); c in
	 * thousandths, >= 1000. 0 = WG_LB_BOUND_DEFAULT; UINT32_MAX = plain
	 * consistent hashing without a bound. */
	uint32_t bound_milli;
	uint64_t seed;                 /* random strategy; same seed, same picks */
	bool prefer_zone;              /* only local_zone while any of it is up */
	uint32_t local_zone;
};

/* One backend. The set owns these; callers read them through
 * wg_lb_backend() and change them only through the wg_lb_* calls. */
struct wg_lb_backend {
	uint64_t id;               /* caller's name for it (instance slot, address) */
	uint32_t weight;           /* 1..WG_LB_MAX_WEIGHT */
	uint32_t zone;
	uint32_t outstanding;      /* wg_lb_acquire - wg_lb_release */
	uint32_t load;             /* last reported load (least-loaded) */
	int64_t swrr_current;      /* smooth WRR running weight */
	uint64_t picks;            /* times chosen, for dumps and tests */
	bool used;                 /* slot holds a backend */
	bool alive;
};

#endif /* WG_LB_T_H */
