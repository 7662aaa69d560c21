/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for the TCP core: segment arrival and everything it
 * drives (tcp_input.c, tcp_output.c, tcp_timer.c, tcp_conn.c, tcp_app.c,
 * the reassembly queue, the echo/discard services).
 *
 * The input is a script played against one lcore's TCP: an 8-byte header
 * of configuration, then 8-byte operations. The fuzzer is the peer (five
 * 4-tuples: two to a test app on port 80, one each to the echo and discard
 * services, one for active opens from the app to port 5555) and the app.
 *
 *   header [0] rcv_buf 2^(12 + [0]&7 % 7), snd_buf 2^(12 + ([0]>>3)&3);
 *          bit 5 TX checksum offload, bits 6-7 initial clock block
 *          [1] ooo_max 2^(10 + [1]&7), syn_backlog {0,1,4,1024}[bits 3-4],
 *          max_timewait {0,1,2,1000}[bits 5-6]
 *          [2] keepalive ([2]&3: off, 300, 1000, 3000 ms), probes
 *          1 + ([2]>>2)&3, challenge_ack_per_s 1 + ([2]>>4)
 *          [3] our MSS {536,1000,1448,1460}[&3], packet mbufs left to
 *          TCP {all, 1100, 300, 40}[bits 2-3] (the rest held back: memory
 *          pressure, allocation failures); [4] initial app mode;
 *          [5..7] the peers' ISNs (as the top 24 bits: wrap-around is near)
 *   op [0] low nibble kind; 0-7 a segment from the current peer, 8 clock,
 *          9 app send, 10 app close, 11 app recv_done, 12 app abort, 13 app
 *          connect, 14 current peer := [1] % 5, 15 app mode := [2] (if [1]
 *          odd) or a plain ACK of everything (seq rcv_nxt, ack snd_max)
 *   segment: [0] bits 4-5 seq delta scale {1,64,1460,65536}, bits 6-7 seq
 *          base (rcv_nxt, right window edge, irs, rcv_nxt - 1; the peer's
 *          ISN while there is no synchronized connection); [1] flags
 *          (bit 7: raw, else a table of sane combinations); [2] seq delta
 *          (int8); [3] ack delta (int8); [4] window (< 16 as is, else
 *          * 257); [5] low nibble payload length (a table up to 1460),
 *          bit 4 timestamps, bit 5 SACK (blocks, or SACK-permitted on a
 *          SYN), bit 6 MSS+WS on a SYN (on other segments with bit 5:
 *          SACK blocks in whole segments above snd_una, see sack_blocks),
 *          bit 7 a timestamp from the past;
 *          [6] bit 0 bad checksum, 1 checksum-good hint (no software
 *          check), 2 corrupt payload, 3 bad data offset, 4 raw option
 *          bytes, 5-6 ack delta scale; [7] bits 0-1 ack base (snd_max,
 *          snd_una, snd_nxt, iss + 1; the last SYN-ACK + 1 without a
 *          connection), 2-3 MSS {0, 536, 1460, 9000}, 4-7 window scale
 *   app mode bits: 0 hold data (no recv_done), 1 abort in on_data, 2 close
 *          in on_data, 3 close in on_eof, 4 send in on_data, 5 send in
 *          on_writable, 6 refuse on_accept, 7 close/abort from the last
 *          callback (on_connect error, on_closed)
 *
 * Payload bytes are a function of their absolute sequence number, and the
 * app's are a function of their stream offset, so every byte delivered to
 * the app and every byte sent is checked (until the script corrupts a
 * payload). After every operation: sequence-space order (snd_una <= snd_nxt
 * <= snd_max, rcv_nxt <= rcv_adv), send-queue accounting, no segment sent
 * beyond snd_max, rcv_held <= rcv_buf, no empty reassembly queue kept, a
 * retransmission or persist timer whenever anything is outstanding, timer
 * and gauge counts that match the table, and no connection the app holds
 * freed behind its back. At the end the app aborts what it has, the clock
 * runs until TCP has let go of everything, and the connection, reassembly
 * and packet pools must be back to empty. The pools poison freed objects
 * (AddressSanitizer), so any use of a freed connection or mbuf is caught.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "net-t.h"
#include "svc.h"
#include "tcp.h"
#include "tcp_impl.h"
#include "tcp_opts.h"
#include "tcp_reass.h"
#include "tcp_sack.h"
#include "timer_wheel.h"
#include "../eal_runtime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define PEER_IP    RTE_BE32(0xc6120701)   /* 198.18.7.1 */
#define OUR_IP     RTE_BE32(0xc6120702)
#define APP_PORT   80
#define ECHO_PORT  7
#define DISC_PORT  9
#define CONN_PORT  5555                   /* active opens go there */
#define NPEER      5
#define MAX_CONNS  8
#define NSLOT      16
#define POOL_SIZE  8191
#define T0         1000000u

/* ---- pools that poison what is free ---- */

static bool poison_on;

static int
fz_alloc(struct rte_mempool *mp)
{
	char name[RTE_RING_NAMESIZE];
	struct rte_ring *r;

	snprintf(name, sizeof(name), "FZ_%s", mp->name);
	r = rte_ring_create(name, rte_align32pow2(mp->size + 1), mp->socket_id,
			    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL)
		return -rte_errno;
	mp->pool_data = r;
	return 0;
}

static void
fz_free(struct rte_mempool *mp)
{
	rte_ring_free(mp->pool_data);
}

static int
fz_enqueue(struct rte_mempool *mp, void * const *objs, unsigned int n)
{
	unsigned int i;

	if (poison_on)
		for (i = 0; i < n; i++)
			ASAN_POISON_MEMORY_REGION(objs[i], mp->elt_size);
	return n > 0 && rte_ring_enqueue_bulk(mp->pool_data, objs, n, NULL) == 0 ? -ENOBUFS : 0;
}

static int
fz_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	unsigned int i;

	if (n > 0 && rte_ring_dequeue_bulk(mp->pool_data, objs, n, NULL) == 0)
		return -ENOBUFS;
	for (i = 0; i < n; i++)
		ASAN_UNPOISON_MEMORY_REGION(objs[i], mp->elt_size);
	return 0;
}

static unsigned int
fz_count(const struct rte_mempool *mp)
{
	return rte_ring_count(mp->pool_data);
}

static struct rte_mempool_ops fz_ops = {
	.name = "fz_poison",
	.alloc = fz_alloc,
	.free = fz_free,
	.enqueue = fz_enqueue,
	.dequeue = fz_dequeue,
	.get_count = fz_count,
};

RTE_MEMPOOL_REGISTER_OPS(fz_ops);

static void
poison_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	(void)arg;
	(void)idx;
	ASAN_POISON_MEMORY_REGION(obj, mp->elt_size);
}

static struct rte_mempool *
fz_pool(const char *name, unsigned int n, unsigned int size)
{
	struct rte_mempool *mp;

	mp = rte_mempool_create_empty(name, n, size, 0, 0, SOCKET_ID_ANY, 0);
	if (mp == NULL || rte_mempool_set_ops_byname(mp, "fz_poison", NULL) != 0 ||
	    rte_mempool_populate_default(mp) < 0)
		abort();
	return mp;
}

/* ---- the world ---- */

static struct rte_mempool *pkt_pool;
static struct wg_iface ifc;
static struct wg_tcp_ctx ctx;
static uint64_t now;
static bool verbose;           /* FZ_VERBOSE=1: counters after each input */
static bool tainted;           /* a corrupt payload went in: stop checking bytes */
static uint8_t mode;           /* app behaviour */
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct peer {
	uint16_t pport, lport;     /* host order; lport of an active open is learned */
	uint32_t isn;
	uint32_t synack;           /* last SYN-ACK we sent it (SYN cookies) */
	uint32_t ts_val;           /* its clock */
	uint32_t ts_ecr;           /* our last timestamp to it */
};
static struct peer peers[NPEER];
static unsigned int cur;

struct slot {
	struct wg_tcp_conn *c;
	uint32_t held;             /* delivered, no recv_done yet */
	uint32_t rx_next;          /* sequence of the next byte to be delivered */
	uint32_t tx_off;           /* stream bytes queued */
};
static struct slot slots[NSLOT];

/* mbufs held back for the whole input: a pool running dry */
static struct rte_mbuf *reserve[POOL_SIZE];
static unsigned int n_reserve;

/* segments sent during one operation, checked against snd_max after it */
#define MAXSENT 512
static struct {
	struct wg_tcp_conn *c;
	uint32_t iss, end;
} sent[MAXSENT];
static unsigned int n_sent;

static inline uint8_t
peer_byte(uint32_t seq)
{
	return (uint8_t)((seq * 0x85ebca77u) >> 24);
}

static inline uint8_t
app_byte(uint32_t off)
{
	return (uint8_t)((off * 0x9e3779b1u + 0x5bd1e995u) >> 24);
}

static struct peer *
peer_of(uint16_t lport, uint16_t pport)
{
	unsigned int i;

	for (i = 0; i < NPEER; i++)
		if (peers[i].lport == lport && peers[i].pport == pport)
			return &peers[i];
	return NULL;
}

static struct wg_tcp_conn *
conn_of_peer(const struct peer *p)
{
	if (p->lport == 0)
		return NULL;
	return wg_tcp_lookup(&ctx, OUR_IP, PEER_IP, rte_cpu_to_be_16(p->lport),
			     rte_cpu_to_be_16(p->pport));
}

/* Everything TCP sends: checked and dropped. */
static void
tx(void *arg, unsigned int port, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
	unsigned int hl = (th->data_off >> 4) * 4, len, k;
	const uint8_t *pay;
	struct wg_tcp_opts o;
	struct wg_tcp_conn *c;
	struct peer *p;
	uint32_t seq;

	(void)arg;
	check(port == 0);
	check(m->nb_segs == 1 && m->pkt_len == m->data_len);
	check(memcmp(f, peer_mac, 6) == 0);
	check(ip->src_addr == OUR_IP && ip->dst_addr == PEER_IP);
	check(hl >= 20 && rte_be_to_cpu_16(ip->total_length) >= 20 + hl);
	check(m->pkt_len == RTE_ETHER_HDR_LEN + rte_be_to_cpu_16(ip->total_length));
	if (!(ifc.flags & WG_IFACE_F_TX_L4_CSUM)) {
		check(rte_ipv4_cksum(ip) == 0);
		check(rte_ipv4_udptcp_cksum_verify(ip, th) == 0);
	}
	check(wg_tcp_opts_parse((const uint8_t *)(th + 1), hl - 20,
				(th->tcp_flags & TCP_SYN) != 0, &o) == 0);
	len = rte_be_to_cpu_16(ip->total_length) - 20 - hl;
	seq = rte_be_to_cpu_32(th->sent_seq);
	if (verbose)
		fprintf(stderr, "   tx %u>%u flags %02x seq %u ack %u wnd %u len %u\n",
			rte_be_to_cpu_16(th->src_port), rte_be_to_cpu_16(th->dst_port),
			th->tcp_flags, seq, rte_be_to_cpu_32(th->recv_ack),
			rte_be_to_cpu_16(th->rx_win), len);
	pay = (const uint8_t *)th + hl;
	p = peer_of(rte_be_to_cpu_16(th->src_port), rte_be_to_cpu_16(th->dst_port));
	if (p != NULL) {
		if (o.flags & WG_TCPOPT_F_TS)
			p->ts_ecr = o.ts_val;
		if ((th->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
			p->synack = seq;
	}
	c = wg_tcp_lookup(&ctx, ip->src_addr, ip->dst_addr, th->src_port, th->dst_port);
	if (c != NULL && !(th->tcp_flags & TCP_RST) && (len > 0 || (th->tcp_flags & (TCP_SYN | TCP_FIN)))) {
		/* never past what it is accounted as having sent */
		check(n_sent < MAXSENT);
		sent[n_sent].c = c;
		sent[n_sent].iss = c->iss;
		sent[n_sent].end = seq + len + ((th->tcp_flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
		n_sent++;
	}
	if (c != NULL && len > 0 && !(th->tcp_flags & TCP_RST)) {
		uint32_t off = seq - c->iss - 1;

		check(!(th->tcp_flags & TCP_SYN));
		/* bytes that exist in the queue */
		check(seq_ge(seq, c->snd_una));
		check(seq_le(seq + len, c->snd_una + c->sndq_bytes));
		check(len <= c->mss);
		/* options come out of the MSS (RFC 9293 3.7.1): timestamps
		 * were taken off c->mss already, SACK blocks off the payload */
		check(hl - 20 + len <= (unsigned int)c->mss + ((c->flags & WG_TCPF_TS) ? 12 : 0));
		/* never a byte the peer SACKed (as far as the scoreboard knows) */
		for (k = 0; k < c->sack.n; k++)
			check(!(seq_lt(seq, c->sack.r[k].end) &&
				seq_gt(seq + len, c->sack.r[k].start)));
		if (!tainted && c->lport == rte_cpu_to_be_16(ECHO_PORT)) {
			for (k = 0; k < len; k++)
				check(pay[k] == peer_byte(c->irs + 1 + off + k));
		} else if (c->lport == rte_cpu_to_be_16(APP_PORT) ||
			   c->rport == rte_cpu_to_be_16(CONN_PORT)) {
			for (k = 0; k < len; k++)
				check(pay[k] == app_byte(off + k));
		}
	}
	rte_pktmbuf_free(m);
}

/* ---- the app ---- */

static struct slot *
slot_new(struct wg_tcp_conn *c)
{
	unsigned int i;

	for (i = 0; i < NSLOT; i++)
		if (slots[i].c == NULL) {
			memset(&slots[i], 0, sizeof(slots[i]));
			slots[i].c = c;
			slots[i].rx_next = c->rcv_nxt;
			return &slots[i];
		}
	return NULL;
}

static void
slot_drop(struct wg_tcp_conn *c)
{
	struct slot *s = c->app_ctx;

	check(s != NULL && s->c == c);
	s->c = NULL;
}

/* Queue len stream bytes in mbufs of chunk bytes (an empty mbuf in between
 * if asked); what the send buffer refuses is dropped, not queued. */
static void
app_send(struct slot *s, uint32_t len, uint32_t chunk, bool empty)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t done = 0, n, k;
	uint8_t *d;
	int rc;

	if (len == 0)
		return;
	while (done < len) {
		n = RTE_MIN(len - done, chunk);
		m = rte_pktmbuf_alloc(pkt_pool);
		if (m == NULL)
			break;
		d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
		check(d != NULL);
		for (k = 0; k < n; k++)
			d[k] = app_byte(s->tx_off + done + k);
		if (head == NULL) {
			head = m;
		} else if (rte_pktmbuf_chain(head, m) != 0) {
			rte_pktmbuf_free(m);
			break;
		}
		done += n;
		if (empty && done < len && (m = rte_pktmbuf_alloc(pkt_pool)) != NULL &&
		    rte_pktmbuf_chain(head, m) != 0)
			rte_pktmbuf_free(m);
	}
	if (head == NULL)
		return;
	rc = wg_tcp_send(s->c, head);
	if (rc == 0) {
		s->tx_off += done;
	} else {
		check(rc == -EAGAIN || rc == -ENOTCONN || rc == -EPIPE);
		rte_pktmbuf_free(head);
	}
}

static int
app_accept(struct wg_tcp_conn *c, void *arg, void **app)
{
	struct slot *s;

	(void)arg;
	check(c->state == WG_TCP_ESTABLISHED);
	if (mode & 0x40)
		return -1;
	s = slot_new(c);
	if (s == NULL)
		return -1;
	*app = s;
	return 0;
}

static void
app_connect(struct wg_tcp_conn *c, int err)
{
	struct slot *s = c->app_ctx;

	check(err == 0 || err == -ECONNREFUSED || err == -ETIMEDOUT || err == -ECONNRESET);
	if (err == 0) {
		check(c->state == WG_TCP_ESTABLISHED);
		s->rx_next = c->rcv_nxt;
		return;
	}
	slot_drop(c);
	if (mode & 0x80) {
		/* TCP's now: both must be harmless */
		check(wg_tcp_close(c) == -ENOTCONN);
		wg_tcp_abort(c);
	}
}

static void
app_data(struct wg_tcp_conn *c, struct rte_mbuf *m)
{
	struct slot *s = c->app_ctx;
	const struct rte_mbuf *seg;
	uint32_t len = m->pkt_len, seq, n = 0;
	uint16_t i, segs = 0;

	check(s != NULL && s->c == c);
	check(len > 0);
	for (seg = m; seg != NULL; seg = seg->next) {
		segs++;
		n += seg->data_len;
	}
	check(segs == m->nb_segs && n == len);
	/* in order, no gap, no repeat */
	seq = c->rcv_nxt - len;
	check(seq == s->rx_next);
	s->rx_next = c->rcv_nxt;
	if (!tainted)
		for (seg = m; seg != NULL; seg = seg->next)
			for (i = 0; i < seg->data_len; i++)
				check(rte_pktmbuf_mtod(seg, const uint8_t *)[i] == peer_byte(seq++));
	rte_pktmbuf_free(m);
	if (mode & 0x01)
		s->held += len;
	else
		wg_tcp_recv_done(c, len);
	if (mode & 0x10)
		app_send(s, len, 1000, false);
	if (mode & 0x02) {
		slot_drop(c);
		wg_tcp_abort(c);
	} else if (mode & 0x04) {
		wg_tcp_close(c);
	}
}

static void
app_eof(struct wg_tcp_conn *c)
{
	check(c->state == WG_TCP_CLOSE_WAIT && wg_tcp_peer_closed(c));
	check(((struct slot *)c->app_ctx)->c == c);
	if (mode & 0x08)
		check(wg_tcp_close(c) == 0);
}

static void
app_writable(struct wg_tcp_conn *c)
{
	struct slot *s = c->app_ctx;

	check(s != NULL && s->c == c);
	check(wg_tcp_send_space(c) > 0);
	if (mode & 0x20)
		app_send(s, RTE_MIN(wg_tcp_send_space(c), 3000u), 1460, false);
}

static void
app_closed(struct wg_tcp_conn *c, int reason)
{
	check(reason == 0 || reason == -ECONNRESET || reason == -ETIMEDOUT);
	slot_drop(c);
	if (mode & 0x80)
		check(wg_tcp_close(c) == -ENOTCONN);
}

static const struct wg_tcp_ops app_ops = {
	.on_accept = app_accept,
	.on_connect = app_connect,
	.on_data = app_data,
	.on_eof = app_eof,
	.on_writable = app_writable,
	.on_closed = app_closed,
};

/* ---- invariants ---- */

/* The scoreboard: sorted, disjoint ranges with gaps between them, all
 * inside what is outstanding, their byte count right; the recovery
 * variables inside the send sequence space. */
static void
check_sack(const struct wg_tcp_conn *c)
{
	const struct wg_tcp_sack *sb = &c->sack;
	uint32_t sum = 0;
	unsigned int i;

	check(sb->n <= WG_TCP_SACK_RANGES);
	if (!(c->flags & WG_TCPF_SACK)) {
		check(sb->n == 0 && sb->sacked == 0);
		return;
	}
	for (i = 0; i < sb->n; i++) {
		check(seq_lt(sb->r[i].start, sb->r[i].end));
		check(seq_gt(sb->r[i].start, c->snd_una) && seq_le(sb->r[i].end, c->snd_max));
		if (i > 0)
			check(seq_lt(sb->r[i - 1].end, sb->r[i].start));
		sum += sb->r[i].end - sb->r[i].start;
	}
	check(sum == sb->sacked);
	check(sb->sacked <= c->snd_max - c->snd_una);
	if (c->state >= WG_TCP_ESTABLISHED) {
		check(seq_ge(sb->high_rxt, c->iss) && seq_le(sb->high_rxt, c->snd_max));
		check(seq_ge(sb->lost_end, c->iss) && seq_le(sb->lost_end, c->snd_max));
	}
	check((c->flags & (WG_TCPF_FASTREC | WG_TCPF_LOSSREC)) !=
	      (WG_TCPF_FASTREC | WG_TCPF_LOSSREC));
	check(!((c->flags & WG_TCPF_TLP) && (c->flags & WG_TCPF_FASTREC)));
	if (c->flags & WG_TCPF_TLP)
		check(seq_le(sb->tlp_high, c->snd_max));
	if (c->timer_kind == WG_TCPT_TLP)
		check(c->flags & WG_TCPF_SACK);
	/* SACK recovery resends by high_rxt, sends new data at snd_max */
	if (c->flags & WG_TCPF_FASTREC)
		check(c->snd_nxt == c->snd_max);
}

static void
check_conn(struct wg_tcp_conn *c)
{
	const struct rte_mbuf *m;
	uint32_t q = 0, extra;
	bool outstanding;

	check(c->state > WG_TCP_LISTEN && c->state < WG_TCP_NSTATES);
	check(seq_le(c->snd_una, c->snd_nxt) && seq_le(c->snd_nxt, c->snd_max));
	/* the send queue: bytes from snd_una on */
	for (m = c->sndq_head; m != NULL; m = m->next) {
		q += m->data_len;
		if (m->next == NULL)
			check(m == c->sndq_tail);
	}
	if (c->sndq_head == NULL)
		check(c->sndq_tail == NULL && c->sndq_bytes == 0 && c->sndq_off == 0);
	else
		check(c->sndq_off < c->sndq_head->data_len || c->sndq_head->data_len == 0);
	check(q - c->sndq_off == c->sndq_bytes);
	check(c->sndq_bytes <= ctx.conf.snd_buf);
	/* what was sent is data, the FIN, or the SYN */
	extra = ((c->flags & WG_TCPF_FIN_SENT) ? 1 : 0) +
		((c->state == WG_TCP_SYN_SENT || c->state == WG_TCP_SYN_RCVD) ? 1 : 0);
	check(c->snd_max - c->snd_una <= c->sndq_bytes + extra);
	if (c->flags & WG_TCPF_FIN_SENT)
		check(c->flags & (WG_TCPF_FIN_QUEUED) || c->snd_una == c->snd_max);
	/* receive side */
	check(c->rcv_held <= ctx.conf.rcv_buf);
	if (c->state >= WG_TCP_ESTABLISHED)
		check(seq_le(c->rcv_nxt, c->rcv_adv));
	check(c->reass == NULL || c->reass->n > 0);
	if (c->reass != NULL)
		check(c->reass->bytes <= ctx.conf.ooo_max + 1460 &&
		      seq_le(c->rcv_nxt + c->reass->bytes, c->rcv_adv));
	/* something outstanding always has a timer that will act on it */
	outstanding = c->snd_una != c->snd_max || c->sndq_bytes > 0 ||
		      (c->flags & WG_TCPF_FIN_QUEUED);
	if (c->state == WG_TCP_TIME_WAIT) {
		check(c->timer_kind == WG_TCPT_TIMEWAIT && wg_tw_pending(&c->timer));
		check(c->snd_una == c->snd_max && c->sndq_head == NULL);
	} else if (c->state == WG_TCP_SYN_SENT || c->state == WG_TCP_SYN_RCVD) {
		check(c->timer_kind == WG_TCPT_RTX && wg_tw_pending(&c->timer));
	} else if (outstanding) {
		check((c->timer_kind == WG_TCPT_RTX || c->timer_kind == WG_TCPT_PERSIST ||
		       c->timer_kind == WG_TCPT_TLP || c->timer_kind == WG_TCPT_REO) &&
		      wg_tw_pending(&c->timer));
	} else if (c->state == WG_TCP_FIN_WAIT_2) {
		check(c->timer_kind == WG_TCPT_TIMEWAIT && wg_tw_pending(&c->timer));
	}
	if (wg_tw_pending(&c->timer))
		check(c->timer_kind != WG_TCPT_NONE);
	check(!(c->flags & WG_TCPF_KILL));
	check_sack(c);
	check(c->snd_wscale <= WG_TCP_MAX_WSCALE && c->rcv_wscale <= WG_TCP_OUR_WSCALE_MAX);
	check(c->mss >= 52);
}

static void
check_all(void)
{
	struct wg_tcp_conn *conns[MAX_CONNS + 1], *c;
	unsigned int n = 0, est = 0, tw = 0, syn = 0, timers = 0, delacks = 0, reass = 0, b, i, j;

	check(ctx.busy == NULL);
	for (b = 0; b <= ctx.bucket_mask; b++)
		for (c = ctx.buckets[b]; c != NULL; c = c->hnext) {
			check(n < MAX_CONNS);
			conns[n++] = c;
			check_conn(c);
			est += c->state == WG_TCP_ESTABLISHED || c->state == WG_TCP_CLOSE_WAIT;
			tw += c->state == WG_TCP_TIME_WAIT;
			syn += c->state == WG_TCP_SYN_RCVD;
			timers += wg_tw_pending(&c->timer);
			delacks += wg_tw_pending(&c->delack);
			reass += c->reass != NULL;
		}
	check(ctx.st.conns == n && rte_mempool_in_use_count(ctx.conn_pool) == n);
	check(ctx.st.established == est && ctx.st.timewait == tw && ctx.st.synrcvd == syn);
	check(ctx.tw.pending == timers && ctx.tw_delack.pending == delacks);
	check(rte_mempool_in_use_count(ctx.reass_pool) == reass);
	check(ctx.st.timewait <= ctx.conf.max_timewait);
	/* the app holds only live connections that are still its own */
	for (i = 0; i < NSLOT; i++) {
		if (slots[i].c == NULL)
			continue;
		for (j = 0; j < n && conns[j] != slots[i].c; j++)
			;
		check(j < n);
		check(slots[i].c->app_ctx == &slots[i]);
		check(!(slots[i].c->flags & WG_TCPF_APP_GONE));
		check(slots[i].held == slots[i].c->rcv_held);
	}
	/* nothing sent beyond snd_max (the same connection, not a successor) */
	for (i = 0; i < n_sent; i++) {
		for (j = 0; j < n && conns[j] != sent[i].c; j++)
			;
		if (j < n && sent[i].c->iss == sent[i].iss)
			check(seq_le(sent[i].end, sent[i].c->snd_max));
	}
	n_sent = 0;
}

/* ---- the peer ---- */

static const uint8_t flag_table[16] = {
	TCP_ACK, TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN, TCP_ACK | TCP_FIN | TCP_PSH,
	TCP_SYN, TCP_SYN | TCP_ACK, TCP_RST, TCP_RST | TCP_ACK, TCP_ACK, TCP_FIN, 0,
	TCP_ACK | TCP_URG, TCP_ACK | TCP_PSH, TCP_ACK, TCP_ACK | TCP_ECE,
};
static const uint16_t len_table[16] = {
	0, 0, 0, 1, 2, 7, 100, 500, 536, 1000, 1387, 1388, 1400, 1448, 1460, 1460,
};
static const uint32_t scale_table[4] = { 1, 64, 1460, 65536 };
static const uint16_t mss_table[4] = { 0, 536, 1460, 9000 };

/* SACK blocks a receiver missing some of our segments would send: whole
 * segments counted from our snd_una (1 to 14 up, 1 to 4 long), and now and
 * then a D-SACK below it or a block past what was sent - so the sender's
 * scoreboard, loss detection and recovery see real shapes, not only junk. */
static void
sack_blocks(const struct peer *p, const uint8_t *op, uint32_t ack, struct wg_tcp_opts *o)
{
	struct wg_tcp_conn *c = conn_of_peer(p);
	uint32_t base = c != NULL ? c->snd_una : ack, unit = c != NULL ? c->mss : 1460;
	uint64_t x = 0, r;
	unsigned int k;

	memcpy(&x, op, 8);
	r = x * 0x9e3779b97f4a7c15ull;
	r ^= r >> 29;
	o->flags |= WG_TCPOPT_F_SACK;
	o->n_sack = (uint8_t)(1 + (r & 3));
	r >>= 2;
	for (k = 0; k < o->n_sack; k++, r >>= 6) {
		uint32_t a = r & 15, b = (r >> 4) & 3;

		if (a == 0) {
			/* a D-SACK: a segment already ACKed */
			o->sack[k].start = base - (b + 1) * unit;
			o->sack[k].end = o->sack[k].start + unit;
		} else if (a == 15 && c != NULL) {
			/* beyond snd_max: forged or broken */
			o->sack[k].start = c->snd_max - unit / 2;
			o->sack[k].end = c->snd_max + (b + 1) * unit;
		} else {
			o->sack[k].start = base + a * unit;
			o->sack[k].end = o->sack[k].start + (b + 1) * unit;
		}
	}
}

static void
peer_segment(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, const uint8_t *op,
	     uint32_t len)
{
	struct peer *p = &peers[cur];
	struct rte_mbuf *m;
	struct wg_tcp_opts o;
	struct wg_pkt_info info;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint8_t optbuf[44], *d;
	unsigned int olen = 0, k;
	uint32_t rx_flags = 0;

	if (p->lport == 0)
		return;
	m = rte_pktmbuf_alloc(pkt_pool);
	if (m == NULL)
		return;
	memset(&o, 0, sizeof(o));
	p->ts_val += 7;
	if (op[5] & 0x10) {
		o.flags |= WG_TCPOPT_F_TS;
		o.ts_val = (op[5] & 0x80) ? p->ts_val - 100000 : p->ts_val;
		o.ts_ecr = p->ts_ecr;
	}
	if (flags & TCP_SYN) {
		if (op[5] & 0x20)
			o.flags |= WG_TCPOPT_F_SACK_PERM;
		if (op[5] & 0x40) {
			o.flags |= WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE;
			o.mss = mss_table[(op[7] >> 2) & 3];
			o.wscale = op[7] >> 4;
		}
		olen = wg_tcp_opts_build_syn(optbuf, &o);
	} else {
		if ((op[5] & 0x60) == 0x20) {
			o.flags |= WG_TCPOPT_F_SACK;
			o.n_sack = 2;
			o.sack[0].start = ack + (uint32_t)op[2] * 8;
			o.sack[0].end = o.sack[0].start + 1 + op[3] * 4u;
			o.sack[1].start = ack - 100;
			o.sack[1].end = ack + 5000;
		} else if (op[5] & 0x20) {
			sack_blocks(p, op, ack, &o);
		}
		olen = wg_tcp_opts_build(optbuf, &o);
	}
	if ((op[6] & 0x10) && olen <= 36) {
		/* raw bytes: whatever the parser makes of them */
		memcpy(optbuf + olen, &op[1], 4);
		olen += 4;
	}
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN + 40 + olen + len));
	check(d != NULL);
	memcpy(d, ifc.mac, 6);
	memcpy(d + 6, peer_mac, 6);
	*(uint16_t *)(d + 12) = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(d + RTE_ETHER_HDR_LEN);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(40 + olen + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = PEER_IP;
	ip->dst_addr = OUR_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(p->pport);
	th->dst_port = rte_cpu_to_be_16(p->lport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)(((20 + olen) / 4) << 4);
	if (op[6] & 0x08)
		th->data_off = (uint8_t)(op[4] & 0xf0);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->tcp_urp = 0;
	th->cksum = 0;
	memcpy(th + 1, optbuf, olen);
	for (k = 0; k < len; k++)
		((uint8_t *)(th + 1))[olen + k] = peer_byte(seq + ((flags & TCP_SYN) ? 1 : 0) + k) ^
						   ((op[6] & 0x04) ? 0x5a : 0);
	/* a wrong data offset moves where the payload seems to start (and
	 * makes options into payload) */
	if (((op[6] & 0x04) && len > 0) || (op[6] & 0x08))
		tainted = true;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	if (op[6] & 0x01)
		th->cksum ^= 0x0100;
	if (op[6] & 0x02)
		rx_flags = (op[6] & 0x01) ? WG_RX_L4_CSUM_BAD : WG_RX_L4_CSUM_GOOD;
	info.l3_off = RTE_ETHER_HDR_LEN;
	info.l3_len = 20;
	info.l4_off = RTE_ETHER_HDR_LEN + 20;
	info.l4_len = (uint16_t)(20 + olen + len);
	info.src_ip = PEER_IP;
	info.dst_ip = OUR_IP;
	wg_tcp_input(&ctx, 0, m, &info, rx_flags);
}

static void
op_segment(const uint8_t *op)
{
	struct peer *p = &peers[cur];
	struct wg_tcp_conn *c = conn_of_peer(p);
	uint8_t flags = (op[1] & 0x80) ? (uint8_t)(op[1] & 0x7f) : flag_table[op[1] & 15];
	uint32_t seq, ack, base;
	uint16_t wnd = op[4] < 16 ? op[4] : (uint16_t)(op[4] * 257);
	int32_t sd = (int8_t)op[2], ad = (int8_t)op[3];

	if (c == NULL || c->state == WG_TCP_SYN_SENT) {
		base = p->isn + ((flags & TCP_SYN) ? 0 : 1);
		ack = c != NULL ? c->iss + 1 : p->synack + 1;
	} else {
		switch (op[0] >> 6) {
		case 0: base = c->rcv_nxt; break;
		case 1: base = c->rcv_adv; break;
		case 2: base = c->irs; break;
		default: base = c->rcv_nxt - 1; break;
		}
		switch (op[7] & 3) {
		case 0: ack = c->snd_max; break;
		case 1: ack = c->snd_una; break;
		case 2: ack = c->snd_nxt; break;
		default: ack = c->iss + 1; break;
		}
	}
	seq = base + (uint32_t)(sd * (int32_t)scale_table[(op[0] >> 4) & 3]);
	ack += (uint32_t)(ad * (int32_t)scale_table[(op[6] >> 5) & 3]);
	peer_segment(flags, seq, ack, wnd, op, len_table[op[5] & 15]);
}

static void
op_ack_all(const uint8_t *op)
{
	struct wg_tcp_conn *c = conn_of_peer(&peers[cur]);
	uint8_t o2[8] = { 0, 0, 0, 0, 0, 0x10, 0, 0 };

	if (c == NULL || c->state == WG_TCP_SYN_SENT)
		return;
	peer_segment(TCP_ACK, c->rcv_nxt, c->snd_max, op[4] < 16 ? op[4] : (uint16_t)(op[4] * 257),
		     o2, 0);
}

static struct slot *
app_slot(void)
{
	struct wg_tcp_conn *c = conn_of_peer(&peers[cur]);
	struct slot *s;

	if (c == NULL || (c->flags & WG_TCPF_APP_GONE) || c->ops != &app_ops)
		return NULL;
	s = c->app_ctx;
	if (s < slots || s >= slots + NSLOT || s->c != c)
		return NULL;   /* still the listener's (SYN_RCVD) */
	return s;
}

static void
advance(uint32_t ms)
{
	uint32_t step = ms <= 100 ? 1 : ms / 100;

	while (ms > 0) {
		now += RTE_MIN(step, ms);
		ms -= RTE_MIN(step, ms);
		wg_tcp_timers(&ctx, now);
	}
}

static void
trace(const uint8_t *op)
{
	struct wg_tcp_conn *c;
	unsigned int b, i;

	fprintf(stderr, "op");
	for (i = 0; i < 8; i++)
		fprintf(stderr, " %02x", op[i]);
	fprintf(stderr, " peer %u now %llu\n", cur, (unsigned long long)now);
	for (b = 0; b <= ctx.bucket_mask; b++)
		for (c = ctx.buckets[b]; c != NULL; c = c->hnext) {
			fprintf(stderr, "   %p flags %04x timer %u%s rcv_adv %u reass %u ", (void *)c,
				c->flags, c->timer_kind, wg_tw_pending(&c->timer) ? "+" : "",
				c->rcv_adv - c->irs, c->reass ? c->reass->bytes : 0);
			wg_tcp_conn_dump(stderr, c);
		}
	for (i = 0; i < NSLOT; i++)
		if (slots[i].c != NULL)
			fprintf(stderr, "   slot %u: %p\n", i, (void *)slots[i].c);
}

static void
run_op(const uint8_t *op)
{
	static const uint32_t chunks[4] = { 1000, 1460, 7, 1 };
	struct wg_tcp_conn *c;
	struct slot *s;
	uint32_t len, ms;

	switch (op[0] & 15) {
	case 8:
		ms = op[1];
		if (op[2] & 1)
			ms *= 10;
		if (op[2] & 2)
			ms *= 100;
		advance(ms);
		break;
	case 9:
		if ((s = app_slot()) == NULL)
			break;
		len = (op[1] | (uint32_t)op[2] << 8) % 9000;
		if (chunks[op[3] & 3] < 100)
			len = RTE_MIN(len, 64u);
		app_send(s, len, chunks[op[3] & 3], op[3] & 4);
		break;
	case 10:
		if ((s = app_slot()) == NULL)
			break;
		c = s->c;
		/* before the handshake is done, close gives the connection up
		 * at once, with no callback */
		if (c->state == WG_TCP_SYN_SENT || c->state == WG_TCP_SYN_RCVD)
			s->c = NULL;
		wg_tcp_close(c);
		break;
	case 11:
		if ((s = app_slot()) == NULL)
			break;
		len = op[1] == 0 ? s->held : (uint32_t)op[1] * 64;
		s->held -= RTE_MIN(len, s->held);
		wg_tcp_recv_done(s->c, len);
		break;
	case 12:
		if ((s = app_slot()) == NULL)
			break;
		c = s->c;
		s->c = NULL;
		wg_tcp_abort(c);
		break;
	case 13:
		for (s = slots; s < slots + NSLOT && s->c != NULL; s++)
			;
		if (s == slots + NSLOT)
			break;
		memset(s, 0, sizeof(*s));
		c = wg_tcp_connect(&ctx, 0, PEER_IP, rte_cpu_to_be_16(CONN_PORT), peer_mac,
				   &app_ops, s);
		if (c == NULL)
			break;
		s->c = c;
		/* the newest active open is the one peer 4 talks to */
		peers[4].lport = rte_be_to_cpu_16(c->lport);
		peers[4].synack = 0;
		break;
	case 14:
		cur = op[1] % NPEER;
		break;
	case 15:
		if (op[1] & 1)
			mode = op[2];
		else
			op_ack_all(op);
		break;
	default:
		op_segment(op);
		break;
	}
	if (verbose)
		trace(op);
	check_all();
}

/* ---- set-up ---- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=error", prefix, NULL };
	struct wg_tcp_conf conf;

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fz%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		abort();
	/* with no shared config EAL keeps nothing in its runtime directory */
	rmdir(rte_eal_get_runtime_dir());
	pkt_pool = rte_pktmbuf_pool_create_by_ops("fz_pkt", POOL_SIZE, 0, 0,
						  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY,
						  "fz_poison");
	if (pkt_pool == NULL)
		abort();
	memset(&ifc, 0, sizeof(ifc));
	memcpy(ifc.mac, (const uint8_t[]){ 0x02, 0, 0, 0, 0, 0x02 }, 6);
	ifc.ipv4 = OUR_IP;
	ifc.mtu = 1500;
	wg_tcp_conf_defaults(&conf);
	conf.max_conns = MAX_CONNS;
	conf.hash_buckets = 16;
	if (wg_tcp_ctx_init(&ctx, &conf, "fz", SOCKET_ID_ANY, &ifc, 1, pkt_pool, tx, NULL) != 0)
		abort();
	/* the same pools, poisoning */
	rte_mempool_free(ctx.conn_pool);
	rte_mempool_free(ctx.reass_pool);
	ctx.conn_pool = fz_pool("fz_conn", MAX_CONNS, sizeof(struct wg_tcp_conn));
	ctx.reass_pool = fz_pool("fz_reass", 16, sizeof(struct wg_reass));
	rte_mempool_obj_iter(pkt_pool, poison_obj, NULL);
	rte_mempool_obj_iter(ctx.conn_pool, poison_obj, NULL);
	rte_mempool_obj_iter(ctx.reass_pool, poison_obj, NULL);
	poison_on = true;
	verbose = getenv("FZ_VERBOSE") != NULL;
	if (wg_tcp_listen(&ctx, APP_PORT, &app_ops, NULL) != 0 ||
	    wg_svc_echo_listen(&ctx, ECHO_PORT, DISC_PORT) != 0)
		abort();
	return 0;
}

static void
reset(const uint8_t *h)
{
	static const uint32_t backlog[4] = { 0, 1, 4, 1024 };
	static const uint32_t tw_max[4] = { 0, 1, 2, 1000 };
	static const uint16_t our_mss[4] = { 536, 1000, 1448, 1460 };
	static const uint32_t keepalive[4] = { 0, 300, 1000, 3000 };
	struct wg_tcp_conf *cf = &ctx.conf;
	uint32_t isn = (uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8;
	unsigned int i;

	cf->rcv_buf = 1u << (12 + (h[0] & 7) % 7);
	cf->snd_buf = 1u << (12 + ((h[0] >> 3) & 3));
	ifc.flags = (h[0] & 0x20) ? WG_IFACE_F_TX_IP_CSUM | WG_IFACE_F_TX_L4_CSUM : 0;
	cf->ooo_max = 1u << (10 + (h[1] & 7));
	cf->syn_backlog = backlog[(h[1] >> 3) & 3];
	cf->max_timewait = tw_max[(h[1] >> 5) & 3];
	cf->keepalive_ms = keepalive[h[2] & 3];
	cf->keepalive_probes = 1 + ((h[2] >> 2) & 3);
	cf->keepalive_intvl_ms = 200;
	cf->challenge_ack_per_s = 1 + (h[2] >> 4);
	cf->mss = our_mss[h[3] & 3];
	cf->rto_initial_ms = 200;
	cf->rto_min_ms = 50;
	cf->rto_max_ms = 2000;
	cf->max_retries = 4;
	cf->syn_retries = 2;
	cf->delack_ms = 40;
	cf->timewait_ms = 1000;
	cf->fin_wait2_ms = 1500;
	mode = h[4];
	/* ms clock: the cookie period boundary (64 s) is near for some */
	now = T0 + (uint64_t)(h[0] >> 6) * 63990;
	ctx.now_ms = now;
	wg_tw_init(&ctx.tw, now);
	wg_tw_init(&ctx.tw_delack, now);
	memset(&ctx.st, 0, sizeof(ctx.st));
	ctx.challenge_tokens = cf->challenge_ack_per_s;
	ctx.challenge_refill_ms = now;
	ctx.pressure = 0;
	for (i = 0; i < 4; i++)
		ctx.secret[i] = 0x0123456789abcdefull * (i + 1);
	memset(peers, 0, sizeof(peers));
	for (i = 0; i < NPEER; i++) {
		peers[i].pport = (uint16_t)(40000 + i);
		peers[i].isn = isn + i * 0x01000000u;
		peers[i].ts_val = 1000 * (i + 1);
	}
	peers[0].lport = peers[1].lport = APP_PORT;
	peers[2].lport = ECHO_PORT;
	peers[3].lport = DISC_PORT;
	peers[4].lport = 0;                  /* until an active open */
	peers[4].pport = CONN_PORT;
	cur = 0;
	memset(slots, 0, sizeof(slots));
	tainted = false;
	n_sent = 0;
	n_reserve = POOL_SIZE - (unsigned int[]){ POOL_SIZE, 1100, 300, 40 }[(h[3] >> 2) & 3];
	if (rte_pktmbuf_alloc_bulk(pkt_pool, reserve, n_reserve) != 0)
		abort();
}

/* The app gives up what it has, the peer resets what the services hold,
 * then the clock runs until TCP has let go of the rest (TIME_WAIT). */
static void
finish(void)
{
	static const uint8_t rst_op[8] = { 0 };
	struct wg_tcp_conn *c;
	unsigned int i, b;
	bool again;

	/* the pool recovers: the peer's RSTs must get through */
	for (i = 0; i < n_reserve; i++)
		rte_pktmbuf_free(reserve[i]);
	n_reserve = 0;
	for (i = 0; i < NSLOT; i++) {
		if ((c = slots[i].c) == NULL)
			continue;
		slots[i].c = NULL;
		wg_tcp_abort(c);
		check_all();
	}
	for (i = 0; i < 4 * MAX_CONNS; i++) {
		again = false;
		for (b = 0; b <= ctx.bucket_mask && !again; b++)
			for (c = ctx.buckets[b]; c != NULL; c = c->hnext) {
				struct peer *p = peer_of(rte_be_to_cpu_16(c->lport),
							 rte_be_to_cpu_16(c->rport));

				if (c->state == WG_TCP_TIME_WAIT)
					continue;
				if (p == NULL && c->rport == rte_cpu_to_be_16(CONN_PORT)) {
					/* an older active open */
					p = &peers[4];
					p->lport = rte_be_to_cpu_16(c->lport);
				}
				check(p != NULL);
				cur = (unsigned int)(p - peers);
				if (c->state == WG_TCP_SYN_SENT)
					peer_segment(TCP_RST | TCP_ACK, 0, c->snd_max, 0, rst_op, 0);
				else
					peer_segment(TCP_RST, c->rcv_nxt, 0, 0, rst_op, 0);
				check_all();
				again = true;
				break;
			}
		if (!again)
			break;
	}
	check(!again);   /* an exact RST always resets */
	for (i = 0; i < 1000 && ctx.st.conns > 0; i++) {
		advance(100);
		check_all();
	}
	if (verbose) {
		const char *names[64];
		uint64_t values[64];
		unsigned int n = wg_tcp_stats_list(&ctx.st, names, values, 64);

		for (i = 0; i < n && i < 64; i++)
			if (values[i] != 0)
				fprintf(stderr, "  %s %llu\n", names[i], (unsigned long long)values[i]);
	}
	check(ctx.st.conns == 0);
	check(rte_mempool_in_use_count(ctx.conn_pool) == 0);
	check(rte_mempool_in_use_count(ctx.reass_pool) == 0);
	check(ctx.tw.pending == 0 && ctx.tw_delack.pending == 0);
	/* every mbuf we or TCP took went back */
	check(rte_mempool_in_use_count(pkt_pool) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t defaults[8] = { 0x03, 0x5f, 0x00, 0x03, 0x00, 0, 0, 0 };
	size_t i;

	reset(size >= 8 ? data : defaults);
	for (i = 8; i + 8 <= size; i += 8)
		run_op(data + i);
	finish();
	return 0;
}
