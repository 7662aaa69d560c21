/* SPDX-License-Identifier: BSD-3-Clause
 * Incremental AOI ("inc", the one the world uses). Only keys that moved,
 * changed radius or were inserted since the last tick do work; everything
 * else keeps its relations from the previous tick.
 *
 * State:
 * - per key a small open-addressing hash set of relations: entry =
 *   other << 2 | flags, bit 0 "I see other", bit 1 "other sees me". A pair
 *   lives in both keys' sets with mirrored flags, so visible lists, removal
 *   and changes are O(1) per pair on each side. Invariant: after a tick a
 *   set holds exactly the predicate at the positions and radii of that tick.
 * - per key its position and radius as of the last tick ("old");
 * - a uniform grid rebuilt each tick by a counting sort: one array of items
 *   {key, new x/y/r, old x/y/r} sorted by cell, so a row of cells is one
 *   contiguous run and a candidate scan streams memory.
 *
 * Tick. Touched keys are split:
 * - slow: moved further than a cell, or changed radius. Processed first:
 *   every relation in its set is re-evaluated against the other's new
 *   position, then the cells around its new position add the new ones.
 * - normal: everything else. Because both ends moved at most a cell, every
 *   pair that is related before or after lies within Q + v_m + v_max of the
 *   key's new position (Q: radius bound, v: displacements), so one scan of
 *   that disk sees all of them, and "before" is recomputed from the old
 *   positions carried in the items: no set lookup unless the pair changed,
 *   and no walk over the key's relations. The scan takes, per row of
 *   cells, the chord of that disk as one run of items, minus the cells
 *   wholly inside the interior disk (min radius - v_m - v_max), where
 *   pairs saw each other both ways before and after (skipped only without
 *   MOVE events, and never once a radius-0 key has existed).
 * - inserted keys: like normal ones (nothing "before"), processed before
 *   them, because the interior skip assumes every pair it skips existed.
 * Keys are processed in cell order, for locality; the pair changes the
 * normal pass finds are queued and applied after it with prefetching.
 * Observers with a huge radius sit in a side list and are tested directly.
 * A pair of two touched keys is evaluated by whichever is processed first
 * (ITEM_DONE marks the other), which also emits MOVE events both ways.
 * Cost per tick: O(n) for the grid (about a millisecond at 100k) plus, per
 * touched key, O(candidates in its disk), plus O(1) per changed pair.
 */
#include <stdlib.h>
#include <string.h>

#include "aoi_impl.h"

#define REL_EMPTY UINT32_MAX
#define REL_TOMB  (UINT32_MAX - 1)
#define REL_SEES  1u   /* I see other */
#define REL_SEEN  2u   /* other sees me */
#define REL_KEY(e) ((e) >> 2)

/* item key flags */
#define ITEM_TOUCHED (1u << 31)  /* moved, changed radius or inserted this tick */
#define ITEM_DONE    (1u << 30)  /* processed this tick: its pairs are final */
#define ITEM_MOVED   (1u << 29)  /* moved this tick */
#define ITEM_NEW     (1u << 28)  /* inserted this tick: no relations before */
#define ITEM_LARGE   (1u << 27)  /* in the large-radius list */
#define ITEM_KEY(k)  ((k) & (WG_AOI_MAX_KEYS - 1))

struct rel_set {
	uint32_t *slot;
	uint32_t cap;      /* power of two, or 0 */
	uint32_t used;
	uint32_t tombs;
	uint32_t shift;    /* 32 - log2(cap) */
};

struct cell_item {
	uint32_t key;      /* | ITEM_* */
	float x, y, r;     /* now */
	float ox, oy, or;  /* at the last tick */
	float pad;
};
_Static_assert(sizeof(struct cell_item) == 32, "two cell items per cache line");

struct old_pos {
	float x, y, r, pad;
};

struct aoi_inc {
	struct wg_aoi base;
	struct aoi_geom g;
	uint32_t ncell;
	uint32_t *cstart;      /* ncell + 1 offsets into items */
	struct cell_item *items;  /* live keys sorted by cell */
	uint32_t *item_of;     /* per live key: its index in items */
	uint32_t *cell_of;     /* per live key: its cell (rebuild scratch) */
	bool stale;            /* items do not reflect the latest mutations */
	struct rel_set *rel;   /* per key */
	struct old_pos *old;   /* per key: as of the last tick */
	uint32_t *visit;       /* per key: stamp of the slow key that met it */
	uint32_t stamp;
	uint32_t *slow;        /* this tick's slow keys */
	uint64_t *chg;         /* normal pass: pair changes m << 24 | c << 4 | old << 2 | nw */
	uint32_t nchg, chg_cap;
	float slow_v;          /* displacement above which a key is slow */
	float large_r;         /* radii above this go to the large list */
	float rmax_small;      /* high-water mark of small radii */
	float rmin;            /* low-water mark of all radii ever set */
	uint32_t *large;       /* keys with a large radius */
	uint32_t *large_pos;   /* per key: index in large, UINT32_MAX if not */
	uint32_t nlarge;
};

static void inc_destroy(struct wg_aoi *a);

static struct wg_aoi *
inc_create(const struct wg_aoi_conf *conf)
{
	struct aoi_inc *in = calloc(1, sizeof(*in));
	uint32_t cap = conf->capacity, i;
	double r = conf->view_radius > 0 ? conf->view_radius :
		   fmax(conf->width, conf->height) / 64;

	if (in == NULL)
		return NULL;
	if (aoi_base_init(&in->base, &wg_aoi_inc_ops, conf) != 0) {
		free(in);
		errno = ENOMEM;
		return NULL;
	}
	/* R/4: row runs make small cells cheap, and they let the interior
	 * skip drop most of the disk (measured: R/2 -> R/4 cut the clustered
	 * 100k tick by a fifth) */
	aoi_geom_init(&in->g, conf, conf->cell > 0 ? conf->cell : r / 4);
	in->ncell = (uint32_t)in->g.ncx * (uint32_t)in->g.ncy;
	in->slow_v = (float)in->g.cell;
	in->large_r = (float)fmax(4 * r, 4 * in->g.cell);
	in->cstart = calloc(in->ncell + 1, sizeof(uint32_t));
	in->items = malloc((size_t)cap * sizeof(*in->items));
	in->item_of = calloc(cap, sizeof(uint32_t));
	in->cell_of = calloc(cap, sizeof(uint32_t));
	in->rel = calloc(cap, sizeof(*in->rel));
	in->old = calloc(cap, sizeof(*in->old));
	in->visit = calloc(cap, sizeof(uint32_t));
	in->slow = malloc((size_t)cap * sizeof(uint32_t));
	in->large = malloc((size_t)cap * sizeof(uint32_t));
	in->large_pos = malloc((size_t)cap * sizeof(uint32_t));
	in->stale = true;
	in->rmin = INFINITY;
	if (!in->cstart || !in->items || !in->item_of || !in->cell_of || !in->rel || !in->old || !in->visit ||
	    !in->slow || !in->large || !in->large_pos) {
		inc_destroy(&in->base);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < cap; i++)
		in->large_pos[i] = UINT32_MAX;
	return &in->base;
}

static void
inc_destroy(struct wg_aoi *a)
{
	struct aoi_inc *in = (struct aoi_inc *)a;
	uint32_t i;

	if (in->rel)
		for (i = 0; i < a->conf.capacity; i++)
			free(in->rel[i].slot);
	free(in->cstart);
	free(in->items);
	free(in->item_of);
	free(in->cell_of);
	free(in->rel);
	free(in->old);
	free(in->visit);
	free(in->slow);
	free(in->chg);
	free(in->large);
	free(in->large_pos);
	aoi_base_fini(a);
	free(in);
}

/* --- relation sets --- */

static inline uint32_t
rel_hash(const struct rel_set *s, uint32_t other)
{
	return (other * 0x9e3779b1u) >> s->shift;
}

static uint32_t *
rel_find(struct rel_set *s, uint32_t other)
{
	uint32_t mask = s->cap - 1, i;

	if (s->cap == 0)
		return NULL;
	for (i = rel_hash(s, other);; i = (i + 1) & mask) {
		uint32_t e = s->slot[i];

		if (e == REL_EMPTY)
			return NULL;
		if (e != REL_TOMB && REL_KEY(e) == other)
			return &s->slot[i];
	}
}

static int
rel_resize(struct rel_set *s, uint32_t cap)
{
	uint32_t *old = s->slot, ocap = s->cap, i, lg = 0;

	while ((1u << lg) < cap)
		lg++;
	s->slot = malloc((size_t)cap * sizeof(uint32_t));
	if (s->slot == NULL) {
		s->slot = old;
		return -ENOMEM;
	}
	memset(s->slot, 0xff, (size_t)cap * sizeof(uint32_t));
	s->cap = cap;
	s->shift = 32 - lg;
	s->tombs = 0;
	for (i = 0; i < ocap; i++) {
		uint32_t e = old[i], j;

		if (e >= REL_TOMB)
			continue;
		for (j = rel_hash(s, REL_KEY(e)); s->slot[j] != REL_EMPTY; j = (j + 1) & (cap - 1))
			;
		s->slot[j] = e;
	}
	free(old);
	return 0;
}

/* other must be absent */
static int
rel_add(struct rel_set *s, uint32_t other, uint32_t flags)
{
	uint32_t j;

	if ((s->used + s->tombs + 1) * 4 > s->cap * 3) {
		uint32_t cap = 8;

		/* rehash at 3/4 (tombstones count), to a load of at most 1/2 */
		while (cap < s->used * 2)
			cap *= 2;
		if (rel_resize(s, cap) != 0)
			return -ENOMEM;
	}
	for (j = rel_hash(s, other); s->slot[j] < REL_TOMB; j = (j + 1) & (s->cap - 1))
		;
	if (s->slot[j] == REL_TOMB)
		s->tombs--;
	s->slot[j] = other << 2 | flags;
	s->used++;
	return 0;
}

static inline void
rel_del(struct rel_set *s, uint32_t *e)
{
	*e = REL_TOMB;
	s->tombs++;
	s->used--;
}

static void
rel_free(struct rel_set *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* Set the pair (m, c) from old to nw (m's view; c holds the mirror). */
static int
rel_set_pair(struct aoi_inc *in, uint32_t m, uint32_t c, uint32_t old, uint32_t nw)
{
	struct wg_aoi *a = &in->base;
	uint32_t mir = (nw & 1) << 1 | nw >> 1;
	uint32_t *em, *ec;

	if ((old ^ nw) & REL_SEES)
		aoi_emit(a, m, c, nw & REL_SEES ? WG_AOI_ENTER : WG_AOI_LEAVE);
	if ((old ^ nw) & REL_SEEN)
		aoi_emit(a, c, m, nw & REL_SEEN ? WG_AOI_ENTER : WG_AOI_LEAVE);
	if (old == 0) {
		if (rel_add(&in->rel[m], c, nw) != 0 || rel_add(&in->rel[c], m, mir) != 0)
			return -ENOMEM;
		return 0;
	}
	em = rel_find(&in->rel[m], c);
	ec = rel_find(&in->rel[c], m);
	if (nw == 0) {
		rel_del(&in->rel[m], em);
		rel_del(&in->rel[c], ec);
	} else {
		*em = c << 2 | nw;
		*ec = m << 2 | mir;
	}
	return 0;
}

/* --- grid --- */

static inline uint32_t
inc_cell(const struct aoi_inc *in, double x, double y)
{
	return (uint32_t)aoi_geom_cy(&in->g, y) * in->g.ncx + aoi_geom_cx(&in->g, x);
}

/* Counting sort of the live keys by cell, with this tick's flags. */
static void
inc_rebuild(struct aoi_inc *in)
{
	struct wg_aoi *a = &in->base;
	uint32_t *cs = in->cstart, k, i, sum = 0;

	memset(cs, 0, (in->ncell + 1) * sizeof(uint32_t));
	for (k = 0; k < a->conf.capacity; k++)
		if (a->st[k] & AOI_S_LIVE) {
			in->cell_of[k] = inc_cell(in, a->x[k], a->y[k]);
			cs[in->cell_of[k] + 1]++;
		}
	for (i = 1; i <= in->ncell; i++) {
		sum += cs[i];
		cs[i] = sum;
	}
	for (k = 0; k < a->conf.capacity; k++) {
		uint8_t st = a->st[k];
		struct cell_item *it;
		uint32_t c;

		if (!(st & AOI_S_LIVE))
			continue;
		c = in->cell_of[k];
		in->item_of[k] = cs[c];
		it = &in->items[cs[c]++];
		it->key = k | (st & AOI_S_TOUCHED ? ITEM_TOUCHED : 0) |
			  (st & AOI_S_MOVED ? ITEM_MOVED : 0) | (st & AOI_S_NEW ? ITEM_NEW : 0) |
			  (in->large_pos[k] != UINT32_MAX ? ITEM_LARGE : 0);
		it->x = a->x[k];
		it->y = a->y[k];
		it->r = a->r[k];
		it->ox = in->old[k].x;
		it->oy = in->old[k].y;
		it->or = in->old[k].r;
		it->pad = 0;
	}
	for (i = in->ncell; i > 0; i--)
		cs[i] = cs[i - 1];
	cs[0] = 0;
	in->stale = false;
}

static void
radius_class(struct aoi_inc *in, uint32_t key, float r)
{
	bool large = r > in->large_r;

	if (large && in->large_pos[key] == UINT32_MAX) {
		in->large_pos[key] = in->nlarge;
		in->large[in->nlarge++] = key;
	} else if (!large && in->large_pos[key] != UINT32_MAX) {
		uint32_t p = in->large_pos[key], last = in->large[--in->nlarge];

		in->large[p] = last;
		in->large_pos[last] = p;
		in->large_pos[key] = UINT32_MAX;
	}
	/* water marks: tightening them would need the max/min of all radii */
	if (!large && r > in->rmax_small)
		in->rmax_small = r;
	if (r < in->rmin)
		in->rmin = r;
}

static int
inc_insert(struct wg_aoi *a, uint32_t key)
{
	struct aoi_inc *in = (struct aoi_inc *)a;

	in->stale = true;
	radius_class(in, key, a->r[key]);
	return 0;
}

static int
inc_remove(struct wg_aoi *a, uint32_t key)
{
	struct aoi_inc *in = (struct aoi_inc *)a;
	struct rel_set *s = &in->rel[key];
	uint32_t i;

	for (i = 0; i < s->cap; i++) {
		uint32_t e = s->slot[i], c;

		if (e >= REL_TOMB)
			continue;
		c = REL_KEY(e);
		if (e & REL_SEEN)
			aoi_emit(a, c, key, WG_AOI_LEAVE);
		rel_del(&in->rel[c], rel_find(&in->rel[c], key));
	}
	rel_free(s);
	in->stale = true;
	if (in->large_pos[key] != UINT32_MAX) {
		uint32_t p = in->large_pos[key], last = in->large[--in->nlarge];

		in->large[p] = last;
		in->large_pos[last] = p;
		in->large_pos[key] = UINT32_MAX;
	}
	return 0;
}

static int
inc_move(struct wg_aoi *a, uint32_t key, float x, float y)
{
	(void)key;
	(void)x;
	(void)y;
	((struct aoi_inc *)a)->stale = true;
	return 0;
}

static int
inc_set_radius(struct wg_aoi *a, uint32_t key, float r)
{
	struct aoi_inc *in = (struct aoi_inc *)a;

	in->stale = true;
	radius_class(in, key, r);
	return 0;
}

/* the one predicate, as flags: bit 0 m sees c, bit 1 c sees m */
static inline uint32_t
pair_flags(double mx, double my, double rm, double cx, double cy, double rc)
{
	double dx = cx - mx, dy = cy - my, d2 = dx * dx + dy * dy;

	return (uint32_t)(d2 <= rm * rm) | (uint32_t)(d2 <= rc * rc) << 1;
}

static int
chg_grow(struct aoi_inc *in)
{
	uint32_t cap = in->chg_cap ? in->chg_cap * 2 : 4096;
	uint64_t *c = realloc(in->chg, (size_t)cap * sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	in->chg = c;
	in->chg_cap = cap;
	return 0;
}

/* The pair (m, c) goes from old to nw: events and sets. With queue, the
 * set updates wait for inc_flush(), which can prefetch them. */
static inline int
inc_apply(struct aoi_inc *in, uint32_t m, uint32_t mf, uint32_t c, uint32_t cf, uint32_t old,
	  uint32_t nw, bool mev, bool queue)
{
	if (mev) {
		if ((mf & ITEM_MOVED) && (old & nw & REL_SEEN))
			aoi_emit(&in->base, c, m, WG_AOI_MOVE);
		if ((cf & ITEM_MOVED) && (old & nw & REL_SEES))
			aoi_emit(&in->base, m, c, WG_AOI_MOVE);
	}
	if (old == nw)
		return 0;
	if (!queue)
		return rel_set_pair(in, m, c, old, nw);
	if (in->nchg == in->chg_cap && chg_grow(in) != 0)
		return -ENOMEM;
	in->chg[in->nchg++] = (uint64_t)m << 24 | (uint64_t)c << 4 | old << 2 | nw;
	return 0;
}

#define CHG_M(e)   ((uint32_t)((e) >> 24))
#define CHG_C(e)   ((uint32_t)((e) >> 4) & (WG_AOI_MAX_KEYS - 1))

/* Apply the queued pair changes. Each touches two sets scattered over the
 * heap: the set headers are prefetched 16 changes ahead, their first probe
 * slots 8 ahead, so the misses overlap instead of queueing. */
static int
inc_flush(struct aoi_inc *in)
{
	uint32_t i, n = in->nchg;
	int rc;

	for (i = 0; i < n; i++) {
		uint64_t e = in->chg[i];

		if (i + 16 < n) {
			__builtin_prefetch(&in->rel[CHG_M(in->chg[i + 16])]);
			__builtin_prefetch(&in->rel[CHG_C(in->chg[i + 16])]);
		}
		if (i + 8 < n) {
			const struct rel_set *sm = &in->rel[CHG_M(in->chg[i + 8])];
			const struct rel_set *sc = &in->rel[CHG_C(in->chg[i + 8])];

			if (sm->cap)
				__builtin_prefetch(&sm->slot[rel_hash(sm, CHG_C(in->chg[i + 8]))]);
			if (sc->cap)
				__builtin_prefetch(&sc->slot[rel_hash(sc, CHG_M(in->chg[i + 8]))]);
		}
		rc = rel_set_pair(in, CHG_M(e), CHG_C(e), (uint32_t)(e >> 2) & 3, (uint32_t)e & 3);
		if (rc != 0)
			return rc;
	}
	in->nchg = 0;
	return 0;
}

/* Margin covering rounding in cell assignment (as aoi_geom_cell_near). */
static inline double
geom_margin(const struct aoi_geom *g)
{
	return g->cell * 1e-4 + 1e-4;
}

/* Row cy against the disk (x, y, reach): *first = first cell of the chord
 * (-1: the row misses the disk), and [*ia, *ib] the cells wholly inside the
 * interior disk (x, y, inner) (*ia > *ib: none). Conservative both ways:
 * the chord may include a cell too many, the interior a cell too few. */
static void
row_span(const struct aoi_geom *g, int cy, double x, double y, double reach, double inner,
	 int *first, int *ia, int *ib)
{
	double m = geom_margin(g), lo, hi, dmin, dmax, hw;

	lo = cy == 0 ? -INFINITY : g->min_y + cy * g->cell - m;
	hi = cy == g->ncy - 1 ? INFINITY : g->min_y + (cy + 1) * g->cell + m;
	dmin = y < lo ? lo - y : y > hi ? y - hi : 0;
	dmax = fmax(fabs(y - lo), fabs(hi - y));
	*ia = 1;
	*ib = 0;
	if (dmin > reach) {
		*first = -1;
		return;
	}
	hw = sqrt(reach * reach - dmin * dmin);
	*first = aoi_geom_cx(g, x - hw - m);
	if (inner > 0 && dmax < inner && isfinite(dmax)) {
		double hi_w = sqrt(inner * inner - dmax * dmax);
		/* cells whose whole x extent (with margin) lies in the chord;
		 * never the unbounded edge cells */
		int a = (int)ceil((x - hi_w - g->min_x + m) * g->inv);
		int b = (int)floor((x + hi_w - g->min_x - m) * g->inv) - 1;

		if (a < 1)
			a = 1;
		if (b > g->ncx - 2)
			b = g->ncx - 2;
		if (a < *first + 1)
			a = *first + 1;
		*ia = a;
		*ib = b;
	}
}

/* Last cell of row cy's chord of the disk (x, y, reach). */
static inline int
row_end(const struct aoi_geom *g, double x, double reach, int cy, double y)
{
	double m = geom_margin(g), lo, hi, dmin;

	lo = cy == 0 ? -INFINITY : g->min_y + cy * g->cell - m;
	hi = cy == g->ncy - 1 ? INFINITY : g->min_y + (cy + 1) * g->cell + m;
	dmin = y < lo ? lo - y : y > hi ? y - hi : 0;
	return aoi_geom_cx(g, x + sqrt(fmax(reach * reach - dmin * dmin, 0)) + m);
}

/* A normal key: one scan recomputes "before" and "after" of every pair that
 * can have either. */
static int
inc_normal(struct aoi_inc *in, const struct cell_item *mi, double reach, double inner,
	   bool mev)
{
	struct wg_aoi *a = &in->base;
	uint32_t m = ITEM_KEY(mi->key), mf = mi->key, i, checks = 0;
	bool mnew = mf & ITEM_NEW;
	double x = mi->x, y = mi->y, rm = mi->r, ox = mi->ox, oy = mi->oy, orm = mi->or;
	int cx0, cy0, cx1, cy1, cx, cy, rc;

	(void)cx1;
	aoi_geom_span(&in->g, x - reach, y - reach, x + reach, y + reach, &cx0, &cy0, &cx1, &cy1);
	for (cy = cy0; cy <= cy1; cy++) {
		uint32_t row = (uint32_t)cy * in->g.ncx, runs[2][2], nr, r;
		int ia, ib;

		/* the row's chord of the reach disk, as one run of items; minus
		 * the cells wholly inside the interior disk */
		row_span(&in->g, cy, x, y, reach, inner, &cx, &ia, &ib);
		if (cx < 0)
			continue;
		nr = 0;
		if (ia <= ib) {
			runs[nr][0] = in->cstart[row + cx];
			runs[nr++][1] = in->cstart[row + ia];
			runs[nr][0] = in->cstart[row + ib + 1];
		} else {
			runs[nr][0] = in->cstart[row + cx];
		}
		runs[nr++][1] = in->cstart[row + row_end(&in->g, x, reach, cy, y) + 1];
		for (r = 0; r < nr; r++) {
			uint32_t end = runs[r][1];

			checks += end > runs[r][0] ? end - runs[r][0] : 0;
			for (i = runs[r][0]; i < end; i++) {
				const struct cell_item *it = &in->items[i];
				uint32_t cf = it->key, old, nw;

				if (cf & ITEM_DONE)
					continue;
				nw = pair_flags(x, y, rm, it->x, it->y, it->r);
				old = (mnew || (cf & ITEM_NEW)) ? 0 :
				      pair_flags(ox, oy, orm, it->ox, it->oy, it->or);
				if ((old | nw) == 0 || ITEM_KEY(cf) == m)
					continue;
				/* a large observer met here is not tested again below */
				if (cf & ITEM_LARGE)
					in->visit[ITEM_KEY(cf)] = in->stamp;
				rc = inc_apply(in, m, mf, ITEM_KEY(cf), cf, old, nw, mev, true);
				if (rc != 0)
					return rc;
			}
		}
	}
	for (i = 0; i < in->nlarge; i++) {
		uint32_t c = in->large[i], old, nw;
		const struct cell_item *it = &in->items[in->item_of[c]];

		if (c == m || (it->key & ITEM_DONE) || in->visit[c] == in->stamp)
			continue;
		checks++;
		nw = pair_flags(x, y, rm, it->x, it->y, it->r);
		old = (mnew || (it->key & ITEM_NEW)) ? 0 :
		      pair_flags(ox, oy, orm, it->ox, it->oy, it->or);
		rc = inc_apply(in, m, mf, c, it->key, old, nw, mev, true);
		if (rc != 0)
			return rc;
	}
	a->stats.pair_checks += checks;
	return 0;
}

/* A slow key (teleported or changed radius): its relations are re-checked
 * one by one, then the disk around its new position adds new ones. */
static int
inc_slow(struct aoi_inc *in, const struct cell_item *mi, bool mev)
{
	struct wg_aoi *a = &in->base;
	uint32_t m = ITEM_KEY(mi->key), mf = mi->key, i, checks = 0;
	struct rel_set *s = &in->rel[m];
	double x = mi->x, y = mi->y, rm = mi->r, q = fmax(rm, in->rmax_small);
	int cx0, cy0, cx1, cy1, cx, cy, rc;

	for (i = 0; i < s->cap; i++) {
		uint32_t e = s->slot[i], c;
		const struct cell_item *it;

		if (e >= REL_TOMB)
			continue;
		c = REL_KEY(e);
		it = &in->items[in->item_of[c]];
		in->visit[c] = in->stamp;
		if (it->key & ITEM_DONE)
			continue;
		checks++;
		/* deleting leaves a tombstone: this walk stays valid */
		rc = inc_apply(in, m, mf, c, it->key, e & 3,
			       pair_flags(x, y, rm, it->x, it->y, it->r), mev, false);
		if (rc != 0)
			return rc;
	}
	aoi_geom_span(&in->g, x - q, y - q, x + q, y + q, &cx0, &cy0, &cx1, &cy1);
	for (cy = cy0; cy <= cy1; cy++) {
		for (cx = cx0; cx <= cx1; cx++) {
			uint32_t c = (uint32_t)cy * in->g.ncx + cx, end;

			if (!aoi_geom_cell_near(&in->g, cx, cy, x, y, q))
				continue;
			end = in->cstart[c + 1];
			checks += end - in->cstart[c];
			for (i = in->cstart[c]; i < end; i++) {
				const struct cell_item *it = &in->items[i];
				uint32_t k = ITEM_KEY(it->key), nw;

				if (k == m || (it->key & ITEM_DONE))
					continue;
				nw = pair_flags(x, y, rm, it->x, it->y, it->r);
				/* related before means met in the walk above */
				if (nw == 0 || in->visit[k] == in->stamp)
					continue;
				in->visit[k] = in->stamp;
				rc = rel_set_pair(in, m, k, 0, nw);
				if (rc != 0)
					return rc;
			}
		}
	}
	for (i = 0; i < in->nlarge; i++) {
		uint32_t c = in->large[i], nw;
		const struct cell_item *it = &in->items[in->item_of[c]];

		if (c == m || (it->key & ITEM_DONE) || in->visit[c] == in->stamp)
			continue;
		checks++;
		nw = pair_flags(x, y, rm, it->x, it->y, it->r);
		if (nw != 0) {
			rc = rel_set_pair(in, m, c, 0, nw);
			if (rc != 0)
				return rc;
		}
	}
	a->stats.pair_checks += checks;
	return 0;
}

static void
next_stamp(struct aoi_inc *in)
{
	if (++in->stamp == 0) {
		memset(in->visit, 0, in->base.conf.capacity * sizeof(uint32_t));
		in->stamp = 1;
	}
}

static int
inc_tick(struct wg_aoi *a)
{
	struct aoi_inc *in = (struct aoi_inc *)a;
	bool mev = a->conf.flags & WG_AOI_F_MOVE_EVENTS;
	uint32_t i, nslow = 0, pass;
	double vmax = 0;
	int rc;

	if (a->ntouched == 0)
		return 0;
	inc_rebuild(in);
	/* classify: slow keys first, and the largest normal displacement */
	for (i = 0; i < a->ntouched; i++) {
		uint32_t m = a->touched[i];
		const struct old_pos *o = &in->old[m];
		uint8_t st = a->st[m];
		double v;

		if (!(st & AOI_S_LIVE) || (st & AOI_S_NEW))
			continue;
		v = hypot((double)a->x[m] - o->x, (double)a->y[m] - o->y);
		if (v > in->slow_v || (st & AOI_S_RADIUS))
			in->slow[nslow++] = m;
		else if (v > vmax)
			vmax = v;
	}
	for (i = 0; i < nslow; i++) {
		struct cell_item *mi = &in->items[in->item_of[in->slow[i]]];

		next_stamp(in);
		rc = inc_slow(in, mi, mev);
		if (rc != 0)
			return rc;
		mi->key |= ITEM_DONE;
	}
	/* in cell order, not arrival order: consecutive keys then scan
	 * overlapping disks and share their neighbours' relation sets, so
	 * most of the memory they touch is still in cache. Inserted keys go
	 * first: the interior skip below relies on them being done. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < a->live; i++) {
			struct cell_item *mi = &in->items[i];
			bool mnew = mi->key & ITEM_NEW;
			double v, reach, inner = -1;

			if ((mi->key & (ITEM_TOUCHED | ITEM_DONE)) != ITEM_TOUCHED ||
			    mnew != (pass == 0))
				continue;
			/* NEW keys have no "before": their own displacement is 0 */
			v = mnew ? 0 : hypot((double)mi->x - mi->ox, (double)mi->y - mi->oy);
			reach = fmax(fmax(mi->r, mi->or), in->rmax_small) + v + vmax;
			/* Interior: a pair closer than every radius involved minus
			 * both displacements saw each other both ways before and
			 * after, and nothing about it changes (unless MOVE events
			 * are wanted). Every radius ever set is >= rmin. */
			if (!mnew && !mev)
				inner = fmin(fmin(mi->r, mi->or), in->rmin) - v - vmax;
			/* a little slack on both bounds: the scan must not depend
			 * on the last bit of a rounded sum */
			next_stamp(in);
			rc = inc_normal(in, mi, reach * (1 + 1e-9) + 1e-6,
					inner * (1 - 1e-9) - 1e-6, mev);
			if (rc != 0)
				return rc;
			mi->key |= ITEM_DONE;
		}
	}
	rc = inc_flush(in);
	if (rc != 0)
		return rc;
	for (i = 0; i < a->ntouched; i++) {
		uint32_t m = a->touched[i];

		if (a->st[m] & AOI_S_LIVE)
			in->old[m] = (struct old_pos){ a->x[m], a->y[m], a->r[m], 0 };
	}
	return 0;
}

static int
inc_visible(struct wg_aoi *a, uint32_t key, uint32_t *out, uint32_t cap)
{
	struct aoi_inc *in = (struct aoi_inc *)a;
	const struct rel_set *s = &in->rel[key];
	uint32_t i, n = 0;

	for (i = 0; i < s->cap; i++) {
		uint32_t e = s->slot[i];

		if (e < REL_TOMB && (e & REL_SEES)) {
			if (n < cap)
				out[n] = REL_KEY(e);
			n++;
		}
	}
	return (int)n;
}

static int
inc_scan(struct aoi_inc *in, double x0, double y0, double x1, double y1,
	 double qx, double qy, double r, bool disk, uint32_t *out, uint32_t cap)
{
	int cx0, cy0, cx1, cy1, cx, cy;
	uint32_t n = 0, i;

	if (in->stale)
		inc_rebuild(in);
	aoi_geom_span(&in->g, x0, y0, x1, y1, &cx0, &cy0, &cx1, &cy1);
	for (cy = cy0; cy <= cy1; cy++)
		for (cx = cx0; cx <= cx1; cx++) {
			uint32_t c = (uint32_t)cy * in->g.ncx + cx;

			for (i = in->cstart[c]; i < in->cstart[c + 1]; i++) {
				const struct cell_item *it = &in->items[i];
				bool hit = disk ? wg_aoi_in_range(qx, qy, r, it->x, it->y) :
					   aoi_in_rect(it->x, it->y, x0, y0, x1, y1);

				if (hit) {
					if (n < cap)
						out[n] = ITEM_KEY(it->key);
					n++;
				}
			}
		}
	return (int)n;
}

static int
inc_query_radius(struct wg_aoi *a, float x, float y, float r, uint32_t *out, uint32_t cap)
{
	return inc_scan((struct aoi_inc *)a, (double)x - r, (double)y - r, (double)x + r,
			(double)y + r, x, y, r, true, out, cap);
}

static int
inc_query_rect(struct wg_aoi *a, float x0, float y0, float x1, float y1,
	       uint32_t *out, uint32_t cap)
{
	return inc_scan((struct aoi_inc *)a, x0, y0, x1, y1, 0, 0, 0, false, out, cap);
}

const struct wg_aoi_ops wg_aoi_inc_ops = {
	.name = "inc",
	.create = inc_create,
	.destroy = inc_destroy,
	.insert = inc_insert,
	.remove = inc_remove,
	.move = inc_move,
	.set_radius = inc_set_radius,
	.tick = inc_tick,
	.visible = inc_visible,
	.query_radius = inc_query_radius,
	.query_rect = inc_query_rect,
};
