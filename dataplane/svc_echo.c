/* SPDX-License-Identifier: BSD-3-Clause
 * Echo (RFC 862) and discard (RFC 863) over our TCP: the first services, used
 * to test the stack against the kernel and to benchmark it. Echo never
 * buffers more than the receive window lets in: data it cannot send yet is
 * held unacknowledged to the stack, which closes the window on the peer.
 */
#include <errno.h>

#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "chain.h"
#include "svc.h"
#include "tcp.h"

static int
svc_accept(struct wg_tcp_conn *c, void *arg, void **app)
{
	(void)c;
	(void)arg;
	*app = NULL;           /* echo: the chain waiting for send space */
	return 0;
}

static void
echo_flush(struct wg_tcp_conn *c)
{
	struct rte_mbuf *m, *rest;
	uint32_t len;

	while ((m = c->app_ctx) != NULL) {
		len = rte_pktmbuf_pkt_len(m);
		rest = NULL;
		/* The window may have let in more than the send buffer
		 * holds (rcv_buf > snd_buf): waiting for room for all of it
		 * would wait for ever, with the window shut. Send the
		 * leading buffers that fit. */
		if (len > wg_tcp_send_space(c)) {
			rest = wg_chain_split(m, wg_tcp_send_space(c));
			if (rest == m) {
				wg_tcp_want_writable(c);
				return;
			}
			len = rte_pktmbuf_pkt_len(m);
		}
		if (wg_tcp_send(c, m) != 0) {
			if (rest != NULL)
				rte_pktmbuf_chain(m, rest);   /* undo the split */
			return;
		}
		c->app_ctx = rest;
		wg_tcp_recv_done(c, len);
	}
	if (wg_tcp_peer_closed(c))
		wg_tcp_close(c);
}

static void
echo_data(struct wg_tcp_conn *c, struct rte_mbuf *m)
{
	struct rte_mbuf *pending = c->app_ctx;

	if (pending == NULL) {
		c->app_ctx = m;
		echo_flush(c);
		return;
	}
	/* still waiting for space: keep order. Small segments are copied
	 * into the tail so a peer dribbling bytes cannot build a chain of
	 * thousands of mbufs; the window bounds the bytes. */
	if (rte_pktmbuf_pkt_len(m) <= rte_pktmbuf_tailroom(rte_pktmbuf_lastseg(pending)) &&
	    rte_pktmbuf_linearize(m) == 0) {
		char *dst = rte_pktmbuf_append(pending, (uint16_t)rte_pktmbuf_pkt_len(m));

		rte_memcpy(dst, rte_pktmbuf_mtod(m, void *), rte_pktmbuf_pkt_len(m));
		rte_pktmbuf_free(m);
		return;
	}
	if (rte_pktmbuf_chain(pending, m) != 0) {
		/* cannot happen within the window's bound; never lose bytes.
		 * An aborting app gets no on_closed: free what it holds now. */
		rte_pktmbuf_free(m);
		rte_pktmbuf_free(pending);
		c->app_ctx = NULL;
		wg_tcp_abort(c);
	}
}

static void
echo_eof(struct wg_tcp_conn *c)
{
	if (c->app_ctx == NULL)
		wg_tcp_close(c);
}

static void
echo_closed(struct wg_tcp_conn *c, int reason)
{
	(void)reason;
	rte_pktmbuf_free(c->app_ctx);
	c->app_ctx = NULL;
}

static void
discard_data(struct wg_tcp_conn *c, struct rte_mbuf *m)
{
	wg_tcp_recv_done(c, rte_pktmbuf_pkt_len(m));
	rte_pktmbuf_free(m);
}

static void
discard_eof(struct wg_tcp_conn *c)
{
	wg_tcp_close(c);
}

static const struct wg_tcp_ops echo_ops = {
	.on_accept = svc_accept,
	.on_data = echo_data,
	.on_eof = echo_eof,
	.on_writable = echo_flush,
	.on_closed = echo_closed,
};

static const struct wg_tcp_ops discard_ops = {
	.on_accept = svc_accept,
	.on_data = discard_data,
	.on_eof = discard_eof,
};

int
wg_svc_echo_listen(struct wg_tcp_ctx *ctx, uint16_t echo_port, uint16_t discard_port)
{
	int ret = 0;

	if (echo_port)
		ret = wg_tcp_listen(ctx, echo_port, &echo_ops, NULL);
	if (ret == 0 && discard_port)
		ret = wg_tcp_listen(ctx, discard_port, &discard_ops, NULL);
	return ret;
}
