/* SPDX-License-Identifier: BSD-3-Clause
 * The demo services on the logic framework: echo and chat rooms.
 */
#ifndef WG_SVC_T_H
#define WG_SVC_T_H

#include <stdint.h>

/* Routing service numbers (Route.service): the high byte of the service's
 * wg.MsgType block, 0x02xx echo, 0x03xx chat. */
#define WG_SVC_ECHO_ID       2
#define WG_SVC_CHAT_ID       3

/* Room names: 1..WG_CHAT_ROOM_MAX bytes of [A-Za-z0-9_.-], so they are
 * safe in logs, JSON and file names without escaping. */
#define WG_CHAT_ROOM_MAX     32

struct wg_chat_conf {
	uint32_t max_rooms;            /* rooms existing at once on this instance */
	uint32_t max_members;          /* sessions per room */
	uint32_t max_text;             /* bytes of ChatSay.text */
	uint32_t max_joined;           /* rooms one session is in at once, <= 255 */
};

struct wg_chat_stats {
	uint64_t joins;                /* CHAT_JOIN accepted (repeats included) */
	uint64_t leaves;               /* CHAT_LEAVE accepted */
	uint64_t says;                 /* CHAT_SAY broadcast */
	uint64_t delivered;            /* CHAT_MSG copies queued to the dataplane */
	uint64_t detach_leaves;        /* memberships ended by a session detach */
	uint64_t refused;              /* requests answered with an Error */
	uint32_t rooms;                /* existing now */
	uint32_t rooms_max;            /* high-water mark */
};

struct wg_chat;

#endif /* WG_SVC_T_H */
