/* SPDX-License-Identifier: BSD-3-Clause
 * The persistence context: wiring and the single poll step.
 */
#include <errno.h>
#include <stdlib.h>

#include "persist.h"

struct wg_persist *
wg_persist_create(const struct wg_persist_conf *conf)
{
	struct wg_persist *p = calloc(1, sizeof(*p));
	struct wg_pg_conf pgc;
	struct wg_wb_sink sink;
	int err = EINVAL;

	if (p == NULL)
		return NULL;
	if (conf->use_redis && (p->redis = wg_redis_create(&conf->redis)) == NULL)
		goto err;
	if (conf->use_pg) {
		pgc = conf->pg;
		if (pgc.migrations == NULL) {
			pgc.migrations = wg_entity_migrations;
			pgc.n_migrations = wg_entity_n_migrations;
		}
		if (pgc.stmts == NULL && (pgc.stmts = wg_entity_stmts(&pgc.n_stmts)) == NULL)
			goto err;
		if ((p->pg = wg_pg_create(&pgc)) == NULL)
			goto err;
		wg_wb_pg_sink(p->pg, &sink);
		if (conf->wb.max_dirty &&
		    (p->wb = wg_wb_create(&conf->wb, &sink, conf->row_cb, conf->row_arg)) == NULL)
			goto err;
	}
	if (conf->use_redis && conf->cache_ttl_ms &&
	    (p->cache = wg_cache_create(p->redis, p->pg, conf->cache_ttl_ms)) == NULL)
		goto err;
	return p;
err:
	err = errno ? errno : err;
	wg_persist_destroy(p);
	errno = err;
	return NULL;
}

void
wg_persist_destroy(struct wg_persist *p)
{
	if (p == NULL)
		return;
	wg_cache_destroy(p->cache);
	/* pg before wb: cancelled batches report their rows to the wb */
	wg_pg_destroy(p->pg);
	wg_wb_destroy(p->wb);
	wg_redis_destroy(p->redis);
	free(p);
}

static int
min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int
wg_persist_poll(struct wg_persist *p, int timeout_ms)
{
	uint64_t now = wg_persist_now_ms();
	int n = 0, rc, work = 0, t = -1;

	if (p->wb) {
		rc = wg_wb_tick(p->wb, now);
		if (rc < 0)
			return rc;
	}
	if (p->redis)
		t = min_timeout(t, wg_redis_timers(p->redis, now));
	if (p->pg)
		t = min_timeout(t, wg_pg_timers(p->pg, now));
	timeout_ms = min_timeout(timeout_ms, t);
	/* an idle sleeper must still wake for the next flush */
	if (p->wb && !wg_wb_idle(p->wb))
		timeout_ms = min_timeout(timeout_ms, 1);
	if (p->redis)
		n = p->n_redis = wg_redis_pollfds(p->redis, p->pfd, WG_REDIS_MAX_NODES * 8);
	if (p->pg)
		p->n_pg = wg_pg_pollfds(p->pg, p->pfd + n, 1);
	n += p->pg ? p->n_pg : 0;
	rc = poll(p->pfd, (nfds_t)n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	if (p->redis)
		work += wg_redis_dispatch(p->redis, p->pfd, p->n_redis);
	if (p->pg)
		work += wg_pg_dispatch(p->pg, p->pfd + p->n_redis, p->n_pg);
	return work;
}

int
wg_persist_drain(struct wg_persist *p, uint32_t timeout_ms)
{
	uint64_t end = wg_persist_now_ms() + timeout_ms;
	struct wg_redis_stats rs;

	for (;;) {
		uint64_t now = wg_persist_now_ms();
		bool busy = false;
		int rc;

		if (p->wb) {
			if ((rc = wg_wb_flush(p->wb, now)) < 0)
				return rc;
			busy = !wg_wb_idle(p->wb);
		}
		if (p->redis) {
			wg_redis_stats(p->redis, &rs);
			busy |= rs.outstanding > 0;
		}
		if (!busy)
			return 0;
		if (now >= end)
			return -ETIMEDOUT;
		rc = wg_persist_poll(p, 10);
		if (rc < 0)
			return rc;
	}
}

void
wg_persist_dump(FILE *f, const struct wg_persist *p)
{
	if (p->redis)
		wg_redis_dump(f, p->redis);
	if (p->pg)
		wg_pg_dump(f, p->pg);
	if (p->wb)
		wg_wb_dump(f, p->wb);
}
