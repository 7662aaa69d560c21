/* SPDX-License-Identifier: BSD-3-Clause
 * Envelope codec. The decoder is written for the common case of 1-byte
 * keys and small varints (every field of a typical Envelope): one compare
 * per byte, the multi-byte forms out of line. Behaviour at the edges
 * follows protobuf-c 1.4 (the fuzz target fuzz_envelope and test_envelope
 * hold the two against each other): varints end within 10 bytes and keep
 * their low 32 bits, length prefixes within 5 bytes and at most INT32_MAX.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "envelope.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define WT_VARINT  0
#define WT_64BIT   1
#define WT_LEN     2
#define WT_32BIT   5

#define FIELD_MAX  0x1fffffffu  /* protobuf's largest field number */

/* A varint of at most max bytes whose first byte has the continuation bit
 * (the caller handled the 1-byte form). Bits past 64 are dropped, as
 * protobuf-c does. */
static int
varint_slow(const uint8_t **pp, const uint8_t *end, unsigned max, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned i, shift = 0;

	if ((size_t)(end - p) < max)
		max = (unsigned)(end - p);
	for (i = 0; i < max; i++, shift += 7) {
		if (shift < 64)
			v |= (uint64_t)(p[i] & 0x7f) << shift;
		if ((p[i] & 0x80) == 0) {
			*pp = p + i + 1;
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

static inline int
varint(const uint8_t **pp, const uint8_t *end, unsigned max, uint64_t *out)
{
	if (unlikely(*pp >= end))
		return -EBADMSG;
	if (likely(**pp < 0x80)) {
		*out = *(*pp)++;
		return 0;
	}
	return varint_slow(pp, end, max, out);
}

/* A length prefix and the bytes it announces; p is left after them. */
static inline int
delimited(const uint8_t **pp, const uint8_t *end, const uint8_t **data, uint32_t *len)
{
	uint64_t n;

	if (varint(pp, end, 5, &n) != 0 || n > WG_ENVELOPE_PAYLOAD_MAX ||
	    n > (uint64_t)(end - *pp))
		return -EBADMSG;
	*data = *pp;
	*len = (uint32_t)n;
	*pp += n;
	return 0;
}

int
wg_envelope_decode(struct wg_envelope *e, const void *buf, size_t len)
{
	const uint8_t *p = buf, *end = p + len, *d;
	uint32_t f[WG_ENV_F_MSG_ID + 1] = { 0 };
	const uint8_t *payload = NULL;
	uint32_t payload_len = 0, n;
	uint64_t key, v, field;

	while (p < end) {
		if (likely(*p < 0x80))
			key = *p++;
		else if (varint_slow(&p, end, 5, &key) != 0)
			return -EBADMSG;
		field = key >> 3;
		/* fields 1..4 are all uint32 varints */
		if (likely(field - 1 < WG_ENV_F_MSG_ID)) {
			if (unlikely((key & 7) != WT_VARINT) || varint(&p, end, 10, &v) != 0)
				return -EBADMSG;
			f[field] = (uint32_t)v;
			continue;
		}
		if (field == WG_ENV_F_PAYLOAD) {
			if ((key & 7) != WT_LEN || delimited(&p, end, &payload, &payload_len) != 0)
				return -EBADMSG;
			continue;
		}
		if (field == 0 || field > FIELD_MAX)
			return -EBADMSG;
		/* unknown field: skipped (proto3) */
		switch (key & 7) {
		case WT_VARINT:
			if (varint(&p, end, 10, &v) != 0)
				return -EBADMSG;
			break;
		case WT_64BIT:
			if (end - p < 8)
				return -EBADMSG;
			p += 8;
			break;
		case WT_LEN:
			if (delimited(&p, end, &d, &n) != 0)
				return -EBADMSG;
			break;
		case WT_32BIT:
			if (end - p < 4)
				return -EBADMSG;
			p += 4;
			break;
		default:        /* groups (3, 4) and the reserved 6, 7 */
			return -EBADMSG;
		}
	}
	e->type = f[WG_ENV_F_TYPE];
	e->seq = f[WG_ENV_F_SEQ];
	e->ack = f[WG_ENV_F_ACK];
	e->msg_id = f[WG_ENV_F_MSG_ID];
	e->payload = payload;
	e->payload_len = payload_len;
	e->pad = 0;
	return 0;
}

static inline uint8_t *
put_varint(uint8_t *p, uint32_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline size_t
field_size(uint32_t v)
{
	return v != 0 ? 1 + wg_varint32_size(v) : 0;
}

size_t
wg_envelope_size(const struct wg_envelope *e, size_t payload_len)
{
	size_t n = field_size(e->type) + field_size(e->seq) + field_size(e->ack) +
		   field_size(e->msg_id);

	if (payload_len != 0)
		n += 1 + wg_varint32_size((uint32_t)payload_len) + payload_len;
	return n;
}

int
wg_envelope_encode_hdr(const struct wg_envelope *e, size_t payload_len, void *buf, size_t cap)
{
	uint8_t *p = buf;

	/* the byte count must fit the int we return */
	if (payload_len > WG_ENVELOPE_PAYLOAD_MAX - WG_ENVELOPE_HDR_MAX)
		return -E2BIG;
	if (wg_envelope_size(e, payload_len) > cap)
		return -ENOSPC;
	/* protobuf-c packs fields in number order and skips proto3 zeros */
	if (e->type != 0) {
		*p++ = WG_ENV_KEY_TYPE;
		p = put_varint(p, e->type);
	}
	if (e->seq != 0) {
		*p++ = WG_ENV_KEY_SEQ;
		p = put_varint(p, e->seq);
	}
	if (e->ack != 0) {
		*p++ = WG_ENV_KEY_ACK;
		p = put_varint(p, e->ack);
	}
	if (e->msg_id != 0) {
		*p++ = WG_ENV_KEY_MSG_ID;
		p = put_varint(p, e->msg_id);
	}
	if (payload_len != 0) {
		*p++ = WG_ENV_KEY_PAYLOAD;
		p = put_varint(p, (uint32_t)payload_len);
	}
	return (int)(p - (uint8_t *)buf);
}

int
wg_envelope_encode(const struct wg_envelope *e, void *buf, size_t cap)
{
	size_t n = wg_envelope_size(e, e->payload_len);

	if (e->payload_len > WG_ENVELOPE_PAYLOAD_MAX - WG_ENVELOPE_HDR_MAX)
		return -E2BIG;
	if (n > cap)
		return -ENOSPC;
	/* payload first: it may sit where the header goes (re-encoding a view
	 * of this very buffer) */
	if (e->payload_len != 0)
		memmove((uint8_t *)buf + n - e->payload_len, e->payload, e->payload_len);
	return wg_envelope_encode_hdr(e, e->payload_len, buf, cap) + (int)e->payload_len;
}
