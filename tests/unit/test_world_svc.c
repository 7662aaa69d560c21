/* SPDX-License-Identifier: BSD-3-Clause
 * The world service on the logic framework, on real mbufs and rings: an
 * avatar per attached session (ENTITY_STATE to its player, despawn on
 * detach, reroute and reset), MOVE validation (speed, slack, several moves
 * in one tick, bounds, non-finite, max_moves, malformed) answered with the
 * right Error and leaving the position alone, AOI enter/leave reaching
 * exactly the sessions concerned on their workers' rings, and every
 * STATE_DELTA decoded by the client library (logic/sync) into the server's
 * view within quantisation, with and without loss, with a tight budget,
 * with NPCs; the logic.world config keys.
 */
#include <errno.h>
#include <math.h>

#include "lfw_fixture.h"

#include "aoi.h"
#include "conf.h"
#include "entity.h"
#include "svc_world.h"
#include "sync.h"
#include "wg_sync.pb-c.h"
#include "world.h"

#define TSC_HZ     1000000u       /* fx_init's registry */
#define TICK_HZ    20u
#define PERIOD     (TSC_HZ / TICK_HZ)
#define MAX_CL     16

struct cl {
	uint64_t sid;
	wg_eid_t eid;
	struct wg_sync_decoder *dec;
	uint32_t deltas;               /* STATE_DELTAs received */
	uint32_t applied;              /* of which decoded and acked */
	uint32_t acked;                /* last tick acked */
	uint32_t drop_pct;             /* simulated loss */
	bool live;
};

struct wfx {
	struct fx f;
	struct wg_lfw *fw;
	struct wg_world_svc *s;
	struct wg_world_svc_conf conf;
	uint64_t tsc;
	uint64_t rng;
	struct cl c[MAX_CL];
	unsigned int n;
};

static struct wg_world_svc_conf
base_conf(void)
{
	return (struct wg_world_svc_conf){
		.width = 2000, .height = 2000, .view_radius = 100, .max_speed = 200,
		.tick_hz = TICK_HZ, .move_slack = 4, .max_moves = 8, .pos_scale = 16,
		.sync_frames = 16, .budget = 3900, .spawn_x = 1000, .spawn_y = 1000,
		.spawn_spread = 0, .npcs = 0, .seed = 7,
	};
}

static void
wfx_init(struct wfx *x, const char *name, const struct wg_world_svc_conf *wc)
{
	const struct wg_lfw_conf lc = { .tick_hz = TICK_HZ, .max_catchup = 4, .max_sessions = 64 };

	memset(x, 0, sizeof(*x));
	fx_init(&x->f, name, FX_ROOM, 1023, 1024);
	x->fw = wg_lfw_create(&lc);
	assert_non_null(x->fw);
	x->conf = *wc;
	x->s = wg_world_svc_create(x->fw, wc);
	assert_non_null(x->s);
	assert_int_equal(wg_lfw_bind(x->fw, &x->f.in), 0);
	x->rng = 0x1234567;
}

static void
wfx_fini(struct wfx *x)
{
	unsigned int i;

	for (i = 0; i < x->n; i++)
		wg_sync_decoder_destroy(x->c[i].dec);
	wg_lfw_destroy(x->fw);
	wg_world_svc_destroy(x->s);
	fx_fini(&x->f);
}

static uint32_t
rnd(struct wfx *x, uint32_t n)
{
	x->rng ^= x->rng << 13;
	x->rng ^= x->rng >> 7;
	x->rng ^= x->rng << 17;
	return (uint32_t)(x->rng % n);
}

static void
tick(struct wfx *x)
{
	assert_int_equal(wg_lfw_tick_poll(x->fw, x->tsc), 1);
	x->tsc += PERIOD;
}

static struct wg_world *
W(struct wfx *x)
{
	return wg_world_svc_world(x->s);
}

static struct cl *
cl_of(struct wfx *x, uint64_t sid)
{
	unsigned int i;

	for (i = 0; i < x->n; i++)
		if (x->c[i].live && x->c[i].sid == sid)
			return &x->c[i];
	return NULL;
}

/* The next message on sid's worker is ENTITY_STATE{its avatar} for sid,
 * at the avatar's quantised position. */
static wg_eid_t
expect_avatar(struct wfx *x, uint64_t sid)
{
	struct wg_entity_store *es = wg_world_store(W(x));
	Wg__EntityEnter *e;
	struct fx_out o;
	uint32_t slot;
	wg_eid_t id;

	fx_next(&x->f, (unsigned int)(sid >> 56), &o);
	assert_int_equal(o.hdr.session_id, sid);
	assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__ENTITY_STATE);
	assert_int_equal(o.env->msg_id, 0);
	e = wg__entity_enter__unpack(NULL, o.env->payload.len, o.env->payload.data);
	assert_non_null(e);
	id = e->id;
	assert_int_equal(id, wg_world_svc_avatar(x->s, sid));
	slot = wg_entity_slot(es, id);
	assert_int_not_equal(slot, WG_ENT_NO_SLOT);
	assert_int_equal(es->tag[slot], sid);
	assert_int_equal(e->x, wg_sync_quant(es->x[slot], 0, x->conf.pos_scale));
	assert_int_equal(e->y, wg_sync_quant(es->y[slot], 0, x->conf.pos_scale));
	assert_int_equal(e->vx, 0);
	assert_int_equal(e->vy, 0);
	wg__entity_enter__free_unpacked(e, NULL);
	fx_out_free(&o);
	return id;
}

/* Attach a player: its avatar appears at the spawn point (spread 0). */
static struct cl *
join(struct wfx *x, uint64_t sid)
{
	struct cl *c = &x->c[x->n++];

	assert_true(x->n <= MAX_CL);
	memset(c, 0, sizeof(*c));
	c->sid = sid;
	c->live = true;
	fx_attach(&x->f, x->fw, sid, 1000 + x->n, "p");
	c->eid = expect_avatar(x, sid);
	c->dec = wg_sync_decoder_create(x->conf.sync_frames, 0, 0);
	assert_non_null(c->dec);
	return c;
}

static void
leave(struct wfx *x, struct cl *c)
{
	fx_feed(&x->f, x->fw, (unsigned int)(c->sid >> 56),
		fx_detach_msg(&x->f, c->sid, WG__DETACH_REASON__DETACH_REASON_CLOSED));
	c->live = false;
}

static void
move(struct wfx *x, uint64_t sid, uint32_t msg_id, float px, float py)
{
	Wg__MoveInput m = WG__MOVE_INPUT__INIT;

	m.seq = msg_id;
	m.x = px;
	m.y = py;
	m.yaw = 0.5f;
	fx_feed(&x->f, x->fw, (unsigned int)(sid >> 56),
		fx_client(&x->f, sid, WG__MSG_TYPE__MOVE, msg_id, &m.base));
}

static void
send_ack(struct wfx *x, struct cl *c, uint32_t t)
{
	Wg__SnapshotAck a = WG__SNAPSHOT_ACK__INIT;

	a.tick = t;
	fx_feed(&x->f, x->fw, (unsigned int)(c->sid >> 56),
		fx_client(&x->f, c->sid, WG__MSG_TYPE__SNAPSHOT_ACK, 0, &a.base));
}

static float
pos_x(struct wfx *x, wg_eid_t eid)
{
	struct wg_entity_store *es = wg_world_store(W(x));

	return es->x[wg_entity_slot(es, eid)];
}

static float
pos_y(struct wfx *x, wg_eid_t eid)
{
	struct wg_entity_store *es = wg_world_store(W(x));

	return es->y[wg_entity_slot(es, eid)];
}

/* Per StateDelta seen by pump(): its raw fields, for tests that look at
 * the wire itself. */
struct seen {
	uint64_t sid;
	uint32_t tick, baseline;
	uint32_t enters[64], n_enters;
	uint32_t leaves[64], n_leaves;
	uint32_t n_updates;
	size_t bytes;
};

/* Read every message the service sent: only STATE_DELTAs, one per live
 * client, on its own worker's ring. Each is decoded and acked unless the
 * client's simulated loss drops it. Returns the number of deltas. */
static unsigned int
pump(struct wfx *x, struct seen *seen, unsigned int max_seen)
{
	unsigned int w, n = 0, i;

	for (w = 0; w < FX_WORKERS; w++) {
		while (fx_pending(&x->f, w) > 0) {
			Wg__StateDelta *d;
			struct fx_out o;
			unsigned int left;
			struct cl *c;
			uint32_t t;

			fx_next(&x->f, w, &o);
			assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__STATE_DELTA);
			assert_int_equal(o.hdr.flags & WG_MSG_F_MULTICAST, 0);
			assert_int_equal(o.env->msg_id, 0);
			c = cl_of(x, o.hdr.session_id);
			assert_non_null(c);
			c->deltas++;
			assert_true(o.env->payload.len <= x->conf.budget + 64);
			d = wg__state_delta__unpack(NULL, o.env->payload.len, o.env->payload.data);
			assert_non_null(d);
			/* the baseline is the snapshot this client acknowledged
			 * last, unless the server no longer remembers it */
			if (d->baseline != c->acked)
				assert_true(d->baseline == 0 &&
					    d->tick - c->acked >= x->conf.sync_frames);
			if (seen != NULL && n < max_seen) {
				struct seen *s = &seen[n];

				memset(s, 0, sizeof(*s));
				s->sid = c->sid;
				s->tick = d->tick;
				s->baseline = d->baseline;
				for (i = 0; i < d->n_enters && i < 64; i++)
					s->enters[s->n_enters++] = d->enters[i]->id;
				for (i = 0; i < d->n_leaves && i < 64; i++)
					s->leaves[s->n_leaves++] = d->leaves[i]->id;
				s->n_updates = (uint32_t)d->n_updates;
				s->bytes = o.env->payload.len;
			}
			wg__state_delta__free_unpacked(d, NULL);
			n++;
			if (c->drop_pct != 0 && rnd(x, 100) < c->drop_pct) {
				fx_out_free(&o);
				continue;
			}
			assert_int_equal(wg_sync_decode(c->dec, o.env->payload.data,
							o.env->payload.len, &t), 0);
			c->applied++;
			fx_out_free(&o);
			left = fx_pending(&x->f, w);
			send_ack(x, c, t);
			c->acked = t;
			/* an ack is answered by nothing */
			assert_int_equal(fx_pending(&x->f, w), left);
		}
	}
	return n;
}

/* Tick, then every live client got exactly one STATE_DELTA. */
static void
tick_pump(struct wfx *x)
{
	uint32_t before[MAX_CL];
	unsigned int i, live = 0;

	for (i = 0; i < x->n; i++) {
		before[i] = x->c[i].deltas;
		live += x->c[i].live;
	}
	tick(x);
	assert_int_equal(pump(x, NULL, 0), live);
	for (i = 0; i < x->n; i++)
		if (x->c[i].live)
			assert_int_equal(x->c[i].deltas, before[i] + 1);
}

/* The client's decoded snapshot is exactly its avatar plus what the
 * server's AOI says it sees, each within half a quantisation step. */
static void
check_view(struct wfx *x, struct cl *c)
{
	struct wg_entity_store *es = wg_world_store(W(x));
	uint32_t slot = wg_entity_slot(es, c->eid), vis[256], ids[257], n_dec, dt, i, j, k;
	const struct wg_sync_entry *e;
	double q = 0.5 / x->conf.pos_scale + 1e-6;
	int nv;

	assert_int_not_equal(slot, WG_ENT_NO_SLOT);
	nv = wg_aoi_visible(wg_world_aoi(W(x)), slot, vis, 256);
	assert_true(nv >= 0 && nv < 256);
	for (i = 0; i < (uint32_t)nv; i++)
		ids[i] = wg_entity_eid(es, vis[i]);
	ids[nv] = c->eid;
	/* ascending, like the decoder's view */
	for (i = 1; i <= (uint32_t)nv; i++)
		for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
			k = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = k;
		}
	e = wg_sync_decoder_view(c->dec, &n_dec, &dt);
	assert_int_equal(n_dec, (uint32_t)nv + 1);
	for (i = 0; i < n_dec; i++) {
		uint32_t s = e[i].id & WG_ENT_IDX_MASK;

		assert_int_equal(e[i].id, ids[i]);
		assert_true(fabs(wg_sync_dequant(e[i].s.x, 0, x->conf.pos_scale) - es->x[s]) <= q);
		assert_true(fabs(wg_sync_dequant(e[i].s.y, 0, x->conf.pos_scale) - es->y[s]) <= q);
	}
}

static bool
has(const uint32_t *a, uint32_t n, uint32_t v)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (a[i] == v)
			return true;
	return false;
}

/* ---------------------------------------------------------------- tests */

static void
test_create_rejects(void **state)
{
	const struct wg_lfw_conf lc = { .tick_hz = TICK_HZ, .max_catchup = 4, .max_sessions = 16 };
	struct wg_world_svc_conf c = base_conf(), bad;
	struct wg_world_svc *s;
	struct wg_lfw *fw;

	(void)state;
	fw = wg_lfw_create(&lc);
	assert_non_null(fw);
#define REJECT(field, v) do { \
		bad = c; \
		bad.field = (v); \
		errno = 0; \
		assert_null(wg_world_svc_create(fw, &bad)); \
		assert_int_equal(errno, EINVAL); \
	} while (0)
	REJECT(width, 0);
	REJECT(height, 1000001);
	REJECT(spawn_x, 2001);
	REJECT(spawn_y, 2001);
	REJECT(tick_hz, 0);
	REJECT(max_speed, 0);
	REJECT(move_slack, 0);
	REJECT(max_moves, 0);
	REJECT(pos_scale, 0);
	REJECT(pos_scale, 1025);
	REJECT(sync_frames, 1);
	REJECT(budget, 63);
	REJECT(budget, 3901);
	REJECT(npcs, WG_ENT_MAX);
#undef REJECT
	assert_null(wg_world_svc_create(NULL, &c));
	assert_null(wg_world_svc_create(fw, NULL));
	s = wg_world_svc_create(fw, &c);
	assert_non_null(s);
	/* MOVE and SNAPSHOT_ACK are taken now */
	errno = 0;
	assert_null(wg_world_svc_create(fw, &c));
	assert_int_equal(errno, EEXIST);
	wg_lfw_destroy(fw);
	wg_world_svc_destroy(s);
}

/* Attach spawns an avatar and tells its player which it is; detach, a
 * reroute to another player and a reset despawn. */
static void
test_avatar_lifecycle(void **state)
{
	struct wg_world_svc_conf wc = base_conf();
	struct wg_world_svc_stats st;
	struct wg_world_stats ws;
	struct seen seen[8];
	struct wfx x;
	struct cl *a, *b;
	wg_eid_t old;
	unsigned int n, i;

	(void)state;
	wfx_init(&x, "wav", &wc);
	a = join(&x, fx_sid(0, 1, 10));
	b = join(&x, fx_sid(2, 1, 11));
	assert_int_not_equal(a->eid, b->eid);
	/* spawn_spread 0: exactly at the spawn point */
	assert_true(pos_x(&x, a->eid) == 1000.0f && pos_y(&x, a->eid) == 1000.0f);
	assert_true(pos_x(&x, b->eid) == 1000.0f && pos_y(&x, b->eid) == 1000.0f);
	wg_world_stats(W(&x), &ws);
	assert_int_equal(ws.entities, 2);
	assert_int_equal(ws.clients, 2);
	/* both see each other at the spawn point, each through its own delta */
	tick(&x);
	assert_int_equal(pump(&x, seen, 8), 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(seen[i].baseline, 0);
		assert_int_equal(seen[i].n_enters, 2);
		assert_true(has(seen[i].enters, 2, a->eid) && has(seen[i].enters, 2, b->eid));
	}
	check_view(&x, a);
	check_view(&x, b);

	/* b goes: a hears a leave, b's slot waits for the commit */
	leave(&x, b);
	assert_int_equal(wg_world_svc_avatar(x.s, b->sid), 0);
	wg_world_stats(W(&x), &ws);
	assert_int_equal(ws.entities, 1);
	assert_int_equal(ws.clients, 1);
	tick(&x);
	n = pump(&x, seen, 8);
	assert_int_equal(n, 1);
	assert_int_equal(seen[0].sid, a->sid);
	assert_int_equal(seen[0].n_leaves, 1);
	assert_int_equal(seen[0].leaves[0], b->eid);
	check_view(&x, a);

	/* the same session id attached for another player: the old avatar
	 * is gone, a new one spawned and announced */
	old = a->eid;
	fx_feed(&x.f, x.fw, 0, fx_attach_msg(&x.f, a->sid, 4242, "q"));
	a->eid = expect_avatar(&x, a->sid);
	assert_true(pos_x(&x, a->eid) == 1000.0f && pos_y(&x, a->eid) == 1000.0f);
	assert_int_not_equal(a->eid, old);
	assert_int_equal(wg_world_svc_avatar(x.s, a->sid), a->eid);
	wg_world_stats(W(&x), &ws);
	assert_int_equal(ws.entities, 1);

	/* a reset (registry slot reclaimed) drops every avatar */
	wg_lfw_sessions_reset(x.fw, WG_LFW_DETACH_RESET);
	a->live = false;
	wg_world_stats(W(&x), &ws);
	assert_int_equal(ws.entities, 0);
	assert_int_equal(ws.clients, 0);
	wg_world_svc_stats(x.s, &st);
	assert_int_equal(st.spawns, 3);
	assert_int_equal(st.despawns, 3);
	assert_int_equal(st.avatars, 0);
	tick(&x);
	assert_int_equal(fx_pending_all(&x.f), 0);
	wfx_fini(&x);
}

/* Cheaters are refused with a reason and stay where they were; honest
 * moves at the limit, and catching up after idle ticks, are accepted. */
static void
test_move_validation(void **state)
{
	struct wg_world_svc_conf wc = base_conf();
	struct wg_world_svc_stats st;
	struct wg_world_stats ws;
	struct wfx x;
	struct cl *a;
	unsigned int i;
	uint8_t junk[] = { 0x0a, 0xff };   /* field 1, length-delimited, truncated */
	uint32_t mid = 100;

	(void)state;
	wc.max_moves = 4;
	wfx_init(&x, "wmv", &wc);     /* 200 units/s at 20 Hz: 10 per tick */
	a = join(&x, fx_sid(1, 3, 5));
	tick_pump(&x);

	/* spawned before tick 1, now in tick 2: two ticks' worth */
	move(&x, a->sid, ++mid, 1020, 1000);
	assert_int_equal(fx_pending_all(&x.f), 0);
	move(&x, a->sid, ++mid, 1010, 1000);
	assert_int_equal(fx_pending_all(&x.f), 0);
	tick_pump(&x);
	check_view(&x, a);
	assert_true(pos_x(&x, a->eid) == 1010.0f);

	/* too fast */
	move(&x, a->sid, ++mid, 1021, 1000);
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_REQUEST, mid, WG__MSG_TYPE__MOVE,
			"move: faster than logic.world.max_speed");
	assert_true(pos_x(&x, a->eid) == 1010.0f);
	/* two moves in one tick share one allowance from where the tick began */
	move(&x, a->sid, ++mid, 1016, 1000);
	assert_int_equal(fx_pending_all(&x.f), 0);
	move(&x, a->sid, ++mid, 1022, 1000);
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_REQUEST, mid, WG__MSG_TYPE__MOVE,
			"move: faster than logic.world.max_speed");
	assert_true(pos_x(&x, a->eid) == 1016.0f);
	/* going back inside the allowance is fine */
	move(&x, a->sid, ++mid, 1004, 1000);
	assert_int_equal(fx_pending_all(&x.f), 0);
	/* max_moves (4, refused ones included) reached: the 5th is limited */
	move(&x, a->sid, ++mid, 1005, 1000);
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__RATE_LIMITED, mid, WG__MSG_TYPE__MOVE,
			"move: over logic.world.max_moves in one tick");
	assert_true(pos_x(&x, a->eid) == 1004.0f);
	tick_pump(&x);
	check_view(&x, a);

	/* outside the world, not finite, not a MoveInput */
	move(&x, a->sid, ++mid, -0.5f, 1000);
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_REQUEST, mid, WG__MSG_TYPE__MOVE,
			"move: outside the world");
	move(&x, a->sid, ++mid, NAN, 1000);
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_REQUEST, mid, WG__MSG_TYPE__MOVE,
			"move: coordinates must be finite");
	move(&x, a->sid, ++mid, 1004, INFINITY);
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_REQUEST, mid, WG__MSG_TYPE__MOVE,
			"move: coordinates must be finite");
	fx_feed(&x.f, x.fw, 1, fx_client_bytes(&x.f, a->sid, WG__MSG_TYPE__MOVE, ++mid, junk,
					      sizeof(junk)));
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_MESSAGE, mid, WG__MSG_TYPE__MOVE,
			"payload is not a MoveInput");
	fx_feed(&x.f, x.fw, 1, fx_client_bytes(&x.f, a->sid, WG__MSG_TYPE__SNAPSHOT_ACK, ++mid,
					      junk, sizeof(junk)));
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_MESSAGE, mid,
			WG__MSG_TYPE__SNAPSHOT_ACK, "payload is not a SnapshotAck");
	/* the refused ones counted against max_moves too: next tick it resets */
	tick_pump(&x);
	assert_true(pos_x(&x, a->eid) == 1004.0f && pos_y(&x, a->eid) == 1000.0f);

	/* idle ticks are credited up to move_slack (4): last move in tick 3,
	 * now tick 7, 4 ticks' worth */
	tick_pump(&x);
	tick_pump(&x);
	move(&x, a->sid, ++mid, 1004, 1040);
	assert_int_equal(fx_pending_all(&x.f), 0);
	tick_pump(&x);
	check_view(&x, a);
	for (i = 0; i < 10; i++)
		tick_pump(&x);
	/* 11 ticks since: still only 4 ticks' worth */
	move(&x, a->sid, ++mid, 1004, 1081);
	fx_expect_error(&x.f, 1, a->sid, WG__ERROR_CODE__BAD_REQUEST, mid, WG__MSG_TYPE__MOVE,
			"move: faster than logic.world.max_speed");
	assert_true(pos_y(&x, a->eid) == 1040.0f);
	move(&x, a->sid, ++mid, 1004, 1080);
	assert_int_equal(fx_pending_all(&x.f), 0);
	tick_pump(&x);
	check_view(&x, a);

	/* a session not attached here never reaches the service */
	move(&x, fx_sid(1, 9, 9), 77, 1000, 1000);
	fx_expect_error(&x.f, 1, fx_sid(1, 9, 9), WG__ERROR_CODE__SERVICE_UNAVAILABLE, 77,
			WG__MSG_TYPE__MOVE, NULL);

	wg_world_svc_stats(x.s, &st);
	assert_int_equal(st.moves, 6);
	assert_int_equal(st.refused, 9);
	assert_int_equal(st.rate_limited, 1);
	assert_int_equal(st.bad_msgs, 2);
	wg_world_stats(W(&x), &ws);
	assert_int_equal(ws.rejected_speed, 3);
	assert_int_equal(ws.rejected_bounds, 1);
	assert_int_equal(ws.rejected_invalid, 2);
	wfx_fini(&x);
}

/* Enter and leave events go to exactly the sessions whose view changed. */
static void
test_aoi_enter_leave(void **state)
{
	struct wg_world_svc_conf wc = base_conf();
	struct seen seen[8];
	struct wfx x;
	struct cl *a, *b, *c;
	unsigned int n, i, k;

	(void)state;
	wc.max_speed = 1000000;       /* anywhere in one move */
	wfx_init(&x, "wae", &wc);
	a = join(&x, fx_sid(0, 1, 1));
	b = join(&x, fx_sid(1, 1, 2));
	c = join(&x, fx_sid(2, 1, 3));
	tick_pump(&x);
	check_view(&x, a);
	check_view(&x, b);
	check_view(&x, c);

	/* c walks off: a and b lose it, c loses both */
	move(&x, a->sid, 1, 1000, 1000);
	move(&x, b->sid, 1, 1050, 1000);
	move(&x, c->sid, 1, 1300, 1000);
	tick(&x);
	n = pump(&x, seen, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		struct seen *s = &seen[i];

		assert_int_equal(s->n_enters, 0);
		if (s->sid == c->sid) {
			assert_int_equal(s->n_leaves, 2);
			assert_true(has(s->leaves, 2, a->eid) && has(s->leaves, 2, b->eid));
		} else {
			assert_int_equal(s->n_leaves, 1);
			assert_int_equal(s->leaves[0], c->eid);
		}
	}
	check_view(&x, a);
	check_view(&x, b);
	check_view(&x, c);

	/* c comes within b's radius (30) and a's (80): both get it entered at
	 * the exact quantised position; c gets both */
	move(&x, c->sid, 2, 1080, 1000);
	tick(&x);
	n = pump(&x, seen, 8);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		struct seen *s = &seen[i];

		assert_int_equal(s->n_leaves, 0);
		if (s->sid == c->sid) {
			assert_int_equal(s->n_enters, 2);
			assert_true(has(s->enters, 2, a->eid) && has(s->enters, 2, b->eid));
		} else {
			const struct wg_sync_entry *e;
			struct cl *o = cl_of(&x, s->sid);

			assert_int_equal(s->n_enters, 1);
			assert_int_equal(s->enters[0], c->eid);
			e = wg_sync_decoder_find(o->dec, c->eid);
			assert_non_null(e);
			assert_int_equal(e->s.x, 1080 * 16);
			assert_int_equal(e->s.y, 1000 * 16);
		}
	}
	check_view(&x, a);
	check_view(&x, b);
	check_view(&x, c);

	/* a moves to 1000 - 50: c (at 130) drops out of a's view, b (at 100)
	 * stays on the edge (inclusive); c's and b's radius lose a only for c */
	move(&x, a->sid, 2, 950, 1000);
	tick(&x);
	n = pump(&x, seen, 8);
	assert_int_equal(n, 3);
	for (i = 0, k = 0; i < n; i++) {
		struct seen *s = &seen[i];

		assert_int_equal(s->n_enters, 0);
		if (s->sid == b->sid) {
			assert_int_equal(s->n_leaves, 0);
		} else {
			assert_int_equal(s->n_leaves, 1);
			assert_int_equal(s->leaves[0], s->sid == a->sid ? c->eid : a->eid);
			k++;
		}
	}
	assert_int_equal(k, 2);
	check_view(&x, a);
	check_view(&x, b);
	check_view(&x, c);

	/* b disconnects: both others see it leave */
	leave(&x, b);
	tick(&x);
	n = pump(&x, seen, 8);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(seen[i].n_leaves, 1);
		assert_int_equal(seen[i].leaves[0], b->eid);
	}
	check_view(&x, a);
	check_view(&x, c);
	wfx_fini(&x);
}

/* Players and NPCs wander; every tick every client's decoded world is the
 * server's view of it within quantisation. loss: percentage of deltas a
 * client drops (never decodes nor acks). */
static void
run_walk(const char *name, uint32_t loss)
{
	struct wg_world_svc_conf wc = base_conf();
	struct wg_world_svc_stats st;
	struct wg_sync_decoder_stats ds;
	struct wfx x;
	unsigned int i, t, quiet = 0;
	uint32_t mid = 0;
	const unsigned int players = 10, ticks = 300;

	wc.width = wc.height = 600;
	wc.spawn_x = wc.spawn_y = 300;
	wc.spawn_spread = 100;
	wc.view_radius = 120;
	wc.npcs = 20;
	wfx_init(&x, name, &wc);
	for (i = 0; i < players; i++) {
		struct cl *c = &x.c[x.n++];
		uint64_t sid = fx_sid(i % FX_WORKERS, 1, 100 + i);

		c->sid = sid;
		c->live = true;
		c->drop_pct = i % 2 ? loss : 0;
		fx_attach(&x.f, x.fw, sid, 500 + i, "w");
		c->eid = expect_avatar(&x, sid);
		c->dec = wg_sync_decoder_create(wc.sync_frames, 0, 0);
		assert_non_null(c->dec);
	}
	for (t = 0; t < ticks; t++) {
		bool moving = t < ticks - 40;
		uint32_t applied[MAX_CL];

		for (i = 0; moving && i < players; i++) {
			struct cl *c = &x.c[i];
			float px = pos_x(&x, c->eid), py = pos_y(&x, c->eid);
			/* up to 7 on each axis: under the 10 per tick limit */
			float nx = px + (float)((int)rnd(&x, 141) - 70) / 10.0f;
			float ny = py + (float)((int)rnd(&x, 141) - 70) / 10.0f;

			if (rnd(&x, 4) == 0)
				continue;
			nx = nx < 0 ? 0 : nx > 600 ? 600 : nx;
			ny = ny < 0 ? 0 : ny > 600 ? 600 : ny;
			move(&x, c->sid, ++mid, nx, ny);
			assert_int_equal(fx_pending_all(&x.f), 0);
		}
		for (i = 0; i < players; i++)
			applied[i] = x.c[i].applied;
		tick_pump(&x);
		/* the budget fits every change: a delta the client applies
		 * yields the server's view at that tick, lost ones or not */
		for (i = 0; i < players; i++)
			if (x.c[i].applied != applied[i])
				check_view(&x, &x.c[i]);
		if (!moving)
			quiet++;
	}
	assert_int_equal(quiet, 40);
	for (i = 0; i < players; i++) {
		struct cl *c = &x.c[i];

		wg_sync_decoder_stats(c->dec, &ds);
		assert_int_equal(ds.no_baseline, 0);
		assert_int_equal(ds.bad, 0);
		assert_int_equal(c->deltas, ticks);
		if (c->drop_pct == 0)
			assert_int_equal(c->applied, ticks);
		else
			assert_true(c->applied < ticks && c->applied > ticks / 2);
	}
	wg_world_svc_stats(x.s, &st);
	assert_int_equal(st.moves + st.refused, mid);
	assert_int_equal(st.refused, 0);
	assert_int_equal(st.npc_moves, (uint64_t)wc.npcs * ticks);
	assert_int_equal(st.deltas, (uint64_t)players * ticks);
	assert_int_equal(st.delta_failed, 0);
	/* one more tick, everybody applies it: exact */
	for (i = 0; i < players; i++)
		x.c[i].drop_pct = 0;
	tick_pump(&x);
	for (i = 0; i < players; i++)
		check_view(&x, &x.c[i]);
	wfx_fini(&x);
}

static void
test_sync_walk(void **state)
{
	(void)state;
	run_walk("wwk", 0);
}

static void
test_sync_walk_loss(void **state)
{
	(void)state;
	run_walk("wwl", 30);
}

/* A budget far below a crowd's worth: deltas stay within it (beyond it
 * only with a single change), changes are deferred, and once the crowd
 * stands still every client converges to the exact view. */
static void
test_budget(void **state)
{
	struct wg_world_svc_conf wc = base_conf();
	struct wg_sync_peer_stats ps;
	struct seen seen[MAX_CL];
	struct wfx x;
	unsigned int i, t, n, converged = 0;
	uint64_t deferred = 0;

	(void)state;
	wc.budget = 64;
	wc.spawn_spread = 30;       /* all within 85 of each other: radius 100 */
	wfx_init(&x, "wbg", &wc);
	for (i = 0; i < 12; i++) {
		struct cl *c = &x.c[x.n++];

		c->sid = fx_sid(i % FX_WORKERS, 2, 200 + i);
		c->live = true;
		fx_attach(&x.f, x.fw, c->sid, 700 + i, "b");
		c->eid = expect_avatar(&x, c->sid);
		c->dec = wg_sync_decoder_create(wc.sync_frames, 0, 0);
		assert_non_null(c->dec);
	}
	for (t = 0; t < 60; t++) {
		tick(&x);
		n = pump(&x, seen, MAX_CL);
		assert_int_equal(n, 12);
		/* beyond the budget only when a single change does not fit */
		for (i = 0; i < n; i++)
			if (seen[i].n_enters + seen[i].n_leaves + seen[i].n_updates > 1)
				assert_true(seen[i].bytes <= 64);
		for (i = 0, n = 0; i < x.n; i++) {
			uint32_t nd, dt;

			wg_sync_decoder_view(x.c[i].dec, &nd, &dt);
			n += nd == 12;
		}
		if (n == 12) {
			converged = t;
			break;
		}
	}
	/* 12 enters of ~12 bytes each per client at ~5 per delta */
	assert_true(converged >= 2 && converged < 60);
	for (i = 0; i < x.n; i++) {
		check_view(&x, &x.c[i]);
		wg_sync_peer_stats(wg_world_peer(W(&x), x.c[i].eid), &ps);
		deferred += ps.deferred;
	}
	assert_true(deferred > 0);
	wfx_fini(&x);
}

/* NPCs: seeded paths, within bounds, each step a valid move; the same seed
 * gives the same walk, another seed another. */
static void
npc_walk(uint32_t seed, float *out, uint32_t n)
{
	const struct wg_lfw_conf lc = { .tick_hz = TICK_HZ, .max_catchup = 4, .max_sessions = 16 };
	struct wg_world_svc_conf wc = base_conf();
	struct wg_world_svc_stats st;
	struct wg_world_stats ws;
	struct wg_entity_store *es;
	struct wg_world_svc *s;
	struct wg_lfw *fw;
	float start[64];
	uint64_t now = 0;
	uint32_t i, t;

	assert_true(n <= 64);
	wc.npcs = n;
	wc.seed = seed;
	wc.width = 500;
	wc.height = 300;
	wc.spawn_x = 10;
	wc.spawn_y = 10;
	fw = wg_lfw_create(&lc);
	assert_non_null(fw);
	s = wg_world_svc_create(fw, &wc);
	assert_non_null(s);
	wg_lfw_set_tsc_hz(fw, TSC_HZ);
	es = wg_world_store(wg_world_svc_world(s));
	for (i = 0; i < n; i++)
		start[i] = es->x[wg_entity_slot(es, wg_world_svc_npc(s, i))];
	for (t = 0; t < 200; t++) {
		assert_int_equal(wg_lfw_tick_poll(fw, now), 1);
		now += PERIOD;
		for (i = 0; i < n; i++) {
			uint32_t slot = wg_entity_slot(es, wg_world_svc_npc(s, i));
			float vx = es->vx[slot], vy = es->vy[slot];

			assert_int_not_equal(slot, WG_ENT_NO_SLOT);
			assert_true(es->x[slot] >= 0 && es->x[slot] <= 500);
			assert_true(es->y[slot] >= 0 && es->y[slot] <= 300);
			/* half the speed limit per tick, but waypoints cut it short */
			assert_true(sqrtf(vx * vx + vy * vy) <= 5.0f + 1e-3f);
		}
	}
	for (i = 0; i < n; i++) {
		out[2 * i] = es->x[wg_entity_slot(es, wg_world_svc_npc(s, i))];
		out[2 * i + 1] = es->y[wg_entity_slot(es, wg_world_svc_npc(s, i))];
		assert_true(out[2 * i] != start[i]);
	}
	assert_int_equal(wg_world_svc_npc(s, n), 0);
	wg_world_svc_stats(s, &st);
	assert_int_equal(st.npc_moves, (uint64_t)n * 200);
	assert_int_equal(st.ticks, 200);
	wg_world_stats(wg_world_svc_world(s), &ws);
	assert_int_equal(ws.rejected_speed + ws.rejected_bounds + ws.rejected_invalid, 0);
	assert_true(ws.aoi_events > 0);
	wg_lfw_destroy(fw);
	wg_world_svc_destroy(s);
}

static void
test_npcs(void **state)
{
	float a[128], b[128], c[128];

	(void)state;
	npc_walk(5, a, 40);
	npc_walk(5, b, 40);
	npc_walk(6, c, 40);
	assert_memory_equal(a, b, sizeof(float) * 80);
	assert_memory_not_equal(a, c, sizeof(float) * 80);
}

/* logic.world in the config: defaults, parsing, range and cross checks. */
static void
test_conf_keys(void **state)
{
	static struct wg_conf c;
	char err[WG_CONF_ERR_MAX];
	const char *y;

	(void)state;
	wg_conf_defaults(&c);
	assert_int_equal(c.logic.world.width, 10000);
	assert_int_equal(c.logic.world.height, 10000);
	assert_int_equal(c.logic.world.view_radius, 200);
	assert_int_equal(c.logic.world.max_speed, 200);
	assert_int_equal(c.logic.world.move_slack, 4);
	assert_int_equal(c.logic.world.max_moves, 8);
	assert_int_equal(c.logic.world.pos_scale, 16);
	assert_int_equal(c.logic.world.sync_frames, 32);
	assert_int_equal(c.logic.world.budget, 1200);
	assert_int_equal(c.logic.world.spawn_x, 5000);
	assert_int_equal(c.logic.world.spawn_y, 5000);
	assert_int_equal(c.logic.world.spawn_spread, 50);
	assert_int_equal(c.logic.world.npcs, 0);
	assert_int_equal(c.logic.world.seed, 1);
	assert_string_equal(c.logic.world.aoi, "inc");
	assert_ptr_equal(wg_aoi_ops_by_name(c.logic.world.aoi), &wg_aoi_inc_ops);
	y = "logic:\n  world:\n    width: 300\n    height: 200\n    view_radius: 50\n"
	    "    max_speed: 40\n    npcs: 12\n    seed: 4000000000\n    aoi: grid\n"
	    "    spawn_x: 300\n    spawn_y: 0\n    budget: 3900\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), 0);
	assert_int_equal(c.logic.world.width, 300);
	assert_int_equal(c.logic.world.height, 200);
	assert_int_equal(c.logic.world.view_radius, 50);
	assert_int_equal(c.logic.world.max_speed, 40);
	assert_int_equal(c.logic.world.npcs, 12);
	assert_int_equal(c.logic.world.seed, 4000000000u);
	assert_int_equal(c.logic.world.budget, 3900);
	assert_string_equal(c.logic.world.aoi, "grid");
	assert_int_equal(c.logic.world.pos_scale, 16);
	y = "logic:\n  world:\n    budget: 3901\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:3]: logic.world.budget: 3901 is out of range "
			    "64..3900");
	y = "logic:\n  world:\n    pos_scale: 0\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:3]: logic.world.pos_scale: 0 is out of range "
			    "1..1024");
	y = "logic:\n  world:\n    aoi: quadtree\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), -EINVAL);
	/* the spawn point must lie in the world */
	wg_conf_defaults(&c);
	y = "ports:\n  - name: tap0\n    dev: net_tap0\n    ipv4: 198.18.0.2/24\n"
	    "logic:\n  world:\n    width: 100\n    spawn_x: 50\n    spawn_y: 101\n    height: 100\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), 0);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:9]: logic.world.spawn_y 101 is outside the "
			    "world (height 100)");
	c.logic.world.spawn_y = 100;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects),
		cmocka_unit_test(test_avatar_lifecycle),
		cmocka_unit_test(test_move_validation),
		cmocka_unit_test(test_aoi_enter_leave),
		cmocka_unit_test(test_sync_walk),
		cmocka_unit_test(test_sync_walk_loss),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_npcs),
		cmocka_unit_test(test_conf_keys),
	};

	if (fx_eal_init("test_world_svc") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
