/* SPDX-License-Identifier: BSD-3-Clause
 * Redis discovery backend. Records are keys with a TTL:
 *   wg:disc:{<service>}:<id> = wg.rpc.Instance (protobuf), PX <ttl>
 * The hash tag keeps a service on one cluster slot, so SCAN and MGET of a
 * service go to one node. Registration is SET PX; a heartbeat is PEXPIRE
 * (0 = the key expired: the core writes it again); deregistration is DEL.
 *
 * Watching uses keyspace notifications (notify-keyspace-events must
 * include K, $, g and x; redis_config_notify sets them at open):
 * PSUBSCRIBE __keyspace@0__:wg:disc:{<service>}:* (database 0) on a dedicated
 * connection; "set" triggers a GET of the key (add/update), "del",
 * "expired" and "evicted" remove. Lease expiry therefore shows up as soon
 * as Redis expires the key (its active expiry cycle runs 10 times a
 * second). Every (re)subscription and every resync_ms a full SCAN + MGET
 * snapshot reconciles what notifications could not deliver (subscriber
 * down, notifications disabled, other cluster nodes: the subscriber
 * follows the seed node only). A notification arriving while a snapshot
 * is being read makes that snapshot stale; it is dropped and re-read.
 *
 * Commands go through the persistence layer's client (logic/persist,
 * wg_redis: pool, reconnect, cluster routing); pub/sub needs a connection
 * of its own, a non-blocking hiredis context driven by the same poll.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/hiredis.h>

#include "disc.h"
#include "persist_log.h"
#include "redis.h"
#include "rpc_impl.h"
#include "wg_rpc.pb-c.h"

#define KEY_PREFIX   "wg:disc:{"
#define MAX_WATCH    64
#define SCAN_COUNT   "256"

struct rwatch {
	char service[WG_DISC_NAME_MAX];
	char pattern[2 * WG_DISC_NAME_MAX + 64];   /* keyspace pattern */
	char match[2 * WG_DISC_NAME_MAX + 32];     /* SCAN MATCH */
	char tag[WG_DISC_NAME_MAX + 16];           /* routing key */
	bool busy, again, stale;
	char **keys;
	unsigned int n_keys, cap_keys;
};

struct rdisc {
	struct wg_disc *d;
	struct wg_redis *r;
	char host[WG_REDIS_HOST_MAX];
	uint16_t port;
	bool closing;
	bool config_notify;
	/* subscriber */
	redisContext *sub;
	bool sub_up;
	int64_t sub_retry_ns;
	uint32_t backoff_ms, backoff_max_ms;
	/* resync */
	uint32_t resync_ms;
	int64_t next_resync_ns;
	struct rwatch w[MAX_WATCH];
	unsigned int n_w;
	struct pollfd pfd[WG_REDIS_MAX_NODES * 8 + 1];
};

struct kctx {
	struct rdisc *rd;
	char service[WG_DISC_NAME_MAX];
	char id[WG_DISC_NAME_MAX];
};

static int
key_of(char *buf, size_t len, const char *service, const char *id)
{
	int n = snprintf(buf, len, KEY_PREFIX "%s}:%s", service, id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
}

/* Redis glob: escape what MATCH / PSUBSCRIBE would interpret. */
static void
glob_escape(char *dst, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 2 < len; s++) {
		if (*s == '*' || *s == '?' || *s == '[' || *s == ']' || *s == '\\')
			dst[o++] = '\\';
		dst[o++] = *s;
	}
	dst[o] = '\0';
}

/* ---- protobuf <-> instance ---- */

/* ---- commands ---- */

static void
cb_count(void *arg, int err, const struct redisReply *reply)
{
	struct rdisc *rd = arg;

	if (rd->closing)
		return;
	if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
		RPC_LOG(WARN, "disc: redis command failed: %s",
			err < 0 ? strerror(-err) : reply->str);
		wg_disc_count_error(rd->d);
	}
}

static int
r_put(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms)
{
	struct rdisc *rd = wg_disc_backend(d);
	char key[256];
	uint8_t *val;
	size_t len;
	int rc, kl;

	kl = key_of(key, sizeof(key), in->service, in->id);
	if (kl < 0)
		return kl;
	val = wg_disc_instance_pack(in, &len);
	if (val == NULL)
		return -ENOMEM;
	rc = wg_redis_cmdf(rd->r, key, (size_t)kl, cb_count, rd, "SET %b %b PX %u",
			   key, (size_t)kl, val, len, ttl_ms);
	free(val);
	return rc;
}

static void
cb_refresh(void *arg, int err, const struct redisReply *reply)
{
	struct kctx *k = arg;

	if (!k->rd->closing) {
		if (err < 0 || reply->type != REDIS_REPLY_INTEGER)
			wg_disc_count_error(k->rd->d);
		else if (reply->integer == 0)
			wg_disc_lease_lost(k->rd->d, k->service, k->id);
	}
	free(k);
}

static int
r_refresh(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms)
{
	struct rdisc *rd = wg_disc_backend(d);
	struct kctx *k;
	char key[256];
	int rc, kl;

	kl = key_of(key, sizeof(key), in->service, in->id);
	if (kl < 0)
		return kl;
	k = malloc(sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	k->rd = rd;
	memcpy(k->service, in->service, sizeof(k->service));
	memcpy(k->id, in->id, sizeof(k->id));
	rc = wg_redis_cmdf(rd->r, key, (size_t)kl, cb_refresh, k, "PEXPIRE %b %u",
			   key, (size_t)kl, ttl_ms);
	if (rc < 0)
		free(k);
	return rc;
}

static int
r_del(struct wg_disc *d, const char *service, const char *id)
{
	struct rdisc *rd = wg_disc_backend(d);
	char key[256];
	int kl;

	kl = key_of(key, sizeof(key), service, id);
	if (kl < 0)
		return kl;
	return wg_redis_cmdf(rd->r, key, (size_t)kl, cb_count, rd, "DEL %b", key, (size_t)kl);
}

/* ---- snapshots: SCAN, then MGET ---- */

static void scan_step(struct rdisc *rd, unsigned int wi, const char *cursor);

static void
keys_clear(struct rwatch *w)
{
	unsigned int i;

	for (i = 0; i < w->n_keys; i++)
		free(w->keys[i]);
	w->n_keys = 0;
}

static void
resync_done(struct rdisc *rd, unsigned int wi)
{
	struct rwatch *w = &rd->w[wi];

	keys_clear(w);
	w->busy = false;
	if (w->again || w->stale) {
		w->again = false;
		w->stale = false;
		w->busy = true;
		scan_step(rd, wi, "0");
	}
}

struct sctx {
	struct rdisc *rd;
	unsigned int wi;
};

static void
cb_mget(void *arg, int err, const struct redisReply *reply)
{
	struct sctx *x = arg;
	struct rdisc *rd = x->rd;
	struct rwatch *w = &rd->w[x->wi];
	struct wg_disc_instance *v = NULL;
	unsigned int n = 0;
	size_t i;

	if (rd->closing)
		goto out;
	if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
		wg_disc_count_error(rd->d);
		goto done;
	}
	if (w->stale)
		goto done;             /* changed under us: re-read */
	v = calloc(reply->elements ? reply->elements : 1, sizeof(*v));
	if (v == NULL)
		goto done;
	for (i = 0; i < reply->elements; i++) {
		const redisReply *e = reply->element[i];

		if (e->type != REDIS_REPLY_STRING)
			continue;      /* expired between SCAN and MGET */
		if (wg_disc_instance_unpack(e->str, e->len, &v[n]) < 0 ||
		    strcmp(v[n].service, w->service) != 0) {
			wg_disc_count_error(rd->d);
			continue;
		}
		n++;
	}
	wg_disc_snapshot(rd->d, w->service, v, n);
	wg_disc_count(rd->d, WG_DISC_C_RESYNC);
done:
	resync_done(rd, x->wi);
out:
	free(v);
	free(x);
}

static void
mget(struct rdisc *rd, unsigned int wi)
{
	struct rwatch *w = &rd->w[wi];
	const char **argv;
	size_t *argl;
	struct sctx *x;
	unsigned int i;
	int rc = -ENOMEM;

	if (w->n_keys == 0) {
		if (!w->stale) {
			wg_disc_snapshot(rd->d, w->service, NULL, 0);
			wg_disc_count(rd->d, WG_DISC_C_RESYNC);
		}
		resync_done(rd, wi);
		return;
	}
	argv = malloc((w->n_keys + 1) * sizeof(*argv));
	argl = malloc((w->n_keys + 1) * sizeof(*argl));
	x = malloc(sizeof(*x));
	if (argv && argl && x) {
		argv[0] = "MGET";
		argl[0] = 4;
		for (i = 0; i < w->n_keys; i++) {
			argv[i + 1] = w->keys[i];
			argl[i + 1] = strlen(w->keys[i]);
		}
		x->rd = rd;
		x->wi = wi;
		rc = wg_redis_cmd(rd->r, w->tag, strlen(w->tag), cb_mget, x,
				  (int)w->n_keys + 1, argv, argl);
	}
	free(argv);
	free(argl);
	if (rc < 0) {
		free(x);
		wg_disc_count_error(rd->d);
		resync_done(rd, wi);
	}
}

static void
cb_scan(void *arg, int err, const struct redisReply *reply)
{
	struct sctx *x = arg;
	struct rdisc *rd = x->rd;
	unsigned int wi = x->wi;
	struct rwatch *w = &rd->w[wi];
	const redisReply *keys;
	size_t i;

	free(x);
	if (rd->closing)
		return;
	if (err < 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_ARRAY) {
		wg_disc_count_error(rd->d);
		resync_done(rd, wi);
		return;
	}
	keys = reply->element[1];
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (w->n_keys == w->cap_keys) {
			unsigned int cap = w->cap_keys ? w->cap_keys * 2 : 32;
			char **nk = realloc(w->keys, cap * sizeof(*nk));

			if (nk == NULL)
				break;
			w->keys = nk;
			w->cap_keys = cap;
		}
		w->keys[w->n_keys] = strndup(k->str, k->len);
		if (w->keys[w->n_keys])
			w->n_keys++;
	}
	if (strcmp(reply->element[0]->str, "0") == 0)
		mget(rd, wi);
	else
		scan_step(rd, wi, reply->element[0]->str);
}

static void
scan_step(struct rdisc *rd, unsigned int wi, const char *cursor)
{
	struct rwatch *w = &rd->w[wi];
	struct sctx *x = malloc(sizeof(*x));
	int rc;

	if (x == NULL) {
		resync_done(rd, wi);
		return;
	}
	x->rd = rd;
	x->wi = wi;
	rc = wg_redis_cmdf(rd->r, w->tag, strlen(w->tag), cb_scan, x,
			   "SCAN %s MATCH %s COUNT " SCAN_COUNT, cursor, w->match);
	if (rc < 0) {
		free(x);
		wg_disc_count_error(rd->d);
		resync_done(rd, wi);
	}
}

static void
resync(struct rdisc *rd, unsigned int wi)
{
	struct rwatch *w = &rd->w[wi];

	if (w->busy) {
		w->again = true;
		return;
	}
	w->busy = true;
	keys_clear(w);
	scan_step(rd, wi, "0");
}

/* ---- notifications ---- */

static void
cb_get(void *arg, int err, const struct redisReply *reply)
{
	struct kctx *k = arg;
	struct wg_disc_instance in;

	if (k->rd->closing)
		goto out;
	if (err < 0) {
		wg_disc_count_error(k->rd->d);
	} else if (reply->type == REDIS_REPLY_NIL) {
		wg_disc_gone(k->rd->d, k->service, k->id);
	} else if (reply->type == REDIS_REPLY_STRING) {
		if (wg_disc_instance_unpack(reply->str, reply->len, &in) == 0 &&
		    strcmp(in.service, k->service) == 0 && strcmp(in.id, k->id) == 0)
			wg_disc_seen(k->rd->d, &in);
		else
			wg_disc_count_error(k->rd->d);
	}
out:
	free(k);
}

/* channel = __keyspace@0__:wg:disc:{<service>}:<id>, msg = event. */
static void
notification(struct rdisc *rd, const char *chan, size_t clen, const char *ev, size_t elen)
{
	const char *colon = memchr(chan, ':', clen);
	const char *key;
	size_t klen;
	unsigned int i;

	if (colon == NULL)
		return;
	key = colon + 1;
	klen = clen - (size_t)(key - chan);
	wg_disc_count(rd->d, WG_DISC_C_NOTIFY);
	for (i = 0; i < rd->n_w; i++) {
		struct rwatch *w = &rd->w[i];
		size_t pl = strlen(KEY_PREFIX) + strlen(w->service) + 2;
		struct kctx *k;

		if (klen <= pl || memcmp(key, KEY_PREFIX, strlen(KEY_PREFIX)) != 0 ||
		    memcmp(key + strlen(KEY_PREFIX), w->service, strlen(w->service)) != 0 ||
		    memcmp(key + pl - 2, "}:", 2) != 0 || klen - pl >= WG_DISC_NAME_MAX)
			continue;
		if (w->busy)
			w->stale = true;
		k = malloc(sizeof(*k));
		if (k == NULL)
			return;
		k->rd = rd;
		memcpy(k->service, w->service, sizeof(k->service));
		memcpy(k->id, key + pl, klen - pl);
		k->id[klen - pl] = '\0';
		if ((elen == 3 && memcmp(ev, "set", 3) == 0)) {
			if (wg_redis_cmdf(rd->r, key, klen, cb_get, k, "GET %b", key, klen) < 0)
				free(k);
		} else if ((elen == 3 && memcmp(ev, "del", 3) == 0) ||
			   (elen == 7 && memcmp(ev, "expired", 7) == 0) ||
			   (elen == 7 && memcmp(ev, "evicted", 7) == 0)) {
			wg_disc_gone(rd->d, k->service, k->id);
			free(k);
		} else {
			free(k);   /* expire (our heartbeats) and the rest */
		}
		return;
	}
}

static void cb_config_get(void *arg, int err, const struct redisReply *reply);

static void
sub_drop(struct rdisc *rd, const char *why)
{
	if (rd->sub) {
		RPC_LOG(WARN, "disc: redis subscriber lost: %s", why);
		redisFree(rd->sub);
		rd->sub = NULL;
	}
	rd->sub_up = false;
	rd->sub_retry_ns = wg_rpc_now_ns() + (int64_t)rd->backoff_ms * 1000000;
	rd->backoff_ms = rd->backoff_ms * 2 > rd->backoff_max_ms ? rd->backoff_max_ms :
			 rd->backoff_ms * 2;
}

static int
sub_psubscribe(struct rdisc *rd, unsigned int wi)
{
	const char *argv[2] = { "PSUBSCRIBE", rd->w[wi].pattern };
	size_t argl[2] = { 10, strlen(rd->w[wi].pattern) };

	return redisAppendCommandArgv(rd->sub, 2, argv, argl) == REDIS_OK ? 0 : -EIO;
}

static void
sub_connect(struct rdisc *rd)
{
	rd->sub = redisConnectNonBlock(rd->host, rd->port);
	if (rd->sub == NULL || rd->sub->err) {
		sub_drop(rd, rd->sub ? rd->sub->errstr : "no memory");
		return;
	}
	wg_disc_count(rd->d, WG_DISC_C_RECONNECT);
}

/* Connected: subscribe to every watched service. */
static void
sub_established(struct rdisc *rd)
{
	unsigned int i;

	rd->sub_up = true;
	/* A restarted server forgot the setting: set it on every connect. */
	if (rd->config_notify &&
	    wg_redis_cmdf(rd->r, NULL, 0, cb_config_get, rd,
			  "CONFIG GET notify-keyspace-events") < 0)
		wg_disc_count_error(rd->d);
	for (i = 0; i < rd->n_w; i++)
		if (sub_psubscribe(rd, i) < 0) {
			sub_drop(rd, "append");
			return;
		}
}

static int
sub_read(struct rdisc *rd)
{
	void *rp;
	int work = 0;

	if (redisBufferRead(rd->sub) != REDIS_OK) {
		sub_drop(rd, rd->sub->errstr[0] ? rd->sub->errstr : "eof");
		return 0;
	}
	for (;;) {
		redisReply *r;

		if (redisGetReplyFromReader(rd->sub, &rp) != REDIS_OK) {
			sub_drop(rd, "protocol error");
			return work;
		}
		if (rp == NULL)
			return work;
		r = rp;
		work++;
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 &&
		    r->element[0]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[0]->str, "pmessage") == 0 &&
		    r->element[2]->type == REDIS_REPLY_STRING &&
		    r->element[3]->type == REDIS_REPLY_STRING) {
			notification(rd, r->element[2]->str, r->element[2]->len,
				     r->element[3]->str, r->element[3]->len);
		} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
			   r->element[0]->type == REDIS_REPLY_STRING &&
			   strcmp(r->element[0]->str, "psubscribe") == 0 &&
			   r->element[1]->type == REDIS_REPLY_STRING) {
			unsigned int i;

			/* Subscribed: from here no change is missed, so
			 * read the whole service once. */
			rd->backoff_ms = 50;
			for (i = 0; i < rd->n_w; i++)
				if (strcmp(rd->w[i].pattern, r->element[1]->str) == 0)
					resync(rd, i);
		}
		freeReplyObject(r);
	}
}

/* ---- notify-keyspace-events ---- */

static void
cb_config_get(void *arg, int err, const struct redisReply *reply)
{
	static const char need[] = "K$gx";
	struct rdisc *rd = arg;
	char flags[64] = "";
	size_t i, n;

	if (rd->closing)
		return;
	if (err < 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[1]->type != REDIS_REPLY_STRING) {
		RPC_LOG(WARN, "disc: CONFIG GET notify-keyspace-events failed: relying on resyncs");
		wg_disc_count_error(rd->d);
		return;
	}
	snprintf(flags, sizeof(flags), "%s", reply->element[1]->str);
	n = strlen(flags);
	/* 'A' is "g$lshzxet": it already holds $, g and x. */
	for (i = 0; i < sizeof(need) - 1 && n + 1 < sizeof(flags); i++)
		if (!strchr(flags, need[i]) && !(need[i] != 'K' && strchr(flags, 'A')))
			flags[n++] = need[i];
	flags[n] = '\0';
	if (wg_redis_cmdf(rd->r, NULL, 0, cb_count, rd,
			  "CONFIG SET notify-keyspace-events %s", flags) < 0)
		wg_disc_count_error(rd->d);
}

/* ---- vtable ---- */

static int
r_open(struct wg_disc *d, const struct wg_disc_conf *conf)
{
	struct wg_redis_conf rc = { 0 };
	struct rdisc *rd;

	if (conf->redis_host == NULL || conf->redis_port == 0 ||
	    strlen(conf->redis_host) >= WG_REDIS_HOST_MAX)
		return -EINVAL;
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL)
		return -ENOMEM;
	rd->d = d;
	snprintf(rd->host, sizeof(rd->host), "%s", conf->redis_host);
	rd->port = conf->redis_port;
	rd->resync_ms = conf->resync_ms ? conf->resync_ms : 10000;
	rd->backoff_ms = 50;
	rd->backoff_max_ms = conf->reconnect_max_ms ? conf->reconnect_max_ms : 2000;
	rc.host = rd->host;
	rc.port = rd->port;
	rc.cluster = conf->redis_cluster;
	rc.pool_size = 1;
	rc.max_outstanding = 4096;
	rc.connect_timeout_ms = 1000;
	rc.reconnect_min_ms = 50;
	rc.reconnect_max_ms = rd->backoff_max_ms;
	rc.request_timeout_ms = 2000;
	rd->r = wg_redis_create(&rc);
	if (rd->r == NULL) {
		free(rd);
		return -errno;
	}
	rd->config_notify = conf->redis_config_notify;
	if (rd->config_notify)
		wg_redis_cmdf(rd->r, NULL, 0, cb_config_get, rd,
			      "CONFIG GET notify-keyspace-events");
	rd->next_resync_ns = wg_rpc_now_ns() + (int64_t)rd->resync_ms * 1000000;
	wg_disc_set_backend(d, rd);
	return 0;
}

static void
r_close(struct wg_disc *d)
{
	struct rdisc *rd = wg_disc_backend(d);
	unsigned int i;

	rd->closing = true;
	wg_redis_destroy(rd->r);            /* callbacks: -ECANCELED */
	if (rd->sub)
		redisFree(rd->sub);
	for (i = 0; i < rd->n_w; i++) {
		keys_clear(&rd->w[i]);
		free(rd->w[i].keys);
	}
	free(rd);
}

static int
r_watch(struct wg_disc *d, const char *service)
{
	struct rdisc *rd = wg_disc_backend(d);
	struct rwatch *w;
	char esc[2 * WG_DISC_NAME_MAX];

	if (rd->n_w == MAX_WATCH)
		return -ENOSPC;
	w = &rd->w[rd->n_w];
	memset(w, 0, sizeof(*w));
	snprintf(w->service, sizeof(w->service), "%s", service);
	glob_escape(esc, sizeof(esc), service);
	snprintf(w->pattern, sizeof(w->pattern), "__keyspace@0__:" KEY_PREFIX "%s}:*", esc);
	snprintf(w->match, sizeof(w->match), KEY_PREFIX "%s}:*", esc);
	snprintf(w->tag, sizeof(w->tag), KEY_PREFIX "%s}:", service);
	rd->n_w++;
	if (rd->sub == NULL && rd->sub_retry_ns == 0)
		sub_connect(rd);
	else if (rd->sub_up && sub_psubscribe(rd, rd->n_w - 1) < 0)
		sub_drop(rd, "append");
	/* The snapshot comes with the subscription confirmation. */
	return 0;
}

static int
r_poll(struct wg_disc *d, int timeout_ms)
{
	struct rdisc *rd = wg_disc_backend(d);
	int64_t now = wg_rpc_now_ns();
	int n, rc, t, work = 0, sub_i = -1;
	unsigned int i;

	if (rd->sub == NULL && rd->n_w && now >= rd->sub_retry_ns)
		sub_connect(rd);
	if (now >= rd->next_resync_ns) {
		for (i = 0; i < rd->n_w; i++)
			resync(rd, i);
		rd->next_resync_ns = now + (int64_t)rd->resync_ms * 1000000;
	}
	t = wg_redis_timers(rd->r, wg_persist_now_ms());
	if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
		timeout_ms = t;
	t = (int)((rd->next_resync_ns - now) / 1000000) + 1;
	if (timeout_ms < 0 || t < timeout_ms)
		timeout_ms = t;
	if (rd->sub == NULL && rd->n_w) {
		t = (int)((rd->sub_retry_ns - now) / 1000000) + 1;
		if (t < timeout_ms)
			timeout_ms = t < 0 ? 0 : t;
	}
	n = wg_redis_pollfds(rd->r, rd->pfd, WG_REDIS_MAX_NODES * 8);
	if (rd->sub) {
		int done = 1;

		if (rd->sub_up)
			redisBufferWrite(rd->sub, &done);
		sub_i = n;
		rd->pfd[n].fd = rd->sub->fd;
		rd->pfd[n].events = (short)(POLLIN | (!rd->sub_up || !done ? POLLOUT : 0));
		rd->pfd[n].revents = 0;
		n++;
	}
	rc = poll(rd->pfd, (nfds_t)n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	work += wg_redis_dispatch(rd->r, rd->pfd, sub_i >= 0 ? sub_i : n);
	if (sub_i >= 0 && rd->sub && rd->pfd[sub_i].revents) {
		short re = rd->pfd[sub_i].revents;

		if (!rd->sub_up && (re & (POLLOUT | POLLERR | POLLHUP))) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (getsockopt(rd->sub->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
			    soerr != 0) {
				sub_drop(rd, soerr ? strerror(soerr) : "connect");
				return work;
			}
			sub_established(rd);
			if (rd->sub) {
				int done = 0;

				redisBufferWrite(rd->sub, &done);
			}
			work++;
		}
		if (rd->sub && rd->sub_up && (re & (POLLIN | POLLERR | POLLHUP)))
			work += sub_read(rd);
	}
	return work;
}

const struct wg_disc_ops wg_disc_redis_ops = {
	.name = "redis",
	.open = r_open,
	.close = r_close,
	.put = r_put,
	.refresh = r_refresh,
	.del = r_del,
	.watch = r_watch,
	.poll = r_poll,
};
