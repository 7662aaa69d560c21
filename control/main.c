/* SPDX-License-Identifier: BSD-3-Clause
 * warpgate-control: DPDK secondary for sessions, auth and routing. For now it
 * is a registered instance that proves its liveness to the dataplane; the
 * session table and routing arrive with the message-plane issue.
 */
#include "instance.h"
#include "registry-t.h"

int
main(int argc, char **argv)
{
	const struct wg_instance_hooks hooks = {
		.prog = "warpgate-control",
		.kind = WG_KIND_CONTROL,
		.indexed = false,
	};

	return wg_instance_main(argc, argv, &hooks);
}
