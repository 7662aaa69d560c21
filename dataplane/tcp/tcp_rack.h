/* SPDX-License-Identifier: BSD-3-Clause
 * RACK-TLP loss detection (RFC 8985) and spurious-recovery undo
 * (tcp_rack.c). Internal to the TCP stack.
 */
#ifndef WG_TCP_RACK_H
#define WG_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>

#include "tcp-t.h"
#include "tcp_opts-t.h"
#include "tcp_rack-t.h"

/* Send-queue buffers carry their own transmit record in the mbuf's hash
 * words, which mean nothing once TCP owns the buffer (wg_tcp_send): the
 * time any byte of it was last sent (our ms clock), and whether any byte
 * of it was ever sent twice. A buffer is at most one mbuf segment (about a
 * segment's worth), so this is RACK's per-segment transmit time at buffer
 * granularity, for no memory in the connection. */
#define WG_RACK_BUF_RXT 0x1u

static inline void
wg_rack_buf_init(struct rte_mbuf *m)
{
	m->hash.fdir.lo = 0;
	m->hash.fdir.hi = 0;
}

static inline void
wg_rack_buf_sent(struct rte_mbuf *m, uint32_t now_ms, bool rexmit)
{
	m->hash.fdir.lo = now_ms;
	if (rexmit)
		m->hash.fdir.hi |= WG_RACK_BUF_RXT;
}

static inline uint32_t
wg_rack_buf_ts(const struct rte_mbuf *m)
{
	return m->hash.fdir.lo;
}

static inline bool
wg_rack_buf_rxt(const struct rte_mbuf *m)
{
	return (m->hash.fdir.hi & WG_RACK_BUF_RXT) != 0;
}

/* A new send sequence space from iss. */
void wg_rack_init(struct wg_tcp_rack *r, uint32_t iss);

/* An RTT measurement (us): min_RTT, windowed. */
void wg_rack_rtt_sample(struct wg_tcp_conn *c, uint32_t rtt_us);

/* RFC 8985 6.2 steps 2-3 for the bytes a cumulative ACK up to ack newly
 * delivers (those not SACKed before). Called before the send queue and
 * the scoreboard let go of them; fack0 is RACK.fack before this ACK. */
void wg_rack_cum_ack(struct wg_tcp_conn *c, uint32_t ack, uint32_t fack0);

/* The same for an ACK's SACK blocks, before they are merged into the
 * scoreboard (only what they add counts). */
void wg_rack_sack(struct wg_tcp_conn *c, const struct wg_tcp_sack_block *b, unsigned int n,
		  uint32_t seg_ack, uint32_t fack0);

/* A D-SACK block d arrived (RFC 8985 6.2 step 4, RFC 3708): widens the
 * reordering window once per round trip, and counts towards proving the
 * episode's retransmissions spurious - undoing it when all were. */
void wg_rack_dsack(struct wg_tcp_conn *c, const struct wg_tcp_sack_block *d);

/* The receiver dropped data it had SACKed: what RACK knew delivered is
 * withdrawn with it. */
void wg_rack_reneged(struct wg_tcp_conn *c);

/* RFC 8985 6.2 step 5: moves the scoreboard's lost_end over what was sent
 * a reordering window (and RACK.rtt) before data now delivered; *lost says
 * whether it moved. Returns the ms until more may be deemed lost (the
 * reordering timer to arm), 0 if nothing is waiting. */
uint32_t wg_rack_detect(struct wg_tcp_conn *c, bool *lost);

/* A loss episode (fast recovery or a first timeout) begins: remember the
 * congestion state it is about to cut, for undo. */
void wg_rack_episode(struct wg_tcp_conn *c);

/* One segment of data was sent again (counted for D-SACK undo; the first
 * one's timestamp is the Eifel reference). */
void wg_rack_retransmitted(struct wg_tcp_conn *c);

/* Eifel (RFC 3522): an ACK that moves snd_una during the episode echoes a
 * timestamp older than its first retransmission - the originals arrived. */
bool wg_rack_spurious(const struct wg_tcp_conn *c, const struct wg_tcp_opts *o);

/* The episode was spurious: congestion state back to what it was, out of
 * fast recovery or the timeout's go-back-N (RFC 4015 3.1 for timeouts:
 * carry on with new data), and the reordering is noted. */
void wg_rack_undo(struct wg_tcp_conn *c);

/* Fast recovery or the timeout's recovery ended (step 4's persistence). */
void wg_rack_recovery_end(struct wg_tcp_conn *c);

/* Current reordering window (ms), as detection uses it; WG_RACK_REO_UNKNOWN
 * before any RTT was measured. */
#define WG_RACK_REO_UNKNOWN UINT32_MAX
uint32_t wg_rack_reo_wnd_ms(const struct wg_tcp_conn *c);

void wg_rack_dump(FILE *f, const struct wg_tcp_conn *c);

#endif /* WG_TCP_RACK_H */
