/* SPDX-License-Identifier: BSD-3-Clause
 * Impairment stage: real mbufs from a --no-huge EAL, a fake clock (tsc_hz =
 * 1e9, so one tick is one nanosecond) and packets that carry their sequence
 * number and a pattern derived from it. Statistical checks allow 5 binomial
 * standard deviations (a false failure about once in 1.7 million runs, and
 * the seeds are fixed, so a given build passes or fails every time).
 */
#include <errno.h>
#include <inttypes.h>
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

#include "impair.h"
#include "../eal_runtime.h"

#define TSC_HZ      1000000000ull     /* fake clock: 1 tick = 1 ns */
#define US          1000ull           /* ticks per microsecond */
#define PKT_LEN     64u
#define POOL_SIZE   16383u
#define OUT_MAX     64u
#define NO_SEQ      UINT64_MAX

static struct rte_mempool *pool;      /* originals */
static struct rte_mempool *dup_pool;  /* duplicates: tells a copy by its pool */
static struct wg_impair im, im2;      /* ~100 KiB each: not on the stack */

/* What came out, in order. */
struct rec {
	uint64_t seq;
	uint64_t t;                       /* now_tsc of the call that released it */
	bool dup;                         /* came from dup_pool */
};

static uint8_t
pattern(uint64_t seq, unsigned int i)
{
	return (uint8_t)(seq * 31 + i * 7 + 1);
}

static struct rte_mbuf *
mk(uint64_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	unsigned int i;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, PKT_LEN);
	assert_non_null(p);
	memcpy(p, &seq, sizeof(seq));
	for (i = sizeof(seq); i < PKT_LEN; i++)
		p[i] = pattern(seq, i);
	return m;
}

/* Sequence number of m, after checking its bytes are intact. */
static uint64_t
seq_of(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t seq;
	unsigned int i;

	assert_int_equal(rte_pktmbuf_pkt_len(m), PKT_LEN);
	assert_int_equal(rte_pktmbuf_data_len(m), PKT_LEN);
	assert_int_equal(rte_mbuf_refcnt_read(m), 1);
	memcpy(&seq, p, sizeof(seq));
	for (i = sizeof(seq); i < PKT_LEN; i++)
		if (p[i] != pattern(seq, i))
			fail_msg("packet %" PRIu64 ": byte %u is 0x%02x, want 0x%02x", seq, i,
				 p[i], pattern(seq, i));
	return seq;
}

static struct wg_impair_conf
conf_of(uint32_t loss, uint32_t dup, uint32_t reorder, uint32_t delay_us, uint32_t jitter_us,
	uint32_t reorder_us)
{
	struct wg_impair_conf c = {
		.loss_ppm = loss, .dup_ppm = dup, .reorder_ppm = reorder,
		.delay_us = delay_us, .jitter_us = jitter_us, .reorder_us = reorder_us,
	};
	return c;
}

static void
init(struct wg_impair *s, struct wg_impair_conf c, uint64_t seed)
{
	assert_int_equal(wg_impair_init(s, &c, seed, dup_pool, TSC_HZ), 0);
}

/* in + duplicated = out + lost + overflow + flushed + held, always. */
static void
assert_conserved(const struct wg_impair *s)
{
	const struct wg_impair_stats *st = &s->st;

	if (st->in + st->duplicated !=
	    st->out + st->lost + st->overflow + st->flushed + wg_impair_held(s))
		fail_msg("not conserved: in %" PRIu64 " dup %" PRIu64 " out %" PRIu64
			 " lost %" PRIu64 " overflow %" PRIu64 " flushed %" PRIu64 " held %u",
			 st->in, st->duplicated, st->out, st->lost, st->overflow, st->flushed,
			 wg_impair_held(s));
}

static unsigned int base_in_use, base_dup_in_use;

static void
assert_no_leak(void)
{
	assert_int_equal(rte_mempool_in_use_count(pool), base_in_use);
	assert_int_equal(rte_mempool_in_use_count(dup_pool), base_dup_in_use);
}

/* Newton's square root, so the test needs no libm. */
static double
root(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	for (i = 0; i < 100; i++)
		r = (r + x / r) / 2;
	return r;
}

static double
absd(double x)
{
	return x < 0 ? -x : x;
}

/* Chance of at least 5 sd away; the bound is on |x - np|. */
static void
assert_binomial(uint64_t x, uint64_t n, double p, const char *what)
{
	double mean = (double)n * p, sd = root((double)n * p * (1 - p));

	if (absd((double)x - mean) > 5 * sd)
		fail_msg("%s: %" PRIu64 " of %" PRIu64 ", expected %.1f +- %.1f (5 sd)", what, x, n,
			 mean, 5 * sd);
}

/* Sends npkts packets, per_step per call with the clock advancing step
 * ticks per call; then, if drain, keeps calling with n = 0 until nothing is
 * held. Outputs are checked, recorded (up to cap) and freed. Returns the
 * number of packets that came out. */
static size_t
drive(struct wg_impair *s, uint64_t npkts, unsigned int per_step, uint64_t step, bool drain,
      struct rec *recs, size_t cap)
{
	struct rte_mbuf *in[OUT_MAX], *out[OUT_MAX];
	uint64_t seq = 0, now = 0, guard;
	size_t got = 0;
	unsigned int n, k, j;

	assert_true(per_step <= OUT_MAX);
	for (guard = 0;; guard++, now += step) {
		assert_true(guard < 100000000);
		if (seq >= npkts && (!drain || wg_impair_held(s) == 0))
			break;
		for (n = 0; n < per_step && seq < npkts; n++)
			in[n] = mk(seq++);
		/* keep calling while the output fills: all due packets leave now */
		do {
			k = wg_impair_burst(s, in, n, out, OUT_MAX, now);
			n = 0;
			for (j = 0; j < k; j++) {
				if (recs != NULL && got < cap) {
					recs[got].seq = seq_of(out[j]);
					recs[got].t = now;
					recs[got].dup = out[j]->pool == dup_pool;
				}
				got++;
				rte_pktmbuf_free(out[j]);
			}
		} while (k == OUT_MAX);
		assert_conserved(s);
	}
	return got;
}

/* ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
	char prefix[64];
	char *argv[] = {
		(char *)"test", (char *)"--no-huge", (char *)"-m", (char *)"64",
		(char *)"--no-pci", (char *)"--no-shconf", (char *)"--no-telemetry",
		(char *)"--log-level=error", prefix,
	};

	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=imp%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0)
		return -1;
	/* small data room: these packets are 64 bytes */
	pool = rte_pktmbuf_pool_create("imp_pool", POOL_SIZE, 32, 0,
				       RTE_PKTMBUF_HEADROOM + 256, SOCKET_ID_ANY);
	dup_pool = rte_pktmbuf_pool_create("imp_dup", POOL_SIZE, 0, 0,
					   RTE_PKTMBUF_HEADROOM + 256, SOCKET_ID_ANY);
	return pool != NULL && dup_pool != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char rundir[PATH_MAX];

	(void)state;
	rte_mempool_free(dup_pool);
	rte_mempool_free(pool);
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);   /* the EAL leaves its (empty, with --no-shconf) run dir */
	return 0;
}

/* Each test leaves both pools as it found them. The baseline is taken per
 * test, so one leaking test fails alone instead of every test after it. */

static int
test_setup(void **state)
{
	(void)state;
	memset(&im, 0, sizeof(im));
	memset(&im2, 0, sizeof(im2));
	base_in_use = rte_mempool_in_use_count(pool);
	base_dup_in_use = rte_mempool_in_use_count(dup_pool);
	return 0;
}

static int
test_teardown(void **state)
{
	(void)state;
	wg_impair_flush(&im);
	wg_impair_flush(&im2);
	if (rte_mempool_in_use_count(pool) != base_in_use ||
	    rte_mempool_in_use_count(dup_pool) != base_dup_in_use) {
		fprintf(stderr, "leak: %u originals, %u duplicates in use\n",
			rte_mempool_in_use_count(pool) - base_in_use,
			rte_mempool_in_use_count(dup_pool) - base_dup_in_use);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void
test_init_args(void **state)
{
	struct wg_impair_conf c = conf_of(0, 0, 0, 0, 0, 0);

	(void)state;
	assert_false(wg_impair_active(&c));
	assert_false(wg_impair_active(NULL));
	c.reorder_us = 5;                   /* a hold without a probability does nothing */
	assert_false(wg_impair_active(&c));
	c = conf_of(1, 0, 0, 0, 0, 0);
	assert_true(wg_impair_active(&c));
	c = conf_of(0, 1, 0, 0, 0, 0);
	assert_true(wg_impair_active(&c));
	c = conf_of(0, 0, 1, 0, 0, 0);
	assert_true(wg_impair_active(&c));
	c = conf_of(0, 0, 0, 1, 0, 0);
	assert_true(wg_impair_active(&c));
	c = conf_of(0, 0, 0, 0, 1, 0);
	assert_true(wg_impair_active(&c));

	c = conf_of(1000000, 1000000, 1000000, WG_IMPAIR_US_MAX, WG_IMPAIR_US_MAX,
		    WG_IMPAIR_US_MAX);
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, TSC_HZ), 0);
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, WG_IMPAIR_TSC_HZ_MAX), 0);
	assert_int_equal(wg_impair_init(NULL, &c, 1, dup_pool, TSC_HZ), -EINVAL);
	assert_int_equal(wg_impair_init(&im, NULL, 1, dup_pool, TSC_HZ), -EINVAL);
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, 0), -EINVAL);
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, WG_IMPAIR_TSC_HZ_MAX + 1),
			 -EINVAL);
	assert_int_equal(wg_impair_init(&im, &c, 1, NULL, TSC_HZ), -EINVAL);   /* dup, no pool */
	c.loss_ppm = 1000001;
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, TSC_HZ), -EINVAL);
	c.loss_ppm = 0;
	c.dup_ppm = 1000001;
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, TSC_HZ), -EINVAL);
	c.dup_ppm = 0;
	c.reorder_ppm = 1000001;
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, TSC_HZ), -EINVAL);
	c.reorder_ppm = 0;
	c.delay_us = WG_IMPAIR_US_MAX + 1;
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, TSC_HZ), -EINVAL);
	c.delay_us = 0;
	c.jitter_us = WG_IMPAIR_US_MAX + 1;
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, TSC_HZ), -EINVAL);
	c.jitter_us = 0;
	c.reorder_us = WG_IMPAIR_US_MAX + 1;
	assert_int_equal(wg_impair_init(&im, &c, 1, dup_pool, TSC_HZ), -EINVAL);
	c.reorder_us = 0;
	/* no duplicates wanted: no pool needed */
	assert_int_equal(wg_impair_init(&im, &c, 1, NULL, TSC_HZ), 0);

	/* seed 0 still gives a working generator: a coin lands both ways */
	c = conf_of(500000, 0, 0, 0, 0, 0);
	assert_int_equal(wg_impair_init(&im, &c, 0, NULL, TSC_HZ), 0);
	assert_true(im.rng[0] != 0 || im.rng[1] != 0);
	assert_int_equal(drive(&im, 1000, 10, US, false, NULL, 0) + im.st.lost, 1000);
	assert_true(im.st.lost > 400 && im.st.lost < 600);
}

/* All-zero conf: the very pointers, in order, and the heap never used. */
static void
test_passthrough(void **state)
{
	struct rte_mbuf *in[32], *out[32], *orig[32];
	uint64_t rng0, rng1;
	unsigned int i, k, round;

	(void)state;
	init(&im, conf_of(0, 0, 0, 0, 0, 0), 7);
	rng0 = im.rng[0];
	rng1 = im.rng[1];
	for (round = 0; round < 100; round++) {
		for (i = 0; i < 32; i++)
			orig[i] = in[i] = mk(round * 32 + i);
		/* separate arrays, then the same array */
		if (round % 2 == 0) {
			k = wg_impair_burst(&im, in, 32, out, 32, round * US);
		} else {
			k = wg_impair_burst(&im, in, 32, in, 32, round * US);
			memcpy(out, in, sizeof(out));
		}
		assert_int_equal(k, 32);
		for (i = 0; i < 32; i++) {
			assert_ptr_equal(out[i], orig[i]);
			assert_int_equal(seq_of(out[i]), round * 32 + i);
		}
		assert_int_equal(wg_impair_held(&im), 0);
		rte_pktmbuf_free_bulk(out, 32);
	}
	/* nothing drawn from the generator, nothing counted but in/out */
	assert_int_equal(im.rng[0], rng0);
	assert_int_equal(im.rng[1], rng1);
	assert_int_equal(im.seq, 0);
	assert_int_equal(im.st.in, 3200);
	assert_int_equal(im.st.out, 3200);
	assert_int_equal(im.st.lost + im.st.duplicated + im.st.delayed + im.st.reordered +
			 im.st.overflow, 0);
	/* n = 0 with nothing held is a no-op */
	assert_int_equal(wg_impair_burst(&im, NULL, 0, out, 32, 0), 0);

	/* a smaller max: the rest is held, due now, and leaves first next time */
	for (i = 0; i < 32; i++)
		in[i] = mk(i);
	k = wg_impair_burst(&im, in, 32, out, 20, 0);
	assert_int_equal(k, 20);
	assert_int_equal(wg_impair_held(&im), 12);
	for (i = 0; i < 20; i++)
		assert_int_equal(seq_of(out[i]), i);
	rte_pktmbuf_free_bulk(out, 20);
	in[0] = mk(32);
	k = wg_impair_burst(&im, in, 1, out, 32, 0);
	assert_int_equal(k, 13);
	for (i = 0; i < 13; i++)
		assert_int_equal(seq_of(out[i]), 20 + i);
	rte_pktmbuf_free_bulk(out, 13);
	assert_conserved(&im);
}

/* Loss and dup only: the heap stays empty while out has room, even when in
 * and out are one array and duplicates outnumber the slots already read. */
static void
test_fast_path_loss_dup(void **state)
{
	struct rte_mbuf *arr[64];
	uint64_t seq = 0, last = 0;
	unsigned int i, k, round;
	bool first = true;

	(void)state;
	init(&im, conf_of(100000, 100000, 0, 0, 0, 0), 99);
	for (round = 0; round < 2000; round++) {
		for (i = 0; i < 32; i++)
			arr[i] = mk(seq++);
		k = wg_impair_burst(&im, arr, 32, arr, 64, 0);
		assert_int_equal(wg_impair_held(&im), 0);  /* all due now, room for all */
		for (i = 0; i < k; i++) {
			uint64_t s = seq_of(arr[i]);
			bool dup = arr[i]->pool == dup_pool;

			/* in order; a copy right behind its original */
			if (dup)
				assert_int_equal(s, last);
			else
				assert_true(first || s > last);
			first = false;
			last = s;
		}
		rte_pktmbuf_free_bulk(arr, k);
	}
	assert_conserved(&im);
	assert_int_equal(im.st.delayed + im.st.reordered + im.st.overflow, 0);
	assert_binomial(im.st.lost, im.st.in, 0.1, "lost");
	assert_binomial(im.st.duplicated, im.st.in - im.st.lost, 0.1, "duplicated");
}

/* Same seed and input: the same output, times and counters; another seed
 * differs. */
static void
test_determinism(void **state)
{
	const size_t cap = 40000;
	struct wg_impair_conf c = conf_of(50000, 50000, 100000, 1000, 500, 0);
	struct rec *a = calloc(cap, sizeof(*a)), *b = calloc(cap, sizeof(*b));
	size_t na, nb;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	init(&im, c, 42);
	na = drive(&im, 20000, 8, 10 * US, true, a, cap);
	init(&im2, c, 42);
	nb = drive(&im2, 20000, 8, 10 * US, true, b, cap);
	assert_true(na < cap);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(*a));
	assert_memory_equal(&im.st, &im2.st, sizeof(im.st));
	assert_memory_equal(im.rng, im2.rng, sizeof(im.rng));
	/* every knob fired */
	assert_true(im.st.lost > 0 && im.st.duplicated > 0 && im.st.reordered > 0);

	init(&im2, c, 43);
	memset(b, 0, cap * sizeof(*b));
	nb = drive(&im2, 20000, 8, 10 * US, true, b, cap);
	assert_true(na != nb || memcmp(a, b, na * sizeof(*a)) != 0);
	assert_true(memcmp(&im.st, &im2.st, sizeof(im.st)) != 0);
	free(a);
	free(b);
}

/* The draws are part of the contract (same seed, same impairment, across
 * builds): a model of the documented generator -- splitmix64 seeding,
 * xorshift128+, the high 32 bits, Lemire's bounded draw, one draw per knob
 * that is strictly between 0 and 1e6 ppm, in the order loss, dup -- must
 * predict every decision. This is what pins "ppm draws are exact". */
static uint64_t
model_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
model_next(uint64_t s[2])
{
	uint64_t x = s[0], y = s[1];

	s[0] = y;
	x ^= x << 23;
	s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
	return s[1] + y;
}

/* Rejection sampling, written the slow way: accept the high-32-bit draw r
 * if r * bound mod 2^32 is at least 2^32 mod bound. */
static uint32_t
model_below(uint64_t s[2], uint32_t bound)
{
	const uint64_t two32 = 1ull << 32;

	for (;;) {
		uint64_t r = model_next(s) >> 32, prod = r * bound;

		if (prod % two32 >= two32 % bound)
			return (uint32_t)(prod / two32);
	}
}

static bool
model_chance(uint64_t s[2], uint32_t ppm)
{
	if (ppm == 0 || ppm >= 1000000)
		return ppm != 0;
	return model_below(s, 1000000) < ppm;
}

static void
test_draws_match_model(void **state)
{
	static const struct { uint32_t loss, dup; uint64_t seed; } cases[] = {
		{ 300000, 0, 1 }, { 1, 0, 2 }, { 999999, 0, 3 }, { 250000, 1000000, 0 },
		{ 500000, 500000, UINT64_MAX }, { 0, 123457, 42 },
	};
	struct rte_mbuf *in[16], *out[32];
	uint64_t s[2], x, seq;
	unsigned int c, i, k, j;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		init(&im, conf_of(cases[c].loss, cases[c].dup, 0, 0, 0, 0), cases[c].seed);
		x = cases[c].seed;
		s[0] = model_splitmix(&x);
		s[1] = model_splitmix(&x);
		assert_int_equal(im.rng[0], s[0]);
		assert_int_equal(im.rng[1], s[1]);
		for (seq = 0; seq < 200000;) {
			for (i = 0; i < 16; i++)
				in[i] = mk(seq + i);
			k = wg_impair_burst(&im, in, 16, out, 32, 0);
			for (i = 0, j = 0; i < 16; i++, seq++) {
				if (model_chance(s, cases[c].loss))
					continue;
				assert_true(j < k);
				assert_int_equal(seq_of(out[j++]), seq);
				if (model_chance(s, cases[c].dup)) {
					assert_true(j < k);
					assert_ptr_equal(out[j]->pool, dup_pool);
					assert_int_equal(seq_of(out[j++]), seq);
				}
			}
			assert_int_equal(j, k);
			rte_pktmbuf_free_bulk(out, k);
		}
		assert_memory_equal(im.rng, s, sizeof(s));
	}
}

/* 1e6 packets per rate; with loss alone the order never changes. */
static void
test_loss_rate(void **state)
{
	static const uint32_t rates[] = { 50000, 5000, 500000, 1, 999999 };
	struct rte_mbuf *in[32], *out[32];
	unsigned int r, i, k;
	uint64_t seq, prev;

	(void)state;
	for (r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		init(&im, conf_of(rates[r], 0, 0, 0, 0, 0), 1000 + r);
		prev = NO_SEQ;
		for (seq = 0; seq < 1000000;) {
			for (i = 0; i < 32; i++)
				in[i] = mk(seq++);
			k = wg_impair_burst(&im, in, 32, out, 32, 0);
			for (i = 0; i < k; i++) {
				uint64_t s = seq_of(out[i]);

				assert_true(prev == NO_SEQ || s > prev);
				prev = s;
			}
			rte_pktmbuf_free_bulk(out, k);
		}
		assert_int_equal(im.st.in, 1000000);
		assert_int_equal(im.st.out + im.st.lost, 1000000);
		assert_int_equal(wg_impair_held(&im), 0);
		if (rates[r] == 1)
			assert_true(im.st.lost <= 10);            /* Poisson(1) */
		else if (rates[r] == 999999)
			assert_true(im.st.out <= 10);
		else
			assert_binomial(im.st.lost, 1000000, rates[r] / 1e6, "lost");
		assert_no_leak();
	}

	/* 0% and 100% are certain and draw nothing */
	init(&im, conf_of(1000000, 0, 0, 0, 0, 0), 5);
	assert_int_equal(drive(&im, 10000, 32, 0, false, NULL, 0), 0);
	assert_int_equal(im.st.lost, 10000);
	init(&im, conf_of(0, 1000000, 0, 0, 0, 0), 5);
	assert_int_equal(drive(&im, 10000, 32, 0, false, NULL, 0), 20000);
	assert_int_equal(im.st.lost, 0);
	assert_int_equal(im.st.duplicated, 10000);
}

/* Copies: byte-identical, their own buffers, from im->pool, right after the
 * original; no mbuf for a copy is counted and the original still goes. */
static void
test_dup(void **state)
{
	struct rte_mbuf *in[32], *out[64];
	struct rte_mempool *tiny;
	uint64_t seq = 0, originals = 0, copies = 0;
	unsigned int i, k;
	struct wg_impair_conf c = conf_of(0, 100000, 0, 0, 0, 0);

	(void)state;
	init(&im, c, 3);
	while (seq < 100000) {
		for (i = 0; i < 32; i++)
			in[i] = mk(seq++);
		k = wg_impair_burst(&im, in, 32, out, 64, 0);
		for (i = 0; i < k; i++) {
			struct rte_mbuf *m = out[i];

			if (m->pool != dup_pool) {
				assert_ptr_equal(m->pool, pool);
				originals++;
				continue;
			}
			copies++;
			assert_true(i > 0);
			assert_ptr_equal(out[i - 1]->pool, pool);
			assert_int_equal(seq_of(m), seq_of(out[i - 1]));
			assert_int_equal(rte_pktmbuf_pkt_len(m), rte_pktmbuf_pkt_len(out[i - 1]));
			assert_memory_equal(rte_pktmbuf_mtod(m, void *),
					    rte_pktmbuf_mtod(out[i - 1], void *), PKT_LEN);
			/* a real copy: its own buffer, writable without touching the original */
			assert_ptr_not_equal(m->buf_addr, out[i - 1]->buf_addr);
			assert_false(RTE_MBUF_CLONED(m));
			assert_int_equal(rte_mbuf_refcnt_read(out[i - 1]), 1);
			rte_pktmbuf_mtod(m, uint8_t *)[PKT_LEN - 1] ^= 0xff;
			(void)seq_of(out[i - 1]);
		}
		rte_pktmbuf_free_bulk(out, k);
	}
	assert_int_equal(originals, 100000);
	assert_int_equal(copies, im.st.duplicated);
	assert_binomial(copies, 100000, 0.1, "duplicated");
	assert_int_equal(im.st.dup_nomem, 0);
	assert_no_leak();

	/* a pool of 8 runs dry: every copy after that is counted, not made */
	tiny = rte_pktmbuf_pool_create("imp_tiny", 8, 0, 0, RTE_PKTMBUF_HEADROOM + 256,
				       SOCKET_ID_ANY);
	assert_non_null(tiny);
	c.dup_ppm = 1000000;
	assert_int_equal(wg_impair_init(&im, &c, 3, tiny, TSC_HZ), 0);
	for (i = 0; i < 20; i++)
		in[i] = mk(i);
	k = wg_impair_burst(&im, in, 20, out, 64, 0);
	assert_int_equal(k, 28);
	assert_int_equal(im.st.duplicated, 8);
	assert_int_equal(im.st.dup_nomem, 12);
	for (i = 0; i < 16; i += 2) {
		assert_ptr_equal(out[i + 1]->pool, tiny);
		assert_int_equal(seq_of(out[i + 1]), seq_of(out[i]));
	}
	for (; i < 28; i++)
		assert_int_equal(seq_of(out[i]), i - 8);
	assert_int_equal(rte_mempool_in_use_count(tiny), 8);
	rte_pktmbuf_free_bulk(out, k);
	assert_int_equal(rte_mempool_in_use_count(tiny), 0);
	rte_mempool_free(tiny);
}

/* Fixed delay: nothing early, everything exactly on time, FIFO among equal
 * release times, including at a tsc_hz that is not a whole number of MHz. */
static void
test_delay_exact(void **state)
{
	struct rte_mbuf *in[8], *out[OUT_MAX];
	struct rec *r = calloc(20000, sizeof(*r));
	size_t n, i;
	unsigned int k;
	uint64_t t;

	(void)state;
	assert_non_null(r);
	init(&im, conf_of(0, 0, 0, 1000, 0, 0), 1);
	n = drive(&im, 10000, 4, 8 * US, true, r, 20000);
	assert_int_equal(n, 10000);
	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].seq, i);                   /* FIFO */
		assert_int_equal(r[i].t, (i / 4) * 8 * US + 1000 * US);  /* on time to the tick */
	}
	assert_int_equal(im.st.delayed, 10000);
	assert_int_equal(im.st.reordered, 0);

	/* one tick early is too early */
	init(&im, conf_of(0, 0, 0, 1000, 0, 0), 1);
	for (i = 0; i < 8; i++)
		in[i] = mk(i);
	assert_int_equal(wg_impair_burst(&im, in, 8, out, OUT_MAX, 5), 0);
	assert_int_equal(wg_impair_next_tsc(&im), 5 + 1000 * US);
	assert_int_equal(wg_impair_burst(&im, NULL, 0, out, OUT_MAX, 5 + 1000 * US - 1), 0);
	assert_int_equal(wg_impair_held(&im), 8);
	k = wg_impair_burst(&im, NULL, 0, out, 3, 5 + 1000 * US);
	assert_int_equal(k, 3);
	k += wg_impair_burst(&im, NULL, 0, out + 3, OUT_MAX - 3, 5 + 1000 * US);
	assert_int_equal(k, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(seq_of(out[i]), i);
	rte_pktmbuf_free_bulk(out, k);
	assert_int_equal(wg_impair_next_tsc(&im), UINT64_MAX);

	/* 1234567891 Hz: 10 ms is 12345678.91 ticks, released at the 12345678th */
	assert_int_equal(wg_impair_init(&im, &(struct wg_impair_conf){ .delay_us = 10000 }, 1,
					NULL, 1234567891ull), 0);
	in[0] = mk(0);
	assert_int_equal(wg_impair_burst(&im, in, 1, out, OUT_MAX, 1000), 0);
	assert_int_equal(wg_impair_next_tsc(&im), 1000 + 12345678);
	t = 1000 + 12345677;
	assert_int_equal(wg_impair_burst(&im, NULL, 0, out, OUT_MAX, t), 0);
	assert_int_equal(wg_impair_burst(&im, NULL, 0, out, OUT_MAX, t + 1), 1);
	rte_pktmbuf_free(out[0]);
	/* the largest hold at the fastest clock does not wrap */
	assert_int_equal(wg_impair_init(&im, &(struct wg_impair_conf){
		.delay_us = WG_IMPAIR_US_MAX, .jitter_us = 0 }, 1, NULL,
		WG_IMPAIR_TSC_HZ_MAX), 0);
	in[0] = mk(0);
	assert_int_equal(wg_impair_burst(&im, in, 1, out, OUT_MAX, 0), 0);
	assert_int_equal(wg_impair_next_tsc(&im), 10 * WG_IMPAIR_TSC_HZ_MAX);
	free(r);
}

/* Delay with jitter: each packet leaves within [delay - jitter, delay +
 * jitter] of its arrival, the whole window is used, the mean is the delay;
 * clamped at zero when jitter exceeds the delay. */
static void
test_jitter_bounds(void **state)
{
	const uint64_t step = 10 * US;
	struct rec *r = calloc(50000, sizeof(*r));
	uint64_t lat, lo = UINT64_MAX, hi = 0, zero = 0;
	double sum = 0;
	size_t n, i;

	(void)state;
	assert_non_null(r);
	init(&im, conf_of(0, 0, 0, 1000, 300, 0), 11);
	n = drive(&im, 50000, 1, step, true, r, 50000);
	assert_int_equal(n, 50000);
	for (i = 0; i < n; i++) {
		lat = r[i].t - r[i].seq * step;
		/* releases are whole microseconds after a send on a 10 us grid, so
		 * the call that sees a packet due is exactly at or within one step */
		assert_true(r[i].t >= r[i].seq * step + 700 * US);
		assert_true(lat <= 1300 * US + step);
		lo = lat < lo ? lat : lo;
		hi = lat > hi ? lat : hi;
	}
	assert_true(lo <= 710 * US);
	assert_true(hi >= 1290 * US);
	/* on the 1 us grid the hold itself is seen: step the clock by 1 us.
	 * Both ends of the window are hit (each misses 50000 draws with
	 * probability e^-83), so [-J, J) or (-J, J] would show. */
	init(&im, conf_of(0, 0, 0, 1000, 300, 0), 11);
	n = drive(&im, 50000, 1, US, true, r, 50000);
	assert_int_equal(n, 50000);
	lo = UINT64_MAX;
	hi = 0;
	for (i = 0; i < n; i++) {
		lat = r[i].t - r[i].seq * US;
		lo = lat < lo ? lat : lo;
		hi = lat > hi ? lat : hi;
		sum += (double)lat / US;
	}
	assert_int_equal(lo, 700 * US);
	assert_int_equal(hi, 1300 * US);
	/* mean of U{-300..300}: 0, sd 173.5 us; 5 sd of the mean of 50000 */
	assert_true(absd(sum / (double)n - 1000) < 5 * 173.5 / root(50000));

	/* jitter > delay: U{-200..400} clamped at 0, so P(0) = 201/601 */
	init(&im, conf_of(0, 0, 0, 100, 300, 0), 12);
	n = drive(&im, 20000, 1, US, true, r, 50000);
	assert_int_equal(n, 20000);
	for (i = 0; i < n; i++) {
		assert_true(r[i].t >= r[i].seq * US);              /* never before it came in */
		lat = r[i].t - r[i].seq * US;
		assert_true(lat <= 400 * US);
		zero += lat == 0;
	}
	assert_binomial(zero, 20000, 201.0 / 601.0, "zero delay");
	assert_int_equal(im.st.delayed, 20000 - zero);
	free(r);
}

/* Number of i with pos[i] > pos[i + 1] among originals 0..n-1 that came out. */
static uint64_t
adjacent_inversions(const struct rec *r, size_t nr, uint64_t n)
{
	size_t *pos = malloc(n * sizeof(*pos));
	uint64_t inv = 0, i;

	assert_non_null(pos);
	for (i = 0; i < n; i++)
		pos[i] = SIZE_MAX;
	for (i = 0; i < nr; i++)
		if (!r[i].dup && r[i].seq < n)
			pos[r[i].seq] = i;
	for (i = 0; i + 1 < n; i++)
		if (pos[i] != SIZE_MAX && pos[i + 1] != SIZE_MAX && pos[i] > pos[i + 1])
			inv++;
	free(pos);
	return inv;
}

static void
test_jitter_reorders(void **state)
{
	struct rec *r = calloc(20000, sizeof(*r));
	uint64_t inv;
	size_t n;

	(void)state;
	assert_non_null(r);
	/* packets 10 us apart, jitter +-500 us: neighbours swap often */
	init(&im, conf_of(0, 0, 0, 1000, 500, 0), 21);
	n = drive(&im, 20000, 1, 10 * US, true, r, 20000);
	assert_int_equal(n, 20000);
	inv = adjacent_inversions(r, n, 20000);
	/* P(swap) = P(J1 - J2 > 10 us), J uniform on 1001 values: ~0.49 */
	assert_true(inv > 20000 * 4 / 10 && inv < 20000 * 6 / 10);
	assert_int_equal(im.st.reordered, 0);        /* jitter is not counted as reorder */

	/* no jitter, no reorder: not a single swap */
	init(&im, conf_of(0, 0, 0, 1000, 0, 0), 21);
	n = drive(&im, 20000, 1, 10 * US, true, r, 20000);
	assert_int_equal(adjacent_inversions(r, n, 20000), 0);
	free(r);
}

/* reorder_ppm p with a hold longer than the packet spacing: packet i comes
 * out after i + 1 exactly when i was held back and i + 1 was not, p(1 - p)
 * of the pairs; the late packets are exactly the counted ones. */
static void
test_reorder_fraction(void **state)
{
	const uint64_t n = 100000;
	struct rec *r = calloc(n, sizeof(*r));
	uint64_t inv, late = 0, held = 0, held_at_end = 0, maxseen = 0, i, lat;
	size_t got;

	(void)state;
	assert_non_null(r);
	init(&im, conf_of(0, 0, 250000, 0, 0, 5000), 31);
	got = drive(&im, n, 1, 100 * US, true, r, n);
	assert_int_equal(got, n);
	for (i = 0; i < got; i++) {
		/* held ones exactly reorder_us, the others not at all */
		lat = r[i].t - r[i].seq * 100 * US;
		assert_true(lat == 0 || lat == 5000 * US);
		held += lat != 0;
		/* the last 50 have fewer than 50 packets behind them to pass */
		held_at_end += lat != 0 && r[i].seq >= n - 50;
		if (i > 0 && r[i].seq < maxseen)
			late++;
		if (r[i].seq > maxseen)
			maxseen = r[i].seq;
	}
	assert_int_equal(held, im.st.reordered);
	/* a held packet comes out behind a later one unless all 49 after it
	 * were held too (0.25^49) */
	assert_true(late <= held && late + held_at_end >= held);
	assert_binomial(im.st.reordered, n, 0.25, "reordered");
	inv = adjacent_inversions(r, got, n);
	/* the X_i = R_i (1 - R_i+1) are negatively correlated: the binomial sd
	 * is an upper bound */
	assert_binomial(inv, n - 1, 0.25 * 0.75, "inverted pairs");
	assert_int_equal(im.st.delayed, im.st.reordered);
	free(r);
}

/* reorder_us 0: the hold is 2 * jitter + 1 ms, so every packet that arrives
 * within 1 ms after a held one overtakes it, whatever the jitter draws. */
static void
test_reorder_default_hold(void **state)
{
	const uint64_t n = 20000, step = 10 * US;
	struct rec *r = calloc(n, sizeof(*r));
	uint64_t *lat = calloc(n, sizeof(*lat)), *pos = calloc(n, sizeof(*pos));
	uint64_t i, j, held = 0;
	size_t got;

	(void)state;
	assert_non_null(r);
	assert_non_null(lat);
	assert_non_null(pos);
	init(&im, conf_of(0, 0, 200000, 2000, 300, 0), 41);
	got = drive(&im, n, 1, step, true, r, n);
	assert_int_equal(got, n);
	for (i = 0; i < got; i++) {
		lat[r[i].seq] = r[i].t - r[i].seq * step;
		pos[r[i].seq] = i;
	}
	for (i = 0; i < n; i++) {
		if (lat[i] <= 2300 * US + step)     /* not held: at most delay + jitter */
			continue;
		/* a held one: between delay - jitter + hold and delay + jitter + hold */
		assert_true(lat[i] >= (2000 - 300 + 1600) * US &&
			    lat[i] <= (2000 + 300 + 1600) * US + step);
		held++;
		for (j = i + 1; j < n && (j - i) * step < 1000 * US; j++)
			if (lat[j] <= 2300 * US + step)
				assert_true(pos[j] < pos[i]);
	}
	assert_int_equal(held, im.st.reordered);
	assert_binomial(held, n, 0.2, "reordered");

	/* no jitter, no delay: held exactly 1 ms, else straight through */
	init(&im, conf_of(0, 0, 1000000, 0, 0, 0), 41);
	got = drive(&im, 100, 1, US, true, r, n);
	assert_int_equal(got, 100);
	for (i = 0; i < got; i++)
		assert_int_equal(r[i].t, r[i].seq * US + 1000 * US);
	free(r);
	free(lat);
	free(pos);
}

/* A full heap drops the newcomer and counts it apart from loss; flush
 * frees what is held. */
static void
test_overflow_and_flush(void **state)
{
	struct rte_mbuf *in[32], *out[OUT_MAX];
	uint64_t seq = 0;
	unsigned int i;

	(void)state;
	init(&im, conf_of(0, 0, 0, 1000000, 0, 0), 51);
	_Static_assert((WG_IMPAIR_QLEN + 1000) % 8 == 0, "whole bursts");
	while (seq < WG_IMPAIR_QLEN + 1000) {
		for (i = 0; i < 8; i++)
			in[i] = mk(seq++);
		assert_int_equal(wg_impair_burst(&im, in, 8, out, OUT_MAX, seq), 0);
	}
	assert_int_equal(wg_impair_held(&im), WG_IMPAIR_QLEN);
	assert_int_equal(im.st.overflow, 1000);
	assert_int_equal(im.st.lost, 0);
	assert_int_equal(rte_mempool_in_use_count(pool) - base_in_use, WG_IMPAIR_QLEN);
	assert_conserved(&im);
	/* the ones kept are the first QLEN, released in order */
	for (i = 0; i < 100; i++) {
		unsigned int k = wg_impair_burst(&im, NULL, 0, out, 1, UINT64_MAX);

		assert_int_equal(k, 1);
		assert_int_equal(seq_of(out[0]), i);
		rte_pktmbuf_free(out[0]);
	}
	wg_impair_flush(&im);
	assert_int_equal(wg_impair_held(&im), 0);
	assert_int_equal(im.st.flushed, WG_IMPAIR_QLEN - 100);
	assert_conserved(&im);
	assert_no_leak();
	assert_int_equal(wg_impair_burst(&im, NULL, 0, out, OUT_MAX, UINT64_MAX), 0);

	/* with duplicates both the original and the copy can overflow */
	init(&im, conf_of(0, 1000000, 0, 1000000, 0, 0), 52);
	_Static_assert((WG_IMPAIR_QLEN / 2 + 12) % 10 == 0, "whole bursts");
	for (seq = 0; seq < WG_IMPAIR_QLEN / 2 + 12;) {
		for (i = 0; i < 10; i++)
			in[i] = mk(seq++);
		assert_int_equal(wg_impair_burst(&im, in, 10, out, OUT_MAX, 0), 0);
	}
	assert_int_equal(wg_impair_held(&im), WG_IMPAIR_QLEN);
	assert_int_equal(im.st.overflow, 24);
	assert_int_equal(rte_mempool_in_use_count(dup_pool) - base_dup_in_use, WG_IMPAIR_QLEN / 2);
	assert_conserved(&im);

	/* a mixed stage stopped half way: flush leaves no mbuf behind */
	init(&im2, conf_of(100000, 100000, 100000, 20000, 5000, 0), 53);
	(void)drive(&im2, 5000, 8, 10 * US, false, NULL, 0);
	assert_true(wg_impair_held(&im2) > 0);
	wg_impair_flush(&im);
	wg_impair_flush(&im2);
	assert_conserved(&im);
	assert_conserved(&im2);
	assert_no_leak();
}

/* One run of test_same_array: recs of everything out, in order. */
static size_t
run_arrays(bool same, struct rec *r, size_t cap)
{
	struct rte_mbuf *in[OUT_MAX], *sep[OUT_MAX], **out = same ? in : sep;
	uint64_t seq = 0, now;
	size_t got = 0;
	unsigned int i, k, n;

	/* delay 2 +- 5 us: 4 in 11 packets have zero delay, the rest are held */
	init(&im, conf_of(0, 300000, 0, 2, 5, 0), 61);
	for (now = 0; seq < 50000 || wg_impair_held(&im) > 0; now += US) {
		for (n = 0; n < 16 && seq < 50000; n++)
			in[n] = mk(seq++);
		k = wg_impair_burst(&im, in, n, out, OUT_MAX, now);
		assert_true(k < OUT_MAX);
		/* Each packet leaves at the first call at or after its (whole-us)
		 * release time, so all of one call's packets are due exactly now:
		 * earliest first then means arrival order. A zero-delay packet
		 * that skipped the heap while held ones were due would break it. */
		for (i = 1; i < k; i++)
			assert_true(seq_of(out[i - 1]) <= seq_of(out[i]));
		for (i = 0; i < k; i++, got++) {
			assert_true(got < cap);
			r[got].seq = seq_of(out[i]);
			r[got].t = now;
			r[got].dup = out[i]->pool == dup_pool;
			/* a copy right after its original */
			if (r[got].dup)
				assert_true(got > 0 && !r[got - 1].dup &&
					    r[got - 1].seq == r[got].seq);
		}
		rte_pktmbuf_free_bulk(out, k);
	}
	assert_conserved(&im);
	assert_int_equal(got, 50000 + im.st.duplicated);
	assert_true(im.st.duplicated > 0 && im.st.delayed > 0 && im.st.delayed < 50000);
	return got;
}

/* in == out is safe with copies and a busy heap, and the output (order and
 * timing) is the same as with separate arrays: which path a packet took
 * (straight out or through the heap) never shows. */
static void
test_same_array(void **state)
{
	const size_t cap = 80000;
	struct rec *a = calloc(cap, sizeof(*a)), *b = calloc(cap, sizeof(*b));
	size_t na, nb;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	na = run_arrays(false, a, cap);
	nb = run_arrays(true, b, cap);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(*a));
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_args, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_passthrough, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_fast_path_loss_dup, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_determinism, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_draws_match_model, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_loss_rate, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_dup, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_delay_exact, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_jitter_bounds, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_jitter_reorders, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_reorder_fraction, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_reorder_default_hold, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_overflow_and_flush, test_setup, test_teardown),
		cmocka_unit_test_setup_teardown(test_same_array, test_setup, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
