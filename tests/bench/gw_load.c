/* SPDX-License-Identifier: BSD-3-Clause
 * gw_load: load client for the message plane (docs/message-plane.md). One
 * thread on epoll; N connections over ws://, wss://, framed:// or
 * framed+tls://, through our client connection code (tools/wg_client_conn.c:
 * kernel sockets, OpenSSL TLS 1.3, dataplane/ws in the client role).
 *
 *   -m gateway  each connection logs in with a token of its own (minted
 *               here with control/token.c from the gateway's key file),
 *               waits for LOGIN_ACK, then keeps W ECHO Envelopes in flight
 *               (closed loop): dataplane -> logic echo service -> dataplane.
 *               A bare ACK goes every -a server messages (every ECHO also
 *               carries the ack); the end is LOGOUT, answered by
 *               Kick{LOGGED_OUT} and the server's close.
 *   -m echo     the same Envelopes to the dataplane's plain echo listener
 *               (`service: echo`): no login, no rings; the reply is the
 *               request itself. The same-run baseline of the gateway mode.
 *
 * ECHO payload: Echo{data} of exactly -s bytes, data = send time, connection,
 * message number, then bytes derived from both. Every reply is checked: its
 * type, msg_id (in order), seq (the server's numbering, or our own echoed),
 * ack, and every payload byte. A reply that is lost, duplicated, reordered,
 * altered or from another connection is an error; so is any Error or Kick
 * the server sends, a refused login, and a connection that ends otherwise
 * than as described above. Latency: send time to reply, in a pktgen/hist
 * histogram (3 significant digits).
 *
 * Output: one line of key=value pairs on stdout; diagnostics on stderr;
 * exit status 1 when anything went wrong, 2 on bad usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "hist.h"
#include "token.h"
#include "wg_client.h"
#include "wg_client.pb-c.h"
#include "ws.h"

#define NS_PER_S        1000000000ull
#define DATA_HDR        16              /* send time u64, connection u32, message u32 */
#define PAYLOAD_MIN     (DATA_HDR + 2)  /* Echo key and length byte around the data */
#define PAYLOAD_MAX     3900            /* under gateway.max_message (at most 4000) */
#define CONNS_MAX       100000u
#define EPOLL_BATCH     512
#define CONNECT_STALL   (15 * NS_PER_S) /* no connection ready for this long: give up */
#define DRAIN_STALL     (5 * NS_PER_S)  /* no reply or close for this long: give up */
#define ERRORS_SHOWN    10
#define PLAYER_BASE     1000000ull
#define LOGIN_MAX       (WG_TOKEN_TEXT_MAX + 64)  /* Login: token, device, version */

enum mode { M_ECHO, M_GATEWAY };

enum gstate {
	GS_IDLE,                        /* not started */
	GS_OPENING,                     /* TCP, TLS, WebSocket upgrade */
	GS_LOGIN,                       /* LOGIN sent, LOGIN_ACK awaited */
	GS_READY,                       /* ECHOs flow */
	GS_LOGOUT,                      /* LOGOUT sent, Kick and close awaited */
	GS_CLOSING,                     /* echo mode: our close sent */
	GS_DONE,
};

enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_CLOSE, PH_END };

struct gconn {
	struct wgc_conn *wc;
	uint32_t id;
	uint8_t state;                  /* enum gstate */
	bool kicked;                    /* Kick{LOGGED_OUT} received */
	int fd;                         /* registered with epoll, or -1 */
	uint32_t ev;                    /* epoll events registered */
	uint32_t tx_seq;                /* our last numbered message */
	uint32_t rx_id;                 /* msg_id of the next reply expected */
	uint32_t srv_seq;               /* the server's highest seq received */
	uint32_t since_ack;             /* server messages since our last bare ACK */
	uint32_t owed;                  /* ECHOs due while the send buffer was full */
};

struct opts {
	const char *url, *ca, *sni, *keys;
	enum mode mode;
	unsigned int conns, inflight, parallel, ack_every;
	uint32_t size;
	uint64_t player_base;
	double seconds, warmup;
};

static struct opts o = {
	.mode = M_GATEWAY, .conns = 1, .inflight = 1, .parallel = 128, .ack_every = 64,
	.size = 64, .player_base = PLAYER_BASE, .seconds = 5, .warmup = 1,
};

static struct gconn *conns;
static struct wgc_url url;
static struct wgc_conn_opts copts;
static struct wg_token_ctx *tokens;
static struct wg_hist *hist;
static int ep = -1;
static enum phase phase;
static uint64_t now;                    /* of the current epoll batch */
static uint64_t t_measure, t_measure_end, t_event, t_progress;
static uint64_t n_msgs, n_sent, n_acks, n_owed, errors;
static unsigned int n_started, n_opening, n_ready, n_done, n_logged_in;
static uint32_t data_len;               /* Echo.data bytes for payloads of o.size */
static uint8_t *payload_buf, *env_buf;
static size_t env_cap;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void __attribute__((format(printf, 2, 3)))
conn_error(const struct gconn *c, const char *fmt, ...)
{
	va_list ap;

	if (errors++ < ERRORS_SHOWN) {
		fprintf(stderr, "gw_load: connection %u: ", c != NULL ? c->id : 0);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* Data byte i of message seq on connection id (after the header). */
static uint8_t
pattern(uint32_t id, uint32_t seq, uint32_t i)
{
	return (uint8_t)(id * 131u + seq * 31u + i * 7u + (i >> 8));
}

static bool
sending(void)
{
	return phase == PH_WARMUP || phase == PH_MEASURE;
}

/* ------------------------------------------------------------ epoll */

static uint32_t
to_epoll(short pev)
{
	return ((pev & POLLIN) ? EPOLLIN : 0u) | ((pev & POLLOUT) ? EPOLLOUT : 0u);
}

static short
to_poll(uint32_t eev)
{
	return (short)(((eev & EPOLLIN) ? POLLIN : 0) | ((eev & EPOLLOUT) ? POLLOUT : 0) |
		       ((eev & EPOLLERR) ? POLLERR : 0) | ((eev & EPOLLHUP) ? POLLHUP : 0));
}

/* Keep the epoll registration in step with what the connection waits for.
 * The hot path (replies sent from the message callback, flushed by the same
 * wgc_conn_io call) leaves it at EPOLLIN: no epoll_ctl per message. */
static void
sync_events(struct gconn *c)
{
	struct epoll_event ev = { .data.u32 = c->id };
	int fd = wgc_conn_fd(c->wc);

	ev.events = to_epoll(wgc_conn_events(c->wc));
	if (fd != c->fd) {
		/* a closed descriptor left the epoll set by itself */
		c->fd = fd;
		c->ev = ev.events;
		if (fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			wgc_conn_abort(c->wc, "epoll_ctl ADD failed");
		return;
	}
	if (fd >= 0 && ev.events != c->ev) {
		c->ev = ev.events;
		/* ENOENT: the connection moved to a new socket that reused
		 * the number (the next address of a name) */
		if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0 &&
		    (errno != ENOENT || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0))
			wgc_conn_abort(c->wc, "epoll_ctl failed");
	}
}

/* ------------------------------------------------------------ messages */

/* Queue one Envelope; false when the connection cannot take it now. */
static bool
send_env(struct gconn *c, const struct wg_envelope *e)
{
	int n = wg_envelope_encode(e, env_buf, env_cap);

	if (n < 0) {
		conn_error(c, "cannot encode type %#x: %s", e->type, strerror(-n));
		wgc_conn_abort(c->wc, "encode failed");
		return false;
	}
	if (wgc_conn_tx_room(c->wc) < (size_t)n + WG_WS_MAX_HDR + WG_FRAMED_HDR)
		return false;
	n = wgc_conn_send(c->wc, false, env_buf, (size_t)n);
	if (n != 0) {
		if (n != -ENOBUFS) {
			conn_error(c, "send: %s", strerror(-n));
			wgc_conn_abort(c->wc, "send failed");
		}
		return false;
	}
	return true;
}

static void
send_echo(struct gconn *c, uint64_t stamp)
{
	struct wg_envelope e = { .type = WG__MSG_TYPE__ECHO };
	uint32_t seq = c->tx_seq + 1, i;
	uint8_t *d = payload_buf + (o.size - data_len);

	memcpy(d, &stamp, 8);
	memcpy(d + 8, &c->id, 4);
	memcpy(d + 12, &seq, 4);
	for (i = DATA_HDR; i < data_len; i++)
		d[i] = pattern(c->id, seq, i);
	e.seq = seq;
	e.msg_id = seq;
	e.ack = o.mode == M_GATEWAY ? c->srv_seq : 0;
	e.payload = payload_buf;
	e.payload_len = o.size;
	if (!send_env(c, &e)) {
		if (wgc_conn_phase(c->wc) != WGC_PH_DONE) {
			c->owed++;
			n_owed++;
		}
		return;
	}
	c->tx_seq = seq;
	n_sent++;
}

/* ECHOs owed since the send buffer filled up, now that it drained. */
static void
send_owed(struct gconn *c)
{
	while (c->owed > 0 && c->state == GS_READY && wgc_conn_phase(c->wc) == WGC_PH_OPEN) {
		uint32_t before = c->tx_seq;

		c->owed--;
		send_echo(c, now);
		if (c->tx_seq == before)
			break;          /* owed again */
	}
}

static void
send_login(struct gconn *c)
{
	struct wg_token_claims cl = { 0 };
	char tok[WG_TOKEN_TEXT_MAX];
	Wg__Login l = WG__LOGIN__INIT;
	struct wg_envelope e = { .type = WG__MSG_TYPE__LOGIN, .seq = 1, .msg_id = 1 };
	uint8_t pb[LOGIN_MAX];
	time_t t = time(NULL);
	int n;

	cl.player_id = o.player_base + c->id;
	cl.issued_at = (uint64_t)t;
	cl.expires_at = (uint64_t)t + 3600;
	snprintf(cl.account, sizeof(cl.account), "gwload%" PRIu64, cl.player_id);
	n = wg_token_mint(tokens, &cl, tok, sizeof(tok));
	if (n < 0) {
		conn_error(c, "cannot mint a token: %s", strerror(-n));
		wgc_conn_abort(c->wc, "no token");
		return;
	}
	l.auth_case = WG__LOGIN__AUTH_TOKEN;
	l.token = tok;
	l.device = (char *)(uintptr_t)"gw_load";
	l.version = (char *)(uintptr_t)"1.0.0";
	if (wg__login__get_packed_size(&l) > sizeof(pb)) {
		wgc_conn_abort(c->wc, "login too big");
		return;
	}
	e.payload = pb;
	e.payload_len = (uint32_t)wg__login__pack(&l, pb);
	if (!send_env(c, &e)) {
		conn_error(c, "no room for the LOGIN");
		wgc_conn_abort(c->wc, "no room");
		return;
	}
	c->tx_seq = 1;
	c->rx_id = 2;
	c->state = GS_LOGIN;
}

static void
became_ready(struct gconn *c)
{
	c->state = GS_READY;
	n_opening--;
	n_ready++;
	n_logged_in++;
	t_progress = now;
}

static void
got_error(struct gconn *c, const struct wg_envelope *e)
{
	Wg__Error *er = wg__error__unpack(NULL, e->payload_len, e->payload);
	const ProtobufCEnumValue *v;

	if (er == NULL) {
		conn_error(c, "undecodable Error (msg_id %u)", e->msg_id);
		return;
	}
	v = protobuf_c_enum_descriptor_get_value(&wg__error_code__descriptor, (int)er->code);
	conn_error(c, "server Error %s for msg_id %u type %#x: %s", v != NULL ? v->name : "?",
		   er->ref_msg_id, er->ref_type, er->text != NULL ? er->text : "");
	wg__error__free_unpacked(er, NULL);
	/* a refused login does not get better by waiting */
	if (c->state == GS_LOGIN)
		wgc_conn_abort(c->wc, "login refused");
}

static void
got_kick(struct gconn *c, const struct wg_envelope *e)
{
	Wg__Kick *k = wg__kick__unpack(NULL, e->payload_len, e->payload);

	if (k == NULL) {
		conn_error(c, "undecodable Kick");
		return;
	}
	if (c->state == GS_LOGOUT && k->code == WG__KICK_CODE__LOGGED_OUT)
		c->kicked = true;
	else
		conn_error(c, "kicked (code %d): %s", k->code, k->reason != NULL ? k->reason : "");
	wg__kick__free_unpacked(k, NULL);
}

static void
got_login_ack(struct gconn *c, const struct wg_envelope *e)
{
	Wg__LoginAck *a;

	if (c->state != GS_LOGIN || e->msg_id != 1 || e->seq != 1) {
		conn_error(c, "LOGIN_ACK in state %u (seq %u msg_id %u)", c->state, e->seq,
			   e->msg_id);
		return;
	}
	a = wg__login_ack__unpack(NULL, e->payload_len, e->payload);
	if (a == NULL || a->session_id == 0 || a->player_id != o.player_base + c->id) {
		conn_error(c, "bad LoginAck (player %" PRIu64 ")", a != NULL ? a->player_id : 0);
		if (a != NULL)
			wg__login_ack__free_unpacked(a, NULL);
		wgc_conn_abort(c->wc, "bad login");
		return;
	}
	wg__login_ack__free_unpacked(a, NULL);
	c->srv_seq = 1;
	became_ready(c);
}

/* An ECHO reply: in order, numbered right, every byte as sent. */
static void
got_echo(struct gconn *c, const struct wg_envelope *e)
{
	const uint8_t *d;
	uint64_t stamp;
	uint32_t id, seq, i;

	if (c->state != GS_READY || e->msg_id != c->rx_id ||
	    (int32_t)(c->tx_seq - e->msg_id) < 0) {
		conn_error(c, "ECHO msg_id %u, expected %u (sent up to %u, state %u)", e->msg_id,
			   c->rx_id, c->tx_seq, c->state);
		wgc_conn_abort(c->wc, "out of order");
		return;
	}
	/* echo: our own Envelope back; gateway: numbered by the dataplane,
	 * acknowledging at least the request */
	if (o.mode == M_ECHO ? e->seq != e->msg_id :
	    (e->seq != c->srv_seq + 1 || (int32_t)(e->ack - e->msg_id) < 0)) {
		conn_error(c, "ECHO %u: seq %u ack %u (server seq so far %u)", e->msg_id, e->seq,
			   e->ack, c->srv_seq);
		wgc_conn_abort(c->wc, "bad numbering");
		return;
	}
	if (e->payload_len != o.size || memcmp(e->payload, payload_buf, o.size - data_len) != 0) {
		conn_error(c, "ECHO %u: payload of %u bytes, or not an Echo of %u data bytes",
			   e->msg_id, e->payload_len, data_len);
		wgc_conn_abort(c->wc, "bad payload");
		return;
	}
	d = e->payload + (o.size - data_len);
	memcpy(&stamp, d, 8);
	memcpy(&id, d + 8, 4);
	memcpy(&seq, d + 12, 4);
	if (id != c->id || seq != e->msg_id) {
		conn_error(c, "ECHO %u carries connection %u message %u", e->msg_id, id, seq);
		wgc_conn_abort(c->wc, "foreign payload");
		return;
	}
	for (i = DATA_HDR; i < data_len; i++) {
		if (d[i] != pattern(c->id, seq, i)) {
			conn_error(c, "ECHO %u: data byte %u differs", seq, i);
			wgc_conn_abort(c->wc, "bad payload");
			return;
		}
	}
	c->rx_id++;
	if (o.mode == M_GATEWAY)
		c->srv_seq = e->seq;
	t_event = now;
	if (phase >= PH_MEASURE && stamp >= t_measure && now <= t_measure_end) {
		wg_hist_record(hist, now > stamp ? now - stamp : 0);
		n_msgs++;
	}
	if (sending())
		send_echo(c, now);
}

/* Every server message: the callback of wgc_conn_io. */
static void
on_msg(void *arg, bool text, const uint8_t *data, size_t len)
{
	struct gconn *c = arg;
	struct wg_envelope e;

	if (c->state == GS_DONE || wgc_conn_phase(c->wc) == WGC_PH_DONE)
		return;
	if (text || wg_envelope_decode(&e, data, len) != 0) {
		conn_error(c, "%s message of %zu bytes that is not an Envelope",
			   text ? "text" : "binary", len);
		wgc_conn_abort(c->wc, "not an Envelope");
		return;
	}
	switch (e.type) {
	case WG__MSG_TYPE__ECHO:
		got_echo(c, &e);
		break;
	case WG__MSG_TYPE__LOGIN_ACK:
		got_login_ack(c, &e);
		break;
	case WG__MSG_TYPE__ERROR:
		got_error(c, &e);
		break;
	case WG__MSG_TYPE__KICK:
		got_kick(c, &e);
		break;
	default:
		conn_error(c, "unexpected message type %#x (seq %u msg_id %u)", e.type, e.seq,
			   e.msg_id);
		break;
	}
	/* numbered server messages are acknowledged by every ECHO we send,
	 * and by a bare ACK every ack_every of them (docs/protocol.md) */
	if (o.mode == M_GATEWAY && e.seq != 0 && o.ack_every != 0 &&
	    ++c->since_ack >= o.ack_every && c->state == GS_READY &&
	    wgc_conn_phase(c->wc) == WGC_PH_OPEN) {
		struct wg_envelope a = { .type = WG__MSG_TYPE__ACK, .ack = c->srv_seq };

		if (send_env(c, &a)) {
			c->since_ack = 0;
			n_acks++;
		}
	}
}

/* ------------------------------------------------------------ connections */

static void
conn_finish(struct gconn *c)
{
	const struct wgc_end *end = wgc_conn_end(c->wc);

	if (c->state == GS_OPENING || c->state == GS_LOGIN)
		n_opening--;
	if (c->state == GS_READY)
		n_ready--;
	if (end->failed) {
		conn_error(c, "%s (state %u)", end->err, c->state);
	} else if (o.mode == M_GATEWAY &&
		   !(c->state == GS_LOGOUT && c->kicked &&
		     (!url.ws || (end->close_frame && end->code == 1000)))) {
		conn_error(c, "connection ended in state %u (kicked %d, close %u %s)", c->state,
			   c->kicked, end->code, end->reason);
	} else if (o.mode == M_ECHO && c->state != GS_CLOSING) {
		conn_error(c, "connection ended in state %u (close %u %s)", c->state, end->code,
			   end->reason);
	}
	c->state = GS_DONE;
	n_done++;
	t_event = now;
	wgc_conn_free(c->wc);
	c->wc = NULL;
	c->fd = -1;
}

/* After any I/O on c: what it opened, what it owes, what epoll should wait for. */
static void
conn_step(struct gconn *c)
{
	int ph = wgc_conn_phase(c->wc);

	if (ph == WGC_PH_OPEN && c->state == GS_OPENING) {
		if (o.mode == M_GATEWAY) {
			send_login(c);
		} else {
			c->rx_id = 1;
			became_ready(c);
		}
		/* flush what was just queued */
		if (wgc_conn_phase(c->wc) != WGC_PH_DONE)
			wgc_conn_io(c->wc, 0, on_msg, c);
	}
	if (c->owed > 0 && wgc_conn_phase(c->wc) == WGC_PH_OPEN) {
		send_owed(c);
		wgc_conn_io(c->wc, 0, on_msg, c);
	}
	if (wgc_conn_phase(c->wc) == WGC_PH_DONE) {
		conn_finish(c);
		return;
	}
	sync_events(c);
}

static void
conn_start(struct gconn *c)
{
	char err[256];

	c->wc = wgc_conn_open(&url, &copts, err, sizeof(err));
	n_started++;
	if (c->wc == NULL) {
		conn_error(c, "%s", err);
		c->state = GS_DONE;
		n_done++;
		return;
	}
	c->state = GS_OPENING;
	c->fd = -1;
	n_opening++;
	sync_events(c);
}

static void
next_connect(void)
{
	while (phase == PH_CONNECT && n_started < o.conns && n_opening < o.parallel)
		conn_start(&conns[n_started]);
}

/* Everyone ready: W ECHOs each. */
static void
start_sending(void)
{
	unsigned int i, k;

	for (i = 0; i < o.conns; i++) {
		struct gconn *c = &conns[i];

		if (c->state != GS_READY)
			continue;
		for (k = 0; k < o.inflight; k++)
			send_echo(c, now);
		wgc_conn_io(c->wc, 0, on_msg, c);
		conn_step(c);
	}
}

static void
start_close(void)
{
	unsigned int i;

	for (i = 0; i < o.conns; i++) {
		struct gconn *c = &conns[i];

		if (c->state == GS_DONE || c->wc == NULL)
			continue;
		if (o.mode == M_GATEWAY && c->state == GS_READY) {
			struct wg_envelope e = { .type = WG__MSG_TYPE__LOGOUT, .seq = c->tx_seq + 1,
						 .ack = c->srv_seq, .msg_id = c->tx_seq + 1 };

			if (!send_env(c, &e)) {
				conn_error(c, "no room for the LOGOUT");
				wgc_conn_abort(c->wc, "no room");
			}
			c->tx_seq++;
			c->state = GS_LOGOUT;
		} else {
			if (c->state == GS_READY)
				c->state = GS_CLOSING;
			wgc_conn_close(c->wc, 1000, NULL);
		}
		wgc_conn_io(c->wc, 0, on_msg, c);
		conn_step(c);
	}
}

static bool
all_answered(bool report)
{
	bool idle = true;
	unsigned int i;

	for (i = 0; i < o.conns; i++) {
		struct gconn *c = &conns[i];

		if (c->state != GS_READY || c->rx_id == c->tx_seq + 1)
			continue;
		idle = false;
		if (!report)
			break;
		conn_error(c, "%u replies missing (msg_id %u..%u)", c->tx_seq + 1 - c->rx_id,
			   c->rx_id, c->tx_seq);
	}
	return idle;
}

/* ------------------------------------------------------------ set-up */

static int
load_keys(void)
{
	struct wg_token_key keys[WG_TOKEN_MAX_KEYS];
	struct wg_token_conf tc = { .skew_s = 60, .max_ttl_s = 86400, .replay_slots = 16 };
	unsigned int bad = 0;
	int n = wg_token_keys_load(o.keys, keys, WG_TOKEN_MAX_KEYS, &bad);

	if (n <= 0) {
		fprintf(stderr, "gw_load: %s: %s (line %u)\n", o.keys,
			n == 0 ? "no keys" : strerror(-n), bad);
		return -1;
	}
	tc.keys = keys;
	tc.n_keys = (unsigned int)n;
	tc.current_kid = keys[n - 1].kid;
	tokens = wg_token_create(&tc);
	memset(keys, 0, sizeof(keys));
	if (tokens == NULL) {
		fprintf(stderr, "gw_load: token keys: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int
setup(void)
{
	struct rlimit rl;
	char err[256];
	unsigned int i;

	if (wgc_url_parse(&url, o.url, err, sizeof(err)) != 0) {
		fprintf(stderr, "gw_load: %s\n", err);
		return -1;
	}
	if (o.mode == M_GATEWAY && load_keys() != 0)
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < o.conns + 64) {
		rl.rlim_cur = o.conns + 64 > rl.rlim_max ? rl.rlim_max : o.conns + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	copts.ca_file = o.ca;
	copts.sni = o.sni;
	copts.insecure = o.ca == NULL;
	copts.max_message = 4096;
	/* Echo.data: the rest of the payload after its key and length varint */
	data_len = o.size - 2;
	while (1 + wg_varint32_size(data_len) + data_len > o.size)
		data_len--;
	/* the largest Envelope: an ECHO, or the LOGIN with its token */
	env_cap = (o.size > LOGIN_MAX ? o.size : LOGIN_MAX) + WG_ENVELOPE_HDR_MAX;
	payload_buf = malloc(o.size);
	env_buf = malloc(env_cap);
	hist = wg_hist_create(WG_HIST_NS_HOUR, 3);
	conns = calloc(o.conns, sizeof(*conns));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (payload_buf == NULL || env_buf == NULL || hist == NULL || conns == NULL || ep < 0)
		return -1;
	/* the Echo header is the same for every message: checked as a prefix */
	payload_buf[0] = 0x0a;          /* field 1 (data), length-delimited */
	{
		uint32_t v = data_len;
		unsigned int k = 1;

		while (v >= 0x80) {
			payload_buf[k++] = (uint8_t)(v | 0x80);
			v >>= 7;
		}
		payload_buf[k] = (uint8_t)v;
	}
	for (i = 0; i < o.conns; i++) {
		conns[i].id = i;
		conns[i].fd = -1;
		conns[i].state = GS_IDLE;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: gw_load -u URL [-m gateway|echo] [-K KEYFILE] [-b PLAYER_BASE]\n"
		"               [-c conns] [-s size] [-i inflight] [-d seconds] [-w warmup]\n"
		"               [-a ack_every] [-P parallel] [-A cafile] [-S sni]\n"
		"  URL    ws://HOST:PORT/PATH, wss://..., framed://HOST:PORT, framed+tls://...\n"
		"  -m     gateway: log in (token from -K), ECHO through logic (default);\n"
		"         echo: the same ECHOs to a `service: echo` listener, no login\n"
		"  -s S   Echo payload bytes per message (%u..%u, default 64)\n"
		"  -i W   ECHOs in flight per connection (closed loop, default 1)\n"
		"  -a N   bare ACK every N server messages (gateway; 0: none, default 64)\n"
		"  -A F   verify the server against CA file F (default: no verification)\n",
		PAYLOAD_MIN, PAYLOAD_MAX);
}

static int
parse_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "u:m:K:b:c:s:i:d:w:a:P:A:S:h")) != -1) {
		switch (opt) {
		case 'u': o.url = optarg; break;
		case 'm':
			if (strcmp(optarg, "gateway") == 0)
				o.mode = M_GATEWAY;
			else if (strcmp(optarg, "echo") == 0)
				o.mode = M_ECHO;
			else
				return -1;
			break;
		case 'K': o.keys = optarg; break;
		case 'b': o.player_base = strtoull(optarg, NULL, 10); break;
		case 'c': o.conns = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 's': o.size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'i': o.inflight = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'd': o.seconds = strtod(optarg, NULL); break;
		case 'w': o.warmup = strtod(optarg, NULL); break;
		case 'a': o.ack_every = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'P': o.parallel = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'A': o.ca = optarg; break;
		case 'S': o.sni = optarg; break;
		default: return -1;
		}
	}
	if (o.url == NULL || (o.mode == M_GATEWAY && o.keys == NULL) || o.conns == 0 ||
	    o.conns > CONNS_MAX || o.size < PAYLOAD_MIN || o.size > PAYLOAD_MAX || o.inflight == 0 ||
	    o.inflight > 64 || o.seconds <= 0 || o.warmup < 0 || o.parallel == 0 ||
	    o.player_base == 0 || optind != argc)
		return -1;
	return 0;
}

/* One step of the phase machine, before waiting for events. */
static void
advance(uint64_t *t_ready)
{
	unsigned int i;

	switch (phase) {
	case PH_CONNECT:
		next_connect();
		if (n_started == o.conns && n_opening == 0) {
			*t_ready = now;
			if (n_ready < o.conns)
				fprintf(stderr, "gw_load: only %u of %u connections ready\n", n_ready,
					o.conns);
			phase = PH_WARMUP;
			t_measure = now + (uint64_t)(o.warmup * NS_PER_S);
			t_measure_end = t_measure + (uint64_t)(o.seconds * NS_PER_S);
			start_sending();
		} else if (now - t_progress > CONNECT_STALL) {
			fprintf(stderr, "gw_load: no connection ready for %llu s (%u ready, %u "
				"pending, %u not started)\n",
				(unsigned long long)(CONNECT_STALL / NS_PER_S), n_ready, n_opening,
				o.conns - n_started);
			for (i = 0; i < o.conns; i++)
				if (conns[i].state == GS_OPENING || conns[i].state == GS_LOGIN) {
					wgc_conn_abort(conns[i].wc, "stalled while connecting");
					conn_finish(&conns[i]);
				}
			errors += o.conns - n_started;
			n_done += o.conns - n_started;
			n_started = o.conns;
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
	case PH_DRAIN:
		if (all_answered(false) || now - t_event > DRAIN_STALL) {
			if (now - t_event > DRAIN_STALL)
				all_answered(true);
			phase = PH_CLOSE;
			t_event = now;
			start_close();
		}
		break;
	case PH_CLOSE:
		if (n_done == o.conns) {
			phase = PH_END;
		} else if (now - t_event > DRAIN_STALL) {
			for (i = 0; i < o.conns; i++)
				if (conns[i].wc != NULL) {
					wgc_conn_abort(conns[i].wc, "no close from the server");
					conn_finish(&conns[i]);
				}
			phase = PH_END;
		}
		break;
	case PH_END:
		break;
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[EPOLL_BATCH];
	struct wg_hist_summary s;
	uint64_t t_start, t_ready = 0;
	int n, i;

	if (parse_args(argc, argv) != 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (setup() != 0) {
		fprintf(stderr, "gw_load: set-up failed\n");
		return 1;
	}
	now = t_start = t_progress = now_ns();
	phase = PH_CONNECT;
	for (;;) {
		now = now_ns();
		advance(&t_ready);
		if (phase == PH_END)
			break;
		n = epoll_wait(ep, evs, EPOLL_BATCH, 10);
		if (n < 0 && errno != EINTR) {
			perror("gw_load: epoll_wait");
			return 1;
		}
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct gconn *c = &conns[evs[i].data.u32];

			if (c->wc == NULL)
				continue;
			wgc_conn_io(c->wc, to_poll(evs[i].events), on_msg, c);
			conn_step(c);
		}
	}

	wg_hist_summarize(hist, &s);
	printf("mode=%s transport=%s conns=%u ready=%u size=%u inflight=%u seconds=%g msgs=%"
	       PRIu64 " msgs_per_s=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f"
	       " max_us=%.1f mean_us=%.1f sent=%" PRIu64 " acks=%" PRIu64 " owed=%" PRIu64
	       " connect_s=%.3f errors=%" PRIu64 "\n",
	       o.mode == M_GATEWAY ? "gateway" : "echo",
	       url.transport == WGC_WS ? "ws" : url.transport == WGC_WSS ? "wss" :
	       url.transport == WGC_FRAMED ? "framed" : "framed_tls",
	       o.conns, n_logged_in, o.size, o.inflight, o.seconds, n_msgs,
	       (double)n_msgs / o.seconds, s.p50 / 1e3, s.p90 / 1e3, s.p99 / 1e3, s.p999 / 1e3,
	       s.max / 1e3, s.mean / 1e3, n_sent, n_acks, n_owed,
	       (double)(t_ready - t_start) / 1e9, errors);
	if (tokens != NULL)
		wg_token_destroy(tokens);
	return errors != 0 || n_msgs == 0 ? 1 : 0;
}
