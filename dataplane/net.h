/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_NET_H
#define WG_NET_H

#include <stdint.h>
#include <stdio.h>

#include "net-t.h"

/* Handle one received frame of *len bytes addressed to ifc.
 * rx_flags: WG_RX_* hints from the port. now_ms: lcore clock for ARP.
 * ARP requests for us and ICMP echo requests are answered by rewriting the
 * frame in place (verdict WG_NET_TX, *len set to the reply's length).
 * Valid TCP/UDP for us returns WG_NET_TCP/WG_NET_UDP with *info filled
 * and the frame untouched. Everything else is WG_NET_DROP with exactly one
 * stats counter incremented for the reason. Never reads outside
 * frame[0..*len). arp may be NULL (nothing learned); info must not be.
 * tx_pkts/tx_bytes are the caller's to count once the burst takes a reply. */
enum wg_net_verdict wg_net_input(const struct wg_iface *ifc, struct wg_arp_cache *arp,
				 struct wg_net_stats *st, uint8_t *frame, uint16_t *len,
				 uint32_t rx_flags, uint64_t now_ms, struct wg_pkt_info *info);

/* RFC 1071 Internet checksum over buf (folded, not inverted) seeded with sum.
 * Sums are in the data's memory byte order: seed with values as they lie in
 * the packet (e.g. rte_cpu_to_be_16(IPPROTO_TCP)), chain only over
 * even-length pieces, and store wg_csum_fold()'s result with memcpy, never
 * byte-swapped. wg_csum_fold() folds to 16 bits and inverts: 0 when a
 * received header with its checksum field verifies. */
uint32_t wg_csum_partial(const void *buf, size_t len, uint32_t sum);
uint16_t wg_csum_fold(uint32_t sum);

/* Name/value walk over the counters, for telemetry and dumps; returns the
 * number of counters, fills names/values up to max. */
unsigned int wg_net_stats_list(const struct wg_net_stats *st, const char **names,
			       uint64_t *values, unsigned int max);
void wg_net_stats_add(struct wg_net_stats *sum, const struct wg_net_stats *st);
void wg_net_stats_dump(FILE *f, const struct wg_net_stats *st);

#endif /* WG_NET_H */
