/* SPDX-License-Identifier: BSD-3-Clause
 * WebSocket frame parser from the wire. Properties, not just "no crash":
 *  - the events do not depend on how the stream is cut: the input is fed
 *    whole, then in pseudo-random chunks (1 byte and up), and both runs
 *    must report the same sequence of events with the same bytes;
 *  - messages respect max_message, text messages are valid UTF-8, close
 *    codes are sendable (or 1005), nothing follows an ERROR or CLOSE;
 *  - every lent buffer comes back;
 *  - each message, rebuilt by a builder of the other role and parsed
 *    again, comes out the same.
 *
 * Input: byte 0 = flags (bit 0 client role, bits 1-2 limit choice), byte 1
 * = chunking seed, the rest is the stream. Every chunk is an exact-size
 * heap copy so ASan sees any read past its end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EV 512

struct ev_rec {
	uint8_t type, opcode;
	uint16_t code;
	uint32_t len;
	uint64_t hash;
};

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

static uint32_t
f_rng(void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1664525u + 1013904223u;
	return *s;
}

static uint32_t rng_state = 1;
static struct wg_ws_env env = { f_get, f_put, f_rng, &rng_state, { 0 } };

static uint64_t
fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* rebuild a message with the other role's builder, parse it back */
static void
round_trip(const struct wg_ws_conf *conf, enum wg_ws_role role, const struct wg_ws_event *ev)
{
	struct wg_ws tx, rx;
	struct wg_ws_event e2;
	struct wg_ws_conf one_frame = *conf;
	uint8_t *buf = malloc(ev->len + WG_WS_MAX_HDR);
	size_t used;
	int n;

	if (buf == NULL)
		abort();
	one_frame.max_frame = 0;   /* a reassembled message goes back as one frame */
	if (wg_ws_init(&tx, &one_frame, &env, role == WG_WS_SERVER ? WG_WS_CLIENT : WG_WS_SERVER) ||
	    wg_ws_init(&rx, &one_frame, &env, role))
		abort();
	n = wg_ws_build(&tx, true, ev->opcode, ev->data, ev->len, buf, ev->len + WG_WS_MAX_HDR);
	if (n < 0)
		abort();
	if (wg_ws_recv(&rx, buf, (size_t)n, &e2, &used) != WG_WS_EV_MESSAGE || used != (size_t)n ||
	    e2.len != ev->len || e2.opcode != ev->opcode || memcmp(e2.data, ev->data, ev->len))
		abort();
	if (e2.buf != NULL)
		abort();   /* one whole frame in one chunk: always in place */
	free(buf);
}

/* Run the stream in chunks given by seed (0 = whole); record events. */
static int
run(const struct wg_ws_conf *conf, enum wg_ws_role role, const uint8_t *s, size_t len,
    unsigned int seed, struct ev_rec *rec, bool check)
{
	struct wg_ws ws;
	size_t pos = 0;
	int n = 0;
	bool ended = false;
	uint32_t r = seed;

	if (wg_ws_init(&ws, conf, &env, role) != 0)
		abort();
	while (pos < len) {
		size_t clen = len - pos, off = 0;
		uint8_t *chunk;

		if (seed != 0) {
			r = r * 1103515245u + 12345u;
			clen = 1 + (r >> 16) % (seed % 64 + 1);
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
			int rc = wg_ws_recv(&ws, chunk + off, clen - off, &ev, &used);

			if (rc < 0 || used > clen - off || rc != ev.type)
				abort();
			off += used;
			if (rc == WG_WS_EV_NONE) {
				if (off != clen)
					abort();
				continue;
			}
			if (ended || n >= MAX_EV)
				abort();
			switch (rc) {
			case WG_WS_EV_MESSAGE:
				if (ev.len > conf->max_message ||
				    (ev.opcode != WG_WS_OP_TEXT && ev.opcode != WG_WS_OP_BINARY))
					abort();
				if (ev.opcode == WG_WS_OP_TEXT && !wg_utf8_valid(ev.data, ev.len))
					abort();
				if (check)
					round_trip(conf, role, &ev);
				break;
			case WG_WS_EV_PING:
			case WG_WS_EV_PONG:
				if (ev.len > WG_WS_MAX_CTL)
					abort();
				break;
			case WG_WS_EV_CLOSE:
				if (ev.code != WG_WS_CLOSE_NO_STATUS && !wg_ws_close_code_valid(ev.code))
					abort();
				if (!wg_utf8_valid(ev.data, ev.len))
					abort();
				ended = true;
				break;
			case WG_WS_EV_ERROR:
				if (ev.code != 1002 && ev.code != 1007 && ev.code != 1009)
					abort();
				ended = true;
				break;
			default:
				abort();
			}
			rec[n].type = (uint8_t)rc;
			rec[n].opcode = ev.opcode;
			rec[n].code = ev.code;
			rec[n].len = ev.len;
			rec[n].hash = fnv(ev.data, ev.len);
			n++;
			/* replies are well-formed and respect the state */
			{
				uint8_t out[WG_WS_MAX_HDR + WG_WS_MAX_CTL];
				int w = wg_ws_reply(&ws, &ev, out, sizeof(out));

				if (w < 0)
					abort();
				if (rc == WG_WS_EV_ERROR && (w < 4 || ws.state != WG_WS_CLOSE_SENT))
					abort();
			}
			if (ev.buf != NULL)
				f_put(NULL, ev.buf);
		}
		free(chunk);
		pos += clen;
	}
	wg_ws_release(&ws);
	if (bufs_out != 0)
		abort();
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_rec a[MAX_EV], b[MAX_EV];
	static const uint32_t limits[4] = { 64 * 1024, 1000, 130, 1 };
	struct wg_ws_conf conf;
	enum wg_ws_role role;
	int na, nb;

	if (size < 2)
		return 0;
	wg_ws_conf_defaults(&conf);
	role = data[0] & 1 ? WG_WS_CLIENT : WG_WS_SERVER;
	conf.max_message = limits[(data[0] >> 1) & 3];
	if (data[0] & 8)
		conf.max_frame = conf.max_message / 2 + 1;
	na = run(&conf, role, data + 2, size - 2, 0, a, true);
	nb = run(&conf, role, data + 2, size - 2, data[1] | 1u, b, false);
	if (na != nb)
		abort();
	for (int i = 0; i < na; i++)
		if (a[i].type != b[i].type || a[i].opcode != b[i].opcode || a[i].code != b[i].code ||
		    a[i].len != b[i].len || a[i].hash != b[i].hash)
			abort();
	return 0;
}
