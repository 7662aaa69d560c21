/* SPDX-License-Identifier: BSD-3-Clause
 * RPC framework on the gRPC C core (grpc/grpc.h, completion queues) with
 * protobuf-c payloads. Servers and clients run their own CQ threads; no DPDK.
 *
 * Server: create, add service tables, start, then drive calls from the
 * handlers (wg_rpc_scall_*); shutdown drains in-flight calls up to a
 * deadline. Client: per-target channel pools, async unary and streaming
 * calls with callbacks, deadlines, cancellation, retries with back-off for
 * idempotent methods, and balancers (common/lb) with health checks and
 * outlier ejection.
 *
 * Threads: handler events of one call are serialized on one server CQ
 * thread. wg_rpc_scall_* may be called from any thread while the caller
 * holds the call (during an event, or after wg_rpc_scall_ref()). The same
 * holds for wg_rpc_ccall_* on the client.
 */
#ifndef WG_RPC_H
#define WG_RPC_H

#include <stdio.h>

#include "rpc-t.h"

/* ---- logging hook (silent until set; library code never prints) ---- */
typedef void wg_rpc_log_fn(void *arg, int level, const char *line);
#define WG_RPC_LOG_ERR   3
#define WG_RPC_LOG_WARN  4
#define WG_RPC_LOG_INFO  6
#define WG_RPC_LOG_DEBUG 7
void wg_rpc_set_log(wg_rpc_log_fn *fn, void *arg, int max_level);

/* ---- server ---- */
struct wg_rpc_server;

/* NULL + errno (EINVAL, ENOMEM). */
struct wg_rpc_server *wg_rpc_server_create(const struct wg_rpc_server_conf *conf);
/* Before start. The table must outlive the server. -EEXIST on a duplicate
 * path, -EINVAL on a malformed table, -EBUSY once started. */
int wg_rpc_server_add_service(struct wg_rpc_server *s,
			      const struct wg_rpc_service *svc);
/* Bind, start the CQ threads. -EADDRINUSE/-EINVAL if the bind failed. */
int wg_rpc_server_start(struct wg_rpc_server *s);
/* Bound port (after start). */
int wg_rpc_server_port(const struct wg_rpc_server *s);
/* Stop accepting, let in-flight calls finish for up to drain_ms, then
 * cancel the rest (their handlers see CANCEL), stop the threads.
 * 0 if everything drained, -ETIMEDOUT if calls had to be cancelled. */
int wg_rpc_server_shutdown(struct wg_rpc_server *s, uint32_t drain_ms);
/* Shuts down (drain_ms 0) if still running. */
void wg_rpc_server_destroy(struct wg_rpc_server *s);
void wg_rpc_server_stats(const struct wg_rpc_server *s,
			 struct wg_rpc_server_stats *st);
void wg_rpc_server_dump(FILE *f, const struct wg_rpc_server *s);

/* Health (wg_rpc_server_conf.health): "" is the server as a whole; it is
 * SERVING from start and NOT_SERVING once shutdown begins. Statuses are the
 * HealthCheckResponse.ServingStatus values. Watchers get every change. */
int wg_rpc_server_set_health(struct wg_rpc_server *s, const char *service,
			     int status);

/* ---- server calls ---- */
const struct wg_rpc_method *wg_rpc_scall_method(const struct wg_rpc_scall *c);
/* ms left before the client's deadline (INT64_MAX: none; <= 0: passed). */
int64_t wg_rpc_scall_remaining_ms(const struct wg_rpc_scall *c);
bool wg_rpc_scall_cancelled(const struct wg_rpc_scall *c);
/* Client address as gRPC names it ("ipv4:127.0.0.1:40312"), into buf. */
const char *wg_rpc_scall_peer(const struct wg_rpc_scall *c, char *buf, size_t len);
/* Value of a request metadata key (NULL if absent), copied into buf. */
const char *wg_rpc_scall_metadata(const struct wg_rpc_scall *c, const char *key,
				  char *buf, size_t len);
void wg_rpc_scall_set_user(struct wg_rpc_scall *c, void *user);
void *wg_rpc_scall_user(const struct wg_rpc_scall *c);
/* Keep the call past the event that handed it over (reply from another
 * thread); every ref needs an unref, before wg_rpc_server_destroy(). */
void wg_rpc_scall_ref(struct wg_rpc_scall *c);
void wg_rpc_scall_unref(struct wg_rpc_scall *c);
/* Streamed reply (server-streaming, bidi). Queued; sent in order. */
int wg_rpc_scall_write(struct wg_rpc_scall *c, const ProtobufCMessage *msg);
/* Unary / client-streaming reply: message + OK status. */
int wg_rpc_scall_reply(struct wg_rpc_scall *c, const ProtobufCMessage *msg);
/* End the call with a status (after queued writes). detail (optional) goes
 * in the WG_RPC_DETAIL_KEY binary trailer. -EALREADY if already finished,
 * -ECANCELED if the call is dead. */
int wg_rpc_scall_finish(struct wg_rpc_scall *c, grpc_status_code code,
			const char *message, const void *detail,
			size_t detail_len);

/* ---- client ---- */
struct wg_rpc_client;
struct wg_rpc_target;

struct wg_rpc_client *wg_rpc_client_create(const struct wg_rpc_client_conf *conf);
/* Cancels calls still in flight, waits for their callbacks, stops threads. */
void wg_rpc_client_destroy(struct wg_rpc_client *cl);
void wg_rpc_client_stats(const struct wg_rpc_client *cl,
			 struct wg_rpc_client_stats *st);
void wg_rpc_client_dump(FILE *f, struct wg_rpc_client *cl);

/* Channel pool for "host:port" (any gRPC target string): shared per target
 * and counted; put it when done. NULL + errno. */
struct wg_rpc_target *wg_rpc_target_get(struct wg_rpc_client *cl,
					const char *address);
void wg_rpc_target_put(struct wg_rpc_target *t);
const char *wg_rpc_target_address(const struct wg_rpc_target *t);

/* Start a unary call. cb runs once, on a client thread (never inside this
 * function). out (optional) receives a reference to the call for
 * wg_rpc_ccall_cancel(); release it with wg_rpc_ccall_release(). */
int wg_rpc_unary(struct wg_rpc_client *cl, struct wg_rpc_target *t,
		 const struct wg_rpc_service *svc, const struct wg_rpc_method *m,
		 const ProtobufCMessage *req, const struct wg_rpc_call_opts *opts,
		 wg_rpc_client_cb *cb, void *arg, struct wg_rpc_ccall **out);
/* Start a streaming call; req is the request of a server-streaming call
 * (else NULL: use wg_rpc_ccall_write). Returns a referenced call (release
 * it) or NULL + errno. Streaming calls are not retried. */
struct wg_rpc_ccall *wg_rpc_stream(struct wg_rpc_client *cl,
				   struct wg_rpc_target *t,
				   const struct wg_rpc_service *svc,
				   const struct wg_rpc_method *m,
				   const ProtobufCMessage *req,
				   const struct wg_rpc_call_opts *opts,
				   wg_rpc_client_cb *cb, void *arg);
/* Queue a request message (client-streaming, bidi). */
int wg_rpc_ccall_write(struct wg_rpc_ccall *c, const ProtobufCMessage *msg);
/* No more requests (after the queued ones). */
int wg_rpc_ccall_close_send(struct wg_rpc_ccall *c);
/* The callback then ends with CANCELLED (unless the call already ended). */
void wg_rpc_ccall_cancel(struct wg_rpc_ccall *c);
void wg_rpc_ccall_release(struct wg_rpc_ccall *c);

/* ---- balancer: discovered instances + common/lb + health ---- */
struct wg_rpc_balancer *wg_rpc_balancer_create(struct wg_rpc_client *cl,
					       const struct wg_rpc_balancer_conf *conf);
/* Stops health checks; calls in flight keep their targets. Call before
 * wg_rpc_client_destroy(). */
void wg_rpc_balancer_destroy(struct wg_rpc_balancer *b);
/* Add or update (address, weight, zone) an instance by id. */
int wg_rpc_balancer_upsert(struct wg_rpc_balancer *b, const char *id,
			   const char *address, uint32_t weight, uint32_t zone);
int wg_rpc_balancer_remove(struct wg_rpc_balancer *b, const char *id);
/* Outcome of a call on the instance (the client reports its own calls):
 * failures are UNAVAILABLE answers and failed health checks. */
int wg_rpc_balancer_report(struct wg_rpc_balancer *b, const char *id, bool ok);
int wg_rpc_balancer_info(struct wg_rpc_balancer *b, const char *id,
			 struct wg_rpc_instance_info *out);
unsigned int wg_rpc_balancer_alive(struct wg_rpc_balancer *b);
void wg_rpc_balancer_dump(FILE *f, struct wg_rpc_balancer *b);

/* Service table of grpc.health.v1.Health for clients (Check, Watch). */
extern const struct wg_rpc_service wg_rpc_health_service;

#endif /* WG_RPC_H */
