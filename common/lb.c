/* SPDX-License-Identifier: BSD-3-Clause
 * Load-balancing strategies. Sets are small (instances of one service), so
 * the linear strategies scan every slot: O(max_backends) per pick with no
 * branches on shared state, which beats keeping sorted structures up to
 * date. The hash strategy is O(log ring) to find the key's point plus a
 * walk that the load bound keeps short (expected O(1/(c-1)) backends).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "mix.h"

struct ring_point {
	uint64_t hash;
	uint32_t slot;
	uint32_t vnode;            /* tie-break: the sort is total, the ring reproducible */
};

struct wg_lb {
	struct wg_lb_conf conf;
	uint64_t rng;              /* splitmix64 state */
	uint32_t rr_next;          /* RR cursor, also the tie-break start */
	unsigned int n_used;
	unsigned int n_eligible;
	bool zone_active;          /* prefer_zone and a local backend is alive */
	uint32_t ring_n;
	struct ring_point *ring;   /* ring_max points, ring_n used, sorted by hash */
	struct wg_lb_backend b[];  /* max_backends */
};

static const char *const strategy_names[WG_LB_N_STRATEGIES] = {
	[WG_LB_RANDOM] = "random",
	[WG_LB_RR] = "round-robin",
	[WG_LB_SWRR] = "weighted",
	[WG_LB_LEAST_OUTSTANDING] = "least-outstanding",
	[WG_LB_LEAST_LOADED] = "least-loaded",
	[WG_LB_HASH] = "hash",
};


static inline uint64_t
rng_next(struct wg_lb *lb)
{
	uint64_t z = (lb->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) by multiply-shift: bias below 2^-32 for n < 2^32. */
static inline uint64_t
rng_below(struct wg_lb *lb, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(lb) * n) >> 64);
}

static inline bool
eligible(const struct wg_lb *lb, const struct wg_lb_backend *b)
{
	return b->used && b->alive && (!lb->zone_active || b->zone == lb->conf.local_zone);
}

static inline bool
slot_ok(const struct wg_lb *lb, int slot)
{
	return slot >= 0 && slot < lb->conf.max_backends && lb->b[slot].used;
}

/* Recount after any change of membership, liveness or zone. */
static void
refresh(struct wg_lb *lb)
{
	unsigned int used = 0, n = 0;
	bool local = false;

	for (unsigned int i = 0; i < lb->conf.max_backends; i++) {
		const struct wg_lb_backend *b = &lb->b[i];

		if (!b->used)
			continue;
		used++;
		if (b->alive && b->zone == lb->conf.local_zone)
			local = true;
	}
	lb->zone_active = lb->conf.prefer_zone && local;
	for (unsigned int i = 0; i < lb->conf.max_backends; i++)
		if (eligible(lb, &lb->b[i]))
			n++;
	lb->n_used = used;
	lb->n_eligible = n;
}

static int
point_cmp(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->vnode < y->vnode ? -1 : x->vnode > y->vnode;
}

static uint64_t
ring_need(const struct wg_lb *lb)
{
	uint64_t need = 0;

	for (unsigned int i = 0; i < lb->conf.max_backends; i++)
		if (lb->b[i].used)
			need += (uint64_t)lb->b[i].weight * lb->conf.vnodes;
	return need;
}

/* A backend's points depend only on its id and weight, so the ring of a set
 * is the same whatever the order of additions, and adding a backend only
 * inserts points: keys move only to the newcomer. */
static void
ring_build(struct wg_lb *lb)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < lb->conf.max_backends; i++) {
		const struct wg_lb_backend *b = &lb->b[i];
		uint64_t base;

		if (!b->used)
			continue;
		base = wg_mix64(b->id ^ 0x6c62272e07bb0142ull);
		for (uint32_t v = 0; v < b->weight * lb->conf.vnodes; v++) {
			lb->ring[n].hash = wg_mix64(base + (uint64_t)(v + 1) * 0x9e3779b97f4a7c15ull);
			lb->ring[n].slot = i;
			lb->ring[n].vnode = v;
			n++;
		}
	}
	qsort(lb->ring, n, sizeof(lb->ring[0]), point_cmp);
	lb->ring_n = n;
}

struct wg_lb *
wg_lb_create(const struct wg_lb_conf *conf)
{
	struct wg_lb_conf c = *conf;
	struct wg_lb *lb;

	if (c.strategy >= WG_LB_N_STRATEGIES || c.max_backends == 0 ||
	    c.max_backends > WG_LB_MAX_BACKENDS) {
		errno = EINVAL;
		return NULL;
	}
	if (c.vnodes == 0)
		c.vnodes = WG_LB_VNODES_DEFAULT;
	if (c.ring_max == 0)
		c.ring_max = (uint32_t)c.max_backends * c.vnodes * 4;
	if (c.bound_milli == 0)
		c.bound_milli = WG_LB_BOUND_DEFAULT;
	/* below c = 1 the capacities cannot hold every key; above c = 1000 the
	 * bound means nothing and the products in hash_cap could overflow */
	if (c.bound_milli != UINT32_MAX && (c.bound_milli < 1000 || c.bound_milli > 1000000)) {
		errno = EINVAL;
		return NULL;
	}
	lb = calloc(1, sizeof(*lb) + (size_t)c.max_backends * sizeof(lb->b[0]));
	if (lb == NULL)
		return NULL;
	lb->ring = calloc(c.ring_max, sizeof(lb->ring[0]));
	if (lb->ring == NULL) {
		free(lb);
		errno = ENOMEM;
		return NULL;
	}
	lb->conf = c;
	lb->rng = c.seed;
	return lb;
}

void
wg_lb_destroy(struct wg_lb *lb)
{
	if (lb == NULL)
		return;
	free(lb->ring);
	free(lb);
}

int
wg_lb_find(const struct wg_lb *lb, uint64_t id)
{
	for (unsigned int i = 0; i < lb->conf.max_backends; i++)
		if (lb->b[i].used && lb->b[i].id == id)
			return (int)i;
	return -ENOENT;
}

int
wg_lb_add(struct wg_lb *lb, uint64_t id, uint32_t weight, uint32_t zone)
{
	int slot = -1;

	if (weight == 0 || weight > WG_LB_MAX_WEIGHT)
		return -EINVAL;
	if (wg_lb_find(lb, id) >= 0)
		return -EEXIST;
	for (unsigned int i = 0; i < lb->conf.max_backends; i++) {
		if (!lb->b[i].used) {
			slot = (int)i;
			break;
		}
	}
	if (slot < 0)
		return -ENOSPC;
	if (ring_need(lb) + (uint64_t)weight * lb->conf.vnodes > lb->conf.ring_max)
		return -ENOSPC;
	lb->b[slot] = (struct wg_lb_backend){
		.id = id, .weight = weight, .zone = zone, .used = true, .alive = true,
	};
	ring_build(lb);
	refresh(lb);
	return slot;
}

int
wg_lb_remove(struct wg_lb *lb, uint64_t id)
{
	int slot = wg_lb_find(lb, id);

	if (slot < 0)
		return slot;
	memset(&lb->b[slot], 0, sizeof(lb->b[slot]));
	ring_build(lb);
	refresh(lb);
	return 0;
}

int
wg_lb_set_alive(struct wg_lb *lb, int slot, bool alive)
{
	if (!slot_ok(lb, slot))
		return -ENOENT;
	if (lb->b[slot].alive != alive) {
		lb->b[slot].alive = alive;
		/* a returning backend starts level with the others instead of
		 * cashing in the credit it held when it died */
		lb->b[slot].swrr_current = 0;
		refresh(lb);
	}
	return 0;
}

int
wg_lb_set_weight(struct wg_lb *lb, int slot, uint32_t weight)
{
	uint32_t old;

	if (!slot_ok(lb, slot))
		return -ENOENT;
	if (weight == 0 || weight > WG_LB_MAX_WEIGHT)
		return -EINVAL;
	old = lb->b[slot].weight;
	if (old == weight)
		return 0;
	if (ring_need(lb) - (uint64_t)old * lb->conf.vnodes +
	    (uint64_t)weight * lb->conf.vnodes > lb->conf.ring_max)
		return -ENOSPC;
	lb->b[slot].weight = weight;
	ring_build(lb);
	return 0;
}

int
wg_lb_set_load(struct wg_lb *lb, int slot, uint32_t load)
{
	if (!slot_ok(lb, slot))
		return -ENOENT;
	lb->b[slot].load = load;
	return 0;
}

int
wg_lb_acquire(struct wg_lb *lb, int slot)
{
	if (!slot_ok(lb, slot))
		return -ENOENT;
	if (lb->b[slot].outstanding == UINT32_MAX)
		return -EOVERFLOW;
	lb->b[slot].outstanding++;
	return 0;
}

int
wg_lb_release(struct wg_lb *lb, int slot)
{
	if (!slot_ok(lb, slot))
		return -ENOENT;
	if (lb->b[slot].outstanding == 0)
		return -ERANGE;
	lb->b[slot].outstanding--;
	return 0;
}

const struct wg_lb_backend *
wg_lb_backend(const struct wg_lb *lb, int slot)
{
	return slot_ok(lb, slot) ? &lb->b[slot] : NULL;
}

unsigned int
wg_lb_count(const struct wg_lb *lb)
{
	return lb->n_used;
}

unsigned int
wg_lb_eligible(const struct wg_lb *lb)
{
	return lb->n_eligible;
}

static inline int
picked(struct wg_lb *lb, unsigned int slot)
{
	lb->b[slot].picks++;
	return (int)slot;
}

int
wg_lb_pick_random(struct wg_lb *lb)
{
	uint64_t total = 0, r;

	if (lb->n_eligible == 0)
		return -EHOSTUNREACH;
	for (unsigned int i = 0; i < lb->conf.max_backends; i++)
		if (eligible(lb, &lb->b[i]))
			total += lb->b[i].weight;
	r = rng_below(lb, total);
	for (unsigned int i = 0; i < lb->conf.max_backends; i++) {
		if (!eligible(lb, &lb->b[i]))
			continue;
		if (r < lb->b[i].weight)
			return picked(lb, i);
		r -= lb->b[i].weight;
	}
	return -EHOSTUNREACH;   /* unreachable: r < total */
}

int
wg_lb_pick_rr(struct wg_lb *lb)
{
	unsigned int n = lb->conf.max_backends;

	if (lb->n_eligible == 0)
		return -EHOSTUNREACH;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = (lb->rr_next + k) % n;

		if (eligible(lb, &lb->b[i])) {
			lb->rr_next = (i + 1) % n;
			return picked(lb, i);
		}
	}
	return -EHOSTUNREACH;
}

/* nginx's smooth weighted round-robin: every eligible backend gains its
 * weight, the richest is chosen and pays the total. Over any window of
 * sum(weights) picks each backend is chosen exactly weight times, spread
 * out instead of in bursts. Ties go to the lowest slot, as in nginx. */
int
wg_lb_pick_swrr(struct wg_lb *lb)
{
	struct wg_lb_backend *best = NULL;
	int64_t total = 0;
	unsigned int best_i = 0;

	if (lb->n_eligible == 0)
		return -EHOSTUNREACH;
	for (unsigned int i = 0; i < lb->conf.max_backends; i++) {
		struct wg_lb_backend *b = &lb->b[i];

		if (!eligible(lb, b))
			continue;
		b->swrr_current += b->weight;
		total += b->weight;
		if (best == NULL || b->swrr_current > best->swrr_current) {
			best = b;
			best_i = i;
		}
	}
	best->swrr_current -= total;
	return picked(lb, best_i);
}

/* Lowest metric/weight (compared by cross-multiplying, no division), scanning
 * from the RR cursor so equal backends take turns. */
static int
pick_least(struct wg_lb *lb, bool by_load)
{
	unsigned int n = lb->conf.max_backends;
	int best = -1;
	uint64_t bm = 0, bw = 1;

	if (lb->n_eligible == 0)
		return -EHOSTUNREACH;
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = (lb->rr_next + k) % n;
		const struct wg_lb_backend *b = &lb->b[i];
		uint64_t m;

		if (!eligible(lb, b))
			continue;
		m = by_load ? b->load : b->outstanding;
		if (best < 0 || m * bw < bm * b->weight) {
			best = (int)i;
			bm = m;
			bw = b->weight;
		}
	}
	lb->rr_next = ((unsigned int)best + 1) % n;
	return picked(lb, (unsigned int)best);
}

int
wg_lb_pick_least_outstanding(struct wg_lb *lb)
{
	return pick_least(lb, false);
}

int
wg_lb_pick_least_loaded(struct wg_lb *lb)
{
	return pick_least(lb, true);
}

/* First ring point at or after h (wrapping). */
static uint32_t
ring_search(const struct wg_lb *lb, uint64_t h)
{
	uint32_t lo = 0, hi = lb->ring_n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (lb->ring[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == lb->ring_n ? 0 : lo;
}

static void
eligible_sums(const struct wg_lb *lb, uint64_t *load, uint64_t *weight)
{
	uint64_t l = 0, w = 0;

	for (unsigned int i = 0; i < lb->conf.max_backends; i++) {
		if (!eligible(lb, &lb->b[i]))
			continue;
		l += lb->b[i].outstanding;
		w += lb->b[i].weight;
	}
	*load = l;
	*weight = w;
}

/* ceil(c * (total + 1) * w / W): the share of the keys (counting the one
 * being placed) this backend may hold. Since c >= 1 the capacities add up
 * to at least total + 1, so some eligible backend always has room. */
static inline uint64_t
hash_cap(const struct wg_lb *lb, uint64_t total, uint64_t wsum, uint32_t w)
{
	uint64_t num = (uint64_t)lb->conf.bound_milli * (total + 1) * w;
	uint64_t den = 1000 * wsum;

	return (num + den - 1) / den;
}

uint32_t
wg_lb_hash_capacity(const struct wg_lb *lb, int slot)
{
	uint64_t total, wsum, cap;

	if (!slot_ok(lb, slot) || lb->n_eligible == 0)
		return 0;
	if (lb->conf.bound_milli == UINT32_MAX)
		return UINT32_MAX;
	eligible_sums(lb, &total, &wsum);
	cap = hash_cap(lb, total, wsum, lb->b[slot].weight);
	return cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
}

int
wg_lb_pick_hash_unbounded(const struct wg_lb *lb, uint64_t key)
{
	uint32_t start;

	if (lb->n_eligible == 0 || lb->ring_n == 0)
		return -EHOSTUNREACH;
	start = ring_search(lb, wg_mix64(key));
	for (uint32_t k = 0; k < lb->ring_n; k++) {
		const struct ring_point *p = &lb->ring[(start + k) % lb->ring_n];

		if (eligible(lb, &lb->b[p->slot]))
			return (int)p->slot;
	}
	return -EHOSTUNREACH;
}

int
wg_lb_pick_hash(struct wg_lb *lb, uint64_t key)
{
	uint64_t total, wsum;
	uint32_t start;

	if (lb->n_eligible == 0 || lb->ring_n == 0)
		return -EHOSTUNREACH;
	if (lb->conf.bound_milli == UINT32_MAX) {
		int s = wg_lb_pick_hash_unbounded(lb, key);

		return s < 0 ? s : picked(lb, (unsigned int)s);
	}
	eligible_sums(lb, &total, &wsum);
	start = ring_search(lb, wg_mix64(key));
	for (uint32_t k = 0; k < lb->ring_n; k++) {
		const struct ring_point *p = &lb->ring[(start + k) % lb->ring_n];
		const struct wg_lb_backend *b = &lb->b[p->slot];

		if (eligible(lb, b) && b->outstanding < hash_cap(lb, total, wsum, b->weight))
			return picked(lb, p->slot);
	}
	return -EHOSTUNREACH;   /* unreachable while outstanding counts are honest */
}

int
wg_lb_pick(struct wg_lb *lb, uint64_t key)
{
	switch (lb->conf.strategy) {
	case WG_LB_RANDOM:
		return wg_lb_pick_random(lb);
	case WG_LB_RR:
		return wg_lb_pick_rr(lb);
	case WG_LB_SWRR:
		return wg_lb_pick_swrr(lb);
	case WG_LB_LEAST_OUTSTANDING:
		return wg_lb_pick_least_outstanding(lb);
	case WG_LB_LEAST_LOADED:
		return wg_lb_pick_least_loaded(lb);
	case WG_LB_HASH:
		return wg_lb_pick_hash(lb, key);
	case WG_LB_N_STRATEGIES:
		break;
	}
	return -EINVAL;
}

int
wg_lb_strategy_parse(const char *s, enum wg_lb_strategy *out)
{
	for (int i = 0; i < WG_LB_N_STRATEGIES; i++) {
		if (strcmp(s, strategy_names[i]) == 0) {
			*out = (enum wg_lb_strategy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
wg_lb_strategy_name(enum wg_lb_strategy s)
{
	return s < WG_LB_N_STRATEGIES ? strategy_names[s] : "?";
}

void
wg_lb_dump(FILE *f, const struct wg_lb *lb)
{
	fprintf(f, "lb %s: %u backends, %u eligible, ring %u/%u points, bound %u/1000%s\n",
		wg_lb_strategy_name(lb->conf.strategy), lb->n_used, lb->n_eligible,
		lb->ring_n, lb->conf.ring_max, lb->conf.bound_milli,
		lb->zone_active ? ", local zone only" : "");
	for (unsigned int i = 0; i < lb->conf.max_backends; i++) {
		const struct wg_lb_backend *b = &lb->b[i];

		if (!b->used)
			continue;
		fprintf(f, "  [%u] id %llu w %u zone %u %s out %u load %u picks %llu\n",
			i, (unsigned long long)b->id, b->weight, b->zone,
			b->alive ? "up" : "DOWN", b->outstanding, b->load,
			(unsigned long long)b->picks);
	}
}
