/* SPDX-License-Identifier: BSD-3-Clause
 * The main() body every secondary shares (control, logic): options,
 * config, EAL, attach, run, leave. Prints usage and status like a main.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "conf.h"
#include "eal_args.h"
#include "instance.h"
#include "registry.h"

static volatile bool quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = true;
}

static void
usage(const struct wg_instance_hooks *h)
{
	fprintf(stderr, "usage: %s -c CONFIG%s [--check] [--busy-poll]\n"
		"  -c, --config FILE   YAML configuration shared with the dataplane\n"
		"%s"
		"      --check         validate the configuration and exit\n"
		"      --busy-poll     never nap when idle (benchmarks)\n",
		h->prog, h->indexed ? " -i INDEX" : "",
		h->indexed ? "  -i, --index N       which instance this is (0..logic.count-1)\n" : "");
}

int
wg_instance_main(int argc, char **argv, const struct wg_instance_hooks *h)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "index", required_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'k' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct wg_conf conf;
	static struct wg_instance in;
	enum wg_role role = h->kind == WG_KIND_CONTROL ? WG_ROLE_CONTROL : WG_ROLE_LOGIC;
	const char *conf_path = NULL;
	bool check = false, busy = false;
	unsigned long index = 0;
	char err[WG_CONF_ERR_MAX], *end;
	struct wg_eal_args ea;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "c:i:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'i':
			errno = 0;
			index = strtoul(optarg, &end, 10);
			if (!h->indexed || errno || *end != '\0' || end == optarg) {
				usage(h);
				return 2;
			}
			break;
		case 'k': check = true; break;
		case 'b': busy = true; break;
		case 'h': usage(h); return 0;
		default: usage(h); return 2;
		}
	}
	if (conf_path == NULL || optind != argc) {
		usage(h);
		return 2;
	}
	ret = wg_conf_load(&conf, conf_path, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (h->indexed && index >= conf.logic.count) {
		fprintf(stderr, "%s: index %lu out of range: logic.count is %u in %s\n",
			h->prog, index, conf.logic.count, conf_path);
		return 1;
	}
	if (check) {
		printf("configuration %s is valid\n", conf_path);
		return 0;
	}
	if (busy)
		conf.dataplane.idle_sleep_max_us = 0;

	ret = wg_eal_args_build(&ea, &conf, h->prog, role, (unsigned int)index);
	if (ret < 0 || rte_eal_init(ea.argc, ea.argv) < 0) {
		fprintf(stderr, "%s: cannot join the dataplane (file prefix '%s'): %s\n"
			"is warpgate-dataplane running with the same configuration?\n",
			h->prog, conf.eal.file_prefix, rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = wg_instance_attach(&in, &conf, h->kind, (uint32_t)index,
				 conf.instances.dead_after_ms * 4);
	if (ret == 0) {
		in.on_msg = h->on_msg;
		in.on_tick = h->on_tick;
		in.arg = h->arg;
		printf("%s %lu attached to slot %d (pid %u)\n", h->prog, index, in.slot, in.pid);
		fflush(stdout);
		if (h->on_start != NULL)
			ret = h->on_start(&in, h->arg);
		if (ret == 0)
			ret = wg_instance_run(&in, &quit);
		if (h->on_stop != NULL)
			h->on_stop(&in, h->arg);
		wg_instance_leave(&in);
	}
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
