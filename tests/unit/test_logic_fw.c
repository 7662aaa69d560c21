/* SPDX-License-Identifier: BSD-3-Clause
 * Logic framework: registration, O(1) dispatch and its errors, the session
 * table (ATTACH/DETACH bookkeeping, hash churn against a model), the tick
 * scheduler's catch-up policy, the decode arena, and the exact bytes of
 * unicast and multicast ring messages (padding, id lists, splitting across
 * workers and mbufs) on real mbufs and rings.
 */
#include "conf.h"
#include "lfw_fixture.h"
#include "svc.h"

/* ---------------------------------------------------------------- recorder */

#define REC_MAX 64

struct call {
	uint32_t svc;
	uint64_t sid;
	unsigned int worker;
	uint32_t type, msg_id, seq, ack;
	uint8_t payload[64];
	uint32_t plen;
	const struct wg_lfw_session *sess;
};

struct rec {
	struct call calls[REC_MAX];
	unsigned int n;
	uint64_t attached[REC_MAX], detached[REC_MAX];
	uint32_t detach_reason[REC_MAX];
	unsigned int n_att, n_det;
	uint64_t ticks[REC_MAX];
	unsigned int n_ticks;
	unsigned int att_order, det_order; /* of the last call, across services */
	int ret;                       /* what handlers return */
};

static unsigned int order_seq;

static struct rec rec_a, rec_b;

static int
h_record(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg)
{
	struct rec *r = arg;
	struct call *c = &r->calls[r->n++ % REC_MAX];

	(void)fw;
	c->svc = r == &rec_a ? 1 : 2;
	c->sid = req->session_id;
	c->worker = req->worker;
	c->type = req->env.type;
	c->msg_id = req->env.msg_id;
	c->seq = req->env.seq;
	c->ack = req->env.ack;
	c->plen = req->env.payload_len;
	if (c->plen <= sizeof(c->payload) && c->plen)
		memcpy(c->payload, req->env.payload, c->plen);
	c->sess = req->sess;
	return r->ret;
}

static void
on_att(struct wg_lfw *fw, const struct wg_lfw_session *s, uint32_t reason, void *arg)
{
	struct rec *r = arg;

	(void)fw;
	assert_int_equal(reason, 0);
	r->att_order = ++order_seq;
	r->attached[r->n_att++ % REC_MAX] = s->id;
}

static void
on_det(struct wg_lfw *fw, const struct wg_lfw_session *s, uint32_t reason, void *arg)
{
	struct rec *r = arg;

	/* still findable while services clean up */
	assert_ptr_equal(wg_lfw_session_find(fw, s->id), s);
	r->det_order = ++order_seq;
	r->detach_reason[r->n_det % REC_MAX] = reason;
	r->detached[r->n_det++ % REC_MAX] = s->id;
}

static void
on_tick(struct wg_lfw *fw, uint64_t tick, void *arg)
{
	struct rec *r = arg;

	(void)fw;
	r->ticks[r->n_ticks++ % REC_MAX] = tick;
}

static const struct wg_lfw_handler handlers_a[] = {
	{ 0x200, h_record },
	{ 0x201, h_record },
};

static const struct wg_lfw_handler handlers_b[] = {
	{ 0x300, h_record },
};

static struct wg_lfw *
mkfw(uint32_t max_sessions, uint32_t tick_hz, uint32_t catchup)
{
	const struct wg_lfw_conf c = { .tick_hz = tick_hz, .max_catchup = catchup,
				       .max_sessions = max_sessions };
	struct wg_lfw *fw = wg_lfw_create(&c);

	assert_non_null(fw);
	return fw;
}

static struct wg_lfw *
mkfw_ab(struct fx *f, uint32_t max_sessions)
{
	const struct wg_lfw_service a = { .name = "a", .id = 1, .handlers = handlers_a,
					  .n_handlers = 2, .on_attach = on_att,
					  .on_detach = on_det, .on_tick = on_tick, .arg = &rec_a };
	const struct wg_lfw_service b = { .name = "b", .id = 2, .flags = WG_LFW_SVC_F_SESSION,
					  .handlers = handlers_b, .n_handlers = 1,
					  .on_attach = on_att, .on_detach = on_det, .arg = &rec_b };
	struct wg_lfw *fw = mkfw(max_sessions, 20, 4);

	memset(&rec_a, 0, sizeof(rec_a));
	memset(&rec_b, 0, sizeof(rec_b));
	assert_int_equal(wg_lfw_register(fw, &a), 0);
	assert_int_equal(wg_lfw_register(fw, &b), 0);
	if (f != NULL)
		assert_int_equal(wg_lfw_bind(fw, &f->in), 0);
	return fw;
}

/* ---------------------------------------------------------------- tests */

static void
test_create_rejects(void **state)
{
	struct wg_lfw_conf c = { .tick_hz = 20, .max_catchup = 4, .max_sessions = 16 };

	(void)state;
	c.tick_hz = 0;
	assert_null(wg_lfw_create(&c));
	assert_int_equal(errno, EINVAL);
	c.tick_hz = 20;
	c.max_catchup = 0;
	assert_null(wg_lfw_create(&c));
	c.max_catchup = 4;
	c.max_sessions = 0;
	assert_null(wg_lfw_create(&c));
	assert_null(wg_lfw_create(NULL));
}

static void
test_register(void **state)
{
	static const struct wg_lfw_handler low[] = { { 0x00ff, h_record } };
	static const struct wg_lfw_handler high[] = { { 0x10000, h_record } };
	static const struct wg_lfw_handler nofn[] = { { 0x400, NULL } };
	static const struct wg_lfw_handler dup_in[] = { { 0x400, h_record }, { 0x400, h_record } };
	static const struct wg_lfw_handler taken[] = { { 0x401, h_record }, { 0x201, h_record } };
	static const struct wg_lfw_handler one[] = { { 0x500, h_record } };
	struct wg_lfw *fw = mkfw_ab(NULL, 16);
	struct wg_lfw_service s = { .name = "c", .id = 3, .handlers = one, .n_handlers = 1 };
	struct fx f;
	unsigned int i;
	char names[WG_LFW_MAX_SERVICES][8];

	(void)state;
	s.name = NULL;
	assert_int_equal(wg_lfw_register(fw, &s), -EINVAL);
	s.name = "";
	assert_int_equal(wg_lfw_register(fw, &s), -EINVAL);
	s.name = "c";
	s.flags = 0x80;
	assert_int_equal(wg_lfw_register(fw, &s), -EINVAL);
	s.flags = 0;
	s.handlers = low;
	assert_int_equal(wg_lfw_register(fw, &s), -EINVAL);   /* system range */
	s.handlers = high;
	assert_int_equal(wg_lfw_register(fw, &s), -EINVAL);   /* beyond the table */
	s.handlers = nofn;
	assert_int_equal(wg_lfw_register(fw, &s), -EINVAL);
	s.handlers = dup_in;
	s.n_handlers = 2;
	assert_int_equal(wg_lfw_register(fw, &s), -EEXIST);
	/* 0x401 is free but 0x201 is a's: nothing of c is registered */
	s.handlers = taken;
	assert_int_equal(wg_lfw_register(fw, &s), -EEXIST);
	s.handlers = one;
	s.n_handlers = 1;
	s.name = "a";
	assert_int_equal(wg_lfw_register(fw, &s), -EEXIST);   /* name */
	s.name = "c";
	s.id = 2;
	assert_int_equal(wg_lfw_register(fw, &s), -EEXIST);   /* id */

	/* the refused registrations left the table as it was: 0x401 unknown,
	 * 0x201 still a's */
	fx_init(&f, "reg", FX_ROOM, 63, 64);
	assert_int_equal(wg_lfw_bind(fw, &f.in), 0);
	fx_feed(&f, fw, 0, fx_client(&f, fx_sid(0, 1, 1), 0x401, 9, NULL));
	fx_expect_error(&f, 0, fx_sid(0, 1, 1), WG__ERROR_CODE__UNKNOWN_TYPE, 9, 0x401, NULL);
	fx_feed(&f, fw, 0, fx_client(&f, fx_sid(0, 1, 1), 0x201, 10, NULL));
	assert_int_equal(rec_a.n, 1);
	assert_int_equal(fx_pending_all(&f), 0);

	/* services fill up: 2 registered, 14 more fit */
	for (i = 0; i < WG_LFW_MAX_SERVICES - 2; i++) {
		snprintf(names[i], sizeof(names[i]), "s%u", i);
		s.name = names[i];
		s.id = 100 + i;
		s.n_handlers = 0;
		assert_int_equal(wg_lfw_register(fw, &s), 0);
	}
	s.name = "last";
	s.id = 99;
	assert_int_equal(wg_lfw_register(fw, &s), -ENOSPC);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

static void
test_dispatch(void **state)
{
	static const uint8_t pl[] = { 0x0a, 0x03, 'a', 'b', 'c' };
	struct fx f;
	struct wg_lfw *fw;
	struct wg_lfw_stats st;
	uint64_t s1 = fx_sid(1, 7, 42), s2 = fx_sid(2, 1, 3);

	(void)state;
	fx_init(&f, "disp", FX_ROOM, 63, 64);
	fw = mkfw_ab(&f, 16);
	fx_attach(&f, fw, s1, 1001, "alice");

	fx_feed(&f, fw, 1, fx_client_bytes(&f, s1, 0x200, 77, pl, sizeof(pl)));
	fx_feed(&f, fw, 2, fx_client_bytes(&f, s2, 0x201, 78, NULL, 0));
	fx_feed(&f, fw, 1, fx_client_bytes(&f, s1, 0x300, 79, pl, 2));
	assert_int_equal(rec_a.n, 2);
	assert_int_equal(rec_b.n, 1);
	/* what the handler saw: the Envelope decoded, the session if attached */
	assert_int_equal(rec_a.calls[0].sid, s1);
	assert_int_equal(rec_a.calls[0].worker, 1);
	assert_int_equal(rec_a.calls[0].type, 0x200);
	assert_int_equal(rec_a.calls[0].msg_id, 77);
	assert_int_equal(rec_a.calls[0].seq, 7);
	assert_int_equal(rec_a.calls[0].ack, 3);
	assert_int_equal(rec_a.calls[0].plen, sizeof(pl));
	assert_memory_equal(rec_a.calls[0].payload, pl, sizeof(pl));
	assert_non_null(rec_a.calls[0].sess);
	assert_int_equal(rec_a.calls[0].sess->player_id, 1001);
	assert_string_equal(rec_a.calls[0].sess->name, "alice");
	/* a's handlers run for sessions not attached here */
	assert_int_equal(rec_a.calls[1].sid, s2);
	assert_int_equal(rec_a.calls[1].type, 0x201);
	assert_int_equal(rec_a.calls[1].plen, 0);
	assert_null(rec_a.calls[1].sess);
	assert_int_equal(rec_b.calls[0].type, 0x300);
	assert_int_equal(rec_b.calls[0].plen, 2);
	assert_int_equal(fx_pending_all(&f), 0);

	/* b needs the session: s2 is refused, the handler never runs */
	fx_feed(&f, fw, 2, fx_client(&f, s2, 0x300, 80, NULL));
	assert_int_equal(rec_b.n, 1);
	fx_expect_error(&f, 2, s2, WG__ERROR_CODE__SERVICE_UNAVAILABLE, 80, 0x300,
			"the session is not attached to this instance");

	/* handler failures are counted */
	rec_a.ret = -EIO;
	fx_feed(&f, fw, 1, fx_client(&f, s1, 0x200, 81, NULL));
	rec_a.ret = 0;

	wg_lfw_stats(fw, &st);
	assert_int_equal(st.dispatched, 4);
	assert_int_equal(st.unattached, 1);
	assert_int_equal(st.handler_errors, 1);
	assert_int_equal(st.errors_sent, 1);
	assert_int_equal(st.msgs, 6);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

static void
test_unknown_and_bad(void **state)
{
	static const uint8_t junk[] = { 0x0a, 0xff, 0x01 };   /* length beyond the bytes */
	Wg__Envelope e = WG__ENVELOPE__INIT;
	struct fx f;
	struct wg_lfw *fw;
	struct wg_lfw_stats st;
	uint64_t s = fx_sid(2, 9, 1000);
	uint8_t buf[32];

	(void)state;
	fx_init(&f, "unk", FX_ROOM, 63, 64);
	fw = mkfw_ab(&f, 16);
	fx_feed(&f, fw, 2, fx_client(&f, s, 0x777, 31, NULL));
	fx_expect_error(&f, 2, s, WG__ERROR_CODE__UNKNOWN_TYPE, 31, 0x777,
			"no service on this instance handles the type");
	/* beyond the dispatch table */
	fx_feed(&f, fw, 2, fx_client(&f, s, 0x12345, 32, NULL));
	fx_expect_error(&f, 2, s, WG__ERROR_CODE__UNKNOWN_TYPE, 32, 0x12345, NULL);
	/* not an Envelope: msg_id unknown, ref_type from the ring header */
	fx_feed(&f, fw, 2, fx_raw(&f, 0x200, s, junk, sizeof(junk)));
	fx_expect_error(&f, 2, s, WG__ERROR_CODE__BAD_MESSAGE, 0, 0x200, "not a valid Envelope");
	/* the Envelope says another type than the ring header */
	e.type = 0x201;
	e.msg_id = 5;
	fx_feed(&f, fw, 2, fx_raw(&f, 0x200, s, buf, wg__envelope__pack(&e, buf)));
	fx_expect_error(&f, 2, s, WG__ERROR_CODE__BAD_MESSAGE, 0, 0x200, NULL);
	/* no session: nobody to answer */
	fx_feed(&f, fw, 0, fx_client(&f, 0, 0x200, 1, NULL));
	/* system messages the framework leaves alone */
	fx_feed(&f, fw, 0, fx_raw(&f, WG_MSG_SESSION_KICK, s, NULL, 0));
	assert_int_equal(fx_pending_all(&f), 0);
	assert_int_equal(rec_a.n, 0);
	wg_lfw_stats(fw, &st);
	assert_int_equal(st.unknown_type, 2);
	assert_int_equal(st.bad_msgs, 2);
	assert_int_equal(st.no_session_id, 1);
	assert_int_equal(st.sys_ignored, 1);
	assert_int_equal(st.errors_sent, 4);
	assert_int_equal(st.dispatched, 0);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

static void
test_sessions(void **state)
{
	struct fx f;
	struct wg_lfw *fw;
	const struct wg_lfw_session *s;
	struct wg_lfw_stats st;
	uint64_t a = fx_sid(0, 1, 1), b = fx_sid(1, 1, 1), c = fx_sid(2, 5, 77);
	uint32_t ia;

	(void)state;
	fx_init(&f, "sess", FX_ROOM, 63, 64);
	fw = mkfw_ab(&f, 2);
	fx_attach(&f, fw, a, 10, "ann");
	fx_attach(&f, fw, b, 11, "bob");
	/* every service heard of both, in registration order */
	assert_int_equal(rec_a.n_att, 2);
	assert_int_equal(rec_b.n_att, 2);
	assert_int_equal(rec_a.attached[0], a);
	assert_int_equal(rec_a.attached[1], b);
	assert_true(rec_a.att_order < rec_b.att_order);
	s = wg_lfw_session_find(fw, a);
	assert_int_equal(s->player_id, 10);
	assert_int_equal(s->worker, 0);
	assert_string_equal(s->name, "ann");
	ia = s->idx;
	assert_true(ia < wg_lfw_max_sessions(fw));
	assert_ptr_equal(wg_lfw_session_at(fw, ia), s);
	assert_null(wg_lfw_session_find(fw, 0));

	/* full: c is refused and nobody is told */
	fx_feed(&f, fw, 2, fx_attach_msg(&f, c, 12, "cid"));
	assert_null(wg_lfw_session_find(fw, c));
	assert_int_equal(rec_a.n_att, 2);

	/* the same player again (resume): new name, same slot, no callbacks */
	fx_feed(&f, fw, 0, fx_attach_msg(&f, a, 10, "ann2"));
	s = wg_lfw_session_find(fw, a);
	assert_int_equal(s->idx, ia);
	assert_string_equal(s->name, "ann2");
	assert_int_equal(rec_a.n_att, 2);
	assert_int_equal(rec_a.n_det, 0);

	/* detach: every service told (reverse order), then gone */
	fx_feed(&f, fw, 0, fx_detach_msg(&f, a, WG__DETACH_REASON__DETACH_REASON_CLOSED));
	assert_null(wg_lfw_session_find(fw, a));
	assert_null(wg_lfw_session_at(fw, ia));
	assert_int_equal(rec_a.n_det, 1);
	assert_int_equal(rec_b.n_det, 1);
	assert_true(rec_b.det_order < rec_a.det_order);
	assert_int_equal(rec_a.detached[0], a);
	assert_int_equal(rec_a.detach_reason[0], WG__DETACH_REASON__DETACH_REASON_CLOSED);
	/* unknown and repeated detaches change nothing */
	fx_feed(&f, fw, 0, fx_detach_msg(&f, a, 1));
	fx_feed(&f, fw, 0, fx_detach_msg(&f, 0, 1));
	assert_int_equal(rec_a.n_det, 1);
	/* the freed slot takes c now */
	fx_attach(&f, fw, c, 12, "cid");
	assert_int_equal(wg_lfw_session_find(fw, c)->idx, ia);
	assert_int_equal(wg_lfw_session_find(fw, c)->worker, 2);

	/* a different player on a live id: the old one is detached first */
	fx_feed(&f, fw, 1, fx_attach_msg(&f, b, 99, "mallory"));
	assert_int_equal(wg_lfw_session_find(fw, b)->player_id, 99);
	assert_int_equal(rec_a.n_det, 2);
	assert_int_equal(rec_a.detach_reason[1], WG__DETACH_REASON__DETACH_REASON_REROUTED);
	/* a detach whose payload does not parse still detaches */
	fx_feed(&f, fw, 1, fx_raw(&f, WG_MSG_SESSION_DETACH, b, "\xff", 1));
	assert_null(wg_lfw_session_find(fw, b));
	assert_int_equal(rec_a.detach_reason[2], 0);
	/* an attach without a session id or with a bad payload is ignored */
	fx_feed(&f, fw, 1, fx_attach_msg(&f, 0, 5, "x"));
	fx_feed(&f, fw, 1, fx_raw(&f, WG_MSG_SESSION_ATTACH, b, "\x0a", 1));
	assert_null(wg_lfw_session_find(fw, b));

	wg_lfw_stats(fw, &st);
	assert_int_equal(st.attaches, 4);
	assert_int_equal(st.reattaches, 1);
	assert_int_equal(st.detaches, 3);
	assert_int_equal(st.detach_unknown, 2);
	assert_int_equal(st.sessions_full, 1);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.sessions_max, 2);
	assert_int_equal(st.no_session_id, 1);
	assert_int_equal(st.bad_msgs, 2);
	assert_int_equal(fx_pending_all(&f), 0);

	/* our slot was reclaimed under us: everything is dropped once */
	f.in.generation = 2;
	assert_int_equal(wg_lfw_on_tick(&f.in, 0, fw), 1);   /* and the first tick runs */
	assert_null(wg_lfw_session_find(fw, c));
	assert_int_equal(rec_a.detach_reason[3], WG_LFW_DETACH_RESET);
	wg_lfw_stats(fw, &st);
	assert_int_equal(st.resets, 1);
	assert_int_equal(st.sessions, 0);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* Display names keep the longest valid UTF-8 prefix within 63 bytes. */
static void
test_session_names(void **state)
{
	struct fx f;
	struct wg_lfw *fw;
	char name[128];
	uint64_t s = fx_sid(0, 1, 1);

	(void)state;
	fx_init(&f, "names", FX_ROOM, 63, 64);
	fw = mkfw_ab(&f, 4);
	/* 62 ASCII bytes + a 3-byte character: it does not fit, cut before */
	memset(name, 'n', 62);
	strcpy(name + 62, "\xe2\x82\xac");
	fx_attach(&f, fw, s, 1, name);
	assert_int_equal(strlen(wg_lfw_session_find(fw, s)->name), 62);
	/* 60 + the character fits exactly */
	strcpy(name + 60, "\xe2\x82\xac");
	fx_feed(&f, fw, 0, fx_attach_msg(&f, s, 1, name));
	assert_int_equal(strlen(wg_lfw_session_find(fw, s)->name), 63);
	assert_memory_equal(wg_lfw_session_find(fw, s)->name + 60, "\xe2\x82\xac", 4);
	/* invalid bytes end the name */
	fx_feed(&f, fw, 0, fx_attach_msg(&f, s, 1, "ok\xc0\xafno"));
	assert_string_equal(wg_lfw_session_find(fw, s)->name, "ok");
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* Random attach/detach against a plain array: exercises probe runs and
 * backward-shift deletion with ids that collide in the table. */
static void
test_session_churn(void **state)
{
	enum { MAX = 64, IDS = 200, STEPS = 20000 };
	static uint64_t ids[IDS];
	static bool live[IDS];
	struct fx f;
	struct wg_lfw *fw;
	struct wg_lfw_stats st;
	unsigned int i, k, n_live = 0;
	uint64_t seed = 12345;

	(void)state;
	fx_init(&f, "churn", FX_ROOM, 127, 64);
	fw = mkfw_ab(&f, MAX);
	for (i = 0; i < IDS; i++) {
		ids[i] = fx_sid(i % FX_WORKERS, i / 7, i * 131 + 1);
		live[i] = false;
	}
	for (k = 0; k < STEPS; k++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		i = (unsigned int)(seed >> 33) % IDS;
		if (live[i]) {
			fx_feed(&f, fw, 0, fx_detach_msg(&f, ids[i], 1));
			live[i] = false;
			n_live--;
		} else if (n_live < MAX) {
			fx_attach(&f, fw, ids[i], i, "p");
			live[i] = true;
			n_live++;
		}
		if (k % 97 == 0) {
			unsigned int j;

			for (j = 0; j < IDS; j++) {
				const struct wg_lfw_session *s = wg_lfw_session_find(fw, ids[j]);

				assert_int_equal(s != NULL, live[j]);
				if (s != NULL) {
					assert_int_equal(s->id, ids[j]);
					assert_int_equal(s->player_id, j);
				}
			}
		}
	}
	wg_lfw_stats(fw, &st);
	assert_int_equal(st.sessions, n_live);
	assert_int_equal(st.sessions_full, 0);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* Unicast bytes: header, Envelope equal to protobuf-c's, on the ring of
 * the session's worker only. */
static void
test_unicast_bytes(void **state)
{
	static const uint8_t pl[] = { 1, 2, 3, 4, 5 };
	Wg__Envelope e = WG__ENVELOPE__INIT;
	uint8_t ref[64];
	size_t ref_len;
	struct fx f;
	struct fx_out o;
	struct wg_lfw *fw = mkfw_ab(NULL, 4);
	struct wg_lfw_stats st;
	uint64_t s = fx_sid(2, 0xabcdef, 0x12345678);
	struct rte_mbuf *m;
	const uint8_t *d;

	(void)state;
	assert_int_equal(wg_lfw_send_raw(fw, s, 0x200, 1, pl, sizeof(pl)), -ENOTCONN);
	fx_init(&f, "uni", FX_ROOM, 63, 64);
	assert_int_equal(wg_lfw_bind(fw, &f.in), 0);
	f.in.tx_seq[2] = 41;
	assert_int_equal(wg_lfw_send_raw(fw, s, 0x303, 0xdeadbeef, pl, sizeof(pl)), 0);
	assert_int_equal(fx_pending(&f, 0) + fx_pending(&f, 1), 0);
	assert_int_equal(fx_pending(&f, 2), 1);
	e.type = 0x303;
	e.msg_id = 0xdeadbeef;
	e.payload.data = (uint8_t *)(uintptr_t)pl;
	e.payload.len = sizeof(pl);
	ref_len = wg__envelope__pack(&e, ref);
	assert_int_equal(rte_ring_dequeue(f.tx[2], (void **)&m), 0);
	d = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), 32 + ref_len);
	assert_memory_equal(d + 32, ref, ref_len);
	/* header bytes, little-endian x86: session, type, len, flags, src, seq */
	assert_memory_equal(d, "\x78\x56\x34\x12\xef\xcd\xab\x02", 8);
	assert_memory_equal(d + 8, "\x03\x03\x00\x00", 4);
	assert_int_equal(d[12], ref_len);
	assert_memory_equal(d + 13, "\x00\x00\x00" "\x00\x00" "\x05\x00" "\x29\x00\x00\x00", 11);
	assert_int_equal(f.in.tx_seq[2], 42);
	rte_pktmbuf_free(m);

	/* an empty payload leaves the field out, as protobuf-c does */
	assert_int_equal(wg_lfw_send(fw, s, 0x200, 0, NULL), 0);
	fx_next(&f, 2, &o);
	assert_int_equal(o.hdr.len, 3);   /* 08 80 04 */
	assert_int_equal(o.env->payload.len, 0);
	fx_out_free(&o);

	/* no such worker, no session */
	assert_int_equal(wg_lfw_send_raw(fw, fx_sid(3, 1, 1), 0x200, 1, pl, 1), -EINVAL);
	assert_int_equal(wg_lfw_send_raw(fw, 0, 0x200, 1, pl, 1), -EINVAL);
	/* bigger than a message mbuf */
	{
		static uint8_t big[FX_ROOM];

		assert_int_equal(wg_lfw_send_raw(fw, s, 0x200, 1, big, sizeof(big)), -EMSGSIZE);
		/* the largest that fits: 32 header, 3 type, 1 key, 2 length */
		assert_int_equal(wg_lfw_send_raw(fw, s, 0x200, 0, big, FX_ROOM - 32 - 6), 0);
		fx_next(&f, 2, &o);
		assert_int_equal(o.data_len, FX_ROOM);
		fx_out_free(&o);
	}
	wg_lfw_stats(fw, &st);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.bad_dest, 2);
	assert_int_equal(st.too_big, 1);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

static void
test_echo(void **state)
{
	Wg__Echo in = WG__ECHO__INIT;
	uint8_t data[100], pl[256];
	size_t plen;
	struct fx f;
	struct fx_out o;
	struct wg_lfw *fw = mkfw(4, 20, 4);
	uint64_t s = fx_sid(1, 2, 3);

	(void)state;
	assert_int_equal(wg_echo_register(fw), 0);
	assert_int_equal(wg_echo_register(fw), -EEXIST);
	fx_init(&f, "echo", FX_ROOM, 63, 64);
	assert_int_equal(wg_lfw_bind(fw, &f.in), 0);
	memset(data, 0xa5, sizeof(data));
	in.data.data = data;
	in.data.len = sizeof(data);
	in.text = (char *)"h\xc3\xa9llo";
	plen = wg__echo__pack(&in, pl);
	/* no attach needed: echo answers anyone routed here */
	fx_feed(&f, fw, 1, fx_client_bytes(&f, s, WG__MSG_TYPE__ECHO, 4242, pl, plen));
	fx_next(&f, 1, &o);
	assert_int_equal(o.hdr.session_id, s);
	assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__ECHO);
	assert_int_equal(o.env->msg_id, 4242);
	assert_int_equal(o.env->payload.len, plen);
	assert_memory_equal(o.env->payload.data, pl, plen);
	fx_out_free(&o);
	/* an empty Echo is still an Echo */
	fx_feed(&f, fw, 1, fx_client_bytes(&f, s, WG__MSG_TYPE__ECHO, 1, NULL, 0));
	fx_next(&f, 1, &o);
	assert_int_equal(o.env->msg_id, 1);
	assert_int_equal(o.env->payload.len, 0);
	fx_out_free(&o);
	/* but not garbage */
	fx_feed(&f, fw, 1, fx_client_bytes(&f, s, WG__MSG_TYPE__ECHO, 2, (const uint8_t *)"\x0a\x09", 2));
	fx_expect_error(&f, 1, s, WG__ERROR_CODE__BAD_MESSAGE, 2, WG__MSG_TYPE__ECHO,
			"payload is not an Echo");
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* Payloads decode into a bounded arena rewound per message: a 4 KiB Echo
 * of 1-byte unknown fields is over it and refused, one half as dense is
 * fine, twice in a row. */
static void
test_arena(void **state)
{
	static uint8_t pl[4000];
	struct fx f;
	struct fx_out o;
	struct wg_lfw *fw = mkfw(4, 20, 4);
	uint64_t s = fx_sid(0, 1, 1);
	size_t i;
	int k;

	(void)state;
	assert_int_equal(wg_echo_register(fw), 0);
	fx_init(&f, "arena", FX_ROOM, 63, 64);
	assert_int_equal(wg_lfw_bind(fw, &f.in), 0);
	for (i = 0; i < sizeof(pl); i += 2) {
		pl[i] = 15 << 3;               /* field 15, varint: unknown to Echo */
		pl[i + 1] = 1;
	}
	fx_feed(&f, fw, 0, fx_client_bytes(&f, s, WG__MSG_TYPE__ECHO, 1, pl, sizeof(pl)));
	fx_expect_error(&f, 0, s, WG__ERROR_CODE__BAD_MESSAGE, 1, WG__MSG_TYPE__ECHO, NULL);
	for (k = 0; k < 2; k++) {
		fx_feed(&f, fw, 0, fx_client_bytes(&f, s, WG__MSG_TYPE__ECHO, 2, pl, 1200));
		fx_next(&f, 0, &o);
		assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__ECHO);
		assert_int_equal(o.env->payload.len, 1200);
		fx_out_free(&o);
	}
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* The id list of the message on worker w. */
static void
expect_mcast(struct fx *f, unsigned int w, const uint8_t *env, size_t env_len,
	     const uint64_t *ids, unsigned int n, uint32_t seq)
{
	const size_t H = sizeof(struct wg_msg_hdr);
	struct rte_mbuf *m;
	const uint8_t *d;
	size_t off, i;

	assert_int_equal(rte_ring_dequeue(f->tx[w], (void **)&m), 0);
	d = rte_pktmbuf_mtod(m, const uint8_t *);
	off = (H + env_len + 7) & ~(size_t)7;
	assert_int_equal(rte_pktmbuf_data_len(m), off + 8 * n);
	/* session 0, flags MULTICAST, len = the Envelope alone */
	assert_memory_equal(d, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(wg_msg_hdr(m)->len, env_len);
	assert_memory_equal(d + 16, "\x01\x00", 2);
	assert_int_equal(wg_msg_hdr(m)->seq, seq);
	assert_memory_equal(d + H, env, env_len);
	for (i = H + env_len; i < off; i++)
		assert_int_equal(d[i], 0);
	for (i = 0; i < n; i++) {
		uint8_t le[8];
		int b;

		for (b = 0; b < 8; b++)
			le[b] = (uint8_t)(ids[i] >> (8 * b));
		assert_memory_equal(d + off + 8 * i, le, 8);
	}
	rte_pktmbuf_free(m);
}

static void
test_multicast_layout(void **state)
{
	Wg__ChatMsg cm = WG__CHAT_MSG__INIT;
	Wg__Envelope e = WG__ENVELOPE__INIT;
	uint8_t inner[128], env[160];
	size_t env_len;
	struct fx f;
	struct wg_lfw *fw = mkfw(4, 20, 4);
	struct wg_lfw_stats st;
	const uint64_t a0 = fx_sid(0, 1, 10), a1 = fx_sid(0, 1, 11);
	const uint64_t b0 = fx_sid(2, 3, 20), c0 = fx_sid(1, 0xffffff, 0xffffffff);
	const uint64_t list[] = { b0, a0, 0, c0, fx_sid(9, 1, 1), a1 };
	const uint64_t w0[] = { a0, a1 }, w1[] = { c0 }, w2[] = { b0 };

	(void)state;
	fx_init(&f, "mcl", FX_ROOM, 63, 64);
	assert_int_equal(wg_lfw_multicast(fw, list, 6, 0x303, 0, &cm.base), -ENOTCONN);
	assert_int_equal(wg_lfw_bind(fw, &f.in), 0);
	cm.room = (char *)"lobby";
	cm.from_id = 77;
	cm.from_name = (char *)"ann";
	cm.text = (char *)"hi";
	cm.server_time_ms = 1700000000000ull;
	e.type = 0x303;
	e.msg_id = 0;
	e.payload.data = inner;
	e.payload.len = wg__chat_msg__pack(&cm, inner);
	env_len = wg__envelope__pack(&e, env);
	assert_true((32 + env_len) % 8 != 0);   /* padding is exercised */

	f.in.tx_seq[0] = 100;
	assert_int_equal(wg_lfw_multicast(fw, list, 6, 0x303, 0, &cm.base), 4);
	/* one message per worker that has members, ids in the order given */
	assert_int_equal(fx_pending(&f, 0), 1);
	assert_int_equal(fx_pending(&f, 1), 1);
	assert_int_equal(fx_pending(&f, 2), 1);
	expect_mcast(&f, 0, env, env_len, w0, 2, 100);
	expect_mcast(&f, 1, env, env_len, w1, 1, 0);
	expect_mcast(&f, 2, env, env_len, w2, 1, 0);
	assert_int_equal(wg_lfw_multicast(fw, list, 0, 0x303, 0, &cm.base), 0);
	assert_int_equal(fx_pending_all(&f), 0);
	wg_lfw_stats(fw, &st);
	assert_int_equal(st.multicasts, 1);
	assert_int_equal(st.mcast_mbufs, 3);
	assert_int_equal(st.mcast_sessions, 4);
	assert_int_equal(st.bad_dest, 2);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* Ids that do not fit one mbuf continue in the next one of the same worker. */
static void
test_multicast_split(void **state)
{
	enum { ROOM = 128, N = 44 };
	static const uint8_t pl[] = { 'x', 'y', 'z' };
	Wg__Envelope e = WG__ENVELOPE__INIT;
	Wg__Echo ec = WG__ECHO__INIT;
	uint8_t env[32], inner[16], big[ROOM];
	size_t env_len, per;
	uint64_t ids[N], w1[N], w0[N];
	unsigned int i, n0 = 0, n1 = 0;
	struct fx f;
	struct wg_lfw *fw = mkfw(4, 20, 4);

	(void)state;
	fx_init(&f, "mcs", ROOM, 63, 64);
	assert_int_equal(wg_lfw_bind(fw, &f.in), 0);
	ec.data.data = (uint8_t *)(uintptr_t)pl;
	ec.data.len = sizeof(pl);
	e.type = 0x200;
	e.msg_id = 9;
	e.payload.data = inner;
	e.payload.len = wg__echo__pack(&ec, inner);
	env_len = wg__envelope__pack(&e, env);
	assert_int_equal(env_len, 12);
	/* list at 48: (128 - 48) / 8 ids per mbuf */
	per = (ROOM - ((32 + env_len + 7) & ~(size_t)7)) / 8;
	assert_int_equal(per, 10);
	for (i = 0; i < N; i++) {
		ids[i] = fx_sid(i % 4 == 0 ? 0 : 1, 1, 1000 + i);
		if (i % 4 == 0)
			w0[n0++] = ids[i];
		else
			w1[n1++] = ids[i];
	}
	assert_int_equal(n0, 11);
	assert_int_equal(n1, 33);
	assert_int_equal(wg_lfw_multicast(fw, ids, N, 0x200, 9, &ec.base), N);
	assert_int_equal(fx_pending(&f, 0), 2);
	assert_int_equal(fx_pending(&f, 1), 4);
	assert_int_equal(fx_pending(&f, 2), 0);
	/* consecutive ring seqs: the worker sees the parts in order */
	expect_mcast(&f, 0, env, env_len, w0, 10, 0);
	expect_mcast(&f, 0, env, env_len, w0 + 10, 1, 1);
	expect_mcast(&f, 1, env, env_len, w1, 10, 0);
	expect_mcast(&f, 1, env, env_len, w1 + 10, 10, 1);
	expect_mcast(&f, 1, env, env_len, w1 + 20, 10, 2);
	expect_mcast(&f, 1, env, env_len, w1 + 30, 3, 3);

	/* Echo{data: 80 bytes} makes an 89-byte Envelope: the list would
	 * start at 128, no room for one id */
	memset(big, 0, sizeof(big));
	ec.data.data = big;
	ec.data.len = 80;
	assert_int_equal(wg_lfw_multicast(fw, ids, 1, 0x200, 9, &ec.base), -EMSGSIZE);
	/* 79: list at 120, exactly one id per mbuf */
	ec.data.len = 79;
	assert_int_equal(wg_lfw_multicast(fw, ids, 3, 0x200, 9, &ec.base), 3);
	assert_int_equal(fx_pending(&f, 0), 1);
	assert_int_equal(fx_pending(&f, 1), 2);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* A full ring or an empty pool drops what it must, frees what it took
 * and says so in the return value and the counters. */
static void
test_send_failures(void **state)
{
	struct fx f;
	struct wg_lfw *fw = mkfw(4, 20, 4);
	struct wg_lfw_stats st;
	struct rte_mbuf *hold[8];
	uint64_t ids[3] = { fx_sid(0, 1, 1), fx_sid(0, 1, 2), fx_sid(1, 1, 3) };
	unsigned int i;

	(void)state;
	fx_init(&f, "fail", FX_ROOM, 7, 4);   /* rings hold 3 */
	assert_int_equal(wg_lfw_bind(fw, &f.in), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(wg_lfw_send_raw(fw, ids[0], 0x200, i, "a", 1), 0);
	assert_int_equal(wg_lfw_send_raw(fw, ids[0], 0x200, 3, "a", 1), -ENOBUFS);
	/* worker 0's ring is full, worker 1's is not */
	assert_int_equal(wg_lfw_multicast(fw, ids, 3, 0x200, 0, NULL), 1);
	assert_int_equal(fx_pending(&f, 0), 3);
	assert_int_equal(fx_pending(&f, 1), 1);
	/* 4 mbufs on rings; take the other 3: the pool is dry */
	for (i = 0; i < 3; i++)
		assert_non_null(hold[i] = rte_pktmbuf_alloc(f.pool));
	assert_int_equal(wg_lfw_send_raw(fw, ids[2], 0x200, 0, "a", 1), -ENOBUFS);
	assert_int_equal(wg_lfw_multicast(fw, ids, 3, 0x200, 0, NULL), 0);
	for (i = 0; i < 3; i++)
		rte_pktmbuf_free(hold[i]);
	wg_lfw_stats(fw, &st);
	assert_int_equal(st.ring_full, 2);
	assert_int_equal(st.nobufs, 1 + 3);   /* per id that found no mbuf */
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.mcast_sessions, 1);
	/* a message lost to a full ring still took its seq: the gap shows */
	assert_int_equal(f.in.tx_seq[0], 5);
	wg_lfw_destroy(fw);
	fx_fini(&f);
}

/* tick_hz 20 at a 1 kHz "TSC": a period of 50. */
static void
test_ticks(void **state)
{
	struct wg_lfw *fw = mkfw_ab(NULL, 4);
	struct wg_lfw_stats st;
	unsigned int i;

	(void)state;
	/* no clock, no ticks */
	assert_int_equal(wg_lfw_tick_poll(fw, 1000), 0);
	wg_lfw_set_tsc_hz(fw, 1000);
	assert_int_equal(wg_lfw_tick_poll(fw, 1000), 1);   /* starts with tick 1 */
	assert_int_equal(wg_lfw_tick_poll(fw, 1049), 0);
	assert_int_equal(wg_lfw_tick_poll(fw, 1050), 1);
	assert_int_equal(wg_lfw_tick_poll(fw, 1050), 0);
	assert_int_equal(wg_lfw_tick_poll(fw, 1120), 1);   /* late within a period */
	assert_int_equal(wg_lfw_tick_poll(fw, 1150), 1);   /* phase kept: 1150, not 1170 */
	/* stalled 3 periods: ticks at 1200, 1250, 1300 due; max_catchup 4 runs all */
	assert_int_equal(wg_lfw_tick_poll(fw, 1310), 3);
	assert_int_equal(wg_lfw_tick_poll(fw, 1349), 0);
	/* stalled 10 s: 200 due, 4 run back to back, 196 dropped, back on the grid */
	assert_int_equal(wg_lfw_tick_poll(fw, 11349), 4);
	assert_int_equal(wg_lfw_tick_poll(fw, 11349), 0);
	assert_int_equal(wg_lfw_tick_poll(fw, 11350), 1);
	wg_lfw_stats(fw, &st);
	assert_int_equal(st.ticks, 12);
	assert_int_equal(st.ticks_late, 2);
	assert_int_equal(st.ticks_dropped, 200 - 4);
	/* numbered without gaps: dropped ticks are not numbered */
	assert_int_equal(rec_a.n_ticks, 12);
	for (i = 0; i < 12; i++)
		assert_int_equal(rec_a.ticks[i], i + 1);
	assert_int_equal(rec_b.n_ticks, 0);   /* b has no on_tick */
	wg_lfw_destroy(fw);
}

/* The logic section's keys (common/conf.c): defaults, nesting, bounds. */
static void
test_conf_keys(void **state)
{
	static struct wg_conf c;
	char err[WG_CONF_ERR_MAX];
	const char *y = "logic:\n  count: 2\n  tick_hz: 60\n  max_catchup: 2\n"
			"  chat:\n    max_rooms: 5\n    max_text: 3072\n";

	(void)state;
	wg_conf_defaults(&c);
	assert_int_equal(c.logic.tick_hz, 20);
	assert_int_equal(c.logic.max_catchup, 4);
	assert_int_equal(c.logic.max_sessions, 65536);
	assert_int_equal(c.logic.chat.max_rooms, 1024);
	assert_int_equal(c.logic.chat.max_members, 256);
	assert_int_equal(c.logic.chat.max_text, 512);
	assert_int_equal(c.logic.chat.max_joined, 8);
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), 0);
	assert_int_equal(c.logic.count, 2);
	assert_int_equal(c.logic.tick_hz, 60);
	assert_int_equal(c.logic.max_catchup, 2);
	assert_int_equal(c.logic.max_sessions, 65536);
	assert_int_equal(c.logic.chat.max_rooms, 5);
	assert_int_equal(c.logic.chat.max_members, 256);
	assert_int_equal(c.logic.chat.max_text, 3072);
	y = "logic:\n  chat:\n    max_text: 3073\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:3]: logic.chat.max_text: 3073 is out of range 1..3072");
	y = "logic:\n  tick_hz: 0\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:2]: logic.tick_hz: 0 is out of range 1..1000");
	y = "logic:\n  chat:\n    max_joined: 256\n";
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", y, strlen(y), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:3]: logic.chat.max_joined: 256 is out of range 1..255");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_unknown_and_bad),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_session_names),
		cmocka_unit_test(test_session_churn),
		cmocka_unit_test(test_unicast_bytes),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_multicast_layout),
		cmocka_unit_test(test_multicast_split),
		cmocka_unit_test(test_send_failures),
		cmocka_unit_test(test_ticks),
		cmocka_unit_test(test_conf_keys),
	};

	if (fx_eal_init("test_logic_fw") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
