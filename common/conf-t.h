/* SPDX-License-Identifier: BSD-3-Clause
 * Configuration as plain structs: no DPDK types here, so the parser and its
 * tests build and run without an EAL.
 */
#ifndef WG_CONF_T_H
#define WG_CONF_T_H

#include <stdbool.h>
#include <stdint.h>

#define WG_CONF_NAME_MAX     32
#define WG_CONF_STR_MAX      256
#define WG_CONF_MAX_PORTS    8
#define WG_CONF_MAX_EAL_ARGS 16
#define WG_CONF_ERR_MAX      512
#define WG_CONF_MAX_LINES    768   /* >= every key + section + list item once */
#define WG_CONF_MAX_LISTENERS 8
#define WG_CONF_MAX_SERVICES 16   /* = WG_GW_MAX_SERVICES */
#define WG_CONF_MAX_NAMES    8     /* ws origins, subprotocols */
#define WG_CONF_IMPAIR_MS_MAX 10000 /* bound of delay_ms, jitter_ms, reorder_ms */

struct wg_conf_eal {
	char file_prefix[64];          /* --file-prefix, shared by all processes */
	char lcores[64];               /* dataplane -l list; first is the main lcore */
	uint32_t memory_mb;            /* -m / --socket-mem */
	bool no_huge;                  /* --no-huge: single-process tests only */
	char huge_dir[WG_CONF_STR_MAX];
	char log_level[16];            /* rte_log level name: emerg..debug */
	char extra_args[WG_CONF_MAX_EAL_ARGS][WG_CONF_STR_MAX];
	unsigned int n_extra_args;
};

struct wg_conf_dataplane {
	uint32_t burst;                /* rx/tx burst size, 1..512 */
	uint32_t idle_sleep_max_us;    /* idle back-off ceiling; 0 = busy poll */
	uint32_t idle_spins;           /* empty polls before the first sleep */
	uint32_t mbufs;                /* packet mbufs in the pool */
	uint32_t mbuf_cache;           /* per-lcore mempool cache */
	uint32_t arp_entries;          /* ARP cache capacity per lcore (power of 2) */
	uint32_t arp_reachable_ms;     /* entry is trusted this long after confirmation */
	uint32_t arp_retry_ms;         /* interval between unanswered requests */
	uint32_t arp_max_probes;       /* unanswered requests before an entry fails */
	bool dev_mode;                 /* allow listeners without TLS (ws://, plain framed) */
};

/* One direction of a port's impairment stage. The fields are those of
 * struct wg_impair_conf (dataplane/impair-t.h), in the same order; this
 * header stays free of dataplane types. All zero: no impairment. */
struct wg_conf_impair_dir {
	uint32_t loss_ppm;             /* YAML loss: 5% -> 50000; 0..1000000 */
	uint32_t dup_ppm;              /* YAML dup */
	uint32_t reorder_ppm;          /* YAML reorder */
	uint32_t delay_us;             /* YAML delay_ms (up to 3 decimals); 0..10000 ms */
	uint32_t jitter_us;            /* YAML jitter_ms */
	uint32_t reorder_us;           /* YAML reorder_ms; 0 = the stage's default hold */
};

/* Seeded loss/dup/reorder/delay on a port (tests with real peers). */
struct wg_conf_impair {
	uint64_t seed;                 /* same seed + same traffic = same impairment */
	struct wg_conf_impair_dir rx, tx;
};

struct wg_conf_port {
	char name[WG_CONF_NAME_MAX];   /* operator's label */
	char dev[WG_CONF_STR_MAX];     /* vdev args ("net_tap0,iface=wgtap0") or PCI address */
	uint8_t mac[6];                /* override; used when mac_set */
	bool mac_set;
	uint32_t ipv4;                 /* our address, network byte order */
	uint8_t prefix_len;            /* 0..32 */
	uint32_t gateway;              /* network byte order, 0 = none */
	uint16_t mtu;                  /* 68..9000 */
	uint16_t rx_desc;
	uint16_t tx_desc;
	bool csum_offload;             /* use HW checksums when the port has them */
	struct wg_conf_impair impair;  /* all zero unless the port has an impair section */
};

struct wg_conf_instances {
	uint32_t max;                  /* registry slots (control + logic) */
	uint32_t ring_size;            /* entries per ring, power of 2 */
	uint32_t msg_mbufs;            /* mbufs in the message pool */
	uint32_t heartbeat_ms;         /* how often each side beats */
	uint32_t dead_after_ms;        /* no beat for this long = dead */
	uint32_t lcore_base;           /* control uses lcore_base, logic k uses lcore_base+1+k */
};

/* Our TCP, per worker lcore (dataplane/tcp). */
struct wg_conf_tcp {
	uint32_t max_conns;            /* connections per worker lcore */
	uint32_t syn_backlog;          /* half-open before SYN cookies take over */
	uint32_t max_timewait;         /* TIME_WAIT entries kept per lcore */
	uint32_t rcv_buf;              /* bytes: receive window ceiling per connection */
	uint32_t snd_buf;              /* bytes: send queue ceiling per connection */
	uint32_t ooo_max;              /* bytes held out of order per connection */
	uint32_t rto_min_ms;
	uint32_t rto_max_ms;
	uint32_t delack_ms;
	uint32_t timewait_ms;          /* 2*MSL */
	uint32_t keepalive_ms;         /* idle before probes; 0 = off */
	uint32_t keepalive_intvl_ms;
	uint32_t keepalive_probes;
	uint16_t echo_port;            /* RFC 862 test service, 0 = off */
	uint16_t discard_port;         /* RFC 863 test service, 0 = off */
};

/* TLS 1.3 termination: handshakes in OpenSSL off the fast path, records on
 * the workers (dataplane/tls). */
struct wg_conf_tls {
	char cert[WG_CONF_STR_MAX];    /* PEM chain, leaf first */
	char key[WG_CONF_STR_MAX];     /* PEM private key */
	char ca[WG_CONF_STR_MAX];      /* PEM CAs our client side verifies servers with */
	char ciphersuites[WG_CONF_STR_MAX]; /* OpenSSL TLS 1.3 list, AES-GCM suites only */
	char groups[128];              /* key exchange groups, OpenSSL list syntax */
	char alpn[64];                 /* comma-separated, preference order */
	uint32_t handshake_timeout_ms;
	uint32_t tickets;              /* NewSessionTickets sent after a handshake */
	uint32_t record_size;          /* largest plaintext per record we send */
	char crypto[16];               /* "inline": sealed/opened on the worker */
};

/* WebSocket server (dataplane/ws). */
struct wg_conf_ws {
	char path[128];                /* request target to accept */
	char origins[WG_CONF_MAX_NAMES][128]; /* allowed Origin values; none = any */
	unsigned int n_origins;
	char subprotocols[WG_CONF_MAX_NAMES][64]; /* offered by us, preference order */
	unsigned int n_subprotocols;
	uint32_t max_message;          /* bytes of a reassembled message */
	uint32_t max_request;          /* bytes of the HTTP upgrade request */
	uint32_t max_headers;          /* header lines of the upgrade request */
	uint32_t upgrade_timeout_ms;   /* the whole upgrade request must arrive in this */
};

/* One accepting port on every interface. */
struct wg_conf_listener {
	uint16_t port;                 /* host byte order */
	bool tls;                      /* false only with dataplane.dev_mode */
	char proto[16];                /* "ws", "framed" (4-byte length + payload), "raw" bytes */
	char service[16];              /* "echo" (built in); the message plane adds more */
	uint32_t max_message;          /* framed: largest payload */
};

/* The gateway service (listeners with service: gateway): client sessions
 * in the dataplane (docs/message-plane.md). */
struct wg_conf_gateway {
	uint32_t max_sessions;         /* per worker: connected plus detached */
	uint32_t max_message;          /* client Envelope bytes */
	uint32_t heartbeat_ms;         /* told to clients at login */
	uint32_t idle_timeout_ms;      /* logged in and silent this long: kicked; 0 never */
	uint32_t login_timeout_ms;     /* connected without logging in: closed */
	uint32_t resume_window_ms;     /* a dropped session waits this long for RESUME */
	uint32_t replay_max;           /* unacknowledged server messages kept per session */
	uint32_t replay_budget;        /* ... and per worker */
	uint32_t msg_rate;             /* client messages/s per session; 0 unlimited */
	uint32_t msg_burst;
	uint32_t max_violations;       /* refused messages in a row before a kick */
};

/* control: logins and the session table (control/main.c). */
struct wg_conf_control {
	char token_keys[WG_CONF_STR_MAX]; /* key file: "KID HEX" lines; the last one signs */
	uint32_t token_skew_s;         /* clock skew allowed on token times */
	uint32_t token_max_ttl_s;      /* tokens living longer are refused */
	uint32_t token_replay_slots;   /* token nonces remembered (one-time use) */
	uint32_t max_sessions;         /* whole gateway */
	uint32_t ip_logins_per_s;      /* per source address */
	uint32_t ip_logins_burst;
	uint32_t ip_max_sessions;      /* concurrent per source address; 0 unlimited */
	uint32_t max_ips;              /* source addresses tracked at once */
	char account_db[WG_CONF_STR_MAX]; /* libpq conninfo of the accounts table; "" = no
	                                * password logins */
	uint32_t account_timeout_ms;   /* one password check, database included */
	uint32_t account_threads;      /* scrypt threads (hashing is slow by design) */
	uint32_t account_pending;      /* checks in progress at once; more: SERVICE_UNAVAILABLE */
};

/* A service: client message types [first_type, last_type] handled by logic
 * instances [instance_first, instance_first + instances). */
struct wg_conf_service {
	char name[16];
	uint32_t first_type;
	uint32_t last_type;
	uint32_t instance_first;
	uint32_t instances;            /* 0: every logic instance from instance_first */
	char strategy[16];             /* round_robin, weighted, random, least_loaded, hash */
	char weights[64];              /* "3,1,1": one weight (1..1000) per instance, in
	                                * order; "" = all 1 */
};

/* Chat rooms service of each logic instance (logic/framework/svc_chat.c). */
struct wg_conf_logic_chat {
	uint32_t max_rooms;            /* rooms existing at once */
	uint32_t max_members;          /* sessions per room */
	uint32_t max_text;             /* bytes of one chat line */
	uint32_t max_joined;           /* rooms one session is in at once */
};

/* The shared world of each logic instance (logic/world/svc_world.c): the
 * world is [0, width] x [0, height] in world units. */
struct wg_conf_logic_world {
	uint32_t width, height;
	uint32_t view_radius;          /* AOI radius of every avatar and NPC */
	uint32_t max_speed;            /* world units per second a MOVE may cover */
	uint32_t move_slack;           /* idle ticks a later MOVE may catch up */
	uint32_t max_moves;            /* MOVE messages per session per tick */
	uint32_t pos_scale;            /* quantisation steps per world unit */
	uint32_t sync_frames;          /* snapshots remembered per client */
	uint32_t budget;               /* StateDelta bytes per client per tick */
	uint32_t spawn_x, spawn_y;     /* where avatars appear ... */
	uint32_t spawn_spread;         /* ... give or take this much on each axis */
	uint32_t npcs;                 /* server-driven entities walking seeded paths */
	uint32_t seed;                 /* of the NPC paths and spawn offsets */
	char aoi[16];                  /* AOI implementation: inc, grid, ninegrid, naive */
};

struct wg_conf_logic {
	uint32_t count;                /* logic instances the launcher starts */
	uint32_t tick_hz;              /* service ticks per second */
	uint32_t max_catchup;          /* late ticks run back to back; older ones are dropped */
	uint32_t max_sessions;         /* sessions attached to one instance */
	struct wg_conf_logic_chat chat;
	struct wg_conf_logic_world world;
};

/* Where a key was read: wg_conf_parse_string records the 1-based line of
 * every key and list item it sets, so wg_conf_validate can point at the line
 * of a cross-field problem. Not configuration: wg_conf_dump ignores it. */
struct wg_conf_line {
	uint16_t off;                  /* offset of the field in struct wg_conf */
	uint16_t len;                  /* its size: tells a section from its first field */
	uint32_t line;
};

struct wg_conf {
	char path[WG_CONF_STR_MAX];    /* file the config came from, for messages */
	struct wg_conf_eal eal;
	struct wg_conf_dataplane dataplane;
	struct wg_conf_port ports[WG_CONF_MAX_PORTS];
	unsigned int n_ports;
	struct wg_conf_instances instances;
	struct wg_conf_tcp tcp;
	struct wg_conf_logic logic;
	struct wg_conf_tls tls;
	struct wg_conf_ws ws;
	struct wg_conf_listener listeners[WG_CONF_MAX_LISTENERS];
	unsigned int n_listeners;
	struct wg_conf_gateway gateway;
	struct wg_conf_control control;
	struct wg_conf_service services[WG_CONF_MAX_SERVICES];
	unsigned int n_services;
	struct wg_conf_line lines[WG_CONF_MAX_LINES]; /* keep last: equality of two configs
	                                              * is memcmp up to offsetof(lines) */
	unsigned int n_lines;
};

#endif /* WG_CONF_T_H */
