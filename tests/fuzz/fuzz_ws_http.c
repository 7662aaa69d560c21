/* SPDX-License-Identifier: BSD-3-Clause
 * WebSocket handshake parser from the wire, both roles. Properties:
 *  - the verdict, the status, the target, the subprotocol and (unless
 *    refused) the bytes consumed do not depend on how the input is cut;
 *  - a refusal carries a status we can answer with, and the response
 *    builds; an acceptance has a valid key whose Accept we recompute,
 *    a target that starts with '/' or a scheme, and stops right after a
 *    blank line;
 *  - the client accepts only a 101 with the Accept for its own key.
 *
 * Input: byte 0 = flags (bit 0 client role, bit 1 small limits), byte 1 =
 * chunking seed, the rest is the request (or response).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct verdict {
	int rc;
	uint16_t status;
	size_t used;
	int16_t protocol;
	char target[WG_WS_TARGET_LEN];
	char accept[WG_WS_ACCEPT_LEN + 1];
};

static const uint8_t nonce[16] = "0123456789abcdef";

static void
start(struct wg_ws_http *h, const struct wg_ws_conf *conf, bool client)
{
	char req[1024];

	if (!client) {
		wg_ws_http_server_init(h, conf);
		return;
	}
	if (wg_ws_http_client_request(h, conf, "127.0.0.1", "/ws", "http://a.example", nonce,
				      req, sizeof(req)) <= 0)
		abort();
}

static void
run(const struct wg_ws_conf *conf, bool client, const uint8_t *s, size_t len, unsigned int seed,
    struct verdict *v)
{
	static struct wg_ws_http h;
	size_t pos = 0, used;
	uint32_t r = seed;
	int rc = -EAGAIN;

	start(&h, conf, client);
	while (pos < len && rc == -EAGAIN) {
		size_t clen = len - pos;
		uint8_t *chunk;

		if (seed != 0) {
			r = r * 1103515245u + 12345u;
			clen = 1 + (r >> 16) % (seed % 97 + 1);
			if (clen > len - pos)
				clen = len - pos;
		}
		chunk = malloc(clen);
		if (chunk == NULL)
			abort();
		memcpy(chunk, s + pos, clen);
		rc = wg_ws_http_feed(&h, chunk, clen, &used);
		free(chunk);
		if (used > clen || (rc == -EAGAIN && used != clen))
			abort();
		pos += used;
	}
	v->rc = rc;
	v->status = h.status;
	v->used = pos;
	v->protocol = h.protocol;
	memcpy(v->target, h.target, sizeof(v->target));
	memcpy(v->accept, h.accept, sizeof(v->accept));

	if (rc == 0) {
		/* the request ends with a blank line right before used */
		if (pos < 2 || s[pos - 1] != '\n')
			abort();
		if (!client) {
			char acc[WG_WS_ACCEPT_LEN + 1], out[2048];

			if (h.status != 101 || strlen(h.key) != WG_WS_KEY_LEN)
				abort();
			if (wg_ws_accept_key(h.key, WG_WS_KEY_LEN, acc) != 0 ||
			    strcmp(acc, h.accept) != 0)
				abort();
			if (h.target[0] != '/' && strstr(h.target, "://") == NULL)
				abort();
			if (wg_ws_http_response(&h, out, sizeof(out)) <= 0)
				abort();
			if (h.protocol >= (int)conf->n_protocols)
				abort();
		} else if (h.status != 101) {
			abort();
		}
	} else if (rc == -EPROTO) {
		if (!client) {
			char out[512];

			if (wg_ws_http_response(&h, out, sizeof(out)) <= 0)
				abort();
		}
	} else if (rc != -EAGAIN) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct verdict a, b;
	struct wg_ws_conf conf;
	bool client;

	if (size < 2)
		return 0;
	wg_ws_conf_defaults(&conf);
	strcpy(conf.path, "/ws");
	strcpy(conf.protocols[0], "chat");
	strcpy(conf.protocols[1], "v2.game");
	conf.n_protocols = 2;
	strcpy(conf.origins[0], "http://a.example");
	conf.n_origins = 1;
	if (data[0] & 2) {
		conf.http_max_request = 300;
		conf.http_max_request_line = 40;
		conf.http_max_header_line = 60;
		conf.http_max_headers = 8;
	}
	client = data[0] & 1;
	run(&conf, client, data + 2, size - 2, 0, &a);
	run(&conf, client, data + 2, size - 2, data[1] | 1u, &b);
	/* bytes consumed before a refusal depend on the cut; nothing reads them */
	if (a.rc != b.rc || a.status != b.status || (a.rc != -EPROTO && a.used != b.used) ||
	    a.protocol != b.protocol ||
	    strcmp(a.target, b.target) != 0 || strcmp(a.accept, b.accept) != 0)
		abort();
	return 0;
}
