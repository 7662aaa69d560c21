/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_GATEWAY_H
#define WG_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway-t.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;
struct wg_registry;
struct wg_stream;
struct wg_gw;

struct wg_gw_params {
	const char *name;              /* unique per lcore: names the allocations */
	int socket;
	unsigned int worker;
	const struct wg_gw_conf *conf; /* outlives the gateway */
	struct rte_mempool *msg_pool;
	struct wg_registry *reg;
	struct rte_ring **to_inst;     /* this worker's ring to each registry slot */
};

/* NULL + rte_errno. */
struct wg_gw *wg_gw_create(const struct wg_gw_params *p);
void wg_gw_free(struct wg_gw *gw);

/* Defaults for the config section. */
void wg_gw_conf_defaults(struct wg_gw_conf *c);

/* --- called by the streams */

/* A connection of a gateway listener opened; NULL when the table is full
 * (the caller refuses the connection). */
struct wg_gw_sess *wg_gw_open(struct wg_gw *gw, struct wg_stream *s, uint32_t peer_ip,
			      uint16_t peer_port, uint16_t listener_port, uint32_t transport);

/* One client message (a WebSocket message, or one framed payload); data is
 * the caller's and only read. 0, or -errno: the stream is already told to
 * close (kick) and the caller only stops reading. */
int wg_gw_input(struct wg_gw *gw, struct wg_gw_sess *ss, bool text, const uint8_t *data,
		uint32_t len);

/* The stream is gone (closed, reset, or failed); s must not be used by the
 * gateway any more. reason: 0 clean close, -errno otherwise. */
void wg_gw_closed(struct wg_gw *gw, struct wg_gw_sess *ss, int reason);

/* --- called by the worker */

/* A message from instance slot's ring that is not a system message of the
 * worker's own (HELLO, PONG); takes m. */
void wg_gw_ring_msg(struct wg_gw *gw, unsigned int slot, struct rte_mbuf *m);

/* Timeouts; call every loop (cheap). Returns work done. */
unsigned int wg_gw_tick(struct wg_gw *gw, uint64_t now_ms);

const struct wg_gw_stats *wg_gw_stats(const struct wg_gw *gw);
unsigned int wg_gw_stats_list(const struct wg_gw_stats *st, const char **names,
			      uint64_t *values, unsigned int max);

/* worker index from a session id */
static inline unsigned int
wg_gw_sess_worker(uint64_t id)
{
	return (unsigned int)(id >> 56);
}

#endif /* WG_GATEWAY_H */
