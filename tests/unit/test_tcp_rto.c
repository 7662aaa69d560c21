/* SPDX-License-Identifier: BSD-3-Clause
 * RFC 6298 arithmetic with worked examples (values in microseconds), the
 * clamps, backoff doubling and saturation, and a long random run against
 * the RFC's formulas evaluated in floating point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_rto.h"

#define MS   1000u
#define SEC  1000000u

static void
check(const struct wg_rto *r, uint32_t srtt, uint32_t rttvar, uint32_t rto)
{
	assert_int_equal(r->srtt_us, srtt);
	assert_int_equal(r->rttvar_us, rttvar);
	assert_int_equal(r->rto_us, rto);
}

static void
test_init(void **state)
{
	struct wg_rto r;

	(void)state;
	memset(&r, 0xa5, sizeof(r));
	wg_rto_init(&r, 1 * SEC, 200 * MS, 60 * SEC);       /* RFC 6298 2.1 */
	check(&r, 0, 0, 1 * SEC);
	assert_int_equal(r.backoff, 0);
	assert_int_equal(r.min_us, 200 * MS);
	assert_int_equal(r.max_us, 60 * SEC);
	assert_int_equal(wg_rto_timeout(&r), 1 * SEC);
	wg_rto_init(&r, 100 * MS, 200 * MS, 60 * SEC);      /* below min */
	assert_int_equal(r.rto_us, 200 * MS);
	wg_rto_init(&r, 100 * SEC, 200 * MS, 60 * SEC);     /* above max */
	assert_int_equal(r.rto_us, 60 * SEC);
}

/* RFC 6298 2.2 then 2.3, by hand:
 *   R1 = 100 ms: SRTT 100000, RTTVAR 50000, RTO 100000 + 4*50000 = 300000
 *   R2 = 120 ms: RTTVAR (3*50000 + 20000)/4 = 42500
 *                SRTT (7*100000 + 120000)/8 = 102500, RTO 102500 + 170000
 *   R3 =  80 ms: RTTVAR (3*42500 + 22500)/4 = 37500
 *                SRTT (7*102500 + 80000)/8 = 99687.5 -> 99687, RTO +150000 */
static void
test_samples_worked(void **state)
{
	struct wg_rto r;

	(void)state;
	wg_rto_init(&r, 1 * SEC, 0, 60 * SEC);
	wg_rto_sample(&r, 100 * MS);
	check(&r, 100000, 50000, 300000);
	wg_rto_sample(&r, 120 * MS);
	check(&r, 102500, 42500, 272500);
	wg_rto_sample(&r, 80 * MS);
	check(&r, 99687, 37500, 249687);
	/* RTTVAR uses the old SRTT: an ordering bug changes this value */
	wg_rto_sample(&r, 99687);
	check(&r, 99687, 28125, 99687 + 112500);

	/* odd first sample: RTTVAR = R/2 truncated */
	wg_rto_init(&r, 1 * SEC, 0, 60 * SEC);
	wg_rto_sample(&r, 1001);
	check(&r, 1001, 500, 3001);
}

/* G = 1 ms: when 4*RTTVAR is below it, RTO = SRTT + 1 ms. */
static void
test_granularity(void **state)
{
	struct wg_rto r;

	(void)state;
	wg_rto_init(&r, 1 * SEC, 0, 60 * SEC);
	wg_rto_sample(&r, 200);
	check(&r, 200, 100, 1200);                  /* 4*100 < 1000 */
	wg_rto_sample(&r, 200);
	check(&r, 200, 75, 1200);
	for (int i = 0; i < 50; i++)
		wg_rto_sample(&r, 200);
	check(&r, 200, 0, 1200);
	/* exactly at G: 4*250 = 1000 */
	wg_rto_init(&r, 1 * SEC, 0, 60 * SEC);
	wg_rto_sample(&r, 500);
	check(&r, 500, 250, 1500);
	/* just above: 4*251 */
	wg_rto_init(&r, 1 * SEC, 0, 60 * SEC);
	wg_rto_sample(&r, 502);
	check(&r, 502, 251, 502 + 1004);
}

static void
test_zero_sample(void **state)
{
	struct wg_rto r;

	(void)state;
	/* a 0 us sample counts as 1 us, so the next one is not "first" */
	wg_rto_init(&r, 1 * SEC, 0, 60 * SEC);
	wg_rto_sample(&r, 0);
	check(&r, 1, 0, 1001);
	wg_rto_sample(&r, 1000);
	/* RTTVAR (0 + 999)/4 = 249, SRTT (7 + 1000)/8 = 125 */
	check(&r, 125, 249, 125 + 1000);
}

static void
test_clamps(void **state)
{
	struct wg_rto r;

	(void)state;
	/* min: Linux-like 200 ms floor */
	wg_rto_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
	wg_rto_sample(&r, 10 * MS);
	check(&r, 10000, 5000, 200 * MS);
	/* RFC 6298 2.4's 1 s floor */
	wg_rto_init(&r, 1 * SEC, 1 * SEC, 60 * SEC);
	wg_rto_sample(&r, 100 * MS);
	assert_int_equal(r.rto_us, 1 * SEC);
	/* max, with the largest sample: 64-bit intermediates, no wrap */
	wg_rto_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
	wg_rto_sample(&r, UINT32_MAX);
	check(&r, UINT32_MAX, UINT32_MAX / 2, 60 * SEC);
	wg_rto_sample(&r, UINT32_MAX);
	assert_int_equal(r.srtt_us, UINT32_MAX);
	wg_rto_sample(&r, 1);
	assert_int_equal(r.srtt_us, (uint32_t)((7 * (uint64_t)UINT32_MAX + 1) / 8));
	assert_int_equal(r.rto_us, 60 * SEC);
	wg_rto_init(&r, 1 * SEC, 0, UINT32_MAX);
	wg_rto_sample(&r, 3000000000u);
	check(&r, 3000000000u, 1500000000u, UINT32_MAX);
}

static void
test_backoff(void **state)
{
	struct wg_rto r;
	static const uint32_t want[] = {
		1 * SEC, 2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC, 32 * SEC, 60 * SEC, 60 * SEC,
	};

	(void)state;
	wg_rto_init(&r, 1 * SEC, 200 * MS, 60 * SEC);
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(r.backoff, i);
		assert_int_equal(wg_rto_timeout(&r), want[i]);
		wg_rto_backoff(&r);
	}
	/* the RTO itself is not changed by backing off */
	assert_int_equal(r.rto_us, 1 * SEC);
	/* saturates */
	for (int i = 0; i < 300; i++)
		wg_rto_backoff(&r);
	assert_int_equal(r.backoff, WG_RTO_MAX_BACKOFF);
	assert_int_equal(wg_rto_timeout(&r), 60 * SEC);
	/* a new sample clears it (RFC 6298 5.7's reset is the caller's) */
	wg_rto_sample(&r, 300 * MS);
	assert_int_equal(r.backoff, 0);
	check(&r, 300000, 150000, 900000);
	assert_int_equal(wg_rto_timeout(&r), 900000);
	wg_rto_backoff(&r);
	assert_int_equal(wg_rto_timeout(&r), 1800000);

	/* the largest values: the shift never overflows (UBSan would say) */
	wg_rto_init(&r, UINT32_MAX, 0, UINT32_MAX);
	for (int i = 0; i < 40; i++) {
		wg_rto_backoff(&r);
		assert_int_equal(wg_rto_timeout(&r), UINT32_MAX);
	}
	/* a caller writing backoff directly cannot make it shift too far */
	r.backoff = 255;
	r.rto_us = 3;
	r.max_us = UINT32_MAX;
	assert_int_equal(wg_rto_timeout(&r), UINT32_MAX);
	r.backoff = 30;
	assert_int_equal(wg_rto_timeout(&r), 3u << 30);
	r.backoff = 31;
	assert_int_equal(wg_rto_timeout(&r), UINT32_MAX);   /* 3 << 31 > 2^32 */
	r.rto_us = 1;
	assert_int_equal(wg_rto_timeout(&r), 1u << 31);
	/* zero initial RTO (no floor): backoff still saturates */
	wg_rto_init(&r, 0, 0, 60 * SEC);
	for (int i = 0; i < 300; i++)
		wg_rto_backoff(&r);
	assert_int_equal(r.backoff, WG_RTO_MAX_BACKOFF);
	assert_int_equal(wg_rto_timeout(&r), 0);
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The integer version tracks the RFC's real-valued formulas: truncation
 * costs < 1 us per update and decays (7/8, 3/4), so the gap stays within
 * a few tens of microseconds - and never drifts. */
static void
test_against_real_formulas(void **state)
{
	struct wg_rto r;
	uint64_t s = 2024;

	(void)state;
	for (int run = 0; run < 50; run++) {
		double srtt = 0, var = 0;
		uint32_t base = (uint32_t)(rnd(&s) % (500 * MS)) + 1;

		wg_rto_init(&r, 1 * SEC, 0, UINT32_MAX);
		for (int i = 0; i < 2000; i++) {
			uint32_t R = base + (uint32_t)(rnd(&s) % (base + 1));
			double rto, gap;

			if (i == 0) {
				srtt = R;
				var = R / 2.0;
			} else {
				var = 0.75 * var + 0.25 * (srtt > R ? srtt - R : R - srtt);
				srtt = 0.875 * srtt + 0.125 * R;
			}
			rto = srtt + (4 * var > 1000 ? 4 * var : 1000);
			wg_rto_sample(&r, R);
			/* bounds from the error recurrences: e_s' = 7/8 e_s - t,
			 * e_v' = 3/4 e_v + 1/4 (+-|e_s|) - t, t in [0, 1) */
			assert_true(r.srtt_us - srtt <= 0.001 && r.srtt_us - srtt > -8);
			assert_true(r.rttvar_us - var < 8 && r.rttvar_us - var > -12);
			gap = r.rto_us - rto;
			assert_true(gap < 32 && gap > -56);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_samples_worked),
		cmocka_unit_test(test_granularity),
		cmocka_unit_test(test_zero_sample),
		cmocka_unit_test(test_clamps),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_against_real_formulas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
