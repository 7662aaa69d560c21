/* SPDX-License-Identifier: BSD-3-Clause
 * Logging hook for the persistence modules: silent until the process calls
 * wg_persist_set_log(). Library code never prints.
 */
#ifndef WG_PERSIST_LOG_H
#define WG_PERSIST_LOG_H

#include "persist-t.h"

void wg_persist_set_log(wg_plog_fn *fn, void *arg, int max_level);
void wg_plog(int level, const char *mod, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether a line at this level would reach the hook (skip costly formatting). */
int wg_plog_enabled(int level);

#define PLOG(level, mod, ...) \
	do { \
		if (wg_plog_enabled(WG_PLOG_ ## level)) \
			wg_plog(WG_PLOG_ ## level, mod, __VA_ARGS__); \
	} while (0)

/* Monotonic milliseconds (vDSO clock, never blocks). */
uint64_t wg_persist_now_ms(void);

#endif /* WG_PERSIST_LOG_H */
