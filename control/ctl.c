/* SPDX-License-Identifier: BSD-3-Clause
 * control: logins, resumes, the session table and routes
 * (docs/message-plane.md).
 *
 * The dataplane sends SESSION_OPEN and the client's LOGIN or RESUME
 * Envelope; control checks the token, takes over a previous session of the
 * same player (kick), picks one logic instance per service (sticky, by the
 * service's strategy) and answers SESSION_BIND (+ LOGIN_ACK to the client).
 * After that the dataplane routes on its own; control hears only about
 * detaches and re-routes sessions when an instance dies or comes back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "account.h"
#include "conf-t.h"
#include "conf.h"
#include "ctl.h"
#include "envelope.h"
#include "instance.h"
#include "lb.h"
#include "log.h"
#include "msgring.h"
#include "ratelimit.h"
#include "registry.h"
#include "session.h"
#include "token.h"
#include "wg_client.pb-c.h"
#include "wg_internal.pb-c.h"

RTE_LOG_REGISTER(wg_ctl_logtype, wg.control, INFO);
#define CTL_LOG(l, ...) WG_LOG(wg_ctl_logtype, l, "control", __VA_ARGS__)

#define MAX_LOGIC      WG_REG_MAX_SLOTS
#define EXPIRE_BATCH   256
#define NO_SLOT        UINT32_MAX

struct ctl_stats {
	uint64_t logins;
	uint64_t login_refused;
	uint64_t resumes;
	uint64_t resume_refused;
	uint64_t kicks;
	uint64_t reroutes;
	uint64_t detaches;
	uint64_t restored;
	uint64_t bad_msgs;
};

/* A password check in flight: the connection it answers and the request. */
struct acct_req {
	struct wg_ctl *c;
	uint64_t conn;
	uint32_t msg_id;
	bool used;
	char account[WG_SESS_ACCOUNT_MAX + 1];
};

struct wg_ctl {
	struct wg_instance *in;
	const struct wg_conf *conf;
	struct wg_token_ctx *tok;
	struct wg_sess_table *sess;
	struct wg_rl *rl;
	struct wg_account *acct;            /* NULL: no password logins */
	struct acct_req *reqs;              /* control.account_pending of them */
	struct wg_lb *lb[WG_CONF_MAX_SERVICES];
	unsigned int n_services;
	uint32_t logic_slot[MAX_LOGIC];     /* logic index -> registry slot while alive */
	uint64_t now_ms;
	uint64_t *upd;                      /* sessions owed a ROUTE_UPDATE (upd_push) */
	size_t upd_head, upd_n, upd_cap;
	bool synced;                        /* asked the workers for their sessions */
	unsigned int sync_pending;          /* workers that have not finished */
	struct ctl_stats st;
};

static uint64_t
wall_s(void)
{
	return (uint64_t)time(NULL);
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned int
conn_worker(uint64_t conn)
{
	return (unsigned int)(conn >> 56);
}

/* ------------------------------------------------------------ sending */

static struct rte_mbuf *
msg_alloc(struct wg_ctl *c, uint32_t type, uint64_t conn, size_t len, uint8_t **payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(c->in->msg_pool);

	if (m == NULL)
		return NULL;
	if (sizeof(struct wg_msg_hdr) + len > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	*payload = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(struct wg_msg_hdr) + len)) +
		   sizeof(struct wg_msg_hdr);
	wg_msg_hdr_fill(wg_msg_hdr(m), type, conn, (uint32_t)len, 0, (uint16_t)c->in->slot, 0);
	return m;
}

static void
send_sys(struct wg_ctl *c, uint32_t type, uint64_t conn, const ProtobufCMessage *pb)
{
	struct rte_mbuf *m = wg_msg_new(c->in->msg_pool, type, conn, (uint16_t)c->in->slot, 0, pb);

	if (m != NULL)
		(void)wg_instance_send(c->in, conn_worker(conn), m);
}

/* A client Envelope of type with payload pb, for the session on conn. */
static void
send_env(struct wg_ctl *c, uint64_t conn, uint32_t type, uint32_t msg_id,
	 const ProtobufCMessage *pb)
{
	struct wg_envelope env = { .type = type, .msg_id = msg_id };
	size_t plen = pb != NULL ? protobuf_c_message_get_packed_size(pb) : 0;
	uint8_t *p;
	struct rte_mbuf *m;
	int n;

	size_t len = wg_envelope_size(&env, plen);

	m = msg_alloc(c, type, conn, len, &p);
	if (m == NULL)
		return;
	n = wg_envelope_encode_hdr(&env, plen, p, len);
	if (n < 0) {
		CTL_LOG(ERR, "envelope of type %#x: %s", type, strerror(-n));
		rte_pktmbuf_free(m);
		return;
	}
	if (plen > 0)
		protobuf_c_message_pack(pb, p + n);
	(void)wg_instance_send(c->in, conn_worker(conn), m);
}

static void
send_error(struct wg_ctl *c, uint64_t conn, const struct wg_envelope *ref, uint32_t code,
	   const char *text)
{
	Wg__Error e = WG__ERROR__INIT;

	e.code = code;
	e.ref_msg_id = ref != NULL ? ref->msg_id : 0;
	e.ref_type = ref != NULL ? ref->type : 0;
	e.text = (char *)(uintptr_t)text;
	send_env(c, conn, WG__MSG_TYPE__ERROR, e.ref_msg_id, &e.base);
}

static void
send_kick(struct wg_ctl *c, uint64_t conn, uint32_t code, const char *reason)
{
	Wg__KickReq k = WG__KICK_REQ__INIT;

	k.code = code;
	k.reason = (char *)(uintptr_t)reason;
	send_sys(c, WG_MSG_SESSION_KICK, conn, &k.base);
	c->st.kicks++;
}

/* ------------------------------------------------------------ routes */

static bool
logic_alive(const struct wg_ctl *c, unsigned int k)
{
	return k < MAX_LOGIC && c->logic_slot[k] != NO_SLOT;
}

/* An instance for service svc of player: the previous one while it lives
 * (sticky), else the service's strategy among the alive ones. */
static uint16_t
pick(struct wg_ctl *c, unsigned int svc, uint64_t player, uint16_t prev)
{
	int slot;

	if (prev != WG_SESS_NO_INSTANCE && logic_alive(c, prev))
		return prev;
	slot = wg_lb_pick(c->lb[svc], player);
	if (slot < 0)
		return prev;   /* nothing alive: keep it, it may come back */
	return (uint16_t)wg_lb_backend(c->lb[svc], slot)->id;
}

static void
route(struct wg_ctl *c, struct wg_session *s, unsigned int svc, uint16_t inst)
{
	uint16_t old = s->routes[svc].inst;
	int b;

	if (old == inst)
		return;
	if (old != WG_SESS_NO_INSTANCE && (b = wg_lb_find(c->lb[svc], old)) >= 0)
		wg_lb_release(c->lb[svc], b);
	if (inst != WG_SESS_NO_INSTANCE && (b = wg_lb_find(c->lb[svc], inst)) >= 0)
		wg_lb_acquire(c->lb[svc], b);
	(void)wg_sess_route_set(c->sess, s, svc, inst);
}

/* The session's routes as the dataplane needs them: registry slots. */
static unsigned int
bind_routes(const struct wg_ctl *c, const struct wg_session *s, Wg__Route *r, Wg__Route **rp)
{
	unsigned int i, n = 0;

	for (i = 0; i < c->n_services; i++) {
		uint16_t k = s->routes[i].inst;

		if (k == WG_SESS_NO_INSTANCE || !logic_alive(c, k))
			continue;
		wg__route__init(&r[n]);
		r[n].service = i;
		r[n].slot = c->logic_slot[k];
		rp[n] = &r[n];
		n++;
	}
	return n;
}

static void
send_bind(struct wg_ctl *c, const struct wg_session *s, uint64_t to, uint32_t type, bool resumed)
{
	Wg__SessionBind b = WG__SESSION_BIND__INIT;
	Wg__Route r[WG_CONF_MAX_SERVICES], *rp[WG_CONF_MAX_SERVICES];

	b.player_id = s->player_id;
	b.n_routes = bind_routes(c, s, r, rp);
	b.routes = rp;
	b.resume_token.data = (uint8_t *)(uintptr_t)s->resume_token;
	b.resume_token.len = WG_SESS_RESUME_LEN;
	b.resumed = resumed;
	b.name = (char *)(uintptr_t)s->account;
	send_sys(c, type, to, &b.base);
}

/* ------------------------------------------------------------ login */

static uint32_t
token_error(int err)
{
	switch (-err) {
	case WG_TOKEN_EEXPIRED:
	case WG_TOKEN_ENOTYET:
		return WG__ERROR_CODE__TOKEN_EXPIRED;
	case WG_TOKEN_EREPLAY:
		return WG__ERROR_CODE__TOKEN_REPLAYED;
	case WG_TOKEN_EFULL:
		return WG__ERROR_CODE__SERVICE_UNAVAILABLE;
	default:
		return WG__ERROR_CODE__BAD_TOKEN;
	}
}

static void released(struct wg_ctl *c, const struct wg_session *s);
static void logic_changed(struct wg_ctl *c, unsigned int k);

/* Credentials checked: the session becomes the player's (a previous
 * session of the player is kicked), routes are chosen, the dataplane is
 * told (SESSION_BIND) and the client answered (LOGIN_ACK). 0, or -errno
 * after the client was told why not. */
static int
accept_login(struct wg_ctl *c, struct wg_session *s, uint32_t msg_id, uint64_t player_id,
	     const char *account)
{
	const struct wg_envelope ref = { .type = WG__MSG_TYPE__LOGIN, .msg_id = msg_id };
	Wg__LoginAck ack = WG__LOGIN_ACK__INIT;
	uint64_t conn = s->conn_id, old_conn = 0;
	struct wg_session *old;
	struct wg_sess_kick kick;
	unsigned int i;

	if (wg_rl_session_open(c->rl, s->peer_ip, c->now_ms) != 0) {
		send_error(c, conn, &ref, WG__ERROR_CODE__SESSION_LIMIT,
			   "too many sessions from this address");
		return -EUSERS;
	}
	/* the player's previous session goes: its address and instance
	 * counts are given back now (the table forgets its routes) */
	old = wg_sess_find_player(c->sess, player_id);
	if (old != NULL) {
		old_conn = old->conn_id;
		released(c, old);
	}
	if (wg_sess_activate(c->sess, s, player_id, account, c->now_ms, &kick) != 0) {
		(void)wg_rl_session_close(c->rl, s->peer_ip, c->now_ms);
		send_error(c, conn, &ref, WG__ERROR_CODE__INTERNAL, "session table");
		return -ENOSPC;
	}
	/* connected or waiting for a resume, the old session ends in the
	 * dataplane too (a detached one is still attached in logic) */
	if (old_conn != 0)
		send_kick(c, old_conn, WG__KICK_CODE__DUPLICATE_LOGIN, "logged in elsewhere");
	for (i = 0; i < c->n_services; i++)
		route(c, s, i, pick(c, i, s->player_id,
				     kick.old_state != WG_SESS_FREE ? kick.routes[i] :
								      WG_SESS_NO_INSTANCE));
	send_bind(c, s, conn, WG_MSG_SESSION_BIND, false);
	ack.session_id = conn;
	ack.player_id = s->player_id;
	ack.resume_token.data = s->resume_token;
	ack.resume_token.len = WG_SESS_RESUME_LEN;
	ack.heartbeat_ms = c->conf->gateway.heartbeat_ms;
	ack.server_time_ms = wall_ms();
	ack.resume_window_ms = c->conf->gateway.resume_window_ms;
	ack.name = s->account;
	send_env(c, conn, WG__MSG_TYPE__LOGIN_ACK, msg_id, &ack.base);
	c->st.logins++;
	CTL_LOG(DEBUG, "login: player %" PRIu64 " (%s) on %" PRIx64, s->player_id, s->account,
		conn);
	return 0;
}

/* The account backend's verdict on a password, possibly long after the
 * request: the connection may be gone or reused meanwhile. */
static void
password_checked(void *arg, int result, uint64_t player_id)
{
	struct acct_req *r = arg;
	struct wg_ctl *c = r->c;
	const struct wg_envelope ref = { .type = WG__MSG_TYPE__LOGIN, .msg_id = r->msg_id };
	struct wg_session *s = wg_sess_find(c->sess, r->conn);

	r->used = false;
	if (s == NULL || s->state != WG_SESS_LOGGING_IN)
		return;
	switch (result) {
	case 0:
		if (accept_login(c, s, r->msg_id, player_id, r->account) == 0)
			return;
		break;
	case -ENOENT:
	case -EACCES:
		send_error(c, r->conn, &ref, WG__ERROR_CODE__BAD_CREDENTIALS,
			   "wrong account or password");
		break;
	case -EAGAIN:
	case -ETIMEDOUT:
	case -ECANCELED:
		send_error(c, r->conn, &ref, WG__ERROR_CODE__SERVICE_UNAVAILABLE,
			   "account service unavailable");
		break;
	default:
		send_error(c, r->conn, &ref, WG__ERROR_CODE__INTERNAL, "account check failed");
		break;
	}
	c->st.login_refused++;
}

static void
password_login(struct wg_ctl *c, uint64_t conn, const struct wg_envelope *env,
	       const Wg__Login__Password *pw)
{
	struct acct_req *r = NULL;
	unsigned int i;
	int ret;

	if (c->acct == NULL) {
		send_error(c, conn, env, WG__ERROR_CODE__BAD_CREDENTIALS,
			   "password login not configured");
		goto refused;
	}
	for (i = 0; i < c->conf->control.account_pending && r == NULL; i++)
		if (!c->reqs[i].used)
			r = &c->reqs[i];
	if (r == NULL || pw->account == NULL || strlen(pw->account) > WG_SESS_ACCOUNT_MAX) {
		send_error(c, conn, env, r == NULL ? WG__ERROR_CODE__SERVICE_UNAVAILABLE :
						     WG__ERROR_CODE__BAD_CREDENTIALS,
			   r == NULL ? "too many logins in progress" : "bad account name");
		goto refused;
	}
	r->c = c;
	r->conn = conn;
	r->msg_id = env->msg_id;
	snprintf(r->account, sizeof(r->account), "%s", pw->account);
	r->used = true;
	ret = wg_account_verify(c->acct, pw->account, pw->password != NULL ? pw->password : "",
				pw->password != NULL ? strlen(pw->password) : 0, password_checked, r);
	if (ret == 0)
		return;
	r->used = false;
	send_error(c, conn, env, ret == -EINVAL ? WG__ERROR_CODE__BAD_CREDENTIALS :
						  WG__ERROR_CODE__SERVICE_UNAVAILABLE,
		   ret == -EINVAL ? "bad account name or password" : "account service busy");
refused:
	c->st.login_refused++;
}

static void
login(struct wg_ctl *c, uint64_t conn, const struct wg_envelope *env)
{
	struct wg_token_claims cl;
	struct wg_session *s;
	Wg__Login *l;
	int ret;

	if (c->sync_pending > 0) {
		/* the table is being rebuilt: a login now could miss the
		 * player's session from before our restart */
		send_error(c, conn, env, WG__ERROR_CODE__SERVICE_UNAVAILABLE, "control restarting");
		return;
	}
	s = wg_sess_find(c->sess, conn);
	if (s == NULL || s->state != WG_SESS_LOGGING_IN) {
		send_error(c, conn, env, WG__ERROR_CODE__INTERNAL, "no such connection");
		return;
	}
	l = wg__login__unpack(NULL, env->payload_len, env->payload);
	if (l == NULL) {
		c->st.bad_msgs++;
		send_error(c, conn, env, WG__ERROR_CODE__BAD_MESSAGE, "Login does not decode");
		return;
	}
	if (wg_rl_login(c->rl, s->peer_ip, c->now_ms) != 0) {
		send_error(c, conn, env, WG__ERROR_CODE__RATE_LIMITED, "too many logins");
		goto refused;
	}
	if (l->auth_case == WG__LOGIN__AUTH_PASSWORD && l->password != NULL) {
		password_login(c, conn, env, l->password);
		wg__login__free_unpacked(l, NULL);
		return;
	}
	if (l->auth_case != WG__LOGIN__AUTH_TOKEN || c->tok == NULL) {
		send_error(c, conn, env, WG__ERROR_CODE__BAD_CREDENTIALS,
			   "token login not configured");
		goto refused;
	}
	ret = wg_token_verify(c->tok, l->token, strlen(l->token), wall_s(), 0, &cl);
	if (ret != 0) {
		send_error(c, conn, env, token_error(ret), wg_token_strerror(ret));
		goto refused;
	}
	if (accept_login(c, s, env->msg_id, cl.player_id, cl.account) != 0)
		goto refused;
	wg__login__free_unpacked(l, NULL);
	return;
refused:
	c->st.login_refused++;
	wg__login__free_unpacked(l, NULL);
}

static void
resume(struct wg_ctl *c, uint64_t conn, const struct wg_envelope *env)
{
	struct wg_sess_kick kick;
	struct wg_session *s, *old;
	uint8_t old_ip[16] = {0};
	Wg__Resume *r;

	if (c->sync_pending > 0) {
		send_error(c, conn, env, WG__ERROR_CODE__SERVICE_UNAVAILABLE, "control restarting");
		return;
	}
	r = wg__resume__unpack(NULL, env->payload_len, env->payload);
	if (r == NULL || r->resume_token.len != WG_SESS_RESUME_LEN) {
		c->st.bad_msgs++;
		send_error(c, conn, env, WG__ERROR_CODE__RESUME_FAILED, "bad Resume");
		goto out;
	}
	if (conn_worker(r->session_id) != conn_worker(conn)) {
		/* the replay list lives on the old connection's worker */
		send_error(c, conn, env, WG__ERROR_CODE__RESUME_FAILED,
			   "session is on another worker: log in again");
		goto refused;
	}
	old = wg_sess_find(c->sess, r->session_id);
	if (old != NULL)
		memcpy(old_ip, old->peer_ip, sizeof(old_ip));
	s = wg_sess_resume(c->sess, conn, r->session_id, r->resume_token.data, c->now_ms, &kick);
	if (s == NULL) {
		send_error(c, conn, env, WG__ERROR_CODE__RESUME_FAILED,
			   errno == EACCES ? "wrong resume token" : "no such session (expired?)");
		goto refused;
	}
	/* the dataplane carries on under the old session id; the session's
	 * count moves to the address it came back from */
	(void)wg_sess_rekey(c->sess, s, r->session_id);
	if (memcmp(old_ip, s->peer_ip, sizeof(old_ip)) != 0) {
		(void)wg_rl_session_close(c->rl, old_ip, c->now_ms);
		(void)wg_rl_session_open(c->rl, s->peer_ip, c->now_ms);
	}
	send_bind(c, s, conn, WG_MSG_SESSION_BIND, true);
	c->st.resumes++;
	goto out;
refused:
	c->st.resume_refused++;
out:
	if (r != NULL)
		wg__resume__free_unpacked(r, NULL);
}

static void
session_open(struct wg_ctl *c, uint64_t conn, struct rte_mbuf *m)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	Wg__SessionOpen *o;
	uint8_t ip[16];

	o = wg__session_open__unpack(NULL, h->len, wg_msg_payload(m));
	if (o == NULL) {
		c->st.bad_msgs++;
		return;
	}
	wg_rl_ip_from_v4(o->peer_ip, ip);
	if (wg_sess_find(c->sess, conn) == NULL &&
	    wg_sess_open(c->sess, conn, ip, (uint16_t)o->peer_port, c->now_ms) == NULL)
		CTL_LOG(DEBUG, "session table: %s", strerror(errno));
	wg__session_open__free_unpacked(o, NULL);
}

/* A session is gone for good: its address may open another. */
static void
released(struct wg_ctl *c, const struct wg_session *s)
{
	unsigned int i;
	int b;

	if (s->player_id != 0)
		(void)wg_rl_session_close(c->rl, s->peer_ip, c->now_ms);
	for (i = 0; i < c->n_services; i++)
		if (s->routes[i].inst != WG_SESS_NO_INSTANCE &&
		    (b = wg_lb_find(c->lb[i], s->routes[i].inst)) >= 0)
			wg_lb_release(c->lb[i], b);
}

static void
session_detach(struct wg_ctl *c, uint64_t conn, struct rte_mbuf *m)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	struct wg_session *s = wg_sess_find(c->sess, conn);
	Wg__SessionDetach *d;
	uint32_t reason = 0;

	c->st.detaches++;
	if (s == NULL)
		return;
	d = wg__session_detach__unpack(NULL, h->len, wg_msg_payload(m));
	if (d != NULL) {
		reason = d->reason;
		wg__session_detach__free_unpacked(d, NULL);
	}
	if (reason == WG__DETACH_REASON__DETACH_REASON_EXPIRED ||
	    reason == WG__DETACH_REASON__DETACH_REASON_KICKED ||
	    reason == WG__DETACH_REASON__DETACH_REASON_LOGOUT) {
		/* the dataplane has let it go: no resume */
		if (s->state == WG_SESS_ACTIVE || s->state == WG_SESS_DETACHED)
			released(c, s);
		if (s->state == WG_SESS_ACTIVE || s->state == WG_SESS_DETACHED ||
		    s->state == WG_SESS_LOGGING_IN)
			(void)wg_sess_close(c->sess, s, c->now_ms);
		if ((s = wg_sess_find(c->sess, conn)) != NULL)
			(void)wg_sess_detach(c->sess, conn, c->now_ms);
		return;
	}
	(void)wg_sess_detach(c->sess, conn, c->now_ms);
}


/* Logic instance index of a registry slot, WG_SESS_NO_INSTANCE if none. */
static uint16_t
slot_logic(const struct wg_ctl *c, uint32_t slot)
{
	const struct wg_registry *reg = c->in->reg;

	if (slot >= reg->n_slots || reg->slots[slot].kind != WG_KIND_LOGIC ||
	    reg->slots[slot].index >= c->conf->logic.count)
		return WG_SESS_NO_INSTANCE;
	return (uint16_t)reg->slots[slot].index;
}

/* One session the dataplane holds, reported after we (re)started. */
static void
session_state(struct wg_ctl *c, uint64_t conn, struct rte_mbuf *m)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	uint16_t routes[WG_SESS_MAX_SERVICES];
	Wg__SessionState *st;
	struct wg_session *s;
	uint8_t ip[16];
	size_t i;

	st = wg__session_state__unpack(NULL, h->len, wg_msg_payload(m));
	if (st == NULL || st->resume_token.len != WG_SESS_RESUME_LEN) {
		c->st.bad_msgs++;
		goto out;
	}
	for (i = 0; i < WG_SESS_MAX_SERVICES; i++)
		routes[i] = WG_SESS_NO_INSTANCE;
	for (i = 0; i < st->n_routes; i++)
		if (st->routes[i]->service < c->n_services)
			routes[st->routes[i]->service] = slot_logic(c, st->routes[i]->slot);
	s = wg_sess_restore(c->sess, conn, st->player_id, routes, c->n_services,
			    st->resume_token.data, c->now_ms);
	if (s == NULL) {
		CTL_LOG(WARNING, "session %" PRIx64 " (player %" PRIu64 ") not restored: %s", conn,
			st->player_id, strerror(errno));
		goto out;
	}
	for (i = 0; i < c->n_services; i++) {
		int b;

		if (routes[i] != WG_SESS_NO_INSTANCE && (b = wg_lb_find(c->lb[i], routes[i])) >= 0)
			wg_lb_acquire(c->lb[i], b);
	}
	wg_rl_ip_from_v4(st->peer_ip, ip);
	wg_sess_set_peer(s, ip, (uint16_t)st->peer_port, st->name != NULL && st->name[0] ? st->name :
											    NULL);
	(void)wg_rl_session_open(c->rl, ip, c->now_ms);
	if (st->detached)
		(void)wg_sess_detach(c->sess, conn, c->now_ms);
	c->st.restored++;
out:
	if (st != NULL)
		wg__session_state__free_unpacked(st, NULL);
}

void
wg_ctl_msg(struct wg_ctl *c, unsigned int worker, struct rte_mbuf *m)
{
	const struct wg_msg_hdr *h = wg_msg_hdr(m);
	struct wg_envelope env;

	(void)worker;
	switch (h->msg_type) {
	case WG_MSG_SESSION_OPEN:
		session_open(c, h->session_id, m);
		break;
	case WG_MSG_SESSION_DETACH:
		session_detach(c, h->session_id, m);
		break;
	case WG_MSG_SESSION_STATE:
		session_state(c, h->session_id, m);
		break;
	case WG_MSG_SESSION_SYNC:
		if (c->sync_pending > 0 && --c->sync_pending == 0) {
			unsigned int k;

			CTL_LOG(INFO, "session table rebuilt from the dataplane: %" PRIu64
				" session(s)", c->st.restored);
			/* instances that died while no control watched */
			for (k = 0; k < c->conf->logic.count; k++)
				if (!logic_alive(c, k))
					logic_changed(c, k);
		}
		break;
	case WG__MSG_TYPE__LOGIN:
	case WG__MSG_TYPE__RESUME:
		if (wg_envelope_decode(&env, wg_msg_payload(m), h->len) != 0) {
			c->st.bad_msgs++;
			break;
		}
		if (h->msg_type == WG__MSG_TYPE__LOGIN)
			login(c, h->session_id, &env);
		else
			resume(c, h->session_id, &env);
		break;
	default:
		c->st.bad_msgs++;
		break;
	}
	rte_pktmbuf_free(m);
}

/* ------------------------------------------------------------ liveness */

/* Sessions owed a ROUTE_UPDATE. A mass re-route (an instance with 100k
 * sessions died) would overrun the 1024-slot rings in one go; the queue
 * is drained as the rings have room, and sends the routes as they are
 * then. */
static void
upd_push(struct wg_ctl *c, uint64_t conn)
{
	if (c->upd_n == c->upd_cap) {
		size_t cap = c->upd_cap ? c->upd_cap * 2 : 1024;
		uint64_t *p;

		if (c->upd_head > 0) {
			memmove(c->upd, c->upd + c->upd_head, (c->upd_n - c->upd_head) * sizeof(*p));
			c->upd_n -= c->upd_head;
			c->upd_head = 0;
		}
		if (c->upd_n == c->upd_cap) {
			p = realloc(c->upd, cap * sizeof(*p));
			if (p == NULL) {
				CTL_LOG(ERR, "route update for %" PRIx64 " lost: out of memory", conn);
				return;
			}
			c->upd = p;
			c->upd_cap = cap;
		}
	}
	c->upd[c->upd_n++] = conn;
}

static unsigned int
upd_drain(struct wg_ctl *c)
{
	unsigned int work = 0;

	while (c->upd_head < c->upd_n) {
		uint64_t conn = c->upd[c->upd_head];
		struct rte_ring *r = c->in->tx[conn_worker(conn) % c->in->reg->n_workers];
		struct wg_session *s;

		if (rte_ring_free_count(r) < rte_ring_get_capacity(r) / 4)
			break;
		c->upd_head++;
		s = wg_sess_find(c->sess, conn);
		if (s != NULL && (s->state == WG_SESS_ACTIVE || s->state == WG_SESS_DETACHED)) {
			send_bind(c, s, conn, WG_MSG_ROUTE_UPDATE, true);
			work++;
		}
	}
	if (c->upd_head == c->upd_n)
		c->upd_head = c->upd_n = 0;
	return work;
}

struct reroute_arg {
	struct wg_ctl *c;
	struct wg_session *last;
};

static void
reroute_one(void *arg, struct wg_sess_table *t, struct wg_session *s, unsigned int svc)
{
	struct reroute_arg *ra = arg;
	struct wg_ctl *c = ra->c;
	uint16_t k = s->routes[svc].inst;

	(void)t;
	route(c, s, svc, pick(c, svc, s->player_id, k));
	if (ra->last != s)
		upd_push(c, s->conn_id);
	ra->last = s;
	c->st.reroutes++;
}

struct unrouted_arg {
	struct wg_ctl *c;
	unsigned int k;
	uint64_t *conns;
	size_t n, cap;
};

/* Sessions with a service no instance took (none was alive at login). */
static void
unrouted_one(void *arg, const struct wg_session *s)
{
	struct unrouted_arg *ua = arg;
	unsigned int i;

	if (s->state != WG_SESS_ACTIVE && s->state != WG_SESS_DETACHED)
		return;
	for (i = 0; i < ua->c->n_services; i++)
		if (s->routes[i].inst == WG_SESS_NO_INSTANCE &&
		    wg_lb_find(ua->c->lb[i], ua->k) >= 0)
			break;
	if (i == ua->c->n_services)
		return;
	if (ua->n == ua->cap) {
		size_t cap = ua->cap ? ua->cap * 2 : 256;
		uint64_t *p = realloc(ua->conns, cap * sizeof(*p));

		if (p == NULL)
			return;
		ua->conns = p;
		ua->cap = cap;
	}
	ua->conns[ua->n++] = s->conn_id;
}

/* Instance k came up: sessions that have no instance for one of its
 * services get one (a walk over the table: instance starts are rare). */
static void
route_unrouted(struct wg_ctl *c, unsigned int k)
{
	struct unrouted_arg ua = { .c = c, .k = k };
	struct wg_session *s;
	unsigned int i;
	size_t j;

	wg_sess_foreach(c->sess, unrouted_one, &ua);
	for (j = 0; j < ua.n; j++) {
		s = wg_sess_find(c->sess, ua.conns[j]);
		if (s == NULL)
			continue;
		for (i = 0; i < c->n_services; i++)
			if (s->routes[i].inst == WG_SESS_NO_INSTANCE)
				route(c, s, i, pick(c, i, s->player_id, WG_SESS_NO_INSTANCE));
		upd_push(c, s->conn_id);
		c->st.reroutes++;
	}
	free(ua.conns);
}

/* Logic instance k died or (re)appeared: its sessions go elsewhere, or to
 * its new registry slot. */
static void
logic_changed(struct wg_ctl *c, unsigned int k)
{
	struct reroute_arg ra = { .c = c, .last = NULL };
	unsigned int i;
	int b;

	for (i = 0; i < c->n_services; i++)
		if ((b = wg_lb_find(c->lb[i], k)) >= 0)
			wg_lb_set_alive(c->lb[i], b, logic_alive(c, k));
	(void)wg_sess_foreach_instance(c->sess, (uint16_t)k, reroute_one, &ra);
	if (logic_alive(c, k))
		route_unrouted(c, k);
	CTL_LOG(INFO, "logic %u %s: %" PRIu64 " route(s) revisited", k,
		logic_alive(c, k) ? "is up" : "is down", c->st.reroutes);
}

static unsigned int
watch_logic(struct wg_ctl *c)
{
	const struct wg_registry *reg = c->in->reg;
	uint32_t now[MAX_LOGIC];
	unsigned int s, k, n = c->conf->logic.count, work = 0;

	for (k = 0; k < n; k++)
		now[k] = NO_SLOT;
	for (s = 0; s < reg->n_slots; s++)
		if (reg->slots[s].kind == WG_KIND_LOGIC && reg->slots[s].index < n &&
		    wg_slot_alive(&reg->slots[s]))
			now[reg->slots[s].index] = s;
	for (k = 0; k < n; k++)
		if (now[k] != c->logic_slot[k]) {
			c->logic_slot[k] = now[k];
			logic_changed(c, k);
			work++;
		}
	return work;
}

static void
expired(void *arg, const struct wg_session *s)
{
	struct wg_ctl *c = arg;

	if (s->state == WG_SESS_DETACHED)
		released(c, s);
}

unsigned int
wg_ctl_tick(struct wg_ctl *c, uint64_t now_ms)
{
	unsigned int work = 0;

	c->now_ms = now_ms;
	if (c->acct != NULL)
		work += (unsigned int)RTE_MAX(0, wg_account_poll(c->acct, now_ms));
	if (!c->synced && wg_slot_alive(&c->in->reg->slots[c->in->slot])) {
		/* sessions logged in before we (re)started */
		unsigned int w;

		for (w = 0; w < c->in->reg->n_workers; w++) {
			struct rte_mbuf *m = wg_msg_new(c->in->msg_pool, WG_MSG_SESSION_SYNC, 0,
							(uint16_t)c->in->slot, 0, NULL);

			if (m != NULL && wg_instance_send(c->in, w, m) == 0)
				c->sync_pending++;
		}
		c->synced = true;
	}
	work += watch_logic(c);
	work += upd_drain(c);
	if (wg_sess_next_deadline(c->sess) <= now_ms)
		work += wg_sess_expire(c->sess, now_ms, EXPIRE_BATCH, expired, c);
	return work;
}

/* ------------------------------------------------------------ set-up */

static void
acct_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= 3)
		CTL_LOG(ERR, "accounts: %s", msg);
	else if (level == 4)
		CTL_LOG(WARNING, "accounts: %s", msg);
	else
		CTL_LOG(INFO, "accounts: %s", msg);
}

static int
lb_strategy(const char *word, enum wg_lb_strategy *s)
{
	if (strcmp(word, "round_robin") == 0)
		*s = WG_LB_RR;
	else if (strcmp(word, "weighted") == 0)
		*s = WG_LB_SWRR;
	else if (strcmp(word, "random") == 0)
		*s = WG_LB_RANDOM;
	else if (strcmp(word, "least_loaded") == 0)
		*s = WG_LB_LEAST_OUTSTANDING;
	else if (strcmp(word, "hash") == 0)
		*s = WG_LB_HASH;
	else
		return -EINVAL;
	return 0;
}

struct wg_ctl *
wg_ctl_create(struct wg_instance *in, const char **why)
{
	const struct wg_conf *cf = in->conf;
	const struct wg_conf_control *cc = &cf->control;
	struct wg_token_key keys[WG_TOKEN_MAX_KEYS];
	uint32_t weights[MAX_LOGIC];
	struct wg_sess_conf sc = {0};
	struct wg_rl_conf rc = {0};
	struct wg_ctl *c;
	unsigned int i, k, bad = 0;
	int n;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*why = "out of memory";
		return NULL;
	}
	c->in = in;
	c->conf = cf;
	c->n_services = cf->n_services;
	for (k = 0; k < MAX_LOGIC; k++)
		c->logic_slot[k] = NO_SLOT;
	if (cc->token_keys[0] != '\0') {
		struct wg_token_conf tc = {
			.keys = keys, .skew_s = cc->token_skew_s, .max_ttl_s = cc->token_max_ttl_s,
			.replay_slots = cc->token_replay_slots,
		};

		n = wg_token_keys_load(cc->token_keys, keys, WG_TOKEN_MAX_KEYS, &bad);
		if (n <= 0) {
			CTL_LOG(ERR, "control.token_keys %s: %s (line %u)", cc->token_keys,
				n == 0 ? "no keys" : strerror(-n), bad);
			*why = "cannot load control.token_keys";
			goto fail;
		}
		tc.n_keys = (unsigned int)n;
		tc.current_kid = keys[n - 1].kid;
		c->tok = wg_token_create(&tc);
		memset(keys, 0, sizeof(keys));
		if (c->tok == NULL) {
			*why = "token keys refused";
			goto fail;
		}
	} else {
		CTL_LOG(WARNING, "no control.token_keys: token logins are refused");
	}
	sc.max_sessions = cc->max_sessions;
	sc.n_services = (uint16_t)RTE_MAX(1u, c->n_services);
	sc.max_instances = (uint16_t)RTE_MAX(1u, cf->logic.count);
	sc.login_timeout_ms = cf->gateway.login_timeout_ms;
	sc.grace_ms = cf->gateway.resume_window_ms + 1000;
	sc.linger_ms = 5000;
	c->sess = wg_sess_create(&sc);
	if (c->sess == NULL) {
		*why = "session table";
		goto fail;
	}
	rc.ip_logins_per_s = cc->ip_logins_per_s;
	rc.ip_logins_burst = cc->ip_logins_burst;
	rc.ip_max_sessions = cc->ip_max_sessions;
	rc.max_ips = cc->max_ips;
	c->rl = wg_rl_create(&rc);
	if (c->rl == NULL) {
		*why = "rate limiter";
		goto fail;
	}
	if (cc->account_db[0] != '\0') {
		struct wg_account_conf ac = {
			.max_pending = cc->account_pending, .hash_threads = cc->account_threads,
			.timeout_ms = cc->account_timeout_ms,
			.hash = { WG_SCRYPT_N_DEFAULT, WG_SCRYPT_R_DEFAULT, WG_SCRYPT_P_DEFAULT },
			.log = acct_log, .log_arg = c,
		};
		struct wg_account_pg_conf pc = {
			.conninfo = cc->account_db, .connect_timeout_ms = 2000,
			.reconnect_min_ms = 100, .reconnect_max_ms = 5000,
		};

		c->reqs = calloc(cc->account_pending, sizeof(*c->reqs));
		c->acct = c->reqs != NULL ? wg_account_pg_create(&ac, &pc) : NULL;
		if (c->acct == NULL) {
			*why = "account backend (control.account_db)";
			goto fail;
		}
	}
	for (i = 0; i < c->n_services; i++) {
		const struct wg_conf_service *sv = &cf->services[i];
		unsigned int last = sv->instances ? sv->instance_first + sv->instances :
						    cf->logic.count;
		struct wg_lb_conf lc = { .max_backends = (uint16_t)RTE_MAX(1u, cf->logic.count),
					 .seed = 0x9e3779b97f4a7c15ull + i };

		if (lb_strategy(sv->strategy, &lc.strategy) != 0) {
			*why = "unknown service strategy";
			goto fail;
		}
		c->lb[i] = wg_lb_create(&lc);
		if (c->lb[i] == NULL) {
			*why = "load balancer";
			goto fail;
		}
		for (k = 0; k < RTE_DIM(weights); k++)
			weights[k] = 1;
		(void)wg_conf_weights(sv->weights, weights, RTE_DIM(weights));
		for (k = sv->instance_first; k < last; k++) {
			int b = wg_lb_add(c->lb[i], k, weights[k - sv->instance_first], 0);

			if (b >= 0)
				wg_lb_set_alive(c->lb[i], b, false);
		}
		CTL_LOG(INFO, "service %s: types %#x-%#x on logic %u..%u, %s", sv->name,
			sv->first_type, sv->last_type, sv->instance_first, last - 1, sv->strategy);
	}
	return c;
fail:
	wg_ctl_destroy(c);
	return NULL;
}

void
wg_ctl_destroy(struct wg_ctl *c)
{
	unsigned int i;

	if (c == NULL)
		return;
	for (i = 0; i < WG_CONF_MAX_SERVICES; i++)
		wg_lb_destroy(c->lb[i]);
	/* pending checks complete (canceled) into c->reqs first */
	wg_account_destroy(c->acct);
	free(c->reqs);
	wg_rl_destroy(c->rl);
	wg_sess_destroy(c->sess);
	free(c->upd);
	wg_token_destroy(c->tok);
	free(c);
}
