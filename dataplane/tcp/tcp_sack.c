/* SPDX-License-Identifier: BSD-3-Clause
 * SACK scoreboard: a short sorted array of SACKed ranges over the send
 * sequence space, and the RFC 6675 queries loss recovery asks of it.
 *
 * Ranges, not per-segment marks: the send queue holds the app's mbufs as
 * they came (any size, not cut at segment boundaries), so a mark per mbuf
 * would not say which bytes a block covered. Every query walks the array
 * once: O(WG_TCP_SACK_RANGES), no allocation. Segment counts that RFC 6675
 * states in segments (DupThresh SACKed segments above a hole) are bounded
 * from below by counting ranges: each range is at least one segment.
 */
#include <inttypes.h>
#include <string.h>

#include "tcp_impl.h"
#include "tcp_sack.h"

#define DUPTHRESH 3

static inline uint32_t
seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}

static inline uint32_t
seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

/* x clamped into [lo, hi] */
static inline uint32_t
seq_clamp(uint32_t x, uint32_t lo, uint32_t hi)
{
	return seq_min(seq_max(x, lo), hi);
}

bool
wg_sack_ack(struct wg_tcp_sack *sb, uint32_t una)
{
	unsigned int k = 0;

	while (k < sb->n && seq_le(sb->r[k].end, una)) {
		sb->sacked -= sb->r[k].end - sb->r[k].start;
		k++;
	}
	if (k > 0) {
		memmove(sb->r, sb->r + k, (sb->n - k) * sizeof(sb->r[0]));
		sb->n = (uint8_t)(sb->n - k);
	}
	if (seq_lt(sb->high_rxt, una))
		sb->high_rxt = una;
	if (seq_lt(sb->lost_end, una))
		sb->lost_end = una;
	/* A receiver that holds the bytes at una ACKs past them: it has
	 * dropped what it SACKed. Trusting the rest would leave those bytes
	 * unsent for ever. */
	if (sb->n > 0 && seq_le(sb->r[0].start, una)) {
		wg_sack_clear(sb);
		return true;
	}
	return false;
}

/* Add [s, e) (within (una, max]) to the ranges; returns bytes new to them. */
static uint32_t
insert(struct wg_tcp_sack *sb, uint32_t s, uint32_t e)
{
	unsigned int i = 0, j, k;
	uint32_t old = 0, ns, ne;

	while (i < sb->n && seq_lt(sb->r[i].end, s))
		i++;
	for (j = i; j < sb->n && seq_le(sb->r[j].start, e); j++)
		;
	if (i == j) {
		/* disjoint from everything held */
		if (sb->n == WG_TCP_SACK_RANGES) {
			/* full: the highest range is the one that matters
			 * least (loss is decided from below) */
			if (i == sb->n)
				return 0;
			sb->n--;
			sb->sacked -= sb->r[sb->n].end - sb->r[sb->n].start;
		}
		memmove(sb->r + i + 1, sb->r + i, (sb->n - i) * sizeof(sb->r[0]));
		sb->r[i].start = s;
		sb->r[i].end = e;
		sb->n++;
		sb->sacked += e - s;
		return e - s;
	}
	/* ranges i .. j-1 overlap or touch [s, e): one range now */
	for (k = i; k < j; k++)
		old += sb->r[k].end - sb->r[k].start;
	ns = seq_min(s, sb->r[i].start);
	ne = seq_max(e, sb->r[j - 1].end);
	sb->r[i].start = ns;
	sb->r[i].end = ne;
	memmove(sb->r + i + 1, sb->r + j, (sb->n - j) * sizeof(sb->r[0]));
	sb->n = (uint8_t)(sb->n - (j - i - 1));
	sb->sacked += (ne - ns) - old;
	return (ne - ns) - old;
}

bool
wg_sack_is_dsack(const struct wg_tcp_sack_block *b, unsigned int n, uint32_t seg_ack)
{
	/* RFC 2883 4: a duplicate segment is reported first, below the ACK
	 * or inside the block that follows */
	return n > 0 && seq_lt(b[0].start, b[0].end) &&
	       (seq_le(b[0].end, seg_ack) ||
		(n > 1 && seq_lt(b[1].start, b[1].end) && seq_ge(b[0].start, b[1].start) &&
		 seq_le(b[0].end, b[1].end)));
}

uint32_t
wg_sack_new_end(const struct wg_tcp_sack *sb, uint32_t s, uint32_t e)
{
	unsigned int i;

	for (i = sb->n; i-- > 0 && seq_gt(e, s);) {
		if (seq_ge(sb->r[i].start, e))
			continue;          /* wholly above what is left */
		if (seq_lt(sb->r[i].end, e))
			return e;          /* [r.end, e) is not SACKed */
		e = sb->r[i].start;        /* covered down to here */
	}
	return seq_gt(e, s) ? e : s;
}

void
wg_sack_update(struct wg_tcp_sack *sb, const struct wg_tcp_sack_block *b, unsigned int n,
	       uint32_t seg_ack, uint32_t una, uint32_t max, struct wg_sack_verdict *v)
{
	unsigned int i;

	memset(v, 0, sizeof(*v));
	if (n > WG_TCP_MAX_SACK)
		n = WG_TCP_MAX_SACK;
	for (i = 0; i < n; i++) {
		uint32_t s = b[i].start, e = b[i].end;

		if (!seq_lt(s, e)) {
			v->bad++;
			continue;
		}
		/* it says nothing of holes */
		if (i == 0 && wg_sack_is_dsack(b, n, seg_ack)) {
			v->dsack = 1;
			continue;
		}
		if (seq_le(e, una))
			continue;
		if (!seq_gt(s, una) || seq_gt(e, max)) {
			v->bad++;
			continue;
		}
		v->added += insert(sb, s, e);
	}
}

uint32_t
wg_sack_sacked_below(const struct wg_tcp_sack *sb, uint32_t seq)
{
	uint32_t sum = 0;
	unsigned int i;

	for (i = 0; i < sb->n && seq_lt(sb->r[i].start, seq); i++)
		sum += seq_min(sb->r[i].end, seq) - sb->r[i].start;
	return sum;
}

uint32_t
wg_sack_skip(const struct wg_tcp_sack *sb, uint32_t seq, uint32_t *room)
{
	unsigned int i;

	for (i = 0; i < sb->n; i++) {
		if (seq_lt(seq, sb->r[i].start)) {
			*room = sb->r[i].start - seq;
			return seq;
		}
		if (seq_lt(seq, sb->r[i].end))
			seq = sb->r[i].end;
	}
	*room = UINT32_MAX;
	return seq;
}

/* How many holes, counted from the lowest, are lost by RFC 6675's count:
 * lostness only grows downwards (more is SACKed above a lower hole), so
 * the lost holes are a prefix. The tail hole never is (nothing above). */
static unsigned int
lost_holes(const struct wg_tcp_sack *sb, uint32_t mss)
{
	uint32_t above = 0;
	unsigned int j;

	if (sb->rack)
		return 0;
	for (j = sb->n; j-- > 0;) {
		above += sb->r[j].end - sb->r[j].start;
		if (sb->n - j >= DUPTHRESH || above > (DUPTHRESH - 1) * mss)
			return j + 1;
	}
	return 0;
}

static inline void
hole(const struct wg_tcp_sack *sb, unsigned int i, uint32_t una, uint32_t max, uint32_t *hs,
     uint32_t *he)
{
	*hs = i == 0 ? una : sb->r[i - 1].end;
	*he = i < sb->n ? sb->r[i].start : max;
}

bool
wg_sack_is_lost(const struct wg_tcp_sack *sb, uint32_t una, uint32_t seq, uint32_t mss)
{
	unsigned int i = 0;

	if (seq_lt(seq, sb->lost_end) && seq_ge(seq, una))
		return true;
	/* the hole seq is in: the ranges below it */
	while (i < sb->n && seq_ge(seq, sb->r[i].start))
		i++;
	return i < lost_holes(sb, mss);
}

uint32_t
wg_sack_pipe(const struct wg_tcp_sack *sb, uint32_t una, uint32_t max, uint32_t mss)
{
	unsigned int i, lost = lost_holes(sb, mss);
	uint32_t pipe = 0, hs, he, lost_to;

	for (i = 0; i <= sb->n; i++) {
		hole(sb, i, una, max, &hs, &he);
		if (!seq_lt(hs, he))
			continue;
		lost_to = i < lost ? he : seq_clamp(sb->lost_end, hs, he);
		pipe += he - lost_to;
		pipe += seq_clamp(sb->high_rxt, hs, he) - hs;
	}
	return pipe;
}

bool
wg_sack_next_hole(const struct wg_tcp_sack *sb, uint32_t una, uint32_t max, uint32_t mss,
		  bool lost_only, uint32_t *seq, uint32_t *len)
{
	unsigned int i, lost = lost_holes(sb, mss);
	uint32_t from = seq_max(sb->high_rxt, una), hs, he, s, lost_to;

	for (i = 0; i <= sb->n; i++) {
		hole(sb, i, una, max, &hs, &he);
		s = seq_max(hs, from);
		if (!seq_lt(s, he))
			continue;
		if (lost_only) {
			lost_to = i < lost ? he : seq_clamp(sb->lost_end, hs, he);
			if (!seq_lt(s, lost_to))
				continue;
		} else if (i == sb->n) {
			break;   /* rule 3 stops at the highest SACKed byte */
		}
		*seq = s;
		*len = RTE_MIN(he - s, mss);
		return true;
	}
	return false;
}

bool
wg_sack_rescue_seg(const struct wg_tcp_sack *sb, uint32_t una, uint32_t max, uint32_t mss,
		   uint32_t *seq, uint32_t *len)
{
	unsigned int i;
	uint32_t hs, he;

	for (i = sb->n + 1; i-- > 0;) {
		hole(sb, i, una, max, &hs, &he);
		if (seq_lt(hs, he)) {
			*len = RTE_MIN(he - hs, mss);
			*seq = he - *len;
			return true;
		}
	}
	return false;
}

void
wg_sack_dump(FILE *f, const struct wg_tcp_sack *sb, uint32_t base)
{
	unsigned int i;

	fprintf(f, "sack: %u bytes in %u ranges", sb->sacked, sb->n);
	for (i = 0; i < sb->n; i++)
		fprintf(f, " [%u,%u)", sb->r[i].start - base, sb->r[i].end - base);
	fprintf(f, " high_rxt %u lost_end %u prr %u/%u of %u\n", sb->high_rxt - base,
		sb->lost_end - base, sb->prr_out, sb->prr_delivered, sb->recover_fs);
}
