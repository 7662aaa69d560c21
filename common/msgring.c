/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "msgring.h"

int
wg_msg_check(const void *buf, size_t len)
{
	struct wg_msg_hdr h;

	if (buf == NULL || len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.flags & ~WG_MSG_F_MASK)
		return -EBADMSG;
	if (h.flags & WG_MSG_F_MULTICAST) {
		/* payload, padding to 8, then at least one u64 session id */
		size_t list = (sizeof(h) + (size_t)h.len + 7) & ~(size_t)7;

		if (h.len > len - sizeof(h) || list + 8 > len || (len - list) % 8 != 0)
			return -EBADMSG;
	} else if (h.len != len - sizeof(h)) {
		return -EBADMSG;
	}
	if (h.msg_type == 0)
		return -EBADMSG;
	return 0;
}

void
wg_msg_hdr_fill(struct wg_msg_hdr *h, uint32_t type, uint64_t session_id,
		uint32_t len, uint16_t flags, uint16_t src, uint32_t seq)
{
	h->session_id = session_id;
	h->msg_type = type;
	h->len = len;
	h->flags = flags;
	h->src = src;
	h->seq = seq;
	h->tsc = rte_rdtsc();
}

struct rte_mbuf *
wg_msg_new(struct rte_mempool *mp, uint32_t type, uint64_t session_id,
	   uint16_t src, uint32_t seq, const ProtobufCMessage *payload)
{
	struct rte_mbuf *m;
	size_t plen = payload ? protobuf_c_message_get_packed_size(payload) : 0;
	uint8_t *p;

	m = rte_pktmbuf_alloc(mp);
	if (m == NULL) {
		rte_errno = ENOBUFS;
		return NULL;
	}
	if (plen > UINT32_MAX ||
	    sizeof(struct wg_msg_hdr) + plen > rte_pktmbuf_tailroom(m)) {
		rte_pktmbuf_free(m);
		rte_errno = EMSGSIZE;
		return NULL;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(sizeof(struct wg_msg_hdr) + plen));
	wg_msg_hdr_fill((struct wg_msg_hdr *)p, type, session_id, (uint32_t)plen, 0, src, seq);
	if (plen)
		protobuf_c_message_pack(payload, p + sizeof(struct wg_msg_hdr));
	return m;
}
