/* SPDX-License-Identifier: BSD-3-Clause
 * RPC framework on the gRPC C core: types only. A service is a table of
 * methods; each method names its protobuf-c request and response
 * descriptors, its kind and a handler. The same tables drive the server
 * (dispatch by "/<service>/<method>") and the client (path, codecs, retry
 * policy), so a .proto service needs one table and no generated gRPC code.
 */
#ifndef WG_RPC_T_H
#define WG_RPC_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>

#include "lb-t.h"

#define WG_RPC_MAX_THREADS      16
#define WG_RPC_NAME_MAX         128     /* service and method names */
#define WG_RPC_DETAIL_KEY       "wg-error-bin"  /* trailer with error details */

enum wg_rpc_kind {
	WG_RPC_UNARY = 0,
	WG_RPC_SERVER_STREAM,      /* one request, n replies */
	WG_RPC_CLIENT_STREAM,      /* n requests, one reply */
	WG_RPC_BIDI,
};

#define WG_RPC_F_IDEMPOTENT     0x1u   /* client may retry on UNAVAILABLE */
#define WG_RPC_F_MASK           0x1u   /* 0x2..: unused */

/* Events a server handler sees, in this order for one call:
 * START once; then (client-stream, bidi) MSG per request and HALF_CLOSE
 * when the client stops sending; CANCEL if the call dies before the handler
 * finished it (client cancel, deadline, connection loss, server drain
 * deadline); DONE last, always: after it the call is gone unless the
 * handler holds a reference. For unary and server-streaming calls START
 * carries the request; for the others it carries none. */
enum wg_rpc_sev {
	WG_RPC_SEV_START = 0,
	WG_RPC_SEV_MSG,
	WG_RPC_SEV_HALF_CLOSE,
	WG_RPC_SEV_CANCEL,
	WG_RPC_SEV_DONE,
};

struct wg_rpc_scall;
struct wg_rpc_ccall;

/* msg is only valid during the call; copy what outlives it. */
typedef void wg_rpc_handler_fn(struct wg_rpc_scall *c, enum wg_rpc_sev ev,
			       const ProtobufCMessage *msg, void *svc_arg);

struct wg_rpc_method {
	const char *name;                           /* "Check" */
	enum wg_rpc_kind kind;
	const ProtobufCMessageDescriptor *req;
	const ProtobufCMessageDescriptor *resp;
	uint32_t flags;                             /* WG_RPC_F_* */
	wg_rpc_handler_fn *handler;                 /* server side; NULL: client only */
};

struct wg_rpc_service {
	const char *name;                           /* "grpc.health.v1.Health" */
	const struct wg_rpc_method *methods;
	unsigned int n_methods;
	void *arg;                                  /* handed to every handler */
};

/* Final outcome of a client call. message and detail point into the call
 * and are only valid during the callback. */
struct wg_rpc_status {
	grpc_status_code code;
	const char *message;                        /* never NULL */
	const uint8_t *detail;                      /* WG_RPC_DETAIL_KEY trailer */
	size_t detail_len;
	unsigned int attempts;                      /* 1 + retries */
};

/* Client callback: msg != NULL && st == NULL is one streamed message;
 * st != NULL is the end of the call (msg: a unary or client-streaming
 * response when st->code is OK, else NULL). Runs on a client CQ thread. */
typedef void wg_rpc_client_cb(void *arg, struct wg_rpc_ccall *c,
			      const ProtobufCMessage *msg,
			      const struct wg_rpc_status *st);

/* Channel settings shared by servers and clients (channel args). */
struct wg_rpc_chan_conf {
	int32_t max_recv_msg;          /* bytes; 0: gRPC default (4 MiB); -1: none */
	int32_t max_send_msg;          /* bytes; 0: gRPC default (none); -1: none */
	uint32_t keepalive_time_ms;    /* ping an idle connection this often; 0: off */
	uint32_t keepalive_timeout_ms; /* and drop it if the ack takes longer */
	bool keepalive_without_calls;  /* ping with no call in flight */
	uint32_t min_ping_interval_ms; /* server: accept pings this often (0: default) */
};

struct wg_rpc_server_conf {
	const char *listen;            /* "127.0.0.1:0" picks a port */
	unsigned int threads;          /* CQ threads, 1..WG_RPC_MAX_THREADS */
	unsigned int accept_depth;     /* requested calls per thread; 0: 16 */
	struct wg_rpc_chan_conf chan;
	bool health;                   /* serve grpc.health.v1.Health */
};

struct wg_rpc_client_conf {
	unsigned int threads;          /* CQ threads, 1..WG_RPC_MAX_THREADS */
	unsigned int channels;         /* per target, picked round-robin; 0: 1 */
	struct wg_rpc_chan_conf chan;
	unsigned int max_attempts;     /* idempotent calls; 0: 3 */
	uint32_t backoff_initial_ms;   /* 0: 20 */
	uint32_t backoff_max_ms;       /* 0: 1000 */
};

struct wg_rpc_balancer;

struct wg_rpc_call_opts {
	uint32_t timeout_ms;           /* whole call incl. retries; 0: none */
	struct wg_rpc_balancer *bal;   /* pick the target here (target arg NULL) */
	uint64_t key;                  /* WG_LB_HASH key (player id) */
	unsigned int max_attempts;     /* 0: the client's */
};

struct wg_rpc_server_stats {
	uint64_t calls;                /* accepted */
	uint64_t unknown;              /* UNIMPLEMENTED answers */
	uint64_t bad_request;          /* undecodable payloads */
	uint64_t cancelled;            /* CANCEL events delivered */
	uint64_t finished;             /* DONE events */
	uint32_t in_flight;
};

struct wg_rpc_client_stats {
	uint64_t calls;
	uint64_t attempts;
	uint64_t retries;
	uint64_t ok;
	uint64_t failed;
	uint32_t in_flight;
};

/* Balancer: discovered instances + common/lb + health (rpc_balancer.c). */
struct wg_rpc_balancer_conf {
	enum wg_lb_strategy strategy;
	uint16_t max_instances;        /* 0: 64 */
	uint32_t local_zone;           /* with prefer_zone */
	bool prefer_zone;
	uint32_t eject_failures;       /* consecutive failures to eject; 0: 3 */
	uint32_t eject_base_ms;        /* first ejection; doubles; 0: 1000 */
	uint32_t eject_max_ms;         /* 0: 30000 */
	uint32_t health_interval_ms;   /* active Check per instance; 0: none */
	uint32_t health_timeout_ms;    /* 0: 1000 */
	const char *health_service;    /* HealthCheckRequest.service; NULL: "" */
};

struct wg_rpc_instance_info {
	char id[WG_RPC_NAME_MAX];
	char address[WG_RPC_NAME_MAX];
	uint32_t weight;
	uint32_t zone;
	bool alive;                    /* eligible in the lb set */
	bool ejected;
	uint32_t failures;             /* consecutive */
	uint32_t ejections;            /* in a row (sets the back-off) */
	uint64_t picks;
	uint64_t checks_ok, checks_failed;
};

#endif /* WG_RPC_T_H */
