/* SPDX-License-Identifier: BSD-3-Clause
 * Ring message header: layout, validation of untrusted buffers, and the
 * protobuf payloads of the system messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msgring.h"
#include "registry.h"
#include "wg_internal.pb-c.h"

static void
test_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct wg_msg_hdr), 32);
	assert_int_equal(offsetof(struct wg_msg_hdr, session_id), 0);
	assert_int_equal(offsetof(struct wg_msg_hdr, tsc), 24);
	/* message types: system range below client range */
	assert_true(WG_MSG_BYE <= WG_MSG_SYS_LAST);
	assert_true(WG_MSG_SYS_LAST < WG_MSG_CLIENT_FIRST);
}

static void
test_fill_and_check(void **state)
{
	uint8_t buf[64];
	struct wg_msg_hdr h;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	wg_msg_hdr_fill((struct wg_msg_hdr *)buf, WG_MSG_PING, 0x1122334455667788ull, 16,
			WG_MSG_F_REPLY, 7, 42);
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.session_id, 0x1122334455667788ull);
	assert_int_equal(h.msg_type, WG_MSG_PING);
	assert_int_equal(h.len, 16);
	assert_int_equal(h.flags, WG_MSG_F_REPLY);
	assert_int_equal(h.src, 7);
	assert_int_equal(h.seq, 42);
	assert_int_equal(wg_msg_check(buf, 32 + 16), 0);
	/* the payload length must match the bytes present exactly */
	assert_int_equal(wg_msg_check(buf, 32 + 15), -EBADMSG);
	assert_int_equal(wg_msg_check(buf, 32 + 17), -EBADMSG);
}

static void
test_check_rejects(void **state)
{
	uint8_t buf[40] = {0};
	struct wg_msg_hdr *h = (struct wg_msg_hdr *)buf;
	size_t len;

	(void)state;
	assert_int_equal(wg_msg_check(NULL, 32), -EBADMSG);
	for (len = 0; len < sizeof(struct wg_msg_hdr); len++)
		assert_int_equal(wg_msg_check(buf, len), -EBADMSG);

	wg_msg_hdr_fill(h, WG_MSG_HELLO, 0, 8, 0, 1, 1);
	assert_int_equal(wg_msg_check(buf, 40), 0);
	h->flags = 0x0100;   /* unknown flag */
	assert_int_equal(wg_msg_check(buf, 40), -EBADMSG);
	h->flags = 0;
	h->msg_type = 0;     /* type 0 is never valid */
	assert_int_equal(wg_msg_check(buf, 40), -EBADMSG);
	h->msg_type = WG_MSG_HELLO;
	h->len = UINT32_MAX; /* would overflow a naive len + 32 */
	assert_int_equal(wg_msg_check(buf, 40), -EBADMSG);
}

/* Multicast: payload, padding to 8 bytes, then one or more u64 session ids
 * up to the end - the length check moves to the list. */
static void
test_check_multicast(void **state)
{
	uint8_t buf[32 + 5 + 3 + 3 * 8] = {0};
	struct wg_msg_hdr *h = (struct wg_msg_hdr *)buf;
	uint32_t plen;

	(void)state;
	wg_msg_hdr_fill(h, 0x303, 0, 5, WG_MSG_F_MULTICAST, 1, 1);
	assert_int_equal(wg_msg_check(buf, sizeof(buf)), 0);
	assert_int_equal(wg_msg_check(buf, 32 + 8 + 8), 0);          /* one id */
	assert_int_equal(wg_msg_check(buf, 32 + 8), -EBADMSG);       /* no id */
	assert_int_equal(wg_msg_check(buf, sizeof(buf) - 1), -EBADMSG); /* part of an id */
	for (plen = 0; plen <= 8; plen++) {
		h->len = plen;
		/* the list starts at the next multiple of 8 after the payload */
		assert_int_equal(wg_msg_check(buf, ((32 + plen + 7) & ~7u) + 8), 0);
	}
	h->len = 3 * 8 + 8 + 1;  /* payload reaching into the list */
	assert_int_equal(wg_msg_check(buf, sizeof(buf)), -EBADMSG);
	h->len = UINT32_MAX;
	assert_int_equal(wg_msg_check(buf, sizeof(buf)), -EBADMSG);
	/* without the flag the lengths must match exactly */
	h->len = 5;
	h->flags = 0;
	assert_int_equal(wg_msg_check(buf, sizeof(buf)), -EBADMSG);
}

static void
test_hello_roundtrip(void **state)
{
	Wg__InstanceHello in = WG__INSTANCE_HELLO__INIT, *out;
	uint32_t types[] = { 0x100, 0x101 };
	uint8_t buf[128];
	size_t n;

	(void)state;
	in.kind = WG__INSTANCE_KIND__INSTANCE_KIND_LOGIC;
	in.index = 3;
	in.pid = 4242;
	in.generation = 9;
	in.version = (char *)"1.2.3";
	in.n_msg_types = 2;
	in.msg_types = types;
	n = wg__instance_hello__get_packed_size(&in);
	assert_true(n < sizeof(buf));
	assert_int_equal(wg__instance_hello__pack(&in, buf), n);
	out = wg__instance_hello__unpack(NULL, n, buf);
	assert_non_null(out);
	assert_int_equal(out->kind, WG_KIND_LOGIC);
	assert_int_equal(out->index, 3);
	assert_int_equal(out->pid, 4242);
	assert_int_equal(out->generation, 9);
	assert_string_equal(out->version, "1.2.3");
	assert_int_equal(out->n_msg_types, 2);
	assert_int_equal(out->msg_types[1], 0x101);
	wg__instance_hello__free_unpacked(out, NULL);

	/* truncated payloads are refused, not half-read */
	for (size_t cut = 1; cut < n; cut++) {
		out = wg__instance_hello__unpack(NULL, cut, buf);
		if (out != NULL) {
			/* a prefix may end on a field boundary: it must then
			 * differ from the original in some field */
			assert_true(out->n_msg_types < 2 || out->version == NULL ||
				    strcmp(out->version, "1.2.3") != 0);
			wg__instance_hello__free_unpacked(out, NULL);
		}
	}
}

static void
test_ring_names(void **state)
{
	char a[32], b[32];

	(void)state;
	wg_ring_name(a, sizeof(a), false, 3, 1);
	wg_ring_name(b, sizeof(b), true, 3, 1);
	assert_string_equal(a, "wg_dp_i3_1");
	assert_string_equal(b, "wg_i3_dp_1");
	/* longest names still fit DPDK's ring name limit */
	assert_true(wg_ring_name(a, sizeof(a), false, WG_REG_MAX_SLOTS - 1,
				 WG_REG_MAX_WORKERS - 1) < (int)RTE_RING_NAMESIZE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_fill_and_check),
		cmocka_unit_test(test_check_rejects),
		cmocka_unit_test(test_check_multicast),
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_ring_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
