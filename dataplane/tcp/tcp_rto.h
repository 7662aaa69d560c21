/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_TCP_RTO_H
#define WG_TCP_RTO_H

#include <stdint.h>

#include "tcp_rto-t.h"

/* Initial state: RTO = initial_us (RFC 6298 2.1: 1 s), clamped to [min, max]. */
void wg_rto_init(struct wg_rto *r, uint32_t initial_us, uint32_t min_us, uint32_t max_us);

/* One RTT measurement (Karn: never from a retransmitted segment unless by
 * timestamp). First sample: SRTT = R, RTTVAR = R/2; then alpha 1/8, beta 1/4;
 * RTO = SRTT + max(G, 4*RTTVAR) with G = 1 ms clock granularity, clamped.
 * A sample also clears the backoff (RFC 6298 5.7 is applied by the caller). */
void wg_rto_sample(struct wg_rto *r, uint32_t rtt_us);

/* Timer value to arm now: rto_us << backoff, clamped to max_us. */
uint32_t wg_rto_timeout(const struct wg_rto *r);

/* After an expiry (RFC 6298 5.5): back off, saturating. */
void wg_rto_backoff(struct wg_rto *r);

#endif /* WG_TCP_RTO_H */
