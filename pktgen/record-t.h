/* SPDX-License-Identifier: BSD-3-Clause
 * Record/replay log: the messages of a session with their timing, written
 * by a recording run (or imported from a pcap of ws:// traffic) and
 * replayed onto any number of clients.
 *
 * File layout, all integers little endian:
 *   header  24 bytes: magic "WGREC\r\n\x1a" (catches text-mode and
 *           truncation-at-newline mangling, as PNG's does), version u16,
 *           header length u16 (24), flags u32 (0), start u64 (capture start,
 *           Unix ns; informational).
 *   record  20 bytes + payload: time u64 (ns since start), client u32,
 *           length u32, direction u8, type u8, reserved u16 (0), payload.
 *   end     a record of type END from client 0: length 16, payload =
 *           number of records before it u64, number of clients u32 (one
 *           above the highest index seen), reserved u32 (0). Nothing
 *           may follow it: a file without it was cut short.
 * Times never decrease from one record to the next.
 */
#ifndef WG_RECORD_T_H
#define WG_RECORD_T_H

#include <stdint.h>

#define WG_REC_MAGIC        "WGREC\r\n\x1a"
#define WG_REC_MAGIC_LEN    8
#define WG_REC_VERSION      1
#define WG_REC_HDR_LEN      24
#define WG_REC_REC_LEN      20
#define WG_REC_END_LEN      16
#define WG_REC_PAYLOAD_MAX  (1u << 20)  /* scenario messages are at most this */
#define WG_REC_ERR_MAX      256

enum wg_rec_dir {
	WG_REC_C2S = 0,                /* client to server: what replay sends */
	WG_REC_S2C = 1,                /* server to client: reference only */
};

enum wg_rec_type {
	WG_REC_CONNECT = 1,            /* the client's connection opened; no payload */
	WG_REC_TEXT = 2,               /* a WebSocket text message */
	WG_REC_BINARY = 3,             /* a WebSocket binary message */
	WG_REC_FRAMED = 4,             /* a framed-TCP message (payload without the prefix) */
	WG_REC_CLOSE = 5,              /* the connection closed; no payload */
	WG_REC_END = 0xff,             /* end marker, never returned to readers */
};

/* One record as readers return it and writers take it. */
struct wg_rec {
	uint64_t t_ns;                 /* since the capture started */
	uint32_t client;
	uint32_t len;
	uint8_t dir;                   /* enum wg_rec_dir */
	uint8_t type;                  /* enum wg_rec_type */
	const uint8_t *payload;        /* reader: valid until the next call */
};

/* What the pcap importer did with the capture. */
struct wg_pcap_stats {
	uint64_t packets;              /* read from the file */
	uint64_t skipped;              /* not IPv4/IPv6 TCP, or filtered out by port */
	uint64_t flows;                /* TCP flows that opened with a SYN */
	uint64_t flows_ws;             /* ... and upgraded to WebSocket: the clients */
	uint64_t flows_broken;         /* gap in sequence, protocol error, refused upgrade */
	uint64_t midstream;            /* segments of flows whose SYN is not in the capture */
	uint64_t retransmits;          /* segments (or parts) already seen */
	uint64_t messages;             /* records written, CONNECT/CLOSE included */
	uint64_t clamped;              /* packet times that went backwards, moved forward */
};

/* Replay mapping: recorded clients onto n_clients new ones. */
struct wg_replay_conf {
	uint32_t n_clients;            /* replay clients; client j plays session j % recorded */
	uint32_t speed_milli;          /* 1000 = as recorded, 2000 = twice as fast */
	uint64_t jitter_ns;            /* each client starts up to this much later */
	uint64_t seed;                 /* of the per-client jitter */
};

/* One event of the replayed timeline. */
struct wg_replay_ev {
	uint64_t t_ns;                 /* since replay start */
	uint32_t client;               /* replay client 0..n_clients-1 */
	uint32_t session;              /* recorded client it plays */
	uint32_t len;
	uint8_t type;                  /* CONNECT, TEXT, BINARY, FRAMED or CLOSE */
	const uint8_t *payload;        /* valid as long as the replay */
};

#endif /* WG_RECORD_T_H */
