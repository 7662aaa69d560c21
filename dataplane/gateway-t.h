/* SPDX-License-Identifier: BSD-3-Clause
 * The gateway service: client sessions on a worker, between the streams
 * (WebSocket / framed connections) and the control and logic instances
 * (rings). docs/message-plane.md is the design.
 */
#ifndef WG_GATEWAY_T_H
#define WG_GATEWAY_T_H

#include <stdbool.h>
#include <stdint.h>

#define WG_GW_MAX_SERVICES   16
#define WG_GW_ROUTE_NONE     0xff          /* no instance for that service yet */
#define WG_GW_NO_ENTRY       UINT32_MAX    /* empty replay list / free list end */

enum wg_gw_state {
	WG_GW_FREE = 0,
	WG_GW_NEW,                     /* connected, not logged in */
	WG_GW_LOGIN,                   /* LOGIN or RESUME is with control */
	WG_GW_ACTIVE,                  /* logged in: messages route to logic */
	WG_GW_DETACHED,                /* connection gone: waits for RESUME until deadline */
};

/* session flags */
#define WG_GWF_TEXT          0x01  /* the client speaks JSON text frames */
#define WG_GWF_REPLAY_LOST   0x02  /* the replay list overflowed: RESUME cannot be exact */
#define WG_GWF_RESUMING      0x04  /* the pending request is a RESUME */
#define WG_GWF_CLOSING       0x08  /* kicked or logged out: nothing more goes out */
#define WG_GWF_LIMITED       0x10  /* told RATE_LIMITED since the bucket last refilled */
#define WG_GWF_LOGOUT        0x20  /* the client logged out: the session ends with it */
/* 0x40..0x80 unused */

/* The gateway's settings (config section `gateway`, services list). */
struct wg_gw_conf {
	uint32_t max_sessions;         /* per worker: connections plus detached ones */
	uint32_t max_message;          /* client Envelope bytes (binary) */
	uint32_t heartbeat_ms;         /* told to clients in LoginAck */
	uint32_t idle_timeout_ms;      /* logged-in session without a message: kicked */
	uint32_t login_timeout_ms;     /* connection without a login: closed */
	uint32_t resume_window_ms;     /* detached session kept for RESUME */
	uint32_t replay_max;           /* server messages kept per session until acked */
	uint32_t replay_budget;        /* ... and per worker */
	uint32_t msg_rate;             /* client messages/s per session (token bucket) */
	uint32_t msg_burst;
	uint32_t max_violations;       /* rate-limited / bad messages in a row before a kick */
	uint8_t n_services;
	uint8_t type_service[65536];   /* client msg type -> service index, 0xff: none */
};

/* One client session. The stream pointer and its generation say which
 * connection carries it now (none while detached). */
struct wg_gw_sess {
	uint64_t id;                   /* session id (docs/message-plane.md) */
	uint64_t player_id;
	struct wg_stream *stream;
	uint64_t deadline_ms;          /* NEW/LOGIN: login by; DETACHED: resume by */
	uint64_t last_rx_ms;
	uint64_t resume_of;            /* RESUMING: the session it asks for */
	uint32_t rx_seq;               /* highest client seq */
	uint32_t tx_seq;               /* last server seq given */
	uint32_t resume_last;          /* RESUMING: highest server seq the client has */
	uint32_t replay_head;          /* oldest unacked server message (entry index) */
	uint32_t replay_tail;
	uint32_t replay_n;
	uint32_t tokens;               /* rate bucket, in 1/1000 messages */
	uint32_t violations;
	uint64_t refill_ms;
	uint8_t state;                 /* enum wg_gw_state */
	uint8_t flags;                 /* WG_GWF_* */
	uint8_t route[WG_GW_MAX_SERVICES]; /* registry slot per service */
	uint8_t resume_token[16];      /* control's, kept for a restarted control */
	uint32_t peer_ip;              /* host byte order */
	uint16_t peer_port;
	uint16_t pad;
	uint32_t free_next;            /* free list link */
	uint32_t gen;                  /* bumped on every reuse, part of the id */
};

/* Counters (telemetry /wg/gateway). */
struct wg_gw_stats {
	uint64_t sessions;             /* in use now */
	uint64_t opened;
	uint64_t logins;               /* SESSION_BIND accepted */
	uint64_t resumes;
	uint64_t resume_failed;
	uint64_t detached;
	uint64_t expired;              /* detached sessions that timed out */
	uint64_t kicked;
	uint64_t msgs_in;              /* client messages accepted */
	uint64_t msgs_routed;          /* to logic */
	uint64_t msgs_out;             /* to clients, multicast copies included */
	uint64_t multicasts;
	uint64_t heartbeats;
	uint64_t errors_sent;
	uint64_t bad_msgs;             /* undecodable, wrong JSON */
	uint64_t unknown_type;
	uint64_t not_logged_in;
	uint64_t rate_limited;
	uint64_t too_big;
	uint64_t unavailable;          /* no alive instance for the service */
	uint64_t no_session;           /* ring message for a session that is gone */
	uint64_t ring_full;            /* message to an instance dropped: ring full */
	uint64_t nobufs;               /* no message mbuf */
	uint64_t replay_dropped;       /* replay list over its limit: oldest let go */
	uint64_t replayed;
	uint64_t login_timeouts;
	uint64_t idle_kicks;
	uint64_t sess_full;            /* no session object: connection refused */
	uint64_t synced;               /* sessions reported to a restarted control */
	uint64_t foreign;              /* from an instance the session is not routed to: dropped */
};

#endif /* WG_GATEWAY_T_H */
