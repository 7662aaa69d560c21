/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_TCP_REASS_H
#define WG_TCP_REASS_H

#include <stdint.h>
#include <stdio.h>

#include "tcp_opts-t.h"
#include "tcp_reass-t.h"

struct rte_mbuf;

/* Empty queue; also what a fresh object from the reass pool needs. */
void wg_reass_init(struct wg_reass *q, uint32_t max_bytes);

/* Take ownership of m (payload of len bytes starting at seq, where seq is
 * after rcv_nxt or overlaps it) and queue what lies inside
 * [rcv_nxt, wnd_end): bytes before rcv_nxt or already held are dropped
 * (held bytes win; differing overlaps are counted), bytes past wnd_end are
 * trimmed. m is freed whenever nothing of it is kept. All sequence
 * comparisons are modulo 2^32. Held segments before rcv_nxt (delivered by
 * the caller meanwhile) are freed first. A duplicate of held data makes its
 * block the first SACK block (RFC 2018: the block holding the segment that
 * triggered the ACK). Data that starts at rcv_nxt (not held yet) is never
 * refused, so a full queue cannot stall the connection: the caller must pop
 * it at once (bytes may pass max_bytes until then), and if the segment cap
 * is hit the highest held segment is dropped (counted as a full drop).
 * Returns 0, -ENOSPC when the caps refused it (m freed, only full_drops
 * counted), or -EINVAL for a NULL q/m or a chain whose nb_segs/pkt_len
 * disagree with its mbufs (m freed). st may be NULL. */
int wg_reass_insert(struct wg_reass *q, struct rte_mbuf *m, uint32_t seq, uint32_t rcv_nxt,
		    uint32_t wnd_end, struct wg_reass_stats *st);

/* If the first held segment starts at *rcv_nxt (or before it, partially
 * delivered already), unlink every contiguous segment from there, trim
 * what precedes *rcv_nxt, chain them into one multi-segment mbuf
 * (nb_segs/pkt_len correct), advance *rcv_nxt past it and return it.
 * Else NULL. Chaining stops short of RTE_MBUF_MAX_NB_SEGS: the rest then
 * starts at the new *rcv_nxt, so callers that loop until NULL get it all. */
struct rte_mbuf *wg_reass_pop(struct wg_reass *q, uint32_t *rcv_nxt);

/* SACK blocks for the held data (RFC 2018 4): the block holding the most
 * recently received segment first, then the others by descending seq,
 * adjacent segments merged into one block. Returns blocks written. */
unsigned int wg_reass_sack(const struct wg_reass *q, struct wg_tcp_sack_block *out,
			   unsigned int max);

/* Free everything held (connection reset/closed). */
void wg_reass_flush(struct wg_reass *q);

/* One line per held segment, for the CLI and debugging. */
void wg_reass_dump(FILE *f, const struct wg_reass *q);

static inline int
wg_reass_empty(const struct wg_reass *q)
{
	return q == NULL || q->n == 0;
}

#endif /* WG_TCP_REASS_H */
