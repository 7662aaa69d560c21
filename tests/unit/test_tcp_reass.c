/* SPDX-License-Identifier: BSD-3-Clause
 * Out-of-order queue (tcp_reass.c) on real mbufs: an EAL without hugepages
 * and a pool with 128-byte data rooms, so that segments are chains. Data
 * comes from a reference stream (byte at seq x = ref(x)); a "fill" XORed
 * over it makes a copy whose bytes differ. Every test ends with the queue
 * flushed and the pool's in-use count back at zero, so any leak or double
 * free fails the test that caused it; each test also checks the queue's
 * invariants (sorted, disjoint, chain lengths, byte count) as it goes.
 *
 * The random workload keeps its own model of the queue (a bitmap of held
 * positions plus the fill each was queued with) and checks against it,
 * after every operation: each counter's exact movement, the set of held
 * bytes and their contents, the SACK blocks and their order, and the bytes
 * pop returns.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tcp_reass.h"
#include "../eal_runtime.h"

#define POOL_SIZE   16383
#define DATA_ROOM   (RTE_PKTMBUF_HEADROOM + 128)
#define BIG_WND     (1u << 20)
#define NO_FILL     0

static struct rte_mempool *mp;
static struct wg_reass q;
static struct wg_reass_stats st;
static uint64_t rng;

/* ---- reference stream, random numbers ---- */

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

static uint32_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t
rnd_below(uint32_t n)
{
	return n == 0 ? 0 : rnd() % n;
}

/* ---- building segments ---- */

enum shape {
	SHAPE_STD,     /* data at the default headroom, tailroom left over */
	SHAPE_TIGHT,   /* every mbuf filled to its end: no tailroom at all */
	SHAPE_RANDOM,  /* random mbuf sizes and offsets, sometimes empty mbufs */
};

static struct rte_mbuf *
build(const uint8_t *data, uint32_t len, enum shape shape)
{
	struct rte_mbuf *head = NULL, *tail = NULL, *s;
	uint32_t done = 0, chunk, room;
	uint16_t nb = 0;

	do {
		s = rte_pktmbuf_alloc(mp);
		assert_non_null(s);
		room = s->buf_len;
		switch (shape) {
		case SHAPE_STD:
			chunk = RTE_MIN(len - done, room - RTE_PKTMBUF_HEADROOM);
			s->data_off = RTE_PKTMBUF_HEADROOM;
			break;
		case SHAPE_TIGHT:
			chunk = RTE_MIN(len - done, room - RTE_PKTMBUF_HEADROOM);
			s->data_off = (uint16_t)(room - chunk);
			break;
		default:
			chunk = RTE_MIN(len - done, room);
			if (chunk > 0)
				chunk = rnd_below(8) == 0 && done > 0 ? 0 : 1 + rnd_below(chunk);
			s->data_off = (uint16_t)rnd_below(room - chunk + 1);
			break;
		}
		memcpy(rte_pktmbuf_mtod(s, uint8_t *), data + done, chunk);
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
fill_ref(uint8_t *buf, uint32_t seq, uint32_t len, uint8_t fill)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = ref(seq + i) ^ fill;
}

static struct rte_mbuf *
mkseg_shape(uint32_t seq, uint32_t len, uint8_t fill, enum shape shape)
{
	uint8_t *buf = malloc(len + 1);
	struct rte_mbuf *m;

	assert_non_null(buf);
	fill_ref(buf, seq, len, fill);
	m = build(buf, len, shape);
	free(buf);
	return m;
}

static struct rte_mbuf *
mkseg(uint32_t seq, uint32_t len, uint8_t fill)
{
	return mkseg_shape(seq, len, fill, SHAPE_RANDOM);
}

/* An indirect copy: the same bytes in a buffer that is not ours to write. */
static struct rte_mbuf *
mkclone(struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_clone(m, mp);

	assert_non_null(c);
	rte_pktmbuf_free(m);
	return c;
}

static int
ins(uint32_t seq, uint32_t len, uint8_t fill, uint32_t rcv_nxt, uint32_t wnd_end)
{
	return wg_reass_insert(&q, mkseg(seq, len, fill), seq, rcv_nxt, wnd_end, &st);
}

static int
ins_shape(uint32_t seq, uint32_t len, enum shape shape, uint32_t rcv_nxt)
{
	return wg_reass_insert(&q, mkseg_shape(seq, len, NO_FILL, shape), seq, rcv_nxt,
			       rcv_nxt + BIG_WND, &st);
}

/* ---- checks ---- */

static void
check_chain(const struct rte_mbuf *m)
{
	const struct rte_mbuf *s;
	uint32_t len = 0;
	unsigned int n = 0;

	for (s = m; s != NULL; s = s->next) {
		assert_true(s->data_off + s->data_len <= s->buf_len);
		len += s->data_len;
		n++;
	}
	assert_int_equal(n, m->nb_segs);
	assert_int_equal(len, m->pkt_len);
}

static void
check_q(void)
{
	uint64_t bytes = 0;
	unsigned int k;

	assert_true(q.n <= WG_REASS_MAX_SEGS);
	assert_true(q.last == WG_REASS_LAST_NONE || q.last < q.n);
	for (k = 0; k < q.n; k++) {
		assert_true(q.segs[k].len > 0);
		assert_int_equal(q.segs[k].len, q.segs[k].m->pkt_len);
		check_chain(q.segs[k].m);
		bytes += q.segs[k].len;
		/* sorted and disjoint, modulo 2^32 */
		if (k > 0)
			assert_true((int32_t)(q.segs[k].seq -
					      (q.segs[k - 1].seq + q.segs[k - 1].len)) >= 0);
	}
	assert_int_equal(bytes, q.bytes);
}

/* Bytes of a chain from offset off, flattened. */
static void
read_chain(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint8_t *out)
{
	const void *p = rte_pktmbuf_read(m, off, len, out);

	assert_non_null(p);
	if (p != out)
		memcpy(out, p, len);
}

/* Held segment k is [seq, seq+len) of the reference stream XOR fill. */
static void
expect_held(unsigned int k, uint32_t seq, uint32_t len, uint8_t fill)
{
	uint8_t got[4096], want[4096];

	assert_true(k < q.n);
	assert_int_equal(q.segs[k].seq, seq);
	assert_int_equal(q.segs[k].len, len);
	assert_true(len <= sizeof(got));
	read_chain(q.segs[k].m, 0, len, got);
	fill_ref(want, seq, len, fill);
	assert_memory_equal(got, want, len);
}

/* Held bytes [seq, seq+len), across entries, equal want. */
static void
expect_range(uint32_t seq, uint32_t len, const uint8_t *want)
{
	uint32_t i, k, off = 0;
	uint8_t b;

	for (i = 0; i < len; i++) {
		for (k = 0; k < q.n; k++) {
			off = seq + i - q.segs[k].seq;
			if (off < q.segs[k].len)
				break;
		}
		assert_true(k < q.n);
		read_chain(q.segs[k].m, off, 1, &b);
		assert_int_equal(b, want[i]);
	}
}

/* Pop one chain at *rcv_nxt: it must be exactly want[0..len). */
static void
expect_pop(uint32_t *rcv_nxt, const uint8_t *want, uint32_t len)
{
	uint32_t before = *rcv_nxt;
	struct rte_mbuf *m = wg_reass_pop(&q, rcv_nxt);
	uint8_t got[4096];

	assert_non_null(m);
	check_chain(m);
	assert_int_equal(m->pkt_len, len);
	assert_int_equal(*rcv_nxt, before + len);
	read_chain(m, 0, len, got);
	assert_memory_equal(got, want, len);
	rte_pktmbuf_free(m);
	check_q();
}

static void
expect_pop_ref(uint32_t *rcv_nxt, uint32_t len, uint8_t fill)
{
	uint8_t want[4096];

	fill_ref(want, *rcv_nxt, len, fill);
	expect_pop(rcv_nxt, want, len);
}

static void
expect_no_pop(uint32_t rcv_nxt)
{
	uint32_t r = rcv_nxt;

	assert_null(wg_reass_pop(&q, &r));
	assert_int_equal(r, rcv_nxt);
}

static void
expect_stats(uint64_t queued, uint64_t dup, uint64_t mismatch, uint64_t trimmed, uint64_t full)
{
	assert_int_equal(st.queued, queued);
	assert_int_equal(st.dup_bytes, dup);
	assert_int_equal(st.overlap_mismatch, mismatch);
	assert_int_equal(st.trimmed_window, trimmed);
	assert_int_equal(st.full_drops, full);
}

static unsigned int
sack(struct wg_tcp_sack_block *b, unsigned int max)
{
	return wg_reass_sack(&q, b, max);
}

static void
expect_block(const struct wg_tcp_sack_block *b, uint32_t start, uint32_t end)
{
	assert_int_equal(b->start, start);
	assert_int_equal(b->end, end);
}

/* ---- fixtures ---- */

static int
group_setup(void **state)
{
	char prefix[64];
	char *argv[] = { "test", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--log-level=error", prefix, NULL };

	(void)state;
	/* --in-memory is refused with --no-huge on DPDK 22.11 (--no-huge
	 * implies legacy memory); --no-shconf gives the same: no shared
	 * files, no multi-process socket. */
	snprintf(prefix, sizeof(prefix), "--file-prefix=reass%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		return -1;
	/* with no shared config EAL keeps nothing in its runtime directory;
	 * removed now, no crash can leave it behind */
	rmdir(rte_eal_get_runtime_dir());
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

/* A pool per test (cache-less, so the in-use count is exact): a test that
 * fails half-way leaks nothing into the next one. */
static int
setup(void **state)
{
	(void)state;
	rte_mempool_free(rte_mempool_lookup("reass_test")); /* left by a failed test */
	mp = rte_pktmbuf_pool_create("reass_test", POOL_SIZE, 0, 0, DATA_ROOM, SOCKET_ID_ANY);
	if (mp == NULL)
		return -1;
	wg_reass_init(&q, BIG_WND);
	memset(&st, 0, sizeof(st));
	rng = 0x9e3779b97f4a7c15ull;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	check_q();
	wg_reass_flush(&q);
	assert_true(wg_reass_empty(&q));
	assert_int_equal(q.bytes, 0);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
	rte_mempool_free(mp);
	mp = NULL;
	return 0;
}

/* ---- basic behaviour ---- */

static void
test_in_order_and_gap(void **state)
{
	uint32_t r = 1000;

	(void)state;
	expect_no_pop(r);
	assert_int_equal(ins(1100, 50, NO_FILL, r, r + BIG_WND), 0);
	expect_no_pop(r);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.last, 0);
	assert_int_equal(ins(1000, 100, NO_FILL, r, r + BIG_WND), 0);
	expect_pop_ref(&r, 150, NO_FILL);
	assert_int_equal(r, 1150);
	assert_true(wg_reass_empty(&q));
	assert_int_equal(q.last, WG_REASS_LAST_NONE);
	expect_no_pop(r);
	expect_stats(2, 0, 0, 0, 0);
}

/* Bytes before rcv_nxt are dropped from the front of a chain, whole mbufs
 * freed, and counted as duplicates. */
static void
test_before_rcv_nxt(void **state)
{
	uint32_t r = 5000;

	(void)state;
	assert_int_equal(ins(4000, 1000, NO_FILL, r, r + BIG_WND), 0); /* all old */
	assert_int_equal(ins(4990, 10, NO_FILL, r, r + BIG_WND), 0);   /* ends at rcv_nxt */
	assert_true(wg_reass_empty(&q));
	expect_stats(0, 1010, 0, 0, 0);
	/* 300 old bytes across three full 128-byte mbufs, 200 new */
	assert_int_equal(wg_reass_insert(&q, mkseg_shape(4700, 500, NO_FILL, SHAPE_TIGHT), 4700,
					 r, r + BIG_WND, &st), 0);
	assert_int_equal(q.n, 1);
	expect_held(0, 5000, 200, NO_FILL);
	/* 500 = 128*3 + 116: 300 off the front leaves 84 | 116 */
	assert_int_equal(q.segs[0].m->nb_segs, 2);
	assert_int_equal(q.segs[0].m->data_len, 84);
	expect_stats(1, 1310, 0, 0, 0);
	expect_pop_ref(&r, 200, NO_FILL);
}

static void
test_window_trim(void **state)
{
	uint32_t r = 1000;

	(void)state;
	/* tail cut inside the second mbuf: 128 | 22 */
	assert_int_equal(wg_reass_insert(&q, mkseg_shape(1050, 400, NO_FILL, SHAPE_TIGHT), 1050,
					 r, 1200, &st), 0);
	expect_held(0, 1050, 150, NO_FILL);
	assert_int_equal(q.segs[0].m->nb_segs, 2);
	expect_stats(1, 0, 0, 250, 0);
	/* tail cut exactly on an mbuf boundary */
	assert_int_equal(wg_reass_insert(&q, mkseg_shape(1300, 300, NO_FILL, SHAPE_TIGHT), 1300,
					 r, 1300 + 256, &st), 0);
	expect_held(1, 1300, 256, NO_FILL);
	assert_int_equal(q.segs[1].m->nb_segs, 2);
	expect_stats(2, 0, 0, 294, 0);
	/* wholly past the window, zero window, window "behind" rcv_nxt */
	assert_int_equal(ins(1200, 10, NO_FILL, r, 1200), 0);
	assert_int_equal(ins(1000, 10, NO_FILL, r, 1000), 0);
	assert_int_equal(ins(1000, 10, NO_FILL, r, 900), 0);
	/* one byte past the window */
	assert_int_equal(ins(1600, 101, NO_FILL, r, 1700), 0);
	expect_stats(3, 0, 0, 294 + 30 + 1, 0);
	expect_held(2, 1600, 100, NO_FILL);
	wg_reass_flush(&q);
	/* old bytes and too-new bytes in one segment */
	assert_int_equal(ins(990, 30, NO_FILL, r, 1005), 0);
	expect_stats(4, 10, 0, 294 + 30 + 1 + 15, 0);
	assert_int_equal(q.n, 1);
	expect_held(0, 1000, 5, NO_FILL);
	assert_int_equal(q.last, 0);
	check_q();
}

static void
test_wraparound(void **state)
{
	uint32_t r = 0xffffff00u;
	struct wg_tcp_sack_block b[4];

	(void)state;
	/* crosses 2^32; window end wraps too */
	assert_int_equal(ins(0xffffffc0u, 0x80, NO_FILL, r, r + 0x1000), 0);
	assert_int_equal(ins(0x100, 0x40, NO_FILL, r, r + 0x1000), 0);
	assert_int_equal(ins(0xfffffff0u, 0x20, NO_FILL, r, r + 0x1000), 0); /* inside held */
	assert_int_equal(q.n, 2);
	assert_int_equal(q.segs[0].seq, 0xffffffc0u);
	assert_int_equal(q.segs[1].seq, 0x100);
	assert_int_equal(sack(b, 4), 2);
	expect_block(&b[0], 0xffffffc0u, 0x40);
	expect_block(&b[1], 0x100, 0x140);
	/* beyond the wrapped window end */
	assert_int_equal(ins(0xe00, 0x400, NO_FILL, r, r + 0x1000), 0);
	expect_held(2, 0xe00, 0x100, NO_FILL);
	expect_stats(3, 0x20, 0, 0x300, 0);
	assert_int_equal(ins(r, 0xc0, NO_FILL, r, r + 0x1000), 0);
	expect_pop_ref(&r, 0x140, NO_FILL);
	assert_int_equal(r, 0x40);
	/* the caller delivered up to 0x120 by itself: the rest of 0x100.. */
	r = 0x120;
	expect_pop_ref(&r, 0x20, NO_FILL);
	assert_int_equal(r, 0x140);
	expect_no_pop(r);
}

/* ---- overlaps ---- */

/* A held segment inside the new one: held bytes win, the mismatch is
 * counted, and the new bytes on both sides are kept. */
static void
test_overlap_inner_mismatch(void **state)
{
	uint32_t r = 0;
	uint8_t want[250];

	(void)state;
	assert_int_equal(ins(100, 100, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(ins(50, 200, 0xff, r, BIG_WND), 0);
	expect_stats(2, 100, 100, 0, 0);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.last, 0);
	assert_int_equal(q.bytes, 200);
	fill_ref(want, 0, 50, NO_FILL);
	fill_ref(want + 50, 50, 50, 0xff);
	fill_ref(want + 100, 100, 100, NO_FILL);
	fill_ref(want + 200, 200, 50, 0xff);
	assert_int_equal(ins(0, 50, NO_FILL, r, BIG_WND), 0);
	expect_pop(&r, want, 250);
}

/* Partial overlaps at either end, counted byte by byte. */
static void
test_overlap_edges(void **state)
{
	uint32_t r = 0;
	uint8_t buf[300], want[300];

	(void)state;
	assert_int_equal(ins(100, 100, NO_FILL, r, BIG_WND), 0);
	/* [50,150) with 3 bytes changed in the overlap and 1 outside it */
	fill_ref(buf, 50, 100, NO_FILL);
	buf[60 - 50] ^= 1;
	buf[100 - 50] ^= 1;
	buf[120 - 50] ^= 0x80;
	buf[149 - 50] ^= 0x10;
	assert_int_equal(wg_reass_insert(&q, build(buf, 100, SHAPE_RANDOM), 50, r, BIG_WND, &st), 0);
	expect_stats(2, 50, 3, 0, 0);
	/* [180,260) right part new, with 2 changed bytes in [180,200) */
	fill_ref(buf, 180, 80, NO_FILL);
	buf[0] ^= 2;
	buf[19] ^= 2;
	buf[30] ^= 2;
	assert_int_equal(wg_reass_insert(&q, build(buf, 80, SHAPE_RANDOM), 180, r, BIG_WND, &st), 0);
	expect_stats(3, 70, 5, 0, 0);
	assert_int_equal(q.bytes, 210);
	fill_ref(want, 0, 260, NO_FILL);
	want[60] ^= 1;              /* new, not held: kept as sent */
	want[210] ^= 2;
	assert_int_equal(ins(0, 50, NO_FILL, r, BIG_WND), 0);
	expect_pop(&r, want, 260);
}

/* Fully covered new segments, and new ones covering several adjacent held
 * segments exactly: nothing queued, only duplicates counted, and the block
 * moves to the front of the SACK list. */
static void
test_overlap_all_held(void **state)
{
	uint32_t r = 0;
	struct wg_tcp_sack_block b[4];

	(void)state;
	assert_int_equal(ins_shape(10, 10, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(20, 10, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(30, 10, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(100, 10, SHAPE_TIGHT, r), 0);
	assert_int_equal(q.n, 4);
	assert_int_equal(q.last, 3);
	assert_int_equal(ins(12, 5, 0x55, r, BIG_WND), 0);   /* inside one */
	assert_int_equal(q.last, 0);
	assert_int_equal(ins(100, 10, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.last, 3);
	assert_int_equal(ins(15, 20, NO_FILL, r, BIG_WND), 0); /* spans 3 adjacent */
	assert_int_equal(q.last, 2);
	assert_int_equal(ins(10, 30, 0x01, r, BIG_WND), 0);    /* exactly all 3 */
	assert_int_equal(q.last, 2);
	expect_stats(4, 5 + 10 + 20 + 30, 5 + 30, 0, 0);
	assert_int_equal(q.n, 4);
	assert_int_equal(q.bytes, 40);
	assert_int_equal(sack(b, 4), 2);
	expect_block(&b[0], 10, 40);
	expect_block(&b[1], 100, 110);
	expect_held(0, 10, 10, NO_FILL);
	expect_held(1, 20, 10, NO_FILL);
	expect_held(2, 30, 10, NO_FILL);
}

/* A new chain that is not ours to write (indirect mbufs): held bytes can
 * not be copied into it, so it is cut before the first held segment that
 * differs. The shared buffer is never written. */
static void
test_overlap_not_writable(void **state)
{
	uint32_t r = 0;
	uint8_t buf[400], want[400], got[400];
	struct rte_mbuf *orig, *clone;
	unsigned int k;

	(void)state;
	assert_int_equal(ins(100, 10, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(ins(200, 10, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(ins(300, 10, NO_FILL, r, BIG_WND), 0);
	/* [50,350): matches [100,110), differs at 205 and 301 */
	fill_ref(buf, 50, 300, NO_FILL);
	buf[205 - 50] ^= 4;
	buf[301 - 50] ^= 4;
	buf[250 - 50] ^= 4; /* new byte, dropped with the rest */
	orig = build(buf, 300, SHAPE_RANDOM);
	clone = rte_pktmbuf_clone(orig, mp);
	assert_non_null(clone);
	assert_int_equal(wg_reass_insert(&q, clone, 50, r, BIG_WND, &st), 0);
	/* all overlaps compared and counted, though [210,350) is dropped */
	expect_stats(4, 30, 2, 0, 0);
	assert_int_equal(q.n, 3);
	assert_int_equal(q.last, 0);
	assert_int_equal(q.segs[0].seq, 50);
	assert_int_equal(q.segs[0].len, 150);
	read_chain(q.segs[0].m, 0, 150, got);
	assert_memory_equal(got, buf, 150);
	expect_held(1, 200, 10, NO_FILL);
	expect_held(2, 300, 10, NO_FILL);
	read_chain(orig, 0, 300, got);
	assert_memory_equal(got, buf, 300);

	/* a direct mbuf someone else still references (refcnt 2) is not
	 * writable either; its length fields are shared and do change, as
	 * with rte_pktmbuf_adj(), but never its bytes */
	assert_int_equal(ins(400, 10, NO_FILL, r, BIG_WND), 0);
	fill_ref(buf, 380, 40, NO_FILL);
	buf[5 + 20] ^= 8;
	clone = build(buf, 40, SHAPE_STD);
	assert_int_equal(clone->nb_segs, 1);
	rte_mbuf_refcnt_update(clone, 1);
	assert_int_equal(wg_reass_insert(&q, clone, 380, r, BIG_WND, &st), 0);
	expect_stats(6, 40, 3, 0, 0);
	assert_memory_equal(rte_pktmbuf_mtod(clone, uint8_t *), buf, 40);
	expect_held(3, 380, 20, NO_FILL);
	expect_held(4, 400, 10, NO_FILL);
	rte_pktmbuf_free(clone);

	/* differing in the edge overlaps only: nothing to write, all kept */
	clone = mkclone(mkseg_shape(290, 15, 0x20, SHAPE_STD));
	assert_int_equal(wg_reass_insert(&q, clone, 290, r, BIG_WND, &st), 0);
	clone = mkclone(mkseg_shape(305, 15, 0x20, SHAPE_STD));
	assert_int_equal(wg_reass_insert(&q, clone, 305, r, BIG_WND, &st), 0);
	expect_stats(8, 50, 13, 0, 0);
	fill_ref(want, 290, 30, 0x20);
	fill_ref(want + 10, 300, 10, NO_FILL);
	expect_range(290, 30, want);

	/* cut right where the first differing held segment starts: nothing
	 * of it is kept, and that segment becomes the recent one */
	fill_ref(buf, 195, 20, 0x40);
	clone = mkclone(build(buf, 20, SHAPE_RANDOM));
	k = q.n;
	assert_int_equal(wg_reass_insert(&q, clone, 195, r, BIG_WND, &st), 0);
	expect_stats(8, 65, 28, 0, 0);
	assert_int_equal(q.n, k);
	assert_int_equal(q.last, 1);
	expect_held(1, 200, 10, NO_FILL);

	rte_pktmbuf_free(orig);
	fill_ref(want, 0, 210, NO_FILL);
	assert_int_equal(ins(0, 50, NO_FILL, r, BIG_WND), 0);
	expect_pop(&r, want, 210);
	expect_no_pop(r);
	fill_ref(want, 380, 30, NO_FILL);
	expect_range(380, 30, want);
}

/* ---- caps ---- */

static void
test_cap_bytes(void **state)
{
	uint32_t r = 0;

	(void)state;
	wg_reass_init(&q, 300);
	assert_int_equal(ins(100, 200, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(ins(400, 100, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.last, 1);
	assert_int_equal(ins(600, 1, NO_FILL, r, BIG_WND), -ENOSPC);
	assert_int_equal(ins(50, 50, NO_FILL, r, BIG_WND), -ENOSPC);
	assert_int_equal(ins(250, 170, NO_FILL, r, BIG_WND), -ENOSPC); /* 100 new */
	/* a refused segment counts as a full drop only, and changes nothing */
	expect_stats(2, 0, 0, 0, 3);
	assert_int_equal(q.last, 1);
	assert_int_equal(ins(150, 100, NO_FILL, r, BIG_WND), 0);    /* nothing new */
	assert_int_equal(ins(300, 100, NO_FILL, r, 300), 0);        /* all trimmed */
	expect_stats(2, 100, 0, 100, 3);
	assert_int_equal(q.bytes, 300);
	/* data at rcv_nxt passes the cap: the caller pops it at once */
	assert_int_equal(ins(0, 100, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.bytes, 400);
	expect_stats(3, 100, 0, 100, 3);
	expect_pop_ref(&r, 300, NO_FILL);
	assert_int_equal(q.bytes, 100);
	assert_int_equal(ins(600, 200, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.bytes, 300);
	assert_int_equal(ins(900, 1, NO_FILL, r, BIG_WND), -ENOSPC);
	assert_int_equal(st.full_drops, 4);
	/* ... but not once held data starts there */
	assert_int_equal(ins(300, 101, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.bytes, 400);
	assert_int_equal(ins(300, 250, NO_FILL, r, BIG_WND), -ENOSPC);
	assert_int_equal(st.full_drops, 5);
	expect_pop_ref(&r, 200, NO_FILL);
	assert_int_equal(q.bytes, 200);
}

static void
test_cap_segs(void **state)
{
	uint32_t r = 0, k;
	struct wg_tcp_sack_block b[WG_REASS_MAX_SEGS];

	(void)state;
	for (k = 0; k < WG_REASS_MAX_SEGS; k++)
		assert_int_equal(ins_shape(10 * k + 5, 2, SHAPE_TIGHT, r), 0);
	assert_int_equal(q.n, WG_REASS_MAX_SEGS);
	assert_int_equal(ins_shape(10 * k + 5, 2, SHAPE_TIGHT, r), -ENOSPC);
	assert_int_equal(ins_shape(1, 1, SHAPE_TIGHT, r), -ENOSPC);
	assert_int_equal(ins_shape(7, 1, SHAPE_STD, r), -ENOSPC); /* held one has no tailroom */
	assert_int_equal(st.full_drops, 3);
	assert_int_equal(ins_shape(15, 2, SHAPE_TIGHT, r), 0);    /* duplicate */
	assert_int_equal(q.last, 1);
	/* covering held segments frees entries: fits even when full */
	assert_int_equal(ins_shape(3, 30, SHAPE_STD, r), 0);
	assert_int_equal(q.n, WG_REASS_MAX_SEGS - 2);
	assert_int_equal(q.last, 0);
	expect_held(0, 3, 30, NO_FILL);
	assert_int_equal(ins_shape(700, 2, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(710, 2, SHAPE_TIGHT, r), 0);
	assert_int_equal(q.n, WG_REASS_MAX_SEGS);
	/* a small segment right behind held data with tailroom joins it */
	assert_int_equal(ins_shape(33, 2, SHAPE_STD, r), 0);
	assert_int_equal(q.n, WG_REASS_MAX_SEGS);
	assert_int_equal(q.last, 0);
	expect_held(0, 3, 32, NO_FILL);
	/* full: [3,35) and [35,37) are chained into one entry, which makes
	 * room for a segment behind them that cannot be copied in */
	assert_int_equal(ins_shape(37, 2, SHAPE_STD, r), 0);
	assert_int_equal(q.n, WG_REASS_MAX_SEGS);
	expect_held(0, 3, 34, NO_FILL);
	assert_int_equal(q.segs[0].m->nb_segs, 2);
	expect_held(1, 37, 2, NO_FILL);
	assert_int_equal(q.last, 1);
	assert_int_equal(st.full_drops, 3);
	expect_stats(WG_REASS_MAX_SEGS + 5, 2 + 6, 0, 0, 3);
	/* [3,37) and [37,39) are separate entries but one block */
	assert_int_equal(sack(b, WG_REASS_MAX_SEGS), WG_REASS_MAX_SEGS - 1);
	expect_block(&b[0], 3, 39);
	expect_block(&b[1], 710, 712);
	expect_block(&b[2], 700, 702);
	for (k = 3; k < WG_REASS_MAX_SEGS - 1; k++)
		expect_block(&b[k], 10 * (66 - k) + 5, 10 * (66 - k) + 7);
	/* a full queue of disjoint holes still refuses */
	assert_int_equal(ins_shape(800, 2, SHAPE_TIGHT, r), 0);
	assert_int_equal(q.n, WG_REASS_MAX_SEGS);
	assert_int_equal(ins_shape(810, 2, SHAPE_TIGHT, r), -ENOSPC);
	assert_int_equal(st.full_drops, 4);
	/* full, but data at rcv_nxt goes in: the highest segment makes room */
	assert_int_equal(ins(0, 3, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.n, WG_REASS_MAX_SEGS);
	assert_int_equal(st.full_drops, 5);
	assert_int_equal(q.segs[q.n - 1].seq, 710);
	assert_int_equal(q.last, 0);
	assert_int_equal(q.bytes, 3 + 36 + 60 * 2 + 2 + 2);
	expect_pop_ref(&r, 39, NO_FILL);
}

/* ---- pop ---- */

static void
test_pop_chains_and_partial(void **state)
{
	uint32_t r = 0;
	struct rte_mbuf *m;

	(void)state;
	/* adjacent entries without tailroom stay separate; pop chains them */
	assert_int_equal(ins_shape(10, 300, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(310, 5, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(315, 200, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(600, 10, SHAPE_TIGHT, r), 0);
	assert_int_equal(q.n, 4);
	/* the caller delivered [0,20) by itself: pop trims the held head */
	r = 20;
	m = wg_reass_pop(&q, &r);
	assert_non_null(m);
	check_chain(m);
	assert_int_equal(m->pkt_len, 495);
	assert_int_equal(m->nb_segs, 3 + 1 + 2);
	assert_int_equal(r, 515);
	{
		uint8_t got[495], want[495];

		read_chain(m, 0, 495, got);
		fill_ref(want, 20, 495, NO_FILL);
		assert_memory_equal(got, want, 495);
	}
	rte_pktmbuf_free(m);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.last, 0);
	/* and rcv_nxt moved past a whole held segment: freed on the way */
	r = 700;
	expect_no_pop(r);
	assert_true(wg_reass_empty(&q));
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.last, WG_REASS_LAST_NONE);
	/* insert purges such segments too */
	assert_int_equal(ins(800, 10, NO_FILL, r, r + BIG_WND), 0);
	assert_int_equal(ins(900, 10, NO_FILL, r, r + BIG_WND), 0);
	r = 805;
	assert_int_equal(ins(1000, 10, NO_FILL, r, r + BIG_WND), 0);
	assert_int_equal(q.n, 3);
	expect_held(0, 805, 5, NO_FILL);
	assert_int_equal(q.bytes, 25);
}

/* Entries whose chains would together pass RTE_MBUF_MAX_NB_SEGS come out
 * of two pops. */
static void
test_pop_nb_segs_limit(void **state)
{
	struct rte_mempool *tiny;
	struct rte_mbuf *m, *head[2] = { NULL, NULL }, *tail = NULL, *s;
	const uint32_t nsegs[2] = { 40000, 30000 };
	uint32_t r = 0, seq = 1, i, k;

	(void)state;
	tiny = rte_pktmbuf_pool_create("reass_tiny", 70001, 0, 0, 1, SOCKET_ID_ANY);
	assert_non_null(tiny);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < nsegs[k]; i++) {
			s = rte_pktmbuf_alloc(tiny);
			assert_non_null(s);
			s->data_off = 0;
			s->data_len = 1;
			*rte_pktmbuf_mtod(s, uint8_t *) = ref(seq + i);
			if (i == 0)
				head[k] = s;
			else
				tail->next = s;
			tail = s;
		}
		head[k]->nb_segs = (uint16_t)nsegs[k];
		head[k]->pkt_len = nsegs[k];
		assert_int_equal(wg_reass_insert(&q, head[k], seq, r, r + BIG_WND, &st), 0);
		seq += nsegs[k];
	}
	assert_int_equal(q.n, 2);
	r = 1;
	m = wg_reass_pop(&q, &r);
	assert_non_null(m);
	check_chain(m);
	assert_int_equal(m->nb_segs, 40000);
	assert_int_equal(r, 40001);
	rte_pktmbuf_free(m);
	m = wg_reass_pop(&q, &r);
	assert_non_null(m);
	assert_int_equal(m->nb_segs, 30000);
	assert_int_equal(r, 70001);
	for (s = m, i = 40001; s != NULL; s = s->next, i++)
		assert_int_equal(*rte_pktmbuf_mtod(s, uint8_t *), ref(i));
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_in_use_count(tiny), 0);
	rte_mempool_free(tiny);
}

/* ---- SACK (RFC 2018 4) ---- */

static void
test_sack_order(void **state)
{
	uint32_t r = 5000;
	struct wg_tcp_sack_block b[8];

	(void)state;
	assert_int_equal(sack(b, 4), 0);
	assert_int_equal(ins_shape(5500, 500, SHAPE_TIGHT, r), 0);
	assert_int_equal(sack(b, 4), 1);
	expect_block(&b[0], 5500, 6000);
	assert_int_equal(ins_shape(6500, 500, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(7500, 500, SHAPE_TIGHT, r), 0);
	assert_int_equal(sack(b, 4), 3);
	expect_block(&b[0], 7500, 8000);
	expect_block(&b[1], 6500, 7000);
	expect_block(&b[2], 5500, 6000);
	/* filling a hole: the merged block holds the newest data */
	assert_int_equal(ins_shape(6000, 500, SHAPE_TIGHT, r), 0);
	assert_int_equal(q.n, 4);
	assert_int_equal(sack(b, 4), 2);
	expect_block(&b[0], 5500, 7000);
	expect_block(&b[1], 7500, 8000);
	/* a duplicate moves its block to the front */
	assert_int_equal(ins(7600, 100, NO_FILL, r, r + BIG_WND), 0);
	assert_int_equal(sack(b, 4), 2);
	expect_block(&b[0], 7500, 8000);
	expect_block(&b[1], 5500, 7000);
	assert_int_equal(ins_shape(9000, 100, SHAPE_TIGHT, r), 0);
	assert_int_equal(ins_shape(8500, 100, SHAPE_TIGHT, r), 0);
	assert_int_equal(sack(b, 8), 4);
	expect_block(&b[0], 8500, 8600);
	expect_block(&b[1], 9000, 9100);
	expect_block(&b[2], 7500, 8000);
	expect_block(&b[3], 5500, 7000);
	assert_int_equal(sack(b, 3), 3);
	expect_block(&b[2], 7500, 8000);
	assert_int_equal(sack(b, 1), 1);
	expect_block(&b[0], 8500, 8600);
	assert_int_equal(sack(b, 0), 0);
	assert_int_equal(sack(NULL, 4), 0);
	/* delivering the newest block leaves the others by descending seq */
	assert_int_equal(ins_shape(5000, 500, SHAPE_TIGHT, r), 0);
	expect_pop_ref(&r, 2000, NO_FILL);
	assert_int_equal(ins_shape(7000, 500, SHAPE_TIGHT, r), 0);
	expect_pop_ref(&r, 1000, NO_FILL);
	assert_int_equal(q.last, WG_REASS_LAST_NONE);
	assert_int_equal(sack(b, 8), 2);
	expect_block(&b[0], 9000, 9100);
	expect_block(&b[1], 8500, 8600);
	assert_int_equal(wg_reass_sack(NULL, b, 8), 0);
}

/* Small segments behind one hole take one entry: copied into the tailroom
 * of the held chain's last mbuf when it is ours to write. */
static void
test_coalesce(void **state)
{
	uint32_t r = 0, k;
	struct rte_mbuf *held;

	(void)state;
	assert_int_equal(ins_shape(10, 10, SHAPE_STD, r), 0);
	held = q.segs[0].m;
	for (k = 0; k < 10; k++)
		assert_int_equal(ins(20 + 10 * k, 10, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.n, 1);
	assert_ptr_equal(q.segs[0].m, held);
	assert_int_equal(held->nb_segs, 1);
	expect_held(0, 10, 110, NO_FILL);
	/* 128-byte room: the next 20 bytes do not fit */
	assert_int_equal(ins(120, 20, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.n, 2);
	assert_int_equal(q.last, 1);
	/* a held chain that is not ours to write takes no copies */
	assert_int_equal(wg_reass_insert(&q, mkclone(mkseg_shape(200, 10, NO_FILL, SHAPE_STD)),
					 200, r, BIG_WND, &st), 0);
	assert_int_equal(ins(210, 10, NO_FILL, r, BIG_WND), 0);
	assert_int_equal(q.n, 4);
	assert_int_equal(st.queued, 14);
	/* a multi-mbuf chain fits as a whole, bytes in order */
	assert_int_equal(ins_shape(300, 10, SHAPE_STD, r), 0);
	{
		uint8_t buf[40];

		fill_ref(buf, 310, 40, NO_FILL);
		assert_int_equal(wg_reass_insert(&q, build(buf, 40, SHAPE_RANDOM), 310, r,
						 BIG_WND, &st), 0);
	}
	assert_int_equal(q.n, 5);
	expect_held(4, 300, 50, NO_FILL);
	assert_int_equal(ins(0, 10, NO_FILL, r, BIG_WND), 0);
	expect_pop_ref(&r, 140, NO_FILL);
}

/* ---- permutations ---- */

struct range {
	uint32_t off, len;
};

static bool
next_perm(unsigned int *a, unsigned int n)
{
	unsigned int i, j, t;

	if (n < 2)
		return false;
	for (i = n - 1; i > 0 && a[i - 1] >= a[i]; i--)
		;
	if (i == 0)
		return false;
	for (j = n - 1; a[j] <= a[i - 1]; j--)
		;
	t = a[i - 1], a[i - 1] = a[j], a[j] = t;
	for (j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

/* Every order of a set of segments (covering [0, total)) rebuilds the
 * stream; popping after each insert or only at the end. */
static void
run_perms(const struct range *set, unsigned int n, uint32_t total, uint32_t base, bool pop_each)
{
	unsigned int perm[8], i;
	uint64_t sent, got;
	uint32_t r;
	struct rte_mbuf *m;
	uint8_t *out = malloc(total), *want = malloc(total);

	assert_non_null(out);
	assert_non_null(want);
	fill_ref(want, base, total, NO_FILL);
	for (i = 0; i < n; i++)
		perm[i] = i;
	do {
		wg_reass_init(&q, BIG_WND);
		memset(&st, 0, sizeof(st));
		memset(out, 0, total);
		r = base;
		sent = got = 0;
		for (i = 0; i < n; i++) {
			const struct range *g = &set[perm[i]];

			assert_int_equal(ins(base + g->off, g->len, NO_FILL, r, r + BIG_WND), 0);
			sent += g->len;
			check_q();
			while ((pop_each || i == n - 1) && (m = wg_reass_pop(&q, &r)) != NULL) {
				check_chain(m);
				assert_true(got + m->pkt_len <= total);
				read_chain(m, 0, m->pkt_len, out + got);
				got += m->pkt_len;
				rte_pktmbuf_free(m);
			}
		}
		assert_int_equal(got, total);
		assert_int_equal(r, base + total);
		assert_memory_equal(out, want, total);
		assert_true(wg_reass_empty(&q));
		/* every byte sent was delivered once or counted a duplicate */
		assert_int_equal(sent, got + st.dup_bytes);
		assert_int_equal(st.overlap_mismatch, 0);
		assert_int_equal(rte_mempool_in_use_count(mp), 0);
	} while (next_perm(perm, n));
	free(out);
	free(want);
}

static void
test_permutations(void **state)
{
	static const struct range disjoint[] = {
		{ 0, 30 }, { 30, 40 }, { 70, 1 }, { 71, 129 }, { 200, 133 }, { 333, 300 },
	};
	static const struct range overlapping[] = {
		{ 0, 50 }, { 40, 80 }, { 100, 1 }, { 90, 110 }, { 150, 110 }, { 255, 45 },
	};
	static const struct range nested[] = {
		{ 10, 10 }, { 0, 100 }, { 10, 10 }, { 50, 100 }, { 149, 1 }, { 0, 150 },
	};
	static const struct range tiny[] = {
		{ 3, 1 }, { 1, 1 }, { 0, 1 }, { 4, 1 }, { 2, 3 }, { 5, 2 },
	};
	static const uint32_t bases[] = { 1000, 0xffffffffu - 77, 0x7fffffc0u };
	unsigned int b, p;

	(void)state;
	for (b = 0; b < RTE_DIM(bases); b++) {
		for (p = 0; p < 2; p++) {
			run_perms(disjoint, RTE_DIM(disjoint), 633, bases[b], p);
			run_perms(overlapping, RTE_DIM(overlapping), 300, bases[b], p);
			run_perms(nested, RTE_DIM(nested), 150, bases[b], p);
			run_perms(tiny, RTE_DIM(tiny), 7, bases[b], p);
		}
	}
}

/* ---- random workload against a model ---- */

#define MAXL 1200

struct model {
	uint32_t base;            /* seq of stream byte 0 */
	uint32_t len;             /* stream length */
	uint32_t r;               /* rcv_nxt - base */
	uint32_t wnd;             /* window, from rcv_nxt */
	bool held[MAXL];
	uint8_t fill[MAXL];       /* what a held byte was queued XORed with */
	int64_t last_pos;         /* the first SACK block holds this, if >= r */
};

static struct model md;

static uint8_t
md_byte(uint32_t p)
{
	return ref(md.base + p) ^ md.fill[p];
}

/* Held set and contents of q equal the model's. */
static void
md_check_q(void)
{
	static bool in_q[MAXL];
	uint8_t got[MAXL];
	uint32_t k, i, p;

	check_q();
	memset(in_q, 0, sizeof(in_q));
	for (k = 0; k < q.n; k++) {
		p = q.segs[k].seq - md.base;
		assert_true(p >= md.r && p + q.segs[k].len <= md.len);
		read_chain(q.segs[k].m, 0, q.segs[k].len, got);
		for (i = 0; i < q.segs[k].len; i++) {
			in_q[p + i] = true;
			assert_int_equal(got[i], md_byte(p + i));
		}
	}
	for (p = md.r; p < md.len; p++)
		assert_int_equal(in_q[p], md.held[p]);
	/* over the cap only with data at rcv_nxt, waiting for its pop */
	assert_true(q.bytes <= q.max_bytes || (md.r < md.len && md.held[md.r]));
}

/* SACK blocks are the model's runs: the one holding last_pos first (when
 * it is still held), the rest by descending seq. */
static void
md_check_sack(void)
{
	struct wg_tcp_sack_block b[WG_REASS_MAX_SEGS + 1], b3[3];
	uint32_t runs[WG_REASS_MAX_SEGS][2];
	unsigned int nr = 0, nb, i, j, first = UINT_MAX;
	uint32_t p, s;

	for (p = md.r; p < md.len;) {
		if (!md.held[p]) {
			p++;
			continue;
		}
		for (s = p; p < md.len && md.held[p]; p++)
			;
		assert_true(nr < WG_REASS_MAX_SEGS);
		runs[nr][0] = s;
		runs[nr][1] = p;
		if (md.last_pos >= s && md.last_pos < p)
			first = nr;
		nr++;
	}
	nb = sack(b, RTE_DIM(b));
	assert_int_equal(nb, nr);
	if (nr == 0)
		return;
	if (md.last_pos < md.r)
		first = UINT_MAX;
	else
		assert_true(md.held[md.last_pos]);
	if (first == UINT_MAX) {
		/* any block may lead (the last segment was partly delivered by
		 * the caller), the rest descend */
		for (first = 0; first < nr; first++)
			if (b[0].start == md.base + runs[first][0])
				break;
		assert_true(first < nr);
	}
	expect_block(&b[0], md.base + runs[first][0], md.base + runs[first][1]);
	for (i = 1, j = nr; i < nb; i++) {
		if (--j == first)
			--j;
		expect_block(&b[i], md.base + runs[j][0], md.base + runs[j][1]);
	}
	nb = sack(b3, 3);
	assert_int_equal(nb, RTE_MIN(nr, 3u));
	assert_memory_equal(b3, b, nb * sizeof(b[0]));
}

struct coverage {
	uint64_t multiseg_pops, mismatches, nospc, cut_short, coalesced, wraps, reneged;
	uint64_t full_fit;           /* new data in while full: adjacent entries chained */
};

static struct coverage cov;

/* Insert [a, a+len) XOR fill, as a clone (not writable) or not, and hold
 * the queue to what the model predicts. The held set is read back from q
 * and checked against the prediction, which is exact for writable chains;
 * a clone may be cut short (keeps a part of the fresh bytes), and data at
 * rcv_nxt may push the highest held bytes out when the entries are full. */
static void
md_insert(uint32_t a, uint32_t len, uint8_t fill, bool clone)
{
	static bool old_held[MAXL];
	uint32_t lo = RTE_MAX(a, md.r), hi = RTE_MIN(a + len, md.r + md.wnd), p, k, i;
	uint64_t dup, mm = 0, trimmed = 0, fresh = 0, gained = 0, lost = 0;
	uint64_t bytes_before = q.bytes;
	int64_t top_kept = -1, first_lost = -1, old_top = -1;
	bool in_order = lo < hi && lo == md.r && !md.held[lo];
	struct wg_reass_stats st0 = st;
	struct wg_reass qsave;
	struct rte_mbuf *m;
	uint16_t n_before = q.n;
	int ret;

	/* what the model predicts */
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
	memcpy(&qsave, &q, sizeof(q));
	memcpy(old_held, md.held, sizeof(old_held));

	m = mkseg(md.base + a, len, fill);
	if (clone)
		m = mkclone(m);
	ret = wg_reass_insert(&q, m, md.base + a, md.base + md.r, md.base + md.r + md.wnd, &st);

	if (ret == -ENOSPC) {
		assert_false(in_order);
		assert_true(fresh > 0);
		if (!clone)
			assert_true(bytes_before + fresh > q.max_bytes || n_before == WG_REASS_MAX_SEGS);
		assert_memory_equal(&qsave, &q, sizeof(q));
		st0.full_drops++;
		assert_memory_equal(&st, &st0, sizeof(st));
		cov.nospc++;
		md_check_q();
		return;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(st.dup_bytes - st0.dup_bytes, dup);
	assert_int_equal(st.trimmed_window - st0.trimmed_window, trimmed);
	assert_int_equal(st.overlap_mismatch - st0.overlap_mismatch, mm);
	cov.mismatches += mm;

	/* read the held set back from q */
	for (p = md.r; p < md.len; p++)
		md.held[p] = false;
	for (k = 0; k < q.n; k++) {
		for (i = 0; i < q.segs[k].len; i++) {
			p = q.segs[k].seq - md.base + i;
			assert_true(p >= md.r && p < md.len);
			md.held[p] = true;
			top_kept = p;
			if (!old_held[p]) {
				assert_true(p >= lo && p < hi);
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
		/* only data at rcv_nxt, only when full, only from the top */
		assert_true(in_order && n_before == WG_REASS_MAX_SEGS);
		assert_true(first_lost > top_kept);
		assert_int_equal(lost, old_top - first_lost + 1);
		cov.reneged++;
	}
	assert_int_equal(st.full_drops - st0.full_drops, lost > 0);
	cov.full_fit += n_before == WG_REASS_MAX_SEGS && gained > 0 && lost == 0;
	if (clone) {
		assert_true(gained <= fresh);
		cov.cut_short += gained < fresh;
	} else {
		assert_int_equal(gained, fresh);
		if (fresh > 0 && !in_order)
			assert_true(bytes_before + fresh <= q.max_bytes);
		cov.coalesced += fresh > 0 && q.n <= n_before && lost == 0;
	}
	assert_int_equal(st.queued - st0.queued, gained > 0);
	assert_int_equal(q.bytes, bytes_before - lost + gained);
	/* [lo, hi) is one run now, or (cut short) starts one with the kept
	 * part; either way the block of the last segment touched */
	if (lo < hi)
		md.last_pos = lo;
	md_check_q();
}

static void
md_pop(void)
{
	uint32_t rcv = md.base + md.r, i;
	struct rte_mbuf *m;
	uint8_t got[MAXL];

	while ((m = wg_reass_pop(&q, &rcv)) != NULL) {
		check_chain(m);
		assert_true(m->pkt_len > 0 && md.r + m->pkt_len <= md.len);
		read_chain(m, 0, m->pkt_len, got);
		for (i = 0; i < m->pkt_len; i++) {
			assert_true(md.held[md.r + i]);
			assert_int_equal(got[i], md_byte(md.r + i));
			md.held[md.r + i] = false;
		}
		cov.multiseg_pops += m->nb_segs > 1;
		cov.wraps += md.base + md.r + m->pkt_len < md.base + md.r;
		md.r += m->pkt_len;
		assert_int_equal(rcv, md.base + md.r);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(rcv, md.base + md.r);
	assert_true(md.r == md.len || !md.held[md.r]);
}

/* The caller got in-order data itself and moved rcv_nxt over k bytes. */
static void
md_deliver(uint32_t k)
{
	uint32_t p;

	for (p = md.r; p < md.r + k; p++)
		md.held[p] = false;
	md.r += k;
	md_pop();
}

static void
run_stream(void)
{
	uint32_t ops, a, len;
	unsigned int what;
	/* one stream in eight: tiny segments all over, to fill the entries */
	bool holey = rnd_below(8) == 0;

	memset(&md, 0, sizeof(md));
	switch (rnd_below(3)) {
	case 0:
		md.base = rnd();
		break;
	case 1:
		md.base = 0u - 1 - rnd_below(2 * MAXL);
		break;
	default:
		md.base = 0x80000000u - rnd_below(2 * MAXL);
		break;
	}
	md.len = holey ? MAXL : 1 + rnd_below(MAXL);
	md.last_pos = -1;
	wg_reass_init(&q, rnd_below(4) == 0 && !holey ? 1 + rnd_below(600) : BIG_WND);
	for (ops = 0; ops < (holey ? 500u : 200u) && md.r < md.len; ops++) {
		md.wnd = rnd_below(8) == 0 ? rnd_below(4) : 1 + rnd_below(MAXL);
		what = rnd_below(100);
		if (holey && what < 80) {
			md.wnd = MAXL;
			a = what < 72 ? md.r + 1 + rnd_below(MAXL) : md.r;
			len = 1 + rnd_below(3);
		} else if (what < 65) {
			a = md.r > 40 ? md.r - 40 + rnd_below(md.wnd + 80) : rnd_below(md.wnd + 40);
			len = 1 + rnd_below(rnd_below(4) == 0 ? 600 : 120);
		} else if (what < 80) {
			a = md.r;
			len = 1 + rnd_below(300);
		} else if (what < 90) {
			md_deliver(RTE_MIN(1 + rnd_below(100), md.len - md.r));
			md_check_q();
			md_check_sack();
			continue;
		} else {
			md_pop();
			md_check_q();
			md_check_sack();
			continue;
		}
		if (a >= md.len)
			continue;
		len = RTE_MIN(len, md.len - a);
		md_insert(a, len, rnd_below(6) == 0 ? (uint8_t)(1 + rnd_below(255)) : NO_FILL,
			  rnd_below(10) == 0);
		md_check_sack();
		if (rnd_below(3) == 0) {
			md_pop();
			md_check_sack();
		}
	}
	wg_reass_flush(&q);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
}

static void
test_random_workload(void **state)
{
	unsigned int i;

	(void)state;
	memset(&cov, 0, sizeof(cov));
	for (i = 0; i < 1500; i++)
		run_stream();
	/* the workload reached what it is meant to test */
	assert_true(cov.multiseg_pops > 100);
	assert_true(cov.mismatches > 100);
	assert_true(cov.nospc > 100);
	assert_true(cov.cut_short > 10);
	assert_true(cov.coalesced > 100);
	assert_true(cov.wraps > 10);
	/* a full queue chains adjacent entries before it reneges: reneging
	 * takes WG_REASS_MAX_SEGS disjoint runs, rarer in this workload */
	assert_true(cov.reneged > 3);
	assert_true(cov.full_fit > 10);
}

/* ---- misc ---- */

static void
test_invalid_and_empty(void **state)
{
	struct rte_mbuf *m;
	uint32_t r = 0;

	(void)state;
	assert_int_equal(wg_reass_insert(&q, NULL, 0, 0, 100, &st), -EINVAL);
	assert_int_equal(wg_reass_insert(NULL, mkseg(0, 10, NO_FILL), 0, 0, 100, &st), -EINVAL);
	m = mkseg_shape(10, 300, NO_FILL, SHAPE_TIGHT);
	m->pkt_len = 299;
	assert_int_equal(wg_reass_insert(&q, m, 10, 0, 1000, &st), -EINVAL);
	m = mkseg_shape(10, 300, NO_FILL, SHAPE_TIGHT);
	m->nb_segs = 2;
	assert_int_equal(wg_reass_insert(&q, m, 10, 0, 1000, &st), -EINVAL);
	assert_int_equal(wg_reass_insert(&q, mkseg(10, 0, NO_FILL), 10, 0, 1000, &st), 0);
	expect_stats(0, 0, 0, 0, 0);
	/* counters are optional */
	assert_int_equal(wg_reass_insert(&q, mkseg(10, 5, NO_FILL), 10, 0, 1000, NULL), 0);
	assert_int_equal(q.n, 1);
	assert_null(wg_reass_pop(NULL, &r));
	assert_null(wg_reass_pop(&q, NULL));
	assert_true(wg_reass_empty(NULL));
	wg_reass_flush(NULL);
	wg_reass_init(NULL, 0);
}

static void
test_flush_and_dump(void **state)
{
	char buf[4096];
	FILE *f;
	unsigned int k;

	(void)state;
	for (k = 0; k < 40; k++)
		assert_int_equal(ins(1000 * k + 1, 300 + k, NO_FILL, 0, BIG_WND), 0);
	assert_true(rte_mempool_in_use_count(mp) >= 40 * 3);
	f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	wg_reass_dump(f, &q);
	fclose(f);
	assert_non_null(strstr(buf, "reass n 40 bytes 12780 "));
	assert_non_null(strstr(buf, "[39] seq 39001 len 339 end 39340"));
	wg_reass_flush(&q);
	assert_int_equal(rte_mempool_in_use_count(mp), 0);
	assert_int_equal(q.n, 0);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.last, WG_REASS_LAST_NONE);
	assert_int_equal(q.max_bytes, BIG_WND);
	/* usable again */
	assert_int_equal(ins(5, 5, NO_FILL, 0, BIG_WND), 0);
	assert_int_equal(q.last, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_in_order_and_gap),
		T(test_before_rcv_nxt),
		T(test_window_trim),
		T(test_wraparound),
		T(test_overlap_inner_mismatch),
		T(test_overlap_edges),
		T(test_overlap_all_held),
		T(test_overlap_not_writable),
		T(test_cap_bytes),
		T(test_cap_segs),
		T(test_pop_chains_and_partial),
		T(test_pop_nb_segs_limit),
		T(test_sack_order),
		T(test_coalesce),
		T(test_permutations),
		T(test_random_workload),
		T(test_invalid_and_empty),
		T(test_flush_and_dump),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
