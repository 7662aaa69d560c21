/* SPDX-License-Identifier: BSD-3-Clause
 * Load-balancing strategies: exact sequences where the strategy is
 * deterministic (round-robin, nginx's smooth WRR example, least-outstanding
 * tie breaking), fixed-seed statistical bounds for random, and the
 * consistent-hash properties checked key by key: removal moves only the
 * removed backend's keys, addition moves keys only to the newcomer (about
 * 1/n of them), and the bounded-load cap holds after every assignment.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lb.h"

static struct wg_lb *
mk(enum wg_lb_strategy s, uint16_t max, uint64_t seed)
{
	struct wg_lb_conf c = { .strategy = s, .max_backends = max, .seed = seed };
	struct wg_lb *lb = wg_lb_create(&c);

	assert_non_null(lb);
	return lb;
}

static void
test_errors(void **state)
{
	struct wg_lb_conf c = { .strategy = WG_LB_RR, .max_backends = 2 };
	enum wg_lb_strategy s;
	struct wg_lb *lb;

	(void)state;
	c.max_backends = 0;
	assert_null(wg_lb_create(&c));
	assert_int_equal(errno, EINVAL);
	c.max_backends = 2;
	c.bound_milli = 999;     /* c < 1 cannot place every key */
	assert_null(wg_lb_create(&c));
	c.bound_milli = 0;
	c.strategy = WG_LB_N_STRATEGIES;
	assert_null(wg_lb_create(&c));
	c.strategy = WG_LB_RR;
	lb = wg_lb_create(&c);
	assert_non_null(lb);

	assert_int_equal(wg_lb_pick(lb, 0), -EHOSTUNREACH);
	assert_int_equal(wg_lb_pick_hash(lb, 7), -EHOSTUNREACH);
	assert_int_equal(wg_lb_add(lb, 1, 0, 0), -EINVAL);
	assert_int_equal(wg_lb_add(lb, 1, WG_LB_MAX_WEIGHT + 1, 0), -EINVAL);
	assert_int_equal(wg_lb_add(lb, 10, 1, 0), 0);
	assert_int_equal(wg_lb_add(lb, 10, 1, 0), -EEXIST);
	assert_int_equal(wg_lb_add(lb, 11, 1, 0), 1);
	assert_int_equal(wg_lb_add(lb, 12, 1, 0), -ENOSPC);
	assert_int_equal(wg_lb_find(lb, 11), 1);
	assert_int_equal(wg_lb_find(lb, 12), -ENOENT);
	assert_int_equal(wg_lb_release(lb, 0), -ERANGE);
	assert_int_equal(wg_lb_acquire(lb, 5), -ENOENT);
	assert_int_equal(wg_lb_set_alive(lb, -1, true), -ENOENT);
	assert_int_equal(wg_lb_set_weight(lb, 0, 0), -EINVAL);
	assert_null(wg_lb_backend(lb, 3));
	assert_int_equal(wg_lb_remove(lb, 10), 0);
	assert_int_equal(wg_lb_remove(lb, 10), -ENOENT);
	assert_null(wg_lb_backend(lb, 0));
	/* the freed slot is reused */
	assert_int_equal(wg_lb_add(lb, 12, 1, 0), 0);
	assert_int_equal(wg_lb_count(lb), 2);
	wg_lb_set_alive(lb, 0, false);
	wg_lb_set_alive(lb, 1, false);
	assert_int_equal(wg_lb_eligible(lb), 0);
	assert_int_equal(wg_lb_pick_rr(lb), -EHOSTUNREACH);
	assert_int_equal(wg_lb_pick_swrr(lb), -EHOSTUNREACH);
	assert_int_equal(wg_lb_pick_random(lb), -EHOSTUNREACH);
	assert_int_equal(wg_lb_pick_least_outstanding(lb), -EHOSTUNREACH);
	assert_int_equal(wg_lb_pick_least_loaded(lb), -EHOSTUNREACH);
	assert_int_equal(wg_lb_pick_hash_unbounded(lb, 1), -EHOSTUNREACH);
	wg_lb_destroy(lb);

	for (int i = 0; i < WG_LB_N_STRATEGIES; i++) {
		assert_int_equal(wg_lb_strategy_parse(wg_lb_strategy_name(i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(wg_lb_strategy_parse("fastest", &s), -EINVAL);

	/* the ring has a fixed budget of points */
	c = (struct wg_lb_conf){ .strategy = WG_LB_HASH, .max_backends = 4, .vnodes = 10,
				 .ring_max = 25 };
	lb = wg_lb_create(&c);
	assert_int_equal(wg_lb_add(lb, 1, 2, 0), 0);
	assert_int_equal(wg_lb_add(lb, 2, 1, 0), -ENOSPC);
	assert_int_equal(wg_lb_set_weight(lb, 0, 3), -ENOSPC);
	assert_int_equal(wg_lb_set_weight(lb, 0, 1), 0);
	assert_int_equal(wg_lb_add(lb, 2, 1, 0), 1);
	wg_lb_destroy(lb);
}

static void
test_rr(void **state)
{
	struct wg_lb *lb = mk(WG_LB_RR, 8, 0);
	static const int seq1[] = { 0, 1, 2, 0, 1, 2, 0, 1, 2 };
	static const int seq2[] = { 0, 2, 0, 2, 0, 2 };

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(wg_lb_add(lb, 100 + i, 1 + i, 0), i);   /* weights ignored */
	for (size_t i = 0; i < sizeof(seq1) / sizeof(seq1[0]); i++)
		assert_int_equal(wg_lb_pick(lb, 0), seq1[i]);
	assert_int_equal(wg_lb_set_alive(lb, 1, false), 0);
	for (size_t i = 0; i < sizeof(seq2) / sizeof(seq2[0]); i++)
		assert_int_equal(wg_lb_pick(lb, 0), seq2[i]);
	assert_int_equal(wg_lb_set_alive(lb, 1, true), 0);
	assert_int_equal(wg_lb_pick(lb, 0), 0);
	assert_int_equal(wg_lb_pick(lb, 0), 1);
	assert_int_equal(wg_lb_pick(lb, 0), 2);
	assert_int_equal(wg_lb_backend(lb, 0)->picks, 3 + 3 + 1);
	assert_int_equal(wg_lb_backend(lb, 1)->picks, 3 + 1);
	wg_lb_destroy(lb);
}

/* The example from nginx's commit introducing smooth weighted round-robin:
 * weights { a:5, b:1, c:1 } give a a b a c a a. */
static void
test_swrr_nginx(void **state)
{
	struct wg_lb *lb = mk(WG_LB_SWRR, 4, 0);
	static const char expect[] = "aabacaaaabacaa";
	char got[sizeof(expect)] = { 0 };

	(void)state;
	assert_int_equal(wg_lb_add(lb, 'a', 5, 0), 0);
	assert_int_equal(wg_lb_add(lb, 'b', 1, 0), 1);
	assert_int_equal(wg_lb_add(lb, 'c', 1, 0), 2);
	for (size_t i = 0; i < sizeof(expect) - 1; i++) {
		int s = wg_lb_pick(lb, 0);

		assert_true(s >= 0);
		got[i] = (char)wg_lb_backend(lb, s)->id;
	}
	assert_string_equal(got, expect);
	/* after a full cycle every running weight is back at zero */
	for (int i = 0; i < 3; i++)
		assert_int_equal(wg_lb_backend(lb, i)->swrr_current, 0);
	wg_lb_destroy(lb);
}

/* Over every window of sum(weights) picks, each backend gets exactly its
 * weight, and no backend with weight w waits more than ceil(W/w) picks. */
static void
test_swrr_exact(void **state)
{
	static const uint32_t w[] = { 3, 1, 7, 2, 1 };
	struct wg_lb *lb = mk(WG_LB_SWRR, 8, 0);
	unsigned int count[5], last[5] = { 0 }, W = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(wg_lb_add(lb, i, w[i], 0), i);
		W += w[i];
	}
	for (int round = 0; round < 20; round++) {
		memset(count, 0, sizeof(count));
		for (unsigned int k = 0; k < W; k++) {
			int s = wg_lb_pick(lb, 0);
			unsigned int t = round * W + k + 1;

			assert_true(s >= 0 && s < 5);
			count[s]++;
			if (last[s] != 0)
				assert_true(t - last[s] <= (W + w[s] - 1) / w[s] + 1);
			last[s] = t;
		}
		for (int i = 0; i < 5; i++)
			assert_int_equal(count[i], w[i]);
	}
	/* a dead backend is skipped and the others keep their ratio */
	wg_lb_set_alive(lb, 2, false);
	memset(count, 0, sizeof(count));
	for (unsigned int k = 0; k < 10 * (W - 7); k++)
		count[wg_lb_pick(lb, 0)]++;
	assert_int_equal(count[2], 0);
	for (int i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(count[i], 10 * w[i]);
	wg_lb_destroy(lb);
}

static void
test_random(void **state)
{
	struct wg_lb *a = mk(WG_LB_RANDOM, 4, 42), *b = mk(WG_LB_RANDOM, 4, 42);
	struct wg_lb *c = mk(WG_LB_RANDOM, 4, 43);
	unsigned int n[3] = { 0 }, same = 0;

	(void)state;
	wg_lb_add(a, 1, 1, 0);
	wg_lb_add(a, 2, 3, 0);
	wg_lb_add(b, 1, 1, 0);
	wg_lb_add(b, 2, 3, 0);
	wg_lb_add(c, 1, 1, 0);
	wg_lb_add(c, 2, 3, 0);
	for (int i = 0; i < 10000; i++) {
		int s = wg_lb_pick(a, 0);

		assert_true(s == 0 || s == 1);
		n[s]++;
		/* the same seed gives the same picks; another seed does not */
		assert_int_equal(wg_lb_pick(b, 0), s);
		same += wg_lb_pick(c, 0) == s;
	}
	/* weights 1:3 -> 2500 expected, sd 43; +-5% of 10k is a wide margin */
	assert_true(n[0] > 2000 && n[0] < 3000);
	assert_true(n[1] > 7000 && n[1] < 8000);
	assert_true(same < 9000);
	/* uniform over 4 with a chi-square bound (3 dof, p = 0.001: 16.27) */
	struct wg_lb *u = mk(WG_LB_RANDOM, 4, 7);
	unsigned int h[4] = { 0 };
	double chi = 0;

	for (int i = 0; i < 4; i++)
		wg_lb_add(u, i, 1, 0);
	for (int i = 0; i < 40000; i++)
		h[wg_lb_pick(u, 0)]++;
	for (int i = 0; i < 4; i++)
		chi += (h[i] - 10000.0) * (h[i] - 10000.0) / 10000.0;
	assert_true(chi < 16.27);
	/* dead backends never come out */
	wg_lb_set_alive(u, 3, false);
	for (int i = 0; i < 1000; i++)
		assert_int_not_equal(wg_lb_pick(u, 0), 3);
	wg_lb_destroy(u);
	wg_lb_destroy(a);
	wg_lb_destroy(b);
	wg_lb_destroy(c);
}

static void
test_least(void **state)
{
	struct wg_lb *lb = mk(WG_LB_LEAST_OUTSTANDING, 4, 0);

	(void)state;
	for (int i = 0; i < 3; i++)
		wg_lb_add(lb, i, 1, 0);
	/* all idle: ties taken in turn */
	assert_int_equal(wg_lb_pick(lb, 0), 0);
	assert_int_equal(wg_lb_pick(lb, 0), 1);
	assert_int_equal(wg_lb_pick(lb, 0), 2);
	assert_int_equal(wg_lb_pick(lb, 0), 0);
	/* picking and acquiring fills them evenly, in order */
	for (int i = 0; i < 9; i++) {
		int s = wg_lb_pick(lb, 0);

		assert_int_equal(s, (1 + i) % 3);
		wg_lb_acquire(lb, s);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(wg_lb_backend(lb, i)->outstanding, 3);
	/* slot 2 finishes two requests: it is the only minimum */
	wg_lb_release(lb, 2);
	wg_lb_release(lb, 2);
	assert_int_equal(wg_lb_pick(lb, 0), 2);
	assert_int_equal(wg_lb_pick(lb, 0), 2);
	wg_lb_acquire(lb, 2);
	wg_lb_acquire(lb, 2);
	/* weights: outstanding per unit of weight (0: 3/1, 1: 3/1, 2: 3/4) */
	wg_lb_set_weight(lb, 2, 4);
	for (int i = 0; i < 9; i++) {
		assert_int_equal(wg_lb_pick(lb, 0), 2);
		wg_lb_acquire(lb, 2);
	}
	/* 12/4 = 3 ties with 3/1: turns again */
	assert_int_equal(wg_lb_backend(lb, 2)->outstanding, 12);
	int s1 = wg_lb_pick(lb, 0), s2 = wg_lb_pick(lb, 0), s3 = wg_lb_pick(lb, 0);
	assert_true(s1 != s2 && s2 != s3 && s1 != s3);
	/* a dead backend is skipped even when idle */
	for (int i = 0; i < 12; i++)
		wg_lb_release(lb, 2);
	wg_lb_set_alive(lb, 2, false);
	for (int i = 0; i < 4; i++)
		assert_int_not_equal(wg_lb_pick(lb, 0), 2);

	/* least-loaded reads the reported load instead */
	wg_lb_set_alive(lb, 2, true);
	wg_lb_set_weight(lb, 2, 1);
	wg_lb_set_load(lb, 0, 50);
	wg_lb_set_load(lb, 1, 10);
	wg_lb_set_load(lb, 2, 30);
	assert_int_equal(wg_lb_pick_least_loaded(lb), 1);
	assert_int_equal(wg_lb_pick_least_loaded(lb), 1);
	wg_lb_set_load(lb, 1, 30);
	assert_int_equal(wg_lb_pick_least_loaded(lb), 2);
	assert_int_equal(wg_lb_pick_least_loaded(lb), 1);
	assert_int_equal(wg_lb_pick_least_loaded(lb), 2);
	wg_lb_destroy(lb);
}

#define NKEYS 20000

static void
homes(const struct wg_lb *lb, int *out)
{
	for (int k = 0; k < NKEYS; k++) {
		out[k] = wg_lb_pick_hash_unbounded(lb, (uint64_t)k + 1);
		assert_true(out[k] >= 0);
	}
}

static void
test_hash_moves(void **state)
{
	struct wg_lb_conf c = { .strategy = WG_LB_HASH, .max_backends = 16 };
	struct wg_lb *lb = wg_lb_create(&c), *lb2 = wg_lb_create(&c);
	static int before[NKEYS], after[NKEYS];
	unsigned int per[16] = { 0 }, moved = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		wg_lb_add(lb, 1000 + i, 1, 0);
	/* the ring does not depend on the order of additions */
	for (int i = 9; i >= 0; i--)
		wg_lb_add(lb2, 1000 + i, 1, 0);
	homes(lb, before);
	for (int k = 0; k < NKEYS; k++) {
		int s2 = wg_lb_pick_hash_unbounded(lb2, (uint64_t)k + 1);

		assert_int_equal(wg_lb_backend(lb, before[k])->id, wg_lb_backend(lb2, s2)->id);
		per[before[k]]++;
	}
	/* 160 points per backend keep every share near 1/10 */
	for (int i = 0; i < 10; i++)
		assert_true(per[i] > NKEYS / 10 * 7 / 10 && per[i] < NKEYS / 10 * 13 / 10);

	/* add an 11th: keys move only to it, about 1/11 of them */
	int ns = wg_lb_add(lb, 2000, 1, 0);
	assert_true(ns >= 0);
	homes(lb, after);
	for (int k = 0; k < NKEYS; k++) {
		if (after[k] != before[k]) {
			assert_int_equal(after[k], ns);
			moved++;
		}
	}
	assert_true(moved > NKEYS / 11 * 7 / 10 && moved < NKEYS / 11 * 13 / 10);

	/* remove it again: every key is back home exactly */
	wg_lb_remove(lb, 2000);
	homes(lb, after);
	assert_memory_equal(after, before, sizeof(before));

	/* remove backend 3: only its keys move, spread over the others */
	int victim = wg_lb_find(lb, 1003);
	unsigned int to[16] = { 0 };

	wg_lb_remove(lb, 1003);
	homes(lb, after);
	moved = 0;
	for (int k = 0; k < NKEYS; k++) {
		if (before[k] == victim) {
			assert_int_not_equal(after[k], victim);
			to[after[k]]++;
			moved++;
		} else {
			assert_int_equal(after[k], before[k]);
		}
	}
	assert_int_equal(moved, per[victim]);
	for (int i = 0; i < 10; i++)
		if (i != victim)
			assert_true(to[i] > 0);

	/* a dead backend (kept in the ring) behaves like a removed one, and
	 * its keys come back when it does */
	wg_lb_add(lb, 1003, 1, 0);
	homes(lb, after);
	assert_memory_equal(after, before, sizeof(before));
	wg_lb_set_alive(lb, 5, false);
	homes(lb, after);
	for (int k = 0; k < NKEYS; k++) {
		if (before[k] == 5)
			assert_int_not_equal(after[k], 5);
		else
			assert_int_equal(after[k], before[k]);
	}
	wg_lb_set_alive(lb, 5, true);
	homes(lb, after);
	assert_memory_equal(after, before, sizeof(before));

	/* weights scale the share: 3:1 */
	struct wg_lb *w = wg_lb_create(&c);
	unsigned int wn[2] = { 0 };

	wg_lb_add(w, 1, 3, 0);
	wg_lb_add(w, 2, 1, 0);
	for (int k = 0; k < NKEYS; k++)
		wn[wg_lb_pick_hash_unbounded(w, (uint64_t)k * 7919)]++;
	assert_true(wn[0] > NKEYS * 70 / 100 && wn[0] < NKEYS * 80 / 100);
	wg_lb_destroy(w);
	wg_lb_destroy(lb);
	wg_lb_destroy(lb2);
}

/* Google's bound: after each assignment no backend holds more than
 * ceil(c * m * w / W) of the m keys, checked exactly at every step. */
static void
check_bound(struct wg_lb *lb, unsigned int n, uint32_t c_milli, uint64_t (*key)(int),
	    int m_total)
{
	uint32_t wsum = 0;

	for (unsigned int i = 0; i < n; i++)
		wsum += wg_lb_backend(lb, i)->weight;
	for (int m = 1; m <= m_total; m++) {
		int s = wg_lb_pick_hash(lb, key(m));

		assert_true(s >= 0);
		/* the capacity the pick saw: with m keys after it */
		assert_true(wg_lb_backend(lb, s)->outstanding < wg_lb_hash_capacity(lb, s));
		assert_int_equal(wg_lb_acquire(lb, s), 0);
		for (unsigned int i = 0; i < n; i++) {
			uint64_t w = wg_lb_backend(lb, i)->weight;
			uint64_t cap = ((uint64_t)c_milli * m * w + 1000ull * wsum - 1) /
				       (1000ull * wsum);

			if (wg_lb_backend(lb, i)->outstanding > cap)
				fail_msg("m %d: slot %u holds %u > cap %llu", m, i,
					 wg_lb_backend(lb, i)->outstanding,
					 (unsigned long long)cap);
		}
	}
}

static uint64_t key_seq(int m) { return (uint64_t)m; }
static uint64_t key_same(int m) { (void)m; return 42; }
static uint64_t key_few(int m) { return (uint64_t)(m % 3); }

static void
test_hash_bounded(void **state)
{
	struct wg_lb_conf c = { .strategy = WG_LB_HASH, .max_backends = 8 };
	struct wg_lb *lb;
	unsigned int home;

	(void)state;
	/* c = 1.25, 5 backends, 10k distinct keys */
	lb = wg_lb_create(&c);
	for (int i = 0; i < 5; i++)
		wg_lb_add(lb, 77 + i, 1, 0);
	check_bound(lb, 5, 1250, key_seq, 10000);
	wg_lb_destroy(lb);

	/* one hot key: plain hashing would put all 1000 on one backend; the
	 * bound spreads them, and the first ceil(1.25 * m / 5) stay home */
	lb = wg_lb_create(&c);
	for (int i = 0; i < 5; i++)
		wg_lb_add(lb, 77 + i, 1, 0);
	home = (unsigned int)wg_lb_pick_hash_unbounded(lb, 42);
	check_bound(lb, 5, 1250, key_same, 1000);
	assert_int_equal(wg_lb_backend(lb, home)->outstanding, 250);
	wg_lb_destroy(lb);

	/* c = 1.1 and unequal weights, three hot keys */
	c.bound_milli = 1100;
	lb = wg_lb_create(&c);
	wg_lb_add(lb, 1, 1, 0);
	wg_lb_add(lb, 2, 2, 0);
	wg_lb_add(lb, 3, 5, 0);
	check_bound(lb, 3, 1100, key_few, 3000);
	wg_lb_destroy(lb);

	/* unbounded: every pick is the home */
	c.bound_milli = UINT32_MAX;
	lb = wg_lb_create(&c);
	for (int i = 0; i < 4; i++)
		wg_lb_add(lb, i, 1, 0);
	home = (unsigned int)wg_lb_pick_hash_unbounded(lb, 42);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(wg_lb_pick(lb, 42), (int)home);
		wg_lb_acquire(lb, (int)home);
	}
	assert_int_equal(wg_lb_hash_capacity(lb, 0), UINT32_MAX);
	wg_lb_destroy(lb);
}

static void
test_zone(void **state)
{
	struct wg_lb_conf c = { .strategy = WG_LB_RR, .max_backends = 8,
				.prefer_zone = true, .local_zone = 2 };
	struct wg_lb *lb = wg_lb_create(&c);

	(void)state;
	wg_lb_add(lb, 10, 1, 1);
	wg_lb_add(lb, 11, 1, 2);
	wg_lb_add(lb, 12, 1, 1);
	wg_lb_add(lb, 13, 1, 2);
	assert_int_equal(wg_lb_eligible(lb), 2);
	for (int i = 0; i < 6; i++)
		assert_int_equal(wg_lb_pick(lb, 0), i % 2 ? 3 : 1);
	for (int k = 0; k < 100; k++) {
		int s = wg_lb_pick_hash(lb, (uint64_t)k);

		assert_true(s == 1 || s == 3);
	}
	/* the whole local zone down: fall back to the remote one */
	wg_lb_set_alive(lb, 1, false);
	wg_lb_set_alive(lb, 3, false);
	assert_int_equal(wg_lb_eligible(lb), 2);
	for (int i = 0; i < 6; i++) {
		int s = wg_lb_pick(lb, 0);

		assert_true(s == 0 || s == 2);
	}
	/* one local back: remote ones are not used any more */
	wg_lb_set_alive(lb, 3, true);
	assert_int_equal(wg_lb_eligible(lb), 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(wg_lb_pick(lb, 0), 3);
	wg_lb_destroy(lb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_rr),
		cmocka_unit_test(test_swrr_nginx),
		cmocka_unit_test(test_swrr_exact),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_least),
		cmocka_unit_test(test_hash_moves),
		cmocka_unit_test(test_hash_bounded),
		cmocka_unit_test(test_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
