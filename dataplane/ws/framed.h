/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_FRAMED_H
#define WG_FRAMED_H

#include <stddef.h>
#include <stdint.h>

#include "framed-t.h"

/* Set up a decoder; env outlives it. -EINVAL for a zero limit or an env
 * without buffers. */
int wg_framed_init(struct wg_framed *f, uint32_t max_message, struct wg_ws_env *env);

/* Give back a held reassembly buffer (connection gone mid-message). */
void wg_framed_release(struct wg_framed *f);

/* Consume stream bytes up to the first event, as wg_ws_recv() does:
 * WG_WS_EV_MESSAGE (opcode BINARY; in place when the whole message is in
 * this chunk, else in an env buffer handed over in ev->buf), WG_WS_EV_ERROR
 * with code 1009 when a length is over the limit (the stream cannot be
 * resynchronised: close it), WG_WS_EV_NONE when all was consumed, or
 * -ENOBUFS (retry from p + *used later). */
int wg_framed_recv(struct wg_framed *f, const uint8_t *p, size_t len, struct wg_ws_event *ev,
		   size_t *used);

/* The 4-byte prefix for a message of len bytes. */
static inline void
wg_framed_header(uint8_t out[WG_FRAMED_HDR], uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

/* Prefix and payload into out: bytes written, -ENOSPC, or -EMSGSIZE over
 * max_message (the peer would refuse it). */
int wg_framed_build(const void *payload, uint32_t len, uint32_t max_message, uint8_t *out,
		    size_t cap);

#endif /* WG_FRAMED_H */
