/* SPDX-License-Identifier: BSD-3-Clause
 * Account checks. scrypt against the RFC 7914 vectors; the in-memory
 * backend through the vtable (results only from poll, exact counts under
 * concurrency on two hash threads, pool exhaustion, cancellation on
 * destroy); and the PostgreSQL backend against a real server started here
 * with tools/dbctl.sh (argv[1]) in a temp dir on a free port: accounts
 * created by the blocking helper, good/bad/unknown, an unusable row, a
 * server-side kill of the idle connection (transparent reconnect), the
 * server stopped (clean -EAGAIN, then reconnection when it is back).
 * The PostgreSQL tests are skipped only when initdb is not installed.
 */
#include <errno.h>
#include <glob.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "account.h"

static const char *dbctl;
static char pgdir[64];
static char conninfo[256];
static bool pg_up;

static const struct wg_scrypt_params cheap = { .n = 1024, .r = 4, .p = 1 };

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct res {
	int n;
	int rc;
	uint64_t player;
	bool in_verify;            /* set around verify(): callbacks must not run then */
	bool bad_context;
};

static void
done_cb(void *arg, int rc, uint64_t player)
{
	struct res *r = arg;

	if (r->in_verify)
		r->bad_context = true;
	r->n++;
	r->rc = rc;
	r->player = player;
}

static int
verify(struct wg_account *a, const char *acct, const char *pw, struct res *r)
{
	int rc;

	r->in_verify = true;
	rc = wg_account_verify(a, acct, pw, strlen(pw), done_cb, r);
	r->in_verify = false;
	return rc;
}

/* Drive the backend until *n reaches want (or 20 s pass: a failure). */
static void
run_until(struct wg_account *a, const int *n, int want)
{
	uint64_t end = now_ms() + 20000;

	while (*n < want) {
		struct pollfd pfd[4];
		int k;

		if (now_ms() > end)
			fail_msg("no result after 20 s (%d of %d)", *n, want);
		wg_account_poll(a, now_ms());
		if (*n >= want)
			break;
		k = wg_account_pollfds(a, pfd, 4);
		assert_true(k >= 1);
		poll(pfd, (nfds_t)k, 10);
	}
}

static int
check(struct wg_account *a, const char *acct, const char *pw, uint64_t *player)
{
	struct res r = { 0 };

	assert_int_equal(verify(a, acct, pw, &r), 0);
	run_until(a, &r.n, 1);
	assert_false(r.bad_context);
	assert_int_equal(r.n, 1);
	if (player)
		*player = r.player;
	return r.rc;
}

static void
hex(const char *h, uint8_t *out)
{
	for (size_t i = 0; h[2 * i]; i++)
		sscanf(h + 2 * i, "%2hhx", &out[i]);
}

static void
test_scrypt(void **state)
{
	static const struct {
		const char *pw, *salt;
		struct wg_scrypt_params p;
		const char *dk;
	} v[] = {
		{ "password", "NaCl", { 1024, 8, 16 },
		  "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
		  "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640" },
		{ "pleaseletmein", "SodiumChloride", { 16384, 8, 1 },
		  "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
		  "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887" },
	};
	uint8_t want[64], got[64], salt[16], h1[32], h2[32];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex(v[i].dk, want);
		assert_int_equal(wg_scrypt(v[i].pw, strlen(v[i].pw), (const uint8_t *)v[i].salt,
					   strlen(v[i].salt), &v[i].p, got, 64), 0);
		assert_memory_equal(got, want, 64);
	}
	/* parameter bounds */
	static const struct wg_scrypt_params bad[] = {
		{ 0, 8, 1 }, { 1, 8, 1 }, { 1000, 8, 1 }, { 1u << 21, 1, 1 }, { 1024, 0, 1 },
		{ 1024, 33, 1 }, { 1024, 8, 0 }, { 1024, 8, 17 }, { 1u << 20, 16, 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(wg_scrypt_params_ok(&bad[i]));
		assert_int_equal(wg_scrypt("x", 1, (const uint8_t *)"s", 1, &bad[i], got, 32),
				 -EINVAL);
	}
	/* new hashes: random salt, so the same password hashes differently */
	assert_int_equal(wg_account_hash_new("pw", 2, &cheap, salt, h1), 0);
	assert_int_equal(wg_scrypt("pw", 2, salt, 16, &cheap, h2, 32), 0);
	assert_memory_equal(h1, h2, 32);
	assert_int_equal(wg_account_hash_new("pw", 2, &cheap, salt, h2), 0);
	assert_memory_not_equal(h1, h2, 32);
	/* names */
	assert_true(wg_account_name_ok("alice"));
	assert_false(wg_account_name_ok(""));
	assert_false(wg_account_name_ok("a\tb"));
	assert_false(wg_account_name_ok("a\x7f"));
	char longname[66];
	memset(longname, 'x', 65);
	longname[65] = '\0';
	assert_false(wg_account_name_ok(longname));
	longname[64] = '\0';
	assert_true(wg_account_name_ok(longname));
}

struct reenter {
	struct wg_account *a;
	int n;
	int rc;
};

static void
reenter_cb(void *arg, int rc, uint64_t player)
{
	struct reenter *r = arg;

	(void)rc;
	(void)player;
	r->n++;
	r->rc = wg_account_verify(r->a, "bob", "", 0, reenter_cb, r);
}

static struct wg_account_conf
conf(unsigned int pending, unsigned int threads)
{
	return (struct wg_account_conf){ .max_pending = pending, .hash_threads = threads,
					 .timeout_ms = 5000, .hash = cheap };
}

static void
test_static(void **state)
{
	struct wg_account_conf c = conf(4, 1);
	struct wg_account *a = wg_account_static_create(&c, 3);
	struct wg_account_stats st;
	struct res r = { 0 };
	uint64_t player = 0;
	char pw[WG_ACCOUNT_PASSWORD_MAX + 2];

	(void)state;
	assert_non_null(a);
	assert_string_equal(a->ops->name, "static");
	assert_int_equal(wg_account_static_add(a, "alice", "correct horse", 1001), 0);
	assert_int_equal(wg_account_static_add(a, "bob", "", 1002), 0);
	assert_int_equal(wg_account_static_add(a, "alice", "x", 1003), -EEXIST);
	assert_int_equal(wg_account_static_add(a, "carol", "x", 1001), -EEXIST);
	assert_int_equal(wg_account_static_add(a, "carol", "x", 0), -EINVAL);
	assert_int_equal(wg_account_static_add(a, "bad\nname", "x", 9), -EINVAL);
	assert_int_equal(wg_account_static_add(a, "carol", "x", 1003), 0);
	assert_int_equal(wg_account_static_add(a, "dave", "x", 1004), -ENOSPC);

	assert_int_equal(check(a, "alice", "correct horse", &player), 0);
	assert_int_equal(player, 1001);
	assert_int_equal(check(a, "alice", "correct horsf", &player), -EACCES);
	assert_int_equal(player, 0);
	assert_int_equal(check(a, "alice", "", NULL), -EACCES);
	assert_int_equal(check(a, "bob", "", &player), 0);
	assert_int_equal(player, 1002);
	assert_int_equal(check(a, "mallory", "correct horse", &player), -ENOENT);
	/* bad input is refused at once, no callback */
	assert_int_equal(verify(a, "", "x", &r), -EINVAL);
	assert_int_equal(verify(a, "a\x01", "x", &r), -EINVAL);
	memset(pw, 'p', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	assert_int_equal(verify(a, "alice", pw, &r), -EINVAL);
	pw[WG_ACCOUNT_PASSWORD_MAX] = '\0';          /* exactly the maximum: fine */
	assert_int_equal(check(a, "alice", pw, NULL), -EACCES);
	assert_int_equal(r.n, 0);

	/* the pool: max_pending checks at once, then -ENOSPC until polled */
	for (int i = 0; i < 4; i++)
		assert_int_equal(verify(a, "alice", "correct horse", &r), 0);
	assert_int_equal(verify(a, "alice", "correct horse", &r), -ENOSPC);
	run_until(a, &r.n, 4);
	assert_false(r.bad_context);
	assert_int_equal(r.rc, 0);
	assert_int_equal(verify(a, "alice", "correct horse", &r), 0);
	run_until(a, &r.n, 5);

	wg_account_stats(a, &st);
	assert_int_equal(st.submitted, 11);
	assert_int_equal(st.ok, 7);
	assert_int_equal(st.bad_password, 3);
	assert_int_equal(st.unknown, 1);
	assert_int_equal(st.busy, 1);
	assert_int_equal(st.pending, 0);
	assert_true(st.ready);

	/* destroy with checks in progress: each completes as canceled */
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 4; i++)
		assert_int_equal(verify(a, "bob", "", &r), 0);
	wg_account_destroy(a);
	assert_int_equal(r.n, 4);
	assert_true(r.rc == -ECANCELED || r.rc == 0);

	/* a callback run by destroy cannot start a new check */
	struct reenter re = { .a = wg_account_static_create(&c, 1) };
	assert_non_null(re.a);
	assert_int_equal(wg_account_static_add(re.a, "bob", "", 7), 0);
	assert_int_equal(wg_account_verify(re.a, "bob", "", 0, reenter_cb, &re), 0);
	assert_int_equal(wg_account_verify(re.a, "bob", "", 0, reenter_cb, &re), 0);
	wg_account_destroy(re.a);
	assert_int_equal(re.n, 2);
	assert_int_equal(re.rc, -ECANCELED);
}

struct many {
	int n;
	int ok, bad, unknown;
	uint64_t players;
};

static void
many_cb(void *arg, int rc, uint64_t player)
{
	struct many *m = arg;

	m->n++;
	m->ok += rc == 0;
	m->bad += rc == -EACCES;
	m->unknown += rc == -ENOENT;
	m->players += player;
}

static void
test_static_concurrent(void **state)
{
	struct wg_account_conf c = conf(32, 2);
	struct wg_account *a = wg_account_static_create(&c, 8);
	struct many m = { 0 };
	char name[16], pw[16];
	int sent = 0;

	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(pw, sizeof(pw), "pw%d", i);
		assert_int_equal(wg_account_static_add(a, name, pw, 100 + (uint64_t)i), 0);
	}
	/* 300 checks through a pool of 32: i%3 == 0 good, 1 bad, 2 unknown */
	while (sent < 300) {
		int i = sent;

		snprintf(name, sizeof(name), i % 3 == 2 ? "ghost%d" : "user%d", i % 8);
		snprintf(pw, sizeof(pw), i % 3 == 1 ? "nope%d" : "pw%d", i % 8);
		int rc = wg_account_verify(a, name, pw, strlen(pw), many_cb, &m);
		if (rc == -ENOSPC) {
			run_until(a, &m.n, m.n + 1);
			continue;
		}
		assert_int_equal(rc, 0);
		sent++;
	}
	run_until(a, &m.n, 300);
	assert_int_equal(m.ok, 100);
	assert_int_equal(m.bad, 100);
	assert_int_equal(m.unknown, 100);
	uint64_t want = 0;
	for (int i = 0; i < 300; i += 3)
		want += 100 + (uint64_t)(i % 8);
	assert_int_equal(m.players, want);
	wg_account_destroy(a);

	/* configuration checks */
	c.hash_threads = 0;
	assert_null(wg_account_static_create(&c, 1));
	c = conf(0, 1);
	assert_null(wg_account_static_create(&c, 1));
	c = conf(1, 1);
	c.hash.n = 1000;
	assert_null(wg_account_static_create(&c, 1));
	assert_int_equal(errno, EINVAL);
}

/* ---- PostgreSQL ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool
have_initdb(void)
{
	glob_t g;
	bool ok;

	if (getenv("PGBIN") != NULL) {
		char p[512];

		snprintf(p, sizeof(p), "%s/initdb", getenv("PGBIN"));
		return access(p, X_OK) == 0;
	}
	ok = glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0 && g.gl_pathc > 0;
	globfree(&g);
	return ok;
}

static int
pg_setup(void **state)
{
	char port[16] = { 0 };
	FILE *f;

	(void)state;
	if (dbctl == NULL || !have_initdb())
		return 0;
	strcpy(pgdir, "/tmp/wgacct.XXXXXX");
	if (mkdtemp(pgdir) == NULL)
		return -1;
	snprintf(conninfo, sizeof(conninfo), "%s free-port", dbctl);
	f = popen(conninfo, "r");
	if (f == NULL || fgets(port, sizeof(port), f) == NULL) {
		if (f)
			pclose(f);
		return -1;
	}
	pclose(f);
	port[strcspn(port, "\n")] = '\0';
	if (sh("%s start-pg %s %s >/dev/null", dbctl, pgdir, port) != 0)
		return -1;
	snprintf(conninfo, sizeof(conninfo),
		 "host=127.0.0.1 port=%s user=postgres dbname=postgres "
		 "application_name=wgacct_test connect_timeout=5", port);
	pg_up = true;
	return 0;
}

static int
pg_teardown(void **state)
{
	(void)state;
	if (pgdir[0]) {
		sh("%s stop %s >/dev/null 2>&1", dbctl, pgdir);
		sh("rm -rf %s", pgdir);
	}
	return 0;
}

static void
sql(const char *q)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

struct logs {
	int n[8];
	char last[8][512];
};

static struct logs logs;

static void
log_cb(void *arg, int level, const char *msg)
{
	struct logs *l = arg;

	assert_true(level >= 0 && level < 8);
	l->n[level]++;
	snprintf(l->last[level], sizeof(l->last[level]), "%s", msg);
}

static struct wg_account *
mkpg(void)
{
	struct wg_account_conf c = conf(16, 1);
	struct wg_account_pg_conf pc = { .conninfo = conninfo, .connect_timeout_ms = 3000,
					 .reconnect_min_ms = 50, .reconnect_max_ms = 400 };
	struct wg_account *a;

	memset(&logs, 0, sizeof(logs));
	c.log = log_cb;
	c.log_arg = &logs;
	a = wg_account_pg_create(&c, &pc);
	assert_non_null(a);
	return a;
}

static void
wait_ready(struct wg_account *a)
{
	struct wg_account_stats st;
	uint64_t end = now_ms() + 20000;

	for (;;) {
		wg_account_poll(a, now_ms());
		wg_account_stats(a, &st);
		if (st.ready)
			return;
		if (now_ms() > end)
			fail_msg("backend not ready after 20 s");
		usleep(5000);
	}
}

static void
test_pg(void **state)
{
	struct wg_account *a;
	struct wg_account_stats st;
	uint64_t player = 0;
	char msg[256];

	(void)state;
	if (!pg_up)
		skip();
	a = mkpg();
	assert_string_equal(a->ops->name, "pg");
	/* checks submitted before the first connection wait for it */
	assert_int_equal(check(a, "alice", "secret", NULL), -ENOENT);

	assert_int_equal(wg_account_pg_add(conninfo, "alice", "secret", 5001, &cheap, msg,
					   sizeof(msg)), 0);
	assert_int_equal(wg_account_pg_add(conninfo, "bob", "hunter2", 5002, &cheap, NULL, 0), 0);
	assert_int_equal(wg_account_pg_add(conninfo, "alice", "x", 5003, &cheap, msg,
					   sizeof(msg)), -EEXIST);
	assert_non_null(strstr(msg, "duplicate key"));
	assert_int_equal(wg_account_pg_add(conninfo, "carol", "x", 5001, &cheap, NULL, 0),
			 -EEXIST);
	assert_int_equal(wg_account_pg_add(conninfo, "", "x", 5009, &cheap, NULL, 0), -EINVAL);

	assert_int_equal(check(a, "alice", "secret", &player), 0);
	assert_int_equal(player, 5001);
	assert_int_equal(check(a, "bob", "hunter2", &player), 0);
	assert_int_equal(player, 5002);
	assert_int_equal(check(a, "bob", "hunter3", &player), -EACCES);
	assert_int_equal(check(a, "carol", "x", NULL), -ENOENT);
	/* SQL-looking names are just names (a bound parameter) */
	assert_int_equal(check(a, "x' OR '1'='1", "secret", NULL), -ENOENT);

	/* a row with parameters we refuse to run: an error, not a crash or
	 * an unbounded allocation */
	sql("INSERT INTO accounts VALUES ('evil', 6000, '\\x00112233445566778899', "
	    "'\\x00112233445566778899aabbccddeeff', 3, 8, 1)");
	sql("INSERT INTO accounts VALUES ('huge', 6001, '\\x00112233445566778899', "
	    "'\\x00112233445566778899aabbccddeeff', 1073741824, 8, 1)");
	assert_int_equal(check(a, "evil", "x", NULL), -EIO);
	assert_int_equal(check(a, "huge", "x", NULL), -EIO);
	assert_int_equal(logs.n[3], 2);
	assert_non_null(strstr(logs.last[3], "'huge' is unusable"));

	/* the server kills our idle session: the next check reconnects and
	 * succeeds (the lookup is resent once) */
	sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE application_name = 'wgacct_test' AND pid <> pg_backend_pid()");
	assert_int_equal(check(a, "alice", "secret", &player), 0);
	assert_int_equal(player, 5001);
	wg_account_stats(a, &st);
	assert_int_equal(st.conn_lost, 1);
	assert_int_equal(st.connects, 2);
	assert_int_equal(logs.n[4], 1);
	assert_non_null(strstr(logs.last[4], "connection lost"));

	/* the server goes away: a clean "unavailable", quickly, not a hang */
	assert_int_equal(sh("%s stop-pg %s >/dev/null", dbctl, pgdir), 0);
	assert_int_equal(check(a, "alice", "secret", NULL), -EAGAIN);
	assert_int_equal(check(a, "bob", "hunter2", NULL), -EAGAIN);
	wg_account_stats(a, &st);
	assert_false(st.ready);
	assert_true(st.connect_failures >= 1);
	assert_int_equal(st.unavailable, 2);

	/* back: the backend reconnects by itself */
	{
		char port[16];

		sscanf(strstr(conninfo, "port=") + 5, "%15s", port);
		assert_int_equal(sh("%s start-pg %s %s >/dev/null", dbctl, pgdir, port), 0);
	}
	wait_ready(a);
	/* one error line per outage however many attempts failed, one line
	 * when it ends */
	wg_account_stats(a, &st);
	assert_true(st.connect_failures >= 1);
	assert_int_equal(logs.n[3], 3);
	assert_non_null(strstr(logs.last[3], "connecting failed"));
	assert_int_equal(logs.n[6], 1);
	assert_non_null(strstr(logs.last[6], "connected again"));
	assert_int_equal(check(a, "alice", "secret", &player), 0);
	assert_int_equal(player, 5001);
	assert_int_equal(check(a, "alice", "wrong", NULL), -EACCES);
	wg_account_stats(a, &st);
	assert_int_equal(st.ok, 4);
	assert_int_equal(st.bad_password, 2);
	assert_int_equal(st.unknown, 3);
	assert_int_equal(st.errors, 2);
	assert_int_equal(st.unavailable, 2);
	assert_true(st.connects >= 3);
	wg_account_destroy(a);
}

/* Many checks through the pipeline of one connection and two hash threads,
 * with the connection killed in the middle: nothing lost, nothing wrong. */
static void
test_pg_load(void **state)
{
	struct wg_account_conf c = conf(64, 2);
	struct wg_account_pg_conf pc = { .conninfo = conninfo, .connect_timeout_ms = 3000,
					 .reconnect_min_ms = 50, .reconnect_max_ms = 400 };
	struct wg_account *a;
	struct many m = { 0 };
	int sent = 0;

	(void)state;
	if (!pg_up)
		skip();
	a = wg_account_pg_create(&c, &pc);
	assert_non_null(a);
	while (sent < 400) {
		const char *name = sent % 2 ? "alice" : "bob";
		const char *pw = sent % 4 == 0 ? "hunter2" : sent % 4 == 1 ? "secret" : "bad";
		int rc = wg_account_verify(a, name, pw, strlen(pw), many_cb, &m);

		if (rc == -ENOSPC) {
			run_until(a, &m.n, m.n + 1);
			continue;
		}
		assert_int_equal(rc, 0);
		if (++sent == 200)
			sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
			    "WHERE application_name = 'wgacct_test' AND pid <> pg_backend_pid()");
	}
	run_until(a, &m.n, 400);
	assert_int_equal(m.ok, 200);
	assert_int_equal(m.bad, 200);
	assert_int_equal(m.unknown, 0);
	assert_int_equal(m.players, 100 * 5002ull + 100 * 5001ull);
	{
		struct wg_account_stats st;

		wg_account_stats(a, &st);
		assert_int_equal(st.conn_lost, 1);
		assert_int_equal(st.ok, 200);
		assert_int_equal(st.pending, 0);
	}
	wg_account_destroy(a);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrypt),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_static_concurrent),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(test_pg),
		cmocka_unit_test(test_pg_load),
	};
	int rc;

	dbctl = argc > 1 ? argv[1] : NULL;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rc += cmocka_run_group_tests_name("account_pg", pg_tests, pg_setup, pg_teardown);
	return rc;
}
