/* SPDX-License-Identifier: BSD-3-Clause
 * warpgate-logic: one game-logic instance (DPDK secondary) running the
 * logic framework (logic/framework) with the echo and chat services.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "instance.h"
#include "lfw.h"
#include "registry-t.h"
#include "svc.h"

struct logic_app {
	struct wg_lfw *fw;
	struct wg_chat *chat;
};

/* After attach: the configuration and the message pool are known. */
static int
app_start(struct wg_instance *in, void *arg)
{
	struct logic_app *a = arg;
	const struct wg_conf_logic *lc = &in->conf->logic;
	const struct wg_lfw_conf fc = {
		.tick_hz = lc->tick_hz,
		.max_catchup = lc->max_catchup,
		.max_sessions = lc->max_sessions,
	};
	const struct wg_chat_conf cc = {
		.max_rooms = lc->chat.max_rooms,
		.max_members = lc->chat.max_members,
		.max_text = lc->chat.max_text,
		.max_joined = lc->chat.max_joined,
	};
	const char *what;
	int ret;

	what = "framework";
	a->fw = wg_lfw_create(&fc);
	if (a->fw == NULL) {
		ret = -errno;
		goto err;
	}
	what = "echo service";
	ret = wg_echo_register(a->fw);
	if (ret < 0)
		goto err;
	what = "chat service";
	a->chat = wg_chat_create(a->fw, &cc);
	if (a->chat == NULL) {
		ret = -errno;
		goto err;
	}
	what = "rings";
	ret = wg_lfw_bind(a->fw, in);
	if (ret < 0)
		goto err;
	printf("warpgate-logic %u: services echo, chat; tick %u Hz; up to %u sessions\n",
	       in->index, fc.tick_hz, fc.max_sessions);
	fflush(stdout);
	return 0;
err:
	fprintf(stderr, "warpgate-logic %u: %s: %s\n", in->index, what, strerror(-ret));
	return ret;
}

static void
app_stop(struct wg_instance *in, void *arg)
{
	struct logic_app *a = arg;

	(void)in;
	if (a->fw != NULL)
		wg_lfw_dump(stdout, a->fw);
	if (a->chat != NULL)
		wg_chat_dump(stdout, a->chat);
	fflush(stdout);
}

static void
on_msg(struct wg_instance *in, unsigned int worker, struct rte_mbuf *m, void *arg)
{
	wg_lfw_on_msg(in, worker, m, ((struct logic_app *)arg)->fw);
}

static unsigned int
on_tick(struct wg_instance *in, uint64_t now_tsc, void *arg)
{
	return wg_lfw_on_tick(in, now_tsc, ((struct logic_app *)arg)->fw);
}

int
main(int argc, char **argv)
{
	static struct logic_app app;
	const struct wg_instance_hooks hooks = {
		.prog = "warpgate-logic",
		.kind = WG_KIND_LOGIC,
		.indexed = true,
		.on_msg = on_msg,
		.on_tick = on_tick,
		.on_start = app_start,
		.on_stop = app_stop,
		.arg = &app,
	};
	int ret;

	ret = wg_instance_main(argc, argv, &hooks);
	/* the chat service is registered in fw: destroy fw first */
	wg_lfw_destroy(app.fw);
	wg_chat_destroy(app.chat);
	return ret;
}
