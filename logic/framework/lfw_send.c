/* SPDX-License-Identifier: BSD-3-Clause
 * Ring output: Envelopes to one session or to many (WG_MSG_F_MULTICAST).
 * A session belongs to the dataplane worker in the top byte of its id, and
 * only that worker can deliver to it, so a message goes to that worker's
 * ring; a multicast becomes one ring message per worker (more when the
 * worker's ids overflow a message mbuf).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "envelope.h"
#include "instance.h"
#include "lfw_impl.h"
#include "msgring.h"
#include "registry-t.h"
#include "wg_client.pb-c.h"

#define HDR sizeof(struct wg_msg_hdr)

/* Envelope{type, msg_id, payload} into buf: bytes written or -EMSGSIZE.
 * seq and ack stay 0: the dataplane numbers server messages per session. */
static int
env_put(uint8_t *buf, size_t cap, uint32_t type, uint32_t msg_id,
	const ProtobufCMessage *msg, const void *raw, size_t raw_len)
{
	struct wg_envelope e = { .type = type, .msg_id = msg_id };
	size_t plen = msg != NULL ? protobuf_c_message_get_packed_size(msg) : raw_len;
	int h;

	h = wg_envelope_encode_hdr(&e, plen, buf, cap);
	if (h < 0)
		return -EMSGSIZE;
	if (msg != NULL)
		protobuf_c_message_pack(msg, buf + h);
	else if (plen != 0)
		memcpy(buf + h, raw, plen);
	return h + (int)plen;
}

static inline bool
dest_ok(struct wg_lfw *fw, uint64_t sid)
{
	if (sid != 0 && (sid >> 56) < fw->n_workers)
		return true;
	fw->st.bad_dest++;
	return false;
}

static int
xmit(struct wg_lfw *fw, unsigned int w, struct rte_mbuf *m)
{
	struct wg_msg_hdr *h = wg_msg_hdr(m);

	/* numbered when queued: a gap tells the worker a message was lost */
	h->seq = fw->in->tx_seq[w]++;
	h->tsc = rte_rdtsc();
	if (wg_instance_send(fw->in, w, m) < 0) {
		fw->st.ring_full++;
		return -ENOBUFS;
	}
	return 0;
}

static int
send_one(struct wg_lfw *fw, uint64_t sid, uint32_t type, uint32_t msg_id,
	 const ProtobufCMessage *msg, const void *raw, size_t raw_len)
{
	struct rte_mbuf *m;
	uint8_t *p;
	int n, ret;

	if (fw->in == NULL)
		return -ENOTCONN;
	if (!dest_ok(fw, sid))
		return -EINVAL;
	m = rte_pktmbuf_alloc(fw->in->msg_pool);
	if (m == NULL) {
		fw->st.nobufs++;
		return -ENOBUFS;
	}
	p = rte_pktmbuf_mtod(m, uint8_t *);
	n = env_put(p + HDR, rte_pktmbuf_tailroom(m) - HDR, type, msg_id, msg, raw, raw_len);
	if (n < 0) {
		rte_pktmbuf_free(m);
		fw->st.too_big++;
		return n;
	}
	wg_msg_hdr_fill((struct wg_msg_hdr *)p, type, sid, (uint32_t)n, 0,
			(uint16_t)fw->in->slot, 0);
	rte_pktmbuf_append(m, (uint16_t)(HDR + (size_t)n));
	ret = xmit(fw, (unsigned int)(sid >> 56), m);
	if (ret == 0)
		fw->st.sent++;
	return ret;
}

int
wg_lfw_send(struct wg_lfw *fw, uint64_t session_id, uint32_t type, uint32_t msg_id,
	    const ProtobufCMessage *msg)
{
	return send_one(fw, session_id, type, msg_id, msg, NULL, 0);
}

int
wg_lfw_send_raw(struct wg_lfw *fw, uint64_t session_id, uint32_t type, uint32_t msg_id,
		const void *payload, size_t len)
{
	return send_one(fw, session_id, type, msg_id, NULL, payload, len);
}

int
wg_lfw_send_error(struct wg_lfw *fw, uint64_t session_id, uint32_t code,
		  uint32_t ref_msg_id, uint32_t ref_type, const char *text)
{
	Wg__Error e = WG__ERROR__INIT;
	int ret;

	e.code = (Wg__ErrorCode)code;
	e.ref_msg_id = ref_msg_id;
	e.ref_type = ref_type;
	if (text != NULL)
		e.text = (char *)(uintptr_t)text;
	ret = wg_lfw_send(fw, session_id, WG__MSG_TYPE__ERROR, ref_msg_id, &e.base);
	if (ret == 0)
		fw->st.errors_sent++;
	return ret;
}

/* A multicast mbuf with the header, the Envelope from scratch and the zero
 * padding up to list_off; ids are appended after. */
static struct rte_mbuf *
mcast_start(struct wg_lfw *fw, uint32_t type, uint32_t plen, size_t list_off)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fw->in->msg_pool);
	uint8_t *p;

	if (m == NULL) {
		fw->st.nobufs++;
		return NULL;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)list_off);
	wg_msg_hdr_fill((struct wg_msg_hdr *)p, type, 0, plen, WG_MSG_F_MULTICAST,
			(uint16_t)fw->in->slot, 0);
	memcpy(p + HDR, fw->scratch, plen);
	memset(p + HDR + plen, 0, list_off - HDR - plen);
	return m;
}

static size_t
mcast_flush(struct wg_lfw *fw, unsigned int w, struct rte_mbuf *m, size_t list_off)
{
	size_t ids = (rte_pktmbuf_data_len(m) - list_off) / sizeof(uint64_t);

	if (xmit(fw, w, m) < 0)
		return 0;
	fw->st.mcast_mbufs++;
	return ids;
}

int
wg_lfw_multicast(struct wg_lfw *fw, const uint64_t *ids, size_t n, uint32_t type,
		 uint32_t msg_id, const ProtobufCMessage *msg)
{
	/* one open mbuf per worker: a single pass keeps each worker's ids in
	 * the order given and allocates nothing */
	struct rte_mbuf *open[WG_REG_MAX_WORKERS] = { NULL };
	size_t i, list_off, queued = 0;
	unsigned int w;
	int plen;

	if (fw->in == NULL)
		return -ENOTCONN;
	if (n > INT_MAX)
		return -EINVAL;
	if (n == 0)
		return 0;
	plen = env_put(fw->scratch, fw->mbuf_cap, type, msg_id, msg, NULL, 0);
	list_off = plen < 0 ? 0 : RTE_ALIGN_CEIL(HDR + (size_t)plen, sizeof(uint64_t));
	if (plen < 0 || list_off + sizeof(uint64_t) > fw->mbuf_cap) {
		fw->st.too_big++;
		return -EMSGSIZE;
	}
	for (i = 0; i < n; i++) {
		uint64_t le = rte_cpu_to_le_64(ids[i]);

		if (!dest_ok(fw, ids[i]))
			continue;
		w = (unsigned int)(ids[i] >> 56);
		if (open[w] != NULL && rte_pktmbuf_tailroom(open[w]) < sizeof(le)) {
			queued += mcast_flush(fw, w, open[w], list_off);
			open[w] = NULL;
		}
		if (open[w] == NULL) {
			open[w] = mcast_start(fw, type, (uint32_t)plen, list_off);
			if (open[w] == NULL)
				continue;
		}
		memcpy(rte_pktmbuf_append(open[w], sizeof(le)), &le, sizeof(le));
	}
	for (w = 0; w < fw->n_workers; w++)
		if (open[w] != NULL)
			queued += mcast_flush(fw, w, open[w], list_off);
	if (queued != 0)
		fw->st.multicasts++;
	fw->st.mcast_sessions += queued;
	return (int)queued;
}

int
wg_lfw_bind(struct wg_lfw *fw, struct wg_instance *in)
{
	uint32_t room;
	uint8_t *scratch;

	if (fw == NULL || in == NULL || in->reg == NULL || in->msg_pool == NULL ||
	    in->slot < 0 || in->reg->n_workers == 0 || in->reg->n_workers > WG_REG_MAX_WORKERS)
		return -EINVAL;
	room = rte_pktmbuf_data_room_size(in->msg_pool);
	/* a header, a minimal Envelope and one multicast id at least */
	if (room < RTE_PKTMBUF_HEADROOM + HDR + 2 * sizeof(uint64_t))
		return -EINVAL;
	room -= RTE_PKTMBUF_HEADROOM;
	scratch = realloc(fw->scratch, room);
	if (scratch == NULL)
		return -ENOMEM;
	fw->scratch = scratch;
	fw->mbuf_cap = room;
	fw->in = in;
	fw->n_workers = in->reg->n_workers;
	fw->generation = in->generation;
	wg_lfw_set_tsc_hz(fw, in->reg->tsc_hz ? in->reg->tsc_hz : rte_get_tsc_hz());
	return 0;
}
