/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "persist_log.h"

static wg_plog_fn *log_fn;
static void *log_arg;
static int log_max = WG_PLOG_INFO;

void
wg_persist_set_log(wg_plog_fn *fn, void *arg, int max_level)
{
	log_fn = fn;
	log_arg = arg;
	log_max = max_level;
}

int
wg_plog_enabled(int level)
{
	return log_fn != NULL && level <= log_max;
}

void
wg_plog(int level, const char *mod, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!wg_plog_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_fn(log_arg, level, mod, line);
}

uint64_t
wg_persist_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
