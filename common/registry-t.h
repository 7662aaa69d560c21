/* SPDX-License-Identifier: BSD-3-Clause
 * The shared-memory registry (one memzone, created by the dataplane) through
 * which control and logic processes find their rings and prove they live.
 *
 * Slot life cycle (who moves it):
 *   FREE/VACANT --claim (secondary, CAS)--> ATTACHING
 *   ATTACHING --admit (primary monitor, heartbeat seen)--> ALIVE
 *   ALIVE --beat stopped or pid gone (monitor) / clean detach (secondary)--> DEAD
 *   DEAD --workers quiesced, rings drained and reset (monitor)--> VACANT
 * VACANT keeps kind/index so a restarted instance gets the same slot and rings.
 * Workers enqueue to an instance only while its slot is ALIVE.
 */
#ifndef WG_REGISTRY_T_H
#define WG_REGISTRY_T_H

#include <stdint.h>

#define WG_REG_MZ_NAME      "wg_registry"
#define WG_REG_MAGIC        0x57475247u      /* "WGRG" */
#define WG_REG_VERSION      1u
#define WG_REG_MAX_SLOTS    32
#define WG_REG_MAX_WORKERS  16
#define WG_REG_CACHE_LINE   64
#define WG_MSG_POOL_NAME    "wg_msg_pool"

enum wg_slot_state {
	WG_SLOT_FREE = 0,
	WG_SLOT_ATTACHING,
	WG_SLOT_ALIVE,
	WG_SLOT_DEAD,
	WG_SLOT_VACANT,
};

/* Same numbering as proto wg.InstanceKind. */
enum wg_inst_kind {
	WG_KIND_NONE = 0,
	WG_KIND_CONTROL = 1,
	WG_KIND_LOGIC = 2,
};

/* One instance. The claiming secondary writes the identity block and
 * `heartbeat`; only the primary monitor writes the rest. */
struct wg_slot {
	uint32_t state;            /* enum wg_slot_state, atomic */
	uint32_t kind;             /* enum wg_inst_kind */
	uint32_t index;            /* logic k; 0 for control */
	uint32_t pid;
	uint32_t generation;       /* bumped by every claim */
	uint32_t lcore_id;         /* the instance's EAL lcore (mempool cache owner) */
	uint64_t heartbeat;        /* secondary increments every heartbeat_ms */

	uint64_t seen_heartbeat;   /* monitor: last value read */
	uint64_t seen_tsc;         /* monitor: when it last changed */
	uint64_t alive_since_tsc;  /* monitor: admission time */
	uint32_t attaches;         /* monitor: times admitted */
	uint32_t deaths;           /* monitor: times declared dead */
	uint64_t drained;          /* monitor: mbufs freed from its rings after death */
} __attribute__((aligned(WG_REG_CACHE_LINE)));

_Static_assert(sizeof(struct wg_slot) == 2 * WG_REG_CACHE_LINE, "wg_slot layout");

/* Per (slot, worker) message counters: written by that worker only, each on
 * its own cache line so workers never share lines. */
struct wg_slot_wstats {
	uint64_t tx_msgs;
	uint64_t tx_full;          /* ring full: message dropped, counted */
	uint64_t rx_msgs;
	uint64_t rx_bad;           /* malformed header or payload */
	uint64_t pongs;
	uint64_t rtt_last_tsc;     /* last ping round trip over the ring pair */
	uint32_t hello_generation; /* generation the last InstanceHello named */
	uint32_t ping_seq;
	uint64_t last_ping_tsc;
} __attribute__((aligned(WG_REG_CACHE_LINE)));

_Static_assert(sizeof(struct wg_slot_wstats) == WG_REG_CACHE_LINE, "wg_slot_wstats layout");

/* Each worker bumps its epoch once per loop iteration; a worker whose epoch
 * moved has finished any enqueue it began before a slot left ALIVE. */
struct wg_worker_epoch {
	uint64_t epoch;
	uint64_t idle_sleeps;
} __attribute__((aligned(WG_REG_CACHE_LINE)));

struct wg_registry {
	uint32_t magic;
	uint32_t version;
	uint32_t primary_pid;
	uint32_t n_slots;
	uint32_t n_workers;
	uint32_t ring_size;
	uint64_t tsc_hz;
	uint64_t primary_heartbeat;   /* monitor increments; secondaries watch it */
	uint32_t heartbeat_ms;
	uint32_t dead_after_ms;
	uint32_t claim_lock;          /* pid of the claiming secondary, 0 = free */
	uint32_t pad0;
	char build_version[32];
	struct wg_worker_epoch workers[WG_REG_MAX_WORKERS];
	struct wg_slot slots[WG_REG_MAX_SLOTS];
	struct wg_slot_wstats wstats[WG_REG_MAX_SLOTS][WG_REG_MAX_WORKERS];
} __attribute__((aligned(WG_REG_CACHE_LINE)));

#endif /* WG_REGISTRY_T_H */
