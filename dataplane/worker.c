/* SPDX-License-Identifier: BSD-3-Clause
 * The poll-mode loop of one dataplane lcore: rx bursts from its queue on
 * every port, the L2/L3 input path, tx bursts, the message rings to the
 * secondaries, and coarse timers. Run to completion, no locks, no syscalls
 * except the idle nap.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "arp.h"
#include "gateway.h"
#include "impair.h"
#include "dataplane.h"
#include "log.h"
#include "msgring.h"
#include "net.h"
#include "registry.h"
#include "stream.h"
#include "svc.h"
#include "tcp.h"
#include "wg_internal.pb-c.h"

#ifndef WG_VERSION
#define WG_VERSION "dev"
#endif

RTE_LOG_REGISTER(wg_worker_logtype, wg.worker, INFO);
#define WORKER_LOG(l, ...) WG_LOG(wg_worker_logtype, l, "worker", __VA_ARGS__)

#define ARP_TIMER_MS   100
#define MSG_BURST      32

static volatile bool *worker_quit;

void
wg_worker_set_quit(volatile bool *quit)
{
	worker_quit = quit;
}

static void tcp_tx(void *arg, unsigned int port, struct rte_mbuf *m);

static int
worker_tcp_init(struct wg_dataplane *dp, struct wg_worker *w)
{
	const struct wg_conf *cf = dp->conf;
	struct wg_tcp_conf tc;
	char name[16];
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);
	int ret;

	wg_tcp_conf_defaults(&tc);
	tc.max_conns = cf->tcp.max_conns;
	tc.hash_buckets = (uint32_t)rte_align32pow2(cf->tcp.max_conns);
	tc.syn_backlog = cf->tcp.syn_backlog;
	tc.max_timewait = cf->tcp.max_timewait;
	tc.rcv_buf = cf->tcp.rcv_buf;
	tc.snd_buf = cf->tcp.snd_buf;
	tc.ooo_max = cf->tcp.ooo_max;
	tc.rto_min_ms = cf->tcp.rto_min_ms;
	tc.rto_max_ms = cf->tcp.rto_max_ms;
	tc.delack_ms = cf->tcp.delack_ms;
	tc.timewait_ms = cf->tcp.timewait_ms;
	tc.keepalive_ms = cf->tcp.keepalive_ms;
	tc.keepalive_intvl_ms = cf->tcp.keepalive_intvl_ms;
	tc.keepalive_probes = cf->tcp.keepalive_probes;
	/* the smallest MTU bounds our MSS on every port */
	for (unsigned int p = 0; p < dp->n_ports; p++)
		tc.mss = (uint16_t)RTE_MIN(tc.mss, cf->ports[p].mtu - 40u);
	w->tcp = rte_zmalloc_socket("wg_tcp", sizeof(*w->tcp), RTE_CACHE_LINE_SIZE, socket);
	if (w->tcp == NULL)
		return -ENOMEM;
	snprintf(name, sizeof(name), "w%u", w->idx);
	w->ifaces_flat = rte_zmalloc_socket("wg_ifaces", sizeof(struct wg_iface) * WG_CONF_MAX_PORTS,
					    RTE_CACHE_LINE_SIZE, socket);
	if (w->ifaces_flat == NULL)
		return -ENOMEM;
	for (unsigned int p = 0; p < dp->n_ports; p++)
		w->ifaces_flat[p] = dp->ports[p].iface;
	ret = wg_tcp_ctx_init(w->tcp, &tc, name, socket, w->ifaces_flat, dp->n_ports,
			      dp->pkt_pool, tcp_tx, w);
	if (ret < 0)
		return ret;
	return wg_svc_echo_listen(w->tcp, cf->tcp.echo_port, cf->tcp.discard_port);
}

/* TLS / WebSocket / framed listeners on top of this lcore's TCP. */
static int
worker_streams_init(struct wg_dataplane *dp, struct wg_worker *w)
{
	const struct wg_conf *cf = dp->conf;
	char name[16];
	struct wg_stream_params sp = {
		.name = name,
		.socket = (int)rte_lcore_to_socket_id(w->lcore_id),
		.worker = w->idx,
		.max_streams = cf->tcp.max_conns,
		.max_upgrades = RTE_MIN(cf->tcp.max_conns, 4096u),
		.record_size = cf->tls.record_size,
		.upgrade_timeout_ms = cf->ws.upgrade_timeout_ms,
		.listeners = dp->listeners,
		.n_listeners = dp->n_listeners,
		.ws_conf = &dp->ws_conf,
		.pkt_pool = dp->pkt_pool,
		.tls_engine = dp->tls_engine,
	};

	if (dp->n_listeners == 0)
		return 0;
	if (dp->gw_conf != NULL) {
		struct wg_gw_params gp = {
			.name = name,
			.socket = sp.socket,
			.worker = w->idx,
			.conf = dp->gw_conf,
			.msg_pool = dp->msg_pool,
			.reg = dp->reg,
			.to_inst = w->to_inst,
		};

		snprintf(name, sizeof(name), "gw%u", w->idx);
		w->gw = wg_gw_create(&gp);
		if (w->gw == NULL)
			return -rte_errno;
		sp.gateway = w->gw;
	}
	snprintf(name, sizeof(name), "s%u", w->idx);
	w->streams = wg_stream_lctx_create(&sp, w->tcp);
	if (w->streams == NULL)
		return -rte_errno;
	if (w->idx == 0)
		WORKER_LOG(INFO, "memory per idle open stream above TCP: %zu B, %zu B with TLS",
			   wg_stream_idle_bytes(w->streams, false),
			   wg_stream_idle_bytes(w->streams, true));
	return 0;
}

static struct wg_impair *
impair_new(const struct wg_conf_impair_dir *d, uint64_t seed, struct rte_mempool *pool,
	   int socket, int *err)
{
	struct wg_impair_conf ic = {
		.loss_ppm = d->loss_ppm, .dup_ppm = d->dup_ppm, .reorder_ppm = d->reorder_ppm,
		.delay_us = d->delay_us, .jitter_us = d->jitter_us, .reorder_us = d->reorder_us,
	};
	struct wg_impair *im;

	*err = 0;
	if (!wg_impair_active(&ic))
		return NULL;
	im = rte_zmalloc_socket("wg_impair", sizeof(*im), RTE_CACHE_LINE_SIZE, socket);
	if (im == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = wg_impair_init(im, &ic, seed, pool, rte_get_tsc_hz());
	return im;
}

/* The seeded netem of the port layer, per port and direction, each with a
 * seed of its own so their losses do not correlate. */
static int
worker_impair_init(struct wg_dataplane *dp, struct wg_worker *w)
{
	int socket = (int)rte_lcore_to_socket_id(w->lcore_id);
	unsigned int p;
	int err;

	for (p = 0; p < dp->n_ports; p++) {
		const struct wg_conf_impair *ci = &dp->conf->ports[p].impair;
		uint64_t base = ci->seed * 0x9e3779b97f4a7c15ull + ((uint64_t)p << 33) + w->idx;

		w->imp_rx[p] = impair_new(&ci->rx, base * 2 + 1, dp->pkt_pool, socket, &err);
		if (err < 0)
			return err;
		w->imp_tx[p] = impair_new(&ci->tx, base * 2 + 2, dp->pkt_pool, socket, &err);
		if (err < 0)
			return err;
		if (w->imp_rx[p] != NULL || w->imp_tx[p] != NULL)
			WORKER_LOG(WARNING, "port %u: impairment stage active (chaos testing)", p);
	}
	return 0;
}

int
wg_worker_init(struct wg_dataplane *dp, struct wg_worker *w, unsigned int idx,
	       unsigned int lcore_id)
{
	const struct wg_conf_dataplane *dc = &dp->conf->dataplane;
	char name[RTE_RING_NAMESIZE];
	size_t arp_sz = wg_arp_cache_memsize(dc->arp_entries);
	unsigned int p, s;
	int ret;

	w->dp = dp;
	w->idx = idx;
	w->lcore_id = lcore_id;
	w->queue_id = (uint16_t)idx;
	w->burst = (uint16_t)RTE_MIN(dc->burst, WG_MAX_BURST);
	w->n_ports = dp->n_ports;
	w->ports = dp->ports;
	w->pkt_pool = dp->pkt_pool;
	w->msg_pool = dp->msg_pool;
	w->reg = dp->reg;
	w->stats = &dp->stats->w[idx];
	w->tsc_per_ms = rte_get_tsc_hz() / 1000;
	wg_backoff_init(&w->backoff, dc->idle_spins, dc->idle_sleep_max_us);

	for (p = 0; p < w->n_ports; p++) {
		void *mem = rte_zmalloc_socket("wg_arp", arp_sz, RTE_CACHE_LINE_SIZE,
					       (int)rte_lcore_to_socket_id(lcore_id));

		if (mem == NULL)
			return -ENOMEM;
		ret = wg_arp_cache_init(&w->arp[p], mem, dc->arp_entries,
					dc->arp_reachable_ms, dc->arp_retry_ms,
					dc->arp_max_probes);
		if (ret < 0)
			return ret;
	}
	ret = worker_tcp_init(dp, w);
	if (ret < 0)
		return ret;
	ret = worker_streams_init(dp, w);
	if (ret < 0)
		return ret;
	ret = worker_impair_init(dp, w);
	if (ret < 0)
		return ret;
	snprintf(name, sizeof(name), "wg_ctl_%u", idx);
	w->ctl = rte_ring_create(name, 64, (int)rte_lcore_to_socket_id(lcore_id), RING_F_SC_DEQ);
	if (w->ctl == NULL)
		return -rte_errno;
	for (s = 0; s < dp->reg->n_slots; s++) {
		wg_ring_name(name, sizeof(name), false, s, idx);
		w->to_inst[s] = rte_ring_lookup(name);
		wg_ring_name(name, sizeof(name), true, s, idx);
		w->from_inst[s] = rte_ring_lookup(name);
		if (w->to_inst[s] == NULL || w->from_inst[s] == NULL)
			return -ENOENT;
	}
	return 0;
}

static inline uint32_t
rx_hints(const struct rte_mbuf *m)
{
	uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	uint32_t f = 0;

	if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		f |= WG_RX_IP_CSUM_GOOD;
	else if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		f |= WG_RX_IP_CSUM_BAD;
	if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		f |= WG_RX_L4_CSUM_GOOD;
	else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		f |= WG_RX_L4_CSUM_BAD;
	return f;
}

static inline void
tx_flush(struct wg_worker *w, unsigned int p)
{
	struct wg_txq *q = &w->txq[p];
	uint16_t sent, i;

	/* every pass, so held packets leave on time */
	if (unlikely(w->imp_tx[p] != NULL))
		q->n = (uint16_t)wg_impair_burst(w->imp_tx[p], q->pkts, q->n, q->pkts,
						 WG_MAX_BURST, rte_get_tsc_cycles());
	if (q->n == 0)
		return;
	sent = rte_eth_tx_burst(w->ports[p].port_id, w->queue_id, q->pkts, q->n);
	for (i = sent; i < q->n; i++) {
		w->stats->net.tx_full++;
		rte_pktmbuf_free(q->pkts[i]);
	}
	for (i = 0; i < sent; i++) {
		w->stats->net.tx_pkts++;
		w->stats->net.tx_bytes += rte_pktmbuf_pkt_len(q->pkts[i]);
	}
	q->n = 0;
}

static inline void
tx_queue(struct wg_worker *w, unsigned int p, struct rte_mbuf *m)
{
	struct wg_txq *q = &w->txq[p];

	q->pkts[q->n++] = m;
	if (q->n == w->burst)
		tx_flush(w, p);
}

static unsigned int
rx_port(struct wg_worker *w, unsigned int p, uint64_t now_ms)
{
	struct rte_mbuf *pkts[WG_MAX_BURST];
	const struct wg_iface *ifc = &w->ports[p].iface;
	struct wg_net_stats *st = &w->stats->net;
	uint16_t n, i;

	n = rte_eth_rx_burst(w->ports[p].port_id, w->queue_id, pkts, w->burst);
	if (unlikely(w->imp_rx[p] != NULL))
		n = (uint16_t)wg_impair_burst(w->imp_rx[p], pkts, n, pkts, w->burst,
					      rte_get_tsc_cycles());
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct wg_pkt_info info;
		uint16_t len = rte_pktmbuf_data_len(m);
		enum wg_net_verdict v;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		if (unlikely(m->nb_segs != 1)) {
			st->rx_pkts++;
			st->rx_multiseg++;
			rte_pktmbuf_free(m);
			continue;
		}
		v = wg_net_input(ifc, &w->arp[p], st, rte_pktmbuf_mtod(m, uint8_t *), &len,
				 rx_hints(m), now_ms, &info);
		switch (v) {
		case WG_NET_TX:
			rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - len));
			m->ol_flags = 0;
			tx_queue(w, p, m);
			break;
		case WG_NET_TCP:
			wg_tcp_input(w->tcp, p, m, &info, rx_hints(m));
			break;
		case WG_NET_UDP:
			/* no UDP service yet: silence, as from a filtered port */
			st->l4_no_handler++;
			rte_pktmbuf_free(m);
			break;
		default:
			rte_pktmbuf_free(m);
			break;
		}
	}
	return n;
}

static void
tcp_tx(void *arg, unsigned int port, struct rte_mbuf *m)
{
	tx_queue(arg, port, m);
}

struct probe_ctx {
	struct wg_worker *w;
	unsigned int port;
};

static void
arp_probe(void *arg, uint32_t ip, const uint8_t *mac)
{
	struct probe_ctx *pc = arg;
	struct wg_worker *w = pc->w;
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pkt_pool);
	uint8_t *buf;
	uint16_t len;

	if (m == NULL) {
		w->stats->pkt_pool_empty++;
		return;
	}
	buf = (uint8_t *)rte_pktmbuf_append(m, 60);
	len = buf ? wg_arp_build_request(&w->ports[pc->port].iface, ip, mac, buf, 60) : 0;
	if (len == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	w->stats->net.arp_tx_request++;
	tx_queue(w, pc->port, m);
}

static void
arp_announce(struct wg_worker *w)
{
	unsigned int p;

	for (p = 0; p < w->n_ports; p++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->pkt_pool);
		uint8_t *buf = m ? (uint8_t *)rte_pktmbuf_append(m, 60) : NULL;

		if (buf == NULL || wg_arp_build_announce(&w->ports[p].iface, buf, 60) == 0) {
			rte_pktmbuf_free(m);
			continue;
		}
		tx_queue(w, p, m);
		tx_flush(w, p);
	}
}

/* Send m to instance slot s; counted, never blocks. */
static void
msg_send(struct wg_worker *w, unsigned int s, struct rte_mbuf *m)
{
	struct wg_slot_wstats *ws = &w->reg->wstats[s][w->idx];

	if (rte_ring_sp_enqueue(w->to_inst[s], m) != 0) {
		ws->tx_full++;
		rte_pktmbuf_free(m);
		return;
	}
	ws->tx_msgs++;
	w->stats->msgs_tx++;
}

static void
hello_ack(struct wg_worker *w, unsigned int s, const struct wg_msg_hdr *h,
	  const uint8_t *payload)
{
	struct wg_slot_wstats *ws = &w->reg->wstats[s][w->idx];
	const struct wg_slot *slot = &w->reg->slots[s];
	Wg__HelloAck ack = WG__HELLO_ACK__INIT;
	Wg__InstanceHello *hello;
	struct rte_mbuf *m;

	hello = wg__instance_hello__unpack(NULL, h->len, payload);
	if (hello == NULL || hello->generation != slot->generation ||
	    (uint32_t)hello->kind != slot->kind || hello->index != slot->index) {
		ws->rx_bad++;
		goto out;
	}
	ws->hello_generation = hello->generation;
	ack.slot = s;
	ack.worker = w->idx;
	ack.generation = hello->generation;
	ack.version = (char *)WG_VERSION;
	m = wg_msg_new(w->msg_pool, WG_MSG_HELLO_ACK, 0, (uint16_t)(WG_MSG_SRC_DP | w->idx),
		       h->seq, &ack.base);
	if (m != NULL)
		msg_send(w, s, m);
out:
	if (hello != NULL)
		wg__instance_hello__free_unpacked(hello, NULL);
}

static unsigned int
poll_instances(struct wg_worker *w, uint64_t now)
{
	struct rte_mbuf *ms[MSG_BURST];
	unsigned int s, i, n, work = 0;

	for (s = 0; s < w->reg->n_slots; s++) {
		struct wg_slot_wstats *ws;

		if (!wg_slot_alive(&w->reg->slots[s]))
			continue;
		ws = &w->reg->wstats[s][w->idx];
		n = rte_ring_sc_dequeue_burst(w->from_inst[s], (void **)ms, MSG_BURST, NULL);
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = ms[i];
			struct wg_msg_hdr *h;

			ws->rx_msgs++;
			w->stats->msgs_rx++;
			if (wg_msg_mbuf_check(m) < 0) {
				ws->rx_bad++;
				rte_pktmbuf_free(m);
				continue;
			}
			h = wg_msg_hdr(m);
			switch (h->msg_type) {
			case WG_MSG_HELLO:
				hello_ack(w, s, h, wg_msg_payload(m));
				break;
			case WG_MSG_PONG:
				ws->pongs++;
				ws->rtt_last_tsc = now - h->tsc;
				break;
			default:
				if (w->gw != NULL) {
					wg_gw_ring_msg(w->gw, s, m);
					continue;
				}
				w->stats->msgs_no_handler++;
				break;
			}
			rte_pktmbuf_free(m);
		}
		work += n;
	}
	return work;
}

static void
ping_instances(struct wg_worker *w)
{
	unsigned int s;

	for (s = 0; s < w->reg->n_slots; s++) {
		struct wg_slot_wstats *ws = &w->reg->wstats[s][w->idx];
		struct rte_mbuf *m;

		if (!wg_slot_alive(&w->reg->slots[s]))
			continue;
		m = wg_msg_new(w->msg_pool, WG_MSG_PING, 0, (uint16_t)(WG_MSG_SRC_DP | w->idx),
			       ++ws->ping_seq, NULL);
		if (m == NULL)
			continue;
		ws->last_ping_tsc = wg_msg_hdr(m)->tsc;
		msg_send(w, s, m);
	}
}

/* Operator commands and the client self-test; cheap when idle. */
static unsigned int
control(struct wg_worker *w, uint64_t now_ms)
{
	struct probe_ctx pc = { .w = w, .port = 0 };
	struct wg_ctl_cmd *cmd = NULL;
	unsigned int work = 0;
	int ret;

	if (rte_ring_sc_dequeue(w->ctl, (void **)&cmd) == 0) {
		if (cmd->type == WG_CTL_CLIENT_TEST) {
			ret = wg_client_test_start(&w->client, w->tcp, cmd->port, cmd->dst_ip,
						   cmd->dst_port, cmd->conns, cmd->bytes,
						   cmd->seed);
			WORKER_LOG(INFO, "client test: %u connection(s), %" PRIu64 " bytes each: %s",
				   cmd->conns, cmd->bytes, ret ? strerror(-ret) : "started");
		}
		rte_free(cmd);
		work++;
	}
	if (w->client.running) {
		pc.port = w->client.port;
		work += wg_client_test_poll(&w->client, &w->arp[pc.port], now_ms, arp_probe, &pc);
	}
	return work;
}

static void
timers(struct wg_worker *w, uint64_t now, uint64_t now_ms)
{
	unsigned int p;

	if (now >= w->next_arp_tsc) {
		w->next_arp_tsc = now + ARP_TIMER_MS * w->tsc_per_ms;
		for (p = 0; p < w->n_ports; p++) {
			struct probe_ctx pc = { .w = w, .port = p };

			wg_arp_age(&w->arp[p], now_ms, arp_probe, &pc);
		}
	}
	if (now >= w->next_ping_tsc) {
		w->next_ping_tsc = now + w->reg->heartbeat_ms * w->tsc_per_ms;
		ping_instances(w);
	}
}

int
wg_worker_main(void *arg)
{
	struct wg_worker *w = arg;
	struct wg_worker_epoch *ep = &w->reg->workers[w->idx];
	uint64_t next_monitor = 0;
	unsigned int p;

	WORKER_LOG(INFO, "worker %u on lcore %u: queue %u on %u port(s), burst %u, idle nap <= %u us",
		   w->idx, w->lcore_id, w->queue_id, w->n_ports, w->burst, w->backoff.max_us);
	arp_announce(w);

	while (!*worker_quit) {
		uint64_t now = rte_get_tsc_cycles();
		uint64_t now_ms = now / w->tsc_per_ms;
		unsigned int work = 0;

		for (p = 0; p < w->n_ports; p++)
			work += rx_port(w, p, now_ms);
		work += poll_instances(w, now);
		if (w->gw != NULL)
			work += wg_gw_tick(w->gw, now_ms);
		if (w->streams != NULL)
			work += wg_stream_poll(w->streams);
		work += wg_tcp_timers(w->tcp, now_ms);
		work += control(w, now_ms);
		timers(w, now, now_ms);
		if (w->run_monitor && now >= next_monitor) {
			/* single-lcore mode: the main lcore is also the worker */
			next_monitor = now + WG_MONITOR_MS * w->tsc_per_ms;
			wg_monitor_poll(w->dp, now);
		}
		for (p = 0; p < w->n_ports; p++)
			tx_flush(w, p);
		w->stats->loops++;
		/* end of iteration: nothing from this pass is in flight */
		__atomic_store_n(&ep->epoch, ep->epoch + 1, __ATOMIC_SEQ_CST);
		wg_backoff_step(&w->backoff, work);
		w->stats->idle_sleeps = w->backoff.sleeps;
	}
	WORKER_LOG(INFO, "worker %u stopping", w->idx);
	return 0;
}
