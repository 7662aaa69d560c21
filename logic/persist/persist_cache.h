/* SPDX-License-Identifier: BSD-3-Clause
 * Cache layer on Redis. Plain values: get/set with TTL and invalidation.
 * Entities: the cached value carries the entity version and the writer's
 * fencing token, and a write only replaces a cached value with a higher
 * (token, version) pair (Lua), so a slow fill from PostgreSQL can never
 * overwrite a fresher write-back copy, and a lease holder that lost its
 * lease can never overwrite its successor's copy.
 *
 * Modes: write-back (wg_cache_entity_put on every change: Redis holds the
 * newest state, PostgreSQL catches up through the write-back queue) or
 * cache-aside (wg_cache_entity_invalidate after the database write; the next
 * load refills). wg_cache_entity_load reads Redis and falls back to
 * PostgreSQL on a miss or a Redis error, then refills the cache. A new
 * owner loads with wg_own_acquire() (owner.h) instead: after its claim only
 * PostgreSQL is authoritative.
 */
#ifndef WG_PERSIST_CACHE_H
#define WG_PERSIST_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct wg_cache;
struct wg_redis;
struct wg_pg;

enum wg_cache_src {
	WG_CACHE_FROM_REDIS = 1,
	WG_CACHE_FROM_PG = 2,
};

#define WG_CACHE_KEY_MAX 256

/* err 0 (val/len valid during the call), -ENOENT (miss), or an error. */
typedef void wg_cache_get_cb(void *arg, int err, const void *val, size_t len);
typedef void wg_cache_done_cb(void *arg, int err);
typedef void wg_cache_load_cb(void *arg, int err, int src, uint64_t version,
			      uint64_t fence, const void *data, size_t len);

struct wg_cache *wg_cache_create(struct wg_redis *r, struct wg_pg *pg, uint32_t ttl_ms);
void wg_cache_destroy(struct wg_cache *c);

int wg_cache_get(struct wg_cache *c, const char *key, size_t klen,
		 wg_cache_get_cb *cb, void *arg);
/* ttl_ms 0: the cache's default. cb may be NULL. */
int wg_cache_set(struct wg_cache *c, const char *key, size_t klen, const void *val,
		 size_t len, uint32_t ttl_ms, wg_cache_done_cb *cb, void *arg);
int wg_cache_del(struct wg_cache *c, const char *key, size_t klen,
		 wg_cache_done_cb *cb, void *arg);

int wg_cache_entity_put(struct wg_cache *c, uint32_t kind, uint64_t id, uint64_t version,
			uint64_t fence, const void *data, size_t len,
			wg_cache_done_cb *cb, void *arg);
int wg_cache_entity_invalidate(struct wg_cache *c, uint32_t kind, uint64_t id,
			       wg_cache_done_cb *cb, void *arg);
int wg_cache_entity_load(struct wg_cache *c, uint32_t kind, uint64_t id,
			 wg_cache_load_cb *cb, void *arg);

/* Encoding of a cached entity ("<version>:<fence>:" + data), public for tests. */
int wg_cache_entity_decode(const void *val, size_t len, uint64_t *version,
			   uint64_t *fence, const void **data, size_t *dlen);
int wg_cache_entity_key(uint32_t kind, uint64_t id, char *buf, size_t size);

#endif /* WG_PERSIST_CACHE_H */
