/* SPDX-License-Identifier: BSD-3-Clause
 * Redis cache: values, versioned entity copies, and the Redis -> PostgreSQL
 * load path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "persist_cache.h"
#include "pg_entity.h"
#include "redis.h"

struct wg_cache {
	struct wg_redis *r;
	struct wg_pg *pg;
	uint32_t ttl_ms;
	struct wg_redis_script set_newer;
};

/* KEYS[1]; ARGV[1] version, ARGV[2] fence, ARGV[3] encoded value, ARGV[4]
 * ttl ms. Stores only if (fence, version) is above the cached pair: a newer
 * lease holder's copy can never be replaced by an older holder's, whatever
 * version that one claims, and within one holder older versions lose.
 * Decimal strings are compared exactly (length, then bytes): Lua numbers are
 * doubles. 1 stored, 0 refused. */
static const char set_newer_lua[] =
	"local function cmp(a, b)\n"
	"  if #a ~= #b then return #a < #b and -1 or 1 end\n"
	"  if a == b then return 0 end\n"
	"  return a < b and -1 or 1\n"
	"end\n"
	"local cur = redis.call('GET', KEYS[1])\n"
	"if cur then\n"
	"  local v, f = string.match(cur, '^(%d+):(%d+):')\n"
	"  if v then\n"
	"    local c = cmp(ARGV[2], f)\n"
	"    if c < 0 or (c == 0 and cmp(ARGV[1], v) <= 0) then return 0 end\n"
	"  end\n"
	"end\n"
	"redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])\n"
	"return 1\n";

struct wg_cache *
wg_cache_create(struct wg_redis *r, struct wg_pg *pg, uint32_t ttl_ms)
{
	struct wg_cache *c;

	if (r == NULL || ttl_ms == 0) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->r = r;
	c->pg = pg;
	c->ttl_ms = ttl_ms;
	wg_redis_script_init(&c->set_newer, set_newer_lua);
	return c;
}

void
wg_cache_destroy(struct wg_cache *c)
{
	free(c);
}

struct op {
	struct wg_cache *c;
	wg_cache_get_cb *get_cb;
	wg_cache_done_cb *done_cb;
	wg_cache_load_cb *load_cb;
	void *arg;
	uint32_t kind;
	uint64_t id;
};

static struct op *
op_new(struct wg_cache *c, void *arg)
{
	struct op *o = calloc(1, sizeof(*o));

	if (o != NULL) {
		o->c = c;
		o->arg = arg;
	}
	return o;
}

static void
on_get(void *arg, int err, const redisReply *rep)
{
	struct op *o = arg;

	if (err == 0 && rep->type == REDIS_REPLY_NIL)
		err = -ENOENT;
	else if (err == 0 && rep->type != REDIS_REPLY_STRING)
		err = -EPROTO;
	o->get_cb(o->arg, err, err ? NULL : rep->str, err ? 0 : rep->len);
	free(o);
}

static void
on_done(void *arg, int err, const redisReply *rep)
{
	struct op *o = arg;

	if (err == 0 && rep->type == REDIS_REPLY_ERROR)
		err = -EPROTO;
	if (o->done_cb)
		o->done_cb(o->arg, err);
	free(o);
}

static int
check_key(size_t klen)
{
	return klen == 0 || klen > WG_CACHE_KEY_MAX ? -EINVAL : 0;
}

int
wg_cache_get(struct wg_cache *c, const char *key, size_t klen, wg_cache_get_cb *cb,
	     void *arg)
{
	const char *argv[2] = { "GET", key };
	size_t lens[2] = { 3, klen };
	struct op *o;
	int rc;

	if (cb == NULL || check_key(klen) < 0)
		return -EINVAL;
	if ((o = op_new(c, arg)) == NULL)
		return -ENOMEM;
	o->get_cb = cb;
	rc = wg_redis_cmd(c->r, key, klen, on_get, o, 2, argv, lens);
	if (rc < 0)
		free(o);
	return rc;
}

int
wg_cache_set(struct wg_cache *c, const char *key, size_t klen, const void *val, size_t len,
	     uint32_t ttl_ms, wg_cache_done_cb *cb, void *arg)
{
	char ttl[16];
	const char *argv[5] = { "SET", key, val, "PX", ttl };
	size_t lens[5] = { 3, klen, len, 2, 0 };
	struct op *o;
	int rc;

	if (check_key(klen) < 0 || (len && val == NULL))
		return -EINVAL;
	if (len == 0)
		argv[2] = "";
	lens[4] = (size_t)snprintf(ttl, sizeof(ttl), "%u", ttl_ms ? ttl_ms : c->ttl_ms);
	if ((o = op_new(c, arg)) == NULL)
		return -ENOMEM;
	o->done_cb = cb;
	rc = wg_redis_cmd(c->r, key, klen, on_done, o, 5, argv, lens);
	if (rc < 0)
		free(o);
	return rc;
}

int
wg_cache_del(struct wg_cache *c, const char *key, size_t klen, wg_cache_done_cb *cb,
	     void *arg)
{
	const char *argv[2] = { "DEL", key };
	size_t lens[2] = { 3, klen };
	struct op *o;
	int rc;

	if (check_key(klen) < 0)
		return -EINVAL;
	if ((o = op_new(c, arg)) == NULL)
		return -ENOMEM;
	o->done_cb = cb;
	rc = wg_redis_cmd(c->r, key, klen, on_done, o, 2, argv, lens);
	if (rc < 0)
		free(o);
	return rc;
}

int
wg_cache_entity_key(uint32_t kind, uint64_t id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "wg:e:{%" PRIu32 ":%" PRIu64 "}", kind, id);

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int
wg_cache_entity_decode(const void *val, size_t len, uint64_t *version, uint64_t *fence,
		       const void **data, size_t *dlen)
{
	const char *p = val, *end = p + len;
	uint64_t v[2] = { 0, 0 };

	for (int f = 0; f < 2; f++) {
		const char *start = p;

		while (p < end && *p >= '0' && *p <= '9' && p - start < 19)
			v[f] = v[f] * 10 + (uint64_t)(*p++ - '0');
		if (p == start || p == end || *p != ':')
			return -EPROTO;
		p++;
	}
	*version = v[0];
	*fence = v[1];
	*data = p;
	*dlen = (size_t)(end - p);
	return 0;
}

int
wg_cache_entity_put(struct wg_cache *c, uint32_t kind, uint64_t id, uint64_t version,
		    uint64_t fence, const void *data, size_t len, wg_cache_done_cb *cb,
		    void *arg)
{
	char key[64], ver[24], fen[24], ttl[16], *val;
	const char *argv[5];
	size_t lens[5];
	struct op *o;
	int klen, hlen, rc;

	if ((len && data == NULL) || len > WG_ENTITY_MAX_DATA)
		return -EINVAL;
	klen = wg_cache_entity_key(kind, id, key, sizeof(key));
	val = malloc(48 + len);
	if (val == NULL)
		return -ENOMEM;
	hlen = snprintf(val, 48, "%" PRIu64 ":%" PRIu64 ":", version, fence);
	if (len)
		memcpy(val + hlen, data, len);
	snprintf(ver, sizeof(ver), "%" PRIu64, version);
	snprintf(fen, sizeof(fen), "%" PRIu64, fence);
	snprintf(ttl, sizeof(ttl), "%u", c->ttl_ms);
	argv[0] = key; lens[0] = (size_t)klen;
	argv[1] = ver; lens[1] = strlen(ver);
	argv[2] = fen; lens[2] = strlen(fen);
	argv[3] = val; lens[3] = (size_t)hlen + len;
	argv[4] = ttl; lens[4] = strlen(ttl);
	o = op_new(c, arg);
	if (o == NULL) {
		free(val);
		return -ENOMEM;
	}
	o->done_cb = cb;
	rc = wg_redis_eval(c->r, &c->set_newer, key, (size_t)klen, on_done, o, 1, 5, argv, lens);
	if (rc < 0)
		free(o);
	free(val);          /* formatted into the request already */
	return rc;
}

int
wg_cache_entity_invalidate(struct wg_cache *c, uint32_t kind, uint64_t id,
			   wg_cache_done_cb *cb, void *arg)
{
	char key[64];
	int klen = wg_cache_entity_key(kind, id, key, sizeof(key));

	return wg_cache_del(c, key, (size_t)klen, cb, arg);
}

static void
on_pg_load(void *arg, int err, uint64_t version, uint64_t fence, const void *data,
	   size_t len)
{
	struct op *o = arg;

	if (err == 0)   /* refill; a failure here only costs a later miss */
		wg_cache_entity_put(o->c, o->kind, o->id, version, fence, data, len, NULL, NULL);
	o->load_cb(o->arg, err, WG_CACHE_FROM_PG, version, fence, data, len);
	free(o);
}

static void
load_from_pg(struct op *o)
{
	int rc = -ENOTCONN;

	if (o->c->pg != NULL)
		rc = wg_entity_load(o->c->pg, o->kind, o->id, on_pg_load, o);
	if (rc < 0) {
		o->load_cb(o->arg, rc, WG_CACHE_FROM_PG, 0, 0, NULL, 0);
		free(o);
	}
}

static void
on_entity_get(void *arg, int err, const redisReply *rep)
{
	struct op *o = arg;
	uint64_t ver, fence;
	const void *data;
	size_t len;

	/* a miss, a Redis outage or a garbled copy all fall back to the database */
	if (err == 0 && rep->type == REDIS_REPLY_STRING &&
	    wg_cache_entity_decode(rep->str, rep->len, &ver, &fence, &data, &len) == 0) {
		o->load_cb(o->arg, 0, WG_CACHE_FROM_REDIS, ver, fence, data, len);
		free(o);
		return;
	}
	load_from_pg(o);
}

int
wg_cache_entity_load(struct wg_cache *c, uint32_t kind, uint64_t id, wg_cache_load_cb *cb,
		     void *arg)
{
	char key[64];
	const char *argv[2] = { "GET", key };
	size_t lens[2] = { 3, 0 };
	struct op *o;
	int rc;

	if (cb == NULL)
		return -EINVAL;
	lens[1] = (size_t)wg_cache_entity_key(kind, id, key, sizeof(key));
	if ((o = op_new(c, arg)) == NULL)
		return -ENOMEM;
	o->load_cb = cb;
	o->kind = kind;
	o->id = id;
	rc = wg_redis_cmd(c->r, key, lens[1], on_entity_get, o, 2, argv, lens);
	if (rc < 0)
		load_from_pg(o);   /* Redis refusing work must not block a login */
	return 0;
}
