/* SPDX-License-Identifier: BSD-3-Clause
 * sync_test: a world with N clients and M NPCs, sync messages and acks
 * through seeded lossy channels (loss, duplication, reordering by random
 * delay). Every snapshot a client applies must equal, entity for entity,
 * what the server recorded for that tick; after the run, a few clean ticks
 * must bring every client's world to the server's within quantisation.
 * Also measures bytes per client per second against full snapshots (the
 * same view encoded from the empty baseline every tick). Exit 1 on any
 * mismatch.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aoi.h"
#include "entity.h"
#include "sync.h"
#include "world.h"

#define TICK_HZ 20

struct pkt {
	uint32_t due;
	uint32_t len;
	uint8_t *data;
	struct pkt *next;
};

struct chan {
	struct pkt *head;
};

struct client {
	wg_eid_t eid;
	struct wg_sync_decoder *dec;
	struct wg_sync_peer *full;  /* never acked: measures full snapshots */
	struct chan down, up;
	float dir;
	uint64_t applied, stale, no_base;
};

struct sim {
	uint64_t rng;
	double loss, dup;
	uint32_t delay;
	uint32_t now;
	struct client *cl;
	uint32_t ncl;
	struct wg_world *w;
	uint64_t full_bytes;
	uint8_t *buf;
	size_t buf_cap;
	struct wg_sync_item *items;
};

static uint64_t
rnd(struct sim *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dull;
}

static double
unif(struct sim *s)
{
	return (rnd(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void
die(const char *what, int err)
{
	fprintf(stderr, "sync_test: %s: %s\n", what, strerror(err));
	exit(2);
}

/* Queue a copy with loss, duplication and a random delay (reordering). */
static void
chan_send(struct sim *s, struct chan *c, const uint8_t *data, size_t len)
{
	int copies = unif(s) < s->dup ? 2 : 1, i;

	for (i = 0; i < copies; i++) {
		struct pkt *p;

		if (unif(s) < s->loss)
			continue;
		p = malloc(sizeof(*p));
		if (p == NULL || (p->data = malloc(len ? len : 1)) == NULL)
			die("malloc", ENOMEM);
		memcpy(p->data, data, len);
		p->len = (uint32_t)len;
		p->due = s->now + (s->delay ? (uint32_t)(rnd(s) % (s->delay + 1)) : 0);
		p->next = c->head;
		c->head = p;
	}
}

/* Next packet due by now, any order among those due (reordering). */
static struct pkt *
chan_recv(struct sim *s, struct chan *c)
{
	struct pkt **pp;

	for (pp = &c->head; *pp; pp = &(*pp)->next)
		if ((*pp)->due <= s->now) {
			struct pkt *p = *pp;

			*pp = p->next;
			return p;
		}
	return NULL;
}

static void
chan_free(struct chan *c)
{
	while (c->head) {
		struct pkt *p = c->head;

		c->head = p->next;
		free(p->data);
		free(p);
	}
}

static struct client *
find_client(struct sim *s, wg_eid_t eid)
{
	uint32_t i;

	for (i = 0; i < s->ncl; i++)
		if (s->cl[i].eid == eid)
			return &s->cl[i];
	return NULL;
}

/* world output: the StateDelta goes into the client's lossy channel; the
 * same view from the empty baseline gives the full-snapshot size */
static int
out(void *arg, uint64_t session, wg_eid_t eid, const uint8_t *msg, size_t len)
{
	struct sim *s = arg;
	struct client *c = find_client(s, eid);
	const struct wg_sync_frame *f;
	size_t flen;
	uint32_t i;
	int rc;

	(void)session;
	if (c == NULL)
		return -ENOENT;
	chan_send(s, &c->down, msg, len);
	f = wg_sync_peer_frame(wg_world_peer(s->w, eid), s->now);
	if (f == NULL)
		return -EPROTO;
	for (i = 0; i < f->n; i++) {
		s->items[i].id = f->e[i].id;
		s->items[i].dist = 0;
		s->items[i].s = f->e[i].s;
	}
	rc = wg_sync_encode(c->full, s->now, s->items, f->n, s->buf, s->buf_cap, &flen);
	if (rc != 0)
		die("full encode", -rc);
	s->full_bytes += flen;
	return 0;
}

static bool
same_frame(const struct wg_sync_entry *a, uint32_t na, const struct wg_sync_frame *f)
{
	uint32_t i;

	if (f == NULL || na != f->n)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].id != f->e[i].id || memcmp(&a[i].s, &f->e[i].s, sizeof(a[i].s)) != 0)
			return false;
	return true;
}

/* Deliver what is due: clients decode, check against the server record,
 * and ack; the server takes the acks. Returns mismatches. */
static int
deliver(struct sim *s)
{
	uint8_t ack[16];
	int bad = 0;
	uint32_t i;

	for (i = 0; i < s->ncl; i++) {
		struct client *c = &s->cl[i];
		struct pkt *p;

		while ((p = chan_recv(s, &c->down)) != NULL) {
			uint32_t tick, n;
			int rc = wg_sync_decode(c->dec, p->data, p->len, &tick);

			free(p->data);
			free(p);
			if (rc == -EALREADY) {
				c->stale++;
				continue;
			}
			if (rc == -ENOENT) {
				c->no_base++;
				continue;
			}
			if (rc != 0) {
				fprintf(stderr, "client %u: decode: %s\n", i, strerror(-rc));
				bad++;
				continue;
			}
			c->applied++;
			{
				const struct wg_sync_entry *v = wg_sync_decoder_view(c->dec, &n, NULL);

				if (!same_frame(v, n, wg_sync_peer_frame(wg_world_peer(s->w, c->eid),
									 tick))) {
					fprintf(stderr, "client %u: snapshot %u differs from the "
						"server's record\n", i, tick);
					bad++;
				}
			}
			rc = wg_sync_ack_pack(tick, ack, sizeof(ack));
			if (rc < 0)
				die("ack pack", -rc);
			chan_send(s, &c->up, ack, (size_t)rc);
		}
		while ((p = chan_recv(s, &c->up)) != NULL) {
			wg_world_ack(s->w, c->eid, p->data, p->len);
			free(p->data);
			free(p);
		}
	}
	return bad;
}

/* The client's world against the server's truth, within quantisation. */
static int
verify(struct sim *s, float scale, uint32_t nfields)
{
	struct wg_entity_store *es = wg_world_store(s->w);
	uint32_t *vis = malloc(es->cap * sizeof(uint32_t)), i, j, n;
	double qpos = 0.5 / scale + 1e-3, qyaw = M_PI / WG_SYNC_YAW_ONE_TURN + 1e-6;
	int bad = 0;

	for (i = 0; i < s->ncl; i++) {
		struct client *c = &s->cl[i];
		uint32_t slot = c->eid & WG_ENT_IDX_MASK;
		int cnt = wg_aoi_visible(wg_world_aoi(s->w), slot, vis, es->cap - 1);

		if (cnt < 0)
			die("visible", -cnt);
		vis[cnt++] = slot;
		wg_sync_decoder_view(c->dec, &n, NULL);
		if ((uint32_t)cnt != n) {
			fprintf(stderr, "client %u knows %u entities, server says %d\n", i, n, cnt);
			bad++;
			continue;
		}
		for (j = 0; j < (uint32_t)cnt; j++) {
			uint32_t k = vis[j], f;
			const struct wg_sync_entry *e = wg_sync_decoder_find(c->dec,
									     wg_entity_eid(es, k));
			double dyaw;

			if (e == NULL) {
				fprintf(stderr, "client %u misses entity %#x\n", i, wg_entity_eid(es, k));
				bad++;
				break;
			}
			dyaw = fabs(remainder(wg_sync_dequant_yaw(e->s.yaw) - es->yaw[k], 2 * M_PI));
			if (fabs(wg_sync_dequant(e->s.x, 0, scale) - es->x[k]) > qpos ||
			    fabs(wg_sync_dequant(e->s.y, 0, scale) - es->y[k]) > qpos ||
			    fabs(wg_sync_dequant(e->s.vx, 0, scale) - es->vx[k]) > qpos ||
			    fabs(wg_sync_dequant(e->s.vy, 0, scale) - es->vy[k]) > qpos ||
			    dyaw > qyaw) {
				fprintf(stderr, "client %u: entity %#x at (%.4f,%.4f) yaw %.5f, "
					"server (%.4f,%.4f) yaw %.5f\n", i, e->id,
					wg_sync_dequant(e->s.x, 0, scale),
					wg_sync_dequant(e->s.y, 0, scale),
					wg_sync_dequant_yaw(e->s.yaw), es->x[k], es->y[k], es->yaw[k]);
				bad++;
				break;
			}
			for (f = 0; f < nfields; f++)
				if (e->s.field[f] != wg_entity_field(es, k, f)) {
					fprintf(stderr, "client %u: entity %#x field %u\n", i, e->id, f);
					bad++;
				}
		}
	}
	free(vis);
	return bad;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: sync_test [-c clients] [-n npcs] [-t ticks] [-l loss] [-d dup]\n"
		"                 [-r max_delay_ticks] [-b budget_bytes] [-S seed] [-q]\n");
}

int
main(int argc, char **argv)
{
	uint32_t ncl = 50, npc = 2000, ticks = 200, settle = 40, budget = 0, i, t;
	double loss = 0.2, dup = 0.05;
	const float W = 2000, R = 200, SPEED = 10, SCALE = 16;
	const uint32_t NF = 2;
	struct wg_world_stats ws;
	struct sim s = { 0 };
	uint32_t delay = 3;
	wg_eid_t *npcs;
	float *npc_dir;
	uint64_t active_bytes = 0, active_full = 0;
	uint64_t seed = 1, applied = 0, stale = 0, nobase = 0, deferred = 0;
	int opt, bad = 0;
	bool quiet = false;

	while ((opt = getopt(argc, argv, "c:n:t:l:d:r:b:S:qh")) != -1) {
		switch (opt) {
		case 'c': ncl = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': npc = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': ticks = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': loss = strtod(optarg, NULL); break;
		case 'd': dup = strtod(optarg, NULL); break;
		case 'r': delay = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': budget = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'q': quiet = true; break;
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (ncl == 0 || !(loss >= 0 && loss < 1) || !(dup >= 0 && dup <= 1)) {
		usage();
		return 2;
	}
	{
		struct wg_world_conf wc = {
			.min_x = 0, .min_y = 0, .width = W, .height = W,
			.view_radius = R, .max_speed = SPEED, .capacity = ncl + npc + 64,
			.nfields = NF, .pos_scale = SCALE, .sync_frames = 32,
			.sync_budget = budget, .out = out, .out_arg = &s,
		};

		s.w = wg_world_create(&wc);
		if (s.w == NULL)
			die("world", errno);
	}
	s.rng = seed * 0x9e3779b97f4a7c15ull + 7;
	s.loss = loss;
	s.dup = dup;
	s.delay = delay;
	s.ncl = ncl;
	s.cl = calloc(ncl, sizeof(*s.cl));
	s.buf_cap = 1 << 20;
	s.buf = malloc(s.buf_cap);
	s.items = malloc((ncl + npc + 64) * sizeof(*s.items));
	npcs = calloc(npc, sizeof(*npcs));
	npc_dir = calloc(npc, sizeof(*npc_dir));
	if (!s.cl || !s.buf || !s.items || !npcs || !npc_dir)
		die("malloc", ENOMEM);
	for (i = 0; i < npc; i++) {
		int rc = wg_world_spawn(s.w, (float)(W * unif(&s)), (float)(W * unif(&s)),
					(float)(2 * M_PI * unif(&s)), R, 0, &npcs[i]);

		if (rc != 0)
			die("spawn", -rc);
		npc_dir[i] = (float)(2 * M_PI * unif(&s));
	}
	for (i = 0; i < ncl; i++) {
		struct wg_sync_conf fc = { .frames = 32, .nfields = NF, .view_radius = R };
		int rc = wg_world_spawn(s.w, (float)(W * unif(&s)), (float)(W * unif(&s)), 0, R,
					1000 + i, &s.cl[i].eid);

		if (rc != 0)
			die("spawn client", -rc);
		s.cl[i].dec = wg_sync_decoder_create(32, NF, 0);
		s.cl[i].full = wg_sync_peer_create(&fc);
		if (s.cl[i].dec == NULL || s.cl[i].full == NULL)
			die("client", errno);
		s.cl[i].dir = (float)(2 * M_PI * unif(&s));
	}

	for (t = 1; t <= ticks + settle; t++) {
		bool clean = t > ticks;
		struct wg_entity_store *es = wg_world_store(s.w);

		s.now = t;
		if (clean) {
			s.loss = 0;
			s.dup = 0;
			s.delay = 0;
		} else {
			/* clients walk; 2% of the time one tries to cheat */
			for (i = 0; i < ncl; i++) {
				struct client *c = &s.cl[i];
				uint32_t k = c->eid & WG_ENT_IDX_MASK;
				float x = es->x[k], y = es->y[k];

				if (unif(&s) < 0.02) {
					int rc = wg_world_move(s.w, c->eid, x + 5 * SPEED, y, 0);

					if (rc != -ERANGE && rc != -EDOM) {
						fprintf(stderr, "a teleport was not rejected (%d)\n", rc);
						bad++;
					}
					continue;
				}
				c->dir += (float)(0.6 * (unif(&s) - 0.5));
				x = fminf(fmaxf(x + SPEED * 0.9f * cosf(c->dir), 0), W);
				y = fminf(fmaxf(y + SPEED * 0.9f * sinf(c->dir), 0), W);
				if (x == 0 || y == 0 || x == W || y == W)
					c->dir += (float)M_PI;
				{
					int rc = wg_world_move(s.w, c->eid, x, y, c->dir);

					if (rc != 0) {
						fprintf(stderr, "a legal move was rejected: %s\n",
							strerror(-rc));
						bad++;
					}
				}
			}
			/* a fixed tenth of the NPCs walk (the standard AOI scenario),
			 * some change a field, a few respawn */
			for (i = 0; i < npc; i++) {
				uint32_t k = npcs[i] & WG_ENT_IDX_MASK;

				if (i % 10 == 0) {
					float a = npc_dir[i] += (float)(0.3 * (unif(&s) - 0.5));
					float x = fminf(fmaxf(es->x[k] + SPEED * 0.5f * cosf(a), 0), W);
					float y = fminf(fmaxf(es->y[k] + SPEED * 0.5f * sinf(a), 0), W);

					if (x == 0 || y == 0 || x == W || y == W)
						npc_dir[i] += (float)M_PI;
					if (wg_world_move(s.w, npcs[i], x, y, a) != 0)
						bad++;
				}
				if (rnd(&s) % 200 == 0)
					wg_world_set_field(s.w, npcs[i], (uint32_t)(rnd(&s) % NF),
							   (int32_t)(rnd(&s) % 1000));
				if (rnd(&s) % 2000 == 0) {
					wg_world_despawn(s.w, npcs[i]);
					if (wg_world_spawn(s.w, (float)(W * unif(&s)), (float)(W * unif(&s)),
							   0, R, 0, &npcs[i]) != 0)
						bad++;
				}
			}
		}
		if (wg_world_tick(s.w) != 0)
			die("tick", ENOMEM);
		bad += deliver(&s);
		if (t == ticks) {
			/* bandwidth is measured over the moving phase only */
			wg_world_stats(s.w, &ws);
			active_bytes = ws.sync_bytes;
			active_full = s.full_bytes;
		}
	}
	bad += verify(&s, SCALE, NF);
	wg_world_stats(s.w, &ws);
	for (i = 0; i < ncl; i++) {
		struct wg_sync_peer_stats ps;

		wg_sync_peer_stats(wg_world_peer(s.w, s.cl[i].eid), &ps);
		applied += s.cl[i].applied;
		stale += s.cl[i].stale;
		nobase += s.cl[i].no_base;
		deferred += ps.deferred;
	}
	{
		double secs = (double)ticks / TICK_HZ;
		double per = active_bytes / (double)ncl / secs;
		double full = active_full / (double)ncl / secs;

		if (!quiet || bad)
			printf("sync_test clients=%u npcs=%u ticks=%u+%u loss=%.0f%% dup=%.0f%% "
			       "delay<=%u budget=%u seed=%llu\n"
			       "  bytes/client/s: delta %.0f  full snapshots %.0f  (full/delta %.1fx)\n"
			       "  snapshots applied %llu, stale/duplicate %llu, baseline gone %llu; "
			       "deferred by budget %llu\n"
			       "  moves %llu, rejected speed %llu bounds %llu\n"
			       "  %s\n", ncl, npc, ticks, settle, loss * 100, dup * 100, delay, budget,
			       (unsigned long long)seed, per, full, full / per,
			       (unsigned long long)applied, (unsigned long long)stale,
			       (unsigned long long)nobase, (unsigned long long)deferred,
			       (unsigned long long)ws.moves, (unsigned long long)ws.rejected_speed,
			       (unsigned long long)ws.rejected_bounds,
			       bad ? "MISMATCH" : "every client's world matches the server's");
	}
	for (i = 0; i < ncl; i++) {
		chan_free(&s.cl[i].down);
		chan_free(&s.cl[i].up);
		wg_sync_decoder_destroy(s.cl[i].dec);
		wg_sync_peer_destroy(s.cl[i].full);
	}
	wg_world_destroy(s.w);
	free(s.cl);
	free(s.buf);
	free(s.items);
	free(npcs);
	free(npc_dir);
	return bad ? 1 : 0;
}
