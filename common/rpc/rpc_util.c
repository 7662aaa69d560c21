/* SPDX-License-Identifier: BSD-3-Clause
 * Logging hook, clocks, protobuf-c <-> byte buffer codecs, channel args.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>

#include "rpc_impl.h"

static wg_rpc_log_fn *log_fn;
static void *log_arg;
static int log_max = WG_RPC_LOG_INFO;

void
wg_rpc_set_log(wg_rpc_log_fn *fn, void *arg, int max_level)
{
	log_fn = fn;
	log_arg = arg;
	log_max = max_level;
}

void
wg_rpc_log(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (log_fn == NULL || level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_fn(log_arg, level, line);
}

/* gpr's monotonic clock, not clock_gettime(): gRPC offsets it by a process
 * epoch, and deadlines we hand over or read back are in its terms. */
int64_t
wg_rpc_now_ns(void)
{
	gpr_timespec t = gpr_now(GPR_CLOCK_MONOTONIC);

	return t.tv_sec * 1000000000 + t.tv_nsec;
}

gpr_timespec
wg_rpc_ns_to_ts(int64_t ns)
{
	gpr_timespec t;

	if (ns == INT64_MAX)
		return gpr_inf_future(GPR_CLOCK_MONOTONIC);
	t.tv_sec = ns / 1000000000;
	t.tv_nsec = (int32_t)(ns % 1000000000);
	t.clock_type = GPR_CLOCK_MONOTONIC;
	return t;
}

int64_t
wg_rpc_ts_to_ns(gpr_timespec ts)
{
	gpr_timespec m;

	if (gpr_time_cmp(ts, gpr_inf_future(ts.clock_type)) == 0)
		return INT64_MAX;
	m = gpr_convert_clock_type(ts, GPR_CLOCK_MONOTONIC);
	return m.tv_sec * 1000000000 + m.tv_nsec;
}

grpc_slice
wg_rpc_encode_slice(const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	grpc_slice s = grpc_slice_malloc(n);

	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	return s;
}

grpc_byte_buffer *
wg_rpc_encode(const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	grpc_byte_buffer *bb;
	grpc_slice s;

	s = grpc_slice_malloc(n);
	protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
	bb = grpc_raw_byte_buffer_create(&s, 1);
	grpc_slice_unref(s);
	if (bb == NULL)
		errno = ENOMEM;
	return bb;
}

ProtobufCMessage *
wg_rpc_decode(const ProtobufCMessageDescriptor *d, grpc_byte_buffer *bb)
{
	grpc_byte_buffer_reader r;
	ProtobufCMessage *m;
	grpc_slice s;

	if (!grpc_byte_buffer_reader_init(&r, bb)) {
		errno = EBADMSG;
		return NULL;
	}
	s = grpc_byte_buffer_reader_readall(&r);
	grpc_byte_buffer_reader_destroy(&r);
	m = protobuf_c_message_unpack(d, NULL, GRPC_SLICE_LENGTH(s),
				      GRPC_SLICE_START_PTR(s));
	grpc_slice_unref(s);
	if (m == NULL)
		errno = EBADMSG;
	return m;
}

static void
arg_int(grpc_arg *a, const char *key, int v)
{
	a->type = GRPC_ARG_INTEGER;
	a->key = (char *)key;
	a->value.integer = v;
}

unsigned int
wg_rpc_chan_args(const struct wg_rpc_chan_conf *c, bool server, grpc_arg *args,
		 int extra_local_pool)
{
	unsigned int n = 0;

	if (c->max_recv_msg != 0)
		arg_int(&args[n++], GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, c->max_recv_msg);
	if (c->max_send_msg != 0)
		arg_int(&args[n++], GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, c->max_send_msg);
	if (c->keepalive_time_ms) {
		arg_int(&args[n++], GRPC_ARG_KEEPALIVE_TIME_MS, (int)c->keepalive_time_ms);
		arg_int(&args[n++], GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
			(int)(c->keepalive_timeout_ms ? c->keepalive_timeout_ms : 20000));
		arg_int(&args[n++], GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
			c->keepalive_without_calls);
		/* Keepalive pings are not data: without this the client stops
		 * pinging after two and never notices a dead idle peer. */
		arg_int(&args[n++], GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
	}
	if (server && c->min_ping_interval_ms)
		arg_int(&args[n++], GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
			(int)c->min_ping_interval_ms);
	if (!server) {
		/* Channels of one pool must not share a subchannel (gRPC's
		 * global pool would fold them onto one connection). */
		arg_int(&args[n++], GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
		arg_int(&args[n++], "wg.pool_index", extra_local_pool);
		/* Our retries, not the core's. */
		arg_int(&args[n++], GRPC_ARG_ENABLE_RETRIES, 0);
	}
	return n;
}

int
wg_rpc_path(char *buf, size_t len, const struct wg_rpc_service *svc,
	    const struct wg_rpc_method *m)
{
	int n = snprintf(buf, len, "/%s/%s", svc->name, m->name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}
