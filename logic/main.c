/* SPDX-License-Identifier: BSD-3-Clause
 * warpgate-logic: one game-logic instance (DPDK secondary). The tick loop,
 * services and handlers arrive with the message-plane and AOI issues; today
 * it attaches, beats and answers the dataplane over its rings.
 */
#include "instance.h"
#include "registry-t.h"

int
main(int argc, char **argv)
{
	const struct wg_instance_hooks hooks = {
		.prog = "warpgate-logic",
		.kind = WG_KIND_LOGIC,
		.indexed = true,
	};

	return wg_instance_main(argc, argv, &hooks);
}
