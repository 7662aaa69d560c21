/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 handshake engine (see tls_handshake-t.h for the message flow).
 *
 * Threads: one engine thread (wg_tls_hs_start, or wg_tls_hs_main on an
 * lcore) owns the SSL objects; worker w alone calls the worker-side
 * functions with ref->worker == w (its rings are single-producer,
 * single-consumer). Everything else is set-up and tear-down.
 *
 * What a worker does:
 *   on_accept of a TLS listener: wg_tls_hs_accept(ref, NULL) (or wait and
 *     pass the first bytes); on_data while handshaking: wg_tls_hs_data(ref,
 *     m) then wg_tcp_recv_done for m's length (the engine owns the
 *     bytes now); on_closed / reset while handshaking: wg_tls_hs_abort(ref).
 *   active open: on_connect(0) -> wg_tls_hs_connect(ref, sni).
 *   each loop: wg_tls_hs_replies(); drop a reply whose ref->gen is stale;
 *     SEND: wg_tcp_send(data); DONE: as in tls_handshake-t.h; FAIL: send
 *     data if any, then close; LATE: DATA the worker sent after the bytes
 *     that ended the handshake (it had not seen DONE yet), returned
 *     untouched and in order: feed it to the record layer after DONE's
 *     leftover (after a FAIL: drop it). DONE's data_msgs tells how many of
 *     the worker's DATA messages the handshake used, so the worker knows
 *     how many LATE ones follow. Then wg_tls_hs_msg_free().
 * Any worker-side call may fail with -ENOBUFS (message pool empty) or
 * -ENOSPC (ring full): the caller keeps its mbuf. Treat it as overload and
 * reset the connection; a lost ABORT is reclaimed by the handshake timeout.
 */
#ifndef WG_TLS_HANDSHAKE_H
#define WG_TLS_HANDSHAKE_H

#include <stdio.h>

#include "tls_handshake-t.h"

struct rte_mempool;
struct wg_tls_hs;

/* Production defaults: TLS 1.3 only, AES-GCM suites, X25519 then P-256,
 * ALPN http/1.1, 10 s handshake timeout, 2 tickets, 8192 handshakes in
 * flight. */
void wg_tls_conf_defaults(struct wg_tls_conf *c);

/* An engine serving n_workers ring pairs. Loads cert/key (and ca when
 * client_verify), builds the server and client SSL_CTX, the rings and the
 * message pool on socket. Reply mbufs come from pkt_pool. name makes ring
 * and pool names unique (short: it prefixes "_q<w>"). NULL + rte_errno:
 * EINVAL bad conf (logged), ENOENT unreadable PEM, ENOMEM. */
struct wg_tls_hs *wg_tls_hs_create(const char *name, const struct wg_tls_conf *conf,
				   unsigned int n_workers, struct rte_mempool *pkt_pool,
				   int socket);

/* Stops the thread if running (an lcore running wg_tls_hs_main must have
 * been stopped and waited for), frees every handshake, message and ring.
 * Workers must be done with the engine: their messages are freed too. */
void wg_tls_hs_destroy(struct wg_tls_hs *e);

/* Run the engine on a control thread of its own / stop and join it. */
int wg_tls_hs_start(struct wg_tls_hs *e);
void wg_tls_hs_stop(struct wg_tls_hs *e);

/* The engine loop for rte_eal_remote_launch(): polls until wg_tls_hs_stop. */
int wg_tls_hs_main(void *e);

/* One loop iteration (engine thread only): dequeue a burst from every
 * worker, drive those handshakes, expire timeouts. Returns work done. */
unsigned int wg_tls_hs_poll(struct wg_tls_hs *e);

/* Worker side. ACCEPT / DATA take data (a chain, may be NULL for ACCEPT)
 * on success. sni NULL or "" sends conf.client_sni. 0 or -errno. */
int wg_tls_hs_accept(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref,
		     struct rte_mbuf *data);
int wg_tls_hs_connect(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref, const char *sni);
int wg_tls_hs_data(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref, struct rte_mbuf *data);
int wg_tls_hs_abort(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref);

/* Up to n replies for worker. */
unsigned int wg_tls_hs_replies(struct wg_tls_hs *e, unsigned int worker,
			       struct wg_tls_hs_msg **msgs, unsigned int n);

/* Frees m's mbufs (those not taken), wipes its secrets, returns it. */
void wg_tls_hs_msg_free(struct wg_tls_hs *e, struct wg_tls_hs_msg *m);

void wg_tls_hs_stats_get(const struct wg_tls_hs *e, struct wg_tls_hs_stats *st);
void wg_tls_hs_dump(FILE *f, const struct wg_tls_hs *e);

/* Free messages in the pool (tests check nothing leaked). */
unsigned int wg_tls_hs_msgs_avail(const struct wg_tls_hs *e);

#endif /* WG_TLS_HANDSHAKE_H */
