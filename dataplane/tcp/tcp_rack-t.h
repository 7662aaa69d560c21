/* SPDX-License-Identifier: BSD-3-Clause
 * RACK-TLP loss detection (RFC 8985) and the undo of spurious loss
 * recovery (RFC 3522 Eifel detection with timestamps, RFC 3708 D-SACK
 * detection, RFC 4015-style response) for one connection.
 *
 * The per-segment transmit times RACK needs are not kept here: each buffer
 * of the send queue carries the time it was last sent (see tcp_rack.c), so
 * the connection pays only for these few words.
 */
#ifndef WG_TCP_RACK_T_H
#define WG_TCP_RACK_T_H

#include <stdint.h>

/* rack flags */
#define WG_RACKF_VALID      0x01  /* xmit_ms/end_seq/rtt_ms describe delivered data */
#define WG_RACKF_REORDER    0x02  /* RACK.reordering_seen: the peer saw reordering */
#define WG_RACKF_DSACK_RND  0x04  /* dsack_round is running */
#define WG_RACKF_UNDO       0x08  /* a loss episode whose retransmissions may still
				   * prove spurious: prior_* and undo_* are valid */
/* 0x10 - 0x80 unused */

struct wg_tcp_rack {
	uint32_t xmit_ms;             /* RACK.xmit_ts: send time of the most recently
	                               * sent data known delivered (our ms clock) */
	uint32_t end_seq;             /* RACK.end_seq: its end */
	uint32_t rtt_ms;              /* RACK.rtt: its round trip */
	uint32_t fack;                /* RACK.fack: highest sequence delivered */
	uint32_t min_rtt_us;          /* min_RTT over the last WG_RACK_MIN_RTT_WIN_MS */
	uint32_t min_rtt_stamp;       /* when min_rtt_us was measured (ms) */
	uint32_t dsack_round;         /* RACK.dsack_round: snd_max when a D-SACK last
	                               * widened the window */
	uint32_t prior_cwnd;          /* undo: cwnd and ssthresh before the episode */
	uint32_t prior_ssthresh;
	uint32_t undo_marker;         /* snd_una when the episode began: D-SACKs above it
	                               * are of its retransmissions */
	uint32_t rxt_ts;              /* TSval of the episode's first retransmission
	                               * (Eifel): an ACK echoing less was caused by an
	                               * original */
	uint16_t undo_segs;           /* the episode's retransmissions not yet D-SACKed */
	uint8_t reo_wnd_mult;         /* RACK.reo_wnd_mult: in min_RTT/4 steps */
	uint8_t reo_wnd_persist;      /* recoveries left before the multiplier resets */
	uint8_t flags;                /* WG_RACKF_* */
	uint8_t pad[3];
};

/* RFC 8985 6.2 step 4: the window returns to min_RTT/4 after this many
 * recoveries without a D-SACK */
#define WG_RACK_REO_PERSIST   16
/* min_RTT is the minimum over this long (Linux's tcp_min_rtt_wlen) */
#define WG_RACK_MIN_RTT_WIN_MS 300000u

#endif /* WG_TCP_RACK_T_H */
