/* SPDX-License-Identifier: BSD-3-Clause
 * mbuf chain helpers (dataplane/chain.h): split at segment boundaries, pop a
 * consumed head, append bytes across segments. Byte contents and the chain
 * bookkeeping (pkt_len, nb_segs) are checked after every step, and every
 * test ends with the pool full again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#include "chain.h"
#include "../eal_runtime.h"

#define POOL_N  255
#define ROOM    256             /* small data room: appends span segments */

static struct rte_mempool *pool;

/* pkt_len and nb_segs agree with the segments, and the bytes are p[0..len) */
static void
check_chain(const struct rte_mbuf *m, const uint8_t *p, uint32_t len)
{
	uint32_t n = 0;
	uint16_t segs = 0;

	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	for (const struct rte_mbuf *s = m; s != NULL; s = s->next) {
		assert_memory_equal(rte_pktmbuf_mtod(s, const uint8_t *), p + n, s->data_len);
		n += s->data_len;
		segs++;
	}
	assert_int_equal(n, len);
	assert_int_equal(m->nb_segs, segs);
}

static void
pattern(uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void
test_append_spans_segments(void **state)
{
	uint8_t buf[1000];
	struct rte_mbuf *m = NULL;

	(void)state;
	pattern(buf, sizeof(buf), 1);
	/* pieces of awkward sizes: fill the tail, then new segments */
	assert_int_equal(wg_chain_append(&m, pool, buf, 1), 0);
	assert_int_equal(wg_chain_append(&m, pool, buf + 1, 300), 0);
	assert_int_equal(wg_chain_append(&m, pool, buf + 301, 0), 0);
	assert_int_equal(wg_chain_append(&m, pool, buf + 301, 699), 0);
	check_chain(m, buf, sizeof(buf));
	/* headroom, then ROOM - headroom per segment: at least 4 segments */
	assert_true(m->nb_segs >= 4);
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

static void
test_append_pool_dry(void **state)
{
	uint8_t buf[ROOM * 4];
	struct rte_mbuf *hold[POOL_N], *m = NULL;
	unsigned int i;

	(void)state;
	pattern(buf, sizeof(buf), 2);
	/* leave two mbufs: the append gets part way and says so */
	for (i = 0; i < POOL_N - 2; i++)
		assert_non_null(hold[i] = rte_pktmbuf_alloc(pool));
	assert_int_equal(wg_chain_append(&m, pool, buf, sizeof(buf)), -ENOMEM);
	assert_non_null(m);
	assert_true(rte_pktmbuf_pkt_len(m) > 0 && rte_pktmbuf_pkt_len(m) < sizeof(buf));
	check_chain(m, buf, rte_pktmbuf_pkt_len(m));
	rte_pktmbuf_free(m);
	for (i = 0; i < POOL_N - 2; i++)
		rte_pktmbuf_free(hold[i]);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

static void
test_split(void **state)
{
	uint8_t buf[900];
	struct rte_mbuf *m = NULL, *rest;
	uint32_t first;

	(void)state;
	pattern(buf, sizeof(buf), 3);
	assert_int_equal(wg_chain_append(&m, pool, buf, sizeof(buf)), 0);
	first = m->data_len;

	/* less than the first segment: nothing can go */
	assert_ptr_equal(wg_chain_split(m, first - 1), m);
	check_chain(m, buf, sizeof(buf));
	/* everything fits: no rest */
	assert_null(wg_chain_split(m, sizeof(buf)));
	assert_null(wg_chain_split(m, UINT32_MAX));
	check_chain(m, buf, sizeof(buf));
	/* between the first and second segment boundary: the first only */
	rest = wg_chain_split(m, first + 1);
	assert_non_null(rest);
	check_chain(m, buf, first);
	check_chain(rest, buf + first, sizeof(buf) - first);
	/* and back together */
	assert_int_equal(rte_pktmbuf_chain(m, rest), 0);
	check_chain(m, buf, sizeof(buf));
	rte_pktmbuf_free(m);
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

static void
test_pop(void **state)
{
	uint8_t buf[700];
	struct rte_mbuf *m = NULL;
	uint32_t off = 0;

	(void)state;
	pattern(buf, sizeof(buf), 4);
	assert_int_equal(wg_chain_append(&m, pool, buf, sizeof(buf)), 0);
	while (m != NULL) {
		uint32_t len = m->data_len;

		m = wg_chain_pop(m);
		off += len;
		if (m != NULL)
			check_chain(m, buf + off, sizeof(buf) - off);
	}
	assert_int_equal(off, sizeof(buf));
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

int
main(void)
{
	char prefix[32];
	const char *argv[] = { "test_chain", "--no-huge", "-m", "32", "--no-pci", "--no-shconf",
			       "--no-telemetry", "--log-level=error", prefix };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_spans_segments),
		cmocka_unit_test(test_append_pool_dry),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_pop),
	};

	snprintf(prefix, sizeof(prefix), "--file-prefix=chain%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(argv), (char **)(uintptr_t)argv) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("chain_pool", POOL_N, 0, 0, RTE_PKTMBUF_HEADROOM + ROOM,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
