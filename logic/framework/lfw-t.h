/* SPDX-License-Identifier: BSD-3-Clause
 * The logic-process framework (lfw): services register handlers per client
 * message type, get told when sessions attach to and detach from this
 * instance, and run on a fixed-rate tick. docs/message-plane.md is the
 * contract with the dataplane; logic/framework/README.md the overview.
 */
#ifndef WG_LFW_T_H
#define WG_LFW_T_H

#include <stddef.h>
#include <stdint.h>

#include "envelope-t.h"

/* Client message types the O(1) dispatch table covers: 0x0100..0xffff.
 * wg.MsgType values are far below; larger ones are answered UNKNOWN_TYPE. */
#define WG_LFW_TYPE_LIMIT     0x10000
#define WG_LFW_MAX_SERVICES   16
#define WG_LFW_MAX_HANDLERS   255          /* handler slots; slot 0 means none */
#define WG_LFW_NAME_MAX       64           /* player display name, NUL included */
/* Decode arena per message: protobuf-c allocates the unpacked message and
 * its strings from it. A payload fits one message mbuf (4 KiB), so this is
 * room for the worst expansion of a legitimate one; a hostile payload that
 * needs more (thousands of unknown fields) fails to decode: BAD_MESSAGE. */
#define WG_LFW_ARENA_SIZE     (64 * 1024)

/* Reason passed to on_detach when the framework drops every session itself
 * because our registry slot was reclaimed (the dataplane rebuilt our routes
 * and will attach the sessions again). Beyond wg.DetachReason's values. */
#define WG_LFW_DETACH_RESET   0x100

/* service flags */
#define WG_LFW_SVC_F_SESSION  0x01         /* handlers run only for attached sessions;
					    * others get SERVICE_UNAVAILABLE */
/* 0x02..0x80000000 unused */
#define WG_LFW_SVC_F_MASK     0x01

struct wg_lfw;

/* A client session attached to this instance. idx is stable from attach to
 * detach and below max_sessions: services index their own per-session
 * arrays with it. */
struct wg_lfw_session {
	uint64_t id;                   /* dataplane session id: worker << 56 | gen << 32 | slot */
	uint64_t player_id;
	uint64_t attached_ms;          /* wg_lfw_now_ms() at attach */
	uint32_t idx;
	uint16_t worker;               /* ring the SESSION_ATTACH came on */
	uint8_t resumed;               /* SessionAttach.resumed */
	uint8_t pad;
	char name[WG_LFW_NAME_MAX];    /* display name, NUL-terminated, valid UTF-8 */
};

/* One client request as a handler sees it. env.payload points into the
 * ring message, valid only during the call. */
struct wg_lfw_req {
	uint64_t session_id;
	const struct wg_lfw_session *sess; /* NULL: not attached here */
	struct wg_envelope env;
	unsigned int worker;           /* ring it came on */
};

/* Returns 0, or -errno counted in handler_errors (the handler has already
 * answered the client if it wanted to). */
typedef int (*wg_lfw_handler_fn)(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg);
/* reason: 0 for on_attach; wg.DetachReason or WG_LFW_DETACH_RESET. */
typedef void (*wg_lfw_session_fn)(struct wg_lfw *fw, const struct wg_lfw_session *s,
				  uint32_t reason, void *arg);
/* tick counts from 1; one call per tick, ticks dropped by the catch-up
 * policy are not numbered (simulation time slows down instead). */
typedef void (*wg_lfw_tick_fn)(struct wg_lfw *fw, uint64_t tick, void *arg);

struct wg_lfw_handler {
	uint32_t type;                 /* client message type (wg.MsgType) */
	wg_lfw_handler_fn fn;
};

/* What a service registers; copied, except handlers[] and name, which must
 * outlive the framework (static tables). */
struct wg_lfw_service {
	const char *name;
	uint32_t id;                   /* routing service number (Route.service) */
	uint32_t flags;                /* WG_LFW_SVC_F_* */
	const struct wg_lfw_handler *handlers;
	unsigned int n_handlers;
	wg_lfw_session_fn on_attach;   /* optional */
	wg_lfw_session_fn on_detach;   /* optional */
	wg_lfw_tick_fn on_tick;        /* optional */
	void *arg;
};

struct wg_lfw_conf {
	uint32_t tick_hz;              /* ticks per second, >= 1 */
	uint32_t max_catchup;          /* late ticks run back to back before the rest are dropped */
	uint32_t max_sessions;         /* sessions attached at once */
};

struct wg_lfw_stats {
	uint64_t msgs;                 /* ring messages handed to the framework */
	uint64_t dispatched;           /* client messages given to a handler */
	uint64_t bad_msgs;             /* undecodable Envelope / payload, type mismatch */
	uint64_t unknown_type;         /* no handler: answered UNKNOWN_TYPE */
	uint64_t unattached;           /* session service, session not attached here */
	uint64_t handler_errors;       /* handler returned < 0 */
	uint64_t sys_ignored;          /* system messages the framework does not handle */
	uint64_t no_session_id;        /* client message with session id 0 */
	uint64_t attaches;
	uint64_t reattaches;           /* SESSION_ATTACH for a session already here */
	uint64_t detaches;
	uint64_t detach_unknown;       /* SESSION_DETACH for a session not here */
	uint64_t sessions_full;        /* SESSION_ATTACH refused: max_sessions reached */
	uint64_t resets;               /* slot reclaimed: every session dropped */
	uint64_t sent;                 /* unicast messages queued to a ring */
	uint64_t errors_sent;          /* of which Error */
	uint64_t multicasts;           /* wg_lfw_multicast calls that queued something */
	uint64_t mcast_mbufs;          /* ring messages they took */
	uint64_t mcast_sessions;       /* session ids queued */
	uint64_t bad_dest;             /* session id 0 or of a worker we have no ring to */
	uint64_t too_big;              /* message does not fit one message mbuf */
	uint64_t nobufs;               /* message pool empty */
	uint64_t ring_full;            /* worker ring full: message dropped */
	uint64_t ticks;                /* ticks run */
	uint64_t ticks_late;           /* polls that found more than one tick due */
	uint64_t ticks_dropped;        /* due ticks dropped beyond max_catchup */
	uint32_t sessions;             /* attached now */
	uint32_t sessions_max;         /* high-water mark */
};

#endif /* WG_LFW_T_H */
