/* SPDX-License-Identifier: BSD-3-Clause
 * Seeded impairment stage (netem semantics, our own code). Per packet, in
 * this order and each with its own draw:
 *   loss     drop (freed, counted in lost);
 *   dup      a deep copy (rte_pktmbuf_copy into im->pool, never a refcnt
 *            alias: whoever transmits frees each) that leaves right after
 *            its original: same release time, next order;
 *   delay    delay_us + a uniform jitter in [-jitter_us, +jitter_us],
 *            clamped at 0. Independent draws per packet, so jitter reorders;
 *   reorder  with reorder_ppm, an extra hold of reorder_us so the packets
 *            behind it overtake it. reorder_us 0 means 2 * jitter_us + 1000:
 *            the smallest hold that lets every packet arriving within the
 *            next millisecond overtake it, whatever the jitter draws are.
 *
 * Held packets sit in a binary min-heap on (release_tsc, order); order is an
 * arrival counter, so the order is total and equal release times keep FIFO
 * order. Insert and pop are O(log n); a full heap drops the newcomer
 * (overflow). A packet with zero total delay that finds the heap empty goes
 * straight to out, so a loss/dup-only stage never touches the heap.
 *
 * Randomness is xorshift128+ seeded through splitmix64, consumed in a fixed
 * order (loss, dup, jitter, reorder; a draw only when its knob is set), so
 * the output is a function of (conf, seed, input, now_tsc values). Bounded
 * draws use Lemire's multiply-shift with rejection on the high 32 bits:
 * exactly uniform, no modulo bias.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "impair.h"

#define IMPAIR_US_PER_S    1000000u
#define REORDER_GAP_US     1000u       /* default hold beyond the jitter window */

/* -------------------------------------------------------------- random */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t
rng_next(uint64_t s[2])
{
	uint64_t a = s[0];
	const uint64_t b = s[1];

	s[0] = b;
	a ^= a << 23;
	s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	return s[1] + b;
}

/* Uniform in [0, bound), bound >= 1. The low bits of xorshift128+ are its
 * weakest, so only the high 32 are used. A draw is rejected when it falls in
 * the 2^32 mod bound values that would over-represent the low results. */
static inline uint32_t
rng_below(uint64_t s[2], uint32_t bound)
{
	const uint32_t reject = (uint32_t)(-bound) % bound;   /* 2^32 mod bound */
	uint64_t m;

	do
		m = (rng_next(s) >> 32) * (uint64_t)bound;
	while ((uint32_t)m < reject);
	return (uint32_t)(m >> 32);
}

/* true with probability ppm / 1e6; no draw at 0 or 1e6. */
static inline bool
rng_chance(uint64_t s[2], uint32_t ppm)
{
	if (ppm == 0)
		return false;
	if (ppm >= WG_IMPAIR_PPM)
		return true;
	return rng_below(s, WG_IMPAIR_PPM) < ppm;
}

/* ---------------------------------------------------------------- heap */

static inline bool
held_before(const struct wg_impair_held *a, const struct wg_impair_held *b)
{
	return a->release_tsc < b->release_tsc ||
	       (a->release_tsc == b->release_tsc && a->order < b->order);
}

/* Caller checked im->n < WG_IMPAIR_QLEN. */
static void
heap_push(struct wg_impair *im, uint64_t release_tsc, struct rte_mbuf *m)
{
	struct wg_impair_held e = { .release_tsc = release_tsc, .order = im->seq++, .m = m };
	uint32_t i = im->n++, parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!held_before(&e, &im->heap[parent]))
			break;
		im->heap[i] = im->heap[parent];
		i = parent;
	}
	im->heap[i] = e;
}

/* Removes the root; caller checked im->n > 0. */
static struct rte_mbuf *
heap_pop(struct wg_impair *im)
{
	struct rte_mbuf *m = im->heap[0].m;
	struct wg_impair_held last;
	uint32_t i = 0, child, n;

	n = --im->n;
	if (n == 0)
		return m;
	last = im->heap[n];
	for (;;) {
		child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && held_before(&im->heap[child + 1], &im->heap[child]))
			child++;
		if (!held_before(&im->heap[child], &last))
			break;
		im->heap[i] = im->heap[child];
		i = child;
	}
	im->heap[i] = last;
	return m;
}

/* --------------------------------------------------------------- stage */

bool
wg_impair_active(const struct wg_impair_conf *c)
{
	return c != NULL && (c->loss_ppm != 0 || c->dup_ppm != 0 || c->reorder_ppm != 0 ||
			     c->delay_us != 0 || c->jitter_us != 0);
}

int
wg_impair_init(struct wg_impair *im, const struct wg_impair_conf *conf, uint64_t seed,
	       struct rte_mempool *pool, uint64_t tsc_hz)
{
	uint64_t x = seed;

	if (im == NULL || conf == NULL)
		return -EINVAL;
	if (conf->loss_ppm > WG_IMPAIR_PPM || conf->dup_ppm > WG_IMPAIR_PPM ||
	    conf->reorder_ppm > WG_IMPAIR_PPM)
		return -EINVAL;
	if (conf->delay_us > WG_IMPAIR_US_MAX || conf->jitter_us > WG_IMPAIR_US_MAX ||
	    conf->reorder_us > WG_IMPAIR_US_MAX)
		return -EINVAL;
	if (tsc_hz == 0 || tsc_hz > WG_IMPAIR_TSC_HZ_MAX)
		return -EINVAL;
	if (conf->dup_ppm != 0 && pool == NULL)
		return -EINVAL;

	/* Only the header: the heap is written before it is read. */
	memset(im, 0, offsetof(struct wg_impair, heap));
	im->conf = *conf;
	im->pool = pool;
	im->tsc_hz = tsc_hz;
	im->tsc_per_us = tsc_hz / IMPAIR_US_PER_S;
	im->rng[0] = splitmix64(&x);
	im->rng[1] = splitmix64(&x);
	if ((im->rng[0] | im->rng[1]) == 0)   /* the one state xorshift never leaves */
		im->rng[1] = 1;
	return 0;
}

/* Exact for every tsc_hz, no 128-bit product: us <= 4e7 (delay + jitter +
 * default hold) and tsc_hz <= 1e12 keep both terms below 2^63. */
static inline uint64_t
us_to_tsc(const struct wg_impair *im, uint64_t us)
{
	return us * im->tsc_per_us + us * (im->tsc_hz % IMPAIR_US_PER_S) / IMPAIR_US_PER_S;
}

/* Total hold of one packet in microseconds; counts it reordered. */
static uint64_t
draw_hold_us(struct wg_impair *im)
{
	const struct wg_impair_conf *c = &im->conf;
	int64_t d = c->delay_us;
	uint64_t us;

	if (c->jitter_us != 0)
		d += (int64_t)rng_below(im->rng, 2 * c->jitter_us + 1) - c->jitter_us;
	us = d > 0 ? (uint64_t)d : 0;
	if (rng_chance(im->rng, c->reorder_ppm)) {
		us += c->reorder_us != 0 ? c->reorder_us :
		      2 * (uint64_t)c->jitter_us + REORDER_GAP_US;
		im->st.reordered++;
	}
	return us;
}

/* Hold m until release_tsc, or drop it if the heap is full. */
static void
hold(struct wg_impair *im, struct rte_mbuf *m, uint64_t release_tsc)
{
	if (im->n == WG_IMPAIR_QLEN) {
		rte_pktmbuf_free(m);
		im->st.overflow++;
		return;
	}
	heap_push(im, release_tsc, m);
}

/* in and out may be the same array: out[k] is written only once in[k] has
 * been read, i.e. k <= i. Each input adds at most one to k except a copy,
 * and a copy that would make k pass i is held (due now) instead, so k <= i
 * holds whenever an original is written. Once anything is held every later
 * packet is held too, so the output order never depends on which path a
 * packet took. */
unsigned int
wg_impair_burst(struct wg_impair *im, struct rte_mbuf **in, unsigned int n,
		struct rte_mbuf **out, unsigned int max, uint64_t now_tsc)
{
	struct rte_mbuf *m, *copy;
	unsigned int i, k = 0;
	uint64_t us, release;

	im->st.in += n;
	for (i = 0; i < n; i++) {
		m = in[i];
		if (rng_chance(im->rng, im->conf.loss_ppm)) {
			rte_pktmbuf_free(m);
			im->st.lost++;
			continue;
		}
		copy = NULL;
		if (rng_chance(im->rng, im->conf.dup_ppm)) {
			copy = rte_pktmbuf_copy(m, im->pool, 0, UINT32_MAX);
			if (copy != NULL)
				im->st.duplicated++;
			else
				im->st.dup_nomem++;
		}
		us = draw_hold_us(im);
		if (us == 0 && im->n == 0 && k < max) {
			out[k++] = m;
			m = copy;
			copy = NULL;
			if (m == NULL)
				continue;
			if (im->n == 0 && k < max && (out != in || k <= i)) {
				out[k++] = m;
				continue;
			}
		}
		if (us != 0)
			im->st.delayed++;
		release = now_tsc + us_to_tsc(im, us);
		hold(im, m, release);
		if (copy != NULL)
			hold(im, copy, release);
	}

	while (k < max && im->n != 0 && im->heap[0].release_tsc <= now_tsc)
		out[k++] = heap_pop(im);
	im->st.out += k;
	return k;
}

void
wg_impair_flush(struct wg_impair *im)
{
	uint32_t i;

	for (i = 0; i < im->n; i++)
		rte_pktmbuf_free(im->heap[i].m);
	im->st.flushed += im->n;
	im->n = 0;
}

void
wg_impair_dump(FILE *f, const struct wg_impair *im)
{
	const struct wg_impair_conf *c = &im->conf;
	const struct wg_impair_stats *s = &im->st;

	fprintf(f, "impair: loss %" PRIu32 " ppm, dup %" PRIu32 " ppm, reorder %" PRIu32
		" ppm, delay %" PRIu32 " us, jitter %" PRIu32 " us, reorder hold %" PRIu32
		" us%s\n", c->loss_ppm, c->dup_ppm, c->reorder_ppm, c->delay_us, c->jitter_us,
		c->reorder_us, c->reorder_us == 0 ? " (default)" : "");
	fprintf(f, "  held %" PRIu32 "/%u, next release tsc %" PRIu64 "\n", im->n,
		WG_IMPAIR_QLEN, wg_impair_next_tsc(im));
	fprintf(f, "  in %" PRIu64 " out %" PRIu64 " lost %" PRIu64 " duplicated %" PRIu64
		" reordered %" PRIu64 " delayed %" PRIu64 " overflow %" PRIu64
		" dup_nomem %" PRIu64 " flushed %" PRIu64 "\n", s->in, s->out, s->lost,
		s->duplicated, s->reordered, s->delayed, s->overflow, s->dup_nomem, s->flushed);
}
