/* SPDX-License-Identifier: BSD-3-Clause
 * The reference: every tick, every live observer tests every live key and
 * diffs the sorted result against last tick's list. O(n^2) per tick and
 * deliberately simple; the other implementations are tested against it.
 */
#include <stdlib.h>
#include <string.h>

#include "aoi_impl.h"

struct aoi_naive {
	struct wg_aoi base;
	uint32_t **vis;    /* per observer, ascending */
	uint32_t *vn, *vcap;
	uint32_t *scratch;
};

static void naive_destroy(struct wg_aoi *a);

static struct wg_aoi *
naive_create(const struct wg_aoi_conf *conf)
{
	struct aoi_naive *n = calloc(1, sizeof(*n));
	uint32_t cap = conf->capacity;

	if (n == NULL)
		return NULL;
	if (aoi_base_init(&n->base, &wg_aoi_naive_ops, conf) != 0) {
		free(n);
		errno = ENOMEM;
		return NULL;
	}
	n->vis = calloc(cap, sizeof(*n->vis));
	n->vn = calloc(cap, sizeof(uint32_t));
	n->vcap = calloc(cap, sizeof(uint32_t));
	n->scratch = malloc((size_t)cap * sizeof(uint32_t));
	if (!n->vis || !n->vn || !n->vcap || !n->scratch) {
		naive_destroy(&n->base);
		errno = ENOMEM;
		return NULL;
	}
	return &n->base;
}

static void
naive_destroy(struct wg_aoi *a)
{
	struct aoi_naive *n = (struct aoi_naive *)a;
	uint32_t i;

	if (n->vis)
		for (i = 0; i < a->conf.capacity; i++)
			free(n->vis[i]);
	free(n->vis);
	free(n->vn);
	free(n->vcap);
	free(n->scratch);
	aoi_base_fini(a);
	free(n);
}

static int
naive_nop(struct wg_aoi *a, uint32_t key)
{
	(void)a;
	(void)key;
	return 0;
}

static int
naive_move(struct wg_aoi *a, uint32_t key, float x, float y)
{
	(void)a;
	(void)key;
	(void)x;
	(void)y;
	return 0;
}

static int
naive_set_radius(struct wg_aoi *a, uint32_t key, float r)
{
	(void)a;
	(void)key;
	(void)r;
	return 0;
}

static int
naive_tick(struct wg_aoi *a)
{
	struct aoi_naive *n = (struct aoi_naive *)a;
	bool mev = a->conf.flags & WG_AOI_F_MOVE_EVENTS;
	uint32_t cap = a->conf.capacity, o, t;

	for (o = 0; o < cap; o++) {
		uint32_t nn = 0, i = 0, j = 0, *old = n->vis[o], on = n->vn[o];

		if (!(a->st[o] & AOI_S_LIVE)) {
			n->vn[o] = 0;
			continue;
		}
		for (t = 0; t < cap; t++) {
			if (t == o || !(a->st[t] & AOI_S_LIVE))
				continue;
			a->stats.pair_checks++;
			if (wg_aoi_in_range(a->x[o], a->y[o], a->r[o], a->x[t], a->y[t]))
				n->scratch[nn++] = t;
		}
		while (i < on || j < nn) {
			if (j == nn || (i < on && old[i] < n->scratch[j])) {
				aoi_emit(a, o, old[i++], WG_AOI_LEAVE);
			} else if (i == on || n->scratch[j] < old[i]) {
				aoi_emit(a, o, n->scratch[j++], WG_AOI_ENTER);
			} else {
				if (mev && (a->st[old[i]] & AOI_S_MOVED))
					aoi_emit(a, o, old[i], WG_AOI_MOVE);
				i++;
				j++;
			}
		}
		if (nn > n->vcap[o]) {
			uint32_t *v = realloc(n->vis[o], (size_t)nn * sizeof(uint32_t));

			if (v == NULL)
				return -ENOMEM;
			n->vis[o] = v;
			n->vcap[o] = nn;
		}
		if (nn)
			memcpy(n->vis[o], n->scratch, (size_t)nn * sizeof(uint32_t));
		n->vn[o] = nn;
	}
	return 0;
}

static int
naive_visible(struct wg_aoi *a, uint32_t key, uint32_t *out, uint32_t cap)
{
	struct aoi_naive *n = (struct aoi_naive *)a;
	uint32_t c = n->vn[key];

	if (c && cap)
		memcpy(out, n->vis[key], (size_t)(c < cap ? c : cap) * sizeof(uint32_t));
	return (int)c;
}

static int
naive_query_radius(struct wg_aoi *a, float x, float y, float r, uint32_t *out, uint32_t cap)
{
	uint32_t t, c = 0;

	for (t = 0; t < a->conf.capacity; t++)
		if ((a->st[t] & AOI_S_LIVE) && wg_aoi_in_range(x, y, r, a->x[t], a->y[t])) {
			if (c < cap)
				out[c] = t;
			c++;
		}
	return (int)c;
}

static int
naive_query_rect(struct wg_aoi *a, float x0, float y0, float x1, float y1,
		 uint32_t *out, uint32_t cap)
{
	uint32_t t, c = 0;

	for (t = 0; t < a->conf.capacity; t++)
		if ((a->st[t] & AOI_S_LIVE) && aoi_in_rect(a->x[t], a->y[t], x0, y0, x1, y1)) {
			if (c < cap)
				out[c] = t;
			c++;
		}
	return (int)c;
}

const struct wg_aoi_ops wg_aoi_naive_ops = {
	.name = "naive",
	.create = naive_create,
	.destroy = naive_destroy,
	.insert = naive_nop,
	.remove = naive_nop,
	.move = naive_move,
	.set_radius = naive_set_radius,
	.tick = naive_tick,
	.visible = naive_visible,
	.query_radius = naive_query_radius,
	.query_rect = naive_query_rect,
};
