/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for the out-of-order queue (tcp_reass.c) on real mbufs.
 *
 * Input: a 4-byte header, then 5-byte operations.
 *   header: [0] base kind (bits 0-1: random, just below 2^32, just below
 *           2^31, or 0) with [1] as its parameter; [2] byte cap
 *           (0: 1 MiB, else 16 * [2]); [3] stream length 16 * ([3] + 1).
 *   op [0] bits 0-2: 0-3 insert, 4 pop, 5 caller delivers in-order data
 *           itself, 6 set window, 7 SACK with a small max.
 *   insert: start = rcv_nxt - 256 + ([1] | ([2] & 0xf) << 8) (clamped to
 *           the stream), length 1 + ([3] | ([2] >> 4) << 8); op bit 3: the
 *           bytes are XORed with [4] (so they may differ from held ones),
 *           bit 4: passed as an indirect clone (not writable), bits 5-6:
 *           chain shape (default headroom, no tailroom, sizes and offsets
 *           from a PRNG seeded with the op, one byte per mbuf).
 * Each input starts from fresh state. After every operation the queue is
 * checked against a model (a bitmap of held stream bytes and the fill each
 * was queued with): exact counter movements, held set and bytes, SACK
 * blocks and their order, bytes popped. The parents of the last few clones
 * are kept and their bytes checked when let go: shared buffers must never
 * be written. At the end, after a flush, the pool's in-use count must be
 * zero. Any violation aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tcp_reass.h"
#include "../eal_runtime.h"

#define MAXL       4096
#define POOL_SIZE  32767
#define BIG        (1u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *mp;

static struct wg_reass q;
static struct wg_reass_stats st;

static struct {
	uint32_t base, len, r, wnd;
	int64_t last_pos;          /* the first SACK block holds it, if >= r */
	bool held[MAXL];
	uint8_t fill[MAXL];
} md;

#define check(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

static uint8_t
ref(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return (uint8_t)x;
}

static uint8_t
md_byte(uint32_t p)
{
	return ref(md.base + p) ^ md.fill[p];
}

static void
at_exit(void)
{
	rte_mempool_free(mp);
	rte_eal_cleanup();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=error", prefix, NULL };

	(void)argc;
	(void)argv;
	/* --no-shconf rather than --in-memory: DPDK 22.11 refuses the latter
	 * with --no-huge */
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzzreass%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		abort();
	/* with no shared config EAL keeps nothing in its runtime directory;
	 * removed now, no crash can leave it behind */
	rmdir(rte_eal_get_runtime_dir());
	mp = rte_pktmbuf_pool_create("fuzz_reass", POOL_SIZE, 0, 0, RTE_PKTMBUF_HEADROOM + 128,
				     SOCKET_ID_ANY);
	if (mp == NULL)
		abort();
	atexit(at_exit);
	return 0;
}

/* ---- segments ---- */

static struct rte_mbuf *
build(uint32_t seq, uint32_t len, uint8_t fill, unsigned int shape, uint32_t seed)
{
	struct rte_mbuf *head = NULL, *tail = NULL, *s;
	uint32_t done = 0, chunk, room, i;
	uint16_t nb = 0;

	if (shape == 3 && len > 64)
		shape = 2;
	do {
		s = rte_pktmbuf_alloc(mp);
		check(s != NULL);
		room = s->buf_len;
		seed = seed * 1103515245u + 12345u;
		switch (shape) {
		case 0:
			chunk = RTE_MIN(len - done, room - RTE_PKTMBUF_HEADROOM);
			s->data_off = RTE_PKTMBUF_HEADROOM;
			break;
		case 1:
			chunk = RTE_MIN(len - done, room - RTE_PKTMBUF_HEADROOM);
			s->data_off = (uint16_t)(room - chunk);
			break;
		case 2:
			chunk = RTE_MIN(len - done, room);
			if (chunk > 0)
				chunk = (seed >> 8) % 8 == 0 && done > 0 ? 0 :
					1 + (seed >> 12) % chunk;
			s->data_off = (uint16_t)((seed >> 20) % (room - chunk + 1));
			break;
		default:
			chunk = RTE_MIN(len - done, 1u);
			s->data_off = (uint16_t)(room - 1);
			break;
		}
		for (i = 0; i < chunk; i++)
			rte_pktmbuf_mtod(s, uint8_t *)[i] = ref(seq + done + i) ^ fill;
		s->data_len = (uint16_t)chunk;
		done += chunk;
		if (head == NULL)
			head = s;
		else
			tail->next = s;
		tail = s;
		nb++;
	} while (done < len);
	head->nb_segs = nb;
	head->pkt_len = len;
	return head;
}

static void
check_chain(const struct rte_mbuf *m)
{
	const struct rte_mbuf *s;
	uint32_t len = 0;
	unsigned int n = 0;

	for (s = m; s != NULL; s = s->next) {
		check(s->data_off + s->data_len <= s->buf_len);
		len += s->data_len;
		n++;
	}
	check(n == m->nb_segs);
	check(len == m->pkt_len);
}

static void
read_chain(const struct rte_mbuf *m, uint32_t len, uint8_t *out)
{
	const void *p = rte_pktmbuf_read(m, 0, len, out);

	check(p != NULL);
	if (p != out)
		memcpy(out, p, len);
}

/* ---- model checks ---- */

static void
check_q(void)
{
	static bool in_q[MAXL];
	static uint8_t got[MAXL];
	uint64_t bytes = 0;
	uint32_t k, i, p;

	check(q.n <= WG_REASS_MAX_SEGS);
	check(q.last == WG_REASS_LAST_NONE || q.last < q.n);
	memset(in_q, 0, sizeof(in_q));
	for (k = 0; k < q.n; k++) {
		const struct wg_reass_seg *g = &q.segs[k];

		check(g->len > 0 && g->len == g->m->pkt_len);
		check_chain(g->m);
		if (k > 0)
			check((int32_t)(g->seq - (g[-1].seq + g[-1].len)) >= 0);
		p = g->seq - md.base;
		check(p >= md.r && p < md.len && g->len <= md.len - p);
		read_chain(g->m, g->len, got);
		for (i = 0; i < g->len; i++) {
			in_q[p + i] = true;
			check(got[i] == md_byte(p + i));
		}
		bytes += g->len;
	}
	check(bytes == q.bytes);
	for (p = md.r; p < md.len; p++)
		check(in_q[p] == md.held[p]);
	/* over the cap only with data at rcv_nxt, waiting for its pop */
	check(q.bytes <= q.max_bytes || (md.r < md.len && md.held[md.r]));
}

static void
check_sack(unsigned int max)
{
	struct wg_tcp_sack_block b[WG_REASS_MAX_SEGS + 1];
	uint32_t runs[WG_REASS_MAX_SEGS][2];
	unsigned int nr = 0, nb, i, j, first = UINT32_MAX;
	uint32_t p, s;

	for (p = md.r; p < md.len;) {
		if (!md.held[p]) {
			p++;
			continue;
		}
		for (s = p; p < md.len && md.held[p]; p++)
			;
		check(nr < WG_REASS_MAX_SEGS);
		runs[nr][0] = s;
		runs[nr][1] = p;
		if (md.last_pos >= s && md.last_pos < p)
			first = nr;
		nr++;
	}
	if (max > WG_REASS_MAX_SEGS + 1)
		max = WG_REASS_MAX_SEGS + 1;
	nb = wg_reass_sack(&q, b, max);
	check(nb == RTE_MIN(nr, max));
	if (nb == 0)
		return;
	if (md.last_pos < md.r) {
		/* no constraint on the lead block: find it among the runs */
		for (first = 0; first < nr; first++)
			if (b[0].start == md.base + runs[first][0])
				break;
	} else {
		check(md.held[md.last_pos]);
	}
	check(first < nr);
	check(b[0].start == md.base + runs[first][0] && b[0].end == md.base + runs[first][1]);
	for (i = 1, j = nr; i < nb; i++) {
		if (--j == first)
			--j;
		check(b[i].start == md.base + runs[j][0] && b[i].end == md.base + runs[j][1]);
	}
}

/* ---- operations ---- */

static void
op_pop(void)
{
	static uint8_t got[MAXL];
	uint32_t rcv = md.base + md.r, i;
	struct rte_mbuf *m;

	while ((m = wg_reass_pop(&q, &rcv)) != NULL) {
		check_chain(m);
		check(m->pkt_len > 0 && m->pkt_len <= md.len - md.r);
		read_chain(m, m->pkt_len, got);
		for (i = 0; i < m->pkt_len; i++) {
			check(md.held[md.r + i]);
			check(got[i] == md_byte(md.r + i));
			md.held[md.r + i] = false;
		}
		md.r += m->pkt_len;
		check(rcv == md.base + md.r);
		rte_pktmbuf_free(m);
	}
	check(rcv == md.base + md.r);
	check(md.r == md.len || !md.held[md.r]);
}

static void
op_deliver(uint32_t k)
{
	uint32_t p;

	k = RTE_MIN(k, md.len - md.r);
	for (p = md.r; p < md.r + k; p++)
		md.held[p] = false;
	md.r += k;
	op_pop();
}

/* Parents of recent clones, kept alive to check that the queue never
 * writes into a buffer it shares. */
#define KEEP 8
static struct {
	struct rte_mbuf *m;
	uint32_t seq;
	uint8_t fill;
} kept[KEEP];
static unsigned int kept_next;

static void
release_parent(unsigned int k)
{
	const struct rte_mbuf *s;
	uint32_t off = 0, i;

	if (kept[k].m == NULL)
		return;
	for (s = kept[k].m; s != NULL; s = s->next)
		for (i = 0; i < s->data_len; i++, off++)
			check(rte_pktmbuf_mtod(s, const uint8_t *)[i] ==
			      (ref(kept[k].seq + off) ^ kept[k].fill));
	rte_pktmbuf_free(kept[k].m);
	kept[k].m = NULL;
}

/* The held set is read back from q and held to the prediction, which is
 * exact for writable chains; a clone may be cut short (keeps a part of the
 * fresh bytes), and data at rcv_nxt may push the highest held bytes out
 * when the entries are full. */
static void
op_insert(uint32_t a, uint32_t len, uint8_t fill, bool clone, unsigned int shape, uint32_t seed)
{
	static bool old_held[MAXL];
	uint32_t lo = RTE_MAX(a, md.r), hi = RTE_MIN(a + len, md.r + md.wnd), p, k, i;
	uint64_t dup, mm = 0, trimmed = 0, fresh = 0, gained = 0, lost = 0, bytes0 = q.bytes;
	int64_t top_kept = -1, first_lost = -1, old_top = -1;
	bool in_order = lo < hi && lo == md.r && !md.held[lo];
	struct wg_reass_stats st0 = st;
	struct wg_reass q0;
	struct rte_mbuf *m, *c;
	uint16_t n0 = q.n;
	int ret;

	dup = RTE_MIN(a + len, md.r) > a ? RTE_MIN(a + len, md.r) - a : 0;
	if (a + len > RTE_MAX(a, md.r + md.wnd))
		trimmed = a + len - RTE_MAX(a, md.r + md.wnd);
	for (p = lo; p < hi; p++) {
		if (md.held[p]) {
			dup++;
			mm += md.fill[p] != fill;
		} else {
			fresh++;
		}
	}
	memcpy(&q0, &q, sizeof(q));
	memcpy(old_held, md.held, sizeof(old_held));

	m = build(md.base + a, len, fill, shape, seed);
	if (clone) {
		c = rte_pktmbuf_clone(m, mp);
		check(c != NULL);
		release_parent(kept_next);
		kept[kept_next].m = m;
		kept[kept_next].seq = md.base + a;
		kept[kept_next].fill = fill;
		kept_next = (kept_next + 1) % KEEP;
		m = c;
	}
	ret = wg_reass_insert(&q, m, md.base + a, md.base + md.r, md.base + md.r + md.wnd, &st);

	if (ret == -ENOSPC) {
		check(!in_order && fresh > 0);
		if (!clone)
			check(bytes0 + fresh > q.max_bytes || n0 == WG_REASS_MAX_SEGS);
		check(memcmp(&q0, &q, sizeof(q)) == 0);
		st0.full_drops++;
		check(memcmp(&st0, &st, sizeof(st)) == 0);
		return;
	}
	check(ret == 0);
	check(st.dup_bytes - st0.dup_bytes == dup);
	check(st.trimmed_window - st0.trimmed_window == trimmed);
	check(st.overlap_mismatch - st0.overlap_mismatch == mm);

	for (p = md.r; p < md.len; p++)
		md.held[p] = false;
	for (k = 0; k < q.n; k++) {
		for (i = 0; i < q.segs[k].len; i++) {
			p = q.segs[k].seq - md.base + i;
			check(p >= md.r && p < md.len);
			md.held[p] = true;
			top_kept = p;
			if (!old_held[p]) {
				check(p >= lo && p < hi);
				md.fill[p] = fill;
				gained++;
			}
		}
	}
	for (p = md.r; p < md.len; p++) {
		if (!old_held[p])
			continue;
		old_top = p;
		if (!md.held[p]) {
			lost++;
			if (first_lost < 0)
				first_lost = p;
		}
	}
	if (lost > 0) {
		/* only for data at rcv_nxt, only when full, only from the top */
		check(in_order && n0 == WG_REASS_MAX_SEGS);
		check(first_lost > top_kept && (int64_t)lost == old_top - first_lost + 1);
	}
	check(st.full_drops - st0.full_drops == (lost > 0));
	if (clone) {
		check(gained <= fresh);
	} else {
		check(gained == fresh);
		check(fresh == 0 || in_order || bytes0 + fresh <= q.max_bytes);
	}
	check(st.queued - st0.queued == (gained > 0));
	check(q.bytes == bytes0 - lost + gained);
	if (lo < hi)
		md.last_pos = lo;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *o;
	size_t at;
	uint32_t a, len, seed;
	unsigned int max;
	int64_t start;

	if (size < 4)
		return 0;
	memset(&md, 0, sizeof(md));
	switch (data[0] & 3) {
	case 0:
		md.base = data[1] * 0x01010101u;
		break;
	case 1:
		md.base = 0xffffffffu - data[1] * 16u;
		break;
	case 2:
		md.base = 0x80000000u - data[1] * 16u;
		break;
	default:
		md.base = 0;
		break;
	}
	md.len = 16u * (data[3] + 1u);
	md.wnd = MAXL;
	md.last_pos = -1;
	wg_reass_init(&q, data[2] == 0 ? BIG : 16u * data[2]);
	memset(&st, 0, sizeof(st));

	for (at = 4; at + 5 <= size && md.r < md.len; at += 5) {
		o = data + at;
		switch (o[0] & 7) {
		case 4:
			op_pop();
			break;
		case 5:
			op_deliver(o[1] + 1u);
			break;
		case 6:
			md.wnd = RTE_MIN((uint32_t)(o[1] | o[2] << 8), 2u * MAXL);
			break;
		case 7:
			max = 1 + (o[1] & 7);
			check_sack(max);
			break;
		default:
			start = (int64_t)md.r - 256 + (o[1] | (o[2] & 0xf) << 8);
			a = (uint32_t)RTE_MAX(start, (int64_t)0);
			if (a >= md.len)
				break;
			len = RTE_MIN(1u + (o[3] | (o[2] >> 4) << 8), md.len - a);
			seed = o[0] | (uint32_t)o[1] << 8 | (uint32_t)o[3] << 16 | (uint32_t)o[4] << 24;
			op_insert(a, len, (o[0] & 8) ? o[4] : 0, (o[0] & 0x10) != 0,
				  (o[0] >> 5) & 3, seed);
			break;
		}
		check_q();
		check_sack(WG_REASS_MAX_SEGS + 1);
	}

	wg_reass_flush(&q);
	check(wg_reass_empty(&q) && q.bytes == 0);
	for (at = 0; at < KEEP; at++)
		release_parent((unsigned int)at);
	check(rte_mempool_in_use_count(mp) == 0);
	return 0;
}
