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
#include "svc.h"
#include "tcp.h"
#include "tcp_opts.h"
#include "tcp_rack.h"
#include "tcp_sack.h"
#include "../eal_runtime.h"

#define PEER_IP   (((uint32_t)198 << 24) | (18 << 16) | (7 << 8) | 1)
#define OUR_IP    (((uint32_t)198 << 24) | (18 << 16) | (7 << 8) | 2)
#define PEER_PORT 40000
#define ECHO_PORT 7
#define SVC_PORT  17       /* the real echo service (svc_echo.c) */
#define MAXOUT    256

#define F_FIN RTE_TCP_FIN_FLAG
#define F_SYN RTE_TCP_SYN_FLAG
#define F_RST RTE_TCP_RST_FLAG
#define F_PSH RTE_TCP_PSH_FLAG
#define F_ACK RTE_TCP_ACK_FLAG

static struct rte_mempool *pool;
static struct wg_iface ifc;
static struct wg_tcp_ctx ctx;
static uint64_t now;

/* what the stack sent */
struct out_seg {
	uint16_t sport, dport;        /* host byte order */
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

/* the 4-tuple the peer uses (host byte order) */
static uint16_t peer_port, our_port;

/* what the app saw, and what it does */
enum { ACT_NONE = 0, ACT_ABORT, ACT_CLOSE };
static unsigned int accepted, closed_calls, eofs, writables, connects;
static int closed_reason, connect_err;
static uint8_t app_data[1 << 17];
static uint32_t app_len;
static struct wg_tcp_conn *app_conn;
static bool hold;                 /* on_data keeps the bytes: no wg_tcp_recv_done */
static uint32_t held;             /* bytes kept that way */
static int data_action;           /* ACT_*, inside on_data */
static const struct wg_tcp_conn *sack_watch; /* tx() checks nothing it sends is SACKed */
static int connect_fail_action;   /* ACT_*, inside on_connect(err < 0) */
static struct rte_mbuf *pending_tx; /* on_writable sends it */

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
	assert_int_equal(ip->src_addr, rte_cpu_to_be_32(OUR_IP));
	/* options come out of the MSS, never on top of it */
	assert_true(rte_be_to_cpu_16(ip->total_length) <= ifc.mtu);
	assert_int_equal(ip->dst_addr, rte_cpu_to_be_32(PEER_IP));
	o->sport = rte_be_to_cpu_16(th->src_port);
	o->dport = rte_be_to_cpu_16(th->dst_port);
	o->seq = rte_be_to_cpu_32(th->sent_seq);
	o->ack = rte_be_to_cpu_32(th->recv_ack);
	o->wnd = rte_be_to_cpu_16(th->rx_win);
	o->flags = th->tcp_flags;
	o->len = rte_be_to_cpu_16(ip->total_length) - 20 - hl;
	assert_int_equal(wg_tcp_opts_parse((const uint8_t *)(th + 1), hl - 20,
					   (o->flags & RTE_TCP_SYN_FLAG) != 0, &o->opts), 0);
	assert_true(o->len <= sizeof(o->data));
	memcpy(o->data, (const uint8_t *)th + hl, o->len);
	if (sack_watch != NULL && o->len > 0) {
		unsigned int i;

		/* never a byte the peer is known to hold (RFC 6675) */
		for (i = 0; i < sack_watch->sack.n; i++)
			assert_false((int32_t)(o->seq - sack_watch->sack.r[i].end) < 0 &&
				     (int32_t)(o->seq + o->len - sack_watch->sack.r[i].start) > 0);
	}
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
	if (hold)
		held += len;
	else
		wg_tcp_recv_done(c, len);
	rte_pktmbuf_free(m);
	if (data_action == ACT_ABORT) {
		/* deferred: the input path still uses c */
		wg_tcp_abort(c);
		app_conn = NULL;
	} else if (data_action == ACT_CLOSE) {
		wg_tcp_close(c);
	}
}

static void
app_eof(struct wg_tcp_conn *c)
{
	(void)c;
	eofs++;
}

static void
app_writable(struct wg_tcp_conn *c)
{
	writables++;
	if (pending_tx != NULL && wg_tcp_send(c, pending_tx) == 0)
		pending_tx = NULL;
}

static void
app_closed(struct wg_tcp_conn *c, int reason)
{
	(void)c;
	closed_calls++;
	closed_reason = reason;
	app_conn = NULL;
}

static void
app_connect(struct wg_tcp_conn *c, int err)
{
	connects++;
	connect_err = err;
	if (err == 0) {
		app_conn = c;
		return;
	}
	app_conn = NULL;
	/* the connection is TCP's now: whatever the app does must be harmless */
	if (connect_fail_action == ACT_CLOSE)
		assert_int_equal(wg_tcp_close(c), -ENOTCONN);
	else if (connect_fail_action == ACT_ABORT)
		wg_tcp_abort(c);
}

static const struct wg_tcp_ops ops = {
	.on_accept = app_accept,
	.on_data = app_data_cb,
	.on_eof = app_eof,
	.on_writable = app_writable,
	.on_closed = app_closed,
};

/* active opens: no on_accept */
static const struct wg_tcp_ops client_ops = {
	.on_connect = app_connect,
	.on_data = app_data_cb,
	.on_eof = app_eof,
	.on_writable = app_writable,
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
	assert_non_null(eth);
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
	th->src_port = rte_cpu_to_be_16(peer_port);
	th->dst_port = rte_cpu_to_be_16(our_port);
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

/* One millisecond at a time, as the worker's loop does: a timer re-armed
 * from a callback counts from the tick it fired at. */
static void
advance(uint64_t ms)
{
	while (ms-- > 0)
		wg_tcp_timers(&ctx, ++now);
}

/* Advance 1 ms at a time until the stack sends something; returns the
 * time that took (fails after limit ms). */
static uint64_t
wait_out(uint64_t limit)
{
	unsigned int n = n_out;
	uint64_t t;

	for (t = 1; t <= limit; t++) {
		advance(1);
		if (n_out != n)
			return t;
	}
	fail_msg("nothing sent within %u ms", (unsigned int)limit);
	return 0;
}

/* A chain of len bytes of fill, at most 1000 per mbuf. */
static struct rte_mbuf *
make_chain(uint32_t len, uint8_t fill)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t n;

	do {
		n = RTE_MIN(len, 1000u);
		m = rte_pktmbuf_alloc(pool);
		assert_non_null(m);
		assert_non_null(rte_pktmbuf_append(m, (uint16_t)n));
		memset(rte_pktmbuf_mtod(m, void *), fill, n);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
		len -= n;
	} while (len > 0);
	return head;
}

/* The app queues len bytes of fill; returns wg_tcp_send()'s verdict (the
 * chain is freed when it was refused). */
static int
app_send(struct wg_tcp_conn *c, uint32_t len, uint8_t fill)
{
	struct rte_mbuf *m = make_chain(len, fill);
	int rc;

	rc = wg_tcp_send(c, m);
	if (rc != 0)
		rte_pktmbuf_free(m);
	return rc;
}

static void
expect_seg(unsigned int i, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	assert_true(i < n_out);
	assert_int_equal(out[i].flags, flags);
	assert_int_equal(out[i].seq, seq);
	assert_int_equal(out[i].ack, ack);
	assert_int_equal(out[i].len, len);
	assert_int_equal(out[i].sport, our_port);
	assert_int_equal(out[i].dport, peer_port);
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
	/* what a failed test left behind must not fail the next one */
	if (ctx.buckets != NULL) {
		unsigned int b;

		for (b = 0; b <= ctx.bucket_mask; b++)
			while (ctx.buckets[b] != NULL)
				wg_tcp_abort(ctx.buckets[b]);
	}
	if (pending_tx != NULL)
		rte_pktmbuf_free(pending_tx);
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
	n_out = accepted = closed_calls = eofs = writables = connects = 0;
	closed_reason = 1;
	connect_err = 1;
	app_len = held = 0;
	app_conn = NULL;
	hold = false;
	data_action = connect_fail_action = ACT_NONE;
	pending_tx = NULL;
	sack_watch = NULL;
	peer_port = PEER_PORT;
	our_port = ECHO_PORT;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (app_conn != NULL)
		wg_tcp_abort(app_conn);
	if (pending_tx != NULL)
		rte_pktmbuf_free(pending_tx);
	pending_tx = NULL;
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(ctx.st.established, 0);
	assert_int_equal(ctx.st.timewait, 0);
	assert_int_equal(ctx.st.synrcvd, 0);
	assert_int_equal(rte_mempool_in_use_count(ctx.conn_pool), 0);
	assert_int_equal(rte_mempool_in_use_count(ctx.reass_pool), 0);
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
	unsigned int acc = accepted;

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
	ack_opts.ts_ecr = out[0].opts.ts_val;
	peer_send(RTE_TCP_ACK_FLAG, peer_isn + 1, iss + 1, 502, &ack_opts, NULL, 0, false);
	assert_int_equal(accepted, acc + 1);
	assert_non_null(app_conn);
	assert_int_equal(app_conn->state, WG_TCP_ESTABLISHED);
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

/* After a timeout snd_nxt goes back to snd_una to resend, but the peer may
 * hold everything up to snd_max: the ACKs we owe it must carry snd_max, or
 * it drops them as old and both sides stall in backoff. */
static void
test_ack_seq_after_rto(void **state)
{
	uint32_t iss, max;

	(void)state;
	iss = handshake(1);
	assert_int_equal(app_send(app_conn, 4 * 1388, 0x5a), 0);
	assert_int_equal(n_out, 4);
	max = iss + 1 + 4 * 1388;
	n_out = 0;
	advance(1100);
	assert_int_equal(ctx.st.rto_expired, 1);
	assert_int_equal(n_out, 1);
	expect_seg(0, RTE_TCP_ACK_FLAG, iss + 1, 2, 1388);
	/* data from the peer: the pure ACK answering it says snd_max */
	n_out = 0;
	peer_send(RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 2, iss + 1, 502, NULL, "x", 1, false);
	advance(300);
	assert_true(n_out >= 1);
	expect_seg(0, RTE_TCP_ACK_FLAG, max, 3, 0);
	peer_send(RTE_TCP_ACK_FLAG, 3, max, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
}

/* The peer's buffer filled: it ACKs the first of four segments with a
 * zero window, having dropped the rest. Our ACKs of its data must stay
 * inside that window (seq = snd_una, not snd_max), or it drops them and
 * the two sides wait for each other for ever (seen against Linux with the
 * kernel echo server blocked writing back). */
static void
test_ack_seq_zero_window(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(1);
	assert_int_equal(app_send(app_conn, 4 * 1388, 0x5a), 0);
	assert_int_equal(n_out, 4);
	n_out = 0;
	peer_send(RTE_TCP_ACK_FLAG, 2, iss + 1 + 1388, 0, NULL, NULL, 0, false);
	assert_int_equal(app_conn->snd_wnd, 0);
	peer_send(RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 2, iss + 1 + 1388, 0, NULL, "x", 1, false);
	assert_true(n_out >= 1);
	expect_seg(n_out - 1, RTE_TCP_ACK_FLAG, iss + 1 + 1388, 3, 0);
	/* the window opens; the rest arrives in the end */
	peer_send(RTE_TCP_ACK_FLAG, 3, iss + 1 + 1388, 502, NULL, NULL, 0, false);
	peer_send(RTE_TCP_ACK_FLAG, 3, iss + 1 + 4 * 1388, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
}

/* A peer that filled our window while one of its segments was lost sends
 * its ACKs with seq on the right edge: they are acceptable, and what they
 * acknowledge of our data counts. */
static void
test_ack_on_window_edge(void **state)
{
	uint32_t iss, edge, oow;

	(void)state;
	iss = handshake(1);
	assert_int_equal(app_send(app_conn, 1388, 0x33), 0);
	edge = app_conn->rcv_adv;
	assert_true((int32_t)(edge - app_conn->rcv_nxt) > 0);
	oow = (uint32_t)ctx.st.out_of_window;
	peer_send(RTE_TCP_ACK_FLAG, edge, iss + 1389, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.out_of_window, oow);
	assert_int_equal(app_conn->sndq_bytes, 0);
	/* one past the edge is still out of the window */
	peer_send(RTE_TCP_ACK_FLAG, edge + 1, iss + 1389, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.out_of_window, oow + 1);
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

/* ---- send side: zero window, persist, RTO into a closed window ---- */

static void
test_zero_window_persist(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(1000);
	/* the peer closes its window before we have anything to send */
	peer_send(F_ACK, 1001, iss + 1, 0, NULL, NULL, 0, false);
	assert_int_equal(n_out, 0);
	assert_int_equal(app_send(app_conn, 1000, 'z'), 0);
	assert_int_equal(n_out, 0);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_PERSIST);
	/* probes one below snd_una, no data, after RTO, 2 RTO, 4 RTO */
	assert_int_equal(wait_out(5000), 1000);
	expect_seg(0, F_ACK, iss, 1001, 0);
	assert_int_equal(wait_out(5000), 2000);
	expect_seg(1, F_ACK, iss, 1001, 0);
	/* an answer that keeps the window shut changes nothing ... */
	peer_send(F_ACK, 1001, iss + 1, 0, NULL, NULL, 0, false);
	assert_int_equal(n_out, 2);
	assert_int_equal(wait_out(5000), 4000);
	expect_seg(2, F_ACK, iss, 1001, 0);
	assert_int_equal(ctx.st.zero_window_probes, 3);
	assert_int_equal(ctx.st.rto_expired, 0);
	/* ... one that opens it gets the data out at once */
	peer_send(F_ACK, 1001, iss + 1, 8, NULL, NULL, 0, false);
	assert_int_equal(n_out, 4);
	expect_seg(3, F_ACK | F_PSH, iss + 1, 1001, 1000);
	assert_int_equal(out[3].data[999], 'z');
	assert_int_equal(app_conn->timer_kind, WG_TCPT_RTX);
	peer_send(F_ACK, 1001, iss + 1001, 8, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
	assert_int_equal(app_conn->snd_una, iss + 1001);
	n_out = 0;
	advance(100000);
	assert_int_equal(n_out, 0);
}

/* Data in flight when the peer shuts its window: the retransmission timer
 * cannot resend into a zero window, so it must turn into window probes
 * (and not count a live peer down to a reset). */
static void
test_zero_window_rto(void **state)
{
	uint32_t iss, i;

	(void)state;
	ctx.conf.max_retries = 3;
	iss = handshake(1000);
	assert_int_equal(app_send(app_conn, 1000, 'q'), 0);
	expect_seg(0, F_ACK | F_PSH, iss + 1, 1001, 1000);
	/* the peer's buffer is full: nothing acked, window zero */
	peer_send(F_ACK, 1001, iss + 1, 0, NULL, NULL, 0, false);
	n_out = 0;
	for (i = 0; i < 6; i++) {
		wait_out(120000);
		expect_seg(n_out - 1, F_ACK, iss, 1001, 0);
		peer_send(F_ACK, 1001, iss + 1, 0, NULL, NULL, 0, false);
		assert_non_null(app_conn);
	}
	assert_int_equal(ctx.st.zero_window_probes, 6);
	assert_int_equal(ctx.st.timeouts, 0);
	/* the window opens: what was in flight goes again */
	n_out = 0;
	peer_send(F_ACK, 1001, iss + 1, 8, NULL, NULL, 0, false);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK | F_PSH, iss + 1, 1001, 1000);
	peer_send(F_ACK, 1001, iss + 1001, 8, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
}

/* A peer that shut its window and went away must not hold the connection
 * (and its send buffer) for ever. */
static void
test_persist_gives_up(void **state)
{
	uint32_t iss;

	(void)state;
	ctx.conf.max_retries = 3;
	iss = handshake(1000);
	peer_send(F_ACK, 1001, iss + 1, 0, NULL, NULL, 0, false);
	assert_int_equal(app_send(app_conn, 1000, 'z'), 0);
	assert_int_equal(n_out, 0);
	advance(1000 + 2000 + 4000);
	assert_int_equal(n_out, 3);
	assert_non_null(app_conn);
	advance(8000);
	assert_int_equal(n_out, 4);
	expect_seg(3, F_RST | F_ACK, iss + 1, 1001, 0);
	assert_null(app_conn);
	assert_int_equal(closed_reason, -ETIMEDOUT);
	assert_int_equal(ctx.st.timeouts, 1);
	assert_int_equal(ctx.st.zero_window_probes, 3);
}

/* ---- RFC 7323 / 5961 checks ---- */

static void
test_paws(void **state)
{
	struct wg_tcp_opts o = { .flags = WG_TCPOPT_F_TS, .ts_val = 1005 };
	uint32_t iss;

	(void)state;
	iss = handshake(2000);
	peer_send(F_ACK, 2001, iss + 1, 502, &o, "0123456789", 10, false);
	assert_int_equal(app_len, 10);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 2011, 0);
	assert_int_equal(out[0].opts.ts_ecr, 1005);
	/* an older timestamp: dropped, answered with an ACK echoing the
	 * newest one we kept */
	o.ts_val = 1003;
	peer_send(F_ACK, 2011, iss + 1, 502, &o, "abcdefghij", 10, false);
	assert_int_equal(ctx.st.paws_drops, 1);
	assert_int_equal(app_len, 10);
	assert_int_equal(n_out, 2);
	expect_seg(1, F_ACK, iss + 1, 2011, 0);
	assert_int_equal(out[1].opts.ts_ecr, 1005);
	/* a fresh one gets in */
	o.ts_val = 1006;
	peer_send(F_ACK, 2011, iss + 1, 502, &o, "abcdefghij", 10, false);
	assert_int_equal(app_len, 20);
	assert_memory_equal(app_data, "0123456789abcdefghij", 20);
	expect_seg(2, F_ACK, iss + 1, 2021, 0);
	assert_int_equal(out[2].opts.ts_ecr, 1006);
	assert_int_equal(ctx.st.paws_drops, 1);
}

static void
test_ack_too_new(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(3000);
	/* acknowledges bytes never sent: ACK back, segment dropped (its data too) */
	peer_send(F_ACK, 3001, iss + 501, 502, NULL, "0123456789", 10, false);
	assert_int_equal(ctx.st.ack_too_new, 1);
	assert_int_equal(app_len, 0);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 3001, 0);
	assert_int_equal(app_conn->snd_una, iss + 1);
	/* the same data with a sane ACK is taken */
	peer_send(F_ACK, 3001, iss + 1, 502, NULL, "0123456789", 10, false);
	assert_int_equal(app_len, 10);
	expect_seg(1, F_ACK, iss + 1, 3011, 0);
}

static void
test_ack_too_old(void **state)
{
	uint32_t iss, old;

	(void)state;
	ctx.conf.challenge_ack_per_s = 2;
	ctx.challenge_tokens = 2;
	iss = handshake(3000);
	/* older than SND.UNA - MAX.SND.WND (64256): challenge ACKs, at most
	 * challenge_ack_per_s a second */
	old = iss + 1 - 64256 - 1;
	peer_send(F_ACK, 3001, old, 502, NULL, NULL, 0, false);
	peer_send(F_ACK, 3001, old, 502, NULL, NULL, 0, false);
	peer_send(F_ACK, 3001, old, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.ack_too_old, 3);
	assert_int_equal(ctx.st.challenge_acks, 2);
	assert_int_equal(ctx.st.challenge_ack_limited, 1);
	assert_int_equal(n_out, 2);
	expect_seg(0, F_ACK, iss + 1, 3001, 0);
	expect_seg(1, F_ACK, iss + 1, 3001, 0);
	/* just inside the bound: an old duplicate, silently accepted */
	peer_send(F_ACK, 3001, iss + 1 - 64256, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.ack_too_old, 3);
	assert_int_equal(n_out, 2);
	/* the bucket refills each second; in-window RSTs share it */
	advance(1000);
	peer_send(F_ACK, 3001, old, 502, NULL, NULL, 0, false);
	peer_send(F_RST, 3002, 0, 0, NULL, NULL, 0, false);
	peer_send(F_RST, 3002, 0, 0, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.challenge_acks, 4);
	assert_int_equal(ctx.st.challenge_ack_limited, 2);
	assert_int_equal(n_out, 4);
	assert_non_null(app_conn);
}

/* ---- closing ---- */

static void
test_active_close_timewait(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(3000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_FIN | F_ACK, iss + 1, 3001, 0);
	assert_int_equal(app_conn->state, WG_TCP_FIN_WAIT_1);
	assert_int_equal(app_send(app_conn, 10, 'x'), -ENOTCONN);
	assert_int_equal(wg_tcp_close(app_conn), -ENOTCONN);
	/* FIN acked */
	peer_send(F_ACK, 3001, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(app_conn->state, WG_TCP_FIN_WAIT_2);
	/* half-close: the peer may still send */
	peer_send(F_ACK | F_PSH, 3001, iss + 2, 502, NULL, "hello", 5, false);
	assert_int_equal(app_len, 5);
	expect_seg(1, F_ACK, iss + 2, 3006, 0);
	/* its FIN: ACKed, TIME_WAIT, the app is told it is over */
	peer_send(F_FIN | F_ACK, 3006, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(n_out, 3);
	expect_seg(2, F_ACK, iss + 2, 3007, 0);
	assert_int_equal(closed_calls, 1);
	assert_int_equal(closed_reason, 0);
	assert_int_equal(eofs, 0);
	assert_int_equal(ctx.st.timewait, 1);
	assert_int_equal(ctx.st.established, 0);
	assert_int_equal(ctx.st.conns, 1);
	/* our final ACK was lost: the retransmitted FIN is ACKed again and
	 * 2MSL starts over (RFC 9293 3.10.7.4, TIME-WAIT) */
	advance(ctx.conf.timewait_ms / 2);
	peer_send(F_FIN | F_ACK, 3006, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(n_out, 4);
	expect_seg(3, F_ACK, iss + 2, 3007, 0);
	assert_int_equal(closed_calls, 1);
	advance(ctx.conf.timewait_ms / 2 + 1);
	assert_int_equal(ctx.st.conns, 1);
	advance(ctx.conf.timewait_ms / 2);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(ctx.st.timewait, 0);
	assert_int_equal(closed_calls, 1);
	assert_int_equal(n_out, 4);
}

static void
test_timewait_syn_reuse(void **state)
{
	uint32_t iss, iss2;

	(void)state;
	iss = handshake(3000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	peer_send(F_FIN | F_ACK, 3001, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.timewait, 1);
	assert_int_equal(closed_calls, 1);
	/* a SYN at or below the old rcv_nxt is not a new incarnation */
	n_out = 0;
	peer_send(F_SYN, 3002, 0, 64240, &syn_opts, NULL, 0, false);
	assert_int_equal(ctx.st.timewait, 1);
	assert_int_equal(ctx.st.passive_opens, 1);
	/* a SYN above it takes the pair over */
	n_out = 0;
	peer_send(F_SYN, 900000, 0, 64240, &syn_opts, NULL, 0, false);
	assert_int_equal(ctx.st.timewait, 0);
	assert_int_equal(ctx.st.synrcvd, 1);
	assert_int_equal(ctx.st.conns, 1);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].flags, F_SYN | F_ACK);
	assert_int_equal(out[0].ack, 900001);
	iss2 = out[0].seq;
	peer_send(F_ACK, 900001, iss2 + 1, 502, NULL, NULL, 0, false);
	assert_int_equal(accepted, 2);
	assert_int_equal(app_conn->state, WG_TCP_ESTABLISHED);
}

/* After wg_tcp_close() a peer that never sends its FIN must not keep the
 * connection in FIN_WAIT_2 for ever. */
static void
test_fin_wait2_timeout(void **state)
{
	uint32_t iss;

	(void)state;
	ctx.conf.fin_wait2_ms = 5000;
	iss = handshake(3000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	peer_send(F_ACK, 3001, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->state, WG_TCP_FIN_WAIT_2);
	/* a segment restarts the clock */
	advance(4000);
	peer_send(F_ACK, 3001, iss + 2, 502, NULL, "x", 1, false);
	advance(4999);
	assert_int_equal(ctx.st.conns, 1);
	advance(1);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(closed_calls, 1);
	assert_int_equal(closed_reason, -ETIMEDOUT);
}

static void
test_simultaneous_close(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(4000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	expect_seg(0, F_FIN | F_ACK, iss + 1, 4001, 0);
	/* the peer's FIN crosses ours: CLOSING */
	peer_send(F_FIN | F_ACK, 4001, iss + 1, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->state, WG_TCP_CLOSING);
	assert_int_equal(n_out, 2);
	expect_seg(1, F_ACK, iss + 2, 4002, 0);
	assert_int_equal(closed_calls, 0);
	/* our FIN retransmitted while its ACK is missing */
	assert_int_equal(wait_out(5000), 1000);
	expect_seg(2, F_FIN | F_ACK, iss + 1, 4002, 0);
	/* then acked: TIME_WAIT */
	peer_send(F_ACK, 4002, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(n_out, 3);
	assert_int_equal(ctx.st.timewait, 1);
	assert_int_equal(closed_calls, 1);
	assert_int_equal(closed_reason, 0);
	advance(ctx.conf.timewait_ms);
	assert_int_equal(ctx.st.conns, 0);
}

/* Both closes at once in one segment each way: FIN_WAIT_1 straight to
 * TIME_WAIT when the peer's FIN also acks ours. */
static void
test_fin_acked_with_fin(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(4000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	peer_send(F_FIN | F_ACK, 4001, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.timewait, 1);
	expect_seg(1, F_ACK, iss + 2, 4002, 0);
	assert_int_equal(closed_calls, 1);
	advance(ctx.conf.timewait_ms);
	assert_int_equal(ctx.st.conns, 0);
}

static void
test_timewait_bound(void **state)
{
	uint32_t iss;

	(void)state;
	ctx.conf.max_timewait = 1;
	/* the first one stays in TIME_WAIT */
	iss = handshake(4000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	peer_send(F_FIN | F_ACK, 4001, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.timewait, 1);
	/* the second, on another pair, is let go at once - but its final
	 * ACK still goes out, or the peer would retransmit into a RST */
	peer_port = PEER_PORT + 1;
	iss = handshake(8000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	assert_int_equal(n_out, 1);
	peer_send(F_ACK, 8001, iss + 2, 502, NULL, NULL, 0, false);
	peer_send(F_FIN | F_ACK, 8001, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(n_out, 2);
	expect_seg(1, F_ACK, iss + 2, 8002, 0);
	assert_int_equal(ctx.st.timewait_recycled, 1);
	assert_int_equal(ctx.st.timewait, 1);
	assert_int_equal(ctx.st.conns, 1);
	assert_int_equal(closed_calls, 2);
	advance(ctx.conf.timewait_ms);
	assert_int_equal(ctx.st.conns, 0);
}

static void
test_keepalive(void **state)
{
	uint32_t iss, i;

	(void)state;
	ctx.conf.keepalive_ms = 10000;
	ctx.conf.keepalive_intvl_ms = 1000;
	ctx.conf.keepalive_probes = 3;
	iss = handshake(5000);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_KEEPALIVE);
	/* idle periods, each probe answered: alive however many there are */
	for (i = 0; i < 6; i++) {
		n_out = 0;
		advance(9999);
		assert_int_equal(n_out, 0);
		advance(1);
		assert_int_equal(n_out, 1);
		expect_seg(0, F_ACK, iss, 5001, 0);
		peer_send(F_ACK, 5001, iss + 1, 502, NULL, NULL, 0, false);
		assert_int_equal(n_out, 1);
	}
	assert_int_equal(ctx.st.keepalive_probes, 6);
	/* traffic postpones the probe */
	advance(5000);
	peer_send(F_ACK, 5001, iss + 1, 502, NULL, "ab", 2, false);
	n_out = 0;
	advance(9999);
	assert_int_equal(n_out, 0);
	advance(1);
	expect_seg(0, F_ACK, iss, 5003, 0);
	/* unanswered: keepalive_probes probes intvl apart, then a reset */
	advance(1000);
	advance(1000);
	assert_int_equal(n_out, 3);
	expect_seg(2, F_ACK, iss, 5003, 0);
	assert_non_null(app_conn);
	advance(1000);
	assert_int_equal(n_out, 4);
	expect_seg(3, F_RST | F_ACK, iss + 1, 5003, 0);
	assert_null(app_conn);
	assert_int_equal(closed_reason, -ETIMEDOUT);
	assert_int_equal(ctx.st.timeouts, 1);
	assert_int_equal(ctx.st.keepalive_probes, 9);
}

/* ---- handshake corner cases ---- */

static void
test_synrcvd_retransmit(void **state)
{
	(void)state;
	ctx.conf.syn_retries = 2;
	peer_send(F_SYN, 100, 0, 64240, &syn_opts, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(ctx.st.synrcvd, 1);
	/* the SYN-ACK again after 1 s, 2 s, then the embryo is forgotten */
	assert_int_equal(wait_out(5000), 1000);
	assert_int_equal(out[1].flags, F_SYN | F_ACK);
	assert_int_equal(out[1].seq, out[0].seq);
	assert_int_equal(out[1].ack, 101);
	assert_true(out[1].opts.flags & WG_TCPOPT_F_MSS);
	assert_int_equal(wait_out(5000), 2000);
	assert_int_equal(out[2].seq, out[0].seq);
	advance(3999);
	assert_int_equal(ctx.st.conns, 1);
	advance(1);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(ctx.st.synrcvd, 0);
	assert_int_equal(n_out, 3);          /* no RST for an embryo */
	assert_int_equal(ctx.st.timeouts, 1);
	assert_int_equal(accepted, 0);
	assert_int_equal(closed_calls, 0);
}

static void
test_synrcvd_dup_syn(void **state)
{
	uint32_t iss;

	(void)state;
	peer_send(F_SYN, 100, 0, 64240, &syn_opts, NULL, 0, false);
	iss = out[0].seq;
	/* our SYN-ACK was lost: the same SYN again gets the same SYN-ACK */
	peer_send(F_SYN, 100, 0, 64240, &syn_opts, NULL, 0, false);
	assert_int_equal(n_out, 2);
	assert_int_equal(out[1].flags, F_SYN | F_ACK);
	assert_int_equal(out[1].seq, iss);
	assert_int_equal(out[1].ack, 101);
	assert_int_equal(ctx.st.conns, 1);
	assert_int_equal(ctx.st.passive_opens, 1);
	/* an ACK for something else: RST <SEQ=SEG.ACK> */
	peer_send(F_ACK, 101, iss + 7, 502, NULL, NULL, 0, false);
	assert_int_equal(n_out, 3);
	assert_int_equal(out[2].flags, F_RST);
	assert_int_equal(out[2].seq, iss + 7);
	assert_int_equal(ctx.st.conns, 1);
	/* data with the right ACK completes it */
	peer_send(F_ACK | F_PSH, 101, iss + 1, 502, NULL, "hi", 2, false);
	assert_int_equal(accepted, 1);
	assert_int_equal(app_len, 2);
	expect_seg(3, F_ACK, iss + 1, 103, 0);
	assert_int_equal(ctx.st.synrcvd, 0);
}

/* ---- receiving ---- */

static void
test_data_fin_one_segment(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(6000);
	peer_send(F_ACK | F_PSH | F_FIN, 6001, iss + 1, 502, NULL, "last words", 10, false);
	assert_int_equal(app_len, 10);
	assert_int_equal(eofs, 1);
	assert_true(wg_tcp_peer_closed(app_conn));
	assert_int_equal(app_conn->state, WG_TCP_CLOSE_WAIT);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 6012, 0);
	/* we may still send; then close */
	assert_int_equal(app_send(app_conn, 3, 'r'), 0);
	expect_seg(1, F_ACK | F_PSH, iss + 1, 6012, 3);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	expect_seg(2, F_FIN | F_ACK, iss + 4, 6012, 0);
	assert_int_equal(app_conn->state, WG_TCP_LAST_ACK);
	/* data after the FIN is nonsense: not delivered */
	peer_send(F_ACK, 6012, iss + 4, 502, NULL, "zz", 2, false);
	assert_int_equal(app_len, 10);
	/* acking only the data leaves LAST_ACK alone */
	peer_send(F_ACK, 6012, iss + 4, 502, NULL, NULL, 0, false);
	assert_int_equal(closed_calls, 0);
	peer_send(F_ACK, 6012, iss + 5, 502, NULL, NULL, 0, false);
	assert_int_equal(closed_calls, 1);
	assert_int_equal(closed_reason, 0);
	assert_int_equal(ctx.st.conns, 0);
}

static void
test_fin_after_hole(void **state)
{
	uint8_t buf[200];
	uint32_t iss, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	iss = handshake(100);
	/* data + FIN beyond a hole: the data waits, the FIN is not taken */
	peer_send(F_ACK | F_FIN, 201, iss + 1, 502, NULL, buf + 100, 100, false);
	assert_int_equal(app_len, 0);
	assert_int_equal(eofs, 0);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 101, 0);
	assert_int_equal(out[0].opts.n_sack, 1);
	assert_int_equal(out[0].opts.sack[0].start, 201);
	assert_int_equal(out[0].opts.sack[0].end, 301);
	/* a FIN alone beyond the hole: also not taken */
	peer_send(F_ACK | F_FIN, 301, iss + 1, 502, NULL, NULL, 0, false);
	assert_int_equal(eofs, 0);
	assert_false(wg_tcp_peer_closed(app_conn));
	/* the hole fills: all the data, still no FIN */
	peer_send(F_ACK, 101, iss + 1, 502, NULL, buf, 100, false);
	assert_int_equal(app_len, 200);
	assert_memory_equal(app_data, buf, 200);
	assert_int_equal(eofs, 0);
	expect_seg(n_out - 1, F_ACK, iss + 1, 301, 0);
	assert_int_equal(app_conn->state, WG_TCP_ESTABLISHED);
	/* the retransmitted FIN is */
	peer_send(F_ACK | F_FIN, 201, iss + 1, 502, NULL, buf + 100, 100, false);
	assert_int_equal(app_len, 200);
	assert_int_equal(eofs, 1);
	expect_seg(n_out - 1, F_ACK, iss + 1, 302, 0);
	assert_int_equal(app_conn->state, WG_TCP_CLOSE_WAIT);
}

static void
test_overlap_retransmission(void **state)
{
	struct wg_tcp_opts o = { .flags = WG_TCPOPT_F_TS, .ts_val = 1002 };
	uint8_t buf[400], bad[400];
	uint32_t iss, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++) {
		buf[i] = (uint8_t)(i * 7 + 1);
		bad[i] = (uint8_t)~buf[i];
	}
	iss = handshake(100);
	/* held out of order: [201, 301) */
	peer_send(F_ACK, 201, iss + 1, 502, &o, buf + 100, 100, false);
	/* a "retransmission" [151, 251) whose overlap differs: held bytes win */
	memcpy(bad, buf + 50, 50);
	memcpy(bad + 50, buf + 100, 50);
	for (i = 50; i < 100; i++)
		bad[i] ^= 0xff;
	peer_send(F_ACK, 151, iss + 1, 502, &o, bad, 100, false);
	assert_int_equal(ctx.st.reass.overlap_mismatch, 50);
	assert_int_equal(app_len, 0);
	expect_seg(n_out - 1, F_ACK, iss + 1, 101, 0);
	assert_int_equal(out[n_out - 1].opts.n_sack, 1);
	assert_int_equal(out[n_out - 1].opts.sack[0].start, 151);
	assert_int_equal(out[n_out - 1].opts.sack[0].end, 301);
	peer_send(F_ACK, 101, iss + 1, 502, &o, buf, 50, false);
	assert_int_equal(app_len, 200);
	assert_memory_equal(app_data, buf, 200);
	expect_seg(n_out - 1, F_ACK, iss + 1, 301, 0);
	/* overlapping what was delivered already: only the new part counts */
	memcpy(bad, buf + 150, 100);
	for (i = 0; i < 50; i++)
		bad[i] ^= 0x55;
	peer_send(F_ACK, 251, iss + 1, 502, &o, bad, 100, false);
	assert_int_equal(app_len, 250);
	assert_memory_equal(app_data, buf, 250);
	assert_int_equal(ctx.st.dup_data, 1);
	expect_seg(n_out - 1, F_ACK, iss + 1, 351, 0);
	/* wholly old: outside the window, dropped, ACKed at once */
	n_out = 0;
	peer_send(F_ACK, 101, iss + 1, 502, &o, bad, 100, false);
	assert_int_equal(app_len, 250);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 351, 0);
	assert_int_equal(ctx.st.dup_data, 1);
	assert_int_equal(ctx.st.out_of_window, 1);
	assert_null(app_conn->reass);
	assert_int_equal(rte_mempool_in_use_count(ctx.reass_pool), 0);
}

static void
test_rcv_window(void **state)
{
	static uint8_t buf[65535 + 200];
	uint32_t iss, seq, i, n;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + (i >> 8));
	hold = true;
	iss = handshake(10000);
	/* the app keeps what it is given: the window closes to exactly 0 */
	for (seq = 0; seq < 65535; seq += n) {
		n = RTE_MIN(1460u, 65535 - seq);
		n_out = 0;
		peer_send(F_ACK, 10001 + seq, iss + 1, 502, NULL, buf + seq, n, false);
		if (n_out > 0)
			assert_int_equal(out[n_out - 1].wnd, 65535 - seq - n);
	}
	assert_int_equal(app_len, 65535);
	assert_memory_equal(app_data, buf, 65535);
	assert_int_equal(held, 65535);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 10001 + 65535, 0);
	assert_int_equal(out[0].wnd, 0);
	/* beyond it: dropped, the ACK repeats the zero window */
	n_out = 0;
	peer_send(F_ACK, 10001 + 65535, iss + 1, 502, NULL, buf + 65535, 100, false);
	assert_int_equal(ctx.st.out_of_window, 1);
	assert_int_equal(app_len, 65535);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 10001 + 65535, 0);
	assert_int_equal(out[0].wnd, 0);
	/* a zero-window probe is answered the same way */
	peer_send(F_ACK, 10001 + 65535 - 1, iss + 1, 502, NULL, NULL, 0, false);
	assert_int_equal(n_out, 2);
	assert_int_equal(out[1].wnd, 0);
	/* a sliver consumed: no update yet (silly window) */
	n_out = 0;
	wg_tcp_recv_done(app_conn, 100);
	assert_int_equal(n_out, 0);
	/* most of it: a window update */
	wg_tcp_recv_done(app_conn, 65435);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 10001 + 65535, 0);
	assert_int_equal(out[0].wnd, 65535);
	/* and the data gets in */
	hold = false;
	peer_send(F_ACK, 10001 + 65535, iss + 1, 502, NULL, buf + 65535, 100, false);
	assert_int_equal(app_len, 65635);
	assert_memory_equal(app_data + 65535, buf + 65535, 100);
}

/* ---- sending ---- */

static void
test_send_backpressure(void **state)
{
	struct rte_mbuf *m;
	uint32_t iss;

	(void)state;
	ctx.conf.snd_buf = 4000;
	iss = handshake(1);
	assert_int_equal(wg_tcp_send_space(app_conn), 4000);
	assert_int_equal(app_send(app_conn, 3000, 'a'), 0);
	assert_int_equal(n_out, 3);
	expect_seg(0, F_ACK, iss + 1, 2, 1388);
	expect_seg(1, F_ACK, iss + 1389, 2, 1388);
	expect_seg(2, F_ACK | F_PSH, iss + 2777, 2, 224);
	assert_int_equal(wg_tcp_send_space(app_conn), 1000);
	/* too big: refused whole, the app keeps it and hears when to retry */
	m = make_chain(2000, 'b');
	assert_int_equal(wg_tcp_send(app_conn, m), -EAGAIN);
	pending_tx = m;
	assert_int_equal(app_conn->sndq_bytes, 3000);
	/* a duplicate ACK frees nothing */
	peer_send(F_ACK, 2, iss + 1, 502, NULL, NULL, 0, false);
	assert_int_equal(writables, 0);
	/* an ACK that frees space: on_writable, which sends */
	n_out = 0;
	peer_send(F_ACK, 2, iss + 1389, 502, NULL, NULL, 0, false);
	assert_int_equal(writables, 1);
	assert_null(pending_tx);
	assert_int_equal(app_conn->sndq_bytes, 1612 + 2000);
	assert_true(n_out >= 1);
	expect_seg(0, F_ACK, iss + 3001, 2, 1388);
	/* no more on_writable unless asked */
	peer_send(F_ACK, 2, iss + 3001, 502, NULL, NULL, 0, false);
	assert_int_equal(writables, 1);
	peer_send(F_ACK, 2, iss + 5001, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
	assert_int_equal(wg_tcp_send_space(app_conn), 4000);
	assert_int_equal(writables, 1);
	/* asked for explicitly */
	wg_tcp_want_writable(app_conn);
	assert_int_equal(app_send(app_conn, 100, 'c'), 0);
	peer_send(F_ACK, 2, iss + 5101, 502, NULL, NULL, 0, false);
	assert_int_equal(writables, 2);
}

/* The packet pool runs dry just as data is queued: nothing can be sent and
 * nothing is in flight, so no ACK will come to restart the output - the
 * retransmission timer must try again. */
static void
test_send_no_buffers(void **state)
{
	static struct rte_mbuf *hold_back[1024];
	struct rte_mbuf *m;
	unsigned int n = 0, i;
	uint32_t iss;

	(void)state;
	iss = handshake(1);
	m = make_chain(2000, 'n');
	while (n < RTE_DIM(hold_back) && (hold_back[n] = rte_pktmbuf_alloc(pool)) != NULL)
		n++;
	assert_int_equal(wg_tcp_send(app_conn, m), 0);
	assert_int_equal(n_out, 0);
	assert_int_equal(ctx.st.mbuf_alloc_fail, 1);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_RTX);
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(hold_back[i]);
	/* the retry restarts from one segment, like any timeout */
	assert_int_equal(wait_out(5000), 1000);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, iss + 1, 2, 1388);
	peer_send(F_ACK, 2, iss + 1389, 502, NULL, NULL, 0, false);
	expect_seg(1, F_ACK | F_PSH, iss + 1389, 2, 612);
	peer_send(F_ACK, 2, iss + 2001, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
}

/* Three duplicate ACKs with less than a segment in flight and more data
 * queued behind it: the retransmission must not run past what was ever
 * sent (the peer's ACK of it would be "too new" and dropped). */
static void
test_fast_retransmit_small_flight(void **state)
{
	uint32_t iss, i;

	(void)state;
	iss = handshake(1);
	/* the peer's window: 5 << 7 = 640 bytes */
	peer_send(F_ACK, 2, iss + 1, 5, NULL, NULL, 0, false);
	assert_int_equal(app_send(app_conn, 500, 'a'), 0);
	assert_int_equal(app_send(app_conn, 3000, 'b'), 0);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK | F_PSH, iss + 1, 2, 500);
	n_out = 0;
	for (i = 0; i < 3; i++)
		peer_send(F_ACK, 2, iss + 1, 5, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.fast_retrans, 1);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].seq, iss + 1);
	assert_true(out[0].len <= 500);
	assert_int_equal(app_conn->snd_max, iss + 501);
	/* its ACK is taken */
	peer_send(F_ACK, 2, iss + 501, 5, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.ack_too_new, 0);
	assert_int_equal(app_conn->snd_una, iss + 501);
}

/* ---- the app acting from inside callbacks ---- */

static void
test_abort_in_on_data(void **state)
{
	uint8_t buf[300];
	uint32_t iss;

	(void)state;
	memset(buf, 'd', sizeof(buf));
	iss = handshake(100);
	/* out-of-order data first, so delivery pops the queue too */
	peer_send(F_ACK, 201, iss + 1, 502, NULL, buf, 100, false);
	assert_non_null(app_conn->reass);
	data_action = ACT_ABORT;
	n_out = 0;
	peer_send(F_ACK, 101, iss + 1, 502, NULL, buf, 100, false);
	assert_int_equal(app_len, 200);
	assert_null(app_conn);
	assert_int_equal(closed_calls, 0);       /* not for an app abort */
	assert_int_equal(ctx.st.conns, 0);
	assert_true(n_out >= 1);
	expect_seg(n_out - 1, F_RST | F_ACK, iss + 1, 301, 0);
	assert_int_equal(ctx.st.resets_tx, 1);
	/* in order, with the FIN in the same segment: still one reset, no
	 * on_eof, no on_closed */
	peer_port = PEER_PORT + 1;
	data_action = ACT_NONE;
	iss = handshake(500);
	data_action = ACT_ABORT;
	peer_send(F_ACK | F_FIN, 501, iss + 1, 502, NULL, buf, 100, false);
	assert_int_equal(app_len, 300);
	assert_null(app_conn);
	assert_int_equal(eofs, 0);
	assert_int_equal(closed_calls, 0);
	assert_int_equal(ctx.st.conns, 0);
	expect_seg(n_out - 1, F_RST | F_ACK, iss + 1, 602, 0);
	assert_int_equal(ctx.st.resets_tx, 2);
}

static void
test_close_in_on_data(void **state)
{
	uint32_t iss;

	(void)state;
	iss = handshake(100);
	data_action = ACT_CLOSE;
	peer_send(F_ACK, 101, iss + 1, 502, NULL, "bye", 3, false);
	assert_int_equal(app_conn->state, WG_TCP_FIN_WAIT_1);
	/* the FIN carries the ACK of the data: one segment */
	assert_int_equal(n_out, 1);
	expect_seg(0, F_FIN | F_ACK, iss + 1, 104, 0);
	data_action = ACT_NONE;
	peer_send(F_ACK | F_FIN, 104, iss + 2, 502, NULL, NULL, 0, false);
	assert_int_equal(closed_calls, 1);
	expect_seg(1, F_ACK, iss + 2, 105, 0);
	advance(ctx.conf.timewait_ms);
	assert_int_equal(ctx.st.conns, 0);
}

/* ---- active open ---- */

static struct wg_tcp_conn *
connect_peer(uint16_t rport)
{
	struct wg_tcp_conn *c;

	n_out = 0;
	c = wg_tcp_connect(&ctx, 0, rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(rport), peer_mac,
			   &client_ops, NULL);
	assert_non_null(c);
	assert_int_equal(n_out, 1);
	our_port = out[0].sport;
	peer_port = rport;
	assert_true(our_port >= 32768);
	assert_int_equal(out[0].flags, F_SYN);
	assert_int_equal(out[0].ack, 0);
	assert_int_equal(out[0].len, 0);
	assert_int_equal(out[0].opts.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE |
			 WG_TCPOPT_F_SACK_PERM | WG_TCPOPT_F_TS);
	assert_int_equal(out[0].opts.mss, 1460);
	assert_int_equal(out[0].opts.wscale, 0);
	assert_int_equal(out[0].opts.ts_ecr, 0);
	assert_int_equal(out[0].wnd, 65535);
	assert_int_equal(c->state, WG_TCP_SYN_SENT);
	return c;
}

static void
test_active_open(void **state)
{
	struct wg_tcp_opts o = {
		.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM |
			 WG_TCPOPT_F_TS,
		.mss = 1200, .wscale = 2, .ts_val = 50,
	};
	struct wg_tcp_conn *c;
	uint32_t iss;

	(void)state;
	c = connect_peer(80);
	iss = out[0].seq;
	assert_int_equal(ctx.st.active_opens, 1);
	/* SYN-ACK: the handshake completes, on_connect(0), ACK */
	o.ts_ecr = out[0].opts.ts_val;
	peer_send(F_SYN | F_ACK, 9000, iss + 1, 1000, &o, NULL, 0, false);
	assert_int_equal(connects, 1);
	assert_int_equal(connect_err, 0);
	assert_ptr_equal(app_conn, c);
	assert_int_equal(c->state, WG_TCP_ESTABLISHED);
	assert_int_equal(ctx.st.established, 1);
	assert_int_equal(n_out, 2);
	expect_seg(1, F_ACK, iss + 1, 9001, 0);
	assert_int_equal(out[1].opts.flags, WG_TCPOPT_F_TS);
	assert_int_equal(out[1].opts.ts_ecr, 50);
	assert_int_equal(c->mss, 1200 - 12);
	assert_int_equal(c->snd_wnd, 1000);            /* unscaled in a SYN */
	assert_int_equal(c->snd_wscale, 2);
	/* scaled from here on */
	o.flags = WG_TCPOPT_F_TS;
	o.ts_val = 51;
	peer_send(F_ACK, 9001, iss + 1, 1000, &o, "srv", 3, false);
	assert_int_equal(c->snd_wnd, 4000);
	assert_int_equal(app_len, 3);
	assert_int_equal(app_send(c, 2000, 'k'), 0);
	expect_seg(n_out - 2, F_ACK, iss + 1, 9004, 1188);
	expect_seg(n_out - 1, F_ACK | F_PSH, iss + 1189, 9004, 812);
	/* a duplicate SYN-ACK (our ACK was lost): ACKed again */
	n_out = 0;
	o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM | WG_TCPOPT_F_TS;
	peer_send(F_SYN | F_ACK, 9000, iss + 1, 1000, &o, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].flags, F_ACK);
	assert_int_equal(c->state, WG_TCP_ESTABLISHED);
}

static void
test_simultaneous_open(void **state)
{
	struct wg_tcp_opts o = {
		.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_TS, .mss = 1460, .ts_val = 70,
	};
	struct wg_tcp_conn *c;
	uint32_t iss;

	(void)state;
	c = connect_peer(81);
	iss = out[0].seq;
	/* the peer's own SYN crosses ours: SYN_RCVD, SYN-ACK */
	peer_send(F_SYN, 7000, 0, 1000, &o, NULL, 0, false);
	assert_int_equal(c->state, WG_TCP_SYN_RCVD);
	assert_int_equal(n_out, 2);
	expect_seg(1, F_SYN | F_ACK, iss, 7001, 0);
	assert_int_equal(out[1].opts.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_TS);
	assert_int_equal(out[1].opts.ts_ecr, 70);
	assert_int_equal(connects, 0);
	assert_int_equal(accepted, 0);
	/* its SYN-ACK (answering our SYN) completes ours (RFC 9293 fig. 8) */
	o.ts_val = 71;
	o.ts_ecr = out[0].opts.ts_val;
	peer_send(F_SYN | F_ACK, 7000, iss + 1, 1000, &o, NULL, 0, false);
	assert_int_equal(c->state, WG_TCP_ESTABLISHED);
	assert_int_equal(connects, 1);
	assert_int_equal(connect_err, 0);
	assert_int_equal(accepted, 0);
	assert_ptr_equal(app_conn, c);
	assert_int_equal(ctx.st.synrcvd, 0);
	assert_int_equal(ctx.st.established, 1);
	/* and it works */
	o.flags = WG_TCPOPT_F_TS;
	peer_send(F_ACK, 7001, iss + 1, 1000, &o, "sim", 3, false);
	assert_int_equal(app_len, 3);
	expect_seg(n_out - 1, F_ACK, iss + 1, 7004, 0);
}

/* The same, completed by a plain ACK of our SYN-ACK. */
static void
test_simultaneous_open_ack(void **state)
{
	struct wg_tcp_conn *c;
	uint32_t iss;

	(void)state;
	c = connect_peer(82);
	iss = out[0].seq;
	peer_send(F_SYN, 7000, 0, 1000, NULL, NULL, 0, false);
	assert_int_equal(c->state, WG_TCP_SYN_RCVD);
	assert_int_equal(out[1].opts.flags, WG_TCPOPT_F_MSS);
	peer_send(F_ACK | F_PSH, 7001, iss + 1, 1000, NULL, "ack", 3, false);
	assert_int_equal(c->state, WG_TCP_ESTABLISHED);
	assert_int_equal(connects, 1);
	assert_int_equal(connect_err, 0);
	assert_int_equal(accepted, 0);
	assert_int_equal(app_len, 3);
	expect_seg(n_out - 1, F_ACK, iss + 1, 7004, 0);
	/* no timestamps were agreed: none are sent */
	assert_int_equal(out[n_out - 1].opts.flags, 0);
}

/* Simultaneous open that never completes: on_connect hears the failure. */
static void
test_simultaneous_open_timeout(void **state)
{
	struct wg_tcp_conn *c;

	(void)state;
	ctx.conf.syn_retries = 1;
	c = connect_peer(83);
	peer_send(F_SYN, 7000, 0, 1000, NULL, NULL, 0, false);
	assert_int_equal(c->state, WG_TCP_SYN_RCVD);
	advance(1000);
	advance(2000);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(connects, 1);
	assert_int_equal(connect_err, -ETIMEDOUT);
	assert_int_equal(closed_calls, 0);
}

static void
test_syn_sent_rst(void **state)
{
	struct wg_tcp_conn *c;
	uint32_t iss;

	(void)state;
	c = connect_peer(80);
	iss = out[0].seq;
	/* RST without ACK: ignored */
	peer_send(F_RST, 0, 0, 0, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.conns, 1);
	/* RST whose ACK is not ours: ignored */
	peer_send(F_RST | F_ACK, 0, iss + 5, 0, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.conns, 1);
	assert_int_equal(n_out, 1);
	/* a bad ACK (no RST): answered with a RST <SEQ=SEG.ACK> */
	peer_send(F_ACK, 55, iss + 5, 0, NULL, NULL, 0, false);
	assert_int_equal(n_out, 2);
	assert_int_equal(out[1].flags, F_RST);
	assert_int_equal(out[1].seq, iss + 5);
	assert_int_equal(c->state, WG_TCP_SYN_SENT);
	/* refused */
	peer_send(F_RST | F_ACK, 0, iss + 1, 0, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(connects, 1);
	assert_int_equal(connect_err, -ECONNREFUSED);
	assert_int_equal(closed_calls, 0);
	assert_int_equal(ctx.st.resets_rx, 1);
}

static void
test_connect_timeout(void **state)
{
	(void)state;
	ctx.conf.syn_retries = 2;
	connect_peer(80);
	assert_int_equal(wait_out(5000), 1000);
	assert_int_equal(out[1].flags, F_SYN);
	assert_int_equal(out[1].seq, out[0].seq);
	assert_int_equal(wait_out(5000), 2000);
	advance(4000);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(connects, 1);
	assert_int_equal(connect_err, -ETIMEDOUT);
	/* nothing to reset: the peer never answered */
	assert_int_equal(n_out, 3);
}

/* on_connect(err) is the last callback; closing or aborting from it must
 * not free the connection a second time. */
static void
test_close_in_failed_connect(void **state)
{
	uint32_t iss;

	(void)state;
	connect_fail_action = ACT_CLOSE;
	connect_peer(80);
	iss = out[0].seq;
	peer_send(F_RST | F_ACK, 0, iss + 1, 0, NULL, NULL, 0, false);
	assert_int_equal(connect_err, -ECONNREFUSED);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(rte_mempool_in_use_count(ctx.conn_pool), 0);
	/* the same from the timer */
	ctx.conf.syn_retries = 0;
	connect_fail_action = ACT_ABORT;
	connect_peer(80);
	advance(1000);
	assert_int_equal(connects, 2);
	assert_int_equal(connect_err, -ETIMEDOUT);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(rte_mempool_in_use_count(ctx.conn_pool), 0);
}

/* ---- sequence space ---- */

static void
test_seq_wrap(void **state)
{
	struct wg_tcp_opts o = { .flags = WG_TCPOPT_F_TS, .ts_val = 1002 };
	const uint32_t isn = 0xffffff00u;
	uint8_t buf[1100];
	uint32_t iss, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 5 + 9);
	iss = handshake(isn);
	/* [isn+1, isn+201) in order, then [isn+601, isn+1001) across 2^32,
	 * then the middle */
	peer_send(F_ACK, isn + 1, iss + 1, 502, &o, buf, 200, false);
	assert_int_equal(app_len, 200);
	expect_seg(n_out - 1, F_ACK, iss + 1, isn + 201, 0);
	peer_send(F_ACK, isn + 601, iss + 1, 502, &o, buf + 600, 400, false);
	expect_seg(n_out - 1, F_ACK, iss + 1, isn + 201, 0);
	assert_int_equal(out[n_out - 1].opts.sack[0].start, isn + 601);
	assert_int_equal(out[n_out - 1].opts.sack[0].end, isn + 1001);
	assert_true(out[n_out - 1].opts.sack[0].end < 0x1000);
	peer_send(F_ACK, isn + 201, iss + 1, 502, &o, buf + 200, 400, false);
	assert_int_equal(app_len, 1000);
	assert_memory_equal(app_data, buf, 1000);
	expect_seg(n_out - 1, F_ACK, iss + 1, isn + 1001, 0);
	assert_int_equal(out[n_out - 1].opts.n_sack, 0);
	/* wholly old data: outside the window; straddling rcv_nxt: the new
	 * part only */
	peer_send(F_ACK, isn + 101, iss + 1, 502, &o, buf + 100, 100, false);
	assert_int_equal(ctx.st.out_of_window, 1);
	peer_send(F_ACK, isn + 901, iss + 1, 502, &o, buf + 900, 200, false);
	assert_int_equal(app_len, 1100);
	assert_memory_equal(app_data, buf, 1100);
	assert_int_equal(ctx.st.dup_data, 1);
	/* FIN past the wrap */
	peer_send(F_ACK | F_FIN, isn + 1101, iss + 1, 502, &o, NULL, 0, false);
	assert_int_equal(eofs, 1);
	expect_seg(n_out - 1, F_ACK, iss + 1, isn + 1102, 0);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	peer_send(F_ACK, isn + 1102, iss + 2, 502, &o, NULL, 0, false);
	assert_int_equal(closed_calls, 1);
	assert_int_equal(ctx.st.conns, 0);
}

/* Our side of the sequence space across 2^32 (set up directly: our ISS is
 * a keyed hash). */
static void
test_seq_wrap_send(void **state)
{
	uint32_t una, i;

	(void)state;
	handshake(1);
	/* move our sequence space to just below 2^32 while nothing is
	 * outstanding: every field that holds one of our numbers */
	una = 0xfffffe00u;
	app_conn->iss = una - 1;
	app_conn->snd_una = app_conn->snd_nxt = app_conn->snd_max = una;
	app_conn->snd_wl2 = una;
	for (i = 0; i < 4; i++) {
		assert_int_equal(app_send(app_conn, 1000, (uint8_t)('a' + i)), 0);
		expect_seg(i, F_ACK | F_PSH, una + 1000 * i, 2, 1000);
		assert_int_equal(out[i].data[0], 'a' + i);
	}
	peer_send(F_ACK, 2, una + 1000, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 3000);
	/* three duplicate ACKs past the wrap: fast retransmit of a full
	 * segment made of two queued buffers */
	n_out = 0;
	for (i = 0; i < 3; i++)
		peer_send(F_ACK, 2, una + 1000, 502, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.fast_retrans, 1);
	assert_int_equal(n_out, 1);
	expect_seg(0, F_ACK, una + 1000, 2, 1388);
	assert_int_equal(out[0].data[999], 'b');
	assert_int_equal(out[0].data[1000], 'c');
	peer_send(F_ACK, 2, una + 4000, 502, NULL, NULL, 0, false);
	assert_int_equal(app_conn->sndq_bytes, 0);
	assert_int_equal(app_conn->snd_una, una + 4000);
	assert_true(app_conn->snd_una < 0x1000);
	assert_int_equal(wg_tcp_close(app_conn), 0);
	expect_seg(n_out - 1, F_FIN | F_ACK, una + 4000, 2, 0);
}

/* ---- SYN cookies ---- */

static void
test_syn_cookie_no_ts(void **state)
{
	const struct wg_tcp_opts o = { .flags = WG_TCPOPT_F_MSS, .mss = 1400 };
	uint32_t cookie;

	/* a small receive buffer, and a peer ISN whose distance from 0 is
	 * under 2^31 (a window computed from an unset right edge looked
	 * huge for those) */
	const uint32_t isn = 0x90000000u;

	(void)state;
	ctx.conf.syn_backlog = 0;
	ctx.conf.rcv_buf = 4096;
	peer_send(F_SYN, isn, 0, 64240, &o, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(ctx.st.conns, 0);
	assert_int_equal(out[0].flags, F_SYN | F_ACK);
	assert_int_equal(out[0].ack, isn + 1);
	assert_int_equal(out[0].opts.flags, WG_TCPOPT_F_MSS);
	assert_int_equal(out[0].wnd, 4096);
	cookie = out[0].seq;
	peer_send(F_ACK, isn + 1, cookie + 1, 8000, NULL, NULL, 0, false);
	assert_int_equal(accepted, 1);
	assert_int_equal(ctx.st.syncookies_ok, 1);
	assert_int_equal(app_conn->mss, 1400);
	assert_int_equal(app_conn->snd_wnd, 8000);
	assert_int_equal(app_conn->snd_wscale, 0);
	assert_int_equal(app_conn->rcv_adv, isn + 1 + 4096);
	assert_false(app_conn->flags & (WG_TCPF_TS | WG_TCPF_WS | WG_TCPF_SACK));
	n_out = 0;
	assert_int_equal(app_send(app_conn, 2000, 'c'), 0);
	assert_int_equal(n_out, 2);
	expect_seg(0, F_ACK, cookie + 1, isn + 1, 1400);
	assert_int_equal(out[0].opts.flags, 0);
	assert_int_equal(out[0].wnd, 4096);
	expect_seg(1, F_ACK | F_PSH, cookie + 1401, isn + 1, 600);
	/* the window holds: what lies past 4096 bytes is not taken */
	hold = true;
	peer_send(F_ACK, isn + 1, cookie + 2001, 8000, NULL, NULL, 0, false);
	n_out = 0;
	peer_send(F_ACK, isn + 1 + 4096, cookie + 2001, 8000, NULL, "x", 1, false);
	assert_int_equal(ctx.st.out_of_window, 1);
	assert_int_equal(app_len, 0);
	expect_seg(0, F_ACK, cookie + 2001, isn + 1, 0);
	assert_int_equal(out[0].wnd, 4096);
}

/* With timestamps: what the ACK cannot bring back (window scale, SACK)
 * must not be offered, and the MSS must come back whole. */
static void
test_syn_cookie_ts(void **state)
{
	struct wg_tcp_opts o = syn_opts;
	uint32_t cookie;

	(void)state;
	ctx.conf.syn_backlog = 0;
	o.mss = 1460;
	peer_send(F_SYN, 41, 0, 64240, &o, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].opts.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_TS);
	assert_int_equal(out[0].opts.ts_ecr, 1000);
	cookie = out[0].seq;
	o.flags = WG_TCPOPT_F_TS;
	o.ts_val = 1001;
	o.ts_ecr = out[0].opts.ts_val;
	peer_send(F_ACK, 42, cookie + 1, 8000, &o, NULL, 0, false);
	assert_int_equal(accepted, 1);
	assert_int_equal(app_conn->mss, 1460 - 12);
	assert_int_equal(app_conn->snd_wnd, 8000);
	assert_true(app_conn->flags & WG_TCPF_TS);
	n_out = 0;
	assert_int_equal(app_send(app_conn, 2000, 'c'), 0);
	expect_seg(0, F_ACK, cookie + 1, 42, 1448);
	assert_int_equal(out[0].opts.ts_ecr, 1001);
}

/* ---- the echo service ---- */

/* A send buffer smaller than the receive window: echo must still get
 * everything through, in order. */
static void
test_echo_small_sndbuf(void **state)
{
	static uint8_t buf[28000], got[28000];
	const struct wg_tcp_opts mss_opt = { .flags = WG_TCPOPT_F_MSS, .mss = 1460 };
	uint32_t iss, sent, rcvd = 0, i, k, start = 0, n;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 11 + (i >> 9));
	ctx.conf.snd_buf = 4096;
	assert_int_equal(wg_svc_echo_listen(&ctx, SVC_PORT, 0), 0);
	our_port = SVC_PORT;
	peer_send(F_SYN, 500, 0, 64240, &mss_opt, NULL, 0, false);
	iss = out[0].seq;
	peer_send(F_ACK, 501, iss + 1, 65535, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.established, 1);
	/* everything at once (fits our window), then ACK what comes back */
	for (sent = 0; sent < sizeof(buf); sent += 1400)
		peer_send(F_ACK, 501 + sent, iss + 1, 65535, NULL, buf + sent, 1400, false);
	for (k = 0; k < 200 && rcvd < sizeof(buf); k++) {
		n = n_out;
		for (i = start; i < n; i++) {
			if (out[i].len == 0)
				continue;
			assert_int_equal(out[i].seq, iss + 1 + rcvd);
			assert_true(rcvd + out[i].len <= sizeof(got));
			memcpy(got + rcvd, out[i].data, out[i].len);
			rcvd += out[i].len;
		}
		start = n;
		if (n_out > MAXOUT - 32)
			n_out = start = 0;
		peer_send(F_ACK, 501 + sent, iss + 1 + rcvd, 65535, NULL, NULL, 0, false);
		advance(1);
	}
	assert_int_equal(rcvd, sizeof(buf));
	assert_memory_equal(got, buf, sizeof(buf));
	/* the peer closes: echo closes after its last byte */
	n_out = 0;
	peer_send(F_ACK | F_FIN, 501 + sent, iss + 1 + rcvd, 65535, NULL, NULL, 0, false);
	assert_true(n_out >= 1);
	assert_int_equal(out[n_out - 1].flags, F_FIN | F_ACK);
	peer_send(F_ACK, 502 + sent, iss + 2 + rcvd, 65535, NULL, NULL, 0, false);
	assert_int_equal(ctx.st.conns, 0);
}
/* ---- SACK-based loss recovery (RFC 6675, 6937) ---- */

#define MSS_TS 1388u      /* the handshake's MSS 1400 less 12 bytes of timestamps */

/* byte k of the stream the SACK tests send */
static uint8_t
pat(uint32_t k)
{
	return (uint8_t)(k * 31 + (k >> 8) * 7 + 1);
}

/* The app queues len stream bytes starting at stream offset off. */
static void
app_send_pat(struct wg_tcp_conn *c, uint32_t off, uint32_t len)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t n, k;
	uint8_t *d;

	while (len > 0) {
		n = RTE_MIN(len, 1000u);
		m = rte_pktmbuf_alloc(pool);
		assert_non_null(m);
		d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		assert_non_null(d);
		for (k = 0; k < n; k++)
			d[k] = pat(off + k);
		if (head == NULL)
			head = m;
		else
			assert_int_equal(rte_pktmbuf_chain(head, m), 0);
		off += n;
		len -= n;
	}
	assert_int_equal(wg_tcp_send(c, head), 0);
}

/* The peer (rcv_nxt 2) ACKs ack, with n SACK blocks given as [start, end)
 * pairs in blk. */
static void
peer_sack(uint32_t ack, unsigned int n, const uint32_t *blk)
{
	struct wg_tcp_opts o;
	unsigned int i;

	memset(&o, 0, sizeof(o));
	if (n > 0) {
		o.flags = WG_TCPOPT_F_SACK;
		o.n_sack = (uint8_t)n;
		for (i = 0; i < n; i++) {
			o.sack[i].start = blk[2 * i];
			o.sack[i].end = blk[2 * i + 1];
		}
	}
	peer_send(F_ACK, 2, ack, 502, n > 0 ? &o : NULL, NULL, 0, false);
}

/* out[i] carries stream bytes [seq - base, + len) exactly. */
static void
expect_data(unsigned int i, uint32_t base, uint32_t seq, uint32_t len)
{
	uint32_t k;

	assert_true(i < n_out);
	assert_int_equal(out[i].flags & ~F_PSH, F_ACK);
	assert_int_equal(out[i].seq, seq);
	assert_int_equal(out[i].len, len);
	for (k = 0; k < len; k++)
		assert_int_equal(out[i].data[k], pat(seq - base + k));
}

/* The scoreboard alone: merging, validation, D-SACK, reneging, and what
 * RFC 6675 asks of it (IsLost, pipe, NextSeg). */
static void
test_sack_scoreboard(void **state)
{
	/* una 1000, max 11000 (ten segments of 1000) */
	const uint32_t una = 1000, max = 11000, mss = 1000;
	struct wg_tcp_sack sb;
	struct wg_tcp_sack_block b[4];
	struct wg_sack_verdict v;
	uint32_t seq, len, room;
	unsigned int i;

	(void)state;
	wg_sack_init(&sb, una);
	/* two disjoint blocks, given out of order */
	b[0] = (struct wg_tcp_sack_block){ 6000, 7000 };
	b[1] = (struct wg_tcp_sack_block){ 3000, 4000 };
	wg_sack_update(&sb, b, 2, una, una, max, &v);
	assert_int_equal(v.added, 2000);
	assert_int_equal(v.dsack, 0);
	assert_int_equal(v.bad, 0);
	assert_int_equal(sb.n, 2);
	assert_int_equal(sb.r[0].start, 3000);
	assert_int_equal(sb.r[1].start, 6000);
	assert_int_equal(sb.sacked, 2000);
	/* the same again: nothing new; overlapping both and the gap: one range */
	wg_sack_update(&sb, b, 2, una, una, max, &v);
	assert_int_equal(v.added, 0);
	b[0] = (struct wg_tcp_sack_block){ 3500, 6500 };
	wg_sack_update(&sb, b, 1, una, una, max, &v);
	assert_int_equal(v.added, 2000);
	assert_int_equal(sb.n, 1);
	assert_int_equal(sb.r[0].start, 3000);
	assert_int_equal(sb.r[0].end, 7000);
	/* adjacent blocks merge */
	b[0] = (struct wg_tcp_sack_block){ 7000, 8000 };
	b[1] = (struct wg_tcp_sack_block){ 2000, 3000 };
	wg_sack_update(&sb, b, 2, una, una, max, &v);
	assert_int_equal(v.added, 2000);
	assert_int_equal(sb.n, 1);
	assert_int_equal(sb.r[0].start, 2000);
	assert_int_equal(sb.r[0].end, 8000);
	assert_int_equal(sb.sacked, 6000);
	/* refused: beyond max, reaching down to una, empty, reversed; a
	 * stale block wholly below una is ignored without complaint */
	b[0] = (struct wg_tcp_sack_block){ 10000, 11001 };
	b[1] = (struct wg_tcp_sack_block){ 1000, 1500 };
	b[2] = (struct wg_tcp_sack_block){ 9000, 9000 };
	b[3] = (struct wg_tcp_sack_block){ 9500, 9000 };
	wg_sack_update(&sb, b, 4, una, una, max, &v);
	assert_int_equal(v.bad, 4);
	assert_int_equal(v.added, 0);
	b[0] = (struct wg_tcp_sack_block){ 500, 900 };
	b[1] = (struct wg_tcp_sack_block){ 500, 1000 };
	wg_sack_update(&sb, b, 2, 800, una, max, &v);
	/* first block below the ACK field: D-SACK (RFC 2883) */
	assert_int_equal(v.dsack, 1);
	assert_int_equal(v.bad, 0);
	assert_int_equal(v.added, 0);
	/* first block inside the second: D-SACK of SACKed data */
	b[0] = (struct wg_tcp_sack_block){ 2000, 3000 };
	b[1] = (struct wg_tcp_sack_block){ 2000, 8000 };
	wg_sack_update(&sb, b, 2, una, una, max, &v);
	assert_int_equal(v.dsack, 1);
	assert_int_equal(v.added, 0);
	assert_int_equal(sb.n, 1);
	assert_int_equal(sb.sacked, 6000);

	/* one range [2000, 8000): the hole [1000, 2000) has 6 segments
	 * SACKed above it: lost; the tail [8000, 11000) has none */
	assert_true(wg_sack_is_lost(&sb, una, 1000, mss));
	assert_true(wg_sack_is_lost(&sb, una, 1999, mss));
	assert_false(wg_sack_is_lost(&sb, una, 8000, mss));
	/* pipe: the lost hole is out of the network, the tail in it */
	assert_int_equal(wg_sack_pipe(&sb, una, max, mss), 3000);
	assert_true(wg_sack_next_hole(&sb, una, max, mss, true, &seq, &len));
	assert_int_equal(seq, 1000);
	assert_int_equal(len, 1000);
	/* resent: counted in the pipe again, not offered again; rule 3 has
	 * nothing below the highest SACKed byte either */
	sb.high_rxt = 2000;
	assert_int_equal(wg_sack_pipe(&sb, una, max, mss), 4000);
	assert_false(wg_sack_next_hole(&sb, una, max, mss, true, &seq, &len));
	assert_false(wg_sack_next_hole(&sb, una, max, mss, false, &seq, &len));
	/* rescue: the highest unSACKed segment */
	assert_true(wg_sack_rescue_seg(&sb, una, max, mss, &seq, &len));
	assert_int_equal(seq, 10000);
	assert_int_equal(len, 1000);
	/* skipping SACKed data: from 1500 the next range is 500 away; from
	 * inside it, its end */
	assert_int_equal(wg_sack_skip(&sb, 1500, &room), 1500);
	assert_int_equal(room, 500);
	assert_int_equal(wg_sack_skip(&sb, 2500, &room), 8000);
	assert_int_equal(room, UINT32_MAX);
	assert_int_equal(wg_sack_sacked_below(&sb, 5000), 3000);
	assert_int_equal(wg_sack_sacked_below(&sb, 9000), 6000);

	/* IsLost by count and by bytes: ranges [3000,3100) [5000,5100)
	 * [7000,7100) - three SACKed segments above 1000 (however small),
	 * two above 4000 and only 200 bytes: not lost */
	wg_sack_init(&sb, una);
	for (i = 0; i < 3; i++) {
		b[0] = (struct wg_tcp_sack_block){ 3000 + 2000 * i, 3100 + 2000 * i };
		wg_sack_update(&sb, b, 1, una, una, max, &v);
	}
	assert_int_equal(sb.n, 3);
	assert_true(wg_sack_is_lost(&sb, una, 1000, mss));
	assert_false(wg_sack_is_lost(&sb, una, 4000, mss));
	/* the hole [3100, 5000) is not lost: rule 3 offers it, rule 1 not */
	sb.high_rxt = 3000;
	assert_false(wg_sack_next_hole(&sb, una, max, mss, true, &seq, &len));
	assert_true(wg_sack_next_hole(&sb, una, max, mss, false, &seq, &len));
	assert_int_equal(seq, 3100);
	assert_int_equal(len, 1000);
	/* ... unless below lost_end (NewReno's inference, entering recovery) */
	sb.lost_end = 3101;
	assert_true(wg_sack_is_lost(&sb, una, 3100, mss));
	assert_true(wg_sack_next_hole(&sb, una, max, mss, true, &seq, &len));
	assert_int_equal(seq, 3100);
	/* a hole shorter than a segment: never into SACKed bytes */
	sb.high_rxt = 4500;
	assert_true(wg_sack_next_hole(&sb, una, max, mss, false, &seq, &len));
	assert_int_equal(seq, 4500);
	assert_int_equal(len, 500);

	/* the cumulative ACK passes ranges: they go, the rest stays */
	assert_false(wg_sack_ack(&sb, 4000));
	assert_int_equal(sb.n, 2);
	assert_int_equal(sb.sacked, 200);
	assert_int_equal(sb.high_rxt, 4500);
	/* ... and lands on a SACKed range: the receiver reneged */
	assert_true(wg_sack_ack(&sb, 5000));
	assert_int_equal(sb.n, 0);
	assert_int_equal(sb.sacked, 0);

	/* bounded: more disjoint ranges than fit keep the lowest ones */
	wg_sack_init(&sb, 0);
	for (i = 0; i < WG_TCP_SACK_RANGES + 4; i++) {
		b[0] = (struct wg_tcp_sack_block){ 1000 + 200 * (WG_TCP_SACK_RANGES + 4 - i),
						   1100 + 200 * (WG_TCP_SACK_RANGES + 4 - i) };
		wg_sack_update(&sb, b, 1, 0, 0, 100000, &v);
		assert_int_equal(v.added, 100);
	}
	assert_int_equal(sb.n, WG_TCP_SACK_RANGES);
	assert_int_equal(sb.sacked, 100 * WG_TCP_SACK_RANGES);
	assert_int_equal(sb.r[0].start, 1200);
	for (i = 1; i < sb.n; i++)
		assert_int_equal(sb.r[i].start, sb.r[i - 1].start + 200);
	/* a new range above them all is dropped rather than one below */
	b[0] = (struct wg_tcp_sack_block){ 90000, 90100 };
	wg_sack_update(&sb, b, 1, 0, 0, 100000, &v);
	assert_int_equal(v.added, 0);
	assert_int_equal(sb.r[sb.n - 1].start, 1200 + 200 * (WG_TCP_SACK_RANGES - 1));
	/* modulo 2^32: ranges across the wrap */
	wg_sack_init(&sb, 0xfffff000u);
	b[0] = (struct wg_tcp_sack_block){ 0xfffffc00u, 0x400 };
	b[1] = (struct wg_tcp_sack_block){ 0x800, 0xc00 };
	wg_sack_update(&sb, b, 2, 0xfffff000u, 0xfffff000u, 0x1000, &v);
	assert_int_equal(v.added, 0x800 + 0x400);
	assert_int_equal(sb.r[0].start, 0xfffffc00u);
	assert_int_equal(wg_sack_skip(&sb, 0xfffffe00u, &room), 0x400);
	assert_int_equal(room, 0x400);
	assert_false(wg_sack_ack(&sb, 0x400));
	assert_int_equal(sb.n, 1);
	assert_int_equal(sb.sacked, 0x400);
}

/* Ten segments out, the second and fifth lost; the peer SACKs everything
 * else segment by segment. Recovery starts on the third duplicate ACK,
 * both holes are resent - each once, never a SACKed byte - PRR paces the
 * retransmissions (hand-computed cwnd at every step), and recovery ends
 * at the recovery point with cwnd = ssthresh. RFC 6675's own loss count
 * (RACK off): the fifth is lost only once three segments above it are
 * SACKed, where RACK marks it together with the second (test_rack_*). */
static void
test_sack_two_holes(void **state)
{
	uint32_t una0, blk[6];
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	ctx.conf.rack = 0;
	una0 = handshake(1) + 1;
	sack_watch = app_conn;
	assert_true(app_conn->flags & WG_TCPF_SACK);
	assert_int_equal(app_conn->mss, m);
	app_send_pat(app_conn, 0, 10 * m);
	assert_int_equal(n_out, 10);
	/* segment 0 arrives */
	peer_sack(S(1), 0, NULL);
	assert_int_equal(app_conn->cwnd, 11 * m);
	/* 2 and 3: duplicate ACKs with SACK, nothing sent (nothing new queued) */
	n_out = 0;
	blk[0] = S(2); blk[1] = S(3);
	peer_sack(S(1), 1, blk);
	blk[1] = S(4);
	peer_sack(S(1), 1, blk);
	assert_int_equal(app_conn->dupacks, 2);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(n_out, 0);
	/* 5: the third; the hole at 1 has 3 segments SACKed above it */
	blk[0] = S(5); blk[1] = S(6); blk[2] = S(2); blk[3] = S(4);
	peer_sack(S(1), 2, blk);
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(ctx.st.sack_recoveries, 1);
	assert_int_equal(ctx.st.fast_retrans, 1);
	assert_int_equal(app_conn->recover, S(10));
	assert_int_equal(app_conn->ssthresh, 9 * m / 2);
	assert_int_equal(app_conn->sack.recover_fs, 9 * m);
	/* pipe: hole 1 lost (0), hole 4 not yet (m), tail 6..9 (4 m); over
	 * ssthresh, so PRR proportional: ceil(m * ssthresh / RecoverFS) =
	 * m / 2 - raised to a whole segment, as the first retransmission
	 * always goes */
	assert_int_equal(app_conn->cwnd, 6 * m);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(1), m);
	assert_int_equal(app_conn->sack.prr_out, m);
	assert_int_equal(app_conn->sack.high_rxt, S(2));
	/* 6: pipe 5 m (the retransmission counts), ceil(2m/2) - m = 0 */
	n_out = 0;
	blk[1] = S(7);
	peer_sack(S(1), 2, blk);
	assert_int_equal(app_conn->sack.prr_delivered, 2 * m);
	assert_int_equal(app_conn->cwnd, 5 * m);
	assert_int_equal(n_out, 0);
	/* 7: now 3 segments above hole 4 - lost; pipe 3 m <= ssthresh:
	 * slow-start reduction bound, min(ssthresh - pipe, 2m + m) */
	blk[1] = S(8);
	peer_sack(S(1), 2, blk);
	assert_int_equal(app_conn->cwnd, 3 * m + (9 * m / 2 - 3 * m));
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(4), m);
	assert_int_equal(app_conn->sack.prr_out, 2 * m);
	/* 8, 9: nothing left to send - no rescue before the cumulative ACK
	 * moves, no new data */
	n_out = 0;
	blk[1] = S(9);
	peer_sack(S(1), 2, blk);
	blk[1] = S(10);
	peer_sack(S(1), 2, blk);
	assert_int_equal(n_out, 0);
	/* the retransmitted 1 arrives: a partial ACK up to hole 4 */
	blk[0] = S(5); blk[1] = S(10);
	peer_sack(S(4), 1, blk);
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->sack.n, 1);
	assert_int_equal(n_out, 0);
	/* and 4: full ACK, out of recovery at ssthresh */
	peer_sack(S(10), 0, NULL);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->cwnd, app_conn->ssthresh);
	assert_int_equal(app_conn->sack.n, 0);
	assert_int_equal(app_conn->sndq_bytes, 0);
	assert_int_equal(ctx.st.sack_rexmit_segs, 2);
	assert_int_equal(ctx.st.retrans_segs, 2);
	assert_int_equal(ctx.st.rto_expired, 0);
	assert_int_equal(ctx.st.sack_recoveries, 1);
#undef S
}

/* PRR with data waiting: one segment (the first) lost out of ten, twenty
 * queued. After the retransmission PRR sends nothing while pipe is above
 * ssthresh, then exactly one new segment per segment delivered: the
 * flight settles at ssthresh instead of dropping to nothing (RFC 6937). */
static void
test_sack_prr_new_data(void **state)
{
	uint32_t una0, blk[2], k;
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = handshake(1) + 1;
	sack_watch = app_conn;
	app_send_pat(app_conn, 0, 20 * m);
	assert_int_equal(n_out, 10);
	n_out = 0;
	blk[0] = S(1);
	/* 1 and 2 SACKed: 2 duplicates */
	for (k = 1; k <= 2; k++) {
		blk[1] = S(k + 1);
		peer_sack(S(0), 1, blk);
	}
	/* limited transmit: SACKed bytes left the network, so the window
	 * took one new segment per SACKed one */
	assert_int_equal(n_out, 2);
	expect_data(0, una0, S(10), m);
	expect_data(1, una0, S(11), m);
	/* 3: recovery; flight 12 m, ssthresh 6 m; pipe 9 m */
	n_out = 0;
	blk[1] = S(4);
	peer_sack(S(0), 1, blk);
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->ssthresh, 6 * m);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(0), m);
	/* 4 .. 11 SACKed one by one. Over ssthresh (pipe 8 m, 7 m, 7 m):
	 * proportional, ceil(delivered / 2) - prr_out, so one new segment
	 * for two delivered; at ssthresh (6 m) nothing; below it, the
	 * slow-start bound keeps the pipe at ssthresh: one per ACK */
	for (k = 4; k <= 11; k++) {
		static const unsigned int sends[] = { 0, 1, 0, 0, 1, 1, 1, 1 };

		n_out = 0;
		blk[1] = S(k + 1);
		peer_sack(S(0), 1, blk);
		assert_int_equal(app_conn->sack.prr_delivered, (k - 2) * m);
		assert_int_equal(n_out, sends[k - 4]);
		if (n_out == 1)
			expect_data(0, una0, app_conn->snd_max - m, m);
		assert_true(wg_sack_pipe(&app_conn->sack, app_conn->snd_una, app_conn->snd_max,
					 m) <= (k < 8 ? 8 : 6) * m);
	}
	assert_int_equal(app_conn->snd_max, S(17));
	/* the retransmission and five new segments */
	assert_int_equal(app_conn->sack.prr_out, 6 * m);
	/* every segment was sent once, the first twice; nothing SACKed again */
	assert_int_equal(ctx.st.retrans_segs, 1);
	assert_int_equal(ctx.st.sack_rexmit_segs, 1);
	/* the retransmission arrives: out of recovery */
	peer_sack(S(12), 0, NULL);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->cwnd, 6 * m);
#undef S
}

/* The retransmissions of a recovery are lost too: the timeout ends it.
 * The scoreboard is kept: the go-back-N from snd_una resends the holes
 * only, at one segment and then slow start; ssthresh is not cut again
 * (neither by this timeout nor the next), and duplicate ACKs start no new
 * recovery before snd_una reaches the recovery point. */
static void
test_sack_rto_in_recovery(void **state)
{
	uint32_t una0, blk[4], k, ss;
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = handshake(1) + 1;
	sack_watch = app_conn;
	app_send_pat(app_conn, 0, 10 * m);
	peer_sack(S(1), 0, NULL);
	/* 2, 3, 5 .. 9 arrive; 1 and 4 are lost, and so are both resends */
	blk[0] = S(2); blk[1] = S(4);
	peer_sack(S(1), 1, blk);
	n_out = 0;
	for (k = 5; k <= 9; k++) {
		blk[0] = S(5); blk[1] = S(k + 1); blk[2] = S(2); blk[3] = S(4);
		peer_sack(S(1), 2, blk);
	}
	assert_int_equal(ctx.st.sack_recoveries, 1);
	assert_int_equal(n_out, 2);
	expect_data(0, una0, S(1), m);
	expect_data(1, una0, S(4), m);
	ss = app_conn->ssthresh;
	assert_int_equal(ss, 9 * m / 2);
	/* the timeout: segment 1 alone (cwnd one segment) */
	n_out = 0;
	wait_out(2000);
	assert_int_equal(ctx.st.rto_expired, 1);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_true(app_conn->flags & WG_TCPF_LOSSREC);
	assert_int_equal(app_conn->sack.n, 2);
	assert_int_equal(app_conn->cwnd, m);
	assert_int_equal(app_conn->ssthresh, ss);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(1), m);
	/* it arrives: up to hole 4, which goes next; SACKed 5 .. 9 do not */
	n_out = 0;
	blk[0] = S(5); blk[1] = S(10);
	peer_sack(S(4), 1, blk);
	assert_int_equal(app_conn->cwnd, 3 * m);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(4), m);
	assert_int_equal(app_conn->snd_nxt, S(10));
	/* lost again: the second timeout resends 4 alone, ssthresh held
	 * although the flight is now 6 segments */
	n_out = 0;
	wait_out(2000);
	assert_int_equal(ctx.st.rto_expired, 2);
	assert_int_equal(app_conn->ssthresh, ss);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(4), m);
	/* duplicate ACKs meanwhile: no fast recovery before the point */
	for (k = 0; k < 4; k++)
		peer_sack(S(4), 0, NULL);
	assert_true(app_conn->dupacks >= 3);
	assert_int_equal(ctx.st.sack_recoveries, 1);
	assert_int_equal(ctx.st.fast_retrans, 1);
	assert_int_equal(n_out, 1);
	peer_sack(S(10), 0, NULL);
	assert_false(app_conn->flags & WG_TCPF_LOSSREC);
	assert_int_equal(app_conn->snd_una, app_conn->snd_max);
	assert_int_equal(app_conn->sack.n, 0);
	/* 1 and 4 in recovery, 1 and 4 after the first timeout, 4 after
	 * the second */
	assert_int_equal(ctx.st.retrans_segs, 5);
#undef S
}

/* A receiver that drops data it SACKed (reneging): its cumulative ACK
 * lands on a SACKed range. The scoreboard is cleared and the data it
 * dropped is sent again instead of waiting for ever. D-SACKs and forged
 * blocks from the peer are counted and change nothing. */
static void
test_sack_renege_dsack(void **state)
{
	uint32_t una0, blk[4];
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = handshake(1) + 1;
	sack_watch = app_conn;
	app_send_pat(app_conn, 0, 5 * m);
	/* blocks beyond what was sent, or reaching below snd_una: refused */
	blk[0] = S(4); blk[1] = S(6);
	blk[2] = S(0); blk[3] = S(2);
	peer_sack(S(0), 2, blk);
	assert_int_equal(ctx.st.sack_bad_blocks, 2);
	assert_int_equal(app_conn->sack.n, 0);
	assert_int_equal(app_conn->dupacks, 0);
	/* 0 lost, 1 .. 3 SACKed: recovery resends 0 */
	n_out = 0;
	blk[0] = S(1); blk[1] = S(2);
	peer_sack(S(0), 1, blk);
	blk[1] = S(3);
	peer_sack(S(0), 1, blk);
	blk[1] = S(4);
	peer_sack(S(0), 1, blk);
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(0), m);
	/* the peer got 0 but forgot 1 .. 3: ACK 1 with nothing SACKed */
	n_out = 0;
	peer_sack(S(1), 0, NULL);
	assert_int_equal(ctx.st.sack_reneged, 1);
	assert_int_equal(app_conn->sack.n, 0);
	/* PRR has nothing to send on (no ACK is coming): a short timeout,
	 * 10 ms rather than the 200 ms RTO, resends from snd_una */
	assert_int_equal(n_out, 0);
	assert_true(wait_out(50) <= 11);
	assert_int_equal(ctx.st.rto_expired, 1);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(1), m);
	/* a D-SACK for the duplicate of 0 it received: counted, no dupack */
	n_out = 0;
	blk[0] = S(0); blk[1] = S(1);
	peer_sack(S(2), 1, blk);
	assert_int_equal(ctx.st.dsack_rcvd, 1);
	assert_int_equal(app_conn->sack.n, 0);
	peer_sack(S(5), 0, NULL);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->sndq_bytes, 0);
#undef S
}

/* A peer without SACK-permitted: SACK blocks it sends anyway are ignored,
 * loss recovery is NewReno's (a partial ACK resends the next hole). */
static void
test_newreno_without_sack(void **state)
{
	const struct wg_tcp_opts nosack = {
		.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_TS,
		.mss = 1400, .wscale = 7, .ts_val = 1000,
	};
	const struct wg_tcp_opts ack_opts = { .flags = WG_TCPOPT_F_TS, .ts_val = 1001 };
	uint32_t una0, blk[2], k;
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	peer_send(F_SYN, 1, 0, 64240, &nosack, NULL, 0, false);
	assert_int_equal(n_out, 1);
	assert_false(out[0].opts.flags & WG_TCPOPT_F_SACK_PERM);
	una0 = out[0].seq + 1;
	peer_send(F_ACK, 2, una0, 502, &ack_opts, NULL, 0, false);
	assert_non_null(app_conn);
	assert_false(app_conn->flags & WG_TCPF_SACK);
	n_out = 0;
	app_send_pat(app_conn, 0, 6 * m);
	assert_int_equal(n_out, 6);
	/* 0 and 2 lost; three duplicate ACKs (with blocks it should not send) */
	n_out = 0;
	blk[0] = S(1);
	for (k = 0; k < 3; k++) {
		blk[1] = S(2);
		peer_sack(S(0), 1, blk);
	}
	assert_int_equal(app_conn->sack.n, 0);
	assert_int_equal(ctx.st.fast_retrans, 1);
	assert_int_equal(ctx.st.sack_recoveries, 0);
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(0), m);
	/* partial ACK up to 2: resent at once */
	n_out = 0;
	peer_sack(S(2), 0, NULL);
	assert_true(n_out >= 1);
	expect_data(0, una0, S(2), m);
	peer_sack(S(6), 0, NULL);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->sndq_bytes, 0);
	assert_int_equal(ctx.st.sack_rexmit_segs, 0);
	assert_int_equal(ctx.st.dsack_rcvd + ctx.st.sack_bad_blocks, 0);
#undef S
}

/* Random losses over a long transfer: the peer is a real receiver (it
 * keeps what arrives, ACKs cumulatively and SACKs the rest, at most three
 * blocks, the newest first); every tenth-or-so segment is lost, at random,
 * retransmissions included. No segment ever carries a byte the scoreboard
 * holds as SACKed when it is sent (tx() checks, sack_watch), the stream
 * arrives whole, and timeouts are the exception. */
static void
test_sack_random_loss(void **state)
{
	static uint8_t have[1 << 20];
	const uint32_t total = 600 * 1000, m = MSS_TS;
	uint32_t una0, rcv = 0, queued = 0, seed = 12345, i, j, k, sent_bytes = 0;
	unsigned int start = 0, n;

	(void)state;
	memset(have, 0, sizeof(have));
	ctx.conf.snd_buf = 64 * 1024;
	una0 = handshake(1) + 1;
	sack_watch = app_conn;
	n_out = 0;
	for (k = 0; k < 200000 && rcv < total; k++) {
		uint32_t blk[6], nb, s, e;

		if (queued < total && wg_tcp_send_space(app_conn) >= 1000) {
			uint32_t q = RTE_MIN(total - queued, wg_tcp_send_space(app_conn));

			app_send_pat(app_conn, queued, q);
			queued += q;
		}
		n = n_out;
		if (n == start) {
			advance(1);
			continue;
		}
		for (i = start; i < n; i++) {
			uint32_t off = out[i].seq - una0;

			if (out[i].len == 0)
				continue;
			sent_bytes += out[i].len;
			seed = seed * 1103515245u + 12345u;
			if ((seed >> 16) % 10 == 0)
				continue;               /* lost */
			for (j = 0; j < out[i].len; j++) {
				assert_int_equal(out[i].data[j], pat(off + j));
				have[off + j] = 1;
			}
			/* the receiver's ACK: cumulative, plus the block
			 * holding this segment and up to two below it */
			while (rcv < total && have[rcv])
				rcv++;
			s = off;
			e = off + out[i].len;
			nb = 0;
			if (s > rcv) {
				while (s > rcv && have[s - 1])
					s--;
				while (e < total && have[e])
					e++;
				blk[nb * 2] = una0 + s;
				blk[nb * 2 + 1] = una0 + e;
				nb++;
			}
			for (j = s; j > rcv && nb < 3; ) {
				uint32_t be;

				while (j > rcv && !have[j - 1])
					j--;
				if (j == rcv)
					break;
				be = j;
				while (j > rcv && have[j - 1])
					j--;
				blk[nb * 2] = una0 + j;
				blk[nb * 2 + 1] = una0 + be;
				nb++;
			}
			peer_sack(una0 + rcv, nb, blk);
		}
		/* what came since goes to the front, for the next round */
		memmove(out, out + n, (n_out - n) * sizeof(out[0]));
		n_out -= n;
		start = 0;
	}
	assert_int_equal(rcv, total);
	assert_true(ctx.st.sack_recoveries > 0);
	assert_true(ctx.st.sack_rexmit_segs > 0);
	/* about a tenth lost: resending is about a tenth, not the windows
	 * a timeout's go-back-N would resend */
	assert_true(sent_bytes < total + total / 4);
	assert_true(ctx.st.rto_expired < ctx.st.sack_recoveries);
	peer_sack(una0 + total, 0, NULL);
	assert_int_equal(app_conn->sndq_bytes, 0);
	(void)m;
}

/* The tail of a flight is lost (a burst dropped whole): no duplicate ACKs
 * can come. 2 * SRTT later (at least 10 ms) a tail loss probe resends the
 * last segment; its SACK shows everything below it missing, and SACK
 * recovery repairs the tail - long before the 200 ms RTO. */
static void
test_sack_tail_loss_probe(void **state)
{
	struct wg_tcp_opts o = { .flags = WG_TCPOPT_F_TS, .ts_val = 1002 };
	uint32_t una0, blk[2];
	uint64_t t;
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = handshake(1) + 1;
	sack_watch = app_conn;
	app_send_pat(app_conn, 0, 10 * m);
	assert_int_equal(n_out, 10);
	/* 0 .. 5 arrive, 6 .. 9 do not; the ACK's timestamp echo is the
	 * first RTT sample (none, no probe) */
	assert_int_equal(app_conn->rto.srtt_us, 0);
	o.ts_ecr = out[9].opts.ts_val;
	peer_send(F_ACK, 2, S(6), 502, &o, NULL, 0, false);
	assert_true(app_conn->rto.srtt_us > 0);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_TLP);
	n_out = 0;
	t = wait_out(1000);
	assert_true(t <= 11);
	assert_int_equal(ctx.st.tlp_probes, 1);
	assert_int_equal(ctx.st.rto_expired, 0);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(9), m);
	assert_true(app_conn->flags & WG_TCPF_TLP);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_RTX);
	/* the probe arrives above the hole */
	n_out = 0;
	blk[0] = S(9); blk[1] = S(10);
	peer_sack(S(6), 1, blk);
	assert_int_equal(ctx.st.tlp_recoveries, 1);
	assert_int_equal(ctx.st.sack_recoveries, 1);
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_false(app_conn->flags & WG_TCPF_TLP);
	assert_int_equal(app_conn->ssthresh, 2 * m);
	/* all of 6 .. 8 is lost: pipe 0, the slow-start bound sends 2 */
	assert_int_equal(n_out, 2);
	expect_data(0, una0, S(6), m);
	expect_data(1, una0, S(7), m);
	n_out = 0;
	peer_sack(S(8), 1, blk);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(8), m);
	peer_sack(S(10), 0, NULL);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->sndq_bytes, 0);
	assert_int_equal(ctx.st.rto_expired, 0);
	/* nothing outstanding: no timer of the retransmission kinds */
	assert_true(app_conn->timer_kind != WG_TCPT_RTX && app_conn->timer_kind != WG_TCPT_TLP);
#undef S
}

/* While data waits out of order here, every segment we send carries SACK
 * blocks - full-sized data segments too. The options come out of the
 * payload: a full segment plus its options still fits the MTU (1500),
 * which the TAP PMD enforces by refusing the frame. */
static void
test_sack_blocks_fit_mtu(void **state)
{
	/* MSS 1460: a full segment (1448 + 12 bytes of timestamps) fills
	 * the 1500-byte MTU exactly, so any option more must shrink it */
	const struct wg_tcp_opts syn1460 = {
		.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM |
			 WG_TCPOPT_F_TS,
		.mss = 1460, .wscale = 7, .ts_val = 1000,
	};
	const struct wg_tcp_opts ack_opts = { .flags = WG_TCPOPT_F_TS, .ts_val = 1001 };
	const uint32_t m = 1448;
	uint8_t buf[1400];
	uint32_t una0, i;

	(void)state;
	memset(buf, 0x77, sizeof(buf));
	peer_send(F_SYN, 1, 0, 64240, &syn1460, NULL, 0, false);
	una0 = out[0].seq + 1;
	peer_send(F_ACK, 2, una0, 502, &ack_opts, NULL, 0, false);
	assert_non_null(app_conn);
	assert_int_equal(app_conn->mss, m);
	/* the peer's second segment arrives, its first does not */
	n_out = 0;
	peer_send(F_ACK, 2 + 1400, una0, 502, NULL, buf, 1400, false);
	assert_int_equal(n_out, 1);
	assert_int_equal(out[0].opts.n_sack, 1);
	n_out = 0;
	app_send_pat(app_conn, 0, 3 * m);
	/* 1448 - 12 (NOP NOP SACK with one block) = 1436 bytes a segment;
	 * tx() checks every frame against the MTU */
	assert_int_equal(n_out, 4);
	for (i = 0; i < 3; i++) {
		expect_data(i, una0, una0 + i * (m - 12), m - 12);
		assert_int_equal(out[i].opts.n_sack, 1);
		assert_int_equal(out[i].opts.sack[0].start, 2 + 1400);
	}
	expect_data(3, una0, una0 + 3 * (m - 12), 36);
	/* the hole fills: full segments again */
	peer_send(F_ACK, 2, una0 + 3 * m, 502, NULL, buf, 1400, false);
	assert_int_equal(app_len, 2800);
	n_out = 0;
	app_send_pat(app_conn, 3 * m, m);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, una0 + 3 * m, m);
	assert_int_equal(out[0].opts.n_sack, 0);
}

/* RACK-TLP (RFC 8985) and undo. Every test starts with a handshake whose
 * ACK takes 40 ms: min_RTT 40.5 ms, so the reordering window is
 * ceil(40.5 / 4) = 11 ms, and twice that, 21 ms, after one D-SACK. */
#define RACK_RTT 40u
#define REO_MS   11u

static uint32_t peer_tsval;

/* handshake() with the peer's ACK rtt ms after our SYN-ACK */
static uint32_t
handshake_after(uint32_t peer_isn, uint32_t rtt)
{
	struct wg_tcp_opts ack_opts = { .flags = WG_TCPOPT_F_TS, .ts_val = 1001 };
	uint32_t iss;

	n_out = 0;
	peer_send(F_SYN, peer_isn, 0, 64240, &syn_opts, NULL, 0, false);
	assert_int_equal(n_out, 1);
	iss = out[0].seq;
	ack_opts.ts_ecr = out[0].opts.ts_val;
	advance(rtt);
	peer_send(F_ACK, peer_isn + 1, iss + 1, 502, &ack_opts, NULL, 0, false);
	assert_non_null(app_conn);
	assert_int_equal(app_conn->rack.min_rtt_us, rtt * 1000 + 500);
	peer_tsval = 2000;
	n_out = 0;
	return iss;
}

/* peer_sack() with a timestamp option echoing ecr (0: no option) */
static void
peer_sack_ts(uint32_t ack, unsigned int n, const uint32_t *blk, uint32_t ecr)
{
	struct wg_tcp_opts o;
	unsigned int i;

	memset(&o, 0, sizeof(o));
	if (ecr != 0) {
		o.flags = WG_TCPOPT_F_TS;
		o.ts_val = ++peer_tsval;
		o.ts_ecr = ecr;
	}
	if (n > 0) {
		o.flags |= WG_TCPOPT_F_SACK;
		o.n_sack = (uint8_t)n;
		for (i = 0; i < n; i++) {
			o.sack[i].start = blk[2 * i];
			o.sack[i].end = blk[2 * i + 1];
		}
	}
	peer_send(F_ACK, 2, ack, 502, o.flags ? &o : NULL, NULL, 0, false);
}

/* Ten segments out, one RTT later the second arrives before the first:
 * RACK has seen reordering (RFC 8985 6.2 step 3) and waits out its window
 * for segment 0 from then on. Leaves n_out = 0 and the ten unACKed. */
static uint32_t
rack_flight_reordered(void)
{
	uint32_t una0, blk[2];
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	una0 = handshake_after(1, RACK_RTT) + 1;
	sack_watch = app_conn;
	assert_true(app_conn->sack.rack);
	app_send_pat(app_conn, 0, 10 * m);
	assert_int_equal(n_out, 10);
	n_out = 0;
	advance(RACK_RTT);
	/* 2 arrives: 0 and 1 may be on their way yet - the window's timer */
	blk[0] = S(2); blk[1] = S(3);
	peer_sack_ts(S(0), 1, blk, out[0].opts.ts_val);
	assert_int_equal(wg_rack_reo_wnd_ms(app_conn), REO_MS);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_REO);
	assert_false(app_conn->rack.flags & WG_RACKF_REORDER);
	/* 1 arrives after 2: reordering */
	blk[0] = S(1);
	peer_sack_ts(S(0), 1, blk, out[0].opts.ts_val);
	assert_true(app_conn->rack.flags & WG_RACKF_REORDER);
	assert_int_equal(ctx.st.rack_reordering, 1);
	assert_int_equal(n_out, 0);
	return una0;
#undef S
}

/* Reordering within the window is no loss: 1 .. 9 arrive before 0, which
 * comes 5 ms later - under the 11 ms window. Nothing is resent, no
 * recovery, cwnd grows. DupThresh (RACK off) resends 0 at once. */
static void
test_rack_reorder_no_rexmit(void **state)
{
	uint32_t una0, blk[2];
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = rack_flight_reordered();
	blk[0] = S(1); blk[1] = S(10);
	peer_sack_ts(S(0), 1, blk, out[0].opts.ts_val);
	assert_int_equal(app_conn->sack.sacked, 9 * m);
	assert_int_equal(n_out, 0);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_REO);
	advance(5);
	assert_int_equal(n_out, 0);
	/* 0 arrives: everything ACKed, nothing was ever sent twice */
	peer_sack_ts(S(10), 0, NULL, out[0].opts.ts_val);
	assert_int_equal(app_conn->snd_una, S(10));
	assert_int_equal(ctx.st.retrans_segs, 0);
	assert_int_equal(ctx.st.sack_recoveries + ctx.st.fast_retrans, 0);
	assert_int_equal(ctx.st.rack_reo_timeouts, 0);
	assert_true(app_conn->cwnd > 10 * m);
	assert_int_equal(n_out, 0);
	assert_true(app_conn->timer_kind != WG_TCPT_REO && app_conn->timer_kind != WG_TCPT_RTX);
#undef S
}

/* A real loss among reordering: 0 never arrives. It is resent when the
 * window has passed - by the reordering timer, to the millisecond, not
 * before and not at the RTO (200 ms) - and recovery repairs it. */
static void
test_rack_loss_after_window(void **state)
{
	uint32_t una0, blk[2];
	const uint32_t m = MSS_TS;
	uint64_t t;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = rack_flight_reordered();
	blk[0] = S(1); blk[1] = S(10);
	peer_sack_ts(S(0), 1, blk, out[0].opts.ts_val);
	/* the window counts from 0's send time plus RACK.rtt (the round
	 * trip of 9, sent with it): 11 ms from now */
	assert_int_equal(app_conn->timer_kind, WG_TCPT_REO);
	advance(REO_MS - 1);
	assert_int_equal(n_out, 0);
	t = wait_out(1000);
	assert_int_equal(t, 1);
	assert_int_equal(ctx.st.rack_reo_timeouts, 1);
	assert_int_equal(ctx.st.sack_recoveries, 1);
	assert_int_equal(ctx.st.rto_expired, 0);
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(0), m);
	assert_int_equal(app_conn->ssthresh, 5 * m);
	/* the retransmission arrives: the echo is its own - a real loss,
	 * the reduction stays */
	peer_sack_ts(S(10), 0, NULL, out[0].opts.ts_val);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->cwnd, 5 * m);
	assert_int_equal(ctx.st.spurious_undos, 0);
	assert_int_equal(ctx.st.retrans_segs, 1);
#undef S
}

/* The retransmission of the last test was spurious after all: 0 comes
 * 15 ms late, then its copy, which the peer D-SACKs. The window doubles
 * (RFC 8985 6.2 step 4), once per round trip, so the next reordering of
 * 15 ms is waited out; a loss then takes 21 ms to detect. */
static void
test_rack_dsack_widens(void **state)
{
	uint32_t una0, blk[4], ts0;
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = rack_flight_reordered();
	ts0 = out[0].opts.ts_val;
	blk[0] = S(1); blk[1] = S(10);
	peer_sack_ts(S(0), 1, blk, ts0);
	assert_int_equal(wait_out(1000), REO_MS);
	expect_data(0, una0, S(0), m);
	/* the original: Eifel says spurious, cwnd back (see test_rack_undo_*) */
	advance(4);
	peer_sack_ts(S(10), 0, NULL, ts0);
	assert_int_equal(ctx.st.spurious_undos, 1);
	assert_int_equal(wg_rack_reo_wnd_ms(app_conn), REO_MS);
	/* the copy: D-SACKed */
	blk[0] = S(0); blk[1] = S(1);
	peer_sack_ts(S(10), 1, blk, ts0);
	assert_int_equal(ctx.st.dsack_rcvd, 1);
	assert_int_equal(app_conn->rack.reo_wnd_mult, 2);
	assert_int_equal(wg_rack_reo_wnd_ms(app_conn), 21);
	/* one round trip, one step: another D-SACK now changes nothing */
	peer_sack_ts(S(10), 1, blk, ts0);
	assert_int_equal(ctx.st.dsack_rcvd, 2);
	assert_int_equal(app_conn->rack.reo_wnd_mult, 2);

	/* next flight: 10 late by 15 ms - within 21 ms: not resent */
	n_out = 0;
	app_send_pat(app_conn, 10 * m, 10 * m);
	assert_true(n_out >= 10);
	ts0 = out[0].opts.ts_val;
	n_out = 0;
	advance(RACK_RTT);
	blk[0] = S(11); blk[1] = S(20);
	peer_sack_ts(S(10), 1, blk, ts0);
	advance(15);
	assert_int_equal(n_out, 0);
	peer_sack_ts(S(20), 0, NULL, ts0);
	assert_int_equal(ctx.st.retrans_segs, 1);
	assert_int_equal(ctx.st.sack_recoveries, 1);
	/* the round is over: the next D-SACK widens again */
	blk[0] = S(10); blk[1] = S(11);
	peer_sack_ts(S(20), 1, blk, ts0);
	assert_int_equal(app_conn->rack.reo_wnd_mult, 3);
#undef S
}

/* Reordering not seen yet: three segments SACKed above 0 make RACK (like
 * DupThresh) resend it and halve cwnd. Then 0's original arrives: the ACK
 * echoes its timestamp, older than the retransmission's (Eifel, RFC
 * 3522). cwnd and ssthresh go back to what they were, and the connection
 * knows its path reorders. */
static void
test_rack_undo_eifel(void **state)
{
	uint32_t una0, blk[2], ts0, k;
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = handshake_after(1, RACK_RTT) + 1;
	sack_watch = app_conn;
	app_send_pat(app_conn, 0, 10 * m);
	ts0 = out[0].opts.ts_val;
	n_out = 0;
	advance(RACK_RTT);
	blk[0] = S(1);
	for (k = 2; k <= 4; k++) {
		blk[1] = S(k);
		peer_sack_ts(S(0), 1, blk, ts0);
	}
	assert_true(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->ssthresh, 5 * m);
	assert_true(app_conn->cwnd < 10 * m);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(0), m);
	assert_true(out[0].opts.ts_val > ts0);
	/* the late original fills the hole; everything else arrived */
	advance(3);
	peer_sack_ts(S(10), 0, NULL, ts0);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(ctx.st.spurious_undos, 1);
	assert_int_equal(app_conn->cwnd, 10 * m);
	assert_int_equal(app_conn->ssthresh, UINT32_MAX / 2);
	assert_true(app_conn->rack.flags & WG_RACKF_REORDER);
	assert_false(app_conn->rack.flags & WG_RACKF_UNDO);
#undef S
}

/* The same spurious retransmission, but the ACK says nothing of which
 * copy arrived (no timestamp): recovery ends at ssthresh. The peer then
 * D-SACKs the retransmission - every one of the episode's was needless
 * (RFC 3708) - and the reduction is undone. A D-SACK from a network
 * duplicate outside the episode would not count (above recover). */
static void
test_rack_undo_dsack(void **state)
{
	uint32_t una0, blk[2], ts0, k;
	const uint32_t m = MSS_TS;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = handshake_after(1, RACK_RTT) + 1;
	sack_watch = app_conn;
	app_send_pat(app_conn, 0, 10 * m);
	ts0 = out[0].opts.ts_val;
	n_out = 0;
	advance(RACK_RTT);
	blk[0] = S(1);
	for (k = 2; k <= 4; k++) {
		blk[1] = S(k);
		peer_sack_ts(S(0), 1, blk, ts0);
	}
	assert_int_equal(n_out, 1);
	assert_int_equal(app_conn->rack.undo_segs, 1);
	advance(3);
	peer_sack_ts(S(10), 0, NULL, 0);
	assert_false(app_conn->flags & WG_TCPF_FASTREC);
	assert_int_equal(app_conn->cwnd, 5 * m);
	assert_int_equal(ctx.st.spurious_undos, 0);
	blk[0] = S(0); blk[1] = S(1);
	peer_sack_ts(S(10), 1, blk, 0);
	assert_int_equal(ctx.st.dsack_rcvd, 1);
	assert_int_equal(ctx.st.spurious_undos, 1);
	assert_int_equal(app_conn->cwnd, 10 * m);
	assert_int_equal(app_conn->ssthresh, UINT32_MAX / 2);
	assert_true(app_conn->rack.flags & WG_RACKF_REORDER);
#undef S
}

/* TLP beside RACK: the last two segments' ACK is slow, not lost. After
 * 2 * SRTT (no reordering timer: nothing was delivered after them) the
 * probe resends the last one; the peer had both and D-SACKs the probe.
 * The probe was not needed - no recovery, cwnd untouched - and a probe's
 * D-SACK is no reordering: the window stays (RFC 8985 7.4). Reordering
 * seen before, a hole below delivered data holds the timer slot for the
 * reordering timer, not the probe. */
static void
test_rack_tlp(void **state)
{
	uint32_t una0, blk[2], ts0, cwnd;
	const uint32_t m = MSS_TS;
	uint64_t t;
#define S(k) (una0 + (k) * m)

	(void)state;
	una0 = rack_flight_reordered();
	ts0 = out[0].opts.ts_val;
	/* 0 .. 7 arrive (0 a little late), 8 and 9 are on their way */
	blk[0] = S(1); blk[1] = S(8);
	peer_sack_ts(S(0), 1, blk, ts0);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_REO);
	advance(2);
	peer_sack_ts(S(8), 0, NULL, ts0);
	assert_true(app_conn->rto.srtt_us > 0);
	assert_int_equal(app_conn->timer_kind, WG_TCPT_TLP);
	cwnd = app_conn->cwnd;
	t = wait_out(1000);
	assert_int_equal(t, (2 * app_conn->rto.srtt_us + 999) / 1000);
	assert_int_equal(ctx.st.tlp_probes, 1);
	assert_int_equal(n_out, 1);
	expect_data(0, una0, S(9), m);
	/* both originals and the probe arrived */
	blk[0] = S(9); blk[1] = S(10);
	peer_sack_ts(S(10), 1, blk, ts0);
	assert_int_equal(ctx.st.dsack_rcvd, 1);
	assert_int_equal(app_conn->rack.reo_wnd_mult, 1);
	assert_false(app_conn->flags & (WG_TCPF_TLP | WG_TCPF_FASTREC));
	assert_int_equal(ctx.st.sack_recoveries, 0);
	assert_int_equal(ctx.st.rto_expired, 0);
	assert_true(app_conn->cwnd >= cwnd);
	assert_int_equal(app_conn->sndq_bytes, 0);
#undef S
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	char prefix[32];
	/* --no-huge already implies legacy memory, which --in-memory refuses */
	const char *argv[] = { "test_tcp", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			       "--no-telemetry", "--log-level=error", prefix };
	const struct CMUnitTest tests[] = {
		T(test_handshake_and_data),
		T(test_out_of_order_sack),
		T(test_rst_rules),
		T(test_bad_segments),
		T(test_syn_cookies),
		T(test_passive_close),
		T(test_rto_retransmit),
		T(test_ack_seq_after_rto),
		T(test_ack_on_window_edge),
		T(test_ack_seq_zero_window),
		T(test_fast_retransmit),
		T(test_no_listener_rst),
		T(test_zero_window_persist),
		T(test_zero_window_rto),
		T(test_persist_gives_up),
		T(test_paws),
		T(test_ack_too_new),
		T(test_ack_too_old),
		T(test_active_close_timewait),
		T(test_timewait_syn_reuse),
		T(test_fin_wait2_timeout),
		T(test_simultaneous_close),
		T(test_fin_acked_with_fin),
		T(test_timewait_bound),
		T(test_keepalive),
		T(test_synrcvd_retransmit),
		T(test_synrcvd_dup_syn),
		T(test_data_fin_one_segment),
		T(test_fin_after_hole),
		T(test_overlap_retransmission),
		T(test_rcv_window),
		T(test_send_backpressure),
		T(test_send_no_buffers),
		T(test_fast_retransmit_small_flight),
		T(test_abort_in_on_data),
		T(test_close_in_on_data),
		T(test_active_open),
		T(test_simultaneous_open),
		T(test_simultaneous_open_ack),
		T(test_simultaneous_open_timeout),
		T(test_syn_sent_rst),
		T(test_connect_timeout),
		T(test_close_in_failed_connect),
		T(test_seq_wrap),
		T(test_seq_wrap_send),
		T(test_syn_cookie_no_ts),
		T(test_syn_cookie_ts),
		T(test_echo_small_sndbuf),
		T(test_sack_scoreboard),
		T(test_sack_two_holes),
		T(test_sack_prr_new_data),
		T(test_sack_rto_in_recovery),
		T(test_sack_renege_dsack),
		T(test_newreno_without_sack),
		T(test_sack_random_loss),
		T(test_sack_tail_loss_probe),
		T(test_sack_blocks_fit_mtu),
		T(test_rack_reorder_no_rexmit),
		T(test_rack_loss_after_window),
		T(test_rack_dsack_widens),
		T(test_rack_undo_eifel),
		T(test_rack_undo_dsack),
		T(test_rack_tlp),
	};

	snprintf(prefix, sizeof(prefix), "--file-prefix=tcp%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(argv), (char **)(uintptr_t)argv) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("t_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
