/* SPDX-License-Identifier: BSD-3-Clause
 * Fixed header at the start of every message mbuf that crosses a ring.
 * The payload that follows is protobuf-c bytes (proto/ *.proto files).
 */
#ifndef WG_MSG_T_H
#define WG_MSG_T_H

#include <stddef.h>
#include <stdint.h>

struct wg_msg_hdr {
	uint64_t session_id;     /* client session; 0 for process-to-process messages */
	uint32_t msg_type;       /* WG_MSG_* */
	uint32_t len;            /* payload bytes after this header */
	uint16_t flags;          /* WG_MSG_F_* */
	uint16_t src;            /* sender: registry slot, or WG_MSG_SRC_DP | worker */
	uint32_t seq;            /* per (sender, ring) sequence, for loss/order checks */
	uint64_t tsc;            /* sender's TSC when queued, for ring latency */
};

/* The header is read on every message on every ring: keep it one 32-byte,
 * naturally aligned block so it never straddles a cache line in an mbuf
 * whose data offset is a multiple of 32 (RTE_PKTMBUF_HEADROOM is 128). */
_Static_assert(sizeof(struct wg_msg_hdr) == 32, "wg_msg_hdr must stay 32 bytes");
_Static_assert(offsetof(struct wg_msg_hdr, msg_type) == 8, "wg_msg_hdr layout");
_Static_assert(offsetof(struct wg_msg_hdr, len) == 12, "wg_msg_hdr layout");
_Static_assert(offsetof(struct wg_msg_hdr, flags) == 16, "wg_msg_hdr layout");
_Static_assert(offsetof(struct wg_msg_hdr, src) == 18, "wg_msg_hdr layout");
_Static_assert(offsetof(struct wg_msg_hdr, seq) == 20, "wg_msg_hdr layout");
_Static_assert(offsetof(struct wg_msg_hdr, tsc) == 24, "wg_msg_hdr layout");

/* msg_type ranges */
#define WG_MSG_SYS_FIRST     0x0001  /* process-to-process system messages */
#define WG_MSG_SYS_LAST      0x00ff
#define WG_MSG_CLIENT_FIRST  0x0100  /* client protocol messages (message-plane issue) */

/* system messages */
#define WG_MSG_HELLO         0x0001  /* instance -> dp: proto InstanceHello */
#define WG_MSG_HELLO_ACK     0x0002  /* dp -> instance: proto HelloAck */
#define WG_MSG_PING          0x0003  /* dp -> instance: empty, tsc set */
#define WG_MSG_PONG          0x0004  /* instance -> dp: echoes the ping's seq and tsc */
#define WG_MSG_BYE           0x0005  /* instance -> dp: clean detach, empty */

/* message plane (docs/message-plane.md); payloads in wg_internal.proto */
#define WG_MSG_SESSION_OPEN   0x0010  /* dp -> control: SessionOpen, before a LOGIN/RESUME */
#define WG_MSG_SESSION_BIND   0x0011  /* control -> dp: SessionBind, login/resume accepted */
#define WG_MSG_SESSION_ATTACH 0x0012  /* dp -> logic: SessionAttach, the session is yours */
#define WG_MSG_SESSION_DETACH 0x0013  /* dp -> logic/control: SessionDetach, it is gone */
#define WG_MSG_SESSION_KICK   0x0014  /* control -> dp: KickReq, tell the client and close */
#define WG_MSG_ROUTE_UPDATE   0x0015  /* control -> dp: SessionBind with new routes only */
#define WG_MSG_SESSION_SYNC   0x0016  /* control -> dp: send SESSION_STATE for every session;
                                       * dp -> control, empty: that was all */
#define WG_MSG_SESSION_STATE  0x0017  /* dp -> control: SessionState */

/* flags */
#define WG_MSG_F_MULTICAST   0x0001  /* payload is followed by a session list */
#define WG_MSG_F_REPLY       0x0002  /* answers a message with the same seq */
/* 0x0004 .. 0x8000 unused */
#define WG_MSG_F_MASK        0x0003

/* src encoding */
#define WG_MSG_SRC_DP        0x8000  /* | worker index */

#endif /* WG_MSG_T_H */
