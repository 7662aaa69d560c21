/* SPDX-License-Identifier: BSD-3-Clause
 * What every secondary (control, logic) does to live beside the dataplane:
 * attach to the registry, claim a slot, beat, answer pings, greet each
 * worker, notice the primary's death, and leave cleanly.
 */
#ifndef WG_INSTANCE_H
#define WG_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "conf-t.h"
#include "registry-t.h"

struct wg_instance;

/* Handler for a non-system message; owns m (free or forward it). */
typedef void (*wg_instance_msg_fn)(struct wg_instance *in, unsigned int worker,
				   struct rte_mbuf *m, void *arg);
/* Called once per loop iteration; returns work done (for back-off). */
typedef unsigned int (*wg_instance_tick_fn)(struct wg_instance *in, uint64_t now_tsc, void *arg);

struct wg_instance {
	const struct wg_conf *conf;
	struct wg_registry *reg;
	struct rte_mempool *msg_pool;
	uint32_t kind;
	uint32_t index;
	int slot;
	uint32_t generation;
	uint32_t pid;
	bool greeted;                 /* InstanceHello sent for this admission */
	uint64_t next_beat_tsc;
	uint64_t primary_seen_hb;
	uint64_t primary_seen_tsc;
	struct rte_ring *rx[WG_REG_MAX_WORKERS];   /* dataplane -> us */
	struct rte_ring *tx[WG_REG_MAX_WORKERS];   /* us -> dataplane */
	uint32_t tx_seq[WG_REG_MAX_WORKERS];
	/* counters */
	uint64_t pings;
	uint64_t msgs_rx;
	uint64_t msgs_bad;
	uint64_t tx_full;
	uint64_t reattaches;
	/* hooks */
	wg_instance_msg_fn on_msg;
	wg_instance_tick_fn on_tick;
	void *arg;
};

/* After rte_eal_init(): find the registry and pools, claim the slot (waiting
 * up to wait_ms for a dead predecessor to be reclaimed). 0 or -errno. */
int wg_instance_attach(struct wg_instance *in, const struct wg_conf *conf,
		       uint32_t kind, uint32_t index, unsigned int wait_ms);

/* Poll loop until *quit becomes true or the dataplane dies. Returns 0 on
 * quit, -ENOTCONN when the primary went away, other -errno on failure. */
int wg_instance_run(struct wg_instance *in, volatile bool *quit);

/* Clean detach: tells the monitor to reclaim our rings now. */
void wg_instance_leave(struct wg_instance *in);

/* Send m (header already filled) to the dataplane worker; frees m and counts
 * tx_full when the ring is full. 0 or -ENOBUFS. */
int wg_instance_send(struct wg_instance *in, unsigned int worker, struct rte_mbuf *m);



/* The whole life of a secondary process behind main(): options
 * (-c CONFIG [-i INDEX] [--check] [--busy-poll]), config, EAL, attach, run,
 * leave. Returns the process exit status; never exits itself. */
struct wg_instance_hooks {
	const char *prog;                 /* "warpgate-logic" */
	uint32_t kind;                    /* WG_KIND_* */
	bool indexed;                     /* takes -i INDEX */
	wg_instance_msg_fn on_msg;
	wg_instance_tick_fn on_tick;
	/* after attach, before the loop: set up what needs the EAL and the
	 * config (in->conf); non-zero ends the process with that status */
	int (*on_start)(struct wg_instance *in, void *arg);
	/* after the loop, before leaving */
	void (*on_stop)(struct wg_instance *in, void *arg);
	void *arg;
};

int wg_instance_main(int argc, char **argv, const struct wg_instance_hooks *hooks);

#endif /* WG_INSTANCE_H */
