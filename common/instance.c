/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

#include "backoff.h"
#include "instance.h"
#include "log.h"
#include "msgring.h"
#include "registry.h"
#include "wg_internal.pb-c.h"

#ifndef WG_VERSION
#define WG_VERSION "dev"
#endif

RTE_LOG_REGISTER(wg_inst_logtype, wg.instance, INFO);
#define INST_LOG(l, ...) WG_LOG(wg_inst_logtype, l, "instance", __VA_ARGS__)

#define INST_BURST 32

static uint64_t
ms_to_tsc(const struct wg_registry *reg, uint64_t ms)
{
	return reg->tsc_hz / 1000 * ms;
}

static int
lookup_rings(struct wg_instance *in)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int w;

	for (w = 0; w < in->reg->n_workers; w++) {
		wg_ring_name(name, sizeof(name), false, (unsigned int)in->slot, w);
		in->rx[w] = rte_ring_lookup(name);
		wg_ring_name(name, sizeof(name), true, (unsigned int)in->slot, w);
		in->tx[w] = rte_ring_lookup(name);
		if (in->rx[w] == NULL || in->tx[w] == NULL)
			return -ENOENT;
	}
	return 0;
}

static int
claim(struct wg_instance *in, unsigned int wait_ms)
{
	uint64_t deadline = rte_get_tsc_cycles() + ms_to_tsc(in->reg, wait_ms);
	int slot;

	for (;;) {
		slot = wg_registry_claim(in->reg, in->kind, in->index, rte_lcore_id(), in->pid);
		if (slot != -EAGAIN || rte_get_tsc_cycles() > deadline)
			break;
		rte_delay_us_sleep(10 * 1000);
	}
	if (slot < 0)
		return slot;
	in->slot = slot;
	in->generation = in->reg->slots[slot].generation;
	in->greeted = false;
	return lookup_rings(in);
}

int
wg_instance_attach(struct wg_instance *in, const struct wg_conf *conf,
		   uint32_t kind, uint32_t index, unsigned int wait_ms)
{
	const struct rte_memzone *mz;
	int ret;

	memset(in, 0, sizeof(*in));
	in->conf = conf;
	in->kind = kind;
	in->index = index;
	in->pid = (uint32_t)getpid();
	in->slot = -1;

	mz = rte_memzone_lookup(WG_REG_MZ_NAME);
	if (mz == NULL) {
		INST_LOG(ERR, "no registry in shared memory: is the dataplane running with file prefix '%s'?",
			 conf->eal.file_prefix);
		return -ENOENT;
	}
	in->reg = mz->addr;
	ret = wg_registry_check(in->reg);
	if (ret < 0) {
		INST_LOG(ERR, "registry version mismatch (%s): rebuild all processes together",
			 strerror(-ret));
		return ret;
	}
	in->msg_pool = rte_mempool_lookup(WG_MSG_POOL_NAME);
	if (in->msg_pool == NULL) {
		INST_LOG(ERR, "message pool %s not found", WG_MSG_POOL_NAME);
		return -ENOENT;
	}
	ret = claim(in, wait_ms);
	if (ret < 0) {
		INST_LOG(ERR, "cannot claim a registry slot for %s %u: %s", wg_kind_name(kind),
			 index, ret == -EEXIST ? "another live process holds it" : strerror(-ret));
		return ret;
	}
	in->primary_seen_hb = __atomic_load_n(&in->reg->primary_heartbeat, __ATOMIC_ACQUIRE);
	in->primary_seen_tsc = rte_get_tsc_cycles();
	INST_LOG(INFO, "%s %u attached: slot %d generation %u lcore %u, %u dataplane workers",
		 wg_kind_name(kind), index, in->slot, in->generation, rte_lcore_id(),
		 in->reg->n_workers);
	return 0;
}

int
wg_instance_send(struct wg_instance *in, unsigned int worker, struct rte_mbuf *m)
{
	if (worker >= in->reg->n_workers ||
	    rte_ring_sp_enqueue(in->tx[worker], m) != 0) {
		rte_pktmbuf_free(m);
		in->tx_full++;
		return -ENOBUFS;
	}
	return 0;
}

static void
greet(struct wg_instance *in)
{
	Wg__InstanceHello hello = WG__INSTANCE_HELLO__INIT;
	unsigned int w;

	hello.kind = (Wg__InstanceKind)in->kind;
	hello.index = in->index;
	hello.pid = in->pid;
	hello.generation = in->generation;
	hello.version = (char *)WG_VERSION;
	for (w = 0; w < in->reg->n_workers; w++) {
		struct rte_mbuf *m = wg_msg_new(in->msg_pool, WG_MSG_HELLO, 0,
						(uint16_t)in->slot, in->tx_seq[w]++,
						&hello.base);

		if (m == NULL) {
			INST_LOG(WARNING, "hello to worker %u: %s", w, rte_strerror(rte_errno));
			return;   /* retried on the next iteration */
		}
		wg_instance_send(in, w, m);
	}
	in->greeted = true;
}

static void
handle_sys(struct wg_instance *in, unsigned int w, struct rte_mbuf *m)
{
	struct wg_msg_hdr *h = wg_msg_hdr(m);
	Wg__HelloAck *ack;

	switch (h->msg_type) {
	case WG_MSG_PING:
		/* answer in the same mbuf: seq and tsc stay the ping's */
		h->msg_type = WG_MSG_PONG;
		h->flags |= WG_MSG_F_REPLY;
		h->src = (uint16_t)in->slot;
		in->pings++;
		wg_instance_send(in, w, m);
		return;
	case WG_MSG_HELLO_ACK:
		ack = wg__hello_ack__unpack(NULL, h->len, wg_msg_payload(m));
		if (ack == NULL || ack->generation != in->generation) {
			in->msgs_bad++;
		} else {
			INST_LOG(INFO, "dataplane worker %u (version %s) acknowledged slot %u",
				 ack->worker, ack->version, ack->slot);
		}
		if (ack != NULL)
			wg__hello_ack__free_unpacked(ack, NULL);
		break;
	default:
		/* session messages (message plane) are the instance's */
		if (in->on_msg != NULL) {
			in->on_msg(in, w, m, in->arg);
			return;
		}
		in->msgs_bad++;
		break;
	}
	rte_pktmbuf_free(m);
}

static unsigned int
poll_rings(struct wg_instance *in)
{
	struct rte_mbuf *ms[INST_BURST];
	unsigned int w, i, n, work = 0;

	for (w = 0; w < in->reg->n_workers; w++) {
		n = rte_ring_sc_dequeue_burst(in->rx[w], (void **)ms, INST_BURST, NULL);
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = ms[i];

			in->msgs_rx++;
			if (wg_msg_mbuf_check(m) < 0) {
				in->msgs_bad++;
				rte_pktmbuf_free(m);
			} else if (wg_msg_hdr(m)->msg_type <= WG_MSG_SYS_LAST) {
				handle_sys(in, w, m);
			} else if (in->on_msg != NULL) {
				in->on_msg(in, w, m, in->arg);
			} else {
				in->msgs_bad++;
				rte_pktmbuf_free(m);
			}
		}
		work += n;
	}
	return work;
}

/* Heartbeat bookkeeping, once per heartbeat_ms. Returns 0, -ENOTCONN when
 * the dataplane is gone, -ESTALE when our slot was taken from us. */
static int
beat(struct wg_instance *in, uint64_t now)
{
	struct wg_registry *reg = in->reg;
	struct wg_slot *s = &reg->slots[in->slot];
	uint64_t hb;
	uint32_t st;

	st = wg_slot_state(s);
	if (s->generation != in->generation ||
	    (st != WG_SLOT_ATTACHING && st != WG_SLOT_ALIVE))
		return -ESTALE;
	__atomic_fetch_add(&s->heartbeat, 1, __ATOMIC_RELEASE);

	hb = __atomic_load_n(&reg->primary_heartbeat, __ATOMIC_ACQUIRE);
	if (hb != in->primary_seen_hb) {
		in->primary_seen_hb = hb;
		in->primary_seen_tsc = now;
	} else if (now - in->primary_seen_tsc > ms_to_tsc(reg, reg->dead_after_ms) &&
		   !wg_pid_alive(reg->primary_pid)) {
		return -ENOTCONN;
	}
	return 0;
}

int
wg_instance_run(struct wg_instance *in, volatile bool *quit)
{
	const struct wg_conf_dataplane *dp = &in->conf->dataplane;
	uint64_t beat_tsc = ms_to_tsc(in->reg, in->reg->heartbeat_ms);
	struct wg_backoff bo;
	int ret;

	/* a secondary never needs a faster nap ceiling than its beat */
	wg_backoff_init(&bo, dp->idle_spins, dp->idle_sleep_max_us);
	while (!*quit) {
		uint64_t now = rte_get_tsc_cycles();
		unsigned int work = 0;

		if (now >= in->next_beat_tsc) {
			in->next_beat_tsc = now + beat_tsc;
			ret = beat(in, now);
			if (ret == -ENOTCONN) {
				INST_LOG(ERR, "dataplane (pid %u) is gone", in->reg->primary_pid);
				return ret;
			}
			if (ret == -ESTALE) {
				/* declared dead while we were stalled: rejoin as
				 * a fresh instance once the monitor reclaimed */
				INST_LOG(WARNING, "slot %d was reclaimed; re-attaching", in->slot);
				ret = claim(in, in->reg->dead_after_ms * 4);
				if (ret < 0)
					return ret;
				in->reattaches++;
				continue;
			}
		}
		if (!wg_slot_alive(&in->reg->slots[in->slot])) {
			wg_backoff_step(&bo, 0);
			continue;
		}
		if (!in->greeted)
			greet(in);
		work += poll_rings(in);
		if (in->on_tick != NULL)
			work += in->on_tick(in, now, in->arg);
		wg_backoff_step(&bo, work);
	}
	return 0;
}

void
wg_instance_leave(struct wg_instance *in)
{
	if (in->reg == NULL || in->slot < 0)
		return;
	wg_registry_leave(in->reg, (unsigned int)in->slot, in->generation);
	INST_LOG(INFO, "%s %u left slot %d", wg_kind_name(in->kind), in->index, in->slot);
	in->slot = -1;
}
