/* SPDX-License-Identifier: BSD-3-Clause
 * persist_check: drives logic/persist against real redis-server and
 * PostgreSQL for tests/integration/test_persist.sh. Each mode checks its own
 * invariants and exits non-zero with a "FAIL:" line when one breaks; modes
 * that take part in a multi-process scenario (fence-a/-b, writer) print
 * machine-readable lines the script checks.
 *
 *   persist_check MODE [--redis H:P | --redis-unix PATH | --cluster H:P]
 *                      [--pg CONNINFO] [mode options]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "persist.h"

static struct {
	const char *redis;
	const char *redis_unix;
	bool cluster;
	const char *pg;
	const char *owner;
	const char *flag_file;
	uint32_t ttl_ms;
	uint32_t entities;
	uint32_t kind;
	uint32_t run_ms;
	uint32_t interval_ms;
	uint32_t grants;
	uint32_t rows;
	bool load;
	bool verbose;
} opt = {
	.ttl_ms = 1000, .entities = 1000, .kind = 7, .run_ms = 3000,
	.interval_ms = 50, .grants = 50, .rows = 200000,
};

#define FAIL(...) \
	do { \
		fprintf(stdout, "FAIL: " __VA_ARGS__); \
		fputc('\n', stdout); \
		fflush(stdout); \
		exit(1); \
	} while (0)
#define CHECK(c, ...) \
	do { \
		if (!(c)) \
			FAIL(__VA_ARGS__); \
	} while (0)

static void
log_hook(void *arg, int level, const char *mod, const char *msg)
{
	(void)arg;
	fprintf(stderr, "[%d] %s: %s\n", level, mod, msg);
}

static void
parse_hostport(const char *s, char *host, size_t hsz, uint16_t *port)
{
	const char *c = strrchr(s, ':');

	CHECK(c && (size_t)(c - s) < hsz, "bad host:port %s", s);
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	*port = (uint16_t)atoi(c + 1);
}

static char redis_host[64];

static struct wg_persist *
open_persist(bool redis, bool pg, wg_wb_row_cb *row_cb, void *row_arg)
{
	struct wg_persist_conf c = { 0 };
	struct wg_persist *p;

	if (redis) {
		c.use_redis = true;
		if (opt.redis_unix) {
			c.redis.unix_path = opt.redis_unix;
		} else {
			CHECK(opt.redis, "--redis or --cluster needed");
			parse_hostport(opt.redis, redis_host, sizeof(redis_host), &c.redis.port);
			c.redis.host = redis_host;
		}
		c.redis.cluster = opt.cluster;
		c.redis.pool_size = 2;
		c.redis.max_outstanding = 100000;
		c.redis.reconnect_min_ms = 10;
		c.redis.reconnect_max_ms = 200;
		c.cache_ttl_ms = 60000;
	}
	if (pg) {
		CHECK(opt.pg, "--pg needed");
		c.use_pg = true;
		c.pg.conninfo = opt.pg;
		c.pg.max_inflight = 4;
		c.pg.max_queued = 8;
		c.pg.reconnect_min_ms = 10;
		c.pg.reconnect_max_ms = 200;
		c.wb.flush_ms = opt.interval_ms;
		c.wb.flush_rows = 20000;
		c.wb.max_dirty = 50000;
		c.wb.max_inflight_rows = 200000;
		c.wb.max_data = 4096;
		c.row_cb = row_cb;
		c.row_arg = row_arg;
	}
	p = wg_persist_create(&c);
	CHECK(p, "wg_persist_create: %s", strerror(errno));
	return p;
}

/* Poll until *done or the deadline; returns whether done. */
static bool
run_until(struct wg_persist *p, const volatile int *done, uint32_t ms)
{
	uint64_t end = wg_persist_now_ms() + ms;

	while (!*done && wg_persist_now_ms() < end) {
		int rc = wg_persist_poll(p, 5);

		CHECK(rc >= 0, "poll: %s", strerror(-rc));
	}
	return *done;
}

static bool
wait_ready(struct wg_persist *p, uint32_t ms)
{
	uint64_t end = wg_persist_now_ms() + ms;
	struct wg_pg_stats ps;

	for (;;) {
		bool ok = true;

		if (p->redis)
			ok &= wg_redis_ready(p->redis);
		if (p->pg) {
			wg_pg_stats(p->pg, &ps);
			ok &= ps.ready;
		}
		if (ok)
			return true;
		if (wg_persist_now_ms() >= end)
			return false;
		wg_persist_poll(p, 5);
	}
}

/* ---- simple reply collectors ---- */

struct reply {
	int done;
	int err;
	int type;
	long long integer;
	char str[8192];
	size_t len;
};

static void
on_reply(void *arg, int err, const redisReply *r)
{
	struct reply *x = arg;

	x->done = 1;
	x->err = err;
	if (err)
		return;
	x->type = r->type;
	x->integer = r->integer;
	x->len = 0;
	if (r->str && r->len < sizeof(x->str)) {
		memcpy(x->str, r->str, r->len);
		x->len = r->len;
	}
	x->str[x->len] = '\0';
}

struct lockres {
	int done;
	int err;
	uint64_t token;
	uint32_t ttl;
};

static void
on_lock(void *arg, int err, uint64_t token, uint32_t ttl)
{
	struct lockres *l = arg;

	l->done = 1;
	l->err = err;
	l->token = token;
	l->ttl = ttl;
}

static struct lockres
lock_call(struct wg_persist *p, int which, const char *res, const char *owner,
	  uint64_t token, uint32_t ttl)
{
	struct lockres l = { 0 };
	int rc;

	if (which == 0)
		rc = wg_lock_acquire(p->redis, res, owner, ttl, on_lock, &l);
	else if (which == 1)
		rc = wg_lock_renew(p->redis, res, owner, token, ttl, on_lock, &l);
	else
		rc = wg_lock_release(p->redis, res, owner, token, on_lock, &l);
	CHECK(rc == 0, "lock op %d: %s", which, strerror(-rc));
	CHECK(run_until(p, &l.done, 5000), "lock op %d timed out", which);
	return l;
}

struct loadres {
	int done;
	int err;
	int src;
	uint64_t version, fence;
	char data[8192];
	size_t len;
};

static void
on_load(void *arg, int err, int src, uint64_t version, uint64_t fence, const void *data,
	size_t len)
{
	struct loadres *l = arg;

	l->done = 1;
	l->err = err;
	l->src = src;
	l->version = version;
	l->fence = fence;
	l->len = len < sizeof(l->data) ? len : sizeof(l->data);
	if (data)
		memcpy(l->data, data, l->len);
}

static void
on_pg_load(void *arg, int err, uint64_t version, uint64_t fence, const void *data, size_t len)
{
	on_load(arg, err, WG_CACHE_FROM_PG, version, fence, data, len);
}

static struct loadres *
load_pg(struct wg_persist *p, uint32_t kind, uint64_t id)
{
	static struct loadres l;
	int rc;

	memset(&l, 0, sizeof(l));
	rc = wg_entity_load(p->pg, kind, id, on_pg_load, &l);
	CHECK(rc == 0, "load: %s", strerror(-rc));
	CHECK(run_until(p, &l.done, 10000), "load timed out");
	return &l;
}

/* Row results of the write-back, for modes that write one entity. */
struct rows {
	uint64_t applied, stale, fenced, failed;
	uint64_t last_version;
	int last_status;
	int seen;
};

static void
on_row(void *arg, const struct wg_wb_result *r)
{
	struct rows *x = arg;

	switch (r->status) {
	case WG_WB_APPLIED: x->applied++; break;
	case WG_WB_STALE: x->stale++; break;
	case WG_WB_FENCED: x->fenced++; break;
	default: x->failed++; break;
	}
	x->last_version = r->version;
	x->last_status = r->status;
	x->seen++;
}

static int
write_one(struct wg_persist *p, struct rows *rw, uint32_t kind, uint64_t id, uint64_t ver,
	  uint64_t fence, const void *data, uint32_t len)
{
	int seen = rw->seen, rc;

	rc = wg_wb_put(p->wb, kind, id, ver, fence, data, len);
	if (rc < 0)
		return rc;
	rc = wg_wb_flush(p->wb, wg_persist_now_ms());
	CHECK(rc >= 0, "flush: %s", strerror(-rc));
	uint64_t end = wg_persist_now_ms() + 10000;
	while (rw->seen == seen && wg_persist_now_ms() < end)
		wg_persist_poll(p, 5);
	CHECK(rw->seen > seen, "write of %" PRIu64 " v%" PRIu64 " not acknowledged", id, ver);
	return rw->last_status;
}

/* ---- mode: lock ---- */

static int
mode_lock(void)
{
	struct wg_persist *p = open_persist(true, false, NULL, NULL);
	struct lockres a, b;
	struct wg_redis_stats st;

	char L1[32], L2[32], LS[32];

	/* per-run names: the mode runs twice against one server (TCP, unix) */
	snprintf(L1, sizeof(L1), "unit:lock:%d", getpid());
	snprintf(L2, sizeof(L2), "unit:lock2:%d", getpid());
	snprintf(LS, sizeof(LS), "unit:short:%d", getpid());
	CHECK(wait_ready(p, 5000), "redis not ready");
	a = lock_call(p, 0, L1, "owner-a", 0, 5000);
	CHECK(a.err == 0 && a.token > 0, "A acquire: %d", a.err);
	/* re-entrant for the same owner: same token */
	b = lock_call(p, 0, L1, "owner-a", 0, 5000);
	CHECK(b.err == 0 && b.token == a.token, "A re-acquire token %" PRIu64, b.token);
	b = lock_call(p, 0, L1, "owner-b", 0, 5000);
	CHECK(b.err == -EBUSY && b.ttl > 0 && b.ttl <= 5000, "B acquire: %d ttl %u", b.err, b.ttl);
	b = lock_call(p, 1, L1, "owner-b", a.token, 5000);
	CHECK(b.err == -ENOLCK, "B renew with A's token must fail: %d", b.err);
	b = lock_call(p, 2, L1, "owner-b", a.token, 0);
	CHECK(b.err == -ENOLCK, "B release must fail: %d", b.err);
	b = lock_call(p, 2, L1, "owner-a", a.token + 1, 0);
	CHECK(b.err == -ENOLCK, "A release with a wrong token must fail: %d", b.err);
	b = lock_call(p, 1, L1, "owner-a", a.token, 5000);
	CHECK(b.err == 0, "A renew: %d", b.err);
	b = lock_call(p, 2, L1, "owner-a", a.token, 0);
	CHECK(b.err == 0, "A release: %d", b.err);
	b = lock_call(p, 0, L1, "owner-b", 0, 5000);
	CHECK(b.err == 0 && b.token > a.token, "B acquire after release: %d tok %" PRIu64,
	      b.err, b.token);
	/* expiry: a short lease lapses on its own */
	a = lock_call(p, 0, LS, "owner-a", 0, 100);
	CHECK(a.err == 0, "short acquire");
	usleep(250 * 1000);
	b = lock_call(p, 0, LS, "owner-b", 0, 1000);
	CHECK(b.err == 0 && b.token > a.token, "acquire after expiry: %d", b.err);
	b = lock_call(p, 1, LS, "owner-a", a.token, 1000);
	CHECK(b.err == -ENOLCK, "expired owner renew must fail: %d", b.err);

	/* scripts vanish (SCRIPT FLUSH, restart, failover): NOSCRIPT -> reload */
	struct reply r = { 0 };
	CHECK(wg_redis_cmdf(p->redis, L1, strlen(L1), on_reply, &r, "SCRIPT FLUSH") == 0, "flush");
	CHECK(run_until(p, &r.done, 5000) && r.err == 0, "script flush");
	wg_redis_stats(p->redis, &st);
	uint64_t ns = st.noscript;
	a = lock_call(p, 0, L2, "owner-a", 0, 5000);
	CHECK(a.err == 0, "acquire after SCRIPT FLUSH: %d", a.err);
	wg_redis_stats(p->redis, &st);
	CHECK(st.noscript == ns + 1, "expected one NOSCRIPT reload, saw %" PRIu64,
	      st.noscript - ns);
	/* our SHA1 names the script exactly as the server does */
	memset(&r, 0, sizeof(r));
	const struct wg_redis_script *s = wg_lock_script(WG_LOCK_S_RENEW);
	CHECK(wg_redis_cmdf(p->redis, L1, strlen(L1), on_reply, &r, "SCRIPT LOAD %s", s->body) == 0,
	      "load");
	CHECK(run_until(p, &r.done, 5000) && r.type == REDIS_REPLY_STRING, "script load");
	CHECK(strcmp(r.str, s->sha) == 0, "sha mismatch: server %s ours %s", r.str, s->sha);
	printf("lock ok: tokens monotonic, owner-only renew/release, expiry, NOSCRIPT reload, sha %s\n",
	       s->sha);
	wg_persist_destroy(p);
	return 0;
}

/* ---- modes: fence-a / fence-b (run by the script around SIGSTOP) ---- */

struct ownres {
	int done;
	int err;
	uint64_t token, version;
	uint32_t ttl;
	char data[256];
	size_t len;
};

static void
on_own(void *arg, int err, uint64_t token, uint32_t ttl, uint64_t version, const void *data,
       size_t len)
{
	struct ownres *o = arg;

	o->done = 1;
	o->err = err;
	o->token = token;
	o->ttl = ttl;
	o->version = version;
	o->len = len < sizeof(o->data) ? len : sizeof(o->data);
	if (data)
		memcpy(o->data, data, o->len);
}

/* Login: lease + claim + authoritative load + cache seed. */
static struct ownres
own(struct wg_persist *p, uint64_t id, uint32_t ttl)
{
	struct ownres o = { 0 };
	int rc = wg_own_acquire(p, opt.kind, id, opt.owner, ttl, on_own, &o);

	CHECK(rc == 0, "own: %s", strerror(-rc));
	CHECK(run_until(p, &o.done, 10000), "own timed out");
	return o;
}

struct cacheres {
	int done;
	int err;
};

static void
on_cache_done(void *arg, int err)
{
	struct cacheres *c = arg;

	c->done = 1;
	c->err = err;
}

/* Write-back mode: the cache copy first (set-if-newer under our token),
 * then the database. */
static int
write_both(struct wg_persist *p, struct rows *rw, uint64_t id, uint64_t ver, uint64_t token,
	   const char *data, uint32_t len)
{
	struct cacheres c = { 0 };

	CHECK(wg_cache_entity_put(p->cache, opt.kind, id, ver, token, data, len, on_cache_done,
				  &c) == 0, "cache put");
	CHECK(run_until(p, &c.done, 10000) && c.err == 0, "cache put: %d", c.err);
	return write_one(p, rw, opt.kind, id, ver, token, data, len);
}

static int
mode_fence_a(void)
{
	struct rows rw = { 0 };
	struct wg_persist *p = open_persist(true, true, on_row, &rw);
	struct ownres o;
	char data[64], res[64];
	uint64_t ver = 1;
	int st;

	CHECK(wait_ready(p, 10000), "not ready");
	o = own(p, 1, opt.ttl_ms);
	CHECK(o.err == 0, "A own: %d", o.err);
	wg_own_resource(opt.kind, 1, res, sizeof(res));
	printf("A token=%" PRIu64 "\n", o.token);
	/* bounded: the script pauses us within a few writes; if the fence
	 * never stops us we must say so rather than write forever */
	for (int iter = 0; iter < 60; iter++) {
		int n = snprintf(data, sizeof(data), "A v%" PRIu64, ver);

		st = write_both(p, &rw, 1, ver, o.token, data, (uint32_t)n);
		if (st == WG_WB_FENCED) {
			printf("A FENCED v=%" PRIu64 " token=%" PRIu64 "\n", ver, o.token);
			struct lockres r = lock_call(p, 1, res, opt.owner, o.token, opt.ttl_ms);
			printf("A renew=%s\n", r.err == -ENOLCK ? "LOST" : "kept");
			fflush(stdout);
			wg_persist_destroy(p);
			return r.err == -ENOLCK ? 3 : 1;
		}
		CHECK(st == WG_WB_APPLIED, "A write v%" PRIu64 " status %d", ver, st);
		printf("A applied v=%" PRIu64 "\n", ver);
		fflush(stdout);
		/* write first, renew after: a paused process resumes mid-step
		 * with a write it believes is covered by its lease */
		ver += 10;
		usleep(100 * 1000);
		(void)lock_call(p, 1, res, opt.owner, o.token, opt.ttl_ms);
	}
	printf("A NEVER FENCED after v=%" PRIu64 "\n", ver);
	fflush(stdout);
	wg_persist_destroy(p);
	return 4;
}

static int
mode_fence_b(void)
{
	struct rows rw = { 0 };
	struct wg_persist *p = open_persist(true, true, on_row, &rw);
	struct ownres o;
	char data[64];
	int st, n;

	CHECK(wait_ready(p, 10000), "not ready");
	o = own(p, 1, opt.ttl_ms * 10);
	CHECK(o.err == 0, "B own (A's lease should have expired): %d ttl %u", o.err, o.ttl);
	/* the load is PostgreSQL's row: A's last applied write */
	n = snprintf(data, sizeof(data), "A v%" PRIu64, o.version);
	CHECK(o.version > 0 && o.len == (size_t)n && memcmp(o.data, data, o.len) == 0,
	      "B loaded v%" PRIu64 " '%.*s'", o.version, (int)o.len, o.data);
	n = snprintf(data, sizeof(data), "B v%" PRIu64, o.version + 1);
	st = write_both(p, &rw, 1, o.version + 1, o.token, data, (uint32_t)n);
	CHECK(st == WG_WB_APPLIED, "B write status %d", st);
	printf("B token=%" PRIu64 " applied v=%" PRIu64 "\n", o.token, o.version + 1);
	/* a second owner is refused while B holds the lease */
	opt.owner = "C";
	o = own(p, 1, 1000);
	CHECK(o.err == -EBUSY && o.ttl > 0, "C own while B holds it: %d", o.err);
	wg_persist_destroy(p);
	return 0;
}

/* ---- mode: writer (crash test) ---- */

struct writer {
	uint64_t *count;              /* issued version per entity */
	uint64_t *acked;
	uint64_t acked_sum;
};

static void
on_writer_row(void *arg, const struct wg_wb_result *r)
{
	struct writer *w = arg;
	uint64_t i = r->id;

	if (r->status == WG_WB_FENCED || r->status == WG_WB_FAILED)
		FAIL("row %" PRIu64 " v%" PRIu64 " status %d", r->id, r->version, r->status);
	if (r->status == WG_WB_APPLIED && i < opt.entities && r->version > w->acked[i]) {
		w->acked_sum += r->version - w->acked[i];
		w->acked[i] = r->version;
	}
}

static int
fill_row(char *buf, uint64_t id, uint64_t count)
{
	/* ~200 bytes like a small player blob; the count is readable in SQL */
	int n = snprintf(buf, 256, "count=%" PRIu64 ";id=%" PRIu64 ";", count, id);

	memset(buf + n, 'x', (size_t)(200 - n));
	return 200;
}

struct load_all {
	int done;
	uint32_t left;
	uint64_t *count;
};

static void
on_load_all(void *arg, int err, uint64_t version, uint64_t fence, const void *data,
	    size_t len)
{
	struct load_all *la = arg;
	static uint32_t idx;
	(void)fence;

	/* loads complete in submission order (one pipeline) */
	if (err == 0) {
		char expect[256];

		fill_row(expect, idx, version);
		if (len != 200 || memcmp(expect, data, 200) != 0)
			FAIL("entity %u: data does not match version %" PRIu64, idx, version);
		la->count[idx] = version;
	} else if (err != -ENOENT) {
		FAIL("load %u: %d", idx, err);
	}
	idx++;
	if (--la->left == 0)
		la->done = 1;
}

static int
mode_writer(void)
{
	struct writer w = { 0 };
	struct wg_persist *p;
	struct wg_wb_stats ws;
	struct wg_pg_stats ps;
	uint64_t issued = 0, base = 0, end, cuts_seen = 0, acked_cut = 0, load_batches = 0;
	uint64_t *cut_issued;
	uint32_t max_queued = 0;
	char buf[256];

	opt.kind = 11;
	w.count = calloc(opt.entities, sizeof(uint64_t));
	w.acked = calloc(opt.entities, sizeof(uint64_t));
	cut_issued = calloc(1u << 20, sizeof(uint64_t));
	CHECK(w.count && w.acked && cut_issued, "oom");
	p = open_persist(false, true, on_writer_row, &w);
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(wait_ready(p, 10000), "pg not ready");
	if (opt.load) {
		struct load_all la = { 0, opt.entities, w.count };

		for (uint32_t i = 0; i < opt.entities; i++) {
			int rc;

			while ((rc = wg_entity_load(p->pg, opt.kind, i, on_load_all, &la)) == -EAGAIN)
				wg_persist_poll(p, 1);
			CHECK(rc == 0, "load submit: %s", strerror(-rc));
		}
		CHECK(run_until(p, &la.done, 30000), "loading timed out");
		for (uint32_t i = 0; i < opt.entities; i++) {
			base += w.count[i];
			w.acked[i] = w.count[i];
		}
		w.acked_sum = base;
		wg_pg_stats(p->pg, &ps);
		load_batches = ps.batches_done;
	}
	printf("START base=%" PRIu64 "\n", base);
	end = wg_persist_now_ms() + opt.run_ms;
	srand((unsigned int)getpid());
	while (wg_persist_now_ms() < end) {
		/* one tick: a burst of grants, then the persistence step */
		for (uint32_t g = 0; g < opt.grants; g++) {
			uint32_t i = (uint32_t)rand() % opt.entities;
			int rc;

			fill_row(buf, i, w.count[i] + 1);
			rc = wg_wb_put(p->wb, opt.kind, i, w.count[i] + 1, 1, buf, 200);
			if (rc == -EAGAIN)
				break;        /* backpressure: grant later */
			CHECK(rc == 0, "put: %s", strerror(-rc));
			w.count[i]++;
			issued++;
		}
		/* before the poll that may cut them: a kill -9 at any point
		 * leaves PostgreSQL with at most the last count printed here */
		printf("ISSUED %" PRIu64 "\n", base + issued);
		int rc = wg_persist_poll(p, 1);
		CHECK(rc >= 0, "poll %d", rc);
		wg_wb_stats(p->wb, &ws);
		/* the poll cuts first thing, so a cut holds every grant issued so far */
		while (cuts_seen < ws.cuts) {
			cuts_seen++;
			cut_issued[cuts_seen & ((1u << 20) - 1)] = issued;
			printf("CUT %" PRIu64 " issued=%" PRIu64 "\n", cuts_seen, base + issued);
		}
		wg_pg_stats(p->pg, &ps);
		if (ps.queued + ps.inflight > max_queued)
			max_queued = ps.queued + ps.inflight;
		while (acked_cut < ps.batches_done - load_batches && acked_cut < cuts_seen) {
			acked_cut++;
			printf("ACKED %" PRIu64 " durable=%" PRIu64 " acked_sum=%" PRIu64 "\n", acked_cut,
			       base + cut_issued[acked_cut & ((1u << 20) - 1)], w.acked_sum);
		}
	}
	CHECK(wg_persist_drain(p, 30000) == 0, "drain timed out");
	CHECK(w.acked_sum == base + issued, "after drain acked %" PRIu64 " != issued %" PRIu64,
	      w.acked_sum, base + issued);
	wg_wb_stats(p->wb, &ws);
	wg_pg_stats(p->pg, &ps);
	printf("DONE base=%" PRIu64 " issued=%" PRIu64 " total=%" PRIu64 " cuts=%" PRIu64
	       " stale=%" PRIu64 " replayed=%" PRIu64 " eagain=%" PRIu64 " sink_busy=%" PRIu64
	       " conn_lost=%" PRIu64 " max_queued=%u\n",
	       base, issued, base + issued, ws.cuts, ws.stale, ps.batches_replayed, ws.eagain,
	       ws.sink_busy, ps.conn_lost, max_queued);
	wg_persist_destroy(p);
	free(w.count);
	free(w.acked);
	free(cut_issued);
	return 0;
}

/* ---- mode: pgkill (backend killed with batches in flight) ---- */

static int
mode_pgkill(void)
{
	struct writer w = { 0 };
	struct wg_persist *p;
	struct wg_pg_stats ps;
	PGconn *admin;
	char buf[256];
	uint32_t kills = 0;
	uint64_t issued = 0;
	int last_pid = 0;

	w.count = calloc(opt.entities, sizeof(uint64_t));
	w.acked = calloc(opt.entities, sizeof(uint64_t));
	CHECK(w.count && w.acked, "oom");
	p = open_persist(false, true, on_writer_row, &w);
	admin = PQconnectdb(opt.pg);
	CHECK(PQstatus(admin) == CONNECTION_OK, "admin connect: %s", PQerrorMessage(admin));
	PQclear(PQexec(admin, "DELETE FROM wg_entity WHERE kind = 8"));
	CHECK(wait_ready(p, 10000), "pg not ready");
	opt.kind = 8;
	while (kills < 3) {
		for (uint32_t g = 0; g < 2000; g++) {
			uint32_t i = (uint32_t)rand() % opt.entities;

			fill_row(buf, i, w.count[i] + 1);
			if (wg_wb_put(p->wb, 8, i, w.count[i] + 1, 1, buf, 200) != 0)
				break;
			w.count[i]++;
			issued++;
		}
		CHECK(wg_wb_flush(p->wb, wg_persist_now_ms()) >= 0, "flush");
		wg_pg_stats(p->pg, &ps);
		int pid = wg_pg_backend_pid(p->pg);
		/* kill while batches are on the wire: their commits may or may
		 * not have happened; replay must sort it out */
		if (pid && pid != last_pid && ps.inflight > 0) {
			char q[64];
			PGresult *r;

			snprintf(q, sizeof(q), "SELECT pg_terminate_backend(%d)", pid);
			r = PQexec(admin, q);
			CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "terminate: %s",
			      PQerrorMessage(admin));
			PQclear(r);
			kills++;
			last_pid = pid;
			printf("killed backend %d with %u batches in flight\n", pid, ps.inflight);
		}
		for (int t = 0; t < 3; t++)
			wg_persist_poll(p, 1);
	}
	CHECK(wg_persist_drain(p, 30000) == 0, "drain timed out");
	wg_pg_stats(p->pg, &ps);
	CHECK(ps.conn_lost >= 3, "expected 3 lost connections, saw %" PRIu64, ps.conn_lost);
	CHECK(ps.batches_replayed >= 1, "no batch was replayed");
	CHECK(w.acked_sum == issued, "acked %" PRIu64 " != issued %" PRIu64, w.acked_sum, issued);
	/* the database holds exactly the final state of every entity */
	PGresult *r = PQexec(admin, "SELECT id, version, data FROM wg_entity WHERE kind = 8 ORDER BY id");
	CHECK(PQresultStatus(r) == PGRES_TUPLES_OK, "select");
	uint32_t rows = 0;
	for (int t = 0; t < PQntuples(r); t++) {
		uint64_t id = strtoull(PQgetvalue(r, t, 0), NULL, 10);
		uint64_t ver = strtoull(PQgetvalue(r, t, 1), NULL, 10);
		size_t len;
		unsigned char *d = PQunescapeBytea((const unsigned char *)PQgetvalue(r, t, 2), &len);

		CHECK(id < opt.entities && ver == w.count[id], "entity %" PRIu64 " version %" PRIu64
		      " expected %" PRIu64, id, ver, id < opt.entities ? w.count[id] : 0);
		fill_row(buf, id, ver);
		CHECK(len == 200 && memcmp(d, buf, 200) == 0, "entity %" PRIu64 " data", id);
		PQfreemem(d);
		rows++;
	}
	for (uint32_t i = 0; i < opt.entities; i++)
		rows -= w.count[i] > 0;
	CHECK(rows == 0, "row count mismatch");
	PQclear(r);
	wg_wb_stats(p->wb, &(struct wg_wb_stats){ 0 });
	printf("pgkill ok: %u kills, %" PRIu64 " reconnects, %" PRIu64 " batches replayed, "
	       "%" PRIu64 " rows issued, final state exact\n", kills, ps.conn_lost,
	       ps.batches_replayed, issued);
	PQfinish(admin);
	wg_persist_destroy(p);
	free(w.count);
	free(w.acked);
	return 0;
}

/* ---- mode: cache (semantics + hostile inputs) ---- */

struct pgres {
	int done;
	int err;
	int ntuples;
	char sqlstate[6];
};

static void
on_pgres(void *arg, struct wg_pg_batch *b, int err)
{
	struct pgres *x = arg;
	const char *st = NULL;
	PGresult *res;

	x->done = 1;
	x->err = err;
	if (err) {
		wg_pg_batch_error(b, &st);
		snprintf(x->sqlstate, sizeof(x->sqlstate), "%s", st ? st : "");
		return;
	}
	res = wg_pg_batch_result(b, wg_pg_batch_count(b) - 1);
	x->ntuples = res ? PQntuples(res) : -1;
}

static int
mode_cache(void)
{
	struct rows rw = { 0 };
	struct wg_persist *p = open_persist(true, true, on_row, &rw);
	struct reply r = { 0 };
	struct loadres l;
	static char big[WG_ENTITY_MAX_DATA + 2];
	int rc;

	CHECK(wait_ready(p, 10000), "not ready");
	/* plain values: set, get, TTL expiry, delete */
	struct { int done; int err; } d = { 0 };
	(void)d;
	CHECK(wg_cache_set(p->cache, "c:k1", 4, "v\0one", 5, 0, NULL, NULL) == 0, "set");
	CHECK(wg_cache_set(p->cache, "c:short", 7, "s", 1, 100, NULL, NULL) == 0, "set");
	struct reply g = { 0 };
	CHECK(wg_redis_cmdf(p->redis, "c:k1", 4, on_reply, &g, "GET c:k1") == 0, "get");
	CHECK(run_until(p, &g.done, 5000) && g.len == 5 && memcmp(g.str, "v\0one", 5) == 0,
	      "binary value round trip");
	usleep(200 * 1000);
	memset(&g, 0, sizeof(g));
	CHECK(wg_redis_cmdf(p->redis, "c:short", 7, on_reply, &g, "GET c:short") == 0, "get");
	CHECK(run_until(p, &g.done, 5000) && g.type == REDIS_REPLY_NIL, "TTL expiry");
	CHECK(wg_cache_del(p->cache, "c:k1", 4, NULL, NULL) == 0, "del");
	memset(&g, 0, sizeof(g));
	CHECK(wg_redis_cmdf(p->redis, "c:k1", 4, on_reply, &g, "EXISTS c:k1") == 0, "exists");
	CHECK(run_until(p, &g.done, 5000) && g.integer == 0, "invalidation");

	/* versioned entity copies: an older version never replaces a newer one */
	CHECK(wg_cache_entity_put(p->cache, 9, 1, 5, 1, "five", 4, NULL, NULL) == 0, "put");
	CHECK(wg_cache_entity_put(p->cache, 9, 1, 3, 1, "three", 5, NULL, NULL) == 0, "put");
	memset(&l, 0, sizeof(l));
	CHECK(wg_cache_entity_load(p->cache, 9, 1, on_load, &l) == 0, "load");
	CHECK(run_until(p, &l.done, 5000) && l.err == 0 && l.src == WG_CACHE_FROM_REDIS &&
	      l.version == 5 && l.len == 4 && memcmp(l.data, "five", 4) == 0,
	      "cached entity: err %d src %d v%" PRIu64, l.err, l.src, l.version);

	/* a newer lease holder's copy wins whatever the versions: (fence, version) */
	CHECK(wg_cache_entity_put(p->cache, 9, 5, 50, 1, "old owner", 9, NULL, NULL) == 0, "put");
	CHECK(wg_cache_entity_put(p->cache, 9, 5, 3, 2, "new owner", 9, NULL, NULL) == 0, "put");
	CHECK(wg_cache_entity_put(p->cache, 9, 5, 99, 1, "late write", 10, NULL, NULL) == 0, "put");
	CHECK(wg_cache_entity_put(p->cache, 9, 5, 2, 2, "older", 5, NULL, NULL) == 0, "put");
	memset(&l, 0, sizeof(l));
	CHECK(wg_cache_entity_load(p->cache, 9, 5, on_load, &l) == 0, "load");
	CHECK(run_until(p, &l.done, 5000) && l.err == 0 && l.src == WG_CACHE_FROM_REDIS &&
	      l.version == 3 && l.fence == 2 && l.len == 9 && memcmp(l.data, "new owner", 9) == 0,
	      "fenced cache copy: v%" PRIu64 " f%" PRIu64 " '%.*s'", l.version, l.fence,
	      (int)l.len, l.data);

	/* load path: miss -> PostgreSQL -> refill -> hit */
	static const char hostile[] = "'); DROP TABLE wg_entity; --\xff\xfe\xc3\x28\0tail";
	CHECK(write_one(p, &rw, 9, 2, 7, 1, hostile, sizeof(hostile)) == WG_WB_APPLIED,
	      "write hostile bytes");
	CHECK(wg_cache_entity_invalidate(p->cache, 9, 2, NULL, NULL) == 0, "invalidate");
	memset(&l, 0, sizeof(l));
	CHECK(wg_cache_entity_load(p->cache, 9, 2, on_load, &l) == 0, "load");
	CHECK(run_until(p, &l.done, 5000) && l.err == 0 && l.src == WG_CACHE_FROM_PG &&
	      l.version == 7 && l.len == sizeof(hostile) && memcmp(l.data, hostile, l.len) == 0,
	      "load from pg: err %d src %d len %zu", l.err, l.src, l.len);
	/* the refill is in flight behind us on the same key's connection */
	memset(&l, 0, sizeof(l));
	CHECK(wg_cache_entity_load(p->cache, 9, 2, on_load, &l) == 0, "load");
	CHECK(run_until(p, &l.done, 5000) && l.err == 0 && l.src == WG_CACHE_FROM_REDIS &&
	      l.len == sizeof(hostile) && memcmp(l.data, hostile, l.len) == 0,
	      "refilled copy: err %d src %d", l.err, l.src);
	memset(&l, 0, sizeof(l));
	CHECK(wg_cache_entity_load(p->cache, 9, 999, on_load, &l) == 0, "load");
	CHECK(run_until(p, &l.done, 5000) && l.err == -ENOENT, "missing entity: %d", l.err);

	/* replay of an older version is reported stale, not applied */
	CHECK(write_one(p, &rw, 9, 2, 6, 1, "old", 3) == WG_WB_STALE, "stale write");
	CHECK(write_one(p, &rw, 9, 2, 7, 1, "same", 4) == WG_WB_STALE, "duplicate write");
	struct loadres *pl = load_pg(p, 9, 2);
	CHECK(pl->version == 7 && pl->len == sizeof(hostile), "stale write changed the row");

	/* oversized values are refused up front, never truncated */
	rc = wg_wb_put(p->wb, 9, 3, 1, 1, big, 4097);
	CHECK(rc == -EMSGSIZE, "oversized put: %d", rc);
	rc = wg_cache_entity_put(p->cache, 9, 3, 1, 1, big, sizeof(big), NULL, NULL);
	CHECK(rc == -EINVAL, "oversized cache put: %d", rc);
	/* table still there, nothing else touched */
	pl = load_pg(p, 9, 2);
	CHECK(pl->err == 0, "table gone?");

	/* a failing statement mid-batch: the whole batch is refused (nothing
	 * of it applied), the pipeline recovers for the batches behind it */
	static const char *const bad_vals[2] = { "9", "not-a-number" };
	static const char *const good_vals[5] = { "9", "4", "1", "1", "\\x6f6b" };
	struct pgres e1 = { 0 }, e2 = { 0 };
	struct wg_pg_batch *b1 = wg_pg_batch_new(on_pgres, &e1), *b2 = wg_pg_batch_new(on_pgres, &e2);
	CHECK(b1 && b2, "batch");
	CHECK(wg_pg_batch_add(b1, wg_entity_upsert_stmt(1), 5, good_vals, NULL, NULL) == 0, "add");
	CHECK(wg_pg_batch_add(b1, "wg_load", 2, bad_vals, NULL, NULL) == 0, "add");
	CHECK(wg_pg_batch_add(b1, "wg_load", 2, bad_vals, NULL, NULL) == 0, "add");
	CHECK(wg_pg_batch_add(b2, "wg_load", 2, good_vals, NULL, NULL) == 0, "add");
	CHECK(wg_pg_submit(p->pg, b1) == 0 && wg_pg_submit(p->pg, b2) == 0, "submit");
	CHECK(run_until(p, &e2.done, 10000) && e1.done, "batches after an error");
	CHECK(e1.err == -EPROTO && strcmp(e1.sqlstate, "22P02") == 0, "bad batch: %d %s", e1.err,
	      e1.sqlstate);
	CHECK(e2.err == 0 && e2.ntuples == 0, "batch behind the error: %d %d", e2.err, e2.ntuples);
	pl = load_pg(p, 9, 4);
	CHECK(pl->err == -ENOENT, "the refused batch's upsert was applied: %d", pl->err);
	(void)r;
	printf("cache ok: TTL, invalidation, versioned copies, redis->pg fallback and refill, "
	       "hostile bytes exact, stale/duplicate writes rejected, oversize refused, "
	       "failed batch atomic and the pipeline recovered\n");
	wg_persist_destroy(p);
	return 0;
}

/* ---- mode: redis-restart ---- */

static int
mode_redis_restart(void)
{
	struct wg_persist *p = open_persist(true, false, NULL, NULL);
	struct wg_redis_stats st;
	uint32_t ok_after = 0, errs = 0, i = 0;
	bool restarted = false;

	CHECK(wait_ready(p, 5000), "not ready");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("PHASE1\n");
	while (ok_after < 500) {
		struct reply s = { 0 }, g = { 0 };
		char key[32], val[32];
		int rc;

		snprintf(key, sizeof(key), "rr:%u", i % 100);
		snprintf(val, sizeof(val), "%u", i);
		rc = wg_redis_cmdf(p->redis, key, strlen(key), on_reply, &s, "SET %s %s", key, val);
		CHECK(rc == 0, "set submit: %d", rc);
		rc = wg_redis_cmdf(p->redis, key, strlen(key), on_reply, &g, "GET %s", key);
		CHECK(rc == 0, "get submit: %d", rc);
		CHECK(run_until(p, &g.done, 20000), "GET never completed (no reconnect?)");
		if (!restarted && access(opt.flag_file, F_OK) == 0)
			restarted = true;
		if (s.err || g.err) {
			/* in flight when the server went away: allowed, counted */
			CHECK(s.err == -ECONNRESET || g.err == -ECONNRESET, "err %d/%d", s.err, g.err);
			errs++;
		} else {
			CHECK(g.type == REDIS_REPLY_STRING && strcmp(g.str, val) == 0,
			      "GET %s = %s, expected %s", key, g.str, val);
			if (restarted)
				ok_after++;
		}
		i++;
		if (!restarted)
			usleep(2000);
	}
	wg_redis_stats(p->redis, &st);
	CHECK(st.disconnects >= 1 && st.connects >= 2, "disconnects %" PRIu64 " connects %" PRIu64,
	      st.disconnects, st.connects);
	printf("redis-restart ok: %u ops, %u failed in flight, %" PRIu64 " disconnects, "
	       "%" PRIu64 " connects, 500 verified ops after restart\n", i, errs, st.disconnects,
	       st.connects);
	wg_persist_destroy(p);
	return 0;
}

/* ---- mode: cluster (spread, live slot migration: ASK then MOVED) ---- */

static redisContext *
node_ctx(const struct wg_redis_addr *a)
{
	redisContext *c = redisConnect(a->host, a->port);

	CHECK(c && !c->err, "connect %s:%u", a->host, a->port);
	return c;
}

static redisReply *
sync_cmd(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	redisReply *r;

	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	CHECK(r && r->type != REDIS_REPLY_ERROR, "%s: %s", fmt, r ? r->str : c->errstr);
	return r;
}

static void
node_id(redisContext *c, char *out)
{
	redisReply *r = sync_cmd(c, "CLUSTER MYID");

	snprintf(out, 64, "%s", r->str);
	freeReplyObject(r);
}

static void
get_check(struct wg_persist *p, const char *key, const char *expect)
{
	struct reply g = { 0 };

	CHECK(wg_redis_cmdf(p->redis, key, strlen(key), on_reply, &g, "GET %s", key) == 0, "get");
	CHECK(run_until(p, &g.done, 5000) && g.err == 0, "GET %s: err %d", key, g.err);
	CHECK(g.type == REDIS_REPLY_STRING && strcmp(g.str, expect) == 0,
	      "GET %s = '%s' (type %d), expected %s", key, g.str, g.type, expect);
}

static int
mode_cluster(void)
{
	struct wg_persist *p;
	const struct wg_redis_slotmap *m;
	struct wg_redis_stats st;
	uint32_t per_node[WG_REDIS_MAX_NODES] = { 0 };
	char key[64], val[64];
	int pending = 0;

	opt.cluster = true;
	p = open_persist(true, false, NULL, NULL);
	CHECK(wait_ready(p, 10000), "cluster not ready");
	m = wg_redis_map(p->redis);
	CHECK(m->n_nodes == 3, "expected 3 masters, map has %u", m->n_nodes);
	for (unsigned int s = 0; s < WG_REDIS_SLOTS; s++)
		CHECK(m->owner[s] != WG_REDIS_NO_NODE, "slot %u unowned", s);

	/* spread: 3000 keys pipelined, then read back */
	static struct reply sets[3000];
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "k:%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		per_node[m->owner[wg_redis_key_slot(key, strlen(key))]]++;
		CHECK(wg_redis_cmdf(p->redis, key, strlen(key), on_reply, &sets[i], "SET %s %s",
				    key, val) == 0, "set");
	}
	for (int i = 0; i < 3000; i++) {
		CHECK(run_until(p, &sets[i].done, 5000), "SET %d timed out", i);
		CHECK(sets[i].err == 0 && sets[i].type == REDIS_REPLY_STATUS, "SET %d failed", i);
	}
	uint32_t total = 0;
	for (unsigned int n = 0; n < 3; n++) {
		redisContext *c = node_ctx(&m->node[n]);
		redisReply *r = sync_cmd(c, "DBSIZE");

		CHECK(per_node[n] > 500, "node %u got only %u keys", n, per_node[n]);
		CHECK((uint32_t)r->integer == per_node[n], "node %u holds %lld keys, routed %u", n,
		      r->integer, per_node[n]);
		total += (uint32_t)r->integer;
		freeReplyObject(r);
		redisFree(c);
	}
	CHECK(total == 3000, "keys on nodes %u", total);
	wg_redis_stats(p->redis, &st);
	CHECK(st.moved == 0 && st.ask == 0, "redirects with a fresh map: %" PRIu64 "/%" PRIu64,
	      st.moved, st.ask);
	printf("cluster spread: %u/%u/%u keys on the three masters, no redirects\n",
	       per_node[0], per_node[1], per_node[2]);

	/* live migration of one slot */
	uint16_t slot = wg_redis_key_slot("{mig}", 5);
	uint16_t src = m->owner[slot], dst = (uint16_t)((src + 1) % 3);
	struct wg_redis_addr sa = m->node[src], da = m->node[dst];
	redisContext *cs = node_ctx(&sa), *cd = node_ctx(&da);
	char sid[64], did[64];
	node_id(cs, sid);
	node_id(cd, did);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "{mig}:%d", i);
		snprintf(val, sizeof(val), "m%d", i);
		freeReplyObject(sync_cmd(cs, "SET %s %s", key, val));
	}
	freeReplyObject(sync_cmd(cd, "CLUSTER SETSLOT %u IMPORTING %s", slot, sid));
	freeReplyObject(sync_cmd(cs, "CLUSTER SETSLOT %u MIGRATING %s", slot, did));
	for (int i = 0; i < 50; i++) {
		redisReply *r;

		snprintf(key, sizeof(key), "{mig}:%d", i);
		r = sync_cmd(cs, "MIGRATE %s %u %s 0 5000", da.host, da.port, key);
		freeReplyObject(r);
	}
	wg_redis_stats(p->redis, &st);
	uint64_t ask0 = st.ask, moved0 = st.moved;
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "{mig}:%d", i);
		snprintf(val, sizeof(val), "m%d", i);
		get_check(p, key, val);
	}
	/* a new key in a migrating slot is created on the importing node */
	struct reply s = { 0 };
	CHECK(wg_redis_cmdf(p->redis, "{mig}:new", 9, on_reply, &s, "SET {mig}:new fresh") == 0, "set");
	CHECK(run_until(p, &s.done, 5000) && s.err == 0 && s.type == REDIS_REPLY_STATUS,
	      "SET during migration: %d %s", s.err, s.str);
	wg_redis_stats(p->redis, &st);
	CHECK(st.ask - ask0 == 51, "expected 51 ASK redirects (50 moved keys + new key), saw %" PRIu64,
	      st.ask - ask0);
	CHECK(st.moved == moved0, "MOVED during migration: %" PRIu64, st.moved - moved0);
	CHECK(m->owner[slot] == src, "ASK must not change the map");
	printf("cluster migrating: %" PRIu64 " ASK redirects followed, values exact\n", st.ask - ask0);

	/* finish: move the rest, hand the slot over everywhere */
	for (int i = 50; i < 100; i++) {
		snprintf(key, sizeof(key), "{mig}:%d", i);
		freeReplyObject(sync_cmd(cs, "MIGRATE %s %u %s 0 5000", da.host, da.port, key));
	}
	for (unsigned int n = 0; n < 3; n++) {
		redisContext *c = node_ctx(&m->node[n]);

		freeReplyObject(sync_cmd(c, "CLUSTER SETSLOT %u NODE %s", slot, did));
		redisFree(c);
	}
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "{mig}:%d", i);
		snprintf(val, sizeof(val), "m%d", i);
		get_check(p, key, val);
	}
	get_check(p, "{mig}:new", "fresh");
	wg_redis_stats(p->redis, &st);
	CHECK(st.moved > moved0, "no MOVED after the slot changed hands");
	CHECK(m->owner[slot] == dst, "map not updated by MOVED: owner %u, expected %u",
	      m->owner[slot], dst);
	uint64_t moved1 = st.moved;
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "{mig}:%d", i);
		snprintf(val, sizeof(val), "m%d", i);
		get_check(p, key, val);
	}
	wg_redis_stats(p->redis, &st);
	CHECK(st.moved == moved1, "MOVED again after the map update");
	printf("cluster moved: %" PRIu64 " MOVED then none, slot %u now on node %u\n",
	       moved1 - moved0, slot, dst);

	/* fenced locks in cluster mode (both keys share the hash tag) */
	struct lockres a = lock_call(p, 0, "player:77", "owner-a", 0, 5000);
	CHECK(a.err == 0 && a.token > 0, "cluster lock acquire %d", a.err);
	struct lockres b = lock_call(p, 0, "player:77", "owner-b", 0, 5000);
	CHECK(b.err == -EBUSY, "cluster lock contention %d", b.err);
	b = lock_call(p, 2, "player:77", "owner-a", a.token, 0);
	CHECK(b.err == 0, "cluster lock release %d", b.err);
	printf("cluster locks ok (token %" PRIu64 ")\n", a.token);
	redisFree(cs);
	redisFree(cd);
	(void)pending;
	wg_persist_destroy(p);
	return 0;
}


/* ---- benchmarks (tests/integration/test_persist_bench.sh) ---- */

static double
secs_since(uint64_t t0)
{
	return (double)(wg_persist_now_ms() - t0) / 1000.0;
}

/* CPU seconds this process used (the machine is shared: wall-clock rates
 * move with the load, CPU cost per operation much less). */
static double
cpu_secs(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Row-at-a-time baseline: one synchronous versioned upsert per commit. */
static double
bench_pg_sync(PGconn *c, uint32_t n, uint64_t ver)
{
	char buf[256], k[24], i[24], v[24];
	const char *vals[4] = { k, i, v, buf };
	int lens[4] = { 0, 0, 0, 200 }, fmts[4] = { 0, 0, 0, 1 };
	uint64_t t0 = wg_persist_now_ms();

	snprintf(k, sizeof(k), "%u", opt.kind);
	snprintf(v, sizeof(v), "%" PRIu64, ver);
	for (uint32_t id = 0; id < n; id++) {
		PGresult *r;

		snprintf(i, sizeof(i), "%u", id);
		fill_row(buf, id, ver);
		r = PQexecParams(c, "INSERT INTO wg_entity (kind, id, version, fence, data) "
				 "VALUES ($1, $2, $3, 0, $4) ON CONFLICT (kind, id) DO UPDATE "
				 "SET version = EXCLUDED.version, data = EXCLUDED.data "
				 "WHERE wg_entity.version < EXCLUDED.version",
				 4, NULL, vals, lens, fmts, 0);
		CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "sync insert: %s",
		      PQerrorMessage(c));
		PQclear(r);
	}
	return n / secs_since(t0);
}

static int
mode_bench_pg(void)
{
	struct writer w = { 0 };
	struct wg_persist_conf c = { 0 };
	struct wg_persist *p;
	struct wg_wb_stats ws;
	PGconn *admin;
	char buf[256];
	uint32_t n = opt.rows, sync_n = n / 100 < 2000 ? 2000 : n / 100;
	uint64_t t0, puts = 0;
	double sync_rate, wb_rate, co_rate;
	PGresult *r;

	opt.kind = 21;
	opt.entities = n;
	w.count = calloc(n, sizeof(uint64_t));
	w.acked = calloc(n, sizeof(uint64_t));
	CHECK(w.count && w.acked, "oom");
	c.use_pg = true;
	c.pg.conninfo = opt.pg;
	c.pg.max_inflight = 4;
	c.pg.max_queued = 8;
	c.wb.flush_ms = opt.interval_ms;
	c.wb.flush_rows = 4096;
	c.wb.max_dirty = 16384;
	c.wb.max_inflight_rows = 65536;
	c.wb.max_data = 256;
	c.row_cb = on_writer_row;
	c.row_arg = &w;
	p = wg_persist_create(&c);
	CHECK(p, "create: %s", strerror(errno));
	CHECK(wait_ready(p, 10000), "pg not ready");
	admin = PQconnectdb(opt.pg);
	CHECK(PQstatus(admin) == CONNECTION_OK, "admin: %s", PQerrorMessage(admin));
	PQclear(PQexec(admin, "DELETE FROM wg_entity WHERE kind = 21"));

	/* baseline: row-at-a-time synchronous upserts (fresh rows) */
	sync_rate = bench_pg_sync(admin, sync_n, 1);
	PQclear(PQexec(admin, "DELETE FROM wg_entity WHERE kind = 21"));
	PQclear(PQexec(admin, "VACUUM wg_entity"));

	/* ours: n fresh rows through the write-back, pipelined batches */
	t0 = wg_persist_now_ms();
	for (uint32_t id = 0; id < n;) {
		int rc;

		fill_row(buf, id, 1);
		rc = wg_wb_put(p->wb, opt.kind, id, 1, 0, buf, 200);
		if (rc == -EAGAIN) {
			CHECK(wg_persist_poll(p, 0) >= 0, "poll");
			continue;
		}
		CHECK(rc == 0, "put %d", rc);
		w.count[id] = 1;
		id++;
	}
	CHECK(wg_persist_drain(p, 120000) == 0, "drain");
	wb_rate = n / secs_since(t0);
	CHECK(w.acked_sum == n, "acked %" PRIu64 " of %u", w.acked_sum, n);
	r = PQexec(admin, "SELECT count(*) FROM wg_entity WHERE kind = 21 AND version = 1");
	CHECK(PQresultStatus(r) == PGRES_TUPLES_OK &&
	      strtoul(PQgetvalue(r, 0, 0), NULL, 10) == n, "rows in PG");
	PQclear(r);

	/* coalescing: many updates to few entities between flushes */
	uint32_t hot = 10000;
	uint64_t before = w.acked_sum;
	wg_wb_stats(p->wb, &ws);
	uint64_t rows0 = ws.rows_cut;
	t0 = wg_persist_now_ms();
	double cpu0 = cpu_secs();
	while (puts < (uint64_t)n * 20) {
		for (int k = 0; k < 1000; k++) {
			uint32_t id = (uint32_t)(puts * 2654435761u) % hot;
			int rc;

			/* a small change per update: the header of the blob */
			fill_row(buf, id, w.count[id] + 1);
			rc = wg_wb_put(p->wb, opt.kind, id, w.count[id] + 1, 0, buf, 200);
			if (rc == -EAGAIN)
				break;
			CHECK(rc == 0, "put %d", rc);
			w.count[id]++;
			puts++;
		}
		CHECK(wg_persist_poll(p, 0) >= 0, "poll");
	}
	CHECK(wg_persist_drain(p, 60000) == 0, "drain");
	co_rate = (double)puts / secs_since(t0);
	double co_cpu = cpu_secs() - cpu0;
	wg_wb_stats(p->wb, &ws);
	CHECK(w.acked_sum - before == puts, "coalesced acked %" PRIu64 " of %" PRIu64,
	      w.acked_sum - before, puts);
	printf("BENCH pg_sync_rows_per_s=%.0f rows=%u\n", sync_rate, sync_n);
	printf("BENCH pg_writeback_rows_per_s=%.0f rows=%u ratio_vs_sync=%.1f\n", wb_rate, n,
	       wb_rate / sync_rate);
	printf("BENCH wb_coalesced_updates_per_s=%.0f updates=%" PRIu64 " rows_written=%" PRIu64
	       " entities=%u updates_per_cpu_s=%.0f\n", co_rate, puts, ws.rows_cut - rows0, hot,
	       (double)puts / co_cpu);
	PQfinish(admin);
	wg_persist_destroy(p);
	free(w.count);
	free(w.acked);
	return 0;
}

struct lockbench {
	struct wg_persist *p;
	uint32_t left;                /* acquisitions still to start */
	uint64_t ops;
	int done;
	char owner[32];
};

struct lockslot {
	struct lockbench *b;
	uint32_t res;
	uint64_t token;
};

static void on_bench_acquire(void *arg, int err, uint64_t token, uint32_t ttl);
static void on_bench_release(void *arg, int err, uint64_t token, uint32_t ttl);

static void
bench_lock_next(struct lockslot *s)
{
	char res[32];

	if (s->b->left == 0) {
		if (--s->b->done == 0)
			s->b->done = -1;
		return;
	}
	s->b->left--;
	snprintf(res, sizeof(res), "bench:%u", s->res);
	CHECK(wg_lock_acquire(s->b->p->redis, res, s->b->owner, 5000, on_bench_acquire, s) == 0,
	      "acquire submit");
}

static void
on_bench_acquire(void *arg, int err, uint64_t token, uint32_t ttl)
{
	struct lockslot *s = arg;
	char res[32];

	(void)ttl;
	CHECK(err == 0 && token > s->token, "bench acquire: %d token %" PRIu64, err, token);
	s->token = token;
	s->b->ops++;
	snprintf(res, sizeof(res), "bench:%u", s->res);
	CHECK(wg_lock_release(s->b->p->redis, res, s->b->owner, token, on_bench_release, s) == 0,
	      "release submit");
}

static void
on_bench_release(void *arg, int err, uint64_t token, uint32_t ttl)
{
	struct lockslot *s = arg;

	(void)token;
	(void)ttl;
	CHECK(err == 0, "bench release: %d", err);
	s->b->ops++;
	bench_lock_next(s);
}

/* Baseline: the same script, one blocking round trip at a time. */
static double
bench_lock_sync(uint32_t n)
{
	const struct wg_redis_script *acq = wg_lock_script(WG_LOCK_S_ACQUIRE);
	const struct wg_redis_script *rel = wg_lock_script(WG_LOCK_S_RELEASE);
	char host[64], val[64];
	uint16_t port;
	redisContext *c;
	redisReply *r;
	uint64_t t0;

	parse_hostport(opt.redis, host, sizeof(host), &port);
	c = redisConnect(host, port);
	CHECK(c && !c->err, "sync connect");
	freeReplyObject(redisCommand(c, "SCRIPT LOAD %s", acq->body));
	freeReplyObject(redisCommand(c, "SCRIPT LOAD %s", rel->body));
	t0 = wg_persist_now_ms();
	for (uint32_t i = 0; i < n; i++) {
		r = redisCommand(c, "EVALSHA %s 2 wg:lock:{sb:%u} wg:fence:{sb:%u} me 5000",
				 acq->sha, i % 64, i % 64);
		CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer > 0, "sync acquire");
		snprintf(val, sizeof(val), "%lld:me", r->integer);
		freeReplyObject(r);
		r = redisCommand(c, "EVALSHA %s 1 wg:lock:{sb:%u} %s", rel->sha, i % 64, val);
		CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1, "sync release");
		freeReplyObject(r);
	}
	redisFree(c);
	return 2.0 * n / secs_since(t0);
}

static int
mode_bench_lock(void)
{
	static struct lockslot slots[64];
	struct lockbench b = { 0 };
	uint32_t n = opt.rows;
	uint64_t t0;
	double sync_rate, rate;

	b.p = open_persist(true, false, NULL, NULL);
	CHECK(wait_ready(b.p, 10000), "redis not ready");
	sync_rate = bench_lock_sync(n / 10);
	snprintf(b.owner, sizeof(b.owner), "bench/%d", getpid());
	b.left = n;
	b.done = 64;
	t0 = wg_persist_now_ms();
	/* 64 resources, each an acquire -> release chain: 64 ops in flight */
	for (uint32_t i = 0; i < 64; i++) {
		slots[i].b = &b;
		slots[i].res = i;
		bench_lock_next(&slots[i]);
	}
	while (b.done != -1) {
		int rc = wg_persist_poll(b.p, 5);

		CHECK(rc >= 0, "poll");
		CHECK(secs_since(t0) < 120, "lock bench stuck");
	}
	rate = (double)b.ops / secs_since(t0);
	CHECK(b.ops == 2ull * n, "ops %" PRIu64, b.ops);
	printf("BENCH lock_sync_ops_per_s=%.0f ops=%u\n", sync_rate, 2 * (n / 10));
	printf("BENCH lock_async_ops_per_s=%.0f ops=%" PRIu64 " ratio_vs_sync=%.1f\n", rate, b.ops,
	       rate / sync_rate);
	wg_persist_destroy(b.p);
	return 0;
}

/* Pipelined SET then GET through the async client, window of 1024. */
static int
mode_bench_redis(void)
{
	struct wg_persist *p = open_persist(true, false, NULL, NULL);
	static struct reply rep;
	uint32_t n = opt.rows;
	char key[32], val[8] = "xxx";
	double rate[2];

	CHECK(wait_ready(p, 10000), "redis not ready");
	for (int phase = 0; phase < 2; phase++) {
		struct wg_redis_stats st;
		uint64_t t0 = wg_persist_now_ms(), base;
		uint32_t i = 0;

		wg_redis_stats(p->redis, &st);
		base = st.replies;
		while (i < n || st.outstanding > 0) {
			while (i < n && st.outstanding < 1024) {
				int len = snprintf(key, sizeof(key), "key:%06u", i % 100000);
				const char *argv[3] = { phase ? "GET" : "SET", key, val };
				size_t lens[3] = { 3, (size_t)len, 3 };

				CHECK(wg_redis_cmd(p->redis, key, (size_t)len, on_reply, &rep,
						   phase ? 2 : 3, argv, lens) == 0, "submit");
				i++;
				st.outstanding++;
			}
			CHECK(wg_persist_poll(p, 1) >= 0, "poll");
			wg_redis_stats(p->redis, &st);
		}
		CHECK(st.replies - base == n && st.errors == 0, "replies %" PRIu64,
		      st.replies - base);
		rate[phase] = n / secs_since(t0);
	}
	printf("BENCH redis_async_set_per_s=%.0f redis_async_get_per_s=%.0f ops=%u\n", rate[0],
	       rate[1], n);
	wg_persist_destroy(p);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: persist_check lock|fence-a|fence-b|writer|pgkill|cache|"
		"redis-restart|cluster|bench-pg|bench-lock|bench-redis [--redis H:P] [--redis-unix PATH] [--cluster H:P] "
		"[--pg CONNINFO] [--owner O --ttl MS] [--entities N] [--run-ms MS] "
		"[--interval-ms MS] [--grants N] [--rows N] [--load] [--flag FILE] [-v]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "redis", required_argument, NULL, 'r' },
		{ "redis-unix", required_argument, NULL, 'u' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "pg", required_argument, NULL, 'p' },
		{ "owner", required_argument, NULL, 'O' },
		{ "ttl", required_argument, NULL, 't' },
		{ "entities", required_argument, NULL, 'n' },
		{ "run-ms", required_argument, NULL, 'T' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "grants", required_argument, NULL, 'g' },
		{ "rows", required_argument, NULL, 'N' },
		{ "load", no_argument, NULL, 'l' },
		{ "flag", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode;
	int c;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 'r': opt.redis = optarg; break;
		case 'u': opt.redis_unix = optarg; break;
		case 'c': opt.redis = optarg; opt.cluster = true; break;
		case 'p': opt.pg = optarg; break;
		case 'O': opt.owner = optarg; break;
		case 't': opt.ttl_ms = (uint32_t)atoi(optarg); break;
		case 'n': opt.entities = (uint32_t)atoi(optarg); break;
		case 'T': opt.run_ms = (uint32_t)atoi(optarg); break;
		case 'i': opt.interval_ms = (uint32_t)atoi(optarg); break;
		case 'g': opt.grants = (uint32_t)atoi(optarg); break;
		case 'N': opt.rows = (uint32_t)atoi(optarg); break;
		case 'l': opt.load = true; break;
		case 'f': opt.flag_file = optarg; break;
		case 'v': opt.verbose = true; break;
		default: usage();
		}
	}
	if (opt.verbose)
		wg_persist_set_log(log_hook, NULL, WG_PLOG_DEBUG);
	else
		wg_persist_set_log(log_hook, NULL, WG_PLOG_WARNING);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "lock") == 0)
		return mode_lock();
	if (strcmp(mode, "fence-a") == 0)
		return mode_fence_a();
	if (strcmp(mode, "fence-b") == 0)
		return mode_fence_b();
	if (strcmp(mode, "writer") == 0)
		return mode_writer();
	if (strcmp(mode, "pgkill") == 0)
		return mode_pgkill();
	if (strcmp(mode, "cache") == 0)
		return mode_cache();
	if (strcmp(mode, "redis-restart") == 0)
		return mode_redis_restart();
	if (strcmp(mode, "cluster") == 0)
		return mode_cluster();
	if (strcmp(mode, "bench-pg") == 0)
		return mode_bench_pg();
	if (strcmp(mode, "bench-lock") == 0)
		return mode_bench_lock();
	if (strcmp(mode, "bench-redis") == 0)
		return mode_bench_redis();
	usage();
	return 2;
}
