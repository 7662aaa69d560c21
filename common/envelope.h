/* SPDX-License-Identifier: BSD-3-Clause
 * Envelope codec for the per-message path: no allocation, no copies of the
 * payload, byte-compatible with protobuf-c's pack/unpack of wg.Envelope.
 */
#ifndef WG_ENVELOPE_H
#define WG_ENVELOPE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope-t.h"

/* Decode buf into *e (payload points into buf). Accepts what protobuf-c
 * accepts for wg.Envelope (proto3: last occurrence of a field wins, unknown
 * fields skipped, varints of up to 10 bytes truncated to 32 bits) except
 * field numbers 0 and above 2^29-1, which protobuf-c lets through as
 * unknown fields and the protobuf spec forbids. 0, or -EBADMSG for a
 * malformed varint or tag, a wrong wire type for a known field, a group or
 * reserved wire type, or a length beyond the buffer (*e untouched). */
int wg_envelope_decode(struct wg_envelope *e, const void *buf, size_t len);

/* Bytes wg_envelope_encode() writes for e with a payload of payload_len. */
size_t wg_envelope_size(const struct wg_envelope *e, size_t payload_len);

/* Encode e (with e->payload_len bytes from e->payload, which may lie in buf
 * itself) into buf. Bytes written, -ENOSPC when cap is short, -E2BIG when the
 * payload is over WG_ENVELOPE_PAYLOAD_MAX - WG_ENVELOPE_HDR_MAX. Zero fields
 * are omitted, as protobuf-c does for proto3, so the bytes equal
 * wg__envelope__pack(). */
int wg_envelope_encode(const struct wg_envelope *e, void *buf, size_t cap);

/* Encode everything but the payload bytes: the caller writes payload_len
 * bytes right after the returned length (e.g. packs a protobuf-c message in
 * place). e->payload and e->payload_len are ignored. Bytes written or
 * -ENOSPC / -E2BIG. */
int wg_envelope_encode_hdr(const struct wg_envelope *e, size_t payload_len,
			   void *buf, size_t cap);

/* Bytes of the varint encoding of v (1..5). */
static inline unsigned
wg_varint32_size(uint32_t v)
{
	return 1 + (v >= (1u << 7)) + (v >= (1u << 14)) + (v >= (1u << 21)) +
	       (v >= (1u << 28));
}

#endif /* WG_ENVELOPE_H */
