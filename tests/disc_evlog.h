/* SPDX-License-Identifier: BSD-3-Clause
 * A discovery watcher that records what it is told, for the discovery
 * tests (unit and the Redis/etcd integration checkers): the events in
 * order (the first 128; n counts all of them).
 */
#ifndef WG_TESTS_DISC_EVLOG_H
#define WG_TESTS_DISC_EVLOG_H

#include <stdint.h>
#include <time.h>

#include "disc.h"

#define EVLOG_MAX 128

struct evlog {
	unsigned int n;
	enum wg_disc_event ev[EVLOG_MAX];
	struct wg_disc_instance in[EVLOG_MAX];
};

static inline void
ev_cb(void *arg, enum wg_disc_event ev, const struct wg_disc_instance *in)
{
	struct evlog *l = arg;

	if (l->n < EVLOG_MAX) {
		l->ev[l->n] = ev;
		l->in[l->n] = *in;
	}
	l->n++;
}

static inline int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* WG_TESTS_DISC_EVLOG_H */
