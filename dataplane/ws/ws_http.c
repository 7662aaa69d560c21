/* SPDX-License-Identifier: BSD-3-Clause
 * The WebSocket opening handshake (RFC 6455 4) over HTTP/1.1 (RFC 7230):
 * an incremental parser for the server's request and the client's
 * response, the 101/error response, and the client's request.
 *
 * The parser works line by line: bytes up to a LF collect in a line buffer
 * bounded by the configured line limit, so a line split over any number of
 * chunks costs one copy and a limit is enforced before the LF arrives.
 * Each complete header line is reduced at once to a few facts (flags, the
 * key, the offered subprotocols); nothing else is kept. Parsing stops at
 * the blank line: whatever follows in the chunk is the peer's first frames,
 * and *used tells the caller where they start.
 *
 * Strictness, where RFC 7230 lets a server choose: obs-fold (a line
 * starting with SP/HTAB) and whitespace before a colon are refused (400),
 * a lone LF ends a line like CRLF (3.5), up to 4 blank lines before the
 * request line are skipped. Header names match case-insensitively. List
 * headers (Connection, Upgrade, Sec-WebSocket-Protocol) may repeat and are
 * read as one comma list; single-valued ones (Host, Sec-WebSocket-Key,
 * Sec-WebSocket-Version, Origin) may not (400): RFC 6455 11.3.1/11.3.5
 * and RFC 7230 5.4 say they appear once. A request with a body is refused:
 * the bytes after the blank line must be frames.
 *
 * Status codes: 400 malformed or incomplete handshake, 403 Origin not on
 * the allow-list (a missing Origin is accepted: only browsers send one, and
 * they always do), 404 another path, 405 not GET, 414 request line over its
 * limit, 426 not a WebSocket upgrade or not version 13 (with Upgrade and
 * Sec-WebSocket-Version: 13, RFC 6455 4.4), 431 a header line, the header
 * count or the whole request over its limit, 505 not HTTP/1.1 or later.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ws.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_EMPTY_LINES 4

/* header facts */
#define F_HOST         0x0001  /* Host seen */
#define F_UPGRADE_WS   0x0002  /* Upgrade lists websocket */
#define F_CONN_UPGRADE 0x0004  /* Connection lists upgrade */
#define F_VERSION      0x0008  /* Sec-WebSocket-Version seen */
#define F_VERSION_OK   0x0010  /* ... and it is 13 */
#define F_KEY          0x0020  /* Sec-WebSocket-Key seen */
#define F_KEY_OK       0x0040  /* ... and it is base64 of 16 bytes */
#define F_ORIGIN       0x0080  /* Origin seen */
#define F_ORIGIN_OK    0x0100  /* ... and it is allowed */
#define F_BODY         0x0200  /* Content-Length > 0 or Transfer-Encoding */
#define F_ACCEPT       0x0400  /* client: Sec-WebSocket-Accept seen */
#define F_ACCEPT_OK    0x0800  /* ... and it is the one expected */
#define F_PROTOCOL     0x1000  /* client: Sec-WebSocket-Protocol seen */
/* 0x2000.. unused */

static int
refuse(struct wg_ws_http *h, uint16_t status)
{
	h->phase = WG_WSH_FAILED;
	if (h->role == WG_WS_SERVER)
		h->status = status;
	return -EPROTO;
}

static inline bool
is_tchar(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return true;
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static inline bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* field-value characters: VCHAR, obs-text, SP, HTAB (RFC 7230 3.2) */
static bool
value_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool
equal_ci(const char *a, size_t an, const char *b)
{
	return an == strlen(b) && strncasecmp(a, b, an) == 0;
}

/* Next element of a comma list from *pos, OWS trimmed; empty elements are
 * skipped (RFC 7230 7). Returns its length, 0 at the end. */
static size_t
list_next(const char *v, size_t n, size_t *pos, const char **elem)
{
	while (*pos < n) {
		size_t s = *pos, e;

		while (*pos < n && v[*pos] != ',')
			(*pos)++;
		e = *pos;
		if (*pos < n)
			(*pos)++;
		while (s < e && is_ows(v[s]))
			s++;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (e > s) {
			*elem = v + s;
			return e - s;
		}
	}
	return 0;
}

static bool
list_has_ci(const char *v, size_t n, const char *tok)
{
	size_t pos = 0, len;
	const char *e;

	while ((len = list_next(v, n, &pos, &e)) != 0)
		if (equal_ci(e, len, tok))
			return true;
	return false;
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64 of exactly 16 bytes: 22 symbols, "==", and the 4 bits the last
 * symbol carries beyond byte 16 zero (RFC 4648 3.5 canonical form) */
static bool
key_ok(const char *v, size_t n)
{
	if (n != WG_WS_KEY_LEN || v[22] != '=' || v[23] != '=')
		return false;
	for (int i = 0; i < 22; i++)
		if (b64_value(v[i]) < 0)
			return false;
	return (b64_value(v[21]) & 0x0f) == 0;
}

int
wg_ws_accept_key(const char *key, size_t key_len, char out[WG_WS_ACCEPT_LEN + 1])
{
	unsigned char buf[64 + sizeof(WS_GUID)];
	unsigned char md[SHA_DIGEST_LENGTH];

	if (key_len > 64)
		return -EINVAL;
	memcpy(buf, key, key_len);
	memcpy(buf + key_len, WS_GUID, sizeof(WS_GUID) - 1);
	if (SHA1(buf, key_len + sizeof(WS_GUID) - 1, md) == NULL)
		return -EIO;
	if (EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH) != WG_WS_ACCEPT_LEN)
		return -EIO;
	return 0;
}

static void
http_init(struct wg_ws_http *h, const struct wg_ws_conf *conf, enum wg_ws_role role)
{
	h->conf = conf;
	h->role = (uint8_t)role;
	h->phase = WG_WSH_FIRST_LINE;
	h->status = 0;
	h->protocol = -1;
	h->n_headers = 0;
	h->line_len = 0;
	h->total = 0;
	h->seen = 0;
	h->offered = 0;
	h->empty_lines = 0;
	h->key[0] = '\0';
	h->accept[0] = '\0';
	h->target_len = 0;
	h->target[0] = '\0';
}

void
wg_ws_http_server_init(struct wg_ws_http *h, const struct wg_ws_conf *conf)
{
	http_init(h, conf, WG_WS_SERVER);
}

/* "HTTP/" DIGIT "." DIGIT: 0 when 1.1 or later 1.x, 505 another version,
 * 400 not a version at all */
static uint16_t
check_version(const char *v, size_t n)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1' || v[7] == '0')
		return 505;
	return 0;
}

/* path part of the target: origin-form as it is, absolute-form after its
 * authority (RFC 7230 5.3.2 says servers accept both) */
static bool
target_path(const char *t, size_t n, const char **path, size_t *plen)
{
	static const char *const schemes[] = { "http://", "https://", "ws://", "wss://" };

	if (n > 0 && t[0] == '/') {
		*path = t;
		*plen = n;
		return true;
	}
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t sl = strlen(schemes[i]);

		if (n > sl && strncasecmp(t, schemes[i], sl) == 0) {
			const char *slash = memchr(t + sl, '/', n - sl);

			*path = slash != NULL ? slash : "/";
			*plen = slash != NULL ? n - (size_t)(slash - t) : 1;
			return true;
		}
	}
	return false;
}

static int
request_line(struct wg_ws_http *h, const char *s, size_t n)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *target, *path;
	size_t mlen, tlen, plen;
	uint16_t st;

	if (sp1 == NULL)
		return refuse(h, 400);
	mlen = (size_t)(sp1 - s);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - mlen - 1);
	if (sp2 == NULL)
		return refuse(h, 400);
	tlen = (size_t)(sp2 - target);
	if (mlen == 0 || tlen == 0)
		return refuse(h, 400);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)s[i]))
			return refuse(h, 400);
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] == 0x7f)
			return refuse(h, 400);
	st = check_version(sp2 + 1, n - mlen - tlen - 2);
	if (st != 0)
		return refuse(h, st);
	if (mlen != 3 || memcmp(s, "GET", 3) != 0)
		return refuse(h, 405);
	if (!target_path(target, tlen, &path, &plen))
		return refuse(h, 400);
	if (tlen >= WG_WS_TARGET_LEN)
		return refuse(h, 414);
	memcpy(h->target, target, tlen);
	h->target[tlen] = '\0';
	h->target_len = (uint32_t)tlen;
	if (h->conf->path[0] != '\0') {
		const char *q = memchr(path, '?', plen);

		if (q != NULL)
			plen = (size_t)(q - path);
		if (plen != strlen(h->conf->path) || memcmp(path, h->conf->path, plen) != 0)
			return refuse(h, 404);
	}
	h->phase = WG_WSH_HEADERS;
	return 0;
}

/* client: "HTTP/1.1 101 Switching Protocols" */
static int
status_line(struct wg_ws_http *h, const char *s, size_t n)
{
	unsigned int st = 0;

	if (n < 12 || check_version(s, 8) != 0 || s[8] != ' ' || (n > 12 && s[12] != ' '))
		return refuse(h, 0);
	for (int i = 9; i < 12; i++) {
		if (s[i] < '0' || s[i] > '9')
			return refuse(h, 0);
		st = st * 10 + (unsigned int)(s[i] - '0');
	}
	h->status = (uint16_t)st;
	if (st != 101)
		return refuse(h, 0);
	h->phase = WG_WSH_HEADERS;
	return 0;
}

static int
server_header(struct wg_ws_http *h, const char *name, size_t nl, const char *v, size_t vl)
{
	const struct wg_ws_conf *c = h->conf;

	if (equal_ci(name, nl, "host")) {
		if (h->seen & F_HOST)
			return refuse(h, 400);
		h->seen |= F_HOST;
	} else if (equal_ci(name, nl, "upgrade")) {
		if (list_has_ci(v, vl, "websocket"))
			h->seen |= F_UPGRADE_WS;
	} else if (equal_ci(name, nl, "connection")) {
		if (list_has_ci(v, vl, "upgrade"))
			h->seen |= F_CONN_UPGRADE;
	} else if (equal_ci(name, nl, "sec-websocket-version")) {
		if (h->seen & F_VERSION)
			return refuse(h, 400);
		h->seen |= F_VERSION;
		if (vl == 2 && v[0] == '1' && v[1] == '3')
			h->seen |= F_VERSION_OK;
	} else if (equal_ci(name, nl, "sec-websocket-key")) {
		if (h->seen & F_KEY)
			return refuse(h, 400);
		h->seen |= F_KEY;
		if (key_ok(v, vl)) {
			h->seen |= F_KEY_OK;
			memcpy(h->key, v, WG_WS_KEY_LEN);
			h->key[WG_WS_KEY_LEN] = '\0';
		}
	} else if (equal_ci(name, nl, "origin")) {
		if (h->seen & F_ORIGIN)
			return refuse(h, 400);
		h->seen |= F_ORIGIN;
		if (c->n_origins == 0)
			h->seen |= F_ORIGIN_OK;
		/* scheme and host are case-insensitive; a serialized origin has
		 * no path, so the whole string compares that way */
		for (unsigned int i = 0; i < c->n_origins; i++)
			if (equal_ci(v, vl, c->origins[i]))
				h->seen |= F_ORIGIN_OK;
	} else if (equal_ci(name, nl, "sec-websocket-protocol")) {
		size_t pos = 0, len;
		const char *e;

		while ((len = list_next(v, vl, &pos, &e)) != 0)
			for (unsigned int i = 0; i < c->n_protocols; i++)
				if (len == strlen(c->protocols[i]) &&
				    memcmp(e, c->protocols[i], len) == 0)
					h->offered |= 1u << i;
	} else if (equal_ci(name, nl, "content-length")) {
		if (vl != 1 || v[0] != '0')
			h->seen |= F_BODY;
	} else if (equal_ci(name, nl, "transfer-encoding")) {
		h->seen |= F_BODY;
	}
	return 0;
}

static int
client_header(struct wg_ws_http *h, const char *name, size_t nl, const char *v, size_t vl)
{
	const struct wg_ws_conf *c = h->conf;

	if (equal_ci(name, nl, "upgrade")) {
		if (list_has_ci(v, vl, "websocket"))
			h->seen |= F_UPGRADE_WS;
	} else if (equal_ci(name, nl, "connection")) {
		if (list_has_ci(v, vl, "upgrade"))
			h->seen |= F_CONN_UPGRADE;
	} else if (equal_ci(name, nl, "sec-websocket-accept")) {
		if (h->seen & F_ACCEPT)
			return refuse(h, 0);
		h->seen |= F_ACCEPT;
		if (vl == WG_WS_ACCEPT_LEN && memcmp(v, h->accept, vl) == 0)
			h->seen |= F_ACCEPT_OK;
	} else if (equal_ci(name, nl, "sec-websocket-protocol")) {
		/* one of ours, once (RFC 6455 4.1 item 6) */
		if (h->seen & F_PROTOCOL)
			return refuse(h, 0);
		h->seen |= F_PROTOCOL;
		for (unsigned int i = 0; i < c->n_protocols; i++)
			if (vl == strlen(c->protocols[i]) && memcmp(v, c->protocols[i], vl) == 0)
				h->protocol = (int16_t)i;
		if (h->protocol < 0)
			return refuse(h, 0);
	} else if (equal_ci(name, nl, "sec-websocket-extensions")) {
		return refuse(h, 0);   /* we offered none (4.1 item 5) */
	}
	return 0;
}

static int
header_line(struct wg_ws_http *h, const char *s, size_t n)
{
	const char *colon, *v;
	size_t nl, vl;

	if (is_ows(s[0]))
		return refuse(h, 400);                 /* obs-fold */
	if (++h->n_headers > h->conf->http_max_headers)
		return refuse(h, 431);
	colon = memchr(s, ':', n);
	if (colon == NULL || colon == s)
		return refuse(h, 400);
	nl = (size_t)(colon - s);
	for (size_t i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)s[i]))
			return refuse(h, 400);         /* also space before the colon */
	v = colon + 1;
	vl = n - nl - 1;
	while (vl > 0 && is_ows(v[0])) {
		v++;
		vl--;
	}
	while (vl > 0 && is_ows(v[vl - 1]))
		vl--;
	if (!value_ok(v, vl))
		return refuse(h, 400);
	if (h->role == WG_WS_SERVER)
		return server_header(h, s, nl, v, vl);
	return client_header(h, s, nl, v, vl);
}

static int
finish_server(struct wg_ws_http *h)
{
	uint32_t f = h->seen;

	if (!(f & F_HOST) || (f & F_BODY))
		return refuse(h, 400);
	if (!(f & F_UPGRADE_WS))
		return refuse(h, 426);
	if (!(f & F_CONN_UPGRADE))
		return refuse(h, 400);
	if (!(f & F_VERSION_OK))
		return refuse(h, 426);
	if (!(f & F_KEY_OK))
		return refuse(h, 400);
	if ((f & F_ORIGIN) && !(f & F_ORIGIN_OK))
		return refuse(h, 403);
	/* our preference order among what the client offered */
	if (h->offered != 0)
		h->protocol = (int16_t)__builtin_ctz(h->offered);
	else if (h->conf->require_protocol)
		return refuse(h, 400);
	if (wg_ws_accept_key(h->key, WG_WS_KEY_LEN, h->accept) != 0)
		return refuse(h, 400);
	h->status = 101;
	h->phase = WG_WSH_DONE;
	return 0;
}

static int
finish_client(struct wg_ws_http *h)
{
	uint32_t need = F_UPGRADE_WS | F_CONN_UPGRADE | F_ACCEPT_OK;

	if ((h->seen & need) != need)
		return refuse(h, 0);
	if (h->protocol < 0 && h->conf->require_protocol)
		return refuse(h, 0);
	h->phase = WG_WSH_DONE;
	return 0;
}

/* one line without its LF */
static int
do_line(struct wg_ws_http *h)
{
	char *s = h->line;
	size_t n = h->line_len;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (memchr(s, '\r', n) != NULL || memchr(s, '\0', n) != NULL)
		return refuse(h, 400);
	if (h->phase == WG_WSH_FIRST_LINE) {
		if (n == 0)
			return ++h->empty_lines > MAX_EMPTY_LINES ? refuse(h, 400) : 0;
		if (n > h->conf->http_max_request_line)
			return refuse(h, 414);
		return h->role == WG_WS_SERVER ? request_line(h, s, n) : status_line(h, s, n);
	}
	if (n == 0)
		return h->role == WG_WS_SERVER ? finish_server(h) : finish_client(h);
	if (n > h->conf->http_max_header_line)
		return refuse(h, 431);
	return header_line(h, s, n);
}

int
wg_ws_http_feed(struct wg_ws_http *h, const uint8_t *p, size_t len, size_t *used)
{
	size_t i = 0;

	*used = 0;
	if (h->phase == WG_WSH_DONE)
		return 0;
	if (h->phase == WG_WSH_FAILED)
		return -EPROTO;
	while (i < len) {
		const uint8_t *lf = memchr(p + i, '\n', len - i);
		size_t n = lf != NULL ? (size_t)(lf - (p + i)) : len - i;
		size_t take = n + (lf != NULL);
		/* the limit counts the line without CRLF; one byte more for the CR */
		uint32_t limit = h->phase == WG_WSH_FIRST_LINE ? h->conf->http_max_request_line :
			h->conf->http_max_header_line;

		size_t k_line = 0, k_total = 0;

		if (limit > WG_WS_HTTP_LINE_MAX - 1)
			limit = WG_WS_HTTP_LINE_MAX - 1;
		/* the byte that first breaks a limit decides which one is
		 * reported, so the status does not depend on how the
		 * request was cut into chunks */
		if (h->line_len + n > limit + 1)
			k_line = limit + 2 - h->line_len;
		if ((uint64_t)h->total + take > h->conf->http_max_request)
			k_total = h->conf->http_max_request - h->total + 1;
		if (k_line != 0 || k_total != 0) {
			*used = i;
			if (k_total != 0 && (k_line == 0 || k_total < k_line))
				return refuse(h, 431);
			return refuse(h, h->phase == WG_WSH_FIRST_LINE ? 414 : 431);
		}
		memcpy(h->line + h->line_len, p + i, n);
		h->line_len += (uint32_t)n;
		h->total += (uint32_t)take;
		i += take;
		if (lf == NULL)
			break;
		int rc = do_line(h);

		h->line_len = 0;
		if (rc < 0 || h->phase == WG_WSH_DONE) {
			*used = i;
			return rc;
		}
	}
	*used = i;
	return -EAGAIN;
}

const char *
wg_ws_http_protocol(const struct wg_ws_http *h)
{
	if (h->phase != WG_WSH_DONE || h->protocol < 0)
		return NULL;
	return h->conf->protocols[h->protocol];
}

/* bounded appender: stops at the first overflow, sticky */
struct out {
	char *p;
	size_t cap;
	size_t len;
	bool overflow;
};

static void
put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->overflow || o->len + n >= o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static int
out_done(const struct out *o)
{
	return o->overflow ? -ENOSPC : (int)o->len;
}

static const char *
reason_phrase(uint16_t status)
{
	switch (status) {
	case 101: return "101 Switching Protocols";
	case 400: return "400 Bad Request";
	case 403: return "403 Forbidden";
	case 404: return "404 Not Found";
	case 405: return "405 Method Not Allowed";
	case 414: return "414 URI Too Long";
	case 426: return "426 Upgrade Required";
	case 431: return "431 Request Header Fields Too Large";
	case 505: return "505 HTTP Version Not Supported";
	default: return NULL;
	}
}

int
wg_ws_http_response(const struct wg_ws_http *h, char *out, size_t cap)
{
	struct out o = { out, cap, 0, false };
	const char *reason = reason_phrase(h->status);

	if (h->role != WG_WS_SERVER || reason == NULL ||
	    (h->phase != WG_WSH_DONE && h->phase != WG_WSH_FAILED))
		return -EINVAL;
	put(&o, "HTTP/1.1 ");
	put(&o, reason);
	put(&o, "\r\n");
	if (h->status == 101) {
		put(&o, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ");
		put(&o, h->accept);
		put(&o, "\r\n");
		if (h->protocol >= 0) {
			put(&o, "Sec-WebSocket-Protocol: ");
			put(&o, h->conf->protocols[h->protocol]);
			put(&o, "\r\n");
		}
		put(&o, "\r\n");
		return out_done(&o);
	}
	if (h->status == 426)
		put(&o, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
			"Connection: Upgrade, close\r\n");
	else
		put(&o, "Connection: close\r\n");
	if (h->status == 405)
		put(&o, "Allow: GET\r\n");
	put(&o, "Content-Length: 0\r\n\r\n");
	return out_done(&o);
}

/* no CTL, no DEL: nothing that could end or split a header line */
static bool
header_text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

int
wg_ws_http_client_request(struct wg_ws_http *h, const struct wg_ws_conf *conf,
			  const char *host, const char *target, const char *origin,
			  const uint8_t nonce[16], char *out, size_t cap)
{
	struct out o = { out, cap, 0, false };

	if (target == NULL)
		target = conf->path[0] != '\0' ? conf->path : "/";
	if (host == NULL || *host == '\0' || !header_text_ok(host) || target[0] != '/' ||
	    !header_text_ok(target) || strchr(target, ' ') != NULL ||
	    (origin != NULL && !header_text_ok(origin)))
		return -EINVAL;
	http_init(h, conf, WG_WS_CLIENT);
	if (EVP_EncodeBlock((unsigned char *)h->key, nonce, 16) != WG_WS_KEY_LEN)
		return -EIO;
	if (wg_ws_accept_key(h->key, WG_WS_KEY_LEN, h->accept) != 0)
		return -EIO;
	put(&o, "GET ");
	put(&o, target);
	put(&o, " HTTP/1.1\r\nHost: ");
	put(&o, host);
	put(&o, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
	put(&o, h->key);
	put(&o, "\r\nSec-WebSocket-Version: 13\r\n");
	if (origin != NULL) {
		put(&o, "Origin: ");
		put(&o, origin);
		put(&o, "\r\n");
	}
	for (unsigned int i = 0; i < conf->n_protocols; i++) {
		put(&o, i == 0 ? "Sec-WebSocket-Protocol: " : ", ");
		put(&o, conf->protocols[i]);
		if (i + 1 == conf->n_protocols)
			put(&o, "\r\n");
	}
	put(&o, "\r\n");
	return out_done(&o);
}
