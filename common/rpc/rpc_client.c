/* SPDX-License-Identifier: BSD-3-Clause
 * RPC client: channel pools per target, async unary and streaming calls on
 * the client's CQ threads, deadlines, cancellation, retries with jittered
 * exponential back-off for idempotent unary methods.
 *
 * A call is bound to one CQ thread for its life; its completions are
 * serialized there, while the user may write, close or cancel from any
 * thread (c->lock). Unary attempts are one batch of all six ops. Streaming
 * calls keep three batch kinds in flight: SEND (initial metadata, then one
 * message or the half-close at a time), RECV (one message at a time) and
 * STATUS (from the start). The final callback fires once STATUS is in, the
 * receive side has seen the end and no batch is left.
 *
 * Timers (retry back-off, balancer health checks) run on thread 0: a sorted
 * list under a lock, its head bounding thread 0's CQ wait. Another thread
 * arming an earlier timer wakes thread 0 with a call on a lame channel —
 * the C core has no alarm, but a lame call completes at once on its CQ.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/slice.h>

#include "rpc_impl.h"

#define TAG_UNARY   1u
#define TAG_SEND    2u
#define TAG_RECV    3u
#define TAG_STATUS  4u
#define TAG_WAKE    5u
#define TAG_MASK    7u
/* Tags are calloc'd pointers with the op kind in the low bits. */
_Static_assert(_Alignof(max_align_t) > TAG_MASK, "malloc alignment too small for tags");

#define CC_CANCELLED     0x001u  /* user asked */
#define CC_DONE          0x002u  /* final callback delivered */
#define CC_BACKOFF       0x004u  /* between attempts (timer armed) */
#define CC_STATUS_IN     0x008u
#define CC_RECV_END      0x010u
#define CC_SEND_BUSY     0x020u
#define CC_CLOSE_PENDING 0x040u
#define CC_CLOSE_SENT    0x080u
#define CC_RECV_BUSY     0x100u
#define CC_SEND_QITEM    0x200u  /* the SEND in flight carries q_head */

struct timer {
	struct timer *next;
	int64_t when_ns;
	void (*fn)(void *arg);
	void *arg;
};

struct cl_thread {
	struct wg_rpc_client *cl;
	grpc_completion_queue *cq;
	grpc_channel *lame;
	pthread_t tid;
	bool running;
};

struct wg_rpc_target {
	struct wg_rpc_client *cl;
	struct wg_rpc_target *next;
	char *address;
	int refs;                      /* under cl->lock */
	unsigned int n;
	_Atomic unsigned int rr;
	grpc_channel *ch[];
};

struct sendq {
	struct sendq *next;
	grpc_byte_buffer *bb;
};

struct wg_rpc_ccall {
	struct wg_rpc_client *cl;
	struct cl_thread *th;
	struct wg_rpc_ccall *prev, *next;  /* cl->calls */
	const struct wg_rpc_method *m;
	grpc_slice path;
	struct wg_rpc_target *tgt;
	struct wg_rpc_balancer *bal;
	uint64_t key;
	char inst[WG_RPC_NAME_MAX];        /* balancer instance of this attempt */
	char failed_inst[WG_RPC_NAME_MAX]; /* last attempt's, avoided on retry */
	bool picked;                       /* balancer ref held for inst */
	grpc_call *call;
	pthread_mutex_t lock;
	int refs;
	unsigned int busy;                 /* batches in flight */
	uint32_t flags;
	int64_t deadline_ns;
	grpc_slice req_slice;              /* unary: packed request, for retries */
	grpc_byte_buffer *req;             /* this attempt's (the core empties it) */
	grpc_metadata_array init_md, trail_md;
	grpc_byte_buffer *recv_buf;
	grpc_status_code status;
	grpc_slice details;
	ProtobufCMessage *resp;            /* client-streaming: the one reply */
	struct sendq *q_head, *q_tail;
	unsigned int attempts, max_attempts;
	uint32_t backoff_ms;
	uint64_t rng;
	wg_rpc_client_cb *cb;
	void *arg;
};

struct wake {
	grpc_call *call;
	grpc_metadata_array md;
	grpc_status_code st;
	grpc_slice details;
};

struct wg_rpc_client {
	struct wg_rpc_client_conf conf;
	struct cl_thread th[WG_RPC_MAX_THREADS];
	_Atomic unsigned int next_th;
	pthread_mutex_t lock;              /* targets, calls, cond */
	pthread_cond_t cond;
	struct wg_rpc_target *targets;
	struct wg_rpc_ccall *calls;
	pthread_mutex_t tlock;             /* timers */
	struct timer *timers;
	_Atomic bool stopping;
	_Atomic uint64_t n_calls, n_attempts, n_retries, n_ok, n_failed;
	_Atomic uint32_t in_flight;
};

static inline void *
tag(void *p, unsigned int kind)
{
	return (void *)((uintptr_t)p | kind);
}

/* ---- timers ---- */

static void
wake(struct cl_thread *th)
{
	struct wake *w = calloc(1, sizeof(*w));
	grpc_op ops[2];

	if (w == NULL)
		return;   /* thread 0 still wakes within its 1 s cap */
	grpc_metadata_array_init(&w->md);
	w->call = grpc_channel_create_call(th->lame, NULL, GRPC_PROPAGATE_DEFAULTS,
					   th->cq, grpc_slice_from_static_string("/wake"),
					   NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[1].data.recv_status_on_client.trailing_metadata = &w->md;
	ops[1].data.recv_status_on_client.status = &w->st;
	ops[1].data.recv_status_on_client.status_details = &w->details;
	if (w->call == NULL ||
	    grpc_call_start_batch(w->call, ops, 2, tag(w, TAG_WAKE), NULL) != GRPC_CALL_OK) {
		if (w->call)
			grpc_call_unref(w->call);
		grpc_metadata_array_destroy(&w->md);
		free(w);
	}
}

static void
wake_done(struct wake *w)
{
	grpc_slice_unref(w->details);
	grpc_metadata_array_destroy(&w->md);
	grpc_call_unref(w->call);
	free(w);
}

int
wg_rpc_client_timer(struct wg_rpc_client *cl, uint32_t delay_ms,
		    void (*fn)(void *arg), void *arg)
{
	struct timer *t = malloc(sizeof(*t)), **pp;
	bool head;

	if (t == NULL)
		return -ENOMEM;
	t->when_ns = wg_rpc_now_ns() + (int64_t)delay_ms * 1000000;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_lock(&cl->tlock);
	for (pp = &cl->timers; *pp && (*pp)->when_ns <= t->when_ns; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	head = (cl->timers == t);
	pthread_mutex_unlock(&cl->tlock);
	if (head && !pthread_equal(pthread_self(), cl->th[0].tid))
		wake(&cl->th[0]);
	return 0;
}

/* Thread 0: run what is due; returns the next deadline (ns). */
static int64_t
run_timers(struct wg_rpc_client *cl)
{
	int64_t now = wg_rpc_now_ns(), next;
	struct timer *t;

	for (;;) {
		pthread_mutex_lock(&cl->tlock);
		t = cl->timers;
		if (t == NULL || t->when_ns > now) {
			next = t ? t->when_ns : INT64_MAX;
			pthread_mutex_unlock(&cl->tlock);
			return next;
		}
		cl->timers = t->next;
		pthread_mutex_unlock(&cl->tlock);
		t->fn(t->arg);
		free(t);
	}
}

/* ---- targets ---- */

struct wg_rpc_target *
wg_rpc_target_get(struct wg_rpc_client *cl, const char *address)
{
	grpc_arg args[WG_RPC_MAX_ARGS];
	grpc_channel_credentials *cr;
	struct wg_rpc_target *t;
	grpc_channel_args ca;
	unsigned int i;

	if (address == NULL || *address == '\0') {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&cl->lock);
	for (t = cl->targets; t; t = t->next)
		if (strcmp(t->address, address) == 0) {
			t->refs++;
			pthread_mutex_unlock(&cl->lock);
			return t;
		}
	t = calloc(1, sizeof(*t) + cl->conf.channels * sizeof(t->ch[0]));
	if (t == NULL || (t->address = strdup(address)) == NULL) {
		free(t);
		pthread_mutex_unlock(&cl->lock);
		errno = ENOMEM;
		return NULL;
	}
	t->cl = cl;
	t->refs = 1;
	t->n = cl->conf.channels;
	cr = grpc_insecure_credentials_create();
	for (i = 0; i < t->n; i++) {
		ca.num_args = wg_rpc_chan_args(&cl->conf.chan, false, args, (int)i);
		ca.args = args;
		t->ch[i] = grpc_channel_create(address, cr, &ca);
	}
	grpc_channel_credentials_release(cr);
	t->next = cl->targets;
	cl->targets = t;
	pthread_mutex_unlock(&cl->lock);
	return t;
}

struct wg_rpc_target *
wg_rpc_target_ref(struct wg_rpc_target *t)
{
	pthread_mutex_lock(&t->cl->lock);
	t->refs++;
	pthread_mutex_unlock(&t->cl->lock);
	return t;
}

static void
target_free(struct wg_rpc_target *t)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		grpc_channel_destroy(t->ch[i]);
	free(t->address);
	free(t);
}

void
wg_rpc_target_put(struct wg_rpc_target *t)
{
	struct wg_rpc_client *cl;
	struct wg_rpc_target **pp;

	if (t == NULL)
		return;
	cl = t->cl;
	pthread_mutex_lock(&cl->lock);
	if (--t->refs > 0) {
		pthread_mutex_unlock(&cl->lock);
		return;
	}
	for (pp = &cl->targets; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	pthread_mutex_unlock(&cl->lock);
	target_free(t);
}

const char *
wg_rpc_target_address(const struct wg_rpc_target *t)
{
	return t->address;
}

/* ---- calls ---- */

static void
ccall_free(struct wg_rpc_ccall *c)
{
	struct sendq *q, *n;

	for (q = c->q_head; q; q = n) {
		n = q->next;
		grpc_byte_buffer_destroy(q->bb);
		free(q);
	}
	if (c->call)
		grpc_call_unref(c->call);
	if (c->req)
		grpc_byte_buffer_destroy(c->req);
	grpc_slice_unref(c->req_slice);
	if (c->recv_buf)
		grpc_byte_buffer_destroy(c->recv_buf);
	if (c->resp)
		protobuf_c_message_free_unpacked(c->resp, NULL);
	grpc_metadata_array_destroy(&c->init_md);
	grpc_metadata_array_destroy(&c->trail_md);
	grpc_slice_unref(c->details);
	grpc_slice_unref(c->path);
	wg_rpc_target_put(c->tgt);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void
ccall_put(struct wg_rpc_ccall *c)
{
	int left;

	pthread_mutex_lock(&c->lock);
	left = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (left == 0)
		ccall_free(c);
}

void
wg_rpc_ccall_release(struct wg_rpc_ccall *c)
{
	if (c)
		ccall_put(c);
}

static struct wg_rpc_ccall *
ccall_new(struct wg_rpc_client *cl, struct wg_rpc_target *t,
	  const struct wg_rpc_service *svc, const struct wg_rpc_method *m,
	  const struct wg_rpc_call_opts *opts, wg_rpc_client_cb *cb, void *arg)
{
	char path[2 * WG_RPC_NAME_MAX + 3];
	struct wg_rpc_ccall *c;

	if (cb == NULL || svc == NULL || m == NULL || (t == NULL) == (opts == NULL || opts->bal == NULL) ||
	    (t && opts && opts->bal) || wg_rpc_path(path, sizeof(path), svc, m) < 0 ||
	    atomic_load(&cl->stopping)) {
		errno = atomic_load(&cl->stopping) ? ESHUTDOWN : EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->cl = cl;
	c->th = &cl->th[atomic_fetch_add(&cl->next_th, 1) % cl->conf.threads];
	c->m = m;
	c->path = grpc_slice_from_copied_string(path);
	c->details = grpc_empty_slice();
	c->req_slice = grpc_empty_slice();
	grpc_metadata_array_init(&c->init_md);
	grpc_metadata_array_init(&c->trail_md);
	pthread_mutex_init(&c->lock, NULL);
	c->refs = 1;                         /* the machinery's */
	c->tgt = t ? wg_rpc_target_ref(t) : NULL;
	c->bal = opts ? opts->bal : NULL;
	c->key = opts ? opts->key : 0;
	c->deadline_ns = opts && opts->timeout_ms ?
		wg_rpc_now_ns() + (int64_t)opts->timeout_ms * 1000000 : INT64_MAX;
	c->max_attempts = opts && opts->max_attempts ? opts->max_attempts :
			  cl->conf.max_attempts;
	if (!(m->flags & WG_RPC_F_IDEMPOTENT) || m->kind != WG_RPC_UNARY)
		c->max_attempts = 1;
	c->backoff_ms = cl->conf.backoff_initial_ms;
	c->rng = (uint64_t)wg_rpc_now_ns() ^ (uintptr_t)c;
	c->cb = cb;
	c->arg = arg;
	pthread_mutex_lock(&cl->lock);
	c->next = cl->calls;
	if (cl->calls)
		cl->calls->prev = c;
	cl->calls = c;
	pthread_mutex_unlock(&cl->lock);
	atomic_fetch_add(&cl->n_calls, 1);
	atomic_fetch_add(&cl->in_flight, 1);
	return c;
}

/* Pick this attempt's target (balancer calls); false if none is up. */
static bool
pick_target(struct wg_rpc_ccall *c)
{
	struct wg_rpc_target *t = NULL;
	int i;

	if (c->bal == NULL)
		return c->tgt != NULL;
	wg_rpc_target_put(c->tgt);
	c->tgt = NULL;
	/* Prefer another instance than the one that just failed. */
	for (i = 0; i < 3; i++) {
		if (t) {
			wg_rpc_target_put(t);
			wg_rpc_balancer_done(c->bal, c->inst, GRPC_STATUS_CANCELLED);
		}
		t = wg_rpc_balancer_pick(c->bal, c->key + (uint64_t)i, c->inst,
					 sizeof(c->inst));
		if (t == NULL || c->failed_inst[0] == '\0' ||
		    strcmp(c->inst, c->failed_inst) != 0)
			break;
	}
	c->tgt = t;
	c->picked = t != NULL;
	return t != NULL;
}

/* Give back a pick whose attempt never started (no outcome to report). */
static void
unpick(struct wg_rpc_ccall *c)
{
	if (c->picked)
		wg_rpc_balancer_done(c->bal, c->inst, GRPC_STATUS_CANCELLED);
	c->picked = false;
}

/* The attempt's outcome to the balancer. */
static void
report(struct wg_rpc_ccall *c)
{
	if (c->picked)
		wg_rpc_balancer_done(c->bal, c->inst, c->status);
	c->picked = false;
}

static grpc_call *
create_call(struct wg_rpc_ccall *c)
{
	struct wg_rpc_target *t = c->tgt;
	grpc_channel *ch = t->ch[atomic_fetch_add(&t->rr, 1) % t->n];

	return grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->th->cq,
					c->path, NULL, wg_rpc_ns_to_ts(c->deadline_ns),
					NULL);
}

/* One unary attempt: a single batch with every op. */
static int
unary_attempt(struct wg_rpc_ccall *c)
{
	grpc_op ops[6];
	grpc_call_error e;

	if (c->req)
		grpc_byte_buffer_destroy(c->req);
	c->req = grpc_raw_byte_buffer_create(&c->req_slice, 1);
	c->call = create_call(c);
	if (c->call == NULL)
		return -ENOMEM;
	c->attempts++;
	atomic_fetch_add(&c->cl->n_attempts, 1);
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = c->req;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->init_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &c->recv_buf;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &c->trail_md;
	ops[5].data.recv_status_on_client.status = &c->status;
	ops[5].data.recv_status_on_client.status_details = &c->details;
	c->busy++;
	e = grpc_call_start_batch(c->call, ops, 6, tag(c, TAG_UNARY), NULL);
	if (e != GRPC_CALL_OK) {
		c->busy--;
		grpc_call_unref(c->call);
		c->call = NULL;
		return -EIO;
	}
	return 0;
}

/* Deliver the end of the call (client thread, lock not held) and drop the
 * machinery's reference. */
static void
finish(struct wg_rpc_ccall *c, grpc_status_code code, const char *why)
{
	struct wg_rpc_client *cl = c->cl;
	ProtobufCMessage *resp = NULL;
	struct wg_rpc_status st;
	char *msg = NULL;
	size_t i;

	memset(&st, 0, sizeof(st));
	st.code = code;
	st.attempts = c->attempts;
	if (why) {
		st.message = why;
	} else {
		size_t n = GRPC_SLICE_LENGTH(c->details);

		msg = malloc(n + 1);
		if (msg) {
			memcpy(msg, GRPC_SLICE_START_PTR(c->details), n);
			msg[n] = '\0';
		}
		st.message = msg ? msg : "";
		for (i = 0; i < c->trail_md.count; i++) {
			const grpc_metadata *md = &c->trail_md.metadata[i];

			if (grpc_slice_str_cmp(md->key, WG_RPC_DETAIL_KEY) == 0) {
				st.detail = GRPC_SLICE_START_PTR(md->value);
				st.detail_len = GRPC_SLICE_LENGTH(md->value);
			}
		}
	}
	if (code == GRPC_STATUS_OK && c->recv_buf != NULL) {
		resp = wg_rpc_decode(c->m->resp, c->recv_buf);
		if (resp == NULL) {
			st.code = GRPC_STATUS_INTERNAL;
			st.message = "malformed response";
		}
	} else if (code == GRPC_STATUS_OK && c->resp != NULL) {
		resp = c->resp;
		c->resp = NULL;
	} else if (code == GRPC_STATUS_OK && c->m->kind != WG_RPC_SERVER_STREAM &&
		   c->m->kind != WG_RPC_BIDI) {
		st.code = GRPC_STATUS_INTERNAL;
		st.message = "no response message";
	}
	pthread_mutex_lock(&c->lock);
	c->flags |= CC_DONE;
	pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(st.code == GRPC_STATUS_OK ? &cl->n_ok : &cl->n_failed, 1);
	c->cb(c->arg, c, resp, &st);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	free(msg);

	pthread_mutex_lock(&cl->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		cl->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&cl->lock);
	ccall_put(c);
	pthread_mutex_lock(&cl->lock);
	if (atomic_fetch_sub(&cl->in_flight, 1) == 1)
		pthread_cond_broadcast(&cl->cond);
	pthread_mutex_unlock(&cl->lock);
}

static void retry_fire(void *arg);

/* After a failed attempt: another one later, or false (give up). */
static bool
schedule_retry(struct wg_rpc_ccall *c)
{
	int64_t now = wg_rpc_now_ns();
	uint32_t delay;

	if (c->status != GRPC_STATUS_UNAVAILABLE || c->attempts >= c->max_attempts ||
	    (c->flags & CC_CANCELLED) || atomic_load(&c->cl->stopping))
		return false;
	/* Full range jitter over [b/2, b]: synchronized clients spread out. */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	delay = c->backoff_ms / 2 + (uint32_t)(c->rng % (c->backoff_ms / 2 + 1));
	if (c->deadline_ns != INT64_MAX && now + (int64_t)delay * 1000000 >= c->deadline_ns)
		return false;
	c->backoff_ms = c->backoff_ms * 2 > c->cl->conf.backoff_max_ms ?
			c->cl->conf.backoff_max_ms : c->backoff_ms * 2;
	grpc_call_unref(c->call);
	c->call = NULL;
	if (c->recv_buf) {
		grpc_byte_buffer_destroy(c->recv_buf);
		c->recv_buf = NULL;
	}
	grpc_metadata_array_destroy(&c->init_md);
	grpc_metadata_array_destroy(&c->trail_md);
	grpc_metadata_array_init(&c->init_md);
	grpc_metadata_array_init(&c->trail_md);
	grpc_slice_unref(c->details);
	c->details = grpc_empty_slice();
	memcpy(c->failed_inst, c->inst, sizeof(c->inst));
	pthread_mutex_lock(&c->lock);
	c->flags |= CC_BACKOFF;
	c->refs++;                           /* the timer's */
	pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(&c->cl->n_retries, 1);
	if (wg_rpc_client_timer(c->cl, delay, retry_fire, c) < 0) {
		pthread_mutex_lock(&c->lock);
		c->flags &= ~CC_BACKOFF;
		c->refs--;
		pthread_mutex_unlock(&c->lock);
		return false;
	}
	return true;
}

/* Timer: the back-off is over (or a cancel cut it short). Each armed timer
 * holds a ref; only the first to see CC_BACKOFF acts. */
static void
retry_fire(void *arg)
{
	struct wg_rpc_ccall *c = arg;
	bool act, cancelled;

	pthread_mutex_lock(&c->lock);
	act = (c->flags & CC_BACKOFF) != 0;
	c->flags &= ~CC_BACKOFF;
	cancelled = (c->flags & CC_CANCELLED) != 0;
	pthread_mutex_unlock(&c->lock);
	if (act) {
		int rc = -ECANCELED;

		if (cancelled || atomic_load(&c->cl->stopping)) {
			finish(c, GRPC_STATUS_CANCELLED, "cancelled");
		} else if (!pick_target(c)) {
			finish(c, GRPC_STATUS_UNAVAILABLE, "no healthy instance");
		} else {
			/* Under the lock: a cancel either came first (and
			 * is seen here) or finds the new grpc call. */
			pthread_mutex_lock(&c->lock);
			if (!(c->flags & CC_CANCELLED))
				rc = unary_attempt(c);
			pthread_mutex_unlock(&c->lock);
			if (rc < 0) {
				unpick(c);
				finish(c, rc == -ECANCELED ? GRPC_STATUS_CANCELLED :
				       GRPC_STATUS_INTERNAL, rc == -ECANCELED ? "cancelled" :
				       "cannot start attempt");
			}
		}
	}
	ccall_put(c);
}

static void
on_unary(struct wg_rpc_ccall *c, bool ok)
{
	c->busy--;
	if (!ok) {      /* the core failed the batch itself: no status */
		c->status = GRPC_STATUS_INTERNAL;
		grpc_slice_unref(c->details);
		c->details = grpc_slice_from_static_string("batch failed");
	}
	report(c);
	if (c->status != GRPC_STATUS_OK && schedule_retry(c))
		return;
	finish(c, c->status, NULL);
}

int
wg_rpc_unary(struct wg_rpc_client *cl, struct wg_rpc_target *t,
	     const struct wg_rpc_service *svc, const struct wg_rpc_method *m,
	     const ProtobufCMessage *req, const struct wg_rpc_call_opts *opts,
	     wg_rpc_client_cb *cb, void *arg, struct wg_rpc_ccall **out)
{
	struct wg_rpc_ccall *c;
	int rc;

	if (m == NULL || m->kind != WG_RPC_UNARY || req == NULL ||
	    req->descriptor != m->req)
		return -EINVAL;
	c = ccall_new(cl, t, svc, m, opts, cb, arg);
	if (c == NULL)
		return -errno;
	c->req_slice = wg_rpc_encode_slice(req);
	if (!pick_target(c)) {
		rc = -EHOSTUNREACH;
		goto err;
	}
	if (out) {
		c->refs++;
		*out = c;
	}
	/* From here the completion may run on the CQ thread at once: c is
	 * only touched under its refs. */
	pthread_mutex_lock(&c->lock);
	rc = unary_attempt(c);
	pthread_mutex_unlock(&c->lock);
	if (rc < 0) {
		if (out) {
			c->refs--;
			*out = NULL;
		}
		goto err;
	}
	return 0;
err:
	unpick(c);
	pthread_mutex_lock(&cl->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		cl->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&cl->lock);
	atomic_fetch_sub(&cl->in_flight, 1);
	ccall_free(c);
	return rc;
}

/* ---- streaming ---- */

static void
stream_pump_locked(struct wg_rpc_ccall *c)
{
	grpc_op op;

	if (c->flags & (CC_SEND_BUSY | CC_STATUS_IN | CC_CLOSE_SENT))
		return;
	memset(&op, 0, sizeof(op));
	if (c->q_head) {
		op.op = GRPC_OP_SEND_MESSAGE;
		op.data.send_message.send_message = c->q_head->bb;
		c->flags |= CC_SEND_QITEM;
	} else if (c->flags & CC_CLOSE_PENDING) {
		op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		c->flags |= CC_CLOSE_SENT;
	} else {
		return;
	}
	c->flags |= CC_SEND_BUSY;
	c->busy++;
	if (grpc_call_start_batch(c->call, &op, 1, tag(c, TAG_SEND), NULL) != GRPC_CALL_OK) {
		c->flags &= ~CC_SEND_BUSY;
		c->busy--;
		grpc_call_cancel(c->call, NULL);
	}
}

static void
stream_recv_locked(struct wg_rpc_ccall *c, bool with_md)
{
	grpc_op ops[2];
	unsigned int n = 0;

	memset(ops, 0, sizeof(ops));
	if (with_md) {
		ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
		ops[n].data.recv_initial_metadata.recv_initial_metadata = &c->init_md;
		n++;
	}
	ops[n].op = GRPC_OP_RECV_MESSAGE;
	ops[n].data.recv_message.recv_message = &c->recv_buf;
	n++;
	c->flags |= CC_RECV_BUSY;
	c->busy++;
	if (grpc_call_start_batch(c->call, ops, n, tag(c, TAG_RECV), NULL) != GRPC_CALL_OK) {
		c->flags &= ~CC_RECV_BUSY;
		c->flags |= CC_RECV_END;
		c->busy--;
		grpc_call_cancel(c->call, NULL);
	}
}

/* Streaming: end the call once everything is in. */
static void
stream_maybe_finish(struct wg_rpc_ccall *c)
{
	bool fire;

	pthread_mutex_lock(&c->lock);
	fire = (c->flags & CC_STATUS_IN) && (c->flags & CC_RECV_END) &&
	       c->busy == 0 && !(c->flags & CC_DONE);
	pthread_mutex_unlock(&c->lock);
	if (fire)
		finish(c, c->status, NULL);
}

struct wg_rpc_ccall *
wg_rpc_stream(struct wg_rpc_client *cl, struct wg_rpc_target *t,
	      const struct wg_rpc_service *svc, const struct wg_rpc_method *m,
	      const ProtobufCMessage *req, const struct wg_rpc_call_opts *opts,
	      wg_rpc_client_cb *cb, void *arg)
{
	grpc_byte_buffer *bb = NULL;
	struct wg_rpc_ccall *c;
	grpc_op ops[3];
	unsigned int n = 0;
	int err = EIO;

	if (m == NULL || m->kind == WG_RPC_UNARY ||
	    (m->kind == WG_RPC_SERVER_STREAM) != (req != NULL) ||
	    (req && req->descriptor != m->req)) {
		errno = EINVAL;
		return NULL;
	}
	c = ccall_new(cl, t, svc, m, opts, cb, arg);
	if (c == NULL)
		return NULL;
	if (!pick_target(c)) {
		err = EHOSTUNREACH;
		goto err;
	}
	if (req && (bb = wg_rpc_encode(req)) == NULL) {
		err = ENOMEM;
		goto err;
	}
	c->call = create_call(c);
	if (c->call == NULL) {
		err = ENOMEM;
		goto err;
	}
	c->attempts = 1;
	atomic_fetch_add(&cl->n_attempts, 1);
	c->refs++;                          /* the caller's */
	pthread_mutex_lock(&c->lock);
	memset(ops, 0, sizeof(ops));
	ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (bb) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = bb;
		ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
		c->flags |= CC_CLOSE_PENDING | CC_CLOSE_SENT;
	}
	c->flags |= CC_SEND_BUSY;
	c->busy++;
	if (grpc_call_start_batch(c->call, ops, n, tag(c, TAG_SEND), NULL) != GRPC_CALL_OK)
		goto err_locked;
	c->req = bb;                        /* freed with the call */
	bb = NULL;
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[0].data.recv_status_on_client.trailing_metadata = &c->trail_md;
	ops[0].data.recv_status_on_client.status = &c->status;
	ops[0].data.recv_status_on_client.status_details = &c->details;
	c->busy++;
	if (grpc_call_start_batch(c->call, ops, 1, tag(c, TAG_STATUS), NULL) != GRPC_CALL_OK) {
		c->busy--;
		grpc_call_cancel(c->call, NULL);
	}
	stream_recv_locked(c, true);
	pthread_mutex_unlock(&c->lock);
	return c;

err_locked:
	c->busy--;
	c->refs--;
	pthread_mutex_unlock(&c->lock);
err:
	unpick(c);
	if (bb)
		grpc_byte_buffer_destroy(bb);
	pthread_mutex_lock(&cl->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		cl->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&cl->lock);
	atomic_fetch_sub(&cl->in_flight, 1);
	ccall_free(c);
	errno = err;
	return NULL;
}

int
wg_rpc_ccall_write(struct wg_rpc_ccall *c, const ProtobufCMessage *msg)
{
	struct sendq *q;
	int rc = 0;

	if (c->m->kind != WG_RPC_CLIENT_STREAM && c->m->kind != WG_RPC_BIDI)
		return -EINVAL;
	if (msg->descriptor != c->m->req)
		return -EINVAL;
	q = malloc(sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	q->next = NULL;
	q->bb = wg_rpc_encode(msg);
	if (q->bb == NULL) {
		free(q);
		return -ENOMEM;
	}
	pthread_mutex_lock(&c->lock);
	if (c->flags & (CC_DONE | CC_STATUS_IN | CC_CANCELLED))
		rc = -ECANCELED;
	else if (c->flags & CC_CLOSE_PENDING)
		rc = -EPIPE;
	if (rc == 0) {
		if (c->q_tail)
			c->q_tail->next = q;
		else
			c->q_head = q;
		c->q_tail = q;
		stream_pump_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
	if (rc < 0) {
		grpc_byte_buffer_destroy(q->bb);
		free(q);
	}
	return rc;
}

int
wg_rpc_ccall_close_send(struct wg_rpc_ccall *c)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->m->kind == WG_RPC_UNARY)
		rc = -EINVAL;
	else if (c->flags & CC_CLOSE_PENDING)
		rc = -EALREADY;
	else if (c->flags & (CC_DONE | CC_STATUS_IN))
		rc = -ECANCELED;
	if (rc == 0) {
		c->flags |= CC_CLOSE_PENDING;
		stream_pump_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void
wg_rpc_ccall_cancel(struct wg_rpc_ccall *c)
{
	bool backoff;

	pthread_mutex_lock(&c->lock);
	if (c->flags & (CC_DONE | CC_CANCELLED)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->flags |= CC_CANCELLED;
	backoff = (c->flags & CC_BACKOFF) != 0;
	if (c->call)
		grpc_call_cancel(c->call, NULL);
	if (backoff)
		c->refs++;                   /* the early timer's */
	pthread_mutex_unlock(&c->lock);
	if (backoff && wg_rpc_client_timer(c->cl, 0, retry_fire, c) < 0)
		ccall_put(c);                /* the armed timer still ends it */
}

static void
on_send(struct wg_rpc_ccall *c, bool ok)
{
	pthread_mutex_lock(&c->lock);
	c->busy--;
	c->flags &= ~CC_SEND_BUSY;
	if (c->flags & CC_SEND_QITEM) {
		struct sendq *q = c->q_head;

		c->flags &= ~CC_SEND_QITEM;
		c->q_head = q->next;
		if (c->q_head == NULL)
			c->q_tail = NULL;
		grpc_byte_buffer_destroy(q->bb);
		free(q);
	}
	if (ok)
		stream_pump_locked(c);
	pthread_mutex_unlock(&c->lock);
}

static void
on_recv(struct wg_rpc_ccall *c, bool ok)
{
	grpc_byte_buffer *bb;
	ProtobufCMessage *msg = NULL;
	bool stream = c->m->kind == WG_RPC_SERVER_STREAM || c->m->kind == WG_RPC_BIDI;

	pthread_mutex_lock(&c->lock);
	c->busy--;
	c->flags &= ~CC_RECV_BUSY;
	bb = c->recv_buf;
	c->recv_buf = NULL;
	if (!ok || bb == NULL)
		c->flags |= CC_RECV_END;
	pthread_mutex_unlock(&c->lock);
	if (bb) {
		msg = wg_rpc_decode(c->m->resp, bb);
		grpc_byte_buffer_destroy(bb);
		if (msg == NULL) {
			grpc_call_cancel_with_status(c->call, GRPC_STATUS_INTERNAL,
						     "malformed response", NULL);
		} else if (stream) {
			if (!(c->flags & CC_CANCELLED))
				c->cb(c->arg, c, msg, NULL);
			protobuf_c_message_free_unpacked(msg, NULL);
		} else if (c->resp == NULL) {
			c->resp = msg;
		} else {
			protobuf_c_message_free_unpacked(msg, NULL);
		}
		pthread_mutex_lock(&c->lock);
		if (!(c->flags & CC_RECV_END))
			stream_recv_locked(c, false);
		pthread_mutex_unlock(&c->lock);
	}
	stream_maybe_finish(c);
}

static void
on_status(struct wg_rpc_ccall *c)
{
	pthread_mutex_lock(&c->lock);
	c->busy--;
	c->flags |= CC_STATUS_IN;
	pthread_mutex_unlock(&c->lock);
	report(c);
	stream_maybe_finish(c);
}

static void
dispatch(struct cl_thread *th, grpc_event *ev)
{
	void *p = (void *)((uintptr_t)ev->tag & ~(uintptr_t)TAG_MASK);
	struct wg_rpc_ccall *c = p;

	(void)th;
	switch ((uintptr_t)ev->tag & TAG_MASK) {
	case TAG_UNARY:
		on_unary(c, ev->success);
		break;
	case TAG_SEND:
		on_send(c, ev->success);
		stream_maybe_finish(c);
		break;
	case TAG_RECV:
		on_recv(c, ev->success);
		break;
	case TAG_STATUS:
		on_status(c);
		break;
	case TAG_WAKE:
		wake_done(p);
		break;
	}
}

static void *
cl_loop(void *arg)
{
	struct cl_thread *th = arg;
	struct wg_rpc_client *cl = th->cl;
	bool t0 = (th == &cl->th[0]);

	for (;;) {
		int64_t next = t0 ? run_timers(cl) : INT64_MAX;
		int64_t cap = wg_rpc_now_ns() + 1000000000;
		grpc_event ev;

		if (next > cap)
			next = cap;
		ev = grpc_completion_queue_next(th->cq, wg_rpc_ns_to_ts(next), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type == GRPC_OP_COMPLETE)
			dispatch(th, &ev);
	}
	return NULL;
}

struct wg_rpc_client *
wg_rpc_client_create(const struct wg_rpc_client_conf *conf)
{
	struct wg_rpc_client *cl;
	unsigned int i;

	if (conf == NULL || conf->threads == 0 || conf->threads > WG_RPC_MAX_THREADS) {
		errno = EINVAL;
		return NULL;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl == NULL)
		return NULL;
	cl->conf = *conf;
	if (cl->conf.channels == 0)
		cl->conf.channels = 1;
	if (cl->conf.max_attempts == 0)
		cl->conf.max_attempts = 3;
	if (cl->conf.backoff_initial_ms == 0)
		cl->conf.backoff_initial_ms = 20;
	if (cl->conf.backoff_max_ms == 0)
		cl->conf.backoff_max_ms = 1000;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_cond_init(&cl->cond, NULL);
	pthread_mutex_init(&cl->tlock, NULL);
	grpc_init();
	for (i = 0; i < conf->threads; i++) {
		struct cl_thread *th = &cl->th[i];

		th->cl = cl;
		th->cq = grpc_completion_queue_create_for_next(NULL);
		th->lame = grpc_lame_client_channel_create("wake", GRPC_STATUS_UNAVAILABLE,
							   "wake");
		if (pthread_create(&th->tid, NULL, cl_loop, th) != 0) {
			grpc_channel_destroy(th->lame);
			grpc_completion_queue_shutdown(th->cq);
			grpc_completion_queue_destroy(th->cq);
			th->cq = NULL;
			wg_rpc_client_destroy(cl);
			errno = EAGAIN;
			return NULL;
		}
		th->running = true;
	}
	return cl;
}

void
wg_rpc_client_destroy(struct wg_rpc_client *cl)
{
	struct wg_rpc_ccall *c;
	struct wg_rpc_target *t, *tn;
	struct timer *tm, *tmn;
	unsigned int i;

	if (cl == NULL)
		return;
	atomic_store(&cl->stopping, true);
	/* Cancel what is in flight and wait for every final callback. */
	pthread_mutex_lock(&cl->lock);
	for (;;) {
		for (c = cl->calls; c; c = c->next) {
			bool todo;

			pthread_mutex_lock(&c->lock);
			todo = !(c->flags & (CC_CANCELLED | CC_DONE));
			if (todo)
				c->refs++;
			pthread_mutex_unlock(&c->lock);
			if (todo)
				break;
		}
		if (c == NULL)
			break;
		pthread_mutex_unlock(&cl->lock);
		wg_rpc_ccall_cancel(c);
		ccall_put(c);
		pthread_mutex_lock(&cl->lock);
	}
	while (atomic_load(&cl->in_flight) > 0 && cl->th[0].running)
		pthread_cond_wait(&cl->cond, &cl->lock);
	pthread_mutex_unlock(&cl->lock);

	for (i = 0; i < cl->conf.threads; i++)
		if (cl->th[i].cq)
			grpc_completion_queue_shutdown(cl->th[i].cq);
	for (i = 0; i < cl->conf.threads; i++) {
		if (cl->th[i].running)
			pthread_join(cl->th[i].tid, NULL);
		if (cl->th[i].cq) {
			grpc_channel_destroy(cl->th[i].lame);
			grpc_completion_queue_destroy(cl->th[i].cq);
		}
	}
	/* Timers still armed (balancer ticks): run them once, with the
	 * client stopping, so their owners drop what the timer held. */
	pthread_mutex_lock(&cl->tlock);
	tm = cl->timers;
	cl->timers = NULL;
	pthread_mutex_unlock(&cl->tlock);
	for (; tm; tm = tmn) {
		tmn = tm->next;
		tm->fn(tm->arg);
		free(tm);
	}
	for (tm = cl->timers; tm; tm = tmn) {   /* re-armed meanwhile: misuse */
		tmn = tm->next;
		free(tm);
	}
	/* Targets the user forgot to put. */
	for (t = cl->targets; t; t = tn) {
		tn = t->next;
		target_free(t);
	}
	pthread_mutex_destroy(&cl->tlock);
	pthread_cond_destroy(&cl->cond);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
	grpc_shutdown();
}

void
wg_rpc_client_stats(const struct wg_rpc_client *cl, struct wg_rpc_client_stats *st)
{
	st->calls = atomic_load(&cl->n_calls);
	st->attempts = atomic_load(&cl->n_attempts);
	st->retries = atomic_load(&cl->n_retries);
	st->ok = atomic_load(&cl->n_ok);
	st->failed = atomic_load(&cl->n_failed);
	st->in_flight = atomic_load(&cl->in_flight);
}

void
wg_rpc_client_dump(FILE *f, struct wg_rpc_client *cl)
{
	struct wg_rpc_client_stats st;
	struct wg_rpc_target *t;
	struct timer *tm;
	unsigned int n = 0;

	wg_rpc_client_stats(cl, &st);
	pthread_mutex_lock(&cl->tlock);
	for (tm = cl->timers; tm; tm = tm->next)
		n++;
	pthread_mutex_unlock(&cl->tlock);
	fprintf(f, "rpc client: %u threads, %u channels per target, %u timers\n",
		cl->conf.threads, cl->conf.channels, n);
	fprintf(f, "  calls %lu attempts %lu retries %lu ok %lu failed %lu in_flight %u\n",
		(unsigned long)st.calls, (unsigned long)st.attempts,
		(unsigned long)st.retries, (unsigned long)st.ok,
		(unsigned long)st.failed, st.in_flight);
	pthread_mutex_lock(&cl->lock);
	for (t = cl->targets; t; t = t->next)
		fprintf(f, "  target %s refs %d\n", t->address, t->refs);
	pthread_mutex_unlock(&cl->lock);
}
