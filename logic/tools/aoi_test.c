/* SPDX-License-Identifier: BSD-3-Clause
 * aoi_test: AOI scenarios for benchmarks and cross-checks.
 *
 * The standard scenario (issue 7): a 10000 x 10000 world, N entities, 10%
 * of them moving up to 10 units per tick, view radius
 * R = sqrt(64 W H / (pi N)) so a uniform entity sees ~64 others. Scenarios:
 *   uniform    everything uniform
 *   clustered  80% in 20 Gaussian crowds (sigma 150), 20% uniform
 *   onecell    everything inside one R x R square (everybody sees everybody)
 *   teleport   uniform, and a tenth of the movers jump anywhere each tick
 * With -x, radii vary (including 0 and a few huge ones) and 1% of the
 * entities despawn/respawn and 1% change radius each tick.
 *
 * Timing per tick = applying the moves + the AOI tick (events sorted, and
 * every observer's visible list current). Each algorithm replays the same
 * seeded operations. -c runs them in lockstep instead and compares every
 * tick's events and the final visible lists with the first one listed;
 * exit status 1 on any difference.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aoi.h"

#define WORLD 10000.0
#define MAX_ALGOS 8

enum op_kind { OP_MOVE, OP_REMOVE, OP_INSERT, OP_RADIUS };

struct op {
	uint32_t kind, key;
	float x, y, r;
};

struct gen {
	uint64_t rng;
	uint32_t n, nmovers;
	int scenario;
	bool mixed;
	double R;
	float *x, *y, *r, *dir;
	uint8_t *live;
	uint32_t *movers;
	double cx[20], cy[20];
	struct op *ops;
	uint32_t nops, ops_cap;
};

static const char *const scenarios[] = { "uniform", "clustered", "onecell", "teleport" };

static uint64_t
rnd(struct gen *g)
{
	/* xorshift64* */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static double
unif(struct gen *g)
{
	return (rnd(g) >> 11) * (1.0 / 9007199254740992.0);
}

static double
gauss(struct gen *g)
{
	double u = unif(g), v = unif(g);

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static double
clampw(double v)
{
	return v < 0 ? 0 : v > WORLD ? WORLD : v;
}

static void
place(struct gen *g, uint32_t i)
{
	switch (g->scenario) {
	case 1:
		if (i % 5 != 0) {
			uint32_t c = (uint32_t)(rnd(g) % 20);

			g->x[i] = (float)clampw(g->cx[c] + 150 * gauss(g));
			g->y[i] = (float)clampw(g->cy[c] + 150 * gauss(g));
			return;
		}
		break;
	case 2:
		g->x[i] = (float)(WORLD / 2 + g->R * unif(g));
		g->y[i] = (float)(WORLD / 2 + g->R * unif(g));
		return;
	}
	g->x[i] = (float)(WORLD * unif(g));
	g->y[i] = (float)(WORLD * unif(g));
}

static float
pick_radius(struct gen *g)
{
	uint64_t v;

	if (!g->mixed)
		return (float)g->R;
	v = rnd(g) % 100;
	if (v < 3)
		return 0;
	if (v < 5)
		return (float)(g->R * 8);   /* a "large" observer */
	return (float)(g->R * (0.25 + 1.5 * unif(g)));
}

static void
push(struct gen *g, uint32_t kind, uint32_t key, float x, float y, float r)
{
	if (g->nops == g->ops_cap) {
		g->ops_cap = g->ops_cap ? g->ops_cap * 2 : 1024;
		g->ops = realloc(g->ops, g->ops_cap * sizeof(*g->ops));
		if (g->ops == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	g->ops[g->nops++] = (struct op){ kind, key, x, y, r };
}

static void
gen_init(struct gen *g, int scenario, uint32_t n, bool mixed, uint64_t seed)
{
	uint32_t i;

	memset(g, 0, sizeof(*g));
	g->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	g->n = n;
	g->scenario = scenario;
	g->mixed = mixed;
	g->R = sqrt(64 * WORLD * WORLD / (M_PI * n));
	g->x = malloc(n * sizeof(float));
	g->y = malloc(n * sizeof(float));
	g->r = malloc(n * sizeof(float));
	g->dir = malloc(n * sizeof(float));
	g->live = malloc(n);
	g->movers = malloc(n * sizeof(uint32_t));
	if (!g->x || !g->y || !g->r || !g->dir || !g->live || !g->movers) {
		perror("malloc");
		exit(2);
	}
	for (i = 0; i < 20; i++) {
		g->cx[i] = 500 + (WORLD - 1000) * unif(g);
		g->cy[i] = 500 + (WORLD - 1000) * unif(g);
	}
	for (i = 0; i < n; i++) {
		place(g, i);
		g->r[i] = pick_radius(g);
		g->dir[i] = (float)(2 * M_PI * unif(g));
		g->live[i] = 1;
		push(g, OP_INSERT, i, g->x[i], g->y[i], g->r[i]);
	}
	/* a fixed tenth moves: a random subset */
	for (i = 0; i < n; i++)
		if (rnd(g) % 10 == 0)
			g->movers[g->nmovers++] = i;
}

static void
gen_free(struct gen *g)
{
	free(g->x);
	free(g->y);
	free(g->r);
	free(g->dir);
	free(g->live);
	free(g->movers);
	free(g->ops);
}

/* One tick's operations into g->ops. */
static void
gen_tick(struct gen *g)
{
	uint32_t i;

	g->nops = 0;
	for (i = 0; i < g->nmovers; i++) {
		uint32_t k = g->movers[i];
		double step = 10 * unif(g);

		if (!g->live[k])
			continue;
		if (g->scenario == 3 && rnd(g) % 10 == 0) {
			g->x[k] = (float)(WORLD * unif(g));
			g->y[k] = (float)(WORLD * unif(g));
		} else {
			g->dir[k] += (float)(0.5 * (unif(g) - 0.5));
			g->x[k] = (float)clampw(g->x[k] + step * cos(g->dir[k]));
			g->y[k] = (float)clampw(g->y[k] + step * sin(g->dir[k]));
			if (g->x[k] == 0 || g->x[k] == WORLD || g->y[k] == 0 || g->y[k] == WORLD)
				g->dir[k] += (float)M_PI;
		}
		push(g, OP_MOVE, k, g->x[k], g->y[k], 0);
	}
	if (!g->mixed)
		return;
	for (i = 0; i < g->n / 100 + 1; i++) {
		uint32_t k = (uint32_t)(rnd(g) % g->n);

		if (g->live[k]) {
			g->live[k] = 0;
			push(g, OP_REMOVE, k, 0, 0, 0);
		}
		k = (uint32_t)(rnd(g) % g->n);
		if (g->live[k]) {
			g->r[k] = pick_radius(g);
			push(g, OP_RADIUS, k, 0, 0, g->r[k]);
		}
	}
	/* respawn some of those removed in earlier ticks (not this one: the
	 * AOI refuses a key inside the tick that removed it) */
	for (i = 0; i < g->n / 100 + 1; i++) {
		uint32_t k = (uint32_t)(rnd(g) % g->n), j;
		bool removed_now = false;

		if (g->live[k])
			continue;
		for (j = 0; j < g->nops; j++)
			if (g->ops[j].kind == OP_REMOVE && g->ops[j].key == k)
				removed_now = true;
		if (removed_now)
			continue;
		place(g, k);
		g->r[k] = pick_radius(g);
		g->live[k] = 1;
		push(g, OP_INSERT, k, g->x[k], g->y[k], g->r[k]);
	}
}

static void
apply(struct wg_aoi *a, const struct gen *g)
{
	uint32_t i;
	int rc = 0;

	for (i = 0; i < g->nops; i++) {
		const struct op *o = &g->ops[i];

		switch (o->kind) {
		case OP_MOVE:
			rc = wg_aoi_move(a, o->key, o->x, o->y);
			break;
		case OP_REMOVE:
			rc = wg_aoi_remove(a, o->key);
			break;
		case OP_INSERT:
			rc = wg_aoi_insert(a, o->key, o->x, o->y, o->r);
			break;
		default:
			rc = wg_aoi_set_radius(a, o->key, o->r);
		}
		if (rc != 0) {
			fprintf(stderr, "%s: op %u on key %u: %s\n", wg_aoi_name(a), o->kind,
				o->key, strerror(-rc));
			exit(2);
		}
	}
}

/* Thread CPU time by default: the machines this runs on are shared, and
 * being preempted is not the algorithm's cost (-W: wall clock). */
static clockid_t clock_id = CLOCK_THREAD_CPUTIME_ID;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(clock_id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct wg_aoi *
make(const struct wg_aoi_ops *ops, uint32_t n, double R, float cell, bool mev)
{
	struct wg_aoi_conf c = {
		.min_x = 0, .min_y = 0, .width = WORLD, .height = WORLD,
		.view_radius = (float)R, .cell = cell, .capacity = n,
		.flags = mev ? WG_AOI_F_MOVE_EVENTS : 0,
	};
	struct wg_aoi *a = wg_aoi_create(ops, &c);

	if (a == NULL) {
		fprintf(stderr, "create %s: %s\n", ops->name, strerror(errno));
		exit(2);
	}
	return a;
}

static int
check(const struct wg_aoi_ops **ops, int nalg, int scenario, uint32_t n, uint32_t ticks,
      bool mixed, bool mev, uint64_t seed, float cell)
{
	struct wg_aoi *a[MAX_ALGOS];
	uint32_t *va = malloc(n * sizeof(uint32_t)), *vb = malloc(n * sizeof(uint32_t));
	uint64_t total = 0;
	struct gen g;
	uint32_t t, k;
	int i, bad = 0;

	gen_init(&g, scenario, n, mixed, seed);
	for (i = 0; i < nalg; i++)
		a[i] = make(ops[i], n, g.R, cell, mev);
	for (t = 0; t <= ticks && !bad; t++) {
		const struct wg_aoi_event *e0 = NULL, *e;
		int n0 = 0, ni;

		if (t > 0)
			gen_tick(&g);
		for (i = 0; i < nalg; i++) {
			apply(a[i], &g);
			ni = wg_aoi_tick(a[i], &e);
			if (ni < 0) {
				fprintf(stderr, "%s: tick: %s\n", ops[i]->name, strerror(-ni));
				return 2;
			}
			if (i == 0) {
				e0 = e;
				n0 = ni;
				total += (uint64_t)ni;
			} else if (ni != n0 || (ni > 0 && memcmp(e, e0, (size_t)ni * sizeof(*e)) != 0)) {
				int j;

				fprintf(stderr, "tick %u: %s has %d events, %s %d\n", t,
					ops[i]->name, ni, ops[0]->name, n0);
				for (j = 0; j < ni && j < n0; j++)
					if (memcmp(&e[j], &e0[j], sizeof(*e)) != 0) {
						fprintf(stderr, "  first difference at %d: (%u,%u,%u) vs "
							"(%u,%u,%u)\n", j, e[j].observer, e[j].target,
							e[j].kind, e0[j].observer, e0[j].target,
							e0[j].kind);
						break;
					}
				bad = 1;
			}
		}
	}
	for (k = 0; k < n && !bad; k++) {
		int c0, ci;

		if (!g.live[k])
			continue;
		c0 = wg_aoi_visible(a[0], k, va, n);
		for (i = 1; i < nalg; i++) {
			ci = wg_aoi_visible(a[i], k, vb, n);
			if (ci != c0 || (c0 > 0 && memcmp(va, vb, (size_t)c0 * 4) != 0)) {
				fprintf(stderr, "key %u: %s sees %d, %s %d\n", k, ops[i]->name, ci,
					ops[0]->name, c0);
				bad = 1;
			}
		}
	}
	printf("check %s n=%u ticks=%u mixed=%d move_events=%d seed=%llu: %llu events, %s\n",
	       scenarios[scenario], n, ticks, mixed, mev, (unsigned long long)seed,
	       (unsigned long long)total, bad ? "MISMATCH" : "all implementations agree");
	for (i = 0; i < nalg; i++)
		wg_aoi_destroy(a[i]);
	gen_free(&g);
	free(va);
	free(vb);
	return bad;
}

struct result {
	double mean, p99, setup, evps;
	uint64_t events;
	uint64_t checks;      /* distance tests in the timed ticks */
};

static void
bench_one(const struct wg_aoi_ops *ops, int scenario, uint32_t n, uint32_t ticks,
	  uint32_t warm, bool mixed, bool mev, uint64_t seed, float cell, struct result *res)
{
	double *ms = malloc(ticks * sizeof(double)), t0, sum = 0;
	const struct wg_aoi_event *e;
	struct wg_aoi_stats st;
	uint64_t checks0;
	struct wg_aoi *a;
	struct gen g;
	uint32_t t;
	int ne;

	gen_init(&g, scenario, n, mixed, seed);
	a = make(ops, n, g.R, cell, mev);
	t0 = now_ms();
	apply(a, &g);
	ne = wg_aoi_tick(a, &e);
	res->setup = now_ms() - t0;
	res->events = 0;
	wg_aoi_stats(a, &st);
	checks0 = st.pair_checks;
	for (t = 0; t < warm + ticks && ne >= 0; t++) {
		gen_tick(&g);
		if (t == warm) {
			wg_aoi_stats(a, &st);
			checks0 = st.pair_checks;
		}
		t0 = now_ms();
		apply(a, &g);
		ne = wg_aoi_tick(a, &e);
		if (t >= warm) {
			ms[t - warm] = now_ms() - t0;
			sum += ms[t - warm];
			res->events += (uint64_t)ne;
		}
	}
	if (ne < 0) {
		fprintf(stderr, "%s: tick: %s\n", ops->name, strerror(-ne));
		exit(2);
	}
	wg_aoi_stats(a, &st);
	res->checks = st.pair_checks - checks0;
	res->mean = sum / ticks;
	qsort(ms, ticks, sizeof(double), cmp_d);
	res->p99 = ms[(uint32_t)ceil(0.99 * ticks) - 1];
	res->evps = res->events / (sum / 1e3);
	wg_aoi_destroy(a);
	gen_free(&g);
	free(ms);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: aoi_test [-n entities[,..]] [-t ticks] [-w warmup] [-s scenario[,..]]\n"
		"                [-a algo[,..]] [-S seed] [-C cell] [-c] [-x] [-m]\n"
		"  scenarios: uniform clustered onecell teleport (default uniform)\n"
		"  algos: naive ninegrid grid inc (default all; naive only if n <= 20000)\n"
		"  -c lockstep cross-check against the first algo  -x mixed radii + churn\n"
		"  -m move events  -C cell edge for grid/inc (0: tuned default)\n"
		"  -W time with the wall clock (default: thread CPU time)\n");
}

static int run_size(uint32_t n, const char *algos, const char *scen, uint32_t ticks,
		    uint32_t warm, bool do_check, bool mixed, bool mev, uint64_t seed, float cell);

int
main(int argc, char **argv)
{
	const char *algos = "naive,ninegrid,grid,inc", *scen = "uniform";
	uint32_t n = 10000, ticks = 100, warm = 5, ni;
	const char *sizes = "10000";
	bool do_check = false, mixed = false, mev = false;
	uint64_t seed = 1;
	float cell = 0;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "n:t:w:s:a:S:C:cxmWh")) != -1) {
		switch (opt) {
		case 'n': sizes = optarg; break;
		case 't': ticks = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'w': warm = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': scen = optarg; break;
		case 'a': algos = optarg; break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'C': cell = strtof(optarg, NULL); break;
		case 'c': do_check = true; break;
		case 'x': mixed = true; break;
		case 'm': mev = true; break;
		case 'W': clock_id = CLOCK_MONOTONIC; break;
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (ticks == 0) {
		usage();
		return 2;
	}
	for (ni = 0; sizes[ni];) {
		char *end;

		n = (uint32_t)strtoul(sizes + ni, &end, 0);
		if (n < 2 || n > WG_AOI_MAX_KEYS || (*end != ',' && *end != 0)) {
			usage();
			return 2;
		}
		ni = (uint32_t)(end - sizes) + (*end == ',');
		rc |= run_size(n, algos, scen, ticks, warm, do_check, mixed, mev, seed, cell);
	}
	return rc;
}

static int
run_size(uint32_t n, const char *algos, const char *scen, uint32_t ticks, uint32_t warm,
	 bool do_check, bool mixed, bool mev, uint64_t seed, float cell)
{
	const struct wg_aoi_ops *ops[MAX_ALGOS];
	int nalg = 0, rc = 0;
	char *s, *tok, *save;

	s = strdup(algos);
	for (tok = strtok_r(s, ",", &save); tok && nalg < MAX_ALGOS; tok = strtok_r(NULL, ",", &save)) {
		ops[nalg] = wg_aoi_ops_by_name(tok);
		if (ops[nalg] == NULL) {
			fprintf(stderr, "unknown algorithm %s\n", tok);
			exit(2);
		}
		/* O(n^2): beyond 20k it would take minutes per tick */
		if (ops[nalg] == &wg_aoi_naive_ops && n > 20000 && strcmp(algos, "naive") != 0 &&
		    !do_check)
			continue;
		nalg++;
	}
	free(s);
	s = strdup(scen);
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct result res[MAX_ALGOS];
		int sc, i, base = -1;

		for (sc = 0; sc < 4 && strcmp(scenarios[sc], tok) != 0; sc++)
			;
		if (sc == 4) {
			fprintf(stderr, "unknown scenario %s\n", tok);
			exit(2);
		}
		if (do_check) {
			rc |= check(ops, nalg, sc, n, ticks, mixed, mev, seed, cell);
			continue;
		}
		printf("scenario %s n=%u R=%.1f ticks=%u (+%u warm-up) movers=10%%%s%s seed=%llu "
		       "clock=%s\n", tok, n, sqrt(64 * WORLD * WORLD / (M_PI * n)), ticks, warm,
		       mixed ? " mixed" : "", mev ? " move-events" : "", (unsigned long long)seed,
		       clock_id == CLOCK_MONOTONIC ? "wall" : "thread-cpu");
		printf("%-9s %10s %10s %10s %12s %14s %12s %10s\n", "algo", "mean_ms", "p99_ms",
		       "setup_ms", "events/tick", "events/s", "checks/tick", "x_ninegrid");
		for (i = 0; i < nalg; i++) {
			bench_one(ops[i], sc, n, ticks, warm, mixed, mev, seed, cell, &res[i]);
			if (ops[i] == &wg_aoi_ninegrid_ops)
				base = i;
		}
		for (i = 0; i < nalg; i++) {
			char ratio[32] = "-";

			if (base >= 0)
				snprintf(ratio, sizeof(ratio), "%.1f", res[base].mean / res[i].mean);
			printf("%-9s %10.3f %10.3f %10.1f %12.0f %14.0f %12.0f %10s\n",
			       ops[i]->name, res[i].mean, res[i].p99, res[i].setup,
			       (double)res[i].events / ticks, res[i].evps,
			       (double)res[i].checks / ticks, ratio);
		}
		fflush(stdout);
	}
	free(s);
	return rc;
}
