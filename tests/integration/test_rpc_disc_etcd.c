/* SPDX-License-Identifier: BSD-3-Clause
 * etcd discovery backend (v3 API over our RPC client) against a real etcd
 * started by test_rpc_disc_etcd.sh (args: CTL ENDPOINT; CTL is that
 * script, called back to restart etcd). Two handles, registrar and watcher:
 *   register      watcher sees ADD with the exact record
 *   update        re-register with new weight/metadata: UPDATE
 *   heartbeat     a 2 s lease outlives 3 TTLs while keepalives run
 *   expiry        the registrar dies: etcd revokes the lease, the watch
 *                 reports the DELETE: REMOVE
 *   deregister    REMOVE at once
 *   restart       etcd killed (SIGKILL) and restarted on the same data:
 *                 watch and keepalive streams are re-established (the
 *                 watcher re-reads the range, then watches again), the
 *                 view is intact, and a new registration is seen
 * Waits are bounded polls (15 s nets), never timing assertions.
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

static const char *ctl, *endpoint;

static struct wg_disc *
open_disc(void)
{
	struct wg_disc_conf c = { .backend = "etcd", .etcd_endpoint = endpoint,
				  .reconnect_max_ms = 500 };
	struct wg_disc *d = wg_disc_create(&c);

	assert_non_null(d);
	return d;
}

static bool
until(struct wg_disc *a, struct wg_disc *b, struct evlog *l, unsigned int n)
{
	int64_t end = now_ms() + 15000;

	while (l->n < n && now_ms() < end) {
		if (b)
			assert_true(wg_disc_poll(b, 0) >= 0);
		assert_true(wg_disc_poll(a, 5) >= 0);
	}
	return l->n >= n;
}

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

static void
test_lifecycle(void **state)
{
	struct wg_disc *w = open_disc(), *r = open_disc();
	struct wg_disc_instance a, b, list[8];
	struct wg_disc_stats st;
	struct evlog l = { 0 };

	(void)state;
	wg_disc_instance_init(&a, "echo", "a", "127.0.0.1:5001", 1, "z1");
	wg_disc_instance_set_meta(&a, "ver", "1");
	assert_int_equal(wg_disc_watch(w, "echo", ev_cb, &l), 0);
	/* The initial range (etcd may still be electing itself leader). */
	{
		int64_t end = now_ms() + 15000;

		do {
			spin(w, r, 20);
			wg_disc_stats(w, &st);
		} while (st.resyncs == 0 && now_ms() < end);
	}
	assert_int_equal(st.resyncs, 1);
	assert_int_equal(l.n, 0);

	assert_int_equal(wg_disc_register(r, &a, 10000), 0);
	assert_true(until(w, r, &l, 1));
	assert_int_equal(l.ev[0], WG_DISC_ADD);
	assert_memory_equal(&l.in[0], &a, sizeof(a));
	a.weight = 5;
	wg_disc_instance_set_meta(&a, "ver", "2");
	assert_int_equal(wg_disc_register(r, &a, 10000), 0);
	assert_true(until(w, r, &l, 2));
	assert_int_equal(l.ev[1], WG_DISC_UPDATE);
	assert_memory_equal(&l.in[1], &a, sizeof(a));

	/* heartbeat: a 2 s lease lives through 6 s of keepalives */
	wg_disc_instance_init(&b, "echo", "b", "127.0.0.1:5002", 1, "");
	assert_int_equal(wg_disc_register(r, &b, 2000), 0);
	assert_true(until(w, r, &l, 3));
	assert_int_equal(l.ev[2], WG_DISC_ADD);
	spin(w, r, 6000);
	assert_int_equal(l.n, 3);
	wg_disc_stats(r, &st);
	assert_true(st.heartbeats >= 6);
	assert_int_equal(st.reregisters, 0);
	assert_int_equal(wg_disc_list(w, "echo", list, 8), 2);

	/* expiry: the registrar dies; b's 2 s lease goes first */
	wg_disc_destroy(r);
	assert_true(until(w, NULL, &l, 4));
	assert_int_equal(l.ev[3], WG_DISC_REMOVE);
	assert_string_equal(l.in[3].id, "b");
	assert_true(until(w, NULL, &l, 5));
	assert_int_equal(l.ev[4], WG_DISC_REMOVE);
	assert_string_equal(l.in[4].id, "a");

	/* deregister */
	r = open_disc();
	assert_int_equal(wg_disc_register(r, &b, 5000), 0);
	assert_true(until(w, r, &l, 6));
	assert_int_equal(l.ev[5], WG_DISC_ADD);
	spin(w, r, 200);                          /* the put is acknowledged */
	assert_int_equal(wg_disc_deregister(r, "echo", "b"), 0);
	assert_true(until(w, r, &l, 7));
	assert_int_equal(l.ev[6], WG_DISC_REMOVE);
	assert_string_equal(l.in[6].id, "b");
	wg_disc_stats(w, &st);
	assert_int_equal(st.errors, 0);
	wg_disc_destroy(r);
	wg_disc_destroy(w);
}

static void
test_restart(void **state)
{
	struct wg_disc *w = open_disc(), *r = open_disc();
	struct wg_disc_instance a, c, list[8];
	struct wg_disc_stats st0, st;
	struct evlog l = { 0 };
	char cmd[512];

	(void)state;
	wg_disc_instance_init(&a, "chat", "a", "127.0.0.1:6001", 1, "");
	wg_disc_instance_init(&c, "chat", "c", "127.0.0.1:6003", 2, "");
	assert_int_equal(wg_disc_watch(w, "chat", ev_cb, &l), 0);
	assert_int_equal(wg_disc_register(r, &a, 5000), 0);
	assert_true(until(w, r, &l, 1));
	spin(w, r, 200);
	wg_disc_stats(w, &st0);
	snprintf(cmd, sizeof(cmd), "%s restart", ctl);
	assert_int_equal(system(cmd), 0);
	/* The watch stream broke and came back (range + watch again). */
	{
		int64_t end = now_ms() + 15000;

		do {
			spin(w, r, 50);
			wg_disc_stats(w, &st);
		} while (now_ms() < end && st.resyncs < st0.resyncs + 1);
	}
	assert_true(st.reconnects > st0.reconnects);
	assert_true(st.resyncs > st0.resyncs);
	assert_int_equal(wg_disc_list(w, "chat", list, 8), 1);
	assert_int_equal(l.n, 1);                 /* nothing spurious */
	/* Writes flow again and the new watch reports them. */
	assert_int_equal(wg_disc_register(r, &c, 5000), 0);
	assert_true(until(w, r, &l, 2));
	assert_int_equal(l.ev[1], WG_DISC_ADD);
	assert_memory_equal(&l.in[1], &c, sizeof(c));
	/* a's lease is still kept alive over the new keepalive stream. */
	spin(w, r, 6000);
	assert_int_equal(wg_disc_list(w, "chat", list, 8), 2);
	assert_int_equal(l.n, 2);
	wg_disc_destroy(r);
	wg_disc_destroy(w);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_restart),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s CTL ENDPOINT\n", argv[0]);
		return 2;
	}
	ctl = argv[1];
	endpoint = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
