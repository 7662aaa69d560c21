/* SPDX-License-Identifier: BSD-3-Clause
 * Rate limits. Time is passed in (ms, any monotonic origin) so the limits
 * are deterministic under test; a clock that steps back refills nothing
 * until it passes the last refill again.
 *
 * Per session: messages/s and bytes/s buckets, header-inline so the
 * dataplane can run them per message without a call.
 *
 * Per source IP: a bounded table (max_ips) of login buckets and live
 * session counts. When a new IP needs an entry and the table is full, the
 * least recently used IP *without live sessions* is forgotten (its login
 * bucket refills on return: an attacker rotating through more than max_ips
 * addresses gets a fresh burst per address, so size max_ips above the
 * number of sources expected at once). IPs holding sessions are never
 * evicted, so concurrent-session limits cannot be reset; if every entry
 * holds sessions the new IP is refused (-ENOSPC).
 */
#ifndef WG_RATELIMIT_H
#define WG_RATELIMIT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "ratelimit-t.h"

static inline void
wg_rl_bucket_init(struct wg_rl_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	b->rate = rate;
	b->burst = burst;
	b->milli = (int64_t)burst * 1000;
	b->last_ms = now_ms;
}

static inline void
wg_rl_bucket_refill(struct wg_rl_bucket *b, uint64_t now_ms)
{
	int64_t cap = (int64_t)b->burst * 1000;
	uint64_t el;

	if (now_ms <= b->last_ms)
		return;
	el = now_ms - b->last_ms;
	b->last_ms = now_ms;
	if (b->rate == 0)
		return;
	/* past the time to fill from the deepest debt, the bucket is full;
	 * clamping first keeps el * rate far from overflow */
	if (el >= (uint64_t)(cap - b->milli) / b->rate + 1) {
		b->milli = cap;
		return;
	}
	b->milli += (int64_t)(el * b->rate);
	if (b->milli > cap)
		b->milli = cap;
}

/* Whether cost tokens may be taken now (after a refill). */
static inline bool
wg_rl_bucket_can(const struct wg_rl_bucket *b, uint32_t cost)
{
	int64_t need = (int64_t)cost * 1000, cap = (int64_t)b->burst * 1000;

	if (b->rate == 0 && b->burst == 0)
		return true;
	return b->milli >= need || (b->milli == cap && cap > 0);
}

static inline bool
wg_rl_bucket_take(struct wg_rl_bucket *b, uint32_t cost, uint64_t now_ms)
{
	wg_rl_bucket_refill(b, now_ms);
	if (!wg_rl_bucket_can(b, cost))
		return false;
	if (b->rate != 0 || b->burst != 0)
		b->milli -= (int64_t)cost * 1000;
	return true;
}

/* Milliseconds until cost tokens are available (0: now); UINT64_MAX if the
 * bucket never refills. For Retry-After style hints. */
static inline uint64_t
wg_rl_bucket_wait_ms(const struct wg_rl_bucket *b, uint32_t cost)
{
	int64_t need = (int64_t)cost * 1000, cap = (int64_t)b->burst * 1000;

	if (wg_rl_bucket_can(b, cost))
		return 0;
	if (b->rate == 0)
		return UINT64_MAX;
	if (need > cap)
		need = cap;
	return (uint64_t)(need - b->milli + b->rate - 1) / b->rate;
}

static inline void
wg_rl_session_init(struct wg_rl_session *s, const struct wg_rl_conf *c, uint64_t now_ms)
{
	wg_rl_bucket_init(&s->msgs, c->session_msgs_per_s, c->session_msgs_burst, now_ms);
	wg_rl_bucket_init(&s->bytes, c->session_bytes_per_s, c->session_bytes_burst, now_ms);
}

/* One message of len bytes: 0, -EAGAIN (message rate) or -ENOBUFS (byte
 * rate). Nothing is taken from either bucket unless both admit it. */
static inline int
wg_rl_session_admit(struct wg_rl_session *s, uint32_t len, uint64_t now_ms)
{
	wg_rl_bucket_refill(&s->msgs, now_ms);
	wg_rl_bucket_refill(&s->bytes, now_ms);
	if (!wg_rl_bucket_can(&s->msgs, 1))
		return -EAGAIN;
	if (!wg_rl_bucket_can(&s->bytes, len))
		return -ENOBUFS;
	wg_rl_bucket_take(&s->msgs, 1, now_ms);
	wg_rl_bucket_take(&s->bytes, len, now_ms);
	return 0;
}

struct wg_rl;

/* NULL + errno (EINVAL: max_ips 0 or above 2^24, ipv6_prefix > 128; ENOMEM). */
struct wg_rl *wg_rl_create(const struct wg_rl_conf *conf);
void wg_rl_destroy(struct wg_rl *rl);

/* A login attempt from ip (16 bytes, IPv4 as ::ffff:a.b.c.d): 0, -EAGAIN
 * (too many logins from it), -ENOSPC (table full of IPs with sessions). */
int wg_rl_login(struct wg_rl *rl, const uint8_t ip[16], uint64_t now_ms);
/* A connection from ip opened / closed: 0, -EUSERS (ip_max_sessions
 * reached), -ENOSPC; close: -ENOENT (not tracked), -ERANGE (no sessions). */
int wg_rl_session_open(struct wg_rl *rl, const uint8_t ip[16], uint64_t now_ms);
int wg_rl_session_close(struct wg_rl *rl, const uint8_t ip[16], uint64_t now_ms);
/* Live sessions counted for ip (0 if untracked). */
uint32_t wg_rl_ip_sessions(const struct wg_rl *rl, const uint8_t ip[16]);
/* Whether ip has an entry. */
bool wg_rl_ip_tracked(const struct wg_rl *rl, const uint8_t ip[16]);

void wg_rl_ip_from_v4(uint32_t addr_host_order, uint8_t out[16]);
void wg_rl_stats(const struct wg_rl *rl, struct wg_rl_stats *st);
void wg_rl_dump(FILE *f, const struct wg_rl *rl);

#endif /* WG_RATELIMIT_H */
