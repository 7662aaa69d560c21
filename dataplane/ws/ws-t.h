/* SPDX-License-Identifier: BSD-3-Clause
 * WebSocket (RFC 6455): configuration, per-lcore environment, the per-
 * connection frame parser state and the handshake parser state.
 *
 * Nothing here depends on DPDK or on the transport: the parsers take byte
 * chunks (pointer + length, split anywhere) and hand back events; builders
 * write into caller memory. The worker glues them to TCP or TLS.
 */
#ifndef WG_WS_T_H
#define WG_WS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_WS_MAX_ORIGINS    8
#define WG_WS_ORIGIN_LEN     128     /* bytes per origin, NUL included */
#define WG_WS_MAX_PROTOCOLS  8
#define WG_WS_PROTOCOL_LEN   32      /* bytes per subprotocol, NUL included */
#define WG_WS_PATH_LEN       128
#define WG_WS_HTTP_LINE_MAX  8192    /* ceiling of any configured line limit */
#define WG_WS_TARGET_LEN     2048    /* request-target kept for the app */
#define WG_WS_KEY_LEN        24      /* base64 of 16 bytes */
#define WG_WS_ACCEPT_LEN     28      /* base64 of a SHA-1 */
#define WG_WS_MAX_HDR        14      /* 2 + 8 extended length + 4 mask */
#define WG_WS_MAX_CTL        125     /* control frame payload (RFC 6455 5.5) */

enum wg_ws_role {
	WG_WS_SERVER = 0,
	WG_WS_CLIENT = 1,
};

/* opcodes (RFC 6455 5.2) */
#define WG_WS_OP_CONT   0x0
#define WG_WS_OP_TEXT   0x1
#define WG_WS_OP_BINARY 0x2
#define WG_WS_OP_CLOSE  0x8
#define WG_WS_OP_PING   0x9
#define WG_WS_OP_PONG   0xa

/* close status codes (RFC 6455 7.4.1) */
#define WG_WS_CLOSE_NORMAL      1000
#define WG_WS_CLOSE_GOING_AWAY  1001
#define WG_WS_CLOSE_PROTOCOL    1002
#define WG_WS_CLOSE_UNSUPPORTED 1003
#define WG_WS_CLOSE_NO_STATUS   1005 /* never on the wire: empty close body */
#define WG_WS_CLOSE_ABNORMAL    1006 /* never on the wire */
#define WG_WS_CLOSE_BAD_DATA    1007
#define WG_WS_CLOSE_POLICY      1008
#define WG_WS_CLOSE_TOO_BIG     1009
#define WG_WS_CLOSE_EXTENSION   1010
#define WG_WS_CLOSE_INTERNAL    1011

/* Limits and handshake policy. A plain struct: the YAML table in conf.c
 * fills it; wg_ws_conf_defaults() gives the starting point. Lists follow
 * conf.c's CT_STR_LIST layout (char[n][len] plus a count). */
struct wg_ws_conf {
	uint32_t max_message;          /* bytes per message (1009 beyond) */
	uint32_t max_frame;            /* bytes per frame, 0 = max_message */
	uint32_t framed_max_message;   /* framed TCP: bytes per message */
	uint32_t http_max_request;     /* whole handshake, bytes (431) */
	uint32_t http_max_request_line;/* request/status line, bytes (414) */
	uint32_t http_max_header_line; /* one header field line, bytes (431) */
	uint32_t http_max_headers;     /* header fields (431) */
	uint32_t require_protocol;     /* bool: 400 when no offered subprotocol is ours */
	char path[WG_WS_PATH_LEN];     /* request path to accept, "" = any */
	char origins[WG_WS_MAX_ORIGINS][WG_WS_ORIGIN_LEN]; /* allow-list, none = any */
	unsigned int n_origins;
	char protocols[WG_WS_MAX_PROTOCOLS][WG_WS_PROTOCOL_LEN]; /* in preference order */
	unsigned int n_protocols;
};

enum wg_ws_ev_type {
	WG_WS_EV_NONE = 0,     /* the chunk is consumed, nothing to report */
	WG_WS_EV_MESSAGE,      /* a whole text or binary message */
	WG_WS_EV_PING,         /* payload in data/len: answer with a pong */
	WG_WS_EV_PONG,
	WG_WS_EV_CLOSE,        /* the peer's close: code and reason (data/len) */
	WG_WS_EV_ERROR,        /* the peer broke the protocol: code is ours to send */
};

/* What wg_ws_recv()/wg_framed_recv() report. data points either into the
 * caller's chunk (valid as long as the chunk is) or into a buffer the
 * environment lent (buf != NULL): that buffer is the caller's from here on
 * and goes back with env->buf_put() or onward with the message. */
struct wg_ws_event {
	uint8_t type;          /* enum wg_ws_ev_type */
	uint8_t opcode;        /* MESSAGE: WG_WS_OP_TEXT or WG_WS_OP_BINARY */
	uint16_t code;         /* CLOSE: received (1005 for none); ERROR: to send */
	uint32_t len;
	const uint8_t *data;
	void *buf;
};

/* Per-lcore counters, written by the owner only. */
struct wg_ws_stats {
	uint64_t rx_frames;
	uint64_t rx_msgs;
	uint64_t rx_bytes;             /* message payload delivered */
	uint64_t rx_in_place;          /* messages delivered without a copy */
	uint64_t rx_pings;
	uint64_t rx_pongs;
	uint64_t rx_closes;
	uint64_t err_protocol;         /* 1002 */
	uint64_t err_utf8;             /* 1007 */
	uint64_t err_too_big;          /* 1009 */
	uint64_t err_nobufs;           /* buf_get() said no (retried later) */
	uint64_t tx_frames;
	uint64_t tx_bytes;             /* payload */
};

/* Shared by every connection of an lcore: where reassembly buffers come
 * from and, for the client role, where mask keys come from. */
struct wg_ws_env {
	/* at least size bytes of contiguous memory, or NULL (back-pressure) */
	void *(*buf_get)(void *arg, uint32_t size);
	void (*buf_put)(void *arg, void *buf);
	/* 32 random bits; client role only (RFC 6455 5.3 wants them unpredictable) */
	uint32_t (*rng)(void *arg);
	void *arg;
	struct wg_ws_stats stats;
};

enum wg_ws_state {
	WG_WS_OPEN = 0,
	WG_WS_CLOSE_RCVD,      /* peer's close seen; ours still owed */
	WG_WS_CLOSE_SENT,      /* ours sent (after an error too): nothing more goes out */
	WG_WS_CLOSED,          /* both sent: the transport can go */
	WG_WS_FAILING,         /* protocol error seen: only our close may go out */
};

/* receive flags */
#define WG_WSF_RX_DEAD     0x01  /* error or close seen: input is ignored */
#define WG_WSF_TX_FRAG     0x02  /* we sent a non-final data frame */
#define WG_WSF_MASKED      0x04  /* current frame is masked */
#define WG_WSF_FIN         0x08  /* current frame has FIN */
#define WG_WSF_IN_PAYLOAD  0x10  /* header done, payload bytes follow */
/* 0x20..0x80 unused */

/* One connection's frame layer. Small and flat: 100k of these per lcore.
 * The reassembly buffer is held only while a message is split. */
struct wg_ws {
	const struct wg_ws_conf *conf;
	struct wg_ws_env *env;
	uint8_t *msg;                  /* reassembly buffer (env), or NULL */
	uint64_t frame_len;            /* payload length of the current frame */
	uint64_t frame_off;            /* payload bytes of it consumed */
	uint32_t msg_len;              /* bytes in msg */
	uint32_t msg_total;            /* declared payload of the open message */
	uint32_t max_message;
	uint32_t max_frame;
	uint32_t utf8;                 /* validator state of the open text message */
	uint8_t role;                  /* enum wg_ws_role */
	uint8_t state;                 /* enum wg_ws_state */
	uint8_t flags;                 /* WG_WSF_* */
	uint8_t opcode;                /* current frame */
	uint8_t msg_op;                /* TEXT/BINARY of the open message, 0 = none */
	uint8_t hdr_have;
	uint8_t hdr_need;
	uint8_t ctl_len;
	uint8_t mask[4];
	uint8_t hdr[WG_WS_MAX_HDR];
	uint8_t ctl[WG_WS_MAX_CTL];
};

_Static_assert(sizeof(struct wg_ws) <= 256, "per-connection WebSocket state stays at 4 lines");

enum wg_ws_http_phase {
	WG_WSH_FIRST_LINE = 0,
	WG_WSH_HEADERS,
	WG_WSH_DONE,
	WG_WSH_FAILED,
};

/* Handshake parser, one per connection while it upgrades (about 10 KiB:
 * take it from a pool and give it back once the handshake is over). */
struct wg_ws_http {
	const struct wg_ws_conf *conf;
	uint8_t role;
	uint8_t phase;                 /* enum wg_ws_http_phase */
	uint16_t status;               /* server: status to answer; client: status received */
	int16_t protocol;              /* chosen index in conf->protocols, -1 = none */
	uint16_t n_headers;
	uint32_t line_len;
	uint32_t total;                /* bytes consumed */
	uint32_t seen;                 /* header facts, WG_WSH_F_* in ws_http.c */
	uint32_t offered;              /* server: bit i = client offered conf->protocols[i] */
	uint8_t empty_lines;           /* blank lines before the request line */
	char key[WG_WS_KEY_LEN + 1];   /* server: the client's key */
	char accept[WG_WS_ACCEPT_LEN + 1]; /* server: ours to send; client: the one expected */
	uint32_t target_len;
	char target[WG_WS_TARGET_LEN]; /* request-target as received, NUL-terminated */
	char line[WG_WS_HTTP_LINE_MAX];
};

#endif /* WG_WS_T_H */
