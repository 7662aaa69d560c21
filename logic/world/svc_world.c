/* SPDX-License-Identifier: BSD-3-Clause
 * The world service: one wg_world per logic instance, driven by the logic
 * framework. A session attached here is a player with an avatar entity;
 * its MOVE messages go through the world's validation (a refused move
 * changes nothing and is answered with an Error, never corrected by a
 * teleport), its SNAPSHOT_ACKs move its sync baseline, and every framework
 * tick runs the NPCs, the AOI and one STATE_DELTA per avatar, unicast to
 * the session's worker (each client's delta is against its own acked
 * snapshot, so there is nothing to share in a multicast).
 *
 * Per-session state is an array indexed by the framework's session slot;
 * the world's tables are sized at create for max_sessions avatars plus the
 * NPCs. What still allocates after start is the world's: a sync peer per
 * spawned avatar and the encoder's scratch growing to the largest view.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aoi.h"
#include "entity.h"
#include "lfw.h"
#include "log.h"
#include "svc_world.h"
#include "sync.h"
#include "wg_client.pb-c.h"
#include "wg_sync.pb-c.h"
#include "world.h"

RTE_LOG_REGISTER(wg_world_svc_logtype, wg.world, INFO);
#define WSVC_LOG(l, ...) WG_LOG(wg_world_svc_logtype, l, "world", __VA_ARGS__)

/* What the config parser already enforces, repeated for other callers. */
#define WSVC_MAX_COORD    1000000u
#define WSVC_MAX_BUDGET   3900u      /* StateDelta + Envelope in a 4 KiB message mbuf */
#define WSVC_MIN_BUDGET   64u

struct world_sess {
	wg_eid_t eid;                  /* avatar, 0 = none */
	uint32_t move_tick;            /* world tick n_moves counts for */
	uint32_t n_moves;
};

/* An NPC walks straight to a waypoint at half the speed limit, then draws
 * the next one: deterministic for a seed, and every step is a real
 * validated move, so AOI and sync see the same traffic players make. */
struct world_npc {
	wg_eid_t eid;
	float tx, ty;
};

struct wg_world_svc {
	struct wg_world_svc_conf conf;
	struct wg_lfw *fw;
	struct wg_world *w;
	float npc_step;                /* world units per tick */
	uint64_t rng;
	uint32_t max_sessions;
	struct world_sess *sess;
	struct world_npc *npc;
	struct wg_world_svc_stats st;
};

/* ---------------------------------------------------------------- helpers */

/* splitmix64: one multiply-xorshift chain per draw, full period over the
 * 64-bit state, good enough for paths and spawn offsets */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static float
clampf(double v, double lo, double hi)
{
	return (float)(v < lo ? lo : v > hi ? hi : v);
}

static void
npc_waypoint(struct wg_world_svc *s, struct world_npc *n)
{
	n->tx = (float)(rng_unit(&s->rng) * s->conf.width);
	n->ty = (float)(rng_unit(&s->rng) * s->conf.height);
}

/* ---------------------------------------------------------------- output */

static int
delta_out(void *arg, uint64_t session, wg_eid_t eid, const uint8_t *msg, size_t len)
{
	struct wg_world_svc *s = arg;
	int rc;

	(void)eid;
	/* msg_id 0: a tick's delta answers no request */
	rc = wg_lfw_send_raw(s->fw, session, WG__MSG_TYPE__STATE_DELTA, 0, msg, len);
	if (rc < 0) {
		s->st.delta_failed++;
		return rc;
	}
	s->st.deltas++;
	s->st.delta_bytes += len;
	return 0;
}

/* ENTITY_STATE{EntityEnter} of a fresh avatar to its player: how a client
 * learns which entity in the deltas is its own. */
static void
send_avatar(struct wg_world_svc *s, uint64_t session, wg_eid_t eid)
{
	const struct wg_entity_store *es = wg_world_store(s->w);
	uint32_t slot = eid & WG_ENT_IDX_MASK;
	Wg__EntityEnter e = WG__ENTITY_ENTER__INIT;

	e.id = eid;
	e.x = wg_sync_quant(es->x[slot], 0, s->conf.pos_scale);
	e.y = wg_sync_quant(es->y[slot], 0, s->conf.pos_scale);
	e.yaw = wg_sync_quant_yaw(es->yaw[slot]);
	/* lost only when the ring is full; counted by the framework */
	(void)wg_lfw_send(s->fw, session, WG__MSG_TYPE__ENTITY_STATE, 0, &e.base);
}

/* ---------------------------------------------------------------- sessions */

static void
world_attach(struct wg_lfw *fw, const struct wg_lfw_session *ls, uint32_t reason, void *arg)
{
	struct wg_world_svc *s = arg;
	struct world_sess *ws = &s->sess[ls->idx];
	double sp = s->conf.spawn_spread;
	float x, y;
	wg_eid_t eid;
	int rc;

	(void)fw;
	(void)reason;
	memset(ws, 0, sizeof(*ws));
	x = clampf(s->conf.spawn_x + (2 * rng_unit(&s->rng) - 1) * sp, 0, s->conf.width);
	y = clampf(s->conf.spawn_y + (2 * rng_unit(&s->rng) - 1) * sp, 0, s->conf.height);
	rc = wg_world_spawn(s->w, x, y, 0, -1, ls->id, &eid);
	if (rc != 0) {
		/* sessions are bounded by logic.max_sessions, which the world
		 * is sized for: only memory can run out here */
		if ((s->st.spawn_failed++ & 1023) == 0)
			WSVC_LOG(WARNING, "session %#" PRIx64 ": no avatar: %s", ls->id,
				 strerror(-rc));
		return;
	}
	ws->eid = eid;
	s->st.spawns++;
	s->st.avatars++;
	send_avatar(s, ls->id, eid);
}

static void
world_detach(struct wg_lfw *fw, const struct wg_lfw_session *ls, uint32_t reason, void *arg)
{
	struct wg_world_svc *s = arg;
	struct world_sess *ws = &s->sess[ls->idx];

	(void)fw;
	(void)reason;
	if (ws->eid == 0)
		return;
	/* the avatar's observers get their LEAVE in the next tick's delta */
	if (wg_world_despawn(s->w, ws->eid) == 0) {
		s->st.despawns++;
		s->st.avatars--;
	}
	ws->eid = 0;
}

/* ---------------------------------------------------------------- handlers */

static int
refuse(struct wg_world_svc *s, struct wg_lfw *fw, const struct wg_lfw_req *req, uint32_t code,
       const char *text)
{
	s->st.refused++;
	return wg_lfw_reply_error(fw, req, code, text);
}

static int
world_move(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg)
{
	struct wg_world_svc *s = arg;
	struct world_sess *ws = &s->sess[req->sess->idx];
	uint32_t now = wg_world_tick_no(s->w) + 1;
	int rc;

	if (ws->eid == 0) {
		s->st.no_avatar++;
		return refuse(s, fw, req, WG__ERROR_CODE__SERVICE_UNAVAILABLE,
			      "no avatar: the world could not spawn one");
	}
	/* bounded work per tick whatever the client sends; a cheater gets
	 * nothing from extra moves anyway (they share one tick's allowance) */
	if (ws->move_tick != now) {
		ws->move_tick = now;
		ws->n_moves = 0;
	}
	if (ws->n_moves >= s->conf.max_moves) {
		s->st.rate_limited++;
		return refuse(s, fw, req, WG__ERROR_CODE__RATE_LIMITED,
			      "move: over logic.world.max_moves in one tick");
	}
	ws->n_moves++;
	rc = wg_world_move_msg(s->w, ws->eid, req->env.payload, req->env.payload_len);
	switch (rc) {
	case 0:
		s->st.moves++;
		return 0;
	case -EBADMSG:
		s->st.bad_msgs++;
		return refuse(s, fw, req, WG__ERROR_CODE__BAD_MESSAGE, "payload is not a MoveInput");
	case -EINVAL:
		return refuse(s, fw, req, WG__ERROR_CODE__BAD_REQUEST,
			      "move: coordinates must be finite");
	case -EDOM:
		return refuse(s, fw, req, WG__ERROR_CODE__BAD_REQUEST, "move: outside the world");
	case -ERANGE:
		return refuse(s, fw, req, WG__ERROR_CODE__BAD_REQUEST,
			      "move: faster than logic.world.max_speed");
	default:
		/* the AOI could not take it (out of memory): nothing moved */
		return refuse(s, fw, req, WG__ERROR_CODE__INTERNAL, "move: not applied");
	}
}

static int
world_ack(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg)
{
	struct wg_world_svc *s = arg;
	struct world_sess *ws = &s->sess[req->sess->idx];
	int rc;

	if (ws->eid == 0) {
		s->st.no_avatar++;
		return refuse(s, fw, req, WG__ERROR_CODE__SERVICE_UNAVAILABLE,
			      "no avatar: the world could not spawn one");
	}
	rc = wg_world_ack(s->w, ws->eid, req->env.payload, req->env.payload_len);
	if (rc == 0) {
		s->st.acks++;
		return 0;
	}
	if (rc == -EBADMSG) {
		s->st.bad_msgs++;
		return refuse(s, fw, req, WG__ERROR_CODE__BAD_MESSAGE,
			      "payload is not a SnapshotAck");
	}
	/* reordered, duplicated or ancient acks are normal on a lossy path */
	s->st.acks_ignored++;
	return 0;
}

static void
npc_step(struct wg_world_svc *s)
{
	const struct wg_entity_store *es = wg_world_store(s->w);
	uint32_t i;

	for (i = 0; i < s->conf.npcs; i++) {
		struct world_npc *n = &s->npc[i];
		uint32_t slot = wg_entity_slot(es, n->eid);
		double x, y, dx, dy, d, nx, ny;

		if (slot == WG_ENT_NO_SLOT)
			continue;
		x = es->x[slot];
		y = es->y[slot];
		dx = n->tx - x;
		dy = n->ty - y;
		d = sqrt(dx * dx + dy * dy);
		if (d <= s->npc_step) {
			nx = n->tx;
			ny = n->ty;
			npc_waypoint(s, n);
		} else {
			nx = x + dx * (s->npc_step / d);
			ny = y + dy * (s->npc_step / d);
		}
		nx = clampf(nx, 0, s->conf.width);
		ny = clampf(ny, 0, s->conf.height);
		/* within half the limit of where it stood: refused only when
		 * a failed tick is being repeated; it then waits a tick */
		if (wg_world_move(s->w, n->eid, (float)nx, (float)ny, (float)atan2(dy, dx)) == 0)
			s->st.npc_moves++;
	}
}

static void
world_tick(struct wg_lfw *fw, uint64_t tick, void *arg)
{
	struct wg_world_svc *s = arg;
	int rc;

	(void)fw;
	(void)tick;
	npc_step(s);
	rc = wg_world_tick(s->w);
	if (rc < 0) {
		if ((s->st.tick_errors++ & 1023) == 0)
			WSVC_LOG(ERR, "tick %" PRIu64 ": %s (retried next tick)", tick,
				 strerror(-rc));
		return;
	}
	s->st.ticks++;
}

static const struct wg_lfw_handler world_handlers[] = {
	{ WG__MSG_TYPE__MOVE, world_move },
	{ WG__MSG_TYPE__SNAPSHOT_ACK, world_ack },
};

/* ---------------------------------------------------------------- life */

static bool
conf_ok(const struct wg_world_svc_conf *c)
{
	return c->width >= 1 && c->width <= WSVC_MAX_COORD && c->height >= 1 &&
	       c->height <= WSVC_MAX_COORD && c->view_radius <= WSVC_MAX_COORD &&
	       c->spawn_x <= c->width && c->spawn_y <= c->height && c->max_speed >= 1 &&
	       c->tick_hz >= 1 && c->move_slack >= 1 && c->max_moves >= 1 &&
	       c->pos_scale >= 1 && c->pos_scale <= 1024 && c->sync_frames >= 2 &&
	       c->sync_frames <= 1024 && c->budget >= WSVC_MIN_BUDGET &&
	       c->budget <= WSVC_MAX_BUDGET && c->npcs < WG_ENT_MAX;
}

struct wg_world_svc *
wg_world_svc_create(struct wg_lfw *fw, const struct wg_world_svc_conf *conf)
{
	struct wg_lfw_service svc = {
		.name = "world",
		.id = WG_SVC_WORLD_ID,
		.flags = WG_LFW_SVC_F_SESSION,
		.handlers = world_handlers,
		.n_handlers = sizeof(world_handlers) / sizeof(world_handlers[0]),
		.on_attach = world_attach,
		.on_detach = world_detach,
		.on_tick = world_tick,
	};
	struct wg_world_conf wc = { 0 };
	struct wg_world_svc *s;
	uint64_t cap;
	uint32_t i;
	int ret;

	if (fw == NULL || conf == NULL || !conf_ok(conf)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->conf = *conf;
	s->fw = fw;
	s->rng = (uint64_t)conf->seed << 32 | 0x5eed;
	s->max_sessions = wg_lfw_max_sessions(fw);
	/* every attached session can have its avatar next to every NPC */
	cap = (uint64_t)s->max_sessions + conf->npcs;
	if (cap > WG_ENT_MAX)
		cap = WG_ENT_MAX;
	wc.width = (float)conf->width;
	wc.height = (float)conf->height;
	wc.view_radius = (float)conf->view_radius;
	wc.max_speed = (float)conf->max_speed / (float)conf->tick_hz;
	wc.move_slack = conf->move_slack;
	wc.capacity = (uint32_t)cap;
	wc.pos_scale = (float)conf->pos_scale;
	wc.sync_frames = conf->sync_frames;
	wc.sync_budget = conf->budget;
	wc.aoi = conf->aoi;
	wc.out = delta_out;
	wc.out_arg = s;
	s->npc_step = wc.max_speed / 2;
	s->sess = calloc(s->max_sessions, sizeof(*s->sess));
	s->npc = calloc(conf->npcs ? conf->npcs : 1, sizeof(*s->npc));
	s->w = wg_world_create(&wc);
	if (s->sess == NULL || s->npc == NULL || s->w == NULL) {
		ret = s->w == NULL && errno != 0 ? -errno : -ENOMEM;
		goto err;
	}
	for (i = 0; i < conf->npcs; i++) {
		struct world_npc *n = &s->npc[i];
		float x = (float)(rng_unit(&s->rng) * conf->width);
		float y = (float)(rng_unit(&s->rng) * conf->height);

		/* session 0: no sync peer, an entity others see */
		ret = wg_world_spawn(s->w, x, y, 0, -1, 0, &n->eid);
		if (ret != 0)
			goto err;
		npc_waypoint(s, n);
	}
	s->st.npcs = conf->npcs;
	svc.arg = s;
	ret = wg_lfw_register(fw, &svc);
	if (ret < 0)
		goto err;
	return s;
err:
	wg_world_svc_destroy(s);
	errno = -ret;
	return NULL;
}

void
wg_world_svc_destroy(struct wg_world_svc *s)
{
	if (s == NULL)
		return;
	wg_world_destroy(s->w);
	free(s->npc);
	free(s->sess);
	free(s);
}

wg_eid_t
wg_world_svc_avatar(const struct wg_world_svc *s, uint64_t session_id)
{
	const struct wg_lfw_session *ls = wg_lfw_session_find(s->fw, session_id);

	return ls != NULL ? s->sess[ls->idx].eid : 0;
}

wg_eid_t
wg_world_svc_npc(const struct wg_world_svc *s, uint32_t i)
{
	return i < s->conf.npcs ? s->npc[i].eid : 0;
}

struct wg_world *
wg_world_svc_world(struct wg_world_svc *s)
{
	return s->w;
}

void
wg_world_svc_stats(const struct wg_world_svc *s, struct wg_world_svc_stats *st)
{
	*st = s->st;
}

void
wg_world_svc_dump(FILE *f, const struct wg_world_svc *s)
{
	const struct wg_world_svc_stats *st = &s->st;

	fprintf(f, "world service: %ux%u radius %u max_speed %u/s budget %u B/tick, "
		"avatars %u npcs %u\n", s->conf.width, s->conf.height, s->conf.view_radius,
		s->conf.max_speed, s->conf.budget, st->avatars, st->npcs);
	fprintf(f, "  spawns %" PRIu64 " spawn_failed %" PRIu64 " despawns %" PRIu64
		" moves %" PRIu64 " refused %" PRIu64 " rate_limited %" PRIu64
		" no_avatar %" PRIu64 " bad_msgs %" PRIu64 "\n", st->spawns, st->spawn_failed,
		st->despawns, st->moves, st->refused, st->rate_limited, st->no_avatar,
		st->bad_msgs);
	fprintf(f, "  acks %" PRIu64 " acks_ignored %" PRIu64 " deltas %" PRIu64
		" delta_bytes %" PRIu64 " delta_failed %" PRIu64 " ticks %" PRIu64
		" tick_errors %" PRIu64 " npc_moves %" PRIu64 "\n", st->acks, st->acks_ignored,
		st->deltas, st->delta_bytes, st->delta_failed, st->ticks, st->tick_errors,
		st->npc_moves);
	wg_world_dump(f, s->w);
}
