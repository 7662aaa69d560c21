/* SPDX-License-Identifier: BSD-3-Clause
 * wg_net_input(): frames are built here byte by byte (big-endian by hand, no
 * DPDK structs), replies are compared byte for byte against frames built the
 * same way, and checksums are checked with a naive reference sum. Every call
 * goes through run(), which copies the frame into a heap buffer of exactly
 * its length (so ASan sees any over-read) and asserts the exact set of
 * counters that moved.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arp.h"
#include "net.h"

/* ---- counters: our own table, so net_stats.c is checked, not trusted ---- */

/* C = stage counter, O = outcome counter (exactly one per call). */
#define STATS(C, O) \
	C(rx_pkts) C(rx_bytes) C(tx_pkts) C(tx_bytes) C(tx_full) C(rx_multiseg) \
	O(eth_runt) O(eth_not_us) O(eth_bad_src) O(eth_vlan) O(eth_unknown_type) \
	C(arp_rx_request) O(arp_rx_reply) C(arp_tx_request) O(arp_tx_reply) O(arp_bad) \
	O(arp_not_us) O(arp_conflict) C(arp_table_full) \
	C(ip_rx) O(ip_bad_version) O(ip_bad_hlen) O(ip_bad_len) O(ip_bad_csum) \
	O(ip_bad_src) O(ip_frag_drop) O(ip_not_us) O(ip_unknown_proto) \
	C(icmp_rx) O(icmp_bad_len) O(icmp_bad_csum) C(icmp_echo_request) \
	O(icmp_echo_reply_tx) O(icmp_other) \
	O(tcp_rx) O(tcp_bad_len) O(udp_rx) O(udp_bad_len) C(l4_no_handler)

struct field {
	const char *name;
	size_t off;
	bool outcome;
};

#define F_C(f) { #f, offsetof(struct wg_net_stats, f), false },
#define F_O(f) { #f, offsetof(struct wg_net_stats, f), true },
static const struct field fields[] = { STATS(F_C, F_O) };
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
_Static_assert(N_FIELDS * sizeof(uint64_t) == sizeof(struct wg_net_stats),
	       "test table out of date with struct wg_net_stats");

static uint64_t
fget(const struct wg_net_stats *s, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)s + off, sizeof(v));
	return v;
}

static uint64_t
outcome_sum(const struct wg_net_stats *s)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < N_FIELDS; i++)
		if (fields[i].outcome)
			sum += fget(s, fields[i].off);
	return sum;
}

/* ---- addresses ---- */

static const uint8_t OUR_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t PEER2_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
static const uint8_t OTHER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x09 };
static const uint8_t BCAST_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO_MAC[6] = { 0 };
static const uint8_t MCAST_MAC[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static const uint8_t OUR_IP[4] = { 10, 0, 0, 1 };
static const uint8_t PEER_IP[4] = { 10, 0, 0, 2 };
static const uint8_t OTHER_IP[4] = { 10, 0, 0, 3 };
static const uint8_t ZERO_IP[4] = { 0, 0, 0, 0 };

static uint32_t
ip_n(const uint8_t ip[4])
{
	uint32_t v;

	memcpy(&v, ip, 4);
	return v;
}

/* ---- naive reference checksum: big-endian 16-bit words, RFC 1071 ---- */

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

static uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- frame builder ---- */

struct pkt {
	uint8_t b[2048];
	uint16_t n;
};

static void
p8(struct pkt *p, uint8_t v)
{
	p->b[p->n++] = v;
}

static void
p16(struct pkt *p, uint16_t v)
{
	p8(p, (uint8_t)(v >> 8));
	p8(p, (uint8_t)v);
}

static void
pbytes(struct pkt *p, const void *d, size_t n)
{
	memcpy(p->b + p->n, d, n);
	p->n = (uint16_t)(p->n + n);
}

static void
eth(struct pkt *p, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	p->n = 0;
	pbytes(p, dst, 6);
	pbytes(p, src, 6);
	p16(p, type);
}

struct arpspec {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t op;
	const uint8_t *sha, *spa, *tha, *tpa;
};

static void
arp_body(struct pkt *p, const struct arpspec *a)
{
	p16(p, a->htype);
	p16(p, a->ptype);
	p8(p, a->hlen);
	p8(p, a->plen);
	p16(p, a->op);
	pbytes(p, a->sha, 6);
	pbytes(p, a->spa, 4);
	pbytes(p, a->tha, 6);
	pbytes(p, a->tpa, 4);
}

static struct arpspec
arp_req(const uint8_t *sha, const uint8_t *spa, const uint8_t *tpa)
{
	struct arpspec a = { 1, 0x0800, 6, 4, 1, sha, spa, ZERO_MAC, tpa };

	return a;
}

/* Whole ARP frame: Ethernet + ARP. */
static void
arp_frame(struct pkt *p, const uint8_t *edst, const uint8_t *esrc, const struct arpspec *a)
{
	eth(p, edst, esrc, 0x0806);
	arp_body(p, a);
}

struct ipspec {
	uint8_t version;       /* 0 = 4 */
	uint8_t ihl;           /* 0 = 5 + options */
	uint8_t tos;
	uint16_t tot;          /* 0 = computed */
	uint16_t id;
	uint16_t frag;         /* flags + offset */
	uint8_t ttl;
	uint8_t proto;
	const uint8_t *src, *dst;
	const uint8_t *opt;
	uint8_t opt_len;       /* multiple of 4 */
	bool bad_csum;
};

static struct ipspec
ip_default(uint8_t proto)
{
	struct ipspec s = { 0 };

	s.ttl = 64;
	s.proto = proto;
	s.src = PEER_IP;
	s.dst = OUR_IP;
	s.id = 0x1c46;
	s.frag = 0x4000;
	return s;
}

/* Ethernet (to us, from peer) + IPv4 + l4 bytes. Returns the IP offset. */
static uint16_t
ip_frame_to(struct pkt *p, const uint8_t *edst, const uint8_t *esrc, const struct ipspec *s,
	    const uint8_t *l4, uint16_t l4_len)
{
	uint16_t l3 = 14, hlen = (uint16_t)(20 + s->opt_len), ck;
	uint8_t ihl = s->ihl ? s->ihl : (uint8_t)(hlen / 4);

	eth(p, edst, esrc, 0x0800);
	p8(p, (uint8_t)(((s->version ? s->version : 4) << 4) | ihl));
	p8(p, s->tos);
	p16(p, s->tot ? s->tot : (uint16_t)(hlen + l4_len));
	p16(p, s->id);
	p16(p, s->frag);
	p8(p, s->ttl);
	p8(p, s->proto);
	p16(p, 0);
	pbytes(p, s->src, 4);
	pbytes(p, s->dst, 4);
	if (s->opt_len)
		pbytes(p, s->opt, s->opt_len);
	ck = ref_csum(p->b + l3, hlen);
	if (s->bad_csum)
		ck ^= 0x0100;
	p->b[l3 + 10] = (uint8_t)(ck >> 8);
	p->b[l3 + 11] = (uint8_t)ck;
	if (l4_len)
		pbytes(p, l4, l4_len);
	return l3;
}

static uint16_t
ip_frame(struct pkt *p, const struct ipspec *s, const uint8_t *l4, uint16_t l4_len)
{
	return ip_frame_to(p, OUR_MAC, PEER_MAC, s, l4, l4_len);
}

/* ICMP message with a correct checksum; returns its length. */
static uint16_t
icmp_msg(uint8_t *b, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
	 const uint8_t *payload, uint16_t plen)
{
	uint16_t ck;

	b[0] = type;
	b[1] = code;
	b[2] = b[3] = 0;
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	if (plen)
		memcpy(b + 8, payload, plen);
	ck = ref_csum(b, 8u + plen);
	b[2] = (uint8_t)(ck >> 8);
	b[3] = (uint8_t)ck;
	return (uint16_t)(8 + plen);
}

static uint16_t
tcp_seg(uint8_t *b, uint8_t doff_words, uint8_t flags, uint16_t total)
{
	memset(b, 0, total);
	b[0] = 0x9c; b[1] = 0x40;           /* sport 40000 */
	b[2] = 0x01; b[3] = 0xbb;           /* dport 443 */
	b[4] = 0x12; b[5] = 0x34; b[6] = 0x56; b[7] = 0x78;
	b[12] = (uint8_t)(doff_words << 4);
	b[13] = flags;
	b[14] = 0xfa; b[15] = 0xf0;         /* window */
	return total;
}

static uint16_t
udp_dgram(uint8_t *b, uint16_t ulen_field, uint16_t total)
{
	uint16_t i;

	b[0] = 0x13; b[1] = 0x88;           /* sport 5000 */
	b[2] = 0x1f; b[3] = 0x90;           /* dport 8080 */
	b[4] = (uint8_t)(ulen_field >> 8);
	b[5] = (uint8_t)ulen_field;
	b[6] = b[7] = 0;                    /* no checksum */
	for (i = 8; i < total; i++)
		b[i] = (uint8_t)(i * 7);
	return total;
}

/* ---- fixture and runner ---- */

#define ARP_ENTRIES 16

struct fx {
	struct wg_iface ifc;
	struct wg_arp_cache arp;
	struct wg_arp_entry mem[ARP_ENTRIES];
	struct wg_net_stats st;
	uint64_t now;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->ifc.port_id = 0;
	f->ifc.mtu = 1500;
	memcpy(f->ifc.mac, OUR_MAC, 6);
	f->ifc.ipv4 = ip_n(OUR_IP);
	f->ifc.netmask = ip_n((const uint8_t[4]){ 255, 255, 255, 0 });
	f->ifc.gateway = ip_n((const uint8_t[4]){ 10, 0, 0, 254 });
	if (wg_arp_cache_memsize(ARP_ENTRIES) != sizeof(f->mem) ||
	    wg_arp_cache_init(&f->arp, f->mem, ARP_ENTRIES, 30000, 1000, 3) != 0) {
		free(f);
		return -1;
	}
	f->now = 1000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

/* Feed in[0..len) through an exact-size heap copy. The NULL-terminated
 * names are the counters that must move by exactly 1 besides rx_pkts
 * (+1) and rx_bytes (+len); every other counter must stay put. A frame
 * that is not answered (verdict != TX) must come back untouched. */
static enum wg_net_verdict
run_v(struct fx *f, const uint8_t *in, uint16_t len, uint32_t flags, uint8_t *out,
      uint16_t *out_len, struct wg_pkt_info *info, const char *const *want)
{
	struct wg_net_stats before = f->st;
	struct wg_pkt_info dummy;
	enum wg_net_verdict v;
	uint8_t *buf = malloc(len ? len : 1);
	uint16_t n = len;
	unsigned int i;
	size_t k;

	assert_non_null(buf);
	memcpy(buf, in, len);
	v = wg_net_input(&f->ifc, &f->arp, &f->st, buf, &n, flags, f->now,
			 info ? info : &dummy);

	for (k = 0; k < N_FIELDS; k++) {
		uint64_t d = fget(&f->st, fields[k].off) - fget(&before, fields[k].off);
		uint64_t exp = 0;

		if (strcmp(fields[k].name, "rx_pkts") == 0)
			exp = 1;
		else if (strcmp(fields[k].name, "rx_bytes") == 0)
			exp = len;
		for (i = 0; want[i] != NULL; i++)
			if (strcmp(want[i], fields[k].name) == 0)
				exp = 1;
		if (d != exp)
			fail_msg("counter %s moved by %llu, expected %llu", fields[k].name,
				 (unsigned long long)d, (unsigned long long)exp);
	}
	assert_int_equal(outcome_sum(&f->st) - outcome_sum(&before), 1);
	if (v != WG_NET_TX) {
		assert_int_equal(n, len);
		assert_memory_equal(buf, in, len);
	} else {
		assert_true(n <= len);
		assert_true(n >= 42);
	}
	if (out != NULL)
		memcpy(out, buf, n);
	if (out_len != NULL)
		*out_len = n;
	free(buf);
	return v;
}

static enum wg_net_verdict
run(struct fx *f, const uint8_t *in, uint16_t len, uint32_t flags, uint8_t *out,
    uint16_t *out_len, struct wg_pkt_info *info, ...)
{
	const char *want[16];
	unsigned int n = 0;
	va_list ap;

	va_start(ap, info);
	do {
		assert_true(n < 16);
		want[n] = va_arg(ap, const char *);
	} while (want[n++] != NULL);
	va_end(ap);
	return run_v(f, in, len, flags, out, out_len, info, want);
}

#define RUN(f, p, flags, ...) run((f), (p)->b, (p)->n, (flags), NULL, NULL, NULL, __VA_ARGS__, NULL)

/* ---- checksum ---- */

static void
test_csum_rfc1071_example(void **state)
{
	/* RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2. */
	static const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t part, ck;
	uint8_t out[2];

	(void)state;
	part = (uint16_t)wg_csum_partial(b, sizeof(b), 0);
	memcpy(out, &part, 2);
	assert_int_equal(out[0], 0xdd);
	assert_int_equal(out[1], 0xf2);
	ck = wg_csum_fold(wg_csum_partial(b, sizeof(b), 0));
	memcpy(out, &ck, 2);
	assert_int_equal(out[0], 0x22);
	assert_int_equal(out[1], 0x0d);
	/* Seeds wider than 16 bits fold with end-around carry. */
	assert_int_equal(wg_csum_partial(b, 0, 0x0001ffffu), 0x0001);
	assert_int_equal(wg_csum_partial(b, 0, 0xffffffffu), 0xffff);
	assert_int_equal(wg_csum_fold(0xffffffffu), 0x0000);
	assert_int_equal(wg_csum_fold(0), 0xffff);
}

static void
test_csum_vs_reference(void **state)
{
	uint8_t raw[400];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t off, len, i;

	(void)state;
	for (i = 0; i < sizeof(raw); i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		raw[i] = (uint8_t)x;
	}
	raw[100] = raw[101] = 0xff;         /* runs of 0xff exercise carries */
	for (off = 0; off < 8; off++) {
		for (len = 0; len <= 300; len++) {
			const uint8_t *b = raw + off;
			uint16_t ck = wg_csum_fold(wg_csum_partial(b, len, 0));
			uint8_t o[2];

			memcpy(o, &ck, 2);
			if (be16_at(o) != ref_csum(b, len))
				fail_msg("off %zu len %zu: %04x != %04x", off, len, be16_at(o),
					 ref_csum(b, len));
			/* Chaining at any even split gives the same sum. */
			if (len >= 2) {
				size_t cut = (len / 2) & ~(size_t)1;
				uint32_t s = wg_csum_partial(b, cut, 0);

				s = wg_csum_partial(b + cut, len - cut, s);
				assert_int_equal(wg_csum_fold(s), ck);
			}
		}
	}
	/* All-0xff buffer: the sum is -0, the checksum 0. */
	memset(raw, 0xff, sizeof(raw));
	assert_int_equal(wg_csum_fold(wg_csum_partial(raw, 300, 0)), 0);
}

/* ---- Ethernet ---- */

static void
test_eth_runt(void **state)
{
	struct fx *f = *state;
	struct pkt p;
	uint16_t len;

	eth(&p, OUR_MAC, PEER_MAC, 0x0800);
	for (len = 0; len < 14; len++)
		assert_int_equal(run(f, p.b, len, 0, NULL, NULL, NULL, "eth_runt", NULL),
				 WG_NET_DROP);
	assert_int_equal(f->st.eth_runt, 14);
}

static void
test_eth_not_us(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(17);
	uint8_t u[16];
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	struct pkt p;

	udp_dgram(u, 16, 16);
	ip_frame_to(&p, OTHER_MAC, PEER_MAC, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "eth_not_us"), WG_NET_DROP);
	ip_frame_to(&p, MCAST_MAC, PEER_MAC, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "eth_not_us"), WG_NET_DROP);
	/* Broadcast is for ARP only. */
	ip_frame_to(&p, BCAST_MAC, PEER_MAC, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "eth_not_us"), WG_NET_DROP);
	arp_frame(&p, MCAST_MAC, PEER_MAC, &a);
	assert_int_equal(RUN(f, &p, 0, "eth_not_us"), WG_NET_DROP);
	arp_frame(&p, OTHER_MAC, PEER_MAC, &a);
	assert_int_equal(RUN(f, &p, 0, "eth_not_us"), WG_NET_DROP);
	/* Broadcast VLAN is not ARP either. */
	eth(&p, BCAST_MAC, PEER_MAC, 0x8100);
	p16(&p, 0x0001);
	p16(&p, 0x0806);
	assert_int_equal(RUN(f, &p, 0, "eth_not_us"), WG_NET_DROP);
	assert_int_equal(f->arp.used, 0);
}

static void
test_eth_bad_src(void **state)
{
	struct fx *f = *state;
	const uint8_t *bad[] = { MCAST_MAC, BCAST_MAC, ZERO_MAC, OUR_MAC };
	struct ipspec s = ip_default(1);
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	uint8_t icmp[64];
	uint16_t ilen = icmp_msg(icmp, 8, 0, 1, 1, NULL, 0);
	struct pkt p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* An echo request from a group MAC would be a reflector. */
		ip_frame_to(&p, OUR_MAC, bad[i], &s, icmp, ilen);
		assert_int_equal(RUN(f, &p, 0, "eth_bad_src"), WG_NET_DROP);
		arp_frame(&p, BCAST_MAC, bad[i], &a);
		assert_int_equal(RUN(f, &p, 0, "eth_bad_src"), WG_NET_DROP);
	}
	assert_int_equal(f->arp.used, 0);
}

static void
test_eth_vlan_and_unknown(void **state)
{
	struct fx *f = *state;
	static const uint16_t vlan[] = { 0x8100, 0x88a8, 0x9100 };
	static const uint16_t other[] = { 0x86dd, 0x0042, 0x88cc, 0x8035, 0x0000 };
	struct pkt p;
	size_t i;

	for (i = 0; i < sizeof(vlan) / sizeof(vlan[0]); i++) {
		eth(&p, OUR_MAC, PEER_MAC, vlan[i]);
		p16(&p, 0x0064);
		p16(&p, 0x0800);
		assert_int_equal(RUN(f, &p, 0, "eth_vlan"), WG_NET_DROP);
	}
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		eth(&p, OUR_MAC, PEER_MAC, other[i]);
		memset(p.b + 14, 0x60, 40);
		p.n = 54;
		assert_int_equal(RUN(f, &p, 0, "eth_unknown_type"), WG_NET_DROP);
	}
	/* A bare header is enough to classify. */
	eth(&p, OUR_MAC, PEER_MAC, 0x86dd);
	assert_int_equal(RUN(f, &p, 0, "eth_unknown_type"), WG_NET_DROP);
}

/* ---- ARP ---- */

static void
expect_arp_reply(struct pkt *e, const uint8_t *peer_mac, const uint8_t *peer_ip)
{
	struct arpspec r = { 1, 0x0800, 6, 4, 2, OUR_MAC, OUR_IP, peer_mac, peer_ip };

	arp_frame(e, peer_mac, OUR_MAC, &r);
}

static void
test_arp_request_for_us(void **state)
{
	struct fx *f = *state;
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	struct pkt p, e;
	uint8_t out[64];
	uint16_t n;
	bool need;
	const uint8_t *mac;

	arp_frame(&p, BCAST_MAC, PEER_MAC, &a);
	assert_int_equal(p.n, 42);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     NULL), WG_NET_TX);
	assert_int_equal(n, 42);
	expect_arp_reply(&e, PEER_MAC, PEER_IP);
	assert_memory_equal(out, e.b, 42);
	/* Field by field, in case the expected frame builder is wrong too. */
	assert_memory_equal(out + 0, PEER_MAC, 6);
	assert_memory_equal(out + 6, OUR_MAC, 6);
	assert_int_equal(be16_at(out + 12), 0x0806);
	assert_int_equal(be16_at(out + 14), 1);
	assert_int_equal(be16_at(out + 16), 0x0800);
	assert_int_equal(out[18], 6);
	assert_int_equal(out[19], 4);
	assert_int_equal(be16_at(out + 20), 2);
	assert_memory_equal(out + 22, OUR_MAC, 6);
	assert_memory_equal(out + 28, OUR_IP, 4);
	assert_memory_equal(out + 32, PEER_MAC, 6);
	assert_memory_equal(out + 38, PEER_IP, 4);

	/* The requester was learned as REACHABLE. */
	mac = wg_arp_resolve(&f->arp, ip_n(PEER_IP), f->now, &need);
	assert_non_null(mac);
	assert_memory_equal(mac, PEER_MAC, 6);
	assert_false(need);

	/* Unicast request (a kernel re-validating us) is answered too. */
	arp_frame(&p, OUR_MAC, PEER_MAC, &a);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     NULL), WG_NET_TX);
	assert_memory_equal(out, e.b, 42);
}

static void
test_arp_request_padded(void **state)
{
	struct fx *f = *state;
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	struct pkt p, e;
	uint8_t out[80];
	static const uint8_t zero[18];
	uint16_t n;

	arp_frame(&p, BCAST_MAC, PEER_MAC, &a);
	memset(p.b + 42, 0xee, 30);
	p.n = 60;
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     NULL), WG_NET_TX);
	assert_int_equal(n, 60);
	expect_arp_reply(&e, PEER_MAC, PEER_IP);
	assert_memory_equal(out, e.b, 42);
	assert_memory_equal(out + 42, zero, 18);
	/* Longer input: still exactly 60 out, nothing of the tail echoed. */
	p.n = 72;
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     NULL), WG_NET_TX);
	assert_int_equal(n, 60);
	assert_memory_equal(out, e.b, 42);
	assert_memory_equal(out + 42, zero, 18);
	/* 43..59 bytes in: no room for padding, 42 out. */
	p.n = 59;
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     NULL), WG_NET_TX);
	assert_int_equal(n, 42);
	assert_memory_equal(out, e.b, 42);
}

static void
test_arp_probe_answered_not_learned(void **state)
{
	struct fx *f = *state;
	struct arpspec a = arp_req(PEER_MAC, ZERO_IP, OUR_IP);
	struct pkt p, e;
	uint8_t out[64];
	uint16_t n;

	arp_frame(&p, BCAST_MAC, PEER_MAC, &a);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     NULL), WG_NET_TX);
	expect_arp_reply(&e, PEER_MAC, ZERO_IP);
	assert_int_equal(n, 42);
	assert_memory_equal(out, e.b, 42);
	assert_int_equal(f->arp.used, 0);
}

static void
test_arp_request_off_link(void **state)
{
	struct fx *f = *state;
	static const uint8_t far[4] = { 192, 168, 5, 5 };
	struct arpspec a = arp_req(PEER_MAC, far, OUR_IP);
	struct pkt p, e;
	uint8_t out[64];
	uint16_t n;

	/* Answered (harmless), but an off-link sender is never learned. */
	arp_frame(&p, BCAST_MAC, PEER_MAC, &a);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     NULL), WG_NET_TX);
	expect_arp_reply(&e, PEER_MAC, far);
	assert_memory_equal(out, e.b, 42);
	assert_int_equal(f->arp.used, 0);
}

static void
test_arp_request_not_us(void **state)
{
	struct fx *f = *state;
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OTHER_IP);
	struct pkt p;
	bool need;
	const uint8_t *mac;

	arp_frame(&p, BCAST_MAC, PEER_MAC, &a);
	assert_int_equal(RUN(f, &p, 0, "arp_not_us"), WG_NET_DROP);
	assert_int_equal(f->arp.used, 0);               /* not created */

	/* Known sender: merged (new MAC), still not answered. */
	assert_int_equal(wg_arp_confirm(&f->arp, ip_n(PEER_IP), PEER2_MAC, 0, true), 0);
	assert_int_equal(RUN(f, &p, 0, "arp_not_us"), WG_NET_DROP);
	mac = wg_arp_resolve(&f->arp, ip_n(PEER_IP), f->now, &need);
	assert_non_null(mac);
	assert_memory_equal(mac, PEER_MAC, 6);
	assert_int_equal(f->arp.used, 1);

	/* Gratuitous ARP (sender == target, not ours) is a request not for us. */
	a = arp_req(PEER2_MAC, PEER_IP, PEER_IP);
	arp_frame(&p, BCAST_MAC, PEER2_MAC, &a);
	assert_int_equal(RUN(f, &p, 0, "arp_not_us"), WG_NET_DROP);
	mac = wg_arp_resolve(&f->arp, ip_n(PEER_IP), f->now, &need);
	assert_memory_equal(mac, PEER2_MAC, 6);
}

static void
test_arp_reply_completes_incomplete(void **state)
{
	struct fx *f = *state;
	struct arpspec r = { 1, 0x0800, 6, 4, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP };
	struct pkt p;
	bool need;
	const uint8_t *mac;
	struct wg_arp_entry snap[4];

	assert_null(wg_arp_resolve(&f->arp, ip_n(PEER_IP), f->now, &need));
	assert_true(need);
	arp_frame(&p, OUR_MAC, PEER_MAC, &r);
	assert_int_equal(RUN(f, &p, 0, "arp_rx_reply"), WG_NET_DROP);
	mac = wg_arp_resolve(&f->arp, ip_n(PEER_IP), f->now, &need);
	assert_non_null(mac);
	assert_false(need);
	assert_memory_equal(mac, PEER_MAC, 6);
	assert_int_equal(wg_arp_snapshot(&f->arp, snap, 4), 1);
	assert_int_equal(snap[0].state, WG_ARP_REACHABLE);
	assert_int_equal(snap[0].probes, 0);
	assert_int_equal(snap[0].confirmed_ms, f->now);
}

static void
test_arp_reply_unsolicited(void **state)
{
	struct fx *f = *state;
	struct arpspec r = { 1, 0x0800, 6, 4, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP };
	struct pkt p;

	arp_frame(&p, OUR_MAC, PEER_MAC, &r);
	assert_int_equal(RUN(f, &p, 0, "arp_rx_reply"), WG_NET_DROP);
	assert_int_equal(f->arp.used, 0);
	/* Broadcast reply (some stacks announce this way): same. */
	arp_frame(&p, BCAST_MAC, PEER_MAC, &r);
	assert_int_equal(RUN(f, &p, 0, "arp_rx_reply"), WG_NET_DROP);
	assert_int_equal(f->arp.used, 0);
}

static void
test_arp_conflict(void **state)
{
	struct fx *f = *state;
	struct arpspec g = arp_req(PEER_MAC, OUR_IP, OUR_IP);
	struct arpspec r = { 1, 0x0800, 6, 4, 2, PEER_MAC, OUR_IP, OUR_MAC, OUR_IP };
	struct arpspec o = arp_req(PEER_MAC, OUR_IP, OTHER_IP);
	struct pkt p;

	arp_frame(&p, BCAST_MAC, PEER_MAC, &g);
	assert_int_equal(RUN(f, &p, 0, "arp_conflict"), WG_NET_DROP);
	arp_frame(&p, OUR_MAC, PEER_MAC, &r);
	assert_int_equal(RUN(f, &p, 0, "arp_conflict"), WG_NET_DROP);
	arp_frame(&p, BCAST_MAC, PEER_MAC, &o);
	assert_int_equal(RUN(f, &p, 0, "arp_conflict"), WG_NET_DROP);
	assert_int_equal(f->arp.used, 0);
}

static void
test_arp_bad(void **state)
{
	struct fx *f = *state;
	static const uint8_t lo[4] = { 127, 0, 0, 1 }, mc[4] = { 224, 0, 0, 1 };
	static const uint8_t bc[4] = { 255, 255, 255, 255 }, dbc[4] = { 10, 0, 0, 255 };
	static const uint8_t net0[4] = { 0, 1, 2, 3 };
	struct arpspec base = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	struct arpspec v[20];
	struct pkt p;
	size_t n = 0, i;

	v[n] = base; v[n++].htype = 6;
	v[n] = base; v[n++].htype = 0;
	v[n] = base; v[n++].ptype = 0x86dd;
	v[n] = base; v[n++].hlen = 8;
	v[n] = base; v[n++].plen = 16;
	v[n] = base; v[n++].op = 0;
	v[n] = base; v[n++].op = 3;
	v[n] = base; v[n++].op = 0x0101;
	v[n] = base; v[n++].sha = MCAST_MAC;
	v[n] = base; v[n++].sha = BCAST_MAC;
	v[n] = base; v[n++].sha = ZERO_MAC;
	v[n] = base; v[n++].sha = OUR_MAC;
	v[n] = base; v[n++].spa = lo;
	v[n] = base; v[n++].spa = mc;
	v[n] = base; v[n++].spa = bc;
	v[n] = base; v[n++].spa = dbc;
	v[n] = base; v[n++].spa = net0;
	for (i = 0; i < n; i++) {
		arp_frame(&p, BCAST_MAC, PEER_MAC, &v[i]);
		if (RUN(f, &p, 0, "arp_bad") != WG_NET_DROP)
			fail_msg("variant %zu answered", i);
	}
	/* One byte short of an ARP body. */
	arp_frame(&p, BCAST_MAC, PEER_MAC, &base);
	p.n = 41;
	assert_int_equal(RUN(f, &p, 0, "arp_bad"), WG_NET_DROP);
	assert_int_equal(f->arp.used, 0);
}

static void
test_arp_table_full_still_answers(void **state)
{
	struct fx *f = *state;
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	struct pkt p, e;
	uint8_t out[64], ip[4] = { 10, 0, 1, 0 }, mac[6] = { 0x02, 0, 0, 0, 1, 0 };
	uint16_t n;
	int i, rc = 0;

	for (i = 1; rc == 0; i++) {
		ip[3] = (uint8_t)i;
		mac[5] = (uint8_t)i;
		rc = wg_arp_confirm(&f->arp, ip_n(ip), mac, 0, true);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(f->arp.used, ARP_ENTRIES * 3 / 4);
	arp_frame(&p, BCAST_MAC, PEER_MAC, &a);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "arp_rx_request", "arp_tx_reply",
			     "arp_table_full", NULL), WG_NET_TX);
	expect_arp_reply(&e, PEER_MAC, PEER_IP);
	assert_memory_equal(out, e.b, 42);
}

static void
test_arp_without_cache(void **state)
{
	struct fx *f = *state;
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	struct pkt p, e;
	struct wg_pkt_info info;
	uint16_t n;

	arp_frame(&p, BCAST_MAC, PEER_MAC, &a);
	n = p.n;
	assert_int_equal(wg_net_input(&f->ifc, NULL, &f->st, p.b, &n, 0, 0, &info), WG_NET_TX);
	expect_arp_reply(&e, PEER_MAC, PEER_IP);
	assert_int_equal(n, 42);
	assert_memory_equal(p.b, e.b, 42);
}

/* ---- IPv4 ---- */

static void
test_ip_bad_version_hlen_len(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(17);
	uint8_t u[16];
	struct pkt p;

	udp_dgram(u, 16, 16);
	s.version = 6;
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_bad_version"), WG_NET_DROP);
	s.version = 0;

	s.ihl = 4;
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_bad_hlen"), WG_NET_DROP);
	s.ihl = 0;
	s.ihl = 15;                       /* 60-byte header, 36 bytes present */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_bad_hlen"), WG_NET_DROP);
	s.ihl = 0;
	/* Ethernet header alone. */
	ip_frame(&p, &s, u, 16);
	p.n = 14;
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_bad_hlen"), WG_NET_DROP);

	s.tot = 19;                       /* shorter than its own header */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_bad_len"), WG_NET_DROP);
	s.tot = 20 + 16 + 1;              /* one byte beyond the frame */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_bad_len"), WG_NET_DROP);
}

static void
test_ip_csum_and_hints(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(17);
	uint8_t u[16];
	struct pkt p;

	udp_dgram(u, 16, 16);
	s.bad_csum = true;
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_bad_csum"), WG_NET_DROP);
	/* Unknown hint bits change nothing. */
	assert_int_equal(RUN(f, &p, 0x10 | WG_RX_L4_CSUM_GOOD, "ip_rx", "ip_bad_csum"),
			 WG_NET_DROP);
	/* The port vouched for it: not re-checked. */
	assert_int_equal(RUN(f, &p, WG_RX_IP_CSUM_GOOD, "ip_rx", "udp_rx"), WG_NET_UDP);
	/* GOOD|BAD means "not checked": software decides. */
	assert_int_equal(RUN(f, &p, WG_RX_IP_CSUM_GOOD | WG_RX_IP_CSUM_BAD, "ip_rx",
			     "ip_bad_csum"), WG_NET_DROP);
	s.bad_csum = false;
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, WG_RX_IP_CSUM_BAD, "ip_rx", "ip_bad_csum"), WG_NET_DROP);
	assert_int_equal(RUN(f, &p, WG_RX_IP_CSUM_GOOD | WG_RX_IP_CSUM_BAD, "ip_rx", "udp_rx"),
			 WG_NET_UDP);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "udp_rx"), WG_NET_UDP);
}

static void
test_ip_frag_notus_src_proto(void **state)
{
	struct fx *f = *state;
	static const uint8_t bad_src[][4] = {
		{ 0, 0, 0, 0 }, { 0, 1, 2, 3 }, { 127, 0, 0, 1 }, { 224, 0, 0, 5 },
		{ 239, 255, 255, 250 }, { 240, 0, 0, 1 }, { 255, 255, 255, 255 },
		{ 10, 0, 0, 255 }, { 10, 0, 0, 1 },
	};
	static const uint8_t bcast[4] = { 10, 0, 0, 255 }, lbcast[4] = { 255, 255, 255, 255 };
	struct ipspec s = ip_default(17);
	uint8_t u[16];
	struct pkt p;
	size_t i;

	udp_dgram(u, 16, 16);
	s.frag = 0x2000;                  /* MF */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_frag_drop"), WG_NET_DROP);
	s.frag = 0x0001;                  /* offset 8, last fragment */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_frag_drop"), WG_NET_DROP);
	s.frag = 0x6000;                  /* DF|MF: still a fragment */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_frag_drop"), WG_NET_DROP);
	s.frag = 0;                       /* no DF: fine */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "udp_rx"), WG_NET_UDP);

	s.dst = OTHER_IP;
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_not_us"), WG_NET_DROP);
	s.dst = bcast;
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_not_us"), WG_NET_DROP);
	s.dst = lbcast;
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_not_us"), WG_NET_DROP);
	s.dst = OUR_IP;

	for (i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		s.src = bad_src[i];
		ip_frame(&p, &s, u, 16);
		if (RUN(f, &p, 0, "ip_rx", "ip_bad_src") != WG_NET_DROP)
			fail_msg("source %zu accepted", i);
	}
	s.src = PEER_IP;

	s.proto = 47;                     /* GRE */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_unknown_proto"), WG_NET_DROP);
	s.proto = 58;                     /* ICMPv6 inside IPv4: nonsense */
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "ip_unknown_proto"), WG_NET_DROP);
}

static void
test_tcp_deliver(void **state)
{
	struct fx *f = *state;
	static const uint8_t opt[4] = { 0x01, 0x01, 0x01, 0x00 };   /* NOP NOP NOP EOL */
	struct ipspec s = ip_default(6);
	struct wg_pkt_info info;
	uint8_t t[40];
	struct pkt p;

	tcp_seg(t, 5, 0x02, 20);
	ip_frame(&p, &s, t, 20);
	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(run(f, p.b, p.n, 0, NULL, NULL, &info, "ip_rx", "tcp_rx", NULL),
			 WG_NET_TCP);
	assert_int_equal(info.l3_off, 14);
	assert_int_equal(info.l3_len, 20);
	assert_int_equal(info.l4_off, 34);
	assert_int_equal(info.l4_len, 20);
	assert_int_equal(info.src_ip, ip_n(PEER_IP));
	assert_int_equal(info.dst_ip, ip_n(OUR_IP));

	/* Options, a 32-byte TCP header (SYN with options) and Ethernet padding. */
	s.opt = opt;
	s.opt_len = 4;
	tcp_seg(t, 8, 0x02, 32);
	ip_frame(&p, &s, t, 32);
	memset(p.b + p.n, 0, 6);
	p.n = (uint16_t)(p.n + 6);
	assert_int_equal(run(f, p.b, p.n, 0, NULL, NULL, &info, "ip_rx", "tcp_rx", NULL),
			 WG_NET_TCP);
	assert_int_equal(info.l3_len, 24);
	assert_int_equal(info.l4_off, 38);
	assert_int_equal(info.l4_len, 32);
}

static void
test_tcp_bad_len(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(6);
	uint8_t t[40];
	struct pkt p;

	tcp_seg(t, 5, 0x02, 20);
	ip_frame(&p, &s, t, 19);          /* header cut short */
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "tcp_bad_len"), WG_NET_DROP);
	tcp_seg(t, 4, 0x02, 20);          /* data offset below 5 */
	ip_frame(&p, &s, t, 20);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "tcp_bad_len"), WG_NET_DROP);
	tcp_seg(t, 6, 0x02, 20);          /* options beyond the segment */
	ip_frame(&p, &s, t, 20);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "tcp_bad_len"), WG_NET_DROP);
	tcp_seg(t, 6, 0x02, 24);          /* ...unless they fit */
	ip_frame(&p, &s, t, 24);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "tcp_rx"), WG_NET_TCP);
}

static void
test_udp_deliver_and_bad_len(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(17);
	struct wg_pkt_info info;
	uint8_t u[64];
	struct pkt p;

	udp_dgram(u, 21, 21);
	ip_frame(&p, &s, u, 21);
	memset(p.b + p.n, 0x77, 5);       /* padding to 60 */
	p.n = (uint16_t)(p.n + 5);
	assert_int_equal(p.n, 60);
	assert_int_equal(run(f, p.b, p.n, 0, NULL, NULL, &info, "ip_rx", "udp_rx", NULL),
			 WG_NET_UDP);
	assert_int_equal(info.l3_off, 14);
	assert_int_equal(info.l3_len, 20);
	assert_int_equal(info.l4_off, 34);
	assert_int_equal(info.l4_len, 21);        /* padding excluded */
	assert_int_equal(info.src_ip, ip_n(PEER_IP));
	assert_int_equal(info.dst_ip, ip_n(OUR_IP));

	udp_dgram(u, 8, 8);               /* empty datagram is fine */
	ip_frame(&p, &s, u, 8);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "udp_rx"), WG_NET_UDP);
	udp_dgram(u, 8, 8);
	ip_frame(&p, &s, u, 7);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "udp_bad_len"), WG_NET_DROP);
	udp_dgram(u, 7, 16);
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "udp_bad_len"), WG_NET_DROP);
	udp_dgram(u, 17, 16);
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "udp_bad_len"), WG_NET_DROP);
	udp_dgram(u, 12, 16);
	ip_frame(&p, &s, u, 16);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "udp_bad_len"), WG_NET_DROP);
}

/* ---- ICMP ---- */

/* The reply we expect for an echo request with this IP spec and message. */
static void
expect_echo_reply(struct pkt *e, const struct ipspec *req, const uint8_t *msg, uint16_t mlen)
{
	struct ipspec r = *req;
	uint8_t m[2048];
	uint16_t ck;

	memcpy(m, msg, mlen);
	m[0] = 0;
	m[2] = m[3] = 0;
	ck = ref_csum(m, mlen);
	m[2] = (uint8_t)(ck >> 8);
	m[3] = (uint8_t)ck;
	r.ihl = 0;
	r.opt = NULL;
	r.opt_len = 0;
	r.tot = 0;
	r.ttl = 64;
	r.frag = (uint16_t)(req->frag & 0x4000);
	r.src = req->dst;
	r.dst = req->src;
	r.bad_csum = false;
	ip_frame_to(e, PEER_MAC, OUR_MAC, &r, m, mlen);
}

static void
test_icmp_echo_reply(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(1);
	uint8_t msg[64], payload[32], out[128];
	uint16_t mlen, n, i;
	struct pkt p, e;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0x30 + i);
	mlen = icmp_msg(msg, 8, 0, 0x1234, 0x0001, payload, sizeof(payload));
	s.tos = 0x10;
	s.id = 0xbeef;
	s.ttl = 3;
	s.frag = 0xc000;                  /* reserved bit + DF */
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "ip_rx", "icmp_rx",
			     "icmp_echo_request", "icmp_echo_reply_tx", NULL), WG_NET_TX);
	assert_int_equal(n, 14 + 20 + 40);
	expect_echo_reply(&e, &s, msg, mlen);
	assert_int_equal(e.n, n);
	assert_memory_equal(out, e.b, n);

	/* The same, field by field. */
	assert_memory_equal(out + 0, PEER_MAC, 6);
	assert_memory_equal(out + 6, OUR_MAC, 6);
	assert_int_equal(be16_at(out + 12), 0x0800);
	assert_int_equal(out[14], 0x45);
	assert_int_equal(out[15], 0x10);
	assert_int_equal(be16_at(out + 16), 60);
	assert_int_equal(be16_at(out + 18), 0xbeef);
	assert_int_equal(be16_at(out + 20), 0x4000);
	assert_int_equal(out[22], 64);
	assert_int_equal(out[23], 1);
	assert_int_equal(ref_csum(out + 14, 20), 0);
	assert_memory_equal(out + 26, OUR_IP, 4);
	assert_memory_equal(out + 30, PEER_IP, 4);
	assert_int_equal(out[34], 0);
	assert_int_equal(out[35], 0);
	assert_int_equal(ref_csum(out + 34, 40), 0);
	assert_memory_equal(out + 38, msg + 4, 4);
	assert_memory_equal(out + 42, payload, sizeof(payload));
	/* Software checksum even when the port could offload it. */
	f->ifc.flags = WG_IFACE_F_TX_IP_CSUM | WG_IFACE_F_RX_IP_CSUM;
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "ip_rx", "icmp_rx",
			     "icmp_echo_request", "icmp_echo_reply_tx", NULL), WG_NET_TX);
	assert_memory_equal(out, e.b, n);
}

static void
test_icmp_options_stripped(void **state)
{
	struct fx *f = *state;
	/* Record route (7), 11 bytes, pointer 4, then EOL: 12 option bytes. */
	static const uint8_t rr[12] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t ts[40] = { 68, 36, 5, 0x01 };     /* max options */
	struct ipspec s = ip_default(1);
	uint8_t msg[64], payload[21], out[160];
	uint16_t mlen, n, i;
	struct pkt p, e;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xa0 ^ i);
	mlen = icmp_msg(msg, 8, 0, 0xfffe, 0x8000, payload, sizeof(payload));
	s.opt = rr;
	s.opt_len = sizeof(rr);
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(p.b[14], 0x48);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "ip_rx", "icmp_rx",
			     "icmp_echo_request", "icmp_echo_reply_tx", NULL), WG_NET_TX);
	assert_int_equal(n, 14 + 20 + mlen);
	assert_int_equal(n, p.n - 12);
	expect_echo_reply(&e, &s, msg, mlen);
	assert_memory_equal(out, e.b, n);
	assert_int_equal(out[14], 0x45);
	assert_int_equal(be16_at(out + 16), 20 + mlen);
	assert_memory_equal(out + 34 + 4, msg + 4, mlen - 4u);

	s.opt = ts;
	s.opt_len = sizeof(ts);
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(p.b[14], 0x4f);
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "ip_rx", "icmp_rx",
			     "icmp_echo_request", "icmp_echo_reply_tx", NULL), WG_NET_TX);
	assert_int_equal(n, 14 + 20 + mlen);
	assert_memory_equal(out, e.b, n);
}

static void
test_icmp_padding_and_odd_length(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(1);
	uint8_t msg[64], payload[13], out[128];
	uint16_t mlen, n, i;
	struct pkt p, e;

	/* 8-byte echo (42-byte frame) padded to 60 with junk. */
	mlen = icmp_msg(msg, 8, 0, 7, 9, NULL, 0);
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(p.n, 42);
	memset(p.b + 42, 0x55, 18);
	p.n = 60;
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "ip_rx", "icmp_rx",
			     "icmp_echo_request", "icmp_echo_reply_tx", NULL), WG_NET_TX);
	assert_int_equal(n, 42);
	expect_echo_reply(&e, &s, msg, mlen);
	assert_memory_equal(out, e.b, 42);

	/* Odd length: the last byte is summed as the high half of a word. */
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xf1 + i * 3);
	mlen = icmp_msg(msg, 8, 0, 0x0102, 0x0304, payload, sizeof(payload));
	assert_int_equal(mlen & 1, 1);
	ip_frame(&p, &s, msg, mlen);
	p.b[p.n++] = 0xff;                /* one byte of padding */
	assert_int_equal(run(f, p.b, p.n, 0, out, &n, NULL, "ip_rx", "icmp_rx",
			     "icmp_echo_request", "icmp_echo_reply_tx", NULL), WG_NET_TX);
	assert_int_equal(n, 14 + 20 + 21);
	assert_int_equal(ref_csum(out + 34, 21), 0);
	expect_echo_reply(&e, &s, msg, mlen);
	assert_memory_equal(out, e.b, n);
}

/* Every value of one payload word, with id = seq = 0: hits the reply that is
 * all zero but its checksum, where an RFC 1624 eqn. 3 update gives -0. */
static void
test_icmp_csum_all_words(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(1);
	uint8_t msg[16], pl[2], out[64];
	struct wg_pkt_info info;
	uint16_t mlen, n;
	uint32_t w;
	struct pkt p, e;

	for (w = 0; w <= 0xffff; w++) {
		pl[0] = (uint8_t)(w >> 8);
		pl[1] = (uint8_t)w;
		mlen = icmp_msg(msg, 8, 0, 0, 0, pl, 2);
		ip_frame(&p, &s, msg, mlen);
		n = p.n;
		if (wg_net_input(&f->ifc, &f->arp, &f->st, p.b, &n, 0, 0, &info) != WG_NET_TX)
			fail_msg("word %04x not answered", w);
		memcpy(out, p.b, n);
		expect_echo_reply(&e, &s, msg, mlen);
		if (n != e.n || memcmp(out, e.b, n) != 0 || ref_csum(out + 34, mlen) != 0)
			fail_msg("word %04x: reply checksum %02x%02x", w, out[36], out[37]);
	}
	assert_int_equal(f->st.icmp_echo_reply_tx, 0x10000);
	assert_int_equal(f->st.icmp_bad_csum, 0);
}

static void
test_icmp_drops(void **state)
{
	struct fx *f = *state;
	struct ipspec s = ip_default(1);
	uint8_t msg[64], pl[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint16_t mlen;
	struct pkt p;

	mlen = icmp_msg(msg, 8, 0, 1, 1, pl, 8);
	ip_frame(&p, &s, msg, 7);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "icmp_rx", "icmp_bad_len"), WG_NET_DROP);
	ip_frame(&p, &s, msg, 0);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "icmp_rx", "icmp_bad_len"), WG_NET_DROP);

	msg[mlen - 1] ^= 0x01;
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "icmp_rx", "icmp_bad_csum"), WG_NET_DROP);
	/* No offload covers ICMP: the L4 hint must not skip the check. */
	assert_int_equal(RUN(f, &p, WG_RX_L4_CSUM_GOOD | WG_RX_IP_CSUM_GOOD, "ip_rx", "icmp_rx",
			     "icmp_bad_csum"), WG_NET_DROP);

	mlen = icmp_msg(msg, 0, 0, 1, 1, pl, 8);         /* echo reply */
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "icmp_rx", "icmp_other"), WG_NET_DROP);
	mlen = icmp_msg(msg, 13, 0, 1, 1, pl, 8);        /* timestamp */
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "icmp_rx", "icmp_other"), WG_NET_DROP);
	mlen = icmp_msg(msg, 8, 1, 1, 1, pl, 8);         /* echo, bad code */
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "icmp_rx", "icmp_other"), WG_NET_DROP);
	mlen = icmp_msg(msg, 3, 4, 0, 1500, pl, 8);      /* frag needed */
	ip_frame(&p, &s, msg, mlen);
	assert_int_equal(RUN(f, &p, 0, "ip_rx", "icmp_rx", "icmp_other"), WG_NET_DROP);
}

/* ---- every valid frame, cut short at every length ---- */

struct sample {
	const char *name;
	struct pkt p;
	bool is_arp;
	uint16_t ihl_bytes;
	enum wg_net_verdict verdict;   /* of the full frame */
	const char *full[6];           /* counters the full frame moves */
};

static unsigned int
make_samples(struct sample *s)
{
	static const uint8_t rr[12] = { 7, 11, 4 };
	struct arpspec a = arp_req(PEER_MAC, PEER_IP, OUR_IP);
	struct arpspec r = { 1, 0x0800, 6, 4, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP };
	struct ipspec ip = ip_default(1);
	uint8_t l4[128], pl[24];
	unsigned int n = 0;
	uint16_t mlen;

	memset(s, 0, 6 * sizeof(*s));
	memset(pl, 0x42, sizeof(pl));
	s[n] = (struct sample){ "arp request", .is_arp = true, .verdict = WG_NET_TX,
		.full = { "arp_rx_request", "arp_tx_reply" } };
	arp_frame(&s[n++].p, BCAST_MAC, PEER_MAC, &a);
	s[n] = (struct sample){ "arp reply", .is_arp = true, .verdict = WG_NET_DROP,
		.full = { "arp_rx_reply" } };
	arp_frame(&s[n++].p, OUR_MAC, PEER_MAC, &r);

	mlen = icmp_msg(l4, 8, 0, 5, 6, pl, sizeof(pl));
	s[n] = (struct sample){ "icmp echo", .ihl_bytes = 20, .verdict = WG_NET_TX,
		.full = { "ip_rx", "icmp_rx", "icmp_echo_request", "icmp_echo_reply_tx" } };
	ip_frame(&s[n++].p, &ip, l4, mlen);
	ip.opt = rr;
	ip.opt_len = sizeof(rr);
	s[n] = (struct sample){ "icmp echo with options", .ihl_bytes = 32, .verdict = WG_NET_TX,
		.full = { "ip_rx", "icmp_rx", "icmp_echo_request", "icmp_echo_reply_tx" } };
	ip_frame(&s[n++].p, &ip, l4, mlen);

	ip = ip_default(6);
	tcp_seg(l4, 5, 0x02, 20);
	s[n] = (struct sample){ "tcp syn", .ihl_bytes = 20, .verdict = WG_NET_TCP,
		.full = { "ip_rx", "tcp_rx" } };
	ip_frame(&s[n++].p, &ip, l4, 20);

	ip = ip_default(17);
	udp_dgram(l4, 30, 30);
	s[n] = (struct sample){ "udp", .ihl_bytes = 20, .verdict = WG_NET_UDP,
		.full = { "ip_rx", "udp_rx" } };
	ip_frame(&s[n++].p, &ip, l4, 30);
	return n;
}

static void
test_truncated_every_length(void **state)
{
	struct fx *f = *state;
	struct sample s[8];
	unsigned int ns = make_samples(s), i;
	uint16_t len;

	for (i = 0; i < ns; i++) {
		const struct pkt *p = &s[i].p;

		/* The full frame is accepted (a truncation test on a frame that
		 * is dropped anyway would prove nothing). */
		if (run_v(f, p->b, p->n, 0, NULL, NULL, NULL, s[i].full) != s[i].verdict)
			fail_msg("%s: full frame verdict", s[i].name);
		for (len = 0; len < p->n; len++) {
			enum wg_net_verdict v;

			if (len < 14)
				v = run(f, p->b, len, 0, NULL, NULL, NULL, "eth_runt", NULL);
			else if (s[i].is_arp)
				v = run(f, p->b, len, 0, NULL, NULL, NULL, "arp_bad", NULL);
			else if (len < 14 + s[i].ihl_bytes)
				v = run(f, p->b, len, 0, NULL, NULL, NULL, "ip_rx", "ip_bad_hlen",
					NULL);
			else
				v = run(f, p->b, len, 0, NULL, NULL, NULL, "ip_rx", "ip_bad_len",
					NULL);
			if (v != WG_NET_DROP)
				fail_msg("%s cut to %u: verdict %d", s[i].name, len, v);
		}
	}
}

/* ---- garbage: random and mutated frames ---- */

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_garbage(void **state)
{
	struct fx *f = *state;
	struct sample s[8];
	unsigned int ns = make_samples(s), i;
	uint64_t x = 0x2545f4914f6cdd1dull, bytes = 0;
	uint64_t verdicts[4] = { 0 };
	static const uint16_t types[] = { 0x0800, 0x0806, 0x86dd, 0x8100 };

	for (i = 0; i < 100000; i++) {
		struct wg_net_stats before = f->st;
		struct wg_pkt_info info;
		uint8_t tmp[300];
		uint16_t len, n;
		uint32_t flags = (uint32_t)(rnd(&x) & 0x1f);
		uint8_t *buf;
		enum wg_net_verdict v;
		unsigned int k;

		if (i & 1) {
			len = (uint16_t)(rnd(&x) % 200);
			for (k = 0; k < len; k++)
				tmp[k] = (uint8_t)rnd(&x);
			/* Mostly aimed at us, or nothing gets past Ethernet. */
			if (len >= 14 && (rnd(&x) & 3) != 0) {
				uint16_t t = types[rnd(&x) % 4];

				memcpy(tmp, (rnd(&x) & 1) ? OUR_MAC : BCAST_MAC, 6);
				tmp[6] &= 0xfe;
				tmp[12] = (uint8_t)(t >> 8);
				tmp[13] = (uint8_t)t;
			}
		} else {
			const struct pkt *p = &s[rnd(&x) % ns].p;
			unsigned int flips = (unsigned int)(rnd(&x) % 4);

			len = p->n;
			memcpy(tmp, p->b, len);
			for (k = 0; k < flips; k++)
				tmp[rnd(&x) % len] ^= (uint8_t)(1u << (rnd(&x) % 8));
			if ((rnd(&x) & 3) == 0)
				len = (uint16_t)(rnd(&x) % (len + 1));
			else if ((rnd(&x) & 3) == 0)
				len = (uint16_t)(len + rnd(&x) % 30);   /* junk tail */
		}
		buf = malloc(len ? len : 1);
		assert_non_null(buf);
		memcpy(buf, tmp, len);
		n = len;
		f->now += rnd(&x) % 50;
		v = wg_net_input(&f->ifc, &f->arp, &f->st, buf, &n, flags, f->now, &info);
		bytes += len;
		assert_true(v <= WG_NET_UDP);
		verdicts[v]++;
		assert_int_equal(outcome_sum(&f->st) - outcome_sum(&before), 1);
		switch (v) {
		case WG_NET_TX:
			assert_true(n >= 42 && n <= len);
			assert_memory_equal(buf + 6, OUR_MAC, 6);
			if (buf[12] == 0x08 && buf[13] == 0x00) {
				/* Back to the Ethernet sender, valid, IHL 5. */
				assert_memory_equal(buf, tmp + 6, 6);
				assert_int_equal(buf[14], 0x45);
				assert_int_equal(be16_at(buf + 16), n - 14);
				assert_int_equal(ref_csum(buf + 14, 20), 0);
				assert_int_equal(ref_csum(buf + 34, n - 34u), 0);
				assert_int_equal(buf[34], 0);
			} else {
				/* Back to the ARP sender hardware address. */
				assert_memory_equal(buf, tmp + 22, 6);
				assert_int_equal(be16_at(buf + 20), 2);
				assert_memory_equal(buf + 22, OUR_MAC, 6);
				assert_memory_equal(buf + 28, OUR_IP, 4);
				assert_memory_equal(buf + 32, tmp + 22, 6);
			}
			break;
		case WG_NET_TCP:
		case WG_NET_UDP:
			assert_int_equal(info.l3_off, 14);
			assert_int_equal(info.l4_off, info.l3_off + info.l3_len);
			assert_true(info.l4_off + info.l4_len <= len);
			assert_true(info.l4_len >= (v == WG_NET_TCP ? 20 : 8));
			/* fall through */
		default:
			assert_int_equal(n, len);
			assert_memory_equal(buf, tmp, len);
			break;
		}
		free(buf);
		if (f->arp.used == ARP_ENTRIES * 3 / 4)
			wg_arp_age(&f->arp, f->now + 1000000, NULL, NULL);
	}
	assert_int_equal(f->st.rx_pkts, 100000);
	assert_int_equal(outcome_sum(&f->st), 100000);
	assert_int_equal(f->st.rx_bytes, bytes);
	assert_int_equal(verdicts[0] + verdicts[1] + verdicts[2] + verdicts[3], 100000);
	/* The generator must reach every verdict, or the test proves little. */
	assert_true(verdicts[WG_NET_TX] > 1000);
	assert_true(verdicts[WG_NET_TCP] > 1000);
	assert_true(verdicts[WG_NET_UDP] > 1000);
	assert_true(f->st.arp_bad > 0 && f->st.ip_bad_csum > 0 && f->st.icmp_bad_csum > 0);
}

/* ---- counters table ---- */

static void
test_stats_list(void **state)
{
	struct wg_net_stats st;
	const char *names[N_FIELDS + 4];
	uint64_t values[N_FIELDS + 4], w;
	unsigned int n, i;

	(void)state;
	/* Every field a distinct value: a row pointing at the wrong offset,
	 * or two rows at one offset, shows up as a mismatch. */
	for (i = 0; i < N_FIELDS; i++) {
		w = 1000 + i;
		memcpy((char *)&st + i * sizeof(uint64_t), &w, sizeof(w));
	}
	n = wg_net_stats_list(&st, names, values, N_FIELDS + 4);
	assert_int_equal(n, N_FIELDS);
	for (i = 0; i < N_FIELDS; i++) {
		assert_string_equal(names[i], fields[i].name);
		assert_int_equal(values[i], fget(&st, fields[i].off));
	}
	/* Short buffers are filled up to max; the count is still complete. */
	memset(names, 0, sizeof(names));
	assert_int_equal(wg_net_stats_list(&st, names, values, 3), N_FIELDS);
	assert_string_equal(names[2], fields[2].name);
	assert_null(names[3]);
	assert_int_equal(wg_net_stats_list(&st, NULL, NULL, 0), N_FIELDS);
}

static void
test_stats_add_dump(void **state)
{
	struct wg_net_stats a, b;
	char *buf = NULL;
	size_t sz = 0;
	FILE *f;
	unsigned int i;

	(void)state;
	for (i = 0; i < N_FIELDS; i++) {
		uint64_t va = i, vb = (uint64_t)i << 33;

		memcpy((char *)&a + fields[i].off, &va, 8);
		memcpy((char *)&b + fields[i].off, &vb, 8);
	}
	wg_net_stats_add(&a, &b);
	for (i = 0; i < N_FIELDS; i++)
		assert_int_equal(fget(&a, fields[i].off), i + ((uint64_t)i << 33));

	memset(&a, 0, sizeof(a));
	a.rx_pkts = 5;
	a.eth_runt = 2;
	a.udp_bad_len = 18446744073709551615ull;
	a.l4_no_handler = 1;
	f = open_memstream(&buf, &sz);
	assert_non_null(f);
	wg_net_stats_dump(f, &a);
	fclose(f);
	assert_string_equal(buf, "rx_pkts 5\neth_runt 2\nudp_bad_len 18446744073709551615\n"
			    "l4_no_handler 1\n");
	free(buf);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_rfc1071_example),
		cmocka_unit_test(test_csum_vs_reference),
		T(test_eth_runt),
		T(test_eth_not_us),
		T(test_eth_bad_src),
		T(test_eth_vlan_and_unknown),
		T(test_arp_request_for_us),
		T(test_arp_request_padded),
		T(test_arp_probe_answered_not_learned),
		T(test_arp_request_off_link),
		T(test_arp_request_not_us),
		T(test_arp_reply_completes_incomplete),
		T(test_arp_reply_unsolicited),
		T(test_arp_conflict),
		T(test_arp_bad),
		T(test_arp_table_full_still_answers),
		T(test_arp_without_cache),
		T(test_ip_bad_version_hlen_len),
		T(test_ip_csum_and_hints),
		T(test_ip_frag_notus_src_proto),
		T(test_tcp_deliver),
		T(test_tcp_bad_len),
		T(test_udp_deliver_and_bad_len),
		T(test_icmp_echo_reply),
		T(test_icmp_options_stripped),
		T(test_icmp_padding_and_odd_length),
		T(test_icmp_csum_all_words),
		T(test_icmp_drops),
		T(test_truncated_every_length),
		T(test_garbage),
		cmocka_unit_test(test_stats_list),
		cmocka_unit_test(test_stats_add_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
