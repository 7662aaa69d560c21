/* SPDX-License-Identifier: BSD-3-Clause
 * Entity store: handles, generations, slot reuse only after commit, dirty
 * bits, capacity limits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "entity.h"

static void
test_spawn_despawn(void **state)
{
	struct wg_entity_store *s = wg_entity_store_create(4, 3);
	wg_eid_t a, b, c, d, e, again;
	uint32_t sa;

	(void)state;
	assert_non_null(s);
	assert_int_equal(wg_entity_spawn(s, 11, &a), 0);
	assert_int_equal(wg_entity_spawn(s, 12, &b), 0);
	assert_int_equal(wg_entity_spawn(s, 0, &c), 0);
	assert_int_equal(wg_entity_spawn(s, 0, &d), 0);
	assert_int_equal(wg_entity_spawn(s, 0, &e), -ENOSPC);
	assert_int_equal(s->count, 4);
	/* distinct, non-zero handles; slots 0..3 first */
	assert_true(a != 0 && a != b && b != c && c != d);
	assert_int_equal(a & WG_ENT_IDX_MASK, 0);
	assert_int_equal(d & WG_ENT_IDX_MASK, 3);
	sa = wg_entity_slot(s, a);
	assert_int_equal(sa, 0);
	assert_int_equal(s->tag[sa], 11);

	assert_int_equal(wg_entity_despawn(s, a), 0);
	assert_int_equal(wg_entity_despawn(s, a), -ENOENT);
	assert_int_equal(wg_entity_slot(s, a), WG_ENT_NO_SLOT);
	assert_int_equal(s->count, 3);
	/* the freed slot stays in limbo until commit */
	assert_int_equal(wg_entity_spawn(s, 0, &e), -ENOSPC);
	wg_entity_commit(s);
	assert_int_equal(wg_entity_spawn(s, 0, &again), 0);
	assert_int_equal(again & WG_ENT_IDX_MASK, 0);
	/* same slot, new generation: the old handle stays dead */
	assert_true(again != a);
	assert_int_equal(wg_entity_slot(s, a), WG_ENT_NO_SLOT);
	assert_int_equal(wg_entity_slot(s, again), 0);
	/* handles with a garbage slot or generation */
	assert_int_equal(wg_entity_slot(s, 0), WG_ENT_NO_SLOT);
	assert_int_equal(wg_entity_slot(s, (b & ~WG_ENT_IDX_MASK) | 0xfffff), WG_ENT_NO_SLOT);
	assert_int_equal(wg_entity_slot(s, b + (1u << WG_ENT_IDX_BITS)), WG_ENT_NO_SLOT);
	wg_entity_store_destroy(s);
}

static void
test_generations_cycle(void **state)
{
	struct wg_entity_store *s = wg_entity_store_create(1, 0);
	wg_eid_t first, e, prev = 0;
	uint32_t i;

	(void)state;
	assert_int_equal(wg_entity_spawn(s, 0, &first), 0);
	assert_int_equal(wg_entity_despawn(s, first), 0);
	wg_entity_commit(s);
	/* a full cycle of generations never yields handle 0 or a repeat of
	 * the previous handle */
	for (i = 0; i < WG_ENT_GEN_MAX + 5; i++) {
		assert_int_equal(wg_entity_spawn(s, 0, &e), 0);
		assert_true(e != 0 && e != prev);
		assert_true(e >> WG_ENT_IDX_BITS >= 1);
		prev = e;
		assert_int_equal(wg_entity_despawn(s, e), 0);
		wg_entity_commit(s);
	}
	wg_entity_store_destroy(s);
}

static void
test_dirty_bits(void **state)
{
	struct wg_entity_store *s = wg_entity_store_create(8, 2);
	wg_eid_t e;
	uint32_t k;

	(void)state;
	assert_int_equal(wg_entity_spawn(s, 0, &e), 0);
	k = wg_entity_slot(s, e);
	assert_int_equal(s->dirty[k], WG_ENT_D_SPAWN | WG_ENT_D_POS | WG_ENT_D_VEL | WG_ENT_D_YAW |
				      WG_ENT_D_FIELD(0) | WG_ENT_D_FIELD(1));
	wg_entity_commit(s);
	assert_int_equal(s->dirty[k], 0);
	wg_entity_set_pos(s, k, 1.5f, -2);
	assert_int_equal(s->dirty[k], WG_ENT_D_POS);
	wg_entity_set_field(s, k, 1, 0);     /* unchanged: not dirty */
	assert_int_equal(s->dirty[k], WG_ENT_D_POS);
	wg_entity_set_field(s, k, 1, 7);
	wg_entity_set_yaw(s, k, 1);
	wg_entity_set_vel(s, k, 0, 1);
	assert_int_equal(s->dirty[k], WG_ENT_D_POS | WG_ENT_D_FIELD(1) | WG_ENT_D_YAW | WG_ENT_D_VEL);
	assert_int_equal(wg_entity_field(s, k, 1), 7);
	assert_int_equal(wg_entity_field(s, k, 0), 0);
	assert_true(s->x[k] == 1.5f && s->y[k] == -2);
	wg_entity_commit(s);
	assert_int_equal(s->dirty[k], 0);
	assert_int_equal(wg_entity_field(s, k, 1), 7);
	wg_entity_store_destroy(s);
}

static void
test_dense_iteration(void **state)
{
	struct wg_entity_store *s = wg_entity_store_create(100, 0);
	wg_eid_t e[100];
	uint32_t i, seen[100] = { 0 };

	(void)state;
	for (i = 0; i < 100; i++)
		assert_int_equal(wg_entity_spawn(s, i, &e[i]), 0);
	for (i = 0; i < 100; i += 3)
		assert_int_equal(wg_entity_despawn(s, e[i]), 0);
	assert_int_equal(s->count, 66);
	for (i = 0; i < s->count; i++) {
		uint32_t k = s->dense[i];

		assert_int_equal(s->dense_pos[k], i);
		seen[k]++;
	}
	for (i = 0; i < 100; i++)
		assert_int_equal(seen[i], i % 3 == 0 ? 0 : 1);
	wg_entity_store_destroy(s);
}

static void
test_create_rejects(void **state)
{
	(void)state;
	assert_null(wg_entity_store_create(0, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(wg_entity_store_create(WG_ENT_MAX + 1, 0));
	assert_null(wg_entity_store_create(10, WG_ENT_MAX_FIELDS + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_despawn),
		cmocka_unit_test(test_generations_cycle),
		cmocka_unit_test(test_dirty_bits),
		cmocka_unit_test(test_dense_iteration),
		cmocka_unit_test(test_create_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
