/*
 * Kernel-socket TCP echo server: the baseline the benchmarks compare our
 * dataplane's echo service against. One thread, one epoll set, level
 * triggered, Nagle off, every byte written back in order.
 *
 * Backpressure: a connection whose echo did not fit in the socket keeps the
 * rest in its buffer and stops reading until it is flushed, so memory per
 * connection is bounded by ECHO_BUF. On EOF from the client the server
 * closes (everything read has been echoed by then).
 *
 * With -B it never sleeps (epoll_wait with a zero timeout in a loop): the
 * busy-polling counterpart of a dataplane lcore, without a wake-up per
 * message.
 *
 * Prints "listening on ADDR:PORT" once ready; on SIGINT/SIGTERM prints
 * totals to stderr and exits 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_BUF	16384
#define EPOLL_BATCH	256

struct conn {
	int fd;
	size_t len;		/* bytes in buf still to be written back */
	size_t off;		/* of which off are already written */
	uint8_t buf[ECHO_BUF];
};

static volatile sig_atomic_t quit;
static uint64_t n_accepted, n_bytes, n_errors;
static int listener = -1;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void
conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static int
conn_wait(int ep, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write back what is buffered; 1 if everything went, 0 if the socket is full. */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->off < c->len) {
		n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->off += (size_t)n;
		n_bytes += (uint64_t)n;
	}
	c->off = c->len = 0;
	return 1;
}

static void
conn_event(int ep, struct conn *c, uint32_t events)
{
	ssize_t n;
	int ret;

	if (c->len > 0) {
		/* waiting for room to finish the last echo */
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		ret = conn_flush(c);
		if (ret < 0)
			goto err;
		if (ret == 1 && conn_wait(ep, c, EPOLLIN) < 0)
			goto err;
		return;
	}
	n = recv(c->fd, c->buf, sizeof(c->buf), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		goto err;
	}
	if (n == 0) {
		conn_close(ep, c);
		return;
	}
	c->len = (size_t)n;
	ret = conn_flush(c);
	if (ret < 0)
		goto err;
	if (ret == 0 && conn_wait(ep, c, EPOLLOUT) < 0)
		goto err;
	return;
err:
	n_errors++;
	conn_close(ep, c);
}

static void
accept_all(int ep)
{
	int one = 1, fd;

	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;

		fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				fprintf(stderr, "echo_server: accept: %s\n", strerror(errno));
				n_errors++;
			}
			return;
		}
		c = malloc(sizeof(*c));
		if (c == NULL) {
			n_errors++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = c->off = 0;
		ev.data.ptr = c;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			n_errors++;
			close(fd);
			free(c);
			continue;
		}
		n_accepted++;
	}
}

static int
listen_on(const char *addr, const char *port, int backlog)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE,
	};
	struct addrinfo *ai;
	int one = 1, fd, ret;

	ret = getaddrinfo(addr, port, &hints, &ai);
	if (ret != 0) {
		fprintf(stderr, "echo_server: %s:%s: %s\n", addr ? addr : "*", port,
			gai_strerror(ret));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0)
		goto err;
	freeaddrinfo(ai);
	return fd;
err:
	ret = -errno;
	fprintf(stderr, "echo_server: listen on %s:%s: %s\n", addr ? addr : "*", port,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ret;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-a ADDR] [-p PORT] [-b BACKLOG] [-B]\n"
		"  -a, --addr ADDR      address to listen on (all)\n"
		"  -p, --port PORT      port (7)\n"
		"  -b, --backlog N      listen backlog (1024)\n"
		"  -B, --busy-poll      never sleep: poll epoll with a zero timeout\n", prog);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "busy-poll", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct epoll_event evs[EPOLL_BATCH];
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	const char *addr = NULL, *port = "7";
	struct sigaction sa = { .sa_handler = on_signal };
	struct rlimit rl;
	int backlog = 1024, timeout = -1, opt, ep, n, k;
	char *end;

	while ((opt = getopt_long(argc, argv, "a:p:b:Bh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 'b':
			backlog = (int)strtol(optarg, &end, 10);
			if (*end || backlog < 1) {
				usage(argv[0]);
				return 2;
			}
			break;
		case 'B':
			timeout = 0;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		usage(argv[0]);
		return 2;
	}
	/* no SA_RESTART: a signal must break epoll_wait */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	listener = listen_on(addr, port, backlog);
	if (listener < 0)
		return 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lev) < 0) {
		fprintf(stderr, "echo_server: epoll: %s\n", strerror(errno));
		return 1;
	}
	printf("listening on %s:%s\n", addr ? addr : "*", port);
	fflush(stdout);

	while (!quit) {
		n = epoll_wait(ep, evs, EPOLL_BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "echo_server: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (k = 0; k < n; k++) {
			if (evs[k].data.ptr == NULL)
				accept_all(ep);
			else
				conn_event(ep, evs[k].data.ptr, evs[k].events);
		}
	}
	fprintf(stderr, "echo_server: %" PRIu64 " connections, %" PRIu64 " bytes echoed, "
		"%" PRIu64 " errors\n", n_accepted, n_bytes, n_errors);
	/* open connections are closed by exit */
	close(ep);
	close(listener);
	return 0;
}
