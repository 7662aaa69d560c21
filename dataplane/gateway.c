/* SPDX-License-Identifier: BSD-3-Clause
 * The gateway service on a worker: client sessions between the streams and
 * the instances (docs/message-plane.md).
 *
 * Per message the dataplane does only what needs no one else: decode (or
 * convert from JSON), rate-limit, answer heartbeats, route by type to the
 * session's logic instance; sequence server messages, keep them until the
 * client acknowledges them, and write them out as binary or JSON frames.
 * control is asked only to log in, resume and re-route.
 *
 * Sessions outlive connections: a session whose connection drops waits
 * resume_window_ms for a RESUME on a new connection, which then adopts the
 * old session (its id, routes, sequence numbers and unacknowledged server
 * messages), so logic never sees the reconnect.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "envelope.h"
#include "gateway.h"
#include "log.h"
#include "msgjson.h"
#include "msgring.h"
#include "registry.h"
#include "statlist.h"
#include "stream.h"
#include "wg_client.pb-c.h"
#include "wg_internal.pb-c.h"

RTE_LOG_REGISTER(wg_gw_logtype, wg.gateway, INFO);
#define GW_LOG(l, ...) WG_LOG(wg_gw_logtype, l, "gateway", __VA_ARGS__)

#define SWEEP_PER_TICK   64          /* sessions checked for timeouts per loop */
#define SCRATCH_BYTES    (64 * 1024) /* protobuf-c unpacks and JSON conversion */
#define JSON_OUT_BYTES   (64 * 1024)
#define CONTROL_NONE     UINT32_MAX

struct wg_gw {
	const struct wg_gw_conf *conf;
	struct wg_gw_sess *sess;
	uint32_t free_head;
	uint32_t sweep;                /* next session the timeout sweep looks at */
	unsigned int worker;
	uint16_t src;                  /* wg_msg_hdr.src of what we send */
	uint32_t control;              /* registry slot of control, cached */
	uint64_t now_ms;
	struct rte_mempool *msg_pool;
	struct wg_registry *reg;
	struct rte_ring **to_inst;
	/* replay entries: server messages not yet acknowledged */
	struct rte_mbuf **rp_m;
	uint32_t *rp_seq;
	uint32_t *rp_next;
	uint32_t rp_free;
	/* scratch for protobuf-c unpacks (bump allocator, reset per use) */
	uint8_t *scratch;
	size_t scratch_used;
	ProtobufCAllocator alloc;
	uint32_t sync_slot;            /* control asked for every session: reply there */
	uint32_t sync_next;            /* next session to report */
	struct wg_msgjson json;
	uint8_t *json_scratch;
	char *json_out;
	struct wg_gw_stats st;
};

/* ------------------------------------------------------------ helpers */

static void *
bump_alloc(void *arg, size_t size)
{
	struct wg_gw *gw = arg;
	size_t off = (gw->scratch_used + 7) & ~(size_t)7;

	if (off + size > SCRATCH_BYTES)
		return NULL;
	gw->scratch_used = off + size;
	return gw->scratch + off;
}

static void
bump_free(void *arg, void *p)
{
	(void)arg;
	(void)p;
}

static inline uint64_t
sess_id(const struct wg_gw *gw, uint32_t idx, uint32_t gen)
{
	return (uint64_t)gw->worker << 56 | (uint64_t)(gen & 0xffffff) << 32 | idx;
}

static struct wg_gw_sess *
sess_find(struct wg_gw *gw, uint64_t id)
{
	uint32_t idx = (uint32_t)id;
	struct wg_gw_sess *ss;

	if (wg_gw_sess_worker(id) != gw->worker || idx >= gw->conf->max_sessions)
		return NULL;
	ss = &gw->sess[idx];
	if (ss->state == WG_GW_FREE || ss->id != id)
		return NULL;
	return ss;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The control instance's slot, or CONTROL_NONE while none is alive. */
static uint32_t
control_slot(struct wg_gw *gw)
{
	uint32_t s;

	if (gw->control != CONTROL_NONE && wg_slot_alive(&gw->reg->slots[gw->control]) &&
	    gw->reg->slots[gw->control].kind == WG_KIND_CONTROL)
		return gw->control;
	gw->control = CONTROL_NONE;
	for (s = 0; s < gw->reg->n_slots; s++)
		if (gw->reg->slots[s].kind == WG_KIND_CONTROL && wg_slot_alive(&gw->reg->slots[s])) {
			gw->control = s;
			break;
		}
	return gw->control;
}

static bool
slot_alive(const struct wg_gw *gw, uint32_t s)
{
	return s < gw->reg->n_slots && wg_slot_alive(&gw->reg->slots[s]);
}

/* To an instance; counted, never blocks, takes m. */
static int
to_slot(struct wg_gw *gw, uint32_t slot, struct rte_mbuf *m)
{
	if (rte_ring_sp_enqueue(gw->to_inst[slot], m) != 0) {
		gw->st.ring_full++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

static void
sys_send(struct wg_gw *gw, uint32_t slot, uint32_t type, uint64_t id, const ProtobufCMessage *pb)
{
	struct rte_mbuf *m;

	if (!slot_alive(gw, slot))
		return;
	m = wg_msg_new(gw->msg_pool, type, id, gw->src, 0, pb);
	if (m == NULL) {
		gw->st.nobufs++;
		return;
	}
	(void)to_slot(gw, slot, m);
}

/* ------------------------------------------------------------ output */

/* One Envelope to the client, as its kind of frame. */
static int
write_env(struct wg_gw *gw, struct wg_gw_sess *ss, const struct wg_envelope *env,
	  unsigned int oflags)
{
	uint8_t hdr[WG_ENVELOPE_HDR_MAX];
	int n;

	if (ss->stream == NULL || (ss->flags & WG_GWF_CLOSING))
		return 0;
	if (ss->flags & WG_GWF_TEXT) {
		n = wg_msgjson_from_envelope(&gw->json, env, gw->json_out, JSON_OUT_BYTES);
		if (n < 0) {
			/* a payload logic packed wrong: the client cannot be
			 * told in its own format, so it is not told */
			gw->st.bad_msgs++;
			GW_LOG(DEBUG, "session %" PRIx64 ": type %#x not convertible: %s", ss->id,
			       env->type, wg_msgjson_error(&gw->json));
			return 0;
		}
		n = wg_stream_msg_out(ss->stream, true, gw->json_out, (uint32_t)n, NULL, 0, oflags);
	} else {
		/* the payload goes out from where it is, not after hdr: the
		 * room the encoder checks for it is the frame's */
		n = wg_envelope_encode_hdr(env, env->payload_len, hdr,
					   sizeof(hdr) + (size_t)env->payload_len);
		if (n < 0)
			return n;
		n = wg_stream_msg_out(ss->stream, false, hdr, (uint32_t)n, env->payload,
				      env->payload_len, oflags);
	}
	if (n == 0)
		gw->st.msgs_out++;
	return n;
}

/* A message the dataplane makes itself (heartbeat answers, errors, kicks,
 * resume answers): outside the sequence, never replayed. */
static void
say(struct wg_gw *gw, struct wg_gw_sess *ss, uint32_t type, uint32_t msg_id,
    const ProtobufCMessage *pb)
{
	uint8_t buf[512];
	struct wg_envelope env = { .type = type, .msg_id = msg_id, .ack = ss->rx_seq };
	size_t n = protobuf_c_message_get_packed_size(pb);

	if (n > sizeof(buf))
		return;
	env.payload = buf;
	env.payload_len = (uint32_t)protobuf_c_message_pack(pb, buf);
	(void)write_env(gw, ss, &env, 0);
}

static void
say_error(struct wg_gw *gw, struct wg_gw_sess *ss, uint32_t code, const struct wg_envelope *ref,
	  const char *text)
{
	Wg__Error e = WG__ERROR__INIT;

	e.code = code;
	if (ref != NULL) {
		e.ref_msg_id = ref->msg_id;
		e.ref_type = ref->type;
	}
	e.text = (char *)(uintptr_t)(text != NULL ? text : "");
	gw->st.errors_sent++;
	say(gw, ss, WG__MSG_TYPE__ERROR, ref != NULL ? ref->msg_id : 0, &e.base);
}

/* ------------------------------------------------------------ replay list */

static void
replay_pop(struct wg_gw *gw, struct wg_gw_sess *ss)
{
	uint32_t e = ss->replay_head;

	ss->replay_head = gw->rp_next[e];
	if (ss->replay_head == WG_GW_NO_ENTRY)
		ss->replay_tail = WG_GW_NO_ENTRY;
	ss->replay_n--;
	rte_pktmbuf_free(gw->rp_m[e]);
	gw->rp_m[e] = NULL;
	gw->rp_next[e] = gw->rp_free;
	gw->rp_free = e;
}

/* The client has everything up to ack. */
static void
replay_ack(struct wg_gw *gw, struct wg_gw_sess *ss, uint32_t ack)
{
	while (ss->replay_head != WG_GW_NO_ENTRY &&
	       (int32_t)(gw->rp_seq[ss->replay_head] - ack) <= 0)
		replay_pop(gw, ss);
}

static void
replay_push(struct wg_gw *gw, struct wg_gw_sess *ss, struct rte_mbuf *m, uint32_t seq)
{
	uint32_t e;

	if (gw->conf->replay_max == 0)
		return;
	if (ss->replay_n >= gw->conf->replay_max || gw->rp_free == WG_GW_NO_ENTRY) {
		if (ss->replay_head == WG_GW_NO_ENTRY) {
			ss->flags |= WG_GWF_REPLAY_LOST;
			gw->st.replay_dropped++;
			return;
		}
		/* the oldest goes: a RESUME that needs it will fail */
		replay_pop(gw, ss);
		ss->flags |= WG_GWF_REPLAY_LOST;
		gw->st.replay_dropped++;
	}
	e = gw->rp_free;
	gw->rp_free = gw->rp_next[e];
	rte_mbuf_refcnt_update(m, 1);
	gw->rp_m[e] = m;
	gw->rp_seq[e] = seq;
	gw->rp_next[e] = WG_GW_NO_ENTRY;
	if (ss->replay_tail == WG_GW_NO_ENTRY)
		ss->replay_head = e;
	else
		gw->rp_next[ss->replay_tail] = e;
	ss->replay_tail = e;
	ss->replay_n++;
}

/* The Envelope a ring message carries (payload after the header). */
static int
ring_env(struct rte_mbuf *m, struct wg_envelope *env)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);

	return wg_envelope_decode(env, wg_msg_payload(m), h->len);
}

/* A server message from control or logic for ss: numbered, kept until
 * acknowledged, and written out if the client is connected. m stays the
 * caller's (the replay list takes its own reference). */
static void
deliver(struct wg_gw *gw, struct wg_gw_sess *ss, struct rte_mbuf *m, struct wg_envelope *env)
{
	if (ss->state != WG_GW_ACTIVE && ss->state != WG_GW_DETACHED) {
		/* answers to a login in progress (an Error from control) */
		env->seq = 0;
		env->ack = ss->rx_seq;
		(void)write_env(gw, ss, env, 0);
		return;
	}
	env->seq = ++ss->tx_seq;
	env->ack = ss->rx_seq;
	replay_push(gw, ss, m, env->seq);
	(void)write_env(gw, ss, env, 0);
}

/* ------------------------------------------------------------ life cycle */

static void
detach_notify(struct wg_gw *gw, struct wg_gw_sess *ss, uint32_t reason, bool logic, bool control)
{
	Wg__SessionDetach d = WG__SESSION_DETACH__INIT;
	uint32_t seen[WG_GW_MAX_SERVICES];
	unsigned int i, j, n = 0;
	uint32_t c;

	d.reason = (Wg__DetachReason)reason;
	if (logic && ss->player_id != 0)
		for (i = 0; i < gw->conf->n_services; i++) {
			uint32_t s = ss->route[i];

			if (s == WG_GW_ROUTE_NONE)
				continue;
			for (j = 0; j < n && seen[j] != s; j++)
				;
			if (j < n)
				continue;
			seen[n++] = s;
			sys_send(gw, s, WG_MSG_SESSION_DETACH, ss->id, &d.base);
		}
	if (control && (c = control_slot(gw)) != CONTROL_NONE)
		sys_send(gw, c, WG_MSG_SESSION_DETACH, ss->id, &d.base);
}

static void
sess_free(struct wg_gw *gw, struct wg_gw_sess *ss)
{
	uint32_t idx = (uint32_t)(ss - gw->sess);

	while (ss->replay_head != WG_GW_NO_ENTRY)
		replay_pop(gw, ss);
	ss->state = WG_GW_FREE;
	ss->stream = NULL;
	ss->id = 0;
	ss->gen++;
	ss->free_next = gw->free_head;
	gw->free_head = idx;
	gw->st.sessions--;
}

/* Close the client's connection after what is queued (a Kick, an Error). */
static void
hang_up(struct wg_gw *gw, struct wg_gw_sess *ss, uint16_t ws_code)
{
	struct wg_stream *s = ss->stream;

	(void)gw;
	ss->flags |= WG_GWF_CLOSING;
	if (s != NULL)
		wg_stream_msg_end(s, ws_code);
}

static void
kick(struct wg_gw *gw, struct wg_gw_sess *ss, uint32_t code, const char *reason)
{
	Wg__Kick k = WG__KICK__INIT;

	k.code = (Wg__KickCode)code;
	k.reason = (char *)(uintptr_t)reason;
	say(gw, ss, WG__MSG_TYPE__KICK, 0, &k.base);
	gw->st.kicked++;
	hang_up(gw, ss, 1000);
	/* the session ends with its connection: no resume after a kick */
	ss->deadline_ms = 0;
}

struct wg_gw_sess *
wg_gw_open(struct wg_gw *gw, struct wg_stream *s, uint32_t peer_ip, uint16_t peer_port,
	   uint16_t listener_port, uint32_t transport)
{
	struct wg_gw_sess *ss;
	uint32_t idx = gw->free_head;

	(void)listener_port;
	(void)transport;
	if (idx == WG_GW_NO_ENTRY) {
		gw->st.sess_full++;
		return NULL;
	}
	ss = &gw->sess[idx];
	gw->free_head = ss->free_next;
	ss->id = sess_id(gw, idx, ss->gen);
	ss->player_id = 0;
	ss->stream = s;
	ss->state = WG_GW_NEW;
	ss->flags = 0;
	ss->deadline_ms = gw->now_ms + gw->conf->login_timeout_ms;
	ss->last_rx_ms = gw->now_ms;
	ss->rx_seq = ss->tx_seq = 0;
	ss->replay_head = ss->replay_tail = WG_GW_NO_ENTRY;
	ss->replay_n = 0;
	ss->tokens = gw->conf->msg_burst * 1000u;
	ss->refill_ms = gw->now_ms;
	ss->violations = 0;
	ss->resume_of = 0;
	ss->peer_ip = peer_ip;
	ss->peer_port = peer_port;
	memset(ss->route, WG_GW_ROUTE_NONE, sizeof(ss->route));
	memset(ss->resume_token, 0, sizeof(ss->resume_token));
	gw->st.sessions++;
	gw->st.opened++;
	return ss;
}

void
wg_gw_closed(struct wg_gw *gw, struct wg_gw_sess *ss, int reason)
{
	ss->stream = NULL;
	switch (ss->state) {
	case WG_GW_ACTIVE:
		if (!(ss->flags & WG_GWF_CLOSING) && gw->conf->resume_window_ms > 0) {
			ss->state = WG_GW_DETACHED;
			ss->deadline_ms = gw->now_ms + gw->conf->resume_window_ms;
			gw->st.detached++;
			detach_notify(gw, ss,
				      reason == 0 ? WG__DETACH_REASON__DETACH_REASON_CLOSED :
						    WG__DETACH_REASON__DETACH_REASON_RESET,
				      false, true);
			return;
		}
		detach_notify(gw, ss, (ss->flags & WG_GWF_LOGOUT) ?
					      WG__DETACH_REASON__DETACH_REASON_LOGOUT :
					      WG__DETACH_REASON__DETACH_REASON_KICKED, true, true);
		break;
	case WG_GW_LOGIN:
		/* control may bind it still (the bind then finds no session):
		 * nothing here to resume */
		detach_notify(gw, ss, WG__DETACH_REASON__DETACH_REASON_EXPIRED, false, true);
		break;
	default:
		break;
	}
	sess_free(gw, ss);
}

/* ------------------------------------------------------------ input */

/* The client's seq counts as received (acknowledged in what we send). */
static inline void
take_seq(struct wg_gw_sess *ss, const struct wg_envelope *env)
{
	if (env->seq != 0 && (int32_t)(env->seq - ss->rx_seq) > 0)
		ss->rx_seq = env->seq;
}

static void
say_unavailable(struct wg_gw *gw, struct wg_gw_sess *ss, const struct wg_envelope *ref,
		const char *text)
{
	Wg__Error e = WG__ERROR__INIT;

	gw->st.unavailable++;
	e.code = WG__ERROR_CODE__SERVICE_UNAVAILABLE;
	e.ref_msg_id = ref->msg_id;
	e.ref_type = ref->type;
	e.text = (char *)(uintptr_t)text;
	e.retry_after_ms = 1000;
	gw->st.errors_sent++;
	say(gw, ss, WG__MSG_TYPE__ERROR, ref->msg_id, &e.base);
}

/* Token bucket: true if the message may pass. */
static bool
rate_ok(struct wg_gw *gw, struct wg_gw_sess *ss)
{
	const struct wg_gw_conf *c = gw->conf;
	uint64_t el = gw->now_ms - ss->refill_ms;
	uint64_t t;

	if (c->msg_rate == 0)
		return true;
	if (el > 0) {
		t = ss->tokens + el * c->msg_rate;
		ss->tokens = (uint32_t)RTE_MIN(t, (uint64_t)c->msg_burst * 1000u);
		ss->refill_ms = gw->now_ms;
	}
	if (ss->tokens >= 1000) {
		ss->tokens -= 1000;
		ss->flags &= (uint8_t)~WG_GWF_LIMITED;
		return true;
	}
	return false;
}

/* A bad or refused message; too many in a row end the session. */
static int
violation(struct wg_gw *gw, struct wg_gw_sess *ss, uint32_t kick_code, const char *why)
{
	if (++ss->violations < gw->conf->max_violations)
		return 0;
	kick(gw, ss, kick_code, why);
	return -EPROTO;
}

/* Forward a client message (already in m) to control. */
static int
to_control(struct wg_gw *gw, struct wg_gw_sess *ss, struct rte_mbuf *m,
	   const struct wg_envelope *env)
{
	Wg__SessionOpen o = WG__SESSION_OPEN__INIT;
	uint32_t c = control_slot(gw);
	struct wg_stream_peer peer;

	if (c == CONTROL_NONE) {
		rte_pktmbuf_free(m);
		gw->st.unavailable++;
		say_error(gw, ss, WG__ERROR_CODE__SERVICE_UNAVAILABLE, env,
			  "login service unavailable");
		return -ENOTCONN;
	}
	if (ss->stream != NULL && wg_stream_peer(ss->stream, &peer) == 0) {
		o.peer_ip = peer.ip;
		o.peer_port = peer.port;
		o.listener_port = peer.listener_port;
		o.transport = (Wg__Transport)peer.transport;
	}
	o.text = (ss->flags & WG_GWF_TEXT) != 0;
	sys_send(gw, c, WG_MSG_SESSION_OPEN, ss->id, &o.base);
	if (to_slot(gw, c, m) != 0) {
		say_error(gw, ss, WG__ERROR_CODE__SERVICE_UNAVAILABLE, env, "login service busy");
		return -ENOBUFS;
	}
	ss->state = WG_GW_LOGIN;
	ss->deadline_ms = gw->now_ms + gw->conf->login_timeout_ms;
	return 0;
}

static void
heartbeat(struct wg_gw *gw, struct wg_gw_sess *ss, const struct wg_envelope *env)
{
	Wg__HeartbeatAck a = WG__HEARTBEAT_ACK__INIT;
	Wg__Heartbeat *h;

	gw->scratch_used = 0;
	h = wg__heartbeat__unpack(&gw->alloc, env->payload_len, env->payload);
	if (h != NULL)
		a.client_time_ms = h->client_time_ms;
	a.server_time_ms = wall_ms();
	gw->st.heartbeats++;
	say(gw, ss, WG__MSG_TYPE__HEARTBEAT_ACK, env->msg_id, &a.base);
}

/* RESUME names the session it wants: kept until control answers. */
static int
resume_req(struct wg_gw *gw, struct wg_gw_sess *ss, const struct wg_envelope *env)
{
	Wg__Resume *r;

	gw->scratch_used = 0;
	r = wg__resume__unpack(&gw->alloc, env->payload_len, env->payload);
	if (r == NULL || r->session_id == 0)
		return -EBADMSG;
	ss->resume_of = r->session_id;
	ss->resume_last = r->last_seq;
	ss->flags |= WG_GWF_RESUMING;
	return 0;
}

int
wg_gw_input(struct wg_gw *gw, struct wg_gw_sess *ss, bool text, const uint8_t *data, uint32_t len)
{
	const size_t room = gw->conf->max_message;
	struct wg_envelope env;
	struct rte_mbuf *m;
	uint8_t *p;
	uint32_t svc, slot;
	int n;

	if (ss->flags & WG_GWF_CLOSING)
		return 0;
	ss->last_rx_ms = gw->now_ms;
	if (text)
		ss->flags |= WG_GWF_TEXT;
	else
		ss->flags &= (uint8_t)~WG_GWF_TEXT;
	if (!text && len > room) {
		gw->st.too_big++;
		say_error(gw, ss, WG__ERROR_CODE__TOO_BIG, NULL, "message over the size limit");
		return violation(gw, ss, WG__KICK_CODE__PROTOCOL_VIOLATION, "messages too big");
	}
	m = rte_pktmbuf_alloc(gw->msg_pool);
	if (m == NULL) {
		gw->st.nobufs++;
		say_error(gw, ss, WG__ERROR_CODE__INTERNAL, NULL, "gateway busy");
		return 0;
	}
	p = rte_pktmbuf_mtod(m, uint8_t *) + sizeof(struct wg_msg_hdr);
	if (text) {
		n = wg_msgjson_to_pb(&gw->json, data, len, p,
				     RTE_MIN(room, (size_t)rte_pktmbuf_tailroom(m) -
						   sizeof(struct wg_msg_hdr)), &env);
		if (n < 0) {
			rte_pktmbuf_free(m);
			if (n == -ENOSPC || n == -E2BIG) {
				gw->st.too_big++;
			} else {
				gw->st.bad_msgs++;
			}
			say_error(gw, ss, wg_msgjson_error_code(n), NULL, wg_msgjson_error(&gw->json));
			return violation(gw, ss, WG__KICK_CODE__PROTOCOL_VIOLATION,
					 "malformed messages");
		}
	} else {
		if (wg_envelope_decode(&env, data, len) != 0 || env.type == 0) {
			rte_pktmbuf_free(m);
			gw->st.bad_msgs++;
			say_error(gw, ss, WG__ERROR_CODE__BAD_MESSAGE, NULL, "not an Envelope");
			return violation(gw, ss, WG__KICK_CODE__PROTOCOL_VIOLATION,
					 "malformed messages");
		}
		memcpy(p, data, len);
		/* the view must point at the copy: data is the stream's */
		if (env.payload != NULL)
			env.payload = p + (env.payload - data);
		n = (int)len;
	}
	wg_msg_hdr_fill(rte_pktmbuf_mtod(m, struct wg_msg_hdr *), env.type, ss->id, (uint32_t)n,
			0, gw->src, env.seq);
	rte_pktmbuf_data_len(m) = (uint16_t)(sizeof(struct wg_msg_hdr) + (uint32_t)n);
	rte_pktmbuf_pkt_len(m) = rte_pktmbuf_data_len(m);

	if (!rate_ok(gw, ss)) {
		rte_pktmbuf_free(m);
		gw->st.rate_limited++;
		if (!(ss->flags & WG_GWF_LIMITED)) {
			ss->flags |= WG_GWF_LIMITED;
			say_error(gw, ss, WG__ERROR_CODE__RATE_LIMITED, &env, "slow down");
		}
		return violation(gw, ss, WG__KICK_CODE__FLOOD, "message flood");
	}
	gw->st.msgs_in++;
	if (env.ack != 0)
		replay_ack(gw, ss, env.ack);

	switch (env.type) {
	case WG__MSG_TYPE__HEARTBEAT:
		heartbeat(gw, ss, &env);
		goto consumed;
	case WG__MSG_TYPE__ACK:
		goto consumed;
	case WG__MSG_TYPE__LOGIN:
	case WG__MSG_TYPE__RESUME:
		if (ss->state != WG_GW_NEW) {
			say_error(gw, ss, WG__ERROR_CODE__ALREADY_LOGGED_IN, &env,
				  ss->state == WG_GW_LOGIN ? "login in progress" : "logged in");
			goto consumed;
		}
		ss->flags &= (uint8_t)~WG_GWF_RESUMING;
		if (env.type == WG__MSG_TYPE__RESUME && resume_req(gw, ss, &env) != 0) {
			gw->st.bad_msgs++;
			say_error(gw, ss, WG__ERROR_CODE__BAD_MESSAGE, &env, "bad Resume");
			rte_pktmbuf_free(m);
			return violation(gw, ss, WG__KICK_CODE__PROTOCOL_VIOLATION, "bad resume");
		}
		ss->violations = 0;
		if (to_control(gw, ss, m, &env) == 0)
			take_seq(ss, &env);
		return 0;
	case WG__MSG_TYPE__LOGOUT:
		if (ss->state != WG_GW_ACTIVE)
			break;
		rte_pktmbuf_free(m);
		ss->flags |= WG_GWF_LOGOUT;
		kick(gw, ss, WG__KICK_CODE__LOGGED_OUT, "logged out");
		return 0;
	default:
		break;
	}
	if (ss->state != WG_GW_ACTIVE) {
		rte_pktmbuf_free(m);
		gw->st.not_logged_in++;
		say_error(gw, ss, WG__ERROR_CODE__NOT_LOGGED_IN, &env, "log in first");
		return violation(gw, ss, WG__KICK_CODE__PROTOCOL_VIOLATION, "not logged in");
	}
	svc = gw->conf->type_service[env.type & 0xffff];
	if (env.type > 0xffff || svc == WG_GW_ROUTE_NONE) {
		rte_pktmbuf_free(m);
		gw->st.unknown_type++;
		say_error(gw, ss, WG__ERROR_CODE__UNKNOWN_TYPE, &env, "no service for this type");
		return violation(gw, ss, WG__KICK_CODE__PROTOCOL_VIOLATION, "unknown types");
	}
	slot = ss->route[svc];
	if (slot == WG_GW_ROUTE_NONE || !slot_alive(gw, slot)) {
		rte_pktmbuf_free(m);
		say_unavailable(gw, ss, &env, "service instance unavailable");
		return 0;
	}
	ss->violations = 0;
	if (to_slot(gw, slot, m) != 0) {
		/* not taken: the client must send it again, so its seq is
		 * not counted as received */
		say_unavailable(gw, ss, &env, "service instance busy");
		return 0;
	}
	gw->st.msgs_routed++;
	take_seq(ss, &env);
	return 0;
consumed:
	ss->violations = 0;
	take_seq(ss, &env);
	rte_pktmbuf_free(m);
	return 0;
}

/* ------------------------------------------------------------ from rings */

static void
attach_routes(struct wg_gw *gw, struct wg_gw_sess *ss, const uint8_t *old, const char *name,
	      bool resumed, bool all)
{
	Wg__SessionAttach a = WG__SESSION_ATTACH__INIT;
	Wg__SessionDetach d = WG__SESSION_DETACH__INIT;
	uint32_t sent[WG_GW_MAX_SERVICES], gone[WG_GW_MAX_SERVICES];
	unsigned int i, j, ns = 0, ng = 0;

	a.player_id = ss->player_id;
	a.name = (char *)(uintptr_t)(name != NULL ? name : "");
	a.resumed = resumed;
	d.reason = WG__DETACH_REASON__DETACH_REASON_REROUTED;
	for (i = 0; i < gw->conf->n_services; i++) {
		uint32_t s = ss->route[i], o = old != NULL ? old[i] : WG_GW_ROUTE_NONE;

		if (s == o && !all)
			continue;
		if (s != WG_GW_ROUTE_NONE) {
			for (j = 0; j < ns && sent[j] != s; j++)
				;
			if (j == ns) {
				sent[ns++] = s;
				sys_send(gw, s, WG_MSG_SESSION_ATTACH, ss->id, &a.base);
			}
		}
		if (o != WG_GW_ROUTE_NONE && o != s) {
			for (j = 0; j < ng && gone[j] != o; j++)
				;
			if (j == ng)
				gone[ng++] = o;
		}
	}
	/* an instance that lost every service of this session forgets it */
	for (j = 0; j < ng; j++) {
		for (i = 0; i < gw->conf->n_services && ss->route[i] != gone[j]; i++)
			;
		if (i == gw->conf->n_services)
			sys_send(gw, gone[j], WG_MSG_SESSION_DETACH, ss->id, &d.base);
	}
}

static void
set_routes(struct wg_gw *gw, struct wg_gw_sess *ss, const Wg__SessionBind *b)
{
	size_t i;

	for (i = 0; i < b->n_routes; i++)
		if (b->routes[i]->service < gw->conf->n_services &&
		    b->routes[i]->slot < gw->reg->n_slots)
			ss->route[b->routes[i]->service] = (uint8_t)b->routes[i]->slot;
}

/* RESUME accepted by control: the new connection (ss) takes over the old
 * session, which replays what the client has not seen. */
static void
resume_bound(struct wg_gw *gw, struct wg_gw_sess *ss, const Wg__SessionBind *b)
{
	Wg__ResumeAck ra = WG__RESUME_ACK__INIT;
	struct wg_gw_sess *old = sess_find(gw, ss->resume_of);
	uint8_t before[WG_GW_MAX_SERVICES];
	struct wg_stream *s = ss->stream;
	uint32_t e, last = ss->resume_last;
	struct wg_envelope env;

	ss->flags &= (uint8_t)~WG_GWF_RESUMING;
	if (old == NULL || (old->state != WG_GW_DETACHED && old->state != WG_GW_ACTIVE) ||
	    (old->flags & WG_GWF_CLOSING) || s == NULL) {
		/* a kicked or logged-out session is over, even while its
		 * connection is still being closed */
		gw->st.resume_failed++;
		ss->state = WG_GW_NEW;
		say_error(gw, ss, WG__ERROR_CODE__RESUME_FAILED, NULL, "session not found here");
		return;
	}
	replay_ack(gw, old, last);
	if ((old->flags & WG_GWF_REPLAY_LOST) &&
	    (old->replay_head == WG_GW_NO_ENTRY ? old->tx_seq : gw->rp_seq[old->replay_head] - 1) !=
		    last) {
		/* messages the client never saw are gone: it must log in again */
		gw->st.resume_failed++;
		ss->state = WG_GW_NEW;
		say_error(gw, ss, WG__ERROR_CODE__RESUME_FAILED, NULL, "messages lost");
		old->deadline_ms = gw->now_ms;  /* expires on the next sweep */
		return;
	}
	if (old->stream != NULL) {
		/* still connected as far as we know (half-open): that
		 * connection no longer speaks for the session */
		wg_stream_gw_set(old->stream, NULL);
		wg_stream_msg_end(old->stream, 1000);
	}
	/* the new connection carries the old session from here */
	old->stream = s;
	old->state = WG_GW_ACTIVE;
	old->flags = (uint8_t)((old->flags & ~WG_GWF_TEXT) | (ss->flags & WG_GWF_TEXT));
	old->flags &= (uint8_t)~WG_GWF_REPLAY_LOST;
	old->last_rx_ms = gw->now_ms;
	old->violations = 0;
	wg_stream_gw_set(s, old);
	ss->stream = NULL;
	ss->state = WG_GW_NEW;
	sess_free(gw, ss);
	memcpy(before, old->route, sizeof(before));
	set_routes(gw, old, b);
	attach_routes(gw, old, before, b->name, true, false);
	gw->st.resumes++;
	/* what follows is what the list holds: one frame each */
	ra.replayed = old->replay_n;
	ra.last_seq = old->rx_seq;
	ra.resume_token = b->resume_token;
	if (b->resume_token.len == sizeof(old->resume_token))
		memcpy(old->resume_token, b->resume_token.data, sizeof(old->resume_token));
	ra.heartbeat_ms = gw->conf->heartbeat_ms;
	ra.server_time_ms = wall_ms();
	say(gw, old, WG__MSG_TYPE__RESUME_ACK, 0, &ra.base);
	for (e = old->replay_head; e != WG_GW_NO_ENTRY; e = gw->rp_next[e]) {
		if (ring_env(gw->rp_m[e], &env) != 0)
			continue;
		env.seq = gw->rp_seq[e];
		env.ack = old->rx_seq;
		/* at most replay_max messages: a long list must not look like
		 * a client that does not read */
		(void)write_env(gw, old, &env, WG_STREAM_OUT_REPLAY);
		gw->st.replayed++;
	}
}

static void
bind(struct wg_gw *gw, struct wg_gw_sess *ss, struct rte_mbuf *m, bool route_only)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	uint8_t before[WG_GW_MAX_SERVICES];
	Wg__SessionBind *b;

	gw->scratch_used = 0;
	b = wg__session_bind__unpack(&gw->alloc, h->len, wg_msg_payload(m));
	if (b == NULL) {
		gw->st.bad_msgs++;
		return;
	}
	if (route_only) {
		if (ss->state != WG_GW_ACTIVE && ss->state != WG_GW_DETACHED)
			return;
		memcpy(before, ss->route, sizeof(before));
		set_routes(gw, ss, b);
		/* an instance restarted in the same registry slot forgot the
		 * session: every route is attached again, not only new ones
		 * (logic takes a repeated attach as a refresh) */
		attach_routes(gw, ss, before, b->name, true, true);
		return;
	}
	if (ss->state != WG_GW_LOGIN) {
		gw->st.no_session++;
		return;
	}
	if (b->resumed) {
		if (!(ss->flags & WG_GWF_RESUMING)) {
			gw->st.bad_msgs++;
			return;
		}
		resume_bound(gw, ss, b);
		return;
	}
	ss->player_id = b->player_id;
	if (b->resume_token.len == sizeof(ss->resume_token))
		memcpy(ss->resume_token, b->resume_token.data, sizeof(ss->resume_token));
	ss->state = WG_GW_ACTIVE;
	ss->last_rx_ms = gw->now_ms;
	set_routes(gw, ss, b);
	attach_routes(gw, ss, NULL, b->name, false, false);
	gw->st.logins++;
}

static void
kick_req(struct wg_gw *gw, struct wg_gw_sess *ss, struct rte_mbuf *m)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	Wg__KickReq *k;

	gw->scratch_used = 0;
	k = wg__kick_req__unpack(&gw->alloc, h->len, wg_msg_payload(m));
	if (k == NULL) {
		gw->st.bad_msgs++;
		return;
	}
	if (ss->state == WG_GW_DETACHED) {
		detach_notify(gw, ss, WG__DETACH_REASON__DETACH_REASON_KICKED, true, false);
		sess_free(gw, ss);
		gw->st.kicked++;
		return;
	}
	kick(gw, ss, k->code, k->reason);
}

/* Control writes to any session; a logic instance only to the logged-in
 * sessions routed to it, so one instance cannot speak for another or
 * impersonate the login service. */
static bool
may_write(struct wg_gw *gw, const struct wg_gw_sess *ss, unsigned int slot)
{
	unsigned int i;

	if (slot == control_slot(gw))
		return true;
	if (ss->state != WG_GW_ACTIVE && ss->state != WG_GW_DETACHED)
		return false;
	for (i = 0; i < gw->conf->n_services; i++)
		if (ss->route[i] == slot)
			return true;
	return false;
}

/* Multicast: the Envelope, then padding to 8 bytes, then the session ids. */
static void
multicast(struct wg_gw *gw, unsigned int slot, struct rte_mbuf *m, struct wg_envelope *env)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	uint32_t off = (uint32_t)RTE_ALIGN_CEIL(sizeof(*h) + h->len, 8);
	uint32_t end = rte_pktmbuf_data_len(m);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	struct wg_envelope e;

	gw->st.multicasts++;
	for (; off + 8 <= end; off += 8) {
		struct wg_gw_sess *ss;
		uint64_t id;

		memcpy(&id, p + off, 8);
		id = rte_le_to_cpu_64(id);
		ss = sess_find(gw, id);
		if (ss == NULL) {
			gw->st.no_session++;
			continue;
		}
		if (!may_write(gw, ss, slot)) {
			gw->st.foreign++;
			continue;
		}
		e = *env;
		deliver(gw, ss, m, &e);
	}
}

void
wg_gw_ring_msg(struct wg_gw *gw, unsigned int slot, struct rte_mbuf *m)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	struct wg_gw_sess *ss;
	struct wg_envelope env;

	if (h->msg_type >= WG_MSG_CLIENT_FIRST) {
		/* wg_msg_check validated the layout; the Envelope itself is
		 * the sender's and decoded like any client's */
		if (ring_env(m, &env) != 0 || env.type != h->msg_type) {
			gw->st.bad_msgs++;
			goto out;
		}
		if (h->flags & WG_MSG_F_MULTICAST) {
			multicast(gw, slot, m, &env);
			goto out;
		}
		ss = sess_find(gw, h->session_id);
		if (ss == NULL) {
			gw->st.no_session++;
			goto out;
		}
		if (!may_write(gw, ss, slot)) {
			gw->st.foreign++;
			goto out;
		}
		if (ss->state == WG_GW_LOGIN && slot == gw->control &&
		    env.type == WG__MSG_TYPE__ERROR) {
			/* control refused the login or resume: another try */
			ss->state = WG_GW_NEW;
			ss->flags &= (uint8_t)~WG_GWF_RESUMING;
			ss->deadline_ms = gw->now_ms + gw->conf->login_timeout_ms;
		}
		deliver(gw, ss, m, &env);
		goto out;
	}
	/* session control is control's alone, not any instance's */
	if (slot != control_slot(gw)) {
		gw->st.bad_msgs++;
		goto out;
	}
	if (h->msg_type == WG_MSG_SESSION_SYNC) {
		/* a (re)started control rebuilds its table from ours */
		gw->sync_slot = slot;
		gw->sync_next = 0;
		goto out;
	}
	ss = sess_find(gw, h->session_id);
	if (ss == NULL) {
		gw->st.no_session++;
		goto out;
	}
	switch (h->msg_type) {
	case WG_MSG_SESSION_BIND:
		bind(gw, ss, m, false);
		break;
	case WG_MSG_ROUTE_UPDATE:
		bind(gw, ss, m, true);
		break;
	case WG_MSG_SESSION_KICK:
		kick_req(gw, ss, m);
		break;
	default:
		gw->st.bad_msgs++;
		break;
	}
out:
	rte_pktmbuf_free(m);
}

/* ------------------------------------------------------------ timeouts */

static unsigned int
check(struct wg_gw *gw, struct wg_gw_sess *ss)
{
	const struct wg_gw_conf *c = gw->conf;

	switch (ss->state) {
	case WG_GW_NEW:
	case WG_GW_LOGIN:
		if (gw->now_ms < ss->deadline_ms || (ss->flags & WG_GWF_CLOSING))
			return 0;
		gw->st.login_timeouts++;
		say_error(gw, ss, WG__ERROR_CODE__NOT_LOGGED_IN, NULL, "login timeout");
		hang_up(gw, ss, 1008);
		return 1;
	case WG_GW_ACTIVE:
		if (c->idle_timeout_ms == 0 || (ss->flags & WG_GWF_CLOSING) ||
		    gw->now_ms - ss->last_rx_ms < c->idle_timeout_ms)
			return 0;
		gw->st.idle_kicks++;
		kick(gw, ss, WG__KICK_CODE__IDLE_TIMEOUT, "no heartbeat");
		return 1;
	case WG_GW_DETACHED:
		if (gw->now_ms < ss->deadline_ms)
			return 0;
		gw->st.expired++;
		detach_notify(gw, ss, WG__DETACH_REASON__DETACH_REASON_EXPIRED, true, true);
		sess_free(gw, ss);
		return 1;
	default:
		return 0;
	}
}

/* Report logged-in sessions to control, as fast as its ring takes them. */
static unsigned int
sync_step(struct wg_gw *gw)
{
	Wg__Route r[WG_GW_MAX_SERVICES], *rp[WG_GW_MAX_SERVICES];
	Wg__SessionState st = WG__SESSION_STATE__INIT;
	struct rte_ring *ring = gw->to_inst[gw->sync_slot];
	unsigned int work = 0, i;

	if (!slot_alive(gw, gw->sync_slot)) {
		gw->sync_slot = CONTROL_NONE;
		return 0;
	}
	for (; gw->sync_next < gw->conf->max_sessions; gw->sync_next++) {
		struct wg_gw_sess *ss = &gw->sess[gw->sync_next];

		if (ss->state != WG_GW_ACTIVE && ss->state != WG_GW_DETACHED)
			continue;
		/* leave room for the traffic the ring carries anyway */
		if (rte_ring_free_count(ring) < rte_ring_get_capacity(ring) / 2)
			return work;
		wg__session_state__init(&st);
		st.player_id = ss->player_id;
		st.n_routes = 0;
		for (i = 0; i < gw->conf->n_services; i++) {
			if (ss->route[i] == WG_GW_ROUTE_NONE)
				continue;
			wg__route__init(&r[st.n_routes]);
			r[st.n_routes].service = i;
			r[st.n_routes].slot = ss->route[i];
			rp[st.n_routes] = &r[st.n_routes];
			st.n_routes++;
		}
		st.routes = rp;
		st.resume_token.data = ss->resume_token;
		st.resume_token.len = sizeof(ss->resume_token);
		st.detached = ss->state == WG_GW_DETACHED;
		st.peer_ip = ss->peer_ip;
		st.peer_port = ss->peer_port;
		sys_send(gw, gw->sync_slot, WG_MSG_SESSION_STATE, ss->id, &st.base);
		gw->st.synced++;
		work++;
	}
	sys_send(gw, gw->sync_slot, WG_MSG_SESSION_SYNC, 0, NULL);
	gw->sync_slot = CONTROL_NONE;
	return work + 1;
}

unsigned int
wg_gw_tick(struct wg_gw *gw, uint64_t now_ms)
{
	uint32_t i, n = RTE_MIN((uint32_t)SWEEP_PER_TICK, gw->conf->max_sessions);
	unsigned int work = 0;

	gw->now_ms = now_ms;
	if (gw->sync_slot != CONTROL_NONE)
		work += sync_step(gw);
	if (gw->st.sessions == 0)
		return work;
	for (i = 0; i < n; i++) {
		work += check(gw, &gw->sess[gw->sweep]);
		if (++gw->sweep == gw->conf->max_sessions)
			gw->sweep = 0;
	}
	return work;
}

/* ------------------------------------------------------------ set-up */

void
wg_gw_conf_defaults(struct wg_gw_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->max_sessions = 16384;
	c->max_message = 4000;
	c->heartbeat_ms = 10000;
	c->idle_timeout_ms = 30000;
	c->login_timeout_ms = 10000;
	c->resume_window_ms = 30000;
	c->replay_max = 256;
	c->replay_budget = 1000;
	c->msg_rate = 50;
	c->msg_burst = 100;
	c->max_violations = 20;
	memset(c->type_service, WG_GW_ROUTE_NONE, sizeof(c->type_service));
}

struct wg_gw *
wg_gw_create(const struct wg_gw_params *p)
{
	const struct wg_gw_conf *c = p->conf;
	struct wg_gw *gw;
	uint32_t i;

	gw = rte_zmalloc_socket(p->name, sizeof(*gw), RTE_CACHE_LINE_SIZE, p->socket);
	if (gw == NULL)
		goto nomem;
	gw->conf = c;
	gw->worker = p->worker;
	gw->src = (uint16_t)(WG_MSG_SRC_DP | p->worker);
	gw->control = CONTROL_NONE;
	gw->sync_slot = CONTROL_NONE;
	gw->msg_pool = p->msg_pool;
	gw->reg = p->reg;
	gw->to_inst = p->to_inst;
	gw->sess = rte_zmalloc_socket(p->name, (size_t)c->max_sessions * sizeof(*gw->sess),
				      RTE_CACHE_LINE_SIZE, p->socket);
	gw->rp_m = rte_zmalloc_socket(p->name, (size_t)c->replay_budget * sizeof(*gw->rp_m), 0,
				      p->socket);
	gw->rp_seq = rte_zmalloc_socket(p->name, (size_t)c->replay_budget * 4, 0, p->socket);
	gw->rp_next = rte_zmalloc_socket(p->name, (size_t)c->replay_budget * 4, 0, p->socket);
	gw->scratch = rte_malloc_socket(p->name, SCRATCH_BYTES, 8, p->socket);
	gw->json_scratch = rte_malloc_socket(p->name, SCRATCH_BYTES, 8, p->socket);
	gw->json_out = rte_malloc_socket(p->name, JSON_OUT_BYTES, 8, p->socket);
	if (gw->sess == NULL || (c->replay_budget > 0 && (gw->rp_m == NULL ||
	    gw->rp_seq == NULL || gw->rp_next == NULL)) || gw->scratch == NULL ||
	    gw->json_scratch == NULL || gw->json_out == NULL)
		goto nomem;
	if (wg_msgjson_init(&gw->json, gw->json_scratch, SCRATCH_BYTES, 0) != 0)
		goto nomem;
	gw->alloc.alloc = bump_alloc;
	gw->alloc.free = bump_free;
	gw->alloc.allocator_data = gw;
	gw->free_head = WG_GW_NO_ENTRY;
	for (i = c->max_sessions; i-- > 0;) {
		gw->sess[i].free_next = gw->free_head;
		gw->sess[i].gen = 1;
		gw->free_head = i;
	}
	gw->rp_free = WG_GW_NO_ENTRY;
	for (i = c->replay_budget; i-- > 0;) {
		gw->rp_next[i] = gw->rp_free;
		gw->rp_free = i;
	}
	return gw;
nomem:
	wg_gw_free(gw);
	rte_errno = ENOMEM;
	return NULL;
}

void
wg_gw_free(struct wg_gw *gw)
{
	uint32_t i;

	if (gw == NULL)
		return;
	if (gw->rp_m != NULL)
		for (i = 0; i < gw->conf->replay_budget; i++)
			rte_pktmbuf_free(gw->rp_m[i]);
	rte_free(gw->sess);
	rte_free(gw->rp_m);
	rte_free(gw->rp_seq);
	rte_free(gw->rp_next);
	rte_free(gw->scratch);
	rte_free(gw->json_scratch);
	rte_free(gw->json_out);
	rte_free(gw);
}

const struct wg_gw_stats *
wg_gw_stats(const struct wg_gw *gw)
{
	return &gw->st;
}

static const char *const stat_names[] = {
	"sessions", "opened", "logins", "resumes", "resume_failed", "detached", "expired",
	"kicked", "msgs_in", "msgs_routed", "msgs_out", "multicasts", "heartbeats",
	"errors_sent", "bad_msgs", "unknown_type", "not_logged_in", "rate_limited", "too_big",
	"unavailable", "no_session", "ring_full", "nobufs", "replay_dropped", "replayed",
	"login_timeouts", "idle_kicks", "sess_full", "synced", "foreign",
};
_Static_assert(RTE_DIM(stat_names) * sizeof(uint64_t) == sizeof(struct wg_gw_stats),
	       "a name for every counter");

unsigned int
wg_gw_stats_list(const struct wg_gw_stats *st, const char **names, uint64_t *values,
		 unsigned int max)
{
	return wg_stat_list(stat_names, RTE_DIM(stat_names), st, names, values, max);
}
