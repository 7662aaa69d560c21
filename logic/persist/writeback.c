/* SPDX-License-Identifier: BSD-3-Clause
 * Write-back dirty set: dense entry array + open-addressing index keyed by
 * (kind, id). A put is one probe and one memcpy; a cut walks the dense
 * array and resets only the index slots it used, so both cost O(dirty), not
 * O(capacity). Entry buffers are kept across cuts and only grow.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "writeback.h"

#define SLOT_EMPTY 0u

struct wb_ent {
	uint32_t kind;
	uint32_t len;
	uint64_t id;
	uint64_t version;
	uint64_t fence;
	uint32_t cap;
	uint32_t slot;                /* its index slot, for O(1) reset */
	uint8_t *data;
};

struct wg_wb {
	struct wg_wb_conf conf;
	struct wg_wb_sink sink;
	wg_wb_row_cb *cb;
	void *arg;
	struct wb_ent *ents;          /* [0, n) dirty */
	uint32_t n;
	uint32_t *idx;                /* entry index + 1, SLOT_EMPTY if free */
	uint32_t mask;
	struct wg_wb_row *rows;       /* cut scratch */
	uint64_t last_cut_ms;
	bool blocked;                 /* last cut refused by the sink or window */
	struct wg_wb_stats st;
};

static inline uint32_t
key_hash(uint32_t kind, uint64_t id)
{
	uint64_t z = id + 0x9e3779b97f4a7c15ull * (kind + 1u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)(z ^ (z >> 31));
}

struct wg_wb *
wg_wb_create(const struct wg_wb_conf *conf, const struct wg_wb_sink *sink,
	     wg_wb_row_cb *cb, void *arg)
{
	struct wg_wb *wb;
	uint32_t size = 2;

	if (conf->max_dirty == 0 || conf->max_dirty > (1u << 24) || conf->flush_rows == 0 ||
	    conf->max_inflight_rows < conf->max_dirty || conf->max_data == 0 ||
	    sink == NULL || sink->submit == NULL) {
		errno = EINVAL;
		return NULL;
	}
	while (size < conf->max_dirty * 2)
		size <<= 1;
	wb = calloc(1, sizeof(*wb));
	if (wb == NULL)
		return NULL;
	wb->conf = *conf;
	wb->sink = *sink;
	wb->cb = cb;
	wb->arg = arg;
	wb->mask = size - 1;
	wb->ents = calloc(conf->max_dirty, sizeof(*wb->ents));
	wb->idx = calloc(size, sizeof(*wb->idx));
	wb->rows = calloc(conf->max_dirty, sizeof(*wb->rows));
	if (wb->ents == NULL || wb->idx == NULL || wb->rows == NULL) {
		wg_wb_destroy(wb);
		errno = ENOMEM;
		return NULL;
	}
	return wb;
}

void
wg_wb_destroy(struct wg_wb *wb)
{
	if (wb == NULL)
		return;
	for (uint32_t i = 0; wb->ents && i < wb->conf.max_dirty; i++)
		free(wb->ents[i].data);
	free(wb->ents);
	free(wb->idx);
	free(wb->rows);
	free(wb);
}

int
wg_wb_put(struct wg_wb *wb, uint32_t kind, uint64_t id, uint64_t version,
	  uint64_t fence, const void *data, uint32_t len)
{
	uint32_t s = key_hash(kind, id) & wb->mask, e;
	struct wb_ent *ent;

	if (len > wb->conf.max_data)
		return -EMSGSIZE;
	if ((len && data == NULL) || version == 0 || version > INT64_MAX ||
	    fence > INT64_MAX || id > INT64_MAX)
		return -EINVAL;
	bool fresh = true;

	while ((e = wb->idx[s]) != SLOT_EMPTY) {
		ent = &wb->ents[e - 1];
		if (ent->kind == kind && ent->id == id) {
			if (version <= ent->version)
				return -ESTALE;
			fresh = false;
			break;
		}
		s = (s + 1) & wb->mask;
	}
	if (fresh) {
		if (wb->n == wb->conf.max_dirty) {
			wb->st.eagain++;
			return -EAGAIN;
		}
		ent = &wb->ents[wb->n];
	}
	if (len > ent->cap) {
		uint32_t cap = len < 64 ? 64 : len;
		uint8_t *p = realloc(ent->data, cap);

		if (p == NULL)
			return -ENOMEM;  /* nothing changed */
		ent->data = p;
		ent->cap = cap;
	}
	if (fresh) {
		ent->kind = kind;
		ent->id = id;
		ent->slot = s;
		wb->idx[s] = ++wb->n;
	} else {
		wb->st.coalesced++;
	}
	if (len)
		memcpy(ent->data, data, len);
	ent->len = len;
	ent->version = version;
	ent->fence = fence;
	wb->st.puts++;
	return 0;
}

static int
cut(struct wg_wb *wb, uint64_t now)
{
	uint32_t n = wb->n;
	int rc;

	if (n == 0)
		return 0;
	if (wb->st.inflight_rows + n > wb->conf.max_inflight_rows) {
		wb->blocked = true;
		return 0;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct wb_ent *e = &wb->ents[i];

		wb->rows[i] = (struct wg_wb_row){ e->kind, e->id, e->version, e->fence,
						  e->len, e->data };
	}
	/* counted before submit: a sink may complete rows synchronously */
	wb->st.inflight_rows += n;
	rc = wb->sink.submit(wb->sink.ctx, wb, wb->rows, n);
	if (rc < 0) {
		wb->st.inflight_rows -= n;
		if (rc == -EAGAIN) {
			wb->st.sink_busy++;
			wb->blocked = true;
			return 0;
		}
		return rc;
	}
	for (uint32_t i = 0; i < n; i++)
		wb->idx[wb->ents[i].slot] = SLOT_EMPTY;
	/* linear probing: clearing every used slot keeps all chains valid */
	wb->n = 0;
	wb->blocked = false;
	wb->last_cut_ms = now;
	wb->st.cuts++;
	wb->st.rows_cut += n;
	return (int)n;
}

int
wg_wb_tick(struct wg_wb *wb, uint64_t now)
{
	if (wb->n == 0) {
		wb->last_cut_ms = now;   /* the interval starts with the first put */
		return 0;
	}
	if (wb->n >= wb->conf.flush_rows || now - wb->last_cut_ms >= wb->conf.flush_ms ||
	    wb->blocked)
		return cut(wb, now);
	return 0;
}

int
wg_wb_flush(struct wg_wb *wb, uint64_t now)
{
	return cut(wb, now);
}

bool
wg_wb_idle(const struct wg_wb *wb)
{
	return wb->n == 0 && wb->st.inflight_rows == 0;
}

bool
wg_wb_pressure(const struct wg_wb *wb)
{
	return wb->blocked || wb->n >= wb->conf.max_dirty - wb->conf.max_dirty / 4;
}

void
wg_wb_rows_done(struct wg_wb *wb, const struct wg_wb_result *res, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		switch (res[i].status) {
		case WG_WB_APPLIED: wb->st.applied++; break;
		case WG_WB_STALE: wb->st.stale++; break;
		case WG_WB_FENCED: wb->st.fenced++; break;
		default: wb->st.failed++; break;
		}
		if (wb->cb)
			wb->cb(wb->arg, &res[i]);
	}
	wb->st.inflight_rows -= n <= wb->st.inflight_rows ? n : wb->st.inflight_rows;
}

void
wg_wb_stats(const struct wg_wb *wb, struct wg_wb_stats *st)
{
	*st = wb->st;
	st->dirty = wb->n;
}

void
wg_wb_dump(FILE *f, const struct wg_wb *wb)
{
	const struct wg_wb_stats *s = &wb->st;

	fprintf(f, "writeback dirty %u/%u inflight %u/%u%s\n", wb->n, wb->conf.max_dirty,
		s->inflight_rows, wb->conf.max_inflight_rows, wb->blocked ? " BLOCKED" : "");
	fprintf(f, "  puts %lu coalesced %lu eagain %lu cuts %lu sink_busy %lu rows %lu "
		"applied %lu stale %lu fenced %lu failed %lu\n",
		(unsigned long)s->puts, (unsigned long)s->coalesced, (unsigned long)s->eagain,
		(unsigned long)s->cuts, (unsigned long)s->sink_busy, (unsigned long)s->rows_cut,
		(unsigned long)s->applied, (unsigned long)s->stale, (unsigned long)s->fenced,
		(unsigned long)s->failed);
}
