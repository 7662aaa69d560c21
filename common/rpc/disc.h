/* SPDX-License-Identifier: BSD-3-Clause
 * Service discovery front end: registrations with leases and heartbeats,
 * watchers with add/remove/update events computed from backend snapshots
 * and changes. Driven by the caller: wg_disc_poll() runs heartbeats,
 * backend I/O and watcher callbacks on the calling thread. Not
 * thread-safe (one thread drives one wg_disc).
 */
#ifndef WG_DISC_H
#define WG_DISC_H

#include <stdio.h>

#include "disc-t.h"

/* NULL + errno (EINVAL: unknown backend or bad conf; backend errors). */
struct wg_disc *wg_disc_create(const struct wg_disc_conf *conf);
void wg_disc_destroy(struct wg_disc *d);

/* Register (or update) an instance with a TTL lease; heartbeats every
 * ttl_ms / 3 keep it. -EINVAL on a malformed instance. */
int wg_disc_register(struct wg_disc *d, const struct wg_disc_instance *in,
		     uint32_t ttl_ms);
/* Stop heartbeats and remove the record. -ENOENT if not registered here. */
int wg_disc_deregister(struct wg_disc *d, const char *service, const char *id);
/* Follow a service; one callback per service and wg_disc. */
int wg_disc_watch(struct wg_disc *d, const char *service, wg_disc_watch_fn *fn,
		  void *arg);
/* Heartbeats, backend I/O, events. Returns work done or -errno. */
int wg_disc_poll(struct wg_disc *d, int timeout_ms);
/* Current view of a watched service (copies up to max). */
int wg_disc_list(const struct wg_disc *d, const char *service,
		 struct wg_disc_instance *out, unsigned int max);
void wg_disc_stats(const struct wg_disc *d, struct wg_disc_stats *st);
void wg_disc_dump(FILE *f, const struct wg_disc *d);

/* Instances. */
void wg_disc_instance_init(struct wg_disc_instance *in, const char *service,
			   const char *id, const char *address, uint32_t weight,
			   const char *zone);
int wg_disc_instance_set_meta(struct wg_disc_instance *in, const char *key,
			      const char *value);
const char *wg_disc_instance_meta(const struct wg_disc_instance *in,
				  const char *key);
/* 0 if usable (names set and short, weight in range, printable, no spaces). */
int wg_disc_instance_check(const struct wg_disc_instance *in);
/* A name the file format can hold: printable, no blanks, '#', '=' (unless
 * allow_eq), shorter than max, non-empty unless allow_empty. */
bool wg_disc_token_ok(const char *s, size_t max, bool allow_empty, bool allow_eq);
/* Stable 32-bit zone number for common/lb (FNV-1a; "" is 0). */
uint32_t wg_disc_zone_id(const char *zone);

/* Static file format, one instance per line:
 *   <service> <id> <address> [weight=N] [zone=Z] [<key>=<value> ...]
 * '#' starts a comment; blank lines are skipped. fn gets each instance;
 * a non-zero return stops the parse with that value. Errors: -EINVAL with
 * "line N: why" in err. */
typedef int wg_disc_parse_fn(void *arg, const struct wg_disc_instance *in);
int wg_disc_parse_static(const char *buf, size_t len, wg_disc_parse_fn *fn,
			 void *arg, char *err, size_t errlen);
/* One instance as a line of that format (with '\n'); -ENOSPC. */
int wg_disc_format_static(const struct wg_disc_instance *in, char *buf, size_t len);

/* ---- for backends ---- */
/* A record as stored by the Redis and etcd backends (wg.rpc.Instance):
 * malloc'd bytes (NULL + errno ENOMEM), and back, validated (-EBADMSG). */
uint8_t *wg_disc_instance_pack(const struct wg_disc_instance *in, size_t *len);
int wg_disc_instance_unpack(const void *data, size_t len, struct wg_disc_instance *in);
void *wg_disc_backend(struct wg_disc *d);
void wg_disc_set_backend(struct wg_disc *d, void *state);
/* Everything there is of a service now: the core diffs and emits. */
void wg_disc_snapshot(struct wg_disc *d, const char *service,
		      const struct wg_disc_instance *in, unsigned int n);
/* One record seen (add or update) / gone (remove). */
void wg_disc_seen(struct wg_disc *d, const struct wg_disc_instance *in);
void wg_disc_gone(struct wg_disc *d, const char *service, const char *id);
/* A refresh found the lease gone: the core re-registers on its next poll. */
void wg_disc_lease_lost(struct wg_disc *d, const char *service, const char *id);
/* Whether (service, id) is registered through this handle now. */
bool wg_disc_register_known(const struct wg_disc *d, const char *service,
			    const char *id);
/* Watched service names (for resyncs). */
unsigned int wg_disc_watched(const struct wg_disc *d, const char **names,
			     unsigned int max);
void wg_disc_count_error(struct wg_disc *d);
void wg_disc_count(struct wg_disc *d, int what);   /* WG_DISC_C_* */
#define WG_DISC_C_RESYNC        1
#define WG_DISC_C_NOTIFY        2
#define WG_DISC_C_RECONNECT     3

extern const struct wg_disc_ops wg_disc_static_ops;
extern const struct wg_disc_ops wg_disc_etcd_ops;    /* built in, like static */
extern const struct wg_disc_ops wg_disc_redis_ops;   /* wg_disc_redis lib */
/* Backends beyond the built-in static one register before create. */
int wg_disc_register_backend(const struct wg_disc_ops *ops);

#endif /* WG_DISC_H */
