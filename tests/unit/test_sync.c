/* SPDX-License-Identifier: BSD-3-Clause
 * Delta sync: quantisation bounds, round trips under loss, reordering and
 * duplication (every applied snapshot equals the server's record), byte
 * budget, priority, ack handling, and the decoder's refusal of
 * inconsistent messages.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sync.h"
#include "wg_sync.pb-c.h"

#define NF 2
#define FR 16

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static struct wg_sync_peer *
peer(uint32_t budget)
{
	struct wg_sync_conf c = { .frames = FR, .nfields = NF, .budget = budget,
				  .view_radius = 100 };
	struct wg_sync_peer *p = wg_sync_peer_create(&c);

	assert_non_null(p);
	return p;
}

static void
test_quant(void **state)
{
	int i;

	(void)state;
	rng = 7;
	for (i = 0; i < 100000; i++) {
		double v = (double)(rnd() % 2000000000) / 1000.0 - 1e6;
		double s = (double)(1 + rnd() % 64);
		int32_t q = wg_sync_quant(v, -123.5, s);

		assert_true(fabs(wg_sync_dequant(q, -123.5, s) - v) <= 0.5 / s + 1e-9);
	}
	assert_int_equal(wg_sync_quant(1e12, 0, 16), WG_SYNC_Q_LIMIT);
	assert_int_equal(wg_sync_quant(-1e12, 0, 16), -WG_SYNC_Q_LIMIT);
	assert_int_equal(wg_sync_quant(NAN, 0, 16), -WG_SYNC_Q_LIMIT);
	assert_int_equal(wg_sync_quant_yaw(0), 0);
	assert_int_equal(wg_sync_quant_yaw(2 * M_PI), 0);
	assert_int_equal(wg_sync_quant_yaw(-M_PI / 2), 49152);
	assert_int_equal(wg_sync_quant_yaw(M_PI), 32768);
	assert_int_equal(wg_sync_quant_yaw(NAN), 0);
	for (i = 0; i < 100000; i++) {
		double y = (double)(rnd() % 2000000) / 1000.0 - 1000;
		double d = remainder(wg_sync_dequant_yaw(wg_sync_quant_yaw(y)) - y, 2 * M_PI);

		assert_true(fabs(d) <= M_PI / WG_SYNC_YAW_ONE_TURN + 1e-9);
		assert_true(wg_sync_quant_yaw(y) < WG_SYNC_YAW_ONE_TURN);
	}
}

/* A world of n entities (ids ascending) that changes a little per tick. */
struct world {
	struct wg_sync_item it[64];
	uint32_t n;
	uint32_t next_id;
};

static void
world_init(struct world *w, uint32_t n)
{
	uint32_t i;

	memset(w, 0, sizeof(*w));
	w->next_id = 1000;
	for (i = 0; i < n; i++) {
		w->it[i].id = w->next_id += 1 + (uint32_t)(rnd() % 5);
		w->it[i].dist = (float)(rnd() % 100);
		w->it[i].s.x = (int32_t)(rnd() % 10000);
		w->it[i].s.y = (int32_t)(rnd() % 10000);
	}
	w->n = n;
}

static void
world_step(struct world *w)
{
	uint32_t i;

	for (i = 0; i < w->n; i++) {
		struct wg_sync_state *s = &w->it[i].s;

		if (rnd() % 4 == 0) {
			s->vx = (int32_t)(rnd() % 33) - 16;
			s->vy = (int32_t)(rnd() % 33) - 16;
			s->x += s->vx;
			s->y += s->vy;
		}
		if (rnd() % 10 == 0)
			s->yaw = (uint32_t)(rnd() % WG_SYNC_YAW_ONE_TURN);
		if (rnd() % 20 == 0)
			s->field[rnd() % NF] = (int32_t)(rnd() % 2000) - 1000;
	}
	/* an entity leaves, another enters */
	if (rnd() % 3 == 0 && w->n > 2) {
		i = (uint32_t)(rnd() % w->n);
		memmove(&w->it[i], &w->it[i + 1], (w->n - i - 1) * sizeof(w->it[0]));
		w->n--;
	}
	if (rnd() % 3 == 0 && w->n < 64) {
		struct wg_sync_item *e = &w->it[w->n++];

		memset(e, 0, sizeof(*e));
		e->id = w->next_id += 1 + (uint32_t)(rnd() % 5);
		e->dist = (float)(rnd() % 100);
		e->s.x = (int32_t)(rnd() % 10000);
		e->s.field[0] = 5;
	}
}

static void
view_equals_items(const struct wg_sync_decoder *d, const struct world *w)
{
	uint32_t n, i;
	const struct wg_sync_entry *v = wg_sync_decoder_view(d, &n, NULL);

	assert_int_equal(n, w->n);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].id, w->it[i].id);
		assert_memory_equal(&v[i].s, &w->it[i].s, sizeof(v[i].s));
	}
}

static void
view_equals_frame(const struct wg_sync_decoder *d, const struct wg_sync_frame *f)
{
	uint32_t n, i;
	const struct wg_sync_entry *v = wg_sync_decoder_view(d, &n, NULL);

	assert_non_null(f);
	assert_int_equal(n, f->n);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].id, f->e[i].id);
		assert_memory_equal(&v[i].s, &f->e[i].s, sizeof(v[i].s));
	}
}

static void
test_roundtrip_lossless(void **state)
{
	struct wg_sync_peer *p = peer(0);
	struct wg_sync_decoder *d = wg_sync_decoder_create(FR, NF, 0);
	struct wg_sync_peer_stats st;
	static uint8_t buf[8192];
	struct world w;
	uint32_t t, got;
	size_t len, first = 0, later = 0;

	(void)state;
	rng = 11;
	world_init(&w, 40);
	for (t = 1; t <= 200; t++) {
		if (t > 1)
			world_step(&w);
		assert_int_equal(wg_sync_encode(p, t, w.it, w.n, buf, sizeof(buf), &len), 0);
		if (t == 1)
			first = len;
		else
			later += len;
		assert_int_equal(wg_sync_decode(d, buf, len, &got), 0);
		assert_int_equal(got, t);
		view_equals_items(d, &w);
		assert_int_equal(wg_sync_peer_ack(p, t), 0);
	}
	/* deltas are much smaller than the first, full, snapshot */
	assert_true(later / 199 * 3 < first);
	wg_sync_peer_stats(p, &st);
	assert_int_equal(st.frames, 200);
	assert_int_equal(st.full_frames, 1);
	wg_sync_peer_destroy(p);
	wg_sync_decoder_destroy(d);
}

struct msg {
	uint32_t due, len;
	uint8_t data[8192];
};

static void
run_lossy(uint64_t seed, double loss, uint32_t budget)
{
	struct wg_sync_peer *p = peer(budget);
	struct wg_sync_decoder *d = wg_sync_decoder_create(FR, NF, 0);
	static struct msg q[64];
	static uint8_t out[8192];
	uint32_t nq = 0, aq[64][2], naq = 0, t, i, applied = 0, dropped = 0;
	struct wg_sync_decoder_stats ds;
	struct world w;

	rng = seed;
	world_init(&w, 30);
	for (t = 1; t <= 400; t++) {
		bool clean = t > 360;
		size_t len;
		uint32_t copies, c;

		if (!clean)
			world_step(&w);
		assert_int_equal(wg_sync_encode(p, t, w.it, w.n, out, sizeof(out), &len), 0);
		if (budget)
			assert_true(len <= budget || len < 64);
		copies = clean ? 1 : rnd() % 100 < 5 ? 2 : 1;
		for (c = 0; c < copies; c++) {
			if (!clean && (double)(rnd() % 1000) / 1000 < loss) {
				dropped++;
				continue;
			}
			memcpy(q[nq].data, out, len);
			q[nq].len = (uint32_t)len;
			q[nq].due = t + (clean ? 0 : (uint32_t)(rnd() % 4));
			nq++;
		}
		/* deliver due messages in random order */
		for (;;) {
			uint32_t due[64], nd = 0, pick, got;
			int rc;

			for (i = 0; i < nq; i++)
				if (q[i].due <= t)
					due[nd++] = i;
			if (nd == 0)
				break;
			pick = due[rnd() % nd];
			rc = wg_sync_decode(d, q[pick].data, q[pick].len, &got);
			if (rc != 0 && rc != -EALREADY)
				fail_msg("decode tick %u: %d", t, rc);
			if (rc == 0) {
				applied++;
				view_equals_frame(d, wg_sync_peer_frame(p, got));
				if (clean || rnd() % 100 >= loss * 100) {
					aq[naq][0] = got;
					aq[naq][1] = t + (clean ? 0 : (uint32_t)(rnd() % 4));
					naq++;
				}
			}
			q[pick] = q[--nq];
		}
		for (i = 0; i < naq;) {
			if (aq[i][1] <= t) {
				int rc = wg_sync_peer_ack(p, aq[i][0]);

				assert_true(rc == 0 || rc == -ESTALE || rc == -ENOENT);
				aq[i][0] = aq[--naq][0];
				aq[i][1] = aq[naq][1];
			} else {
				i++;
			}
		}
	}
	/* after the clean ticks the client holds the server's world exactly */
	view_equals_items(d, &w);
	wg_sync_decoder_stats(d, &ds);
	assert_int_equal(ds.bad, 0);
	assert_true(applied > 200);
	if (loss > 0)
		assert_true(dropped > 0);
	wg_sync_peer_destroy(p);
	wg_sync_decoder_destroy(d);
}

static void
test_loss_reorder_dup(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 8; seed++)
		run_lossy(seed, 0.2, 0);
	run_lossy(99, 0.5, 0);
}

static void
test_budget(void **state)
{
	struct wg_sync_peer_stats st;
	uint64_t seed;

	(void)state;
	for (seed = 20; seed <= 23; seed++)
		run_lossy(seed, 0.2, 150);
	/* and the budget really bit */
	{
		struct wg_sync_peer *p = peer(100);
		static uint8_t buf[8192];
		struct world w;
		size_t len;
		uint32_t t;

		rng = 5;
		world_init(&w, 50);
		for (t = 1; t <= 30; t++) {
			assert_int_equal(wg_sync_encode(p, t, w.it, w.n, buf, sizeof(buf), &len), 0);
			assert_true(len <= 100);
			assert_int_equal(wg_sync_peer_ack(p, t), 0);
			wg_sync_peer_stats(p, &st);
			if (t == 1)
				assert_true(st.enters > 0 && st.enters < 10);
		}
		/* spread over several ticks, but all of them got there */
		assert_int_equal(st.enters, 50);
		assert_true(st.deferred > 0);
		wg_sync_peer_destroy(p);
	}
}

/* Which ids a StateDelta updates, in message order. */
static uint32_t
updated_ids(const uint8_t *buf, size_t len, uint32_t *ids, uint32_t *nleaves)
{
	Wg__StateDelta *m = wg__state_delta__unpack(NULL, len, buf);
	uint32_t i, n;

	assert_non_null(m);
	n = (uint32_t)m->n_updates;
	for (i = 0; i < n; i++)
		ids[i] = m->updates[i]->id;
	*nleaves = (uint32_t)m->n_leaves;
	wg__state_delta__free_unpacked(m, NULL);
	return n;
}

static void
test_priority(void **state)
{
	struct wg_sync_conf c = { .frames = FR, .nfields = NF, .budget = 24, .view_radius = 100 };
	struct wg_sync_peer *p = wg_sync_peer_create(&c);
	struct wg_sync_item it[3] = {
		{ .id = 10, .dist = 300 }, { .id = 20, .dist = 1 }, { .id = 30, .dist = 50 },
	};
	uint32_t ids[4], nl, t, sent[3] = { 0 }, i, k, nu;
	static uint8_t buf[4096];
	size_t len;

	(void)state;
	/* room for the header and about two changes per tick */
	assert_non_null(p);
	assert_int_equal(wg_sync_encode(p, 1, it, 3, buf, sizeof(buf), &len), 0);
	/* the first frame cannot hold all three: the nearest two enter */
	assert_int_equal(updated_ids(buf, len, ids, &nl), 0);
	{
		Wg__StateDelta *m = wg__state_delta__unpack(NULL, len, buf);

		assert_non_null(m);
		assert_int_equal(m->n_enters, 2);
		assert_int_equal(m->enters[0]->id, 20);
		assert_int_equal(m->enters[1]->id, 30);
		wg__state_delta__free_unpacked(m, NULL);
	}
	assert_int_equal(wg_sync_peer_ack(p, 1), 0);
	for (t = 2; t <= 40; t++) {
		for (i = 0; i < 3; i++)
			it[i].s.x += 1000;
		assert_int_equal(wg_sync_encode(p, t, it, 3, buf, sizeof(buf), &len), 0);
		assert_true(len <= 24);
		assert_int_equal(wg_sync_peer_ack(p, t), 0);
		nu = updated_ids(buf, len, ids, &nl);
		for (k = 0; k < nu; k++)
			for (i = 0; i < 3; i++)
				if (ids[k] == it[i].id)
					sent[i]++;
	}
	/* nobody starves; the nearer, the more often */
	assert_true(sent[0] >= 8);
	assert_true(sent[1] > sent[2]);
	assert_true(sent[2] > sent[0]);
	wg_sync_peer_destroy(p);
}

static void
test_priority_order(void **state)
{
	struct wg_sync_conf c = { .frames = FR, .nfields = NF, .budget = 0, .view_radius = 100 };
	struct wg_sync_item it[4] = {
		{ .id = 10, .dist = 300 }, { .id = 20, .dist = 1 },
		{ .id = 30, .dist = 50 }, { .id = 40, .dist = 20 },
	};
	struct wg_sync_peer *p = wg_sync_peer_create(&c);
	static uint8_t buf[4096];
	uint32_t ids[4], nl, i;
	size_t len;

	(void)state;
	assert_int_equal(wg_sync_encode(p, 1, it, 4, buf, sizeof(buf), &len), 0);
	assert_int_equal(wg_sync_peer_ack(p, 1), 0);
	for (i = 0; i < 4; i++)
		it[i].s.y = 77;
	/* 40 leaves: leaves come first, updates by distance */
	assert_int_equal(wg_sync_encode(p, 2, it, 3, buf, sizeof(buf), &len), 0);
	assert_int_equal(updated_ids(buf, len, ids, &nl), 3);
	assert_int_equal(nl, 1);
	assert_int_equal(ids[0], 20);
	assert_int_equal(ids[1], 30);
	assert_int_equal(ids[2], 10);
	wg_sync_peer_destroy(p);
}

static void
test_ack_and_baseline(void **state)
{
	struct wg_sync_peer *p = peer(0);
	struct wg_sync_peer_stats st;
	static uint8_t buf[4096];
	struct world w;
	size_t len;
	uint32_t t;

	(void)state;
	rng = 3;
	world_init(&w, 10);
	assert_int_equal(wg_sync_peer_ack(p, 1), -ENOENT);   /* never sent */
	for (t = 1; t <= 3; t++)
		assert_int_equal(wg_sync_encode(p, t, w.it, w.n, buf, sizeof(buf), &len), 0);
	assert_int_equal(wg_sync_peer_ack(p, 4), -ENOENT);   /* future */
	assert_int_equal(wg_sync_peer_ack(p, 2), 0);
	assert_int_equal(wg_sync_peer_ack(p, 1), -ESTALE);
	assert_int_equal(wg_sync_peer_ack(p, 2), -ESTALE);
	assert_int_equal(wg_sync_peer_acked(p), 2);
	/* no newer ack for a whole ring: back to a full snapshot */
	for (t = 4; t < 2 + FR; t++)
		assert_int_equal(wg_sync_encode(p, t, w.it, w.n, buf, sizeof(buf), &len), 0);
	/* 1..3 went before any ack: full; 4..17 against 2 */
	wg_sync_peer_stats(p, &st);
	assert_int_equal(st.full_frames, 3);
	assert_int_equal(wg_sync_encode(p, 2 + FR, w.it, w.n, buf, sizeof(buf), &len), 0);
	wg_sync_peer_stats(p, &st);
	assert_int_equal(st.full_frames, 4);
	/* argument checks */
	assert_int_equal(wg_sync_encode(p, 2 + FR, w.it, w.n, buf, sizeof(buf), &len), -EINVAL);
	{
		struct wg_sync_item two[2] = { { .id = 5 }, { .id = 5 } };

		assert_int_equal(wg_sync_encode(p, 100, two, 2, buf, sizeof(buf), &len), -EINVAL);
		two[1].id = 6;
		two[1].s.yaw = WG_SYNC_YAW_ONE_TURN;
		assert_int_equal(wg_sync_encode(p, 100, two, 2, buf, sizeof(buf), &len), -EINVAL);
	}
	/* a buffer too small records nothing */
	assert_int_equal(wg_sync_encode(p, 100, w.it, w.n, buf, 8, &len), -ENOBUFS);
	assert_null(wg_sync_peer_frame(p, 100));
	assert_int_equal(wg_sync_encode(p, 100, w.it, w.n, buf, sizeof(buf), &len), 0);
	assert_non_null(wg_sync_peer_frame(p, 100));
	wg_sync_peer_destroy(p);
}

/* pack a StateDelta built by hand */
static size_t
pack(Wg__StateDelta *m, uint8_t *buf)
{
	return wg__state_delta__pack(m, buf);
}

static void
test_decoder_rejects(void **state)
{
	struct wg_sync_decoder *d = wg_sync_decoder_create(FR, NF, 8);
	Wg__EntityEnter e1 = WG__ENTITY_ENTER__INIT, e2 = WG__ENTITY_ENTER__INIT;
	Wg__EntityUpdate u = WG__ENTITY_UPDATE__INIT;
	Wg__EntityLeave l = WG__ENTITY_LEAVE__INIT;
	Wg__EntityEnter *ents[9];
	Wg__EntityUpdate *upds[1] = { &u };
	Wg__EntityLeave *lvs[1] = { &l };
	Wg__StateDelta m = WG__STATE_DELTA__INIT;
	int32_t f2[2] = { 1, 2 }, f1[1] = { 9 };
	struct wg_sync_decoder_stats ds;
	uint8_t buf[1024], junk[7] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t got, n, i;
	size_t len;

	(void)state;
	e1.id = 5;
	e1.x = -7;
	e1.n_fields = 2;
	e1.fields = f2;
	e2 = e1;
	e2.id = 6;
	ents[0] = &e1;
	ents[1] = &e2;
	m.tick = 3;
	m.n_enters = 2;
	m.enters = ents;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), 0);
	assert_int_equal(got, 3);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EALREADY);

	/* each of these is refused and leaves snapshot 3 as it was */
	m.tick = 4;
	m.baseline = 3;
	m.n_enters = 1;
	ents[0] = &e2;            /* enter of a known id */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	ents[0] = &e1;
	e1.id = 7;
	e1.n_fields = 1;          /* wrong field count */
	e1.fields = f1;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	e1.n_fields = 2;
	e1.fields = f2;
	e1.yaw = 70000;           /* yaw out of range */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	e1.yaw = 0;
	e1.id = 0;                /* id 0 */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	e1.id = 7;
	ents[1] = &e1;            /* duplicate enter */
	m.n_enters = 2;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	m.n_enters = 0;
	m.n_updates = 1;
	m.updates = upds;
	u.id = 99;                /* update of an unknown id */
	u.mask = WG_SYNC_M_POS;
	u.dx = 1;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	u.id = 5;
	u.mask = 0x10;            /* unknown mask bit */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	u.mask = WG_SYNC_M_FIELD(1);   /* field bit without its value */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	u.mask = WG_SYNC_M_FIELD(2);   /* field beyond nfields */
	u.n_fields = 1;
	u.fields = f1;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	u.mask = WG_SYNC_M_YAW;   /* a value outside its mask */
	u.n_fields = 0;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	u.mask = WG_SYNC_M_POS;
	u.dx = -WG_SYNC_Q_LIMIT;  /* position leaves the quantised range */
	u.dy = 0;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	u.dx = 1;
	m.n_updates = 0;
	m.n_leaves = 1;
	m.leaves = lvs;
	l.id = 42;                /* leave of an unknown id */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	l.id = 5;
	m.n_updates = 1;          /* leave and update of the same id */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	m.n_updates = 0;
	m.baseline = 2;           /* a baseline it never had */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -ENOENT);
	m.baseline = 4;           /* baseline not older than the tick */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	m.baseline = 0;
	m.tick = 0;               /* tick 0 */
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);
	assert_int_equal(wg_sync_decode(d, junk, sizeof(junk), &got), -EBADMSG);
	/* more entities than max_entities */
	for (i = 0; i < 9; i++) {
		static Wg__EntityEnter many[9];

		wg__entity_enter__init(&many[i]);
		many[i].id = 100 + i;
		many[i].n_fields = 2;
		many[i].fields = f2;
		ents[i] = &many[i];
	}
	m.tick = 9;
	m.n_leaves = 0;
	m.n_enters = 9;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), -EBADMSG);

	{
		const struct wg_sync_entry *v = wg_sync_decoder_view(d, &n, &got);

		assert_int_equal(got, 3);
		assert_int_equal(n, 2);
		assert_int_equal(v[0].id, 5);
		assert_int_equal(v[0].s.x, -7);
		assert_int_equal(v[0].s.field[1], 2);
		assert_int_equal(v[1].id, 6);
		assert_non_null(wg_sync_decoder_find(d, 6));
		assert_null(wg_sync_decoder_find(d, 7));
	}
	/* a good update against 3 is still accepted */
	m.tick = 5;
	m.baseline = 3;
	m.n_enters = 0;
	m.n_leaves = 1;
	l.id = 6;
	m.n_updates = 1;
	u.id = 5;
	u.mask = WG_SYNC_M_POS | WG_SYNC_M_FIELD(1);
	u.dx = 10;
	u.dy = -3;
	u.n_fields = 1;
	u.fields = f1;
	len = pack(&m, buf);
	assert_int_equal(wg_sync_decode(d, buf, len, &got), 0);
	{
		const struct wg_sync_entry *v = wg_sync_decoder_view(d, &n, &got);

		assert_int_equal(n, 1);
		assert_int_equal(v[0].s.x, 3);
		assert_int_equal(v[0].s.y, -3);
		assert_int_equal(v[0].s.field[0], 1);
		assert_int_equal(v[0].s.field[1], 9);
	}
	wg_sync_decoder_stats(d, &ds);
	assert_int_equal(ds.applied, 2);
	assert_int_equal(ds.stale, 1);
	assert_int_equal(ds.no_baseline, 1);
	assert_int_equal(ds.bad, 17);
	wg_sync_decoder_destroy(d);
}

static void
test_wire_helpers(void **state)
{
	uint8_t buf[32];
	uint32_t t, seq;
	float x, y, yaw;
	int n;

	(void)state;
	n = wg_sync_ack_pack(123456, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(wg_sync_ack_parse(buf, (size_t)n, &t), 0);
	assert_int_equal(t, 123456);
	assert_int_equal(wg_sync_ack_pack(123456, buf, 2), -ENOBUFS);
	n = wg_sync_move_pack(9, 1.5f, -2.25f, 3, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(wg_sync_move_parse(buf, (size_t)n, &seq, &x, &y, &yaw), 0);
	assert_int_equal(seq, 9);
	assert_true(x == 1.5f && y == -2.25f && yaw == 3);
	buf[0] = 0xff;
	buf[1] = 0xff;
	assert_int_equal(wg_sync_move_parse(buf, 2, &seq, &x, &y, &yaw), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quant),
		cmocka_unit_test(test_roundtrip_lossless),
		cmocka_unit_test(test_loss_reorder_dup),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_priority_order),
		cmocka_unit_test(test_ack_and_baseline),
		cmocka_unit_test(test_decoder_rejects),
		cmocka_unit_test(test_wire_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
