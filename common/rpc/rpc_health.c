/* SPDX-License-Identifier: BSD-3-Clause
 * grpc.health.v1.Health on our server: Check (unary) and Watch
 * (server-streaming) over a small table of service statuses. Watch streams
 * are held by reference and told about every change from whichever thread
 * calls wg_rpc_server_set_health(); shutdown flips everything to
 * NOT_SERVING, tells the watchers and ends their streams so the drain does
 * not wait on them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_impl.h"
#include "wg_rpc.pb-c.h"

#define HS_SERVING      WG__RPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define HS_NOT_SERVING  WG__RPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
#define HS_UNKNOWN_SVC  WG__RPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN

struct hentry {
	struct hentry *next;
	char *service;
	int status;
};

struct hwatch {
	struct hwatch *next;
	struct wg_rpc_scall *c;
	char *service;
};

struct wg_rpc_health {
	pthread_mutex_t lock;
	struct hentry *entries;
	struct hwatch *watchers;
	bool down;
	struct wg_rpc_service svc;
};

static wg_rpc_handler_fn h_check, h_watch;

static const struct wg_rpc_method health_methods[] = {
	{ "Check", WG_RPC_UNARY, &wg__rpc__health_check_request__descriptor,
	  &wg__rpc__health_check_response__descriptor, WG_RPC_F_IDEMPOTENT, h_check },
	{ "Watch", WG_RPC_SERVER_STREAM, &wg__rpc__health_check_request__descriptor,
	  &wg__rpc__health_check_response__descriptor, 0, h_watch },
};

const struct wg_rpc_service wg_rpc_health_service = {
	.name = "grpc.health.v1.Health",
	.methods = health_methods,
	.n_methods = 2,
};

struct wg_rpc_health *
wg_rpc_health_create(void)
{
	struct wg_rpc_health *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	h->svc = wg_rpc_health_service;
	h->svc.arg = h;
	if (wg_rpc_health_set(h, "", HS_SERVING) < 0) {
		wg_rpc_health_destroy(h);
		return NULL;
	}
	return h;
}

void
wg_rpc_health_destroy(struct wg_rpc_health *h)
{
	struct hentry *e, *en;

	if (h == NULL)
		return;
	wg_rpc_health_shutdown(h);
	for (e = h->entries; e; e = en) {
		en = e->next;
		free(e->service);
		free(e);
	}
	pthread_mutex_destroy(&h->lock);
	free(h);
}

const struct wg_rpc_service *
wg_rpc_health_service_for(struct wg_rpc_health *h)
{
	return &h->svc;
}

static struct hentry *
find_locked(struct wg_rpc_health *h, const char *service)
{
	struct hentry *e;

	for (e = h->entries; e; e = e->next)
		if (strcmp(e->service, service) == 0)
			return e;
	return NULL;
}

static void
send_status(struct wg_rpc_scall *c, int status)
{
	Wg__Rpc__HealthCheckResponse r = WG__RPC__HEALTH_CHECK_RESPONSE__INIT;

	r.status = status;
	wg_rpc_scall_write(c, &r.base);
}

int
wg_rpc_health_set(struct wg_rpc_health *h, const char *service, int status)
{
	struct hentry *e;
	struct hwatch *w;

	if (service == NULL || status < 0 || status > HS_NOT_SERVING)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->down && status == HS_SERVING) {
		pthread_mutex_unlock(&h->lock);
		return -ESHUTDOWN;
	}
	e = find_locked(h, service);
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL || (e->service = strdup(service)) == NULL) {
			free(e);
			pthread_mutex_unlock(&h->lock);
			return -ENOMEM;
		}
		e->status = -1;
		e->next = h->entries;
		h->entries = e;
	}
	if (e->status != status) {
		e->status = status;
		for (w = h->watchers; w; w = w->next)
			if (strcmp(w->service, service) == 0)
				send_status(w->c, status);
	}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void
wg_rpc_health_shutdown(struct wg_rpc_health *h)
{
	struct hentry *e;
	struct hwatch *w, *wn;

	pthread_mutex_lock(&h->lock);
	h->down = true;
	for (e = h->entries; e; e = e->next)
		e->status = HS_NOT_SERVING;
	w = h->watchers;
	h->watchers = NULL;
	pthread_mutex_unlock(&h->lock);
	for (; w; w = wn) {
		wn = w->next;
		send_status(w->c, HS_NOT_SERVING);
		wg_rpc_scall_finish(w->c, GRPC_STATUS_UNAVAILABLE, "server shutting down",
				    NULL, 0);
		wg_rpc_scall_unref(w->c);
		free(w->service);
		free(w);
	}
}

static void
h_check(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg,
	void *arg)
{
	const Wg__Rpc__HealthCheckRequest *rq = (const void *)msg;
	Wg__Rpc__HealthCheckResponse r = WG__RPC__HEALTH_CHECK_RESPONSE__INIT;
	struct wg_rpc_health *h = arg;
	struct hentry *e;
	int st = -1;

	if (ev != WG_RPC_SEV_START)
		return;
	pthread_mutex_lock(&h->lock);
	e = find_locked(h, rq->service);
	if (e)
		st = e->status;
	pthread_mutex_unlock(&h->lock);
	if (st < 0) {
		wg_rpc_scall_finish(c, GRPC_STATUS_NOT_FOUND, "unknown service", NULL, 0);
		return;
	}
	r.status = st;
	wg_rpc_scall_reply(c, &r.base);
}

/* Remove c from the watcher list (CANCEL/DONE); drops the list's ref. */
static void
unwatch(struct wg_rpc_health *h, struct wg_rpc_scall *c)
{
	struct hwatch **pp, *w = NULL;

	pthread_mutex_lock(&h->lock);
	for (pp = &h->watchers; *pp; pp = &(*pp)->next)
		if ((*pp)->c == c) {
			w = *pp;
			*pp = w->next;
			break;
		}
	pthread_mutex_unlock(&h->lock);
	if (w) {
		wg_rpc_scall_unref(w->c);
		free(w->service);
		free(w);
	}
}

static void
h_watch(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg,
	void *arg)
{
	const Wg__Rpc__HealthCheckRequest *rq = (const void *)msg;
	struct wg_rpc_health *h = arg;
	struct hwatch *w;
	struct hentry *e;

	if (ev == WG_RPC_SEV_CANCEL || ev == WG_RPC_SEV_DONE) {
		unwatch(h, c);
		return;
	}
	if (ev != WG_RPC_SEV_START)
		return;
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->service = strdup(rq->service)) == NULL) {
		free(w);
		wg_rpc_scall_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "no memory", NULL, 0);
		return;
	}
	w->c = c;
	pthread_mutex_lock(&h->lock);
	if (h->down) {
		pthread_mutex_unlock(&h->lock);
		free(w->service);
		free(w);
		send_status(c, HS_NOT_SERVING);
		wg_rpc_scall_finish(c, GRPC_STATUS_UNAVAILABLE, "server shutting down",
				    NULL, 0);
		return;
	}
	e = find_locked(h, rq->service);
	/* First reply under the lock: a concurrent set cannot slip between
	 * the snapshot and the registration. */
	send_status(c, e && e->status >= 0 ? e->status : HS_UNKNOWN_SVC);
	wg_rpc_scall_ref(c);
	w->next = h->watchers;
	h->watchers = w;
	pthread_mutex_unlock(&h->lock);
}
