/* SPDX-License-Identifier: BSD-3-Clause
 * Non-blocking PostgreSQL client with pipeline mode. Work is submitted as
 * batches: a list of prepared-statement executions that the server runs as
 * one implicit transaction (one Sync per batch). Several batches ride the
 * connection at once; a batch completes when its Sync comes back, i.e. after
 * COMMIT — its callback is the durability acknowledgement.
 *
 * Connection loss (or a server-side kill) puts every unacknowledged batch
 * back at the head of the queue, in order, and they are re-sent on the next
 * connection: a batch may therefore run twice, so statements must be
 * idempotent (the entity upserts are versioned, see pg_entity.c).
 *
 * At each connection: non-blocking connect (PQconnectStart/Poll), schema
 * migrations (under an advisory lock, each step once), PREPARE of the
 * configured statements, then pipeline mode.
 */
#ifndef WG_PG_H
#define WG_PG_H

#include <poll.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "pg-t.h"

struct wg_pg;
struct wg_pg_batch;

/* err: 0 (committed; per-query results via wg_pg_batch_result), -EPROTO (a
 * statement failed: nothing of the batch was applied; sqlstate/message via
 * wg_pg_batch_error), -ECANCELED (client destroyed). The batch is freed
 * after the callback returns. */
typedef void wg_pg_done_cb(void *arg, struct wg_pg_batch *b, int err);

struct wg_pg *wg_pg_create(const struct wg_pg_conf *conf);
void wg_pg_destroy(struct wg_pg *pg);

struct wg_pg_batch *wg_pg_batch_new(wg_pg_done_cb *done, void *arg);
void wg_pg_batch_free(struct wg_pg_batch *b);
/* Append one execution of a prepared statement; values are copied. vals[i]
 * NULL is SQL NULL; lens/fmts may be NULL (text, NUL-terminated). */
int wg_pg_batch_add(struct wg_pg_batch *b, const char *stmt, int nparams,
		    const char *const *vals, const int *lens, const int *fmts);
unsigned int wg_pg_batch_count(const struct wg_pg_batch *b);
PGresult *wg_pg_batch_result(const struct wg_pg_batch *b, unsigned int i);
const char *wg_pg_batch_error(const struct wg_pg_batch *b, const char **sqlstate);
void *wg_pg_batch_arg(const struct wg_pg_batch *b);

/* Queue a batch (ownership passes on success). -EAGAIN: max_queued reached,
 * the batch stays the caller's — back off and retry. */
int wg_pg_submit(struct wg_pg *pg, struct wg_pg_batch *b);
bool wg_pg_can_submit(const struct wg_pg *pg);

int wg_pg_poll(struct wg_pg *pg, int timeout_ms);
int wg_pg_pollfds(struct wg_pg *pg, struct pollfd *pfd, int max);
int wg_pg_dispatch(struct wg_pg *pg, const struct pollfd *pfd, int n);
int wg_pg_timers(struct wg_pg *pg, uint64_t now_ms);

void wg_pg_stats(const struct wg_pg *pg, struct wg_pg_stats *st);
/* Backend pid of the live connection, 0 if none (tests kill it). */
int wg_pg_backend_pid(const struct wg_pg *pg);
void wg_pg_dump(FILE *f, const struct wg_pg *pg);

/* Migrations (pg_migrate.c). Check that versions strictly increase and
 * names are safe; then write the SQL that applies every step above
 * `applied` (each followed by its wg_migrations row) into buf. Returns the
 * number of steps written, or -EINVAL (bad list), -ENOSPC (buf too small). */
int wg_pg_migrations_check(const struct wg_pg_migration *m, unsigned int n);
int wg_pg_migrations_plan(const struct wg_pg_migration *m, unsigned int n,
			  int applied, char *buf, size_t size);

/* SQLSTATE classes a batch survives by being re-sent. */
bool wg_pg_sqlstate_retryable(const char *sqlstate);
bool wg_pg_sqlstate_conn_lost(const char *sqlstate);

#endif /* WG_PG_H */
