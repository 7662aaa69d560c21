/* SPDX-License-Identifier: BSD-3-Clause
 * The control process's state and message handlers (docs/message-plane.md):
 * logins and resumes, the session table, routes to logic instances, and
 * re-routing when an instance dies or comes back.
 */
#ifndef WG_CTL_H
#define WG_CTL_H

#include <stdint.h>

#include <rte_mbuf.h>

struct wg_instance;
struct wg_ctl;

/* After attach (in->conf, in->msg_pool ready). NULL + errno; *why says
 * what failed for the operator. */
struct wg_ctl *wg_ctl_create(struct wg_instance *in, const char **why);
void wg_ctl_destroy(struct wg_ctl *c);

/* A message from dataplane worker; takes m. */
void wg_ctl_msg(struct wg_ctl *c, unsigned int worker, struct rte_mbuf *m);

/* Timeouts and instance liveness; returns work done. */
unsigned int wg_ctl_tick(struct wg_ctl *c, uint64_t now_ms);

#endif /* WG_CTL_H */
