/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for wg_net_input().
 *
 * Input layout: byte 0 = control (bits 0-3: WG_RX_* hints, bit 4: ARP cache
 * filled to its limit first, bit 5: interface without an IPv4 address),
 * byte 1 = clock (now_ms = byte * 97, against entries seeded at 0), rest =
 * the Ethernet frame, copied into a heap buffer of exactly its size so ASan
 * catches any access past it. Each input starts from fresh state, so every
 * crash reproduces from its artifact alone.
 *
 * After the call the contract is checked and any violation aborts:
 * exactly one outcome counter per frame and the right one for the verdict,
 * TX replies no longer than the input and at least 42 bytes, well-formed
 * (checksums verified here with a naive sum), TCP/UDP offsets inside the
 * frame, and frames not answered left untouched. Then the ARP timer runs and
 * the cache's bookkeeping is checked through a snapshot.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "net.h"

#define ARP_ENTRIES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Counters that say what happened to a frame: exactly one moves per call. */
static const char *const drop_reasons[] = {
	"eth_runt", "eth_not_us", "eth_bad_src", "eth_vlan", "eth_unknown_type",
	"arp_bad", "arp_conflict", "arp_not_us", "arp_rx_reply",
	"ip_bad_version", "ip_bad_hlen", "ip_bad_len", "ip_bad_csum", "ip_frag_drop",
	"ip_not_us", "ip_bad_src", "ip_unknown_proto",
	"icmp_bad_len", "icmp_bad_csum", "icmp_other",
	"tcp_bad_len", "udp_bad_len",
};

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t
ref_csum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static bool
is_reason(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(drop_reasons) / sizeof(drop_reasons[0]); i++)
		if (strcmp(name, drop_reasons[i]) == 0)
			return true;
	return false;
}

/* The one outcome counter that moved between a and b, or NULL. */
static const char *
moved_outcome(const struct wg_net_stats *a, const struct wg_net_stats *b, uint16_t len)
{
	static const char *names_a[64], *names_b[64];
	static uint64_t va[64], vb[64];
	unsigned int n, i;
	const char *which = NULL;

	n = wg_net_stats_list(a, names_a, va, 64);
	check(n <= 64 && wg_net_stats_list(b, names_b, vb, 64) == n);
	for (i = 0; i < n; i++) {
		uint64_t d = vb[i] - va[i];

		check(names_a[i] == names_b[i]);
		if (strcmp(names_a[i], "rx_pkts") == 0) {
			check(d == 1);
		} else if (strcmp(names_a[i], "rx_bytes") == 0) {
			check(d == len);
		} else if (is_reason(names_a[i]) || strcmp(names_a[i], "arp_tx_reply") == 0 ||
			   strcmp(names_a[i], "icmp_echo_reply_tx") == 0 ||
			   strcmp(names_a[i], "tcp_rx") == 0 || strcmp(names_a[i], "udp_rx") == 0) {
			check(d <= 1);
			if (d == 1) {
				check(which == NULL);
				which = names_a[i];
			}
		} else {
			/* Stage counters: at most one step per frame. */
			check(d <= 1);
		}
	}
	check(which != NULL);
	return which;
}

static void
probe_cb(void *arg, uint32_t ip, const uint8_t *mac)
{
	const struct wg_iface *ifc = arg;
	uint8_t buf[64];

	check(wg_arp_build_request(ifc, ip, mac, buf, sizeof(buf)) == 60);
	check(be16(buf + 12) == 0x0806 && be16(buf + 20) == 1);
	check(memcmp(buf + 38, &ip, 4) == 0);
}

static void
seed_cache(struct wg_arp_cache *c, bool fill)
{
	static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };
	const uint8_t gw[4] = { 10, 0, 0, 254 }, peer[4] = { 10, 0, 0, 2 };
	uint32_t ip;
	bool need;
	unsigned int i;

	memcpy(&ip, gw, 4);
	check(wg_arp_confirm(c, ip, gw_mac, 0, true) == 0);
	/* Outstanding request: a reply from the peer must complete it. */
	memcpy(&ip, peer, 4);
	check(wg_arp_resolve(c, ip, 0, &need) == NULL && need);
	for (i = 1; fill && i < 64; i++) {
		const uint8_t a[4] = { 10, 0, 1, (uint8_t)i };
		const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, (uint8_t)i };

		memcpy(&ip, a, 4);
		if (wg_arp_confirm(c, ip, mac, 0, true) != 0)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_arp_entry mem[ARP_ENTRIES];
	static struct wg_arp_entry snap[ARP_ENTRIES];
	struct wg_iface ifc = {
		.port_id = 0, .mtu = 1500,
		.mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	};
	const uint8_t our_ip[4] = { 10, 0, 0, 1 }, mask[4] = { 255, 255, 255, 0 };
	struct wg_arp_cache arp;
	struct wg_net_stats st, before;
	struct wg_pkt_info info;
	enum wg_net_verdict v;
	const char *outcome;
	uint64_t now;
	uint16_t len, n;
	uint32_t flags;
	uint8_t *frame;
	unsigned int i, live;

	if (size < 2 || size - 2 > UINT16_MAX)
		return 0;
	flags = data[0] & 0x0f;
	now = (uint64_t)data[1] * 97;
	if ((data[0] & 0x20) == 0)
		memcpy(&ifc.ipv4, our_ip, 4);
	memcpy(&ifc.netmask, mask, 4);
	len = (uint16_t)(size - 2);

	check(wg_arp_cache_init(&arp, mem, ARP_ENTRIES, 300, 100, 3) == 0);
	seed_cache(&arp, data[0] & 0x10);
	memset(&st, 0, sizeof(st));
	before = st;

	frame = malloc(len ? len : 1);
	check(frame != NULL);
	memcpy(frame, data + 2, len);
	n = len;
	memset(&info, 0, sizeof(info));
	v = wg_net_input(&ifc, &arp, &st, frame, &n, flags, now, &info);
	outcome = moved_outcome(&before, &st, len);

	switch (v) {
	case WG_NET_DROP:
		check(is_reason(outcome));
		check(n == len && memcmp(frame, data + 2, len) == 0);
		break;
	case WG_NET_TX:
		check(n >= 42 && n <= len);
		check(memcmp(frame + 6, ifc.mac, 6) == 0);
		check((frame[0] & 1) == 0);
		if (strcmp(outcome, "icmp_echo_reply_tx") == 0) {
			check(be16(frame + 12) == 0x0800 && frame[14] == 0x45);
			check(be16(frame + 16) == n - 14);
			check(ref_csum(frame + 14, 20) == 0);
			check(frame[34] == 0 && frame[35] == 0);
			check(ref_csum(frame + 34, n - 34u) == 0);
			check(memcmp(frame + 26, &ifc.ipv4, 4) == 0);
			/* Payload unchanged, just moved up past any options. */
			check(memcmp(frame + 38, data + 2 + 14 + (data[2 + 14] & 0x0f) * 4 + 4,
				     n - 38u) == 0);
		} else {
			check(strcmp(outcome, "arp_tx_reply") == 0);
			check(n == 42 || n == 60);
			check(be16(frame + 12) == 0x0806 && be16(frame + 20) == 2);
			check(memcmp(frame + 22, ifc.mac, 6) == 0);
			check(memcmp(frame + 28, &ifc.ipv4, 4) == 0);
			check(memcmp(frame, frame + 32, 6) == 0);
		}
		break;
	case WG_NET_TCP:
	case WG_NET_UDP:
		check(strcmp(outcome, v == WG_NET_TCP ? "tcp_rx" : "udp_rx") == 0);
		check(n == len && memcmp(frame, data + 2, len) == 0);
		check(info.l3_off == 14 && info.l3_len >= 20 && info.l3_len <= 60);
		check(info.l4_off == info.l3_off + info.l3_len);
		check((uint32_t)info.l4_off + info.l4_len <= len);
		check(info.l4_len >= (v == WG_NET_TCP ? 20 : 8));
		check(info.dst_ip == ifc.ipv4 && info.src_ip != ifc.ipv4);
		check(be16(frame + info.l3_off + 2) == info.l3_len + info.l4_len);
		/* The transport layer may read its whole header unchecked. */
		if (v == WG_NET_TCP)
			check((frame[info.l4_off + 12] >> 4) * 4 >= 20 &&
			      (frame[info.l4_off + 12] >> 4) * 4 <= info.l4_len);
		else
			check(be16(frame + info.l4_off + 4) == info.l4_len);
		break;
	default:
		check(false);
	}
	free(frame);

	/* Timer pass and a reader's view of what the frame did to the cache. */
	wg_arp_age(&arp, now + (uint64_t)data[1] * 3, probe_cb, &ifc);
	check((arp.seq & 1) == 0);
	live = wg_arp_snapshot(&arp, snap, ARP_ENTRIES);
	check(live == arp.used && live <= ARP_ENTRIES * 3 / 4);
	for (i = 0; i < live; i++) {
		check(snap[i].state >= WG_ARP_INCOMPLETE && snap[i].state <= WG_ARP_FAILED);
		check(snap[i].ip != ifc.ipv4 || ifc.ipv4 == 0);
		check(snap[i].state == WG_ARP_INCOMPLETE || (snap[i].mac[0] & 1) == 0);
	}
	return 0;
}
