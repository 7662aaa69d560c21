/* SPDX-License-Identifier: BSD-3-Clause
 * The SACK scoreboard (tcp_sack.c): pure sequence arithmetic, no mbufs.
 * All comparisons are modulo 2^32. "Holes" are the unSACKed stretches of
 * [una, max): hole i < n ends where range i starts, hole n (the tail) runs
 * from the last range to max.
 */
#ifndef WG_TCP_SACK_H
#define WG_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcp_opts-t.h"
#include "tcp_sack-t.h"

/* What wg_sack_update() made of one ACK's blocks. */
struct wg_sack_verdict {
	uint32_t added;               /* bytes SACKed that were not before */
	uint8_t dsack;                /* the first block was a D-SACK (RFC 2883) */
	uint8_t bad;                  /* blocks refused: empty, outside (una, max] */
};

static inline void
wg_sack_clear(struct wg_tcp_sack *sb)
{
	sb->n = 0;
	sb->sacked = 0;
}

/* A new send sequence space starting at iss: the sequence numbers kept
 * here stay within [snd_una, snd_max] from then on (wg_sack_ack moves
 * them along), which is what makes comparing them modulo 2^32 sound. */
static inline void
wg_sack_init(struct wg_tcp_sack *sb, uint32_t iss)
{
	wg_sack_clear(sb);
	sb->rack = 0;
	sb->high_rxt = sb->rescue_rxt = sb->lost_end = iss;
	sb->recover_fs = sb->prr_delivered = sb->prr_out = 0;
}

/* The cumulative ACK moved to una: ranges below it go. Returns true when
 * una lands on or inside a range still held - the receiver threw away data
 * it had SACKed (reneging, RFC 2018 8) - and the scoreboard is cleared. */
bool wg_sack_ack(struct wg_tcp_sack *sb, uint32_t una);

/* Merge the n SACK blocks of an ACK whose acknowledgment field is seg_ack,
 * with [una, max) outstanding. A first block below seg_ack or inside the
 * second is a D-SACK: counted, never merged. Blocks wholly below una are
 * old news (ACKs reordered); blocks reaching below or at una, beyond max,
 * or empty are refused: a receiver holding una would have ACKed it. */
void wg_sack_update(struct wg_tcp_sack *sb, const struct wg_tcp_sack_block *b, unsigned int n,
		    uint32_t seg_ack, uint32_t una, uint32_t max, struct wg_sack_verdict *v);

/* RFC 2883 4: the first of an ACK's n blocks is a D-SACK - below the
 * acknowledgment field seg_ack, or inside the second block. */
bool wg_sack_is_dsack(const struct wg_tcp_sack_block *b, unsigned int n, uint32_t seg_ack);

/* The end of the highest stretch of [s, e) not SACKed yet: what a block
 * [s, e) newly SACKs lies below it. s when the block adds nothing. */
uint32_t wg_sack_new_end(const struct wg_tcp_sack *sb, uint32_t s, uint32_t e);

/* Bytes SACKed below seq. */
uint32_t wg_sack_sacked_below(const struct wg_tcp_sack *sb, uint32_t seq);

/* The first unSACKed sequence number at or after seq; *room is how far it
 * is from there to the next SACKed range (UINT32_MAX: none above). */
uint32_t wg_sack_skip(const struct wg_tcp_sack *sb, uint32_t seq, uint32_t *room);

/* RFC 6675 IsLost for an unSACKed seq in [una, max): three SACKed ranges
 * above it (each at least one segment) or more than 2 * mss SACKed bytes
 * above it, or below lost_end. With sb->rack, below lost_end only: RACK
 * decides by time what is lost (here and in pipe and NextSeg). */
bool wg_sack_is_lost(const struct wg_tcp_sack *sb, uint32_t una, uint32_t seq, uint32_t mss);

/* RFC 6675 SetPipe: unSACKed bytes of [una, max) not deemed lost, plus the
 * ones retransmitted in this recovery (below high_rxt). */
uint32_t wg_sack_pipe(const struct wg_tcp_sack *sb, uint32_t una, uint32_t max, uint32_t mss);

/* RFC 6675 NextSeg rule 1 (lost_only) or 3: the first unSACKed stretch at
 * or above high_rxt that is lost (rule 1) or lies below the highest SACKed
 * byte (rule 3), as *seq and *len (at most mss, never into a SACKed
 * range). false when there is none. */
bool wg_sack_next_hole(const struct wg_tcp_sack *sb, uint32_t una, uint32_t max, uint32_t mss,
		       bool lost_only, uint32_t *seq, uint32_t *len);

/* RFC 6675 NextSeg rule 4: the up to mss bytes ending at the highest
 * unSACKed byte of [una, max). false when all of it is SACKed. */
bool wg_sack_rescue_seg(const struct wg_tcp_sack *sb, uint32_t una, uint32_t max, uint32_t mss,
			uint32_t *seq, uint32_t *len);

/* One line: the ranges relative to base (usually the ISS) and the
 * recovery variables. */
void wg_sack_dump(FILE *f, const struct wg_tcp_sack *sb, uint32_t base);

#endif /* WG_TCP_SACK_H */
