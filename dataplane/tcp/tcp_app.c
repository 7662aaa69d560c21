/* SPDX-License-Identifier: BSD-3-Clause
 * The API the layers above use: send with backpressure, receive
 * accounting (which is what opens the window), close, abort, connect.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "tcp.h"
#include "tcp_impl.h"
#include "tcp_rack.h"
#include "tcp_sack.h"

uint32_t
wg_tcp_send_space(const struct wg_tcp_conn *c)
{
	uint32_t max = c->ctx->conf.snd_buf;

	if (c->state != WG_TCP_ESTABLISHED && c->state != WG_TCP_CLOSE_WAIT)
		return 0;
	if (c->flags & WG_TCPF_FIN_QUEUED)
		return 0;
	return c->sndq_bytes < max ? max - c->sndq_bytes : 0;
}

int
wg_tcp_send(struct wg_tcp_conn *c, struct rte_mbuf *m)
{
	struct rte_mbuf *last;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	if (c->state != WG_TCP_ESTABLISHED && c->state != WG_TCP_CLOSE_WAIT)
		return -ENOTCONN;
	if (c->flags & WG_TCPF_FIN_QUEUED)
		return -EPIPE;
	if (len > wg_tcp_send_space(c)) {
		c->flags |= WG_TCPF_WANT_WRITE;
		return -EAGAIN;
	}
	if (len == 0) {
		rte_pktmbuf_free(m);
		return 0;
	}
	/* flatten into the queue's segment list; per-packet fields of the
	 * old head no longer mean anything, and each buffer's hash words
	 * become its transmit record (tcp_rack.h) */
	for (last = m;; last = last->next) {
		wg_rack_buf_init(last);
		if (last->next == NULL)
			break;
	}
	if (c->sndq_tail != NULL)
		c->sndq_tail->next = m;
	else
		c->sndq_head = m;
	c->sndq_tail = last;
	c->sndq_bytes += len;
	wg_tcp_output(c);
	return 0;
}

void
wg_tcp_recv_done(struct wg_tcp_conn *c, uint32_t n)
{
	uint32_t before = wg_tcp_rcv_window(c);

	c->rcv_held = n < c->rcv_held ? c->rcv_held - n : 0;
	/* tell a peer facing a (nearly) closed window that it opened */
	if (c->state >= WG_TCP_ESTABLISHED && c->state <= WG_TCP_FIN_WAIT_2 &&
	    !(c->flags & WG_TCPF_RCVD_FIN) &&
	    wg_tcp_rcv_window(c) - before >= RTE_MIN(c->ctx->conf.rcv_buf / 2, 2u * c->mss) &&
	    before < 2u * c->mss) {
		c->flags |= WG_TCPF_ACK_NOW;
		wg_tcp_output(c);
	}
}

int
wg_tcp_close(struct wg_tcp_conn *c)
{
	/* told closed already (this may be its last callback): TCP's now */
	if (c->flags & WG_TCPF_APP_GONE)
		return -ENOTCONN;
	switch (c->state) {
	case WG_TCP_ESTABLISHED:
		wg_tcp_set_state(c, WG_TCP_FIN_WAIT_1);
		break;
	case WG_TCP_CLOSE_WAIT:
		wg_tcp_set_state(c, WG_TCP_LAST_ACK);
		break;
	case WG_TCP_SYN_SENT:
	case WG_TCP_SYN_RCVD:
		/* The handshake is not done (SYN_RCVD: an active open met the
		 * peer's SYN; passive ones are not the app's yet). Our SYN is
		 * unacknowledged, so a FIN would take its place in the send
		 * accounting: give the connection up instead (a RST if the
		 * peer heard from us), with no callback, as before. */
		wg_tcp_abort(c);
		return 0;
	default:
		return -ENOTCONN;
	}
	c->flags |= WG_TCPF_FIN_QUEUED;
	wg_tcp_output(c);
	return 0;
}

void
wg_tcp_abort(struct wg_tcp_conn *c)
{
	c->flags |= WG_TCPF_APP_GONE;
	if (c->ctx->busy == c) {
		/* inside one of its own callbacks: the input path still
		 * holds c; it resets the connection on the way out */
		c->flags |= WG_TCPF_KILL;
		return;
	}
	if (c->state >= WG_TCP_SYN_RCVD && c->state != WG_TCP_TIME_WAIT)
		wg_tcp_xmit(c, TCP_RST | TCP_ACK, wg_tcp_ctl_seq(c), 0);
	wg_tcp_conn_free(c);
}

struct wg_tcp_conn *
wg_tcp_connect(struct wg_tcp_ctx *ctx, unsigned int port, uint32_t raddr, uint16_t rport,
	       const uint8_t dst_mac[6], const struct wg_tcp_ops *ops, void *app_ctx)
{
	struct wg_tcp_conn *c = NULL;
	uint32_t laddr;
	uint16_t lport;
	unsigned int tries;

	if (port >= ctx->n_ifaces || ops == NULL) {
		errno = EINVAL;
		return NULL;
	}
	laddr = ctx->ifaces[port].ipv4;

	/* ephemeral port: random start, skip pairs in use (RFC 6056 alg. 1) */
	for (tries = 0; tries < 64; tries++) {
		lport = rte_cpu_to_be_16((uint16_t)(32768 + (wg_tcp_siphash(ctx->secret,
			raddr, rport, ctx->now_ms + tries) % 28232)));
		if (wg_tcp_lookup(ctx, laddr, raddr, lport, rport) == NULL)
			break;
	}
	if (tries == 64) {
		errno = EADDRNOTAVAIL;
		return NULL;
	}
	c = wg_tcp_conn_new(ctx, port, laddr, raddr, lport, rport);
	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(c->peer_mac, dst_mac, 6);
	c->ops = ops;
	c->app_ctx = app_ctx;
	c->mss = ctx->conf.mss;   /* the SYN-ACK's options set the final value */
	c->flags |= WG_TCPF_ACTIVE | WG_TCPF_WS | WG_TCPF_SACK | WG_TCPF_TS;
	for (c->rcv_wscale = 0; c->rcv_wscale < WG_TCP_OUR_WSCALE_MAX &&
	     (ctx->conf.rcv_buf >> c->rcv_wscale) > 0xffff; c->rcv_wscale++)
		;
	c->iss = wg_tcp_isn(ctx, laddr, raddr, lport, rport);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	c->cwnd = 10u * c->mss;
	c->ssthresh = UINT32_MAX / 2;
	c->recover = c->iss;
	wg_sack_init(&c->sack, c->iss);
	wg_rack_init(&c->rack, c->iss);
	c->last_rx_ms = ctx->now_ms;
	wg_tcp_set_state(c, WG_TCP_SYN_SENT);
	ctx->st.active_opens++;
	wg_tcp_xmit(c, TCP_SYN, c->iss, 0);
	wg_tcp_rearm(c);
	return c;
}
