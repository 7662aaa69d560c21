/* SPDX-License-Identifier: BSD-3-Clause
 * AOI front end: argument checks, the per-key state every implementation
 * shares, and the tick's event sort (LSD radix on the packed pair, so a
 * tick with 10^5..10^6 events sorts in a few linear passes).
 */
#include <stdlib.h>
#include <string.h>

#include "aoi_impl.h"

static const struct wg_aoi_ops *const all_ops[] = {
	&wg_aoi_naive_ops, &wg_aoi_ninegrid_ops, &wg_aoi_grid_ops, &wg_aoi_inc_ops,
};

const struct wg_aoi_ops *
wg_aoi_ops_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++)
		if (strcmp(all_ops[i]->name, name) == 0)
			return all_ops[i];
	return NULL;
}

void
aoi_geom_init(struct aoi_geom *g, const struct wg_aoi_conf *conf, double cell)
{
	double nx = ceil(conf->width / cell), ny = ceil(conf->height / cell);

	g->min_x = conf->min_x;
	g->min_y = conf->min_y;
	g->cell = cell;
	g->inv = 1.0 / cell;
	/* a few million cells at most: tiny cells in a huge world would cost
	 * more memory than the entities */
	g->ncx = nx < 1 ? 1 : nx > 4096 ? 4096 : (int)nx;
	g->ncy = ny < 1 ? 1 : ny > 4096 ? 4096 : (int)ny;
	if (g->ncx * cell < conf->width || g->ncy * cell < conf->height) {
		/* clamped: grow the cell so the grid still spans the world */
		double c = fmax(conf->width / g->ncx, conf->height / g->ncy);

		g->cell = c;
		g->inv = 1.0 / c;
	}
}

int
aoi_base_init(struct wg_aoi *a, const struct wg_aoi_ops *ops, const struct wg_aoi_conf *conf)
{
	uint32_t n = conf->capacity;

	a->ops = ops;
	a->conf = *conf;
	a->x = calloc(n, sizeof(float));
	a->y = calloc(n, sizeof(float));
	a->r = calloc(n, sizeof(float));
	a->st = calloc(n, 1);
	a->touched = malloc((size_t)n * sizeof(uint32_t));
	if (!a->x || !a->y || !a->r || !a->st || !a->touched) {
		aoi_base_fini(a);
		return -ENOMEM;
	}
	return 0;
}

void
aoi_base_fini(struct wg_aoi *a)
{
	free(a->x);
	free(a->y);
	free(a->r);
	free(a->st);
	free(a->touched);
	free(a->ev);
	free(a->ev_tmp);
	free(a->out);
}

int
aoi_ev_grow(struct wg_aoi *a)
{
	uint32_t cap = a->ev_cap ? a->ev_cap * 2 : 4096;
	uint64_t *ev, *tmp;

	if (a->err != 0)
		return a->err;
	ev = realloc(a->ev, (size_t)cap * sizeof(*ev));
	if (ev == NULL)
		goto nomem;
	a->ev = ev;
	tmp = realloc(a->ev_tmp, (size_t)cap * sizeof(*tmp));
	if (tmp == NULL)
		goto nomem;
	a->ev_tmp = tmp;
	a->ev_cap = cap;
	return 0;
nomem:
	a->err = -ENOMEM;
	return a->err;
}

static bool
conf_ok(const struct wg_aoi_conf *c)
{
	return c->capacity > 0 && c->capacity <= WG_AOI_MAX_KEYS &&
	       isfinite(c->min_x) && isfinite(c->min_y) &&
	       isfinite(c->width) && c->width > 0 && isfinite(c->height) && c->height > 0 &&
	       isfinite(c->view_radius) && c->view_radius >= 0 &&
	       isfinite(c->cell) && c->cell >= 0 && !(c->flags & ~WG_AOI_F_MASK);
}

struct wg_aoi *
wg_aoi_create(const struct wg_aoi_ops *ops, const struct wg_aoi_conf *conf)
{
	if (ops == NULL || conf == NULL || !conf_ok(conf)) {
		errno = EINVAL;
		return NULL;
	}
	return ops->create(conf);
}

void
wg_aoi_destroy(struct wg_aoi *a)
{
	if (a != NULL)
		a->ops->destroy(a);
}

const char *
wg_aoi_name(const struct wg_aoi *a)
{
	return a->ops->name;
}

static void
touch(struct wg_aoi *a, uint32_t key, uint8_t bits)
{
	if (!(a->st[key] & AOI_S_TOUCHED))
		a->touched[a->ntouched++] = key;
	a->st[key] |= bits | AOI_S_TOUCHED;
}

static bool
radius_ok(float r)
{
	return isfinite(r) && r >= 0;
}

int
wg_aoi_insert(struct wg_aoi *a, uint32_t key, float x, float y, float radius)
{
	int rc;

	if (key >= a->conf.capacity || !isfinite(x) || !isfinite(y) || !radius_ok(radius))
		return -EINVAL;
	if (a->st[key] & AOI_S_LIVE)
		return -EEXIST;
	if (a->st[key] & AOI_S_DEAD)
		return -EBUSY;
	a->x[key] = x;
	a->y[key] = y;
	a->r[key] = radius;
	a->st[key] |= AOI_S_LIVE;
	rc = a->ops->insert(a, key);
	if (rc != 0) {
		a->st[key] &= ~AOI_S_LIVE;
		return rc;
	}
	touch(a, key, AOI_S_NEW);
	a->live++;
	return 0;
}

int
wg_aoi_remove(struct wg_aoi *a, uint32_t key)
{
	int rc;

	if (key >= a->conf.capacity)
		return -EINVAL;
	if (!(a->st[key] & AOI_S_LIVE))
		return -ENOENT;
	rc = a->ops->remove(a, key);
	if (rc != 0)
		return rc;
	a->st[key] &= ~AOI_S_LIVE;
	touch(a, key, AOI_S_DEAD);
	a->live--;
	return 0;
}

int
wg_aoi_move(struct wg_aoi *a, uint32_t key, float x, float y)
{
	int rc;

	if (key >= a->conf.capacity || !isfinite(x) || !isfinite(y))
		return -EINVAL;
	if (!(a->st[key] & AOI_S_LIVE))
		return -ENOENT;
	rc = a->ops->move(a, key, x, y);
	if (rc != 0)
		return rc;
	a->x[key] = x;
	a->y[key] = y;
	touch(a, key, AOI_S_MOVED);
	return 0;
}

int
wg_aoi_set_radius(struct wg_aoi *a, uint32_t key, float radius)
{
	int rc;

	if (key >= a->conf.capacity || !radius_ok(radius))
		return -EINVAL;
	if (!(a->st[key] & AOI_S_LIVE))
		return -ENOENT;
	rc = a->ops->set_radius(a, key, radius);
	if (rc != 0)
		return rc;
	a->r[key] = radius;
	touch(a, key, AOI_S_RADIUS);
	return 0;
}

/* LSD radix sort of packed events on bits 2..41 (observer, target): four
 * 10-bit digits, skipping digits that are equal in every event. */
static void
ev_sort(struct wg_aoi *a)
{
	uint64_t *src = a->ev, *dst = a->ev_tmp, *t;
	uint32_t cnt[1024];
	uint32_t i, n = a->nev;
	int shift;

	for (shift = 2; shift < 42; shift += 10) {
		uint32_t sum = 0;
		bool one = false;

		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i] >> shift) & 1023]++;
		for (i = 0; i < 1024; i++) {
			uint32_t c = cnt[i];

			if (c == n)
				one = true;
			cnt[i] = sum;
			sum += c;
		}
		if (one)
			continue;
		for (i = 0; i < n; i++)
			dst[cnt[(src[i] >> shift) & 1023]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	a->ev = src;
	a->ev_tmp = dst;
}

int
wg_aoi_tick(struct wg_aoi *a, const struct wg_aoi_event **ev)
{
	uint32_t i, n = 0;
	int rc;

	rc = a->ops->tick(a);
	if (rc == 0)
		rc = a->err;
	if (rc != 0) {
		/* no partial answer: the caller's view would silently diverge */
		a->err = 0;
		a->nev = 0;
		return rc;
	}
	if (a->nev > 1)
		ev_sort(a);
	if (a->out_cap < a->nev) {
		struct wg_aoi_event *o = realloc(a->out, (size_t)a->ev_cap * sizeof(*o));

		if (o == NULL) {
			a->nev = 0;
			return -ENOMEM;
		}
		a->out = o;
		a->out_cap = a->ev_cap;
	}
	for (i = 0; i < a->nev; i++) {
		uint64_t e = a->ev[i];
		uint32_t o = (uint32_t)(e >> 22);

		/* an observer removed later in the tick gets nothing */
		if (a->st[o] & AOI_S_DEAD)
			continue;
		a->out[n].observer = o;
		a->out[n].target = (uint32_t)(e >> 2) & (WG_AOI_MAX_KEYS - 1);
		a->out[n].kind = (uint32_t)e & 3;
		switch (a->out[n].kind) {
		case WG_AOI_ENTER:
			a->stats.enters++;
			break;
		case WG_AOI_LEAVE:
			a->stats.leaves++;
			break;
		default:
			a->stats.moves++;
		}
		n++;
	}
	a->nev = 0;
	for (i = 0; i < a->ntouched; i++) {
		uint32_t k = a->touched[i];

		a->st[k] = a->st[k] & AOI_S_DEAD ? 0 : a->st[k] & AOI_S_LIVE;
	}
	a->ntouched = 0;
	a->stats.ticks++;
	*ev = a->out;
	return (int)n;
}

static int
cmp_u32(const void *p, const void *q)
{
	uint32_t a = *(const uint32_t *)p, b = *(const uint32_t *)q;

	return (a > b) - (a < b);
}

static int
sorted(int rc, uint32_t *out, uint32_t cap)
{
	if (rc > 1 && (uint32_t)rc <= cap)
		qsort(out, (size_t)rc, sizeof(*out), cmp_u32);
	return rc;
}

int
wg_aoi_visible(struct wg_aoi *a, uint32_t key, uint32_t *out, uint32_t cap)
{
	if (key >= a->conf.capacity)
		return -EINVAL;
	if (!(a->st[key] & AOI_S_LIVE))
		return -ENOENT;
	return sorted(a->ops->visible(a, key, out, cap), out, cap);
}

int
wg_aoi_query_radius(struct wg_aoi *a, float x, float y, float r, uint32_t *out, uint32_t cap)
{
	if (!isfinite(x) || !isfinite(y) || !radius_ok(r))
		return -EINVAL;
	return sorted(a->ops->query_radius(a, x, y, r, out, cap), out, cap);
}

int
wg_aoi_query_rect(struct wg_aoi *a, float x0, float y0, float x1, float y1,
		  uint32_t *out, uint32_t cap)
{
	if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) || x0 > x1 || y0 > y1)
		return -EINVAL;
	return sorted(a->ops->query_rect(a, x0, y0, x1, y1, out, cap), out, cap);
}

void
wg_aoi_stats(const struct wg_aoi *a, struct wg_aoi_stats *st)
{
	*st = a->stats;
	st->live = a->live;
}

void
wg_aoi_dump(FILE *f, const struct wg_aoi *a)
{
	fprintf(f, "aoi %s: live %u cap %u ticks %llu enters %llu leaves %llu moves %llu "
		"checks %llu\n", a->ops->name, a->live, a->conf.capacity,
		(unsigned long long)a->stats.ticks, (unsigned long long)a->stats.enters,
		(unsigned long long)a->stats.leaves, (unsigned long long)a->stats.moves,
		(unsigned long long)a->stats.pair_checks);
}
