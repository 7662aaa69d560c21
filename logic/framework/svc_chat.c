/* SPDX-License-Identifier: BSD-3-Clause
 * Chat rooms. A room lives on the instance its members' CHAT_* messages are
 * routed to; the instance handles one message at a time, so every member
 * sees a room's messages in the same order, the order they arrived here.
 *
 * Storage is fixed at create time: rooms in an array with a free list and
 * an index by name; each room's members in a slice of one big array (ids
 * contiguous, so a broadcast passes them to wg_lfw_multicast as they are);
 * each session's memberships in a slice indexed by its framework slot.
 * A member's position is kept in its membership record, so join, leave and
 * detach cost O(max_joined), never O(members).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "idxhash.h"
#include "lfw.h"
#include "svc.h"
#include "wg_client.pb-c.h"
#include "ws.h"

#define NONE              UINT32_MAX
#define CHAT_MAX_JOINED   255
#define CHAT_MAX_CELLS    (1ull << 28)   /* rooms x members: 3 GiB of tables */

struct chat_room {
	uint32_t n;                    /* members */
	uint32_t next_free;            /* free list link while unused */
	uint32_t len;
	char name[WG_CHAT_ROOM_MAX + 1];
};

struct chat_join {
	uint32_t room;
	uint32_t pos;                  /* in the room's member slice */
};

struct wg_chat {
	struct wg_chat_conf conf;
	uint32_t max_sessions;
	struct chat_room *rooms;
	uint32_t free_room;
	struct wg_idxhash by_name;
	uint64_t *mem_id;              /* room r: [r * max_members, + n) session ids */
	uint32_t *mem_sess;            /* framework slot of the same member */
	struct chat_join *joins;       /* session slot s: [s * max_joined, + n_joins[s]) */
	uint8_t *n_joins;
	struct wg_chat_stats st;
};

/* ---------------------------------------------------------------- rooms */

/* FNV-1a; the index mixes the high bits itself */
static uint64_t
name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return wg_idxhash_mix(h);
}

static uint64_t
room_hash(const void *arg, uint32_t idx)
{
	const struct wg_chat *c = arg;

	return name_hash(c->rooms[idx].name, c->rooms[idx].len);
}

/* Length of a valid room name, or 0. */
static size_t
room_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char ch = s[i];

		if (i == WG_CHAT_ROOM_MAX)
			return 0;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return i;
}

/* The index slot holding name, or the empty slot where it would go. */
static uint32_t
room_slot(const struct wg_chat *c, const char *name, size_t len)
{
	uint32_t i, v;

	for (i = wg_idxhash_home(&c->by_name, name_hash(name, len));;
	     i = wg_idxhash_next(&c->by_name, i)) {
		v = c->by_name.slot[i];
		if (v == 0 || (c->rooms[v - 1].len == len &&
			       memcmp(c->rooms[v - 1].name, name, len) == 0))
			return i;
	}
}

static uint32_t
room_find(const struct wg_chat *c, const char *name, size_t len)
{
	uint32_t v = c->by_name.slot[room_slot(c, name, len)];

	return v ? v - 1 : NONE;
}

static uint32_t
room_create(struct wg_chat *c, const char *name, size_t len)
{
	uint32_t r = c->free_room;
	struct chat_room *rm = &c->rooms[r];

	c->free_room = rm->next_free;
	rm->n = 0;
	rm->len = (uint32_t)len;
	memcpy(rm->name, name, len);
	rm->name[len] = '\0';
	c->by_name.slot[room_slot(c, name, len)] = r + 1;
	if (++c->st.rooms > c->st.rooms_max)
		c->st.rooms_max = c->st.rooms;
	return r;
}

static void
room_free(struct wg_chat *c, uint32_t r)
{
	struct chat_room *rm = &c->rooms[r];

	wg_idxhash_delete(&c->by_name, room_slot(c, rm->name, rm->len), room_hash, c);
	rm->len = 0;
	rm->name[0] = '\0';
	rm->next_free = c->free_room;
	c->free_room = r;
	c->st.rooms--;
}

/* ---------------------------------------------------------------- members */

static inline struct chat_join *
joins_of(const struct wg_chat *c, uint32_t sidx)
{
	return &c->joins[(size_t)sidx * c->conf.max_joined];
}

static struct chat_join *
join_find(const struct wg_chat *c, uint32_t sidx, uint32_t r)
{
	struct chat_join *j = joins_of(c, sidx);
	unsigned int k;

	for (k = 0; k < c->n_joins[sidx]; k++)
		if (j[k].room == r)
			return &j[k];
	return NULL;
}

static void
member_add(struct wg_chat *c, uint32_t r, uint32_t sidx, uint64_t sid)
{
	struct chat_room *rm = &c->rooms[r];
	size_t base = (size_t)r * c->conf.max_members;
	struct chat_join *j = &joins_of(c, sidx)[c->n_joins[sidx]++];

	c->mem_id[base + rm->n] = sid;
	c->mem_sess[base + rm->n] = sidx;
	j->room = r;
	j->pos = rm->n++;
}

/* End membership k of session sidx: swap-remove from the room (fixing the
 * moved member's record) and from the session's list; free an empty room. */
static void
member_remove(struct wg_chat *c, uint32_t sidx, unsigned int k)
{
	struct chat_join *js = joins_of(c, sidx);
	uint32_t r = js[k].room, pos = js[k].pos, last;
	struct chat_room *rm = &c->rooms[r];
	size_t base = (size_t)r * c->conf.max_members;

	last = --rm->n;
	if (pos != last) {
		uint32_t moved = c->mem_sess[base + last];

		c->mem_id[base + pos] = c->mem_id[base + last];
		c->mem_sess[base + pos] = moved;
		join_find(c, moved, r)->pos = pos;
	}
	js[k] = js[--c->n_joins[sidx]];
	if (rm->n == 0)
		room_free(c, r);
}

/* ---------------------------------------------------------------- handlers */

static int
refuse(struct wg_chat *c, struct wg_lfw *fw, const struct wg_lfw_req *req, uint32_t code,
       const char *text)
{
	c->st.refused++;
	return wg_lfw_reply_error(fw, req, code, text);
}

static const char bad_room[] = "room: 1 to 32 characters of A-Z a-z 0-9 _ . -";

static int
chat_join(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg)
{
	struct wg_chat *c = arg;
	Wg__ChatJoined out = WG__CHAT_JOINED__INIT;
	uint32_t sidx = req->sess->idx, r;
	Wg__ChatJoin *in;
	size_t len;

	in = (Wg__ChatJoin *)wg_lfw_unpack(fw, &wg__chat_join__descriptor, req->env.payload,
					   req->env.payload_len);
	if (in == NULL)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_MESSAGE, "payload is not a ChatJoin");
	len = room_valid(in->room);
	if (len == 0)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST, bad_room);
	r = room_find(c, in->room, len);
	if (r == NONE || join_find(c, sidx, r) == NULL) {
		/* joining twice is not an error: the answer is the same */
		if (c->n_joins[sidx] >= c->conf.max_joined)
			return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST,
				      "in too many rooms: leave one first");
		if (r == NONE) {
			if (c->free_room == NONE)
				return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST,
					      "too many rooms on this server");
			r = room_create(c, in->room, len);
		} else if (c->rooms[r].n >= c->conf.max_members) {
			return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST, "room is full");
		}
		member_add(c, r, sidx, req->session_id);
	}
	c->st.joins++;
	out.room = c->rooms[r].name;
	out.members = c->rooms[r].n;
	return wg_lfw_reply(fw, req, WG__MSG_TYPE__CHAT_JOINED, &out.base);
}

static int
chat_leave(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg)
{
	struct wg_chat *c = arg;
	uint32_t sidx = req->sess->idx, r;
	struct chat_join *j;
	Wg__ChatLeave *in;
	size_t len;

	in = (Wg__ChatLeave *)wg_lfw_unpack(fw, &wg__chat_leave__descriptor, req->env.payload,
					    req->env.payload_len);
	if (in == NULL)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_MESSAGE, "payload is not a ChatLeave");
	len = room_valid(in->room);
	if (len == 0)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST, bad_room);
	r = room_find(c, in->room, len);
	j = r != NONE ? join_find(c, sidx, r) : NULL;
	if (j == NULL)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST, "not in that room");
	member_remove(c, sidx, (unsigned int)(j - joins_of(c, sidx)));
	c->st.leaves++;
	return 0;
}

static int
chat_say(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg)
{
	struct wg_chat *c = arg;
	Wg__ChatMsg out = WG__CHAT_MSG__INIT;
	uint32_t sidx = req->sess->idx, r;
	Wg__ChatSay *in;
	size_t len, tlen;
	int n;

	in = (Wg__ChatSay *)wg_lfw_unpack(fw, &wg__chat_say__descriptor, req->env.payload,
					  req->env.payload_len);
	if (in == NULL)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_MESSAGE, "payload is not a ChatSay");
	len = room_valid(in->room);
	if (len == 0)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST, bad_room);
	tlen = strlen(in->text);
	if (tlen > c->conf.max_text)
		return refuse(c, fw, req, WG__ERROR_CODE__TOO_BIG, "text: over logic.chat.max_text bytes");
	if (tlen == 0)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST, "text: empty");
	/* a binary client's bytes reach text clients as JSON strings */
	if (!wg_utf8_valid((const uint8_t *)in->text, tlen))
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_MESSAGE, "text: not UTF-8");
	r = room_find(c, in->room, len);
	if (r == NONE || join_find(c, sidx, r) == NULL)
		return refuse(c, fw, req, WG__ERROR_CODE__BAD_REQUEST, "not in that room");

	out.room = c->rooms[r].name;
	out.from_id = req->sess->player_id;
	out.from_name = (char *)(uintptr_t)req->sess->name;
	out.text = in->text;
	out.server_time_ms = wg_lfw_now_ms(fw);
	/* msg_id 0: for the other members this is no reply, and a request id
	 * of the sender's would collide with theirs */
	n = wg_lfw_multicast(fw, &c->mem_id[(size_t)r * c->conf.max_members], c->rooms[r].n,
			     WG__MSG_TYPE__CHAT_MSG, 0, &out.base);
	if (n == -EMSGSIZE)
		return refuse(c, fw, req, WG__ERROR_CODE__TOO_BIG, "message too big for the ring");
	if (n < 0)
		return n;
	c->st.says++;
	c->st.delivered += (uint64_t)n;
	return 0;
}

static void
chat_attach(struct wg_lfw *fw, const struct wg_lfw_session *s, uint32_t reason, void *arg)
{
	struct wg_chat *c = arg;

	(void)fw;
	(void)reason;
	c->n_joins[s->idx] = 0;
}

static void
chat_detach(struct wg_lfw *fw, const struct wg_lfw_session *s, uint32_t reason, void *arg)
{
	struct wg_chat *c = arg;

	(void)fw;
	(void)reason;
	while (c->n_joins[s->idx] > 0) {
		member_remove(c, s->idx, c->n_joins[s->idx] - 1u);
		c->st.detach_leaves++;
	}
}

static const struct wg_lfw_handler chat_handlers[] = {
	{ WG__MSG_TYPE__CHAT_JOIN, chat_join },
	{ WG__MSG_TYPE__CHAT_LEAVE, chat_leave },
	{ WG__MSG_TYPE__CHAT_SAY, chat_say },
};

/* ---------------------------------------------------------------- life */

struct wg_chat *
wg_chat_create(struct wg_lfw *fw, const struct wg_chat_conf *conf)
{
	struct wg_lfw_service svc = {
		.name = "chat",
		.id = WG_SVC_CHAT_ID,
		.flags = WG_LFW_SVC_F_SESSION,
		.handlers = chat_handlers,
		.n_handlers = sizeof(chat_handlers) / sizeof(chat_handlers[0]),
		.on_attach = chat_attach,
		.on_detach = chat_detach,
	};
	struct wg_chat *c;
	size_t cells;
	uint32_t i;
	int ret;

	if (fw == NULL || conf == NULL || conf->max_rooms == 0 || conf->max_members == 0 ||
	    conf->max_text == 0 || conf->max_joined == 0 || conf->max_joined > CHAT_MAX_JOINED ||
	    (uint64_t)conf->max_rooms * conf->max_members > CHAT_MAX_CELLS) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->conf = *conf;
	c->max_sessions = wg_lfw_max_sessions(fw);
	cells = (size_t)conf->max_rooms * conf->max_members;
	c->rooms = calloc(conf->max_rooms, sizeof(*c->rooms));
	c->mem_id = malloc(cells * sizeof(*c->mem_id));
	c->mem_sess = malloc(cells * sizeof(*c->mem_sess));
	c->joins = malloc((size_t)c->max_sessions * conf->max_joined * sizeof(*c->joins));
	c->n_joins = calloc(c->max_sessions, sizeof(*c->n_joins));
	ret = wg_idxhash_init(&c->by_name, conf->max_rooms);
	if (ret < 0 || c->rooms == NULL || c->mem_id == NULL || c->mem_sess == NULL ||
	    c->joins == NULL || c->n_joins == NULL) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < conf->max_rooms; i++)
		c->rooms[i].next_free = i + 1 < conf->max_rooms ? i + 1 : NONE;
	c->free_room = 0;
	svc.arg = c;
	ret = wg_lfw_register(fw, &svc);
	if (ret < 0)
		goto err;
	return c;
err:
	wg_chat_destroy(c);
	errno = -ret;
	return NULL;
}

void
wg_chat_destroy(struct wg_chat *c)
{
	if (c == NULL)
		return;
	wg_idxhash_fini(&c->by_name);
	free(c->n_joins);
	free(c->joins);
	free(c->mem_sess);
	free(c->mem_id);
	free(c->rooms);
	free(c);
}

int
wg_chat_room_members(const struct wg_chat *c, const char *room)
{
	size_t len = room_valid(room);
	uint32_t r = len ? room_find(c, room, len) : NONE;

	return r == NONE ? -ENOENT : (int)c->rooms[r].n;
}

void
wg_chat_stats(const struct wg_chat *c, struct wg_chat_stats *st)
{
	*st = c->st;
}

void
wg_chat_dump(FILE *f, const struct wg_chat *c)
{
	uint32_t r;

	fprintf(f, "chat: rooms %u/%u (max %u), members/room %u, joined/session %u, text %u\n",
		c->st.rooms, c->conf.max_rooms, c->st.rooms_max, c->conf.max_members,
		c->conf.max_joined, c->conf.max_text);
	fprintf(f, "  joins %" PRIu64 " leaves %" PRIu64 " says %" PRIu64 " delivered %" PRIu64
		" detach_leaves %" PRIu64 " refused %" PRIu64 "\n",
		c->st.joins, c->st.leaves, c->st.says, c->st.delivered, c->st.detach_leaves,
		c->st.refused);
	for (r = 0; r < c->conf.max_rooms; r++)
		if (c->rooms[r].len != 0)
			fprintf(f, "  room %s: %u members\n", c->rooms[r].name, c->rooms[r].n);
}
