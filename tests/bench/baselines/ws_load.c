/* SPDX-License-Identifier: BSD-3-Clause
 * ws_load: epoll load client for the kernel-socket baselines (go_echo,
 * lws_echo, ...). One thread; N connections over ws, wss, framed or
 * framed_tls; messages of a fixed size, either closed loop (one in flight
 * per connection, the next sent when the reply is back) or open loop (R
 * messages/s per connection, on a schedule that does not wait for replies).
 *
 * Every message carries its scheduled send time, its connection and its
 * number, then bytes derived from both: a reply that is late, lost,
 * duplicated, reordered, truncated or from another connection is an error,
 * and the round trip is measured from the scheduled time (an open-loop
 * client that falls behind reports the delay instead of hiding it).
 * Latencies go to a pktgen/hist histogram (3 significant digits).
 *
 * WebSocket framing and the upgrade handshake are the dataplane's own
 * (dataplane/ws, client role); TLS is OpenSSL, TLS 1.3 only.
 *
 * Output: one line of key=value pairs on stdout; diagnostics on stderr;
 * exit status 1 when anything went wrong.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "framed.h"
#include "hist.h"
#include "ws.h"

#define NS_PER_S        1000000000ull
#define MSG_HDR         16              /* send time u64, connection u32, number u32 */
#define MSG_MAX         (1u << 20)
#define CONNS_MAX       200000u
#define RX_CHUNK        65536
#define EPOLL_BATCH     512
#define CONNECT_STALL   (10 * NS_PER_S)    /* no connection opened for this long: give up */
#define DRAIN_STALL     (5 * NS_PER_S)     /* no reply or close for this long: give up */
#define ERRORS_SHOWN    10

enum mode { M_WS, M_WSS, M_FRAMED, M_FRAMED_TLS };

enum cstate {
	CS_CONNECTING,                  /* TCP connect in progress */
	CS_TLS,                         /* TLS handshake */
	CS_UPGRADE,                     /* WebSocket upgrade request out, response awaited */
	CS_OPEN,
	CS_CLOSING,                     /* our close/FIN sent, waiting for the peer's */
	CS_DONE,
};

enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_CLOSE, PH_END };

struct conn {
	int fd;
	uint32_t id;
	uint8_t state;                  /* enum cstate */
	bool out_armed;                 /* EPOLLOUT registered */
	SSL *ssl;
	struct wg_ws ws;
	struct wg_framed fr;
	struct wg_ws_http *http;        /* while upgrading */
	uint32_t tx_seq;                /* next message number to send */
	uint32_t rx_seq;                /* next message number expected back */
	uint64_t next_send;             /* open loop: scheduled time of the next message */
	uint8_t *out;                   /* bytes not yet written */
	size_t out_len, out_off, out_cap;
};

struct opts {
	const char *host, *port, *path, *sni, *ca;
	enum mode mode;
	unsigned int conns, parallel, max_inflight;
	uint32_t size;
	double rate;                    /* msgs/s per connection; 0 = closed loop */
	double seconds, warmup;
};

static struct opts o = {
	.host = "127.0.0.1", .port = "9443", .path = "/", .mode = M_WSS, .conns = 100,
	.parallel = 256, .max_inflight = 64, .size = 64, .seconds = 5, .warmup = 1,
};

static struct conn *conns;
static int ep = -1;
static SSL_CTX *ssl_ctx;
static struct wg_ws_conf ws_conf;
static struct wg_ws_env ws_env;
static struct wg_hist *hist;
static enum phase phase;
static uint64_t t_measure, t_measure_end, period_ns;
static uint64_t t_event;                /* last reply or finished connection */
static uint64_t n_msgs, n_bytes, n_sent, n_late_sends, errors;
static unsigned int n_connecting, n_next_connect, n_open, n_done, n_opened;
static struct sockaddr_storage dst;
static socklen_t dst_len;
static uint64_t rng_state = 0x5eed;
static uint8_t *rx_buf, *msg_buf;
static uint32_t *sched;                 /* open loop: ring of connection ids by send time */
static unsigned int sched_head, sched_n;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t
rnd64(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
ws_rng(void *arg)
{
	(void)arg;
	return (uint32_t)rnd64();
}

static void *
ws_buf_get(void *arg, uint32_t size)
{
	(void)arg;
	return malloc(size);
}

static void
ws_buf_put(void *arg, void *buf)
{
	(void)arg;
	free(buf);
}

static void __attribute__((format(printf, 2, 3)))
conn_error(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (errors++ < ERRORS_SHOWN) {
		fprintf(stderr, "ws_load: connection %u: ", c != NULL ? c->id : 0);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* The bytes of message seq on connection id after the header. */
static uint8_t
pattern(uint32_t id, uint32_t seq, uint32_t i)
{
	return (uint8_t)(id * 131u + seq * 31u + i * 7u + (i >> 8));
}

static void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static bool
tls_mode(void)
{
	return o.mode == M_WSS || o.mode == M_FRAMED_TLS;
}

static bool
ws_mode(void)
{
	return o.mode == M_WS || o.mode == M_WSS;
}

/* ------------------------------------------------------------ I/O */

static void
arm_out(struct conn *c, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.u32 = c->id };

	if (c->out_armed == on)
		return;
	c->out_armed = on;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
conn_finish(struct conn *c)
{
	if (c->state == CS_DONE)
		return;
	if (c->state == CS_OPEN || c->state == CS_CLOSING)
		n_open--;
	if (c->state < CS_OPEN)
		n_connecting--;
	c->state = CS_DONE;
	n_done++;
	t_event = now_ns();
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	close(c->fd);
	c->fd = -1;
	free(c->http);
	c->http = NULL;
	wg_ws_release(&c->ws);
	wg_framed_release(&c->fr);
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = c->out_cap = 0;
}

static void
conn_fail(struct conn *c, const char *what)
{
	conn_error(c, "%s (state %u)", what, c->state);
	conn_finish(c);
}

/* Write what is queued. -1: the connection failed. */
static int
flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		size_t n = c->out_len - c->out_off;
		ssize_t w;

		if (c->ssl != NULL) {
			int r = SSL_write(c->ssl, c->out + c->out_off, (int)(n > INT32_MAX ? INT32_MAX : n));

			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					arm_out(c, true);
					return 0;
				}
				conn_fail(c, "TLS write failed");
				return -1;
			}
			w = r;
		} else {
			w = send(c->fd, c->out + c->out_off, n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					arm_out(c, true);
					return 0;
				}
				conn_fail(c, strerror(errno));
				return -1;
			}
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	arm_out(c, false);
	return 0;
}

static int
queue_out(struct conn *c, const void *p, size_t n)
{
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 256;
		uint8_t *nb;

		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		while (cap < c->out_len + n)
			cap *= 2;
		if (cap != c->out_cap) {
			nb = realloc(c->out, cap);
			if (nb == NULL) {
				conn_fail(c, "out of memory");
				return -1;
			}
			c->out = nb;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

/* Read into rx_buf: bytes read, 0 on EOF, -1 would block (or failed: state DONE). */
static ssize_t
conn_read(struct conn *c)
{
	ssize_t r;

	if (c->ssl != NULL) {
		int n = SSL_read(c->ssl, rx_buf, RX_CHUNK);

		if (n > 0)
			return n;
		switch (SSL_get_error(c->ssl, n)) {
		case SSL_ERROR_WANT_READ:
			return -1;
		case SSL_ERROR_WANT_WRITE:
			arm_out(c, true);
			return -1;
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		default:
			if (c->state == CS_CLOSING) {
				/* a peer that closes the TCP side without close_notify */
				return 0;
			}
			conn_fail(c, "TLS read failed");
			return -1;
		}
	}
	r = recv(c->fd, rx_buf, RX_CHUNK, 0);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EINTR)
		return -1;
	conn_fail(c, strerror(errno));
	return -1;
}

/* ------------------------------------------------------------ messages */

static int
send_msg(struct conn *c, uint64_t stamp)
{
	uint8_t hdr[WG_WS_MAX_HDR];
	uint8_t mask[4];
	uint32_t i;
	int h;

	put64(msg_buf, stamp);
	put32(msg_buf + 8, c->id);
	put32(msg_buf + 12, c->tx_seq);
	for (i = MSG_HDR; i < o.size; i++)
		msg_buf[i] = pattern(c->id, c->tx_seq, i);
	if (ws_mode()) {
		h = wg_ws_frame_begin(&c->ws, true, WG_WS_OP_BINARY, o.size, hdr, mask);
		if (h < 0) {
			conn_fail(c, "cannot start a frame");
			return -1;
		}
		wg_ws_mask(msg_buf, o.size, mask, 0);
		if (queue_out(c, hdr, (size_t)h) != 0 || queue_out(c, msg_buf, o.size) != 0)
			return -1;
	} else {
		wg_framed_header(hdr, o.size);
		if (queue_out(c, hdr, WG_FRAMED_HDR) != 0 || queue_out(c, msg_buf, o.size) != 0)
			return -1;
	}
	c->tx_seq++;
	n_sent++;
	return 0;
}

static bool
sending(void)
{
	return phase == PH_WARMUP || phase == PH_MEASURE;
}

/* A reply: check every byte, record the round trip. */
static int
got_msg(struct conn *c, const uint8_t *p, uint32_t len, uint64_t now)
{
	uint64_t stamp;
	uint32_t i;

	if (len != o.size) {
		conn_fail(c, "reply of the wrong size");
		return -1;
	}
	stamp = get64(p);
	if (get32(p + 8) != c->id || get32(p + 12) != c->rx_seq) {
		conn_error(c, "reply for connection %u message %u, expected %u/%u", get32(p + 8),
			   get32(p + 12), c->id, c->rx_seq);
		conn_finish(c);
		return -1;
	}
	for (i = MSG_HDR; i < len; i++) {
		if (p[i] != pattern(c->id, c->rx_seq, i)) {
			conn_error(c, "message %u byte %u differs", c->rx_seq, i);
			conn_finish(c);
			return -1;
		}
	}
	c->rx_seq++;
	t_event = now;
	if (stamp >= t_measure && now <= t_measure_end && phase >= PH_MEASURE) {
		wg_hist_record(hist, now > stamp ? now - stamp : 0);
		n_msgs++;
		n_bytes += len;
	}
	if (o.rate == 0 && sending())
		return send_msg(c, now);
	return 0;
}

static void
start_close(struct conn *c)
{
	uint8_t buf[WG_WS_MAX_HDR + 2];
	int n;

	c->state = CS_CLOSING;
	if (ws_mode()) {
		n = wg_ws_build_close(&c->ws, WG_WS_CLOSE_NORMAL, NULL, 0, buf, sizeof(buf));
		if (n < 0 || queue_out(c, buf, (size_t)n) != 0) {
			conn_fail(c, "cannot build the close frame");
			return;
		}
		flush_out(c);
		return;
	}
	if (flush_out(c) != 0)
		return;
	if (c->ssl != NULL)
		SSL_shutdown(c->ssl);
	shutdown(c->fd, SHUT_WR);
}

/* Stream bytes of an open (or closing) connection. */
static void
rx_bytes(struct conn *c, uint8_t *p, size_t len, uint64_t now)
{
	struct wg_ws_event ev;
	size_t used;
	int t;

	while (len > 0 && c->state != CS_DONE) {
		if (ws_mode())
			t = wg_ws_recv(&c->ws, p, len, &ev, &used);
		else
			t = wg_framed_recv(&c->fr, p, len, &ev, &used);
		if (t < 0) {
			conn_fail(c, "out of reassembly buffers");
			return;
		}
		p += used;
		len -= used;
		switch (t) {
		case WG_WS_EV_MESSAGE:
			if (c->state == CS_CLOSING && ws_mode()) {
				conn_error(c, "message after our close");
			} else {
				got_msg(c, ev.data, ev.len, now);
			}
			if (ev.buf != NULL)
				free(ev.buf);
			break;
		case WG_WS_EV_CLOSE:
			if (c->state != CS_CLOSING)
				conn_error(c, "the server closed first (code %u)", ev.code);
			if (c->ssl != NULL)
				SSL_shutdown(c->ssl);
			conn_finish(c);
			return;
		case WG_WS_EV_ERROR:
			conn_fail(c, "protocol error in the server's stream");
			return;
		case WG_WS_EV_PING:
			t = wg_ws_reply(&c->ws, &ev, rx_buf + RX_CHUNK, WG_WS_MAX_HDR + WG_WS_MAX_CTL);
			if (t > 0 && queue_out(c, rx_buf + RX_CHUNK, (size_t)t) != 0)
				return;
			break;
		default:
			break;
		}
	}
}

/* ------------------------------------------------------------ set-up */

static void conn_start(struct conn *c);

static void
next_connect(void)
{
	while (phase == PH_CONNECT && n_next_connect < o.conns && n_connecting < o.parallel)
		conn_start(&conns[n_next_connect++]);
}

static uint64_t t_progress;             /* last time a connection opened */

static void
conn_opened(struct conn *c)
{
	c->state = CS_OPEN;
	n_connecting--;
	n_open++;
	n_opened++;
	t_progress = now_ns();
	next_connect();
}

static void
ws_upgrade_send(struct conn *c)
{
	char req[1024];
	uint8_t nonce[16];
	uint64_t a = rnd64(), b = rnd64();
	int n;

	memcpy(nonce, &a, 8);
	memcpy(nonce + 8, &b, 8);
	c->http = malloc(sizeof(*c->http));
	if (c->http == NULL) {
		conn_fail(c, "out of memory");
		return;
	}
	n = wg_ws_http_client_request(c->http, &ws_conf, o.sni != NULL ? o.sni : o.host, o.path,
				      NULL, nonce, req, sizeof(req));
	if (n < 0) {
		conn_fail(c, "cannot build the upgrade request");
		return;
	}
	c->state = CS_UPGRADE;
	if (queue_out(c, req, (size_t)n) == 0)
		flush_out(c);
}

static void
transport_ready(struct conn *c)
{
	if (ws_mode())
		ws_upgrade_send(c);
	else
		conn_opened(c);
}

static void
tls_step(struct conn *c)
{
	int r = SSL_connect(c->ssl), e;

	if (r == 1) {
		if (SSL_version(c->ssl) != TLS1_3_VERSION) {
			conn_fail(c, "not TLS 1.3");
			return;
		}
		arm_out(c, false);
		transport_ready(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		arm_out(c, false);
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		arm_out(c, true);
		return;
	}
	conn_fail(c, "TLS handshake failed");
}

static void
connected(struct conn *c)
{
	int soerr = 0, one = 1;
	socklen_t sl = sizeof(soerr);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr != 0) {
		conn_fail(c, strerror(soerr));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls_mode()) {
		c->ssl = SSL_new(ssl_ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
			conn_fail(c, "SSL_new failed");
			return;
		}
		/* RFC 6066: no IP literals in server_name, so only a given name */
		if (o.sni != NULL)
			SSL_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
				 (void *)(uintptr_t)o.sni);
		c->state = CS_TLS;
		tls_step(c);
		return;
	}
	arm_out(c, false);
	transport_ready(c);
}

static void
conn_start(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = c->id };

	c->fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_error(c, "socket: %s", strerror(errno));
		c->state = CS_DONE;
		n_done++;
		return;
	}
	c->state = CS_CONNECTING;
	c->out_armed = true;
	n_connecting++;
	if (wg_ws_init(&c->ws, &ws_conf, &ws_env, WG_WS_CLIENT) != 0 ||
	    wg_framed_init(&c->fr, MSG_MAX, &ws_env) != 0) {
		conn_fail(c, "parser set-up failed");
		return;
	}
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	if (connect(c->fd, (struct sockaddr *)&dst, dst_len) != 0 && errno != EINPROGRESS)
		conn_fail(c, strerror(errno));
}

/* ------------------------------------------------------------ events */

static void
on_event(struct conn *c, uint32_t events, uint64_t now)
{
	ssize_t n;
	size_t used;
	int rc;

	if (c->state == CS_DONE)
		return;
	if (c->state == CS_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			connected(c);
		return;
	}
	if (c->state == CS_TLS) {
		tls_step(c);
		return;
	}
	if ((events & EPOLLOUT) && flush_out(c) != 0)
		return;
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	for (;;) {
		n = conn_read(c);
		if (n < 0)
			return;
		if (n == 0) {
			if (c->state == CS_CLOSING && !ws_mode()) {
				conn_finish(c);
			} else {
				conn_fail(c, "unexpected end of stream");
			}
			return;
		}
		if (c->state == CS_UPGRADE) {
			rc = wg_ws_http_feed(c->http, rx_buf, (size_t)n, &used);
			if (rc == -EAGAIN)
				continue;
			if (rc != 0) {
				conn_fail(c, "upgrade refused");
				return;
			}
			free(c->http);
			c->http = NULL;
			conn_opened(c);
			memmove(rx_buf, rx_buf + used, (size_t)n - used);
			n -= (ssize_t)used;
		}
		rx_bytes(c, rx_buf, (size_t)n, now);
		if (c->state == CS_DONE)
			return;
		if (c->out_len > c->out_off && flush_out(c) != 0)
			return;
	}
}

/* Open loop: every connection whose time has come sends one message,
 * stamped with its scheduled time, unless max_inflight are outstanding. */
static void
open_loop_tick(uint64_t now)
{
	while (sched_n > 0) {
		struct conn *c = &conns[sched[sched_head]];

		if (c->next_send > now)
			return;
		sched_head = (sched_head + 1) % o.conns;
		sched_n--;
		if (c->state != CS_OPEN)
			continue;
		if (c->tx_seq - c->rx_seq >= o.max_inflight) {
			n_late_sends++;
		} else if (send_msg(c, c->next_send) != 0 || flush_out(c) != 0) {
			continue;
		}
		c->next_send += period_ns;
		sched[(sched_head + sched_n) % o.conns] = c->id;
		sched_n++;
	}
}

static void
start_sending(uint64_t now)
{
	unsigned int i;

	for (i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];

		if (c->state != CS_OPEN)
			continue;
		if (o.rate == 0) {
			if (send_msg(c, now) == 0)
				flush_out(c);
		} else {
			/* spread the first sends over one period */
			c->next_send = now + period_ns * i / o.conns;
			sched[(sched_head + sched_n) % o.conns] = c->id;
			sched_n++;
		}
	}
}

static int
resolve(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo(o.host, o.port, &hints, &res);

	if (rc != 0) {
		fprintf(stderr, "ws_load: %s:%s: %s\n", o.host, o.port, gai_strerror(rc));
		return -1;
	}
	memcpy(&dst, res->ai_addr, res->ai_addrlen);
	dst_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: ws_load [-H host] [-p port] [-m ws|wss|framed|framed_tls] [-P path]\n"
		"               [-c conns] [-s size] [-r rate] [-d seconds] [-w warmup]\n"
		"               [-S sni] [-A cafile] [-k parallel] [-i max_inflight]\n"
		"  -r R   open loop, R messages/s per connection (default 0: closed loop)\n"
		"  -A F   verify the server against CA file F (default: no verification)\n");
}

static int
parse_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "H:p:m:P:c:s:r:d:w:S:A:k:i:h")) != -1) {
		switch (opt) {
		case 'H':
			o.host = optarg;
			break;
		case 'p':
			o.port = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "ws") == 0)
				o.mode = M_WS;
			else if (strcmp(optarg, "wss") == 0)
				o.mode = M_WSS;
			else if (strcmp(optarg, "framed") == 0)
				o.mode = M_FRAMED;
			else if (strcmp(optarg, "framed_tls") == 0)
				o.mode = M_FRAMED_TLS;
			else
				return -1;
			break;
		case 'P':
			o.path = optarg;
			break;
		case 'c':
			o.conns = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o.size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o.rate = strtod(optarg, NULL);
			break;
		case 'd':
			o.seconds = strtod(optarg, NULL);
			break;
		case 'w':
			o.warmup = strtod(optarg, NULL);
			break;
		case 'S':
			o.sni = optarg;
			break;
		case 'A':
			o.ca = optarg;
			break;
		case 'k':
			o.parallel = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			o.max_inflight = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			return -1;
		}
	}
	if (o.conns == 0 || o.conns > CONNS_MAX || o.size < MSG_HDR || o.size > MSG_MAX ||
	    o.rate < 0 || o.seconds <= 0 || o.warmup < 0 || o.parallel == 0 ||
	    o.max_inflight == 0 || optind != argc)
		return -1;
	return 0;
}

static int
setup(void)
{
	struct rlimit rl;
	unsigned int i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o.conns + 64) {
		rl.rlim_cur = o.conns + 64 > rl.rlim_max ? rl.rlim_max : o.conns + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	wg_ws_conf_defaults(&ws_conf);
	ws_conf.max_message = MSG_MAX;
	ws_env.buf_get = ws_buf_get;
	ws_env.buf_put = ws_buf_put;
	ws_env.rng = ws_rng;
	hist = wg_hist_create(WG_HIST_NS_HOUR, 3);
	conns = calloc(o.conns, sizeof(*conns));
	sched = calloc(o.conns, sizeof(*sched));
	rx_buf = malloc(RX_CHUNK + WG_WS_MAX_HDR + WG_WS_MAX_CTL);
	msg_buf = malloc(o.size);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (hist == NULL || conns == NULL || sched == NULL || rx_buf == NULL || msg_buf == NULL ||
	    ep < 0)
		return -1;
	for (i = 0; i < o.conns; i++) {
		conns[i].id = i;
		conns[i].fd = -1;
		conns[i].state = CS_DONE;      /* not started */
	}
	if (tls_mode()) {
		ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (ssl_ctx == NULL ||
		    SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_3_VERSION) != 1)
			return -1;
		if (o.ca != NULL) {
			if (SSL_CTX_load_verify_locations(ssl_ctx, o.ca, NULL) != 1) {
				fprintf(stderr, "ws_load: cannot load CA file %s\n", o.ca);
				return -1;
			}
			SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
		}
		/* a benchmark measures messages, not one handshake per reconnect */
		SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
	}
	period_ns = o.rate > 0 ? (uint64_t)((double)NS_PER_S / o.rate) : 0;
	if (o.rate > 0 && period_ns == 0)
		period_ns = 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[EPOLL_BATCH];
	struct wg_hist_summary s;
	uint64_t now, t_start, t_connected = 0;
	unsigned int i;
	int n, timeout;
	double secs;

	if (parse_args(argc, argv) != 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (resolve() != 0 || setup() != 0) {
		fprintf(stderr, "ws_load: set-up failed\n");
		return 1;
	}
	t_start = now_ns();
	phase = PH_CONNECT;
	t_progress = t_start;
	next_connect();

	for (;;) {
		now = now_ns();
		switch (phase) {
		case PH_CONNECT:
			/* refill here too: a connect that failed frees a slot */
			next_connect();
			if (n_open + n_done >= o.conns && n_next_connect >= o.conns) {
				t_connected = now;
				if (n_open < o.conns)
					fprintf(stderr, "ws_load: only %u of %u connections opened\n",
						n_open, o.conns);
				phase = PH_WARMUP;
				t_measure = now + (uint64_t)(o.warmup * NS_PER_S);
				t_measure_end = t_measure + (uint64_t)(o.seconds * NS_PER_S);
				start_sending(now);
			} else if (now - t_progress > CONNECT_STALL) {
				/* a stall, not a slow start: give up on what is pending
				 * and on what was never started */
				fprintf(stderr, "ws_load: no connection opened for %llu s (%u open, %u "
					"pending, %u not started)\n",
					(unsigned long long)(CONNECT_STALL / NS_PER_S), n_open,
					n_connecting, o.conns - n_next_connect);
				errors += n_connecting + (o.conns - n_next_connect);
				for (i = 0; i < o.conns; i++)
					if (conns[i].state != CS_DONE && conns[i].state != CS_OPEN)
						conn_finish(&conns[i]);
				n_done += o.conns - n_next_connect;
				n_next_connect = o.conns;
			}
			break;
		case PH_WARMUP:
			if (now >= t_measure)
				phase = PH_MEASURE;
			break;
		case PH_MEASURE:
			if (now >= t_measure_end) {
				phase = PH_DRAIN;
				t_event = now;
			}
			break;
		case PH_DRAIN: {
			bool idle = true;

			for (i = 0; i < o.conns && idle; i++)
				if (conns[i].state == CS_OPEN && conns[i].rx_seq != conns[i].tx_seq)
					idle = false;
			/* 10,000 connections on a busy server take a while to drain
			 * and close: only a stall is a failure */
			if (idle || now - t_event > DRAIN_STALL) {
				if (!idle)
					for (i = 0; i < o.conns; i++)
						if (conns[i].state == CS_OPEN &&
						    conns[i].rx_seq != conns[i].tx_seq)
							conn_error(&conns[i], "%u replies missing",
								   conns[i].tx_seq - conns[i].rx_seq);
				phase = PH_CLOSE;
				t_event = now;
				for (i = 0; i < o.conns; i++)
					if (conns[i].state == CS_OPEN)
						start_close(&conns[i]);
			}
			break;
		}
		case PH_CLOSE:
			if (n_open == 0) {
				phase = PH_END;
			} else if (now - t_event > DRAIN_STALL) {
				for (i = 0; i < o.conns; i++)
					if (conns[i].state == CS_CLOSING)
						conn_fail(&conns[i], "no close from the server");
				phase = PH_END;
			}
			break;
		case PH_END:
			break;
		}
		if (phase == PH_END)
			break;
		if (o.rate > 0 && sending())
			open_loop_tick(now);
		timeout = 1;
		if (o.rate == 0 || !sending())
			timeout = 10;
		n = epoll_wait(ep, evs, EPOLL_BATCH, timeout);
		if (n < 0 && errno != EINTR) {
			perror("ws_load: epoll_wait");
			return 1;
		}
		now = now_ns();
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++)
			on_event(&conns[evs[i].data.u32], evs[i].events, now);
	}

	wg_hist_summarize(hist, &s);
	secs = o.seconds;
	printf("mode=%s conns=%u open=%u size=%u rate=%g seconds=%g msgs=%" PRIu64
	       " msgs_per_s=%.0f mbytes_per_s=%.2f p50_us=%.1f p90_us=%.1f p99_us=%.1f"
	       " p999_us=%.1f max_us=%.1f mean_us=%.1f late_sends=%" PRIu64
	       " connect_s=%.3f errors=%" PRIu64 "\n",
	       o.mode == M_WS ? "ws" : o.mode == M_WSS ? "wss" : o.mode == M_FRAMED ? "framed" :
	       "framed_tls", o.conns, n_opened,
	       o.size, o.rate, secs, n_msgs, (double)n_msgs / secs,
	       (double)n_bytes / secs / 1e6, s.p50 / 1e3, s.p90 / 1e3, s.p99 / 1e3,
	       s.p999 / 1e3, s.max / 1e3, s.mean / 1e3, n_late_sends,
	       (double)(t_connected - t_start) / 1e9, errors);
	return errors != 0 || n_msgs == 0 ? 1 : 0;
}
