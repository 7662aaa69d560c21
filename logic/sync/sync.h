/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_SYNC_H
#define WG_SYNC_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sync-t.h"

/* --- server side: one peer per client --- */

/* NULL + errno (EINVAL, ENOMEM). */
struct wg_sync_peer *wg_sync_peer_create(const struct wg_sync_conf *conf);
void wg_sync_peer_destroy(struct wg_sync_peer *p);

/* Encode tick's StateDelta (packed protobuf) for the entities the client
 * should see now, items ascending by id. tick must grow and be non-zero.
 * -EINVAL bad arguments/order, -ENOBUFS cap too small (nothing recorded),
 * -ENOMEM. The snapshot is recorded only when the bytes are produced. */
int wg_sync_encode(struct wg_sync_peer *p, uint32_t tick, const struct wg_sync_item *items,
		   uint32_t n, uint8_t *buf, size_t cap, size_t *len);

/* The client acknowledged tick: later deltas use it as the baseline.
 * -ESTALE for an old or duplicate ack, -ENOENT for a tick never sent or
 * no longer remembered (both harmless and counted). */
int wg_sync_peer_ack(struct wg_sync_peer *p, uint32_t tick);

/* The snapshot recorded for tick (what the client holds once it applied
 * it), or NULL. For tests and debugging. */
const struct wg_sync_frame *wg_sync_peer_frame(const struct wg_sync_peer *p, uint32_t tick);
uint32_t wg_sync_peer_acked(const struct wg_sync_peer *p);
void wg_sync_peer_stats(const struct wg_sync_peer *p, struct wg_sync_peer_stats *st);
void wg_sync_peer_dump(FILE *f, const struct wg_sync_peer *p);

/* --- client side --- */

/* frames must be >= the server's; max_entities bounds memory (0: 65536). */
struct wg_sync_decoder *wg_sync_decoder_create(uint32_t frames, uint32_t nfields,
					       uint32_t max_entities);
void wg_sync_decoder_destroy(struct wg_sync_decoder *d);

/* Apply one StateDelta from untrusted bytes. 0: applied, *tick set (ack
 * it); -EALREADY: not newer than the current snapshot (dropped); -ENOENT:
 * baseline not held; -EBADMSG: malformed or inconsistent with the
 * baseline. The current snapshot is untouched on any error. */
int wg_sync_decode(struct wg_sync_decoder *d, const uint8_t *buf, size_t len, uint32_t *tick);

/* The current snapshot: entities ascending by id. */
const struct wg_sync_entry *wg_sync_decoder_view(const struct wg_sync_decoder *d,
						 uint32_t *n, uint32_t *tick);
const struct wg_sync_entry *wg_sync_decoder_find(const struct wg_sync_decoder *d, uint32_t id);
void wg_sync_decoder_stats(const struct wg_sync_decoder *d, struct wg_sync_decoder_stats *st);

/* SnapshotAck / MoveInput wire helpers: return bytes written, or -ENOBUFS;
 * parse returns 0 or -EBADMSG. */
int wg_sync_ack_pack(uint32_t tick, uint8_t *buf, size_t cap);
int wg_sync_ack_parse(const uint8_t *buf, size_t len, uint32_t *tick);
int wg_sync_move_pack(uint32_t seq, float x, float y, float yaw, uint8_t *buf, size_t cap);
int wg_sync_move_parse(const uint8_t *buf, size_t len, uint32_t *seq, float *x, float *y,
		       float *yaw);

/* --- quantisation: q = round((v - origin) * scale) --- */

/* Largest magnitude a quantised coordinate may take; keeps deltas of two
 * coordinates inside int32. */
#define WG_SYNC_Q_LIMIT 0x3fffffff

static inline int32_t
wg_sync_quant(double v, double origin, double scale)
{
	double q = nearbyint((v - origin) * scale);

	if (!(q > -WG_SYNC_Q_LIMIT))
		return -WG_SYNC_Q_LIMIT;
	if (q > WG_SYNC_Q_LIMIT)
		return WG_SYNC_Q_LIMIT;
	return (int32_t)q;
}

static inline double
wg_sync_dequant(int32_t q, double origin, double scale)
{
	return origin + q / scale;
}

/* radians -> 0..65535, any input (non-finite -> 0) */
static inline uint32_t
wg_sync_quant_yaw(double yaw)
{
	double t;

	if (!isfinite(yaw))
		return 0;
	t = yaw / (2 * M_PI);
	t -= floor(t);
	return (uint32_t)nearbyint(t * WG_SYNC_YAW_ONE_TURN) & (WG_SYNC_YAW_ONE_TURN - 1);
}

static inline double
wg_sync_dequant_yaw(uint32_t q)
{
	return q * (2 * M_PI / WG_SYNC_YAW_ONE_TURN);
}

#endif /* WG_SYNC_H */
