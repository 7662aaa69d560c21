/* SPDX-License-Identifier: BSD-3-Clause
 * Client streams: what a worker runs on top of our TCP for each accepted
 * connection of a listener - optional TLS 1.3 (handshake in the engine
 * thread, records here), then WebSocket, length-framed messages or raw
 * bytes, delivered to a service.
 */
#ifndef WG_STREAM_T_H
#define WG_STREAM_T_H

#include <stdbool.h>
#include <stdint.h>

#include "framed-t.h"
#include "ws-t.h"

struct rte_mbuf;
struct rte_mempool;
struct wg_tcp_conn;
struct wg_tcp_ctx;
struct wg_tls_hs;
struct wg_tls_sess;
struct wg_gw;
struct wg_gw_sess;

enum wg_stream_proto {
	WG_STREAM_RAW = 0,             /* bytes as they come */
	WG_STREAM_WS,                  /* RFC 6455 after an HTTP/1.1 upgrade */
	WG_STREAM_FRAMED,              /* 4-byte big-endian length + payload */
};

enum wg_stream_state {
	WG_STREAM_FREE = 0,            /* in the pool */
	WG_STREAM_TLS_HS,              /* bytes go to the handshake engine */
	WG_STREAM_HTTP,                /* WebSocket upgrade request being read */
	WG_STREAM_OPEN,                /* messages flow */
	WG_STREAM_CLOSING,             /* our last bytes are queued; FIN follows */
};

/* stream flags */
#define WG_STREAMF_DIRTY     0x0001  /* on the lcore's list for this burst */
#define WG_STREAMF_TLS       0x0002  /* records after the handshake */
#define WG_STREAMF_PROTO     0x0004  /* u.ws / u.fr initialised: release it */
#define WG_STREAMF_EOF       0x0008  /* peer's FIN (or close_notify) seen */
#define WG_STREAMF_FIN_OWED  0x0010  /* close TCP once output drained */
#define WG_STREAMF_RX_NOBUF  0x0020  /* a parser had no buffer: retry next burst */
#define WG_STREAMF_INPASS    0x0040  /* being walked by wg_stream_poll: not freed yet */
#define WG_STREAMF_TLS_DONE  0x0080  /* close_notify sealed (or the session failed) */
#define WG_STREAMF_HS_LATE   0x0100  /* bytes sent to the engine after its DONE come back:
                                      * newer bytes wait behind them */
#define WG_STREAMF_UPLIST    0x0200  /* on the lctx's upgrade deadline list */
#define WG_STREAMF_KILL      0x0400  /* reset at the next safe point (not inside the
                                      * record layer's callbacks) */
/* 0x0800..0x8000 unused */

enum wg_stream_service {
	WG_SVC_ECHO = 0,               /* every message straight back */
	WG_SVC_GATEWAY,                /* client sessions: control and logic (gateway.c) */
};

/* One listening port's behaviour, fixed at start. */
struct wg_stream_listener {
	uint16_t port;                 /* host byte order */
	uint8_t proto;                 /* enum wg_stream_proto */
	bool tls;
	uint8_t service;               /* enum wg_stream_service */
	uint32_t max_message;          /* framed */
};

/* Who is at the other end, for the gateway's SessionOpen. */
struct wg_stream_peer {
	uint32_t ip;                   /* host byte order */
	uint16_t port;
	uint16_t listener_port;
	uint32_t transport;            /* wg.Transport */
};

/* Per-connection state, from a per-lcore mempool (no malloc per
 * connection). rx holds bytes received (plaintext, with TLS) that the
 * protocol has not consumed; tx bytes built for the peer that TCP (or the
 * record layer) has not taken yet. */
struct wg_stream {
	struct wg_tcp_conn *tcp;
	struct wg_stream_lctx *lx;
	const struct wg_stream_listener *ls;
	struct wg_stream *dirty_next;  /* lctx's list of streams to run */
	struct wg_stream *pass_next;   /* the list wg_stream_poll is walking */
	struct rte_mbuf *rx;
	struct rte_mbuf *tx;
	struct wg_ws_http *http;       /* during the upgrade only */
	struct rte_mbuf *rx_held;      /* TLS: ciphertext held (unacknowledged) while paused */
	struct wg_tls_sess *tls;       /* record layer after takeover, NULL without TLS */
	uint32_t gen;                  /* bumped on every reuse: stale replies miss */
	uint16_t flags;                /* WG_STREAMF_* */
	uint8_t state;                 /* enum wg_stream_state */
	uint8_t proto;
	uint32_t rx_off;               /* consumed bytes of rx's first segment */
	uint32_t rx_bytes;             /* bytes in rx past rx_off */
	uint32_t pass_out;             /* bytes queued for the peer in this pass */
	struct wg_stream *up_next;     /* upgrades in flight, oldest first */
	struct wg_stream *up_prev;
	uint64_t up_deadline;          /* TSC: the upgrade request must be complete */
	uint32_t hs_data;              /* DATA messages sent to the handshake engine */
	uint32_t hs_bytes;             /* bytes from the peer before takeover */
	uint32_t hs_late;              /* of those, still to come back after DONE */
	struct wg_gw_sess *gw;         /* gateway listener: the client session */
	union {
		struct wg_ws ws;
		struct wg_framed fr;
	} u;
};

/* Worker-visible counters (telemetry /wg/streams). */
struct wg_stream_stats {
	uint64_t accepted;
	uint64_t closed;
	uint64_t active;
	uint64_t refused_nomem;        /* no stream object: connection reset */
	uint64_t tls_handshakes;       /* taken over */
	uint64_t tls_failed;           /* engine FAIL */
	uint64_t tls_errors;           /* record layer: alert sent, closed */
	uint64_t http_upgrades;
	uint64_t http_refused;         /* answered 4xx and closed */
	uint64_t http_timeouts;        /* upgrade request not complete in time: 408 */
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t bytes_in;             /* payload (or raw bytes) delivered */
	uint64_t bytes_out;
	uint64_t proto_errors;         /* ws/framed error: closed with a code */
	uint64_t nobufs;               /* reassembly buffer pools dry (retried) */
	uint64_t tx_nomem;             /* no mbuf for output: connection reset */
	uint64_t blocked;              /* input paused for send space */
	uint64_t slow_consumers;       /* output over the limit: connection reset */
};

#endif /* WG_STREAM_T_H */
