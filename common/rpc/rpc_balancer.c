/* SPDX-License-Identifier: BSD-3-Clause
 * Balancer: the instances of one service (fed by discovery), each with its
 * channel pool, picked by a common/lb strategy. Outlier ejection turns
 * results into lb alive flags: eject_failures consecutive failures (calls
 * answered UNAVAILABLE, failed health checks) eject an instance for
 * eject_base_ms << (ejections in a row), capped at eject_max_ms. When the
 * period ends it comes back on probation: the next failure ejects it again
 * for twice as long, the next success clears its record.
 *
 * Active checks (health_interval_ms) send grpc.health.v1.Health/Check to
 * every instance from the client's timer thread; SERVING is a success,
 * anything else a failure.
 *
 * Lifetime: every pick, armed timer and check in flight holds a reference;
 * wg_rpc_balancer_destroy() drops the owner's and the last one frees, so
 * calls still in flight may finish after destroy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"
#include "rpc_impl.h"
#include "wg_rpc.pb-c.h"

struct binst {
	bool used;
	char id[WG_RPC_NAME_MAX];
	char address[WG_RPC_NAME_MAX];
	uint32_t weight, zone;
	struct wg_rpc_target *tgt;
	uint32_t failures, ejections;
	bool ejected;
	bool check_busy;
	int64_t eject_until_ns;
	uint64_t checks_ok, checks_failed;
};

struct wg_rpc_balancer {
	struct wg_rpc_client *cl;
	struct wg_rpc_balancer_conf conf;
	char health_service[WG_RPC_NAME_MAX];
	pthread_mutex_t lock;
	struct wg_lb *lb;
	struct binst *inst;            /* indexed by lb slot */
	int refs;
	bool stopping;
};

struct hc_ctx {
	struct wg_rpc_balancer *b;
	char id[WG_RPC_NAME_MAX];
};

/* FNV-1a: lb wants a 64-bit id per instance. */
static uint64_t
id_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void
b_free(struct wg_rpc_balancer *b)
{
	unsigned int i;

	for (i = 0; i < b->conf.max_instances; i++)
		if (b->inst[i].used)
			wg_rpc_target_put(b->inst[i].tgt);
	wg_lb_destroy(b->lb);
	free(b->inst);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Drop a reference taken under the lock; the caller holds the lock. */
static void
b_put_unlock(struct wg_rpc_balancer *b)
{
	bool last = --b->refs == 0;

	pthread_mutex_unlock(&b->lock);
	if (last)
		b_free(b);
}

static void hc_tick(void *arg);

struct wg_rpc_balancer *
wg_rpc_balancer_create(struct wg_rpc_client *cl, const struct wg_rpc_balancer_conf *conf)
{
	struct wg_lb_conf lc = { 0 };
	struct wg_rpc_balancer *b;

	if (cl == NULL || conf == NULL || conf->strategy >= WG_LB_N_STRATEGIES) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->cl = cl;
	b->conf = *conf;
	if (b->conf.max_instances == 0)
		b->conf.max_instances = 64;
	if (b->conf.eject_failures == 0)
		b->conf.eject_failures = 3;
	if (b->conf.eject_base_ms == 0)
		b->conf.eject_base_ms = 1000;
	if (b->conf.eject_max_ms == 0)
		b->conf.eject_max_ms = 30000;
	if (b->conf.health_timeout_ms == 0)
		b->conf.health_timeout_ms = 1000;
	snprintf(b->health_service, sizeof(b->health_service), "%s",
		 conf->health_service ? conf->health_service : "");
	b->conf.health_service = b->health_service;
	lc.strategy = conf->strategy;
	lc.max_backends = b->conf.max_instances;
	lc.prefer_zone = conf->prefer_zone;
	lc.local_zone = conf->local_zone;
	lc.seed = (uint64_t)wg_rpc_now_ns();
	b->lb = wg_lb_create(&lc);
	if (b->lb == NULL)
		goto err;
	b->inst = calloc(b->conf.max_instances, sizeof(*b->inst));
	if (b->inst == NULL)
		goto err_lb;
	pthread_mutex_init(&b->lock, NULL);
	b->refs = 1;
	if (b->conf.health_interval_ms) {
		b->refs++;
		if (wg_rpc_client_timer(cl, b->conf.health_interval_ms, hc_tick, b) < 0) {
			pthread_mutex_destroy(&b->lock);
			free(b->inst);
			goto err_lb;
		}
	}
	return b;

err_lb:
	wg_lb_destroy(b->lb);
err:
	free(b);
	errno = ENOMEM;
	return NULL;
}

void
wg_rpc_balancer_destroy(struct wg_rpc_balancer *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->stopping = true;
	b_put_unlock(b);
}

static int
find_locked(struct wg_rpc_balancer *b, const char *id)
{
	int slot = wg_lb_find(b->lb, id_hash(id));

	if (slot >= 0 && strcmp(b->inst[slot].id, id) != 0)
		return -ENOENT;          /* 64-bit hash collision: not ours */
	return slot;
}

int
wg_rpc_balancer_upsert(struct wg_rpc_balancer *b, const char *id,
		       const char *address, uint32_t weight, uint32_t zone)
{
	struct wg_rpc_target *t = NULL;
	struct binst *in;
	int slot, rc = 0;

	if (id == NULL || address == NULL || strlen(id) >= WG_RPC_NAME_MAX ||
	    strlen(address) >= WG_RPC_NAME_MAX || weight == 0 || weight > WG_LB_MAX_WEIGHT)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	slot = find_locked(b, id);
	if (slot >= 0 && b->inst[slot].zone != zone) {
		/* lb has no zone setter: re-add (keeps health state). */
		struct binst keep = b->inst[slot];

		wg_lb_remove(b->lb, id_hash(id));
		memset(&b->inst[slot], 0, sizeof(b->inst[slot]));
		slot = wg_lb_add(b->lb, id_hash(id), keep.weight, zone);
		if (slot < 0) {
			wg_rpc_target_put(keep.tgt);
			rc = slot;
			goto out;
		}
		keep.zone = zone;
		b->inst[slot] = keep;
		wg_lb_set_alive(b->lb, slot, !keep.ejected);
	}
	if (slot >= 0) {
		in = &b->inst[slot];
		if (strcmp(in->address, address) != 0) {
			t = wg_rpc_target_get(b->cl, address);
			if (t == NULL) {
				rc = -errno;
				goto out;
			}
			wg_rpc_target_put(in->tgt);
			in->tgt = t;
			snprintf(in->address, sizeof(in->address), "%s", address);
		}
		if (in->weight != weight) {
			rc = wg_lb_set_weight(b->lb, slot, weight);
			if (rc == 0)
				in->weight = weight;
		}
		goto out;
	}
	t = wg_rpc_target_get(b->cl, address);
	if (t == NULL) {
		rc = -errno;
		goto out;
	}
	slot = wg_lb_add(b->lb, id_hash(id), weight, zone);
	if (slot < 0) {
		wg_rpc_target_put(t);
		rc = slot;
		goto out;
	}
	in = &b->inst[slot];
	memset(in, 0, sizeof(*in));
	in->used = true;
	snprintf(in->id, sizeof(in->id), "%s", id);
	snprintf(in->address, sizeof(in->address), "%s", address);
	in->weight = weight;
	in->zone = zone;
	in->tgt = t;
out:
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int
wg_rpc_balancer_remove(struct wg_rpc_balancer *b, const char *id)
{
	struct wg_rpc_target *t;
	int slot;

	pthread_mutex_lock(&b->lock);
	slot = find_locked(b, id);
	if (slot < 0) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	t = b->inst[slot].tgt;
	wg_lb_remove(b->lb, id_hash(id));
	memset(&b->inst[slot], 0, sizeof(b->inst[slot]));
	pthread_mutex_unlock(&b->lock);
	wg_rpc_target_put(t);         /* calls in flight hold their own */
	return 0;
}

/* Re-admit instances whose ejection ended. */
static void
readmit_locked(struct wg_rpc_balancer *b, int64_t now)
{
	unsigned int i;

	for (i = 0; i < b->conf.max_instances; i++) {
		struct binst *in = &b->inst[i];

		if (in->used && in->ejected && now >= in->eject_until_ns) {
			in->ejected = false;
			in->failures = b->conf.eject_failures - 1;   /* probation */
			wg_lb_set_alive(b->lb, (int)i, true);
			RPC_LOG(INFO, "rpc: instance %s back from ejection", in->id);
		}
	}
}

static void
report_locked(struct wg_rpc_balancer *b, int slot, bool ok)
{
	struct binst *in = &b->inst[slot];
	uint64_t period;

	if (ok) {
		if (!in->ejected) {
			in->failures = 0;
			in->ejections = 0;
		}
		return;
	}
	if (in->ejected || ++in->failures < b->conf.eject_failures)
		return;
	period = (uint64_t)b->conf.eject_base_ms << (in->ejections < 16 ? in->ejections : 16);
	if (period > b->conf.eject_max_ms)
		period = b->conf.eject_max_ms;
	in->ejected = true;
	in->ejections++;
	in->eject_until_ns = wg_rpc_now_ns() + (int64_t)period * 1000000;
	wg_lb_set_alive(b->lb, slot, false);
	RPC_LOG(WARN, "rpc: instance %s (%s) ejected for %lu ms after %u failures",
		in->id, in->address, (unsigned long)period, in->failures);
}

int
wg_rpc_balancer_report(struct wg_rpc_balancer *b, const char *id, bool ok)
{
	int slot;

	pthread_mutex_lock(&b->lock);
	slot = find_locked(b, id);
	if (slot >= 0)
		report_locked(b, slot, ok);
	pthread_mutex_unlock(&b->lock);
	return slot < 0 ? slot : 0;
}

struct wg_rpc_target *
wg_rpc_balancer_pick(struct wg_rpc_balancer *b, uint64_t key, char *id, size_t idlen)
{
	struct wg_rpc_target *t = NULL;
	int slot;

	pthread_mutex_lock(&b->lock);
	readmit_locked(b, wg_rpc_now_ns());
	slot = wg_lb_pick(b->lb, key);
	if (slot >= 0) {
		wg_lb_acquire(b->lb, slot);
		snprintf(id, idlen, "%s", b->inst[slot].id);
		t = wg_rpc_target_ref(b->inst[slot].tgt);
		b->refs++;                /* until wg_rpc_balancer_done() */
	}
	pthread_mutex_unlock(&b->lock);
	return t;
}

void
wg_rpc_balancer_done(struct wg_rpc_balancer *b, const char *id, grpc_status_code code)
{
	int slot;

	pthread_mutex_lock(&b->lock);
	slot = find_locked(b, id);
	if (slot >= 0) {
		wg_lb_release(b->lb, slot);
		/* Only transport-level trouble marks an outlier; application
		 * errors and the caller's own cancels do not. */
		if (code != GRPC_STATUS_CANCELLED)
			report_locked(b, slot, code != GRPC_STATUS_UNAVAILABLE);
	}
	b_put_unlock(b);
}

int
wg_rpc_balancer_info(struct wg_rpc_balancer *b, const char *id,
		     struct wg_rpc_instance_info *out)
{
	const struct wg_lb_backend *be;
	struct binst *in;
	int slot;

	pthread_mutex_lock(&b->lock);
	readmit_locked(b, wg_rpc_now_ns());
	slot = find_locked(b, id);
	if (slot < 0) {
		pthread_mutex_unlock(&b->lock);
		return slot;
	}
	in = &b->inst[slot];
	be = wg_lb_backend(b->lb, slot);
	memset(out, 0, sizeof(*out));
	memcpy(out->id, in->id, sizeof(out->id));
	memcpy(out->address, in->address, sizeof(out->address));
	out->weight = in->weight;
	out->zone = in->zone;
	out->alive = be->alive;
	out->ejected = in->ejected;
	out->failures = in->failures;
	out->ejections = in->ejections;
	out->picks = be->picks;
	out->checks_ok = in->checks_ok;
	out->checks_failed = in->checks_failed;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

unsigned int
wg_rpc_balancer_alive(struct wg_rpc_balancer *b)
{
	unsigned int n;

	pthread_mutex_lock(&b->lock);
	readmit_locked(b, wg_rpc_now_ns());
	n = wg_lb_eligible(b->lb);
	pthread_mutex_unlock(&b->lock);
	return n;
}

void
wg_rpc_balancer_dump(FILE *f, struct wg_rpc_balancer *b)
{
	unsigned int i;

	pthread_mutex_lock(&b->lock);
	fprintf(f, "rpc balancer %s: %u instances, %u eligible\n",
		wg_lb_strategy_name(b->conf.strategy), wg_lb_count(b->lb),
		wg_lb_eligible(b->lb));
	for (i = 0; i < b->conf.max_instances; i++) {
		const struct binst *in = &b->inst[i];

		if (!in->used)
			continue;
		fprintf(f, "  %s %s w%u z%u%s failures %u ejections %u checks %lu/%lu\n",
			in->id, in->address, in->weight, in->zone,
			in->ejected ? " EJECTED" : "", in->failures, in->ejections,
			(unsigned long)in->checks_ok, (unsigned long)in->checks_failed);
	}
	pthread_mutex_unlock(&b->lock);
}

/* ---- active health checks (client timer thread) ---- */

static void
hc_done(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
	const struct wg_rpc_status *st)
{
	const Wg__Rpc__HealthCheckResponse *r = (const void *)msg;
	struct hc_ctx *x = arg;
	struct wg_rpc_balancer *b = x->b;
	bool ok = st->code == GRPC_STATUS_OK && r != NULL &&
		  r->status == WG__RPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	int slot;

	(void)c;
	pthread_mutex_lock(&b->lock);
	slot = find_locked(b, x->id);
	if (slot >= 0) {
		struct binst *in = &b->inst[slot];

		in->check_busy = false;
		if (ok)
			in->checks_ok++;
		else
			in->checks_failed++;
		report_locked(b, slot, ok);
	}
	b_put_unlock(b);
	free(x);
}

static void
hc_tick(void *arg)
{
	struct wg_rpc_balancer *b = arg;
	Wg__Rpc__HealthCheckRequest rq = WG__RPC__HEALTH_CHECK_REQUEST__INIT;
	struct wg_rpc_call_opts o = { 0 };
	unsigned int i;

	pthread_mutex_lock(&b->lock);
	if (b->stopping) {
		b_put_unlock(b);          /* the timer's reference */
		return;
	}
	rq.service = b->health_service;
	o.timeout_ms = b->conf.health_timeout_ms;
	o.max_attempts = 1;
	for (i = 0; i < b->conf.max_instances; i++) {
		struct binst *in = &b->inst[i];
		struct hc_ctx *x;

		if (!in->used || in->check_busy)
			continue;
		x = malloc(sizeof(*x));
		if (x == NULL)
			break;
		x->b = b;
		memcpy(x->id, in->id, sizeof(x->id));
		if (wg_rpc_unary(b->cl, in->tgt, &wg_rpc_health_service,
				 &wg_rpc_health_service.methods[0], &rq.base, &o,
				 hc_done, x, NULL) < 0) {
			free(x);
			continue;
		}
		in->check_busy = true;
		b->refs++;
	}
	if (wg_rpc_client_timer(b->cl, b->conf.health_interval_ms, hc_tick, b) < 0) {
		b_put_unlock(b);
		return;
	}
	pthread_mutex_unlock(&b->lock);
}
