/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 handshake engine: OpenSSL with memory BIOs on a thread of its own,
 * fed by the workers over SPSC rings, ending in key takeover (the secrets go
 * to the record layer on the worker, the SSL object is freed).
 *
 * A worker talks to the engine with messages (struct wg_tls_hs_msg):
 *
 *   worker -> engine   ACCEPT  new server-side connection (+ its first bytes)
 *                      CONNECT new client-side connection (sends ClientHello)
 *                      DATA    more bytes from the peer
 *                      ABORT   the connection is gone: free the handshake
 *   engine -> worker   SEND    send data; the handshake goes on
 *                      DONE    send data, then take over (secrets, leftover)
 *                      FAIL    send data (an alert, may be absent), then close
 *                      LATE    DATA that reached the engine after its DONE (or FAIL):
 *                              the worker feeds it to the record layer before
 *                              anything newer (DONE says how many to expect)
 *
 * Every message names the connection by a ref (worker, conn, gen). The
 * engine never dereferences conn; the worker drops a reply whose gen is not
 * the connection's current one (the conn was recycled meanwhile).
 */
#ifndef WG_TLS_HANDSHAKE_T_H
#define WG_TLS_HANDSHAKE_T_H

#include <stdbool.h>
#include <stdint.h>

#include "tls_secrets-t.h"

struct rte_mbuf;

#define WG_TLS_PATH_MAX   256
#define WG_TLS_SNI_MAX    256          /* host_name <= 255 bytes, + NUL */
#define WG_TLS_ALPN_MAX   64           /* our configured list, and what is chosen from it */

/* Engine configuration: plain data (no DPDK types), so common/conf.c can
 * fill it from YAML. String fields match struct wg_conf_tls. */
struct wg_tls_conf {
	char cert[WG_TLS_PATH_MAX];    /* PEM chain, leaf first (server side) */
	char key[WG_TLS_PATH_MAX];     /* PEM private key of the leaf */
	char ca[WG_TLS_PATH_MAX];      /* PEM CAs the client side verifies with */
	char ciphersuites[256];        /* OpenSSL TLS 1.3 list; AES-GCM suites only */
	char groups[128];              /* key exchange groups, OpenSSL list syntax */
	char alpn[WG_TLS_ALPN_MAX];    /* comma-separated, our preference first; "" = none */
	char client_sni[WG_TLS_SNI_MAX]; /* active opens without a name of their own */
	uint32_t handshake_timeout_ms; /* ACCEPT/CONNECT to DONE, else FAIL -ETIMEDOUT */
	uint32_t tickets;              /* NewSessionTickets after a full handshake */
	uint32_t max_sessions;         /* handshakes in flight; more get FAIL -EBUSY */
	uint32_t ring_size;            /* entries per worker ring and direction, power of 2 */
	uint32_t msgs;                 /* message pool (both directions, all workers) */
	uint32_t burst;                /* messages dequeued per ring per poll */
	uint32_t idle_sleep_max_us;    /* engine loop back-off ceiling; 0 = busy poll */
	bool client_verify;            /* client side: verify the server against ca */
	bool allow_tls12;              /* negotiate 1.2 too; takeover refuses it (see below) */
};

/* Message types (enum wg_tls_hs_type in msg->type). */
enum wg_tls_hs_type {
	WG_TLS_HS_ACCEPT = 1,
	WG_TLS_HS_CONNECT,
	WG_TLS_HS_DATA,
	WG_TLS_HS_ABORT,
	WG_TLS_HS_SEND,
	WG_TLS_HS_DONE,
	WG_TLS_HS_FAIL,
	WG_TLS_HS_LATE,        /* DATA that arrived after DONE/FAIL, given back */
};

#define WG_TLS_HS_NO_ALERT 0xff        /* msg->alert when none was sent */

/* Names a connection across the rings. */
struct wg_tls_hs_ref {
	void *conn;                    /* the worker's connection; opaque to the engine */
	uint32_t gen;                  /* the worker's generation of conn */
	uint16_t worker;               /* ring pair: 0 .. n_workers - 1 */
	uint16_t pad;
};

/* What crosses the rings (by pointer; from the engine's message pool).
 * Whoever dequeues a message owns it and its mbufs, and gives it back with
 * wg_tls_hs_msg_free(); fields taken (data, leftover) are set to NULL.
 *
 * DONE, in the order a worker must act on it:
 *   1. send data (server: the NewSessionTicket records, already counted in
 *      secrets.tx_seq; client: its Finished flight);
 *   2. install secrets in the record layer (first record numbers rx_seq /
 *      tx_seq, key/iv by HKDF-Expand-Label from the secrets);
 *   3. feed leftover to the record layer: raw bytes the peer sent after its
 *      Finished (early application records; on a client also the server's
 *      0.5-RTT data and, later on the wire, its NewSessionTickets, which the
 *      record layer must accept and discard).
 * OpenSSL never decrypts application data here (read-ahead off, no
 * SSL_read), so there is no plaintext to hand over: every byte past the
 * peer's Finished is in leftover, still encrypted. */
struct wg_tls_hs_msg {
	struct wg_tls_hs_msg *next;    /* engine's overflow queue while a ring is full */
	struct wg_tls_hs_ref ref;
	uint8_t type;                  /* enum wg_tls_hs_type */
	uint8_t alert;                 /* FAIL: alert description in data, or WG_TLS_HS_NO_ALERT */
	uint16_t version;              /* DONE: TLS1_3_VERSION (0x0304) */
	int32_t status;                /* FAIL: -EPROTO, -ETIMEDOUT, -EBUSY, -ENOBUFS,
	                                * -EPROTONOSUPPORT (TLS 1.2 negotiated) */
	struct rte_mbuf *data;         /* bytes in; or bytes to send (NULL = none) */
	struct rte_mbuf *leftover;     /* DONE: raw bytes not consumed by OpenSSL */
	struct wg_tls_secrets secrets; /* DONE */
	uint8_t sni_len;               /* DONE: server name (client sent / server received) */
	uint8_t alpn_len;              /* DONE: negotiated ALPN protocol, 0 = none */
	uint8_t pad[2];
	uint32_t data_msgs;            /* DONE: DATA messages the handshake consumed; the
	                                * worker's later ones come back as LATE, in order */
	char alpn[WG_TLS_ALPN_MAX];    /* NUL-terminated */
	char sni[WG_TLS_SNI_MAX];      /* NUL-terminated; CONNECT: name to send, "" = conf */
};

/* Engine counters: written by the engine thread only, readable anywhere
 * (each field on its own is consistent; the set is a snapshot at best). */
struct wg_tls_hs_stats {
	uint64_t requests;             /* messages dequeued from workers */
	uint64_t accepts;              /* server handshakes started */
	uint64_t connects;             /* client handshakes started */
	uint64_t done;                 /* taken over */
	uint64_t failed;               /* FAIL sent (any reason but timeout) */
	uint64_t timeouts;             /* FAIL -ETIMEDOUT sent */
	uint64_t aborted;              /* ABORT from a worker freed a handshake */
	uint64_t refused;              /* max_sessions reached: FAIL -EBUSY */
	uint64_t tls12_refused;        /* TLS 1.2 negotiated, not taken over */
	uint64_t stale;                /* DATA (returned as LATE) / ABORT for no handshake */
	uint64_t nomem;                /* mbuf or message allocation failed */
	uint64_t deferred;             /* replies queued because a ring was full */
	uint64_t active;               /* handshakes in flight now */
	uint64_t polls;                /* engine loop iterations */
	uint64_t busy_cycles;          /* TSC cycles spent in iterations that did work */
};

#endif /* WG_TLS_HANDSHAKE_T_H */
