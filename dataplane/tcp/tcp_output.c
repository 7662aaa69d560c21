/* SPDX-License-Identifier: BSD-3-Clause
 * Segment construction and the send loop: what may go out now (window,
 * congestion window), retransmissions, ACKs, RSTs.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
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

#define HDRS_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr))

static uint16_t ip_id;

/* Receive window to advertise: buffer minus what the app holds and what
 * waits out of order; never pulls the right edge back (RFC 9293 3.8.6.2.2)
 * and avoids silly-window growth (RFC 1122 4.2.3.3). */
uint32_t
wg_tcp_rcv_window(const struct wg_tcp_conn *c)
{
	const struct wg_tcp_conf *cf = &c->ctx->conf;
	uint32_t used = c->rcv_held + (c->reass ? c->reass->bytes : 0);
	uint32_t win = used < cf->rcv_buf ? cf->rcv_buf - used : 0;
	uint32_t cur = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t max = (uint32_t)0xffff << c->rcv_wscale;

	if (win > max)
		win = max;
	if (c->ctx->pressure && win > 2u * c->mss)
		win = 2u * c->mss;
	/* grow only by a useful amount */
	if (win > cur && win - cur < RTE_MIN((uint32_t)c->mss, cf->rcv_buf / 2))
		win = cur;
	if (win < cur)
		win = cur;
	return win;
}

/* Payload of a full segment sent now: the MSS (less timestamps, see
 * apply_syn_opts) less the SACK blocks the segment will carry while data
 * waits out of order here - or the frame outgrows the MTU (RFC 9293
 * 3.7.1: the MSS bounds data plus options beyond the fixed header;
 * Linux's tcp_current_mss does the same). */
uint32_t
wg_tcp_seg_size(const struct wg_tcp_conn *c)
{
	struct wg_tcp_sack_block b[WG_TCP_MAX_SACK];
	unsigned int n;

	if (!(c->flags & WG_TCPF_SACK) || wg_reass_empty(c->reass))
		return c->mss;
	/* as many as wg_tcp_opts_build() fits: 3 beside timestamps */
	n = wg_reass_sack(c->reass, b, (c->flags & WG_TCPF_TS) ? 3 : WG_TCP_MAX_SACK);
	return n > 0 ? c->mss - (4 + 8 * n) : c->mss;
}

/* Copy len bytes at byte offset off of the send queue into dst, and
 * stamp the buffers they come from as sent now (again, if rexmit). */
static void
sndq_copy(const struct wg_tcp_conn *c, uint32_t off, uint32_t len, uint8_t *dst, bool rexmit)
{
	uint32_t now = (uint32_t)c->ctx->now_ms;
	struct rte_mbuf *m = c->sndq_head;

	off += c->sndq_off;
	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (len > 0 && m != NULL) {
		uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);

		memcpy(dst, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n);
		wg_rack_buf_sent(m, now, rexmit);
		dst += n;
		len -= n;
		off = 0;
		m = m->next;
	}
}

/* Fill Ethernet, IPv4 and checksums of a TCP segment whose TCP header and
 * payload are already in m after the (reserved) L2/L3 headers. */
static void
finish_frame(struct wg_tcp_ctx *ctx, unsigned int port, struct rte_mbuf *m,
	     const uint8_t dst_mac[6], uint32_t saddr, uint32_t daddr, uint16_t l4_len,
	     uint16_t tcp_hlen)
{
	const struct wg_iface *ifc = &ctx->ifaces[port];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

	memcpy(eth->dst_addr.addr_bytes, dst_mac, RTE_ETHER_ADDR_LEN);
	memcpy(eth->src_addr.addr_bytes, ifc->mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->packet_id = rte_cpu_to_be_16(ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->hdr_checksum = 0;
	ip->src_addr = saddr;
	ip->dst_addr = daddr;
	th->cksum = 0;
	if ((ifc->flags & (WG_IFACE_F_TX_IP_CSUM | WG_IFACE_F_TX_L4_CSUM)) ==
	    (WG_IFACE_F_TX_IP_CSUM | WG_IFACE_F_TX_L4_CSUM)) {
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(*ip);
		m->l4_len = tcp_hlen;
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		m->ol_flags = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	}
	ctx->st.tx_segs++;
	ctx->tx(ctx->tx_arg, port, m);
}

/* Build and send one segment of c: flags, sequence seq, len payload bytes
 * taken from the send queue at seq. SYNs carry the SYN options. */
int
wg_tcp_xmit(struct wg_tcp_conn *c, uint8_t flags, uint32_t seq, uint32_t len)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	struct wg_tcp_opts o;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint8_t optbuf[WG_TCP_OPTS_MAX_LEN];
	unsigned int olen;
	uint32_t win;
	uint8_t *p;

	memset(&o, 0, sizeof(o));
	if (flags & TCP_SYN) {
		o.flags = WG_TCPOPT_F_MSS;
		o.mss = ctx->conf.mss;
		if (c->flags & WG_TCPF_WS) {
			o.flags |= WG_TCPOPT_F_WSCALE;
			o.wscale = c->rcv_wscale;
		}
		if (c->flags & WG_TCPF_SACK)
			o.flags |= WG_TCPOPT_F_SACK_PERM;
		if (c->flags & WG_TCPF_TS) {
			o.flags |= WG_TCPOPT_F_TS;
			o.ts_val = (uint32_t)ctx->now_ms;
			o.ts_ecr = c->ts_recent;
		}
		olen = wg_tcp_opts_build_syn(optbuf, &o);
	} else {
		if (c->flags & WG_TCPF_TS) {
			o.flags |= WG_TCPOPT_F_TS;
			o.ts_val = (uint32_t)ctx->now_ms;
			o.ts_ecr = c->ts_recent;
		}
		if ((c->flags & WG_TCPF_SACK) && !wg_reass_empty(c->reass)) {
			o.n_sack = (uint8_t)wg_reass_sack(c->reass, o.sack, WG_TCP_MAX_SACK);
			if (o.n_sack)
				o.flags |= WG_TCPOPT_F_SACK;
		}
		olen = wg_tcp_opts_build(optbuf, &o);
	}

	m = rte_pktmbuf_alloc(ctx->pkt_pool);
	if (m == NULL) {
		ctx->st.mbuf_alloc_fail++;
		return -ENOBUFS;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(HDRS_LEN + TCP_HDR_LEN + olen + len));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	th = (struct rte_tcp_hdr *)(p + HDRS_LEN);
	th->src_port = c->lport;
	th->dst_port = c->rport;
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = (flags & TCP_ACK) ? rte_cpu_to_be_32(c->rcv_nxt) : 0;
	th->data_off = (uint8_t)(((TCP_HDR_LEN + olen) / 4) << 4);
	th->tcp_flags = flags;
	if (flags & TCP_SYN) {
		/* the window in a SYN is never scaled (RFC 7323 2.2) */
		win = RTE_MIN(wg_tcp_rcv_window(c), 0xffffu);
		if (flags & TCP_ACK)
			c->rcv_adv = c->rcv_nxt + win;
	} else {
		win = wg_tcp_rcv_window(c);
		c->rcv_adv = c->rcv_nxt + win;
		win >>= c->rcv_wscale;
	}
	th->rx_win = rte_cpu_to_be_16((uint16_t)win);
	th->tcp_urp = 0;
	memcpy(th + 1, optbuf, olen);
	if (len) {
		bool rexmit = seq_lt(seq, c->snd_max);

		sndq_copy(c, seq - c->snd_una, len, (uint8_t *)(th + 1) + olen, rexmit);
		if (rexmit)
			wg_rack_retransmitted(c);
	}

	if (flags & TCP_ACK) {
		c->last_ack_sent = c->rcv_nxt;
		c->flags &= ~(WG_TCPF_ACK_NOW | WG_TCPF_DELACK);
		c->unacked_segs = 0;
		wg_tw_cancel(&ctx->tw_delack, &c->delack);
	}
	if (flags & TCP_RST)
		ctx->st.resets_tx++;
	ctx->st.tx_bytes += len;
	finish_frame(ctx, c->port, m, c->peer_mac, c->laddr, c->raddr,
		     (uint16_t)(TCP_HDR_LEN + olen + len), (uint16_t)(TCP_HDR_LEN + olen));
	return 0;
}

void
wg_tcp_send_ack(struct wg_tcp_conn *c)
{
	wg_tcp_xmit(c, TCP_ACK, wg_tcp_ctl_seq(c), 0);
}

/* Zero-window and keepalive probe: an old sequence number makes the peer
 * answer with an ACK carrying its current window. */
void
wg_tcp_send_probe(struct wg_tcp_conn *c)
{
	wg_tcp_xmit(c, TCP_ACK, c->snd_una - 1, 0);
}

static inline uint32_t
data_end(const struct wg_tcp_conn *c)
{
	return c->snd_una + c->sndq_bytes;
}

/* Start timing the segment that begins at snd_nxt (Karn: new data only,
 * and not while recovering). */
static inline void
rtt_start(struct wg_tcp_conn *c)
{
	if (!(c->flags & (WG_TCPF_TS | WG_TCPF_RTT_TIMING | WG_TCPF_FASTREC)) &&
	    !seq_lt(c->snd_nxt, c->snd_max)) {
		c->flags |= WG_TCPF_RTT_TIMING;
		c->rtt_seq = c->snd_nxt;
		c->rtt_start_ms = (uint32_t)c->ctx->now_ms;
	}
}

/* Outside SACK recovery: from snd_nxt on, as far as the peer's window and
 * cwnd allow. After a timeout snd_nxt went back to snd_una (go-back-N);
 * what the peer SACKed is stepped over, not sent again, and leaves the
 * flight: like Linux after an RTO, everything else below snd_max counts
 * as lost, so only what is resent now is in the network. */
static bool
window_output(struct wg_tcp_conn *c)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	const struct wg_tcp_sack *sb = &c->sack;
	uint32_t flight, off, avail, len, room, limit, seg = wg_tcp_seg_size(c);
	bool sent = false;

	for (;;) {
		limit = UINT32_MAX;
		if (sb->n > 0 && seq_lt(c->snd_nxt, c->snd_max)) {
			uint32_t next = wg_sack_skip(sb, c->snd_nxt, &limit);

			if (next != c->snd_nxt) {
				c->snd_nxt = next;
				continue;
			}
		}
		off = c->snd_nxt - c->snd_una;
		if (off >= c->sndq_bytes)
			break;
		avail = c->sndq_bytes - off;
		flight = sb->n > 0 ? off - wg_sack_sacked_below(sb, c->snd_nxt) : off;
		if (c->snd_wnd <= off || c->cwnd <= flight)
			break;
		room = RTE_MIN(c->snd_wnd - off, c->cwnd - flight);
		len = RTE_MIN(avail, seg);
		len = RTE_MIN(len, room);
		len = RTE_MIN(len, limit);
		/* sender-side SWS avoidance: no runt while a full segment
		 * can be had later and data is in flight; a hole the peer
		 * SACKed the far side of is resent as it is */
		if (len < seg && len < avail && len < limit && flight > 0)
			break;
		if (wg_tcp_xmit(c, TCP_ACK | (len == avail ? TCP_PSH : 0), c->snd_nxt, len) < 0)
			break;
		if (seq_lt(c->snd_nxt, c->snd_max))
			ctx->st.retrans_segs++;
		rtt_start(c);
		c->snd_nxt += len;
		if (seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		sent = true;
	}
	return sent;
}

/* Resend [seq, seq + len) of what was sent before (len > 0, seq + len <=
 * snd_max), the FIN with it when that is where it ends. Returns the
 * sequence space sent, 0 if nothing could go. */
static uint32_t
rexmit(struct wg_tcp_conn *c, uint32_t seq, uint32_t len)
{
	uint32_t dend = data_end(c), dlen = 0;
	uint8_t flags = TCP_ACK;

	len = RTE_MIN(len, wg_tcp_seg_size(c));
	if (seq_lt(seq, dend))
		dlen = RTE_MIN(len, dend - seq);
	if ((c->flags & WG_TCPF_FIN_SENT) && seq + dlen == dend && seq_gt(seq + len, dend))
		flags |= TCP_FIN;
	else if (dlen == 0)
		return 0;
	if (wg_tcp_xmit(c, flags, seq, dlen) < 0)
		return 0;
	c->ctx->st.retrans_segs++;
	c->ctx->st.sack_rexmit_segs++;
	return dlen + ((flags & TCP_FIN) ? 1 : 0);
}

/* In SACK recovery (RFC 6675 5 step C): while pipe < cwnd (which PRR set
 * on the last ACK), NextSeg - lost holes first, then new data, then holes
 * below the highest SACKed byte, then one rescue of the highest unSACKed
 * one. snd_nxt stays at snd_max: retransmissions go by high_rxt. */
static bool
sack_output(struct wg_tcp_conn *c)
{
	struct wg_tcp_sack *sb = &c->sack;
	uint32_t pipe = wg_sack_pipe(sb, c->snd_una, c->snd_max, c->mss);
	uint32_t seq, len, n, off, avail;
	bool sent = false;

	while (pipe < c->cwnd) {
		/* rule 1: a lost hole */
		if (wg_sack_next_hole(sb, c->snd_una, c->snd_max, c->mss, true, &seq, &len)) {
			n = rexmit(c, seq, len);
			if (n == 0)
				break;
			sb->high_rxt = seq + n;
			goto count;
		}
		/* rule 2: new data the peer's window takes (sender SWS as
		 * outside recovery: something is in flight, ACKs will come) */
		off = c->snd_max - c->snd_una;
		if (c->snd_nxt == c->snd_max && off < c->sndq_bytes && off < c->snd_wnd) {
			avail = c->sndq_bytes - off;
			len = RTE_MIN(avail, wg_tcp_seg_size(c));
			len = RTE_MIN(len, c->snd_wnd - off);
			if (len == wg_tcp_seg_size(c) || len == avail) {
				if (wg_tcp_xmit(c, TCP_ACK | (len == avail ? TCP_PSH : 0), c->snd_nxt,
						len) < 0)
					break;
				c->snd_nxt += len;
				c->snd_max = c->snd_nxt;
				n = len;
				goto count;
			}
		}
		/* rule 3: a hole not (yet) deemed lost, below SACKed data -
		 * not with RACK, whose point is that such a hole may merely
		 * be overtaken (Linux resends only what is marked lost) */
		if (!sb->rack &&
		    wg_sack_next_hole(sb, c->snd_una, c->snd_max, c->mss, false, &seq, &len)) {
			n = rexmit(c, seq, len);
			if (n == 0)
				break;
			sb->high_rxt = seq + n;
			goto count;
		}
		/* rule 4: once per recovery, after the cumulative ACK moved,
		 * the tail - nothing above it can ever be SACKed to show it
		 * lost, which otherwise waits for the RTO. Unlike RFC 6675,
		 * not when that highest hole was resent already in this
		 * recovery: that copy is still on its way. */
		if (seq_gt(c->snd_una, sb->rescue_rxt) &&
		    wg_sack_rescue_seg(sb, c->snd_una, c->snd_max, c->mss, &seq, &len) &&
		    seq_gt(seq + len, sb->high_rxt)) {
			n = rexmit(c, seq, len);
			if (n == 0)
				break;
			sb->rescue_rxt = c->recover;
			goto count;
		}
		break;
count:
		pipe += n;
		sb->prr_out += n;
		sent = true;
	}
	return sent;
}

/* The tail loss probe (RFC 8985 7.3): one new segment if the peer's
 * window takes one, else the highest unSACKed segment again. Either way
 * the peer answers, and if the tail of the flight was lost its SACK says
 * so: recovery then repairs it (see sack_ack) rather than the RTO. */
void
wg_tcp_send_tlp(struct wg_tcp_conn *c)
{
	struct wg_tcp_sack *sb = &c->sack;
	uint32_t off = c->snd_max - c->snd_una, seq, len;

	sb->tlp_high = c->snd_max;
	c->flags |= WG_TCPF_TLP;
	c->ctx->st.tlp_probes++;
	if (c->snd_nxt == c->snd_max && off < c->sndq_bytes && off < c->snd_wnd) {
		len = RTE_MIN(c->sndq_bytes - off, wg_tcp_seg_size(c));
		len = RTE_MIN(len, c->snd_wnd - off);
		if (wg_tcp_xmit(c, TCP_ACK | (len == c->sndq_bytes - off ? TCP_PSH : 0), c->snd_nxt,
				len) == 0) {
			c->snd_nxt += len;
			c->snd_max = c->snd_nxt;
			sb->tlp_high = c->snd_max;
		}
		return;
	}
	if (wg_sack_rescue_seg(sb, c->snd_una, c->snd_max, c->mss, &seq, &len) &&
	    rexmit(c, seq, len) > 0)
		c->ctx->st.sack_rexmit_segs--;   /* counted as a probe, not by NextSeg */
}

/* Send what the windows allow, then the FIN, then an owed ACK. */
void
wg_tcp_output(struct wg_tcp_conn *c)
{
	bool sent;

	if (c->state < WG_TCP_ESTABLISHED || c->state == WG_TCP_TIME_WAIT)
		goto ack;
	if ((c->flags & (WG_TCPF_FASTREC | WG_TCPF_SACK)) == (WG_TCPF_FASTREC | WG_TCPF_SACK))
		sent = sack_output(c);
	else
		sent = window_output(c);
	if ((c->flags & WG_TCPF_FIN_QUEUED) && c->snd_nxt == data_end(c)) {
		wg_tcp_xmit(c, TCP_FIN | TCP_ACK, c->snd_nxt, 0);
		c->flags |= WG_TCPF_FIN_SENT;
		c->snd_nxt++;
		if (seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		sent = true;
	}
	if (sent || c->snd_nxt != c->snd_una)
		wg_tcp_rearm(c);
	else if (c->sndq_bytes > 0 && (!wg_tw_pending(&c->timer) ||
		 (c->timer_kind != WG_TCPT_PERSIST && c->timer_kind != WG_TCPT_RTX &&
		  c->timer_kind != WG_TCPT_TLP)))
		wg_tcp_rearm(c);   /* zero window, or no buffer to send from */
ack:
	if ((c->flags & WG_TCPF_ACK_NOW) && c->state != WG_TCP_CLOSED)
		wg_tcp_send_ack(c);
	else if ((c->flags & WG_TCPF_DELACK) && !wg_tw_pending(&c->delack))
		wg_tcp_delack_arm(c);
}

/* RST for a segment that has no connection (RFC 9293 3.10.7.1). */
void
wg_tcp_reply_rst(struct wg_tcp_ctx *ctx, unsigned int port, const uint8_t *frame,
		 const struct wg_pkt_info *info, uint32_t seg_seq, uint32_t seg_ack,
		 uint32_t seg_len, uint8_t seg_flags)
{
	const struct rte_tcp_hdr *in = (const struct rte_tcp_hdr *)(frame + info->l4_off);
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	uint8_t *p;

	if (seg_flags & TCP_RST)
		return;
	m = rte_pktmbuf_alloc(ctx->pkt_pool);
	if (m == NULL) {
		ctx->st.mbuf_alloc_fail++;
		return;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(HDRS_LEN + TCP_HDR_LEN));
	if (p == NULL) {
		/* a pool whose buffers cannot hold 54 bytes: never ours */
		rte_pktmbuf_free(m);
		ctx->st.mbuf_alloc_fail++;
		return;
	}
	th = (struct rte_tcp_hdr *)(p + HDRS_LEN);
	memset(th, 0, TCP_HDR_LEN);
	th->src_port = in->dst_port;
	th->dst_port = in->src_port;
	if (seg_flags & TCP_ACK) {
		th->sent_seq = rte_cpu_to_be_32(seg_ack);
		th->tcp_flags = TCP_RST;
	} else {
		th->recv_ack = rte_cpu_to_be_32(seg_seq + seg_len);
		th->tcp_flags = TCP_RST | TCP_ACK;
	}
	th->data_off = (TCP_HDR_LEN / 4) << 4;
	ctx->st.resets_tx++;
	/* the frame's source MAC is the hop back to the sender */
	finish_frame(ctx, port, m, frame + RTE_ETHER_ADDR_LEN, info->dst_ip, info->src_ip,
		     TCP_HDR_LEN, TCP_HDR_LEN);
}
