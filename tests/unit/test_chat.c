/* SPDX-License-Identifier: BSD-3-Clause
 * Chat rooms service on the logic framework: join/say/leave replies and
 * broadcasts byte by byte, order of broadcasts per worker ring, membership
 * across leave and detach, every limit and validation error, and random
 * membership churn checked against a model (recipients of a broadcast
 * included).
 */
#include "lfw_fixture.h"
#include "svc.h"

#define NOW_MS 1700000000123ull

struct cfx {
	struct fx f;
	struct wg_lfw *fw;
	struct wg_chat *c;
};

static uint64_t
fixed_clock(void *arg)
{
	(void)arg;
	return NOW_MS;
}

static void
cfx_init(struct cfx *x, const char *name, const struct wg_chat_conf *cc, uint32_t max_sessions)
{
	const struct wg_lfw_conf lc = { .tick_hz = 20, .max_catchup = 4,
					.max_sessions = max_sessions };

	fx_init(&x->f, name, FX_ROOM, 255, 1024);
	x->fw = wg_lfw_create(&lc);
	assert_non_null(x->fw);
	wg_lfw_set_clock(x->fw, fixed_clock, NULL);
	assert_int_equal(wg_echo_register(x->fw), 0);
	x->c = wg_chat_create(x->fw, cc);
	assert_non_null(x->c);
	assert_int_equal(wg_lfw_bind(x->fw, &x->f.in), 0);
}

static void
cfx_fini(struct cfx *x)
{
	wg_lfw_destroy(x->fw);
	wg_chat_destroy(x->c);
	fx_fini(&x->f);
}

static const struct wg_chat_conf conf_default = {
	.max_rooms = 16, .max_members = 16, .max_text = 64, .max_joined = 4,
};

static void
join(struct cfx *x, uint64_t sid, uint32_t msg_id, const char *room)
{
	Wg__ChatJoin j = WG__CHAT_JOIN__INIT;

	j.room = (char *)(uintptr_t)room;
	fx_feed(&x->f, x->fw, (unsigned int)(sid >> 56),
		fx_client(&x->f, sid, WG__MSG_TYPE__CHAT_JOIN, msg_id, &j.base));
}

static void
leave(struct cfx *x, uint64_t sid, uint32_t msg_id, const char *room)
{
	Wg__ChatLeave l = WG__CHAT_LEAVE__INIT;

	l.room = (char *)(uintptr_t)room;
	fx_feed(&x->f, x->fw, (unsigned int)(sid >> 56),
		fx_client(&x->f, sid, WG__MSG_TYPE__CHAT_LEAVE, msg_id, &l.base));
}

static void
say(struct cfx *x, uint64_t sid, uint32_t msg_id, const char *room, const char *text)
{
	Wg__ChatSay s = WG__CHAT_SAY__INIT;

	s.room = (char *)(uintptr_t)room;
	s.text = (char *)(uintptr_t)text;
	fx_feed(&x->f, x->fw, (unsigned int)(sid >> 56),
		fx_client(&x->f, sid, WG__MSG_TYPE__CHAT_SAY, msg_id, &s.base));
}

static void
detach(struct cfx *x, uint64_t sid)
{
	fx_feed(&x->f, x->fw, (unsigned int)(sid >> 56),
		fx_detach_msg(&x->f, sid, WG__DETACH_REASON__DETACH_REASON_CLOSED));
}

static void
expect_joined(struct cfx *x, uint64_t sid, uint32_t msg_id, const char *room, uint32_t members)
{
	struct fx_out o;
	Wg__ChatJoined *j;

	fx_next(&x->f, (unsigned int)(sid >> 56), &o);
	assert_int_equal(o.hdr.session_id, sid);
	assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__CHAT_JOINED);
	assert_int_equal(o.env->msg_id, msg_id);
	j = wg__chat_joined__unpack(NULL, o.env->payload.len, o.env->payload.data);
	assert_non_null(j);
	assert_string_equal(j->room, room);
	assert_int_equal(j->members, members);
	wg__chat_joined__free_unpacked(j, NULL);
	fx_out_free(&o);
}

/* The next message on worker w is CHAT_MSG{room, from, text} for ids[n]. */
static void
expect_msg(struct cfx *x, unsigned int w, const char *room, uint64_t from_id,
	   const char *from_name, const char *text, const uint64_t *ids, unsigned int n)
{
	struct fx_out o;
	Wg__ChatMsg *m;

	fx_next(&x->f, w, &o);
	assert_true(o.hdr.flags & WG_MSG_F_MULTICAST);
	assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__CHAT_MSG);
	assert_int_equal(o.env->msg_id, 0);
	assert_int_equal(o.n_ids, n);
	assert_memory_equal(o.ids, ids, n * sizeof(*ids));
	m = wg__chat_msg__unpack(NULL, o.env->payload.len, o.env->payload.data);
	assert_non_null(m);
	assert_string_equal(m->room, room);
	assert_int_equal(m->from_id, from_id);
	assert_string_equal(m->from_name, from_name);
	assert_string_equal(m->text, text);
	assert_int_equal(m->server_time_ms, NOW_MS);
	wg__chat_msg__free_unpacked(m, NULL);
	fx_out_free(&o);
}

static void
drain(struct cfx *x)
{
	struct rte_mbuf *m;
	unsigned int w;

	for (w = 0; w < FX_WORKERS; w++)
		while (rte_ring_dequeue(x->f.tx[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
}

/* ---------------------------------------------------------------- tests */

static void
test_join_say_leave(void **state)
{
	struct cfx x;
	struct wg_chat_stats st;
	const uint64_t a = fx_sid(0, 1, 1), b = fx_sid(1, 1, 2), c = fx_sid(0, 1, 3);
	const uint64_t on0[] = { a, c }, on1[] = { b };

	(void)state;
	cfx_init(&x, "jsl", &conf_default, 16);
	fx_attach(&x.f, x.fw, a, 100, "ann");
	fx_attach(&x.f, x.fw, b, 200, "bob");
	fx_attach(&x.f, x.fw, c, 300, "cat");

	assert_int_equal(wg_chat_room_members(x.c, "lobby"), -ENOENT);
	join(&x, a, 1, "lobby");
	expect_joined(&x, a, 1, "lobby", 1);
	join(&x, b, 2, "lobby");
	expect_joined(&x, b, 2, "lobby", 2);
	join(&x, c, 3, "lobby");
	expect_joined(&x, c, 3, "lobby", 3);
	/* joining again changes nothing and answers the same */
	join(&x, a, 4, "lobby");
	expect_joined(&x, a, 4, "lobby", 3);
	assert_int_equal(wg_chat_room_members(x.c, "lobby"), 3);
	assert_int_equal(fx_pending_all(&x.f), 0);

	/* three senders in a row: every member, sender included, gets all
	 * three in the order the instance received them */
	say(&x, a, 10, "lobby", "one");
	say(&x, b, 11, "lobby", "two");
	say(&x, c, 12, "lobby", "thr\xc3\xa9\xc3\xa9");
	assert_int_equal(fx_pending(&x.f, 0), 3);
	assert_int_equal(fx_pending(&x.f, 1), 3);
	assert_int_equal(fx_pending(&x.f, 2), 0);
	expect_msg(&x, 0, "lobby", 100, "ann", "one", on0, 2);
	expect_msg(&x, 0, "lobby", 200, "bob", "two", on0, 2);
	expect_msg(&x, 0, "lobby", 300, "cat", "thr\xc3\xa9\xc3\xa9", on0, 2);
	expect_msg(&x, 1, "lobby", 100, "ann", "one", on1, 1);
	expect_msg(&x, 1, "lobby", 200, "bob", "two", on1, 1);
	expect_msg(&x, 1, "lobby", 300, "cat", "thr\xc3\xa9\xc3\xa9", on1, 1);

	/* b leaves: no answer, no more copies for worker 1 */
	leave(&x, b, 20, "lobby");
	assert_int_equal(fx_pending_all(&x.f), 0);
	assert_int_equal(wg_chat_room_members(x.c, "lobby"), 2);
	say(&x, a, 21, "lobby", "gone?");
	assert_int_equal(fx_pending(&x.f, 1), 0);
	expect_msg(&x, 0, "lobby", 100, "ann", "gone?", on0, 2);
	leave(&x, b, 22, "lobby");
	fx_expect_error(&x.f, 1, b, WG__ERROR_CODE__BAD_REQUEST, 22, WG__MSG_TYPE__CHAT_LEAVE,
			"not in that room");
	say(&x, b, 23, "lobby", "let me in");
	fx_expect_error(&x.f, 1, b, WG__ERROR_CODE__BAD_REQUEST, 23, WG__MSG_TYPE__CHAT_SAY,
			"not in that room");
	/* the last one out closes the room */
	leave(&x, a, 24, "lobby");
	leave(&x, c, 25, "lobby");
	assert_int_equal(wg_chat_room_members(x.c, "lobby"), -ENOENT);
	say(&x, a, 26, "lobby", "echo?");
	fx_expect_error(&x.f, 0, a, WG__ERROR_CODE__BAD_REQUEST, 26, WG__MSG_TYPE__CHAT_SAY,
			"not in that room");
	assert_int_equal(fx_pending_all(&x.f), 0);

	wg_chat_stats(x.c, &st);
	assert_int_equal(st.joins, 4);
	assert_int_equal(st.leaves, 3);
	assert_int_equal(st.says, 4);
	assert_int_equal(st.delivered, 3 * 3 + 2);
	assert_int_equal(st.refused, 3);
	assert_int_equal(st.rooms, 0);
	assert_int_equal(st.rooms_max, 1);
	cfx_fini(&x);
}

static void
test_validation(void **state)
{
	static const char *const bad_rooms[] = {
		"", "a b", "caf\xc3\xa9", "x/y", "tab\t", "012345678901234567890123456789012",
	};
	struct cfx x;
	struct wg_chat_stats st;
	const uint64_t a = fx_sid(2, 1, 1), stranger = fx_sid(1, 1, 9);
	const uint64_t only_a[] = { a };
	char text[80];
	unsigned int i;

	(void)state;
	cfx_init(&x, "val", &conf_default, 16);
	fx_attach(&x.f, x.fw, a, 1, "ann");

	/* chat needs the session attached here */
	join(&x, stranger, 1, "lobby");
	fx_expect_error(&x.f, 1, stranger, WG__ERROR_CODE__SERVICE_UNAVAILABLE, 1,
			WG__MSG_TYPE__CHAT_JOIN, NULL);

	for (i = 0; i < sizeof(bad_rooms) / sizeof(bad_rooms[0]); i++) {
		join(&x, a, 10 + i, bad_rooms[i]);
		fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_REQUEST, 10 + i,
				WG__MSG_TYPE__CHAT_JOIN,
				"room: 1 to 32 characters of A-Z a-z 0-9 _ . -");
	}
	/* 32 characters of every kind allowed */
	join(&x, a, 20, "Az09_.-xxxxxxxxxxxxxxxxxxxxxxxxx");
	expect_joined(&x, a, 20, "Az09_.-xxxxxxxxxxxxxxxxxxxxxxxxx", 1);
	join(&x, a, 21, "r");
	expect_joined(&x, a, 21, "r", 1);

	/* payloads that are not the message of their type */
	fx_feed(&x.f, x.fw, 2, fx_client_bytes(&x.f, a, WG__MSG_TYPE__CHAT_JOIN, 30,
					       (const uint8_t *)"\x0a\x05" "ab", 4));
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_MESSAGE, 30, WG__MSG_TYPE__CHAT_JOIN,
			"payload is not a ChatJoin");
	fx_feed(&x.f, x.fw, 2, fx_client_bytes(&x.f, a, WG__MSG_TYPE__CHAT_SAY, 31,
					       (const uint8_t *)"\x12", 1));
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_MESSAGE, 31, WG__MSG_TYPE__CHAT_SAY,
			NULL);
	fx_feed(&x.f, x.fw, 2, fx_client_bytes(&x.f, a, WG__MSG_TYPE__CHAT_LEAVE, 32,
					       (const uint8_t *)"\x0b", 1));
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_MESSAGE, 32, WG__MSG_TYPE__CHAT_LEAVE,
			NULL);

	/* text: empty, over max_text (64), exactly max_text, not UTF-8 */
	say(&x, a, 40, "r", "");
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_REQUEST, 40, WG__MSG_TYPE__CHAT_SAY,
			"text: empty");
	memset(text, 'w', 65);
	text[65] = '\0';
	say(&x, a, 41, "r", text);
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__TOO_BIG, 41, WG__MSG_TYPE__CHAT_SAY,
			"text: over logic.chat.max_text bytes");
	text[64] = '\0';
	say(&x, a, 42, "r", text);
	expect_msg(&x, 2, "r", 1, "ann", text, only_a, 1);
	say(&x, a, 43, "r", "bad \xed\xa0\x80 surrogate");
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_MESSAGE, 43, WG__MSG_TYPE__CHAT_SAY,
			"text: not UTF-8");
	say(&x, a, 44, "r", "cut \xe2\x82");
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_MESSAGE, 44, WG__MSG_TYPE__CHAT_SAY,
			"text: not UTF-8");
	/* a valid room that does not exist */
	say(&x, a, 45, "nowhere", "hi");
	fx_expect_error(&x.f, 2, a, WG__ERROR_CODE__BAD_REQUEST, 45, WG__MSG_TYPE__CHAT_SAY,
			"not in that room");
	assert_int_equal(fx_pending_all(&x.f), 0);

	wg_chat_stats(x.c, &st);
	assert_int_equal(st.refused, 6 + 3 + 4 + 1);
	assert_int_equal(st.says, 1);
	cfx_fini(&x);
}

static void
test_limits(void **state)
{
	const struct wg_chat_conf cc = { .max_rooms = 2, .max_members = 2, .max_text = 16,
					 .max_joined = 2 };
	struct cfx x;
	const uint64_t s1 = fx_sid(0, 1, 1), s2 = fx_sid(1, 1, 2), s3 = fx_sid(2, 1, 3);

	(void)state;
	cfx_init(&x, "lim", &cc, 16);
	fx_attach(&x.f, x.fw, s1, 1, "one");
	fx_attach(&x.f, x.fw, s2, 2, "two");
	fx_attach(&x.f, x.fw, s3, 3, "three");

	join(&x, s1, 1, "r1");
	expect_joined(&x, s1, 1, "r1", 1);
	join(&x, s1, 2, "r2");
	expect_joined(&x, s1, 2, "r2", 1);
	join(&x, s1, 3, "r3");
	fx_expect_error(&x.f, 0, s1, WG__ERROR_CODE__BAD_REQUEST, 3, WG__MSG_TYPE__CHAT_JOIN,
			"in too many rooms: leave one first");
	/* a repeated join is not one more room */
	join(&x, s1, 4, "r2");
	expect_joined(&x, s1, 4, "r2", 1);
	join(&x, s2, 5, "r3");
	fx_expect_error(&x.f, 1, s2, WG__ERROR_CODE__BAD_REQUEST, 5, WG__MSG_TYPE__CHAT_JOIN,
			"too many rooms on this server");
	join(&x, s2, 6, "r1");
	expect_joined(&x, s2, 6, "r1", 2);
	join(&x, s3, 7, "r1");
	fx_expect_error(&x.f, 2, s3, WG__ERROR_CODE__BAD_REQUEST, 7, WG__MSG_TYPE__CHAT_JOIN,
			"room is full");
	assert_int_equal(wg_chat_room_members(x.c, "r1"), 2);
	/* r2 empties and its place is free for r3 */
	leave(&x, s1, 8, "r2");
	assert_int_equal(wg_chat_room_members(x.c, "r2"), -ENOENT);
	join(&x, s3, 9, "r3");
	expect_joined(&x, s3, 9, "r3", 1);
	join(&x, s1, 10, "r3");
	expect_joined(&x, s1, 10, "r3", 2);
	assert_int_equal(fx_pending_all(&x.f), 0);
	cfx_fini(&x);
}

static void
test_detach_leaves(void **state)
{
	struct cfx x;
	struct wg_chat_stats st;
	const uint64_t a = fx_sid(0, 1, 1), b = fx_sid(1, 1, 2), a2 = fx_sid(0, 2, 1);
	const uint64_t only_b[] = { b };
	uint32_t idx_a;

	(void)state;
	cfx_init(&x, "det", &conf_default, 4);
	fx_attach(&x.f, x.fw, a, 1, "ann");
	fx_attach(&x.f, x.fw, b, 2, "bob");
	idx_a = wg_lfw_session_find(x.fw, a)->idx;
	join(&x, a, 1, "solo");
	join(&x, a, 2, "both");
	join(&x, b, 3, "both");
	join(&x, a, 4, "x");
	drain(&x);
	assert_int_equal(wg_chat_room_members(x.c, "both"), 2);

	detach(&x, a);
	assert_int_equal(wg_chat_room_members(x.c, "solo"), -ENOENT);
	assert_int_equal(wg_chat_room_members(x.c, "x"), -ENOENT);
	assert_int_equal(wg_chat_room_members(x.c, "both"), 1);
	say(&x, b, 5, "both", "alone");
	assert_int_equal(fx_pending(&x.f, 0), 0);
	expect_msg(&x, 1, "both", 2, "bob", "alone", only_b, 1);

	/* a new session in a's framework slot starts with no rooms */
	fx_attach(&x.f, x.fw, a2, 3, "new");
	assert_int_equal(wg_lfw_session_find(x.fw, a2)->idx, idx_a);
	say(&x, a2, 6, "both", "me?");
	fx_expect_error(&x.f, 0, a2, WG__ERROR_CODE__BAD_REQUEST, 6, WG__MSG_TYPE__CHAT_SAY, NULL);
	join(&x, a2, 7, "both");
	expect_joined(&x, a2, 7, "both", 2);

	wg_chat_stats(x.c, &st);
	assert_int_equal(st.detach_leaves, 3);
	assert_int_equal(st.rooms, 1);
	assert_int_equal(st.rooms_max, 3);
	cfx_fini(&x);
}

/* Random joins, leaves, says, detaches and re-attaches against a model:
 * room sizes and the recipients of every broadcast must match it. */
static void
test_churn(void **state)
{
	enum { S = 24, R = 6, STEPS = 6000 };
	const struct wg_chat_conf cc = { .max_rooms = R, .max_members = S, .max_text = 32,
					 .max_joined = R };
	static bool member[S][R];
	static bool attached[S];
	static uint64_t sid[S];
	static const char *const rooms[R] = { "r0", "r1", "r2", "r3", "r4", "r5" };
	struct cfx x;
	uint64_t seed = 0x5eed;
	uint32_t gen = 1;
	unsigned int k, s, r, says = 0;

	(void)state;
	cfx_init(&x, "churn", &cc, S);
	for (s = 0; s < S; s++) {
		sid[s] = fx_sid(s % FX_WORKERS, gen, s);
		fx_attach(&x.f, x.fw, sid[s], s, "p");
		attached[s] = true;
	}
	for (k = 0; k < STEPS; k++) {
		unsigned int op;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		op = (unsigned int)(seed >> 60);
		s = (unsigned int)(seed >> 33) % S;
		r = (unsigned int)(seed >> 20) % R;
		if (!attached[s]) {
			/* back as a new session (new generation), no rooms */
			sid[s] = fx_sid(s % FX_WORKERS, ++gen, s);
			fx_attach(&x.f, x.fw, sid[s], s, "p");
			attached[s] = true;
			continue;
		}
		if (op < 7) {
			join(&x, sid[s], k, rooms[r]);
			member[s][r] = true;
		} else if (op < 12) {
			leave(&x, sid[s], k, rooms[r]);
			member[s][r] = false;
		} else if (op < 15) {
			uint64_t want[FX_WORKERS][S], got[FX_WORKERS][S];
			unsigned int nw[FX_WORKERS] = { 0 }, ng[FX_WORKERS] = { 0 }, w, t, i;
			struct fx_out o;

			drain(&x);
			say(&x, sid[s], k, rooms[r], "x");
			if (!member[s][r]) {
				fx_expect_error(&x.f, s % FX_WORKERS, sid[s],
						WG__ERROR_CODE__BAD_REQUEST, k,
						WG__MSG_TYPE__CHAT_SAY, NULL);
				continue;
			}
			says++;
			for (t = 0; t < S; t++)
				if (member[t][r])
					want[t % FX_WORKERS][nw[t % FX_WORKERS]++] = sid[t];
			for (w = 0; w < FX_WORKERS; w++) {
				while (fx_pending(&x.f, w) > 0) {
					fx_next(&x.f, w, &o);
					assert_int_equal(o.hdr.msg_type, WG__MSG_TYPE__CHAT_MSG);
					for (i = 0; i < o.n_ids; i++)
						got[w][ng[w]++] = o.ids[i];
					fx_out_free(&o);
				}
				/* same set: every member once, nobody else */
				assert_int_equal(ng[w], nw[w]);
				for (i = 0; i < nw[w]; i++) {
					unsigned int j;
					bool found = false;

					for (j = 0; j < ng[w]; j++)
						found |= got[w][j] == want[w][i];
					assert_true(found);
				}
			}
		} else {
			detach(&x, sid[s]);
			for (r = 0; r < R; r++)
				member[s][r] = false;
			attached[s] = false;
		}
		drain(&x);
		for (r = 0; r < R; r++) {
			int n = 0;

			for (s = 0; s < S; s++)
				n += member[s][r];
			assert_int_equal(wg_chat_room_members(x.c, rooms[r]), n ? n : -ENOENT);
		}
	}
	assert_true(says > 100);
	cfx_fini(&x);
}

static void
test_create_rejects(void **state)
{
	const struct wg_lfw_conf lc = { .tick_hz = 20, .max_catchup = 4, .max_sessions = 4 };
	struct wg_chat_conf cc = conf_default;
	struct wg_lfw *fw = wg_lfw_create(&lc);
	struct wg_chat *c;

	(void)state;
	assert_non_null(fw);
	cc.max_joined = 0;
	assert_null(wg_chat_create(fw, &cc));
	assert_int_equal(errno, EINVAL);
	cc.max_joined = 256;
	assert_null(wg_chat_create(fw, &cc));
	cc.max_joined = 4;
	cc.max_rooms = 1u << 20;
	cc.max_members = 1u << 16;      /* 2^36 member cells */
	assert_null(wg_chat_create(fw, &cc));
	assert_int_equal(errno, EINVAL);
	cc = conf_default;
	c = wg_chat_create(fw, &cc);
	assert_non_null(c);
	/* the chat types are taken now */
	assert_null(wg_chat_create(fw, &cc));
	assert_int_equal(errno, EEXIST);
	wg_lfw_destroy(fw);
	wg_chat_destroy(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_say_leave),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_detach_leaves),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_create_rejects),
	};

	if (fx_eal_init("test_chat") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
