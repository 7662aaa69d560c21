/* SPDX-License-Identifier: BSD-3-Clause
 * RFC 6298 retransmission timer state, in microseconds.
 */
#ifndef WG_TCP_RTO_T_H
#define WG_TCP_RTO_T_H

#include <stdint.h>

/* backoff stops here: rto_us << 31 still fits in 64 bits */
#define WG_RTO_MAX_BACKOFF  31

struct wg_rto {
	uint32_t srtt_us;     /* 0 until the first sample */
	uint32_t rttvar_us;
	uint32_t rto_us;      /* current value before backoff */
	uint32_t min_us;
	uint32_t max_us;
	uint8_t backoff;      /* consecutive timeouts: doubles the timer */
	uint8_t pad[3];
};

#endif /* WG_TCP_RTO_T_H */
