/* SPDX-License-Identifier: BSD-3-Clause
 * Framed TCP: each message is a 4-byte big-endian length and that many
 * bytes (a protobuf). Same chunk-in, event-out shape as the WebSocket
 * parser, sharing its event and environment types.
 */
#ifndef WG_FRAMED_T_H
#define WG_FRAMED_T_H

#include <stdint.h>

#include "ws-t.h"

#define WG_FRAMED_HDR 4

/* decoder flags */
#define WG_FRAMEDF_DEAD    0x01  /* limit broken: input is ignored */
#define WG_FRAMEDF_PAYLOAD 0x02  /* length done, payload bytes follow */
/* 0x04..0x80 unused */

struct wg_framed {
	struct wg_ws_env *env;
	uint8_t *buf;                  /* reassembly buffer (env), or NULL */
	uint32_t max_message;
	uint32_t need;                 /* payload length of the current message */
	uint32_t have;                 /* payload bytes of it so far */
	uint8_t hdr[WG_FRAMED_HDR];
	uint8_t hdr_have;
	uint8_t flags;                 /* WG_FRAMEDF_* */
	uint16_t pad;
};

_Static_assert(sizeof(struct wg_framed) <= 64, "framed decoder state fits a cache line");

#endif /* WG_FRAMED_T_H */
