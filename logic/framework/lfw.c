/* SPDX-License-Identifier: BSD-3-Clause
 * Framework core: service registration, the per-type dispatch table, the
 * session table fed by SESSION_ATTACH/DETACH, the tick scheduler and the
 * per-message decode arena. The ring output is in lfw_send.c.
 *
 * Everything is sized at create time; handling a message allocates nothing
 * (protobuf-c decodes into the arena, which is rewound per message).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "envelope.h"
#include "instance.h"
#include "lfw_impl.h"
#include "msgring.h"
#include "registry-t.h"
#include "wg_client.pb-c.h"
#include "wg_internal.pb-c.h"
#include "ws.h"

RTE_LOG_REGISTER(wg_lfw_logtype, wg.lfw, INFO);

#define LFW_MAX_SESSIONS  (1u << 24)
#define LFW_MAX_TICK_HZ   10000
#define ARENA_ALIGN       16

/* ---------------------------------------------------------------- arena */

static void *
arena_alloc(void *data, size_t size)
{
	struct wg_lfw *fw = data;
	size_t off = (fw->arena_used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

	if (size > WG_LFW_ARENA_SIZE || off > WG_LFW_ARENA_SIZE - size)
		return NULL;
	fw->arena_used = off + size;
	return fw->arena + off;
}

static void
arena_free(void *data, void *p)
{
	/* rewound as a whole before the next message */
	(void)data;
	(void)p;
}

ProtobufCMessage *
wg_lfw_unpack(struct wg_lfw *fw, const ProtobufCMessageDescriptor *desc,
	      const uint8_t *buf, size_t len)
{
	return protobuf_c_message_unpack(desc, &fw->pb_alloc, len, buf);
}

/* ---------------------------------------------------------------- create */

static uint64_t
realtime_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct wg_lfw *
wg_lfw_create(const struct wg_lfw_conf *conf)
{
	struct wg_lfw *fw;
	uint32_t i;

	if (conf == NULL || conf->tick_hz == 0 || conf->tick_hz > LFW_MAX_TICK_HZ ||
	    conf->max_catchup == 0 || conf->max_sessions == 0 ||
	    conf->max_sessions > LFW_MAX_SESSIONS) {
		errno = EINVAL;
		return NULL;
	}
	fw = calloc(1, sizeof(*fw));
	if (fw == NULL)
		return NULL;
	fw->conf = *conf;
	fw->sess = calloc(conf->max_sessions, sizeof(*fw->sess));
	fw->sess_free = malloc(conf->max_sessions * sizeof(*fw->sess_free));
	fw->arena = malloc(WG_LFW_ARENA_SIZE);
	if (wg_idxhash_init(&fw->hash, conf->max_sessions) < 0 || fw->sess == NULL ||
	    fw->sess_free == NULL || fw->arena == NULL)
		goto err;
	/* pop order 0, 1, 2...: tests and dumps read naturally */
	for (i = 0; i < conf->max_sessions; i++)
		fw->sess_free[i] = conf->max_sessions - 1 - i;
	fw->n_free = conf->max_sessions;
	fw->pb_alloc.alloc = arena_alloc;
	fw->pb_alloc.free = arena_free;
	fw->pb_alloc.allocator_data = fw;
	fw->clock_ms = realtime_ms;
	return fw;
err:
	wg_lfw_destroy(fw);
	errno = ENOMEM;
	return NULL;
}

void
wg_lfw_destroy(struct wg_lfw *fw)
{
	if (fw == NULL)
		return;
	free(fw->scratch);
	free(fw->arena);
	free(fw->sess_free);
	free(fw->sess);
	wg_idxhash_fini(&fw->hash);
	free(fw);
}

int
wg_lfw_register(struct wg_lfw *fw, const struct wg_lfw_service *svc)
{
	unsigned int i, j;

	if (fw == NULL || svc == NULL || svc->name == NULL || svc->name[0] == '\0' ||
	    (svc->flags & ~WG_LFW_SVC_F_MASK) || (svc->n_handlers && svc->handlers == NULL))
		return -EINVAL;
	for (i = 0; i < fw->n_svcs; i++)
		if (fw->svcs[i].id == svc->id || strcmp(fw->svcs[i].name, svc->name) == 0)
			return -EEXIST;
	if (fw->n_svcs == WG_LFW_MAX_SERVICES ||
	    svc->n_handlers > WG_LFW_MAX_HANDLERS - fw->n_handlers)
		return -ENOSPC;
	for (i = 0; i < svc->n_handlers; i++) {
		const struct wg_lfw_handler *h = &svc->handlers[i];

		if (h->fn == NULL || h->type < WG_MSG_CLIENT_FIRST || h->type >= WG_LFW_TYPE_LIMIT)
			return -EINVAL;
		if (fw->route[h->type] != 0)
			return -EEXIST;
		for (j = 0; j < i; j++)
			if (svc->handlers[j].type == h->type)
				return -EEXIST;
	}
	/* validated: commit */
	for (i = 0; i < svc->n_handlers; i++) {
		struct lfw_slot *sl = &fw->handlers[++fw->n_handlers];

		sl->fn = svc->handlers[i].fn;
		sl->svc = fw->n_svcs;
		sl->type = svc->handlers[i].type;
		fw->route[sl->type] = (uint8_t)fw->n_handlers;
	}
	fw->svcs[fw->n_svcs++] = *svc;
	return 0;
}

/* ---------------------------------------------------------------- time */

uint64_t
wg_lfw_now_ms(const struct wg_lfw *fw)
{
	return fw->clock_ms(fw->clock_arg);
}

void
wg_lfw_set_clock(struct wg_lfw *fw, uint64_t (*clock_ms)(void *arg), void *arg)
{
	fw->clock_ms = clock_ms != NULL ? clock_ms : realtime_ms;
	fw->clock_arg = arg;
}

void
wg_lfw_set_tsc_hz(struct wg_lfw *fw, uint64_t tsc_hz)
{
	fw->tsc_hz = tsc_hz;
	fw->tick_period = tsc_hz / fw->conf.tick_hz;
	if (fw->tick_period == 0)
		fw->tick_period = 1;
}

unsigned int
wg_lfw_tick_poll(struct wg_lfw *fw, uint64_t now)
{
	uint64_t due, run, i;
	unsigned int s;

	if (fw->tsc_hz == 0)
		return 0;
	if (!fw->tick_started) {
		fw->tick_started = true;
		fw->next_tick_tsc = now;
	}
	if (now < fw->next_tick_tsc)
		return 0;
	due = (now - fw->next_tick_tsc) / fw->tick_period + 1;
	run = due < fw->conf.max_catchup ? due : fw->conf.max_catchup;
	if (due > 1)
		fw->st.ticks_late++;
	fw->st.ticks_dropped += due - run;
	/* keep the phase: the next deadline is the first one after now */
	fw->next_tick_tsc += due * fw->tick_period;
	/* services may decode in their ticks too */
	fw->arena_used = 0;
	for (i = 0; i < run; i++) {
		fw->tick_no++;
		for (s = 0; s < fw->n_svcs; s++)
			if (fw->svcs[s].on_tick != NULL)
				fw->svcs[s].on_tick(fw, fw->tick_no, fw->svcs[s].arg);
	}
	fw->st.ticks += run;
	return (unsigned int)run;
}

/* ---------------------------------------------------------------- sessions */

static uint64_t
sess_hash(const void *arg, uint32_t idx)
{
	const struct wg_lfw *fw = arg;

	return wg_idxhash_mix(fw->sess[idx].id);
}

/* The slot holding id, or the empty slot where it would go. */
static uint32_t
hash_lookup(const struct wg_lfw *fw, uint64_t id)
{
	uint32_t i, v;

	for (i = wg_idxhash_home(&fw->hash, wg_idxhash_mix(id));; i = wg_idxhash_next(&fw->hash, i)) {
		v = fw->hash.slot[i];
		if (v == 0 || fw->sess[v - 1].id == id)
			return i;
	}
}

const struct wg_lfw_session *
wg_lfw_session_find(const struct wg_lfw *fw, uint64_t id)
{
	uint32_t v;

	if (id == 0)
		return NULL;
	v = fw->hash.slot[hash_lookup(fw, id)];
	return v ? &fw->sess[v - 1] : NULL;
}

const struct wg_lfw_session *
wg_lfw_session_at(const struct wg_lfw *fw, uint32_t idx)
{
	if (idx >= fw->conf.max_sessions || fw->sess[idx].id == 0)
		return NULL;
	return &fw->sess[idx];
}

uint32_t
wg_lfw_max_sessions(const struct wg_lfw *fw)
{
	return fw->conf.max_sessions;
}

static void
detach_one(struct wg_lfw *fw, struct wg_lfw_session *s, uint32_t reason)
{
	unsigned int n;

	/* reverse registration order: later services may build on earlier */
	for (n = fw->n_svcs; n-- > 0;)
		if (fw->svcs[n].on_detach != NULL)
			fw->svcs[n].on_detach(fw, s, reason, fw->svcs[n].arg);
	wg_idxhash_delete(&fw->hash, hash_lookup(fw, s->id), sess_hash, fw);
	fw->sess_free[fw->n_free++] = s->idx;
	s->id = 0;
	fw->st.sessions--;
	fw->st.detaches++;
}

void
wg_lfw_sessions_reset(struct wg_lfw *fw, uint32_t reason)
{
	uint32_t i;

	for (i = 0; i < fw->conf.max_sessions && fw->st.sessions > 0; i++)
		if (fw->sess[i].id != 0)
			detach_one(fw, &fw->sess[i], reason);
}

/* Copy a display name, keeping the longest valid UTF-8 prefix that fits:
 * it goes out in ChatMsg.from_name, which text clients get as JSON. */
static void
copy_name(char *dst, const char *src)
{
	size_t i, n, ok = 0;
	uint32_t st = WG_UTF8_ACCEPT;

	dst[0] = '\0';
	if (src == NULL)
		return;
	n = strnlen(src, WG_LFW_NAME_MAX - 1);
	for (i = 0; i < n && st != WG_UTF8_REJECT; i++) {
		st = wg_utf8_step(st, (const uint8_t *)src + i, 1);
		if (st == WG_UTF8_ACCEPT)
			ok = i + 1;
	}
	memcpy(dst, src, ok);
	dst[ok] = '\0';
}

static void
session_attach(struct wg_lfw *fw, unsigned int worker, const struct wg_msg_hdr *h,
	       const uint8_t *p)
{
	Wg__SessionAttach *a;
	struct wg_lfw_session *s;
	uint32_t pos, v;
	unsigned int n;

	if (h->session_id == 0) {
		fw->st.no_session_id++;
		return;
	}
	a = (Wg__SessionAttach *)wg_lfw_unpack(fw, &wg__session_attach__descriptor, p, h->len);
	if (a == NULL) {
		fw->st.bad_msgs++;
		return;
	}
	pos = hash_lookup(fw, h->session_id);
	v = fw->hash.slot[pos];
	if (v != 0) {
		s = &fw->sess[v - 1];
		if (s->player_id == a->player_id) {
			/* a resume or a repeated route: same player, keep its state
			 * (and its name, when the attach carries none: a
			 * restarted control may not know it) */
			if (a->name != NULL && a->name[0] != '\0')
				copy_name(s->name, a->name);
			s->worker = (uint16_t)worker;
			s->resumed = a->resumed;
			fw->st.reattaches++;
			return;
		}
		/* ids are never reused while the dataplane runs: a new player
		 * here means we missed a detach */
		detach_one(fw, s, WG__DETACH_REASON__DETACH_REASON_REROUTED);
		pos = hash_lookup(fw, h->session_id);
	}
	if (fw->n_free == 0) {
		/* an attacker cannot drive this (logins are rate limited in
		 * control), still log sparsely */
		if ((fw->st.sessions_full++ & 1023) == 0)
			LFW_LOG(WARNING, "session %#" PRIx64 " refused: %u sessions attached "
				"(logic.max_sessions)", h->session_id, fw->conf.max_sessions);
		return;
	}
	s = &fw->sess[fw->sess_free[--fw->n_free]];
	s->idx = (uint32_t)(s - fw->sess);
	s->id = h->session_id;
	s->player_id = a->player_id;
	s->attached_ms = wg_lfw_now_ms(fw);
	s->worker = (uint16_t)worker;
	s->resumed = a->resumed;
	copy_name(s->name, a->name);
	fw->hash.slot[pos] = s->idx + 1;
	fw->st.attaches++;
	if (++fw->st.sessions > fw->st.sessions_max)
		fw->st.sessions_max = fw->st.sessions;
	for (n = 0; n < fw->n_svcs; n++)
		if (fw->svcs[n].on_attach != NULL)
			fw->svcs[n].on_attach(fw, s, 0, fw->svcs[n].arg);
}

static void
session_detach(struct wg_lfw *fw, const struct wg_msg_hdr *h, const uint8_t *p)
{
	Wg__SessionDetach *d;
	uint32_t v, reason = 0;

	v = h->session_id ? fw->hash.slot[hash_lookup(fw, h->session_id)] : 0;
	if (v == 0) {
		fw->st.detach_unknown++;
		return;
	}
	/* the id alone is enough to detach: a payload that does not parse
	 * only loses the reason */
	d = (Wg__SessionDetach *)wg_lfw_unpack(fw, &wg__session_detach__descriptor, p, h->len);
	if (d != NULL)
		reason = (uint32_t)d->reason;
	else
		fw->st.bad_msgs++;
	detach_one(fw, &fw->sess[v - 1], reason);
}

/* ---------------------------------------------------------------- dispatch */

static void
client_msg(struct wg_lfw *fw, unsigned int worker, const struct wg_msg_hdr *h,
	   const uint8_t *p)
{
	struct wg_lfw_req req;
	const struct lfw_slot *sl;
	const struct wg_lfw_service *svc;
	uint32_t v;

	if (h->session_id == 0) {
		fw->st.no_session_id++;
		return;
	}
	req.session_id = h->session_id;
	req.worker = worker;
	if (wg_envelope_decode(&req.env, p, h->len) < 0 || req.env.type != h->msg_type) {
		fw->st.bad_msgs++;
		wg_lfw_send_error(fw, h->session_id, WG__ERROR_CODE__BAD_MESSAGE, 0, h->msg_type,
				  "not a valid Envelope");
		return;
	}
	sl = h->msg_type < WG_LFW_TYPE_LIMIT ? &fw->handlers[fw->route[h->msg_type]]
					     : &fw->handlers[0];
	if (sl->fn == NULL) {
		fw->st.unknown_type++;
		wg_lfw_reply_error(fw, &req, WG__ERROR_CODE__UNKNOWN_TYPE,
				   "no service on this instance handles the type");
		return;
	}
	svc = &fw->svcs[sl->svc];
	v = fw->hash.slot[hash_lookup(fw, h->session_id)];
	req.sess = v ? &fw->sess[v - 1] : NULL;
	if (req.sess == NULL && (svc->flags & WG_LFW_SVC_F_SESSION)) {
		fw->st.unattached++;
		wg_lfw_reply_error(fw, &req, WG__ERROR_CODE__SERVICE_UNAVAILABLE,
				   "the session is not attached to this instance");
		return;
	}
	fw->st.dispatched++;
	if (sl->fn(fw, &req, svc->arg) < 0)
		fw->st.handler_errors++;
}

/* Our slot was reclaimed and claimed again (we stalled past dead_after_ms):
 * the dataplane moved our sessions away and will attach again whatever it
 * routes back to us. */
static void
check_generation(struct wg_lfw *fw)
{
	if (fw->in == NULL || fw->in->generation == fw->generation)
		return;
	LFW_LOG(WARNING, "slot generation %u -> %u: dropping %u sessions", fw->generation,
		fw->in->generation, fw->st.sessions);
	wg_lfw_sessions_reset(fw, WG_LFW_DETACH_RESET);
	fw->generation = fw->in->generation;
	fw->st.resets++;
}

void
wg_lfw_input(struct wg_lfw *fw, unsigned int worker, const struct wg_msg_hdr *h,
	     const uint8_t *payload)
{
	fw->st.msgs++;
	fw->arena_used = 0;
	switch (h->msg_type) {
	case WG_MSG_SESSION_ATTACH:
		session_attach(fw, worker, h, payload);
		break;
	case WG_MSG_SESSION_DETACH:
		session_detach(fw, h, payload);
		break;
	default:
		if (h->msg_type < WG_MSG_CLIENT_FIRST)
			fw->st.sys_ignored++;
		else
			client_msg(fw, worker, h, payload);
		break;
	}
}

void
wg_lfw_on_msg(struct wg_instance *in, unsigned int worker, struct rte_mbuf *m, void *arg)
{
	struct wg_lfw *fw = arg;

	(void)in;
	check_generation(fw);
	wg_lfw_input(fw, worker, wg_msg_hdr(m), wg_msg_payload(m));
	rte_pktmbuf_free(m);
}

unsigned int
wg_lfw_on_tick(struct wg_instance *in, uint64_t now_tsc, void *arg)
{
	struct wg_lfw *fw = arg;

	(void)in;
	check_generation(fw);
	return wg_lfw_tick_poll(fw, now_tsc);
}

/* ---------------------------------------------------------------- misc */

void
wg_lfw_stats(const struct wg_lfw *fw, struct wg_lfw_stats *st)
{
	*st = fw->st;
}

void
wg_lfw_dump(FILE *f, const struct wg_lfw *fw)
{
	const struct wg_lfw_stats *st = &fw->st;
	unsigned int i;

	fprintf(f, "lfw: %u services, %u handlers, tick %u Hz (tick %" PRIu64 "), "
		"sessions %u/%u (max %u), bound %s, %u workers\n",
		fw->n_svcs, fw->n_handlers, fw->conf.tick_hz, fw->tick_no, st->sessions,
		fw->conf.max_sessions, st->sessions_max, fw->in ? "yes" : "no", fw->n_workers);
	for (i = 0; i < fw->n_svcs; i++)
		fprintf(f, "  service %u %s flags %#x\n", fw->svcs[i].id, fw->svcs[i].name,
			fw->svcs[i].flags);
	for (i = 1; i <= fw->n_handlers; i++)
		fprintf(f, "  type %#06x -> %s\n", fw->handlers[i].type,
			fw->svcs[fw->handlers[i].svc].name);
	fprintf(f, "  msgs %" PRIu64 " dispatched %" PRIu64 " bad %" PRIu64 " unknown_type %"
		PRIu64 " unattached %" PRIu64 " handler_errors %" PRIu64 " sys_ignored %" PRIu64
		" no_session_id %" PRIu64 "\n",
		st->msgs, st->dispatched, st->bad_msgs, st->unknown_type, st->unattached,
		st->handler_errors, st->sys_ignored, st->no_session_id);
	fprintf(f, "  attaches %" PRIu64 " reattaches %" PRIu64 " detaches %" PRIu64
		" detach_unknown %" PRIu64 " sessions_full %" PRIu64 " resets %" PRIu64 "\n",
		st->attaches, st->reattaches, st->detaches, st->detach_unknown, st->sessions_full,
		st->resets);
	fprintf(f, "  sent %" PRIu64 " errors_sent %" PRIu64 " multicasts %" PRIu64
		" mcast_mbufs %" PRIu64 " mcast_sessions %" PRIu64 " bad_dest %" PRIu64
		" too_big %" PRIu64 " nobufs %" PRIu64 " ring_full %" PRIu64 "\n",
		st->sent, st->errors_sent, st->multicasts, st->mcast_mbufs, st->mcast_sessions,
		st->bad_dest, st->too_big, st->nobufs, st->ring_full);
	fprintf(f, "  ticks %" PRIu64 " late %" PRIu64 " dropped %" PRIu64 "\n",
		st->ticks, st->ticks_late, st->ticks_dropped);
}
