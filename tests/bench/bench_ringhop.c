/* SPDX-License-Identifier: BSD-3-Clause
 * What a ring hop costs a message: the dataplane hands a client Envelope to
 * a logic instance over an SPSC rte_ring and gets the answer back on a
 * second ring, the way gateway.c and the logic framework do, against the
 * same handler called directly in the same run.
 *
 *   direct:     for each message: handler(m)                  (one lcore)
 *   ring burst: lcore 0 enqueues bursts of 32, lcore 1 dequeues, runs the
 *               handler, enqueues the answer; lcore 0 collects (pipelined)
 *   ping-pong:  one message in flight: the round trip of a single hop pair
 *
 * The handler is the logic side's per-message work: check the header,
 * decode the Envelope (common/envelope.h), write the reply header in place.
 * Prints ns/message and ratios; never fails on speed.
 * usage: bench_ringhop [MESSAGES]   (needs 2 lcores; uses --no-huge)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "../eal_runtime.h"
#include "envelope.h"
#include "msgring.h"

#define BURST      32
#define RING_SIZE  1024
#define POOL_N     4095

static struct rte_mempool *pool;
static struct rte_ring *to_logic, *to_dp;
static volatile int stop;
static uint64_t handled;

/* The logic side of one message; the answer goes back in the same mbuf. */
static inline int
handler(struct rte_mbuf *m)
{
	struct wg_msg_hdr *h = wg_msg_hdr(m);
	struct wg_envelope env;

	if (wg_msg_mbuf_check(m) != 0 ||
	    wg_envelope_decode(&env, wg_msg_payload(m), h->len) != 0 || env.type != h->msg_type)
		return -1;
	h->flags |= WG_MSG_F_REPLY;
	h->src = 1;
	handled += env.payload_len != 0;
	return 0;
}

static int
logic_lcore(void *arg)
{
	struct rte_mbuf *ms[BURST];
	unsigned int n, i, done;

	(void)arg;
	while (!stop) {
		n = rte_ring_sc_dequeue_burst(to_logic, (void **)ms, BURST, NULL);
		for (i = 0; i < n; i++)
			if (handler(ms[i]) != 0)
				abort();
		for (done = 0; done < n;)
			done += rte_ring_sp_enqueue_burst(to_dp, (void **)ms + done, n - done, NULL);
	}
	return 0;
}

/* An ECHO Envelope with a 32-byte payload, like a small game message. */
static struct rte_mbuf *
message(uint32_t seq)
{
	struct wg_envelope env = { .type = 0x200, .seq = seq, .msg_id = seq };
	uint8_t payload[32];
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	int n;

	if (m == NULL)
		return NULL;
	memset(payload, 0x5a, sizeof(payload));
	env.payload = payload;
	env.payload_len = sizeof(payload);
	p = (uint8_t *)rte_pktmbuf_append(m, sizeof(struct wg_msg_hdr) + 64);
	n = wg_envelope_encode(&env, p + sizeof(struct wg_msg_hdr), 64);
	if (n < 0)
		abort();
	rte_pktmbuf_trim(m, (uint16_t)(64 - n));
	wg_msg_hdr_fill((struct wg_msg_hdr *)p, 0x200, 1, (uint32_t)n, 0, 0x8000, seq);
	return m;
}

static double
ns_per(uint64_t tsc, uint64_t n)
{
	return (double)tsc * 1e9 / (double)rte_get_tsc_hz() / (double)n;
}

int
main(int argc, char **argv)
{
	const char *eal[] = { "bench_ringhop", "--no-huge", "--no-shconf", "--no-pci", "-l", "0-1", "-m", "256",
			      "--log-level", "lib.*:error", "--file-prefix", NULL };
	struct rte_mbuf *ms[BURST];
	char prefix[32];
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000, i, t0, t_direct, t_burst,
		 t_pp, pp_n, sent, got;
	unsigned int k, worker;

	snprintf(prefix, sizeof(prefix), "bench_ringhop%d", (int)getpid());
	eal[RTE_DIM(eal) - 1] = prefix;
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(eal), (char **)(uintptr_t)eal) < 0) {
		fprintf(stderr, "bench_ringhop: EAL init failed\n");
		return 1;
	}
	worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE) {
		fprintf(stderr, "bench_ringhop: needs 2 lcores\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("rh_pool", POOL_N, 256, 0, RTE_PKTMBUF_HEADROOM + 512,
				       SOCKET_ID_ANY);
	to_logic = rte_ring_create("rh_in", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	to_dp = rte_ring_create("rh_out", RING_SIZE, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (pool == NULL || to_logic == NULL || to_dp == NULL) {
		fprintf(stderr, "bench_ringhop: no memory\n");
		return 1;
	}
	for (k = 0; k < BURST; k++)
		ms[k] = message(k + 1);

	/* direct call, same messages, same handler */
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++)
		if (handler(ms[i % BURST]) != 0)
			abort();
	t_direct = rte_rdtsc() - t0;

	rte_eal_remote_launch(logic_lcore, NULL, worker);
	/* pipelined bursts: the 32 messages circulate; ms[0..k) are ours to
	 * send, answers come back into that stack */
	sent = got = 0;
	k = BURST;
	t0 = rte_rdtsc();
	while (got < n) {
		unsigned int e = 0, r;

		if (k > 0 && sent < n) {
			e = rte_ring_sp_enqueue_burst(to_logic, (void **)ms + k -
						      RTE_MIN((uint64_t)k, n - sent),
						      (unsigned int)RTE_MIN((uint64_t)k, n - sent), NULL);
			k -= e;
			sent += e;
		}
		r = rte_ring_sc_dequeue_burst(to_dp, (void **)ms + k, BURST - k, NULL);
		k += r;
		got += r;
	}
	t_burst = rte_rdtsc() - t0;

	/* ping-pong: one message, one hop each way */
	pp_n = n / 16;
	t0 = rte_rdtsc();
	for (i = 0; i < pp_n; i++) {
		struct rte_mbuf *b;

		while (rte_ring_sp_enqueue(to_logic, ms[0]) != 0)
			;
		while (rte_ring_sc_dequeue(to_dp, (void **)&b) != 0)
			;
		ms[0] = b;
	}
	t_pp = rte_rdtsc() - t0;
	stop = 1;
	rte_eal_mp_wait_lcore();

	printf("ring hop benchmark: %" PRIu64 " messages (ECHO Envelope, 32-byte payload), "
	       "rings of %u, bursts of %u\n", n, RING_SIZE, BURST);
	printf("  direct handler call:        %7.1f ns/message\n", ns_per(t_direct, n));
	printf("  dp -> logic -> dp, bursts:  %7.1f ns/message  (%.1f M messages/s; %.1fx direct)\n",
	       ns_per(t_burst, n), (double)n / ((double)t_burst / (double)rte_get_tsc_hz()) / 1e6,
	       ns_per(t_burst, n) / ns_per(t_direct, n));
	printf("  one in flight, round trip:  %7.1f ns (%.1f ns per hop)\n", ns_per(t_pp, pp_n),
	       ns_per(t_pp, pp_n) / 2);
	for (k = 0; k < BURST; k++)
		rte_pktmbuf_free(ms[k]);
	rte_eal_cleanup();
	return handled > 0 ? 0 : 1;
}
