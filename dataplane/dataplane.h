/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_DATAPLANE_H
#define WG_DATAPLANE_H

#include "dataplane-t.h"

/* port.c: probe-time set-up of every configured port, all queues. */
int wg_ports_init(struct wg_dataplane *dp);

/* Listener table, WebSocket settings and the TLS engine (listeners.c). */
int wg_listeners_init(struct wg_dataplane *dp);
void wg_listeners_fini(struct wg_dataplane *dp);
void wg_ports_close(struct wg_dataplane *dp);

/* worker.c */
int wg_worker_init(struct wg_dataplane *dp, struct wg_worker *w, unsigned int idx,
		   unsigned int lcore_id);
int wg_worker_main(void *arg);          /* lcore entry; arg = struct wg_worker * */
void wg_worker_set_quit(volatile bool *quit);

/* monitor.c: secondaries' liveness, ring reclamation. */
int wg_monitor_init(struct wg_dataplane *dp);
void wg_monitor_poll(struct wg_dataplane *dp, uint64_t now_tsc);

/* telemetry.c */
int wg_telemetry_init(struct wg_dataplane *dp);

#endif /* WG_DATAPLANE_H */
