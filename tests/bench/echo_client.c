/*
 * Closed-loop TCP echo load client for benchmarks (plain sockets, one thread,
 * epoll, no DPDK).
 *
 * N connections each keep exactly one S-byte message in flight: send it, wait
 * until all S bytes have come back, check every byte, send the next one. After
 * a warm-up the client counts messages for a fixed time and records each
 * message's round trip (first byte sent to last byte received) in a
 * log-linear histogram. At the end it stops starting messages, lets the ones
 * in flight finish, half-closes every connection and expects a clean EOF with
 * no stray bytes.
 *
 * The clock is read once per epoll_wait return and stamps every completion
 * and send of that batch: latencies are exact to one loop iteration, the same
 * way for every server under test.
 *
 * Every message comes from a fixed pseudo-random pattern at an offset that
 * depends on the connection and the message number, so a lost, duplicated,
 * reordered or cross-connection byte shows up as a mismatch. Any mismatch,
 * reset, early EOF or timeout is an error: the report is still printed, and
 * the exit status is 1.
 *
 * Output: one line of key=value pairs on stdout; diagnostics on stderr.
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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_LEN	65536u		/* power of two */
#define MSG_MAX		(1u << 20)	/* largest message size */
#define CONNS_MAX	100000u
#define CONNECT_TIMEOUT_S 5
#define DRAIN_TIMEOUT_NS (5 * NS_PER_S)	/* in-flight messages, then EOFs */
#define EPOLL_BATCH	256
#define NS_PER_S	1000000000ull

/*
 * Log-linear histogram (the HdrHistogram layout): values below 2^(B+1) have a
 * bucket each; above, every power-of-two range [2^e, 2^(e+1)) is cut into 2^B
 * equal buckets, so a bucket is at most 2^-B (0.8 % for B = 7) of its value
 * wide. Indexes are contiguous: index = (e - B) * 2^B + (v >> (e - B)).
 */
#define HIST_SUB_BITS	7
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_BUCKETS	((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	uint64_t b[HIST_BUCKETS];
};

enum phase {
	PH_WARMUP,	/* running, nothing recorded */
	PH_MEASURE,	/* running, completions recorded */
	PH_DRAIN,	/* no new messages; waiting for those in flight */
	PH_CLOSE,	/* write sides shut; waiting for every EOF */
};

struct conn {
	int fd;
	unsigned int id;
	bool busy;		/* a message is in flight */
	bool want_out;		/* EPOLLOUT armed: the send was partial */
	bool done;		/* EOF received after our shutdown, or failed */
	uint64_t seq;		/* number of the message in flight */
	size_t off;		/* its offset in the pattern */
	size_t sent;		/* bytes of it sent */
	size_t rcvd;		/* bytes of it echoed */
	uint64_t t_start;	/* ns when its first byte was sent */
	uint8_t *buf;		/* echoed bytes, size long */
};

struct opts {
	const char *host;
	const char *port;
	unsigned int conns;
	size_t size;
	double seconds;
	double warmup;
};

static uint8_t *pattern;
static struct hist hist;
static enum phase phase;
static uint64_t errors;
static uint64_t n_msgs;		/* completions in the measured window */
static unsigned int n_open;	/* connections not yet done */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static unsigned int
hist_index(uint64_t v)
{
	unsigned int e, shift;

	if (v < 2 * HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v);
	shift = e - HIST_SUB_BITS;
	return shift * HIST_SUB + (unsigned int)(v >> shift);
}

/* Largest value that lands in bucket idx. */
static uint64_t
hist_bucket_high(unsigned int idx)
{
	unsigned int shift;
	uint64_t mant;

	if (idx < 2 * HIST_SUB)
		return idx;
	shift = idx / HIST_SUB - 1;
	mant = idx - shift * HIST_SUB;
	return ((mant + 1) << shift) - 1;
}

static void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static void
hist_record(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/*
 * Value at percentile p (0 < p <= 100): the upper edge of the bucket holding
 * the ceil(p/100 * count)-th smallest value, never above the exact maximum.
 */
static uint64_t
hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;
	unsigned int i;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(p / 100.0 * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = hist_bucket_high(i);

			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

/* Self-check of the bucket layout: contiguous, monotonic, bounded error. */
static int
hist_selftest(void)
{
	static const uint64_t probe[] = { 0, 1, 127, 128, 255, 256, 257, 511, 512, 1000,
					  123456789, 1ull << 40, UINT64_MAX };
	unsigned int i, prev = 0;

	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		uint64_t v = probe[i], hi;
		unsigned int idx = hist_index(v);

		if (idx >= HIST_BUCKETS || idx < prev)
			return -1;
		hi = hist_bucket_high(idx);
		if (hi < v || (v > 0 && (double)(hi - v) / (double)v > 1.0 / HIST_SUB))
			return -1;
		if (idx > 0 && hist_bucket_high(idx - 1) >= v)
			return -1;
		prev = idx;
	}
	return 0;
}

/* Fixed xorshift64 stream: the same pattern in every run. */
static int
pattern_init(size_t size)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i, len = PATTERN_LEN + size;

	pattern = malloc(len);
	if (pattern == NULL)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pattern[i] = (uint8_t)(x >> 32);
	}
	return 0;
}

static size_t
msg_offset(unsigned int id, uint64_t seq)
{
	return (size_t)(((uint64_t)id * 7919u + seq * 257u) & (PATTERN_LEN - 1));
}

static void
conn_fail(int ep, struct conn *c, const char *what, int err)
{
	fprintf(stderr, "echo_client: conn %u (message %" PRIu64 ", %zu sent, %zu echoed): %s%s%s\n",
		c->id, c->seq, c->sent, c->rcvd, what, err ? ": " : "", err ? strerror(err) : "");
	errors++;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->busy = false;
	c->done = true;
	n_open--;
}

static int
conn_arm(int ep, struct conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == out)
		return 0;
	c->want_out = out;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno : 0;
}

/* Send what is left of the message in flight; arm EPOLLOUT if the socket is full. */
static void
conn_push(int ep, struct conn *c, size_t size)
{
	ssize_t n;
	int ret;

	while (c->sent < size) {
		n = send(c->fd, pattern + c->off + c->sent, size - c->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_fail(ep, c, "send", errno);
			return;
		}
		c->sent += (size_t)n;
	}
	ret = conn_arm(ep, c, c->sent < size);
	if (ret < 0)
		conn_fail(ep, c, "epoll_ctl", -ret);
}

static void
conn_start(int ep, struct conn *c, size_t size, uint64_t now)
{
	c->busy = true;
	c->off = msg_offset(c->id, c->seq);
	c->sent = 0;
	c->rcvd = 0;
	c->t_start = now;
	conn_push(ep, c, size);
}

static void
conn_complete(int ep, struct conn *c, size_t size, uint64_t now)
{
	const uint8_t *want = pattern + c->off;

	if (memcmp(c->buf, want, size) != 0) {
		size_t i = 0;
		char what[128];

		while (c->buf[i] == want[i])
			i++;
		snprintf(what, sizeof(what), "echo mismatch at byte %zu: got 0x%02x, want 0x%02x",
			 i, c->buf[i], want[i]);
		conn_fail(ep, c, what, 0);
		return;
	}
	c->busy = false;
	if (phase == PH_MEASURE) {
		n_msgs++;
		hist_record(&hist, now - c->t_start);
	}
	c->seq++;
	if (phase <= PH_MEASURE)
		conn_start(ep, c, size, now);
}

static void
conn_readable(int ep, struct conn *c, size_t size, uint64_t now)
{
	uint8_t extra[256];
	ssize_t n;

	if (!c->busy) {
		/* nothing outstanding: only EOF (after our shutdown) is allowed */
		n = recv(c->fd, extra, sizeof(extra), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0) {
			conn_fail(ep, c, "recv", errno);
		} else if (n > 0) {
			conn_fail(ep, c, "bytes echoed that were never sent", 0);
		} else if (phase != PH_CLOSE) {
			conn_fail(ep, c, "server closed the connection", 0);
		} else {
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = -1;
			c->done = true;
			n_open--;
		}
		return;
	}
	n = recv(c->fd, c->buf + c->rcvd, size - c->rcvd, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_fail(ep, c, "recv", errno);
		return;
	}
	if (n == 0) {
		conn_fail(ep, c, "server closed the connection", 0);
		return;
	}
	c->rcvd += (size_t)n;
	if (c->rcvd > c->sent) {
		conn_fail(ep, c, "more bytes echoed than sent", 0);
		return;
	}
	if (c->rcvd == size)
		conn_complete(ep, c, size, now);
}

static int
resolve(const struct opts *o, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int ret;

	ret = getaddrinfo(o->host, o->port, &hints, &ai);
	if (ret != 0) {
		fprintf(stderr, "echo_client: %s:%s: %s\n", o->host, o->port, gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Blocking connect with a timeout, then non-blocking with Nagle off. */
static int
conn_open(struct conn *c, const struct sockaddr_storage *ss, socklen_t len)
{
	struct timeval tv = { .tv_sec = CONNECT_TIMEOUT_S };
	int one = 1, fd, ret;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto err;
	if (connect(fd, (const struct sockaddr *)ss, len) < 0)
		goto err;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		goto err;
	c->fd = fd;
	return 0;
err:
	ret = -errno;
	close(fd);
	return ret;
}

static void
raise_nofile(unsigned int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -H HOST [-p PORT] [-c CONNS] [-s SIZE] [-d SECONDS] [-w WARMUP]\n"
		"  -H, --host HOST      echo server address\n"
		"  -p, --port PORT      echo server port (7)\n"
		"  -c, --conns N        concurrent connections, one message in flight each (1)\n"
		"  -s, --size BYTES     message size (64)\n"
		"  -d, --seconds S      measured duration (5)\n"
		"  -w, --warmup S       unmeasured run before it (1)\n"
		"prints one line: conns size seconds msgs msgs_per_s bytes_per_s (echoed payload,\n"
		"each direction) p50_us p90_us p99_us p999_us max_us errors; exit 1 on any error\n",
		prog);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int opt;

	*o = (struct opts){ .port = "7", .conns = 1, .size = 64, .seconds = 5, .warmup = 1 };
	while ((opt = getopt_long(argc, argv, "H:p:c:s:d:w:h", lopts, NULL)) != -1) {
		errno = 0;
		switch (opt) {
		case 'H':
			o->host = optarg;
			break;
		case 'p':
			o->port = optarg;
			break;
		case 'c':
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > CONNS_MAX)
				goto bad;
			o->conns = (unsigned int)v;
			break;
		case 's':
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > MSG_MAX)
				goto bad;
			o->size = v;
			break;
		case 'd':
			o->seconds = strtod(optarg, &end);
			if (errno || *end || !(o->seconds > 0 && o->seconds <= 86400))
				goto bad;
			break;
		case 'w':
			o->warmup = strtod(optarg, &end);
			if (errno || *end || !(o->warmup >= 0 && o->warmup <= 86400))
				goto bad;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (o->host == NULL || optind != argc)
		return -EINVAL;
	return 0;
bad:
	fprintf(stderr, "%s: bad value for -%c: '%s'\n", argv[0], opt, optarg);
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[EPOLL_BATCH];
	struct sockaddr_storage ss;
	uint64_t t_now, t_meas_start = 0, t_meas_end = 0, t_warm_end, t_end, t_deadline = 0;
	struct conn *conns = NULL;
	uint8_t *bufs = NULL;
	struct opts o;
	socklen_t sslen;
	unsigned int i;
	double secs;
	int ep = -1, ret;

	ret = parse_opts(argc, argv, &o);
	if (ret != 0) {
		usage(argv[0]);
		return ret > 0 ? 0 : 2;
	}
	if (hist_selftest() < 0) {
		fprintf(stderr, "echo_client: histogram self-test failed\n");
		return 1;
	}
	hist_reset(&hist);
	raise_nofile(o.conns + 16);
	if (resolve(&o, &ss, &sslen) < 0 || pattern_init(o.size) < 0)
		return 1;
	conns = calloc(o.conns, sizeof(*conns));
	for (i = 0; conns != NULL && i < o.conns; i++)
		conns[i].fd = -1;
	bufs = malloc((size_t)o.conns * o.size);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conns == NULL || bufs == NULL || ep < 0) {
		fprintf(stderr, "echo_client: setup: %s\n", strerror(errno));
		ret = 1;
		goto out;
	}
	for (i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		int r;

		c->id = i;
		c->buf = bufs + (size_t)i * o.size;
		r = conn_open(c, &ss, sslen);
		if (r < 0) {
			fprintf(stderr, "echo_client: connect %u of %u to %s:%s: %s\n",
				i + 1, o.conns, o.host, o.port, strerror(-r));
			ret = 1;
			goto out;
		}
		n_open++;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			fprintf(stderr, "echo_client: epoll_ctl: %s\n", strerror(errno));
			ret = 1;
			goto out;
		}
	}

	t_now = now_ns();
	t_warm_end = t_now + (uint64_t)(o.warmup * NS_PER_S);
	t_end = t_warm_end + (uint64_t)(o.seconds * NS_PER_S);
	phase = PH_WARMUP;
	for (i = 0; i < o.conns; i++)
		conn_start(ep, &conns[i], o.size, t_now);

	while (n_open > 0) {
		int n, timeout_ms = 100, k;

		n = epoll_wait(ep, evs, EPOLL_BATCH, timeout_ms);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "echo_client: epoll_wait: %s\n", strerror(errno));
			errors++;
			break;
		}
		t_now = now_ns();
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;

			if (c->done)
				continue;
			if ((evs[k].events & EPOLLOUT) && c->busy && c->sent < o.size)
				conn_push(ep, c, o.size);
			if (!c->done && (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				conn_readable(ep, c, o.size, t_now);
		}

		if (phase == PH_WARMUP && t_now >= t_warm_end) {
			phase = PH_MEASURE;
			t_meas_start = t_now;
		} else if (phase == PH_MEASURE && t_now >= t_end) {
			phase = PH_DRAIN;
			t_meas_end = t_now;
			t_deadline = t_now + DRAIN_TIMEOUT_NS;
		}
		if (phase == PH_DRAIN) {
			bool idle = true;

			for (i = 0; i < o.conns && idle; i++)
				idle = !conns[i].busy;
			if (idle) {
				/* half-close: the echo server must answer with EOF, nothing else */
				for (i = 0; i < o.conns; i++)
					if (!conns[i].done && shutdown(conns[i].fd, SHUT_WR) < 0)
						conn_fail(ep, &conns[i], "shutdown", errno);
				phase = PH_CLOSE;
			}
		}
		if (phase >= PH_DRAIN && t_now >= t_deadline) {
			for (i = 0; i < o.conns; i++)
				if (!conns[i].done)
					conn_fail(ep, &conns[i], phase == PH_DRAIN ?
						  "message not echoed in time" : "no EOF in time", 0);
		}
	}

	secs = t_meas_end > t_meas_start ? (double)(t_meas_end - t_meas_start) / 1e9 : 0;
	if (n_msgs == 0) {
		fprintf(stderr, "echo_client: no message completed in the measured window\n");
		errors++;
	}
	printf("conns=%u size=%zu seconds=%.3f msgs=%" PRIu64 " msgs_per_s=%.0f bytes_per_s=%.0f "
	       "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%" PRIu64 "\n",
	       o.conns, o.size, secs, n_msgs, secs > 0 ? (double)n_msgs / secs : 0,
	       secs > 0 ? (double)n_msgs * (double)o.size / secs : 0,
	       (double)hist_percentile(&hist, 50) / 1e3, (double)hist_percentile(&hist, 90) / 1e3,
	       (double)hist_percentile(&hist, 99) / 1e3, (double)hist_percentile(&hist, 99.9) / 1e3,
	       (double)hist.max / 1e3, errors);
	fflush(stdout);
	ret = errors ? 1 : 0;
out:
	if (conns != NULL)
		for (i = 0; i < o.conns; i++)
			if (conns[i].fd >= 0)
				close(conns[i].fd);
	if (ep >= 0)
		close(ep);
	free(bufs);
	free(conns);
	free(pattern);
	return ret;
}
