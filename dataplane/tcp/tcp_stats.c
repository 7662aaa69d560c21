/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>

#include "tcp.h"

#define S(f) { #f, offsetof(struct wg_tcp_stats, f) }
#define R(f) { "reass_" #f, offsetof(struct wg_tcp_stats, reass) + \
			    offsetof(struct wg_reass_stats, f) }

static const struct {
	const char *name;
	size_t off;
} fields[] = {
	S(rx_segs), S(tx_segs), S(rx_bytes), S(tx_bytes), S(retrans_segs), S(fast_retrans),
	S(rto_expired), S(active_opens), S(passive_opens), S(established), S(conns),
	S(timewait), S(synrcvd), S(syncookies_sent), S(syncookies_ok), S(syncookies_bad),
	S(resets_rx), S(resets_tx), S(challenge_acks), S(challenge_ack_limited), S(bad_csum),
	S(bad_hdr), S(bad_opts), S(no_conn), S(paws_drops), S(out_of_window), S(ack_too_new),
	S(ack_too_old), S(dup_data), S(ooo_segs), S(zero_window_probes), S(keepalive_probes),
	S(timeouts), S(conn_alloc_fail), S(timewait_recycled), S(mbuf_alloc_fail), S(no_arp), S(mem_pressure),
	S(sack_recoveries), S(sack_rexmit_segs), S(dsack_rcvd), S(sack_bad_blocks), S(sack_reneged),
	S(tlp_probes), S(tlp_recoveries), S(rack_reo_timeouts), S(rack_reordering),
	S(spurious_undos),
	R(queued), R(dup_bytes), R(overlap_mismatch), R(trimmed_window), R(full_drops),
};

_Static_assert(sizeof(fields) / sizeof(fields[0]) * sizeof(uint64_t) ==
	       sizeof(struct wg_tcp_stats), "every TCP counter is listed");

unsigned int
wg_tcp_stats_list(const struct wg_tcp_stats *st, const char **names, uint64_t *values,
		  unsigned int max)
{
	unsigned int i, n = sizeof(fields) / sizeof(fields[0]);

	for (i = 0; i < n && i < max; i++) {
		names[i] = fields[i].name;
		values[i] = *(const uint64_t *)((const char *)st + fields[i].off);
	}
	return n;
}
