/* SPDX-License-Identifier: BSD-3-Clause
 * Client-side self-test: our TCP opens N connections to an echo server
 * (the Linux kernel's, in tests), streams seeded pseudo-random bytes and
 * verifies every echoed byte. Started by an operator command (telemetry
 * /wg/tcp_client_start), run entirely on the worker lcore.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "arp.h"
#include "svc.h"
#include "tcp.h"

#define CHUNK 1024

/* A byte stream from xorshift64*: both ends regenerate it from the seed. */
struct bytegen {
	uint64_t s;
	uint64_t word;
	unsigned int left;
};

struct cconn {
	struct wg_tcp_conn *c;
	struct wg_client_test *t;
	struct bytegen tx, rx;
	uint64_t sent;
	uint64_t rcvd;
	uint8_t state;       /* 0 idle, 1 connecting, 2 running, 3 done, 4 failed */
};

static void
gen_init(struct bytegen *g, uint64_t seed)
{
	g->s = seed * 0x9e3779b97f4a7c15ull + 1;
	g->left = 0;
}

static inline uint8_t
gen_byte(struct bytegen *g)
{
	uint8_t b;

	if (g->left == 0) {
		g->s ^= g->s >> 12;
		g->s ^= g->s << 25;
		g->s ^= g->s >> 27;
		g->word = g->s * 0x2545f4914f6cdd1dull;
		g->left = 8;
	}
	b = (uint8_t)g->word;
	g->word >>= 8;
	g->left--;
	return b;
}

static void cc_fill(struct cconn *cc);

static void
cc_finish(struct cconn *cc, bool ok)
{
	struct wg_client_test *t = cc->t;

	if (cc->state >= 3)
		return;
	cc->state = ok ? 3 : 4;
	if (ok)
		t->done_ok++;
	else
		t->failed++;
	if (t->done_ok + t->failed == t->conns) {
		t->end_ms = t->ctx->now_ms;
		t->running = 0;    /* a new test may start */
	}
}

static void
cl_connect(struct wg_tcp_conn *c, int err)
{
	struct cconn *cc = c->app_ctx;

	if (err < 0) {
		cc->t->connect_failed++;
		cc_finish(cc, false);
		cc->c = NULL;
		return;
	}
	cc->state = 2;
	cc->t->connected++;
	cc_fill(cc);
}

/* Queue as much of the stream as the send buffer takes. */
static void
cc_fill(struct cconn *cc)
{
	struct wg_client_test *t = cc->t;

	while (cc->sent < t->bytes) {
		uint32_t n = (uint32_t)RTE_MIN((uint64_t)CHUNK, t->bytes - cc->sent);
		struct rte_mbuf *m;
		uint8_t *p;
		uint32_t i;

		if (wg_tcp_send_space(cc->c) < n) {
			wg_tcp_want_writable(cc->c);
			return;
		}
		m = rte_pktmbuf_alloc(wg_tcp_conn_ctx(cc->c)->pkt_pool);
		if (m == NULL)
			return;    /* on_writable or the next ACK retries */
		p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		for (i = 0; i < n; i++)
			p[i] = gen_byte(&cc->tx);
		if (wg_tcp_send(cc->c, m) != 0) {
			rte_pktmbuf_free(m);
			cc_finish(cc, false);
			return;
		}
		cc->sent += n;
		t->bytes_tx += n;
	}
}

static void
cl_data(struct wg_tcp_conn *c, struct rte_mbuf *m)
{
	struct cconn *cc = c->app_ctx;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *s;

	for (s = m; s != NULL; s = s->next) {
		const uint8_t *p = rte_pktmbuf_mtod(s, const uint8_t *);
		uint16_t i;

		for (i = 0; i < s->data_len; i++)
			if (p[i] != gen_byte(&cc->rx)) {
				cc->t->mismatches++;
				cc_finish(cc, false);
				break;
			}
	}
	cc->rcvd += len;
	cc->t->bytes_rx += len;
	wg_tcp_recv_done(c, len);
	rte_pktmbuf_free(m);
	if (cc->rcvd >= cc->t->bytes && cc->state == 2) {
		cc_finish(cc, cc->rcvd == cc->t->bytes);
		wg_tcp_close(c);
	}
}

static void
cl_writable(struct wg_tcp_conn *c)
{
	cc_fill(c->app_ctx);
}

static void
cl_closed(struct wg_tcp_conn *c, int reason)
{
	struct cconn *cc = c->app_ctx;

	if (reason != 0 || cc->rcvd != cc->t->bytes)
		cc_finish(cc, false);
	cc->c = NULL;
}

static const struct wg_tcp_ops client_ops = {
	.on_connect = cl_connect,
	.on_data = cl_data,
	.on_writable = cl_writable,
	.on_closed = cl_closed,
};

int
wg_client_test_start(struct wg_client_test *t, struct wg_tcp_ctx *ctx, unsigned int port,
		     uint32_t dst_ip, uint16_t dst_port, uint32_t conns, uint64_t bytes,
		     uint64_t seed)
{
	struct cconn *cs;
	uint32_t i;

	if (t->running || conns == 0 || port >= ctx->n_ifaces)
		return -EBUSY;
	cs = rte_zmalloc("wg_client_test", sizeof(*cs) * conns, 0);
	if (cs == NULL)
		return -ENOMEM;
	rte_free(t->conns_mem);
	memset(t, 0, sizeof(*t));
	t->conns_mem = cs;
	t->ctx = ctx;
	t->port = port;
	t->dst_ip = dst_ip;
	t->dst_port = rte_cpu_to_be_16(dst_port);
	t->conns = conns;
	t->bytes = bytes;
	t->start_ms = ctx->now_ms;
	for (i = 0; i < conns; i++) {
		cs[i].t = t;
		gen_init(&cs[i].tx, seed + i);
		gen_init(&cs[i].rx, seed + i);
	}
	t->running = 1;
	return 0;
}

/* Opens connections once the next hop's MAC is known; call every loop. */
unsigned int
wg_client_test_poll(struct wg_client_test *t, struct wg_arp_cache *arp, uint64_t now_ms,
		    void (*arp_request)(void *arg, uint32_t ip, const uint8_t *mac), void *arg)
{
	const struct wg_iface *ifc;
	struct cconn *cs = t->conns_mem;
	const uint8_t *mac;
	uint32_t hop, opened = 0;
	bool need = false;

	if (!t->running || t->next_open >= t->conns)
		return 0;
	ifc = &t->ctx->ifaces[t->port];
	hop = ((t->dst_ip ^ ifc->ipv4) & ifc->netmask) == 0 || ifc->gateway == 0 ?
	      t->dst_ip : ifc->gateway;
	mac = wg_arp_resolve(arp, hop, now_ms, &need);
	if (mac == NULL) {
		if (need)
			arp_request(arg, hop, NULL);
		return 0;
	}
	/* a bounded batch per loop: the handshakes spread over time */
	while (t->next_open < t->conns && opened < 64) {
		struct cconn *cc = &cs[t->next_open++];

		cc->state = 1;
		cc->c = wg_tcp_connect(t->ctx, t->port, t->dst_ip, t->dst_port, mac,
				       &client_ops, cc);
		if (cc->c == NULL) {
			t->connect_failed++;
			cc_finish(cc, false);
		}
		opened++;
	}
	return opened;
}
