/* SPDX-License-Identifier: BSD-3-Clause
 * Entity table: schema steps, prepared statements, claim and load.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_entity.h"

const struct wg_pg_migration wg_entity_migrations[] = {
	{ 1, "entity_table",
	  "CREATE TABLE wg_entity (kind int NOT NULL, id bigint NOT NULL, "
	  "version bigint NOT NULL, fence bigint NOT NULL DEFAULT 0, "
	  "data bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), "
	  "PRIMARY KEY (kind, id))" },
	{ 2, "entity_checks",
	  "ALTER TABLE wg_entity ADD CONSTRAINT wg_entity_version_nonneg "
	  "CHECK (version >= 0 AND fence >= 0)" },
};
const unsigned int wg_entity_n_migrations =
	sizeof(wg_entity_migrations) / sizeof(wg_entity_migrations[0]);

/* The rejected rows are reported with whether the row's fence (as of the
 * statement start) is newer than ours; not applied and not fenced means
 * our version was not newer: a replay or a late duplicate. */
static char *
upsert_sql(unsigned int rows)
{
	size_t cap = 1024 + rows * 96, off;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	off = (size_t)snprintf(s, cap, "WITH v(kind, id, version, fence, data) AS (VALUES ");
	for (unsigned int r = 0; r < rows; r++) {
		unsigned int p = r * 5;

		off += (size_t)snprintf(s + off, cap - off,
			"%s($%u::int, $%u::bigint, $%u::bigint, $%u::bigint, $%u::bytea)",
			r ? ", " : "", p + 1, p + 2, p + 3, p + 4, p + 5);
	}
	snprintf(s + off, cap - off, "), "
		"up AS (INSERT INTO wg_entity AS e (kind, id, version, fence, data) "
		"SELECT kind, id, version, fence, data FROM v "
		"ON CONFLICT (kind, id) DO UPDATE SET version = EXCLUDED.version, "
		"fence = EXCLUDED.fence, data = EXCLUDED.data, updated_at = now() "
		"WHERE e.version < EXCLUDED.version AND e.fence <= EXCLUDED.fence "
		"RETURNING e.kind, e.id) "
		"SELECT v.kind, v.id, coalesce(c.fence > v.fence, false) FROM v "
		"LEFT JOIN up ON up.kind = v.kind AND up.id = v.id "
		"LEFT JOIN wg_entity c ON c.kind = v.kind AND c.id = v.id "
		"WHERE up.id IS NULL");
	return s;
}

enum { ST_UP1, ST_UP8, ST_UP64, ST_CLAIM, ST_LOAD, ST_COUNT };

static struct wg_pg_stmt stmts[ST_COUNT];
static int stmts_ready;

const struct wg_pg_stmt *
wg_entity_stmts(unsigned int *n)
{
	if (!stmts_ready) {
		stmts[ST_UP1] = (struct wg_pg_stmt){ "wg_up1", upsert_sql(1), 5 };
		stmts[ST_UP8] = (struct wg_pg_stmt){ "wg_up8", upsert_sql(8), 40 };
		stmts[ST_UP64] = (struct wg_pg_stmt){ "wg_up64", upsert_sql(64), 320 };
		stmts[ST_CLAIM] = (struct wg_pg_stmt){ "wg_claim",
			"WITH c AS (INSERT INTO wg_entity AS e (kind, id, version, fence, data) "
			"VALUES ($1::int, $2::bigint, 0, $3::bigint, '\\x'::bytea) "
			"ON CONFLICT (kind, id) DO UPDATE SET fence = EXCLUDED.fence "
			"WHERE e.fence < EXCLUDED.fence RETURNING 1) "
			"SELECT (SELECT count(*) FROM c)::int, "
			"coalesce((SELECT fence FROM wg_entity WHERE kind = $1 AND id = $2), 0)",
			3 };
		stmts[ST_LOAD] = (struct wg_pg_stmt){ "wg_load",
			"SELECT version, fence, data FROM wg_entity WHERE kind = $1 AND id = $2",
			2 };
		for (int i = 0; i < ST_COUNT; i++)
			if (stmts[i].sql == NULL)
				return NULL;
		stmts_ready = 1;
	}
	*n = ST_COUNT;
	return stmts;
}

const char *
wg_entity_upsert_stmt(unsigned int rows)
{
	switch (rows) {
	case 1: return "wg_up1";
	case 8: return "wg_up8";
	case 64: return "wg_up64";
	default: return NULL;
	}
}

struct claim_op {
	uint64_t token;
	wg_entity_claim_cb *cb;
	void *arg;
};

static void
on_claim(void *arg, struct wg_pg_batch *b, int err)
{
	struct claim_op *op = arg;
	PGresult *res = err ? NULL : wg_pg_batch_result(b, 0);
	uint64_t cur = 0;
	int result = WG_CLAIM_FENCED;

	if (err == 0 && (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
			 PQntuples(res) != 1))
		err = -EPROTO;
	if (err == 0) {
		cur = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
		/* re-claiming with the token already stored is ours too */
		if (atoi(PQgetvalue(res, 0, 0)) == 1 || cur == op->token)
			result = WG_CLAIM_OK;
	}
	op->cb(op->arg, err, result, cur);
	free(op);
}

int
wg_entity_claim(struct wg_pg *pg, uint32_t kind, uint64_t id, uint64_t token,
		wg_entity_claim_cb *cb, void *arg)
{
	char k[16], i[24], t[24];
	const char *vals[3] = { k, i, t };
	struct claim_op *op;
	struct wg_pg_batch *b;
	int rc;

	if (cb == NULL || token == 0 || token > INT64_MAX || id > INT64_MAX)
		return -EINVAL;
	snprintf(k, sizeof(k), "%" PRId32, (int32_t)kind);
	snprintf(i, sizeof(i), "%" PRIu64, id);
	snprintf(t, sizeof(t), "%" PRIu64, token);
	op = malloc(sizeof(*op));
	if (op == NULL)
		return -ENOMEM;
	op->token = token;
	op->cb = cb;
	op->arg = arg;
	b = wg_pg_batch_new(on_claim, op);
	if (b == NULL) {
		free(op);
		return -ENOMEM;
	}
	if ((rc = wg_pg_batch_add(b, "wg_claim", 3, vals, NULL, NULL)) < 0 ||
	    (rc = wg_pg_submit(pg, b)) < 0) {
		wg_pg_batch_free(b);
		free(op);
	}
	return rc;
}

struct load_op {
	wg_entity_load_cb *cb;
	void *arg;
};

static void
on_load(void *arg, struct wg_pg_batch *b, int err)
{
	struct load_op *op = arg;
	PGresult *res = err ? NULL : wg_pg_batch_result(b, 0);
	unsigned char *data = NULL;
	size_t len = 0;
	uint64_t ver = 0, fence = 0;

	if (err == 0 && (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK))
		err = -EPROTO;
	if (err == 0 && PQntuples(res) == 0)
		err = -ENOENT;
	if (err == 0) {
		ver = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		fence = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
		data = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 2), &len);
		if (data == NULL)
			err = -ENOMEM;
		else if (ver == 0)
			err = -ENOENT;     /* only a claim placeholder */
	}
	op->cb(op->arg, err, ver, fence, err ? NULL : data, err ? 0 : len);
	PQfreemem(data);
	free(op);
}

int
wg_entity_load(struct wg_pg *pg, uint32_t kind, uint64_t id, wg_entity_load_cb *cb,
	       void *arg)
{
	char k[16], i[24];
	const char *vals[2] = { k, i };
	struct load_op *op;
	struct wg_pg_batch *b;
	int rc;

	if (cb == NULL || id > INT64_MAX)
		return -EINVAL;
	snprintf(k, sizeof(k), "%" PRId32, (int32_t)kind);
	snprintf(i, sizeof(i), "%" PRIu64, id);
	op = malloc(sizeof(*op));
	if (op == NULL)
		return -ENOMEM;
	op->cb = cb;
	op->arg = arg;
	b = wg_pg_batch_new(on_load, op);
	if (b == NULL) {
		free(op);
		return -ENOMEM;
	}
	if ((rc = wg_pg_batch_add(b, "wg_load", 2, vals, NULL, NULL)) < 0 ||
	    (rc = wg_pg_submit(pg, b)) < 0) {
		wg_pg_batch_free(b);
		free(op);
	}
	return rc;
}
