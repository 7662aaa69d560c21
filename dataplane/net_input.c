/* SPDX-License-Identifier: BSD-3-Clause
 * L2/L3 input: Ethernet, ARP (RFC 826, RFC 5227 conflict counting), IPv4
 * (RFC 791/1122 receive checks) and ICMP echo (RFC 792).
 *
 * Frames may start at any address (the fuzzer hands us odd offsets), so every
 * header field goes through memcpy at an offsetof() taken from the DPDK
 * layouts; no struct pointer is ever cast onto the frame.
 *
 * Counting contract: every call moves rx_pkts/rx_bytes and exactly one
 * "outcome" counter -- a drop reason, or arp_tx_reply / icmp_echo_reply_tx
 * (WG_NET_TX), or tcp_rx / udp_rx. Stage counters (ip_rx, icmp_rx,
 * arp_rx_request, icmp_echo_request, arp_table_full) come on top. tx_pkts and
 * tx_bytes belong to the caller, which knows whether the burst took it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>
#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "arp.h"
#include "net.h"

#define ETH_HLEN        RTE_ETHER_HDR_LEN
#define ETH_OFF_DST     offsetof(struct rte_ether_hdr, dst_addr)
#define ETH_OFF_SRC     offsetof(struct rte_ether_hdr, src_addr)
#define ETH_OFF_TYPE    offsetof(struct rte_ether_hdr, ether_type)
#define ETH_MIN_LEN     (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)     /* 60 */

#define ARP_LEN         sizeof(struct rte_arp_hdr)                   /* 28 */
#define ARP_OFF_HRD     offsetof(struct rte_arp_hdr, arp_hardware)
#define ARP_OFF_PRO     offsetof(struct rte_arp_hdr, arp_protocol)
#define ARP_OFF_HLN     offsetof(struct rte_arp_hdr, arp_hlen)
#define ARP_OFF_PLN     offsetof(struct rte_arp_hdr, arp_plen)
#define ARP_OFF_OP      offsetof(struct rte_arp_hdr, arp_opcode)
#define ARP_OFF_DATA    offsetof(struct rte_arp_hdr, arp_data)
#define ARP_OFF_SHA     (ARP_OFF_DATA + offsetof(struct rte_arp_ipv4, arp_sha))
#define ARP_OFF_SPA     (ARP_OFF_DATA + offsetof(struct rte_arp_ipv4, arp_sip))
#define ARP_OFF_THA     (ARP_OFF_DATA + offsetof(struct rte_arp_ipv4, arp_tha))
#define ARP_OFF_TPA     (ARP_OFF_DATA + offsetof(struct rte_arp_ipv4, arp_tip))

#define IP_HLEN_MIN     sizeof(struct rte_ipv4_hdr)                  /* 20 */
#define IP_OFF_VIHL     offsetof(struct rte_ipv4_hdr, version_ihl)
#define IP_OFF_TOTLEN   offsetof(struct rte_ipv4_hdr, total_length)
#define IP_OFF_FRAG     offsetof(struct rte_ipv4_hdr, fragment_offset)
#define IP_OFF_TTL      offsetof(struct rte_ipv4_hdr, time_to_live)
#define IP_OFF_PROTO    offsetof(struct rte_ipv4_hdr, next_proto_id)
#define IP_OFF_CSUM     offsetof(struct rte_ipv4_hdr, hdr_checksum)
#define IP_OFF_SRC      offsetof(struct rte_ipv4_hdr, src_addr)
#define IP_OFF_DST      offsetof(struct rte_ipv4_hdr, dst_addr)
#define IP_REPLY_TTL    64

#define ICMP_HLEN       sizeof(struct rte_icmp_hdr)                  /* 8 */
#define ICMP_OFF_TYPE   offsetof(struct rte_icmp_hdr, icmp_type)
#define ICMP_OFF_CODE   offsetof(struct rte_icmp_hdr, icmp_code)
#define ICMP_OFF_CSUM   offsetof(struct rte_icmp_hdr, icmp_cksum)

#define TCP_HLEN_MIN    20
#define TCP_OFF_DOFF    12
#define UDP_HLEN        8
#define UDP_OFF_LEN     4

_Static_assert(ETH_HLEN == 14 && ETH_OFF_TYPE == 12, "Ethernet II layout");
_Static_assert(ARP_LEN == 28 && ARP_OFF_TPA == 24, "ARP for IPv4 over Ethernet");
_Static_assert(IP_HLEN_MIN == 20 && IP_OFF_DST == 16, "IPv4 header layout");
_Static_assert(ICMP_HLEN == 8 && ICMP_OFF_CSUM == 2, "ICMP header layout");
_Static_assert(ETH_MIN_LEN == 60, "Ethernet minimum frame without FCS");

/* Per-packet hint bits we act on; others are ignored, not rejected, because
 * they come from hardware, not from a caller that could be told -EINVAL. */
#define RX_IP_CSUM_MASK (WG_RX_IP_CSUM_GOOD | WG_RX_IP_CSUM_BAD)

static const uint8_t mac_bcast[RTE_ETHER_ADDR_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};

static inline uint16_t
ld_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static inline void
st_be16(uint8_t *p, uint16_t host)
{
	uint16_t v = rte_cpu_to_be_16(host);

	memcpy(p, &v, sizeof(v));
}

/* Addresses stay in network byte order end to end; only range checks swap. */
static inline uint32_t
ld_raw32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
st_raw32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline bool
mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, RTE_ETHER_ADDR_LEN) == 0;
}

static inline bool
mac_is_zero(const uint8_t *a)
{
	return (a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) == 0;
}

/* A source MAC must name one station, and not us: answering a group or our
 * own address would amplify or loop. */
static inline bool
mac_bad_src(const struct wg_iface *ifc, const uint8_t *mac)
{
	return (mac[0] & 0x01) != 0 || mac_is_zero(mac) || mac_eq(mac, ifc->mac);
}

/* RFC 1122 3.2.1.3 / RFC 5735 addresses that must never appear as a source:
 * "this network" 0/8, loopback 127/8, multicast 224/4, reserved 240/4
 * (which holds 255.255.255.255), our subnet's directed broadcast (only for
 * prefixes up to /30: /31 and /32 have none, RFC 3021), and ourselves. */
static bool
ip_src_bad(const struct wg_iface *ifc, uint32_t src)
{
	uint32_t h = rte_be_to_cpu_32(src);
	uint32_t a = h >> 24;
	uint32_t hostmask = ~rte_be_to_cpu_32(ifc->netmask);

	if (a == 0 || a == 127 || a >= 224)
		return true;
	if (hostmask >= 3 && hostmask != UINT32_MAX &&
	    h == (rte_be_to_cpu_32(ifc->ipv4) | hostmask))
		return true;
	return src == ifc->ipv4;
}

uint32_t
wg_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;
	uint64_t w64;
	uint32_t w32;
	uint16_t w16;

	/* Native-order words: the ones' complement sum is byte-order
	 * independent (RFC 1071 2(B)), so the result is stored back with
	 * memcpy, never swapped. End-around carry keeps acc mod 2^64-1,
	 * a multiple of 2^16-1. */
	while (len >= sizeof(w64)) {
		memcpy(&w64, p, sizeof(w64));
		acc += w64;
		acc += acc < w64;
		p += sizeof(w64);
		len -= sizeof(w64);
	}
	if (len >= sizeof(w32)) {
		memcpy(&w32, p, sizeof(w32));
		acc += w32;
		acc += acc < w32;
		p += sizeof(w32);
		len -= sizeof(w32);
	}
	if (len >= sizeof(w16)) {
		memcpy(&w16, p, sizeof(w16));
		acc += w16;
		acc += acc < w16;
		p += sizeof(w16);
		len -= sizeof(w16);
	}
	if (len != 0) {
		/* The odd byte is the first byte of a zero-padded word. */
		w16 = 0;
		memcpy(&w16, p, 1);
		acc += w16;
		acc += acc < w16;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint32_t)acc;
}

uint16_t
wg_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

static enum wg_net_verdict
arp_input(const struct wg_iface *ifc, struct wg_arp_cache *arp, struct wg_net_stats *st,
	  uint8_t *frame, uint16_t *len, uint64_t now_ms)
{
	uint8_t *a = frame + ETH_HLEN;
	uint8_t sha[RTE_ETHER_ADDR_LEN];
	uint32_t spa, tpa;
	uint16_t op;
	bool for_us, create;

	if (*len < ETH_HLEN + ARP_LEN)
		goto bad;
	op = ld_be16(a + ARP_OFF_OP);
	if (ld_be16(a + ARP_OFF_HRD) != RTE_ARP_HRD_ETHER ||
	    ld_be16(a + ARP_OFF_PRO) != RTE_ETHER_TYPE_IPV4 ||
	    a[ARP_OFF_HLN] != RTE_ETHER_ADDR_LEN || a[ARP_OFF_PLN] != sizeof(uint32_t) ||
	    (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY))
		goto bad;
	memcpy(sha, a + ARP_OFF_SHA, sizeof(sha));
	spa = ld_raw32(a + ARP_OFF_SPA);
	tpa = ld_raw32(a + ARP_OFF_TPA);
	/* Learning or answering a group/zero/our own hardware address would
	 * poison the cache or reflect to a whole segment. */
	if (mac_bad_src(ifc, sha))
		goto bad;
	/* RFC 5227 2.4: a sender using our address is a conflict whatever the
	 * opcode; it must never enter the cache or be answered. */
	if (ifc->ipv4 != 0 && spa == ifc->ipv4) {
		st->arp_conflict++;
		return WG_NET_DROP;
	}
	/* 0.0.0.0 is an RFC 5227 probe: answered but not learned. */
	if (spa != 0 && ip_src_bad(ifc, spa))
		goto bad;

	for_us = ifc->ipv4 != 0 && tpa == ifc->ipv4;
	/* RFC 826 merge: refresh what we know; only a request aimed at us may
	 * create an entry (its sender is about to talk to us), and only for an
	 * on-link sender -- we never send to others directly, and spoofed
	 * off-link senders could otherwise crowd the gateway out of the table.
	 * Replies never create: an INCOMPLETE entry already exists if we asked. */
	create = for_us && op == RTE_ARP_OP_REQUEST &&
		 ((spa ^ ifc->ipv4) & ifc->netmask) == 0;
	if (arp != NULL && spa != 0 &&
	    wg_arp_confirm(arp, spa, sha, now_ms, create) == -ENOSPC)
		st->arp_table_full++;   /* only reachable on the answered path */

	if (op == RTE_ARP_OP_REPLY) {
		st->arp_rx_reply++;
		return WG_NET_DROP;
	}
	if (!for_us) {
		st->arp_not_us++;
		return WG_NET_DROP;
	}

	/* Reply in place: target <- requester, sender <- us. */
	st->arp_rx_request++;
	st_be16(a + ARP_OFF_OP, RTE_ARP_OP_REPLY);
	memcpy(a + ARP_OFF_THA, sha, sizeof(sha));
	st_raw32(a + ARP_OFF_TPA, spa);
	memcpy(a + ARP_OFF_SHA, ifc->mac, RTE_ETHER_ADDR_LEN);
	st_raw32(a + ARP_OFF_SPA, ifc->ipv4);
	memcpy(frame + ETH_OFF_DST, sha, sizeof(sha));
	memcpy(frame + ETH_OFF_SRC, ifc->mac, RTE_ETHER_ADDR_LEN);
	/* 60 zero-padded bytes (Ethernet minimum) when the received buffer
	 * holds them -- senders on real wires pad, and the padding must not
	 * echo their bytes back; 42 otherwise, because we never write past
	 * what we were given (software peers: TAP/veth accept short frames,
	 * NICs pad on transmit). */
	if (*len >= ETH_MIN_LEN) {
		memset(frame + ETH_HLEN + ARP_LEN, 0, ETH_MIN_LEN - ETH_HLEN - ARP_LEN);
		*len = ETH_MIN_LEN;
	} else {
		*len = ETH_HLEN + ARP_LEN;
	}
	st->arp_tx_reply++;
	return WG_NET_TX;
bad:
	st->arp_bad++;
	return WG_NET_DROP;
}

/* Echo request -> echo reply in place. Options are not reflected (RFC 1122
 * 3.2.2.6 allows it; record-route/timestamp would need per-option handling),
 * so the ICMP message moves up to IHL 5.
 *
 * The ICMP checksum is recomputed, not updated with RFC 1624 eqn. 3: for a
 * reply that is all zero but the checksum (id 0, seq 0, no or zero payload)
 * eqn. 3 yields 0x0000, a ones' complement -0 that every receiver rejects;
 * only a full sum gives 0xffff there. One more pass over an echo is cheap. */
static enum wg_net_verdict
icmp_echo_reply(const struct wg_iface *ifc, struct wg_net_stats *st, uint8_t *frame,
		uint16_t *len, uint16_t hlen, uint16_t ilen)
{
	uint8_t *ip = frame + ETH_HLEN;
	uint8_t *icmp = ip + hlen;
	uint16_t ck, frag;
	uint32_t src;

	icmp[ICMP_OFF_TYPE] = RTE_IP_ICMP_ECHO_REPLY;
	memset(icmp + ICMP_OFF_CSUM, 0, sizeof(ck));
	ck = wg_csum_fold(wg_csum_partial(icmp, ilen, 0));
	memcpy(icmp + ICMP_OFF_CSUM, &ck, sizeof(ck));
	if (hlen > IP_HLEN_MIN)
		memmove(ip + IP_HLEN_MIN, icmp, ilen);

	/* TOS and ID are kept: the reply is an atomic datagram (RFC 6864), its
	 * ID carries no meaning. DF is kept, the reserved bit is not. Header
	 * checksum in software even with WG_IFACE_F_TX_IP_CSUM: offload would
	 * need mbuf ol_flags, which this flat-buffer layer cannot set. */
	src = ld_raw32(ip + IP_OFF_SRC);
	frag = ld_be16(ip + IP_OFF_FRAG) & RTE_IPV4_HDR_DF_FLAG;
	ip[IP_OFF_VIHL] = 0x40 | (IP_HLEN_MIN / RTE_IPV4_IHL_MULTIPLIER);
	st_be16(ip + IP_OFF_TOTLEN, (uint16_t)(IP_HLEN_MIN + ilen));
	st_be16(ip + IP_OFF_FRAG, frag);
	ip[IP_OFF_TTL] = IP_REPLY_TTL;
	st_raw32(ip + IP_OFF_SRC, ifc->ipv4);
	st_raw32(ip + IP_OFF_DST, src);
	memset(ip + IP_OFF_CSUM, 0, sizeof(uint16_t));
	ck = wg_csum_fold(wg_csum_partial(ip, IP_HLEN_MIN, 0));
	memcpy(ip + IP_OFF_CSUM, &ck, sizeof(ck));

	memcpy(frame + ETH_OFF_DST, frame + ETH_OFF_SRC, RTE_ETHER_ADDR_LEN);
	memcpy(frame + ETH_OFF_SRC, ifc->mac, RTE_ETHER_ADDR_LEN);
	*len = (uint16_t)(ETH_HLEN + IP_HLEN_MIN + ilen);
	st->icmp_echo_reply_tx++;
	return WG_NET_TX;
}

static enum wg_net_verdict
icmp_input(const struct wg_iface *ifc, struct wg_net_stats *st, uint8_t *frame,
	   uint16_t *len, uint16_t hlen, uint16_t ilen)
{
	const uint8_t *icmp = frame + ETH_HLEN + hlen;

	st->icmp_rx++;
	if (ilen < ICMP_HLEN) {
		st->icmp_bad_len++;
		return WG_NET_DROP;
	}
	/* No NIC validates ICMP, so the L4 hints are not consulted. */
	if (wg_csum_fold(wg_csum_partial(icmp, ilen, 0)) != 0) {
		st->icmp_bad_csum++;
		return WG_NET_DROP;
	}
	if (icmp[ICMP_OFF_TYPE] != RTE_IP_ICMP_ECHO_REQUEST || icmp[ICMP_OFF_CODE] != 0) {
		st->icmp_other++;
		return WG_NET_DROP;
	}
	st->icmp_echo_request++;
	return icmp_echo_reply(ifc, st, frame, len, hlen, ilen);
}

static enum wg_net_verdict
ip_input(const struct wg_iface *ifc, struct wg_net_stats *st, uint8_t *frame, uint16_t *len,
	 uint32_t rx_flags, struct wg_pkt_info *info)
{
	const uint8_t *ip = frame + ETH_HLEN;
	const uint8_t *l4;
	uint16_t avail = (uint16_t)(*len - ETH_HLEN);
	uint16_t hlen, tot, l4_len;
	uint16_t frag;
	uint32_t src, dst, ck_hint;

	st->ip_rx++;
	if (avail < 1) {
		st->ip_bad_hlen++;
		return WG_NET_DROP;
	}
	if ((ip[IP_OFF_VIHL] >> 4) != 4) {
		st->ip_bad_version++;
		return WG_NET_DROP;
	}
	hlen = (uint16_t)((ip[IP_OFF_VIHL] & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER);
	if (hlen < IP_HLEN_MIN || hlen > avail) {
		st->ip_bad_hlen++;
		return WG_NET_DROP;
	}
	/* Bytes past total_length are Ethernet padding: ignored, never used. */
	tot = ld_be16(ip + IP_OFF_TOTLEN);
	if (tot < hlen || tot > avail) {
		st->ip_bad_len++;
		return WG_NET_DROP;
	}
	/* GOOD|BAD together is DPDK's "not checked" (RTE_MBUF_F_RX_IP_CKSUM_NONE):
	 * verify in software, like no hint at all. */
	ck_hint = rx_flags & RX_IP_CSUM_MASK;
	if (ck_hint == WG_RX_IP_CSUM_BAD ||
	    (ck_hint != WG_RX_IP_CSUM_GOOD && wg_csum_fold(wg_csum_partial(ip, hlen, 0)) != 0)) {
		st->ip_bad_csum++;
		return WG_NET_DROP;
	}
	frag = ld_be16(ip + IP_OFF_FRAG);
	if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		st->ip_frag_drop++;
		return WG_NET_DROP;
	}
	dst = ld_raw32(ip + IP_OFF_DST);
	if (ifc->ipv4 == 0 || dst != ifc->ipv4) {
		st->ip_not_us++;
		return WG_NET_DROP;
	}
	src = ld_raw32(ip + IP_OFF_SRC);
	if (ip_src_bad(ifc, src)) {
		st->ip_bad_src++;
		return WG_NET_DROP;
	}

	l4 = ip + hlen;
	l4_len = (uint16_t)(tot - hlen);
	switch (ip[IP_OFF_PROTO]) {
	case IPPROTO_ICMP:
		return icmp_input(ifc, st, frame, len, hlen, l4_len);
	case IPPROTO_TCP:
		/* The TCP layer may then read the whole header without checks. */
		if (l4_len < TCP_HLEN_MIN || (l4[TCP_OFF_DOFF] >> 4) * 4 < TCP_HLEN_MIN ||
		    (l4[TCP_OFF_DOFF] >> 4) * 4 > l4_len) {
			st->tcp_bad_len++;
			return WG_NET_DROP;
		}
		st->tcp_rx++;
		break;
	case IPPROTO_UDP:
		/* Stricter than RFC 768 needs: a UDP length short of the IP
		 * payload has no legitimate sender among our clients. */
		if (l4_len < UDP_HLEN || ld_be16(l4 + UDP_OFF_LEN) != l4_len) {
			st->udp_bad_len++;
			return WG_NET_DROP;
		}
		st->udp_rx++;
		break;
	default:
		st->ip_unknown_proto++;
		return WG_NET_DROP;
	}
	info->l3_off = ETH_HLEN;
	info->l3_len = hlen;
	info->l4_off = (uint16_t)(ETH_HLEN + hlen);
	info->l4_len = l4_len;
	info->src_ip = src;
	info->dst_ip = dst;
	return ip[IP_OFF_PROTO] == IPPROTO_TCP ? WG_NET_TCP : WG_NET_UDP;
}

enum wg_net_verdict
wg_net_input(const struct wg_iface *ifc, struct wg_arp_cache *arp, struct wg_net_stats *st,
	     uint8_t *frame, uint16_t *len, uint32_t rx_flags, uint64_t now_ms,
	     struct wg_pkt_info *info)
{
	const uint8_t *dst;
	uint16_t type;

	st->rx_pkts++;
	st->rx_bytes += *len;
	if (*len < ETH_HLEN) {
		st->eth_runt++;
		return WG_NET_DROP;
	}
	dst = frame + ETH_OFF_DST;
	type = ld_be16(frame + ETH_OFF_TYPE);
	/* Broadcast carries ARP only: no IPv4 broadcast/multicast service. */
	if (!mac_eq(dst, ifc->mac) && !(type == RTE_ETHER_TYPE_ARP && mac_eq(dst, mac_bcast))) {
		st->eth_not_us++;
		return WG_NET_DROP;
	}
	if (mac_bad_src(ifc, frame + ETH_OFF_SRC)) {
		st->eth_bad_src++;
		return WG_NET_DROP;
	}
	switch (type) {
	case RTE_ETHER_TYPE_ARP:
		return arp_input(ifc, arp, st, frame, len, now_ms);
	case RTE_ETHER_TYPE_IPV4:
		return ip_input(ifc, st, frame, len, rx_flags, info);
	case RTE_ETHER_TYPE_VLAN:
	case RTE_ETHER_TYPE_QINQ:
	case RTE_ETHER_TYPE_QINQ1:
	case RTE_ETHER_TYPE_QINQ2:
	case RTE_ETHER_TYPE_QINQ3:
		st->eth_vlan++;
		return WG_NET_DROP;
	default:
		st->eth_unknown_type++;
		return WG_NET_DROP;
	}
}
