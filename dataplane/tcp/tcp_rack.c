/* SPDX-License-Identifier: BSD-3-Clause
 * RACK-TLP loss detection (RFC 8985) over the RFC 6675 scoreboard, and the
 * undo of loss episodes that prove spurious.
 *
 * RACK decides by time, not by counting duplicate ACKs: data is lost once
 * something sent after it was delivered and a reordering window has passed
 * on top of the round trip. Until the connection has seen reordering the
 * window is 0 while DupThresh segments are SACKed (RFC 6675's behaviour);
 * after, min_RTT/4, widened by D-SACKs. A packet overtaken by less than
 * that is then no loss at all, where DupThresh would have halved cwnd.
 *
 * Transmit times live in the send-queue buffers (tcp_rack.h). Original
 * transmissions go out in sequence order, so above what this recovery
 * resent the buffers' times only grow: what is lost is a prefix of the
 * holes there, and the scoreboard's lost_end marks it. Walks over the
 * send queue are O(buffers outstanding), like the output's copy.
 *
 * Undo: an episode remembers cwnd and ssthresh before its cut. It was
 * spurious when an ACK moving snd_una echoes a timestamp older than the
 * first retransmission (Eifel, RFC 3522: the originals arrived) or when
 * every retransmission came back D-SACKed (RFC 3708); then the congestion
 * state is restored (RFC 4015's response, as Linux's undo).
 */
#include <inttypes.h>
#include <string.h>

#include <rte_mbuf.h>

#include "tcp_impl.h"
#include "tcp_rack.h"
#include "tcp_sack.h"

#define DUPTHRESH 3

/* RACK_sent_after (RFC 8985 6.2): t1/s1 sent after t2/s2; ties in time go
 * by sequence (a burst leaves within one clock tick, in order). */
static inline bool
sent_after(uint32_t t1, uint32_t s1, uint32_t t2, uint32_t s2)
{
	return (int32_t)(t1 - t2) > 0 || (t1 == t2 && seq_gt(s1, s2));
}

/* Walk the send queue's buffers with their sequence ranges [s, e). The
 * head's first sndq_off bytes are acknowledged already. */
#define SNDQ_FOREACH(c, m, s, e) \
	for ((m) = (c)->sndq_head, (s) = (c)->snd_una - (c)->sndq_off; \
	     (m) != NULL && ((e) = (s) + (m)->data_len, 1); (s) = (e), (m) = (m)->next)

void
wg_rack_init(struct wg_tcp_rack *r, uint32_t iss)
{
	memset(r, 0, sizeof(*r));
	r->end_seq = iss;
	r->fack = iss;
	r->dsack_round = iss;
	r->undo_marker = iss;
	r->reo_wnd_mult = 1;
}

void
wg_rack_rtt_sample(struct wg_tcp_conn *c, uint32_t rtt_us)
{
	struct wg_tcp_rack *r = &c->rack;
	uint32_t now = (uint32_t)c->ctx->now_ms;

	if (rtt_us == 0)
		rtt_us = 1;   /* 0 means "no sample" */
	if (r->min_rtt_us == 0 || rtt_us <= r->min_rtt_us ||
	    now - r->min_rtt_stamp > WG_RACK_MIN_RTT_WIN_MS) {
		r->min_rtt_us = rtt_us;
		r->min_rtt_stamp = now;
	}
}

static void
reordering_seen(struct wg_tcp_conn *c)
{
	if (!(c->rack.flags & WG_RACKF_REORDER)) {
		c->rack.flags |= WG_RACKF_REORDER;
		c->ctx->st.rack_reordering++;
	}
}

/* Step 2: one buffer's delivered bytes ending at end. A buffer sent again
 * is ambiguous - the original may be what arrived - unless an RTT as short
 * as the retransmission's is impossible (below min_RTT: it was the
 * original's delivery, not the retransmission's). */
static void
advance(struct wg_tcp_conn *c, const struct rte_mbuf *m, uint32_t end)
{
	struct wg_tcp_rack *r = &c->rack;
	uint32_t ts = wg_rack_buf_ts(m), rtt = (uint32_t)c->ctx->now_ms - ts;

	if (wg_rack_buf_rxt(m) && (uint64_t)rtt * 1000 < (r->min_rtt_us ? r->min_rtt_us : UINT32_MAX))
		return;
	if (!(r->flags & WG_RACKF_VALID) || sent_after(ts, end, r->xmit_ms, r->end_seq)) {
		r->xmit_ms = ts;
		r->end_seq = end;
		r->rtt_ms = rtt;
		r->flags |= WG_RACKF_VALID;
	}
}

/* Steps 2 and 3 for newly delivered bytes [s, e) (below snd_max). */
static void
delivered(struct wg_tcp_conn *c, uint32_t s, uint32_t e, uint32_t fack0)
{
	const struct rte_mbuf *m;
	struct rte_mbuf *it;
	uint32_t ms, me;
	bool rxt = false;

	SNDQ_FOREACH(c, it, ms, me) {
		m = it;
		if (seq_le(me, s))
			continue;
		if (seq_ge(ms, e))
			break;
		advance(c, m, seq_lt(me, e) ? me : e);
		rxt |= wg_rack_buf_rxt(m);
	}
	/* delivered below what was delivered before, never resent: it was
	 * overtaken (RFC 8985 6.2 step 3) */
	if (!rxt && seq_lt(e, fack0))
		reordering_seen(c);
	if (seq_gt(e, c->rack.fack))
		c->rack.fack = e;
}

void
wg_rack_cum_ack(struct wg_tcp_conn *c, uint32_t ack, uint32_t fack0)
{
	uint32_t seq = c->snd_una, room, he, dend = c->snd_una + c->sndq_bytes;

	/* data only: a FIN has no buffer */
	if (seq_gt(ack, dend))
		ack = dend;
	/* the holes of [snd_una, ack): what was SACKed counted when it was */
	while (seq_lt(seq, ack)) {
		seq = wg_sack_skip(&c->sack, seq, &room);
		if (!seq_lt(seq, ack))
			break;
		he = room == UINT32_MAX || seq_gt(seq + room, ack) ? ack : seq + room;
		delivered(c, seq, he, fack0);
		seq = he;
	}
}

void
wg_rack_sack(struct wg_tcp_conn *c, const struct wg_tcp_sack_block *b, unsigned int n,
	     uint32_t seg_ack, uint32_t fack0)
{
	unsigned int i;
	uint32_t s, e, ne;

	if (n > WG_TCP_MAX_SACK)
		n = WG_TCP_MAX_SACK;
	for (i = 0; i < n; i++) {
		s = b[i].start;
		e = b[i].end;
		/* what wg_sack_update() will refuse or not merge */
		if (!seq_lt(s, e) || (i == 0 && wg_sack_is_dsack(b, n, seg_ack)) ||
		    !seq_gt(s, c->snd_una) || seq_gt(e, c->snd_max))
			continue;
		ne = wg_sack_new_end(&c->sack, s, e);
		if (ne != s)
			delivered(c, s, ne, fack0);
	}
}

void
wg_rack_reneged(struct wg_tcp_conn *c)
{
	c->rack.flags &= (uint8_t)~WG_RACKF_VALID;
	c->rack.fack = c->snd_una;
}

static void
undo_done(struct wg_tcp_rack *r)
{
	r->flags &= (uint8_t)~WG_RACKF_UNDO;
}

void
wg_rack_dsack(struct wg_tcp_conn *c, const struct wg_tcp_sack_block *d)
{
	struct wg_tcp_rack *r = &c->rack;

	/* one widening per round trip: the D-SACKs of one burst of
	 * spurious retransmissions are one piece of news. The round ends
	 * once data sent after it began is acknowledged. */
	if ((r->flags & WG_RACKF_DSACK_RND) && seq_gt(c->snd_una, r->dsack_round))
		r->flags &= (uint8_t)~WG_RACKF_DSACK_RND;
	if (!(r->flags & WG_RACKF_DSACK_RND)) {
		r->flags |= WG_RACKF_DSACK_RND;
		r->dsack_round = c->snd_max;
		if (r->reo_wnd_mult < UINT8_MAX)
			r->reo_wnd_mult++;
		r->reo_wnd_persist = WG_RACK_REO_PERSIST;
	}
	/* a duplicate of the episode's data - what it resent lay between
	 * undo_marker and the recovery point: one of its retransmissions was
	 * not needed (RFC 3708 2; Linux counts the same way) */
	if ((r->flags & WG_RACKF_UNDO) && r->undo_segs > 0 && seq_gt(d->end, r->undo_marker) &&
	    seq_le(d->end, c->recover)) {
		if (--r->undo_segs == 0)
			wg_rack_undo(c);
	}
}

uint32_t
wg_rack_reo_wnd_ms(const struct wg_tcp_conn *c)
{
	const struct wg_tcp_rack *r = &c->rack;
	const struct wg_tcp_sack *sb = &c->sack;
	uint64_t w;

	/* RFC 8985 6.2 step 4: without reordering seen, as fast as DupThresh */
	if (!(r->flags & WG_RACKF_REORDER)) {
		if (c->flags & (WG_TCPF_FASTREC | WG_TCPF_LOSSREC))
			return 0;
		if (sb->n >= DUPTHRESH || sb->sacked >= DUPTHRESH * (uint32_t)c->mss)
			return 0;
	}
	/* no round trip measured yet (a handshake without timestamps): no
	 * window to wait out, so nothing is lost by time below DupThresh */
	if (r->min_rtt_us == 0)
		return WG_RACK_REO_UNKNOWN;
	w = (uint64_t)r->reo_wnd_mult * r->min_rtt_us / 4;
	if (c->rto.srtt_us != 0 && w > c->rto.srtt_us)
		w = c->rto.srtt_us;
	return (uint32_t)((w + 999) / 1000);
}

uint32_t
wg_rack_detect(struct wg_tcp_conn *c, bool *lost)
{
	struct wg_tcp_rack *r = &c->rack;
	struct wg_tcp_sack *sb = &c->sack;
	uint32_t reo, from, mark, ms, me, ts, room, now = (uint32_t)c->ctx->now_ms;
	struct rte_mbuf *m;
	int32_t left;

	*lost = false;
	if (!(r->flags & WG_RACKF_VALID) || c->snd_una == c->snd_max)
		return 0;
	reo = wg_rack_reo_wnd_ms(c);
	if (reo == WG_RACK_REO_UNKNOWN)
		return 0;
	/* below high_rxt this recovery resent everything: not RACK's business
	 * until the RTO (lost retransmissions) */
	from = c->snd_una;
	if ((c->flags & WG_TCPF_FASTREC) && seq_gt(sb->high_rxt, from))
		from = sb->high_rxt;
	if (seq_gt(sb->lost_end, from))
		from = sb->lost_end;
	mark = from;
	SNDQ_FOREACH(c, m, ms, me) {
		if (seq_le(me, from))
			continue;
		if (!seq_lt(ms, c->snd_max))
			break;                 /* never sent */
		if (seq_gt(me, c->snd_max))
			me = c->snd_max;
		/* delivered (SACKed) whole: nothing of it to lose */
		if (!seq_lt(wg_sack_skip(sb, seq_gt(ms, from) ? ms : from, &room), me))
			continue;
		ts = wg_rack_buf_ts(m);
		if (!sent_after(r->xmit_ms, r->end_seq, ts, me))
			break;                 /* nothing delivered was sent after it */
		left = (int32_t)(ts + r->rtt_ms + reo - now);
		if (left > 0) {
			/* may still be on its way: look again then */
			return (uint32_t)left;
		}
		mark = me;
		sb->lost_end = mark;
		*lost = true;
	}
	return 0;
}

void
wg_rack_episode(struct wg_tcp_conn *c)
{
	struct wg_tcp_rack *r = &c->rack;

	r->prior_cwnd = c->cwnd;
	r->prior_ssthresh = c->ssthresh;
	r->undo_marker = c->snd_una;
	r->undo_segs = 0;
	r->flags |= WG_RACKF_UNDO;
}

void
wg_rack_retransmitted(struct wg_tcp_conn *c)
{
	struct wg_tcp_rack *r = &c->rack;

	if (!(r->flags & WG_RACKF_UNDO))
		return;
	if (r->undo_segs == 0)
		r->rxt_ts = (uint32_t)c->ctx->now_ms;   /* the TSval it carries */
	if (r->undo_segs < UINT16_MAX)
		r->undo_segs++;
}

bool
wg_rack_spurious(const struct wg_tcp_conn *c, const struct wg_tcp_opts *o)
{
	const struct wg_tcp_rack *r = &c->rack;

	return (r->flags & WG_RACKF_UNDO) && r->undo_segs > 0 && (c->flags & WG_TCPF_TS) &&
	       (o->flags & WG_TCPOPT_F_TS) && o->ts_ecr != 0 && (int32_t)(o->ts_ecr - r->rxt_ts) < 0;
}

void
wg_rack_undo(struct wg_tcp_conn *c)
{
	struct wg_tcp_rack *r = &c->rack;

	if (!(r->flags & WG_RACKF_UNDO))
		return;
	undo_done(r);
	if (c->cwnd < r->prior_cwnd)
		c->cwnd = r->prior_cwnd;
	if (c->ssthresh < r->prior_ssthresh)
		c->ssthresh = r->prior_ssthresh;
	if (c->flags & WG_TCPF_LOSSREC) {
		/* a spurious timeout: what went back to snd_una is being
		 * delivered already; go on from where sending stopped */
		c->flags &= ~WG_TCPF_LOSSREC;
		c->snd_nxt = c->snd_max;
		c->sack.lost_end = c->snd_una;
		c->sack.high_rxt = c->snd_una;
	}
	if (c->flags & WG_TCPF_FASTREC) {
		c->flags &= ~WG_TCPF_FASTREC;
		c->sack.lost_end = c->snd_una;
	}
	c->dupacks = 0;
	reordering_seen(c);
	c->ctx->st.spurious_undos++;
}

void
wg_rack_recovery_end(struct wg_tcp_conn *c)
{
	struct wg_tcp_rack *r = &c->rack;

	if (r->reo_wnd_persist > 0 && --r->reo_wnd_persist == 0)
		r->reo_wnd_mult = 1;
}

void
wg_rack_dump(FILE *f, const struct wg_tcp_conn *c)
{
	const struct wg_tcp_rack *r = &c->rack;

	fprintf(f, "rack: xmit %" PRIu32 " end %" PRIu32 " rtt %" PRIu32 " ms min_rtt %" PRIu32
		" us reo_wnd %" PRIu32 " ms (x%u)%s%s undo %u segs\n", r->xmit_ms,
		r->end_seq - c->iss, r->rtt_ms, r->min_rtt_us, wg_rack_reo_wnd_ms(c),
		r->reo_wnd_mult, (r->flags & WG_RACKF_REORDER) ? " reordering" : "",
		(r->flags & WG_RACKF_UNDO) ? " episode" : "", r->undo_segs);
}
