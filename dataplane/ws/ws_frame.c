/* SPDX-License-Identifier: BSD-3-Clause
 * WebSocket frames (RFC 6455 5): the incremental parser and the builders.
 *
 * Input arrives in chunks split anywhere. The parser keeps only what it
 * cannot take from the chunk: up to 14 header bytes, up to 125 bytes of a
 * control payload, and - only while a message is split over chunks or
 * frames - a reassembly buffer from the lcore's pool. It reports one event
 * per call and returns, so the caller never re-enters it from a callback.
 *
 * Delivery is whole messages, because the next layer (a ring message to
 * logic) wants whole messages. Two paths:
 *  - in place: an unfragmented frame whose payload is entirely inside the
 *    current chunk is unmasked where it lies and reported as a pointer into
 *    the chunk. With TLS records of up to 16 KiB and game messages of tens
 *    to hundreds of bytes this is nearly every message, and it costs no
 *    copy beyond the one the caller makes into its ring message anyway.
 *  - reassembled: anything else is copied into a buffer from env->buf_get()
 *    (unmasking on the way, so the chunk is left alone), sized exactly for
 *    an unfragmented frame and max_message for a fragmented one, then
 *    handed over with the event; the caller owns it from there and may pass
 *    it on with the message instead of copying again.
 * Streaming fragments upward (first/last flags) would save that buffer but
 * push reassembly into every consumer; the limits (max_message, 1009) make
 * the buffer bounded, and a dry pool means back-pressure (-ENOBUFS, the
 * caller retries), not a dropped message.
 *
 * Everything refusable is refused as early as the bytes allow: RSV bits,
 * opcode, fragment order, masking and control-frame shape on the first two
 * bytes; lengths as soon as they are complete (before any payload is read);
 * UTF-8 byte by byte as text arrives, across fragments and chunks.
 *
 * Closing (RFC 6455 5.5.1, 7): the state moves OPEN -> CLOSE_RCVD (peer's
 * close seen; we may finish sending, then echo it) or OPEN -> CLOSE_SENT
 * (ours went first; the peer's close ends it) and on to CLOSED; a protocol
 * error moves OPEN -> FAILING, where only our close with the error's code
 * may go out. Nothing but that close is built once ours is owed or sent,
 * and input after a close or an error is swallowed. How long to wait for
 * the peer's close, and closing the transport, are the caller's: this
 * layer has no clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ws.h"

static inline uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static inline uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline bool
is_control(uint8_t op)
{
	return (op & 0x08) != 0;
}

bool
wg_ws_close_code_valid(uint16_t code)
{
	/* 1004-1006 and 1015 are reserved or never sent; 1012-1014 were
	 * registered with IANA after the RFC and real servers send them;
	 * 3000-4999 belong to libraries and applications */
	if (code >= 1000 && code <= 1003)
		return true;
	if (code >= 1007 && code <= 1014)
		return true;
	return code >= 3000 && code <= 4999;
}

int
wg_ws_init(struct wg_ws *ws, const struct wg_ws_conf *conf, struct wg_ws_env *env,
	   enum wg_ws_role role)
{
	if (conf == NULL || env == NULL || env->buf_get == NULL || env->buf_put == NULL)
		return -EINVAL;
	if (role != WG_WS_SERVER && role != WG_WS_CLIENT)
		return -EINVAL;
	if (role == WG_WS_CLIENT && env->rng == NULL)
		return -EINVAL;
	if (conf->max_message == 0)
		return -EINVAL;
	memset(ws, 0, sizeof(*ws));
	ws->conf = conf;
	ws->env = env;
	ws->role = (uint8_t)role;
	ws->state = WG_WS_OPEN;
	ws->max_message = conf->max_message;
	ws->max_frame = conf->max_frame != 0 && conf->max_frame < conf->max_message ?
			conf->max_frame : conf->max_message;
	ws->hdr_need = 2;
	ws->utf8 = WG_UTF8_ACCEPT;
	return 0;
}

static void
drop_msg(struct wg_ws *ws)
{
	if (ws->msg != NULL) {
		ws->env->buf_put(ws->env->arg, ws->msg);
		ws->msg = NULL;
	}
	ws->msg_op = 0;
	ws->msg_len = 0;
	ws->msg_total = 0;
	ws->utf8 = WG_UTF8_ACCEPT;
}

void
wg_ws_release(struct wg_ws *ws)
{
	drop_msg(ws);
}

/* Fast unmasking: bytes up to an 8-byte boundary, then whole words with
 * the mask rotated to the word's phase (constant from then on, since 8 is
 * a multiple of 4), then the tail. memcpy on aligned addresses compiles to
 * plain loads and stores (and lets the compiler vectorise the loop) without
 * breaking aliasing rules. */
void
wg_ws_mask(uint8_t *p, size_t len, const uint8_t mask[4], uint64_t offset)
{
	unsigned int k = (unsigned int)(offset & 3);

	while (len > 0 && ((uintptr_t)p & 7) != 0) {
		*p++ ^= mask[k];
		k = (k + 1) & 3;
		len--;
	}
	if (len >= 8) {
		uint8_t mb[8];
		uint64_t m, w;

		for (unsigned int i = 0; i < 8; i++)
			mb[i] = mask[(k + i) & 3];
		memcpy(&m, mb, 8);
		for (; len >= 8; p += 8, len -= 8) {
			memcpy(&w, __builtin_assume_aligned(p, 8), 8);
			w ^= m;
			memcpy(__builtin_assume_aligned(p, 8), &w, 8);
		}
	}
	while (len > 0) {
		*p++ ^= mask[k];
		k = (k + 1) & 3;
		len--;
	}
}

static void
clear_event(struct wg_ws_event *ev)
{
	ev->type = WG_WS_EV_NONE;
	ev->opcode = 0;
	ev->code = 0;
	ev->len = 0;
	ev->data = NULL;
	ev->buf = NULL;
}

/* The peer broke the protocol: report the code we owe it, stop reading. */
static int
fail(struct wg_ws *ws, struct wg_ws_event *ev, uint16_t code)
{
	struct wg_ws_stats *st = &ws->env->stats;

	ws->flags |= WG_WSF_RX_DEAD;
	if (ws->state == WG_WS_OPEN)
		ws->state = WG_WS_FAILING;
	drop_msg(ws);
	if (code == WG_WS_CLOSE_BAD_DATA)
		st->err_utf8++;
	else if (code == WG_WS_CLOSE_TOO_BIG)
		st->err_too_big++;
	else
		st->err_protocol++;
	clear_event(ev);
	ev->type = WG_WS_EV_ERROR;
	ev->code = code;
	return WG_WS_EV_ERROR;
}

/* What the first two header bytes alone can refuse; sets the header size. */
static uint16_t
check_hdr2(struct wg_ws *ws)
{
	uint8_t b0 = ws->hdr[0], b1 = ws->hdr[1];
	uint8_t op = b0 & 0x0f, l7 = b1 & 0x7f;
	bool fin = (b0 & 0x80) != 0, masked = (b1 & 0x80) != 0;

	if (b0 & 0x70)
		return WG_WS_CLOSE_PROTOCOL;   /* RSV without an extension */
	switch (op) {
	case WG_WS_OP_CONT:
		if (ws->msg_op == 0)
			return WG_WS_CLOSE_PROTOCOL;
		break;
	case WG_WS_OP_TEXT:
	case WG_WS_OP_BINARY:
		if (ws->msg_op != 0)
			return WG_WS_CLOSE_PROTOCOL;
		break;
	case WG_WS_OP_CLOSE:
	case WG_WS_OP_PING:
	case WG_WS_OP_PONG:
		if (!fin || l7 > WG_WS_MAX_CTL)
			return WG_WS_CLOSE_PROTOCOL;
		break;
	default:
		return WG_WS_CLOSE_PROTOCOL;
	}
	/* 5.1: clients mask every frame, servers none */
	if (masked != (ws->role == WG_WS_SERVER))
		return WG_WS_CLOSE_PROTOCOL;
	ws->hdr_need = (uint8_t)(2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (masked ? 4 : 0));
	return 0;
}

/* The whole header is in: length checks and frame set-up. */
static uint16_t
parse_hdr(struct wg_ws *ws)
{
	uint8_t op = ws->hdr[0] & 0x0f, l7 = ws->hdr[1] & 0x7f;
	unsigned int off = 2;
	uint64_t len = l7;

	if (l7 == 126) {
		len = get_be16(ws->hdr + 2);
		off = 4;
	} else if (l7 == 127) {
		len = get_be64(ws->hdr + 2);
		off = 10;
		if (len >> 63)
			return WG_WS_CLOSE_PROTOCOL;
	}
	ws->flags &= (uint8_t)~(WG_WSF_FIN | WG_WSF_MASKED);
	if (ws->hdr[0] & 0x80)
		ws->flags |= WG_WSF_FIN;
	if (ws->hdr[1] & 0x80) {
		ws->flags |= WG_WSF_MASKED;
		memcpy(ws->mask, ws->hdr + off, 4);
	}
	ws->opcode = op;
	ws->frame_len = len;
	ws->frame_off = 0;
	if (is_control(op)) {
		ws->ctl_len = 0;
		return 0;
	}
	if (len > ws->max_frame)
		return WG_WS_CLOSE_TOO_BIG;
	if (op != WG_WS_OP_CONT) {
		ws->msg_op = op;
		ws->msg_total = 0;
		ws->msg_len = 0;
		ws->utf8 = WG_UTF8_ACCEPT;
	}
	if ((uint64_t)ws->msg_total + len > ws->max_message)
		return WG_WS_CLOSE_TOO_BIG;
	ws->msg_total += (uint32_t)len;
	return 0;
}

static inline void
next_frame(struct wg_ws *ws)
{
	ws->flags &= (uint8_t)~WG_WSF_IN_PAYLOAD;
	ws->hdr_have = 0;
	ws->hdr_need = 2;
}

static int
deliver(struct wg_ws *ws, struct wg_ws_event *ev, uint8_t *data, uint32_t len, void *buf)
{
	struct wg_ws_stats *st = &ws->env->stats;

	ev->type = WG_WS_EV_MESSAGE;
	ev->opcode = ws->msg_op;
	ev->code = 0;
	ev->len = len;
	ev->data = data;
	ev->buf = buf;
	ws->msg = NULL;
	ws->msg_op = 0;
	ws->msg_len = 0;
	ws->msg_total = 0;
	ws->utf8 = WG_UTF8_ACCEPT;
	st->rx_msgs++;
	st->rx_bytes += len;
	return WG_WS_EV_MESSAGE;
}

/* A single-frame message wholly inside the chunk: no copy. */
static int
deliver_in_place(struct wg_ws *ws, uint8_t *p, struct wg_ws_event *ev)
{
	uint32_t n = (uint32_t)ws->frame_len;

	next_frame(ws);
	if (ws->flags & WG_WSF_MASKED)
		wg_ws_mask(p, n, ws->mask, 0);
	if (ws->msg_op == WG_WS_OP_TEXT && !wg_utf8_valid(p, n))
		return fail(ws, ev, WG_WS_CLOSE_BAD_DATA);
	ws->env->stats.rx_in_place++;
	return deliver(ws, ev, p, n, NULL);
}

static int
close_rcvd(struct wg_ws *ws, struct wg_ws_event *ev)
{
	uint16_t code = WG_WS_CLOSE_NO_STATUS;

	if (ws->ctl_len == 1)
		return fail(ws, ev, WG_WS_CLOSE_PROTOCOL);
	if (ws->ctl_len >= 2) {
		code = get_be16(ws->ctl);
		if (!wg_ws_close_code_valid(code))
			return fail(ws, ev, WG_WS_CLOSE_PROTOCOL);
		if (!wg_utf8_valid(ws->ctl + 2, ws->ctl_len - 2u))
			return fail(ws, ev, WG_WS_CLOSE_BAD_DATA);
	}
	/* a message still open is abandoned; nothing after a close counts */
	drop_msg(ws);
	ws->flags |= WG_WSF_RX_DEAD;
	if (ws->state == WG_WS_OPEN)
		ws->state = WG_WS_CLOSE_RCVD;
	else if (ws->state == WG_WS_CLOSE_SENT)
		ws->state = WG_WS_CLOSED;
	ws->env->stats.rx_closes++;
	ev->type = WG_WS_EV_CLOSE;
	ev->code = code;
	ev->data = ws->ctl + (ws->ctl_len >= 2 ? 2 : 0);
	ev->len = ws->ctl_len >= 2 ? ws->ctl_len - 2u : 0;
	return WG_WS_EV_CLOSE;
}

/* The current frame's payload is all in. */
static int
frame_end(struct wg_ws *ws, struct wg_ws_event *ev)
{
	struct wg_ws_stats *st = &ws->env->stats;

	next_frame(ws);
	switch (ws->opcode) {
	case WG_WS_OP_PING:
	case WG_WS_OP_PONG:
		if (ws->opcode == WG_WS_OP_PING)
			st->rx_pings++;
		else
			st->rx_pongs++;
		ev->type = ws->opcode == WG_WS_OP_PING ? WG_WS_EV_PING : WG_WS_EV_PONG;
		ev->data = ws->ctl;
		ev->len = ws->ctl_len;
		return ev->type;
	case WG_WS_OP_CLOSE:
		return close_rcvd(ws, ev);
	default:
		break;
	}
	if (!(ws->flags & WG_WSF_FIN))
		return WG_WS_EV_NONE;
	if (ws->msg_op == WG_WS_OP_TEXT && ws->utf8 != WG_UTF8_ACCEPT)
		return fail(ws, ev, WG_WS_CLOSE_BAD_DATA);   /* text ends inside a character */
	/* an empty message never took a buffer; point at something valid */
	return deliver(ws, ev, ws->msg != NULL ? ws->msg : ws->ctl, ws->msg_len, ws->msg);
}

int
wg_ws_recv(struct wg_ws *ws, uint8_t *p, size_t len, struct wg_ws_event *ev, size_t *used)
{
	int rc = WG_WS_EV_NONE;
	size_t i = 0;
	uint16_t code;

	clear_event(ev);
	if (ws->flags & WG_WSF_RX_DEAD) {
		*used = len;
		return WG_WS_EV_NONE;
	}
	while (i < len) {
		if (!(ws->flags & WG_WSF_IN_PAYLOAD)) {
			size_t n = ws->hdr_need - ws->hdr_have;

			if (n > len - i)
				n = len - i;
			memcpy(ws->hdr + ws->hdr_have, p + i, n);
			ws->hdr_have = (uint8_t)(ws->hdr_have + n);
			i += n;
			if (ws->hdr_have < ws->hdr_need)
				break;
			if (ws->hdr_need == 2) {
				code = check_hdr2(ws);
				if (code != 0) {
					rc = fail(ws, ev, code);
					break;
				}
				if (ws->hdr_need > 2)
					continue;
			}
			code = parse_hdr(ws);
			if (code != 0) {
				rc = fail(ws, ev, code);
				break;
			}
			ws->flags |= WG_WSF_IN_PAYLOAD;
			ws->env->stats.rx_frames++;
			if (!is_control(ws->opcode) && ws->opcode != WG_WS_OP_CONT &&
			    (ws->flags & WG_WSF_FIN) && len - i >= ws->frame_len) {
				rc = deliver_in_place(ws, p + i, ev);
				i += (size_t)ws->frame_len;
				break;
			}
			if (ws->frame_len == 0) {
				rc = frame_end(ws, ev);
				if (rc != WG_WS_EV_NONE)
					break;
			}
			continue;
		}

		uint64_t left = ws->frame_len - ws->frame_off;
		size_t n = len - i < left ? len - i : (size_t)left;
		uint8_t *dst;

		if (is_control(ws->opcode)) {
			dst = ws->ctl + ws->ctl_len;
			ws->ctl_len = (uint8_t)(ws->ctl_len + n);
		} else {
			if (ws->msg == NULL) {
				/* exact size when this frame ends the message */
				uint32_t want = (ws->flags & WG_WSF_FIN) ? ws->msg_total :
					ws->max_message;

				ws->msg = ws->env->buf_get(ws->env->arg, want);
				if (ws->msg == NULL) {
					ws->env->stats.err_nobufs++;
					*used = i;
					return -ENOBUFS;
				}
			}
			dst = ws->msg + ws->msg_len;
			ws->msg_len += (uint32_t)n;
		}
		memcpy(dst, p + i, n);
		if (ws->flags & WG_WSF_MASKED)
			wg_ws_mask(dst, n, ws->mask, ws->frame_off);
		ws->frame_off += n;
		i += n;
		if (ws->msg_op == WG_WS_OP_TEXT && !is_control(ws->opcode)) {
			ws->utf8 = wg_utf8_step(ws->utf8, dst, n);
			if (ws->utf8 == WG_UTF8_REJECT) {
				rc = fail(ws, ev, WG_WS_CLOSE_BAD_DATA);
				break;
			}
		}
		if (ws->frame_off == ws->frame_len) {
			rc = frame_end(ws, ev);
			if (rc != WG_WS_EV_NONE)
				break;
		}
	}
	*used = ws->flags & WG_WSF_RX_DEAD ? len : i;
	return rc;
}

/* ------------------------------------------------------------ output */

static unsigned int
header_size(uint64_t len, bool masked)
{
	return (len < 126 ? 2u : len <= 0xffff ? 4u : 10u) + (masked ? 4u : 0u);
}

unsigned int
wg_ws_frame_header(uint8_t out[WG_WS_MAX_HDR], bool fin, uint8_t opcode, uint64_t len,
		   const uint8_t *mask)
{
	uint8_t mbit = mask != NULL ? 0x80 : 0;
	unsigned int n;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)(mbit | len);
		n = 2;
	} else if (len <= 0xffff) {
		out[1] = mbit | 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		n = 4;
	} else {
		out[1] = mbit | 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	if (mask != NULL) {
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

static unsigned int
emit_header(struct wg_ws *ws, bool fin, uint8_t opcode, uint64_t len,
	    uint8_t hdr[WG_WS_MAX_HDR], uint8_t mask[4])
{
	const uint8_t *m = NULL;

	if (ws->role == WG_WS_CLIENT) {
		uint32_t r = ws->env->rng(ws->env->arg);

		memcpy(mask, &r, 4);
		m = mask;
	}
	ws->env->stats.tx_frames++;
	ws->env->stats.tx_bytes += len;
	return wg_ws_frame_header(hdr, fin, opcode, len, m);
}

static int
check_send(const struct wg_ws *ws, bool fin, uint8_t opcode, uint64_t len)
{
	switch (opcode) {
	case WG_WS_OP_CONT:
		if (!(ws->flags & WG_WSF_TX_FRAG))
			return -EINVAL;
		break;
	case WG_WS_OP_TEXT:
	case WG_WS_OP_BINARY:
		if (ws->flags & WG_WSF_TX_FRAG)
			return -EINVAL;
		break;
	case WG_WS_OP_PING:
	case WG_WS_OP_PONG:
		if (!fin || len > WG_WS_MAX_CTL)
			return -EINVAL;
		break;
	default:
		/* closes go through wg_ws_build_close(), which keeps the state */
		return -EINVAL;
	}
	if (len >> 63)
		return -EINVAL;
	if (!wg_ws_can_send(ws))
		return -EPIPE;
	return 0;
}

int
wg_ws_frame_begin(struct wg_ws *ws, bool fin, uint8_t opcode, uint64_t len,
		  uint8_t hdr[WG_WS_MAX_HDR], uint8_t mask[4])
{
	int rc = check_send(ws, fin, opcode, len);

	if (rc < 0)
		return rc;
	if (!is_control(opcode)) {
		if (fin)
			ws->flags &= (uint8_t)~WG_WSF_TX_FRAG;
		else
			ws->flags |= WG_WSF_TX_FRAG;
	}
	return (int)emit_header(ws, fin, opcode, len, hdr, mask);
}

int
wg_ws_build(struct wg_ws *ws, bool fin, uint8_t opcode, const void *payload, size_t len,
	    uint8_t *out, size_t cap)
{
	uint8_t hdr[WG_WS_MAX_HDR], mask[4];
	int n;

	if (len > (size_t)INT_MAX - WG_WS_MAX_HDR)
		return -EMSGSIZE;
	n = check_send(ws, fin, opcode, len);
	if (n < 0)
		return n;
	if (cap < header_size(len, ws->role == WG_WS_CLIENT) + len)
		return -ENOSPC;
	n = wg_ws_frame_begin(ws, fin, opcode, len, hdr, mask);
	if (n < 0)
		return n;
	memcpy(out, hdr, (size_t)n);
	if (len > 0) {
		memcpy(out + n, payload, len);
		if (ws->role == WG_WS_CLIENT)
			wg_ws_mask(out + n, len, mask, 0);
	}
	return n + (int)len;
}

int
wg_ws_build_msg(struct wg_ws *ws, uint8_t opcode, const void *payload, size_t len,
		size_t frag, uint8_t *out, size_t cap)
{
	bool masked = ws->role == WG_WS_CLIENT;
	size_t full, rest, need, pos = 0;
	int rc;

	if (opcode != WG_WS_OP_TEXT && opcode != WG_WS_OP_BINARY)
		return -EINVAL;
	if (frag == 0 || frag >= len)
		return wg_ws_build(ws, true, opcode, payload, len, out, cap);
	/* all the room up front: a failure leaves the fragment state alone */
	full = len / frag;
	rest = len % frag;
	need = full * (header_size(frag, masked) + frag) +
	       (rest != 0 ? header_size(rest, masked) + rest : 0);
	if (len > (size_t)INT_MAX / 2 || need > (size_t)INT_MAX)
		return -EMSGSIZE;
	rc = check_send(ws, false, opcode, frag);
	if (rc < 0)
		return rc;
	if (cap < need)
		return -ENOSPC;
	for (size_t off = 0; off < len; off += frag) {
		size_t n = len - off < frag ? len - off : frag;

		rc = wg_ws_build(ws, off + n == len, off == 0 ? opcode : WG_WS_OP_CONT,
				 (const uint8_t *)payload + off, n, out + pos, cap - pos);
		if (rc < 0)
			return rc;     /* cannot happen: order and room were checked */
		pos += (size_t)rc;
	}
	return (int)pos;
}

int
wg_ws_build_close(struct wg_ws *ws, uint16_t code, const char *reason, size_t reason_len,
		  uint8_t *out, size_t cap)
{
	uint8_t hdr[WG_WS_MAX_HDR], mask[4], body[WG_WS_MAX_CTL];
	size_t blen = 0;
	unsigned int n;

	if (ws->state == WG_WS_CLOSE_SENT || ws->state == WG_WS_CLOSED)
		return -EPIPE;
	if (code != 0) {
		if (!wg_ws_close_code_valid(code))
			return -EINVAL;
		if (reason_len > WG_WS_MAX_CTL - 2) {
			/* cut before the character the limit falls into */
			reason_len = WG_WS_MAX_CTL - 2;
			while (reason_len > 0 && ((uint8_t)reason[reason_len] & 0xc0) == 0x80)
				reason_len--;
		}
		if (reason_len > 0 && !wg_utf8_valid((const uint8_t *)reason, reason_len))
			return -EINVAL;
		body[0] = (uint8_t)(code >> 8);
		body[1] = (uint8_t)code;
		if (reason_len > 0)
			memcpy(body + 2, reason, reason_len);
		blen = 2 + reason_len;
	}
	if (cap < header_size(blen, ws->role == WG_WS_CLIENT) + blen)
		return -ENOSPC;
	n = emit_header(ws, true, WG_WS_OP_CLOSE, blen, hdr, mask);
	memcpy(out, hdr, n);
	if (blen > 0) {
		memcpy(out + n, body, blen);
		if (ws->role == WG_WS_CLIENT)
			wg_ws_mask(out + n, blen, mask, 0);
	}
	ws->state = ws->state == WG_WS_CLOSE_RCVD ? WG_WS_CLOSED : WG_WS_CLOSE_SENT;
	return (int)(n + blen);
}

int
wg_ws_reply(struct wg_ws *ws, const struct wg_ws_event *ev, uint8_t *out, size_t cap)
{
	switch (ev->type) {
	case WG_WS_EV_PING:
		if (!wg_ws_can_send(ws))
			return 0;
		return wg_ws_build(ws, true, WG_WS_OP_PONG, ev->data, ev->len, out, cap);
	case WG_WS_EV_CLOSE:
		if (ws->state != WG_WS_CLOSE_RCVD)
			return 0;
		/* echo the code (7.4.1); an empty close gets an empty one */
		return wg_ws_build_close(ws, ev->code == WG_WS_CLOSE_NO_STATUS ? 0 : ev->code,
					 NULL, 0, out, cap);
	case WG_WS_EV_ERROR:
		if (ws->state != WG_WS_FAILING)
			return 0;
		return wg_ws_build_close(ws, ev->code, NULL, 0, out, cap);
	default:
		return 0;
	}
}

/* ------------------------------------------------------------- debug */

const char *
wg_ws_state_name(uint8_t state)
{
	static const char *const names[] = {
		[WG_WS_OPEN] = "OPEN",
		[WG_WS_CLOSE_RCVD] = "CLOSE_RCVD",
		[WG_WS_CLOSE_SENT] = "CLOSE_SENT",
		[WG_WS_CLOSED] = "CLOSED",
		[WG_WS_FAILING] = "FAILING",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

void
wg_ws_dump(FILE *f, const struct wg_ws *ws)
{
	fprintf(f, "ws %p: %s %s flags=0x%02x\n", (const void *)ws,
		ws->role == WG_WS_CLIENT ? "client" : "server", wg_ws_state_name(ws->state),
		ws->flags);
	fprintf(f, "  frame: op=%u len=%" PRIu64 " off=%" PRIu64 " hdr=%u/%u ctl=%u\n",
		ws->opcode, ws->frame_len, ws->frame_off, ws->hdr_have, ws->hdr_need,
		ws->ctl_len);
	fprintf(f, "  message: op=%u len=%u declared=%u buf=%p utf8=%u max=%u/%u\n",
		ws->msg_op, ws->msg_len, ws->msg_total, (void *)ws->msg, ws->utf8,
		ws->max_message, ws->max_frame);
}

unsigned int
wg_ws_stats_list(const struct wg_ws_stats *st, const char **names, uint64_t *values,
		 unsigned int max)
{
#define S(f) { #f, offsetof(struct wg_ws_stats, f) }
	static const struct { const char *name; size_t off; } fields[] = {
		S(rx_frames), S(rx_msgs), S(rx_bytes), S(rx_in_place), S(rx_pings),
		S(rx_pongs), S(rx_closes), S(err_protocol), S(err_utf8), S(err_too_big),
		S(err_nobufs), S(tx_frames), S(tx_bytes),
	};
#undef S
	unsigned int n = 0;

	_Static_assert(sizeof(fields) / sizeof(fields[0]) ==
		       sizeof(struct wg_ws_stats) / sizeof(uint64_t), "every counter listed");
	for (; n < max && n < sizeof(fields) / sizeof(fields[0]); n++) {
		names[n] = fields[n].name;
		memcpy(&values[n], (const uint8_t *)st + fields[n].off, sizeof(uint64_t));
	}
	return n;
}
