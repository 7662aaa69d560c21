/* SPDX-License-Identifier: BSD-3-Clause
 * YAML configuration. One table per section (name, type, offset, size,
 * bounds, optional setter) drives parsing, the range checks of validation and
 * the dump, so a new key is one line in one table and the three cannot drift.
 *
 * Parsing uses libyaml's event API in two passes over the text: the first
 * only checks well-formedness (and caps nesting), the second walks the
 * tables and stops at the first problem. That keeps hostile input cheap: the
 * walker's recursion depth is fixed by the tables (top level, section, list
 * item), never by the input, and anchors/aliases are refused, not expanded.
 * A failed parse leaves the caller's struct untouched.
 *
 * Fixed-point scalars (percentages, milliseconds) are parsed and printed as
 * decimal text, never through a double: "0.1%" is exactly 1000 ppm and the
 * dump writes back exactly what is stored.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "conf.h"
#include "registry-t.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD_SIZE(st, f) sizeof(((st *)0)->f)

/* RTE_MAX_LCORE of Debian's DPDK build; repeated so this file needs no DPDK. */
#define CONF_MAX_LCORE 128
/* RTE_MEMPOOL_CACHE_MAX_SIZE */
#define CONF_MEMPOOL_CACHE_MAX 512
/* A config file is a few KiB; refuse to slurp anything absurd. */
#define CONF_FILE_MAX (1u << 20)
/* Bound of the per-mapping duplicate-key tracker. */
#define CONF_SECTION_MAX_KEYS 16
/* The schema nests three deep (top, ports, item). libyaml's scanner costs
 * O(depth) per token, so unbounded nesting is quadratic: cap it. */
#define CONF_MAX_DEPTH 16
/* Longest echo of user text in a message. */
#define CONF_SHOW_MAX 48

enum conf_type {
	CT_UINT,        /* unsigned integer of 1, 2 or 4 bytes, within [min, max] */
	CT_BOOL,        /* true/false, yes/no, on/off */
	CT_STR,         /* NUL-terminated char[size] */
	CT_IPV4,        /* a.b.c.d, uint32_t network byte order; null = 0 = none */
	CT_IPV4_CIDR,   /* a.b.c.d/n; the uint8_t prefix length sits at aux */
	CT_MAC,         /* uint8_t[6]; the bool at aux says it was given */
	CT_STR_LIST,    /* char[size / elem][elem]; unsigned int count at aux */
	CT_SECTION,     /* mapping described by sub */
	CT_LIST,        /* sequence of mappings described by sub; count at aux */
	CT_U64,         /* uint64_t, any value */
	CT_PERCENT,     /* "12.25%", up to 4 decimals -> uint32_t ppm, within [min, max] */
	CT_MS,          /* milliseconds, up to 3 decimals -> uint32_t us, within [min, max] */
	CT_NTYPES
};

/* Flags of a key. */
#define KF_OMIT_ZERO    0x01   /* an all-zero value is the default: the dump leaves it out */
/* 0x02..0x80 unused */

struct conf_parser;
struct conf_key;

/* Consumes the value starting at the current event. base is the struct that
 * holds the field, abs its offset in struct wg_conf (for the line table). */
typedef int (*conf_set_t)(struct conf_parser *p, const struct conf_key *k,
			  char *base, size_t abs, const char *fpath);

struct conf_section {
	const struct conf_key *keys;
	unsigned int n_keys;
	void (*init)(void *item);      /* list items: defaults for each new item */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;                    /* offsetof(section struct, field) */
	size_t size;                   /* sizeof the field (whole array for lists) */
	size_t elem;                   /* lists: sizeof one element */
	size_t aux;                    /* companion field, see enum conf_type */
	uint32_t min, max;             /* CT_UINT, CT_PERCENT, CT_MS bounds (stored units), inclusive */
	conf_set_t set;                /* NULL: the type's setter */
	const struct conf_section *sub;
	const char *const *words;      /* CT_STR with set_word: the accepted values, NULL-ended */
	unsigned int flags;            /* KF_* */
};

/* The bound must fit the field: a compile error otherwise (negative array). */
#define UINT_FIELD_MAX(st, f) \
	(FIELD_SIZE(st, f) == 1 ? UINT8_MAX : FIELD_SIZE(st, f) == 2 ? UINT16_MAX : UINT32_MAX)
#define CHECK_FITS(st, f, hi) \
	(0 * sizeof(char[(uint64_t)(hi) <= UINT_FIELD_MAX(st, f) ? 1 : -1]))
#define CHECK_U32(st, f) (0 * sizeof(char[FIELD_SIZE(st, f) == 4 ? 1 : -1]))
#define CHECK_U64(st, f) (0 * sizeof(char[FIELD_SIZE(st, f) == 8 ? 1 : -1]))

#define KEY_UINT(st, f, lo, hi) { .name = #f, .type = CT_UINT, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), \
	.min = (lo), .max = (uint32_t)((hi) + CHECK_FITS(st, f, hi)) }
#define KEY_BOOL(st, f) { .name = #f, .type = CT_BOOL, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f) }
#define KEY_STR(st, f, setter) { .name = #f, .type = CT_STR, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), .set = (setter) }
/* A string that must be one of words (a NULL-terminated array). */
#define KEY_WORD(st, f, w) { .name = #f, .type = CT_STR, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), .set = set_word, .words = (w) }
#define KEY_IPV4(st, f) { .name = #f, .type = CT_IPV4, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f) }
#define KEY_CIDR(st, f, plen) { .name = #f, .type = CT_IPV4_CIDR, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), .aux = offsetof(st, plen) }
#define KEY_MAC(st, f, isset) { .name = #f, .type = CT_MAC, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), .aux = offsetof(st, isset) }
#define KEY_STR_LIST(st, f, count) { .name = #f, .type = CT_STR_LIST, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), \
	.elem = FIELD_SIZE(st, f[0]), .aux = offsetof(st, count) }
#define KEY_SECTION(st, f, s) { .name = #f, .type = CT_SECTION, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), .sub = (s) }
/* A section whose default is all zeros, left out of the dump while it is. */
#define KEY_SECTION_OPT(st, f, s) { .name = #f, .type = CT_SECTION, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), .sub = (s), .flags = KF_OMIT_ZERO }
#define KEY_U64(st, f) { .name = #f, .type = CT_U64, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f) + CHECK_U64(st, f) }
/* The YAML name differs from the field's: the field carries the unit. */
#define KEY_PERCENT(st, key, f) { .name = key, .type = CT_PERCENT, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f) + CHECK_U32(st, f), \
	.min = 0, .max = 1000000 }
#define KEY_MS(st, key, f, max_ms) { .name = key, .type = CT_MS, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f) + CHECK_U32(st, f), \
	.min = 0, .max = (uint32_t)((max_ms) * 1000u) }
#define KEY_LIST(st, f, count, s) { .name = #f, .type = CT_LIST, \
	.off = offsetof(st, f), .size = FIELD_SIZE(st, f), \
	.elem = FIELD_SIZE(st, f[0]), .aux = offsetof(st, count), .sub = (s) }

#define SECTION(keys, initfn) { keys, ARRAY_SIZE(keys), initfn }

static int set_file_prefix(struct conf_parser *p, const struct conf_key *k,
			   char *base, size_t abs, const char *fpath);
static int set_lcores(struct conf_parser *p, const struct conf_key *k,
		      char *base, size_t abs, const char *fpath);
static int set_word(struct conf_parser *p, const struct conf_key *k,
		    char *base, size_t abs, const char *fpath);
static void port_defaults(void *item);
static void listener_defaults(void *item);
static void service_defaults(void *item);

static const char *const crypto_modes[] = { "inline", NULL };
static const char *const listener_protos[] = { "ws", "framed", "raw", NULL };
static const char *const listener_services[] = { "echo", "gateway", NULL };
static const char *const lb_strategies[] = { "round_robin", "weighted", "random", "least_loaded",
					      "hash", NULL };

static const struct conf_key eal_keys[] = {
	KEY_STR(struct wg_conf_eal, file_prefix, set_file_prefix),
	KEY_STR(struct wg_conf_eal, lcores, set_lcores),
	KEY_UINT(struct wg_conf_eal, memory_mb, 64, 1048576),
	KEY_BOOL(struct wg_conf_eal, no_huge),
	KEY_STR(struct wg_conf_eal, huge_dir, NULL),
	KEY_STR(struct wg_conf_eal, log_level, NULL),
	KEY_STR_LIST(struct wg_conf_eal, extra_args, n_extra_args),
};

static const struct conf_key dataplane_keys[] = {
	KEY_UINT(struct wg_conf_dataplane, burst, 1, 512),
	KEY_UINT(struct wg_conf_dataplane, idle_sleep_max_us, 0, 1000000),
	KEY_UINT(struct wg_conf_dataplane, idle_spins, 0, 1000000),
	KEY_UINT(struct wg_conf_dataplane, mbufs, 255, 16777215),
	KEY_UINT(struct wg_conf_dataplane, mbuf_cache, 0, CONF_MEMPOOL_CACHE_MAX),
	KEY_UINT(struct wg_conf_dataplane, arp_entries, 16, 1048576),
	KEY_UINT(struct wg_conf_dataplane, arp_reachable_ms, 1, 3600000),
	KEY_UINT(struct wg_conf_dataplane, arp_retry_ms, 1, 60000),
	KEY_UINT(struct wg_conf_dataplane, arp_max_probes, 1, 255),
	KEY_BOOL(struct wg_conf_dataplane, dev_mode),
};

static const struct conf_key impair_dir_keys[] = {
	KEY_PERCENT(struct wg_conf_impair_dir, "loss", loss_ppm),
	KEY_PERCENT(struct wg_conf_impair_dir, "dup", dup_ppm),
	KEY_PERCENT(struct wg_conf_impair_dir, "reorder", reorder_ppm),
	KEY_MS(struct wg_conf_impair_dir, "delay_ms", delay_us, WG_CONF_IMPAIR_MS_MAX),
	KEY_MS(struct wg_conf_impair_dir, "jitter_ms", jitter_us, WG_CONF_IMPAIR_MS_MAX),
	KEY_MS(struct wg_conf_impair_dir, "reorder_ms", reorder_us, WG_CONF_IMPAIR_MS_MAX),
};

static const struct conf_section impair_dir_section = SECTION(impair_dir_keys, NULL);

static const struct conf_key impair_keys[] = {
	KEY_U64(struct wg_conf_impair, seed),
	KEY_SECTION_OPT(struct wg_conf_impair, rx, &impair_dir_section),
	KEY_SECTION_OPT(struct wg_conf_impair, tx, &impair_dir_section),
};

static const struct conf_section impair_section = SECTION(impair_keys, NULL);

static const struct conf_key port_keys[] = {
	KEY_STR(struct wg_conf_port, name, NULL),
	KEY_STR(struct wg_conf_port, dev, NULL),
	KEY_MAC(struct wg_conf_port, mac, mac_set),
	KEY_CIDR(struct wg_conf_port, ipv4, prefix_len),
	KEY_IPV4(struct wg_conf_port, gateway),
	KEY_UINT(struct wg_conf_port, mtu, 68, 9000),
	KEY_UINT(struct wg_conf_port, rx_desc, 32, 32768),
	KEY_UINT(struct wg_conf_port, tx_desc, 32, 32768),
	KEY_BOOL(struct wg_conf_port, csum_offload),
	KEY_SECTION_OPT(struct wg_conf_port, impair, &impair_section),
};

static const struct conf_key instances_keys[] = {
	KEY_UINT(struct wg_conf_instances, max, 2, WG_REG_MAX_SLOTS),
	KEY_UINT(struct wg_conf_instances, ring_size, 16, 1048576),
	KEY_UINT(struct wg_conf_instances, msg_mbufs, 255, 16777215),
	KEY_UINT(struct wg_conf_instances, heartbeat_ms, 1, 60000),
	KEY_UINT(struct wg_conf_instances, dead_after_ms, 2, 600000),
	KEY_UINT(struct wg_conf_instances, lcore_base, 0, CONF_MAX_LCORE - 2),
};

static const struct conf_key tcp_keys[] = {
	KEY_UINT(struct wg_conf_tcp, max_conns, 16, 16777216),
	KEY_UINT(struct wg_conf_tcp, syn_backlog, 0, 16777216),
	KEY_UINT(struct wg_conf_tcp, max_timewait, 0, 16777216),
	KEY_UINT(struct wg_conf_tcp, rcv_buf, 4096, 1073741824),
	KEY_UINT(struct wg_conf_tcp, snd_buf, 4096, 1073741824),
	KEY_UINT(struct wg_conf_tcp, ooo_max, 0, 1073741824),
	KEY_UINT(struct wg_conf_tcp, rto_min_ms, 1, 60000),
	KEY_UINT(struct wg_conf_tcp, rto_max_ms, 100, 600000),
	KEY_UINT(struct wg_conf_tcp, delack_ms, 1, 500),
	KEY_UINT(struct wg_conf_tcp, timewait_ms, 0, 600000),
	KEY_UINT(struct wg_conf_tcp, keepalive_ms, 0, 86400000),
	KEY_UINT(struct wg_conf_tcp, keepalive_intvl_ms, 1, 3600000),
	KEY_UINT(struct wg_conf_tcp, keepalive_probes, 1, 255),
	KEY_UINT(struct wg_conf_tcp, echo_port, 0, 65535),
	KEY_UINT(struct wg_conf_tcp, discard_port, 0, 65535),
};

static const struct conf_key tls_keys[] = {
	KEY_STR(struct wg_conf_tls, cert, NULL),
	KEY_STR(struct wg_conf_tls, key, NULL),
	KEY_STR(struct wg_conf_tls, ca, NULL),
	KEY_STR(struct wg_conf_tls, ciphersuites, NULL),
	KEY_STR(struct wg_conf_tls, groups, NULL),
	KEY_STR(struct wg_conf_tls, alpn, NULL),
	KEY_UINT(struct wg_conf_tls, handshake_timeout_ms, 100, 600000),
	KEY_UINT(struct wg_conf_tls, tickets, 0, 16),
	/* RFC 8449 allows 64; below 512 the header and tag dominate */
	KEY_UINT(struct wg_conf_tls, record_size, 512, 16384),
	KEY_WORD(struct wg_conf_tls, crypto, crypto_modes),
};

static const struct conf_key ws_keys[] = {
	KEY_STR(struct wg_conf_ws, path, NULL),
	KEY_STR_LIST(struct wg_conf_ws, origins, n_origins),
	KEY_STR_LIST(struct wg_conf_ws, subprotocols, n_subprotocols),
	KEY_UINT(struct wg_conf_ws, max_message, 125, 1u << 30),
	KEY_UINT(struct wg_conf_ws, max_request, 512, 1u << 20),
	KEY_UINT(struct wg_conf_ws, max_headers, 8, 1024),
	KEY_UINT(struct wg_conf_ws, upgrade_timeout_ms, 100, 600000),
};

static const struct conf_key listener_keys[] = {
	KEY_UINT(struct wg_conf_listener, port, 0, 65535), /* 0: check_listener says so */
	KEY_BOOL(struct wg_conf_listener, tls),
	KEY_WORD(struct wg_conf_listener, proto, listener_protos),
	KEY_WORD(struct wg_conf_listener, service, listener_services),
	KEY_UINT(struct wg_conf_listener, max_message, 0, 1u << 30),
};

static const struct conf_key gateway_keys[] = {
	KEY_UINT(struct wg_conf_gateway, max_sessions, 16, 16777216),
	KEY_UINT(struct wg_conf_gateway, max_message, 64, 4000),
	KEY_UINT(struct wg_conf_gateway, heartbeat_ms, 100, 3600000),
	KEY_UINT(struct wg_conf_gateway, idle_timeout_ms, 0, 86400000),
	KEY_UINT(struct wg_conf_gateway, login_timeout_ms, 100, 600000),
	KEY_UINT(struct wg_conf_gateway, resume_window_ms, 0, 3600000),
	KEY_UINT(struct wg_conf_gateway, replay_max, 0, 65536),
	KEY_UINT(struct wg_conf_gateway, replay_budget, 0, 16777216),
	KEY_UINT(struct wg_conf_gateway, msg_rate, 0, 1000000),
	KEY_UINT(struct wg_conf_gateway, msg_burst, 1, 1000000),
	KEY_UINT(struct wg_conf_gateway, max_violations, 1, 1000000),
};

static const struct conf_key control_keys[] = {
	KEY_STR(struct wg_conf_control, token_keys, NULL),
	KEY_UINT(struct wg_conf_control, token_skew_s, 0, 3600),
	KEY_UINT(struct wg_conf_control, token_max_ttl_s, 1, 31536000),
	KEY_UINT(struct wg_conf_control, token_replay_slots, 16, 16777216),
	KEY_UINT(struct wg_conf_control, max_sessions, 16, 16777216),
	KEY_UINT(struct wg_conf_control, ip_logins_per_s, 0, 1000000),
	KEY_UINT(struct wg_conf_control, ip_logins_burst, 0, 1000000),
	KEY_UINT(struct wg_conf_control, ip_max_sessions, 0, 16777216),
	KEY_UINT(struct wg_conf_control, max_ips, 1, 16777216),
	KEY_STR(struct wg_conf_control, account_db, NULL),
	KEY_UINT(struct wg_conf_control, account_timeout_ms, 100, 600000),
	KEY_UINT(struct wg_conf_control, account_threads, 1, 8),
	KEY_UINT(struct wg_conf_control, account_pending, 1, 65536),
};

static const struct conf_key service_keys[] = {
	KEY_STR(struct wg_conf_service, name, NULL),
	/* 0 = not given: check_service says which is missing */
	KEY_UINT(struct wg_conf_service, first_type, 0, 0xffff),
	KEY_UINT(struct wg_conf_service, last_type, 0, 0xffff),
	KEY_UINT(struct wg_conf_service, instance_first, 0, CONF_MAX_LCORE),
	KEY_UINT(struct wg_conf_service, instances, 0, CONF_MAX_LCORE),
	KEY_WORD(struct wg_conf_service, strategy, lb_strategies),
	KEY_STR(struct wg_conf_service, weights, NULL),
};

static const struct conf_key logic_chat_keys[] = {
	KEY_UINT(struct wg_conf_logic_chat, max_rooms, 1, 1u << 20),
	KEY_UINT(struct wg_conf_logic_chat, max_members, 1, 1u << 16),
	/* a chat line and its ChatMsg must fit one 4 KiB message mbuf */
	KEY_UINT(struct wg_conf_logic_chat, max_text, 1, 3072),
	KEY_UINT(struct wg_conf_logic_chat, max_joined, 1, 255),
};

static const struct conf_section logic_chat_section = SECTION(logic_chat_keys, NULL);

static const char *const aoi_impls[] = { "inc", "grid", "ninegrid", "naive", NULL };

static const struct conf_key logic_world_keys[] = {
	/* width x pos_scale stays below the quantiser's 2^30 */
	KEY_UINT(struct wg_conf_logic_world, width, 1, 1000000),
	KEY_UINT(struct wg_conf_logic_world, height, 1, 1000000),
	KEY_UINT(struct wg_conf_logic_world, view_radius, 0, 1000000),
	KEY_UINT(struct wg_conf_logic_world, max_speed, 1, 1000000),
	KEY_UINT(struct wg_conf_logic_world, move_slack, 1, 1000),
	KEY_UINT(struct wg_conf_logic_world, max_moves, 1, 1000),
	KEY_UINT(struct wg_conf_logic_world, pos_scale, 1, 1024),
	KEY_UINT(struct wg_conf_logic_world, sync_frames, 2, 1024),
	/* a StateDelta must fit one 4 KiB message mbuf */
	KEY_UINT(struct wg_conf_logic_world, budget, 64, 3900),
	KEY_UINT(struct wg_conf_logic_world, spawn_x, 0, 1000000),
	KEY_UINT(struct wg_conf_logic_world, spawn_y, 0, 1000000),
	KEY_UINT(struct wg_conf_logic_world, spawn_spread, 0, 1000000),
	KEY_UINT(struct wg_conf_logic_world, npcs, 0, 1u << 19),
	KEY_UINT(struct wg_conf_logic_world, seed, 0, UINT32_MAX),
	KEY_WORD(struct wg_conf_logic_world, aoi, aoi_impls),
};

static const struct conf_section logic_world_section = SECTION(logic_world_keys, NULL);

static const struct conf_key logic_keys[] = {
	KEY_UINT(struct wg_conf_logic, count, 0, CONF_MAX_LCORE - 2),
	KEY_UINT(struct wg_conf_logic, tick_hz, 1, 1000),
	KEY_UINT(struct wg_conf_logic, max_catchup, 1, 1000),
	KEY_UINT(struct wg_conf_logic, max_sessions, 16, 1u << 24),
	KEY_SECTION(struct wg_conf_logic, chat, &logic_chat_section),
	KEY_SECTION(struct wg_conf_logic, world, &logic_world_section),
};

static const struct conf_section eal_section = SECTION(eal_keys, NULL);
static const struct conf_section dataplane_section = SECTION(dataplane_keys, NULL);
static const struct conf_section port_section = SECTION(port_keys, port_defaults);
static const struct conf_section instances_section = SECTION(instances_keys, NULL);
static const struct conf_section logic_section = SECTION(logic_keys, NULL);
static const struct conf_section tcp_section = SECTION(tcp_keys, NULL);
static const struct conf_section tls_section = SECTION(tls_keys, NULL);
static const struct conf_section ws_section = SECTION(ws_keys, NULL);
static const struct conf_section listener_section = SECTION(listener_keys, listener_defaults);
static const struct conf_section gateway_section = SECTION(gateway_keys, NULL);
static const struct conf_section control_section = SECTION(control_keys, NULL);
static const struct conf_section service_section = SECTION(service_keys, service_defaults);

static const struct conf_key top_keys[] = {
	KEY_SECTION(struct wg_conf, eal, &eal_section),
	KEY_SECTION(struct wg_conf, dataplane, &dataplane_section),
	KEY_LIST(struct wg_conf, ports, n_ports, &port_section),
	KEY_SECTION(struct wg_conf, instances, &instances_section),
	KEY_SECTION(struct wg_conf, tcp, &tcp_section),
	KEY_SECTION(struct wg_conf, logic, &logic_section),
	KEY_SECTION(struct wg_conf, tls, &tls_section),
	KEY_SECTION(struct wg_conf, ws, &ws_section),
	KEY_LIST(struct wg_conf, listeners, n_listeners, &listener_section),
	KEY_SECTION(struct wg_conf, gateway, &gateway_section),
	KEY_SECTION(struct wg_conf, control, &control_section),
	KEY_LIST(struct wg_conf, services, n_services, &service_section),
};

static const struct conf_section top_section = SECTION(top_keys, NULL);

_Static_assert(ARRAY_SIZE(eal_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(dataplane_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(port_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(instances_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(logic_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(logic_chat_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(logic_world_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(tcp_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(impair_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(impair_dir_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(tls_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(ws_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(listener_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(gateway_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(control_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(service_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
_Static_assert(ARRAY_SIZE(top_keys) <= CONF_SECTION_MAX_KEYS, "seen[] too small");
/* One line per top-level key, section key, port item, port key and key of a
 * port's impair section with its rx and tx. */
_Static_assert(ARRAY_SIZE(top_keys) + ARRAY_SIZE(eal_keys) + ARRAY_SIZE(dataplane_keys) +
	       ARRAY_SIZE(instances_keys) + ARRAY_SIZE(logic_keys) + ARRAY_SIZE(logic_chat_keys) +
	       ARRAY_SIZE(logic_world_keys) +
	       ARRAY_SIZE(tcp_keys) +
	       ARRAY_SIZE(tls_keys) + ARRAY_SIZE(ws_keys) + ARRAY_SIZE(gateway_keys) +
	       ARRAY_SIZE(control_keys) +
	       WG_CONF_MAX_SERVICES * (1 + ARRAY_SIZE(service_keys)) +
	       2 * WG_CONF_MAX_NAMES +
	       WG_CONF_MAX_LISTENERS * (1 + ARRAY_SIZE(listener_keys)) +
	       WG_CONF_MAX_PORTS * (1 + ARRAY_SIZE(port_keys) + ARRAY_SIZE(impair_keys) +
				    2 * ARRAY_SIZE(impair_dir_keys)) <= WG_CONF_MAX_LINES,
	       "WG_CONF_MAX_LINES too small for the tables");
/* KF_OMIT_ZERO compares bytes: no padding may hide in these. */
_Static_assert(sizeof(struct wg_conf_impair_dir) == 6 * sizeof(uint32_t), "padding");
_Static_assert(sizeof(struct wg_conf_impair) ==
	       sizeof(uint64_t) + 2 * sizeof(struct wg_conf_impair_dir), "padding");
_Static_assert(offsetof(struct wg_conf, lines) <= UINT16_MAX, "wg_conf_line.off is 16 bits");
_Static_assert(sizeof(struct wg_conf_eal) <= UINT16_MAX, "wg_conf_line.len is 16 bits");
_Static_assert(FIELD_SIZE(struct wg_conf, ports) <= UINT16_MAX, "wg_conf_line.len is 16 bits");

static const char *const log_levels[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static void
port_defaults(void *item)
{
	struct wg_conf_port *pt = item;

	memset(pt, 0, sizeof(*pt));
	pt->mtu = 1500;
	pt->rx_desc = 1024;
	pt->tx_desc = 1024;
	pt->csum_offload = true;
}

static void
listener_defaults(void *item)
{
	struct wg_conf_listener *l = item;

	memset(l, 0, sizeof(*l));
	l->tls = true;
	strcpy(l->proto, "ws");
	strcpy(l->service, "echo");
	l->max_message = 64 * 1024;
}

static void
service_defaults(void *item)
{
	struct wg_conf_service *v = item;

	memset(v, 0, sizeof(*v));
	strcpy(v->strategy, "hash");
}

void
wg_conf_defaults(struct wg_conf *c)
{
	/* memset, not designated initialisers: padding must be zero too, so
	 * two equal configs compare equal with memcmp. */
	memset(c, 0, sizeof(*c));
	strcpy(c->eal.file_prefix, "warpgate");
	strcpy(c->eal.lcores, "0-1");
	c->eal.memory_mb = 512;
	c->eal.no_huge = false;
	strcpy(c->eal.log_level, "info");

	c->dataplane.burst = 32;
	c->dataplane.idle_sleep_max_us = 200;
	c->dataplane.idle_spins = 64;
	c->dataplane.mbufs = 16383;
	c->dataplane.mbuf_cache = 256;
	c->dataplane.arp_entries = 1024;
	c->dataplane.arp_reachable_ms = 30000;
	c->dataplane.arp_retry_ms = 1000;
	c->dataplane.arp_max_probes = 3;

	c->instances.max = 8;
	c->instances.ring_size = 1024;
	c->instances.msg_mbufs = 8191;
	c->instances.heartbeat_ms = 100;
	c->instances.dead_after_ms = 1000;
	c->instances.lcore_base = 8;

	c->tcp.max_conns = 65536;
	c->tcp.syn_backlog = 1024;
	c->tcp.max_timewait = 16384;
	c->tcp.rcv_buf = 64 * 1024;
	c->tcp.snd_buf = 128 * 1024;
	c->tcp.ooo_max = 64 * 1024;
	c->tcp.rto_min_ms = 200;
	c->tcp.rto_max_ms = 60000;
	c->tcp.delack_ms = 40;
	c->tcp.timewait_ms = 60000;
	c->tcp.keepalive_ms = 0;
	c->tcp.keepalive_intvl_ms = 75000;
	c->tcp.keepalive_probes = 9;
	c->logic.count = 1;
	c->logic.tick_hz = 20;
	c->logic.max_catchup = 4;
	c->logic.max_sessions = 65536;
	c->logic.chat.max_rooms = 1024;
	c->logic.chat.max_members = 256;
	c->logic.chat.max_text = 512;
	c->logic.chat.max_joined = 8;
	c->logic.world.width = 10000;
	c->logic.world.height = 10000;
	c->logic.world.view_radius = 200;
	c->logic.world.max_speed = 200;
	c->logic.world.move_slack = 4;
	c->logic.world.max_moves = 8;
	c->logic.world.pos_scale = 16;
	c->logic.world.sync_frames = 32;
	c->logic.world.budget = 1200;
	c->logic.world.spawn_x = 5000;
	c->logic.world.spawn_y = 5000;
	c->logic.world.spawn_spread = 50;
	c->logic.world.seed = 1;
	strcpy(c->logic.world.aoi, "inc");

	strcpy(c->tls.ciphersuites, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
	strcpy(c->tls.groups, "X25519:P-256");
	strcpy(c->tls.alpn, "http/1.1");
	c->tls.handshake_timeout_ms = 10000;
	c->tls.tickets = 2;
	c->tls.record_size = 16384;
	strcpy(c->tls.crypto, "inline");

	strcpy(c->ws.path, "/");
	c->ws.max_message = 64 * 1024;
	c->ws.max_request = 8192;
	c->ws.max_headers = 64;
	c->ws.upgrade_timeout_ms = 10000;

	c->gateway.max_sessions = 16384;
	c->gateway.max_message = 4000;
	c->gateway.heartbeat_ms = 10000;
	c->gateway.idle_timeout_ms = 30000;
	c->gateway.login_timeout_ms = 10000;
	c->gateway.resume_window_ms = 30000;
	c->gateway.replay_max = 256;
	c->gateway.replay_budget = 1000;
	c->gateway.msg_rate = 50;
	c->gateway.msg_burst = 100;
	c->gateway.max_violations = 20;

	c->control.token_skew_s = 60;
	c->control.token_max_ttl_s = 86400;
	c->control.token_replay_slots = 65536;
	c->control.max_sessions = 65536;
	c->control.ip_logins_per_s = 20;
	c->control.ip_logins_burst = 40;
	c->control.ip_max_sessions = 256;
	c->control.max_ips = 65536;
	c->control.account_timeout_ms = 5000;
	c->control.account_threads = 1;
	c->control.account_pending = 256;
}

/* ---------------------------------------------------------------- errors */

static int __attribute__((format(printf, 5, 0)))
conf_verr(char *err, size_t errlen, const char *name, size_t line,
	  const char *fmt, va_list ap)
{
	int n;

	if (err == NULL || errlen == 0)
		return -EINVAL;
	n = snprintf(err, errlen, "parsing [%s:%zu]: ", name, line);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

static int __attribute__((format(printf, 5, 6)))
conf_err(char *err, size_t errlen, const char *name, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verr(err, errlen, name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* User text echoed in a message: bounded, and with control bytes made
 * visible so a crafted key cannot forge extra lines in a log. */
static const char *
shown(const char *s, size_t len, char out[CONF_SHOW_MAX + 4])
{
	size_t i, o = 0;

	for (i = 0; i < len && o < CONF_SHOW_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (i < len) {
		/* cut at a character boundary, not inside a UTF-8 sequence */
		while (o > 0 && ((unsigned char)s[o] & 0xc0) == 0x80)
			o--;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* ---------------------------------------------------------------- parser */

struct conf_parser {
	yaml_parser_t yp;
	yaml_event_t ev;               /* current event, valid while have_ev */
	bool have_ev;
	const char *name;
	const char *buf;
	size_t len;
	char *err;
	size_t errlen;
	struct wg_conf conf;           /* working copy, committed only on success */
};

static size_t
ev_line(const struct conf_parser *p)
{
	return p->ev.start_mark.line + 1;
}

static int __attribute__((format(printf, 3, 4)))
perr(struct conf_parser *p, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verr(p->err, p->errlen, p->name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *
ev_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return "a scalar";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "something else";
	}
}

static int
yaml_error(struct conf_parser *p)
{
	const yaml_parser_t *yp = &p->yp;
	const char *problem = yp->problem ? yp->problem : "unknown error";
	size_t line, i, end;

	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		conf_err(p->err, p->errlen, p->name, 0, "out of memory");
		return -ENOMEM;
	case YAML_READER_ERROR:
		/* The reader reports a byte offset, not a mark. */
		end = yp->problem_offset < p->len ? yp->problem_offset : p->len;
		for (i = 0, line = 1; i < end; i++)
			line += p->buf[i] == '\n';
		if (yp->problem_value >= 0)
			return perr(p, line, "invalid input: %s (byte 0x%02x at offset %zu)",
				    problem, (unsigned int)yp->problem_value & 0xffu,
				    yp->problem_offset);
		return perr(p, line, "invalid input: %s at offset %zu", problem,
			    yp->problem_offset);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		line = yp->problem_mark.line + 1;
		if (yp->context)
			return perr(p, line, "YAML syntax error: %s (%s at line %zu)", problem,
				    yp->context, yp->context_mark.line + 1);
		return perr(p, line, "YAML syntax error: %s", problem);
	default:
		return perr(p, yp->problem_mark.line + 1, "YAML error: %s", problem);
	}
}

/* Advances to the next event. Anchors, aliases and tags are refused here,
 * once for every node: aliases are how "billion laughs" documents grow, and
 * nothing in a config needs them. */
static int
next_event(struct conf_parser *p)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char sh[CONF_SHOW_MAX + 4];

	if (p->have_ev) {
		yaml_event_delete(&p->ev);
		p->have_ev = false;
	}
	if (!yaml_parser_parse(&p->yp, &p->ev))
		return yaml_error(p);
	p->have_ev = true;

	switch (p->ev.type) {
	case YAML_ALIAS_EVENT:
		anchor = p->ev.data.alias.anchor;
		return perr(p, ev_line(p), "anchors and aliases are not supported (alias '*%s')",
			    shown((const char *)anchor, strlen((const char *)anchor), sh));
	case YAML_SCALAR_EVENT:
		anchor = p->ev.data.scalar.anchor;
		tag = p->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = p->ev.data.sequence_start.anchor;
		tag = p->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = p->ev.data.mapping_start.anchor;
		tag = p->ev.data.mapping_start.tag;
		break;
	default:
		return 0;
	}
	if (anchor)
		return perr(p, ev_line(p), "anchors and aliases are not supported (anchor '&%s')",
			    shown((const char *)anchor, strlen((const char *)anchor), sh));
	if (tag)
		return perr(p, ev_line(p), "tags are not supported (tag '%s')",
			    shown((const char *)tag, strlen((const char *)tag), sh));
	return 0;
}

static const char *
sc_text(const struct conf_parser *p)
{
	return (const char *)p->ev.data.scalar.value;
}

static size_t
sc_len(const struct conf_parser *p)
{
	return p->ev.data.scalar.length;
}

static bool
sc_plain(const struct conf_parser *p)
{
	return p->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML's spellings of null: an absent value ("key:"), ~ and null. */
static bool
ev_is_null(const struct conf_parser *p)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (p->ev.type != YAML_SCALAR_EVENT || !sc_plain(p))
		return false;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (sc_len(p) == strlen(nulls[i]) && memcmp(sc_text(p), nulls[i], sc_len(p)) == 0)
			return true;
	return false;
}

static void
record_line(struct conf_parser *p, size_t off, size_t len, size_t line)
{
	struct wg_conf *c = &p->conf;
	unsigned int i;

	for (i = 0; i < c->n_lines; i++)
		if (c->lines[i].off == off && c->lines[i].len == len)
			break;
	if (i == WG_CONF_MAX_LINES)
		return;
	c->lines[i].off = (uint16_t)off;
	c->lines[i].len = (uint16_t)len;
	c->lines[i].line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	if (i == c->n_lines)
		c->n_lines++;
}

/* ------------------------------------------------------- value parsers */

/* Strict decimal: digits only, no sign, no leading zero (YAML 1.1 reads
 * 010 as octal; refusing it beats guessing). -ERANGE on overflow. */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Dotted quad, exactly four decimal octets, no leading zeros (inet_aton
 * would read 010 as octal). Stored in network byte order. */
static int
parse_ipv4(const char *s, size_t n, uint32_t *out)
{
	uint8_t b[4];
	size_t i = 0, start;
	unsigned int part;

	for (part = 0; part < 4; part++) {
		uint64_t v;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -EINVAL;
			i++;
		}
		start = i;
		while (i < n && i - start < 4 && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i - start > 3 || parse_u64(s + start, i - start, &v) != 0 || v > 255)
			return -EINVAL;
		b[part] = (uint8_t)v;
	}
	if (i != n)
		return -EINVAL;
	memcpy(out, b, sizeof(b));
	return 0;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
parse_mac(const char *s, size_t n, uint8_t mac[6])
{
	unsigned int i;

	if (n != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Decimal fixed point: the stored integer is the value times 10^decimals. */
struct fixed_fmt {
	unsigned int decimals;
	uint32_t scale;                /* 10^decimals */
	const char *unit;              /* required suffix, "" for none */
	const char *what;              /* for messages: "a percentage" */
	const char *example;           /* for messages: "5% or 0.25%" */
};

static const struct fixed_fmt fixed_percent = { 4, 10000, "%", "a percentage", "5% or 0.25%" };
static const struct fixed_fmt fixed_ms = { 3, 1000, "", "milliseconds", "50 or 0.5" };

static const struct fixed_fmt *
fixed_of(enum conf_type t)
{
	return t == CT_PERCENT ? &fixed_percent : &fixed_ms;
}

/* "[-]int[.frac]unit" -> value * 10^decimals. int is strict decimal as in
 * parse_u64 ("0" but no "05"), frac has 1..decimals digits. Returns 0,
 * -ENOMSG (the unit is missing), -EINVAL (anything else malformed), -E2BIG
 * (too many decimals) or -ERANGE (overflow, or a well-formed negative). */
static int
parse_fixed(const char *s, size_t n, const struct fixed_fmt *ff, uint64_t *out)
{
	size_t ulen = strlen(ff->unit), i, nd = 0;
	const char *dot;
	uint64_t ip, frac = 0;
	bool neg = false;
	int rc;

	if (n < ulen || memcmp(s + n - ulen, ff->unit, ulen) != 0)
		return -ENOMSG;
	n -= ulen;
	if (n > 1 && s[0] == '-') {
		neg = true;
		s++;
		n--;
	}
	dot = memchr(s, '.', n);
	if ((rc = parse_u64(s, dot != NULL ? (size_t)(dot - s) : n, &ip)) != 0)
		return rc;
	if (dot != NULL) {
		for (i = (size_t)(dot - s) + 1; i < n; i++, nd++) {
			if (s[i] < '0' || s[i] > '9')
				return -EINVAL;
			if (nd < ff->decimals)
				frac = frac * 10 + (uint64_t)(s[i] - '0');
		}
		if (nd == 0)
			return -EINVAL;
		if (nd > ff->decimals)
			return -E2BIG;
		for (; nd < ff->decimals; nd++)
			frac *= 10;
	}
	if (neg || ip > (UINT64_MAX - frac) / ff->scale)
		return -ERANGE;
	*out = ip * ff->scale + frac;
	return 0;
}

/* Inverse of parse_fixed: shortest exact text ("12.25%", "5%", "0.5"). */
static const char *
format_fixed(uint64_t v, const struct fixed_fmt *ff, char buf[40])
{
	uint64_t ip = v / ff->scale, frac = v % ff->scale;
	unsigned int d = ff->decimals;

	if (frac == 0) {
		snprintf(buf, 40, "%" PRIu64 "%s", ip, ff->unit);
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		d--;
	}
	snprintf(buf, 40, "%" PRIu64 ".%0*" PRIu64 "%s", ip, (int)d, frac, ff->unit);
	return buf;
}

/* ---------------------------------------------------------- setters */

static int setter_for(struct conf_parser *p, const struct conf_key *k, char *base,
		      size_t abs, const char *fpath);

static const char *const type_what[CT_NTYPES] = {
	[CT_UINT] = "an integer",
	[CT_BOOL] = "a boolean",
	[CT_STR] = "a string",
	[CT_IPV4] = "an IPv4 address",
	[CT_IPV4_CIDR] = "an IPv4 address/prefix",
	[CT_MAC] = "a MAC address",
	[CT_STR_LIST] = "a list of strings",
	[CT_SECTION] = "a mapping",
	[CT_LIST] = "a list of mappings",
	[CT_U64] = "an integer",
	[CT_PERCENT] = "a percentage",
	[CT_MS] = "milliseconds",
};

static int
want(struct conf_parser *p, const struct conf_key *k, const char *fpath,
     yaml_event_type_t type)
{
	if (p->ev.type == type)
		return 0;
	return perr(p, ev_line(p), "%s: expected %s, got %s", fpath, type_what[k->type],
		    ev_kind(&p->ev));
}

/* The scalar at the current event as an integer in lo..hi, with the
 * messages every integer key shares. */
static int
scan_uint(struct conf_parser *p, const struct conf_key *k, const char *fpath, uint64_t lo,
	  uint64_t hi, uint64_t *out)
{
	char sh[CONF_SHOW_MAX + 4];
	const char *s;
	uint64_t v = 0;
	size_t n;
	int rc;

	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	s = sc_text(p);
	n = sc_len(p);
	if (!sc_plain(p) || n == 0)
		return perr(p, ev_line(p), "%s: expected an integer in %" PRIu64 "..%" PRIu64
			    ", got %s", fpath, lo, hi,
			    n == 0 ? "an empty value" : "a quoted string");
	/* A well-formed negative number is a range error, not a syntax one. */
	rc = (n > 1 && s[0] == '-') ? parse_u64(s + 1, n - 1, &v) : parse_u64(s, n, &v);
	if (rc == -EINVAL)
		return perr(p, ev_line(p), "%s: expected an integer in %" PRIu64 "..%" PRIu64
			    ", got '%s'", fpath, lo, hi, shown(s, n, sh));
	if (rc == -ERANGE || s[0] == '-' || v < lo || v > hi)
		return perr(p, ev_line(p), "%s: %s is out of range %" PRIu64 "..%" PRIu64, fpath,
			    shown(s, n, sh), lo, hi);
	*out = v;
	return 0;
}

static int
set_uint(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	 const char *fpath)
{
	uint64_t v;
	int rc;

	(void)abs;
	if ((rc = scan_uint(p, k, fpath, k->min, k->max, &v)) != 0)
		return rc;
	switch (k->size) {
	case 1: {
		uint8_t u8 = (uint8_t)v;
		memcpy(base + k->off, &u8, 1);
		break;
	}
	case 2: {
		uint16_t u16 = (uint16_t)v;
		memcpy(base + k->off, &u16, 2);
		break;
	}
	default: {
		uint32_t u32 = (uint32_t)v;
		memcpy(base + k->off, &u32, 4);
		break;
	}
	}
	return 0;
}

static bool
word_eq(const char *s, size_t n, const char *word)
{
	size_t i;

	if (n != strlen(word))
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch != word[i])
			return false;
	}
	return true;
}

static int
set_bool(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	 const char *fpath)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	char sh[CONF_SHOW_MAX + 4];
	size_t i;
	int rc;

	(void)abs;
	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	if (!sc_plain(p))
		return perr(p, ev_line(p), "%s: expected true or false, got a quoted string",
			    fpath);
	if (sc_len(p) == 0)
		return perr(p, ev_line(p), "%s: expected true or false, got an empty value",
			    fpath);
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (word_eq(sc_text(p), sc_len(p), yes[i])) {
			*(bool *)(base + k->off) = true;
			return 0;
		}
		if (word_eq(sc_text(p), sc_len(p), no[i])) {
			*(bool *)(base + k->off) = false;
			return 0;
		}
	}
	return perr(p, ev_line(p), "%s: expected true or false (or yes/no, on/off), got '%s'",
		    fpath, shown(sc_text(p), sc_len(p), sh));
}

/* Current scalar into dst[size]; null becomes "". */
static int
copy_str(struct conf_parser *p, const char *fpath, char *dst, size_t size)
{
	size_t n = ev_is_null(p) ? 0 : sc_len(p);

	if (n >= size)
		return perr(p, ev_line(p), "%s: string is too long (%zu bytes, at most %zu)",
			    fpath, n, size - 1);
	/* "\0" in a double-quoted scalar would silently cut the C string. */
	if (memchr(sc_text(p), '\0', n) != NULL)
		return perr(p, ev_line(p), "%s: string contains a NUL byte", fpath);
	memset(dst, 0, size);
	memcpy(dst, sc_text(p), n);
	return 0;
}

static int
set_str(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	const char *fpath)
{
	int rc;

	(void)abs;
	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	return copy_str(p, fpath, base + k->off, k->size);
}

/* set_str, then every byte must be in accept. */
static int
set_str_charset(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
		const char *fpath, const char *accept, const char *accept_desc)
{
	const char *s = base + k->off;
	int rc;

	if ((rc = set_str(p, k, base, abs, fpath)) != 0)
		return rc;
	for (; *s != '\0'; s++)
		if (strchr(accept, *s) == NULL)
			return perr(p, ev_line(p), "%s: invalid character 0x%02x (allowed: %s)",
				    fpath, (unsigned char)*s, accept_desc);
	return 0;
}

#define DIGITS "0123456789"
#define ALNUM DIGITS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* The prefix names files under /var/run/dpdk and in hugetlbfs. */
static int
set_file_prefix(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
		const char *fpath)
{
	return set_str_charset(p, k, base, abs, fpath, ALNUM "_-.",
			       "letters, digits, '_', '-', '.'");
}

/* One of the key's words; the message lists them. */
static int
set_word(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	 const char *fpath)
{
	const char *s = base + k->off;
	char list[128];
	size_t used = 0;
	unsigned int i;
	int rc;

	if ((rc = set_str(p, k, base, abs, fpath)) != 0)
		return rc;
	for (i = 0; k->words[i] != NULL; i++)
		if (strcmp(s, k->words[i]) == 0)
			return 0;
	list[0] = '\0';
	for (i = 0; k->words[i] != NULL && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s'%s'",
					 i > 0 ? ", " : "", k->words[i]);
	return perr(p, ev_line(p), "%s: '%s' is not one of %s", fpath, s, list);
}

/* Passed to the EAL as -l, whose syntax is "0-1", "0,2,4". */
static int
set_lcores(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	   const char *fpath)
{
	return set_str_charset(p, k, base, abs, fpath, DIGITS ",-", "digits, ',', '-'");
}

static int
set_ipv4(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	 const char *fpath)
{
	char sh[CONF_SHOW_MAX + 4];
	uint32_t a = 0;
	int rc;

	(void)abs;
	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	if (!ev_is_null(p) && parse_ipv4(sc_text(p), sc_len(p), &a) != 0) {
		if (memchr(sc_text(p), '/', sc_len(p)) != NULL)
			return perr(p, ev_line(p), "%s: '%s' is not an IPv4 address "
				    "(a plain address, without a prefix length)", fpath,
				    shown(sc_text(p), sc_len(p), sh));
		return perr(p, ev_line(p), "%s: '%s' is not an IPv4 address", fpath,
			    shown(sc_text(p), sc_len(p), sh));
	}
	memcpy(base + k->off, &a, sizeof(a));
	return 0;
}

static int
set_cidr(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	 const char *fpath)
{
	char sh[CONF_SHOW_MAX + 4];
	const char *s, *slash;
	uint32_t a = 0;
	uint64_t plen = 0;
	uint8_t u8;
	size_t n;
	int rc;

	(void)abs;
	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	s = sc_text(p);
	n = sc_len(p);
	if (!ev_is_null(p)) {
		slash = memchr(s, '/', n);
		if (slash == NULL && parse_ipv4(s, n, &a) == 0)
			return perr(p, ev_line(p), "%s: '%s' needs a prefix length, e.g. '%s/24'",
				    fpath, shown(s, n, sh), shown(s, n, sh));
		if (slash == NULL || parse_ipv4(s, (size_t)(slash - s), &a) != 0 ||
		    (rc = parse_u64(slash + 1, n - (size_t)(slash - s) - 1, &plen)) == -EINVAL)
			return perr(p, ev_line(p), "%s: '%s' is not an IPv4 address/prefix "
				    "(a.b.c.d/n)", fpath, shown(s, n, sh));
		if (rc == -ERANGE || plen > 32)
			return perr(p, ev_line(p), "%s: prefix length in '%s' is out of range 0..32",
				    fpath, shown(s, n, sh));
	}
	memcpy(base + k->off, &a, sizeof(a));
	u8 = (uint8_t)plen;
	memcpy(base + k->aux, &u8, 1);
	return 0;
}

static int
set_mac(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	const char *fpath)
{
	char sh[CONF_SHOW_MAX + 4];
	uint8_t mac[6] = { 0 };
	bool isset = false;
	int rc;

	(void)abs;
	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	if (!ev_is_null(p)) {
		if (parse_mac(sc_text(p), sc_len(p), mac) != 0)
			return perr(p, ev_line(p), "%s: '%s' is not a MAC address "
				    "(xx:xx:xx:xx:xx:xx)", fpath, shown(sc_text(p), sc_len(p), sh));
		isset = true;
	}
	memcpy(base + k->off, mac, sizeof(mac));
	*(bool *)(base + k->aux) = isset;
	return 0;
}

static int
set_u64(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	const char *fpath)
{
	uint64_t v;
	int rc;

	(void)abs;
	if ((rc = scan_uint(p, k, fpath, 0, UINT64_MAX, &v)) != 0)
		return rc;
	memcpy(base + k->off, &v, sizeof(v));
	return 0;
}

/* CT_PERCENT and CT_MS: decimal text to a scaled uint32_t. */
static int
set_fixed(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	  const char *fpath)
{
	const struct fixed_fmt *ff = fixed_of(k->type);
	char sh[CONF_SHOW_MAX + 4], lo[40], hi[40];
	const char *s;
	uint64_t v = 0;
	uint32_t u32;
	size_t n;
	int rc;

	(void)abs;
	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	s = sc_text(p);
	n = sc_len(p);
	if (!sc_plain(p) || n == 0)
		return perr(p, ev_line(p), "%s: expected %s like %s, got %s", fpath, ff->what,
			    ff->example, n == 0 ? "an empty value" : "a quoted string");
	rc = parse_fixed(s, n, ff, &v);
	if (rc == 0 && (v < k->min || v > k->max))
		rc = -ERANGE;
	switch (rc) {
	case 0:
		break;
	case -ERANGE:
		return perr(p, ev_line(p), "%s: %s is out of range %s..%s", fpath, shown(s, n, sh),
			    format_fixed(k->min, ff, lo), format_fixed(k->max, ff, hi));
	case -ENOMSG:
		return perr(p, ev_line(p), "%s: '%s' has no '%s' sign (write e.g. %s)", fpath,
			    shown(s, n, sh), ff->unit, ff->example);
	case -E2BIG:
		return perr(p, ev_line(p), "%s: '%s' has more than %u decimals", fpath,
			    shown(s, n, sh), ff->decimals);
	default:
		return perr(p, ev_line(p), "%s: expected %s like %s, got '%s'", fpath, ff->what,
			    ff->example, shown(s, n, sh));
	}
	u32 = (uint32_t)v;
	memcpy(base + k->off, &u32, sizeof(u32));
	return 0;
}

/* A list replaces what was there: items are not merged with earlier ones. */
static int
set_str_list(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	     const char *fpath)
{
	size_t max = k->size / k->elem;
	char ipath[128];
	unsigned int n = 0;
	int rc;

	(void)abs;
	memset(base + k->off, 0, k->size);
	memcpy(base + k->aux, &n, sizeof(n));
	if (ev_is_null(p))
		return 0;
	if ((rc = want(p, k, fpath, YAML_SEQUENCE_START_EVENT)) != 0)
		return rc;
	for (;;) {
		if ((rc = next_event(p)) != 0)
			return rc;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (n == max)
			return perr(p, ev_line(p), "%s: too many items (at most %zu)", fpath, max);
		snprintf(ipath, sizeof(ipath), "%s[%u]", fpath, n);
		if (p->ev.type != YAML_SCALAR_EVENT)
			return perr(p, ev_line(p), "%s: expected a string, got %s", ipath,
				    ev_kind(&p->ev));
		if ((rc = copy_str(p, ipath, base + k->off + n * k->elem, k->elem)) != 0)
			return rc;
		n++;
		memcpy(base + k->aux, &n, sizeof(n));
	}
	return 0;
}

static const char *
where(const char *path, char *buf, size_t len)
{
	if (path[0] == '\0')
		return "at top level";
	snprintf(buf, len, "in section '%s'", path);
	return buf;
}

/* Reads the pairs of the mapping whose start event is current, up to its
 * end. base is the struct the section's keys are offsets into. */
static int
walk_mapping(struct conf_parser *p, const struct conf_section *sec, char *base,
	     size_t abs, const char *path)
{
	size_t seen[CONF_SECTION_MAX_KEYS] = { 0 };   /* line of each key given */
	char sh[CONF_SHOW_MAX + 4], wh[160], fpath[128];
	const struct conf_key *k;
	size_t line;
	unsigned int i;
	int rc;

	for (;;) {
		if ((rc = next_event(p)) != 0)
			return rc;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		line = ev_line(p);
		if (p->ev.type != YAML_SCALAR_EVENT)
			return perr(p, line, "expected a key %s, got %s",
				    where(path, wh, sizeof(wh)), ev_kind(&p->ev));
		for (i = 0, k = NULL; i < sec->n_keys; i++) {
			if (sc_len(p) == strlen(sec->keys[i].name) &&
			    memcmp(sc_text(p), sec->keys[i].name, sc_len(p)) == 0) {
				k = &sec->keys[i];
				break;
			}
		}
		if (k == NULL)
			return perr(p, line, "unknown key '%s' %s",
				    shown(sc_text(p), sc_len(p), sh), where(path, wh, sizeof(wh)));
		if (seen[i] != 0)
			return perr(p, line, "duplicate key '%s' %s (first at line %zu)", k->name,
				    where(path, wh, sizeof(wh)), seen[i]);
		seen[i] = line;
		record_line(p, abs + k->off, k->size, line);
		if (path[0] == '\0')
			snprintf(fpath, sizeof(fpath), "%s", k->name);
		else
			snprintf(fpath, sizeof(fpath), "%s.%s", path, k->name);
		if ((rc = next_event(p)) != 0)
			return rc;
		if ((rc = setter_for(p, k, base, abs, fpath)) != 0)
			return rc;
	}
}

static int
set_section(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	    const char *fpath)
{
	int rc;

	/* "eal:" with every key commented out is an empty section, not an error. */
	if (ev_is_null(p))
		return 0;
	if ((rc = want(p, k, fpath, YAML_MAPPING_START_EVENT)) != 0)
		return rc;
	return walk_mapping(p, k->sub, base + k->off, abs + k->off, fpath);
}

static int
set_list(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	 const char *fpath)
{
	size_t max = k->size / k->elem, off;
	char ipath[128];
	unsigned int n = 0;
	int rc;

	memset(base + k->off, 0, k->size);
	memcpy(base + k->aux, &n, sizeof(n));
	if (ev_is_null(p))
		return 0;
	if ((rc = want(p, k, fpath, YAML_SEQUENCE_START_EVENT)) != 0)
		return rc;
	for (;;) {
		if ((rc = next_event(p)) != 0)
			return rc;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (n == max)
			return perr(p, ev_line(p), "%s: too many items (at most %zu)", fpath, max);
		snprintf(ipath, sizeof(ipath), "%s[%u]", fpath, n);
		if (p->ev.type != YAML_MAPPING_START_EVENT)
			return perr(p, ev_line(p), "%s: expected a mapping, got %s", ipath,
				    ev_kind(&p->ev));
		off = k->off + n * k->elem;
		if (k->sub->init != NULL)
			k->sub->init(base + off);
		record_line(p, abs + off, k->elem, ev_line(p));
		n++;
		memcpy(base + k->aux, &n, sizeof(n));
		if ((rc = walk_mapping(p, k->sub, base + off, abs + off, ipath)) != 0)
			return rc;
	}
}

static const conf_set_t type_set[CT_NTYPES] = {
	[CT_UINT] = set_uint,
	[CT_BOOL] = set_bool,
	[CT_STR] = set_str,
	[CT_IPV4] = set_ipv4,
	[CT_IPV4_CIDR] = set_cidr,
	[CT_MAC] = set_mac,
	[CT_STR_LIST] = set_str_list,
	[CT_SECTION] = set_section,
	[CT_LIST] = set_list,
	[CT_U64] = set_u64,
	[CT_PERCENT] = set_fixed,
	[CT_MS] = set_fixed,
};

static int
setter_for(struct conf_parser *p, const struct conf_key *k, char *base, size_t abs,
	   const char *fpath)
{
	conf_set_t set = k->set != NULL ? k->set : type_set[k->type];

	return set(p, k, base, abs, fpath);
}

/* Well-formedness first: a syntax error is reported as such even when an
 * earlier key would fail to convert (a mis-indented line turns the value
 * above it into "1023 idle_spins"). Events are only looked at here, never
 * expanded, and with nesting capped this pass is linear in the input. */
static int
check_syntax(struct conf_parser *p)
{
	unsigned int depth = 0;
	yaml_event_type_t type;
	size_t line;

	do {
		if (!yaml_parser_parse(&p->yp, &p->ev))
			return yaml_error(p);
		type = p->ev.type;
		line = p->ev.start_mark.line + 1;
		yaml_event_delete(&p->ev);
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > CONF_MAX_DEPTH)
				return perr(p, line, "nesting is deeper than %d levels",
					    CONF_MAX_DEPTH);
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
	} while (type != YAML_STREAM_END_EVENT);
	return 0;
}

/* stream-start, at most one document whose root is a mapping (or null),
 * stream-end. */
static int
parse_stream(struct conf_parser *p)
{
	int rc;

	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type != YAML_STREAM_START_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at stream start");
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return 0;
	if (p->ev.type != YAML_DOCUMENT_START_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at document start");
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type == YAML_MAPPING_START_EVENT) {
		if ((rc = walk_mapping(p, &top_section, (char *)&p->conf, 0, "")) != 0)
			return rc;
	} else if (!ev_is_null(p)) {
		return perr(p, ev_line(p), "expected a mapping of sections at top level, got %s",
			    ev_kind(&p->ev));
	}
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type != YAML_DOCUMENT_END_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at document end");
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type == YAML_DOCUMENT_START_EVENT)
		return perr(p, ev_line(p), "only one YAML document is allowed");
	if (p->ev.type != YAML_STREAM_END_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at stream end");
	return 0;
}

static void
copy_trunc(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

int
wg_conf_parse_string(struct wg_conf *c, const char *name, const char *buf, size_t len,
		     char *err, size_t errlen)
{
	struct conf_parser *p;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL)
		name = "config";
	if (c == NULL || (buf == NULL && len > 0))
		return conf_err(err, errlen, name, 0, "invalid arguments");
	/* Heap, not stack: the working copy is several KiB. */
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		conf_err(err, errlen, name, 0, "out of memory");
		return -ENOMEM;
	}
	p->name = name;
	p->buf = buf != NULL ? buf : "";
	p->len = len;
	p->err = err;
	p->errlen = errlen;
	memcpy(&p->conf, c, sizeof(*c));
	copy_trunc(p->conf.path, sizeof(p->conf.path), name);
	/* Lines belong to the text being parsed now, not to an earlier one. */
	memset(p->conf.lines, 0, sizeof(p->conf.lines));
	p->conf.n_lines = 0;

	if (!yaml_parser_initialize(&p->yp))
		goto nomem;
	yaml_parser_set_input_string(&p->yp, (const unsigned char *)p->buf, len);
	rc = check_syntax(p);
	yaml_parser_delete(&p->yp);
	if (rc != 0)
		goto out_free;

	if (!yaml_parser_initialize(&p->yp))
		goto nomem;
	yaml_parser_set_input_string(&p->yp, (const unsigned char *)p->buf, len);
	rc = parse_stream(p);
	if (p->have_ev)
		yaml_event_delete(&p->ev);
	yaml_parser_delete(&p->yp);
	if (rc == 0)
		memcpy(c, &p->conf, sizeof(*c));
out_free:
	free(p);
	return rc;
nomem:
	conf_err(err, errlen, name, 0, "out of memory");
	free(p);
	return -ENOMEM;
}

/* ------------------------------------------------------------ validate */

struct conf_check {
	const struct wg_conf *c;
	const char *name;
	char *err;
	size_t errlen;
};

static size_t
line_of(const struct conf_check *v, size_t off, size_t len)
{
	unsigned int i, n = v->c->n_lines < WG_CONF_MAX_LINES ? v->c->n_lines : WG_CONF_MAX_LINES;

	for (i = 0; i < n; i++)
		if (v->c->lines[i].off == off && v->c->lines[i].len == len)
			return v->c->lines[i].line;
	return 0;
}

/* Line of a field, else of the enclosing list item or section, else 0. */
#define LINE(v, f) line_of(v, offsetof(struct wg_conf, f), FIELD_SIZE(struct wg_conf, f))
#define PORT_OFF(i, f) (offsetof(struct wg_conf, ports) + \
			(i) * sizeof(struct wg_conf_port) + offsetof(struct wg_conf_port, f))
#define PORT_LINE(v, i, f) item_line(v, offsetof(struct wg_conf, ports), \
				     sizeof(struct wg_conf_port), i, PORT_OFF(i, f), \
				     FIELD_SIZE(struct wg_conf_port, f))

/* Line of a field of list item i, else of the item itself. */
static size_t
item_line(const struct conf_check *v, size_t list_off, size_t item_size, unsigned int i,
	  size_t off, size_t len)
{
	size_t line = line_of(v, off, len);

	if (line == 0)
		line = line_of(v, list_off + i * item_size, item_size);
	return line;
}

static int __attribute__((format(printf, 3, 4)))
verr(const struct conf_check *v, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verr(v->err, v->errlen, v->name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static uint32_t
load_u32(const char *field, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	switch (size) {
	case 1:
		memcpy(&u8, field, 1);
		return u8;
	case 2:
		memcpy(&u16, field, 2);
		return u16;
	default:
		memcpy(&u32, field, 4);
		return u32;
	}
}

/* What the parser enforces, re-checked from the same tables, so a struct
 * filled in by code (tests, tools) gets the same guarantees. */
static int
check_tables(const struct conf_check *v, const struct conf_section *sec, const char *base,
	     size_t abs, const char *path)
{
	char fpath[128];
	unsigned int i, j, n;
	size_t line;
	int rc;

	for (i = 0; i < sec->n_keys; i++) {
		const struct conf_key *k = &sec->keys[i];
		const char *f = base + k->off;

		if (path[0] == '\0')
			snprintf(fpath, sizeof(fpath), "%s", k->name);
		else
			snprintf(fpath, sizeof(fpath), "%s.%s", path, k->name);
		line = line_of(v, abs + k->off, k->size);
		switch (k->type) {
		case CT_UINT: {
			uint32_t x = load_u32(f, k->size);

			if (x < k->min || x > k->max)
				return verr(v, line, "%s: %u is out of range %u..%u", fpath, x,
					    k->min, k->max);
			break;
		}
		case CT_PERCENT:
		case CT_MS: {
			uint32_t x = load_u32(f, k->size);
			char a[40], lo[40], hi[40];

			if (x < k->min || x > k->max)
				return verr(v, line, "%s: %s is out of range %s..%s", fpath,
					    format_fixed(x, fixed_of(k->type), a),
					    format_fixed(k->min, fixed_of(k->type), lo),
					    format_fixed(k->max, fixed_of(k->type), hi));
			break;
		}
		case CT_STR:
			if (memchr(f, '\0', k->size) == NULL)
				return verr(v, line, "%s: string is not NUL-terminated", fpath);
			for (j = 0; k->words != NULL && k->words[j] != NULL; j++)
				if (strcmp(f, k->words[j]) == 0)
					break;
			if (k->words != NULL && k->words[j] == NULL)
				return verr(v, line, "%s: '%s' is not an accepted value", fpath, f);
			break;
		case CT_IPV4_CIDR:
			if (*(const uint8_t *)(base + k->aux) > 32)
				return verr(v, line, "%s: prefix length %u is out of range 0..32",
					    fpath, *(const uint8_t *)(base + k->aux));
			break;
		case CT_STR_LIST:
			memcpy(&n, base + k->aux, sizeof(n));
			if (n > k->size / k->elem)
				return verr(v, line, "%s: too many items (%u, at most %zu)", fpath,
					    n, k->size / k->elem);
			for (j = 0; j < n; j++)
				if (memchr(f + j * k->elem, '\0', k->elem) == NULL)
					return verr(v, line, "%s[%u]: string is not NUL-terminated",
						    fpath, j);
			break;
		case CT_SECTION:
			if ((rc = check_tables(v, k->sub, f, abs + k->off, fpath)) != 0)
				return rc;
			break;
		case CT_LIST:
			memcpy(&n, base + k->aux, sizeof(n));
			if (n > k->size / k->elem)
				return verr(v, line, "%s: too many items (%u, at most %zu)", fpath,
					    n, k->size / k->elem);
			for (j = 0; j < n; j++) {
				char ipath[160];

				snprintf(ipath, sizeof(ipath), "%s[%u]", fpath, j);
				rc = check_tables(v, k->sub, f + j * k->elem,
						  abs + k->off + j * k->elem, ipath);
				if (rc != 0)
					return rc;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

static uint32_t
host_order(uint32_t be)
{
	uint8_t b[4];

	memcpy(b, &be, 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* "a.b.c.d" of a host-order address. */
static const char *
ip_str(uint32_t h, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", h >> 24, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
	return buf;
}

static bool
is_pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static int
check_port(const struct conf_check *v, unsigned int i)
{
	const struct wg_conf_port *pt = &v->c->ports[i];
	uint32_t ip = host_order(pt->ipv4), gw = host_order(pt->gateway), mask, net;
	char a[16], b[16];
	unsigned int j;

	if (pt->name[0] == '\0')
		return verr(v, PORT_LINE(v, i, name), "ports[%u].name is required", i);
	if (pt->dev[0] == '\0')
		return verr(v, PORT_LINE(v, i, dev), "ports[%u].dev is required", i);
	if (pt->ipv4 == 0)
		return verr(v, PORT_LINE(v, i, ipv4), "ports[%u].ipv4 is required", i);
	if (pt->prefix_len < 1 || pt->prefix_len > 32)
		return verr(v, PORT_LINE(v, i, ipv4),
			    "ports[%u].ipv4 prefix length %u is out of range 1..32", i,
			    pt->prefix_len);
	mask = UINT32_MAX << (32 - pt->prefix_len);
	net = ip & mask;
	/* /31 and /32 have no network or broadcast address (RFC 3021). */
	if (pt->prefix_len <= 30 && (ip == net || ip == (net | ~mask)))
		return verr(v, PORT_LINE(v, i, ipv4),
			    "ports[%u].ipv4 %s is the %s address of %s/%u", i, ip_str(ip, a),
			    ip == net ? "network" : "broadcast", ip_str(net, b), pt->prefix_len);
	if (pt->gateway != 0 && (gw & mask) != net)
		return verr(v, PORT_LINE(v, i, gateway), "ports[%u].gateway %s is outside %s/%u",
			    i, ip_str(gw, a), ip_str(net, b), pt->prefix_len);
	if (pt->gateway != 0 && gw == ip)
		return verr(v, PORT_LINE(v, i, gateway),
			    "ports[%u].gateway %s is the port's own address", i, ip_str(gw, a));
	if (pt->mac_set && (pt->mac[0] & 0x01))
		return verr(v, PORT_LINE(v, i, mac),
			    "ports[%u].mac is a multicast address (low bit of the first octet set)",
			    i);
	if (pt->mac_set && memcmp(pt->mac, "\0\0\0\0\0\0", 6) == 0)
		return verr(v, PORT_LINE(v, i, mac), "ports[%u].mac is all zeros", i);
	for (j = 0; j < i; j++) {
		if (strcmp(v->c->ports[j].name, pt->name) == 0)
			return verr(v, PORT_LINE(v, i, name),
				    "ports[%u].name '%s' is already used by ports[%u]", i, pt->name,
				    j);
		if (strcmp(v->c->ports[j].dev, pt->dev) == 0)
			return verr(v, PORT_LINE(v, i, dev),
				    "ports[%u].dev '%s' is already used by ports[%u]", i, pt->dev, j);
	}
	return 0;
}

#define LST_OFF(i, f) (offsetof(struct wg_conf, listeners) + \
		       (i) * sizeof(struct wg_conf_listener) + offsetof(struct wg_conf_listener, f))
#define LST_LINE(v, i, f) item_line(v, offsetof(struct wg_conf, listeners), \
				    sizeof(struct wg_conf_listener), i, LST_OFF(i, f), \
				    FIELD_SIZE(struct wg_conf_listener, f))

static int
check_listener(const struct conf_check *v, unsigned int i)
{
	const struct wg_conf_listener *l = &v->c->listeners[i];
	const struct wg_conf *c = v->c;
	unsigned int j;

	if (l->port == 0)
		return verr(v, LST_LINE(v, i, port), "listeners[%u].port is required", i);
	if (l->port == c->tcp.echo_port || l->port == c->tcp.discard_port)
		return verr(v, LST_LINE(v, i, port),
			    "listeners[%u].port %u is taken by tcp.%s_port", i, l->port,
			    l->port == c->tcp.echo_port ? "echo" : "discard");
	for (j = 0; j < i; j++)
		if (c->listeners[j].port == l->port)
			return verr(v, LST_LINE(v, i, port),
				    "listeners[%u].port %u is already used by listeners[%u]", i,
				    l->port, j);
	if (!l->tls && !c->dataplane.dev_mode)
		return verr(v, LST_LINE(v, i, tls),
			    "listeners[%u] without TLS needs dataplane.dev_mode: true "
			    "(plain ws:// and framed TCP are for development)", i);
	if (l->tls && (c->tls.cert[0] == '\0' || c->tls.key[0] == '\0'))
		return verr(v, LST_LINE(v, i, tls),
			    "listeners[%u] uses TLS: tls.cert and tls.key are required", i);
	if (strcmp(l->proto, "framed") == 0 && l->max_message == 0)
		return verr(v, LST_LINE(v, i, max_message),
			    "listeners[%u].max_message must be at least 1 for framed", i);
	return 0;
}

int
wg_conf_weights(const char *s, uint32_t *out, unsigned int max)
{
	unsigned int n = 0;

	while (*s != '\0') {
		uint32_t w = 0;
		unsigned int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 5) {
			w = w * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || w < 1 || w > 1000 || n == max)
			return -EINVAL;
		if (out != NULL)
			out[n] = w;
		n++;
		if (*s == ',' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			return -EINVAL;
	}
	return (int)n;
}

#define SVC_OFF(i, f) (offsetof(struct wg_conf, services) + \
		       (i) * sizeof(struct wg_conf_service) + offsetof(struct wg_conf_service, f))
#define SVC_LINE(v, i, f) item_line(v, offsetof(struct wg_conf, services), \
				    sizeof(struct wg_conf_service), i, SVC_OFF(i, f), \
				    FIELD_SIZE(struct wg_conf_service, f))

static int
check_service(const struct conf_check *v, unsigned int i)
{
	const struct wg_conf_service *sv = &v->c->services[i];
	const struct wg_conf *c = v->c;
	unsigned int j;

	if (sv->name[0] == '\0')
		return verr(v, SVC_LINE(v, i, name), "services[%u].name is required", i);
	if (sv->first_type < 0x100 || sv->last_type < 0x100)
		return verr(v, SVC_LINE(v, i, first_type),
			    "services[%u] (%s): first_type and last_type are required, in 256..65535",
			    i, sv->name);
	if (sv->last_type < sv->first_type)
		return verr(v, SVC_LINE(v, i, last_type),
			    "services[%u] (%s): first_type and last_type must give a range "
			    "(first_type <= last_type)", i, sv->name);
	if (sv->first_type <= 0x1ff && sv->last_type >= 0x100)
		return verr(v, SVC_LINE(v, i, first_type),
			    "services[%u] (%s): types 0x100-0x1ff are the session protocol's "
			    "(login, heartbeat, ...), not a service's", i, sv->name);
	if (sv->instance_first >= c->logic.count ||
	    sv->instance_first + sv->instances > c->logic.count)
		return verr(v, SVC_LINE(v, i, instance_first),
			    "services[%u] (%s): logic instances %u..%u, but logic.count is %u", i,
			    sv->name, sv->instance_first,
			    sv->instance_first + (sv->instances ? sv->instances : 1) - 1,
			    c->logic.count);
	if (sv->weights[0] != '\0') {
		unsigned int n = sv->instances ? sv->instances : c->logic.count - sv->instance_first;

		if (wg_conf_weights(sv->weights, NULL, n) != (int)n)
			return verr(v, SVC_LINE(v, i, weights),
				    "services[%u] (%s): weights '%s' must be %u comma-separated "
				    "numbers in 1..1000, one per instance", i, sv->name, sv->weights,
				    n);
	}
	for (j = 0; j < i; j++) {
		const struct wg_conf_service *o = &c->services[j];

		if (strcmp(o->name, sv->name) == 0)
			return verr(v, SVC_LINE(v, i, name),
				    "services[%u].name '%s' is already used by services[%u]", i,
				    sv->name, j);
		if (sv->first_type <= o->last_type && o->first_type <= sv->last_type)
			return verr(v, SVC_LINE(v, i, first_type),
				    "services[%u] (%s): types %#x-%#x overlap services[%u] (%s)", i,
				    sv->name, sv->first_type, sv->last_type, j, o->name);
	}
	return 0;
}

int
wg_conf_validate(const struct wg_conf *c, char *err, size_t errlen)
{
	struct conf_check v = { .c = c, .err = err, .errlen = errlen };
	const struct wg_conf_dataplane *dp;
	const struct wg_conf_instances *in;
	unsigned int i;
	bool known;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c == NULL)
		return conf_err(err, errlen, "config", 0, "invalid arguments");
	v.name = c->path[0] != '\0' && memchr(c->path, '\0', sizeof(c->path)) != NULL ?
		 c->path : "config";
	dp = &c->dataplane;
	in = &c->instances;

	if ((rc = check_tables(&v, &top_section, (const char *)c, 0, "")) != 0)
		return rc;

	if (c->eal.file_prefix[0] == '\0')
		return verr(&v, LINE(&v, eal.file_prefix), "eal.file_prefix must not be empty");
	if (c->eal.lcores[0] == '\0')
		return verr(&v, LINE(&v, eal.lcores), "eal.lcores must not be empty");
	for (i = 0, known = false; i < ARRAY_SIZE(log_levels); i++)
		known |= strcmp(c->eal.log_level, log_levels[i]) == 0;
	if (!known)
		return verr(&v, LINE(&v, eal.log_level), "eal.log_level '%s' is not one of "
			    "emerg, alert, crit, err, warning, notice, info, debug",
			    c->eal.log_level);

	/* rte_mempool_create refuses cache_size * 1.5 > n. */
	if ((uint64_t)dp->mbuf_cache * 3 > (uint64_t)dp->mbufs * 2)
		return verr(&v, LINE(&v, dataplane.mbuf_cache),
			    "dataplane.mbuf_cache %u is larger than dataplane.mbufs / 1.5 (%u)",
			    dp->mbuf_cache, (unsigned int)((uint64_t)dp->mbufs * 2 / 3));
	if (!is_pow2(dp->arp_entries))
		return verr(&v, LINE(&v, dataplane.arp_entries),
			    "dataplane.arp_entries %u is not a power of 2", dp->arp_entries);

	if (c->n_ports == 0)
		return verr(&v, LINE(&v, ports),
			    "no ports: at least one entry under 'ports' is required");
	for (i = 0; i < c->n_ports; i++)
		if ((rc = check_port(&v, i)) != 0)
			return rc;

	if (!is_pow2(in->ring_size))
		return verr(&v, LINE(&v, instances.ring_size),
			    "instances.ring_size %u is not a power of 2", in->ring_size);
	if (in->dead_after_ms <= in->heartbeat_ms)
		return verr(&v, LINE(&v, instances.dead_after_ms),
			    "instances.dead_after_ms %u must be greater than "
			    "instances.heartbeat_ms %u", in->dead_after_ms, in->heartbeat_ms);
	if (c->tcp.rto_min_ms > c->tcp.rto_max_ms)
		return verr(&v, LINE(&v, tcp.rto_min_ms),
			    "tcp.rto_min_ms %u is above tcp.rto_max_ms %u", c->tcp.rto_min_ms,
			    c->tcp.rto_max_ms);
	if (c->tcp.echo_port != 0 && c->tcp.echo_port == c->tcp.discard_port)
		return verr(&v, LINE(&v, tcp.discard_port),
			    "tcp.echo_port and tcp.discard_port are both %u", c->tcp.echo_port);
	for (i = 0; i < c->n_listeners; i++)
		if ((rc = check_listener(&v, i)) != 0)
			return rc;
	for (i = 0; i < c->n_services; i++)
		if ((rc = check_service(&v, i)) != 0)
			return rc;
	if (c->gateway.replay_max > c->gateway.replay_budget)
		return verr(&v, LINE(&v, gateway.replay_max),
			    "gateway.replay_max %u is above gateway.replay_budget %u",
			    c->gateway.replay_max, c->gateway.replay_budget);
	/* replayable messages hold message mbufs, which control, logic and
	 * every ring share: unacknowledged clients must not drain the pool */
	if ((uint64_t)c->gateway.replay_budget > in->msg_mbufs / 2)
		return verr(&v, LINE(&v, gateway.replay_budget),
			    "gateway.replay_budget %u is above half of instances.msg_mbufs (%u): "
			    "clients that never acknowledge would starve the rings",
			    c->gateway.replay_budget, in->msg_mbufs / 2);
	/* The control process takes one registry slot. */
	if (c->logic.count >= in->max)
		return verr(&v, LINE(&v, logic.count),
			    "logic.count %u must be less than instances.max %u", c->logic.count,
			    in->max);
	if ((uint64_t)in->lcore_base + 1 + c->logic.count >= CONF_MAX_LCORE)
		return verr(&v, LINE(&v, instances.lcore_base),
			    "instances.lcore_base %u + 1 + logic.count %u must be below %u "
			    "(RTE_MAX_LCORE)", in->lcore_base, c->logic.count, CONF_MAX_LCORE);
	if (c->logic.world.spawn_x > c->logic.world.width)
		return verr(&v, LINE(&v, logic.world.spawn_x),
			    "logic.world.spawn_x %u is outside the world (width %u)",
			    c->logic.world.spawn_x, c->logic.world.width);
	if (c->logic.world.spawn_y > c->logic.world.height)
		return verr(&v, LINE(&v, logic.world.spawn_y),
			    "logic.world.spawn_y %u is outside the world (height %u)",
			    c->logic.world.spawn_y, c->logic.world.height);
	return 0;
}

/* ---------------------------------------------------------------- load */

static int
read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	size_t cap = 4096, len = 0, got;
	char *buf = NULL, *nbuf;
	FILE *f;
	int rc;

	errno = 0;
	f = fopen(path, "rb");
	if (f == NULL) {
		rc = errno != 0 ? -errno : -EIO;
		conf_err(err, errlen, path, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	for (;;) {
		if (len == cap || buf == NULL) {
			if (buf != NULL)
				cap *= 2;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				rc = -ENOMEM;
				conf_err(err, errlen, path, 0, "out of memory");
				goto err;
			}
			buf = nbuf;
		}
		errno = 0;
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > CONF_FILE_MAX) {
			rc = -EFBIG;
			conf_err(err, errlen, path, 0, "file is larger than %u bytes", CONF_FILE_MAX);
			goto err;
		}
		if (got == 0 || len < cap) {
			if (ferror(f)) {
				rc = errno != 0 ? -errno : -EIO;
				conf_err(err, errlen, path, 0, "cannot read: %s", strerror(-rc));
				goto err;
			}
			if (feof(f))
				break;
		}
	}
	fclose(f);
	*out = buf;
	*outlen = len;
	return 0;
err:
	free(buf);
	fclose(f);
	return rc;
}

int
wg_conf_load(struct wg_conf *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c == NULL || path == NULL)
		return conf_err(err, errlen, path ? path : "config", 0, "invalid arguments");
	wg_conf_defaults(c);
	copy_trunc(c->path, sizeof(c->path), path);
	if ((rc = read_file(path, &buf, &len, err, errlen)) != 0)
		goto out;
	if ((rc = wg_conf_parse_string(c, path, buf, len, err, errlen)) != 0)
		goto out;
	rc = wg_conf_validate(c, err, errlen);
out:
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- dump */

/* Double-quoted YAML that reads back byte for byte: escape what a quoted
 * scalar would otherwise fold or refuse (line breaks incl. NEL/LS/PS, C0
 * and C1 controls, BOM, non-characters). Input is valid UTF-8 because
 * libyaml checked it on the way in. */
static void
dump_quoted(FILE *f, const char *s, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	const unsigned char *end = memchr(s, '\0', size);
	size_t left;

	if (end == NULL)
		end = u + size;
	fputc('"', f);
	for (; u < end; u++) {
		left = (size_t)(end - u);
		if (*u == '"' || *u == '\\') {
			fprintf(f, "\\%c", *u);
		} else if (*u < 0x20 || *u == 0x7f) {
			fprintf(f, "\\x%02x", *u);
		} else if (left >= 2 && u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			fprintf(f, "\\x%02x", u[1]);
			u++;
		} else if (left >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
			   (u[2] == 0xa8 || u[2] == 0xa9)) {
			fputs(u[2] == 0xa8 ? "\\L" : "\\P", f);
			u += 2;
		} else if (left >= 3 && u[0] == 0xef &&
			   ((u[1] == 0xbb && u[2] == 0xbf) ||
			    (u[1] == 0xbf && (u[2] == 0xbe || u[2] == 0xbf)))) {
			fprintf(f, "\\u%04X", 0xf000u | (unsigned int)(u[1] & 0x3f) << 6 |
				(u[2] & 0x3fu));
			u += 2;
		} else {
			fputc(*u, f);
		}
	}
	fputc('"', f);
}

static void
dump_ipv4(FILE *f, uint32_t be)
{
	char a[16];

	fputs(ip_str(host_order(be), a), f);
}

static void dump_section(FILE *f, const struct conf_section *sec, const char *base,
			 int indent, bool dash);

/* Omitted keys read back as their defaults: gateway 0 is "none", an unset
 * MAC is "use the port's", an all-zero KF_OMIT_ZERO section is "off". */
static bool
dump_omits(const struct conf_key *k, const char *base)
{
	uint32_t a;
	size_t i;

	if (k->flags & KF_OMIT_ZERO) {
		for (i = 0; i < k->size; i++)
			if (base[k->off + i] != 0)
				return false;
		return true;
	}
	if (k->type == CT_IPV4) {
		memcpy(&a, base + k->off, 4);
		return a == 0;
	}
	if (k->type == CT_MAC)
		return !*(const bool *)(base + k->aux);
	return false;
}

static void
dump_value(FILE *f, const struct conf_key *k, const char *base, int indent)
{
	const char *field = base + k->off;
	const uint8_t *m;
	unsigned int n, i;
	uint32_t a;
	uint64_t u64;
	char num[40];

	switch (k->type) {
	case CT_UINT:
		fprintf(f, " %u\n", load_u32(field, k->size));
		break;
	case CT_U64:
		memcpy(&u64, field, sizeof(u64));
		fprintf(f, " %" PRIu64 "\n", u64);
		break;
	case CT_PERCENT:
	case CT_MS:
		fprintf(f, " %s\n", format_fixed(load_u32(field, k->size), fixed_of(k->type), num));
		break;
	case CT_BOOL:
		fprintf(f, " %s\n", *(const bool *)field ? "true" : "false");
		break;
	case CT_STR:
		fputc(' ', f);
		dump_quoted(f, field, k->size);
		fputc('\n', f);
		break;
	case CT_IPV4:
		memcpy(&a, field, 4);
		fputc(' ', f);
		dump_ipv4(f, a);
		fputc('\n', f);
		break;
	case CT_IPV4_CIDR:
		memcpy(&a, field, 4);
		fputc(' ', f);
		dump_ipv4(f, a);
		fprintf(f, "/%u\n", *(const uint8_t *)(base + k->aux));
		break;
	case CT_MAC:
		m = (const uint8_t *)field;
		fprintf(f, " %02x:%02x:%02x:%02x:%02x:%02x\n", m[0], m[1], m[2], m[3], m[4], m[5]);
		break;
	case CT_STR_LIST:
		memcpy(&n, base + k->aux, sizeof(n));
		if (n > k->size / k->elem)
			n = (unsigned int)(k->size / k->elem);
		fputs(n == 0 ? " []\n" : "\n", f);
		for (i = 0; i < n; i++) {
			fprintf(f, "%*s- ", indent + 2, "");
			dump_quoted(f, field + i * k->elem, k->elem);
			fputc('\n', f);
		}
		break;
	case CT_SECTION:
		fputc('\n', f);
		dump_section(f, k->sub, field, indent + 2, false);
		break;
	case CT_LIST:
		memcpy(&n, base + k->aux, sizeof(n));
		if (n > k->size / k->elem)
			n = (unsigned int)(k->size / k->elem);
		fputs(n == 0 ? " []\n" : "\n", f);
		for (i = 0; i < n; i++)
			dump_section(f, k->sub, field + i * k->elem, indent + 4, true);
		break;
	default:
		fputs(" ~\n", f);
		break;
	}
}

/* dash: the mapping is a list item; its first printed key carries the "- ". */
static void
dump_section(FILE *f, const struct conf_section *sec, const char *base, int indent, bool dash)
{
	unsigned int i;

	for (i = 0; i < sec->n_keys; i++) {
		const struct conf_key *k = &sec->keys[i];

		if (dump_omits(k, base))
			continue;
		if (dash)
			fprintf(f, "%*s- %s:", indent - 2, "", k->name);
		else
			fprintf(f, "%*s%s:", indent, "", k->name);
		dash = false;
		dump_value(f, k, base, indent);
	}
	if (dash)
		fprintf(f, "%*s- {}\n", indent - 2, "");
}

void
wg_conf_dump(FILE *f, const struct wg_conf *c)
{
	char path[WG_CONF_STR_MAX];
	size_t i;

	/* A comment ends at any line break, so only printable ASCII goes in. */
	for (i = 0; i < sizeof(path) - 1 && c->path[i] != '\0'; i++)
		path[i] = (c->path[i] >= 0x20 && c->path[i] < 0x7f) ? c->path[i] : '?';
	path[i] = '\0';
	fprintf(f, "# warpgate effective configuration (from %s)\n",
		path[0] != '\0' ? path : "defaults");
	dump_section(f, &top_section, (const char *)c, 0, false);
}
