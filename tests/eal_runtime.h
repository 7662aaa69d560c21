/* SPDX-License-Identifier: BSD-3-Clause
 * Test programs run the EAL with --no-shconf and a file prefix of their own
 * (name + pid). The EAL still creates /var/run/dpdk/<prefix> and leaves it
 * behind; this removes it at exit (it stays empty without shared config).
 * Only a directory named after this process is touched.
 */
#ifndef WG_TESTS_EAL_RUNTIME_H
#define WG_TESTS_EAL_RUNTIME_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

static void
wg_test_eal_rmdir(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	char pid[24];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (dir != NULL && strstr(dir, pid) != NULL)
		(void)rmdir(dir);
}

/* Call before rte_eal_init(). */
static inline void
wg_test_eal_cleanup_at_exit(void)
{
	atexit(wg_test_eal_rmdir);
}

#endif /* WG_TESTS_EAL_RUNTIME_H */
