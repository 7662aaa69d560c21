/* SPDX-License-Identifier: BSD-3-Clause
 * lws_echo: a WebSocket echo server on libwebsockets (Debian's
 * libwebsockets-dev), the C event-loop baseline of the benchmark matrix:
 * one service thread, every message sent back with its opcode.
 *
 *   lws_echo -l 127.0.0.1 -p 9443 -c chain.crt -k server.key     (wss, TLS 1.3 only)
 *   lws_echo -l 127.0.0.1 -p 9080                                (ws)
 *
 * Messages are reassembled from lws's fragments and queued per connection;
 * reading stops (rx flow control) while a connection has QUEUE_MAX replies
 * pending, so a client that does not read cannot grow the queue. SIGTERM
 * or SIGINT prints "accepted=N messages=N failures=N" and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>

#define QUEUE_MAX     16            /* replies pending before reading pauses */
#define MESSAGE_MAX   (64 * 1024)

struct msg {
	struct msg *next;
	size_t len;
	bool binary;
	unsigned char buf[];           /* LWS_PRE bytes of headroom, then payload */
};

struct session {
	struct msg *head, *tail;
	unsigned int queued;
	bool paused;
	unsigned char *rx;             /* message being reassembled */
	size_t rx_len;
	bool rx_binary;
};

static volatile sig_atomic_t stop;
static uint64_t accepted, messages, failures;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
session_free(struct session *s)
{
	struct msg *m;

	while ((m = s->head) != NULL) {
		s->head = m->next;
		free(m);
	}
	s->tail = NULL;
	free(s->rx);
	s->rx = NULL;
}

static int
cb_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct session *s = user;
	struct msg *m;
	unsigned char *nrx;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(s, 0, sizeof(*s));
		accepted++;
		break;
	case LWS_CALLBACK_RECEIVE:
		if (lws_is_first_fragment(wsi)) {
			s->rx_len = 0;
			s->rx_binary = lws_frame_is_binary(wsi);
		}
		if (s->rx_len + len > MESSAGE_MAX) {
			failures++;
			return -1;
		}
		nrx = realloc(s->rx, s->rx_len + len + 1);
		if (nrx == NULL)
			return -1;
		s->rx = nrx;
		memcpy(s->rx + s->rx_len, in, len);
		s->rx_len += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
			break;
		m = malloc(sizeof(*m) + LWS_PRE + s->rx_len);
		if (m == NULL)
			return -1;
		m->next = NULL;
		m->len = s->rx_len;
		m->binary = s->rx_binary;
		memcpy(m->buf + LWS_PRE, s->rx, s->rx_len);
		s->rx_len = 0;
		if (s->tail != NULL)
			s->tail->next = m;
		else
			s->head = m;
		s->tail = m;
		if (++s->queued >= QUEUE_MAX && !s->paused) {
			lws_rx_flow_control(wsi, 0);
			s->paused = true;
		}
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		m = s->head;
		if (m == NULL)
			break;
		if (lws_write(wsi, m->buf + LWS_PRE, m->len,
			      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < (int)m->len) {
			failures++;
			return -1;
		}
		s->head = m->next;
		if (s->head == NULL)
			s->tail = NULL;
		free(m);
		s->queued--;
		messages++;
		if (s->paused && s->queued < QUEUE_MAX / 2) {
			lws_rx_flow_control(wsi, 1);
			s->paused = false;
		}
		if (s->head != NULL)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLOSED:
		session_free(s);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ .name = "echo", .callback = cb_echo, .per_session_data_size = sizeof(struct session),
	  .rx_buffer_size = 4096 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void
usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-l addr] [-p port] [-c cert -k key]\n", argv0);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	const char *addr = "127.0.0.1", *cert = NULL, *key = NULL;
	int port = 9443, opt;

	while ((opt = getopt(argc, argv, "l:p:c:k:h")) != -1) {
		switch (opt) {
		case 'l':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if ((cert == NULL) != (key == NULL) || port <= 0 || port > 65535) {
		usage(argv[0]);
		return 2;
	}
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = port;
	info.iface = addr;
	info.protocols = protocols;
	info.count_threads = 1;
	info.fd_limit_per_thread = 0;
	/* the client does not offer a subprotocol: take the first */
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = key;
		info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ctx = lws_create_context(&info);
	if (ctx == NULL) {
		fprintf(stderr, "lws_echo: cannot create the context (port %d busy? bad cert?)\n",
			port);
		return 1;
	}
	fprintf(stderr, "lws_echo: %s on %s:%d\n", cert ? "wss" : "ws", addr, port);
	while (!stop)
		if (lws_service(ctx, 0) < 0)
			break;
	printf("accepted=%" PRIu64 " messages=%" PRIu64 " failures=%" PRIu64 "\n", accepted,
	       messages, failures);
	lws_context_destroy(ctx);
	return 0;
}
