/* SPDX-License-Identifier: BSD-3-Clause
 * Control's session table: types.
 *
 * A session is keyed by the dataplane connection that carries it
 * (conn_id, the dataplane's session id: worker << 56 | generation | slot)
 * and, once logged in, by its player. A resume moves the session to the new
 * connection's id; the player, routes and replay state stay.
 *
 *   open ──► LOGGING_IN ──activate──► ACTIVE ──detach──► DETACHED ──grace──► freed
 *                │                      ▲  │                 │
 *                │ login timeout        │  └─close/kick──►  CLOSED ──detach/linger──► freed
 *                └───────► CLOSED       └────── resume ──────┘
 */
#ifndef WG_SESSION_T_H
#define WG_SESSION_T_H

#include <stdint.h>

#define WG_SESS_MAX_SERVICES  16
#define WG_SESS_RESUME_LEN    16
#define WG_SESS_ACCOUNT_MAX   64
#define WG_SESS_NO_INSTANCE   0xffffu
#define WG_SESS_MAX           (1u << 24)      /* sessions per table */
#define WG_SESS_NIL           UINT32_MAX      /* end of an index list */

enum wg_sess_state {
	WG_SESS_FREE = 0,
	WG_SESS_LOGGING_IN,        /* connection open, not authenticated */
	WG_SESS_ACTIVE,            /* logged in, connection up */
	WG_SESS_DETACHED,          /* connection gone; resumable until deadline */
	WG_SESS_CLOSED,            /* kicked or failed; waiting for the dataplane's detach */
	WG_SESS_N_STATES,
};

/* Proposed config: control.max_sessions, control.login_timeout_ms,
 * control.resume_grace_ms, control.close_linger_ms; n_services and
 * max_instances come from the service table. */
struct wg_sess_conf {
	uint32_t max_sessions;         /* 1..WG_SESS_MAX */
	uint16_t n_services;           /* routes per session, 1..WG_SESS_MAX_SERVICES */
	uint16_t max_instances;        /* route values are 0..max_instances-1 */
	uint32_t login_timeout_ms;     /* LOGGING_IN -> CLOSED (kick) */
	uint32_t grace_ms;             /* DETACHED -> freed */
	uint32_t linger_ms;            /* CLOSED -> freed without a detach */
};

/* Membership of one (session, service) in its instance's list. */
struct wg_sess_route {
	uint16_t inst;                 /* WG_SESS_NO_INSTANCE: not routed */
	uint16_t pad;
	uint32_t prev, next;           /* route nodes: session index * MAX_SERVICES + service */
};

/* Read-only for callers; changed through the wg_sess_* calls. */
struct wg_session {
	uint64_t conn_id;              /* current (or, detached, last) connection */
	uint64_t player_id;            /* 0 until ACTIVE */
	uint64_t deadline_ms;          /* LOGGING_IN, DETACHED, CLOSED */
	uint64_t since_ms;             /* entered the current state */
	uint32_t idx;                  /* slot in the table */
	uint32_t resumes;              /* times resumed */
	uint8_t state;                 /* enum wg_sess_state */
	uint8_t pad[3];
	uint16_t peer_port;
	uint8_t peer_ip[16];           /* IPv4 as ::ffff:a.b.c.d */
	uint8_t resume_token[WG_SESS_RESUME_LEN];
	char account[WG_SESS_ACCOUNT_MAX + 1];
	uint32_t tprev, tnext;         /* timeout list of the state; free list */
	struct wg_sess_route routes[WG_SESS_MAX_SERVICES];
};

/* What the caller must do about a session that lost its player or its
 * connection to a newer one (duplicate login, resume over a live link). */
struct wg_sess_kick {
	uint64_t conn_id;              /* send SESSION_KICK here; 0 = nothing to kick */
	uint64_t player_id;
	uint8_t old_state;             /* WG_SESS_FREE: there was no old session */
	uint16_t routes[WG_SESS_MAX_SERVICES];   /* the old session's, for stickiness */
};

#endif /* WG_SESSION_T_H */
