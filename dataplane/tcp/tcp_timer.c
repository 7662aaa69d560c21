/* SPDX-License-Identifier: BSD-3-Clause
 * Connection timers on the lcore's wheel (1 ms ticks). Each connection has
 * one "main" timer whose meaning is timer_kind (retransmit, persist,
 * keepalive, 2MSL) and one delayed-ACK timer.
 */
#include <errno.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tcp.h"
#include "tcp_impl.h"
#include "tcp_rack.h"
#include "tcp_rto.h"
#include "timer_wheel.h"

void
wg_tcp_timer_set(struct wg_tcp_conn *c, uint8_t kind, uint64_t ms)
{
	c->timer_kind = kind;
	wg_tw_arm(&c->ctx->tw, &c->timer, c->ctx->now_ms + (ms ? ms : 1));
}

void
wg_tcp_timer_stop(struct wg_tcp_conn *c)
{
	c->timer_kind = WG_TCPT_NONE;
	wg_tw_cancel(&c->ctx->tw, &c->timer);
}

static uint64_t
rto_ms(const struct wg_tcp_conn *c)
{
	return (wg_rto_timeout(&c->rto) + 999) / 1000;
}

/* RFC 8985 7.2: a tail loss probe before the RTO, for a SACK connection
 * with an RTT sample, out of recovery, with no probe out yet. */
static bool
tlp_allowed(const struct wg_tcp_conn *c)
{
	return (c->flags & (WG_TCPF_SACK | WG_TCPF_FASTREC | WG_TCPF_LOSSREC | WG_TCPF_TLP)) ==
	       WG_TCPF_SACK && c->rto.srtt_us != 0 && c->snd_wnd != 0 &&
	       c->state >= WG_TCP_ESTABLISHED;
}

/* PTO = 2 * SRTT, at least 10 ms; a lone segment may sit in the peer's
 * delayed-ACK timer (up to 200 ms); never later than the RTO. */
static uint64_t
pto_ms(const struct wg_tcp_conn *c)
{
	uint64_t pto = RTE_MAX((2ull * c->rto.srtt_us + 999) / 1000, 10ull);

	if (c->snd_max - c->snd_una <= c->mss)
		pto += 200;
	return RTE_MIN(pto, rto_ms(c));
}

/* Pick the main timer after any change of what is outstanding. */
void
wg_tcp_rearm(struct wg_tcp_conn *c)
{
	const struct wg_tcp_conf *cf = &c->ctx->conf;

	if (c->state == WG_TCP_TIME_WAIT || c->state == WG_TCP_CLOSED)
		return;
	if (c->snd_nxt != c->snd_una && tlp_allowed(c)) {
		/* a running probe, reordering or retransmission timer stays
		 * (RFC 6298 5.1); an ACK that moved snd_una stopped it first */
		if (!wg_tw_pending(&c->timer) ||
		    (c->timer_kind != WG_TCPT_TLP && c->timer_kind != WG_TCPT_RTX &&
		     c->timer_kind != WG_TCPT_REO))
			wg_tcp_timer_set(c, WG_TCPT_TLP, pto_ms(c));
	} else if (c->snd_nxt != c->snd_una || c->state == WG_TCP_SYN_RCVD ||
	    c->state == WG_TCP_SYN_SENT) {
		/* RFC 6298 5.1: running timers are not restarted by new sends;
		 * the reordering timer comes before the RTO and re-arms it */
		if ((c->timer_kind != WG_TCPT_RTX && c->timer_kind != WG_TCPT_REO) ||
		    !wg_tw_pending(&c->timer))
			wg_tcp_timer_set(c, WG_TCPT_RTX, rto_ms(c));
	} else if (c->sndq_bytes > 0 && c->snd_wnd == 0) {
		if (c->timer_kind != WG_TCPT_PERSIST || !wg_tw_pending(&c->timer))
			wg_tcp_timer_set(c, WG_TCPT_PERSIST, rto_ms(c));
	} else if (c->sndq_bytes > 0) {
		/* Data queued, nothing in flight, the window open: the output
		 * is about to send it, or it could not get a buffer (pool dry).
		 * Then nothing else would ever try again - the retransmission
		 * timer does, under its usual limit. */
		if (c->timer_kind != WG_TCPT_RTX || !wg_tw_pending(&c->timer))
			wg_tcp_timer_set(c, WG_TCPT_RTX, rto_ms(c));
	} else if (c->state == WG_TCP_FIN_WAIT_2) {
		/* Only wg_tcp_close() leads here, and the app can do nothing
		 * more for the connection: without a limit a peer that never
		 * sends its FIN would keep it for ever (Linux's
		 * tcp_fin_timeout for orphans). Every segment restarts it. */
		wg_tcp_timer_set(c, WG_TCPT_TIMEWAIT, cf->fin_wait2_ms);
	} else if (cf->keepalive_ms) {
		wg_tcp_timer_set(c, WG_TCPT_KEEPALIVE, cf->keepalive_ms);
	} else {
		wg_tcp_timer_stop(c);
	}
}

void
wg_tcp_delack_arm(struct wg_tcp_conn *c)
{
	wg_tw_arm(&c->ctx->tw_delack, &c->delack, c->ctx->now_ms + c->ctx->conf.delack_ms);
}

/* Tell the app once; from here the connection is TCP's alone. */
void
wg_tcp_report_closed(struct wg_tcp_conn *c, int reason)
{
	if (c->flags & WG_TCPF_APP_GONE)
		return;
	c->flags |= WG_TCPF_APP_GONE;
	/* a failed active open, also one that went through SYN_RCVD
	 * (simultaneous open), is reported where its success would be */
	if ((c->state == WG_TCP_SYN_SENT || c->state == WG_TCP_SYN_RCVD) &&
	    (c->flags & WG_TCPF_ACTIVE) && c->ops && c->ops->on_connect) {
		c->ops->on_connect(c, reason ? reason : -ECONNREFUSED);
		return;
	}
	/* a passive connection the app never saw has no one to tell */
	if (c->state == WG_TCP_SYN_RCVD && !(c->flags & WG_TCPF_ACTIVE))
		return;
	if (c->ops && c->ops->on_closed)
		c->ops->on_closed(c, reason);
}

/* Abandon the connection now (reset received, timeout, abort). */
void
wg_tcp_drop(struct wg_tcp_conn *c, int reason)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	struct wg_tcp_conn *busy = ctx->busy;

	/* The app's last callback may abort or close c (from a timer, too,
	 * where nothing else marks c busy): busy makes that a deferred no-op
	 * instead of a second free. */
	ctx->busy = c;
	wg_tcp_report_closed(c, reason);
	ctx->busy = busy;
	wg_tcp_conn_free(c);
}

void
wg_tcp_enter_timewait(struct wg_tcp_conn *c)
{
	struct wg_tcp_ctx *ctx = c->ctx;

	wg_tcp_set_state(c, WG_TCP_TIME_WAIT);
	wg_tcp_report_closed(c, 0);
	/* nothing of ours is outstanding: release buffers early */
	if (c->sndq_head != NULL) {
		rte_pktmbuf_free(c->sndq_head);
		c->sndq_head = c->sndq_tail = NULL;
		c->sndq_bytes = 0;
	}
	if (ctx->st.timewait > ctx->conf.max_timewait) {
		/* bounded table: the newest leaves at once rather than
		 * letting TIME_WAIT crowd out live connections; the ACK of
		 * the peer's FIN still goes, or it retransmits into a RST */
		if (c->flags & WG_TCPF_ACK_NOW)
			wg_tcp_send_ack(c);
		ctx->st.timewait_recycled++;
		wg_tcp_conn_free(c);
		return;
	}
	wg_tw_cancel(&ctx->tw_delack, &c->delack);
	wg_tcp_timer_set(c, WG_TCPT_TIMEWAIT, ctx->conf.timewait_ms);
}

static void
on_rtx(struct wg_tcp_conn *c)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	uint32_t flight = c->snd_max - c->snd_una;
	uint32_t limit = (c->state == WG_TCP_SYN_RCVD || c->state == WG_TCP_SYN_SENT) ?
			 ctx->conf.syn_retries : ctx->conf.max_retries;
	bool was_fastrec;

	ctx->st.rto_expired++;
	if (++c->retries > limit) {
		ctx->st.timeouts++;
		/* a handshake that never completed has nothing to reset */
		if (c->state != WG_TCP_SYN_RCVD && c->state != WG_TCP_SYN_SENT)
			wg_tcp_xmit(c, TCP_RST | TCP_ACK, wg_tcp_ctl_seq(c), 0);
		wg_tcp_drop(c, -ETIMEDOUT);
		return;
	}
	wg_rto_backoff(&c->rto);
	was_fastrec = (c->flags & WG_TCPF_FASTREC) != 0;
	c->flags &= ~(WG_TCPF_RTT_TIMING | WG_TCPF_FASTREC | WG_TCPF_TLP);
	c->dupacks = 0;
	if (c->state == WG_TCP_SYN_RCVD) {
		wg_tcp_xmit(c, TCP_SYN | TCP_ACK, c->iss, 0);
	} else if (c->state == WG_TCP_SYN_SENT) {
		wg_tcp_xmit(c, TCP_SYN, c->iss, 0);
	} else if (c->snd_wnd == 0 && c->sndq_bytes > 0) {
		/* The peer shut its window on data in flight: resending into
		 * it sends nothing at all (the output respects the window), so
		 * nothing would ever ask for the window update. Probe it
		 * instead, as the persist timer does; the probe count bounds a
		 * silent peer, a live one answers and keeps the connection.
		 * Everything from snd_una goes again when the window opens. */
		c->snd_nxt = c->snd_una;
		ctx->st.zero_window_probes++;
		wg_tcp_send_probe(c);
		wg_tcp_timer_set(c, WG_TCPT_PERSIST, rto_ms(c));
		return;
	} else {
		/* RFC 5681 3.1: loss → slow start from one segment. ssthresh
		 * is halved once per loss event: not again when the timeout
		 * cuts a fast recovery short (it was halved on entry) or
		 * repeats one (RFC 5681 7: held constant) */
		if (!was_fastrec && !(c->flags & WG_TCPF_LOSSREC)) {
			/* a new episode: a fast recovery cut short keeps
			 * its own, from before its reduction */
			wg_rack_episode(c);
			c->ssthresh = RTE_MAX(flight / 2, 2u * c->mss);
		}
		c->cwnd = c->mss;
		c->snd_nxt = c->snd_una;
		c->recover = c->snd_max;
		c->flags |= WG_TCPF_LOSSREC;
		/* The scoreboard is kept, as Linux does, not cleared as RFC
		 * 6675 5.1 suggests: under heavy loss timeouts are mostly
		 * retransmissions lost again, and clearing would resend up
		 * to a window of data the peer holds. What the clearing
		 * guards against, a receiver that reneges, wg_sack_ack()
		 * detects: the first resent hole brings an ACK that lands
		 * on SACKed data. Everything not SACKed counts as lost (the
		 * output's go-back-N from snd_una skips only SACKed bytes). */
		c->sack.high_rxt = c->snd_una;
		c->sack.lost_end = c->snd_una;
		wg_tcp_output(c);
	}
	wg_tcp_timer_set(c, WG_TCPT_RTX, rto_ms(c));
}

static void
main_timer(struct wg_tcp_conn *c)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	const struct wg_tcp_conf *cf = &ctx->conf;

	switch (c->timer_kind) {
	case WG_TCPT_RTX:
		on_rtx(c);
		break;
	case WG_TCPT_REO:
		ctx->st.rack_reo_timeouts++;
		wg_tcp_rack_timeout(c);
		break;
	case WG_TCPT_TLP:
		/* RFC 8985 7.3: one probe, then the RTO as usual */
		wg_tcp_send_tlp(c);
		wg_tcp_timer_set(c, WG_TCPT_RTX, rto_ms(c));
		break;
	case WG_TCPT_PERSIST:
		/* a peer that shut its window and went away must not hold the
		 * connection and its send buffer for ever (answers reset the
		 * count, see conn_input) */
		if (++c->retries > cf->max_retries) {
			ctx->st.timeouts++;
			wg_tcp_xmit(c, TCP_RST | TCP_ACK, wg_tcp_ctl_seq(c), 0);
			wg_tcp_drop(c, -ETIMEDOUT);
			break;
		}
		ctx->st.zero_window_probes++;
		wg_tcp_send_probe(c);
		wg_rto_backoff(&c->rto);
		wg_tcp_timer_set(c, WG_TCPT_PERSIST, rto_ms(c));
		break;
	case WG_TCPT_KEEPALIVE:
		if (ctx->now_ms - c->last_rx_ms < cf->keepalive_ms) {
			wg_tcp_timer_set(c, WG_TCPT_KEEPALIVE,
					 cf->keepalive_ms - (ctx->now_ms - c->last_rx_ms));
			break;
		}
		if (c->retries >= cf->keepalive_probes) {
			ctx->st.timeouts++;
			wg_tcp_xmit(c, TCP_RST | TCP_ACK, wg_tcp_ctl_seq(c), 0);
			wg_tcp_drop(c, -ETIMEDOUT);
			break;
		}
		c->retries++;
		ctx->st.keepalive_probes++;
		wg_tcp_send_probe(c);
		wg_tcp_timer_set(c, WG_TCPT_KEEPALIVE, cf->keepalive_intvl_ms);
		break;
	case WG_TCPT_TIMEWAIT:
		/* in FIN_WAIT_2 the peer never finished its side */
		wg_tcp_drop(c, c->state == WG_TCP_FIN_WAIT_2 ? -ETIMEDOUT : 0);
		break;
	default:
		break;
	}
}

static void
fire_main(struct wg_tw_node *node, void *arg)
{
	(void)arg;
	main_timer(conn_of(node, timer));
}

static void
fire_delack(struct wg_tw_node *node, void *arg)
{
	struct wg_tcp_conn *c = conn_of(node, delack);

	(void)arg;
	if (c->flags & WG_TCPF_DELACK)
		wg_tcp_send_ack(c);
}

unsigned int
wg_tcp_timers(struct wg_tcp_ctx *ctx, uint64_t now_ms)
{
	if (now_ms != ctx->now_ms) {
		/* buffers we hold (queued sends, out-of-order data, what the
		 * app holds) come from the pool the NIC receives into; if it
		 * ran dry no ACK could arrive to free them. Shrink windows
		 * well before that. O(lcores), so once per ms. */
		unsigned int avail = rte_mempool_avail_count(ctx->pkt_pool);

		ctx->pressure = avail < ctx->pkt_pool->size / 4;
		if (ctx->pressure)
			ctx->st.mem_pressure++;
	}
	ctx->now_ms = now_ms;
	if (now_ms - ctx->challenge_refill_ms >= 1000) {
		ctx->challenge_refill_ms = now_ms;
		ctx->challenge_tokens = ctx->conf.challenge_ack_per_s;
	}
	return wg_tw_advance(&ctx->tw, now_ms, fire_main, ctx) +
	       wg_tw_advance(&ctx->tw_delack, now_ms, fire_delack, ctx);
}
