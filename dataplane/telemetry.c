/* SPDX-License-Identifier: BSD-3-Clause
 * Operator view over DPDK telemetry (/var/run/dpdk/<prefix>/dpdk_telemetry.v2):
 *   /wg/info /wg/ports /wg/stats[,worker] /wg/instances /wg/arp[,port]
 * Callbacks run on the telemetry thread and only read: counters are 64-bit
 * single-writer values, ARP entries come from the seqcount snapshot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "arp.h"
#include "dataplane.h"
#include "gateway.h"
#include "net.h"
#include "registry.h"
#include "stream.h"
#include "tcp.h"
#include "tls_handshake.h"
#include "tls_record.h"

#ifndef WG_VERSION
#define WG_VERSION "dev"
#endif

#define MAX_COUNTERS 64

static struct wg_dataplane *tdp;

static void
ip_str(uint32_t be, char *buf, size_t len)
{
	const uint8_t *b = (const uint8_t *)&be;

	snprintf(buf, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

static void
mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int
tel_info(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", WG_VERSION);
	rte_tel_data_add_dict_int(d, "pid", (int)getpid());
	rte_tel_data_add_dict_string(d, "file_prefix", tdp->conf->eal.file_prefix);
	rte_tel_data_add_dict_string(d, "config", tdp->conf->path);
	rte_tel_data_add_dict_u64(d, "uptime_ms",
				  (rte_get_tsc_cycles() - tdp->start_tsc) / (rte_get_tsc_hz() / 1000));
	rte_tel_data_add_dict_int(d, "workers", (int)tdp->n_workers);
	rte_tel_data_add_dict_int(d, "ports", (int)tdp->n_ports);
	rte_tel_data_add_dict_int(d, "pkt_mbufs_in_use", (int)rte_mempool_in_use_count(tdp->pkt_pool));
	rte_tel_data_add_dict_int(d, "msg_mbufs_in_use", (int)rte_mempool_in_use_count(tdp->msg_pool));
	return 0;
}

static int
tel_ports(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	unsigned int i;

	rte_tel_data_start_dict(d);
	for (i = 0; i < tdp->n_ports; i++) {
		const struct wg_port *p = &tdp->ports[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		char buf[32];

		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_int(c, "port_id", p->port_id);
		rte_tel_data_add_dict_string(c, "device", p->dev_name);
		rte_tel_data_add_dict_string(c, "driver", p->driver);
		mac_str(p->iface.mac, buf, sizeof(buf));
		rte_tel_data_add_dict_string(c, "mac", buf);
		ip_str(p->iface.ipv4, buf, sizeof(buf));
		rte_tel_data_add_dict_string(c, "ipv4", buf);
		rte_tel_data_add_dict_int(c, "mtu", p->iface.mtu);
		rte_tel_data_add_dict_int(c, "queues", p->n_queues);
		rte_tel_data_add_dict_u64(c, "offload_flags", p->iface.flags);
		rte_tel_data_add_dict_container(d, p->name, c, 0);
	}
	return 0;
}

/* Sum of every worker's counters, or one worker's with params = index. */
static int
tel_stats(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct wg_worker_stats sum;
	const char *names[MAX_COUNTERS];
	uint64_t vals[MAX_COUNTERS];
	unsigned int i, n, first = 0, last = tdp->n_workers;

	if (params != NULL && *params != '\0') {
		char *end;
		unsigned long w = strtoul(params, &end, 10);

		if (*end != '\0' || w >= tdp->n_workers)
			return -EINVAL;
		first = (unsigned int)w;
		last = first + 1;
	}
	memset(&sum, 0, sizeof(sum));
	for (i = first; i < last; i++) {
		const struct wg_worker_stats *ws = &tdp->stats->w[i];

		wg_net_stats_add(&sum.net, &ws->net);
		sum.loops += ws->loops;
		sum.idle_sleeps += ws->idle_sleeps;
		sum.msgs_tx += ws->msgs_tx;
		sum.msgs_rx += ws->msgs_rx;
		sum.msgs_no_handler += ws->msgs_no_handler;
		sum.pkt_pool_empty += ws->pkt_pool_empty;
	}
	rte_tel_data_start_dict(d);
	n = wg_net_stats_list(&sum.net, names, vals, MAX_COUNTERS);
	for (i = 0; i < n && i < MAX_COUNTERS; i++)
		rte_tel_data_add_dict_u64(d, names[i], vals[i]);
	rte_tel_data_add_dict_u64(d, "loops", sum.loops);
	rte_tel_data_add_dict_u64(d, "idle_sleeps", sum.idle_sleeps);
	rte_tel_data_add_dict_u64(d, "msgs_tx", sum.msgs_tx);
	rte_tel_data_add_dict_u64(d, "msgs_rx", sum.msgs_rx);
	rte_tel_data_add_dict_u64(d, "msgs_no_handler", sum.msgs_no_handler);
	rte_tel_data_add_dict_u64(d, "pkt_pool_empty", sum.pkt_pool_empty);
	return 0;
}

static int
tel_instances(const char *cmd __rte_unused, const char *params __rte_unused,
	      struct rte_tel_data *d)
{
	const struct wg_registry *reg = tdp->reg;
	uint64_t now = rte_get_tsc_cycles(), us = rte_get_tsc_hz() / 1000000;
	unsigned int s, w;

	rte_tel_data_start_dict(d);
	for (s = 0; s < reg->n_slots; s++) {
		const struct wg_slot *sl = &reg->slots[s];
		uint32_t st = wg_slot_state(sl);
		uint64_t tx = 0, rx = 0, full = 0, bad = 0, pongs = 0, rtt = 0;
		uint32_t hello_gen = 0;
		struct rte_tel_data *c;
		char key[16];

		if (st == WG_SLOT_FREE)
			continue;
		for (w = 0; w < reg->n_workers; w++) {
			const struct wg_slot_wstats *ws = &reg->wstats[s][w];

			tx += ws->tx_msgs;
			rx += ws->rx_msgs;
			full += ws->tx_full;
			bad += ws->rx_bad;
			pongs += ws->pongs;
			rtt = RTE_MAX(rtt, ws->rtt_last_tsc);
			hello_gen = ws->hello_generation;
		}
		c = rte_tel_data_alloc();
		if (c == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "kind", wg_kind_name(sl->kind));
		rte_tel_data_add_dict_int(c, "index", (int)sl->index);
		rte_tel_data_add_dict_string(c, "state", wg_slot_state_name(st));
		rte_tel_data_add_dict_int(c, "pid", (int)sl->pid);
		rte_tel_data_add_dict_int(c, "generation", (int)sl->generation);
		rte_tel_data_add_dict_int(c, "hello_generation", (int)hello_gen);
		rte_tel_data_add_dict_int(c, "lcore", (int)sl->lcore_id);
		rte_tel_data_add_dict_u64(c, "heartbeat", sl->heartbeat);
		rte_tel_data_add_dict_u64(c, "heartbeat_age_ms",
					  st == WG_SLOT_ALIVE ? (now - sl->seen_tsc) / (us * 1000) : 0);
		rte_tel_data_add_dict_int(c, "attaches", (int)sl->attaches);
		rte_tel_data_add_dict_int(c, "deaths", (int)sl->deaths);
		rte_tel_data_add_dict_u64(c, "drained", sl->drained);
		rte_tel_data_add_dict_u64(c, "msgs_tx", tx);
		rte_tel_data_add_dict_u64(c, "msgs_rx", rx);
		rte_tel_data_add_dict_u64(c, "tx_full", full);
		rte_tel_data_add_dict_u64(c, "rx_bad", bad);
		rte_tel_data_add_dict_u64(c, "pongs", pongs);
		rte_tel_data_add_dict_u64(c, "ring_rtt_us", rtt / us);
		snprintf(key, sizeof(key), "%u", s);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	return 0;
}

/* Stream, TLS record and TLS handshake counters summed over workers. The
 * worker writes them without atomics: a reading may be a few counts behind
 * (each field is a single aligned store). */
static int
tel_gateway(const char *cmd __rte_unused, const char *params __rte_unused,
	    struct rte_tel_data *d)
{
	const char *names[MAX_COUNTERS];
	uint64_t vals[MAX_COUNTERS], sum[MAX_COUNTERS] = {0};
	unsigned int i, w, n = 0;

	rte_tel_data_start_dict(d);
	for (w = 0; w < tdp->n_workers; w++) {
		if (tdp->workers[w].gw == NULL)
			continue;
		n = wg_gw_stats_list(wg_gw_stats(tdp->workers[w].gw), names, vals, MAX_COUNTERS);
		for (i = 0; i < n; i++)
			sum[i] += vals[i];
	}
	for (i = 0; i < n; i++)
		rte_tel_data_add_dict_u64(d, names[i], sum[i]);
	return 0;
}

static int
tel_streams(const char *cmd __rte_unused, const char *params __rte_unused,
	    struct rte_tel_data *d)
{
	const char *names[MAX_COUNTERS];
	uint64_t vals[MAX_COUNTERS], sum[2][MAX_COUNTERS] = {{0}};
	unsigned int i, w, n = 0, nt = 0;
	const char *tnames[MAX_COUNTERS];

	rte_tel_data_start_dict(d);
	for (w = 0; w < tdp->n_workers; w++) {
		const struct wg_stream_lctx *lx = tdp->workers[w].streams;
		const struct wg_tls_stats *ts;

		if (lx == NULL)
			continue;
		n = wg_stream_stats_list(wg_stream_stats(lx), names, vals, MAX_COUNTERS);
		for (i = 0; i < n; i++)
			sum[0][i] += vals[i];
		ts = wg_stream_tls_stats(lx);
		if (ts != NULL) {
			nt = wg_tls_stats_list(ts, tnames, vals, MAX_COUNTERS);
			for (i = 0; i < nt; i++)
				sum[1][i] += vals[i];
		}
	}
	for (i = 0; i < n; i++)
		rte_tel_data_add_dict_u64(d, names[i], sum[0][i]);
	for (i = 0; i < nt; i++)
		rte_tel_data_add_dict_u64(d, tnames[i], sum[1][i]);
	if (tdp->tls_engine != NULL) {
		struct wg_tls_hs_stats hs;

		wg_tls_hs_stats_get(tdp->tls_engine, &hs);
		rte_tel_data_add_dict_u64(d, "hs_done", hs.done);
		rte_tel_data_add_dict_u64(d, "hs_failed", hs.failed);
		rte_tel_data_add_dict_u64(d, "hs_timeouts", hs.timeouts);
		rte_tel_data_add_dict_u64(d, "hs_aborted", hs.aborted);
		rte_tel_data_add_dict_u64(d, "hs_stale", hs.stale);
		rte_tel_data_add_dict_u64(d, "hs_active", hs.active);
	}
	return 0;
}

/* TCP counters summed over workers, or one worker's with params = index. */
static int
tel_tcp(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	const char *names[MAX_COUNTERS];
	uint64_t vals[MAX_COUNTERS], sum[MAX_COUNTERS] = {0};
	unsigned int i, w, n = 0, first = 0, last = tdp->n_workers;

	if (params != NULL && *params != '\0') {
		char *end;
		unsigned long v = strtoul(params, &end, 10);

		if (*end != '\0' || v >= tdp->n_workers)
			return -EINVAL;
		first = (unsigned int)v;
		last = first + 1;
	}
	for (w = first; w < last; w++) {
		n = wg_tcp_stats_list(&tdp->workers[w].tcp->st, names, vals, MAX_COUNTERS);
		for (i = 0; i < n && i < MAX_COUNTERS; i++)
			sum[i] += vals[i];
	}
	rte_tel_data_start_dict(d);
	for (i = 0; i < n && i < MAX_COUNTERS; i++)
		rte_tel_data_add_dict_u64(d, names[i], sum[i]);
	return 0;
}

/* ARP cache of worker 0 for a port (params: port index, default 0). */
static int
tel_arp(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	struct wg_arp_entry ents[64];
	unsigned int p = 0, w, i, n;

	if (params != NULL && *params != '\0') {
		char *end;
		unsigned long v = strtoul(params, &end, 10);

		if (*end != '\0' || v >= tdp->n_ports)
			return -EINVAL;
		p = (unsigned int)v;
	}
	rte_tel_data_start_dict(d);
	for (w = 0; w < tdp->n_workers; w++) {
		n = wg_arp_snapshot(&tdp->workers[w].arp[p], ents, RTE_DIM(ents));
		for (i = 0; i < n; i++) {
			struct rte_tel_data *c = rte_tel_data_alloc();
			char ip[20], mac[20], key[32];

			if (c == NULL)
				return -ENOMEM;
			ip_str(ents[i].ip, ip, sizeof(ip));
			mac_str(ents[i].mac, mac, sizeof(mac));
			rte_tel_data_start_dict(c);
			rte_tel_data_add_dict_string(c, "ip", ip);
			rte_tel_data_add_dict_string(c, "mac", mac);
			rte_tel_data_add_dict_string(c, "state", wg_arp_state_name(ents[i].state));
			rte_tel_data_add_dict_int(c, "probes", ents[i].probes);
			rte_tel_data_add_dict_int(c, "worker", (int)w);
			snprintf(key, sizeof(key), "%u_%u", w, i);
			rte_tel_data_add_dict_container(d, key, c, 0);
		}
	}
	return 0;
}

/* /wg/tcp_client_start,IP:PORT,CONNS,BYTES[,SEED]: worker 0 runs a client
 * self-test against an echo server (port index 0). */
static int
tel_client_start(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d)
{
	unsigned int a, b, c, e, port, conns;
	unsigned long long bytes, seed = 1;
	struct wg_ctl_cmd *ctl;
	int n;

	if (params == NULL)
		return -EINVAL;
	n = sscanf(params, "%u.%u.%u.%u:%u,%u,%llu,%llu", &a, &b, &c, &e, &port, &conns, &bytes,
		   &seed);
	if (n < 7 || a > 255 || b > 255 || c > 255 || e > 255 || port == 0 || port > 65535 ||
	    conns == 0 || conns > tdp->conf->dataplane.mbufs)
		return -EINVAL;
	ctl = rte_zmalloc("wg_ctl", sizeof(*ctl), 0);
	if (ctl == NULL)
		return -ENOMEM;
	ctl->type = WG_CTL_CLIENT_TEST;
	ctl->dst_ip = rte_cpu_to_be_32(RTE_IPV4(a, b, c, e));
	ctl->dst_port = (uint16_t)port;
	ctl->conns = conns;
	ctl->bytes = bytes;
	ctl->seed = seed;
	if (rte_ring_mp_enqueue(tdp->workers[0].ctl, ctl) != 0) {
		rte_free(ctl);
		return -EBUSY;
	}
	rte_tel_data_string(d, "queued");
	return 0;
}

static int
tel_client(const char *cmd __rte_unused, const char *params __rte_unused, struct rte_tel_data *d)
{
	const struct wg_client_test *t = &tdp->workers[0].client;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "running", t->running);
	rte_tel_data_add_dict_u64(d, "conns", t->conns);
	rte_tel_data_add_dict_u64(d, "bytes_each", t->bytes);
	rte_tel_data_add_dict_u64(d, "connected", t->connected);
	rte_tel_data_add_dict_u64(d, "connect_failed", t->connect_failed);
	rte_tel_data_add_dict_u64(d, "done_ok", t->done_ok);
	rte_tel_data_add_dict_u64(d, "failed", t->failed);
	rte_tel_data_add_dict_u64(d, "mismatches", t->mismatches);
	rte_tel_data_add_dict_u64(d, "bytes_tx", t->bytes_tx);
	rte_tel_data_add_dict_u64(d, "bytes_rx", t->bytes_rx);
	rte_tel_data_add_dict_u64(d, "elapsed_ms", (t->end_ms ? t->end_ms : t->ctx ?
				  t->ctx->now_ms : 0) - t->start_ms);
	return 0;
}

int
wg_telemetry_init(struct wg_dataplane *dp)
{
	int ret = 0;

	tdp = dp;
	ret |= rte_telemetry_register_cmd("/wg/info", tel_info, "Dataplane identity and uptime");
	ret |= rte_telemetry_register_cmd("/wg/ports", tel_ports, "Configured ports");
	ret |= rte_telemetry_register_cmd("/wg/stats", tel_stats,
					  "Packet counters summed over workers. Parameters: int worker (optional)");
	ret |= rte_telemetry_register_cmd("/wg/streams", tel_streams,
					  "TLS / WebSocket / framed streams: counters summed over workers");
	ret |= rte_telemetry_register_cmd("/wg/gateway", tel_gateway,
					  "Gateway client sessions: counters summed over workers");
	ret |= rte_telemetry_register_cmd("/wg/tcp", tel_tcp,
					  "TCP counters summed over workers. Parameters: int worker (optional)");
	ret |= rte_telemetry_register_cmd("/wg/tcp_client_start", tel_client_start,
					  "Client self-test on worker 0. Parameters: ip:port,conns,bytes[,seed]");
	ret |= rte_telemetry_register_cmd("/wg/tcp_client", tel_client,
					  "Client self-test progress and result");
	ret |= rte_telemetry_register_cmd("/wg/instances", tel_instances,
					  "Registry slots of control/logic instances");
	ret |= rte_telemetry_register_cmd("/wg/arp", tel_arp,
					  "ARP cache entries. Parameters: int port (optional)");
	return ret ? -EINVAL : 0;
}
