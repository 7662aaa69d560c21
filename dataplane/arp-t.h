/* SPDX-License-Identifier: BSD-3-Clause
 * ARP cache: one per lcore (shared-nothing), open addressing, no malloc after
 * init. A seqcount lets readers on other threads (telemetry) copy entries
 * without stopping the owner.
 */
#ifndef WG_ARP_T_H
#define WG_ARP_T_H

#include <stdint.h>

enum wg_arp_state {
	WG_ARP_FREE = 0,      /* slot unused (linear probing, backward-shift delete) */
	WG_ARP_INCOMPLETE,    /* request sent, no answer yet */
	WG_ARP_REACHABLE,     /* confirmed within reachable_ms */
	WG_ARP_STALE,         /* past reachable_ms: usable, being re-probed (unicast) */
	WG_ARP_FAILED,        /* probes exhausted: callers see no MAC until retried */
};

struct wg_arp_entry {
	uint32_t ip;          /* network byte order */
	uint8_t mac[6];
	uint8_t state;        /* enum wg_arp_state */
	uint8_t probes;       /* requests sent since last confirmation */
	uint64_t confirmed_ms;
	uint64_t next_ms;     /* next timer action (re-probe or expiry) */
};

_Static_assert(sizeof(struct wg_arp_entry) == 32, "two ARP entries per cache line");

struct wg_arp_cache {
	uint32_t mask;          /* capacity - 1, capacity a power of 2 */
	uint32_t used;          /* live entries */
	uint32_t seq;           /* seqcount: odd while the owner writes */
	uint32_t max_probes;
	uint64_t reachable_ms;
	uint64_t retry_ms;
	struct wg_arp_entry *tab;
};

#endif /* WG_ARP_T_H */
