/* SPDX-License-Identifier: BSD-3-Clause
 * Asynchronous Redis client: hiredis async contexts with our own event
 * adapter (the hooks only record read/write interest; the caller's loop
 * polls), a pool of connections per node, reconnect with exponential
 * back-off, and cluster routing with MOVED/ASK/TRYAGAIN handling.
 *
 * Life of a request: formatted once (RESP bytes kept so a redirect can
 * resend it), routed to node->conns[slot % pool] so one key's commands stay
 * ordered, written immediately when that connection is up or parked on the
 * connection's wait queue until it is. Exactly one completion per request.
 *
 * hiredis 0.14 rules this file relies on: a context is freed by hiredis
 * after onConnect(ERR) or onDisconnect, and in every free path pending
 * callbacks run with a NULL reply and then ev.cleanup runs — cleanup is
 * therefore where a connection is declared gone. Unix-socket (and some
 * TCP) connects complete inside redisAsyncConnect*, without onConnect.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "persist_log.h"
#include "redis.h"

#define MOD "redis"
#define TRYAGAIN_DELAY_MS 10
#define REFRESH_MIN_GAP_MS 100
#define WG_REDIS_MAX_SCRIPTS 16

enum conn_state {
	RC_DOWN = 0,
	RC_CONNECTING,
	RC_UP,
};

struct rconn;

struct rreq {
	TAILQ_ENTRY(rreq) link;       /* wait queue or delay queue */
	struct wg_redis *r;
	char *cmd;                    /* RESP, owned */
	size_t len;
	uint16_t slot;
	bool keyed;
	uint8_t redirects;
	uint16_t ask_node;            /* one-shot ASK target or NO_NODE */
	uint16_t pin_node;            /* internal commands aimed at one node */
	bool internal;                /* not counted in outstanding */
	bool noscript_retried;
	const struct wg_redis_script *script;
	uint64_t retry_at;
	uint64_t deadline;            /* unsent past this: -ETIMEDOUT (0: none) */
	wg_redis_cb *cb;
	void *arg;
};

TAILQ_HEAD(rreq_q, rreq);

struct rconn {
	struct wg_redis *r;
	uint16_t node;
	redisAsyncContext *ac;
	enum conn_state state;
	bool want_r, want_w;
	bool warned;                  /* failure logged for this outage */
	uint32_t backoff_ms;
	uint64_t retry_at;
	uint64_t deadline;
	struct rreq_q waitq;
};

struct rnode {
	struct rconn *conns;          /* pool_size, NULL until first used */
	unsigned int rr;
};

struct wg_redis {
	struct wg_redis_conf conf;
	char host[WG_REDIS_HOST_MAX];
	char unix_path[108];
	struct wg_redis_slotmap map;
	struct rnode nodes[WG_REDIS_MAX_NODES];
	uint16_t seed;
	struct rreq_q delayq;
	bool refresh_wanted;
	bool refresh_inflight;
	uint64_t refresh_after;
	bool closing;
	struct wg_redis_stats st;
	struct rconn *pconn[WG_REDIS_MAX_NODES * 8];
	int npconn;
	const struct wg_redis_script *scripts[WG_REDIS_MAX_SCRIPTS];
	unsigned int n_scripts;
};

static void send_req(struct wg_redis *r, struct rreq *rq);
static void on_reply(redisAsyncContext *ac, void *reply, void *priv);

/* ---- event adapter: hiredis tells us what it wants, poll() does it ---- */

static void ev_add_read(void *p) { ((struct rconn *)p)->want_r = true; }
static void ev_del_read(void *p) { ((struct rconn *)p)->want_r = false; }
static void ev_add_write(void *p) { ((struct rconn *)p)->want_w = true; }
static void ev_del_write(void *p) { ((struct rconn *)p)->want_w = false; }

static void
conn_backoff(struct rconn *c)
{
	const struct wg_redis_conf *cf = &c->r->conf;

	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : cf->reconnect_min_ms;
	if (c->backoff_ms > cf->reconnect_max_ms)
		c->backoff_ms = cf->reconnect_max_ms;
	c->retry_at = wg_persist_now_ms() + c->backoff_ms;
}

/* Called by hiredis whenever the context goes away, on every path. */
static void
ev_cleanup(void *p)
{
	struct rconn *c = p;

	if (c->state == RC_UP && c->r->st.conns_up)
		c->r->st.conns_up--;
	c->ac = NULL;
	c->state = RC_DOWN;
	c->want_r = c->want_w = false;
	if (!c->r->closing)
		conn_backoff(c);
}

/* Load every script this client has used on a new connection, ahead of
 * anything else on it, so EVALSHA keeps its place in the pipeline (a
 * NOSCRIPT retry would land behind later commands on the same key). */
static void
preload_scripts(struct rconn *c)
{
	struct wg_redis *r = c->r;

	for (unsigned int i = 0; i < r->n_scripts; i++) {
		const struct wg_redis_script *s = r->scripts[i];
		const char *argv[3] = { "SCRIPT", "LOAD", s->body };
		size_t lens[3] = { 6, 4, s->len };

		if (redisAsyncCommandArgv(c->ac, (redisCallbackFn *)NULL, NULL, 3, argv,
					  lens) != REDIS_OK)
			return;
	}
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn *c = ac->data;
	struct wg_redis *r = c->r;

	if (status != REDIS_OK) {
		r->st.connect_failures++;
		/* once per outage: a dead server would otherwise log at the retry rate */
		if (!c->warned)
			PLOG(WARNING, MOD, "connect %s:%u failed: %s (retrying)",
			     r->map.node[c->node].host, r->map.node[c->node].port, ac->errstr);
		c->warned = true;
		return;        /* hiredis frees the context; cleanup follows */
	}
	c->warned = false;
	c->state = RC_UP;
	c->backoff_ms = 0;
	r->st.connects++;
	r->st.conns_up++;
	PLOG(INFO, MOD, "connected to %s:%u", r->map.node[c->node].host,
	     r->map.node[c->node].port);
	preload_scripts(c);
	/* requests parked while we were down go out in arrival order */
	struct rreq_q q = TAILQ_HEAD_INITIALIZER(q);
	TAILQ_CONCAT(&q, &c->waitq, link);
	while (!TAILQ_EMPTY(&q)) {
		struct rreq *rq = TAILQ_FIRST(&q);

		TAILQ_REMOVE(&q, rq, link);
		send_req(r, rq);
	}
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn *c = ac->data;

	c->r->st.disconnects++;
	if (status != REDIS_OK)
		PLOG(WARNING, MOD, "connection to %s:%u lost: %s",
		     c->r->map.node[c->node].host, c->r->map.node[c->node].port,
		     ac->errstr ? ac->errstr : "?");
	if (c->r->conf.cluster)
		c->r->refresh_wanted = true;
}

/* Open a connection now (no-op unless down and its back-off expired). */
static void
conn_start(struct rconn *c, uint64_t now)
{
	struct wg_redis *r = c->r;
	const struct wg_redis_addr *a = &r->map.node[c->node];
	redisAsyncContext *ac;

	if (c->state != RC_DOWN || c->ac != NULL || now < c->retry_at || r->closing)
		return;
	if (!r->conf.cluster && r->unix_path[0] != '\0')
		ac = redisAsyncConnectUnix(r->unix_path);
	else
		ac = redisAsyncConnect(a->host, a->port);
	if (ac == NULL) {
		conn_backoff(c);
		return;
	}
	if (ac->err) {
		r->st.connect_failures++;
		if (!c->warned)
			PLOG(WARNING, MOD, "connect %s:%u: %s (retrying)", a->host, a->port,
			     ac->errstr);
		c->warned = true;
		redisAsyncFree(ac);
		conn_backoff(c);
		return;
	}
	ac->data = c;
	ac->ev.data = c;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	c->ac = ac;
	c->state = RC_CONNECTING;
	c->deadline = now + r->conf.connect_timeout_ms;
	/* a connect that already completed never calls onConnect */
	if (ac->c.flags & REDIS_CONNECTED) {
		c->want_r = true;
		on_connect(ac, REDIS_OK);
	} else {
		c->want_w = true;     /* connect completion shows as writable */
	}
}

static struct rconn *
node_conns(struct wg_redis *r, uint16_t idx)
{
	struct rnode *n = &r->nodes[idx];

	if (n->conns == NULL) {
		n->conns = calloc(r->conf.pool_size, sizeof(*n->conns));
		if (n->conns == NULL)
			return NULL;
		for (unsigned int i = 0; i < r->conf.pool_size; i++) {
			n->conns[i].r = r;
			n->conns[i].node = idx;
			TAILQ_INIT(&n->conns[i].waitq);
		}
	}
	return n->conns;
}

static void
rreq_free(struct rreq *rq)
{
	redisFreeCommand(rq->cmd);
	free(rq);
}

static void
finish(struct wg_redis *r, struct rreq *rq, int err, const redisReply *rep)
{
	if (!rq->internal && r->st.outstanding)
		r->st.outstanding--;
	if (err)
		r->st.errors++;
	else
		r->st.replies++;
	if (rq->cb != NULL)
		rq->cb(rq->arg, err, rep);
	rreq_free(rq);
}

static uint16_t
route_node(struct wg_redis *r, struct rreq *rq)
{
	uint16_t n;

	if (rq->pin_node != WG_REDIS_NO_NODE)
		return rq->pin_node;
	if (rq->ask_node != WG_REDIS_NO_NODE)
		return rq->ask_node;
	if (!r->conf.cluster || !rq->keyed)
		return r->seed;
	n = r->map.owner[rq->slot];
	return n == WG_REDIS_NO_NODE ? r->seed : n;
}

static const char asking_cmd[] = "*1\r\n$6\r\nASKING\r\n";

static void
send_req(struct wg_redis *r, struct rreq *rq)
{
	uint16_t node = route_node(r, rq);
	struct rconn *conns = node_conns(r, node), *c;
	unsigned int pick;

	if (conns == NULL) {
		finish(r, rq, -ENOMEM, NULL);
		return;
	}
	pick = rq->keyed ? rq->slot : r->nodes[node].rr++;
	c = &conns[pick % r->conf.pool_size];
	if (c->state != RC_UP) {
		TAILQ_INSERT_TAIL(&c->waitq, rq, link);
		conn_start(c, wg_persist_now_ms());
		return;
	}
	if (rq->ask_node != WG_REDIS_NO_NODE) {
		/* ASKING applies to the next command on this connection only */
		if (redisAsyncFormattedCommand(c->ac, NULL, NULL, asking_cmd,
					       sizeof(asking_cmd) - 1) != REDIS_OK)
			goto park;
		rq->ask_node = WG_REDIS_NO_NODE;
	}
	if (redisAsyncFormattedCommand(c->ac, on_reply, rq, rq->cmd, rq->len) != REDIS_OK)
		goto park;
	r->st.sent++;
	return;
park:
	/* the context is being torn down: wait for the next connection */
	TAILQ_INSERT_TAIL(&c->waitq, rq, link);
}

static void
request_refresh(struct wg_redis *r)
{
	if (r->conf.cluster)
		r->refresh_wanted = true;
}

static void
on_slots(void *arg, int err, const redisReply *rep)
{
	struct wg_redis *r = arg;
	int rc;

	r->refresh_inflight = false;
	if (err || rep->type == REDIS_REPLY_ERROR) {
		PLOG(WARNING, MOD, "CLUSTER SLOTS failed: %s",
		     err ? strerror(-err) : rep->str);
		r->refresh_wanted = true;
		return;
	}
	rc = wg_redis_slotmap_apply_slots(&r->map, rep, r->map.node[r->seed].host);
	if (rc < 0) {
		PLOG(ERR, MOD, "bad CLUSTER SLOTS reply: %s", strerror(-rc));
		r->refresh_wanted = true;
		return;
	}
	r->st.map_refreshes++;
	/* connect to every master now rather than on its first request */
	for (unsigned int i = 0; i < r->map.n_nodes; i++)
		node_conns(r, (uint16_t)i);
	if (rc < WG_REDIS_SLOTS)
		PLOG(WARNING, MOD, "cluster map covers %d of %d slots", rc, WG_REDIS_SLOTS);
}

static int
submit(struct wg_redis *r, struct rreq *rq)
{
	send_req(r, rq);
	return 0;
}

/* Ask any live node for the slot map, at most every REFRESH_MIN_GAP_MS. */
static void
refresh_map(struct wg_redis *r, uint64_t now)
{
	static const char cmd[] = "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n";
	struct rreq *rq;

	if (!r->refresh_wanted || r->refresh_inflight || now < r->refresh_after)
		return;
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return;
	rq->cmd = malloc(sizeof(cmd) - 1);
	if (rq->cmd == NULL) {
		free(rq);
		return;
	}
	memcpy(rq->cmd, cmd, sizeof(cmd) - 1);
	rq->len = sizeof(cmd) - 1;
	rq->r = r;
	rq->internal = true;
	rq->ask_node = WG_REDIS_NO_NODE;
	rq->pin_node = r->seed;
	/* prefer a node that is up; the seed may be the one that died */
	for (unsigned int i = 0; i < r->map.n_nodes; i++) {
		struct rconn *cs = r->nodes[i].conns;

		if (cs != NULL && cs[0].state == RC_UP) {
			rq->pin_node = (uint16_t)i;
			break;
		}
	}
	rq->cb = on_slots;
	rq->arg = r;
	r->refresh_wanted = false;
	r->refresh_inflight = true;
	r->refresh_after = now + REFRESH_MIN_GAP_MS;
	submit(r, rq);
}

static void
on_script_load(void *arg, int err, const redisReply *rep)
{
	(void)arg;
	if (err || rep->type == REDIS_REPLY_ERROR)
		PLOG(ERR, MOD, "SCRIPT LOAD failed: %s", err ? strerror(-err) : rep->str);
}

/* NOSCRIPT: load the body then resend, both on the node that answered so
 * the load is ordered before the retry. */
static int
reload_script(struct wg_redis *r, struct rreq *rq, uint16_t node)
{
	const char *argv[3] = { "SCRIPT", "LOAD", rq->script->body };
	size_t lens[3] = { 6, 4, rq->script->len };
	struct rreq *ld = calloc(1, sizeof(*ld));
	int len;

	if (ld == NULL)
		return -ENOMEM;
	len = redisFormatCommandArgv(&ld->cmd, 3, argv, lens);
	if (len < 0) {
		free(ld);
		return -ENOMEM;
	}
	ld->len = (size_t)len;
	ld->r = r;
	ld->internal = true;
	ld->slot = rq->slot;
	ld->keyed = rq->keyed;
	ld->ask_node = WG_REDIS_NO_NODE;
	ld->pin_node = node;
	ld->cb = on_script_load;
	send_req(r, ld);
	rq->pin_node = node;
	send_req(r, rq);
	rq->pin_node = WG_REDIS_NO_NODE;
	return 0;
}

static void
on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rreq *rq = priv;
	struct rconn *c = ac->data;
	struct wg_redis *r = rq->r;
	const redisReply *rep = reply;
	struct wg_redis_redirect rd;
	int idx;

	if (rep == NULL) {
		/* stop routing to a context hiredis is tearing down */
		if (c->state == RC_UP && r->st.conns_up)
			r->st.conns_up--;
		c->state = RC_DOWN;
		finish(r, rq, r->closing ? -ECANCELED : -ECONNRESET, NULL);
		return;
	}
	if (rep->type != REDIS_REPLY_ERROR || r->closing)
		goto done;
	if (rq->script != NULL && !rq->noscript_retried &&
	    rep->len >= 8 && memcmp(rep->str, "NOSCRIPT", 8) == 0) {
		r->st.noscript++;
		rq->noscript_retried = true;
		if (reload_script(r, rq, c->node) == 0)
			return;
		goto done;
	}
	if (!r->conf.cluster)
		goto done;
	if (wg_redis_parse_redirect(rep->str, rep->len, &rd) == 0) {
		if (++rq->redirects > WG_REDIS_MAX_REDIRECTS) {
			finish(r, rq, -ELOOP, NULL);
			return;
		}
		idx = wg_redis_slotmap_apply_redirect(&r->map, &rd, r->map.node[c->node].host);
		if (idx < 0)
			goto done;
		if (rd.kind == WG_REDIS_MOVED) {
			r->st.moved++;
			request_refresh(r);
		} else {
			r->st.ask++;
			rq->ask_node = (uint16_t)idx;
		}
		send_req(r, rq);
		return;
	}
	if ((rep->len >= 8 && memcmp(rep->str, "TRYAGAIN", 8) == 0) ||
	    (rep->len >= 11 && memcmp(rep->str, "CLUSTERDOWN", 11) == 0)) {
		/* multi-key op mid-migration, or a failover in progress */
		if (++rq->redirects > WG_REDIS_MAX_REDIRECTS * 4)
			goto done;
		r->st.tryagain++;
		rq->retry_at = wg_persist_now_ms() + TRYAGAIN_DELAY_MS;
		TAILQ_INSERT_TAIL(&r->delayq, rq, link);
		return;
	}
done:
	finish(r, rq, 0, rep);
}

static struct rreq *
rreq_new(struct wg_redis *r, const char *key, size_t keylen, wg_redis_cb *cb, void *arg)
{
	struct rreq *rq;

	if (r->st.outstanding >= r->conf.max_outstanding) {
		r->st.eagain++;
		errno = EAGAIN;
		return NULL;
	}
	rq = calloc(1, sizeof(*rq));
	if (rq == NULL)
		return NULL;
	rq->r = r;
	rq->cb = cb;
	rq->arg = arg;
	rq->ask_node = WG_REDIS_NO_NODE;
	rq->pin_node = WG_REDIS_NO_NODE;
	if (key != NULL) {
		rq->keyed = true;
		rq->slot = wg_redis_key_slot(key, keylen);
	}
	if (r->conf.request_timeout_ms)
		rq->deadline = wg_persist_now_ms() + r->conf.request_timeout_ms;
	return rq;
}

static int
queue_new(struct wg_redis *r, struct rreq *rq)
{
	r->st.outstanding++;
	return submit(r, rq);
}

int
wg_redis_cmd(struct wg_redis *r, const char *key, size_t keylen, wg_redis_cb *cb,
	     void *arg, int argc, const char *const *argv, const size_t *argvlen)
{
	struct rreq *rq;
	int len;

	if (argc <= 0 || argv == NULL || r->closing)
		return -EINVAL;
	rq = rreq_new(r, key, keylen, cb, arg);
	if (rq == NULL)
		return -errno;
	len = redisFormatCommandArgv(&rq->cmd, argc, (const char **)argv, argvlen);
	if (len < 0) {
		free(rq);
		return -ENOMEM;
	}
	rq->len = (size_t)len;
	return queue_new(r, rq);
}

int
wg_redis_cmdf(struct wg_redis *r, const char *key, size_t keylen, wg_redis_cb *cb,
	      void *arg, const char *fmt, ...)
{
	struct rreq *rq;
	va_list ap;
	int len;

	if (r->closing)
		return -EINVAL;
	rq = rreq_new(r, key, keylen, cb, arg);
	if (rq == NULL)
		return -errno;
	va_start(ap, fmt);
	len = redisvFormatCommand(&rq->cmd, fmt, ap);
	va_end(ap);
	if (len < 0) {
		free(rq);
		return len == -2 ? -ENOMEM : -EINVAL;
	}
	rq->len = (size_t)len;
	return queue_new(r, rq);
}

#define EVAL_MAX_ARGS 32

/* First use of a script: remember it for preloading and load it now on
 * every live connection (ahead of the EVALSHA about to be written). */
static void
register_script(struct wg_redis *r, const struct wg_redis_script *s)
{
	for (unsigned int i = 0; i < r->n_scripts; i++)
		if (r->scripts[i] == s)
			return;
	if (r->n_scripts == WG_REDIS_MAX_SCRIPTS)
		return;            /* still works, through NOSCRIPT reloads */
	r->scripts[r->n_scripts++] = s;
	for (unsigned int n = 0; n < r->map.n_nodes; n++) {
		struct rconn *cs = r->nodes[n].conns;
		const char *argv[3] = { "SCRIPT", "LOAD", s->body };
		size_t lens[3] = { 6, 4, s->len };

		for (unsigned int i = 0; cs && i < r->conf.pool_size; i++)
			if (cs[i].state == RC_UP)
				redisAsyncCommandArgv(cs[i].ac, (redisCallbackFn *)NULL, NULL, 3,
						      argv, lens);
	}
}

int
wg_redis_eval(struct wg_redis *r, const struct wg_redis_script *s, const char *key,
	      size_t keylen, wg_redis_cb *cb, void *arg, int numkeys, int argc,
	      const char *const *argv, const size_t *argvlen)
{
	const char *v[EVAL_MAX_ARGS + 3];
	size_t l[EVAL_MAX_ARGS + 3];
	char nk[12];
	struct rreq *rq;
	int len;

	if (argc < 0 || argc > EVAL_MAX_ARGS || numkeys < 0 || numkeys > argc || r->closing)
		return -EINVAL;
	rq = rreq_new(r, key, keylen, cb, arg);
	if (rq == NULL)
		return -errno;
	snprintf(nk, sizeof(nk), "%d", numkeys);
	v[0] = "EVALSHA"; l[0] = 7;
	v[1] = s->sha; l[1] = 40;
	v[2] = nk; l[2] = strlen(nk);
	for (int i = 0; i < argc; i++) {
		v[i + 3] = argv[i];
		l[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
	}
	len = redisFormatCommandArgv(&rq->cmd, argc + 3, v, l);
	if (len < 0) {
		free(rq);
		return -ENOMEM;
	}
	rq->len = (size_t)len;
	rq->script = s;
	register_script(r, s);
	return queue_new(r, rq);
}

void
wg_redis_script_init(struct wg_redis_script *s, const char *body)
{
	s->body = body;
	s->len = strlen(body);
	wg_sha1_hex(body, s->len, s->sha);
}

struct wg_redis *
wg_redis_create(const struct wg_redis_conf *conf)
{
	struct wg_redis_addr seed = { .port = conf->port };
	struct wg_redis *r;
	int idx;

	if (conf->pool_size == 0 || conf->pool_size > 8 || conf->max_outstanding == 0 ||
	    (conf->host == NULL && conf->unix_path == NULL) ||
	    (conf->cluster && conf->host == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	if ((conf->host && strlen(conf->host) >= sizeof(seed.host)) ||
	    (conf->unix_path && strlen(conf->unix_path) >= sizeof(r->unix_path))) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->conf = *conf;
	if (r->conf.connect_timeout_ms == 0)
		r->conf.connect_timeout_ms = 1000;
	if (r->conf.reconnect_min_ms == 0)
		r->conf.reconnect_min_ms = 10;
	if (r->conf.reconnect_max_ms < r->conf.reconnect_min_ms)
		r->conf.reconnect_max_ms = r->conf.reconnect_min_ms * 64;
	if (conf->host)
		strcpy(seed.host, conf->host);
	if (conf->unix_path)
		strcpy(r->unix_path, conf->unix_path);
	r->conf.host = r->host;
	r->conf.unix_path = r->unix_path;
	strcpy(r->host, seed.host);
	wg_redis_slotmap_init(&r->map);
	TAILQ_INIT(&r->delayq);
	idx = wg_redis_slotmap_node(&r->map, &seed);
	r->seed = (uint16_t)idx;
	if (node_conns(r, r->seed) == NULL) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->refresh_wanted = conf->cluster;
	for (unsigned int i = 0; i < r->conf.pool_size; i++)
		conn_start(&r->nodes[r->seed].conns[i], wg_persist_now_ms());
	return r;
}

static void
fail_queue(struct wg_redis *r, struct rreq_q *q)
{
	while (!TAILQ_EMPTY(q)) {
		struct rreq *rq = TAILQ_FIRST(q);

		TAILQ_REMOVE(q, rq, link);
		finish(r, rq, -ECANCELED, NULL);
	}
}

void
wg_redis_destroy(struct wg_redis *r)
{
	if (r == NULL)
		return;
	r->closing = true;
	fail_queue(r, &r->delayq);
	for (unsigned int n = 0; n < r->map.n_nodes; n++) {
		struct rconn *cs = r->nodes[n].conns;

		if (cs == NULL)
			continue;
		for (unsigned int i = 0; i < r->conf.pool_size; i++) {
			fail_queue(r, &cs[i].waitq);
			/* in-flight callbacks run here with NULL -> -ECANCELED */
			if (cs[i].ac != NULL)
				redisAsyncFree(cs[i].ac);
		}
		free(cs);
	}
	free(r);
}

/* Fail the requests of a connection that is not up once their deadline
 * passed: a caller such as a login load must get an answer (and fall back)
 * rather than wait out a Redis outage. Returns ms to the next deadline. */
static int64_t
expire_waiting(struct wg_redis *r, struct rreq_q *q, uint64_t now)
{
	struct rreq *rq, *nx;
	int64_t next = -1;

	for (rq = TAILQ_FIRST(q); rq != NULL; rq = nx) {
		nx = TAILQ_NEXT(rq, link);
		if (rq->deadline == 0)
			continue;
		if (rq->deadline <= now) {
			TAILQ_REMOVE(q, rq, link);
			r->st.timeouts++;
			finish(r, rq, -ETIMEDOUT, NULL);
			continue;
		}
		if (next < 0 || (int64_t)(rq->deadline - now) < next)
			next = (int64_t)(rq->deadline - now);
	}
	return next;
}

int
wg_redis_timers(struct wg_redis *r, uint64_t now)
{
	int64_t next = -1, w;

	/* TRYAGAIN retries whose delay expired */
	while (!TAILQ_EMPTY(&r->delayq)) {
		struct rreq *rq = TAILQ_FIRST(&r->delayq);

		if (rq->retry_at > now) {
			next = (int64_t)(rq->retry_at - now);
			break;
		}
		TAILQ_REMOVE(&r->delayq, rq, link);
		send_req(r, rq);
	}
	for (unsigned int n = 0; n < r->map.n_nodes; n++) {
		struct rconn *cs = r->nodes[n].conns;

		if (cs == NULL)
			continue;
		for (unsigned int i = 0; i < r->conf.pool_size; i++) {
			struct rconn *c = &cs[i];

			if (c->state != RC_UP && r->conf.request_timeout_ms &&
			    (w = expire_waiting(r, &c->waitq, now)) >= 0 && (next < 0 || w < next))
				next = w;
			if (c->state == RC_CONNECTING && now >= c->deadline) {
				r->st.connect_failures++;
				if (!c->warned)
					PLOG(WARNING, MOD, "connect to %s:%u timed out",
					     r->map.node[n].host, r->map.node[n].port);
				c->warned = true;
				c->state = RC_DOWN;
				redisAsyncFree(c->ac);   /* cleanup sets the back-off */
				continue;
			}
			/* keep the seed's pool and any node with parked work connected */
			if (c->state == RC_DOWN &&
			    (n == r->seed || !TAILQ_EMPTY(&c->waitq) ||
			     (r->conf.cluster && r->map.n_nodes > 1))) {
				if (now >= c->retry_at)
					conn_start(c, now);
				else if (next < 0 || (int64_t)(c->retry_at - now) < next)
					next = (int64_t)(c->retry_at - now);
			}
		}
	}
	if (r->conf.cluster) {
		refresh_map(r, now);
		if (r->refresh_wanted && !r->refresh_inflight) {
			int64_t d = now < r->refresh_after ? (int64_t)(r->refresh_after - now) : 0;

			if (next < 0 || d < next)
				next = d;
		}
	}
	return next > INT32_MAX ? INT32_MAX : (int)next;
}

int
wg_redis_pollfds(struct wg_redis *r, struct pollfd *pfd, int max)
{
	int n = 0;

	r->npconn = 0;
	for (unsigned int nd = 0; nd < r->map.n_nodes; nd++) {
		struct rconn *cs = r->nodes[nd].conns;

		if (cs == NULL)
			continue;
		for (unsigned int i = 0; i < r->conf.pool_size; i++) {
			struct rconn *c = &cs[i];

			if (c->ac == NULL || (!c->want_r && !c->want_w))
				continue;
			if (n == max || n == (int)(sizeof(r->pconn) / sizeof(r->pconn[0])))
				return n;
			pfd[n].fd = c->ac->c.fd;
			pfd[n].events = (short)((c->want_r ? POLLIN : 0) | (c->want_w ? POLLOUT : 0));
			pfd[n].revents = 0;
			r->pconn[n] = c;
			n++;
		}
	}
	r->npconn = n;
	return n;
}

int
wg_redis_dispatch(struct wg_redis *r, const struct pollfd *pfd, int n)
{
	int work = 0;

	if (n > r->npconn)
		n = r->npconn;
	for (int i = 0; i < n; i++) {
		struct rconn *c = r->pconn[i];

		if (pfd[i].revents == 0)
			continue;
		/* the context may have died earlier in this loop */
		if (c->ac == NULL || c->ac->c.fd != pfd[i].fd)
			continue;
		work++;
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			redisAsyncHandleRead(c->ac);
		if (c->ac != NULL && c->ac->c.fd == pfd[i].fd && (pfd[i].revents & POLLOUT))
			redisAsyncHandleWrite(c->ac);
	}
	r->npconn = 0;
	return work;
}

int
wg_redis_poll(struct wg_redis *r, int timeout_ms)
{
	struct pollfd pfd[WG_REDIS_MAX_NODES * 8];
	int n, next, rc;

	next = wg_redis_timers(r, wg_persist_now_ms());
	if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
		timeout_ms = next;
	n = wg_redis_pollfds(r, pfd, (int)(sizeof(pfd) / sizeof(pfd[0])));
	rc = poll(pfd, (nfds_t)n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	return wg_redis_dispatch(r, pfd, n);
}

void
wg_redis_stats(const struct wg_redis *r, struct wg_redis_stats *st)
{
	*st = r->st;
}

const struct wg_redis_slotmap *
wg_redis_map(const struct wg_redis *r)
{
	return &r->map;
}

bool
wg_redis_ready(const struct wg_redis *r)
{
	bool any = false;

	for (unsigned int n = 0; n < r->map.n_nodes; n++) {
		bool owns = n == r->seed;

		for (unsigned int s = 0; s < WG_REDIS_SLOTS && !owns; s++)
			owns = r->map.owner[s] == n;
		if (!owns)
			continue;
		if (r->nodes[n].conns == NULL)
			return false;
		for (unsigned int i = 0; i < r->conf.pool_size; i++)
			if (r->nodes[n].conns[i].state != RC_UP)
				return false;
		any = true;
	}
	return any && (!r->conf.cluster || r->st.map_refreshes > 0);
}

void
wg_redis_dump(FILE *f, const struct wg_redis *r)
{
	const struct wg_redis_stats *s = &r->st;

	fprintf(f, "redis %s mode, %u node(s), pool %u\n",
		r->conf.cluster ? "cluster" : "single", r->map.n_nodes, r->conf.pool_size);
	for (unsigned int n = 0; n < r->map.n_nodes; n++) {
		unsigned int slots = 0, up = 0;

		for (unsigned int i = 0; i < WG_REDIS_SLOTS; i++)
			slots += r->map.owner[i] == n;
		for (unsigned int i = 0; r->nodes[n].conns && i < r->conf.pool_size; i++)
			up += r->nodes[n].conns[i].state == RC_UP;
		fprintf(f, "  node %u %s:%u slots %u conns up %u\n", n, r->map.node[n].host,
			r->map.node[n].port, slots, up);
	}
	fprintf(f, "  sent %lu replies %lu errors %lu moved %lu ask %lu tryagain %lu "
		"noscript %lu connects %lu disconnects %lu connect_failures %lu "
		"refreshes %lu eagain %lu timeouts %lu outstanding %u\n",
		(unsigned long)s->sent, (unsigned long)s->replies, (unsigned long)s->errors,
		(unsigned long)s->moved, (unsigned long)s->ask, (unsigned long)s->tryagain,
		(unsigned long)s->noscript, (unsigned long)s->connects,
		(unsigned long)s->disconnects, (unsigned long)s->connect_failures,
		(unsigned long)s->map_refreshes, (unsigned long)s->eagain,
		(unsigned long)s->timeouts, s->outstanding);
}
