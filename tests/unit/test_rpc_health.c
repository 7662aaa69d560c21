/* SPDX-License-Identifier: BSD-3-Clause
 * grpc.health.v1.Health on our server (Check, Watch, shutdown) and the
 * client balancer: common/lb picks over real servers, active health checks
 * and passive results ejecting outliers, probation and recovery, failover
 * of idempotent calls to a live instance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_rpc_echo.h"

#define HS(x) WG__RPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__ ## x

struct node {
	struct echo_state st;
	struct wg_rpc_service svc;
	struct wg_rpc_server *srv;
	char addr[64];
};

static void
node_start(struct node *n)
{
	struct wg_rpc_server_conf sc = { .listen = "127.0.0.1:0", .threads = 1,
					 .health = true };

	echo_state_init(&n->st);
	n->svc = echo_svc_tmpl;
	n->svc.arg = &n->st;
	n->srv = wg_rpc_server_create(&sc);
	assert_non_null(n->srv);
	assert_int_equal(wg_rpc_server_add_service(n->srv, &n->svc), 0);
	assert_int_equal(wg_rpc_server_start(n->srv), 0);
	snprintf(n->addr, sizeof(n->addr), "127.0.0.1:%d", wg_rpc_server_port(n->srv));
}

static void
node_stop(struct node *n)
{
	echo_state_fini(&n->st);
	wg_rpc_server_destroy(n->srv);
}

static struct wg_rpc_client *
client(void)
{
	struct wg_rpc_client_conf cc = { .threads = 1, .backoff_initial_ms = 5,
					 .backoff_max_ms = 20 };
	struct wg_rpc_client *cl = wg_rpc_client_create(&cc);

	assert_non_null(cl);
	return cl;
}

/* Health replies as streamed/final messages. */
struct hw {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int statuses[16];
	unsigned int n;
	bool done;
	grpc_status_code code;
};

static void
hw_cb(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
      const struct wg_rpc_status *st)
{
	const Wg__Rpc__HealthCheckResponse *r = (const void *)msg;
	struct hw *h = arg;

	(void)c;
	pthread_mutex_lock(&h->lock);
	if (r && h->n < 16)
		h->statuses[h->n++] = r->status;
	if (st) {
		h->done = true;
		h->code = st->code;
	}
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* Wait for n statuses (or the end); 10 s net. */
static void
hw_wait(struct hw *h, unsigned int n, bool end)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&h->lock);
	while ((h->n < n || (end && !h->done)) &&
	       pthread_cond_timedwait(&h->cond, &h->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&h->lock);
}

static void
hw_init(struct hw *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
}

static void
check(struct wg_rpc_client *cl, struct wg_rpc_target *t, const char *svc,
      struct hw *h)
{
	Wg__Rpc__HealthCheckRequest rq = WG__RPC__HEALTH_CHECK_REQUEST__INIT;

	hw_init(h);
	rq.service = (char *)svc;
	assert_int_equal(wg_rpc_unary(cl, t, &wg_rpc_health_service,
				      &wg_rpc_health_service.methods[0], &rq.base, NULL,
				      hw_cb, h, NULL), 0);
	hw_wait(h, 0, true);
	assert_true(h->done);
}

static void
test_check_watch(void **state)
{
	Wg__Rpc__HealthCheckRequest rq = WG__RPC__HEALTH_CHECK_REQUEST__INIT;
	struct wg_rpc_client *cl = client();
	struct wg_rpc_ccall *w1, *w2;
	struct wg_rpc_target *t;
	struct hw h, a, b;
	struct node n;

	(void)state;
	node_start(&n);
	t = wg_rpc_target_get(cl, n.addr);
	check(cl, t, "", &h);
	assert_int_equal(h.code, GRPC_STATUS_OK);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.statuses[0], HS(SERVING));
	check(cl, t, "wg.rpc.Echo", &h);
	assert_int_equal(h.code, GRPC_STATUS_NOT_FOUND);
	assert_int_equal(h.n, 0);
	assert_int_equal(wg_rpc_server_set_health(n.srv, "wg.rpc.Echo", HS(NOT_SERVING)), 0);
	check(cl, t, "wg.rpc.Echo", &h);
	assert_int_equal(h.code, GRPC_STATUS_OK);
	assert_int_equal(h.statuses[0], HS(NOT_SERVING));
	assert_int_equal(wg_rpc_server_set_health(n.srv, "x", 7), -EINVAL);

	/* Watch a known service and an unknown one. */
	hw_init(&a);
	hw_init(&b);
	rq.service = "wg.rpc.Echo";
	w1 = wg_rpc_stream(cl, t, &wg_rpc_health_service, &wg_rpc_health_service.methods[1],
			   &rq.base, NULL, hw_cb, &a);
	assert_non_null(w1);
	rq.service = "later";
	w2 = wg_rpc_stream(cl, t, &wg_rpc_health_service, &wg_rpc_health_service.methods[1],
			   &rq.base, NULL, hw_cb, &b);
	assert_non_null(w2);
	hw_wait(&a, 1, false);
	hw_wait(&b, 1, false);
	assert_int_equal(a.statuses[0], HS(NOT_SERVING));
	assert_int_equal(b.statuses[0], HS(SERVICE_UNKNOWN));
	assert_int_equal(wg_rpc_server_set_health(n.srv, "wg.rpc.Echo", HS(SERVING)), 0);
	assert_int_equal(wg_rpc_server_set_health(n.srv, "wg.rpc.Echo", HS(SERVING)), 0);
	assert_int_equal(wg_rpc_server_set_health(n.srv, "later", HS(SERVING)), 0);
	hw_wait(&a, 2, false);
	hw_wait(&b, 2, false);
	assert_int_equal(a.n, 2);             /* no repeat for an unchanged status */
	assert_int_equal(a.statuses[1], HS(SERVING));
	assert_int_equal(b.statuses[1], HS(SERVING));
	/* Cancelling a watch removes it; the other still hears changes. */
	wg_rpc_ccall_cancel(w2);
	hw_wait(&b, 0, true);
	assert_int_equal(b.code, GRPC_STATUS_CANCELLED);
	/* Shutdown: watchers told NOT_SERVING, then the stream ends. */
	assert_int_equal(wg_rpc_server_shutdown(n.srv, 2000), 0);
	hw_wait(&a, 3, true);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.statuses[2], HS(NOT_SERVING));
	assert_int_equal(a.code, GRPC_STATUS_UNAVAILABLE);
	assert_int_equal(b.n, 2);
	wg_rpc_ccall_release(w1);
	wg_rpc_ccall_release(w2);
	wg_rpc_target_put(t);
	wg_rpc_client_destroy(cl);
	node_stop(&n);
}

static void
info(struct wg_rpc_balancer *b, const char *id, struct wg_rpc_instance_info *in)
{
	assert_int_equal(wg_rpc_balancer_info(b, id, in), 0);
}

/* Poll until the instance's ejected flag is want (10 s net). */
static bool
wait_ejected(struct wg_rpc_balancer *b, const char *id, bool want)
{
	struct wg_rpc_instance_info in;
	int i;

	for (i = 0; i < 2000; i++) {
		info(b, id, &in);
		if (in.ejected == want)
			return true;
		usleep(5000);
	}
	return false;
}

static void
lb_call(struct wg_rpc_client *cl, struct wg_rpc_balancer *b, struct node *n,
	grpc_status_code want)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct wg_rpc_call_opts o = { .timeout_ms = 5000, .bal = b };
	struct waiter w;

	waiter_init(&w);
	assert_int_equal(wg_rpc_unary(cl, NULL, &n->svc, M_ECHO, &rq.base, &o,
				      waiter_cb, &w, NULL), 0);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, want);
	waiter_fini(&w);
}

static void
test_balancer_health_ejection(void **state)
{
	struct wg_rpc_balancer_conf bc = {
		.strategy = WG_LB_RR, .eject_failures = 2, .eject_base_ms = 400,
		.health_interval_ms = 30, .health_timeout_ms = 500,
		.health_service = "wg.rpc.Echo",
	};
	struct wg_rpc_client *cl = client();
	struct wg_rpc_instance_info ia, ib;
	struct wg_rpc_balancer *b;
	struct node na, nb;
	unsigned int before_a, before_b;
	int i;

	(void)state;
	node_start(&na);
	node_start(&nb);
	wg_rpc_server_set_health(na.srv, "wg.rpc.Echo", HS(SERVING));
	wg_rpc_server_set_health(nb.srv, "wg.rpc.Echo", HS(SERVING));
	b = wg_rpc_balancer_create(cl, &bc);
	assert_non_null(b);
	assert_int_equal(wg_rpc_balancer_upsert(b, "a", na.addr, 1, 0), 0);
	assert_int_equal(wg_rpc_balancer_upsert(b, "b", nb.addr, 1, 0), 0);
	assert_int_equal(wg_rpc_balancer_upsert(b, "c", nb.addr, 0, 0), -EINVAL);
	assert_int_equal(wg_rpc_balancer_alive(b), 2);
	for (i = 0; i < 10; i++)
		lb_call(cl, b, &na, GRPC_STATUS_OK);
	/* Round-robin over two: five each. */
	assert_int_equal(atomic_load(&na.st.calls[0]), 5);
	assert_int_equal(atomic_load(&nb.st.calls[0]), 5);

	/* a stops serving: its checks fail, it is ejected, calls go to b. */
	wg_rpc_server_set_health(na.srv, "wg.rpc.Echo", HS(NOT_SERVING));
	assert_true(wait_ejected(b, "a", true));
	info(b, "a", &ia);
	assert_false(ia.alive);
	assert_int_equal(ia.ejections, 1);
	assert_true(ia.checks_failed >= 2);
	assert_int_equal(wg_rpc_balancer_alive(b), 1);
	{
		char buf[1024] = "";
		FILE *m = fmemopen(buf, sizeof(buf) - 1, "w");

		wg_rpc_balancer_dump(m, b);
		fclose(m);
		assert_non_null(strstr(buf, "2 instances, 1 eligible"));
		assert_non_null(strstr(buf, " EJECTED "));
	}
	before_a = atomic_load(&na.st.calls[0]);
	before_b = atomic_load(&nb.st.calls[0]);
	for (i = 0; i < 6; i++)
		lb_call(cl, b, &na, GRPC_STATUS_OK);
	assert_int_equal(atomic_load(&na.st.calls[0]), before_a);
	assert_int_equal(atomic_load(&nb.st.calls[0]), before_b + 6);

	/* Still failing after the period: probation ends at the first failed
	 * check, the second ejection is twice as long. */
	for (i = 0; i < 2000; i++) {
		info(b, "a", &ia);
		if (ia.ejections == 2)
			break;
		usleep(5000);
	}
	assert_int_equal(ia.ejections, 2);
	assert_true(ia.ejected);

	/* Healthy again: back after the (800 ms) period, record cleared. */
	wg_rpc_server_set_health(na.srv, "wg.rpc.Echo", HS(SERVING));
	assert_true(wait_ejected(b, "a", false));
	for (i = 0; i < 2000; i++) {
		info(b, "a", &ia);
		if (ia.ejections == 0 && ia.failures == 0)
			break;
		usleep(5000);
	}
	assert_true(ia.alive);
	assert_int_equal(ia.ejections, 0);
	assert_int_equal(ia.failures, 0);
	info(b, "b", &ib);
	assert_int_equal(ib.ejections, 0);
	assert_int_equal(ib.checks_failed, 0);
	assert_true(ib.checks_ok > 0);
	assert_int_equal(wg_rpc_balancer_alive(b), 2);

	assert_int_equal(wg_rpc_balancer_remove(b, "a"), 0);
	assert_int_equal(wg_rpc_balancer_remove(b, "a"), -ENOENT);
	assert_int_equal(wg_rpc_balancer_alive(b), 1);
	wg_rpc_balancer_destroy(b);
	wg_rpc_client_destroy(cl);
	node_stop(&na);
	node_stop(&nb);
}

static void
test_balancer_failover(void **state)
{
	struct wg_rpc_balancer_conf bc = {
		.strategy = WG_LB_RR, .eject_failures = 2, .eject_base_ms = 60000,
	};
	struct wg_rpc_client *cl = client();
	struct wg_rpc_instance_info id, il;
	struct wg_rpc_balancer *b;
	struct node live, dead;
	int i;

	(void)state;
	node_start(&live);
	node_start(&dead);
	b = wg_rpc_balancer_create(cl, &bc);
	assert_non_null(b);
	assert_int_equal(wg_rpc_balancer_upsert(b, "dead", dead.addr, 1, 0), 0);
	assert_int_equal(wg_rpc_balancer_upsert(b, "live", live.addr, 1, 0), 0);
	/* kill "dead" without telling the balancer */
	assert_int_equal(wg_rpc_server_shutdown(dead.srv, 0), 0);
	/* Every idempotent call succeeds: a failed attempt on the dead one
	 * retries on the live one; two failures eject the dead one. */
	for (i = 0; i < 8; i++)
		lb_call(cl, b, &live, GRPC_STATUS_OK);
	info(b, "dead", &id);
	info(b, "live", &il);
	assert_true(id.ejected);
	assert_int_equal(id.ejections, 1);
	assert_false(il.ejected);
	assert_int_equal(atomic_load(&live.st.calls[0]), 8);
	assert_int_equal(wg_rpc_balancer_alive(b), 1);
	/* A non-idempotent call is never retried: with only the live one
	 * eligible it succeeds, and the dead one is not picked. */
	{
		Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
		struct wg_rpc_call_opts o = { .timeout_ms = 5000, .bal = b };
		struct waiter w;

		waiter_init(&w);
		assert_int_equal(wg_rpc_unary(cl, NULL, &live.svc, M_ONCE, &rq.base, &o,
					      waiter_cb, &w, NULL), 0);
		assert_true(waiter_wait(&w));
		assert_int_equal(w.code, GRPC_STATUS_OK);
		assert_int_equal(w.attempts, 1);
		waiter_fini(&w);
	}
	/* Nothing eligible: the call is refused up front. */
	assert_int_equal(wg_rpc_balancer_report(b, "live", false), 0);
	assert_int_equal(wg_rpc_balancer_report(b, "live", false), 0);
	assert_int_equal(wg_rpc_balancer_alive(b), 0);
	{
		Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
		struct wg_rpc_call_opts o = { .bal = b };

		assert_int_equal(wg_rpc_unary(cl, NULL, &live.svc, M_ECHO, &rq.base, &o,
					      waiter_cb, NULL, NULL), -EHOSTUNREACH);
	}
	wg_rpc_balancer_destroy(b);
	wg_rpc_client_destroy(cl);
	node_stop(&live);
	node_stop(&dead);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_watch),
		cmocka_unit_test(test_balancer_health_ejection),
		cmocka_unit_test(test_balancer_failover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
