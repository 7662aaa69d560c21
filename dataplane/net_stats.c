/* SPDX-License-Identifier: BSD-3-Clause
 * Counter names for telemetry and dumps: one table, in struct order, so a
 * counter added to struct wg_net_stats without a row here fails to build.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

struct stat_desc {
	const char *name;
	size_t off;
};

#define STAT(f) { #f, offsetof(struct wg_net_stats, f) }

static const struct stat_desc stat_tab[] = {
	STAT(rx_pkts),
	STAT(rx_bytes),
	STAT(tx_pkts),
	STAT(tx_bytes),
	STAT(tx_full),
	STAT(rx_multiseg),

	STAT(eth_runt),
	STAT(eth_not_us),
	STAT(eth_bad_src),
	STAT(eth_vlan),
	STAT(eth_unknown_type),

	STAT(arp_rx_request),
	STAT(arp_rx_reply),
	STAT(arp_tx_request),
	STAT(arp_tx_reply),
	STAT(arp_bad),
	STAT(arp_not_us),
	STAT(arp_conflict),
	STAT(arp_table_full),

	STAT(ip_rx),
	STAT(ip_bad_version),
	STAT(ip_bad_hlen),
	STAT(ip_bad_len),
	STAT(ip_bad_csum),
	STAT(ip_bad_src),
	STAT(ip_frag_drop),
	STAT(ip_not_us),
	STAT(ip_unknown_proto),

	STAT(icmp_rx),
	STAT(icmp_bad_len),
	STAT(icmp_bad_csum),
	STAT(icmp_echo_request),
	STAT(icmp_echo_reply_tx),
	STAT(icmp_other),

	STAT(tcp_rx),
	STAT(tcp_bad_len),
	STAT(udp_rx),
	STAT(udp_bad_len),
	STAT(l4_no_handler),
};

#define N_STATS (sizeof(stat_tab) / sizeof(stat_tab[0]))

/* All fields are uint64_t, so count * 8 == size means no field is missing
 * (a duplicate row plus a missing one is caught by the unit test, which
 * checks every offset is distinct). */
_Static_assert(N_STATS * sizeof(uint64_t) == sizeof(struct wg_net_stats),
	       "stat_tab must list every field of struct wg_net_stats");

/* Relaxed atomic load: other threads read counters the owner is bumping,
 * and a counter must never be seen torn. */
static inline uint64_t
stat_get(const struct wg_net_stats *st, size_t off)
{
	return __atomic_load_n((const uint64_t *)(const void *)((const char *)st + off),
			       __ATOMIC_RELAXED);
}

unsigned int
wg_net_stats_list(const struct wg_net_stats *st, const char **names, uint64_t *values,
		  unsigned int max)
{
	unsigned int i;

	for (i = 0; i < N_STATS && i < max; i++) {
		if (names != NULL)
			names[i] = stat_tab[i].name;
		if (values != NULL)
			values[i] = stat_get(st, stat_tab[i].off);
	}
	return N_STATS;
}

void
wg_net_stats_add(struct wg_net_stats *sum, const struct wg_net_stats *st)
{
	unsigned int i;

	for (i = 0; i < N_STATS; i++) {
		uint64_t *dst = (uint64_t *)(void *)((char *)sum + stat_tab[i].off);

		*dst += stat_get(st, stat_tab[i].off);
	}
}

void
wg_net_stats_dump(FILE *f, const struct wg_net_stats *st)
{
	unsigned int i;

	for (i = 0; i < N_STATS; i++) {
		uint64_t v = stat_get(st, stat_tab[i].off);

		if (v != 0)
			fprintf(f, "%s %" PRIu64 "\n", stat_tab[i].name, v);
	}
}
