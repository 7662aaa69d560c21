/* SPDX-License-Identifier: BSD-3-Clause
 * One rte_log type per module: each .c does
 *   RTE_LOG_REGISTER(wg_<mod>_logtype, wg.<mod>, INFO);
 *   #define MOD_LOG(l, ...) WG_LOG(wg_<mod>_logtype, l, "<mod>", __VA_ARGS__)
 * DEBUG lines compile out unless WG_DEBUG is defined (nginx's ngx_log_debug).
 */
#ifndef WG_LOG_H
#define WG_LOG_H

#include <rte_log.h>

#define WG_LOG_IMPL(type, level, mod, fmt, ...) \
	rte_log(RTE_LOG_ ## level, type, mod ": " fmt "%s", __VA_ARGS__)

#ifdef WG_DEBUG
#define WG_LOG_DEBUG_ON 1
#else
#define WG_LOG_DEBUG_ON 0
#endif

/* WG_LOG(type, LEVEL, "mod", "fmt", args...) appends the newline itself. */
#define WG_LOG(type, level, mod, ...) \
	do { \
		if (RTE_LOG_ ## level != RTE_LOG_DEBUG || WG_LOG_DEBUG_ON) \
			WG_LOG_IMPL(type, level, mod, __VA_ARGS__, "\n"); \
	} while (0)

#endif /* WG_LOG_H */
