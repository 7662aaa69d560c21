/* SPDX-License-Identifier: BSD-3-Clause
 * ARP cache: open addressing with linear probing and backward-shift deletion,
 * so there are no tombstones and a lookup stops at the first FREE slot. The
 * load factor is capped at 3/4, which both bounds expected probe lengths and
 * guarantees a FREE slot exists, so every probe loop terminates.
 *
 * Concurrency: one owner lcore reads and writes; other threads only call
 * wg_arp_snapshot(). Each modification is bracketed by a seqcount write
 * section (seq odd while writing), the same protocol as DPDK's rte_seqcount.
 * Inside it, entries are built in a local and published word by word with
 * relaxed atomic stores, which the reader mirrors with relaxed atomic loads:
 * the seqcount provides the ordering, the atomics make the overlap a defined
 * (and ThreadSanitizer-clean) race instead of a plain data race. On x86 both
 * compile to ordinary moves.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_pause.h>

#include "arp.h"

#define ARP_FRAME_LEN      (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)   /* 60 */
#define ETH_OFF_DST        offsetof(struct rte_ether_hdr, dst_addr)
#define ETH_OFF_SRC        offsetof(struct rte_ether_hdr, src_addr)
#define ETH_OFF_TYPE       offsetof(struct rte_ether_hdr, ether_type)
#define ARP_OFF            RTE_ETHER_HDR_LEN
#define ARP_OFF_DATA       (ARP_OFF + offsetof(struct rte_arp_hdr, arp_data))

#define SNAPSHOT_TRIES     64
#define HASH_MUL           0x9e3779b1u      /* 2^32 / golden ratio, odd */

_Static_assert(RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr) <= ARP_FRAME_LEN,
	       "ARP request fits the Ethernet minimum");

/* An entry seen as machine words; may_alias because the words overlay
 * fields of other types. */
typedef uint64_t __attribute__((may_alias)) entry_word;
#define ENTRY_WORDS (sizeof(struct wg_arp_entry) / sizeof(entry_word))
_Static_assert(sizeof(struct wg_arp_entry) % sizeof(entry_word) == 0 &&
	       _Alignof(struct wg_arp_entry) >= _Alignof(entry_word),
	       "entries are copied as aligned 64-bit words");

static const uint8_t mac_bcast[RTE_ETHER_ADDR_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

static inline void
write_begin(struct wg_arp_cache *c)
{
	uint32_t s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);

	/* Odd seq must be visible before any entry store: release fence
	 * after the store, as rte_seqcount_write_begin() does. */
	__atomic_store_n(&c->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
write_end(struct wg_arp_cache *c)
{
	uint32_t s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&c->seq, s + 1, __ATOMIC_RELEASE);
}

/* Owner side, inside a write section. */
static inline void
entry_publish(struct wg_arp_entry *dst, const struct wg_arp_entry *src)
{
	entry_word *d = (entry_word *)(void *)dst;
	const entry_word *s = (const entry_word *)(const void *)src;
	size_t i;

	for (i = 0; i < ENTRY_WORDS; i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
}

/* Reader side: may overlap a write section; seq tells whether it did. */
static inline void
entry_load(struct wg_arp_entry *dst, const struct wg_arp_entry *src)
{
	entry_word *d = (entry_word *)(void *)dst;
	const entry_word *s = (const entry_word *)(const void *)src;
	size_t i;

	for (i = 0; i < ENTRY_WORDS; i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

static inline uint32_t
capacity(const struct wg_arp_cache *c)
{
	return c->mask + 1;
}

/* Most live entries allowed: 3/4 of capacity, which leaves >= 1 FREE slot. */
static inline uint32_t
max_used(const struct wg_arp_cache *c)
{
	return (uint32_t)(((uint64_t)capacity(c) * 3) / 4);
}

/* Multiply-shift (Knuth): the top bits of ip * odd constant depend on every
 * key bit; scaling by capacity picks them without a shift count, so a
 * capacity of 1 needs no special case. */
static inline uint32_t
home_slot(const struct wg_arp_cache *c, uint32_t ip)
{
	uint32_t h = ip * HASH_MUL;

	return (uint32_t)(((uint64_t)h * capacity(c)) >> 32);
}

/* Addresses that can never be a neighbour: 0/8, 127/8, 224/4 and above. */
static bool
ip_unusable(uint32_t ip)
{
	uint32_t a = rte_be_to_cpu_32(ip) >> 24;

	return a == 0 || a == 127 || a >= 224;
}

static bool
mac_unusable(const uint8_t *mac)
{
	return (mac[0] & 0x01) != 0 ||
	       (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

/* Slot holding ip (*found = true) or the FREE slot where it would go. */
static uint32_t
lookup(const struct wg_arp_cache *c, uint32_t ip, bool *found)
{
	uint32_t i = home_slot(c, ip);
	uint32_t n;

	for (n = 0; n <= c->mask; n++, i = (i + 1) & c->mask) {
		const struct wg_arp_entry *e = &c->tab[i];

		if (e->state == WG_ARP_FREE)
			break;
		if (e->ip == ip) {
			*found = true;
			return i;
		}
	}
	/* n > mask cannot happen: max_used() keeps a FREE slot. */
	*found = false;
	return i;
}

/* Remove slot i; pull later members of the cluster back over the hole while
 * that keeps each one at or after its home slot, so no lookup ever meets a
 * gap before its key. Caller holds the write section. */
static void
remove_slot(struct wg_arp_cache *c, uint32_t i)
{
	static const struct wg_arp_entry free_entry;
	uint32_t j = i;

	for (;;) {
		uint32_t k;

		j = (j + 1) & c->mask;
		if (c->tab[j].state == WG_ARP_FREE)
			break;
		k = home_slot(c, c->tab[j].ip);
		/* Movable iff the hole lies on j's probe path [k, j). */
		if (((j - k) & c->mask) >= ((j - i) & c->mask)) {
			entry_publish(&c->tab[i], &c->tab[j]);
			i = j;
		}
	}
	entry_publish(&c->tab[i], &free_entry);
	c->used--;
}

size_t
wg_arp_cache_memsize(uint32_t entries)
{
	if (entries == 0 || (entries & (entries - 1)) != 0 || entries > (UINT32_C(1) << 31))
		return 0;
	return (size_t)entries * sizeof(struct wg_arp_entry);
}

int
wg_arp_cache_init(struct wg_arp_cache *c, void *mem, uint32_t entries,
		  uint64_t reachable_ms, uint64_t retry_ms, uint32_t max_probes)
{
	size_t sz = wg_arp_cache_memsize(entries);

	/* probes is a uint8_t per entry; zero timers would re-fire forever
	 * within one wg_arp_age() pass. */
	if (c == NULL || mem == NULL || sz == 0 || reachable_ms == 0 || retry_ms == 0 ||
	    max_probes == 0 || max_probes > UINT8_MAX ||
	    (uintptr_t)mem % _Alignof(struct wg_arp_entry) != 0)
		return -EINVAL;
	memset(mem, 0, sz);
	c->mask = entries - 1;
	c->used = 0;
	c->seq = 0;
	c->max_probes = max_probes;
	c->reachable_ms = reachable_ms;
	c->retry_ms = retry_ms;
	c->tab = mem;
	return 0;
}

const uint8_t *
wg_arp_resolve(struct wg_arp_cache *c, uint32_t ip, uint64_t now_ms, bool *need_request)
{
	struct wg_arp_entry *e, n;
	bool found;
	uint32_t i;

	*need_request = false;
	if (ip_unusable(ip)) {
		errno = EINVAL;
		return NULL;
	}
	i = lookup(c, ip, &found);
	e = &c->tab[i];
	if (found) {
		switch (e->state) {
		case WG_ARP_REACHABLE:
		case WG_ARP_STALE:
			return e->mac;
		case WG_ARP_INCOMPLETE:
			errno = EAGAIN;
			return NULL;
		default:
			/* FAILED: someone wants it again, start over. */
			memcpy(&n, e, sizeof(n));
			n.state = WG_ARP_INCOMPLETE;
			n.probes = 1;
			n.next_ms = now_ms + c->retry_ms;
			write_begin(c);
			entry_publish(e, &n);
			write_end(c);
			*need_request = true;
			errno = EAGAIN;
			return NULL;
		}
	}
	if (c->used >= max_used(c)) {
		errno = ENOSPC;
		return NULL;
	}
	memset(&n, 0, sizeof(n));
	n.ip = ip;
	n.state = WG_ARP_INCOMPLETE;
	n.probes = 1;              /* the request the caller sends now */
	n.next_ms = now_ms + c->retry_ms;
	write_begin(c);
	entry_publish(e, &n);
	c->used++;
	write_end(c);
	*need_request = true;
	errno = EAGAIN;
	return NULL;
}

int
wg_arp_confirm(struct wg_arp_cache *c, uint32_t ip, const uint8_t mac[6], uint64_t now_ms,
	       bool create)
{
	struct wg_arp_entry *e, n;
	bool found;
	uint32_t i;

	if (ip_unusable(ip) || mac_unusable(mac))
		return -EINVAL;
	i = lookup(c, ip, &found);
	if (!found) {
		if (!create)
			return 0;
		if (c->used >= max_used(c))
			return -ENOSPC;
	}
	e = &c->tab[i];
	memset(&n, 0, sizeof(n));
	n.ip = ip;
	memcpy(n.mac, mac, sizeof(n.mac));
	n.state = WG_ARP_REACHABLE;
	n.probes = 0;
	n.confirmed_ms = now_ms;
	n.next_ms = now_ms + c->reachable_ms;
	write_begin(c);
	entry_publish(e, &n);
	if (!found)
		c->used++;
	write_end(c);
	return 0;
}

/* Every action sets next_ms > now_ms, so an entry that backward-shift moves
 * into a slot this pass already visited is a no-op when seen again. */
unsigned int
wg_arp_age(struct wg_arp_cache *c, uint64_t now_ms, wg_arp_probe_fn probe, void *arg)
{
	unsigned int removed = 0;
	uint32_t i = 0;

	while (i <= c->mask) {
		struct wg_arp_entry *e = &c->tab[i], n;
		bool send = true;

		if (e->state == WG_ARP_FREE || now_ms < e->next_ms) {
			i++;
			continue;
		}
		memcpy(&n, e, sizeof(n));   /* padding too: entries are published as words */
		n.next_ms = now_ms + c->retry_ms;
		switch (e->state) {
		case WG_ARP_REACHABLE:
			n.state = WG_ARP_STALE;
			n.probes = 1;
			break;
		case WG_ARP_STALE:
		case WG_ARP_INCOMPLETE:
			if (n.probes >= c->max_probes) {
				n.state = WG_ARP_FAILED;
				send = false;
			} else {
				n.probes++;
			}
			break;
		default:
			/* FAILED for retry_ms, or a corrupt state: drop it and
			 * look at slot i again, something may have moved in. */
			write_begin(c);
			remove_slot(c, i);
			write_end(c);
			removed++;
			continue;
		}
		write_begin(c);
		entry_publish(e, &n);
		write_end(c);
		/* Outside the write section: readers need not wait for tx. */
		if (send && probe != NULL)
			probe(arg, e->ip, e->state == WG_ARP_STALE ? e->mac : NULL);
		i++;
	}
	return removed;
}

unsigned int
wg_arp_snapshot(const struct wg_arp_cache *c, struct wg_arp_entry *out, unsigned int max)
{
	unsigned int tries;

	for (tries = 0; tries < SNAPSHOT_TRIES; tries++) {
		uint32_t s = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		unsigned int n = 0;
		uint32_t i;

		if ((s & 1) != 0) {
			rte_pause();
			continue;
		}
		for (i = 0; i <= c->mask && n < max; i++) {
			struct wg_arp_entry e;

			entry_load(&e, &c->tab[i]);
			if (e.state != WG_ARP_FREE)
				out[n++] = e;
		}
		/* Pairs with the release fence in write_begin(): if any copied
		 * byte came from a write section, seq has moved on. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) == s)
			return n;
		rte_pause();
	}
	/* A torn copy is worse than none: the owner writes too often. */
	return 0;
}

uint16_t
wg_arp_build_request(const struct wg_iface *ifc, uint32_t target_ip, const uint8_t *dst_mac,
		     uint8_t *buf, uint16_t buflen)
{
	uint16_t v;

	if (buf == NULL || buflen < ARP_FRAME_LEN)
		return 0;
	memset(buf, 0, ARP_FRAME_LEN);
	memcpy(buf + ETH_OFF_DST, dst_mac != NULL ? dst_mac : mac_bcast, RTE_ETHER_ADDR_LEN);
	memcpy(buf + ETH_OFF_SRC, ifc->mac, RTE_ETHER_ADDR_LEN);
	v = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	memcpy(buf + ETH_OFF_TYPE, &v, sizeof(v));
	v = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	memcpy(buf + ARP_OFF + offsetof(struct rte_arp_hdr, arp_hardware), &v, sizeof(v));
	v = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memcpy(buf + ARP_OFF + offsetof(struct rte_arp_hdr, arp_protocol), &v, sizeof(v));
	buf[ARP_OFF + offsetof(struct rte_arp_hdr, arp_hlen)] = RTE_ETHER_ADDR_LEN;
	buf[ARP_OFF + offsetof(struct rte_arp_hdr, arp_plen)] = sizeof(uint32_t);
	v = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(buf + ARP_OFF + offsetof(struct rte_arp_hdr, arp_opcode), &v, sizeof(v));
	memcpy(buf + ARP_OFF_DATA + offsetof(struct rte_arp_ipv4, arp_sha), ifc->mac,
	       RTE_ETHER_ADDR_LEN);
	memcpy(buf + ARP_OFF_DATA + offsetof(struct rte_arp_ipv4, arp_sip), &ifc->ipv4,
	       sizeof(uint32_t));
	/* Target hardware address stays zero (RFC 5227 2.1.1), also for the
	 * unicast probes: the Ethernet destination already names the host. */
	memcpy(buf + ARP_OFF_DATA + offsetof(struct rte_arp_ipv4, arp_tip), &target_ip,
	       sizeof(uint32_t));
	return ARP_FRAME_LEN;
}

/* RFC 5227 2.3 announcement: a broadcast request with sender = target = us. */
uint16_t
wg_arp_build_announce(const struct wg_iface *ifc, uint8_t *buf, uint16_t buflen)
{
	return wg_arp_build_request(ifc, ifc->ipv4, NULL, buf, buflen);
}

const char *
wg_arp_state_name(uint8_t state)
{
	switch (state) {
	case WG_ARP_FREE:
		return "free";
	case WG_ARP_INCOMPLETE:
		return "incomplete";
	case WG_ARP_REACHABLE:
		return "reachable";
	case WG_ARP_STALE:
		return "stale";
	case WG_ARP_FAILED:
		return "failed";
	default:
		return "invalid";
	}
}

/* Reads the table directly: call it on the owner lcore or on a quiescent
 * cache (other threads use wg_arp_snapshot()). */
void
wg_arp_dump(FILE *f, const struct wg_arp_cache *c)
{
	uint32_t i;

	fprintf(f, "arp cache: capacity %" PRIu32 " used %" PRIu32 " seq %" PRIu32
		" reachable_ms %" PRIu64 " retry_ms %" PRIu64 " max_probes %" PRIu32 "\n",
		capacity(c), c->used, c->seq, c->reachable_ms, c->retry_ms, c->max_probes);
	for (i = 0; i <= c->mask; i++) {
		const struct wg_arp_entry *e = &c->tab[i];
		const uint8_t *ip = (const uint8_t *)&e->ip;

		if (e->state == WG_ARP_FREE)
			continue;
		fprintf(f, "  slot %" PRIu32 " %u.%u.%u.%u %02x:%02x:%02x:%02x:%02x:%02x %s"
			" probes %u confirmed_ms %" PRIu64 " next_ms %" PRIu64 "\n",
			i, ip[0], ip[1], ip[2], ip[3],
			e->mac[0], e->mac[1], e->mac[2], e->mac[3], e->mac[4], e->mac[5],
			wg_arp_state_name(e->state), e->probes, e->confirmed_ms, e->next_ms);
	}
}
