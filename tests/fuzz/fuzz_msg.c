/* SPDX-License-Identifier: BSD-3-Clause
 * Ring messages from a misbehaving (or memory-corrupting) secondary: the
 * header check and the protobuf payload decoders must refuse garbage
 * without reading past the buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgring.h"
#include "wg_internal.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_msg_hdr h;
	const uint8_t *payload;
	Wg__InstanceHello *hello;
	Wg__HelloAck *ack;

	/* an exact-size heap copy so ASan sees any over-read */
	uint8_t *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (wg_msg_check(buf, size) != 0)
		goto out;
	memcpy(&h, buf, sizeof(h));
	if (h.flags & WG_MSG_F_MULTICAST) {
		/* the check promised: payload, padding to 8, whole u64 ids */
		size_t list = (sizeof(h) + h.len + 7) & ~(size_t)7;

		if (h.len > size - sizeof(h) || list + 8 > size || (size - list) % 8 != 0)
			abort();
	} else if (h.len != size - sizeof(h)) {
		abort();   /* the check promised this */
	}
	payload = buf + sizeof(h);
	hello = wg__instance_hello__unpack(NULL, h.len, payload);
	if (hello != NULL) {
		/* a decoded message re-encodes within its input size bound */
		if (wg__instance_hello__get_packed_size(hello) > h.len + 64)
			abort();
		wg__instance_hello__free_unpacked(hello, NULL);
	}
	ack = wg__hello_ack__unpack(NULL, h.len, payload);
	if (ack != NULL)
		wg__hello_ack__free_unpacked(ack, NULL);
out:
	free(buf);
	return 0;
}
