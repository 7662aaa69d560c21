/* SPDX-License-Identifier: BSD-3-Clause
 * Server side of the delta sync: per-client snapshot ring, prioritised
 * delta against the acked baseline, byte budget, StateDelta packing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "sync_impl.h"
#include "wg_sync.pb-c.h"

enum cand_kind { C_LEAVE, C_ENTER, C_UPDATE };

struct cand {
	uint32_t id;
	uint32_t kind;
	uint32_t bi, ii;       /* index in the baseline / in the items */
	uint32_t mask;
	uint32_t mi;           /* index of its submessage in ent/upd/lv */
	uint32_t size;         /* bytes it adds to the StateDelta */
	double score;
};

struct wg_sync_peer {
	struct wg_sync_conf conf;
	struct wg_sync_frame *ring;   /* slot tick % frames */
	struct wg_sync_frame next;    /* built here, swapped into the ring */
	uint32_t acked;
	uint32_t last_tick;
	struct wg_sync_peer_stats st;
	uint32_t cap;                 /* candidates the scratch below holds */
	struct cand *cand;
	uint8_t *chosen_base;         /* per baseline entry: 0 keep, 1 leave, 2 update */
	uint8_t *chosen_item;         /* per item: 1 enter sent */
	Wg__EntityEnter *ent;
	Wg__EntityUpdate *upd;
	Wg__EntityLeave *lv;
	Wg__EntityEnter **pent;
	Wg__EntityUpdate **pupd;
	Wg__EntityLeave **plv;
	int32_t *fields;              /* cap * nfields */
};

static const struct wg_sync_frame empty_frame;

struct wg_sync_peer *
wg_sync_peer_create(const struct wg_sync_conf *conf)
{
	struct wg_sync_peer *p;

	if (conf == NULL || conf->frames < 2 || conf->frames > 1024 ||
	    conf->nfields > WG_SYNC_MAX_FIELDS || !(conf->view_radius >= 0)) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->conf = *conf;
	if (p->conf.max_entities == 0)
		p->conf.max_entities = 65536;
	if (!(p->conf.view_radius > 0))
		p->conf.view_radius = 1;
	p->ring = calloc(conf->frames, sizeof(*p->ring));
	if (p->ring == NULL) {
		free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

static void
scratch_free(struct wg_sync_peer *p)
{
	free(p->cand);
	free(p->chosen_base);
	free(p->chosen_item);
	free(p->ent);
	free(p->upd);
	free(p->lv);
	free(p->pent);
	free(p->pupd);
	free(p->plv);
	free(p->fields);
}

void
wg_sync_peer_destroy(struct wg_sync_peer *p)
{
	uint32_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->conf.frames; i++)
		free(p->ring[i].e);
	free(p->ring);
	free(p->next.e);
	scratch_free(p);
	free(p);
}

static int
scratch_reserve(struct wg_sync_peer *p, uint32_t n)
{
	uint32_t cap = p->cap ? p->cap : 64;
	size_t nf = p->conf.nfields ? p->conf.nfields : 1;

	if (n <= p->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	scratch_free(p);
	p->cap = 0;
	p->cand = malloc(cap * sizeof(*p->cand));
	p->chosen_base = malloc(cap);
	p->chosen_item = malloc(cap);
	p->ent = malloc(cap * sizeof(*p->ent));
	p->upd = malloc(cap * sizeof(*p->upd));
	p->lv = malloc(cap * sizeof(*p->lv));
	p->pent = malloc(cap * sizeof(*p->pent));
	p->pupd = malloc(cap * sizeof(*p->pupd));
	p->plv = malloc(cap * sizeof(*p->plv));
	p->fields = malloc(cap * nf * sizeof(int32_t));
	if (!p->cand || !p->chosen_base || !p->chosen_item || !p->ent || !p->upd || !p->lv ||
	    !p->pent || !p->pupd || !p->plv || !p->fields) {
		scratch_free(p);
		p->cand = NULL;
		p->chosen_base = p->chosen_item = NULL;
		p->ent = NULL;
		p->upd = NULL;
		p->lv = NULL;
		p->pent = NULL;
		p->pupd = NULL;
		p->plv = NULL;
		p->fields = NULL;
		return -ENOMEM;
	}
	p->cap = cap;
	return 0;
}

int
wg_sync_frame_reserve(struct wg_sync_frame *f, uint32_t n)
{
	struct wg_sync_entry *e;
	uint32_t cap = f->cap ? f->cap : 16;

	if (n <= f->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	e = realloc(f->e, cap * sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	f->e = e;
	f->cap = cap;
	return 0;
}

static uint32_t
state_diff(const struct wg_sync_state *a, const struct wg_sync_state *b, uint32_t nfields)
{
	uint32_t m = 0, i;

	if (a->x != b->x || a->y != b->y)
		m |= WG_SYNC_M_POS;
	if (a->vx != b->vx || a->vy != b->vy)
		m |= WG_SYNC_M_VEL;
	if (a->yaw != b->yaw)
		m |= WG_SYNC_M_YAW;
	for (i = 0; i < nfields; i++)
		if (a->field[i] != b->field[i])
			m |= WG_SYNC_M_FIELD(i);
	return m;
}

static uint32_t
varint_len(uint64_t v)
{
	uint32_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* bytes a submessage adds to its repeated field: tag, length, body */
static uint32_t
sub_size(const ProtobufCMessage *m)
{
	size_t s = protobuf_c_message_get_packed_size(m);

	return 1 + varint_len(s) + (uint32_t)s;
}

static int
cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static void
build_cand(struct wg_sync_peer *p, uint32_t ci, const struct wg_sync_frame *base,
	   const struct wg_sync_item *items)
{
	struct cand *c = &p->cand[ci];
	uint32_t nf = p->conf.nfields, f, k = 0;
	int32_t *fl = &p->fields[(size_t)ci * (nf ? nf : 1)];

	c->mi = ci;
	switch (c->kind) {
	case C_LEAVE: {
		Wg__EntityLeave *m = &p->lv[ci];

		wg__entity_leave__init(m);
		m->id = c->id;
		c->size = sub_size(&m->base);
		break;
	}
	case C_ENTER: {
		Wg__EntityEnter *m = &p->ent[ci];
		const struct wg_sync_state *s = &items[c->ii].s;

		wg__entity_enter__init(m);
		m->id = c->id;
		m->x = s->x;
		m->y = s->y;
		m->vx = s->vx;
		m->vy = s->vy;
		m->yaw = s->yaw;
		for (f = 0; f < nf; f++)
			fl[f] = s->field[f];
		m->n_fields = nf;
		m->fields = fl;
		c->size = sub_size(&m->base);
		break;
	}
	default: {
		Wg__EntityUpdate *m = &p->upd[ci];
		const struct wg_sync_state *s = &items[c->ii].s, *o = &base->e[c->bi].s;

		wg__entity_update__init(m);
		m->id = c->id;
		m->mask = c->mask;
		if (c->mask & WG_SYNC_M_POS) {
			m->dx = s->x - o->x;
			m->dy = s->y - o->y;
		}
		if (c->mask & WG_SYNC_M_VEL) {
			m->vx = s->vx;
			m->vy = s->vy;
		}
		if (c->mask & WG_SYNC_M_YAW)
			m->yaw = s->yaw;
		for (f = 0; f < nf; f++)
			if (c->mask & WG_SYNC_M_FIELD(f))
				fl[k++] = s->field[f];
		m->n_fields = k;
		m->fields = fl;
		c->size = sub_size(&m->base);
	}
	}
}

static bool
items_ok(const struct wg_sync_conf *conf, const struct wg_sync_item *items, uint32_t n)
{
	uint32_t i, f;

	if (n > conf->max_entities)
		return false;
	for (i = 0; i < n; i++) {
		const struct wg_sync_state *s = &items[i].s;

		if (items[i].id == 0 || (i > 0 && items[i].id <= items[i - 1].id) ||
		    s->yaw >= WG_SYNC_YAW_ONE_TURN ||
		    s->x > WG_SYNC_Q_LIMIT || s->x < -WG_SYNC_Q_LIMIT ||
		    s->y > WG_SYNC_Q_LIMIT || s->y < -WG_SYNC_Q_LIMIT)
			return false;
		for (f = conf->nfields; f < WG_SYNC_MAX_FIELDS; f++)
			if (s->field[f] != 0)
				return false;
	}
	return true;
}

int
wg_sync_encode(struct wg_sync_peer *p, uint32_t tick, const struct wg_sync_item *items,
	       uint32_t n, uint8_t *buf, size_t cap, size_t *len)
{
	const struct wg_sync_frame *base = &empty_frame;
	Wg__StateDelta msg = WG__STATE_DELTA__INIT;
	uint32_t K = p->conf.frames, B = p->acked, i, j, nc = 0, total;
	struct wg_sync_frame *nx = &p->next, t;
	double R = p->conf.view_radius;
	size_t sz;
	int rc;

	if (tick == 0 || tick <= p->last_tick || (n && items == NULL) || buf == NULL ||
	    len == NULL || !items_ok(&p->conf, items, n))
		return -EINVAL;
	if (B != 0 && tick - B < K && p->ring[B % K].tick == B)
		base = &p->ring[B % K];
	else
		B = 0;
	rc = scratch_reserve(p, base->n + n);
	if (rc == 0)
		rc = wg_sync_frame_reserve(nx, base->n + n);
	if (rc != 0)
		return rc;

	/* merge the baseline with what the client should see now */
	for (i = 0, j = 0; i < base->n || j < n;) {
		struct cand *c = &p->cand[nc];

		if (j == n || (i < base->n && base->e[i].id < items[j].id)) {
			*c = (struct cand){ .id = base->e[i].id, .kind = C_LEAVE, .bi = i,
					    .score = INFINITY };
			p->chosen_base[i++] = 0;
		} else if (i == base->n || items[j].id < base->e[i].id) {
			/* an entity coming into view outranks any stale update */
			*c = (struct cand){ .id = items[j].id, .kind = C_ENTER, .ii = j,
					    .score = (2.0 * K + 1) / (1 + items[j].dist / R) };
			p->chosen_item[j++] = 0;
		} else {
			uint32_t m = state_diff(&base->e[i].s, &items[j].s, p->conf.nfields);

			p->chosen_base[i] = 0;
			p->chosen_item[j] = 0;
			if (m == 0) {
				i++;
				j++;
				continue;
			}
			*c = (struct cand){ .id = items[j].id, .kind = C_UPDATE, .bi = i, .ii = j,
					    .mask = m,
					    .score = (double)(tick - base->e[i].sent_tick) /
						     (1 + items[j].dist / R) };
			i++;
			j++;
		}
		build_cand(p, nc, base, items);
		nc++;
	}
	if (nc > 1)
		qsort(p->cand, nc, sizeof(*p->cand), cand_cmp);

	/* spend the budget in priority order; the first change always goes so
	 * that a budget below one entity still makes progress */
	total = 2 + varint_len(tick) + (B ? 1 + varint_len(B) : 0);
	msg.tick = tick;
	msg.baseline = B;
	msg.enters = p->pent;
	msg.leaves = p->plv;
	msg.updates = p->pupd;
	for (i = 0; i < nc; i++) {
		struct cand *c = &p->cand[i];

		if (p->conf.budget && i > 0 && total + c->size > p->conf.budget) {
			p->st.deferred++;
			continue;
		}
		total += c->size;
		switch (c->kind) {
		case C_LEAVE:
			p->plv[msg.n_leaves++] = &p->lv[c->mi];
			p->chosen_base[c->bi] = 1;
			break;
		case C_ENTER:
			p->pent[msg.n_enters++] = &p->ent[c->mi];
			p->chosen_item[c->ii] = 1;
			break;
		default:
			p->pupd[msg.n_updates++] = &p->upd[c->mi];
			p->chosen_base[c->bi] = 2;
		}
	}
	sz = wg__state_delta__get_packed_size(&msg);
	if (sz > cap)
		return -ENOBUFS;
	wg__state_delta__pack(&msg, buf);
	*len = sz;

	/* record what the client holds once it applies this delta */
	nx->n = 0;
	for (i = 0, j = 0; i < base->n || j < n;) {
		if (j == n || (i < base->n && base->e[i].id < items[j].id)) {
			if (p->chosen_base[i] != 1)
				nx->e[nx->n++] = base->e[i];
			i++;
		} else if (i == base->n || items[j].id < base->e[i].id) {
			if (p->chosen_item[j])
				nx->e[nx->n++] = (struct wg_sync_entry){ items[j].id, tick, items[j].s };
			j++;
		} else {
			if (p->chosen_base[i] == 2)
				nx->e[nx->n++] = (struct wg_sync_entry){ items[j].id, tick, items[j].s };
			else
				nx->e[nx->n++] = base->e[i];
			i++;
			j++;
		}
	}
	nx->tick = tick;
	t = p->ring[tick % K];
	p->ring[tick % K] = *nx;
	*nx = t;
	p->last_tick = tick;
	p->st.frames++;
	p->st.full_frames += B == 0;
	p->st.bytes += sz;
	p->st.enters += msg.n_enters;
	p->st.leaves += msg.n_leaves;
	p->st.updates += msg.n_updates;
	return 0;
}

int
wg_sync_peer_ack(struct wg_sync_peer *p, uint32_t tick)
{
	p->st.acks++;
	if (tick == 0 || tick > p->last_tick || p->ring[tick % p->conf.frames].tick != tick) {
		p->st.acks_ignored++;
		return -ENOENT;
	}
	if (tick <= p->acked) {
		p->st.acks_ignored++;
		return -ESTALE;
	}
	p->acked = tick;
	return 0;
}

const struct wg_sync_frame *
wg_sync_peer_frame(const struct wg_sync_peer *p, uint32_t tick)
{
	const struct wg_sync_frame *f = &p->ring[tick % p->conf.frames];

	return tick != 0 && f->tick == tick ? f : NULL;
}

uint32_t
wg_sync_peer_acked(const struct wg_sync_peer *p)
{
	return p->acked;
}

void
wg_sync_peer_stats(const struct wg_sync_peer *p, struct wg_sync_peer_stats *st)
{
	*st = p->st;
}

void
wg_sync_peer_dump(FILE *f, const struct wg_sync_peer *p)
{
	fprintf(f, "sync peer: last tick %u acked %u frames %llu (full %llu) bytes %llu "
		"enters %llu leaves %llu updates %llu deferred %llu acks %llu (ignored %llu)\n",
		p->last_tick, p->acked, (unsigned long long)p->st.frames,
		(unsigned long long)p->st.full_frames, (unsigned long long)p->st.bytes,
		(unsigned long long)p->st.enters, (unsigned long long)p->st.leaves,
		(unsigned long long)p->st.updates, (unsigned long long)p->st.deferred,
		(unsigned long long)p->st.acks, (unsigned long long)p->st.acks_ignored);
}
