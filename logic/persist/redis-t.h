/* SPDX-License-Identifier: BSD-3-Clause
 * Redis client types: configuration, cluster slot map, redirections,
 * scripts and counters. The slot map is public so unit tests and the fuzzer
 * can build and inspect one without a server.
 */
#ifndef WG_REDIS_T_H
#define WG_REDIS_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_REDIS_SLOTS        16384
#define WG_REDIS_MAX_NODES    64
#define WG_REDIS_NO_NODE      0xffffu
#define WG_REDIS_HOST_MAX     64          /* host text incl. NUL (IPv6 fits) */
#define WG_REDIS_MAX_REDIRECTS 8          /* MOVED/ASK hops before -ELOOP */

struct wg_redis_addr {
	char host[WG_REDIS_HOST_MAX];
	uint16_t port;
};

/* Which node serves each slot. Node entries are never removed (at most
 * WG_REDIS_MAX_NODES over a client's life): a node that left owns no slot. */
struct wg_redis_slotmap {
	uint16_t owner[WG_REDIS_SLOTS];   /* node index or WG_REDIS_NO_NODE */
	struct wg_redis_addr node[WG_REDIS_MAX_NODES];
	unsigned int n_nodes;
	uint64_t epoch;                   /* bumped on every change */
};

enum wg_redis_redirect_kind {
	WG_REDIS_MOVED = 1,
	WG_REDIS_ASK = 2,
};

/* A parsed "MOVED <slot> <host>:<port>" / "ASK ..." error. An empty host
 * means "the host you asked" (Redis 7 unknown-endpoint). */
struct wg_redis_redirect {
	enum wg_redis_redirect_kind kind;
	uint16_t slot;
	struct wg_redis_addr addr;
};

/* A Lua script sent by SHA1, loaded on NOSCRIPT. */
struct wg_redis_script {
	const char *body;
	size_t len;
	char sha[41];
};

struct wg_redis_conf {
	const char *host;            /* seed node (cluster) or the server */
	uint16_t port;
	const char *unix_path;       /* single mode only: connect here instead */
	bool cluster;
	unsigned int pool_size;      /* connections per node, >= 1 */
	unsigned int max_outstanding; /* live requests before -EAGAIN */
	uint32_t connect_timeout_ms;
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	uint32_t request_timeout_ms;  /* a command still unsent after this fails
	                               * with -ETIMEDOUT (0: it waits for the
	                               * connection however long it takes) */
};

struct wg_redis_stats {
	uint64_t sent;             /* commands written (incl. redirects) */
	uint64_t replies;          /* replies handed to callers */
	uint64_t errors;           /* -errno completions */
	uint64_t moved;
	uint64_t ask;
	uint64_t tryagain;
	uint64_t noscript;
	uint64_t connects;
	uint64_t disconnects;
	uint64_t connect_failures;
	uint64_t map_refreshes;
	uint64_t eagain;           /* admissions refused */
	uint64_t timeouts;         /* unsent past request_timeout_ms */
	uint32_t outstanding;      /* live requests now */
	uint32_t conns_up;
};

#endif /* WG_REDIS_T_H */
