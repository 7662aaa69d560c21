/* SPDX-License-Identifier: BSD-3-Clause
 * Unary RPC calls/s and latency on loopback: our framework (wg_rpc server
 * + client, method table, protobuf-c decode/encode, callbacks) against a
 * raw gRPC core echo (one CQ thread each side, one batch per call, bytes
 * echoed without decoding) measured in the same run with the same payload,
 * concurrency and thread counts. Prints both and the ratio; never fails on
 * performance.
 *   bench_rpc [calls] [payload_bytes]
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "rpc.h"
#include "wg_rpc.pb-c.h"

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double calls_s;
	double p50_us, p99_us;
	unsigned int errors;
};

/* Shared load state: conc calls in flight, until total are done. */
struct load {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int total, started, done, errors;
	int64_t *lat;
	int64_t t0, t1;
};

static void
load_init(struct load *l, unsigned int total)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->total = total;
	l->lat = calloc(total, sizeof(*l->lat));
}

/* A call ended; true if another one should start. */
static bool
load_done(struct load *l, int64_t lat, bool ok)
{
	bool more;

	pthread_mutex_lock(&l->lock);
	if (l->done < l->total)
		l->lat[l->done] = lat;
	l->done++;
	if (!ok)
		l->errors++;
	more = l->started < l->total;
	if (more)
		l->started++;
	if (l->done == l->total) {
		l->t1 = now_ns();
		pthread_cond_broadcast(&l->cond);
	}
	pthread_mutex_unlock(&l->lock);
	return more;
}

static void
load_wait(struct load *l, struct result *r)
{
	pthread_mutex_lock(&l->lock);
	while (l->done < l->total)
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
	qsort(l->lat, l->total, sizeof(*l->lat), cmp64);
	r->calls_s = l->total / ((double)(l->t1 - l->t0) / 1e9);
	r->p50_us = (double)l->lat[l->total / 2] / 1000.0;
	r->p99_us = (double)l->lat[(size_t)l->total * 99 / 100] / 1000.0;
	r->errors = l->errors;
	free(l->lat);
}

/* ---- framework ---- */

static void
h_echo(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg, void *arg)
{
	const Wg__Rpc__EchoRequest *rq = (const void *)msg;
	Wg__Rpc__EchoReply r = WG__RPC__ECHO_REPLY__INIT;

	(void)arg;
	if (ev != WG_RPC_SEV_START)
		return;
	r.payload = rq->payload;
	r.seq = rq->seq;
	wg_rpc_scall_reply(c, &r.base);
}

static const struct wg_rpc_method methods[] = {
	{ "Echo", WG_RPC_UNARY, &wg__rpc__echo_request__descriptor,
	  &wg__rpc__echo_reply__descriptor, WG_RPC_F_IDEMPOTENT, h_echo },
};
static const struct wg_rpc_service svc = { "wg.rpc.Echo", methods, 1, NULL };

struct fw_call {
	struct load *l;
	struct wg_rpc_client *cl;
	struct wg_rpc_target *t;
	Wg__Rpc__EchoRequest *rq;
	int64_t start;
};

static void fw_start(struct fw_call *fc);

static void
fw_cb(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
      const struct wg_rpc_status *st)
{
	struct fw_call *fc = arg;

	(void)c;
	(void)msg;
	if (load_done(fc->l, now_ns() - fc->start, st->code == GRPC_STATUS_OK))
		fw_start(fc);
}

static void
fw_start(struct fw_call *fc)
{
	struct wg_rpc_call_opts o = { .timeout_ms = 10000 };

	fc->start = now_ns();
	if (wg_rpc_unary(fc->cl, fc->t, &svc, &methods[0], &fc->rq->base, &o, fw_cb, fc,
			 NULL) < 0)
		load_done(fc->l, 0, false);
}

static void
run_framework(unsigned int total, unsigned int conc, size_t payload, struct result *r)
{
	struct wg_rpc_server_conf sc = { .listen = "127.0.0.1:0", .threads = 1 };
	struct wg_rpc_client_conf cc = { .threads = 1, .channels = 1 };
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	struct wg_rpc_server *s;
	struct wg_rpc_client *cl;
	struct wg_rpc_target *t;
	struct fw_call *fc;
	struct load l;
	char addr[64];
	unsigned int i;

	s = wg_rpc_server_create(&sc);
	if (s == NULL || wg_rpc_server_add_service(s, &svc) < 0 || wg_rpc_server_start(s) < 0) {
		fprintf(stderr, "framework server failed\n");
		exit(1);
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", wg_rpc_server_port(s));
	cl = wg_rpc_client_create(&cc);
	t = wg_rpc_target_get(cl, addr);
	rq.payload.data = calloc(1, payload ? payload : 1);
	rq.payload.len = payload;
	rq.seq = 1;
	load_init(&l, total);
	fc = calloc(conc, sizeof(*fc));
	pthread_mutex_lock(&l.lock);
	l.started = conc;
	l.t0 = now_ns();
	pthread_mutex_unlock(&l.lock);
	for (i = 0; i < conc; i++) {
		fc[i] = (struct fw_call){ .l = &l, .cl = cl, .t = t, .rq = &rq };
		fw_start(&fc[i]);
	}
	load_wait(&l, r);
	wg_rpc_target_put(t);
	wg_rpc_client_destroy(cl);
	wg_rpc_server_destroy(s);
	free(fc);
	free(rq.payload.data);
}

/* ---- raw gRPC core echo ---- */

enum { RS_NEW = 1, RS_RECV, RS_DONE };

struct raw_scall {
	int state;
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array md;
	grpc_byte_buffer *buf;
	int cancelled;
};

struct raw_server {
	grpc_server *gs;
	grpc_completion_queue *cq;
	pthread_t tid;
	int port;
	_Atomic bool shut;
};

static void
raw_request(struct raw_server *rs)
{
	struct raw_scall *c = calloc(1, sizeof(*c));

	c->state = RS_NEW;
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->md);
	grpc_server_request_call(rs->gs, &c->call, &c->details, &c->md, rs->cq, rs->cq, c);
}

static void
raw_sfree(struct raw_scall *c)
{
	if (c->buf)
		grpc_byte_buffer_destroy(c->buf);
	if (c->call)
		grpc_call_unref(c->call);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->md);
	free(c);
}

static void *
raw_server_loop(void *arg)
{
	struct raw_server *rs = arg;
	grpc_op ops[4];

	for (;;) {
		grpc_event ev = grpc_completion_queue_next(rs->cq,
				gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		struct raw_scall *c = ev.tag;

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		if (ev.tag == (void *)rs) {
			atomic_store(&rs->shut, true);
			continue;
		}
		if (!ev.success) {
			raw_sfree(c);
			continue;
		}
		memset(ops, 0, sizeof(ops));
		if (c->state == RS_NEW) {
			raw_request(rs);
			ops[0].op = GRPC_OP_RECV_MESSAGE;
			ops[0].data.recv_message.recv_message = &c->buf;
			c->state = RS_RECV;
			grpc_call_start_batch(c->call, ops, 1, c, NULL);
		} else if (c->state == RS_RECV) {
			/* Everything out in one batch: one write. */
			ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
			ops[1].op = GRPC_OP_SEND_MESSAGE;
			ops[1].data.send_message.send_message = c->buf;
			ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
			ops[2].data.send_status_from_server.status = GRPC_STATUS_OK;
			ops[3].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
			ops[3].data.recv_close_on_server.cancelled = &c->cancelled;
			c->state = RS_DONE;
			grpc_call_start_batch(c->call, ops, 4, c, NULL);
		} else {
			raw_sfree(c);
		}
	}
	return NULL;
}

static void
raw_server_start(struct raw_server *rs)
{
	grpc_server_credentials *cr = grpc_insecure_server_credentials_create();
	int i;

	atomic_store(&rs->shut, false);
	rs->gs = grpc_server_create(NULL, NULL);
	rs->cq = grpc_completion_queue_create_for_next(NULL);
	grpc_server_register_completion_queue(rs->gs, rs->cq, NULL);
	rs->port = grpc_server_add_http2_port(rs->gs, "127.0.0.1:0", cr);
	grpc_server_credentials_release(cr);
	grpc_server_start(rs->gs);
	for (i = 0; i < 16; i++)
		raw_request(rs);
	pthread_create(&rs->tid, NULL, raw_server_loop, rs);
}

static void
raw_server_stop(struct raw_server *rs)
{
	struct timespec ts = { 0, 1000000 };

	grpc_server_shutdown_and_notify(rs->gs, rs->cq, rs);
	grpc_server_cancel_all_calls(rs->gs);
	while (!atomic_load(&rs->shut))
		nanosleep(&ts, NULL);
	grpc_server_destroy(rs->gs);
	grpc_completion_queue_shutdown(rs->cq);
	pthread_join(rs->tid, NULL);
	grpc_completion_queue_destroy(rs->cq);
}

struct raw_ccall {
	grpc_call *call;
	grpc_metadata_array imd, tmd;
	grpc_byte_buffer *send, *recv;
	grpc_status_code st;
	grpc_slice details;
	int64_t start;
};

struct raw_client {
	grpc_channel *ch;
	grpc_completion_queue *cq;
	grpc_slice path, payload;
	struct load *l;
};

static void
raw_cstart(struct raw_client *rc, struct raw_ccall *c)
{
	grpc_op ops[6];

	memset(c, 0, sizeof(*c));
	grpc_metadata_array_init(&c->imd);
	grpc_metadata_array_init(&c->tmd);
	c->send = grpc_raw_byte_buffer_create(&rc->payload, 1);
	c->start = now_ns();
	c->call = grpc_channel_create_call(rc->ch, NULL, GRPC_PROPAGATE_DEFAULTS, rc->cq,
					   rc->path, NULL,
					   gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
							gpr_time_from_seconds(10, GPR_TIMESPAN)),
					   NULL);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = c->send;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->imd;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &c->recv;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &c->tmd;
	ops[5].data.recv_status_on_client.status = &c->st;
	ops[5].data.recv_status_on_client.status_details = &c->details;
	grpc_call_start_batch(c->call, ops, 6, c, NULL);
}

static void
raw_cfinish(struct raw_ccall *c)
{
	grpc_byte_buffer_destroy(c->send);
	if (c->recv)
		grpc_byte_buffer_destroy(c->recv);
	grpc_metadata_array_destroy(&c->imd);
	grpc_metadata_array_destroy(&c->tmd);
	grpc_slice_unref(c->details);
	grpc_call_unref(c->call);
}

static void
run_raw(unsigned int total, unsigned int conc, size_t payload, struct result *r)
{
	Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
	grpc_channel_credentials *cr;
	struct raw_server rs;
	struct raw_client rc;
	struct raw_ccall *calls;
	struct load l;
	char addr[64];
	unsigned int i;
	size_t n;

	raw_server_start(&rs);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", rs.port);
	/* The framework's client channel settings that matter for speed:
	 * gRPC's own retries off (it buffers every call for replay). */
	grpc_arg a = { .type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_ENABLE_RETRIES,
		       .value.integer = 0 };
	grpc_channel_args ca = { 1, &a };

	cr = grpc_insecure_credentials_create();
	rc.ch = grpc_channel_create(addr, cr, &ca);
	grpc_channel_credentials_release(cr);
	rc.cq = grpc_completion_queue_create_for_next(NULL);
	rc.path = grpc_slice_from_static_string("/wg.rpc.Echo/Echo");
	/* Same bytes on the wire as the framework run. */
	rq.payload.data = calloc(1, payload ? payload : 1);
	rq.payload.len = payload;
	rq.seq = 1;
	n = wg__rpc__echo_request__get_packed_size(&rq);
	rc.payload = grpc_slice_malloc(n);
	wg__rpc__echo_request__pack(&rq, GRPC_SLICE_START_PTR(rc.payload));
	free(rq.payload.data);
	load_init(&l, total);
	rc.l = &l;
	calls = calloc(conc, sizeof(*calls));
	l.started = conc;
	l.t0 = now_ns();
	for (i = 0; i < conc; i++)
		raw_cstart(&rc, &calls[i]);
	/* The client CQ runs on this thread (the framework client has one). */
	while (l.done < l.total) {
		grpc_event ev = grpc_completion_queue_next(rc.cq,
				gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		struct raw_ccall *c = ev.tag;
		bool ok;

		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		ok = ev.success && c->st == GRPC_STATUS_OK && c->recv != NULL;
		raw_cfinish(c);
		if (load_done(&l, now_ns() - c->start, ok))
			raw_cstart(&rc, c);
	}
	load_wait(&l, r);
	free(calls);
	grpc_slice_unref(rc.payload);
	grpc_channel_destroy(rc.ch);
	grpc_completion_queue_shutdown(rc.cq);
	while (grpc_completion_queue_next(rc.cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
					  NULL).type != GRPC_QUEUE_SHUTDOWN)
		;
	grpc_completion_queue_destroy(rc.cq);
	raw_server_stop(&rs);
}

static void
report(const char *what, unsigned int conc, const struct result *fw, const struct result *raw)
{
	printf("%-10s conc %3u  framework %8.0f calls/s p50 %7.1f us p99 %7.1f us | "
	       "raw core %8.0f calls/s p50 %7.1f us p99 %7.1f us | ratio %.2f%s\n",
	       what, conc, fw->calls_s, fw->p50_us, fw->p99_us, raw->calls_s, raw->p50_us,
	       raw->p99_us, fw->calls_s / raw->calls_s,
	       fw->errors || raw->errors ? "  (ERRORS)" : "");
}

int
main(int argc, char **argv)
{
	unsigned int total = argc > 1 ? (unsigned int)atoi(argv[1]) : 20000;
	size_t payload = argc > 2 ? (size_t)atoi(argv[2]) : 64;
	static const unsigned int concs[] = { 1, 32 };
	struct result fw, raw;
	unsigned int i;
	int rc = 0;

	grpc_init();
	printf("unary echo on 127.0.0.1, %u calls, %zu-byte payload, 1 CQ thread per side\n",
	       total, payload);
	for (i = 0; i < 2; i++) {
		unsigned int n = concs[i] == 1 ? total / 4 : total;

		/* Alternate order so neither side always runs warm. */
		run_raw(n / 10, concs[i], payload, &raw);      /* warm-up */
		run_framework(n, concs[i], payload, &fw);
		run_raw(n, concs[i], payload, &raw);
		report(concs[i] == 1 ? "latency" : "throughput", concs[i], &fw, &raw);
		if (fw.errors || raw.errors)
			rc = 1;
	}
	grpc_shutdown();
	return rc;
}
