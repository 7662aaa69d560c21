/* SPDX-License-Identifier: BSD-3-Clause
 * Framed TCP (framed.c): encoder bytes, the decoder on a stream of
 * messages of many sizes (zero included) cut at every point, limits,
 * buffer sizes and ownership, back-pressure.
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

#include "framed.h"

#include "ws_test_env.h"

static struct wg_ws_env env = { t_get, t_put, NULL, NULL, { 0 } };

static int
setup(void **state)
{
	(void)state;
	memset(&env.stats, 0, sizeof(env.stats));
	bufs_out = 0;
	pool_dry = false;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(bufs_out, 0);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

struct msglog {
	int n;
	uint32_t len[64];
	uint8_t *data[64];
	int errors;
	uint16_t code;
};

static void
log_free(struct msglog *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->data[i]);
	memset(l, 0, sizeof(*l));
}

static void
feed_cuts(struct wg_framed *f, const uint8_t *in, size_t len, const size_t *cuts, int ncuts,
	  struct msglog *l)
{
	size_t start = 0;

	for (int c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : len, off = 0, clen = end - start;
		uint8_t *chunk = malloc(clen ? clen : 1);

		assert_non_null(chunk);
		memcpy(chunk, in + start, clen);
		while (off < clen) {
			struct wg_ws_event ev;
			size_t used;
			int rc = wg_framed_recv(f, chunk + off, clen - off, &ev, &used);

			assert_true(rc >= 0);
			assert_true(used <= clen - off);
			off += used;
			if (rc == WG_WS_EV_NONE) {
				assert_int_equal(off, clen);
			} else if (rc == WG_WS_EV_MESSAGE) {
				assert_true(l->n < 64);
				assert_int_equal(ev.opcode, WG_WS_OP_BINARY);
				l->len[l->n] = ev.len;
				l->data[l->n] = malloc(ev.len ? ev.len : 1);
				assert_non_null(l->data[l->n]);
				if (ev.len)
					memcpy(l->data[l->n], ev.data, ev.len);
				if (ev.buf != NULL)
					t_put(NULL, ev.buf);
				l->n++;
			} else {
				assert_int_equal(rc, WG_WS_EV_ERROR);
				l->errors++;
				l->code = ev.code;
			}
		}
		free(chunk);
		start = end;
	}
}

static const uint32_t sizes[] = { 0, 1, 3, 0, 4, 5, 255, 256, 0, 1000, 7 };

static size_t
make_stream(uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t p[1000];
		int w;

		for (uint32_t k = 0; k < sizes[i]; k++)
			p[k] = (uint8_t)(i * 40 + k);
		w = wg_framed_build(p, sizes[i], 4096, out + n, cap - n);
		assert_int_equal(w, (int)sizes[i] + 4);
		n += (size_t)w;
	}
	return n;
}

static void
check_stream(const struct msglog *l)
{
	assert_int_equal(l->errors, 0);
	assert_int_equal(l->n, sizeof(sizes) / sizeof(sizes[0]));
	for (int i = 0; i < l->n; i++) {
		assert_int_equal(l->len[i], sizes[i]);
		for (uint32_t k = 0; k < sizes[i]; k++)
			assert_int_equal(l->data[i][k], (uint8_t)(i * 40 + k));
	}
}

static void
test_encode(void **state)
{
	uint8_t out[16];

	(void)state;
	assert_int_equal(wg_framed_build("abc", 3, 100, out, sizeof(out)), 7);
	assert_memory_equal(out, "\x00\x00\x00\x03" "abc", 7);
	assert_int_equal(wg_framed_build(NULL, 0, 100, out, sizeof(out)), 4);
	assert_memory_equal(out, "\x00\x00\x00\x00", 4);
	assert_int_equal(wg_framed_build("abc", 3, 100, out, 6), -ENOSPC);
	assert_int_equal(wg_framed_build("abc", 3, 2, out, sizeof(out)), -EMSGSIZE);
	wg_framed_header(out, 0x01020304);
	assert_memory_equal(out, "\x01\x02\x03\x04", 4);
}

static void
test_stream_every_split(void **state)
{
	static uint8_t s[2048];
	struct wg_framed f;
	struct msglog whole = { 0 }, l = { 0 };
	size_t n = make_stream(s, sizeof(s));

	(void)state;
	assert_int_equal(wg_framed_init(&f, 4096, &env), 0);
	feed_cuts(&f, s, n, NULL, 0, &whole);
	check_stream(&whole);
	/* every message was in the one chunk: no copy */
	assert_int_equal(env.stats.rx_in_place, sizeof(sizes) / sizeof(sizes[0]));
	assert_int_equal(env.stats.rx_msgs, sizeof(sizes) / sizeof(sizes[0]));
	for (size_t a = 0; a <= n; a++) {
		assert_int_equal(wg_framed_init(&f, 4096, &env), 0);
		feed_cuts(&f, s, n, &a, 1, &l);
		check_stream(&l);
		log_free(&l);
	}
	for (size_t a = 0; a <= 40; a++)
		for (size_t b = a; b <= n; b += 7) {
			size_t cuts[2] = { a, b };

			assert_int_equal(wg_framed_init(&f, 4096, &env), 0);
			feed_cuts(&f, s, n, cuts, 2, &l);
			check_stream(&l);
			log_free(&l);
		}
	{
		size_t *cuts = malloc(n * sizeof(*cuts));

		assert_non_null(cuts);
		for (size_t i = 0; i < n; i++)
			cuts[i] = i + 1;
		assert_int_equal(wg_framed_init(&f, 4096, &env), 0);
		feed_cuts(&f, s, n, cuts, (int)n, &l);
		check_stream(&l);
		log_free(&l);
		free(cuts);
	}
	log_free(&whole);
}

static void
test_limits(void **state)
{
	struct wg_framed f;
	struct msglog l = { 0 };
	uint8_t s[64];
	struct wg_ws_event ev;
	size_t used;

	(void)state;
	assert_int_equal(wg_framed_init(&f, 0, &env), -EINVAL);
	assert_int_equal(wg_framed_init(&f, 10, NULL), -EINVAL);
	/* exactly the limit */
	assert_int_equal(wg_framed_init(&f, 10, &env), 0);
	memcpy(s, "\x00\x00\x00\x0a" "0123456789", 14);
	feed_cuts(&f, s, 14, NULL, 0, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.len[0], 10);
	log_free(&l);
	/* one over: refused on the prefix, the rest ignored */
	memcpy(s, "\x00\x00\x00\x0b" "0123456789a", 15);
	assert_int_equal(wg_framed_recv(&f, s, 4, &ev, &used), WG_WS_EV_ERROR);
	assert_int_equal(ev.code, 1009);
	assert_int_equal(used, 4);
	assert_int_equal(wg_framed_recv(&f, s + 4, 11, &ev, &used), WG_WS_EV_NONE);
	assert_int_equal(used, 11);
	/* a huge prefix, whatever the bytes */
	assert_int_equal(wg_framed_init(&f, 1u << 20, &env), 0);
	memcpy(s, "\xff\xff\xff\xff", 4);
	assert_int_equal(wg_framed_recv(&f, s, 4, &ev, &used), WG_WS_EV_ERROR);
	assert_int_equal(env.stats.err_too_big, 2);
}

static void
test_buffers(void **state)
{
	struct wg_framed f;
	struct wg_ws_event ev;
	uint8_t s[600];
	size_t used;

	(void)state;
	assert_int_equal(wg_framed_init(&f, 1000, &env), 0);
	for (int i = 0; i < 500; i++)
		s[4 + i] = (uint8_t)i;
	wg_framed_header(s, 500);
	/* split: one buffer of exactly the message's size */
	assert_int_equal(wg_framed_recv(&f, s, 100, &ev, &used), WG_WS_EV_NONE);
	assert_int_equal(last_get_size, 500);
	assert_int_equal(bufs_out, 1);
	assert_int_equal(wg_framed_recv(&f, s + 100, 404, &ev, &used), WG_WS_EV_MESSAGE);
	assert_int_equal(used, 404);
	assert_non_null(ev.buf);
	assert_int_equal(ev.len, 500);
	for (int i = 0; i < 500; i++)
		assert_int_equal(ev.data[i], (uint8_t)i);
	t_put(NULL, ev.buf);
	/* dry pool: -ENOBUFS, nothing of the payload consumed, then on */
	pool_dry = true;
	assert_int_equal(wg_framed_recv(&f, s, 100, &ev, &used), -ENOBUFS);
	assert_int_equal(used, 4);
	assert_int_equal(env.stats.err_nobufs, 1);
	pool_dry = false;
	assert_int_equal(wg_framed_recv(&f, s + 4, 96, &ev, &used), WG_WS_EV_NONE);
	assert_int_equal(wg_framed_recv(&f, s + 100, 404, &ev, &used), WG_WS_EV_MESSAGE);
	t_put(NULL, ev.buf);
	/* release mid-message */
	assert_int_equal(wg_framed_recv(&f, s, 50, &ev, &used), WG_WS_EV_NONE);
	assert_int_equal(bufs_out, 1);
	wg_framed_release(&f);
	assert_int_equal(bufs_out, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_encode),
		T(test_stream_every_split),
		T(test_limits),
		T(test_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
