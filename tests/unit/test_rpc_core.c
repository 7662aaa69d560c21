/* SPDX-License-Identifier: BSD-3-Clause
 * RPC server and client over real gRPC on 127.0.0.1 ephemeral ports, in
 * process: unary and streaming round trips with protobuf-c payloads, bad
 * input (unknown method, undecodable request, oversize message), deadlines
 * and cancellation seen by both sides, status + details, retries for
 * idempotent methods only, channel pools, graceful shutdown with and
 * without a drain deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "test_rpc_echo.h"

struct fx {
	struct echo_state st;
	struct wg_rpc_service svc;
	struct wg_rpc_server *srv;
	struct wg_rpc_client *cl;
	struct wg_rpc_target *t;
	char addr[64];
};

static struct fx *
fx_start(int32_t max_recv, unsigned int channels)
{
	struct wg_rpc_server_conf sc = { .listen = "127.0.0.1:0", .threads = 2 };
	struct wg_rpc_client_conf cc = { .threads = 2, .channels = channels,
					 .backoff_initial_ms = 5, .backoff_max_ms = 20 };
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	echo_state_init(&f->st);
	f->svc = echo_svc_tmpl;
	f->svc.arg = &f->st;
	sc.chan.max_recv_msg = max_recv;
	f->srv = wg_rpc_server_create(&sc);
	assert_non_null(f->srv);
	assert_int_equal(wg_rpc_server_add_service(f->srv, &f->svc), 0);
	assert_int_equal(wg_rpc_server_add_service(f->srv, &f->svc), -EEXIST);
	assert_int_equal(wg_rpc_server_start(f->srv), 0);
	assert_true(wg_rpc_server_port(f->srv) > 0);
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%d", wg_rpc_server_port(f->srv));
	cc.chan.max_recv_msg = 32 << 20;
	f->cl = wg_rpc_client_create(&cc);
	assert_non_null(f->cl);
	f->t = wg_rpc_target_get(f->cl, f->addr);
	assert_non_null(f->t);
	return f;
}

static void
fx_stop(struct fx *f)
{
	wg_rpc_target_put(f->t);
	wg_rpc_client_destroy(f->cl);
	echo_state_fini(&f->st);          /* drops its call references */
	wg_rpc_server_destroy(f->srv);
	free(f);
}

/* Unary call, waited for. */
static void
call(struct fx *f, const struct wg_rpc_method *m, Wg__Rpc__EchoRequest *rq,
     uint32_t timeout_ms, struct waiter *w)
{
	struct wg_rpc_call_opts o = { .timeout_ms = timeout_ms };

	waiter_init(w);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &f->svc, m, &rq->base, &o,
				      waiter_cb, w, NULL), 0);
	assert_true(waiter_wait(w));
}

static void
test_unary(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct wg_rpc_server_stats ss;
	struct wg_rpc_client_stats cs;
	struct fx *f = fx_start(0, 1);
	struct waiter w;
	int i;

	(void)state;
	rq.payload.data = (uint8_t *)"hello\0world";
	rq.payload.len = 11;
	for (i = 0; i < 20; i++) {
		rq.seq = 1000 + (uint64_t)i;
		call(f, M_ECHO, &rq, 5000, &w);
		assert_int_equal(w.code, GRPC_STATUS_OK);
		assert_true(w.has_resp);
		assert_int_equal(w.resp_seq, 1000 + i);
		assert_int_equal(w.resp_len, 11);
		assert_memory_equal(w.resp, "hello\0world", 11);
		assert_int_equal(w.attempts, 1);
		waiter_fini(&w);
	}
	assert_true(wait_count(&f->st.dones, 20));
	wg_rpc_server_stats(f->srv, &ss);
	assert_int_equal(ss.calls, 20);
	assert_int_equal(ss.finished, 20);
	assert_int_equal(ss.cancelled, 0);
	assert_int_equal(atomic_load(&f->st.calls[0]), 20);
	/* A deadline reaches the handler as remaining time (grpc-timeout
	 * rounds up on the wire: a little slack above). */
	assert_true(atomic_load(&f->st.start_remaining_ms) > 4000);
	assert_true(atomic_load(&f->st.start_remaining_ms) <= 5020);
	wg_rpc_client_stats(f->cl, &cs);
	assert_int_equal(cs.calls, 20);
	assert_int_equal(cs.ok, 20);
	/* in_flight drops after the callback returned: let the last go. */
	for (i = 0; i < 1000 && cs.in_flight; i++) {
		usleep(1000);
		wg_rpc_client_stats(f->cl, &cs);
	}
	assert_int_equal(cs.in_flight, 0);
	{
		char buf[4096] = "";
		FILE *m = fmemopen(buf, sizeof(buf) - 1, "w");

		assert_non_null(m);
		wg_rpc_server_dump(m, f->srv);
		wg_rpc_client_dump(m, f->cl);
		fclose(m);
		assert_non_null(strstr(buf, "calls 20 unknown 0 bad 0 cancelled 0 done 20"));
		assert_non_null(strstr(buf, "  /wg.rpc.Echo/Chat (3)\n"));
		assert_non_null(strstr(buf, "ok 20 failed 0"));
		assert_non_null(strstr(buf, f->addr));
	}
	fx_stop(f);
}

static const struct wg_rpc_method bad_methods[] = {
	{ "Nope", WG_RPC_UNARY, ECHO_REQ, ECHO_REP, 0, NULL },
	/* Echo's path with a request EchoRequest cannot parse (field 1 is a
	 * varint here, bytes there). */
	{ "Echo", WG_RPC_UNARY, &wg__rpc__health_check_response__descriptor,
	  ECHO_REP, 0, NULL },
};
static const struct wg_rpc_service bad_svc = {
	.name = "wg.rpc.Echo", .methods = bad_methods, .n_methods = 2,
};
static const struct wg_rpc_service nosvc = {
	.name = "wg.rpc.Nothing", .methods = bad_methods, .n_methods = 1,
};

static void
test_bad_input(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	Wg__Rpc__HealthCheckResponse bad = WG__RPC__HEALTH_CHECK_RESPONSE__INIT;
	struct wg_rpc_server_stats ss;
	struct fx *f = fx_start(1 << 20, 1);
	struct waiter w;
	uint8_t *big;

	(void)state;
	waiter_init(&w);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &bad_svc, &bad_methods[0], &rq.base,
				      NULL, waiter_cb, &w, NULL), 0);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_UNIMPLEMENTED);
	waiter_fini(&w);
	waiter_init(&w);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &nosvc, &bad_methods[0], &rq.base,
				      NULL, waiter_cb, &w, NULL), 0);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_UNIMPLEMENTED);
	waiter_fini(&w);

	bad.status = 1;
	waiter_init(&w);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &bad_svc, &bad_methods[1], &bad.base,
				      NULL, waiter_cb, &w, NULL), 0);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_INTERNAL);
	assert_string_equal(w.message, "malformed request");
	waiter_fini(&w);
	assert_int_equal(atomic_load(&f->st.calls[0]), 0);   /* handler never ran */

	/* Over the server's 1 MiB receive limit. */
	big = calloc(1, (1 << 20) + 100);
	assert_non_null(big);
	rq.payload.data = big;
	rq.payload.len = (1 << 20) + 100;
	call(f, M_ONCE, &rq, 5000, &w);
	assert_int_equal(w.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
	waiter_fini(&w);
	/* Just under it goes through, and the server kept serving. */
	rq.payload.len = (1 << 20) - 64;
	call(f, M_ONCE, &rq, 5000, &w);
	assert_int_equal(w.code, GRPC_STATUS_OK);
	assert_int_equal(w.resp_len, (1 << 20) - 64);
	waiter_fini(&w);
	free(big);
	assert_int_equal(atomic_load(&f->st.calls[1]), 1);

	/* Client-side checks. */
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &f->svc, M_ECHO, &bad.base, NULL,
				      waiter_cb, &w, NULL), -EINVAL);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &f->svc, M_STREAM, &rq.base, NULL,
				      waiter_cb, &w, NULL), -EINVAL);
	assert_int_equal(wg_rpc_unary(f->cl, NULL, &f->svc, M_ECHO, &rq.base, NULL,
				      waiter_cb, &w, NULL), -EINVAL);
	wg_rpc_server_stats(f->srv, &ss);
	assert_int_equal(ss.unknown, 2);
	assert_int_equal(ss.bad_request, 1);
	fx_stop(f);
}

static void
test_deadline(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 1);
	struct waiter w;
	int64_t rem;

	(void)state;
	call(f, M_HANG, &rq, 150, &w);
	assert_int_equal(w.code, GRPC_STATUS_DEADLINE_EXCEEDED);
	assert_int_equal(w.attempts, 1);
	waiter_fini(&w);
	/* The handler saw the deadline and then the cancellation. */
	rem = atomic_load(&f->st.start_remaining_ms);
	assert_true(rem > 0 && rem <= 170);
	assert_true(wait_count(&f->st.cancels, 1));
	assert_true(wait_count(&f->st.dones, 1));

	/* A reply that comes after the deadline does not resurrect it. */
	rq.delay_ms = 300;
	call(f, M_ONCE, &rq, 100, &w);
	assert_int_equal(w.code, GRPC_STATUS_DEADLINE_EXCEEDED);
	waiter_fini(&w);
	assert_true(wait_count(&f->st.cancels, 2));
	fx_stop(f);
}

static void
test_cancel(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 1);
	struct wg_rpc_ccall *c = NULL;
	struct waiter w;

	(void)state;
	waiter_init(&w);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &f->svc, M_HANG, &rq.base, NULL,
				      waiter_cb, &w, &c), 0);
	assert_non_null(c);
	assert_true(wait_count(&f->st.started, 1));
	assert_int_equal(atomic_load(&f->st.start_remaining_ms), INT64_MAX);
	assert_int_equal(atomic_load(&f->st.cancels), 0);
	wg_rpc_ccall_cancel(c);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_CANCELLED);
	assert_true(wait_count(&f->st.cancels, 1));
	assert_true(wait_count(&f->st.dones, 1));
	wg_rpc_ccall_cancel(c);             /* after the end: no effect */
	wg_rpc_ccall_release(c);
	waiter_fini(&w);
	fx_stop(f);
}

static void
test_status_details(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 1);
	struct waiter w;

	(void)state;
	rq.fail_code = GRPC_STATUS_NOT_FOUND;
	rq.fail_times = 1;
	rq.payload.data = (uint8_t *)"\x01\x02\x00\xff";
	rq.payload.len = 4;
	call(f, M_ECHO, &rq, 0, &w);
	assert_int_equal(w.code, GRPC_STATUS_NOT_FOUND);
	assert_string_equal(w.message, "injected");
	assert_int_equal(w.detail_len, 4);
	assert_memory_equal(w.detail, "\x01\x02\x00\xff", 4);
	assert_false(w.has_resp);
	assert_int_equal(w.attempts, 1);     /* NOT_FOUND is not retried */
	waiter_fini(&w);
	call(f, M_ECHO, &rq, 0, &w);         /* fail_times used up */
	assert_int_equal(w.code, GRPC_STATUS_OK);
	assert_int_equal(w.detail_len, 0);
	waiter_fini(&w);
	fx_stop(f);
}

static void
test_retries(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct wg_rpc_client_stats cs;
	struct fx *f = fx_start(0, 1);
	struct wg_rpc_target *dead;
	struct waiter w;
	int fd, port;

	(void)state;
	/* Idempotent: two UNAVAILABLE answers, the third attempt succeeds. */
	rq.fail_code = GRPC_STATUS_UNAVAILABLE;
	rq.fail_times = 2;
	rq.seq = 7;
	call(f, M_ECHO, &rq, 5000, &w);
	assert_int_equal(w.code, GRPC_STATUS_OK);
	assert_int_equal(w.resp_seq, 7);
	assert_int_equal(w.attempts, 3);
	assert_int_equal(atomic_load(&f->st.calls[0]), 3);
	waiter_fini(&w);
	/* Not idempotent: one attempt, the error comes back. */
	atomic_store(&f->st.failed_so_far, 0);
	call(f, M_ONCE, &rq, 5000, &w);
	assert_int_equal(w.code, GRPC_STATUS_UNAVAILABLE);
	assert_int_equal(w.attempts, 1);
	assert_int_equal(atomic_load(&f->st.calls[1]), 1);
	waiter_fini(&w);
	/* Only UNAVAILABLE is retried. */
	atomic_store(&f->st.failed_so_far, 0);
	rq.fail_code = GRPC_STATUS_ABORTED;
	rq.fail_times = 1;
	call(f, M_ECHO, &rq, 5000, &w);
	assert_int_equal(w.code, GRPC_STATUS_ABORTED);
	assert_int_equal(w.attempts, 1);
	waiter_fini(&w);
	/* Nobody listening: every attempt fails to connect. */
	fd = -1;
	{
		struct wg_rpc_server_conf sc = { .listen = "127.0.0.1:0", .threads = 1 };
		struct wg_rpc_server *tmp = wg_rpc_server_create(&sc);

		assert_non_null(tmp);
		assert_int_equal(wg_rpc_server_add_service(tmp, &f->svc), 0);
		assert_int_equal(wg_rpc_server_start(tmp), 0);
		port = wg_rpc_server_port(tmp);
		wg_rpc_server_destroy(tmp);        /* the port is now closed */
	}
	(void)fd;
	{
		char a[64];

		snprintf(a, sizeof(a), "127.0.0.1:%d", port);
		dead = wg_rpc_target_get(f->cl, a);
		assert_non_null(dead);
	}
	rq.fail_code = 0;
	waiter_init(&w);
	{
		struct wg_rpc_call_opts o = { .timeout_ms = 5000 };

		assert_int_equal(wg_rpc_unary(f->cl, dead, &f->svc, M_ECHO, &rq.base, &o,
					      waiter_cb, &w, NULL), 0);
	}
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_UNAVAILABLE);
	assert_int_equal(w.attempts, 3);
	waiter_fini(&w);
	wg_rpc_client_stats(f->cl, &cs);
	assert_int_equal(cs.retries, 2 + 2);
	/* Cancelled while waiting out a (long) back-off: ends CANCELLED
	 * without another attempt. */
	{
		struct wg_rpc_client_conf cc = { .threads = 1, .backoff_initial_ms = 4000,
						 .backoff_max_ms = 4000 };
		struct wg_rpc_client *slow = wg_rpc_client_create(&cc);
		struct wg_rpc_target *dt;
		struct wg_rpc_ccall *c;
		char a[64];
		int k;

		assert_non_null(slow);
		snprintf(a, sizeof(a), "127.0.0.1:%d", port);
		dt = wg_rpc_target_get(slow, a);
		waiter_init(&w);
		assert_int_equal(wg_rpc_unary(slow, dt, &f->svc, M_ECHO, &rq.base, NULL,
					      waiter_cb, &w, &c), 0);
		for (k = 0; k < 2000; k++) {
			wg_rpc_client_stats(slow, &cs);
			if (cs.retries == 1)
				break;
			usleep(5000);
		}
		assert_int_equal(cs.retries, 1);     /* in back-off now */
		wg_rpc_ccall_cancel(c);
		assert_true(waiter_wait(&w));
		assert_int_equal(w.code, GRPC_STATUS_CANCELLED);
		assert_int_equal(w.attempts, 1);
		wg_rpc_client_stats(slow, &cs);
		assert_int_equal(cs.attempts, 1);
		wg_rpc_ccall_release(c);
		waiter_fini(&w);
		wg_rpc_target_put(dt);
		wg_rpc_client_destroy(slow);
	}
	wg_rpc_target_put(dead);
	fx_stop(f);
}

static void
test_server_stream(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 1);
	struct wg_rpc_ccall *c;
	struct waiter w;
	unsigned int i;

	(void)state;
	rq.count = 200;
	rq.payload.data = (uint8_t *)"s";
	rq.payload.len = 1;
	waiter_init(&w);
	c = wg_rpc_stream(f->cl, f->t, &f->svc, M_STREAM, &rq.base, NULL, waiter_cb, &w);
	assert_non_null(c);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_OK);
	assert_int_equal(w.n_msgs, 200);
	for (i = 0; i < 200 && i < 256; i++)
		assert_int_equal(w.seqs[i], i);
	assert_false(w.has_resp);
	/* Writes are for client streams. */
	assert_int_equal(wg_rpc_ccall_write(c, &rq.base), -EINVAL);
	wg_rpc_ccall_release(c);
	waiter_fini(&w);
	/* Request required for server streaming, refused otherwise. */
	assert_null(wg_rpc_stream(f->cl, f->t, &f->svc, M_STREAM, NULL, NULL, waiter_cb, &w));
	assert_int_equal(errno, EINVAL);
	fx_stop(f);
}

static void
test_client_stream(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 1);
	struct wg_rpc_ccall *c;
	struct waiter w;
	char part[2] = "a";
	int i;

	(void)state;
	waiter_init(&w);
	c = wg_rpc_stream(f->cl, f->t, &f->svc, M_SUM, NULL, NULL, waiter_cb, &w);
	assert_non_null(c);
	for (i = 0; i < 10; i++) {
		part[0] = (char)('a' + i);
		rq.payload.data = (uint8_t *)part;
		rq.payload.len = 1;
		assert_int_equal(wg_rpc_ccall_write(c, &rq.base), 0);
	}
	assert_int_equal(wg_rpc_ccall_close_send(c), 0);
	assert_int_equal(wg_rpc_ccall_close_send(c), -EALREADY);
	assert_int_equal(wg_rpc_ccall_write(c, &rq.base), -EPIPE);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_OK);
	assert_true(w.has_resp);
	assert_int_equal(w.resp_seq, 10);
	assert_int_equal(w.resp_len, 10);
	assert_memory_equal(w.resp, "abcdefghij", 10);
	assert_int_equal(w.n_msgs, 0);
	wg_rpc_ccall_release(c);
	waiter_fini(&w);
	fx_stop(f);
}

static void
test_bidi(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 1);
	struct wg_rpc_ccall *c;
	struct waiter w;
	int i;

	(void)state;
	waiter_init(&w);
	c = wg_rpc_stream(f->cl, f->t, &f->svc, M_CHAT, NULL, NULL, waiter_cb, &w);
	assert_non_null(c);
	for (i = 0; i < 50; i++) {
		rq.seq = 500 + (uint64_t)i;
		assert_int_equal(wg_rpc_ccall_write(c, &rq.base), 0);
	}
	/* Replies flow while the client still may send. */
	for (i = 0; i < 2000; i++) {
		pthread_mutex_lock(&w.lock);
		bool got = w.n_msgs == 50;
		pthread_mutex_unlock(&w.lock);
		if (got)
			break;
		usleep(2000);
	}
	assert_int_equal(w.n_msgs, 50);
	assert_false(w.done);
	assert_int_equal(wg_rpc_ccall_close_send(c), 0);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_OK);
	for (i = 0; i < 50; i++)
		assert_int_equal(w.seqs[i], 500 + i);
	wg_rpc_ccall_release(c);
	waiter_fini(&w);

	/* Cancel a bidi stream mid-way: the handler is told. */
	waiter_init(&w);
	c = wg_rpc_stream(f->cl, f->t, &f->svc, M_CHAT, NULL, NULL, waiter_cb, &w);
	assert_non_null(c);
	assert_int_equal(wg_rpc_ccall_write(c, &rq.base), 0);
	assert_true(wait_count(&f->st.calls[4], 2));
	wg_rpc_ccall_cancel(c);
	assert_true(waiter_wait(&w));
	assert_int_equal(w.code, GRPC_STATUS_CANCELLED);
	assert_true(wait_count(&f->st.cancels, 1));
	assert_int_equal(wg_rpc_ccall_write(c, &rq.base), -ECANCELED);
	wg_rpc_ccall_release(c);
	waiter_fini(&w);
	fx_stop(f);
}

static void
test_channel_pool(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 4);
	struct wg_rpc_target *same;
	struct waiter w;
	int i;

	(void)state;
	same = wg_rpc_target_get(f->cl, f->addr);
	assert_ptr_equal(same, f->t);          /* one pool per target */
	wg_rpc_target_put(same);
	for (i = 0; i < 8; i++) {
		call(f, M_ECHO, &rq, 5000, &w);
		assert_int_equal(w.code, GRPC_STATUS_OK);
		waiter_fini(&w);
	}
	/* Four channels, each its own connection: four client ports. */
	assert_int_equal(f->st.n_peers, 4);
	fx_stop(f);
}

struct shut_arg {
	struct wg_rpc_server *srv;
	uint32_t drain_ms;
	int rc;
};

static void *
shut_thread(void *arg)
{
	struct shut_arg *a = arg;

	a->rc = wg_rpc_server_shutdown(a->srv, a->drain_ms);
	return NULL;
}

static void
test_graceful_shutdown(void **state)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct fx *f = fx_start(0, 1);
	struct shut_arg a = { .srv = f->srv, .drain_ms = 5000 };
	struct waiter w1, w2, w3;
	pthread_t tid;

	(void)state;
	/* In flight: a reply due in 300 ms. */
	rq.delay_ms = 300;
	rq.seq = 42;
	waiter_init(&w1);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &f->svc, M_ONCE, &rq.base, NULL,
				      waiter_cb, &w1, NULL), 0);
	assert_true(wait_count(&f->st.started, 1));
	pthread_create(&tid, NULL, shut_thread, &a);
	usleep(50000);
	/* Draining: a new call is refused (UNAVAILABLE), not served. */
	rq.delay_ms = 0;
	waiter_init(&w2);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &f->svc, M_ONCE, &rq.base, NULL,
				      waiter_cb, &w2, NULL), 0);
	assert_true(waiter_wait(&w2));
	assert_int_equal(w2.code, GRPC_STATUS_UNAVAILABLE);
	assert_true(waiter_wait(&w1));
	assert_int_equal(w1.code, GRPC_STATUS_OK);    /* drained, not cut */
	assert_int_equal(w1.resp_seq, 42);
	pthread_join(tid, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(atomic_load(&f->st.started), 1);
	assert_int_equal(atomic_load(&f->st.cancels), 0);
	waiter_fini(&w1);
	waiter_fini(&w2);
	fx_stop(f);

	/* A call that never ends: the drain deadline cancels it. */
	f = fx_start(0, 1);
	a.srv = f->srv;
	a.drain_ms = 200;
	waiter_init(&w3);
	assert_int_equal(wg_rpc_unary(f->cl, f->t, &f->svc, M_HANG, &rq.base, NULL,
				      waiter_cb, &w3, NULL), 0);
	assert_true(wait_count(&f->st.started, 1));
	shut_thread(&a);
	assert_int_equal(a.rc, -ETIMEDOUT);
	assert_int_equal(atomic_load(&f->st.cancels), 1);
	assert_int_equal(atomic_load(&f->st.dones), 1);
	assert_true(waiter_wait(&w3));
	assert_true(w3.code == GRPC_STATUS_CANCELLED || w3.code == GRPC_STATUS_UNAVAILABLE);
	waiter_fini(&w3);
	fx_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unary),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_status_details),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_server_stream),
		cmocka_unit_test(test_client_stream),
		cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_channel_pool),
		cmocka_unit_test(test_graceful_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
