/* SPDX-License-Identifier: BSD-3-Clause
 * PostgreSQL account backend: one non-blocking libpq connection, one query
 * on the wire at a time (lookups are small and rate-limited upstream; the
 * scrypt threads, not the database, bound login throughput).
 *
 * States: DOWN -> CONNECTING (PQconnectPoll) -> MIGRATE (table, under an
 * advisory lock) -> PREPARE -> READY. A connection lost while READY is
 * re-established at once and the lookup on the wire is sent again (reads
 * are idempotent, one retry); checks wait for it up to timeout_ms. When a
 * connection attempt fails, the database is declared down: waiting and new
 * checks fail with -EAGAIN at once while reconnection continues with
 * exponential back-off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "account_impl.h"

#define LOG_ERR   3
#define LOG_WARN  4
#define LOG_INFO  6

#define STMT_GET       "wg_account_get"
#define IDLE_CHECK_MS  200
#define MIGRATION_LOCK 0x77676163     /* 'wgac' */

static const char migrate_sql[] =
	"BEGIN;"
	"SELECT pg_advisory_xact_lock(2003263843);"
	"CREATE TABLE IF NOT EXISTS accounts ("
	" account text PRIMARY KEY,"
	" player_id bigint NOT NULL UNIQUE,"
	" salt bytea NOT NULL,"
	" hash bytea NOT NULL,"
	" scrypt_n int NOT NULL,"
	" scrypt_r int NOT NULL,"
	" scrypt_p int NOT NULL);"
	"COMMIT;";

_Static_assert(MIGRATION_LOCK == 2003263843, "advisory lock key in migrate_sql");

static const char get_sql[] =
	"SELECT player_id, salt, hash, scrypt_n, scrypt_r, scrypt_p "
	"FROM accounts WHERE account = $1";

enum pg_state {
	S_DOWN = 0,
	S_CONNECTING,
	S_MIGRATE,
	S_PREPARE,
	S_READY,
};

static const char *const state_names[] = { "down", "connecting", "migrating", "preparing",
					   "ready" };

struct pg_be {
	struct wg_account base;
	struct acct_core core;
	struct wg_account_pg_conf pgc;
	char *conninfo;
	PGconn *conn;
	enum pg_state state;
	PostgresPollingStatusType cpoll;
	bool busy;                 /* a command is outstanding */
	bool flushing;             /* PQflush left data to send */
	bool phase_failed;
	bool outage;               /* an attempt failed: fail checks at once */
	bool warned;               /* outage logged */
	uint32_t backoff_ms;
	uint64_t retry_at;
	uint64_t connect_deadline;
	uint64_t last_idle_check;
	struct acct_fifo q;        /* J_LOOKUP jobs not yet sent */
	struct acct_job *cur;      /* on the wire */
	int cur_rc;                /* 1 row parsed, 0 no row, <0 error */
};

static void
errmsg(PGconn *conn, char *buf, size_t size)
{
	const char *m = conn ? PQerrorMessage(conn) : "out of memory";
	size_t n;

	snprintf(buf, size, "%s", m && *m ? m : "unknown error");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n')
			buf[i] = ' ';
}

/* Server notices ("relation already exists, skipping") are not errors;
 * libpq's default would print them to stderr. */
static void
quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static short
sock_ready(PGconn *conn, short events)
{
	struct pollfd p = { .fd = PQsocket(conn), .events = events };

	if (p.fd < 0)
		return POLLERR;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	return p.revents;
}

static void
fail_queued(struct pg_be *b, int result)
{
	while (b->q.n > 0)
		acct_finish(&b->core, &b->core.jobs[acct_fifo_pop(&b->q)], result);
}

/* Drop the connection. Lost while READY: reconnect at once, resend the
 * lookup on the wire (once). Otherwise (connect or setup failed): declare
 * an outage, fail what waits, retry after the back-off. */
static void
pg_drop(struct pg_be *b, const char *why)
{
	uint64_t now = b->core.now_ms;
	bool was_ready = b->state == S_READY;

	if (b->conn != NULL)
		PQfinish(b->conn);
	b->conn = NULL;
	b->busy = b->flushing = false;
	if (b->cur != NULL) {
		if (b->cur->attempts < 2)
			acct_fifo_push_front(&b->q, b->cur->idx);
		else
			acct_finish(&b->core, b->cur, -EAGAIN);
		b->cur = NULL;
	}
	if (was_ready) {
		b->core.st.conn_lost++;
		acct_log(&b->core, LOG_WARN, "account db: connection lost (%s), reconnecting", why);
		b->backoff_ms = b->pgc.reconnect_min_ms;
		b->retry_at = now;
	} else {
		b->core.st.connect_failures++;
		if (!b->warned)
			acct_log(&b->core, LOG_ERR, "account db: %s failed: %s; logins get "
				 "'unavailable' until it is back", state_names[b->state], why);
		b->warned = true;
		b->outage = true;
		fail_queued(b, -EAGAIN);
		b->retry_at = now + b->backoff_ms;
		b->backoff_ms = b->backoff_ms * 2 > b->pgc.reconnect_max_ms ?
				b->pgc.reconnect_max_ms : b->backoff_ms * 2;
	}
	b->state = S_DOWN;
}

static void
pg_drop_conn_error(struct pg_be *b)
{
	char m[256];

	errmsg(b->conn, m, sizeof(m));
	pg_drop(b, m);
}

static void
pg_flush(struct pg_be *b)
{
	int r = PQflush(b->conn);

	if (r < 0)
		pg_drop_conn_error(b);
	else
		b->flushing = r == 1;
}

static void
pg_connect(struct pg_be *b)
{
	b->conn = PQconnectStart(b->conninfo);
	if (b->conn == NULL || PQstatus(b->conn) == CONNECTION_BAD) {
		b->state = S_CONNECTING;
		pg_drop_conn_error(b);
		return;
	}
	PQsetNoticeProcessor(b->conn, quiet_notice, NULL);
	b->state = S_CONNECTING;
	b->cpoll = PGRES_POLLING_WRITING;
	b->connect_deadline = b->core.now_ms + b->pgc.connect_timeout_ms;
}

static void
pg_connecting(struct pg_be *b)
{
	short want = b->cpoll == PGRES_POLLING_READING ? POLLIN : POLLOUT;

	if (b->core.now_ms >= b->connect_deadline) {
		pg_drop(b, "connect timeout");
		return;
	}
	if (!(sock_ready(b->conn, want) & (want | POLLERR | POLLHUP)))
		return;
	b->cpoll = PQconnectPoll(b->conn);
	if (b->cpoll == PGRES_POLLING_FAILED) {
		pg_drop_conn_error(b);
		return;
	}
	if (b->cpoll != PGRES_POLLING_OK)
		return;
	if (PQsetnonblocking(b->conn, 1) != 0 || !PQsendQuery(b->conn, migrate_sql)) {
		pg_drop_conn_error(b);
		return;
	}
	b->state = S_MIGRATE;
	b->busy = true;
	b->phase_failed = false;
	pg_flush(b);
}

/* Binary row: int8, bytea, bytea, int4 x 3. 1 if usable, -EIO if not. */
static int
parse_row(struct pg_be *b, PGresult *res, struct acct_job *j)
{
	static const int want_len[6] = { 8, -1, -1, 4, 4, 4 };
	uint64_t v[6] = { 0 };
	int len[6];

	if (PQnfields(res) != 6)
		return -EIO;
	for (int c = 0; c < 6; c++) {
		const uint8_t *p = (const uint8_t *)PQgetvalue(res, 0, c);

		if (PQgetisnull(res, 0, c) || PQfformat(res, c) != 1)
			return -EIO;
		len[c] = PQgetlength(res, 0, c);
		if (want_len[c] > 0) {
			if (len[c] != want_len[c])
				return -EIO;
			for (int i = 0; i < len[c]; i++)
				v[c] = v[c] << 8 | p[i];
		}
	}
	j->player_id = v[0];
	j->params.n = v[3];
	j->params.r = (uint32_t)v[4];
	j->params.p = (uint32_t)v[5];
	if (j->player_id == 0 || (v[0] >> 63) || !wg_scrypt_params_ok(&j->params) ||
	    len[1] < 8 || len[1] > WG_ACCOUNT_BLOB_MAX || len[2] < 16 ||
	    len[2] > WG_ACCOUNT_BLOB_MAX) {
		acct_log(&b->core, LOG_ERR, "account db: row for '%s' is unusable "
			 "(player id, scrypt parameters or blob sizes)", j->account);
		return -EIO;
	}
	memcpy(j->salt, PQgetvalue(res, 0, 1), (size_t)len[1]);
	j->saltlen = (size_t)len[1];
	memcpy(j->hash, PQgetvalue(res, 0, 2), (size_t)len[2]);
	j->hashlen = (size_t)len[2];
	return 1;
}

static void
on_result(struct pg_be *b, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (b->state != S_READY) {
		if (!ok && !b->phase_failed) {
			b->phase_failed = true;
			acct_log(&b->core, LOG_ERR, "account db: %s: %s", state_names[b->state],
				 PQresultErrorMessage(res));
		}
		return;
	}
	if (b->cur == NULL)
		return;
	if (st != PGRES_TUPLES_OK) {
		const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* connection-class errors surface as lost connections below */
		if (sqlstate == NULL || (strncmp(sqlstate, "08", 2) != 0 &&
					 strncmp(sqlstate, "57", 2) != 0)) {
			acct_log(&b->core, LOG_ERR, "account db: lookup: %s",
				 PQresultErrorMessage(res));
			b->cur_rc = -EIO;
		} else {
			b->cur_rc = -EAGAIN;
		}
		return;
	}
	if (PQntuples(res) == 0)
		b->cur_rc = 0;
	else if (PQntuples(res) == 1)
		b->cur_rc = parse_row(b, res, b->cur);
	else
		b->cur_rc = -EIO;
}

/* The outstanding command finished (PQgetResult gave NULL). */
static void
on_command_done(struct pg_be *b)
{
	struct acct_job *j;

	b->busy = false;
	switch (b->state) {
	case S_MIGRATE:
		if (b->phase_failed) {
			pg_drop(b, "migration");
			return;
		}
		if (!PQsendPrepare(b->conn, STMT_GET, get_sql, 1, NULL)) {
			pg_drop_conn_error(b);
			return;
		}
		b->state = S_PREPARE;
		b->busy = true;
		pg_flush(b);
		return;
	case S_PREPARE:
		if (b->phase_failed) {
			pg_drop(b, "prepare");
			return;
		}
		b->state = S_READY;
		b->core.st.connects++;
		if (b->outage || b->warned)
			acct_log(&b->core, LOG_INFO, "account db: connected again");
		b->outage = b->warned = false;
		b->backoff_ms = b->pgc.reconnect_min_ms;
		return;
	case S_READY:
		j = b->cur;
		b->cur = NULL;
		if (j == NULL)
			return;
		if (b->cur_rc == -EAGAIN) {
			/* the server is shutting the session down: treat as lost */
			b->cur = j;
			pg_drop(b, "server terminated the session");
			return;
		}
		if (b->cur_rc < 0) {
			acct_finish(&b->core, j, b->cur_rc);
		} else {
			j->dummy = b->cur_rc == 0;
			acct_hash_submit(&b->core, j);
		}
		return;
	default:
		return;
	}
}

/* Read what the server sent and consume complete results. */
static void
pg_read(struct pg_be *b)
{
	short rev = sock_ready(b->conn, POLLIN);

	if (rev & (POLLIN | POLLERR | POLLHUP)) {
		if (!PQconsumeInput(b->conn) || PQstatus(b->conn) == CONNECTION_BAD) {
			pg_drop_conn_error(b);
			return;
		}
	}
	while (b->busy && !PQisBusy(b->conn)) {
		PGresult *res = PQgetResult(b->conn);

		if (res == NULL) {
			on_command_done(b);
			if (b->state == S_DOWN)
				return;
			continue;
		}
		on_result(b, res);
		PQclear(res);
	}
	if (PQstatus(b->conn) == CONNECTION_BAD)
		pg_drop_conn_error(b);
}

static void
pg_send_next(struct pg_be *b)
{
	while (b->q.n > 0 && b->cur == NULL) {
		struct acct_job *j = &b->core.jobs[acct_fifo_pop(&b->q)];
		const char *vals[1] = { j->account };

		j->attempts++;
		b->cur = j;
		b->cur_rc = 0;
		if (!PQsendQueryPrepared(b->conn, STMT_GET, 1, vals, NULL, NULL, 1)) {
			pg_drop_conn_error(b);
			return;
		}
		b->busy = true;
		b->core.st.queries++;
		pg_flush(b);
	}
}

static void
expire_jobs(struct pg_be *b)
{
	uint64_t now = b->core.now_ms;

	/* same timeout for all, FIFO order (a resent lookup goes back to
	 * the front, and it is the oldest): expired ones are at the head */
	while (b->q.n > 0 && b->core.jobs[acct_fifo_peek(&b->q, 0)].deadline_ms <= now)
		acct_finish(&b->core, &b->core.jobs[acct_fifo_pop(&b->q)], -ETIMEDOUT);
	if (b->cur != NULL && b->cur->deadline_ms <= now) {
		struct acct_job *j = b->cur;

		/* a hung server: give up on this connection too */
		b->cur = NULL;
		acct_finish(&b->core, j, -ETIMEDOUT);
		acct_log(&b->core, LOG_WARN, "account db: lookup timed out, reconnecting");
		pg_drop(b, "lookup timeout");
	}
}

static int
pg_poll(struct wg_account *a, uint64_t now_ms)
{
	struct pg_be *b = (struct pg_be *)a;

	b->core.now_ms = now_ms;
	if (!b->core.clock_set) {
		for (uint32_t i = 0; i < b->q.n; i++)
			b->core.jobs[acct_fifo_peek(&b->q, i)].deadline_ms =
				now_ms + b->core.conf.timeout_ms;
		b->core.clock_set = true;
	}
	expire_jobs(b);
	if (b->state == S_DOWN) {
		if (b->outage)
			fail_queued(b, -EAGAIN);
		if (now_ms >= b->retry_at)
			pg_connect(b);
	}
	if (b->state == S_CONNECTING)
		pg_connecting(b);
	if (b->state >= S_MIGRATE && b->flushing)
		pg_flush(b);
	if (b->state >= S_MIGRATE && (b->busy || now_ms - b->last_idle_check >= IDLE_CHECK_MS)) {
		/* idle: look at the socket now and then, so a dead server is
		 * noticed before the next login needs it */
		if (!b->busy)
			b->last_idle_check = now_ms;
		pg_read(b);
	}
	if (b->state == S_READY && !b->busy)
		pg_send_next(b);
	return acct_core_poll(&b->core);
}

static int
pg_verify(struct wg_account *a, const char *account, const char *password, size_t pwlen,
	  wg_account_done_fn *done, void *arg)
{
	struct pg_be *b = (struct pg_be *)a;
	struct acct_job *j;
	int err;

	j = acct_job_get(&b->core, account, password, pwlen, done, arg, &err);
	if (j == NULL)
		return err;
	if (b->outage && b->state != S_READY)
		acct_finish(&b->core, j, -EAGAIN);
	else
		acct_fifo_push(&b->q, j->idx);
	return 0;
}

static int
pg_pollfds(struct wg_account *a, struct pollfd *pfd, int max)
{
	struct pg_be *b = (struct pg_be *)a;
	int n = 0;

	if (max < 1)
		return 0;
	acct_core_arm(&b->core);
	pfd[n++] = (struct pollfd){ .fd = b->core.efd, .events = POLLIN };
	if (b->conn != NULL && max > 1 && PQsocket(b->conn) >= 0) {
		short ev = POLLIN;

		if (b->flushing ||
		    (b->state == S_CONNECTING && b->cpoll != PGRES_POLLING_READING))
			ev |= POLLOUT;
		pfd[n++] = (struct pollfd){ .fd = PQsocket(b->conn), .events = ev };
	}
	return n;
}

static void
pg_stats(const struct wg_account *a, struct wg_account_stats *st)
{
	const struct pg_be *b = (const struct pg_be *)a;

	*st = b->core.st;
	st->pending = b->core.conf.max_pending - b->core.n_free;
	st->ready = b->state == S_READY;
}

static void
pg_dump(FILE *f, const struct wg_account *a)
{
	const struct pg_be *b = (const struct pg_be *)a;
	const struct wg_account_stats *s = &b->core.st;

	fprintf(f, "account pg: %s%s, queued %u, pending %u, queries %llu, connects %llu, "
		"lost %llu, connect failures %llu\n", state_names[b->state],
		b->outage ? " (outage)" : "", b->q.n, b->core.conf.max_pending - b->core.n_free,
		(unsigned long long)s->queries, (unsigned long long)s->connects,
		(unsigned long long)s->conn_lost, (unsigned long long)s->connect_failures);
	fprintf(f, "  ok %llu bad %llu unknown %llu unavailable %llu timeouts %llu errors %llu\n",
		(unsigned long long)s->ok, (unsigned long long)s->bad_password,
		(unsigned long long)s->unknown, (unsigned long long)s->unavailable,
		(unsigned long long)s->timeouts, (unsigned long long)s->errors);
}

static void
pg_destroy(struct wg_account *a)
{
	struct pg_be *b = (struct pg_be *)a;

	/* queued and in-flight jobs are canceled by the engine */
	b->cur = NULL;
	b->q.n = 0;
	if (b->conn != NULL)
		PQfinish(b->conn);
	acct_core_fini(&b->core);
	acct_fifo_fini(&b->q);
	if (b->conninfo != NULL)
		OPENSSL_cleanse(b->conninfo, strlen(b->conninfo));
	free(b->conninfo);
	free(b);
}

static const struct wg_account_ops pg_ops = {
	.name = "pg",
	.verify = pg_verify,
	.poll = pg_poll,
	.pollfds = pg_pollfds,
	.stats = pg_stats,
	.dump = pg_dump,
	.destroy = pg_destroy,
};

struct wg_account *
wg_account_pg_create(const struct wg_account_conf *conf, const struct wg_account_pg_conf *pg)
{
	struct pg_be *b;
	int rc;

	if (pg->conninfo == NULL || pg->connect_timeout_ms == 0 || pg->reconnect_min_ms == 0 ||
	    pg->reconnect_max_ms < pg->reconnect_min_ms) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->base.ops = &pg_ops;
	b->pgc = *pg;
	b->conninfo = strdup(pg->conninfo);
	b->pgc.conninfo = NULL;
	b->backoff_ms = pg->reconnect_min_ms;
	if (b->conninfo == NULL || acct_fifo_init(&b->q, conf->max_pending ? conf->max_pending : 1) < 0) {
		free(b->conninfo);
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	rc = acct_core_init(&b->core, conf);
	if (rc < 0) {
		acct_fifo_fini(&b->q);
		free(b->conninfo);
		free(b);
		errno = -rc;
		return NULL;
	}
	return &b->base;
}

/* ---- blocking account creation (tools, demo) ---- */

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int
wg_account_pg_add(const char *conninfo, const char *account, const char *password,
		  uint64_t player_id, const struct wg_scrypt_params *params, char *msg,
		  size_t msglen)
{
	uint8_t salt[WG_ACCOUNT_SALT_LEN], hash[WG_ACCOUNT_HASH_LEN], b_pid[8], b_n[4], b_r[4],
		b_p[4];
	const uint8_t *bins[6] = { b_pid, salt, hash, b_n, b_r, b_p };
	const int blen[6] = { 8, sizeof(salt), sizeof(hash), 4, 4, 4 };
	const char *vals[7];
	int lens[7], fmts[7];
	PGconn *conn = NULL;
	PGresult *res = NULL;
	char dummy[8];
	int rc;

	if (msg == NULL) {
		msg = dummy;
		msglen = sizeof(dummy);
	}
	if (msglen)
		msg[0] = '\0';
	if (!wg_account_name_ok(account) || player_id == 0 || (player_id >> 63) ||
	    strlen(password) > WG_ACCOUNT_PASSWORD_MAX || !wg_scrypt_params_ok(params))
		return -EINVAL;
	rc = wg_account_hash_new(password, strlen(password), params, salt, hash);
	if (rc < 0)
		return rc;
	conn = PQconnectdb(conninfo);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		errmsg(conn, msg, msglen);
		rc = -EAGAIN;
		goto out;
	}
	PQsetNoticeProcessor(conn, quiet_notice, NULL);
	res = PQexec(conn, migrate_sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		errmsg(conn, msg, msglen);
		rc = -EIO;
		goto out;
	}
	PQclear(res);
	put_be(b_pid, player_id, 8);
	put_be(b_n, params->n, 4);
	put_be(b_r, params->r, 4);
	put_be(b_p, params->p, 4);
	vals[0] = account;
	lens[0] = 0;
	fmts[0] = 0;
	for (int i = 0; i < 6; i++) {
		vals[i + 1] = (const char *)bins[i];
		lens[i + 1] = blen[i];
		fmts[i + 1] = 1;
	}
	res = PQexecParams(conn,
			   "INSERT INTO accounts (account, player_id, salt, hash, scrypt_n, "
			   "scrypt_r, scrypt_p) VALUES ($1, $2::int8, $3::bytea, $4::bytea, "
			   "$5::int4, $6::int4, $7::int4)",
			   7, NULL, vals, lens, fmts, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		errmsg(conn, msg, msglen);
		rc = st != NULL && strcmp(st, "23505") == 0 ? -EEXIST : -EIO;
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	PQfinish(conn);
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}
