/* SPDX-License-Identifier: BSD-3-Clause
 * wg_client: the operators' and tests' client of the warpgate client
 * protocol (docs/protocol.md) over kernel sockets. This header joins its
 * three parts:
 *
 *   wg_client_script.c  script files (protocol_test mode) and the JSON
 *                       helpers they need: syntax check, member lookup,
 *                       subset matching. Pure functions, unit-tested.
 *   wg_client_conn.c    URLs and one connection: nonblocking TCP, OpenSSL
 *                       TLS 1.3, the WebSocket upgrade and frames
 *                       (dataplane/ws in the client role) or framed TCP.
 *   wg_client.c         main(): options, the session (login, resume,
 *                       heartbeats, acks) and the pipe and script modes.
 */
#ifndef WG_CLIENT_H
#define WG_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framed-t.h"
#include "ws-t.h"

/* ------------------------------------------------------------ JSON */

/* Strict RFC 8259 syntax check of one JSON value filling p[0..len) (white
 * space around it allowed), nesting at most WGC_JSON_MAX_DEPTH, no member
 * name twice in an object. 0, or -EINVAL with *at set to the offset of the
 * first bad byte (for a repeated name: the end of its object). */
#define WGC_JSON_MAX_DEPTH 32
int wgc_json_check(const char *p, size_t len, size_t *at);

/* The value of member key (NUL-terminated, compared after unescaping the
 * member names) in the JSON object p[0..len): 0 with *val and *val_len set to
 * the value's text, -ENOENT when the object has no such member, -EINVAL
 * when p is not an object. p must have passed wgc_json_check(). */
int wgc_json_member(const char *p, size_t len, const char *key, const char **val,
		    size_t *val_len);

/* Whether the JSON value have[] satisfies the pattern want[] (both passed
 * wgc_json_check()):
 *   - objects: every member of want is in have with a matching value, or is
 *     missing from have while want's value is a default (0, "", false,
 *     null, [], {}), since proto3 JSON leaves defaults out; extra members of
 *     have are ignored;
 *   - arrays: the same length, element by element;
 *   - strings: equal after unescaping;
 *   - numbers: equal in value (integers exactly, as text; others as
 *     doubles); a string holding a number matches that number, since
 *     64-bit integers print as strings;
 *   - true, false, null: themselves.
 * 1 when it matches, 0 when not. */
int wgc_json_match(const char *want, size_t want_len, const char *have, size_t have_len);

/* Append s (len bytes of UTF-8) to out as a JSON string with quotes.
 * Bytes written, or -ENOSPC. */
int wgc_json_quote(const char *s, size_t len, char *out, size_t cap);

/* ---------------------------------------------------------- scripts */

enum wgc_step_kind {
	WGC_STEP_SEND = 1,       /* send <json frame> */
	WGC_STEP_SEND_RAW,       /* send-raw <bytes as given> */
	WGC_STEP_EXPECT,         /* expect <TYPE> [json subset of the payload] */
	WGC_STEP_SLEEP,          /* sleep <ms> */
	WGC_STEP_EXPECT_CLOSE,   /* expect-close [code] */
};

struct wgc_step {
	uint8_t kind;            /* enum wgc_step_kind */
	uint8_t pad[3];
	uint32_t line;           /* in the script, from 1 */
	uint32_t type;           /* EXPECT: wg.MsgType */
	uint32_t ms;             /* SLEEP */
	int32_t close_code;      /* EXPECT_CLOSE: -1 = any close */
	uint32_t arg_len;
	const char *arg;         /* SEND*: the frame; EXPECT: the pattern or NULL */
	const char *type_name;   /* EXPECT: as in the table (for messages) */
};

struct wgc_script {
	char *text;              /* owned copy of the file, lines NUL-terminated */
	struct wgc_step *steps;  /* owned */
	uint32_t n_steps;
};

#define WGC_SCRIPT_MAX_STEPS 100000
#define WGC_SCRIPT_MAX_BYTES (16u << 20)

/* Parse a script held in text[0..len) (copied). Blank lines and lines
 * starting with '#' are skipped; leading white space is ignored. 0, or
 * -EINVAL with "line N: why" in err; -ENOMEM; -E2BIG over the limits. */
int wgc_script_parse(struct wgc_script *s, const char *text, size_t len, char *err,
		     size_t err_len);
/* The same from a file ("FILE: why" / "FILE:N: why" in err). */
int wgc_script_load(struct wgc_script *s, const char *path, char *err, size_t err_len);
void wgc_script_free(struct wgc_script *s);

const char *wgc_step_name(uint8_t kind);

/* ------------------------------------------------------------- URLs */

enum wgc_transport {
	WGC_WS = 1,              /* ws:// */
	WGC_WSS,                 /* wss:// */
	WGC_FRAMED,              /* framed:// */
	WGC_FRAMED_TLS,          /* framed+tls:// */
};

#define WGC_HOST_LEN 256
#define WGC_PATH_LEN 1024

struct wgc_url {
	uint8_t transport;       /* enum wgc_transport */
	bool tls;
	bool ws;
	bool host_is_ip;         /* an IPv4 or IPv6 literal: no SNI */
	uint16_t port;
	char host[WGC_HOST_LEN];   /* without the IPv6 brackets */
	char authority[WGC_HOST_LEN + 8]; /* Host header: host[:port], brackets kept */
	char path[WGC_PATH_LEN];   /* ws only, "/" by default; query kept */
};

/* 0, or -EINVAL with the reason in err. */
int wgc_url_parse(struct wgc_url *u, const char *s, char *err, size_t err_len);

/* ------------------------------------------------------- connection */

struct wgc_conn;

struct wgc_conn_opts {
	const char *ca_file;     /* NULL: the system store */
	const char *sni;         /* NULL: the URL's host unless it is an address */
	const char *origin;      /* Origin header, or NULL */
	const char *protocols;   /* Sec-WebSocket-Protocol offers, comma-separated, or NULL */
	bool insecure;           /* no certificate verification (reported) */
	uint32_t max_message;    /* bytes per message both ways */
};

/* Connection phases */
enum wgc_phase {
	WGC_PH_CONNECTING = 0,   /* TCP connect in progress */
	WGC_PH_TLS,              /* TLS handshake */
	WGC_PH_UPGRADE,          /* WebSocket upgrade request out, response awaited */
	WGC_PH_OPEN,             /* messages flow */
	WGC_PH_CLOSING,          /* our close went (or is queued): draining */
	WGC_PH_DONE,             /* transport closed: see wgc_conn_end() */
};

/* How the connection ended */
struct wgc_end {
	bool failed;             /* could not connect / TLS / upgrade, or an I/O error */
	bool by_peer;            /* the peer closed (close frame, close_notify or EOF) */
	bool close_frame;        /* ws: a close frame came */
	uint16_t code;           /* ws close code received (1005 none, 1006 no frame) */
	uint16_t http_status;    /* refused upgrade */
	char reason[128];        /* close reason (ws) */
	char err[320];           /* what failed, for humans */
};

/* Called for each message: text or binary, data valid during the call. */
typedef void (*wgc_msg_cb)(void *arg, bool text, const uint8_t *data, size_t len);

/* Start connecting (nonblocking). NULL + errno and a sentence in err. */
struct wgc_conn *wgc_conn_open(const struct wgc_url *u, const struct wgc_conn_opts *o,
			       char *err, size_t err_len);
void wgc_conn_free(struct wgc_conn *c);

int wgc_conn_fd(const struct wgc_conn *c);
/* poll() events the connection waits for. */
short wgc_conn_events(const struct wgc_conn *c);
/* Make progress after poll() (revents may be 0: timers only). Messages go
 * to cb. Returns the phase. */
int wgc_conn_io(struct wgc_conn *c, short revents, wgc_msg_cb cb, void *arg);
int wgc_conn_phase(const struct wgc_conn *c);

/* Queue one message (text frame or binary frame / framed message). 0,
 * -ENOBUFS (no room in the send buffer now: retry after wgc_conn_io),
 * -EMSGSIZE (over max_message), -EPIPE (not open). */
int wgc_conn_send(struct wgc_conn *c, bool text, const void *data, size_t len);
/* Bytes the send buffer can take now. */
size_t wgc_conn_tx_room(const struct wgc_conn *c);

/* Begin our close: ws close frame with code (and reason), then TLS
 * close_notify and FIN once the peer answered or after the deadline set by
 * the caller (wgc_conn_abort). */
int wgc_conn_close(struct wgc_conn *c, uint16_t code, const char *reason);
/* End now (timeouts): close_notify if possible, then close the socket. */
void wgc_conn_abort(struct wgc_conn *c, const char *why);

const struct wgc_end *wgc_conn_end(const struct wgc_conn *c);
/* Negotiated details for the verbose log ("TLSv1.3 TLS_AES_128_GCM_SHA256 ..."). */
void wgc_conn_describe(const struct wgc_conn *c, char *out, size_t cap);

#endif /* WG_CLIENT_H */
