/* SPDX-License-Identifier: BSD-3-Clause
 * Timer wheel against a reference model that knows nothing about levels:
 * an array of (armed, expire) scanned whole. The model is checked in lock
 * step with the wheel, inside every callback, so callbacks can re-arm and
 * cancel (even nodes due in the same batch) and the model still says
 * exactly which node may fire at which tick:
 *
 *   - an advance fires in "rounds", one per tick it visits; the first
 *     round is at the clock's current tick (timers armed for <= now), the
 *     others at the ticks where something is due;
 *   - a round at tick t fires every node armed with expire <= t when the
 *     round starts, unless a callback of that round cancels or re-arms it
 *     first; nodes armed by callbacks for <= t wait for the next round
 *     (tick t + 1) or the next advance;
 *   - arming for a tick before now stores now;
 *   - expiries fire in nondecreasing order, and none ever early.
 *
 * Deterministic tests pin down boundary ticks, overflow, callbacks,
 * wg_tw_next() and a million timers.
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

#include "timer_wheel.h"

#define B8   (UINT64_C(1) << 8)
#define B16  (UINT64_C(1) << 16)
#define B24  (UINT64_C(1) << 24)
#define B32  (UINT64_C(1) << 32)

/* splitmix64: a seeded, reproducible stream */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rnd_below(uint64_t *s, uint64_t n)
{
	return n == 0 ? 0 : rnd(s) % n;
}

struct tnode {
	struct wg_tw_node n;
	uint32_t id;
};

static struct tnode *
tnode_of(struct wg_tw_node *n)
{
	return (struct tnode *)(void *)((char *)n - offsetof(struct tnode, n));
}

/* ---------------------------------------------------------------- model */

struct harness {
	struct wg_timer_wheel *tw;
	struct tnode *nodes;
	uint32_t n;

	/* model */
	bool *armed;
	uint64_t *exp;
	bool *in_round;
	uint64_t mnow;             /* the model's clock */
	uint32_t round_left;       /* nodes of the open round not fired yet */
	uint64_t round_t;
	bool round_open;
	bool had_round;            /* a round happened in this advance */
	uint64_t last_round_t;
	uint64_t call_start;
	uint64_t last_fired_exp;
	uint64_t fired_call;
	uint64_t fired_total;

	/* callback behaviour */
	uint64_t rng;
	unsigned int p_rearm_self; /* percent */
	unsigned int p_arm_other;
	unsigned int p_cancel_other;
	uint64_t (*pick_delta)(struct harness *h);

	/* optional fire log for scripted tests */
	uint32_t *log_id;
	uint64_t *log_tick;
	uint32_t log_n, log_cap;
	void (*script)(struct harness *h, uint32_t id);
};

static void
h_new(struct harness *h, uint32_t n, uint64_t start, uint64_t seed)
{
	memset(h, 0, sizeof(*h));
	h->tw = malloc(sizeof(*h->tw));
	h->nodes = calloc(n, sizeof(*h->nodes));
	h->armed = calloc(n, sizeof(*h->armed));
	h->exp = calloc(n, sizeof(*h->exp));
	h->in_round = calloc(n, sizeof(*h->in_round));
	assert_non_null(h->tw);
	assert_non_null(h->nodes);
	assert_non_null(h->armed);
	assert_non_null(h->exp);
	assert_non_null(h->in_round);
	h->n = n;
	for (uint32_t i = 0; i < n; i++)
		h->nodes[i].id = i;
	wg_tw_init(h->tw, start);
	h->mnow = start;
	h->last_fired_exp = start;
	h->rng = seed;
}

static void
h_free(struct harness *h)
{
	free(h->tw);
	free(h->nodes);
	free(h->armed);
	free(h->exp);
	free(h->in_round);
	free(h->log_id);
	free(h->log_tick);
}

static void
h_log_enable(struct harness *h, uint32_t cap)
{
	h->log_id = calloc(cap, sizeof(*h->log_id));
	h->log_tick = calloc(cap, sizeof(*h->log_tick));
	assert_non_null(h->log_id);
	assert_non_null(h->log_tick);
	h->log_cap = cap;
}

static void
m_arm(struct harness *h, uint32_t id, uint64_t e)
{
	if (h->in_round[id]) {
		h->in_round[id] = false;
		h->round_left--;
	}
	h->armed[id] = true;
	h->exp[id] = e < h->mnow ? h->mnow : e;
	wg_tw_arm(h->tw, &h->nodes[id].n, e);
	assert_true(wg_tw_pending(&h->nodes[id].n));
	assert_int_equal(h->nodes[id].n.expire, h->exp[id]);
}

static void
m_cancel(struct harness *h, uint32_t id)
{
	if (h->in_round[id]) {
		h->in_round[id] = false;
		h->round_left--;
	}
	h->armed[id] = false;
	wg_tw_cancel(h->tw, &h->nodes[id].n);
	assert_false(wg_tw_pending(&h->nodes[id].n));
}

static uint32_t
m_pending(const struct harness *h)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < h->n; i++)
		c += h->armed[i];
	return c;
}

static uint64_t
m_earliest(const struct harness *h)
{
	uint64_t m = UINT64_MAX;

	for (uint32_t i = 0; i < h->n; i++)
		if (h->armed[i] && h->exp[i] < m)
			m = h->exp[i];
	return m;
}

/* Tick of the next round, from the round (or advance) boundary we are at. */
static uint64_t
m_next_round(const struct harness *h)
{
	uint64_t base = h->had_round ? h->last_round_t + 1 : h->call_start;
	uint64_t m = UINT64_MAX, t;

	for (uint32_t i = 0; i < h->n; i++) {
		if (!h->armed[i])
			continue;
		t = h->exp[i] < base ? base : h->exp[i];
		if (t < m)
			m = t;
	}
	return m;
}

static void
m_close_round(struct harness *h)
{
	if (!h->round_open)
		return;
	/* every node due in the round fired, or was cancelled/re-armed */
	assert_int_equal(h->round_left, 0);
	h->round_open = false;
	h->had_round = true;
	h->last_round_t = h->round_t;
}

static void
m_open_round(struct harness *h, uint64_t t)
{
	/* the wheel visits exactly the tick the model expects next */
	assert_int_equal(t, m_next_round(h));
	h->round_t = t;
	h->mnow = t;
	h->round_open = true;
	for (uint32_t i = 0; i < h->n; i++)
		if (h->armed[i] && h->exp[i] <= t) {
			h->in_round[i] = true;
			h->round_left++;
		}
}

static uint32_t
pick_node(struct harness *h)
{
	return (uint32_t)rnd_below(&h->rng, h->n);
}

static void
on_fire(struct wg_tw_node *node, void *arg)
{
	struct harness *h = arg;
	struct tnode *tn = tnode_of(node);
	uint32_t id = tn->id;
	uint64_t t = h->tw->now;

	assert_true(id < h->n);
	if (!h->round_open || t != h->round_t) {
		m_close_round(h);
		m_open_round(h, t);
	}
	assert_true(h->in_round[id]);
	assert_false(wg_tw_pending(node));
	assert_int_equal(node->expire, h->exp[id]);
	assert_true(node->expire <= t);                  /* never early */
	assert_true(node->expire >= h->last_fired_exp);  /* nondecreasing */
	h->last_fired_exp = node->expire;
	h->in_round[id] = false;
	h->round_left--;
	h->armed[id] = false;
	h->fired_call++;
	h->fired_total++;
	if (h->log_id != NULL && h->log_n < h->log_cap) {
		h->log_id[h->log_n] = id;
		h->log_tick[h->log_n] = t;
		h->log_n++;
	}
	if (h->script != NULL) {
		h->script(h, id);
		return;
	}
	/* sometimes for a tick already passed: stored as t, fires next tick */
	if (rnd_below(&h->rng, 100) < h->p_rearm_self)
		m_arm(h, id, t + h->pick_delta(h) - (t >= 3 && rnd_below(&h->rng, 8) == 0 ? 3 : 0));
	if (rnd_below(&h->rng, 100) < h->p_arm_other)
		m_arm(h, pick_node(h), t + h->pick_delta(h));
	if (rnd_below(&h->rng, 100) < h->p_cancel_other)
		m_cancel(h, pick_node(h));
}

/* Checks what wg_tw_next() promises against the model's earliest expiry. */
static void
check_next(struct harness *h)
{
	uint64_t nx = wg_tw_next(h->tw), e = m_earliest(h);

	assert_int_equal(h->tw->pending, m_pending(h));
	if (e == UINT64_MAX) {
		assert_int_equal(nx, UINT64_MAX);
		return;
	}
	assert_true(nx <= e);               /* never late */
	assert_true(nx >= h->mnow);
	if (e == h->mnow || (e >> 8) == (h->mnow >> 8) || (e >> 32) != (h->mnow >> 32))
		assert_int_equal(nx, e);        /* exact in the current block and in overflow */
	else
		assert_true(nx > h->mnow);      /* an idle loop gets to sleep */
}

static unsigned int
h_advance(struct harness *h, uint64_t to)
{
	uint64_t target = to < h->mnow ? h->mnow : to;
	unsigned int r;

	h->call_start = h->mnow;
	h->had_round = false;
	h->round_open = false;
	h->fired_call = 0;
	r = wg_tw_advance(h->tw, to, on_fire, h);
	m_close_round(h);
	/* nothing the model says was due by target is left */
	assert_true(m_next_round(h) > target);
	h->mnow = target;
	assert_int_equal(h->tw->now, target);
	assert_int_equal(r, h->fired_call);
	check_next(h);
	return r;
}

/* ------------------------------------------------------- random workload */

static const uint64_t boundary[] = {
	0, 1, 2, 254, 255, 256, 257, 511, 512, 65535, 65536, 65537, 65791, 65792,
	B24 - 1, B24, B24 + 1, B24 + 255, B24 + 256, B32 - 1, B32, B32 + 1, B32 + 256,
	B32 + B24, 2 * B32, B32 * 300,
};

static uint64_t
delta_mixed(struct harness *h)
{
	uint64_t r = rnd_below(&h->rng, 100), a;

	if (r < 35)
		return rnd_below(&h->rng, 300);
	if (r < 55)
		return boundary[rnd_below(&h->rng, sizeof(boundary) / sizeof(boundary[0]))];
	if (r < 70) {
		/* land on or next to an absolute level boundary */
		static const uint64_t al[] = { B8, B16, B24, B32 };
		uint64_t u = al[rnd_below(&h->rng, 4)];

		a = (h->mnow | (u - 1)) + 1 - h->mnow;
		a += rnd_below(&h->rng, 4) * u;
		return a - 1 + rnd_below(&h->rng, 3);
	}
	if (r < 85)
		return rnd_below(&h->rng, B16 * 4);
	if (r < 95)
		return rnd_below(&h->rng, B24 * 8);
	return rnd_below(&h->rng, B32 * 8);
}

static uint64_t
delta_small(struct harness *h)
{
	return rnd_below(&h->rng, 6);
}

static void
random_workload(uint64_t seed, uint64_t start, uint32_t nodes, uint32_t ops)
{
	struct harness h;
	uint64_t r, e;
	uint32_t id;

	h_new(&h, nodes, start, seed);
	h.p_rearm_self = 30;
	h.p_arm_other = 20;
	h.p_cancel_other = 20;
	h.pick_delta = delta_mixed;
	for (uint32_t op = 0; op < ops; op++) {
		r = rnd_below(&h.rng, 100);
		if (r < 40) {
			id = pick_node(&h);
			if (rnd_below(&h.rng, 10) == 0)   /* overdue: stored as now */
				m_arm(&h, id, h.mnow - rnd_below(&h.rng, h.mnow < 1000 ? h.mnow + 1 : 1000));
			else
				m_arm(&h, id, h.mnow + delta_mixed(&h));
		} else if (r < 50) {
			m_cancel(&h, pick_node(&h));
		} else if (r < 70) {
			h_advance(&h, h.mnow + rnd_below(&h.rng, 6));
		} else if (r < 80) {
			/* exactly to (or just before/after) the earliest expiry */
			e = m_earliest(&h);
			if (e != UINT64_MAX)
				h_advance(&h, e - 1 + rnd_below(&h.rng, 3));
		} else if (r < 87) {
			h_advance(&h, h.mnow + rnd_below(&h.rng, B16 * 2));
		} else if (r < 92) {
			h_advance(&h, wg_tw_next(h.tw) == UINT64_MAX ? h.mnow : wg_tw_next(h.tw));
		} else if (r < 97) {
			h_advance(&h, h.mnow + rnd_below(&h.rng, B24 * 4));
		} else {
			h_advance(&h, h.mnow + rnd_below(&h.rng, B32 * 4));  /* hours .. months */
		}
		check_next(&h);
	}
	/* drain: everything left fires, in order, on time */
	h.p_rearm_self = 0;
	h.p_arm_other = 0;
	h_advance(&h, h.mnow + B32 * 1024);   /* beyond the farthest boundary[] */
	assert_int_equal(h.tw->pending, 0);
	assert_int_equal(m_pending(&h), 0);
	assert_true(h.fired_total > ops / 4);   /* the workload did fire things */
	h_free(&h);
}

static void
test_random_model(void **state)
{
	(void)state;
	random_workload(1, 0, 1500, 40000);
	random_workload(2, 1000, 200, 40000);
	random_workload(3, B32 - 300, 1500, 30000);        /* crosses into overflow territory */
	random_workload(4, B24 - 7, 50, 40000);            /* few nodes: long empty stretches */
	random_workload(5, UINT64_C(0x123456789abc), 1000, 30000);
	random_workload(6, (UINT64_C(1) << 50) - 5, 800, 30000);
}

/* Callbacks that mostly re-arm for a tick or two: dense per-tick rounds,
 * same-batch cancels and re-arms for now. */
static void
test_random_dense_callbacks(void **state)
{
	struct harness h;

	(void)state;
	for (uint64_t seed = 10; seed < 14; seed++) {
		h_new(&h, 300, seed * 1000, seed);
		h.p_rearm_self = 70;
		h.p_arm_other = 50;
		h.p_cancel_other = 40;
		h.pick_delta = delta_small;
		for (uint32_t i = 0; i < h.n; i++)
			m_arm(&h, i, h.mnow + rnd_below(&h.rng, 20));
		for (uint32_t op = 0; op < 3000; op++) {
			if (rnd_below(&h.rng, 4) == 0)
				m_arm(&h, pick_node(&h), h.mnow + rnd_below(&h.rng, 10));
			h_advance(&h, h.mnow + rnd_below(&h.rng, 4));
		}
		h.p_rearm_self = 0;
		h.p_arm_other = 0;
		h_advance(&h, h.mnow + 100);
		assert_int_equal(h.tw->pending, 0);
		h_free(&h);
	}
}

/* ------------------------------------------------------ scripted tests */

static struct wg_timer_wheel *
tw_new(uint64_t now)
{
	struct wg_timer_wheel *tw = malloc(sizeof(*tw));

	assert_non_null(tw);
	wg_tw_init(tw, now);
	return tw;
}

/* Arm one timer at now+d (or absolute), check it fires exactly at its
 * tick, not one tick before, when stepping and when jumping. */
static void
check_single(uint64_t start, uint64_t expire)
{
	struct harness h;

	h_new(&h, 1, start, 0);
	h_log_enable(&h, 4);
	m_arm(&h, 0, expire);
	if (expire > start) {
		assert_int_equal(h_advance(&h, expire - 1), 0);
		assert_true(wg_tw_pending(&h.nodes[0].n));
	}
	assert_int_equal(h_advance(&h, expire), 1);
	assert_int_equal(h.log_tick[0], expire);
	h_free(&h);

	/* the same in one jump well past it */
	h_new(&h, 1, start, 0);
	h_log_enable(&h, 4);
	m_arm(&h, 0, expire);
	assert_int_equal(h_advance(&h, expire + B32 + 12345), 1);
	assert_int_equal(h.log_tick[0], expire);
	h_free(&h);
}

static void
test_boundaries(void **state)
{
	static const uint64_t starts[] = {
		0, 1, 7, 255, 256, 65535, 65536, B24 - 1, B24, B32 - 1, B32, B32 + 77,
		UINT64_C(0xfedcba987654), (UINT64_C(1) << 62) - 1,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		uint64_t s = starts[i];

		for (size_t j = 0; j < sizeof(boundary) / sizeof(boundary[0]); j++) {
			check_single(s, s + boundary[j]);
			/* absolute boundaries ahead of s, and their neighbours */
			for (unsigned int k = 1; k <= 4; k++) {
				uint64_t u = UINT64_C(1) << (8 * k);
				uint64_t b = (s | (u - 1)) + 1;

				check_single(s, b - 1);
				check_single(s, b);
				check_single(s, b + 1);
				check_single(s, b + u);
			}
		}
	}
	/* from tick 0: the classic edges */
	check_single(0, 255);
	check_single(0, 256);
	check_single(0, 65535);
	check_single(0, 65536);
	check_single(0, B24);
	check_single(0, B32 - 1);
	check_single(0, B32);
}

/* Many timers at every boundary at once, stepping and jumping, against
 * the model (which also checks the order). */
static void
test_boundary_mix(void **state)
{
	struct harness h;
	const size_t nb = sizeof(boundary) / sizeof(boundary[0]);

	(void)state;
	for (uint64_t start = 0; start < 600; start += 97) {
		h_new(&h, (uint32_t)(nb * 3), start, start);
		for (size_t j = 0; j < nb; j++) {
			m_arm(&h, (uint32_t)(3 * j), start + boundary[j]);
			m_arm(&h, (uint32_t)(3 * j + 1), boundary[j]);      /* absolute */
			m_arm(&h, (uint32_t)(3 * j + 2), start + boundary[j] + 1);
		}
		check_next(&h);
		while (h.tw->pending != 0) {
			uint64_t nx = wg_tw_next(h.tw);

			h_advance(&h, nx);
		}
		assert_int_equal(h.fired_total, nb * 3);
		h_free(&h);
	}
}

static void
test_overflow(void **state)
{
	struct harness h;
	static const uint64_t far[] = {
		B32, B32 + 1, B32 * 2 - 1, B32 * 2, B32 * 5 + 3, UINT64_C(1) << 40,
		(UINT64_C(1) << 40) + 1, UINT64_C(1) << 50,
	};
	const uint32_t n = sizeof(far) / sizeof(far[0]);

	(void)state;
	h_new(&h, n, 10, 0);
	h_log_enable(&h, n);
	/* armed in reverse so list order is not expiry order */
	for (uint32_t i = n; i-- > 0;)
		m_arm(&h, i, 10 + far[i]);
	assert_int_equal(wg_tw_next(h.tw), 10 + far[0]);
	assert_int_equal(h_advance(&h, 10 + B32 - 1), 0);
	assert_int_equal(h_advance(&h, UINT64_C(1) << 51), n);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(h.log_id[i], i);
		assert_int_equal(h.log_tick[i], 10 + far[i]);
	}
	h_free(&h);

	/* overflow timers fire exactly when reached one tick at a time */
	h_new(&h, 2, B32 - 2, 0);
	h_log_enable(&h, 2);
	m_arm(&h, 0, B32 * 2 - 2);        /* overflow: differs above bit 32 */
	m_arm(&h, 1, B32 * 2 - 1);
	assert_int_equal(h_advance(&h, B32 * 2 - 3), 0);
	assert_int_equal(h_advance(&h, B32 * 2 - 2), 1);
	assert_int_equal(h_advance(&h, B32 * 2 - 1), 1);
	assert_int_equal(h.log_tick[0], B32 * 2 - 2);
	assert_int_equal(h.log_tick[1], B32 * 2 - 1);
	h_free(&h);
}

/* ---- callbacks */

struct cb_rec {
	struct wg_timer_wheel *tw;
	struct tnode *nodes;
	uint32_t log_id[64];
	uint64_t log_tick[64];
	uint64_t log_exp[64];
	unsigned int n;
	unsigned int rearm_left;
	uint64_t rearm_delta;     /* relative to the firing tick */
	int cancel_id;            /* cancelled by node 0's callback, -1 none */
	int arm_id;               /* armed by node 0's callback at arm_at */
	uint64_t arm_at;
};

static void
cb_fire(struct wg_tw_node *node, void *arg)
{
	struct cb_rec *r = arg;
	struct tnode *tn = tnode_of(node);

	assert_true(r->n < 64);
	assert_false(wg_tw_pending(node));
	r->log_id[r->n] = tn->id;
	r->log_tick[r->n] = r->tw->now;
	r->log_exp[r->n] = node->expire;
	r->n++;
	if (tn->id == 0 && r->rearm_left > 0) {
		r->rearm_left--;
		wg_tw_arm(r->tw, node, r->tw->now + r->rearm_delta);
	}
	if (tn->id == 0 && r->cancel_id >= 0)
		wg_tw_cancel(r->tw, &r->nodes[r->cancel_id].n);
	if (tn->id == 0 && r->arm_id >= 0)
		wg_tw_arm(r->tw, &r->nodes[r->arm_id].n, r->arm_at);
}

static void
cb_setup(struct cb_rec *r, struct tnode *nodes, uint32_t n, uint64_t now)
{
	memset(r, 0, sizeof(*r));
	memset(nodes, 0, n * sizeof(*nodes));
	for (uint32_t i = 0; i < n; i++)
		nodes[i].id = i;
	r->tw = tw_new(now);
	r->nodes = nodes;
	r->cancel_id = -1;
	r->arm_id = -1;
}

static void
test_rearm_in_callback(void **state)
{
	struct cb_rec r;
	struct tnode nodes[4];

	(void)state;
	/* re-arm +10 three times, all inside one advance */
	cb_setup(&r, nodes, 4, 0);
	r.rearm_left = 3;
	r.rearm_delta = 10;
	wg_tw_arm(r.tw, &nodes[0].n, 10);
	wg_tw_arm(r.tw, &nodes[1].n, 25);
	assert_int_equal(wg_tw_advance(r.tw, 1000, cb_fire, &r), 5);
	assert_int_equal(r.n, 5);
	{
		const uint32_t ids[] = { 0, 0, 1, 0, 0 };
		const uint64_t ticks[] = { 10, 20, 25, 30, 40 };

		for (unsigned int i = 0; i < 5; i++) {
			assert_int_equal(r.log_id[i], ids[i]);
			assert_int_equal(r.log_tick[i], ticks[i]);
			assert_int_equal(r.log_exp[i], ticks[i]);
		}
	}
	assert_int_equal(r.tw->pending, 0);
	free(r.tw);

	/* re-arm across a level boundary from inside the callback: 250 -> 260 */
	cb_setup(&r, nodes, 4, 0);
	r.rearm_left = 1;
	r.rearm_delta = 10;
	wg_tw_arm(r.tw, &nodes[0].n, 250);
	assert_int_equal(wg_tw_advance(r.tw, 259, cb_fire, &r), 1);
	assert_int_equal(wg_tw_advance(r.tw, 260, cb_fire, &r), 1);
	assert_int_equal(r.log_tick[1], 260);
	free(r.tw);

	/* re-arm for now (delta 0): fires at the next tick of this advance,
	 * with its expiry recorded as the tick it was armed at */
	cb_setup(&r, nodes, 4, 0);
	r.rearm_left = 2;
	r.rearm_delta = 0;
	wg_tw_arm(r.tw, &nodes[0].n, 5);
	wg_tw_arm(r.tw, &nodes[1].n, 6);
	assert_int_equal(wg_tw_advance(r.tw, 100, cb_fire, &r), 4);
	assert_int_equal(r.log_tick[0], 5);
	/* at tick 6 the leftover (expire 5) fires before node 1 (expire 6) */
	assert_int_equal(r.log_id[1], 0);
	assert_int_equal(r.log_tick[1], 6);
	assert_int_equal(r.log_exp[1], 5);
	assert_int_equal(r.log_id[2], 1);
	assert_int_equal(r.log_tick[2], 6);
	assert_int_equal(r.log_id[3], 0);
	assert_int_equal(r.log_tick[3], 7);
	assert_int_equal(r.log_exp[3], 6);
	free(r.tw);

	/* re-arm for now on the last tick: waits for the next advance, which
	 * fires it even without moving the clock - and only once per advance */
	cb_setup(&r, nodes, 4, 0);
	r.rearm_left = 3;
	r.rearm_delta = 0;
	wg_tw_arm(r.tw, &nodes[0].n, 50);
	assert_int_equal(wg_tw_advance(r.tw, 50, cb_fire, &r), 1);
	assert_true(wg_tw_pending(&nodes[0].n));
	assert_int_equal(wg_tw_next(r.tw), 50);
	assert_int_equal(wg_tw_advance(r.tw, 50, cb_fire, &r), 1);
	assert_int_equal(wg_tw_advance(r.tw, 49, cb_fire, &r), 1);   /* clock never goes back */
	assert_int_equal(r.tw->now, 50);
	assert_int_equal(wg_tw_advance(r.tw, 50, cb_fire, &r), 1);
	assert_int_equal(wg_tw_advance(r.tw, 50, cb_fire, &r), 0);
	assert_int_equal(r.n, 4);
	free(r.tw);
}

static void
test_cancel_in_callback(void **state)
{
	struct cb_rec r;
	struct tnode nodes[4];

	(void)state;
	/* node 0 cancels node 1, due in the same batch; arming order puts 0
	 * first in the slot, so 1 must not fire */
	cb_setup(&r, nodes, 4, 100);
	r.cancel_id = 1;
	wg_tw_arm(r.tw, &nodes[0].n, 150);
	wg_tw_arm(r.tw, &nodes[1].n, 150);
	wg_tw_arm(r.tw, &nodes[2].n, 150);
	assert_int_equal(wg_tw_advance(r.tw, 1000, cb_fire, &r), 2);
	assert_int_equal(r.log_id[0], 0);
	assert_int_equal(r.log_id[1], 2);
	assert_false(wg_tw_pending(&nodes[1].n));
	assert_int_equal(r.tw->pending, 0);
	free(r.tw);

	/* ... the only other node of the batch: the local list empties under
	 * the loop */
	cb_setup(&r, nodes, 4, 100);
	r.cancel_id = 1;
	wg_tw_arm(r.tw, &nodes[0].n, 300);
	wg_tw_arm(r.tw, &nodes[1].n, 300);
	wg_tw_arm(r.tw, &nodes[3].n, 301);
	assert_int_equal(wg_tw_advance(r.tw, 301, cb_fire, &r), 2);
	assert_int_equal(r.log_id[1], 3);
	free(r.tw);

	/* cancel a node due at a later tick of the same advance, and one
	 * cascaded into the same batch from level 1 */
	cb_setup(&r, nodes, 4, 0);
	r.cancel_id = 2;
	wg_tw_arm(r.tw, &nodes[0].n, 256);
	wg_tw_arm(r.tw, &nodes[1].n, 256);
	wg_tw_arm(r.tw, &nodes[2].n, 257);
	assert_int_equal(wg_tw_advance(r.tw, B16, cb_fire, &r), 2);
	assert_int_equal(r.log_tick[0], 256);
	assert_int_equal(r.log_tick[1], 256);
	free(r.tw);

	/* move a node due in the same batch further out from the callback */
	cb_setup(&r, nodes, 4, 0);
	r.arm_id = 1;
	r.arm_at = 70000;
	wg_tw_arm(r.tw, &nodes[0].n, 7);
	wg_tw_arm(r.tw, &nodes[1].n, 7);
	assert_int_equal(wg_tw_advance(r.tw, 69999, cb_fire, &r), 1);
	assert_int_equal(wg_tw_advance(r.tw, 70000, cb_fire, &r), 1);
	assert_int_equal(r.log_id[1], 1);
	assert_int_equal(r.log_tick[1], 70000);
	free(r.tw);

	/* arm another node for a tick already passed: fires next tick */
	cb_setup(&r, nodes, 4, 0);
	r.arm_id = 3;
	r.arm_at = 1;
	wg_tw_arm(r.tw, &nodes[0].n, 40);
	assert_int_equal(wg_tw_advance(r.tw, 1000, cb_fire, &r), 2);
	assert_int_equal(r.log_id[1], 3);
	assert_int_equal(r.log_tick[1], 41);
	assert_int_equal(r.log_exp[1], 40);
	free(r.tw);
}

static void
test_api_basics(void **state)
{
	struct wg_timer_wheel *tw = tw_new(1000);
	struct tnode nodes[3];
	struct cb_rec r;

	(void)state;
	memset(nodes, 0, sizeof(nodes));
	assert_false(wg_tw_pending(&nodes[0].n));   /* zeroed = not pending */
	wg_tw_cancel(tw, &nodes[0].n);              /* harmless */
	assert_int_equal(tw->pending, 0);
	assert_int_equal(wg_tw_next(tw), UINT64_MAX);

	wg_tw_arm(tw, &nodes[0].n, 1020);     /* same 256-tick block: exact */
	assert_int_equal(tw->pending, 1);
	assert_int_equal(wg_tw_next(tw), 1020);
	wg_tw_arm(tw, &nodes[0].n, 1100);     /* next block: its first tick */
	assert_int_equal(tw->pending, 1);
	assert_int_equal(wg_tw_next(tw), 1024);
	/* re-arm moves: still one pending, now due at 900 -> stored as now */
	wg_tw_arm(tw, &nodes[0].n, 900);
	assert_int_equal(tw->pending, 1);
	assert_int_equal(nodes[0].n.expire, 1000);
	assert_int_equal(wg_tw_next(tw), 1000);
	wg_tw_arm(tw, &nodes[0].n, 1000 + B24 + 5);
	assert_int_equal(tw->pending, 1);
	assert_true(wg_tw_next(tw) <= 1000 + B24 + 5);
	assert_true(wg_tw_next(tw) > 1000);
	wg_tw_cancel(tw, &nodes[0].n);
	wg_tw_cancel(tw, &nodes[0].n);
	assert_false(wg_tw_pending(&nodes[0].n));
	assert_int_equal(tw->pending, 0);
	assert_int_equal(wg_tw_next(tw), UINT64_MAX);

	/* a cancelled node never fires; the wheel's bitmap forgot its slot */
	memset(&r, 0, sizeof(r));
	r.tw = tw;
	r.nodes = nodes;
	r.cancel_id = -1;
	r.arm_id = -1;
	for (int i = 0; i < 3; i++)
		nodes[i].id = (uint32_t)i;
	wg_tw_arm(tw, &nodes[1].n, 1005);
	wg_tw_arm(tw, &nodes[2].n, 1005);
	wg_tw_arm(tw, &nodes[0].n, 1010);
	wg_tw_cancel(tw, &nodes[1].n);
	assert_int_equal(wg_tw_next(tw), 1005);
	wg_tw_cancel(tw, &nodes[2].n);
	assert_int_equal(wg_tw_next(tw), 1010);
	wg_tw_cancel(tw, &nodes[0].n);
	assert_int_equal(wg_tw_next(tw), UINT64_MAX);
	wg_tw_arm(tw, &nodes[1].n, 1020);
	assert_int_equal(wg_tw_next(tw), 1020);
	assert_int_equal(wg_tw_advance(tw, 2000, cb_fire, &r), 1);
	assert_int_equal(r.log_id[0], 1);
	assert_int_equal(r.log_tick[0], 1020);
	assert_int_equal(tw->now, 2000);
	free(tw);
}

/* An idle loop sleeping until wg_tw_next() misses nothing, and wakes at
 * most a handful of times per timer however far away it is. */
static void
test_next_sleeper(void **state)
{
	struct harness h;
	uint32_t wakeups = 0;

	(void)state;
	h_new(&h, 400, 12345, 99);
	for (uint32_t i = 0; i < h.n; i++)
		m_arm(&h, i, h.mnow + delta_mixed(&h));
	while (h.tw->pending != 0) {
		uint64_t nx = wg_tw_next(h.tw);

		assert_true(nx != UINT64_MAX);
		assert_true(nx <= m_earliest(&h));
		h_advance(&h, nx);
		wakeups++;
	}
	assert_int_equal(h.fired_total, 400);
	/* one wake per firing tick plus at most one per level crossed */
	assert_true(wakeups <= 400 * (WG_TW_LEVELS + 1));
	h_free(&h);
}

/* A huge jump over a sparse wheel must not walk the ticks: 2^52 ticks
 * one by one would never finish. */
static void
test_huge_jumps(void **state)
{
	struct harness h;

	(void)state;
	h_new(&h, 16, 3, 7);
	h_log_enable(&h, 16);
	for (uint32_t i = 0; i < 16; i++)
		m_arm(&h, i, UINT64_C(3) << (3 * i + 4));
	assert_int_equal(h_advance(&h, UINT64_C(1) << 52), 16);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(h.log_tick[i], UINT64_C(3) << (3 * i + 4));
	/* and an idle wheel jumps for free, repeatedly */
	for (int i = 0; i < 100000; i++)
		assert_int_equal(wg_tw_advance(h.tw, h.tw->now + (UINT64_C(1) << 30), on_fire, &h), 0);
	h_free(&h);
}

/* ---- one million timers */

struct million {
	struct wg_timer_wheel *tw;
	uint8_t *fired;           /* times each node fired */
	uint64_t last_exp;
	uint64_t count;
	uint64_t bad;
};

/* Plain checks counted into m->bad: a cmocka assert per call is slow. */
static void
million_fire(struct wg_tw_node *node, void *arg)
{
	struct million *m = arg;
	uint32_t id = tnode_of(node)->id;

	if (node->expire != m->tw->now || node->expire < m->last_exp || wg_tw_pending(node))
		m->bad++;
	m->last_exp = node->expire;
	m->fired[id]++;
	m->count++;
	/* every 16th goes round once more */
	if (id % 16 == 0 && m->fired[id] == 1)
		wg_tw_arm(m->tw, node, m->tw->now + 1 + (id & 0xffff));
}

static void
test_million(void **state)
{
	const uint32_t n = 1000000;
	struct tnode *nodes = calloc(n, sizeof(*nodes));
	struct million m = { 0 };
	uint64_t s = 42, start = 5000, to, expect = 0;

	(void)state;
	assert_non_null(nodes);
	m.tw = tw_new(start);
	m.fired = calloc(n, 1);
	assert_non_null(m.fired);
	m.last_exp = start;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t r = rnd(&s), d;

		nodes[i].id = i;
		switch (r & 3) {
		case 0:  d = (r >> 8) % 1000; break;          /* TCP-ish: within a second */
		case 1:  d = (r >> 8) % (B16 * 4); break;
		case 2:  d = (r >> 8) % (B24 * 2); break;
		default: d = (r >> 8) % (B32 * 3); break;    /* some in overflow */
		}
		wg_tw_arm(m.tw, &nodes[i].n, start + d);
	}
	assert_int_equal(m.tw->pending, n);
	/* cancel 10%, move another 10% */
	for (uint32_t i = 0; i < n; i += 10)
		wg_tw_cancel(m.tw, &nodes[i].n);
	for (uint32_t i = 5; i < n; i += 10)
		wg_tw_arm(m.tw, &nodes[i].n, start + (rnd(&s) % (B24 * 3)));
	assert_int_equal(m.tw->pending, n - n / 10);
	to = start;
	while (m.tw->pending != 0) {
		uint64_t r = rnd(&s);

		to += (r & 1) ? (r >> 8) % 50 : (r >> 8) % (B24 / 2);
		wg_tw_advance(m.tw, to, million_fire, &m);
	}
	assert_int_equal(m.bad, 0);
	for (uint32_t i = 0; i < n; i++) {
		unsigned int want = i % 10 == 0 ? 0 : i % 16 == 0 ? 2 : 1;

		if (m.fired[i] != want)
			fail_msg("timer %u fired %u times, want %u", i, m.fired[i], want);
		expect += want;
	}
	assert_int_equal(m.count, expect);
	free(nodes);
	free(m.fired);
	free(m.tw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_basics),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_boundary_mix),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_rearm_in_callback),
		cmocka_unit_test(test_cancel_in_callback),
		cmocka_unit_test(test_next_sleeper),
		cmocka_unit_test(test_huge_jumps),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test(test_random_dense_callbacks),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
