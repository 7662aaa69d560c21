/* SPDX-License-Identifier: BSD-3-Clause
 * Write-back of dirty entities to PostgreSQL.
 *
 * The logic loop calls wg_wb_put() for every changed entity (any number of
 * times per tick: updates to one entity coalesce into its newest version)
 * and wg_wb_tick() once per tick. Every flush_ms, or as soon as flush_rows
 * entities are dirty, the dirty set is cut into one batch (one transaction)
 * and handed to the sink (PostgreSQL: multi-row versioned upserts in
 * pipeline mode). The row callback reports each row's fate once its batch
 * committed: APPLIED, STALE (a newer version was already stored — a replay),
 * FENCED (a newer lease holder owns the row: stop writing it) or FAILED (the
 * database refused the batch; re-put it if it should be retried).
 *
 * Bounded: at most max_dirty distinct dirty entities and max_inflight_rows
 * rows handed to the sink. When full, wg_wb_put() of a new entity returns
 * -EAGAIN — the caller slows admission; nothing is dropped. wg_wb_pressure()
 * turns true earlier (3/4 full, or the sink refusing cuts) as a slow-down
 * signal.
 *
 * Crash: what was put but not yet acknowledged (at most one flush interval
 * plus the batches in flight) is lost; nothing acknowledged is, and a
 * replayed batch cannot apply anything twice (versions).
 */
#ifndef WG_WRITEBACK_H
#define WG_WRITEBACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct wg_wb;
struct wg_pg;

enum wg_wb_status {
	WG_WB_APPLIED = 0,
	WG_WB_STALE = 1,
	WG_WB_FENCED = 2,
	WG_WB_FAILED = 3,
};

struct wg_wb_row {
	uint32_t kind;
	uint64_t id;
	uint64_t version;
	uint64_t fence;
	uint32_t len;
	const uint8_t *data;
};

struct wg_wb_result {
	uint32_t kind;
	uint64_t id;
	uint64_t version;
	int status;                   /* enum wg_wb_status */
};

/* Where cuts go. submit() must copy what it keeps and return 0, or -EAGAIN
 * to refuse (the rows stay dirty and are offered again next tick). It later
 * reports every row through wg_wb_rows_done(), possibly in several calls. */
struct wg_wb_sink {
	int (*submit)(void *ctx, struct wg_wb *wb, const struct wg_wb_row *rows,
		      unsigned int n);
	void *ctx;
};

typedef void wg_wb_row_cb(void *arg, const struct wg_wb_result *res);

struct wg_wb_conf {
	uint32_t flush_ms;
	uint32_t flush_rows;
	uint32_t max_dirty;
	uint32_t max_inflight_rows;
	uint32_t max_data;            /* bytes per entity value */
};

struct wg_wb_stats {
	uint64_t puts;
	uint64_t coalesced;           /* puts absorbed by an already dirty entity */
	uint64_t eagain;
	uint64_t cuts;
	uint64_t sink_busy;           /* cuts the sink refused */
	uint64_t rows_cut;
	uint64_t applied, stale, fenced, failed;
	uint32_t dirty;
	uint32_t inflight_rows;
};

struct wg_wb *wg_wb_create(const struct wg_wb_conf *conf, const struct wg_wb_sink *sink,
			   wg_wb_row_cb *cb, void *arg);
void wg_wb_destroy(struct wg_wb *wb);

/* 0, -EAGAIN (full: retry later), -ESTALE (version not newer than the dirty
 * one), -EMSGSIZE, -EINVAL. */
int wg_wb_put(struct wg_wb *wb, uint32_t kind, uint64_t id, uint64_t version,
	      uint64_t fence, const void *data, uint32_t len);
/* Cut if due. Returns rows handed to the sink, 0, or -errno. */
int wg_wb_tick(struct wg_wb *wb, uint64_t now_ms);
/* Cut now whatever is dirty (clean shutdown, tests). */
int wg_wb_flush(struct wg_wb *wb, uint64_t now_ms);
bool wg_wb_idle(const struct wg_wb *wb);
bool wg_wb_pressure(const struct wg_wb *wb);
void wg_wb_rows_done(struct wg_wb *wb, const struct wg_wb_result *res, unsigned int n);
void wg_wb_stats(const struct wg_wb *wb, struct wg_wb_stats *st);
void wg_wb_dump(FILE *f, const struct wg_wb *wb);

/* The PostgreSQL sink (wb_pg.c): upserts through pg in batches of
 * 64/8/1-row statements, one transaction per cut. */
int wg_wb_pg_sink(struct wg_pg *pg, struct wg_wb_sink *sink);

#endif /* WG_WRITEBACK_H */
