/* SPDX-License-Identifier: BSD-3-Clause
 * warpgate-control: DPDK secondary for logins, sessions and routing
 * (control/ctl.c; docs/message-plane.md).
 */
#include <stdio.h>

#include <rte_cycles.h>

#include "ctl.h"
#include "instance.h"
#include "registry-t.h"

static struct wg_ctl *ctl;
static uint64_t tsc_per_ms;

static int
start(struct wg_instance *in, void *arg)
{
	const char *why = "";

	(void)arg;
	tsc_per_ms = rte_get_tsc_hz() / 1000;
	ctl = wg_ctl_create(in, &why);
	if (ctl == NULL) {
		fprintf(stderr, "warpgate-control: %s\n", why);
		return 1;
	}
	return 0;
}

static void
stop(struct wg_instance *in, void *arg)
{
	(void)in;
	(void)arg;
	wg_ctl_destroy(ctl);
	ctl = NULL;
}

static void
msg(struct wg_instance *in, unsigned int worker, struct rte_mbuf *m, void *arg)
{
	(void)in;
	(void)arg;
	wg_ctl_msg(ctl, worker, m);
}

static unsigned int
tick(struct wg_instance *in, uint64_t now_tsc, void *arg)
{
	(void)in;
	(void)arg;
	return wg_ctl_tick(ctl, now_tsc / tsc_per_ms);
}

int
main(int argc, char **argv)
{
	const struct wg_instance_hooks hooks = {
		.prog = "warpgate-control",
		.kind = WG_KIND_CONTROL,
		.indexed = false,
		.on_msg = msg,
		.on_tick = tick,
		.on_start = start,
		.on_stop = stop,
	};

	return wg_instance_main(argc, argv, &hooks);
}
