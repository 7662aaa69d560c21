/* SPDX-License-Identifier: BSD-3-Clause
 * One persistence context per logic process: Redis client, PostgreSQL
 * client, write-back queue and cache, driven by one non-blocking step the
 * tick loop calls: wg_persist_poll(p, 0). An idle loop can sleep in
 * wg_persist_poll(p, ms) instead, or merge wg_persist_pollfds() into its
 * own poll().
 */
#ifndef WG_PERSIST_H
#define WG_PERSIST_H

#include <stdbool.h>
#include <stdio.h>

#include "owner.h"
#include "persist_cache.h"
#include "pg_entity.h"
#include "redis_lock.h"
#include "persist_log.h"
#include "pg.h"
#include "redis.h"
#include "writeback.h"

struct wg_persist_conf {
	bool use_redis;
	struct wg_redis_conf redis;
	bool use_pg;
	struct wg_pg_conf pg;         /* migrations/stmts NULL: the entity ones */
	struct wg_wb_conf wb;         /* needs use_pg */
	wg_wb_row_cb *row_cb;
	void *row_arg;
	uint32_t cache_ttl_ms;        /* 0: no cache */
};

struct wg_persist {
	struct wg_redis *redis;
	struct wg_pg *pg;
	struct wg_wb *wb;
	struct wg_cache *cache;
	struct pollfd pfd[WG_REDIS_MAX_NODES * 8 + 1];
	int n_redis, n_pg;
};

struct wg_persist *wg_persist_create(const struct wg_persist_conf *conf);
void wg_persist_destroy(struct wg_persist *p);

/* Timers, write-back tick, poll(timeout_ms), I/O. Returns events handled. */
int wg_persist_poll(struct wg_persist *p, int timeout_ms);
/* Clean shutdown: cut everything dirty and poll until the database has
 * acknowledged it all, or -ETIMEDOUT. Blocks: call it outside the tick. */
int wg_persist_drain(struct wg_persist *p, uint32_t timeout_ms);
void wg_persist_dump(FILE *f, const struct wg_persist *p);

#endif /* WG_PERSIST_H */
