/* SPDX-License-Identifier: BSD-3-Clause
 * Segment arrival (RFC 9293 3.10.7) with RFC 5961 (blind in-window attacks),
 * RFC 7323 (PAWS), RFC 6675 SACK loss recovery with RFC 6937 PRR, RFC
 * 5681/6582 (NewReno) for peers without SACK, SYN cookies. Every drop counts.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include "net-t.h"
#include "tcp.h"
#include "tcp_impl.h"
#include "tcp_opts.h"
#include "tcp_rack.h"
#include "tcp_reass.h"
#include "tcp_rto.h"
#include "tcp_sack.h"
#include "timer_wheel.h"

/* What one parsed segment says, in host byte order. */
struct seg {
	uint32_t seq;
	uint32_t ack;
	uint32_t len;          /* payload bytes */
	uint32_t wnd;          /* unscaled */
	uint8_t flags;
	uint16_t hlen;         /* TCP header incl. options */
	struct wg_tcp_opts opts;
};

static inline uint32_t
seg_space(const struct seg *s)
{
	return s->len + ((s->flags & TCP_SYN) ? 1 : 0) + ((s->flags & TCP_FIN) ? 1 : 0);
}

static bool
challenge_ack(struct wg_tcp_conn *c)
{
	struct wg_tcp_ctx *ctx = c->ctx;

	if (ctx->challenge_tokens == 0) {
		ctx->st.challenge_ack_limited++;
		return false;
	}
	ctx->challenge_tokens--;
	ctx->st.challenge_acks++;
	wg_tcp_send_ack(c);
	return true;
}

static uint8_t
pick_wscale(uint32_t buf)
{
	uint8_t s = 0;

	while (s < WG_TCP_OUR_WSCALE_MAX && (buf >> s) > 0xffff)
		s++;
	return s;
}

/* Negotiated options from a SYN onto a new connection. */
static void
apply_syn_opts(struct wg_tcp_conn *c, const struct seg *s)
{
	const struct wg_tcp_conf *cf = &c->ctx->conf;
	uint16_t peer_mss = (s->opts.flags & WG_TCPOPT_F_MSS) ? s->opts.mss : 536;

	c->mss = RTE_MIN(peer_mss, cf->mss);
	if (c->mss < 64)
		c->mss = 64;
	if (s->opts.flags & WG_TCPOPT_F_WSCALE) {
		c->flags |= WG_TCPF_WS;
		c->snd_wscale = s->opts.wscale;
		c->rcv_wscale = pick_wscale(cf->rcv_buf);
	}
	if (s->opts.flags & WG_TCPOPT_F_SACK_PERM)
		c->flags |= WG_TCPF_SACK;
	c->sack.rack = (c->flags & WG_TCPF_SACK) && cf->rack;
	if (s->opts.flags & WG_TCPOPT_F_TS) {
		c->flags |= WG_TCPF_TS;
		c->ts_recent = s->opts.ts_val;
		/* MSS counts no options (RFC 6691): every segment carries 12
		 * bytes of timestamps, so a full one holds 12 bytes less */
		c->mss -= 12;
	}
}

static void
init_send_side(struct wg_tcp_conn *c, uint32_t iss)
{
	c->iss = iss;
	c->snd_una = iss;
	c->snd_nxt = iss + 1;
	c->snd_max = iss + 1;
	c->cwnd = 10u * c->mss;          /* RFC 6928 */
	c->ssthresh = UINT32_MAX / 2;
	c->recover = iss;
	wg_sack_init(&c->sack, iss);
	c->sack.rack = (c->flags & WG_TCPF_SACK) && c->ctx->conf.rack;
	wg_rack_init(&c->rack, iss);
}

/* The handshake's round trip, from the timestamp the peer echoes: only
 * RACK's min_RTT takes it (the RTO estimator waits for data, RFC 6298
 * 2.1), so that its reordering window is known from the start. */
static void
handshake_rtt(struct wg_tcp_conn *c, const struct seg *s)
{
	uint32_t now = (uint32_t)c->ctx->now_ms;

	if ((c->flags & WG_TCPF_TS) && (s->opts.flags & WG_TCPOPT_F_TS) && s->opts.ts_ecr &&
	    now - s->opts.ts_ecr < 600000)
		wg_rack_rtt_sample(c, (now - s->opts.ts_ecr) * 1000 + 500);
}

/* SYN to a listening port: a SYN_RCVD connection, or a stateless SYN
 * cookie when the backlog is full (RFC 4987 3.6). */
static void
passive_open(struct wg_tcp_ctx *ctx, unsigned int port, const struct wg_pkt_info *info,
	     const struct rte_tcp_hdr *th, const uint8_t *frame, const struct seg *s,
	     struct wg_tcp_listener *l)
{
	struct wg_tcp_conn *c, tmp;

	if (ctx->st.synrcvd >= ctx->conf.syn_backlog) {
		memset(&tmp, 0, sizeof(tmp));
		tmp.ctx = ctx;
		tmp.port = (uint16_t)port;
		tmp.laddr = info->dst_ip;
		tmp.raddr = info->src_ip;
		tmp.lport = th->dst_port;
		tmp.rport = th->src_port;
		memcpy(tmp.peer_mac, frame + RTE_ETHER_ADDR_LEN, 6);
		tmp.irs = s->seq;
		tmp.rcv_nxt = s->seq + 1;
		apply_syn_opts(&tmp, s);
		/* Offer only what the ACK brings back: the MSS is in the
		 * cookie and timestamps are echoed, but window scale and
		 * SACK-permitted are not remembered (Linux hides them in its
		 * timestamp), and a peer told of a scale we then ignore
		 * overruns our window. The cookie connection does without. */
		tmp.flags &= ~(WG_TCPF_WS | WG_TCPF_SACK);
		tmp.rcv_wscale = 0;
		/* the MSS before the timestamp allowance: cookie_open takes it
		 * off again */
		init_send_side(&tmp, wg_tcp_cookie_make(ctx, &tmp, s->seq,
				(uint16_t)(tmp.mss + ((tmp.flags & WG_TCPF_TS) ? 12 : 0))));
		tmp.rcv_adv = tmp.rcv_nxt;
		ctx->st.syncookies_sent++;
		wg_tcp_xmit(&tmp, TCP_SYN | TCP_ACK, tmp.iss, 0);
		return;
	}
	c = wg_tcp_conn_new(ctx, port, info->dst_ip, info->src_ip, th->dst_port, th->src_port);
	if (c == NULL)
		return;
	memcpy(c->peer_mac, frame + RTE_ETHER_ADDR_LEN, 6);
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	apply_syn_opts(c, s);
	init_send_side(c, wg_tcp_isn(ctx, c->laddr, c->raddr, c->lport, c->rport));
	c->snd_wnd = s->wnd;              /* SYN windows are unscaled */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	c->ops = l->ops;
	c->app_ctx = l;                   /* the listener, until accepted */
	c->last_rx_ms = ctx->now_ms;
	wg_tcp_set_state(c, WG_TCP_SYN_RCVD);
	ctx->st.passive_opens++;
	wg_tcp_xmit(c, TCP_SYN | TCP_ACK, c->iss, 0);
	wg_tcp_rearm(c);
}

static bool
accept_conn(struct wg_tcp_conn *c)
{
	struct wg_tcp_listener *l = c->app_ctx;
	void *app = NULL;

	c->app_ctx = NULL;
	wg_tcp_set_state(c, WG_TCP_ESTABLISHED);
	c->retries = 0;
	if (c->ops->on_accept(c, l->arg, &app) != 0) {
		c->flags |= WG_TCPF_APP_GONE;
		wg_tcp_xmit(c, TCP_RST | TCP_ACK, wg_tcp_ctl_seq(c), 0);
		wg_tcp_conn_free(c);
		return false;
	}
	c->app_ctx = app;
	return true;
}

/* ACK of a SYN cookie: rebuild the connection the cookie stands for. */
static struct wg_tcp_conn *
cookie_open(struct wg_tcp_ctx *ctx, unsigned int port, const struct wg_pkt_info *info,
	    const struct rte_tcp_hdr *th, const uint8_t *frame, const struct seg *s,
	    struct wg_tcp_listener *l)
{
	struct wg_tcp_conn k, *c;
	uint16_t mss;

	memset(&k, 0, sizeof(k));
	k.laddr = info->dst_ip;
	k.raddr = info->src_ip;
	k.lport = th->dst_port;
	k.rport = th->src_port;
	mss = wg_tcp_cookie_check(ctx, &k, s->seq - 1, s->ack - 1);
	if (mss == 0) {
		ctx->st.syncookies_bad++;
		return NULL;
	}
	c = wg_tcp_conn_new(ctx, port, k.laddr, k.raddr, k.lport, k.rport);
	if (c == NULL)
		return NULL;
	ctx->st.syncookies_ok++;
	memcpy(c->peer_mac, frame + RTE_ETHER_ADDR_LEN, 6);
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->mss = mss;
	/* what our stateless SYN-ACK advertised; the window is computed
	 * from rcv_adv, which must not be left at 0 (depending on rcv_nxt
	 * that reads as a huge open window, past rcv_buf) */
	c->rcv_adv = c->rcv_nxt;
	c->rcv_adv = c->rcv_nxt + RTE_MIN(wg_tcp_rcv_window(c), 0xffffu);
	if (s->opts.flags & WG_TCPOPT_F_TS) {
		/* our SYN-ACK's options are not remembered: only TS can be
		 * recovered from the segment itself */
		c->flags |= WG_TCPF_TS;
		c->ts_recent = s->opts.ts_val;
		c->mss -= 12;
	}
	init_send_side(c, s->ack - 1);
	c->snd_una = s->ack;
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->ops = l->ops;
	c->app_ctx = l;
	c->last_rx_ms = ctx->now_ms;
	ctx->st.passive_opens++;
	wg_tcp_set_state(c, WG_TCP_SYN_RCVD);
	/* on_accept may abort c: busy defers that to the end of the input */
	ctx->busy = c;
	if (!accept_conn(c))
		return NULL;
	return c;
}

/* RFC 9293 3.10.7.4 acceptability test. */
static bool
seq_acceptable(const struct wg_tcp_conn *c, const struct seg *s, uint32_t rwnd)
{
	uint32_t space = seg_space(s);

	/* A zero-length segment may sit on the right edge itself: a peer that
	 * filled our window while a segment of it was lost sends its ACKs
	 * with seq = rcv_adv. RFC 9293's strict "<" would drop every one of
	 * them - and the acknowledgments of our data they carry - until both
	 * sides back off into a stall; Linux accepts the edge too. */
	if (space == 0)
		return seq_ge(s->seq, c->rcv_nxt) && seq_le(s->seq, c->rcv_nxt + rwnd);
	if (rwnd == 0)
		return false;
	return (seq_ge(s->seq, c->rcv_nxt) && seq_lt(s->seq, c->rcv_nxt + rwnd)) ||
	       (seq_ge(s->seq + space - 1, c->rcv_nxt) &&
		seq_lt(s->seq + space - 1, c->rcv_nxt + rwnd));
}

/* Drop acknowledged bytes from the head of the send queue. */
static void
sndq_ack(struct wg_tcp_conn *c, uint32_t bytes)
{
	c->sndq_bytes -= bytes;
	bytes += c->sndq_off;
	while (c->sndq_head != NULL && bytes >= c->sndq_head->data_len) {
		struct rte_mbuf *m = c->sndq_head;

		bytes -= m->data_len;
		c->sndq_head = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
	}
	if (c->sndq_head == NULL)
		c->sndq_tail = NULL;
	c->sndq_off = bytes;
}

/* Resend the first unacknowledged segment (fast retransmit, NewReno partial
 * ACK). Only bytes sent before: unsent data may be queued right behind
 * snd_max, and a segment reaching past it would be acknowledged beyond
 * snd_max - an ACK the acceptability test then drops as too new. */
static void
rtx_head(struct wg_tcp_conn *c)
{
	uint32_t len = RTE_MIN(wg_tcp_seg_size(c), c->sndq_bytes);
	uint8_t flags = TCP_ACK;

	len = RTE_MIN(len, c->snd_max - c->snd_una);
	if ((c->flags & WG_TCPF_FIN_SENT) && len == c->sndq_bytes)
		flags |= TCP_FIN;
	else if (len == 0)
		return;
	wg_tcp_xmit(c, flags, c->snd_una, len);
	c->ctx->st.retrans_segs++;
}

/* Congestion window growth on an ACK of `acked` new bytes (RFC 5681). */
static void
cwnd_grow(struct wg_tcp_conn *c, uint32_t acked)
{
	if (c->cwnd < c->ssthresh)
		c->cwnd += RTE_MIN(acked, 2u * c->mss);   /* ABC, L = 2 */
	else
		c->cwnd += RTE_MAX(1u, c->mss * c->mss / c->cwnd);
	if (c->cwnd > 64u * 1024 * 1024)
		c->cwnd = 64u * 1024 * 1024;
}

/* NewReno (RFC 6582) for peers without SACK. */
static void
newreno_ack(struct wg_tcp_conn *c, const struct seg *s, bool advanced, uint32_t acked,
	    uint32_t wnd)
{
	if (advanced) {
		if (c->flags & WG_TCPF_FASTREC) {
			if (seq_ge(s->ack, c->recover)) {
				/* full ACK: leave recovery (RFC 6582 3.2 step 3) */
				uint32_t fl = RTE_MAX(c->snd_max - c->snd_una, (uint32_t)c->mss);

				c->flags &= ~WG_TCPF_FASTREC;
				c->cwnd = RTE_MIN(c->ssthresh, fl + c->mss);
				if (wg_rack_spurious(c, &s->opts))
					wg_rack_undo(c);
				wg_rack_recovery_end(c);
			} else {
				/* partial ACK: the next hole is lost too */
				rtx_head(c);
				c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
			}
		} else {
			cwnd_grow(c, acked);
		}
		c->dupacks = 0;
	} else if (s->ack == c->snd_una && s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) &&
		   (wnd == c->snd_wnd || (s->opts.flags & WG_TCPOPT_F_SACK)) &&
		   wnd != 0 && c->snd_max != c->snd_una) {
		/* duplicate ACK (RFC 5681 2). Behind a zero window they answer
		 * our window probes: no sign of loss. */
		if (c->dupacks < UINT8_MAX)
			c->dupacks++;
		if (c->dupacks == 3 && !(c->flags & (WG_TCPF_FASTREC | WG_TCPF_LOSSREC))) {
			uint32_t flight = c->snd_max - c->snd_una;

			wg_rack_episode(c);
			c->ssthresh = RTE_MAX(flight / 2, 2u * c->mss);
			c->recover = c->snd_max;
			c->flags |= WG_TCPF_FASTREC;
			c->flags &= ~WG_TCPF_RTT_TIMING;
			rtx_head(c);
			c->ctx->st.fast_retrans++;
			c->cwnd = c->ssthresh + 3u * c->mss;
		} else if (c->flags & WG_TCPF_FASTREC) {
			c->cwnd += c->mss;   /* each dupack: a segment left the network */
		}
	}
}

/* RFC 6937 PRR (with the slow-start reduction bound) on an ACK in SACK
 * recovery that delivered `delivered` bytes: cwnd becomes what may be in
 * the network after this ACK, and the output sends while pipe < cwnd. */
static void
prr_ack(struct wg_tcp_conn *c, uint32_t delivered)
{
	struct wg_tcp_sack *sb = &c->sack;
	uint32_t pipe = wg_sack_pipe(sb, c->snd_una, c->snd_max, c->mss);
	int64_t sndcnt;

	sb->prr_delivered += delivered;
	if (pipe > c->ssthresh) {
		/* proportional: ssthresh / RecoverFS of what was delivered */
		sndcnt = (int64_t)(((uint64_t)sb->prr_delivered * c->ssthresh + sb->recover_fs - 1) /
				   sb->recover_fs) - sb->prr_out;
	} else {
		/* pipe fell below ssthresh: grow back towards it no faster
		 * than slow start would */
		int64_t limit = RTE_MAX((int64_t)sb->prr_delivered - sb->prr_out,
					(int64_t)delivered) + c->mss;

		sndcnt = RTE_MIN((int64_t)(c->ssthresh - pipe), limit);
	}
	if (sndcnt < 0)
		sndcnt = 0;
	/* the ACK that starts recovery always sends the first retransmission */
	if (sb->prr_out == 0 && sndcnt < c->mss)
		sndcnt = c->mss;
	c->cwnd = pipe + (uint32_t)sndcnt;
}

/* RFC 6675 5 step 4: into loss recovery. What to resend is the output's
 * business (NextSeg); here only the state it works from. */
static void
sack_enter_recovery(struct wg_tcp_conn *c)
{
	struct wg_tcp_sack *sb = &c->sack;
	uint32_t flight = c->snd_max - c->snd_una;

	wg_rack_episode(c);
	c->ssthresh = RTE_MAX(flight / 2, 2u * c->mss);
	c->recover = c->snd_max;
	c->flags |= WG_TCPF_FASTREC;
	c->flags &= ~(WG_TCPF_RTT_TIMING | WG_TCPF_TLP);
	/* recovery resends holes and sends new data from snd_max on; a
	 * go-back-N position left by an opened zero window means nothing
	 * here (what lies below snd_max is a hole like any other) */
	c->snd_nxt = c->snd_max;
	sb->high_rxt = c->snd_una;
	sb->rescue_rxt = c->snd_una;
	/* the first hole is lost (step 4.3) even when fewer than DupThresh
	 * segments above it were SACKed (small segments, or a peer that
	 * sends duplicate ACKs without SACK blocks); RACK may have marked
	 * more */
	if (seq_lt(sb->lost_end, c->snd_una + 1))
		sb->lost_end = c->snd_una + 1;
	sb->recover_fs = RTE_MAX(flight, 1u);
	sb->prr_delivered = 0;
	sb->prr_out = 0;
	c->ctx->st.fast_retrans++;
	c->ctx->st.sack_recoveries++;
}

/* RFC 6675 with PRR for peers that SACK, losses found by RACK (RFC 8985)
 * unless configured off. delivered: bytes newly cumulatively ACKed or
 * SACKed (RFC 6937 DeliveredData); dup: the ACK is a duplicate - new SACK
 * information, or a classic duplicate ACK from a peer that negotiated
 * SACK but sends no blocks. Returns the reordering timer to arm (ms), 0
 * for none. */
static uint32_t
sack_ack(struct wg_tcp_conn *c, const struct seg *s, bool advanced, uint32_t acked,
	 uint32_t delivered, bool dup)
{
	struct wg_tcp_sack *sb = &c->sack;
	uint32_t reo = 0;
	bool lost = false;

	/* RFC 6675 5: a cumulative ACK resets DupAcks, and may count as a
	 * duplicate too when it SACKs something new */
	if (advanced)
		c->dupacks = 0;
	if (c->flags & WG_TCPF_FASTREC) {
		if (seq_ge(c->snd_una, c->recover)) {
			/* RFC 6937: the reduction ends at ssthresh - unless the
			 * holes were filled by the originals (Eifel) */
			c->flags &= ~WG_TCPF_FASTREC;
			c->cwnd = c->ssthresh;
			if (wg_rack_spurious(c, &s->opts))
				wg_rack_undo(c);
			wg_rack_recovery_end(c);
			return 0;
		}
		/* a partial ACK with nothing SACKed above it: the peer does
		 * not send blocks, so fall back to NewReno's inference */
		if (advanced && sb->n == 0)
			sb->lost_end = c->snd_una + 1;
		if (sb->rack)
			reo = wg_rack_detect(c, &lost);
		prr_ack(c, delivered);
		return reo;
	}
	if (dup && c->dupacks < UINT8_MAX)
		c->dupacks++;
	if (c->flags & WG_TCPF_TLP) {
		/* The probe was sent after 2 * SRTT of silence, so what is
		 * still unSACKed below data SACKed since had all the time it
		 * needed to arrive: lost (what RACK would conclude from send
		 * times, RFC 8985 7.4). */
		if (dup && sb->n > 0 && seq_lt(c->snd_una, sb->r[0].start) &&
		    !(c->flags & WG_TCPF_LOSSREC)) {
			c->flags &= ~WG_TCPF_TLP;
			sack_enter_recovery(c);
			sb->lost_end = sb->r[sb->n - 1].end;
			c->ctx->st.tlp_recoveries++;
			prr_ack(c, delivered);
			return 0;
		}
		if (seq_ge(c->snd_una, sb->tlp_high))
			c->flags &= ~WG_TCPF_TLP;   /* all of it arrived: episode over */
	}
	if (sb->rack) {
		/* RACK decides; duplicate ACKs count only from a peer that
		 * sends no blocks (nothing to time) */
		if (!(c->flags & WG_TCPF_LOSSREC))
			reo = wg_rack_detect(c, &lost);
		if (!(c->flags & WG_TCPF_LOSSREC) && c->snd_una != c->snd_max &&
		    (lost || (c->dupacks >= 3 && sb->n == 0))) {
			sack_enter_recovery(c);
			prr_ack(c, delivered);
			return reo;
		}
	} else if (!(c->flags & WG_TCPF_LOSSREC) && c->snd_una != c->snd_max &&
		   (c->dupacks >= 3 ||
		    (sb->n > 0 && wg_sack_is_lost(sb, c->snd_una, c->snd_una, c->mss)))) {
		sack_enter_recovery(c);
		prr_ack(c, delivered);
		return 0;
	}
	if (advanced)
		cwnd_grow(c, acked);
	return reo;
}

/* The reordering timer (RFC 8985 6.3): what was waiting out the window
 * may now be lost; recovery starts, or goes on, from here. */
void
wg_tcp_rack_timeout(struct wg_tcp_conn *c)
{
	uint32_t reo;
	bool lost;

	if (!c->sack.rack || (c->flags & WG_TCPF_LOSSREC) || c->state < WG_TCP_ESTABLISHED ||
	    c->state == WG_TCP_TIME_WAIT) {
		wg_tcp_rearm(c);
		return;
	}
	reo = wg_rack_detect(c, &lost);
	if (lost && !(c->flags & WG_TCPF_FASTREC) && c->snd_una != c->snd_max) {
		sack_enter_recovery(c);
		prr_ack(c, 0);
	}
	wg_tcp_output(c);
	if (reo != 0)
		wg_tcp_timer_set(c, WG_TCPT_REO, reo);
	else if (!wg_tw_pending(&c->timer))
		wg_tcp_rearm(c);
}

/* Process the ACK field of a segment on a synchronized connection.
 * Returns false if the segment must be dropped. */
static bool
process_ack(struct wg_tcp_conn *c, const struct seg *s, bool *fin_acked)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	uint32_t acked = 0, data_acked, wnd = s->wnd << c->snd_wscale, sacked_before;
	uint32_t fack0 = c->rack.fack, reo = 0;
	bool fin_was_outstanding = false, sack = (c->flags & WG_TCPF_SACK) != 0;
	bool advanced, classic_dup, reneged = false;

	*fin_acked = false;
	/* RFC 5961 5.2 */
	if (seq_gt(s->ack, c->snd_max)) {
		ctx->st.ack_too_new++;
		wg_tcp_send_ack(c);
		return false;
	}
	if (seq_lt(s->ack, c->snd_una - c->max_snd_wnd)) {
		ctx->st.ack_too_old++;
		challenge_ack(c);
		return false;
	}

	/* decided before the window update below moves snd_wnd */
	classic_dup = s->ack == c->snd_una && s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) &&
		      wnd == c->snd_wnd && wnd != 0 && c->snd_max != c->snd_una &&
		      !(s->opts.flags & WG_TCPOPT_F_SACK);
	sacked_before = c->sack.sacked;
	advanced = seq_gt(s->ack, c->snd_una);
	if (advanced) {
		acked = s->ack - c->snd_una;
		fin_was_outstanding = (c->flags & WG_TCPF_FIN_SENT) &&
				      seq_gt(s->ack, c->snd_una + c->sndq_bytes);
		data_acked = fin_was_outstanding ? acked - 1 : acked;
		if (data_acked > c->sndq_bytes)
			data_acked = c->sndq_bytes;
		/* RTT sample: timestamp echo, else Karn-safe timing */
		if ((c->flags & WG_TCPF_TS) && (s->opts.flags & WG_TCPOPT_F_TS) && s->opts.ts_ecr &&
		    (uint32_t)ctx->now_ms - s->opts.ts_ecr < 600000) {
			uint32_t rtt_us = ((uint32_t)ctx->now_ms - s->opts.ts_ecr) * 1000 + 500;

			wg_rto_sample(&c->rto, rtt_us);
			wg_rack_rtt_sample(c, rtt_us);
		} else if ((c->flags & WG_TCPF_RTT_TIMING) && seq_gt(s->ack, c->rtt_seq)) {
			uint32_t rtt_us = ((uint32_t)ctx->now_ms - c->rtt_start_ms) * 1000 + 500;

			wg_rto_sample(&c->rto, rtt_us);
			wg_rack_rtt_sample(c, rtt_us);
			c->flags &= ~WG_TCPF_RTT_TIMING;
		}
		/* RACK reads the send times of what this ACK delivers from
		 * the buffers about to be freed */
		if (sack)
			wg_rack_cum_ack(c, s->ack, fack0);
		sndq_ack(c, data_acked);
		c->snd_una = s->ack;
		if (seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->retries = 0;
		c->rto.backoff = 0;
		/* Eifel (RFC 3522): the first ACKs after a timeout echo the
		 * originals' timestamps - the timeout was spurious */
		if ((c->flags & WG_TCPF_LOSSREC) && wg_rack_spurious(c, &s->opts))
			wg_rack_undo(c);
		if ((c->flags & WG_TCPF_LOSSREC) && seq_ge(c->snd_una, c->recover)) {
			c->flags &= ~WG_TCPF_LOSSREC;
			wg_rack_recovery_end(c);
		}
		if (sack && wg_sack_ack(&c->sack, c->snd_una)) {
			ctx->st.sack_reneged++;
			sacked_before = 0;
			reneged = true;
			wg_rack_reneged(c);
		}
	}

	if (sack) {
		struct wg_sack_verdict v = { 0 };
		int64_t delivered;

		if ((s->opts.flags & WG_TCPOPT_F_SACK) && s->opts.n_sack > 0) {
			wg_rack_sack(c, s->opts.sack, s->opts.n_sack, s->ack, fack0);
			wg_sack_update(&c->sack, s->opts.sack, s->opts.n_sack, s->ack, c->snd_una,
				       c->snd_max, &v);
			ctx->st.dsack_rcvd += v.dsack;
			ctx->st.sack_bad_blocks += v.bad;
			/* a D-SACK of the tail loss probe says the tail
			 * arrived: the probe was not needed, nothing was
			 * reordered (RFC 8985 7.4; Linux's FLAG_DSACK_TLP) */
			if (v.dsack && (c->flags & WG_TCPF_TLP) &&
			    s->opts.sack[0].end == c->sack.tlp_high)
				c->flags &= ~WG_TCPF_TLP;
			else if (v.dsack)
				wg_rack_dsack(c, &s->opts.sack[0]);
		}
		/* RFC 6937 DeliveredData: the change in snd_una plus the
		 * change in SACKed bytes (those now cumulatively ACKed leave
		 * the ranges: they were counted when SACKed) */
		delivered = (int64_t)acked + c->sack.sacked - sacked_before;
		reo = sack_ack(c, s, advanced, acked, delivered > 0 ? (uint32_t)delivered : 0,
			       v.added > 0 || classic_dup);
	} else {
		newreno_ack(c, s, advanced, acked, wnd);
	}

	if (advanced) {
		if (fin_was_outstanding) {
			*fin_acked = true;
			c->flags &= ~WG_TCPF_FIN_QUEUED;
		}
		/* a fresh RTO for what is still outstanding (RFC 6298 5.3) */
		wg_tcp_timer_stop(c);
		wg_tcp_rearm(c);
		/* The peer reneged: what it dropped shows up in no SACK and,
		 * in recovery, PRR may send nothing more (nothing it holds is
		 * in flight, no ACK will come). As Linux does, time out soon -
		 * after max(SRTT/2, 10 ms), not a whole RTO - and resend from
		 * snd_una with what it SACKs from now on. */
		if (reneged && c->timer_kind == WG_TCPT_RTX)
			wg_tcp_timer_set(c, WG_TCPT_RTX, RTE_MAX(c->rto.srtt_us / 2000, 10u));
		if ((c->flags & WG_TCPF_WANT_WRITE) && wg_tcp_send_space(c) > 0) {
			c->flags &= ~WG_TCPF_WANT_WRITE;
			if (c->ops && c->ops->on_writable && !(c->flags & WG_TCPF_APP_GONE))
				c->ops->on_writable(c);
		}
	}

	/* after the RTO's re-arm: RACK waits out the reordering window for
	 * what may still be on its way, then decides */
	if (reo != 0)
		wg_tcp_timer_set(c, WG_TCPT_REO, reo);

	/* window update (RFC 9293 3.10.7.4, fifth check) */
	if (seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_le(c->snd_wl2, s->ack))) {
		bool opened = c->snd_wnd == 0 && wnd > 0;

		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (opened && c->timer_kind == WG_TCPT_PERSIST) {
			c->rto.backoff = 0;
			wg_tcp_timer_stop(c);
			c->snd_nxt = c->snd_una;
		}
	}
	return true;
}

/* Deliver in-order payload m (headers already trimmed) and whatever the
 * reassembly queue then holds contiguously. */
static void
deliver(struct wg_tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	bool app = c->ops && c->ops->on_data && !(c->flags & WG_TCPF_APP_GONE);
	struct rte_mbuf *more;

	c->rcv_nxt += len;
	ctx->st.rx_bytes += len;
	if (app) {
		c->rcv_held += len;
		c->ops->on_data(c, m);
	} else {
		rte_pktmbuf_free(m);
	}
	while (c->reass != NULL && (more = wg_reass_pop(c->reass, &c->rcv_nxt)) != NULL) {
		ctx->st.rx_bytes += more->pkt_len;
		if (app && !(c->flags & WG_TCPF_APP_GONE)) {
			c->rcv_held += more->pkt_len;
			c->ops->on_data(c, more);
		} else {
			rte_pktmbuf_free(more);
		}
	}
	if (c->reass != NULL && c->reass->n == 0) {
		rte_mempool_put(ctx->reass_pool, c->reass);
		c->reass = NULL;
	}
}

/* Payload of an acceptable segment; takes m. */
static void
process_data(struct wg_tcp_conn *c, struct rte_mbuf *m, const struct seg *s, uint32_t pay_off)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	uint32_t seq = s->seq + ((s->flags & TCP_SYN) ? 1 : 0);
	uint32_t len = s->len;

	if (len == 0 || c->state > WG_TCP_FIN_WAIT_2 || (c->flags & WG_TCPF_RCVD_FIN)) {
		rte_pktmbuf_free(m);
		return;
	}
	rte_pktmbuf_adj(m, (uint16_t)pay_off);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - len));
	if (seq_lt(seq, c->rcv_nxt)) {
		uint32_t dup = c->rcv_nxt - seq;

		ctx->st.dup_data++;
		if (dup >= len) {
			rte_pktmbuf_free(m);
			c->flags |= WG_TCPF_ACK_NOW;
			return;
		}
		rte_pktmbuf_adj(m, (uint16_t)dup);
		seq += dup;
		len -= dup;
	}
	if (seq == c->rcv_nxt && wg_reass_empty(c->reass)) {
		uint32_t win = c->rcv_adv - c->rcv_nxt;

		if (len > win && seq_gt(c->rcv_adv, c->rcv_nxt)) {
			rte_pktmbuf_trim(m, (uint16_t)(len - win));
			len = win;
		}
		/* RFC 1122 4.2.3.2 / 5681 4.2: ACK at least every second
		 * full-sized segment, otherwise within delack_ms. Decided
		 * before delivery so an answer sent from on_data carries it. */
		if (++c->unacked_segs >= 2 || len < c->mss)
			c->flags |= WG_TCPF_ACK_NOW;
		else
			c->flags |= WG_TCPF_DELACK;
		deliver(c, m, len);
		return;
	}
	/* out of order (or filling a hole): queue, and ACK at once so the
	 * sender sees duplicate ACKs and SACK blocks (RFC 5681 4.2) */
	if (c->reass == NULL) {
		if (rte_mempool_get(ctx->reass_pool, (void **)&c->reass) != 0) {
			c->reass = NULL;
			ctx->st.reass.full_drops++;
			rte_pktmbuf_free(m);
			c->flags |= WG_TCPF_ACK_NOW;
			return;
		}
		wg_reass_init(c->reass, ctx->conf.ooo_max);
	}
	ctx->st.ooo_segs++;
	wg_reass_insert(c->reass, m, seq, c->rcv_nxt, c->rcv_adv, &ctx->st.reass);
	if (seq == c->rcv_nxt) {
		struct rte_mbuf *first = wg_reass_pop(c->reass, &c->rcv_nxt);

		if (first != NULL) {
			c->rcv_nxt -= first->pkt_len;   /* deliver() re-adds it */
			deliver(c, first, first->pkt_len);
		}
	}
	/* nothing kept (refused by the caps, or trimmed away): the queue
	 * goes back, or an idle connection would pin one of the few */
	if (c->reass != NULL && c->reass->n == 0) {
		rte_mempool_put(ctx->reass_pool, c->reass);
		c->reass = NULL;
	}
	c->flags |= WG_TCPF_ACK_NOW;
}

static void
process_fin(struct wg_tcp_conn *c, const struct seg *s, bool fin_acked)
{
	uint32_t fin_seq = s->seq + ((s->flags & TCP_SYN) ? 1 : 0) + s->len;

	if (!(s->flags & TCP_FIN) || (c->flags & WG_TCPF_RCVD_FIN))
		return;
	/* only an in-order FIN counts; one after a hole is retransmitted */
	if (fin_seq != c->rcv_nxt)
		return;
	c->rcv_nxt++;
	c->flags |= WG_TCPF_RCVD_FIN | WG_TCPF_ACK_NOW;
	switch (c->state) {
	case WG_TCP_SYN_RCVD:
	case WG_TCP_ESTABLISHED:
		wg_tcp_set_state(c, WG_TCP_CLOSE_WAIT);
		break;
	case WG_TCP_FIN_WAIT_1:
		if (fin_acked) {
			wg_tcp_enter_timewait(c);
			return;   /* c may be gone: a full TIME_WAIT table frees it */
		}
		wg_tcp_set_state(c, WG_TCP_CLOSING);
		break;
	case WG_TCP_FIN_WAIT_2:
		wg_tcp_enter_timewait(c);
		return;
	default:
		break;
	}
	/* after the state change: the app may close from inside on_eof */
	if (c->state == WG_TCP_CLOSE_WAIT && c->ops && c->ops->on_eof &&
	    !(c->flags & WG_TCPF_APP_GONE))
		c->ops->on_eof(c);
}

static void
syn_sent(struct wg_tcp_conn *c, const struct seg *s)
{
	struct wg_tcp_ctx *ctx = c->ctx;

	if (s->flags & TCP_ACK) {
		if (seq_le(s->ack, c->iss) || seq_gt(s->ack, c->snd_max)) {
			if (!(s->flags & TCP_RST))
				wg_tcp_xmit(c, TCP_RST, s->ack, 0);
			return;
		}
	}
	if (s->flags & TCP_RST) {
		if (s->flags & TCP_ACK) {
			ctx->st.resets_rx++;
			wg_tcp_drop(c, -ECONNREFUSED);
		}
		return;
	}
	if (!(s->flags & TCP_SYN))
		return;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	/* our SYN offered every option; keep what the peer echoed */
	c->flags &= ~(WG_TCPF_WS | WG_TCPF_SACK | WG_TCPF_TS);
	apply_syn_opts(c, s);
	if (!(c->flags & WG_TCPF_WS))
		c->rcv_wscale = 0;
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (s->flags & TCP_ACK) {
		c->snd_una = s->ack;
		c->retries = 0;
		c->rto.backoff = 0;
		handshake_rtt(c, s);
		wg_tcp_set_state(c, WG_TCP_ESTABLISHED);
		wg_tcp_timer_stop(c);
		wg_tcp_send_ack(c);
		wg_tcp_rearm(c);
		if (c->ops && c->ops->on_connect)
			c->ops->on_connect(c, 0);
		if (c->state == WG_TCP_ESTABLISHED)
			wg_tcp_output(c);
	} else {
		/* simultaneous open */
		wg_tcp_set_state(c, WG_TCP_SYN_RCVD);
		wg_tcp_xmit(c, TCP_SYN | TCP_ACK, c->iss, 0);
	}
}

/* Parse and check the TCP header; 0 or -EBADMSG (counted). */
static int
parse(struct wg_tcp_ctx *ctx, const uint8_t *frame, const struct wg_pkt_info *info,
      uint32_t rx_flags, struct seg *s)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + info->l3_off);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(frame + info->l4_off);
	uint16_t hlen;

	if (info->l4_len < TCP_HDR_LEN) {
		ctx->st.bad_hdr++;
		return -EBADMSG;
	}
	hlen = (uint16_t)((th->data_off >> 4) * 4);
	if (hlen < TCP_HDR_LEN || hlen > info->l4_len) {
		ctx->st.bad_hdr++;
		return -EBADMSG;
	}
	if (rx_flags & WG_RX_L4_CSUM_BAD) {
		ctx->st.bad_csum++;
		return -EBADMSG;
	}
	if (!(rx_flags & WG_RX_L4_CSUM_GOOD)) {
		uint32_t sum = rte_ipv4_phdr_cksum(ip, 0);

		sum = rte_raw_cksum(th, info->l4_len) + sum;
		sum = ((sum >> 16) & 0xffff) + (sum & 0xffff);
		sum = ((sum >> 16) & 0xffff) + (sum & 0xffff);
		if ((uint16_t)sum != 0xffff) {
			ctx->st.bad_csum++;
			return -EBADMSG;
		}
	}
	s->seq = rte_be_to_cpu_32(th->sent_seq);
	s->ack = rte_be_to_cpu_32(th->recv_ack);
	s->wnd = rte_be_to_cpu_16(th->rx_win);
	s->flags = th->tcp_flags;
	s->hlen = hlen;
	s->len = info->l4_len - hlen;
	if (wg_tcp_opts_parse((const uint8_t *)(th + 1), hlen - TCP_HDR_LEN,
			      (s->flags & TCP_SYN) != 0, &s->opts) < 0) {
		ctx->st.bad_opts++;
		return -EBADMSG;
	}
	/* SYN+RST, SYN+FIN: never legitimate */
	if ((s->flags & TCP_SYN) && (s->flags & (TCP_RST | TCP_FIN))) {
		ctx->st.bad_hdr++;
		return -EBADMSG;
	}
	return 0;
}

static void conn_input(struct wg_tcp_ctx *ctx, struct wg_tcp_conn *c, unsigned int port,
		       struct rte_mbuf *m, const struct wg_pkt_info *info, const uint8_t *frame,
		       const struct seg *sp);

void
wg_tcp_input(struct wg_tcp_ctx *ctx, unsigned int port, struct rte_mbuf *m,
	     const struct wg_pkt_info *info, uint32_t rx_flags)
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(frame + info->l4_off);
	struct wg_tcp_listener *l;
	struct wg_tcp_conn *c;
	struct seg s;

	ctx->st.rx_segs++;
	if (parse(ctx, frame, info, rx_flags, &s) < 0)
		goto drop;
	c = wg_tcp_lookup(ctx, info->dst_ip, info->src_ip, th->dst_port, th->src_port);

	if (c != NULL && c->state == WG_TCP_TIME_WAIT && (s.flags & TCP_SYN) &&
	    !(s.flags & TCP_ACK) && seq_gt(s.seq, c->rcv_nxt)) {
		/* a new incarnation may reuse a TIME_WAIT pair (RFC 6191) */
		wg_tcp_conn_free(c);
		c = NULL;
	}
	if (c == NULL) {
		l = wg_tcp_listener_find(ctx, th->dst_port);
		if (l != NULL && (s.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN) {
			passive_open(ctx, port, info, th, frame, &s, l);
			goto drop;
		}
		if (l != NULL && (s.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK)
			c = cookie_open(ctx, port, info, th, frame, &s, l);
		if (c == NULL) {
			ctx->st.no_conn++;
			wg_tcp_reply_rst(ctx, port, frame, info, s.seq, s.ack, seg_space(&s),
					 s.flags);
			goto drop;
		}
	}
	ctx->busy = c;
	conn_input(ctx, c, port, m, info, frame, &s);
	if (ctx->busy == c && (c->flags & WG_TCPF_KILL)) {
		ctx->busy = NULL;
		c->flags &= ~WG_TCPF_KILL;
		wg_tcp_abort(c);
	}
	ctx->busy = NULL;
	return;
drop:
	rte_pktmbuf_free(m);
}

/* A segment for an existing connection; takes m. */
static void
conn_input(struct wg_tcp_ctx *ctx, struct wg_tcp_conn *c, unsigned int port, struct rte_mbuf *m,
	   const struct wg_pkt_info *info, const uint8_t *frame, const struct seg *sp)
{
	bool fin_acked = false;
	struct seg s = *sp;
	uint32_t rwnd;

	if (c->state == WG_TCP_SYN_SENT) {
		syn_sent(c, &s);
		goto drop;
	}

	/* PAWS (RFC 7323 5.3) */
	if ((c->flags & WG_TCPF_TS) && (s.opts.flags & WG_TCPOPT_F_TS) && !(s.flags & TCP_RST) &&
	    (int32_t)(s.opts.ts_val - c->ts_recent) < 0) {
		ctx->st.paws_drops++;
		wg_tcp_send_ack(c);
		goto drop;
	}

	rwnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	if (c->state == WG_TCP_SYN_RCVD && (s.flags & TCP_SYN) && s.seq == c->irs &&
	    !(s.flags & TCP_ACK)) {
		/* our SYN-ACK was lost: the peer retransmitted its SYN */
		wg_tcp_xmit(c, TCP_SYN | TCP_ACK, c->iss, 0);
		goto drop;
	}
	if (c->state == WG_TCP_SYN_RCVD && (c->flags & WG_TCPF_ACTIVE) &&
	    (s.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && s.seq == c->irs) {
		/* simultaneous open (RFC 9293 3.5, figure 8): the peer's
		 * SYN-ACK answers our SYN. Its SYN is the one taken already;
		 * what is left is the ACK that completes our side. */
		s.seq++;
		s.flags &= (uint8_t)~TCP_SYN;
	}
	if (!seq_acceptable(c, &s, rwnd)) {
		ctx->st.out_of_window++;
		if (!(s.flags & TCP_RST)) {
			wg_tcp_send_ack(c);
			/* TIME-WAIT: the peer's FIN again, so our last ACK was
			 * lost; ACKed just now, and 2MSL starts over (RFC 9293
			 * 3.10.7.4) */
			if (c->state == WG_TCP_TIME_WAIT && (s.flags & TCP_FIN))
				wg_tcp_timer_set(c, WG_TCPT_TIMEWAIT, ctx->conf.timewait_ms);
		}
		goto drop;
	}
	/* timestamps to echo: the segment advances the left edge (RFC 7323 4.3) */
	if ((c->flags & WG_TCPF_TS) && (s.opts.flags & WG_TCPOPT_F_TS) &&
	    seq_le(s.seq, c->last_ack_sent))
		c->ts_recent = s.opts.ts_val;

	/* RST (RFC 5961 3.2): exact match resets, in-window gets a challenge */
	if (s.flags & TCP_RST) {
		if (s.seq == c->rcv_nxt) {
			ctx->st.resets_rx++;
			wg_tcp_drop(c, -ECONNRESET);
		} else {
			challenge_ack(c);
		}
		goto drop;
	}
	/* SYN in a synchronized state (RFC 5961 4.2) */
	if (s.flags & TCP_SYN) {
		challenge_ack(c);
		goto drop;
	}
	/* The peer is there: only now, so that junk cannot keep a dead
	 * connection alive, restart the idle clock, and count the probes it
	 * was sent (keepalive, zero window) as answered - the limits are on
	 * probes in a row without an answer. */
	c->last_rx_ms = ctx->now_ms;
	if (c->timer_kind == WG_TCPT_KEEPALIVE || c->timer_kind == WG_TCPT_PERSIST)
		c->retries = 0;
	if (!(s.flags & TCP_ACK))
		goto drop;

	if (c->state == WG_TCP_SYN_RCVD) {
		if (!seq_gt(s.ack, c->snd_una) || seq_gt(s.ack, c->snd_max)) {
			wg_tcp_reply_rst(ctx, port, frame, info, s.seq, s.ack, seg_space(&s),
					 s.flags);
			goto drop;
		}
		c->snd_una = s.ack;
		c->snd_wnd = s.wnd << c->snd_wscale;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s.seq;
		c->snd_wl2 = s.ack;
		c->rto.backoff = 0;
		handshake_rtt(c, &s);
		wg_tcp_timer_stop(c);
		if (c->flags & WG_TCPF_ACTIVE) {
			/* simultaneous open: our own connect, no listener */
			wg_tcp_set_state(c, WG_TCP_ESTABLISHED);
			c->retries = 0;
			if (c->ops && c->ops->on_connect && !(c->flags & WG_TCPF_APP_GONE))
				c->ops->on_connect(c, 0);
		} else if (!accept_conn(c)) {
			goto drop;
		}
		wg_tcp_rearm(c);
	} else if (!process_ack(c, &s, &fin_acked)) {
		goto drop;
	}

	switch (c->state) {
	case WG_TCP_FIN_WAIT_1:
		if (fin_acked)
			wg_tcp_set_state(c, WG_TCP_FIN_WAIT_2);
		break;
	case WG_TCP_CLOSING:
		if (fin_acked) {
			wg_tcp_enter_timewait(c);
			goto drop;
		}
		break;
	case WG_TCP_LAST_ACK:
		if (fin_acked) {
			wg_tcp_drop(c, 0);
			goto drop;
		}
		break;
	case WG_TCP_TIME_WAIT:
		/* a retransmitted FIN: ACK it and restart 2MSL */
		if (s.flags & TCP_FIN) {
			wg_tcp_send_ack(c);
			wg_tcp_timer_set(c, WG_TCPT_TIMEWAIT, ctx->conf.timewait_ms);
		}
		goto drop;
	default:
		break;
	}

	/* c may be freed below (a full TIME_WAIT table lets it go at once):
	 * wg_tcp_conn_free() clears ctx->busy, which is how we tell, without
	 * reading c */
	process_data(c, m, &s, info->l4_off + s.hlen);
	m = NULL;
	if (ctx->busy != c)
		return;
	process_fin(c, &s, fin_acked || c->state == WG_TCP_FIN_WAIT_2);
	if (ctx->busy != c)
		return;
	if (c->state == WG_TCP_TIME_WAIT) {
		if (c->flags & WG_TCPF_ACK_NOW)
			wg_tcp_send_ack(c);
		return;
	}
	if (c->state == WG_TCP_FIN_WAIT_2)
		wg_tcp_rearm(c);
	wg_tcp_output(c);
	return;
drop:
	if (m != NULL)
		rte_pktmbuf_free(m);
}
