/* SPDX-License-Identifier: BSD-3-Clause
 * Session table: all memory at create (sessions, two open-addressing hash
 * indexes, per-instance route lists), O(1) per operation, no allocation per
 * login. Timeouts need no timer structure: each timed state has one fixed
 * timeout, so its list, appended in time order, is sorted by deadline and
 * expiry pops from the head (requires non-decreasing `now`).
 *
 * Pointers to sessions stay valid until the session is freed; across an
 * asynchronous gap (an account lookup) keep the conn_id and look it up
 * again, since the slot may have been freed and reused meanwhile.
 *
 * Not thread-safe: the control loop owns it.
 */
#ifndef WG_SESSION_H
#define WG_SESSION_H

#include <stdbool.h>
#include <stdio.h>

#include "session-t.h"

struct wg_sess_table;

/* NULL + errno (EINVAL, ENOMEM). */
struct wg_sess_table *wg_sess_create(const struct wg_sess_conf *conf);
void wg_sess_destroy(struct wg_sess_table *t);

/* A connection was accepted: new LOGGING_IN session. NULL + errno: EINVAL
 * (conn_id 0), EEXIST (conn_id known), ENOSPC (max_sessions reached).
 * ip may be NULL (unknown). */
struct wg_session *wg_sess_open(struct wg_sess_table *t, uint64_t conn_id,
				const uint8_t ip[16], uint16_t port, uint64_t now_ms);

/* The dataplane worker owning the session's connection (conn_id >> 56). */
static inline uint16_t
wg_sess_worker(const struct wg_session *s)
{
	return (uint16_t)(s->conn_id >> 56);
}

struct wg_session *wg_sess_find(const struct wg_sess_table *t, uint64_t conn_id);
/* The player's session (ACTIVE or DETACHED), or NULL. */
struct wg_session *wg_sess_find_player(const struct wg_sess_table *t, uint64_t player_id);

/* Login accepted: s (LOGGING_IN) becomes ACTIVE for player_id with a fresh
 * resume token and no routes. A previous session of the player is taken
 * over: ACTIVE -> CLOSED (kick->conn_id says where to send the kick),
 * DETACHED -> freed (nothing to kick); its routes are copied to *kick.
 * -EINVAL (player 0, s not LOGGING_IN), -EIO (no randomness). */
int wg_sess_activate(struct wg_sess_table *t, struct wg_session *s, uint64_t player_id,
		     const char *account, uint64_t now_ms, struct wg_sess_kick *kick);

/* Resume on connection new_conn of the session last seen on old_conn,
 * proving it with the 16-byte token (constant-time compare). new_conn's own
 * LOGGING_IN session, if any, is dropped (its peer address is kept). An
 * old session still ACTIVE (its connection half-open) is taken over and
 * its connection reported in *kick. The token is replaced on success.
 * NULL + errno: ENOENT (no resumable session: unknown, closed, expired),
 * EACCES (wrong token), EBUSY (new_conn holds a logged-in session), EINVAL
 * (ids 0 or equal), EIO. */
struct wg_session *wg_sess_resume(struct wg_sess_table *t, uint64_t new_conn, uint64_t old_conn,
				  const uint8_t token[WG_SESS_RESUME_LEN], uint64_t now_ms,
				  struct wg_sess_kick *kick);

/* s is known by conn_id from now on (the dataplane keeps a resumed
 * session's first id). 0, -EINVAL, -EEXIST (conn_id taken). */
int wg_sess_rekey(struct wg_sess_table *t, struct wg_session *s, uint64_t conn_id);

/* The dataplane reports conn_id gone. Returns the state the session was in
 * (>= 0): LOGGING_IN and CLOSED sessions are freed, ACTIVE ones become
 * DETACHED for grace_ms. -ENOENT (unknown), -EALREADY (already DETACHED). */
int wg_sess_detach(struct wg_sess_table *t, uint64_t conn_id, uint64_t now_ms);

/* Control ends a session (login failure, ban, idle timeout): a connected
 * session becomes CLOSED (kick it; freed on detach or after linger_ms), a
 * DETACHED one is freed. Returns the previous state, or -EALREADY (CLOSED). */
int wg_sess_close(struct wg_sess_table *t, struct wg_session *s, uint64_t now_ms);

/* Route service svc of s (ACTIVE or DETACHED) to inst, or unroute with
 * WG_SESS_NO_INSTANCE. -EINVAL (bad svc/inst/state). */
int wg_sess_route_set(struct wg_sess_table *t, struct wg_session *s, unsigned int svc,
		      uint16_t inst);

/* Called for each session leaving a timed state, before it changes:
 * LOGGING_IN (login timeout: kick it; it becomes CLOSED), DETACHED (grace
 * over: it is freed), CLOSED (no detach came: it is freed). The callback
 * must not change the table. */
typedef void wg_sess_expire_fn(void *arg, const struct wg_session *s);
/* Handle at most max expiries due at now_ms; returns how many. */
unsigned int wg_sess_expire(struct wg_sess_table *t, uint64_t now_ms, unsigned int max,
			    wg_sess_expire_fn *fn, void *arg);
/* Earliest deadline, UINT64_MAX if none. */
uint64_t wg_sess_next_deadline(const struct wg_sess_table *t);

/* Every (session, service) routed to inst, e.g. to reroute after the
 * instance died. The callback may change routes of the session it is given
 * (wg_sess_route_set), and nothing else. Returns the number of calls. */
typedef void wg_sess_route_fn(void *arg, struct wg_sess_table *t, struct wg_session *s,
			      unsigned int svc);
unsigned int wg_sess_foreach_instance(struct wg_sess_table *t, uint16_t inst,
				      wg_sess_route_fn *fn, void *arg);
/* Routes currently on inst. */
uint32_t wg_sess_instance_count(const struct wg_sess_table *t, uint16_t inst);

/* A restarted control rebuilding from the dataplane's tables: an ACTIVE
 * session as it was. NULL + errno: EINVAL, EEXIST (conn or player known),
 * ENOSPC. */
struct wg_session *wg_sess_restore(struct wg_sess_table *t, uint64_t conn_id,
				   uint64_t player_id, const uint16_t *routes, unsigned int n_routes,
				   const uint8_t token[WG_SESS_RESUME_LEN], uint64_t now_ms);

/* Where a restored session's client is, and its account name (NULL keeps
 * the name). */
void wg_sess_set_peer(struct wg_session *s, const uint8_t ip[16], uint16_t port,
		      const char *account);

/* Sessions in state st (WG_SESS_FREE: free slots). */
uint32_t wg_sess_count(const struct wg_sess_table *t, enum wg_sess_state st);
/* All non-free sessions in slot order; fn must not change the table. */
typedef void wg_sess_visit_fn(void *arg, const struct wg_session *s);
void wg_sess_foreach(const struct wg_sess_table *t, wg_sess_visit_fn *fn, void *arg);

const char *wg_sess_state_name(enum wg_sess_state st);
void wg_sess_dump(FILE *f, const struct wg_sess_table *t);

#endif /* WG_SESSION_H */
