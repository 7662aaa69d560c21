/* SPDX-License-Identifier: BSD-3-Clause
 * Rate limits: token buckets per session and per source IP. Types only.
 */
#ifndef WG_RATELIMIT_T_H
#define WG_RATELIMIT_T_H

#include <stdint.h>

/* Token bucket in milli-tokens: a rate of r tokens/s adds exactly r
 * milli-tokens per ms, so refills are exact integer arithmetic. The level
 * may go negative: a cost above the burst is admitted only from a full
 * bucket and leaves a debt, so an oversize message is slow, not banned. */
struct wg_rl_bucket {
	int64_t milli;             /* current level x 1000 */
	uint64_t last_ms;          /* last refill */
	uint32_t rate;             /* tokens per second; rate = burst = 0: unlimited */
	uint32_t burst;            /* capacity in tokens */
};

struct wg_rl_session {
	struct wg_rl_bucket msgs;
	struct wg_rl_bucket bytes;
};

/* Proposed config: control.rate.session_msgs_per_s / session_msgs_burst /
 * session_bytes_per_s / session_bytes_burst / ip_logins_per_s /
 * ip_logins_burst / ip_max_sessions / max_ips / ipv6_prefix. */
struct wg_rl_conf {
	uint32_t session_msgs_per_s;
	uint32_t session_msgs_burst;
	uint32_t session_bytes_per_s;
	uint32_t session_bytes_burst;
	uint32_t ip_logins_per_s;
	uint32_t ip_logins_burst;
	uint32_t ip_max_sessions;      /* concurrent per IP; 0 = unlimited */
	uint32_t max_ips;              /* IPs tracked at once, >= 1 */
	uint8_t ipv6_prefix;           /* IPv6 keyed by this prefix (64: a /64 is one
					* source); 0 = 128; IPv4 always whole */
};

struct wg_rl_stats {
	uint64_t logins_ok;
	uint64_t logins_limited;       /* login bucket empty */
	uint64_t sessions_refused;     /* ip_max_sessions reached */
	uint64_t table_full;           /* new IP refused: every entry holds sessions */
	uint64_t evictions;            /* idle IPs forgotten (LRU) */
	uint32_t ips;                  /* entries in use */
	uint32_t ips_idle;             /* of those, without sessions (evictable) */
};

#endif /* WG_RATELIMIT_T_H */
