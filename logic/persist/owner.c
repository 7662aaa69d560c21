/* SPDX-License-Identifier: BSD-3-Clause
 * Entity ownership: lease, claim, authoritative load, cache seed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owner.h"
#include "persist.h"

#define MOD "owner"

struct own_op {
	struct wg_persist *p;
	uint32_t kind;
	uint64_t id;
	uint32_t ttl_ms;
	uint64_t token;
	wg_own_cb *cb;
	void *arg;
	char res[WG_LOCK_RES_MAX + 1];
	char owner[WG_LOCK_OWNER_MAX + 1];
};

int
wg_own_resource(uint32_t kind, uint64_t id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "e:%" PRIu32 ":%" PRIu64, kind, id);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static void
on_release(void *arg, int err, uint64_t token, uint32_t ttl_ms)
{
	(void)arg;
	(void)ttl_ms;
	/* the lease lapses on its own if this failed */
	if (err)
		PLOG(WARNING, MOD, "release of token %" PRIu64 " failed: %d", token, err);
}

/* Give up: drop the lease we hold (if any) and report. */
static void
fail(struct own_op *op, int err)
{
	if (op->token != 0 &&
	    wg_lock_release(op->p->redis, op->res, op->owner, op->token, on_release, NULL) < 0)
		PLOG(WARNING, MOD, "cannot release %s", op->res);
	op->cb(op->arg, err, op->token, 0, 0, NULL, 0);
	free(op);
}

static void
on_load(void *arg, int err, uint64_t version, uint64_t fence, const void *data, size_t len)
{
	struct own_op *op = arg;

	if (err == -ENOENT) {              /* never written: a new entity */
		err = 0;
		version = 0;
		data = NULL;
		len = 0;
	}
	if (err) {
		fail(op, err);
		return;
	}
	if (fence > op->token) {
		/* a newer owner claimed between our claim and this read */
		fail(op, -ESTALE);
		return;
	}
	/* a failed seed only costs a cache miss later */
	if (version > 0 && op->p->cache != NULL)
		wg_cache_entity_put(op->p->cache, op->kind, op->id, version, op->token, data, len,
				    NULL, NULL);
	op->cb(op->arg, 0, op->token, op->ttl_ms, version, data, len);
	free(op);
}

static void
on_claim(void *arg, int err, int result, uint64_t cur_fence)
{
	struct own_op *op = arg;
	int rc;

	if (err) {
		fail(op, err);
		return;
	}
	if (result != WG_CLAIM_OK) {
		PLOG(ERR, MOD, "%s: token %" PRIu64 " below the row's fence %" PRIu64,
		     op->res, op->token, cur_fence);
		fail(op, -ESTALE);
		return;
	}
	rc = wg_entity_load(op->p->pg, op->kind, op->id, on_load, op);
	if (rc < 0)
		fail(op, rc);
}

static void
on_acquire(void *arg, int err, uint64_t token, uint32_t ttl_ms)
{
	struct own_op *op = arg;
	int rc;

	if (err) {
		op->cb(op->arg, err, 0, ttl_ms, 0, NULL, 0);
		free(op);
		return;
	}
	op->token = token;
	rc = wg_entity_claim(op->p->pg, op->kind, op->id, token, on_claim, op);
	if (rc < 0)
		fail(op, rc);
}

int
wg_own_acquire(struct wg_persist *p, uint32_t kind, uint64_t id, const char *owner,
	       uint32_t ttl_ms, wg_own_cb *cb, void *arg)
{
	struct own_op *op;
	int rc;

	if (p == NULL || p->redis == NULL || p->pg == NULL || cb == NULL || owner == NULL ||
	    strlen(owner) > WG_LOCK_OWNER_MAX || id > INT64_MAX || ttl_ms == 0)
		return -EINVAL;
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return -ENOMEM;
	if ((rc = wg_own_resource(kind, id, op->res, sizeof(op->res))) < 0) {
		free(op);
		return rc;
	}
	strcpy(op->owner, owner);
	op->p = p;
	op->kind = kind;
	op->id = id;
	op->ttl_ms = ttl_ms;
	op->cb = cb;
	op->arg = arg;
	rc = wg_lock_acquire(p->redis, op->res, owner, ttl_ms, on_acquire, op);
	if (rc < 0)
		free(op);
	return rc;
}
