/* SPDX-License-Identifier: BSD-3-Clause
 * Types for the L2/L3 input path (Ethernet, ARP, IPv4, ICMP).
 * The parsers work on a flat frame buffer so they run, and are tested and
 * fuzzed, without an EAL or mbufs; the lcore loop wraps them around mbufs.
 */
#ifndef WG_NET_T_H
#define WG_NET_T_H

#include <stdbool.h>
#include <stdint.h>

#include "arp-t.h"

/* One interface as the fast path sees it: read-only after start-up. */
struct wg_iface {
	uint16_t port_id;
	uint16_t mtu;
	uint8_t mac[6];
	uint32_t ipv4;       /* network byte order */
	uint32_t netmask;    /* network byte order */
	uint32_t gateway;    /* network byte order, 0 = none */
	uint32_t flags;      /* WG_IFACE_F_* */
};

#define WG_IFACE_F_RX_IP_CSUM   0x00000001  /* port validates IPv4 header csum on rx */
#define WG_IFACE_F_TX_IP_CSUM   0x00000002  /* port computes IPv4 header csum on tx */
#define WG_IFACE_F_RX_L4_CSUM   0x00000004  /* port validates TCP/UDP csum on rx */
#define WG_IFACE_F_TX_L4_CSUM   0x00000008  /* port computes TCP/UDP csum on tx */
/* 0x00000010 .. 0x80000000 unused */

/* Per-packet rx hints from the port (mbuf ol_flags, translated). */
#define WG_RX_IP_CSUM_GOOD      0x0001
#define WG_RX_IP_CSUM_BAD       0x0002
#define WG_RX_L4_CSUM_GOOD      0x0004
#define WG_RX_L4_CSUM_BAD       0x0008
/* 0x0010 .. 0x8000 unused */

/* What the caller does with the frame after wg_net_input(). */
enum wg_net_verdict {
	WG_NET_DROP = 0,     /* free it; a counter says why */
	WG_NET_TX,           /* rewritten in place (ARP/ICMP reply): send *len bytes back out */
	WG_NET_TCP,          /* valid IPv4/TCP to us: see struct wg_pkt_info */
	WG_NET_UDP,          /* valid IPv4/UDP to us: see struct wg_pkt_info */
};

/* Offsets of a validated IPv4 packet, for the transport layer. */
struct wg_pkt_info {
	uint16_t l3_off;     /* IPv4 header offset in the frame */
	uint16_t l3_len;     /* IPv4 header length (IHL * 4) */
	uint16_t l4_off;     /* transport header offset */
	uint16_t l4_len;     /* transport bytes (header + payload), Ethernet padding excluded */
	uint32_t src_ip;     /* network byte order */
	uint32_t dst_ip;     /* network byte order */
};

/* Per-lcore counters. Only the owning lcore writes; readers (telemetry,
 * control) take racy but 64-bit-atomic snapshots. Every drop has a reason. */
struct wg_net_stats {
	uint64_t rx_pkts;
	uint64_t rx_bytes;
	uint64_t tx_pkts;
	uint64_t tx_bytes;
	uint64_t tx_full;            /* tx burst could not take the packet */
	uint64_t rx_multiseg;        /* chained mbufs on the L2/L3 path: dropped */

	uint64_t eth_runt;           /* shorter than an Ethernet header */
	uint64_t eth_not_us;         /* unicast to another MAC */
	uint64_t eth_bad_src;        /* source MAC group, zero or ours: never answered */
	uint64_t eth_vlan;           /* tagged frames: not configured */
	uint64_t eth_unknown_type;   /* neither ARP nor IPv4 (IPv6 counted here) */

	uint64_t arp_rx_request;     /* requests for our address (each answered) */
	uint64_t arp_rx_reply;       /* replies consumed (the drop reason for them) */
	uint64_t arp_tx_request;
	uint64_t arp_tx_reply;
	uint64_t arp_bad;            /* truncated, wrong htype/ptype/hlen/plen/op, bogus sender */
	uint64_t arp_not_us;         /* request for another address (learned only if known) */
	uint64_t arp_conflict;       /* someone else claims our address */
	uint64_t arp_table_full;

	uint64_t ip_rx;
	uint64_t ip_bad_version;
	uint64_t ip_bad_hlen;        /* IHL < 5 or header beyond the frame */
	uint64_t ip_bad_len;         /* total length vs header/frame inconsistent */
	uint64_t ip_bad_csum;
	uint64_t ip_bad_src;         /* 0/8, 127/8, multicast, broadcast, our own */
	uint64_t ip_frag_drop;       /* fragments: not reassembled, dropped */
	uint64_t ip_not_us;
	uint64_t ip_unknown_proto;

	uint64_t icmp_rx;
	uint64_t icmp_bad_len;
	uint64_t icmp_bad_csum;
	uint64_t icmp_echo_request;
	uint64_t icmp_echo_reply_tx;
	uint64_t icmp_other;         /* types we do not answer */

	uint64_t tcp_rx;
	uint64_t tcp_bad_len;        /* < 20 bytes or data offset outside the segment */
	uint64_t udp_rx;
	uint64_t udp_bad_len;        /* < 8 bytes or UDP length != IP payload length */
	uint64_t l4_no_handler;      /* transport with no stack attached yet */
};

#endif /* WG_NET_T_H */
