/* SPDX-License-Identifier: BSD-3-Clause
 * Fenced leases: three Lua scripts and the reply decoding around them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_lock.h"

/* KEYS[1] lock, KEYS[2] fence counter; ARGV[1] owner, ARGV[2] ttl ms.
 * Returns the token (> 0) or -(remaining ttl ms) when someone else holds it. */
static const char acquire_lua[] =
	"local v = redis.call('GET', KEYS[1])\n"
	"if v then\n"
	"  local sep = string.find(v, ':', 1, true)\n"
	"  if sep and string.sub(v, sep + 1) == ARGV[1] then\n"
	"    redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"    return tonumber(string.sub(v, 1, sep - 1))\n"
	"  end\n"
	"  local t = redis.call('PTTL', KEYS[1])\n"
	"  if t < 1 then t = 1 end\n"
	"  return -t\n"
	"end\n"
	"local tok = redis.call('INCR', KEYS[2])\n"
	"redis.call('SET', KEYS[1], tok .. ':' .. ARGV[1], 'PX', ARGV[2])\n"
	"return tok\n";

/* KEYS[1] lock; ARGV[1] "<token>:<owner>", ARGV[2] ttl ms. 1 renewed, 0 lost. */
static const char renew_lua[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"end\n"
	"return 0\n";

/* KEYS[1] lock; ARGV[1] "<token>:<owner>". 1 released, 0 not ours. */
static const char release_lua[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  return redis.call('DEL', KEYS[1])\n"
	"end\n"
	"return 0\n";

static struct wg_redis_script scripts[WG_LOCK_S_COUNT];
static int scripts_ready;

const struct wg_redis_script *
wg_lock_script(int which)
{
	if (!scripts_ready) {
		wg_redis_script_init(&scripts[WG_LOCK_S_ACQUIRE], acquire_lua);
		wg_redis_script_init(&scripts[WG_LOCK_S_RENEW], renew_lua);
		wg_redis_script_init(&scripts[WG_LOCK_S_RELEASE], release_lua);
		scripts_ready = 1;
	}
	if (which < 0 || which >= WG_LOCK_S_COUNT)
		return NULL;
	return &scripts[which];
}

struct lock_op {
	int which;
	uint64_t token;
	wg_lock_cb *cb;
	void *arg;
};

static void
on_lock_reply(void *arg, int err, const redisReply *rep)
{
	struct lock_op *op = arg;
	uint64_t tok = 0;
	uint32_t ttl = 0;

	if (err == 0 && rep->type != REDIS_REPLY_INTEGER)
		err = -EPROTO;
	if (err == 0) {
		switch (op->which) {
		case WG_LOCK_S_ACQUIRE:
			if (rep->integer > 0) {
				tok = (uint64_t)rep->integer;
			} else {
				err = -EBUSY;
				ttl = rep->integer < -(long long)UINT32_MAX ? UINT32_MAX :
				      (uint32_t)-rep->integer;
			}
			break;
		default:
			tok = op->token;
			if (rep->integer != 1)
				err = -ENOLCK;
			break;
		}
	}
	op->cb(op->arg, err, tok, ttl);
	free(op);
}

static int
lock_keys(const char *res, char *lk, char *fk)
{
	size_t n = strlen(res);

	if (n == 0 || n > WG_LOCK_RES_MAX)
		return -EINVAL;
	snprintf(lk, WG_LOCK_RES_MAX + 16, "wg:lock:{%s}", res);
	snprintf(fk, WG_LOCK_RES_MAX + 16, "wg:fence:{%s}", res);
	return 0;
}

static int
run(struct wg_redis *r, int which, const char *res, const char *owner, uint64_t token,
    uint32_t ttl_ms, wg_lock_cb *cb, void *arg)
{
	char lk[WG_LOCK_RES_MAX + 16], fk[WG_LOCK_RES_MAX + 16];
	char val[WG_LOCK_OWNER_MAX + 24], ttl[16];
	const char *argv[4];
	struct lock_op *op;
	int rc, argc, nkeys;

	if (cb == NULL || owner == NULL || owner[0] == '\0' ||
	    strlen(owner) > WG_LOCK_OWNER_MAX || (which != WG_LOCK_S_RELEASE && ttl_ms == 0))
		return -EINVAL;
	if ((rc = lock_keys(res, lk, fk)) < 0)
		return rc;
	snprintf(ttl, sizeof(ttl), "%u", ttl_ms);
	argv[0] = lk;
	if (which == WG_LOCK_S_ACQUIRE) {
		argv[1] = fk;
		argv[2] = owner;
		argv[3] = ttl;
		nkeys = 2;
		argc = 4;
	} else {
		snprintf(val, sizeof(val), "%llu:%s", (unsigned long long)token, owner);
		argv[1] = val;
		argv[2] = ttl;
		nkeys = 1;
		argc = which == WG_LOCK_S_RENEW ? 3 : 2;
	}
	op = malloc(sizeof(*op));
	if (op == NULL)
		return -ENOMEM;
	op->which = which;
	op->token = token;
	op->cb = cb;
	op->arg = arg;
	rc = wg_redis_eval(r, wg_lock_script(which), lk, strlen(lk), on_lock_reply, op,
			   nkeys, argc, argv, NULL);
	if (rc < 0)
		free(op);
	return rc;
}

int
wg_lock_acquire(struct wg_redis *r, const char *res, const char *owner, uint32_t ttl_ms,
		wg_lock_cb *cb, void *arg)
{
	return run(r, WG_LOCK_S_ACQUIRE, res, owner, 0, ttl_ms, cb, arg);
}

int
wg_lock_renew(struct wg_redis *r, const char *res, const char *owner, uint64_t token,
	      uint32_t ttl_ms, wg_lock_cb *cb, void *arg)
{
	return run(r, WG_LOCK_S_RENEW, res, owner, token, ttl_ms, cb, arg);
}

int
wg_lock_release(struct wg_redis *r, const char *res, const char *owner, uint64_t token,
		wg_lock_cb *cb, void *arg)
{
	return run(r, WG_LOCK_S_RELEASE, res, owner, token, 0, cb, arg);
}
