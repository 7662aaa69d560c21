/* SPDX-License-Identifier: BSD-3-Clause
 * Service discovery: types only. Instances register {service, id, address,
 * weight, zone, metadata} under a TTL lease kept alive by heartbeats;
 * watchers of a service get add / remove / update events. Backends sit
 * behind one vtable (struct wg_disc_ops): "static" (a text file, for tests
 * and fixed deployments), "redis" (keys with TTL + keyspace notifications)
 * and "etcd" (v3 API over gRPC: leases + watch).
 */
#ifndef WG_DISC_T_H
#define WG_DISC_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_DISC_NAME_MAX     64      /* service, id, zone (incl. NUL) */
#define WG_DISC_ADDR_MAX     128     /* host:port (incl. NUL) */
#define WG_DISC_META_MAX     8       /* metadata pairs per instance */
#define WG_DISC_KEY_MAX      32
#define WG_DISC_VAL_MAX      96
#define WG_DISC_WEIGHT_MAX   1000    /* = WG_LB_MAX_WEIGHT */

/* Plain value: compared with memcmp, so always build it zeroed
 * (wg_disc_instance_init) and fill strings with snprintf. */
struct wg_disc_instance {
	char service[WG_DISC_NAME_MAX];
	char id[WG_DISC_NAME_MAX];
	char address[WG_DISC_ADDR_MAX];
	uint32_t weight;                 /* 1..WG_DISC_WEIGHT_MAX */
	char zone[WG_DISC_NAME_MAX];
	uint32_t n_meta;
	struct {
		char key[WG_DISC_KEY_MAX];
		char value[WG_DISC_VAL_MAX];
	} meta[WG_DISC_META_MAX];
};

enum wg_disc_event {
	WG_DISC_ADD = 1,
	WG_DISC_REMOVE,
	WG_DISC_UPDATE,                  /* same id, anything else changed */
};

struct wg_disc;

/* Runs inside wg_disc_poll() (or wg_disc_watch() for the first snapshot
 * of the static backend). in is only valid during the call. */
typedef void wg_disc_watch_fn(void *arg, enum wg_disc_event ev,
			      const struct wg_disc_instance *in);

struct wg_disc_conf {
	const char *backend;             /* "static" or "redis" */
	/* static: the file. */
	const char *path;
	/* redis: the server (or a cluster seed with redis_cluster); db 0. */
	const char *redis_host;
	uint16_t redis_port;
	bool redis_cluster;
	bool redis_config_notify;        /* CONFIG SET notify-keyspace-events
	                                  * to include K$gx at open */
	/* etcd: a v3 gRPC endpoint, "127.0.0.1:2379". */
	const char *etcd_endpoint;
	uint32_t resync_ms;              /* full re-read of watched services;
	                                  * 0: 10000 (safety net for lost
	                                  * notifications) */
	uint32_t reconnect_max_ms;       /* subscriber back-off ceiling; 0: 2000 */
};

struct wg_disc_stats {
	uint64_t registers, heartbeats, reregisters, deregisters;
	uint64_t events_add, events_remove, events_update;
	uint64_t resyncs, notifications, reconnects, errors;
};

/* A backend. Calls come from the thread driving wg_disc_poll(). */
struct wg_disc_ops {
	const char *name;
	int (*open)(struct wg_disc *d, const struct wg_disc_conf *conf);
	void (*close)(struct wg_disc *d);
	/* Write the instance with a lease of ttl_ms (register, or update). */
	int (*put)(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms);
	/* Extend the lease; the backend calls wg_disc_lease_lost() if the
	 * record was gone (expired) so the core writes it again. */
	int (*refresh)(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms);
	int (*del)(struct wg_disc *d, const char *service, const char *id);
	/* Start following service: the backend reports a full snapshot
	 * (wg_disc_snapshot) and then changes (wg_disc_seen / wg_disc_gone). */
	int (*watch)(struct wg_disc *d, const char *service);
	/* Wait up to timeout_ms for I/O, run it; events handled or -errno. */
	int (*poll)(struct wg_disc *d, int timeout_ms);
};

#endif /* WG_DISC_T_H */
