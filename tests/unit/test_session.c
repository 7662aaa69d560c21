/* SPDX-License-Identifier: BSD-3-Clause
 * Session table: the state machine step by step (login, duplicate login,
 * detach, resume with good and bad tokens, half-open resume, timeouts in
 * each timed state), per-instance route lists and rerouting from inside the
 * iteration, restore after a control restart, and a long random run
 * against a reference model (plain arrays, linear scans) that checks every
 * lookup, count and route after each operation — with a small table so the
 * hash indexes' backward-shift deletions run constantly.
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

#include "session.h"

#define CONN(w, n) ((uint64_t)(w) << 56 | (uint64_t)(n))

static struct wg_sess_table *
mk(uint32_t max)
{
	struct wg_sess_conf c = { .max_sessions = max, .n_services = 4, .max_instances = 8,
				  .login_timeout_ms = 5000, .grace_ms = 30000,
				  .linger_ms = 2000 };
	struct wg_sess_table *t = wg_sess_create(&c);

	assert_non_null(t);
	return t;
}

static const uint8_t ip1[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
static const uint8_t ip2[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 };

static struct wg_session *
login(struct wg_sess_table *t, uint64_t conn, uint64_t player, uint64_t now,
      struct wg_sess_kick *k)
{
	struct wg_session *s = wg_sess_open(t, conn, ip1, 4000, now);

	assert_non_null(s);
	assert_int_equal(s->state, WG_SESS_LOGGING_IN);
	assert_int_equal(wg_sess_activate(t, s, player, "acct", now, k), 0);
	assert_int_equal(s->state, WG_SESS_ACTIVE);
	return s;
}

static void
test_open_errors(void **state)
{
	struct wg_sess_conf c = { .max_sessions = 2, .n_services = 17, .max_instances = 1 };
	struct wg_sess_table *t;
	struct wg_session *a, *b;

	(void)state;
	assert_null(wg_sess_create(&c));
	assert_int_equal(errno, EINVAL);
	c.n_services = 1;
	c.max_instances = 0;
	assert_null(wg_sess_create(&c));
	c.max_instances = 1;
	c.max_sessions = 0;
	assert_null(wg_sess_create(&c));
	t = mk(2);
	assert_null(wg_sess_open(t, 0, NULL, 0, 0));
	assert_int_equal(errno, EINVAL);
	a = wg_sess_open(t, CONN(1, 1), ip1, 1, 0);
	assert_non_null(a);
	assert_memory_equal(a->peer_ip, ip1, 16);
	assert_null(wg_sess_open(t, CONN(1, 1), ip1, 1, 0));
	assert_int_equal(errno, EEXIST);
	b = wg_sess_open(t, CONN(2, 1), NULL, 0, 0);
	assert_non_null(b);
	assert_null(wg_sess_open(t, CONN(3, 1), NULL, 0, 0));
	assert_int_equal(errno, ENOSPC);
	assert_ptr_equal(wg_sess_find(t, CONN(1, 1)), a);
	assert_ptr_equal(wg_sess_find(t, CONN(2, 1)), b);
	assert_null(wg_sess_find(t, CONN(3, 1)));
	assert_null(wg_sess_find(t, 0));
	assert_int_equal(wg_sess_count(t, WG_SESS_LOGGING_IN), 2);
	assert_int_equal(wg_sess_count(t, WG_SESS_FREE), 0);
	/* activation needs a player and a LOGGING_IN session */
	assert_int_equal(wg_sess_activate(t, a, 0, "x", 0, NULL), -EINVAL);
	assert_int_equal(wg_sess_activate(t, a, 5, "x", 0, NULL), 0);
	assert_int_equal(wg_sess_activate(t, a, 6, "x", 0, NULL), -EINVAL);
	/* routes only on logged-in sessions, in range */
	assert_int_equal(wg_sess_route_set(t, b, 0, 1), -EINVAL);
	assert_int_equal(wg_sess_route_set(t, a, 4, 1), -EINVAL);
	assert_int_equal(wg_sess_route_set(t, a, 0, 8), -EINVAL);
	assert_int_equal(wg_sess_route_set(t, a, 3, 7), 0);
	/* a freed slot is reused */
	assert_int_equal(wg_sess_detach(t, CONN(2, 1), 0), WG_SESS_LOGGING_IN);
	assert_int_equal(wg_sess_detach(t, CONN(2, 1), 0), -ENOENT);
	assert_non_null(wg_sess_open(t, CONN(3, 1), NULL, 0, 0));
	wg_sess_destroy(t);
}

static void
test_duplicate_login(void **state)
{
	struct wg_sess_table *t = mk(16);
	struct wg_sess_kick k;
	struct wg_session *a, *b, *c;
	uint8_t tok_a[16];

	(void)state;
	a = login(t, CONN(0, 1), 77, 100, &k);
	assert_int_equal(k.conn_id, 0);
	assert_int_equal(k.old_state, WG_SESS_FREE);
	assert_string_equal(a->account, "acct");
	memcpy(tok_a, a->resume_token, 16);
	assert_int_equal(wg_sess_route_set(t, a, 0, 3), 0);
	assert_int_equal(wg_sess_route_set(t, a, 2, 5), 0);
	assert_ptr_equal(wg_sess_find_player(t, 77), a);

	/* same player again on another connection: the old one is kicked */
	b = login(t, CONN(1, 9), 77, 200, &k);
	assert_int_equal(k.conn_id, CONN(0, 1));
	assert_int_equal(k.player_id, 77);
	assert_int_equal(k.old_state, WG_SESS_ACTIVE);
	assert_int_equal(k.routes[0], 3);
	assert_int_equal(k.routes[1], WG_SESS_NO_INSTANCE);
	assert_int_equal(k.routes[2], 5);
	assert_int_equal(a->state, WG_SESS_CLOSED);
	assert_int_equal(a->deadline_ms, 2200);
	assert_ptr_equal(wg_sess_find_player(t, 77), b);
	assert_ptr_equal(wg_sess_find(t, CONN(0, 1)), a);   /* until the dataplane detaches */
	assert_int_equal(wg_sess_instance_count(t, 3), 0);  /* the kicked one has no routes */
	assert_memory_not_equal(b->resume_token, tok_a, 16);
	/* a kicked session cannot be resumed, and its detach frees it */
	assert_null(wg_sess_resume(t, CONN(0, 2), CONN(0, 1), tok_a, 300, NULL));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(wg_sess_detach(t, CONN(0, 1), 300), WG_SESS_CLOSED);
	assert_null(wg_sess_find(t, CONN(0, 1)));
	assert_ptr_equal(wg_sess_find_player(t, 77), b);
	assert_int_equal(wg_sess_count(t, WG_SESS_ACTIVE), 1);
	assert_int_equal(wg_sess_count(t, WG_SESS_CLOSED), 0);

	/* the player's session detached: a new login frees it, nothing to kick */
	assert_int_equal(wg_sess_detach(t, CONN(1, 9), 400), WG_SESS_ACTIVE);
	assert_int_equal(b->state, WG_SESS_DETACHED);
	assert_int_equal(b->deadline_ms, 30400);
	c = login(t, CONN(2, 3), 77, 500, &k);
	assert_int_equal(k.conn_id, 0);
	assert_int_equal(k.old_state, WG_SESS_DETACHED);
	assert_null(wg_sess_find(t, CONN(1, 9)));
	assert_ptr_equal(wg_sess_find_player(t, 77), c);
	assert_int_equal(wg_sess_count(t, WG_SESS_DETACHED), 0);
	assert_int_equal(wg_sess_count(t, WG_SESS_FREE), 15);
	wg_sess_destroy(t);
}

static void
test_resume(void **state)
{
	struct wg_sess_table *t = mk(16);
	struct wg_sess_kick k;
	struct wg_session *a, *n, *r;
	uint8_t tok[16], bad[16];

	(void)state;
	a = login(t, CONN(0, 1), 5, 0, NULL);
	wg_sess_route_set(t, a, 1, 2);
	memcpy(tok, a->resume_token, 16);
	assert_int_equal(wg_sess_detach(t, CONN(0, 1), 1000), WG_SESS_ACTIVE);
	assert_int_equal(wg_sess_detach(t, CONN(0, 1), 1000), -EALREADY);
	assert_int_equal(wg_sess_instance_count(t, 2), 1);   /* detached keeps its route */

	/* the new connection opened first (LOGGING_IN), then sends RESUME */
	n = wg_sess_open(t, CONN(1, 2), ip2, 5555, 2000);
	assert_non_null(n);
	memcpy(bad, tok, 16);
	bad[15] ^= 1;
	assert_null(wg_sess_resume(t, CONN(1, 2), CONN(0, 1), bad, 2000, &k));
	assert_int_equal(errno, EACCES);
	assert_int_equal(a->state, WG_SESS_DETACHED);
	assert_ptr_equal(wg_sess_find(t, CONN(1, 2)), n);
	assert_null(wg_sess_resume(t, CONN(1, 2), CONN(0, 7), tok, 2000, &k));
	assert_int_equal(errno, ENOENT);
	assert_null(wg_sess_resume(t, CONN(0, 1), CONN(0, 1), tok, 2000, &k));
	assert_int_equal(errno, EINVAL);

	r = wg_sess_resume(t, CONN(1, 2), CONN(0, 1), tok, 2000, &k);
	assert_ptr_equal(r, a);
	assert_int_equal(k.conn_id, 0);
	assert_int_equal(a->state, WG_SESS_ACTIVE);
	assert_int_equal(a->conn_id, CONN(1, 2));
	assert_int_equal(wg_sess_worker(a), 1);
	assert_int_equal(a->resumes, 1);
	assert_int_equal(a->peer_port, 5555);
	assert_memory_equal(a->peer_ip, ip2, 16);
	assert_int_equal(a->routes[1].inst, 2);
	assert_null(wg_sess_find(t, CONN(0, 1)));
	assert_ptr_equal(wg_sess_find(t, CONN(1, 2)), a);
	assert_ptr_equal(wg_sess_find_player(t, 5), a);
	assert_int_equal(wg_sess_count(t, WG_SESS_LOGGING_IN), 0);
	assert_int_equal(wg_sess_count(t, WG_SESS_ACTIVE), 1);
	/* the token rotated: the old one is spent */
	assert_memory_not_equal(a->resume_token, tok, 16);
	assert_int_equal(wg_sess_detach(t, CONN(1, 2), 3000), WG_SESS_ACTIVE);
	assert_null(wg_sess_resume(t, CONN(2, 3), CONN(1, 2), tok, 3000, NULL));
	assert_int_equal(errno, EACCES);

	/* half-open: the client resumes while its old connection still looks
	 * alive; the old connection is reported for a kick */
	memcpy(tok, a->resume_token, 16);
	r = wg_sess_resume(t, CONN(2, 3), CONN(1, 2), tok, 3500, &k);
	assert_ptr_equal(r, a);
	memcpy(tok, a->resume_token, 16);
	r = wg_sess_resume(t, CONN(3, 4), CONN(2, 3), tok, 3600, &k);
	assert_ptr_equal(r, a);
	assert_int_equal(k.conn_id, CONN(2, 3));
	assert_int_equal(k.old_state, WG_SESS_ACTIVE);
	assert_int_equal(k.routes[1], 2);
	/* the kicked connection's detach finds nothing */
	assert_int_equal(wg_sess_detach(t, CONN(2, 3), 3700), -ENOENT);

	/* rekey: the dataplane keeps a resumed session's first id */
	assert_int_equal(wg_sess_rekey(t, a, CONN(3, 4)), 0);            /* same: no-op */
	assert_int_equal(wg_sess_rekey(t, a, 0), -EINVAL);
	assert_int_equal(wg_sess_rekey(t, a, CONN(0, 1)), 0);
	assert_int_equal(a->conn_id, CONN(0, 1));
	assert_ptr_equal(wg_sess_find(t, CONN(0, 1)), a);
	assert_null(wg_sess_find(t, CONN(3, 4)));
	n = wg_sess_open(t, CONN(6, 6), NULL, 0, 3700);
	assert_int_equal(wg_sess_rekey(t, a, CONN(6, 6)), -EEXIST);
	assert_int_equal(wg_sess_detach(t, CONN(6, 6), 3700), WG_SESS_LOGGING_IN);
	assert_int_equal(wg_sess_rekey(t, a, CONN(3, 4)), 0);
	assert_ptr_equal(wg_sess_find(t, CONN(3, 4)), a);
	assert_null(wg_sess_find(t, CONN(0, 1)));

	/* resume onto a connection that is logged in as someone: refused */
	login(t, CONN(4, 4), 6, 3800, NULL);
	memcpy(tok, a->resume_token, 16);
	assert_null(wg_sess_resume(t, CONN(4, 4), CONN(3, 4), tok, 3800, NULL));
	assert_int_equal(errno, EBUSY);

	/* after the grace window the session is gone */
	assert_int_equal(wg_sess_detach(t, CONN(3, 4), 4000), WG_SESS_ACTIVE);
	assert_int_equal(wg_sess_expire(t, 33999, 100, NULL, NULL), 0);
	assert_int_equal(wg_sess_expire(t, 34000, 100, NULL, NULL), 1);
	assert_null(wg_sess_resume(t, CONN(5, 5), CONN(3, 4), tok, 34000, NULL));
	assert_int_equal(errno, ENOENT);
	assert_null(wg_sess_find_player(t, 5));
	assert_int_equal(wg_sess_instance_count(t, 2), 0);
	wg_sess_destroy(t);
}

struct seen {
	uint64_t conn[16];
	uint8_t state[16];
	unsigned int n;
};

static void
record(void *arg, const struct wg_session *s)
{
	struct seen *v = arg;

	v->conn[v->n] = s->conn_id;
	v->state[v->n++] = s->state;
}

static void
test_expiry(void **state)
{
	struct wg_sess_table *t = mk(16);
	struct seen v = { 0 };
	struct wg_session *a, *b;

	(void)state;
	wg_sess_open(t, CONN(0, 1), NULL, 0, 0);         /* login deadline 5000 */
	wg_sess_open(t, CONN(0, 2), NULL, 0, 1000);      /* 6000 */
	a = login(t, CONN(0, 3), 1, 1000, NULL);
	b = login(t, CONN(0, 4), 2, 1000, NULL);
	wg_sess_detach(t, CONN(0, 3), 1500);            /* grace until 31500 */
	wg_sess_close(t, b, 1600);                      /* linger until 3600 */
	assert_int_equal(wg_sess_next_deadline(t), 3600);
	assert_int_equal(wg_sess_expire(t, 3599, 10, record, &v), 0);
	assert_int_equal(wg_sess_expire(t, 3600, 10, record, &v), 1);
	assert_int_equal(v.conn[0], CONN(0, 4));
	assert_int_equal(v.state[0], WG_SESS_CLOSED);
	assert_null(wg_sess_find(t, CONN(0, 4)));
	assert_int_equal(wg_sess_next_deadline(t), 5000);
	/* login timeouts: the callback sees LOGGING_IN (kick it), the session
	 * lingers CLOSED waiting for the dataplane; max bounds the work */
	assert_int_equal(wg_sess_expire(t, 6000, 1, record, &v), 1);
	assert_int_equal(wg_sess_expire(t, 6000, 1, record, &v), 1);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.state[1], WG_SESS_LOGGING_IN);
	assert_int_equal(v.conn[2], CONN(0, 2));
	assert_int_equal(wg_sess_find(t, CONN(0, 1))->state, WG_SESS_CLOSED);
	assert_int_equal(wg_sess_find(t, CONN(0, 1))->deadline_ms, 8000);
	assert_int_equal(wg_sess_count(t, WG_SESS_CLOSED), 2);
	assert_int_equal(wg_sess_detach(t, CONN(0, 1), 6500), WG_SESS_CLOSED);
	assert_int_equal(wg_sess_expire(t, 8000, 10, record, &v), 1);
	assert_int_equal(v.conn[3], CONN(0, 2));
	assert_int_equal(wg_sess_next_deadline(t), 31500);
	assert_int_equal(wg_sess_expire(t, 31500, 10, record, &v), 1);
	assert_int_equal(v.state[4], WG_SESS_DETACHED);
	assert_int_equal(v.conn[4], CONN(0, 3));
	assert_null(wg_sess_find_player(t, 1));
	assert_int_equal(wg_sess_count(t, WG_SESS_FREE), 16);
	assert_int_equal(wg_sess_next_deadline(t), UINT64_MAX);
	(void)a;
	/* close of each state */
	a = wg_sess_open(t, CONN(1, 1), NULL, 0, 0);
	assert_int_equal(wg_sess_close(t, a, 0), WG_SESS_LOGGING_IN);
	assert_int_equal(wg_sess_close(t, a, 0), -EALREADY);
	a = login(t, CONN(1, 2), 9, 0, NULL);
	wg_sess_detach(t, CONN(1, 2), 0);
	assert_int_equal(wg_sess_close(t, a, 0), WG_SESS_DETACHED);
	assert_null(wg_sess_find(t, CONN(1, 2)));
	assert_null(wg_sess_find_player(t, 9));
	wg_sess_destroy(t);
}

struct reroute {
	uint16_t to;
	unsigned int calls;
	uint32_t seen[4][64];
};

static void
move_it(void *arg, struct wg_sess_table *t, struct wg_session *s, unsigned int svc)
{
	struct reroute *r = arg;

	assert_int_equal(s->routes[svc].inst, 3);
	r->seen[svc][s->player_id]++;
	r->calls++;
	assert_int_equal(wg_sess_route_set(t, s, svc, r->to), 0);
}

static void
test_instances(void **state)
{
	struct wg_sess_table *t = mk(64);
	struct wg_session *s[40];
	struct reroute r = { .to = 4 };
	unsigned int expect = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		s[i] = login(t, CONN(0, i + 1), (uint64_t)i + 1, 0, NULL);
		for (unsigned int svc = 0; svc < 4; svc++)
			assert_int_equal(wg_sess_route_set(t, s[i], svc, (uint16_t)((i + svc) % 5)), 0);
	}
	for (uint16_t k = 0; k < 5; k++)
		assert_int_equal(wg_sess_instance_count(t, k), 32);
	/* detach some, close some: detached keep routes, closed lose them */
	for (int i = 0; i < 10; i++)
		wg_sess_detach(t, CONN(0, i + 1), 1);
	for (int i = 10; i < 15; i++)
		wg_sess_close(t, s[i], 1);
	for (int i = 0; i < 40; i++)
		if (i < 10 || i >= 15)
			for (unsigned int svc = 0; svc < 4; svc++)
				expect += (i + svc) % 5 == 3;
	assert_int_equal(wg_sess_instance_count(t, 3), expect);
	/* instance 3 died: move everything on it to 4, from the callback */
	assert_int_equal(wg_sess_foreach_instance(t, 3, move_it, &r), expect);
	assert_int_equal(r.calls, expect);
	assert_int_equal(wg_sess_instance_count(t, 3), 0);
	for (int i = 0; i < 40; i++) {
		for (unsigned int svc = 0; svc < 4; svc++) {
			bool on3 = (i + svc) % 5 == 3 && (i < 10 || i >= 15);

			assert_int_equal(r.seen[svc][i + 1], on3 ? 1 : 0);
			if (on3)
				assert_int_equal(s[i]->routes[svc].inst, 4);
		}
	}
	assert_int_equal(wg_sess_foreach_instance(t, 3, move_it, &r), 0);
	/* unroute: the list shrinks */
	uint32_t c4 = wg_sess_instance_count(t, 4);
	assert_int_equal(s[39]->routes[0].inst, 4);
	assert_int_equal(wg_sess_route_set(t, s[39], 0, WG_SESS_NO_INSTANCE), 0);
	assert_int_equal(wg_sess_instance_count(t, 4), c4 - 1);
	/* freeing a session unlinks its routes: s[0] (detached) had svc 3 on
	 * instance 3, moved to 4, and svc 0..2 on 0..2 */
	c4 = wg_sess_instance_count(t, 4);
	uint32_t c0 = wg_sess_instance_count(t, 0);
	assert_int_equal(wg_sess_detach(t, CONN(0, 1), 2), -EALREADY);
	assert_int_equal(wg_sess_close(t, s[0], 2), WG_SESS_DETACHED);
	assert_int_equal(wg_sess_instance_count(t, 4), c4 - 1);
	assert_int_equal(wg_sess_instance_count(t, 0), c0 - 1);
	wg_sess_destroy(t);
}

static void
test_restore(void **state)
{
	struct wg_sess_table *t = mk(4);
	const uint16_t routes[3] = { 1, WG_SESS_NO_INSTANCE, 7 };
	const uint16_t badr[1] = { 8 };
	uint8_t tok[16] = { 1, 2, 3 };
	struct wg_session *s;

	(void)state;
	s = wg_sess_restore(t, CONN(2, 1), 99, routes, 3, tok, 10);
	assert_non_null(s);
	assert_int_equal(s->state, WG_SESS_ACTIVE);
	assert_ptr_equal(wg_sess_find_player(t, 99), s);
	assert_int_equal(wg_sess_instance_count(t, 1), 1);
	assert_int_equal(wg_sess_instance_count(t, 7), 1);
	assert_int_equal(wg_sess_count(t, WG_SESS_ACTIVE), 1);
	assert_int_equal(wg_sess_count(t, WG_SESS_FREE), 3);
	assert_null(wg_sess_restore(t, CONN(2, 1), 98, routes, 3, tok, 10));
	assert_int_equal(errno, EEXIST);
	assert_null(wg_sess_restore(t, CONN(2, 2), 99, routes, 3, tok, 10));
	assert_int_equal(errno, EEXIST);
	assert_null(wg_sess_restore(t, CONN(2, 2), 98, badr, 1, tok, 10));
	assert_int_equal(errno, EINVAL);
	assert_null(wg_sess_restore(t, CONN(2, 2), 98, routes, 5, tok, 10));
	assert_int_equal(errno, EINVAL);
	/* the restored token resumes */
	wg_sess_detach(t, CONN(2, 1), 20);
	assert_ptr_equal(wg_sess_resume(t, CONN(3, 1), CONN(2, 1), tok, 30, NULL), s);
	wg_sess_destroy(t);
}

/* ---- random run against a model ---- */

#define MMAX 64

struct msess {
	uint64_t conn;          /* 0 = free */
	uint64_t player;
	uint8_t state;
	uint64_t deadline;
	uint16_t routes[4];
};

struct model {
	struct msess s[MMAX * 2];    /* by insertion; linear scans */
	uint64_t now;
};

static struct msess *
m_conn(struct model *m, uint64_t conn)
{
	for (int i = 0; i < MMAX * 2; i++)
		if (m->s[i].conn == conn)
			return &m->s[i];
	return NULL;
}

static struct msess *
m_player(struct model *m, uint64_t p)
{
	for (int i = 0; i < MMAX * 2; i++)
		if (m->s[i].conn && m->s[i].player == p &&
		    (m->s[i].state == WG_SESS_ACTIVE || m->s[i].state == WG_SESS_DETACHED))
			return &m->s[i];
	return NULL;
}

static unsigned int
m_count(struct model *m, uint8_t st)
{
	unsigned int n = 0;

	for (int i = 0; i < MMAX * 2; i++)
		n += m->s[i].conn && m->s[i].state == st;
	return n;
}

static void
m_free(struct msess *x)
{
	memset(x, 0, sizeof(*x));
}

static void
m_state(struct msess *x, uint8_t st, uint64_t now)
{
	x->state = st;
	x->deadline = st == WG_SESS_LOGGING_IN ? now + 5000 :
		      st == WG_SESS_DETACHED ? now + 30000 :
		      st == WG_SESS_CLOSED ? now + 2000 : 0;
	if (st == WG_SESS_CLOSED)
		for (int i = 0; i < 4; i++)
			x->routes[i] = WG_SESS_NO_INSTANCE;
}

static uint64_t rs = 0x1234567;

static uint64_t
rnd(uint64_t n)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (rs >> 33) % n;
}

static void
m_expire_cb(void *arg, const struct wg_session *s)
{
	struct model *m = arg;
	struct msess *x = m_conn(m, s->conn_id);

	assert_non_null(x);
	assert_int_equal(x->state, s->state);
	assert_true(x->deadline == s->deadline_ms);
	if (x->state == WG_SESS_LOGGING_IN)
		m_state(x, WG_SESS_CLOSED, m->now);
	else
		m_free(x);
}

static void
check_all(struct wg_sess_table *t, struct model *m)
{
	uint32_t inst[8] = { 0 };

	for (uint8_t st = 1; st < WG_SESS_N_STATES; st++)
		if (wg_sess_count(t, st) != m_count(m, st))
			fail_msg("state %u: table %u model %u", st, wg_sess_count(t, st),
				 m_count(m, st));
	for (int i = 0; i < MMAX * 2; i++) {
		struct msess *x = &m->s[i];
		struct wg_session *s;

		if (!x->conn)
			continue;
		s = wg_sess_find(t, x->conn);
		assert_non_null(s);
		assert_int_equal(s->state, x->state);
		assert_true(s->deadline_ms == x->deadline);
		if (x->state == WG_SESS_ACTIVE || x->state == WG_SESS_DETACHED) {
			assert_ptr_equal(wg_sess_find_player(t, x->player), s);
			for (int k = 0; k < 4; k++) {
				assert_int_equal(s->routes[k].inst, x->routes[k]);
				if (x->routes[k] != WG_SESS_NO_INSTANCE)
					inst[x->routes[k]]++;
			}
		}
	}
	for (uint16_t k = 0; k < 8; k++)
		assert_int_equal(wg_sess_instance_count(t, k), inst[k]);
	assert_int_equal(wg_sess_count(t, WG_SESS_FREE) + m_count(m, 1) + m_count(m, 2) +
			 m_count(m, 3) + m_count(m, 4), MMAX);
}

static void
test_random_model(void **state)
{
	struct wg_sess_table *t = mk(MMAX);
	static struct model m;
	uint64_t now = 0, next_conn = 1;

	(void)state;
	memset(&m, 0, sizeof(m));
	for (int step = 0; step < 200000; step++) {
		uint64_t op = rnd(100);
		struct msess *x = NULL;
		struct wg_session *s;

		now += rnd(50);
		/* a random live model session, if any */
		for (int tries = 0; tries < 4 && x == NULL; tries++) {
			struct msess *c = &m.s[rnd(MMAX * 2)];

			if (c->conn)
				x = c;
		}
		if (op < 25) {                                  /* open */
			uint64_t conn = CONN(rnd(4), next_conn++);
			struct msess *slot = m_conn(&m, 0);

			s = wg_sess_open(t, conn, NULL, 0, now);
			if (m_count(&m, 1) + m_count(&m, 2) + m_count(&m, 3) + m_count(&m, 4) ==
			    MMAX) {
				assert_null(s);
				assert_int_equal(errno, ENOSPC);
			} else {
				assert_non_null(s);
				slot->conn = conn;
				m_state(slot, WG_SESS_LOGGING_IN, now);
				for (int k = 0; k < 4; k++)
					slot->routes[k] = WG_SESS_NO_INSTANCE;
			}
		} else if (op < 45 && x) {                      /* activate */
			uint64_t p = 1 + rnd(40);
			struct wg_sess_kick k;
			int rc;

			s = wg_sess_find(t, x->conn);
			rc = wg_sess_activate(t, s, p, "m", now, &k);
			if (x->state != WG_SESS_LOGGING_IN) {
				assert_int_equal(rc, -EINVAL);
			} else {
				struct msess *old = m_player(&m, p);

				assert_int_equal(rc, 0);
				if (old == NULL) {
					assert_int_equal(k.old_state, WG_SESS_FREE);
				} else if (old->state == WG_SESS_ACTIVE) {
					assert_int_equal(k.conn_id, old->conn);
					for (int j = 0; j < 4; j++)
						assert_int_equal(k.routes[j], old->routes[j]);
					m_state(old, WG_SESS_CLOSED, now);
				} else {
					assert_int_equal(k.conn_id, 0);
					assert_int_equal(k.old_state, WG_SESS_DETACHED);
					m_free(old);
				}
				x->player = p;
				m_state(x, WG_SESS_ACTIVE, now);
			}
		} else if (op < 60 && x) {                      /* detach */
			int rc = wg_sess_detach(t, x->conn, now);

			if (x->state == WG_SESS_DETACHED) {
				assert_int_equal(rc, -EALREADY);
			} else {
				assert_int_equal(rc, x->state);
				if (x->state == WG_SESS_ACTIVE)
					m_state(x, WG_SESS_DETACHED, now);
				else
					m_free(x);
			}
		} else if (op < 70 && x) {                      /* resume */
			uint64_t nconn = CONN(rnd(4), next_conn++);
			uint8_t tok[16];
			struct wg_sess_kick k;

			s = wg_sess_find(t, x->conn);
			memcpy(tok, s->resume_token, 16);
			if (rnd(4) == 0)
				tok[rnd(16)] ^= (uint8_t)(1 + rnd(255));
			bool good = memcmp(tok, s->resume_token, 16) == 0;
			s = wg_sess_resume(t, nconn, x->conn, tok, now, &k);
			if (x->state != WG_SESS_ACTIVE && x->state != WG_SESS_DETACHED) {
				assert_null(s);
				assert_int_equal(errno, ENOENT);
			} else if (!good) {
				assert_null(s);
				assert_int_equal(errno, EACCES);
			} else {
				assert_non_null(s);
				assert_int_equal(k.conn_id, x->state == WG_SESS_ACTIVE ? x->conn : 0);
				x->conn = nconn;
				m_state(x, WG_SESS_ACTIVE, now);
			}
		} else if (op < 78 && x) {                      /* close */
			int rc;

			s = wg_sess_find(t, x->conn);
			rc = wg_sess_close(t, s, now);
			if (x->state == WG_SESS_CLOSED) {
				assert_int_equal(rc, -EALREADY);
			} else {
				assert_int_equal(rc, x->state);
				if (x->state == WG_SESS_DETACHED)
					m_free(x);
				else
					m_state(x, WG_SESS_CLOSED, now);
			}
		} else if (op < 95 && x) {                      /* route */
			unsigned int svc = (unsigned int)rnd(4);
			uint16_t inst = rnd(6) == 0 ? WG_SESS_NO_INSTANCE : (uint16_t)rnd(8);
			int rc;

			s = wg_sess_find(t, x->conn);
			rc = wg_sess_route_set(t, s, svc, inst);
			if (x->state == WG_SESS_ACTIVE || x->state == WG_SESS_DETACHED) {
				assert_int_equal(rc, 0);
				x->routes[svc] = inst;
			} else {
				assert_int_equal(rc, -EINVAL);
			}
		} else {                                        /* expire */
			unsigned int due = 0;

			for (int i = 0; i < MMAX * 2; i++)
				due += m.s[i].conn && m.s[i].deadline && m.s[i].deadline <= now;
			m.now = now;
			assert_int_equal(wg_sess_expire(t, now, UINT32_MAX, m_expire_cb, &m), due);
			for (int i = 0; i < MMAX * 2; i++)
				if (m.s[i].conn && m.s[i].deadline && m.s[i].deadline <= now &&
				    m.s[i].state != WG_SESS_ACTIVE)
					fail_msg("step %d: %#llx due at %llu not expired at %llu", step,
						 (unsigned long long)m.s[i].conn,
						 (unsigned long long)m.s[i].deadline,
						 (unsigned long long)now);
		}
		if (step % 7 == 0 || op >= 95)
			check_all(t, &m);
	}
	check_all(t, &m);
	wg_sess_destroy(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_duplicate_login),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
