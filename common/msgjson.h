/* SPDX-License-Identifier: BSD-3-Clause
 * JSON text frames <-> protobuf Envelopes, driven by the protobuf-c
 * descriptors of the payload messages (no per-message code). The frame:
 *
 *   {"type":"CHAT_SAY","seq":3,"ack":2,"msg_id":7,"payload":{"room":"lobby","text":"hi"}}
 *
 * type by name or number; the payload follows the proto3 JSON mapping
 * (lowerCamel or .proto field names, 64-bit integers as strings or numbers,
 * bytes as base64, enums as names or numbers, null = default). Input is
 * strict RFC 8259 JSON: valid UTF-8, no trailing bytes, no duplicate keys,
 * no unknown fields, numbers in range for their field. Nothing is allocated:
 * all temporary memory comes from the converter's scratch area.
 *
 * Errors: -EBADMSG not JSON / not a valid protobuf, -EINVAL JSON that does
 * not match the schema, -ENOMSG unknown message type, -E2BIG over a limit
 * (nesting, scratch space), -ENOSPC output buffer too small. After an error
 * wg_msgjson_error() says what and where, e.g. "payload.room: expected
 * string" (fit for Error.text).
 */
#ifndef WG_MSGJSON_H
#define WG_MSGJSON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope-t.h"
#include "msgjson-t.h"

/* Set up a converter over scratch (at least 1 KiB, 8-byte aligned).
 * 0 or -EINVAL. */
int wg_msgjson_init(struct wg_msgjson *c, void *scratch, size_t scratch_len, uint32_t flags);

/* JSON text frame -> Envelope bytes in out. Bytes written or -errno. When
 * env is not NULL it receives the Envelope's fields, its payload pointing
 * into out. */
int wg_msgjson_to_pb(struct wg_msgjson *c, const void *json, size_t len,
		     void *out, size_t cap, struct wg_envelope *env);

/* Envelope bytes -> JSON text frame in out (not NUL-terminated). Bytes
 * written or -errno. */
int wg_msgjson_from_pb(struct wg_msgjson *c, const void *pb, size_t len, char *out, size_t cap);

/* The same from an already decoded Envelope. */
int wg_msgjson_from_envelope(struct wg_msgjson *c, const struct wg_envelope *env,
			     char *out, size_t cap);

/* Only the payload: a JSON object for a message of type `desc` -> packed
 * protobuf bytes in out, and back. Bytes written or -errno. */
int wg_msgjson_payload_to_pb(struct wg_msgjson *c, const ProtobufCMessageDescriptor *desc,
			     const void *json, size_t len, void *out, size_t cap);
int wg_msgjson_payload_from_pb(struct wg_msgjson *c, const ProtobufCMessageDescriptor *desc,
			       const void *pb, size_t len, char *out, size_t cap);

/* Text of the last error ("" when none). Valid until the next call. */
const char *wg_msgjson_error(const struct wg_msgjson *c);

/* The wg.ErrorCode a conversion error should be reported to the client as:
 * UNKNOWN_TYPE for -ENOMSG, TOO_BIG for -E2BIG and -ENOSPC (an output
 * buffer sized to the message limit), BAD_MESSAGE otherwise. */
uint32_t wg_msgjson_error_code(int rc);

/* Message type table, sorted by type. */
const struct wg_msg_type_info *wg_msg_types(size_t *n);
/* Entry for a type, or NULL. */
const struct wg_msg_type_info *wg_msg_type_find(uint32_t type);
/* Entry for a name (not NUL-terminated), or NULL. */
const struct wg_msg_type_info *wg_msg_type_by_name(const char *name, size_t len);

#endif /* WG_MSGJSON_H */
