/* SPDX-License-Identifier: BSD-3-Clause
 * The handshake engine loop: workers' rings in, replies out, one hs_sess
 * per handshake in flight, found by its ref in a chained hash.
 *
 * A request message becomes the reply (same object), so the engine never
 * needs a message to answer a worker; only a timeout takes one from the
 * pool, and retries on the next poll when there is none. Replies that do
 * not fit a worker's ring wait in order on an overflow list; nothing the
 * engine produced is ever dropped. The handshake timeout is one value for
 * all, so deadline order is creation order: a FIFO list, expired from the
 * head.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "backoff.h"
#include "tls_handshake.h"
#include "tls_handshake_impl.h"

RTE_LOG_REGISTER(wg_tls_hs_logtype, wg.tls_hs, INFO);

/* A message is a mempool element crossing rings by pointer: keep it small
 * enough that a pool of thousands stays cheap. */
_Static_assert(sizeof(struct wg_tls_hs_msg) <= 512, "wg_tls_hs_msg grew");
_Static_assert(sizeof(struct wg_tls_hs_ref) == 16, "wg_tls_hs_ref is a 16-byte key");

#define HS_MAX_BURST 512

struct hs_worker {
	struct rte_ring *req;          /* worker -> engine, SP/SC */
	struct rte_ring *rep;          /* engine -> worker, SP/SC */
	struct wg_tls_hs_msg *ovf_head; /* replies waiting for room in rep */
	struct wg_tls_hs_msg *ovf_tail;
} __rte_cache_aligned;

struct wg_tls_hs {
	struct wg_tls_conf conf;
	struct hs_tls tls;
	struct rte_mempool *msg_pool;
	struct rte_mempool *pkt_pool;
	struct hs_worker *workers;
	unsigned int n_workers;
	uint32_t bucket_mask;
	struct hs_sess **buckets;
	struct hs_sess *sess;          /* conf.max_sessions */
	struct hs_sess *free_sess;     /* chained by hnext */
	TAILQ_HEAD(, hs_sess) by_deadline;
	uint64_t cycles_per_ms;
	struct wg_tls_hs_stats stats;
	uint32_t running;              /* cleared by wg_tls_hs_stop */
	bool thread_started;
	pthread_t thread;
	char name[24];
};

void
wg_tls_conf_defaults(struct wg_tls_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ciphersuites, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
	strcpy(c->groups, "X25519:P-256");
	strcpy(c->alpn, "http/1.1");
	c->handshake_timeout_ms = 10000;
	/* one ticket lets a reconnecting client resume; OpenSSL's 2 serve
	 * parallel connections, which is what conf.c's default follows */
	c->tickets = 2;
	/* ~47 KiB of OpenSSL heap each while waiting for the client's
	 * Finished (bench_tls_handshake): 8192 parked handshakes ~ 390 MB */
	c->max_sessions = 8192;
	c->ring_size = 1024;
	c->msgs = 8191;
	c->burst = 32;
	c->idle_sleep_max_us = 200;
	c->client_verify = false;
	c->allow_tls12 = false;
}

/* ------------------------------------------------------------ sessions */

static inline uint32_t
ref_hash(const struct wg_tls_hs_ref *r)
{
	uint64_t x = (uint64_t)(uintptr_t)r->conn ^ ((uint64_t)r->gen << 32) ^ r->worker;

	/* splitmix64 finaliser: conn pointers share their low bits */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (uint32_t)x;
}

static inline bool
ref_eq(const struct wg_tls_hs_ref *a, const struct wg_tls_hs_ref *b)
{
	return a->conn == b->conn && a->gen == b->gen && a->worker == b->worker;
}

static struct hs_sess *
sess_lookup(struct wg_tls_hs *e, const struct wg_tls_hs_ref *r)
{
	struct hs_sess *s = e->buckets[ref_hash(r) & e->bucket_mask];

	while (s != NULL && !ref_eq(&s->ref, r))
		s = s->hnext;
	return s;
}

static struct hs_sess *
sess_new(struct wg_tls_hs *e, const struct wg_tls_hs_ref *r, uint64_t now_ms)
{
	struct hs_sess *s = e->free_sess;
	uint32_t b;

	if (s == NULL)
		return NULL;
	e->free_sess = s->hnext;
	s->ref = *r;
	s->ssl = NULL;
	s->deadline_ms = now_ms + e->conf.handshake_timeout_ms;
	b = ref_hash(r) & e->bucket_mask;
	s->hnext = e->buckets[b];
	e->buckets[b] = s;
	TAILQ_INSERT_TAIL(&e->by_deadline, s, tq);
	e->stats.active++;
	return s;
}

static void
sess_del(struct wg_tls_hs *e, struct hs_sess *s)
{
	struct hs_sess **pp = &e->buckets[ref_hash(&s->ref) & e->bucket_mask];

	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	TAILQ_REMOVE(&e->by_deadline, s, tq);
	wg_tls_hs_sess_close(s);
	s->hnext = e->free_sess;
	e->free_sess = s;
	e->stats.active--;
}

/* ------------------------------------------------------------ messages */

static inline struct wg_tls_hs_msg *
msg_get(struct wg_tls_hs *e)
{
	void *o;

	if (rte_mempool_get(e->msg_pool, &o) < 0)
		return NULL;
	return o;
}

void
wg_tls_hs_msg_free(struct wg_tls_hs *e, struct wg_tls_hs_msg *m)
{
	rte_pktmbuf_free(m->data);
	rte_pktmbuf_free(m->leftover);
	m->data = NULL;
	m->leftover = NULL;
	if (m->type == WG_TLS_HS_DONE)
		explicit_bzero(&m->secrets, sizeof(m->secrets));
	rte_mempool_put(e->msg_pool, m);
}

/* Copy len bytes into a fresh chain from the packet pool. */
static int
bytes_to_mbufs(struct rte_mempool *mp, const uint8_t *p, size_t len, struct rte_mbuf **out)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	*out = NULL;
	while (len > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint16_t n;

		if (m == NULL)
			goto err;
		n = (uint16_t)RTE_MIN(len, (size_t)rte_pktmbuf_tailroom(m));
		if (n == 0) {
			rte_pktmbuf_free(m);
			goto err;
		}
		memcpy(rte_pktmbuf_append(m, n), p, n);
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += n;
		}
		tail = m;
		p += n;
		len -= n;
	}
	*out = head;
	return 0;
err:
	rte_pktmbuf_free(head);
	return -ENOBUFS;
}

/* Queue m for its worker, behind anything already waiting. */
static void
reply(struct wg_tls_hs *e, struct wg_tls_hs_msg *m)
{
	struct hs_worker *w = &e->workers[m->ref.worker];

	m->next = NULL;
	if (w->ovf_head == NULL && rte_ring_sp_enqueue(w->rep, m) == 0)
		return;
	e->stats.deferred++;
	if (w->ovf_head == NULL)
		w->ovf_head = m;
	else
		w->ovf_tail->next = m;
	w->ovf_tail = m;
}

static unsigned int
flush_overflow(struct hs_worker *w)
{
	unsigned int n = 0;

	while (w->ovf_head != NULL && rte_ring_sp_enqueue(w->rep, w->ovf_head) == 0) {
		w->ovf_head = w->ovf_head->next;
		n++;
	}
	return n;
}

/* What OpenSSL wrote, as an mbuf chain (NULL when nothing). */
static int
take_output(struct wg_tls_hs *e, struct hs_sess *s, struct rte_mbuf **out)
{
	const uint8_t *p;
	long n = wg_tls_hs_sess_out(s, &p);
	int rc;

	*out = NULL;
	if (n <= 0)
		return (int)n;
	rc = bytes_to_mbufs(e->pkt_pool, p, (size_t)n, out);
	wg_tls_hs_sess_out_done(s);
	if (rc < 0)
		e->stats.nomem++;
	return rc;
}

/* End s with FAIL: the alert OpenSSL wrote (if any) goes along. */
static void
fail(struct wg_tls_hs *e, struct hs_sess *s, struct wg_tls_hs_msg *m, int status)
{
	rte_pktmbuf_free(m->data);
	rte_pktmbuf_free(m->leftover);
	m->leftover = NULL;
	explicit_bzero(&m->secrets, sizeof(m->secrets));
	(void)take_output(e, s, &m->data);
	m->type = WG_TLS_HS_FAIL;
	m->status = status;
	m->alert = m->data != NULL ? s->alert : WG_TLS_HS_NO_ALERT;
	if (status == -ETIMEDOUT)
		e->stats.timeouts++;
	else
		e->stats.failed++;
	sess_del(e, s);
	reply(e, m);
}

static void
done(struct wg_tls_hs *e, struct hs_sess *s, struct wg_tls_hs_msg *m)
{
	const uint8_t *p;
	size_t n;
	int rc;

	rc = wg_tls_hs_sess_takeover(s, m);
	if (rc == -EPROTONOSUPPORT)
		e->stats.tls12_refused++;
	if (rc < 0)
		goto err;
	rc = take_output(e, s, &m->data);
	if (rc < 0)
		goto err;
	n = wg_tls_hs_sess_unread(s, &p);
	if (n > 0) {
		rc = bytes_to_mbufs(e->pkt_pool, p, n, &m->leftover);
		if (rc < 0) {
			e->stats.nomem++;
			goto err;
		}
	}
	m->type = WG_TLS_HS_DONE;
	m->data_msgs = s->data_msgs;
	m->status = 0;
	m->alert = WG_TLS_HS_NO_ALERT;
	e->stats.done++;
	sess_del(e, s);
	reply(e, m);
	return;
err:
	fail(e, s, m, rc);
}

/* Feed m's bytes to s and run the handshake as far as they go; m becomes
 * the reply, or goes back to the pool when there is nothing to say. */
static void
drive(struct wg_tls_hs *e, struct hs_sess *s, struct wg_tls_hs_msg *m)
{
	struct rte_mbuf *in = m->data;
	int rc = 0;

	m->data = NULL;
	for (struct rte_mbuf *seg = in; seg != NULL && rc == 0; seg = seg->next)
		if (rte_pktmbuf_data_len(seg) > 0)
			rc = wg_tls_hs_sess_feed(s, rte_pktmbuf_mtod(seg, const void *),
						 rte_pktmbuf_data_len(seg));
	rte_pktmbuf_free(in);
	if (rc < 0) {
		e->stats.nomem++;
		fail(e, s, m, -ENOBUFS);
		return;
	}
	switch (wg_tls_hs_sess_step(s)) {
	case HS_STEP_MORE:
		rc = take_output(e, s, &m->data);
		if (rc < 0) {
			fail(e, s, m, rc);
		} else if (m->data != NULL) {
			m->type = WG_TLS_HS_SEND;
			reply(e, m);
		} else {
			wg_tls_hs_msg_free(e, m);
		}
		return;
	case HS_STEP_DONE:
		done(e, s, m);
		return;
	case HS_STEP_FAIL:
	default:
		fail(e, s, m, -EPROTO);
		return;
	}
}

static void
handle(struct wg_tls_hs *e, struct wg_tls_hs_msg *m, uint64_t now_ms)
{
	struct hs_sess *s = sess_lookup(e, &m->ref);
	const char *sni;
	int rc;

	switch (m->type) {
	case WG_TLS_HS_ACCEPT:
	case WG_TLS_HS_CONNECT:
		if (s != NULL)
			break;          /* a second open of one ref: a worker bug */
		s = sess_new(e, &m->ref, now_ms);
		if (s == NULL) {
			e->stats.refused++;
			rte_pktmbuf_free(m->data);
			m->data = NULL;
			m->type = WG_TLS_HS_FAIL;
			m->status = -EBUSY;
			m->alert = WG_TLS_HS_NO_ALERT;
			reply(e, m);
			return;
		}
		sni = m->sni[0] != '\0' ? m->sni : e->conf.client_sni;
		rc = wg_tls_hs_sess_open(&e->tls, s, m->type == WG_TLS_HS_ACCEPT, sni);
		if (rc < 0) {
			if (rc == -ENOMEM)
				e->stats.nomem++;
			fail(e, s, m, rc == -ENOMEM ? -ENOBUFS : rc);
			return;
		}
		if (m->type == WG_TLS_HS_ACCEPT)
			e->stats.accepts++;
		else
			e->stats.connects++;
		drive(e, s, m);
		return;
	case WG_TLS_HS_DATA:
		if (s == NULL) {
			/* the handshake finished (or failed) before these bytes
			 * came: they are the session's first records, back to
			 * the worker in order; a gone connection drops them */
			e->stats.stale++;
			m->type = WG_TLS_HS_LATE;
			reply(e, m);
			return;
		}
		s->data_msgs++;
		drive(e, s, m);
		return;
	case WG_TLS_HS_ABORT:
		if (s == NULL)
			break;
		e->stats.aborted++;
		sess_del(e, s);
		wg_tls_hs_msg_free(e, m);
		return;
	default:
		break;
	}
	e->stats.stale++;
	wg_tls_hs_msg_free(e, m);
}

static unsigned int
expire(struct wg_tls_hs *e, uint64_t now_ms)
{
	struct hs_sess *s;
	unsigned int n = 0;

	while ((s = TAILQ_FIRST(&e->by_deadline)) != NULL && s->deadline_ms <= now_ms) {
		struct wg_tls_hs_msg *m = msg_get(e);

		if (m == NULL) {
			e->stats.nomem++;
			break;          /* next poll */
		}
		m->ref = s->ref;
		m->data = NULL;
		m->leftover = NULL;
		m->sni_len = m->alpn_len = 0;
		fail(e, s, m, -ETIMEDOUT);
		n++;
	}
	return n;
}

unsigned int
wg_tls_hs_poll(struct wg_tls_hs *e)
{
	struct wg_tls_hs_msg *msgs[HS_MAX_BURST];
	uint64_t t0 = rte_rdtsc();
	uint64_t now_ms = rte_get_timer_cycles() / e->cycles_per_ms;
	unsigned int work = 0;

	for (unsigned int w = 0; w < e->n_workers; w++) {
		struct hs_worker *wk = &e->workers[w];
		unsigned int n;

		if (unlikely(wk->ovf_head != NULL))
			work += flush_overflow(wk);
		n = rte_ring_sc_dequeue_burst(wk->req, (void **)msgs, e->conf.burst, NULL);
		for (unsigned int i = 0; i < n; i++) {
			msgs[i]->ref.worker = (uint16_t)w;   /* the ring says who */
			handle(e, msgs[i], now_ms);
		}
		work += n;
		e->stats.requests += n;
	}
	work += expire(e, now_ms);
	e->stats.polls++;
	if (work)
		e->stats.busy_cycles += rte_rdtsc() - t0;
	return work;
}

int
wg_tls_hs_main(void *arg)
{
	struct wg_tls_hs *e = arg;
	struct wg_backoff b;

	wg_backoff_init(&b, 64, e->conf.idle_sleep_max_us);
	while (__atomic_load_n(&e->running, __ATOMIC_ACQUIRE))
		wg_backoff_step(&b, wg_tls_hs_poll(e));
	return 0;
}

static void *
hs_thread(void *arg)
{
	(void)wg_tls_hs_main(arg);
	return NULL;
}

int
wg_tls_hs_start(struct wg_tls_hs *e)
{
	int rc;

	if (e->thread_started)
		return -EALREADY;
	__atomic_store_n(&e->running, 1, __ATOMIC_RELEASE);
	rc = rte_ctrl_thread_create(&e->thread, e->name, NULL, hs_thread, e);
	if (rc != 0)
		return -rc;
	e->thread_started = true;
	return 0;
}

void
wg_tls_hs_stop(struct wg_tls_hs *e)
{
	__atomic_store_n(&e->running, 0, __ATOMIC_RELEASE);
	if (e->thread_started) {
		pthread_join(e->thread, NULL);
		e->thread_started = false;
	}
}

/* ------------------------------------------------------------ workers */

static int
submit(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref, uint8_t type,
       struct rte_mbuf *data, const char *sni)
{
	struct wg_tls_hs_msg *m;
	size_t n = sni != NULL ? strnlen(sni, WG_TLS_SNI_MAX) : 0;

	if (ref->worker >= e->n_workers || n == WG_TLS_SNI_MAX)
		return -EINVAL;
	m = msg_get(e);
	if (m == NULL)
		return -ENOBUFS;
	m->next = NULL;
	m->ref = *ref;
	m->type = type;
	m->alert = WG_TLS_HS_NO_ALERT;
	m->version = 0;
	m->status = 0;
	m->data = data;
	m->leftover = NULL;
	m->sni_len = (uint8_t)n;
	m->alpn_len = 0;
	memcpy(m->sni, sni != NULL ? sni : "", n);
	m->sni[n] = '\0';
	if (rte_ring_sp_enqueue(e->workers[ref->worker].req, m) != 0) {
		m->data = NULL;
		rte_mempool_put(e->msg_pool, m);
		return -ENOSPC;
	}
	return 0;
}

int
wg_tls_hs_accept(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref, struct rte_mbuf *data)
{
	return submit(e, ref, WG_TLS_HS_ACCEPT, data, NULL);
}

int
wg_tls_hs_connect(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref, const char *sni)
{
	return submit(e, ref, WG_TLS_HS_CONNECT, NULL, sni);
}

int
wg_tls_hs_data(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref, struct rte_mbuf *data)
{
	if (data == NULL)
		return -EINVAL;
	return submit(e, ref, WG_TLS_HS_DATA, data, NULL);
}

int
wg_tls_hs_abort(struct wg_tls_hs *e, const struct wg_tls_hs_ref *ref)
{
	return submit(e, ref, WG_TLS_HS_ABORT, NULL, NULL);
}

unsigned int
wg_tls_hs_replies(struct wg_tls_hs *e, unsigned int worker, struct wg_tls_hs_msg **msgs,
		  unsigned int n)
{
	if (worker >= e->n_workers)
		return 0;
	return rte_ring_sc_dequeue_burst(e->workers[worker].rep, (void **)msgs, n, NULL);
}

/* ------------------------------------------------------------ set-up */

static int
conf_check(const struct wg_tls_conf *c, unsigned int n_workers)
{
	const char *bad = NULL;

	if (n_workers == 0 || n_workers > UINT16_MAX)
		bad = "n_workers";
	else if (c->handshake_timeout_ms == 0)
		bad = "handshake_timeout_ms";
	else if (c->max_sessions == 0 || c->max_sessions > (1u << 24))
		bad = "max_sessions";
	else if (c->ring_size < 2 || !rte_is_power_of_2(c->ring_size))
		bad = "ring_size (power of 2)";
	else if (c->msgs < 2 * n_workers)
		bad = "msgs";
	else if (c->burst == 0 || c->burst > HS_MAX_BURST)
		bad = "burst (1..512)";
	else if (c->tickets > 16)
		bad = "tickets (0..16)";
	else if (c->client_verify && c->ca[0] == '\0')
		bad = "ca (client_verify needs it)";
	else if ((c->cert[0] == '\0') != (c->key[0] == '\0'))
		bad = "cert and key (both or neither)";
	else if (memchr(c->client_sni, '\0', sizeof(c->client_sni)) == NULL)
		bad = "client_sni";
	if (bad != NULL) {
		HS_LOG(ERR, "bad configuration: %s", bad);
		return -EINVAL;
	}
	return 0;
}

struct wg_tls_hs *
wg_tls_hs_create(const char *name, const struct wg_tls_conf *conf, unsigned int n_workers,
		 struct rte_mempool *pkt_pool, int socket)
{
	char rname[RTE_RING_NAMESIZE];
	struct wg_tls_hs *e;
	uint32_t nb;
	int rc;

	if (name == NULL || strlen(name) > 16 || pkt_pool == NULL ||
	    conf_check(conf, n_workers) < 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	/* engine-private state lives on the C heap, not in DPDK memory: only
	 * the engine thread touches it, and LeakSanitizer scans the heap, so
	 * it sees the OpenSSL objects that hang off it */
	e = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(sizeof(*e), RTE_CACHE_LINE_SIZE));
	if (e == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(e, 0, sizeof(*e));
	e->conf = *conf;
	e->pkt_pool = pkt_pool;
	e->n_workers = n_workers;
	snprintf(e->name, sizeof(e->name), "%s", name);
	TAILQ_INIT(&e->by_deadline);
	e->cycles_per_ms = RTE_MAX(rte_get_timer_hz() / 1000, (uint64_t)1);
	rc = wg_tls_hs_ssl_init(&e->tls, conf);
	if (rc < 0)
		goto err_free;

	rc = -ENOMEM;
	nb = rte_align32pow2(conf->max_sessions);
	e->bucket_mask = nb - 1;
	e->buckets = calloc(nb, sizeof(*e->buckets));
	e->sess = calloc(conf->max_sessions, sizeof(*e->sess));
	e->workers = rte_zmalloc_socket("wg_tls_hs_w", n_workers * sizeof(*e->workers),
					RTE_CACHE_LINE_SIZE, socket);
	if (e->buckets == NULL || e->sess == NULL || e->workers == NULL)
		goto err_mem;
	for (uint32_t i = conf->max_sessions; i-- > 0;) {
		e->sess[i].hnext = e->free_sess;
		e->free_sess = &e->sess[i];
	}
	snprintf(rname, sizeof(rname), "%s_msg", name);
	e->msg_pool = rte_mempool_create(rname, conf->msgs, sizeof(struct wg_tls_hs_msg),
					 conf->msgs >= 1024 ? 32 : 0, 0, NULL, NULL, NULL, NULL,
					 socket, 0);
	if (e->msg_pool == NULL)
		goto err_mem;
	for (unsigned int w = 0; w < n_workers; w++) {
		snprintf(rname, sizeof(rname), "%s_q%u", name, w);
		e->workers[w].req = rte_ring_create(rname, conf->ring_size, socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(rname, sizeof(rname), "%s_r%u", name, w);
		e->workers[w].rep = rte_ring_create(rname, conf->ring_size, socket,
						    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (e->workers[w].req == NULL || e->workers[w].rep == NULL)
			goto err_mem;
	}
	__atomic_store_n(&e->running, 1, __ATOMIC_RELEASE);
	return e;
err_mem:
	wg_tls_hs_destroy(e);
	rte_errno = ENOMEM;
	return NULL;
err_free:
	free(e);
	rte_errno = -rc;
	return NULL;
}

static void
drain_ring(struct wg_tls_hs *e, struct rte_ring *r)
{
	void *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		wg_tls_hs_msg_free(e, m);
	rte_ring_free(r);
}

void
wg_tls_hs_destroy(struct wg_tls_hs *e)
{
	struct hs_sess *s;

	if (e == NULL)
		return;
	wg_tls_hs_stop(e);
	while ((s = TAILQ_FIRST(&e->by_deadline)) != NULL)
		sess_del(e, s);
	for (unsigned int w = 0; e->workers != NULL && w < e->n_workers; w++) {
		struct hs_worker *wk = &e->workers[w];

		while (wk->ovf_head != NULL) {
			struct wg_tls_hs_msg *m = wk->ovf_head;

			wk->ovf_head = m->next;
			wg_tls_hs_msg_free(e, m);
		}
		drain_ring(e, wk->req);
		drain_ring(e, wk->rep);
	}
	rte_mempool_free(e->msg_pool);
	wg_tls_hs_ssl_fini(&e->tls);
	rte_free(e->workers);
	free(e->sess);
	free(e->buckets);
	free(e);
}

void
wg_tls_hs_stats_get(const struct wg_tls_hs *e, struct wg_tls_hs_stats *st)
{
	/* 64-bit aligned loads do not tear; the set is not atomic */
	const volatile uint64_t *src = (const volatile uint64_t *)&e->stats;
	uint64_t *dst = (uint64_t *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = src[i];
}

unsigned int
wg_tls_hs_msgs_avail(const struct wg_tls_hs *e)
{
	return rte_mempool_avail_count(e->msg_pool);
}

void
wg_tls_hs_dump(FILE *f, const struct wg_tls_hs *e)
{
	struct wg_tls_hs_stats st;

	wg_tls_hs_stats_get(e, &st);
	fprintf(f, "tls handshake engine %s: %u workers, %u/%u sessions, %u/%u msgs free\n",
		e->name, e->n_workers, (unsigned int)st.active, e->conf.max_sessions,
		wg_tls_hs_msgs_avail(e), e->conf.msgs);
	fprintf(f, "  requests %" PRIu64 " accepts %" PRIu64 " connects %" PRIu64 " done %" PRIu64 " failed %" PRIu64
		" timeouts %" PRIu64 " aborted %" PRIu64 "\n",
		st.requests, st.accepts, st.connects, st.done, st.failed, st.timeouts, st.aborted);
	fprintf(f, "  refused %" PRIu64 " tls12_refused %" PRIu64 " stale %" PRIu64
		" nomem %" PRIu64 " deferred %" PRIu64 " polls %" PRIu64 " busy_cycles %" PRIu64 "\n",
		st.refused, st.tls12_refused, st.stale, st.nomem, st.deferred, st.polls,
		st.busy_cycles);
}
