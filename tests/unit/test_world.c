/* SPDX-License-Identifier: BSD-3-Clause
 * World: Move validation (speed, slack, bounds, non-finite, unknown
 * entities; cheaters are refused and stay put), velocities, and the sync
 * output a client decodes into the server's view.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "aoi.h"
#include "entity.h"
#include "sync.h"
#include "world.h"

struct outbox {
	uint32_t calls;
	uint64_t session[8];
	wg_eid_t eid[8];
	uint8_t msg[8][8192];
	size_t len[8];
	int fail;
};

static int
out(void *arg, uint64_t session, wg_eid_t eid, const uint8_t *msg, size_t len)
{
	struct outbox *o = arg;

	if (o->fail)
		return -ENOBUFS;
	assert_true(o->calls < 8 && len <= sizeof(o->msg[0]));
	o->session[o->calls] = session;
	o->eid[o->calls] = eid;
	memcpy(o->msg[o->calls], msg, len);
	o->len[o->calls++] = len;
	return 0;
}

static struct wg_world *
mk(struct outbox *o)
{
	struct wg_world_conf c = {
		.min_x = -100, .min_y = -100, .width = 1100, .height = 1100,
		.view_radius = 50, .max_speed = 10, .capacity = 64, .nfields = 1,
		.out = out, .out_arg = o,
	};
	struct wg_world *w = wg_world_create(&c);

	assert_non_null(w);
	memset(o, 0, sizeof(*o));
	return w;
}

static void
test_conf_rejects(void **state)
{
	struct wg_world_conf c = { .width = 10, .height = 10, .capacity = 4, .out = out };
	struct wg_world_conf bad;

	(void)state;
	bad = c;
	bad.out = NULL;
	assert_null(wg_world_create(&bad));
	assert_int_equal(errno, EINVAL);
	bad = c;
	bad.max_speed = NAN;
	assert_null(wg_world_create(&bad));
	bad = c;
	bad.nfields = WG_SYNC_MAX_FIELDS + 1;
	assert_null(wg_world_create(&bad));
	bad = c;
	bad.width = -1;
	assert_null(wg_world_create(&bad));
}

static void
test_move_validation(void **state)
{
	struct wg_entity_store *es;
	struct wg_world_stats st;
	struct outbox o;
	struct wg_world *w = mk(&o);
	wg_eid_t e, gone;
	uint32_t k, i;

	(void)state;
	es = wg_world_store(w);
	assert_int_equal(wg_world_spawn(w, NAN, 0, 0, -1, 0, &e), -EINVAL);
	assert_int_equal(wg_world_spawn(w, 0, 1001, 0, -1, 0, &e), -EDOM);
	assert_int_equal(wg_world_spawn(w, 100, 100, 0, -1, 0, &e), 0);
	k = wg_entity_slot(es, e);
	assert_int_equal(wg_world_tick(w), 0);

	/* exactly the speed limit is fine; a hair more is a cheat */
	assert_int_equal(wg_world_move(w, e, 110, 100, 0), 0);
	assert_int_equal(wg_world_tick(w), 0);
	assert_true(es->vx[k] == 10 && es->vy[k] == 0);
	assert_int_equal(wg_world_move(w, e, 120.01f, 100, 0), -ERANGE);
	assert_true(es->x[k] == 110);   /* rejected, not moved */
	/* several moves in a tick are measured from the tick's start */
	assert_int_equal(wg_world_move(w, e, 115, 100, 0), 0);
	assert_int_equal(wg_world_move(w, e, 120, 100, 0), 0);
	assert_int_equal(wg_world_move(w, e, 125, 100, 0), -ERANGE);
	assert_int_equal(wg_world_move(w, e, 110, 108, 0), 0);
	assert_true(es->x[k] == 110 && es->y[k] == 108);
	assert_int_equal(wg_world_tick(w), 0);
	assert_true(es->vx[k] == 0 && es->vy[k] == 8);
	/* no move: velocity drops to 0 */
	assert_int_equal(wg_world_tick(w), 0);
	assert_true(es->vx[k] == 0 && es->vy[k] == 0);
	/* idle ticks are credited, up to the slack (4 ticks) */
	assert_int_equal(wg_world_tick(w), 0);
	assert_int_equal(wg_world_move(w, e, 110, 138, 0), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(wg_world_tick(w), 0);
	assert_int_equal(wg_world_move(w, e, 110, 179, 0), -ERANGE);
	assert_int_equal(wg_world_move(w, e, 110, 178, 0), 0);
	/* bounds, non-finite, unknown */
	assert_int_equal(wg_world_move(w, e, 110, -101, 0), -EDOM);
	assert_int_equal(wg_world_move(w, e, NAN, 100, 0), -EINVAL);
	assert_int_equal(wg_world_move(w, e, 110, 170, INFINITY), -EINVAL);
	assert_int_equal(wg_world_move(w, e + 1, 110, 170, 0), -ENOENT);
	assert_int_equal(wg_world_spawn(w, 0, 0, 0, -1, 0, &gone), 0);
	assert_int_equal(wg_world_despawn(w, gone), 0);
	assert_int_equal(wg_world_move(w, gone, 0, 0, 0), -ENOENT);
	assert_int_equal(wg_world_despawn(w, gone), -ENOENT);
	assert_true(es->x[k] == 110 && es->y[k] == 178);
	wg_world_stats(w, &st);
	assert_int_equal(st.moves, 6);
	assert_int_equal(st.rejected_speed, 3);
	assert_int_equal(st.rejected_bounds, 1);
	assert_int_equal(st.rejected_invalid, 2);
	assert_int_equal(st.rejected_unknown, 2);
	assert_int_equal(st.entities, 1);
	assert_int_equal(wg_world_set_field(w, e, 1, 5), -EINVAL);
	assert_int_equal(wg_world_set_field(w, e, 0, 5), 0);
	assert_int_equal(wg_entity_field(es, k, 0), 5);
	wg_world_destroy(w);
}

static void
test_sync_output(void **state)
{
	struct wg_sync_decoder *d = wg_sync_decoder_create(32, 1, 0);
	struct wg_world_stats st;
	struct outbox o;
	struct wg_world *w = mk(&o);
	wg_eid_t c1, c2, npc, far;
	uint8_t ack[16], mv[32];
	uint32_t tick, n;
	const struct wg_sync_entry *v;
	int len;

	(void)state;
	assert_int_equal(wg_world_spawn(w, 0, 0, 0, -1, 77, &c1), 0);
	assert_int_equal(wg_world_spawn(w, 500, 500, 0, -1, 78, &c2), 0);
	assert_int_equal(wg_world_spawn(w, 20, 0, 1.0f, -1, 0, &npc), 0);
	assert_int_equal(wg_world_spawn(w, 200, 0, 0, -1, 0, &far), 0);
	assert_int_equal(wg_world_set_field(w, npc, 0, 42), 0);
	assert_int_equal(wg_world_tick(w), 0);
	/* one message per client, none for NPCs */
	assert_int_equal(o.calls, 2);
	assert_true((o.session[0] == 77 && o.eid[0] == c1) || (o.session[1] == 77 && o.eid[1] == c1));
	{
		uint32_t i = o.eid[0] == c1 ? 0 : 1;

		assert_int_equal(wg_sync_decode(d, o.msg[i], o.len[i], &tick), 0);
	}
	assert_int_equal(tick, 1);
	v = wg_sync_decoder_view(d, &n, NULL);
	/* itself and the NPC in range, not the far one nor the other client */
	assert_int_equal(n, 2);
	assert_non_null(wg_sync_decoder_find(d, c1));
	assert_non_null(wg_sync_decoder_find(d, npc));
	assert_int_equal(wg_sync_decoder_find(d, npc)->s.x, wg_sync_quant(20, -100, 16));
	assert_int_equal(wg_sync_decoder_find(d, npc)->s.yaw, wg_sync_quant_yaw(1.0));
	assert_int_equal(wg_sync_decoder_find(d, npc)->s.field[0], 42);
	(void)v;
	len = wg_sync_ack_pack(tick, ack, sizeof(ack));
	assert_true(len > 0);
	assert_int_equal(wg_world_ack(w, c1, ack, (size_t)len), 0);
	assert_int_equal(wg_world_ack(w, npc, ack, (size_t)len), -ENOENT);
	assert_int_equal(wg_world_ack(w, c1, (const uint8_t *)"\xff\xff", 2), -EBADMSG);

	/* the client walks towards the far NPC with MoveInput messages; the
	 * NPC in range leaves, the far one enters */
	for (tick = 2; tick <= 20; tick++) {
		uint32_t got, i;

		len = wg_sync_move_pack(tick, (float)(tick - 1) * 10, 0, 0, mv, sizeof(mv));
		assert_int_equal(wg_world_move_msg(w, c1, mv, (size_t)len), 0);
		o.calls = 0;
		assert_int_equal(wg_world_tick(w), 0);
		for (i = 0; i < o.calls; i++)
			if (o.eid[i] == c1) {
				assert_int_equal(wg_sync_decode(d, o.msg[i], o.len[i], &got), 0);
				len = wg_sync_ack_pack(got, ack, sizeof(ack));
				assert_int_equal(wg_world_ack(w, c1, ack, (size_t)len), 0);
			}
	}
	assert_null(wg_sync_decoder_find(d, npc));
	assert_non_null(wg_sync_decoder_find(d, far));
	assert_int_equal(wg_sync_decoder_find(d, c1)->s.x, wg_sync_quant(190, -100, 16));
	/* a despawned entity leaves the client's world */
	assert_int_equal(wg_world_despawn(w, far), 0);
	o.calls = 0;
	assert_int_equal(wg_world_tick(w), 0);
	for (n = 0; n < o.calls; n++)
		if (o.eid[n] == c1)
			assert_int_equal(wg_sync_decode(d, o.msg[n], o.len[n], &tick), 0);
	assert_null(wg_sync_decoder_find(d, far));
	assert_int_equal(wg_world_move_msg(w, c1, (const uint8_t *)"\x0a\xff", 2), -EBADMSG);
	/* an output that refuses is counted, and the world goes on */
	o.fail = 1;
	assert_int_equal(wg_world_tick(w), 0);
	wg_world_stats(w, &st);
	assert_int_equal(st.out_errors, 2);
	assert_int_equal(st.bad_msgs, 2);
	assert_int_equal(st.clients, 2);
	assert_int_equal(wg_world_tick_no(w), 22);
	wg_sync_decoder_destroy(d);
	wg_world_destroy(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_rejects),
		cmocka_unit_test(test_move_validation),
		cmocka_unit_test(test_sync_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
