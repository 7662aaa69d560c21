/* SPDX-License-Identifier: BSD-3-Clause
 * Types shared by the persistence modules (Redis, PostgreSQL, write-back,
 * cache, locks). No DPDK here: logic processes may run on hosts without it,
 * so logging goes through a hook the embedding process installs instead of
 * rte_log (common/log.h needs the EAL).
 */
#ifndef WG_PERSIST_T_H
#define WG_PERSIST_T_H

#include <stdint.h>

enum wg_plog_level {
	WG_PLOG_ERR = 3,
	WG_PLOG_WARNING = 4,
	WG_PLOG_NOTICE = 5,
	WG_PLOG_INFO = 6,
	WG_PLOG_DEBUG = 7,
};

/* Receives one formatted line (no trailing newline). */
typedef void wg_plog_fn(void *arg, int level, const char *mod, const char *msg);

#endif /* WG_PERSIST_T_H */
