/* SPDX-License-Identifier: BSD-3-Clause
 * Liveness of the secondaries, run on the main lcore every WG_MONITOR_MS.
 *
 * A secondary is dead when its pid is gone, or when it stops beating for
 * dead_after_ms; a hung-but-present process is fenced with SIGKILL first, so
 * that nothing can touch its rings while they are reclaimed. Reclaiming waits
 * for every worker to finish the loop iteration in which it might still have
 * seen the slot ALIVE (per-worker epochs), then frees whatever mbufs sit in
 * the slot's rings and resets them. The dataplane itself never stops.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane.h"
#include "log.h"
#include "registry.h"

RTE_LOG_REGISTER(wg_monitor_logtype, wg.monitor, INFO);
#define MON_LOG(l, ...) WG_LOG(wg_monitor_logtype, l, "monitor", __VA_ARGS__)

/* Monitor-private per-slot state; only the main lcore touches it. */
struct slot_watch {
	bool quiescing;
	bool fenced;
	uint64_t epochs[WG_REG_MAX_WORKERS];
	struct rte_ring *rings[2 * WG_REG_MAX_WORKERS];
};

static struct slot_watch watch[WG_REG_MAX_SLOTS];

int
wg_monitor_init(struct wg_dataplane *dp)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int s, w;

	for (s = 0; s < dp->reg->n_slots; s++) {
		memset(&watch[s], 0, sizeof(watch[s]));
		for (w = 0; w < dp->reg->n_workers; w++) {
			wg_ring_name(name, sizeof(name), false, s, w);
			watch[s].rings[2 * w] = rte_ring_lookup(name);
			wg_ring_name(name, sizeof(name), true, s, w);
			watch[s].rings[2 * w + 1] = rte_ring_lookup(name);
			if (watch[s].rings[2 * w] == NULL || watch[s].rings[2 * w + 1] == NULL)
				return -ENOENT;
		}
	}
	return 0;
}

static void
declare_dead(struct wg_registry *reg, unsigned int s, const char *why)
{
	struct wg_slot *sl = &reg->slots[s];
	uint32_t st = wg_slot_state(sl);

	if ((st != WG_SLOT_ALIVE && st != WG_SLOT_ATTACHING) ||
	    !__atomic_compare_exchange_n(&sl->state, &st, WG_SLOT_DEAD, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return;
	MON_LOG(WARNING, "%s %u (pid %u, slot %u) is dead: %s", wg_kind_name(sl->kind),
		sl->index, sl->pid, s, why);
}

static uint64_t
drain_ring(struct rte_ring *r)
{
	void *objs[64];
	uint64_t freed = 0;
	unsigned int n, i;

	while ((n = rte_ring_sc_dequeue_burst(r, objs, RTE_DIM(objs), NULL)) > 0) {
		for (i = 0; i < n; i++)
			rte_pktmbuf_free(objs[i]);
		freed += n;
	}
	/* a producer killed between claiming ring space and publishing it
	 * leaves head != tail; only a reset makes the ring usable again */
	rte_ring_reset(r);
	return freed;
}

/* DEAD -> VACANT once the owner is gone and every worker moved on. */
static void
reclaim(struct wg_dataplane *dp, unsigned int s)
{
	struct wg_registry *reg = dp->reg;
	struct wg_slot *sl = &reg->slots[s];
	struct slot_watch *sw = &watch[s];
	uint64_t freed = 0;
	unsigned int w;

	if (wg_pid_alive(sl->pid)) {
		if (!sw->fenced) {
			MON_LOG(WARNING, "fencing unresponsive pid %u with SIGKILL", sl->pid);
			kill((pid_t)sl->pid, SIGKILL);
			sw->fenced = true;
		}
		return;
	}
	if (!sw->quiescing) {
		for (w = 0; w < reg->n_workers; w++)
			sw->epochs[w] = __atomic_load_n(&reg->workers[w].epoch, __ATOMIC_SEQ_CST);
		sw->quiescing = true;
		return;
	}
	for (w = 0; w < reg->n_workers; w++)
		if (__atomic_load_n(&reg->workers[w].epoch, __ATOMIC_SEQ_CST) == sw->epochs[w])
			return;

	for (w = 0; w < 2 * reg->n_workers; w++)
		freed += drain_ring(sw->rings[w]);
	sl->drained += freed;
	sl->deaths++;
	sw->quiescing = false;
	sw->fenced = false;
	wg_slot_set_state(sl, WG_SLOT_VACANT);
	MON_LOG(INFO, "slot %u reclaimed: %" PRIu64 " message(s) freed; %s %u may re-attach",
		s, freed, wg_kind_name(sl->kind), sl->index);
}

void
wg_monitor_poll(struct wg_dataplane *dp, uint64_t now)
{
	struct wg_registry *reg = dp->reg;
	uint64_t dead_tsc = reg->tsc_hz / 1000 * reg->dead_after_ms;
	unsigned int s;

	__atomic_fetch_add(&reg->primary_heartbeat, 1, __ATOMIC_RELEASE);
	for (s = 0; s < reg->n_slots; s++) {
		struct wg_slot *sl = &reg->slots[s];
		uint64_t hb;

		switch (wg_slot_state(sl)) {
		case WG_SLOT_ATTACHING:
			hb = __atomic_load_n(&sl->heartbeat, __ATOMIC_ACQUIRE);
			if (!wg_pid_alive(sl->pid)) {
				declare_dead(reg, s, "exited while attaching");
			} else if (hb != 0) {
				/* rings are clean: fresh, or reset when the
				 * previous owner was reclaimed */
				sl->seen_heartbeat = hb;
				sl->seen_tsc = now;
				sl->alive_since_tsc = now;
				sl->attaches++;
				wg_slot_set_state(sl, WG_SLOT_ALIVE);
				MON_LOG(INFO, "%s %u (pid %u, generation %u) admitted to slot %u",
					wg_kind_name(sl->kind), sl->index, sl->pid,
					sl->generation, s);
			}
			break;
		case WG_SLOT_ALIVE:
			hb = __atomic_load_n(&sl->heartbeat, __ATOMIC_ACQUIRE);
			if (hb != sl->seen_heartbeat) {
				sl->seen_heartbeat = hb;
				sl->seen_tsc = now;
			} else if (!wg_pid_alive(sl->pid)) {
				declare_dead(reg, s, "process exited");
			} else if (now - sl->seen_tsc > dead_tsc) {
				declare_dead(reg, s, "heartbeat stopped");
			}
			break;
		case WG_SLOT_DEAD:
			reclaim(dp, s);
			break;
		default:
			break;
		}
	}
}
