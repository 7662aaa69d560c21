/* SPDX-License-Identifier: BSD-3-Clause
 * Rate limits with explicit time: exact token-bucket arithmetic (refill per
 * ms, burst cap, debt from oversize costs, wait hints, clock steps back),
 * per-session admission that takes from neither bucket on refusal, per-IP
 * login buckets and session caps, IPv6 prefix aggregation, and the IP
 * table's LRU eviction — which must never evict an IP holding sessions —
 * against a model over a long random run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

static void
v4(uint32_t a, uint8_t *ip)
{
	wg_rl_ip_from_v4(a, ip);
}

static void
test_bucket(void **state)
{
	struct wg_rl_bucket b;

	(void)state;
	wg_rl_bucket_init(&b, 10, 5, 1000);            /* 10/s, burst 5 */
	for (int i = 0; i < 5; i++)
		assert_true(wg_rl_bucket_take(&b, 1, 1000));
	assert_false(wg_rl_bucket_take(&b, 1, 1000));
	assert_int_equal(wg_rl_bucket_wait_ms(&b, 1), 100);
	assert_false(wg_rl_bucket_take(&b, 1, 1099));  /* 0.99 tokens */
	assert_int_equal(b.milli, 990);
	assert_int_equal(wg_rl_bucket_wait_ms(&b, 1), 1);
	assert_true(wg_rl_bucket_take(&b, 1, 1100));
	assert_false(wg_rl_bucket_take(&b, 1, 1100));
	/* a long idle period refills to the burst, not beyond */
	assert_true(wg_rl_bucket_take(&b, 5, 1000000));
	assert_false(wg_rl_bucket_take(&b, 1, 1000000));
	/* the clock stepping back refills nothing, and the next refill
	 * counts from the latest time seen */
	assert_false(wg_rl_bucket_take(&b, 1, 500));
	assert_true(wg_rl_bucket_take(&b, 1, 1000100));
	assert_int_equal(b.milli, 0);
	/* oversize cost: only from a full bucket, leaving a debt */
	wg_rl_bucket_init(&b, 10, 5, 0);
	assert_true(wg_rl_bucket_take(&b, 1, 0));
	assert_false(wg_rl_bucket_take(&b, 8, 0));     /* 4 < 8 and not full */
	assert_int_equal(wg_rl_bucket_wait_ms(&b, 8), 100);   /* until full */
	assert_true(wg_rl_bucket_take(&b, 8, 100));
	assert_int_equal(b.milli, -3000);
	assert_int_equal(wg_rl_bucket_wait_ms(&b, 1), 400);
	assert_false(wg_rl_bucket_take(&b, 1, 499));
	assert_true(wg_rl_bucket_take(&b, 1, 500));
	/* huge elapsed times do not overflow */
	wg_rl_bucket_init(&b, UINT32_MAX, UINT32_MAX, 0);
	assert_true(wg_rl_bucket_take(&b, UINT32_MAX, 0));
	assert_true(wg_rl_bucket_take(&b, UINT32_MAX, UINT64_MAX));
	/* rate = burst = 0: unlimited; burst only: a one-off allowance */
	wg_rl_bucket_init(&b, 0, 0, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(wg_rl_bucket_take(&b, 1000, 0));
	wg_rl_bucket_init(&b, 0, 2, 0);
	assert_true(wg_rl_bucket_take(&b, 2, 0));
	assert_false(wg_rl_bucket_take(&b, 1, 1000000));
	assert_int_equal(wg_rl_bucket_wait_ms(&b, 1), UINT64_MAX);
}

static void
test_session_admit(void **state)
{
	struct wg_rl_conf c = { .session_msgs_per_s = 3, .session_msgs_burst = 3,
				.session_bytes_per_s = 100, .session_bytes_burst = 100,
				.max_ips = 1 };
	struct wg_rl_session s;

	(void)state;
	wg_rl_session_init(&s, &c, 0);
	assert_int_equal(wg_rl_session_admit(&s, 40, 0), 0);
	assert_int_equal(wg_rl_session_admit(&s, 40, 0), 0);
	/* bytes refuse: the message token is not spent */
	assert_int_equal(wg_rl_session_admit(&s, 40, 0), -ENOBUFS);
	assert_int_equal(s.msgs.milli, 1000);
	assert_int_equal(s.bytes.milli, 20000);
	assert_int_equal(wg_rl_session_admit(&s, 20, 0), 0);
	/* messages refuse: no bytes are spent */
	assert_int_equal(wg_rl_session_admit(&s, 0, 0), -EAGAIN);
	assert_int_equal(s.bytes.milli, 0);
	/* 1/3 s later: one message, 33 bytes */
	assert_int_equal(wg_rl_session_admit(&s, 34, 334), -ENOBUFS);
	assert_int_equal(wg_rl_session_admit(&s, 33, 334), 0);
	assert_int_equal(wg_rl_session_admit(&s, 0, 334), -EAGAIN);
	/* a message larger than the byte burst passes from a full bucket */
	assert_int_equal(wg_rl_session_admit(&s, 500, 10000), 0);
	assert_int_equal(wg_rl_session_admit(&s, 1, 10000), -ENOBUFS);
	assert_int_equal(wg_rl_session_admit(&s, 1, 14000), -ENOBUFS);
	assert_int_equal(wg_rl_session_admit(&s, 1, 14010), 0);
}

static void
test_ip_limits(void **state)
{
	struct wg_rl_conf c = { .ip_logins_per_s = 1, .ip_logins_burst = 3,
				.ip_max_sessions = 2, .max_ips = 8 };
	struct wg_rl *rl = wg_rl_create(&c);
	struct wg_rl_stats st;
	uint8_t a[16], b[16];

	(void)state;
	assert_non_null(rl);
	v4(0x0a000001, a);
	v4(0x0a000002, b);
	for (int i = 0; i < 3; i++)
		assert_int_equal(wg_rl_login(rl, a, 0), 0);
	assert_int_equal(wg_rl_login(rl, a, 999), -EAGAIN);
	assert_int_equal(wg_rl_login(rl, b, 999), 0);        /* another IP */
	assert_int_equal(wg_rl_login(rl, a, 1000), 0);
	assert_int_equal(wg_rl_login(rl, a, 1000), -EAGAIN);

	assert_int_equal(wg_rl_session_open(rl, a, 0), 0);
	assert_int_equal(wg_rl_session_open(rl, a, 0), 0);
	assert_int_equal(wg_rl_session_open(rl, a, 0), -EUSERS);
	assert_int_equal(wg_rl_ip_sessions(rl, a), 2);
	assert_int_equal(wg_rl_session_close(rl, a, 0), 0);
	assert_int_equal(wg_rl_session_open(rl, a, 0), 0);
	assert_int_equal(wg_rl_session_close(rl, b, 0), -ERANGE);
	uint8_t z[16];
	v4(0x0a0000ff, z);
	assert_int_equal(wg_rl_session_close(rl, z, 0), -ENOENT);
	wg_rl_stats(rl, &st);
	assert_int_equal(st.logins_ok, 5);
	assert_int_equal(st.logins_limited, 2);
	assert_int_equal(st.sessions_refused, 1);
	assert_int_equal(st.ips, 2);
	assert_int_equal(st.ips_idle, 1);                    /* b */
	wg_rl_destroy(rl);

	c.max_ips = 0;
	assert_null(wg_rl_create(&c));
	c.max_ips = 1;
	c.ipv6_prefix = 129;
	assert_null(wg_rl_create(&c));
}

static void
test_ipv6_prefix(void **state)
{
	struct wg_rl_conf c = { .ip_max_sessions = 3, .max_ips = 8, .ipv6_prefix = 64 };
	struct wg_rl *rl = wg_rl_create(&c);
	uint8_t x[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0xaa, 0xbb, 0, 0, 0, 0, 0, 1 };
	uint8_t y[16], z[16], p[16], q[16];

	(void)state;
	memcpy(y, x, 16);
	y[15] = 2;
	y[8] = 0x11;              /* same /64 */
	memcpy(z, x, 16);
	z[7] = 2;                 /* another /64 */
	assert_int_equal(wg_rl_session_open(rl, x, 0), 0);
	assert_int_equal(wg_rl_session_open(rl, y, 0), 0);
	assert_int_equal(wg_rl_session_open(rl, y, 0), 0);
	assert_int_equal(wg_rl_session_open(rl, x, 0), -EUSERS);
	assert_int_equal(wg_rl_session_open(rl, z, 0), 0);
	assert_int_equal(wg_rl_ip_sessions(rl, x), 3);
	assert_int_equal(wg_rl_ip_sessions(rl, z), 1);
	/* IPv4 (mapped) is never aggregated */
	v4(0xc0a80001, p);
	v4(0xc0a80002, q);
	assert_int_equal(wg_rl_session_open(rl, p, 0), 0);
	assert_int_equal(wg_rl_ip_sessions(rl, q), 0);
	wg_rl_destroy(rl);

	/* an odd prefix: /60 keeps the top nibble of byte 7 */
	c.ipv6_prefix = 60;
	rl = wg_rl_create(&c);
	memcpy(y, x, 16);
	y[7] = 0x0f;
	assert_int_equal(wg_rl_session_open(rl, x, 0), 0);
	assert_int_equal(wg_rl_ip_sessions(rl, y), 1);
	y[7] = 0x10;
	assert_int_equal(wg_rl_ip_sessions(rl, y), 0);
	wg_rl_destroy(rl);
}

static void
test_lru(void **state)
{
	struct wg_rl_conf c = { .ip_logins_per_s = 1, .ip_logins_burst = 1, .max_ips = 4 };
	struct wg_rl *rl = wg_rl_create(&c);
	struct wg_rl_stats st;
	uint8_t ip[8][16];

	(void)state;
	for (int i = 0; i < 8; i++)
		v4(0x0a000001u + (uint32_t)i, ip[i]);
	/* A, B hold sessions; C, D only tried to log in */
	assert_int_equal(wg_rl_session_open(rl, ip[0], 0), 0);
	assert_int_equal(wg_rl_session_open(rl, ip[1], 1), 0);
	assert_int_equal(wg_rl_login(rl, ip[2], 2), 0);
	assert_int_equal(wg_rl_login(rl, ip[3], 3), 0);
	assert_int_equal(wg_rl_login(rl, ip[2], 4), -EAGAIN);   /* C used again */
	/* E: the least recently used idle IP is D */
	assert_int_equal(wg_rl_login(rl, ip[4], 5), 0);
	assert_false(wg_rl_ip_tracked(rl, ip[3]));
	assert_true(wg_rl_ip_tracked(rl, ip[2]));
	/* F evicts C; A and B survive however old they are */
	assert_int_equal(wg_rl_login(rl, ip[5], 6), 0);
	assert_false(wg_rl_ip_tracked(rl, ip[2]));
	assert_true(wg_rl_ip_tracked(rl, ip[0]));
	assert_true(wg_rl_ip_tracked(rl, ip[1]));
	/* the evicted C comes back with a full bucket (documented trade-off) */
	assert_int_equal(wg_rl_login(rl, ip[2], 7), 0);          /* evicts E */
	assert_false(wg_rl_ip_tracked(rl, ip[4]));
	/* every entry busy: a new IP is refused, nothing is evicted */
	assert_int_equal(wg_rl_session_open(rl, ip[2], 8), 0);
	assert_int_equal(wg_rl_session_open(rl, ip[5], 8), 0);
	assert_int_equal(wg_rl_login(rl, ip[6], 9), -ENOSPC);
	assert_int_equal(wg_rl_session_open(rl, ip[6], 9), -ENOSPC);
	for (int i = 0; i < 6; i++)
		if (i != 3 && i != 4)
			assert_true(wg_rl_ip_tracked(rl, ip[i]));
	wg_rl_stats(rl, &st);
	assert_int_equal(st.table_full, 2);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.ips, 4);
	assert_int_equal(st.ips_idle, 0);
	/* B's last session ends: B is now the only evictable entry */
	assert_int_equal(wg_rl_session_close(rl, ip[1], 10), 0);
	assert_int_equal(wg_rl_session_open(rl, ip[6], 11), 0);
	assert_false(wg_rl_ip_tracked(rl, ip[1]));
	assert_int_equal(wg_rl_ip_sessions(rl, ip[0]), 1);
	wg_rl_destroy(rl);
}

/* ---- random run against a model ---- */

#define NIP  64
#define MAXE 16

struct mip {
	bool tracked;
	uint32_t sessions;
	uint64_t stamp;          /* LRU position while idle */
};

static uint64_t rs = 99;

static uint64_t
rnd(uint64_t n)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (rs >> 33) % n;
}

static void
test_random_model(void **state)
{
	struct wg_rl_conf c = { .ip_max_sessions = 3, .max_ips = MAXE };
	struct wg_rl *rl = wg_rl_create(&c);
	struct mip m[NIP];
	uint8_t ip[NIP][16];
	uint64_t clock = 0, evict = 0;
	struct wg_rl_stats st;

	(void)state;
	memset(m, 0, sizeof(m));
	for (int i = 0; i < NIP; i++)
		v4(0x0a000000u + (uint32_t)i * 977u, ip[i]);
	for (int step = 0; step < 300000; step++) {
		int i = (int)rnd(NIP), op = (int)rnd(3), rc, n = 0, victim = -1;

		/* model of get(): existing entries are touched if idle; new ones
		 * take a free slot or the idle entry with the oldest stamp */
		for (int k = 0; k < NIP; k++) {
			n += m[k].tracked;
			if (m[k].tracked && m[k].sessions == 0 &&
			    (victim < 0 || m[k].stamp < m[victim].stamp))
				victim = k;
		}
		if (op == 2) {                                   /* close */
			rc = wg_rl_session_close(rl, ip[i], 0);
			if (!m[i].tracked) {
				assert_int_equal(rc, -ENOENT);
			} else if (m[i].sessions == 0) {
				assert_int_equal(rc, -ERANGE);
			} else {
				assert_int_equal(rc, 0);
				if (--m[i].sessions == 0)
					m[i].stamp = ++clock;
			}
			continue;
		}
		rc = op == 0 ? wg_rl_login(rl, ip[i], 0) : wg_rl_session_open(rl, ip[i], 0);
		if (!m[i].tracked) {
			if (n == MAXE && victim < 0) {
				assert_int_equal(rc, -ENOSPC);
				continue;
			}
			if (n == MAXE) {
				m[victim].tracked = false;
				evict++;
			}
			m[i].tracked = true;
			m[i].sessions = 0;
		}
		if (m[i].sessions == 0)
			m[i].stamp = ++clock;
		if (op == 1) {
			if (m[i].sessions >= 3) {
				assert_int_equal(rc, -EUSERS);
			} else {
				assert_int_equal(rc, 0);
				m[i].sessions++;
			}
		} else {
			assert_int_equal(rc, 0);
		}
		if (step % 5 == 0) {
			for (int k = 0; k < NIP; k++) {
				if (wg_rl_ip_tracked(rl, ip[k]) != m[k].tracked)
					fail_msg("step %d ip %d tracked %d model %d", step, k,
						 wg_rl_ip_tracked(rl, ip[k]), m[k].tracked);
				assert_int_equal(wg_rl_ip_sessions(rl, ip[k]), m[k].sessions);
			}
		}
	}
	wg_rl_stats(rl, &st);
	assert_int_equal(st.evictions, evict);
	assert_true(evict > 1000);
	assert_true(st.table_full > 0);
	wg_rl_destroy(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_session_admit),
		cmocka_unit_test(test_ip_limits),
		cmocka_unit_test(test_ipv6_prefix),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
