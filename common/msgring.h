/* SPDX-License-Identifier: BSD-3-Clause
 * Ring messages: an mbuf whose data starts with struct wg_msg_hdr, followed
 * by hdr.len payload bytes (protobuf-c). Zero copy: the mbuf pointer is what
 * crosses the ring; whoever dequeues it owns it and frees it.
 */
#ifndef WG_MSGRING_H
#define WG_MSGRING_H

#include <errno.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <protobuf-c/protobuf-c.h>

#include "wg_msg-t.h"

/* Check a header against the bytes actually present. Works on any buffer
 * so parsers of untrusted rings are tested without mbufs. 0 or -EBADMSG. */
int wg_msg_check(const void *buf, size_t len);

/* Encode hdr fields into buf (>= sizeof(struct wg_msg_hdr)). */
void wg_msg_hdr_fill(struct wg_msg_hdr *h, uint32_t type, uint64_t session_id,
		     uint32_t len, uint16_t flags, uint16_t src, uint32_t seq);

/* New message mbuf with header and an optional protobuf payload packed
 * straight into it. NULL + rte_errno (ENOBUFS pool empty, EMSGSIZE payload
 * does not fit one segment). */
struct rte_mbuf *wg_msg_new(struct rte_mempool *mp, uint32_t type, uint64_t session_id,
			    uint16_t src, uint32_t seq, const ProtobufCMessage *payload);

static inline struct wg_msg_hdr *
wg_msg_hdr(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, struct wg_msg_hdr *);
}

static inline const uint8_t *
wg_msg_payload(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const uint8_t *, sizeof(struct wg_msg_hdr));
}

/* Validate a dequeued message mbuf (single segment, header consistent). */
static inline int
wg_msg_mbuf_check(const struct rte_mbuf *m)
{
	if (m->nb_segs != 1)
		return -EBADMSG;
	return wg_msg_check(rte_pktmbuf_mtod(m, const void *), rte_pktmbuf_data_len(m));
}

#endif /* WG_MSGRING_H */
