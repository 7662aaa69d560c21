/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_RECORD_H
#define WG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "record-t.h"

struct wg_rec_writer;
struct wg_rec_reader;
struct wg_replay;

/* Start a log on f (not closed by us). NULL + errno (EINVAL, ENOMEM, EIO). */
struct wg_rec_writer *wg_rec_writer_open(FILE *f, uint64_t start_unix_ns);

/* Append one record. -EINVAL: time before the previous record's, bad
 * direction or type, length over WG_REC_PAYLOAD_MAX or payload NULL with a
 * length, payload on CONNECT/CLOSE; -EIO: the write failed (sticky). */
int wg_rec_write(struct wg_rec_writer *w, const struct wg_rec *rec);

/* Write the end marker, flush and free. 0, or the first error of the
 * writer's life (the file is then not a valid log). */
int wg_rec_writer_close(struct wg_rec_writer *w);

/* Stream a log from f (not closed by us). The header is read and checked
 * here: NULL + errno EINVAL with the reason in err, or ENOMEM. */
struct wg_rec_reader *wg_rec_reader_open(FILE *f, char *err, size_t errlen);

/* Next record: 1 (rec filled, payload valid until the next call), 0 at the
 * end marker (every check passed: counts, nothing after it), or -EINVAL /
 * -EIO with a message naming the record and byte offset in
 * wg_rec_reader_error(). Errors are sticky. */
int wg_rec_next(struct wg_rec_reader *r, struct wg_rec *rec);

const char *wg_rec_reader_error(const struct wg_rec_reader *r);
uint64_t wg_rec_reader_start(const struct wg_rec_reader *r);
uint32_t wg_rec_reader_clients(const struct wg_rec_reader *r); /* after the end: from it */
void wg_rec_reader_close(struct wg_rec_reader *r);

const char *wg_rec_type_name(unsigned int type);

/* Import a classic or nanosecond pcap of plain ws:// traffic from in into a
 * new log on out (in is consumed and closed; out is not closed). Flows are
 * TCP connections that open with a SYN in the capture, to port (0: any),
 * whose client sends a valid WebSocket upgrade request; each becomes a
 * client, numbered in upgrade order, with CONNECT when its request is
 * complete, its client->server messages unmasked (and, with s2c, the
 * server's messages), and CLOSE at the client's FIN or either side's RST.
 * Times are since the first packet of the capture, whose wall time is the
 * log's start. Reassembly is in order only: a gap breaks the flow
 * (counted, the flow's later bytes ignored). 0, or -errno with err set. */
int wg_rec_import_pcap(FILE *in, FILE *out, uint16_t port, bool s2c, struct wg_pcap_stats *st,
		       char *err, size_t errlen);

/* Load the client->server records of a log (every check of the reader
 * applies) and prepare the timeline for conf. NULL + errno: EINVAL (bad log
 * or conf, message in err), ENOMEM, ENODATA (no client sent anything). */
struct wg_replay *wg_replay_create(struct wg_rec_reader *r, const struct wg_replay_conf *conf,
				   char *err, size_t errlen);

/* Next event in time order (ties: lower client first). 1, or 0 when every
 * client is done. O(log n_clients). */
int wg_replay_next(struct wg_replay *rp, struct wg_replay_ev *ev);

/* Recorded clients (sessions) the replay draws from. */
uint32_t wg_replay_sessions(const struct wg_replay *rp);

/* Start offset of replay client j (its jitter). */
uint64_t wg_replay_offset(const struct wg_replay *rp, uint32_t client);

void wg_replay_free(struct wg_replay *rp);

#endif /* WG_RECORD_H */
