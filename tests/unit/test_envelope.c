/* SPDX-License-Identifier: BSD-3-Clause
 * Envelope codec against protobuf-c as the oracle: our encoder's bytes
 * equal wg__envelope__pack() for random envelopes and payload sizes at
 * every varint boundary; our decoder and wg__envelope__unpack() agree on
 * every hand-made edge case and on random and mutated inputs (accept or
 * reject, and every field when accepted), with the two documented
 * differences (field numbers 0 and above 2^29-1) checked explicitly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../pb_walk.h"
#include "envelope.h"
#include "wg_client.pb-c.h"

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* Values at and around every varint length boundary. */
static uint32_t
rnd_u32(void)
{
	static const uint32_t edge[] = { 0, 1, 127, 128, 16383, 16384, 2097151, 2097152,
					 268435455, 268435456, UINT32_MAX };

	switch (rnd() % 3) {
	case 0:
		return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return (uint32_t)(rnd() % 300);
	default:
		return (uint32_t)rnd() >> (rnd() % 32);
	}
}

/* Accept/reject and the fields of protobuf-c and of our decoder agree. */
static void
check_against_pbc(const uint8_t *buf, size_t len, int expect_ours)
{
	struct wg_envelope e;
	Wg__Envelope *pe = wg__envelope__unpack(NULL, len, buf);
	int rc = wg_envelope_decode(&e, buf, len);

	if (expect_ours != 1)
		assert_int_equal(rc, expect_ours);
	if (pe == NULL) {
		assert_int_equal(rc, -EBADMSG);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(e.type, pe->type);
	assert_int_equal(e.seq, pe->seq);
	assert_int_equal(e.ack, pe->ack);
	assert_int_equal(e.msg_id, pe->msg_id);
	assert_int_equal(e.payload_len, pe->payload.len);
	if (e.payload_len > 0) {
		assert_true(e.payload >= buf && e.payload + e.payload_len <= buf + len);
		assert_memory_equal(e.payload, pe->payload.data, e.payload_len);
	}
	wg__envelope__free_unpacked(pe, NULL);
}

static void
test_encode_matches_pbc(void **state)
{
	static uint8_t payload[70000], ours[70100], theirs[70100];
	static const uint32_t plens[] = { 0, 1, 127, 128, 300, 16383, 16384, 65536 };
	Wg__Envelope pe = WG__ENVELOPE__INIT;
	struct wg_envelope e, d;
	size_t i, n;
	int k;

	(void)state;
	rng = 1;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rnd();
	for (k = 0; k < 20000; k++) {
		e = (struct wg_envelope){ .type = rnd_u32(), .seq = rnd_u32(), .ack = rnd_u32(),
					  .msg_id = rnd_u32(), .payload = payload };
		e.payload_len = k < 800 ? plens[k % 8] : (uint32_t)(rnd() % 400);
		pe.type = e.type;
		pe.seq = e.seq;
		pe.ack = e.ack;
		pe.msg_id = e.msg_id;
		pe.payload.data = payload;
		pe.payload.len = e.payload_len;
		n = wg__envelope__pack(&pe, theirs);
		assert_int_equal(wg_envelope_size(&e, e.payload_len), n);
		assert_int_equal(wg_envelope_encode(&e, ours, sizeof(ours)), (int)n);
		assert_memory_equal(ours, theirs, n);
		assert_int_equal(wg_envelope_decode(&d, ours, n), 0);
		assert_int_equal(d.type, e.type);
		assert_int_equal(d.seq, e.seq);
		assert_int_equal(d.ack, e.ack);
		assert_int_equal(d.msg_id, e.msg_id);
		assert_int_equal(d.payload_len, e.payload_len);
		if (e.payload_len == 0)
			assert_null(d.payload);
		else
			assert_memory_equal(d.payload, payload, e.payload_len);
		check_against_pbc(ours, n, 0);
		/* header-only encoding + the payload written by the caller */
		assert_int_equal(wg_envelope_encode_hdr(&e, e.payload_len, ours, sizeof(ours)),
				 (int)(n - e.payload_len));
		assert_memory_equal(ours, theirs, n - e.payload_len);
	}
}

static void
test_encode_space(void **state)
{
	uint8_t payload[200], buf[300], ref[300];
	struct wg_envelope e = { .type = 0x302, .seq = 300, .ack = 5, .msg_id = 1u << 28,
				 .payload = payload, .payload_len = sizeof(payload) };
	size_t n = wg_envelope_size(&e, e.payload_len), cap;

	(void)state;
	memset(payload, 0xa5, sizeof(payload));
	assert_int_equal(wg_envelope_encode(&e, ref, sizeof(ref)), (int)n);
	/* 3 (type) + 3 (seq) + 2 (ack) + 6 (msg_id) + 1 + 2 (len) + 200 */
	assert_int_equal(n, 217);
	for (cap = 0; cap < n; cap++) {
		memset(buf, 0x5a, sizeof(buf));
		assert_int_equal(wg_envelope_encode(&e, buf, cap), -ENOSPC);
		assert_int_equal(wg_envelope_encode_hdr(&e, e.payload_len, buf, cap), -ENOSPC);
		assert_int_equal(buf[0], 0x5a);     /* nothing written on failure */
	}
	assert_int_equal(wg_envelope_encode_hdr(&e, (size_t)WG_ENVELOPE_PAYLOAD_MAX, buf, SIZE_MAX),
			 -E2BIG);
	/* all-zero Envelope: zero bytes, as protobuf-c packs it */
	e = (struct wg_envelope){ 0 };
	assert_int_equal(wg_envelope_size(&e, 0), 0);
	assert_int_equal(wg_envelope_encode(&e, buf, 0), 0);
}

/* Re-encoding a decoded view into its own buffer with a longer header. */
static void
test_encode_in_place(void **state)
{
	uint8_t buf[600], ref[600];
	struct wg_envelope e, d;
	int n, m, i;

	(void)state;
	for (i = 0; i < 500; i++)
		ref[i] = (uint8_t)(i * 7);
	e = (struct wg_envelope){ .type = 1, .payload = ref, .payload_len = 500 };
	n = wg_envelope_encode(&e, buf, sizeof(buf));
	assert_int_equal(n, 2 + 3 + 500);
	assert_int_equal(wg_envelope_decode(&d, buf, (size_t)n), 0);
	d.seq = UINT32_MAX;
	d.ack = 1u << 21;
	d.msg_id = 99;
	m = wg_envelope_encode(&d, buf, sizeof(buf));
	assert_int_equal(m, n + 6 + 5 + 2);
	assert_int_equal(wg_envelope_decode(&e, buf, (size_t)m), 0);
	assert_int_equal(e.seq, UINT32_MAX);
	assert_int_equal(e.ack, 1u << 21);
	assert_int_equal(e.msg_id, 99);
	assert_int_equal(e.payload_len, 500);
	assert_memory_equal(e.payload, ref, 500);
}

struct vec {
	const char *name;
	uint8_t b[24];
	size_t n;
	int ours;                /* 0, -EBADMSG, or 1: whatever protobuf-c says */
	bool pbc_accepts;
};

/* Hand-made edge cases; each also goes through protobuf-c. */
static const struct vec vecs[] = {
	{ "empty", { 0 }, 0, 0, true },
	{ "type 1-byte", { 0x08, 0x05 }, 2, 0, true },
	{ "type 10-byte varint", { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 },
	  11, 0, true },
	{ "type 10-byte varint, top bits set", { 0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	  0x80, 0x7f }, 11, 0, true },
	{ "type 11-byte varint", { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	  0x00 }, 12, -EBADMSG, false },
	{ "type varint cut", { 0x08, 0x80 }, 2, -EBADMSG, false },
	{ "type value missing", { 0x08 }, 1, -EBADMSG, false },
	{ "type as fixed64", { 0x09, 1, 2, 3, 4, 5, 6, 7, 8 }, 9, -EBADMSG, false },
	{ "seq as length-delimited", { 0x12, 0x01, 0x00 }, 3, -EBADMSG, false },
	{ "msg_id as fixed32", { 0x25, 1, 2, 3, 4 }, 5, -EBADMSG, false },
	{ "payload as varint", { 0x28, 0x01 }, 2, -EBADMSG, false },
	{ "payload length beyond buffer", { 0x2a, 0x03, 0x01, 0x02 }, 4, -EBADMSG, false },
	{ "payload length 6-byte varint", { 0x2a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 7, -EBADMSG,
	  false },
	{ "payload length over INT_MAX", { 0x2a, 0x80, 0x80, 0x80, 0x80, 0x08 }, 6, -EBADMSG, false },
	{ "payload empty", { 0x2a, 0x00 }, 2, 0, true },
	{ "payload twice: last wins", { 0x2a, 0x01, 0xaa, 0x2a, 0x02, 0xbb, 0xcc }, 7, 0, true },
	{ "seq twice: last wins", { 0x10, 0x01, 0x10, 0x02 }, 4, 0, true },
	{ "unknown varint field", { 0x30, 0xff, 0x01, 0x08, 0x01 }, 5, 0, true },
	{ "unknown fixed64 field", { 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x01 }, 11, 0, true },
	{ "unknown fixed64 cut", { 0x31, 1, 2, 3, 4, 5, 6, 7 }, 8, -EBADMSG, false },
	{ "unknown bytes field", { 0x32, 0x02, 0x00, 0x00, 0x08, 0x01 }, 6, 0, true },
	{ "unknown fixed32 field", { 0x35, 1, 2, 3, 4 }, 5, 0, true },
	{ "unknown fixed32 cut", { 0x35, 1, 2, 3 }, 4, -EBADMSG, false },
	{ "unknown varint 11 bytes", { 0x30, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	  0x80, 0x00 }, 12, -EBADMSG, false },
	{ "start group", { 0x33, 0x34 }, 2, -EBADMSG, false },
	{ "end group", { 0x34 }, 1, -EBADMSG, false },
	{ "wire type 6", { 0x36, 0x00 }, 2, -EBADMSG, false },
	{ "wire type 7", { 0x37, 0x00 }, 2, -EBADMSG, false },
	{ "tag 0", { 0x00, 0x01 }, 2, -EBADMSG, false },
	{ "key cut", { 0x88 }, 1, -EBADMSG, false },
	{ "key 6 bytes", { 0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01 }, 7, -EBADMSG, false },
	{ "field 1 in a 5-byte key", { 0x88, 0x80, 0x80, 0x80, 0x00, 0x07 }, 6, 0, true },
	{ "field 2^29-1", { 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01 }, 6, 0, true },
	/* protobuf-c takes these as unknown fields; the spec has no such field numbers */
	{ "field 0 in a 2-byte key", { 0x80, 0x00, 0x01 }, 3, -EBADMSG, true },
	{ "field 2^29", { 0x80, 0x80, 0x80, 0x80, 0x10, 0x01 }, 6, -EBADMSG, true },
	{ "field 2^32-1", { 0xf8, 0xff, 0xff, 0xff, 0x7f, 0x01 }, 6, -EBADMSG, true },
};

static void
test_edge_cases(void **state)
{
	struct wg_envelope e;
	Wg__Envelope *pe;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];

		print_message("%s\n", v->name);
		pe = wg__envelope__unpack(NULL, v->n, v->b);
		assert_int_equal(pe != NULL, v->pbc_accepts);
		if (pe != NULL)
			wg__envelope__free_unpacked(pe, NULL);
		assert_int_equal(wg_envelope_decode(&e, v->b, v->n), v->ours);
		if (v->ours == 0 || v->pbc_accepts == (v->ours == 0))
			check_against_pbc(v->b, v->n, v->ours);
	}
	/* last occurrence wins, for the payload too */
	assert_int_equal(wg_envelope_decode(&e, vecs[15].b, vecs[15].n), 0);
	assert_int_equal(e.payload_len, 2);
	assert_int_equal(e.payload[0], 0xbb);
	assert_int_equal(wg_envelope_decode(&e, vecs[16].b, vecs[16].n), 0);
	assert_int_equal(e.seq, 2);
	/* 10-byte varint: the low 32 bits */
	assert_int_equal(wg_envelope_decode(&e, vecs[2].b, vecs[2].n), 0);
	assert_int_equal(e.type, UINT32_MAX);
	assert_int_equal(wg_envelope_decode(&e, vecs[3].b, vecs[3].n), 0);
	assert_int_equal(e.type, 1);
	/* a failed decode leaves the view alone */
	memset(&e, 0x77, sizeof(e));
	assert_int_equal(wg_envelope_decode(&e, vecs[5].b, vecs[5].n), -EBADMSG);
	assert_int_equal(e.type, 0x77777777);
}

/* Random valid Envelopes with unknown fields mixed in, then mutated. */
static void
test_random_against_pbc(void **state)
{
	uint8_t buf[256];
	struct wg_envelope e;
	Wg__Envelope *pe;
	size_t n, i;
	int k, ours, diverged = 0, accepted = 0;

	(void)state;
	rng = 99;
	for (k = 0; k < 300000; k++) {
		n = 0;
		while (n < 40 && rnd() % 6 != 0) {
			uint32_t field = rnd() % 8 == 0 ? (uint32_t)rnd() : (uint32_t)(1 + rnd() % 7);
			uint32_t wt = rnd() % 5 == 0 ? (uint32_t)(rnd() % 8) :
				      field == 5 ? 2 : field <= 4 ? 0 : (uint32_t)(rnd() % 3);
			uint64_t key = (uint64_t)field << 3 | wt;

			do {
				buf[n++] = (uint8_t)(key | (key >= 0x80 ? 0x80 : 0));
				key >>= 7;
			} while (key != 0 && n < sizeof(buf));
			if (n + 20 > sizeof(buf))
				break;
			if (wt == 0) {
				uint32_t v = rnd_u32();

				do {
					buf[n++] = (uint8_t)(v | (v >= 0x80 ? 0x80 : 0));
					v >>= 7;
				} while (v != 0);
			} else if (wt == 2) {
				uint32_t l = (uint32_t)(rnd() % 12);

				buf[n++] = (uint8_t)l;
				for (i = 0; i < l; i++)
					buf[n++] = (uint8_t)rnd();
			} else {
				for (i = 0; i < (wt == 1 ? 8u : 4u); i++)
					buf[n++] = (uint8_t)rnd();
			}
		}
		/* mutate: flip bytes, cut, or leave alone */
		if (n > 0 && rnd() % 2) {
			for (i = 0; i < 1 + rnd() % 3; i++)
				buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
		}
		if (n > 0 && rnd() % 4 == 0)
			n = rnd() % n;
		pe = wg__envelope__unpack(NULL, n, buf);
		ours = wg_envelope_decode(&e, buf, n);
		if (pe != NULL && ours != 0) {
			/* the one allowed difference */
			assert_true(bad_field_number(buf, n));
			diverged++;
		} else {
			check_against_pbc(buf, n, 1);
			accepted += ours == 0;
		}
		if (pe != NULL)
			wg__envelope__free_unpacked(pe, NULL);
	}
	/* the generator reaches both outcomes and the divergence */
	assert_true(accepted > 50000);
	assert_true(300000 - accepted - diverged > 50000);
	assert_true(diverged > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_matches_pbc),
		cmocka_unit_test(test_encode_space),
		cmocka_unit_test(test_encode_in_place),
		cmocka_unit_test(test_edge_cases),
		cmocka_unit_test(test_random_against_pbc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
