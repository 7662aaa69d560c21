/* SPDX-License-Identifier: BSD-3-Clause
 * Test peer for the WebSocket library over kernel sockets (built for tests
 * only): the library's server and client roles against python3-websockets,
 * blocking I/O on 127.0.0.1, one connection at a time.
 *
 * Server (default): listens on an ephemeral port of 127.0.0.1, prints
 * "PORT n", serves connections until killed. Path /ws, subprotocols
 * warpgate.v1 and chat, Origin allow-list http://allowed.example, 64 KiB
 * messages. Each message is echoed with its opcode, except commands:
 *   cmd:close:CODE:REASON  we close with CODE and REASON
 *   cmd:ping:DATA          we ping with DATA; the pong comes back as a
 *                          text message "pong:DATA"
 *   cmd:frag:N:TEXT        TEXT echoed as fragments of N bytes
 *   cmd:stats              a text message with our counters
 * A close from the peer is answered with its own code and reason, so the
 * peer can check both were parsed. A protocol error is answered with the
 * close code the library chose; then the connection is closed.
 *
 * Client (--client PORT N): connects to an echo server on 127.0.0.1:PORT
 * with subprotocol warpgate.v1, sends N messages of assorted sizes (text
 * and binary, some fragmented, pings between), checks every echo byte for
 * byte, then closes with 1000 "bye" and checks the close coming back.
 * Exits 0 only if all of that held.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws.h"

#define RX_CHUNK (16 * 1024)
#define TX_MAX (256 * 1024)

static uint8_t tx[TX_MAX];

static void *
heap_get(void *arg, uint32_t size)
{
	(void)arg;
	return malloc(size ? size : 1);
}

static void
heap_put(void *arg, void *buf)
{
	(void)arg;
	free(buf);
}

static uint32_t
xorshift(void *arg)
{
	uint64_t *s = arg;

	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static struct wg_ws_env env = { heap_get, heap_put, xorshift, &rng_state, { 0 } };

static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_frame(int fd, struct wg_ws *ws, bool fin, uint8_t op, const void *p, size_t len)
{
	int n = wg_ws_build(ws, fin, op, p, len, tx, sizeof(tx));

	if (n < 0) {
		fprintf(stderr, "build op %u len %zu: %s\n", op, len, strerror(-n));
		return n;
	}
	return write_all(fd, tx, (size_t)n);
}

static int
send_close(int fd, struct wg_ws *ws, uint16_t code, const char *reason, size_t rlen)
{
	int n = wg_ws_build_close(ws, code, reason, rlen, tx, sizeof(tx));

	if (n < 0)
		return n;
	return write_all(fd, tx, (size_t)n);
}

/* ------------------------------------------------------------ server */

static struct wg_ws_conf sconf;
static unsigned int conns;

/* a command message; returns 1 if it was one, <0 on error */
static int
command(int fd, struct wg_ws *ws, const struct wg_ws_event *ev)
{
	const char *s = (const char *)ev->data;
	size_t n = ev->len;
	char tmp[256];
	int k;

	if (ev->opcode != WG_WS_OP_TEXT || n < 4 || memcmp(s, "cmd:", 4) != 0)
		return 0;
	if (n > 10 && memcmp(s, "cmd:close:", 10) == 0) {
		unsigned int code = 0;
		size_t i = 10;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			code = code * 10 + (unsigned int)(s[i++] - '0');
		if (i < n && s[i] == ':')
			i++;
		return send_close(fd, ws, (uint16_t)code, s + i, n - i) < 0 ? -1 : 1;
	}
	if (n >= 9 && memcmp(s, "cmd:ping:", 9) == 0)
		return send_frame(fd, ws, true, WG_WS_OP_PING, s + 9, n - 9) < 0 ? -1 : 1;
	if (n > 9 && memcmp(s, "cmd:frag:", 9) == 0) {
		size_t i = 9, step = 0;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			step = step * 10 + (size_t)(s[i++] - '0');
		if (i < n && s[i] == ':')
			i++;
		if (step == 0)
			step = 1;
		k = wg_ws_build_msg(ws, WG_WS_OP_TEXT, s + i, n - i, step, tx, sizeof(tx));
		if (k < 0 || write_all(fd, tx, (size_t)k) < 0)
			return -1;
		return 1;
	}
	if (n == 9 && memcmp(s, "cmd:stats", 9) == 0) {
		k = snprintf(tmp, sizeof(tmp),
			     "msgs=%" PRIu64 " in_place=%" PRIu64 " pings=%" PRIu64
			     " pongs=%" PRIu64 " conns=%u",
			     env.stats.rx_msgs, env.stats.rx_in_place, env.stats.rx_pings,
			     env.stats.rx_pongs, conns);
		return send_frame(fd, ws, true, WG_WS_OP_TEXT, tmp, (size_t)k) < 0 ? -1 : 1;
	}
	return 0;
}

/* Frames until the connection ends. 0 when it ended cleanly. */
static int
serve_frames(int fd, struct wg_ws *ws, uint8_t *buf, size_t have)
{
	char pong[WG_WS_MAX_CTL + 5];

	for (;;) {
		size_t off = 0;

		while (off < have) {
			struct wg_ws_event ev;
			size_t used;
			int rc = wg_ws_recv(ws, buf + off, have - off, &ev, &used), n;

			if (rc < 0) {
				fprintf(stderr, "recv: %s\n", strerror(-rc));
				return -1;
			}
			off += used;
			switch (rc) {
			case WG_WS_EV_MESSAGE:
				n = command(fd, ws, &ev);
				if (n == 0)
					n = send_frame(fd, ws, true, ev.opcode, ev.data, ev.len);
				free(ev.buf);
				if (n < 0)
					return -1;
				break;
			case WG_WS_EV_PING:
				n = wg_ws_reply(ws, &ev, tx, sizeof(tx));
				if (n > 0 && write_all(fd, tx, (size_t)n) < 0)
					return -1;
				break;
			case WG_WS_EV_PONG:
				memcpy(pong, "pong:", 5);
				memcpy(pong + 5, ev.data, ev.len);
				if (wg_ws_can_send(ws) &&
				    send_frame(fd, ws, true, WG_WS_OP_TEXT, pong, ev.len + 5) < 0)
					return -1;
				break;
			case WG_WS_EV_CLOSE:
				fprintf(stderr, "close from peer: %u '%.*s'\n", ev.code, (int)ev.len,
					(const char *)ev.data);
				if (ws->state == WG_WS_CLOSE_RCVD) {
					/* echo code and reason: the peer checks both */
					if (ev.code == WG_WS_CLOSE_NO_STATUS)
						n = send_close(fd, ws, 0, NULL, 0);
					else
						n = send_close(fd, ws, ev.code, (const char *)ev.data,
							       ev.len);
					if (n < 0)
						return -1;
				}
				return 0;
			case WG_WS_EV_ERROR:
				fprintf(stderr, "protocol error: close %u\n", ev.code);
				n = wg_ws_reply(ws, &ev, tx, sizeof(tx));
				if (n > 0)
					write_all(fd, tx, (size_t)n);
				return 0;
			default:
				break;
			}
		}
		ssize_t r = read(fd, buf, RX_CHUNK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "peer went away (%zd)\n", r);
			return r == 0 ? 0 : -1;
		}
		have = (size_t)r;
	}
}

static void
serve_conn(int fd)
{
	static struct wg_ws_http h;
	uint8_t *buf = malloc(RX_CHUNK);
	struct wg_ws ws;
	char resp[1024];
	int rc = -EAGAIN, n;
	size_t used = 0;
	ssize_t r = 0;

	if (buf == NULL)
		goto out;
	wg_ws_http_server_init(&h, &sconf);
	while (rc == -EAGAIN) {
		r = read(fd, buf, RX_CHUNK);
		if (r <= 0)
			goto out;
		rc = wg_ws_http_feed(&h, buf, (size_t)r, &used);
	}
	n = wg_ws_http_response(&h, resp, sizeof(resp));
	if (n < 0 || write_all(fd, resp, (size_t)n) < 0)
		goto out;
	if (rc != 0) {
		fprintf(stderr, "handshake refused: %u\n", h.status);
		goto out;
	}
	fprintf(stderr, "handshake ok: target %s protocol %s, %zd bytes pipelined\n", h.target,
		wg_ws_http_protocol(&h) ? wg_ws_http_protocol(&h) : "-", r - (ssize_t)used);
	if (wg_ws_init(&ws, &sconf, &env, WG_WS_SERVER) != 0)
		goto out;
	/* the client's first frames may have come with the request */
	memmove(buf, buf + used, (size_t)r - used);
	serve_frames(fd, &ws, buf, (size_t)r - used);
	wg_ws_release(&ws);
out:
	/* server closes the TCP connection first (RFC 6455 7.1.1) */
	shutdown(fd, SHUT_WR);
	{
		struct timeval tv = { 1, 0 };
		uint8_t drain[512];

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (read(fd, drain, sizeof(drain)) > 0)
			;
	}
	close(fd);
	free(buf);
}

static int
run_server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	wg_ws_conf_defaults(&sconf);
	strcpy(sconf.path, "/ws");
	strcpy(sconf.protocols[0], "warpgate.v1");
	strcpy(sconf.protocols[1], "chat");
	sconf.n_protocols = 2;
	strcpy(sconf.origins[0], "http://allowed.example");
	sconf.n_origins = 1;
	sconf.http_max_headers = 32;
	if (wg_ws_conf_check(&sconf, NULL, 0) != 0)
		return 1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 16) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
		perror("listen");
		return 1;
	}
	printf("PORT %u\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(ls, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		conns++;
		serve_conn(fd);
	}
}

/* ------------------------------------------------------------ client */

struct rx {
	int fd;
	struct wg_ws *ws;
	uint8_t buf[RX_CHUNK];
	size_t off, have;
};

/* next event from the connection (reads as needed); 0 or -1 */
static int
next_event(struct rx *x, struct wg_ws_event *ev)
{
	for (;;) {
		while (x->off < x->have) {
			size_t used;
			int rc = wg_ws_recv(x->ws, x->buf + x->off, x->have - x->off, ev, &used);

			if (rc < 0)
				return -1;
			x->off += used;
			if (rc != WG_WS_EV_NONE)
				return 0;
		}
		ssize_t r = read(x->fd, x->buf, sizeof(x->buf));

		if (r <= 0)
			return -1;
		x->off = 0;
		x->have = (size_t)r;
	}
}

static void
fill(uint8_t *p, size_t n, bool text, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = text ? (uint8_t)(' ' + (seed >> 16) % 95) : (uint8_t)(seed >> 16);
	}
	/* a 2-byte character in text now and then */
	if (text && n >= 4) {
		p[n / 2] = 0xc3;
		p[n / 2 + 1] = 0xa9;
	}
}

static int
run_client(unsigned int port, unsigned int count)
{
	static struct rx x;
	static struct wg_ws_http h;
	static uint8_t msg[70000];
	struct wg_ws_conf conf;
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct wg_ws ws;
	struct wg_ws_event ev;
	uint8_t nonce[16];
	char req[1024];
	size_t used = 0;
	int fd, n, rc = -EAGAIN;
	unsigned int i, frags = 0, pings = 0;

	wg_ws_conf_defaults(&conf);
	strcpy(conf.path, "/echo");
	strcpy(conf.protocols[0], "warpgate.v1");
	conf.n_protocols = 1;
	conf.require_protocol = 1;
	conf.max_message = sizeof(msg);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("connect");
		return 1;
	}
	/* frames go out in several writes: no Nagle/delayed-ACK stalls */
	n = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &n, sizeof(n));
	for (i = 0; i < 4; i++) {
		uint32_t r = xorshift(&rng_state);

		memcpy(nonce + 4 * i, &r, 4);
	}
	n = wg_ws_http_client_request(&h, &conf, "127.0.0.1", NULL, NULL, nonce, req, sizeof(req));
	if (n < 0 || write_all(fd, req, (size_t)n) < 0)
		return 1;
	x.fd = fd;
	x.ws = &ws;
	while (rc == -EAGAIN) {
		ssize_t r = read(fd, x.buf, sizeof(x.buf));

		if (r <= 0)
			return 1;
		x.have = (size_t)r;
		rc = wg_ws_http_feed(&h, x.buf, x.have, &used);
	}
	if (rc != 0) {
		fprintf(stderr, "client handshake failed: status %u\n", h.status);
		return 1;
	}
	x.off = used;
	if (strcmp(wg_ws_http_protocol(&h), "warpgate.v1") != 0 ||
	    wg_ws_init(&ws, &conf, &env, WG_WS_CLIENT) != 0)
		return 1;
	for (i = 0; i < count; i++) {
		size_t len = i % 97 == 0 ? 65536 + i % 3 : i % 13 == 0 ? 2000 + i * 7 % 9000 :
			     i * 37 % 300;
		bool text = i & 1;
		uint8_t op = text ? WG_WS_OP_TEXT : WG_WS_OP_BINARY;

		fill(msg, len, text, i);
		if (i % 5 == 0 && len > 10) {
			/* three fragments */
			/* a cut may fall inside a character: legal, the peer
			 * must validate across fragments */
			size_t a1 = len / 3, a2 = 2 * len / 3;

			if (send_frame(fd, &ws, false, op, msg, a1) < 0 ||
			    send_frame(fd, &ws, false, WG_WS_OP_CONT, msg + a1, a2 - a1) < 0 ||
			    send_frame(fd, &ws, true, WG_WS_OP_CONT, msg + a2, len - a2) < 0)
				return 1;
			frags++;
		} else if (send_frame(fd, &ws, true, op, msg, len) < 0) {
			return 1;
		}
		if (i % 50 == 0) {
			if (send_frame(fd, &ws, true, WG_WS_OP_PING, "are you there", 13) < 0)
				return 1;
			pings++;
		}
		for (;;) {
			if (next_event(&x, &ev) < 0)
				return 1;
			if (ev.type == WG_WS_EV_PONG)
				continue;
			if (ev.type != WG_WS_EV_MESSAGE || ev.opcode != op || ev.len != len ||
			    memcmp(ev.data, msg, len) != 0) {
				fprintf(stderr, "message %u (%zu bytes): bad echo, event %u len %u\n",
					i, len, ev.type, ev.len);
				return 1;
			}
			free(ev.buf);
			break;
		}
	}
	if (env.stats.rx_pongs != pings) {
		fprintf(stderr, "pongs %" PRIu64 " != pings %u\n", env.stats.rx_pongs, pings);
		return 1;
	}
	if (send_close(fd, &ws, 1000, "bye", 3) < 0)
		return 1;
	if (next_event(&x, &ev) < 0 || ev.type != WG_WS_EV_CLOSE || ev.code != 1000 ||
	    !wg_ws_closed(&ws)) {
		fprintf(stderr, "no close back (event %u code %u)\n", ev.type, ev.code);
		return 1;
	}
	close(fd);
	printf("client: %u messages echoed (%u fragmented), %u pings answered, closed %u\n",
	       count, frags, pings, ev.code);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "--client") == 0)
		return run_client((unsigned int)atoi(argv[2]), (unsigned int)atoi(argv[3]));
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--client PORT COUNT]\n", argv[0]);
		return 2;
	}
	return run_server();
}
