/* SPDX-License-Identifier: BSD-3-Clause
 * Logic-process framework: create, register services, bind to a
 * wg_instance, then let the instance's on_msg/on_tick hooks drive it.
 * Single-threaded: everything runs on the instance's lcore.
 */
#ifndef WG_LFW_H
#define WG_LFW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "lfw-t.h"

struct rte_mbuf;
struct wg_instance;
struct wg_msg_hdr;

/* NULL + errno (EINVAL bad conf, ENOMEM). */
struct wg_lfw *wg_lfw_create(const struct wg_lfw_conf *conf);
void wg_lfw_destroy(struct wg_lfw *fw);

/* Add a service before the first message. 0, -EINVAL (no name, no
 * handler function, unknown flag, type outside 0x0100..0xffff), -EEXIST
 * (name, id or a type already registered), -ENOSPC (too many services or
 * handlers). On error nothing is registered. */
int wg_lfw_register(struct wg_lfw *fw, const struct wg_lfw_service *svc);

/* Send through in's rings and message pool from now on. in must be
 * attached (slot claimed, registry mapped). 0, -EINVAL, -ENOMEM. */
int wg_lfw_bind(struct wg_lfw *fw, struct wg_instance *in);

/* wg_instance hooks (arg = fw). on_msg owns and frees m. on_tick runs the
 * due ticks and returns how many ran. */
void wg_lfw_on_msg(struct wg_instance *in, unsigned int worker, struct rte_mbuf *m, void *arg);
unsigned int wg_lfw_on_tick(struct wg_instance *in, uint64_t now_tsc, void *arg);

/* One ring message already checked by wg_msg_check (hdr.len payload bytes
 * follow hdr). Handles SESSION_ATTACH/DETACH and client messages. */
void wg_lfw_input(struct wg_lfw *fw, unsigned int worker, const struct wg_msg_hdr *hdr,
		  const uint8_t *payload);

/* The tick scheduler on its own: run the ticks due at now_tsc. The first
 * call starts the clock and runs tick 1. Up to max_catchup late ticks run
 * back to back; older ones are dropped (ticks_dropped) and the schedule
 * keeps its phase, so a stall never snowballs. Returns ticks run. */
unsigned int wg_lfw_tick_poll(struct wg_lfw *fw, uint64_t now_tsc);
/* TSC frequency the scheduler uses (bind sets it from the registry). */
void wg_lfw_set_tsc_hz(struct wg_lfw *fw, uint64_t tsc_hz);

/* Unix time in ms as services should see it (ChatMsg.server_time_ms):
 * CLOCK_REALTIME unless a test installed a clock. */
uint64_t wg_lfw_now_ms(const struct wg_lfw *fw);
void wg_lfw_set_clock(struct wg_lfw *fw, uint64_t (*clock_ms)(void *arg), void *arg);

/* Sessions. */
const struct wg_lfw_session *wg_lfw_session_find(const struct wg_lfw *fw, uint64_t session_id);
const struct wg_lfw_session *wg_lfw_session_at(const struct wg_lfw *fw, uint32_t idx);
uint32_t wg_lfw_max_sessions(const struct wg_lfw *fw);
/* Detach every session (on_detach with reason) as if the dataplane had. */
void wg_lfw_sessions_reset(struct wg_lfw *fw, uint32_t reason);

/* Decode a protobuf-c message from the per-message arena: no malloc, freed
 * when the next ring message is handled. NULL when it does not parse. */
ProtobufCMessage *wg_lfw_unpack(struct wg_lfw *fw, const ProtobufCMessageDescriptor *desc,
				const uint8_t *buf, size_t len);

/* Send an Envelope{type, seq 0 (the dataplane numbers it), msg_id, payload}
 * to one session, on the ring of its worker (session_id >> 56). The payload
 * is msg packed (NULL: empty), or len raw bytes. 0, -ENOTCONN (not bound),
 * -EINVAL (bad session id), -EMSGSIZE, -ENOBUFS (pool empty or ring full). */
int wg_lfw_send(struct wg_lfw *fw, uint64_t session_id, uint32_t type, uint32_t msg_id,
		const ProtobufCMessage *msg);
int wg_lfw_send_raw(struct wg_lfw *fw, uint64_t session_id, uint32_t type, uint32_t msg_id,
		    const void *payload, size_t len);

/* Replies carry the request's msg_id. */
static inline int
wg_lfw_reply(struct wg_lfw *fw, const struct wg_lfw_req *req, uint32_t type,
	     const ProtobufCMessage *msg)
{
	return wg_lfw_send(fw, req->session_id, type, req->env.msg_id, msg);
}

static inline int
wg_lfw_reply_raw(struct wg_lfw *fw, const struct wg_lfw_req *req, uint32_t type,
		 const void *payload, size_t len)
{
	return wg_lfw_send_raw(fw, req->session_id, type, req->env.msg_id, payload, len);
}

/* Error{code (wg.ErrorCode), ref_msg_id, ref_type, text} to a session, as
 * an ERROR Envelope with msg_id = ref_msg_id. text may be NULL. */
int wg_lfw_send_error(struct wg_lfw *fw, uint64_t session_id, uint32_t code,
		      uint32_t ref_msg_id, uint32_t ref_type, const char *text);

static inline int
wg_lfw_reply_error(struct wg_lfw *fw, const struct wg_lfw_req *req, uint32_t code,
		   const char *text)
{
	return wg_lfw_send_error(fw, req->session_id, code, req->env.msg_id, req->env.type, text);
}

/* The same Envelope to n sessions: packed once, then one WG_MSG_F_MULTICAST
 * ring message per worker (more when its ids do not fit one mbuf) holding
 * the Envelope, zero padding to 8 bytes from the start of the message and
 * the worker's session ids as little-endian u64, in the order given. Ids of
 * no worker (0, or worker >= n_workers) are skipped. Returns the number of
 * ids queued (< n when some were skipped or dropped: pool empty, ring
 * full), -ENOTCONN, or -EMSGSIZE when the Envelope leaves no room for even
 * one id. */
int wg_lfw_multicast(struct wg_lfw *fw, const uint64_t *session_ids, size_t n, uint32_t type,
		     uint32_t msg_id, const ProtobufCMessage *msg);

void wg_lfw_stats(const struct wg_lfw *fw, struct wg_lfw_stats *st);
void wg_lfw_dump(FILE *f, const struct wg_lfw *fw);

#endif /* WG_LFW_H */
