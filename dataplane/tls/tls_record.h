/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 record layer of the fast path (after key takeover): AES-GCM
 * records opened and sealed in batches across all connections of an lcore
 * with the IPsec-MB direct GCM API, independent of TCP (mbufs in, plaintext
 * callbacks and mbuf chains out).
 *
 * How a worker uses it
 * --------------------
 * Once per lcore: wg_tls_lcore_create() with two pktmbuf pools: "small"
 * (the packet pool is fine) for small records, "big" with a data room of at
 * least RTE_PKTMBUF_HEADROOM + WG_TLS_BIG_BUF for records that must be
 * linearised or sealed whole at up to 16 KiB.
 *
 * Per connection, at key takeover (struct wg_tls_hs_msg DONE): send the
 * handshake's data, wg_tls_sess_init() with its secrets, then
 * wg_tls_rx_feed() its leftover bytes.
 *
 * Per burst:
 *   tcp on_data(c, m):   wg_tls_rx_feed(lc, s, m); wg_tcp_recv_done(c, len)
 *                        (the layer took m: complete records are queued for
 *                        the batch, a partial one is copied aside)
 *   outgoing messages:   wg_tls_write(lc, s, p, len), or
 *                        p = wg_tls_tx_append(lc, s, len) and build in place
 *   end of burst:        wg_tls_flush(lc)
 *     = wg_tls_rx_flush: one loop of GCM opens over every queued record of
 *       every session, then on_data / on_eof in record order (replies
 *       written from on_data join this burst's seal batch);
 *     + wg_tls_tx_flush: one loop of GCM seals, then per session on_send
 *       (one chain: wg_tcp_send it) and on_close when the session ended.
 *
 * Records are opened in place when one lies whole in a writable segment;
 * otherwise (split across segments, or a shared/indirect segment) it is
 * copied into one buffer as its bytes arrive. Received chains and buffers
 * are held until the batch is dispatched, so no record is copied twice.
 * Sealed output packs the records of one session back to back into pool
 * mbufs (with the trailer space reserved), sealed in place, no malloc.
 *
 * KeyUpdate from the peer switches the rx key between two records of the
 * same batch (opens run in order); when it asks for one, ours is queued
 * before any later reply. We send KeyUpdate on our own every
 * conf.rekey_records records, far below the AES-GCM limit of 2^24.5
 * records per key (RFC 8446 section 5.5), and ask the peer for one at the
 * same count.
 *
 * Rules for callbacks: on_data/on_eof may write, key_update or close (a
 * closed session gets no more deliveries) but must not feed (-EBUSY) or
 * release any session; on_close may release its own session. A session must be released
 * (wg_tls_sess_release) before its memory is reused, e.g. when TCP reports
 * the connection closed: that drops its queued records and buffers.
 */
#ifndef WG_TLS_RECORD_H
#define WG_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tls_record-t.h"

struct rte_mbuf;
struct rte_mempool;
struct wg_tls_lcore;

/* Defaults: batch 256, 16 KiB records, no padding, KeyUpdate every 2^23
 * records, peer key limit 2^24.5. */
void wg_tls_rec_conf_defaults(struct wg_tls_rec_conf *c);

/* 0, or -EINVAL with a reason in err. */
int wg_tls_rec_conf_check(const struct wg_tls_rec_conf *c, char *err, size_t err_len);

/* Per-lcore state on socket: batch arrays and an IPsec-MB manager with the
 * best code path of this CPU (SSE, AVX2 or AVX-512; without AES-NI a slow
 * software path, logged). small may be NULL (big serves all). NULL and
 * errno (EINVAL, ENOMEM, ENOTSUP: IPsec-MB failed to initialise). */
struct wg_tls_lcore *wg_tls_lcore_create(const struct wg_tls_rec_conf *conf,
					 const struct wg_tls_ops *ops,
					 struct rte_mempool *small, struct rte_mempool *big,
					 int socket);

/* Drops whatever is queued (sessions must have been released). */
void wg_tls_lcore_free(struct wg_tls_lcore *lc);

const struct wg_tls_stats *wg_tls_lcore_stats(const struct wg_tls_lcore *lc);

/* "sse", "avx", "avx2", "avx512" or "none": the GCM code path in use. */
const char *wg_tls_gcm_arch(const struct wg_tls_lcore *lc);

/* Start a session from the handshake's secrets: keys, IVs and first
 * sequence numbers of both directions. 0 or -EINVAL (suite, secret length),
 * -EIO (key derivation failed). */
int wg_tls_sess_init(struct wg_tls_lcore *lc, struct wg_tls_sess *s,
		     const struct wg_tls_secrets *sec, void *app);

/* Forget a session: its queued records, buffers and pending callbacks are
 * dropped and the keys wiped. Safe on a released or never-initialised
 * (zeroed) session. */
void wg_tls_sess_release(struct wg_tls_lcore *lc, struct wg_tls_sess *s);

/* Lower (or restore) the record size this session seals, e.g. to MSS - 22
 * so each record leaves in one segment. 0 or -EINVAL (0 or > 2^14). */
int wg_tls_sess_set_record_max(struct wg_tls_sess *s, uint16_t record_max);

/* Bytes from the transport, in order; takes m (a chain, any split).
 * Complete records join the lcore's open batch (which is dispatched first
 * if full: callbacks may run). A malformed header takes its place in the
 * batch as an error: the records before it are still opened, then the
 * session ends (alert, on_close at the flush). 0, or -EPIPE when the
 * session no longer reads, -EBUSY from inside a callback (m is freed
 * either way). */
int wg_tls_rx_feed(struct wg_tls_lcore *lc, struct wg_tls_sess *s, struct rte_mbuf *m);

/* Open every queued record, then dispatch on_data/on_eof. Records opened. */
unsigned int wg_tls_rx_flush(struct wg_tls_lcore *lc);

/* Queue len bytes of application data, coalesced with what the session
 * already queued in this burst and cut into records of record_max. Bytes
 * queued (len, or fewer when the pools ran dry), or -EPIPE when the session
 * cannot send any more. */
int wg_tls_write(struct wg_tls_lcore *lc, struct wg_tls_sess *s, const void *p, uint32_t len);

/* Zero-copy variant: room for len contiguous bytes of application data in
 * a queued record. The caller fills them before its next call into the
 * layer (any call may seal the batch when it is full). len <= record_max.
 * NULL and errno (EPIPE, EINVAL, ENOBUFS). */
uint8_t *wg_tls_tx_append(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint32_t len);

/* Queue a KeyUpdate (ours switches our tx key right after it); with
 * request_peer the peer must answer with its own. 0, -EPIPE, -ENOBUFS. */
int wg_tls_key_update(struct wg_tls_lcore *lc, struct wg_tls_sess *s, bool request_peer);

/* Orderly close: close_notify after the data queued so far; on_close(0)
 * follows at the next tx flush. 0 or -EPIPE (already closing). */
int wg_tls_close(struct wg_tls_lcore *lc, struct wg_tls_sess *s);

/* Seal every queued record, then per session on_send and on_close.
 * Records sealed. */
unsigned int wg_tls_tx_flush(struct wg_tls_lcore *lc);

/* End of burst. */
static inline void
wg_tls_flush(struct wg_tls_lcore *lc)
{
	wg_tls_rx_flush(lc);
	wg_tls_tx_flush(lc);
}

/* true once the session neither reads nor seals (closed or failed) */
static inline bool
wg_tls_sess_dead(const struct wg_tls_sess *s)
{
	return (s->flags & WG_TLSF_DEAD) != 0;
}

void wg_tls_sess_dump(FILE *f, const struct wg_tls_sess *s);
unsigned int wg_tls_stats_list(const struct wg_tls_stats *st, const char **names,
			       uint64_t *values, unsigned int max);

#endif /* WG_TLS_RECORD_H */
