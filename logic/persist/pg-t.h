/* SPDX-License-Identifier: BSD-3-Clause
 * PostgreSQL client types: configuration, migrations, prepared statements,
 * counters.
 */
#ifndef WG_PG_T_H
#define WG_PG_T_H

#include <stdbool.h>
#include <stdint.h>

#define WG_PG_MAX_PARAMS   1024     /* per statement execution */
#define WG_PG_NAME_MAX     48

/* One schema step. Versions strictly increase in the array; a step runs
 * once, in the same transaction as its row in wg_migrations. */
struct wg_pg_migration {
	int version;
	const char *name;             /* [a-z0-9_]+ */
	const char *sql;
};

/* Prepared on every (re)connection, after the migrations. */
struct wg_pg_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

struct wg_pg_conf {
	const char *conninfo;         /* libpq connection string */
	uint32_t connect_timeout_ms;
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	unsigned int max_inflight;    /* batches on the wire at once */
	unsigned int max_queued;      /* batches accepted (queued + on the wire) */
	const struct wg_pg_migration *migrations;
	unsigned int n_migrations;
	const struct wg_pg_stmt *stmts;
	unsigned int n_stmts;
};

struct wg_pg_stats {
	uint64_t batches_done;
	uint64_t batches_failed;      /* SQL error, reported to the caller */
	uint64_t batches_retried;     /* serialization/deadlock: re-queued */
	uint64_t batches_replayed;    /* re-sent after a connection loss */
	uint64_t queries;
	uint64_t connects;
	uint64_t conn_lost;
	uint64_t connect_failures;
	uint64_t eagain;
	uint32_t queued;
	uint32_t inflight;
	int schema_version;
	bool ready;
};

#endif /* WG_PG_T_H */
