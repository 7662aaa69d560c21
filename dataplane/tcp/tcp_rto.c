/* SPDX-License-Identifier: BSD-3-Clause
 * RFC 6298 retransmission timeout in integer microseconds.
 *
 * The RFC's fractions are computed exactly on 64-bit intermediates and
 * truncated once per update (alpha = 1/8, beta = 1/4, K = 4, G = 1 ms):
 *   first sample:  SRTT = R, RTTVAR = R/2
 *   later samples: RTTVAR = (3 RTTVAR + |SRTT - R|) / 4, using the old SRTT
 *                  SRTT   = (7 SRTT + R) / 8
 *   RTO = SRTT + max(G, 4 RTTVAR), clamped to [min_us, max_us].
 * Truncation loses under 1 us per update, far below the 1 ms granularity.
 *
 * srtt_us == 0 marks "no sample yet", so a sample is taken as at least
 * 1 us: a 0 us measurement (sub-millisecond RTT through millisecond
 * timestamps) must not make the next sample look like the first.
 */
#include <stdint.h>

#include "tcp_rto.h"

#define RTO_G_US  1000u    /* clock granularity: 1 ms ticks */
#define RTO_K     4u

static uint32_t
clamp(const struct wg_rto *r, uint64_t v)
{
	if (v > r->max_us)
		v = r->max_us;
	if (v < r->min_us)
		v = r->min_us;
	return (uint32_t)v;
}

void
wg_rto_init(struct wg_rto *r, uint32_t initial_us, uint32_t min_us, uint32_t max_us)
{
	r->srtt_us = 0;
	r->rttvar_us = 0;
	r->min_us = min_us;
	r->max_us = max_us;
	r->backoff = 0;
	r->pad[0] = r->pad[1] = r->pad[2] = 0;
	r->rto_us = clamp(r, initial_us);
}

void
wg_rto_sample(struct wg_rto *r, uint32_t rtt_us)
{
	uint64_t rtt = rtt_us ? rtt_us : 1, var;

	if (r->srtt_us == 0) {
		r->srtt_us = (uint32_t)rtt;
		r->rttvar_us = (uint32_t)(rtt / 2);
	} else {
		uint64_t srtt = r->srtt_us;
		uint64_t diff = srtt > rtt ? srtt - rtt : rtt - srtt;

		r->rttvar_us = (uint32_t)((3 * (uint64_t)r->rttvar_us + diff) / 4);
		r->srtt_us = (uint32_t)((7 * srtt + rtt) / 8);
	}
	var = RTO_K * (uint64_t)r->rttvar_us;
	r->rto_us = clamp(r, (uint64_t)r->srtt_us + (var > RTO_G_US ? var : RTO_G_US));
	r->backoff = 0;
}

uint32_t
wg_rto_timeout(const struct wg_rto *r)
{
	unsigned int shift = r->backoff < WG_RTO_MAX_BACKOFF ? r->backoff : WG_RTO_MAX_BACKOFF;
	uint64_t t = (uint64_t)r->rto_us << shift;

	return t > r->max_us ? r->max_us : (uint32_t)t;
}

void
wg_rto_backoff(struct wg_rto *r)
{
	if (r->backoff < WG_RTO_MAX_BACKOFF)
		r->backoff++;
}
