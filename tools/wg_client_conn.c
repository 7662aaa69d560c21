/* SPDX-License-Identifier: BSD-3-Clause
 * wg_client's connection: a nonblocking kernel TCP socket, OpenSSL for TLS
 * 1.3, and our own WebSocket (client role) or framed-TCP code on top, all
 * driven by one poll() loop in the caller.
 *
 * Memory is fixed at open: an rx chunk, a tx buffer of a few messages and
 * the handshake parser; the WebSocket parser borrows a buffer of at most
 * max_message bytes for a message split across reads and gives it back
 * once the message was delivered. A sender that outruns the socket gets
 * -ENOBUFS and waits: nothing grows.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "framed.h"
#include "wg_client.h"
#include "ws.h"

#define RX_CHUNK (16 * 1024)
#define TX_SLACK 4096          /* frame headers and control frames */

struct wgc_conn {
	struct wgc_url url;
	struct wgc_conn_opts opts;
	int fd;
	uint8_t phase;                 /* enum wgc_phase */
	bool tls_want_write;           /* the last TLS call needs POLLOUT */
	bool tls_want_read;            /* ... POLLIN (handshake) */
	bool close_queued;             /* our ws close is in tx */
	bool shut;                     /* close_notify and FIN went */
	bool ws_ready;                 /* ws holds parser state (wg_ws_init done) */
	SSL_CTX *ctx;
	SSL *ssl;
	struct addrinfo *ai;           /* resolved addresses */
	struct addrinfo *ai_cur;       /* the one being tried */
	struct wg_ws_conf wsconf;
	struct wg_ws_env env;
	struct wg_ws ws;
	struct wg_ws_http *http;       /* while upgrading */
	struct wg_framed fr;
	uint8_t *rx;
	uint8_t *tx;
	size_t tx_cap, tx_off, tx_len;
	char status_line[96];          /* first line of the upgrade response */
	struct wgc_end end;
	char addr[INET6_ADDRSTRLEN + 8];
	char where[WGC_HOST_LEN + 8 + INET6_ADDRSTRLEN + 8 + 4];  /* "authority (addr)" */
};

/* ------------------------------------------------------------- URLs */

int
wgc_url_parse(struct wgc_url *u, const char *s, char *err, size_t err_len)
{
	static const struct {
		const char *scheme;
		uint8_t transport;
		uint16_t port;
	} schemes[] = {
		{ "ws://", WGC_WS, 80 },
		{ "wss://", WGC_WSS, 443 },
		{ "framed://", WGC_FRAMED, 7443 },
		{ "framed+tls://", WGC_FRAMED_TLS, 7443 },
	};
	const char *p = NULL, *h, *hend, *auth_end;
	uint16_t def_port = 0;
	unsigned char tmp[16];
	size_t hl;

	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);

		if (strncasecmp(s, schemes[i].scheme, n) == 0) {
			p = s + n;
			u->transport = schemes[i].transport;
			def_port = schemes[i].port;
			break;
		}
	}
	if (p == NULL) {
		snprintf(err, err_len, "'%s': expected ws://, wss://, framed:// or framed+tls://", s);
		return -EINVAL;
	}
	u->tls = u->transport == WGC_WSS || u->transport == WGC_FRAMED_TLS;
	u->ws = u->transport == WGC_WS || u->transport == WGC_WSS;
	u->port = def_port;
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)) != NULL) {
		snprintf(err, err_len, "'%s': user information is not supported", s);
		return -EINVAL;
	}
	if (*p == '[') {
		h = p + 1;
		hend = memchr(h, ']', (size_t)(auth_end - h));
		if (hend == NULL) {
			snprintf(err, err_len, "'%s': unterminated IPv6 address", s);
			return -EINVAL;
		}
		p = hend + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(auth_end - p));

		if (colon != NULL && memchr(colon + 1, ':', (size_t)(auth_end - colon - 1)) != NULL) {
			snprintf(err, err_len, "'%s': IPv6 addresses go in brackets", s);
			return -EINVAL;
		}
		h = p;
		hend = colon != NULL ? colon : auth_end;
		p = hend;
	}
	hl = (size_t)(hend - h);
	if (hl == 0 || hl >= sizeof(u->host)) {
		snprintf(err, err_len, "'%s': %s host", s, hl ? "too long a" : "no");
		return -EINVAL;
	}
	memcpy(u->host, h, hl);
	u->host[hl] = '\0';
	for (size_t i = 0; i < hl; i++) {
		char ch = u->host[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '-' || ch == '_' || ch == ':')) {
			snprintf(err, err_len, "'%s': bad character in the host", s);
			return -EINVAL;
		}
	}
	if (h[-1] == '[' && inet_pton(AF_INET6, u->host, tmp) != 1) {
		snprintf(err, err_len, "'%s': bad IPv6 address", s);
		return -EINVAL;
	}
	u->host_is_ip = inet_pton(AF_INET, u->host, tmp) == 1 ||
			inet_pton(AF_INET6, u->host, tmp) == 1;
	if (p < auth_end && *p == ':') {
		unsigned long port = 0;

		p++;
		if (p == auth_end) {
			snprintf(err, err_len, "'%s': empty port", s);
			return -EINVAL;
		}
		for (; p < auth_end; p++) {
			if (*p < '0' || *p > '9' || (port = port * 10 + (unsigned long)(*p - '0')) > 65535)
				break;
		}
		if (p != auth_end || port == 0) {
			snprintf(err, err_len, "'%s': bad port", s);
			return -EINVAL;
		}
		u->port = (uint16_t)port;
	} else if (p != auth_end) {
		snprintf(err, err_len, "'%s': bad authority", s);
		return -EINVAL;
	}
	if (*auth_end == '#' || strchr(auth_end, '#') != NULL) {
		snprintf(err, err_len, "'%s': fragments are not sent to a server", s);
		return -EINVAL;
	}
	if (!u->ws && *auth_end != '\0' && strcmp(auth_end, "/") != 0) {
		snprintf(err, err_len, "'%s': framed TCP has no path", s);
		return -EINVAL;
	}
	if (u->ws) {
		size_t pl = strlen(auth_end);

		if (pl + 2 > sizeof(u->path)) {
			snprintf(err, err_len, "'%s': path too long", s);
			return -EINVAL;
		}
		if (*auth_end == '/')
			memcpy(u->path, auth_end, pl + 1);
		else
			snprintf(u->path, sizeof(u->path), "/%s", auth_end);
		for (const char *q = u->path; *q != '\0'; q++) {
			if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f) {
				snprintf(err, err_len, "'%s': path needs percent-encoding", s);
				return -EINVAL;
			}
		}
	}
	if (h[-1] == '[')
		snprintf(u->authority, sizeof(u->authority), "[%s]", u->host);
	else
		snprintf(u->authority, sizeof(u->authority), "%s", u->host);
	if (u->port != (u->tls ? 443 : 80) || !u->ws)
		snprintf(u->authority + strlen(u->authority),
			 sizeof(u->authority) - strlen(u->authority), ":%u", u->port);
	return 0;
}

/* ------------------------------------------------------------ setup */

static void *
buf_get(void *arg, uint32_t size)
{
	(void)arg;
	return malloc(size ? size : 1);
}

static void
buf_put(void *arg, void *buf)
{
	(void)arg;
	free(buf);
}

/* Mask keys must be unpredictable to intermediaries (RFC 6455 10.3). */
static uint32_t
rng(void *arg)
{
	uint32_t r = 0;

	(void)arg;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (uint32_t)random();
	return r;
}

static void
fail(struct wgc_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct wgc_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->end.failed) {
		va_start(ap, fmt);
		vsnprintf(c->end.err, sizeof(c->end.err), fmt, ap);
		va_end(ap);
		c->end.failed = true;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->phase = WGC_PH_DONE;
}

/* The OpenSSL reason for a failed call, verification first. */
static void
tls_reason(struct wgc_conn *c, int ret, char *out, size_t cap)
{
	int e = SSL_get_error(c->ssl, ret);
	long vr = SSL_get_verify_result(c->ssl);
	unsigned long le = 0, x;
	int saved = errno;

	while ((x = ERR_get_error()) != 0)
		le = x;
	if (vr != X509_V_OK && c->phase == WGC_PH_TLS) {
		snprintf(out, cap, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
	} else if (le != 0) {
		char buf[200];

		ERR_error_string_n(le, buf, sizeof(buf));
		snprintf(out, cap, "%s", buf);
	} else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
		snprintf(out, cap, "%s", saved != 0 && e == SSL_ERROR_SYSCALL ? strerror(saved) :
			 "connection closed by the peer");
	} else {
		snprintf(out, cap, "SSL error %d", e);
	}
}

/* "host:port (address)" for messages, the address only when it is the same */
static const char *
where(struct wgc_conn *c)
{
	if (strcmp(c->url.authority, c->addr) == 0)
		snprintf(c->where, sizeof(c->where), "%s", c->addr);
	else
		snprintf(c->where, sizeof(c->where), "%s (%s)", c->url.authority, c->addr);
	return c->where;
}

static int
connect_next(struct wgc_conn *c)
{
	int last = 0;

	for (; c->ai_cur != NULL; c->ai_cur = c->ai_cur->ai_next) {
		struct addrinfo *a = c->ai_cur;
		char host[INET6_ADDRSTRLEN];
		int fd;

		if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), NULL, 0,
				NI_NUMERICHOST) != 0)
			snprintf(host, sizeof(host), "?");
		snprintf(c->addr, sizeof(c->addr), a->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
			 host, c->url.port);
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
			c->fd = fd;
			c->phase = WGC_PH_CONNECTING;
			return 0;
		}
		last = errno;
		close(fd);
	}
	fail(c, "connect to %s: %s", where(c), strerror(last));
	return -last;
}

struct wgc_conn *
wgc_conn_open(const struct wgc_url *u, const struct wgc_conn_opts *o, char *err, size_t err_len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct wgc_conn *c = calloc(1, sizeof(*c));
	char port[8];
	int rc;

	if (c == NULL)
		goto nomem;
	c->fd = -1;
	c->url = *u;
	c->opts = *o;
	c->env = (struct wg_ws_env){ buf_get, buf_put, rng, NULL, { 0 } };
	wg_ws_conf_defaults(&c->wsconf);
	c->wsconf.max_message = o->max_message;
	c->wsconf.framed_max_message = o->max_message;
	if (o->protocols != NULL && *o->protocols != '\0') {
		const char *p = o->protocols;

		while (*p != '\0') {
			size_t n = strcspn(p, ", ");

			if (n > 0) {
				if (c->wsconf.n_protocols == WG_WS_MAX_PROTOCOLS ||
				    n >= WG_WS_PROTOCOL_LEN) {
					snprintf(err, err_len, "too many or too long subprotocols");
					errno = EINVAL;
					goto err;
				}
				memcpy(c->wsconf.protocols[c->wsconf.n_protocols], p, n);
				c->wsconf.protocols[c->wsconf.n_protocols++][n] = '\0';
			}
			p += n;
			p += strspn(p, ", ");
		}
	}
	if (wg_ws_conf_check(&c->wsconf, err, err_len) != 0) {
		errno = EINVAL;
		goto err;
	}
	/* a few messages of room: pipelined sends and the protocol's own */
	c->tx_cap = 4 * ((size_t)o->max_message + WG_WS_MAX_HDR + WG_FRAMED_HDR) + TX_SLACK;
	c->tx = malloc(c->tx_cap);
	c->rx = malloc(RX_CHUNK);
	if (c->tx == NULL || c->rx == NULL)
		goto nomem;
	if (u->ws) {
		c->http = malloc(sizeof(*c->http));
		if (c->http == NULL)
			goto nomem;
	} else if (wg_framed_init(&c->fr, o->max_message, &c->env) != 0) {
		snprintf(err, err_len, "bad message limit");
		errno = EINVAL;
		goto err;
	}
	if (u->tls) {
		c->ctx = SSL_CTX_new(TLS_client_method());
		if (c->ctx == NULL || SSL_CTX_set_min_proto_version(c->ctx, TLS1_3_VERSION) != 1)
			goto tls_err;
		if (o->ca_file != NULL) {
			if (SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1) {
				snprintf(err, err_len, "cannot load CA file %s", o->ca_file);
				errno = EINVAL;
				goto err;
			}
		} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			goto tls_err;
		}
		SSL_CTX_set_verify(c->ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
		/* a peer's FIN without close_notify is an end like any other for
		 * us: the protocol above says whether it was clean */
		SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	}
	snprintf(port, sizeof(port), "%u", u->port);
	rc = getaddrinfo(u->host, port, &hints, &c->ai);
	if (rc != 0) {
		snprintf(err, err_len, "%s: %s", u->host, gai_strerror(rc));
		errno = EHOSTUNREACH;
		goto err;
	}
	c->ai_cur = c->ai;
	if (connect_next(c) != 0) {
		snprintf(err, err_len, "%s", c->end.err);
		errno = ECONNREFUSED;
		goto err;
	}
	return c;
tls_err:
	ERR_error_string_n(ERR_get_error(), err, err_len);
	errno = EIO;
	goto err;
nomem:
	snprintf(err, err_len, "out of memory");
	errno = ENOMEM;
err:
	rc = errno;
	wgc_conn_free(c);
	errno = rc;
	return NULL;
}

void
wgc_conn_free(struct wgc_conn *c)
{
	if (c == NULL)
		return;
	if (c->ws_ready)
		wg_ws_release(&c->ws);
	else if (!c->url.ws)
		wg_framed_release(&c->fr);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	if (c->ai != NULL)
		freeaddrinfo(c->ai);
	free(c->http);
	free(c->tx);
	free(c->rx);
	free(c);
}

int
wgc_conn_fd(const struct wgc_conn *c)
{
	return c->fd;
}

int
wgc_conn_phase(const struct wgc_conn *c)
{
	return c->phase;
}

const struct wgc_end *
wgc_conn_end(const struct wgc_conn *c)
{
	return &c->end;
}

short
wgc_conn_events(const struct wgc_conn *c)
{
	short ev = 0;

	switch (c->phase) {
	case WGC_PH_CONNECTING:
		return POLLOUT;
	case WGC_PH_TLS:
		return (short)((c->tls_want_write ? POLLOUT : 0) | (c->tls_want_read ? POLLIN : 0));
	case WGC_PH_DONE:
		return 0;
	default:
		ev = POLLIN;
		if (c->tx_len > 0 || c->tls_want_write)
			ev |= POLLOUT;
		return ev;
	}
}

size_t
wgc_conn_tx_room(const struct wgc_conn *c)
{
	return c->tx_cap - c->tx_len;
}

/* Contiguous free space at the tail of tx (compacting first). */
static uint8_t *
tx_tail(struct wgc_conn *c, size_t *room)
{
	if (c->tx_off > 0) {
		memmove(c->tx, c->tx + c->tx_off, c->tx_len);
		c->tx_off = 0;
	}
	*room = c->tx_cap - c->tx_len;
	return c->tx + c->tx_len;
}

/* ------------------------------------------------------------ bytes */

/* Write what tx holds. 0, or -1 after fail(). */
static int
flush(struct wgc_conn *c)
{
	c->tls_want_write = false;
	while (c->tx_len > 0) {
		ssize_t w;

		if (c->ssl != NULL) {
			int r;

			ERR_clear_error();
			r = SSL_write(c->ssl, c->tx + c->tx_off, (int)(c->tx_len > INT32_MAX ? INT32_MAX :
									c->tx_len));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				char why[256];

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
					return 0;
				}
				tls_reason(c, r, why, sizeof(why));
				fail(c, "send to %s: %s", c->url.authority, why);
				return -1;
			}
			w = r;
		} else {
			w = send(c->fd, c->tx + c->tx_off, c->tx_len, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return 0;
				fail(c, "send to %s: %s", c->url.authority, strerror(errno));
				return -1;
			}
		}
		c->tx_off += (size_t)w;
		c->tx_len -= (size_t)w;
	}
	c->tx_off = 0;
	return 0;
}

/* Read once: bytes, 0 at the end of the stream, -EAGAIN, or -1 after fail(). */
static ssize_t
rd(struct wgc_conn *c, uint8_t *buf, size_t cap)
{
	ssize_t r;

	if (c->ssl != NULL) {
		int n, e;
		char why[256];

		ERR_clear_error();
		n = SSL_read(c->ssl, buf, (int)cap);
		if (n > 0)
			return n;
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			return -EAGAIN;
		if (e == SSL_ERROR_WANT_WRITE) {
			c->tls_want_write = true;
			return -EAGAIN;
		}
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_SYSCALL && errno == 0)
			return 0;
		tls_reason(c, n, why, sizeof(why));
		fail(c, "receive from %s: %s", c->url.authority, why);
		return -1;
	}
	for (;;) {
		r = recv(c->fd, buf, cap, 0);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		fail(c, "receive from %s: %s", c->url.authority, strerror(errno));
		return -1;
	}
}

/* Our part of the end of the transport: close_notify, then FIN. */
static void
shut(struct wgc_conn *c)
{
	if (c->shut || c->fd < 0)
		return;
	c->shut = true;
	if (c->ssl != NULL) {
		ERR_clear_error();
		SSL_shutdown(c->ssl);
	}
	shutdown(c->fd, SHUT_WR);
}

/* End of the stream: the peer's own close, or the last step of ours. */
static void
peer_gone(struct wgc_conn *c)
{
	if (!c->close_queued) {
		c->end.by_peer = true;
		if (c->url.ws && !c->end.close_frame)
			c->end.code = WG_WS_CLOSE_ABNORMAL;
	}
	if (c->fd >= 0) {
		shut(c);
		close(c->fd);
		c->fd = -1;
	}
	c->phase = WGC_PH_DONE;
}

/* --------------------------------------------------------- handshake */

static void
upgrade_start(struct wgc_conn *c)
{
	uint8_t nonce[16];
	size_t room;
	uint8_t *t = tx_tail(c, &room);
	int n;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		fail(c, "no random bytes for the WebSocket key");
		return;
	}
	n = wg_ws_http_client_request(c->http, &c->wsconf, c->url.authority, c->url.path,
				      c->opts.origin, nonce, (char *)t, room);
	if (n < 0) {
		fail(c, "cannot build the upgrade request: %s", strerror(-n));
		return;
	}
	c->tx_len += (size_t)n;
	c->phase = WGC_PH_UPGRADE;
}

static void
opened(struct wgc_conn *c)
{
	if (c->url.ws)
		upgrade_start(c);
	else
		c->phase = WGC_PH_OPEN;
}

static void
tls_step(struct wgc_conn *c)
{
	int r, e;
	char why[256];

	ERR_clear_error();
	r = SSL_connect(c->ssl);
	if (r == 1) {
		c->tls_want_read = c->tls_want_write = false;
		opened(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_want_read = e == SSL_ERROR_WANT_READ;
		c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
		return;
	}
	tls_reason(c, r, why, sizeof(why));
	fail(c, "TLS handshake with %s: %s", where(c), why);
}

static void
tls_start(struct wgc_conn *c)
{
	const char *name = c->opts.sni != NULL ? c->opts.sni : c->url.host;
	static const unsigned char alpn[] = "\x08http/1.1";

	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		goto err;
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* SNI carries names only (RFC 6066 3) */
	if ((c->opts.sni != NULL || !c->url.host_is_ip) &&
	    SSL_set_tlsext_host_name(c->ssl, name) != 1)
		goto err;
	if (!c->opts.insecure) {
		if (c->opts.sni == NULL && c->url.host_is_ip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->url.host) != 1)
				goto err;
		} else if (SSL_set1_host(c->ssl, name) != 1) {
			goto err;
		}
	}
	if (c->url.ws && SSL_set_alpn_protos(c->ssl, alpn, sizeof(alpn) - 1) != 0)
		goto err;
	c->phase = WGC_PH_TLS;
	tls_step(c);
	return;
err:
	fail(c, "TLS set-up: %s", ERR_error_string(ERR_get_error(), NULL));
}

static void
connected(struct wgc_conn *c)
{
	int err = 0, one = 1;
	socklen_t el = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err != 0) {
		close(c->fd);
		c->fd = -1;
		c->ai_cur = c->ai_cur->ai_next;
		if (c->ai_cur == NULL)
			fail(c, "connect to %s: %s", where(c), strerror(err));
		else
			connect_next(c);
		return;
	}
	/* one message per write: no Nagle delays */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (c->url.tls)
		tls_start(c);
	else
		opened(c);
}

/* --------------------------------------------------------- messages */

/* Frames (or framed messages) from rx[0..n): events to cb, replies to tx. */
static void
consume(struct wgc_conn *c, uint8_t *p, size_t n, wgc_msg_cb cb, void *arg)
{
	size_t off = 0;

	while (off < n && c->phase != WGC_PH_DONE) {
		struct wg_ws_event ev;
		size_t used = 0, room;
		uint8_t *t;
		int rc, k;

		if (c->url.ws)
			rc = wg_ws_recv(&c->ws, p + off, n - off, &ev, &used);
		else
			rc = wg_framed_recv(&c->fr, p + off, n - off, &ev, &used);
		off += used;
		if (rc < 0) {
			fail(c, "out of memory for a %s message", c->url.ws ? "WebSocket" : "framed");
			return;
		}
		switch (rc) {
		case WG_WS_EV_MESSAGE:
			cb(arg, ev.opcode == WG_WS_OP_TEXT, ev.data, ev.len);
			if (ev.buf != NULL)
				c->env.buf_put(c->env.arg, ev.buf);
			break;
		case WG_WS_EV_PING:
			t = tx_tail(c, &room);
			k = wg_ws_reply(&c->ws, &ev, t, room);
			if (k > 0)
				c->tx_len += (size_t)k;
			break;
		case WG_WS_EV_CLOSE:
			c->end.close_frame = true;
			c->end.by_peer = !c->close_queued;
			c->end.code = ev.code;
			snprintf(c->end.reason, sizeof(c->end.reason), "%.*s", (int)ev.len,
				 (const char *)ev.data);
			/* echo it (nothing when ours went first) */
			t = tx_tail(c, &room);
			k = wg_ws_reply(&c->ws, &ev, t, room);
			if (k > 0)
				c->tx_len += (size_t)k;
			c->close_queued = true;
			c->phase = WGC_PH_CLOSING;
			break;
		case WG_WS_EV_ERROR:
			if (!c->url.ws) {
				fail(c, "the server announced a message over %u bytes "
				     "(--max-message)", c->opts.max_message);
				return;
			}
			snprintf(c->end.err, sizeof(c->end.err),
				 "the server broke the WebSocket protocol (we close with %u)", ev.code);
			c->end.failed = true;
			t = tx_tail(c, &room);
			k = wg_ws_reply(&c->ws, &ev, t, room);
			if (k > 0)
				c->tx_len += (size_t)k;
			c->close_queued = true;
			c->phase = WGC_PH_CLOSING;
			break;
		default:
			break;
		}
	}
}

static void
upgrade_input(struct wgc_conn *c, uint8_t *p, size_t n, wgc_msg_cb cb, void *arg)
{
	size_t used = 0;
	int rc;

	if (c->status_line[0] == '\0') {
		size_t l = strcspn((const char *)p, "\r\n");

		if (l > n)
			l = n;
		snprintf(c->status_line, sizeof(c->status_line), "%.*s", (int)l, (const char *)p);
	}
	rc = wg_ws_http_feed(c->http, p, n, &used);
	if (rc == -EAGAIN)
		return;
	if (rc != 0) {
		if (c->http->status != 101 && c->http->status != 0)
			fail(c, "WebSocket upgrade refused by %s: HTTP %u (\"%s\")",
			     c->url.authority, c->http->status, c->status_line);
		else
			fail(c, "bad WebSocket upgrade response from %s (\"%s\")",
			     c->url.authority, c->status_line);
		return;
	}
	free(c->http);
	c->http = NULL;
	if (wg_ws_init(&c->ws, &c->wsconf, &c->env, WG_WS_CLIENT) != 0) {
		fail(c, "WebSocket set-up failed");
		return;
	}
	c->ws_ready = true;
	c->phase = WGC_PH_OPEN;
	/* frames the server sent right behind its response */
	consume(c, p + used, n - used, cb, arg);
}

int
wgc_conn_io(struct wgc_conn *c, short revents, wgc_msg_cb cb, void *arg)
{
	if (c->phase == WGC_PH_DONE)
		return c->phase;
	if (c->phase == WGC_PH_CONNECTING) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return c->phase;
		connected(c);
		if (c->phase != WGC_PH_UPGRADE && c->phase != WGC_PH_OPEN)
			return c->phase;
	} else if (c->phase == WGC_PH_TLS) {
		tls_step(c);
		if (c->phase != WGC_PH_UPGRADE && c->phase != WGC_PH_OPEN)
			return c->phase;
	}
	if (c->tx_len > 0 && flush(c) != 0)
		return c->phase;
	for (;;) {
		ssize_t r = rd(c, c->rx, RX_CHUNK - 1);

		if (r == -EAGAIN)
			break;
		if (r < 0)
			return c->phase;
		if (r == 0) {
			if (c->phase == WGC_PH_UPGRADE) {
				fail(c, "%s closed the connection during the WebSocket upgrade",
				     c->url.authority);
				return c->phase;
			}
			peer_gone(c);
			return c->phase;
		}
		/* NUL after the bytes: the status line is read as a string */
		c->rx[r] = 0;
		if (c->phase == WGC_PH_UPGRADE)
			upgrade_input(c, c->rx, (size_t)r, cb, arg);
		else if (c->phase == WGC_PH_OPEN || c->phase == WGC_PH_CLOSING)
			consume(c, c->rx, (size_t)r, cb, arg);
		if (c->phase == WGC_PH_DONE)
			return c->phase;
	}
	if (c->tx_len > 0 && flush(c) != 0)
		return c->phase;
	/* both closes went (ws) or ours did (framed): the transport ends */
	if (c->phase == WGC_PH_CLOSING && c->tx_len == 0 &&
	    (!c->url.ws || wg_ws_closed(&c->ws) || c->end.failed))
		shut(c);
	return c->phase;
}

int
wgc_conn_send(struct wgc_conn *c, bool text, const void *data, size_t len)
{
	size_t room;
	uint8_t *t;
	int n;

	if (c->phase != WGC_PH_OPEN)
		return -EPIPE;
	if (len > c->opts.max_message)
		return -EMSGSIZE;
	t = tx_tail(c, &room);
	if (c->url.ws)
		n = wg_ws_build_msg(&c->ws, text ? WG_WS_OP_TEXT : WG_WS_OP_BINARY, data, len, 0, t,
				    room);
	else
		n = wg_framed_build(data, (uint32_t)len, c->opts.max_message, t, room);
	if (n == -ENOSPC)
		return -ENOBUFS;
	if (n < 0)
		return n;
	c->tx_len += (size_t)n;
	return 0;
}

int
wgc_conn_close(struct wgc_conn *c, uint16_t code, const char *reason)
{
	size_t room;
	uint8_t *t;
	int n;

	if (c->phase == WGC_PH_DONE || c->phase == WGC_PH_CLOSING)
		return 0;
	if (c->phase != WGC_PH_OPEN) {
		wgc_conn_abort(c, NULL);
		return 0;
	}
	if (c->url.ws) {
		t = tx_tail(c, &room);
		n = wg_ws_build_close(&c->ws, code, reason, reason ? strlen(reason) : 0, t, room);
		if (n < 0)
			return n;
		c->tx_len += (size_t)n;
	}
	c->close_queued = true;
	c->phase = WGC_PH_CLOSING;
	if (flush(c) == 0 && c->tx_len == 0 && !c->url.ws)
		shut(c);
	return 0;
}

void
wgc_conn_abort(struct wgc_conn *c, const char *why)
{
	if (c->phase == WGC_PH_DONE)
		return;
	if (why != NULL && !c->end.failed) {
		snprintf(c->end.err, sizeof(c->end.err), "%s", why);
		c->end.failed = true;
	}
	if (c->phase >= WGC_PH_UPGRADE)
		shut(c);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->phase = WGC_PH_DONE;
}

void
wgc_conn_describe(const struct wgc_conn *c, char *out, size_t cap)
{
	int n = strcmp(c->url.authority, c->addr) == 0 ?
		snprintf(out, cap, "%s", c->addr) :
		snprintf(out, cap, "%s (%s)", c->url.authority, c->addr);

	if (c->ssl != NULL && n >= 0 && (size_t)n < cap) {
		const unsigned char *alpn = NULL;
		unsigned int al = 0;

		SSL_get0_alpn_selected(c->ssl, &alpn, &al);
		n += snprintf(out + n, cap - (size_t)n, " %s %s%s%.*s%s", SSL_get_version(c->ssl),
			      SSL_get_cipher_name(c->ssl), al ? " alpn " : "", (int)al,
			      al ? (const char *)alpn : "",
			      c->opts.insecure ? " (certificate NOT verified)" : "");
	}
}
