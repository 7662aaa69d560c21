/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_TCP_H
#define WG_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "net-t.h"
#include "tcp-t.h"

struct rte_mbuf;

/* Defaults a production gateway starts from (Linux-like timers). */
void wg_tcp_conf_defaults(struct wg_tcp_conf *c);

/* Per-lcore set-up: hash table and pools are allocated on socket. name
 * makes the pool names unique per lcore. 0 or -errno. */
int wg_tcp_ctx_init(struct wg_tcp_ctx *ctx, const struct wg_tcp_conf *conf, const char *name,
		    int socket, const struct wg_iface *ifaces, unsigned int n_ifaces,
		    struct rte_mempool *pkt_pool,
		    void (*tx)(void *arg, unsigned int port, struct rte_mbuf *m), void *tx_arg);

/* Accept connections on port (host byte order) of every interface. */
int wg_tcp_listen(struct wg_tcp_ctx *ctx, uint16_t port, const struct wg_tcp_ops *ops, void *arg);

/* A validated IPv4/TCP frame for us (wg_net_input said WG_NET_TCP). Takes m. */
void wg_tcp_input(struct wg_tcp_ctx *ctx, unsigned int port, struct rte_mbuf *m,
		  const struct wg_pkt_info *info, uint32_t rx_flags);

/* Advance the clock (ms) and run due timers. Returns work done. */
unsigned int wg_tcp_timers(struct wg_tcp_ctx *ctx, uint64_t now_ms);

/* Active open from interface port to raddr:rport (network byte order).
 * The next-hop MAC must be known (dst_mac). Returns the connection or NULL
 * with errno. Completion is reported through ops->on_connect. */
struct wg_tcp_conn *wg_tcp_connect(struct wg_tcp_ctx *ctx, unsigned int port, uint32_t raddr,
				   uint16_t rport, const uint8_t dst_mac[6],
				   const struct wg_tcp_ops *ops, void *app_ctx);

/* Queue m (payload chain) for sending; TCP owns it on success. -EAGAIN when
 * it does not fit the send buffer (caller keeps m; on_writable follows),
 * -ENOTCONN/-EPIPE when the connection cannot send. */
int wg_tcp_send(struct wg_tcp_conn *c, struct rte_mbuf *m);

/* Bytes wg_tcp_send() would accept now. */
uint32_t wg_tcp_send_space(const struct wg_tcp_conn *c);

/* Ask for on_writable once send space opens (what -EAGAIN from
 * wg_tcp_send() also arranges). */
static inline void
wg_tcp_want_writable(struct wg_tcp_conn *c)
{
	c->flags |= WG_TCPF_WANT_WRITE;
}

/* The app consumed n bytes it was given by on_data: reopens the window. */
void wg_tcp_recv_done(struct wg_tcp_conn *c, uint32_t n);

/* Orderly close (FIN after queued data). The app gets on_closed later. */
int wg_tcp_close(struct wg_tcp_conn *c);

/* Reset now; on_closed(-ECONNRESET) is not called for an app-initiated abort. */
void wg_tcp_abort(struct wg_tcp_conn *c);

/* the lcore context a connection belongs to: set at creation */
struct wg_tcp_ctx *wg_tcp_conn_ctx(const struct wg_tcp_conn *c);

const char *wg_tcp_state_name(uint8_t state);
unsigned int wg_tcp_stats_list(const struct wg_tcp_stats *st, const char **names,
			       uint64_t *values, unsigned int max);
void wg_tcp_conn_dump(FILE *f, const struct wg_tcp_conn *c);


/* true once the peer's FIN was received (on_eof has run) */
static inline bool
wg_tcp_peer_closed(const struct wg_tcp_conn *c)
{
	return (c->flags & WG_TCPF_RCVD_FIN) != 0;
}

#endif /* WG_TCP_H */
