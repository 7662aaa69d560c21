/* SPDX-License-Identifier: BSD-3-Clause
 * Taking ownership of an entity (a player on login): one asynchronous step
 * that chains the pieces in the only safe order —
 *   1. lease "e:<kind>:<id>" for `owner` -> fencing token T;
 *   2. claim the PostgreSQL row with T (its fence only ever rises), so from
 *      that commit on no earlier holder's write can apply;
 *   3. load the row from PostgreSQL — after the claim it is the only
 *      authoritative copy (the cache may hold a late write of a holder that
 *      had already lost its lease);
 *   4. seed the cache with it under T (replacing any lower-token copy).
 * The caller then writes with fence T and renews the lease with
 * wg_lock_renew(p->redis, res, owner, T, ...), res from wg_own_resource().
 */
#ifndef WG_OWNER_H
#define WG_OWNER_H

#include <stddef.h>
#include <stdint.h>

struct wg_persist;

/* err 0: we own it with `token`; version 0 and len 0 for an entity never
 * written. -EBUSY: another owner holds the lease (ttl_ms left). -ESTALE:
 * the row carries a fence above our token (the Redis fence counter went
 * backwards: see docs/persistence.md); the lease was released. Other
 * errors come from Redis or PostgreSQL; the lease is released on them. */
typedef void wg_own_cb(void *arg, int err, uint64_t token, uint32_t ttl_ms,
		       uint64_t version, const void *data, size_t len);

int wg_own_acquire(struct wg_persist *p, uint32_t kind, uint64_t id, const char *owner,
		   uint32_t ttl_ms, wg_own_cb *cb, void *arg);
/* The lease resource name of an entity ("e:<kind>:<id>"). */
int wg_own_resource(uint32_t kind, uint64_t id, char *buf, size_t size);

#endif /* WG_OWNER_H */
