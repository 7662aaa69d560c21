/* SPDX-License-Identifier: BSD-3-Clause
 * Discovery: the static file format (parse, errors with line numbers,
 * format round trip), the static backend's watch events across two
 * handles sharing one file (add, update, remove, unparsable edit keeps the
 * view, file removal), and discovery feeding an RPC balancer over real
 * servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "disc.h"
#include "../disc_evlog.h"
#include "test_rpc_echo.h"

static int
count_cb(void *arg, const struct wg_disc_instance *in)
{
	struct wg_disc_instance *out = arg;
	unsigned int i;

	for (i = 0; out[i].service[0]; i++)
		;
	out[i] = *in;
	return 0;
}

static void
test_parse(void **state)
{
	static const char good[] =
		"# fleet\n"
		"\n"
		"echo a 127.0.0.1:5001\n"
		"  echo\tb 127.0.0.1:5002 weight=3 zone=eu-1 ver=2 x=a=b  # trailing\r\n"
		"chat c [::1]:7000 weight=1000";
	struct wg_disc_instance got[8];
	char err[128], line[1024];
	int n;

	(void)state;
	memset(got, 0, sizeof(got));
	assert_int_equal(wg_disc_parse_static(good, strlen(good), count_cb, got, err,
					      sizeof(err)), 0);
	assert_string_equal(got[0].id, "a");
	assert_int_equal(got[0].weight, 1);
	assert_string_equal(got[0].zone, "");
	assert_string_equal(got[1].service, "echo");
	assert_string_equal(got[1].address, "127.0.0.1:5002");
	assert_int_equal(got[1].weight, 3);
	assert_string_equal(got[1].zone, "eu-1");
	assert_int_equal(got[1].n_meta, 2);
	assert_string_equal(wg_disc_instance_meta(&got[1], "ver"), "2");
	assert_string_equal(wg_disc_instance_meta(&got[1], "x"), "a=b");
	assert_null(wg_disc_instance_meta(&got[1], "zone"));
	assert_string_equal(got[2].address, "[::1]:7000");
	assert_int_equal(got[2].weight, 1000);
	assert_int_equal(got[3].service[0], 0);

	/* Round trip through the formatter is byte-identical as a value. */
	n = wg_disc_format_static(&got[1], line, sizeof(line));
	assert_true(n > 0);
	assert_string_equal(line, "echo b 127.0.0.1:5002 weight=3 zone=eu-1 ver=2 x=a=b\n");
	{
		struct wg_disc_instance again[2];

		memset(again, 0, sizeof(again));
		assert_int_equal(wg_disc_parse_static(line, (size_t)n, count_cb, again,
						      NULL, 0), 0);
		assert_memory_equal(&again[0], &got[1], sizeof(got[1]));
	}
	assert_int_equal(wg_disc_format_static(&got[1], line, 10), -ENOSPC);

	/* Errors name the line. */
#define BAD(text, want) do { \
		assert_int_equal(wg_disc_parse_static(text, strlen(text), NULL, NULL, \
						      err, sizeof(err)), -EINVAL); \
		assert_string_equal(err, want); \
	} while (0)
	BAD("echo a 1:1\necho b\n", "line 2: need <service> <id> <address>");
	BAD("\n\necho a 1:1 weight=0", "line 3: weight must be 1..1000");
	BAD("echo a 1:1 weight=1001", "line 1: weight must be 1..1000");
	BAD("echo a 1:1 weight=-1", "line 1: weight must be 1..1000");
	BAD("echo a 1:1 weight=", "line 1: weight must be 1..1000");
	BAD("echo a 1:1 bogus", "line 1: expected key=value, got 'bogus'");
	BAD("echo a 1:1 =x", "line 1: expected key=value, got '=x'");
	BAD("echo a 1:1 a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1",
	    "line 1: more than 8 metadata keys");
	BAD("echo a 1:1 a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1 j=1 k=1 l=1 m=1",
	    "line 1: too many fields");
	BAD("echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1:1",
	    "line 1: name too long");
	BAD("echo a 1:1 zone=a=b", "line 1: bad instance");
	BAD("echo a 1:1\necho b\x01 1:1", "line 2: bad character 0x01");
#undef BAD
	assert_int_equal(wg_disc_parse_static("echo a\0b 1:1", 12, NULL, NULL, err,
					      sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1: bad character 0x00");
	/* A repeated key: the last one wins, nothing of the first is left. */
	memset(got, 0, sizeof(got));
	assert_int_equal(wg_disc_parse_static("e a 1:1 zone=longzone zone=z", 28, count_cb,
					      got, NULL, 0), 0);
	{
		struct wg_disc_instance want;

		wg_disc_instance_init(&want, "e", "a", "1:1", 1, "z");
		assert_memory_equal(&got[0], &want, sizeof(want));
	}
}

static void
test_instance_helpers(void **state)
{
	struct wg_disc_instance in;
	int i;

	(void)state;
	wg_disc_instance_init(&in, "echo", "a", "127.0.0.1:1", 1, "");
	assert_int_equal(wg_disc_instance_check(&in), 0);
	in.weight = 0;
	assert_int_equal(wg_disc_instance_check(&in), -EINVAL);
	in.weight = 1;
	snprintf(in.id, sizeof(in.id), "has space");
	assert_int_equal(wg_disc_instance_check(&in), -EINVAL);
	snprintf(in.id, sizeof(in.id), "a");
	for (i = 0; i < WG_DISC_META_MAX; i++) {
		char k[8];

		snprintf(k, sizeof(k), "k%d", i);
		assert_int_equal(wg_disc_instance_set_meta(&in, k, "v"), 0);
	}
	assert_int_equal(wg_disc_instance_set_meta(&in, "k0", "new"), 0);
	assert_string_equal(wg_disc_instance_meta(&in, "k0"), "new");
	assert_int_equal(wg_disc_instance_set_meta(&in, "more", "v"), -ENOSPC);
	assert_int_equal(wg_disc_zone_id(""), 0);
	assert_int_equal(wg_disc_zone_id("eu-1"), wg_disc_zone_id("eu-1"));
	assert_int_not_equal(wg_disc_zone_id("eu-1"), wg_disc_zone_id("eu-2"));
}

struct tmp {
	char dir[64];
	char path[128];
};

static void
tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/wgdisc.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/fleet.txt", t->dir);
}

static void
tmp_rm(struct tmp *t)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

static void
write_file(const char *path, const char *text)
{
	char tmpp[160];
	FILE *f;

	snprintf(tmpp, sizeof(tmpp), "%s.edit", path);
	f = fopen(tmpp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmpp, path), 0);
}

/* Poll until the log has n events (2 s net). */
static void
poll_until(struct wg_disc *d, struct evlog *l, unsigned int n)
{
	int i;

	for (i = 0; i < 200 && l->n < n; i++)
		assert_true(wg_disc_poll(d, 10) >= 0);
}

static void
test_static_events(void **state)
{
	struct wg_disc_conf c = { .backend = "static" };
	struct wg_disc *watcher, *reg;
	struct wg_disc_instance in, list[8];
	struct wg_disc_stats st;
	struct evlog l = { 0 };
	struct tmp t;
	int i;

	(void)state;
	tmp_make(&t);
	write_file(t.path, "# two\necho a 127.0.0.1:5001 zone=z1\necho b 127.0.0.1:5002\n"
			   "chat x 127.0.0.1:6000\n");
	c.path = t.path;
	assert_null(wg_disc_create(&(struct wg_disc_conf){ .backend = "nope" }));
	assert_int_equal(errno, EINVAL);
	watcher = wg_disc_create(&c);
	reg = wg_disc_create(&c);
	assert_non_null(watcher);
	assert_non_null(reg);
	/* The first snapshot arrives during watch. */
	assert_int_equal(wg_disc_watch(watcher, "echo", ev_cb, &l), 0);
	assert_int_equal(wg_disc_watch(watcher, "echo", ev_cb, &l), -EEXIST);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0], WG_DISC_ADD);
	assert_string_equal(l.in[0].id, "a");
	assert_string_equal(l.in[0].zone, "z1");
	assert_int_equal(l.ev[1], WG_DISC_ADD);
	assert_string_equal(l.in[1].id, "b");
	/* Nothing changed: polls are quiet. */
	for (i = 0; i < 3; i++)
		wg_disc_poll(watcher, 5);
	assert_int_equal(l.n, 2);

	/* Another handle registers: add. */
	wg_disc_instance_init(&in, "echo", "c", "127.0.0.1:5003", 2, "z2");
	wg_disc_instance_set_meta(&in, "ver", "7");
	assert_int_equal(wg_disc_register(reg, &in, 3000), 0);
	poll_until(watcher, &l, 3);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[2], WG_DISC_ADD);
	assert_memory_equal(&l.in[2], &in, sizeof(in));
	/* Re-register with a new weight: update (not add). */
	in.weight = 5;
	assert_int_equal(wg_disc_register(reg, &in, 3000), 0);
	poll_until(watcher, &l, 4);
	assert_int_equal(l.ev[3], WG_DISC_UPDATE);
	assert_int_equal(l.in[3].weight, 5);
	/* Deregister: remove; the comment line survives the rewrites. */
	assert_int_equal(wg_disc_deregister(reg, "echo", "c"), 0);
	assert_int_equal(wg_disc_deregister(reg, "echo", "c"), -ENOENT);
	poll_until(watcher, &l, 5);
	assert_int_equal(l.ev[4], WG_DISC_REMOVE);
	assert_string_equal(l.in[4].id, "c");
	{
		char buf[512];
		FILE *f = fopen(t.path, "r");
		size_t n;

		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		assert_string_equal(buf, "# two\necho a 127.0.0.1:5001 zone=z1\n"
					 "echo b 127.0.0.1:5002\nchat x 127.0.0.1:6000\n");
	}
	/* A broken edit keeps the last good view. */
	write_file(t.path, "echo a 127.0.0.1:5001\necho b\n");
	for (i = 0; i < 5; i++)
		wg_disc_poll(watcher, 10);
	assert_int_equal(l.n, 5);
	wg_disc_stats(watcher, &st);
	assert_true(st.errors >= 1);
	assert_int_equal(wg_disc_list(watcher, "echo", list, 8), 2);
	{
		char buf[1024] = "";
		FILE *m = fmemopen(buf, sizeof(buf) - 1, "w");

		wg_disc_dump(m, watcher);
		fclose(m);
		assert_non_null(strstr(buf, "discovery (static): 0 registered, 1 watched"));
		assert_non_null(strstr(buf, "    a 127.0.0.1:5001 w1 zone z1\n"));
	}
	/* Hand edit: b gone, a moved. */
	write_file(t.path, "echo a 127.0.0.1:5009 zone=z1\n");
	poll_until(watcher, &l, 7);
	assert_int_equal(l.n, 7);
	assert_int_equal(l.ev[5], WG_DISC_REMOVE);
	assert_string_equal(l.in[5].id, "b");
	assert_int_equal(l.ev[6], WG_DISC_UPDATE);
	assert_string_equal(l.in[6].address, "127.0.0.1:5009");
	/* File removed: everything goes. */
	assert_int_equal(unlink(t.path), 0);
	poll_until(watcher, &l, 8);
	assert_int_equal(l.ev[7], WG_DISC_REMOVE);
	assert_int_equal(wg_disc_list(watcher, "echo", list, 8), 0);
	wg_disc_stats(watcher, &st);
	assert_int_equal(st.events_add, 3);
	assert_int_equal(st.events_update, 2);
	assert_int_equal(st.events_remove, 3);
	/* Registration validation. */
	in.weight = 0;
	assert_int_equal(wg_disc_register(reg, &in, 3000), -EINVAL);
	wg_disc_destroy(watcher);
	wg_disc_destroy(reg);
	tmp_rm(&t);
}

/* Discovery events drive a balancer: the glue a service client uses. */
static void
bal_cb(void *arg, enum wg_disc_event ev, const struct wg_disc_instance *in)
{
	struct wg_rpc_balancer *b = arg;

	if (ev == WG_DISC_REMOVE)
		assert_int_equal(wg_rpc_balancer_remove(b, in->id), 0);
	else
		assert_int_equal(wg_rpc_balancer_upsert(b, in->id, in->address, in->weight,
							wg_disc_zone_id(in->zone)), 0);
}

static void
test_static_feeds_balancer(void **state)
{
	struct wg_rpc_server_conf sc = { .listen = "127.0.0.1:0", .threads = 1 };
	struct wg_rpc_client_conf cc = { .threads = 1 };
	struct wg_rpc_balancer_conf bc = { .strategy = WG_LB_SWRR };
	struct wg_disc_conf dc = { .backend = "static" };
	struct echo_state st[2];
	struct wg_rpc_service svc[2];
	struct wg_rpc_server *srv[2];
	struct wg_rpc_client *cl;
	struct wg_rpc_balancer *b;
	struct wg_disc *d;
	char text[256];
	struct tmp t;
	int i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		echo_state_init(&st[k]);
		svc[k] = echo_svc_tmpl;
		svc[k].arg = &st[k];
		srv[k] = wg_rpc_server_create(&sc);
		assert_non_null(srv[k]);
		assert_int_equal(wg_rpc_server_add_service(srv[k], &svc[k]), 0);
		assert_int_equal(wg_rpc_server_start(srv[k]), 0);
	}
	tmp_make(&t);
	snprintf(text, sizeof(text), "echo s0 127.0.0.1:%d weight=1\necho s1 127.0.0.1:%d weight=3\n",
		 wg_rpc_server_port(srv[0]), wg_rpc_server_port(srv[1]));
	write_file(t.path, text);
	cl = wg_rpc_client_create(&cc);
	b = wg_rpc_balancer_create(cl, &bc);
	assert_non_null(b);
	dc.path = t.path;
	d = wg_disc_create(&dc);
	assert_non_null(d);
	assert_int_equal(wg_disc_watch(d, "echo", bal_cb, b), 0);
	assert_int_equal(wg_rpc_balancer_alive(b), 2);
	/* Smooth weighted RR 1:3 over 40 calls: exactly 10 and 30. */
	for (i = 0; i < 40; i++) {
		Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
		struct wg_rpc_call_opts o = { .timeout_ms = 5000, .bal = b };
		struct waiter w;

		waiter_init(&w);
		assert_int_equal(wg_rpc_unary(cl, NULL, &svc[0], M_ECHO, &rq.base, &o,
					      waiter_cb, &w, NULL), 0);
		assert_true(waiter_wait(&w));
		assert_int_equal(w.code, GRPC_STATUS_OK);
		waiter_fini(&w);
	}
	assert_int_equal(atomic_load(&st[0].calls[0]), 10);
	assert_int_equal(atomic_load(&st[1].calls[0]), 30);
	/* s1 leaves the file: every later call lands on s0. */
	snprintf(text, sizeof(text), "echo s0 127.0.0.1:%d weight=1\n", wg_rpc_server_port(srv[0]));
	write_file(t.path, text);
	for (i = 0; i < 200 && wg_rpc_balancer_alive(b) != 1; i++)
		wg_disc_poll(d, 10);
	assert_int_equal(wg_rpc_balancer_alive(b), 1);
	for (i = 0; i < 5; i++) {
		Wg__Rpc__EchoRequest rq = WG__RPC__ECHO_REQUEST__INIT;
		struct wg_rpc_call_opts o = { .timeout_ms = 5000, .bal = b };
		struct waiter w;

		waiter_init(&w);
		assert_int_equal(wg_rpc_unary(cl, NULL, &svc[0], M_ECHO, &rq.base, &o,
					      waiter_cb, &w, NULL), 0);
		assert_true(waiter_wait(&w));
		assert_int_equal(w.code, GRPC_STATUS_OK);
		waiter_fini(&w);
	}
	assert_int_equal(atomic_load(&st[0].calls[0]), 15);
	assert_int_equal(atomic_load(&st[1].calls[0]), 30);
	wg_disc_destroy(d);
	wg_rpc_balancer_destroy(b);
	wg_rpc_client_destroy(cl);
	for (k = 0; k < 2; k++) {
		echo_state_fini(&st[k]);
		wg_rpc_server_destroy(srv[k]);
	}
	tmp_rm(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_instance_helpers),
		cmocka_unit_test(test_static_events),
		cmocka_unit_test(test_static_feeds_balancer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
