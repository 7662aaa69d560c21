/* SPDX-License-Identifier: BSD-3-Clause
 * PostgreSQL sink for the write-back: one cut = one pg batch = one
 * transaction, rows packed into 64-, 8- and 1-row versioned upserts
 * (multi-row VALUES cut the per-row protocol and planner cost; fixed sizes
 * keep the statements prepared). Integers go as text, values as binary
 * bytea, so no value is ever part of the SQL text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_entity.h"
#include "writeback.h"

struct wb_pg_meta {
	struct wg_wb *wb;
	unsigned int n;
	unsigned int nq;
	unsigned int *qrows;          /* first row of each query; [nq] = n */
	struct wg_wb_result res[];
};

static unsigned int
chunk_rows(unsigned int left)
{
	return left >= 64 ? 64 : left >= 8 ? 8 : 1;
}

static int
find_row(struct wb_pg_meta *m, unsigned int lo, unsigned int hi, uint32_t kind, uint64_t id)
{
	for (unsigned int r = lo; r < hi; r++)
		if (m->res[r].kind == kind && m->res[r].id == id)
			return (int)r;
	return -1;
}

static void
on_batch(void *arg, struct wg_pg_batch *b, int err)
{
	struct wb_pg_meta *m = arg;

	for (unsigned int r = 0; r < m->n; r++)
		m->res[r].status = err ? WG_WB_FAILED : WG_WB_APPLIED;
	for (unsigned int q = 0; err == 0 && q < m->nq; q++) {
		PGresult *res = wg_pg_batch_result(b, q);

		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
			for (unsigned int r = m->qrows[q]; r < m->qrows[q + 1]; r++)
				m->res[r].status = WG_WB_FAILED;
			continue;
		}
		for (int t = 0; t < PQntuples(res); t++) {
			uint32_t kind = (uint32_t)strtol(PQgetvalue(res, t, 0), NULL, 10);
			uint64_t id = strtoull(PQgetvalue(res, t, 1), NULL, 10);
			int r = find_row(m, m->qrows[q], m->qrows[q + 1], kind, id);

			if (r >= 0)
				m->res[r].status = PQgetvalue(res, t, 2)[0] == 't' ?
						   WG_WB_FENCED : WG_WB_STALE;
		}
	}
	wg_wb_rows_done(m->wb, m->res, m->n);
	free(m->qrows);
	free(m);
}

static int
pg_submit(void *ctx, struct wg_wb *wb, const struct wg_wb_row *rows, unsigned int n)
{
	struct wg_pg *pg = ctx;
	const char *vals[WG_ENTITY_UPSERT_MAX * 5];
	int lens[WG_ENTITY_UPSERT_MAX * 5], fmts[WG_ENTITY_UPSERT_MAX * 5];
	char nums[WG_ENTITY_UPSERT_MAX][4][24];
	struct wb_pg_meta *m;
	struct wg_pg_batch *b;
	unsigned int r = 0, q = 0;
	int rc = -ENOMEM;

	if (!wg_pg_can_submit(pg))
		return -EAGAIN;
	m = malloc(sizeof(*m) + n * sizeof(m->res[0]));
	if (m == NULL)
		return -ENOMEM;
	m->wb = wb;
	m->n = n;
	m->qrows = malloc((n + 1) * sizeof(*m->qrows));
	b = wg_pg_batch_new(on_batch, m);
	if (m->qrows == NULL || b == NULL)
		goto err;
	while (r < n) {
		unsigned int k = chunk_rows(n - r);

		for (unsigned int j = 0; j < k; j++) {
			const struct wg_wb_row *w = &rows[r + j];
			unsigned int p = j * 5;

			m->res[r + j] = (struct wg_wb_result){ w->kind, w->id, w->version, 0 };
			snprintf(nums[j][0], 24, "%" PRId32, (int32_t)w->kind);
			snprintf(nums[j][1], 24, "%" PRIu64, w->id);
			snprintf(nums[j][2], 24, "%" PRIu64, w->version);
			snprintf(nums[j][3], 24, "%" PRIu64, w->fence);
			for (int c = 0; c < 4; c++) {
				vals[p + c] = nums[j][c];
				lens[p + c] = 0;
				fmts[p + c] = 0;
			}
			/* an empty binary value must still be non-NULL */
			vals[p + 4] = w->len ? (const char *)w->data : "";
			lens[p + 4] = (int)w->len;
			fmts[p + 4] = 1;
		}
		m->qrows[q++] = r;
		rc = wg_pg_batch_add(b, wg_entity_upsert_stmt(k), (int)k * 5, vals, lens, fmts);
		if (rc < 0)
			goto err;
		r += k;
	}
	m->qrows[q] = n;
	m->nq = q;
	rc = wg_pg_submit(pg, b);
	if (rc < 0)
		goto err;
	return 0;
err:
	wg_pg_batch_free(b);
	free(m->qrows);
	free(m);
	return rc;
}

int
wg_wb_pg_sink(struct wg_pg *pg, struct wg_wb_sink *sink)
{
	if (pg == NULL || sink == NULL)
		return -EINVAL;
	sink->submit = pg_submit;
	sink->ctx = pg;
	return 0;
}
