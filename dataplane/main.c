/* SPDX-License-Identifier: BSD-3-Clause
 * warpgate-dataplane: the DPDK primary. Owns ports, mempools, the registry
 * and every ring; workers poll, the main lcore watches the secondaries.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_ring.h>

#include "conf.h"
#include "dataplane.h"
#include "eal_args.h"
#include "registry.h"

#ifndef WG_VERSION
#define WG_VERSION "dev"
#endif

#define MSG_DATA_ROOM  (RTE_PKTMBUF_HEADROOM + 4096)

static struct wg_dataplane dp;
static struct wg_conf conf;

static void
on_signal(int sig __rte_unused)
{
	dp.quit = true;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -c CONFIG [--check] [--dump-config] [--busy-poll]\n"
		"  -c, --config FILE   YAML configuration (configs/warpgate.yaml)\n"
		"      --check         validate the configuration and exit\n"
		"      --dump-config   print the effective configuration and exit\n"
		"      --busy-poll     never nap when idle (benchmarks)\n", prog);
}

/* Memzone registry, its rings (one SPSC pair per slot and worker) and the
 * message pool, all before any secondary can look for them. */
static int
registry_create(void)
{
	const struct wg_conf_instances *ic = &conf.instances;
	const struct rte_memzone *mz;
	char name[RTE_RING_NAMESIZE];
	unsigned int s, w, dir;
	int ret;

	mz = rte_memzone_reserve_aligned(WG_REG_MZ_NAME, sizeof(struct wg_registry),
					 rte_socket_id(), 0, RTE_CACHE_LINE_SIZE);
	if (mz == NULL)
		return -rte_errno;
	memset(mz->addr, 0, sizeof(struct wg_registry));
	dp.reg = mz->addr;

	mz = rte_memzone_reserve_aligned(WG_STATS_MZ_NAME, sizeof(struct wg_dp_stats),
					 rte_socket_id(), 0, RTE_CACHE_LINE_SIZE);
	if (mz == NULL)
		return -rte_errno;
	memset(mz->addr, 0, sizeof(struct wg_dp_stats));
	dp.stats = mz->addr;
	dp.stats->n_workers = dp.n_workers;

	dp.msg_pool = rte_pktmbuf_pool_create(WG_MSG_POOL_NAME, ic->msg_mbufs, 64, 0,
					      MSG_DATA_ROOM, rte_socket_id());
	if (dp.msg_pool == NULL)
		return -rte_errno;

	for (s = 0; s < ic->max; s++)
		for (w = 0; w < dp.n_workers; w++)
			for (dir = 0; dir < 2; dir++) {
				wg_ring_name(name, sizeof(name), dir, s, w);
				if (rte_ring_create(name, ic->ring_size, rte_socket_id(),
						    RING_F_SP_ENQ | RING_F_SC_DEQ) == NULL)
					return -rte_errno;
			}
	ret = wg_registry_init(dp.reg, ic->max, dp.n_workers, ic->ring_size, rte_get_tsc_hz(),
			       ic->heartbeat_ms, ic->dead_after_ms, (uint32_t)getpid());
	return ret;
}

static int
workers_init(void)
{
	unsigned int lcore, i = 0;
	int ret;

	dp.workers = rte_zmalloc("wg_workers", sizeof(struct wg_worker) * dp.n_workers,
				 RTE_CACHE_LINE_SIZE);
	if (dp.workers == NULL)
		return -ENOMEM;
	if (rte_lcore_count() == 1) {
		ret = wg_worker_init(&dp, &dp.workers[0], 0, rte_get_main_lcore());
		dp.workers[0].run_monitor = true;
		return ret;
	}
	RTE_LCORE_FOREACH_WORKER(lcore) {
		ret = wg_worker_init(&dp, &dp.workers[i], i, lcore);
		if (ret < 0)
			return ret;
		i++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "dump-config", no_argument, NULL, 'd' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	bool check = false, dump = false, busy = false;
	char err[WG_CONF_ERR_MAX];
	struct wg_eal_args ea;
	unsigned int lcore;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'k': check = true; break;
		case 'd': dump = true; break;
		case 'b': busy = true; break;
		case 'h': usage(argv[0]); return 0;
		default: usage(argv[0]); return 2;
		}
	}
	if (conf_path == NULL || optind != argc) {
		usage(argv[0]);
		return 2;
	}
	ret = wg_conf_load(&conf, conf_path, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (busy)
		conf.dataplane.idle_sleep_max_us = 0;
	if (dump)
		wg_conf_dump(stdout, &conf);
	if (check) {
		printf("configuration %s is valid\n", conf_path);
		return 0;
	}
	if (dump)
		return 0;
	if (!conf.eal.no_huge && wg_hugepages_check(conf.eal.memory_mb, err, sizeof(err)) < 0) {
		fprintf(stderr, "warpgate-dataplane: %s\n", err);
		return 1;
	}

	ret = wg_eal_args_build(&ea, &conf, argv[0], WG_ROLE_DATAPLANE, 0);
	if (ret < 0) {
		fprintf(stderr, "warpgate-dataplane: EAL arguments do not fit\n");
		return 1;
	}
	if (rte_eal_init(ea.argc, ea.argv) < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed: %s (hugepages reserved and mounted? "
			 "another dataplane on file prefix '%s'?)\n",
			 rte_strerror(rte_errno), conf.eal.file_prefix);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	dp.conf = &conf;
	dp.start_tsc = rte_get_tsc_cycles();
	dp.n_workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	if (dp.n_workers > WG_REG_MAX_WORKERS)
		rte_exit(EXIT_FAILURE, "%u workers, at most %u\n", dp.n_workers, WG_REG_MAX_WORKERS);

	dp.pkt_pool = rte_pktmbuf_pool_create("wg_pkt_pool", conf.dataplane.mbufs,
					      conf.dataplane.mbuf_cache, 0,
					      RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (dp.pkt_pool == NULL)
		rte_exit(EXIT_FAILURE, "packet pool: %s\n", rte_strerror(rte_errno));
	ret = registry_create();
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "registry: %s\n", rte_strerror(-ret));
	ret = wg_ports_init(&dp);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "ports: %s\n", rte_strerror(-ret));
	ret = wg_listeners_init(&dp);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "listeners: %s\n", rte_strerror(-ret));
	ret = workers_init();
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "workers: %s\n", rte_strerror(-ret));
	ret = wg_monitor_init(&dp);
	if (ret == 0)
		ret = wg_telemetry_init(&dp);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "monitor/telemetry: %s\n", rte_strerror(-ret));

	wg_worker_set_quit(&dp.quit);
	printf("warpgate-dataplane %s ready: pid %d, %u worker(s), %u port(s), file prefix %s\n",
	       WG_VERSION, getpid(), dp.n_workers, dp.n_ports, conf.eal.file_prefix);
	fflush(stdout);

	if (dp.workers[0].run_monitor) {
		wg_worker_main(&dp.workers[0]);
	} else {
		unsigned int i = 0;

		RTE_LCORE_FOREACH_WORKER(lcore)
			rte_eal_remote_launch(wg_worker_main, &dp.workers[i++], lcore);
		while (!dp.quit) {
			wg_monitor_poll(&dp, rte_get_tsc_cycles());
			rte_delay_us_sleep(WG_MONITOR_MS * 1000);
		}
		rte_eal_mp_wait_lcore();
	}

	wg_listeners_fini(&dp);
	wg_ports_close(&dp);
	rte_eal_cleanup();
	printf("warpgate-dataplane stopped\n");
	return 0;
}
