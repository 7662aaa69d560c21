/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_SVC_H
#define WG_SVC_H

#include <stdint.h>

#include "tcp-t.h"

/* Built-in test services on ports (host byte order, 0 = off). */
int wg_svc_echo_listen(struct wg_tcp_ctx *ctx, uint16_t echo_port, uint16_t discard_port);

struct wg_arp_cache;

/* Client self-test state (svc_client.c): written by the worker, read by
 * telemetry. */
struct wg_client_test {
	uint32_t running;
	uint32_t port;
	uint32_t dst_ip;               /* network byte order */
	uint16_t dst_port;             /* network byte order */
	uint16_t pad;
	uint32_t conns;
	uint32_t next_open;
	uint64_t bytes;                /* each way, per connection */
	uint64_t start_ms;
	uint64_t end_ms;               /* 0 while running */
	uint64_t connected;
	uint64_t connect_failed;
	uint64_t done_ok;
	uint64_t failed;
	uint64_t mismatches;
	uint64_t bytes_tx;
	uint64_t bytes_rx;
	struct wg_tcp_ctx *ctx;
	void *conns_mem;
};

int wg_client_test_start(struct wg_client_test *t, struct wg_tcp_ctx *ctx, unsigned int port,
			 uint32_t dst_ip, uint16_t dst_port, uint32_t conns, uint64_t bytes,
			 uint64_t seed);
unsigned int wg_client_test_poll(struct wg_client_test *t, struct wg_arp_cache *arp,
				 uint64_t now_ms,
				 void (*arp_request)(void *arg, uint32_t ip, const uint8_t *mac),
				 void *arg);

#endif /* WG_SVC_H */
