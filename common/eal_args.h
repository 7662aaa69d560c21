/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_EAL_ARGS_H
#define WG_EAL_ARGS_H

#include "conf-t.h"

#define WG_EAL_MAX_ARGS (24 + WG_CONF_MAX_PORTS + WG_CONF_MAX_EAL_ARGS)
#define WG_EAL_ARG_LEN  (WG_CONF_STR_MAX + 32)

enum wg_role {
	WG_ROLE_DATAPLANE = 0,   /* primary: owns ports and memory */
	WG_ROLE_CONTROL,         /* secondary, lcore instances.lcore_base */
	WG_ROLE_LOGIC,           /* secondary, lcore instances.lcore_base + 1 + index */
};

/* An argv for rte_eal_init() derived from the config, so every process of
 * one appliance agrees on file prefix, lcore ids and log level. */
struct wg_eal_args {
	int argc;
	char *argv[WG_EAL_MAX_ARGS + 1];
	char store[WG_EAL_MAX_ARGS][WG_EAL_ARG_LEN];
};

/* Build the argv. index is the logic instance (ignored otherwise). Returns 0,
 * -E2BIG if it does not fit, -EINVAL for a bad role. */
int wg_eal_args_build(struct wg_eal_args *a, const struct wg_conf *c, const char *prog,
		      enum wg_role role, unsigned int index);

/* The EAL lcore id a secondary runs on: distinct per process, because
 * mempool caches are indexed by lcore id and must never be shared. */
unsigned int wg_role_lcore(const struct wg_conf *c, enum wg_role role, unsigned int index);

/* true if dev looks like a PCI address (dddd:bb:dd.f or bb:dd.f). */
int wg_dev_is_pci(const char *dev);

/* Name ethdev registers the port under: the vdev name before the first ','
 * or the PCI address itself. */
void wg_dev_port_name(const char *dev, char *buf, size_t len);

/* Clear message if 2 MiB hugepages are not reserved and mounted; 0 if fine.
 * need_mb: memory the process asks for. */
int wg_hugepages_check(unsigned int need_mb, char *err, size_t errlen);

#endif /* WG_EAL_ARGS_H */
