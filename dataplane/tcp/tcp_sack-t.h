/* SPDX-License-Identifier: BSD-3-Clause
 * Sender-side SACK state of one connection (RFC 2018, 2883, 6675, 6937):
 * the scoreboard of what the peer reported holding above snd_una, and the
 * loss-recovery variables that go with it. Embedded in the connection, so
 * it costs the same whether or not anything is ever lost, and nothing is
 * allocated on the fast path.
 */
#ifndef WG_TCP_SACK_T_H
#define WG_TCP_SACK_T_H

#include <stdint.h>

/* Ranges kept. A Linux receiver reports at most 4 at a time; what fills
 * more is many holes in one window (16 holes in flight: a 128 KiB send
 * buffer losing one segment in six). When full, the highest range goes:
 * forgetting SACK information is safe, merely conservative. */
#define WG_TCP_SACK_RANGES 16

struct wg_sack_range {
	uint32_t start;               /* first SACKed byte */
	uint32_t end;                 /* one past the last */
};

struct wg_tcp_sack {
	uint32_t sacked;              /* bytes inside the ranges */
	uint32_t high_rxt;            /* RFC 6675 HighRxt + 1: this recovery resent
	                               * the holes below it */
	uint32_t rescue_rxt;          /* RFC 6675 RescueRxt */
	uint32_t lost_end;            /* unSACKed bytes below are lost whatever the
	                               * ranges say: the first hole on entering
	                               * recovery, partial ACKs without SACK */
	uint32_t recover_fs;          /* RFC 6937 RecoverFS */
	uint32_t prr_delivered;       /* RFC 6937 */
	uint32_t prr_out;
	uint32_t tlp_high;            /* snd_max when the loss probe went */
	uint8_t n;                    /* ranges held: sorted, disjoint, not adjacent,
	                               * all within (snd_una, snd_max] */
	uint8_t rack;                 /* loss is what RACK marked (below lost_end),
	                               * never RFC 6675's DupThresh count */
	uint8_t pad[2];
	struct wg_sack_range r[WG_TCP_SACK_RANGES];
};

#endif /* WG_TCP_SACK_T_H */
