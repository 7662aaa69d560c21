/* SPDX-License-Identifier: BSD-3-Clause
 * etcd v3 discovery backend over gRPC, on our own RPC client. Records are
 *   wg/disc/<service>/<id> = wg.rpc.Instance (protobuf), attached to a lease
 * Registration: LeaseGrant(ttl) then Put(key, value, lease). Heartbeat: one
 * LeaseKeepAlive bidi stream per handle, one request per lease per
 * heartbeat; a reply with TTL 0 means the lease expired (the core writes
 * the record again under a new lease). Deregistration: DeleteRange +
 * LeaseRevoke. Lease expiry deletes the key in etcd itself, so watchers see
 * a DELETE.
 *
 * Watch: Range over the service prefix (snapshot at revision R), then a
 * Watch bidi stream from R + 1, so no change between the two is lost. A
 * stream that ends (server restart, compaction, cancel) is retried with
 * back-off: Range again, watch again; the core's diff makes the new
 * snapshot produce only real changes.
 *
 * Threads: RPC callbacks run on the client's CQ thread; they only decode
 * and queue results. The poll thread (wg_disc_poll) drains the queue (an
 * eventfd wakes it) and calls the core, which is not thread-safe. Every
 * watch restart bumps a generation; queued results of an older one are
 * dropped.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "disc.h"
#include "rpc_impl.h"
#include "wg_rpc.pb-c.h"

#define MAX_WATCH      64
#define CALL_MS        5000
#define PREFIX         "wg/disc/"

/* ---- etcd service tables (client side only) ---- */

#define D(x) &wg__rpc__etcd_ ## x ## __descriptor
static const struct wg_rpc_method kv_methods[] = {
	{ "Range", WG_RPC_UNARY, D(range_request), D(range_response), WG_RPC_F_IDEMPOTENT, NULL },
	{ "Put", WG_RPC_UNARY, D(put_request), D(put_response), 0, NULL },
	{ "DeleteRange", WG_RPC_UNARY, D(delete_range_request), D(delete_range_response), 0, NULL },
};
static const struct wg_rpc_service kv_svc = { "etcdserverpb.KV", kv_methods, 3, NULL };
static const struct wg_rpc_method lease_methods[] = {
	{ "LeaseGrant", WG_RPC_UNARY, D(lease_grant_request), D(lease_grant_response), 0, NULL },
	{ "LeaseRevoke", WG_RPC_UNARY, D(lease_revoke_request), D(lease_revoke_response),
	  WG_RPC_F_IDEMPOTENT, NULL },
	{ "LeaseKeepAlive", WG_RPC_BIDI, D(lease_keep_alive_request),
	  D(lease_keep_alive_response), 0, NULL },
};
static const struct wg_rpc_service lease_svc = { "etcdserverpb.Lease", lease_methods, 3, NULL };
static const struct wg_rpc_method watch_methods[] = {
	{ "Watch", WG_RPC_BIDI, D(watch_request), D(watch_response), 0, NULL },
};
static const struct wg_rpc_service watch_svc = { "etcdserverpb.Watch", watch_methods, 1, NULL };
#undef D

enum qkind {
	Q_PUT_DONE = 1,     /* (service, id) written under lease */
	Q_LOST,             /* (service, id) write failed: re-register */
	Q_LEASE_LOST,       /* lease expired */
	Q_KA_DOWN,          /* keepalive stream ended */
	Q_SNAPSHOT,         /* w, gen: snap[n], revision */
	Q_EVENT,            /* w, gen: put in / delete id */
	Q_WATCH_DOWN,       /* w, gen */
	Q_ERROR,
};

struct qitem {
	struct qitem *next;
	enum qkind kind;
	unsigned int wi;
	uint64_t gen;
	int64_t lease, revision;
	bool del;
	char service[WG_DISC_NAME_MAX];
	char id[WG_DISC_NAME_MAX];
	struct wg_disc_instance in;
	struct wg_disc_instance *snap;
	unsigned int n;
};

struct elease {
	char service[WG_DISC_NAME_MAX];
	char id[WG_DISC_NAME_MAX];
	int64_t lease;
};

struct ewatch {
	char service[WG_DISC_NAME_MAX];
	char prefix[WG_DISC_NAME_MAX + 16];
	struct wg_rpc_ccall *stream;
	uint64_t gen;
	bool up, ranging;
	int64_t retry_ns;
	uint32_t backoff_ms;
};

struct edisc {
	struct wg_disc *d;
	struct wg_rpc_client *cl;
	struct wg_rpc_target *t;
	pthread_mutex_t lock;           /* queue */
	struct qitem *qh, *qt;
	int efd;
	struct elease *leases;
	unsigned int n_leases, cap_leases;
	struct wg_rpc_ccall *ka;
	struct ewatch w[MAX_WATCH];
	unsigned int n_w;
	uint32_t backoff_max_ms;
	_Atomic bool closing;
};

/* Callback contexts. */
struct regctx {
	struct edisc *ed;
	struct wg_disc_instance in;
	uint8_t *val;
	size_t len;
	int64_t lease;
};

struct wctx {
	struct edisc *ed;
	unsigned int wi;
	uint64_t gen;
};

static void
push(struct edisc *ed, struct qitem *q)
{
	uint64_t one = 1;

	q->next = NULL;
	pthread_mutex_lock(&ed->lock);
	if (ed->qt)
		ed->qt->next = q;
	else
		ed->qh = q;
	ed->qt = q;
	pthread_mutex_unlock(&ed->lock);
	if (write(ed->efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in practice; the poll drains it */
	}
}

static struct qitem *
qnew(enum qkind k)
{
	struct qitem *q = calloc(1, sizeof(*q));

	if (q)
		q->kind = k;
	return q;
}

static void
push_simple(struct edisc *ed, enum qkind k, const char *service, const char *id,
	    int64_t lease)
{
	struct qitem *q = qnew(k);

	if (q == NULL)
		return;
	if (service)
		snprintf(q->service, sizeof(q->service), "%s", service);
	if (id)
		snprintf(q->id, sizeof(q->id), "%s", id);
	q->lease = lease;
	push(ed, q);
}

static int
key_of(char *buf, size_t len, const char *service, const char *id)
{
	int n = snprintf(buf, len, PREFIX "%s/%s", service, id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* ---- registration: grant, then put ---- */

static void
cb_put(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
       const struct wg_rpc_status *st)
{
	struct regctx *x = arg;

	(void)c;
	(void)msg;
	if (st->code == GRPC_STATUS_OK) {
		push_simple(x->ed, Q_PUT_DONE, x->in.service, x->in.id, x->lease);
	} else {
		RPC_LOG(WARN, "disc: etcd put %s/%s: %d %s", x->in.service, x->in.id,
			st->code, st->message);
		push_simple(x->ed, Q_LOST, x->in.service, x->in.id, 0);
	}
	free(x->val);
	free(x);
}

static void
cb_grant(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
	 const struct wg_rpc_status *st)
{
	const Wg__Rpc__EtcdLeaseGrantResponse *r = (const void *)msg;
	Wg__Rpc__EtcdPutRequest put = WG__RPC__ETCD_PUT_REQUEST__INIT;
	struct wg_rpc_call_opts o = { .timeout_ms = CALL_MS };
	struct regctx *x = arg;
	char key[256];
	int kl;

	(void)c;
	if (st->code != GRPC_STATUS_OK || r == NULL || r->id == 0 || (r->error && *r->error) ||
	    atomic_load(&x->ed->closing)) {
		if (!atomic_load(&x->ed->closing))
			RPC_LOG(WARN, "disc: etcd lease grant: %d %s", st->code, st->message);
		goto fail;
	}
	x->lease = r->id;
	kl = key_of(key, sizeof(key), x->in.service, x->in.id);
	put.key.data = (uint8_t *)key;
	put.key.len = (size_t)kl;
	put.value.data = x->val;
	put.value.len = x->len;
	put.lease = r->id;
	if (wg_rpc_unary(x->ed->cl, x->ed->t, &kv_svc, &kv_methods[1], &put.base, &o,
			 cb_put, x, NULL) == 0)
		return;
fail:
	push_simple(x->ed, Q_LOST, x->in.service, x->in.id, 0);
	free(x->val);
	free(x);
}

static int
e_put(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms)
{
	struct edisc *ed = wg_disc_backend(d);
	Wg__Rpc__EtcdLeaseGrantRequest g = WG__RPC__ETCD_LEASE_GRANT_REQUEST__INIT;
	struct wg_rpc_call_opts o = { .timeout_ms = CALL_MS };
	struct regctx *x;
	char key[256];
	int rc;

	if (key_of(key, sizeof(key), in->service, in->id) < 0)
		return -ENAMETOOLONG;
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->ed = ed;
	x->in = *in;
	x->val = wg_disc_instance_pack(in, &x->len);
	if (x->val == NULL) {
		free(x);
		return -ENOMEM;
	}
	/* etcd leases count whole seconds (and the server raises very short
	 * ones to its minimum, about 2 s by default). */
	g.ttl = (ttl_ms + 999) / 1000;
	rc = wg_rpc_unary(ed->cl, ed->t, &lease_svc, &lease_methods[0], &g.base, &o,
			  cb_grant, x, NULL);
	if (rc < 0) {
		free(x->val);
		free(x);
	}
	return rc;
}

static struct elease *
lease_find(struct edisc *ed, const char *service, const char *id)
{
	unsigned int i;

	for (i = 0; i < ed->n_leases; i++)
		if (strcmp(ed->leases[i].service, service) == 0 &&
		    strcmp(ed->leases[i].id, id) == 0)
			return &ed->leases[i];
	return NULL;
}

static void
lease_drop(struct edisc *ed, struct elease *l)
{
	*l = ed->leases[--ed->n_leases];
}

static void
cb_ka(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
      const struct wg_rpc_status *st)
{
	const Wg__Rpc__EtcdLeaseKeepAliveResponse *r = (const void *)msg;
	struct edisc *ed = arg;

	(void)c;
	if (st == NULL) {
		if (r->ttl <= 0)
			push_simple(ed, Q_LEASE_LOST, NULL, NULL, r->id);
		return;
	}
	push_simple(ed, Q_KA_DOWN, NULL, NULL, 0);
}

static int
e_refresh(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms)
{
	struct edisc *ed = wg_disc_backend(d);
	Wg__Rpc__EtcdLeaseKeepAliveRequest k = WG__RPC__ETCD_LEASE_KEEP_ALIVE_REQUEST__INIT;
	struct elease *l = lease_find(ed, in->service, in->id);

	(void)ttl_ms;
	if (l == NULL)
		return 0;                 /* grant/put still in flight */
	if (ed->ka == NULL) {
		ed->ka = wg_rpc_stream(ed->cl, ed->t, &lease_svc, &lease_methods[2], NULL,
				       NULL, cb_ka, ed);
		if (ed->ka == NULL)
			return -errno;
	}
	k.id = l->lease;
	return wg_rpc_ccall_write(ed->ka, &k.base);
}

static void
cb_ignore(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
	  const struct wg_rpc_status *st)
{
	struct edisc *ed = arg;

	(void)c;
	(void)msg;
	if (st->code != GRPC_STATUS_OK)
		push_simple(ed, Q_ERROR, NULL, NULL, 0);
}

static int
e_del(struct wg_disc *d, const char *service, const char *id)
{
	struct edisc *ed = wg_disc_backend(d);
	Wg__Rpc__EtcdDeleteRangeRequest dr = WG__RPC__ETCD_DELETE_RANGE_REQUEST__INIT;
	Wg__Rpc__EtcdLeaseRevokeRequest rv = WG__RPC__ETCD_LEASE_REVOKE_REQUEST__INIT;
	struct wg_rpc_call_opts o = { .timeout_ms = CALL_MS };
	struct elease *l = lease_find(ed, service, id);
	char key[256];
	int kl, rc;

	kl = key_of(key, sizeof(key), service, id);
	if (kl < 0)
		return kl;
	dr.key.data = (uint8_t *)key;
	dr.key.len = (size_t)kl;
	rc = wg_rpc_unary(ed->cl, ed->t, &kv_svc, &kv_methods[2], &dr.base, &o,
			  cb_ignore, ed, NULL);
	if (l) {
		rv.id = l->lease;
		wg_rpc_unary(ed->cl, ed->t, &lease_svc, &lease_methods[1], &rv.base, &o,
			     cb_ignore, ed, NULL);
		lease_drop(ed, l);
	}
	return rc;
}

/* ---- watching ---- */

static void
prefix_end(const char *prefix, char *end, size_t len)
{
	size_t n = strlen(prefix);

	snprintf(end, len, "%s", prefix);
	end[n - 1]++;                      /* "…/" -> "…0": the prefix range */
}

static void
cb_range(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
	 const struct wg_rpc_status *st)
{
	const Wg__Rpc__EtcdRangeResponse *r = (const void *)msg;
	struct wctx *x = arg;
	struct qitem *q;
	size_t i;

	(void)c;
	q = qnew(Q_WATCH_DOWN);
	if (q == NULL)
		goto out;
	q->wi = x->wi;
	q->gen = x->gen;
	if (st->code == GRPC_STATUS_OK && r != NULL && r->header != NULL) {
		q->kind = Q_SNAPSHOT;
		q->revision = r->header->revision;
		q->snap = calloc(r->n_kvs ? r->n_kvs : 1, sizeof(*q->snap));
		if (q->snap == NULL) {
			q->kind = Q_WATCH_DOWN;
		} else {
			for (i = 0; i < r->n_kvs; i++)
				if (wg_disc_instance_unpack(r->kvs[i]->value.data,
							    r->kvs[i]->value.len,
							    &q->snap[q->n]) == 0)
					q->n++;
		}
	}
	push(x->ed, q);
out:
	free(x);
}

static void
cb_watch(void *arg, struct wg_rpc_ccall *c, const ProtobufCMessage *msg,
	 const struct wg_rpc_status *st)
{
	const Wg__Rpc__EtcdWatchResponse *r = (const void *)msg;
	struct wctx *x = arg;
	struct edisc *ed = x->ed;
	struct qitem *q;
	size_t i;

	(void)c;
	if (st != NULL || r->canceled) {
		q = qnew(Q_WATCH_DOWN);
		if (q) {
			q->wi = x->wi;
			q->gen = x->gen;
			push(ed, q);
		}
		if (st != NULL)
			free(x);
		return;
	}
	for (i = 0; i < r->n_events; i++) {
		const Wg__Rpc__EtcdEvent *e = r->events[i];
		const Wg__Rpc__EtcdKeyValue *kv = e->kv;
		const char *slash;

		if (kv == NULL)
			continue;
		q = qnew(Q_EVENT);
		if (q == NULL)
			return;
		q->wi = x->wi;
		q->gen = x->gen;
		if (e->type == WG__RPC__ETCD_EVENT__EVENT_TYPE__DELETE) {
			/* The key's last component is the id. */
			q->del = true;
			slash = memrchr(kv->key.data, '/', kv->key.len);
			if (slash == NULL ||
			    kv->key.len - (size_t)(slash + 1 - (const char *)kv->key.data) >=
			    sizeof(q->id)) {
				free(q);
				continue;
			}
			memcpy(q->id, slash + 1,
			       kv->key.len - (size_t)(slash + 1 - (const char *)kv->key.data));
		} else if (wg_disc_instance_unpack(kv->value.data, kv->value.len, &q->in) < 0) {
			free(q);
			push_simple(ed, Q_ERROR, NULL, NULL, 0);
			continue;
		}
		push(ed, q);
	}
}

/* Range the service, then (on the snapshot) watch from the next revision. */
static void
start_range(struct edisc *ed, unsigned int wi)
{
	Wg__Rpc__EtcdRangeRequest rq = WG__RPC__ETCD_RANGE_REQUEST__INIT;
	struct wg_rpc_call_opts o = { .timeout_ms = CALL_MS, .max_attempts = 1 };
	struct ewatch *w = &ed->w[wi];
	char end[sizeof(w->prefix)];
	struct wctx *x = malloc(sizeof(*x));

	if (x == NULL)
		return;
	x->ed = ed;
	x->wi = wi;
	x->gen = w->gen;
	prefix_end(w->prefix, end, sizeof(end));
	rq.key.data = (uint8_t *)w->prefix;
	rq.key.len = strlen(w->prefix);
	rq.range_end.data = (uint8_t *)end;
	rq.range_end.len = strlen(end);
	if (wg_rpc_unary(ed->cl, ed->t, &kv_svc, &kv_methods[0], &rq.base, &o, cb_range, x,
			 NULL) < 0) {
		free(x);
		w->retry_ns = wg_rpc_now_ns() + (int64_t)w->backoff_ms * 1000000;
		return;
	}
	w->ranging = true;
}

static void
start_watch(struct edisc *ed, unsigned int wi, int64_t from_rev)
{
	Wg__Rpc__EtcdWatchRequest rq = WG__RPC__ETCD_WATCH_REQUEST__INIT;
	Wg__Rpc__EtcdWatchCreateRequest cr = WG__RPC__ETCD_WATCH_CREATE_REQUEST__INIT;
	struct ewatch *w = &ed->w[wi];
	char end[sizeof(w->prefix)];
	struct wctx *x = malloc(sizeof(*x));

	if (x == NULL)
		goto retry;
	x->ed = ed;
	x->wi = wi;
	x->gen = w->gen;
	w->stream = wg_rpc_stream(ed->cl, ed->t, &watch_svc, &watch_methods[0], NULL, NULL,
				  cb_watch, x);
	if (w->stream == NULL) {
		free(x);
		goto retry;
	}
	prefix_end(w->prefix, end, sizeof(end));
	cr.key.data = (uint8_t *)w->prefix;
	cr.key.len = strlen(w->prefix);
	cr.range_end.data = (uint8_t *)end;
	cr.range_end.len = strlen(end);
	cr.start_revision = from_rev;
	rq.request_union_case = WG__RPC__ETCD_WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	rq.create_request = &cr;
	if (wg_rpc_ccall_write(w->stream, &rq.base) < 0)
		wg_rpc_ccall_cancel(w->stream);   /* ends in Q_WATCH_DOWN */
	w->up = true;
	return;
retry:
	w->retry_ns = wg_rpc_now_ns() + (int64_t)w->backoff_ms * 1000000;
}

static int
e_watch(struct wg_disc *d, const char *service)
{
	struct edisc *ed = wg_disc_backend(d);
	struct ewatch *w;

	if (ed->n_w == MAX_WATCH)
		return -ENOSPC;
	w = &ed->w[ed->n_w];
	memset(w, 0, sizeof(*w));
	snprintf(w->service, sizeof(w->service), "%s", service);
	snprintf(w->prefix, sizeof(w->prefix), PREFIX "%s/", service);
	w->backoff_ms = 100;
	start_range(ed, ed->n_w);
	ed->n_w++;
	return 0;
}

/* Poll thread: apply one queued result. */
static void
apply(struct edisc *ed, struct qitem *q)
{
	struct ewatch *w = q->kind >= Q_SNAPSHOT && q->kind <= Q_WATCH_DOWN ?
			   &ed->w[q->wi] : NULL;
	struct elease *l;
	unsigned int i;

	if (w && q->gen != w->gen)
		return;                    /* from a watch we restarted since */
	switch (q->kind) {
	case Q_PUT_DONE:
		l = lease_find(ed, q->service, q->id);
		if (l == NULL && wg_disc_register_known(ed->d, q->service, q->id)) {
			if (ed->n_leases == ed->cap_leases) {
				unsigned int cap = ed->cap_leases ? ed->cap_leases * 2 : 8;
				struct elease *nl = realloc(ed->leases, cap * sizeof(*nl));

				if (nl == NULL)
					break;
				ed->leases = nl;
				ed->cap_leases = cap;
			}
			l = &ed->leases[ed->n_leases++];
			snprintf(l->service, sizeof(l->service), "%s", q->service);
			snprintf(l->id, sizeof(l->id), "%s", q->id);
		}
		if (l)
			l->lease = q->lease;
		break;
	case Q_LOST:
		wg_disc_lease_lost(ed->d, q->service, q->id);
		wg_disc_count_error(ed->d);
		break;
	case Q_LEASE_LOST:
		for (i = 0; i < ed->n_leases; i++)
			if (ed->leases[i].lease == q->lease) {
				wg_disc_lease_lost(ed->d, ed->leases[i].service, ed->leases[i].id);
				lease_drop(ed, &ed->leases[i]);
				break;
			}
		break;
	case Q_KA_DOWN:
		if (ed->ka) {
			wg_rpc_ccall_release(ed->ka);
			ed->ka = NULL;
		}
		break;
	case Q_SNAPSHOT:
		w->ranging = false;
		w->backoff_ms = 100;
		wg_disc_snapshot(ed->d, w->service, q->snap, q->n);
		wg_disc_count(ed->d, WG_DISC_C_RESYNC);
		start_watch(ed, q->wi, q->revision + 1);
		break;
	case Q_EVENT:
		if (q->del)
			wg_disc_gone(ed->d, w->service, q->id);
		else if (strcmp(q->in.service, w->service) == 0)
			wg_disc_seen(ed->d, &q->in);
		wg_disc_count(ed->d, WG_DISC_C_NOTIFY);
		break;
	case Q_WATCH_DOWN:
		if (w->stream) {
			wg_rpc_ccall_cancel(w->stream);
			wg_rpc_ccall_release(w->stream);
			w->stream = NULL;
		}
		w->up = false;
		w->ranging = false;
		w->gen++;
		w->retry_ns = wg_rpc_now_ns() + (int64_t)w->backoff_ms * 1000000;
		w->backoff_ms = w->backoff_ms * 2 > ed->backoff_max_ms ? ed->backoff_max_ms :
				w->backoff_ms * 2;
		wg_disc_count(ed->d, WG_DISC_C_RECONNECT);
		break;
	case Q_ERROR:
		wg_disc_count_error(ed->d);
		break;
	}
}

static int
e_poll(struct wg_disc *d, int timeout_ms)
{
	struct edisc *ed = wg_disc_backend(d);
	struct pollfd pfd = { .fd = ed->efd, .events = POLLIN };
	int64_t now = wg_rpc_now_ns();
	struct qitem *q, *qn;
	uint64_t cnt;
	unsigned int i;
	int work = 0;

	for (i = 0; i < ed->n_w; i++) {
		struct ewatch *w = &ed->w[i];

		if (w->up || w->ranging)
			continue;
		if (now >= w->retry_ns) {
			start_range(ed, i);
		} else {
			int t = (int)((w->retry_ns - now) / 1000000) + 1;

			if (timeout_ms < 0 || t < timeout_ms)
				timeout_ms = t;
		}
	}
	if (poll(&pfd, 1, timeout_ms) > 0 && read(ed->efd, &cnt, sizeof(cnt)) < 0 &&
	    errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&ed->lock);
	q = ed->qh;
	ed->qh = ed->qt = NULL;
	pthread_mutex_unlock(&ed->lock);
	for (; q; q = qn) {
		qn = q->next;
		apply(ed, q);
		free(q->snap);
		free(q);
		work++;
	}
	return work;
}

static int
e_open(struct wg_disc *d, const struct wg_disc_conf *conf)
{
	struct wg_rpc_client_conf cc = { .threads = 1, .channels = 1,
					 .chan = { .keepalive_time_ms = 10000,
						   .keepalive_timeout_ms = 5000 } };
	struct edisc *ed;

	if (conf->etcd_endpoint == NULL || *conf->etcd_endpoint == '\0')
		return -EINVAL;
	ed = calloc(1, sizeof(*ed));
	if (ed == NULL)
		return -ENOMEM;
	ed->d = d;
	ed->backoff_max_ms = conf->reconnect_max_ms ? conf->reconnect_max_ms : 2000;
	pthread_mutex_init(&ed->lock, NULL);
	ed->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ed->efd < 0)
		goto err;
	ed->cl = wg_rpc_client_create(&cc);
	if (ed->cl == NULL)
		goto err_fd;
	ed->t = wg_rpc_target_get(ed->cl, conf->etcd_endpoint);
	if (ed->t == NULL)
		goto err_cl;
	wg_disc_set_backend(d, ed);
	return 0;

err_cl:
	wg_rpc_client_destroy(ed->cl);
err_fd:
	close(ed->efd);
err:
	pthread_mutex_destroy(&ed->lock);
	free(ed);
	return -ENOMEM;
}

static void
e_close(struct wg_disc *d)
{
	struct edisc *ed = wg_disc_backend(d);
	struct qitem *q, *qn;
	unsigned int i;

	atomic_store(&ed->closing, true);
	for (i = 0; i < ed->n_w; i++)
		if (ed->w[i].stream) {
			wg_rpc_ccall_cancel(ed->w[i].stream);
			wg_rpc_ccall_release(ed->w[i].stream);
		}
	if (ed->ka) {
		wg_rpc_ccall_cancel(ed->ka);
		wg_rpc_ccall_release(ed->ka);
	}
	wg_rpc_target_put(ed->t);
	wg_rpc_client_destroy(ed->cl);      /* every callback has run */
	for (q = ed->qh; q; q = qn) {
		qn = q->next;
		free(q->snap);
		free(q);
	}
	close(ed->efd);
	free(ed->leases);
	pthread_mutex_destroy(&ed->lock);
	free(ed);
}

const struct wg_disc_ops wg_disc_etcd_ops = {
	.name = "etcd",
	.open = e_open,
	.close = e_close,
	.put = e_put,
	.refresh = e_refresh,
	.del = e_del,
	.watch = e_watch,
	.poll = e_poll,
};
