/* SPDX-License-Identifier: BSD-3-Clause
 * WebSocket: the handshake parser and response (every refusal and its
 * status, limits, splits at every byte, pipelined frames), the client side
 * of the handshake, the frame parser in both roles (RFC 6455's examples
 * byte for byte, every close code the RFC makes us send on a bad frame,
 * every split point of multi-frame streams, reassembly and buffer
 * ownership, back-pressure) and the builders.
 *
 * Buffers lent by the test environment are malloc'd at exactly the size
 * asked for, so writing past what the parser asked for is an ASan report,
 * and every test ends with all of them given back.
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

#include "ws.h"

/* ------------------------------------------------------------ env */

#include "ws_test_env.h"

static uint8_t rng_bytes[4] = { 0x37, 0xfa, 0x21, 0x3d };   /* RFC 6455 5.7's mask */

static uint32_t
t_rng(void *arg)
{
	uint32_t r;

	(void)arg;
	memcpy(&r, rng_bytes, 4);
	return r;
}

static struct wg_ws_env env = { t_get, t_put, t_rng, NULL, { 0 } };
static struct wg_ws_conf conf;

static int
setup(void **state)
{
	(void)state;
	wg_ws_conf_defaults(&conf);
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

static void
assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		for (size_t i = 0; i < got_len; i++)
			print_error("%02x%s", got[i], i + 1 < got_len ? " " : "\n");
		fail_msg("got %zu bytes, want %zu", got_len, want_len);
	}
}

#define ASSERT_BYTES(got, n, ...) do { \
	static const uint8_t w_[] = { __VA_ARGS__ }; \
	assert_bytes((got), (n), w_, sizeof(w_)); \
} while (0)

/* ======================================================= handshake */

static const char rfc_request[] =
	"GET /chat HTTP/1.1\r\n"
	"Host: server.example.com\r\n"
	"Upgrade: websocket\r\n"
	"Connection: Upgrade\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	"Origin: http://example.com\r\n"
	"Sec-WebSocket-Protocol: chat, superchat\r\n"
	"Sec-WebSocket-Version: 13\r\n"
	"\r\n";

static void
conf_chat(void)
{
	strcpy(conf.path, "/chat");
	strcpy(conf.protocols[0], "chat");
	conf.n_protocols = 1;
}

/* feed in one exact-size heap chunk; returns rc, *used set */
static int
hs_feed(struct wg_ws_http *h, const char *req, size_t len, size_t *used)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, req, len);
	rc = wg_ws_http_feed(h, copy, len, used);
	free(copy);
	return rc;
}

/* whole request; returns the status (101 when accepted) */
static uint16_t
hs_status(const char *req)
{
	static struct wg_ws_http h;
	size_t used;
	int rc;

	wg_ws_http_server_init(&h, &conf);
	rc = hs_feed(&h, req, strlen(req), &used);
	if (rc == 0) {
		assert_int_equal(h.status, 101);
		assert_int_equal(used, strlen(req));
	} else if (rc == -EAGAIN) {
		return 0;
	} else {
		assert_int_equal(rc, -EPROTO);
		assert_int_equal(h.phase, WG_WSH_FAILED);
		/* refused for good */
		assert_int_equal(wg_ws_http_feed(&h, (const uint8_t *)"x", 1, &used), -EPROTO);
	}
	return h.status;
}

static void
test_accept_key(void **state)
{
	char out[WG_WS_ACCEPT_LEN + 1];

	(void)state;
	assert_int_equal(wg_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void
test_hs_rfc_example(void **state)
{
	struct wg_ws_http h;
	char out[512];
	size_t used;
	int n;

	(void)state;
	conf_chat();
	wg_ws_http_server_init(&h, &conf);
	assert_int_equal(hs_feed(&h, rfc_request, strlen(rfc_request), &used), 0);
	assert_int_equal(used, strlen(rfc_request));
	assert_string_equal(wg_ws_http_protocol(&h), "chat");
	assert_string_equal(h.target, "/chat");
	n = wg_ws_http_response(&h, out, sizeof(out));
	assert_int_equal(n, (int)strlen(out));
	assert_string_equal(out,
		"HTTP/1.1 101 Switching Protocols\r\n"
		"Upgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
		"Sec-WebSocket-Protocol: chat\r\n"
		"\r\n");
	/* too small a buffer: -ENOSPC, never a cut response */
	for (int cap = 0; cap <= n; cap++)
		assert_int_equal(wg_ws_http_response(&h, out, (size_t)cap), -ENOSPC);
	/* already done: more bytes are not its business */
	assert_int_equal(hs_feed(&h, "xyz", 3, &used), 0);
	assert_int_equal(used, 0);
}

static void
test_hs_protocol_choice(void **state)
{
	struct wg_ws_http h;
	size_t used;

	(void)state;
	/* ours in preference order: superchat first although offered second */
	strcpy(conf.protocols[0], "v2.game");
	strcpy(conf.protocols[1], "superchat");
	strcpy(conf.protocols[2], "chat");
	conf.n_protocols = 3;
	strcpy(conf.path, "");
	wg_ws_http_server_init(&h, &conf);
	assert_int_equal(hs_feed(&h, rfc_request, strlen(rfc_request), &used), 0);
	assert_string_equal(wg_ws_http_protocol(&h), "superchat");

	/* nothing in common: accepted without the header ... */
	conf.n_protocols = 1;
	wg_ws_http_server_init(&h, &conf);
	assert_int_equal(hs_feed(&h, rfc_request, strlen(rfc_request), &used), 0);
	assert_null(wg_ws_http_protocol(&h));
	{
		char out[512];

		assert_true(wg_ws_http_response(&h, out, sizeof(out)) > 0);
		assert_null(strstr(out, "Sec-WebSocket-Protocol"));
	}
	/* ... unless one is required */
	conf.require_protocol = 1;
	assert_int_equal(hs_status(rfc_request), 400);
	/* subprotocols compare case-sensitively */
	strcpy(conf.protocols[0], "Chat");
	assert_int_equal(hs_status(rfc_request), 400);
}

/* The request split in two at every byte, with the client's first frame
 * pipelined behind it: same verdict, *used stops at the blank line. */
static void
test_hs_every_split(void **state)
{
	char buf[1024];
	size_t rl = strlen(rfc_request), total;
	static const char frame[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";

	(void)state;
	conf_chat();
	memcpy(buf, rfc_request, rl);
	memcpy(buf + rl, frame, sizeof(frame) - 1);
	total = rl + sizeof(frame) - 1;
	for (size_t cut = 0; cut <= total; cut++) {
		struct wg_ws_http h;
		size_t used, consumed;
		int rc;

		wg_ws_http_server_init(&h, &conf);
		rc = hs_feed(&h, buf, cut, &used);
		if (cut < rl) {
			assert_int_equal(rc, -EAGAIN);
			assert_int_equal(used, cut);
			rc = hs_feed(&h, buf + cut, total - cut, &used);
			consumed = cut + used;
		} else {
			consumed = used;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(consumed, rl);
		assert_string_equal(h.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	}
	/* byte by byte */
	{
		struct wg_ws_http h;
		size_t used, i;
		int rc = -EAGAIN;

		wg_ws_http_server_init(&h, &conf);
		for (i = 0; i < total && rc == -EAGAIN; i++) {
			rc = hs_feed(&h, buf + i, 1, &used);
			assert_int_equal(used, 1);
		}
		assert_int_equal(rc, 0);
		assert_int_equal(i, rl);
	}
}

/* a valid request with one line replaced, added or removed */
static const char *const base_lines[] = {
	"GET /chat HTTP/1.1",
	"Host: server.example.com",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
	"Sec-WebSocket-Version: 13",
};

/* build from base_lines: line `replace` becomes `with` (NULL: dropped),
 * then `extra` lines are appended */
static const char *
req_with(int replace, const char *with, const char *extra)
{
	static char buf[16384];
	size_t n = 0;

	for (int i = 0; i < 6; i++) {
		const char *l = i == replace ? with : base_lines[i];

		if (l != NULL)
			n += (size_t)sprintf(buf + n, "%s\r\n", l);
	}
	if (extra != NULL)
		n += (size_t)sprintf(buf + n, "%s", extra);
	sprintf(buf + n, "\r\n");
	return buf;
}

static void
test_hs_refusals(void **state)
{
	(void)state;
	conf_chat();
	conf.n_protocols = 0;
	assert_int_equal(hs_status(req_with(-1, NULL, NULL)), 101);
	/* request line */
	assert_int_equal(hs_status(req_with(0, "POST /chat HTTP/1.1", NULL)), 405);
	assert_int_equal(hs_status(req_with(0, "get /chat HTTP/1.1", NULL)), 405);
	assert_int_equal(hs_status(req_with(0, "GET /chat HTTP/1.0", NULL)), 505);
	assert_int_equal(hs_status(req_with(0, "GET /chat HTTP/2.0", NULL)), 505);
	assert_int_equal(hs_status(req_with(0, "GET /chat HTTP/1.2", NULL)), 101);
	assert_int_equal(hs_status(req_with(0, "GET /chat HTTP/1.1 x", NULL)), 400);
	assert_int_equal(hs_status(req_with(0, "GET /chat http/1.1", NULL)), 400);
	assert_int_equal(hs_status(req_with(0, "GET  /chat HTTP/1.1", NULL)), 400);
	assert_int_equal(hs_status(req_with(0, "GET /chat", NULL)), 400);
	assert_int_equal(hs_status(req_with(0, "GET", NULL)), 400);
	assert_int_equal(hs_status(req_with(0, "G(T /chat HTTP/1.1", NULL)), 400);
	assert_int_equal(hs_status(req_with(0, "GET * HTTP/1.1", NULL)), 400);
	assert_int_equal(hs_status(req_with(0, "GET /other HTTP/1.1", NULL)), 404);
	assert_int_equal(hs_status(req_with(0, "GET /chat/ HTTP/1.1", NULL)), 404);
	assert_int_equal(hs_status(req_with(0, "GET /chat?token=abc HTTP/1.1", NULL)), 101);
	assert_int_equal(hs_status(req_with(0, "GET http://h.example/chat?x HTTP/1.1", NULL)), 101);
	assert_int_equal(hs_status(req_with(0, "GET wss://h.example HTTP/1.1", NULL)), 404);
	/* Host: required, once */
	assert_int_equal(hs_status(req_with(1, NULL, NULL)), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, "Host: b\r\n")), 400);
	/* Upgrade */
	assert_int_equal(hs_status(req_with(2, NULL, NULL)), 426);
	assert_int_equal(hs_status(req_with(2, "Upgrade: h2c", NULL)), 426);
	assert_int_equal(hs_status(req_with(2, "Upgrade: h2c, WebSocket", NULL)), 101);
	assert_int_equal(hs_status(req_with(2, "Upgrade: websockets", NULL)), 426);
	/* Connection: a token list, may repeat */
	assert_int_equal(hs_status(req_with(3, NULL, NULL)), 400);
	assert_int_equal(hs_status(req_with(3, "Connection: keep-alive", NULL)), 400);
	assert_int_equal(hs_status(req_with(3, "Connection: keep-alive, upgrade", NULL)), 101);
	assert_int_equal(hs_status(req_with(3, "Connection: keep-alive",
					    "connection: ,UPGRADE,\r\n")), 101);
	assert_int_equal(hs_status(req_with(3, "Connection: upgraded", NULL)), 400);
	/* key */
	assert_int_equal(hs_status(req_with(4, NULL, NULL)), 400);
	assert_int_equal(hs_status(req_with(4, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=", NULL)), 400);
	assert_int_equal(hs_status(req_with(4, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ", NULL)), 400);
	assert_int_equal(hs_status(req_with(4, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==", NULL)), 400);
	assert_int_equal(hs_status(req_with(4, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==", NULL)), 400);
	assert_int_equal(hs_status(req_with(4, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==", NULL)), 101);
	assert_int_equal(hs_status(req_with(-1, NULL,
		"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n")), 400);
	/* version: 426 for any other or none */
	assert_int_equal(hs_status(req_with(5, "Sec-WebSocket-Version: 8", NULL)), 426);
	assert_int_equal(hs_status(req_with(5, "Sec-WebSocket-Version: 13, 8", NULL)), 426);
	assert_int_equal(hs_status(req_with(5, NULL, NULL)), 426);
	assert_int_equal(hs_status(req_with(-1, NULL, "Sec-WebSocket-Version: 13\r\n")), 400);
	/* a body cannot come before the frames */
	assert_int_equal(hs_status(req_with(-1, NULL, "Content-Length: 5\r\n")), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, "Content-Length: 0\r\n")), 101);
	assert_int_equal(hs_status(req_with(-1, NULL, "Transfer-Encoding: chunked\r\n")), 400);
	/* header syntax */
	assert_int_equal(hs_status(req_with(-1, NULL, "X-Folded: a\r\n b\r\n")), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, "X-Space : a\r\n")), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, "NoColon\r\n")), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, ": empty name\r\n")), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, "X-Ctl: a\x01z\r\n")), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, "X-Cr: a\rb\r\n")), 400);
	assert_int_equal(hs_status(req_with(-1, NULL, "X-Tab:\ta\tb \r\n")), 101);
	assert_int_equal(hs_status(req_with(-1, NULL, "X-Obs-Text: \xc3\xa9t\xe9\r\n")), 101);
	/* names are case-insensitive */
	assert_int_equal(hs_status("GET /chat HTTP/1.1\r\nHOST: a\r\nuPgRaDe: WEBSOCKET\r\n"
				   "CONNECTION: UPGRADE\r\nSEC-WEBSOCKET-KEY: "
				   "dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"),
			 101);
	/* bare LF line ends, blank lines before the request line */
	assert_int_equal(hs_status("\r\n\nGET /chat HTTP/1.1\nHost: a\nUpgrade: websocket\n"
				   "Connection: Upgrade\nSec-WebSocket-Key: "
				   "dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n"), 101);
	assert_int_equal(hs_status("\r\n\r\n\r\n\r\n\r\nGET /chat HTTP/1.1\r\n"), 400);
	/* incomplete: not refused, waiting */
	assert_int_equal(hs_status("GET /chat HTTP/1.1\r\nHost: a\r\n"), 0);
}

static void
test_hs_origin(void **state)
{
	(void)state;
	conf_chat();
	conf.n_protocols = 0;
	/* no list: anything */
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: https://evil.example\r\n")), 101);
	strcpy(conf.origins[0], "https://game.example");
	strcpy(conf.origins[1], "http://localhost:8080");
	conf.n_origins = 2;
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: https://game.example\r\n")), 101);
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: HTTPS://Game.Example\r\n")), 101);
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: http://localhost:8080\r\n")), 101);
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: https://evil.example\r\n")), 403);
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: https://game.example.evil\r\n")), 403);
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: http://localhost:8081\r\n")), 403);
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: null\r\n")), 403);
	assert_int_equal(hs_status(req_with(-1, NULL, "Origin: https://game.example\r\n"
						     "Origin: https://game.example\r\n")), 400);
	/* non-browser clients send none */
	assert_int_equal(hs_status(req_with(-1, NULL, NULL)), 101);
}

static void
test_hs_limits(void **state)
{
	struct wg_ws_http h;
	char big[9000];
	size_t used;

	(void)state;
	conf_chat();
	conf.n_protocols = 0;
	conf.http_max_headers = 8;
	/* 6 base lines + 2 = 8 headers fits, 9 does not */
	assert_int_equal(hs_status(req_with(-1, NULL, "A: 1\r\nB: 2\r\nC: 3\r\n")), 101);
	assert_int_equal(hs_status(req_with(-1, NULL, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n")), 431);
	conf.http_max_headers = 64;

	/* a header line at the limit passes, one byte more is 431 - and
	 * refused before its LF arrives */
	conf.http_max_header_line = 100;
	memset(big, 'a', sizeof(big));
	memcpy(big, "X-Big: ", 7);
	big[100] = '\0';
	{
		char extra[128];

		snprintf(extra, sizeof(extra), "%.101s\r\n", big);
		assert_int_equal(hs_status(req_with(-1, NULL, extra)), 101);
		big[100] = 'a';
		big[101] = '\0';
		snprintf(extra, sizeof(extra), "%.101s\r\n", big);
		assert_int_equal(hs_status(req_with(-1, NULL, extra)), 431);
	}
	wg_ws_http_server_init(&h, &conf);
	assert_int_equal(hs_feed(&h, "GET /chat HTTP/1.1\r\n", 20, &used), -EAGAIN);
	memset(big, 'b', sizeof(big));
	assert_int_equal(hs_feed(&h, big, 50, &used), -EAGAIN);
	assert_int_equal(hs_feed(&h, big, 52, &used), -EPROTO);
	assert_int_equal(h.status, 431);

	/* request line: 414, early too */
	conf.http_max_request_line = 64;
	wg_ws_http_server_init(&h, &conf);
	memcpy(big, "GET /", 5);
	assert_int_equal(hs_feed(&h, big, 66, &used), -EPROTO);
	assert_int_equal(h.status, 414);
	conf.http_max_request_line = 2048;

	/* the whole request */
	conf.http_max_request = 200;
	assert_int_equal(hs_status(req_with(-1, NULL, NULL)), 101);
	assert_int_equal(hs_status(req_with(-1, NULL, "X-Pad: 0123456789012345678901234567890123456789"
						       "0123456789\r\n")), 431);
	/* exactly at the limit: fine */
	{
		const char *r = req_with(-1, NULL, NULL);
		size_t n = strlen(r);

		conf.http_max_request = (uint32_t)n;
		assert_int_equal(hs_status(r), 101);
		conf.http_max_request = (uint32_t)n - 1;
		assert_int_equal(hs_status(r), 431);
	}
}

static void
test_hs_error_responses(void **state)
{
	struct wg_ws_http h;
	char out[512];
	size_t used;
	const char *r;

	(void)state;
	conf_chat();
	wg_ws_http_server_init(&h, &conf);
	assert_int_equal(wg_ws_http_response(&h, out, sizeof(out)), -EINVAL);   /* not done */

	r = req_with(5, "Sec-WebSocket-Version: 8", NULL);
	assert_int_equal(hs_feed(&h, r, strlen(r), &used), -EPROTO);
	assert_true(wg_ws_http_response(&h, out, sizeof(out)) > 0);
	assert_string_equal(out, "HTTP/1.1 426 Upgrade Required\r\n"
			    "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
			    "Connection: Upgrade, close\r\nContent-Length: 0\r\n\r\n");

	wg_ws_http_server_init(&h, &conf);
	r = req_with(0, "PUT /chat HTTP/1.1", NULL);
	assert_int_equal(hs_feed(&h, r, strlen(r), &used), -EPROTO);
	assert_true(wg_ws_http_response(&h, out, sizeof(out)) > 0);
	assert_string_equal(out, "HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n"
			    "Allow: GET\r\nContent-Length: 0\r\n\r\n");
	/* refused at the request line: nothing after it was read */
	assert_int_equal(used, strlen("PUT /chat HTTP/1.1\r\n"));

	wg_ws_http_server_init(&h, &conf);
	r = req_with(1, NULL, NULL);
	assert_int_equal(hs_feed(&h, r, strlen(r), &used), -EPROTO);
	assert_true(wg_ws_http_response(&h, out, sizeof(out)) > 0);
	assert_string_equal(out, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
			    "Content-Length: 0\r\n\r\n");
}

/* ---------------------------------------------------- client side */

static const uint8_t nonce[16] = {
	0x74, 0x68, 0x65, 0x20, 0x73, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x20, 0x6e, 0x6f, 0x6e, 0x63, 0x65,    /* "the sample nonce" */
};

static void
test_client_handshake(void **state)
{
	struct wg_ws_http cl, sv;
	char req[1024], resp[1024], buf[1100];
	size_t used;
	int n, m;

	(void)state;
	conf_chat();
	strcpy(conf.protocols[1], "superchat");
	conf.n_protocols = 2;
	n = wg_ws_http_client_request(&cl, &conf, "server.example.com", NULL,
				      "http://example.com", nonce, req, sizeof(req));
	assert_true(n > 0);
	assert_string_equal(req,
		"GET /chat HTTP/1.1\r\n"
		"Host: server.example.com\r\n"
		"Upgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\n"
		"Origin: http://example.com\r\n"
		"Sec-WebSocket-Protocol: chat, superchat\r\n"
		"\r\n");
	/* our server takes it; its answer, with a frame behind it, satisfies
	 * the client, which stops at the blank line */
	wg_ws_http_server_init(&sv, &conf);
	assert_int_equal(hs_feed(&sv, req, (size_t)n, &used), 0);
	m = wg_ws_http_response(&sv, resp, sizeof(resp));
	assert_true(m > 0);
	memcpy(buf, resp, (size_t)m);
	memcpy(buf + m, "\x81\x02hi", 4);
	assert_int_equal(hs_feed(&cl, buf, (size_t)m + 4, &used), 0);
	assert_int_equal(used, (size_t)m);
	assert_string_equal(wg_ws_http_protocol(&cl), "chat");

	/* every split of the response */
	for (int cut = 0; cut < m; cut++) {
		size_t u2;

		assert_true(wg_ws_http_client_request(&cl, &conf, "h", "/chat", NULL, nonce,
						      req, sizeof(req)) > 0);
		assert_int_equal(hs_feed(&cl, buf, (size_t)cut, &used), -EAGAIN);
		assert_int_equal(hs_feed(&cl, buf + cut, (size_t)(m - cut) + 4, &u2), 0);
		assert_int_equal(used + u2, (size_t)m);
	}
	/* header injection through the arguments is refused */
	assert_int_equal(wg_ws_http_client_request(&cl, &conf, "h\r\nX: y", NULL, NULL, nonce,
						   req, sizeof(req)), -EINVAL);
	assert_int_equal(wg_ws_http_client_request(&cl, &conf, "h", "/a b", NULL, nonce,
						   req, sizeof(req)), -EINVAL);
	assert_int_equal(wg_ws_http_client_request(&cl, &conf, "h", NULL, NULL, nonce,
						   req, 40), -ENOSPC);
}

/* client: status and header checks on the response */
static int
client_parse(const char *resp, uint16_t *status)
{
	struct wg_ws_http cl;
	char req[512];
	size_t used;
	int rc;

	assert_true(wg_ws_http_client_request(&cl, &conf, "h", "/chat", NULL, nonce,
					      req, sizeof(req)) > 0);
	rc = hs_feed(&cl, resp, strlen(resp), &used);
	*status = cl.status;
	return rc;
}

static void
test_client_refusals(void **state)
{
	uint16_t st;

	(void)state;
	conf_chat();
#define OKH "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
#define ACC "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	assert_int_equal(client_parse(OKH ACC "\r\n", &st), 0);
	assert_int_equal(st, 101);
	assert_int_equal(client_parse(OKH ACC "Sec-WebSocket-Protocol: chat\r\n\r\n", &st), 0);
	/* a protocol we did not offer, or two answers */
	assert_int_equal(client_parse(OKH ACC "Sec-WebSocket-Protocol: other\r\n\r\n", &st),
			 -EPROTO);
	assert_int_equal(client_parse(OKH ACC "Sec-WebSocket-Protocol: chat\r\n"
				      "Sec-WebSocket-Protocol: chat\r\n\r\n", &st), -EPROTO);
	/* extensions we never asked for */
	assert_int_equal(client_parse(OKH ACC "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
				      &st), -EPROTO);
	/* wrong, missing, doubled accept */
	assert_int_equal(client_parse(OKH "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
				      &st), -EPROTO);
	assert_int_equal(client_parse(OKH "\r\n", &st), -EPROTO);
	assert_int_equal(client_parse(OKH ACC ACC "\r\n", &st), -EPROTO);
	/* not an upgrade */
	assert_int_equal(client_parse("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
				      ACC "\r\n", &st), -EPROTO);
	assert_int_equal(client_parse("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n" ACC "\r\n", &st),
			 -EPROTO);
	/* refused by the server: its status, found on the first line */
	assert_int_equal(client_parse("HTTP/1.1 403 Forbidden\r\n", &st), -EPROTO);
	assert_int_equal(st, 403);
	assert_int_equal(client_parse("HTTP/1.1 426 Upgrade Required\r\n", &st), -EPROTO);
	assert_int_equal(st, 426);
	assert_int_equal(client_parse("HTTP/1.0 101 x\r\n", &st), -EPROTO);
	assert_int_equal(client_parse("HTTP/1.1 1O1 x\r\n", &st), -EPROTO);
	/* a bare status line without a reason is fine */
	assert_int_equal(client_parse("HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
				      ACC "\r\n", &st), 0);
#undef OKH
#undef ACC
}

/* ========================================================== frames */

#define MAX_EV 64

struct evlog {
	int n;
	struct {
		int type;
		int opcode;
		int code;
		size_t len;
		uint8_t *data;
		bool in_place;
	} ev[MAX_EV];
};

static void
evlog_free(struct evlog *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->ev[i].data);
	l->n = 0;
}

static void
record(struct evlog *l, const struct wg_ws_event *ev)
{
	assert_true(l->n < MAX_EV);
	l->ev[l->n].type = ev->type;
	l->ev[l->n].opcode = ev->opcode;
	l->ev[l->n].code = ev->code;
	l->ev[l->n].len = ev->len;
	l->ev[l->n].in_place = ev->type == WG_WS_EV_MESSAGE && ev->buf == NULL;
	l->ev[l->n].data = malloc(ev->len ? ev->len : 1);
	assert_non_null(l->ev[l->n].data);
	if (ev->len)
		memcpy(l->ev[l->n].data, ev->data, ev->len);
	if (ev->buf != NULL) {
		assert_ptr_equal(ev->buf, ev->data);
		t_put(NULL, ev->buf);
	}
	l->n++;
}

/* Feed the stream in chunks cut at cuts[0..ncuts), each chunk an exact
 * heap copy; every event recorded. */
static void
feed_cuts(struct wg_ws *ws, const uint8_t *in, size_t len, const size_t *cuts, int ncuts,
	  struct evlog *l)
{
	size_t start = 0;

	for (int c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : len, off = 0, clen = end - start;
		uint8_t *chunk = malloc(clen ? clen : 1);

		assert_non_null(chunk);
		memcpy(chunk, in + start, clen);
		while (off < clen) {
			struct wg_ws_event ev;
			size_t used = 12345;
			int rc = wg_ws_recv(ws, chunk + off, clen - off, &ev, &used);

			assert_true(rc >= 0);
			assert_true(used <= clen - off);
			assert_int_equal(rc, ev.type);
			off += used;
			if (rc == WG_WS_EV_NONE)
				assert_int_equal(off, clen);
			else
				record(l, &ev);
		}
		free(chunk);
		start = end;
	}
}

static void
feed(struct wg_ws *ws, const uint8_t *in, size_t len, struct evlog *l)
{
	feed_cuts(ws, in, len, NULL, 0, l);
}

static void
assert_logs_equal(const struct evlog *a, const struct evlog *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		assert_int_equal(a->ev[i].type, b->ev[i].type);
		assert_int_equal(a->ev[i].opcode, b->ev[i].opcode);
		assert_int_equal(a->ev[i].code, b->ev[i].code);
		assert_int_equal(a->ev[i].len, b->ev[i].len);
		assert_memory_equal(a->ev[i].data, b->ev[i].data, a->ev[i].len);
	}
}

/* A frame as a peer would write it, independent of our builder. rsv is
 * the three RSV bits (0..7), len_form forces a length encoding: 0 minimal,
 * 16 or 64. */
static size_t
mkframe_x(uint8_t *out, bool fin, unsigned int rsv, uint8_t op, const uint8_t *mask,
	  const void *payload, size_t len, int len_form)
{
	size_t n = 0;

	out[n++] = (uint8_t)((fin ? 0x80 : 0) | (rsv << 4) | op);
	if (len_form == 0 && len < 126) {
		out[n++] = (uint8_t)((mask ? 0x80 : 0) | len);
	} else if (len_form != 64 && len <= 0xffff) {
		out[n++] = (mask ? 0x80 : 0) | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = (mask ? 0x80 : 0) | 127;
		for (int i = 7; i >= 0; i--)
			out[n++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		memcpy(out + n, mask, 4);
		n += 4;
	}
	for (size_t i = 0; i < len; i++)
		out[n + i] = (uint8_t)(((const uint8_t *)payload)[i] ^ (mask ? mask[i & 3] : 0));
	return n + len;
}

static const uint8_t M[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };

/* client frame (masked) */
static size_t
cf(uint8_t *out, bool fin, uint8_t op, const void *p, size_t len)
{
	return mkframe_x(out, fin, 0, op, M, p, len, 0);
}

static void
init_role(struct wg_ws *ws, enum wg_ws_role role)
{
	assert_int_equal(wg_ws_init(ws, &conf, &env, role), 0);
}

static void
test_rfc_examples_server(void **state)
{
	static const uint8_t masked_hello[] = {
		0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	struct wg_ws ws;
	struct evlog l = { 0 };
	uint8_t out[64];
	int n;

	(void)state;
	init_role(&ws, WG_WS_SERVER);
	feed(&ws, masked_hello, sizeof(masked_hello), &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].type, WG_WS_EV_MESSAGE);
	assert_int_equal(l.ev[0].opcode, WG_WS_OP_TEXT);
	assert_int_equal(l.ev[0].len, 5);
	assert_memory_equal(l.ev[0].data, "Hello", 5);
	assert_true(l.ev[0].in_place);
	assert_int_equal(env.stats.rx_in_place, 1);
	assert_int_equal(env.stats.rx_msgs, 1);
	assert_int_equal(env.stats.rx_frames, 1);
	evlog_free(&l);

	/* the server's frames: unmasked, RFC 5.7 bytes */
	n = wg_ws_build(&ws, true, WG_WS_OP_TEXT, "Hello", 5, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)n, 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
	n = wg_ws_build(&ws, false, WG_WS_OP_TEXT, "Hel", 3, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)n, 0x01, 0x03, 0x48, 0x65, 0x6c);
	n = wg_ws_build(&ws, true, WG_WS_OP_CONT, "lo", 2, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)n, 0x80, 0x02, 0x6c, 0x6f);
	n = wg_ws_build(&ws, true, WG_WS_OP_PING, "Hello", 5, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)n, 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
	/* 256 bytes and 64 KiB binary headers */
	{
		uint8_t hdr[WG_WS_MAX_HDR], mask[4];

		n = wg_ws_frame_begin(&ws, true, WG_WS_OP_BINARY, 256, hdr, mask);
		ASSERT_BYTES(hdr, (size_t)n, 0x82, 0x7e, 0x01, 0x00);
		n = wg_ws_frame_begin(&ws, true, WG_WS_OP_BINARY, 65536, hdr, mask);
		ASSERT_BYTES(hdr, (size_t)n, 0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0);
		n = wg_ws_frame_begin(&ws, true, WG_WS_OP_BINARY, 65535, hdr, mask);
		ASSERT_BYTES(hdr, (size_t)n, 0x82, 0x7e, 0xff, 0xff);
		n = wg_ws_frame_begin(&ws, true, WG_WS_OP_BINARY, 125, hdr, mask);
		ASSERT_BYTES(hdr, (size_t)n, 0x82, 0x7d);
		n = wg_ws_frame_begin(&ws, true, WG_WS_OP_BINARY, 126, hdr, mask);
		ASSERT_BYTES(hdr, (size_t)n, 0x82, 0x7e, 0x00, 0x7e);
	}
	assert_int_equal(env.stats.tx_frames, 9);
}

static void
test_rfc_examples_client(void **state)
{
	static const uint8_t hello[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const uint8_t frag[] = { 0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f };
	static const uint8_t ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	struct wg_ws ws;
	struct evlog l = { 0 };
	struct wg_ws_event ev;
	uint8_t out[64], copy[sizeof(ping)];
	size_t used;
	int n;

	(void)state;
	init_role(&ws, WG_WS_CLIENT);
	feed(&ws, hello, sizeof(hello), &l);
	feed(&ws, frag, sizeof(frag), &l);
	assert_int_equal(l.n, 2);
	assert_memory_equal(l.ev[0].data, "Hello", 5);
	assert_int_equal(l.ev[1].type, WG_WS_EV_MESSAGE);
	assert_int_equal(l.ev[1].len, 5);
	assert_memory_equal(l.ev[1].data, "Hello", 5);
	assert_false(l.ev[1].in_place);
	evlog_free(&l);

	/* ping -> the RFC's masked pong, with the RFC's mask from our rng */
	memcpy(copy, ping, sizeof(ping));
	assert_int_equal(wg_ws_recv(&ws, copy, sizeof(copy), &ev, &used), WG_WS_EV_PING);
	assert_int_equal(used, sizeof(copy));
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.data, "Hello", 5);
	n = wg_ws_reply(&ws, &ev, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)n, 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
	/* and the masked Hello text */
	n = wg_ws_build(&ws, true, WG_WS_OP_TEXT, "Hello", 5, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)n, 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
	assert_int_equal(env.stats.rx_pings, 1);
}

/* Server: the pong for a masked ping, unmasked. */
static void
test_ping_pong_server(void **state)
{
	struct wg_ws ws;
	struct wg_ws_event ev;
	uint8_t in[64], out[256], big[125];
	size_t n, used;
	int m;

	(void)state;
	init_role(&ws, WG_WS_SERVER);
	n = cf(in, true, WG_WS_OP_PING, "Hello", 5);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_PING);
	m = wg_ws_reply(&ws, &ev, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)m, 0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
	/* empty ping, empty pong */
	n = cf(in, true, WG_WS_OP_PING, NULL, 0);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_PING);
	assert_int_equal(ev.len, 0);
	m = wg_ws_reply(&ws, &ev, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)m, 0x8a, 0x00);
	/* 125 bytes: the largest, split over chunks */
	for (int i = 0; i < 125; i++)
		big[i] = (uint8_t)(i * 7);
	{
		uint8_t frame[140];
		size_t fl = cf(frame, true, WG_WS_OP_PING, big, 125), cut[2] = { 3, 70 };
		struct evlog l = { 0 };

		feed_cuts(&ws, frame, fl, cut, 2, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.ev[0].type, WG_WS_EV_PING);
		assert_int_equal(l.ev[0].len, 125);
		assert_memory_equal(l.ev[0].data, big, 125);
		evlog_free(&l);
	}
	/* pongs are reported, and need no reply */
	n = cf(in, true, WG_WS_OP_PONG, "x", 1);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_PONG);
	assert_int_equal(wg_ws_reply(&ws, &ev, out, sizeof(out)), 0);
	assert_int_equal(env.stats.rx_pongs, 1);
	/* reply into too small a buffer */
	n = cf(in, true, WG_WS_OP_PING, "Hello", 5);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_PING);
	assert_int_equal(wg_ws_reply(&ws, &ev, out, 6), -ENOSPC);
}

/* one bad stream -> the error code, then silence */
static void
expect_error(enum wg_ws_role role, const uint8_t *in, size_t len, uint16_t code)
{
	struct wg_ws ws;
	struct evlog l = { 0 };
	uint8_t out[64];
	int n;

	init_role(&ws, role);
	feed(&ws, in, len, &l);
	assert_true(l.n >= 1);
	if (l.ev[l.n - 1].type != WG_WS_EV_ERROR || l.ev[l.n - 1].code != code)
		fail_msg("last event %d code %d, want ERROR %u", l.ev[l.n - 1].type,
			 l.ev[l.n - 1].code, code);
	for (int i = 0; i < l.n - 1; i++)
		assert_int_not_equal(l.ev[i].type, WG_WS_EV_ERROR);
	assert_int_equal(ws.state, WG_WS_FAILING);
	/* anything after it is swallowed */
	{
		uint8_t more[16];
		struct wg_ws_event ev;
		size_t used;
		size_t m = cf(more, true, WG_WS_OP_TEXT, "ok", 2);

		assert_int_equal(wg_ws_recv(&ws, more, m, &ev, &used), WG_WS_EV_NONE);
		assert_int_equal(used, m);
	}
	/* no data may go; the close with our code may, once */
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_TEXT, "x", 1, out, sizeof(out)), -EPIPE);
	{
		struct wg_ws_event ev = { .type = WG_WS_EV_ERROR, .code = code };

		n = wg_ws_reply(&ws, &ev, out, sizeof(out));
		assert_true(n >= 4);
		assert_int_equal(out[0], 0x88);
		if (role == WG_WS_CLIENT) {
			assert_int_equal(n, 8);
			assert_int_equal(out[1], 0x82);
			wg_ws_mask(out + 6, 2, out + 2, 0);
		}
		assert_int_equal((out[n - 2] << 8) | out[n - 1], code);
		assert_int_equal(ws.state, WG_WS_CLOSE_SENT);
		assert_int_equal(wg_ws_reply(&ws, &ev, out, sizeof(out)), 0);
	}
	assert_int_equal(wg_ws_build_close(&ws, 1000, NULL, 0, out, sizeof(out)), -EPIPE);
	evlog_free(&l);
}

static void
test_error_codes(void **state)
{
	uint8_t f[200];
	size_t n;

	(void)state;
	/* 5.1: unmasked client frame, masked server frame */
	n = mkframe_x(f, true, 0, WG_WS_OP_TEXT, NULL, "hi", 2, 0);
	expect_error(WG_WS_SERVER, f, n, 1002);
	n = mkframe_x(f, true, 0, WG_WS_OP_TEXT, M, "hi", 2, 0);
	expect_error(WG_WS_CLIENT, f, n, 1002);
	/* RSV bits, each */
	for (unsigned int rsv = 1; rsv < 8; rsv++) {
		n = mkframe_x(f, true, rsv, WG_WS_OP_TEXT, M, "hi", 2, 0);
		expect_error(WG_WS_SERVER, f, n, 1002);
		n = mkframe_x(f, true, rsv, WG_WS_OP_PING, M, "hi", 2, 0);
		expect_error(WG_WS_SERVER, f, n, 1002);
	}
	/* reserved opcodes */
	for (uint8_t op = 3; op <= 0xf; op++) {
		if (op >= 8 && op <= 0xa)
			continue;
		n = mkframe_x(f, true, 0, op, M, "hi", 2, 0);
		expect_error(WG_WS_SERVER, f, n, 1002);
	}
	/* control frames: <= 125 bytes (even in a 16-bit form), never fragmented */
	{
		static const uint8_t zeros[126];

		n = mkframe_x(f, true, 0, WG_WS_OP_PING, M, zeros, 126, 0);
	}
	expect_error(WG_WS_SERVER, f, n, 1002);
	n = mkframe_x(f, true, 0, WG_WS_OP_PING, M, "hi", 2, 16);
	expect_error(WG_WS_SERVER, f, n, 1002);
	n = mkframe_x(f, false, 0, WG_WS_OP_PING, M, "hi", 2, 0);
	expect_error(WG_WS_SERVER, f, n, 1002);
	n = mkframe_x(f, false, 0, WG_WS_OP_CLOSE, M, "\x03\xe8", 2, 0);
	expect_error(WG_WS_SERVER, f, n, 1002);
	/* fragment order */
	n = cf(f, true, WG_WS_OP_CONT, "lo", 2);
	expect_error(WG_WS_SERVER, f, n, 1002);
	n = cf(f, false, WG_WS_OP_TEXT, "Hel", 3);
	n += cf(f + n, true, WG_WS_OP_TEXT, "lo", 2);
	expect_error(WG_WS_SERVER, f, n, 1002);
	n = cf(f, false, WG_WS_OP_BINARY, "Hel", 3);
	n += cf(f + n, false, WG_WS_OP_BINARY, "lo", 2);
	expect_error(WG_WS_SERVER, f, n, 1002);
	/* 64-bit length with the top bit set */
	{
		static const uint8_t h[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 };

		expect_error(WG_WS_SERVER, h, sizeof(h), 1002);
	}
	/* non-minimal lengths are fine (5.2 does not ask receivers to check) */
	{
		struct wg_ws ws;
		struct evlog l = { 0 };

		init_role(&ws, WG_WS_SERVER);
		n = mkframe_x(f, true, 0, WG_WS_OP_TEXT, M, "hi", 2, 64);
		n += mkframe_x(f + n, true, 0, WG_WS_OP_BINARY, M, "yo", 2, 16);
		feed(&ws, f, n, &l);
		assert_int_equal(l.n, 2);
		assert_memory_equal(l.ev[0].data, "hi", 2);
		assert_memory_equal(l.ev[1].data, "yo", 2);
		evlog_free(&l);
	}
	/* text: invalid UTF-8, in one frame, across fragments, and a message
	 * that ends inside a character */
	n = cf(f, true, WG_WS_OP_TEXT, "a\xed\xa0\x80z", 5);
	expect_error(WG_WS_SERVER, f, n, 1007);
	n = cf(f, false, WG_WS_OP_TEXT, "a\xf4", 2);
	n += cf(f + n, true, WG_WS_OP_CONT, "\x90\x80\x80", 3);
	expect_error(WG_WS_SERVER, f, n, 1007);
	n = cf(f, false, WG_WS_OP_TEXT, "a\xe2\x82", 3);
	n += cf(f + n, true, WG_WS_OP_CONT, "", 0);
	expect_error(WG_WS_SERVER, f, n, 1007);
	n = cf(f, true, WG_WS_OP_TEXT, "\xe2\x82", 2);
	expect_error(WG_WS_SERVER, f, n, 1007);
	/* binary is not checked */
	{
		struct wg_ws ws;
		struct evlog l = { 0 };

		init_role(&ws, WG_WS_SERVER);
		n = cf(f, true, WG_WS_OP_BINARY, "\xff\xfe", 2);
		feed(&ws, f, n, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.ev[0].type, WG_WS_EV_MESSAGE);
		evlog_free(&l);
	}
	/* close bodies: one byte, codes that may not be sent, bad reason */
	n = cf(f, true, WG_WS_OP_CLOSE, "\x03", 1);
	expect_error(WG_WS_SERVER, f, n, 1002);
	{
		static const uint16_t bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 1100,
						2000, 2999, 5000, 65535 };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t body[2] = { (uint8_t)(bad[i] >> 8), (uint8_t)bad[i] };

			n = cf(f, true, WG_WS_OP_CLOSE, body, 2);
			expect_error(WG_WS_SERVER, f, n, 1002);
		}
	}
	n = cf(f, true, WG_WS_OP_CLOSE, "\x03\xe8" "bye\xc0\xaf", 7);
	expect_error(WG_WS_SERVER, f, n, 1007);
	assert_int_equal(env.stats.err_utf8, 5);
}

static void
test_close_codes_valid(void **state)
{
	static const uint16_t good[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
					 1012, 1013, 1014, 3000, 3999, 4000, 4999 };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct wg_ws ws;
		struct evlog l = { 0 };
		uint8_t f[32], body[5] = { (uint8_t)(good[i] >> 8), (uint8_t)good[i], 'b', 'y', 'e' };
		size_t n = cf(f, true, WG_WS_OP_CLOSE, body, 5);

		init_role(&ws, WG_WS_SERVER);
		feed(&ws, f, n, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.ev[0].type, WG_WS_EV_CLOSE);
		assert_int_equal(l.ev[0].code, good[i]);
		assert_int_equal(l.ev[0].len, 3);
		assert_memory_equal(l.ev[0].data, "bye", 3);
		evlog_free(&l);
	}
	for (unsigned int c = 0; c < 65536; c++) {
		bool want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
			    (c >= 3000 && c <= 4999);

		assert_int_equal(wg_ws_close_code_valid((uint16_t)c), want);
	}
}

static void
test_close_handshake(void **state)
{
	struct wg_ws ws;
	struct wg_ws_event ev;
	uint8_t in[64], out[256];
	size_t n, used;
	int m;

	(void)state;
	/* the peer closes first: we echo its code, then nothing */
	init_role(&ws, WG_WS_SERVER);
	n = cf(in, true, WG_WS_OP_CLOSE, "\x03\xe8" "bye", 5);
	n += cf(in + n, true, WG_WS_OP_TEXT, "late", 4);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_CLOSE);
	assert_int_equal(used, n);                 /* the late frame is discarded */
	assert_int_equal(ev.code, 1000);
	assert_int_equal(ev.len, 3);
	assert_memory_equal(ev.data, "bye", 3);
	assert_int_equal(ws.state, WG_WS_CLOSE_RCVD);
	assert_true(wg_ws_can_send(&ws));          /* may finish what it was sending */
	m = wg_ws_reply(&ws, &ev, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)m, 0x88, 0x02, 0x03, 0xe8);
	assert_true(wg_ws_closed(&ws));
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_TEXT, "x", 1, out, sizeof(out)), -EPIPE);
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_PING, "x", 1, out, sizeof(out)), -EPIPE);
	assert_int_equal(wg_ws_reply(&ws, &ev, out, sizeof(out)), 0);

	/* empty close: code 1005 up, an empty close back */
	init_role(&ws, WG_WS_SERVER);
	n = cf(in, true, WG_WS_OP_CLOSE, NULL, 0);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_CLOSE);
	assert_int_equal(ev.code, 1005);
	assert_int_equal(ev.len, 0);
	m = wg_ws_reply(&ws, &ev, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)m, 0x88, 0x00);

	/* we close first: no more data from us, the peer's close completes it */
	init_role(&ws, WG_WS_SERVER);
	m = wg_ws_build_close(&ws, 4001, "going", 5, out, sizeof(out));
	ASSERT_BYTES(out, (size_t)m, 0x88, 0x07, 0x0f, 0xa1, 'g', 'o', 'i', 'n', 'g');
	assert_int_equal(ws.state, WG_WS_CLOSE_SENT);
	assert_false(wg_ws_can_send(&ws));
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_BINARY, "x", 1, out, sizeof(out)), -EPIPE);
	assert_int_equal(wg_ws_build_close(&ws, 1000, NULL, 0, out, sizeof(out)), -EPIPE);
	/* data the peer sent before seeing our close still arrives */
	n = cf(in, true, WG_WS_OP_TEXT, "still", 5);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_MESSAGE);
	n = cf(in, true, WG_WS_OP_PING, "p", 1);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_PING);
	assert_int_equal(wg_ws_reply(&ws, &ev, out, sizeof(out)), 0);   /* no pong after close */
	n = cf(in, true, WG_WS_OP_CLOSE, "\x0f\xa1", 2);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_CLOSE);
	assert_int_equal(ev.code, 4001);
	assert_true(wg_ws_closed(&ws));
	assert_int_equal(wg_ws_reply(&ws, &ev, out, sizeof(out)), 0);

	/* a close in the middle of a fragmented message gives its buffer back */
	init_role(&ws, WG_WS_SERVER);
	n = cf(in, false, WG_WS_OP_BINARY, "abc", 3);
	n += cf(in + n, true, WG_WS_OP_CLOSE, "\x03\xe9", 2);
	assert_int_equal(wg_ws_recv(&ws, in, n, &ev, &used), WG_WS_EV_CLOSE);
	assert_int_equal(ev.code, 1001);
	assert_int_equal(bufs_out, 0);

	/* codes we may not send, reasons cut at a character boundary */
	init_role(&ws, WG_WS_SERVER);
	assert_int_equal(wg_ws_build_close(&ws, 1005, NULL, 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_ws_build_close(&ws, 1000, "\xff", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_ws_build_close(&ws, 1000, "abc", 3, out, 6), -ENOSPC);
	assert_int_equal(ws.state, WG_WS_OPEN);
	{
		char reason[200];

		/* 122 ASCII then a 2-byte character straddling byte 123 */
		memset(reason, 'r', sizeof(reason));
		memcpy(reason + 122, "\xc3\xa9", 2);
		m = wg_ws_build_close(&ws, 1000, reason, sizeof(reason), out, sizeof(out));
		assert_int_equal(m, 2 + 2 + 122);
		assert_int_equal(out[1], 124);
	}
}

/* Control frames between the fragments of a message. */
static void
test_interleaved_control(void **state)
{
	struct wg_ws ws;
	struct evlog l = { 0 };
	uint8_t f[128];
	size_t n;

	(void)state;
	init_role(&ws, WG_WS_SERVER);
	n = cf(f, false, WG_WS_OP_TEXT, "Hel", 3);
	n += cf(f + n, true, WG_WS_OP_PING, "p1", 2);
	n += cf(f + n, false, WG_WS_OP_CONT, "", 0);
	n += cf(f + n, true, WG_WS_OP_PONG, "", 0);
	n += cf(f + n, true, WG_WS_OP_CONT, "lo\xc3\xa9", 4);
	feed(&ws, f, n, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[0].type, WG_WS_EV_PING);
	assert_memory_equal(l.ev[0].data, "p1", 2);
	assert_int_equal(l.ev[1].type, WG_WS_EV_PONG);
	assert_int_equal(l.ev[2].type, WG_WS_EV_MESSAGE);
	assert_int_equal(l.ev[2].opcode, WG_WS_OP_TEXT);
	assert_int_equal(l.ev[2].len, 7);
	assert_memory_equal(l.ev[2].data, "Hello\xc3\xa9", 7);
	/* fragmented: a buffer of max_message was lent */
	assert_int_equal(last_get_size, conf.max_message);
	evlog_free(&l);
}

/* The stream used by the split tests: every kind of frame, lengths in all
 * three encodings, fragments, interleaved control, an empty message and a
 * close at the end. */
static size_t
multi_stream(uint8_t *f, uint8_t *big, size_t big_len)
{
	size_t n = 0;

	for (size_t i = 0; i < big_len; i++)
		big[i] = (uint8_t)(i * 31 + 7);
	n += cf(f + n, true, WG_WS_OP_TEXT, "Hello", 5);
	n += cf(f + n, true, WG_WS_OP_BINARY, big, 300);
	n += cf(f + n, false, WG_WS_OP_TEXT, "\xce\xba\xe1", 3);
	n += cf(f + n, true, WG_WS_OP_PING, "ping!", 5);
	n += cf(f + n, false, WG_WS_OP_CONT, "\xbd\xb9\xcf", 3);
	n += cf(f + n, true, WG_WS_OP_CONT, "\x83", 1);
	n += cf(f + n, true, WG_WS_OP_BINARY, NULL, 0);
	n += mkframe_x(f + n, true, 0, WG_WS_OP_BINARY, M, big, big_len, 64);
	n += cf(f + n, true, WG_WS_OP_PONG, "", 0);
	n += cf(f + n, true, WG_WS_OP_TEXT, "", 0);
	n += cf(f + n, true, WG_WS_OP_CLOSE, "\x03\xe8" "done", 6);
	return n;
}

static void
check_multi_log(const struct evlog *l, const uint8_t *big, size_t big_len)
{
	assert_int_equal(l->n, 9);
	assert_int_equal(l->ev[0].type, WG_WS_EV_MESSAGE);
	assert_memory_equal(l->ev[0].data, "Hello", 5);
	assert_int_equal(l->ev[1].len, 300);
	assert_int_equal(l->ev[1].opcode, WG_WS_OP_BINARY);
	assert_memory_equal(l->ev[1].data, big, 300);
	assert_int_equal(l->ev[2].type, WG_WS_EV_PING);
	assert_int_equal(l->ev[3].type, WG_WS_EV_MESSAGE);
	assert_int_equal(l->ev[3].len, 7);
	assert_memory_equal(l->ev[3].data, "\xce\xba\xe1\xbd\xb9\xcf\x83", 7);
	assert_int_equal(l->ev[4].len, 0);
	assert_int_equal(l->ev[4].opcode, WG_WS_OP_BINARY);
	assert_int_equal(l->ev[5].len, big_len);
	assert_memory_equal(l->ev[5].data, big, big_len);
	assert_int_equal(l->ev[6].type, WG_WS_EV_PONG);
	assert_int_equal(l->ev[7].type, WG_WS_EV_MESSAGE);
	assert_int_equal(l->ev[7].opcode, WG_WS_OP_TEXT);
	assert_int_equal(l->ev[7].len, 0);
	assert_int_equal(l->ev[8].type, WG_WS_EV_CLOSE);
	assert_int_equal(l->ev[8].code, 1000);
}

static void
test_every_split(void **state)
{
	static uint8_t f[2048], big[700];
	struct wg_ws ws;
	struct evlog whole = { 0 }, l = { 0 };
	size_t n = multi_stream(f, big, sizeof(big));

	(void)state;
	init_role(&ws, WG_WS_SERVER);
	feed(&ws, f, n, &whole);
	check_multi_log(&whole, big, sizeof(big));
	assert_true(whole.ev[0].in_place);
	assert_true(whole.ev[5].in_place);
	/* one cut, anywhere */
	for (size_t c = 0; c <= n; c++) {
		init_role(&ws, WG_WS_SERVER);
		feed_cuts(&ws, f, n, &c, 1, &l);
		assert_logs_equal(&whole, &l);
		evlog_free(&l);
	}
	/* two cuts, over the first 80 bytes (every header shape is there) */
	for (size_t a = 0; a <= 80; a++)
		for (size_t b = a; b <= 80; b++) {
			size_t cuts[2] = { a, b };

			init_role(&ws, WG_WS_SERVER);
			feed_cuts(&ws, f, n, cuts, 2, &l);
			assert_logs_equal(&whole, &l);
			evlog_free(&l);
		}
	/* byte by byte: nothing can be in place, everything is copied */
	{
		size_t *cuts = malloc(n * sizeof(*cuts));

		assert_non_null(cuts);
		for (size_t i = 0; i < n; i++)
			cuts[i] = i + 1;
		init_role(&ws, WG_WS_SERVER);
		feed_cuts(&ws, f, n, cuts, (int)n, &l);
		assert_logs_equal(&whole, &l);
		for (int i = 0; i < l.n; i++)
			if (l.ev[i].type == WG_WS_EV_MESSAGE && l.ev[i].len > 0)
				assert_false(l.ev[i].in_place);
		evlog_free(&l);
		free(cuts);
	}
	evlog_free(&whole);
}

/* Same for the client role (unmasked frames). */
static void
test_every_split_client(void **state)
{
	uint8_t f[512];
	size_t n = 0;
	struct wg_ws ws;
	struct evlog whole = { 0 }, l = { 0 };

	(void)state;
	n += mkframe_x(f + n, false, 0, WG_WS_OP_BINARY, NULL, "abc", 3, 0);
	n += mkframe_x(f + n, true, 0, WG_WS_OP_PING, NULL, "p", 1, 0);
	n += mkframe_x(f + n, true, 0, WG_WS_OP_CONT, NULL, "def", 3, 16);
	n += mkframe_x(f + n, true, 0, WG_WS_OP_TEXT, NULL, "caf\xc3\xa9", 5, 0);
	n += mkframe_x(f + n, true, 0, WG_WS_OP_CLOSE, NULL, "\x0b\xb8", 2, 0);
	init_role(&ws, WG_WS_CLIENT);
	feed(&ws, f, n, &whole);
	assert_int_equal(whole.n, 4);
	assert_memory_equal(whole.ev[1].data, "abcdef", 6);
	assert_memory_equal(whole.ev[2].data, "caf\xc3\xa9", 5);
	assert_int_equal(whole.ev[3].code, 3000);
	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			size_t cuts[2] = { a, b };

			init_role(&ws, WG_WS_CLIENT);
			feed_cuts(&ws, f, n, cuts, 2, &l);
			assert_logs_equal(&whole, &l);
			evlog_free(&l);
		}
	evlog_free(&whole);
}

/* Errors found at every split point too: the same code wherever the
 * stream is cut, and UTF-8 failing at the bad byte, not at the end. */
static void
test_error_every_split(void **state)
{
	uint8_t f[256], big[100];
	size_t n = 0;
	struct wg_ws ws;
	struct evlog l = { 0 };

	(void)state;
	memset(big, 'a', sizeof(big));
	n += cf(f + n, true, WG_WS_OP_TEXT, "ok", 2);
	n += cf(f + n, false, WG_WS_OP_TEXT, "ab\xce", 3);
	n += cf(f + n, false, WG_WS_OP_CONT, "\xba" "cd\xed", 4);
	n += cf(f + n, true, WG_WS_OP_CONT, "\xbf\xbf" "zzzzzzzzzzzzzzzz", 18);   /* surrogate */
	for (size_t a = 0; a <= n; a++) {
		init_role(&ws, WG_WS_SERVER);
		feed_cuts(&ws, f, n, &a, 1, &l);
		assert_int_equal(l.n, 2);
		assert_int_equal(l.ev[0].type, WG_WS_EV_MESSAGE);
		assert_int_equal(l.ev[1].type, WG_WS_EV_ERROR);
		assert_int_equal(l.ev[1].code, 1007);
		evlog_free(&l);
	}
	/* fail fast: the error comes with the bad byte, before the frame ends */
	{
		uint8_t g[64];
		struct wg_ws_event ev;
		size_t gl = cf(g, true, WG_WS_OP_TEXT, "abc\xed\xa0zzzzzzzzzzzz", 17), used;

		init_role(&ws, WG_WS_SERVER);
		/* header and the first 5 payload bytes only */
		assert_int_equal(wg_ws_recv(&ws, g, 6 + 5, &ev, &used), WG_WS_EV_ERROR);
		assert_int_equal(ev.code, 1007);
		(void)gl;
	}
}

static void
test_limits(void **state)
{
	struct wg_ws ws;
	struct evlog l = { 0 };
	uint8_t *f, *p;
	size_t n;

	(void)state;
	conf.max_message = 1000;
	f = malloc(4096);
	p = calloc(1, 2048);
	assert_non_null(f);
	assert_non_null(p);
	/* exactly the limit: fine, in one frame or in fragments */
	init_role(&ws, WG_WS_SERVER);
	n = cf(f, true, WG_WS_OP_BINARY, p, 1000);
	n += cf(f + n, false, WG_WS_OP_BINARY, p, 600);
	n += cf(f + n, true, WG_WS_OP_CONT, p, 400);
	feed(&ws, f, n, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].len, 1000);
	assert_int_equal(l.ev[1].len, 1000);
	evlog_free(&l);
	/* one more: 1009, found from the header alone */
	n = cf(f, true, WG_WS_OP_BINARY, p, 1001);
	expect_error(WG_WS_SERVER, f, 4 + 4, 1009);
	n = cf(f, false, WG_WS_OP_BINARY, p, 600);
	n += cf(f + n, true, WG_WS_OP_CONT, p, 401);
	expect_error(WG_WS_SERVER, f, n, 1009);
	/* control frames do not count toward the message */
	init_role(&ws, WG_WS_SERVER);
	n = cf(f, false, WG_WS_OP_TEXT, p, 950);
	n += cf(f + n, true, WG_WS_OP_PING, p, 125);
	n += cf(f + n, true, WG_WS_OP_CONT, p, 50);
	feed(&ws, f, n, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[1].len, 1000);
	evlog_free(&l);
	/* a frame limit below the message limit */
	conf.max_frame = 100;
	n = cf(f, false, WG_WS_OP_BINARY, p, 100);
	n += cf(f + n, true, WG_WS_OP_CONT, p, 100);
	init_role(&ws, WG_WS_SERVER);
	feed(&ws, f, n, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].len, 200);
	evlog_free(&l);
	n = cf(f, true, WG_WS_OP_BINARY, p, 101);
	expect_error(WG_WS_SERVER, f, n, 1009);
	/* a 2^62 length: refused without reading on */
	{
		static const uint8_t h[] = { 0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };

		expect_error(WG_WS_SERVER, h, sizeof(h), 1009);
	}
	assert_int_equal(env.stats.err_too_big, 4);
	free(f);
	free(p);
}

/* The reassembly buffer: asked for at the exact size of a single split
 * frame, handed over with the message, given back on errors and on
 * release; a dry pool is back-pressure, not loss. */
static void
test_buffers(void **state)
{
	struct wg_ws ws;
	struct wg_ws_event ev;
	uint8_t f[512], p[300];
	size_t n, used, off;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)i;
	init_role(&ws, WG_WS_SERVER);
	n = cf(f, true, WG_WS_OP_BINARY, p, 300);
	/* header and 10 bytes: a buffer of exactly 300 is taken */
	assert_int_equal(wg_ws_recv(&ws, f, 4 + 4 + 10, &ev, &used), WG_WS_EV_NONE);
	assert_int_equal(last_get_size, 300);
	assert_int_equal(bufs_out, 1);
	rc = wg_ws_recv(&ws, f + 18, n - 18, &ev, &used);
	assert_int_equal(rc, WG_WS_EV_MESSAGE);
	assert_non_null(ev.buf);
	assert_int_equal(ev.len, 300);
	assert_memory_equal(ev.data, p, 300);
	t_put(NULL, ev.buf);

	/* dry pool: -ENOBUFS with the header consumed; later, it goes on */
	pool_dry = true;
	rc = wg_ws_recv(&ws, f, n - 1, &ev, &used);
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(used, 8);
	assert_int_equal(env.stats.err_nobufs, 1);
	rc = wg_ws_recv(&ws, f + 8, n - 9, &ev, &used);
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(used, 0);
	pool_dry = false;
	off = 8;
	rc = wg_ws_recv(&ws, f + off, n - 1 - off, &ev, &used);
	assert_int_equal(rc, WG_WS_EV_NONE);
	off += used;
	rc = wg_ws_recv(&ws, f + off, n - off, &ev, &used);
	assert_int_equal(rc, WG_WS_EV_MESSAGE);
	assert_memory_equal(ev.data, p, 300);
	t_put(NULL, ev.buf);

	/* an error in the middle gives the buffer back */
	n = cf(f, false, WG_WS_OP_TEXT, "abc", 3);
	n += cf(f + n, true, WG_WS_OP_CONT, "\xff", 1);
	assert_int_equal(wg_ws_recv(&ws, f, n, &ev, &used), WG_WS_EV_ERROR);
	assert_int_equal(bufs_out, 0);

	/* release mid-message gives it back too */
	init_role(&ws, WG_WS_SERVER);
	n = cf(f, false, WG_WS_OP_BINARY, "abc", 3);
	assert_int_equal(wg_ws_recv(&ws, f, n, &ev, &used), WG_WS_EV_NONE);
	assert_int_equal(bufs_out, 1);
	wg_ws_release(&ws);
	assert_int_equal(bufs_out, 0);
	wg_ws_release(&ws);
	assert_int_equal(bufs_out, 0);
}

/* Unmasking against a byte loop at every phase, length and alignment. */
static void
test_mask(void **state)
{
	static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	uint8_t buf[128], ref[128];

	(void)state;
	for (unsigned int align = 0; align < 8; align++)
		for (uint64_t off = 0; off < 8; off++)
			for (size_t len = 0; len < 100; len++) {
				for (size_t i = 0; i < sizeof(buf); i++)
					buf[i] = ref[i] = (uint8_t)(i * 13 + len);
				for (size_t i = 0; i < len; i++)
					ref[align + i] ^= mask[(off + i) & 3];
				wg_ws_mask(buf + align, len, mask, off);
				assert_memory_equal(buf, ref, sizeof(buf));
			}
}

static void
test_builder(void **state)
{
	struct wg_ws ws, peer;
	struct evlog l = { 0 };
	uint8_t out[2048], hdr[WG_WS_MAX_HDR], mask[4], payload[1000];
	int n, total = 0;

	(void)state;
	init_role(&ws, WG_WS_CLIENT);
	init_role(&peer, WG_WS_SERVER);
	/* fragment order and control frame shape */
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_CONT, "x", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_ws_build(&ws, false, WG_WS_OP_PING, "x", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_PING, payload, 126, out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(wg_ws_build(&ws, true, 3, "x", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_CLOSE, "x", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_TEXT, "hello", 5, out, 10), -ENOSPC);
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_TEXT, "hello", 5, out, 11), 11);
	assert_int_equal(env.stats.tx_frames, 1);

	/* a client's fragmented message with a ping between: our server
	 * parser reads it back */
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)('a' + i % 26);
	rng_bytes[0] = 0x00;
	n = wg_ws_build(&ws, false, WG_WS_OP_TEXT, payload, 400, out, sizeof(out));
	assert_true(n > 0);
	total = n;
	assert_int_equal(wg_ws_build(&ws, true, WG_WS_OP_TEXT, "x", 1, out + total,
				     sizeof(out) - (size_t)total), -EINVAL);
	n = wg_ws_build(&ws, true, WG_WS_OP_PING, "pi", 2, out + total, sizeof(out) - (size_t)total);
	total += n;
	/* frame_begin + wg_ws_mask, the way an mbuf path would do it */
	n = wg_ws_frame_begin(&ws, true, WG_WS_OP_CONT, 600, hdr, mask);
	assert_int_equal(n, 8);
	assert_memory_equal(hdr + 4, mask, 4);
	memcpy(out + total, hdr, (size_t)n);
	total += n;
	memcpy(out + total, payload + 400, 250);
	wg_ws_mask(out + total, 250, mask, 0);
	memcpy(out + total + 250, payload + 650, 350);
	wg_ws_mask(out + total + 250, 350, mask, 250);
	total += 600;
	feed(&peer, out, (size_t)total, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].type, WG_WS_EV_PING);
	assert_int_equal(l.ev[1].len, 1000);
	assert_memory_equal(l.ev[1].data, payload, 1000);
	evlog_free(&l);
	rng_bytes[0] = 0x37;
	/* the fragment is over: a new message may start */
	assert_true(wg_ws_build(&ws, true, WG_WS_OP_TEXT, "x", 1, out, sizeof(out)) > 0);
}

/* wg_ws_build_msg: fragments of the asked size, read back whole */
static void
test_build_msg(void **state)
{
	struct wg_ws ws, peer;
	struct evlog l = { 0 };
	uint8_t out[2048], text[1000];
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(text); i += 2)
		memcpy(text + i, "\xc3\xa9", 2);    /* cuts at odd sizes split characters */
	init_role(&ws, WG_WS_SERVER);
	init_role(&peer, WG_WS_CLIENT);
	/* room checked first: nothing written, fragment state untouched */
	assert_int_equal(wg_ws_build_msg(&ws, WG_WS_OP_TEXT, text, 1000, 301, out, 1000), -ENOSPC);
	assert_int_equal(ws.flags & WG_WSF_TX_FRAG, 0);
	assert_int_equal(env.stats.tx_frames, 0);
	n = wg_ws_build_msg(&ws, WG_WS_OP_TEXT, text, 1000, 301, out, sizeof(out));
	/* 301, 301, 301, 97: three 16-bit headers and one short */
	assert_int_equal(n, 3 * (4 + 301) + 2 + 97);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(out[305], 0x00);
	assert_int_equal(out[610], 0x00);
	assert_int_equal(out[915], 0x80);
	assert_int_equal(env.stats.tx_frames, 4);
	feed(&peer, out, (size_t)n, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].opcode, WG_WS_OP_TEXT);
	assert_int_equal(l.ev[0].len, 1000);
	assert_memory_equal(l.ev[0].data, text, 1000);
	evlog_free(&l);
	/* frag 0 or >= len: one frame */
	n = wg_ws_build_msg(&ws, WG_WS_OP_BINARY, text, 10, 0, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(out[0], 0x82);
	n = wg_ws_build_msg(&ws, WG_WS_OP_BINARY, text, 10, 10, out, sizeof(out));
	assert_int_equal(n, 12);
	assert_int_equal(wg_ws_build_msg(&ws, WG_WS_OP_PING, text, 10, 3, out, sizeof(out)), -EINVAL);
	/* not after our close */
	assert_true(wg_ws_build_close(&ws, 1000, NULL, 0, out, sizeof(out)) > 0);
	assert_int_equal(wg_ws_build_msg(&ws, WG_WS_OP_TEXT, text, 10, 3, out, sizeof(out)), -EPIPE);
}

static void
test_init_and_conf(void **state)
{
	struct wg_ws ws;
	struct wg_ws_env bad = env;
	struct wg_ws_conf c;
	char err[128];

	(void)state;
	bad.rng = NULL;
	assert_int_equal(wg_ws_init(&ws, &conf, &bad, WG_WS_CLIENT), -EINVAL);
	assert_int_equal(wg_ws_init(&ws, &conf, &bad, WG_WS_SERVER), 0);
	bad.buf_get = NULL;
	assert_int_equal(wg_ws_init(&ws, &conf, &bad, WG_WS_SERVER), -EINVAL);
	assert_int_equal(wg_ws_init(&ws, &conf, &env, (enum wg_ws_role)7), -EINVAL);

	wg_ws_conf_defaults(&c);
	assert_int_equal(wg_ws_conf_check(&c, err, sizeof(err)), 0);
	c.max_message = 0;
	assert_int_equal(wg_ws_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "max_message"));
	wg_ws_conf_defaults(&c);
	strcpy(c.protocols[0], "bad token");
	c.n_protocols = 1;
	assert_int_equal(wg_ws_conf_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "subprotocol"));
	wg_ws_conf_defaults(&c);
	strcpy(c.path, "chat");
	assert_int_equal(wg_ws_conf_check(&c, err, sizeof(err)), -EINVAL);
	wg_ws_conf_defaults(&c);
	c.http_max_header_line = WG_WS_HTTP_LINE_MAX + 1;
	assert_int_equal(wg_ws_conf_check(&c, NULL, 0), -EINVAL);
	wg_ws_conf_defaults(&c);
	c.require_protocol = 1;
	assert_int_equal(wg_ws_conf_check(&c, NULL, 0), -EINVAL);

	/* dump and stats listing */
	{
		const char *names[32];
		uint64_t values[32];
		unsigned int k;
		char *dump = NULL;
		size_t dlen = 0;
		FILE *f = open_memstream(&dump, &dlen);

		assert_int_equal(wg_ws_init(&ws, &conf, &env, WG_WS_SERVER), 0);
		assert_non_null(f);
		wg_ws_dump(f, &ws);
		fclose(f);
		assert_non_null(strstr(dump, "server OPEN"));
		free(dump);
		env.stats.rx_msgs = 42;
		k = wg_ws_stats_list(&env.stats, names, values, 32);
		assert_int_equal(k, sizeof(struct wg_ws_stats) / 8);
		assert_string_equal(names[1], "rx_msgs");
		assert_int_equal(values[1], 42);
		assert_string_equal(wg_ws_state_name(WG_WS_CLOSE_SENT), "CLOSE_SENT");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_accept_key),
		T(test_hs_rfc_example),
		T(test_hs_protocol_choice),
		T(test_hs_every_split),
		T(test_hs_refusals),
		T(test_hs_origin),
		T(test_hs_limits),
		T(test_hs_error_responses),
		T(test_client_handshake),
		T(test_client_refusals),
		T(test_rfc_examples_server),
		T(test_rfc_examples_client),
		T(test_ping_pong_server),
		T(test_error_codes),
		T(test_close_codes_valid),
		T(test_close_handshake),
		T(test_interleaved_control),
		T(test_every_split),
		T(test_every_split_client),
		T(test_error_every_split),
		T(test_limits),
		T(test_buffers),
		T(test_mask),
		T(test_builder),
		T(test_build_msg),
		T(test_init_and_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
