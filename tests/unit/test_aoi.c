/* SPDX-License-Identifier: BSD-3-Clause
 * AOI: every implementation must produce exactly the naive reference's
 * events (and visible lists) over thousands of random steps with mixed
 * radii, churn, teleports, border and edge positions; plus the contract's
 * edge cases one by one.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aoi.h"

#define CAP 400

static const struct wg_aoi_ops *const impls[] = {
	&wg_aoi_ninegrid_ops, &wg_aoi_grid_ops, &wg_aoi_inc_ops,
};
#define NIMPL (sizeof(impls) / sizeof(impls[0]))

static struct wg_aoi *
mk(const struct wg_aoi_ops *ops, uint32_t flags)
{
	/* negative coordinates allowed; cells of 50 (inc: 25) */
	struct wg_aoi_conf c = {
		.min_x = -500, .min_y = -500, .width = 1000, .height = 1000,
		.view_radius = 50, .capacity = CAP, .flags = flags,
	};
	struct wg_aoi *a = wg_aoi_create(ops, &c);

	assert_non_null(a);
	return a;
}

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static float
coord(void)
{
	switch (rnd() % 10) {
	case 0:
		/* exactly on a cell border of every implementation */
		return (float)(-500 + 25 * (int)(rnd() % 41));
	case 1:
		/* world edges and beyond */
		return rnd() % 2 ? -500.0f : 500.0f;
	case 2:
		return (float)(-700 + (int)(rnd() % 1400));
	default:
		return (float)((double)(rnd() % 1000000) / 1000.0 - 500);
	}
}

static bool fixed_radius;   /* every key at 60: exercises inc's interior skip */

static float
radius(void)
{
	if (fixed_radius)
		return 60;
	switch (rnd() % 20) {
	case 0:
		return 0;
	case 1:
		return 2000;   /* sees the whole world */
	case 2:
		return 25;     /* exactly a cell */
	default:
		return (float)(rnd() % 12000) / 100.0f;
	}
}

static void
same_events(const struct wg_aoi_event *e, int n, const struct wg_aoi_event *r, int rn,
	    const char *name, uint32_t tick)
{
	int i;

	if (n != rn)
		fail_msg("%s tick %u: %d events, reference %d", name, tick, n, rn);
	for (i = 0; i < n; i++)
		if (e[i].observer != r[i].observer || e[i].target != r[i].target ||
		    e[i].kind != r[i].kind)
			fail_msg("%s tick %u event %d: (%u,%u,%u) vs (%u,%u,%u)", name, tick, i,
				 e[i].observer, e[i].target, e[i].kind, r[i].observer,
				 r[i].target, r[i].kind);
}

/* Lockstep random walk over all implementations + the reference. */
static void
run_property(uint64_t seed, uint32_t ticks, uint32_t flags)
{
	struct wg_aoi *ref = mk(&wg_aoi_naive_ops, flags), *a[NIMPL];
	static struct wg_aoi_event copy[CAP * CAP];
	bool live[CAP] = { 0 }, dead_now[CAP];
	uint32_t va[CAP], vb[CAP], t, k, i, total = 0;
	float x[CAP], y[CAP];

	rng = seed;
	for (i = 0; i < NIMPL; i++)
		a[i] = mk(impls[i], flags);
	for (t = 0; t < ticks; t++) {
		const struct wg_aoi_event *re, *e;
		/* fixed radius: many movers per tick, so pairs of movers abound */
		uint32_t ops = 1 + (uint32_t)(rnd() % (fixed_radius ? 400 : 60));
		int rn, n;

		memset(dead_now, 0, sizeof(dead_now));
		for (; ops > 0; ops--) {
			uint32_t kind = (uint32_t)(rnd() % 10);
			float fx, fy, r;
			int rc;

			k = (uint32_t)(rnd() % CAP);
			if (!live[k]) {
				fx = coord();
				fy = coord();
				r = radius();
				rc = wg_aoi_insert(ref, k, fx, fy, r);
				assert_int_equal(rc, dead_now[k] ? -EBUSY : 0);
				for (i = 0; i < NIMPL; i++)
					assert_int_equal(wg_aoi_insert(a[i], k, fx, fy, r), rc);
				if (rc == 0) {
					live[k] = true;
					x[k] = fx;
					y[k] = fy;
				}
			} else if (kind < 6) {
				/* mostly small steps, sometimes a teleport */
				if (kind == 0) {
					fx = coord();
					fy = coord();
				} else {
					fx = x[k] + (float)((int)(rnd() % 21) - 10);
					fy = y[k] + (float)((int)(rnd() % 21) - 10);
				}
				assert_int_equal(wg_aoi_move(ref, k, fx, fy), 0);
				for (i = 0; i < NIMPL; i++)
					assert_int_equal(wg_aoi_move(a[i], k, fx, fy), 0);
				x[k] = fx;
				y[k] = fy;
			} else if (kind < 8) {
				r = radius();
				assert_int_equal(wg_aoi_set_radius(ref, k, r), 0);
				for (i = 0; i < NIMPL; i++)
					assert_int_equal(wg_aoi_set_radius(a[i], k, r), 0);
			} else {
				assert_int_equal(wg_aoi_remove(ref, k), 0);
				for (i = 0; i < NIMPL; i++)
					assert_int_equal(wg_aoi_remove(a[i], k), 0);
				live[k] = false;
				dead_now[k] = true;
			}
		}
		rn = wg_aoi_tick(ref, &re);
		assert_true(rn >= 0);
		if (rn > 0)
			memcpy(copy, re, (size_t)rn * sizeof(*re));
		total += (uint32_t)rn;
		/* sorted by (observer, target), each pair once */
		for (n = 1; n < rn; n++)
			assert_true(copy[n - 1].observer < copy[n].observer ||
				    (copy[n - 1].observer == copy[n].observer &&
				     copy[n - 1].target < copy[n].target));
		for (i = 0; i < NIMPL; i++) {
			n = wg_aoi_tick(a[i], &e);
			same_events(e, n, copy, rn, impls[i]->name, t);
		}
	}
	for (k = 0; k < CAP; k++) {
		int rc, c;

		if (!live[k])
			continue;
		c = wg_aoi_visible(ref, k, va, CAP);
		for (i = 0; i < NIMPL; i++) {
			rc = wg_aoi_visible(a[i], k, vb, CAP);
			assert_int_equal(rc, c);
			assert_memory_equal(va, vb, (size_t)c * sizeof(uint32_t));
		}
	}
	/* queries against the reference, at the final positions */
	for (t = 0; t < 50; t++) {
		float qx = coord(), qy = coord(), qr = radius(), x1 = qx + radius() / 2,
		      y1 = qy + radius() / 3;
		int c = wg_aoi_query_radius(ref, qx, qy, qr, va, CAP);

		for (i = 0; i < NIMPL; i++) {
			assert_int_equal(wg_aoi_query_radius(a[i], qx, qy, qr, vb, CAP), c);
			assert_memory_equal(va, vb, (size_t)c * sizeof(uint32_t));
		}
		c = wg_aoi_query_rect(ref, qx, qy, x1, y1, va, CAP);
		for (i = 0; i < NIMPL; i++) {
			assert_int_equal(wg_aoi_query_rect(a[i], qx, qy, x1, y1, vb, CAP), c);
			assert_memory_equal(va, vb, (size_t)c * sizeof(uint32_t));
		}
	}
	/* the walk must have produced real work, or it proves nothing */
	assert_true(total > ticks * 10);
	wg_aoi_destroy(ref);
	for (i = 0; i < NIMPL; i++)
		wg_aoi_destroy(a[i]);
}

static void
test_property_enter_leave(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 6; seed++)
		run_property(seed, 400, 0);
}

static void
test_property_fixed_radius(void **state)
{
	uint64_t seed;

	(void)state;
	fixed_radius = true;
	for (seed = 50; seed <= 53; seed++)
		run_property(seed, 300, 0);
	fixed_radius = false;
}

static void
test_property_move_events(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 100; seed <= 103; seed++)
		run_property(seed, 300, WG_AOI_F_MOVE_EVENTS);
}

/* One implementation through a scripted scenario; events as triples. */
static int
tick_into(struct wg_aoi *a, uint32_t out[][3], int cap)
{
	const struct wg_aoi_event *e;
	int n = wg_aoi_tick(a, &e), i;

	assert_true(n >= 0 && n <= cap);
	for (i = 0; i < n; i++) {
		out[i][0] = e[i].observer;
		out[i][1] = e[i].target;
		out[i][2] = e[i].kind;
	}
	return n;
}

static void
test_edge_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NIMPL + 1; i++) {
		const struct wg_aoi_ops *ops = i < NIMPL ? impls[i] : &wg_aoi_naive_ops;
		struct wg_aoi *a = mk(ops, WG_AOI_F_MOVE_EVENTS);
		uint32_t ev[16][3], vis[8];
		int n;

		/* radius 0 sees exactly co-located entities, nothing else */
		assert_int_equal(wg_aoi_insert(a, 1, 0, 0, 0), 0);
		assert_int_equal(wg_aoi_insert(a, 2, 0, 0, 10), 0);
		assert_int_equal(wg_aoi_insert(a, 3, 0.001f, 0, 10), 0);
		n = tick_into(a, ev, 16);
		/* 1 sees 2; 2 sees 1, 3; 3 sees 1, 2 */
		assert_int_equal(n, 5);
		assert_int_equal(wg_aoi_visible(a, 1, vis, 8), 1);
		assert_int_equal(vis[0], 2);
		assert_int_equal(wg_aoi_visible(a, 3, vis, 8), 2);

		/* on a cell border, exactly at the radius: inside (<=) */
		assert_int_equal(wg_aoi_insert(a, 10, 25, 25, 25), 0);
		assert_int_equal(wg_aoi_insert(a, 11, 50, 25, 0), 0);
		assert_int_equal(wg_aoi_insert(a, 12, 50.001f, 25, 0), 0);
		tick_into(a, ev, 16);
		assert_int_equal(wg_aoi_visible(a, 10, vis, 8), 1);
		assert_int_equal(vis[0], 11);

		/* world edges and outside the grid */
		assert_int_equal(wg_aoi_insert(a, 20, -500, -500, 5), 0);
		assert_int_equal(wg_aoi_insert(a, 21, -503, -504, 5), 0);
		assert_int_equal(wg_aoi_insert(a, 22, 900, 900, 1), 0);
		assert_int_equal(wg_aoi_insert(a, 23, 900.5f, 900, 1), 0);
		tick_into(a, ev, 16);
		assert_int_equal(wg_aoi_visible(a, 20, vis, 8), 1);
		assert_int_equal(vis[0], 21);
		assert_int_equal(wg_aoi_visible(a, 22, vis, 8), 1);

		/* non-finite and out-of-range arguments are refused */
		assert_int_equal(wg_aoi_insert(a, 30, NAN, 0, 1), -EINVAL);
		assert_int_equal(wg_aoi_insert(a, 30, 0, INFINITY, 1), -EINVAL);
		assert_int_equal(wg_aoi_insert(a, 30, 0, 0, -1), -EINVAL);
		assert_int_equal(wg_aoi_insert(a, 30, 0, 0, NAN), -EINVAL);
		assert_int_equal(wg_aoi_insert(a, CAP, 0, 0, 1), -EINVAL);
		assert_int_equal(wg_aoi_insert(a, 1, 0, 0, 1), -EEXIST);
		assert_int_equal(wg_aoi_move(a, 1, -INFINITY, 0), -EINVAL);
		assert_int_equal(wg_aoi_move(a, 30, 0, 0), -ENOENT);
		assert_int_equal(wg_aoi_set_radius(a, 1, INFINITY), -EINVAL);
		assert_int_equal(wg_aoi_remove(a, 30), -ENOENT);
		assert_int_equal(wg_aoi_query_radius(a, NAN, 0, 1, vis, 8), -EINVAL);
		assert_int_equal(wg_aoi_query_rect(a, 1, 0, 0, 1, vis, 8), -EINVAL);
		/* the refused calls changed nothing */
		assert_int_equal(tick_into(a, ev, 16), 0);

		/* despawn of an observed entity: its observers get LEAVE; the
		 * key cannot come back inside the same tick */
		assert_int_equal(wg_aoi_remove(a, 2), 0);
		assert_int_equal(wg_aoi_insert(a, 2, 0, 0, 1), -EBUSY);
		n = tick_into(a, ev, 16);
		assert_int_equal(n, 2);
		assert_int_equal(ev[0][0], 1);
		assert_int_equal(ev[0][1], 2);
		assert_int_equal(ev[0][2], WG_AOI_LEAVE);
		assert_int_equal(ev[1][0], 3);
		assert_int_equal(ev[1][1], 2);
		assert_int_equal(ev[1][2], WG_AOI_LEAVE);
		assert_int_equal(wg_aoi_insert(a, 2, 0, 0, 10), 0);
		assert_int_equal(tick_into(a, ev, 16), 4);

		/* an observer that moves then despawns gets no events; the
		 * others see it leave */
		assert_int_equal(wg_aoi_move(a, 3, 0, 1), 0);
		assert_int_equal(wg_aoi_remove(a, 3), 0);
		n = tick_into(a, ev, 16);
		assert_int_equal(n, 1);
		assert_int_equal(ev[0][0], 2);
		assert_int_equal(ev[0][1], 3);
		assert_int_equal(ev[0][2], WG_AOI_LEAVE);

		/* teleport away and back: LEAVE, then ENTER; a small step is MOVE */
		assert_int_equal(wg_aoi_move(a, 2, 400, 400), 0);
		n = tick_into(a, ev, 16);
		assert_int_equal(n, 2);
		assert_int_equal(ev[0][2], WG_AOI_LEAVE);
		assert_int_equal(ev[1][2], WG_AOI_LEAVE);
		assert_int_equal(wg_aoi_move(a, 2, 0, 0), 0);
		n = tick_into(a, ev, 16);
		assert_int_equal(n, 2);
		assert_int_equal(ev[0][0], 1);
		assert_int_equal(ev[0][2], WG_AOI_ENTER);
		assert_int_equal(ev[1][0], 2);
		assert_int_equal(ev[1][2], WG_AOI_ENTER);
		/* 1 (radius 0) stops seeing it; 2 still sees 1, which did not
		 * move: no event for that pair */
		assert_int_equal(wg_aoi_move(a, 2, 0, 0.25f), 0);
		n = tick_into(a, ev, 16);
		assert_int_equal(n, 1);
		assert_int_equal(ev[0][0], 1);
		assert_int_equal(ev[0][2], WG_AOI_LEAVE);
		/* a larger radius brings it back */
		assert_int_equal(wg_aoi_set_radius(a, 1, 1), 0);
		assert_int_equal(wg_aoi_move(a, 2, 0, 0.125f), 0);
		n = tick_into(a, ev, 16);
		assert_int_equal(n, 1);
		assert_int_equal(ev[0][0], 1);
		assert_int_equal(ev[0][1], 2);
		assert_int_equal(ev[0][2], WG_AOI_ENTER);
		/* seen before and after, and it moved: MOVE */
		assert_int_equal(wg_aoi_move(a, 2, 0, 0), 0);
		n = tick_into(a, ev, 16);
		assert_int_equal(n, 1);
		assert_int_equal(ev[0][0], 1);
		assert_int_equal(ev[0][1], 2);
		assert_int_equal(ev[0][2], WG_AOI_MOVE);
		wg_aoi_destroy(a);
	}
}

static void
test_create_rejects(void **state)
{
	struct wg_aoi_conf c = { .width = 10, .height = 10, .capacity = 10 };
	struct wg_aoi_conf bad;

	(void)state;
	bad = c;
	bad.capacity = 0;
	assert_null(wg_aoi_create(&wg_aoi_inc_ops, &bad));
	assert_int_equal(errno, EINVAL);
	bad = c;
	bad.capacity = WG_AOI_MAX_KEYS + 1;
	assert_null(wg_aoi_create(&wg_aoi_grid_ops, &bad));
	bad = c;
	bad.width = NAN;
	assert_null(wg_aoi_create(&wg_aoi_grid_ops, &bad));
	bad = c;
	bad.flags = 0x8000;
	assert_null(wg_aoi_create(&wg_aoi_naive_ops, &bad));
	assert_ptr_equal(wg_aoi_ops_by_name("inc"), &wg_aoi_inc_ops);
	assert_ptr_equal(wg_aoi_ops_by_name("ninegrid"), &wg_aoi_ninegrid_ops);
	assert_null(wg_aoi_ops_by_name("quadtree"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property_enter_leave),
		cmocka_unit_test(test_property_fixed_radius),
		cmocka_unit_test(test_property_move_events),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_create_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
