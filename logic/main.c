/* SPDX-License-Identifier: BSD-3-Clause
 * warpgate-logic: one game-logic instance (DPDK secondary) running the
 * logic framework (logic/framework) with the echo, chat and world services.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "aoi.h"
#include "instance.h"
#include "lfw.h"
#include "registry-t.h"
#include "svc.h"
#include "svc_world.h"
#include "wg_client.pb-c.h"

/* Whether the services list routes the world's types (MOVE..) to logic
 * instance idx. SESSION_ATTACH does not say for which service a session
 * comes, so an instance that is not the world's must not spawn avatars for
 * the sessions other services bring it. */
static bool
world_here(const struct wg_conf *c, unsigned int idx)
{
	unsigned int i;

	for (i = 0; i < c->n_services; i++) {
		const struct wg_conf_service *sv = &c->services[i];
		uint32_t last = sv->instances ? sv->instance_first + sv->instances
					      : c->logic.count;

		if (sv->first_type <= WG__MSG_TYPE__MOVE && WG__MSG_TYPE__MOVE <= sv->last_type)
			return idx >= sv->instance_first && idx < last;
	}
	return false;
}

struct logic_app {
	struct wg_lfw *fw;
	struct wg_chat *chat;
	struct wg_world_svc *world;
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
	const struct wg_conf_logic_world *wl = &lc->world;
	const struct wg_world_svc_conf wc = {
		.width = wl->width,
		.height = wl->height,
		.view_radius = wl->view_radius,
		.max_speed = wl->max_speed,
		.tick_hz = lc->tick_hz,
		.move_slack = wl->move_slack,
		.max_moves = wl->max_moves,
		.pos_scale = wl->pos_scale,
		.sync_frames = wl->sync_frames,
		.budget = wl->budget,
		.spawn_x = wl->spawn_x,
		.spawn_y = wl->spawn_y,
		.spawn_spread = wl->spawn_spread,
		.npcs = wl->npcs,
		.seed = wl->seed,
		/* the config parser accepts only known names */
		.aoi = wg_aoi_ops_by_name(wl->aoi),
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
	what = "world service";
	if (world_here(in->conf, in->index)) {
		a->world = wg_world_svc_create(a->fw, &wc);
		if (a->world == NULL) {
			ret = -errno;
			goto err;
		}
	}
	what = "rings";
	ret = wg_lfw_bind(a->fw, in);
	if (ret < 0)
		goto err;
	if (a->world != NULL)
		printf("warpgate-logic %u: services echo, chat, world (%ux%u, %u NPCs); "
		       "tick %u Hz; up to %u sessions\n", in->index, wc.width, wc.height, wc.npcs,
		       fc.tick_hz, fc.max_sessions);
	else
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
	if (a->world != NULL)
		wg_world_svc_dump(stdout, a->world);
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
	/* the services are registered in fw: destroy fw first */
	wg_lfw_destroy(app.fw);
	wg_chat_destroy(app.chat);
	wg_world_svc_destroy(app.world);
	return ret;
}
