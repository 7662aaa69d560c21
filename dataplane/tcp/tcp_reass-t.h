/* SPDX-License-Identifier: BSD-3-Clause
 * Out-of-order reassembly queue of one TCP connection. Allocated (from a
 * per-lcore mempool) only while data is out of order, so an idle
 * connection pays one pointer for it.
 */
#ifndef WG_TCP_REASS_T_H
#define WG_TCP_REASS_T_H

#include <stdint.h>

struct rte_mbuf;

#define WG_REASS_MAX_SEGS  64
#define WG_REASS_LAST_NONE 0xffff   /* last: the most recent data was delivered */

struct wg_reass_seg {
	uint32_t seq;                 /* first byte, host order */
	uint32_t len;                 /* == m->pkt_len */
	struct rte_mbuf *m;           /* payload only (headers trimmed) */
};

struct wg_reass {
	uint16_t n;                   /* segments held, sorted by seq, disjoint */
	uint16_t last;                /* index of the most recently added/extended
	                                 * segment, or WG_REASS_LAST_NONE */
	uint32_t bytes;               /* payload bytes held */
	uint32_t max_bytes;           /* cap for this connection */
	uint32_t pad;
	struct wg_reass_seg segs[WG_REASS_MAX_SEGS];
};

/* Per-lcore counters, written by the owner only. */
struct wg_reass_stats {
	uint64_t queued;              /* segments accepted out of order */
	uint64_t dup_bytes;           /* bytes already held or already delivered */
	uint64_t overlap_mismatch;    /* overlapping bytes that differed from those held */
	uint64_t trimmed_window;      /* bytes beyond the receive window */
	uint64_t full_drops;          /* segments refused: segment or byte cap reached */
};

#endif /* WG_TCP_REASS_T_H */
