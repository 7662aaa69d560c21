/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <errno.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eal_args.h"

static int __attribute__((format(printf, 2, 3)))
add(struct wg_eal_args *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->argc >= WG_EAL_MAX_ARGS)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(a->store[a->argc], WG_EAL_ARG_LEN, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= WG_EAL_ARG_LEN)
		return -E2BIG;
	a->argv[a->argc] = a->store[a->argc];
	a->argc++;
	a->argv[a->argc] = NULL;
	return 0;
}

int
wg_dev_is_pci(const char *dev)
{
	unsigned int d, b, s, f;
	char tail;

	if (sscanf(dev, "%x:%x:%x.%x%c", &d, &b, &s, &f, &tail) == 4)
		return 1;
	if (sscanf(dev, "%x:%x.%x%c", &b, &s, &f, &tail) == 3)
		return 1;
	return 0;
}

void
wg_dev_port_name(const char *dev, char *buf, size_t len)
{
	size_t n = strcspn(dev, ",");

	if (n >= len)
		n = len - 1;
	memcpy(buf, dev, n);
	buf[n] = '\0';
}

unsigned int
wg_role_lcore(const struct wg_conf *c, enum wg_role role, unsigned int index)
{
	if (role == WG_ROLE_CONTROL)
		return c->instances.lcore_base;
	return c->instances.lcore_base + 1 + index;
}

int
wg_eal_args_build(struct wg_eal_args *a, const struct wg_conf *c, const char *prog,
		  enum wg_role role, unsigned int index)
{
	const struct wg_conf_eal *e = &c->eal;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool any_pci = false;
	unsigned int i;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	ret |= add(a, "%s", prog);
	ret |= add(a, "--file-prefix=%s", e->file_prefix);
	ret |= add(a, "--log-level=%s", e->log_level);
	if (e->huge_dir[0])
		ret |= add(a, "--huge-dir=%s", e->huge_dir);

	switch (role) {
	case WG_ROLE_DATAPLANE:
		ret |= add(a, "--proc-type=primary");
		ret |= add(a, "-l");
		ret |= add(a, "%s", e->lcores);
		ret |= add(a, "-m");
		ret |= add(a, "%u", e->memory_mb);
		if (e->no_huge)
			ret |= add(a, "--no-huge");
		for (i = 0; i < c->n_ports; i++) {
			if (wg_dev_is_pci(c->ports[i].dev)) {
				ret |= add(a, "-a");
				ret |= add(a, "%s", c->ports[i].dev);
				any_pci = true;
			} else {
				ret |= add(a, "--vdev=%s", c->ports[i].dev);
			}
		}
		if (!any_pci)
			ret |= add(a, "--no-pci");
		break;
	case WG_ROLE_CONTROL:
	case WG_ROLE_LOGIC:
		/* one EAL thread, on a lcore id of its own, free to float
		 * over every CPU: the OS schedules it beside the dataplane */
		ret |= add(a, "--proc-type=secondary");
		ret |= add(a, "--lcores=%u@(0-%ld)", wg_role_lcore(c, role, index),
			   ncpu > 0 ? ncpu - 1 : 0);
		ret |= add(a, "--no-pci");
		/* the telemetry socket belongs to the primary */
		ret |= add(a, "--no-telemetry");
		break;
	default:
		return -EINVAL;
	}
	for (i = 0; i < e->n_extra_args; i++)
		ret |= add(a, "%s", e->extra_args[i]);
	return ret ? -E2BIG : 0;
}

static long
read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

int
wg_hugepages_check(unsigned int need_mb, char *err, size_t errlen)
{
	const char *sys = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages";
	long free_pages = read_long(sys);
	bool mounted = false;
	struct mntent *m;
	FILE *mt;

	mt = setmntent("/proc/mounts", "r");
	if (mt != NULL) {
		while ((m = getmntent(mt)) != NULL)
			if (strcmp(m->mnt_type, "hugetlbfs") == 0)
				mounted = true;
		endmntent(mt);
	}
	if (free_pages < 0 || (unsigned long)free_pages * 2 < need_mb) {
		snprintf(err, errlen,
			 "%ld MiB of free 2 MiB hugepages, %u MiB needed: run './warpgate hugepages' "
			 "(or: echo %u > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)",
			 free_pages < 0 ? 0 : free_pages * 2, need_mb, need_mb / 2 + 64);
		return -ENOMEM;
	}
	if (!mounted) {
		snprintf(err, errlen,
			 "no hugetlbfs mounted: run './warpgate hugepages' "
			 "(or: mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages)");
		return -ENOENT;
	}
	return 0;
}
