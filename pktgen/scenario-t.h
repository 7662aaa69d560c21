/* SPDX-License-Identifier: BSD-3-Clause
 * A pktgen scenario: where to connect, how many clients and how fast, how
 * they log in, and a timeline of phases, each a set of actions the clients
 * run at a rate (open loop) or one message at a time (closed loop). Plain
 * structs with no DPDK types: the parser and its tests run without an EAL.
 */
#ifndef WG_SCENARIO_T_H
#define WG_SCENARIO_T_H

#include <stdint.h>

#define WG_SCN_NAME_MAX     64
#define WG_SCN_STR_MAX      256
#define WG_SCN_PATH_MAX     128
#define WG_SCN_MAX_PHASES   16
#define WG_SCN_MAX_ACTIONS  8      /* per phase */
#define WG_SCN_MAX_SIZES    16     /* entries of a weighted size list */
#define WG_SCN_MAX_LINES    1024   /* >= every key and list item once */
#define WG_SCN_ERR_MAX      512
#define WG_SCN_MSG_MAX      (1u << 20) /* largest message size a scenario may ask for */

enum wg_scn_transport {
	WG_SCN_WS = 0,                 /* ws:// */
	WG_SCN_WSS,                    /* wss:// (TLS 1.3) */
	WG_SCN_FRAMED,                 /* 4-byte length + payload over TCP */
	WG_SCN_FRAMED_TLS,             /* the same inside TLS 1.3 */
};

enum wg_scn_action_type {
	WG_SCN_ACT_CHAT = 0,           /* room chat: fan-out by the server */
	WG_SCN_ACT_ECHO,               /* request, same bytes back */
	WG_SCN_ACT_JOIN,               /* join a room once, at phase start */
	WG_SCN_ACT_MOVE,               /* position updates at hz */
	WG_SCN_ACT_IDLE,               /* connected, silent */
	WG_SCN_ACT_CHURN,              /* disconnect and reconnect at rate */
};

enum wg_scn_mode {
	WG_SCN_OPEN = 0,               /* messages leave at the rate, replies or not */
	WG_SCN_CLOSED,                 /* one outstanding per client, think time between */
};

enum wg_scn_size_kind {
	WG_SCN_SIZE_FIXED = 0,         /* "size: 64" */
	WG_SCN_SIZE_UNIFORM,           /* "size: 64..512", both ends included */
	WG_SCN_SIZE_WEIGHTED,          /* "size: [{bytes: 64, weight: 9}, ...]" */
};

struct wg_scn_size_entry {
	uint32_t bytes;
	uint32_t weight;
};

/* Message payload size distribution. */
struct wg_scn_size {
	uint32_t kind;                 /* enum wg_scn_size_kind */
	uint32_t lo, hi;               /* FIXED: lo == hi; UNIFORM: lo..hi */
	struct wg_scn_size_entry entries[WG_SCN_MAX_SIZES]; /* WEIGHTED */
	unsigned int n_entries;
};

/* One action of a phase. Which keys apply depends on the type; the
 * validator refuses the others at their line. */
struct wg_scn_action {
	uint8_t type;                  /* enum wg_scn_action_type */
	uint32_t clients_ppm;          /* share of the clients that run it, 1..10^6 */
	uint32_t rate_milli;           /* chat/echo: msgs/s per client; churn: reconnects/s
	                                * over all clients; x1000 ("0.5" -> 500) */
	uint32_t hz;                   /* move: updates per second */
	uint32_t rooms;                /* join: client i joins room i % rooms */
	uint64_t downtime_ns;          /* churn: pause before reconnecting */
	struct wg_scn_size size;       /* chat/echo/move payload */
};

struct wg_scn_phase {
	char name[WG_SCN_NAME_MAX];
	uint64_t duration_ns;
	uint8_t mode;                  /* enum wg_scn_mode */
	uint64_t think_ns;             /* closed loop: pause after each reply */
	uint64_t timeout_ns;           /* a reply later than this is an error; 0 = none */
	struct wg_scn_action actions[WG_SCN_MAX_ACTIONS];
	unsigned int n_actions;
};

struct wg_scn_target {
	uint32_t address;              /* IPv4, network byte order */
	uint16_t port;                 /* host byte order */
	uint8_t transport;             /* enum wg_scn_transport */
	char path[WG_SCN_PATH_MAX];    /* ws/wss request target */
	char sni[WG_SCN_STR_MAX];      /* TLS server name; "" = none */
};

struct wg_scn_clients {
	uint32_t count;
	uint32_t connect_rate;         /* new connections per second, all lcores */
	uint64_t ramp_ns;              /* connect rate rises linearly over this; 0 = at once */
};

/* Credentials sent after connecting. "{id}" in a template is the client
 * index (decimal), "{id:N}" the same zero-padded to N digits; "{{" and
 * "}}" are literal braces. Either a token or an account + password. */
struct wg_scn_login {
	char token[WG_SCN_STR_MAX];
	char account[WG_SCN_NAME_MAX];
	char password[WG_SCN_STR_MAX];
};

struct wg_scn_report {
	char json[WG_SCN_STR_MAX];     /* final report; "" = none */
	char csv[WG_SCN_STR_MAX];      /* time series, one row per interval; "" = none */
	uint64_t interval_ns;          /* progress line and CSV row period */
};

/* Where a key was read, for cross-field messages (as in common/conf-t.h). */
struct wg_scn_line {
	uint32_t off;                  /* offset of the field in struct wg_scenario */
	uint32_t len;                  /* its size: a list item vs its first field */
	uint32_t line;
};

struct wg_scenario {
	char path[WG_SCN_STR_MAX];     /* file it came from, for messages */
	char name[WG_SCN_NAME_MAX];
	uint64_t seed;                 /* every random choice derives from it */
	struct wg_scn_target target;
	struct wg_scn_clients clients;
	struct wg_scn_login login;
	struct wg_scn_phase phases[WG_SCN_MAX_PHASES];
	unsigned int n_phases;
	struct wg_scn_report report;
	struct wg_scn_line lines[WG_SCN_MAX_LINES]; /* keep last: two scenarios are equal
	                                            * when memcmp up to here says so */
	unsigned int n_lines;
};

#endif /* WG_SCENARIO_T_H */
