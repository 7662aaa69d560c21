/* SPDX-License-Identifier: BSD-3-Clause
 * RPC server: method table dispatch over gRPC's generic request_call, one
 * completion queue per thread. Each thread keeps accept_depth requested
 * calls on its own CQ, so every event of a call lands on the thread that
 * accepted it and handler events of one call never run concurrently.
 *
 * Per call, at most one batch of each kind is in flight (gRPC's rule):
 *   RECV   one RECV_MESSAGE at a time, re-armed after the handler saw it;
 *   SEND   one SEND_MESSAGE at a time, the rest queued in order;
 *   STATUS SEND_STATUS_FROM_SERVER once the queue is empty;
 *   CLOSE  RECV_CLOSE_ON_SERVER from the start: it completes when the call
 *          is over and says whether it was cancelled.
 * refs = batches in flight + handler refs + 1 while CLOSE is pending; DONE
 * is delivered when the batches are done, memory freed when refs reach 0.
 */
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>

#include "rpc_impl.h"

#define TAG_NEW     1u
#define TAG_RECV    2u
#define TAG_SEND    3u
#define TAG_CLOSE   4u
#define TAG_MASK    7u
/* Tags are calloc'd pointers with the op kind in the low bits. */
_Static_assert(_Alignof(max_align_t) > TAG_MASK, "malloc alignment too small for tags");

#define SC_STARTED      0x01u  /* handler saw START */
#define SC_STATUS_SENT  0x02u  /* finish called (status queued or sent) */
#define SC_MD_SENT      0x04u  /* initial metadata went out */
#define SC_CLOSED       0x08u  /* CLOSE completed */
#define SC_CANCELLED    0x10u  /* CLOSE said cancelled */
#define SC_DONE         0x20u  /* DONE delivered */
#define SC_RECV_BUSY    0x40u
#define SC_SEND_BUSY    0x80u
#define SC_HALF_CLOSED  0x100u

struct srv_thread;

struct sendq {
	struct sendq *next;
	grpc_byte_buffer *bb;
};

struct mentry {
	char *path;
	size_t len;
	const struct wg_rpc_service *svc;
	const struct wg_rpc_method *m;
};

struct wg_rpc_scall {
	struct wg_rpc_server *srv;
	struct srv_thread *th;
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array md;
	const struct mentry *me;
	const struct wg_rpc_method *m;     /* me's, cached: tables are the user's */
	pthread_mutex_t lock;
	int refs;
	uint32_t flags;
	int cancelled;                 /* RECV_CLOSE_ON_SERVER output */
	grpc_byte_buffer *recv_buf;
	struct sendq *q_head, *q_tail;
	/* pending status (sent after the queue drains) */
	bool st_pending;
	grpc_status_code st_code;
	grpc_slice st_msg;
	grpc_metadata st_trailer;
	size_t st_ntrailer;
	int64_t deadline_ns;
	void *user;
};

struct srv_thread {
	struct wg_rpc_server *s;
	grpc_completion_queue *cq;
	pthread_t tid;
	bool running;
};

struct wg_rpc_server {
	struct wg_rpc_server_conf conf;
	char *listen;
	grpc_server *gs;
	struct srv_thread th[WG_RPC_MAX_THREADS];
	struct mentry *tab;
	unsigned int n_tab, cap_tab;
	struct wg_rpc_health *health;
	int port;
	bool started, stopped;
	_Atomic bool stopping;           /* read by the CQ threads */
	char shutdown_tag;             /* address is the notify tag */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool shutdown_done;
	_Atomic uint64_t n_calls, n_unknown, n_bad, n_cancel, n_done;
	_Atomic uint32_t in_flight;
};

static inline void *
tag(struct wg_rpc_scall *c, unsigned int kind)
{
	return (void *)((uintptr_t)c | kind);
}

struct wg_rpc_server *
wg_rpc_server_create(const struct wg_rpc_server_conf *conf)
{
	struct wg_rpc_server *s;

	if (conf == NULL || conf->listen == NULL || conf->threads == 0 ||
	    conf->threads > WG_RPC_MAX_THREADS) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->conf = *conf;
	if (s->conf.accept_depth == 0)
		s->conf.accept_depth = 16;
	s->listen = strdup(conf->listen);
	if (s->listen == NULL)
		goto err;
	s->conf.listen = s->listen;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	grpc_init();
	if (conf->health) {
		s->health = wg_rpc_health_create();
		if (s->health == NULL)
			goto err_grpc;
		if (wg_rpc_server_add_service(s, wg_rpc_health_service_for(s->health)) < 0)
			goto err_health;
	}
	return s;

err_health:
	wg_rpc_health_destroy(s->health);
err_grpc:
	grpc_shutdown();
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
err:
	free(s->listen);
	free(s);
	errno = ENOMEM;
	return NULL;
}

static int
mentry_cmp(const void *a, const void *b)
{
	const struct mentry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

int
wg_rpc_server_add_service(struct wg_rpc_server *s, const struct wg_rpc_service *svc)
{
	char path[2 * WG_RPC_NAME_MAX + 3];
	unsigned int i, j;

	if (s->started)
		return -EBUSY;
	if (svc == NULL || svc->name == NULL || svc->n_methods == 0 ||
	    strlen(svc->name) >= WG_RPC_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < svc->n_methods; i++) {
		const struct wg_rpc_method *m = &svc->methods[i];

		if (m->name == NULL || strlen(m->name) >= WG_RPC_NAME_MAX ||
		    m->req == NULL || m->resp == NULL || m->handler == NULL ||
		    (m->flags & ~WG_RPC_F_MASK) || m->kind > WG_RPC_BIDI)
			return -EINVAL;
		wg_rpc_path(path, sizeof(path), svc, m);
		for (j = 0; j < s->n_tab; j++)
			if (strcmp(s->tab[j].path, path) == 0)
				return -EEXIST;
	}
	if (s->n_tab + svc->n_methods > s->cap_tab) {
		unsigned int cap = (s->n_tab + svc->n_methods) * 2;
		struct mentry *t = realloc(s->tab, cap * sizeof(*t));

		if (t == NULL)
			return -ENOMEM;
		s->tab = t;
		s->cap_tab = cap;
	}
	for (i = 0; i < svc->n_methods; i++) {
		struct mentry *e = &s->tab[s->n_tab];
		int n = wg_rpc_path(path, sizeof(path), svc, &svc->methods[i]);

		e->path = strdup(path);
		if (e->path == NULL)
			return -ENOMEM;
		e->len = (size_t)n;
		e->svc = svc;
		e->m = &svc->methods[i];
		s->n_tab++;
	}
	qsort(s->tab, s->n_tab, sizeof(*s->tab), mentry_cmp);
	return 0;
}

/* Binary search on the method path slice (not NUL-terminated). */
static const struct mentry *
lookup(const struct wg_rpc_server *s, grpc_slice path)
{
	const char *p = (const char *)GRPC_SLICE_START_PTR(path);
	size_t len = GRPC_SLICE_LENGTH(path);
	unsigned int lo = 0, hi = s->n_tab;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		const struct mentry *e = &s->tab[mid];
		size_t n = e->len < len ? e->len : len;
		int c = memcmp(e->path, p, n);

		if (c == 0)
			c = e->len < len ? -1 : e->len > len ? 1 : 0;
		if (c == 0)
			return e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct wg_rpc_scall *
scall_new(struct srv_thread *th)
{
	struct wg_rpc_scall *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->srv = th->s;
	c->th = th;
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->md);
	pthread_mutex_init(&c->lock, NULL);
	c->st_msg = grpc_empty_slice();
	return c;
}

static void
scall_free(struct wg_rpc_scall *c)
{
	struct sendq *q, *n;

	for (q = c->q_head; q != NULL; q = n) {
		n = q->next;
		grpc_byte_buffer_destroy(q->bb);
		free(q);
	}
	if (c->recv_buf)
		grpc_byte_buffer_destroy(c->recv_buf);
	grpc_slice_unref(c->st_msg);
	if (c->st_ntrailer) {
		grpc_slice_unref(c->st_trailer.key);
		grpc_slice_unref(c->st_trailer.value);
	}
	if (c->call)
		grpc_call_unref(c->call);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->md);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Post one requested call on th's CQ. */
static int
request_one(struct srv_thread *th)
{
	struct wg_rpc_scall *c = scall_new(th);
	grpc_call_error e;

	if (c == NULL)
		return -ENOMEM;
	e = grpc_server_request_call(th->s->gs, &c->call, &c->details, &c->md,
				     th->cq, th->cq, tag(c, TAG_NEW));
	if (e != GRPC_CALL_OK) {
		RPC_LOG(ERR, "rpc: request_call: %s", grpc_call_error_to_string(e));
		scall_free(c);
		return -EIO;
	}
	return 0;
}

static void
deliver(struct wg_rpc_scall *c, enum wg_rpc_sev ev, const ProtobufCMessage *msg)
{
	c->m->handler(c, ev, msg, c->me->svc->arg);
}

/* Drop a ref; the last one frees. Never called with c->lock held. */
static void
scall_put(struct wg_rpc_scall *c)
{
	int left;

	pthread_mutex_lock(&c->lock);
	left = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (left == 0)
		scall_free(c);
}

/* Called with c->lock held: start the next queued send or the status. */
static void
pump_locked(struct wg_rpc_scall *c)
{
	grpc_op ops[3];
	unsigned int n = 0;
	grpc_call_error e;

	if (c->flags & (SC_SEND_BUSY | SC_CLOSED))
		return;
	memset(ops, 0, sizeof(ops));
	if (!(c->flags & SC_MD_SENT)) {
		ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
		n++;
		c->flags |= SC_MD_SENT;
	}
	if (c->q_head) {
		struct sendq *q = c->q_head;

		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = q->bb;
		n++;
		/* The status can ride with the last message. */
		if (q->next == NULL && c->st_pending) {
			ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
			ops[n].data.send_status_from_server.status = c->st_code;
			ops[n].data.send_status_from_server.status_details = &c->st_msg;
			ops[n].data.send_status_from_server.trailing_metadata_count = c->st_ntrailer;
			ops[n].data.send_status_from_server.trailing_metadata = &c->st_trailer;
			n++;
			c->st_pending = false;
		}
	} else if (c->st_pending) {
		ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
		ops[n].data.send_status_from_server.status = c->st_code;
		ops[n].data.send_status_from_server.status_details = &c->st_msg;
		ops[n].data.send_status_from_server.trailing_metadata_count = c->st_ntrailer;
		ops[n].data.send_status_from_server.trailing_metadata = &c->st_trailer;
		n++;
		c->st_pending = false;
	} else if (n == 0) {
		return;
	}
	c->flags |= SC_SEND_BUSY;
	c->refs++;
	e = grpc_call_start_batch(c->call, ops, n, tag(c, TAG_SEND), NULL);
	if (e != GRPC_CALL_OK) {
		/* Only a bug in our op sequencing gets here; the call is
		 * unusable, let CLOSE end it. */
		RPC_LOG(ERR, "rpc: send batch: %s", grpc_call_error_to_string(e));
		c->flags &= ~SC_SEND_BUSY;
		c->refs--;
		grpc_call_cancel(c->call, NULL);
	}
}

static void
recv_arm(struct wg_rpc_scall *c)
{
	grpc_op op;
	grpc_call_error e;

	pthread_mutex_lock(&c->lock);
	if (c->flags & (SC_RECV_BUSY | SC_CLOSED | SC_HALF_CLOSED)) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_buf;
	c->flags |= SC_RECV_BUSY;
	c->refs++;
	e = grpc_call_start_batch(c->call, &op, 1, tag(c, TAG_RECV), NULL);
	if (e != GRPC_CALL_OK) {
		c->flags &= ~SC_RECV_BUSY;
		c->refs--;
		grpc_call_cancel(c->call, NULL);
	}
	pthread_mutex_unlock(&c->lock);
}

int
wg_rpc_scall_finish(struct wg_rpc_scall *c, grpc_status_code code,
		    const char *message, const void *detail, size_t detail_len)
{
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	if (c->flags & SC_STATUS_SENT) {
		rc = -EALREADY;
		goto out;
	}
	if (c->flags & SC_CLOSED) {
		rc = -ECANCELED;
		goto out;
	}
	c->flags |= SC_STATUS_SENT;
	c->st_pending = true;
	c->st_code = code;
	if (message && *message)
		c->st_msg = grpc_slice_from_copied_string(message);
	if (detail && detail_len) {
		c->st_trailer.key = grpc_slice_from_static_string(WG_RPC_DETAIL_KEY);
		c->st_trailer.value = grpc_slice_from_copied_buffer(detail, detail_len);
		c->st_ntrailer = 1;
	}
	pump_locked(c);
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static int
enqueue(struct wg_rpc_scall *c, const ProtobufCMessage *msg, bool and_finish)
{
	struct sendq *q;
	int rc = 0;

	if (c->m == NULL || msg->descriptor != c->m->resp)
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
	if (c->flags & SC_STATUS_SENT) {
		rc = -EALREADY;
		goto err;
	}
	if (c->flags & SC_CLOSED) {
		rc = -ECANCELED;
		goto err;
	}
	if (c->q_tail)
		c->q_tail->next = q;
	else
		c->q_head = q;
	c->q_tail = q;
	if (and_finish) {
		c->flags |= SC_STATUS_SENT;
		c->st_pending = true;
		c->st_code = GRPC_STATUS_OK;
	}
	pump_locked(c);
	pthread_mutex_unlock(&c->lock);
	return 0;
err:
	pthread_mutex_unlock(&c->lock);
	grpc_byte_buffer_destroy(q->bb);
	free(q);
	return rc;
}

int
wg_rpc_scall_write(struct wg_rpc_scall *c, const ProtobufCMessage *msg)
{
	if (c->m == NULL || (c->m->kind != WG_RPC_SERVER_STREAM && c->m->kind != WG_RPC_BIDI))
		return -EINVAL;
	return enqueue(c, msg, false);
}

int
wg_rpc_scall_reply(struct wg_rpc_scall *c, const ProtobufCMessage *msg)
{
	return enqueue(c, msg, true);
}

const struct wg_rpc_method *
wg_rpc_scall_method(const struct wg_rpc_scall *c)
{
	return c->m;
}

int64_t
wg_rpc_scall_remaining_ms(const struct wg_rpc_scall *c)
{
	if (c->deadline_ns == INT64_MAX)
		return INT64_MAX;
	return (c->deadline_ns - wg_rpc_now_ns()) / 1000000;
}

bool
wg_rpc_scall_cancelled(const struct wg_rpc_scall *c)
{
	return (c->flags & SC_CANCELLED) != 0;
}

const char *
wg_rpc_scall_peer(const struct wg_rpc_scall *c, char *buf, size_t len)
{
	char *p = grpc_call_get_peer(c->call);

	snprintf(buf, len, "%s", p ? p : "");
	gpr_free(p);
	return buf;
}

const char *
wg_rpc_scall_metadata(const struct wg_rpc_scall *c, const char *key,
		      char *buf, size_t len)
{
	size_t klen = strlen(key), i;

	for (i = 0; i < c->md.count; i++) {
		const grpc_metadata *m = &c->md.metadata[i];
		size_t vl = GRPC_SLICE_LENGTH(m->value);

		if (GRPC_SLICE_LENGTH(m->key) != klen ||
		    memcmp(GRPC_SLICE_START_PTR(m->key), key, klen) != 0)
			continue;
		if (len == 0)
			return NULL;
		if (vl >= len)
			vl = len - 1;
		memcpy(buf, GRPC_SLICE_START_PTR(m->value), vl);
		buf[vl] = '\0';
		return buf;
	}
	return NULL;
}

void
wg_rpc_scall_set_user(struct wg_rpc_scall *c, void *user)
{
	c->user = user;
}

void *
wg_rpc_scall_user(const struct wg_rpc_scall *c)
{
	return c->user;
}

void
wg_rpc_scall_ref(struct wg_rpc_scall *c)
{
	pthread_mutex_lock(&c->lock);
	c->refs++;
	pthread_mutex_unlock(&c->lock);
}

void
wg_rpc_scall_unref(struct wg_rpc_scall *c)
{
	scall_put(c);
}

/* Deliver DONE once the call is closed and no batch is in flight. */
static void
maybe_done(struct wg_rpc_scall *c)
{
	bool fire;

	pthread_mutex_lock(&c->lock);
	fire = (c->flags & SC_CLOSED) && !(c->flags & (SC_DONE | SC_SEND_BUSY |
						       SC_RECV_BUSY));
	if (fire)
		c->flags |= SC_DONE;
	pthread_mutex_unlock(&c->lock);
	if (!fire)
		return;
	if (c->m && (c->flags & SC_STARTED))
		deliver(c, WG_RPC_SEV_DONE, NULL);
	atomic_fetch_add(&c->srv->n_done, 1);
	atomic_fetch_sub(&c->srv->in_flight, 1);
}

static void
on_new(struct wg_rpc_scall *c, bool ok)
{
	struct wg_rpc_server *s = c->srv;
	grpc_op op;

	if (!ok) {               /* shutdown: the requested call never came */
		scall_free(c);
		return;
	}
	if (!atomic_load(&s->stopping) && request_one(c->th) < 0)
		RPC_LOG(ERR, "rpc: cannot re-arm accept");
	atomic_fetch_add(&s->n_calls, 1);
	atomic_fetch_add(&s->in_flight, 1);
	c->deadline_ns = wg_rpc_ts_to_ns(c->details.deadline);
	c->me = lookup(s, c->details.method);
	c->m = c->me ? c->me->m : NULL;
	c->refs = 1;              /* held until CLOSE */

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	op.data.recv_close_on_server.cancelled = &c->cancelled;
	if (grpc_call_start_batch(c->call, &op, 1, tag(c, TAG_CLOSE), NULL) != GRPC_CALL_OK) {
		RPC_LOG(ERR, "rpc: close batch refused");
		atomic_fetch_sub(&s->in_flight, 1);
		scall_free(c);
		return;
	}
	if (c->me == NULL) {
		static const struct mentry unknown = { 0 };

		atomic_fetch_add(&s->n_unknown, 1);
		c->me = &unknown;
		wg_rpc_scall_finish(c, GRPC_STATUS_UNIMPLEMENTED, "unknown method",
				    NULL, 0);
		return;
	}
	if (c->m->kind == WG_RPC_CLIENT_STREAM || c->m->kind == WG_RPC_BIDI) {
		c->flags |= SC_STARTED;
		deliver(c, WG_RPC_SEV_START, NULL);
	}
	recv_arm(c);
}

static void
on_recv(struct wg_rpc_scall *c, bool ok)
{
	grpc_byte_buffer *bb;
	ProtobufCMessage *msg = NULL;
	enum wg_rpc_kind k = c->m->kind;
	bool single = (k == WG_RPC_UNARY || k == WG_RPC_SERVER_STREAM);

	pthread_mutex_lock(&c->lock);
	c->flags &= ~SC_RECV_BUSY;
	bb = c->recv_buf;
	c->recv_buf = NULL;
	if (!ok || bb == NULL)
		c->flags |= SC_HALF_CLOSED;
	pthread_mutex_unlock(&c->lock);

	if (bb != NULL) {
		msg = wg_rpc_decode(c->m->req, bb);
		grpc_byte_buffer_destroy(bb);
		if (msg == NULL) {
			atomic_fetch_add(&c->srv->n_bad, 1);
			wg_rpc_scall_finish(c, GRPC_STATUS_INTERNAL,
					    "malformed request", NULL, 0);
			goto out;
		}
	}
	if (single) {
		if (msg == NULL) {
			if (ok && !(c->flags & SC_STATUS_SENT))
				wg_rpc_scall_finish(c, GRPC_STATUS_INTERNAL,
						    "missing request", NULL, 0);
			goto out;
		}
		/* One request: no more reads, the close tells us the rest. */
		pthread_mutex_lock(&c->lock);
		c->flags |= SC_HALF_CLOSED | SC_STARTED;
		pthread_mutex_unlock(&c->lock);
		deliver(c, WG_RPC_SEV_START, msg);
	} else if (msg != NULL) {
		if (!(c->flags & (SC_STATUS_SENT | SC_CLOSED)))
			deliver(c, WG_RPC_SEV_MSG, msg);
		recv_arm(c);
	} else if (ok) {
		if (!(c->flags & SC_CLOSED))
			deliver(c, WG_RPC_SEV_HALF_CLOSE, NULL);
	}
out:
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
	maybe_done(c);
	scall_put(c);
}

static void
on_send(struct wg_rpc_scall *c, bool ok)
{
	pthread_mutex_lock(&c->lock);
	c->flags &= ~SC_SEND_BUSY;
	if (c->q_head) {
		struct sendq *q = c->q_head;

		c->q_head = q->next;
		if (c->q_head == NULL)
			c->q_tail = NULL;
		grpc_byte_buffer_destroy(q->bb);
		free(q);
	}
	if (ok)
		pump_locked(c);
	pthread_mutex_unlock(&c->lock);
	maybe_done(c);
	scall_put(c);
}

static void
on_close(struct wg_rpc_scall *c)
{
	bool cancel;

	pthread_mutex_lock(&c->lock);
	c->flags |= SC_CLOSED;
	if (c->cancelled)
		c->flags |= SC_CANCELLED;
	cancel = c->cancelled && (c->flags & SC_STARTED);
	pthread_mutex_unlock(&c->lock);
	if (cancel) {
		atomic_fetch_add(&c->srv->n_cancel, 1);
		deliver(c, WG_RPC_SEV_CANCEL, NULL);
	}
	maybe_done(c);
	scall_put(c);
}

static void *
srv_loop(void *arg)
{
	struct srv_thread *th = arg;
	struct wg_rpc_server *s = th->s;

	for (;;) {
		grpc_event ev = grpc_completion_queue_next(th->cq,
				gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		struct wg_rpc_scall *c;

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		if (ev.tag == &s->shutdown_tag) {
			pthread_mutex_lock(&s->lock);
			s->shutdown_done = true;
			pthread_cond_broadcast(&s->cond);
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		c = (struct wg_rpc_scall *)((uintptr_t)ev.tag & ~(uintptr_t)TAG_MASK);
		switch ((uintptr_t)ev.tag & TAG_MASK) {
		case TAG_NEW:
			on_new(c, ev.success);
			break;
		case TAG_RECV:
			on_recv(c, ev.success);
			break;
		case TAG_SEND:
			on_send(c, ev.success);
			break;
		case TAG_CLOSE:
			on_close(c);
			break;
		}
	}
	return NULL;
}

int
wg_rpc_server_start(struct wg_rpc_server *s)
{
	grpc_arg args[WG_RPC_MAX_ARGS];
	grpc_channel_args ca;
	grpc_server_credentials *cr;
	unsigned int i, j;
	int rc;

	if (s->started)
		return -EBUSY;
	ca.num_args = wg_rpc_chan_args(&s->conf.chan, true, args, 0);
	ca.args = args;
	s->gs = grpc_server_create(&ca, NULL);
	if (s->gs == NULL)
		return -ENOMEM;
	for (i = 0; i < s->conf.threads; i++) {
		s->th[i].s = s;
		s->th[i].cq = grpc_completion_queue_create_for_next(NULL);
		grpc_server_register_completion_queue(s->gs, s->th[i].cq, NULL);
	}
	cr = grpc_insecure_server_credentials_create();
	s->port = grpc_server_add_http2_port(s->gs, s->listen, cr);
	grpc_server_credentials_release(cr);
	if (s->port <= 0) {
		rc = -EADDRINUSE;
		goto err;
	}
	grpc_server_start(s->gs);
	s->started = true;
	for (i = 0; i < s->conf.threads; i++) {
		for (j = 0; j < s->conf.accept_depth; j++)
			if (request_one(&s->th[i]) < 0) {
				rc = -ENOMEM;
				goto err_started;
			}
		if (pthread_create(&s->th[i].tid, NULL, srv_loop, &s->th[i]) != 0) {
			rc = -EAGAIN;
			goto err_started;
		}
		s->th[i].running = true;
	}
	return 0;

err_started:
	wg_rpc_server_shutdown(s, 0);
	return rc;
err:
	grpc_server_destroy(s->gs);
	s->gs = NULL;
	for (i = 0; i < s->conf.threads; i++) {
		grpc_completion_queue_shutdown(s->th[i].cq);
		while (grpc_completion_queue_next(s->th[i].cq,
			gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type != GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(s->th[i].cq);
		s->th[i].cq = NULL;
	}
	return rc;
}

int
wg_rpc_server_port(const struct wg_rpc_server *s)
{
	return s->port;
}

/* Wait for the shutdown tag until deadline_ns (INT64_MAX: forever). */
static bool
wait_shutdown(struct wg_rpc_server *s, int64_t deadline_ns)
{
	struct timespec ts;
	bool done;

	pthread_mutex_lock(&s->lock);
	while (!s->shutdown_done) {
		if (deadline_ns == INT64_MAX) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		/* cond uses CLOCK_REALTIME: convert the remaining time. */
		int64_t left = deadline_ns - wg_rpc_now_ns();

		if (left <= 0)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += left / 1000000000;
		ts.tv_nsec += left % 1000000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	done = s->shutdown_done;
	pthread_mutex_unlock(&s->lock);
	return done;
}

int
wg_rpc_server_shutdown(struct wg_rpc_server *s, uint32_t drain_ms)
{
	unsigned int i;
	int rc = 0;

	if (!s->started || s->stopped)
		return 0;
	atomic_store(&s->stopping, true);
	if (s->health)
		wg_rpc_health_shutdown(s->health);
	grpc_server_shutdown_and_notify(s->gs, s->th[0].cq, &s->shutdown_tag);
	if (!wait_shutdown(s, wg_rpc_now_ns() + (int64_t)drain_ms * 1000000)) {
		unsigned int left = atomic_load(&s->in_flight);

		/* Idle connections closing late are not undrained calls. */
		if (left) {
			RPC_LOG(WARN, "rpc: drain deadline passed with %u calls in flight, cancelling",
				left);
			rc = -ETIMEDOUT;
		}
		grpc_server_cancel_all_calls(s->gs);
		wait_shutdown(s, INT64_MAX);
	}
	grpc_server_destroy(s->gs);
	s->gs = NULL;
	for (i = 0; i < s->conf.threads; i++)
		grpc_completion_queue_shutdown(s->th[i].cq);
	for (i = 0; i < s->conf.threads; i++) {
		if (s->th[i].running)
			pthread_join(s->th[i].tid, NULL);
		s->th[i].running = false;
		grpc_completion_queue_destroy(s->th[i].cq);
		s->th[i].cq = NULL;
	}
	s->stopped = true;
	return rc;
}

void
wg_rpc_server_destroy(struct wg_rpc_server *s)
{
	unsigned int i;

	if (s == NULL)
		return;
	wg_rpc_server_shutdown(s, 0);
	if (s->health)
		wg_rpc_health_destroy(s->health);
	for (i = 0; i < s->n_tab; i++)
		free(s->tab[i].path);
	free(s->tab);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->listen);
	free(s);
	grpc_shutdown();
}

int
wg_rpc_server_set_health(struct wg_rpc_server *s, const char *service, int status)
{
	if (s->health == NULL)
		return -ENOTSUP;
	return wg_rpc_health_set(s->health, service, status);
}

void
wg_rpc_server_stats(const struct wg_rpc_server *s, struct wg_rpc_server_stats *st)
{
	st->calls = atomic_load(&s->n_calls);
	st->unknown = atomic_load(&s->n_unknown);
	st->bad_request = atomic_load(&s->n_bad);
	st->cancelled = atomic_load(&s->n_cancel);
	st->finished = atomic_load(&s->n_done);
	st->in_flight = atomic_load(&s->in_flight);
}

void
wg_rpc_server_dump(FILE *f, const struct wg_rpc_server *s)
{
	struct wg_rpc_server_stats st;
	unsigned int i;

	wg_rpc_server_stats(s, &st);
	fprintf(f, "rpc server %s port %d threads %u %s\n", s->listen, s->port,
		s->conf.threads, s->stopped ? "stopped" : atomic_load(&s->stopping) ? "draining" :
		s->started ? "running" : "created");
	fprintf(f, "  calls %lu unknown %lu bad %lu cancelled %lu done %lu in_flight %u\n",
		(unsigned long)st.calls, (unsigned long)st.unknown,
		(unsigned long)st.bad_request, (unsigned long)st.cancelled,
		(unsigned long)st.finished, st.in_flight);
	for (i = 0; i < s->n_tab; i++)
		fprintf(f, "  %s (%d)\n", s->tab[i].path, (int)s->tab[i].m->kind);
}
