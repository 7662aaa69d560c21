/* SPDX-License-Identifier: BSD-3-Clause
 * JSON <-> protobuf converter on arbitrary bytes, taken both as a JSON text
 * frame and as a binary Envelope. Oracles: every failure is one of the
 * documented errors with a non-empty text; JSON that converts gives bytes
 * protobuf-c unpacks, and JSON -> pb -> JSON -> pb is stable (same bytes,
 * same text, with either field name style); an Envelope that converts to
 * JSON converts back, and its JSON is a fixed point.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "msgjson.h"
#include "wg_client.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCRATCH (1024 * 1024)
#define OUT (256 * 1024)

static _Alignas(8) uint8_t scratch[SCRATCH], scratch2[SCRATCH];
static uint8_t pb1[OUT], pb2[OUT];
static char js1[OUT], js2[OUT];
static struct wg_msgjson cv, cv_names;

static void
check_rc(const struct wg_msgjson *c, int rc)
{
	if (rc >= 0)
		return;
	if (rc != -EBADMSG && rc != -EINVAL && rc != -ENOMSG && rc != -E2BIG)
		abort();
	if (wg_msgjson_error(c)[0] == '\0')
		abort();
}

/* A JSON frame that converted to pb1[0..n): the cycle must be stable. */
static void
json_cycle(size_t n)
{
	const struct wg_msg_type_info *ti;
	struct wg_envelope e;
	ProtobufCMessage *m;
	int j1, n2, j2;

	/* protobuf-c reads what we wrote */
	if (wg_envelope_decode(&e, pb1, n) != 0 || (ti = wg_msg_type_find(e.type)) == NULL)
		abort();
	if (ti->desc != NULL) {
		m = protobuf_c_message_unpack(ti->desc, NULL, e.payload_len, e.payload);
		if (m == NULL)
			abort();
		protobuf_c_message_free_unpacked(m, NULL);
	} else if (e.payload_len != 0) {
		abort();
	}
	j1 = wg_msgjson_from_pb(&cv, pb1, n, js1, sizeof(js1));
	if (j1 <= 0)
		abort();
	n2 = wg_msgjson_to_pb(&cv, js1, (size_t)j1, pb2, sizeof(pb2), NULL);
	if (n2 < 0 || (size_t)n2 != n || memcmp(pb1, pb2, n) != 0)
		abort();
	j2 = wg_msgjson_from_pb(&cv, pb2, (size_t)n2, js2, sizeof(js2));
	if (j2 != j1 || memcmp(js1, js2, (size_t)j1) != 0)
		abort();
	j2 = wg_msgjson_from_pb(&cv_names, pb1, n, js2, sizeof(js2));
	if (j2 <= 0)
		abort();
	n2 = wg_msgjson_to_pb(&cv, js2, (size_t)j2, pb2, sizeof(pb2), NULL);
	if (n2 < 0 || (size_t)n2 != n || memcmp(pb1, pb2, n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n, j1, j2;

	if (size > 4096)
		return 0;
	if (cv.scratch == NULL &&
	    (wg_msgjson_init(&cv, scratch, sizeof(scratch), 0) != 0 ||
	     wg_msgjson_init(&cv_names, scratch2, sizeof(scratch2), WG_MSGJSON_F_PROTO_NAMES) != 0))
		abort();

	/* as a JSON text frame */
	n = wg_msgjson_to_pb(&cv, data, size, pb1, sizeof(pb1), NULL);
	check_rc(&cv, n);
	if (n >= 0)
		json_cycle((size_t)n);

	/* as a binary Envelope */
	j1 = wg_msgjson_from_pb(&cv, data, size, js1, sizeof(js1));
	check_rc(&cv, j1);
	if (j1 >= 0) {
		n = wg_msgjson_to_pb(&cv, js1, (size_t)j1, pb1, sizeof(pb1), NULL);
		if (n < 0)
			abort();
		j2 = wg_msgjson_from_pb(&cv, pb1, (size_t)n, js2, sizeof(js2));
		if (j2 != j1 || memcmp(js1, js2, (size_t)j1) != 0)
			abort();
		json_cycle((size_t)n);
	}
	return 0;
}
