/* SPDX-License-Identifier: BSD-3-Clause
 * TCP state machine driven segment by segment: the test plays the peer,
 * builds every frame byte by byte and parses what the stack sends back.
 * The clock is the test's (ctx->now_ms via wg_tcp_timers).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "net-t.h"
#include "tcp.h"
#include "tcp_opts.h"

#define PEER_IP   (((uint32_t)198 << 24) | (18 << 16) | (7 << 8) | 1)
#define OUR_IP    (((uint32_t)198 << 24) | (18 << 16) | (7 << 8) | 2)
#define PEER_PORT 40000
#define ECHO_PORT 7
#define MAXOUT    64

static struct rte_mempool *pool;
static struct wg_iface ifc;
static struct wg_tcp_ctx ctx;
static uint64_t now;

/* what the stack sent */
struct out_seg {
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t flags;
	uint32_t len;
	struct wg_tcp_opts opts;
	uint8_t data[2048];
};
static struct out_seg out[MAXOUT];
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static unsigned int n_out;

/* what the app saw */
static unsigned int accepted, closed_calls, eofs;
static int closed_reason;
static uint8_t app_data[1 << 16];
static uint32_t app_len;
static struct wg_tcp_conn *app_conn;

static void
tx(void *arg, unsigned int port, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
	unsigned int hl = (th->data_off >> 4) * 4;
	struct out_seg *o;

	(void)arg;
	(void)port;
	assert_true(n_out < MAXOUT);
	o = &out[n_out++];
	/* software checksums must verify */
	assert_int_equal(rte_ipv4_cksum(ip), 0);
	assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, th), 0);
	assert_memory_equal(f, peer_mac, 6);
	o->seq = rte_be_to_cpu_32(th->sent_seq);
	o->ack = rte_be_to_cpu_32(th->recv_ack);
	o->wnd = rte_be_to_cpu_16(th->rx_win);
	o->flags = th->tcp_flags;
	o->len = rte_be_to_cpu_16(ip->total_length) - 20 - hl;
	assert_int_equal(wg_tcp_opts_parse((const uint8_t *)(th + 1), hl - 20,
					   (o->flags & RTE_TCP_SYN_FLAG) != 0, &o->opts), 0);
	memcpy(o->data, (const uint8_t *)th + hl, o->len);
	rte_pktmbuf_free(m);
}

static int
app_accept(struct wg_tcp_conn *c, void *arg, void **app)
{
	(void)arg;
	accepted++;
	app_conn = c;
	*app = NULL;
	return 0;
}

static void
app_data_cb(struct wg_tcp_conn *c, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const void *p;

	assert_true(app_len + len <= sizeof(app_data));
	/* rte_pktmbuf_read copies only when the data is not contiguous */
	p = rte_pktmbuf_read(m, 0, len, app_data + app_len);
	assert_non_null(p);
	if (p != app_data + app_len)
		memcpy(app_data + app_len, p, len);
	app_len += len;
	wg_tcp_recv_done(c, len);
	rte_pktmbuf_free(m);
}

static void
app_eof(struct wg_tcp_conn *c)
{
	(void)c;
	eofs++;
}

static void
app_closed(struct wg_tcp_conn *c, int reason)
{
	(void)c;
	closed_calls++;
	closed_reason = reason;
	app_conn = NULL;
}

static const struct wg_tcp_ops ops = {
	.on_accept = app_accept,
	.on_data = app_data_cb,
	.on_eof = app_eof,
	.on_closed = app_closed,
};

/* Peer -> us. opts may be NULL. */
static void
peer_send(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, const struct wg_tcp_opts *o,
	  const void *data, uint32_t len, bool corrupt)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t optbuf[40];
	unsigned int olen = 0;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct wg_pkt_info info;

	assert_non_null(m);
	if (o != NULL)
		olen = (flags & RTE_TCP_SYN_FLAG) ? wg_tcp_opts_build_syn(optbuf, o) :
						    wg_tcp_opts_build(optbuf, o);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + 20 + olen + len));
	memcpy(eth->dst_addr.addr_bytes, ifc.mac, 6);
	memcpy(eth->src_addr.addr_bytes, peer_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 20 + olen + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(OUR_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(PEER_PORT);
	th->dst_port = rte_cpu_to_be_16(ECHO_PORT);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((20 + olen) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->tcp_urp = 0;
	th->cksum = 0;
	memcpy(th + 1, optbuf, olen);
	if (len)
		memcpy((uint8_t *)(th + 1) + olen, data, len);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	if (corrupt)
		th->cksum ^= 0x0101;
	info.l3_off = 14;
	info.l3_len = 20;
	info.l4_off = 34;
	info.l4_len = (uint16_t)(20 + olen + len);
	info.src_ip = ip->src_addr;
	info.dst_ip = ip->dst_addr;
	wg_tcp_input(&ctx, 0, m, &info, 0);
}

static void
advance(uint64_t ms)
{
	now += ms;
	wg_tcp_timers(&ctx, now);
}

static int
setup(void **state)
{
	struct wg_tcp_conf conf;

	(void)state;
	memset(&ifc, 0, sizeof(ifc));
	memcpy(ifc.mac, (const uint8_t[]){ 0x02, 0, 0, 0, 0, 0x02 }, 6);
	ifc.ipv4 = rte_cpu_to_be_32(OUR_IP);
	ifc.mtu = 1500;
	wg_tcp_conf_defaults(&conf);
	conf.max_conns = 64;
	conf.hash_buckets = 64;
	conf.rcv_buf = 65535;
	if (ctx.conn_pool != NULL) {
		rte_mempool_free(ctx.conn_pool);
		rte_mempool_free(ctx.reass_pool);
		rte_free(ctx.buckets);
	}
	assert_int_equal(wg_tcp_ctx_init(&ctx, &conf, "t", SOCKET_ID_ANY, &ifc, 1, pool, tx, NULL), 0);
	now = ctx.now_ms;
	assert_int_equal(wg_tcp_listen(&ctx, ECHO_PORT, &ops, NULL), 0);
	n_out = accepted = closed_calls = eofs = 0;
	closed_reason = 1;
	app_len = 0;
	app_conn = NULL;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (app_conn != NULL)
		wg_tcp_abort(app_conn);
	assert_int_equal(ctx.st.conns, 0);
	/* every segment we were handed or built went back */
	assert_int_equal(rte_mempool_in_use_count(pool), 0);
	return 0;
}

static const struct wg_tcp_opts syn_opts = {
	.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM | WG_TCPOPT_F_TS,
	.mss = 1400, .wscale = 7, .ts_val = 1000, .ts_ecr = 0,
};

/* Handshake; returns our ISS. */
static uint32_t
handshake(uint32_t peer_isn)
{
	struct wg_tcp_opts ack_opts = { .flags = WG_TCPOPT_F_TS, .ts_val = 1001 };
	uint32_t iss;

	n_out = 0;
	peer_send(RTE_TCP_SYN_FLAG, peer_isn, 0, 64240, &syn_opts, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(out[0].ack, peer_isn + 1);
	assert_true(out[0].opts.flags & WG_TCPOPT_F_MSS);
	assert_int_equal(out[0].opts.mss, 1460);
	assert_true(out[0].opts.flags & WG_TCPOPT_F_SACK_PERM);
	assert_true(out[0].opts.flags & WG_TCPOPT_F_WSCALE);
	assert_true(out[0].opts.flags & WG_TCPOPT_F_TS);
	assert_int_equal(out[0].opts.ts_ecr, 1000);
	iss = out[0].seq;
	assert_int_equal(ctx.st.synrcvd, 1);
	ack_opts.ts_ecr = out[0].opts.ts_val;
	peer_send(RTE_TCP_ACK_FLAG, peer_isn + 1, iss + 1, 502, &ack_opts, NULL, 0, false);
	assert_int_equal(accepted, 1);
	assert_int_equal(ctx.st.established, 1);
	assert_int_equal(ctx.st.synrcvd, 0);
	n_out = 0;
	return iss;
}

static void
test_handshake_and_data(void **state)
{
	struct wg_tcp_opts o = { .flags = WG_TCPOPT_F_TS, .ts_val = 1002 };
	uint8_t buf[3000];
	uint32_t iss, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	iss = handshake(5000);
	/* one small segment: delivered, ACKed at once (not full-sized) */
	peer_send(RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 5001, iss + 1, 502, &o, buf, 100, false);
	assert_int_equal(app_len, 100);
	assert_memory_equal(app_data, buf, 100);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].ack, 5101);
	assert_int_equal(out[0].flags, RTE_TCP_ACK_FLAG);
	/* a full-sized segment waits for the delayed ACK ... */
	n_out = 0;
	peer_send(RTE_TCP_ACK_FLAG, 5101, iss + 1, 502, &o, buf + 100, 1400, false);
	assert_int_equal(n_out, 0);
	advance(ctx.conf.delack_ms + 1);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].ack, 6501);
	/* ... and a second one in a row is ACKed at once */
	n_out = 0;
	peer_send(RTE_TCP_ACK_FLAG, 6501, iss + 1, 502, &o, buf + 1500, 1400, false);
	peer_send(RTE_TCP_ACK_FLAG, 7901, iss + 1, 502, &o, buf + 2900, 100, false);
	assert_int_equal(app_len, 3000);
	assert_memory_equal(app_data, buf, 3000);
	assert_true(n_out >= 1);
	assert_int_equal(out[n_out - 1].ack, 8001);
	assert_int_equal(ctx.st.rx_bytes, 3000);
}

static void
test_out_of_order_sack(void **state)
{
	struct wg_tcp_opts o = { .flags = WG_TCPOPT_F_TS, .ts_val = 1002 };
	uint8_t buf[300];
	uint32_t iss, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	iss = handshake(100);
	/* third then second piece: held, each answered by a duplicate ACK with SACK */
	peer_send(RTE_TCP_ACK_FLAG, 301, iss + 1, 502, &o, buf + 200, 100, false);
	assert_int_equal(app_len, 0);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].ack, 101);
	assert_int_equal(out[0].opts.n_sack, 1);
	assert_int_equal(out[0].opts.sack[0].start, 301);
	assert_int_equal(out[0].opts.sack[0].end, 401);
	peer_send(RTE_TCP_ACK_FLAG, 201, iss + 1, 502, &o, buf + 100, 100, false);
	assert_int_equal(out[1].ack, 101);
	assert_int_equal(out[1].opts.n_sack, 1);
	assert_int_equal(out[1].opts.sack[0].start, 201);
	assert_int_equal(out[1].opts.sack[0].end, 401);
	/* the hole fills: everything in order, cumulative ACK, no SACK left */
	peer_send(RTE_TCP_ACK_FLAG, 101, iss + 1, 502, &o, buf, 100, false);
	assert_int_equal(app_len, 300);
	assert_memory_equal(app_data, buf, 300);
	assert_int_equal(out[n_out - 1].ack, 401);
	assert_int_equal(out[n_out - 1].opts.n_sack, 0);
	assert_null(app_conn->reass);
}

static void
test_rst_rules(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(7000);
	/* in the window but not exactly rcv_nxt: challenge ACK, still alive */
	peer_send(RTE_TCP_RST_FLAG, 7001 + 10, 0, 0, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.challenge_acks, 1);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].flags, RTE_TCP_ACK_FLAG);
	assert_int_equal(out[0].ack, 7001);
	assert_non_null(app_conn);
	/* outside the window: ignored silently */
	n_out = 0;
	peer_send(RTE_TCP_RST_FLAG, 7001 + 1000000, 0, 0, NULL, NULL, 0, false);
	assert_int_equal(n_out, 0);
	assert_non_null(app_conn);
	/* SYN on an established connection: challenge ACK, not a reset */
	peer_send(RTE_TCP_SYN_FLAG, 9999, 0, 1000, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.challenge_acks, 2);
	assert_non_null(app_conn);
	/* exact: reset */
	peer_send(RTE_TCP_RST_FLAG, 7001, 0, 0, NULL, NULL, 0, false);
	assert_null(app_conn);
	assert_int_equal(closed_reason, -ECONNRESET);
	assert_int_equal(ctx.st.conns, 0);
	(void)iss;
}

static void
test_bad_segments(void **state)
{
	(void)state;
	/* bad checksum: counted, no answer, no state */
	peer_send(RTE_TCP_SYN_FLAG, 1, 0, 1000, &syn_opts, NULL, 0, true);
	assert_int_equal(ctx.st.bad_csum, 1);
	assert_int_equal(n_out, 0);
	assert_int_equal(ctx.st.conns, 0);
	/* SYN+FIN: never legitimate */
	peer_send(RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG, 1, 0, 1000, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.bad_hdr, 1);
	assert_int_equal(n_out, 0);
	/* ACK to a listening port with no connection and a bogus cookie: RST
	 * with seq = their ack */
	peer_send(RTE_TCP_ACK_FLAG, 1234, 777, 1000, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.syncookies_bad, 1);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].flags, RTE_TCP_RST_FLAG);
	assert_int_equal(out[0].seq, 777);
}

static void
test_syn_cookies(void **state)
{
	struct wg_tcp_opts ack_opts = { .flags = WG_TCPOPT_F_TS, .ts_val = 1001 };
	uint32_t cookie;

	(void)state;
	ctx.conf.syn_backlog = 0;    /* every SYN gets a cookie */
	peer_send(RTE_TCP_SYN_FLAG, 41, 0, 64240, &syn_opts, NULL, 0, false);
	assert_int_equal(ctx.st.syncookies_sent, 1);
	assert_int_equal(ctx.st.conns, 0);   /* no state kept */
	assert_int_equal(n_out, 1);
	cookie = out[0].seq;
	/* a forged cookie is refused */
	peer_send(RTE_TCP_ACK_FLAG, 42, cookie + 2, 502, &ack_opts, NULL, 0, false);
	assert_int_equal(ctx.st.syncookies_bad, 1);
	assert_int_equal(accepted, 0);
	/* the real one builds the connection */
	peer_send(RTE_TCP_ACK_FLAG, 42, cookie + 1, 502, &ack_opts, NULL, 0, false);
	assert_int_equal(ctx.st.syncookies_ok, 1);
	assert_int_equal(accepted, 1);
	assert_int_equal(ctx.st.established, 1);
	peer_send(RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 42, cookie + 1, 502, &ack_opts, "hi", 2,
		  false);
	assert_int_equal(app_len, 2);
}

static void
test_passive_close(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(1);
	peer_send(RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 2, iss + 1, 502, NULL, NULL, 0, false);
	assert_int_equal(eofs, 1);
	assert_int_equal(out[n_out - 1].ack, 3);      /* FIN consumes one */
	n_out = 0;
	assert_int_equal(wg_tcp_close(app_conn), 0);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].flags, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(out[0].seq, iss + 1);
	peer_send(RTE_TCP_ACK_FLAG, 3, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(closed_calls, 1);
	assert_int_equal(closed_reason, 0);
	assert_int_equal(ctx.st.conns, 0);       /* LAST_ACK -> CLOSED: no TIME_WAIT */
}

static void
test_rto_retransmit(void **state)
{
	struct rte_mbuf *m;
	uint32_t iss, i;
	uint8_t *p;

	(void)state;
	iss = handshake(1);
	m = rte_pktmbuf_alloc(pool);
	p = (uint8_t *)rte_pktmbuf_append(m, 1388);
	for (i = 0; i < 1388; i++)
		p[i] = (uint8_t)i;
	assert_int_equal(wg_tcp_send(app_conn, m), 0);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].seq, iss + 1);
	assert_int_equal(out[0].len, 1388);
	assert_memory_equal(out[0].data, p, 1388);
	/* no ACK: the RTO (1 s initially) fires and resends the same bytes */
	n_out = 0;
	advance(1100);
	assert_int_equal(ctx.st.rto_expired, 1);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].seq, iss + 1);
	assert_int_equal(out[0].len, 1388);
	/* backoff doubled: nothing more at +1.1 s, again by +2.2 s */
	n_out = 0;
	advance(1100);
	assert_int_equal(n_out, 0);
	advance(1200);
	assert_int_equal(n_out, 1);
	/* ACK: queue empties, timer stops */
	peer_send(RTE_TCP_ACK_FLAG, 2, iss + 1389, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
	n_out = 0;
	advance(10000);
	assert_int_equal(n_out, 0);
	/* slow start restarted from one segment (RFC 5681 3.1) and grew by
	 * the one ACK: the congestion window now holds two segments of
	 * 1400 - 12 (timestamps) bytes */
	assert_int_equal(app_conn->mss, 1388);
	assert_int_equal(app_conn->cwnd, 2 * 1388);
}

static void
test_fast_retransmit(void **state)
{
	struct rte_mbuf *m;
	uint32_t iss, i;

	(void)state;
	iss = handshake(1);
	/* four segments out (initial window 10 segments), the first lost:
	 * three duplicate ACKs resend it at once, long before the RTO */
	for (i = 0; i < 4; i++) {
		m = rte_pktmbuf_alloc(pool);
		memset(rte_pktmbuf_append(m, 1000), 'a' + (int)i, 1000);
		assert_int_equal(wg_tcp_send(app_conn, m), 0);
	}
	assert_int_equal(n_out, 4);
	n_out = 0;
	for (i = 0; i < 3; i++)
		peer_send(RTE_TCP_ACK_FLAG, 2, iss + 1, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.fast_retrans, 1);
	assert_int_equal(ctx.st.rto_expired, 0);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].seq, iss + 1);
	assert_int_equal(out[0].len, 1388);   /* a full MSS (less timestamps) */
	assert_int_equal(out[0].data[0], 'a');
	assert_int_equal(out[0].data[1000], 'b');
	/* a full ACK ends recovery with cwnd = ssthresh-ish, queue empty */
	peer_send(RTE_TCP_ACK_FLAG, 2, iss + 4001, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
}

static void
test_no_listener_rst(void **state)
{
	struct rte_mbuf *m;

	(void)state;
	/* SYN to a port nobody listens on: RST|ACK acking the SYN */
	ctx.listeners[0].port = 0;
	peer_send(RTE_TCP_SYN_FLAG, 500, 0, 1000, NULL, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].flags, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(out[0].ack, 501);
	assert_int_equal(ctx.st.no_conn, 1);
	(void)m;
}

int
main(void)
{

	char prefix[32];
	/* --no-huge already implies legacy memory, which --in-memory refuses */
	const char *argv[] = { "test_tcp", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			       "--no-telemetry", "--log-level=error", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_sack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passive_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rto_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_listener_rst, setup, teardown),
	};


	snprintf(prefix, sizeof(prefix), "--file-prefix=tcp%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv), (char **)(uintptr_t)argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("t_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
