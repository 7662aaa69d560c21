/* SPDX-License-Identifier: BSD-3-Clause
 * JSON text frames <-> protobuf Envelopes: the converter's state and the
 * message type table entry.
 */
#ifndef WG_MSGJSON_T_H
#define WG_MSGJSON_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Nesting of JSON objects and arrays, the Envelope object included. Our
 * deepest message (StateDelta.enters[].fields[]) needs 4. */
#define WG_MSGJSON_MAX_DEPTH   16
/* Length of the error text, NUL included ("payload.room: expected string"). */
#define WG_MSGJSON_ERR_LEN     160

/* Flags for wg_msgjson_init() */
#define WG_MSGJSON_F_PROTO_NAMES  0x0001  /* emit field names as in the .proto, not lowerCamel */
/* 0x0002 .. 0x8000 unused */
#define WG_MSGJSON_F_MASK         0x0001

/* One level of the field path named in error texts. */
struct wg_msgjson_path {
	const char *name;        /* not NUL-terminated; NULL for an array element */
	uint32_t len;
	uint32_t index;          /* array index when name is NULL */
};

/* One converter per thread (per worker lcore): it owns nothing but uses the
 * caller's scratch memory, which every conversion starts from empty. Keep
 * the scratch at a few times the largest message (decoded strings, the
 * protobuf-c structs and their arrays live there during one call). */
struct wg_msgjson {
	uint8_t *scratch;
	size_t scratch_cap;
	size_t scratch_used;
	bool scratch_short;      /* an allocation failed during this call */
	uint32_t flags;          /* WG_MSGJSON_F_* */
	uint32_t depth;          /* entries in path[] */
	ProtobufCAllocator alloc;  /* protobuf-c unpack into the scratch */
	struct wg_msgjson_path path[WG_MSGJSON_MAX_DEPTH * 2 + 2];
	char err[WG_MSGJSON_ERR_LEN];
};

/* A client message type (wg.MsgType) and the payload message it carries. */
struct wg_msg_type_info {
	uint32_t type;
	uint32_t name_len;
	const char *name;        /* the MsgType value name, e.g. "CHAT_SAY" */
	const ProtobufCMessageDescriptor *desc;  /* NULL: no payload (ACK) */
};

#endif /* WG_MSGJSON_T_H */
