/* SPDX-License-Identifier: BSD-3-Clause
 * Fixture of the logic-framework tests (test_logic_fw.c, test_chat.c): a
 * wg_instance as wg_instance_attach leaves it (registry, message pool, one
 * tx ring per worker), made with real mbufs and rings under a --no-huge
 * --no-shconf EAL. Ring messages are built and read back with protobuf-c's
 * own pack/unpack, independent of the framework's encoder.
 */
#ifndef WG_TESTS_LFW_FIXTURE_H
#define WG_TESTS_LFW_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "../eal_runtime.h"
#include "instance.h"
#include "lfw.h"
#include "msgring.h"
#include "registry-t.h"
#include "wg_client.pb-c.h"
#include "wg_internal.pb-c.h"

#define FX_WORKERS   3
#define FX_SLOT      5
#define FX_ROOM      4096          /* the dataplane's message mbuf data room */
#define FX_MAX_IDS   512

static inline uint64_t
fx_sid(unsigned int worker, uint32_t gen, uint32_t slot)
{
	return (uint64_t)worker << 56 | (uint64_t)(gen & 0xffffff) << 32 | slot;
}

struct fx {
	struct wg_registry *reg;
	struct wg_instance in;
	struct rte_mempool *pool;
	struct rte_ring *tx[FX_WORKERS];
};

static inline int
fx_eal_init(const char *name)
{
	static char prefix[64];
	const char *argv[] = { name, "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			       "--no-telemetry", "--log-level=error", prefix };

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s%d", name, (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(argv), (char **)(uintptr_t)argv) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* data_room: bytes of message data per mbuf; ring_size: entries (power of
 * 2; usable ring_size - 1). */
static inline void
fx_init(struct fx *f, const char *name, unsigned int data_room, unsigned int n_mbufs,
	unsigned int ring_size)
{
	char nm[RTE_MEMPOOL_NAMESIZE];
	unsigned int w;

	memset(f, 0, sizeof(*f));
	f->reg = calloc(1, sizeof(*f->reg));
	assert_non_null(f->reg);
	f->reg->n_workers = FX_WORKERS;
	f->reg->tsc_hz = 1000000;
	snprintf(nm, sizeof(nm), "p_%s", name);
	f->pool = rte_pktmbuf_pool_create(nm, n_mbufs, 0, 0, RTE_PKTMBUF_HEADROOM + data_room,
					  SOCKET_ID_ANY);
	assert_non_null(f->pool);
	for (w = 0; w < FX_WORKERS; w++) {
		snprintf(nm, sizeof(nm), "r_%s%u", name, w);
		f->tx[w] = rte_ring_create(nm, ring_size, SOCKET_ID_ANY,
					   RING_F_SP_ENQ | RING_F_SC_DEQ);
		assert_non_null(f->tx[w]);
		f->in.tx[w] = f->tx[w];
	}
	f->in.reg = f->reg;
	f->in.msg_pool = f->pool;
	f->in.slot = FX_SLOT;
	f->in.generation = 1;
	f->in.kind = WG_KIND_LOGIC;
}

static inline void
fx_fini(struct fx *f)
{
	struct rte_mbuf *m;
	unsigned int w;

	for (w = 0; w < FX_WORKERS; w++) {
		while (rte_ring_dequeue(f->tx[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(f->tx[w]);
	}
	/* everything the framework allocated went back */
	assert_int_equal(rte_mempool_avail_count(f->pool), f->pool->size);
	rte_mempool_free(f->pool);
	free(f->reg);
}

static inline struct rte_mbuf *
fx_raw(struct fx *f, uint32_t type, uint64_t sid, const void *p, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(f->pool);
	uint8_t *d;

	assert_non_null(m);
	d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(struct wg_msg_hdr) + len));
	assert_non_null(d);
	wg_msg_hdr_fill((struct wg_msg_hdr *)d, type, sid, (uint32_t)len, 0, WG_MSG_SRC_DP, 0);
	if (len)
		memcpy(d + sizeof(struct wg_msg_hdr), p, len);
	assert_int_equal(wg_msg_mbuf_check(m), 0);
	return m;
}

/* A client message: Envelope{type, seq, msg_id, payload} packed by protobuf-c. */
static inline struct rte_mbuf *
fx_client_bytes(struct fx *f, uint64_t sid, uint32_t type, uint32_t msg_id,
		const uint8_t *payload, size_t plen)
{
	Wg__Envelope e = WG__ENVELOPE__INIT;
	uint8_t buf[FX_ROOM];
	size_t n;

	e.type = type;
	e.seq = 7;
	e.ack = 3;
	e.msg_id = msg_id;
	e.payload.data = (uint8_t *)(uintptr_t)payload;
	e.payload.len = plen;
	n = wg__envelope__get_packed_size(&e);
	assert_true(n <= sizeof(buf));
	wg__envelope__pack(&e, buf);
	return fx_raw(f, type, sid, buf, n);
}

static inline struct rte_mbuf *
fx_client(struct fx *f, uint64_t sid, uint32_t type, uint32_t msg_id, const ProtobufCMessage *pl)
{
	uint8_t buf[FX_ROOM];
	size_t n = 0;

	if (pl != NULL) {
		n = protobuf_c_message_get_packed_size(pl);
		assert_true(n <= sizeof(buf));
		protobuf_c_message_pack(pl, buf);
	}
	return fx_client_bytes(f, sid, type, msg_id, buf, n);
}

static inline struct rte_mbuf *
fx_attach_msg(struct fx *f, uint64_t sid, uint64_t player, const char *name)
{
	Wg__SessionAttach a = WG__SESSION_ATTACH__INIT;
	uint8_t buf[256];

	a.player_id = player;
	a.name = (char *)(uintptr_t)name;
	assert_true(wg__session_attach__get_packed_size(&a) <= sizeof(buf));
	return fx_raw(f, WG_MSG_SESSION_ATTACH, sid, buf, wg__session_attach__pack(&a, buf));
}

static inline struct rte_mbuf *
fx_detach_msg(struct fx *f, uint64_t sid, uint32_t reason)
{
	Wg__SessionDetach d = WG__SESSION_DETACH__INIT;
	uint8_t buf[16];

	d.reason = (Wg__DetachReason)reason;
	return fx_raw(f, WG_MSG_SESSION_DETACH, sid, buf, wg__session_detach__pack(&d, buf));
}

static inline void
fx_feed(struct fx *f, struct wg_lfw *fw, unsigned int worker, struct rte_mbuf *m)
{
	wg_lfw_on_msg(&f->in, worker, m, fw);
}

static inline void
fx_attach(struct fx *f, struct wg_lfw *fw, uint64_t sid, uint64_t player, const char *name)
{
	fx_feed(f, fw, (unsigned int)(sid >> 56), fx_attach_msg(f, sid, player, name));
	assert_non_null(wg_lfw_session_find(fw, sid));
}

static inline unsigned int
fx_pending(struct fx *f, unsigned int w)
{
	return rte_ring_count(f->tx[w]);
}

static inline unsigned int
fx_pending_all(struct fx *f)
{
	unsigned int w, n = 0;

	for (w = 0; w < FX_WORKERS; w++)
		n += fx_pending(f, w);
	return n;
}

/* One ring message the framework sent, checked and taken apart. */
struct fx_out {
	struct wg_msg_hdr hdr;
	Wg__Envelope *env;             /* protobuf-c's reading of the Envelope */
	uint64_t ids[FX_MAX_IDS];      /* multicast list */
	unsigned int n_ids;
	uint32_t data_len;
};

/* Dequeue the next message of worker w and check the parts every message
 * must have right: header fields, Envelope with seq and ack 0, and for a
 * multicast zero padding to 8 and a whole number of ids after it. */
static inline void
fx_next(struct fx *f, unsigned int w, struct fx_out *o)
{
	const size_t H = sizeof(struct wg_msg_hdr);
	struct rte_mbuf *m;
	const uint8_t *d;
	size_t list_off, i;

	memset(o, 0, sizeof(*o));
	assert_int_equal(rte_ring_dequeue(f->tx[w], (void **)&m), 0);
	assert_int_equal(m->nb_segs, 1);
	d = rte_pktmbuf_mtod(m, const uint8_t *);
	o->data_len = rte_pktmbuf_data_len(m);
	assert_true(o->data_len >= H);
	memcpy(&o->hdr, d, H);
	assert_int_equal(o->hdr.src, FX_SLOT);
	assert_int_equal(o->hdr.flags & ~WG_MSG_F_MULTICAST, 0);
	if (o->hdr.flags & WG_MSG_F_MULTICAST) {
		assert_int_equal(o->hdr.session_id, 0);
		list_off = (H + o->hdr.len + 7) & ~(size_t)7;
		assert_true(o->data_len > list_off);
		assert_int_equal((o->data_len - list_off) % 8, 0);
		for (i = H + o->hdr.len; i < list_off; i++)
			assert_int_equal(d[i], 0);
		o->n_ids = (unsigned int)((o->data_len - list_off) / 8);
		assert_true(o->n_ids <= FX_MAX_IDS);
		for (i = 0; i < o->n_ids; i++) {
			const uint8_t *p = d + list_off + 8 * i;
			uint64_t v = 0;
			int b;

			/* little-endian whatever the host */
			for (b = 7; b >= 0; b--)
				v = v << 8 | p[b];
			o->ids[i] = v;
		}
	} else {
		assert_int_equal(wg_msg_check(d, o->data_len), 0);
		assert_int_equal(o->hdr.session_id >> 56, w);
	}
	o->env = wg__envelope__unpack(NULL, o->hdr.len, d + H);
	assert_non_null(o->env);
	assert_int_equal(o->env->type, o->hdr.msg_type);
	assert_int_equal(o->env->seq, 0);
	assert_int_equal(o->env->ack, 0);
	rte_pktmbuf_free(m);
}

static inline void
fx_out_free(struct fx_out *o)
{
	if (o->env != NULL)
		wg__envelope__free_unpacked(o->env, NULL);
	o->env = NULL;
}

/* The next message of worker w is Error{code, ref_msg_id, ref_type} to sid. */
static inline void
fx_expect_error(struct fx *f, unsigned int w, uint64_t sid, uint32_t code, uint32_t ref_msg_id,
		uint32_t ref_type, const char *text)
{
	struct fx_out o;
	Wg__Error *e;

	fx_next(f, w, &o);
	assert_int_equal(o.hdr.session_id, sid);
	assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__ERROR);
	assert_int_equal(o.env->msg_id, ref_msg_id);
	e = wg__error__unpack(NULL, o.env->payload.len, o.env->payload.data);
	assert_non_null(e);
	assert_int_equal(e->code, code);
	assert_int_equal(e->ref_msg_id, ref_msg_id);
	assert_int_equal(e->ref_type, ref_type);
	if (text != NULL)
		assert_string_equal(e->text, text);
	wg__error__free_unpacked(e, NULL);
	fx_out_free(&o);
}

#endif /* WG_TESTS_LFW_FIXTURE_H */
