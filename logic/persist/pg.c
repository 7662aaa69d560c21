/* SPDX-License-Identifier: BSD-3-Clause
 * Non-blocking PostgreSQL connection with pipeline mode, migrations at
 * connect, prepared statements and replay of unacknowledged batches.
 *
 * States: DOWN -> CONNECTING (PQconnectPoll) -> MIGRATE1 (lock + read
 * applied version) -> MIGRATE2 (missing steps + COMMIT) -> PREPARE
 * (pipeline: PQsendPrepare x n + Sync) -> READY. Any failure returns to DOWN
 * with exponential back-off, and batches that were on the wire go back to
 * the head of the queue in their original order.
 *
 * Receiving in pipeline mode: every query yields its result(s) then a NULL;
 * every batch ends with a PGRES_PIPELINE_SYNC. The head of the in-flight
 * list is the batch whose results arrive next; `rx` counts its finished
 * queries.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "persist_log.h"
#include "pg.h"

#define MOD "pg"
#define MIGRATION_LOCK_KEY 0x77670001   /* pg_advisory_xact_lock key */
#define MIGRATION_SQL_MAX  (256 * 1024)

enum pg_state {
	PG_DOWN = 0,
	PG_CONNECTING,
	PG_MIGRATE1,
	PG_MIGRATE2,
	PG_PREPARE,
	PG_READY,
};

struct pgq {
	char stmt[WG_PG_NAME_MAX + 1];
	int nparams;
	size_t off;                    /* into the arena */
};

struct wg_pg_batch {
	TAILQ_ENTRY(wg_pg_batch) link;
	struct pgq *q;
	unsigned int n, cap;
	char *arena;
	size_t alen, acap;
	PGresult **res;
	unsigned int rx;               /* queries whose results are complete */
	bool rx_got;                   /* current query produced a result */
	bool failed;
	char sqlstate[6];
	char *errmsg;
	unsigned int attempts;
	wg_pg_done_cb *done;
	void *arg;
};

TAILQ_HEAD(batch_q, wg_pg_batch);

struct wg_pg {
	struct wg_pg_conf conf;
	char *conninfo;
	PGconn *conn;
	enum pg_state state;
	bool want_r, want_w;
	bool warned;                   /* connect failure logged for this outage */
	uint32_t backoff_ms;
	uint64_t retry_at;
	uint64_t deadline;
	int prep_left;
	bool prep_sync_seen;
	bool mig_failed;
	int mig_applied;
	struct batch_q queue;          /* not yet sent */
	struct batch_q inflight;       /* sent, results pending, in order */
	unsigned int nqueued, ninflight;
	struct wg_pg_stats st;
	const char **vals;
	int *lens, *fmts;
	char *mig_sql;
	bool closing;
};

/* ---- batches ---- */

struct wg_pg_batch *
wg_pg_batch_new(wg_pg_done_cb *done, void *arg)
{
	struct wg_pg_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->done = done;
	b->arg = arg;
	return b;
}

static void
batch_clear_results(struct wg_pg_batch *b)
{
	for (unsigned int i = 0; b->res && i < b->n; i++) {
		PQclear(b->res[i]);
		b->res[i] = NULL;
	}
	b->rx = 0;
	b->rx_got = false;
	b->failed = false;
	b->sqlstate[0] = '\0';
	free(b->errmsg);
	b->errmsg = NULL;
}

void
wg_pg_batch_free(struct wg_pg_batch *b)
{
	if (b == NULL)
		return;
	batch_clear_results(b);
	free(b->res);
	free(b->q);
	free(b->arena);
	free(b);
}

static int
arena_reserve(struct wg_pg_batch *b, size_t more)
{
	size_t cap = b->acap ? b->acap : 1024;
	char *p;

	if (b->alen + more <= b->acap)
		return 0;
	while (cap < b->alen + more)
		cap *= 2;
	p = realloc(b->arena, cap);
	if (p == NULL)
		return -ENOMEM;
	b->arena = p;
	b->acap = cap;
	return 0;
}

int
wg_pg_batch_add(struct wg_pg_batch *b, const char *stmt, int nparams,
		const char *const *vals, const int *lens, const int *fmts)
{
	size_t need = 0;
	struct pgq *q;

	if (stmt == NULL || strlen(stmt) > WG_PG_NAME_MAX || nparams < 0 ||
	    nparams > WG_PG_MAX_PARAMS || (nparams > 0 && vals == NULL))
		return -EINVAL;
	for (int i = 0; i < nparams; i++) {
		int fmt = fmts ? fmts[i] : 0;

		if (fmt != 0 && fmt != 1)
			return -EINVAL;
		if (vals[i] == NULL)
			continue;
		if (fmt == 1 && (lens == NULL || lens[i] < 0))
			return -EINVAL;
		need += fmt == 1 ? (size_t)lens[i] : strlen(vals[i]) + 1;
	}
	need += (size_t)nparams * 2 * sizeof(int32_t);
	if (b->n == b->cap) {
		unsigned int cap = b->cap ? b->cap * 2 : 8;
		struct pgq *nq = realloc(b->q, cap * sizeof(*nq));
		PGresult **nr;

		if (nq == NULL)
			return -ENOMEM;
		b->q = nq;
		nr = realloc(b->res, cap * sizeof(*nr));
		if (nr == NULL)
			return -ENOMEM;
		b->res = nr;
		b->cap = cap;
	}
	if (arena_reserve(b, need) < 0)
		return -ENOMEM;
	q = &b->q[b->n];
	strcpy(q->stmt, stmt);
	q->nparams = nparams;
	q->off = b->alen;
	for (int i = 0; i < nparams; i++) {
		int32_t fmt = fmts ? fmts[i] : 0, len;

		if (vals[i] == NULL)
			len = -1;
		else
			len = fmt == 1 ? lens[i] : (int32_t)strlen(vals[i]) + 1;
		memcpy(b->arena + b->alen, &len, sizeof(len));
		memcpy(b->arena + b->alen + sizeof(len), &fmt, sizeof(fmt));
		b->alen += 2 * sizeof(int32_t);
		if (len > 0) {
			memcpy(b->arena + b->alen, vals[i], (size_t)len);
			b->alen += (size_t)len;
		}
	}
	b->res[b->n] = NULL;
	b->n++;
	return 0;
}

unsigned int
wg_pg_batch_count(const struct wg_pg_batch *b)
{
	return b->n;
}

PGresult *
wg_pg_batch_result(const struct wg_pg_batch *b, unsigned int i)
{
	return i < b->n ? b->res[i] : NULL;
}

const char *
wg_pg_batch_error(const struct wg_pg_batch *b, const char **sqlstate)
{
	if (sqlstate)
		*sqlstate = b->sqlstate;
	return b->errmsg ? b->errmsg : "";
}

void *
wg_pg_batch_arg(const struct wg_pg_batch *b)
{
	return b->arg;
}

/* ---- connection ---- */

static void
backoff(struct wg_pg *pg)
{
	pg->backoff_ms = pg->backoff_ms ? pg->backoff_ms * 2 : pg->conf.reconnect_min_ms;
	if (pg->backoff_ms > pg->conf.reconnect_max_ms)
		pg->backoff_ms = pg->conf.reconnect_max_ms;
	pg->retry_at = wg_persist_now_ms() + pg->backoff_ms;
}

/* Drop the connection; unacknowledged batches go back to the queue head. */
static void
fail_conn(struct wg_pg *pg, const char *why)
{
	struct wg_pg_batch *b;
	unsigned int moved = 0;

	if (pg->conn != NULL) {
		if (pg->state == PG_READY || !pg->warned)
			PLOG(WARNING, MOD, "connection %s (%s): %s",
			     pg->state == PG_READY ? "lost" : "failed", why,
			     PQerrorMessage(pg->conn));
		pg->warned = pg->state != PG_READY;
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
	if (pg->state == PG_READY)
		pg->st.conn_lost++;
	else
		pg->st.connect_failures++;
	while ((b = TAILQ_LAST(&pg->inflight, batch_q)) != NULL) {
		TAILQ_REMOVE(&pg->inflight, b, link);
		batch_clear_results(b);
		TAILQ_INSERT_HEAD(&pg->queue, b, link);
		pg->ninflight--;
		pg->nqueued++;
		moved++;
	}
	pg->st.batches_replayed += moved;
	pg->state = PG_DOWN;
	pg->st.ready = false;
	pg->want_r = pg->want_w = false;
	backoff(pg);
}

/* Server notices (e.g. "already exists, skipping") go to our log, not stderr. */
static void
on_notice(void *arg, const char *msg)
{
	(void)arg;
	PLOG(DEBUG, MOD, "server: %s", msg);
}

static void
conn_start(struct wg_pg *pg, uint64_t now)
{
	if (pg->state != PG_DOWN || now < pg->retry_at || pg->closing)
		return;
	pg->conn = PQconnectStart(pg->conninfo);
	if (pg->conn == NULL) {
		backoff(pg);
		return;
	}
	PQsetNoticeProcessor(pg->conn, on_notice, NULL);
	pg->state = PG_CONNECTING;
	pg->deadline = now + pg->conf.connect_timeout_ms;
	if (PQstatus(pg->conn) == CONNECTION_BAD) {
		fail_conn(pg, "connect");
		return;
	}
	/* as if PQconnectPoll had said PGRES_POLLING_WRITING */
	pg->want_w = true;
	pg->want_r = false;
}

static void
flush_out(struct wg_pg *pg)
{
	int rc = PQflush(pg->conn);

	if (rc < 0)
		fail_conn(pg, "flush");
	else
		pg->want_w = rc == 1;
}

static void
start_migrate(struct wg_pg *pg)
{
	char sql[512];

	if (PQsetnonblocking(pg->conn, 1) != 0) {
		fail_conn(pg, "nonblocking");
		return;
	}
	/* lock first: a concurrent starter waits here, then sees our steps */
	snprintf(sql, sizeof(sql),
		 "BEGIN; SELECT pg_advisory_xact_lock(%d); "
		 "CREATE TABLE IF NOT EXISTS wg_migrations (version int PRIMARY KEY, "
		 "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); "
		 "SELECT coalesce(max(version), 0) FROM wg_migrations",
		 MIGRATION_LOCK_KEY);
	pg->mig_failed = false;
	pg->mig_applied = -1;
	if (!PQsendQuery(pg->conn, sql)) {
		fail_conn(pg, "migrate");
		return;
	}
	pg->state = PG_MIGRATE1;
	pg->want_r = true;
	flush_out(pg);
}

static void
start_prepare(struct wg_pg *pg)
{
	if (!PQenterPipelineMode(pg->conn)) {
		fail_conn(pg, "pipeline");
		return;
	}
	for (unsigned int i = 0; i < pg->conf.n_stmts; i++) {
		const struct wg_pg_stmt *s = &pg->conf.stmts[i];

		if (!PQsendPrepare(pg->conn, s->name, s->sql, s->nparams, NULL)) {
			fail_conn(pg, "prepare");
			return;
		}
	}
	if (!PQpipelineSync(pg->conn)) {
		fail_conn(pg, "sync");
		return;
	}
	pg->prep_left = (int)pg->conf.n_stmts;
	pg->prep_sync_seen = false;
	pg->state = PG_PREPARE;
	pg->want_r = true;
	flush_out(pg);
}

static void pump(struct wg_pg *pg);

/* Simple-protocol results of a migration phase; true when the phase ended. */
static bool
rx_simple(struct wg_pg *pg)
{
	PGresult *res;

	while (pg->conn && !PQisBusy(pg->conn)) {
		res = PQgetResult(pg->conn);
		if (res == NULL)
			return true;
		switch (PQresultStatus(res)) {
		case PGRES_TUPLES_OK:
			if (pg->state == PG_MIGRATE1 && PQntuples(res) == 1)
				pg->mig_applied = atoi(PQgetvalue(res, 0, 0));
			break;
		case PGRES_COMMAND_OK:
			break;
		default:
			if (!pg->mig_failed)
				PLOG(ERR, MOD, "migration failed: %s", PQresultErrorMessage(res));
			pg->mig_failed = true;
			break;
		}
		PQclear(res);
	}
	return false;
}

static void
rx_migrate(struct wg_pg *pg)
{
	int steps;

	if (!rx_simple(pg))
		return;
	if (pg->mig_failed || pg->mig_applied < 0) {
		fail_conn(pg, "migration");
		return;
	}
	if (pg->state == PG_MIGRATE2) {
		pg->st.schema_version = pg->conf.n_migrations ?
			pg->conf.migrations[pg->conf.n_migrations - 1].version : 0;
		if (pg->mig_applied > pg->st.schema_version)
			pg->st.schema_version = pg->mig_applied;
		start_prepare(pg);
		return;
	}
	steps = wg_pg_migrations_plan(pg->conf.migrations, pg->conf.n_migrations,
				      pg->mig_applied, pg->mig_sql, MIGRATION_SQL_MAX - 16);
	if (steps < 0) {
		PLOG(ERR, MOD, "migration plan: %s", strerror(-steps));
		fail_conn(pg, "migration plan");
		return;
	}
	if (steps > 0)
		PLOG(NOTICE, MOD, "applying %d migration step(s) above version %d",
		     steps, pg->mig_applied);
	strcat(pg->mig_sql, "COMMIT");
	if (!PQsendQuery(pg->conn, pg->mig_sql)) {
		fail_conn(pg, "migrate");
		return;
	}
	pg->state = PG_MIGRATE2;
	flush_out(pg);
}

static void
rx_prepare(struct wg_pg *pg)
{
	PGresult *res;
	int nulls = 0;

	while (pg->conn && !PQisBusy(pg->conn) && nulls < 2) {
		res = PQgetResult(pg->conn);
		if (res == NULL) {
			nulls++;
			continue;
		}
		nulls = 0;
		switch (PQresultStatus(res)) {
		case PGRES_COMMAND_OK:
			pg->prep_left--;
			break;
		case PGRES_PIPELINE_SYNC:
			pg->prep_sync_seen = true;
			break;
		default:
			PLOG(ERR, MOD, "prepare failed: %s", PQresultErrorMessage(res));
			PQclear(res);
			fail_conn(pg, "prepare");
			return;
		}
		PQclear(res);
		if (pg->prep_sync_seen) {
			if (pg->prep_left != 0) {
				fail_conn(pg, "prepare count");
				return;
			}
			pg->state = PG_READY;
			pg->st.ready = true;
			pg->warned = false;
			pg->st.connects++;
			pg->backoff_ms = 0;
			PLOG(INFO, MOD, "ready (schema %d, backend %d, %u batches to send)",
			     pg->st.schema_version, PQbackendPID(pg->conn), pg->nqueued);
			pump(pg);
			return;
		}
	}
}

static void
complete(struct wg_pg *pg, struct wg_pg_batch *b)
{
	if (b->failed && wg_pg_sqlstate_conn_lost(b->sqlstate)) {
		/* the server is ending the session: this batch and the ones
		 * behind it are replayed, in order, on the next connection */
		fail_conn(pg, b->sqlstate);
		return;
	}
	TAILQ_REMOVE(&pg->inflight, b, link);
	pg->ninflight--;
	if (b->failed && wg_pg_sqlstate_retryable(b->sqlstate)) {
		/* rolled back: run it again ahead of everything not yet sent */
		pg->st.batches_retried++;
		b->attempts++;
		batch_clear_results(b);
		TAILQ_INSERT_HEAD(&pg->queue, b, link);
		pg->nqueued++;
		return;
	}
	if (b->failed) {
		pg->st.batches_failed++;
		PLOG(ERR, MOD, "batch failed (%s): %s", b->sqlstate, b->errmsg ? b->errmsg : "");
	} else {
		pg->st.batches_done++;
	}
	if (b->done)
		b->done(b->arg, b, b->failed ? -EPROTO : 0);
	wg_pg_batch_free(b);
}

static void
note_error(struct wg_pg_batch *b, const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorMessage(res);

	if (b->failed)
		return;
	b->failed = true;
	snprintf(b->sqlstate, sizeof(b->sqlstate), "%s", st ? st : "XX000");
	b->errmsg = strdup(msg ? msg : "");
}

static void
rx_ready(struct wg_pg *pg)
{
	struct wg_pg_batch *b;
	PGresult *res;
	int nulls = 0;

	while (pg->conn && (b = TAILQ_FIRST(&pg->inflight)) != NULL && nulls < 2) {
		if (PQisBusy(pg->conn))
			break;
		res = PQgetResult(pg->conn);
		if (res == NULL) {
			/* end of one query's results; a NULL with no result is noise */
			nulls++;
			if (b->rx_got) {
				b->rx++;
				b->rx_got = false;
				nulls = 0;
			}
			continue;
		}
		nulls = 0;
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			if (b->rx != b->n) {
				fail_conn(pg, "out-of-step sync");
				return;
			}
			complete(pg, b);
			continue;
		}
		if (b->rx >= b->n) {
			PQclear(res);
			fail_conn(pg, "unexpected result");
			return;
		}
		if (PQresultStatus(res) == PGRES_FATAL_ERROR)
			note_error(b, res);
		PQclear(b->res[b->rx]);
		b->res[b->rx] = res;
		b->rx_got = true;
		pg->st.queries++;
	}
}

/* Put queued batches on the wire while the in-flight window allows. */
static void
pump(struct wg_pg *pg)
{
	struct wg_pg_batch *b;

	while (pg->state == PG_READY && pg->ninflight < pg->conf.max_inflight &&
	       (b = TAILQ_FIRST(&pg->queue)) != NULL) {
		for (unsigned int i = 0; i < b->n; i++) {
			const struct pgq *q = &b->q[i];
			size_t off = q->off;

			for (int p = 0; p < q->nparams; p++) {
				int32_t len, fmt;

				memcpy(&len, b->arena + off, sizeof(len));
				memcpy(&fmt, b->arena + off + sizeof(len), sizeof(fmt));
				off += 2 * sizeof(int32_t);
				pg->fmts[p] = fmt;
				if (len < 0) {
					pg->vals[p] = NULL;
					pg->lens[p] = 0;
					continue;
				}
				pg->vals[p] = b->arena + off;
				/* text values were stored with their NUL */
				pg->lens[p] = fmt == 1 ? len : len - 1;
				off += (size_t)len;
			}
			if (!PQsendQueryPrepared(pg->conn, q->stmt, q->nparams, pg->vals,
						 pg->lens, pg->fmts, 0)) {
				fail_conn(pg, "send");
				return;
			}
		}
		if (!PQpipelineSync(pg->conn)) {
			fail_conn(pg, "sync");
			return;
		}
		TAILQ_REMOVE(&pg->queue, b, link);
		pg->nqueued--;
		TAILQ_INSERT_TAIL(&pg->inflight, b, link);
		pg->ninflight++;
	}
	if (pg->state == PG_READY)
		flush_out(pg);
}

int
wg_pg_submit(struct wg_pg *pg, struct wg_pg_batch *b)
{
	if (pg->closing)
		return -ECANCELED;
	if (pg->nqueued + pg->ninflight >= pg->conf.max_queued) {
		pg->st.eagain++;
		return -EAGAIN;
	}
	TAILQ_INSERT_TAIL(&pg->queue, b, link);
	pg->nqueued++;
	pump(pg);
	return 0;
}

bool
wg_pg_can_submit(const struct wg_pg *pg)
{
	return pg->nqueued + pg->ninflight < pg->conf.max_queued;
}

/* One readiness event on the connection. */
static void
on_event(struct wg_pg *pg, short revents)
{
	PostgresPollingStatusType ps;

	if (pg->state == PG_CONNECTING) {
		ps = PQconnectPoll(pg->conn);
		switch (ps) {
		case PGRES_POLLING_READING:
			pg->want_r = true;
			pg->want_w = false;
			break;
		case PGRES_POLLING_WRITING:
			pg->want_r = false;
			pg->want_w = true;
			break;
		case PGRES_POLLING_OK:
			start_migrate(pg);
			break;
		default:
			fail_conn(pg, "connect");
			break;
		}
		return;
	}
	if ((revents & POLLOUT) && pg->conn) {
		flush_out(pg);
		if (pg->conn == NULL)
			return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (!PQconsumeInput(pg->conn)) {
			fail_conn(pg, "read");
			return;
		}
	}
	switch (pg->state) {
	case PG_MIGRATE1:
	case PG_MIGRATE2:
		rx_migrate(pg);
		break;
	case PG_PREPARE:
		rx_prepare(pg);
		break;
	case PG_READY:
		rx_ready(pg);
		if (pg->conn && PQstatus(pg->conn) == CONNECTION_BAD) {
			fail_conn(pg, "status");
			return;
		}
		pump(pg);
		break;
	default:
		break;
	}
}

struct wg_pg *
wg_pg_create(const struct wg_pg_conf *conf)
{
	struct wg_pg *pg;

	if (conf->conninfo == NULL || conf->max_inflight == 0 ||
	    conf->max_queued < conf->max_inflight ||
	    wg_pg_migrations_check(conf->migrations, conf->n_migrations) < 0) {
		errno = EINVAL;
		return NULL;
	}
	pg = calloc(1, sizeof(*pg));
	if (pg == NULL)
		return NULL;
	pg->conf = *conf;
	if (pg->conf.connect_timeout_ms == 0)
		pg->conf.connect_timeout_ms = 5000;
	if (pg->conf.reconnect_min_ms == 0)
		pg->conf.reconnect_min_ms = 20;
	if (pg->conf.reconnect_max_ms < pg->conf.reconnect_min_ms)
		pg->conf.reconnect_max_ms = pg->conf.reconnect_min_ms * 64;
	pg->conninfo = strdup(conf->conninfo);
	pg->vals = calloc(WG_PG_MAX_PARAMS, sizeof(*pg->vals));
	pg->lens = calloc(WG_PG_MAX_PARAMS, sizeof(*pg->lens));
	pg->fmts = calloc(WG_PG_MAX_PARAMS, sizeof(*pg->fmts));
	pg->mig_sql = malloc(MIGRATION_SQL_MAX);
	if (!pg->conninfo || !pg->vals || !pg->lens || !pg->fmts || !pg->mig_sql) {
		wg_pg_destroy(pg);
		errno = ENOMEM;
		return NULL;
	}
	TAILQ_INIT(&pg->queue);
	TAILQ_INIT(&pg->inflight);
	conn_start(pg, wg_persist_now_ms());
	return pg;
}

void
wg_pg_destroy(struct wg_pg *pg)
{
	struct wg_pg_batch *b;

	if (pg == NULL)
		return;
	pg->closing = true;
	TAILQ_CONCAT(&pg->inflight, &pg->queue, link);
	while ((b = TAILQ_FIRST(&pg->inflight)) != NULL) {
		TAILQ_REMOVE(&pg->inflight, b, link);
		if (b->done)
			b->done(b->arg, b, -ECANCELED);
		wg_pg_batch_free(b);
	}
	if (pg->conn)
		PQfinish(pg->conn);
	free(pg->conninfo);
	free(pg->vals);
	free(pg->lens);
	free(pg->fmts);
	free(pg->mig_sql);
	free(pg);
}

int
wg_pg_timers(struct wg_pg *pg, uint64_t now)
{
	if (pg->state == PG_DOWN) {
		if (now >= pg->retry_at) {
			conn_start(pg, now);
			return 0;
		}
		return (int)(pg->retry_at - now);
	}
	if (pg->state != PG_READY && now >= pg->deadline) {
		PLOG(WARNING, MOD, "connect/setup timed out");
		fail_conn(pg, "timeout");
		return 0;
	}
	return pg->state == PG_READY ? -1 : (int)(pg->deadline - now);
}

int
wg_pg_pollfds(struct wg_pg *pg, struct pollfd *pfd, int max)
{
	int fd;

	if (max < 1 || pg->conn == NULL || (!pg->want_r && !pg->want_w))
		return 0;
	fd = PQsocket(pg->conn);
	if (fd < 0)
		return 0;
	pfd[0].fd = fd;
	pfd[0].events = (short)((pg->want_r ? POLLIN : 0) | (pg->want_w ? POLLOUT : 0));
	pfd[0].revents = 0;
	return 1;
}

int
wg_pg_dispatch(struct wg_pg *pg, const struct pollfd *pfd, int n)
{
	if (n < 1 || pfd[0].revents == 0 || pg->conn == NULL || PQsocket(pg->conn) != pfd[0].fd)
		return 0;
	on_event(pg, pfd[0].revents);
	return 1;
}

int
wg_pg_poll(struct wg_pg *pg, int timeout_ms)
{
	struct pollfd pfd[1];
	int n, next, rc;

	next = wg_pg_timers(pg, wg_persist_now_ms());
	if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
		timeout_ms = next;
	n = wg_pg_pollfds(pg, pfd, 1);
	rc = poll(pfd, (nfds_t)n, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (rc == 0)
		return 0;
	return wg_pg_dispatch(pg, pfd, n);
}

void
wg_pg_stats(const struct wg_pg *pg, struct wg_pg_stats *st)
{
	*st = pg->st;
	st->queued = pg->nqueued;
	st->inflight = pg->ninflight;
}

int
wg_pg_backend_pid(const struct wg_pg *pg)
{
	return pg->conn && pg->state == PG_READY ? PQbackendPID(pg->conn) : 0;
}

void
wg_pg_dump(FILE *f, const struct wg_pg *pg)
{
	const struct wg_pg_stats *s = &pg->st;

	fprintf(f, "pg state %d schema %d queued %u inflight %u\n", pg->state,
		s->schema_version, pg->nqueued, pg->ninflight);
	fprintf(f, "  done %lu failed %lu retried %lu replayed %lu queries %lu connects %lu "
		"lost %lu connect_failures %lu eagain %lu\n",
		(unsigned long)s->batches_done, (unsigned long)s->batches_failed,
		(unsigned long)s->batches_retried, (unsigned long)s->batches_replayed,
		(unsigned long)s->queries, (unsigned long)s->connects,
		(unsigned long)s->conn_lost, (unsigned long)s->connect_failures,
		(unsigned long)s->eagain);
}
