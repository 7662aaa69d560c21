/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_STREAM_H
#define WG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stream-t.h"

struct wg_tls_stats;

struct wg_stream_params {
	const char *name;              /* unique per lcore: names the pools */
	int socket;
	unsigned int worker;           /* this lcore's ring pair at the TLS engine */
	uint32_t max_streams;          /* connections with a stream (tcp.max_conns) */
	uint32_t max_upgrades;         /* WebSocket upgrades in flight */
	uint32_t record_size;          /* TLS: largest plaintext per record */
	uint32_t upgrade_timeout_ms;   /* WebSocket upgrade request deadline */
	const struct wg_stream_listener *listeners;
	unsigned int n_listeners;
	const struct wg_ws_conf *ws_conf;   /* outlives the context */
	struct rte_mempool *pkt_pool;  /* output mbufs */
	struct wg_tls_hs *tls_engine;  /* NULL when no listener uses TLS */
	struct wg_gw *gateway;         /* NULL when no listener is a gateway */
};

/* A worker's stream context: pools on socket, listeners registered on tcp.
 * NULL + rte_errno. */
struct wg_stream_lctx *wg_stream_lctx_create(const struct wg_stream_params *p,
					     struct wg_tcp_ctx *tcp);

/* Once per loop, after the rx bursts: handshake replies, then every stream
 * that got bytes or send space in this pass (TLS records opened and sealed
 * as one batch each). Returns work done. */
unsigned int wg_stream_poll(struct wg_stream_lctx *lx);

const struct wg_stream_stats *wg_stream_stats(const struct wg_stream_lctx *lx);
unsigned int wg_stream_stats_list(const struct wg_stream_stats *st, const char **names,
				  uint64_t *values, unsigned int max);

/* The record layer's counters, NULL without TLS. */
const struct wg_tls_stats *wg_stream_tls_stats(const struct wg_stream_lctx *lx);

/* Bytes an idle open stream holds above TCP (memory budget), with TLS or
 * without. */
size_t wg_stream_idle_bytes(const struct wg_stream_lctx *lx, bool tls);

void wg_stream_dump(FILE *f, const struct wg_stream *s);

/* enum wg_stream_proto from a config word, -EINVAL if unknown */
int wg_stream_proto_parse(const char *word);

/* --- for the gateway (any time, also from ring input outside a pass) */

/* wg_stream_msg_out() flags */
#define WG_STREAM_OUT_REPLAY  0x1  /* part of a resume's replay: the caller bounds it
                                    * (replay_max), so it may pass the slow-reader limit */

/* One message to the peer, a (alen bytes) then b (blen), as one WebSocket
 * frame (text or binary) or one framed payload. 0; -EPIPE when the stream
 * is closing (nothing sent); -ENOBUFS when the peer does not read (over the
 * output limit: the stream is reset at its next pass); -ENOMEM when out of
 * buffers (likewise). */
int wg_stream_msg_out(struct wg_stream *s, bool text, const void *a, uint32_t alen,
		      const void *b, uint32_t blen, unsigned int flags);

/* Close after the queued output: WebSocket close with code, or FIN. */
void wg_stream_msg_end(struct wg_stream *s, uint16_t ws_code);

/* The session a stream belongs to changes (a RESUME adopted it). */
void wg_stream_gw_set(struct wg_stream *s, struct wg_gw_sess *ss);

int wg_stream_peer(const struct wg_stream *s, struct wg_stream_peer *peer);

#endif /* WG_STREAM_H */
