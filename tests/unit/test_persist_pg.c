/* SPDX-License-Identifier: BSD-3-Clause
 * PostgreSQL pieces of logic/persist that need no server: migration list
 * checks and the ordered plan of missing steps, SQLSTATE classification
 * (replay vs retry vs report), batch building and its argument checks, the
 * entity statements and their parameter counts, and configuration checks.
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

#include "logic/persist/pg.h"
#include "logic/persist/pg_entity.h"

static const struct wg_pg_migration steps[] = {
	{ 1, "create_a", "CREATE TABLE a (x int)" },
	{ 2, "create_b", "CREATE TABLE b (y int)" },
	{ 5, "index_b", "CREATE INDEX ON b (y)" },
	{ 100, "app_c", "CREATE TABLE c (z int)" },
};

static void
test_migrations_check(void **state)
{
	struct wg_pg_migration m[2];

	(void)state;
	assert_int_equal(wg_pg_migrations_check(steps, 4), 0);
	assert_int_equal(wg_pg_migrations_check(NULL, 0), 0);
	assert_int_equal(wg_pg_migrations_check(wg_entity_migrations, wg_entity_n_migrations), 0);
	/* versions must strictly increase and start above 0 */
	m[0] = steps[1];
	m[1] = steps[0];
	assert_int_equal(wg_pg_migrations_check(m, 2), -EINVAL);
	m[1] = steps[1];
	assert_int_equal(wg_pg_migrations_check(m, 2), -EINVAL);
	m[0] = (struct wg_pg_migration){ 0, "zero", "SELECT 1" };
	assert_int_equal(wg_pg_migrations_check(m, 1), -EINVAL);
	/* names go into SQL text: only [a-z0-9_] */
	static const char *const bad[] = { "", "Upper", "semi;colon", "quote'", "sp ace",
					   "a-b", "x123456789012345678901234567890123456789012345678" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m[0] = (struct wg_pg_migration){ 1, bad[i], "SELECT 1" };
		if (wg_pg_migrations_check(m, 1) != -EINVAL)
			fail_msg("accepted name '%s'", bad[i]);
	}
	m[0] = (struct wg_pg_migration){ 1, NULL, "SELECT 1" };
	assert_int_equal(wg_pg_migrations_check(m, 1), -EINVAL);
	m[0] = (struct wg_pg_migration){ 1, "ok", NULL };
	assert_int_equal(wg_pg_migrations_check(m, 1), -EINVAL);
}

static void
test_migrations_plan(void **state)
{
	char buf[2048];
	const char *p1, *p2, *p5, *p100;

	(void)state;
	/* fresh database: every step, in version order, each followed by its row */
	assert_int_equal(wg_pg_migrations_plan(steps, 4, 0, buf, sizeof(buf)), 4);
	p1 = strstr(buf, "CREATE TABLE a (x int);\nINSERT INTO wg_migrations (version, name) "
		    "VALUES (1, 'create_a');\n");
	p2 = strstr(buf, "CREATE TABLE b (y int);\nINSERT INTO wg_migrations (version, name) "
		    "VALUES (2, 'create_b');\n");
	p5 = strstr(buf, "CREATE INDEX ON b (y);\nINSERT INTO wg_migrations (version, name) "
		    "VALUES (5, 'index_b');\n");
	p100 = strstr(buf, "VALUES (100, 'app_c');\n");
	assert_true(p1 == buf);
	assert_true(p1 && p2 && p5 && p100 && p1 < p2 && p2 < p5 && p5 < p100);
	assert_int_equal(strlen(buf), (size_t)(p100 - buf) + strlen("VALUES (100, 'app_c');\n"));

	/* partly migrated: only the steps above the applied version */
	assert_int_equal(wg_pg_migrations_plan(steps, 4, 2, buf, sizeof(buf)), 2);
	assert_null(strstr(buf, "create_a"));
	assert_null(strstr(buf, "create_b"));
	assert_true(strstr(buf, "CREATE INDEX ON b (y);") == buf);
	/* between steps (a version we never shipped, e.g. a rollback) */
	assert_int_equal(wg_pg_migrations_plan(steps, 4, 3, buf, sizeof(buf)), 2);
	/* up to date, or the database is newer than us: nothing to do */
	assert_int_equal(wg_pg_migrations_plan(steps, 4, 100, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(wg_pg_migrations_plan(steps, 4, 200, buf, sizeof(buf)), 0);
	/* too small a buffer is an error, never a truncated plan */
	assert_int_equal(wg_pg_migrations_plan(steps, 4, 0, buf, 100), -ENOSPC);
	assert_int_equal(wg_pg_migrations_plan(steps, 4, 0, buf, 0), -ENOSPC);
	/* a bad list plans nothing */
	struct wg_pg_migration m[2] = { steps[1], steps[0] };
	assert_int_equal(wg_pg_migrations_plan(m, 2, 0, buf, sizeof(buf)), -EINVAL);
}

static void
test_sqlstate(void **state)
{
	(void)state;
	/* serialization failure / deadlock: the transaction rolled back, run again */
	assert_true(wg_pg_sqlstate_retryable("40001"));
	assert_true(wg_pg_sqlstate_retryable("40P01"));
	assert_false(wg_pg_sqlstate_retryable("23505"));
	assert_false(wg_pg_sqlstate_retryable(NULL));
	/* the session is ending: replay on a new connection */
	assert_true(wg_pg_sqlstate_conn_lost("57P01"));   /* admin_shutdown / terminate */
	assert_true(wg_pg_sqlstate_conn_lost("57P02"));   /* crash_shutdown */
	assert_true(wg_pg_sqlstate_conn_lost("08006"));
	assert_true(wg_pg_sqlstate_conn_lost("53300"));   /* too_many_connections */
	/* data errors are reported, never replayed forever */
	assert_false(wg_pg_sqlstate_conn_lost("22021"));  /* bad UTF-8 */
	assert_false(wg_pg_sqlstate_conn_lost("42601"));  /* syntax */
	assert_false(wg_pg_sqlstate_conn_lost("23505"));
	assert_false(wg_pg_sqlstate_conn_lost(""));
	assert_false(wg_pg_sqlstate_conn_lost(NULL));
}

static void
test_batch_build(void **state)
{
	struct wg_pg_batch *b = wg_pg_batch_new(NULL, (void *)0x1234);
	const char *v[3] = { "1", NULL, "bin\0ary" };
	int lens[3] = { 0, 0, 7 }, fmts[3] = { 0, 0, 1 };
	char longname[WG_PG_NAME_MAX + 2];

	(void)state;
	assert_non_null(b);
	assert_ptr_equal(wg_pg_batch_arg(b), (void *)0x1234);
	assert_int_equal(wg_pg_batch_add(b, "s", 3, v, lens, fmts), 0);
	assert_int_equal(wg_pg_batch_add(b, "s", 0, NULL, NULL, NULL), 0);
	/* many statements: the arrays grow */
	for (int i = 0; i < 100; i++)
		assert_int_equal(wg_pg_batch_add(b, "t", 1, v, NULL, NULL), 0);
	assert_int_equal(wg_pg_batch_count(b), 102);
	/* results exist only after the server answered */
	assert_null(wg_pg_batch_result(b, 0));
	assert_null(wg_pg_batch_result(b, 102));

	/* argument checks: nothing is appended on error */
	assert_int_equal(wg_pg_batch_add(b, NULL, 0, NULL, NULL, NULL), -EINVAL);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(wg_pg_batch_add(b, longname, 0, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(wg_pg_batch_add(b, "s", -1, v, NULL, NULL), -EINVAL);
	assert_int_equal(wg_pg_batch_add(b, "s", WG_PG_MAX_PARAMS + 1, v, NULL, NULL), -EINVAL);
	assert_int_equal(wg_pg_batch_add(b, "s", 1, NULL, NULL, NULL), -EINVAL);
	fmts[0] = 2;
	assert_int_equal(wg_pg_batch_add(b, "s", 3, v, lens, fmts), -EINVAL);
	fmts[0] = 0;
	lens[2] = -1;                       /* binary needs a length */
	assert_int_equal(wg_pg_batch_add(b, "s", 3, v, lens, fmts), -EINVAL);
	assert_int_equal(wg_pg_batch_add(b, "s", 3, v, NULL, fmts), -EINVAL);
	assert_int_equal(wg_pg_batch_count(b), 102);
	wg_pg_batch_free(b);
	wg_pg_batch_free(NULL);
}

static int
count_params(const char *sql)
{
	int max = 0;

	for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$')) {
		int n = atoi(p + 1);

		if (n > max)
			max = n;
	}
	return max;
}

static void
test_entity_stmts(void **state)
{
	unsigned int n = 0, found = 0;
	const struct wg_pg_stmt *s = wg_entity_stmts(&n);

	(void)state;
	assert_non_null(s);
	assert_int_equal(n, 5);
	for (unsigned int i = 0; i < n; i++) {
		/* declared counts match the SQL: a mismatch fails at PREPARE */
		assert_int_equal(s[i].nparams, count_params(s[i].sql));
		assert_true(strlen(s[i].name) <= WG_PG_NAME_MAX);
		for (unsigned int rows = 1; rows <= WG_ENTITY_UPSERT_MAX; rows++) {
			const char *nm = wg_entity_upsert_stmt(rows);

			if (nm && strcmp(nm, s[i].name) == 0) {
				assert_int_equal(s[i].nparams, (int)rows * 5);
				/* versioned and fenced in the same statement */
				assert_non_null(strstr(s[i].sql, "e.version < EXCLUDED.version"));
				assert_non_null(strstr(s[i].sql, "e.fence <= EXCLUDED.fence"));
				found++;
			}
		}
	}
	assert_int_equal(found, 3);
	assert_null(wg_entity_upsert_stmt(0));
	assert_null(wg_entity_upsert_stmt(2));
	assert_null(wg_entity_upsert_stmt(65));
	/* the claim only ever raises the fence */
	for (unsigned int i = 0; i < n; i++)
		if (strcmp(s[i].name, "wg_claim") == 0)
			assert_non_null(strstr(s[i].sql, "WHERE e.fence < EXCLUDED.fence"));
}

static void
test_create_checks(void **state)
{
	struct wg_pg_conf c = { .conninfo = "host=127.0.0.1 port=1", .max_inflight = 2,
				.max_queued = 4 };
	struct wg_pg_migration bad[2] = { steps[1], steps[0] };

	(void)state;
	c.conninfo = NULL;
	errno = 0;
	assert_null(wg_pg_create(&c));
	assert_int_equal(errno, EINVAL);
	c.conninfo = "host=127.0.0.1 port=1";
	c.max_inflight = 0;
	assert_null(wg_pg_create(&c));
	c.max_inflight = 8;                 /* more in flight than accepted */
	assert_null(wg_pg_create(&c));
	c.max_inflight = 2;
	c.migrations = bad;
	c.n_migrations = 2;
	assert_null(wg_pg_create(&c));
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_check),
		cmocka_unit_test(test_migrations_plan),
		cmocka_unit_test(test_sqlstate),
		cmocka_unit_test(test_batch_build),
		cmocka_unit_test(test_entity_stmts),
		cmocka_unit_test(test_create_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
