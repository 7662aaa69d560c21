/* SPDX-License-Identifier: BSD-3-Clause
 * wg_hist: layout, percentiles against an exact sorted array on seeded
 * random and adversarial data (with the relative error bound checked on
 * every point), merge equivalence, edges, overflow, and both serialised
 * forms.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* splitmix64: a fixed seed gives the same data on every run and machine */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The definition the histogram approximates: the value at rank
 * ceil(ppm * n / 10^6) of the sorted data (rank 1 at least). */
static uint64_t
exact_pct(const uint64_t *sorted, size_t n, uint64_t ppm)
{
	uint64_t rank = ((unsigned __int128)n * ppm + 999999) / 1000000;

	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

static const struct {
	double p;
	uint64_t ppm;
} pcts[] = {
	{ 0.1, 1000 }, { 1, 10000 }, { 25, 250000 }, { 50, 500000 }, { 90, 900000 },
	{ 99, 990000 }, { 99.9, 999000 }, { 99.99, 999900 }, { 100, 1000000 },
};

/* Record data[0..n) in h and compare every percentile, min, max, mean and
 * count with the exact ones. */
static void
check_against_exact(struct wg_hist *h, uint64_t *data, size_t n)
{
	double bound = pow(10.0, -(double)h->sig_digits);
	long double sum = 0;
	uint64_t *sorted = malloc(n * sizeof(*sorted));
	size_t i;

	assert_non_null(sorted);
	wg_hist_reset(h);
	for (i = 0; i < n; i++) {
		wg_hist_record(h, data[i]);
		sum += data[i];
	}
	memcpy(sorted, data, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->overflow, 0);
	assert_int_equal(h->min, sorted[0]);
	assert_int_equal(h->max, sorted[n - 1]);
	assert_true(fabs(wg_hist_mean(h) - (double)(sum / n)) <= 1e-9 * (double)(sum / n) + 1e-9);
	for (i = 0; i < ARRAY_SIZE(pcts); i++) {
		uint64_t want = exact_pct(sorted, n, pcts[i].ppm);
		uint64_t got = wg_hist_percentile(h, pcts[i].p);

		/* same bucket, reported at or above the exact value ... */
		if (wg_hist_index(h, got) != wg_hist_index(h, want) || got < want) {
			fail_msg("p%g: got %llu, exact %llu (n=%zu digits=%u)", pcts[i].p,
				 (unsigned long long)got, (unsigned long long)want, n,
				 h->sig_digits);
		}
		/* ... and within the advertised relative error */
		if ((double)(got - want) > bound * (double)want)
			fail_msg("p%g: got %llu, exact %llu: error above 10^-%u", pcts[i].p,
				 (unsigned long long)got, (unsigned long long)want,
				 h->sig_digits);
	}
	free(sorted);
}

static void
test_params(void **state)
{
	struct wg_hist *h;
	uint8_t mem[256];

	(void)state;
	assert_int_equal(wg_hist_footprint(1000000, 0), 0);
	assert_int_equal(wg_hist_footprint(1000000, 6), 0);
	/* d=3 -> 2^10 sub-buckets; the linear part is 0..2047 */
	assert_int_equal(wg_hist_footprint(2047, 3), 0);
	assert_int_equal(wg_hist_footprint(2048, 3), sizeof(struct wg_hist) + 2049 * 8);
	assert_int_equal(wg_hist_footprint(1ull << 63, 3), 0);
	assert_int_equal(wg_hist_init((struct wg_hist *)(void *)mem, sizeof(mem), 2048, 3),
			 -EINVAL);
	errno = 0;
	assert_null(wg_hist_create(10, 3));
	assert_int_equal(errno, EINVAL);

	h = wg_hist_create(WG_HIST_NS_HOUR, 3);
	assert_non_null(h);
	assert_int_equal(h->sub_bits, 10);
	/* an hour is just below 2^42: 31 half-octaves of 1024 above the 2048 linear */
	assert_int_equal(h->n_buckets, wg_hist_index(h, WG_HIST_NS_HOUR) + 1);
	assert_true(h->n_buckets < 34 * 1024);
	assert_int_equal(h->min, UINT64_MAX);
	assert_int_equal(wg_hist_percentile(h, 50), 0);
	wg_hist_free(h);

	h = wg_hist_create(1000000, 1);
	assert_non_null(h);
	assert_int_equal(h->sub_bits, 4);
	wg_hist_free(h);
	h = wg_hist_create(1ull << 40, 5);
	assert_non_null(h);
	assert_int_equal(h->sub_bits, 17);
	wg_hist_free(h);
}

/* index and value_at are inverse and the buckets tile the range. */
static void
test_layout(void **state)
{
	unsigned int d;

	(void)state;
	for (d = 1; d <= 4; d++) {
		struct wg_hist *h = wg_hist_create(1ull << 40, d);
		uint32_t i;

		assert_non_null(h);
		assert_int_equal(wg_hist_value_at(h, 0), 0);
		for (i = 1; i < h->n_buckets; i++) {
			uint64_t lo = wg_hist_value_at(h, i - 1) + 1, hi = wg_hist_value_at(h, i);

			assert_true(hi >= lo);
			assert_int_equal(wg_hist_index(h, lo), i);
			assert_int_equal(wg_hist_index(h, hi), i);
			assert_int_equal(wg_hist_index(h, lo - 1), i - 1);
			/* width relative to the lowest value of the bucket */
			assert_true((double)(hi - lo) <= pow(10.0, -(double)d) * (double)lo);
		}
		wg_hist_free(h);
	}
}

static void
run_distribution(unsigned int digits, uint64_t seed, size_t n,
		 uint64_t (*gen)(uint64_t *s, size_t i))
{
	struct wg_hist *h = wg_hist_create(WG_HIST_NS_HOUR, digits);
	uint64_t *data = malloc(n * sizeof(*data));
	size_t i;

	assert_non_null(h);
	assert_non_null(data);
	for (i = 0; i < n; i++)
		data[i] = gen(&seed, i);
	check_against_exact(h, data, n);
	free(data);
	wg_hist_free(h);
}

static uint64_t
gen_uniform(uint64_t *s, size_t i)
{
	(void)i;
	return rnd(s) % 10000000;              /* 0..10 ms */
}

/* Log-uniform over 1 ns .. 1 h: every octave gets the same share. */
static uint64_t
gen_loguniform(uint64_t *s, size_t i)
{
	(void)i;
	return (uint64_t)exp((double)(rnd(s) >> 11) / 9007199254740992.0 *
			     log((double)WG_HIST_NS_HOUR));
}

/* 98% around 50 us, 2% stalls around 200 ms: a realistic tail. */
static uint64_t
gen_bimodal(uint64_t *s, size_t i)
{
	uint64_t r = rnd(s);

	(void)i;
	if (r % 100 < 98)
		return 45000 + (r >> 8) % 10000;
	return 150000000 + (r >> 8) % 100000000;
}

static uint64_t
gen_constant(uint64_t *s, size_t i)
{
	(void)s;
	(void)i;
	return 123456789;
}

/* Both sides of every power of two: the edges of the octaves. */
static uint64_t
gen_pow2_edges(uint64_t *s, size_t i)
{
	unsigned int k = (unsigned int)(rnd(s) % 41) + 1;

	return (1ull << k) - (i & 1);
}

/* Exact bucket boundaries, low and high end, of random buckets. */
static struct wg_hist *edge_h;
static uint64_t
gen_bucket_edges(uint64_t *s, size_t i)
{
	uint32_t idx = (uint32_t)(rnd(s) % edge_h->n_buckets);
	uint64_t v = (i & 1) ? wg_hist_value_at(edge_h, idx) :
		     (idx == 0 ? 0 : wg_hist_value_at(edge_h, idx - 1) + 1);

	/* the last bucket reaches past highest */
	return v > edge_h->highest ? edge_h->highest : v;
}

/* Most values tiny, one huge: p100 must be the huge one exactly. */
static uint64_t
gen_one_outlier(uint64_t *s, size_t i)
{
	return i == 777 ? WG_HIST_NS_HOUR : rnd(s) % 4;
}

static void
test_distributions(void **state)
{
	unsigned int d;

	(void)state;
	for (d = 1; d <= 4; d++) {
		run_distribution(d, 1, 100000, gen_uniform);
		run_distribution(d, 2, 100000, gen_loguniform);
		run_distribution(d, 3, 100000, gen_bimodal);
		run_distribution(d, 4, 1000, gen_constant);
		run_distribution(d, 5, 50000, gen_pow2_edges);
		edge_h = wg_hist_create(WG_HIST_NS_HOUR, d);
		assert_non_null(edge_h);
		run_distribution(d, 6, 50000, gen_bucket_edges);
		wg_hist_free(edge_h);
		run_distribution(d, 7, 1000, gen_one_outlier);
		/* tiny samples: rank rounding matters most here */
		run_distribution(d, 8, 1, gen_loguniform);
		run_distribution(d, 9, 2, gen_loguniform);
		run_distribution(d, 10, 7, gen_bimodal);
	}
}

static void
test_merge(void **state)
{
	struct wg_hist *all = wg_hist_create(WG_HIST_NS_HOUR, 3), *part[4], *sum;
	struct wg_hist_summary a, b;
	uint64_t s = 42;
	unsigned int i, k;

	(void)state;
	assert_non_null(all);
	sum = wg_hist_create(WG_HIST_NS_HOUR, 3);
	assert_non_null(sum);
	for (k = 0; k < 4; k++) {
		part[k] = wg_hist_create(WG_HIST_NS_HOUR, 3);
		assert_non_null(part[k]);
	}
	for (i = 0; i < 200000; i++) {
		uint64_t v = gen_loguniform(&s, i);

		if (i % 1000 == 0)
			v = WG_HIST_NS_HOUR + 1 + i; /* overflow, merged as a count too */
		wg_hist_record(all, v);
		wg_hist_record(part[rnd(&s) % 4], v);
	}
	for (k = 0; k < 4; k++)
		assert_int_equal(wg_hist_merge(sum, part[k]), 0);
	/* the merged histogram is the one-shot histogram, byte for byte */
	assert_memory_equal(sum, all, sizeof(*all) + all->n_buckets * sizeof(uint64_t));
	wg_hist_summarize(sum, &a);
	wg_hist_summarize(all, &b);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.overflow, 200);

	/* merging an empty one changes nothing (its min is UINT64_MAX) */
	wg_hist_reset(part[0]);
	assert_int_equal(wg_hist_merge(sum, part[0]), 0);
	assert_memory_equal(sum, all, sizeof(*all) + all->n_buckets * sizeof(uint64_t));

	for (k = 0; k < 4; k++)
		wg_hist_free(part[k]);
	/* layouts must match */
	part[0] = wg_hist_create(WG_HIST_NS_HOUR, 2);
	part[1] = wg_hist_create(WG_HIST_NS_HOUR / 2, 3);
	assert_int_equal(wg_hist_merge(sum, part[0]), -EINVAL);
	assert_int_equal(wg_hist_merge(sum, part[1]), -EINVAL);
	assert_memory_equal(sum, all, sizeof(*all) + all->n_buckets * sizeof(uint64_t));
	wg_hist_free(part[0]);
	wg_hist_free(part[1]);
	wg_hist_free(sum);
	wg_hist_free(all);
}

static void
test_edges(void **state)
{
	struct wg_hist *h = wg_hist_create(1000000, 3);
	struct wg_hist_summary s;

	(void)state;
	assert_non_null(h);
	wg_hist_record(h, 0);
	assert_int_equal(h->counts[0], 1);
	assert_int_equal(h->min, 0);
	assert_int_equal(wg_hist_percentile(h, 50), 0);
	assert_int_equal(wg_hist_percentile(h, 100), 0);

	wg_hist_record(h, 1000000);            /* highest itself is counted */
	assert_int_equal(h->count, 2);
	assert_int_equal(h->counts[h->n_buckets - 1], 1);
	assert_int_equal(h->max, 1000000);
	assert_int_equal(wg_hist_percentile(h, 100), 1000000);
	assert_int_equal(wg_hist_percentile(h, 50), 0);
	assert_int_equal(wg_hist_percentile(h, 50.1), 1000000);

	wg_hist_record(h, 1000001);            /* above: overflow only */
	wg_hist_record(h, UINT64_MAX);
	wg_hist_record_n(h, 5000000, 3);
	assert_int_equal(h->overflow, 5);
	assert_int_equal(h->count, 2);
	assert_int_equal(h->max, 1000000);
	wg_hist_summarize(h, &s);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.overflow, 5);
	assert_int_equal(s.p999, 1000000);
	assert_true(s.mean == 500000.0);

	/* p <= 0 and NaN are the minimum */
	assert_int_equal(wg_hist_percentile(h, 0), 0);
	assert_int_equal(wg_hist_percentile(h, NAN), 0);

	wg_hist_reset(h);
	assert_int_equal(h->count, 0);
	assert_int_equal(h->overflow, 0);
	assert_int_equal(h->min, UINT64_MAX);
	assert_int_equal(h->max, 0);
	wg_hist_summarize(h, &s);
	assert_int_equal(s.min, 0);
	assert_int_equal(s.p50, 0);
	assert_true(s.mean == 0.0);
	wg_hist_free(h);
}

/* Sums past 2^64: the mean must still be exact. */
static void
test_wide_sum(void **state)
{
	struct wg_hist *h = wg_hist_create(WG_HIST_NS_HOUR, 3), *one;
	unsigned int i;

	(void)state;
	assert_non_null(h);
	one = wg_hist_create(WG_HIST_NS_HOUR, 3);
	assert_non_null(one);
	wg_hist_record_n(h, WG_HIST_NS_HOUR, 1ull << 23);   /* 3.02e19 > 2^64 */
	assert_int_not_equal(h->sum_hi, 0);
	assert_true(wg_hist_mean(h) == (double)WG_HIST_NS_HOUR);
	/* record_n is n records */
	for (i = 0; i < 1000; i++)
		wg_hist_record(one, 777777);
	wg_hist_reset(h);
	wg_hist_record_n(h, 777777, 1000);
	assert_memory_equal(h, one, sizeof(*h) + h->n_buckets * sizeof(uint64_t));
	wg_hist_free(one);
	wg_hist_free(h);
}

static void
test_encode_decode(void **state)
{
	struct wg_hist *h = wg_hist_create(WG_HIST_NS_HOUR, 3), *back;
	uint64_t s = 99;
	uint8_t *buf;
	size_t need, len, cut;
	unsigned int i;

	(void)state;
	assert_non_null(h);
	/* empty round-trips */
	need = wg_hist_encode(h, NULL, 0);
	buf = malloc(need);
	assert_int_equal(wg_hist_encode(h, buf, need), need);
	back = wg_hist_decode(buf, need);
	assert_non_null(back);
	assert_memory_equal(back, h, sizeof(*h) + h->n_buckets * sizeof(uint64_t));
	wg_hist_free(back);
	free(buf);

	for (i = 0; i < 5000; i++)
		wg_hist_record(h, gen_bimodal(&s, i));
	wg_hist_record(h, WG_HIST_NS_HOUR + 1);
	need = wg_hist_encode(h, NULL, 0);
	/* sparse: far smaller than the 270 KB of buckets */
	assert_true(need < 20000);
	buf = malloc(need);
	assert_non_null(buf);
	len = wg_hist_encode(h, buf, need);
	assert_int_equal(len, need);
	back = wg_hist_decode(buf, len);
	assert_non_null(back);
	assert_memory_equal(back, h, sizeof(*h) + h->n_buckets * sizeof(uint64_t));
	wg_hist_free(back);

	/* every truncation is refused */
	for (cut = 0; cut < len; cut++) {
		errno = 0;
		assert_null(wg_hist_decode(buf, cut));
		assert_int_equal(errno, EINVAL);
	}
	/* bad magic */
	buf[0] ^= 1;
	assert_null(wg_hist_decode(buf, len));
	buf[0] ^= 1;
	/* a count that no longer adds up: bump the header's total (byte 6 is
	 * the low group of "count", after magic, digits and 6-byte highest) */
	buf[4 + 1 + 6] ^= 0x01;
	assert_null(wg_hist_decode(buf, len));
	buf[4 + 1 + 6] ^= 0x01;
	back = wg_hist_decode(buf, len);
	assert_non_null(back);
	wg_hist_free(back);
	free(buf);

	/* min outside the first non-empty bucket */
	{
		uint8_t bad[64];
		struct wg_hist *t = wg_hist_create(1000000, 1);

		assert_non_null(t);
		wg_hist_record(t, 100);
		len = wg_hist_encode(t, bad, sizeof(bad));
		assert_true(len <= sizeof(bad));
		back = wg_hist_decode(bad, len);
		assert_non_null(back);
		wg_hist_free(back);
		t->min = 5;                    /* lies: bucket of 5 is empty */
		len = wg_hist_encode(t, bad, sizeof(bad));
		assert_null(wg_hist_decode(bad, len));
		wg_hist_free(t);
	}
	wg_hist_free(h);
}

static void
test_json(void **state)
{
	struct wg_hist *h = wg_hist_create(100000, 2);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(h);
	wg_hist_record(h, 5);
	wg_hist_record(h, 5);
	wg_hist_record(h, 1000);       /* d=2: 128 sub-buckets, 1000 in [1000,1003] */
	wg_hist_record(h, 200000);     /* overflow */
	f = open_memstream(&text, &len);
	assert_non_null(f);
	wg_hist_json(f, h);
	fclose(f);
	assert_string_equal(text,
		"{\"count\":3,\"overflow\":1,\"min\":5,\"max\":1000,\"mean\":336.667,"
		"\"p50\":5,\"p90\":1000,\"p99\":1000,\"p99_9\":1000,\"sig_digits\":2,"
		"\"highest\":100000,\"buckets\":[[5,2],[1003,1]]}");
	free(text);
	wg_hist_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_distributions),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_wide_sum),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
