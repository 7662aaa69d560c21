/* SPDX-License-Identifier: BSD-3-Clause
 * The world: glue between inputs, the entity store, AOI and sync. Movement
 * is validated against the position the entity had when the tick began,
 * so several Move messages in one tick cannot add up to a teleport.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "aoi.h"
#include "entity.h"
#include "sync.h"
#include "world.h"

struct wg_world {
	struct wg_world_conf conf;
	struct wg_entity_store *es;
	struct wg_aoi *aoi;
	uint32_t tick;               /* last completed tick; tick + 1 is in progress */
	float *ax, *ay;              /* per slot: position at the start of the tick */
	float *allow;                /* per slot: distance allowed this tick */
	uint32_t *last_move;         /* per slot: tick of the last accepted move */
	struct wg_sync_peer **peer;  /* per slot, NULL for non-clients */
	uint32_t *clients;           /* client slots */
	uint32_t *client_pos;
	uint32_t nclients;
	uint32_t *moved, nmoved;     /* moved in the tick in progress */
	uint32_t *moving, nmoving;   /* moved in the previous tick (velocity != 0) */
	uint32_t *vis;               /* scratch: visible slots */
	uint32_t vis_cap;
	struct wg_sync_item *items;
	uint32_t items_cap;
	uint8_t *msg;
	size_t msg_cap;
	struct wg_world_stats st;
};

struct wg_world *
wg_world_create(const struct wg_world_conf *conf)
{
	struct wg_aoi_conf ac = { 0 };
	struct wg_world *w;
	uint32_t n;

	if (conf == NULL || conf->capacity == 0 || conf->capacity > WG_AOI_MAX_KEYS ||
	    conf->nfields > WG_SYNC_MAX_FIELDS || !(conf->width > 0) || !(conf->height > 0) ||
	    !isfinite(conf->min_x) || !isfinite(conf->min_y) || !isfinite(conf->width) ||
	    !isfinite(conf->height) || !(conf->max_speed >= 0) || !isfinite(conf->max_speed) ||
	    !(conf->view_radius >= 0) || !isfinite(conf->view_radius) || conf->out == NULL ||
	    !(conf->pos_scale >= 0) || !isfinite(conf->pos_scale)) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->conf = *conf;
	if (w->conf.move_slack == 0)
		w->conf.move_slack = 4;
	if (w->conf.pos_scale == 0)
		w->conf.pos_scale = 16;
	if (w->conf.sync_frames == 0)
		w->conf.sync_frames = 32;
	if (w->conf.aoi == NULL)
		w->conf.aoi = &wg_aoi_inc_ops;
	n = conf->capacity;
	ac.min_x = conf->min_x;
	ac.min_y = conf->min_y;
	ac.width = conf->width;
	ac.height = conf->height;
	ac.view_radius = conf->view_radius;
	ac.capacity = n;
	ac.flags = conf->aoi_flags;
	w->es = wg_entity_store_create(n, conf->nfields);
	w->aoi = wg_aoi_create(w->conf.aoi, &ac);
	w->ax = calloc(n, sizeof(float));
	w->ay = calloc(n, sizeof(float));
	w->allow = calloc(n, sizeof(float));
	w->last_move = calloc(n, sizeof(uint32_t));
	w->peer = calloc(n, sizeof(*w->peer));
	w->clients = malloc((size_t)n * sizeof(uint32_t));
	w->client_pos = malloc((size_t)n * sizeof(uint32_t));
	w->moved = malloc((size_t)n * sizeof(uint32_t));
	w->moving = malloc((size_t)n * sizeof(uint32_t));
	w->msg_cap = 16384;
	w->msg = malloc(w->msg_cap);
	if (!w->msg || !w->es || !w->aoi || !w->ax || !w->ay || !w->allow || !w->last_move || !w->peer ||
	    !w->clients || !w->client_pos || !w->moved || !w->moving) {
		int e = errno ? errno : ENOMEM;

		wg_world_destroy(w);
		errno = e;
		return NULL;
	}
	return w;
}

void
wg_world_destroy(struct wg_world *w)
{
	uint32_t i;

	if (w == NULL)
		return;
	if (w->peer)
		for (i = 0; i < w->conf.capacity; i++)
			wg_sync_peer_destroy(w->peer[i]);
	wg_aoi_destroy(w->aoi);
	wg_entity_store_destroy(w->es);
	free(w->ax);
	free(w->ay);
	free(w->allow);
	free(w->last_move);
	free(w->peer);
	free(w->clients);
	free(w->client_pos);
	free(w->moved);
	free(w->moving);
	free(w->vis);
	free(w->items);
	free(w->msg);
	free(w);
}

static int
where_ok(const struct wg_world *w, float x, float y)
{
	if (!isfinite(x) || !isfinite(y))
		return -EINVAL;
	if (x < w->conf.min_x || y < w->conf.min_y || x > w->conf.min_x + w->conf.width ||
	    y > w->conf.min_y + w->conf.height)
		return -EDOM;
	return 0;
}

int
wg_world_spawn(struct wg_world *w, float x, float y, float yaw, float radius,
	       uint64_t session, wg_eid_t *out)
{
	struct wg_sync_peer *p = NULL;
	uint32_t slot;
	wg_eid_t eid;
	int rc;

	rc = where_ok(w, x, y);
	if (rc != 0)
		return rc;
	if (!isfinite(yaw) || isnan(radius))
		return -EINVAL;
	if (radius < 0)
		radius = w->conf.view_radius;
	if (session != 0) {
		struct wg_sync_conf sc = {
			.frames = w->conf.sync_frames,
			.nfields = w->conf.nfields,
			.budget = w->conf.sync_budget,
			.view_radius = radius,
		};

		p = wg_sync_peer_create(&sc);
		if (p == NULL)
			return -errno;
	}
	rc = wg_entity_spawn(w->es, session, &eid);
	if (rc != 0)
		goto err;
	slot = eid & WG_ENT_IDX_MASK;
	rc = wg_aoi_insert(w->aoi, slot, x, y, radius);
	if (rc != 0) {
		/* a slot in limbo is never handed out, so this is ENOMEM */
		wg_entity_despawn(w->es, eid);
		goto err;
	}
	wg_entity_set_pos(w->es, slot, x, y);
	wg_entity_set_yaw(w->es, slot, yaw);
	w->ax[slot] = x;
	w->ay[slot] = y;
	/* as if it had moved in the last tick: the first move gets one tick */
	w->last_move[slot] = w->tick;
	w->allow[slot] = -1;
	w->peer[slot] = p;
	if (p != NULL) {
		w->client_pos[slot] = w->nclients;
		w->clients[w->nclients++] = slot;
	}
	*out = eid;
	return 0;
err:
	wg_sync_peer_destroy(p);
	return rc;
}

int
wg_world_despawn(struct wg_world *w, wg_eid_t eid)
{
	uint32_t slot = wg_entity_slot(w->es, eid);
	int rc;

	if (slot == WG_ENT_NO_SLOT)
		return -ENOENT;
	rc = wg_aoi_remove(w->aoi, slot);
	if (rc != 0)
		return rc;
	wg_entity_despawn(w->es, eid);
	if (w->peer[slot] != NULL) {
		uint32_t pos = w->client_pos[slot], last = w->clients[--w->nclients];

		w->clients[pos] = last;
		w->client_pos[last] = pos;
		wg_sync_peer_destroy(w->peer[slot]);
		w->peer[slot] = NULL;
	}
	return 0;
}

int
wg_world_move(struct wg_world *w, wg_eid_t eid, float x, float y, float yaw)
{
	uint32_t slot = wg_entity_slot(w->es, eid), now = w->tick + 1;
	double dx, dy;
	int rc;

	if (slot == WG_ENT_NO_SLOT) {
		w->st.rejected_unknown++;
		return -ENOENT;
	}
	rc = where_ok(w, x, y);
	if (rc == 0 && !isfinite(yaw))
		rc = -EINVAL;
	if (rc != 0) {
		if (rc == -EINVAL)
			w->st.rejected_invalid++;
		else
			w->st.rejected_bounds++;
		return rc;
	}
	if (w->last_move[slot] != now || w->allow[slot] < 0) {
		/* first move of this tick: credit the idle ticks, bounded */
		uint32_t idle = now - w->last_move[slot];

		if (idle == 0)
			idle = 1;
		if (idle > w->conf.move_slack)
			idle = w->conf.move_slack;
		w->allow[slot] = w->conf.max_speed * (float)idle;
	}
	dx = (double)x - w->ax[slot];
	dy = (double)y - w->ay[slot];
	/* a hair of tolerance so a client moving exactly at the limit in
	 * float arithmetic is not called a cheater */
	if (sqrt(dx * dx + dy * dy) > w->allow[slot] * (1 + 1e-5) + 1e-4) {
		w->st.rejected_speed++;
		return -ERANGE;
	}
	rc = wg_aoi_move(w->aoi, slot, x, y);
	if (rc != 0)
		return rc;
	wg_entity_set_pos(w->es, slot, x, y);
	wg_entity_set_yaw(w->es, slot, yaw);
	if (w->last_move[slot] != now)
		w->moved[w->nmoved++] = slot;
	w->last_move[slot] = now;
	w->st.moves++;
	return 0;
}

int
wg_world_move_msg(struct wg_world *w, wg_eid_t eid, const uint8_t *buf, size_t len)
{
	float x, y, yaw;
	uint32_t seq;

	if (wg_sync_move_parse(buf, len, &seq, &x, &y, &yaw) != 0) {
		w->st.bad_msgs++;
		return -EBADMSG;
	}
	return wg_world_move(w, eid, x, y, yaw);
}

int
wg_world_set_field(struct wg_world *w, wg_eid_t eid, uint32_t f, int32_t v)
{
	uint32_t slot = wg_entity_slot(w->es, eid);

	if (slot == WG_ENT_NO_SLOT)
		return -ENOENT;
	if (f >= w->conf.nfields)
		return -EINVAL;
	wg_entity_set_field(w->es, slot, f, v);
	return 0;
}

int
wg_world_ack(struct wg_world *w, wg_eid_t eid, const uint8_t *buf, size_t len)
{
	uint32_t slot = wg_entity_slot(w->es, eid), tick;

	if (slot == WG_ENT_NO_SLOT || w->peer[slot] == NULL)
		return -ENOENT;
	if (wg_sync_ack_parse(buf, len, &tick) != 0) {
		w->st.bad_msgs++;
		return -EBADMSG;
	}
	w->st.acks++;
	return wg_sync_peer_ack(w->peer[slot], tick);
}

static int
item_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct wg_sync_item *)a)->id, y = ((const struct wg_sync_item *)b)->id;

	return (x > y) - (x < y);
}

static void
quantise(const struct wg_world *w, uint32_t slot, struct wg_sync_state *s)
{
	const struct wg_entity_store *es = w->es;
	double sc = w->conf.pos_scale;
	uint32_t f;

	memset(s, 0, sizeof(*s));
	s->x = wg_sync_quant(es->x[slot], w->conf.min_x, sc);
	s->y = wg_sync_quant(es->y[slot], w->conf.min_y, sc);
	s->vx = wg_sync_quant(es->vx[slot], 0, sc);
	s->vy = wg_sync_quant(es->vy[slot], 0, sc);
	s->yaw = wg_sync_quant_yaw(es->yaw[slot]);
	for (f = 0; f < w->conf.nfields; f++)
		s->field[f] = wg_entity_field(es, slot, f);
}

/* The client's view (visible entities and its own avatar) as sync items. */
static int
client_items(struct wg_world *w, uint32_t c, uint32_t *n)
{
	struct wg_entity_store *es = w->es;
	uint32_t i, k;
	int cnt;

	for (;;) {
		cnt = wg_aoi_visible(w->aoi, c, w->vis, w->vis_cap);
		if (cnt < 0)
			return cnt;
		if ((uint32_t)cnt < w->vis_cap)
			break;
		/* room for the count plus the avatar itself */
		k = (uint32_t)cnt * 2 + 64;
		free(w->vis);
		w->vis = malloc(k * sizeof(uint32_t));
		if (w->vis == NULL) {
			w->vis_cap = 0;
			return -ENOMEM;
		}
		w->vis_cap = k;
	}
	w->vis[cnt++] = c;
	if ((uint32_t)cnt > w->items_cap) {
		struct wg_sync_item *it = realloc(w->items, (size_t)w->vis_cap * sizeof(*it));

		if (it == NULL)
			return -ENOMEM;
		w->items = it;
		w->items_cap = w->vis_cap;
	}
	for (i = 0; i < (uint32_t)cnt; i++) {
		uint32_t s = w->vis[i];
		struct wg_sync_item *it = &w->items[i];

		it->id = wg_entity_eid(es, s);
		it->dist = hypotf(es->x[s] - es->x[c], es->y[s] - es->y[c]);
		quantise(w, s, &it->s);
	}
	if (cnt > 1)
		qsort(w->items, (size_t)cnt, sizeof(*w->items), item_cmp);
	*n = (uint32_t)cnt;
	return 0;
}

static int
sync_client(struct wg_world *w, uint32_t c, uint32_t tick)
{
	struct wg_sync_peer *p = w->peer[c];
	size_t len;
	uint32_t n;
	int rc;

	rc = client_items(w, c, &n);
	if (rc != 0)
		return rc;
	for (;;) {
		rc = wg_sync_encode(p, tick, w->items, n, w->msg, w->msg_cap, &len);
		if (rc != -ENOBUFS)
			break;
		free(w->msg);
		w->msg_cap = w->msg_cap ? w->msg_cap * 2 : 4096;
		w->msg = malloc(w->msg_cap);
		if (w->msg == NULL) {
			w->msg_cap = 0;
			return -ENOMEM;
		}
	}
	if (rc != 0)
		return rc;
	w->st.sync_msgs++;
	w->st.sync_bytes += len;
	if (w->conf.out(w->conf.out_arg, w->es->tag[c], wg_entity_eid(w->es, c), w->msg, len) != 0)
		w->st.out_errors++;
	return 0;
}

int
wg_world_tick(struct wg_world *w)
{
	struct wg_entity_store *es = w->es;
	const struct wg_aoi_event *ev;
	uint32_t now = w->tick + 1, i, *t;
	int n;

	n = wg_aoi_tick(w->aoi, &ev);
	if (n < 0)
		return n;
	w->st.aoi_events += (uint32_t)n;
	/* velocity: this tick's displacement; entities that stopped get 0 */
	for (i = 0; i < w->nmoving; i++) {
		uint32_t s = w->moving[i];

		if (es->dense_pos[s] != WG_ENT_NO_SLOT && w->last_move[s] != now &&
		    (es->vx[s] != 0 || es->vy[s] != 0))
			wg_entity_set_vel(es, s, 0, 0);
	}
	for (i = 0; i < w->nmoved; i++) {
		uint32_t s = w->moved[i];

		if (es->dense_pos[s] == WG_ENT_NO_SLOT)
			continue;
		wg_entity_set_vel(es, s, es->x[s] - w->ax[s], es->y[s] - w->ay[s]);
		w->ax[s] = es->x[s];
		w->ay[s] = es->y[s];
	}
	t = w->moving;
	w->moving = w->moved;
	w->nmoving = w->nmoved;
	w->moved = t;
	w->nmoved = 0;

	/* a client whose message could not be built just misses this tick,
	 * like a lost packet; the next delta covers it */
	for (i = 0; i < w->nclients; i++)
		if (sync_client(w, w->clients[i], now) != 0)
			w->st.out_errors++;
	wg_entity_commit(es);
	w->tick = now;
	w->st.ticks++;
	return 0;
}

uint32_t
wg_world_tick_no(const struct wg_world *w)
{
	return w->tick;
}

struct wg_entity_store *
wg_world_store(struct wg_world *w)
{
	return w->es;
}

struct wg_aoi *
wg_world_aoi(struct wg_world *w)
{
	return w->aoi;
}

struct wg_sync_peer *
wg_world_peer(struct wg_world *w, wg_eid_t eid)
{
	uint32_t slot = wg_entity_slot(w->es, eid);

	return slot == WG_ENT_NO_SLOT ? NULL : w->peer[slot];
}

void
wg_world_stats(const struct wg_world *w, struct wg_world_stats *st)
{
	*st = w->st;
	st->entities = w->es->count;
	st->clients = w->nclients;
}

void
wg_world_dump(FILE *f, const struct wg_world *w)
{
	fprintf(f, "world: tick %u entities %u clients %u moves %llu rejected invalid %llu "
		"bounds %llu speed %llu unknown %llu sync %llu msgs %llu bytes\n",
		w->tick, w->es->count, w->nclients, (unsigned long long)w->st.moves,
		(unsigned long long)w->st.rejected_invalid,
		(unsigned long long)w->st.rejected_bounds,
		(unsigned long long)w->st.rejected_speed,
		(unsigned long long)w->st.rejected_unknown,
		(unsigned long long)w->st.sync_msgs, (unsigned long long)w->st.sync_bytes);
	wg_entity_store_dump(f, w->es);
	wg_aoi_dump(f, w->aoi);
}
