/* SPDX-License-Identifier: BSD-3-Clause
 * Kernel-side delay, jitter and reordering without sch_netem (this kernel
 * has none): packets that iptables hands to an NFQUEUE are held here and
 * released - verdict NF_ACCEPT - when their time comes, so the kernel's own
 * stack sees a long, jittery, reordering path. Verdicts may be given in
 * any order, which is what reorders. Independent of the dataplane's own
 * impairment stage (dataplane/impair.c), so a bug in one cannot hide in
 * the other.
 *
 * usage: nfq_impair -q QUEUE -s SEED [-d DELAY_MS] [-j JITTER_MS]
 *                   [-r REORDER_PCT] [-g REORDER_GAP_MS]
 *   every packet: held DELAY_MS + uniform(-JITTER_MS, +JITTER_MS), at
 *   least 0 (independent draws, so jitter reorders); with REORDER_PCT %
 *   chance, GAP_MS more (the packets behind it overtake it).
 * Prints "ready" once bound; on SIGTERM/SIGINT releases everything held,
 * prints its counters and exits 0. A seeded generator (splitmix64): the
 * same seed draws the same sequence.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

struct held {
	uint64_t due_us;
	uint64_t order;               /* ties keep arrival order */
	uint32_t id;
};

static struct {
	struct held *h;               /* min-heap on (due_us, order) */
	size_t n, cap;
	uint64_t rng;
	uint64_t arrivals;
	uint32_t delay_us, jitter_us, reorder_pct, gap_us;
	uint64_t seen, reordered, released, max_held;
} st;

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* splitmix64 (Steele, Lea, Flood) */
static uint64_t
rng_next(void)
{
	uint64_t z = (st.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t
rng_below(uint64_t n)
{
	return n ? rng_next() % n : 0;
}

static bool
before(const struct held *a, const struct held *b)
{
	return a->due_us < b->due_us || (a->due_us == b->due_us && a->order < b->order);
}

static int
heap_push(struct held x)
{
	size_t i;

	if (st.n == st.cap) {
		size_t cap = st.cap ? st.cap * 2 : 1024;
		struct held *h = realloc(st.h, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		st.h = h;
		st.cap = cap;
	}
	i = st.n++;
	while (i > 0 && before(&x, &st.h[(i - 1) / 2])) {
		st.h[i] = st.h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	st.h[i] = x;
	if (st.n > st.max_held)
		st.max_held = st.n;
	return 0;
}

static struct held
heap_pop(void)
{
	struct held top = st.h[0], last = st.h[--st.n];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= st.n)
			break;
		if (c + 1 < st.n && before(&st.h[c + 1], &st.h[c]))
			c++;
		if (!before(&st.h[c], &last))
			break;
		st.h[i] = st.h[c];
		i = c;
	}
	if (st.n > 0)
		st.h[i] = last;
	return top;
}

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *arg)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	int64_t hold;
	struct held x;

	(void)msg;
	(void)arg;
	if (ph == NULL)
		return 0;
	st.seen++;
	hold = st.delay_us;
	if (st.jitter_us)
		hold += (int64_t)rng_below(2ull * st.jitter_us + 1) - st.jitter_us;
	if (hold < 0)
		hold = 0;
	if (st.reorder_pct && rng_below(100) < st.reorder_pct) {
		hold += st.gap_us;
		st.reordered++;
	}
	x.due_us = now_us() + (uint64_t)hold;
	x.order = st.arrivals++;
	x.id = ntohl(ph->packet_id);
	if (heap_push(x) < 0) {
		/* never lose a packet to our own shortage: let it pass now */
		st.released++;
		return nfq_set_verdict(qh, x.id, NF_ACCEPT, 0, NULL);
	}
	return 0;
}

static void
release_due(struct nfq_q_handle *qh, uint64_t now)
{
	while (st.n > 0 && st.h[0].due_us <= now) {
		struct held x = heap_pop();

		nfq_set_verdict(qh, x.id, NF_ACCEPT, 0, NULL);
		st.released++;
	}
}

static int
usage(const char *prog)
{
	fprintf(stderr, "usage: %s -q QUEUE -s SEED [-d DELAY_MS] [-j JITTER_MS] "
		"[-r REORDER_PCT] [-g REORDER_GAP_MS]\n", prog);
	return 2;
}

int
main(int argc, char **argv)
{
	struct nfq_handle *h = NULL;
	struct nfq_q_handle *qh = NULL;
	char buf[65536] __attribute__((aligned));
	long queue = -1;
	int opt, fd, rc = 1;

	st.gap_us = 2000;
	while ((opt = getopt(argc, argv, "q:s:d:j:r:g:")) != -1) {
		switch (opt) {
		case 'q': queue = strtol(optarg, NULL, 10); break;
		case 's': st.rng = strtoull(optarg, NULL, 10); break;
		case 'd': st.delay_us = (uint32_t)strtoul(optarg, NULL, 10) * 1000u; break;
		case 'j': st.jitter_us = (uint32_t)strtoul(optarg, NULL, 10) * 1000u; break;
		case 'r': st.reorder_pct = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'g': st.gap_us = (uint32_t)strtoul(optarg, NULL, 10) * 1000u; break;
		default: return usage(argv[0]);
		}
	}
	if (queue < 0 || queue > 65535 || st.reorder_pct > 100 || st.delay_us > 10000000 ||
	    st.jitter_us > 10000000 || st.gap_us > 10000000)
		return usage(argv[0]);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	h = nfq_open();
	if (h == NULL) {
		perror("nfq_open");
		goto out;
	}
	qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
	if (qh == NULL) {
		perror("nfq_create_queue");
		goto out;
	}
	/* metadata is enough: the packet goes on unchanged */
	if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(qh, 65536) < 0) {
		perror("nfq_set_mode");
		goto out;
	}
	/* a full kernel queue passes packets rather than dropping them: this
	 * tool adds delay, never loss */
	nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN);
	fd = nfq_fd(h);
	nfnl_rcvbufsiz(nfq_nfnlh(h), 8u << 20);
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_us();
		int timeout = -1, n;

		release_due(qh, now);
		if (st.n > 0) {
			uint64_t wait = st.h[0].due_us - now;

			timeout = (int)((wait + 999) / 1000);
		}
		n = poll(&p, 1, timeout < 0 ? 200 : timeout);
		if (n < 0 && errno != EINTR) {
			perror("poll");
			goto out;
		}
		if (n > 0 && (p.revents & POLLIN)) {
			ssize_t len;

			/* drain what is there, without blocking */
			while ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
				nfq_handle_packet(h, buf, (int)len);
			if (len < 0 && errno == ENOBUFS)
				fprintf(stderr, "nfq_impair: netlink socket overrun\n");
		}
	}
	/* nothing stays held when we go */
	release_due(qh, UINT64_MAX);
	fprintf(stderr, "nfq_impair: seen %" PRIu64 " reordered %" PRIu64 " released %" PRIu64
		" max held %" PRIu64 "\n", st.seen, st.reordered, st.released, st.max_held);
	rc = 0;
out:
	if (qh != NULL)
		nfq_destroy_queue(qh);
	if (h != NULL)
		nfq_close(h);
	free(st.h);
	return rc;
}
