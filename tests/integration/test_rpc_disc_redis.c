/* SPDX-License-Identifier: BSD-3-Clause
 * Redis discovery backend against a real redis-server (started by
 * test_rpc_disc_redis.sh with tools/dbctl.sh; args: DBCTL DIR PORT). Two
 * handles play registrar and watcher:
 *   register      watcher sees ADD with the exact record
 *   update        re-register with new weight/metadata: UPDATE
 *   heartbeat     a short lease outlives several TTLs while heartbeats run
 *   expiry        the registrar dies (no more heartbeats): REMOVE arrives
 *                 from the keyspace "expired" notification
 *   deregister    REMOVE at once
 *   reconnect     the watcher's subscription is killed (CLIENT KILL TYPE
 *                 pubsub) and a record written meanwhile: the resync after
 *                 resubscribing reports it
 *   restart       redis-server restarted (all keys lost): the registrar
 *                 re-registers on its next heartbeat, the watcher's view
 *                 comes back, new registrations are seen again
 *   no-notify     notifications off and not configured: the periodic
 *                 resync still finds adds and removes
 * Waits are bounded polls (10 s nets), never timing assertions; the expiry
 * latency is printed for information.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "disc.h"
#include "../disc_evlog.h"

static const char *dbctl, *dir;
static int port;

static struct wg_disc *
open_disc(bool config_notify, uint32_t resync_ms)
{
	struct wg_disc_conf c = {
		.backend = "redis", .redis_host = "127.0.0.1", .redis_port = (uint16_t)port,
		.redis_config_notify = config_notify, .resync_ms = resync_ms,
		.reconnect_max_ms = 200,
	};
	struct wg_disc *d = wg_disc_create(&c);

	assert_non_null(d);
	return d;
}

/* Drive both handles until the log holds n events (10 s net). */
static bool
until(struct wg_disc *a, struct wg_disc *b, struct evlog *l, unsigned int n)
{
	int64_t end = now_ms() + 10000;

	while (l->n < n && now_ms() < end) {
		if (b)
			assert_true(wg_disc_poll(b, 0) >= 0);
		assert_true(wg_disc_poll(a, 5) >= 0);
	}
	return l->n >= n;
}

/* Drive both for ms, whatever happens. */
static void
spin(struct wg_disc *a, struct wg_disc *b, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		if (b)
			wg_disc_poll(b, 0);
		wg_disc_poll(a, 5);
	}
}

static int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void
test_lifecycle(void **state)
{
	struct wg_disc *w = open_disc(true, 60000), *r = open_disc(true, 60000);
	struct wg_disc_instance a, b, list[8];
	struct wg_disc_stats st;
	struct evlog l = { 0 };
	int64_t t0;

	(void)state;
	wg_disc_instance_init(&a, "echo", "a", "127.0.0.1:5001", 1, "z1");
	wg_disc_instance_set_meta(&a, "ver", "1");
	assert_int_equal(wg_disc_watch(w, "echo", ev_cb, &l), 0);
	/* Let the subscription and the notify setting settle first. */
	spin(w, r, 300);
	assert_int_equal(l.n, 0);

	/* register */
	assert_int_equal(wg_disc_register(r, &a, 5000), 0);
	assert_true(until(w, r, &l, 1));
	assert_int_equal(l.ev[0], WG_DISC_ADD);
	assert_memory_equal(&l.in[0], &a, sizeof(a));
	/* update */
	a.weight = 5;
	wg_disc_instance_set_meta(&a, "ver", "2");
	assert_int_equal(wg_disc_register(r, &a, 5000), 0);
	assert_true(until(w, r, &l, 2));
	assert_int_equal(l.ev[1], WG_DISC_UPDATE);
	assert_memory_equal(&l.in[1], &a, sizeof(a));

	/* heartbeat: a 300 ms lease lives through 1.5 s of heartbeats */
	wg_disc_instance_init(&b, "echo", "b", "127.0.0.1:5002", 1, "");
	assert_int_equal(wg_disc_register(r, &b, 300), 0);
	assert_true(until(w, r, &l, 3));
	assert_int_equal(l.ev[2], WG_DISC_ADD);
	spin(w, r, 1500);
	assert_int_equal(l.n, 3);
	wg_disc_stats(r, &st);
	assert_true(st.heartbeats >= 4);
	assert_int_equal(wg_disc_list(w, "echo", list, 8), 2);

	/* expiry: the registrar dies, its leases run out */
	wg_disc_destroy(r);
	r = NULL;
	t0 = now_ms();
	assert_true(until(w, NULL, &l, 4));
	assert_int_equal(l.ev[3], WG_DISC_REMOVE);
	assert_string_equal(l.in[3].id, "b");
	printf("# lease 300 ms: removal seen %ld ms after the last heartbeat window\n",
	       (long)(now_ms() - t0));
	wg_disc_stats(w, &st);
	assert_true(st.notifications >= 4);
	assert_int_equal(st.resyncs, 1);          /* only the initial one */
	assert_true(until(w, NULL, &l, 5));       /* a's 5 s lease too */
	assert_int_equal(l.ev[4], WG_DISC_REMOVE);
	assert_string_equal(l.in[4].id, "a");
	assert_int_equal(wg_disc_list(w, "echo", list, 8), 0);

	/* deregister */
	r = open_disc(true, 60000);
	assert_int_equal(wg_disc_register(r, &b, 5000), 0);
	assert_true(until(w, r, &l, 6));
	assert_int_equal(l.ev[5], WG_DISC_ADD);
	assert_int_equal(wg_disc_deregister(r, "echo", "b"), 0);
	assert_true(until(w, r, &l, 7));
	assert_int_equal(l.ev[6], WG_DISC_REMOVE);
	assert_string_equal(l.in[6].id, "b");
	wg_disc_destroy(r);
	wg_disc_destroy(w);
}

static void
test_watcher_reconnect(void **state)
{
	struct wg_disc *w = open_disc(true, 60000), *r = open_disc(true, 60000);
	struct wg_disc_instance a, c, list[8];
	struct wg_disc_stats st0, st;
	struct evlog l = { 0 };

	(void)state;
	wg_disc_instance_init(&a, "chat", "a", "127.0.0.1:6001", 1, "");
	wg_disc_instance_init(&c, "chat", "c", "127.0.0.1:6003", 2, "");
	assert_int_equal(wg_disc_watch(w, "chat", ev_cb, &l), 0);
	assert_int_equal(wg_disc_register(r, &a, 3000), 0);
	assert_true(until(w, r, &l, 1));
	wg_disc_stats(w, &st0);
	/* Kill the subscription, write while it is down. */
	assert_int_equal(sh("redis-cli -p %d CLIENT KILL TYPE pubsub >/dev/null", port), 0);
	assert_int_equal(wg_disc_register(r, &c, 3000), 0);
	spin(r, NULL, 50);                         /* the SET is out */
	assert_true(until(w, r, &l, 2));
	assert_int_equal(l.ev[1], WG_DISC_ADD);
	assert_memory_equal(&l.in[1], &c, sizeof(c));
	wg_disc_stats(w, &st);
	assert_true(st.reconnects > st0.reconnects);
	assert_true(st.resyncs > st0.resyncs);

	/* Server restart: every key is gone (no persistence). */
	assert_int_equal(sh("%s stop-redis %s %d", dbctl, dir, port), 0);
	spin(w, r, 300);
	assert_int_equal(sh("%s start-redis %s %d >/dev/null", dbctl, dir, port), 0);
	/* Heartbeats find the leases gone and write them again; the watcher
	 * resubscribes and ends up with both, whatever it saw in between. */
	{
		int64_t end = now_ms() + 10000;

		while (now_ms() < end) {
			spin(w, r, 50);
			wg_disc_stats(r, &st);
			if (st.reregisters >= 2 && wg_disc_list(w, "chat", list, 8) == 2)
				break;
		}
	}
	wg_disc_stats(r, &st);
	assert_true(st.reregisters >= 2);
	assert_int_equal(wg_disc_list(w, "chat", list, 8), 2);
	/* The subscription works again (notifications re-enabled too). */
	{
		struct wg_disc_instance d;
		unsigned int n0 = l.n;

		wg_disc_instance_init(&d, "chat", "d", "127.0.0.1:6004", 1, "");
		assert_int_equal(wg_disc_register(r, &d, 3000), 0);
		assert_true(until(w, r, &l, n0 + 1));
		assert_int_equal(l.ev[l.n - 1], WG_DISC_ADD);
		assert_string_equal(l.in[l.n - 1].id, "d");
		wg_disc_stats(w, &st);
		assert_true(st.notifications > 0);
	}
	wg_disc_destroy(r);
	wg_disc_destroy(w);
}

static void
test_no_notifications(void **state)
{
	struct wg_disc *w, *r;
	struct wg_disc_instance a;
	struct wg_disc_stats st;
	struct evlog l = { 0 };

	(void)state;
	assert_int_equal(sh("redis-cli -p %d CONFIG SET notify-keyspace-events '' >/dev/null",
			    port), 0);
	w = open_disc(false, 200);
	r = open_disc(false, 60000);
	assert_int_equal(wg_disc_watch(w, "quiet", ev_cb, &l), 0);
	wg_disc_instance_init(&a, "quiet", "a", "127.0.0.1:7001", 1, "");
	assert_int_equal(wg_disc_register(r, &a, 3000), 0);
	assert_true(until(w, r, &l, 1));
	assert_int_equal(l.ev[0], WG_DISC_ADD);
	assert_int_equal(wg_disc_deregister(r, "quiet", "a"), 0);
	assert_true(until(w, r, &l, 2));
	assert_int_equal(l.ev[1], WG_DISC_REMOVE);
	wg_disc_stats(w, &st);
	assert_int_equal(st.notifications, 0);    /* resyncs did it all */
	assert_true(st.resyncs >= 2);
	wg_disc_destroy(r);
	wg_disc_destroy(w);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_watcher_reconnect),
		cmocka_unit_test(test_no_notifications),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: %s DBCTL DIR PORT\n", argv[0]);
		return 2;
	}
	dbctl = argv[1];
	dir = argv[2];
	port = atoi(argv[3]);
	assert_int_equal(wg_disc_register_backend(&wg_disc_redis_ops), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
