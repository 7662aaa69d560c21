/* SPDX-License-Identifier: BSD-3-Clause
 * Asynchronous Redis client on hiredis, driven by the caller's loop: submit a
 * command with a callback, then call wg_redis_poll(r, 0) every tick (or put
 * wg_redis_pollfds() into your own poll()). Nothing here blocks.
 *
 * Single mode: one server, pool_size connections; commands on the same key
 * always use the same connection, so they keep their order.
 * Cluster mode: CLUSTER SLOTS map, slot routing (hash tags honoured),
 * MOVED (map update + refresh) and ASK (ASKING + retry) followed for the
 * caller, TRYAGAIN retried after a short delay.
 *
 * Callbacks: err == 0 and a reply (which may be a REDIS_REPLY_ERROR — the
 * caller decides), or err < 0 with reply NULL: -ECONNRESET (connection lost
 * with the command in flight: it may or may not have run), -ETIMEDOUT (not
 * sent within request_timeout_ms: the connection is down; it did not run),
 * -ELOOP (too many redirections), -ECANCELED (client destroyed). The reply is only valid
 * during the callback. Callbacks may submit new commands.
 */
#ifndef WG_REDIS_H
#define WG_REDIS_H

#include <poll.h>
#include <stdio.h>

#include <hiredis/read.h>

#include "redis-t.h"

struct wg_redis;
struct redisReply;

typedef void wg_redis_cb(void *arg, int err, const struct redisReply *reply);

struct wg_redis *wg_redis_create(const struct wg_redis_conf *conf);
void wg_redis_destroy(struct wg_redis *r);

/* Route by key (NULL: any node). -EAGAIN when max_outstanding are live. */
int wg_redis_cmd(struct wg_redis *r, const char *key, size_t keylen,
		 wg_redis_cb *cb, void *arg,
		 int argc, const char *const *argv, const size_t *argvlen);
/* printf-style convenience over hiredis' formatter (%s %b %d %lld). */
int wg_redis_cmdf(struct wg_redis *r, const char *key, size_t keylen,
		  wg_redis_cb *cb, void *arg, const char *fmt, ...);
/* EVALSHA script (numkeys keys then args in argv); key routes it. */
int wg_redis_eval(struct wg_redis *r, const struct wg_redis_script *s,
		  const char *key, size_t keylen, wg_redis_cb *cb, void *arg,
		  int numkeys, int argc, const char *const *argv,
		  const size_t *argvlen);

/* One step: timers, poll(timeout_ms), I/O. Returns events handled or -errno. */
int wg_redis_poll(struct wg_redis *r, int timeout_ms);
/* For a caller's own poll(): fill up to max fds, then pass the same array
 * back to wg_redis_dispatch() after poll(). wg_redis_timers() runs
 * reconnects and retries and returns ms until the next one (-1: none). */
int wg_redis_pollfds(struct wg_redis *r, struct pollfd *pfd, int max);
int wg_redis_dispatch(struct wg_redis *r, const struct pollfd *pfd, int n);
int wg_redis_timers(struct wg_redis *r, uint64_t now_ms);

void wg_redis_stats(const struct wg_redis *r, struct wg_redis_stats *st);
/* Live view of the slot map (cluster mode). */
const struct wg_redis_slotmap *wg_redis_map(const struct wg_redis *r);
/* Whether every node the map knows has a connection up (single: the server). */
bool wg_redis_ready(const struct wg_redis *r);
void wg_redis_dump(FILE *f, const struct wg_redis *r);

/* Scripts: compute the SHA1 once; the body must outlive the script. */
void wg_redis_script_init(struct wg_redis_script *s, const char *body);

/* Cluster helpers (redis_cluster.c), pure functions. */
uint16_t wg_redis_crc16(const void *buf, size_t len);
uint16_t wg_redis_key_slot(const char *key, size_t len);
int wg_redis_parse_redirect(const char *err, size_t len,
			    struct wg_redis_redirect *out);
void wg_redis_slotmap_init(struct wg_redis_slotmap *m);
int wg_redis_slotmap_node(struct wg_redis_slotmap *m,
			  const struct wg_redis_addr *a);
int wg_redis_slotmap_apply_slots(struct wg_redis_slotmap *m,
				 const struct redisReply *r,
				 const char *default_host);
int wg_redis_slotmap_apply_redirect(struct wg_redis_slotmap *m,
				    const struct wg_redis_redirect *rd,
				    const char *default_host);
int wg_redis_parse_hostport(const char *s, size_t len, struct wg_redis_addr *a);

/* SHA1 of buf as 40 lowercase hex digits + NUL (Redis script ids). */
void wg_sha1_hex(const void *buf, size_t len, char out[41]);

#endif /* WG_REDIS_H */
