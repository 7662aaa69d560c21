/* SPDX-License-Identifier: BSD-3-Clause
 * JSON <-> protobuf conversion with protobuf-c as the oracle: random
 * messages of every type (filled from the descriptors: nested, repeated,
 * oneof, every scalar kind) go protobuf-c bytes -> JSON -> bytes and must
 * come back identical, with both name styles; exact JSON text for chosen
 * messages; every accepted input form; every error class with its exact
 * text; output space, scratch space and nesting limits.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "msgjson.h"
#include "wg_client.pb-c.h"
#include "wg_sync.pb-c.h"

#define SCRATCH (64 * 1024)
#define CANARY 0xc5

static _Alignas(8) uint8_t scratch_mem[SCRATCH + 64];
static struct wg_msgjson cv;
static uint8_t pb[65536], pb2[65536];
static char js[65536], js2[65536];

static uint64_t rng;

/* Allocation counter: the converter must not allocate. Interposing malloc
 * in the executable catches calls from protobuf-c's shared library too;
 * under AddressSanitizer (which owns malloc) the check is skipped. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_MALLOC 0
#endif
#endif
#ifndef COUNT_MALLOC
#define COUNT_MALLOC 1
#endif

static unsigned long allocs;

#if COUNT_MALLOC
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);

void *
malloc(size_t n)
{
	allocs++;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	allocs++;
	return __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	allocs++;
	return __libc_realloc(p, n);
}
#endif

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static int
setup(void **state)
{
	(void)state;
	memset(scratch_mem, CANARY, sizeof(scratch_mem));
	assert_int_equal(wg_msgjson_init(&cv, scratch_mem, SCRATCH, 0), 0);
	return 0;
}

/* Nothing written past the scratch area given to the converter. */
static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = SCRATCH; i < sizeof(scratch_mem); i++)
		assert_int_equal(scratch_mem[i], CANARY);
	return 0;
}

/* JSON text (NUL-terminated) -> Envelope bytes in pb. */
static int
to_pb(const char *json)
{
	return wg_msgjson_to_pb(&cv, json, strlen(json), pb, sizeof(pb), NULL);
}

/* JSON -> protobuf -> JSON; the result NUL-terminated in js. */
static void
assert_canonical(const char *in, const char *want)
{
	int n = to_pb(in), m;

	if (n < 0)
		fail_msg("%s: %d %s", in, n, wg_msgjson_error(&cv));
	m = wg_msgjson_from_pb(&cv, pb, (size_t)n, js, sizeof(js) - 1);
	if (m < 0)
		fail_msg("%s: back: %d %s", in, m, wg_msgjson_error(&cv));
	js[m] = '\0';
	assert_string_equal(js, want);
	/* the canonical form is a fixed point */
	assert_int_equal(to_pb(js), n);
}

/* ---- random messages from the descriptors ---- */

static uint8_t arena[1 << 20];
static size_t arena_used;

static void *
aalloc(size_t n)
{
	void *p = arena + arena_used;

	arena_used += (n + 7) & ~(size_t)7;
	assert_true(arena_used <= sizeof(arena));
	return p;
}

static void fill_message(ProtobufCMessage *m, int depth);

static const char *const str_pool[] = { "a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\x01",
					"\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
					"\xf0\x9f\x98\x80", "lobby", "<\\u>" };

static void
fill_value(const ProtobufCFieldDescriptor *f, void *slot, int depth)
{
	static const double dbl[] = { 0.5, -1.25, 1e-30, 3.4e38, -3.4e38, 1e300, 0.1, 123456789.0,
				      5e-324, -0.0 };
	const ProtobufCEnumDescriptor *ed;
	ProtobufCBinaryData *bd;
	size_t n, i;
	char *s;
	double d;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)slot = rnd() % 4 == 0 ? (rnd() % 2 ? INT32_MIN : INT32_MAX) :
				   (int32_t)rnd() >> (rnd() % 32);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)slot = rnd() % 4 == 0 ? UINT32_MAX : (uint32_t)rnd() >> (rnd() % 32);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)slot = rnd() % 4 == 0 ? (rnd() % 2 ? INT64_MIN : INT64_MAX) :
				   (int64_t)rnd() >> (rnd() % 64);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)slot = rnd() % 4 == 0 ? UINT64_MAX : rnd() >> (rnd() % 64);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		switch (rnd() % 4) {
		case 0:
			d = dbl[rnd() % (sizeof(dbl) / sizeof(dbl[0]))];
			break;
		case 1:
			d = rnd() % 3 == 0 ? NAN : rnd() % 2 ? INFINITY : -INFINITY;
			break;
		default: {
			uint64_t b = rnd();

			memcpy(&d, &b, sizeof(d));
			if (isnan(d))
				d = NAN;
		}
		}
		if (f->type == PROTOBUF_C_TYPE_FLOAT) {
			float x = (float)d;

			*(float *)slot = isnan(x) ? NAN : x;
		} else {
			*(double *)slot = d;
		}
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = rnd() % 2;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ed = f->descriptor;
		*(int32_t *)slot = rnd() % 8 == 0 ? (int32_t)(rnd() % 1000) - 500 :
				   ed->values[rnd() % ed->n_values].value;
		break;
	case PROTOBUF_C_TYPE_STRING:
		n = rnd() % 12;
		s = aalloc(n * 4 + 1);
		s[0] = '\0';
		for (i = 0; i < n; i++)
			strcat(s, str_pool[rnd() % (sizeof(str_pool) / sizeof(str_pool[0]))]);
		*(char **)slot = s;
		break;
	case PROTOBUF_C_TYPE_BYTES:
		bd = slot;
		bd->len = rnd() % 40;
		bd->data = aalloc(bd->len + 1);
		for (i = 0; i < bd->len; i++)
			bd->data[i] = (uint8_t)rnd();
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d2 = f->descriptor;
		ProtobufCMessage *sub = aalloc(d2->sizeof_message);

		protobuf_c_message_init(d2, sub);
		fill_message(sub, depth + 1);
		*(ProtobufCMessage **)slot = sub;
		break;
	}
	}
}

static size_t
elt(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static void
fill_message(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		uint8_t *member = (uint8_t *)m + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = depth < 3 ? rnd() % 4 : 0, k;
			uint8_t *arr = aalloc(n * elt(f->type) + 8);

			for (k = 0; k < n; k++)
				fill_value(f, arr + k * elt(f->type), depth);
			*(size_t *)((uint8_t *)m + f->quantifier_offset) = n;
			*(void **)member = arr;
		} else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = (uint32_t *)((uint8_t *)m + f->quantifier_offset);

			if (*which == 0 && rnd() % 2) {
				fill_value(f, member, depth);
				*which = f->id;
			}
		} else if (rnd() % 4 != 0 && (f->type != PROTOBUF_C_TYPE_MESSAGE || depth < 3)) {
			fill_value(f, member, depth);
		}
	}
}

/* Every type, 300 random messages each: protobuf-c packs, we convert to
 * JSON and back, the bytes must be protobuf-c's. */
static void
test_round_trip_every_type(void **state)
{
	static _Alignas(8) uint8_t scratch2[SCRATCH];
	struct wg_msgjson cv2;
	const struct wg_msg_type_info *t;
	unsigned long a0;
	size_t nt, i;
	int k, n, m, n2, covered = 0;

	(void)state;
	/* the counter counts: protobuf-c's own unpack allocates */
	a0 = allocs;
	protobuf_c_message_free_unpacked(
		protobuf_c_message_unpack(&wg__chat_say__descriptor, NULL, 0, NULL), NULL);
	assert_true(allocs > a0 || !COUNT_MALLOC);
	assert_int_equal(wg_msgjson_init(&cv2, scratch2, sizeof(scratch2),
					 WG_MSGJSON_F_PROTO_NAMES), 0);
	t = wg_msg_types(&nt);
	rng = 42;
	for (i = 0; i < nt; i++) {
		for (k = 0; k < 300; k++) {
			Wg__Envelope e = WG__ENVELOPE__INIT;
			struct wg_envelope view;
			ProtobufCMessage *msg = NULL;
			size_t plen = 0, elen;

			arena_used = 0;
			if (t[i].desc != NULL) {
				msg = aalloc(t[i].desc->sizeof_message);
				protobuf_c_message_init(t[i].desc, msg);
				fill_message(msg, 0);
				plen = protobuf_c_message_get_packed_size(msg);
				e.payload.data = aalloc(plen + 1);
				assert_int_equal(protobuf_c_message_pack(msg, e.payload.data), plen);
				e.payload.len = plen;
			}
			e.type = t[i].type;
			e.seq = (uint32_t)rnd() >> (rnd() % 32);
			e.ack = (uint32_t)rnd() >> (rnd() % 32);
			e.msg_id = rnd() % 3 == 0 ? 0 : (uint32_t)rnd();
			elen = wg__envelope__pack(&e, pb);

			a0 = allocs;
			m = wg_msgjson_from_pb(&cv, pb, elen, js, sizeof(js));
			if (m < 0)
				fail_msg("%s: %d %s", t[i].name, m, wg_msgjson_error(&cv));
			n = wg_msgjson_to_pb(&cv, js, (size_t)m, pb2, sizeof(pb2), &view);
			if (n < 0)
				fail_msg("%s: %d %s in %.*s", t[i].name, n, wg_msgjson_error(&cv), m, js);
			/* nothing allocated on the way, floats and all */
			assert_int_equal(allocs, a0);
			assert_int_equal(n, elen);
			assert_memory_equal(pb2, pb, elen);
			assert_int_equal(view.type, e.type);
			assert_int_equal(view.seq, e.seq);
			assert_int_equal(view.ack, e.ack);
			assert_int_equal(view.msg_id, e.msg_id);
			assert_int_equal(view.payload_len, plen);
			if (plen > 0)
				assert_ptr_equal(view.payload, pb2 + elen - plen);
			/* the .proto names give the same bytes */
			m = wg_msgjson_from_pb(&cv2, pb, elen, js2, sizeof(js2));
			assert_true(m > 0);
			n2 = wg_msgjson_to_pb(&cv, js2, (size_t)m, pb2, sizeof(pb2), NULL);
			assert_int_equal(n2, elen);
			assert_memory_equal(pb2, pb, elen);
			covered += plen > 20;
		}
	}
	assert_true(covered > 1000);
}

static void
test_type_table(void **state)
{
	const ProtobufCEnumDescriptor *ed = &wg__msg_type__descriptor;
	const struct wg_msg_type_info *t;
	size_t n, i;
	unsigned v;

	(void)state;
	t = wg_msg_types(&n);
	/* the table is the MsgType enum, value for value, sorted */
	assert_int_equal(n, ed->n_values - 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(t[i - 1].type < t[i].type);
		assert_ptr_equal(wg_msg_type_find(t[i].type), &t[i]);
		assert_ptr_equal(wg_msg_type_by_name(t[i].name, strlen(t[i].name)), &t[i]);
		assert_string_equal(protobuf_c_enum_descriptor_get_value(ed, (int)t[i].type)->name,
				    t[i].name);
		assert_true(t[i].desc != NULL || t[i].type == WG__MSG_TYPE__ACK);
	}
	for (v = 0; v < ed->n_values; v++)
		if (ed->values[v].value != 0)
			assert_non_null(wg_msg_type_find((uint32_t)ed->values[v].value));
	assert_null(wg_msg_type_find(0));
	assert_null(wg_msg_type_find(0x305));
	assert_null(wg_msg_type_by_name("CHAT_SA", 7));
	assert_null(wg_msg_type_by_name("CHAT_SAYS", 9));
	assert_null(wg_msg_type_by_name("MSG_TYPE_UNSPECIFIED", 20));
	assert_ptr_equal(wg_msg_type_by_name("CHAT_SAYS", 8), wg_msg_type_find(0x302));
	assert_ptr_equal(wg_msg_type_find(0x400)->desc, &wg__move_input__descriptor);
	assert_ptr_equal(wg_msg_type_find(0x402)->desc, &wg__state_delta__descriptor);
}

/* The frame from docs/protocol.md, both ways, against protobuf-c. */
static void
test_example_frame(void **state)
{
	static const char in[] =
		"{\"type\":\"CHAT_SAY\",\"seq\":3,\"ack\":2,\"msg_id\":7,"
		"\"payload\":{\"room\":\"lobby\",\"text\":\"hi\"}}";
	Wg__ChatSay say = WG__CHAT_SAY__INIT;
	Wg__Envelope e = WG__ENVELOPE__INIT, *pe;
	Wg__ChatSay *ps;
	struct wg_envelope view;
	uint8_t ref[128], pay[64];
	int n, m;

	(void)state;
	say.room = "lobby";
	say.text = "hi";
	e.type = WG__MSG_TYPE__CHAT_SAY;
	e.seq = 3;
	e.ack = 2;
	e.msg_id = 7;
	e.payload.data = pay;
	e.payload.len = wg__chat_say__pack(&say, pay);
	n = wg_msgjson_to_pb(&cv, in, strlen(in), pb, sizeof(pb), &view);
	assert_int_equal(n, (int)wg__envelope__pack(&e, ref));
	assert_memory_equal(pb, ref, (size_t)n);
	assert_int_equal(view.type, 0x302);
	assert_int_equal(view.seq, 3);
	assert_int_equal(view.ack, 2);
	assert_int_equal(view.msg_id, 7);
	/* protobuf-c reads what we wrote */
	pe = wg__envelope__unpack(NULL, (size_t)n, pb);
	assert_non_null(pe);
	ps = wg__chat_say__unpack(NULL, pe->payload.len, pe->payload.data);
	assert_non_null(ps);
	assert_string_equal(ps->room, "lobby");
	assert_string_equal(ps->text, "hi");
	wg__chat_say__free_unpacked(ps, NULL);
	wg__envelope__free_unpacked(pe, NULL);
	m = wg_msgjson_from_pb(&cv, ref, (size_t)n, js, sizeof(js));
	assert_int_equal(m, strlen(in));
	assert_memory_equal(js, in, (size_t)m);
	/* from an already decoded view: the same text */
	assert_int_equal(wg_envelope_decode(&view, ref, (size_t)n), 0);
	assert_int_equal(wg_msgjson_from_envelope(&cv, &view, js2, sizeof(js2)), m);
	assert_memory_equal(js2, in, (size_t)m);
}

/* Everything the input side accepts, and the one text it prints for it. */
static void
test_accepted_forms(void **state)
{
	static const char *const cases[][2] = {
		/* keys in any order, type by number, payload before type, msgId */
		{ "{\"payload\":{\"text\":\"hi\",\"room\":\"lobby\"},\"msgId\":7,\"ack\":2,\"seq\":3,\"type\":770}",
		  "{\"type\":\"CHAT_SAY\",\"seq\":3,\"ack\":2,\"msg_id\":7,\"payload\":{\"room\":\"lobby\",\"text\":\"hi\"}}" },
		/* whitespace everywhere, .proto and lowerCamel names, 64-bit as numbers
		 * and strings, URL-safe unpadded base64, integral exponent forms */
		{ " \t\r\n{ \"type\" : \"LOGIN_ACK\" , \"payload\" : { \"session_id\" : 18446744073709551615 ,"
		  " \"playerId\":\"12\", \"resume_token\":\"AAEC_w\", \"heartbeatMs\":\"15000\","
		  " \"serverTimeMs\":1.7e12 } } \n",
		  "{\"type\":\"LOGIN_ACK\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"sessionId\":"
		  "\"18446744073709551615\",\"playerId\":\"12\",\"resumeToken\":\"AAEC/w==\","
		  "\"heartbeatMs\":15000,\"serverTimeMs\":\"1700000000000\"}}" },
		/* escapes in, canonical escapes out; enum by number */
		{ "{\"type\":\"ERROR\",\"payload\":{\"code\":4,\"ref_type\":770,"
		  "\"text\":\"\\u00e9\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\ud83d\\ude00\"}}",
		  "{\"type\":\"ERROR\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"code\":\"BAD_TOKEN\","
		  "\"refType\":770,\"text\":\"\xc3\xa9\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\xf0\x9f\x98\x80\"}}" },
		/* null: the default */
		{ "{\"type\":\"LOGOUT\",\"payload\":null}",
		  "{\"type\":\"LOGOUT\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{}}" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":null,\"text\":\"x\"}}",
		  "{\"type\":\"CHAT_SAY\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"text\":\"x\"}}" },
		/* open enum: an unknown number is kept and printed as a number */
		{ "{\"type\":\"KICK\",\"payload\":{\"code\":99,\"reason\":\"x\"}}",
		  "{\"type\":\"KICK\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"code\":99,\"reason\":\"x\"}}" },
		{ "{\"type\":\"KICK\",\"payload\":{\"code\":\"DUPLICATE_LOGIN\"}}",
		  "{\"type\":\"KICK\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"code\":\"DUPLICATE_LOGIN\"}}" },
		/* floats: special values as strings, numbers as strings */
		{ "{\"type\":\"MOVE\",\"payload\":{\"seq\":1,\"x\":-0.5,\"y\":\"Infinity\",\"yaw\":\"-Infinity\"}}",
		  "{\"type\":\"MOVE\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"seq\":1,\"x\":-0.5,"
		  "\"y\":\"Infinity\",\"yaw\":\"-Infinity\"}}" },
		{ "{\"type\":\"MOVE\",\"payload\":{\"x\":\"NaN\",\"y\":\"2.5e1\",\"yaw\":0.1}}",
		  "{\"type\":\"MOVE\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"x\":\"NaN\",\"y\":25,"
		  "\"yaw\":0.1}}" },
		/* proto3 defaults are not printed ... */
		{ "{\"type\":\"ECHO\",\"payload\":{\"data\":\"\",\"text\":\"\"}}",
		  "{\"type\":\"ECHO\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{}}" },
		/* ... but a set oneof member is, even when empty */
		{ "{\"type\":\"LOGIN\",\"msg_id\":1,\"payload\":{\"token\":\"\",\"version\":\"1.0.0\"}}",
		  "{\"type\":\"LOGIN\",\"seq\":0,\"ack\":0,\"msg_id\":1,\"payload\":{\"token\":\"\",\"version\":\"1.0.0\"}}" },
		{ "{\"type\":\"LOGIN\",\"payload\":{\"token\":null,\"password\":{}}}",
		  "{\"type\":\"LOGIN\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"password\":{}}}" },
		/* an escaped key; bare ACK with an empty payload object */
		{ "{\"type\":\"CHAT_JOIN\",\"payload\":{\"r\\u006fom\":\"a\"}}",
		  "{\"type\":\"CHAT_JOIN\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"room\":\"a\"}}" },
		{ "{\"type\":\"ACK\",\"ack\":9,\"payload\":{ }}",
		  "{\"type\":\"ACK\",\"seq\":0,\"ack\":9,\"msg_id\":0}" },
		/* integers: exponents, fractions that are whole, strings, -0 */
		{ "{\"type\":\"ACK\",\"seq\":1e2,\"ack\":\"7\",\"msg_id\":100e-2}",
		  "{\"type\":\"ACK\",\"seq\":100,\"ack\":7,\"msg_id\":1}" },
		{ "{\"type\":\"ACK\",\"seq\":-0,\"ack\":0.0,\"msg_id\":4294967295}",
		  "{\"type\":\"ACK\",\"seq\":0,\"ack\":0,\"msg_id\":4294967295}" },
		{ "{\"type\":\"STATE_DELTA\",\"payload\":{\"tick\":5,\"enters\":[{\"id\":1,\"x\":-2147483648,"
		  "\"fields\":[1,-2,3]},{\"id\":2}],\"leaves\":[],\"updates\":null}}",
		  "{\"type\":\"STATE_DELTA\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"tick\":5,"
		  "\"enters\":[{\"id\":1,\"x\":-2147483648,\"fields\":[1,-2,3]},{\"id\":2}]}}" },
		{ "{\"type\":\"LOGIN\",\"payload\":{\"password\":{\"account\":\"ann\",\"password\":\"pw\"},"
		  "\"device\":\"web\"}}",
		  "{\"type\":\"LOGIN\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{\"password\":{\"account\":"
		  "\"ann\",\"password\":\"pw\"},\"device\":\"web\"}}" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_canonical(cases[i][0], cases[i][1]);
}

struct err_case {
	const char *json;
	int rc;
	const char *text;
};

static void
test_errors(void **state)
{
	static const struct err_case cases[] = {
		/* not JSON */
		{ "", -EBADMSG, "invalid JSON at offset 0: expected an object" },
		{ "[]", -EBADMSG, "invalid JSON at offset 0: expected an object" },
		{ "{\"type\":\"ACK\"} x", -EBADMSG, "invalid JSON at offset 15: bytes after the object" },
		{ "{\"type\":\"ACK\"}{}", -EBADMSG, "invalid JSON at offset 14: bytes after the object" },
		{ "{\"type\":\"ACK\",}", -EBADMSG, "invalid JSON at offset 14: key expected" },
		{ "{'type':\"ACK\"}", -EBADMSG, "invalid JSON at offset 1: key expected" },
		{ "{\"type\" \"ACK\"}", -EBADMSG, "type: invalid JSON at offset 8: expected ':'" },
		{ "{\"type\":\"ACK\"", -EBADMSG, "invalid JSON at offset 13: expected '}'" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"a}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 37: unterminated string" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\\x\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: bad escape" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\\ud800\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: unpaired surrogate" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\\udc00\\ud800\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: unpaired surrogate" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\\ud800\\u0041\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: unpaired surrogate" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\\u12g4\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: bad \\u escape" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\xc0\xaf\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: invalid UTF-8" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\xed\xa0\x80\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: invalid UTF-8" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\xf4\x90\x80\x80\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: invalid UTF-8" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"\xe2\x82\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 38: invalid UTF-8" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"a\tb\"}}", -EBADMSG,
		  "payload.room: invalid JSON at offset 39: control character in string" },
		{ "{\"type\":\"ACK\",\"seq\":01}", -EBADMSG, "invalid JSON at offset 21: expected '}'" },
		{ "{\"type\":\"ACK\",\"seq\":+1}", -EBADMSG, "seq: invalid JSON at offset 20: bad number" },
		{ "{\"type\":\"ACK\",\"seq\":.5}", -EBADMSG, "seq: invalid JSON at offset 20: bad number" },
		{ "{\"type\":\"ACK\",\"seq\":1.}", -EBADMSG, "seq: invalid JSON at offset 20: bad number" },
		{ "{\"type\":\"ACK\",\"seq\":1e}", -EBADMSG, "seq: invalid JSON at offset 20: bad number" },
		{ "{\"type\":\"MOVE\",\"payload\":{\"x\":NaN}}", -EBADMSG,
		  "payload.x: invalid JSON at offset 30: bad number" },
		{ "{\"type\":\"ACK\",\"payload\":{}/**/}", -EBADMSG,
		  "invalid JSON at offset 26: expected '}'" },
		/* schema mismatch */
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"rom\":\"a\"}}", -EINVAL,
		  "payload.rom: unknown field" },
		{ "{\"type\":\"CHAT_SAY\",\"pay\":{}}", -EINVAL, "pay: unknown field" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":5}}", -EINVAL,
		  "payload.room: expected string" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":\"a\",\"room\":\"b\"}}", -EINVAL,
		  "payload.room: duplicate field" },
		{ "{\"type\":\"ERROR\",\"payload\":{\"ref_type\":1,\"refType\":2}}", -EINVAL,
		  "payload.refType: duplicate field" },
		{ "{\"type\":\"ACK\",\"seq\":1,\"seq\":1}", -EINVAL, "seq: duplicate field" },
		{ "{\"type\":\"ACK\",\"type\":\"ACK\"}", -EINVAL, "type: duplicate field" },
		{ "{\"type\":\"LOGIN\",\"payload\":{\"token\":\"t\",\"password\":{}}}", -EINVAL,
		  "payload.password: another member of its oneof is set" },
		{ "{\"type\":\"ERROR\",\"payload\":{\"code\":\"NOPE\"}}", -EINVAL,
		  "payload.code: unknown wg.ErrorCode value" },
		{ "{\"type\":\"ERROR\",\"payload\":{\"code\":true}}", -EINVAL,
		  "payload.code: expected integer" },
		{ "{\"type\":\"ACK\",\"seq\":4294967296}", -EINVAL, "seq: integer out of range" },
		{ "{\"type\":\"ACK\",\"seq\":-1}", -EINVAL, "seq: integer out of range" },
		{ "{\"type\":\"ACK\",\"seq\":1.5}", -EINVAL, "seq: not an integer" },
		{ "{\"type\":\"ACK\",\"seq\":1e-1}", -EINVAL, "seq: not an integer" },
		{ "{\"type\":\"ACK\",\"seq\":\"1 \"}", -EINVAL, "seq: expected integer" },
		{ "{\"type\":\"ACK\",\"seq\":\"\"}", -EINVAL, "seq: expected integer" },
		{ "{\"type\":\"ACK\",\"seq\":true}", -EINVAL, "seq: expected integer" },
		{ "{\"type\":\"ACK\",\"seq\":1e400}", -EINVAL, "seq: integer out of range" },
		{ "{\"type\":\"STATE_DELTA\",\"payload\":{\"enters\":[{\"x\":2147483648}]}}", -EINVAL,
		  "payload.enters[0].x: integer out of range" },
		{ "{\"type\":\"STATE_DELTA\",\"payload\":{\"enters\":[{\"x\":-2147483649}]}}", -EINVAL,
		  "payload.enters[0].x: integer out of range" },
		{ "{\"type\":\"LOGIN_ACK\",\"payload\":{\"playerId\":\"18446744073709551616\"}}", -EINVAL,
		  "payload.playerId: integer out of range" },
		{ "{\"type\":\"LOGIN_ACK\",\"payload\":{\"playerId\":\"-1\"}}", -EINVAL,
		  "payload.playerId: integer out of range" },
		{ "{\"type\":\"MOVE\",\"payload\":{\"x\":1e39}}", -EINVAL, "payload.x: number out of range" },
		{ "{\"type\":\"MOVE\",\"payload\":{\"x\":\"inf\"}}", -EINVAL, "payload.x: expected number" },
		{ "{\"type\":\"MOVE\",\"payload\":{\"x\":false}}", -EINVAL, "payload.x: expected number" },
		{ "{\"type\":\"ECHO\",\"payload\":{\"data\":\"YR==\"}}", -EINVAL,
		  "payload.data: invalid base64" },
		{ "{\"type\":\"ECHO\",\"payload\":{\"data\":\"Y\"}}", -EINVAL, "payload.data: invalid base64" },
		{ "{\"type\":\"ECHO\",\"payload\":{\"data\":\"YQ=\"}}", -EINVAL,
		  "payload.data: invalid base64" },
		{ "{\"type\":\"ECHO\",\"payload\":{\"data\":\"Y Q==\"}}", -EINVAL,
		  "payload.data: invalid base64" },
		{ "{\"type\":\"ECHO\",\"payload\":{\"data\":[1]}}", -EINVAL,
		  "payload.data: expected base64 string" },
		{ "{\"type\":\"ECHO\",\"payload\":{\"text\":\"a\\u0000b\"}}", -EINVAL,
		  "payload.text: string holds U+0000" },
		{ "{\"seq\":1}", -EINVAL, "type: missing" },
		{ "{}", -EINVAL, "type: missing" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":[]}", -EINVAL, "payload: expected object" },
		{ "{\"type\":\"CHAT_SAY\",\"payload\":\"x\"}", -EINVAL, "payload: expected object" },
		{ "{\"payload\":[],\"type\":\"CHAT_SAY\"}", -EINVAL, "payload: expected object" },
		{ "{\"type\":\"ACK\",\"payload\":{\"a\":1}}", -EINVAL, "payload: ACK carries no payload" },
		{ "{\"type\":\"STATE_DELTA\",\"payload\":{\"enters\":[null]}}", -EINVAL,
		  "payload.enters[0]: null in an array" },
		{ "{\"type\":\"STATE_DELTA\",\"payload\":{\"enters\":{}}}", -EINVAL,
		  "payload.enters: expected array" },
		{ "{\"type\":\"STATE_DELTA\",\"payload\":{\"enters\":[{\"fields\":[1,\"x\"]}]}}", -EINVAL,
		  "payload.enters[0].fields[1]: expected integer" },
		{ "{\"type\":\"LOGIN\",\"payload\":{\"password\":\"x\"}}", -EINVAL,
		  "payload.password: expected object" },
		{ "{\"payload\":{\"rom\":1},\"type\":\"CHAT_SAY\"}", -EINVAL, "payload.rom: unknown field" },
		/* unknown types */
		{ "{\"type\":\"FOO\"}", -ENOMSG, "type: unknown message type 'FOO'" },
		{ "{\"type\":\"MSG_TYPE_UNSPECIFIED\"}", -ENOMSG,
		  "type: unknown message type 'MSG_TYPE_UNSPECIFIED'" },
		{ "{\"type\":4096}", -ENOMSG, "type: unknown message type 4096" },
		{ "{\"type\":0}", -ENOMSG, "type: unknown message type 0" },
		{ "{\"type\":\"\x01\"}", -EBADMSG,
		  "type: invalid JSON at offset 9: control character in string" },
		{ "{\"type\":\"\\u0001\"}", -ENOMSG, "type: unknown message type '?'" },
		/* limits */
		{ "{\"type\":\"ACK\",\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", -EINVAL, "x: unknown field" },
		{ "{\"payload\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],\"type\":\"ACK\"}", -E2BIG,
		  "payload: nested deeper than 16" },
	};
	char long_key[256], want[128];
	size_t i;
	int rc;

	(void)state;
	/* a key past the key buffer: unknown, and shown cut to 40 characters */
	snprintf(long_key, sizeof(long_key), "{\"type\":\"CHAT_SAY\",\"payload\":{\"%0100d\":1}}", 7);
	snprintf(want, sizeof(want), "payload.%040d: unknown field", 0);
	assert_int_equal(to_pb(long_key), -EINVAL);
	assert_string_equal(wg_msgjson_error(&cv), want);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(pb, 0x5a, 16);
		rc = to_pb(cases[i].json);
		if (rc != cases[i].rc || strcmp(wg_msgjson_error(&cv), cases[i].text) != 0)
			fail_msg("%s: got %d '%s', want %d '%s'", cases[i].json, rc,
				 wg_msgjson_error(&cv), cases[i].rc, cases[i].text);
		assert_int_equal(pb[0], 0x5a);
	}
	assert_int_equal(wg_msgjson_error_code(-ENOMSG), WG__ERROR_CODE__UNKNOWN_TYPE);
	assert_int_equal(wg_msgjson_error_code(-E2BIG), WG__ERROR_CODE__TOO_BIG);
	assert_int_equal(wg_msgjson_error_code(-EINVAL), WG__ERROR_CODE__BAD_MESSAGE);
	assert_int_equal(wg_msgjson_error_code(-EBADMSG), WG__ERROR_CODE__BAD_MESSAGE);
	assert_int_equal(wg_msgjson_error_code(-ENOSPC), WG__ERROR_CODE__TOO_BIG);
	/* a success clears the text */
	assert_true(to_pb("{\"type\":\"ACK\"}") > 0);
	assert_string_equal(wg_msgjson_error(&cv), "");
}

/* Nesting: exactly the limit passes, one more is refused (depth counts the
 * frame object). Built from StateDelta's depth plus the skip of a payload
 * seen before its type. */
static void
test_depth_limit(void **state)
{
	char buf[256];
	int d, rc;

	(void)state;
	for (d = 1; d <= WG_MSGJSON_MAX_DEPTH + 2; d++) {
		int i, n = 0;

		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "{\"payload\":");
		for (i = 0; i < d - 1; i++)
			buf[n++] = '[';
		buf[n++] = '1';
		for (i = 0; i < d - 1; i++)
			buf[n++] = ']';
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ",\"type\":\"ACK\"}");
		rc = wg_msgjson_to_pb(&cv, buf, (size_t)n, pb, sizeof(pb), NULL);
		/* within the limit the payload is valid JSON, then refused as not an object */
		assert_int_equal(rc, d <= WG_MSGJSON_MAX_DEPTH ? -EINVAL : -E2BIG);
		assert_string_equal(wg_msgjson_error(&cv), d <= WG_MSGJSON_MAX_DEPTH ?
				    "payload: expected object" : "payload: nested deeper than 16");
	}
}

static void
test_output_space(void **state)
{
	static const char in[] =
		"{\"type\":\"CHAT_MSG\",\"seq\":300,\"ack\":2,\"msg_id\":7,\"payload\":{\"room\":\"lobby\","
		"\"fromId\":\"77\",\"fromName\":\"ann\",\"text\":\"hello \\\"world\\\"\",\"serverTimeMs\":\"1\"}}";
	uint8_t out[256];
	char jout[512];
	size_t cap;
	int n, m;

	(void)state;
	n = to_pb(in);
	assert_true(n > 0);
	m = wg_msgjson_from_pb(&cv, pb, (size_t)n, jout, sizeof(jout));
	assert_int_equal(m, strlen(in));
	assert_memory_equal(jout, in, (size_t)m);
	for (cap = 0; cap < (size_t)n; cap++) {
		memset(out, 0x5a, sizeof(out));
		assert_int_equal(wg_msgjson_to_pb(&cv, in, strlen(in), out, cap, NULL), -ENOSPC);
		assert_string_equal(wg_msgjson_error(&cv), "output buffer too small");
		assert_int_equal(out[cap], 0x5a);
	}
	assert_int_equal(wg_msgjson_to_pb(&cv, in, strlen(in), out, (size_t)n, NULL), n);
	for (cap = 0; cap < (size_t)m; cap++) {
		memset(jout, 0x5a, sizeof(jout));
		assert_int_equal(wg_msgjson_from_pb(&cv, pb, (size_t)n, jout, cap), -ENOSPC);
		assert_int_equal(jout[cap], 0x5a);
	}
	assert_int_equal(wg_msgjson_from_pb(&cv, pb, (size_t)n, jout, (size_t)m), m);
}

/* A small scratch area: big strings and arrays are refused, not overrun. */
static void
test_scratch_limit(void **state)
{
	static _Alignas(8) uint8_t small[1024 + 32];
	static char big[4096];
	Wg__Echo echo = WG__ECHO__INIT;
	Wg__Envelope e = WG__ENVELOPE__INIT;
	struct wg_msgjson c;
	uint8_t pay[3000];
	int n, i;

	(void)state;
	memset(small, CANARY, sizeof(small));
	assert_int_equal(wg_msgjson_init(&c, small, 512, 0), -EINVAL);
	assert_int_equal(wg_msgjson_init(&c, small + 4, 1024, 0), -EINVAL);
	assert_int_equal(wg_msgjson_init(&c, small, 1024, 0x8000), -EINVAL);
	assert_int_equal(wg_msgjson_init(&c, small, 1024, 0), 0);
	n = snprintf(big, sizeof(big), "{\"type\":\"ECHO\",\"payload\":{\"text\":\"");
	for (i = 0; i < 1100; i++)
		big[n++] = 'x';
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\"}}");
	assert_int_equal(wg_msgjson_to_pb(&c, big, (size_t)n, pb, sizeof(pb), NULL), -E2BIG);
	assert_string_equal(wg_msgjson_error(&c), "payload.text: out of scratch space");
	n = snprintf(big, sizeof(big), "{\"type\":\"STATE_DELTA\",\"payload\":{\"leaves\":[");
	for (i = 0; i < 200; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "%s{}", i ? "," : "");
	n += snprintf(big + n, sizeof(big) - (size_t)n, "]}}");
	assert_int_equal(wg_msgjson_to_pb(&c, big, (size_t)n, pb, sizeof(pb), NULL), -E2BIG);
	assert_string_equal(wg_msgjson_error(&c), "payload.leaves: out of scratch space");
	/* an array that fits, whose elements do not */
	n = snprintf(big, sizeof(big), "{\"type\":\"STATE_DELTA\",\"payload\":{\"leaves\":[");
	for (i = 0; i < 60; i++)
		n += snprintf(big + n, sizeof(big) - (size_t)n, "%s{\"id\":%d}", i ? "," : "", i);
	n += snprintf(big + n, sizeof(big) - (size_t)n, "]}}");
	assert_int_equal(wg_msgjson_to_pb(&c, big, (size_t)n, pb, sizeof(pb), NULL), -E2BIG);
	assert_int_equal(strncmp(wg_msgjson_error(&c), "payload.leaves[", 15), 0);
	assert_non_null(strstr(wg_msgjson_error(&c), "]: out of scratch space"));
	/* the other way: protobuf-c unpack runs out of scratch */
	memset(pay, 'y', sizeof(pay));
	echo.data.data = pay;
	echo.data.len = 0;
	echo.text = big;
	memset(big, 'z', 2000);
	big[2000] = '\0';
	e.type = WG__MSG_TYPE__ECHO;
	e.payload.data = pay;
	e.payload.len = wg__echo__pack(&echo, pay);
	n = (int)wg__envelope__pack(&e, pb);
	assert_int_equal(wg_msgjson_from_pb(&c, pb, (size_t)n, js, sizeof(js)), -E2BIG);
	assert_string_equal(wg_msgjson_error(&c), "payload: out of scratch space");
	for (i = 1024; i < (int)sizeof(small); i++)
		assert_int_equal(small[i], CANARY);
	/* and the converter still works for what fits */
	assert_true(wg_msgjson_to_pb(&c, "{\"type\":\"ACK\"}", 14, pb, sizeof(pb), NULL) > 0);
}

/* Binary input the JSON side cannot print. */
static void
test_pb_errors(void **state)
{
	Wg__Envelope e = WG__ENVELOPE__INIT;
	Wg__ChatSay say = WG__CHAT_SAY__INIT;
	uint8_t pay[64], bad[] = { 0x08, 0x80 }, junk[] = { 0xff, 0xff };
	size_t n;

	(void)state;
	assert_int_equal(wg_msgjson_from_pb(&cv, bad, sizeof(bad), js, sizeof(js)), -EBADMSG);
	assert_string_equal(wg_msgjson_error(&cv), "not a valid Envelope");
	e.type = 0x999;
	n = wg__envelope__pack(&e, pb);
	assert_int_equal(wg_msgjson_from_pb(&cv, pb, n, js, sizeof(js)), -ENOMSG);
	assert_string_equal(wg_msgjson_error(&cv), "type: unknown message type 2457");
	e.type = WG__MSG_TYPE__ACK;
	e.payload.data = pay;
	e.payload.len = 1;
	pay[0] = 0;
	n = wg__envelope__pack(&e, pb);
	assert_int_equal(wg_msgjson_from_pb(&cv, pb, n, js, sizeof(js)), -EBADMSG);
	assert_string_equal(wg_msgjson_error(&cv), "payload: ACK carries no payload");
	e.type = WG__MSG_TYPE__CHAT_SAY;
	e.payload.data = junk;
	e.payload.len = sizeof(junk);
	n = wg__envelope__pack(&e, pb);
	assert_int_equal(wg_msgjson_from_pb(&cv, pb, n, js, sizeof(js)), -EBADMSG);
	assert_string_equal(wg_msgjson_error(&cv), "payload: not a valid ChatSay");
	/* a binary client's string that is not UTF-8 never reaches a text frame */
	say.room = "lobby";
	say.text = "ok \xff";
	e.payload.data = pay;
	e.payload.len = wg__chat_say__pack(&say, pay);
	n = wg__envelope__pack(&e, pb);
	assert_int_equal(wg_msgjson_from_pb(&cv, pb, n, js, sizeof(js)), -EBADMSG);
	assert_string_equal(wg_msgjson_error(&cv), "payload.text: string is not valid UTF-8");
	/* an empty payload for a type that has one: all defaults */
	e.payload.len = 0;
	n = wg__envelope__pack(&e, pb);
	assert_int_equal(wg_msgjson_from_pb(&cv, pb, n, js, sizeof(js) - 1), 59);
	js[59] = '\0';
	assert_string_equal(js, "{\"type\":\"CHAT_SAY\",\"seq\":0,\"ack\":0,\"msg_id\":0,\"payload\":{}}");
}

static void
test_proto_names_and_payload_only(void **state)
{
	static _Alignas(8) uint8_t s2[4096];
	static const char in[] = "{\"sessionId\":\"5\",\"resumeToken\":\"AQ==\",\"heartbeatMs\":1000}";
	struct wg_msgjson c;
	uint8_t out[64];
	int n, m;

	(void)state;
	assert_int_equal(wg_msgjson_init(&c, s2, sizeof(s2), WG_MSGJSON_F_PROTO_NAMES), 0);
	n = wg_msgjson_payload_to_pb(&c, &wg__login_ack__descriptor, in, strlen(in), out, sizeof(out));
	/* 9 (fixed64) + 3 (bytes) + 3 (varint 1000) */
	assert_int_equal(n, 15);
	m = wg_msgjson_payload_from_pb(&c, &wg__login_ack__descriptor, out, (size_t)n, js, sizeof(js));
	assert_true(m > 0);
	js[m] = '\0';
	assert_string_equal(js, "{\"session_id\":\"5\",\"resume_token\":\"AQ==\",\"heartbeat_ms\":1000}");
	m = wg_msgjson_payload_from_pb(&cv, &wg__login_ack__descriptor, out, (size_t)n, js, sizeof(js));
	js[m] = '\0';
	assert_string_equal(js, in);
	assert_int_equal(wg_msgjson_payload_to_pb(&c, &wg__login_ack__descriptor, "{} {}", 5, out,
						  sizeof(out)), -EBADMSG);
	assert_int_equal(wg_msgjson_payload_to_pb(&c, &wg__login_ack__descriptor, in, strlen(in), out,
						  10), -ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_type_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_every_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accepted_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pb_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proto_names_and_payload_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
