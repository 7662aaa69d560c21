/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_WS_H
#define WG_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ws-t.h"

/* ------------------------------------------------------------ config */

/* Defaults a game gateway starts from: 64 KiB messages, 8 KiB handshakes. */
void wg_ws_conf_defaults(struct wg_ws_conf *c);

/* 0, or -EINVAL with a sentence in err (which may be NULL). */
int wg_ws_conf_check(const struct wg_ws_conf *c, char *err, size_t err_len);

/* ------------------------------------------------------------- UTF-8 */

#define WG_UTF8_ACCEPT 0u           /* between characters */
#define WG_UTF8_REJECT 6u           /* sticky */

/* Run the validator over len bytes from state (WG_UTF8_ACCEPT to start);
 * returns the new state. A text is valid when the last call on it returned
 * WG_UTF8_ACCEPT; REJECT comes back at the first bad byte. */
uint32_t wg_utf8_step(uint32_t state, const uint8_t *p, size_t len);

static inline bool
wg_utf8_valid(const uint8_t *p, size_t len)
{
	return wg_utf8_step(WG_UTF8_ACCEPT, p, len) == WG_UTF8_ACCEPT;
}

/* ------------------------------------------------------------ frames */

/* Set up one connection's frame layer; conf and env outlive it. */
int wg_ws_init(struct wg_ws *ws, const struct wg_ws_conf *conf, struct wg_ws_env *env,
	       enum wg_ws_role role);

/* Give back a held reassembly buffer (connection gone mid-message). */
void wg_ws_release(struct wg_ws *ws);

/* Consume bytes of the stream from p (written: payload is unmasked in
 * place) up to the first event. Returns the event type (WG_WS_EV_NONE when
 * all len bytes were consumed without one) with *used set to the bytes
 * consumed; call again from p + *used. -ENOBUFS: env->buf_get() had no
 * buffer; *used bytes were consumed, call again with the rest later.
 * After an ERROR or CLOSE event further input is consumed and ignored. */
int wg_ws_recv(struct wg_ws *ws, uint8_t *p, size_t len, struct wg_ws_event *ev, size_t *used);

/* XOR len bytes at p with the mask, p[0] being payload byte offset. */
void wg_ws_mask(uint8_t *p, size_t len, const uint8_t mask[4], uint64_t offset);

/* Frame header for len payload bytes into out; masked when mask != NULL.
 * Returns its size (2..14). No state checks: see wg_ws_frame_begin(). */
unsigned int wg_ws_frame_header(uint8_t out[WG_WS_MAX_HDR], bool fin, uint8_t opcode,
				uint64_t len, const uint8_t *mask);

/* Start a frame on this connection: checks the close state and fragment
 * order, picks the mask (client role) and writes the header. The caller
 * then sends len payload bytes, masked with wg_ws_mask(.., mask, off) in
 * the client role - into mbuf segments, say. Returns the header size, or
 * -EPIPE (our close went out, or an error is pending), -EINVAL (bad opcode,
 * fragment order, control frame too long or fragmented). */
int wg_ws_frame_begin(struct wg_ws *ws, bool fin, uint8_t opcode, uint64_t len,
		      uint8_t hdr[WG_WS_MAX_HDR], uint8_t mask[4]);

/* A whole frame (header + payload, masked as the role says) into out.
 * Returns the bytes written, -ENOSPC, or what wg_ws_frame_begin() returns.
 * Frames over INT_MAX bytes go through wg_ws_frame_begin(). */
int wg_ws_build(struct wg_ws *ws, bool fin, uint8_t opcode, const void *payload, size_t len,
		uint8_t *out, size_t cap);

/* A whole text or binary message as frames of at most frag payload bytes
 * (0: one frame). A cut may fall inside a UTF-8 character, which RFC 6455
 * allows. Returns the bytes written, -ENOSPC (nothing written, state
 * unchanged), or what wg_ws_build() returns. */
int wg_ws_build_msg(struct wg_ws *ws, uint8_t opcode, const void *payload, size_t len,
		    size_t frag, uint8_t *out, size_t cap);

/* Our close frame: code 0 sends an empty body, else code and reason (the
 * reason is cut to fit 123 bytes at a character boundary). Moves the state
 * on: OPEN/FAILING -> CLOSE_SENT, CLOSE_RCVD -> CLOSED. -EPIPE when our
 * close already went, -EINVAL for a code that may not be sent. */
int wg_ws_build_close(struct wg_ws *ws, uint16_t code, const char *reason, size_t reason_len,
		      uint8_t *out, size_t cap);

/* What the protocol asks us to send for ev: the pong for a ping, the
 * echoed close for a close, our close for an error. Returns bytes written,
 * 0 when nothing is owed (a pong after our close, a close already sent),
 * or -ENOSPC. */
int wg_ws_reply(struct wg_ws *ws, const struct wg_ws_event *ev, uint8_t *out, size_t cap);

/* Whether code may appear in a close frame (RFC 6455 7.4, IANA registry). */
bool wg_ws_close_code_valid(uint16_t code);

static inline bool
wg_ws_can_send(const struct wg_ws *ws)
{
	return ws->state == WG_WS_OPEN || ws->state == WG_WS_CLOSE_RCVD;
}

/* Both closes went: the transport may be closed (server closes first). */
static inline bool
wg_ws_closed(const struct wg_ws *ws)
{
	return ws->state == WG_WS_CLOSED;
}

const char *wg_ws_state_name(uint8_t state);
void wg_ws_dump(FILE *f, const struct wg_ws *ws);
unsigned int wg_ws_stats_list(const struct wg_ws_stats *st, const char **names,
			      uint64_t *values, unsigned int max);

/* --------------------------------------------------------- handshake */

/* Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)), NUL-terminated. */
int wg_ws_accept_key(const char *key, size_t key_len, char out[WG_WS_ACCEPT_LEN + 1]);

/* Server: get ready for a request. */
void wg_ws_http_server_init(struct wg_ws_http *h, const struct wg_ws_conf *conf);

/* Consume handshake bytes. 0: the request (or response) is complete and
 * valid, *used ends right after its blank line - bytes past it are the
 * peer's first frames; -EAGAIN: all consumed, more needed; -EPROTO: refused
 * (server: answer h->status with wg_ws_http_response() and close; client:
 * the handshake failed, h->status is what the server said). */
int wg_ws_http_feed(struct wg_ws_http *h, const uint8_t *p, size_t len, size_t *used);

/* Server: the response for where the parser stands (101 after success, the
 * error otherwise). Returns its length, or -ENOSPC / -EINVAL. */
int wg_ws_http_response(const struct wg_ws_http *h, char *out, size_t cap);

/* Server, after success: the subprotocol agreed on, or NULL. */
const char *wg_ws_http_protocol(const struct wg_ws_http *h);

/* Client: write the upgrade request for host and target (conf->path when
 * NULL), offering conf->protocols, with an Origin if origin != NULL; nonce
 * is 16 random bytes. h is then ready to parse the response. Returns the
 * request's length, -ENOSPC or -EINVAL. */
int wg_ws_http_client_request(struct wg_ws_http *h, const struct wg_ws_conf *conf,
			      const char *host, const char *target, const char *origin,
			      const uint8_t nonce[16], char *out, size_t cap);

#endif /* WG_WS_H */
