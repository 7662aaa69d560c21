/* SPDX-License-Identifier: BSD-3-Clause
 * A decoded client Envelope (proto/wg_client.proto) as a view into the
 * bytes it came from: the payload is not copied.
 */
#ifndef WG_ENVELOPE_T_H
#define WG_ENVELOPE_T_H

#include <stddef.h>
#include <stdint.h>

struct wg_envelope {
	uint32_t type;           /* wg.MsgType */
	uint32_t seq;            /* sender's counter, 0 outside the sequence */
	uint32_t ack;            /* highest seq received from the other side */
	uint32_t msg_id;         /* request id, echoed in replies */
	const uint8_t *payload;  /* into the decoded buffer; NULL when absent */
	uint32_t payload_len;
	uint32_t pad;
};

/* Filled per message on the dataplane's fast path and kept in per-session
 * state: one half cache line, no holes. */
_Static_assert(sizeof(struct wg_envelope) == 32, "wg_envelope layout");
_Static_assert(offsetof(struct wg_envelope, payload) == 16, "wg_envelope layout");

/* Field numbers and wire keys of Envelope (tag << 3 | wire type). */
#define WG_ENV_F_TYPE        1
#define WG_ENV_F_SEQ         2
#define WG_ENV_F_ACK         3
#define WG_ENV_F_MSG_ID      4
#define WG_ENV_F_PAYLOAD     5
#define WG_ENV_KEY_TYPE      0x08  /* varint */
#define WG_ENV_KEY_SEQ       0x10
#define WG_ENV_KEY_ACK       0x18
#define WG_ENV_KEY_MSG_ID    0x20
#define WG_ENV_KEY_PAYLOAD   0x2a  /* length-delimited */

/* Most bytes an Envelope adds around its payload: 4 varint fields of up to
 * 5 bytes with 1-byte keys, a 1-byte key and a 5-byte length. */
#define WG_ENVELOPE_HDR_MAX  (4 * 6 + 6)

/* Largest payload the decoder and encoder accept (protobuf-c's limit for
 * a length prefix). */
#define WG_ENVELOPE_PAYLOAD_MAX  0x7fffffffu

#endif /* WG_ENVELOPE_T_H */
