/* SPDX-License-Identifier: BSD-3-Clause
 * Framed TCP decoder and encoder. The decoder delivers whole messages the
 * way the WebSocket parser does (see ws_frame.c): in place when a message
 * lies wholly inside the chunk, else copied into one env buffer of exactly
 * its length, which the length prefix tells us up front. A length over the
 * limit is refused before any payload is read. Zero-length messages are
 * messages.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "framed.h"

int
wg_framed_init(struct wg_framed *f, uint32_t max_message, struct wg_ws_env *env)
{
	if (max_message == 0 || env == NULL || env->buf_get == NULL || env->buf_put == NULL)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->env = env;
	f->max_message = max_message;
	return 0;
}

void
wg_framed_release(struct wg_framed *f)
{
	if (f->buf != NULL) {
		f->env->buf_put(f->env->arg, f->buf);
		f->buf = NULL;
	}
}

static int
deliver(struct wg_framed *f, struct wg_ws_event *ev, const uint8_t *data, void *buf)
{
	ev->type = WG_WS_EV_MESSAGE;
	ev->opcode = WG_WS_OP_BINARY;
	ev->len = f->need;
	ev->data = data;
	ev->buf = buf;
	f->buf = NULL;
	f->flags &= (uint8_t)~WG_FRAMEDF_PAYLOAD;
	f->hdr_have = 0;
	f->have = 0;
	f->env->stats.rx_msgs++;
	f->env->stats.rx_bytes += f->need;
	return WG_WS_EV_MESSAGE;
}

int
wg_framed_recv(struct wg_framed *f, const uint8_t *p, size_t len, struct wg_ws_event *ev,
	       size_t *used)
{
	size_t i = 0;

	memset(ev, 0, sizeof(*ev));
	if (f->flags & WG_FRAMEDF_DEAD) {
		*used = len;
		return WG_WS_EV_NONE;
	}
	while (i < len) {
		if (!(f->flags & WG_FRAMEDF_PAYLOAD)) {
			size_t n = WG_FRAMED_HDR - f->hdr_have;

			if (n > len - i)
				n = len - i;
			memcpy(f->hdr + f->hdr_have, p + i, n);
			f->hdr_have = (uint8_t)(f->hdr_have + n);
			i += n;
			if (f->hdr_have < WG_FRAMED_HDR)
				break;
			f->need = (uint32_t)f->hdr[0] << 24 | (uint32_t)f->hdr[1] << 16 |
				  (uint32_t)f->hdr[2] << 8 | f->hdr[3];
			if (f->need > f->max_message) {
				f->flags |= WG_FRAMEDF_DEAD;
				f->env->stats.err_too_big++;
				ev->type = WG_WS_EV_ERROR;
				ev->code = WG_WS_CLOSE_TOO_BIG;
				*used = len;
				return WG_WS_EV_ERROR;
			}
			f->flags |= WG_FRAMEDF_PAYLOAD;
			f->have = 0;
			if (len - i >= f->need) {
				f->env->stats.rx_in_place++;
				*used = i + f->need;
				return deliver(f, ev, p + i, NULL);
			}
			continue;
		}
		if (f->buf == NULL) {
			f->buf = f->env->buf_get(f->env->arg, f->need);
			if (f->buf == NULL) {
				f->env->stats.err_nobufs++;
				*used = i;
				return -ENOBUFS;
			}
		}
		size_t n = f->need - f->have;

		if (n > len - i)
			n = len - i;
		memcpy(f->buf + f->have, p + i, n);
		f->have += (uint32_t)n;
		i += n;
		if (f->have == f->need) {
			*used = i;
			return deliver(f, ev, f->buf, f->buf);
		}
	}
	*used = i;
	return WG_WS_EV_NONE;
}

int
wg_framed_build(const void *payload, uint32_t len, uint32_t max_message, uint8_t *out,
		size_t cap)
{
	if (len > max_message || len > INT32_MAX - WG_FRAMED_HDR)
		return -EMSGSIZE;
	if (cap < (size_t)len + WG_FRAMED_HDR)
		return -ENOSPC;
	wg_framed_header(out, len);
	if (len > 0)
		memcpy(out + WG_FRAMED_HDR, payload, len);
	return (int)len + WG_FRAMED_HDR;
}
