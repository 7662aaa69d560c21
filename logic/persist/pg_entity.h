/* SPDX-License-Identifier: BSD-3-Clause
 * Versioned, fenced entity rows in PostgreSQL:
 *   wg_entity(kind int, id bigint, version bigint, fence bigint, data bytea)
 * An upsert applies only if its version is newer than the row's AND its
 * fence token is not older than the row's. The first makes replays of a
 * batch harmless (the second run finds its own version and does nothing);
 * the second shuts out a lease holder that lost its lease: the new holder
 * claims the row with a larger token before it writes, and from then on the
 * old holder's writes fail in the same statement that would apply them.
 */
#ifndef WG_PG_ENTITY_H
#define WG_PG_ENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "pg.h"

#define WG_ENTITY_MAX_DATA (1u << 20)

/* Migration steps (versions 1..99 are ours; applications use 100+) and the
 * statements the write-back and load paths prepare. */
extern const struct wg_pg_migration wg_entity_migrations[];
extern const unsigned int wg_entity_n_migrations;
const struct wg_pg_stmt *wg_entity_stmts(unsigned int *n);

/* Multi-row upsert statement for `rows` rows (1, 8 or 64): name and
 * parameter layout (kind, id, version, fence, data) x rows. Each execution
 * returns one row (kind, id, fenced) per input row it did NOT apply. */
const char *wg_entity_upsert_stmt(unsigned int rows);
#define WG_ENTITY_UPSERT_MAX 64

enum wg_entity_claim_result {
	WG_CLAIM_OK = 0,         /* the row now carries our token */
	WG_CLAIM_FENCED = 1,     /* a newer token already owns it */
};

/* err 0 with result, or the batch error. */
typedef void wg_entity_claim_cb(void *arg, int err, int result, uint64_t cur_fence);
/* err 0 (found), -ENOENT (no row or only a claim placeholder: version 0). */
typedef void wg_entity_load_cb(void *arg, int err, uint64_t version, uint64_t fence,
			       const void *data, size_t len);

/* Raise the row's fence to `token` (creating a version-0 placeholder if the
 * row does not exist). Run after acquiring the lease and before writing. */
int wg_entity_claim(struct wg_pg *pg, uint32_t kind, uint64_t id, uint64_t token,
		    wg_entity_claim_cb *cb, void *arg);
int wg_entity_load(struct wg_pg *pg, uint32_t kind, uint64_t id,
		   wg_entity_load_cb *cb, void *arg);

#endif /* WG_PG_ENTITY_H */
