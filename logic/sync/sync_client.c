/* SPDX-License-Identifier: BSD-3-Clause
 * Client side of the delta sync: rebuilds the world from StateDeltas. The
 * bytes come from the network, so every count, id, mask and delta is
 * checked before use, and a bad message leaves the current state intact.
 * Also the small SnapshotAck / MoveInput wire helpers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sync.h"
#include "sync_impl.h"
#include "wg_sync.pb-c.h"

struct wg_sync_decoder {
	uint32_t frames;
	uint32_t nfields;
	uint32_t max_entities;
	uint32_t newest;              /* tick of the current snapshot, 0 = none */
	struct wg_sync_frame *ring;   /* slot tick % frames */
	struct wg_sync_frame next;
	struct wg_sync_decoder_stats st;
	/* the message's changes, sorted by id */
	uint32_t scap;
	const Wg__EntityEnter **ent;
	const Wg__EntityUpdate **upd;
	uint32_t *lv;
};

struct wg_sync_decoder *
wg_sync_decoder_create(uint32_t frames, uint32_t nfields, uint32_t max_entities)
{
	struct wg_sync_decoder *d;

	if (frames < 2 || frames > 1024 || nfields > WG_SYNC_MAX_FIELDS) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->frames = frames;
	d->nfields = nfields;
	d->max_entities = max_entities ? max_entities : 65536;
	d->ring = calloc(frames, sizeof(*d->ring));
	if (d->ring == NULL) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
	return d;
}

void
wg_sync_decoder_destroy(struct wg_sync_decoder *d)
{
	uint32_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->frames; i++)
		free(d->ring[i].e);
	free(d->ring);
	free(d->next.e);
	free(d->ent);
	free(d->upd);
	free(d->lv);
	free(d);
}

static int
reserve(struct wg_sync_decoder *d, uint32_t n)
{
	uint32_t cap = d->scap ? d->scap : 64;

	if (n <= d->scap)
		return 0;
	while (cap < n)
		cap *= 2;
	free(d->ent);
	free(d->upd);
	free(d->lv);
	d->ent = malloc(cap * sizeof(*d->ent));
	d->upd = malloc(cap * sizeof(*d->upd));
	d->lv = malloc(cap * sizeof(*d->lv));
	if (!d->ent || !d->upd || !d->lv) {
		free(d->ent);
		free(d->upd);
		free(d->lv);
		d->ent = NULL;
		d->upd = NULL;
		d->lv = NULL;
		d->scap = 0;
		return -ENOMEM;
	}
	d->scap = cap;
	return 0;
}

static int
cmp_ent(const void *a, const void *b)
{
	uint32_t x = (*(const Wg__EntityEnter *const *)a)->id;
	uint32_t y = (*(const Wg__EntityEnter *const *)b)->id;

	return (x > y) - (x < y);
}

static int
cmp_upd(const void *a, const void *b)
{
	uint32_t x = (*(const Wg__EntityUpdate *const *)a)->id;
	uint32_t y = (*(const Wg__EntityUpdate *const *)b)->id;

	return (x > y) - (x < y);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static bool
q_ok(int64_t v)
{
	return v >= -WG_SYNC_Q_LIMIT && v <= WG_SYNC_Q_LIMIT;
}

static bool
enter_ok(const struct wg_sync_decoder *d, const Wg__EntityEnter *e)
{
	return e->id != 0 && e->n_fields == d->nfields && e->yaw < WG_SYNC_YAW_ONE_TURN &&
	       q_ok(e->x) && q_ok(e->y);
}

static bool
update_ok(const struct wg_sync_decoder *d, const Wg__EntityUpdate *u)
{
	uint32_t fm = (u->mask & WG_SYNC_M_FIELDS) >> 8;

	return u->id != 0 && !(u->mask & ~WG_SYNC_M_ALL) && u->mask != 0 &&
	       fm < (1u << d->nfields) && u->n_fields == (size_t)__builtin_popcount(fm) &&
	       u->yaw < WG_SYNC_YAW_ONE_TURN &&
	       ((u->mask & WG_SYNC_M_POS) || (u->dx == 0 && u->dy == 0)) &&
	       ((u->mask & WG_SYNC_M_VEL) || (u->vx == 0 && u->vy == 0)) &&
	       ((u->mask & WG_SYNC_M_YAW) || u->yaw == 0);
}

static void
apply_enter(const struct wg_sync_decoder *d, struct wg_sync_entry *o, const Wg__EntityEnter *e,
	    uint32_t tick)
{
	uint32_t f;

	memset(o, 0, sizeof(*o));
	o->id = e->id;
	o->sent_tick = tick;
	o->s.x = e->x;
	o->s.y = e->y;
	o->s.vx = e->vx;
	o->s.vy = e->vy;
	o->s.yaw = e->yaw;
	for (f = 0; f < d->nfields; f++)
		o->s.field[f] = e->fields[f];
}

/* base entry + update -> o; false if a position leaves the quantised range */
static bool
apply_update(const struct wg_sync_decoder *d, struct wg_sync_entry *o,
	     const struct wg_sync_entry *b, const Wg__EntityUpdate *u, uint32_t tick)
{
	uint32_t f, k = 0;

	*o = *b;
	o->sent_tick = tick;
	if (u->mask & WG_SYNC_M_POS) {
		int64_t x = (int64_t)b->s.x + u->dx, y = (int64_t)b->s.y + u->dy;

		if (!q_ok(x) || !q_ok(y))
			return false;
		o->s.x = (int32_t)x;
		o->s.y = (int32_t)y;
	}
	if (u->mask & WG_SYNC_M_VEL) {
		o->s.vx = u->vx;
		o->s.vy = u->vy;
	}
	if (u->mask & WG_SYNC_M_YAW)
		o->s.yaw = u->yaw;
	for (f = 0; f < d->nfields; f++)
		if (u->mask & WG_SYNC_M_FIELD(f))
			o->s.field[f] = u->fields[k++];
	return true;
}

/* Merge baseline + sorted changes into d->next; -EBADMSG on any
 * inconsistency (enter of a known id, update/leave of an unknown one,
 * duplicates, too many entities). */
static int
merge(struct wg_sync_decoder *d, const struct wg_sync_frame *base, const Wg__StateDelta *m)
{
	size_t ne = m->n_enters, nu = m->n_updates, nl = m->n_leaves;
	size_t i = 0, ie = 0, iu = 0, il = 0;
	struct wg_sync_frame *nx = &d->next;

	nx->n = 0;
	while (i < base->n || ie < ne) {
		bool has_b = i < base->n, has_e = ie < ne;
		uint32_t bid = has_b ? base->e[i].id : 0;
		uint32_t eid = has_e ? d->ent[ie]->id : 0;

		if (nx->n == d->max_entities)
			return -EBADMSG;
		if (has_e && (!has_b || eid < bid)) {
			/* enters must be of unknown ids and unique */
			if (ie + 1 < ne && d->ent[ie + 1]->id == eid)
				return -EBADMSG;
			apply_enter(d, &nx->e[nx->n++], d->ent[ie++], m->tick);
			continue;
		}
		if (has_e && eid == bid)
			return -EBADMSG;
		/* base entry: leave, update, or keep */
		if (il < nl && d->lv[il] < bid)
			return -EBADMSG;   /* leave of an id not in the baseline */
		if (iu < nu && d->upd[iu]->id < bid)
			return -EBADMSG;
		if (il < nl && d->lv[il] == bid) {
			il++;
			if ((il < nl && d->lv[il] == bid) || (iu < nu && d->upd[iu]->id == bid))
				return -EBADMSG;
			i++;
			continue;
		}
		if (iu < nu && d->upd[iu]->id == bid) {
			if (!apply_update(d, &nx->e[nx->n++], &base->e[i], d->upd[iu], m->tick))
				return -EBADMSG;
			iu++;
			if (iu < nu && d->upd[iu]->id == bid)
				return -EBADMSG;
		} else {
			nx->e[nx->n++] = base->e[i];
		}
		i++;
	}
	if (il != nl || iu != nu)
		return -EBADMSG;
	return 0;
}

int
wg_sync_decode(struct wg_sync_decoder *d, const uint8_t *buf, size_t len, uint32_t *tick)
{
	const struct wg_sync_frame *base;
	static const struct wg_sync_frame empty;
	Wg__StateDelta *m;
	struct wg_sync_frame t;
	size_t i, total;
	int rc = -EBADMSG;

	m = wg__state_delta__unpack(NULL, len, buf);
	if (m == NULL) {
		d->st.bad++;
		return -EBADMSG;
	}
	if (m->tick == 0 || (m->baseline != 0 && m->baseline >= m->tick))
		goto bad;
	if (m->tick <= d->newest) {
		d->st.stale++;
		rc = -EALREADY;
		goto out;
	}
	if (m->baseline == 0) {
		base = &empty;
	} else {
		base = &d->ring[m->baseline % d->frames];
		if (m->tick - m->baseline >= d->frames || base->tick != m->baseline) {
			d->st.no_baseline++;
			rc = -ENOENT;
			goto out;
		}
	}
	total = m->n_enters + m->n_updates + m->n_leaves;
	if (m->n_enters > d->max_entities || m->n_updates > d->max_entities ||
	    m->n_leaves > d->max_entities)
		goto bad;
	if (reserve(d, (uint32_t)total) != 0 ||
	    wg_sync_frame_reserve(&d->next, base->n + (uint32_t)m->n_enters) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m->n_enters; i++) {
		if (!enter_ok(d, m->enters[i]))
			goto bad;
		d->ent[i] = m->enters[i];
	}
	for (i = 0; i < m->n_updates; i++) {
		if (!update_ok(d, m->updates[i]))
			goto bad;
		d->upd[i] = m->updates[i];
	}
	for (i = 0; i < m->n_leaves; i++) {
		if (m->leaves[i]->id == 0)
			goto bad;
		d->lv[i] = m->leaves[i]->id;
	}
	/* (an empty message may have no scratch at all: qsort wants non-NULL) */
	if (m->n_enters > 1)
		qsort(d->ent, m->n_enters, sizeof(*d->ent), cmp_ent);
	if (m->n_updates > 1)
		qsort(d->upd, m->n_updates, sizeof(*d->upd), cmp_upd);
	if (m->n_leaves > 1)
		qsort(d->lv, m->n_leaves, sizeof(*d->lv), cmp_u32);
	rc = merge(d, base, m);
	if (rc != 0)
		goto bad;
	d->next.tick = m->tick;
	t = d->ring[m->tick % d->frames];
	d->ring[m->tick % d->frames] = d->next;
	d->next = t;
	d->newest = m->tick;
	d->st.applied++;
	*tick = m->tick;
	rc = 0;
	goto out;
bad:
	d->st.bad++;
	rc = -EBADMSG;
out:
	wg__state_delta__free_unpacked(m, NULL);
	return rc;
}

const struct wg_sync_entry *
wg_sync_decoder_view(const struct wg_sync_decoder *d, uint32_t *n, uint32_t *tick)
{
	const struct wg_sync_frame *f = &d->ring[d->newest % d->frames];

	if (d->newest == 0 || f->tick != d->newest) {
		*n = 0;
		if (tick)
			*tick = 0;
		return NULL;
	}
	*n = f->n;
	if (tick)
		*tick = f->tick;
	return f->e;
}

const struct wg_sync_entry *
wg_sync_decoder_find(const struct wg_sync_decoder *d, uint32_t id)
{
	uint32_t n, lo = 0, hi;
	const struct wg_sync_entry *e = wg_sync_decoder_view(d, &n, NULL);

	hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (e[mid].id == id)
			return &e[mid];
		if (e[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
wg_sync_decoder_stats(const struct wg_sync_decoder *d, struct wg_sync_decoder_stats *st)
{
	*st = d->st;
}

int
wg_sync_ack_pack(uint32_t tick, uint8_t *buf, size_t cap)
{
	Wg__SnapshotAck a = WG__SNAPSHOT_ACK__INIT;
	size_t sz;

	a.tick = tick;
	sz = wg__snapshot_ack__get_packed_size(&a);
	if (sz > cap)
		return -ENOBUFS;
	return (int)wg__snapshot_ack__pack(&a, buf);
}

int
wg_sync_ack_parse(const uint8_t *buf, size_t len, uint32_t *tick)
{
	Wg__SnapshotAck *a = wg__snapshot_ack__unpack(NULL, len, buf);

	if (a == NULL)
		return -EBADMSG;
	*tick = a->tick;
	wg__snapshot_ack__free_unpacked(a, NULL);
	return 0;
}

int
wg_sync_move_pack(uint32_t seq, float x, float y, float yaw, uint8_t *buf, size_t cap)
{
	Wg__MoveInput mv = WG__MOVE_INPUT__INIT;
	size_t sz;

	mv.seq = seq;
	mv.x = x;
	mv.y = y;
	mv.yaw = yaw;
	sz = wg__move_input__get_packed_size(&mv);
	if (sz > cap)
		return -ENOBUFS;
	return (int)wg__move_input__pack(&mv, buf);
}

int
wg_sync_move_parse(const uint8_t *buf, size_t len, uint32_t *seq, float *x, float *y,
		   float *yaw)
{
	Wg__MoveInput *mv = wg__move_input__unpack(NULL, len, buf);

	if (mv == NULL)
		return -EBADMSG;
	*seq = mv->seq;
	*x = mv->x;
	*y = mv->y;
	*yaw = mv->yaw;
	wg__move_input__free_unpacked(mv, NULL);
	return 0;
}
