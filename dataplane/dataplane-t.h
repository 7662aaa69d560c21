/* SPDX-License-Identifier: BSD-3-Clause
 * Dataplane process state: one struct wg_worker per poll-mode lcore, owned
 * by that lcore alone (shared-nothing), plus read-only process-wide state.
 */
#ifndef WG_DATAPLANE_T_H
#define WG_DATAPLANE_T_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "arp-t.h"
#include "backoff.h"
#include "conf-t.h"
#include "net-t.h"
#include "registry-t.h"
#include "stream-t.h"
#include "svc.h"
#include "tcp-t.h"

#define WG_STATS_MZ_NAME  "wg_dp_stats"
#define WG_MAX_BURST      512u
#define WG_MONITOR_MS     10      /* monitor pass interval */

struct wg_port {
	uint16_t port_id;
	uint16_t n_queues;
	char name[WG_CONF_NAME_MAX];
	char dev_name[64];
	char driver[32];
	struct wg_iface iface;
};

/* Per-worker counters in a memzone so other processes (control's metrics)
 * and the telemetry thread can read them. Written only by the worker. */
struct wg_worker_stats {
	struct wg_net_stats net;
	uint64_t loops;
	uint64_t idle_sleeps;
	uint64_t msgs_tx;
	uint64_t msgs_rx;
	uint64_t msgs_no_handler;
	uint64_t pkt_pool_empty;
} __rte_cache_aligned;

struct wg_dp_stats {
	uint32_t n_workers;
	struct wg_worker_stats w[WG_REG_MAX_WORKERS];
};

struct wg_txq {
	uint16_t n;
	struct rte_mbuf *pkts[WG_MAX_BURST];
};

/* Operator command handed to a worker over its ctl ring; the worker frees it. */
enum wg_ctl_type {
	WG_CTL_CLIENT_TEST = 1,
};

struct wg_ctl_cmd {
	uint32_t type;                     /* enum wg_ctl_type */
	uint32_t port;
	uint32_t dst_ip;                   /* network byte order */
	uint16_t dst_port;                 /* host byte order */
	uint16_t pad;
	uint32_t conns;
	uint64_t bytes;
	uint64_t seed;
};

struct wg_dataplane;
struct wg_impair;
struct wg_tls_hs;
struct wg_stream_lctx;

struct wg_worker {
	struct wg_dataplane *dp;           /* read-only here, except in run_monitor mode */
	unsigned int idx;
	unsigned int lcore_id;
	bool run_monitor;                  /* single-lcore mode: also the monitor */
	uint16_t queue_id;
	uint16_t burst;
	unsigned int n_ports;
	const struct wg_port *ports;
	struct wg_arp_cache arp[WG_CONF_MAX_PORTS];
	struct wg_txq txq[WG_CONF_MAX_PORTS];
	struct rte_mempool *pkt_pool;
	struct rte_mempool *msg_pool;
	struct wg_registry *reg;
	struct rte_ring *to_inst[WG_REG_MAX_SLOTS];
	struct rte_ring *from_inst[WG_REG_MAX_SLOTS];
	struct wg_worker_stats *stats;
	struct wg_tcp_ctx *tcp;            /* this lcore's TCP (hugepage memory) */
	struct wg_stream_lctx *streams;    /* TLS / WebSocket / framed over TCP */
	struct wg_gw *gw;                  /* client sessions of gateway listeners */
	struct wg_iface *ifaces_flat;      /* ports' ifaces as an array, for TCP */
	struct rte_ring *ctl;              /* operator commands (MP from telemetry) */
	struct wg_impair *imp_rx[WG_CONF_MAX_PORTS]; /* NULL unless configured */
	struct wg_impair *imp_tx[WG_CONF_MAX_PORTS];
	struct wg_client_test client;      /* client self-test, worker 0 */
	struct wg_backoff backoff;
	uint64_t tsc_per_ms;
	uint64_t next_arp_tsc;
	uint64_t next_ping_tsc;
	uint64_t ping_tsc;
} __rte_cache_aligned;

struct wg_dataplane {
	const struct wg_conf *conf;
	struct wg_port ports[WG_CONF_MAX_PORTS];
	unsigned int n_ports;
	unsigned int n_workers;
	struct wg_worker *workers;         /* n_workers, hugepage memory */
	struct rte_mempool *pkt_pool;
	struct rte_mempool *msg_pool;
	struct wg_registry *reg;
	struct wg_dp_stats *stats;
	struct wg_stream_listener listeners[WG_CONF_MAX_LISTENERS];
	unsigned int n_listeners;
	struct wg_ws_conf ws_conf;         /* read-only once workers run */
	struct wg_tls_hs *tls_engine;      /* NULL when no listener uses TLS */
	struct wg_gw_conf *gw_conf;        /* NULL when no listener is a gateway */
	uint64_t start_tsc;
	volatile bool quit;
};

#endif /* WG_DATAPLANE_T_H */
