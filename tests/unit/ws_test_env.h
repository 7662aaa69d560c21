/* SPDX-License-Identifier: BSD-3-Clause
 * The buffer environment the WebSocket and framed parser tests lend their
 * parsers: malloc'd buffers, counted so a teardown can prove every one came
 * back, and a switch that makes the pool dry (back-pressure paths).
 * Included by one test program each (static state).
 */
#ifndef WG_TESTS_WS_TEST_ENV_H
#define WG_TESTS_WS_TEST_ENV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static int bufs_out;       /* lent and not yet returned */
static bool pool_dry;
static uint32_t last_get_size;

static void *
t_get(void *arg, uint32_t size)
{
	void *b;

	(void)arg;
	if (pool_dry)
		return NULL;
	b = malloc(size ? size : 1);
	assert_non_null(b);
	last_get_size = size;
	bufs_out++;
	return b;
}

static void
t_put(void *arg, void *buf)
{
	(void)arg;
	assert_non_null(buf);
	bufs_out--;
	free(buf);
}

#endif /* WG_TESTS_WS_TEST_ENV_H */
