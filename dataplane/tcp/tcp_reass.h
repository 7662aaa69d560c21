/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_TCP_REASS_H
#define WG_TCP_REASS_H

#include <stdint.h>

#include "tcp_opts-t.h"
#include "tcp_reass-t.h"

struct rte_mbuf;

void wg_reass_init(struct wg_reass *q, uint32_t max_bytes);

/* Take ownership of m (payload of len bytes starting at seq, where seq is
 * after rcv_nxt or overlaps it) and queue what lies inside
 * [rcv_nxt, wnd_end): bytes before rcv_nxt or already held are dropped
 * (held bytes win; differing overlaps are counted), bytes past wnd_end are
 * trimmed. m is freed whenever nothing of it is kept. All sequence
 * comparisons are modulo 2^32. Returns 0, or -ENOSPC when the caps refused
 * it (m freed, counted). */
int wg_reass_insert(struct wg_reass *q, struct rte_mbuf *m, uint32_t seq, uint32_t rcv_nxt,
		    uint32_t wnd_end, struct wg_reass_stats *st);

/* If the first held segment starts at *rcv_nxt (or before it, partially
 * delivered already), unlink every contiguous segment from there, trim
 * what precedes *rcv_nxt, chain them into one multi-segment mbuf
 * (nb_segs/pkt_len correct), advance *rcv_nxt past it and return it.
 * Else NULL. */
struct rte_mbuf *wg_reass_pop(struct wg_reass *q, uint32_t *rcv_nxt);

/* SACK blocks for the held data (RFC 2018 4): the block holding the most
 * recently received segment first, then the others by descending seq,
 * adjacent segments merged into one block. Returns blocks written. */
unsigned int wg_reass_sack(const struct wg_reass *q, struct wg_tcp_sack_block *out,
			   unsigned int max);

/* Free everything held (connection reset/closed). */
void wg_reass_flush(struct wg_reass *q);

static inline int
wg_reass_empty(const struct wg_reass *q)
{
	return q == NULL || q->n == 0;
}

#endif /* WG_TCP_REASS_H */
