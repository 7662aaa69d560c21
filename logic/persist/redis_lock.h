/* SPDX-License-Identifier: BSD-3-Clause
 * Distributed leases on Redis with fencing tokens. A lease on resource R is
 * the key wg:lock:{R} = "<token>:<owner>" with a TTL; the token comes from
 * INCR wg:fence:{R} (same hash tag, so one slot in cluster mode) and only
 * ever grows. Acquire, renew and release run as Lua scripts so the check of
 * the owner and the change are one atomic step; only the holder (same owner
 * and token) can renew or release.
 *
 * A lease alone cannot stop a holder that was paused past its TTL from
 * writing: that is what the token is for. Every PostgreSQL write carries it
 * and the database refuses a token older than the newest it has seen for
 * that row (see pg_entity.c, wg_entity_claim()).
 *
 * Owner ids must be unique per process incarnation (e.g. "logic-3/pid/boot"):
 * acquire is re-entrant for the same owner and returns the same token.
 */
#ifndef WG_REDIS_LOCK_H
#define WG_REDIS_LOCK_H

#include <stdint.h>

#include "redis.h"

#define WG_LOCK_RES_MAX   128
#define WG_LOCK_OWNER_MAX 128

/* err: 0 (token valid), -EBUSY (another owner holds it; ttl_ms = its
 * remaining lease), -ENOLCK (renew/release: we no longer hold it), or a
 * transport error from the Redis client. */
typedef void wg_lock_cb(void *arg, int err, uint64_t token, uint32_t ttl_ms);

int wg_lock_acquire(struct wg_redis *r, const char *res, const char *owner,
		    uint32_t ttl_ms, wg_lock_cb *cb, void *arg);
int wg_lock_renew(struct wg_redis *r, const char *res, const char *owner,
		  uint64_t token, uint32_t ttl_ms, wg_lock_cb *cb, void *arg);
int wg_lock_release(struct wg_redis *r, const char *res, const char *owner,
		    uint64_t token, wg_lock_cb *cb, void *arg);

/* The scripts, exposed so tests can check their SHA1 against the server's. */
const struct wg_redis_script *wg_lock_script(int which);
enum { WG_LOCK_S_ACQUIRE, WG_LOCK_S_RENEW, WG_LOCK_S_RELEASE, WG_LOCK_S_COUNT };

#endif /* WG_REDIS_LOCK_H */
