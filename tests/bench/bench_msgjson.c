/* SPDX-License-Identifier: BSD-3-Clause
 * Per-message cost of the client message codecs, against protobuf-c on the
 * same messages in the same run: Envelope decode/encode (ours, zero-copy)
 * vs wg__envelope__unpack/pack, and JSON -> protobuf / protobuf -> JSON vs
 * protobuf-c unpack / pack of the Envelope and its payload. Prints ns per
 * message and ratios; never fails on speed.
 *   bench_msgjson [iterations-scale]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"
#include "msgjson.h"
#include "wg_client.pb-c.h"
#include "wg_sync.pb-c.h"

static _Alignas(8) uint8_t scratch[256 * 1024];
static volatile uint64_t sink;

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct sample {
	const char *name;
	const char *json;
	uint8_t pb[2048];
	size_t pb_len;
	char js[4096];
	size_t js_len;
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *msg;   /* unpacked payload, for the pack baseline */
	Wg__Envelope *env;
};

static const char delta_json[] =
	"{\"type\":\"STATE_DELTA\",\"seq\":812,\"ack\":640,\"payload\":{\"tick\":9120,\"baseline\":9118,"
	"\"enters\":[{\"id\":65537,\"x\":1200,\"y\":-300,\"vx\":16,\"vy\":-4,\"yaw\":32000,\"fields\":[100,3]},"
	"{\"id\":65538,\"x\":1210,\"y\":-310,\"fields\":[90,1]}],\"leaves\":[{\"id\":131075}],"
	"\"updates\":[{\"id\":7,\"mask\":1,\"dx\":3,\"dy\":-1},{\"id\":8,\"mask\":3,\"dx\":-2,\"dy\":0,\"vx\":4,\"vy\":4},"
	"{\"id\":9,\"mask\":5,\"dx\":1,\"dy\":1,\"yaw\":1200},{\"id\":10,\"mask\":1,\"dx\":0,\"dy\":5},"
	"{\"id\":11,\"mask\":256,\"fields\":[77]},{\"id\":12,\"mask\":1,\"dx\":9,\"dy\":-9},"
	"{\"id\":13,\"mask\":1,\"dx\":-4,\"dy\":2},{\"id\":14,\"mask\":7,\"dx\":1,\"dy\":0,\"vx\":1,\"vy\":0,\"yaw\":5}]}}";

static struct sample samples[] = {
	{ .name = "CHAT_SAY", .json = "{\"type\":\"CHAT_SAY\",\"seq\":3,\"ack\":2,\"msg_id\":7,"
				      "\"payload\":{\"room\":\"lobby\",\"text\":\"hello everyone\"}}" },
	{ .name = "HEARTBEAT", .json = "{\"type\":\"HEARTBEAT\",\"payload\":{\"clientTimeMs\":\"1700000000000\"}}" },
	{ .name = "MOVE", .json = "{\"type\":\"MOVE\",\"seq\":90,\"ack\":88,\"payload\":{\"seq\":90,"
				  "\"x\":1201.5,\"y\":-299.25,\"yaw\":1.5707964}}" },
	{ .name = "LOGIN_ACK", .json = "{\"type\":\"LOGIN_ACK\",\"seq\":1,\"ack\":1,\"msg_id\":1,"
				       "\"payload\":{\"sessionId\":\"72057598332895235\",\"playerId\":\"77\","
				       "\"resumeToken\":\"q83vEjRWeJCrze8SNFZ4kA==\",\"heartbeatMs\":15000,"
				       "\"serverTimeMs\":\"1700000000000\",\"resumeWindowMs\":30000,\"name\":\"ann\"}}" },
	{ .name = "STATE_DELTA", .json = delta_json },
};

#define NS(samples_n, expr) ({                                  \
	double t0 = now_ns();                                   \
	for (long it_ = 0; it_ < (samples_n); it_++) { expr; }  \
	(now_ns() - t0) / (double)(samples_n); })

int
main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1, n_env = 2000000 * scale, n_js = 200000 * scale;
	struct wg_msgjson cv;
	struct wg_envelope e;
	uint8_t out[4096];
	char jout[8192];
	size_t i;

	if (scale < 1 || wg_msgjson_init(&cv, scratch, sizeof(scratch), 0) != 0) {
		fprintf(stderr, "usage: %s [scale >= 1]\n", argv[0]);
		return 2;
	}
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct sample *s = &samples[i];
		int n = wg_msgjson_to_pb(&cv, s->json, strlen(s->json), s->pb, sizeof(s->pb), &e);

		if (n < 0) {
			fprintf(stderr, "%s: %s\n", s->name, wg_msgjson_error(&cv));
			return 1;
		}
		s->pb_len = (size_t)n;
		n = wg_msgjson_from_pb(&cv, s->pb, s->pb_len, s->js, sizeof(s->js));
		if (n < 0) {
			fprintf(stderr, "%s: %s\n", s->name, wg_msgjson_error(&cv));
			return 1;
		}
		s->js_len = (size_t)n;
		s->desc = wg_msg_type_find(e.type)->desc;
		s->env = wg__envelope__unpack(NULL, s->pb_len, s->pb);
		s->msg = protobuf_c_message_unpack(s->desc, NULL, e.payload_len, e.payload);
		if (s->env == NULL || s->msg == NULL) {
			fprintf(stderr, "%s: protobuf-c refused our bytes\n", s->name);
			return 1;
		}
	}

	printf("ns/message (lower is better); ratio = protobuf-c / ours (above 1: ours faster)\n");
	printf("%-12s %5s %5s | %8s %8s %6s | %8s %8s %6s | %8s %8s %6s | %8s %8s %6s\n",
	       "message", "pb B", "js B", "env dec", "pbc", "ratio", "env enc", "pbc", "ratio",
	       "json>pb", "pbc u+p", "ratio", "pb>json", "pbc u+p", "ratio");
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct sample *s = &samples[i];
		double dec, dec_pbc, enc, enc_pbc, j2p, p2j, pbc_up;

		dec = NS(n_env, {
			wg_envelope_decode(&e, s->pb, s->pb_len);
			sink += e.type + e.payload_len;
		});
		dec_pbc = NS(n_env / 4, {
			Wg__Envelope *pe = wg__envelope__unpack(NULL, s->pb_len, s->pb);
			sink += pe->type;
			wg__envelope__free_unpacked(pe, NULL);
		});
		wg_envelope_decode(&e, s->pb, s->pb_len);
		enc = NS(n_env, {
			sink += (uint64_t)wg_envelope_encode(&e, out, sizeof(out));
		});
		enc_pbc = NS(n_env, {
			sink += wg__envelope__pack(s->env, out);
		});
		j2p = NS(n_js, {
			sink += (uint64_t)wg_msgjson_to_pb(&cv, s->json, strlen(s->json), out,
							   sizeof(out), NULL);
		});
		p2j = NS(n_js, {
			sink += (uint64_t)wg_msgjson_from_pb(&cv, s->pb, s->pb_len, jout, sizeof(jout));
		});
		/* the binary baseline of a conversion: unpack Envelope and payload,
		 * pack them again (protobuf-c, malloc allocator) */
		pbc_up = NS(n_js, {
			Wg__Envelope *pe = wg__envelope__unpack(NULL, s->pb_len, s->pb);
			ProtobufCMessage *m = protobuf_c_message_unpack(s->desc, NULL, pe->payload.len,
									  pe->payload.data);
			size_t pl = protobuf_c_message_pack(m, out + 16);

			sink += pl + wg__envelope__pack(pe, out + 2048);
			protobuf_c_message_free_unpacked(m, NULL);
			wg__envelope__free_unpacked(pe, NULL);
		});
		printf("%-12s %5zu %5zu | %8.1f %8.1f %6.2f | %8.1f %8.1f %6.2f | %8.1f %8.1f %6.2f |"
		       " %8.1f %8.1f %6.2f\n",
		       s->name, s->pb_len, s->js_len, dec, dec_pbc, dec_pbc / dec, enc, enc_pbc,
		       enc_pbc / enc, j2p, pbc_up, pbc_up / j2p, p2j, pbc_up, pbc_up / p2j);
	}
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		protobuf_c_message_free_unpacked(samples[i].msg, NULL);
		wg__envelope__free_unpacked(samples[i].env, NULL);
	}
	return sink == 0x5a5a5a5a5a5a5a5aull;  /* keeps sink live; never true in practice */
}
