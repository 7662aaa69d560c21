/* SPDX-License-Identifier: BSD-3-Clause
 * Framed-TCP decoder from the wire: the same messages (lengths and bytes)
 * whether the stream comes whole or cut pseudo-randomly, nothing over the
 * limit, nothing after an error, every lent buffer back, and each message
 * re-encoded decodes to itself.
 *
 * Input: byte 0 = limit choice, byte 1 = chunking seed, rest = stream.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/framed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EV 2048

static int bufs_out;

static void *
f_get(void *arg, uint32_t size)
{
	(void)arg;
	bufs_out++;
	return malloc(size ? size : 1);
}

static void
f_put(void *arg, void *buf)
{
	(void)arg;
	bufs_out--;
	free(buf);
}

static struct wg_ws_env env = { f_get, f_put, NULL, NULL, { 0 } };

static uint64_t
fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int
run(uint32_t max, const uint8_t *s, size_t len, unsigned int seed, uint64_t *rec)
{
	struct wg_framed f;
	size_t pos = 0;
	uint32_t r = seed;
	int n = 0;
	bool dead = false;

	if (wg_framed_init(&f, max, &env) != 0)
		abort();
	while (pos < len) {
		size_t clen = len - pos, off = 0;
		uint8_t *chunk;

		if (seed != 0) {
			r = r * 1103515245u + 12345u;
			clen = 1 + (r >> 16) % (seed % 32 + 1);
			if (clen > len - pos)
				clen = len - pos;
		}
		chunk = malloc(clen);
		if (chunk == NULL)
			abort();
		memcpy(chunk, s + pos, clen);
		while (off < clen) {
			struct wg_ws_event ev;
			size_t used;
			int rc = wg_framed_recv(&f, chunk + off, clen - off, &ev, &used);

			if (rc < 0 || used > clen - off)
				abort();
			off += used;
			if (rc == WG_WS_EV_NONE)
				continue;
			if (dead || n >= MAX_EV)
				abort();
			if (rc == WG_WS_EV_ERROR) {
				if (ev.code != WG_WS_CLOSE_TOO_BIG)
					abort();
				dead = true;
				rec[n++] = ~0ull;
				continue;
			}
			if (rc != WG_WS_EV_MESSAGE || ev.len > max)
				abort();
			{
				uint8_t *enc = malloc(ev.len + 4);
				struct wg_framed g;
				struct wg_ws_event e2;
				size_t u2;

				if (enc == NULL ||
				    wg_framed_build(ev.data, ev.len, max, enc, ev.len + 4) !=
				    (int)ev.len + 4 || wg_framed_init(&g, max, &env) != 0 ||
				    wg_framed_recv(&g, enc, ev.len + 4, &e2, &u2) != WG_WS_EV_MESSAGE ||
				    u2 != ev.len + 4 || e2.len != ev.len || e2.buf != NULL ||
				    memcmp(e2.data, ev.data, ev.len) != 0)
					abort();
				free(enc);
			}
			rec[n++] = fnv(ev.data, ev.len) ^ ((uint64_t)ev.len << 40);
			if (ev.buf != NULL)
				f_put(NULL, ev.buf);
		}
		free(chunk);
		pos += clen;
	}
	wg_framed_release(&f);
	if (bufs_out != 0)
		abort();
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t a[MAX_EV], b[MAX_EV];
	static const uint32_t limits[4] = { 64 * 1024, 100, 3, 1 };
	uint32_t max;
	int na, nb;

	if (size < 2)
		return 0;
	max = limits[data[0] & 3];
	na = run(max, data + 2, size - 2, 0, a);
	nb = run(max, data + 2, size - 2, data[1] | 1u, b);
	if (na != nb || memcmp(a, b, (size_t)na * sizeof(a[0])) != 0)
		abort();
	return 0;
}
