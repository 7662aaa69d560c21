/* SPDX-License-Identifier: BSD-3-Clause
 * Registry slot life cycle on a heap buffer: claim, duplicate identities,
 * dead holders, reuse of reclaimed slots, clean leave.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "registry.h"

static struct wg_registry *
new_reg(uint32_t slots)
{
	struct wg_registry *reg = aligned_alloc(64, sizeof(*reg));

	assert_non_null(reg);
	assert_int_equal(wg_registry_init(reg, slots, 2, 1024, 1000000000ull, 100, 1000, 1), 0);
	return reg;
}

/* A pid that certainly names no process: a child that exited and was reaped. */
static uint32_t
dead_pid(void)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return (uint32_t)p;
}

static void
test_init_check(void **state)
{
	struct wg_registry *reg = new_reg(4);

	(void)state;
	assert_int_equal(wg_registry_check(reg), 0);
	reg->version++;
	assert_int_equal(wg_registry_check(reg), -EPROTO);
	reg->version--;
	reg->magic = 0;
	assert_int_equal(wg_registry_check(reg), -EPROTO);
	assert_int_equal(wg_registry_init(reg, 0, 1, 1024, 1, 100, 1000, 1), -EINVAL);
	assert_int_equal(wg_registry_init(reg, WG_REG_MAX_SLOTS + 1, 1, 1024, 1, 100, 1000, 1), -EINVAL);
	assert_int_equal(wg_registry_init(reg, 4, WG_REG_MAX_WORKERS + 1, 1024, 1, 100, 1000, 1), -EINVAL);
	/* dead_after must exceed the heartbeat or every instance dies */
	assert_int_equal(wg_registry_init(reg, 4, 1, 1024, 1, 100, 100, 1), -EINVAL);
	free(reg);
}

static void
test_claim_distinct(void **state)
{
	struct wg_registry *reg = new_reg(3);
	uint32_t me = (uint32_t)getpid();

	(void)state;
	assert_int_equal(wg_registry_claim(reg, WG_KIND_CONTROL, 0, 8, me), 0);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, me), 1);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 1, 10, me), 2);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 2, 11, me), -ENOSPC);
	assert_int_equal(wg_slot_state(&reg->slots[1]), WG_SLOT_ATTACHING);
	assert_int_equal(reg->slots[1].kind, WG_KIND_LOGIC);
	assert_int_equal(reg->slots[1].lcore_id, 9);
	assert_int_equal(reg->slots[1].generation, 1);
	assert_int_equal(reg->claim_lock, 0);
	assert_int_equal(wg_registry_claim(reg, 7, 0, 8, me), -EINVAL);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 8, 0), -EINVAL);
	free(reg);
}

static void
test_duplicate_live(void **state)
{
	struct wg_registry *reg = new_reg(4);
	uint32_t me = (uint32_t)getpid();

	(void)state;
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, me), 0);
	/* same identity while the holder lives: refused, whatever the state */
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, me), -EEXIST);
	wg_slot_set_state(&reg->slots[0], WG_SLOT_ALIVE);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, me), -EEXIST);
	assert_int_equal(wg_registry_find(reg, WG_KIND_LOGIC, 0), 0);
	assert_int_equal(wg_registry_find(reg, WG_KIND_LOGIC, 1), -ENOENT);
	free(reg);
}

static void
test_dead_holder_waits_for_reclaim(void **state)
{
	struct wg_registry *reg = new_reg(4);
	uint32_t me = (uint32_t)getpid();
	uint32_t gone = dead_pid();

	(void)state;
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, gone), 0);
	wg_slot_set_state(&reg->slots[0], WG_SLOT_ALIVE);
	/* the monitor has not reclaimed the rings yet: try again later */
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, me), -EAGAIN);
	wg_slot_set_state(&reg->slots[0], WG_SLOT_DEAD);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, me), -EAGAIN);
	/* reclaimed: the same slot (same rings) comes back, new generation */
	wg_slot_set_state(&reg->slots[0], WG_SLOT_VACANT);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 0, 9, me), 0);
	assert_int_equal(reg->slots[0].generation, 2);
	assert_int_equal(reg->slots[0].pid, me);
	assert_int_equal(reg->slots[0].heartbeat, 0);
	assert_int_equal(wg_slot_state(&reg->slots[0]), WG_SLOT_ATTACHING);
	/* a vacant slot of another identity is not taken by a newcomer */
	wg_slot_set_state(&reg->slots[0], WG_SLOT_VACANT);
	assert_int_equal(wg_registry_claim(reg, WG_KIND_LOGIC, 5, 9, me), 1);
	free(reg);
}

static void
test_stale_lock_holder(void **state)
{
	struct wg_registry *reg = new_reg(2);

	(void)state;
	/* a claimer killed inside the lock must not wedge everyone else */
	reg->claim_lock = dead_pid();
	assert_int_equal(wg_registry_claim(reg, WG_KIND_CONTROL, 0, 8, (uint32_t)getpid()), 0);
	assert_int_equal(reg->claim_lock, 0);
	free(reg);
}

static void
test_leave(void **state)
{
	struct wg_registry *reg = new_reg(2);
	uint32_t me = (uint32_t)getpid();

	(void)state;
	assert_int_equal(wg_registry_claim(reg, WG_KIND_CONTROL, 0, 8, me), 0);
	wg_slot_set_state(&reg->slots[0], WG_SLOT_ALIVE);
	/* a stale generation (an older life) cannot evict the new one */
	wg_registry_leave(reg, 0, reg->slots[0].generation + 1);
	assert_int_equal(wg_slot_state(&reg->slots[0]), WG_SLOT_ALIVE);
	wg_registry_leave(reg, 0, reg->slots[0].generation);
	assert_int_equal(wg_slot_state(&reg->slots[0]), WG_SLOT_DEAD);
	assert_int_equal(reg->slots[0].pid, 0);
	wg_registry_leave(reg, 99, 1);   /* out of range: ignored */
	free(reg);
}

static void
test_pid_alive(void **state)
{
	(void)state;
	assert_true(wg_pid_alive((uint32_t)getpid()));
	assert_false(wg_pid_alive(0));
	assert_false(wg_pid_alive(dead_pid()));
}

static void
test_zombie_is_dead(void **state)
{
	pid_t p = fork();

	(void)state;
	assert_true(p >= 0);
	if (p == 0)
		_exit(0);
	/* not reaped yet: a zombie, which kill(pid, 0) still finds */
	for (int i = 0; i < 200 && wg_pid_alive((uint32_t)p); i++)
		usleep(10000);
	assert_false(wg_pid_alive((uint32_t)p));
	assert_int_equal(kill(p, 0), 0);
	waitpid(p, NULL, 0);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(wg_slot_state_name(WG_SLOT_ALIVE), "alive");
	assert_string_equal(wg_slot_state_name(99), "?");
	assert_string_equal(wg_kind_name(WG_KIND_LOGIC), "logic");
	assert_string_equal(wg_kind_name(0), "none");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_check),
		cmocka_unit_test(test_claim_distinct),
		cmocka_unit_test(test_duplicate_live),
		cmocka_unit_test(test_dead_holder_waits_for_reclaim),
		cmocka_unit_test(test_stale_lock_holder),
		cmocka_unit_test(test_leave),
		cmocka_unit_test(test_pid_alive),
		cmocka_unit_test(test_zombie_is_dead),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
