/* SPDX-License-Identifier: BSD-3-Clause
 * WebSocket and framed-TCP settings: defaults and the checks a loaded
 * configuration must pass (conf.c's table does ranges; this does meaning).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ws.h"

void
wg_ws_conf_defaults(struct wg_ws_conf *c)
{
	memset(c, 0, sizeof(*c));
	/* game messages are small; 64 KiB leaves room for a snapshot */
	c->max_message = 64 * 1024;
	c->max_frame = 0;
	c->framed_max_message = 64 * 1024;
	/* browsers send 400-800 bytes; cookies can add a few KiB */
	c->http_max_request = 8192;
	c->http_max_request_line = 2048;
	c->http_max_header_line = 4096;
	c->http_max_headers = 64;
	c->require_protocol = 0;
	strcpy(c->path, "/");
}

static int __attribute__((format(printf, 3, 4)))
bad(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* a subprotocol is an HTTP token (RFC 6455 4.1, RFC 7230 3.2.6) */
static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= 0x20 || ch >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", ch) != NULL)
			return false;
	}
	return true;
}

int
wg_ws_conf_check(const struct wg_ws_conf *c, char *err, size_t err_len)
{
	if (c->max_message == 0 || c->max_message > (1u << 30))
		return bad(err, err_len, "ws max_message must be 1 .. 1 GiB");
	if (c->framed_max_message == 0 || c->framed_max_message > (1u << 30))
		return bad(err, err_len, "framed max_message must be 1 .. 1 GiB");
	if (c->http_max_request_line < 16 || c->http_max_request_line > WG_WS_HTTP_LINE_MAX)
		return bad(err, err_len, "ws http_max_request_line must be 16 .. %u",
			   WG_WS_HTTP_LINE_MAX);
	if (c->http_max_header_line < 16 || c->http_max_header_line > WG_WS_HTTP_LINE_MAX)
		return bad(err, err_len, "ws http_max_header_line must be 16 .. %u",
			   WG_WS_HTTP_LINE_MAX);
	if (c->http_max_headers < 4)
		return bad(err, err_len, "ws http_max_headers must be at least 4");
	if (c->http_max_request < c->http_max_request_line)
		return bad(err, err_len, "ws http_max_request is below http_max_request_line");
	if (c->path[0] != '\0' && c->path[0] != '/')
		return bad(err, err_len, "ws path must start with '/'");
	if (memchr(c->path, '\0', sizeof(c->path)) == NULL)
		return bad(err, err_len, "ws path is not terminated");
	if (c->n_origins > WG_WS_MAX_ORIGINS || c->n_protocols > WG_WS_MAX_PROTOCOLS)
		return bad(err, err_len, "ws lists are longer than their arrays");
	for (unsigned int i = 0; i < c->n_origins; i++)
		if (c->origins[i][0] == '\0' ||
		    memchr(c->origins[i], '\0', WG_WS_ORIGIN_LEN) == NULL)
			return bad(err, err_len, "ws origin %u is empty or too long", i);
	for (unsigned int i = 0; i < c->n_protocols; i++)
		if (memchr(c->protocols[i], '\0', WG_WS_PROTOCOL_LEN) == NULL ||
		    !is_token(c->protocols[i]))
			return bad(err, err_len, "ws subprotocol %u is not an HTTP token", i);
	if (c->require_protocol && c->n_protocols == 0)
		return bad(err, err_len, "ws require_protocol needs a subprotocol list");
	return 0;
}
