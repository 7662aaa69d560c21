/* SPDX-License-Identifier: BSD-3-Clause
 * Shared fixture of the RPC unit tests: the wg.rpc.Echo service (every
 * method kind, injected failures, delayed replies from a worker thread, a
 * method that never answers) and a waiter that turns client callbacks into
 * something a test can block on.
 */
#ifndef TEST_RPC_ECHO_H
#define TEST_RPC_ECHO_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rpc.h"
#include "wg_rpc.pb-c.h"

/* ---- server side ---- */

struct echo_state {
	_Atomic unsigned int calls[6];     /* per method index */
	_Atomic unsigned int started, cancels, dones;
	_Atomic unsigned int failed_so_far;
	_Atomic int64_t start_remaining_ms;
	char peers[16][64];
	unsigned int n_peers;
	pthread_mutex_t lock;
	/* delayed replies */
	pthread_t worker;
	pthread_cond_t cond;
	bool stop;
	struct delayed {
		struct wg_rpc_scall *c;
		uint64_t seq;
		int64_t at_ms;
	} q[64];
	unsigned int nq;
	/* client-streaming accumulator */
	char sum[4096];
	size_t sum_len;
	unsigned int sum_n;
};

static int64_t
echo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
echo_reply(struct wg_rpc_scall *c, const ProtobufCBinaryData *payload, uint64_t seq)
{
	Wg__Rpc__EchoReply r = WG__RPC__ECHO_REPLY__INIT;

	if (payload)
		r.payload = *payload;
	r.seq = seq;
	wg_rpc_scall_reply(c, &r.base);
}

static void *
echo_worker(void *arg)
{
	struct echo_state *st = arg;

	pthread_mutex_lock(&st->lock);
	while (!st->stop || st->nq) {
		int64_t now = echo_now_ms();
		unsigned int i;

		for (i = 0; i < st->nq; i++) {
			if (st->q[i].at_ms > now && !st->stop)
				continue;
			struct delayed d = st->q[i];

			st->q[i] = st->q[--st->nq];
			pthread_mutex_unlock(&st->lock);
			echo_reply(d.c, NULL, d.seq);
			wg_rpc_scall_unref(d.c);
			pthread_mutex_lock(&st->lock);
			i = (unsigned int)-1;
			now = echo_now_ms();
		}
		if (!st->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 5000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&st->cond, &st->lock, &ts);
		}
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static void
echo_track(struct echo_state *st, struct wg_rpc_scall *c, enum wg_rpc_sev ev,
	   unsigned int mi)
{
	char peer[64];

	if (ev == WG_RPC_SEV_START) {
		atomic_fetch_add(&st->calls[mi], 1);
		atomic_fetch_add(&st->started, 1);
		atomic_store(&st->start_remaining_ms, wg_rpc_scall_remaining_ms(c));
		wg_rpc_scall_peer(c, peer, sizeof(peer));
		pthread_mutex_lock(&st->lock);
		if (st->n_peers < 16) {
			unsigned int i;

			for (i = 0; i < st->n_peers; i++)
				if (strcmp(st->peers[i], peer) == 0)
					break;
			if (i == st->n_peers)
				memcpy(st->peers[st->n_peers++], peer, sizeof(peer));
		}
		pthread_mutex_unlock(&st->lock);
	} else if (ev == WG_RPC_SEV_CANCEL) {
		atomic_fetch_add(&st->cancels, 1);
	} else if (ev == WG_RPC_SEV_DONE) {
		atomic_fetch_add(&st->dones, 1);
	}
}

/* Echo (idempotent, index 0) and EchoOnce (index 1). */
static void
h_echo(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg, void *arg)
{
	struct echo_state *st = arg;
	const Wg__Rpc__EchoRequest *rq = (const void *)msg;
	unsigned int mi = (wg_rpc_scall_method(c)->flags & WG_RPC_F_IDEMPOTENT) ? 0 : 1;

	echo_track(st, c, ev, mi);
	if (ev != WG_RPC_SEV_START)
		return;
	if (rq->fail_code && atomic_load(&st->failed_so_far) < rq->fail_times) {
		atomic_fetch_add(&st->failed_so_far, 1);
		wg_rpc_scall_finish(c, (grpc_status_code)rq->fail_code, "injected",
				    rq->payload.data, rq->payload.len);
		return;
	}
	if (rq->delay_ms) {
		pthread_mutex_lock(&st->lock);
		if (st->nq < 64) {
			wg_rpc_scall_ref(c);
			st->q[st->nq].c = c;
			st->q[st->nq].seq = rq->seq;
			st->q[st->nq].at_ms = echo_now_ms() + rq->delay_ms;
			st->nq++;
		}
		pthread_cond_signal(&st->cond);
		pthread_mutex_unlock(&st->lock);
		return;
	}
	echo_reply(c, &rq->payload, rq->seq);
}

/* Stream (server-streaming, index 2): count replies, seq 0..count-1. */
static void
h_stream(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg, void *arg)
{
	const Wg__Rpc__EchoRequest *rq = (const void *)msg;
	Wg__Rpc__EchoReply r = WG__RPC__ECHO_REPLY__INIT;
	unsigned int i;

	echo_track(arg, c, ev, 2);
	if (ev != WG_RPC_SEV_START)
		return;
	r.payload = rq->payload;
	for (i = 0; i < rq->count; i++) {
		r.seq = i;
		if (wg_rpc_scall_write(c, &r.base) < 0)
			return;
	}
	wg_rpc_scall_finish(c, GRPC_STATUS_OK, NULL, NULL, 0);
}

/* Sum (client-streaming, index 3): concatenated payloads, seq = count. */
static void
h_sum(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg, void *arg)
{
	struct echo_state *st = arg;
	const Wg__Rpc__EchoRequest *rq = (const void *)msg;
	ProtobufCBinaryData p;

	echo_track(st, c, ev, 3);
	if (ev == WG_RPC_SEV_MSG) {
		if (st->sum_len + rq->payload.len <= sizeof(st->sum)) {
			memcpy(st->sum + st->sum_len, rq->payload.data, rq->payload.len);
			st->sum_len += rq->payload.len;
		}
		st->sum_n++;
	} else if (ev == WG_RPC_SEV_HALF_CLOSE) {
		p.data = (uint8_t *)st->sum;
		p.len = st->sum_len;
		echo_reply(c, &p, st->sum_n);
	}
}

/* Chat (bidi, index 4): echo each message; OK on half-close. */
static void
h_chat(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg, void *arg)
{
	const Wg__Rpc__EchoRequest *rq = (const void *)msg;
	Wg__Rpc__EchoReply r = WG__RPC__ECHO_REPLY__INIT;

	echo_track(arg, c, ev, 4);
	if (ev == WG_RPC_SEV_MSG) {
		r.payload = rq->payload;
		r.seq = rq->seq;
		wg_rpc_scall_write(c, &r.base);
	} else if (ev == WG_RPC_SEV_HALF_CLOSE) {
		wg_rpc_scall_finish(c, GRPC_STATUS_OK, NULL, NULL, 0);
	}
}

/* Hang (unary, index 5): never answers; the call ends by cancel. */
static void
h_hang(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg, void *arg)
{
	(void)msg;
	echo_track(arg, c, ev, 5);
}

#define ECHO_REQ &wg__rpc__echo_request__descriptor
#define ECHO_REP &wg__rpc__echo_reply__descriptor
static const struct wg_rpc_method echo_methods[] = {
	{ "Echo", WG_RPC_UNARY, ECHO_REQ, ECHO_REP, WG_RPC_F_IDEMPOTENT, h_echo },
	{ "EchoOnce", WG_RPC_UNARY, ECHO_REQ, ECHO_REP, 0, h_echo },
	{ "Stream", WG_RPC_SERVER_STREAM, ECHO_REQ, ECHO_REP, 0, h_stream },
	{ "Sum", WG_RPC_CLIENT_STREAM, ECHO_REQ, ECHO_REP, 0, h_sum },
	{ "Chat", WG_RPC_BIDI, ECHO_REQ, ECHO_REP, 0, h_chat },
	{ "Hang", WG_RPC_UNARY, ECHO_REQ, ECHO_REP, 0, h_hang },
};
#define M_ECHO   (&echo_methods[0])
#define M_ONCE   (&echo_methods[1])
#define M_STREAM (&echo_methods[2])
#define M_SUM    (&echo_methods[3])
#define M_CHAT   (&echo_methods[4])
#define M_HANG   (&echo_methods[5])

static void
echo_state_init(struct echo_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	pthread_create(&st->worker, NULL, echo_worker, st);
}

static void
echo_state_fini(struct echo_state *st)
{
	pthread_mutex_lock(&st->lock);
	st->stop = true;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->worker, NULL);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
}

/* ---- client side ---- */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	grpc_status_code code;
	char message[128];
	uint8_t detail[64];
	size_t detail_len;
	unsigned int attempts;
	unsigned int n_msgs;
	uint64_t seqs[256];
	uint64_t resp_seq;
	size_t resp_len;
	uint8_t resp[64];
	bool has_resp;
};

static void
waiter_init(struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->code = (grpc_status_code)-1;
}

static void
waiter_fini(struct waiter *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

static void
waiter_cb(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
	  const struct wg_rpc_status *st)
{
	struct waiter *w = arg;
	const Wg__Rpc__EchoReply *r = (const void *)msg;

	(void)c;
	pthread_mutex_lock(&w->lock);
	if (st == NULL) {
		if (w->n_msgs < 256)
			w->seqs[w->n_msgs] = r->seq;
		w->n_msgs++;
	} else {
		w->code = st->code;
		snprintf(w->message, sizeof(w->message), "%s", st->message);
		w->detail_len = st->detail_len < sizeof(w->detail) ? st->detail_len : 0;
		if (w->detail_len)
			memcpy(w->detail, st->detail, w->detail_len);
		w->attempts = st->attempts;
		if (r) {
			w->has_resp = true;
			w->resp_seq = r->seq;
			w->resp_len = r->payload.len;
			if (r->payload.len)
				memcpy(w->resp, r->payload.data, r->payload.len < sizeof(w->resp) ?
				       r->payload.len : sizeof(w->resp));
		}
		w->done = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
}

/* Block until the call ended (10 s safety net: a hang is a failure). */
static __attribute__((unused)) bool
waiter_wait(struct waiter *w)
{
	struct timespec ts;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&w->lock);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
			break;
	done = w->done;
	pthread_mutex_unlock(&w->lock);
	return done;
}

/* Poll a counter until it reaches want (10 s safety net). */
static __attribute__((unused)) bool
wait_count(_Atomic unsigned int *v, unsigned int want)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (atomic_load(v) >= want)
			return true;
		usleep(5000);
	}
	return false;
}

static const struct wg_rpc_service echo_svc_tmpl = {
	.name = "wg.rpc.Echo",
	.methods = echo_methods,
	.n_methods = sizeof(echo_methods) / sizeof(echo_methods[0]),
};

#endif /* TEST_RPC_ECHO_H */
