/* SPDX-License-Identifier: BSD-3-Clause
 * What lfw.c (dispatch, sessions, ticks) and lfw_send.c (ring output)
 * share: the framework object itself.
 */
#ifndef WG_LFW_IMPL_H
#define WG_LFW_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "idxhash.h"
#include "lfw.h"
#include "log.h"

extern int wg_lfw_logtype;
#define LFW_LOG(l, ...) WG_LOG(wg_lfw_logtype, l, "lfw", __VA_ARGS__)

struct lfw_slot {
	wg_lfw_handler_fn fn;
	uint32_t svc;                  /* index into svcs[] */
	uint32_t type;
};

struct wg_lfw {
	struct wg_lfw_conf conf;

	/* dispatch: route[type] is a slot in handlers[], 0 = none. Two loads
	 * per message and 64 KiB of table instead of 1 MiB of pointers. */
	uint8_t route[WG_LFW_TYPE_LIMIT];
	struct lfw_slot handlers[WG_LFW_MAX_HANDLERS + 1];
	unsigned int n_handlers;
	struct wg_lfw_service svcs[WG_LFW_MAX_SERVICES];
	unsigned int n_svcs;

	/* sessions: dense array + free list, indexed by id */
	struct wg_lfw_session *sess;
	uint32_t *sess_free;           /* stack of free idx */
	uint32_t n_free;
	struct wg_idxhash hash;

	/* ticks */
	uint64_t tsc_hz;
	uint64_t tick_period;          /* TSC cycles */
	uint64_t next_tick_tsc;
	uint64_t tick_no;
	bool tick_started;

	/* output */
	struct wg_instance *in;        /* NULL until bound */
	uint32_t generation;           /* in->generation the sessions belong to */
	unsigned int n_workers;
	uint32_t mbuf_cap;             /* data bytes of one message mbuf */
	uint8_t *scratch;              /* multicast Envelope, packed once */

	/* decode arena, reset per ring message */
	ProtobufCAllocator pb_alloc;
	uint8_t *arena;
	size_t arena_used;

	uint64_t (*clock_ms)(void *arg);
	void *clock_arg;

	struct wg_lfw_stats st;
};

#endif /* WG_LFW_IMPL_H */
