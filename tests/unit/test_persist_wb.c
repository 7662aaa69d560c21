/* SPDX-License-Identifier: BSD-3-Clause
 * Write-back queue (logic/persist/writeback.c) against a recording sink:
 * coalescing to the newest version, cuts by row count and by interval,
 * bounded dirty set (-EAGAIN, nothing dropped), a sink that refuses cuts,
 * the in-flight row window, per-row results and the idle/pressure signals.
 * The PostgreSQL sink is exercised against a real server by
 * tests/integration/test_persist.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logic/persist/writeback.h"

#define MAX_CUTS 64
#define MAX_ROWS 4096

/* What the sink received: every cut, with copies of its rows' values. */
struct rec {
	bool refuse;
	int fail_with;                /* other than -EAGAIN: a hard error */
	unsigned int cuts;
	unsigned int cut_n[MAX_CUTS];
	unsigned int nrows;
	struct wg_wb_row rows[MAX_ROWS];
	uint8_t data[MAX_ROWS][32];
	/* row callback side */
	unsigned int results;
	struct wg_wb_result res[MAX_ROWS];
};

static int
rec_submit(void *ctx, struct wg_wb *wb, const struct wg_wb_row *rows, unsigned int n)
{
	struct rec *r = ctx;

	(void)wb;
	if (r->fail_with)
		return r->fail_with;
	if (r->refuse)
		return -EAGAIN;
	assert_true(r->cuts < MAX_CUTS && r->nrows + n <= MAX_ROWS);
	r->cut_n[r->cuts++] = n;
	for (unsigned int i = 0; i < n; i++) {
		/* the sink must copy: the queue reuses the buffers after the cut */
		assert_true(rows[i].len <= sizeof(r->data[0]));
		if (rows[i].len)
			memcpy(r->data[r->nrows], rows[i].data, rows[i].len);
		r->rows[r->nrows] = rows[i];
		r->rows[r->nrows].data = r->data[r->nrows];
		r->nrows++;
	}
	return 0;
}

static void
rec_row(void *arg, const struct wg_wb_result *res)
{
	struct rec *r = arg;

	assert_true(r->results < MAX_ROWS);
	r->res[r->results++] = *res;
}

static struct wg_wb *
mk(struct rec *r, uint32_t flush_ms, uint32_t flush_rows, uint32_t max_dirty,
   uint32_t max_inflight)
{
	struct wg_wb_conf c = {
		.flush_ms = flush_ms, .flush_rows = flush_rows, .max_dirty = max_dirty,
		.max_inflight_rows = max_inflight, .max_data = 32,
	};
	struct wg_wb_sink s = { rec_submit, r };
	struct wg_wb *wb;

	memset(r, 0, sizeof(*r));
	wb = wg_wb_create(&c, &s, rec_row, r);
	assert_non_null(wb);
	return wb;
}

static int
put(struct wg_wb *wb, uint64_t id, uint64_t ver, const char *val)
{
	return wg_wb_put(wb, 1, id, ver, 9, val, (uint32_t)strlen(val));
}

/* Report the rows of cut k (0-based) with one status. */
static void
ack_cut(struct wg_wb *wb, struct rec *r, unsigned int k, int status)
{
	struct wg_wb_result res[MAX_ROWS];
	unsigned int first = 0;

	for (unsigned int i = 0; i < k; i++)
		first += r->cut_n[i];
	for (unsigned int i = 0; i < r->cut_n[k]; i++) {
		const struct wg_wb_row *w = &r->rows[first + i];

		res[i] = (struct wg_wb_result){ w->kind, w->id, w->version, status };
	}
	wg_wb_rows_done(wb, res, r->cut_n[k]);
}

static void
test_create_checks(void **state)
{
	struct wg_wb_conf ok = { 10, 10, 100, 100, 64 }, c;
	struct wg_wb_sink s = { rec_submit, NULL };

	(void)state;
	c = ok; c.max_dirty = 0;
	assert_null(wg_wb_create(&c, &s, NULL, NULL));
	c = ok; c.flush_rows = 0;
	assert_null(wg_wb_create(&c, &s, NULL, NULL));
	c = ok; c.max_inflight_rows = 99;    /* could never cut a full set */
	assert_null(wg_wb_create(&c, &s, NULL, NULL));
	c = ok; c.max_data = 0;
	assert_null(wg_wb_create(&c, &s, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	s.submit = NULL;
	assert_null(wg_wb_create(&ok, &s, NULL, NULL));
}

static void
test_coalesce(void **state)
{
	struct rec r;
	struct wg_wb *wb = mk(&r, 1000, 1000, 16, 64);
	struct wg_wb_stats st;

	(void)state;
	assert_int_equal(put(wb, 7, 1, "one"), 0);
	assert_int_equal(put(wb, 7, 2, "two"), 0);
	assert_int_equal(put(wb, 7, 5, "five!"), 0);
	assert_int_equal(put(wb, 8, 1, "other"), 0);
	/* an older or equal version is refused and changes nothing */
	assert_int_equal(put(wb, 7, 5, "dup"), -ESTALE);
	assert_int_equal(put(wb, 7, 4, "old"), -ESTALE);
	/* same id, other kind: a different entity */
	assert_int_equal(wg_wb_put(wb, 2, 7, 1, 9, "k2", 2), 0);
	wg_wb_stats(wb, &st);
	assert_int_equal(st.puts, 5);
	assert_int_equal(st.coalesced, 2);
	assert_int_equal(st.dirty, 3);
	assert_false(wg_wb_idle(wb));

	assert_int_equal(wg_wb_flush(wb, 0), 3);
	assert_int_equal(r.cuts, 1);
	assert_int_equal(r.rows[0].id, 7);
	assert_int_equal(r.rows[0].version, 5);
	assert_int_equal(r.rows[0].fence, 9);
	assert_int_equal(r.rows[0].len, 5);
	assert_memory_equal(r.rows[0].data, "five!", 5);
	assert_int_equal(r.rows[1].id, 8);
	assert_memory_equal(r.rows[1].data, "other", 5);
	assert_int_equal(r.rows[2].kind, 2);

	/* after a cut the entity is clean: a lower version than the one in
	 * flight is the caller's business (the database rejects it as stale) */
	assert_int_equal(put(wb, 7, 6, "six"), 0);
	wg_wb_stats(wb, &st);
	assert_int_equal(st.dirty, 1);
	assert_int_equal(st.inflight_rows, 3);
	ack_cut(wb, &r, 0, WG_WB_APPLIED);
	wg_wb_stats(wb, &st);
	assert_int_equal(st.inflight_rows, 0);
	assert_int_equal(st.applied, 3);
	assert_int_equal(r.results, 3);
	assert_int_equal(r.res[0].version, 5);
	assert_false(wg_wb_idle(wb));
	assert_int_equal(wg_wb_flush(wb, 0), 1);
	ack_cut(wb, &r, 1, WG_WB_STALE);
	assert_true(wg_wb_idle(wb));
	wg_wb_stats(wb, &st);
	assert_int_equal(st.stale, 1);
	wg_wb_destroy(wb);
}

static void
test_cut_triggers(void **state)
{
	struct rec r;
	struct wg_wb *wb = mk(&r, 50, 4, 16, 64);

	(void)state;
	/* empty ticks move the interval start: the first put starts it */
	assert_int_equal(wg_wb_tick(wb, 1000), 0);
	assert_int_equal(put(wb, 1, 1, "a"), 0);
	assert_int_equal(wg_wb_tick(wb, 1049), 0);
	assert_int_equal(r.cuts, 0);
	assert_int_equal(wg_wb_tick(wb, 1050), 1);
	assert_int_equal(r.cuts, 1);
	/* row threshold: the 4th dirty entity cuts on the next tick, early */
	for (uint64_t id = 10; id < 14; id++)
		assert_int_equal(put(wb, id, 1, "b"), 0);
	assert_int_equal(wg_wb_tick(wb, 1051), 4);
	assert_int_equal(r.cuts, 2);
	assert_int_equal(r.cut_n[1], 4);
	/* updates to one entity never reach the row threshold */
	for (uint64_t v = 1; v <= 100; v++)
		assert_int_equal(put(wb, 99, v, "c"), 0);
	assert_int_equal(wg_wb_tick(wb, 1052), 0);
	assert_int_equal(wg_wb_tick(wb, 1101), 1);
	assert_int_equal(r.rows[r.nrows - 1].version, 100);
	wg_wb_destroy(wb);
}

static void
test_backpressure(void **state)
{
	struct rec r;
	struct wg_wb *wb = mk(&r, 10, 1000, 8, 8);
	struct wg_wb_stats st;
	uint64_t id;

	(void)state;
	for (id = 0; id < 5; id++)
		assert_int_equal(put(wb, id, 1, "x"), 0);
	assert_false(wg_wb_pressure(wb));
	for (; id < 8; id++)
		assert_int_equal(put(wb, id, 1, "x"), 0);
	assert_true(wg_wb_pressure(wb));           /* 3/4 full warns early */
	/* full: a new entity is refused, an already dirty one still updates */
	assert_int_equal(put(wb, 100, 1, "new"), -EAGAIN);
	assert_int_equal(put(wb, 3, 2, "upd"), 0);

	/* the sink refuses: nothing is lost, the set stays dirty and blocked,
	 * and the next tick offers it again without waiting an interval */
	r.refuse = true;
	assert_int_equal(wg_wb_tick(wb, 100), 0);
	wg_wb_stats(wb, &st);
	assert_int_equal(st.sink_busy, 1);
	assert_int_equal(st.dirty, 8);
	assert_int_equal(st.inflight_rows, 0);
	assert_true(wg_wb_pressure(wb));
	r.refuse = false;
	assert_int_equal(wg_wb_tick(wb, 101), 8);
	assert_int_equal(r.nrows, 8);
	assert_int_equal(r.rows[3].version, 2);
	assert_memory_equal(r.rows[3].data, "upd", 3);

	/* the in-flight window (8 rows) is full until the sink reports: new
	 * rows collect, cuts wait, and nothing is handed over twice */
	assert_int_equal(put(wb, 100, 1, "new"), 0);
	assert_int_equal(wg_wb_tick(wb, 200), 0);
	assert_int_equal(r.cuts, 1);
	assert_true(wg_wb_pressure(wb));
	ack_cut(wb, &r, 0, WG_WB_APPLIED);
	assert_int_equal(wg_wb_tick(wb, 201), 1);
	assert_int_equal(r.cuts, 2);
	assert_int_equal(r.rows[8].id, 100);
	ack_cut(wb, &r, 1, WG_WB_APPLIED);
	assert_true(wg_wb_idle(wb));

	/* every row ever put was handed over exactly once, at its last value */
	wg_wb_stats(wb, &st);
	assert_int_equal(st.rows_cut, 9);
	assert_int_equal(st.applied, 9);
	assert_int_equal(st.eagain, 1);

	/* a hard sink error is returned and the rows stay dirty */
	assert_int_equal(put(wb, 5, 7, "y"), 0);
	r.fail_with = -EIO;
	assert_int_equal(wg_wb_flush(wb, 300), -EIO);
	wg_wb_stats(wb, &st);
	assert_int_equal(st.dirty, 1);
	r.fail_with = 0;
	assert_int_equal(wg_wb_flush(wb, 301), 1);
	assert_int_equal(r.rows[r.nrows - 1].version, 7);
	wg_wb_destroy(wb);
}

static void
test_put_checks(void **state)
{
	struct rec r;
	struct wg_wb *wb = mk(&r, 10, 10, 4, 4);
	uint8_t big[33] = { 0 };

	(void)state;
	assert_int_equal(wg_wb_put(wb, 1, 1, 1, 0, big, 33), -EMSGSIZE);
	assert_int_equal(wg_wb_put(wb, 1, 1, 0, 0, big, 1), -EINVAL);        /* version 0 */
	assert_int_equal(wg_wb_put(wb, 1, 1, 1ull << 63, 0, big, 1), -EINVAL);
	assert_int_equal(wg_wb_put(wb, 1, 1ull << 63, 1, 0, big, 1), -EINVAL);
	assert_int_equal(wg_wb_put(wb, 1, 1, 1, 1ull << 63, big, 1), -EINVAL);
	assert_int_equal(wg_wb_put(wb, 1, 1, 1, 0, NULL, 1), -EINVAL);
	/* empty values are fine */
	assert_int_equal(wg_wb_put(wb, 1, 1, 1, 0, NULL, 0), 0);
	assert_int_equal(wg_wb_put(wb, 1, 2, 1, 0, big, 32), 0);
	assert_int_equal(wg_wb_flush(wb, 0), 2);
	assert_int_equal(r.rows[0].len, 0);
	assert_int_equal(r.rows[1].len, 32);
	wg_wb_destroy(wb);
}

/* Many entities through repeated cuts: the index must stay consistent
 * after every reset (linear probing with clears). */
static void
test_index_churn(void **state)
{
	struct rec r;
	struct wg_wb *wb = mk(&r, 1000, 100000, 64, 64);
	uint64_t ver[500] = { 0 };
	struct wg_wb_stats st;
	uint32_t x = 1;

	(void)state;
	for (int round = 0; round < 40; round++) {
		bool seen[500] = { false };
		unsigned int n = 0;

		for (int i = 0; i < 300; i++) {
			uint64_t id;

			x = x * 1664525u + 1013904223u;
			id = (x >> 8) % 500;
			int rc = put(wb, id, ver[id] + 1, "v");
			if (rc == -EAGAIN) {
				assert_false(seen[id]);
				continue;
			}
			assert_int_equal(rc, 0);
			ver[id]++;
			if (!seen[id])
				n++;
			seen[id] = true;
		}
		assert_true(n <= 64);
		r.nrows = 0;
		r.cuts = 0;
		assert_int_equal(wg_wb_flush(wb, 0), (int)n);
		/* each dirty entity exactly once, at its newest version */
		for (unsigned int i = 0; i < r.nrows; i++) {
			assert_true(seen[r.rows[i].id]);
			assert_int_equal(r.rows[i].version, ver[r.rows[i].id]);
			seen[r.rows[i].id] = false;
		}
		ack_cut(wb, &r, 0, WG_WB_APPLIED);
	}
	wg_wb_stats(wb, &st);
	assert_int_equal(st.inflight_rows, 0);
	assert_true(wg_wb_idle(wb));
	wg_wb_destroy(wb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_checks),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_cut_triggers),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_put_checks),
		cmocka_unit_test(test_index_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
