/* SPDX-License-Identifier: BSD-3-Clause
 * Internals shared by the RPC server, client and balancer (not installed).
 */
#ifndef WG_RPC_IMPL_H
#define WG_RPC_IMPL_H

#include <stdint.h>

#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/support/time.h>

#include "rpc.h"

void wg_rpc_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define RPC_LOG(lvl, ...) wg_rpc_log(WG_RPC_LOG_ ## lvl, __VA_ARGS__)

/* GPR_CLOCK_MONOTONIC in nanoseconds. */
int64_t wg_rpc_now_ns(void);
gpr_timespec wg_rpc_ns_to_ts(int64_t ns);     /* INT64_MAX: inf future */
int64_t wg_rpc_ts_to_ns(gpr_timespec ts);     /* inf future: INT64_MAX */

/* Packed message in a byte buffer (NULL + errno ENOMEM). */
grpc_byte_buffer *wg_rpc_encode(const ProtobufCMessage *msg);
grpc_slice wg_rpc_encode_slice(const ProtobufCMessage *msg);
/* NULL + errno EBADMSG if it does not parse; free with
 * protobuf_c_message_free_unpacked(m, NULL). */
ProtobufCMessage *wg_rpc_decode(const ProtobufCMessageDescriptor *d,
				grpc_byte_buffer *bb);

/* Channel args from our settings; args must hold WG_RPC_MAX_ARGS entries. */
#define WG_RPC_MAX_ARGS 10
unsigned int wg_rpc_chan_args(const struct wg_rpc_chan_conf *c, bool server,
			      grpc_arg *args, int extra_local_pool);

/* "/<service>/<method>" into buf; -ENAMETOOLONG. */
int wg_rpc_path(char *buf, size_t len, const struct wg_rpc_service *svc,
		const struct wg_rpc_method *m);

/* Health service (rpc_health.c): server-side state. */
struct wg_rpc_health;
struct wg_rpc_health *wg_rpc_health_create(void);
void wg_rpc_health_destroy(struct wg_rpc_health *h);
const struct wg_rpc_service *wg_rpc_health_service_for(struct wg_rpc_health *h);
int wg_rpc_health_set(struct wg_rpc_health *h, const char *service, int status);
/* Shutdown: everything NOT_SERVING, watchers told and finished. */
void wg_rpc_health_shutdown(struct wg_rpc_health *h);

/* Client internals used by the balancer. */
struct wg_rpc_target *wg_rpc_target_ref(struct wg_rpc_target *t);
/* Run fn(arg) on client thread 0 after delay_ms (thread-safe). */
int wg_rpc_client_timer(struct wg_rpc_client *cl, uint32_t delay_ms,
			void (*fn)(void *arg), void *arg);
/* Pick for a call: a referenced target and its instance id (for reports). */
struct wg_rpc_target *wg_rpc_balancer_pick(struct wg_rpc_balancer *b,
					   uint64_t key, char *id, size_t idlen);
void wg_rpc_balancer_done(struct wg_rpc_balancer *b, const char *id,
			  grpc_status_code code);

#endif /* WG_RPC_IMPL_H */
