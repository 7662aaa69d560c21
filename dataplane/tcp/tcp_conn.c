/* SPDX-License-Identifier: BSD-3-Clause
 * Connection table, ISNs (RFC 6528), SYN cookies, per-lcore set-up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "tcp.h"
#include "tcp_impl.h"
#include "tcp_rack.h"
#include "tcp_reass.h"
#include "tcp_rto.h"
#include "tcp_sack.h"
#include "timer_wheel.h"

void
wg_tcp_conf_defaults(struct wg_tcp_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_conns = 65536;
	c->hash_buckets = 65536;
	c->syn_backlog = 1024;
	c->max_timewait = 16384;
	/* game traffic is many small flows: modest per-connection buffers,
	 * memory used only while data is actually queued */
	c->rcv_buf = 64 * 1024;
	c->snd_buf = 128 * 1024;
	c->ooo_max = 64 * 1024;
	c->mss = 1460;
	c->rack = 1;
	c->rto_initial_ms = 1000;
	c->rto_min_ms = 200;
	c->rto_max_ms = 60000;
	c->max_retries = 12;
	c->syn_retries = 5;
	c->delack_ms = 40;
	c->timewait_ms = 60000;
	c->fin_wait2_ms = 60000;
	c->keepalive_ms = 0;
	c->keepalive_intvl_ms = 75000;
	c->keepalive_probes = 9;
	c->challenge_ack_per_s = 1000;
}

/* SipHash-2-4 (Aumasson & Bernstein) over 3 words: keyed, cheap, and
 * unpredictable without the key, as RFC 6528 asks of the ISN function. */
static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
} while (0)

uint64_t
wg_tcp_siphash(const uint64_t key[2], uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	uint64_t m[4] = { a, b, c, (uint64_t)24 << 56 };
	int i;

	for (i = 0; i < 4; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline uint64_t
tuple_word(uint32_t laddr, uint32_t raddr)
{
	return ((uint64_t)laddr << 32) | raddr;
}

static inline uint32_t
bucket_of(const struct wg_tcp_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t lport,
	  uint16_t rport)
{
	/* keyed: remote peers cannot aim their flows at one chain */
	return (uint32_t)wg_tcp_siphash(&ctx->secret[2], tuple_word(laddr, raddr),
					((uint32_t)lport << 16) | rport, 0) & ctx->bucket_mask;
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 us clock. */
uint32_t
wg_tcp_isn(struct wg_tcp_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t lport,
	   uint16_t rport)
{
	uint64_t m = rte_get_tsc_cycles() / (rte_get_tsc_hz() / 250000);

	return (uint32_t)m + (uint32_t)wg_tcp_siphash(ctx->secret, tuple_word(laddr, raddr),
						       ((uint32_t)lport << 16) | rport, 0);
}

/* SYN cookies. ISN = t(5 bits, 64 s periods) | mss index(3) | MAC(24) where
 * the MAC covers the 4-tuple, the peer's ISN, t and the index. */
static const uint16_t cookie_mss[8] = { 536, 1200, 1300, 1380, 1400, 1440, 1452, 1460 };

static uint32_t
cookie_mac(struct wg_tcp_ctx *ctx, const struct wg_tcp_conn *k, uint32_t peer_isn,
	   uint32_t t, uint32_t idx)
{
	return (uint32_t)wg_tcp_siphash(ctx->secret, tuple_word(k->laddr, k->raddr),
					((uint64_t)k->lport << 48) | ((uint64_t)k->rport << 32) |
					peer_isn,
					((uint64_t)t << 8) | idx) & 0xffffff;
}

uint32_t
wg_tcp_cookie_make(struct wg_tcp_ctx *ctx, const struct wg_tcp_conn *k, uint32_t peer_isn,
		   uint16_t mss)
{
	uint32_t t = (uint32_t)(ctx->now_ms / 64000) & 0x1f;
	uint32_t idx = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		if (cookie_mss[i] <= mss)
			idx = i;
	return (t << 27) | (idx << 24) | cookie_mac(ctx, k, peer_isn, t, idx);
}

/* Returns the MSS the cookie encodes, or 0 if it is forged or expired. */
uint16_t
wg_tcp_cookie_check(struct wg_tcp_ctx *ctx, const struct wg_tcp_conn *k, uint32_t peer_isn,
		    uint32_t cookie)
{
	uint32_t now_t = (uint32_t)(ctx->now_ms / 64000) & 0x1f;
	uint32_t t = cookie >> 27, idx = (cookie >> 24) & 7;

	/* valid for the current and the previous period: 64..128 s */
	if (t != now_t && t != ((now_t - 1) & 0x1f))
		return 0;
	if (cookie_mac(ctx, k, peer_isn, t, idx) != (cookie & 0xffffff))
		return 0;
	return cookie_mss[idx];
}

struct wg_tcp_conn *
wg_tcp_lookup(struct wg_tcp_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t lport,
	      uint16_t rport)
{
	struct wg_tcp_conn *c = ctx->buckets[bucket_of(ctx, laddr, raddr, lport, rport)];

	for (; c != NULL; c = c->hnext)
		if (c->raddr == raddr && c->rport == rport && c->lport == lport &&
		    c->laddr == laddr)
			return c;
	return NULL;
}

struct wg_tcp_listener *
wg_tcp_listener_find(struct wg_tcp_ctx *ctx, uint16_t lport)
{
	unsigned int i;

	for (i = 0; i < WG_TCP_MAX_LISTEN; i++)
		if (ctx->listeners[i].port == lport && lport != 0)
			return &ctx->listeners[i];
	return NULL;
}

int
wg_tcp_listen(struct wg_tcp_ctx *ctx, uint16_t port, const struct wg_tcp_ops *ops, void *arg)
{
	uint16_t be = rte_cpu_to_be_16(port);
	unsigned int i;

	if (port == 0 || ops == NULL || ops->on_accept == NULL)
		return -EINVAL;
	if (wg_tcp_listener_find(ctx, be) != NULL)
		return -EADDRINUSE;
	for (i = 0; i < WG_TCP_MAX_LISTEN; i++) {
		if (ctx->listeners[i].port == 0) {
			ctx->listeners[i].ops = ops;
			ctx->listeners[i].arg = arg;
			ctx->listeners[i].port = be;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Per-connection memory (docs/benchmarks.md): the record is 472 bytes
 * since the SACK scoreboard (164) and RACK's state (52; its per-segment
 * send times ride in the send queue's mbufs) went in; the pool pads it to
 * a 512-byte element and adds a 64-byte header, the table an 8-byte
 * bucket: 584 bytes, against a budget of 1 KiB. Up to 512 the total stays
 * the same. */
_Static_assert(sizeof(struct wg_tcp_conn) <= 512, "TCP connection record over budget");
_Static_assert(WG_TCP_SACK_RANGES <= UINT8_MAX, "scoreboard count is a uint8_t");

/* A fresh connection in the table, state CLOSED; NULL when out of them. */
struct wg_tcp_conn *
wg_tcp_conn_new(struct wg_tcp_ctx *ctx, unsigned int port, uint32_t laddr, uint32_t raddr,
		uint16_t lport, uint16_t rport)
{
	struct wg_tcp_conn *c;
	uint32_t b;

	if (rte_mempool_get(ctx->conn_pool, (void **)&c) != 0) {
		ctx->st.conn_alloc_fail++;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->port = (uint16_t)port;
	c->laddr = laddr;
	c->raddr = raddr;
	c->lport = lport;
	c->rport = rport;
	c->mss = 536;
	wg_rto_init(&c->rto, ctx->conf.rto_initial_ms * 1000, ctx->conf.rto_min_ms * 1000,
		    ctx->conf.rto_max_ms * 1000);
	b = bucket_of(ctx, laddr, raddr, lport, rport);
	c->hnext = ctx->buckets[b];
	ctx->buckets[b] = c;
	ctx->st.conns++;
	return c;
}

/* Unlink, free every buffer, return to the pool. */
void
wg_tcp_conn_free(struct wg_tcp_conn *c)
{
	struct wg_tcp_ctx *ctx = c->ctx;
	struct wg_tcp_conn **pp = &ctx->buckets[bucket_of(ctx, c->laddr, c->raddr, c->lport,
							    c->rport)];

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp == c)
		*pp = c->hnext;
	wg_tw_cancel(&ctx->tw, &c->timer);
	wg_tw_cancel(&ctx->tw_delack, &c->delack);
	if (c->sndq_head != NULL)
		rte_pktmbuf_free(c->sndq_head);
	if (c->reass != NULL) {
		wg_reass_flush(c->reass);
		rte_mempool_put(ctx->reass_pool, c->reass);
	}
	wg_tcp_set_state(c, WG_TCP_CLOSED);
	if (ctx->busy == c)
		ctx->busy = NULL;   /* tells the input path c is gone */
	ctx->st.conns--;
	rte_mempool_put(ctx->conn_pool, c);
}

/* State changes keep the gauges right in one place. */
void
wg_tcp_set_state(struct wg_tcp_conn *c, uint8_t state)
{
	struct wg_tcp_stats *st = &c->ctx->st;

	if (c->state == state)
		return;
	if (c->state == WG_TCP_ESTABLISHED || c->state == WG_TCP_CLOSE_WAIT)
		st->established--;
	else if (c->state == WG_TCP_SYN_RCVD)
		st->synrcvd--;
	else if (c->state == WG_TCP_TIME_WAIT)
		st->timewait--;
	if (state == WG_TCP_ESTABLISHED || state == WG_TCP_CLOSE_WAIT)
		st->established++;
	else if (state == WG_TCP_SYN_RCVD)
		st->synrcvd++;
	else if (state == WG_TCP_TIME_WAIT)
		st->timewait++;
	c->state = state;
}

struct wg_tcp_ctx *
wg_tcp_conn_ctx(const struct wg_tcp_conn *c)
{
	return c->ctx;
}

int
wg_tcp_ctx_init(struct wg_tcp_ctx *ctx, const struct wg_tcp_conf *conf, const char *name,
		int socket, const struct wg_iface *ifaces, unsigned int n_ifaces,
		struct rte_mempool *pkt_pool,
		void (*tx)(void *arg, unsigned int port, struct rte_mbuf *m), void *tx_arg)
{
	char pname[RTE_MEMPOOL_NAMESIZE];
	unsigned int i;

	if (conf->hash_buckets == 0 || (conf->hash_buckets & (conf->hash_buckets - 1)) ||
	    conf->max_conns == 0 || conf->mss < 64)
		return -EINVAL;
	memset(ctx, 0, sizeof(*ctx));
	ctx->conf = *conf;
	ctx->ifaces = ifaces;
	ctx->n_ifaces = n_ifaces;
	ctx->pkt_pool = pkt_pool;
	ctx->tx = tx;
	ctx->tx_arg = tx_arg;
	ctx->bucket_mask = conf->hash_buckets - 1;
	ctx->buckets = rte_zmalloc_socket("wg_tcp_hash", sizeof(*ctx->buckets) * conf->hash_buckets,
					  RTE_CACHE_LINE_SIZE, socket);
	if (ctx->buckets == NULL)
		return -ENOMEM;
	snprintf(pname, sizeof(pname), "tcpc_%s", name);
	ctx->conn_pool = rte_mempool_create(pname, conf->max_conns, sizeof(struct wg_tcp_conn),
					    0, 0, NULL, NULL, NULL, NULL, socket,
					    RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (ctx->conn_pool == NULL)
		goto err_hash;
	snprintf(pname, sizeof(pname), "tcpr_%s", name);
	ctx->reass_pool = rte_mempool_create(pname, RTE_MAX(conf->max_conns / 16, 64u),
					     sizeof(struct wg_reass), 0, 0, NULL, NULL, NULL, NULL,
					     socket, RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (ctx->reass_pool == NULL)
		goto err_conn;
	for (i = 0; i < 4; i++)
		ctx->secret[i] = rte_rand();
	ctx->now_ms = rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
	ctx->challenge_tokens = conf->challenge_ack_per_s;
	ctx->challenge_refill_ms = ctx->now_ms;
	wg_tw_init(&ctx->tw, ctx->now_ms);
	wg_tw_init(&ctx->tw_delack, ctx->now_ms);
	return 0;

err_conn:
	rte_mempool_free(ctx->conn_pool);
	ctx->conn_pool = NULL;
err_hash:
	rte_free(ctx->buckets);
	ctx->buckets = NULL;
	return -ENOMEM;
}

const char *
wg_tcp_state_name(uint8_t state)
{
	static const char *const names[WG_TCP_NSTATES] = {
		"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
		"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
	};

	return state < WG_TCP_NSTATES ? names[state] : "?";
}

void
wg_tcp_conn_dump(FILE *f, const struct wg_tcp_conn *c)
{
	const uint8_t *l = (const uint8_t *)&c->laddr, *r = (const uint8_t *)&c->raddr;

	fprintf(f, "%u.%u.%u.%u:%u -> %u.%u.%u.%u:%u %s snd_una %u snd_nxt %u snd_wnd %u "
		"cwnd %u ssthresh %u rcv_nxt %u rto %u us queued %u held %u\n",
		l[0], l[1], l[2], l[3], rte_be_to_cpu_16(c->lport),
		r[0], r[1], r[2], r[3], rte_be_to_cpu_16(c->rport),
		wg_tcp_state_name(c->state), c->snd_una - c->iss, c->snd_nxt - c->iss,
		c->snd_wnd, c->cwnd, c->ssthresh, c->rcv_nxt - c->irs,
		wg_rto_timeout(&c->rto), c->sndq_bytes, c->rcv_held);
	if ((c->flags & WG_TCPF_SACK) &&
	    (c->sack.n > 0 || (c->flags & (WG_TCPF_FASTREC | WG_TCPF_LOSSREC | WG_TCPF_TLP))))
		wg_sack_dump(f, &c->sack, c->iss);
	if (c->sack.rack && (c->rack.flags & (WG_RACKF_REORDER | WG_RACKF_UNDO)))
		wg_rack_dump(f, c);
}
