/* SPDX-License-Identifier: BSD-3-Clause
 * wg_client: log in to a warpgate gateway, send messages, print what comes
 * back; or run a protocol test script. docs/operations.md has the manual.
 *
 *   wg_client [options] URL                  JSON lines on stdin -> server,
 *                                            server -> JSON lines on stdout
 *   wg_client [options] --script FILE URL    run a test script, exit 0/1
 *
 * URL: ws://HOST[:PORT]/PATH, wss://..., framed://HOST[:PORT],
 * framed+tls://HOST[:PORT]. Whatever the wire form (--binary protobuf, the
 * default, or --json text frames), the terminal side is the JSON text frame
 * format of docs/protocol.md, one message per line.
 *
 * Exit status: 0 done; 1 a script step failed; 2 bad usage, script or
 * input line; 3 login or resume refused (the ERROR is printed) or not
 * answered; 4 could not connect (TCP, TLS, WebSocket upgrade); 5 the
 * connection was lost or closed by the server other than normally (close
 * 1000 without a kick other than LOGGED_OUT).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "msgjson.h"
#include "wg_client.h"
#include "wg_client.pb-c.h"
#include "ws.h"

#define EX_OK       0
#define EX_SCRIPT   1
#define EX_USAGE    2
#define EX_LOGIN    3
#define EX_CONNECT  4
#define EX_LOST     5

#define MAX_HIDE    32
#define ACK_EVERY   64        /* server messages before a bare ACK at the latest */
#define ACK_DELAY   250       /* ms an unacknowledged server message waits at most */
#define CLOSE_WAIT  2000      /* ms for the close handshake once we started it */

enum sess_state {
	SS_CONNECTING = 0,
	SS_LOGIN,                 /* LOGIN or RESUME sent, answer awaited */
	SS_READY,
};

struct rxmsg {
	uint32_t type;
	uint32_t len;
	char *json;               /* the line as printed */
};

struct client {
	/* options */
	const char *prog;
	bool text;
	bool quiet;
	bool verbose;
	uint32_t timeout_ms;
	uint32_t linger_ms;
	int32_t heartbeat_ms;     /* -1: from LoginAck */
	uint32_t max_message;
	uint32_t hide[MAX_HIDE];
	unsigned int n_hide;
	const char *token;
	const char *device;
	const char *client_version;
	bool resume;
	uint64_t resume_sid;
	uint32_t resume_last;
	const char *resume_tok;

	struct wgc_conn *conn;
	struct wg_msgjson mj;
	void *scratch;
	uint8_t *pb;              /* Envelope bytes */
	uint8_t *pb2;
	size_t pb_cap;
	char *js;                 /* JSON text */
	size_t js_cap;

	/* session */
	uint8_t state;            /* enum sess_state */
	uint32_t seq;             /* our last seq */
	uint32_t srv_seq;         /* highest server seq seen */
	uint32_t msg_id;
	uint32_t acked;           /* srv_seq as of our last send */
	uint32_t unacked;         /* numbered server messages since */
	uint64_t unacked_since;
	uint32_t login_type;
	uint32_t login_msg_id;
	int login_result;         /* 0 pending, 1 accepted, -1 refused */
	char login_err[200];
	uint32_t hb_interval;
	uint64_t next_hb;
	char session_id[24];
	char resume_token[96];
	bool kicked;
	char kick_code[32];

	/* script mode: received messages not consumed by an expect yet */
	struct rxmsg *q;
	uint32_t q_cap, q_head, q_n;
	uint64_t q_dropped;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	if (interrupted)
		_exit(130);
	interrupted = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: wg_client [options] URL\n"
		"  URL: ws://HOST[:PORT][/PATH] | wss://... | framed://HOST[:PORT] | framed+tls://HOST[:PORT]\n"
		"  Reads JSON lines ({\"type\":\"CHAT_SAY\",\"payload\":{...}}) from stdin and sends them;\n"
		"  prints every message received as one JSON line. seq, ack and msg_id are filled in\n"
		"  when a line leaves them out.\n"
		"options:\n"
		"  --json | --binary        wire form: JSON text frames or protobuf (default; framed: always)\n"
		"  --token TOKEN            log in first (LOGIN with this token)\n"
		"  --token-file FILE        ... with the token read from FILE\n"
		"  --resume SID:TOKEN:SEQ   resume session SID (resume token in base64, last server seq)\n"
		"  --device TEXT            Login.device (default wg_client)\n"
		"  --client-version X.Y.Z   Login.version (default %s)\n"
		"  --script FILE            run a protocol test script instead of reading stdin\n"
		"  --timeout-ms N           connect, login and each expect step (default 5000)\n"
		"  --linger-ms N            after stdin's end, keep printing for N ms (default 1000)\n"
		"  --heartbeat-ms N         heartbeat interval (default: LoginAck heartbeatMs / 2; 0: none)\n"
		"  --max-message BYTES      largest message sent or accepted (default 65536)\n"
		"  --ca FILE                CA certificates for wss/framed+tls (default: system store)\n"
		"  --sni NAME               TLS server name to send and verify (default: the URL host)\n"
		"  --insecure               do not verify the server certificate\n"
		"  --origin ORIGIN          Origin header of the WebSocket upgrade\n"
		"  --subprotocol LIST       Sec-WebSocket-Protocol offers, comma-separated\n"
		"  --hide TYPE[,TYPE...]    do not print these message types (e.g. HEARTBEAT_ACK)\n"
		"  --backlog N              script mode: received messages kept for expects (default 1024)\n"
		"  -q, --quiet              print no received messages\n"
		"  -v, --verbose            connection details and session events on stderr\n"
		"exit: 0 ok, 1 script step failed, 2 usage/bad input, 3 login refused, 4 connect failed,\n"
		"      5 connection lost or closed abnormally by the server\n",
		WG_VERSION);
}

static void
die_usage(const char *prog, const char *msg)
{
	fprintf(stderr, "%s: %s (try --help)\n", prog, msg);
	exit(EX_USAGE);
}

static uint64_t
num_arg(const char *prog, const char *opt, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *s == '\0' || *s == '-' || *end != '\0' || v > max) {
		fprintf(stderr, "%s: %s: bad number '%s' (0..%" PRIu64 ")\n", prog, opt, s, max);
		exit(EX_USAGE);
	}
	return v;
}

/* ------------------------------------------------------------ sending */

/* seq numbering: every client message but heartbeats and bare acks */
static bool
numbered(uint32_t type)
{
	return type != WG__MSG_TYPE__HEARTBEAT && type != WG__MSG_TYPE__ACK;
}

static bool
seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* One JSON text frame (a line of input, a script step, or our own
 * messages) to the server, with seq, ack and msg_id filled in unless the
 * frame gives them. 0; -ENOBUFS: no room now, try again later; -EINVAL,
 * -EMSGSIZE, -EPIPE with the reason in why. */
static int
send_json(struct client *cl, const char *line, size_t len, char *why, size_t why_len)
{
	struct wg_envelope env;
	const char *v;
	size_t vl;
	bool has_seq, has_ack, has_id;
	int n, rc;

	if (wgc_conn_tx_room(cl->conn) < (size_t)cl->max_message + 64)
		return -ENOBUFS;
	n = wg_msgjson_to_pb(&cl->mj, line, len, cl->pb, cl->pb_cap, &env);
	if (n < 0) {
		if (n == -ENOSPC)
			snprintf(why, why_len, "the message is over %u bytes (--max-message)",
				 cl->max_message);
		else
			snprintf(why, why_len, "%s", wg_msgjson_error(&cl->mj));
		return n == -ENOSPC ? -EMSGSIZE : -EINVAL;
	}
	/* the converter accepted it: a valid JSON object */
	has_seq = wgc_json_member(line, len, "seq", &v, &vl) == 0;
	has_ack = wgc_json_member(line, len, "ack", &v, &vl) == 0;
	has_id = wgc_json_member(line, len, "msg_id", &v, &vl) == 0 ||
		 wgc_json_member(line, len, "msgId", &v, &vl) == 0;
	if (!has_seq)
		env.seq = numbered(env.type) ? cl->seq + 1 : 0;
	if (!has_ack)
		env.ack = cl->srv_seq;
	if (!has_id)
		env.msg_id = numbered(env.type) ? cl->msg_id + 1 : 0;
	if (cl->text) {
		n = wg_msgjson_from_envelope(&cl->mj, &env, cl->js, cl->js_cap);
		if (n < 0) {
			snprintf(why, why_len, "%s", wg_msgjson_error(&cl->mj));
			return -EINVAL;
		}
		rc = wgc_conn_send(cl->conn, true, cl->js, (size_t)n);
	} else {
		n = wg_envelope_encode(&env, cl->pb2, cl->pb_cap);
		if (n < 0) {
			snprintf(why, why_len, "the message is over %u bytes (--max-message)",
				 cl->max_message);
			return -EMSGSIZE;
		}
		rc = wgc_conn_send(cl->conn, false, cl->pb2, (size_t)n);
	}
	if (rc == -EMSGSIZE)
		snprintf(why, why_len, "the frame is over %u bytes (--max-message)", cl->max_message);
	else if (rc == -EPIPE)
		snprintf(why, why_len, "the connection is closing");
	if (rc != 0)
		return rc;
	/* numbering moves on only for what went out */
	if (env.seq != 0 && seq_after(env.seq, cl->seq))
		cl->seq = env.seq;
	if (env.msg_id != 0 && seq_after(env.msg_id, cl->msg_id))
		cl->msg_id = env.msg_id;
	if (!seq_after(cl->acked, env.ack)) {
		cl->acked = env.ack;
		if (!seq_after(cl->srv_seq, cl->acked)) {
			cl->unacked = 0;
			cl->unacked_since = 0;
		}
	}
	if (cl->login_type != 0 && cl->login_msg_id == 0 && env.type == cl->login_type)
		cl->login_msg_id = env.msg_id;
	return 0;
}

/* Our own messages: they are well-formed, so only "no room" can fail. */
static int
send_own(struct client *cl, const char *json, size_t len)
{
	char why[200];
	int rc = send_json(cl, json, len, why, sizeof(why));

	if (rc != 0 && rc != -ENOBUFS && rc != -EPIPE)
		fprintf(stderr, "%s: internal message refused: %s\n", cl->prog, why);
	return rc;
}

static int
send_login(struct client *cl)
{
	char buf[4096], q1[2048], q2[300], q3[100];
	int a, b, c, n;

	if (cl->resume) {
		a = wgc_json_quote(cl->resume_tok, strlen(cl->resume_tok), q1, sizeof(q1));
		if (a < 0)
			return -EINVAL;
		q1[a] = '\0';
		n = snprintf(buf, sizeof(buf),
			     "{\"type\":\"RESUME\",\"ack\":%u,\"payload\":{\"sessionId\":\"%" PRIu64
			     "\",\"resumeToken\":%s,\"lastSeq\":%u}}", cl->resume_last, cl->resume_sid,
			     q1, cl->resume_last);
		cl->login_type = WG__MSG_TYPE__RESUME;
	} else {
		a = wgc_json_quote(cl->token, strlen(cl->token), q1, sizeof(q1));
		b = wgc_json_quote(cl->device, strlen(cl->device), q2, sizeof(q2));
		c = wgc_json_quote(cl->client_version, strlen(cl->client_version), q3, sizeof(q3));
		if (a < 0 || b < 0 || c < 0)
			return -EINVAL;
		q1[a] = q2[b] = q3[c] = '\0';
		n = snprintf(buf, sizeof(buf),
			     "{\"type\":\"LOGIN\",\"payload\":{\"token\":%s,\"device\":%s,"
			     "\"version\":%s}}", q1, q2, q3);
		cl->login_type = WG__MSG_TYPE__LOGIN;
	}
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	cl->login_msg_id = 0;
	return send_own(cl, buf, (size_t)n);
}

/* ---------------------------------------------------------- receiving */

static bool
hidden(const struct client *cl, uint32_t type)
{
	for (unsigned int i = 0; i < cl->n_hide; i++)
		if (cl->hide[i] == type)
			return true;
	return false;
}

/* Copy a JSON string value (quotes included in v) without its quotes. */
static void
str_value(const char *v, size_t vl, char *out, size_t cap)
{
	if (vl >= 2 && v[0] == '"') {
		v++;
		vl -= 2;
	}
	snprintf(out, cap, "%.*s", (int)vl, v);
}

static uint32_t
u32_member(const char *obj, size_t len, const char *key)
{
	const char *v;
	size_t vl;

	if (wgc_json_member(obj, len, key, &v, &vl) != 0)
		return 0;
	if (*v == '"')
		v++;
	return (uint32_t)strtoul(v, NULL, 10);
}

static void
login_answer(struct client *cl, uint32_t type, const struct wg_envelope *env, const char *p,
	     size_t pl)
{
	const char *v;
	size_t vl;

	if (type == WG__MSG_TYPE__LOGIN_ACK || type == WG__MSG_TYPE__RESUME_ACK) {
		uint32_t hb = u32_member(p, pl, "heartbeatMs");

		if (type == WG__MSG_TYPE__LOGIN_ACK && wgc_json_member(p, pl, "sessionId", &v, &vl) == 0)
			str_value(v, vl, cl->session_id, sizeof(cl->session_id));
		if (type == WG__MSG_TYPE__RESUME_ACK) {
			if (cl->resume)
				snprintf(cl->session_id, sizeof(cl->session_id), "%" PRIu64,
					 cl->resume_sid);
			/* continue after what the server has of ours */
			cl->seq = u32_member(p, pl, "lastSeq");
		}
		if (wgc_json_member(p, pl, "resumeToken", &v, &vl) == 0)
			str_value(v, vl, cl->resume_token, sizeof(cl->resume_token));
		if (cl->heartbeat_ms >= 0)
			cl->hb_interval = (uint32_t)cl->heartbeat_ms;
		else
			cl->hb_interval = hb / 2;
		cl->next_hb = cl->hb_interval ? now_ms() + cl->hb_interval : 0;
		cl->login_result = 1;
		cl->state = SS_READY;
		if (cl->verbose)
			fprintf(stderr, "%s: %s: session %s, heartbeat every %u ms\n", cl->prog,
				type == WG__MSG_TYPE__LOGIN_ACK ? "logged in" : "resumed", cl->session_id,
				cl->hb_interval);
		return;
	}
	if (type == WG__MSG_TYPE__ERROR && (env->msg_id == cl->login_msg_id ||
			      u32_member(p, pl, "refType") == cl->login_type)) {
		char code[40] = "?", text[160] = "";

		if (wgc_json_member(p, pl, "code", &v, &vl) == 0)
			str_value(v, vl, code, sizeof(code));
		if (wgc_json_member(p, pl, "text", &v, &vl) == 0)
			str_value(v, vl, text, sizeof(text));
		snprintf(cl->login_err, sizeof(cl->login_err), "%s refused: %s%s%s%s",
			 cl->login_type == WG__MSG_TYPE__LOGIN ? "login" : "resume", code,
			 text[0] ? " (" : "", text, text[0] ? ")" : "");
		cl->login_result = -1;
	}
}

static void
enqueue(struct client *cl, uint32_t type, const char *json, size_t len)
{
	struct rxmsg *m;

	if (cl->q_cap == 0)
		return;
	if (cl->q_n == cl->q_cap) {
		/* bounded: the oldest unclaimed message goes */
		m = &cl->q[cl->q_head];
		free(m->json);
		cl->q_head = (cl->q_head + 1) % cl->q_cap;
		cl->q_n--;
		if (cl->q_dropped++ == 0)
			fprintf(stderr, "%s: more than %u messages not expected by the script: "
				"dropping the oldest (--backlog)\n", cl->prog, cl->q_cap);
	}
	m = &cl->q[(cl->q_head + cl->q_n) % cl->q_cap];
	m->json = malloc(len + 1);
	if (m->json == NULL) {
		fprintf(stderr, "%s: out of memory keeping a message\n", cl->prog);
		return;
	}
	memcpy(m->json, json, len);
	m->json[len] = '\0';
	m->len = (uint32_t)len;
	m->type = type;
	cl->q_n++;
}

/* A message from the server: print it, track seq, note session events. */
static void
on_msg(void *arg, bool text, const uint8_t *data, size_t len)
{
	struct client *cl = arg;
	struct wg_envelope env;
	const char *line, *p;
	size_t ll, pl;
	int n;

	if (text) {
		n = wg_msgjson_to_pb(&cl->mj, data, len, cl->pb, cl->pb_cap, &env);
		if (n < 0) {
			fprintf(stderr, "%s: unreadable text frame from the server (%zu bytes): %s\n",
				cl->prog, len, wg_msgjson_error(&cl->mj));
			return;
		}
		line = (const char *)data;
		ll = len;
		if (memchr(data, '\n', len) != NULL || memchr(data, '\r', len) != NULL) {
			/* keep one message per line */
			n = wg_msgjson_from_envelope(&cl->mj, &env, cl->js, cl->js_cap);
			if (n < 0)
				return;
			line = cl->js;
			ll = (size_t)n;
		}
	} else {
		if (wg_envelope_decode(&env, data, len) != 0) {
			fprintf(stderr, "%s: the server sent a binary frame that is not an Envelope "
				"(%zu bytes)\n", cl->prog, len);
			return;
		}
		n = wg_msgjson_from_envelope(&cl->mj, &env, cl->js, cl->js_cap);
		if (n < 0) {
			fprintf(stderr, "%s: Envelope of type %u from the server not convertible: %s\n",
				cl->prog, env.type, wg_msgjson_error(&cl->mj));
			return;
		}
		line = cl->js;
		ll = (size_t)n;
	}
	if (env.seq != 0 && seq_after(env.seq, cl->srv_seq)) {
		cl->srv_seq = env.seq;
		if (cl->unacked++ == 0)
			cl->unacked_since = now_ms();
	}
	if (!cl->quiet && !hidden(cl, env.type)) {
		fwrite(line, 1, ll, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	if (wgc_json_member(line, ll, "payload", &p, &pl) != 0) {
		p = "{}";
		pl = 2;
	}
	/* a LOGIN typed by hand starts heartbeats too */
	if (cl->state == SS_LOGIN || env.type == WG__MSG_TYPE__LOGIN_ACK ||
	    env.type == WG__MSG_TYPE__RESUME_ACK)
		login_answer(cl, env.type, &env, p, pl);
	if (env.type == WG__MSG_TYPE__KICK) {
		const char *v;
		size_t vl;

		cl->kicked = true;
		if (wgc_json_member(p, pl, "code", &v, &vl) == 0)
			str_value(v, vl, cl->kick_code, sizeof(cl->kick_code));
	}
	enqueue(cl, env.type, line, ll);
}

/* ------------------------------------------------------------ script */

struct runner {
	struct wgc_script sc;
	const char *path;
	uint32_t i;               /* current step */
	uint64_t start;           /* when the current step began, 0 = not yet */
	bool failed;
	char why[768];
};

static bool
queue_take(struct client *cl, const struct wgc_step *st)
{
	for (uint32_t k = 0; k < cl->q_n; k++) {
		struct rxmsg *m = &cl->q[(cl->q_head + k) % cl->q_cap];
		const char *p;
		size_t pl;

		if (m->type != st->type)
			continue;
		if (st->arg != NULL) {
			if (wgc_json_member(m->json, m->len, "payload", &p, &pl) != 0) {
				p = "{}";
				pl = 2;
			}
			if (!wgc_json_match(st->arg, st->arg_len, p, pl))
				continue;
		}
		/* remove it, keeping the order of the others */
		free(m->json);
		for (uint32_t j = k; j + 1 < cl->q_n; j++)
			cl->q[(cl->q_head + j) % cl->q_cap] = cl->q[(cl->q_head + j + 1) % cl->q_cap];
		cl->q_n--;
		return true;
	}
	return false;
}

static void
queue_types(const struct client *cl, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t k = 0; k < cl->q_n && o + 40 < cap; k++) {
		const struct rxmsg *m = &cl->q[(cl->q_head + k) % cl->q_cap];
		const struct wg_msg_type_info *ti = wg_msg_type_find(m->type);

		if (k == 12) {
			snprintf(out + o, cap - o, ", ... (%u in all)", cl->q_n);
			return;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s%s", k ? ", " : "", ti ? ti->name : "?");
	}
	if (o == 0)
		snprintf(out, cap, "nothing");
}

static void
close_desc(const struct wgc_end *e, char *out, size_t cap)
{
	if (e->failed)
		snprintf(out, cap, "%s", e->err);
	else if (e->close_frame)
		snprintf(out, cap, "closed by the server with %u%s%s%s", e->code,
			 e->reason[0] ? " \"" : "", e->reason, e->reason[0] ? "\"" : "");
	else
		snprintf(out, cap, "connection closed by the server%s",
			 e->code ? " without a close frame" : "");
}

static void
step_fail(struct runner *r, const struct wgc_step *st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
step_fail(struct runner *r, const struct wgc_step *st, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->why, sizeof(r->why), "%s:%u: %s: ", r->path, st->line,
			 wgc_step_name(st->kind));

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(r->why))
		vsnprintf(r->why + n, sizeof(r->why) - (size_t)n, fmt, ap);
	va_end(ap);
	r->failed = true;
}

/* Run steps as far as they go now. true when the script is over (done or
 * failed); *wake is lowered to when the current step stops waiting. */
static bool
script_run(struct client *cl, struct runner *r, uint64_t now, uint64_t *wake)
{
	int phase = wgc_conn_phase(cl->conn);

	while (r->i < r->sc.n_steps && !r->failed) {
		const struct wgc_step *st = &r->sc.steps[r->i];
		char why[256], got[512];
		int rc;

		if (r->start == 0)
			r->start = now;
		switch (st->kind) {
		case WGC_STEP_SEND:
		case WGC_STEP_SEND_RAW:
			if (phase != WGC_PH_OPEN) {
				close_desc(wgc_conn_end(cl->conn), why, sizeof(why));
				step_fail(r, st, "cannot send: %s", phase == WGC_PH_DONE ? why :
					  "the connection is closing");
				return true;
			}
			if (st->kind == WGC_STEP_SEND) {
				rc = send_json(cl, st->arg, st->arg_len, why, sizeof(why));
			} else {
				rc = wgc_conn_tx_room(cl->conn) < st->arg_len + 64u ? -ENOBUFS :
				     wgc_conn_send(cl->conn, cl->text, st->arg, st->arg_len);
				snprintf(why, sizeof(why), "%s", strerror(-rc));
			}
			if (rc == -ENOBUFS)
				return false;        /* after the socket took some */
			if (rc != 0) {
				step_fail(r, st, "%s", why);
				return true;
			}
			break;
		case WGC_STEP_EXPECT:
			if (queue_take(cl, st))
				break;
			if (phase == WGC_PH_DONE || now - r->start >= cl->timeout_ms) {
				queue_types(cl, got, sizeof(got));
				if (phase == WGC_PH_DONE)
					close_desc(wgc_conn_end(cl->conn), why, sizeof(why));
				if (phase != WGC_PH_DONE)
					snprintf(why, sizeof(why), "within %u ms", cl->timeout_ms);
				step_fail(r, st, "no %s%s%.*s %s (unclaimed: %s)", st->type_name,
					  st->arg ? " matching " : "", st->arg ? (int)st->arg_len : 0,
					  st->arg ? st->arg : "", why, got);
				return true;
			}
			if (*wake > r->start + cl->timeout_ms)
				*wake = r->start + cl->timeout_ms;
			return false;
		case WGC_STEP_SLEEP:
			if (now - r->start < st->ms) {
				if (*wake > r->start + st->ms)
					*wake = r->start + st->ms;
				return false;
			}
			break;
		case WGC_STEP_EXPECT_CLOSE:
			if (phase == WGC_PH_DONE) {
				const struct wgc_end *e = wgc_conn_end(cl->conn);

				if (!e->by_peer) {
					close_desc(e, why, sizeof(why));
					step_fail(r, st, "the connection failed: %s", why);
					return true;
				}
				if (st->close_code >= 0 && (!e->close_frame ||
							    e->code != (uint16_t)st->close_code)) {
					close_desc(e, why, sizeof(why));
					step_fail(r, st, "wanted close code %d, got: %s", st->close_code,
						  why);
					return true;
				}
				break;
			}
			if (now - r->start >= cl->timeout_ms) {
				step_fail(r, st, "the server did not close within %u ms",
					  cl->timeout_ms);
				return true;
			}
			if (*wake > r->start + cl->timeout_ms)
				*wake = r->start + cl->timeout_ms;
			return false;
		}
		if (cl->verbose)
			fprintf(stderr, "%s: %s:%u: %s ok\n", cl->prog, r->path, st->line,
				wgc_step_name(st->kind));
		r->i++;
		r->start = 0;
	}
	return true;
}

/* Every send step must convert before we connect: errors name the line. */
static int
script_check(struct client *cl, struct runner *r)
{
	for (uint32_t i = 0; i < r->sc.n_steps; i++) {
		const struct wgc_step *st = &r->sc.steps[i];
		int n;

		if (st->kind != WGC_STEP_SEND)
			continue;
		n = wg_msgjson_to_pb(&cl->mj, st->arg, st->arg_len, cl->pb, cl->pb_cap, NULL);
		if (n < 0) {
			fprintf(stderr, "%s: %s:%u: send: %s\n", cl->prog, r->path, st->line,
				n == -ENOSPC ? "over --max-message" : wg_msgjson_error(&cl->mj));
			return -EINVAL;
		}
	}
	return 0;
}

/* -------------------------------------------------------------- stdin */

struct input {
	char *buf;
	size_t cap, len;
	uint32_t line;            /* lines read so far */
	bool eof;
	bool skipping;            /* inside an over-long line */
	unsigned int bad;
};

/* Send complete lines while the connection takes them. */
static void
input_lines(struct client *cl, struct input *in)
{
	size_t off = 0;

	while (off < in->len) {
		char *s = in->buf + off, *nl = memchr(s, '\n', in->len - off), why[256];
		size_t n;
		int rc;

		if (nl == NULL) {
			if (!in->eof)
				break;
			nl = in->buf + in->len;     /* a last line without '\n' */
		}
		n = (size_t)(nl - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		if (n == 0 || *s == '#') {
			in->line++;
			off = (size_t)(nl - in->buf) + 1;
			continue;
		}
		rc = send_json(cl, s, n, why, sizeof(why));
		if (rc == -ENOBUFS)
			break;
		in->line++;
		if (rc != 0) {
			fprintf(stderr, "%s: stdin:%u: %s (line not sent)\n", cl->prog, in->line, why);
			in->bad++;
		}
		off = (size_t)(nl - in->buf) + 1;
	}
	if (off > in->len)
		off = in->len;
	memmove(in->buf, in->buf + off, in->len - off);
	in->len -= off;
}

static void
input_read(struct client *cl, struct input *in)
{
	ssize_t r = read(STDIN_FILENO, in->buf + in->len, in->cap - in->len);

	if (r < 0) {
		if (errno != EINTR && errno != EAGAIN) {
			fprintf(stderr, "%s: stdin: %s\n", cl->prog, strerror(errno));
			in->eof = true;
		}
		return;
	}
	if (r == 0) {
		in->eof = true;
		return;
	}
	if (in->skipping) {
		char *nl = memchr(in->buf + in->len, '\n', (size_t)r);

		if (nl == NULL)
			return;
		in->skipping = false;
		memmove(in->buf, nl + 1, (size_t)(in->buf + in->len + r - nl - 1));
		in->len = (size_t)(in->buf + in->len + r - nl - 1);
		return;
	}
	in->len += (size_t)r;
	if (in->len == in->cap && memchr(in->buf, '\n', in->len) == NULL) {
		in->line++;
		fprintf(stderr, "%s: stdin:%u: line longer than %zu bytes (line not sent)\n",
			cl->prog, in->line, in->cap);
		in->bad++;
		in->len = 0;
		in->skipping = true;
	}
}

/* --------------------------------------------------------------- main */

static char *
read_token_file(const char *prog, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		exit(EX_USAGE);
	}
	buf = calloc(1, 4096);
	if (buf == NULL)
		exit(EX_USAGE);
	n = fread(buf, 1, 4095, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0 || strchr(buf, '\n') != NULL) {
		fprintf(stderr, "%s: %s: expected one token on one line\n", prog, path);
		exit(EX_USAGE);
	}
	return buf;
}

static void
parse_hide(struct client *cl, const char *list)
{
	while (*list != '\0') {
		size_t n = strcspn(list, ", ");
		const struct wg_msg_type_info *ti = wg_msg_type_by_name(list, n);

		if (n > 0) {
			if (ti == NULL || cl->n_hide == MAX_HIDE) {
				fprintf(stderr, "%s: --hide: unknown message type '%.*s'\n", cl->prog,
					(int)n, list);
				exit(EX_USAGE);
			}
			cl->hide[cl->n_hide++] = ti->type;
		}
		list += n;
		list += strspn(list, ", ");
	}
}

static void
parse_resume(struct client *cl, char *s)
{
	char *a = strchr(s, ':'), *b = a ? strchr(a + 1, ':') : NULL;

	if (a == NULL || b == NULL || b == a + 1) {
		fprintf(stderr, "%s: --resume: expected SESSION_ID:TOKEN_B64:LAST_SEQ\n", cl->prog);
		exit(EX_USAGE);
	}
	*a = *b = '\0';
	cl->resume = true;
	cl->resume_sid = num_arg(cl->prog, "--resume session id", s, UINT64_MAX);
	cl->resume_tok = a + 1;
	cl->resume_last = (uint32_t)num_arg(cl->prog, "--resume last seq", b + 1, UINT32_MAX);
}

enum {
	O_JSON = 256, O_BINARY, O_TOKEN, O_TOKEN_FILE, O_RESUME, O_DEVICE, O_CVERSION, O_SCRIPT,
	O_TIMEOUT, O_LINGER, O_HEARTBEAT, O_MAXMSG, O_CA, O_SNI, O_INSECURE, O_ORIGIN, O_SUBPROTO,
	O_HIDE, O_BACKLOG,
};

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, O_JSON },
	{ "binary", no_argument, NULL, O_BINARY },
	{ "token", required_argument, NULL, O_TOKEN },
	{ "token-file", required_argument, NULL, O_TOKEN_FILE },
	{ "resume", required_argument, NULL, O_RESUME },
	{ "device", required_argument, NULL, O_DEVICE },
	{ "client-version", required_argument, NULL, O_CVERSION },
	{ "script", required_argument, NULL, O_SCRIPT },
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "linger-ms", required_argument, NULL, O_LINGER },
	{ "heartbeat-ms", required_argument, NULL, O_HEARTBEAT },
	{ "max-message", required_argument, NULL, O_MAXMSG },
	{ "ca", required_argument, NULL, O_CA },
	{ "sni", required_argument, NULL, O_SNI },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "origin", required_argument, NULL, O_ORIGIN },
	{ "subprotocol", required_argument, NULL, O_SUBPROTO },
	{ "hide", required_argument, NULL, O_HIDE },
	{ "backlog", required_argument, NULL, O_BACKLOG },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	static struct client cl_;
	struct client *cl = &cl_;
	struct wgc_conn_opts co = { .max_message = 65536 };
	struct wgc_url url;
	struct runner run = { 0 };
	struct input in = { 0 };
	const char *script = NULL;
	char *token_buf = NULL, err[512];
	bool json_set = false, binary_set = false, script_over = false, closing = false;
	uint64_t now, connect_deadline, login_deadline = 0, linger_at = 0, close_deadline = 0;
	size_t scratch_len;
	int opt, ex = EX_OK;
	uint32_t backlog = 1024;
	struct sigaction sa = { .sa_handler = on_signal };

	cl->prog = "wg_client";
	cl->timeout_ms = 5000;
	cl->linger_ms = 1000;
	cl->heartbeat_ms = -1;
	cl->device = "wg_client";
	cl->client_version = WG_VERSION;
	while ((opt = getopt_long(argc, argv, "qvh", long_opts, NULL)) != -1) {
		switch (opt) {
		case O_JSON: cl->text = true; json_set = true; break;
		case O_BINARY: binary_set = true; break;
		case O_TOKEN: cl->token = optarg; break;
		case O_TOKEN_FILE: cl->token = token_buf = read_token_file(cl->prog, optarg); break;
		case O_RESUME: parse_resume(cl, optarg); break;
		case O_DEVICE: cl->device = optarg; break;
		case O_CVERSION: cl->client_version = optarg; break;
		case O_SCRIPT: script = optarg; break;
		case O_TIMEOUT:
			cl->timeout_ms = (uint32_t)num_arg(cl->prog, "--timeout-ms", optarg, 86400000);
			break;
		case O_LINGER:
			cl->linger_ms = (uint32_t)num_arg(cl->prog, "--linger-ms", optarg, 86400000);
			break;
		case O_HEARTBEAT:
			cl->heartbeat_ms = (int32_t)num_arg(cl->prog, "--heartbeat-ms", optarg, 3600000);
			break;
		case O_MAXMSG:
			co.max_message = (uint32_t)num_arg(cl->prog, "--max-message", optarg, 16u << 20);
			if (co.max_message < 64)
				die_usage(cl->prog, "--max-message: at least 64 bytes");
			break;
		case O_CA: co.ca_file = optarg; break;
		case O_SNI: co.sni = optarg; break;
		case O_INSECURE: co.insecure = true; break;
		case O_ORIGIN: co.origin = optarg; break;
		case O_SUBPROTO: co.protocols = optarg; break;
		case O_HIDE: parse_hide(cl, optarg); break;
		case O_BACKLOG:
			backlog = (uint32_t)num_arg(cl->prog, "--backlog", optarg, 1u << 20);
			break;
		case 'q': cl->quiet = true; break;
		case 'v': cl->verbose = true; break;
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EX_USAGE;
	}
	if (json_set && binary_set)
		die_usage(cl->prog, "--json and --binary exclude each other");
	if (cl->token != NULL && cl->resume)
		die_usage(cl->prog, "--token and --resume exclude each other");
	if (wgc_url_parse(&url, argv[optind], err, sizeof(err)) != 0)
		die_usage(cl->prog, err);
	if (cl->text && !url.ws)
		die_usage(cl->prog, "--json needs a WebSocket URL (framed TCP is binary only)");
	cl->max_message = co.max_message;

	/* all memory the session needs, sized once from --max-message */
	scratch_len = 4 * (size_t)co.max_message + 65536;
	cl->pb_cap = co.max_message;
	cl->js_cap = 6 * (size_t)co.max_message + 4096;
	cl->scratch = malloc(scratch_len);
	cl->pb = malloc(cl->pb_cap);
	cl->pb2 = malloc(cl->pb_cap);
	cl->js = malloc(cl->js_cap);
	if (cl->scratch == NULL || cl->pb == NULL || cl->pb2 == NULL || cl->js == NULL ||
	    wg_msgjson_init(&cl->mj, cl->scratch, scratch_len, 0) != 0) {
		fprintf(stderr, "%s: out of memory\n", cl->prog);
		ex = EX_USAGE;
		goto out;
	}
	if (script != NULL) {
		run.path = script;
		if (wgc_script_load(&run.sc, script, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", cl->prog, err);
			ex = EX_USAGE;
			goto out;
		}
		if (script_check(cl, &run) != 0) {
			ex = EX_USAGE;
			goto out;
		}
		cl->q_cap = backlog ? backlog : 1;
		cl->q = calloc(cl->q_cap, sizeof(*cl->q));
		if (cl->q == NULL) {
			fprintf(stderr, "%s: out of memory\n", cl->prog);
			ex = EX_USAGE;
			goto out;
		}
	} else {
		in.cap = 4 * (size_t)co.max_message + 4096;
		in.buf = malloc(in.cap);
		if (in.buf == NULL) {
			fprintf(stderr, "%s: out of memory\n", cl->prog);
			ex = EX_USAGE;
			goto out;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	cl->conn = wgc_conn_open(&url, &co, err, sizeof(err));
	if (cl->conn == NULL) {
		fprintf(stderr, "%s: %s\n", cl->prog, err);
		ex = EX_CONNECT;
		goto out;
	}
	connect_deadline = now_ms() + cl->timeout_ms;
	for (;;) {
		struct pollfd pfd[2];
		uint64_t wake;
		int phase = wgc_conn_phase(cl->conn), nfds = 0, timeout;
		bool want_stdin = false;

		now = now_ms();
		wake = now + 1000;
		if (phase == WGC_PH_DONE)
			break;
		if (phase < WGC_PH_OPEN) {
			if (now >= connect_deadline) {
				snprintf(err, sizeof(err), "timed out after %u ms connecting to %s%s",
					 cl->timeout_ms, url.authority,
					 phase == WGC_PH_TLS ? " (TLS handshake)" :
					 phase == WGC_PH_UPGRADE ? " (WebSocket upgrade)" : "");
				wgc_conn_abort(cl->conn, err);
				break;
			}
			wake = connect_deadline;
		}
		if (phase == WGC_PH_OPEN && cl->state == SS_CONNECTING) {
			if (cl->verbose) {
				wgc_conn_describe(cl->conn, err, sizeof(err));
				fprintf(stderr, "%s: connected to %s\n", cl->prog, err);
			}
			if (cl->token != NULL || cl->resume) {
				if (send_login(cl) != 0) {
					fprintf(stderr, "%s: cannot send the %s\n", cl->prog,
						cl->resume ? "RESUME" : "LOGIN");
					ex = EX_USAGE;
					break;
				}
				cl->state = SS_LOGIN;
				login_deadline = now + cl->timeout_ms;
			} else {
				cl->state = SS_READY;
			}
		}
		if (cl->state == SS_LOGIN && phase == WGC_PH_OPEN) {
			if (cl->login_result < 0) {
				fprintf(stderr, "%s: %s\n", cl->prog, cl->login_err);
				ex = EX_LOGIN;
				wgc_conn_close(cl->conn, WG_WS_CLOSE_NORMAL, NULL);
				closing = true;
				close_deadline = now + CLOSE_WAIT;
				cl->state = SS_READY;   /* nothing more to wait for */
			} else if (now >= login_deadline) {
				fprintf(stderr, "%s: no answer to %s within %u ms\n", cl->prog,
					cl->resume ? "RESUME" : "LOGIN", cl->timeout_ms);
				ex = EX_LOGIN;
				wgc_conn_close(cl->conn, WG_WS_CLOSE_NORMAL, NULL);
				closing = true;
				close_deadline = now + CLOSE_WAIT;
				cl->state = SS_READY;
			} else if (wake > login_deadline) {
				wake = login_deadline;
			}
		}
		if (interrupted && !closing) {
			/* Ctrl-C: leave like at the end of input, without lingering */
			wgc_conn_close(cl->conn, WG_WS_CLOSE_NORMAL, NULL);
			closing = true;
			close_deadline = now + CLOSE_WAIT;
		}
		if (cl->state == SS_READY && phase == WGC_PH_OPEN && !closing) {
			/* the server's replay buffer drains on our acks */
			if (cl->unacked > 0 && (cl->unacked >= ACK_EVERY ||
						now >= cl->unacked_since + ACK_DELAY)) {
				static const char ack[] = "{\"type\":\"ACK\"}";

				send_own(cl, ack, sizeof(ack) - 1);
			}
			if (cl->unacked > 0 && wake > cl->unacked_since + ACK_DELAY)
				wake = cl->unacked_since + ACK_DELAY;
			if (cl->hb_interval != 0 && cl->login_result > 0) {
				if (now >= cl->next_hb) {
					char hb[128];
					int n = snprintf(hb, sizeof(hb),
							 "{\"type\":\"HEARTBEAT\",\"payload\":"
							 "{\"clientTimeMs\":\"%" PRIu64 "\"}}",
							 wall_ms());

					if (send_own(cl, hb, (size_t)n) != -ENOBUFS)
						cl->next_hb = now + cl->hb_interval;
				}
				if (wake > cl->next_hb)
					wake = cl->next_hb;
			}
			if (script != NULL) {
				if (!script_over && script_run(cl, &run, now, &wake)) {
					script_over = true;
					if (run.failed)
						ex = EX_SCRIPT;
					wgc_conn_close(cl->conn, WG_WS_CLOSE_NORMAL, NULL);
					closing = true;
					close_deadline = now + CLOSE_WAIT;
				}
			} else {
				input_lines(cl, &in);
				if (in.eof && in.len == 0) {
					if (linger_at == 0)
						linger_at = now + cl->linger_ms;
					if (now >= linger_at) {
						wgc_conn_close(cl->conn, WG_WS_CLOSE_NORMAL, NULL);
						closing = true;
						close_deadline = now + CLOSE_WAIT;
					} else if (wake > linger_at) {
						wake = linger_at;
					}
				} else if (!in.eof && in.len < in.cap &&
					   wgc_conn_tx_room(cl->conn) >= (size_t)cl->max_message + 64) {
					want_stdin = true;
				}
			}
		}
		if (phase == WGC_PH_CLOSING && !closing) {
			/* the server began the close: bound the wait for its end */
			closing = true;
			close_deadline = now + CLOSE_WAIT;
		}
		if (closing && now >= close_deadline) {
			wgc_conn_abort(cl->conn, NULL);
			break;
		}
		if (closing && wake > close_deadline)
			wake = close_deadline;
		phase = wgc_conn_phase(cl->conn);
		if (phase == WGC_PH_DONE)
			break;
		pfd[nfds++] = (struct pollfd){ wgc_conn_fd(cl->conn), wgc_conn_events(cl->conn), 0 };
		if (want_stdin)
			pfd[nfds++] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		timeout = wake > now ? (int)(wake - now) : 0;
		if (poll(pfd, (nfds_t)nfds, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll: %s\n", cl->prog, strerror(errno));
			ex = EX_LOST;
			break;
		}
		if (nfds > 1 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			input_read(cl, &in);
		wgc_conn_io(cl->conn, pfd[0].revents, on_msg, cl);
		/* a script step may be waiting for exactly what just came */
	}

	/* why it ended, and the exit status */
	{
		const struct wgc_end *e = wgc_conn_end(cl->conn);
		char desc[512];

		close_desc(e, desc, sizeof(desc));
		if (cl->state == SS_CONNECTING && ex == EX_OK) {
			fprintf(stderr, "%s: %s\n", cl->prog, e->failed ? e->err :
				"connection ended before it was set up");
			ex = EX_CONNECT;
		} else if (script != NULL) {
			if (run.failed) {
				fprintf(stderr, "%s: FAILED %s\n", cl->prog, run.why);
			} else if (!script_over && ex == EX_OK) {
				/* ended under a step that waits: say which */
				uint64_t never = UINT64_MAX;

				if (run.i < run.sc.n_steps && (script_run(cl, &run, now_ms(), &never),
							       run.failed)) {
					fprintf(stderr, "%s: FAILED %s\n", cl->prog, run.why);
					ex = EX_SCRIPT;
				} else if (run.i < run.sc.n_steps) {
					fprintf(stderr, "%s: FAILED %s:%u: %s\n", cl->prog, run.path,
						run.sc.steps[run.i].line, desc);
					ex = EX_SCRIPT;
				} else if (cl->verbose) {
					fprintf(stderr, "%s: %s\n", cl->prog, desc);
				}
			}
			if (ex == EX_OK)
				fprintf(stderr, "%s: script %s: %u steps passed\n", cl->prog, script,
					run.sc.n_steps);
		} else if (ex == EX_OK && e->by_peer) {
			bool clean = !e->failed && (url.ws ? e->close_frame && e->code == 1000 :
						    cl->kicked);

			if (cl->kicked && strcmp(cl->kick_code, "LOGGED_OUT") != 0)
				clean = false;
			fprintf(stderr, "%s: %s%s%s\n", cl->prog, desc,
				cl->kicked ? " after a kick: " : "", cl->kicked ? cl->kick_code : "");
			if (!clean)
				ex = EX_LOST;
		} else if (ex == EX_OK && e->failed) {
			fprintf(stderr, "%s: %s\n", cl->prog, e->err);
			ex = EX_LOST;
		}
		if (ex == EX_OK && in.bad > 0)
			ex = EX_USAGE;
		if (cl->session_id[0] != '\0' && !cl->kicked &&
		    (cl->verbose || (e->by_peer && ex == EX_LOST)))
			fprintf(stderr, "%s: resume with --resume %s:%s:%u\n", cl->prog,
				cl->session_id, cl->resume_token, cl->srv_seq);
	}
out:
	wgc_conn_free(cl->conn);
	for (uint32_t k = 0; k < cl->q_n; k++)
		free(cl->q[(cl->q_head + k) % cl->q_cap].json);
	free(cl->q);
	wgc_script_free(&run.sc);
	free(in.buf);
	free(cl->js);
	free(cl->pb2);
	free(cl->pb);
	free(cl->scratch);
	free(token_buf);
	return ex;
}
