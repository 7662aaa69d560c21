/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_ARP_H
#define WG_ARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arp-t.h"
#include "net-t.h"

/* Bytes of table memory wg_arp_cache_init() needs for `entries` (power of 2). */
size_t wg_arp_cache_memsize(uint32_t entries);

/* Set up a cache over caller-provided, zeroed memory of wg_arp_cache_memsize().
 * Returns 0 or -EINVAL (entries not a power of 2, or 0; mem NULL or not
 * 8-byte aligned; a zero timer; max_probes outside 1..255). At most 3/4 of
 * the entries are used. */
int wg_arp_cache_init(struct wg_arp_cache *c, void *mem, uint32_t entries,
		      uint64_t reachable_ms, uint64_t retry_ms, uint32_t max_probes);

/* MAC for ip if the entry is REACHABLE or STALE, else NULL. A miss on a new
 * address creates an INCOMPLETE entry and sets *need_request so the caller
 * sends one ARP request; *need_request stays false while one is outstanding.
 * On NULL errno says why: EAGAIN (resolving), ENOSPC (table full, no request
 * to send), EINVAL (0/8, 127/8 or 224/4 and above: never a neighbour). */
const uint8_t *wg_arp_resolve(struct wg_arp_cache *c, uint32_t ip, uint64_t now_ms,
			      bool *need_request);

/* Record ip -> mac as confirmed. With create=false only existing entries are
 * updated (RFC 826 merge for packets not aimed at us; an unknown ip is not an
 * error). Returns 0, -ENOSPC when full, -EINVAL for an unusable ip/mac
 * (0.0.0.0, broadcast/multicast MAC). */
int wg_arp_confirm(struct wg_arp_cache *c, uint32_t ip, const uint8_t mac[6],
		   uint64_t now_ms, bool create);

/* Called by wg_arp_age() for each entry needing a request now; mac is the
 * known (stale) MAC for a unicast probe or NULL for a broadcast request.
 * Must not call back into the cache. */
typedef void (*wg_arp_probe_fn)(void *arg, uint32_t ip, const uint8_t *mac);

/* Timer pass: REACHABLE -> STALE after reachable_ms, re-probe STALE and
 * INCOMPLETE every retry_ms, FAILED after max_probes unanswered requests and
 * removed one retry_ms later. Returns entries removed. O(capacity): call it
 * at a coarse interval (e.g. every 100 ms), not per packet. */
unsigned int wg_arp_age(struct wg_arp_cache *c, uint64_t now_ms,
			wg_arp_probe_fn probe, void *arg);

/* Consistent copy of up to max live entries for readers on other threads.
 * Returns the number copied; 0 also when no consistent copy could be had
 * within a bounded number of retries. */
unsigned int wg_arp_snapshot(const struct wg_arp_cache *c,
			     struct wg_arp_entry *out, unsigned int max);

/* Build an ARP request from ifc for target ip into buf (>= 60 bytes); dst_mac
 * NULL = broadcast. Returns frame length (60: padded to the Ethernet minimum)
 * or 0 if buflen is too small. */
uint16_t wg_arp_build_request(const struct wg_iface *ifc, uint32_t target_ip,
			      const uint8_t *dst_mac, uint8_t *buf, uint16_t buflen);

/* Gratuitous ARP announcing ifc's address (sent at port start). */
uint16_t wg_arp_build_announce(const struct wg_iface *ifc, uint8_t *buf, uint16_t buflen);

const char *wg_arp_state_name(uint8_t state);
/* Owner lcore (or a quiescent cache) only; other threads use snapshots. */
void wg_arp_dump(FILE *f, const struct wg_arp_cache *c);

#endif /* WG_ARP_H */
